//! Widget forms: `/manage/boards/{board}/new-widget`, `/manage/boards/{board}/widgets/{widget}`
//! (edit) and its delete. The form has a field per known config key; keys it does not know
//! (set through the API) are kept when a widget is edited.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value as Json, json};

use super::forms::{FieldErrors, JsonForm, number_or_text};
use super::session::{Manager, NoFields, Submitted};
use super::{PageChrome, redirect, render};
use crate::domain::{NewWidget, Slug, Threshold, WidgetKind, WidgetPatch};
use crate::http::pages::layout::Layout;
use crate::http::pages::{PageError, board_missing};
use crate::http::{ApiError, AppState};
use crate::store::boards::{self, BoardRow};
use crate::store::changes;
use crate::store::widgets::{self, WidgetRow};

/// The error keys the widget form shows next to its fields.
const FIELDS: &[&str] = &[
    "key",
    "title",
    "kind",
    "position",
    "config.unit",
    "config.decimals",
    "config.min",
    "config.max",
    "config.thresholds",
    "config.max_points",
    "config.stale_after",
    "config.width",
    "config.height",
    "config.sparkline",
    "config.horizontal",
    "config.fit",
    "config.timezone",
    "config.format",
    "config.seconds",
    "config.source.url",
    "config.source.interval_s",
    "config.source.pointer",
    "config.source.headers",
    "config.source",
];

/// Numeric config keys, each with a field of the same name.
const NUMERIC_CONFIG: [&str; 7] = ["decimals", "min", "max", "max_points", "stale_after", "width", "height"];

#[derive(Template)]
#[template(path = "manage/widget_form.html")]
struct WidgetFormPage {
    layout: Layout,
    frame: PageChrome,
    board: BoardRow,
    form: WidgetForm,
    errors: FieldErrors,
    /// The key of the widget being edited; `None` on the "new widget" form.
    editing: Option<Slug>,
    kinds: &'static [WidgetKind],
    source: SourceStatus,
}

/// What the edit form tells of a widget's stored source besides its fields: the names of its
/// headers (their values are never shown) and why its last fetch failed, in detail.
#[derive(Default)]
struct SourceStatus {
    header_names: Vec<String>,
    error: Option<String>,
}

impl SourceStatus {
    fn of(widget: &WidgetRow) -> Self {
        Self { header_names: widget.config.source_header_names(), error: widget.source_error_detail.clone() }
    }
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct WidgetForm {
    key: String,
    title: String,
    kind: String,
    position: String,
    unit: String,
    decimals: String,
    min: String,
    max: String,
    max_points: String,
    stale_after: String,
    width: String,
    height: String,
    /// One threshold a line: "70 #e5a50a".
    thresholds: String,
    /// Checkboxes: present when ticked.
    sparkline: String,
    horizontal: String,
    seconds: String,
    fit: String,
    timezone: String,
    format: String,
    source_url: String,
    source_interval_s: String,
    source_pointer: String,
    /// One header a line, "Name: value". Empty keeps the stored headers (which are never shown).
    source_headers: String,
    /// A checkbox: drop the stored headers.
    source_clear_headers: String,
}

impl WidgetForm {
    /// The form of a stored widget: each known config key as set, empty when it is not.
    fn of(widget: &WidgetRow) -> Self {
        let keys = widget.config.keys();
        let source = keys.source.as_ref().and_then(|source| source.as_ref().ok());
        Self {
            key: widget.key.clone(),
            title: widget.title.clone(),
            kind: widget.kind.to_string(),
            position: widget.position.to_string(),
            unit: widget.config.unit().to_string(),
            decimals: shown(keys.decimals),
            min: shown(keys.min),
            max: shown(keys.max),
            max_points: shown(keys.max_points),
            stale_after: shown(keys.stale_after),
            width: shown(keys.width),
            height: shown(keys.height),
            thresholds: thresholds_text(&keys.thresholds),
            sparkline: ticked(keys.sparkline),
            horizontal: ticked(keys.horizontal),
            seconds: ticked(keys.seconds),
            fit: shown(keys.fit),
            timezone: shown(keys.timezone.map(|tz| tz.name())),
            format: shown(keys.format),
            source_url: shown(source.map(|s| &s.url)),
            source_interval_s: shown(source.map(|s| s.interval_s)),
            source_pointer: shown(source.map(|s| &s.pointer)),
            ..Self::default()
        }
    }

    fn numeric(&self, key: &str) -> &str {
        match key {
            "decimals" => &self.decimals,
            "min" => &self.min,
            "max" => &self.max,
            "max_points" => &self.max_points,
            "stale_after" => &self.stale_after,
            "width" => &self.width,
            "height" => &self.height,
            _ => "",
        }
    }

