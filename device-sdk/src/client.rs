//! The prover service's gRPC client (`depin.prover.v1`), for devices,
//! witnesses, operators and tools.
//!
//! - [`ProverClient`]: every call with a deadline; `SubmitRecords` (which the
//!   service makes idempotent) and the read calls are retried with
//!   exponential backoff on UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED and
//!   DEADLINE_EXCEEDED.
//! - [`OperatorClient`]: the authenticated operator calls (bearer token).
//! - [`UptimeChain`], [`BandwidthChain`]: a device's hash chain for an
//!   epoch, turning records into ready-to-send batches; the device signs the
//!   head after the last record of each batch (one signature authenticates
//!   the whole batch through the chain).
//! - [`coverage_claim`], [`witness_reports`]: the coverage records.
//!
//! `http://` endpoints are plain text. `https://` endpoints use TLS
//! (rustls): with [`ClientConfig::tls`] set, the server must present a
//! certificate signed by its CA (and the client presents its own
//! certificate when the service requires mutual TLS); without it, the
//! server's certificate must chain to the public webpki roots.

use std::time::Duration;

use depin_crypto::babyjubjub::Point;
use depin_crypto::eddsa::{PrivateKey, PublicKey, Signature};
use depin_crypto::field::{fr_to_string, Fr};
use depin_statements::records::{
    beacon_id, CoverageClaim, HashChain, Heartbeat, Location, SessionReceipt, SignedWitnessReport,
    WitnessReport,
};
use depin_statements::RejectReason;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status};

use depin_proto::convert;
pub use depin_proto::v1 as pb;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint could not be reached or parsed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The service answered with an error.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] Status),
    /// A watch (of a job or a batch) ended without a final state.
    #[error("the watch stream ended before the job or batch finished")]
    StreamEnded,
    /// The TLS settings are unusable (a certificate or key that does not
    /// parse, TLS settings on an `http://` endpoint).
    #[error("TLS: {0}")]
    Tls(String),
}

impl ClientError {
    /// Whether the same call may succeed later: the service was
    /// unreachable, overloaded, or the deadline passed (UNAVAILABLE,
    /// RESOURCE_EXHAUSTED, ABORTED, DEADLINE_EXCEEDED).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Status(s) => retryable(s),
            ClientError::Transport(_) | ClientError::StreamEnded | ClientError::Tls(_) => false,
        }
    }
}

/// TLS settings of a client (`https://` endpoints).
#[derive(Clone, Default)]
pub struct ClientTls {
    /// PEM of the CA certificate(s) the server's certificate must chain
    /// to.
    pub ca_pem: Vec<u8>,
    /// The name checked against the server's certificate, when it is not
    /// the endpoint's host.
    pub domain: Option<String>,
    /// The client's certificate chain and private key (PEM), presented to
    /// a service that requires mutual TLS.
    pub identity: Option<ClientIdentity>,
}

/// A client certificate chain and its private key, both PEM.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The certificate chain (leaf first).
    pub cert_pem: Vec<u8>,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca_pem", &format_args!("<{} bytes>", self.ca_pem.len()))
            .field("domain", &self.domain)
            .field("identity", &self.identity)
            .finish()
    }
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_pem", &format_args!("<{} bytes>", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl ClientTls {
    /// Trusts the CA certificate(s) in `ca_pem`.
    pub fn new(ca_pem: impl Into<Vec<u8>>) -> Self {
        ClientTls {
            ca_pem: ca_pem.into(),
            ..ClientTls::default()
        }
    }

    /// Checks the server's certificate against `domain` instead of the
    /// endpoint's host.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Presents `cert_pem` (with the private key `key_pem`) to the server
    /// (mutual TLS).
    pub fn with_identity(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.identity = Some(ClientIdentity {
            cert_pem: cert_pem.into(),
            key_pem: key_pem.into(),
        });
        self
    }

    /// Reads the CA certificate and, if given, the client certificate and
    /// key from PEM files.
    pub fn from_files(
        ca: &std::path::Path,
        identity: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Result<Self, ClientError> {
        let read = |what: &str, p: &std::path::Path| {
            std::fs::read(p)
                .map_err(|e| ClientError::Tls(format!("reading the {what} {}: {e}", p.display())))
        };
        let mut tls = ClientTls::new(read("CA certificate", ca)?);
        if let Some((cert, key)) = identity {
            tls = tls.with_identity(read("client certificate", cert)?, read("client key", key)?);
        }
        Ok(tls)
    }

    /// The tonic configuration; refuses PEM without a certificate (or a
    /// key) in it.
    fn tonic_config(&self) -> Result<ClientTlsConfig, ClientError> {
        check_certificates("CA certificate", &self.ca_pem)?;
        let mut c = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&self.ca_pem));
        if let Some(d) = &self.domain {
            rustls_pki_types::ServerName::try_from(d.as_str())
                .map_err(|e| ClientError::Tls(format!("domain name {d:?}: {e}")))?;
            c = c.domain_name(d.clone());
        }
        if let Some(id) = &self.identity {
            check_certificates("client certificate", &id.cert_pem)?;
            check_private_key(&id.key_pem)?;
            c = c.identity(Identity::from_pem(&id.cert_pem, &id.key_pem));
        }
        Ok(c)
    }
}

