//! `kyso.v1.SigningService`: `Sign` with a key kyso holds, and
//! `PrepareSignature` → `CompleteSignature` for a key it never holds.

use super::ApiError;
use super::cpu_pool::CpuPool;
use super::prepared::{self, PreparedStore, Waiting};
use super::proto::{
    self, CompleteSignatureRequest, PrepareSignatureRequest, PrepareSignatureResponse, SignRequest,
    SignResponse, SignatureSummary, SignerRole as ProtoRole,
};
use crate::authority::Authority;
use crate::keystore::{KeyStore, KeyStoreError, SignerRole};
use crate::records::{ComingRecord, DocumentId, DocumentRecord, Fact, GroupCommit, GuardedRecord};
use crate::sign::{self, SignOptions, SignedDocument, SignerProfile};
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
    records: GroupCommit,
    authority: Arc<Authority>,
    max_pdf_bytes: usize,
    max_streamed_pdf_bytes: usize,
    prepared: Arc<PreparedStore>,
    pub(super) cpu: CpuPool,
}

impl SigningApi {
    /// A service over `keys` for the units in `registry`, signing on `cpu`,
    /// recording into `records` and refusing certificates `authority`'s
    /// register lists as revoked.
    pub fn new(
        registry: Arc<UnitRegistry>,
        keys: Arc<KeyStore>,
        records: GroupCommit,
        authority: Arc<Authority>,
        cpu: CpuPool,
        max_pdf_bytes: usize,
    ) -> Self {
        Self {
            registry,
            keys,
            records,
            authority,
            max_pdf_bytes,
            max_streamed_pdf_bytes: crate::config::DEFAULT_MAX_STREAMED_PDF_BYTES,
            prepared: Arc::new(PreparedStore::new()),
            cpu,
        }
    }

    /// The largest PDF `SignStream` accepts.
    pub(super) fn max_streamed_pdf_bytes(&self) -> usize {
        self.max_streamed_pdf_bytes
    }

    /// The signer of `role` in `unit`.
    pub(super) fn signer_for(
        &self,
        unit: &UnitCode,
        role: &SignerRole,
    ) -> Result<Arc<sign::Signer>, ApiError> {
        Ok(self.keys.signer(&self.registry, unit, role)?)
    }

    /// Refuses a signer whose certificate the register lists as revoked.
    pub(super) async fn check_signer_not_revoked(
        &self,
        signer: &sign::Signer,
    ) -> Result<(), ApiError> {
        Ok(self
            .authority
            .check_not_revoked(signer.profile().fingerprint())
            .await?)
    }

