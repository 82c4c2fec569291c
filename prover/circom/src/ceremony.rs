//! One function per step of a deployment's trusted setup and of proving
//! from its key, each taking paths and options and returning a report of
//! what it did (what a command-line tool prints):
//!
//! | step | function |
//! | --- | --- |
//! | export a circuit as `.r1cs` | [`export_r1cs`] |
//! | export a witness as `.wtns` | [`export_wtns`] |
//! | a development `.ptau` (insecure) | [`ptau_dev`] |
//! | check a `.ptau` against its published hash | [`ptau_check`] |
//! | the initial `.zkey` | [`zkey_new`] (from a circuit), [`zkey_new_from_r1cs`] |
//! | a contribution | [`zkey_contribute`] |
//! | the closing beacon | [`zkey_beacon`] |
//! | verify a `.zkey` | [`zkey_verify`] (circuit and `.ptau`), [`zkey_verify_r1cs`], [`zkey_verify_from_init`] |
//! | export the verifying key | [`zkey_export_vk`] |
//! | prove from a `.zkey` | [`prove`] |
//!
//! Circuits are arkworks `ConstraintSynthesizer`s carrying their witness
//! (the statements of `depin-statements-r1cs` built from an epoch).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Proof, VerifyingKey};
use ark_relations::gr1cs::ConstraintSynthesizer;
use depin_prover_core::groth16::{synthesize_witness, Groth16Error};
use rand::rngs::OsRng;

use crate::blake2b::{format_hash, DIGEST_LEN};
use crate::prove::{ProveError, ProveTimings, ZkeyProver};
use crate::ptau::{self, Ptau, PtauError};
use crate::r1cs::{R1cs, R1csError};
use crate::wtns::{self, WtnsError};
use crate::zkey::{self, verify, Layout, Transcript, Zkey, ZkeyError};
use depin_evm::snarkjs as json;

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// An `.r1cs` step.
    #[error(transparent)]
    R1cs(#[from] R1csError),
    /// A `.wtns` step.
    #[error(transparent)]
    Wtns(#[from] WtnsError),
    /// A `.ptau` step.
    #[error(transparent)]
    Ptau(#[from] PtauError),
    /// A `.zkey` step.
    #[error(transparent)]
    Zkey(#[from] ZkeyError),
    /// Proving.
    #[error(transparent)]
    Prove(#[from] ProveError),
    /// The witness could not be computed.
    #[error("witness: {0}")]
    Witness(#[from] Groth16Error),
    /// Writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// JSON output.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A statement's circuit could not be built from its epoch.
    #[error("circuit: {0}")]
    Circuit(#[from] depin_statements_r1cs::CircuitError),
    /// The circuit's public inputs differ from the native reference's.
    #[error("the circuit's public inputs differ from the native reference's")]
    PublicInputs,
    /// The verifying key could not be encoded.
    #[error("encoding the verifying key: {0}")]
    Encode(String),
    /// A development setup without the explicit insecure flag.
    #[error("a development powers of tau comes from a seed and lets whoever knows it forge proofs; pass the explicit insecure flag to make one")]
    InsecureFlagRequired,
    /// A witness for another circuit than the key's.
    #[error("the circuit has {circuit} wires and {circuit_public} public inputs, the key {key} and {key_public}")]
    CircuitMismatch {
        /// The circuit's wires.
        circuit: usize,
        /// The circuit's public inputs.
        circuit_public: usize,
        /// The key's wires.
        key: usize,
        /// The key's public inputs.
        key_public: usize,
    },
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<u64, CeremonyError> {
    std::fs::write(path, bytes).map_err(|source| CeremonyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes.len() as u64)
}

/// What [`export_r1cs`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R1csReport {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Wires (the one included).
    pub wires: u32,
    /// Constraints.
    pub constraints: usize,
    /// Public inputs.
    pub public_inputs: u32,
    /// Private inputs (zero: every witness wire is internal).
    pub private_inputs: u32,
    /// Labels.
    pub labels: u64,
}

impl fmt::Display for R1csReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} bytes\n# of Wires: {}\n# of Constraints: {}\n# of Private Inputs: {}\n# of Public Inputs: {}\n# of Labels: {}\n# of Outputs: 0",
            self.path.display(),
            self.bytes,
            self.wires,
            self.constraints,
            self.private_inputs,
            self.public_inputs,
            self.labels
        )
    }
}

/// `export-r1cs`: writes `circuit`'s constraint system as `.r1cs`.
pub fn export_r1cs<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    out: &Path,
) -> Result<R1csReport, CeremonyError> {
    let r1cs = R1cs::from_circuit(circuit)?;
    let bytes = write_file(out, &r1cs.to_bytes())?;
    Ok(R1csReport {
        path: out.to_path_buf(),
        bytes,
        wires: r1cs.n_wires,
        constraints: r1cs.n_constraints(),
        public_inputs: r1cs.n_pub_in,
        private_inputs: r1cs.n_prv_in,
        labels: r1cs.n_labels,
    })
}

/// What [`export_wtns`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtnsReport {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Values (one per wire).
    pub values: usize,
    /// The public inputs (wires 1 to `n`).
    pub public_inputs: Vec<Fr>,
}

