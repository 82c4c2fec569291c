//! `init`, `record`, `status` and `submit`: a device's key file,
//! configuration and spool from the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use depin_crypto::field::fr_to_string;
use depin_device_sdk::chain::ChainState;
use depin_device_sdk::client::{ClientConfig, ProverClient};
use depin_device_sdk::decimal::{decode_field, DecimalPoint};
use depin_device_sdk::keyfile;
use depin_device_sdk::recorder::{Recorder, RecorderError, Stored};
use depin_device_sdk::records::Location;
use depin_device_sdk::signer::{ClientSigner, Device};
use depin_device_sdk::spool::{SpoolConfig, SpoolError};
use depin_device_sdk::submit::{drain, DrainEvent, DrainOptions};
use depin_device_sdk::wire::SignedRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Exit status of `record` when the spool is full (nothing was written).
pub const EXIT_SPOOL_FULL: u8 = 3;

/// The name `init` gives the configuration file.
pub const CONFIG_FILE: &str = "device.toml";

/// A device's configuration file (TOML). Relative paths are relative to
/// the file's directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The private key file (mode 0600).
    pub key_file: PathBuf,
    /// The recorder's state: `spool/` and the chain checkpoints.
    pub state_dir: PathBuf,
    /// The prover service's gRPC endpoint (for submitting the spool).
    pub endpoint: String,
    /// Spool limits.
    pub spool: SpoolSection,
}

/// The `[spool]` table.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolSection {
    /// Bound on the spool's files, in bytes.
    pub max_bytes: u64,
    /// Segment size, in bytes.
    pub segment_bytes: u64,
    /// Sync every append and acknowledgement to disk.
    pub sync: bool,
}

impl Config {
    fn spool_config(&self) -> SpoolConfig {
        SpoolConfig {
            segment_bytes: self.spool.segment_bytes,
            sync: self.spool.sync,
            ..SpoolConfig::with_max_bytes(self.spool.max_bytes)
        }
    }
}

/// `depin-device init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the key file, configuration and state in.
    #[arg(long)]
    dir: PathBuf,
    /// The prover service's endpoint.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    endpoint: String,
    /// Bound on the spool's size in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    spool_max_bytes: u64,
}

/// `depin-device record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The configuration file written by `init`.
    #[arg(long, default_value = CONFIG_FILE)]
    config: PathBuf,
    #[command(subcommand)]
    what: Measurement,
}

#[derive(Debug, Subcommand)]
enum Measurement {
    /// An uptime heartbeat: answers the slot's challenge, extends the
    /// epoch's chain and signs its head.
    Heartbeat {
        /// Epoch number.
        #[arg(long)]
        epoch: u32,
        /// The epoch's beacon (decimal field element).
        #[arg(long)]
        beacon: String,
        /// Slot within the epoch (strictly increasing).
        #[arg(long)]
        slot: u32,
        /// Measured latency in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u32,
    },
    /// A bandwidth session receipt co-signed by a client whose key file is
    /// given (for tests and demos: a real client co-signs on its side).
    Receipt {
        /// Epoch number.
        #[arg(long)]
        epoch: u32,
        /// The client's key file (mode 0600).
        #[arg(long)]
        client_key_file: PathBuf,
        /// Bytes served.
        #[arg(long)]
        bytes: u64,
        /// Session duration in seconds.
        #[arg(long)]
        duration_s: u32,
    },
    /// The device's coverage claim: its location and beacon id.
    Claim {
        /// Epoch number.
        #[arg(long)]
        epoch: u32,
        /// The epoch's beacon (decimal field element).
        #[arg(long)]
        beacon: String,
        /// Easting in metres (below 2^31).
        #[arg(long)]
        x: u32,
        /// Northing in metres (below 2^31).
        #[arg(long)]
        y: u32,
    },
    /// A witness report of another device's beacon, signed by this device.
    Witness {
        /// Epoch number.
        #[arg(long)]
        epoch: u32,
        /// The beacon id heard (decimal field element).
        #[arg(long)]
        beacon_id: String,
        /// This device's easting in metres.
        #[arg(long)]
        x: u32,
        /// This device's northing in metres.
        #[arg(long)]
        y: u32,
        /// Received signal strength in dBm.
        #[arg(long, allow_hyphen_values = true)]
        rssi_dbm: i32,
    },
}

/// `depin-device status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The configuration file written by `init`.
    #[arg(long, default_value = CONFIG_FILE)]
    config: PathBuf,
}

