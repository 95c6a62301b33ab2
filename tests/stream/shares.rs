//! Share links in a browser's shoes: `/s/<secret>` leaves a cookie that shows one private board
//! (page, JSON, stream) and nothing of another, and a revoked or expired link ends the streams
//! it admitted on every instance.

use std::time::Duration;

use dashboard::startup::Role;
use reqwest::Method;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value as Json, json};

use super::WAIT;
use crate::common::TestApp;
use crate::common::sse::SseClient;

const TITLE: &str = "Quarterly Vault Figures";
/// A link that stops working ends the streams it admitted within this long.
const ENDS_WITHIN: Duration = Duration::from_secs(5);

/// Private boards `vault` (shown by the link) and `other`, each with a widget `n`; returns the
/// link's id and address.
async fn two_private_boards_and_a_link(app: &TestApp) -> (i64, String) {
    for (slug, title) in [("vault", TITLE), ("other", "Other Secrets")] {
        let board = json!({"slug": slug, "title": title, "visibility": "private"});
        assert_eq!(app.post("/dashboard/boards", board).await.status(), 201);
        let widget = json!({"key": "n", "title": "n", "kind": "number"});
        assert_eq!(app.post(&format!("/dashboard/boards/{slug}/widgets"), widget).await.status(), 201);
        app.push(slug, "n", json!({"value": 1})).await;
    }
    let share: Json = app.post("/dashboard/boards/vault/shares", json!({"name": "tv"})).await.json().await.unwrap();
    (share["id"].as_i64().unwrap(), share["url"].as_str().unwrap().to_string())
}

