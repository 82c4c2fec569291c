//! A device's hash chains: uptime heartbeats and bandwidth receipts.
//!
//! Each epoch has one chain per kind, starting at
//! `Poseidon(UPTIME_CHAIN | BANDWIDTH_CHAIN, device_id, epoch)`; every record
//! moves the head to `Poseidon(head, message)` and the device signs the new
//! head, so the prover can stop at any record and hold a signature on it.
//!
//! A chain is a small `Copy` value ([`ChainState`]) that firmware can keep
//! in RAM or flash; [`HeartbeatChain`] and [`ReceiptChain`] check each new
//! record against it (increasing slots, unused session numbers, the
//! statement's capacity, the client's co-signature) and return the signed
//! record. A refused record leaves the chain unchanged and signs nothing.
//!
//! `no_std`, no allocation.

use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::Fr;
use depin_statements::records::{
    bandwidth_genesis, chain_step, uptime_genesis, Heartbeat, SessionReceipt,
};
use depin_statements::{BANDWIDTH_CAPACITY, UPTIME_CAPACITY};

use crate::signer::{CoSignature, Device, RecordError};

/// Which chain a state belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChainKind {
    /// Uptime heartbeats.
    Uptime = 1,
    /// Bandwidth session receipts.
    Bandwidth = 2,
}

impl ChainKind {
    /// The statement's capacity: records one epoch's chain may hold.
    pub const fn capacity(self) -> u32 {
        match self {
            ChainKind::Uptime => UPTIME_CAPACITY as u32,
            ChainKind::Bandwidth => BANDWIDTH_CAPACITY as u32,
        }
    }

    /// The chain's genesis for a device and epoch.
    pub fn genesis(self, device_id: Fr, epoch: u32) -> Fr {
        match self {
            ChainKind::Uptime => uptime_genesis(device_id, epoch),
            ChainKind::Bandwidth => bandwidth_genesis(device_id, epoch),
        }
    }

    /// The kind of a byte written by `kind as u8`.
    pub const fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(ChainKind::Uptime),
            2 => Some(ChainKind::Bandwidth),
            _ => None,
        }
    }
}

/// Everything a device must remember about one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainState {
    /// Uptime or bandwidth.
    pub kind: ChainKind,
    /// The device the chain belongs to.
    pub device_id: Fr,
    /// The chain's epoch.
    pub epoch: u32,
    /// The current head (the genesis while empty).
    pub head: Fr,
    /// Records appended so far.
    pub len: u32,
    /// The smallest admissible next slot (uptime) or session number
    /// (bandwidth): one past the last record's.
    pub next: u32,
}

impl ChainState {
    /// An empty chain at its genesis.
    pub fn genesis(kind: ChainKind, device_id: Fr, epoch: u32) -> Self {
        ChainState {
            kind,
            device_id,
            epoch,
            head: kind.genesis(device_id, epoch),
            len: 0,
            next: 0,
        }
    }

    fn check_room(&self, device: &Device) -> Result<(), RecordError> {
        if device.id() != self.device_id {
            return Err(RecordError::WrongDevice);
        }
        if self.len >= self.kind.capacity() {
            return Err(RecordError::ChainFull {
                capacity: self.kind.capacity(),
            });
        }
        Ok(())
    }
}

/// A heartbeat as the device sends it: the heartbeat, the chain head after
/// it and the device's signature on that head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedHeartbeat {
    /// The device.
    pub device_id: Fr,
    /// The chain's epoch.
    pub epoch: u32,
    /// The heartbeat.
    pub heartbeat: Heartbeat,
    /// The chain head after this heartbeat.
    pub head: Fr,
    /// The device's signature on `head`.
    pub signature: Signature,
}

impl SignedHeartbeat {
    /// Checks that `head` follows `prev` by this heartbeat and that the
    /// device's signature on it verifies.
    pub fn verify(&self, device: &PublicKey, prev: Fr) -> Result<(), RecordError> {
        if device.id() != self.device_id {
            return Err(RecordError::WrongDevice);
        }
        if chain_step(prev, self.heartbeat.message()) != self.head {
            return Err(RecordError::HeadMismatch);
        }
        device
            .verify(&self.head, &self.signature)
            .map_err(|_| RecordError::BadSignature)
    }
}

/// A co-signed receipt as the serving device sends it: the client's
/// co-signature, then the head of the device's receipt chain after it and
/// the device's signature on that head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedReceipt {
    /// The receipt with the client's key and signature.
    pub co_signed: CoSignature,
    /// The chain head after this receipt.
    pub head: Fr,
    /// The device's signature on `head`.
    pub head_signature: Signature,
}

