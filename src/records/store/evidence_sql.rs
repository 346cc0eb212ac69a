//! Signing evidence in SQL: one `signatures` row per signature kyso made,
//! written in the transaction that records the signing fact.

use super::*;
use crate::records::SignatureEvidence;

/// Stores the evidence a signing fact carries; a digest stored before keeps
/// its first row.
pub(super) async fn insert_evidence(
    connection: &mut AnyConnection,
    record: &DocumentRecord,
) -> Result<(), RecordsError> {
    let (leader, serial, digest) = match &record.fact {
        Fact::OrganisationSigned {
            certificate_serial,
            signature_sha256: Some(digest),
        } => (None, certificate_serial, digest),
        Fact::LeaderSigned {
            leader,
            certificate_serial,
            signature_sha256: Some(digest),
        } => (Some(leader.as_str()), certificate_serial, digest),
        _ => return Ok(()),
    };
    sqlx::query(
        "INSERT INTO signatures (signature_sha256, unit_code, document_id, leader_id, \
             certificate_serial, signed_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (signature_sha256) DO NOTHING",
    )
    .bind(digest.as_str())
    .bind(record.unit.as_str())
    .bind(record.document_id.as_str())
    .bind(leader)
    .bind(serial.as_str())
    .bind(micros(record.at))
    .execute(&mut *connection)
    .await
    .map_err(database)?;
    Ok(())
}

impl RecordStore {
    /// The evidence of the signature whose CMS SignerInfo signature value
    /// has this SHA-256 (lower-case hex), if kyso recorded it.
    pub async fn signature_evidence(
        &self,
        signature_sha256: &str,
    ) -> Result<Option<SignatureEvidence>, RecordsError> {
        let row = sqlx::query(
            "SELECT unit_code, document_id, leader_id, certificate_serial, signed_at \
             FROM signatures WHERE signature_sha256 = $1",
        )
        .bind(signature_sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(database)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let leader: Option<String> = row.try_get("leader_id").map_err(database)?;
        Ok(Some(SignatureEvidence {
            signed_at: instant(row.try_get("signed_at").map_err(database)?),
            unit: unit_code(&text(&row, "unit_code")?)?,
            document_id: DocumentId::parse(&text(&row, "document_id")?).map_err(|error| {
                RecordsError::Corrupt {
                    what: format!("an unusable document id ({error})"),
                }
            })?,
            leader: leader.as_deref().map(leader_id).transpose()?,
            certificate_serial: text(&row, "certificate_serial")?,
        }))
    }
}