impl fmt::Display for WtnsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} bytes, {} values, public inputs {:?}",
            self.path.display(),
            self.bytes,
            self.values,
            self.public_inputs
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
        )
    }
}

/// `export-wtns`: computes `circuit`'s full witness, checks it against the
/// circuit's constraints (the error names the first unsatisfied one) and
/// writes it as `.wtns` (the `.r1cs` wire order).
pub fn export_wtns<C: ConstraintSynthesizer<Fr> + Clone>(
    circuit: C,
    out: &Path,
) -> Result<WtnsReport, CeremonyError> {
    let assignment = synthesize_witness(circuit.clone())?;
    R1cs::from_circuit(circuit)?.check_witness(assignment.z())?;
    let bytes = write_file(out, &wtns::to_bytes(assignment.z()))?;
    Ok(WtnsReport {
        path: out.to_path_buf(),
        bytes,
        values: assignment.z().len(),
        public_inputs: assignment.public_inputs().to_vec(),
    })
}

/// Options of [`ptau_dev`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtauDevOptions {
    /// `2^power` points of each kind.
    pub power: u32,
    /// The output file.
    pub out: PathBuf,
    /// The seed the secrets come from.
    pub seed: Vec<u8>,
    /// Must be true: the file is insecure.
    pub insecure_dev_setup: bool,
}

/// What [`ptau_dev`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtauDevReport {
    /// The file.
    pub path: PathBuf,
    /// What was made.
    pub ptau: ptau::DevPtau,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for PtauDevReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "INSECURE development powers of tau (power {}): {} ({} bytes, {:.2?})",
            self.ptau.power,
            self.path.display(),
            self.ptau.bytes,
            self.elapsed
        )?;
        write!(
            f,
            "{}",
            format_hash(&self.ptau.blake2b, Some("File BLAKE2b-512:"))
        )
    }
}

/// `ptau dev`: writes an insecure development `.ptau` from a seed (refused
/// without `insecure_dev_setup`).
pub fn ptau_dev(opts: &PtauDevOptions) -> Result<PtauDevReport, CeremonyError> {
    if !opts.insecure_dev_setup {
        return Err(CeremonyError::InsecureFlagRequired);
    }
    let start = Instant::now();
    let made = ptau::write_dev(
        &opts.out,
        opts.power,
        &opts.seed,
        "insecure development setup",
    )?;
    Ok(PtauDevReport {
        path: opts.out.clone(),
        ptau: made,
        elapsed: start.elapsed(),
    })
}

/// What [`ptau_check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtauCheckReport {
    /// The file.
    pub path: PathBuf,
    /// Its BLAKE2b-512 (equal to the published one).
    pub blake2b: [u8; DIGEST_LEN],
    /// Its power.
    pub power: u32,
    /// Whether it has the phase-2 sections.
    pub prepared: bool,
    /// The phase-1 contributions: number, name, whether a beacon.
    pub contributions: Vec<(usize, Option<String>, bool)>,
}

