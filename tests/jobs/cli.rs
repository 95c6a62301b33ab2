//! `dashboard jobs`, `dashboard jobs run NAME` and `dashboard worker` as a user runs them.

use std::process::{Command, Output, Stdio};

use super::{fresh_db, job, job_after_runs, wait_for};

fn dashboard(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dashboard"));
    command.env("APP_ENV", "test").env("DATABASE_URL", database_url).env("LOG_LEVEL", "warn").env_remove("REDIS_URL");
    command
}

fn run(database_url: &str, args: &[&str]) -> (Output, String) {
    let output = dashboard(database_url).args(args).output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    (output, stdout)
}

#[tokio::test]
async fn jobs_lists_the_jobs_and_runs_one_now() {
    let (url, db) = fresh_db().await;
    let (listed, text) = run(&url, &["jobs"]);
    assert!(listed.status.success());
    let retention = text.lines().find(|l| l.starts_with("retention")).unwrap_or_else(|| panic!("{text}"));
    assert!(retention.contains("1 d") && retention.contains("never") && retention.contains("due now"), "{retention}");
    assert!(!text.contains("demo-feed"), "DEMO_FEED is off outside development: {text}");

    let (ran, text) = run(&url, &["jobs", "run", "retention"]);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    assert_eq!(text.trim(), "retention: deleted 0 events older than 30 days");
    let after = job(&db, "retention").await.unwrap();
    assert_eq!((after.runs, after.failures), (1, 0));
    assert!(after.next_run_at <= chrono::Utc::now(), "a manual run leaves the schedule as it was");

    let (unknown, _) = run(&url, &["jobs", "run", "nope"]);
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success());
    assert_eq!(stderr.trim(), "dashboard: no job named \"nope\"; `dashboard jobs` lists them");
}

#[tokio::test]
async fn worker_runs_the_jobs_and_stops_on_sigterm() {
    let (url, db) = fresh_db().await;
    let mut worker = dashboard(&url)
        .args(["worker"])
        .env("DEMO_FEED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts");
    job_after_runs(&db, "retention", 1).await;
    job_after_runs(&db, "demo-feed", 2).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&db).await.unwrap();
    assert!(events > 0, "the demo feed created and fed the demo board");

    let pid = worker.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_for("the worker to exit", || {
        let exited = worker.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(status.success(), "exit status {status:?}");
    let feed = job(&db, "demo-feed").await.unwrap();
    assert!(feed.running_on.is_none(), "no claim left behind");
}
