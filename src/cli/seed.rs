//! `dashboard seed`: the demo board, created or completed.

use crate::store::Db;
use crate::store::demo::{DEMO_BOARD, seed_demo};

pub async fn run(db: &Db) -> anyhow::Result<()> {
    let created = seed_demo(db).await?;
    println!("demo board ready{}: /boards/{DEMO_BOARD}", if created { " (created)" } else { "" });
    Ok(())
}
