use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use sqlx::postgres::PgRow;
use sqlx::types::Json as SqlJson;
use sqlx::{FromRow, PgConnection, Row};

use super::boards::BoardRow;
use super::events::EventRow;
use super::rows::{decode_each, decode_one};
use super::{StoreError, StoreResult};
use crate::domain::{Layout, NewWidget, WidgetConfig, WidgetKind, WidgetPatch};

#[derive(Debug, Clone, Serialize)]
pub struct WidgetRow {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub board_id: i64,
    pub board: String,
    pub key: String,
    pub title: String,
    pub kind: WidgetKind,
    /// Serialized without `source`: see [`WidgetRow::managed_json`] for who sees it.
    #[serde(serialize_with = "without_source")]
    pub config: WidgetConfig,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What anyone may know of why the widget's pull source last failed ("unreachable",
    /// "HTTP 4xx", …), until it next succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_error: Option<String>,
    /// The failure in detail ("connection refused", "HTTP 404"): management views only.
    #[serde(skip)]
    pub source_error_detail: Option<String>,
}

/// The public form of a config: a source's URL and headers may carry keys.
fn without_source<S: serde::Serializer>(config: &WidgetConfig, serializer: S) -> Result<S::Ok, S::Error> {
    config.public_json().serialize(serializer)
}

/// Written out so that a config this version cannot decode (a number an older version stored
/// that no double can hold, say) is logged and left out: the widget still shows, without it.
/// A kind this version does not know is an error: the readers skip the widget (see `rows`).
impl<'r> FromRow<'r, PgRow> for WidgetRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let id = row.try_get("id")?;
        let config = row.try_get("config").unwrap_or_else(|error| {
            tracing::warn!(widget = id, %error, "cannot decode the widget's config; showing the widget without it");
            SqlJson(Json::Object(Map::new()))
        });
        let kind = row
            .try_get::<String, _>("kind")?
            .try_into()
            .map_err(|message: String| sqlx::Error::ColumnDecode { index: "kind".into(), source: message.into() })?;
        Ok(Self {
            id,
            board_id: row.try_get("board_id")?,
            board: row.try_get("board")?,
            key: row.try_get("key")?,
            title: row.try_get("title")?,
            kind,
            config: WidgetConfig::from_stored(config.0),
            position: row.try_get("position")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            source_error: row.try_get("source_error")?,
            source_error_detail: row.try_get("source_error_detail")?,
        })
    }
}

impl WidgetRow {
    /// The widget as management views (signed in, or with an API token) see it: the config
    /// with its source (header names only, never their values) and `source_error_detail`.
    /// Serializing the row itself gives the public form.
    pub fn managed_json(&self) -> Json {
        let mut json = serde_json::to_value(self).unwrap_or_default();
        json["config"] = self.config.managed_json();
        if let Some(detail) = &self.source_error_detail {
            json["source_error_detail"] = Json::String(detail.clone());
        }
        json
    }
}

/// A widget with its newest event, as the API and the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct WidgetView {
    #[serde(flatten)]
    pub widget: WidgetRow,
    pub latest: Option<EventRow>,
}

impl WidgetView {
    /// See [`WidgetRow::managed_json`].
    pub fn managed_json(&self) -> Json {
        let mut json = self.widget.managed_json();
        json["latest"] = serde_json::to_value(&self.latest).unwrap_or_default();
        json
    }
}

/// The shared head of this module's queries, as a macro so `concat!` keeps them `&'static str`.
macro_rules! select_widgets {
    () => {
        "SELECT w.id, w.board_id, b.slug AS board, w.key, w.title, w.kind, w.config, w.position,
                             w.created_at, w.updated_at, source_job.last_error_class AS source_error,
                             source_job.last_error AS source_error_detail
                      FROM widgets w JOIN boards b ON b.id = w.board_id
                      LEFT JOIN jobs source_job ON source_job.widget_id = w.id"
    };
}

/// The board's widgets in their order on the page (one that cannot be decoded is left out).
pub async fn of_board(conn: &mut PgConnection, board_id: i64) -> StoreResult<Vec<WidgetRow>> {
    let rows = sqlx::query(concat!(select_widgets!(), " WHERE w.board_id = $1 ORDER BY w.position, w.id"))
        .bind(board_id)
        .fetch_all(conn)
        .await?;
    Ok(decode_each(&rows, "widgets"))
}

/// [`of_board`], each row locked until the end of the transaction: what a layout changes from.
pub async fn of_board_locked(conn: &mut PgConnection, board_id: i64) -> StoreResult<Vec<WidgetRow>> {
    let rows =
        sqlx::query(concat!(select_widgets!(), " WHERE w.board_id = $1 ORDER BY w.position, w.id FOR UPDATE OF w"))
            .bind(board_id)
            .fetch_all(conn)
            .await?;
    Ok(decode_each(&rows, "widgets"))
}

pub async fn list_with_latest(conn: &mut PgConnection, board: &BoardRow) -> StoreResult<Vec<WidgetView>> {
    let widgets = of_board(&mut *conn, board.id).await?;
    let mut latest = super::events::latest_per_widget(conn, board.id).await?;
    Ok(widgets
        .into_iter()
        .map(|widget| {
            let latest = latest.remove(&widget.id);
            WidgetView { widget, latest }
        })
        .collect())
}

pub async fn find(conn: &mut PgConnection, board: &str, key: &str) -> StoreResult<WidgetRow> {
    let row = sqlx::query(concat!(select_widgets!(), " WHERE b.slug = $1 AND w.key = $2"))
        .bind(board)
        .bind(key)
        .fetch_optional(conn)
        .await?;
    decode_one(row, "widgets")
}

