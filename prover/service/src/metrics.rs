//! Prometheus metrics, served as text on `GET /metrics` of the metrics
//! address.
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `depin_records_total` | counter | `kind`, `status` (accepted, rejected, refused), `reason` |
//! | `depin_ingest_batches_total` | counter | `kind` |
//! | `depin_ingest_batch_seconds` | histogram | |
//! | `depin_queue_depth` | gauge | |
//! | `depin_jobs_total` | counter | `kind`, `outcome` (done, failed) |
//! | `depin_proof_seconds` | histogram | `kind` |
//!
//! The ingest rate is `rate(depin_records_total[1m])`; rejections by reason
//! are `depin_records_total{status!="accepted"}`.

use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;

fn proof_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.25, 1.6, 18))
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    /// Records by kind, status and reason.
    pub records: Family<Labels, Counter>,
    /// Ingest batches by kind.
    pub batches: Family<Labels, Counter>,
    /// Ingest batch latency.
    pub batch_seconds: Histogram,
    /// Jobs queued and not yet taken by a worker.
    pub queue_depth: Gauge,
    /// Finished jobs by kind and outcome.
    pub jobs: Family<Labels, Counter>,
    /// Proof latency by kind.
    pub proof_seconds: Family<Labels, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("depin");
        let records = Family::<Labels, Counter>::default();
        registry.register("records", "Records received, by status", records.clone());
        let batches = Family::<Labels, Counter>::default();
        registry.register("ingest_batches", "SubmitRecords batches", batches.clone());
        let batch_seconds = Histogram::new(exponential_buckets(0.000_25, 2.0, 16));
        registry.register(
            "ingest_batch_seconds",
            "Time to check and durably store a batch",
            batch_seconds.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Jobs waiting for a worker",
            queue_depth.clone(),
        );
        let jobs = Family::<Labels, Counter>::default();
        registry.register("jobs", "Finished proving jobs", jobs.clone());
        let proof_seconds =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(proof_histogram);
        registry.register(
            "proof_seconds",
            "Time to build and prove one epoch",
            proof_seconds.clone(),
        );
        Metrics {
            registry,
            records,
            batches,
            batch_seconds,
            queue_depth,
            jobs,
            proof_seconds,
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Serves `GET /metrics` on `addr` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let m = metrics.clone();
            async move {
                (
                    [(
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    m.render(),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds the metrics address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}