    /// The config object: `base` (the widget's current config, when editing) with every key
    /// this form has a field for replaced by the field's value.
    fn config(&self, base: Map<String, Json>) -> Json {
        let mut config = JsonForm::from_map(base);
        config.text("unit", &self.unit);
        for key in NUMERIC_CONFIG {
            config.number(key, self.numeric(key));
        }
        config.set("thresholds", thresholds_json(&self.thresholds));
        for (key, value) in
            [("sparkline", &self.sparkline), ("horizontal", &self.horizontal), ("seconds", &self.seconds)]
        {
            config.set(key, (!value.is_empty()).then_some(Json::Bool(true)));
        }
        config.text("fit", &self.fit).text("timezone", &self.timezone).text("format", &self.format);
        config.set("source", self.source());
        config.build()
    }

    fn source(&self) -> Option<Json> {
        let mut source = JsonForm::default();
        source.text("url", &self.source_url).number("interval_s", &self.source_interval_s);
        source.text("pointer", &self.source_pointer).set("headers", self.headers());
        let source = source.build();
        source.as_object().is_some_and(|s| !s.is_empty()).then_some(source)
    }

    /// The typed headers; else `{}` when the stored ones are to be dropped; else none (keep).
    /// A line without a colon is passed on without a value, so the parser names it.
    fn headers(&self) -> Option<Json> {
        let typed: Map<String, Json> = self
            .source_headers
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once(':') {
                Some((name, value)) => (name.trim().to_string(), json!(value.trim())),
                None => (line.to_string(), Json::Null),
            })
            .collect();
        if !typed.is_empty() {
            return Some(Json::Object(typed));
        }
        (!self.source_clear_headers.is_empty()).then(|| json!({}))
    }

    fn new_widget_json(&self) -> Json {
        let mut json = JsonForm::default();
        json.text("key", &self.key).text("title", &self.title).text("kind", &self.kind);
        json.number("position", &self.position).set("config", Some(self.config(Map::new())));
        json.build()
    }

    fn patch_json(&self, current: &WidgetRow) -> Json {
        let base = current.config.as_map().clone();
        let mut json = JsonForm::default();
        // Required on edit: an emptied key or title is an error, not "unchanged".
        json.set("key", Some(json!(self.key))).set("title", Some(json!(self.title)));
        json.number("position", &self.position).set("config", Some(self.config(base)));
        json.build()
    }
}

/// A checkbox's value: "on" when the key is true.
fn ticked(value: Option<bool>) -> String {
    if value == Some(true) { "on".into() } else { String::new() }
}

/// A value as its field shows it; empty when it is not set.
fn shown(value: Option<impl ToString>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// "70 #e5a50a" lines → `[{"value": 70, "color": "#e5a50a"}]`. A line that is not a number
/// and a colour is passed on as it is, so the parser names it (`config.thresholds[2]`).
fn thresholds_json(text: &str) -> Option<Json> {
    let items: Vec<Json> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let parts: Vec<&str> =
                line.split(|c: char| c.is_whitespace() || c == ',' || c == ':').filter(|p| !p.is_empty()).collect();
            match parts.as_slice() {
                [value, color] => json!({"value": number_or_text(value), "color": color}),
                _ => json!({"value": line}),
            }
        })
        .collect();
    (!items.is_empty()).then_some(Json::Array(items))
}

fn thresholds_text(thresholds: &[Threshold]) -> String {
    thresholds.iter().map(|t| format!("{} {}", t.value, t.color)).collect::<Vec<_>>().join("\n")
}

pub async fn new(
    state: web::Data<AppState>,
    manager: Manager,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    manager.require_board(&path)?;
    let board = find_board(&state, &path).await?;
    let form = WidgetForm { kind: "number".into(), ..WidgetForm::default() };
    FormPage::new_widget(board, form, FieldErrors::default()).render(&manager, StatusCode::OK)
}

