//! Pull sources: a widget whose `config.source` is `{"url", "interval_s", "pointer", "headers"}`
//! gets the value at the JSON Pointer of the JSON at `url` (requested with `headers`) pushed
//! every `interval_s` seconds, as an event like any other push.

use serde_json::{Value as Json, json};

use super::JobContext;
use super::source_client::SourceError;
use crate::domain::{ValidationErrors, Value, WidgetKind};
use crate::store::events::{self, NewEvent};
use crate::store::widgets;

/// Why a run pushed nothing; the text is recorded on the job and shown to management views,
/// [`Self::class`] to everyone.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Fetch(#[from] SourceError),
    #[error("no value at JSON Pointer {0:?} in the response")]
    MissingPointer(String),
    #[error("the value at {pointer:?} does not fit a {kind} widget: {reason}")]
    Invalid { pointer: String, kind: WidgetKind, reason: String },
    #[error("the widget's source is not usable: {0}")]
    BadConfig(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl PullError {
    /// What the public may know of the failure (see [`SourceError::class`]).
    pub fn class(&self) -> String {
        match self {
            Self::Fetch(error) => error.class(),
            Self::MissingPointer(_) => "no value at the pointer".into(),
            Self::Invalid { .. } => "value rejected".into(),
            Self::BadConfig(_) => "bad source".into(),
            Self::Store(_) => "failed".into(),
        }
    }
}

/// Fetches the widget's source once and pushes the value; returns what was pushed.
pub async fn run(ctx: &JobContext, widget_id: i64) -> Result<String, PullError> {
    let mut conn = ctx.db.acquire().await.map_err(crate::store::StoreError::from)?;
    let widget = widgets::by_id(&mut conn, widget_id).await?;
    let Some(source) = widget.config.source() else {
        return Ok("the widget has no source any more; nothing to do".into());
    };
    let source = source.as_ref().map_err(|errors| PullError::BadConfig(describe(errors)))?;
    // No connection is held while waiting on the network.
    drop(conn);
    let document = ctx.sources.fetch_json(&source.url, source.headers.clone()).await?;
    let found = document.pointer(&source.pointer).ok_or_else(|| PullError::MissingPointer(source.pointer.clone()))?;
    let kind = widget.kind;
    let parsed = Value::parse(kind, as_value_object(kind, found.clone()))
        .and_then(|value| value.check_image_host(&ctx.settings.image_hosts).map(|()| value));
    let value = parsed.map_err(|errors| PullError::Invalid {
        pointer: source.pointer.clone(),
        kind,
        reason: describe(&errors),
    })?;
    let mut conn = ctx.db.acquire().await.map_err(crate::store::StoreError::from)?;
    let inserted = events::insert(&mut conn, vec![NewEvent { widget: &widget, value }]).await?;
    ctx.realtime.events_committed(&inserted);
    Ok(format!("pushed event {} to {}/{}", inserted[0].id, widget.board, widget.key))
}

fn describe(errors: &ValidationErrors) -> String {
    errors.iter().map(|(field, message)| format!("{field} {message}")).collect::<Vec<_>>().join("; ")
}

/// Wraps a bare value in the object its kind needs, so a source can point straight at a number
/// or a string: `42` becomes `{"value": 42}` for number, gauge and line widgets (so does
/// `"42"`: many APIs send numbers as strings), `"v1.2"` `{"text": "v1.2"}`, `"ok"`
/// `{"status": "ok"}`, a list `{"items": […]}`. An object is taken as the value object itself.
/// A bare value of the wrong type is wrapped all the same, so that validation names what is
/// wrong with it (`value must be a finite number`).
pub fn as_value_object(kind: WidgetKind, found: Json) -> Json {
    if found.is_object() {
        return found;
    }
    match kind {
        WidgetKind::Number | WidgetKind::Gauge | WidgetKind::Line => json!({ "value": number_in_text(found) }),
        WidgetKind::Text => match found {
            Json::Number(_) | Json::Bool(_) => json!({ "text": found.to_string() }),
            other => json!({ "text": other }),
        },
        WidgetKind::Status => json!({ "status": found }),
        WidgetKind::List => json!({ "items": found }),
        WidgetKind::Table => json!({ "rows": found }),
        WidgetKind::Bar => json!({ "bars": found }),
        WidgetKind::Image => json!({ "url": found }),
        WidgetKind::Clock => json!({ "timezone": found }),
    }
}

/// `"67012.55"` → `67012.55`; anything else as it was.
fn number_in_text(found: Json) -> Json {
    let parsed = found.as_str().and_then(|text| text.trim().parse::<f64>().ok()).and_then(serde_json::Number::from_f64);
    parsed.map_or(found, Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_values_are_wrapped_for_their_kind() {
        assert_eq!(as_value_object(WidgetKind::Gauge, json!(73.5)), json!({"value": 73.5}));
        assert_eq!(as_value_object(WidgetKind::Number, json!(" 67012.55")), json!({"value": 67012.55}));
        assert_eq!(as_value_object(WidgetKind::Number, json!("NaN")), json!({"value": "NaN"}));
        assert_eq!(as_value_object(WidgetKind::Text, json!("v1.2")), json!({"text": "v1.2"}));
        assert_eq!(as_value_object(WidgetKind::Text, json!(3)), json!({"text": "3"}));
        assert_eq!(as_value_object(WidgetKind::Status, json!("ok")), json!({"status": "ok"}));
        let items = json!([{"label": "a", "value": 1}]);
        assert_eq!(as_value_object(WidgetKind::List, items.clone()), json!({ "items": items }));
        assert_eq!(as_value_object(WidgetKind::Number, json!({"value": 1})), json!({"value": 1}));
        let wrong = Value::parse(WidgetKind::Number, as_value_object(WidgetKind::Number, json!("high"))).unwrap_err();
        assert_eq!(wrong.get("value"), Some("must be a finite number"));
    }
}