fn check_certificates(what: &str, pem: &[u8]) -> Result<(), ClientError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let n = CertificateDer::pem_slice_iter(pem)
        .try_fold(0usize, |n, c| c.map(|_| n + 1))
        .map_err(|e| ClientError::Tls(format!("{what}: not valid PEM: {e}")))?;
    if n == 0 {
        return Err(ClientError::Tls(format!(
            "{what}: no PEM certificate (-----BEGIN CERTIFICATE-----) found"
        )));
    }
    Ok(())
}

fn check_private_key(pem: &[u8]) -> Result<(), ClientError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::PrivateKeyDer;
    PrivateKeyDer::from_pem_slice(pem)
        .map(|_| ())
        .map_err(|e| ClientError::Tls(format!("client key: no usable PEM private key: {e}")))
}

/// Deadlines, retries and TLS.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Deadline of one call (sent as `grpc-timeout`).
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubled on each retry.
    pub backoff: Duration,
    /// TLS settings, for `https://` endpoints; `None` trusts the webpki
    /// roots there.
    pub tls: Option<ClientTls>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retries: 4,
            backoff: Duration::from_millis(50),
            tls: None,
        }
    }
}

/// The service's verdict on one record (`RecordVerdict`), with the reason
/// as the stable [`RejectReason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordOutcome {
    /// Stored; passes every rule decided at ingest.
    Accepted,
    /// Stored (it is part of the device's signed chain) but not counted.
    Rejected(RejectReason),
    /// Not stored.
    Refused(RejectReason),
}

impl RecordOutcome {
    /// The reason, unless accepted.
    pub fn reason(self) -> Option<RejectReason> {
        match self {
            RecordOutcome::Accepted => None,
            RecordOutcome::Rejected(r) | RecordOutcome::Refused(r) => Some(r),
        }
    }
}

/// A verdict with an unknown status or reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed verdict: status {status}, reason {reason}")]
pub struct BadVerdict {
    /// The status code received.
    pub status: i32,
    /// The reason code received.
    pub reason: i32,
}

impl TryFrom<&pb::RecordVerdict> for RecordOutcome {
    type Error = BadVerdict;

    fn try_from(v: &pb::RecordVerdict) -> Result<Self, BadVerdict> {
        let bad = BadVerdict {
            status: v.status,
            reason: v.reason,
        };
        let reason = || convert::reason(v.reason).ok_or(bad);
        match pb::RecordStatus::try_from(v.status) {
            Ok(pb::RecordStatus::Accepted) => Ok(RecordOutcome::Accepted),
            Ok(pb::RecordStatus::Rejected) => Ok(RecordOutcome::Rejected(reason()?)),
            Ok(pb::RecordStatus::Refused) => Ok(RecordOutcome::Refused(reason()?)),
            _ => Err(bad),
        }
    }
}

fn retryable(s: &Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable | Code::ResourceExhausted | Code::Aborted | Code::DeadlineExceeded
    )
}

