//! One device's epoch of one statement, owned: everything the native
//! reference (and so each backend's circuit) needs to evaluate and prove it.
//! The prover builds it from its store or from an epoch file; with the
//! `json` feature, [`json`] reads and writes the epoch file format.

use alloc::vec::Vec;

use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::Fr;

use crate::bandwidth::{self, BandwidthInput};
use crate::coverage::{self, CoverageInput};
use crate::records::{CoSignedReceipt, CoverageClaim, Heartbeat, SignedHead, SignedWitnessReport};
use crate::uptime::{self, UptimeInput};
use crate::{BandwidthPolicy, CoveragePolicy, EvalError, Evaluation, StatementKind, UptimePolicy};

#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "json")]
pub use json::{InputError, FORMAT_VERSION, MAX_INPUT_BYTES};

/// One device's uptime epoch, owned; [`UptimeEpoch::as_input`] borrows it as
/// the native reference's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UptimeEpoch {
    /// The device's public key.
    pub device: PublicKey,
    /// Epoch number.
    pub epoch: u32,
    /// The epoch beacon.
    pub beacon: Fr,
    /// The network's policy (valid).
    pub policy: UptimePolicy,
    /// Heartbeats in chain order (at most the capacity).
    pub heartbeats: Vec<Heartbeat>,
    /// The device's signature on the last chain head.
    pub signed_head: SignedHead,
}

impl UptimeEpoch {
    /// The native reference's input.
    pub fn as_input(&self) -> UptimeInput<'_> {
        UptimeInput {
            device: self.device,
            epoch: self.epoch,
            beacon: self.beacon,
            policy: self.policy,
            heartbeats: &self.heartbeats,
            signed_head: self.signed_head,
        }
    }
}

/// One device's bandwidth epoch, owned; [`BandwidthEpoch::as_input`]
/// borrows it as the native reference's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandwidthEpoch {
    /// The device's public key.
    pub device: PublicKey,
    /// Epoch number.
    pub epoch: u32,
    /// The epoch beacon.
    pub beacon: Fr,
    /// The network's policy (valid).
    pub policy: BandwidthPolicy,
    /// Root of the client registry.
    pub registry_root: Fr,
    /// Co-signed receipts in chain order (at most the capacity).
    pub receipts: Vec<CoSignedReceipt>,
    /// The device's signature on the last head of its receipt chain.
    pub signed_head: SignedHead,
}

impl BandwidthEpoch {
    /// The native reference's input.
    pub fn as_input(&self) -> BandwidthInput<'_> {
        BandwidthInput {
            device: self.device,
            epoch: self.epoch,
            beacon: self.beacon,
            policy: self.policy,
            registry_root: self.registry_root,
            receipts: &self.receipts,
            signed_head: self.signed_head,
        }
    }
}

/// One device's coverage epoch, owned; [`CoverageEpoch::as_input`] borrows
/// it as the native reference's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageEpoch {
    /// The device's public key.
    pub device: PublicKey,
    /// Epoch number.
    pub epoch: u32,
    /// The epoch beacon.
    pub beacon: Fr,
    /// The network's policy (valid).
    pub policy: CoveragePolicy,
    /// The device's signed claim (location, beacon id).
    pub claim: CoverageClaim,
    /// The device's signature on the claim's message.
    pub claim_signature: Signature,
    /// Signed witness reports in submission order (at most the capacity).
    pub reports: Vec<SignedWitnessReport>,
}

impl CoverageEpoch {
    /// The native reference's input.
    pub fn as_input(&self) -> CoverageInput<'_> {
        CoverageInput {
            device: self.device,
            epoch: self.epoch,
            beacon: self.beacon,
            policy: self.policy,
            claim: self.claim,
            claim_signature: self.claim_signature,
            reports: &self.reports,
        }
    }
}

/// One device's epoch of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpochInput {
    /// An uptime epoch.
    Uptime(UptimeEpoch),
    /// A bandwidth epoch.
    Bandwidth(BandwidthEpoch),
    /// A coverage epoch.
    Coverage(CoverageEpoch),
}

impl From<UptimeEpoch> for EpochInput {
    fn from(e: UptimeEpoch) -> Self {
        EpochInput::Uptime(e)
    }
}

impl From<BandwidthEpoch> for EpochInput {
    fn from(e: BandwidthEpoch) -> Self {
        EpochInput::Bandwidth(e)
    }
}

impl From<CoverageEpoch> for EpochInput {
    fn from(e: CoverageEpoch) -> Self {
        EpochInput::Coverage(e)
    }
}

impl EpochInput {
    /// The statement.
    pub fn kind(&self) -> StatementKind {
        match self {
            EpochInput::Uptime(_) => StatementKind::Uptime,
            EpochInput::Bandwidth(_) => StatementKind::Bandwidth,
            EpochInput::Coverage(_) => StatementKind::Coverage,
        }
    }

    /// The device's public key.
    pub fn device(&self) -> PublicKey {
        match self {
            EpochInput::Uptime(e) => e.device,
            EpochInput::Bandwidth(e) => e.device,
            EpochInput::Coverage(e) => e.device,
        }
    }

    /// The epoch number.
    pub fn epoch(&self) -> u32 {
        match self {
            EpochInput::Uptime(e) => e.epoch,
            EpochInput::Bandwidth(e) => e.epoch,
            EpochInput::Coverage(e) => e.epoch,
        }
    }

    /// Number of records (heartbeats, receipts or reports).
    pub fn record_count(&self) -> usize {
        match self {
            EpochInput::Uptime(e) => e.heartbeats.len(),
            EpochInput::Bandwidth(e) => e.receipts.len(),
            EpochInput::Coverage(e) => e.reports.len(),
        }
    }

    /// Runs the statement's native reference.
    pub fn evaluate(&self) -> Result<Evaluation, EvalError> {
        match self {
            EpochInput::Uptime(e) => uptime::evaluate(&e.as_input()),
            EpochInput::Bandwidth(e) => bandwidth::evaluate(&e.as_input()),
            EpochInput::Coverage(e) => coverage::evaluate(&e.as_input()),
        }
    }
}
