use std::time::Duration;

use chrono::Utc;

use super::{Frame, Realtime};
use crate::store::{Db, events};

/// Events read per query; a longer backlog is read in several pages, in order.
const PAGE: i64 = 1000;

/// The process's one reader of new events: delivers every committed event exactly once, in id
/// order, from `cursor` on. Woken by pushes and Redis messages, and every `poll_interval`
/// regardless, so a lost or late Redis message only delays an event, never loses it.
pub async fn run(realtime: Realtime, db: Db, mut cursor: i64, poll_interval: Duration) {
    let fanout_latency = metrics::histogram!("dashboard_fanout_latency_seconds");
    let mut failing = false;
    realtime.stats().set_last_event_id(cursor);
    loop {
        tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            _ = realtime.inner.wake.notified() => {}
            _ = tokio::time::sleep(poll_interval) => {}
        }
        loop {
            let page = match events::after(&db, cursor, None, PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    if !failing {
                        tracing::warn!(%error, "cannot read new events; retrying every poll interval");
                        failing = true;
                    }
                    break;
                }
            };
            if failing {
                tracing::info!("reading new events again");
                failing = false;
            }
            // Past rows that could not be decoded too (they were logged): later events still flow.
            let Some(last) = page.last_read else { break };
            cursor = last;
            realtime.snapshots_changed_by(&page.events);
            let now = Utc::now();
            for event in &page.events {
                let latency = (now - event.created_at).to_std().unwrap_or_default();
                fanout_latency.record(latency.as_secs_f64());
                realtime.hub().send(Frame::event(event, page.private_boards.contains(&event.board)));
                realtime.stats().published(event.id);
            }
            if (page.rows_read as i64) < PAGE {
                break;
            }
        }
    }
}
