//! Playlists over the API: validation, who sees which, changes and their audit, share links.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::{TestApp, create_token};
use dashboard::domain::Role;

async fn json_of(response: reqwest::Response) -> Json {
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_editor_creates_reads_changes_and_deletes_a_playlist_and_each_change_is_audited() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    app.create_board("web", &[]).await;
    let created = app
        .post(
            "/dashboard/playlists",
            json!({"name": "tv", "title": "Lobby", "interval_s": 10, "boards": ["web", "ops"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["location"], "/dashboard/playlists/tv");
    let playlist = json_of(created).await;
    assert_eq!((&playlist["boards"], &playlist["interval_s"]), (&json!(["web", "ops"]), &json!(10)));

    let patched = app.send(Method::PATCH, "/dashboard/playlists/tv", Some(json!({"name": "wall", "boards": ["ops"]})));
    let patched = json_of(patched.await).await;
    assert_eq!(
        (&patched["name"], &patched["boards"], &patched["title"]),
        (&json!("wall"), &json!(["ops"]), &json!("Lobby"))
    );
    assert_eq!(app.send(Method::GET, "/dashboard/playlists/tv", None).await.status(), 404, "renamed");
    let listed = json_of(app.send(Method::GET, "/dashboard/playlists", None).await).await;
    assert_eq!(listed["playlists"].as_array().unwrap().len(), 1);
    assert_eq!(listed["playlists"][0]["name"], "wall");

    assert_eq!(app.send(Method::DELETE, "/dashboard/boards/ops", None).await.status(), 204);
    let orphan = json_of(app.send(Method::GET, "/dashboard/playlists/wall", None).await).await;
    assert_eq!(orphan["boards"], json!([]), "a deleted board drops out of its playlists");
    assert_eq!(app.send(Method::DELETE, "/dashboard/playlists/wall", None).await.status(), 204);
    assert_eq!(app.send(Method::DELETE, "/dashboard/playlists/wall", None).await.status(), 404);

    let logged: Vec<(String, String, Json)> =
        sqlx::query_as("SELECT action, target, details FROM audit_log WHERE action LIKE 'playlist.%' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let actions: Vec<_> = logged.iter().map(|(a, t, _)| (a.as_str(), t.as_str())).collect();
    assert_eq!(actions, [("playlist.created", "tv"), ("playlist.updated", "wall"), ("playlist.deleted", "wall")]);
    assert_eq!(logged[1].2["boards"], json!({"old": ["web", "ops"], "new": ["ops"]}));
}

#[tokio::test]
async fn a_bad_playlist_is_a_422_naming_each_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let good = json!({"name": "tv", "title": "Lobby", "interval_s": 5, "boards": ["ops"]});
    for (change, field) in [
        (json!({"name": "Not A Slug"}), "name"),
        (json!({"title": ""}), "title"),
        (json!({"interval_s": 4}), "interval_s"),
        (json!({"interval_s": "5"}), "interval_s"),
        (json!({"boards": []}), "boards"),
        (json!({"boards": "ops"}), "boards"),
        (json!({"boards": ["ops", "ops"]}), "boards[1]"),
        (json!({"boards": ["ops", "nope"]}), "boards"),
    ] {
        let mut body = good.clone();
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let response = app.post("/dashboard/playlists", body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let error = json_of(response).await;
        assert!(error["error"]["details"][field].is_string(), "{body}: {error}");
    }
    assert_eq!(app.count("playlists").await, 0);
    assert_eq!(app.post("/dashboard/playlists", good.clone()).await.status(), 201);
    let again = app.post("/dashboard/playlists", good).await;
    assert_eq!(again.status(), 409);
    assert_eq!(json_of(again).await["error"]["details"]["name"], "is already taken");
    let patch = app.send(Method::PATCH, "/dashboard/playlists/tv", Some(json!({"boards": ["nope"]}))).await;
    assert_eq!(patch.status(), 422);
    assert_eq!(
        json_of(app.send(Method::GET, "/dashboard/playlists/tv", None).await).await["boards"],
        json!(["ops"]),
        "unchanged"
    );
}

#[tokio::test]
async fn a_reader_sees_a_playlist_with_only_the_boards_it_may_see() {
    let app = TestApp::spawn().await;
    app.create_board("public", &[]).await;
    for slug in ["hidden", "all-hidden"] {
        let board = json!({"slug": slug, "title": slug, "visibility": "private"});
        assert_eq!(app.post("/dashboard/boards", board).await.status(), 201);
    }
    let mixed = json!({"name": "mixed", "title": "Mixed", "interval_s": 5, "boards": ["hidden", "public"]});
    assert_eq!(app.post("/dashboard/playlists", mixed).await.status(), 201);
    let secret = json!({"name": "secret", "title": "Secret", "interval_s": 5, "boards": ["all-hidden"]});
    assert_eq!(app.post("/dashboard/playlists", secret).await.status(), 201);

    let anonymous = app.client.get(app.url("/dashboard/playlists/mixed")).send().await.unwrap();
    assert_eq!(json_of(anonymous).await["boards"], json!(["public"]));
    let anonymous = app.client.get(app.url("/dashboard/playlists/secret")).send().await.unwrap();
    assert_eq!(anonymous.status(), 404, "a playlist of boards one may not see does not exist");
    let listed = json_of(app.client.get(app.url("/dashboard/playlists")).send().await.unwrap()).await;
    assert_eq!(listed["playlists"].as_array().unwrap().len(), 1);

    let reader = create_token(&app.db, "reader", Role::Read, Some(&["hidden"])).await;
    let seen = json_of(app.send_as(&reader, Method::GET, "/dashboard/playlists/mixed", None).await).await;
    assert_eq!(seen["boards"], json!(["hidden", "public"]));
    let all = json_of(app.send(Method::GET, "/dashboard/playlists", None).await).await;
    assert_eq!(all["playlists"].as_array().unwrap().len(), 2, "an unlimited token sees them all");
}

#[tokio::test]
async fn an_editor_limited_to_boards_changes_only_playlists_all_of_whose_boards_are_its_own() {
    let app = TestApp::spawn().await;
    app.create_board("mine", &[]).await;
    app.create_board("theirs", &[]).await;
    let editor = create_token(&app.db, "limited", Role::Editor, Some(&["mine"])).await;
    let body = |boards: Json| json!({"name": "tv", "title": "TV", "interval_s": 5, "boards": boards});
    let post = |boards| app.send_as(&editor, Method::POST, "/dashboard/playlists", Some(body(boards)));
    assert_eq!(post(json!(["mine", "theirs"])).await.status(), 403);
    assert_eq!(post(json!(["mine"])).await.status(), 201);
    let widen = app.send_as(&editor, Method::PATCH, "/dashboard/playlists/tv", Some(json!({"boards": ["theirs"]})));
    assert_eq!(widen.await.status(), 403);
    let wide = json!({"name": "wide", "title": "Wide", "interval_s": 5, "boards": ["mine", "theirs"]});
    assert_eq!(app.post("/dashboard/playlists", wide).await.status(), 201);
    assert_eq!(app.send_as(&editor, Method::DELETE, "/dashboard/playlists/wide", None).await.status(), 403);
    assert_eq!(app.send_as(&editor, Method::DELETE, "/dashboard/playlists/tv", None).await.status(), 204);
}

#[tokio::test]
async fn a_playlist_share_link_admits_to_its_boards_and_is_listed_and_revoked_as_a_boards_is() {
    let app = TestApp::spawn().await;
    for slug in ["a", "b", "c"] {
        let board = json!({"slug": slug, "title": slug, "visibility": "private"});
        assert_eq!(app.post("/dashboard/boards", board).await.status(), 201);
    }
    let playlist = json!({"name": "tv", "title": "TV", "interval_s": 5, "boards": ["a", "b"]});
    assert_eq!(app.post("/dashboard/playlists", playlist).await.status(), 201);
    let share = json_of(app.post("/dashboard/playlists/tv/shares", json!({"name": "lobby"})).await).await;
    let link = share["url"].as_str().unwrap();
    let no_redirects = crate::common::no_redirects();
    let admitted = no_redirects.get(app.url(&format!("{link}?kiosk=1"))).send().await.unwrap();
    assert_eq!(admitted.status(), 303);
    assert_eq!(admitted.headers()["location"], "/playlists/tv?kiosk=1");
    let cookie = admitted.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let read = |path: &str| app.client.get(app.url(path)).header(reqwest::header::COOKIE, &cookie).send();
    assert_eq!(read("/dashboard/boards/a").await.unwrap().status(), 200);
    assert_eq!(read("/dashboard/boards/b").await.unwrap().status(), 200);
    assert_eq!(read("/dashboard/boards/c").await.unwrap().status(), 404, "not in the playlist");
    assert_eq!(json_of(read("/dashboard/playlists/tv").await.unwrap()).await["boards"], json!(["a", "b"]));

    let listed = json_of(app.send(Method::GET, "/dashboard/playlists/tv/shares", None).await).await;
    assert_eq!((&listed["shares"][0]["playlist"], &listed["shares"][0]["board"]), (&json!("tv"), &Json::Null));
    let id = share["id"].as_i64().unwrap();
    assert_eq!(app.send(Method::DELETE, &format!("/dashboard/boards/a/shares/{id}"), None).await.status(), 404);
    assert_eq!(app.send(Method::DELETE, &format!("/dashboard/playlists/tv/shares/{id}"), None).await.status(), 204);
    assert_eq!(read("/dashboard/boards/a").await.unwrap().status(), 404, "revoked");
    let targets: Vec<String> =
        sqlx::query_scalar("SELECT target FROM audit_log WHERE action LIKE 'share.%' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(targets, ["playlist:tv", "playlist:tv"]);
}
