//! The harness itself: a test's database lasts as long as the test, unless the test fails.

use sqlx::{Connection, PgConnection};

use crate::common::{TestApp, TestDatabase, fresh_database, with_database};

async fn database_exists(any_url: &str, name: &str) -> bool {
    let mut admin = PgConnection::connect(&with_database(any_url, "postgres")).await.unwrap();
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .unwrap()
}

fn name_of(url: &str) -> String {
    url::Url::parse(url).unwrap().path().trim_start_matches('/').to_string()
}

#[tokio::test]
async fn a_passing_tests_database_is_dropped_with_its_app() {
    let app = TestApp::spawn().await;
    app.create_board("b", &[("n", "number")]).await;
    let (url, name) = (app.database_url.clone(), name_of(&app.database_url));
    // A second app on the same database does not own it.
    drop(TestApp::spawn_on(&url, dashboard::startup::Role::Web, &[]).await);
    assert!(database_exists(&url, &name).await, "still the first app's");

    // Dropped while the app still runs and its pools hold connections.
    drop(app);
    assert!(!database_exists(&url, &name).await, "{name} left behind");
}

#[tokio::test]
async fn a_failing_tests_database_is_kept_for_inspection() {
    let database = fresh_database().await;
    let (url, name) = (database.to_string(), database.name().to_string());
    let failed = std::thread::spawn(move || {
        let _database = database;
        panic!("a failing test");
    })
    .join();
    assert!(failed.is_err());
    assert!(database_exists(&url, &name).await, "kept");
    drop(TestDatabase::owning(url.clone()));
    assert!(!database_exists(&url, &name).await);
}
