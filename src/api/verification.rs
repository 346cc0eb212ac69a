//! `kyso.v1.VerificationService`.

use super::ApiError;
use super::cpu_pool::CpuPool;
use super::proto::{self, VerifyRequest, VerifyResponse};
use crate::authority::Authority;
use crate::chain::{RevocationPolicy, TrustAnchors};
use crate::records::{DocumentId, DocumentRecord, Fact, RecordStore, Verdict};
use crate::units::UnitCode;
use crate::verify::{
    self, DocumentReport, Indication, Modification, RevocationFact, SignatureReport, VerifyContext,
    VerifyPolicy,
};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tonic::{Request, Response, Status};

/// The verification service: the trust anchors, the ledger incoming
/// documents are recorded in, and the size limit.
#[derive(Debug, Clone)]
pub struct VerificationApi {
    anchors: Arc<TrustAnchors>,
    records: RecordStore,
    authority: Arc<Authority>,
    cpu: CpuPool,
    max_pdf_bytes: usize,
}

impl VerificationApi {
    /// A service trusting `anchors`, recording into `records`, consulting
    /// the CRLs of kyso's own CA and its records of the signatures it made,
    /// verifying on `cpu`.
    pub fn new(
        anchors: Arc<TrustAnchors>,
        records: RecordStore,
        authority: Arc<Authority>,
        cpu: CpuPool,
        max_pdf_bytes: usize,
    ) -> Self {
        Self {
            anchors,
            records,
            authority,
            cpu,
            max_pdf_bytes,
        }
    }
}

/// kyso's records of the signatures it made, asked from the CPU pool's
/// thread (only for signatures whose certificate turned out revoked).
struct SignatureRecords {
    authority: Arc<Authority>,
    runtime: tokio::runtime::Handle,
}

impl verify::ProofOfExistence for SignatureRecords {
    fn existed_at(&self, signature_value: &[u8], signer_serial: &str) -> Option<SystemTime> {
        let id = crate::sign::signature_value_sha256(signature_value);
        match self
            .runtime
            .block_on(self.authority.signed_at(&id, signer_serial))
        {
            Ok(found) => found,
            Err(error) => {
                // Fail closed: without the evidence the revocation stands.
                tracing::warn!(%error, "cannot read the signing evidence");
                None
            }
        }
    }
}

/// The ledger key of a verification that is to be recorded: a receiving
/// unit and the document's id, or nothing when no unit is named.
fn incoming_document(request: &VerifyRequest) -> Result<Option<(UnitCode, DocumentId)>, ApiError> {
    if request.unit_code.is_empty() {
        return Ok(None);
    }
    let unit = UnitCode::parse(&request.unit_code).map_err(|e| ApiError::InvalidField {
        field: "unit_code",
        reason: e.to_string(),
    })?;
    if request.document_id.is_empty() {
        return Err(ApiError::InvalidField {
            field: "document_id",
            reason: "is required with unit_code: the ledger counts each incoming document \
                     once by its id"
                .into(),
        });
    }
    let document_id =
        DocumentId::parse(&request.document_id).map_err(|e| ApiError::InvalidField {
            field: "document_id",
            reason: e.to_string(),
        })?;
    Ok(Some((unit, document_id)))
}