/// Opens the link like a browser: returns the `name=value` of the cookie it set.
async fn open_link(app: &TestApp, link: &str) -> String {
    let response = crate::common::no_redirects().get(app.url(&format!("{link}?kiosk=1"))).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/boards/vault?kiosk=1");
    let set = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn status_with(app: &TestApp, cookie: &str, path: &str) -> u16 {
    crate::common::no_redirects().get(app.url(path)).header(COOKIE, cookie).send().await.unwrap().status().as_u16()
}

async fn stream_with(app: &TestApp, cookie: &str, path: &str) -> SseClient {
    SseClient::open(crate::common::no_redirects().get(app.url(path)).header(COOKIE, cookie)).await
}

#[tokio::test]
async fn a_share_link_shows_its_private_board_and_nothing_of_another() {
    let app = TestApp::spawn().await;
    let (_, link) = two_private_boards_and_a_link(&app).await;
    assert_eq!(status_with(&app, "", "/boards/vault").await, 404, "private without the link");
    let cookie = open_link(&app, &link).await;

    let page = crate::common::no_redirects()
        .get(app.url("/boards/vault?kiosk=1"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(TITLE));
    for path in
        ["/dashboard/boards/vault", "/dashboard/boards/vault/widgets/n", "/dashboard/boards/vault/widgets/n/events"]
    {
        assert_eq!(status_with(&app, &cookie, path).await, 200, "{path}");
    }
    for path in [
        "/boards/other",
        "/dashboard/boards/other",
        "/dashboard/boards/other/widgets/n",
        "/dashboard/stream?boards=other",
    ] {
        assert_eq!(status_with(&app, &cookie, path).await, 404, "{path}");
    }
    let listed: Json = crate::common::no_redirects()
        .get(app.url("/dashboard"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slugs: Vec<_> = listed["boards"].as_array().unwrap().iter().map(|b| b["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["vault"]);

    let mut stream = stream_with(&app, &cookie, "/dashboard/stream").await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    app.push("other", "n", json!({"value": 2})).await;
    let shown = app.push("vault", "n", json!({"value": 3})).await;
    assert_eq!(stream.widget_ids(1, WAIT).await, [shown], "the vault's value, not the other board's");

    // A forged cookie is no credential: the public view, never a 500.
    for forged in ["dashboard_share_1=zzz", &format!("dashboard_share_1={}", "ab".repeat(32)), "dashboard_share_=%00"] {
        assert_eq!(status_with(&app, forged, "/boards/vault").await, 404, "{forged}");
        assert_eq!(status_with(&app, forged, "/dashboard/boards/vault").await, 404, "{forged}");
    }
    // A cookie counts for reads only: a write with it and no token is refused.
    let write = crate::common::no_redirects()
        .request(Method::DELETE, app.url("/dashboard/boards/vault"))
        .header(COOKIE, &cookie);
    assert_eq!(write.send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn opening_a_link_clears_the_cookies_of_links_that_no_longer_work() {
    let app = TestApp::spawn().await;
    let (id, link) = two_private_boards_and_a_link(&app).await;
    let stale = format!("dashboard_share_999={}", "ab".repeat(32));
    let forged_same_name = format!("dashboard_share_{id}=zz");
    let response = crate::common::no_redirects()
        .get(app.url(&link))
        .header(COOKIE, format!("{stale}; {forged_same_name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let set: Vec<&str> = response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(set.iter().any(|c| c.starts_with("dashboard_share_999=;") && c.contains("Max-Age=0")), "{set:?}");
    let admitted = format!("dashboard_share_{id}={}", link.strip_prefix("/s/").unwrap());
    assert!(set.iter().any(|c| c.starts_with(&admitted) && !c.contains("Max-Age=0")), "{set:?}");
}

#[tokio::test]
async fn an_unknown_or_malformed_link_is_the_404_page() {
    let app = TestApp::spawn().await;
    for path in [format!("/s/{}", "ab".repeat(32)), "/s/short".into(), "/s/%00%ff".into()] {
        let response = crate::common::no_redirects().get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers().get(SET_COOKIE).is_none());
        assert!(response.text().await.unwrap().contains("does not work"), "{path}");
    }
}

/// Opens a stream with the link's cookie on each instance, lets `stop` end the link, and checks
/// that every stream ends, that the link is a 404 page and its cookie shows nothing any more.
async fn ending_the_link_ends_its_streams(stop: impl AsyncFnOnce(&TestApp, i64)) {
    let writer = TestApp::spawn().await;
    let reader = TestApp::spawn_on(&writer.database_url, Role::Web, &[]).await;
    let (id, link) = two_private_boards_and_a_link(&writer).await;
    let cookie = open_link(&reader, &link).await;
    let mut streams = Vec::new();
    for app in [&writer, &reader] {
        for path in ["/dashboard/stream", "/dashboard/stream?boards=vault"] {
            let mut stream = stream_with(app, &cookie, path).await;
            assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
            streams.push(stream);
        }
    }
    let mut unrelated = SseClient::connect(&writer.url("/dashboard/stream"), None).await;
    assert_eq!(unrelated.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));

    stop(&writer, id).await;
    for stream in &mut streams {
        assert!(stream.ends_within(ENDS_WITHIN).await, "a stream of the link still open");
    }
    assert!(!unrelated.ends_within(Duration::from_millis(100)).await, "an anonymous stream goes on");
    for app in [&writer, &reader] {
        let page = crate::common::no_redirects().get(app.url(&link)).send().await.unwrap();
        assert_eq!(page.status(), 404);
        assert!(page.text().await.unwrap().contains("does not work"));
        assert_eq!(status_with(app, &cookie, "/boards/vault").await, 404);
        assert_eq!(status_with(app, &cookie, "/dashboard/stream?boards=vault").await, 404);
    }
}

#[tokio::test]
async fn a_revoked_link_ends_its_streams_on_every_instance() {
    ending_the_link_ends_its_streams(async |app: &TestApp, id| {
        let revoke = format!("/dashboard/boards/vault/shares/{id}");
        assert_eq!(app.send(Method::DELETE, &revoke, None).await.status(), 204);
    })
    .await;
}

#[tokio::test]
async fn an_expired_link_ends_its_streams_on_every_instance() {
    ending_the_link_ends_its_streams(async |app: &TestApp, id| {
        sqlx::query("UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = $1")
            .bind(id)
            .execute(&app.db)
            .await
            .unwrap();
    })
    .await;
}
