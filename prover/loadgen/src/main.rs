//! `depin-loadgen`: a load generator for `SubmitRecords`, built on the
//! device SDK's client.
//!
//! It registers `--devices` devices and publishes a fresh epoch (operator
//! token needed), signs every device's uptime heartbeats ahead of time, then
//! sends batches at a fixed rate (open loop: a request's latency counts from
//! the moment it was due, so a slow server cannot hide its queueing) and
//! reports records per second and the p50/p99/max latency of
//! `SubmitRecords`; its last line is `acknowledged N records` (the
//! records the service answered as accepted; `--json` prints one JSON
//! object instead).
//!
//! ```text
//! depin-loadgen --endpoint http://127.0.0.1:50051 --token $TOKEN --rate 10000 --duration 10
//! depin-loadgen --in-process --rate 10000 --duration 10    # starts a server in this process
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use depin_crypto::eddsa::PrivateKey;
use depin_device_sdk::client::{pb, ClientConfig, OperatorClient, ProverClient, UptimeChain};
use depin_proto::convert::publish_epoch_pb;
use depin_statements::Fr;
use depin_testkit::service::{bandwidth_policy, coverage_policy, uptime_policy};

/// Load generator for the prover's SubmitRecords.
#[derive(Debug, Parser)]
#[command(name = "depin-loadgen", version)]
struct Args {
    /// The prover's gRPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    endpoint: String,
    /// Operator token (to register devices and publish the epoch); default
    /// `$DEPIN_PROVER_OPERATOR_TOKEN`.
    #[arg(long, default_value = "")]
    token: String,
    /// Start a server in this process (temporary data directory, no keys)
    /// instead of using --endpoint.
    #[arg(long)]
    in_process: bool,
    /// Target records per second.
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Records per request.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Devices (each sends at most 96 heartbeats per epoch); default:
    /// enough for the run.
    #[arg(long)]
    devices: Option<usize>,
    /// HTTP/2 connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Epoch to publish and use (default: a fresh one from the clock).
    #[arg(long)]
    epoch: Option<u32>,
    /// Deadline of one request, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

const SLOTS: usize = 96;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The epoch with `beacon` and the test network's policies.
fn publish(epoch: u32, beacon: Fr) -> pb::PublishEpochRequest {
    publish_epoch_pb(
        epoch,
        &beacon,
        &uptime_policy(),
        &bandwidth_policy(),
        &coverage_policy(),
    )
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.batch == 0 || args.batch > SLOTS || args.rate == 0 || args.connections == 0 {
        bail!("--batch must be 1..=96, --rate and --connections at least 1");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

/// The service under load: an endpoint and operator token, and the
/// in-process server (with its data folder) when `--in-process`.
struct Target {
    endpoint: String,
    token: String,
    server: Option<depin_service::RunningService>,
    data: Option<std::path::PathBuf>,
}

async fn target(args: &Args) -> anyhow::Result<Target> {
    if !args.in_process {
        let token = if args.token.is_empty() {
            std::env::var("DEPIN_PROVER_OPERATOR_TOKEN").unwrap_or_default()
        } else {
            args.token.clone()
        };
        return Ok(Target {
            endpoint: args.endpoint.clone(),
            token,
            server: None,
            data: None,
        });
    }
    let dir = std::env::temp_dir().join(format!("depin-loadgen-{}", std::process::id()));
    let token = "loadgen-in-process-token".to_string();
    let cfg = depin_service::Config {
        listen: "127.0.0.1:0".parse()?,
        metrics_listen: String::new(),
        data_dir: dir.clone(),
        statements: Vec::new(),
        operator_token: Some(token.clone()),
        max_ingest_in_flight: 4096,
        ..Default::default()
    };
    let s = depin_service::start(cfg).await?;
    Ok(Target {
        endpoint: format!("http://{}", s.addr),
        token,
        server: Some(s),
        data: Some(dir),
    })
}

/// Registers the devices' keys, 16 calls at a time.
async fn register(op: &OperatorClient, keys: &[PrivateKey]) -> anyhow::Result<()> {
    let mut regs = tokio::task::JoinSet::new();
    for chunk in keys.chunks(keys.len().div_ceil(16)) {
        let mut op = op.clone();
        let chunk: Vec<_> = chunk.iter().map(PrivateKey::public_key).collect();
        regs.spawn(async move {
            for k in chunk {
                op.register_device(&k).await?;
            }
            Ok::<_, depin_device_sdk::client::ClientError>(())
        });
    }
    while let Some(r) = regs.join_next().await {
        r??;
    }
    Ok(())
}

/// Signs every device's batches before the clock starts (request `k` of a
/// device is batch `k` of its chain) and orders them round-robin: all
/// devices' first batches, then all second batches, ..., up to `total`
/// records.
async fn schedule(
    keys: Vec<PrivateKey>,
    epoch: u32,
    beacon: Fr,
    batch: usize,
    total: u64,
) -> anyhow::Result<Vec<(usize, pb::SubmitRecordsRequest)>> {
    let per_device_batches = SLOTS / batch;
    let prepared: Vec<Vec<pb::SubmitRecordsRequest>> = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        keys.into_par_iter()
            .map(|k| {
                let mut chain = UptimeChain::new(k, epoch);
                (0..per_device_batches)
                    .map(|b| {
                        let slots: Vec<u32> =
                            ((b * batch) as u32..((b + 1) * batch) as u32).collect();
                        let hbs = chain.heartbeats(beacon, &slots, 20);
                        chain.batch(&hbs)
                    })
                    .collect()
            })
            .collect()
    })
    .await?;
    let mut schedule: Vec<(usize, pb::SubmitRecordsRequest)> = Vec::new();
    let mut per_device: Vec<std::vec::IntoIter<pb::SubmitRecordsRequest>> =
        prepared.into_iter().map(Vec::into_iter).collect();
    'outer: loop {
        let mut any = false;
        for (d, it) in per_device.iter_mut().enumerate() {
            if let Some(r) = it.next() {
                schedule.push((d, r));
                any = true;
                if (schedule.len() * batch) as u64 >= total {
                    break 'outer;
                }
            }
        }
        if !any {
            break;
        }
    }
    Ok(schedule)
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    accepted: AtomicU64,
    not_accepted: AtomicU64,
    errors: AtomicU64,
}

