//! Ledger entries in SQL: reading, creating, merging and updating one entry.

use super::*;
use crate::records::certificates::is_sha256_hex;

/// The columns of a ledger entry after its key.
pub(super) const ENTRY_COLUMNS: &str = "day, first_recorded_at, channel, \
    organisation_signed_at, organisation_certificate, \
    leader_signed_at, leader_id, leader_certificate, verdict, verified_at, \
    organisation_signature_sha256, leader_signature_sha256";

/// The mutable state of one ledger entry, as stored (instants in unix
/// microseconds), compared to tell a change from a repetition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredEntry {
    pub(super) day: i64,
    pub(super) first_recorded_at: i64,
    pub(super) channel: Channel,
    /// When, with which certificate and, with evidence, the signature's SHA-256.
    pub(super) organisation: Option<(i64, String, Option<String>)>,
    /// When, by whom (absent when reported), with which certificate and,
    /// with evidence, the signature's SHA-256.
    pub(super) leader: Option<(i64, Option<String>, String, Option<String>)>,
    /// The latest verdict and when it was reached.
    pub(super) verdict: Option<(Verdict, i64)>,
}

impl StoredEntry {
    /// A new entry for the first fact about a document, before merging it:
    /// dated by the fact, electronic unless a document system says otherwise.
    pub(super) fn first(record: &DocumentRecord) -> Self {
        let channel = match record.fact {
            Fact::Reported { channel, .. } => channel,
            _ => Channel::Electronic,
        };
        Self {
            day: VietnamDate::of(record.at).day_number(),
            first_recorded_at: micros(record.at),
            channel,
            organisation: None,
            leader: None,
            verdict: None,
        }
    }

    /// Merges a fact: the first signature of each kind stays (with the
    /// evidence digest it carried); the latest verification (by its instant)
    /// wins; a report sets the channel and may add, never remove, a signature
    /// applied outside kyso.
    pub(super) fn merge(&mut self, fact: &Fact, at: i64) {
        match fact {
            Fact::OrganisationSigned {
                certificate_serial,
                signature_sha256,
            } => {
                if self.organisation.is_none() {
                    self.organisation =
                        Some((at, certificate_serial.clone(), signature_sha256.clone()));
                }
            }
            Fact::LeaderSigned {
                leader,
                certificate_serial,
                signature_sha256,
            } => {
                if self.leader.is_none() {
                    self.leader = Some((
                        at,
                        Some(leader.as_str().to_owned()),
                        certificate_serial.clone(),
                        signature_sha256.clone(),
                    ));
                }
            }
            Fact::Verified { verdict } => {
                // A verification that arrives late (a retry) does not undo a
                // newer one.
                if self
                    .verdict
                    .is_none_or(|(_, verified_at)| verified_at <= at)
                {
                    self.verdict = Some((*verdict, at));
                }
            }
            Fact::Reported {
                channel,
                organisation_signed,
                leader_signed,
                ..
            } => {
                self.channel = *channel;
                if *organisation_signed && self.organisation.is_none() {
                    self.organisation = Some((at, String::new(), None));
                }
                if *leader_signed && self.leader.is_none() {
                    self.leader = Some((at, None, String::new(), None));
                }
            }
        }
    }

    /// What this entry adds to its unit's counts for its day, in the order
    /// of [`COUNT_COLUMNS`]. Must agree with [`CONTRIBUTION_SUMS`].
    pub(super) fn contribution(&self, direction: Direction) -> [i64; 6] {
        let electronic = self.channel == Channel::Electronic;
        match direction {
            Direction::Incoming => {
                let passed = matches!(self.verdict, Some((Verdict::Passed, _)));
                [1, i64::from(electronic && passed), 0, 0, 0, 0]
            }
            Direction::Outgoing => [
                0,
                0,
                1,
                i64::from(electronic),
                i64::from(self.organisation.is_some()),
                i64::from(self.leader.is_some()),
            ],
        }
    }
}

