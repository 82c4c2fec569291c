//! `depin-prover`: Groth16 keys, proofs, snarkjs exports, the trusted-setup
//! ceremony and the gRPC service for the DePIN statements.
//!
//! Results go to standard output, errors to standard error. Exit status: 0
//! success (or a valid proof), 1 an invalid proof (`verify`), 2 malformed
//! input, a missing or unreadable file, or a usage error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use depin_crypto::field::fr_to_string;
use depin_evm::proof_dir::{
    write_proof_dir, ProofDir, PROOF_BIN_FILE, PROOF_JSON_FILE, PUBLIC_JSON_FILE,
};
use depin_evm::snarkjs;
use depin_groth16::golden::{self, CircuitVisitor};
use depin_groth16::keys::{dev_setup, KeyDir, Trust, VerifyingKey};
use depin_groth16::prover::{self as groth16, verify_statement, Prover};
use depin_groth16::system::prove_epoch;
use depin_statements::Header;
use depin_statements::{Evaluation, StatementKind};
use depin_statements_r1cs::StatementCircuit;
use depin_testkit::examples;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

mod ceremony;
mod halo2;

/// Groth16 (BN254) keys, proofs and snarkjs exports for the uptime,
/// bandwidth and coverage statements.
///
/// Exit status: 0 on success or a valid proof, 1 for an invalid proof, 2 for
/// malformed input or usage.
#[derive(Debug, Parser)]
#[command(name = "depin-prover", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A statement, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Statement {
    /// Uptime heartbeats.
    Uptime,
    /// Bandwidth session receipts.
    Bandwidth,
    /// Coverage witness reports.
    Coverage,
}

impl From<Statement> for StatementKind {
    fn from(s: Statement) -> Self {
        match s {
            Statement::Uptime => StatementKind::Uptime,
            Statement::Bandwidth => StatementKind::Bandwidth,
            Statement::Coverage => StatementKind::Coverage,
        }
    }
}

/// A proof system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    /// Groth16 (circuit-specific setup).
    Groth16,
    /// halo2 with KZG (one universal setup; docs/halo2.md).
    Halo2,
}

