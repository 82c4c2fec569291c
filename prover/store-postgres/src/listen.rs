//! Job changes heard from PostgreSQL: every job write sends
//! `pg_notify('depin_jobs', <job id>)` in its transaction (delivered to
//! listeners when it commits, never for ingest); one connection per store,
//! outside the pool, `LISTEN`s and passes each job id on as
//! [`JobEvent::Changed`]. When that connection is lost it is opened again
//! (with backoff) and [`JobEvent::Resync`] is sent once it listens again,
//! so that whoever watches reads again what it may have missed.

use std::time::Duration;

use depin_store::{ChainKey, JobEvent};
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, Config, NoTls};

/// The channel of job changes.
pub(crate) const JOB_CHANNEL: &str = "depin_jobs";

/// Events kept for a slow subscriber (one that lags behind is told to
/// resync).
const CAPACITY: usize = 4096;

/// A broadcast of the job changes of every node.
pub(crate) fn channel() -> broadcast::Sender<JobEvent> {
    broadcast::channel(CAPACITY).0
}

/// Listens on [`JOB_CHANNEL`] until the task is aborted, reconnecting
/// whenever the connection is lost.
pub(crate) async fn listen_loop(
    config: Config,
    target: String,
    events: broadcast::Sender<JobEvent>,
) {
    let mut backoff = Duration::from_millis(200);
    let mut lost = false;
    loop {
        match listen_once(&config, &events).await {
            Ok(()) => {
                lost = false;
                backoff = Duration::from_millis(200);
            }
            Err(e) => {
                if !lost {
                    tracing::warn!(
                        database = %target,
                        error = %e,
                        "listening for job changes failed; reconnecting"
                    );
                }
                lost = true;
            }
        }
        // Whatever was sent while nobody listened is read again.
        let _ = events.send(JobEvent::Resync);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// One connection's life: connect, `LISTEN`, forward notifications until
/// the connection ends.
async fn listen_once(
    config: &Config,
    events: &broadcast::Sender<JobEvent>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let forward = {
        let events = events.clone();
        async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(n))) if n.channel() == JOB_CHANNEL => {
                        if let Some(key) = ChainKey::from_job_id(n.payload()) {
                            let _ = events.send(JobEvent::Changed(key));
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                }
            }
        }
    };
    let listen = async {
        client
            .batch_execute(&format!("LISTEN {JOB_CHANNEL}"))
            .await?;
        // Notifications sent before LISTEN took effect were not heard.
        let _ = events.send(JobEvent::Resync);
        // Keep the client (and so the connection) until the connection ends.
        std::future::pending::<Result<(), tokio_postgres::Error>>().await
    };
    tokio::select! {
        r = forward => r,
        r = listen => r,
    }
}
