//! The loop that claims due jobs and runs them, several at a time.

use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{JobContext, JobKind, demo_feed, pull_source, retention};
use crate::store::StoreResult;
use crate::store::jobs::{self, ClaimedJob, Leases, Outcome};

/// How often an idle runner looks for due jobs; a finished job frees its slot at once.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often the jobs table is brought in step with widgets and settings.
const SYNC_INTERVAL: Duration = Duration::from_secs(2);
/// Jobs one runner runs at once (pull sources mostly wait on the network).
const MAX_RUNNING: usize = 8;
/// On shutdown, how long running jobs get to finish before they are abandoned to another runner.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// The first retry after a failure; it doubles per failure in a row, up to the job's interval.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(3600);

pub const RETENTION_NAME: &str = "retention";
pub const DEMO_FEED_NAME: &str = "demo-feed";
const RETENTION_EVERY_S: i32 = 86_400;
const DEMO_FEED_EVERY_S: i32 = 3;

pub struct Runner {
    ctx: JobContext,
    /// Names this runner in claims and in `last_run_by`: host, process and a random suffix, so
    /// two runners in one process (tests) are told apart.
    id: String,
    kinds: Vec<&'static str>,
    lease_seconds: Vec<f64>,
}

/// How one run went, for `dashboard jobs run` and the log.
pub type RunResult = Result<String, String>;

impl Runner {
    pub fn new(ctx: JobContext) -> Self {
        let id = format!("{}-{}", ctx.realtime.instance(), &crate::config::random_hex(3));
        let kinds: Vec<JobKind> =
            JobKind::ALL.into_iter().filter(|kind| *kind != JobKind::DemoFeed || ctx.settings.demo_feed).collect();
        Self {
            ctx,
            id,
            lease_seconds: kinds.iter().map(|kind| kind.lease().as_secs_f64()).collect(),
            kinds: kinds.into_iter().map(JobKind::as_str).collect(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn leases(&self) -> Leases<'_> {
        Leases { kinds: &self.kinds, seconds: &self.lease_seconds }
    }

    /// Brings the jobs table in step with the settings and the widgets' sources.
    pub async fn sync(&self) -> StoreResult<()> {
        let db = &self.ctx.db;
        let retention = JobKind::Retention.as_str();
        jobs::sync_fixed(db, retention, RETENTION_NAME, RETENTION_EVERY_S, true).await?;
        let demo = JobKind::DemoFeed.as_str();
        jobs::sync_fixed(db, demo, DEMO_FEED_NAME, DEMO_FEED_EVERY_S, self.ctx.settings.demo_feed).await?;
        jobs::sync_sources(db).await
    }

    /// Runs due jobs until `shutdown`; then gives running jobs [`SHUTDOWN_GRACE`] to finish.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(runner = %self.id, "background jobs running");
        let mut running = JoinSet::new();
        let mut last_sync: Option<Instant> = None;
        let mut failing = false;
        loop {
            let mut synced = Ok(());
            if last_sync.is_none_or(|at| at.elapsed() >= SYNC_INTERVAL) {
                synced = self.sync().await;
                last_sync = Some(Instant::now());
            }
            // Due jobs run even when syncing failed: the table still holds their schedule.
            let claimed = self.claim_into(&mut running).await;
            failing = report_db_trouble(synced.and(claimed), failing);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
        self.drain(running).await;
    }

    /// Claims due jobs while there are free slots, and starts each.
    async fn claim_into(&self, running: &mut JoinSet<RunResult>) -> StoreResult<()> {
        while running.len() < MAX_RUNNING {
            let Some(job) = jobs::claim_due(&self.ctx.db, &self.id, &self.leases()).await? else { break };
            running.spawn(execute(self.ctx.clone(), self.id.clone(), job, true));
        }
        Ok(())
    }

    async fn drain(&self, mut running: JoinSet<RunResult>) {
        if running.is_empty() {
            return;
        }
        tracing::info!(jobs = running.len(), "waiting for running jobs to finish");
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, async { while running.join_next().await.is_some() {} });
        if finished.await.is_ok() {
            return;
        }
        running.shutdown().await;
        match jobs::release_all(&self.ctx.db, &self.id).await {
            Ok(released) => tracing::warn!(released, "jobs stopped unfinished at shutdown; due again elsewhere"),
            Err(error) => {
                tracing::warn!(%error, "jobs stopped unfinished at shutdown; due again when their lease ends")
            }
        }
    }

    /// `dashboard jobs run NAME`: runs the job now, whether due or not, without moving its schedule.
    pub async fn run_now(&self, name: &str) -> anyhow::Result<RunResult> {
        self.sync().await?;
        if let Some(job) = jobs::claim_named(&self.ctx.db, &self.id, &self.leases(), name).await? {
            return Ok(execute(self.ctx.clone(), self.id.clone(), job, false).await);
        }
        match jobs::find(&self.ctx.db, name).await? {
            Some(job) if job.running_on.is_some() => {
                anyhow::bail!(
                    "job {name:?} is running now on {}; try again when it is done",
                    job.running_on.unwrap_or_default()
                )
            }
            Some(_) => anyhow::bail!("job {name:?} is disabled in this configuration"),
            None => anyhow::bail!("no job named {name:?}; `dashboard jobs` lists them"),
        }
    }
}

/// Runs one claimed job within its time limit and records the outcome on it.
async fn execute(ctx: JobContext, runner: String, job: ClaimedJob, scheduled: bool) -> RunResult {
    let started_at = Utc::now();
    let clock = Instant::now();
    let result = match JobKind::parse(&job.kind) {
        Some(kind) => match tokio::time::timeout(kind.time_limit(), perform(&ctx, kind, &job)).await {
            Ok(result) => result.map_err(|e| format!("{e:#}")),
            Err(_) => Err(format!("stopped after the time limit of {} s", kind.time_limit().as_secs())),
        },
        None => Err(format!("unknown job kind {:?}", job.kind)),
    };
    match &result {
        Ok(summary) => tracing::debug!(job = %job.name, %summary, "job done"),
        Err(error) => tracing::warn!(job = %job.name, %error, "job failed"),
    }
    let outcome = Outcome {
        started_at,
        duration_ms: i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX),
        error: result.as_ref().err().cloned(),
        scheduled,
        retry_after_s: retry_delay(job.attempts + 1, job.interval_s).as_secs_f64(),
    };
    match jobs::finish(&ctx.db, &runner, job.id, &outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = %job.name, "the job's claim ended before it finished; outcome not recorded"),
        Err(error) => {
            tracing::warn!(job = %job.name, %error, "cannot record the job's outcome; it is retried when its claim ends")
        }
    }
    result
}

