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
//! a batch records its documents sorted by key, and the `daily_counts` rows
//! are updated after every document, sorted by (day, unit).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row, Transaction};

use super::RecordsError;
use super::model::{
    AppliedSignature, Channel, DateRange, Direction, DocumentEntry, DocumentId, DocumentRecord,
    Fact, RecordOutcome, UnitCounts, Verdict,
};
use crate::datetime::{VIETNAM_OFFSET_SECONDS, VietnamDate};
use crate::units::{
    Leader, LeaderId, Unit, UnitCode, UnitGroup, UnitLevel, UnitRegistry, UnitsError,
};

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

/// The unit registry and the document ledger with its daily counts, in SQLite
/// or PostgreSQL. Cheap to clone: clones share one connection pool.
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

    /// Records one fact, committed before this returns.
    pub async fn record(&self, record: &DocumentRecord) -> Result<RecordOutcome, RecordsError> {
        check_fact(record)?;
        let mut transaction = self.begin_write().await?;
        let mut deltas = CountDeltas::new();
        let outcome = self
            .record_in(&mut transaction, record, &mut deltas)
            .await?;
        apply_deltas(&mut transaction, &deltas).await?;
        transaction.commit().await.map_err(database)?;
        Ok(outcome)
    }

    /// Records every fact in one transaction: all are stored or, on the
    /// first error, none. A document named twice counts once; the outcomes
    /// are in the order of `records`, each as if recorded one after another.
    pub async fn record_all(
        &self,
        records: &[DocumentRecord],
    ) -> Result<Vec<RecordOutcome>, RecordsError> {
        for record in records {
            check_fact(record)?;
        }
        // Row locks in key order: two replicas recording overlapping batches
        // cannot deadlock. The sort is stable, so one document's facts keep
        // their order.
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by(|&a, &b| entry_key(&records[a]).cmp(&entry_key(&records[b])));
        let mut outcomes = vec![RecordOutcome::Unchanged; records.len()];
        let mut transaction = self.begin_write().await?;
        let mut deltas = CountDeltas::new();
        for index in order {
            outcomes[index] = self
                .record_in(&mut transaction, &records[index], &mut deltas)
                .await?;
        }
        apply_deltas(&mut transaction, &deltas).await?;
        transaction.commit().await.map_err(database)?;
        Ok(outcomes)
    }

    /// Merges one fact into its entry inside a write transaction, adding the
    /// change of the entry's contribution to `deltas`.
    async fn record_in(
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

// ----- Units in SQL ------------------------------------------------------------------------------

async fn read_units(connection: &mut AnyConnection) -> Result<Vec<Unit>, RecordsError> {
    // One statement, so units and leaders come from one snapshot.
    let rows = sqlx::query(
        "SELECT u.code, u.name, u.level, u.unit_group, u.parent, \
                l.leader_id, l.full_name \
         FROM units u LEFT JOIN leaders l ON l.unit_code = u.code \
         ORDER BY u.position, l.position",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(database)?;
    let mut units: Vec<Unit> = Vec::new();
    for row in &rows {
        let code = unit_code(&text(row, "code")?)?;
        if units.last().is_none_or(|unit| unit.code != code) {
            let parent: Option<String> = row.try_get("parent").map_err(database)?;
            units.push(Unit {
                name: text(row, "name")?,
                level: level_of(&text(row, "level")?)?,
                group: group_of(&text(row, "unit_group")?)?,
                parent: parent.as_deref().map(unit_code).transpose()?,
                leaders: Vec::new(),
                code,
            });
        }
        let leader: Option<String> = row.try_get("leader_id").map_err(database)?;
        if let (Some(leader), Some(unit)) = (leader, units.last_mut()) {
            unit.leaders.push(Leader {
                id: leader_id(&leader)?,
                full_name: text(row, "full_name")?,
            });
        }
    }
    Ok(units)
}

/// Inserts units with their leaders, parents before children: a parent sits
/// at a higher level than its child in any valid registry, so ordering by
/// level satisfies the foreign key.
async fn insert_units(
    connection: &mut AnyConnection,
    mut units: Vec<(i64, &Unit)>,
) -> Result<(), RecordsError> {
    units.sort_by_key(|(_, unit)| unit.level);
    for (position, unit) in units {
        sqlx::query(
            "INSERT INTO units (code, name, level, unit_group, parent, position) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(unit.code.as_str())
        .bind(unit.name.as_str())
        .bind(level_name(unit.level))
        .bind(group_name(unit.group))
        .bind(unit.parent.as_ref().map(UnitCode::as_str))
        .bind(position)
        .execute(&mut *connection)
        .await
        .map_err(database)?;
        insert_leaders(connection, unit).await?;
    }
    Ok(())
}

async fn insert_leaders(connection: &mut AnyConnection, unit: &Unit) -> Result<(), RecordsError> {
    for (position, leader) in (0_i64..).zip(&unit.leaders) {
        sqlx::query(
            "INSERT INTO leaders (unit_code, leader_id, full_name, position) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(unit.code.as_str())
        .bind(leader.id.as_str())
        .bind(leader.full_name.as_str())
        .bind(position)
        .execute(&mut *connection)
        .await
        .map_err(database)?;
    }
    Ok(())
}

/// Replaces a stored unit's fields and leaders; its position stays.
async fn update_unit(connection: &mut AnyConnection, unit: &Unit) -> Result<(), RecordsError> {
    sqlx::query(
        "UPDATE units SET name = $2, level = $3, unit_group = $4, parent = $5 WHERE code = $1",
    )
    .bind(unit.code.as_str())
    .bind(unit.name.as_str())
    .bind(level_name(unit.level))
    .bind(group_name(unit.group))
    .bind(unit.parent.as_ref().map(UnitCode::as_str))
    .execute(&mut *connection)
    .await
    .map_err(database)?;
    sqlx::query("DELETE FROM leaders WHERE unit_code = $1")
        .bind(unit.code.as_str())
        .execute(&mut *connection)
        .await
        .map_err(database)?;
    insert_leaders(connection, unit).await
}

async fn next_unit_position(connection: &mut AnyConnection) -> Result<i64, RecordsError> {
    sqlx::query("SELECT CAST(COALESCE(MAX(position), -1) + 1 AS BIGINT) AS next FROM units")
        .fetch_one(&mut *connection)
        .await
        .and_then(|row| row.try_get("next"))
        .map_err(database)
}

async fn unit_exists(
    connection: &mut AnyConnection,
    unit: &UnitCode,
) -> Result<bool, RecordsError> {
    let row = sqlx::query("SELECT 1 AS found FROM units WHERE code = $1")
        .bind(unit.as_str())
        .fetch_optional(&mut *connection)
        .await
        .map_err(database)?;
    Ok(row.is_some())
}

fn level_name(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Province => "province",
        UnitLevel::District => "district",
        UnitLevel::Commune => "commune",
    }
}

fn level_of(name: &str) -> Result<UnitLevel, RecordsError> {
    match name {
        "province" => Ok(UnitLevel::Province),
        "district" => Ok(UnitLevel::District),
        "commune" => Ok(UnitLevel::Commune),
        other => Err(corrupt("unit level", other)),
    }
}

fn group_name(group: UnitGroup) -> &'static str {
    match group {
        UnitGroup::ProvinceOffice => "province_office",
        UnitGroup::Department => "department",
        UnitGroup::District => "district",
        UnitGroup::Commune => "commune",
    }
}

fn group_of(name: &str) -> Result<UnitGroup, RecordsError> {
    match name {
        "province_office" => Ok(UnitGroup::ProvinceOffice),
        "department" => Ok(UnitGroup::Department),
        "district" => Ok(UnitGroup::District),
        "commune" => Ok(UnitGroup::Commune),
        other => Err(corrupt("unit group", other)),
    }
}

// ----- Ledger entries ----------------------------------------------------------------------------

/// The columns of a ledger entry after its key.
const ENTRY_COLUMNS: &str = "day, first_recorded_at, channel, \
    organisation_signed_at, organisation_certificate, \
    leader_signed_at, leader_id, leader_certificate, verdict, verified_at";

/// The mutable state of one ledger entry, as stored (instants in unix
/// microseconds), compared to tell a change from a repetition.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StoredEntry {
    day: i64,
    first_recorded_at: i64,
    channel: Channel,
    /// When and with which certificate.
    organisation: Option<(i64, String)>,
    /// When, by whom (absent when reported) and with which certificate.
    leader: Option<(i64, Option<String>, String)>,
    /// The latest verdict and when it was reached.
    verdict: Option<(Verdict, i64)>,
}

impl StoredEntry {
    /// A new entry for the first fact about a document, before merging it:
    /// dated by the fact, electronic unless a document system says otherwise.
    fn first(record: &DocumentRecord) -> Self {
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

    /// Merges a fact: the first signature of each kind stays; the latest
    /// verification (by its instant) wins; a report sets the channel and may
    /// add, never remove, a signature applied outside kyso.
    fn merge(&mut self, fact: &Fact, at: i64) {
        match fact {
            Fact::OrganisationSigned { certificate_serial } => {
                if self.organisation.is_none() {
                    self.organisation = Some((at, certificate_serial.clone()));
                }
            }
            Fact::LeaderSigned {
                leader,
                certificate_serial,
            } => {
                if self.leader.is_none() {
                    self.leader = Some((
                        at,
                        Some(leader.as_str().to_owned()),
                        certificate_serial.clone(),
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
                    self.organisation = Some((at, String::new()));
                }
                if *leader_signed && self.leader.is_none() {
                    self.leader = Some((at, None, String::new()));
                }
            }
        }
    }

    /// What this entry adds to its unit's counts for its day, in the order
    /// of [`COUNT_COLUMNS`]. Must agree with [`CONTRIBUTION_SUMS`].
    fn contribution(&self, direction: Direction) -> [i64; 6] {
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
fn check_fact(record: &DocumentRecord) -> Result<(), RecordsError> {
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
    Ok(())
}

fn entry_key(record: &DocumentRecord) -> (&str, &'static str, &str) {
    (
        record.unit.as_str(),
        record.fact.direction().as_str(),
        record.document_id.as_str(),
    )
}

async fn read_entry(
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
async fn insert_entry(
    connection: &mut AnyConnection,
    record: &DocumentRecord,
    direction: Direction,
    entry: &StoredEntry,
    at: i64,
) -> Result<bool, RecordsError> {
    let result = sqlx::query(
        "INSERT INTO documents (unit_code, direction, document_id, day, first_recorded_at, \
             channel, organisation_signed_at, organisation_certificate, leader_signed_at, \
             leader_id, leader_certificate, verdict, verified_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (unit_code, direction, document_id) DO NOTHING",
    )
    .bind(record.unit.as_str())
    .bind(direction.as_str())
    .bind(record.document_id.as_str())
    .bind(entry.day)
    .bind(entry.first_recorded_at)
    .bind(entry.channel.as_str())
    .bind(entry.organisation.as_ref().map(|(at, _)| *at))
    .bind(
        entry
            .organisation
            .as_ref()
            .map(|(_, serial)| serial.as_str()),
    )
    .bind(entry.leader.as_ref().map(|(at, _, _)| *at))
    .bind(
        entry
            .leader
            .as_ref()
            .and_then(|(_, leader, _)| leader.as_deref()),
    )
    .bind(entry.leader.as_ref().map(|(_, _, serial)| serial.as_str()))
    .bind(entry.verdict.map(|(verdict, _)| verdict.as_str()))
    .bind(entry.verdict.map(|(_, at)| at))
    .bind(at)
    .execute(&mut *connection)
    .await
    .map_err(database)?;
    Ok(result.rows_affected() == 1)
}

/// Writes an entry's mutable columns; `updated_at` only moves forward.
async fn update_entry(
    connection: &mut AnyConnection,
    record: &DocumentRecord,
    direction: Direction,
    entry: &StoredEntry,
    at: i64,
) -> Result<(), RecordsError> {
    sqlx::query(
        "UPDATE documents SET channel = $4, organisation_signed_at = $5, \
             organisation_certificate = $6, leader_signed_at = $7, leader_id = $8, \
             leader_certificate = $9, verdict = $10, verified_at = $11, \
             updated_at = CASE WHEN updated_at < $12 THEN $12 ELSE updated_at END \
         WHERE unit_code = $1 AND direction = $2 AND document_id = $3",
    )
    .bind(record.unit.as_str())
    .bind(direction.as_str())
    .bind(record.document_id.as_str())
    .bind(entry.channel.as_str())
    .bind(entry.organisation.as_ref().map(|(at, _)| *at))
    .bind(
        entry
            .organisation
            .as_ref()
            .map(|(_, serial)| serial.as_str()),
    )
    .bind(entry.leader.as_ref().map(|(at, _, _)| *at))
    .bind(
        entry
            .leader
            .as_ref()
            .and_then(|(_, leader, _)| leader.as_deref()),
    )
    .bind(entry.leader.as_ref().map(|(_, _, serial)| serial.as_str()))
    .bind(entry.verdict.map(|(verdict, _)| verdict.as_str()))
    .bind(entry.verdict.map(|(_, at)| at))
    .bind(at)
    .execute(&mut *connection)
    .await
    .map_err(database)?;
    Ok(())
}

fn stored_entry(row: &AnyRow) -> Result<StoredEntry, RecordsError> {
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
        )),
        None => None,
    };
    let leader = match optional_integer("leader_signed_at")? {
        Some(at) => Some((
            at,
            optional_text("leader_id")?,
            optional_text("leader_certificate")?.unwrap_or_default(),
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

fn document_entry(row: &AnyRow) -> Result<DocumentEntry, RecordsError> {
    let stored = stored_entry(row)?;
    let leader_signature = match stored.leader {
        Some((at, leader, certificate_serial)) => Some(AppliedSignature {
            at: instant(at),
            leader: leader.as_deref().map(leader_id).transpose()?,
            certificate_serial,
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
        organisation_signature: stored.organisation.map(|(at, certificate_serial)| {
            AppliedSignature {
                at: instant(at),
                leader: None,
                certificate_serial,
            }
        }),
        leader_signature,
        verdict: stored.verdict.map(|(verdict, _)| verdict),
    })
}

fn direction_of(name: &str) -> Result<Direction, RecordsError> {
    [Direction::Outgoing, Direction::Incoming]
        .into_iter()
        .find(|direction| direction.as_str() == name)
        .ok_or_else(|| corrupt("direction", name))
}

fn channel_of(name: &str) -> Result<Channel, RecordsError> {
    [Channel::Electronic, Channel::Paper]
        .into_iter()
        .find(|channel| channel.as_str() == name)
        .ok_or_else(|| corrupt("channel", name))
}

fn verdict_of(name: &str) -> Result<Verdict, RecordsError> {
    [Verdict::Passed, Verdict::Failed, Verdict::Indeterminate]
        .into_iter()
        .find(|verdict| verdict.as_str() == name)
        .ok_or_else(|| corrupt("verdict", name))
}

// ----- Daily counts ------------------------------------------------------------------------------

/// The count columns of `daily_counts`, in the order of
/// [`StoredEntry::contribution`] and [`UnitCounts`]'s fields.
const COUNT_COLUMNS: [&str; 6] = [
    "incoming_total",
    "incoming_electronic",
    "outgoing_total",
    "outgoing_electronic",
    "organisation_signed",
    "leader_signed",
];

/// The sums of the entries' contributions over the rows of `documents d`,
/// named like [`COUNT_COLUMNS`]; the SQL twin of
/// [`StoredEntry::contribution`].
const CONTRIBUTION_SUMS: &str = "\
    CAST(SUM(CASE WHEN d.direction = 'incoming' THEN 1 ELSE 0 END) AS BIGINT) \
        AS incoming_total, \
    CAST(SUM(CASE WHEN d.direction = 'incoming' AND d.channel = 'electronic' \
        AND d.verdict = 'total_passed' THEN 1 ELSE 0 END) AS BIGINT) AS incoming_electronic, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' THEN 1 ELSE 0 END) AS BIGINT) \
        AS outgoing_total, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' AND d.channel = 'electronic' \
        THEN 1 ELSE 0 END) AS BIGINT) AS outgoing_electronic, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' AND d.organisation_signed_at IS NOT NULL \
        THEN 1 ELSE 0 END) AS BIGINT) AS organisation_signed, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' AND d.leader_signed_at IS NOT NULL \
        THEN 1 ELSE 0 END) AS BIGINT) AS leader_signed";

/// Changes to `daily_counts` gathered in a transaction, keyed (and so
/// applied) in (day, unit) order.
struct CountDeltas(BTreeMap<(i64, String), [i64; 6]>);

impl CountDeltas {
    fn new() -> Self {
        Self(BTreeMap::new())
    }

    fn add(
        &mut self,
        unit: &UnitCode,
        day: i64,
        direction: Direction,
        before: Option<&StoredEntry>,
        after: &StoredEntry,
    ) {
        let before = before.map_or([0; 6], |entry| entry.contribution(direction));
        let after = after.contribution(direction);
        if before == after {
            return;
        }
        let delta = self
            .0
            .entry((day, unit.as_str().to_owned()))
            .or_insert([0; 6]);
        for ((sum, after), before) in delta.iter_mut().zip(after).zip(before) {
            *sum += after - before;
        }
    }
}

async fn apply_deltas(
    connection: &mut AnyConnection,
    deltas: &CountDeltas,
) -> Result<(), RecordsError> {
    for ((day, unit), delta) in &deltas.0 {
        if delta.iter().all(|&change| change == 0) {
            continue;
        }
        let mut query = sqlx::query(
            "INSERT INTO daily_counts (unit_code, day, incoming_total, incoming_electronic, \
                 outgoing_total, outgoing_electronic, organisation_signed, leader_signed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (day, unit_code) DO UPDATE SET \
                 incoming_total = daily_counts.incoming_total + excluded.incoming_total, \
                 incoming_electronic = \
                     daily_counts.incoming_electronic + excluded.incoming_electronic, \
                 outgoing_total = daily_counts.outgoing_total + excluded.outgoing_total, \
                 outgoing_electronic = \
                     daily_counts.outgoing_electronic + excluded.outgoing_electronic, \
                 organisation_signed = \
                     daily_counts.organisation_signed + excluded.organisation_signed, \
                 leader_signed = daily_counts.leader_signed + excluded.leader_signed",
        )
        .bind(unit.as_str())
        .bind(*day);
        for change in delta {
            query = query.bind(*change);
        }
        query.execute(&mut *connection).await.map_err(database)?;
    }
    Ok(())
}

// ----- Bench filler ------------------------------------------------------------------------------

/// The `INSERT … SELECT` that writes bench entries `$1..=$2`. Unit codes are
/// written into the SQL as literals: their grammar (digits, dots, one
/// upper-case letter) holds no quote.
fn bench_insert_sql(engine: Engine, units: &[UnitCode], range: DateRange, seed: u64) -> String {
    let unit_rows = (0..)
        .zip(units)
        .map(|(index, unit): (u64, _)| format!("({index}, '{}')", unit.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let unit_count = units.len();
    let first_day = range.first.day_number();
    let days = range.last.day_number() - first_day + 1;
    // Three multiplicative hashes of the entry number, each keeping its high
    // 16 bits; the constants are odd and fit, multiplied by 10^8 entries, in
    // 63 bits.
    let salt = seed % (1 << 32);
    let day_micros = 86_400_000_000_i64;
    let offset_micros = VIETNAM_OFFSET_SECONDS * 1_000_000;
    format!(
        "WITH RECURSIVE {series}, \
         u(i, code) AS (VALUES {unit_rows}), \
         h(x, a, b, c) AS (SELECT x, \
             ((x * 2654435761 + {salt}) % 4294967296) / 65536, \
             ((x * 2246822519 + {salt}) % 4294967296) / 65536, \
             ((x * 3266489917 + {salt}) % 4294967296) / 65536 FROM g), \
         r AS (SELECT x, a, b, c, \
             {first_day} + a % {days} AS day, \
             CASE WHEN b % 2 = 0 THEN 'outgoing' ELSE 'incoming' END AS direction, \
             ({first_day} + a % {days}) * {day_micros} - {offset_micros} \
                 + (c * 1318699) % {day_micros} AS at \
             FROM h) \
         INSERT INTO documents (unit_code, direction, document_id, day, first_recorded_at, \
             channel, organisation_signed_at, organisation_certificate, leader_signed_at, \
             leader_id, leader_certificate, verdict, verified_at, updated_at) \
         SELECT u.code, r.direction, 'bench-{seed}-' || CAST(10000000000 + r.x AS TEXT), r.day, r.at, \
             CASE WHEN (r.b / 2) % 10 < 8 THEN 'electronic' ELSE 'paper' END, \
             CASE WHEN r.direction = 'outgoing' AND r.c % 10 < 7 THEN r.at + 60000000 END, \
             CASE WHEN r.direction = 'outgoing' AND r.c % 10 < 7 THEN '0A1B2C3D' END, \
             CASE WHEN r.direction = 'outgoing' AND (r.c / 10) % 10 < 6 \
                 THEN r.at + 30000000 END, \
             CASE WHEN r.direction = 'outgoing' AND (r.c / 10) % 10 < 6 \
                     AND (r.c / 100) % 4 > 0 THEN 'bench-leader' END, \
             CASE WHEN r.direction = 'outgoing' AND (r.c / 10) % 10 < 6 \
                 THEN '4E5F6A7B' END, \
             CASE WHEN r.direction = 'incoming' THEN CASE \
                 WHEN (r.b / 20) % 20 < 14 THEN 'total_passed' \
                 WHEN (r.b / 20) % 20 < 16 THEN 'total_failed' \
                 WHEN (r.b / 20) % 20 < 17 THEN 'indeterminate' END END, \
             CASE WHEN r.direction = 'incoming' AND (r.b / 20) % 20 < 17 \
                 THEN r.at + 90000000 END, \
             r.at + 120000000 \
         FROM r JOIN u ON u.i = r.x % {unit_count} \
         WHERE TRUE \
         ON CONFLICT (unit_code, direction, document_id) DO NOTHING",
        series = engine.integer_series(),
    )
}

// ----- Conversions -------------------------------------------------------------------------------

/// Unix microseconds of an instant (negative before 1970); finer precision
/// is dropped.
fn micros(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |m| -m),
    }
}

/// The instant of unix microseconds.
fn instant(micros: i64) -> SystemTime {
    let magnitude = Duration::from_micros(micros.unsigned_abs());
    if micros >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

fn text(row: &AnyRow, column: &str) -> Result<String, RecordsError> {
    row.try_get(column).map_err(database)
}

fn unit_code(code: &str) -> Result<UnitCode, RecordsError> {
    UnitCode::parse(code).map_err(|error| RecordsError::Corrupt {
        what: format!("an unusable unit code ({error})"),
    })
}

fn leader_id(id: &str) -> Result<LeaderId, RecordsError> {
    LeaderId::parse(id).map_err(|error| RecordsError::Corrupt {
        what: format!("an unusable leader id ({error})"),
    })
}

fn corrupt(what: &str, value: &str) -> RecordsError {
    RecordsError::Corrupt {
        what: format!("{what} {value:?}"),
    }
}

// ----- Errors and URLs ---------------------------------------------------------------------------

/// The one conversion of sqlx's errors into kyso's.
fn database(error: sqlx::Error) -> RecordsError {
    match error {
        sqlx::Error::Migrate(error) => RecordsError::Migrate(error.to_string()),
        error => RecordsError::Database(error.to_string()),
    }
}

/// Replaces the URL's password, if any, in an error's message.
fn hide_secret(error: RecordsError, secret: Option<&str>) -> RecordsError {
    let Some(secret) = secret.filter(|secret| !secret.is_empty()) else {
        return error;
    };
    match error {
        RecordsError::Database(message) => RecordsError::Database(message.replace(secret, "***")),
        RecordsError::Migrate(message) => RecordsError::Migrate(message.replace(secret, "***")),
        other => other,
    }
}

/// The user-info part of a URL (`user:password` before `@`), with its
/// byte range.
fn user_info(url: &str) -> Option<(usize, &str)> {
    let start = url.find("://")? + 3;
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| start + end);
    let at = url[start..authority_end].rfind('@')? + start;
    Some((start, &url[start..at]))
}

/// The password a URL carries, in its user info or as a `password=`
/// query parameter.
fn url_password(url: &str) -> Option<String> {
    if let Some((_, info)) = user_info(url)
        && let Some((_, password)) = info.split_once(':')
    {
        return Some(password.to_owned());
    }
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("password="))
        .map(str::to_owned)
}

/// The URL with its password replaced by `***`, fit for messages and logs.
fn redact_url(url: &str) -> String {
    let mut redacted = url.to_owned();
    if let Some((start, info)) = user_info(url)
        && let Some((user, _)) = info.split_once(':')
    {
        redacted.replace_range(start..start + info.len(), &format!("{user}:***"));
    }
    if let Some((base, query)) = redacted.split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=***".to_owned(),
                _ => pair.to_owned(),
            })
            .collect();
        redacted = format!("{base}?{}", query.join("&"));
    }
    redacted
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
