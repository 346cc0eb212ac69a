//! A writer that keeps one connection for all its transactions.
//!
//! [`GroupCommit`](crate::records::GroupCommit) commits every signing
//! through one writer. Taking a pooled connection per transaction costs a
//! hand-off to the pool (and, on PostgreSQL, a liveness check), and on
//! SQLite it spreads the writes over every connection of the pool: a
//! connection whose last transaction is older than another's commit drops
//! its whole page cache and reads the B-tree pages again. One kept
//! connection sees only its own writes and keeps its cache.

use sqlx::Any;
use sqlx::pool::PoolConnection;

use super::batch_sql::Guarded;
use super::conversions::database;
use super::{GuardedRecord, RecordOutcome, RecordStore, RecordsError};

/// Records facts through one connection of a store's pool, kept between
/// transactions and replaced after a database error.
pub struct RecordWriter {
    store: RecordStore,
    connection: Option<PoolConnection<Any>>,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter")
            .field("store", &self.store)
            .field("connected", &self.connection.is_some())
            .finish()
    }
}

impl RecordWriter {
    /// A writer over `store`; it takes its connection on first use.
    pub fn new(store: RecordStore) -> Self {
        Self {
            store,
            connection: None,
        }
    }

    /// [`RecordStore::record_guarded`] on the writer's connection. After a
    /// database error the connection goes back to the pool, which checks it
    /// before handing it out again, and the next call takes one afresh.
    pub async fn record_guarded(
        &mut self,
        records: &[GuardedRecord],
    ) -> Result<Vec<RecordOutcome>, RecordsError> {
        let batch = Guarded::all(records);
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.store.pool.acquire().await.map_err(database)?,
        };
        let outcome = self.store.record_batch_on(&mut connection, &batch).await;
        if !matches!(outcome, Err(RecordsError::Database(_))) {
            self.connection = Some(connection);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DocumentId, DocumentRecord, Fact, Verdict};
    use crate::units::UnitCode;
    use std::time::SystemTime;

    fn verified(unit: &str, id: &str) -> GuardedRecord {
        GuardedRecord {
            record: DocumentRecord {
                unit: UnitCode::parse(unit).expect("unit code"),
                document_id: DocumentId::parse(id).expect("document id"),
                at: SystemTime::now(),
                fact: Fact::Verified {
                    verdict: Verdict::Passed,
                },
            },
            unrevoked_certificate: None,
        }
    }

    #[tokio::test]
    async fn a_writer_keeps_one_connection_through_refusals_and_its_commits_are_read_elsewhere() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RecordStore::seeded_for_test(dir.path()).await;
        let mut writer = RecordWriter::new(store.clone());
        let a = verified("000.00.01.H23", "a");
        let first = writer
            .record_guarded(&[a.clone(), verified("000.00.01.H23", "b")])
            .await
            .expect("first batch");
        assert_eq!(first, vec![RecordOutcome::Created, RecordOutcome::Created]);
        let refused = writer
            .record_guarded(&[verified("999.99.99.H99", "c")])
            .await
            .expect_err("an unknown unit is refused");
        assert!(
            matches!(refused, RecordsError::UnknownUnit { .. }),
            "{refused}"
        );
        assert!(
            writer.connection.is_some(),
            "a refused batch is no reason to give the connection up"
        );
        let again = writer
            .record_guarded(std::slice::from_ref(&a))
            .await
            .expect("second batch");
        assert_eq!(again, vec![RecordOutcome::Unchanged]);
        for id in ["a", "b"] {
            assert!(
                store.holds_incoming("000.00.01.H23", id).await,
                "{id:?} was acknowledged but another connection does not see it"
            );
        }
    }
}
