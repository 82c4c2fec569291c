//! The gRPC services: [`ProverApi`] (public) and [`OperatorApi`]
//! (authenticated). Handlers parse, call the domain, and convert; every
//! error leaves through `From<ServiceError> for tonic::Status`.

use std::pin::Pin;
use std::sync::Arc;

use ark_ff::AdditiveGroup;
use depin_proto::v1 as pb;
use depin_statements::records::{beacon_id, prove_request_message};
use depin_statements::{Fr, REGISTRY_DEPTH};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use depin_evm::calldata::{
    claim_calldata, halo2_claim_calldata, submit_batch_calldata, BatchCallHeader, CLAIM_FUNCTION,
    HALO2_CLAIM_FUNCTION, SUBMIT_BATCH_FUNCTION,
};
use depin_proto::convert::{self, fr_pb, kind_to_pb, reason_to_pb};
use depin_proving::{Backend, Proof, StatementProof};
use depin_store::{
    BatchRecord, ChainKey, Condition, EpochConfig, JobRecord, JobState, Mutation, Store,
    StoreError, WriteBatch,
};

use super::auth::OperatorAuth;
use super::error::{Result, ServiceError};
use super::ingest::{Ingest, Outcome};
use super::jobs::{verdict_counts, Jobs};
use super::prove::{KeyState, KeyStore, Registries};

/// The public service.
#[derive(Debug, Clone)]
pub struct ProverApi {
    /// Ingest.
    pub ingest: Arc<Ingest>,
    /// Jobs.
    pub jobs: Arc<Jobs>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Keys.
    pub keys: Arc<KeyStore>,
    /// Records per request, at most.
    pub max_batch_records: usize,
    /// Epochs that take records: `ProveEpoch` for one of them needs the
    /// device's signature or the operator token.
    pub epoch_window: u32,
    /// The operator token check (`ProveEpoch` on an open epoch).
    pub operator: OperatorAuth,
    /// Closes when the node stops taking requests: open `WatchJob`
    /// streams end with UNAVAILABLE (watch again elsewhere), so that a
    /// draining node's connections close.
    pub gate: crate::auth::Gate,
}

fn job_key(id: &str) -> Result<ChainKey> {
    ChainKey::from_job_id(id).ok_or_else(|| {
        ServiceError::invalid(
            "job_id",
            format!(
                "{} is not a job id (<kind>-<epoch>-<64 hex digits>)",
                convert::quote(id)
            ),
        )
    })
}

fn state_pb(s: JobState) -> pb::JobState {
    match s {
        JobState::Queued => pb::JobState::Queued,
        JobState::Proving => pb::JobState::Proving,
        JobState::Done => pb::JobState::Done,
        JobState::Failed => pb::JobState::Failed,
    }
}

fn verdict_pb(v: depin_statements::Verdict) -> pb::RecordVerdict {
    match v.reason() {
        None => pb::RecordVerdict {
            status: pb::RecordStatus::Accepted as i32,
            reason: 0,
        },
        Some(r) => pb::RecordVerdict {
            status: pb::RecordStatus::Rejected as i32,
            reason: reason_to_pb(r) as i32,
        },
    }
}

/// A job on the wire.
pub fn job_pb(j: &JobRecord) -> pb::Job {
    let (accepted, rejected) = verdict_counts(&j.verdicts);
    pb::Job {
        job_id: j.key.job_id(),
        device_id: fr_pb(&j.key.device),
        kind: kind_to_pb(j.key.kind) as i32,
        epoch: j.key.epoch,
        state: state_pb(j.state) as i32,
        failure: j.failure.clone(),
        reward: j.reward,
        records_accepted: accepted,
        records_rejected: rejected,
        verdicts: j.verdicts.iter().map(|v| verdict_pb(*v)).collect(),
        created_unix_ms: j.created_ms,
        finished_unix_ms: j.finished_ms,
        proving_ms: j.proving_ms,
        attempts: j.attempts,
        batch_id: j
            .batch
            .map(|n| depin_store::batch_id(j.key.kind, n))
            .unwrap_or_default(),
        batch_sequence: j.batch.unwrap_or_default(),
    }
}