impl fmt::Display for PtauCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: power {}, {}prepared for phase 2, {} contributions; the BLAKE2b-512 matches",
            self.path.display(),
            self.power,
            if self.prepared { "" } else { "NOT " },
            self.contributions.len()
        )?;
        for (i, name, beacon) in &self.contributions {
            writeln!(
                f,
                "  #{i} {}{}",
                name.as_deref().unwrap_or(""),
                if *beacon { " (beacon)" } else { "" }
            )?;
        }
        write!(f, "{}", format_hash(&self.blake2b, Some("BLAKE2b-512:")))
    }
}

/// `ptau check`: checks the whole file's BLAKE2b-512 against the published
/// `blake2b` (hex), then reads its header and contributions.
pub fn ptau_check(path: &Path, blake2b: &str) -> Result<PtauCheckReport, CeremonyError> {
    let hash = ptau::check_blake2b(path, blake2b)?;
    let mut p = Ptau::open(path)?;
    let contributions = p
        .contributions()?
        .into_iter()
        .map(|c| (c.index, c.name, c.kind == 1))
        .collect();
    Ok(PtauCheckReport {
        path: path.to_path_buf(),
        blake2b: hash,
        power: p.power(),
        prepared: p.is_prepared(),
        contributions,
    })
}

/// Opens a `.ptau`, first checking its published hash when given.
fn open_ptau(path: &Path, blake2b: Option<&str>) -> Result<Ptau, CeremonyError> {
    if let Some(h) = blake2b {
        ptau::check_blake2b(path, h)?;
    }
    Ok(Ptau::open(path)?)
}

/// What [`zkey_new`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkeyNewReport {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// The circuit hash.
    pub cs_hash: [u8; DIGEST_LEN],
    /// Constraints.
    pub constraints: usize,
    /// Wires.
    pub wires: u32,
    /// Public inputs.
    pub public_inputs: u32,
    /// The QAP domain size.
    pub domain_size: u32,
    /// The `.ptau`'s power.
    pub ptau_power: u32,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for ZkeyNewReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} bytes; {} constraints, {} wires, {} public inputs, domain {}, ptau power {} ({:.2?})",
            self.path.display(),
            self.bytes,
            self.constraints,
            self.wires,
            self.public_inputs,
            self.domain_size,
            self.ptau_power,
            self.elapsed
        )?;
        write!(f, "{}", format_hash(&self.cs_hash, Some("Circuit hash: ")))
    }
}

/// `zkey new` from an `.r1cs`: the initial key, written as snarkjs writes
/// it; `ptau_blake2b`, when given, is checked first.
pub fn zkey_new_from_r1cs(
    r1cs: &R1cs,
    ptau_path: &Path,
    ptau_blake2b: Option<&str>,
    out: &Path,
) -> Result<ZkeyNewReport, CeremonyError> {
    let start = Instant::now();
    let mut p = open_ptau(ptau_path, ptau_blake2b)?;
    let key = zkey::new(r1cs, &mut p)?;
    let bytes = write_file(out, &key.to_bytes(Layout::New))?;
    Ok(ZkeyNewReport {
        path: out.to_path_buf(),
        bytes,
        cs_hash: key.mpc.cs_hash,
        constraints: r1cs.n_constraints(),
        wires: r1cs.n_wires,
        public_inputs: r1cs.n_public(),
        domain_size: key.header.domain_size,
        ptau_power: p.power(),
        elapsed: start.elapsed(),
    })
}

/// `zkey new --statement S`: [`zkey_new_from_r1cs`] on `circuit`'s R1CS.
pub fn zkey_new<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    ptau_path: &Path,
    ptau_blake2b: Option<&str>,
    out: &Path,
) -> Result<ZkeyNewReport, CeremonyError> {
    let r1cs = R1cs::from_circuit(circuit)?;
    zkey_new_from_r1cs(&r1cs, ptau_path, ptau_blake2b, out)
}

/// What [`zkey_contribute`] and [`zkey_beacon`] added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionReport {
    /// The new file.
    pub path: PathBuf,
    /// The contribution's number (from 1).
    pub index: usize,
    /// The name recorded.
    pub name: Option<String>,
    /// The contribution hash (publish it).
    pub hash: [u8; DIGEST_LEN],
    /// The circuit hash.
    pub cs_hash: [u8; DIGEST_LEN],
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for ContributionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", format_hash(&self.cs_hash, Some("Circuit Hash: ")))?;
        write!(
            f,
            "{}",
            format_hash(&self.hash, Some("Contribution Hash: "))
        )
    }
}

