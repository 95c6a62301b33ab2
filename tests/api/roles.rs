//! Token roles and board limits on every API route: who gets what status.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::{TestApp, create_token};
use dashboard::domain::Role;

const BOOTSTRAP: &str = "bootstrap-secret-for-the-role-matrix";

/// The credentials of the matrix, in the order of each route's expected statuses.
const CREDENTIALS: [&str; 14] = [
    "no token",
    "unknown token",
    "revoked token",
    "read limited to another board",
    "push limited to another board",
    "editor limited to another board",
    "read limited to this board",
    "push limited to this board",
    "editor limited to this board",
    "unlimited editor",
    "admin",
    "DASHBOARD_API_TOKEN",
    "share link of this board",
    "expired share link of this board",
];

/// The two share links of the matrix (secrets shaped like real ones, ids out of the way of the
/// links the share routes revoke), and whether each has expired.
const SHARES: [(i64, &str, bool); 2] = [(1_000_001, "5a", false), (1_000_002, "e0", true)];

/// The role each credential's 403 names (`None` where no 403 is possible).
const ROLES: [Option<&str>; 14] = [
    None,
    None,
    None,
    Some("read"),
    Some("push"),
    Some("editor"),
    Some("read"),
    Some("push"),
    Some("editor"),
    Some("editor"),
    Some("admin"),
    Some("admin"),
    None,
    None,
];

const READ: [u16; 14] = [200, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200];
/// Reads of a private board: to whoever may not see it, it does not exist.
const READ_PRIVATE: [u16; 14] = [404, 401, 401, 404, 404, 404, 200, 200, 200, 200, 200, 200, 200, 404];
const CREATE_BOARD: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 403, 403, 201, 201, 201, 401, 401];
const EDIT: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 200, 401, 401];
const CREATED_BY_EDITOR: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 403, 201, 201, 201, 201, 401, 401];
const DELETED_BY_EDITOR: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 403, 204, 204, 204, 204, 401, 401];
/// Editors read what they may act on: a token limited to another board gets a file without it.
const EXPORT: [u16; 14] = [401, 401, 401, 403, 403, 200, 403, 403, 200, 200, 200, 200, 401, 401];
const PUSH: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 201, 201, 201, 201, 201, 401, 401];
/// The Smashing push API: a push as any other, answered as Smashing answers.
const SMASHING_PUSH: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 204, 204, 204, 204, 204, 401, 401];
const ADMIN_READ: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 200, 401, 401];
const ADMIN_CREATE: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 201, 201, 401, 401];
const ADMIN_DELETE: [u16; 14] = [401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 204, 204, 401, 401];

