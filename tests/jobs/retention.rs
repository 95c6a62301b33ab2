use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::json;

use super::idle_runner;
use crate::common::TestApp;

const WIDGETS: i64 = 20;

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// 100,000 events: 60,000 of them 40 days old and 39,900 a day old, spread over `WIDGETS`
/// widgets; and a widget `quiet` whose 100 events are all old.
async fn fill(app: &TestApp) {
    let keys: Vec<String> = (0..WIDGETS).map(|i| format!("w{i}")).collect();
    let mut widgets: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "number")).collect();
    widgets.push(("quiet", "number"));
    app.create_board("ops", &widgets).await;
    sqlx::query(
        "INSERT INTO events (board_id, widget_id, value, created_at)
         SELECT w.board_id, w.id, jsonb_build_object('value', g),
                CASE WHEN g <= 60000 THEN now() - interval '40 days' ELSE now() - interval '1 day' END
                    + g * interval '1 millisecond'
         FROM generate_series(1, 99900) g JOIN widgets w ON w.key = 'w' || (g % $1)
         ORDER BY g",
    )
    .bind(WIDGETS)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO events (board_id, widget_id, value, created_at)
         SELECT w.board_id, w.id, jsonb_build_object('value', g), now() - interval '35 days' + g * interval '1 second'
         FROM generate_series(1, 100) g JOIN widgets w ON w.key = 'quiet' ORDER BY g",
    )
    .execute(&app.db)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_deletes_exactly_the_expired_events_and_keeps_each_widgets_newest() {
    let app = TestApp::spawn_with(&[("JOBS", "off")]).await;
    fill(&app).await;
    assert_eq!(app.count("events").await, 100_000);
    let quiet_newest: i64 =
        sqlx::query_scalar("SELECT max(e.id) FROM events e JOIN widgets w ON w.id = e.widget_id WHERE w.key = 'quiet'")
            .fetch_one(&app.db)
            .await
            .unwrap();

    // Pushes go on, through the API, for as long as the prune runs.
    let pruning = Arc::new(AtomicBool::new(true));
    let pusher = {
        let (client, url, token, pruning) = (
            app.client.clone(),
            app.url("/dashboard/boards/ops/widgets/w0/events"),
            app.token.clone(),
            pruning.clone(),
        );
        tokio::spawn(async move {
            let mut ids = Vec::new();
            while pruning.load(Ordering::Relaxed) || ids.is_empty() {
                let response = client.post(&url).bearer_auth(&token).json(&json!({"value": 1})).send().await.unwrap();
                assert_eq!(response.status(), 201, "a push during the prune failed");
                ids.push(response.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap());
            }
            ids
        })
    };
    let runner = idle_runner(&app.database_url, &[]).await;
    let started = Instant::now();
    let summary = runner.run_now("retention").await.unwrap().expect("retention succeeds");
    let took = started.elapsed();
    pruning.store(false, Ordering::Relaxed);
    let pushed = pusher.await.unwrap();
    eprintln!("retention: {summary} in {took:?}; {} pushes succeeded meanwhile", pushed.len());

    assert_eq!(summary, "deleted 60099 events older than 30 days");
    let fresh = 39_900 + pushed.len() as i64;
    assert_eq!(app.count("events").await, fresh + 1, "the fresh events and quiet's newest remain");
    let old_left: Vec<i64> = sqlx::query_scalar("SELECT id FROM events WHERE created_at < now() - interval '30 days'")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(old_left, vec![quiet_newest], "of the expired events only quiet's newest is kept");
    let pushed_kept: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE id = ANY($1)")
        .bind(&pushed)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(pushed_kept, pushed.len() as i64);
    assert_eq!(count(&app, "SELECT count(DISTINCT widget_id) FROM events").await, WIDGETS + 1);

    let again = runner.run_now("retention").await.unwrap().unwrap();
    assert_eq!(again, "deleted 0 events older than 30 days");
    app.stop().await;
}
