//! `kyso.v1.CertificateAuthorityService`: issue, import, list and revoke
//! certificates, and fetch the current CRL.

use std::sync::Arc;
use std::time::SystemTime;

use tonic::{Request, Response, Status};
use zeroize::Zeroizing;

use super::ApiError;
use super::proto::{self, certificate_authority_service_server::CertificateAuthorityService};
use crate::authority::{Authority, ISSUING_CA, ImportMaterial, KeySource};
use crate::ca::{CertificateRole, KeyAlgorithm, RevocationReason};
use crate::cms::CertificateInfo;
use crate::keyfile;
use crate::records::{CertificateFilter, CertificateRecord, CertificateStatus, KeyCustody};
use crate::units::{LeaderId, UnitCode};

/// The CA service over kyso's [`Authority`].
#[derive(Debug, Clone)]
pub struct CertificateAuthorityApi {
    authority: Arc<Authority>,
}

impl CertificateAuthorityApi {
    /// A service over `authority`.
    pub fn new(authority: Arc<Authority>) -> Self {
        Self { authority }
    }
}

fn invalid(field: &'static str, reason: impl ToString) -> ApiError {
    ApiError::InvalidField {
        field,
        reason: reason.to_string(),
    }
}

fn unit_code(text: &str) -> Result<UnitCode, ApiError> {
    if text.is_empty() {
        return Err(invalid("unit_code", "is required"));
    }
    UnitCode::parse(text).map_err(|error| invalid("unit_code", error))
}

fn role(value: i32, leader_id: &str) -> Result<CertificateRole, ApiError> {
    let leader = || {
        if leader_id.is_empty() {
            return Err(invalid(
                "leader_id",
                "is required for a leader's certificate",
            ));
        }
        LeaderId::parse(leader_id).map_err(|error| invalid("leader_id", error))
    };
    let role = match proto::CertificateRole::try_from(value) {
        Ok(proto::CertificateRole::Organisation) => CertificateRole::Organisation,
        Ok(proto::CertificateRole::Leader) => CertificateRole::Leader(leader()?),
        Ok(proto::CertificateRole::TimeStamping) => CertificateRole::TimeStamping,
        Ok(proto::CertificateRole::Unspecified) | Err(_) => {
            return Err(invalid(
                "role",
                "must be CERTIFICATE_ROLE_ORGANISATION, _LEADER or _TIME_STAMPING",
            ));
        }
    };
    if !leader_id.is_empty() && !matches!(role, CertificateRole::Leader(_)) {
        return Err(invalid("leader_id", "is only for CERTIFICATE_ROLE_LEADER"));
    }
    Ok(role)
}

fn key_type(field: &'static str, value: i32) -> Result<KeyAlgorithm, ApiError> {
    match proto::KeyType::try_from(value) {
        Ok(proto::KeyType::EcdsaP256) => Ok(KeyAlgorithm::EcdsaP256),
        Ok(proto::KeyType::EcdsaP384) => Ok(KeyAlgorithm::EcdsaP384),
        Ok(proto::KeyType::Rsa2048) => Ok(KeyAlgorithm::Rsa2048),
        Ok(proto::KeyType::Rsa3072) => Ok(KeyAlgorithm::Rsa3072),
        Ok(proto::KeyType::Unspecified) | Err(_) => Err(invalid(
            field,
            "must be KEY_TYPE_ECDSA_P256, _ECDSA_P384, _RSA_2048 or _RSA_3072",
        )),
    }
}

fn reason_from_proto(value: i32) -> Result<RevocationReason, ApiError> {
    use proto::RevocationReason as P;
    Ok(match P::try_from(value) {
        Ok(P::Unspecified) => RevocationReason::Unspecified,
        Ok(P::KeyCompromise) => RevocationReason::KeyCompromise,
        Ok(P::CaCompromise) => RevocationReason::CaCompromise,
        Ok(P::AffiliationChanged) => RevocationReason::AffiliationChanged,
        Ok(P::Superseded) => RevocationReason::Superseded,
        Ok(P::CessationOfOperation) => RevocationReason::CessationOfOperation,
        Ok(P::PrivilegeWithdrawn) => RevocationReason::PrivilegeWithdrawn,
        Err(_) => {
            return Err(invalid(
                "reason",
                format!("{value} is not a CRLReason kyso uses"),
            ));
        }
    })
}

