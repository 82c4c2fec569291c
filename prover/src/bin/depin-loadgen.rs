//! `depin-loadgen`: a load generator for `SubmitRecords`, built on the
//! device SDK's client.
//!
//! It registers `--devices` devices and publishes a fresh epoch (operator
//! token needed), signs every device's uptime heartbeats ahead of time, then
//! sends batches at a fixed rate (open loop: a request's latency counts from
//! the moment it was due, so a slow server cannot hide its queueing) and
//! reports records per second and the p50/p99/max latency of
//! `SubmitRecords`.
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
use depin_crypto::geo::k_q32_for_mhz;
use depin_device_sdk::client::{pb, ClientConfig, OperatorClient, ProverClient, UptimeChain};
use depin_statements::Fr;

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

fn publish(epoch: u32, beacon: Fr) -> pb::PublishEpochRequest {
    pb::PublishEpochRequest {
        epoch,
        beacon: depin_crypto::field::fr_to_string(&beacon),
        uptime: Some(pb::UptimePolicy {
            slots_per_epoch: 96,
            floor_slots: 48,
            max_latency_ms: 500,
            base_reward: 100,
            reward_per_slot: 5,
            reward_cap: 100_000,
        }),
        bandwidth: Some(pb::BandwidthPolicy {
            max_bytes_per_s: 1 << 20,
            rate_num: 1,
            rate_shift: 20,
            reward_cap: 1_000_000,
        }),
        coverage: Some(pb::CoveragePolicy {
            min_witnesses: 3,
            reward_per_witness: 10,
            reward_cap: 1000,
            min_distance_m: 300,
            max_distance_m: 20_000,
            eirp_dbm: 27,
            k_q32: k_q32_for_mhz(915),
            cell_bits: 12,
        }),
    }
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

async fn run(args: Args) -> anyhow::Result<()> {
    let mut _server = None;
    let mut _tmp = None;
    let (endpoint, token) = if args.in_process {
        let dir = std::env::temp_dir().join(format!("depin-loadgen-{}", std::process::id()));
        let token = "loadgen-in-process-token".to_string();
        let cfg = depin_prover::service::Config {
            listen: "127.0.0.1:0".parse()?,
            metrics_listen: String::new(),
            data_dir: dir.clone(),
            statements: Vec::new(),
            operator_token: Some(token.clone()),
            max_ingest_in_flight: 4096,
            ..Default::default()
        };
        let s = depin_prover::service::start(cfg).await?;
        let ep = format!("http://{}", s.addr);
        _server = Some(s);
        _tmp = Some(dir);
        (ep, token)
    } else {
        let token = if args.token.is_empty() {
            std::env::var("DEPIN_PROVER_OPERATOR_TOKEN").unwrap_or_default()
        } else {
            args.token.clone()
        };
        (args.endpoint.clone(), token)
    };
    let total_records = args.rate * args.duration;
    let per_device_batches = SLOTS / args.batch;
    let records_per_device = (per_device_batches * args.batch) as u64;
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
    let mut op = OperatorClient::connect(&endpoint, &token, cfg.clone())
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
    eprintln!(
        "registered {devices} devices in {:.1} s; signing {} heartbeats...",
        setup.elapsed().as_secs_f64(),
        devices as u64 * records_per_device
    );

    // Sign everything before the clock starts: request k of device d is
    // batch k of its chain.
    let batch = args.batch;
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
    // Round-robin: all devices' first batches, then all second batches...
    let mut schedule: Vec<(usize, pb::SubmitRecordsRequest)> = Vec::new();
    let mut per_device: Vec<std::vec::IntoIter<pb::SubmitRecordsRequest>> =
        prepared.into_iter().map(Vec::into_iter).collect();
    'outer: loop {
        let mut any = false;
        for (d, it) in per_device.iter_mut().enumerate() {
            if let Some(r) = it.next() {
                schedule.push((d, r));
                any = true;
                if (schedule.len() * batch) as u64 >= total_records {
                    break 'outer;
                }
            }
        }
        if !any {
            break;
        }
    }
    let requests = schedule.len();
    let mut clients = Vec::new();
    for _ in 0..args.connections {
        clients.push(ProverClient::connect(&endpoint, cfg.clone()).await?);
    }
    // One lock per device keeps its batches in chain order.
    let order: Vec<Arc<tokio::sync::Mutex<()>>> = (0..devices)
        .map(|_| Arc::new(tokio::sync::Mutex::new(())))
        .collect();
    let interval = Duration::from_secs_f64(batch as f64 / args.rate as f64);
    let accepted = Arc::new(AtomicU64::new(0));
    let not_accepted = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    eprintln!(
        "sending {requests} requests of {batch} records at {} records/s over {} connections",
        args.rate, args.connections
    );
    let start = Instant::now();
    for (i, (d, req)) in schedule.into_iter().enumerate() {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        // Take the device's turn before spawning, so its batches go in order.
        let lock = order[d].clone();
        let mut client = clients[i % clients.len()].clone();
        let (accepted, not_accepted, errors, tx) = (
            accepted.clone(),
            not_accepted.clone(),
            errors.clone(),
            tx.clone(),
        );
        tokio::spawn(async move {
            let _turn = lock.lock().await;
            match client.submit(&req).await {
                Ok(r) => {
                    accepted.fetch_add(u64::from(r.accepted), Ordering::Relaxed);
                    not_accepted.fetch_add(u64::from(r.rejected + r.refused), Ordering::Relaxed);
                }
                Err(e) => {
                    if errors.fetch_add(1, Ordering::Relaxed) < 5 {
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
    let ok = accepted.load(Ordering::Relaxed);
    let rps = ok as f64 / wall.as_secs_f64();
    let (p50, p99, max) = (
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or_default(),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if args.json {
        println!(
            "{{\"records_per_s\":{rps:.0},\"target_per_s\":{},\"records_accepted\":{ok},\"records_not_accepted\":{},\"requests\":{requests},\"errors\":{},\"batch\":{batch},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"wall_s\":{:.2}}}",
            args.rate,
            not_accepted.load(Ordering::Relaxed),
            errors.load(Ordering::Relaxed),
            ms(p50),
            ms(p99),
            ms(max),
            wall.as_secs_f64()
        );
    } else {
        println!(
            "records accepted   {ok} ({} not accepted, {} failed requests)",
            not_accepted.load(Ordering::Relaxed),
            errors.load(Ordering::Relaxed)
        );
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
    }
    if let Some(s) = _server.take() {
        s.shutdown();
        let _ = s.wait().await;
    }
    if let Some(d) = _tmp {
        let _ = std::fs::remove_dir_all(d);
    }
    if errors.load(Ordering::Relaxed) > 0 {
        bail!("{} requests failed", errors.load(Ordering::Relaxed));
    }
    Ok(())
}
