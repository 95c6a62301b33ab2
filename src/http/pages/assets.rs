//! The files under `static/`, compiled into the binary (read from disk in debug builds) and
//! served with a strong ETag: browsers keep them and revalidate with a cheap 304.

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

use super::PageError;

#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct Assets;

/// Revalidate every time: the ES modules import each other without version numbers, so a
/// browser must never mix files of two releases.
const CACHE_CONTROL: &str = "no-cache";

pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(file) = Assets::get(&path) else {
        return PageError::NotFound("There is no such file.".into()).error_response();
    };
    let etag = EntityTag::new_strong(hex::encode(&file.metadata.sha256_hash()[..16]));
    let fresh = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&etag)),
        None => false,
    };
    let mut response = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header(header::ETag(etag)).insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    if fresh {
        return response.finish();
    }
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    response.content_type(content_type).body(file.data.into_owned())
}
