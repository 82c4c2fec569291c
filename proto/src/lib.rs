//! The DePIN prover's gRPC API, package `depin.prover.v1`
//! (`proto/depin/prover/v1/prover.proto`): prost messages, tonic clients
//! ([`v1::prover_client::ProverClient`], [`v1::operator_client::OperatorClient`])
//! and server traits ([`v1::prover_server::Prover`],
//! [`v1::operator_server::Operator`]).
//!
//! [`convert`] turns messages into the native types of `depin-statements`
//! and back, for the server and the clients alike.
//!
//! Code is generated at build time with the pure-Rust `protox` compiler, so
//! building needs no `protoc`. [`FILE_DESCRIPTOR_SET`] is the compiled
//! descriptor set, for gRPC server reflection.

/// Version 1 of the API (`depin.prover.v1`).
#[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod v1 {
    tonic::include_proto!("depin.prover.v1");
}

pub mod convert;

/// The encoded `FileDescriptorSet` of `depin.prover.v1` (for reflection).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/depin_prover_v1_descriptor.bin"));

/// The gRPC service names, as health checks and reflection report them.
pub mod service_names {
    /// The public service.
    pub const PROVER: &str = "depin.prover.v1.Prover";
    /// The authenticated operator service.
    pub const OPERATOR: &str = "depin.prover.v1.Operator";
}

impl v1::RejectReason {
    /// The reason of a stable `depin_statements::RejectReason` code (1 to
    /// 21), or `None` for a code with no reason.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::try_from(i32::from(code))
            .ok()
            .filter(|r| *r != Self::Unspecified)
    }
}