/// A verifying key export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VkFormat {
    /// snarkjs's `verification_key.json`.
    Snarkjs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make development Groth16 keys for a statement: DIR/proving_key.bin,
    /// DIR/verifying_key.bin and DIR/vk.json (snarkjs).
    ///
    /// The keys come from a seed, so whoever knows it can forge proofs:
    /// development and tests only. Production keys need a multi-party
    /// ceremony.
    Setup {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The key directory to write (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Acknowledge that the keys are insecure (the seed is the toxic
        /// waste).
        #[arg(long)]
        insecure_dev_setup: bool,
        /// The setup seed (default: the golden files' seed, so the
        /// verifying key equals prover/golden/v1's).
        #[arg(long, default_value_t = golden::SETUP_SEED)]
        seed: u64,
        /// The proof system (halo2: DIR/params.kzg, made from the seed when
        /// missing, DIR/verifying_key.bin, DIR/shape.json, DIR/vk.json).
        #[arg(long, value_enum, default_value = "groth16")]
        backend: BackendArg,
    },
    /// Prove an epoch: writes OUT/proof.json and OUT/public.json (snarkjs)
    /// and OUT/proof.bin (with --keys); prints the reward and the verdicts.
    Prove {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The key directory (from `setup`).
        #[arg(long, required_unless_present = "zkey")]
        keys: Option<PathBuf>,
        /// A ceremony's key (`.zkey`) instead of a key directory.
        #[arg(long, conflicts_with_all = ["keys", "validate_key"])]
        zkey: Option<PathBuf>,
        /// The epoch file (JSON, see `example`).
        #[arg(long)]
        input: PathBuf,
        /// The proof directory to write (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Seed the proof's blinding (deterministic proofs, for tests);
        /// default: the operating system's randomness.
        #[arg(long)]
        seed: Option<u64>,
        /// Validate every point of the proving key (for a key this machine
        /// did not make).
        #[arg(long)]
        validate_key: bool,
        /// The proof system of the key directory (halo2 writes proof.bin
        /// and public.json).
        #[arg(long, value_enum, default_value = "groth16")]
        backend: BackendArg,
    },
    /// Verify the proofs in a proof directory (proof.bin, and/or proof.json
    /// with public.json): prints "valid" (exit 0) or "invalid" (exit 1).
    Verify {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The key directory (verifying_key.bin, or vk.json).
        #[arg(long)]
        keys: PathBuf,
        /// The proof directory.
        #[arg(long)]
        proof: PathBuf,
        /// The proof system of the key directory.
        #[arg(long, value_enum, default_value = "groth16")]
        backend: BackendArg,
    },
    /// Export the verifying key.
    ExportVk {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The key directory.
        #[arg(long)]
        keys: PathBuf,
        /// The format.
        #[arg(long, value_enum, default_value = "snarkjs")]
        format: VkFormat,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the Solidity Groth16 verifier of a statement's verifying key
    /// (the BN254 precompiles; kind and version filled in).
    ExportVerifier {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The key directory.
        #[arg(long, required_unless_present = "zkey")]
        keys: Option<PathBuf>,
        /// A ceremony's key (`.zkey`) instead of a key directory.
        #[arg(long, conflicts_with = "keys")]
        zkey: Option<PathBuf>,
        /// The `.sol` file to write.
        #[arg(long)]
        out: PathBuf,
        /// The proof system (halo2: the verifier snark-verifier generates
        /// from the key directory's verifying key).
        #[arg(long, value_enum, default_value = "groth16")]
        backend: BackendArg,
    },
    /// Write a statement's example epoch (JSON), signed by the example keys.
    Example {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The example key directory.
        #[arg(long, default_value = "examples/keys")]
        keys: PathBuf,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Regenerate the golden verifying keys and proofs (deterministic):
    /// OUT/<statement>/{verifying_key.bin, vk.json, proof.bin, proof.json,
    /// public.json}.
    Golden {
        /// The directory to write, normally prover/golden/v1.
        #[arg(long)]
        out: PathBuf,
        /// Only this statement (default: all three).
        #[arg(long, value_enum)]
        statement: Option<Statement>,
        /// The proof system (halo2: normally into prover/golden/halo2; its
        /// keys are deterministic, its proofs are new ones).
        #[arg(long, value_enum, default_value = "groth16")]
        backend: BackendArg,
    },
    /// Write a statement's constraint system as an iden3 `.r1cs` (what
    /// snarkjs and the ceremony tools read).
    ExportR1cs {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The `.r1cs` file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write an epoch's full witness as `.wtns` (the `.r1cs` wire order),
    /// checked against the constraints first.
    ExportWtns {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The epoch file (JSON).
        #[arg(long)]
        input: PathBuf,
        /// The `.wtns` file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Powers of tau (phase 1 of the setup): development files, checks.
    Ptau {
        #[command(subcommand)]
        command: ceremony::PtauCommand,
    },
    /// The phase-2 ceremony of a statement's key (docs/ceremony.md).
    Zkey {
        #[command(subcommand)]
        command: ceremony::ZkeyCommand,
    },
    /// Configuration of what runs around a cluster of nodes
    /// (docs/cluster.md).
    ClusterConfig {
        #[command(subcommand)]
        command: ClusterConfigCommand,
    },
    /// Run the gRPC prover service (docs/service.md) until SIGTERM or
    /// Ctrl-C. Settings: defaults, then the config file, then
    /// DEPIN_PROVER_* environment variables, then --listen.
    Serve {
        /// The TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The gRPC address (default 127.0.0.1:50051).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Start even with development keys on an address that is not
        /// loopback, or with a node secret other users can read
        /// (`allow_insecure = true`; logged as a warning every few minutes).
        #[arg(long)]
        allow_insecure: bool,
    },
}

/// What `cluster-config` writes.
#[derive(Debug, Subcommand)]
enum ClusterConfigCommand {
    /// HAProxy's configuration: gRPC over HTTP/2 to every node, each
    /// checked with `grpc.health.v1.Health/Check` (a node that drains, is
    /// frozen or dead leaves the pool in about a second).
    Haproxy {
        /// Where HAProxy listens for gRPC.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// A node's gRPC address (repeat for every node).
        #[arg(long = "node", required = true)]
        nodes: Vec<std::net::SocketAddr>,
        /// HAProxy's statistics socket (`show servers state`).
        #[arg(long)]
        stats_socket: Option<PathBuf>,
        /// Milliseconds between two checks of a node.
        #[arg(long, default_value_t = 300)]
        check_interval_ms: u32,
        /// Milliseconds a check waits for its answer.
        #[arg(long, default_value_t = 500)]
        check_timeout_ms: u32,
        /// Write the configuration here instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", render(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each once: most of this crate's errors already
/// quote their source in their own message.
fn render(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg
}

/// `cluster-config`: writes or prints the configuration asked for.
fn cluster_config(command: ClusterConfigCommand) -> anyhow::Result<ExitCode> {
    let ClusterConfigCommand::Haproxy {
        listen,
        nodes,
        stats_socket,
        check_interval_ms,
        check_timeout_ms,
        out,
    } = command;
    use depin_service::haproxy::{haproxy_config, HaproxyOptions};
    let config = haproxy_config(&HaproxyOptions {
        check_interval_ms,
        check_timeout_ms,
        stats_socket,
        ..HaproxyOptions::new(listen, nodes)
    });
    match out {
        Some(p) => {
            std::fs::write(&p, config).with_context(|| format!("writing {}", p.display()))?
        }
        None => print!("{config}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            config,
            listen,
            allow_insecure,
        } => {
            let mut cfg = depin_service::Config::load(config.as_deref())?;
            if let Some(l) = listen {
                cfg.listen = l;
            }
            cfg.allow_insecure |= allow_insecure;
            depin_service::serve(cfg)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ClusterConfig { command } => cluster_config(command),
        Command::Setup {
            statement,
            out,
            insecure_dev_setup,
            seed,
            backend,
        } => match backend {
            BackendArg::Groth16 => setup(statement.into(), &out, insecure_dev_setup, seed),
            BackendArg::Halo2 => halo2::setup(statement.into(), &out, insecure_dev_setup, seed),
        },
        Command::Prove {
            statement,
            keys,
            zkey,
            input,
            out,
            seed,
            validate_key,
            backend,
        } => match (backend, keys, zkey) {
            (BackendArg::Halo2, Some(keys), None) => {
                prove_halo2(statement.into(), &keys, &input, &out, seed)
            }
            (BackendArg::Halo2, _, _) => {
                bail!("prove --backend halo2 needs --keys (a .zkey is Groth16's)")
            }
            (BackendArg::Groth16, _, Some(zkey)) => {
                if seed.is_some() {
                    bail!("--seed is not supported with --zkey (its proofs draw their blinding from the operating system)");
                }
                ceremony::prove(statement.into(), &zkey, &input, &out)
            }
            (BackendArg::Groth16, Some(keys), None) => {
                prove(statement.into(), &keys, &input, &out, seed, validate_key)
            }
            (BackendArg::Groth16, None, None) => bail!("prove needs --keys or --zkey"),
        },
        Command::ExportR1cs { statement, out } => ceremony::export_r1cs(statement.into(), &out),
        Command::ExportWtns {
            statement,
            input,
            out,
        } => ceremony::export_wtns(statement.into(), &input, &out),
        Command::Ptau { command } => ceremony::ptau(command),
        Command::Zkey { command } => ceremony::zkey(command),
        Command::Verify {
            statement,
            keys,
            proof,
            backend,
        } => match backend {
            BackendArg::Groth16 => verify(statement.into(), &keys, &proof),
            BackendArg::Halo2 => halo2::verify(statement.into(), &keys, &proof),
        },
        Command::ExportVk {
            statement,
            keys,
            format: VkFormat::Snarkjs,
            out,
        } => {
            let kind = statement.into();
            let vk = KeyDir::new(&keys).load_verifying_key(kind)?;
            vk.write_snarkjs(&out)?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportVerifier {
            statement,
            keys,
            zkey,
            out,
            backend,
        } => match (backend, keys.as_deref()) {
            (BackendArg::Groth16, keys) => {
                export_verifier(statement.into(), keys, zkey.as_deref(), &out)
            }
            (BackendArg::Halo2, Some(keys)) if zkey.is_none() => {
                halo2::export_verifier(statement.into(), keys, &out)
            }
            (BackendArg::Halo2, _) => {
                bail!("export-verifier --backend halo2 needs --keys (a .zkey is Groth16's)")
            }
        },
        Command::Example {
            statement,
            keys,
            out,
        } => {
            let json = examples::generate(statement.into(), &keys)?;
            std::fs::write(&out, json).with_context(|| format!("{}", out.display()))?;
            println!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Golden {
            out,
            statement,
            backend,
        } => golden_cmd(&out, statement, backend),
    }
}

/// `golden`: the golden keys and proofs of one statement or all three.
fn golden_cmd(
    out: &Path,
    statement: Option<Statement>,
    backend: BackendArg,
) -> anyhow::Result<ExitCode> {
    let kinds: Vec<StatementKind> = match statement {
        Some(s) => vec![s.into()],
        None => golden::ALL_KINDS.to_vec(),
    };
    if backend == BackendArg::Halo2 {
        return halo2::golden(&kinds, out);
    }
    for kind in kinds {
        let r = golden::generate(kind, out)?;
        println!(
                "{}: {} constraints, setup {:.1} s, prove {:.2} s, verify {:.1} ms, proving key {} bytes (not written) -> {}",
                kind.as_str(),
                r.shape.constraints,
                r.setup.as_secs_f64(),
                r.prove.as_secs_f64(),
                r.verify.as_secs_f64() * 1e3,
                r.proving_key_bytes,
                out.join(kind.as_str()).display()
            );
    }
    Ok(ExitCode::SUCCESS)
}

/// `export-verifier`: the Solidity verifier of a key directory's or a
/// ceremony's verifying key.
fn export_verifier(
    kind: StatementKind,
    keys: Option<&Path>,
    zkey: Option<&Path>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let vk = match (keys, zkey) {
        (_, Some(zkey)) => {
            let key =
                depin_circom::Zkey::read(zkey).with_context(|| format!("{}", zkey.display()))?;
            key.check_circuit(&depin_circom::system::statement_r1cs(kind)?)
                .with_context(|| format!("{}", zkey.display()))?;
            key.verifying_key()
        }
        (Some(keys), None) => KeyDir::new(keys)
            .load_verifying_key(kind)?
            .as_arkworks()
            .clone(),
        (None, None) => bail!("export-verifier needs --keys or --zkey"),
    };
    let sol = depin_evm::solidity::render_verifier(
        &vk,
        kind.as_str(),
        depin_statements::STATEMENT_VERSION,
    );
    std::fs::write(out, sol).with_context(|| format!("{}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

const INSECURE_SETUP: &str = "\
refusing to run a development setup without --insecure-dev-setup.

Groth16 keys are made from secret random values (the \"toxic waste\"); whoever
knows them can prove anything, including rewards a device never earned. This
command derives them from --seed, which is not secret, so its keys are for
development and tests only. Production keys must come from a multi-party
ceremony (for example snarkjs's powers of tau and phase-2 contributions),
where the setup is sound as long as one participant destroyed their share.

Pass --insecure-dev-setup to make development keys anyway.";

struct Setup {
    seed: u64,
}

impl CircuitVisitor for Setup {
    type Output = anyhow::Result<(depin_groth16::keys::Keys, groth16::CircuitShape)>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        let shape = groth16::circuit_shape(circuit.clone())?;
        Ok((dev_setup(circuit, self.seed)?, shape))
    }
}

fn setup(kind: StatementKind, out: &Path, insecure: bool, seed: u64) -> anyhow::Result<ExitCode> {
    if !insecure {
        bail!("{INSECURE_SETUP}");
    }
    let start = Instant::now();
    let (keys, shape) = golden::with_sample(kind, Setup { seed })??;
    let elapsed = start.elapsed();
    keys.write_dir(out)?;
    depin_groth16::keys::mark_dev(out, seed)?;
    let size = |p: PathBuf| std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
    let dir = KeyDir::new(out);
    println!(
        "{}: {} constraints, {} public inputs, {} witnesses; setup {:.1} s (INSECURE development keys, seed {seed})",
        kind.as_str(),
        shape.constraints,
        shape.public_inputs,
        shape.witnesses,
        elapsed.as_secs_f64()
    );
    println!(
        "wrote {} ({} bytes), {} ({} bytes), {}",
        dir.proving_key().display(),
        size(dir.proving_key()),
        dir.verifying_key().display(),
        size(dir.verifying_key()),
        dir.vk_json().display()
    );
    Ok(ExitCode::SUCCESS)
}

fn prove(
    kind: StatementKind,
    keys: &Path,
    input: &Path,
    out: &Path,
    seed: Option<u64>,
    validate_key: bool,
) -> anyhow::Result<ExitCode> {
    let epoch = ceremony::read_epoch(kind, input)?;
    let evaluation = epoch
        .evaluate()
        .with_context(|| format!("{}", input.display()))?;
    let trust = if validate_key {
        Trust::Untrusted
    } else {
        Trust::Trusted
    };
    let start = Instant::now();
    let pk = KeyDir::new(keys).load_proving_key(kind, trust)?;
    let load = start.elapsed();
    let mut rng = match seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => ChaCha20Rng::from_entropy(),
    };
    let start = Instant::now();
    let verifying = pk.verifying_key()?;
    let proof = Prover::for_statement(pk)
        .and_then(|prover| prove_epoch(&prover, &epoch, &mut rng))
        .with_context(|| format!("proving {}", input.display()))?;
    let proving = start.elapsed();
    if proof.public != evaluation.public.to_field_elements() {
        bail!("internal error: the circuit's public inputs differ from the native reference's");
    }
    if !verify_statement(&verifying, &proof)? {
        bail!(
            "the proof does not verify against {}'s own verifying key (a corrupt key file? retry with --validate-key)",
            KeyDir::new(keys).proving_key().display()
        );
    }
    write_proof_dir(&proof, out)?;
    print_evaluation(kind, &evaluation);
    println!(
        "proved in {:.2} s (key load {:.2} s); wrote {}, {}, {}",
        proving.as_secs_f64(),
        load.as_secs_f64(),
        out.join(PROOF_JSON_FILE).display(),
        out.join(PUBLIC_JSON_FILE).display(),
        out.join(PROOF_BIN_FILE).display()
    );
    Ok(ExitCode::SUCCESS)
}

fn prove_halo2(
    kind: StatementKind,
    keys: &Path,
    input: &Path,
    out: &Path,
    seed: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let epoch = ceremony::read_epoch(kind, input)?;
    let evaluation = epoch
        .evaluate()
        .with_context(|| format!("{}", input.display()))?;
    halo2::prove(kind, keys, &epoch, out, seed)
        .with_context(|| format!("proving {}", input.display()))?;
    print_evaluation(kind, &evaluation);
    Ok(ExitCode::SUCCESS)
}

fn print_evaluation(kind: StatementKind, evaluation: &Evaluation) {
    let mut rejected: BTreeMap<String, usize> = BTreeMap::new();
    for v in &evaluation.verdicts {
        if let Some(reason) = v.reason() {
            *rejected.entry(reason.to_string()).or_default() += 1;
        }
    }
    let public = &evaluation.public;
    println!("statement: {}", kind.as_str());
    println!("epoch: {}", public.epoch);
    println!("device_id: {}", fr_to_string(&public.device_id));
    println!("reward: {}", evaluation.reward);
    println!(
        "records: {} ({} accepted, {} rejected)",
        evaluation.verdicts.len(),
        evaluation.accepted(),
        evaluation.verdicts.len() - evaluation.accepted()
    );
    for (reason, count) in rejected {
        println!("  rejected {reason}: {count}");
    }
}

fn load_vk(kind: StatementKind, keys: &Path) -> anyhow::Result<VerifyingKey> {
    let dir = KeyDir::new(keys);
    let bin = dir.verifying_key();
    if bin.exists() {
        return Ok(dir.load_verifying_key(kind)?);
    }
    let json_path = dir.vk_json();
    if !json_path.exists() {
        bail!(
            "{}: no {} and no {}",
            keys.display(),
            depin_groth16::keys::VERIFYING_KEY_FILE,
            depin_groth16::keys::VK_JSON_FILE
        );
    }
    let text =
        std::fs::read_to_string(&json_path).with_context(|| format!("{}", json_path.display()))?;
    let vk = snarkjs::vk_from_json(&text).with_context(|| format!("{}", json_path.display()))?;
    VerifyingKey::from_arkworks(kind, vk).map_err(|e| anyhow!("{}: {e}", json_path.display()))
}

fn verify(kind: StatementKind, keys: &Path, proof_dir: &Path) -> anyhow::Result<ExitCode> {
    let vk = load_vk(kind, keys)?;
    let dir = ProofDir::read(proof_dir, kind)?;
    let mut all_valid = true;
    for (name, proof) in dir.proofs() {
        let valid = verify_statement(&vk, proof)?;
        all_valid &= valid;
        println!("{name}: {}", if valid { "valid" } else { "invalid" });
    }
    if let (Some(a), Some(b)) = (&dir.bin, &dir.json) {
        if a != b {
            println!("note: proof.bin and proof.json/public.json hold different proofs");
        }
    }
    let proofs = dir.proofs();
    if let Some((_, p)) = proofs.first() {
        if let Some(h) = p.public.first().and_then(Header::unpack) {
            println!("epoch: {}", h.epoch);
            println!("reward: {}", h.reward);
        }
    }
    println!("{}", if all_valid { "valid" } else { "invalid" });
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