/// The widget, locked until the end of the transaction: what an update changes from.
pub async fn find_locked(conn: &mut PgConnection, board: &str, key: &str) -> StoreResult<WidgetRow> {
    let row = sqlx::query(concat!(select_widgets!(), " WHERE b.slug = $1 AND w.key = $2 FOR UPDATE OF w"))
        .bind(board)
        .bind(key)
        .fetch_optional(conn)
        .await?;
    decode_one(row, "widgets")
}

pub async fn find_with_latest(conn: &mut PgConnection, board: &str, key: &str) -> StoreResult<WidgetView> {
    let widget = find(&mut *conn, board, key).await?;
    let latest = super::events::latest_of_widget(conn, widget.id).await?;
    Ok(WidgetView { widget, latest })
}

/// Not audited: a change made for a caller goes through [`super::changes`].
pub async fn create(conn: &mut PgConnection, board: &BoardRow, new: &NewWidget) -> StoreResult<WidgetRow> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO widgets (board_id, key, title, kind, config, position)
         VALUES ($1, $2, $3, $4, $5,
                 COALESCE($6, (SELECT COALESCE(max(position) + 1, 0) FROM widgets WHERE board_id = $1)))
         RETURNING id",
    )
    .bind(board.id)
    .bind(new.key.as_str())
    .bind(&new.title)
    .bind(new.kind.as_str())
    .bind(SqlJson(new.config.as_json()))
    .bind(new.position)
    .fetch_one(&mut *conn)
    .await?;
    by_id(conn, id).await
}

/// Not audited: a change made for a caller goes through [`super::changes`].
pub async fn update(conn: &mut PgConnection, board: &str, key: &str, patch: &WidgetPatch) -> StoreResult<WidgetRow> {
    let id: Option<i64> = sqlx::query_scalar(
        "UPDATE widgets w SET key = COALESCE($3, w.key), title = COALESCE($4, w.title),
                config = COALESCE($5, w.config), position = COALESCE($6, w.position), updated_at = now()
         FROM boards b WHERE b.id = w.board_id AND b.slug = $1 AND w.key = $2 RETURNING w.id",
    )
    .bind(board)
    .bind(key)
    .bind(patch.key.as_ref().map(|k| k.as_str()))
    .bind(&patch.title)
    .bind(patch.config.as_ref().map(|c| SqlJson(c.as_json())))
    .bind(patch.position)
    .fetch_optional(&mut *conn)
    .await?;
    by_id(conn, id.ok_or(StoreError::NotFound)?).await
}

/// Gives each widget of the layout (keys of board `board_id`) its position and its config its
/// `width` and `height`, keeping the config's other keys. Not audited: a change made for a caller
/// goes through [`super::changes`].
pub async fn place(conn: &mut PgConnection, board_id: i64, layout: &Layout) -> StoreResult<()> {
    let keys: Vec<&str> = layout.widgets.iter().map(|p| p.key.as_str()).collect();
    let positions: Vec<i32> = layout.widgets.iter().map(|p| p.position).collect();
    let widths: Vec<i64> = layout.widgets.iter().map(|p| p.width).collect();
    let heights: Vec<i64> = layout.widgets.iter().map(|p| p.height).collect();
    // A stored config that is not an object reads as empty (`WidgetConfig::from_stored`).
    sqlx::query(
        "UPDATE widgets w SET position = u.position, updated_at = now(),
                config = CASE jsonb_typeof(w.config) WHEN 'object' THEN w.config ELSE '{}' END
                         || jsonb_build_object('width', u.width, 'height', u.height)
         FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS u(key, position, width, height)
         WHERE w.board_id = $1 AND w.key = u.key",
    )
    .bind(board_id)
    .bind(keys)
    .bind(positions)
    .bind(widths)
    .bind(heights)
    .execute(conn)
    .await?;
    Ok(())
}

/// Not audited: a change made for a caller goes through [`super::changes`].
pub async fn delete(conn: &mut PgConnection, board: &str, key: &str) -> StoreResult<()> {
    let deleted =
        sqlx::query("DELETE FROM widgets w USING boards b WHERE b.id = w.board_id AND b.slug = $1 AND w.key = $2")
            .bind(board)
            .bind(key)
            .execute(conn)
            .await?;
    if deleted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn by_id(conn: &mut PgConnection, id: i64) -> StoreResult<WidgetRow> {
    let row = sqlx::query(concat!(select_widgets!(), " WHERE w.id = $1")).bind(id).fetch_optional(conn).await?;
    decode_one(row, "widgets")
}

/// The widgets of this key on any of `boards` (`None`: on any board), ordered by board.
pub async fn find_by_key(conn: &mut PgConnection, key: &str, boards: Option<&[String]>) -> StoreResult<Vec<WidgetRow>> {
    let rows = sqlx::query(concat!(
        select_widgets!(),
        " WHERE w.key = $1 AND ($2::text[] IS NULL OR b.slug = ANY($2)) ORDER BY b.slug"
    ))
    .bind(key)
    .bind(boards)
    .fetch_all(conn)
    .await?;
    Ok(decode_each(&rows, "widgets"))
}

/// The widgets named by (board, key) pairs, for a batch push; one that cannot be decoded is
/// left out, as a widget that does not exist.
pub async fn find_many(conn: &mut PgConnection, pairs: &[(String, String)]) -> StoreResult<Vec<WidgetRow>> {
    let (boards, keys): (Vec<&str>, Vec<&str>) = pairs.iter().map(|(b, k)| (b.as_str(), k.as_str())).unzip();
    let rows = sqlx::query(concat!(
        select_widgets!(),
        " WHERE (b.slug, w.key) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
    ))
    .bind(boards)
    .bind(keys)
    .fetch_all(conn)
    .await?;
    Ok(decode_each(&rows, "widgets"))
}
