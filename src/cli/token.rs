use super::TokenCommand;
use crate::http::auth::BOOTSTRAP_TOKEN_NAME;
use crate::store::audit::CLI_ACTOR;
use crate::store::{Db, StoreError, changes, tokens};

pub async fn run(db: &Db, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                anyhow::bail!("a token name must be 1 to 100 characters");
            }
            if name == BOOTSTRAP_TOKEN_NAME {
                // Callers with the bootstrap token go by this name; sharing it would make the
                // management pages and logs name two credentials alike.
                anyhow::bail!("{name:?} is reserved for the DASHBOARD_API_TOKEN setting; choose another name");
            }
            if name == CLI_ACTOR {
                // The audit log names changes made on the command line so.
                anyhow::bail!("{name:?} is reserved for changes made on the command line; choose another name");
            }
            let secret =
                changes::create_token(&mut *db.acquire().await?, CLI_ACTOR, name).await.map_err(|e| match e {
                    StoreError::Conflict { .. } => anyhow::anyhow!("a token named {name:?} already exists"),
                    other => other.into(),
                })?;
            println!("{secret}");
            eprintln!("token {name:?} created; this is the only time its secret is shown");
        }
        TokenCommand::List => {
            let rows = tokens::list(db).await?;
            println!("{:<24} {:<20} {:<20} STATUS", "NAME", "CREATED", "LAST USED");
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
            };
            for row in rows {
                let status =
                    row.revoked_at.map_or("active".into(), |t| format!("revoked {}", t.format("%Y-%m-%d %H:%M")));
                println!("{:<24} {:<20} {:<20} {status}", row.name, time(Some(row.created_at)), time(row.last_used_at));
            }
        }
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
