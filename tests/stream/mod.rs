//! The stream over real HTTP, with real Redis and PostgreSQL.

mod churn;
mod closed;
mod crowd;
mod delivery;
mod faults;
mod limits;
mod memory;
mod private;
mod resume;
mod shares;
mod soak;
mod wire;

use std::time::Duration;

/// Generous waits: a test fails on a missing frame, never on a slow one.
pub const WAIT: Duration = Duration::from_secs(10);