/// The endpoint with its timeouts and TLS settings.
fn endpoint(endpoint: &str, cfg: &ClientConfig) -> Result<Endpoint, ClientError> {
    let mut e = Endpoint::from_shared(endpoint.to_string())?
        .connect_timeout(cfg.connect_timeout)
        .tcp_nodelay(true);
    if let Some(tls) = &cfg.tls {
        if e.uri().scheme_str() != Some("https") {
            return Err(ClientError::Tls(format!(
                "TLS is configured but the endpoint {endpoint:?} is not https://"
            )));
        }
        e = e
            .tls_config(tls.tonic_config()?)
            .map_err(|err| ClientError::Tls(tls_error_message(&err)))?;
    }
    Ok(e)
}

/// The error with its causes (tonic's own message is only "transport
/// error").
fn tls_error_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

async fn channel(endpoint_url: &str, cfg: &ClientConfig) -> Result<Channel, ClientError> {
    Ok(endpoint(endpoint_url, cfg)?.connect().await?)
}

/// The public service's client.
#[derive(Debug, Clone)]
pub struct ProverClient {
    inner: pb::prover_client::ProverClient<Channel>,
    cfg: ClientConfig,
}

/// The first message of a watch stream that `is_final` accepts.
async fn until_final<T>(
    stream: &mut tonic::Streaming<T>,
    is_final: &impl Fn(&T) -> bool,
) -> Result<T, ClientError> {
    while let Some(m) = stream.message().await? {
        if is_final(&m) {
            return Ok(m);
        }
    }
    Err(ClientError::StreamEnded)
}

/// Whether a watch that failed with `e` is worth opening again: the node
/// drained, died or was unreachable (a retryable status, a connection
/// reset, or a stream that ended early), as opposed to a refusal.
fn rewatchable(e: &ClientError) -> bool {
    match e {
        ClientError::Status(s) => {
            retryable(s) || matches!(s.code(), Code::Unknown | Code::Cancelled | Code::Internal)
        }
        ClientError::StreamEnded => true,
        ClientError::Transport(_) | ClientError::Tls(_) => false,
    }
}

