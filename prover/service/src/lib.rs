//! The gRPC prover service (`depin-prover serve`), package
//! `depin.prover.v1` (`proto/`).
//!
//! - [`config`]: defaults, TOML file, environment overrides.
//! - [`ingest`]: checking and durably storing signed records, with the
//!   statements' own per-record rules.
//! - [`jobs`]: durable proving jobs, a bounded queue, workers.
//! - [`prove`]: stored records to the epoch type, the reference and the
//!   proof of the statement's proof system; keys loaded once.
//! - [`api`]: the tonic services; [`error`]: the one mapping from domain
//!   errors to gRPC statuses; [`auth`]: operator tokens.
//! - [`metrics`]: Prometheus metrics over HTTP.
//!
//! Health (`grpc.health.v1`) and server reflection are served beside the
//! API. `docs/service.md` describes the behaviour in full.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod prove;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use depin_proto::v1::operator_server::OperatorServer;
use depin_proto::v1::prover_server::ProverServer;
use tokio::sync::watch;

pub use config::Config;

use api::{OperatorApi, ProverApi};
use auth::OperatorAuth;
use depin_store::{Store, StoreError};
use depin_store_redb::RedbStore;
use ingest::{Ingest, IngestLimits};
use jobs::Jobs;
use metrics::Metrics;
use prove::{KeyStore, Registries};

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The store could not be opened.
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    /// A socket or file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The TLS certificate, key or client CA is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// Anything else at start.
    #[error("{0}")]
    Other(String),
}

/// A running service.
#[derive(Debug)]
pub struct RunningService {
    /// The gRPC address (with the real port when configured with port 0).
    pub addr: SocketAddr,
    /// The metrics address, if served.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    done: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl RunningService {
    /// Starts a graceful shutdown.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Waits until the service has stopped.
    pub async fn wait(self) -> Result<(), ServeError> {
        self.done
            .await
            .map_err(|e| ServeError::Other(format!("server task: {e}")))?
    }
}

/// The node's parts, built from its configuration.
struct Node {
    redb: Arc<RedbStore>,
    jobs: Arc<Jobs>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    metrics: Arc<Metrics>,
    prover: ProverApi,
    operator: OperatorApi,
}

/// Opens the store, starts the key loader and the job workers, and builds
/// the two APIs.
async fn build_node(config: &Config) -> Result<Node, ServeError> {
    let kinds = config.kinds()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::Io {
        what: format!("creating {}", config.data_dir.display()),
        source,
    })?;
    let redb = Arc::new(RedbStore::open(&config.db_path())?);
    let store: Arc<dyn Store> = redb.clone();
    let secret = prove::node_secret(&config.data_dir.join("node.secret")).map_err(|source| {
        ServeError::Io {
            what: "reading the node secret".into(),
            source,
        }
    })?;
    let metrics = Arc::new(Metrics::new());
    let registries = Arc::new(Registries::default());
    let keys = KeyStore::start(
        config.keys_path(),
        &kinds,
        config.dev_keys.then_some(config.dev_seed),
    );
    let ingest = Arc::new(Ingest::new(
        store.clone(),
        IngestLimits {
            epoch_window: config.epoch_window,
            max_reports_per_beacon: config.max_reports_per_beacon,
        },
        config.max_ingest_in_flight,
        metrics.clone(),
    ));
    let jobs = Jobs::new(
        store.clone(),
        keys.clone(),
        registries.clone(),
        secret,
        config.queue_capacity,
        metrics.clone(),
    );
    let workers = jobs
        .start(config.workers)
        .await
        .map_err(|e| ServeError::Other(e.to_string()))?;
    Ok(Node {
        redb,
        jobs: jobs.clone(),
        workers,
        metrics,
        prover: ProverApi {
            ingest,
            jobs,
            store: store.clone(),
            keys,
            max_batch_records: config.max_batch_records,
        },
        operator: OperatorApi {
            store,
            registries,
            epoch_window: config.epoch_window,
        },
    })
}

/// Resolves once `rx` says to shut down (or its sender is gone).
async fn wait_shutdown(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            break;
        }
    }
}