fn reason_to_proto(reason: RevocationReason) -> proto::RevocationReason {
    use proto::RevocationReason as P;
    match reason {
        RevocationReason::Unspecified => P::Unspecified,
        RevocationReason::KeyCompromise => P::KeyCompromise,
        RevocationReason::CaCompromise => P::CaCompromise,
        RevocationReason::AffiliationChanged => P::AffiliationChanged,
        RevocationReason::Superseded => P::Superseded,
        RevocationReason::CessationOfOperation => P::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn => P::PrivilegeWithdrawn,
    }
}

fn role_to_proto(role: &CertificateRole) -> proto::CertificateRole {
    match role {
        CertificateRole::Organisation => proto::CertificateRole::Organisation,
        CertificateRole::Leader(_) => proto::CertificateRole::Leader,
        CertificateRole::TimeStamping => proto::CertificateRole::TimeStamping,
    }
}

/// How a record's key custody is shown.
fn custody_text(custody: &KeyCustody) -> String {
    match custody {
        KeyCustody::Sealed { .. } => "kyso".to_string(),
        KeyCustody::DataDirectory => "data-directory".to_string(),
        KeyCustody::Token { token, key_label } => format!("token:{token}/{key_label}"),
        KeyCustody::External => "external".to_string(),
    }
}

fn status_of(record: &CertificateRecord, now: SystemTime) -> proto::CertificateStatus {
    if record.revocation.is_some() {
        proto::CertificateStatus::Revoked
    } else if record.not_after < now {
        proto::CertificateStatus::Expired
    } else {
        proto::CertificateStatus::Good
    }
}

/// The proto form of a registered certificate.
pub(super) fn certificate_to_proto(
    record: &CertificateRecord,
    now: SystemTime,
) -> proto::Certificate {
    let issuer = CertificateInfo::from_der(&record.certificate_der)
        .map(|info| info.issuer)
        .unwrap_or_default();
    let mut chain_pem = keyfile::encode_pem("CERTIFICATE", &record.certificate_der);
    for issuer in &record.chain_der {
        chain_pem.push_str(&keyfile::encode_pem("CERTIFICATE", issuer));
    }
    proto::Certificate {
        fingerprint: record.fingerprint.clone(),
        serial: record.serial.clone(),
        subject: record.subject.clone(),
        issuer,
        unit_code: record
            .unit
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        role: role_to_proto(&record.role) as i32,
        leader_id: record
            .role
            .leader()
            .map(ToString::to_string)
            .unwrap_or_default(),
        key_algorithm: record.key_algorithm.clone(),
        custody: custody_text(&record.custody),
        origin: record.origin.as_str().to_string(),
        not_before: Some(prost_types::Timestamp::from(record.not_before)),
        not_after: Some(prost_types::Timestamp::from(record.not_after)),
        status: status_of(record, now) as i32,
        revoked_at: record
            .revocation
            .as_ref()
            .map(|revocation| prost_types::Timestamp::from(revocation.at)),
        revocation_reason: record
            .revocation
            .as_ref()
            .map_or(proto::RevocationReason::Unspecified, |revocation| {
                reason_to_proto(revocation.reason)
            }) as i32,
        certificate_chain_pem: chain_pem,
    }
}

fn time_from_proto(
    field: &'static str,
    timestamp: Option<prost_types::Timestamp>,
) -> Result<Option<SystemTime>, ApiError> {
    timestamp
        .map(|t| SystemTime::try_from(t).map_err(|error| invalid(field, error)))
        .transpose()
}