    /// Sets the largest PDF `SignStream` accepts.
    pub fn with_max_streamed_pdf_bytes(mut self, limit: usize) -> Self {
        self.max_streamed_pdf_bytes = limit;
        self
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

/// The fields `Sign` and `PrepareSignature` share, parsed.
#[allow(clippy::too_many_arguments)]
pub(super) fn parse_common(
    pdf_len: usize,
    max_pdf_bytes: usize,
    unit_code: &str,
    role: i32,
    leader_id: &str,
    document_id: &str,
) -> Result<(UnitCode, SignerRole, DocumentId), ApiError> {
    if pdf_len == 0 {
        return Err(invalid("pdf", "is empty"));
    }
    if pdf_len > max_pdf_bytes {
        return Err(ApiError::PdfTooLarge {
            size: pdf_len,
            limit: max_pdf_bytes,
        });
    }
    let unit = UnitCode::parse(unit_code).map_err(|e| invalid("unit_code", e))?;
    if document_id.is_empty() {
        return Err(invalid(
            "document_id",
            "is required: the ledger counts each document once by its id",
        ));
    }
    let document_id = DocumentId::parse(document_id).map_err(|e| invalid("document_id", e))?;
    let role = match ProtoRole::try_from(role) {
        Ok(ProtoRole::Organisation) => {
            if !leader_id.is_empty() {
                return Err(invalid(
                    "leader_id",
                    "must be empty when signing as the organisation",
                ));
            }
            SignerRole::Organisation
        }
        Ok(ProtoRole::Leader) => {
            let leader = LeaderId::parse(leader_id).map_err(|e| invalid("leader_id", e))?;
            SignerRole::Leader(leader)
        }
        Ok(ProtoRole::Unspecified) | Err(_) => {
            return Err(invalid(
                "role",
                "must be SIGNER_ROLE_ORGANISATION or SIGNER_ROLE_LEADER",
            ));
        }
    };
    Ok((unit, role, document_id))
}

pub(super) fn sign_options(
    field_name: String,
    page: u32,
    reason: String,
    location: String,
) -> SignOptions {
    SignOptions {
        field_name: optional(field_name),
        page: Some(page).filter(|p| *p > 0),
        reason: optional(reason),
        location: optional(location),
    }
}

impl ParsedSignRequest {
    fn parse(request: SignRequest, max_pdf_bytes: usize) -> Result<Self, ApiError> {
        let (unit, role, document_id) = parse_common(
            request.pdf.len(),
            max_pdf_bytes,
            &request.unit_code,
            request.role,
            &request.leader_id,
            &request.document_id,
        )?;
        Ok(Self {
            pdf: request.pdf,
            unit,
            role,
            document_id,
            options: sign_options(
                request.field_name,
                request.page,
                request.reason,
                request.location,
            ),
        })
    }
}

/// A `PrepareSignatureRequest` parsed into kyso's types.
struct ParsedPrepareRequest {
    pdf: Vec<u8>,
    /// The signer certificate first, then the chain, DER.
    certificates: Vec<Vec<u8>>,
    unit: UnitCode,
    role: SignerRole,
    document_id: DocumentId,
    options: SignOptions,
}

impl ParsedPrepareRequest {
    fn parse(request: PrepareSignatureRequest, max_pdf_bytes: usize) -> Result<Self, ApiError> {
        let (unit, role, document_id) = parse_common(
            request.pdf.len(),
            max_pdf_bytes,
            &request.unit_code,
            request.role,
            &request.leader_id,
            &request.document_id,
        )?;
        if request.signer_certificate.is_empty() {
            return Err(invalid(
                "signer_certificate",
                "is required: the signer's certificate, DER",
            ));
        }
        let certificates = std::iter::once(request.signer_certificate)
            .chain(request.chain)
            .collect();
        Ok(Self {
            pdf: request.pdf,
            certificates,
            unit,
            role,
            document_id,
            options: sign_options(
                request.field_name,
                request.page,
                request.reason,
                request.location,
            ),
        })
    }
}

impl SigningApi {
    /// Refuses a unit or leader the registry does not know, before anything
    /// is prepared for it (the ledger would refuse it at completion).
    fn check_registered(&self, unit: &UnitCode, role: &SignerRole) -> Result<(), ApiError> {
        let registered = self
            .registry
            .find(unit)
            .ok_or_else(|| KeyStoreError::UnknownUnit {
                unit: unit.to_string(),
            })?;
        if let SignerRole::Leader(leader) = role
            && registered.leader(leader).is_none()
        {
            return Err(KeyStoreError::UnknownLeader {
                unit: unit.to_string(),
                leader: leader.to_string(),
            }
            .into());
        }
        Ok(())
    }

    /// Signs one document with a key kyso holds and records the signature:
    /// `Sign`, and each document of `SignMany`.
    pub(super) async fn sign_document(
        &self,
        request: SignRequest,
    ) -> Result<SignResponse, ApiError> {
        let parsed = ParsedSignRequest::parse(request, self.max_pdf_bytes)?;
        let signer = self.signer_for(&parsed.unit, &parsed.role)?;
        // A revoked certificate is refused when the signature is recorded:
        // the transaction that would acknowledge it reads the register.
        let fingerprint = signer.profile().fingerprint().to_string();
        let unit = parsed.unit.clone();
        let role = parsed.role.clone();
        let document_id = parsed.document_id.clone();
        // The ledger's writer may wait a moment for this record.
        let coming = self.records.expect_record();
        // Signing is CPU-bound: it runs on the CPU pool, never on the
        // runtime's worker threads.
        let signed: SignedDocument = self
            .cpu
            .run_sized(parsed.pdf.len(), move || {
                sign::sign_pdf_owned(parsed.pdf, &signer, &parsed.options, SystemTime::now())
            })
            .await?
            .map_err(ApiError::from)?;
        // Recorded (committed) before the answer: an acknowledged signature
        // is a counted one. If recording fails the caller gets no PDF and
        // retries; the retry records the same document once.
        self.record_signature(
            unit,
            role,
            &document_id,
            &signed.summary,
            &signed.signature_value_sha256,
            &fingerprint,
            Some(coming),
        )
        .await?;
        Ok(SignResponse {
            pdf: signed.pdf,
            summary: Some(summary_to_proto(signed.summary, &document_id)),
        })
    }

    /// Records the signature in the ledger (committed before the answer: an
    /// acknowledged signature is a counted one), unless the register lists
    /// the certificate with this fingerprint as revoked by the time the
    /// record's transaction reads it. `coming` is the record's announcement,
    /// when it was announced.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_signature(
        &self,
        unit: UnitCode,
        role: SignerRole,
        document_id: &DocumentId,
        summary: &sign::SignatureSummary,
        signature_sha256: &str,
        certificate_fingerprint: &str,
        coming: Option<ComingRecord>,
    ) -> Result<(), ApiError> {
        let certificate_serial = summary.certificate_serial.clone();
        let signature_sha256 = Some(signature_sha256.to_string());
        let fact = match role {
            SignerRole::Organisation => Fact::OrganisationSigned {
                certificate_serial,
                signature_sha256,
            },
            SignerRole::Leader(leader) => Fact::LeaderSigned {
                leader,
                certificate_serial,
                signature_sha256,
            },
        };
        let record = GuardedRecord {
            record: DocumentRecord {
                unit,
                document_id: document_id.clone(),
                at: summary.signing_time,
                fact,
            },
            unrevoked_certificate: Some(certificate_fingerprint.to_string()),
        };
        let outcome = match coming {
            Some(coming) => coming.record_guarded(record).await?,
            None => self.records.record_guarded(record).await?,
        };
        tracing::info!(
            document_id = document_id.as_str(),
            ?outcome,
            field = summary.field_name,
            signer = summary.signer_subject,
            "signed"
        );
        Ok(())
    }
}

pub(super) fn summary_to_proto(
    summary: sign::SignatureSummary,
    document_id: &DocumentId,
) -> SignatureSummary {
    SignatureSummary {
        field_name: summary.field_name,
        signer_subject: summary.signer_subject,
        certificate_serial: summary.certificate_serial,
        digest_algorithm: summary.digest_algorithm,
        signature_algorithm: summary.signature_algorithm,
        signing_time: Some(prost_types::Timestamp::from(summary.signing_time)),
        document_id: document_id.to_string(),
        page: summary.page,
    }
}

#[tonic::async_trait]
impl proto::signing_service_server::SigningService for SigningApi {
    type SignStreamStream = super::streamed::SignedStream;

