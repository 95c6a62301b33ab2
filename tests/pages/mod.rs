//! The HTML pages over real HTTP: what the server renders, its headers, and the
//! management forms' sign-in, CSRF and validation.

mod layout;
mod widget_kinds;

use crate::common;
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use common::sse::SseClient;
use common::{BOUND_VALUES, TestApp, UNDECODABLE_VALUE, create_token, raw_http};
use dashboard::domain::Role as TokenRole;
use dashboard::realtime::ticket::StreamTickets;
use dashboard::startup::Role;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value as Json, json};

pub(crate) async fn html(app: &TestApp, path: &str) -> (StatusCode, HeaderMap, String) {
    let response = app.client.get(app.url(path)).header("Accept", "text/html").send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// A board with one widget of every kind and values in each.
async fn board_with_values(app: &TestApp) -> i64 {
    app.post("/dashboard/boards", json!({"slug": "ops", "title": "Ops floor", "columns": 3})).await;
    let widgets = [
        json!({"key": "visitors", "title": "Visitors", "kind": "number", "config": {"unit": "users", "decimals": 1}}),
        json!({"key": "cpu", "title": "CPU", "kind": "gauge", "config": {"unit": "%", "min": 0, "max": 200,
            "thresholds": [{"value": 100, "color": "#e5a50a"}]}}),
        json!({"key": "rps", "title": "Requests", "kind": "line", "config": {"max_points": 3}}),
        json!({"key": "deploy", "title": "Deploy", "kind": "text"}),
        json!({"key": "pages", "title": "Pages", "kind": "list"}),
        json!({"key": "api", "title": "API", "kind": "status", "config": {"stale_after": 3600}}),
    ];
    for widget in widgets {
        assert_eq!(app.post("/dashboard/boards/ops/widgets", widget).await.status(), 201);
    }
    app.push("ops", "visitors", json!({"value": 1200})).await;
    app.push("ops", "visitors", json!({"value": 1234.5})).await;
    app.push("ops", "cpu", json!({"value": 150})).await;
    for value in [10, 20, 30, 40] {
        app.push("ops", "rps", json!({"value": value})).await;
    }
    app.push("ops", "deploy", json!({"text": "v1.2.3 shipped"})).await;
    app.push("ops", "pages", json!({"items": [{"label": "/pricing", "value": 842}, {"label": "/", "value": "many"}]}))
        .await;
    app.push("ops", "api", json!({"status": "warning", "message": "slow responses"})).await
}

#[tokio::test]
async fn board_page_renders_every_widget_with_its_latest_value() {
    let app = TestApp::spawn().await;
    let last_id = board_with_values(&app).await;

    let (status, headers, body) = html(&app, "/boards/ops").await;
    assert_eq!(status, 200);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains(&format!("data-last-event-id=\"{last_id}\"")), "the snapshot's id is embedded");
    assert!(body.contains("class=\"grid cols-3\""));
    // number: decimals, unit and the change against the previous value
    assert!(body.contains(">1,234.5<") && body.contains(">users<"), "number value");
    assert!(body.contains("34.5 (+2.9%)") && body.contains("change up"), "number change");
    // gauge: 150 of 0–200 fills 75 % of the arc, in the colour of the threshold reached
    assert!(body.contains("stroke-dasharray=\"75.00 100\" stroke=\"#e5a50a\""), "gauge arc");
    // line: only the newest max_points values
    assert!(body.contains("data-point-count=\"3\""), "line keeps max_points");
    assert!(body.contains(">40<"), "line's latest value");
    assert!(body.contains(">v1.2.3 shipped<"), "text");
    assert!(body.contains(">/pricing<") && body.contains(">842<") && body.contains(">many<"), "list rows");
    assert!(body.contains("status-warning") && body.contains(">Warning<") && body.contains(">slow responses<"));
    assert!(body.contains("data-stale-after=\"3600\"") && !body.contains("is-stale"), "fresh, not stale");
    assert!(body.contains("just now"), "updated … ago");
    assert_eq!(body.matches("<article class=\"card").count(), 6);
}

#[tokio::test]
async fn a_widget_without_values_and_a_stale_widget_say_so() {
    let app = TestApp::spawn().await;
    app.post("/dashboard/boards", json!({"slug": "b", "title": "B"})).await;
    app.post("/dashboard/boards/b/widgets", json!({"key": "n", "title": "N", "kind": "number"})).await;
    app.post(
        "/dashboard/boards/b/widgets",
        json!({"key": "s", "title": "S", "kind": "status", "config": {"stale_after": 1}}),
    )
    .await;
    app.push("b", "s", json!({"status": "ok"})).await;
    sqlx::query("UPDATE events SET created_at = now() - interval '1 hour'").execute(&app.db).await.unwrap();

    let (_, _, body) = html(&app, "/boards/b").await;
    assert!(body.contains("is-empty") && body.contains("no data yet"));
    assert!(body.contains("is-stale") && body.contains("1 h ago"));
}