/// Appends heartbeats to a device's uptime chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatChain {
    state: ChainState,
}

impl HeartbeatChain {
    /// A new chain for `device_id` in `epoch`.
    pub fn new(device_id: Fr, epoch: u32) -> Self {
        HeartbeatChain {
            state: ChainState::genesis(ChainKind::Uptime, device_id, epoch),
        }
    }

    /// Resumes a chain from a saved state.
    pub fn resume(state: ChainState) -> Result<Self, RecordError> {
        match state.kind {
            ChainKind::Uptime => Ok(HeartbeatChain { state }),
            ChainKind::Bandwidth => Err(RecordError::WrongChainKind),
        }
    }

    /// The state to save.
    pub fn state(&self) -> ChainState {
        self.state
    }

    /// Answers `slot`'s challenge under `beacon`, appends the heartbeat and
    /// signs the new head.
    pub fn heartbeat(
        &mut self,
        device: &Device,
        beacon: Fr,
        slot: u32,
        latency_ms: u32,
    ) -> Result<SignedHeartbeat, RecordError> {
        // Check first: the challenge costs a Poseidon hash.
        self.check(device, slot)?;
        self.append(
            device,
            Heartbeat::answer(beacon, self.state.device_id, slot, latency_ms),
        )
    }

    /// Appends a heartbeat whose response the caller computed, and signs the
    /// new head.
    pub fn append(
        &mut self,
        device: &Device,
        heartbeat: Heartbeat,
    ) -> Result<SignedHeartbeat, RecordError> {
        self.check(device, heartbeat.slot)?;
        let head = chain_step(self.state.head, heartbeat.message());
        let signature = device.sign(&head);
        let s = &mut self.state;
        s.head = head;
        s.len += 1;
        s.next = heartbeat.slot.saturating_add(1);
        Ok(SignedHeartbeat {
            device_id: s.device_id,
            epoch: s.epoch,
            heartbeat,
            head,
            signature,
        })
    }

    fn check(&self, device: &Device, slot: u32) -> Result<(), RecordError> {
        self.state.check_room(device)?;
        // `next` saturates at u32::MAX: a heartbeat at u32::MAX closes it.
        if slot < self.state.next || (self.state.len > 0 && self.state.next == u32::MAX) {
            return Err(RecordError::SlotNotIncreasing {
                slot,
                next: self.state.next,
            });
        }
        Ok(())
    }
}

/// Appends co-signed receipts to a device's bandwidth chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptChain {
    state: ChainState,
}

impl ReceiptChain {
    /// A new chain for `device_id` in `epoch`.
    pub fn new(device_id: Fr, epoch: u32) -> Self {
        ReceiptChain {
            state: ChainState::genesis(ChainKind::Bandwidth, device_id, epoch),
        }
    }

    /// Resumes a chain from a saved state.
    pub fn resume(state: ChainState) -> Result<Self, RecordError> {
        match state.kind {
            ChainKind::Bandwidth => Ok(ReceiptChain { state }),
            ChainKind::Uptime => Err(RecordError::WrongChainKind),
        }
    }

    /// The state to save.
    pub fn state(&self) -> ChainState {
        self.state
    }

    /// The receipt the device proposes to `client_id` for its next session
    /// (the session number is the chain's next one).
    pub fn propose(&self, client_id: Fr, bytes: u64, duration_s: u32) -> SessionReceipt {
        SessionReceipt {
            device_id: self.state.device_id,
            client_id,
            epoch: self.state.epoch,
            session: self.state.next,
            bytes,
            duration_s,
        }
    }

