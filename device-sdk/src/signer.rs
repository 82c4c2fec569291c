//! Device and client keys, and the records signed outside a hash chain:
//! the coverage claim (signed by the device) and witness reports (signed by
//! a witness about another device's beacon), plus the client side of a
//! bandwidth receipt ([`ClientSigner::co_sign`]).
//!
//! `no_std`, no allocation: every function here returns plain values.

use depin_crypto::eddsa::{PrivateKey, PublicKey, Signature};
use depin_crypto::geo::{MAX_DBM, MIN_DBM};
use depin_crypto::Fr;
use depin_statements::records::{
    beacon_id, CoverageClaim, Location, SessionReceipt, SignedWitnessReport, WitnessReport,
};

/// Why a record was not built or not signed. Nothing is signed when an
/// error is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A location coordinate is not below `2^31` (the statements refuse it).
    #[error("location ({x}, {y}) is out of range: coordinates must be below 2^31")]
    LocationOutOfRange {
        /// Easting.
        x: u32,
        /// Northing.
        y: u32,
    },
    /// The RSSI is outside `-2^15..2^15` dBm (the path-loss rule refuses it).
    #[error("rssi {0} dBm is out of range (-32768..=32767)")]
    RssiOutOfRange(i32),
    /// An uptime slot does not come after the chain's last slot.
    #[error("slot {slot} does not increase: the next admissible slot is {next}")]
    SlotNotIncreasing {
        /// The slot asked for.
        slot: u32,
        /// The smallest slot the chain accepts.
        next: u32,
    },
    /// A session number was already used in this chain (or an earlier one
    /// was), so the receipt would be a duplicate.
    #[error("session {session} was already used: the next session number is {next}")]
    SessionReused {
        /// The session of the receipt.
        session: u32,
        /// The smallest session number the chain accepts.
        next: u32,
    },
    /// The chain holds as many records as one proof can take.
    #[error("the chain is full: one epoch holds at most {capacity} records")]
    ChainFull {
        /// The statement's capacity.
        capacity: u32,
    },
    /// The record (or the chain) belongs to another device.
    #[error("the record names another device")]
    WrongDevice,
    /// The record belongs to another epoch than the chain.
    #[error("the record is for epoch {record}, the chain for epoch {chain}")]
    WrongEpoch {
        /// The record's epoch.
        record: u32,
        /// The chain's epoch.
        chain: u32,
    },
    /// The client key does not hash to the receipt's client id.
    #[error("the client key does not match the receipt's client id")]
    ClientKeyMismatch,
    /// The client's co-signature does not verify.
    #[error("the client's co-signature does not verify")]
    BadClientSignature,
    /// The receipt names the device itself as its client.
    #[error("the device cannot be its own client")]
    SelfDealing,
    /// A record's head does not follow the previous head by its message.
    #[error("the head does not follow the previous head by this record")]
    HeadMismatch,
    /// The device's signature does not verify.
    #[error("the device's signature does not verify")]
    BadSignature,
    /// A chain state of one kind was resumed as the other.
    #[error("the chain state is of another kind")]
    WrongChainKind,
}

/// A device: its private key with the public key and id computed once.
///
/// The key is zeroized when the `Device` is dropped.
#[derive(Debug, Clone)]
pub struct Device {
    key: PrivateKey,
    public: PublicKey,
    id: Fr,
}

impl Device {
    /// Wraps a private key.
    pub fn new(key: PrivateKey) -> Self {
        let public = key.public_key();
        Device {
            id: public.id(),
            key,
            public,
        }
    }

    /// A device from 32 secret bytes (circomlibjs's private key bytes).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self::new(PrivateKey::from_bytes(secret))
    }

    /// The private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The device id, `Poseidon(A.x, A.y)`.
    pub fn id(&self) -> Fr {
        self.id
    }

    /// Signs a field element (EdDSA-Poseidon, circomlibjs's `signPoseidon`).
    pub fn sign(&self, message: &Fr) -> Signature {
        self.key.sign(message)
    }

    /// The device's signature asking for the proof of its `kind` records of
    /// `epoch` (whose published beacon is `beacon`): on
    /// `Poseidon(PROVE_REQUEST, device_id, kind, epoch, beacon)`
    /// ([`depin_statements::records::prove_request_message`]). A prover
    /// takes `ProveEpoch` for an epoch that still takes records only with
    /// it (or the operator's token); it is valid for no other epoch.
    pub fn sign_prove_request(
        &self,
        kind: depin_statements::StatementKind,
        epoch: u32,
        beacon: Fr,
    ) -> Signature {
        self.sign(&depin_statements::records::prove_request_message(
            self.id, kind, epoch, beacon,
        ))
    }

    /// The beacon id this device transmits in the epoch of `beacon`:
    /// `Poseidon(BEACON_ID, beacon, device_id)`.
    pub fn beacon_id(&self, beacon: Fr) -> Fr {
        beacon_id(beacon, self.id)
    }

    /// The device's signed coverage claim for `epoch`: its location and the
    /// beacon id it transmitted.
    pub fn coverage_claim(
        &self,
        epoch: u32,
        beacon: Fr,
        location: Location,
    ) -> Result<SignedClaim, RecordError> {
        check_location(location)?;
        let claim = CoverageClaim {
            device_id: self.id,
            epoch,
            location,
            beacon_id: self.beacon_id(beacon),
        };
        Ok(SignedClaim {
            signature: self.sign(&claim.message()),
            claim,
        })
    }

    /// A witness report signed by this device acting as a witness: it heard
    /// `heard_beacon_id` at its own `location` with `rssi_dbm`.
    pub fn witness_report(
        &self,
        heard_beacon_id: Fr,
        location: Location,
        rssi_dbm: i32,
        epoch: u32,
    ) -> Result<SignedWitnessReport, RecordError> {
        check_location(location)?;
        if !(MIN_DBM..=MAX_DBM).contains(&rssi_dbm) {
            return Err(RecordError::RssiOutOfRange(rssi_dbm));
        }
        let report = WitnessReport {
            witness: self.public,
            location,
            rssi_dbm,
            beacon_id: heard_beacon_id,
            epoch,
        };
        Ok(SignedWitnessReport {
            signature: self.sign(&report.message()),
            report,
        })
    }
}