/// The page shows numbers at the bounds as they were sent, reads a huge number an older version
/// stored, and skips what it cannot read: a value (the widget shows its other values or none) and
/// a config (the widget shows without it).
#[tokio::test]
async fn the_board_page_shows_numbers_at_the_bounds_and_skips_what_it_cannot_read() {
    let app = TestApp::spawn().await;
    let keys: Vec<String> = (0..BOUND_VALUES.len()).map(|i| format!("v{i}")).collect();
    let mut widgets: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "number")).collect();
    widgets.extend([("huge", "number"), ("bad", "number"), ("chart", "line"), ("noconf", "gauge")]);
    app.create_board("b", &widgets).await;
    for (key, value) in keys.iter().zip(BOUND_VALUES) {
        app.push("b", key, json!({"value": value})).await;
    }
    app.insert_raw_event("b", "huge", r#"{"value": 1.7976931348623157e308}"#).await;
    app.push("b", "bad", json!({"value": 5})).await;
    app.insert_raw_event("b", "bad", UNDECODABLE_VALUE).await;
    app.push("b", "chart", json!({"value": 1})).await;
    app.insert_raw_event("b", "chart", UNDECODABLE_VALUE).await;
    app.push("b", "chart", json!({"value": 2})).await;
    app.set_raw_config("b", "noconf", r#"{"max": 1e400}"#).await;

    let (status, _, body) = html(&app, "/boards/b").await;
    assert_eq!(status, 200);
    for value in BOUND_VALUES.into_iter().chain([f64::MAX]) {
        assert!(body.contains(&format!("data-value=\"{value}\"")), "{value} shown as sent");
    }
    assert!(body.contains("data-point-count=\"2\""), "the chart skips the point it cannot read");
    assert!(body.contains(r#"data-key="noconf" data-kind="gauge" data-config="{}""#), "shown without its config");
    assert_eq!(body.matches("<article class=\"card").count(), widgets.len());
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let app = TestApp::spawn().await;
    let evil = "<script>alert(1)</script>";
    app.post(
        "/dashboard/boards",
        json!({"slug": "x", "title": evil, "description": "\"><img src=x onerror=alert(2)>"}),
    )
    .await;
    app.post(
        "/dashboard/boards/x/widgets",
        json!({"key": "t", "title": evil, "kind": "text", "config": {"unit": evil}}),
    )
    .await;
    app.post("/dashboard/boards/x/widgets", json!({"key": "l", "title": "L", "kind": "list"})).await;
    app.push("x", "t", json!({"text": evil})).await;
    app.push("x", "l", json!({"items": [{"label": evil, "value": evil}]})).await;

    for path in ["/", "/boards/x"] {
        let (_, _, body) = html(&app, path).await;
        assert!(!body.contains(evil), "{path} has the raw script");
        assert!(!body.contains("<img src=x"), "{path} has the raw attribute break-out");
        assert!(
            body.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || body.contains("&lt;script&gt;"),
            "{path}"
        );
    }
    let (_, _, board) = html(&app, "/boards/x").await;
    // The config travels in an attribute, escaped too.
    assert!(board.contains("data-config=\"{&#34;unit&#34;:&#34;&#60;script&#62;"), "config attribute escaped");
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = TestApp::spawn().await;
    board_with_values(&app).await;
    let playlist = json!({"name": "wall", "title": "Wall", "interval_s": 5, "boards": ["ops"]});
    assert_eq!(app.post("/dashboard/playlists", playlist).await.status(), 201);
    let mut session = ManageSession::sign_in(&app).await;
    let pages = ["/", "/boards/ops", "/boards/ops?kiosk=1", "/playlists/wall", "/manage/sign-in"];
    let mut bodies = Vec::new();
    for path in pages {
        bodies.push((path.to_string(), html(&app, path).await.2));
    }
    let managed = ["/manage", "/manage/boards/ops", "/manage/boards/ops/widgets/cpu", "/manage/new-board"];
    for path in managed.into_iter().chain(["/manage/playlists", "/manage/playlists/wall"]) {
        bodies.push((path.to_string(), session.get(path).await.1));
    }
    for (path, body) in bodies {
        for tag in body.split("<script").skip(1) {
            let open = &tag[..tag.find('>').unwrap()];
            assert!(open.contains("src=\"/static/"), "{path}: inline script {open}");
            assert!(tag[tag.find('>').unwrap() + 1..].starts_with("</script>"), "{path}: script with a body");
        }
        assert!(!body.contains("<style") && !body.contains(" style=\""), "{path}: inline style");
        assert!(!has_event_handler_attribute(&body), "{path}: inline event handler");
    }
}

/// Whether the markup has an attribute like ` onclick=`.
fn has_event_handler_attribute(body: &str) -> bool {
    body.match_indices(" on").any(|(i, _)| {
        let rest = &body[i + 3..];
        let name_len = rest.chars().take_while(char::is_ascii_lowercase).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    })
}

#[tokio::test]
async fn unknown_board_gets_a_friendly_html_404_and_the_api_keeps_json() {
    let app = TestApp::spawn().await;
    let (status, headers, body) = html(&app, "/boards/no-such-board").await;
    assert_eq!(status, 404);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("There is no board called “no-such-board”") && body.contains("href=\"/\""));

    let (status, headers, body) = html(&app, "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{body}");

    let (status, headers, body) = html(&app, "/dashboard/no-such-route").await;
    assert_eq!(status, 404);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(serde_json::from_str::<Json>(&body).unwrap()["error"]["code"], "not_found");
    let response = app.get("/no/such/page").await; // no Accept: text/html
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn a_playlist_page_renders_in_kiosk_mode_only_the_boards_the_visitor_may_see() {
    let app = TestApp::spawn().await;
    board_with_values(&app).await;
    let vault = json!({"slug": "vault", "title": "Vault floor", "visibility": "private"});
    assert_eq!(app.post("/dashboard/boards", vault).await.status(), 201);
    for (name, boards) in [("wall", json!(["vault", "ops"])), ("hidden", json!(["vault"]))] {
        let playlist = json!({"name": name, "title": "Lobby <b>", "interval_s": 7, "boards": boards});
        assert_eq!(app.post("/dashboard/playlists", playlist).await.status(), 201);
    }
    let (status, _, body) = html(&app, "/playlists/wall").await;
    assert_eq!(status, 200);
    assert!(body.contains("class=\"kiosk\"") && body.contains("data-theme=\"dark\""), "kiosk mode");
    assert!(body.contains("class=\"playlist-board is-current\" data-board=\"ops\""), "the first board it may see");
    assert!(body.contains("data-interval-ms=\"7000\"") && body.contains("Lobby &#60;b&#62;"));
    assert!(body.contains("data-key=\"visitors\""), "the board's cards are rendered");
    assert!(!body.contains("vault") && !body.contains("Vault floor"), "the private board is left out");

    for (path, says) in [
        ("/playlists/hidden", "There is no playlist called “hidden”"),
        ("/playlists/nope", "There is no playlist called “nope”"),
        ("/playlists/Not%20A%20Name", "There is no such board, widget or playlist."),
    ] {
        let (status, _, body) = html(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains(says), "{path}: {body}");
    }
}

#[tokio::test]
async fn addresses_that_cannot_name_a_board_or_widget_are_404_pages() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "gauge")]).await;
    // A NUL byte cannot even reach PostgreSQL's text: it names nothing, it is no server error.
    let (status, headers, body) = html(&app, "/boards/a%00b").await;
    assert_eq!(status, 404, "{body}");
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));

    let mut session = ManageSession::sign_in(&app).await;
    for path in ["/manage/boards/a%00b", "/manage/boards/a%00b/new-widget", "/manage/boards/ops/widgets/a%00b"] {
        let (status, body) = session.get(path).await;
        assert_eq!(status, 404, "GET {path}: {body}");
    }
    for path in ["/manage/boards/a%00b/delete", "/manage/boards/ops/widgets/a%00b/delete"] {
        let response = session.post(path, &[]).await;
        assert_eq!(response.status(), 404, "POST {path}");
    }
    assert_eq!((app.count("boards").await, app.count("widgets").await), (1, 1));
}

#[tokio::test]
async fn pages_send_a_content_security_policy_and_nosniff() {
    let app = TestApp::spawn().await;
    board_with_values(&app).await;
    for path in ["/", "/boards/ops", "/boards/nope", "/manage/sign-in"] {
        let (_, headers, _) = html(&app, path).await;
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self';"] {
            assert!(csp.contains(directive), "{path}: {directive} missing in {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
    }
    let (_, headers, body) = html(&app, "/boards/ops").await;
    assert!(body.contains("data-url=\"/dashboard/stream\""), "inline: the page streams from its own server");
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'self'"));
}

/// `(frame-ancestors sources, X-Frame-Options)` of a response.
fn framing(headers: &HeaderMap) -> (String, Option<String>) {
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let ancestors = csp.split(';').map(str::trim).find_map(|d| d.strip_prefix("frame-ancestors ")).unwrap();
    (ancestors.to_string(), headers.get(header::X_FRAME_OPTIONS).map(|v| v.to_str().unwrap().to_string()))
}

#[tokio::test]
async fn only_the_app_itself_may_frame_its_pages_and_none_the_management_pages() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    for path in ["/", "/boards/ops", "/boards/nope", "/dashboard", "/dashboard/boards/nope", "/nope"] {
        let headers = app.get(path).await.headers().clone();
        assert_eq!(framing(&headers), ("'self'".into(), Some("SAMEORIGIN".into())), "{path}");
        let permissions = headers["permissions-policy"].to_str().unwrap();
        for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"] {
            assert!(permissions.contains(feature), "{path}: {feature} missing in {permissions}");
        }
    }
    let (_, headers, _) = html(&app, "/manage/sign-in").await;
    assert_eq!(framing(&headers), ("'none'".into(), Some("DENY".into())));
    assert!(headers.contains_key("permissions-policy"));
}

#[tokio::test]
async fn frame_ancestors_may_frame_board_pages_only() {
    let app = TestApp::spawn_with(&[("FRAME_ANCESTORS", "https://wiki.example.com, http://intranet.test:8080")]).await;
    app.create_board("ops", &[]).await;
    for path in ["/boards/ops", "/boards/ops?kiosk=1", "/boards/nope"] {
        let (_, headers, _) = html(&app, path).await;
        // X-Frame-Options cannot name other origins: sent, it would forbid what the policy allows.
        let expected = ("'self' https://wiki.example.com http://intranet.test:8080".into(), None);
        assert_eq!(framing(&headers), expected, "{path}");
    }
    let (_, headers, _) = html(&app, "/").await;
    assert_eq!(framing(&headers), ("'self'".into(), Some("SAMEORIGIN".into())));
    let (_, headers, _) = html(&app, "/manage/sign-in").await;
    assert_eq!(framing(&headers), ("'none'".into(), Some("DENY".into())));
}

#[tokio::test]
async fn a_separate_stream_server_is_named_in_the_page_and_its_policy() {
    let app = TestApp::spawn_with(&[
        ("SSE_SERVER_TYPE", "go"),
        ("SSE_HOST", "stream.example.test"),
        ("SSE_PORT", "4001"),
        ("SSE_ENDPOINT", "/events"),
        ("SSE_AUTO_REFRESH", "false"),
        ("SSE_CONNECTION_TIMEOUT", "2500"),
    ])
    .await;
    app.create_board("b", &[]).await;
    let (_, headers, body) = html(&app, "/boards/b").await;
    assert!(body.contains("data-url=\"//stream.example.test:4001/events\""), "stream URL");
    assert!(body.contains("data-auto=\"false\"") && body.contains("data-timeout-ms=\"2500\""));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("connect-src 'self' stream.example.test:4001;"), "{csp}");
}