/// Sends the schedule at `interval` per request over `clients`, one
/// device's batches in chain order; returns each request's latency from
/// its due time, and the wall time.
async fn send(
    schedule: Vec<(usize, pb::SubmitRecordsRequest)>,
    devices: usize,
    clients: &[ProverClient],
    interval: Duration,
    tally: &Arc<Tally>,
) -> (Vec<Duration>, Duration) {
    let requests = schedule.len();
    // One lock per device keeps its batches in chain order.
    let order: Vec<Arc<tokio::sync::Mutex<()>>> = (0..devices)
        .map(|_| Arc::new(tokio::sync::Mutex::new(())))
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    let start = Instant::now();
    for (i, (d, req)) in schedule.into_iter().enumerate() {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        // Take the device's turn before spawning, so its batches go in order.
        let lock = order[d].clone();
        let mut client = clients[i % clients.len()].clone();
        let (tally, tx) = (tally.clone(), tx.clone());
        tokio::spawn(async move {
            let _turn = lock.lock().await;
            match client.submit(&req).await {
                Ok(r) => {
                    tally
                        .accepted
                        .fetch_add(u64::from(r.accepted), Ordering::Relaxed);
                    tally
                        .not_accepted
                        .fetch_add(u64::from(r.rejected + r.refused), Ordering::Relaxed);
                }
                Err(e) => {
                    if tally.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("request failed: {e}");
                    }
                }
            }
            let _ = tx.send(due.elapsed());
        });
    }
    drop(tx);
    let mut lat = Vec::with_capacity(requests);
    while let Some(l) = rx.recv().await {
        lat.push(l);
    }
    let wall = start.elapsed();
    lat.sort();
    (lat, wall)
}

