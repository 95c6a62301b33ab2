//! Board forms: the list at `/manage`, `/manage/new-board`, `/manage/boards/{board}` (edit,
//! with the board's widgets and share links) and its delete.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::forms::{FieldErrors, JsonForm};
use super::session::{Manager, NoFields, Submitted};
use super::{PageChrome, redirect, render};
use crate::domain::{BoardPatch, NewBoard, Role, Slug};
use crate::http::pages::layout::Layout;
use crate::http::pages::{PageError, board_missing};
use crate::http::{ApiError, AppState};
use crate::store::boards::{self, BoardRow, BoardSummary};
use crate::store::changes;
use crate::store::shares::{self, ShareRow};
use crate::store::widgets::{self, WidgetView};

/// The error keys the board form shows next to its fields.
const FIELDS: &[&str] = &["title", "slug", "description", "columns", "visibility"];

#[derive(Template)]
#[template(path = "manage/index.html")]
struct IndexPage {
    layout: Layout,
    frame: PageChrome,
    boards: Vec<BoardSummary>,
    /// Links to the audit log, which only admins may read.
    is_admin: bool,
    may_create: bool,
}

#[derive(Template)]
#[template(path = "manage/board_form.html")]
struct BoardFormPage {
    layout: Layout,
    frame: PageChrome,
    form: BoardForm,
    errors: FieldErrors,
    /// The board being edited (its current slug and widgets); `None` on the "new board" form.
    editing: Option<Editing>,
}

pub(super) struct Editing {
    board: BoardRow,
    widgets: Vec<WidgetView>,
    /// The widgets as the layout editor draws them, in the board's order.
    tiles: Vec<LayoutTile>,
    shares: Vec<ShareRow>,
    /// A share link just made: its address, shown this once.
    pub new_link: Option<NewLink>,
    /// Why the share link form was refused.
    pub share_error: Option<String>,
}

/// A widget on the layout editor's grid, drawn with the board's own span classes.
struct LayoutTile {
    key: String,
    title: String,
    kind: &'static str,
    /// `config.width` as stored (the editor sends it back unchanged unless the widget is resized).
    width: i64,
    /// The columns it spans on this board, which may be fewer.
    shown_width: i64,
    height: i64,
}

impl LayoutTile {
    fn of(view: &WidgetView, columns: i64) -> Self {
        let widget = &view.widget;
        Self {
            key: widget.key.clone(),
            title: widget.title.clone(),
            kind: widget.kind.as_str(),
            width: widget.config.width(),
            shown_width: widget.config.width_within(columns),
            height: widget.config.height(),
        }
    }
}