#[tokio::test]
async fn kiosk_mode_hides_the_chrome_and_defaults_to_dark() {
    let app = TestApp::spawn().await;
    app.create_board("b", &[("n", "number")]).await;
    let (_, _, kiosk) = html(&app, "/boards/b?kiosk=1").await;
    assert!(kiosk.contains("<html lang=\"en\" data-theme=\"dark\" class=\"kiosk\">"));
    assert!(!kiosk.contains("class=\"topbar\"") && !kiosk.contains(">Edit<"));
    assert!(kiosk.contains("id=\"stream-state\""), "the stream state stays visible");
    let (_, _, light) = html(&app, "/boards/b?kiosk=1&theme=light").await;
    assert!(light.contains("data-theme=\"light\" class=\"kiosk\""));
    let (_, _, normal) = html(&app, "/boards/b?theme=bogus").await;
    assert!(normal.contains("<html lang=\"en\">") && normal.contains("class=\"topbar\""));
}

#[tokio::test]
async fn static_assets_are_served_with_validators() {
    let app = TestApp::spawn().await;
    let response = app.get("/static/js/board.js").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().contains("javascript"));
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = response.headers()[header::ETAG].clone();
    let again =
        app.client.get(app.url("/static/js/board.js")).header(header::IF_NONE_MATCH, etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    let license = app.get("/static/vendor/uplot/LICENSE").await.text().await.unwrap();
    assert!(license.contains("MIT License"), "uPlot ships with its licence");
    assert_eq!(app.get("/static/vendor/uplot/uPlot.esm.js").await.status(), 200);
    for missing in ["/static/nope.js", "/static/%2e%2e/Cargo.toml", "/static/..%2fCargo.toml"] {
        assert_eq!(app.get(missing).await.status(), 404, "{missing}");
    }
}

/// A browser-like client of the management pages: keeps its cookies by hand (so a test can copy
/// them) and reads each page's CSRF token, without following redirects.
struct ManageSession<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

impl<'a> ManageSession<'a> {
    async fn anonymous(app: &'a TestApp) -> Self {
        Self::anonymous_with(app, HeaderMap::new()).await
    }

    /// A session whose every request carries these headers (a proxy's, say).
    async fn anonymous_with(app: &'a TestApp, headers: HeaderMap) -> Self {
        let client = crate::common::client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        let mut session = Self { app, client, cookies: BTreeMap::new(), csrf: String::new() };
        let (status, body) = session.get("/manage/sign-in").await;
        assert_eq!(status, 200);
        session.csrf = csrf_of(&body);
        session
    }

    async fn sign_in(app: &'a TestApp) -> Self {
        Self::sign_in_with(app, &app.token).await
    }

    async fn sign_in_with(app: &'a TestApp, token: &str) -> Self {
        let mut session = Self::anonymous(app).await;
        let response = session.post("/manage/sign-in", &[("token", token)]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()[header::LOCATION], "/manage");
        let (status, body) = session.get("/manage").await;
        assert_eq!(status, 200, "{body}");
        session.csrf = csrf_of(&body);
        session
    }

    /// The same cookies and CSRF token, in another client (a copied cookie), possibly for another
    /// instance of the app.
    fn copy_to<'b>(&self, app: &'b TestApp) -> ManageSession<'b> {
        let client = crate::common::no_redirects();
        ManageSession { app, client, cookies: self.cookies.clone(), csrf: self.csrf.clone() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let request = self.client.get(self.app.url(path)).header(header::COOKIE, self.cookie_header());
        let response = request.send().await.unwrap();
        self.keep_cookies(response.headers());
        (response.status(), response.text().await.unwrap())
    }

    /// Posts the fields with the session's CSRF token.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf.clone();
        self.post_raw(path, &[&[("csrf", csrf.as_str())], fields].concat()).await
    }

    async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let request = self.client.post(self.app.url(path)).header(header::COOKIE, self.cookie_header());
        let response = request.form(fields).send().await.unwrap();
        self.keep_cookies(response.headers());
        response
    }
}

fn csrf_of(body: &str) -> String {
    let start = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    body[start..start + body[start..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn session_cookies_are_httponly_lax_and_hold_only_a_secret() {
    let app = TestApp::spawn().await;
    let response = app.get("/manage/sign-in").await;
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("dashboard_sign_in="), "the sign-in form's CSRF cookie: {cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.split("; ").any(|a| a == attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP outside production");

    let mut session = ManageSession::anonymous(&app).await;
    let response = session.post("/manage/sign-in", &[("token", app.token.as_str())]).await;
    let cookies: Vec<&str> =
        response.headers().get_all(header::SET_COOKIE).iter().map(|c| c.to_str().unwrap()).collect();
    let cookie = cookies.iter().find(|c| c.starts_with("dashboard_session=")).expect("a session cookie");
    // For the whole site: board pages and their streams show a signed-in manager private boards.
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(cookie.split("; ").any(|a| a == attribute), "{attribute} missing: {cookie}");
    }
    // The cookie is the session's secret and nothing else; the server keeps only its hash.
    let secret = &session.cookies["dashboard_session"];
    assert_eq!(secret.len(), 64, "256 random bits: {secret}");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM sessions").fetch_one(&app.db).await.unwrap();
    assert_eq!(stored, dashboard::store::tokens::hash(secret));
    assert!(!session.cookies.contains_key("dashboard_sign_in"), "the sign-in cookie is cleared");
}

fn behind_proxy(forwarded: &[(&'static str, &'static str)]) -> HeaderMap {
    forwarded.iter().map(|(name, value)| (header::HeaderName::from_static(name), value.parse().unwrap())).collect()
}

fn set_cookie<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    let cookies = response.headers().get_all(header::SET_COOKIE).iter().map(|c| c.to_str().unwrap());
    cookies.into_iter().find(|c| c.starts_with(&format!("{name}="))).unwrap_or_else(|| panic!("no {name} cookie"))
}

#[tokio::test]
async fn cookies_are_secure_when_the_trusted_proxy_says_https() {
    let app = TestApp::spawn_with(&[("TRUST_PROXY", "true")]).await;
    let https = behind_proxy(&[("x-forwarded-proto", "https")]);
    let response = app.client.get(app.url("/manage/sign-in")).headers(https.clone()).send().await.unwrap();
    assert!(set_cookie(&response, "dashboard_sign_in").contains("Secure"));

    let mut session = ManageSession::anonymous_with(&app, https).await;
    let response = session.post("/manage/sign-in", &[("token", app.token.as_str())]).await;
    assert_eq!(response.status(), 303);
    assert!(set_cookie(&response, "dashboard_session").contains("Secure"));
    let (_, page) = session.get("/manage").await;
    session.csrf = csrf_of(&page);
    let response = session.post("/manage/sign-out", &[]).await;
    assert_eq!(response.status(), 303);
    assert!(set_cookie(&response, "dashboard_session").contains("Secure"), "the removal matches the cookie");

    let plain = behind_proxy(&[("x-forwarded-proto", "http")]);
    let response = app.client.get(app.url("/manage/sign-in")).headers(plain.clone()).send().await.unwrap();
    assert!(!set_cookie(&response, "dashboard_sign_in").contains("Secure"));

    // A share link's cookie follows the same rule.
    app.create_board("ops", &[]).await;
    let share: Json = app.post("/dashboard/boards/ops/shares", json!({"name": "tv"})).await.json().await.unwrap();
    let cookie = format!("dashboard_share_{}", share["id"]);
    let no_redirects = crate::common::no_redirects();
    for (forwarded, secure) in [(behind_proxy(&[("x-forwarded-proto", "https")]), true), (plain, false)] {
        let link = app.url(share["url"].as_str().unwrap());
        let response = no_redirects.get(link).headers(forwarded).send().await.unwrap();
        assert_eq!(set_cookie(&response, &cookie).contains("Secure"), secure);
    }
}

