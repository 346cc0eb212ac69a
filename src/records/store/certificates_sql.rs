//! The certificate register and the CRLs in SQL.
//!
//! Binary values are stored as lower-case hex TEXT (a chain as its
//! certificates' hex joined by commas, nearest issuer first), so that both
//! engines take one SQL text. Revoking is one write transaction that reads
//! the certificate locked (`FOR UPDATE` on PostgreSQL), so two replicas
//! revoking at once keep the first revocation. Publishing a CRL holds the
//! `crls` table against other publishers (`BEGIN IMMEDIATE` on SQLite, a
//! self-conflicting table lock on PostgreSQL) from reading the highest number
//! to inserting the next: replicas never publish one number twice, and no
//! retry (which would sign twice) is needed.

use super::*;
use crate::ca::{CertificateRole, RevocationReason};
use crate::records::certificates::{from_lower_hex, lower_hex};
use crate::records::{
    CertificateFilter, CertificateOrigin, CertificateRecord, CertificateRevocation,
    CertificateStatus, KeyCustody, PublishCrlError, RevokeOutcome, RevokedEntry, StoredCrl,
};

/// Every column of `certificates`, in the order `insert_certificate` binds them.
const CERTIFICATE_COLUMNS: &str = "fingerprint, issuer_ca, serial, subject, unit_code, \
    role_kind, leader_id, key_algorithm, custody, custody_armoured, custody_token, \
    custody_key_label, origin, not_before, not_after, registered_at, certificate_der, \
    chain_der, revoked_at, revocation_reason, revocation_recorded_at";

/// A value bound to a query assembled at run time.
enum Bound {
    Text(String),
    Integer(i64),
}

impl RecordStore {
    /// Adds a certificate to the register. Returns `false`, changing
    /// nothing, when its fingerprint is registered already (`serve`
    /// registers the development PKI's certificates at every start).
    ///
    /// The certificate is stored as given. Its unit, when named, must be
    /// registered ([`RecordsError::UnknownUnit`]); a serial that another
    /// certificate of the same kyso CA holds is refused.
    pub async fn add_certificate(
        &self,
        certificate: &CertificateRecord,
    ) -> Result<bool, RecordsError> {
        let mut transaction = self.begin_write().await?;
        if let Some(unit) = &certificate.unit
            && !unit_exists(&mut transaction, unit).await?
        {
            return Err(RecordsError::UnknownUnit { unit: unit.clone() });
        }
        if insert_certificate(&mut transaction, certificate).await? {
            transaction.commit().await.map_err(database)?;
            return Ok(true);
        }
        // Either constraint stopped the insert; on PostgreSQL a concurrent
        // insert of the same certificate has committed by now (ours waited
        // for it), so this statement sees it.
        let registered = sqlx::query("SELECT 1 AS found FROM certificates WHERE fingerprint = $1")
            .bind(certificate.fingerprint.as_str())
            .fetch_optional(&mut *transaction)
            .await
            .map_err(database)?;
        if registered.is_some() {
            return Ok(false);
        }
        Err(RecordsError::Database(format!(
            "certificate {}: serial {} of CA {} is registered to another certificate",
            certificate.fingerprint,
            certificate.serial,
            certificate.issuer_ca.as_deref().unwrap_or_default()
        )))
    }

