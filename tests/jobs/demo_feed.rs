use std::collections::HashMap;

use serde_json::Value as Json;

use super::{WAIT, job, job_after_runs};
use crate::common::TestApp;
use crate::common::sse::SseClient;

/// Widget key → its latest event, from the board's JSON.
async fn latest(app: &TestApp) -> HashMap<String, Json> {
    let board: Json = app.get("/dashboard/boards/demo").await.json().await.unwrap();
    board["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["key"].as_str().unwrap().to_string(), w["latest"].clone()))
        .collect()
}

#[tokio::test]
async fn the_demo_feed_moves_the_demo_board() {
    let app = TestApp::spawn_with(&[("DEMO_FEED", "true")]).await;
    // Its first run creates the demo board.
    job_after_runs(&app.db, "demo-feed", 1).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=demo"), None).await;
    let before = latest(&app).await;

    let moving = ["visitors", "cpu", "requests"];
    let mut seen: HashMap<String, Vec<Json>> = HashMap::new();
    while moving.iter().any(|key| seen.get(*key).is_none_or(|values| values.len() < 2)) {
        let frame = stream.next(WAIT).await.expect("demo values keep streaming");
        if frame.event.as_deref() == Some("widget") {
            let event = frame.json();
            seen.entry(event["widget"].as_str().unwrap().to_string()).or_default().push(event["value"].clone());
        }
    }
    let after = latest(&app).await;
    for key in moving {
        assert!(after[key]["id"].as_i64() > before[key]["id"].as_i64(), "{key} got new events");
    }
    assert!(moving.iter().any(|key| after[*key]["value"] != before[*key]["value"]), "values changed");
    let cpu = after["cpu"]["value"]["value"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&cpu), "the gauge stays within its min and max: {cpu}");
    assert!(job(&app.db, "demo-feed").await.unwrap().runs >= 2);
    app.stop().await;
}
