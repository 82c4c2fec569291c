//! The gRPC prover service (`depin-prover serve`), package
//! `depin.prover.v1` (`proto/`).
//!
//! - [`config`]: defaults, TOML file, environment overrides.
//! - [`ingest`]: checking and durably storing signed records, with the
//!   statements' own per-record rules.
//! - [`jobs`]: durable proving jobs, claimed by workers of any node under
//!   leases ([`lease`]: renewed, fenced by the attempt).
//! - [`batches`]: epoch batches (`batch_size > 0`): jobs grouped, one proof
//!   per batch updating the statement's rewards tree.
//! - [`prove`]: stored records to the epoch type, the reference and the
//!   proof of the statement's proof system; keys loaded once.
//! - [`api`]: the tonic services; [`error`]: the one mapping from domain
//!   errors to gRPC statuses; [`auth`]: operator tokens.
//! - [`metrics`]: Prometheus metrics over HTTP.
//! - [`conn`]: connection limits (cap, first-request timeout);
//!   [`exposure`]: what a node refuses or warns about before it serves
//!   (development keys on a public address, files others can read).
//! - [`haproxy`]: the load balancer's configuration for a cluster, with
//!   its gRPC health check.
//!
//! Health (`grpc.health.v1`) and server reflection (`grpc.reflection.v1`
//! and `v1alpha`) are served beside the API. `docs/service.md` describes the behaviour in full.

pub mod api;
pub mod auth;
pub mod batches;
pub mod config;
pub mod conn;
pub mod error;
pub mod exposure;
pub mod haproxy;
pub mod ingest;
pub mod jobs;
pub mod lease;
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
use auth::{Gate, OperatorAuth};
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
    /// The node would run insecurely (development keys on a public
    /// address, secrets other users can read) without `allow_insecure`.
    #[error("{0}")]
    Insecure(String),
    /// Anything else at start.
    #[error("{0}")]
    Other(String),
}

/// Where a node is in its life after it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Serving, healthy.
    Serving,
    /// Told to shut down: health says NOT_SERVING, requests are still
    /// served for `drain_s` so that load balancers take the node out first.
    Draining,
    /// No new requests (UNAVAILABLE); the ones received are answered and
    /// running proofs get `shutdown_grace_s`.
    Stopping,
}

/// Asks a running service to shut down (from another task: a signal
/// handler).
#[derive(Debug, Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<Phase>>);

impl ShutdownHandle {
    /// Starts a draining shutdown; a second call skips what is left of the
    /// drain.
    pub fn shutdown(&self) {
        self.0.send_modify(|p| {
            *p = match *p {
                Phase::Serving => Phase::Draining,
                _ => Phase::Stopping,
            }
        });
    }
}

