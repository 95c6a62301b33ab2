//! The schedule of background jobs: one row per recurring job (see `src/jobs/` for what runs).
//!
//! # Each due run executes once
//!
//! A runner claims a due job with one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`: the
//! row lock makes concurrent claimers skip the row, and the claim it writes (`locked_by`,
//! `locked_until`) keeps it out of every later claim until the runner finishes and moves
//! `next_run_at` on. A runner that dies mid-run leaves its claim behind; when the lease ends the
//! run is due again and another runner retries it. Runners stop a job before its lease ends, so a
//! slow job cannot run twice.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Acquire;

use super::{Db, StoreResult};
use crate::domain::Audience;

/// A job as `dashboard jobs` and `/dashboard/debug` show it. The public debug JSON shows the
/// error's class as `last_error`, never its detail (a pull source's failure detail tells a
/// closed port from a filtered one).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub name: String,
    pub kind: String,
    pub interval_s: i32,
    pub next_run_at: DateTime<Utc>,
    /// The runner holding the job now, if its claim is live.
    pub running_on: Option<String>,
    pub attempts: i32,
    pub runs: i64,
    pub failures: i64,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_run_by: Option<String>,
    pub last_duration_ms: Option<i32>,
    #[serde(skip)]
    pub last_error: Option<String>,
    #[serde(rename = "last_error")]
    pub last_error_class: Option<String>,
}

/// A job this runner now holds until `finish` (or its lease ends).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub widget_id: Option<i64>,
    pub interval_s: i32,
    /// Failures in a row before this run.
    pub attempts: i32,
    /// Completed runs before this one.
    pub runs: i64,
    /// A pull source's URL, for the runner's per-host limit.
    pub source_url: Option<String>,
}

/// What the runner may claim: kinds it runs, each with its lease in seconds.
pub struct Leases<'a> {
    pub kinds: &'a [&'a str],
    pub seconds: &'a [f64],
}

/// How a run ended, to record on the job.
pub struct RunOutcome {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub error: Option<String>,
    /// What the public may know of `error`.
    pub error_class: Option<String>,
    /// A run from the schedule moves `next_run_at` on; a manual run (`dashboard jobs run`) does not.
    pub scheduled: bool,
    /// After a failure, when to try again.
    pub retry_after_s: f64,
}

/// Creates the fixed job of `kind` if it is missing (its schedule is kept when it exists), or
/// removes it when it is disabled. A new job is due at once.
///
/// Syncing runs every few seconds in every runner, so rows are only written (and locked) when
/// something changed: an unchanged job is never in the way of a claim.
pub async fn sync_fixed(db: &Db, kind: &str, name: &str, interval_s: i32, enabled: bool) -> StoreResult<()> {
    if !enabled {
        sqlx::query("DELETE FROM jobs WHERE kind = $1 AND widget_id IS NULL").bind(kind).execute(db).await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO jobs (name, kind, interval_s, next_run_at) VALUES ($2, $1, $3, now())
         ON CONFLICT (kind) WHERE widget_id IS NULL DO NOTHING",
    )
    .bind(kind)
    .bind(name)
    .bind(interval_s)
    .execute(db)
    .await?;
    sqlx::query(
        "UPDATE jobs SET name = $2, interval_s = $3
         WHERE kind = $1 AND widget_id IS NULL AND (name, interval_s) IS DISTINCT FROM ($2, $3)",
    )
    .bind(kind)
    .bind(name)
    .bind(interval_s)
    .execute(db)
    .await?;
    Ok(())
}

/// The pull sources the widgets ask for: job name and interval per widget. interval_s was
/// validated (5 to 86,400) when the widget was written; the clamp only keeps a hand-edited row
/// from breaking every sync.
macro_rules! wanted_sources {
    () => {
        "WITH wanted AS (
             SELECT w.id AS widget_id, 'source:' || b.slug || '/' || w.key AS name,
                    CASE WHEN jsonb_typeof(w.config -> 'source' -> 'interval_s') = 'number'
                         THEN LEAST(GREATEST((w.config -> 'source' ->> 'interval_s')::numeric, 5), 86400)::int
                         ELSE 60 END AS interval_s
             FROM widgets w JOIN boards b ON b.id = w.board_id
             WHERE jsonb_typeof(w.config -> 'source') = 'object')"
    };
}

