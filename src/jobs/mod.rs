//! Background jobs: recurring work scheduled in PostgreSQL and run by whichever process gets to
//! it first — `dashboard serve` with `JOBS=inline`, or `dashboard worker`.
//!
//! * [`runner`] — claims due jobs (each due run executes once, however many runners there are;
//!   see `store::jobs`), runs them with a time limit, records the outcome, retries failures
//!   with back-off, and lets a running job finish on shutdown.
//! * [`retention`] — daily: deletes events older than `EVENTS_RETENTION_DAYS`, in batches,
//!   keeping each widget's newest.
//! * [`pull_source`] — every `interval_s`: GETs a widget's `config.source` URL (through
//!   [`source_client`], which refuses private addresses) and pushes the value found there.
//! * [`demo_feed`] — every few seconds with `DEMO_FEED=true`: plausible values for the `demo` board.
//!
//! The jobs table is kept in step with the configuration by [`runner::Runner::sync`]: the fixed
//! jobs exist (or not, for a disabled demo feed), and every widget with a source has its job.

pub mod demo_feed;
pub mod pull_source;
pub mod retention;
pub mod runner;
pub mod source_client;
pub mod source_guard;

use std::sync::Arc;
use std::time::Duration;

pub use runner::Runner;
pub use source_client::SourceClient;

use crate::config::Settings;
use crate::realtime::Realtime;
use crate::store::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Retention,
    DemoFeed,
    PullSource,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [Self::Retention, Self::DemoFeed, Self::PullSource];

    /// As stored in `jobs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retention => "retention",
            Self::DemoFeed => "demo_feed",
            Self::PullSource => "pull_source",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    /// A run that takes longer is stopped and counted as failed. Retention deletes in batches,
    /// so a stopped run keeps what it deleted and the next one goes on from there.
    pub fn time_limit(self) -> Duration {
        match self {
            Self::Retention => Duration::from_secs(300),
            Self::DemoFeed | Self::PullSource => Duration::from_secs(30),
        }
    }

    /// How long a claim lasts: longer than the time limit, so a live runner never loses a job it
    /// is still running, yet a dead runner's job is retried soon.
    pub fn lease(self) -> Duration {
        self.time_limit() + Duration::from_secs(30)
    }
}

/// What jobs need to do their work; cheap to clone.
#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// Announces pushed events so they stream like any push.
    pub realtime: Realtime,
    pub sources: SourceClient,
}

impl JobContext {
    pub fn new(db: Db, settings: Arc<Settings>, realtime: Realtime) -> Self {
        let sources = SourceClient::new(&settings.allowed_source_hosts);
        Self { db, settings, realtime, sources }
    }
}
