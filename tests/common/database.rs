//! A test's own database, dropped when the test passes so runs leave nothing behind in the
//! developer's PostgreSQL; a failing test keeps it and names it, for inspection.

use std::fmt;
use std::ops::Deref;

use sqlx::{Connection, Executor, PgConnection};

/// The URL of a database that belongs to one test. It reads as that URL (`&database` is a
/// `&str`), and the database goes with it.
pub struct TestDatabase {
    url: String,
    name: String,
}

impl TestDatabase {
    /// Takes charge of the database `url` names (made by the test, or by a command it runs).
    pub fn owning(url: String) -> Self {
        let name = url::Url::parse(&url).expect("a database URL").path().trim_start_matches('/').to_string();
        Self { url, name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Deref for TestDatabase {
    type Target = str;

    fn deref(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept the failed test's database {} for inspection", self.name);
            return;
        }
        let admin = super::with_database(&self.url, "postgres");
        let name = std::mem::take(&mut self.name);
        // Drop cannot await, and may run on the test's runtime, which must not be blocked on
        // from inside: a thread with a runtime of its own does the work. A database that
        // cannot be dropped now is left to bin/test's sweep, quietly.
        let _ = std::thread::spawn(move || drop_database(&admin, &name)).join();
    }
}

fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut admin = PgConnection::connect(admin_url).await?;
        // FORCE: the test's pools may still hold connections; nothing else uses this database.
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", name.replace('"', "\"\""));
        admin.execute(sqlx::AssertSqlSafe(drop)).await?;
        admin.close().await
    })
}
