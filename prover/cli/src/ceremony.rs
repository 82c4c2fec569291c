//! The trusted-setup commands (`docs/ceremony.md`): the circom formats, the
//! powers of tau and the phase-2 ceremony, each step one call into
//! `depin_circom::ceremony`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use depin_circom::ceremony::{self, PtauDevOptions};
use depin_statements::epoch::EpochInput;
use depin_statements::StatementKind;
use depin_statements_r1cs::{visit_epoch, visit_sample, CircuitVisitor, StatementCircuit};

use crate::Statement;

/// `ptau` steps.
#[derive(Debug, Subcommand)]
pub enum PtauCommand {
    /// Write an INSECURE development powers of tau from a seed (its secrets
    /// are known: CI and development only).
    Dev {
        /// `2^power` points (a statement with a domain of `2^d` needs
        /// `d + 1`: uptime and coverage 18, bandwidth 20).
        #[arg(long)]
        power: u32,
        /// The `.ptau` file to write.
        #[arg(long)]
        out: PathBuf,
        /// Acknowledge that the file is insecure.
        #[arg(long)]
        insecure_dev_setup: bool,
        /// The seed (text).
        #[arg(long, default_value = "depin development powers of tau")]
        seed: String,
    },
    /// Check a `.ptau` file against its published BLAKE2b-512 hash and
    /// print its power and contributions.
    Check {
        /// The `.ptau` file.
        file: PathBuf,
        /// The published hash (128 hex digits).
        #[arg(long)]
        blake2b: String,
    },
}

/// `zkey` steps.
#[derive(Debug, Subcommand)]
pub enum ZkeyCommand {
    /// The initial phase-2 key of a statement (byte for byte what `snarkjs
    /// zkey new` writes from the statement's `.r1cs`).
    New {
        /// The statement.
        #[arg(long, value_enum)]
        statement: Statement,
        /// The powers of tau.
        #[arg(long)]
        ptau: PathBuf,
        /// The powers of tau's published BLAKE2b-512, checked first.
        #[arg(long)]
        ptau_blake2b: Option<String>,
        /// The `.zkey` to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a contribution (randomness from the operating system and
    /// `--entropy`); prints the contribution hash to publish.
    Contribute {
        /// The latest key.
        input: PathBuf,
        /// The key to write.
        output: PathBuf,
        /// The contributor's name.
        #[arg(long)]
        name: Option<String>,
        /// Extra entropy (text), mixed with the operating system's.
        #[arg(long)]
        entropy: Option<String>,
    },
    /// Add the closing beacon contribution.
    Beacon {
        /// The latest key.
        input: PathBuf,
        /// The key to write.
        output: PathBuf,
        /// The beacon's value (hex, e.g. a block hash announced in advance).
        #[arg(long)]
        beacon: String,
        /// The beacon is hashed `2^iterations_exp` times (10 to 63).
        #[arg(long)]
        iterations_exp: u32,
        /// The beacon's name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Verify a key: from the statement and the powers of tau (the whole
    /// key), or as a continuation of an initial key (`--init`). Prints the
    /// transcript.
    Verify {
        /// The statement (with `--ptau`).
        #[arg(long, value_enum, requires = "ptau")]
        statement: Option<Statement>,
        /// The powers of tau (with `--statement`).
        #[arg(long, requires = "statement")]
        ptau: Option<PathBuf>,
        /// The powers of tau's published BLAKE2b-512, checked first.
        #[arg(long, requires = "ptau")]
        ptau_blake2b: Option<String>,
        /// The initial key of the ceremony, instead of the statement and
        /// the powers of tau.
        #[arg(long, conflicts_with_all = ["statement", "ptau"])]
        init: Option<PathBuf>,
        /// A contribution hash that must be in the transcript (a
        /// contributor checking their own).
        #[arg(long)]
        contains: Option<String>,
        /// The key to verify.
        zkey: PathBuf,
    },
    /// Write the verifying key as snarkjs's `vk.json`.
    ExportVk {
        /// The key.
        zkey: PathBuf,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

struct ExportR1cs<'a>(&'a Path);

impl CircuitVisitor for ExportR1cs<'_> {
    type Output = Result<ceremony::R1csReport, ceremony::CeremonyError>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        ceremony::export_r1cs(circuit, self.0)
    }
}

struct ExportWtns<'a>(&'a Path);

impl CircuitVisitor for ExportWtns<'_> {
    type Output = Result<ceremony::WtnsReport, ceremony::CeremonyError>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        ceremony::export_wtns(circuit, self.0)
    }
}

struct ProveZkey<'a> {
    zkey: &'a Path,
    out: &'a Path,
}

impl CircuitVisitor for ProveZkey<'_> {
    type Output = Result<ceremony::ProveReport, ceremony::CeremonyError>;
    fn visit<C: StatementCircuit>(self, circuit: C) -> Self::Output {
        ceremony::prove(circuit, self.zkey, self.out)
    }
}

