//! The one place where kyso's errors become gRPC statuses.

use crate::keystore::KeyStoreError;
use crate::pdf::PdfError;
use crate::records::RecordsError;
use crate::report::ReportError;
use crate::sign::SignError;
use tonic::{Code, Status};

/// Everything a gRPC handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request field is missing or malformed.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The protobuf field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The PDF is larger than the unary limit.
    #[error("the PDF has {size} bytes; the limit for one Sign call is {limit} bytes")]
    PdfTooLarge {
        /// Bytes sent.
        size: usize,
        /// The server's limit.
        limit: usize,
    },
    /// Finding the signer failed.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The blocking signing task died.
    #[error("the signing task failed: {0}")]
    TaskFailed(String),
    /// Recording or reading the ledger failed.
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// The report could not be built.
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let code = match &error {
            ApiError::InvalidField { .. } | ApiError::PdfTooLarge { .. } => Code::InvalidArgument,
            ApiError::KeyStore(e) => match e {
                KeyStoreError::UnknownUnit { .. }
                | KeyStoreError::UnknownLeader { .. }
                | KeyStoreError::NoKey { .. } => Code::NotFound,
                KeyStoreError::KeyFile(_) | KeyStoreError::Signer { .. } => Code::Internal,
            },
            ApiError::Sign(e) => match e {
                SignError::Pdf(PdfError::SignatureTooLarge { .. }) => Code::Internal,
                SignError::Pdf(_) => Code::InvalidArgument,
                SignError::CertificateNotValidAt { .. } => Code::FailedPrecondition,
                SignError::Cms(_)
                | SignError::Crypto(_)
                | SignError::Certificate(_)
                | SignError::KeyDoesNotMatchCertificate { .. } => Code::Internal,
            },
            ApiError::TaskFailed(_) => Code::Internal,
            ApiError::Records(e) => match e {
                RecordsError::DocumentIdLength { .. }
                | RecordsError::DocumentIdCharacters { .. }
                | RecordsError::EmptyRange { .. }
                | RecordsError::InconsistentFact { .. }
                | RecordsError::Units(_) => Code::InvalidArgument,
                RecordsError::UnknownUnit { .. } => Code::NotFound,
                RecordsError::UnitExists { .. } => Code::AlreadyExists,
                // The caller may retry: nothing was acknowledged.
                RecordsError::Database(_) => Code::Unavailable,
                RecordsError::DatabaseUrl { .. }
                | RecordsError::Corrupt { .. }
                | RecordsError::Migrate(_) => Code::Internal,
            },
            ApiError::Report(e) => match e {
                ReportError::UnknownUnit { .. } => Code::NotFound,
                ReportError::ThresholdText { .. }
                | ReportError::ThresholdAboveHundred { .. }
                | ReportError::ScopeText { .. }
                | ReportError::MetricName { .. } => Code::InvalidArgument,
                ReportError::CountAboveTotal { .. }
                | ReportError::Write { .. }
                | ReportError::Csv { .. }
                | ReportError::Json { .. } => Code::Internal,
            },
        };
        if code == Code::Internal {
            tracing::error!(%error, "internal error");
        }
        Status::new(code, error.to_string())
    }
}