/// Follows a watch (`open` starts it) until `is_final` accepts a message.
/// A watch that breaks (the node it was on drains or dies) is opened again
/// with backoff, up to `cfg.retries` times: behind a load balancer another
/// node answers, so a node's death costs a retry, not an error.
async fn follow<T, F, Fut>(
    cfg: &ClientConfig,
    mut open: F,
    is_final: impl Fn(&T) -> bool,
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<tonic::Streaming<T>>, Status>>,
{
    let mut backoff = cfg.backoff;
    let mut failures = 0;
    loop {
        let error = match open().await {
            Ok(resp) => {
                let mut stream = resp.into_inner();
                match until_final(&mut stream, &is_final).await {
                    Ok(m) => return Ok(m),
                    Err(e) => e,
                }
            }
            Err(s) => ClientError::Status(s),
        };
        if failures >= cfg.retries || !rewatchable(&error) {
            return Err(error);
        }
        failures += 1;
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}

macro_rules! with_retries {
    ($self:ident, $req:ident, $call:ident) => {
        with_retries!($self.inner, $req, $call)
    };
    ($self:ident . $client:ident, $req:ident, $call:ident) => {{
        let mut backoff = $self.cfg.backoff;
        let mut attempt = 0;
        loop {
            let mut r = tonic::Request::new($req.clone());
            r.set_timeout($self.cfg.timeout);
            match $self.$client.$call(r).await {
                Ok(resp) => break Ok(resp.into_inner()),
                Err(s) if attempt < $self.cfg.retries && retryable(&s) => {
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(s) => break Err(ClientError::Status(s)),
            }
        }
    }};
}

impl ProverClient {
    /// Connects to `endpoint` (e.g. `http://127.0.0.1:50051`, or
    /// `https://prover.example:50051` with TLS).
    pub async fn connect(endpoint: &str, cfg: ClientConfig) -> Result<Self, ClientError> {
        Ok(Self::from_channel(channel(endpoint, &cfg).await?, cfg))
    }

    /// A client that connects on its first call (and reconnects after the
    /// service went away): calls made while the service is down fail with
    /// UNAVAILABLE, which the retry policy and
    /// [`ClientError::is_retryable`] treat as transient. Fails only on a
    /// malformed endpoint or unusable TLS settings.
    pub fn connect_lazy(endpoint_url: &str, cfg: ClientConfig) -> Result<Self, ClientError> {
        let ch = endpoint(endpoint_url, &cfg)?.connect_lazy();
        Ok(Self::from_channel(ch, cfg))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: Channel, cfg: ClientConfig) -> Self {
        ProverClient {
            inner: pb::prover_client::ProverClient::new(channel)
                .max_decoding_message_size(64 << 20),
            cfg,
        }
    }

    /// The generated client, for calls without the retry policy.
    pub fn raw(&mut self) -> &mut pb::prover_client::ProverClient<Channel> {
        &mut self.inner
    }

    /// Submits a batch (retried: the service answers a retry with the
    /// verdicts of the first submission).
    pub async fn submit(
        &mut self,
        req: &pb::SubmitRecordsRequest,
    ) -> Result<pb::SubmitRecordsResponse, ClientError> {
        with_retries!(self, req, submit_records)
    }

    /// Queues the proof of a device's epoch, without credentials: the
    /// prover takes it only once the epoch is out of its window (no more
    /// records possible); while the epoch still takes records use
    /// [`ProverClient::prove_epoch_signed`] (the device) or
    /// [`OperatorClient::prove_epoch`] (the operator).
    pub async fn prove_epoch(
        &mut self,
        device_id: &Fr,
        kind: pb::StatementKind,
        epoch: u32,
    ) -> Result<pb::ProveEpochResponse, ClientError> {
        let req = unsigned_prove_request(device_id, kind, epoch);
        with_retries!(self, req, prove_epoch)
    }

    /// Queues the proof of `device`'s own epoch, signed with its key
    /// ([`prove_request`]; the beacon is fetched with `GetPolicy`): accepted
    /// while the epoch still takes records.
    pub async fn prove_epoch_signed(
        &mut self,
        device: &crate::signer::Device,
        kind: pb::StatementKind,
        epoch: u32,
    ) -> Result<pb::ProveEpochResponse, ClientError> {
        let policy = self.get_policy(epoch).await?;
        let beacon = convert::fr(|| "beacon".into(), &policy.beacon)
            .map_err(|e| ClientError::Status(Status::internal(e.to_string())))?;
        let req = prove_request(device, kind, epoch, beacon);
        self.prove_epoch_request(&req).await
    }

    /// Sends a prepared `ProveEpoch` request (e.g. one [`prove_request`]
    /// signed), retried like the other calls (`ProveEpoch` is idempotent).
    pub async fn prove_epoch_request(
        &mut self,
        req: &pb::ProveEpochRequest,
    ) -> Result<pb::ProveEpochResponse, ClientError> {
        with_retries!(self, req, prove_epoch)
    }

    /// A job's state.
    pub async fn get_job(&mut self, job_id: &str) -> Result<pb::Job, ClientError> {
        let req = pb::GetJobRequest {
            job_id: job_id.into(),
        };
        with_retries!(self, req, get_job)
    }

    /// Follows a job (`WatchJob`) until it is done or failed; no deadline.
    /// A watch that breaks (its node drained or died) is opened again, up
    /// to the configured retries.
    pub async fn wait_job(&mut self, job_id: &str) -> Result<pb::Job, ClientError> {
        let req = pb::GetJobRequest {
            job_id: job_id.into(),
        };
        let inner = self.inner.clone();
        follow(
            &self.cfg,
            || {
                let mut c = inner.clone();
                let req = req.clone();
                async move { c.watch_job(req).await }
            },
            |job: &pb::Job| {
                matches!(
                    pb::JobState::try_from(job.state).unwrap_or_default(),
                    pb::JobState::Done | pb::JobState::Failed
                )
            },
        )
        .await
    }

    /// A statement's batch (`GetBatch`).
    pub async fn get_batch(
        &mut self,
        kind: pb::StatementKind,
        sequence: u64,
    ) -> Result<pb::Batch, ClientError> {
        let req = pb::GetBatchRequest {
            kind: kind as i32,
            sequence,
        };
        with_retries!(self, req, get_batch)
    }

    /// Follows a batch (`WatchBatch`) until it is DONE or FAILED, opened
    /// again like [`ProverClient::wait_job`]'s.
    pub async fn wait_batch(
        &mut self,
        kind: pb::StatementKind,
        sequence: u64,
    ) -> Result<pb::Batch, ClientError> {
        let req = pb::GetBatchRequest {
            kind: kind as i32,
            sequence,
        };
        let inner = self.inner.clone();
        follow(
            &self.cfg,
            || {
                let mut c = inner.clone();
                async move { c.watch_batch(req).await }
            },
            |batch: &pb::Batch| {
                matches!(
                    pb::BatchState::try_from(batch.state).unwrap_or_default(),
                    pb::BatchState::Done | pb::BatchState::Failed
                )
            },
        )
        .await
    }

    /// What a device withdraws of a statement's rewards (`GetWithdrawal`).
    pub async fn get_withdrawal(
        &mut self,
        device_id: &Fr,
        kind: pb::StatementKind,
    ) -> Result<pb::Withdrawal, ClientError> {
        let req = pb::GetWithdrawalRequest {
            device_id: fr_to_string(device_id),
            kind: kind as i32,
        };
        with_retries!(self, req, get_withdrawal)
    }

    /// A finished job's proof and calldata.
    pub async fn get_proof(&mut self, job_id: &str) -> Result<pb::GetProofResponse, ClientError> {
        let req = pb::GetProofRequest {
            job_id: job_id.into(),
        };
        with_retries!(self, req, get_proof)
    }

    /// A statement's verifying key.
    pub async fn get_verifying_key(
        &mut self,
        kind: pb::StatementKind,
    ) -> Result<pb::GetVerifyingKeyResponse, ClientError> {
        let req = pb::GetVerifyingKeyRequest { kind: kind as i32 };
        with_retries!(self, req, get_verifying_key)
    }

    /// An epoch's beacon and policies.
    pub async fn get_policy(&mut self, epoch: u32) -> Result<pb::EpochPolicy, ClientError> {
        let req = pb::GetPolicyRequest { epoch };
        with_retries!(self, req, get_policy)
    }
}

/// A `ProveEpoch` request signed by `device` for its `kind` records of
/// `epoch`, whose published beacon is `beacon`
/// ([`crate::signer::Device::sign_prove_request`]).
pub fn prove_request(
    device: &crate::signer::Device,
    kind: pb::StatementKind,
    epoch: u32,
    beacon: Fr,
) -> pb::ProveEpochRequest {
    let native = match kind {
        pb::StatementKind::Bandwidth => depin_statements::StatementKind::Bandwidth,
        pb::StatementKind::Coverage => depin_statements::StatementKind::Coverage,
        _ => depin_statements::StatementKind::Uptime,
    };
    pb::ProveEpochRequest {
        device_signature: Some(convert::signature_pb(
            &device.sign_prove_request(native, epoch, beacon),
        )),
        ..unsigned_prove_request(&device.id(), kind, epoch)
    }
}

/// A `ProveEpoch` request without the device's signature (the operator's,
/// or one for a closed epoch).
fn unsigned_prove_request(
    device_id: &Fr,
    kind: pb::StatementKind,
    epoch: u32,
) -> pb::ProveEpochRequest {
    pb::ProveEpochRequest {
        device_id: fr_to_string(device_id),
        kind: kind as i32,
        epoch,
        device_signature: None,
    }
}

/// Adds `authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct BearerToken(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for BearerToken {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

type OperatorInner = pb::operator_client::OperatorClient<
    tonic::service::interceptor::InterceptedService<Channel, BearerToken>,
>;

type OperatorProver = pb::prover_client::ProverClient<
    tonic::service::interceptor::InterceptedService<Channel, BearerToken>,
>;

/// The operator service's client (and `ProveEpoch` with the operator's
/// token).
#[derive(Debug, Clone)]
pub struct OperatorClient {
    inner: OperatorInner,
    prover: OperatorProver,
    cfg: ClientConfig,
}

impl OperatorClient {
    /// Connects with a bearer token.
    pub async fn connect(
        endpoint: &str,
        token: &str,
        cfg: ClientConfig,
    ) -> Result<Self, ClientError> {
        let ch = channel(endpoint, &cfg).await?;
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::invalid_argument("the token is not valid ASCII"))?;
        let bearer = BearerToken(value);
        Ok(OperatorClient {
            inner: pb::operator_client::OperatorClient::with_interceptor(
                ch.clone(),
                bearer.clone(),
            ),
            prover: pb::prover_client::ProverClient::with_interceptor(ch, bearer),
            cfg,
        })
    }

    // Every operator call is idempotent (a device or client registered
    // again is answered `created = false`, an epoch published again with
    // the same values is accepted, a job asked for again is returned), so
    // each is retried like the prover client's.

    /// Registers a device; returns its id.
    pub async fn register_device(
        &mut self,
        key: &PublicKey,
    ) -> Result<pb::RegisterDeviceResponse, ClientError> {
        let req = pb::RegisterDeviceRequest {
            public_key: Some(point(&key.0)),
        };
        with_retries!(self.inner, req, register_device)
    }

    /// Registers a bandwidth client.
    pub async fn register_client(
        &mut self,
        key: &PublicKey,
    ) -> Result<pb::RegisterClientResponse, ClientError> {
        let req = pb::RegisterClientRequest {
            public_key: Some(point(&key.0)),
        };
        with_retries!(self.inner, req, register_client)
    }

    /// Publishes an epoch's beacon and policies.
    pub async fn publish_epoch(
        &mut self,
        req: pb::PublishEpochRequest,
    ) -> Result<pb::PublishEpochResponse, ClientError> {
        with_retries!(self.inner, req, publish_epoch)
    }

    /// Queues the proof of a device's epoch as the operator (token): taken
    /// even while the epoch still takes records.
    pub async fn prove_epoch(
        &mut self,
        device_id: &Fr,
        kind: pb::StatementKind,
        epoch: u32,
    ) -> Result<pb::ProveEpochResponse, ClientError> {
        let req = unsigned_prove_request(device_id, kind, epoch);
        with_retries!(self.prover, req, prove_epoch)
    }
}

/// A point on the wire.
pub fn point(p: &Point) -> pb::Point {
    convert::point_pb(p)
}

/// A signature on the wire.
pub fn signature(s: &Signature) -> pb::Signature {
    convert::signature_pb(s)
}

/// When the device signs chain heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignHeads {
    /// The head after the last record of each batch (enough: the chain
    /// authenticates the records before it).
    #[default]
    LastOfBatch,
    /// The head after every record.
    Every,
}

fn should_sign(policy: SignHeads, i: usize, n: usize) -> bool {
    policy == SignHeads::Every || i + 1 == n
}

/// A device's uptime chain in one epoch.
#[derive(Debug, Clone)]
pub struct UptimeChain {
    key: PrivateKey,
    device_id: Fr,
    epoch: u32,
    chain: HashChain,
    /// How heads are signed.
    pub sign: SignHeads,
}

impl UptimeChain {
    /// A new chain (at the genesis) for `key`'s device in `epoch`.
    pub fn new(key: PrivateKey, epoch: u32) -> Self {
        let device_id = key.public_key().id();
        UptimeChain {
            key,
            device_id,
            epoch,
            chain: HashChain::uptime(device_id, epoch),
            sign: SignHeads::default(),
        }
    }

    /// The device id.
    pub fn device_id(&self) -> Fr {
        self.device_id
    }

    /// The current head.
    pub fn head(&self) -> Fr {
        self.chain.head()
    }

    /// Honest heartbeats answering `beacon`'s challenges for `slots`.
    pub fn heartbeats(&self, beacon: Fr, slots: &[u32], latency_ms: u32) -> Vec<Heartbeat> {
        slots
            .iter()
            .map(|s| Heartbeat::answer(beacon, self.device_id, *s, latency_ms))
            .collect()
    }

    /// Appends `heartbeats` to the chain and returns the request that
    /// submits them.
    pub fn batch(&mut self, heartbeats: &[Heartbeat]) -> pb::SubmitRecordsRequest {
        let n = heartbeats.len();
        let records = heartbeats
            .iter()
            .enumerate()
            .map(|(i, hb)| {
                let head = self.chain.push(hb.message());
                let sig = should_sign(self.sign, i, n).then(|| self.key.sign(&head));
                convert::uptime_record_pb(hb, &head, sig.as_ref())
            })
            .collect();
        pb::SubmitRecordsRequest {
            device_id: fr_to_string(&self.device_id),
            epoch: self.epoch,
            records: Some(pb::submit_records_request::Records::Uptime(
                pb::UptimeBatch { records },
            )),
        }
    }
}

/// A receipt signed by its client, as a device holds it before sending.
#[derive(Debug, Clone, Copy)]
pub struct ClientReceipt {
    /// The receipt.
    pub receipt: SessionReceipt,
    /// The client's key.
    pub client_key: PublicKey,
    /// The client's signature on `receipt.message()`.
    pub client_signature: Signature,
}

impl ClientReceipt {
    /// What a client does: signs the receipt.
    pub fn sign(client: &PrivateKey, receipt: SessionReceipt) -> Self {
        ClientReceipt {
            receipt,
            client_key: client.public_key(),
            client_signature: client.sign(&receipt.message()),
        }
    }
}

/// A device's bandwidth receipt chain in one epoch.
#[derive(Debug, Clone)]
pub struct BandwidthChain {
    key: PrivateKey,
    device_id: Fr,
    epoch: u32,
    chain: HashChain,
    /// How heads are signed.
    pub sign: SignHeads,
}

impl BandwidthChain {
    /// A new chain for `key`'s device in `epoch`.
    pub fn new(key: PrivateKey, epoch: u32) -> Self {
        let device_id = key.public_key().id();
        BandwidthChain {
            key,
            device_id,
            epoch,
            chain: HashChain::bandwidth(device_id, epoch),
            sign: SignHeads::default(),
        }
    }

    /// The device id.
    pub fn device_id(&self) -> Fr {
        self.device_id
    }

    /// Appends the receipts and returns the request that submits them.
    pub fn batch(&mut self, receipts: &[ClientReceipt]) -> pb::SubmitRecordsRequest {
        let n = receipts.len();
        let records = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let head = self.chain.push(r.receipt.message());
                let sig = should_sign(self.sign, i, n).then(|| self.key.sign(&head));
                convert::bandwidth_record_pb(
                    &r.receipt,
                    &r.client_key,
                    &r.client_signature,
                    &head,
                    sig.as_ref(),
                )
            })
            .collect();
        pb::SubmitRecordsRequest {
            device_id: fr_to_string(&self.device_id),
            epoch: self.epoch,
            records: Some(pb::submit_records_request::Records::Bandwidth(
                pb::BandwidthBatch { records },
            )),
        }
    }
}

