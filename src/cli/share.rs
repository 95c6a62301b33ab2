use chrono::Utc;

use super::ShareCommand;
use crate::domain::{CLI_ACTOR, NewShare, Slug, parse_lifetime};
use crate::store::shares::{self, Target};
use crate::store::{Db, StoreError, boards, changes};

pub async fn run(db: &Db, command: ShareCommand) -> anyhow::Result<()> {
    match command {
        ShareCommand::Create { board, name, expires } => {
            let board = Slug::parse(&board).map_err(|rule| anyhow::anyhow!("board: the slug {rule}"))?;
            let lasts =
                expires.as_deref().map(parse_lifetime).transpose().map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
            let new = NewShare::lasting(&name, lasts, Utc::now()).map_err(|errors| {
                let (field, message) =
                    errors.iter().next().map_or(("name", "is invalid"), |(f, m)| (f.as_str(), m.as_str()));
                anyhow::anyhow!("{field}: {message}")
            })?;
            let (share, secret) =
                changes::create_share(&mut *db.acquire().await?, CLI_ACTOR, Target::Board(board.as_str()), &new)
                    .await
                    .map_err(|e| no_such(e, format!("no board {:?}", board.as_str())))?;
            println!("{}", shares::path_of(&secret));
            eprintln!(
                "share link {} ({:?}) for board {:?} created; this is the only time its address is shown",
                share.id,
                share.name,
                board.as_str()
            );
        }
        ShareCommand::List { board } => list(db, board.as_deref()).await?,
        ShareCommand::Revoke { id } => {
            let share = changes::revoke_share(&mut *db.acquire().await?, CLI_ACTOR, None, id)
                .await
                .map_err(|e| no_such(e, format!("no active share link {id}")))?;
            println!("share link {id} ({:?}) of {} revoked", share.name, described(share.target()));
        }
    }
    Ok(())
}

fn no_such(error: StoreError, message: String) -> anyhow::Error {
    match error {
        StoreError::NotFound => anyhow::anyhow!(message),
        other => other.into(),
    }
}

/// `board "ops"` or `playlist "tv"`.
fn described(target: Target<'_>) -> String {
    match target {
        Target::Board(slug) => format!("board {slug:?}"),
        Target::Playlist(name) => format!("playlist {name:?}"),
    }
}

async fn list(db: &Db, board: Option<&str>) -> anyhow::Result<()> {
    if let Some(slug) = board {
        boards::find(&mut *db.acquire().await?, slug).await.map_err(|e| no_such(e, format!("no board {slug:?}")))?;
    }
    let rows = shares::list(db, board.map(Target::Board)).await?;
    println!("{:<6} {:<20} {:<24} {:<17} {:<17} STATE", "ID", "BOARD", "NAME", "CREATED", "EXPIRES");
    let time = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    for row in rows {
        println!(
            "{:<6} {:<20} {:<24} {:<17} {:<17} {}",
            row.id,
            row.target().to_string(),
            row.name,
            time(row.created_at),
            row.expires_at.map_or("never".into(), time),
            row.state()
        );
    }
    Ok(())
}
