//! Signing evidence in SQL: one `signatures` row per signature kyso made,
//! written in the transaction that records the signing fact.

use super::*;
use crate::records::SignatureEvidence;

/// Stores the evidence the signing facts among `records` carry, in their
/// order; a digest stored before keeps its first row.
pub(super) async fn insert_evidence(
    connection: &mut AnyConnection,
    engine: Engine,
    records: &[&DocumentRecord],
) -> Result<(), RecordsError> {
    let evidence: Vec<(&DocumentRecord, Option<&str>, &str, &str)> = records
        .iter()
        .filter_map(|record| match &record.fact {
            Fact::OrganisationSigned {
                certificate_serial,
                signature_sha256: Some(digest),
            } => Some((*record, None, certificate_serial.as_str(), digest.as_str())),
            Fact::LeaderSigned {
                leader,
                certificate_serial,
                signature_sha256: Some(digest),
            } => Some((
                *record,
                Some(leader.as_str()),
                certificate_serial.as_str(),
                digest.as_str(),
            )),
            _ => None,
        })
        .collect();
    for chunk in evidence.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO signatures (signature_sha256, unit_code, document_id, leader_id, \
                 certificate_serial, signed_at) \
             VALUES {} \
             ON CONFLICT (signature_sha256) DO NOTHING",
            engine.placeholders(chunk.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for (record, leader, serial, digest) in chunk {
            query = query
                .bind(*digest)
                .bind(record.unit.as_str())
                .bind(record.document_id.as_str())
                .bind(*leader)
                .bind(*serial)
                .bind(micros(record.at));
        }
        query.execute(&mut *connection).await.map_err(database)?;
    }
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