/// The request submitting a coverage device's signed claim.
pub fn coverage_claim(
    key: &PrivateKey,
    epoch: u32,
    beacon: Fr,
    location: Location,
) -> pb::SubmitRecordsRequest {
    let device_id = key.public_key().id();
    let claim = CoverageClaim {
        device_id,
        epoch,
        location,
        beacon_id: beacon_id(beacon, device_id),
    };
    let sig = key.sign(&claim.message());
    pb::SubmitRecordsRequest {
        device_id: fr_to_string(&device_id),
        epoch,
        records: Some(pb::submit_records_request::Records::CoverageClaim(
            convert::coverage_claim_pb(&claim, &sig),
        )),
    }
}

/// What a witness heard: `(beacon id, its own location, rssi)`.
pub type Heard = (Fr, Location, i32);

/// The request submitting a witness's signed reports.
pub fn witness_reports(
    witness: &PrivateKey,
    epoch: u32,
    heard: &[Heard],
) -> pb::SubmitRecordsRequest {
    let pk = witness.public_key();
    let reports = heard
        .iter()
        .map(|(bid, loc, rssi)| {
            let report = WitnessReport {
                witness: pk,
                location: *loc,
                rssi_dbm: *rssi,
                beacon_id: *bid,
                epoch,
            };
            convert::witness_report_pb(&SignedWitnessReport {
                report,
                signature: witness.sign(&report.message()),
            })
        })
        .collect();
    pb::SubmitRecordsRequest {
        device_id: fr_to_string(&pk.id()),
        epoch,
        records: Some(pb::submit_records_request::Records::WitnessReports(
            pb::WitnessBatch { reports },
        )),
    }
}