#[tonic::async_trait]
impl proto::verification_service_server::VerificationService for VerificationApi {
    async fn verify(
        &self,
        request: Request<VerifyRequest>,
    ) -> Result<Response<VerifyResponse>, Status> {
        let request = request.into_inner();
        if request.pdf.is_empty() {
            return Err(ApiError::InvalidField {
                field: "pdf",
                reason: "is empty".into(),
            }
            .into());
        }
        if request.pdf.len() > self.max_pdf_bytes {
            return Err(ApiError::PdfTooLarge {
                size: request.pdf.len(),
                limit: self.max_pdf_bytes,
            }
            .into());
        }
        let incoming = incoming_document(&request)?;
        let at = match request.at {
            Some(at) => {
                let seconds = u64::try_from(at.seconds).map_err(|_| ApiError::InvalidField {
                    field: "at",
                    reason: "is before 1970".into(),
                })?;
                UNIX_EPOCH + Duration::from_secs(seconds)
            }
            None => SystemTime::now(),
        };
        let policy = VerifyPolicy {
            permit_form_filling: request.permit_form_filling,
            permit_annotations: request.permit_annotations,
            revocation: if request.hard_fail_revocation {
                RevocationPolicy::HardFail
            } else {
                RevocationPolicy::SoftFail
            },
        };
        let anchors = self.anchors.clone();
        let document_id = request.document_id;
        // kyso's own CRLs join the caller's: a certificate kyso issued and
        // revoked is never reported good.
        let mut crls = request.crls;
        crls.extend(
            self.authority
                .current_crls(SystemTime::now())
                .await
                .map_err(ApiError::from)?,
        );
        let proof = SignatureRecords {
            authority: self.authority.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        // Verification is CPU-bound: it runs on the CPU pool, as signing
        // does, never on the runtime's worker threads, and no more of it at
        // once than there are cores.
        let report = self
            .cpu
            .run_sized(request.pdf.len(), move || {
                let context = VerifyContext {
                    anchors: &anchors,
                    crls: &crls,
                    policy,
                    at,
                };
                verify::verify_pdf_with_proof(&request.pdf, &context, &proof)
            })
            .await?
            .map_err(|e| ApiError::InvalidField {
                field: "pdf",
                reason: e.to_string(),
            })?;
        if let Some((unit, document_id)) = incoming {
            // Recorded before the answer: an acknowledged verification is a
            // counted incoming document.
            let verdict = match report.verdict {
                Indication::TotalPassed => Verdict::Passed,
                Indication::TotalFailed => Verdict::Failed,
                Indication::Indeterminate => Verdict::Indeterminate,
            };
            self.records
                .record(&DocumentRecord {
                    unit,
                    document_id,
                    at: SystemTime::now(),
                    fact: Fact::Verified { verdict },
                })
                .await
                .map_err(ApiError::from)?;
        }
        tracing::info!(document_id, verdict = ?report.verdict, signatures = report.signatures.len(), "verified");
        Ok(Response::new(response(report, document_id)))
    }
}

fn response(report: DocumentReport, document_id: String) -> VerifyResponse {
    VerifyResponse {
        verdict: indication(report.verdict).into(),
        signatures: report.signatures.into_iter().map(signature).collect(),
        errors: report.errors,
        document_id,
    }
}

fn indication(indication: Indication) -> proto::Indication {
    match indication {
        Indication::TotalPassed => proto::Indication::TotalPassed,
        Indication::TotalFailed => proto::Indication::TotalFailed,
        Indication::Indeterminate => proto::Indication::Indeterminate,
    }
}

fn signature(report: SignatureReport) -> proto::SignatureVerification {
    let modification = match report.modifications {
        Modification::None => proto::Modification::None,
        Modification::Ltv => proto::Modification::Ltv,
        Modification::FormFilling => proto::Modification::FormFilling,
        Modification::Annotations => proto::Modification::Annotations,
        Modification::Other => proto::Modification::Other,
    };
    let revocation = match report.revocation {
        RevocationFact::Good => proto::Revocation {
            status: "good".into(),
            ..Default::default()
        },
        RevocationFact::Revoked { at, reason } => proto::Revocation {
            status: "revoked".into(),
            at,
            reason: reason.unwrap_or_default(),
            ..Default::default()
        },
        RevocationFact::RevokedAfterSigning {
            at,
            reason,
            signed_at,
        } => proto::Revocation {
            status: "revoked_after_signing".into(),
            at,
            reason: reason.unwrap_or_default(),
            signed_at,
        },
        RevocationFact::NotChecked => proto::Revocation {
            status: "not_checked".into(),
            ..Default::default()
        },
    };
    proto::SignatureVerification {
        field: report.field,
        revision: u32::try_from(report.revision).unwrap_or(u32::MAX),
        signer: report.signer.map(|s| proto::Signer {
            subject: s.subject,
            common_name: s.common_name.unwrap_or_default(),
            organisation: s.organisation.unwrap_or_default(),
            serial: s.serial,
            issuer: s.issuer,
        }),
        signing_time: report.signing_time.unwrap_or_default(),
        byte_range_ok: report.byte_range_ok,
        intact: report.intact,
        valid: report.valid,
        trusted: report.trusted,
        trust_anchor: report.trust_anchor.unwrap_or_default(),
        revocation: Some(revocation),
        covers_whole_file: report.covers_whole_file,
        modifications: modification.into(),
        indication: indication(report.indication).into(),
        sub_indication: report
            .sub_indication
            .map(|s| s.name().to_string())
            .unwrap_or_default(),
        reason: report.reason.unwrap_or_default(),
        location: report.location.unwrap_or_default(),
        errors: report.errors,
    }
}
