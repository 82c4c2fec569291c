//! A device's chains and spool together: sign a measurement, append it to
//! the spool, and keep the chain heads consistent across crashes.
//!
//! Layout of the state directory:
//!
//! - `spool/`: the [`Spool`] of encoded [`SignedRecord`]s;
//! - `uptime.chain`, `bandwidth.chain`: checkpoints of the two chains (the
//!   [`ChainState`] and the sequence number of its last record), replaced
//!   atomically.
//!
//! A record counts as stored once the spool has it; the checkpoints are
//! only a summary of the spool. Opening a recorder replays the spooled
//! records newer than each checkpoint, so a crash between the append and
//! the checkpoint write never forks a chain (the next heartbeat always
//! extends the last *stored* head). The checkpoints are written after that
//! replay and always before an acknowledgement may delete records, which
//! keeps the invariant the replay needs: every chain record newer than its
//! checkpoint is still in the spool.
//!
//! The submit loop uses [`Recorder::peek_batch`] and [`Recorder::ack`].

use std::path::{Path, PathBuf};

use depin_crypto::field::{fr_from_le_bytes, fr_to_le_bytes};
use depin_crypto::Fr;
use depin_statements::records::{chain_step, Location, SessionReceipt};

use crate::chain::{ChainKind, ChainState, HeartbeatChain, ReceiptChain};
use crate::keyfile::sync_dir;
use crate::signer::{CoSignature, Device, RecordError};
use crate::spool::{Spool, SpoolConfig, SpoolError};
use crate::wire::{SignedRecord, WireError, MAX_RECORD_LEN};

const CHECKPOINT_MAGIC: [u8; 8] = *b"DPCHAIN1";
const CHECKPOINT_LEN: usize = 8 + 1 + 32 + 4 + 32 + 4 + 4 + 8 + 4;

/// Why a recorder operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    /// The record was refused before signing (nothing was stored).
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The spool refused or failed (nothing was stored, except after
    /// [`SpoolError::Poisoned`] or an I/O error, see [`Spool::append`]).
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// A chain checkpoint is unreadable or belongs to another device.
    #[error("chain checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A spooled record does not extend its saved chain.
    #[error("spooled record {seq} does not extend the saved {kind:?} chain")]
    ChainMismatch {
        /// The record's sequence number.
        seq: u64,
        /// The chain.
        kind: ChainKind,
    },
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A record the spool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Its sequence number in the spool.
    pub seq: u64,
    /// The record.
    pub record: SignedRecord,
}

/// A spooled entry as the submit loop reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spooled {
    /// Its sequence number (acknowledge up to it).
    pub seq: u64,
    /// The decoded record, or why its bytes are not a record (e.g. an entry
    /// written by something else than a recorder).
    pub record: Result<SignedRecord, WireError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Checkpoint {
    state: ChainState,
    /// Sequence number of the chain's last spooled record (0 if none).
    seq: u64,
}

#[derive(Debug)]
struct Slot {
    path: PathBuf,
    saved: Option<Checkpoint>,
    current: Option<Checkpoint>,
}

impl Slot {
    fn dirty(&self) -> bool {
        self.saved != self.current
    }
}

/// A device's recorder: see the module docs.
#[derive(Debug)]
pub struct Recorder {
    device: Device,
    dir: PathBuf,
    spool: Spool,
    uptime: Slot,
    bandwidth: Slot,
}

fn encode_checkpoint(c: &Checkpoint) -> [u8; CHECKPOINT_LEN] {
    let mut b = [0u8; CHECKPOINT_LEN];
    let mut w = 0;
    let mut put = |bytes: &[u8]| {
        b[w..w + bytes.len()].copy_from_slice(bytes);
        w += bytes.len();
    };
    put(&CHECKPOINT_MAGIC);
    put(&[c.state.kind as u8]);
    put(&fr_to_le_bytes(&c.state.device_id));
    put(&c.state.epoch.to_le_bytes());
    put(&fr_to_le_bytes(&c.state.head));
    put(&c.state.len.to_le_bytes());
    put(&c.state.next.to_le_bytes());
    put(&c.seq.to_le_bytes());
    let sum = crc32fast::hash(&b[..CHECKPOINT_LEN - 4]);
    b[CHECKPOINT_LEN - 4..].copy_from_slice(&sum.to_le_bytes());
    b
}

