//! `kyso.v1.SigningService`.

use super::ApiError;
use super::proto::{self, SignRequest, SignResponse, SignatureSummary, SignerRole as ProtoRole};
use crate::keystore::{KeyStore, SignerRole};
use crate::records::{DocumentId, DocumentRecord, Fact, RecordStore};
use crate::sign::{self, SignOptions, SignedDocument};
use crate::units::{LeaderId, UnitCode, UnitRegistry};
use std::sync::Arc;
use std::time::SystemTime;
use tonic::{Request, Response, Status};

/// The signing service: the unit registry, the loaded keys, the ledger every
/// signature is recorded in, and the limits.
#[derive(Debug, Clone)]
pub struct SigningApi {
    registry: Arc<UnitRegistry>,
    keys: Arc<KeyStore>,
    records: RecordStore,
    max_pdf_bytes: usize,
}

impl SigningApi {
    /// A service over `keys` for the units in `registry`, recording into `records`.
    pub fn new(
        registry: Arc<UnitRegistry>,
        keys: Arc<KeyStore>,
        records: RecordStore,
        max_pdf_bytes: usize,
    ) -> Self {
        Self {
            registry,
            keys,
            records,
            max_pdf_bytes,
        }
    }
}

/// A `SignRequest` parsed into kyso's types.
struct ParsedSignRequest {
    pdf: Vec<u8>,
    unit: UnitCode,
    role: SignerRole,
    document_id: DocumentId,
    options: SignOptions,
}

fn invalid(field: &'static str, reason: impl ToString) -> ApiError {
    ApiError::InvalidField {
        field,
        reason: reason.to_string(),
    }
}

fn optional(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

impl ParsedSignRequest {
    fn parse(request: SignRequest, max_pdf_bytes: usize) -> Result<Self, ApiError> {
        if request.pdf.is_empty() {
            return Err(invalid("pdf", "is empty"));
        }
        if request.pdf.len() > max_pdf_bytes {
            return Err(ApiError::PdfTooLarge {
                size: request.pdf.len(),
                limit: max_pdf_bytes,
            });
        }
        let unit = UnitCode::parse(&request.unit_code).map_err(|e| invalid("unit_code", e))?;
        if request.document_id.is_empty() {
            return Err(invalid(
                "document_id",
                "is required: the ledger counts each document once by its id",
            ));
        }
        let document_id =
            DocumentId::parse(&request.document_id).map_err(|e| invalid("document_id", e))?;
        let role = match ProtoRole::try_from(request.role) {
            Ok(ProtoRole::Organisation) => {
                if !request.leader_id.is_empty() {
                    return Err(invalid(
                        "leader_id",
                        "must be empty when signing as the organisation",
                    ));
                }
                SignerRole::Organisation
            }
            Ok(ProtoRole::Leader) => {
                let leader =
                    LeaderId::parse(&request.leader_id).map_err(|e| invalid("leader_id", e))?;
                SignerRole::Leader(leader)
            }
            Ok(ProtoRole::Unspecified) | Err(_) => {
                return Err(invalid(
                    "role",
                    "must be SIGNER_ROLE_ORGANISATION or SIGNER_ROLE_LEADER",
                ));
            }
        };
        Ok(Self {
            pdf: request.pdf,
            unit,
            role,
            document_id,
            options: SignOptions {
                field_name: optional(request.field_name),
                page: Some(request.page).filter(|p| *p > 0),
                reason: optional(request.reason),
                location: optional(request.location),
            },
        })
    }
}

#[tonic::async_trait]
impl proto::signing_service_server::SigningService for SigningApi {
    async fn sign(&self, request: Request<SignRequest>) -> Result<Response<SignResponse>, Status> {
        let parsed = ParsedSignRequest::parse(request.into_inner(), self.max_pdf_bytes)?;
        let signer = self
            .keys
            .signer(&self.registry, &parsed.unit, &parsed.role)
            .map_err(ApiError::from)?;
        let unit = parsed.unit.clone();
        let role = parsed.role.clone();
        let document_id = parsed.document_id.clone();
        // Signing is CPU-bound: it runs on the blocking pool, never on the
        // runtime's worker threads.
        let signed: SignedDocument = tokio::task::spawn_blocking(move || {
            sign::sign_pdf(&parsed.pdf, &signer, &parsed.options, SystemTime::now())
        })
        .await
        .map_err(|e| ApiError::TaskFailed(e.to_string()))?
        .map_err(ApiError::from)?;
        // Recorded (committed) before the answer: an acknowledged signature
        // is a counted one. If recording fails the caller gets no PDF and
        // retries; the retry records the same document once.
        let certificate_serial = signed.summary.certificate_serial.clone();
        let fact = match role {
            SignerRole::Organisation => Fact::OrganisationSigned { certificate_serial },
            SignerRole::Leader(leader) => Fact::LeaderSigned {
                leader,
                certificate_serial,
            },
        };
        let outcome = self
            .records
            .record(&DocumentRecord {
                unit,
                document_id: document_id.clone(),
                at: signed.summary.signing_time,
                fact,
            })
            .await
            .map_err(ApiError::from)?;
        tracing::info!(
            document_id = document_id.as_str(),
            ?outcome,
            field = signed.summary.field_name,
            signer = signed.summary.signer_subject,
            "signed"
        );
        let summary = signed.summary;
        Ok(Response::new(SignResponse {
            pdf: signed.pdf,
            summary: Some(SignatureSummary {
                field_name: summary.field_name,
                signer_subject: summary.signer_subject,
                certificate_serial: summary.certificate_serial,
                digest_algorithm: summary.digest_algorithm,
                signature_algorithm: summary.signature_algorithm,
                signing_time: Some(prost_types::Timestamp::from(summary.signing_time)),
                document_id: document_id.to_string(),
                page: summary.page,
            }),
        }))
    }
}
