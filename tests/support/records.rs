//! The engines the records-store conformance suite runs on: SQLite in a
//! temporary directory, and PostgreSQL in a fresh database per test, created
//! on the server at `KYSO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/`) and dropped afterwards.
//!
//! PostgreSQL is not optional: when it cannot be reached the test fails and
//! says how to start it, so CI never passes by skipping half the suite.

#![allow(
    dead_code,
    reason = "each test binary includes this module and uses only part of it"
)]

/// Generates `sqlite::NAME` and `postgres::NAME` tests for each test
/// function: `store` tests receive a store on a fresh database, `database`
/// tests the database itself (to open several stores on it).
#[allow(
    unused_macros,
    reason = "only the conformance suites generate tests with it"
)]
macro_rules! conformance {
    (store: [$($store_test:ident),* $(,)?], database: [$($database_test:ident),* $(,)?] $(,)?) => {
        conformance!(@engine sqlite, Sqlite, [$($store_test),*], [$($database_test),*]);
        conformance!(@engine postgres, Postgres, [$($store_test),*], [$($database_test),*]);
    };
    (@engine $module:ident, $engine:ident, [$($store_test:ident),*], [$($database_test:ident),*]) => {
        mod $module {
            $(
                #[test]
                fn $store_test() {
                    crate::records_support::run_with_store(
                        kyso::records::Engine::$engine,
                        super::$store_test,
                    );
                }
            )*
            $(
                #[test]
                fn $database_test() {
                    crate::records_support::run(kyso::records::Engine::$engine, super::$database_test);
                }
            )*
        }
    };
}

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use kyso::records::{Engine, RecordStore};
use sqlx::{Connection, Executor, PgConnection};

/// The PostgreSQL server the suite uses when `KYSO_TEST_POSTGRES_URL` is unset.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/";

/// One test's database, fresh and empty.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// The engine.
    pub engine: Engine,
    /// The URL to give [`RecordStore::open`].
    pub url: String,
}

impl TestDatabase {
    /// Opens (and on first use migrates) a store on this database; each
    /// call is another pool, like another replica.
    pub async fn open(&self) -> RecordStore {
        RecordStore::open(&self.url)
            .await
            .unwrap_or_else(|error| panic!("cannot open {}: {error}", self.url))
    }
}

/// Runs `test` on a fresh database of `engine`, then removes the database,
/// also when the test panics (the panic is then passed on).
pub fn run<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(TestDatabase) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let (database, cleanup) = create(engine).await;
        let outcome = tokio::spawn(test(database)).await;
        cleanup.run().await;
        match outcome {
            Ok(()) => {}
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("test task failed: {error}"),
        }
    });
}

/// Runs `test` on a store opened on a fresh database of `engine`.
pub fn run_with_store<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(RecordStore) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(engine, |database| async move {
        let store = database.open().await;
        test(store.clone()).await;
        store.close().await;
    });
}

/// What to remove after a test.
enum Cleanup {
    Directory(tempfile::TempDir),
    PostgresDatabase { admin_url: String, name: String },
}

impl Cleanup {
    async fn run(self) {
        match self {
            Cleanup::Directory(directory) => drop(directory),
            Cleanup::PostgresDatabase { admin_url, name } => {
                let mut admin = admin_connection(&admin_url).await;
                // FORCE ends the connections of pools the test left open.
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .unwrap_or_else(|error| panic!("cannot drop test database {name}: {error}"));
                let _ = admin.close().await;
            }
        }
    }
}

async fn create(engine: Engine) -> (TestDatabase, Cleanup) {
    match engine {
        Engine::Sqlite => {
            let directory = tempfile::tempdir().expect("temporary directory");
            let url = RecordStore::sqlite_url(&directory.path().join("records.db"));
            (TestDatabase { engine, url }, Cleanup::Directory(directory))
        }
        Engine::Postgres => {
            let server = std::env::var("KYSO_TEST_POSTGRES_URL")
                .ok()
                .filter(|url| !url.is_empty())
                .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned());
            let (base, database, query) = split_postgres_url(&server);
            let admin_database = if database.is_empty() {
                "postgres"
            } else {
                database
            };
            let admin_url = format!("{base}/{admin_database}{query}");
            let name = format!("kyso_t_{}", unique_suffix());
            let mut admin = admin_connection(&admin_url).await;
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
            let _ = admin.close().await;
            let url = format!("{base}/{name}{query}");
            (
                TestDatabase { engine, url },
                Cleanup::PostgresDatabase { admin_url, name },
            )
        }
    }
}

async fn admin_connection(admin_url: &str) -> PgConnection {
    PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "the records-store tests need PostgreSQL, which is not reachable at {admin_url} \
             ({error}).\nStart it (e.g. `pg_ctlcluster 15 main start`, or `docker run -d -p \
             5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16`) or point \
             KYSO_TEST_POSTGRES_URL at a server where this user may create databases."
            )
        })
}

/// `postgres://user@host:port/database?query` → (`postgres://user@host:port`,
/// `database`, `?query`).
fn split_postgres_url(url: &str) -> (&str, &str, &str) {
    let (url, query) = match url.find('?') {
        Some(start) => url.split_at(start),
        None => (url, ""),
    };
    let authority_start = url.find("://").map_or(0, |index| index + 3);
    match url[authority_start..].find('/') {
        Some(slash) => {
            let slash = authority_start + slash;
            (&url[..slash], &url[slash + 1..], query)
        }
        None => (url, "", query),
    }
}

/// Sixteen hex digits that differ between tests and between runs.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64);
    let mut random = XorShift::new(
        nanos
            ^ u64::from(std::process::id()).rotate_left(32)
            ^ COUNTER.fetch_add(1, Ordering::Relaxed),
    );
    format!("{:016x}", random.next_u64())
}

/// xorshift64*: a small deterministic generator for randomised workloads.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a seed (any value; zero is replaced).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `bound` (which must not be zero).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[test]
fn postgres_urls_split_into_server_database_and_options() {
    assert_eq!(
        split_postgres_url("postgres://postgres@127.0.0.1:5432/"),
        ("postgres://postgres@127.0.0.1:5432", "", "")
    );
    assert_eq!(
        split_postgres_url("postgresql://u:p@db/test?sslmode=disable"),
        ("postgresql://u:p@db", "test", "?sslmode=disable")
    );
    assert_eq!(
        split_postgres_url("postgres://db"),
        ("postgres://db", "", "")
    );
}
