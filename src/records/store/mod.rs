//! The records store: one implementation over sqlx's `Any` driver for SQLite
//! and PostgreSQL, with the few places where the engines differ gathered in
//! [`Engine`]'s methods.
//!
//! Recording a fact is one write transaction: read the entry (locked with
//! `FOR UPDATE` on PostgreSQL), create it with `INSERT … ON CONFLICT DO
//! NOTHING` when absent, merge the fact, and add the change in the entry's
//! contribution to the counts into `daily_counts` for the entry's day. On
//! SQLite the transaction starts with `BEGIN IMMEDIATE`, which takes the write
//! lock up front and so serialises writers; a deferred `BEGIN` that reads then
//! writes fails with `SQLITE_BUSY_SNAPSHOT` when another writer got in between.
//! On PostgreSQL (read committed) two replicas creating the same entry at once
//! meet at the primary key: the loser's insert waits for the winner, does
//! nothing, and the loser re-reads the committed entry with `FOR UPDATE`.
//!
//! Deadlocks between replicas are avoided by taking row locks in one order:
//! a batch records its documents sorted by key, the evidence of a signing
//! fact is inserted after its entry, and the `daily_counts` rows are updated
//! after every document, sorted by (day, unit).
//!
//! The certificate register and the CRLs (`certificates_sql`) follow the same
//! rules; binary values there are stored as lower-case hex TEXT.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row, Transaction};

use super::RecordsError;
use super::model::{
    AppliedSignature, Channel, DateRange, Direction, DocumentEntry, DocumentId, DocumentRecord,
    Fact, GuardedRecord, RecordOutcome, UnitCounts, Verdict,
};
use crate::datetime::{VIETNAM_OFFSET_SECONDS, VietnamDate};
use crate::units::{
    Leader, LeaderId, Unit, UnitCode, UnitGroup, UnitLevel, UnitRegistry, UnitsError,
};

mod batch_sql;
mod bench_fill;
mod certificates_sql;
mod conversions;
mod counts_sql;
mod entries_sql;
mod evidence_sql;
mod units_sql;
mod writer;

use batch_sql::*;
use bench_fill::*;
use conversions::*;
use counts_sql::*;
use entries_sql::*;
use evidence_sql::*;
use units_sql::*;
pub use writer::RecordWriter;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Run on every new SQLite connection. `busy_timeout` comes first so the
/// others wait for a lock instead of failing; WAL lets readers run beside the
/// writer, and `synchronous=FULL` syncs the WAL on every commit, so an
/// acknowledged record survives a power loss.
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON;";

/// Rows the bench filler inserts per transaction.
const BENCH_CHUNK: u64 = 500_000;

/// The database engine behind a [`RecordStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// SQLite, embedded: a `sqlite:` URL naming a file.
    Sqlite,
    /// PostgreSQL, shared by replicas: a `postgres:` or `postgresql:` URL.
    Postgres,
}

impl Engine {
    /// The engine a URL names by its scheme.
    fn of_url(url: &str) -> Result<Self, RecordsError> {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(RecordsError::DatabaseUrl {
                url: redact_url(url),
                reason: "the scheme must be sqlite:, postgres: or postgresql:",
            }),
        }
    }

    fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// What follows a `SELECT` of the entry about to be changed.
    fn row_lock(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// What follows a `SELECT` that joins to the entries (aliased `alias`)
    /// about to be changed: only their rows are locked.
    /// `(p, p, …), (p, …)`: `rows` groups of `width` parameter markers,
    /// bound in the order they appear.
    ///
    /// SQLite gets anonymous `?` markers. A named or numbered marker (`$7`,
    /// `?7`) goes into a list SQLite searches from its start, once for each
    /// marker when it parses the statement and once for each parameter when
    /// sqlx binds it: a 500-row insert of 16 columns spent more time there
    /// than in writing its rows. PostgreSQL needs `$1, $2, …`.
    pub(super) fn placeholders(self, rows: usize, width: usize) -> String {
        let mut sql = String::with_capacity(rows * width * 5);
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                match self {
                    Self::Sqlite => sql.push('?'),
                    Self::Postgres => {
                        sql.push('$');
                        sql.push_str(&(row * width + column + 1).to_string());
                    }
                }
            }
            sql.push(')');
        }
        sql
    }

    fn row_lock_of(self, alias: &str) -> String {
        match self {
            Self::Sqlite => String::new(),
            Self::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// The statements that give a write transaction exclusive use of
    /// `tables` against other writers while letting readers in. SQLite needs
    /// none: `BEGIN IMMEDIATE` holds the database's only write lock.
    ///
    /// PostgreSQL: `SHARE ROW EXCLUSIVE` conflicts with itself and with the
    /// row writes of recorders, but not with the `FOR KEY SHARE` locks their
    /// foreign-key checks take on `units`, so guarding `units` stops no
    /// recorder.
    fn table_locks(self, tables: &[&str]) -> Vec<String> {
        match self {
            Self::Sqlite => Vec::new(),
            Self::Postgres => tables
                .iter()
                .map(|table| format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
                .collect(),
        }
    }

    /// A common table expression `g(x)` holding the integers `$1..=$2`.
    fn integer_series(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "g(x) AS (SELECT CAST($1 AS INTEGER) UNION ALL SELECT x + 1 FROM g WHERE x < $2)"
            }
            Self::Postgres => {
                "g(x) AS (SELECT generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT)))"
            }
        }
    }
}