fn batch_state_pb(s: JobState) -> pb::BatchState {
    match s {
        JobState::Queued | JobState::Proving => pb::BatchState::Proving,
        JobState::Done => pb::BatchState::Done,
        JobState::Failed => pb::BatchState::Failed,
    }
}

/// A Groth16 proof on the wire: coordinates as snarkjs prints them.
fn groth16_pb(p: &ark_groth16::Proof<ark_bn254::Bn254>) -> pb::Groth16Proof {
    let json = depin_evm::snarkjs::proof_to_json_value(p);
    let [ax, ay, _] = json.pi_a;
    let [[bx0, bx1], [by0, by1], _] = json.pi_b;
    let [cx, cy, _] = json.pi_c;
    pb::Groth16Proof {
        a: vec![ax, ay],
        b: vec![bx0, bx1, by0, by1],
        c: vec![cx, cy],
    }
}

/// A batch on the wire; a done batch carries its proof and the
/// `submitBatch` calldata.
pub fn batch_pb(b: &BatchRecord) -> Result<pb::Batch> {
    let data = depin_batch::PublicData::decode(b.batch_size as usize, &b.public_data)
        .map_err(|e| ServiceError::Internal(format!("stored batch {}: {e}", b.batch_id())))?;
    let mut out = pb::Batch {
        batch_id: b.batch_id(),
        kind: kind_to_pb(b.kind) as i32,
        sequence: b.sequence,
        epoch: b.header.epoch,
        batch_size: b.batch_size,
        state: batch_state_pb(b.state) as i32,
        failure: b.failure.clone(),
        job_ids: b.members.iter().map(ChainKey::job_id).collect(),
        old_commitment: fr_pb(&b.header.old_commitment),
        new_commitment: fr_pb(&b.header.new_commitment),
        policy_hash: fr_pb(&b.header.policy_hash),
        registry_root: fr_pb(&b.header.registry_root),
        public_data: b.public_data.clone(),
        withdrawal_root: data.withdrawal_root().to_vec(),
        proof: None,
        digest: String::new(),
        calldata: Vec::new(),
        calldata_function: String::new(),
        created_unix_ms: b.created_ms,
        finished_unix_ms: b.finished_ms,
        proving_ms: b.proving_ms,
        attempts: b.attempts,
    };
    if b.state == JobState::Done {
        let proof = depin_groth16::batch::BatchProof::from_bytes(&b.proof).map_err(|e| {
            ServiceError::Internal(format!("stored proof of {}: {e}", b.batch_id()))
        })?;
        out.proof = Some(groth16_pb(&proof.proof));
        out.digest = fr_pb(&proof.digest);
        out.calldata = submit_batch_calldata(
            &proof.proof,
            &BatchCallHeader {
                epoch: b.header.epoch,
                kind: b.header.kind,
                old_commitment: b.header.old_commitment,
                new_commitment: b.header.new_commitment,
                policy_hash: b.header.policy_hash,
                registry_root: b.header.registry_root,
            },
            &b.public_data,
        );
        out.calldata_function = SUBMIT_BATCH_FUNCTION.into();
    }
    Ok(out)
}

/// An epoch on the wire.
pub fn epoch_pb(c: &EpochConfig) -> pb::EpochPolicy {
    pb::EpochPolicy {
        epoch: c.epoch,
        beacon: fr_pb(&c.beacon),
        uptime: Some(convert::uptime_policy_pb(&c.uptime)),
        bandwidth: Some(convert::bandwidth_policy_pb(&c.bandwidth)),
        coverage: Some(convert::coverage_policy_pb(&c.coverage)),
        uptime_policy_hash: fr_pb(&c.uptime.hash()),
        bandwidth_policy_hash: fr_pb(&c.bandwidth.hash()),
        coverage_policy_hash: fr_pb(&c.coverage.hash()),
        registry_root: fr_pb(&c.registry_root),
        registry_size: c.registry_size,
    }
}

