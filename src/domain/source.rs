//! A widget's pull source, `config.source`:
//! `{"url": "https://…", "interval_s": ≥ 5, "pointer": "/json/pointer", "headers": {…}}`.
//!
//! `headers` are request headers sent to the URL, typically a key (`Authorization`). They are
//! write-only: stored and sent, never shown. Where a source is shown at all (management views
//! only: its URL may carry a key too), `headers` is replaced by `header_names`; a config sent
//! back with `header_names` and no `headers` keeps the stored headers (see
//! [`keep_stored_headers`]). The public sees no source at all ([`public_config`]).

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value as Json};
use url::Url;

use super::fields::{Fields, ValidationErrors};

pub const MAX_HEADERS: usize = 10;
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;

/// Headers the HTTP client owns: hop-by-hop ones, and those that describe the connection or
/// the body rather than the request to the source.
const RESERVED_HEADERS: [&str; 11] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// A parsed source, as the pull job uses it and the widget form shows it.
#[derive(Debug, Clone)]
pub struct Source {
    pub url: Url,
    pub interval_s: i64,
    pub pointer: String,
    pub headers: HeaderMap,
}

/// Checks `source` and returns it as it is to be stored: `header_names` dropped, header names
/// in lower case; an omitted `headers` stays omitted (it means "keep the stored ones").
pub fn canonical(source: &Json) -> Result<Json, ValidationErrors> {
    let parsed = parse(source)?;
    let mut stored = source.as_object().cloned().unwrap_or_default();
    stored.remove("header_names");
    if stored.contains_key("headers") {
        let headers = parsed.headers.iter().map(|(name, value)| (name.to_string(), header_text(value))).collect();
        stored.insert("headers".into(), Json::Object(headers));
    }
    Ok(Json::Object(stored))
}

pub fn parse(source: &Json) -> Result<Source, ValidationErrors> {
    let mut f = Fields::of(source)
        .map_err(|_| ValidationErrors::single("", "must be an object with url, interval_s and pointer"))?;
    let url = match f.required_string("url", 1, 2000).map(|u| Url::parse(&u)) {
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Some(_) => f.fail("url", "must be an absolute http(s) URL"),
        None => None,
    };
    if f.raw("interval_s").is_none() {
        f.fail::<()>("interval_s", "is required");
    }
    let interval_s = f.integer("interval_s", 5, 86_400);
    let pointer = f.string("pointer", 500).unwrap_or_default();
    if !(pointer.is_empty() || pointer.starts_with('/')) {
        f.fail::<()>("pointer", "must be a JSON Pointer: empty or starting with '/'");
    }
    let headers = match f.raw("headers") {
        None | Some(Json::Null) => HeaderMap::new(),
        Some(raw) => parse_headers(raw).unwrap_or_else(|errors| {
            f.errors.merge(errors.nested("headers"));
            HeaderMap::new()
        }),
    };
    match (url, interval_s) {
        (Some(url), Some(interval_s)) if f.errors.is_empty() => Ok(Source { url, interval_s, pointer, headers }),
        _ => Err(f.errors),
    }
}

/// `{"Authorization": "Bearer …"}` → a header map, values marked sensitive so that no debug
/// output of the client shows them. Errors are keyed `""` or `.{name}`.
fn parse_headers(raw: &Json) -> Result<HeaderMap, ValidationErrors> {
    let Some(items) = raw.as_object().filter(|items| items.len() <= MAX_HEADERS) else {
        let message = format!("must be an object of at most {MAX_HEADERS} header names and their text values");
        return Err(ValidationErrors::single("", message));
    };
    let mut errors = ValidationErrors::default();
    let mut headers = HeaderMap::new();
    for (given, value) in items {
        match parse_header(given, value) {
            Ok((name, value)) => {
                if headers.insert(name, value).is_some() {
                    errors.add(format!(".{given}"), "is given twice (header names ignore case)");
                }
            }
            Err(message) => errors.add(format!(".{given}"), message),
        }
    }
    errors.into_result(headers)
}

fn parse_header(name: &str, value: &Json) -> Result<(HeaderName, HeaderValue), &'static str> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| "is not a valid header name")?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err("is set by the HTTP client itself and cannot be given");
    }
    let text = value.as_str().ok_or("must be text")?;
    if text.len() > MAX_HEADER_VALUE_BYTES {
        return Err("is longer than 4096 bytes");
    }
    let mut value = HeaderValue::from_str(text).map_err(|_| "must be visible ASCII characters, spaces or tabs")?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// Values were checked to be visible ASCII, so they are text.
fn header_text(value: &HeaderValue) -> Json {
    Json::String(value.to_str().unwrap_or_default().to_string())
}

/// A config as the public sees it: without its source.
pub fn public_config(config: &Map<String, Json>) -> Json {
    let mut shown = config.clone();
    shown.remove("source");
    Json::Object(shown)
}

/// A config as management views see it: the source's headers as their names only.
pub fn managed_config(config: &Map<String, Json>) -> Json {
    let mut shown = config.clone();
    if let Some(Json::Object(source)) = shown.get_mut("source") {
        let names = header_names(source);
        source.remove("headers");
        source.insert("header_names".into(), names.into());
    }
    Json::Object(shown)
}

