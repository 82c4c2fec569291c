//! Realistic example epochs, signed by public example keys.
//!
//! `examples/keys/` holds hex private keys derived deterministically from
//! their labels ([`example_private_key`]): one device per statement
//! (`device-uptime`, `device-bandwidth`, `device-coverage`), the bandwidth
//! clients (`client-0` to `client-5`) and the coverage witnesses
//! (`witness-0` to `witness-11`). They are public: never use them for
//! anything real.
//!
//! [`generate`] builds one statement's example epoch from those key files,
//! deterministically (EdDSA-Poseidon signatures are deterministic), and
//! [`regenerate_all`] writes the keys and the three epochs under
//! `examples/`. Each example mixes honest records with a few that the
//! statement's rules reject, so that the verdicts are worth looking at:
//!
//! | statement | records | accepted | rejected | reward |
//! | --- | --- | --- | --- | --- |
//! | uptime | 92 heartbeats (slots 17, 18, 55, 71 missed) | 89 | 2 `latency_too_high`, 1 `wrong_challenge` | 2025 |
//! | bandwidth | 20 receipts from 6 clients | 17 | 1 `implausible_throughput`, 1 `client_not_registered`, 1 `duplicate` | 69038 (MiB accepted) |
//! | coverage | 14 witness reports | 9 | 1 each `too_close`, `too_far`, `signal_too_strong`, `self_witness`, `duplicate` | 90 |

use ark_ff::PrimeField;
use blake_hash::{Blake512, Digest};
use depin_crypto::eddsa::PrivateKey;
use depin_crypto::geo::{check_path_loss, distance_sq, k_q32_for_mhz, PathLoss};
use depin_crypto::merkle::{MerkleError, MerkleTree};
use depin_crypto::Fr;
use depin_statements::epoch::{BandwidthEpoch, CoverageEpoch, EpochInput, InputError, UptimeEpoch};
use depin_statements::records::{
    beacon_id, challenge, CoSignedReceipt, CoverageClaim, HashChain, Heartbeat, Location,
    RegistryProof, SessionReceipt, SignedHead, SignedWitnessReport, WitnessReport,
};
use depin_statements::{
    BandwidthPolicy, CoveragePolicy, StatementKind, UptimePolicy, REGISTRY_DEPTH,
};
use std::path::{Path, PathBuf};

/// The epoch of every example: day 20250 since 1970-01-01 (2025-06-11).
pub const EXAMPLE_EPOCH: u32 = 20_250;

/// Label of the uptime example's device key.
pub const DEVICE_UPTIME: &str = "device-uptime";
/// Label of the bandwidth example's device key.
pub const DEVICE_BANDWIDTH: &str = "device-bandwidth";
/// Label of the coverage example's device key.
pub const DEVICE_COVERAGE: &str = "device-coverage";
/// Number of client keys (`client-0` ..); the last one is not in the
/// current registry.
pub const CLIENTS: usize = 6;
/// Number of witness keys (`witness-0` ..).
pub const WITNESSES: usize = 12;

/// Domain of the key derivation (see [`example_private_key`]).
const KEY_DOMAIN: &str = "depin-zk example key v1: ";
/// Domain of the beacon derivation (see [`example_beacon`]).
const BEACON_DOMAIN: &str = "depin-zk example beacon v1: epoch ";