/// Prints the results (JSON with `--json`).
fn print_results(args: &Args, tally: &Tally, lat: &[Duration], wall: Duration) {
    let requests = lat.len();
    let batch = args.batch;
    let ok = tally.accepted.load(Ordering::Relaxed);
    let not_accepted = tally.not_accepted.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    let rps = ok as f64 / wall.as_secs_f64();
    let (p50, p99, max) = (
        percentile(lat, 0.50),
        percentile(lat, 0.99),
        lat.last().copied().unwrap_or_default(),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if args.json {
        println!(
            "{{\"records_per_s\":{rps:.0},\"target_per_s\":{},\"records_accepted\":{ok},\"records_not_accepted\":{not_accepted},\"requests\":{requests},\"errors\":{errors},\"batch\":{batch},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"wall_s\":{:.2}}}",
            args.rate,
            ms(p50),
            ms(p99),
            ms(max),
            wall.as_secs_f64()
        );
    } else {
        println!("records accepted   {ok} ({not_accepted} not accepted, {errors} failed requests)");
        println!(
            "throughput         {rps:.0} records/s (target {})",
            args.rate
        );
        println!(
            "SubmitRecords      p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({requests} requests of {batch})",
            ms(p50),
            ms(p99),
            ms(max)
        );
        // Last, for scripts: records the service answered as accepted
        // (committed before the answer).
        println!("acknowledged {ok} records");
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut target = target(&args).await?;
    let total_records = args.rate * args.duration;
    let records_per_device = ((SLOTS / args.batch) * args.batch) as u64;
    let devices = args
        .devices
        .unwrap_or(total_records.div_ceil(records_per_device) as usize)
        .max(1);
    let epoch = args.epoch.unwrap_or_else(|| {
        (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() / 60)
            % u64::from(u32::MAX)) as u32
    });
    let cfg = ClientConfig {
        timeout: Duration::from_millis(args.timeout_ms),
        retries: 0,
        ..ClientConfig::default()
    };
    let beacon = Fr::from(u64::from(epoch).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);

    // Setup: epoch and devices.
    let mut op = OperatorClient::connect(&target.endpoint, &target.token, cfg.clone())
        .await
        .context("connecting as operator")?;
    op.publish_epoch(publish(epoch, beacon))
        .await
        .context("publishing the epoch (is --token right?)")?;
    let keys: Vec<PrivateKey> = (0..devices)
        .map(|i| {
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&(i as u64).to_le_bytes());
            b[8..12].copy_from_slice(&epoch.to_le_bytes());
            b[31] = 0x5a;
            PrivateKey::from_bytes(b)
        })
        .collect();
    let setup = Instant::now();
    register(&op, &keys).await?;
    eprintln!(
        "registered {devices} devices in {:.1} s; signing {} heartbeats...",
        setup.elapsed().as_secs_f64(),
        devices as u64 * records_per_device
    );
    let schedule = schedule(keys, epoch, beacon, args.batch, total_records).await?;
    let mut clients = Vec::new();
    for _ in 0..args.connections {
        clients.push(ProverClient::connect(&target.endpoint, cfg.clone()).await?);
    }
    let interval = Duration::from_secs_f64(args.batch as f64 / args.rate as f64);
    eprintln!(
        "sending {} requests of {} records at {} records/s over {} connections",
        schedule.len(),
        args.batch,
        args.rate,
        args.connections
    );
    let tally = Arc::new(Tally::default());
    let (lat, wall) = send(schedule, devices, &clients, interval, &tally).await;
    print_results(&args, &tally, &lat, wall);
    if let Some(s) = target.server.take() {
        s.shutdown();
        let _ = s.wait().await;
    }
    if let Some(d) = target.data.take() {
        let _ = std::fs::remove_dir_all(d);
    }
    let errors = tally.errors.load(Ordering::Relaxed);
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    Ok(())
}
