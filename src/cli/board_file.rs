//! `dashboard export` and `dashboard import`, and the `BOARDS_FILE` that `dashboard migrate`
//! imports (README, "Boards as code").

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::{BoardFile, CLI_ACTOR};
use crate::realtime::Realtime;
use crate::store::Db;
use crate::store::board_file::{self, ImportError, Plan};
use crate::store::changes::{self, ImportOptions};

/// How long a command waits for its board changes to reach the other processes over Redis.
const ANNOUNCE_WITHIN: Duration = Duration::from_secs(3);

/// Writes the boards (all, or those named) to `output`, or to standard output.
pub async fn export(db: &Db, only: &[String], output: Option<&Path>) -> anyhow::Result<()> {
    let file =
        board_file::export(&mut *db.acquire().await?, |slug| only.is_empty() || only.iter().any(|s| s == slug)).await?;
    if let Some(missing) = only.iter().find(|wanted| !file.slugs().any(|slug| slug == wanted.as_str())) {
        anyhow::bail!("no board {missing:?}");
    }
    match output {
        Some(path) => std::fs::write(path, file.to_text()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => print!("{}", file.to_text()),
    }
    Ok(())
}

/// Imports `path`, prints the plan, and tells the open pages of the boards it changed.
pub async fn import(settings: &Settings, db: &Db, path: &Path, options: ImportOptions) -> anyhow::Result<()> {
    let in_file = |error: &dyn std::fmt::Display| anyhow::anyhow!("{}: {error}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| in_file(&e))?;
    let json = serde_json::from_str(&text).map_err(|e| in_file(&format!("malformed JSON: {e}")))?;
    let file = BoardFile::parse(&json, settings.default_board_visibility).map_err(|e| in_file(&e))?;
    let plan = changes::import(&mut *db.acquire().await?, CLI_ACTOR, &file, options).await.map_err(|e| match e {
        ImportError::Invalid(error) => in_file(&error),
        ImportError::Store(error) => anyhow::Error::from(error),
    })?;
    for line in plan.lines() {
        println!("{line}");
    }
    println!("{}", summary(&plan, options));
    if !options.dry_run {
        announce(settings, &plan).await;
    }
    Ok(())
}

fn summary(plan: &Plan, options: ImportOptions) -> String {
    match plan.changes.len() {
        0 => "no changes".into(),
        n if options.dry_run => format!("{n} change(s) planned; dry run, nothing changed"),
        n => format!("{n} change(s) applied"),
    }
}

/// This process has no streams: the stream processes learn of the changes over Redis (without
/// Redis, open pages show them on their next load).
async fn announce(settings: &Settings, plan: &Plan) {
    let realtime = Realtime::announce_only(settings, CancellationToken::new());
    realtime.boards_imported(&plan.boards);
    realtime.flush(ANNOUNCE_WITHIN).await;
}

/// `BOARDS_FILE`, imported by `dashboard migrate` as `dashboard import FILE` would (no prune).
pub async fn import_boards_file(settings: &Settings, db: &Db) -> anyhow::Result<()> {
    let Some(path) = &settings.boards_file else { return Ok(()) };
    println!("importing BOARDS_FILE {}", path.display());
    import(settings, db, path, ImportOptions::default()).await
}