    async fn sign_stream(
        &self,
        request: Request<tonic::Streaming<proto::SignStreamRequest>>,
    ) -> Result<Response<Self::SignStreamStream>, Status> {
        Ok(Response::new(
            self.sign_streamed(request.into_inner()).await?,
        ))
    }

    async fn sign(&self, request: Request<SignRequest>) -> Result<Response<SignResponse>, Status> {
        Ok(Response::new(
            self.sign_document(request.into_inner()).await?,
        ))
    }

    type SignManyStream = super::many::SignedMany;

    async fn sign_many(
        &self,
        request: Request<tonic::Streaming<SignRequest>>,
    ) -> Result<Response<Self::SignManyStream>, Status> {
        Ok(Response::new(self.sign_each(request.into_inner())))
    }

    async fn prepare_signature(
        &self,
        request: Request<PrepareSignatureRequest>,
    ) -> Result<Response<PrepareSignatureResponse>, Status> {
        let parsed = ParsedPrepareRequest::parse(request.into_inner(), self.max_pdf_bytes)?;
        self.check_registered(&parsed.unit, &parsed.role)?;
        let now = SystemTime::now();
        let ParsedPrepareRequest {
            pdf,
            certificates,
            unit,
            role,
            document_id,
            options,
        } = parsed;
        if let Some(signer) = certificates.first() {
            self.authority
                .check_not_revoked(&crate::authority::fingerprint(signer))
                .await
                .map_err(ApiError::from)?;
        }
        // Parsing the certificates and preparing the revision are CPU-bound.
        let prepared = self
            .cpu
            .run(move || {
                let profile =
                    SignerProfile::for_external_key(&certificates).map_err(|e| match e {
                        sign::SignError::Certificate(e) => invalid("signer_certificate", e),
                        other => ApiError::from(other),
                    })?;
                sign::prepare_owned(pdf, &Arc::new(profile), &options, now).map_err(ApiError::from)
            })
            .await??;
        let expires_at = now + prepared::KEPT;
        let response = PrepareSignatureResponse {
            handle: String::new(),
            data_to_be_signed: prepared.data_to_be_signed().to_vec(),
            digest: prepared.digest(),
            digest_algorithm: prepared.algorithm().digest().to_string(),
            signature_algorithm: prepared.algorithm().to_string(),
            expires_at: Some(prost_types::Timestamp::from(expires_at)),
            summary: Some(summary_to_proto(prepared.summary().clone(), &document_id)),
        };
        let handle = self.prepared.insert(
            Waiting {
                prepared,
                unit,
                role,
                document_id,
                expires_at,
            },
            now,
        )?;
        Ok(Response::new(PrepareSignatureResponse {
            handle,
            ..response
        }))
    }

