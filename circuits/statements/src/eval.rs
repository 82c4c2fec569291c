//! What the native references return.

use crate::policy::PolicyError;
use crate::public::StatementKind;

/// Why a reference refused to evaluate an epoch. These are inputs no circuit
/// can be built for (the service splits or refuses them); they are not
/// verdicts on records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// More records than the statement's capacity.
    #[error("{records} {} records exceed the capacity of {capacity}", kind.as_str())]
    CapacityExceeded {
        /// Statement kind.
        kind: StatementKind,
        /// Records given.
        records: usize,
        /// The statement's capacity.
        capacity: usize,
    },
    /// The policy is invalid.
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    /// Padded slots do not number exactly the capacity.
    #[error("{got} slots given, the {} statement has exactly {capacity}", kind.as_str())]
    SlotCount {
        /// Statement kind.
        kind: StatementKind,
        /// Slots given.
        got: usize,
        /// The statement's capacity.
        capacity: usize,
    },
    /// An enabled slot follows a disabled one: padding must be a suffix.
    #[error("slot {index} is enabled after a disabled slot: padding must be a suffix")]
    PaddingNotSuffix {
        /// The first enabled slot after a disabled one.
        index: usize,
    },
}

/// The outcome of evaluating one device's epoch.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// One verdict per record, in submission order.
    pub verdicts: alloc::vec::Vec<crate::Verdict>,
    /// Reward units owed (also in `public`).
    pub reward: u64,
    /// The proof's public inputs.
    pub public: crate::PublicInputs,
}

#[cfg(feature = "alloc")]
impl Evaluation {
    /// Number of accepted records.
    pub fn accepted(&self) -> usize {
        self.verdicts.iter().filter(|v| v.is_accepted()).count()
    }
}

/// Refuses `records` records beyond `kind`'s capacity.
#[cfg(feature = "alloc")]
pub(crate) fn check_capacity(kind: StatementKind, records: usize) -> Result<(), EvalError> {
    let capacity = kind.capacity();
    if records > capacity {
        return Err(EvalError::CapacityExceeded {
            kind,
            records,
            capacity,
        });
    }
    Ok(())
}
