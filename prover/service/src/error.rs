//! The service's domain errors and their ONE mapping to gRPC statuses.
//!
//! Every handler returns [`ServiceError`]; [`From<ServiceError> for
//! tonic::Status`](ServiceError#impl-From<ServiceError>-for-Status) at the
//! boundary picks the code. The message always says what was wrong.

use depin_proto::convert::ConvertError;
use depin_statements::StatementKind;
use depin_store::StoreError;

/// Everything that can go wrong serving a request.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A request field is missing or malformed, a batch too large, a
    /// policy invalid (`INVALID_ARGUMENT`; the message names the field).
    #[error(transparent)]
    Invalid(#[from] ConvertError),
    /// The device is not registered (`NOT_FOUND`).
    #[error("device {0} is not registered")]
    UnknownDevice(String),
    /// No such job (`NOT_FOUND`).
    #[error("no job {0}")]
    UnknownJob(String),
    /// No such batch (`NOT_FOUND`).
    #[error("no batch {0}")]
    UnknownBatch(String),
    /// No proven batch holds the device (`NOT_FOUND`).
    #[error("no proven {0} batch holds the device: nothing to withdraw yet")]
    NoWithdrawal(&'static str),
    /// The epoch was not published (`NOT_FOUND`).
    #[error("epoch {0} has not been published")]
    UnknownEpoch(u32),
    /// The epoch was already published with other values
    /// (`ALREADY_EXISTS`).
    #[error("epoch {0} is already published with a different beacon or policy")]
    EpochConflict(u32),
    /// The registry is full (`RESOURCE_EXHAUSTED`).
    #[error("the client registry is full ({0} clients)")]
    RegistryFull(usize),
    /// The operation needs state that is not there (`FAILED_PRECONDITION`).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The proof is not ready (`FAILED_PRECONDITION`).
    #[error("job {job} has no proof: it is {state}")]
    ProofNotReady {
        /// The job id.
        job: String,
        /// Its state.
        state: &'static str,
    },
    /// The proving queue is full (`RESOURCE_EXHAUSTED`).
    #[error("the proving queue is full ({0} jobs waiting): retry later")]
    QueueFull(usize),
    /// Too many ingest requests in flight (`RESOURCE_EXHAUSTED`).
    #[error("ingest is saturated ({0} batches in flight): retry later")]
    IngestSaturated(usize),
    /// Operator credentials missing or wrong (`UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// The keys for a statement are not loaded yet (`UNAVAILABLE`).
    #[error("the {} keys are not loaded yet: retry later", .0.as_str())]
    KeysNotReady(StatementKind),
    /// The node is shutting down (`UNAVAILABLE`: retry, on another node or
    /// on this one once it is back).
    #[error("this node is shutting down: retry the request")]
    ShuttingDown,
    /// Other requests kept changing the same state (a device's chain, the
    /// registry) while this one was planned (`ABORTED`: retry).
    #[error("{0} kept changing under concurrent requests: retry")]
    Contended(String),
    /// The store failed (`INTERNAL`; `UNAVAILABLE` when the database cannot
    /// be reached now or the store is closed for shutdown: retry; `ABORTED`
    /// on a conflict).
    #[error("storage: {0}")]
    Storage(#[from] StoreError),
    /// A bug or an unexpected failure (`INTERNAL`).
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    /// An `INVALID_ARGUMENT` for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        ServiceError::Invalid(ConvertError::invalid(field, reason))
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> tonic::Code {
        use tonic::Code;
        match self {
            ServiceError::Invalid(_) => Code::InvalidArgument,
            ServiceError::UnknownDevice(_)
            | ServiceError::UnknownJob(_)
            | ServiceError::UnknownBatch(_)
            | ServiceError::NoWithdrawal(_)
            | ServiceError::UnknownEpoch(_) => Code::NotFound,
            ServiceError::EpochConflict(_) => Code::AlreadyExists,
            ServiceError::FailedPrecondition(_) | ServiceError::ProofNotReady { .. } => {
                Code::FailedPrecondition
            }
            ServiceError::QueueFull(_)
            | ServiceError::IngestSaturated(_)
            | ServiceError::RegistryFull(_) => Code::ResourceExhausted,
            ServiceError::Unauthenticated(_) => Code::Unauthenticated,
            ServiceError::KeysNotReady(_)
            | ServiceError::ShuttingDown
            | ServiceError::Storage(StoreError::Closed | StoreError::Unavailable(_)) => {
                Code::Unavailable
            }
            ServiceError::Contended(_) | ServiceError::Storage(StoreError::Conflict(_)) => {
                Code::Aborted
            }
            ServiceError::Storage(_) | ServiceError::Internal(_) => Code::Internal,
        }
    }
}

/// Bytes of a status message at most: a message that would be longer
/// (never expected: inputs are quoted in part, `depin_proto::convert::quote`)
/// is cut at a character boundary and says so.
pub const MAX_STATUS_MESSAGE: usize = 1024;

/// `msg` cut to [`MAX_STATUS_MESSAGE`] bytes.
pub fn bounded(mut msg: String) -> String {
    if msg.len() <= MAX_STATUS_MESSAGE {
        return msg;
    }
    const CUT: &str = "… (message cut)";
    let mut end = MAX_STATUS_MESSAGE - CUT.len();
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    msg.truncate(end);
    msg.push_str(CUT);
    msg
}

impl From<ServiceError> for tonic::Status {
    fn from(e: ServiceError) -> Self {
        let code = e.code();
        if code == tonic::Code::Internal {
            tracing::error!(error = %e, "internal error");
        } else if matches!(e, ServiceError::Storage(StoreError::Unavailable(_))) {
            tracing::warn!(error = %e, "the database is unavailable: answered UNAVAILABLE");
        }
        tonic::Status::new(code, bounded(e.to_string()))
    }
}

/// Results of the service's handlers.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_are_bounded() {
        let s = tonic::Status::from(ServiceError::Internal("é".repeat(5000)));
        assert!(
            s.message().len() <= MAX_STATUS_MESSAGE,
            "{}",
            s.message().len()
        );
        assert!(s.message().ends_with("(message cut)"));
        assert_eq!(bounded("short".into()), "short");
    }

    #[test]
    fn each_class_maps_to_its_code() {
        use tonic::Code;
        let cases = [
            (
                ServiceError::invalid("records[0].head", "not a field element"),
                Code::InvalidArgument,
            ),
            (ServiceError::UnknownDevice("7".into()), Code::NotFound),
            (ServiceError::EpochConflict(3), Code::AlreadyExists),
            (
                ServiceError::FailedPrecondition("x".into()),
                Code::FailedPrecondition,
            ),
            (ServiceError::QueueFull(8), Code::ResourceExhausted),
            (ServiceError::Contended("the chain".into()), Code::Aborted),
            (ServiceError::Storage(StoreError::Closed), Code::Unavailable),
            (
                ServiceError::Storage(StoreError::Unavailable("connection refused".into())),
                Code::Unavailable,
            ),
            (
                ServiceError::Storage(StoreError::Database("disk".into())),
                Code::Internal,
            ),
            (
                ConvertError::invalid("records", "the batch is empty").into(),
                Code::InvalidArgument,
            ),
            (
                ServiceError::Unauthenticated("no token".into()),
                Code::Unauthenticated,
            ),
        ];
        for (e, code) in cases {
            let msg = e.to_string();
            let s = tonic::Status::from(e);
            assert_eq!(s.code(), code);
            assert_eq!(s.message(), msg);
        }
    }
}