#[tokio::test]
async fn too_many_failed_sign_ins_stop_the_form_before_the_token_is_checked() {
    let app = TestApp::spawn_with(&[("AUTH_FAILURE_LIMIT", "2"), ("TRUST_PROXY", "true")]).await;
    let mut guesser = ManageSession::anonymous_with(&app, behind_proxy(&[("x-forwarded-for", "203.0.113.9")])).await;
    let response = guesser.post("/manage/sign-in", &[("token", "")]).await;
    assert_eq!(response.status(), 422, "an empty form is not a guess");
    for _ in 0..2 {
        assert_eq!(guesser.post("/manage/sign-in", &[("token", "dash_wrong")]).await.status(), 422);
    }
    let response = guesser.post("/manage/sign-in", &[("token", app.token.as_str())]).await;
    assert_eq!(response.status(), 429, "the right token gets no further than a wrong one");
    assert_eq!(response.headers()[header::RETRY_AFTER], "30");
    assert!(response.text().await.unwrap().contains("Too many failed sign-ins"));
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.db).await.unwrap();
    assert_eq!(sessions, 0);

    // The API shares the count of this address, and other addresses are not affected.
    let api = app.client.get(app.url("/dashboard")).header("X-Forwarded-For", "203.0.113.9").bearer_auth(&app.token);
    assert_eq!(api.send().await.unwrap().status(), 429);
    let mut other = ManageSession::anonymous_with(&app, behind_proxy(&[("x-forwarded-for", "203.0.113.10")])).await;
    assert_eq!(other.post("/manage/sign-in", &[("token", app.token.as_str())]).await.status(), 303);
}

#[tokio::test]
async fn no_management_response_is_stored_by_a_browser_or_proxy() {
    let app = TestApp::spawn().await;
    app.create_board("b", &[]).await;
    let no_store = |headers: &HeaderMap, what: &str| {
        assert_eq!(headers.get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap()), Some("no-store"), "{what}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{what}");
    };
    let mut session = ManageSession::anonymous(&app).await;
    let response = session.client.get(app.url("/manage/sign-in")).send().await.unwrap();
    no_store(response.headers(), "the sign-in form");
    let response = session.client.get(app.url("/manage")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    no_store(response.headers(), "the redirect to sign in");
    let response = session.post("/manage/sign-in", &[("token", "dash_wrong")]).await;
    assert_eq!(response.status(), 422);
    no_store(response.headers(), "a refused sign-in");
    let response = session.post_raw("/manage/sign-in", &[("token", "dash_wrong")]).await;
    assert_eq!(response.status(), 403);
    no_store(response.headers(), "a form without its CSRF token");

    let mut session = ManageSession::sign_in(&app).await;
    for (path, status) in
        [("/manage", 200), ("/manage/boards/b", 200), ("/manage/boards/nope", 404), ("/manage/nope", 404)]
    {
        let request = session.client.get(app.url(path)).header(header::COOKIE, session.cookie_header());
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        no_store(response.headers(), path);
    }
    let response = session.post("/manage/new-board", &[("title", "Stored nowhere")]).await;
    assert_eq!(response.status(), 303);
    no_store(response.headers(), "the redirect after a post");
    // Public pages may be cached as before.
    assert!(app.get("/boards/b").await.headers().get(header::CACHE_CONTROL).is_none());
}

#[tokio::test]
async fn management_pages_need_a_signed_in_session() {
    let app = TestApp::spawn().await;
    app.create_board("b", &[]).await;
    for path in ["/manage", "/manage/new-board", "/manage/boards/b", "/manage/audit"] {
        let response = ManageSession::anonymous(&app).await.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()[header::LOCATION], "/manage/sign-in");
    }
    let layout = [("layout", r#"{"widgets": []}"#)];
    let response =
        ManageSession::anonymous(&app).await.client.post(app.url("/manage/boards/b/layout")).form(&layout).send().await;
    let response = response.unwrap();
    assert_eq!(response.status(), 303, "the layout save");
    assert_eq!(response.headers()[header::LOCATION], "/manage/sign-in");
}

#[tokio::test]
async fn sign_in_refuses_a_bad_token_and_ends_with_a_revoked_one() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::anonymous(&app).await;
    let response = session.post("/manage/sign-in", &[("token", "dash_not-a-real-token")]).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("That token is unknown or has been revoked."));

    let mut session = ManageSession::sign_in(&app).await;
    let name: String = sqlx::query_scalar("SELECT name FROM api_tokens").fetch_one(&app.db).await.unwrap();
    dashboard::store::tokens::revoke(&app.db, &name).await.unwrap();
    let (status, _) = session.get("/manage").await;
    assert_eq!(status, 303, "a revoked token's session is over");
}

#[tokio::test]
async fn forms_refuse_a_missing_or_wrong_csrf_token() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::sign_in(&app).await;
    let response = session.post_raw("/manage/new-board", &[("title", "No token")]).await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("This form has expired"));
    let response = session.post_raw("/manage/new-board", &[("csrf", "0123456789abcdef"), ("title", "Wrong")]).await;
    assert_eq!(response.status(), 403);
    let response = session.post_raw("/manage/sign-in", &[("token", app.token.as_str())]).await;
    assert_eq!(response.status(), 403, "the sign-in form is protected too");
    assert_eq!(app.count("boards").await, 0);

    let response = session.post("/manage/new-board", &[("title", "With token")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/manage/boards/with-token");
    assert_eq!(app.count("boards").await, 1);
}

#[tokio::test]
async fn forms_refuse_a_forged_or_missing_session() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::sign_in(&app).await;
    // Change one character of the session secret: the server knows no such session.
    let secret = session.cookies.get_mut("dashboard_session").unwrap();
    let flipped = if secret.starts_with('a') { "b" } else { "a" };
    secret.replace_range(0..1, flipped);
    let response = session.post("/manage/new-board", &[("title", "Forged")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/manage/sign-in");
    for garbage in ["", "not-hex", "%%%", &"f".repeat(5000)] {
        session.cookies.insert("dashboard_session".into(), garbage.into());
        assert_eq!(session.get("/manage").await.0, 303, "{garbage:.20}");
    }

    session.cookies.clear();
    let response = session.post("/manage/new-board", &[("title", "No session")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.count("boards").await, 0);
}

#[tokio::test]
async fn validation_errors_are_shown_next_to_their_fields() {
    let app = TestApp::spawn().await;
    app.create_board("taken", &[("cpu", "gauge")]).await;
    let mut session = ManageSession::sign_in(&app).await;

    let response = session.post("/manage/new-board", &[("title", ""), ("slug", "Bad Slug"), ("columns", "13")]).await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("id=\"e-title\">is required<") || body.contains("id=\"e-title\">must not be blank<"),
        "{body}"
    );
    assert!(body.contains("id=\"e-columns\">must be a whole number from 1 to 12<"), "{body}");
    assert!(body.contains("id=\"e-slug\">"), "slug error");
    assert!(body.contains("value=\"Bad Slug\""), "what was typed is kept");

    let response = session.post("/manage/new-board", &[("title", "Taken"), ("slug", "taken")]).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"e-slug\">a board with this slug already exists<"));

    let fields = [
        ("key", "cpu"),
        ("title", "Again"),
        ("kind", "gauge"),
        ("min", "10"),
        ("max", "5"),
        ("thresholds", "80 red\nlots"),
    ];
    let response = session.post("/manage/boards/taken/new-widget", &fields).await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"e-max\">must be greater than min<"), "{body}");
    assert!(body.contains("id=\"e-thresholds\">needs a number"), "{body}");
    let fields = [("key", "cpu"), ("title", "Again"), ("kind", "gauge")];
    let body = session.post("/manage/boards/taken/new-widget", &fields).await.text().await.unwrap();
    assert!(body.contains("id=\"e-key\">this board already has a widget with this key<"), "{body}");
    assert_eq!(app.count("widgets").await, 1);
    assert_eq!(app.count("boards").await, 1);
}