fn decode_checkpoint(b: &[u8]) -> Result<Checkpoint, &'static str> {
    if b.len() != CHECKPOINT_LEN || b[..8] != CHECKPOINT_MAGIC {
        return Err("not a chain checkpoint");
    }
    let mut sum = [0u8; 4];
    sum.copy_from_slice(&b[CHECKPOINT_LEN - 4..]);
    if crc32fast::hash(&b[..CHECKPOINT_LEN - 4]) != u32::from_le_bytes(sum) {
        return Err("checksum mismatch");
    }
    let mut r = 8;
    let mut take = |n: usize| {
        let s = &b[r..r + n];
        r += n;
        s
    };
    let kind = ChainKind::from_u8(take(1)[0]).ok_or("unknown chain kind")?;
    let fr = |s: &[u8]| {
        let mut a = [0u8; 32];
        a.copy_from_slice(s);
        fr_from_le_bytes(&a).map_err(|_| "non-canonical field element")
    };
    let u32_of = |s: &[u8]| {
        let mut a = [0u8; 4];
        a.copy_from_slice(s);
        u32::from_le_bytes(a)
    };
    let device_id = fr(take(32))?;
    let epoch = u32_of(take(4));
    let head = fr(take(32))?;
    let len = u32_of(take(4));
    let next = u32_of(take(4));
    let mut seq = [0u8; 8];
    seq.copy_from_slice(take(8));
    Ok(Checkpoint {
        state: ChainState {
            kind,
            device_id,
            epoch,
            head,
            len,
            next,
        },
        seq: u64::from_le_bytes(seq),
    })
}

impl Recorder {
    /// Opens (creating if needed) the recorder of `device` in `dir`,
    /// recovering the spool and replaying it onto the chain checkpoints.
    pub fn open(
        dir: impl AsRef<Path>,
        device: Device,
        spool: SpoolConfig,
    ) -> Result<Recorder, RecorderError> {
        let dir = dir.as_ref().to_path_buf();
        let spool = Spool::open(dir.join("spool"), spool)?;
        let mut rec = Recorder {
            uptime: Self::load(&dir.join("uptime.chain"), ChainKind::Uptime, &device)?,
            bandwidth: Self::load(&dir.join("bandwidth.chain"), ChainKind::Bandwidth, &device)?,
            device,
            dir,
            spool,
        };
        rec.replay()?;
        rec.save()?;
        Ok(rec)
    }