/// How often `WatchJob` and `WatchBatch` read the job or batch again from
/// the store (another node of a cluster may be the one that changes it).
const REREAD: std::time::Duration = std::time::Duration::from_secs(1);

type JobStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::Job, Status>> + Send>>;
type BatchStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::Batch, Status>> + Send>>;

impl ProverApi {
    async fn submit_records(
        &self,
        req: pb::SubmitRecordsRequest,
    ) -> Result<pb::SubmitRecordsResponse> {
        let device = convert::fr(|| "device_id".into(), &req.device_id)?;
        let records = convert::records(&req, self.max_batch_records)?;
        let outcomes = self.ingest.submit(device, req.epoch, records).await?;
        let mut resp = pb::SubmitRecordsResponse::default();
        for o in outcomes {
            let (status, reason) = match o {
                Outcome::Accepted => {
                    resp.accepted += 1;
                    (pb::RecordStatus::Accepted, pb::RejectReason::Unspecified)
                }
                Outcome::Rejected(r) => {
                    resp.rejected += 1;
                    (pb::RecordStatus::Rejected, reason_to_pb(r))
                }
                Outcome::Refused(r) => {
                    resp.refused += 1;
                    (pb::RecordStatus::Refused, reason_to_pb(r))
                }
            };
            resp.verdicts.push(pb::RecordVerdict {
                status: status as i32,
                reason: reason as i32,
            });
        }
        Ok(resp)
    }

    /// Who may ask for `key`'s proof: anyone once the epoch is out of the
    /// window (it takes no more records, so the job closes nothing); while
    /// it takes records, the device (its signature on
    /// [`prove_request_message`] with the epoch's beacon) or the operator
    /// (token), since the job closes the device's chain.
    async fn authorize_prove(
        &self,
        md: &tonic::metadata::MetadataMap,
        key: &ChainKey,
        signature: Option<&pb::Signature>,
    ) -> Result<()> {
        let cfg = self
            .store
            .epoch(key.epoch)
            .await?
            .ok_or(ServiceError::UnknownEpoch(key.epoch))?;
        let latest = self.store.latest_epoch().await?.unwrap_or(key.epoch);
        let open = key.epoch > latest || latest - key.epoch < self.epoch_window;
        if !open {
            return Ok(());
        }
        let Some(signature) = signature else {
            if OperatorAuth::presented(md) {
                return self.operator.check(md);
            }
            return Err(ServiceError::Unauthenticated(format!(
                "epoch {} still takes records and a proof closes the device's chain: sign the \
                 request with the device key (device_signature) or call as the operator; \
                 anyone may ask once the epoch is out of the window (from epoch {} on)",
                key.epoch,
                u64::from(key.epoch) + u64::from(self.epoch_window)
            )));
        };
        let signature = convert::signature(&|| "device_signature".into(), Some(signature))?;
        let device = self
            .store
            .device(&key.device)
            .await?
            .ok_or_else(|| ServiceError::UnknownDevice(fr_pb(&key.device)))?;
        let msg = prove_request_message(key.device, key.kind, key.epoch, cfg.beacon);
        device.verify(&msg, &signature).map_err(|_| {
            ServiceError::Unauthenticated(format!(
                "device_signature does not verify: it must be the device's signature on \
                 Poseidon(PROVE_REQUEST, device_id, kind, epoch, beacon) for this device, \
                 statement and epoch {} with the epoch's beacon",
                key.epoch
            ))
        })
    }

