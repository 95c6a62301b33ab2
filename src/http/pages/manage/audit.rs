//! `/manage/audit`: the newest entries of the audit log, for admins.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::Value as Json;

use super::session::Manager;
use super::{PageChrome, render};
use crate::http::AppState;
use crate::http::pages::PageError;
use crate::http::pages::layout::Layout;
use crate::store::audit::{self, AuditEntry};

/// Entries the page shows; the API reads further back.
const SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "manage/audit.html")]
struct AuditPage {
    layout: Layout,
    frame: PageChrome,
    entries: Vec<Row>,
}

struct Row {
    at: String,
    entry: AuditEntry,
    details: String,
}

pub async fn show(state: web::Data<AppState>, manager: Manager) -> Result<HttpResponse, PageError> {
    manager.require_admin()?;
    let entries = audit::newest(&state.db, SHOWN).await?;
    let entries = entries
        .into_iter()
        .map(|entry| Row {
            at: entry.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            details: summary(&entry.details.0),
            entry,
        })
        .collect();
    render(&AuditPage { layout: Layout::new("Audit log"), frame: PageChrome::from(&manager), entries }, StatusCode::OK)
}

/// `{"title": {"old": "A", "new": "B"}, "kind": "gauge"}` → `title: A → B; kind: gauge`.
fn summary(details: &Json) -> String {
    let Some(fields) = details.as_object() else { return String::new() };
    fields
        .iter()
        .map(|(name, value)| match (value.get("old"), value.get("new")) {
            (Some(old), Some(new)) => format!("{name}: {} → {}", text(old), text(new)),
            _ => format!("{name}: {}", text(value)),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Object(object) if object.len() == 1 => object.values().map(text).collect(),
        Json::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn details_read_as_one_line() {
        let details = json!({"title": {"old": "A", "new": "B"}, "columns": {"old": 4, "new": 6}, "config": {"changed": ["max", "unit"]}});
        assert_eq!(summary(&details), "columns: 4 → 6; config: max, unit; title: A → B");
        assert_eq!(summary(&json!({"kind": "gauge"})), "kind: gauge");
        assert_eq!(summary(&json!({})), "");
    }
}