/// Refuses facts the ledger cannot hold, before any database work.
pub(super) fn check_fact(record: &DocumentRecord) -> Result<(), RecordsError> {
    if let Fact::Reported {
        direction: Direction::Incoming,
        organisation_signed,
        leader_signed,
        ..
    } = record.fact
        && (organisation_signed || leader_signed)
    {
        return Err(RecordsError::InconsistentFact {
            unit: record.unit.clone(),
            document_id: record.document_id.clone(),
            reason: "an incoming document cannot carry the unit's own signatures",
        });
    }
    if let Fact::OrganisationSigned {
        signature_sha256: Some(digest),
        ..
    }
    | Fact::LeaderSigned {
        signature_sha256: Some(digest),
        ..
    } = &record.fact
        && !is_sha256_hex(digest)
    {
        return Err(RecordsError::InconsistentFact {
            unit: record.unit.clone(),
            document_id: record.document_id.clone(),
            reason: "a signature's SHA-256 must be 64 lower-case hex digits",
        });
    }
    Ok(())
}

pub(super) fn entry_key(record: &DocumentRecord) -> (&str, &'static str, &str) {
    (
        record.unit.as_str(),
        record.fact.direction().as_str(),
        record.document_id.as_str(),
    )
}

pub(super) async fn read_entry(
    connection: &mut AnyConnection,
    unit: &UnitCode,
    direction: Direction,
    id: &DocumentId,
    lock: &str,
) -> Result<Option<StoredEntry>, RecordsError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM documents \
         WHERE unit_code = $1 AND direction = $2 AND document_id = $3{lock}"
    );
    let row = sqlx::query(&sql)
        .bind(unit.as_str())
        .bind(direction.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *connection)
        .await
        .map_err(database)?;
    row.map(|row| stored_entry(&row)).transpose()
}

/// Inserts a new entry unless one with its key exists; true if it inserted.
pub(super) async fn insert_entry(
    connection: &mut AnyConnection,
    record: &DocumentRecord,
    direction: Direction,
    entry: &StoredEntry,
    at: i64,
) -> Result<bool, RecordsError> {
    let query = sqlx::query(
        "INSERT INTO documents (unit_code, direction, document_id, day, first_recorded_at, \
             channel, organisation_signed_at, organisation_certificate, leader_signed_at, \
             leader_id, leader_certificate, verdict, verified_at, \
             organisation_signature_sha256, leader_signature_sha256, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (unit_code, direction, document_id) DO NOTHING",
    )
    .bind(record.unit.as_str())
    .bind(direction.as_str())
    .bind(record.document_id.as_str())
    .bind(entry.day)
    .bind(entry.first_recorded_at);
    let result = bind_state(query, entry)
        .bind(at)
        .execute(&mut *connection)
        .await
        .map_err(database)?;
    Ok(result.rows_affected() == 1)
}

/// Writes an entry's mutable columns; `updated_at` only moves forward.
pub(super) async fn update_entry(
    connection: &mut AnyConnection,
    record: &DocumentRecord,
    direction: Direction,
    entry: &StoredEntry,
    at: i64,
) -> Result<(), RecordsError> {
    let query = sqlx::query(
        "UPDATE documents SET channel = $4, organisation_signed_at = $5, \
             organisation_certificate = $6, leader_signed_at = $7, leader_id = $8, \
             leader_certificate = $9, verdict = $10, verified_at = $11, \
             organisation_signature_sha256 = $12, leader_signature_sha256 = $13, \
             updated_at = CASE WHEN updated_at < $14 THEN $14 ELSE updated_at END \
         WHERE unit_code = $1 AND direction = $2 AND document_id = $3",
    )
    .bind(record.unit.as_str())
    .bind(direction.as_str())
    .bind(record.document_id.as_str());
    bind_state(query, entry)
        .bind(at)
        .execute(&mut *connection)
        .await
        .map_err(database)?;
    Ok(())
}

/// Binds an entry's mutable columns, channel to `leader_signature_sha256`,
/// in the order both `insert_entry` and `update_entry` name them.
pub(super) fn bind_state<'q>(
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    entry: &'q StoredEntry,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(entry.channel.as_str())
        .bind(entry.organisation.as_ref().map(|(at, _, _)| *at))
        .bind(
            entry
                .organisation
                .as_ref()
                .map(|(_, serial, _)| serial.as_str()),
        )
        .bind(entry.leader.as_ref().map(|(at, _, _, _)| *at))
        .bind(
            entry
                .leader
                .as_ref()
                .and_then(|(_, leader, _, _)| leader.as_deref()),
        )
        .bind(
            entry
                .leader
                .as_ref()
                .map(|(_, _, serial, _)| serial.as_str()),
        )
        .bind(entry.verdict.map(|(verdict, _)| verdict.as_str()))
        .bind(entry.verdict.map(|(_, at)| at))
        .bind(
            entry
                .organisation
                .as_ref()
                .and_then(|(_, _, sha256)| sha256.as_deref()),
        )
        .bind(
            entry
                .leader
                .as_ref()
                .and_then(|(_, _, _, sha256)| sha256.as_deref()),
        )
}