/// Every API route there is, on board `this`, its widget `n` and playlist `this` (of board `this`); `read_this` is what reads of
/// that board answer. `{n}` in a path or body is a number new on each request, so that creating
/// twice does not conflict.
fn routes(read_this: [u16; 14]) -> Vec<(Method, &'static str, Option<Json>, [u16; 14])> {
    let push = json!({"value": 1});
    let batch = json!({"events": [{"board": "this", "widget": "n", "value": {"value": 2}}]});
    let layout = json!({"widgets": [{"key": "n", "position": 1, "width": 2, "height": 1}]});
    let playlist = json!({"name": "p-{n}", "title": "P", "interval_s": 5, "boards": ["this"]});
    vec![
        (Method::GET, "/dashboard", None, READ),
        (Method::POST, "/dashboard/boards", Some(json!({"title": "New", "slug": "new-{n}"})), CREATE_BOARD),
        (Method::GET, "/dashboard/boards/this", None, read_this),
        (Method::PATCH, "/dashboard/boards/this", Some(json!({"title": "Renamed"})), EDIT),
        (Method::DELETE, "/dashboard/boards/this", None, DELETED_BY_EDITOR),
        (
            Method::POST,
            "/dashboard/boards/this/widgets",
            Some(json!({"key": "k{n}", "title": "K", "kind": "number"})),
            CREATED_BY_EDITOR,
        ),
        (Method::GET, "/dashboard/boards/this/widgets/n", None, read_this),
        (Method::PATCH, "/dashboard/boards/this/widgets/n", Some(json!({"title": "Renamed"})), EDIT),
        (Method::PUT, "/dashboard/boards/this/layout", Some(layout), EDIT),
        (Method::DELETE, "/dashboard/boards/this/widgets/n", None, DELETED_BY_EDITOR),
        (Method::GET, "/dashboard/boards/this/widgets/n/events", None, read_this),
        (Method::POST, "/dashboard/boards/this/widgets/n/events", Some(push), PUSH),
        (Method::POST, "/dashboard/events", Some(batch), PUSH),
        (Method::POST, "/widgets/n", Some(json!({"current": 3})), SMASHING_PUSH),
        (Method::POST, "/dashboards/this", Some(json!({"event": "reload"})), SMASHING_PUSH),
        (Method::GET, "/dashboard/stream?boards=this", None, read_this),
        (Method::POST, "/dashboard/boards/this/shares", Some(json!({"name": "tv"})), CREATED_BY_EDITOR),
        (Method::GET, "/dashboard/boards/this/shares", None, EDIT),
        (Method::DELETE, "/dashboard/boards/this/shares/{n}", None, DELETED_BY_EDITOR),
        (Method::GET, "/dashboard/export", None, EXPORT),
        (
            Method::POST,
            "/dashboard/import?dry_run=1",
            Some(json!({"version": 1, "boards": [{"slug": "this", "title": "T"}]})),
            EDIT,
        ),
        (Method::GET, "/dashboard/playlists", None, READ),
        (Method::POST, "/dashboard/playlists", Some(playlist), CREATED_BY_EDITOR),
        (Method::GET, "/dashboard/playlists/this", None, read_this),
        (Method::PATCH, "/dashboard/playlists/this", Some(json!({"title": "Renamed"})), EDIT),
        (Method::DELETE, "/dashboard/playlists/this", None, DELETED_BY_EDITOR),
        (Method::POST, "/dashboard/playlists/this/shares", Some(json!({"name": "tv"})), CREATED_BY_EDITOR),
        (Method::GET, "/dashboard/playlists/this/shares", None, EDIT),
        (Method::DELETE, "/dashboard/playlists/this/shares/7000{n}", None, DELETED_BY_EDITOR),
        (Method::GET, "/dashboard/audit", None, ADMIN_READ),
        (Method::GET, "/dashboard/tokens", None, ADMIN_READ),
        (Method::POST, "/dashboard/tokens", Some(json!({"name": "made-{n}", "role": "read"})), ADMIN_CREATE),
        (Method::DELETE, "/dashboard/tokens/victim-{n}", None, ADMIN_DELETE),
    ]
}

/// How each of [`CREDENTIALS`] is sent: a Bearer token, a share link's cookie, or nothing.
enum Credential {
    None,
    Bearer(String),
    Cookie(String),
}

async fn credentials(app: &TestApp) -> Vec<Credential> {
    let db = &app.db;
    let revoked = create_token(db, "revoked", Role::Admin, None).await;
    dashboard::store::tokens::revoke(db, "revoked").await.unwrap();
    let mut tokens = vec!["dash_unknown".to_string(), revoked];
    for board in ["other", "this"] {
        for role in [Role::Read, Role::Push, Role::Editor] {
            tokens.push(create_token(db, &format!("{role}-{board}"), role, Some(&[board])).await);
        }
    }
    tokens.push(create_token(db, "editor", Role::Editor, None).await);
    tokens.extend([app.token.clone(), BOOTSTRAP.to_string()]);
    let shares =
        SHARES.map(|(id, secret, _)| Credential::Cookie(format!("dashboard_share_{id}={}", share_secret(secret))));
    std::iter::once(Credential::None).chain(tokens.into_iter().map(Credential::Bearer)).chain(shares).collect()
}

fn share_secret(stem: &str) -> String {
    stem.repeat(32)
}