pub(super) struct NewLink {
    pub name: String,
    pub url: String,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct BoardForm {
    title: String,
    slug: String,
    description: String,
    columns: String,
    visibility: String,
}

impl BoardForm {
    fn of(board: &BoardRow) -> Self {
        Self {
            title: board.title.clone(),
            slug: board.slug.clone(),
            description: board.description.clone(),
            columns: board.columns.to_string(),
            visibility: board.visibility.to_string(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let mut json = JsonForm::default();
        json.text("title", &self.title)
            .text("slug", &self.slug)
            .text_or_empty("description", &self.description)
            .number("columns", &self.columns)
            .text("visibility", &self.visibility);
        json.build()
    }
}

pub async fn index(state: web::Data<AppState>, manager: Manager) -> Result<HttpResponse, PageError> {
    // Only the boards it may manage: a limited editor sees public boards elsewhere, not here.
    let mut boards = boards::list(&state.db, &manager.caller.audience()).await?;
    boards.retain(|summary| manager.caller.may_see(&summary.board.slug));
    let is_admin = manager.caller.role() == Role::Admin;
    let may_create = manager.may_create_boards();
    let page =
        IndexPage { layout: Layout::new("Manage"), frame: PageChrome::from(&manager), boards, is_admin, may_create };
    render(&page, StatusCode::OK)
}

pub async fn new(state: web::Data<AppState>, manager: Manager) -> Result<HttpResponse, PageError> {
    manager.require_board_creation()?;
    let visibility = state.settings.default_board_visibility.to_string();
    let form = BoardForm { columns: "4".into(), visibility, ..BoardForm::default() };
    form_page(&manager, form, FieldErrors::default(), None, StatusCode::OK)
}

pub async fn create(state: web::Data<AppState>, submitted: Submitted<BoardForm>) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    manager.require_board_creation()?;
    let created = match NewBoard::parse(&form.to_json(), state.settings.default_board_visibility) {
        Ok(new) => {
            changes::create_board(&mut *state.conn().await?, manager.caller.name(), &new).await.map_err(ApiError::from)
        }
        Err(errors) => Err(errors.into()),
    };
    match created {
        Ok(board) => {
            state.realtime.board_created(&board.slug, board.visibility);
            manager.flash("Board created. Add its widgets below.").await;
            Ok(redirect(&format!("/manage/boards/{}", board.slug)))
        }
        Err(error) => {
            let errors = FieldErrors::from_api(error, FIELDS)?;
            form_page(&manager, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    manager: Manager,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    manager.require_board(&path)?;
    let editing = editing(&state, &path.into_inner()).await?;
    edit_page(&manager, editing, StatusCode::OK)
}

pub async fn update(
    state: web::Data<AppState>,
    submitted: Submitted<BoardForm>,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    let slug = path.into_inner();
    manager.require_board(&slug)?;
    let updated = match BoardPatch::parse(&form.to_json()) {
        Ok(patch) => changes::update_board(&mut *state.conn().await?, manager.caller.name(), &slug, &patch)
            .await
            .map_err(ApiError::from),
        Err(errors) => Err(errors.into()),
    };
    match updated {
        Ok(board) => {
            state.realtime.board_updated(&slug, &board.slug, board.visibility);
            manager.flash("Board saved.").await;
            Ok(redirect(&format!("/manage/boards/{}", board.slug)))
        }
        Err(error) => {
            let errors = FieldErrors::from_api(error, FIELDS)?;
            let editing = editing(&state, &slug).await?;
            form_page(&manager, form, errors, Some(editing), StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    submitted: Submitted<NoFields>,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let slug = path.into_inner();
    let manager = submitted.manager;
    manager.require_board(&slug)?;
    changes::delete_board(&mut *state.conn().await?, manager.caller.name(), &slug)
        .await
        .map_err(board_missing(&slug))?;
    state.realtime.board_changed(&slug, "deleted");
    manager.flash(&format!("Board “{slug}” deleted, with its widgets and their history.")).await;
    Ok(redirect("/manage"))
}

pub(super) async fn editing(state: &AppState, slug: &str) -> Result<Editing, PageError> {
    let mut conn = state.conn().await?;
    let board = boards::find(&mut conn, slug).await.map_err(board_missing(slug))?;
    let widgets = widgets::list_with_latest(&mut conn, &board).await?;
    let shares = shares::list(&state.db, Some(shares::Target::Board(slug))).await?;
    let tiles = widgets.iter().map(|view| LayoutTile::of(view, board.columns.into())).collect();
    Ok(Editing { board, widgets, tiles, shares, new_link: None, share_error: None })
}

/// The board's page as it is, with what the share link form left on it.
pub(super) fn edit_page(manager: &Manager, editing: Editing, status: StatusCode) -> Result<HttpResponse, PageError> {
    form_page(manager, BoardForm::of(&editing.board), FieldErrors::default(), Some(editing), status)
}

fn form_page(
    manager: &Manager,
    form: BoardForm,
    errors: FieldErrors,
    editing: Option<Editing>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let title = match &editing {
        Some(editing) => format!("Edit {}", editing.board.title),
        None => "New board".into(),
    };
    render(
        &BoardFormPage { layout: Layout::new(title), frame: PageChrome::from(manager), form, errors, editing },
        status,
    )
}
