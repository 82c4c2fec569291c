//! `depin-demo`: the whole system end to end on one machine.
//!
//! It starts (or connects to) a prover with its embedded store and
//! development keys, starts (or connects to) an Ethereum node with the
//! verifier and reward contracts deployed and the reward token funded,
//! registers a simulated fleet of honest devices and cheaters, has them
//! submit an epoch of signed records over gRPC, proves every device's
//! epoch, sends the reward claims as real transactions and prints what
//! happened: per statement, records accepted and rejected by reason,
//! proofs, proving time, gas per claim and rewards paid; and every cheater
//! with the place it was stopped.
//!
//! Exit status: 0 when every honest device was paid and no cheater was, 1
//! when that failed, 2 when the run itself could not be carried out.
#![allow(clippy::print_stderr)]

mod batched;
mod node;
mod onchain;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use depin_crypto::field::fr_to_string;
use depin_crypto::Fr;
use depin_device_sdk::client::{pb, ClientConfig, ClientError, ProverClient};
use depin_fleet::{
    Behaviour, DeviceReport, Fleet, FleetConfig, Phase, Progress as FleetProgress, ProgressFn,
};
use depin_proving::Backend;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use report::{ClaimOutcome, DeviceOutcome, ProofOutcome, Report, Role};

/// Devices, prover and on-chain rewards, end to end.
#[derive(Debug, Parser)]
#[command(name = "depin-demo", version)]
struct Cli {
    /// Devices in the simulated fleet, spread over the three statements.
    #[arg(long, default_value_t = 30)]
    devices: usize,
    /// Fraction of the fleet that cheats.
    #[arg(long, default_value_t = 0.2)]
    cheaters: f64,
    /// Epoch length: uptime heartbeat slots per epoch (at most the uptime
    /// statement's capacity).
    #[arg(long, default_value_t = 96)]
    slots: u32,
    /// The epoch number.
    #[arg(long, default_value_t = 1)]
    epoch: u32,
    /// Seed of the fleet's keys and behaviour.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Use this prover (e.g. http://127.0.0.1:50051) instead of starting one;
    /// it needs `--operator-token` and the golden development keys.
    #[arg(long)]
    prover: Option<String>,
    /// Operator token of the prover (default: a fresh one for the prover the
    /// demo starts).
    #[arg(long, env = "DEPIN_OPERATOR_TOKEN")]
    operator_token: Option<String>,
    /// Use this Ethereum JSON-RPC endpoint instead of starting anvil.
    #[arg(long)]
    rpc: Option<String>,
    /// Private key (hex) that deploys and operates the contracts on `--rpc`
    /// (default: anvil's first development account).
    #[arg(long, env = "DEPIN_DEPLOYER_KEY")]
    deployer_key: Option<String>,
    /// Working directory: the prover's store and its development keys
    /// (kept between runs, so keys are made once).
    #[arg(long, default_value = "target/depin-demo")]
    data: PathBuf,
    /// The repository root (contracts, anvil, golden keys).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))]
    repo: PathBuf,
    /// No progress bars (logs and CI).
    #[arg(long)]
    quiet: bool,
    /// Prove and pay in epoch batches of this many device-epochs (one
    /// proof and one `submitBatch` per batch, then a withdrawal per
    /// device); 0 proves and claims every device-epoch on its own. The
    /// contracts carry verifiers for batches of 4; for another size the
    /// demo renders, compiles and deploys the three (the prover makes the
    /// batch keys on its first run with that size: minutes). Default: 4
    /// with Groth16, 0 with halo2 (batches are Groth16 proofs).
    #[arg(long)]
    batch: Option<usize>,
    /// The proof system of every statement: `groth16`, or `halo2` (one
    /// proof and one `claimHalo2` per device-epoch, verified by the
    /// committed halo2 verifiers; the prover makes its halo2 keys at start,
    /// about a minute).
    #[arg(long, default_value = "groth16", value_parser = parse_backend)]
    backend: Backend,
}