/// Reads a key and checks its contributions chain before extending it.
fn read_for_contribution(input: &Path) -> Result<Zkey, CeremonyError> {
    let key = Zkey::read(input)?;
    let _checked = verify::verify_contributions(&key)?;
    Ok(key)
}

fn finish_contribution(
    key: &Zkey,
    output: &Path,
    hash: [u8; DIGEST_LEN],
    start: Instant,
) -> Result<ContributionReport, CeremonyError> {
    write_file(output, &key.to_bytes(Layout::Contributed))?;
    let last = key.mpc.contributions.last();
    Ok(ContributionReport {
        path: output.to_path_buf(),
        index: key.mpc.contributions.len(),
        name: last.and_then(|c| c.name.clone()),
        hash,
        cs_hash: key.mpc.cs_hash,
        elapsed: start.elapsed(),
    })
}

/// `zkey contribute IN OUT --name N`: adds a contribution whose secret
/// comes from the operating system's randomness and `entropy` (optional
/// text); refuses a key whose earlier contributions do not verify.
pub fn zkey_contribute(
    input: &Path,
    output: &Path,
    name: Option<&str>,
    entropy: Option<&str>,
) -> Result<ContributionReport, CeremonyError> {
    let start = Instant::now();
    let mut key = read_for_contribution(input)?;
    let hash = zkey::contribute(&mut key, name, entropy.unwrap_or("").as_bytes(), &mut OsRng);
    finish_contribution(&key, output, hash, start)
}

/// `zkey beacon IN OUT --name N --beacon HEX --iterations-exp E`: adds the
/// beacon contribution (its secret from `beacon_hex` hashed `2^exp` times
/// with SHA-256; `exp` in `10..=63`).
pub fn zkey_beacon(
    input: &Path,
    output: &Path,
    name: Option<&str>,
    beacon_hex: &str,
    exp: u32,
) -> Result<ContributionReport, CeremonyError> {
    let start = Instant::now();
    let (beacon, exp) = zkey::contribute::parse_beacon(beacon_hex, exp).map_err(ZkeyError::from)?;
    let mut key = read_for_contribution(input)?;
    let hash = zkey::beacon(&mut key, name, &beacon, exp).map_err(ZkeyError::from)?;
    finish_contribution(&key, output, hash, start)
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The key verified.
    pub path: PathBuf,
    /// Its ceremony.
    pub transcript: Transcript,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.transcript)?;
        write!(
            f,
            "ZKey Ok! ({}, {:.2?})",
            self.path.display(),
            self.elapsed
        )
    }
}

/// `zkey verify --statement S --ptau F Z`: verifies `zkey_path` against
/// `circuit`'s R1CS and the powers of tau (checked against `ptau_blake2b`
/// when given).
pub fn zkey_verify<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    ptau_path: &Path,
    ptau_blake2b: Option<&str>,
    zkey_path: &Path,
) -> Result<VerifyReport, CeremonyError> {
    let r1cs = R1cs::from_circuit(circuit)?;
    zkey_verify_r1cs(&r1cs, ptau_path, ptau_blake2b, zkey_path)
}

/// [`zkey_verify`] from an `.r1cs`.
pub fn zkey_verify_r1cs(
    r1cs: &R1cs,
    ptau_path: &Path,
    ptau_blake2b: Option<&str>,
    zkey_path: &Path,
) -> Result<VerifyReport, CeremonyError> {
    let start = Instant::now();
    let mut p = open_ptau(ptau_path, ptau_blake2b)?;
    let key = Zkey::read(zkey_path)?;
    let transcript = zkey::verify_from_r1cs(r1cs, &mut p, &key)?;
    Ok(VerifyReport {
        path: zkey_path.to_path_buf(),
        transcript,
        elapsed: start.elapsed(),
    })
}