    /// The certificate with this fingerprint (SHA-256 of the DER, lower-case hex).
    pub async fn certificate(
        &self,
        fingerprint: &str,
    ) -> Result<Option<CertificateRecord>, RecordsError> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE fingerprint = $1");
        let row = sqlx::query(&sql)
            .bind(fingerprint)
            .fetch_optional(&self.pool)
            .await
            .map_err(database)?;
        row.as_ref().map(certificate_record).transpose()
    }

    /// The certificate kyso's CA `issuer_ca` issued with this serial
    /// (upper-case hex).
    pub async fn certificate_by_serial(
        &self,
        issuer_ca: &str,
        serial: &str,
    ) -> Result<Option<CertificateRecord>, RecordsError> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE issuer_ca = $1 AND serial = $2"
        );
        let row = sqlx::query(&sql)
            .bind(issuer_ca)
            .bind(serial)
            .fetch_optional(&self.pool)
            .await
            .map_err(database)?;
        row.as_ref().map(certificate_record).transpose()
    }

    /// The certificates `filter` selects, by registration time then fingerprint.
    pub async fn certificates(
        &self,
        filter: &CertificateFilter,
    ) -> Result<Vec<CertificateRecord>, RecordsError> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let mut bind = |value: Bound| {
            values.push(value);
            format!("${}", values.len())
        };
        if let Some(unit) = &filter.unit {
            conditions.push(format!(
                "unit_code = {}",
                bind(Bound::Text(unit.as_str().to_owned()))
            ));
        }
        if let Some(kind) = &filter.role_kind {
            conditions.push(format!("role_kind = {}", bind(Bound::Text(kind.clone()))));
        }
        if let Some(status) = filter.status {
            let at = bind(Bound::Integer(micros(filter.at)));
            conditions.push(match status {
                CertificateStatus::Revoked => "revoked_at IS NOT NULL".to_owned(),
                // The SQL twin of `CertificateRecord::status`.
                CertificateStatus::Expired => format!("revoked_at IS NULL AND not_after < {at}"),
                CertificateStatus::Good => format!("revoked_at IS NULL AND not_after >= {at}"),
            });
        }
        let mut sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY registered_at, fingerprint");
        let mut query = sqlx::query(&sql);
        for value in values {
            query = match value {
                Bound::Text(text) => query.bind(text),
                Bound::Integer(integer) => query.bind(integer),
            };
        }
        let rows = query.fetch_all(&self.pool).await.map_err(database)?;
        rows.iter().map(certificate_record).collect()
    }

    /// The certificates kyso signs with at `at`: for each (unit, role), the
    /// most recently registered one that is not revoked, is valid at `at`,
    /// and whose key kyso holds (custody other than
    /// [`KeyCustody::External`]). In registration order.
    pub async fn active_signers(
        &self,
        at: SystemTime,
    ) -> Result<Vec<CertificateRecord>, RecordsError> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates \
             WHERE revoked_at IS NULL AND not_before <= $1 AND not_after >= $1 \
                 AND custody <> 'external' \
             ORDER BY registered_at DESC, fingerprint DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(micros(at))
            .fetch_all(&self.pool)
            .await
            .map_err(database)?;
        let mut seen = std::collections::HashSet::new();
        let mut newest = Vec::new();
        for row in &rows {
            let certificate = certificate_record(row)?;
            if seen.insert((certificate.unit.clone(), certificate.role.clone())) {
                newest.push(certificate);
            }
        }
        newest.reverse();
        Ok(newest)
    }

    /// Records the revocation of the certificate with this fingerprint:
    /// declared revocation time `at`, `reason`, recorded at `recorded_at`.
    /// A certificate revoked before keeps its first revocation.
    pub async fn revoke_certificate(
        &self,
        fingerprint: &str,
        at: SystemTime,
        reason: RevocationReason,
        recorded_at: SystemTime,
    ) -> Result<RevokeOutcome, RecordsError> {
        let mut transaction = self.begin_write().await?;
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE fingerprint = $1{}",
            self.engine.row_lock()
        );
        let row = sqlx::query(&sql)
            .bind(fingerprint)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(database)?;
        let Some(mut certificate) = row.as_ref().map(certificate_record).transpose()? else {
            return Ok(RevokeOutcome::NotFound);
        };
        if certificate.revocation.is_some() {
            return Ok(RevokeOutcome::AlreadyRevoked(certificate));
        }
        sqlx::query(
            "UPDATE certificates SET revoked_at = $2, revocation_reason = $3, \
                 revocation_recorded_at = $4 \
             WHERE fingerprint = $1 AND revoked_at IS NULL",
        )
        .bind(fingerprint)
        .bind(micros(at))
        .bind(reason.as_str())
        .bind(micros(recorded_at))
        .execute(&mut *transaction)
        .await
        .map_err(database)?;
        transaction.commit().await.map_err(database)?;
        certificate.revocation = Some(CertificateRevocation {
            at: instant(micros(at)),
            reason,
            recorded_at: instant(micros(recorded_at)),
        });
        Ok(RevokeOutcome::Revoked(certificate))
    }

    /// The revoked certificates kyso's CA `issuer_ca` issued, by serial.
    pub async fn revoked_certificates(
        &self,
        issuer_ca: &str,
    ) -> Result<Vec<RevokedEntry>, RecordsError> {
        let mut connection = self.pool.acquire().await.map_err(database)?;
        read_revoked(&mut connection, issuer_ca).await
    }

    /// Publishes the next CRL of kyso's CA `issuer_ca`, in one write
    /// transaction: takes the number after the highest published (1 for
    /// the first), reads the CA's revoked certificates, has `sign` make the
    /// DER CRL with them and that number, and stores it. Replicas publishing
    /// at once take turns (see the module documentation), so numbers are
    /// never reused and only grow. When `sign` fails nothing is stored.
    pub async fn publish_crl<F, E>(
        &self,
        issuer_ca: &str,
        this_update: SystemTime,
        next_update: SystemTime,
        sign: F,
    ) -> Result<StoredCrl, PublishCrlError<E>>
    where
        F: FnOnce(u64, &[RevokedEntry]) -> Result<Vec<u8>, E>,
    {
        let mut transaction = self.begin_write().await?;
        self.lock_tables(&mut transaction, &["crls"]).await?;
        let next: i64 = sqlx::query(
            "SELECT CAST(COALESCE(MAX(number), 0) + 1 AS BIGINT) AS next \
             FROM crls WHERE issuer_ca = $1",
        )
        .bind(issuer_ca)
        .fetch_one(&mut *transaction)
        .await
        .and_then(|row| row.try_get("next"))
        .map_err(database)?;
        let number = u64::try_from(next).map_err(|_| RecordsError::Corrupt {
            what: format!("a CRL number below 1 for CA {issuer_ca}"),
        })?;
        let revoked = read_revoked(&mut transaction, issuer_ca).await?;
        let der = sign(number, &revoked).map_err(PublishCrlError::Sign)?;
        sqlx::query(
            "INSERT INTO crls (issuer_ca, number, this_update, next_update, der) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(issuer_ca)
        .bind(next)
        .bind(micros(this_update))
        .bind(micros(next_update))
        .bind(lower_hex(&der))
        .execute(&mut *transaction)
        .await
        .map_err(database)?;
        transaction.commit().await.map_err(database)?;
        Ok(StoredCrl {
            number,
            this_update: instant(micros(this_update)),
            next_update: instant(micros(next_update)),
            der,
        })
    }

    /// The CRL of kyso's CA `issuer_ca` with the highest number, if any.
    pub async fn latest_crl(&self, issuer_ca: &str) -> Result<Option<StoredCrl>, RecordsError> {
        let row = sqlx::query(
            "SELECT number, this_update, next_update, der FROM crls \
             WHERE issuer_ca = $1 ORDER BY number DESC LIMIT 1",
        )
        .bind(issuer_ca)
        .fetch_optional(&self.pool)
        .await
        .map_err(database)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let number: i64 = row.try_get("number").map_err(database)?;
        Ok(Some(StoredCrl {
            number: u64::try_from(number).map_err(|_| RecordsError::Corrupt {
                what: format!("CRL number {number} of CA {issuer_ca}"),
            })?,
            this_update: instant(row.try_get("this_update").map_err(database)?),
            next_update: instant(row.try_get("next_update").map_err(database)?),
            der: binary(&text(&row, "der")?)?,
        }))
    }
}

