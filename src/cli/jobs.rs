//! `dashboard worker`, `dashboard jobs` and `dashboard jobs run NAME`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::JobsCommand;
use crate::config::Settings;
use crate::domain::Audience;
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

/// `5s ago`, `in 3m`.
fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    if seconds > 0 { format!("in {}", span(seconds)) } else { format!("{} ago", span(-seconds)) }
}

/// A duration in its largest whole unit: `45s`, `12m`, `3h`, `2d`.
fn span(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_a_person_would_say_them() {
        let now = Utc::now();
        assert_eq!(relative(now + chrono::Duration::seconds(5), now), "in 5s");
        assert_eq!(relative(now - chrono::Duration::minutes(10), now), "10m ago");
        assert_eq!(relative(now, now), "0s ago");
        assert_eq!(span(86_400), "24h");
        assert_eq!(span(3 * 86_400), "3d");
    }
}
