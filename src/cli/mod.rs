//! The `dashboard` command line (the README's command table).

mod board_file;
mod jobs;
pub mod seed;
mod serve;
mod share;
mod token;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::store;
use crate::store::changes::ImportOptions;

#[derive(Debug, Parser)]
#[command(
    name = "dashboard",
    version,
    about = "Self-hosted real-time dashboard: push values over HTTP, watch them live over SSE",
    after_help = "Configuration comes from the environment and .env.<APP_ENV> (APP_ENV: development, test, production); see README.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app: pages, JSON API and stream on HOST:PORT (the default command)
    Serve,
    /// Run only the stream (/dashboard/stream, /dashboard/debug, /health) on SSE_PORT
    Stream,
    /// Create the database if it does not exist, apply pending migrations, import BOARDS_FILE
    Migrate,
    /// Manage API tokens: create (with a role and boards), list, revoke
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage share links of boards: create, list, revoke
    #[command(subcommand)]
    Share(ShareCommand),
    /// Write boards and their widgets as a boards file (JSON; no values, tokens or share links)
    Export {
        /// The boards to export (by slug); without, every board
        #[arg(value_name = "BOARD")]
        boards: Vec<String>,
        /// Write the file there instead of to standard output
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Make the boards of a boards file match it, in one transaction, and print the plan
    Import {
        /// A boards file, as `dashboard export` writes it
        file: PathBuf,
        /// Also delete the widgets of the file's boards that the file lacks (other boards are never touched)
        #[arg(long)]
        prune: bool,
        /// Print the plan and change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Create the demo board with one widget of every kind (idempotent)
    Seed,
    /// Run only the background jobs (retention, pull sources, demo feed), no web server
    Worker,
    /// List the background jobs with their last and next run, or run one now
    Jobs {
        #[command(subcommand)]
        command: Option<JobsCommand>,
    },
    /// Hold many SSE streams open, publish stamped events, report delivery and latency
    Loadtest(Box<crate::loadtest::LoadtestArgs>),
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List each job: last run, next run, runs, failures, last error (the default)
    List,
    /// Run a job now, whether due or not (its schedule stays as it is)
    Run { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only this once)
    Create {
        name: String,
        /// What it may do: read, push, editor (manage boards; the default) or admin (also tokens)
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        /// Limit it to this board (repeat for more); without, it acts on every board
        #[arg(long = "board", value_name = "SLUG")]
        boards: Vec<String>,
    },
    /// List tokens with their role, boards, creation, last use and revocation times
    List,
    /// Revoke a token; requests with it are refused from now on
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ShareCommand {
    /// Make a read-only link to a board and print its address (shown only this once)
    Create {
        board: String,
        name: String,
        /// How long it works: 30m, 12h, 7d; without, until revoked
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// List share links (of one board, or of all) with their creation, expiry and state
    List { board: Option<String> },
    /// Revoke a share link by its id; it admits nobody from now on
    Revoke { id: i64 },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        // The tester talks to a server over HTTP only: it needs none of the app's settings.
        Command::Loadtest(args) => crate::loadtest::run(*args).await,
        command => run_app(command).await,
    }
}

/// The commands that run the app or work on its database, all configured by `Settings`.
async fn run_app(command: Command) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    crate::telemetry::init(&settings.log_level, settings.log_format);
    match command {
        Command::Serve => serve::run(settings, crate::startup::Role::Web).await,
        Command::Stream => serve::run(settings, crate::startup::Role::StreamOnly).await,
        Command::Migrate => migrate(&settings).await,
        Command::Token(command) => token::run(&connect_migrated(&settings).await?, command).await,
        Command::Share(command) => share::run(&connect_migrated(&settings).await?, command).await,
        Command::Export { boards, output } => {
            board_file::export(&connect_migrated(&settings).await?, &boards, output.as_deref()).await
        }
        Command::Import { file, prune, dry_run } => {
            let options = ImportOptions { prune, dry_run };
            board_file::import(&settings, &connect_migrated(&settings).await?, &file, options).await
        }
        Command::Seed => seed::run(&connect_migrated(&settings).await?).await,
        Command::Worker => jobs::worker(connect_and_migrate(&settings).await?, settings).await,
        Command::Jobs { command } => jobs::run(connect_migrated(&settings).await?, settings, command).await,
        // Never reached (run takes it first), but correct if it were.
        Command::Loadtest(args) => crate::loadtest::run(*args).await,
    }
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database_url.expose();
    if store::create_database_if_missing(url).await.map_err(|e| unreachable_database(settings, e))? {
        println!("created database {}", crate::config::redact_url(url));
    }
    let db = connect_and_migrate(settings).await?;
    println!("migrations applied");
    board_file::import_boards_file(settings, &db).await
}

/// For the commands that run the app: a new version's first start brings its schema along.
async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<store::Db> {
    let db = connect(settings).await?;
    store::migrate(&db).await?;
    Ok(db)
}

/// For the tools (tokens, seed, jobs): changing the schema is left to `migrate` and the app, so
/// a quick look at an old or wrong database leaves it as it was.
async fn connect_migrated(settings: &Settings) -> anyhow::Result<store::Db> {
    let db = connect(settings).await?;
    if !store::is_migrated(&db).await? {
        anyhow::bail!("database not migrated; run dashboard migrate");
    }
    Ok(db)
}

async fn connect(settings: &Settings) -> anyhow::Result<store::Db> {
    store::connect(settings.database_url.expose()).await.map_err(|e| unreachable_database(settings, e))
}

fn unreachable_database(settings: &Settings, error: sqlx::Error) -> anyhow::Error {
    anyhow::anyhow!(store::connect_failure(settings.database_url.expose(), &error))
}
