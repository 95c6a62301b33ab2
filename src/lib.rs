//! Dashboard: boards of widgets, values pushed over HTTP, streamed live to browsers over SSE.
//!
//! The folders follow the request: `config` (settings), `http` (routes, extractors, errors),
//! `domain` (validated types), `store` (SQL), `realtime` (fan-out, Redis, polling), `jobs`
//! (background jobs), `cli` (the commands), `loadtest` (`dashboard loadtest`); `startup` builds
//! the server, `telemetry` the logs and `tls` the crypto provider. The path of a value through them: docs/architecture.md.

pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod loadtest;
pub mod realtime;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;
