//! Event ids become visible in id order. A reader polling `id > last_seen` while many
//! writers insert must see exactly the final table, in order, never skipping an id.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::common::TestApp;
use dashboard::domain::{Value, WidgetKind};
use dashboard::store::events::{self, NewEvent};
use dashboard::store::widgets;

const WRITERS: usize = 8;
const INSERTS_PER_WRITER: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_polling_reader_sees_ids_in_commit_order() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    let mut conn = app.db.acquire().await.unwrap();
    let widget = Arc::new(widgets::find(&mut conn, "ops", "n").await.unwrap());
    drop(conn);

    let done = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn({
        let (db, done) = (app.db.clone(), done.clone());
        async move {
            let (mut seen, mut cursor) = (Vec::new(), 0);
            loop {
                let finished = done.load(Ordering::Acquire);
                let page = events::after(&db, cursor, None, 10_000).await.unwrap();
                for event in &page.events {
                    assert!(event.id > cursor, "ids went backwards: {} after {cursor}", event.id);
                    cursor = event.id;
                    seen.push(event.id);
                }
                if finished && page.events.is_empty() {
                    return seen;
                }
            }
        }
    });

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, widget) = (app.db.clone(), widget.clone());
            tokio::spawn(async move {
                let mut written = 0;
                let mut round = 0;
                while written < INSERTS_PER_WRITER {
                    // Mix single inserts with batches of 2..=7.
                    let size =
                        if (w + round) % 3 == 0 { 1 } else { 2 + (w + round) % 6 }.min(INSERTS_PER_WRITER - written);
                    let batch = (0..size)
                        .map(|i| NewEvent {
                            widget: &widget,
                            value: Value::parse(WidgetKind::Number, json!({"value": w * 10_000 + written + i}))
                                .unwrap(),
                        })
                        .collect();
                    let mut conn = db.acquire().await.unwrap();
                    events::insert(&mut conn, batch).await.unwrap();
                    written += size;
                    round += 1;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, Ordering::Release);
    let seen = reader.await.unwrap();

    let table: Vec<i64> = sqlx::query_scalar("SELECT id FROM events ORDER BY id").fetch_all(&app.db).await.unwrap();
    assert_eq!(table.len(), WRITERS * INSERTS_PER_WRITER);
    let skipped: Vec<&i64> = table.iter().filter(|id| seen.binary_search(id).is_err()).take(10).collect();
    assert!(skipped.is_empty(), "the reader never saw {skipped:?}… ({} of {} seen)", seen.len(), table.len());
    assert_eq!(seen, table);
}