/// Makes the pull-source jobs match the widgets whose `config.source` is set: a new source is
/// due at once, a shorter interval takes effect at once, a removed source loses its job, a
/// renamed board or widget renames its job. Only changed rows are written (see [`sync_fixed`]).
pub async fn sync_sources(db: &Db) -> StoreResult<()> {
    let mut conn = db.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query(concat!(
        wanted_sources!(),
        " DELETE FROM jobs j WHERE j.kind = 'pull_source'
          AND NOT EXISTS (SELECT 1 FROM wanted WHERE wanted.widget_id = j.widget_id)"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(concat!(
        wanted_sources!(),
        " UPDATE jobs j SET name = wanted.name, interval_s = wanted.interval_s,
                 next_run_at = LEAST(j.next_run_at, now() + make_interval(secs => wanted.interval_s))
          FROM wanted
          WHERE j.widget_id = wanted.widget_id AND (j.name, j.interval_s) IS DISTINCT FROM (wanted.name, wanted.interval_s)"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(concat!(
        wanted_sources!(),
        " INSERT INTO jobs (name, kind, widget_id, interval_s, next_run_at)
          SELECT name, 'pull_source', widget_id, interval_s, now() FROM wanted
          WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.widget_id = wanted.widget_id)
          ORDER BY widget_id
          ON CONFLICT (widget_id) DO NOTHING"
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The shared tail of the claims: take the row picked by `due`, set the lease of its kind.
macro_rules! claim_from {
    ($due:literal) => {
        concat!(
            "UPDATE jobs j SET locked_by = $1, locked_until = now() + make_interval(secs => lease.seconds)
             FROM (",
            $due,
            ") due, unnest($2::text[], $3::float8[]) AS lease (kind, seconds)
             WHERE j.id = due.id AND lease.kind = j.kind
             RETURNING j.id, j.name, j.kind, j.widget_id, j.interval_s, j.attempts, j.runs,
                       (SELECT w.config -> 'source' ->> 'url' FROM widgets w WHERE w.id = j.widget_id) AS source_url"
        )
    };
}

/// Claims the job that has been due longest, if any.
pub async fn claim_due(db: &Db, runner: &str, leases: &Leases<'_>) -> StoreResult<Option<ClaimedJob>> {
    let job = sqlx::query_as(claim_from!(
        "SELECT id FROM jobs
         WHERE kind = ANY($2) AND next_run_at <= now() AND (locked_until IS NULL OR locked_until < now())
         ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(runner)
    .bind(leases.kinds)
    .bind(leases.seconds)
    .fetch_optional(db)
    .await?;
    Ok(job)
}

/// Claims the job named `name` whether due or not (`dashboard jobs run`); `None` when there is
/// no such job or another runner holds it.
pub async fn claim_named(db: &Db, runner: &str, leases: &Leases<'_>, name: &str) -> StoreResult<Option<ClaimedJob>> {
    let job = sqlx::query_as(claim_from!(
        "SELECT id FROM jobs
         WHERE kind = ANY($2) AND name = $4 AND (locked_until IS NULL OR locked_until < now())
         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(runner)
    .bind(leases.kinds)
    .bind(leases.seconds)
    .bind(name)
    .fetch_optional(db)
    .await?;
    Ok(job)
}

/// Records how a run ended and releases the claim. Returns false when the claim was no longer
/// this runner's (its lease ended; another runner may have taken the job).
pub async fn finish(db: &Db, runner: &str, job_id: i64, outcome: &RunOutcome) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET locked_by = NULL, locked_until = NULL,
                runs = runs + 1,
                failures = failures + CASE WHEN $3::text IS NULL THEN 0 ELSE 1 END,
                attempts = CASE WHEN $3::text IS NULL THEN 0 ELSE attempts + 1 END,
                last_error = $3, last_error_class = $8, last_run_at = $4, last_run_by = $2, last_duration_ms = $5,
                next_run_at = CASE
                    WHEN NOT $6 THEN next_run_at
                    WHEN $3::text IS NULL THEN GREATEST(next_run_at + make_interval(secs => interval_s), now())
                    ELSE now() + make_interval(secs => $7) END
         WHERE id = $1 AND locked_by = $2",
    )
    .bind(job_id)
    .bind(runner)
    .bind(&outcome.error)
    .bind(outcome.started_at)
    .bind(outcome.duration_ms)
    .bind(outcome.scheduled)
    .bind(outcome.retry_after_s)
    .bind(&outcome.error_class)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a claimed job back unrun, not to be claimed again for `seconds`; its schedule and
/// counts are untouched (the runner had no room for it yet).
pub async fn defer(db: &Db, runner: &str, job_id: i64, seconds: f64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE jobs SET locked_by = NULL, locked_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND locked_by = $2",
    )
    .bind(job_id)
    .bind(runner)
    .bind(seconds)
    .execute(db)
    .await?;
    Ok(())
}

/// Drops every claim of this runner, so jobs it had to abandon (shutdown) are due again at once
/// elsewhere instead of after their lease.
pub async fn release_all(db: &Db, runner: &str) -> StoreResult<u64> {
    let done = sqlx::query("UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE locked_by = $1")
        .bind(runner)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

macro_rules! select_jobs {
    () => {
        "SELECT name, kind, interval_s, next_run_at,
                CASE WHEN locked_until > now() THEN locked_by END AS running_on,
                attempts, runs, failures, last_run_at, last_run_by, last_duration_ms, last_error, last_error_class
         FROM jobs"
    };
}

/// The jobs `audience` may know of: a pull source's job names its board and widget, so those of
/// private boards it may not see are left out.
pub async fn list(db: &Db, audience: &Audience) -> StoreResult<Vec<JobRow>> {
    let (every, listed) = audience.sql_filter();
    let jobs = sqlx::query_as(concat!(
        select_jobs!(),
        " WHERE widget_id IS NULL OR EXISTS (SELECT 1 FROM widgets w JOIN boards b ON b.id = w.board_id
                                           WHERE w.id = jobs.widget_id AND ",
        visible_board!("b", "$1", "$2"),
        ") ORDER BY kind <> 'retention', kind, name"
    ))
    .bind(every)
    .bind(listed)
    .fetch_all(db)
    .await?;
    Ok(jobs)
}

pub async fn find(db: &Db, name: &str) -> StoreResult<Option<JobRow>> {
    Ok(sqlx::query_as(concat!(select_jobs!(), " WHERE name = $1 LIMIT 1")).bind(name).fetch_optional(db).await?)
}
