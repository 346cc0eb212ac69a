//! Recording a batch of facts with a handful of statements, however many
//! facts it holds: one `SELECT` reads (and on PostgreSQL locks, in key order)
//! every entry the facts name, the facts are merged in memory, and the new
//! entries, the changed entries, the signing evidence and the count deltas
//! are each written by one multi-row statement per [`ROWS_PER_STATEMENT`]
//! rows. Concurrent signings share such a batch through
//! [`GroupCommit`](crate::records::GroupCommit), so a signature costs a
//! fraction of a statement instead of five.
//!
//! Lock order stays the one the module documentation of `store` gives: the
//! existing entries are locked first, in key order; new entries are inserted
//! in key order; evidence follows; `daily_counts` rows come last, in (day,
//! unit) order. An entry another replica created after the `SELECT` (its
//! insert did nothing) is merged again row by row, as [`RecordStore::record`]
//! always did.

use super::certificates_sql::reason_of;
use super::*;
use crate::records::certificates::CertificateRevocation;

/// Most rows one multi-row statement carries: at 16 values a row this stays
/// far below SQLite's (32,766) and PostgreSQL's (65,535) bound-value limits.
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// A ledger key: unit code, direction, document id.
type Key<'r> = (&'r str, &'static str, &'r str);

/// A fact to record and, for a signature kyso made, the fingerprint of the
/// certificate that must not be revoked when the fact is committed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Guarded<'r> {
    pub(super) record: &'r DocumentRecord,
    pub(super) unrevoked_certificate: Option<&'r str>,
}

impl<'r> Guarded<'r> {
    /// Each of `records`, borrowed.
    pub(super) fn all(records: &'r [GuardedRecord]) -> Vec<Self> {
        records
            .iter()
            .map(|guarded| Guarded {
                record: &guarded.record,
                unrevoked_certificate: guarded.unrevoked_certificate.as_deref(),
            })
            .collect()
    }
}

/// One entry of the batch after its facts were merged in memory.
struct Merged<'r> {
    key: Key<'r>,
    /// The first fact about it in the batch (its unit, direction and id).
    record: &'r DocumentRecord,
    /// As stored before the batch; `None` for a new entry.
    before: Option<StoredEntry>,
    after: StoredEntry,
    /// The latest instant of a fact that changed it (or created it).
    changed_at: Option<i64>,
}