pub(super) fn stored_entry(row: &AnyRow) -> Result<StoredEntry, RecordsError> {
    let optional_integer = |column: &str| -> Result<Option<i64>, RecordsError> {
        row.try_get(column).map_err(database)
    };
    let optional_text = |column: &str| -> Result<Option<String>, RecordsError> {
        row.try_get(column).map_err(database)
    };
    let organisation = match optional_integer("organisation_signed_at")? {
        Some(at) => Some((
            at,
            optional_text("organisation_certificate")?.unwrap_or_default(),
            optional_text("organisation_signature_sha256")?,
        )),
        None => None,
    };
    let leader = match optional_integer("leader_signed_at")? {
        Some(at) => Some((
            at,
            optional_text("leader_id")?,
            optional_text("leader_certificate")?.unwrap_or_default(),
            optional_text("leader_signature_sha256")?,
        )),
        None => None,
    };
    let verdict = match (optional_text("verdict")?, optional_integer("verified_at")?) {
        (Some(verdict), Some(at)) => Some((verdict_of(&verdict)?, at)),
        (None, None) => None,
        (verdict, at) => {
            return Err(RecordsError::Corrupt {
                what: format!("a verdict {verdict:?} with verification time {at:?}"),
            });
        }
    };
    Ok(StoredEntry {
        day: row.try_get("day").map_err(database)?,
        first_recorded_at: row.try_get("first_recorded_at").map_err(database)?,
        channel: channel_of(&text(row, "channel")?)?,
        organisation,
        leader,
        verdict,
    })
}

pub(super) fn document_entry(row: &AnyRow) -> Result<DocumentEntry, RecordsError> {
    let stored = stored_entry(row)?;
    let leader_signature = match stored.leader {
        Some((at, leader, certificate_serial, signature_sha256)) => Some(AppliedSignature {
            at: instant(at),
            leader: leader.as_deref().map(leader_id).transpose()?,
            certificate_serial,
            signature_sha256,
        }),
        None => None,
    };
    Ok(DocumentEntry {
        unit: unit_code(&text(row, "unit_code")?)?,
        direction: direction_of(&text(row, "direction")?)?,
        document_id: DocumentId::parse(&text(row, "document_id")?).map_err(|error| {
            RecordsError::Corrupt {
                what: format!("an unusable document id ({error})"),
            }
        })?,
        date: VietnamDate::from_day_number(stored.day),
        first_recorded_at: instant(stored.first_recorded_at),
        channel: stored.channel,
        organisation_signature: stored.organisation.map(
            |(at, certificate_serial, signature_sha256)| AppliedSignature {
                at: instant(at),
                leader: None,
                certificate_serial,
                signature_sha256,
            },
        ),
        leader_signature,
        verdict: stored.verdict.map(|(verdict, _)| verdict),
    })
}

pub(super) fn direction_of(name: &str) -> Result<Direction, RecordsError> {
    [Direction::Outgoing, Direction::Incoming]
        .into_iter()
        .find(|direction| direction.as_str() == name)
        .ok_or_else(|| corrupt("direction", name))
}

pub(super) fn channel_of(name: &str) -> Result<Channel, RecordsError> {
    [Channel::Electronic, Channel::Paper]
        .into_iter()
        .find(|channel| channel.as_str() == name)
        .ok_or_else(|| corrupt("channel", name))
}

pub(super) fn verdict_of(name: &str) -> Result<Verdict, RecordsError> {
    [Verdict::Passed, Verdict::Failed, Verdict::Indeterminate]
        .into_iter()
        .find(|verdict| verdict.as_str() == name)
        .ok_or_else(|| corrupt("verdict", name))
}
