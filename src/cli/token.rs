use super::TokenCommand;
use crate::domain::{CLI_ACTOR, NewToken, ValidationErrors};
use crate::store::{Db, StoreError, changes, tokens};

pub async fn run(db: &Db, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name, role, boards } => {
            let limited = (!boards.is_empty()).then_some(boards.as_slice());
            let new = NewToken::from_parts(&name, role.as_deref(), limited).map_err(one_line)?;
            let secret = changes::create_token(&mut *db.acquire().await?, CLI_ACTOR, &new)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict { .. } => anyhow::anyhow!("a token named {:?} already exists", new.name),
                    other => other.into(),
                })?
                .map_err(|unknown| anyhow::anyhow!("no board {}", quoted(&unknown.0)))?;
            println!("{secret}");
            eprintln!("token {:?} ({}) created; this is the only time its secret is shown", new.name, new.role);
        }
        TokenCommand::List => list(db).await?,
        TokenCommand::Revoke { name } => {
            changes::revoke_token(&mut *db.acquire().await?, CLI_ACTOR, &name).await.map_err(|e| match e {
                StoreError::NotFound => anyhow::anyhow!("no active token named {name:?}"),
                other => other.into(),
            })?;
            println!("token {name:?} revoked");
        }
    }
    Ok(())
}

async fn list(db: &Db) -> anyhow::Result<()> {
    let rows = tokens::list(db).await?;
    println!("{:<24} {:<7} {:<24} {:<17} {:<17} STATUS", "NAME", "ROLE", "BOARDS", "CREATED", "LAST USED");
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M").to_string());
    for row in rows {
        let boards =
            row.boards.as_ref().map_or("all".into(), |b| if b.is_empty() { "none left".into() } else { b.join(",") });
        let status = row.revoked_at.map_or("active".into(), |t| format!("revoked {}", t.format("%Y-%m-%d %H:%M")));
        println!(
            "{:<24} {:<7} {:<24} {:<17} {:<17} {status}",
            row.name,
            row.role.as_str(),
            boards,
            time(Some(row.created_at)),
            time(row.last_used_at)
        );
    }
    Ok(())
}

/// The first problem of a refused token, as one line (`role: must be one of …`).
fn one_line(errors: ValidationErrors) -> anyhow::Error {
    let (field, message) = errors.iter().next().map_or(("token", "is invalid"), |(f, m)| (f.as_str(), m.as_str()));
    anyhow::anyhow!("{field}: {message}")
}

fn quoted(slugs: &[String]) -> String {
    slugs.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}
