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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// Where the database lives (`<data_dir>/prover.redb`).
    pub data_dir: PathBuf,
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
    /// Bearer token of the operator RPCs. Without one they are refused.
    pub operator_token: Option<String>,
    /// Proving workers (each proof already uses every core).
    pub workers: usize,
    /// Jobs waiting for a worker, at most; past it `ProveEpoch` gets
    /// RESOURCE_EXHAUSTED.
    pub queue_capacity: usize,
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
    /// Seconds a shutdown waits for running proofs before leaving them to
    /// the next start.
    pub shutdown_grace_s: u64,
    /// Log format.
    pub log_format: LogFormat,
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
            keys_dir: None,
            dev_keys: true,
            dev_seed: 1,
            statements: vec!["uptime".into(), "bandwidth".into(), "coverage".into()],
            operator_token: None,
            workers: 1,
            queue_capacity: 1024,
            max_batch_records: 1024,
            max_message_bytes: 4 << 20,
            max_ingest_in_flight: 512,
            epoch_window: 2,
            max_reports_per_beacon: 64,
            shutdown_grace_s: 30,
            log_format: LogFormat::Text,
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
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        if self.epoch_window == 0 {
            return Err(ConfigError::Invalid(
                "epoch_window must be at least 1".into(),
            ));
        }
        if let Some(t) = &self.operator_token {
            if t.len() < 16 {
                return Err(ConfigError::Invalid(
                    "operator_token must be at least 16 characters".into(),
                ));
            }
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
        if !self.metrics_listen.is_empty() {
            self.metrics_addr()?;
        }
        Ok(())
    }

    /// The statements this node proves.
    pub fn kinds(&self) -> Result<Vec<StatementKind>, ConfigError> {
        self.statements
            .iter()
            .map(|s| match s.as_str() {
                "uptime" => Ok(StatementKind::Uptime),
                "bandwidth" => Ok(StatementKind::Bandwidth),
                "coverage" => Ok(StatementKind::Coverage),
                other => Err(ConfigError::Invalid(format!(
                    "unknown statement {other:?} (uptime, bandwidth, coverage)"
                ))),
            })
            .collect()
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
