//! `dashboard worker`, `dashboard jobs` and `dashboard jobs run NAME`.

use std::sync::Arc;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::JobsCommand;
use crate::config::Settings;
use crate::domain::Audience;
use crate::http::pages::format::{relative, span};
use crate::jobs::{JobContext, Runner};
use crate::realtime::Realtime;
use crate::store::{Db, jobs};

/// Runs the jobs until SIGTERM or SIGINT, then lets running jobs finish (bounded).
pub async fn worker(db: Db, settings: Settings) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let runner = runner(db, settings, &shutdown);
    let running = tokio::spawn(runner.run(shutdown.clone()));
    crate::startup::termination_signal().await;
    tracing::info!("signal received; letting running jobs finish");
    shutdown.cancel();
    running.await?;
    Ok(())
}

pub async fn run(db: Db, settings: Settings, command: Option<JobsCommand>) -> anyhow::Result<()> {
    match command.unwrap_or(JobsCommand::List) {
        JobsCommand::List => list(db, settings).await,
        JobsCommand::Run { name } => {
            let runner = runner(db, settings, &CancellationToken::new());
            match runner.run_now(&name).await? {
                Ok(summary) => println!("{name}: {summary}"),
                Err(error) => anyhow::bail!("{name} failed: {error}"),
            }
            Ok(())
        }
    }
}

fn runner(db: Db, settings: Settings, shutdown: &CancellationToken) -> Runner {
    // No streams here: pushed events are announced over Redis (or found by the stream's poller).
    let realtime = Realtime::announce_only(&settings, shutdown.clone());
    Runner::new(JobContext::new(db, Arc::new(settings), realtime))
}

async fn list(db: Db, settings: Settings) -> anyhow::Result<()> {
    // Shows the jobs the configuration defines even before any runner has started.
    runner(db.clone(), settings, &CancellationToken::new()).sync().await?;
    let now = Utc::now();
    println!(
        "{:<32} {:>6}  {:<14} {:<14} {:>7} {:>8}  LAST ERROR",
        "NAME", "EVERY", "LAST RUN", "NEXT RUN", "RUNS", "FAILURES"
    );
    for job in jobs::list(&db, &Audience::Everything).await? {
        let next = match &job.running_on {
            Some(runner) => format!("running on {runner}"),
            None if job.next_run_at <= now => "due now".into(),
            None => relative(job.next_run_at, now),
        };
        println!(
            "{:<32} {:>6}  {:<14} {:<14} {:>7} {:>8}  {}",
            job.name,
            span(i64::from(job.interval_s)),
            job.last_run_at.map_or_else(|| "never".into(), |at| relative(at, now)),
            next,
            job.runs,
            job.failures,
            job.last_error.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}
