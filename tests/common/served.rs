//! `dashboard serve` as a process of its own: for what only a separate process shows (its
//! memory, its exit on a signal).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value as Json;

use super::test_env;

/// `dashboard serve` as its own process; killed when dropped.
pub struct Server {
    pub child: Child,
    base: String,
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
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..100 {
            if crate::common::http_client().get(server.url("/health")).send().await.is_ok() {
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
        let debug: Json =
            crate::common::http_client().get(self.url("/dashboard/debug")).send().await.unwrap().json().await.unwrap();
        debug["stream"]["events_delivered"].as_u64().unwrap()
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