/// Inserts a certificate unless its fingerprint, or its CA and serial, is
/// stored; true if it inserted.
async fn insert_certificate(
    connection: &mut AnyConnection,
    certificate: &CertificateRecord,
) -> Result<bool, RecordsError> {
    let (armoured, token, key_label) = match &certificate.custody {
        KeyCustody::Sealed { armoured } => (Some(armoured.as_str()), None, None),
        KeyCustody::Token { token, key_label } => {
            (None, Some(token.as_str()), Some(key_label.as_str()))
        }
        KeyCustody::DataDirectory | KeyCustody::External => (None, None, None),
    };
    let chain = certificate
        .chain_der
        .iter()
        .map(|der| lower_hex(der))
        .collect::<Vec<_>>()
        .join(",");
    let revocation = certificate.revocation.as_ref();
    let sql = format!(
        "INSERT INTO certificates ({CERTIFICATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
         ON CONFLICT DO NOTHING"
    );
    let result = sqlx::query(&sql)
        .bind(certificate.fingerprint.as_str())
        .bind(certificate.issuer_ca.as_deref())
        .bind(certificate.serial.as_str())
        .bind(certificate.subject.as_str())
        .bind(certificate.unit.as_ref().map(UnitCode::as_str))
        .bind(certificate.role.kind())
        .bind(certificate.role.leader().map(LeaderId::as_str))
        .bind(certificate.key_algorithm.as_str())
        .bind(certificate.custody.kind())
        .bind(armoured)
        .bind(token)
        .bind(key_label)
        .bind(certificate.origin.as_str())
        .bind(micros(certificate.not_before))
        .bind(micros(certificate.not_after))
        .bind(micros(certificate.registered_at))
        .bind(lower_hex(&certificate.certificate_der))
        .bind(chain)
        .bind(revocation.map(|revocation| micros(revocation.at)))
        .bind(revocation.map(|revocation| revocation.reason.as_str()))
        .bind(revocation.map(|revocation| micros(revocation.recorded_at)))
        .execute(&mut *connection)
        .await
        .map_err(database)?;
    Ok(result.rows_affected() == 1)
}

