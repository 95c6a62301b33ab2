//! `/manage/playlists`: the playlists with a form that makes one, and per playlist a form that
//! changes it and a button that deletes it. The writes are the API's own (`routes::playlists`),
//! so a token limited to boards manages only playlists all of whose boards are its own.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::{Value as Json, json};

use super::forms::{FieldErrors, number_or_text};
use super::session::{Manager, NoFields, Submitted};
use super::{PageChrome, redirect, render};
use crate::domain::Slug;
use crate::http::pages::PageError;
use crate::http::pages::layout::Layout;
use crate::http::routes::playlists::{create_as, delete_as, update_as};
use crate::http::{ApiError, AppState};
use crate::store::StoreError;
use crate::store::playlists::{self, PlaylistRow};

/// The error keys the form shows next to its fields.
const FIELDS: &[&str] = &["name", "title", "interval_s", "boards"];

#[derive(Template)]
#[template(path = "manage/playlists.html")]
struct PlaylistsPage {
    layout: Layout,
    frame: PageChrome,
    /// Every playlist, on the list page; empty on a playlist's own page.
    playlists: Vec<PlaylistRow>,
    /// The playlist the form changes; `None`: the form makes a new one.
    editing: Option<String>,
    form: PlaylistForm,
    errors: FieldErrors,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct PlaylistForm {
    name: String,
    title: String,
    interval_s: String,
    /// Board slugs in order, separated by commas or spaces.
    boards: String,
}

impl PlaylistForm {
    fn blank() -> Self {
        Self { interval_s: "30".into(), ..Self::default() }
    }

    fn of(playlist: &PlaylistRow) -> Self {
        Self {
            name: playlist.name.clone(),
            title: playlist.title.clone(),
            interval_s: playlist.interval_s.to_string(),
            boards: playlist.boards.join(", "),
        }
    }

    /// The API's body for these fields; what is wrong with them the API's parser says.
    fn json(&self) -> Json {
        let boards: Vec<&str> = self.boards.split([',', ' ', '\n', '\r', '\t']).filter(|s| !s.is_empty()).collect();
        json!({
            "name": self.name.trim(),
            "title": self.title,
            "interval_s": number_or_text(self.interval_s.trim()),
            "boards": boards,
        })
    }
}

pub async fn index(state: web::Data<AppState>, manager: Manager) -> Result<HttpResponse, PageError> {
    list_page(&state, &manager, PlaylistForm::blank(), FieldErrors::default(), StatusCode::OK).await
}

pub async fn create(state: web::Data<AppState>, submitted: Submitted<PlaylistForm>) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    match create_as(&state, &manager.caller, &form.json()).await {
        Ok(playlist) => {
            manager.flash(&format!("Playlist “{}” created.", playlist.title)).await;
            Ok(redirect("/manage/playlists"))
        }
        Err(error) => {
            let errors = FieldErrors::from_api(error, FIELDS)?;
            list_page(&state, &manager, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    manager: Manager,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let audience = manager.caller.audience();
    let playlist = playlists::find_visible(&state.db, &path, &audience).await.map_err(missing(&path))?;
    edit_page(&manager, &path, PlaylistForm::of(&playlist), FieldErrors::default(), StatusCode::OK)
}

pub async fn update(
    state: web::Data<AppState>,
    submitted: Submitted<PlaylistForm>,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    match update_as(&state, &manager.caller, &path, &form.json()).await {
        Ok(playlist) => {
            manager.flash(&format!("Playlist “{}” saved.", playlist.title)).await;
            Ok(redirect("/manage/playlists"))
        }
        Err(error @ ApiError::NotFound(_)) => Err(error.into()),
        Err(error) => {
            let errors = FieldErrors::from_api(error, FIELDS)?;
            edit_page(&manager, &path, form, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    submitted: Submitted<NoFields>,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let manager = submitted.manager;
    delete_as(&state, &manager.caller, &path).await?;
    manager.flash(&format!("Playlist “{}” deleted.", path.as_str())).await;
    Ok(redirect("/manage/playlists"))
}

async fn list_page(
    state: &AppState,
    manager: &Manager,
    form: PlaylistForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let playlists = playlists::list(&state.db, &manager.caller.audience()).await?;
    let layout = Layout::new("Playlists");
    render(&PlaylistsPage { layout, frame: PageChrome::from(manager), playlists, editing: None, form, errors }, status)
}

fn edit_page(
    manager: &Manager,
    name: &str,
    form: PlaylistForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let page = PlaylistsPage {
        layout: Layout::new(format!("Playlist {name}")),
        frame: PageChrome::from(manager),
        playlists: Vec::new(),
        editing: Some(name.to_string()),
        form,
        errors,
    };
    render(&page, status)
}

fn missing(name: &str) -> impl FnOnce(StoreError) -> PageError + '_ {
    move |error| match error {
        StoreError::NotFound => PageError::NotFound(format!("There is no playlist called “{name}”.")),
        other => other.into(),
    }
}
