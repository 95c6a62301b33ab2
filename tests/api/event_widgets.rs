//! An event is stored only with its widget, and goes when its widget goes, also when the two
//! meet: the insert locks its widgets instead of a foreign key checking every row.

use std::time::Duration;

use serde_json::json;
use sqlx::Connection;

use crate::common::TestApp;
use dashboard::domain::{Value, WidgetKind};
use dashboard::store::StoreError;
use dashboard::store::events::{self, NewEvent};
use dashboard::store::widgets::{self, WidgetRow};

async fn widget(app: &TestApp, key: &str) -> WidgetRow {
    widgets::find(&mut app.db.acquire().await.unwrap(), "ops", key).await.unwrap()
}

fn number(n: i64) -> Value {
    Value::parse(WidgetKind::Number, json!({"value": n})).unwrap()
}

async fn delete_widget(app: &TestApp, id: i64) {
    sqlx::query("DELETE FROM widgets WHERE id = $1").bind(id).execute(&app.db).await.unwrap();
}

#[tokio::test]
async fn an_insert_naming_a_deleted_widget_writes_none_of_its_events() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("kept", "number"), ("gone", "number")]).await;
    let (kept, gone) = (widget(&app, "kept").await, widget(&app, "gone").await);
    delete_widget(&app, gone.id).await;

    let new = vec![NewEvent { widget: &kept, value: number(1) }, NewEvent { widget: &gone, value: number(2) }];
    let result = events::insert(&mut app.db.acquire().await.unwrap(), new).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn each_event_takes_its_board_from_its_widget() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    let mut wrong_board = widget(&app, "n").await;
    let board_id = wrong_board.board_id;
    wrong_board.board_id = board_id + 1000;

    let new = vec![NewEvent { widget: &wrong_board, value: number(1) }];
    events::insert(&mut app.db.acquire().await.unwrap(), new).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT board_id FROM events").fetch_one(&app.db).await.unwrap();
    assert_eq!(stored, board_id);
}

#[tokio::test]
async fn a_widget_deleted_while_an_insert_is_in_flight_takes_the_new_events_with_it() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    let n = widget(&app, "n").await;

    let mut inserting = app.db.acquire().await.unwrap();
    let mut transaction = inserting.begin().await.unwrap();
    events::insert(&mut transaction, vec![NewEvent { widget: &n, value: number(1) }]).await.unwrap();
    let deleting = tokio::spawn({
        let app_db = app.db.clone();
        async move { sqlx::query("DELETE FROM widgets WHERE id = $1").bind(n.id).execute(&app_db).await.unwrap() }
    });
    wait_for_a_lock_wait(&app).await;
    transaction.commit().await.unwrap();
    deleting.await.unwrap();

    assert_eq!((app.count("widgets").await, app.count("events").await), (0, 0));
}

/// Until some session of this database waits for a row lock (the delete, for the insert's).
async fn wait_for_a_lock_wait(app: &TestApp) {
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the delete never waited for the insert's lock on its widget");
}

#[tokio::test]
async fn a_push_to_a_widget_deleted_behind_the_cache_is_404_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    app.push("ops", "n", json!({"value": 1})).await;
    delete_widget(&app, widget(&app, "n").await.id).await;

    let response = app.post("/dashboard/boards/ops/widgets/n/events", json!({"value": 2})).await;
    assert_eq!(response.status(), 404);
    assert_eq!(app.count("events").await, 0);
}
