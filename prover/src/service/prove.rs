//! From stored records to a proof: the native input of a device's epoch, the
//! reference's evaluation, the circuit and the Groth16 proof, with the keys
//! loaded once and shared by every worker.
//!
//! Proof randomness is derived from a secret of the node and the job (like
//! deterministic signature nonces), so a job retried after a crash or a
//! restart produces the very same proof.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::fr_to_le_bytes;
use depin_crypto::merkle::MerkleTree;
use depin_statements::bandwidth::BandwidthInput;
use depin_statements::coverage::CoverageInput;
use depin_statements::records::{
    beacon_id, CoSignedReceipt, CoverageClaim, Heartbeat, RegistryProof, SignedHead,
    SignedWitnessReport,
};
use depin_statements::uptime::UptimeInput;
use depin_statements::{
    BandwidthPolicy, CoveragePolicy, EvalError, Evaluation, Fr, StatementKind, UptimePolicy,
    Verdict, COVERAGE_CAPACITY, REGISTRY_DEPTH,
};
use depin_statements_r1cs::bandwidth::BandwidthCircuit;
use depin_statements_r1cs::coverage::CoverageCircuit;
use depin_statements_r1cs::uptime::UptimeCircuit;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::model::{ChainKey, EpochConfig, StoredRecord};
use super::store::Store;
use crate::groth16::{self, Prover, StatementProof};
use crate::keys::{dev_setup, FormatError, KeyDir, KeyError, Trust, VerifyingKey};