#[tokio::test]
async fn boards_and_widgets_are_created_edited_and_deleted_through_forms() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::sign_in(&app).await;
    let fields = [("title", "Sales"), ("slug", ""), ("description", "Numbers"), ("columns", "2")];
    assert_eq!(session.post("/manage/new-board", &fields).await.status(), 303);
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=sales"), None).await;
    stream.next_event(Duration::from_secs(5)).await.expect("hello");

    let fields = [
        ("key", "revenue"),
        ("title", "Revenue"),
        ("kind", "line"),
        ("unit", "€"),
        ("max_points", "50"),
        ("thresholds", "100 #e5a50a"),
        // Refused before any request (a private address that is not listed): tests send nothing.
        ("source_url", "http://127.0.0.1:9/metrics.json"),
        ("source_interval_s", "60"),
        ("source_pointer", "/revenue"),
    ];
    let response = session.post("/manage/boards/sales/new-widget", &fields).await;
    assert_eq!(response.status(), 303);
    let frame = stream.next_event(Duration::from_secs(5)).await.expect("a board event");
    assert_eq!(frame.event.as_deref(), Some("board"));
    assert_eq!(frame.json(), json!({"board": "sales", "action": "widget_created"}));
    let path = "/dashboard/boards/sales/widgets/revenue";
    let widget: Json = app.send(reqwest::Method::GET, path, None).await.json().await.unwrap();
    assert_eq!(
        widget["config"],
        json!({"unit": "€", "max_points": 50, "thresholds": [{"value": 100, "color": "#e5a50a"}],
               "source": {"url": "http://127.0.0.1:9/metrics.json", "interval_s": 60, "pointer": "/revenue",
                          "header_names": []}})
    );

    // Editing keeps config keys the form does not know; emptied fields are removed.
    let patch = json!({"config": {"unit": "€", "max_points": 50, "custom": "kept"}});
    app.send(reqwest::Method::PATCH, "/dashboard/boards/sales/widgets/revenue", Some(patch)).await;
    let (status, body) = session.get("/manage/boards/sales/widgets/revenue").await;
    assert_eq!(status, 200);
    assert!(body.contains("value=\"€\"") && body.contains("value=\"50\""));
    let fields = [("key", "income"), ("title", "Income"), ("position", "3"), ("unit", "$"), ("max_points", "")];
    assert_eq!(session.post("/manage/boards/sales/widgets/revenue", &fields).await.status(), 303);
    let widget: Json = app.get("/dashboard/boards/sales/widgets/income").await.json().await.unwrap();
    assert_eq!(widget["config"], json!({"unit": "$", "custom": "kept"}));
    assert_eq!(widget["position"], 3);

    let fields = [("title", "Sales team"), ("slug", "sales"), ("description", ""), ("columns", "4")];
    assert_eq!(session.post("/manage/boards/sales", &fields).await.status(), 303);
    let board: Json = app.get("/dashboard/boards/sales").await.json().await.unwrap();
    assert_eq!((board["title"].as_str(), board["columns"].as_i64()), (Some("Sales team"), Some(4)));
    let (_, body) = session.get("/manage/boards/sales").await;
    assert!(body.contains("Board saved.") && body.contains(">Income<"), "flash and widget list");

    assert_eq!(session.post("/manage/boards/sales/widgets/income/delete", &[("confirm", "on")]).await.status(), 303);
    assert_eq!(app.count("widgets").await, 0);
    assert_eq!(session.post("/manage/boards/sales/delete", &[("confirm", "on")]).await.status(), 303);
    assert_eq!(app.count("boards").await, 0);
    let response = session.post("/manage/boards/sales/delete", &[]).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn form_changes_are_audited_with_the_session_token_and_listed_escaped() {
    let app = TestApp::spawn().await;
    let me: String = sqlx::query_scalar("SELECT name FROM api_tokens").fetch_one(&app.db).await.unwrap();
    let mut session = ManageSession::sign_in(&app).await;
    let evil = "<script>alert(1)</script>";
    let board = [("title", evil), ("slug", "x"), ("description", ""), ("columns", "2")];
    assert_eq!(session.post("/manage/new-board", &board).await.status(), 303);
    let widget = [("key", "cpu"), ("title", "CPU"), ("kind", "gauge")];
    assert_eq!(session.post("/manage/boards/x/new-widget", &widget).await.status(), 303);
    let widget = [("key", "cpu"), ("title", "Load"), ("position", "0")];
    assert_eq!(session.post("/manage/boards/x/widgets/cpu", &widget).await.status(), 303);
    let renamed = [("title", "Renamed"), ("slug", "x"), ("description", ""), ("columns", "2")];
    assert_eq!(session.post("/manage/boards/x", &renamed).await.status(), 303);
    // Refused: no entry.
    let refused = [("title", "Y"), ("slug", "x"), ("description", ""), ("columns", "99")];
    assert_eq!(session.post("/manage/boards/x", &refused).await.status(), 422);
    assert_eq!(session.post("/manage/new-board", &[("title", "Again"), ("slug", "x")]).await.status(), 422);
    assert_eq!(session.post("/manage/boards/x/widgets/nope/delete", &[]).await.status(), 404);

    let (status, page) = session.get("/manage/audit").await;
    assert_eq!(status, 200);
    assert!(!page.contains(evil), "the raw script is on the page");
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || page.contains("&lt;script&gt;"), "{page}");
    assert!(page.contains("board.updated") && page.contains(&me), "{page}");
    let (_, index) = session.get("/manage").await;
    assert!(index.contains("href=\"/manage/audit\""), "linked from the index");

    assert_eq!(session.post("/manage/boards/x/widgets/cpu/delete", &[]).await.status(), 303);
    assert_eq!(session.post("/manage/boards/x/delete", &[]).await.status(), 303);
    let logged: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, action, target FROM audit_log ORDER BY id").fetch_all(&app.db).await.unwrap();
    let entry = |action: &str, target: &str| (me.clone(), action.to_string(), target.to_string());
    assert_eq!(
        logged,
        [
            entry("board.created", "x"),
            entry("widget.created", "x/cpu"),
            entry("widget.updated", "x/cpu"),
            entry("board.updated", "x"),
            entry("widget.deleted", "x/cpu"),
            entry("board.deleted", "x"),
        ]
    );
}

#[tokio::test]
async fn a_signed_in_session_sees_private_boards_on_pages_and_in_its_stream() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::sign_in(&app).await;
    let (_, form) = session.get("/manage/new-board").await;
    assert!(form.contains("value=\"public\" checked"), "DEFAULT_BOARD_VISIBILITY is preselected");
    let fields = [("title", "Vault Room"), ("slug", "vault"), ("columns", "2"), ("visibility", "private")];
    assert_eq!(session.post("/manage/new-board", &fields).await.status(), 303);

    let (status, _, index) = html(&app, "/").await;
    assert!(status == 200 && !index.contains("Vault Room") && !index.contains("/boards/vault"), "{index}");
    let (status, _, page) = html(&app, "/boards/vault").await;
    assert!(status == 404 && page.contains("href=\"/manage/sign-in\"") && !page.contains("Vault Room"), "{page}");
    let (status, index) = session.get("/").await;
    assert!(status == 200 && index.contains("Vault Room"), "{index}");
    let (status, page) = session.get("/boards/vault").await;
    assert!(status == 200 && page.contains("Vault Room"), "{page}");
    let (status, json) = session.get("/dashboard/boards/vault").await;
    assert_eq!(status, 200, "{json}");
    let (_, edit) = session.get("/manage/boards/vault").await;
    assert!(edit.contains("value=\"private\" checked"), "{edit}");

    let cookie = session.cookie_header();
    let request = app.client.get(app.url("/dashboard/stream?boards=vault")).header(header::COOKIE, &cookie);
    let mut stream = SseClient::open(request).await;
    assert_eq!(stream.status, 200);
    stream.next_event(Duration::from_secs(5)).await.expect("hello");
    assert_eq!(SseClient::connect(&app.url("/dashboard/stream?boards=vault"), None).await.status, 404);

    // The cookie is for reading only: a write that carries it and no token is refused.
    let write = app.client.post(app.url("/dashboard/boards")).header(header::COOKIE, &cookie);
    assert_eq!(write.json(&json!({"title": "Forged"})).send().await.unwrap().status(), 401);

    let fields = [("title", "Vault Room"), ("slug", "vault"), ("columns", "2"), ("visibility", "public")];
    assert_eq!(session.post("/manage/boards/vault", &fields).await.status(), 303);
    assert_eq!(html(&app, "/boards/vault").await.0, 200);
}

