//! Every integration test in one binary, so the shared harness in `common` compiles once.
//! Each area is a module: `bin/test api::widgets` (cargo-nextest) runs one file's tests.

mod common;

mod api;
mod browser;
mod jobs;
mod loadtest;
mod pages;
mod stream;
