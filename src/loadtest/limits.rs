//! The open-file limit: every stream is a socket, so `--clients` is bounded by `ulimit -n`.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Files the tester needs besides its streams: the runtime, the publisher's connections, stdio.
const RESERVE: u64 = 64;

/// Raises the soft limit to the hard one (as Go's runtime does) and checks `clients` streams fit.
pub fn ensure_open_files(clients: usize) -> anyhow::Result<()> {
    let needed = clients as u64 + RESERVE;
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    if needed <= soft {
        return Ok(());
    }
    let hard = limit.maximum.unwrap_or(u64::MAX);
    if needed <= hard {
        let raised = Rlimit { current: Some(needed.max(soft)), maximum: limit.maximum };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return Ok(());
        }
    }
    anyhow::bail!(
        "--clients {clients} needs {needed} open files, over this process's limit of {} (ulimit -n); \
         use at most {} clients or raise the limit",
        hard,
        hard.saturating_sub(RESERVE)
    )
}