fn parse_backend(name: &str) -> Result<Backend, String> {
    Backend::from_name(name)
        .ok_or_else(|| format!("{name:?} is not a proof system (groth16, halo2)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(report) => {
            println!("\n{}", report.render());
            if report.verdict().ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Progress bars, or nothing with `--quiet`.
struct Progress {
    multi: MultiProgress,
    quiet: bool,
}

impl Progress {
    fn step(&self, n: usize, what: &str) {
        let line = format!("[{n}/6] {what}");
        if self.quiet {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    fn bar(&self, len: u64, what: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = self.multi.add(ProgressBar::new(len));
        pb.set_style(
            ProgressStyle::with_template("      {msg:<24} [{bar:32}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_message(what.to_string());
        pb
    }

    fn spinner(&self, what: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = self.multi.add(ProgressBar::new_spinner());
        pb.set_message(what.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }
}

/// Asks the prover for every device's proof, each request signed by the
/// device (the epoch still takes records), then waits for each job and
/// fetches the calldata of the proven ones.
async fn prove_all(
    client: &mut ProverClient,
    fleet: &Fleet,
    devices: &[DeviceReport],
    (epoch, beacon): (u32, Fr),
    bar: &ProgressBar,
) -> Result<Vec<Epoch>> {
    let mut queued = Vec::with_capacity(devices.len());
    for d in devices {
        let request = fleet.devices()[d.index].prove_request(epoch, beacon);
        // The prover refuses (FAILED_PRECONDITION) a device with nothing
        // stored for the epoch: a job that never starts.
        match client.prove_epoch_request(&request).await {
            Ok(job) => queued.push(Ok(job.job_id)),
            Err(ClientError::Status(s)) if s.code() == tonic::Code::FailedPrecondition => {
                queued.push(Err(s.message().to_string()));
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("queueing the proof of device {}", fr_to_string(&d.id))
                })
            }
        }
    }
    let mut epochs = Vec::with_capacity(queued.len());
    for q in queued {
        epochs.push(match q {
            Ok(job_id) => {
                let job = client.wait_job(&job_id).await?;
                let done =
                    pb::JobState::try_from(job.state).unwrap_or_default() == pb::JobState::Done;
                if done && !job.batch_id.is_empty() {
                    Epoch::Batched(job)
                } else if done {
                    let calldata = client.get_proof(&job_id).await?.calldata;
                    Epoch::Proven { job, calldata }
                } else {
                    Epoch::NotProven(job.failure)
                }
            }
            Err(why) => Epoch::NotProven(why),
        });
        bar.inc(1);
    }
    Ok(epochs)
}

impl Cli {
    /// The batch size: `--batch`, else 4 with Groth16 and 0 with halo2.
    fn batch(&self) -> usize {
        self.batch.unwrap_or(match self.backend {
            Backend::Groth16 => depin_batch::DEFAULT_BATCH_SIZE,
            Backend::Halo2 => 0,
        })
    }

    /// The arguments checked; the repository root, canonical.
    fn check(&self) -> Result<PathBuf> {
        if !(0.0..=1.0).contains(&self.cheaters) {
            bail!("--cheaters must be between 0 and 1, got {}", self.cheaters);
        }
        if self.devices == 0 {
            bail!("--devices must be at least 1");
        }
        if self.batch() > depin_batch::public_data::MAX_BATCH {
            bail!(
                "--batch {} is above the largest batch ({})",
                self.batch(),
                depin_batch::public_data::MAX_BATCH
            );
        }
        if self.backend == Backend::Halo2 && self.batch() > 0 {
            bail!("--backend halo2 proves every device-epoch on its own: epoch batches are Groth16 proofs (leave out --batch, or pass --batch 0)");
        }
        self.repo
            .canonicalize()
            .with_context(|| format!("repository root {}", self.repo.display()))
    }
}

async fn run(cli: Cli) -> Result<Report> {
    let started = Instant::now();
    let repo = cli.check()?;
    let progress = Progress {
        multi: MultiProgress::new(),
        quiet: cli.quiet,
    };

    // 1. The prover.
    progress.step(
        1,
        match (&cli.prover, cli.backend) {
            (Some(_), _) => "prover: the one given (--prover)",
            (None, Backend::Groth16) => "prover: embedded store, development keys",
            (None, Backend::Halo2) => "prover: embedded store, halo2 with development parameters",
        },
    );
    let node = match &cli.prover {
        Some(url) => {
            let token = cli
                .operator_token
                .clone()
                .context("--prover needs --operator-token (or DEPIN_OPERATOR_TOKEN)")?;
            node::Node::connect(url, &token).await?
        }
        None => node::Node::start(&cli.data, cli.batch(), cli.backend).await?,
    };
    let spinner = progress.spinner(match cli.backend {
        Backend::Groth16 => "verifying keys (made once, about a minute)",
        Backend::Halo2 => "halo2 keys (made at every start, about a minute)",
    });
    node.wait_for_golden_keys(&repo, cli.backend).await?;
    spinner.finish_and_clear();

    // 2. The chain.
    progress.step(2, "chain: verifiers, reward contract, token");
    let mut chain = onchain::Chain::start(
        &repo,
        cli.rpc.as_deref(),
        cli.deployer_key.as_deref(),
        cli.backend == Backend::Halo2,
    )
    .await?;
    if cli.batch() > 0 {
        chain
            .enable_batches(&repo, cli.batch())
            .await
            .context("verifiers for the batch size")?;
    }
    let mut report = Report {
        deployments: chain.deployments(),
        ..Report::default()
    };

    // 3. The fleet: registration and submission.
    progress.step(3, "fleet: register devices, submit an epoch of records");
    let fleet_cfg = FleetConfig::new(cli.devices, cli.epoch)
        .with_seed(cli.seed)
        .with_cheater_fraction(cli.cheaters)
        .with_slots_per_epoch(cli.slots);
    let fleet = Fleet::new(fleet_cfg).context("the fleet's configuration")?;
    let bar = progress.bar(fleet.devices().len() as u64, "registering");
    let on_progress: ProgressFn = {
        let bar = bar.clone();
        Arc::new(move |p: FleetProgress| {
            bar.set_message(match p.phase {
                Phase::Registering => "registering",
                Phase::Submitting => "devices submitting",
            });
            bar.set_length(p.total);
            bar.set_position(p.done);
        })
    };
    let (_setup, fleet_report) = fleet
        .run(&node.endpoint, &node.token, on_progress)
        .await
        .context("simulating the fleet")?;
    bar.finish();

    // The contract learns what the prover published: policies, beacon,
    // client registry root, and every device's payout address.
    let mut client = ProverClient::connect(&node.endpoint, client_config()).await?;
    let policy = client.get_policy(cli.epoch).await?;
    chain.publish_epoch(&policy).await?;
    let ids: Vec<Fr> = fleet_report.devices.iter().map(|d| d.id).collect();
    chain.register_devices(&ids).await?;

    // 4. Proofs.
    progress.step(4, "prover: prove every device's epoch");
    let bar = progress.bar(ids.len() as u64, "proofs");
    let beacon =
        depin_crypto::field::fr_from_decimal(&policy.beacon).context("the published beacon")?;
    let epochs = prove_all(
        &mut client,
        &fleet,
        &fleet_report.devices,
        (cli.epoch, beacon),
        &bar,
    )
    .await?;
    bar.finish();

    if cli.batch() > 0 {
        batch_payouts(
            &chain,
            &mut client,
            (&fleet_report.devices, &epochs),
            cli.batch(),
            &progress,
            &mut report,
        )
        .await?;
    } else {
        single_claims(
            &chain,
            &fleet_report.devices,
            &epochs,
            &ids,
            &progress,
            &mut report,
        )
        .await?;
    }
    report.wall_s = started.elapsed().as_secs_f64();
    node.stop().await;
    Ok(report)
}

/// Steps 5 and 6 in epoch batches: every batch applied in order and every
/// device's withdrawal, with the attacks on both.
async fn batch_payouts(
    chain: &onchain::Chain,
    client: &mut ProverClient,
    (devices, epochs): (&[DeviceReport], &[Epoch]),
    batch_size: usize,
    progress: &Progress,
    report: &mut Report,
) -> Result<()> {
    // 5. Batches and withdrawals.
    progress.step(
        5,
        "chain: every batch in order, then every device's withdrawal",
    );
    let bar = progress.bar(epochs.len() as u64, "withdrawals");
    let jobs: Vec<Option<pb::Job>> = epochs
        .iter()
        .map(|e| match e {
            Epoch::Batched(j) => Some(j.clone()),
            _ => None,
        })
        .collect();
    let settled = batched::settle(chain, client, devices, &jobs, batch_size, &bar).await?;
    bar.finish();
    progress.step(6, "chain: attacks on batches and withdrawals refused");
    for ((d, epoch), claim) in devices.iter().zip(epochs).zip(settled.claims) {
        let proof = match epoch {
            Epoch::Batched(job) => ProofOutcome::Proven {
                reward: job.reward,
                proving_ms: job.proving_ms,
            },
            Epoch::Proven { job, .. } => ProofOutcome::Proven {
                reward: job.reward,
                proving_ms: job.proving_ms,
            },
            Epoch::NotProven(why) => ProofOutcome::NotProven(why.clone()),
        };
        report.devices.push(outcome(d, proof, claim));
    }
    report.attacks = settled.attacks;
    report.batch_gas = settled.gas;
    Ok(())
}

/// Steps 5 and 6 with one claim per device-epoch: two attacks with the
/// first honest proof that shows a reward, before it is paid (its reward
/// raised, its proof presented for another device), every claim, then a
/// paid claim replayed.
async fn single_claims(
    chain: &onchain::Chain,
    devices: &[DeviceReport],
    epochs: &[Epoch],
    ids: &[Fr],
    progress: &Progress,
    report: &mut Report,
) -> Result<()> {
    // 5. Claims, after two attacks with the first honest proof that shows a
    // reward, before it is paid: its reward raised, and its proof presented
    // for another device.
    progress.step(5, "chain: tampered claims, then every device's claim");
    let target = devices.iter().zip(epochs).find_map(|(d, e)| match e {
        Epoch::Proven { job, calldata } if d.behaviour.is_honest() && job.reward > 0 => {
            Some(calldata)
        }
        _ => None,
    });
    if let Some(calldata) = target {
        report.attacks = chain.tamper_attacks(calldata, ids).await?;
    }
    let bar = progress.bar(epochs.len() as u64, "claims");
    let mut first_paid: Option<&[u8]> = None;
    for (d, epoch) in devices.iter().zip(epochs) {
        let (proof, claim) = match epoch {
            Epoch::Proven { job, calldata } => {
                let claim = chain.claim(calldata).await?;
                if matches!(claim, ClaimOutcome::Paid { .. }) && first_paid.is_none() {
                    first_paid = Some(calldata);
                }
                (
                    ProofOutcome::Proven {
                        reward: job.reward,
                        proving_ms: job.proving_ms,
                    },
                    claim,
                )
            }
            Epoch::NotProven(why) => (
                ProofOutcome::NotProven(why.clone()),
                ClaimOutcome::NotClaimed,
            ),
            // A prover that batches (`--prover`) gives no single proofs.
            Epoch::Batched(job) => (
                ProofOutcome::NotProven(format!(
                    "proven in {}: run with --batch to withdraw",
                    job.batch_id
                )),
                ClaimOutcome::NotClaimed,
            ),
        };
        bar.inc(1);
        report.devices.push(outcome(d, proof, claim));
    }
    bar.finish();

    // 6. A paid claim, replayed.
    progress.step(6, "chain: a paid claim replayed");
    if let Some(calldata) = first_paid {
        report.attacks.push(chain.replay(calldata).await?);
    }
    Ok(())
}

fn client_config() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(60),
        ..ClientConfig::default()
    }
}

/// A device's epoch at the prover.
enum Epoch {
    /// Proven: the finished job and the calldata of its claim.
    Proven {
        /// The job.
        job: pb::Job,
        /// `GetProof`'s calldata for `claim`.
        calldata: Vec<u8>,
    },
    /// Proven in an epoch batch (the job names it).
    Batched(pb::Job),
    /// Not proven, and why.
    NotProven(String),
}

/// A device's row of the report.
fn outcome(d: &DeviceReport, proof: ProofOutcome, claim: ClaimOutcome) -> DeviceOutcome {
    DeviceOutcome {
        device: fr_to_string(&d.id),
        statement: d.statement,
        role: match d.behaviour {
            Behaviour::Honest => Role::Honest,
            Behaviour::Cheater(cheat) => Role::Cheater(cheat.as_str().to_string()),
        },
        accepted: u64::from(d.accepted),
        rejected: d
            .reasons()
            .iter()
            .map(|(r, n)| (r.as_str().to_string(), u64::from(*n)))
            .collect::<BTreeMap<_, _>>(),
        proof,
        claim,
    }
}