fn check_location(l: Location) -> Result<(), RecordError> {
    if l.in_range() {
        Ok(())
    } else {
        Err(RecordError::LocationOutOfRange { x: l.x, y: l.y })
    }
}

/// A coverage claim with the device's signature on its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedClaim {
    /// The claim.
    pub claim: CoverageClaim,
    /// The device's signature on `claim.message()`.
    pub signature: Signature,
}

/// A receipt signed by its client: what the client hands back to the
/// serving device, which then appends it to its receipt chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoSignature {
    /// The receipt the client agreed to.
    pub receipt: SessionReceipt,
    /// The client's public key.
    pub client_key: PublicKey,
    /// The client's signature on `receipt.message()`.
    pub client_signature: Signature,
}

/// What a client measured of a session, to check the device's proposed
/// receipt against before co-signing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// The device that served the session.
    pub device_id: Fr,
    /// The epoch the client believes it is in.
    pub epoch: u32,
    /// Bytes the client received.
    pub bytes: u64,
    /// How long the session lasted, in seconds.
    pub duration_s: u32,
}

/// Why a client refused to co-sign a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CoSignError {
    /// The receipt names another client.
    #[error("the receipt names another client")]
    NotForThisClient,
    /// The receipt names another device than the one that served.
    #[error("the receipt names another device than the one that served the session")]
    WrongDevice,
    /// The receipt is for another epoch.
    #[error("the receipt is for epoch {receipt}, the client is in epoch {observed}")]
    WrongEpoch {
        /// The receipt's epoch.
        receipt: u32,
        /// The client's epoch.
        observed: u32,
    },
    /// The receipt claims more bytes than the client received.
    #[error("the receipt claims {claimed} bytes, the client received {observed}")]
    BytesOverclaimed {
        /// Bytes in the receipt.
        claimed: u64,
        /// Bytes the client received.
        observed: u64,
    },
    /// The receipt claims a longer session than the client saw.
    #[error("the receipt claims {claimed} s, the session lasted {observed} s")]
    DurationOverclaimed {
        /// Duration in the receipt.
        claimed: u32,
        /// Duration the client saw.
        observed: u32,
    },
    /// The receipt names the client as the serving device.
    #[error("a client cannot co-sign a receipt of its own device id")]
    SelfDealing,
}

/// A bandwidth client's side of a receipt: it checks the device's proposal
/// against what it measured and co-signs it.
#[derive(Debug, Clone)]
pub struct ClientSigner {
    key: PrivateKey,
    public: PublicKey,
    id: Fr,
}

impl ClientSigner {
    /// Wraps the client's private key.
    pub fn new(key: PrivateKey) -> Self {
        let public = key.public_key();
        ClientSigner {
            id: public.id(),
            key,
            public,
        }
    }

    /// The client id, `Poseidon(A.x, A.y)`: what the device puts in
    /// `SessionReceipt::client_id`.
    pub fn id(&self) -> Fr {
        self.id
    }

    /// The client's public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Co-signs `receipt` if it names this client and claims no more than
    /// the client `observed` (same device and epoch, at most the bytes
    /// received and the duration seen).
    pub fn co_sign(
        &self,
        receipt: &SessionReceipt,
        observed: &Observed,
    ) -> Result<CoSignature, CoSignError> {
        if receipt.device_id != observed.device_id {
            return Err(CoSignError::WrongDevice);
        }
        if receipt.epoch != observed.epoch {
            return Err(CoSignError::WrongEpoch {
                receipt: receipt.epoch,
                observed: observed.epoch,
            });
        }
        if receipt.bytes > observed.bytes {
            return Err(CoSignError::BytesOverclaimed {
                claimed: receipt.bytes,
                observed: observed.bytes,
            });
        }
        if receipt.duration_s > observed.duration_s {
            return Err(CoSignError::DurationOverclaimed {
                claimed: receipt.duration_s,
                observed: observed.duration_s,
            });
        }
        self.co_sign_unchecked(receipt)
    }

    /// Co-signs `receipt` checking only that it names this client and not
    /// this client as the device (for clients that measure nothing).
    pub fn co_sign_unchecked(&self, receipt: &SessionReceipt) -> Result<CoSignature, CoSignError> {
        if receipt.client_id != self.id {
            return Err(CoSignError::NotForThisClient);
        }
        if receipt.device_id == self.id {
            return Err(CoSignError::SelfDealing);
        }
        Ok(CoSignature {
            receipt: *receipt,
            client_key: self.public,
            client_signature: self.key.sign(&receipt.message()),
        })
    }
}
