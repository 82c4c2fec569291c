//! From stored records to a proof: a device's epoch loaded from the store as
//! the one epoch type (`depin_statements::epoch::EpochInput`), the
//! reference's evaluation, and the proof by the statement's proof system,
//! whose keys are loaded once and shared by every worker behind
//! `depin_proving::ProofSystem`: Groth16 (a ceremony's `final.zkey`, or the
//! packed key) or halo2 (`<kind>/halo2/`, the proving key made at start
//! from the KZG parameters), as the configuration says per statement.
//!
//! Proof randomness is derived from a secret of the node and the job (like
//! deterministic signature nonces), so a Groth16 job retried after a crash
//! or a restart produces the very same proof (a halo2 proof draws part of
//! its blinding from the operating system: a retried job gives another
//! proof of the same public inputs).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use depin_circom::ZkeySystem;
use depin_crypto::eddsa::{PublicKey, Signature};
use depin_crypto::field::fr_to_le_bytes;
use depin_crypto::merkle::MerkleTree;
use depin_groth16::Groth16System;
use depin_halo2_prover::keys::statement_k;
use depin_halo2_prover::system::load_or_dev_params;
use depin_halo2_prover::Halo2System;
use depin_proto::convert::fr_pb;
use depin_proving::{Backend, ProofSystem, ProvingError};
use depin_statements::coverage::CoverageInput;
use depin_statements::epoch::{BandwidthEpoch, CoverageEpoch, EpochInput, UptimeEpoch};
use depin_statements::records::{
    beacon_id, CoSignedReceipt, CoverageClaim, RegistryProof, SignedHead, SignedWitnessReport,
};
use depin_statements::{EvalError, Fr, StatementKind, Verdict, COVERAGE_CAPACITY, REGISTRY_DEPTH};
use depin_store::{ChainKey, EpochConfig, Store, StoreError, StoredRecord};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Why an epoch could not be proven.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// Something the proof needs is missing (no records, no claim).
    #[error("{0}")]
    Missing(String),
    /// The reference refused the input.
    #[error("the native reference refused the epoch: {0}")]
    Eval(#[from] EvalError),
    /// Proving failed.
    #[error("proving: {0}")]
    Proving(#[from] ProvingError),
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
    Store(#[from] StoreError),
}

/// Registry trees of epoch snapshots, built once per size.
#[derive(Debug, Default)]
pub struct Registries {
    trees: Mutex<HashMap<u32, Arc<MerkleTree>>>,
}

impl Registries {
    /// The tree of the first `size` clients.
    pub async fn tree(&self, store: &dyn Store, size: u32) -> Result<Arc<MerkleTree>, ProveError> {
        if let Some(t) = self.trees.lock().ok().and_then(|m| m.get(&size).cloned()) {
            return Ok(t);
        }
        let ids = store.client_ids(size).await?;
        let tree = tokio::task::spawn_blocking(move || MerkleTree::new(REGISTRY_DEPTH, &ids))
            .await
            .map_err(|e| ProveError::Missing(format!("client registry: {e}")))?
            .map_err(|e| ProveError::Missing(format!("client registry: {e}")))?;
        let tree = Arc::new(tree);
        if let Ok(mut m) = self.trees.lock() {
            m.insert(size, tree.clone());
        }
        Ok(tree)
    }
}

/// Loads a device's epoch from the store, as the epoch type every proof
/// system proves.
pub async fn load_epoch(
    store: &dyn Store,
    registries: &Registries,
    key: &ChainKey,
) -> Result<EpochInput, ProveError> {
    let cfg: EpochConfig = store
        .epoch(key.epoch)
        .await?
        .ok_or_else(|| ProveError::Missing(format!("epoch {} is not published", key.epoch)))?;
    let device = store.device(&key.device).await?.ok_or_else(|| {
        ProveError::Missing(format!("device {} is not registered", fr_pb(&key.device)))
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
            let state = store.chain(key).await?.ok_or_else(no_records)?;
            let signature = state.signature.ok_or_else(no_records)?;
            let signed_head = SignedHead {
                head: state.head,
                signature,
            };
            let records = store.records(key).await?;
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
                Ok(EpochInput::Uptime(UptimeEpoch {
                    device,
                    epoch: key.epoch,
                    beacon: cfg.beacon,
                    policy: cfg.uptime,
                    heartbeats,
                    signed_head,
                }))
            } else {
                let tree = registries.tree(store, cfg.registry_size).await?;
                let mut receipts = Vec::with_capacity(records.len());
                for r in &records {
                    let StoredRecord::Receipt(r) = r else {
                        continue;
                    };
                    let registry_proof = match store.client_index(&r.receipt.client_id).await? {
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
                Ok(EpochInput::Bandwidth(BandwidthEpoch {
                    device,
                    epoch: key.epoch,
                    beacon: cfg.beacon,
                    policy: cfg.bandwidth,
                    registry_root: cfg.registry_root,
                    receipts,
                    signed_head,
                }))
            }
        }
        StatementKind::Coverage => {
            let claim = store.claim(&key.device, key.epoch).await?.ok_or_else(|| {
                ProveError::Missing(format!(
                    "no coverage claim of this device in epoch {}",
                    key.epoch
                ))
            })?;
            let bid = beacon_id(cfg.beacon, key.device);
            let all = store.reports(key.epoch, &bid).await?;
            let reports = select_reports(&device, &cfg, &claim.claim, &claim.signature, &all);
            Ok(EpochInput::Coverage(CoverageEpoch {
                device,
                epoch: key.epoch,
                beacon: cfg.beacon,
                policy: cfg.coverage,
                claim: claim.claim,
                claim_signature: claim.signature,
                reports,
            }))
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

enum Slot {
    Loading,
    Ready(Arc<dyn ProofSystem>),
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
    Ready(Arc<dyn ProofSystem>),
    /// Failed to load.
    Failed(String),
}

impl KeyStore {
    /// Starts loading the keys of `kinds`, each for its proof system, from
    /// `dir/<kind>/` (Groth16) or `dir/<kind>/halo2/`, making development
    /// keys from `dev_seed` where missing if `dev_seed` is set.
    pub fn start(
        dir: PathBuf,
        kinds: &[(StatementKind, Backend)],
        dev_seed: Option<u64>,
    ) -> Arc<Self> {
        let ks = Arc::new(KeyStore {
            slots: Mutex::new(kinds.iter().map(|(k, _)| (*k, Slot::Loading)).collect()),
            ready: Condvar::new(),
        });
        let kinds = kinds.to_vec();
        let bg = ks.clone();
        let spawned = std::thread::Builder::new()
            .name("key-loader".into())
            .spawn(move || {
                for (kind, backend) in kinds {
                    let started = std::time::Instant::now();
                    let dir = key_dir(&dir, kind, backend);
                    let loaded = match backend {
                        Backend::Groth16 => load_or_make(&dir, kind, dev_seed),
                        Backend::Halo2 => load_or_make_halo2(&dir, kind, dev_seed),
                    };
                    let slot = match loaded {
                        Ok(k) => {
                            tracing::info!(
                                statement = kind.as_str(),
                                backend = %k.backend(),
                                seconds = started.elapsed().as_secs_f64(),
                                "keys ready"
                            );
                            Slot::Ready(k)
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
    pub fn wait(&self, kind: StatementKind) -> Result<Arc<dyn ProofSystem>, ProveError> {
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

/// `kind`'s keys from `dir`: a ceremony's key (`final.zkey`) where there is
/// one, else the packed Groth16 key, development keys being made from
/// `dev_seed` where missing.
fn load_or_make(
    dir: &Path,
    kind: StatementKind,
    dev_seed: Option<u64>,
) -> Result<Arc<dyn ProofSystem>, String> {
    let zkey = dir.join(depin_circom::system::ZKEY_FILE);
    if zkey.exists() {
        let system =
            ZkeySystem::load(&zkey, kind).map_err(|e| format!("{}: {e}", zkey.display()))?;
        return Ok(Arc::new(system));
    }
    if dev_seed.is_some() && !dir.join(depin_groth16::keys::PROVING_KEY_FILE).exists() {
        tracing::warn!(
            statement = kind.as_str(),
            dir = %dir.display(),
            "no keys: making INSECURE development keys (dev_keys = true)"
        );
    }
    let system = Groth16System::load_or_dev(dir, kind, dev_seed).map_err(|e| e.to_string())?;
    Ok(Arc::new(system))
}

/// The directory of `kind`'s keys for `backend` under the node's key
/// directory `keys`: `<keys>/<kind>/` (Groth16), `<keys>/<kind>/halo2/`.
pub fn key_dir(keys: &Path, kind: StatementKind, backend: Backend) -> PathBuf {
    let dir = keys.join(kind.as_str());
    match backend {
        Backend::Groth16 => dir,
        Backend::Halo2 => dir.join("halo2"),
    }
}

/// `kind`'s halo2 keys from the key directory `dir` (as `depin-prover
/// setup --backend halo2` writes it): the KZG parameters of the
/// statement's size, development ones made from `dev_seed` where missing;
/// the keys generated from them. A directory that already holds a
/// verifying key must hold this one (else the parameters or the circuit
/// changed, and the deployed verifier would refuse every proof); one that
/// does not gets the verifying key, shape and summary written, for
/// `depin-prover export-verifier --backend halo2`.
fn load_or_make_halo2(
    dir: &Path,
    kind: StatementKind,
    dev_seed: Option<u64>,
) -> Result<Arc<dyn ProofSystem>, String> {
    let k = statement_k(kind);
    let params_path = dir.join(depin_halo2_prover::system::params_file(k));
    if dev_seed.is_some() && !params_path.exists() {
        tracing::warn!(
            statement = kind.as_str(),
            dir = %dir.display(),
            "no KZG parameters: making INSECURE development parameters (dev_keys = true)"
        );
    }
    let params = load_or_dev_params(dir, k, dev_seed).map_err(|e| e.to_string())?;
    let system = Halo2System::from_params(&params, kind).map_err(|e| e.to_string())?;
    let vk_path = dir.join(depin_halo2_prover::keys::VERIFYING_KEY_FILE);
    match std::fs::read(&vk_path) {
        Ok(committed) if committed == system.keys().verifying_key_bytes() => {}
        Ok(_) => {
            return Err(format!(
                "{}: the parameters give another verifying key (keys of other parameters, or of \
                 another circuit version): remove the directory's keys to make them again, and \
                 deploy their verifier",
                vk_path.display()
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            system
                .keys()
                .write_dir(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        Err(e) => return Err(format!("{}: {e}", vk_path.display())),
    }
    Ok(Arc::new(system))
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

/// Reads the node's proving secret from `path`, making it on first use,
/// whole or not at all ([`depin_durable`]; the leftovers of a start killed
/// while making it are removed). A file of another length is refused,
/// never rewritten. A new secret is owner-only (0600, in directories made
/// 0700) from the moment it exists.
pub fn node_secret(path: &Path) -> std::io::Result<[u8; 32]> {
    use std::io::{Error, ErrorKind};
    depin_durable::remove_stale(path)?;
    let read = |path: &Path| -> std::io::Result<[u8; 32]> {
        let b = std::fs::read(path)?;
        <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidData,
                format!(
                    "{}: {} bytes, a node secret has 32: restore it from a backup, or remove \
                     it to make a new one (a job retried after that gives another proof)",
                    path.display(),
                    b.len()
                ),
            )
        })
    };
    match read(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let mut s = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut s);
            if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                depin_durable::create_private_dir_all(d)?;
            }
            if depin_durable::create_file(path, &s)? {
                Ok(s)
            } else {
                read(path)
            }
        }
        other => other,
    }
}
