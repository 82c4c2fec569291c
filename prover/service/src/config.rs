//! The service's configuration: defaults, a TOML file, then environment
//! variables, each overriding the one before.
//!
//! Every key of [`Config`] can be set in the file and as
//! `DEPIN_PROVER_<KEY>` in the environment (upper case), e.g.
//! `DEPIN_PROVER_LISTEN=0.0.0.0:50051` or `DEPIN_PROVER_OPERATOR_TOKEN=...`.
//! With no file and no variables the defaults serve on `127.0.0.1:50051`
//! with the data under `./depin-data`.
//!
//! The gRPC port serves plain HTTP/2 unless `tls_cert` and `tls_key` are
//! set (TLS); `tls_client_ca` then also requires every client to present a
//! certificate signed by that CA (mutual TLS).
//!
//! On a listen address that is not loopback the node refuses to start with
//! development keys unless `allow_insecure = true`, and warns about plain
//! text and public metrics (`docs/security.md`). Connections are bounded:
//! `max_connections`, `max_concurrent_streams` per connection,
//! `handshake_timeout_s` for the first request and an HTTP/2 keepalive
//! (`http2_keepalive_interval_s`, `http2_keepalive_timeout_s`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use depin_proving::Backend;
use depin_statements::StatementKind;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The service's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC address.
    pub listen: SocketAddr,
    /// The server's certificate chain (PEM file, leaf first); with
    /// `tls_key`, the gRPC port serves TLS only. Both or neither.
    pub tls_cert: Option<PathBuf>,
    /// The private key of `tls_cert` (PEM file: PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// CA certificate(s) (PEM file): clients must present a certificate
    /// signed by one of them (mutual TLS). Needs `tls_cert` and `tls_key`.
    pub tls_client_ca: Option<PathBuf>,
    /// Prometheus metrics address (`GET /metrics`); empty string disables.
    pub metrics_listen: String,
    /// Where the node keeps its files: the embedded database
    /// (`<data_dir>/prover.redb`, unless `database_url` is set) and its
    /// proving secret.
    pub data_dir: PathBuf,
    /// A PostgreSQL database shared by the nodes of a cluster
    /// (`postgres://user@host:port/db`); unset, the node keeps its own
    /// embedded store.
    pub database_url: Option<String>,
    /// Connections to `database_url`, at most.
    pub database_pool_size: usize,
    /// Key directories, one per statement (`<keys_dir>/<kind>/`); default
    /// `<data_dir>/keys`.
    pub keys_dir: Option<PathBuf>,
    /// Generate **insecure development keys** (seeded setup) for statements
    /// whose keys are missing.
    pub dev_keys: bool,
    /// Seed of the development setup.
    pub dev_seed: u64,
    /// Statements this node proves (`uptime`, `bandwidth`, `coverage`).
    pub statements: Vec<String>,
    /// The proof system of a statement, by statement name: `groth16` (the
    /// default for a statement not named) or `halo2`. In the file
    /// `backends = { uptime = "halo2" }`, in the environment
    /// `DEPIN_PROVER_BACKENDS='{uptime="halo2"}'`. A halo2 statement's key
    /// directory is `<keys_dir>/<kind>/halo2/`, laid out as
    /// `depin-prover setup --backend halo2` writes it (KZG parameters
    /// `params-k<k>.kzg`, verifying key, shape); the proving key is made at
    /// start from the parameters, development parameters from `dev_seed`
    /// with `dev_keys`. Epoch batches are Groth16 proofs: a halo2
    /// statement needs `batch_size = 0`. The nodes of a cluster share one
    /// setting.
    pub backends: BTreeMap<String, String>,
    /// Bearer token of the operator RPCs (at least 16 characters, visible
    /// ASCII only). Without one they are refused.
    pub operator_token: Option<String>,
    /// Start anyway where the node would refuse to as insecure: with
    /// development keys on a listen address that is not loopback, with a
    /// node secret or database that other users can read. Each is then
    /// logged as a warning at start and every few minutes.
    pub allow_insecure: bool,
    /// Seconds a new connection has to finish its TLS handshake and send
    /// its first complete request; then it is closed.
    pub handshake_timeout_s: f64,
    /// Seconds between HTTP/2 keepalive pings on an idle connection.
    pub http2_keepalive_interval_s: f64,
    /// Seconds a keepalive ping waits for its answer before the connection
    /// is closed.
    pub http2_keepalive_timeout_s: f64,
    /// Open connections at most; a connection past it is closed at once.
    pub max_connections: usize,
    /// Concurrent streams (requests) per connection at most.
    pub max_concurrent_streams: u32,
    /// Proving workers (each proof already uses every core).
    pub workers: usize,
    /// Jobs waiting for a worker (QUEUED in the store, on every node of a
    /// cluster), at most; past it `ProveEpoch` gets RESOURCE_EXHAUSTED.
    pub queue_capacity: usize,
    /// The node's id in the job leases it holds; keep it across restarts
    /// (a node starting again frees its own leases at once). Default:
    /// `<host name>:<listen port>`.
    pub node_id: Option<String>,
    /// Seconds a job's lease lasts without renewal (renewed every third of
    /// it while the node proves): a node that dies or freezes loses its
    /// job to another node about this long after.
    pub job_lease_s: f64,
    /// Records in one `SubmitRecords` request, at most.
    pub max_batch_records: usize,
    /// Size of one request message, at most (bytes).
    pub max_message_bytes: usize,
    /// Ingest batches being processed at once, at most; past it
    /// RESOURCE_EXHAUSTED.
    pub max_ingest_in_flight: usize,
    /// Records are taken for the latest published epoch and the
    /// `epoch_window - 1` before it.
    pub epoch_window: u32,
    /// Witness reports kept per beacon, at most.
    pub max_reports_per_beacon: usize,
    /// Seconds a node keeps serving after SIGTERM with its health check
    /// saying NOT_SERVING, so that a load balancer takes it out of the pool
    /// before it stops taking requests (about two health-check intervals).
    pub drain_s: f64,
    /// Seconds a shutdown then waits for the requests received and the
    /// running proofs to finish (a proof still running is left for the next
    /// start).
    pub shutdown_grace_s: u64,
    /// Log format.
    pub log_format: LogFormat,
    /// Prove the statements in epoch batches of this many device-epochs
    /// (`docs/batches.md`); 0 proves every device-epoch on its own. The
    /// batch keys are `<keys_dir>/batches/<kind>-<B>.pk` (development keys
    /// are made there from `dev_seed` with `dev_keys`).
    pub batch_size: usize,
    /// Seconds the oldest waiting device-epoch of a statement and epoch
    /// waits for a full batch; then a batch is formed with what waits.
    pub batch_deadline_s: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            metrics_listen: "127.0.0.1:9095".into(),
            data_dir: PathBuf::from("depin-data"),
            database_url: None,
            database_pool_size: 16,
            keys_dir: None,
            dev_keys: true,
            dev_seed: 1,
            statements: vec!["uptime".into(), "bandwidth".into(), "coverage".into()],
            backends: BTreeMap::new(),
            operator_token: None,
            allow_insecure: false,
            handshake_timeout_s: 10.0,
            http2_keepalive_interval_s: 30.0,
            http2_keepalive_timeout_s: 10.0,
            max_connections: 4096,
            max_concurrent_streams: 256,
            workers: 1,
            queue_capacity: 1024,
            node_id: None,
            job_lease_s: 15.0,
            max_batch_records: 1024,
            max_message_bytes: 4 << 20,
            max_ingest_in_flight: 512,
            epoch_window: 2,
            max_reports_per_beacon: 64,
            drain_s: 2.0,
            shutdown_grace_s: 30,
            log_format: LogFormat::Text,
            batch_size: 0,
            batch_deadline_s: 60.0,
        }
    }
}

