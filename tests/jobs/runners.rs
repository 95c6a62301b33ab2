use std::collections::HashSet;
use std::time::Duration;

use dashboard::store::Db;

use super::source_server::SourceServer;
use super::{TestRunner, create_board, fresh_db, job, job_after_runs, source, values_of, wait_for};
use crate::common::TestDatabase;

const ALLOW_LOCAL: (&str, &str) = ("ALLOWED_SOURCE_HOSTS", "127.0.0.1");

/// A source server, and a database of its own with a widget `ops/KEY` fed from `path` every minute.
async fn one_source(key: &str, path: &str, pointer: &str) -> (SourceServer, TestDatabase, Db) {
    let server = SourceServer::start().await;
    let (url, db) = fresh_db().await;
    create_board(&db, "ops", &[(key, "number", source(&server.url(path), 60, pointer))]).await;
    (server, url, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_one_database_run_each_due_run_once() {
    const SOURCES: usize = 24;
    let server = SourceServer::start().await;
    let (url, db) = fresh_db().await;
    // Due once now, then not for a minute: every request and every event beyond one per
    // widget would be a due run executed twice.
    let widgets: Vec<(String, serde_json::Value)> =
        (0..SOURCES).map(|i| (format!("w{i}"), source(&server.url(&format!("/item/{i}")), 60, "/value"))).collect();
    let specs: Vec<(&str, &str, serde_json::Value)> =
        widgets.iter().map(|(key, config)| (key.as_str(), "number", config.clone())).collect();
    create_board(&db, "ops", &specs).await;

    let (first, second) =
        tokio::join!(TestRunner::start(&url, &[ALLOW_LOCAL]), TestRunner::start(&url, &[ALLOW_LOCAL]));
    for i in 0..SOURCES {
        job_after_runs(&db, &format!("source:ops/w{i}"), 1).await;
    }
    // Two more sync and claim rounds of both runners, in which nothing may run again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut ran_on = HashSet::new();
    for i in 0..SOURCES {
        let job = job(&db, &format!("source:ops/w{i}")).await.unwrap();
        assert_eq!(job.runs, 1, "w{i}");
        assert_eq!(server.hits(&format!("/item/{i}")), 1, "w{i} was fetched once");
        assert_eq!(values_of(&db, "ops", &format!("w{i}")).await.len(), 1, "w{i} got one event");
        ran_on.insert(job.last_run_by.unwrap());
    }
    let retention = job(&db, "retention").await.unwrap();
    assert_eq!(retention.runs, 1, "the daily job ran once, not once per runner");
    assert_eq!(ran_on, HashSet::from([first.id.clone(), second.id.clone()]), "both runners took jobs");
    first.stop().await;
    second.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_restart_resumes_the_schedule() {
    let (server, url, db) = one_source("cpu", "/counter", "/data/cpu").await;

    let runner = TestRunner::start(&url, &[ALLOW_LOCAL]).await;
    let retention = job_after_runs(&db, "retention", 1).await;
    let pulled = job_after_runs(&db, "source:ops/cpu", 1).await;
    runner.stop().await;
    assert!(retention.next_run_at > chrono::Utc::now() + chrono::Duration::hours(23), "{retention:?}");

    let restarted = TestRunner::start(&url, &[ALLOW_LOCAL]).await;
    // Let the new runner sync and poll a few times.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for before in [retention, pulled] {
        let after = job(&db, &before.name).await.unwrap();
        assert_eq!(after.next_run_at, before.next_run_at, "{}: next run kept across the restart", before.name);
        assert_eq!(after.runs, 1, "{}: not run again at start", before.name);
    }
    assert_eq!(server.hits("/counter"), 1);
    restarted.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_running_job_finish() {
    let (server, url, db) = one_source("slow", "/pause", "/value").await;

    let runner = TestRunner::start(&url, &[ALLOW_LOCAL]).await;
    let running = wait_for("the slow source to be running", || async {
        job(&db, "source:ops/slow").await.filter(|j| j.running_on.is_some())
    })
    .await;
    assert_eq!(running.runs, 0);
    runner.stop().await;
    let finished = job(&db, "source:ops/slow").await.unwrap();
    assert_eq!((finished.runs, finished.failures, finished.running_on.clone()), (1, 0, None), "{finished:?}");
    assert_eq!(values_of(&db, "ops", "slow").await, vec![serde_json::json!({"value": 7})]);
    server.stop().await;
}

#[tokio::test]
async fn slow_sources_leave_the_other_jobs_their_slots() {
    const SOURCES: usize = 12;
    let server = SourceServer::start().await;
    let (url, db) = fresh_db().await;
    // More sources than a runner runs at once, each hanging until the client gives up on it.
    let widgets: Vec<(String, serde_json::Value)> =
        (0..SOURCES).map(|i| (format!("w{i}"), source(&server.url(&format!("/hang?n={i}")), 60, "/value"))).collect();
    let specs: Vec<(&str, &str, serde_json::Value)> =
        widgets.iter().map(|(key, config)| (key.as_str(), "number", config.clone())).collect();
    create_board(&db, "ops", &specs).await;

    let runner = TestRunner::start(&url, &[ALLOW_LOCAL]).await;
    job_after_runs(&db, "retention", 1).await;
    wait_for("slow sources to be running", || async {
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE kind = 'pull_source' AND locked_until > now() AND locked_by IS NOT NULL",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        (running >= 2).then_some(())
    })
    .await;
    // Due again now, behind every source that has waited since the start.
    sqlx::query("UPDATE jobs SET next_run_at = now() WHERE name = 'retention'").execute(&db).await.unwrap();
    job_after_runs(&db, "retention", 2).await;
    let source_runs: i64 = sqlx::query_scalar("SELECT sum(runs)::bigint FROM jobs WHERE kind = 'pull_source'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(source_runs, 0, "retention ran while every slow source was still waiting for its answer");
    runner.stop().await;
    server.stop().await;
}