impl RecordStore {
    /// Records every fact in one transaction: all are stored or, on the
    /// first error, none (see the module documentation).
    pub(super) async fn record_batch(
        &self,
        batch: &[Guarded<'_>],
    ) -> Result<Vec<RecordOutcome>, RecordsError> {
        let mut connection = self.pool.acquire().await.map_err(database)?;
        self.record_batch_on(&mut connection, batch).await
    }

    /// [`RecordStore::record_batch`] on a given connection.
    pub(super) async fn record_batch_on(
        &self,
        connection: &mut AnyConnection,
        batch: &[Guarded<'_>],
    ) -> Result<Vec<RecordOutcome>, RecordsError> {
        for guarded in batch {
            check_fact(guarded.record)?;
        }
        // Key order, stable: one document's facts keep their order.
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by(|&a, &b| entry_key(batch[a].record).cmp(&entry_key(batch[b].record)));
        let mut keys: Vec<Key<'_>> = order.iter().map(|&i| entry_key(batch[i].record)).collect();
        keys.dedup();

        let mut transaction = self.begin_write_on(connection).await?;
        refuse_revoked(&mut transaction, self.engine, batch).await?;
        let lock = self.engine.row_lock_of("d");
        let stored = read_entries(&mut transaction, self.engine, &keys, &lock).await?;
        let mut merged: Vec<Merged<'_>> = Vec::with_capacity(keys.len());
        let mut outcomes = vec![RecordOutcome::Unchanged; batch.len()];
        for &index in &order {
            let record = batch[index].record;
            let key = entry_key(record);
            if merged.last().is_none_or(|last| last.key != key) {
                let position = merged.len();
                let before = stored[position].clone();
                let after = before.clone().unwrap_or_else(|| StoredEntry::first(record));
                merged.push(Merged {
                    key,
                    record,
                    before,
                    after,
                    changed_at: None,
                });
            }
            let Some(entry) = merged.last_mut() else {
                continue;
            };
            let at = micros(record.at);
            let created = entry.before.is_none() && entry.changed_at.is_none();
            let was = entry.after.clone();
            entry.after.merge(&record.fact, at);
            outcomes[index] = if created {
                RecordOutcome::Created
            } else if entry.after != was {
                RecordOutcome::Updated
            } else {
                continue;
            };
            entry.changed_at = Some(entry.changed_at.map_or(at, |latest| latest.max(at)));
        }

        let new: Vec<&Merged<'_>> = merged.iter().filter(|m| m.before.is_none()).collect();
        refuse_unknown_units(&mut transaction, self.engine, &new).await?;
        let inserted = insert_entries(&mut transaction, self.engine, &new).await?;
        let changed: Vec<&Merged<'_>> = merged
            .iter()
            .filter(|m| m.before.is_some() && m.changed_at.is_some())
            .collect();
        update_entries(&mut transaction, self.engine, &changed).await?;

        let mut deltas = CountDeltas::new();
        let mut raced = Vec::new();
        // `new` and so `inserted` follow `merged`'s order.
        let mut inserted = inserted.into_iter();
        for (position, entry) in merged.iter().enumerate() {
            if entry.before.is_none() && !inserted.next().unwrap_or(false) {
                raced.push(position);
                continue;
            }
            if entry.changed_at.is_some() {
                let (unit, direction) = (&entry.record.unit, entry.record.fact.direction());
                deltas.add(
                    unit,
                    entry.after.day,
                    direction,
                    entry.before.as_ref(),
                    &entry.after,
                );
            }
        }
        // Created by another replica since the SELECT: merged again, fact by
        // fact, against the entry it committed.
        for position in raced {
            let key = merged[position].key;
            for &index in order.iter().filter(|&&i| entry_key(batch[i].record) == key) {
                outcomes[index] = self
                    .merge_in(&mut transaction, batch[index].record, &mut deltas)
                    .await?;
            }
        }
        let records: Vec<&DocumentRecord> = order.iter().map(|&i| batch[i].record).collect();
        insert_evidence(&mut transaction, self.engine, &records).await?;
        apply_deltas(&mut transaction, self.engine, &deltas).await?;
        transaction.commit().await.map_err(database)?;
        Ok(outcomes)
    }
}

/// Fails with [`RecordsError::CertificateRevoked`] when the register lists
/// a guarded fact's certificate as revoked.
async fn refuse_revoked(
    connection: &mut AnyConnection,
    engine: Engine,
    batch: &[Guarded<'_>],
) -> Result<(), RecordsError> {
    let mut fingerprints: Vec<&str> = batch
        .iter()
        .filter_map(|guarded| guarded.unrevoked_certificate)
        .collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    for chunk in fingerprints.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT subject, revoked_at, revocation_reason, revocation_recorded_at \
             FROM certificates WHERE revoked_at IS NOT NULL AND fingerprint IN {}",
            engine.placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for fingerprint in chunk {
            query = query.bind(*fingerprint);
        }
        let revoked = query
            .fetch_optional(&mut *connection)
            .await
            .map_err(database)?;
        if let Some(row) = revoked {
            return Err(RecordsError::CertificateRevoked {
                subject: text(&row, "subject")?,
                revocation: CertificateRevocation {
                    at: instant(row.try_get("revoked_at").map_err(database)?),
                    reason: reason_of(&text(&row, "revocation_reason")?)?,
                    recorded_at: instant(row.try_get("revocation_recorded_at").map_err(database)?),
                },
            });
        }
    }
    Ok(())
}

/// The stored state of each key (in key order), read with `lock`.
async fn read_entries(
    connection: &mut AnyConnection,
    engine: Engine,
    keys: &[Key<'_>],
    lock: &str,
) -> Result<Vec<Option<StoredEntry>>, RecordsError> {
    let mut stored = vec![None; keys.len()];
    for (chunk_index, chunk) in keys.chunks(ROWS_PER_STATEMENT).enumerate() {
        let sql = read_entries_sql(engine, chunk.len(), lock);
        let mut query = sqlx::query(&sql);
        for (unit, direction, id) in chunk {
            query = query.bind(*unit).bind(*direction).bind(*id);
        }
        let rows = query.fetch_all(&mut *connection).await.map_err(database)?;
        for row in rows {
            let (unit, direction, id) = (
                text(&row, "unit_code")?,
                text(&row, "direction")?,
                text(&row, "document_id")?,
            );
            let found = chunk.binary_search_by(|key| {
                key.0
                    .cmp(unit.as_str())
                    .then(key.1.cmp(direction.as_str()))
                    .then(key.2.cmp(id.as_str()))
            });
            let Ok(position) = found else {
                return Err(RecordsError::Database(format!(
                    "the ledger answered document {id} of unit {unit}, which was not asked for"
                )));
            };
            stored[chunk_index * ROWS_PER_STATEMENT + position] = Some(stored_entry(&row)?);
        }
    }
    Ok(stored)
}

/// The `SELECT` of `rows` ledger entries by key, in key order, with `lock`.
///
/// A join from the keys, not `(…) IN (VALUES …)`: SQLite answers the
/// latter by scanning the whole ledger, the join by one index search per
/// key (see the test below; PostgreSQL plans both as index scans).
fn read_entries_sql(engine: Engine, rows: usize, lock: &str) -> String {
    let columns = ENTRY_COLUMNS
        .split(", ")
        .map(|column| format!("d.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH k(unit_code, direction, document_id) AS (VALUES {}) \
         SELECT d.unit_code, d.direction, d.document_id, {columns} FROM k JOIN documents d \
         ON d.unit_code = k.unit_code AND d.direction = k.direction \
             AND d.document_id = k.document_id \
         ORDER BY d.unit_code, d.direction, d.document_id{lock}",
        engine.placeholders(rows, 3)
    )
}

/// Fails with [`RecordsError::UnknownUnit`] (for the first in key order)
/// when a new entry names a unit the registry does not hold.
async fn refuse_unknown_units(
    connection: &mut AnyConnection,
    engine: Engine,
    new: &[&Merged<'_>],
) -> Result<(), RecordsError> {
    let mut units: Vec<&str> = new.iter().map(|entry| entry.key.0).collect();
    units.dedup();
    let mut known = std::collections::HashSet::new();
    for chunk in units.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT code FROM units WHERE code IN {}",
            engine.placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for unit in chunk {
            query = query.bind(*unit);
        }
        for row in query.fetch_all(&mut *connection).await.map_err(database)? {
            known.insert(text(&row, "code")?);
        }
    }
    match new.iter().find(|entry| !known.contains(entry.key.0)) {
        Some(entry) => Err(RecordsError::UnknownUnit {
            unit: entry.record.unit.clone(),
        }),
        None => Ok(()),
    }
}

/// The columns `insert_entries` and `update_entries` write, in order.
const WRITTEN_COLUMNS: &str = "unit_code, direction, document_id, day, first_recorded_at, \
    channel, organisation_signed_at, organisation_certificate, leader_signed_at, \
    leader_id, leader_certificate, verdict, verified_at, \
    organisation_signature_sha256, leader_signature_sha256, updated_at";

/// Binds one row of [`WRITTEN_COLUMNS`].
fn bind_row<'q>(
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    entry: &'q Merged<'_>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    let query = query
        .bind(entry.key.0)
        .bind(entry.key.1)
        .bind(entry.key.2)
        .bind(entry.after.day)
        .bind(entry.after.first_recorded_at);
    bind_state(query, &entry.after).bind(entry.changed_at.unwrap_or_default())
}

/// Inserts the new entries unless their keys exist; for each (in the
/// order of `new`), whether it was inserted.
async fn insert_entries(
    connection: &mut AnyConnection,
    engine: Engine,
    new: &[&Merged<'_>],
) -> Result<Vec<bool>, RecordsError> {
    let mut inserted = vec![false; new.len()];
    for (chunk_index, chunk) in new.chunks(ROWS_PER_STATEMENT).enumerate() {
        let sql = format!(
            "INSERT INTO documents ({WRITTEN_COLUMNS}) VALUES {} \
             ON CONFLICT (unit_code, direction, document_id) DO NOTHING \
             RETURNING unit_code, direction, document_id",
            engine.placeholders(chunk.len(), 16)
        );
        let mut query = sqlx::query(&sql);
        for entry in chunk {
            query = bind_row(query, entry);
        }
        for row in query.fetch_all(&mut *connection).await.map_err(database)? {
            let (unit, direction, id) = (
                text(&row, "unit_code")?,
                text(&row, "direction")?,
                text(&row, "document_id")?,
            );
            if let Ok(position) = chunk.binary_search_by(|entry| {
                entry
                    .key
                    .0
                    .cmp(unit.as_str())
                    .then(entry.key.1.cmp(direction.as_str()))
                    .then(entry.key.2.cmp(id.as_str()))
            }) {
                inserted[chunk_index * ROWS_PER_STATEMENT + position] = true;
            }
        }
    }
    Ok(inserted)
}

/// Writes the changed entries' state (their rows are locked: read in this
/// transaction, `FOR UPDATE` on PostgreSQL); `updated_at` only moves forward.
async fn update_entries(
    connection: &mut AnyConnection,
    engine: Engine,
    changed: &[&Merged<'_>],
) -> Result<(), RecordsError> {
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO documents ({WRITTEN_COLUMNS}) VALUES {} \
             ON CONFLICT (unit_code, direction, document_id) DO UPDATE SET \
                 channel = excluded.channel, \
                 organisation_signed_at = excluded.organisation_signed_at, \
                 organisation_certificate = excluded.organisation_certificate, \
                 leader_signed_at = excluded.leader_signed_at, \
                 leader_id = excluded.leader_id, \
                 leader_certificate = excluded.leader_certificate, \
                 verdict = excluded.verdict, verified_at = excluded.verified_at, \
                 organisation_signature_sha256 = excluded.organisation_signature_sha256, \
                 leader_signature_sha256 = excluded.leader_signature_sha256, \
                 updated_at = CASE WHEN documents.updated_at < excluded.updated_at \
                     THEN excluded.updated_at ELSE documents.updated_at END",
            engine.placeholders(chunk.len(), 16)
        );
        let mut query = sqlx::query(&sql);
        for entry in chunk {
            query = bind_row(query, entry);
        }
        query.execute(&mut *connection).await.map_err(database)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_finds_its_entries_by_index_search_not_by_scanning_the_ledger() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RecordStore::open(&RecordStore::sqlite_url(&dir.path().join("r.db")))
            .await
            .expect("open");
        let sql = format!(
            "EXPLAIN QUERY PLAN {}",
            read_entries_sql(store.engine, 2, &store.engine.row_lock_of("d"))
        );
        let mut query = sqlx::query(&sql);
        for value in [
            "000.00.01.H23",
            "outgoing",
            "1/QD",
            "000.00.01.H23",
            "outgoing",
            "2/QD",
        ] {
            query = query.bind(value);
        }
        let plan: Vec<String> = query
            .fetch_all(&store.pool)
            .await
            .expect("explain")
            .iter()
            .map(|row| row.try_get::<String, _>("detail").expect("detail"))
            .collect();
        assert!(
            plan.iter().any(|step| step.starts_with("SEARCH d USING")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN d")),
            "{plan:?}"
        );
    }
}
