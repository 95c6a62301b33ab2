//! `dashboard serve` as a process of its own: for what only a separate process shows (its
//! memory, its exit on a signal).

use std::collections::HashSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value as Json;

use super::test_env;

/// `dashboard serve` as its own process; killed when dropped.
pub struct Server {
    pub child: Child,
    base: String,
    /// One client for the test's own requests, whose kept-alive connection counts among the
    /// server's open files the same way before and after (see [`Self::open_files_except_to`]).
    http: reqwest::Client,
}

impl Server {
    pub async fn start(database_url: &str, extra: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut env = test_env(database_url, extra);
        env.retain(|(k, _)| k != "PORT");
        let child = Command::new(env!("CARGO_BIN_EXE_dashboard"))
            .arg("serve")
            .env("APP_ENV", "test")
            .envs(env)
            .env("PORT", port.to_string())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child, base: format!("http://127.0.0.1:{port}"), http: crate::common::http_client() };
        for _ in 0..100 {
            if server.http.get(server.url("/health")).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not come up");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// A `/proc/<pid>/status` figure in kB: `VmRSS` now, `VmHWM` the peak so far.
    pub fn memory_kb(&self, field: &str) -> u64 {
        proc_status_kb(&self.child.id().to_string(), field)
    }

    pub async fn events_delivered(&self) -> u64 {
        self.stream_figure("events_delivered").await
    }

    /// Streams holding a slot (`SSE_MAX_CONNECTIONS`), as `/dashboard/debug` counts them.
    pub async fn open_streams(&self) -> u64 {
        self.stream_figure("connections").await
    }

    async fn stream_figure(&self, name: &str) -> u64 {
        let debug: Json = self.http.get(self.url("/dashboard/debug")).send().await.unwrap().json().await.unwrap();
        debug["stream"][name].as_u64().unwrap_or_else(|| panic!("no stream.{name} in {debug}"))
    }

    /// The server's open file descriptors, leaving out its sockets to `remote_port`: the
    /// database pool's connections, which it opens on demand (up to its size) and keeps.
    pub fn open_files_except_to(&self, remote_port: u16) -> usize {
        let pool = socket_inodes_to(remote_port);
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).unwrap();
        fds.filter_map(Result::ok)
            .filter(|fd| {
                let target = std::fs::read_link(fd.path()).unwrap_or_default();
                let inode = target.to_str().and_then(|t| t.strip_prefix("socket:[")?.strip_suffix(']'));
                !inode.is_some_and(|inode| pool.contains(inode))
            })
            .count()
    }
}

/// A `/proc/<pid>/status` figure in kB of process `pid` (a number, or `self`).
pub fn proc_status_kb(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The inodes of this network namespace's TCP sockets connected to `remote_port`, from the
/// kernel's tables (`/proc/net/tcp`: `sl local rem st … uid timeout inode`, ports in hex).
fn socket_inodes_to(remote_port: u16) -> HashSet<String> {
    let port = format!(":{remote_port:04X}");
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for row in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let fields: Vec<&str> = row.split_whitespace().collect();
            if fields.len() > 9 && fields[2].ends_with(&port) {
                inodes.insert(fields[9].to_string());
            }
        }
    }
    inodes
}