    async fn prove_epoch(
        &self,
        md: &tonic::metadata::MetadataMap,
        req: pb::ProveEpochRequest,
    ) -> Result<pb::ProveEpochResponse> {
        let key = ChainKey {
            device: convert::fr(|| "device_id".into(), &req.device_id)?,
            kind: convert::kind("kind", req.kind)?,
            epoch: req.epoch,
        };
        self.authorize_prove(md, &key, req.device_signature.as_ref())
            .await?;
        let s = self.jobs.submit(key).await?;
        Ok(pb::ProveEpochResponse {
            job_id: key.job_id(),
            created: s.created,
            state: state_pb(s.job.state) as i32,
        })
    }

    async fn get_proof(&self, req: &pb::GetProofRequest) -> Result<pb::GetProofResponse> {
        let key = job_key(&req.job_id)?;
        let job = self.jobs.get(&key).await?;
        if let Some(n) = job.batch {
            return Err(ServiceError::FailedPrecondition(format!(
                "job {} is proven in batch {} (GetBatch); its device withdraws with GetWithdrawal",
                req.job_id,
                depin_store::batch_id(key.kind, n)
            )));
        }
        if job.state != JobState::Done {
            return Err(ServiceError::ProofNotReady {
                job: req.job_id.clone(),
                state: job.state.as_str(),
            });
        }
        let bytes = self.store.proof(&key).await?.ok_or_else(|| {
            ServiceError::Internal(format!("job {} is done without a proof", req.job_id))
        })?;
        let proof = StatementProof::from_bytes(&bytes, key.kind)
            .map_err(|e| ServiceError::Internal(format!("stored proof: {e}")))?;
        let public_inputs = proof.public.iter().map(fr_pb).collect();
        match &proof.proof {
            Proof::Groth16(groth16) => {
                let json = depin_evm::snarkjs::proof_to_json_value(groth16);
                let proof_bytes = {
                    use ark_serialize::CanonicalSerialize;
                    let mut v = Vec::new();
                    groth16
                        .serialize_compressed(&mut v)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?;
                    v
                };
                let [ax, ay, _] = json.pi_a;
                let [[bx0, bx1], [by0, by1], _] = json.pi_b;
                let [cx, cy, _] = json.pi_c;
                Ok(pb::GetProofResponse {
                    job_id: req.job_id.clone(),
                    proof: Some(pb::Groth16Proof {
                        a: vec![ax, ay],
                        b: vec![bx0, bx1, by0, by1],
                        c: vec![cx, cy],
                    }),
                    public_inputs,
                    proof_bytes,
                    calldata: claim_calldata(&proof)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?,
                    calldata_function: CLAIM_FUNCTION.into(),
                    reward: job.reward,
                    proof_system: pb::ProofSystem::Groth16.into(),
                    halo2_proof: None,
                })
            }
            Proof::Halo2(transcript) => Ok(pb::GetProofResponse {
                job_id: req.job_id.clone(),
                proof: None,
                public_inputs,
                proof_bytes: transcript.clone(),
                calldata: halo2_claim_calldata(&proof)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
                calldata_function: HALO2_CLAIM_FUNCTION.into(),
                reward: job.reward,
                proof_system: pb::ProofSystem::Halo2.into(),
                halo2_proof: Some(pb::Halo2Proof {
                    transcript: transcript.clone(),
                }),
            }),
        }
    }

    fn batcher(&self) -> Result<&Arc<crate::batches::Batcher>> {
        self.jobs.batcher().ok_or_else(|| {
            ServiceError::FailedPrecondition(
                "this node proves every device-epoch on its own, not in batches (batch_size = 0)"
                    .into(),
            )
        })
    }

    async fn get_batch(&self, req: &pb::GetBatchRequest) -> Result<pb::Batch> {
        let kind = convert::kind("kind", req.kind)?;
        batch_pb(&self.batcher()?.get(kind, req.sequence).await?)
    }