/// Why an epoch could not be proven.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// Something the proof needs is missing (no records, no claim).
    #[error("{0}")]
    Missing(String),
    /// The reference refused the input.
    #[error("the native reference refused the epoch: {0}")]
    Eval(#[from] EvalError),
    /// The circuit could not be built.
    #[error("building the circuit: {0}")]
    Circuit(#[from] depin_statements_r1cs::CircuitError),
    /// Proving failed.
    #[error("proving: {0}")]
    Prover(#[from] groth16::ProverError),
    /// The keys failed to load.
    #[error("the {kind} keys are unavailable: {reason}")]
    Keys {
        /// The statement.
        kind: &'static str,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
}

/// One device's epoch, ready to evaluate and prove.
#[derive(Debug, Clone)]
pub enum EpochWitness {
    /// Uptime.
    Uptime {
        /// Device key.
        device: PublicKey,
        /// Epoch.
        epoch: u32,
        /// Beacon.
        beacon: Fr,
        /// Policy.
        policy: UptimePolicy,
        /// Heartbeats in chain order.
        heartbeats: Vec<Heartbeat>,
        /// The last signed head.
        signed_head: SignedHead,
    },
    /// Bandwidth.
    Bandwidth {
        /// Device key.
        device: PublicKey,
        /// Epoch.
        epoch: u32,
        /// Beacon.
        beacon: Fr,
        /// Policy.
        policy: BandwidthPolicy,
        /// Registry root of the epoch.
        registry_root: Fr,
        /// Receipts in chain order.
        receipts: Vec<CoSignedReceipt>,
        /// The last signed head.
        signed_head: SignedHead,
    },
    /// Coverage.
    Coverage {
        /// Device key.
        device: PublicKey,
        /// Epoch.
        epoch: u32,
        /// Beacon.
        beacon: Fr,
        /// Policy.
        policy: CoveragePolicy,
        /// The device's claim.
        claim: CoverageClaim,
        /// Its signature.
        claim_signature: Signature,
        /// The reports proven.
        reports: Vec<SignedWitnessReport>,
    },
}

impl EpochWitness {
    /// The statement.
    pub fn kind(&self) -> StatementKind {
        match self {
            EpochWitness::Uptime { .. } => StatementKind::Uptime,
            EpochWitness::Bandwidth { .. } => StatementKind::Bandwidth,
            EpochWitness::Coverage { .. } => StatementKind::Coverage,
        }
    }

    /// The native reference's evaluation.
    pub fn evaluate(&self) -> Result<Evaluation, EvalError> {
        match self {
            EpochWitness::Uptime {
                device,
                epoch,
                beacon,
                policy,
                heartbeats,
                signed_head,
            } => depin_statements::uptime::evaluate(&UptimeInput {
                device: *device,
                epoch: *epoch,
                beacon: *beacon,
                policy: *policy,
                heartbeats,
                signed_head: *signed_head,
            }),
            EpochWitness::Bandwidth {
                device,
                epoch,
                beacon,
                policy,
                registry_root,
                receipts,
                signed_head,
            } => depin_statements::bandwidth::evaluate(&BandwidthInput {
                device: *device,
                epoch: *epoch,
                beacon: *beacon,
                policy: *policy,
                registry_root: *registry_root,
                receipts,
                signed_head: *signed_head,
            }),
            EpochWitness::Coverage {
                device,
                epoch,
                beacon,
                policy,
                claim,
                claim_signature,
                reports,
            } => depin_statements::coverage::evaluate(&CoverageInput {
                device: *device,
                epoch: *epoch,
                beacon: *beacon,
                policy: *policy,
                claim: *claim,
                claim_signature: *claim_signature,
                reports,
            }),
        }
    }

    /// Proves with `prover` (the statement's key and prebuilt matrices),
    /// the randomness drawn from `rng`.
    pub fn prove(
        &self,
        prover: &Prover,
        rng: &mut ChaCha20Rng,
    ) -> Result<StatementProof, ProveError> {
        Ok(match self {
            EpochWitness::Uptime {
                device,
                epoch,
                beacon,
                policy,
                heartbeats,
                signed_head,
            } => {
                let c = UptimeCircuit::new(&UptimeInput {
                    device: *device,
                    epoch: *epoch,
                    beacon: *beacon,
                    policy: *policy,
                    heartbeats,
                    signed_head: *signed_head,
                })?;
                prover.prove(c, rng)?
            }
            EpochWitness::Bandwidth {
                device,
                epoch,
                beacon,
                policy,
                registry_root,
                receipts,
                signed_head,
            } => {
                let c = BandwidthCircuit::new(&BandwidthInput {
                    device: *device,
                    epoch: *epoch,
                    beacon: *beacon,
                    policy: *policy,
                    registry_root: *registry_root,
                    receipts,
                    signed_head: *signed_head,
                })?;
                prover.prove(c, rng)?
            }
            EpochWitness::Coverage {
                device,
                epoch,
                beacon,
                policy,
                claim,
                claim_signature,
                reports,
            } => {
                let c = CoverageCircuit::new(&CoverageInput {
                    device: *device,
                    epoch: *epoch,
                    beacon: *beacon,
                    policy: *policy,
                    claim: *claim,
                    claim_signature: *claim_signature,
                    reports,
                })?;
                prover.prove(c, rng)?
            }
        })
    }
}

/// Registry trees of epoch snapshots, built once per size.
#[derive(Debug, Default)]
pub struct Registries {
    trees: Mutex<HashMap<u32, Arc<MerkleTree>>>,
}

impl Registries {
    /// The tree of the first `size` clients.
    pub fn tree(&self, store: &dyn Store, size: u32) -> Result<Arc<MerkleTree>, ProveError> {
        if let Some(t) = self.trees.lock().ok().and_then(|m| m.get(&size).cloned()) {
            return Ok(t);
        }
        let ids = store.client_ids(size)?;
        let tree = MerkleTree::new(REGISTRY_DEPTH, &ids)
            .map_err(|e| ProveError::Missing(format!("client registry: {e}")))?;
        let tree = Arc::new(tree);
        if let Ok(mut m) = self.trees.lock() {
            m.insert(size, tree.clone());
        }
        Ok(tree)
    }
}

/// Loads a device's epoch from the store.
pub fn load_witness(
    store: &dyn Store,
    registries: &Registries,
    key: &ChainKey,
) -> Result<EpochWitness, ProveError> {
    let cfg: EpochConfig = store
        .epoch(key.epoch)?
        .ok_or_else(|| ProveError::Missing(format!("epoch {} is not published", key.epoch)))?;
    let device = store.device(&key.device)?.ok_or_else(|| {
        ProveError::Missing(format!(
            "device {} is not registered",
            super::convert::fr_pb(&key.device)
        ))
    })?;
    let no_records = || {
        ProveError::Missing(format!(
            "no {} records of this device in epoch {}",
            key.kind.as_str(),
            key.epoch
        ))
    };
    match key.kind {
        StatementKind::Uptime | StatementKind::Bandwidth => {
            let state = store.chain(key)?.ok_or_else(no_records)?;
            let signature = state.signature.ok_or_else(no_records)?;
            let signed_head = SignedHead {
                head: state.head,
                signature,
            };
            let records = store.records(key)?;
            if records.len() != state.len as usize {
                return Err(ProveError::Missing(format!(
                    "the chain holds {} records, its state says {}",
                    records.len(),
                    state.len
                )));
            }
            if key.kind == StatementKind::Uptime {
                let heartbeats = records
                    .iter()
                    .filter_map(|r| match r {
                        StoredRecord::Heartbeat(h) => Some(h.heartbeat),
                        StoredRecord::Receipt(_) => None,
                    })
                    .collect();
                Ok(EpochWitness::Uptime {
                    device,
                    epoch: key.epoch,
                    beacon: cfg.beacon,
                    policy: cfg.uptime,
                    heartbeats,
                    signed_head,
                })
            } else {
                let tree = registries.tree(store, cfg.registry_size)?;
                let mut receipts = Vec::with_capacity(records.len());
                for r in &records {
                    let StoredRecord::Receipt(r) = r else {
                        continue;
                    };
                    let registry_proof = match store.client_index(&r.receipt.client_id)? {
                        Some(ix) if ix < cfg.registry_size => {
                            let p = tree
                                .proof(u64::from(ix))
                                .map_err(|e| ProveError::Missing(format!("registry proof: {e}")))?;
                            RegistryProof {
                                index: ix as u16,
                                siblings: p.siblings.try_into().map_err(|_| {
                                    ProveError::Missing("registry proof depth".into())
                                })?,
                            }
                        }
                        _ => RegistryProof::PADDING,
                    };
                    receipts.push(CoSignedReceipt {
                        receipt: r.receipt,
                        client_key: r.client_key,
                        client_signature: r.client_signature,
                        registry_proof,
                    });
                }
                Ok(EpochWitness::Bandwidth {
                    device,
                    epoch: key.epoch,
                    beacon: cfg.beacon,
                    policy: cfg.bandwidth,
                    registry_root: cfg.registry_root,
                    receipts,
                    signed_head,
                })
            }
        }
        StatementKind::Coverage => {
            let claim = store.claim(&key.device, key.epoch)?.ok_or_else(|| {
                ProveError::Missing(format!(
                    "no coverage claim of this device in epoch {}",
                    key.epoch
                ))
            })?;
            let bid = beacon_id(cfg.beacon, key.device);
            let all = store.reports(key.epoch, &bid)?;
            let reports = select_reports(&device, &cfg, &claim.claim, &claim.signature, &all);
            Ok(EpochWitness::Coverage {
                device,
                epoch: key.epoch,
                beacon: cfg.beacon,
                policy: cfg.coverage,
                claim: claim.claim,
                claim_signature: claim.signature,
                reports,
            })
        }
    }
}

/// The reports a coverage proof includes: those the reference accepts on
/// their own, one per witness, at most the capacity (any such set gives the
/// largest reward, which depends only on the count).
fn select_reports(
    device: &PublicKey,
    cfg: &EpochConfig,
    claim: &CoverageClaim,
    claim_signature: &Signature,
    all: &[SignedWitnessReport],
) -> Vec<SignedWitnessReport> {
    let mut chosen: Vec<SignedWitnessReport> = Vec::new();
    for r in all {
        if chosen.len() >= COVERAGE_CAPACITY {
            break;
        }
        if chosen
            .iter()
            .any(|c| c.report.witness_id() == r.report.witness_id())
        {
            continue;
        }
        let alone = depin_statements::coverage::evaluate(&CoverageInput {
            device: *device,
            epoch: cfg.epoch,
            beacon: cfg.beacon,
            policy: cfg.coverage,
            claim: *claim,
            claim_signature: *claim_signature,
            reports: std::slice::from_ref(r),
        });
        if matches!(alone, Ok(e) if e.verdicts.first() == Some(&Verdict::Accepted)) {
            chosen.push(*r);
        }
    }
    chosen
}

/// The keys of one statement, loaded once.
#[derive(Debug)]
pub struct LoadedKeys {
    /// The proving key with the circuit's prebuilt R1CS matrices
    /// ([`Prover::key`] is the proving key).
    pub prover: Prover,
    /// Verifying key.
    pub verifying: VerifyingKey,
    /// The verifying key, arkworks compressed.
    pub vk_bytes: Vec<u8>,
    /// The verifying key in snarkjs's JSON.
    pub vk_json: String,
}

enum Slot {
    Loading,
    Ready(Arc<LoadedKeys>),
    Failed(String),
}

/// The statements' keys, loading in the background at start.
pub struct KeyStore {
    slots: Mutex<HashMap<StatementKind, Slot>>,
    ready: Condvar,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").finish_non_exhaustive()
    }
}

/// The state of one statement's keys.
#[derive(Debug, Clone)]
pub enum KeyState {
    /// This node does not prove the statement.
    NotServed,
    /// Still loading.
    Loading,
    /// Ready.
    Ready(Arc<LoadedKeys>),
    /// Failed to load.
    Failed(String),
}

impl KeyStore {
    /// Starts loading the keys of `kinds` from `dir/<kind>/`, making
    /// development keys from `dev_seed` where missing if `dev_seed` is set.
    pub fn start(dir: PathBuf, kinds: &[StatementKind], dev_seed: Option<u64>) -> Arc<Self> {
        let ks = Arc::new(KeyStore {
            slots: Mutex::new(kinds.iter().map(|k| (*k, Slot::Loading)).collect()),
            ready: Condvar::new(),
        });
        let kinds = kinds.to_vec();
        let bg = ks.clone();
        let spawned = std::thread::Builder::new()
            .name("key-loader".into())
            .spawn(move || {
                for kind in kinds {
                    let started = std::time::Instant::now();
                    let slot = match load_or_make(&dir.join(kind.as_str()), kind, dev_seed) {
                        Ok(k) => {
                            tracing::info!(
                                statement = kind.as_str(),
                                seconds = started.elapsed().as_secs_f64(),
                                "keys ready"
                            );
                            Slot::Ready(Arc::new(k))
                        }
                        Err(e) => {
                            tracing::error!(statement = kind.as_str(), error = %e, "keys unavailable");
                            Slot::Failed(e)
                        }
                    };
                    if let Ok(mut m) = bg.slots.lock() {
                        m.insert(kind, slot);
                    }
                    bg.ready.notify_all();
                }
            });
        if let Err(e) = spawned {
            if let Ok(mut m) = ks.slots.lock() {
                for v in m.values_mut() {
                    *v = Slot::Failed(format!("cannot start the key loader: {e}"));
                }
            }
        }
        ks
    }

    /// The state of `kind`'s keys now.
    pub fn state(&self, kind: StatementKind) -> KeyState {
        let Ok(m) = self.slots.lock() else {
            return KeyState::Failed("key store lock poisoned".into());
        };
        match m.get(&kind) {
            None => KeyState::NotServed,
            Some(Slot::Loading) => KeyState::Loading,
            Some(Slot::Ready(k)) => KeyState::Ready(k.clone()),
            Some(Slot::Failed(e)) => KeyState::Failed(e.clone()),
        }
    }

    /// Waits (blocking) for `kind`'s keys.
    pub fn wait(&self, kind: StatementKind) -> Result<Arc<LoadedKeys>, ProveError> {
        let err = |reason: String| ProveError::Keys {
            kind: kind.as_str(),
            reason,
        };
        let mut m = self
            .slots
            .lock()
            .map_err(|_| err("key store lock poisoned".into()))?;
        loop {
            match m.get(&kind) {
                None => return Err(err("this node does not prove the statement".into())),
                Some(Slot::Ready(k)) => return Ok(k.clone()),
                Some(Slot::Failed(e)) => return Err(err(e.clone())),
                Some(Slot::Loading) => {
                    m = self
                        .ready
                        .wait(m)
                        .map_err(|_| err("key store lock poisoned".into()))?;
                }
            }
        }
    }
}

fn load_or_make(
    dir: &Path,
    kind: StatementKind,
    dev_seed: Option<u64>,
) -> Result<LoadedKeys, String> {
    let kd = KeyDir::new(dir);
    let existing = if kd.proving_key().exists() {
        match kd.load_proving_key(kind, Trust::Trusted) {
            Ok(key) => Some(key),
            // Development keys from a build with another key file layout:
            // the same seed makes the same keys again.
            Err(KeyError::Format {
                source: FormatError::UnsupportedFormat { found, .. },
                ..
            }) if dev_seed.is_some() => {
                tracing::warn!(
                    statement = kind.as_str(),
                    dir = %dir.display(),
                    found,
                    "development keys in another file format: making them again"
                );
                std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                None
            }
            Err(e) => return Err(e.to_string()),
        }
    } else {
        None
    };
    let proving = match (existing, dev_seed) {
        (Some(key), _) => key,
        (None, Some(seed)) => {
            tracing::warn!(
                statement = kind.as_str(),
                dir = %dir.display(),
                "no keys: making INSECURE development keys (dev_keys = true)"
            );
            let keys = match kind {
                StatementKind::Uptime => dev_setup(UptimeCircuit::sample(), seed),
                StatementKind::Bandwidth => dev_setup(BandwidthCircuit::sample(), seed),
                StatementKind::Coverage => {
                    dev_setup(CoverageCircuit::sample().map_err(|e| e.to_string())?, seed)
                }
            }
            .map_err(|e| e.to_string())?;
            // Written beside, then renamed: another server (or process)
            // making the same keys never reads a half-written file.
            keys.publish_dir(dir).map_err(|e| e.to_string())?;
            drop(keys);
            // Proven from the mapped file like keys found at start.
            kd.load_proving_key(kind, Trust::Trusted)
                .map_err(|e| e.to_string())?
        }
        (None, None) => {
            return Err(format!(
                "{} is missing and dev_keys is off",
                kd.proving_key().display()
            ))
        }
    };
    let verifying = proving.verifying_key().map_err(|e| e.to_string())?;
    let vk_bytes = {
        use ark_serialize::CanonicalSerialize;
        let mut v = Vec::new();
        verifying
            .as_arkworks()
            .serialize_compressed(&mut v)
            .map_err(|e| e.to_string())?;
        v
    };
    let vk_json = crate::snarkjs::vk_to_json(verifying.as_arkworks()).map_err(|e| e.to_string())?;
    // The full-capacity circuit's matrices, built once for every proof.
    let prover = Prover::for_statement(proving).map_err(|e| e.to_string())?;
    Ok(LoadedKeys {
        prover,
        verifying,
        vk_bytes,
        vk_json,
    })
}

/// The proving randomness of a job: ChaCha20 seeded with
/// `keccak256(secret || job key || public inputs)`.
pub fn job_rng(secret: &[u8; 32], key: &ChainKey, public: &[Fr]) -> ChaCha20Rng {
    use tiny_keccak::{Hasher, Keccak};
    let mut k = Keccak::v256();
    k.update(b"depin.prover.job-rng.v1");
    k.update(secret);
    k.update(&key.to_bytes());
    for x in public {
        k.update(&fr_to_le_bytes(x));
    }
    let mut seed = [0u8; 32];
    k.finalize(&mut seed);
    ChaCha20Rng::from_seed(seed)
}

/// Reads the node's proving secret from `path`, making it on first use.
pub fn node_secret(path: &Path) -> std::io::Result<[u8; 32]> {
    if let Ok(b) = std::fs::read(path) {
        if let Ok(s) = <[u8; 32]>::try_from(b.as_slice()) {
            return Ok(s);
        }
    }
    let mut s = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut s);
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&s)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(s)
}

