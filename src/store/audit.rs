//! The audit log: who changed what, and when. An entry is written on the connection (in the
//! transaction) of the change it describes, so a change that fails leaves no entry and every
//! entry names a change that happened. Details never hold a secret.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use sqlx::PgConnection;
use sqlx::types::Json as SqlJson;

use super::{Db, StoreResult};

pub use crate::domain::CLI_ACTOR;

/// The changes the log records. Pushed values are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    BoardCreated,
    BoardUpdated,
    BoardDeleted,
    WidgetCreated,
    WidgetUpdated,
    WidgetDeleted,
    /// Widgets moved or resized by the layout editor, all at once (target: the board's slug;
    /// details: each changed widget's old and new position, width and height).
    LayoutUpdated,
    TokenCreated,
    TokenRevoked,
    /// A board turned public or private (target: the board's slug).
    VisibilityChanged,
    /// A share link made for a board or a playlist (target: the board's slug or `playlist:<name>`;
    /// details: the link's name, never its secret).
    ShareCreated,
    ShareRevoked,
    PlaylistCreated,
    PlaylistUpdated,
    PlaylistDeleted,
    /// `dashboard import`: one entry for the whole file (details: what it created, updated, deleted).
    Import,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BoardCreated => "board.created",
            Self::BoardUpdated => "board.updated",
            Self::BoardDeleted => "board.deleted",
            Self::WidgetCreated => "widget.created",
            Self::WidgetUpdated => "widget.updated",
            Self::WidgetDeleted => "widget.deleted",
            Self::LayoutUpdated => "layout.updated",
            Self::TokenCreated => "token.created",
            Self::TokenRevoked => "token.revoked",
            Self::VisibilityChanged => "visibility.changed",
            Self::ShareCreated => "share.created",
            Self::ShareRevoked => "share.revoked",
            Self::PlaylistCreated => "playlist.created",
            Self::PlaylistUpdated => "playlist.updated",
            Self::PlaylistDeleted => "playlist.deleted",
            Self::Import => "import",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: SqlJson<Json>,
}

/// Records a change. Call it on the transaction that makes the change.
pub async fn record(
    conn: &mut PgConnection,
    actor: &str,
    action: Action,
    target: &str,
    details: Json,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4)")
        .bind(actor)
        .bind(action.as_str())
        .bind(target)
        .bind(SqlJson(details))
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub async fn newest(db: &Db, limit: i64) -> StoreResult<Vec<AuditEntry>> {
    let rows = sqlx::query_as(
        "SELECT id, at, actor, action, target, details FROM audit_log ORDER BY at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// The fields an update changed, as `{"field": {"old": …, "new": …}}`.
#[derive(Default)]
pub struct Changes(Map<String, Json>);

impl Changes {
    pub fn field<T: PartialEq + Serialize>(&mut self, name: &str, old: &T, new: &T) -> &mut Self {
        if old != new {
            self.0.insert(name.into(), json!({"old": old, "new": new}));
        }
        self
    }

    /// A field whose values may hold secrets (a widget's config, with its source's URL and
    /// headers): only the names of its keys that changed are recorded.
    pub fn keys_of(&mut self, name: &str, old: &Json, new: &Json) -> &mut Self {
        let empty = Map::new();
        let (old, new) = (old.as_object().unwrap_or(&empty), new.as_object().unwrap_or(&empty));
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).filter(|k| old.get(*k) != new.get(*k)).collect();
        if !keys.is_empty() {
            self.0.insert(name.into(), json!({ "changed": keys }));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_json(self) -> Json {
        Json::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_recorded_and_config_by_key_name_only() {
        let mut changes = Changes::default();
        changes.field("title", &"Ops", &"Ops <new>").field("columns", &4, &4);
        let old = json!({"unit": "ms", "source": {"url": "https://x/?key=hunter2"}, "max": 1});
        let new = json!({"unit": "ms", "source": {"url": "https://x/?key=swordfish"}, "min": 0});
        changes.keys_of("config", &old, &new);
        let json = changes.into_json();
        assert_eq!(
            json,
            json!({"title": {"old": "Ops", "new": "Ops <new>"}, "config": {"changed": ["max", "min", "source"]}})
        );
        assert!(!json.to_string().contains("hunter2") && !json.to_string().contains("swordfish"));
        assert!(Changes::default().field("slug", &"a", &"a").is_empty());
    }
}