/// A configuration that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or a variable did not parse.
    #[error("configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    /// A value makes no sense.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// How long a job lease lasts.
    pub fn job_lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.job_lease_s)
    }

    /// The node's id in its job leases: `node_id`, or
    /// `<host name>:<listen port>`.
    pub fn node_id(&self) -> String {
        if let Some(id) = &self.node_id {
            return id.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}:{}", self.listen.port())
    }

    /// How long a shutdown keeps serving before it stops taking requests.
    pub fn drain(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.drain_s)
    }

    /// Defaults, then `file` (if given; it must exist), then the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, "DEPIN_PROVER_")
    }

    /// [`Config::load`] with another environment prefix (tests).
    pub fn load_with_env(file: Option<&Path>, prefix: &str) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        fig = fig.merge(Env::prefixed(prefix));
        let cfg: Config = fig.extract().map_err(Box::new)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Refuses values that make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("workers", self.workers),
            ("queue_capacity", self.queue_capacity),
            ("max_batch_records", self.max_batch_records),
            ("max_message_bytes", self.max_message_bytes),
            ("max_ingest_in_flight", self.max_ingest_in_flight),
            ("max_reports_per_beacon", self.max_reports_per_beacon),
            ("database_pool_size", self.database_pool_size),
            ("max_connections", self.max_connections),
            (
                "max_concurrent_streams",
                self.max_concurrent_streams as usize,
            ),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        if !(0.0..=3600.0).contains(&self.drain_s) {
            return Err(ConfigError::Invalid(format!(
                "drain_s must be between 0 and 3600 seconds, got {}",
                self.drain_s
            )));
        }
        if self.batch_size > depin_batch::public_data::MAX_BATCH {
            return Err(ConfigError::Invalid(format!(
                "batch_size must be at most {}, got {}",
                depin_batch::public_data::MAX_BATCH,
                self.batch_size
            )));
        }
        if !(0.0..=86_400.0).contains(&self.batch_deadline_s) {
            return Err(ConfigError::Invalid(format!(
                "batch_deadline_s must be between 0 and 86400 seconds, got {}",
                self.batch_deadline_s
            )));
        }
        if !(0.3..=3600.0).contains(&self.job_lease_s) {
            return Err(ConfigError::Invalid(format!(
                "job_lease_s must be between 0.3 and 3600 seconds, got {}",
                self.job_lease_s
            )));
        }
        if let Some(id) = &self.node_id {
            if id.is_empty() || id.len() > 256 {
                return Err(ConfigError::Invalid(
                    "node_id must be 1 to 256 bytes long".into(),
                ));
            }
        }
        if self.epoch_window == 0 {
            return Err(ConfigError::Invalid(
                "epoch_window must be at least 1".into(),
            ));
        }
        for (name, v) in [
            ("handshake_timeout_s", self.handshake_timeout_s),
            (
                "http2_keepalive_interval_s",
                self.http2_keepalive_interval_s,
            ),
            ("http2_keepalive_timeout_s", self.http2_keepalive_timeout_s),
        ] {
            if !(0.1..=3600.0).contains(&v) {
                return Err(ConfigError::Invalid(format!(
                    "{name} must be between 0.1 and 3600 seconds, got {v}"
                )));
            }
        }
        if let Some(t) = &self.operator_token {
            check_token(t)?;
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => {
                return Err(ConfigError::Invalid(
                    "tls_cert is set without tls_key (both or neither)".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "tls_key is set without tls_cert (both or neither)".into(),
                ))
            }
            _ => {}
        }
        if self.tls_client_ca.is_some() && self.tls_cert.is_none() {
            return Err(ConfigError::Invalid(
                "tls_client_ca needs tls_cert and tls_key".into(),
            ));
        }
        self.kinds()?;
        // Entries for statements this node does not prove are checked for
        // names only: nodes of a cluster may share one file.
        let halo2 = self
            .kinds_and_backends()?
            .into_iter()
            .find(|(_, b)| *b == Backend::Halo2);
        if let (Some((kind, _)), true) = (halo2, self.batch_size > 0) {
            return Err(ConfigError::Invalid(format!(
                "backends.{} = \"halo2\" needs batch_size = 0 (epoch batches are Groth16 proofs), got {}",
                kind.as_str(),
                self.batch_size
            )));
        }
        if !self.metrics_listen.is_empty() {
            self.metrics_addr()?;
        }
        Ok(())
    }

    /// The statements this node proves.
    pub fn kinds(&self) -> Result<Vec<StatementKind>, ConfigError> {
        self.statements
            .iter()
            .map(|s| statement_named(s).map_err(ConfigError::Invalid))
            .collect()
    }

    /// The proof system of every statement, in statement order: `backends`
    /// where it names one, else Groth16.
    pub fn backends(&self) -> Result<Vec<(StatementKind, Backend)>, ConfigError> {
        let mut out: Vec<(StatementKind, Backend)> = StatementKind::ALL
            .iter()
            .map(|&k| (k, Backend::Groth16))
            .collect();
        for (statement, backend) in &self.backends {
            let kind = statement_named(statement)
                .map_err(|e| ConfigError::Invalid(format!("backends: {e}")))?;
            let backend = Backend::from_name(backend).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "backends.{statement}: unknown proof system {backend:?} (groth16, halo2)"
                ))
            })?;
            if let Some(slot) = out.iter_mut().find(|(k, _)| *k == kind) {
                slot.1 = backend;
            }
        }
        Ok(out)
    }

    /// The statements this node proves, each with its proof system.
    pub fn kinds_and_backends(&self) -> Result<Vec<(StatementKind, Backend)>, ConfigError> {
        let backends = self.backends()?;
        Ok(self
            .kinds()?
            .into_iter()
            .map(|kind| {
                let backend = backends
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map_or(Backend::Groth16, |(_, b)| *b);
                (kind, backend)
            })
            .collect())
    }

    /// Whether the gRPC address is reachable from other machines (not
    /// loopback; `0.0.0.0` and `::` are public).
    pub fn is_public(&self) -> bool {
        !self.listen.ip().is_loopback()
    }

    /// How long a device-epoch waits for a full batch.
    pub fn batch_deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.batch_deadline_s)
    }

    /// The handshake and first-request timeout.
    pub fn handshake_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.handshake_timeout_s)
    }

    /// The metrics address, if enabled.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        if self.metrics_listen.is_empty() {
            return Ok(None);
        }
        self.metrics_listen.parse().map(Some).map_err(|e| {
            ConfigError::Invalid(format!("metrics_listen {:?}: {e}", self.metrics_listen))
        })
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("prover.redb")
    }

    /// The key directory.
    pub fn keys_path(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }
}