/// The function [`claim_calldata`] calls.
pub const CLAIM_FUNCTION: &str = "claim(uint256[8],uint256[])";

/// ABI-encoded `claim(uint256[8] proof, uint256[] publicInputs)`: the
/// selector, the eight proof words in the verifier's order
/// (`crate::solidity::proof_words`), the offset of the array, its length
/// and its elements.
pub fn claim_calldata(proof: &StatementProof) -> Vec<u8> {
    use ark_ff::{BigInteger, PrimeField};
    use tiny_keccak::{Hasher, Keccak};
    let mut sel = [0u8; 32];
    let mut k = Keccak::v256();
    k.update(CLAIM_FUNCTION.as_bytes());
    k.finalize(&mut sel);
    let word_u = |v: u64| {
        let mut w = [0u8; 32];
        w[24..].copy_from_slice(&v.to_be_bytes());
        w
    };
    let mut out = Vec::with_capacity(4 + 32 * (10 + proof.public.len()));
    out.extend_from_slice(&sel[..4]);
    for w in crate::solidity::proof_words(&proof.proof) {
        out.extend_from_slice(&w.into_bigint().to_bytes_be());
    }
    out.extend_from_slice(&word_u(32 * 9));
    out.extend_from_slice(&word_u(proof.public.len() as u64));
    for x in &proof.public {
        out.extend_from_slice(&x.into_bigint().to_bytes_be());
    }
    out
}
