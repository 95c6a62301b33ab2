//! Group commit for single pushes. Event inserts are serialized from id draw to commit (see
//! [`super::events`]), so one push per transaction would cap throughput at one WAL flush per
//! event. Instead one task per process inserts whatever pushes are waiting as one statement:
//! one lock, one flush, for all of them. An idle server inserts a lone push at once; a busy
//! one batches more the busier it is.

use tokio::sync::{mpsc, oneshot};

use super::events::{self, EventRow, NewEvent};
use super::widgets::WidgetRow;
use super::{Db, StoreError, StoreResult};
use crate::domain::Value;

/// The most pushes one statement carries (the batch API's limit too).
const MAX_GROUP: usize = 1000;

struct Push {
    widget: WidgetRow,
    value: Value,
    reply: oneshot::Sender<StoreResult<EventRow>>,
}

#[derive(Clone)]
pub struct EventWriter {
    sender: mpsc::Sender<Push>,
}

impl EventWriter {
    pub fn start(db: Db) -> Self {
        let (sender, receiver) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(write_groups(db, receiver));
        Self { sender }
    }

    /// Inserts one value and returns its event once it is committed.
    pub async fn push(&self, widget: WidgetRow, value: Value) -> StoreResult<EventRow> {
        let (reply, committed) = oneshot::channel();
        self.sender.send(Push { widget, value, reply }).await.map_err(|_| writer_gone())?;
        committed.await.map_err(|_| writer_gone())?
    }
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

async fn write_groups(db: Db, mut receiver: mpsc::Receiver<Push>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while receiver.recv_many(&mut group, MAX_GROUP).await > 0 {
        let pushes = std::mem::take(&mut group);
        match insert(&db, &pushes).await {
            Ok(rows) => pushes.into_iter().zip(rows).for_each(|(push, row)| drop(push.reply.send(Ok(row)))),
            Err(error) if pushes.len() == 1 => {
                if let Some(push) = pushes.into_iter().next() {
                    let _ = push.reply.send(Err(error));
                }
            }
            // The database is away: every push would fail again, each after its own wait for a
            // connection. Answer them all now (503s), so the queue does not stall behind them.
            Err(error @ StoreError::Unavailable(_)) => {
                for push in pushes {
                    let _ = push.reply.send(Err(unavailable_like(&error)));
                }
            }
            // One bad push (its widget was just deleted, say) must not fail the others: retry alone.
            Err(_) => {
                for push in pushes {
                    let result = insert(&db, std::slice::from_ref(&push)).await.map(|mut rows| rows.remove(0));
                    let _ = push.reply.send(result);
                }
            }
        }
    }
}

/// The group's "database unavailable", once for each of its pushes (a `sqlx::Error` cannot be
/// cloned; its text can).
fn unavailable_like(error: &StoreError) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Protocol(error.to_string()))
}

async fn insert(db: &Db, pushes: &[Push]) -> StoreResult<Vec<EventRow>> {
    let mut conn = db.acquire().await?;
    let new = pushes.iter().map(|p| NewEvent { widget: &p.widget, value: p.value.clone() }).collect();
    events::insert(&mut conn, new).await
}