/// The revoked certificates of one CA, by serial.
async fn read_revoked(
    connection: &mut AnyConnection,
    issuer_ca: &str,
) -> Result<Vec<RevokedEntry>, RecordsError> {
    let rows = sqlx::query(
        "SELECT serial, revoked_at, revocation_reason FROM certificates \
         WHERE issuer_ca = $1 AND revoked_at IS NOT NULL ORDER BY serial",
    )
    .bind(issuer_ca)
    .fetch_all(&mut *connection)
    .await
    .map_err(database)?;
    rows.iter()
        .map(|row| {
            Ok(RevokedEntry {
                serial: text(row, "serial")?,
                at: instant(row.try_get("revoked_at").map_err(database)?),
                reason: reason_of(&text(row, "revocation_reason")?)?,
            })
        })
        .collect()
}

fn certificate_record(row: &AnyRow) -> Result<CertificateRecord, RecordsError> {
    let optional_text = |column: &str| -> Result<Option<String>, RecordsError> {
        row.try_get(column).map_err(database)
    };
    let optional_integer = |column: &str| -> Result<Option<i64>, RecordsError> {
        row.try_get(column).map_err(database)
    };
    let integer =
        |column: &str| -> Result<i64, RecordsError> { row.try_get(column).map_err(database) };
    let role = match (
        text(row, "role_kind")?.as_str(),
        optional_text("leader_id")?,
    ) {
        ("organisation", None) => CertificateRole::Organisation,
        ("time_stamping", None) => CertificateRole::TimeStamping,
        ("leader", Some(leader)) => CertificateRole::Leader(leader_id(&leader)?),
        (kind, leader) => {
            return Err(RecordsError::Corrupt {
                what: format!("a certificate role {kind:?} with leader {leader:?}"),
            });
        }
    };
    let custody = match (
        text(row, "custody")?.as_str(),
        optional_text("custody_armoured")?,
        optional_text("custody_token")?,
        optional_text("custody_key_label")?,
    ) {
        ("sealed", Some(armoured), None, None) => KeyCustody::Sealed { armoured },
        ("data_directory", None, None, None) => KeyCustody::DataDirectory,
        ("token", None, Some(token), Some(key_label)) => KeyCustody::Token { token, key_label },
        ("external", None, None, None) => KeyCustody::External,
        (kind, ..) => return Err(corrupt("key custody", kind)),
    };
    let revocation = match (
        optional_integer("revoked_at")?,
        optional_text("revocation_reason")?,
        optional_integer("revocation_recorded_at")?,
    ) {
        (Some(at), Some(reason), Some(recorded_at)) => Some(CertificateRevocation {
            at: instant(at),
            reason: reason_of(&reason)?,
            recorded_at: instant(recorded_at),
        }),
        (None, None, None) => None,
        (at, reason, recorded_at) => {
            return Err(RecordsError::Corrupt {
                what: format!(
                    "a partial revocation (time {at:?}, reason {reason:?}, recorded {recorded_at:?})"
                ),
            });
        }
    };
    let chain = text(row, "chain_der")?;
    let chain_der = if chain.is_empty() {
        Vec::new()
    } else {
        chain.split(',').map(binary).collect::<Result<_, _>>()?
    };
    Ok(CertificateRecord {
        fingerprint: text(row, "fingerprint")?,
        issuer_ca: optional_text("issuer_ca")?,
        serial: text(row, "serial")?,
        subject: text(row, "subject")?,
        unit: optional_text("unit_code")?
            .as_deref()
            .map(unit_code)
            .transpose()?,
        role,
        key_algorithm: text(row, "key_algorithm")?,
        custody,
        origin: origin_of(&text(row, "origin")?)?,
        not_before: instant(integer("not_before")?),
        not_after: instant(integer("not_after")?),
        registered_at: instant(integer("registered_at")?),
        certificate_der: binary(&text(row, "certificate_der")?)?,
        chain_der,
        revocation,
    })
}

fn binary(hex: &str) -> Result<Vec<u8>, RecordsError> {
    from_lower_hex(hex).ok_or_else(|| RecordsError::Corrupt {
        what: format!(
            "binary data that is not lower-case hex ({} characters)",
            hex.len()
        ),
    })
}

pub(super) fn reason_of(name: &str) -> Result<RevocationReason, RecordsError> {
    RevocationReason::ALL
        .into_iter()
        .find(|reason| reason.as_str() == name)
        .ok_or_else(|| corrupt("revocation reason", name))
}

fn origin_of(name: &str) -> Result<CertificateOrigin, RecordsError> {
    [
        CertificateOrigin::Development,
        CertificateOrigin::Issued,
        CertificateOrigin::Imported,
    ]
    .into_iter()
    .find(|origin| origin.as_str() == name)
    .ok_or_else(|| corrupt("certificate origin", name))
}
