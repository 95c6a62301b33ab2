//! Limits against abuse, answered with 429 and `Retry-After`: failed credentials per client
//! address, pushed events per token. Each is a keyed GCRA limiter from `governor`.
//!
//! Not `actix-governor`: its middleware counts every request that passes through it, before the
//! handler runs. Here only failures count (a busy script with a good token must not be limited
//! by its own traffic), a batch counts its events, and the push budget is the caller's, known
//! only once the token has been checked.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;
use super::auth::Caller;
use crate::config::LimitSettings;
use crate::domain::ValidationErrors;

/// A request refused by a limit: what the client is told, and when it may come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub message: &'static str,
    pub retry_after: Duration,
}

impl RateLimited {
    /// Whole seconds, rounded up (coming back a fraction early would be refused again).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

/// The limiters of one process.
pub struct Limits {
    pub auth_failures: AuthFailures,
    /// `None` while `PUSH_RATE_LIMIT` is unset.
    pub pushes: Option<PushBudget>,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Self {
        Self {
            auth_failures: AuthFailures::new(settings.auth_failures_per_minute),
            pushes: settings.pushes_per_second.map(PushBudget::new),
        }
    }
}

const AUTH_FAILURES: &str =
    "too many failed sign-ins or invalid API tokens from this address (AUTH_FAILURE_LIMIT); wait before trying again";
/// How often addresses that no longer matter are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

type FailureCounter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// `AUTH_FAILURE_LIMIT`: failed sign-ins and invalid API tokens per client address per minute.
pub struct AuthFailures {
    failures: FailureCounter,
    /// Addresses that used up their failures, and until when. The refusal must come before the
    /// credential is looked at (or a right guess would still get in), and governor cannot tell
    /// whether a failure would be allowed without counting one, so it is remembered here.
    blocked: DashMap<IpAddr, Instant>,
    next_sweep: Mutex<Instant>,
}

impl AuthFailures {
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            failures: RateLimiter::dashmap(Quota::per_minute(per_minute)).with_middleware(),
            blocked: DashMap::new(),
            next_sweep: Mutex::new(Instant::now() + SWEEP_EVERY),
        }
    }

    /// Refuses an address that has used up its failures, before its credential is looked at.
    /// (`None`, a request without a socket, is made only by unit tests.)
    pub fn check(&self, address: Option<IpAddr>) -> Result<(), RateLimited> {
        let Some(address) = address else { return Ok(()) };
        let Some(until) = self.blocked.get(&address).map(|entry| *entry) else { return Ok(()) };
        let now = Instant::now();
        if until > now {
            return Err(RateLimited { message: AUTH_FAILURES, retry_after: until - now });
        }
        self.blocked.remove_if(&address, |_, until| *until <= now);
        Ok(())
    }

    /// Counts a failed credential. The failure that uses up the allowance blocks the address
    /// until the limiter has room again; one that finds it used up (a request that passed
    /// [`Self::check`] at the same time) is refused itself.
    pub fn failed(&self, address: Option<IpAddr>) -> Result<(), RateLimited> {
        let Some(address) = address else { return Ok(()) };
        self.sweep();
        match self.failures.check_key(&address) {
            Ok(state) if state.remaining_burst_capacity() > 0 => Ok(()),
            // governor tells when the next failure is allowed only by refusing one; one replenish
            // interval (a minute / AUTH_FAILURE_LIMIT) is never shorter than the true wait.
            Ok(state) => {
                self.block(address, state.quota().replenish_interval());
                Ok(())
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.failures.clock().now());
                self.block(address, wait);
                Err(RateLimited { message: AUTH_FAILURES, retry_after: wait })
            }
        }
    }

    fn block(&self, address: IpAddr, wait: Duration) {
        self.blocked.insert(address, Instant::now() + wait);
    }

    /// Forgets, at most once a minute, addresses whose blocks ended and whose failures have
    /// been replenished, so that a stream of passing addresses does not fill memory.
    fn sweep(&self) {
        let now = Instant::now();
        let Ok(mut next) = self.next_sweep.try_lock() else { return };
        if *next > now {
            return;
        }
        *next = now + SWEEP_EVERY;
        drop(next);
        self.blocked.retain(|_, until| *until > now);
        self.failures.retain_recent();
    }
}

/// `PUSH_RATE_LIMIT`: events a token may push a second. Keyed by the token's name (unique, and
/// the bootstrap token has its own); tokens are few and made by an operator, so the keys need no
/// sweeping.
pub struct PushBudget {
    pushes: DefaultKeyedRateLimiter<String>,
    per_second: NonZeroU32,
}

impl PushBudget {
    pub fn new(per_second: NonZeroU32) -> Self {
        Self { pushes: RateLimiter::dashmap(Quota::per_second(per_second)), per_second }
    }

    /// Takes `events` from the caller's budget, all or nothing: a batch over what is left is
    /// refused whole, before anything is written. A batch larger than a whole second's budget
    /// could never pass, so it is a 422 rather than a 429 to retry.
    pub fn spend(&self, caller: &Caller, events: usize) -> Result<(), ApiError> {
        let Ok(cost) = NonZeroU32::try_from(u32::try_from(events).unwrap_or(u32::MAX)) else { return Ok(()) };
        match self.pushes.check_key_n(&caller.name().to_string(), cost) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(RateLimited {
                message: "this token pushes faster than PUSH_RATE_LIMIT allows; slow down",
                retry_after: not_until.wait_time_from(self.pushes.clock().now()),
            }
            .into()),
            Err(_) => Err(ValidationErrors::single(
                "events",
                format!(
                    "holds {events} events, more than PUSH_RATE_LIMIT allows a token a second ({}); split it",
                    self.per_second
                ),
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7)));

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let limited = |retry_after| RateLimited { message: "", retry_after }.retry_after_secs();
        assert_eq!(limited(Duration::from_millis(1)), 1);
        assert_eq!(limited(Duration::from_secs(2)), 2);
        assert_eq!(limited(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn the_failure_that_uses_up_the_allowance_blocks_the_address() {
        let failures = AuthFailures::new(NonZeroU32::new(2).unwrap());
        assert_eq!(failures.check(ADDRESS), Ok(()));
        assert_eq!(failures.failed(ADDRESS), Ok(()));
        assert_eq!(failures.check(ADDRESS), Ok(()));
        assert_eq!(failures.failed(ADDRESS), Ok(()));
        let refused = failures.check(ADDRESS).unwrap_err();
        assert!(refused.retry_after <= Duration::from_secs(30), "{refused:?}");
        assert_eq!(refused.retry_after_secs(), 30, "a minute / 2");
        // A failure that raced past the check is refused, and the block stays.
        assert!(failures.failed(ADDRESS).is_err());
        assert!(failures.check(ADDRESS).is_err());
        assert_eq!(failures.check("203.0.113.8".parse().ok()), Ok(()), "another address");
    }

    #[test]
    fn a_block_ends_when_the_limiter_has_room_again() {
        // 6000 a minute: one failure back every 10 ms.
        let failures = AuthFailures::new(NonZeroU32::new(6000).unwrap());
        let blocked = (0..10_000).find(|_| {
            let _ = failures.failed(ADDRESS);
            failures.check(ADDRESS).is_err()
        });
        assert!(blocked.is_some(), "the allowance runs out");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(failures.check(ADDRESS), Ok(()));
        assert!(failures.blocked.is_empty(), "an ended block is forgotten");
        assert_eq!(failures.failed(ADDRESS), Ok(()));
    }
}