async fn perform(ctx: &JobContext, kind: JobKind, job: &ClaimedJob) -> anyhow::Result<String> {
    match kind {
        JobKind::Retention => retention::run(ctx).await,
        JobKind::DemoFeed => demo_feed::run(ctx, job.runs == 0).await,
        JobKind::PullSource => {
            let widget_id = job.widget_id.ok_or_else(|| anyhow::anyhow!("pull-source job without a widget"))?;
            Ok(pull_source::run(ctx, widget_id).await?)
        }
    }
}

/// 5 s after the first failure, doubling per failure in a row, at most the job's own interval
/// (a failing source is still tried every `interval_s`) and at most an hour.
pub fn retry_delay(failures_in_a_row: i32, interval_s: i32) -> Duration {
    let doubled = RETRY_FIRST.saturating_mul(1 << failures_in_a_row.clamp(1, 16).saturating_sub(1));
    doubled.min(Duration::from_secs(u64::try_from(interval_s).unwrap_or(1).max(1))).min(RETRY_MAX)
}

/// Logs the first failure of a streak and the recovery, not every poll in between.
fn report_db_trouble(result: StoreResult<()>, failing: bool) -> bool {
    match result {
        Ok(()) if failing => {
            tracing::info!("background jobs: database reachable again");
            false
        }
        Ok(()) => false,
        Err(error) => {
            if !failing {
                tracing::warn!(%error, "background jobs: cannot use the jobs table; retrying every second");
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_the_interval() {
        let secs = |n, interval| retry_delay(n, interval).as_secs();
        assert_eq!([secs(1, 600), secs(2, 600), secs(3, 600), secs(4, 600)], [5, 10, 20, 40]);
        assert_eq!(secs(9, 600), 600);
        assert_eq!(secs(3, 5), 5);
        assert_eq!(secs(30, 86_400), 3600);
    }
}