    async fn watch_batch(&self, req: &pb::GetBatchRequest) -> Result<BatchStream> {
        let kind = convert::kind("kind", req.kind)?;
        let sequence = req.sequence;
        let batcher = self.batcher()?.clone();
        let updates = batcher.subscribe();
        let first = batcher.get(kind, sequence).await?;
        Ok(watch_stream(
            first,
            updates,
            self.gate.clone(),
            move |b: &BatchRecord| b.kind == kind && b.sequence == sequence,
            move || {
                let batcher = batcher.clone();
                async move { batcher.get(kind, sequence).await }
            },
            |b: &BatchRecord| b.state,
            batch_pb,
        ))
    }

    async fn get_withdrawal(&self, req: &pb::GetWithdrawalRequest) -> Result<pb::Withdrawal> {
        let kind = convert::kind("kind", req.kind)?;
        let device = convert::fr(|| "device_id".into(), &req.device_id)?;
        let (batch, w) = self.batcher()?.withdrawal(kind, &device).await?;
        Ok(pb::Withdrawal {
            device_id: fr_pb(&device),
            kind: req.kind,
            batch_id: batch.batch_id(),
            batch_sequence: batch.sequence,
            epoch: batch.header.epoch,
            new_commitment: fr_pb(&batch.header.new_commitment),
            cumulative: w.cumulative.to_string(),
            position: w.position,
            siblings: w.siblings.iter().map(|s| s.to_vec()).collect(),
            withdrawal_root: w.root().to_vec(),
        })
    }

    fn get_verifying_key(
        &self,
        req: &pb::GetVerifyingKeyRequest,
    ) -> Result<pb::GetVerifyingKeyResponse> {
        let kind = convert::kind("kind", req.kind)?;
        match self.keys.state(kind) {
            KeyState::Ready(k) => {
                let vk = k.verifying_key();
                let proof_system = match k.backend() {
                    Backend::Groth16 => pb::ProofSystem::Groth16,
                    Backend::Halo2 => pb::ProofSystem::Halo2,
                };
                Ok(pb::GetVerifyingKeyResponse {
                    kind: req.kind,
                    binary: vk.binary.clone(),
                    snarkjs_json: vk.json.clone(),
                    proof_system: proof_system.into(),
                })
            }
            KeyState::Loading => Err(ServiceError::KeysNotReady(kind)),
            KeyState::NotServed => Err(ServiceError::FailedPrecondition(format!(
                "this node does not prove the {} statement",
                kind.as_str()
            ))),
            KeyState::Failed(e) => Err(ServiceError::FailedPrecondition(format!(
                "the {} keys are unavailable: {e}",
                kind.as_str()
            ))),
        }
    }

    async fn get_policy(&self, req: &pb::GetPolicyRequest) -> Result<pb::EpochPolicy> {
        let cfg = self
            .store
            .epoch(req.epoch)
            .await?
            .ok_or(ServiceError::UnknownEpoch(req.epoch))?;
        Ok(epoch_pb(&cfg))
    }

    async fn watch(&self, req: &pb::GetJobRequest) -> Result<JobStream> {
        let key = job_key(&req.job_id)?;
        let updates = self.jobs.subscribe();
        let first = self.jobs.get(&key).await?;
        let jobs = self.jobs.clone();
        Ok(watch_stream(
            first,
            updates,
            self.gate.clone(),
            move |j: &JobRecord| j.key == key,
            move || {
                let jobs = jobs.clone();
                async move { jobs.get(&key).await }
            },
            |j: &JobRecord| j.state,
            |j: &JobRecord| Ok(job_pb(j)),
        ))
    }
}