/// Why an example could not be written or generated.
#[derive(Debug, thiserror::Error)]
pub enum ExampleError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key file is not 64 hex digits.
    #[error("{}: a key file holds 64 hex digits (32 bytes), optionally 0x-prefixed", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
    },
    /// The client registry could not be built (never expected).
    #[error("client registry: {0}")]
    Registry(#[from] MerkleError),
    /// The epoch could not be serialized (never expected).
    #[error(transparent)]
    Input(#[from] InputError),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExampleError + '_ {
    move |source| ExampleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// Keys.

/// The example private key of `label`: the first 32 bytes of
/// `BLAKE-512("depin-zk example key v1: " || label)`. Public by
/// construction; never use it for anything real.
pub fn example_private_key(label: &str) -> PrivateKey {
    let digest = Blake512::digest(format!("{KEY_DOMAIN}{label}").as_bytes());
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest[..32]);
    PrivateKey::from_bytes(bytes)
}

/// The labels of every example key, in file order: the three devices, then
/// `client-0` .. `client-5`, then `witness-0` .. `witness-11`.
pub fn key_labels() -> Vec<String> {
    let mut labels: Vec<String> = [DEVICE_UPTIME, DEVICE_BANDWIDTH, DEVICE_COVERAGE]
        .iter()
        .map(|s| s.to_string())
        .collect();
    labels.extend((0..CLIENTS).map(client_label));
    labels.extend((0..WITNESSES).map(witness_label));
    labels
}

fn client_label(i: usize) -> String {
    format!("client-{i}")
}

fn witness_label(i: usize) -> String {
    format!("witness-{i}")
}

/// The README written beside the example keys.
pub const KEYS_README: &str = "\
# Example keys (public: never use them for anything real)

These EdDSA-Poseidon (Baby Jubjub) private keys sign the example epochs in
`examples/epochs/`. Each file holds 64 hex digits (32 bytes, the byte order
circomlibjs's `prv2pub` reads) and a newline.

They are **public test keys**, derived from their file name by
`depin_testkit::examples::example_private_key`: the first 32 bytes of
`BLAKE-512(\"depin-zk example key v1: \" || label)`. Anyone can recompute
them. Never register them on a real network, never fund their addresses,
never use them to sign anything that matters.

- `device-uptime.key`, `device-bandwidth.key`, `device-coverage.key`: the
  device of each example.
- `client-0.key` .. `client-5.key`: bandwidth clients; `client-0` to
  `client-4` are in the example registry, `client-5` was removed from it.
- `witness-0.key` .. `witness-11.key`: coverage witnesses.

Regenerate with `scripts/regen.sh` (it calls
`depin_testkit::examples::regenerate_all`).
";

/// The files of `examples/keys/`: `(file name, contents)` for every key
/// (`<label>.key`, 64 lowercase hex digits and a newline) and `README.md`.
pub fn key_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = key_labels()
        .into_iter()
        .map(|label| {
            let key = example_private_key(&label);
            (format!("{label}.key"), hex::encode(key.as_bytes()) + "\n")
        })
        .collect();
    files.push(("README.md".to_string(), KEYS_README.to_string()));
    files
}

/// Writes the example keys and their README into `dir` (created if
/// missing), overwriting existing files.
pub fn write_example_keys(dir: &Path) -> Result<Vec<PathBuf>, ExampleError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut written = Vec::new();
    for (name, contents) in key_files() {
        let path = dir.join(name);
        std::fs::write(&path, contents).map_err(io_error(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// Reads the key `<label>.key` from `dir`: 64 hex digits, optionally
/// `0x`-prefixed, surrounding whitespace ignored. Errors never repeat key
/// material.
pub fn load_key(dir: &Path, label: &str) -> Result<PrivateKey, ExampleError> {
    let path = dir.join(format!("{label}.key"));
    let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
    let digits = text.trim();
    let digits = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(digits);
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(digits, &mut bytes).map_err(|_| ExampleError::BadKey { path })?;
    Ok(PrivateKey::from_bytes(bytes))
}

// ---------------------------------------------------------------------------
// Generation.

/// The example beacon of `epoch`: `BLAKE-512("depin-zk example beacon v1:
/// epoch " || epoch)` reduced modulo the field (what a network would publish
/// as the epoch's randomness).
pub fn example_beacon(epoch: u32) -> Fr {
    let digest = Blake512::digest(format!("{BEACON_DOMAIN}{epoch}").as_bytes());
    Fr::from_le_bytes_mod_order(&digest)
}

/// Builds the example epoch of `statement` from the keys in `keys_dir`.
pub fn build(statement: StatementKind, keys_dir: &Path) -> Result<EpochInput, ExampleError> {
    Ok(match statement {
        StatementKind::Uptime => uptime_example(keys_dir)?.into(),
        StatementKind::Bandwidth => bandwidth_example(keys_dir)?.into(),
        StatementKind::Coverage => coverage_example(keys_dir)?.into(),
    })
}

/// The example epoch of `statement` as JSON, exactly as committed in
/// `examples/epochs/<statement>.json`.
pub fn generate(statement: StatementKind, keys_dir: &Path) -> Result<String, ExampleError> {
    Ok(build(statement, keys_dir)?.to_json()?)
}

/// The three statements, in the order examples are written.
pub const STATEMENTS: [StatementKind; 3] = [
    StatementKind::Uptime,
    StatementKind::Bandwidth,
    StatementKind::Coverage,
];

/// `examples/keys` under the repository root.
pub fn keys_dir(repo_root: &Path) -> PathBuf {
    repo_root.join("examples").join("keys")
}

/// `examples/epochs/<statement>.json` under the repository root.
pub fn epoch_path(repo_root: &Path, statement: StatementKind) -> PathBuf {
    repo_root
        .join("examples")
        .join("epochs")
        .join(format!("{}.json", statement.as_str()))
}

/// Writes `examples/keys/` (keys and README) and
/// `examples/epochs/{uptime,bandwidth,coverage}.json` and their README under
/// `repo_root`, and returns the paths written. Running it twice writes the
/// same bytes.
pub fn regenerate_all(repo_root: &Path) -> Result<Vec<PathBuf>, ExampleError> {
    let keys = keys_dir(repo_root);
    let mut written = write_example_keys(&keys)?;
    let epochs = repo_root.join("examples").join("epochs");
    std::fs::create_dir_all(&epochs).map_err(io_error(&epochs))?;
    for statement in STATEMENTS {
        let json = generate(statement, &keys)?;
        let path = epoch_path(repo_root, statement);
        std::fs::write(&path, json).map_err(io_error(&path))?;
        written.push(path);
    }
    let readme = epochs.join("README.md");
    std::fs::write(&readme, EPOCHS_README).map_err(io_error(&readme))?;
    written.push(readme);
    Ok(written)
}

// --- Uptime ----------------------------------------------------------------

/// The uptime example's policy: 96 slots, paid from 48 counted slots,
/// 250 ms latency bound, `1000 + 25 * (c - 48)` capped at 3000.
pub fn uptime_policy() -> UptimePolicy {
    UptimePolicy {
        slots_per_epoch: 96,
        floor_slots: 48,
        max_latency_ms: 250,
        base_reward: 1000,
        reward_per_slot: 25,
        reward_cap: 3000,
    }
}

/// Slots the device missed (powered off at night, a reboot).
const UPTIME_MISSED: [u32; 4] = [17, 18, 55, 71];
/// Slots whose latency spiked over the bound, with the latency.
const UPTIME_SPIKES: [(u32, u32); 2] = [(30, 1_250), (83, 412)];
/// The slot answered with the previous slot's (stale) response.
const UPTIME_STALE_SLOT: u32 = 64;

fn uptime_example(keys_dir: &Path) -> Result<UptimeEpoch, ExampleError> {
    let key = load_key(keys_dir, DEVICE_UPTIME)?;
    let device = key.public_key();
    let id = device.id();
    let epoch = EXAMPLE_EPOCH;
    let beacon = example_beacon(epoch);
    let policy = uptime_policy();

    let mut heartbeats = Vec::new();
    let mut chain = HashChain::uptime(id, epoch);
    for slot in 0..policy.slots_per_epoch {
        if UPTIME_MISSED.contains(&slot) {
            continue;
        }
        // A plausible round trip: 30 to 158 ms, slower in the evening peak.
        let evening = if (72..88).contains(&slot) { 40 } else { 0 };
        let normal = 30 + (slot * 37 + 11) % 90 / 2 + (slot * 13) % 45 + evening;
        let latency_ms = UPTIME_SPIKES
            .iter()
            .find(|(s, _)| *s == slot)
            .map_or(normal, |(_, l)| *l);
        let mut hb = Heartbeat::answer(beacon, id, slot, latency_ms);
        if slot == UPTIME_STALE_SLOT {
            hb.response = challenge(beacon, id, slot - 1);
        }
        chain.push(hb.message());
        heartbeats.push(hb);
    }
    let head = chain.head();
    Ok(UptimeEpoch {
        device,
        epoch,
        beacon,
        policy,
        heartbeats,
        signed_head: SignedHead {
            head,
            signature: key.sign(&head),
        },
    })
}

// --- Bandwidth -------------------------------------------------------------

/// The bandwidth example's policy: 12.5 MB/s (100 Mbit/s) per session, one
/// unit per MiB, capped at 1,000,000.
pub fn bandwidth_policy() -> BandwidthPolicy {
    BandwidthPolicy {
        max_bytes_per_s: 12_500_000,
        rate_num: 1,
        rate_shift: 20,
        reward_cap: 1_000_000,
    }
}

/// Clients in the current registry (`client-0` .. `client-4`); `client-5`
/// is only in the previous one.
const REGISTERED_CLIENTS: usize = 5;

/// `(session, client, duration_s, bytes)` in submission order.
///
/// - session 7 claims 5 GB in one minute: implausible throughput;
/// - session 12 is co-signed by `client-5`, removed from the registry, who
///   presents its membership proof from the previous registry;
/// - session 9 is submitted twice (the client re-signed a retried upload).
const SESSIONS: [(u32, usize, u32, u64); 20] = [
    (1, 0, 1_820, 2_431_907_112),
    (2, 1, 640, 418_233_781),
    (3, 2, 3_600, 9_874_120_455),
    (4, 3, 95, 61_204_993),
    (5, 4, 2_710, 5_120_338_004),
    (6, 0, 430, 1_702_116_380),
    (7, 2, 60, 5_000_000_000),
    (8, 1, 5_400, 14_860_525_117),
    (9, 3, 1_250, 3_902_776_540),
    (10, 4, 310, 155_874_002),
    (11, 0, 2_045, 7_331_093_228),
    (12, 5, 900, 2_210_498_760),
    (13, 1, 75, 21_990_412),
    (14, 2, 4_180, 11_505_873_990),
    (15, 3, 820, 990_312_645),
    (16, 4, 1_530, 4_406_117_832),
    (9, 3, 1_310, 4_015_221_906),
    (17, 0, 260, 803_557_129),
    (18, 1, 3_320, 6_117_840_271),
    (19, 2, 1_005, 2_688_003_519),
];

fn registry_proof(tree: &MerkleTree, index: usize) -> Result<RegistryProof, ExampleError> {
    let p = tree.proof(index as u64)?;
    let mut siblings = [Fr::from(0u64); REGISTRY_DEPTH];
    for (dst, src) in siblings.iter_mut().zip(&p.siblings) {
        *dst = *src;
    }
    Ok(RegistryProof {
        // Indices are below CLIENTS.
        index: u16::try_from(index).unwrap_or(u16::MAX),
        siblings,
    })
}

fn bandwidth_example(keys_dir: &Path) -> Result<BandwidthEpoch, ExampleError> {
    let key = load_key(keys_dir, DEVICE_BANDWIDTH)?;
    let device = key.public_key();
    let id = device.id();
    let epoch = EXAMPLE_EPOCH;
    let clients = (0..CLIENTS)
        .map(|i| load_key(keys_dir, &client_label(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<Fr> = clients.iter().map(|k| k.public_key().id()).collect();
    let registry = MerkleTree::new(REGISTRY_DEPTH, &ids[..REGISTERED_CLIENTS])?;
    let previous = MerkleTree::new(REGISTRY_DEPTH, &ids)?;

    let mut receipts = Vec::with_capacity(SESSIONS.len());
    let mut chain = HashChain::bandwidth(id, epoch);
    for &(session, client, duration_s, bytes) in &SESSIONS {
        let client_key = &clients[client];
        let receipt = SessionReceipt {
            device_id: id,
            client_id: ids[client],
            epoch,
            session,
            bytes,
            duration_s,
        };
        let tree = if client < REGISTERED_CLIENTS {
            &registry
        } else {
            &previous
        };
        receipts.push(CoSignedReceipt {
            receipt,
            client_key: client_key.public_key(),
            client_signature: client_key.sign(&receipt.message()),
            registry_proof: registry_proof(tree, client)?,
        });
        chain.push(receipt.message());
    }
    let head = chain.head();
    Ok(BandwidthEpoch {
        device,
        epoch,
        beacon: example_beacon(epoch),
        policy: bandwidth_policy(),
        registry_root: registry.root(),
        receipts,
        signed_head: SignedHead {
            head,
            signature: key.sign(&head),
        },
    })
}

// --- Coverage --------------------------------------------------------------

/// The coverage example's policy: paid from 3 witnesses, 10 each, capped at
/// 100; witnesses between 300 m and 20 km; 27 dBm EIRP at 915 MHz; 4 km
/// cells.
pub fn coverage_policy() -> CoveragePolicy {
    CoveragePolicy {
        min_witnesses: 3,
        reward_per_witness: 10,
        reward_cap: 100,
        min_distance_m: 300,
        max_distance_m: 20_000,
        eirp_dbm: 27,
        k_q32: k_q32_for_mhz(915),
        cell_bits: 12,
    }
}

/// The coverage device's (private) location on the network's grid.
pub const COVERAGE_HOME: Location = Location {
    x: 583_960,
    y: 4_507_523,
};

/// Who signs a witness report.
#[derive(Clone, Copy)]
enum Signer {
    Witness(usize),
    Device,
}

/// How a report's RSSI is chosen.
#[derive(Clone, Copy)]
enum Signal {
    /// Free-space loss at the distance plus this many dB of obstruction.
    Margin(u32),
    /// A fixed reading.
    Fixed(i32),
}

/// `(signer, east offset m, north offset m, signal)` in submission order.
const WITNESS_REPORTS: [(Signer, i32, i32, Signal); 14] = [
    (Signer::Witness(0), 1_200, 350, Signal::Margin(6)),
    (Signer::Witness(1), -2_450, 1_100, Signal::Margin(14)),
    // 114 m away: co-located with the device.
    (Signer::Witness(9), 90, -70, Signal::Margin(3)),
    (Signer::Witness(2), 640, -3_870, Signal::Margin(9)),
    (Signer::Witness(3), -5_300, -2_200, Signal::Margin(17)),
    // The device witnessing its own beacon under its own key.
    (Signer::Device, 1_500, -900, Signal::Margin(8)),
    (Signer::Witness(4), 3_900, 4_600, Signal::Margin(4)),
    (Signer::Witness(5), -820, 6_900, Signal::Margin(21)),
    // 22.8 km away: beyond the maximum distance.
    (Signer::Witness(10), 21_000, 9_000, Signal::Margin(2)),
    (Signer::Witness(6), 7_400, -1_300, Signal::Margin(12)),
    // witness-3 again, a second reading of the same beacon.
    (Signer::Witness(3), -5_300, -2_200, Signal::Margin(19)),
    (Signer::Witness(7), -1_500, -650, Signal::Margin(25)),
    // -52 dBm at 5.3 km: 79 dB of loss where free space alone loses 106 dB.
    (Signer::Witness(11), -4_100, 3_300, Signal::Fixed(-52)),
    (Signer::Witness(8), 9_800, 2_700, Signal::Margin(10)),
];

/// The smallest whole-dB loss that free space allows at `d2`, plus
/// `margin`, as an RSSI: integer arithmetic only, so that generation is
/// exact on every platform.
fn rssi_with_margin(policy: &CoveragePolicy, d2: u64, margin: u32) -> i32 {
    let eirp = policy.eirp_dbm;
    let min_loss = (0..=199)
        .find(|loss| check_path_loss(d2, eirp, eirp - loss, policy.k_q32) == PathLoss::Plausible)
        .unwrap_or(199);
    // The witness reports its RSSI in whole dBm.
    eirp - (min_loss + margin as i32).min(199)
}

fn offset(base: u32, delta: i32) -> u32 {
    base.checked_add_signed(delta).unwrap_or(base)
}

fn coverage_example(keys_dir: &Path) -> Result<CoverageEpoch, ExampleError> {
    let key = load_key(keys_dir, DEVICE_COVERAGE)?;
    let device = key.public_key();
    let id = device.id();
    let epoch = EXAMPLE_EPOCH;
    let beacon = example_beacon(epoch);
    let policy = coverage_policy();
    let witnesses = (0..WITNESSES)
        .map(|i| load_key(keys_dir, &witness_label(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let heard = beacon_id(beacon, id);

    let claim = CoverageClaim {
        device_id: id,
        epoch,
        location: COVERAGE_HOME,
        beacon_id: heard,
    };
    let mut reports = Vec::with_capacity(WITNESS_REPORTS.len());
    for &(signer, dx, dy, signal) in &WITNESS_REPORTS {
        let signer = match signer {
            Signer::Witness(i) => &witnesses[i],
            Signer::Device => &key,
        };
        let location = Location {
            x: offset(COVERAGE_HOME.x, dx),
            y: offset(COVERAGE_HOME.y, dy),
        };
        let d2 =
            distance_sq((COVERAGE_HOME.x, COVERAGE_HOME.y), (location.x, location.y)).unwrap_or(0);
        let rssi_dbm = match signal {
            Signal::Margin(m) => rssi_with_margin(&policy, d2, m),
            Signal::Fixed(v) => v,
        };
        let report = WitnessReport {
            witness: signer.public_key(),
            location,
            rssi_dbm,
            beacon_id: heard,
            epoch,
        };
        reports.push(SignedWitnessReport {
            report,
            signature: signer.sign(&report.message()),
        });
    }
    Ok(CoverageEpoch {
        device,
        epoch,
        beacon,
        policy,
        claim,
        claim_signature: key.sign(&claim.message()),
        reports,
    })
}

/// The README written beside the example epochs.
pub const EPOCHS_README: &str = r#"# Example epochs

One device's epoch per statement, signed by the public example keys in
`../keys/` (never use them for anything real). They are what
`depin-prover prove --statement S --keys DIR --input examples/epochs/S.json
--out DIR` reads, and they double as test fixtures: `prover/testkit/tests/examples.rs`
checks that each parses, that the native reference gives the verdicts below,
and that regenerating them (`scripts/regen.sh`, through
`depin_testkit::examples::regenerate_all`) writes exactly these bytes.

| file | records | accepted | rejected | reward |
| --- | --- | --- | --- | --- |
| `uptime.json` | 92 heartbeats: slots 17, 18, 55 and 71 missed | 89 | 2 `latency_too_high` (slots 30, 83), 1 `wrong_challenge` (slot 64 answers slot 63's challenge) | 2025 |
| `bandwidth.json` | 20 receipts co-signed by 6 clients | 17 | 1 `implausible_throughput` (5 GB in 60 s), 1 `client_not_registered` (`client-5`, removed from the registry, shows its old proof), 1 `duplicate` (session 9 again) | 69038 (MiB) |
| `coverage.json` | 14 witness reports | 9 | 1 each `too_close` (114 m), `self_witness` (the device's own key), `too_far` (22.8 km), `duplicate` (`witness-3` again), `signal_too_strong` (-52 dBm at 5.3 km) | 90 |

## Format

A JSON object tagged by `statement` (`uptime`, `bandwidth`, `coverage`) and
`version` (1). Field elements are canonical decimal strings below the BN254
scalar field modulus (never reduced); points are `{x, y}` in circomlib's
Baby Jubjub coordinates and must be on the curve; a signature is
`{r8: {x, y}, s}` with `s` a decimal integer below 2^256; integers are JSON
numbers within their type (`u16`, `u32`, `u64`, `i32`). Unknown, duplicate
or missing fields, out-of-range values, an invalid policy and more records
than the statement's capacity (96 heartbeats, 32 receipts, 16 reports) are
refused with an error naming the field, e.g.
`heartbeats[3].slot: expected an unsigned integer below 2^32, got 4294967296`.
Field names are those of `depin_statements::records`; `docs/statements.md`
gives every rule.

Uptime (abbreviated):

```json
{
  "statement": "uptime",
  "version": 1,
  "device": { "x": "4238…1193", "y": "1582…1286" },
  "epoch": 20250,
  "beacon": "1295…0214",
  "policy": { "slots_per_epoch": 96, "floor_slots": 48, "max_latency_ms": 250,
              "base_reward": 1000, "reward_per_slot": 25, "reward_cap": 3000 },
  "heartbeats": [ { "slot": 0, "response": "1534…2622", "latency_ms": 35 }, … ],
  "signed_head": { "head": "…", "signature": { "r8": { "x": "…", "y": "…" }, "s": "…" } }
}
```

Bandwidth (abbreviated; `siblings` has exactly 16 entries, leaf level
first):

```json
{
  "statement": "bandwidth",
  "version": 1,
  "device": { "x": "…", "y": "…" },
  "epoch": 20250,
  "beacon": "…",
  "policy": { "max_bytes_per_s": 12500000, "rate_num": 1, "rate_shift": 20, "reward_cap": 1000000 },
  "registry_root": "1024…1447",
  "receipts": [
    {
      "receipt": { "device_id": "1936…8872", "client_id": "8588…1787", "epoch": 20250,
                   "session": 1, "bytes": 2431907112, "duration_s": 1820 },
      "client_key": { "x": "…", "y": "…" },
      "client_signature": { "r8": { "x": "…", "y": "…" }, "s": "…" },
      "registry_proof": { "index": 0, "siblings": [ "1999…9963", … ] }
    },
    …
  ],
  "signed_head": { "head": "…", "signature": { "r8": { "x": "…", "y": "…" }, "s": "…" } }
}
```

Coverage (abbreviated; no `signed_head`: the device signs its claim):

```json
{
  "statement": "coverage",
  "version": 1,
  "device": { "x": "…", "y": "…" },
  "epoch": 20250,
  "beacon": "…",
  "policy": { "min_witnesses": 3, "reward_per_witness": 10, "reward_cap": 100,
              "min_distance_m": 300, "max_distance_m": 20000, "eirp_dbm": 27,
              "k_q32": 2919707, "cell_bits": 12 },
  "claim": { "device_id": "1840…4473", "epoch": 20250,
             "location": { "x": 583960, "y": 4507523 }, "beacon_id": "2043…3875" },
  "claim_signature": { "r8": { "x": "…", "y": "…" }, "s": "…" },
  "reports": [
    {
      "report": { "witness": { "x": "…", "y": "…" }, "location": { "x": 585160, "y": 4507873 },
                  "rssi_dbm": -73, "beacon_id": "2043…3875", "epoch": 20250 },
      "signature": { "r8": { "x": "…", "y": "…" }, "s": "…" }
    },
    …
  ]
}
```
"#;