/// Puts back what an earlier request may have deleted: board `this` (of this visibility) with
/// widget `n`, in the lists of the tokens limited to it and in playlist `this`, a token
/// `victim-{n}`, a share link of id `{n}` to revoke and one of playlist `this`, of id `7000{n}`.
async fn restore(app: &TestApp, n: usize, visibility: &str) {
    if app.send(Method::GET, "/dashboard/boards/this", None).await.status() == 404 {
        let board = json!({"slug": "this", "title": "this", "visibility": visibility});
        assert_eq!(app.post("/dashboard/boards", board).await.status(), 201);
    }
    if app.send(Method::GET, "/dashboard/boards/this/widgets/n", None).await.status() == 404 {
        let widget = json!({"key": "n", "title": "N", "kind": "number"});
        assert_eq!(app.post("/dashboard/boards/this/widgets", widget).await.status(), 201);
    }
    sqlx::query(
        "INSERT INTO token_boards (token_id, board_id)
         SELECT t.id, b.id FROM api_tokens t, boards b WHERE t.name LIKE '%-this' AND b.slug = 'this'
         ON CONFLICT DO NOTHING",
    )
    .execute(&app.db)
    .await
    .unwrap();
    create_token(&app.db, &format!("victim-{n}"), Role::Read, None).await;
    for (id, stem, expired) in SHARES {
        sqlx::query(
            "INSERT INTO shares (id, board_id, name, secret_hash, expires_at) OVERRIDING SYSTEM VALUE
             SELECT $1, id, 'matrix', sha256(convert_to($2, 'UTF8')),
                    CASE WHEN $3 THEN now() - interval '1 hour' END
             FROM boards WHERE slug = 'this' ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(share_secret(stem))
        .bind(expired)
        .execute(&app.db)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO shares (id, board_id, name, secret_hash) OVERRIDING SYSTEM VALUE
         SELECT $1, id, 'victim', sha256($1::text::bytea) FROM boards WHERE slug = 'this'",
    )
    .bind(n as i64)
    .execute(&app.db)
    .await
    .unwrap();
    restore_playlist(app, n).await;
}

async fn restore_playlist(app: &TestApp, n: usize) {
    for statement in [
        "INSERT INTO playlists (name, title, interval_s) VALUES ('this', 'this', 5) ON CONFLICT DO NOTHING",
        "INSERT INTO playlist_boards (playlist_id, position, board_id)
         SELECT p.id, 1, b.id FROM playlists p, boards b WHERE p.name = 'this' AND b.slug = 'this'
         ON CONFLICT DO NOTHING",
    ] {
        sqlx::query(statement).execute(&app.db).await.unwrap();
    }
    let id: i64 = format!("7000{n}").parse().unwrap();
    sqlx::query(
        "INSERT INTO shares (id, playlist_id, name, secret_hash) OVERRIDING SYSTEM VALUE
         SELECT $1, id, 'victim', sha256($1::text::bytea) FROM playlists WHERE name = 'this'",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
}

/// Rows of every table a write may touch, to see that a refused request changed nothing.
async fn rows(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["boards", "widgets", "events"] {
        counts.push(app.count(table).await);
    }
    let state = "SELECT count(*) FILTER (WHERE revoked_at IS NULL) FROM api_tokens WHERE name NOT LIKE 'victim-%'";
    counts.push(sqlx::query_scalar(state).fetch_one(&app.db).await.unwrap());
    let shares = "SELECT count(*) FROM shares WHERE revoked_at IS NULL";
    counts.push(sqlx::query_scalar(shares).fetch_one(&app.db).await.unwrap());
    for query in [
        "SELECT count(*) FROM boards WHERE title = 'Renamed'",
        "SELECT count(*) FROM widgets WHERE config ? 'width'",
        "SELECT count(*) FROM playlists",
        "SELECT count(*) FROM playlists WHERE title = 'Renamed'",
    ] {
        counts.push(sqlx::query_scalar(query).fetch_one(&app.db).await.unwrap());
    }
    counts
}

#[tokio::test]
async fn every_route_answers_each_credential_as_its_role_and_boards_allow() {
    answers_each_credential("public", READ).await;
}

#[tokio::test]
async fn on_a_private_board_whoever_may_not_see_it_finds_nothing_there() {
    answers_each_credential("private", READ_PRIVATE).await;
}

/// The matrix: every route × every credential, on board `this` of this visibility. Board `other`
/// has a widget `n` too: `SMASHING_BOARD` makes `POST /widgets/n` mean the one on `this`.
async fn answers_each_credential(visibility: &str, read_this: [u16; 14]) {
    let app = TestApp::spawn_with(&[("DASHBOARD_API_TOKEN", BOOTSTRAP), ("SMASHING_BOARD", "this")]).await;
    app.create_board("other", &[("n", "number")]).await;
    restore(&app, 0, visibility).await;
    let secrets = credentials(&app).await;
    let mut n = 0;
    let mut failures = Vec::new();
    for (method, path, body, expected) in routes(read_this) {
        for (i, secret) in secrets.iter().enumerate() {
            n += 1;
            restore(&app, n, visibility).await;
            let before = rows(&app).await;
            let path = path.replace("{n}", &n.to_string());
            let mut request = app.client.request(method.clone(), app.url(&path));
            request = match secret {
                Credential::None => request,
                Credential::Bearer(token) => request.bearer_auth(token),
                Credential::Cookie(cookie) => request.header(reqwest::header::COOKIE, cookie),
            };
            if let Some(body) = &body {
                request = request
                    .json(&serde_json::from_str::<Json>(&body.to_string().replace("{n}", &n.to_string())).unwrap());
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let route = format!("{method} {path} on a {visibility} board with {}", CREDENTIALS[i]);
            if status != expected[i] {
                failures.push(format!("{route}: {status}, expected {}", expected[i]));
                continue;
            }
            if status >= 400 {
                let error: Json = response.json().await.unwrap();
                check_refusal(&route, status, &error["error"], ROLES[i], &mut failures);
                if rows(&app).await != before {
                    failures.push(format!("{route}: refused, yet something changed"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} requests answered wrongly:\n{}", failures.len(), failures.join("\n"));
}

fn check_refusal(route: &str, status: u16, error: &Json, role: Option<&str>, failures: &mut Vec<String>) {
    let code = match status {
        401 => "unauthorized",
        404 => "not_found",
        _ => "forbidden",
    };
    if error["code"] != code {
        failures.push(format!("{route}: code {}, expected {code}", error["code"]));
    }
    if status == 403 && (error["details"]["role"].as_str() != role || !error["details"]["needs"].is_string()) {
        failures.push(format!("{route}: details {} should name role {role:?} and what it needs", error["details"]));
    }
}

#[tokio::test]
async fn a_batch_with_one_board_the_token_may_not_push_to_is_refused_whole_naming_it() {
    let app = TestApp::spawn().await;
    app.create_board("this", &[("n", "number")]).await;
    app.create_board("other", &[("n", "number")]).await;
    let pusher = create_token(&app.db, "pusher", Role::Push, Some(&["this"])).await;
    let item = |board: &str| json!({"board": board, "widget": "n", "value": {"value": 1}});
    let body = json!({"events": [item("this"), item("other"), item("other")]});
    let response = app.client.post(app.url("/dashboard/events")).bearer_auth(&pusher).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let error: Json = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("events[1]: ") && message.contains("\"other\""), "{message}");
    assert_eq!(error["error"]["details"], json!({"role": "push", "needs": "push"}));
    assert_eq!(app.count("events").await, 0, "nothing of a refused batch is written");

    // Even a widget that does not exist on the other board is refused as the board, not told apart.
    let body = json!({"events": [{"board": "other", "widget": "nope", "value": {"value": 1}}]});
    let response = app.client.post(app.url("/dashboard/events")).bearer_auth(&pusher).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_token_limited_to_a_deleted_board_loses_it_and_gains_nothing() {
    let app = TestApp::spawn().await;
    app.create_board("gone", &[("n", "number")]).await;
    app.create_board("other", &[("n", "number")]).await;
    let editor = create_token(&app.db, "limited", Role::Editor, Some(&["gone"])).await;
    let push = |board: &str| {
        let url = app.url(&format!("/dashboard/boards/{board}/widgets/n/events"));
        app.client.post(url).bearer_auth(&editor).json(&json!({"value": 1})).send()
    };
    assert_eq!(push("gone").await.unwrap().status(), 201);
    let deleted = app.client.delete(app.url("/dashboard/boards/gone")).bearer_auth(&editor).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    app.create_board("gone", &[("n", "number")]).await;
    assert_eq!(push("gone").await.unwrap().status(), 403, "a new board of the same slug is not the deleted one");
    assert_eq!(push("other").await.unwrap().status(), 403, "a limited token with no board left is not unlimited");
    let create = json!({"title": "Mine"});
    let response =
        app.client.post(app.url("/dashboard/boards")).bearer_auth(&editor).json(&create).send().await.unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn only_those_who_may_edit_a_board_see_its_widgets_sources() {
    // JOBS=off: the source is never fetched (tests send nothing beyond loopback).
    let app = TestApp::spawn_with(&[("JOBS", "off")]).await;
    app.create_board("this", &[]).await;
    let source = json!({"url": "http://127.0.0.1:9/v", "interval_s": 60, "pointer": "/v"});
    let widget = json!({"key": "s", "title": "S", "kind": "number", "config": {"source": source}});
    let response = app.post("/dashboard/boards/this/widgets", widget).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let reader = create_token(&app.db, "reader", Role::Read, None).await;
    let url = app.url("/dashboard/boards/this/widgets/s");
    for (secret, sees_source) in [(&app.token, true), (&reader, false)] {
        let widget: Json = app.client.get(&url).bearer_auth(secret).send().await.unwrap().json().await.unwrap();
        assert_eq!(widget["config"].get("source").is_some(), sees_source, "{widget}");
    }
}