/// `WatchJob` and `WatchBatch`: the record `first` at once, then at every
/// change of its state, until it is terminal. Changes made on this node
/// arrive on `updates` (those of other records are skipped by `is_it`); a
/// record another node of a cluster changes is read again (`reread`) every
/// `REREAD`, and after the channel lagged. The stream ends with
/// UNAVAILABLE when the node stops taking requests (`gate`), so that a
/// draining node's connections close.
fn watch_stream<R, M, F>(
    first: R,
    mut updates: tokio::sync::broadcast::Receiver<R>,
    gate: crate::auth::Gate,
    is_it: impl Fn(&R) -> bool + Send + 'static,
    reread: impl Fn() -> F + Send + 'static,
    state: impl Fn(&R) -> JobState + Send + 'static,
    to_pb: impl Fn(&R) -> Result<M> + Send + 'static,
) -> Pin<Box<dyn Stream<Item = std::result::Result<M, Status>> + Send>>
where
    R: Clone + Send + 'static,
    M: Send + 'static,
    F: std::future::Future<Output = Result<R>> + Send,
{
    use tokio::sync::broadcast::error::RecvError;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut last = state(&first);
        if tx.send(to_pb(&first).map_err(Status::from)).await.is_err() || last.is_terminal() {
            return;
        }
        let mut tick = tokio::time::interval(REREAD);
        tick.tick().await;
        loop {
            let update = tokio::select! {
                u = updates.recv() => Some(u),
                _ = tick.tick() => Some(Err(RecvError::Lagged(0))),
                () = gate.closed() => None,
            };
            let record = match update {
                Some(Ok(r)) if is_it(&r) => r,
                Some(Ok(_)) => continue,
                Some(Err(RecvError::Lagged(_))) => match reread().await {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(Status::from(e))).await;
                        return;
                    }
                },
                Some(Err(RecvError::Closed)) | None => {
                    let _ = tx.send(Err(Status::from(ServiceError::ShuttingDown))).await;
                    return;
                }
            };
            let now = state(&record);
            if now == last && !now.is_terminal() {
                continue;
            }
            last = now;
            if tx.send(to_pb(&record).map_err(Status::from)).await.is_err() || last.is_terminal() {
                return;
            }
        }
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl pb::prover_server::Prover for ProverApi {
    async fn submit_records(
        &self,
        request: Request<pb::SubmitRecordsRequest>,
    ) -> std::result::Result<Response<pb::SubmitRecordsResponse>, Status> {
        Ok(Response::new(
            ProverApi::submit_records(self, request.into_inner()).await?,
        ))
    }

    async fn prove_epoch(
        &self,
        request: Request<pb::ProveEpochRequest>,
    ) -> std::result::Result<Response<pb::ProveEpochResponse>, Status> {
        let (md, _, req) = request.into_parts();
        Ok(Response::new(ProverApi::prove_epoch(self, &md, req).await?))
    }

    async fn get_job(
        &self,
        request: Request<pb::GetJobRequest>,
    ) -> std::result::Result<Response<pb::Job>, Status> {
        let key = job_key(&request.get_ref().job_id)?;
        Ok(Response::new(job_pb(&self.jobs.get(&key).await?)))
    }

    type WatchJobStream = JobStream;

    async fn watch_job(
        &self,
        request: Request<pb::GetJobRequest>,
    ) -> std::result::Result<Response<Self::WatchJobStream>, Status> {
        Ok(Response::new(self.watch(request.get_ref()).await?))
    }

    async fn get_proof(
        &self,
        request: Request<pb::GetProofRequest>,
    ) -> std::result::Result<Response<pb::GetProofResponse>, Status> {
        Ok(Response::new(
            ProverApi::get_proof(self, request.get_ref()).await?,
        ))
    }

    async fn get_verifying_key(
        &self,
        request: Request<pb::GetVerifyingKeyRequest>,
    ) -> std::result::Result<Response<pb::GetVerifyingKeyResponse>, Status> {
        Ok(Response::new(ProverApi::get_verifying_key(
            self,
            request.get_ref(),
        )?))
    }

    async fn get_policy(
        &self,
        request: Request<pb::GetPolicyRequest>,
    ) -> std::result::Result<Response<pb::EpochPolicy>, Status> {
        Ok(Response::new(
            ProverApi::get_policy(self, request.get_ref()).await?,
        ))
    }

    async fn get_batch(
        &self,
        request: Request<pb::GetBatchRequest>,
    ) -> std::result::Result<Response<pb::Batch>, Status> {
        Ok(Response::new(
            ProverApi::get_batch(self, request.get_ref()).await?,
        ))
    }

    type WatchBatchStream = BatchStream;

    async fn watch_batch(
        &self,
        request: Request<pb::GetBatchRequest>,
    ) -> std::result::Result<Response<Self::WatchBatchStream>, Status> {
        Ok(Response::new(
            ProverApi::watch_batch(self, request.get_ref()).await?,
        ))
    }

    async fn get_withdrawal(
        &self,
        request: Request<pb::GetWithdrawalRequest>,
    ) -> std::result::Result<Response<pb::Withdrawal>, Status> {
        Ok(Response::new(
            ProverApi::get_withdrawal(self, request.get_ref()).await?,
        ))
    }
}

