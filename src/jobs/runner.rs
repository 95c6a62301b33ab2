//! The loop that claims due jobs and runs them, several at a time.
//!
//! Jobs run in two lanes with slots of their own: pull sources, which mostly wait on other
//! hosts, and the rest (retention, the demo feed), so that slow sources never hold the slots the
//! other jobs need. Within the pull lane, one host gets at most [`MAX_PULLS_PER_HOST`] slots: a
//! due source of a busy host is given back for a moment, and other hosts' sources run meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{JobContext, JobKind, demo_feed, pull_source, retention};
use crate::store::StoreResult;
use crate::store::jobs::{self, ClaimedJob, Leases, RunOutcome};

/// How often an idle runner looks for due jobs; a finished job frees its slot at once.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often the jobs table is brought in step with widgets and settings.
const SYNC_INTERVAL: Duration = Duration::from_secs(2);
/// Pull sources one runner runs at once (they mostly wait on the network).
const MAX_PULLS_RUNNING: usize = 8;
/// Pull sources of one host one runner runs at once.
const MAX_PULLS_PER_HOST: usize = 2;
/// Other jobs one runner runs at once.
const MAX_OTHERS_RUNNING: usize = 2;
/// How long a due source of a busy host waits before it may be claimed again.
const HOST_BUSY_DEFER: Duration = Duration::from_secs(1);
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
    lanes: [Lane; 2],
    hosts: HostSlots,
}

/// Job kinds that share a number of slots.
struct Lane {
    kinds: Vec<&'static str>,
    lease_seconds: Vec<f64>,
    slots: Arc<Semaphore>,
}

impl Lane {
    fn new(kinds: &[JobKind], slots: usize) -> Self {
        Self {
            kinds: kinds.iter().map(|kind| kind.as_str()).collect(),
            lease_seconds: kinds.iter().map(|kind| kind.lease().as_secs_f64()).collect(),
            slots: Arc::new(Semaphore::new(slots)),
        }
    }

    fn leases(&self) -> Leases<'_> {
        Leases { kinds: &self.kinds, seconds: &self.lease_seconds }
    }
}

/// Running pull sources per host.
#[derive(Clone, Default)]
struct HostSlots(Arc<Mutex<HashMap<String, usize>>>);

struct HostBusy;

/// A host's slot, given back when dropped (the job ended).
struct HostSlot {
    slots: HostSlots,
    host: String,
}

impl HostSlots {
    /// A slot for the job's source host, `Ok(None)` for a job without one, `Err(HostBusy)`
    /// when the host has all of its slots in use.
    fn take(&self, job: &ClaimedJob) -> Result<Option<HostSlot>, HostBusy> {
        let url = job.source_url.as_deref().and_then(|url| url::Url::parse(url).ok());
        let Some(host) = url.as_ref().and_then(url::Url::host_str).map(str::to_ascii_lowercase) else {
            return Ok(None);
        };
        let mut running = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = running.entry(host.clone()).or_default();
        if *count >= MAX_PULLS_PER_HOST {
            return Err(HostBusy);
        }
        *count += 1;
        Ok(Some(HostSlot { slots: self.clone(), host }))
    }
}

impl Drop for HostSlot {
    fn drop(&mut self) {
        let mut running = self.slots.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = running.get_mut(&self.host) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.host);
            }
        }
    }
}

/// How one run went, for `dashboard jobs run` and the log.
pub type RunResult = Result<String, String>;