/// The statement of a configured name.
fn statement_named(name: &str) -> Result<StatementKind, String> {
    match name {
        "uptime" => Ok(StatementKind::Uptime),
        "bandwidth" => Ok(StatementKind::Bandwidth),
        "coverage" => Ok(StatementKind::Coverage),
        other => Err(format!(
            "unknown statement {other:?} (uptime, bandwidth, coverage)"
        )),
    }
}

/// Fewest characters of an operator token.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Refuses an operator token that is too short or that gRPC metadata cannot
/// carry (only visible ASCII, `!` to `~`, can be sent as it is).
fn check_token(t: &str) -> Result<(), ConfigError> {
    if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic()) {
        return Err(ConfigError::Invalid(format!(
            "operator_token: character {} ({c:?}) is not visible ASCII: a token may only hold \
             the characters `!` to `~` (gRPC metadata is ASCII), e.g. 32 random bytes in hex",
            i + 1
        )));
    }
    let n = t.chars().count();
    if n < MIN_TOKEN_CHARS {
        return Err(ConfigError::Invalid(format!(
            "operator_token must be at least {MIN_TOKEN_CHARS} characters, got {n}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:6000\"\nworkers = 3\n").unwrap();
        // A prefix of our own: tests run in parallel in one process.
        std::env::set_var("DPTEST_CFG_WORKERS", "5");
        let c = Config::load_with_env(Some(&f), "DPTEST_CFG_").unwrap();
        assert_eq!(c.listen.port(), 6000);
        assert_eq!(c.workers, 5);
        assert_eq!(c.queue_capacity, Config::default().queue_capacity);
        std::fs::write(&f, "wrkers = 3\n").unwrap();
        assert!(Config::load_with_env(Some(&f), "DPTEST_NONE_").is_err());
        std::fs::write(&f, "statements = [\"uptme\"]\n").unwrap();
        let e = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap_err();
        assert!(e.to_string().contains("uptme"));
        let c = Config::load_with_env(None, "DPTEST_NONE_").unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn tokens_are_visible_ascii_counted_in_characters() {
        let with = |t: &str| Config {
            operator_token: Some(t.into()),
            ..Config::default()
        };
        assert!(with("0123456789abcdef").validate().is_ok());
        let e = with("0123456789abcde").validate().unwrap_err();
        assert!(e.to_string().contains("got 15"), "{e}");
        // 16 bytes, but 8 characters (and not ASCII).
        let e = with("éééééééé").validate().unwrap_err();
        assert!(e.to_string().contains("visible ASCII"), "{e}");
        let e = with("0123456789 abcdef").validate().unwrap_err();
        assert!(e.to_string().contains("character 11"), "{e}");
        let e = Config {
            handshake_timeout_s: 0.0,
            ..Config::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("handshake_timeout_s"), "{e}");
    }

    #[test]
    fn backends_per_statement() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "statements = [\"uptime\", \"coverage\"]\nbackends = { uptime = \"halo2\" }\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap();
        assert_eq!(
            c.kinds_and_backends().unwrap(),
            [
                (StatementKind::Uptime, Backend::Halo2),
                (StatementKind::Coverage, Backend::Groth16)
            ]
        );
        // The environment names the map as figment's dictionaries.
        std::env::set_var("DPTEST_BACKENDS_BACKENDS", "{coverage=\"halo2\"}");
        let c = Config::load_with_env(None, "DPTEST_BACKENDS_").unwrap();
        assert_eq!(
            c.backends().unwrap()[2],
            (StatementKind::Coverage, Backend::Halo2)
        );

        std::fs::write(&f, "backends = { uptime = \"plonky\" }\n").unwrap();
        let e = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap_err();
        assert!(
            e.to_string().contains("unknown proof system \"plonky\""),
            "{e}"
        );
        std::fs::write(&f, "backends = { uptme = \"halo2\" }\n").unwrap();
        let e = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap_err();
        assert!(
            e.to_string()
                .contains("backends: unknown statement \"uptme\""),
            "{e}"
        );
        std::fs::write(&f, "batch_size = 4\nbackends = { bandwidth = \"halo2\" }\n").unwrap();
        let e = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap_err();
        assert!(e.to_string().contains("needs batch_size = 0"), "{e}");
        // A node that does not prove bandwidth batches the rest.
        std::fs::write(
            &f,
            "statements = [\"uptime\"]\nbatch_size = 4\nbackends = { bandwidth = \"halo2\" }\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap();
        assert_eq!(
            c.kinds_and_backends().unwrap(),
            [(StatementKind::Uptime, Backend::Groth16)]
        );
    }

    #[test]
    fn tls_cert_and_key_both_or_neither() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "tls_cert = \"s.pem\"\n").unwrap();
        let e = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap_err();
        assert!(e.to_string().contains("tls_key"), "{e}");
        std::fs::write(&f, "tls_key = \"k.pem\"\n").unwrap();
        assert!(Config::load_with_env(Some(&f), "DPTEST_NONE_").is_err());
        std::fs::write(&f, "tls_client_ca = \"ca.pem\"\n").unwrap();
        let e = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap_err();
        assert!(e.to_string().contains("tls_client_ca"), "{e}");
        std::fs::write(
            &f,
            "tls_cert = \"s.pem\"\ntls_key = \"k.pem\"\ntls_client_ca = \"ca.pem\"\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&f), "DPTEST_NONE_").unwrap();
        assert_eq!(c.tls_key.as_deref(), Some(Path::new("k.pem")));
    }
}
