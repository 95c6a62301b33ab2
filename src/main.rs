use std::process::ExitCode;

use clap::Parser;

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