#[tokio::test]
async fn source_headers_are_set_through_the_form_and_shown_by_name_only() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::sign_in(&app).await;
    app.create_board("ops", &[]).await;
    // Refused before any request (a private address that is not listed): tests send nothing.
    let url = "http://127.0.0.1:9/v?key=query-k3y";
    let source = [("source_url", url), ("source_interval_s", "60"), ("source_pointer", "/v")];
    let widget = [("key", "kpi"), ("title", "KPI"), ("kind", "number")];
    let headers = [("source_headers", "Authorization: Bearer s3cret\n X-Team: ops")];
    let response = session.post("/manage/boards/ops/new-widget", &[&widget[..], &source, &headers].concat()).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.stored_source_headers("kpi").await, json!({"authorization": "Bearer s3cret", "x-team": "ops"}));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let body = loop {
        let (status, body) = session.get("/manage/boards/ops/widgets/kpi").await;
        assert_eq!(status, 200);
        if body.contains("Last fetch failed") {
            break body;
        }
        assert!(tokio::time::Instant::now() < deadline, "the source's failure is shown: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(body.contains("Last fetch failed: refused: 127.0.0.1 is not a public address"), "the detail: {body}");
    assert!(body.contains("Stored: authorization, x-team") && !body.contains("s3cret"), "names only: {body}");
    assert!(body.contains("query-k3y"), "the manager sees the URL");
    let public = app.get("/boards/ops").await.text().await.unwrap();
    assert!(!public.contains("query-k3y") && !public.contains("s3cret"), "the public page shows no source: {public}");

    // Saved without typing them, the headers are kept; the box drops them.
    let edit = [("key", "kpi"), ("title", "KPI"), ("source_interval_s", "30")];
    let kept = [&edit[..], &source[..1], &source[2..]].concat();
    assert_eq!(session.post("/manage/boards/ops/widgets/kpi", &kept).await.status(), 303);
    assert_eq!(app.stored_source_headers("kpi").await, json!({"authorization": "Bearer s3cret", "x-team": "ops"}));
    let cleared = [&kept[..], &[("source_clear_headers", "on")]].concat();
    assert_eq!(session.post("/manage/boards/ops/widgets/kpi", &cleared).await.status(), 303);
    assert_eq!(app.stored_source_headers("kpi").await, json!({}));
}

#[tokio::test]
async fn signing_out_ends_the_session_for_every_copy_of_its_cookie() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::sign_in(&app).await;
    let mut copy = session.copy_to(&app);
    assert_eq!(copy.get("/manage").await.0, 200, "a copy works while the session lasts");

    let response = session.post("/manage/sign-out", &[]).await;
    assert_eq!(response.status(), 303);
    assert!(!session.cookies.contains_key("dashboard_session"), "the browser's cookie is cleared");
    let (status, _) = copy.get("/manage").await;
    assert_eq!(status, 303, "the copied cookie no longer signs in");
    let response = copy.post("/manage/new-board", &[("title", "After sign-out")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/manage/sign-in");
    assert_eq!(app.count("boards").await, 0);
}

#[tokio::test]
async fn a_session_ends_when_the_server_says_it_expired() {
    let app = TestApp::spawn().await;
    let mut session = ManageSession::sign_in(&app).await;
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'").execute(&app.db).await.unwrap();
    assert_eq!(session.get("/manage").await.0, 303, "the cookie's own Max-Age is not what counts");

    // The next sign-in clears the expired row out.
    ManageSession::sign_in(&app).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.db).await.unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn changing_dashboard_api_token_ends_the_sessions_opened_with_the_old_value() {
    let key = "k".repeat(64);
    let old = [("DASHBOARD_API_TOKEN", "old-bootstrap-token-value"), ("SECRET_KEY_BASE", key.as_str())];
    let app = TestApp::spawn_with(&old).await;
    let session = ManageSession::sign_in_with(&app, "old-bootstrap-token-value").await;

    // Another instance with the same settings accepts the session: it lives in the database.
    let same = TestApp::spawn_on(&app.database_url, Role::Web, &old).await;
    assert_eq!(session.copy_to(&same).get("/manage").await.0, 200);

    let rotated = [("DASHBOARD_API_TOKEN", "new-bootstrap-token-value"), ("SECRET_KEY_BASE", key.as_str())];
    let rotated = TestApp::spawn_on(&app.database_url, Role::Web, &rotated).await;
    let mut copy = session.copy_to(&rotated);
    assert_eq!(copy.get("/manage").await.0, 303, "the old value's session is over");
    let response = copy.post("/manage/new-board", &[("title", "After rotation")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.count("boards").await, 0);
    let unset = TestApp::spawn_on(&app.database_url, Role::Web, &[("SECRET_KEY_BASE", key.as_str())]).await;
    assert_eq!(session.copy_to(&unset).get("/manage").await.0, 303, "nor does it outlive the setting");
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT bootstrap_fingerprint FROM sessions").fetch_one(&app.db).await.unwrap();
    assert_eq!(stored.len(), 32, "a fingerprint, not the value");
    assert_ne!(stored, dashboard::store::tokens::hash("old-bootstrap-token-value"), "keyed by SECRET_KEY_BASE");
}

#[tokio::test]
async fn a_trickled_sign_in_form_is_408_and_the_connection_closes() {
    let app = TestApp::spawn_with(&[("BODY_READ_TIMEOUT", "1")]).await;
    let session = ManageSession::anonymous(&app).await;
    let head = format!(
        "POST /manage/sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nCookie: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100",
        session.cookie_header()
    );
    // Sending all 100 bytes would take 30 s.
    let answer = raw_http::send(app.port, &head, Some(raw_http::BYTE_BY_BYTE), Duration::from_secs(15)).await;
    assert_eq!(answer.status, 408, "{}", answer.text);
    assert!(answer.text.contains("did not arrive in time"), "the error page: {}", answer.text);
    assert!(answer.after < Duration::from_secs(6), "answered after {:?}", answer.after);
    assert!(answer.closed, "the connection is closed");
}

#[tokio::test]
async fn only_an_editor_signs_in_and_a_limited_one_manages_only_its_boards() {
    let app = TestApp::spawn().await;
    app.create_board("mine", &[("n", "number")]).await;
    app.create_board("theirs", &[("n", "number")]).await;
    let refusals = [
        (TokenRole::Push, "This token can push values but not manage boards; sign in with an editor token."),
        (TokenRole::Read, "This token can read boards but not manage them; sign in with an editor token."),
    ];
    for (role, message) in refusals {
        let secret = create_token(&app.db, &format!("a-{role}"), role, None).await;
        let mut session = ManageSession::anonymous(&app).await;
        let response = session.post("/manage/sign-in", &[("token", &secret)]).await;
        assert_eq!(response.status(), 403, "{role}");
        assert!(response.text().await.unwrap().contains(message), "{role}");
        assert!(!session.cookies.contains_key("dashboard_session"), "{role} has no session");
        assert_eq!(session.get("/manage").await.0, 303, "back to the sign-in form, which answers: no loop");
    }

    let limited = create_token(&app.db, "limited", TokenRole::Editor, Some(&["mine"])).await;
    let mut session = ManageSession::sign_in_with(&app, &limited).await;
    let (_, index) = session.get("/manage").await;
    assert!(index.contains("/manage/boards/mine"), "{index}");
    assert!(!index.contains("theirs") && !index.contains("/manage/new-board"), "{index}");
    for path in ["/manage/boards/theirs", "/manage/boards/theirs/new-widget", "/manage/boards/theirs/widgets/n"] {
        assert_eq!(session.get(path).await.0, 404, "{path}");
    }
    assert_eq!(session.get("/manage/new-board").await.0, 403);
    assert_eq!(session.post("/manage/new-board", &[("title", "Extra")]).await.status(), 403);
    for path in ["/manage/boards/theirs/delete", "/manage/boards/theirs/widgets/n/delete"] {
        assert_eq!(session.post(path, &[]).await.status(), 404, "{path}");
    }
    let layout = [("layout", r#"{"widgets": [{"key": "n", "position": 0, "width": 2, "height": 1}]}"#)];
    assert_eq!(session.post("/manage/boards/theirs/layout", &layout).await.status(), 404);
    let edit = [("title", "Mine, renamed"), ("slug", "mine"), ("columns", "4")];
    assert_eq!(session.post("/manage/boards/theirs", &edit).await.status(), 404);
    assert_eq!((app.count("boards").await, app.count("widgets").await), (2, 2), "nothing of theirs changed");
    assert_eq!(session.post("/manage/boards/mine", &edit).await.status(), 303);

    // The role is the token's as it is now, looked up on each request.
    sqlx::query("UPDATE api_tokens SET role = 'push' WHERE name = 'limited'").execute(&app.db).await.unwrap();
    assert_eq!(session.get("/manage/boards/mine").await.0, 303, "a demoted token's session no longer manages");
}

/// The secret the token page shows once after creating a token.
fn secret_on(page: &str) -> String {
    let start = page.find("id=\"new-secret\">").expect("the new secret on the page") + "id=\"new-secret\">".len();
    page[start..start + page[start..].find('<').unwrap()].to_string()
}

async fn push_with(app: &TestApp, secret: &str, board: &str) -> StatusCode {
    let url = app.url(&format!("/dashboard/boards/{board}/widgets/n/events"));
    app.client.post(url).bearer_auth(secret).json(&json!({"value": 1})).send().await.unwrap().status()
}

#[tokio::test]
async fn the_token_page_is_for_admins_only_and_linked_from_their_index() {
    let app = TestApp::spawn().await;
    let me: String = sqlx::query_scalar("SELECT name FROM api_tokens").fetch_one(&app.db).await.unwrap();
    create_token(&app.db, "<b>sensor</b>", TokenRole::Push, None).await;
    let mut admin = ManageSession::sign_in(&app).await;
    let (_, index) = admin.get("/manage").await;
    assert!(index.contains("href=\"/manage/tokens\""), "linked from an admin's index");
    let (status, page) = admin.get("/manage/tokens").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("<td>{me} <span class=\"muted\">(you)</span></td>")), "{page}");
    assert!(page.contains("&#60;b&#62;sensor&#60;/b&#62;") && !page.contains("<b>sensor"), "escaped: {page}");
    assert!(page.contains("<td>push</td>") && page.contains("<td>all</td>") && page.contains("<td>never</td>"));
    assert!(page.contains("revoking it signs you out"), "the confirm text of the token in use");

    let editor = create_token(&app.db, "editor", TokenRole::Editor, None).await;
    let mut editor = ManageSession::sign_in_with(&app, &editor).await;
    let (_, index) = editor.get("/manage").await;
    assert!(!index.contains("/manage/tokens"), "{index}");
    assert_eq!(editor.get("/manage/tokens").await.0, 404);
    assert_eq!(editor.post("/manage/tokens", &[("name", "sneaky"), ("role", "admin")]).await.status(), 404);
    assert_eq!(editor.post("/manage/tokens/revoke", &[("name", me.as_str())]).await.status(), 404);
    assert_eq!(app.count("api_tokens").await, 3, "nothing created");
    assert_eq!(app.send(reqwest::Method::GET, "/dashboard/tokens", None).await.status(), 200, "nothing revoked");
}

#[tokio::test]
async fn a_token_form_with_a_bad_name_or_unknown_board_is_422_and_stores_nothing() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let me: String = sqlx::query_scalar("SELECT name FROM api_tokens").fetch_one(&app.db).await.unwrap();
    let mut session = ManageSession::sign_in(&app).await;
    let refusals = [
        (
            vec![("name", "cli"), ("role", "push")],
            "id=\"e-name\">&#34;cli&#34; is reserved for changes made on the command line",
        ),
        (vec![("name", ""), ("role", "push")], "id=\"e-name\">must be 1 to 100 characters<"),
        (vec![("name", me.as_str()), ("role", "read")], "id=\"e-name\">a token with this name already exists<"),
        (vec![("name", "bot"), ("role", "push"), ("boards", "ops, nope")], "id=\"e-boards\">no board &#34;nope&#34;<"),
        (
            vec![("name", "bot"), ("role", "admin"), ("boards", "ops")],
            "id=\"e-boards\">an admin token acts on every board",
        ),
        (vec![("name", "bot"), ("role", "root")], "id=\"e-role\">must be one of read, push, editor, admin<"),
    ];
    for (fields, message) in refusals {
        let response = session.post("/manage/tokens", &fields).await;
        assert_eq!(response.status(), 422, "{fields:?}");
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
        assert!(!body.contains("id=\"new-secret\""), "{fields:?}");
    }
    let body = session.post("/manage/tokens", &[("name", "bot"), ("boards", "ops, nope")]).await.text().await.unwrap();
    assert!(body.contains("value=\"ops, nope\""), "what was typed is kept");
    assert_eq!(app.count("api_tokens").await, 1);
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'token.%'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(logged, 0);
}

#[tokio::test]
async fn a_created_token_shows_its_secret_once_and_acts_with_its_role_and_boards() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    app.create_board("web", &[("n", "number")]).await;
    let me: String = sqlx::query_scalar("SELECT name FROM api_tokens").fetch_one(&app.db).await.unwrap();
    let mut session = ManageSession::sign_in(&app).await;
    let response = session.post("/manage/tokens", &[("name", "sensor"), ("role", "push"), ("boards", "ops")]).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store", "no copy of the secret is kept");
    let page = response.text().await.unwrap();
    let secret = secret_on(&page);
    assert!(secret.starts_with("dash_") && page.contains("shown only this once"), "{page}");
    assert!(page.contains("id=\"f-name\" name=\"name\" type=\"text\" value=\"\""), "the form is blank again");

    assert_eq!(push_with(&app, &secret, "ops").await, 201);
    assert_eq!(push_with(&app, &secret, "web").await, 403, "limited to ops");
    let (status, list) = session.get("/manage/tokens").await;
    assert_eq!(status, 200);
    assert!(!list.contains(&secret) && !list.contains("id=\"new-secret\""), "shown once only");
    assert!(list.contains("<td>sensor</td>") && list.contains("<td>ops</td>"), "{list}");
    let logged: (String, String, String) =
        sqlx::query_as("SELECT actor, action, target FROM audit_log WHERE action LIKE 'token.%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(logged, (me, "token.created".into(), "sensor".into()));
}

#[tokio::test]
async fn a_token_revoked_on_the_page_is_refused_and_revoking_ones_own_signs_out() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    let sensor = create_token(&app.db, "sensor", TokenRole::Push, None).await;
    let mine = create_token(&app.db, "mine", TokenRole::Admin, None).await;
    let mut session = ManageSession::sign_in_with(&app, &mine).await;
    assert_eq!(push_with(&app, &sensor, "ops").await, 201);

    let response = session.post("/manage/tokens/revoke", &[("name", "sensor")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/manage/tokens");
    assert_eq!(push_with(&app, &sensor, "ops").await, 401);
    let (_, page) = session.get("/manage/tokens").await;
    assert!(page.contains("Token “sensor” revoked") && page.contains("<td>revoked 20"), "{page}");
    assert_eq!(session.post("/manage/tokens/revoke", &[("name", "sensor")]).await.status(), 404, "already revoked");

    let response = session.post("/manage/tokens/revoke", &[("name", "mine")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/manage/sign-in");
    assert!(!session.cookies.contains_key("dashboard_session"), "the cookie is cleared");
    assert_eq!(session.get("/manage").await.0, 303, "signed out");
    let response = app.client.get(app.url("/dashboard/boards")).bearer_auth(&mine).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let revoked: Vec<String> = sqlx::query_scalar(
        "SELECT target FROM audit_log WHERE action = 'token.revoked' AND actor = 'mine' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(revoked, ["sensor", "mine"]);
}

#[tokio::test]
async fn share_links_are_made_listed_and_revoked_on_the_board_page() {
    let app = TestApp::spawn().await;
    let board = json!({"slug": "vault", "title": "Vault", "visibility": "private"});
    assert_eq!(app.post("/dashboard/boards", board).await.status(), 201);
    let mut session = ManageSession::sign_in(&app).await;

    let refused = session.post_raw("/manage/boards/vault/shares", &[("name", "tv")]).await;
    assert_eq!(refused.status(), 403, "without the CSRF token");
    let refused = session.post("/manage/boards/vault/shares", &[("name", "tv"), ("expires", "7w")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("is not a duration"));
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM shares").fetch_one(&app.db).await.unwrap(), 0);

    let made = session.post("/manage/boards/vault/shares", &[("name", "lobby <tv>"), ("expires", "7d")]).await;
    assert_eq!(made.status(), 200);
    let body = made.text().await.unwrap();
    assert!(body.contains("lobby &#60;tv&#62;") || body.contains("lobby &lt;tv&gt;"), "escaped");
    let start = body.find("/s/").expect("the link's address is shown") + 3;
    let secret = &body[start..start + 64];
    let visitor = crate::common::no_redirects();
    let admitted = visitor.get(app.url(&format!("/s/{secret}"))).send().await.unwrap();
    assert_eq!(admitted.status(), 303, "the address shown works");

    let (status, page) = session.get("/manage/boards/vault").await;
    assert_eq!(status, 200);
    assert!(page.contains("active") && !page.contains(secret), "listed, its address shown only once");
    let id: i64 = sqlx::query_scalar("SELECT id FROM shares").fetch_one(&app.db).await.unwrap();
    let revoke = format!("/manage/boards/vault/shares/{id}/revoke");
    assert_eq!(session.post_raw(&revoke, &[]).await.status(), 403, "without the CSRF token");
    let revoked = session.post(&revoke, &[]).await;
    assert_eq!(revoked.status(), 303);
    let (_, page) = session.get("/manage/boards/vault").await;
    assert!(page.contains("revoked: it admits nobody") && page.contains(">revoked<"), "{page}");
    assert_eq!(visitor.get(app.url(&format!("/s/{secret}"))).send().await.unwrap().status(), 404);
}

/// A web app whose pages stream from a separate stream app on the same database.
async fn web_and_stream_apps() -> (TestApp, TestApp) {
    let separate = [("SSE_SERVER_TYPE", "separate"), ("SSE_HOST", "stream.example.test"), ("SSE_PORT", "4001")];
    let web = TestApp::spawn_with(&separate).await;
    // The stream app listens on SSE_PORT: a free one of its own, not the port the pages name.
    let stream = TestApp::spawn_on(&web.database_url, Role::StreamOnly, &separate[..1]).await;
    web.create_board("lobby", &[("n", "number")]).await;
    let vault = json!({"slug": "vault", "title": "Vault", "visibility": "private"});
    assert_eq!(web.post("/dashboard/boards", vault).await.status(), 201);
    let widget = json!({"key": "n", "title": "n", "kind": "number"});
    assert_eq!(web.post("/dashboard/boards/vault/widgets", widget).await.status(), 201);
    (web, stream)
}

/// The stream URL a board page gives its JavaScript.
fn stream_url_of(page: &str) -> &str {
    let start = page.find("data-url=\"").expect("a stream URL") + "data-url=\"".len();
    &page[start..start + page[start..].find('"').unwrap()]
}

fn ticket_of(stream_url: &str) -> Option<&str> {
    stream_url.split_once("?ticket=").map(|(_, ticket)| ticket)
}

async fn stream_status(app: &TestApp, query: &str) -> u16 {
    SseClient::connect(&app.url(&format!("/dashboard/stream?{query}")), None).await.status
}

#[tokio::test]
async fn a_private_board_page_gives_a_separate_stream_a_ticket_it_accepts() {
    let (web, stream_app) = web_and_stream_apps().await;
    let mut session = ManageSession::sign_in(&web).await;
    let (status, page) = session.get("/boards/vault").await;
    assert_eq!(status, 200, "{page}");
    let url = stream_url_of(&page);
    assert!(url.starts_with("//stream.example.test:4001/dashboard/stream?ticket="), "{url}");
    assert!(page.contains("data-ticket-url=\"/boards/vault/ticket\""), "where to get the next one");
    let ticket = ticket_of(url).unwrap();

    let path = format!("/dashboard/stream?boards=vault&ticket={ticket}");
    let mut stream = SseClient::connect(&stream_app.url(&path), None).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.next_event(Duration::from_secs(5)).await.expect("hello").event.as_deref(), Some("hello"));
    let id = web.push("vault", "n", json!({"value": 4242})).await;
    loop {
        let frame = stream.next_event(Duration::from_secs(10)).await.expect("the pushed value");
        if frame.id == Some(id) {
            assert!(frame.data.contains("4242"), "{frame:?}");
            break;
        }
    }

    let tickets = StreamTickets::new(&common::settings_from(&web.env).secret_key_base);
    let expired = tickets.issue(&["vault".to_string()], Utc::now() - chrono::Duration::seconds(1));
    let tampered = format!("{}{}", &ticket[..ticket.len() - 1], if ticket.ends_with('0') { '1' } else { '0' });
    let for_another_board = tickets.issue_now(&["lobby".to_string()]);
    for refused in [String::new(), tampered, expired, for_another_board, "not-a-ticket".into()] {
        let status = stream_status(&stream_app, &format!("boards=vault&ticket={refused}")).await;
        assert_eq!(status, 404, "ticket {refused:?}");
    }
    assert_eq!(stream_status(&stream_app, "boards=vault").await, 404, "no ticket");
    assert_eq!(stream_status(&web, &format!("boards=vault&ticket={ticket}")).await, 200, "the web app's stream too");
}

#[tokio::test]
async fn a_page_gets_a_fresh_ticket_for_its_reconnects_from_its_own_server() {
    let (web, stream_app) = web_and_stream_apps().await;
    let session = ManageSession::sign_in(&web).await;
    let response = session
        .client
        .get(web.url("/boards/vault/ticket"))
        .header(header::COOKIE, session.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let ticket = response.json::<Json>().await.unwrap()["ticket"].as_str().expect("a ticket").to_string();
    assert_eq!(stream_status(&stream_app, &format!("boards=vault&ticket={ticket}")).await, 200);

    // Anybody else gets the very answer of a board that does not exist.
    assert_eq!(web.get("/boards/vault/ticket").await.status(), 404);
    assert_eq!(web.get("/boards/nope/ticket").await.status(), 404);
    // A public board's page needs no ticket, and its stream takes none.
    let (_, _, page) = html(&web, "/boards/lobby").await;
    assert_eq!(stream_url_of(&page), "//stream.example.test:4001/dashboard/stream");
    assert!(!page.contains("data-ticket-url"), "{page}");
    assert_eq!(web.get("/boards/lobby/ticket").await.json::<Json>().await.unwrap(), json!({"ticket": null}));
    assert_eq!(stream_status(&stream_app, "boards=lobby").await, 200);
}

#[tokio::test]
async fn playlists_are_made_changed_and_deleted_through_the_management_forms() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    app.create_board("web", &[]).await;
    let mut session = ManageSession::sign_in(&app).await;
    let (status, body) = session.get("/manage").await;
    assert!(status == 200 && body.contains("href=\"/manage/playlists\""), "linked from the management index");

    let bad = [("title", "Lobby"), ("name", "lobby"), ("interval_s", "2"), ("boards", "ops, nope")];
    let response = session.post("/manage/playlists", &bad).await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap();
    assert!(body.contains("must be a whole number from 5 to 86400"), "the interval's error is shown");
    assert_eq!(app.count("playlists").await, 0);

    let good = [("title", "Lobby"), ("name", "lobby"), ("interval_s", "10"), ("boards", "web, ops")];
    let response = session.post("/manage/playlists", &good).await;
    assert_eq!(response.status(), 303);
    let (_, list) = session.get("/manage/playlists").await;
    assert!(list.contains("Playlist “Lobby” created.") && list.contains("web, ops"), "{list}");
    let (_, _, index) = html(&app, "/").await;
    assert!(index.contains("href=\"/playlists/lobby\""), "the index page lists it");

    let (status, form) = session.get("/manage/playlists/lobby").await;
    assert!(status == 200 && form.contains("value=\"web, ops\""), "{form}");
    let changed = [("title", "Lobby"), ("name", "lobby"), ("interval_s", "20"), ("boards", "ops")];
    assert_eq!(session.post("/manage/playlists/lobby", &changed).await.status(), 303);
    let playlist: Json = app.send(reqwest::Method::GET, "/dashboard/playlists/lobby", None).await.json().await.unwrap();
    assert_eq!((&playlist["interval_s"], &playlist["boards"]), (&json!(20), &json!(["ops"])));

    assert_eq!(session.post("/manage/playlists/lobby/delete", &[]).await.status(), 303);
    assert_eq!(app.count("playlists").await, 0);
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE target = 'lobby' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(actions, ["playlist.created", "playlist.updated", "playlist.deleted"]);
}