#[tonic::async_trait]
impl CertificateAuthorityService for CertificateAuthorityApi {
    async fn issue_certificate(
        &self,
        request: Request<proto::IssueCertificateRequest>,
    ) -> Result<Response<proto::IssueCertificateResponse>, Status> {
        let request = request.into_inner();
        let unit = unit_code(&request.unit_code)?;
        let role = role(request.role, &request.leader_id)?;
        let key = match request.key {
            Some(proto::issue_certificate_request::Key::Generate(value)) => {
                KeySource::Generate(key_type("generate", value)?)
            }
            Some(proto::issue_certificate_request::Key::Token(token)) => {
                if token.token.is_empty() || token.key_label.is_empty() {
                    return Err(invalid("token", "needs the token's name and a key label").into());
                }
                KeySource::Token {
                    algorithm: key_type("token.key_type", token.key_type)?,
                    token: token.token,
                    key_label: token.key_label,
                }
            }
            Some(proto::issue_certificate_request::Key::CertificationRequest(der)) => {
                if der.is_empty() {
                    return Err(invalid("certification_request", "is empty").into());
                }
                KeySource::Request(der)
            }
            None => {
                return Err(invalid(
                    "key",
                    "say where the key comes from: generate, token or certification_request",
                )
                .into());
            }
        };
        let now = SystemTime::now();
        let record = self
            .authority
            .issue(&unit, &role, key, now)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::IssueCertificateResponse {
            certificate: Some(certificate_to_proto(&record, now)),
        }))
    }

    async fn import_certificate(
        &self,
        request: Request<proto::ImportCertificateRequest>,
    ) -> Result<Response<proto::ImportCertificateResponse>, Status> {
        let request = request.into_inner();
        let unit = unit_code(&request.unit_code)?;
        let role = role(request.role, &request.leader_id)?;
        let material = match request.material {
            Some(proto::import_certificate_request::Material::Pkcs12(pkcs12)) => {
                if pkcs12.file.is_empty() {
                    return Err(invalid("pkcs12.file", "is empty").into());
                }
                ImportMaterial::Pkcs12 {
                    file: pkcs12.file,
                    password: Zeroizing::new(pkcs12.password),
                }
            }
            Some(proto::import_certificate_request::Material::Pem(pem)) => ImportMaterial::Pem {
                certificates: pem.certificates.into_bytes(),
                private_key: Zeroizing::new(pem.private_key.into_bytes()),
            },
            None => {
                return Err(invalid("material", "give a pkcs12 file or a pem pair").into());
            }
        };
        let now = SystemTime::now();
        let record = self
            .authority
            .import(&unit, &role, material, now)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::ImportCertificateResponse {
            certificate: Some(certificate_to_proto(&record, now)),
        }))
    }

    async fn list_certificates(
        &self,
        request: Request<proto::ListCertificatesRequest>,
    ) -> Result<Response<proto::ListCertificatesResponse>, Status> {
        let request = request.into_inner();
        let now = SystemTime::now();
        let mut filter = CertificateFilter::all(now);
        if !request.unit_code.is_empty() {
            filter.unit = Some(unit_code(&request.unit_code)?);
        }
        filter.role_kind = match proto::CertificateRole::try_from(request.role) {
            Ok(proto::CertificateRole::Unspecified) => None,
            Ok(proto::CertificateRole::Organisation) => Some("organisation".to_string()),
            Ok(proto::CertificateRole::Leader) => Some("leader".to_string()),
            Ok(proto::CertificateRole::TimeStamping) => Some("time_stamping".to_string()),
            Err(_) => return Err(invalid("role", "unknown role").into()),
        };
        filter.status = match proto::CertificateStatus::try_from(request.status) {
            Ok(proto::CertificateStatus::Unspecified) => None,
            Ok(proto::CertificateStatus::Good) => Some(CertificateStatus::Good),
            Ok(proto::CertificateStatus::Revoked) => Some(CertificateStatus::Revoked),
            Ok(proto::CertificateStatus::Expired) => Some(CertificateStatus::Expired),
            Err(_) => return Err(invalid("status", "unknown status").into()),
        };
        let records = self.authority.list(&filter).await.map_err(ApiError::from)?;
        Ok(Response::new(proto::ListCertificatesResponse {
            certificates: records
                .iter()
                .map(|record| certificate_to_proto(record, now))
                .collect(),
        }))
    }

    async fn revoke_certificate(
        &self,
        request: Request<proto::RevokeCertificateRequest>,
    ) -> Result<Response<proto::RevokeCertificateResponse>, Status> {
        let request = request.into_inner();
        if request.certificate.trim().is_empty() {
            return Err(invalid("certificate", "give its fingerprint or serial number").into());
        }
        let reason = reason_from_proto(request.reason)?;
        let at = time_from_proto("revoked_at", request.revoked_at)?;
        let now = SystemTime::now();
        let revoked = self
            .authority
            .revoke(&request.certificate, reason, at, now)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::RevokeCertificateResponse {
            certificate: Some(certificate_to_proto(&revoked.certificate, now)),
            newly_revoked: revoked.newly_revoked,
            crl_number: revoked.crl.map_or(0, |crl| crl.number),
        }))
    }

    async fn get_crl(
        &self,
        request: Request<proto::GetCrlRequest>,
    ) -> Result<Response<proto::GetCrlResponse>, Status> {
        let request = request.into_inner();
        let name = if request.ca.is_empty() {
            ISSUING_CA
        } else {
            request.ca.as_str()
        };
        let crl = self
            .authority
            .current_crl(name, SystemTime::now())
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::GetCrlResponse {
            crl: crl.der,
            number: crl.number,
            this_update: Some(prost_types::Timestamp::from(crl.this_update)),
            next_update: Some(prost_types::Timestamp::from(crl.next_update)),
        }))
    }
}