/// `zkey verify --init I Z`: verifies `zkey_path` as a continuation of the
/// initial key `init_path`.
pub fn zkey_verify_from_init(
    init_path: &Path,
    zkey_path: &Path,
) -> Result<VerifyReport, CeremonyError> {
    let start = Instant::now();
    let init = Zkey::read(init_path)?;
    let key = Zkey::read(zkey_path)?;
    let transcript = zkey::verify_from_init(&init, &key)?;
    Ok(VerifyReport {
        path: zkey_path.to_path_buf(),
        transcript,
        elapsed: start.elapsed(),
    })
}

/// What [`zkey_export_vk`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct VkReport {
    /// The file.
    pub path: PathBuf,
    /// Public inputs.
    pub n_public: usize,
    /// The key (for a Solidity verifier or the service).
    pub vk: VerifyingKey<Bn254>,
}

impl fmt::Display for VkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: verifying key with {} public inputs",
            self.path.display(),
            self.n_public
        )
    }
}

/// `zkey export-vk Z --out VK.json`: the verifying key as snarkjs's
/// `vk.json` (what `snarkjs zkey export verificationkey` writes).
pub fn zkey_export_vk(zkey_path: &Path, out: &Path) -> Result<VkReport, CeremonyError> {
    let key = Zkey::read(zkey_path)?;
    let vk = key.verifying_key();
    write_file(out, json::vk_to_json(&vk)?.as_bytes())?;
    Ok(VkReport {
        path: out.to_path_buf(),
        n_public: key.header.n_public as usize,
        vk,
    })
}

/// What [`prove`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ProveReport {
    /// `proof.json`.
    pub proof_path: PathBuf,
    /// `public.json`.
    pub public_path: PathBuf,
    /// The proof (verified against the key before it was written).
    pub proof: Proof<Bn254>,
    /// The public inputs.
    pub public_inputs: Vec<Fr>,
    /// Witness computation.
    pub witness: Duration,
    /// Witness map and MSMs.
    pub timings: ProveTimings,
}

impl fmt::Display for ProveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} and {} (witness {:.2?}, witness map {:.2?}, MSMs {:.2?}; verified)",
            self.proof_path.display(),
            self.public_path.display(),
            self.witness,
            self.timings.witness_map,
            self.timings.msm
        )
    }
}

/// `prove --statement S --zkey Z --input EPOCH.json --out DIR`: computes
/// `circuit`'s witness, proves from the `.zkey`, verifies the proof against
/// the key, and writes `DIR/proof.json` and `DIR/public.json` (snarkjs's
/// formats).
pub fn prove<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    zkey_path: &Path,
    out_dir: &Path,
) -> Result<ProveReport, CeremonyError> {
    let prover = ZkeyProver::new(Zkey::read(zkey_path)?)?;
    prove_with(&prover, circuit, out_dir)
}

/// [`prove`] with a prover already built (a service keeps one per key).
pub fn prove_with<C: ConstraintSynthesizer<Fr>>(
    prover: &ZkeyProver,
    circuit: C,
    out_dir: &Path,
) -> Result<ProveReport, CeremonyError> {
    let start = Instant::now();
    let assignment = synthesize_witness(circuit)?;
    let witness = start.elapsed();
    let h = &prover.zkey().header;
    let public = assignment.public_inputs().len();
    if assignment.z().len() != h.n_vars as usize || public != h.n_public as usize {
        return Err(CeremonyError::CircuitMismatch {
            circuit: assignment.z().len(),
            circuit_public: public,
            key: h.n_vars as usize,
            key_public: h.n_public as usize,
        });
    }
    let (proof, timings) = prover.prove_timed(assignment.z(), &mut OsRng)?;
    std::fs::create_dir_all(out_dir).map_err(|source| CeremonyError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let proof_path = out_dir.join("proof.json");
    let public_path = out_dir.join("public.json");
    write_file(&proof_path, json::proof_to_json(&proof)?.as_bytes())?;
    write_file(
        &public_path,
        json::public_to_json(assignment.public_inputs())?.as_bytes(),
    )?;
    Ok(ProveReport {
        proof_path,
        public_path,
        proof,
        public_inputs: assignment.public_inputs().to_vec(),
        witness,
        timings,
    })
}