/// Serves the metrics, if configured, until shutdown; returns the bound
/// address.
async fn serve_metrics(
    config: &Config,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<SocketAddr>, ServeError> {
    let Some(a) = config.metrics_addr()? else {
        return Ok(None);
    };
    let l = metrics::bind(a).await.map_err(|source| ServeError::Io {
        what: format!("binding the metrics address {a}"),
        source,
    })?;
    let bound = l.local_addr().ok();
    tokio::spawn(async move {
        if let Err(e) = metrics::serve(l, metrics, wait_shutdown(shutdown)).await {
            tracing::error!(error = %e, "metrics server failed");
        }
    });
    Ok(bound)
}

/// Starts the service on the current tokio runtime.
pub async fn start(config: Config) -> Result<RunningService, ServeError> {
    config.validate()?;
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls_config(&config)? {
        builder = builder
            .tls_config(tls)
            .map_err(|e| ServeError::Tls(error_chain(&e)))?;
    }
    let node = build_node(&config).await?;
    if config.operator_token.is_none() {
        tracing::warn!("no operator_token configured: operator calls will be refused");
    }
    let auth = OperatorAuth::new(config.operator_token.as_deref());

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<ProverServer<ProverApi>>()
        .await;
    health_reporter
        .set_serving::<OperatorServer<OperatorApi>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(depin_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Other(format!("reflection: {e}")))?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Io {
            what: format!("binding {}", config.listen),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        what: "local address".into(),
        source,
    })?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let metrics_addr = serve_metrics(&config, node.metrics.clone(), shutdown_rx.clone()).await?;

    let max_msg = config.max_message_bytes;
    let grace = Duration::from_secs(config.shutdown_grace_s);
    let sd = wait_shutdown(shutdown_rx.clone());
    let Node {
        redb,
        jobs,
        workers,
        prover,
        operator,
        ..
    } = node;
    let server = builder
        .add_service(health)
        .add_service(reflection)
        .add_service(
            ProverServer::new(prover)
                .max_decoding_message_size(max_msg)
                .max_encoding_message_size(64 << 20),
        )
        .add_service(tonic::service::interceptor::InterceptedService::new(
            OperatorServer::new(operator).max_decoding_message_size(max_msg),
            auth,
        ))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            async move {
                sd.await;
                health_reporter
                    .set_not_serving::<ProverServer<ProverApi>>()
                    .await;
                tracing::info!("shutting down: no new requests");
            },
        );
    tracing::info!(
        %addr,
        metrics = ?metrics_addr,
        tls = config.tls_cert.is_some(),
        mutual_tls = config.tls_client_ca.is_some(),
        "serving depin.prover.v1"
    );
    let done = tokio::spawn(async move {
        let served = server.await;
        // Stop the workers; wait for running proofs up to the grace period.
        jobs.stop();
        let all = futures_join(workers);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                grace_s = grace.as_secs(),
                "running proofs did not finish in time: they resume at the next start"
            );
        }
        redb.close();
        served.map_err(ServeError::from)
    });
    Ok(RunningService {
        addr,
        metrics_addr,
        shutdown: shutdown_tx,
        done,
    })
}

/// The server's TLS settings (`tls_cert`, `tls_key`, `tls_client_ca`), if
/// TLS is configured.
fn tls_config(config: &Config) -> Result<Option<tonic::transport::ServerTlsConfig>, ServeError> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    // A file without PEM of the right kind is reported with its name.
    let read = |what: &str, p: &std::path::Path, holds: &str, marker: &str| {
        let pem = std::fs::read(p).map_err(|source| ServeError::Io {
            what: format!("reading the {what} {}", p.display()),
            source,
        })?;
        let m = marker.as_bytes();
        if !pem.windows(m.len()).any(|w| w == m) {
            return Err(ServeError::Tls(format!(
                "the {what} {} holds no PEM {holds}",
                p.display()
            )));
        }
        Ok(pem)
    };
    let cert_marker = "-----BEGIN CERTIFICATE-----";
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(
        read("TLS certificate", cert, "certificate", cert_marker)?,
        read("TLS key", key, "private key", "PRIVATE KEY-----")?,
    ));
    if let Some(ca) = &config.tls_client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(read(
            "client CA certificate",
            ca,
            "certificate",
            cert_marker,
        )?));
    }
    Ok(Some(tls))
}

/// An error with its causes.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}

/// Installs the `tracing` subscriber (`RUST_LOG` filters, default `info`).
///
/// arkworks' constraint gadgets open a `tracing` span per gadget call with
/// the whole constraint system as a field (target `gr1cs`); formatting those
/// costs gigabytes and hours per proof, so they are off unless `RUST_LOG`
/// names `gr1cs` itself.
pub fn init_tracing(format: config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let mut directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    if !directives.contains("gr1cs") {
        directives.push_str(",gr1cs=off,r1cs=off");
    }
    let filter = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new("info,gr1cs=off,r1cs=off"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        config::LogFormat::Json => builder.json().try_init(),
        config::LogFormat::Text => builder.try_init(),
    };
}

/// Runs the service until SIGTERM or Ctrl-C: what `depin-prover serve`
/// does. Blocks the calling thread.
pub fn serve(config: Config) -> Result<(), ServeError> {
    init_tracing(config.log_format);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            what: "starting the runtime".into(),
            source,
        })?;
    rt.block_on(async move {
        let running = start(config).await?;
        let stop = running.shutdown.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        running.wait().await
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