/// `export-r1cs`.
pub fn export_r1cs(kind: StatementKind, out: &Path) -> anyhow::Result<ExitCode> {
    let report = visit_sample(kind, ExportR1cs(out))??;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// The epoch of `input`, which must be of statement `kind`.
pub fn read_epoch(kind: StatementKind, input: &Path) -> anyhow::Result<EpochInput> {
    EpochInput::from_file(input)
        .and_then(|e| e.expect_kind(kind))
        .with_context(|| format!("{}", input.display()))
}

/// `export-wtns`.
pub fn export_wtns(kind: StatementKind, input: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let epoch = read_epoch(kind, input)?;
    let report =
        visit_epoch(&epoch, ExportWtns(out)).with_context(|| format!("{}", input.display()))??;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// `prove --zkey`: the proof of `input` from a ceremony's key, written as
/// snarkjs's `proof.json` and `public.json` in `out`.
pub fn prove(
    kind: StatementKind,
    zkey: &Path,
    input: &Path,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let epoch = read_epoch(kind, input)?;
    let evaluation = epoch
        .evaluate()
        .with_context(|| format!("{}", input.display()))?;
    let report = visit_epoch(&epoch, ProveZkey { zkey, out })
        .with_context(|| format!("{}", input.display()))?
        .with_context(|| format!("proving from {}", zkey.display()))?;
    if report.public_inputs != evaluation.public.to_field_elements() {
        bail!("internal error: the circuit's public inputs differ from the native reference's");
    }
    crate::print_evaluation(kind, &evaluation);
    println!("proved: {report}");
    Ok(ExitCode::SUCCESS)
}

/// `ptau ...`.
pub fn ptau(command: PtauCommand) -> anyhow::Result<ExitCode> {
    match command {
        PtauCommand::Dev {
            power,
            out,
            insecure_dev_setup,
            seed,
        } => {
            let report = ceremony::ptau_dev(&PtauDevOptions {
                power,
                out,
                seed: seed.into_bytes(),
                insecure_dev_setup,
            })?;
            println!("{report}");
        }
        PtauCommand::Check { file, blake2b } => {
            let report = ceremony::ptau_check(&file, &blake2b)
                .with_context(|| format!("{}", file.display()))?;
            println!("{report}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `zkey ...`.
pub fn zkey(command: ZkeyCommand) -> anyhow::Result<ExitCode> {
    match command {
        ZkeyCommand::New {
            statement,
            ptau,
            ptau_blake2b,
            out,
        } => {
            let r1cs = depin_circom::system::statement_r1cs(statement.into())?;
            let report = ceremony::zkey_new_from_r1cs(&r1cs, &ptau, ptau_blake2b.as_deref(), &out)
                .with_context(|| format!("zkey new from {}", ptau.display()))?;
            println!("{report}");
        }
        ZkeyCommand::Contribute {
            input,
            output,
            name,
            entropy,
        } => {
            let report =
                ceremony::zkey_contribute(&input, &output, name.as_deref(), entropy.as_deref())
                    .with_context(|| format!("contributing to {}", input.display()))?;
            println!("{report}");
        }
        ZkeyCommand::Beacon {
            input,
            output,
            beacon,
            iterations_exp,
            name,
        } => {
            let report =
                ceremony::zkey_beacon(&input, &output, name.as_deref(), &beacon, iterations_exp)
                    .with_context(|| format!("the beacon on {}", input.display()))?;
            println!("{report}");
        }
        ZkeyCommand::Verify {
            statement,
            ptau,
            ptau_blake2b,
            init,
            contains,
            zkey,
        } => {
            let report = match (init, statement, ptau) {
                (Some(init), _, _) => {
                    ceremony::zkey_verify_from_init(&init, &zkey).with_context(|| {
                        format!("verifying {} from {}", zkey.display(), init.display())
                    })?
                }
                (None, Some(statement), Some(ptau)) => {
                    let r1cs = depin_circom::system::statement_r1cs(statement.into())?;
                    ceremony::zkey_verify_r1cs(&r1cs, &ptau, ptau_blake2b.as_deref(), &zkey)
                        .with_context(|| format!("verifying {}", zkey.display()))?
                }
                _ => bail!("zkey verify needs --statement and --ptau, or --init"),
            };
            println!("{report}");
            if let Some(hash) = contains {
                match report.transcript.find(&hash) {
                    Some(e) => println!("contribution #{} is in the transcript", e.index),
                    None => bail!("no contribution with hash {hash} in the transcript"),
                }
            }
        }
        ZkeyCommand::ExportVk { zkey, out } => {
            let report = ceremony::zkey_export_vk(&zkey, &out)
                .with_context(|| format!("{}", zkey.display()))?;
            println!("{report}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
