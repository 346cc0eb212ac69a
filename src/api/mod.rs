//! The gRPC edge: generated protobuf types, the service implementations, the
//! client the CLI uses, and the single table that turns kyso's errors into
//! `tonic::Status`.

mod ca;
pub mod client;
mod cpu_pool;
mod many;
mod prepared;
mod records;
mod report;
mod signing;
mod status;
mod streamed;
mod verification;

pub use ca::CertificateAuthorityApi;
pub use cpu_pool::CpuPool;
pub use records::{MAX_BATCH, RecordsApi};
pub use report::{report_from_proto, report_to_proto};
pub use signing::SigningApi;
pub use status::ApiError;
pub use verification::VerificationApi;

/// Code generated from `proto/kyso/v1/*.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic, clippy::unwrap_used)]
pub mod proto {
    tonic::include_proto!("kyso.v1");

    /// The encoded descriptor set, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kyso_descriptor");
}