impl Runner {
    pub fn new(ctx: JobContext) -> Self {
        let id = format!("{}-{}", ctx.realtime.instance(), &crate::config::random_hex(3));
        let kinds: Vec<JobKind> =
            JobKind::ALL.into_iter().filter(|kind| *kind != JobKind::DemoFeed || ctx.settings.demo_feed).collect();
        let (pulls, others): (Vec<JobKind>, Vec<JobKind>) =
            kinds.iter().partition(|kind| **kind == JobKind::PullSource);
        Self {
            ctx,
            id,
            lease_seconds: kinds.iter().map(|kind| kind.lease().as_secs_f64()).collect(),
            kinds: kinds.into_iter().map(JobKind::as_str).collect(),
            lanes: [Lane::new(&others, MAX_OTHERS_RUNNING), Lane::new(&pulls, MAX_PULLS_RUNNING)],
            hosts: HostSlots::default(),
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

    /// Claims due jobs while their lane has free slots, and starts each.
    async fn claim_into(&self, running: &mut JoinSet<RunResult>) -> StoreResult<()> {
        for lane in &self.lanes {
            while let Ok(slot) = lane.slots.clone().try_acquire_owned() {
                let Some(job) = jobs::claim_due(&self.ctx.db, &self.id, &lane.leases()).await? else { break };
                let Ok(host_slot) = self.hosts.take(&job) else {
                    jobs::defer(&self.ctx.db, &self.id, job.id, HOST_BUSY_DEFER.as_secs_f64()).await?;
                    continue;
                };
                running.spawn(run_in_slot(self.ctx.clone(), self.id.clone(), job, (slot, host_slot)));
            }
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

/// Runs a job holding its slots until it is done.
async fn run_in_slot(
    ctx: JobContext,
    runner: String,
    job: ClaimedJob,
    _slots: (OwnedSemaphorePermit, Option<HostSlot>),
) -> RunResult {
    execute(ctx, runner, job, true).await
}

/// Runs one claimed job within its time limit and records the outcome on it.
async fn execute(ctx: JobContext, runner: String, job: ClaimedJob, scheduled: bool) -> RunResult {
    let started_at = Utc::now();
    let clock = Instant::now();
    // Failures as (class, detail): see `PullError::class`.
    let outcome: Result<String, (String, String)> = match JobKind::parse(&job.kind) {
        Some(kind) => match tokio::time::timeout(kind.time_limit(), perform(&ctx, kind, &job)).await {
            Ok(result) => result.map_err(|e| (failure_class(&e), format!("{e:#}"))),
            Err(_) => {
                Err(("timeout".into(), format!("stopped after the time limit of {} s", kind.time_limit().as_secs())))
            }
        },
        None => Err(("failed".into(), format!("unknown job kind {:?}", job.kind))),
    };
    let (result, error_class) = match outcome {
        Ok(summary) => (Ok(summary), None),
        Err((class, detail)) => (Err(detail), Some(class)),
    };
    match &result {
        Ok(summary) => tracing::debug!(job = %job.name, %summary, "job done"),
        Err(error) => tracing::warn!(job = %job.name, %error, "job failed"),
    }
    let outcome = RunOutcome {
        started_at,
        duration_ms: i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX),
        error: result.as_ref().err().cloned(),
        error_class,
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

/// What the public may know of a failed run.
fn failure_class(error: &anyhow::Error) -> String {
    error.downcast_ref::<pull_source::PullError>().map_or_else(|| "failed".into(), pull_source::PullError::class)
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

    fn pull_of(url: Option<&str>) -> ClaimedJob {
        ClaimedJob {
            id: 1,
            name: "source:b/w".into(),
            kind: "pull_source".into(),
            widget_id: Some(1),
            interval_s: 60,
            attempts: 0,
            runs: 0,
            source_url: url.map(String::from),
        }
    }

    #[test]
    fn each_source_host_gets_a_few_slots() {
        let hosts = HostSlots::default();
        let slow = pull_of(Some("https://Slow.example/a?key=1"));
        let held: Vec<_> = (0..MAX_PULLS_PER_HOST).map(|_| hosts.take(&slow).ok().flatten().unwrap()).collect();
        assert!(hosts.take(&pull_of(Some("https://slow.example:8443/b"))).is_err(), "the host is busy, any port");
        assert!(hosts.take(&pull_of(Some("https://fast.example/a"))).is_ok_and(|slot| slot.is_some()));
        assert!(hosts.take(&pull_of(None)).is_ok_and(|slot| slot.is_none()), "other jobs need no host slot");
        drop(held);
        assert!(hosts.take(&slow).is_ok(), "slots come back when jobs end");
        assert!(hosts.0.lock().unwrap().is_empty());
    }
}