    async fn complete_signature(
        &self,
        request: Request<CompleteSignatureRequest>,
    ) -> Result<Response<SignResponse>, Status> {
        let request = request.into_inner();
        if request.handle.is_empty() {
            return Err(invalid("handle", "is required: PrepareSignature answers it").into());
        }
        if request.signature_value.is_empty() {
            return Err(invalid("signature_value", "is empty").into());
        }
        let handle = request.handle;
        let waiting = self.prepared.take(&handle, SystemTime::now())?;
        // Revoked since it was prepared: refused, and the handle is spent.
        self.authority
            .check_not_revoked(waiting.prepared.certificate_fingerprint())
            .await
            .map_err(ApiError::from)?;
        // Checked before anything is recorded: a wrong value leaves the
        // ledger untouched and the prepared signature usable until it expires.
        let value = request.signature_value;
        let (waiting, checked) = self
            .cpu
            .run(move || {
                let checked = waiting.prepared.check_signature_value(&value);
                (waiting, checked.map(|()| value))
            })
            .await?;
        let value = match checked {
            Ok(value) => value,
            Err(error) => {
                self.prepared.restore(&handle, waiting, SystemTime::now());
                return Err(ApiError::from(error).into());
            }
        };
        let summary = waiting.prepared.summary().clone();
        if let Err(error) = self
            .record_signature(
                waiting.unit.clone(),
                waiting.role.clone(),
                &waiting.document_id,
                &summary,
                &sign::signature_value_sha256(&value),
                waiting.prepared.certificate_fingerprint(),
                None,
            )
            .await
        {
            // Nothing was acknowledged: the caller may retry with the same value.
            self.prepared.restore(&handle, waiting, SystemTime::now());
            return Err(error.into());
        }
        let document_id = waiting.document_id;
        let prepared = waiting.prepared;
        let signed: SignedDocument = self
            .cpu
            .run(move || prepared.complete(&value))
            .await?
            .map_err(ApiError::from)?;
        Ok(Response::new(SignResponse {
            pdf: signed.pdf,
            summary: Some(summary_to_proto(signed.summary, &document_id)),
        }))
    }
}
