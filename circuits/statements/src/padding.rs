//! Fixed-capacity slots, as the circuits see the records.
//!
//! A circuit has exactly `capacity` slots, each with an `enabled` bit.
//! Enabled slots come first, in submission order; padding is only a suffix
//! (`enabled_i = 1` implies `enabled_{i-1} = 1`, one constraint per slot).
//! A disabled slot's contents never affect the outcome; the witness
//! generator fills them with the record type's `PADDING` constant.

use crate::eval::{check_capacity, EvalError};
use crate::public::StatementKind;
use alloc::vec::Vec;

/// One slot of a statement's fixed capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot<T> {
    /// Whether the slot holds a submitted record.
    pub enabled: bool,
    /// The record, or filler when disabled.
    pub record: T,
}

/// Lays `records` out in exactly `kind.capacity()` slots, the rest disabled
/// and holding `filler`. More records than the capacity is a typed error.
pub fn pad<T: Clone>(
    kind: StatementKind,
    records: &[T],
    filler: &T,
) -> Result<Vec<Slot<T>>, EvalError> {
    check_capacity(kind, records.len())?;
    Ok(pad_to(records, kind.capacity(), filler))
}

/// Lays `records` out in exactly `capacity` slots (a circuit's own
/// capacity, which tests make small), the rest disabled and holding
/// `filler`. The caller refuses more records than `capacity` first: extra
/// records would be cut off.
pub fn pad_to<T: Clone>(records: &[T], capacity: usize, filler: &T) -> Vec<Slot<T>> {
    let mut slots: Vec<Slot<T>> = records
        .iter()
        .map(|r| Slot {
            enabled: true,
            record: r.clone(),
        })
        .collect();
    slots.resize(
        capacity,
        Slot {
            enabled: false,
            record: filler.clone(),
        },
    );
    slots
}

/// The enabled records of exactly `kind.capacity()` slots, refusing a wrong
/// slot count and padding that is not a suffix.
pub fn unpad<T: Clone>(kind: StatementKind, slots: &[Slot<T>]) -> Result<Vec<T>, EvalError> {
    let capacity = kind.capacity();
    if slots.len() != capacity {
        return Err(EvalError::SlotCount {
            kind,
            got: slots.len(),
            capacity,
        });
    }
    let enabled = slots.iter().take_while(|s| s.enabled).count();
    if let Some(offset) = slots[enabled..].iter().position(|s| s.enabled) {
        return Err(EvalError::PaddingNotSuffix {
            index: enabled + offset,
        });
    }
    Ok(slots[..enabled].iter().map(|s| s.record.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Heartbeat;

    fn hb(slot: u32) -> Heartbeat {
        Heartbeat {
            slot,
            ..Heartbeat::PADDING
        }
    }

    #[test]
    fn pad_then_unpad_round_trips() {
        let recs: Vec<Heartbeat> = (0..10).map(hb).collect();
        let slots = pad(StatementKind::Uptime, &recs, &Heartbeat::PADDING).unwrap();
        assert_eq!(slots.len(), 96);
        assert!(slots[..10].iter().all(|s| s.enabled));
        assert!(slots[10..]
            .iter()
            .all(|s| !s.enabled && s.record == Heartbeat::PADDING));
        assert_eq!(unpad(StatementKind::Uptime, &slots).unwrap(), recs);
    }

    #[test]
    fn disabled_slot_contents_are_ignored() {
        let recs: Vec<Heartbeat> = (0..3).map(hb).collect();
        let mut slots = pad(StatementKind::Uptime, &recs, &Heartbeat::PADDING).unwrap();
        slots[50].record = hb(12345);
        assert_eq!(unpad(StatementKind::Uptime, &slots).unwrap(), recs);
    }

    #[test]
    fn padding_must_be_a_suffix() {
        let recs: Vec<Heartbeat> = (0..3).map(hb).collect();
        let mut slots = pad(StatementKind::Uptime, &recs, &Heartbeat::PADDING).unwrap();
        slots[7].enabled = true;
        assert_eq!(
            unpad(StatementKind::Uptime, &slots),
            Err(EvalError::PaddingNotSuffix { index: 7 })
        );
        slots[7].enabled = false;
        slots[1].enabled = false;
        assert_eq!(
            unpad(StatementKind::Uptime, &slots),
            Err(EvalError::PaddingNotSuffix { index: 2 })
        );
    }

    #[test]
    fn slot_count_and_capacity_are_typed_errors() {
        let recs: Vec<Heartbeat> = (0..97).map(hb).collect();
        assert_eq!(
            pad(StatementKind::Uptime, &recs, &Heartbeat::PADDING),
            Err(EvalError::CapacityExceeded {
                kind: StatementKind::Uptime,
                records: 97,
                capacity: 96
            })
        );
        let slots = pad(StatementKind::Coverage, &[hb(1)], &Heartbeat::PADDING).unwrap();
        assert_eq!(
            unpad(StatementKind::Uptime, &slots),
            Err(EvalError::SlotCount {
                kind: StatementKind::Uptime,
                got: 16,
                capacity: 96
            })
        );
        let empty = pad(StatementKind::Coverage, &[], &Heartbeat::PADDING).unwrap();
        assert_eq!(unpad(StatementKind::Coverage, &empty).unwrap(), Vec::new());
    }
}
