use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;

use super::{Frame, Realtime};
use crate::store::Db;
use crate::store::events::{self, Committed, EventRow};

/// Events read per query; a longer backlog is read in several pages, in order.
const PAGE: i64 = 1000;

/// The most committed events waiting to be handed over; past it, the dispatcher reads them.
const HAND_OVER_LIMIT: usize = 10_000;

/// The process's one reader of new events: delivers every committed event exactly once, in id
/// order, from `cursor` on. Woken by pushes and Redis messages, and every `poll_interval`
/// regardless, so a lost or late Redis message only delays an event, never loses it.
///
/// Events this process committed itself are handed over with the wake-up, and when they follow
/// the cursor without a gap they are fanned out at once, without reading them back: no id
/// between the cursor and them can still appear, so order and exactly-once hold. What does not
/// follow on (another instance's events came between) is read from PostgreSQL as before.
pub async fn run(realtime: Realtime, db: Db, mut cursor: i64, poll_interval: Duration) {
    let mut failing = false;
    realtime.stats().set_last_event_id(cursor);
    loop {
        let polled = tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            _ = realtime.inner.wake.notified() => false,
            _ = tokio::time::sleep(poll_interval) => true,
        };
        let (run, complete) = realtime.inner.handed_over.take_run_after(cursor);
        if let Some(last) = run.last().map(|c| c.event.id) {
            let private: HashSet<&str> =
                run.iter().filter(|c| c.board_private).map(|c| c.event.board.as_str()).collect();
            deliver(&realtime, run.iter().map(|c| &c.event), &private);
            cursor = last;
        }
        let read_needed = realtime.inner.read_needed.swap(false, Ordering::AcqRel);
        if polled || read_needed || !complete {
            cursor = read_after(&realtime, &db, cursor, &mut failing).await;
        }
    }
}

/// Reads and delivers every event after `cursor`, page by page; returns the new cursor.
async fn read_after(realtime: &Realtime, db: &Db, mut cursor: i64, failing: &mut bool) -> i64 {
    loop {
        let page = match events::after(db, cursor, None, PAGE).await {
            Ok(page) => page,
            Err(error) => {
                if !*failing {
                    tracing::warn!(%error, "cannot read new events; retrying every poll interval");
                    *failing = true;
                }
                return cursor;
            }
        };
        if *failing {
            tracing::info!("reading new events again");
            *failing = false;
        }
        // Past rows that could not be decoded too (they were logged): later events still flow.
        let Some(last) = page.last_read else { return cursor };
        cursor = last;
        let private: HashSet<&str> = page.private_boards.iter().map(String::as_str).collect();
        deliver(realtime, &page.events, &private);
        if (page.rows_read as i64) < PAGE {
            return cursor;
        }
    }
}

/// Fans events, in id order, out to this process's streams.
fn deliver<'a>(realtime: &Realtime, events: impl IntoIterator<Item = &'a EventRow> + Clone, private: &HashSet<&str>) {
    let fanout_latency = metrics::histogram!("dashboard_fanout_latency_seconds");
    realtime.snapshots_changed_by(events.clone());
    let now = Utc::now();
    for event in events {
        let latency = (now - event.created_at).to_std().unwrap_or_default();
        fanout_latency.record(latency.as_secs_f64());
        realtime.hub().send(Frame::event(event, private.contains(event.board.as_str())));
        realtime.stats().published(event.id);
    }
}

/// Committed events waiting for the dispatcher, in the order writers handed them over.
#[derive(Default)]
pub struct HandOver {
    waiting: Mutex<Vec<Committed>>,
}

impl HandOver {
    /// Keeps copies of `committed` for the dispatcher; false when there is no room (the
    /// dispatcher then reads them).
    pub fn hand_over(&self, committed: &[Committed]) -> bool {
        let mut waiting = self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if waiting.len() + committed.len() > HAND_OVER_LIMIT {
            return false;
        }
        waiting.extend_from_slice(committed);
        true
    }

    /// Takes every waiting event; returns those that follow `cursor` without a gap, in id
    /// order, and whether that was all of the newer ones.
    fn take_run_after(&self, cursor: i64) -> (Vec<Committed>, bool) {
        let mut waiting = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        waiting.retain(|c| c.event.id > cursor);
        waiting.sort_unstable_by_key(|c| c.event.id);
        let run = waiting.iter().zip(cursor + 1..).take_while(|(c, next)| c.event.id == *next).count();
        let complete = run == waiting.len();
        waiting.truncate(run);
        (waiting, complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WidgetKind;

    fn committed(id: i64) -> Committed {
        let event = EventRow {
            id,
            board: "ops".into(),
            widget: "n".into(),
            kind: WidgetKind::Number,
            value: sqlx::types::Json(serde_json::json!({"value": id})),
            created_at: Utc::now(),
        };
        Committed { event, board_private: false }
    }

    fn ids(run: &[Committed]) -> Vec<i64> {
        run.iter().map(|c| c.event.id).collect()
    }

    #[test]
    fn only_events_that_follow_the_cursor_without_a_gap_are_handed_over() {
        let hand_over = HandOver::default();
        assert!(hand_over.hand_over(&[committed(12), committed(11)]));
        assert!(hand_over.hand_over(&[committed(14)]));
        let (run, complete) = hand_over.take_run_after(10);
        assert_eq!((ids(&run), complete), (vec![11, 12], false), "13 may be another instance's: read it");
        assert_eq!(ids(&hand_over.take_run_after(12).0), Vec::<i64>::new(), "taken, read or not");
    }

    #[test]
    fn events_at_or_below_the_cursor_are_dropped() {
        let hand_over = HandOver::default();
        assert!(hand_over.hand_over(&[committed(5), committed(6), committed(7)]));
        let (run, complete) = hand_over.take_run_after(6);
        assert_eq!((ids(&run), complete), (vec![7], true));
    }

    #[test]
    fn past_the_limit_nothing_is_kept_and_the_dispatcher_reads() {
        let hand_over = HandOver::default();
        let many: Vec<Committed> = (1..=HAND_OVER_LIMIT as i64).map(committed).collect();
        assert!(hand_over.hand_over(&many));
        assert!(!hand_over.hand_over(&[committed(HAND_OVER_LIMIT as i64 + 1)]));
        let (run, complete) = hand_over.take_run_after(0);
        assert_eq!((run.len(), complete), (HAND_OVER_LIMIT, true));
    }
}