    /// Checks the client's co-signature on a receipt of this device and
    /// epoch, appends it and signs the new head.
    pub fn append(
        &mut self,
        device: &Device,
        co_signed: &CoSignature,
    ) -> Result<SignedReceipt, RecordError> {
        self.state.check_room(device)?;
        let r = &co_signed.receipt;
        if r.device_id != self.state.device_id {
            return Err(RecordError::WrongDevice);
        }
        if r.epoch != self.state.epoch {
            return Err(RecordError::WrongEpoch {
                record: r.epoch,
                chain: self.state.epoch,
            });
        }
        if r.session < self.state.next || (self.state.len > 0 && self.state.next == u32::MAX) {
            return Err(RecordError::SessionReused {
                session: r.session,
                next: self.state.next,
            });
        }
        if co_signed.client_key.id() != r.client_id {
            return Err(RecordError::ClientKeyMismatch);
        }
        if r.client_id == self.state.device_id {
            return Err(RecordError::SelfDealing);
        }
        let message = r.message();
        co_signed
            .client_key
            .verify(&message, &co_signed.client_signature)
            .map_err(|_| RecordError::BadClientSignature)?;
        let head = chain_step(self.state.head, message);
        let head_signature = device.sign(&head);
        let s = &mut self.state;
        s.head = head;
        s.len += 1;
        s.next = r.session.saturating_add(1);
        Ok(SignedReceipt {
            co_signed: *co_signed,
            head,
            head_signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::{ClientSigner, Observed};
    use depin_crypto::eddsa::PrivateKey;
    use depin_statements::records::HashChain;

    fn device() -> Device {
        Device::from_secret([7; 32])
    }

    #[test]
    fn heartbeats_chain_and_sign_like_the_statement() {
        let d = device();
        let beacon = Fr::from(99u64);
        let mut c = HeartbeatChain::new(d.id(), 4);
        let mut reference = HashChain::uptime(d.id(), 4);
        let mut prev = c.state().head;
        for slot in [0, 3, 4, 90] {
            let hb = c.heartbeat(&d, beacon, slot, 20).unwrap();
            assert_eq!(hb.head, reference.push(hb.heartbeat.message()));
            hb.verify(&d.public_key(), prev).unwrap();
            prev = hb.head;
        }
        assert_eq!(c.state().len, 4);
        assert_eq!(c.state().next, 91);
        let before = c.state();
        assert_eq!(
            c.heartbeat(&d, beacon, 90, 20),
            Err(RecordError::SlotNotIncreasing { slot: 90, next: 91 })
        );
        assert_eq!(c.state(), before, "a refused record changes nothing");
        let other = Device::from_secret([8; 32]);
        assert_eq!(
            c.heartbeat(&other, beacon, 95, 1),
            Err(RecordError::WrongDevice)
        );
    }

    #[test]
    fn chains_stop_at_capacity() {
        let d = device();
        let mut c = HeartbeatChain::new(d.id(), 1);
        for slot in 0..UPTIME_CAPACITY as u32 {
            c.append(&d, at(slot)).unwrap();
        }
        assert_eq!(
            c.append(&d, at(500)),
            Err(RecordError::ChainFull { capacity: 96 })
        );
        let mut last = HeartbeatChain::new(d.id(), 1);
        last.append(&d, at(u32::MAX)).unwrap();
        assert!(matches!(
            last.append(&d, at(u32::MAX)),
            Err(RecordError::SlotNotIncreasing { .. })
        ));
    }

    fn at(slot: u32) -> Heartbeat {
        Heartbeat {
            slot,
            ..Heartbeat::PADDING
        }
    }

    #[test]
    fn receipts_need_a_valid_co_signature() {
        let d = device();
        let client = ClientSigner::new(PrivateKey::from_bytes([9; 32]));
        let mut c = ReceiptChain::new(d.id(), 2);
        let proposal = c.propose(client.id(), 1000, 10);
        let seen = Observed {
            device_id: d.id(),
            epoch: 2,
            bytes: 1000,
            duration_s: 10,
        };
        let co = client.co_sign(&proposal, &seen).unwrap();
        let mut forged = co;
        forged.receipt.bytes = 2000;
        assert_eq!(c.append(&d, &forged), Err(RecordError::BadClientSignature));
        let rec = c.append(&d, &co).unwrap();
        let mut reference = HashChain::bandwidth(d.id(), 2);
        assert_eq!(rec.head, reference.push(proposal.message()));
        d.public_key()
            .verify(&rec.head, &rec.head_signature)
            .unwrap();
        assert_eq!(
            c.append(&d, &co),
            Err(RecordError::SessionReused {
                session: 0,
                next: 1
            })
        );
        let next = c.propose(client.id(), 5, 1);
        assert_eq!(next.session, 1);
        assert_eq!(
            client.co_sign(&next, &Observed { bytes: 4, ..seen }),
            Err(crate::signer::CoSignError::BytesOverclaimed {
                claimed: 5,
                observed: 4
            })
        );
        let mut wrong_epoch = ReceiptChain::new(d.id(), 3);
        assert_eq!(
            wrong_epoch.append(&d, &co),
            Err(RecordError::WrongEpoch {
                record: 2,
                chain: 3
            })
        );
        let mut mismatched = co;
        mismatched.client_key = d.public_key();
        assert_eq!(
            c.append(&d, &mismatched),
            Err(RecordError::SessionReused {
                session: 0,
                next: 1
            })
        );
        let mut c2 = ReceiptChain::new(d.id(), 2);
        assert_eq!(
            c2.append(&d, &mismatched),
            Err(RecordError::ClientKeyMismatch)
        );
    }
}