    fn load(path: &Path, kind: ChainKind, device: &Device) -> Result<Slot, RecorderError> {
        let saved = match std::fs::read(path) {
            Ok(b) => {
                let bad = |reason| RecorderError::Checkpoint {
                    path: path.to_path_buf(),
                    reason,
                };
                let c = decode_checkpoint(&b).map_err(bad)?;
                if c.state.kind != kind {
                    return Err(bad("the checkpoint is of the other chain"));
                }
                if c.state.device_id != device.id() {
                    return Err(bad("the checkpoint belongs to another device key"));
                }
                Some(c)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(RecorderError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Ok(Slot {
            path: path.to_path_buf(),
            saved,
            current: saved,
        })
    }

    /// Applies the spooled chain records newer than the checkpoints.
    fn replay(&mut self) -> Result<(), RecorderError> {
        let from = |s: &Slot| s.current.map_or(0, |c| c.seq);
        let after = from(&self.uptime).min(from(&self.bandwidth));
        let me = self.device.id();
        let mut next = after;
        loop {
            let batch = self.spool.peek_after(next, 256)?;
            let Some(last) = batch.last() else { break };
            next = last.seq;
            for entry in batch {
                let Ok(record) = SignedRecord::decode(&entry.payload) else {
                    continue;
                };
                let (slot, kind, message, step_next) = match &record {
                    SignedRecord::Heartbeat(h) if h.device_id == me => (
                        &mut self.uptime,
                        ChainKind::Uptime,
                        h.heartbeat.message(),
                        h.heartbeat.slot.saturating_add(1),
                    ),
                    SignedRecord::Receipt(r) if r.co_signed.receipt.device_id == me => (
                        &mut self.bandwidth,
                        ChainKind::Bandwidth,
                        r.co_signed.receipt.message(),
                        r.co_signed.receipt.session.saturating_add(1),
                    ),
                    _ => continue,
                };
                if slot.current.is_some_and(|c| c.seq >= entry.seq) {
                    continue;
                }
                let epoch = record.epoch();
                let mut state = match slot.current {
                    Some(c) if c.state.epoch == epoch => c.state,
                    _ => ChainState::genesis(kind, me, epoch),
                };
                let head = chain_step(state.head, message);
                if Some((kind, head)) != record.chain_head() {
                    return Err(RecorderError::ChainMismatch {
                        seq: entry.seq,
                        kind,
                    });
                }
                state.head = head;
                state.len += 1;
                state.next = step_next;
                slot.current = Some(Checkpoint {
                    state,
                    seq: entry.seq,
                });
            }
        }
        Ok(())
    }

    /// Writes the checkpoints that changed (atomically: temporary file,
    /// sync, rename, directory sync).
    fn save(&mut self) -> Result<(), RecorderError> {
        let sync = self.spool.config().sync;
        for slot in [&mut self.uptime, &mut self.bandwidth] {
            let (true, Some(c)) = (slot.dirty(), slot.current) else {
                continue;
            };
            let tmp = slot.path.with_extension("chain.tmp");
            let io = |source| RecorderError::Io {
                path: tmp.clone(),
                source,
            };
            {
                use std::io::Write;
                let mut f = std::fs::File::create(&tmp).map_err(io)?;
                f.write_all(&encode_checkpoint(&c)).map_err(io)?;
                if sync {
                    f.sync_all().map_err(io)?;
                }
            }
            std::fs::rename(&tmp, &slot.path).map_err(io)?;
            if sync {
                sync_dir(&self.dir).map_err(io)?;
            }
            slot.saved = slot.current;
        }
        Ok(())
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The spool (for its counters).
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// The uptime chain's state, if any heartbeat was recorded.
    pub fn uptime_state(&self) -> Option<ChainState> {
        self.uptime.current.map(|c| c.state)
    }

    /// The bandwidth chain's state, if any receipt was recorded.
    pub fn bandwidth_state(&self) -> Option<ChainState> {
        self.bandwidth.current.map(|c| c.state)
    }

    /// The chain for `epoch`: the current one, or a new one for a later
    /// epoch; an earlier epoch is closed.
    fn chain_for(&self, kind: ChainKind, epoch: u32) -> Result<ChainState, RecordError> {
        let slot = match kind {
            ChainKind::Uptime => &self.uptime,
            ChainKind::Bandwidth => &self.bandwidth,
        };
        match slot.current {
            Some(c) if c.state.epoch == epoch => Ok(c.state),
            Some(c) if c.state.epoch > epoch => Err(RecordError::WrongEpoch {
                record: epoch,
                chain: c.state.epoch,
            }),
            _ => Ok(ChainState::genesis(kind, self.device.id(), epoch)),
        }
    }

    fn append(&mut self, record: SignedRecord) -> Result<Stored, RecorderError> {
        let mut buf = [0u8; MAX_RECORD_LEN];
        let n = record
            .encode(&mut buf)
            .map_err(|_| SpoolError::InvalidConfig("record buffer"))?;
        let seq = self.spool.append(&buf[..n])?;
        Ok(Stored { seq, record })
    }

    /// Signs a heartbeat answering `slot`'s challenge under `beacon` and
    /// stores it. A heartbeat of a later epoch than the chain's starts a
    /// new chain; an earlier epoch is refused.
    pub fn record_heartbeat(
        &mut self,
        epoch: u32,
        beacon: Fr,
        slot: u32,
        latency_ms: u32,
    ) -> Result<Stored, RecorderError> {
        let mut chain = HeartbeatChain::resume(self.chain_for(ChainKind::Uptime, epoch)?)?;
        let signed = chain.heartbeat(&self.device, beacon, slot, latency_ms)?;
        let stored = self.append(signed.into())?;
        self.uptime.current = Some(Checkpoint {
            state: chain.state(),
            seq: stored.seq,
        });
        Ok(stored)
    }

    /// The receipt to propose to `client_id` for the next session of
    /// `epoch` (the client co-signs it, then [`Recorder::record_receipt`]).
    pub fn propose_receipt(
        &self,
        epoch: u32,
        client_id: Fr,
        bytes: u64,
        duration_s: u32,
    ) -> Result<SessionReceipt, RecorderError> {
        let chain = ReceiptChain::resume(self.chain_for(ChainKind::Bandwidth, epoch)?)?;
        Ok(chain.propose(client_id, bytes, duration_s))
    }

    /// Checks a client's co-signed receipt, appends it to the bandwidth
    /// chain, signs the head and stores it.
    pub fn record_receipt(&mut self, co_signed: &CoSignature) -> Result<Stored, RecorderError> {
        let epoch = co_signed.receipt.epoch;
        let mut chain = ReceiptChain::resume(self.chain_for(ChainKind::Bandwidth, epoch)?)?;
        let signed = chain.append(&self.device, co_signed)?;
        let stored = self.append(signed.into())?;
        self.bandwidth.current = Some(Checkpoint {
            state: chain.state(),
            seq: stored.seq,
        });
        Ok(stored)
    }

    /// Signs and stores the device's coverage claim for `epoch`.
    pub fn record_claim(
        &mut self,
        epoch: u32,
        beacon: Fr,
        location: Location,
    ) -> Result<Stored, RecorderError> {
        let signed = self.device.coverage_claim(epoch, beacon, location)?;
        self.append(signed.into())
    }

    /// Signs and stores a witness report of another device's beacon.
    pub fn record_witness(
        &mut self,
        heard_beacon_id: Fr,
        location: Location,
        rssi_dbm: i32,
        epoch: u32,
    ) -> Result<Stored, RecorderError> {
        let signed = self
            .device
            .witness_report(heard_beacon_id, location, rssi_dbm, epoch)?;
        self.append(signed.into())
    }

    /// The oldest `n` records not yet acknowledged, in order.
    pub fn peek_batch(&mut self, n: usize) -> Result<Vec<Spooled>, RecorderError> {
        Ok(self
            .spool
            .peek_batch(n)?
            .into_iter()
            .map(|e| Spooled {
                seq: e.seq,
                record: SignedRecord::decode(&e.payload),
            })
            .collect())
    }

    /// Acknowledges every record up to `upto` (the prover stored them):
    /// they are never delivered again and their segments are compacted.
    pub fn ack(&mut self, upto: u64) -> Result<(), RecorderError> {
        self.save()?;
        self.spool.ack(upto)?;
        Ok(())
    }

    /// Writes the chain checkpoints (also done by [`Recorder::ack`]; call
    /// it before a planned shutdown to make the next open faster).
    pub fn flush(&mut self) -> Result<(), RecorderError> {
        self.save()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::SignedHeartbeat;
    use crate::signer::{ClientSigner, Observed};
    use depin_crypto::eddsa::PrivateKey;

    fn cfg() -> SpoolConfig {
        SpoolConfig {
            sync: false,
            ..SpoolConfig::with_max_bytes(1 << 20)
        }
    }

    fn heartbeats(r: &mut Recorder) -> Vec<SignedHeartbeat> {
        r.peek_batch(usize::MAX)
            .unwrap()
            .into_iter()
            .filter_map(|s| match s.record {
                Ok(SignedRecord::Heartbeat(h)) => Some(h),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_crash_before_the_checkpoint_does_not_fork_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let d = Device::from_secret([4; 32]);
        let beacon = Fr::from(8u64);
        {
            let mut r = Recorder::open(dir.path(), d.clone(), cfg()).unwrap();
            r.record_heartbeat(1, beacon, 0, 5).unwrap();
            r.record_heartbeat(1, beacon, 1, 5).unwrap();
            r.flush().unwrap();
            // No flush after these: the checkpoint lags the spool.
            r.record_heartbeat(1, beacon, 2, 5).unwrap();
            r.record_heartbeat(1, beacon, 5, 5).unwrap();
        }
        let mut r = Recorder::open(dir.path(), d.clone(), cfg()).unwrap();
        assert_eq!(r.uptime_state().unwrap().len, 4);
        assert_eq!(r.uptime_state().unwrap().next, 6);
        assert!(matches!(
            r.record_heartbeat(1, beacon, 5, 5),
            Err(RecorderError::Record(RecordError::SlotNotIncreasing { .. }))
        ));
        r.record_heartbeat(1, beacon, 6, 5).unwrap();
        let hbs = heartbeats(&mut r);
        let mut prev = ChainKind::Uptime.genesis(d.id(), 1);
        for h in &hbs {
            h.verify(&d.public_key(), prev).unwrap();
            prev = h.head;
        }
        assert_eq!(hbs.len(), 5);
        // A new epoch starts a new chain; the old one is closed.
        r.record_heartbeat(2, beacon, 0, 5).unwrap();
        assert!(matches!(
            r.record_heartbeat(1, beacon, 7, 5),
            Err(RecorderError::Record(RecordError::WrongEpoch { .. }))
        ));
        // Acknowledging everything keeps the chain state.
        let last = r.spool().next_seq() - 1;
        r.ack(last).unwrap();
        drop(r);
        let mut r = Recorder::open(dir.path(), d.clone(), cfg()).unwrap();
        assert_eq!(r.uptime_state().unwrap().epoch, 2);
        assert_eq!(r.uptime_state().unwrap().len, 1);
        let s = r.record_heartbeat(2, beacon, 1, 5).unwrap();
        let SignedRecord::Heartbeat(h) = s.record else {
            panic!()
        };
        let mut c = HeartbeatChain::new(d.id(), 2);
        c.heartbeat(&d, beacon, 0, 5).unwrap();
        h.verify(&d.public_key(), c.state().head).unwrap();
    }

    #[test]
    fn receipts_claims_and_witness_reports_are_stored() {
        let dir = tempfile::tempdir().unwrap();
        let d = Device::from_secret([4; 32]);
        let client = ClientSigner::new(PrivateKey::from_bytes([6; 32]));
        let mut r = Recorder::open(dir.path(), d.clone(), cfg()).unwrap();
        for i in 0..3 {
            let p = r.propose_receipt(9, client.id(), 100 * i, 10).unwrap();
            assert_eq!(p.session, i as u32);
            let co = client
                .co_sign(
                    &p,
                    &Observed {
                        device_id: d.id(),
                        epoch: 9,
                        bytes: 1000,
                        duration_s: 10,
                    },
                )
                .unwrap();
            r.record_receipt(&co).unwrap();
        }
        r.record_claim(9, Fr::from(1u64), Location { x: 1, y: 2 })
            .unwrap();
        r.record_witness(Fr::from(77u64), Location { x: 3, y: 4 }, -80, 9)
            .unwrap();
        drop(r);
        let mut r = Recorder::open(dir.path(), d.clone(), cfg()).unwrap();
        assert_eq!(r.bandwidth_state().unwrap().len, 3);
        let all = r.peek_batch(10).unwrap();
        assert_eq!(all.len(), 5);
        for s in &all {
            s.record
                .as_ref()
                .unwrap()
                .verify_signatures(&d.public_key())
                .unwrap();
        }
        drop(r);
        let other = Device::from_secret([5; 32]);
        assert!(matches!(
            Recorder::open(dir.path(), other, cfg()),
            Err(RecorderError::Checkpoint { .. })
        ));
    }
}
