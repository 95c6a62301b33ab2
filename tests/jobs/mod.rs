//! Background jobs against real PostgreSQL, with pull sources served by a local HTTP
//! server in the test.

mod cli;
mod demo_feed;
mod pull_sources;
mod retention;
mod runners;
mod source_server;

use crate::common;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dashboard::domain::{NewBoard, NewWidget, Visibility};
use dashboard::jobs::{JobContext, Runner};
use dashboard::realtime::Realtime;
use dashboard::store::jobs::JobRow;
use dashboard::store::{self, Db, boards, widgets};
use serde_json::{Value as Json, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Generous: a test fails on a job that never runs, never on a slow one.
pub const WAIT: Duration = Duration::from_secs(40);

/// A new database of its own (its URL) and a pool.
pub async fn fresh_db() -> (common::TestDatabase, Db) {
    let url = common::fresh_database().await;
    let db = store::connect(&url).await.unwrap();
    (url, db)
}

/// Polls `check` until it returns `Some`, or panics with `what` after [`WAIT`].
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The job named `name`, if it exists.
pub async fn job(db: &Db, name: &str) -> Option<JobRow> {
    store::jobs::find(db, name).await.unwrap()
}

/// Waits until the job has completed at least `runs` runs; returns it.
pub async fn job_after_runs(db: &Db, name: &str, runs: i64) -> JobRow {
    wait_for(&format!("{name} to complete {runs} runs"), || async {
        job(db, name).await.filter(|j| j.runs >= runs && j.running_on.is_none())
    })
    .await
}

/// A runner of its own (as in a separate `dashboard worker` process) on the database at `url`.
pub struct TestRunner {
    pub id: String,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl TestRunner {
    pub async fn start(database_url: &str, extra: &[(&str, &str)]) -> Self {
        let runner = idle_runner(database_url, extra).await;
        let stop = CancellationToken::new();
        let id = runner.id().to_string();
        let task = tokio::spawn(runner.run(stop.clone()));
        Self { id, stop, task }
    }

    /// Stops it as SIGTERM would and waits until it has.
    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap();
    }
}

/// Creates a board with widgets given as `(key, kind, config)`, straight in the database.
pub async fn create_board(db: &Db, slug: &str, widgets: &[(&str, &str, Json)]) {
    let new_board = NewBoard::parse(&json!({"slug": slug, "title": slug}), Visibility::Public).unwrap();
    let board = boards::create(db, &new_board).await.unwrap();
    let mut conn = db.acquire().await.unwrap();
    for (key, kind, config) in widgets {
        let new = NewWidget::parse(&json!({"key": key, "title": key, "kind": kind, "config": config})).unwrap();
        widgets::create(&mut conn, &board, &new).await.unwrap();
    }
}

/// A widget config whose source is `url`.
pub fn source(url: &str, interval_s: u32, pointer: &str) -> Json {
    json!({"source": {"url": url, "interval_s": interval_s, "pointer": pointer}})
}

/// Events of one widget, oldest first, as their values.
pub async fn values_of(db: &Db, board: &str, widget: &str) -> Vec<Json> {
    sqlx::query_scalar(
        "SELECT e.value FROM events e JOIN widgets w ON w.id = e.widget_id JOIN boards b ON b.id = w.board_id
         WHERE b.slug = $1 AND w.key = $2 ORDER BY e.id",
    )
    .bind(board)
    .bind(widget)
    .fetch_all(db)
    .await
    .unwrap()
}

/// A runner that is not started, for `run_now` (as `dashboard jobs run` does).
pub async fn idle_runner(database_url: &str, extra: &[(&str, &str)]) -> Runner {
    let settings = Arc::new(common::settings_from(&common::test_env(database_url, extra)));
    let db = store::connect(database_url).await.unwrap();
    let realtime = Realtime::announce_only(&settings, CancellationToken::new());
    Runner::new(JobContext::new(db, settings, realtime))
}