/// A running service.
#[derive(Debug)]
pub struct RunningService {
    /// The gRPC address (with the real port when configured with port 0).
    pub addr: SocketAddr,
    /// The metrics address, if served.
    pub metrics_addr: Option<SocketAddr>,
    handle: ShutdownHandle,
    done: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl RunningService {
    /// Starts a draining shutdown (`docs/service.md`, "A node's life"):
    /// health NOT_SERVING at once, requests served for `drain_s`, then no
    /// new ones (UNAVAILABLE), every received one answered, running proofs
    /// given `shutdown_grace_s`. A second call skips what is left of the
    /// drain.
    pub fn shutdown(&self) {
        self.handle.shutdown();
    }

    /// A handle that shuts the service down from elsewhere.
    pub fn handle(&self) -> ShutdownHandle {
        self.handle.clone()
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
    /// The store, closed at shutdown.
    redb: StoreHandle,
    jobs: Arc<Jobs>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    metrics: Arc<Metrics>,
    prover: ProverApi,
    operator: OperatorApi,
}

/// Opens the store, starts the key loader and the job workers, and builds
/// the two APIs.
async fn build_node(
    config: &Config,
    gate: Gate,
    operator: OperatorAuth,
    insecure: &mut Vec<String>,
) -> Result<Node, ServeError> {
    let kinds = config.kinds()?;
    depin_durable::create_private_dir_all(&config.data_dir).map_err(|source| ServeError::Io {
        what: format!("creating {}", config.data_dir.display()),
        source,
    })?;
    if let Ok(Some(m)) = depin_durable::mode(&config.data_dir) {
        if m & 0o077 != 0 {
            tracing::warn!(
                data_dir = %config.data_dir.display(),
                mode = format!("{m:04o}"),
                "the data directory is open to other users: `chmod 700` it"
            );
        }
    }
    let secret_path = config.data_dir.join("node.secret");
    // Refused before they are used (a secret others could read is no
    // secret); created owner-only when missing.
    let mut private = vec![secret_path.clone()];
    if config.database_url.is_none() {
        private.push(config.db_path());
    }
    for p in private {
        insecure.extend(exposure::check_private(&p, config.allow_insecure)?);
    }
    let (store, redb): (Arc<dyn Store>, _) = match &config.database_url {
        None => {
            let redb = Arc::new(RedbStore::open(&config.db_path())?);
            (redb.clone(), StoreHandle::Redb(redb))
        }
        Some(url) => {
            let pg = Arc::new(
                depin_store_postgres::PostgresStore::connect(url, config.database_pool_size)
                    .await?,
            );
            (pg.clone(), StoreHandle::Postgres(pg))
        }
    };
    let secret = prove::node_secret(&secret_path).map_err(|source| ServeError::Io {
        what: "reading the node secret".into(),
        source,
    })?;
    let metrics = Arc::new(Metrics::new());
    let registries = Arc::new(Registries::default());
    let keys = KeyStore::start(
        config.keys_path(),
        &config.kinds_and_backends()?,
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
    let leases = lease::LeaseConfig {
        node_id: config.node_id(),
        lease: config.job_lease(),
        // The embedded store is opened by this process alone.
        exclusive: config.database_url.is_none(),
    };
    let jobs = Jobs::new(
        store.clone(),
        keys.clone(),
        registries.clone(),
        secret,
        config.queue_capacity,
        leases.clone(),
        metrics.clone(),
        kinds.clone(),
        (config.batch_size > 0).then(|| batches::BatchConfig {
            batch_size: config.batch_size,
            deadline: config.batch_deadline(),
            keys_dir: config.keys_path(),
            dev_seed: config.dev_keys.then_some(config.dev_seed),
            capacity: config.queue_capacity,
            leases,
        }),
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
            epoch_window: config.epoch_window,
            operator,
            gate,
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

/// What the rest of a node's life needs once it serves.
struct Life {
    phase: watch::Receiver<Phase>,
    finished: watch::Sender<bool>,
    gate: Gate,
    health: tonic_health::server::HealthReporter,
    drain: Duration,
    grace: Duration,
    jobs: Arc<Jobs>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    redb: StoreHandle,
}

/// The node's store, closed at the end of its life: the embedded one, or
/// the cluster's PostgreSQL database (`database_url`).
enum StoreHandle {
    Redb(Arc<RedbStore>),
    Postgres(Arc<depin_store_postgres::PostgresStore>),
}

impl StoreHandle {
    /// Refuses new writes; the pending ones are answered.
    async fn close(&self) {
        match self {
            StoreHandle::Redb(s) => s.close(),
            StoreHandle::Postgres(s) => s.close().await,
        }
    }
}

/// Serves until told to shut down, then drains, stops taking requests,
/// answers the ones received, lets running proofs finish within the grace
/// and closes the store.
async fn live<F>(server: F, life: Life) -> Result<(), ServeError>
where
    F: std::future::Future<Output = Result<(), tonic::transport::Error>>,
{
    let Life {
        mut phase,
        finished,
        gate,
        health,
        drain,
        grace,
        jobs,
        workers,
        redb,
    } = life;
    let mut server = std::pin::pin!(server);
    let mut ended = None;
    tokio::select! {
        r = &mut server => ended = Some(r),
        _ = phase.wait_for(|p| *p >= Phase::Draining) => {}
    }
    if ended.is_none() {
        // Draining: out of the load balancer's pool, still serving.
        use tonic_health::ServingStatus::NotServing;
        for name in [
            "",
            depin_proto::service_names::PROVER,
            depin_proto::service_names::OPERATOR,
        ] {
            health.set_service_status(name, NotServing).await;
        }
        tracing::info!(
            drain_s = drain.as_secs_f64(),
            "draining: health NOT_SERVING, requests still served"
        );
        tokio::select! {
            r = &mut server => ended = Some(r),
            _ = tokio::time::sleep(drain) => {}
            _ = phase.wait_for(|p| *p >= Phase::Stopping) => {}
        }
    }
    // Stopping: no new requests, the received ones answered (GOAWAY, then
    // the connections close once their streams are done).
    gate.close();
    tracing::info!("no new requests: answering the ones received");
    let deadline = tokio::time::Instant::now() + grace;
    let served = match ended {
        Some(r) => r,
        None => match tokio::time::timeout_at(deadline, &mut server).await {
            Ok(r) => r,
            Err(_) => {
                tracing::warn!(
                    grace_s = grace.as_secs(),
                    "requests still open after the grace period: closing them"
                );
                Ok(())
            }
        },
    };
    // Stop the workers; running proofs get what is left of the grace.
    jobs.stop();
    if tokio::time::timeout_at(deadline, futures_join(workers))
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = grace.as_secs(),
            "running proofs did not finish in time: they resume at the next start"
        );
    }
    redb.close().await;
    let _ = finished.send(true);
    tracing::info!("stopped");
    served.map_err(ServeError::from)
}

/// Starts the service on the current tokio runtime.
pub async fn start(config: Config) -> Result<RunningService, ServeError> {
    config.validate()?;
    let mut insecure = exposure::preflight(&config)?;
    let mut builder = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs_f64(
            config.http2_keepalive_interval_s,
        )))
        .http2_keepalive_timeout(Some(Duration::from_secs_f64(
            config.http2_keepalive_timeout_s,
        )))
        .max_concurrent_streams(Some(config.max_concurrent_streams));
    if let Some(tls) = tls_config(&config)? {
        builder = builder
            .tls_config(tls)
            .map_err(|e| ServeError::Tls(error_chain(&e)))?;
    }
    let gate = Gate::default();
    let auth = OperatorAuth::new(config.operator_token.as_deref(), gate.clone());
    let node = build_node(&config, gate.clone(), auth.clone(), &mut insecure).await?;
    if config.operator_token.is_none() {
        tracing::warn!("no operator_token configured: operator calls will be refused");
    }

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<ProverServer<ProverApi>>()
        .await;
    health_reporter
        .set_serving::<OperatorServer<OperatorApi>>()
        .await;
    // Reflection as both `grpc.reflection.v1` and `v1alpha`: grpcurl
    // speaks v1, Python's grpcio-reflection and grpc_cli only v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(depin_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection()
        .build_v1()
        .map_err(|e| ServeError::Other(format!("reflection: {e}")))?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .map_err(|e| ServeError::Other(format!("reflection (v1alpha): {e}")))?;

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
    let (finished, finished_rx) = watch::channel(false);
    let metrics_addr = serve_metrics(&config, node.metrics.clone(), finished_rx.clone()).await?;
    insecure.dedup();
    exposure::repeat_warnings(insecure, finished_rx);

    let max_msg = config.max_message_bytes;
    let Node {
        redb,
        jobs,
        workers,
        prover,
        operator,
        ..
    } = node;
    let stop = gate.clone();
    let limits = conn::ConnLimits {
        max_connections: config.max_connections,
        handshake_timeout: config.handshake_timeout(),
    };
    let server = builder
        .layer(conn::ConnLayer)
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            ProverServer::new(prover)
                .max_decoding_message_size(max_msg)
                .max_encoding_message_size(64 << 20),
            gate.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            OperatorServer::new(operator).max_decoding_message_size(max_msg),
            auth,
        ))
        .serve_with_incoming_shutdown(conn::incoming(listener, limits), async move {
            stop.closed().await;
        });
    tracing::info!(
        %addr,
        metrics = ?metrics_addr,
        tls = config.tls_cert.is_some(),
        mutual_tls = config.tls_client_ca.is_some(),
        "serving depin.prover.v1"
    );
    let (phase_tx, phase) = watch::channel(Phase::Serving);
    let life = Life {
        phase,
        finished,
        gate,
        health: health_reporter,
        drain: config.drain(),
        grace: Duration::from_secs(config.shutdown_grace_s),
        jobs,
        workers,
        redb,
    };
    let done = tokio::spawn(live(server, life));
    Ok(RunningService {
        addr,
        metrics_addr,
        handle: ShutdownHandle(Arc::new(phase_tx)),
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
        let handle = running.handle();
        let mut signals = Signals::new();
        tokio::spawn(async move {
            signals.next().await;
            handle.shutdown();
            signals.next().await;
            // Everything acknowledged is already durable: stopping at once
            // loses nothing but the answers still owed.
            tracing::warn!("second signal: stopping at once");
            std::process::exit(0);
        });
        running.wait().await
    })
}

/// SIGTERM and SIGINT (Ctrl-C), listened to from the start so that a
/// second one is never missed.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    /// The next SIGTERM or SIGINT.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(term) = &mut self.term {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM"),
                _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("SIGINT");
    }
}