/// How many units [`RecordStore::add_units`] added and replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitsAdded {
    /// Units that were new.
    pub added: usize,
    /// Existing units replaced by the given ones.
    pub updated: usize,
}

/// The unit registry, the document ledger with its daily counts and the
/// signing evidence, the certificate register and the CRLs, in SQLite or
/// PostgreSQL. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct RecordStore {
    pool: AnyPool,
    engine: Engine,
    /// The URL without its password, for `Debug`.
    url: String,
}

impl std::fmt::Debug for RecordStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStore")
            .field("engine", &self.engine)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl RecordStore {
    /// Connects to the database at `url` (`sqlite:…` or `postgres://…`) and
    /// brings its schema up to date. A missing SQLite file is created.
    ///
    /// Several processes may open one database at once: on PostgreSQL the
    /// migrator holds an advisory lock while it checks and applies
    /// migrations; on SQLite it runs inside a `BEGIN IMMEDIATE` transaction.
    pub async fn open(url: &str) -> Result<Self, RecordsError> {
        let engine = Engine::of_url(url)?;
        let redacted = redact_url(url);
        let secret = url_password(url);
        let hide = |error: RecordsError| hide_secret(error, secret.as_deref());
        let connect_url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_owned(),
        };
        sqlx::any::install_default_drivers();
        let mut options = AnyPoolOptions::new();
        if engine == Engine::Sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    connection.execute(SQLITE_CONNECTION_PRAGMAS).await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&connect_url)
            .await
            .map_err(database)
            .map_err(hide)?;
        let store = Self {
            pool,
            engine,
            url: redacted,
        };
        store.migrate().await.map_err(hide)?;
        Ok(store)
    }

    /// Applies the engine's migrations. `run_direct` rather than `run`:
    /// `run`'s `Acquire` bound makes the future of [`RecordStore::open`] fail
    /// to be `Send` ("implementation of `Acquire` is not general enough").
    async fn migrate(&self) -> Result<(), RecordsError> {
        let mut connection = self.pool.acquire().await.map_err(database)?;
        let migrator = self.engine.migrator();
        let outcome = match self.engine {
            Engine::Sqlite => {
                // sqlx's SQLite migrator does not lock; the immediate
                // transaction does, and the migrator nests its own
                // transactions inside it as savepoints.
                async {
                    let mut transaction = connection
                        .begin_with("BEGIN IMMEDIATE")
                        .await
                        .map_err(database)?;
                    migrator
                        .run_direct(&mut *transaction)
                        .await
                        .map_err(|error| RecordsError::Migrate(error.to_string()))?;
                    transaction.commit().await.map_err(database)
                }
                .await
            }
            Engine::Postgres => migrator
                .run_direct(&mut *connection)
                .await
                .map_err(|error| RecordsError::Migrate(error.to_string())),
        };
        if outcome.is_err() {
            // A failed PostgreSQL migration may leave its session-level
            // advisory lock held; closing the connection releases it.
            let _ = connection.close().await;
        }
        outcome
    }

    /// The URL of the SQLite database file at `path`, for [`RecordStore::open`].
    pub fn sqlite_url(path: &Path) -> String {
        let mut url = String::from("sqlite:");
        for byte in path.as_os_str().as_encoded_bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                    url.push(char::from(*byte));
                }
                _ => url.push_str(&format!("%{byte:02X}")),
            }
        }
        url.push_str("?mode=rwc");
        url
    }

    /// A fresh SQLite store in `dir`, seeded with the demo province, for
    /// unit tests.
    #[cfg(test)]
    pub(crate) async fn seeded_for_test(dir: &Path) -> Self {
        let store = Self::open(&Self::sqlite_url(&dir.join("r.db")))
            .await
            .expect("open");
        store
            .seed_units(&crate::units::demo_province())
            .await
            .expect("seed");
        store
    }

    /// True when the ledger holds the incoming entry `id` of `unit`, for
    /// unit tests.
    #[cfg(test)]
    pub(crate) async fn holds_incoming(&self, unit: &str, id: &str) -> bool {
        let unit = UnitCode::parse(unit).expect("unit");
        let id = DocumentId::parse(id).expect("id");
        self.entry(&unit, Direction::Incoming, &id)
            .await
            .expect("read")
            .is_some()
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction (see the module documentation).
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, RecordsError> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
        .map_err(database)
    }

    /// [`RecordStore::begin_write`] on a given connection.
    async fn begin_write_on<'c>(
        &self,
        connection: &'c mut AnyConnection,
    ) -> Result<Transaction<'c, Any>, RecordsError> {
        match self.engine {
            Engine::Sqlite => connection.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => connection.begin().await,
        }
        .map_err(database)
    }

    /// Takes the engine's table locks (see [`Engine::table_locks`]).
    async fn lock_tables(
        &self,
        connection: &mut AnyConnection,
        tables: &[&str],
    ) -> Result<(), RecordsError> {
        for statement in self.engine.table_locks(tables) {
            connection
                .execute(statement.as_str())
                .await
                .map_err(database)?;
        }
        Ok(())
    }

    // ----- Units -------------------------------------------------------------------------------

    /// The stored unit registry, in registry order, leaders included.
    pub async fn units(&self) -> Result<UnitRegistry, RecordsError> {
        let mut connection = self.pool.acquire().await.map_err(database)?;
        let units = read_units(&mut connection).await?;
        UnitRegistry::new(units).map_err(|error| RecordsError::Corrupt {
            what: format!("a unit registry that breaks its invariants ({error})"),
        })
    }

    /// Writes `registry` if no unit is stored yet; returns whether it wrote.
    /// Replicas starting together may all call this: one writes, the others
    /// find the table filled.
    pub async fn seed_units(&self, registry: &UnitRegistry) -> Result<bool, RecordsError> {
        let mut transaction = self.begin_write().await?;
        self.lock_tables(&mut transaction, &["units"]).await?;
        let stored: i64 = sqlx::query("SELECT COUNT(*) AS stored FROM units")
            .fetch_one(&mut *transaction)
            .await
            .and_then(|row| row.try_get("stored"))
            .map_err(database)?;
        if stored > 0 {
            return Ok(false);
        }
        let positioned: Vec<(i64, &Unit)> = (0..).zip(registry.units()).collect();
        insert_units(&mut transaction, positioned).await?;
        transaction.commit().await.map_err(database)?;
        Ok(true)
    }

    /// Adds `units` to the registry in one transaction; with
    /// `update_existing`, a unit whose code is stored replaces the stored one
    /// (keeping its place in registry order), otherwise it is refused with
    /// [`RecordsError::UnitExists`]. The whole resulting registry must pass
    /// [`UnitRegistry::new`]; a parent may come later in the same batch.
    pub async fn add_units(
        &self,
        units: Vec<Unit>,
        update_existing: bool,
    ) -> Result<UnitsAdded, RecordsError> {
        let mut seen = std::collections::HashSet::new();
        if let Some(unit) = units.iter().find(|unit| !seen.insert(&unit.code)) {
            return Err(UnitsError::DuplicateUnitCode {
                code: unit.code.clone(),
            }
            .into());
        }
        let mut transaction = self.begin_write().await?;
        self.lock_tables(&mut transaction, &["units"]).await?;
        let mut merged = read_units(&mut transaction).await?;
        let mut added = Vec::new();
        let mut updated = Vec::new();
        for unit in units {
            match merged.iter().position(|stored| stored.code == unit.code) {
                Some(_) if !update_existing => {
                    return Err(RecordsError::UnitExists { unit: unit.code });
                }
                Some(index) => {
                    merged[index] = unit;
                    updated.push(index);
                }
                None => {
                    added.push(merged.len());
                    merged.push(unit);
                }
            }
        }
        let registry = UnitRegistry::new(merged)?;
        let merged = registry.units();
        let next_position = next_unit_position(&mut transaction).await?;
        let new_units = (next_position..)
            .zip(added.iter().map(|&index| &merged[index]))
            .collect();
        insert_units(&mut transaction, new_units).await?;
        for &index in &updated {
            update_unit(&mut transaction, &merged[index]).await?;
        }
        transaction.commit().await.map_err(database)?;
        Ok(UnitsAdded {
            added: added.len(),
            updated: updated.len(),
        })
    }

    // ----- Recording ---------------------------------------------------------------------------

    /// Records one fact, committed before this returns. A signing fact that
    /// carries its `signature_sha256` also stores its evidence (see
    /// [`RecordStore::signature_evidence`]) in the same transaction.
    pub async fn record(&self, record: &DocumentRecord) -> Result<RecordOutcome, RecordsError> {
        let outcomes = self
            .record_batch(&[Guarded {
                record,
                unrevoked_certificate: None,
            }])
            .await?;
        outcomes
            .into_iter()
            .next()
            .ok_or_else(|| RecordsError::Database("recording one fact gave no outcome".to_string()))
    }

    /// Records every fact in one transaction: all are stored or, on the
    /// first error, none. A document named twice counts once; the outcomes
    /// are in the order of `records`, each as if recorded one after another.
    pub async fn record_all(
        &self,
        records: &[DocumentRecord],
    ) -> Result<Vec<RecordOutcome>, RecordsError> {
        let batch: Vec<Guarded<'_>> = records
            .iter()
            .map(|record| Guarded {
                record,
                unrevoked_certificate: None,
            })
            .collect();
        self.record_batch(&batch).await
    }

    /// [`RecordStore::record_all`] for facts that may each name a
    /// certificate that must not be revoked when they are committed: if the
    /// register lists one as revoked, nothing is stored and the call fails
    /// with [`RecordsError::CertificateRevoked`]. Read in the recording
    /// transaction, so a signature is acknowledged only while its
    /// certificate stands.
    pub async fn record_guarded(
        &self,
        records: &[GuardedRecord],
    ) -> Result<Vec<RecordOutcome>, RecordsError> {
        self.record_batch(&Guarded::all(records)).await
    }

    /// Merges one fact into its entry inside a write transaction, reading
    /// (and on PostgreSQL locking) the entry alone, and adds the change of
    /// the entry's contribution to `deltas`.
    async fn merge_in(
        &self,
        connection: &mut AnyConnection,
        record: &DocumentRecord,
        deltas: &mut CountDeltas,
    ) -> Result<RecordOutcome, RecordsError> {
        let direction = record.fact.direction();
        let at = micros(record.at);
        let lock = self.engine.row_lock();
        let mut stored = read_entry(
            connection,
            &record.unit,
            direction,
            &record.document_id,
            lock,
        )
        .await?;
        if stored.is_none() {
            if !unit_exists(connection, &record.unit).await? {
                return Err(RecordsError::UnknownUnit {
                    unit: record.unit.clone(),
                });
            }
            let mut entry = StoredEntry::first(record);
            entry.merge(&record.fact, at);
            if insert_entry(connection, record, direction, &entry, at).await? {
                deltas.add(&record.unit, entry.day, direction, None, &entry);
                return Ok(RecordOutcome::Created);
            }
            // Another replica created it since we looked; its transaction has
            // committed (our insert waited for it), so the entry is visible.
            stored = read_entry(
                connection,
                &record.unit,
                direction,
                &record.document_id,
                lock,
            )
            .await?;
        }
        let Some(before) = stored else {
            return Err(RecordsError::Database(format!(
                "document {} of unit {} was neither inserted nor found",
                record.document_id, record.unit
            )));
        };
        let mut after = before.clone();
        after.merge(&record.fact, at);
        if after == before {
            return Ok(RecordOutcome::Unchanged);
        }
        update_entry(connection, record, direction, &after, at).await?;
        deltas.add(&record.unit, after.day, direction, Some(&before), &after);
        Ok(RecordOutcome::Updated)
    }

    // ----- Reading -----------------------------------------------------------------------------

    /// The ledger entry of one document, if recorded.
    pub async fn entry(
        &self,
        unit: &UnitCode,
        direction: Direction,
        id: &DocumentId,
    ) -> Result<Option<DocumentEntry>, RecordsError> {
        let sql = format!(
            "SELECT unit_code, direction, document_id, {ENTRY_COLUMNS} FROM documents \
             WHERE unit_code = $1 AND direction = $2 AND document_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(unit.as_str())
            .bind(direction.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(database)?;
        row.map(|row| document_entry(&row)).transpose()
    }

    /// Each unit's counts over `range`, from the daily aggregates, in registry
    /// order; a unit without documents in the range may be absent.
    pub async fn counts(
        &self,
        range: DateRange,
    ) -> Result<Vec<(UnitCode, UnitCounts)>, RecordsError> {
        let sql = format!(
            "SELECT c.unit_code AS unit_code, {} FROM daily_counts c \
             JOIN units u ON u.code = c.unit_code \
             WHERE c.day >= $1 AND c.day <= $2 \
             GROUP BY c.unit_code, u.position ORDER BY u.position",
            COUNT_COLUMNS
                .iter()
                .map(|column| format!("CAST(SUM(c.{column}) AS BIGINT) AS {column}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.fetch_counts(&sql, range).await
    }

    /// The same figures as [`RecordStore::counts`], recounted from the
    /// ledger entries: slow on a large ledger, but a check on the aggregates.
    pub async fn counts_from_entries(
        &self,
        range: DateRange,
    ) -> Result<Vec<(UnitCode, UnitCounts)>, RecordsError> {
        let sql = format!(
            "SELECT d.unit_code AS unit_code, {CONTRIBUTION_SUMS} FROM documents d \
             JOIN units u ON u.code = d.unit_code \
             WHERE d.day >= $1 AND d.day <= $2 \
             GROUP BY d.unit_code, u.position ORDER BY u.position"
        );
        self.fetch_counts(&sql, range).await
    }

    async fn fetch_counts(
        &self,
        sql: &str,
        range: DateRange,
    ) -> Result<Vec<(UnitCode, UnitCounts)>, RecordsError> {
        let rows = sqlx::query(sql)
            .bind(range.first.day_number())
            .bind(range.last.day_number())
            .fetch_all(&self.pool)
            .await
            .map_err(database)?;
        rows.iter()
            .map(|row| {
                let unit = unit_code(&text(row, "unit_code")?)?;
                let count = |column: &str| -> Result<u64, RecordsError> {
                    let value: i64 = row.try_get(column).map_err(database)?;
                    u64::try_from(value).map_err(|_| RecordsError::Corrupt {
                        what: format!("a negative {column} count ({value}) for unit {unit}"),
                    })
                };
                let counts = UnitCounts {
                    incoming_total: count("incoming_total")?,
                    incoming_electronic: count("incoming_electronic")?,
                    outgoing_total: count("outgoing_total")?,
                    outgoing_electronic: count("outgoing_electronic")?,
                    organisation_signed: count("organisation_signed")?,
                    leader_signed: count("leader_signed")?,
                };
                Ok((unit, counts))
            })
            .collect()
    }

    /// Up to `limit` entries counted in `range`, in export order: by date,
    /// then unit code, stored direction name and document id (text compared
    /// as bytes). `after` is the key of the last entry of the previous page
    /// (`None` for the first page); a key that names no entry is refused.
    ///
    /// The order starts with the date so that every page is a range scan of
    /// the `documents_by_day` index: an export costs what it returns, however
    /// large the ledger, instead of sorting the whole period for each page.
    pub async fn entries(
        &self,
        range: DateRange,
        after: Option<&(UnitCode, Direction, DocumentId)>,
        limit: u32,
    ) -> Result<Vec<DocumentEntry>, RecordsError> {
        let mut connection = self.pool.acquire().await.map_err(database)?;
        let select =
            format!("SELECT unit_code, direction, document_id, {ENTRY_COLUMNS} FROM documents");
        let order = "ORDER BY day, unit_code, direction, document_id LIMIT $3";
        let cursor = match after {
            None => None,
            Some((unit, direction, id)) => {
                // The cursor's date: entries are never deleted and keep their
                // date, so the key of a returned entry always finds it.
                let day: Option<i64> = sqlx::query(
                    "SELECT day FROM documents \
                     WHERE unit_code = $1 AND direction = $2 AND document_id = $3",
                )
                .bind(unit.as_str())
                .bind(direction.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut *connection)
                .await
                .and_then(|row| row.map(|row| row.try_get("day")).transpose())
                .map_err(database)?;
                match day {
                    None => {
                        return Err(RecordsError::Database(format!(
                            "the export cursor names no entry (document {id}, {}, of unit {unit})",
                            direction.as_str()
                        )));
                    }
                    // Every entry of the range comes after a cursor dated before it.
                    Some(day) if day < range.first.day_number() => None,
                    Some(day) => Some((day, unit, direction, id)),
                }
            }
        };
        let rows = match cursor {
            None => {
                let sql = format!("{select} WHERE day >= $1 AND day <= $2 {order}");
                sqlx::query(&sql)
                    .bind(range.first.day_number())
                    .bind(range.last.day_number())
                    .bind(i64::from(limit))
                    .fetch_all(&mut *connection)
                    .await
            }
            Some((day, unit, direction, id)) => {
                // The row value alone bounds the start of the index scan (a
                // separate `day >= $1` would make SQLite start the scan at
                // the first day and filter up to the cursor on every page).
                let sql = format!(
                    "{select} WHERE day <= $2 \
                     AND (day, unit_code, direction, document_id) > ($1, $4, $5, $6) {order}"
                );
                sqlx::query(&sql)
                    .bind(day)
                    .bind(range.last.day_number())
                    .bind(i64::from(limit))
                    .bind(unit.as_str())
                    .bind(direction.as_str())
                    .bind(id.as_str())
                    .fetch_all(&mut *connection)
                    .await
            }
        }
        .map_err(database)?;
        rows.iter().map(document_entry).collect()
    }

    // ----- Maintenance -------------------------------------------------------------------------

    /// Recomputes `daily_counts` from the ledger in one transaction, holding
    /// recorders off meanwhile.
    pub async fn rebuild_daily_counts(&self) -> Result<(), RecordsError> {
        let mut transaction = self.begin_write().await?;
        // The ledger first, as recorders lock it first.
        self.lock_tables(&mut transaction, &["documents", "daily_counts"])
            .await?;
        transaction
            .execute("DELETE FROM daily_counts")
            .await
            .map_err(database)?;
        let sql = format!(
            "INSERT INTO daily_counts (unit_code, day, {}) \
             SELECT d.unit_code, d.day, {CONTRIBUTION_SUMS} FROM documents d \
             GROUP BY d.unit_code, d.day",
            COUNT_COLUMNS.join(", ")
        );
        transaction.execute(sql.as_str()).await.map_err(database)?;
        transaction.commit().await.map_err(database)
    }

    /// Inserts `entries` synthetic ledger entries (ids `bench-<seed>-1<n>`,
    /// `n` padded to ten digits so ids sort like their numbers)
    /// spread evenly over `units` and pseudo-randomly over the days of
    /// `range`, with a fixed mix derived from `seed` (about 80 % electronic;
    /// outgoing 70 % organisation- and 60 % leader-signed; incoming 70 %
    /// passed, 10 % failed, 5 % indeterminate, 15 % unverified), then
    /// refreshes the planner statistics and rebuilds `daily_counts`.
    ///
    /// Bulk SQL in transactions of 500 000 rows, generated by the database
    /// (`generate_series` on PostgreSQL, a recursive CTE on SQLite), so that
    /// benchmarks can build a ledger of millions of entries in minutes.
    /// Running it again with the same seed adds nothing.
    #[doc(hidden)]
    pub async fn fill_for_bench(
        &self,
        units: &[UnitCode],
        entries: u64,
        range: DateRange,
        seed: u64,
    ) -> Result<(), RecordsError> {
        if units.is_empty() || entries == 0 {
            return Ok(());
        }
        {
            let mut connection = self.pool.acquire().await.map_err(database)?;
            for unit in units {
                if !unit_exists(&mut connection, unit).await? {
                    return Err(RecordsError::UnknownUnit { unit: unit.clone() });
                }
            }
        }
        let sql = bench_insert_sql(self.engine, units, range, seed);
        let last = i64::try_from(entries).unwrap_or(i64::MAX) - 1;
        let chunk = i64::try_from(BENCH_CHUNK).unwrap_or(i64::MAX);
        let mut start = 0_i64;
        while start <= last {
            let end = last.min(start.saturating_add(chunk - 1));
            let mut transaction = self.begin_write().await?;
            sqlx::query(&sql)
                .bind(start)
                .bind(end)
                .execute(&mut *transaction)
                .await
                .map_err(database)?;
            transaction.commit().await.map_err(database)?;
            start = end + 1;
        }
        self.pool.execute("ANALYZE").await.map_err(database)?;
        self.rebuild_daily_counts().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redact_url("postgres://kyso:s3cr%40t@db.example:5432/kyso?sslmode=require"),
            "postgres://kyso:***@db.example:5432/kyso?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/kyso?user=kyso&password=hunter2"),
            "postgres://db/kyso?user=kyso&password=***"
        );
        assert_eq!(
            redact_url("sqlite:/var/lib/kyso/records.db"),
            "sqlite:/var/lib/kyso/records.db"
        );
        assert_eq!(
            url_password("postgresql://kyso:hunter2@db/kyso").as_deref(),
            Some("hunter2")
        );
        assert_eq!(url_password("postgres://kyso@db/kyso"), None);
    }

    #[test]
    fn the_engine_follows_the_url_scheme() {
        assert_eq!(
            Engine::of_url("sqlite:records.db").ok(),
            Some(Engine::Sqlite)
        );
        assert_eq!(
            Engine::of_url("postgres://db/kyso").ok(),
            Some(Engine::Postgres)
        );
        assert_eq!(
            Engine::of_url("postgresql://db/kyso").ok(),
            Some(Engine::Postgres)
        );
        match Engine::of_url("mysql://root:hunter2@db/kyso") {
            Err(RecordsError::DatabaseUrl { url, .. }) => {
                assert_eq!(url, "mysql://root:***@db/kyso");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_escape_what_a_url_would_misread() {
        assert_eq!(
            RecordStore::sqlite_url(Path::new("/data/kyso records/a?b#c.db")),
            "sqlite:/data/kyso%20records/a%3Fb%23c.db?mode=rwc"
        );
    }

    #[test]
    fn instants_round_trip_through_microseconds() {
        let at = UNIX_EPOCH + Duration::from_micros(1_777_000_000_123_456);
        assert_eq!(instant(micros(at)), at);
        let before = UNIX_EPOCH - Duration::from_micros(5);
        assert_eq!(micros(before), -5);
        assert_eq!(instant(-5), before);
    }

    #[test]
    fn a_later_verification_wins_and_a_late_older_one_does_not() {
        let record = DocumentRecord {
            unit: UnitCode::parse("000.00.01.H23").unwrap(),
            document_id: DocumentId::parse("12/STC").unwrap(),
            at: UNIX_EPOCH + Duration::from_secs(1_777_000_000),
            fact: Fact::Verified {
                verdict: Verdict::Failed,
            },
        };
        let mut entry = StoredEntry::first(&record);
        entry.merge(&record.fact, 10);
        entry.merge(
            &Fact::Verified {
                verdict: Verdict::Passed,
            },
            20,
        );
        entry.merge(
            &Fact::Verified {
                verdict: Verdict::Failed,
            },
            15,
        );
        assert_eq!(entry.verdict, Some((Verdict::Passed, 20)));
        assert_eq!(entry.contribution(Direction::Incoming), [1, 1, 0, 0, 0, 0]);
    }
}
