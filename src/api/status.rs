//! The one place where kyso's errors become gRPC statuses.

use crate::authority::AuthorityError;
use crate::ca::CaError;
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
    /// A prepared-signature handle the server never issued (or forgot).
    #[error(
        "no prepared signature has the handle {handle}: it was never issued by this server, or the server restarted"
    )]
    UnknownHandle {
        /// The handle given.
        handle: String,
    },
    /// A prepared signature already completed: a handle completes once.
    #[error(
        "the prepared signature {handle} was already completed; prepare the document again to sign it again"
    )]
    HandleUsed {
        /// The handle given.
        handle: String,
    },
    /// A prepared signature expired before it was completed.
    #[error(
        "the prepared signature {handle} expired (prepared signatures are kept {kept_seconds} s); prepare the document again"
    )]
    HandleExpired {
        /// The handle given.
        handle: String,
        /// How long prepared signatures are kept.
        kept_seconds: u64,
    },
    /// Too many prepared signatures are waiting, or they hold too many bytes.
    #[error(
        "too many prepared signatures are waiting ({count} holding {bytes} bytes; the limits are {max_count} and {max_bytes} bytes); complete or let some expire, then retry"
    )]
    TooManyPrepared {
        /// Prepared signatures waiting.
        count: usize,
        /// Bytes they hold.
        bytes: usize,
        /// The limit on their number.
        max_count: usize,
        /// The limit on their bytes.
        max_bytes: usize,
    },
    /// Recording or reading the ledger failed.
    #[error(transparent)]
    Records(#[from] RecordsError),
    /// The report could not be built.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Issuing, importing, revoking or publishing failed, or the signer's
    /// certificate is revoked.
    #[error(transparent)]
    Authority(#[from] AuthorityError),
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
                SignError::CertificateNotValidAt { .. }
                | SignError::CertificateNotForSigning { .. } => Code::FailedPrecondition,
                SignError::UnsupportedSignerKey { .. }
                | SignError::SignatureValueRejected { .. } => Code::InvalidArgument,
                SignError::Cms(_)
                | SignError::Crypto(_)
                | SignError::Certificate(_)
                | SignError::KeyDoesNotMatchCertificate { .. } => Code::Internal,
            },
            ApiError::TaskFailed(_) => Code::Internal,
            ApiError::UnknownHandle { .. } => Code::NotFound,
            ApiError::HandleUsed { .. } | ApiError::HandleExpired { .. } => {
                Code::FailedPrecondition
            }
            ApiError::TooManyPrepared { .. } => Code::ResourceExhausted,
            ApiError::Records(e) => records_code(e),
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
            ApiError::Authority(e) => match e {
                AuthorityError::UnknownUnit { .. }
                | AuthorityError::UnknownLeader { .. }
                | AuthorityError::UnknownCertificate { .. }
                | AuthorityError::UnknownToken { .. }
                | AuthorityError::UnknownCa { .. } => Code::NotFound,
                AuthorityError::RevocationInFuture { .. }
                | AuthorityError::ImportRole
                | AuthorityError::TokenKeyType { .. }
                | AuthorityError::Import(_) => Code::InvalidArgument,
                AuthorityError::Revoked { .. } => Code::FailedPrecondition,
                AuthorityError::Ca(e) => ca_code(e),
                AuthorityError::Token(crate::hsm::HsmError::KeyLabelTaken { .. }) => {
                    Code::AlreadyExists
                }
                AuthorityError::Records(e) => records_code(e),
                AuthorityError::Token(_)
                | AuthorityError::DuplicateToken { .. }
                | AuthorityError::Custody(_)
                | AuthorityError::KeyFile(_)
                | AuthorityError::Sign(_)
                | AuthorityError::Io { .. }
                | AuthorityError::Internal(_) => Code::Internal,
            },
        };
        if code == Code::Internal {
            tracing::error!(%error, "internal error");
        }
        Status::new(code, error.to_string())
    }
}

fn records_code(error: &RecordsError) -> Code {
    match error {
        RecordsError::DocumentIdLength { .. }
        | RecordsError::DocumentIdCharacters { .. }
        | RecordsError::EmptyRange { .. }
        | RecordsError::InconsistentFact { .. }
        | RecordsError::Units(_) => Code::InvalidArgument,
        RecordsError::UnknownUnit { .. } => Code::NotFound,
        RecordsError::UnitExists { .. } => Code::AlreadyExists,
        RecordsError::CertificateRevoked { .. } => Code::FailedPrecondition,
        // The caller may retry: nothing was acknowledged.
        RecordsError::Database(_) => Code::Unavailable,
        RecordsError::DatabaseUrl { .. }
        | RecordsError::Corrupt { .. }
        | RecordsError::Migrate(_) => Code::Internal,
    }
}

fn ca_code(error: &CaError) -> Code {
    match error {
        CaError::KeyRejected { .. }
        | CaError::PublicKeyRejected { .. }
        | CaError::RsaKeySizeMismatch { .. }
        | CaError::NameTooLong { .. }
        | CaError::BadRequest { .. } => Code::InvalidArgument,
        CaError::IssuerNotValidAt { .. } | CaError::PathLengthExhausted => Code::FailedPrecondition,
        _ => Code::Internal,
    }
}
