//! A fresh PostgreSQL database per test, on the server CI starts at
//! 127.0.0.1:5432 (or `KYSO_TEST_POSTGRES_URL`), dropped afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

/// The PostgreSQL server the tests use, without a database name.
pub fn server_url() -> String {
    std::env::var("KYSO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A database that exists for one test.
pub struct TestDatabase {
    /// `postgres://…/kyso_t_…`.
    pub url: String,
    name: String,
}

fn admin_url() -> String {
    format!("{}/postgres", server_url().trim_end_matches('/'))
}

fn execute(statement: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&admin_url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {} ({e}); scripts/test starts it, or run \
                     `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`",
                    server_url()
                )
            });
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    });
}

impl TestDatabase {
    /// Creates an empty database with a name no other test uses.
    pub fn create() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kyso_t_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        execute(&format!("CREATE DATABASE {name}"));
        TestDatabase {
            url: format!("{}/{name}", server_url().trim_end_matches('/')),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