/// `depin-device submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The device's directory (holding `device.toml`, as `init` made it).
    #[arg(long)]
    dir: PathBuf,
    /// The prover service's endpoint (default: `endpoint` in device.toml).
    #[arg(long)]
    prover: Option<String>,
    /// Records per request.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// How long to keep retrying while the prover is unavailable, in
    /// seconds (0: forever).
    #[arg(long, default_value_t = 300)]
    retry_for_s: u64,
    /// Deadline of each call, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout_s: u64,
    #[command(flatten)]
    tls: crate::TlsArgs,
}

/// Why `record` failed, for the exit status.
pub enum RecordFailure {
    /// The spool is full.
    SpoolFull(anyhow::Error),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for RecordFailure {
    fn from(e: anyhow::Error) -> Self {
        RecordFailure::Other(e)
    }
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn load_config(path: &Path) -> anyhow::Result<(Config, PathBuf)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration {}", path.display()))?;
    let cfg: Config =
        toml::from_str(&text).with_context(|| format!("configuration {}", path.display()))?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((cfg, base))
}

fn open(config: &Path) -> anyhow::Result<Recorder> {
    Ok(open_with_config(config)?.0)
}

fn open_with_config(config: &Path) -> anyhow::Result<(Recorder, Config)> {
    let (cfg, base) = load_config(config)?;
    let key = keyfile::load(&resolve(&base, &cfg.key_file))?;
    let state = resolve(&base, &cfg.state_dir);
    let rec = Recorder::open(&state, Device::new(key), cfg.spool_config())
        .with_context(|| format!("opening the recorder in {}", state.display()))?;
    Ok((rec, cfg))
}

/// Creates the directory, a fresh key file (0600) and the configuration.
pub fn init(args: InitArgs) -> anyhow::Result<()> {
    let InitArgs {
        dir,
        endpoint,
        spool_max_bytes,
    } = args;
    if spool_max_bytes < 4096 {
        bail!("--spool-max-bytes must be at least 4096");
    }
    let spool = SpoolConfig::with_max_bytes(spool_max_bytes);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let config_path = dir.join(CONFIG_FILE);
    if config_path.exists() {
        bail!(
            "{} already exists; refusing to overwrite it",
            config_path.display()
        );
    }
    let cfg = Config {
        key_file: "device.key".into(),
        state_dir: "state".into(),
        endpoint,
        spool: SpoolSection {
            max_bytes: spool.max_bytes,
            segment_bytes: spool.segment_bytes,
            sync: true,
        },
    };
    let key = keyfile::generate(&dir.join(&cfg.key_file), &mut rand::rngs::OsRng)?;
    let text = format!(
        "# depin-device configuration, written by `depin-device init`.\n\
         # Relative paths are relative to this file's directory.\n{}",
        toml::to_string(&cfg).context("encoding the configuration")?
    );
    let tmp = dir.join(format!("{CONFIG_FILE}.tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &config_path)
        .with_context(|| format!("writing {}", config_path.display()))?;
    let device = Device::new(key);
    // Creates the spool so that `status` works at once.
    drop(
        Recorder::open(dir.join(&cfg.state_dir), device.clone(), cfg.spool_config())
            .context("creating the state directory")?,
    );
    crate::print_line(&serde_json::to_string(&json!({
        "config": config_path,
        "device_id": fr_to_string(&device.id()),
        "public_key": DecimalPoint::from_point(&device.public_key().0),
    }))?)
}

fn stored_json(s: &Stored, rec: &Recorder) -> serde_json::Value {
    let mut v = json!({
        "seq": s.seq,
        "kind": s.record.kind().name(),
        "epoch": s.record.epoch(),
        "pending": rec.spool().pending(),
    });
    if let Some((_, head)) = s.record.chain_head() {
        v["head"] = json!(fr_to_string(&head));
    }
    match &s.record {
        SignedRecord::Receipt(r) => v["session"] = json!(r.co_signed.receipt.session),
        SignedRecord::Claim(c) => v["beacon_id"] = json!(fr_to_string(&c.claim.beacon_id)),
        _ => {}
    }
    v
}

/// Signs a measurement and appends it to the spool.
pub fn record(args: RecordArgs) -> Result<(), RecordFailure> {
    let mut rec = open(&args.config)?;
    let stored = match args.what {
        Measurement::Heartbeat {
            epoch,
            beacon,
            slot,
            latency_ms,
        } => {
            let beacon = decode_field("--beacon", &beacon).map_err(anyhow::Error::from)?;
            rec.record_heartbeat(epoch, beacon, slot, latency_ms)
        }
        Measurement::Receipt {
            epoch,
            client_key_file,
            bytes,
            duration_s,
        } => {
            let client =
                ClientSigner::new(keyfile::load(&client_key_file).map_err(anyhow::Error::from)?);
            let proposal = rec
                .propose_receipt(epoch, client.id(), bytes, duration_s)
                .map_err(anyhow::Error::from)?;
            let co = client
                .co_sign_unchecked(&proposal)
                .map_err(|e| anyhow!("the client refused to co-sign: {e}"))?;
            rec.record_receipt(&co)
        }
        Measurement::Claim {
            epoch,
            beacon,
            x,
            y,
        } => {
            let beacon = decode_field("--beacon", &beacon).map_err(anyhow::Error::from)?;
            rec.record_claim(epoch, beacon, Location { x, y })
        }
        Measurement::Witness {
            epoch,
            beacon_id,
            x,
            y,
            rssi_dbm,
        } => {
            let id = decode_field("--beacon-id", &beacon_id).map_err(anyhow::Error::from)?;
            rec.record_witness(id, Location { x, y }, rssi_dbm, epoch)
        }
    };
    let stored = match stored {
        Ok(s) => s,
        Err(e @ RecorderError::Spool(SpoolError::Full { .. })) => {
            return Err(RecordFailure::SpoolFull(e.into()))
        }
        Err(e) => return Err(RecordFailure::Other(e.into())),
    };
    let line = serde_json::to_string(&stored_json(&stored, &rec)).map_err(anyhow::Error::from)?;
    crate::print_line(&line)?;
    Ok(())
}

fn chain_json(c: Option<ChainState>) -> serde_json::Value {
    match c {
        None => serde_json::Value::Null,
        Some(c) => json!({
            "epoch": c.epoch,
            "len": c.len,
            "next": c.next,
            "head": fr_to_string(&c.head),
        }),
    }
}

/// Prints the spool's counters and the chains' states.
pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let rec = open(&args.config)?;
    let s = rec.spool();
    let r = s.recovery();
    crate::print_line(&serde_json::to_string(&json!({
        "device_id": fr_to_string(&rec.device().id()),
        "pending": s.pending(),
        "pending_bytes": s.pending_bytes(),
        "used_bytes": s.used_bytes(),
        "max_bytes": s.config().max_bytes,
        "acked": s.acked(),
        "next_seq": s.next_seq(),
        "segments": s.segments(),
        "uptime": chain_json(rec.uptime_state()),
        "bandwidth": chain_json(rec.bandwidth_state()),
        "recovery": {
            "torn_tail_bytes": r.torn_tail_bytes,
            "corrupt_regions": r.corrupt_regions,
            "corrupt_bytes": r.corrupt_bytes,
            "ack_cursor_lost": r.ack_cursor_lost,
        },
    }))?)
}

fn reasons_json(
    m: &std::collections::BTreeMap<depin_statements::RejectReason, u64>,
) -> serde_json::Value {
    serde_json::Value::Object(
        m.iter()
            .map(|(r, n)| (r.as_str().to_string(), json!(n)))
            .collect(),
    )
}

/// Drains the device's spool to the prover; prints a JSON summary.
pub fn submit(args: SubmitArgs) -> anyhow::Result<()> {
    let (mut rec, cfg) = open_with_config(&args.dir.join(CONFIG_FILE))?;
    let endpoint = args.prover.unwrap_or(cfg.endpoint);
    let client_cfg = ClientConfig {
        timeout: Duration::from_secs(args.timeout_s.max(1)),
        // The loop below retries with its own backoff.
        retries: 0,
        tls: args.tls.client_tls()?,
        ..ClientConfig::default()
    };
    let opts = DrainOptions {
        batch_size: args.batch_size.max(1),
        retry_for: (args.retry_for_s > 0).then(|| Duration::from_secs(args.retry_for_s)),
        ..DrainOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let pending = rec.spool().pending();
    let report = rt.block_on(async {
        let mut client = ProverClient::connect_lazy(&endpoint, client_cfg)
            .with_context(|| format!("prover endpoint {endpoint:?}"))?;
        drain(&mut rec, &mut client, &opts, |ev| match ev {
            DrainEvent::Retrying {
                error,
                backoff,
                waited,
            } => eprintln!(
                "depin-device: prover unavailable ({error}); retrying in {:.1} s ({:.1} s so far)",
                backoff.as_secs_f64(),
                waited.as_secs_f64()
            ),
            DrainEvent::Delivered { .. } => {}
        })
        .await
        .with_context(|| format!("submitting to {endpoint}"))
    })?;
    crate::print_line(&serde_json::to_string(&json!({
        "device_id": fr_to_string(&rec.device().id()),
        "pending_before": pending,
        "delivered": report.records,
        "batches": report.batches,
        "accepted": report.accepted,
        "rejected": reasons_json(&report.rejected),
        "refused": reasons_json(&report.refused),
        "undecodable": report.undecodable,
        "retries": report.retries,
        "last_acked": report.last_acked,
        "pending": rec.spool().pending(),
    }))?)
}