/// The stored header names of a source, in the order management views list them.
pub(super) fn header_names(source: &Map<String, Json>) -> Vec<String> {
    source.get("headers").and_then(Json::as_object).map(|h| h.keys().cloned().collect()).unwrap_or_default()
}

/// For an edit whose source has no `headers` (nobody can read them back to send them again):
/// the stored ones are kept, as long as the URL still goes to the same origin. Sent to a
/// different host, they would hand its keys to whoever runs that host, so a new origin needs
/// the headers given again (or `{}` to drop them).
pub fn keep_stored_headers(config: &mut Map<String, Json>, stored: &Map<String, Json>) -> Result<(), ValidationErrors> {
    let Some(Json::Object(source)) = config.get_mut("source") else { return Ok(()) };
    let stored_source = stored.get("source");
    let stored_headers =
        stored_source.and_then(|s| s.get("headers")).filter(|h| h.as_object().is_some_and(|h| !h.is_empty()));
    let Some(stored_headers) = stored_headers.filter(|_| !source.contains_key("headers")) else { return Ok(()) };
    let origin = |source: Option<&Json>| {
        source.and_then(|s| s.get("url")).and_then(Json::as_str).and_then(|u| Url::parse(u).ok()).map(|u| u.origin())
    };
    let new_origin = origin(Some(&Json::Object(source.clone())));
    if new_origin.is_none() || new_origin != origin(stored_source) {
        return Err(ValidationErrors::single(
            "config.source.headers",
            "the URL now goes to another host: give the headers again, or {} to send none",
        ));
    }
    source.insert("headers".into(), stored_headers.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(headers: Json) -> Json {
        json!({"url": "https://api.example.com/v1?key=k", "interval_s": 60, "pointer": "/v", "headers": headers})
    }

    #[test]
    fn headers_are_checked_and_stored_lower_case() {
        let stored = canonical(&source(json!({"Authorization": "Bearer abc", "X-Api-Key": "k"}))).unwrap();
        assert_eq!(stored["headers"], json!({"authorization": "Bearer abc", "x-api-key": "k"}));
        let parsed = parse(&stored).unwrap();
        assert!(parsed.headers["authorization"].is_sensitive());
    }

    #[test]
    fn bad_headers_are_named() {
        let cases = [
            (json!({"Host": "intranet"}), ".Host"),
            (json!({"Connection": "close"}), ".Connection"),
            (json!({"Transfer-Encoding": "chunked"}), ".Transfer-Encoding"),
            (json!({"bad name": "x"}), ".bad name"),
            (json!({"X-A": "line\nbreak"}), ".X-A"),
            (json!({"X-A": 5}), ".X-A"),
            (json!({"X-A": "x".repeat(MAX_HEADER_VALUE_BYTES + 1)}), ".X-A"),
            (json!({"X-A": "1", "x-a": "2"}), ".x-a"),
            (json!(["Authorization"]), ""),
            (Json::Object((0..=MAX_HEADERS).map(|i| (format!("x-{i}"), json!("v"))).collect()), ""),
        ];
        for (headers, field) in cases {
            let errors = canonical(&source(headers.clone())).unwrap_err();
            assert!(errors.get(&format!("headers{field}")).is_some(), "{headers}: {errors:?}");
        }
    }

    #[test]
    fn views_hide_what_they_must() {
        let config =
            json!({"unit": "ms", "source": canonical(&source(json!({"Authorization": "Bearer abc"}))).unwrap()});
        let config = config.as_object().unwrap();
        assert_eq!(public_config(config), json!({"unit": "ms"}));
        let managed = managed_config(config);
        assert_eq!(managed["source"]["header_names"], json!(["authorization"]));
        assert!(!managed.to_string().contains("Bearer abc"));
        assert_eq!(canonical(&managed["source"]).unwrap().get("headers"), None, "sent back, it keeps the stored ones");
    }

    #[test]
    fn an_edit_without_headers_keeps_them_for_the_same_origin_only() {
        let stored = json!({"source": canonical(&source(json!({"Authorization": "Bearer abc"}))).unwrap()});
        let edit = |url: &str, headers: Option<Json>| {
            let mut source = json!({"url": url, "interval_s": 30, "pointer": "/v"});
            if let Some(headers) = headers {
                source["headers"] = headers;
            }
            let mut config = json!({"source": source}).as_object().cloned().unwrap();
            keep_stored_headers(&mut config, stored.as_object().unwrap()).map(|()| config["source"]["headers"].clone())
        };
        assert_eq!(edit("https://api.example.com/v2", None).unwrap(), json!({"authorization": "Bearer abc"}));
        assert_eq!(edit("https://api.example.com/v2", Some(json!({}))).unwrap(), json!({}), "{{}} clears them");
        assert!(edit("https://elsewhere.example/v1", None).unwrap_err().get("config.source.headers").is_some());
        assert!(edit("http://api.example.com/v1", None).is_err(), "another scheme is another origin");
        assert_eq!(edit("https://elsewhere.example/v1", Some(json!({"X-K": "1"}))).unwrap(), json!({"X-K": "1"}));
    }
}