/// Times an operator write is planned again after another write changed
/// the registry or the epochs in between.
const OPERATOR_RETRIES: usize = 16;

/// The operator service. Its writes are planned on what they read (the
/// registry's size, the epochs published) and conditioned on it, so
/// concurrent operator calls, on one node or many, never give two clients
/// one index or miss a device in an epoch's beacon index.
#[derive(Debug, Clone)]
pub struct OperatorApi {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Registry trees.
    pub registries: Arc<Registries>,
    /// Epochs that take records (for the beacon index of new devices).
    pub epoch_window: u32,
}

/// Commits `batch`: `Ok(true)` done, `Ok(false)` planned on a state that
/// changed.
async fn commit_planned(store: &dyn Store, batch: WriteBatch) -> Result<bool> {
    match store.commit(batch).await {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn contended(what: &str) -> ServiceError {
    ServiceError::Contended(what.to_string())
}

impl OperatorApi {
    async fn register_device(
        &self,
        req: pb::RegisterDeviceRequest,
    ) -> Result<pb::RegisterDeviceResponse> {
        let key = convert::valid_key(&|| "public_key".into(), req.public_key.as_ref())?;
        let id = key.id();
        for _ in 0..OPERATOR_RETRIES {
            if self.store.device(&id).await?.is_some() {
                return Ok(pb::RegisterDeviceResponse {
                    device_id: fr_pb(&id),
                    created: false,
                });
            }
            let latest = self.store.latest_epoch().await?;
            let mut b = WriteBatch::default();
            b.push(Mutation::Device(id, key));
            if let Some(latest) = latest {
                let from = latest.saturating_sub(self.epoch_window - 1);
                for e in from..=latest {
                    if let Some(cfg) = self.store.epoch(e).await? {
                        b.push(Mutation::Beacon {
                            epoch: e,
                            beacon_id: beacon_id(cfg.beacon, id),
                            device: id,
                        });
                    }
                }
            }
            // An epoch published meanwhile would miss this device's beacon
            // id; publishing, in turn, is conditioned on the device count.
            b.require(Condition::LatestEpoch(latest));
            if commit_planned(self.store.as_ref(), b).await? {
                return Ok(pb::RegisterDeviceResponse {
                    device_id: fr_pb(&id),
                    created: true,
                });
            }
        }
        Err(contended("the device registry"))
    }

    async fn register_client(
        &self,
        req: pb::RegisterClientRequest,
    ) -> Result<pb::RegisterClientResponse> {
        let key = convert::valid_key(&|| "public_key".into(), req.public_key.as_ref())?;
        let id = key.id();
        for _ in 0..OPERATOR_RETRIES {
            if let Some(index) = self.store.client_index(&id).await? {
                return Ok(pb::RegisterClientResponse {
                    client_id: fr_pb(&id),
                    index,
                    created: false,
                });
            }
            let index = self.store.client_count().await?;
            if index as usize >= 1 << REGISTRY_DEPTH {
                return Err(ServiceError::RegistryFull(1 << REGISTRY_DEPTH));
            }
            let mut b = WriteBatch::default();
            b.push(Mutation::Client { id, index, key });
            b.require(Condition::ClientCount(index));
            if commit_planned(self.store.as_ref(), b).await? {
                return Ok(pb::RegisterClientResponse {
                    client_id: fr_pb(&id),
                    index,
                    created: true,
                });
            }
        }
        Err(contended("the client registry"))
    }

    async fn publish_epoch(
        &self,
        req: pb::PublishEpochRequest,
    ) -> Result<pb::PublishEpochResponse> {
        let beacon = convert::fr(|| "beacon".into(), &req.beacon)?;
        let (uptime, bandwidth, coverage) = convert::policies(&req)?;
        for _ in 0..OPERATOR_RETRIES {
            let mut cfg = EpochConfig {
                epoch: req.epoch,
                beacon,
                uptime,
                bandwidth,
                coverage,
                registry_size: 0,
                registry_root: Fr::ZERO,
            };
            if let Some(existing) = self.store.epoch(req.epoch).await? {
                if existing.same_publication(&cfg) {
                    return Ok(pb::PublishEpochResponse {
                        published: Some(epoch_pb(&existing)),
                        created: false,
                    });
                }
                return Err(ServiceError::EpochConflict(req.epoch));
            }
            // The registry snapshot and the devices to index, read once and
            // conditioned on: a client or device registered meanwhile makes
            // this plan again.
            let size = self.store.client_count().await?;
            let tree = self
                .registries
                .tree(self.store.as_ref(), size)
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            let devices = self.store.device_ids().await?;
            let device_count = devices.len() as u64;
            cfg.registry_size = size;
            cfg.registry_root = tree.root();
            // The beacon index, so that witness reports find their device.
            let beacons = super::ingest::compute(move || {
                use rayon::prelude::*;
                devices
                    .par_iter()
                    .map(|d| (beacon_id(beacon, *d), *d))
                    .collect::<Vec<_>>()
            })
            .await?;
            let mut b = WriteBatch::default();
            b.push(Mutation::Epoch(cfg));
            for (bid, d) in beacons {
                b.push(Mutation::Beacon {
                    epoch: req.epoch,
                    beacon_id: bid,
                    device: d,
                });
            }
            b.require(Condition::NoEpoch(req.epoch));
            b.require(Condition::ClientCount(size));
            b.require(Condition::DeviceCount(device_count));
            if commit_planned(self.store.as_ref(), b).await? {
                tracing::info!(
                    epoch = req.epoch,
                    registry_size = cfg.registry_size,
                    "epoch published"
                );
                return Ok(pb::PublishEpochResponse {
                    published: Some(epoch_pb(&cfg)),
                    created: true,
                });
            }
        }
        Err(contended("the epochs"))
    }
}

#[tonic::async_trait]
impl pb::operator_server::Operator for OperatorApi {
    async fn register_device(
        &self,
        request: Request<pb::RegisterDeviceRequest>,
    ) -> std::result::Result<Response<pb::RegisterDeviceResponse>, Status> {
        Ok(Response::new(
            OperatorApi::register_device(self, request.into_inner()).await?,
        ))
    }

    async fn register_client(
        &self,
        request: Request<pb::RegisterClientRequest>,
    ) -> std::result::Result<Response<pb::RegisterClientResponse>, Status> {
        Ok(Response::new(
            OperatorApi::register_client(self, request.into_inner()).await?,
        ))
    }

    async fn publish_epoch(
        &self,
        request: Request<pb::PublishEpochRequest>,
    ) -> std::result::Result<Response<pb::PublishEpochResponse>, Status> {
        Ok(Response::new(
            OperatorApi::publish_epoch(self, request.into_inner()).await?,
        ))
    }
}
