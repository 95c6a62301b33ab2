use std::process::ExitCode;

use clap::Parser;

/// Idle streams hold less resident memory with jemalloc than with glibc's malloc: it keeps its
/// bookkeeping out of the blocks, so the untouched part of a connection's buffers stays unmapped.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = dashboard::cli::Cli::parse();
    match dashboard::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, human-readable: the whole cause chain, no backtrace.
            eprintln!("dashboard: {error:#}");
            ExitCode::FAILURE
        }
    }
}