pub async fn create(
    state: web::Data<AppState>,
    submitted: Submitted<WidgetForm>,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    manager.require_board(&path)?;
    let board = find_board(&state, &path).await?;
    let created = match NewWidget::parse(&form.new_widget_json()) {
        Ok(new) => changes::create_widget(&mut *state.conn().await?, manager.caller.name(), &board, &new)
            .await
            .map_err(ApiError::from),
        Err(errors) => Err(errors.into()),
    };
    match created {
        Ok(widget) => {
            state.realtime.board_changed(&board.slug, "widget_created");
            manager.flash(&format!("Widget “{}” added.", widget.title)).await;
            Ok(redirect(&format!("/manage/boards/{}", board.slug)))
        }
        Err(error) => {
            let errors = FieldErrors::from_api(error, FIELDS)?;
            FormPage::new_widget(board, form, errors).render(&manager, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    manager: Manager,
    path: web::Path<(Slug, Slug)>,
) -> Result<HttpResponse, PageError> {
    let (slug, key) = path.into_inner();
    manager.require_board(&slug)?;
    let board = find_board(&state, &slug).await?;
    let widget = find_widget(&state, &slug, &key).await?;
    let source = SourceStatus::of(&widget);
    let page =
        FormPage { board, form: WidgetForm::of(&widget), errors: FieldErrors::default(), editing: Some(key), source };
    page.render(&manager, StatusCode::OK)
}

pub async fn update(
    state: web::Data<AppState>,
    submitted: Submitted<WidgetForm>,
    path: web::Path<(Slug, Slug)>,
) -> Result<HttpResponse, PageError> {
    let Submitted { manager, mut form } = submitted;
    let (slug, key) = path.into_inner();
    manager.require_board(&slug)?;
    let board = find_board(&state, &slug).await?;
    let current = find_widget(&state, &slug, &key).await?;
    let parsed = WidgetPatch::parse(&form.patch_json(&current)).and_then(|mut patch| {
        patch.config.as_mut().map_or(Ok(()), |config| config.keep_source_headers(&current.config)).map(|()| patch)
    });
    let updated = match parsed {
        Ok(patch) => changes::update_widget(&mut *state.conn().await?, manager.caller.name(), &slug, &key, &patch)
            .await
            .map_err(ApiError::from),
        Err(errors) => Err(errors.into()),
    };
    match updated {
        Ok(widget) => {
            state.realtime.board_changed(&slug, "widget_updated");
            manager.flash(&format!("Widget “{}” saved.", widget.title)).await;
            Ok(redirect(&format!("/manage/boards/{slug}")))
        }
        Err(error) => {
            let errors = FieldErrors::from_api(error, FIELDS)?;
            form.kind = current.kind.to_string();
            let page = FormPage { board, form, errors, editing: Some(key), source: SourceStatus::of(&current) };
            page.render(&manager, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    submitted: Submitted<NoFields>,
    path: web::Path<(Slug, Slug)>,
) -> Result<HttpResponse, PageError> {
    let (slug, key) = path.into_inner();
    let manager = submitted.manager;
    manager.require_board(&slug)?;
    changes::delete_widget(&mut *state.conn().await?, manager.caller.name(), &slug, &key)
        .await
        .map_err(widget_missing(&slug, &key))?;
    state.realtime.board_changed(&slug, "widget_deleted");
    manager.flash(&format!("Widget “{key}” deleted, with its history.")).await;
    Ok(redirect(&format!("/manage/boards/{slug}")))
}

async fn find_board(state: &AppState, slug: &str) -> Result<BoardRow, PageError> {
    boards::find(&mut *state.conn().await?, slug).await.map_err(board_missing(slug))
}

async fn find_widget(state: &AppState, slug: &str, key: &str) -> Result<WidgetRow, PageError> {
    widgets::find(&mut *state.conn().await?, slug, key).await.map_err(widget_missing(slug, key))
}

fn widget_missing<'a>(slug: &'a str, key: &'a str) -> impl FnOnce(crate::store::StoreError) -> PageError + 'a {
    move |error| match error {
        crate::store::StoreError::NotFound => {
            PageError::NotFound(format!("The board “{slug}” has no widget called “{key}”."))
        }
        other => other.into(),
    }
}

/// What a widget form page shows.
struct FormPage {
    board: BoardRow,
    form: WidgetForm,
    errors: FieldErrors,
    editing: Option<Slug>,
    source: SourceStatus,
}

impl FormPage {
    fn new_widget(board: BoardRow, form: WidgetForm, errors: FieldErrors) -> Self {
        Self { board, form, errors, editing: None, source: SourceStatus::default() }
    }

    fn render(self, manager: &Manager, status: StatusCode) -> Result<HttpResponse, PageError> {
        let title = if self.editing.is_some() {
            format!("Edit {}", self.form.title)
        } else {
            format!("New widget on {}", self.board.title)
        };
        let page = WidgetFormPage {
            layout: Layout::new(title),
            frame: PageChrome::from(manager),
            board: self.board,
            form: self.form,
            errors: self.errors,
            editing: self.editing,
            kinds: WidgetKind::ALL,
            source: self.source,
        };
        render(&page, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_trip_through_text() {
        let json = thresholds_json("70 #e5a50a\n\n 90: red ").unwrap();
        assert_eq!(json, json!([{"value": 70, "color": "#e5a50a"}, {"value": 90, "color": "red"}]));
        let read = [Threshold { value: 70.0, color: "#e5a50a".into() }, Threshold { value: 90.5, color: "red".into() }];
        assert_eq!(thresholds_text(&read), "70 #e5a50a\n90.5 red");
        assert_eq!(thresholds_json("  \n"), None);
        assert_eq!(thresholds_json("lots").unwrap()[0], json!({"value": "lots"}));
    }

    #[test]
    fn editing_keeps_config_keys_the_form_does_not_know() {
        let form = WidgetForm { unit: "ms".into(), max: "10".into(), ..WidgetForm::default() };
        let base = json!({"unit": "s", "min": 1, "custom": true}).as_object().cloned().unwrap();
        assert_eq!(form.config(base), json!({"unit": "ms", "max": 10, "custom": true}));
    }
}
