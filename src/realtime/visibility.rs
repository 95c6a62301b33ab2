//! Which boards are private, as this process knows it: board-change frames of a private board
//! go only to streams that may see it, and a board made private ends the streams that no longer
//! may. Kept current by this process's own changes, by other instances' board messages, and by
//! a re-read from PostgreSQL every [`REFRESH`], so changes whose message was lost (Redis down)
//! are seen too. (Event frames do not rely on this: the dispatcher reads each event's board
//! visibility with the event.)

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use super::Realtime;
use crate::domain::Visibility;
use crate::store::{Db, boards};

/// Well within the 5 s in which a stream that lost sight of a board must end.
pub const REFRESH: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct BoardVisibility {
    boards: RwLock<HashMap<String, Visibility>>,
}

impl BoardVisibility {
    pub fn is_private(&self, board: &str) -> bool {
        self.read().get(board) == Some(&Visibility::Private)
    }

    /// Records a board's visibility; true when a board known to be public became private.
    pub fn set(&self, board: &str, visibility: Visibility) -> bool {
        let before = self.write().insert(board.to_string(), visibility);
        became_hidden(before, visibility)
    }

    pub fn remove(&self, board: &str) {
        self.write().remove(board);
    }

    /// Replaces what is known with a fresh read; returns the boards that became private.
    pub fn replace_all(&self, fresh: Vec<(String, Visibility)>) -> Vec<String> {
        let fresh: HashMap<String, Visibility> = fresh.into_iter().collect();
        let mut known = self.write();
        let hidden = fresh
            .iter()
            .filter(|(board, visibility)| became_hidden(known.get(*board).copied(), **visibility))
            .map(|(board, _)| board.clone())
            .collect();
        *known = fresh;
        hidden
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Visibility>> {
        // A panic while holding the lock cannot leave the map inconsistent: recover it.
        self.boards.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Visibility>> {
        self.boards.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A new board that starts private was never seen by anyone who may not see it: nothing to end.
fn became_hidden(before: Option<Visibility>, now: Visibility) -> bool {
    before == Some(Visibility::Public) && now == Visibility::Private
}

/// Re-reads every board's visibility at start, when woken by a board change, and every [`REFRESH`].
pub async fn refresh(realtime: Realtime, db: Db) {
    loop {
        match boards::visibilities(&db).await {
            Ok(fresh) => realtime.inner.visibility.replace_all(fresh).iter().for_each(|b| realtime.hide(b)),
            Err(error) => tracing::warn!(%error, "cannot read board visibility; keeping what is known"),
        }
        tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            _ = realtime.inner.visibility_changed.notified() => {}
            _ = tokio::time::sleep(REFRESH) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_public_board_made_private_is_hidden() {
        let known = BoardVisibility::default();
        assert!(!known.set("ops", Visibility::Private), "a new private board was never public");
        assert!(!known.set("web", Visibility::Public));
        assert!(known.set("web", Visibility::Private));
        assert!(known.is_private("web") && !known.is_private("unknown"));
        known.set("web", Visibility::Public);
        let hidden = known.replace_all(vec![("web".into(), Visibility::Private), ("new".into(), Visibility::Private)]);
        assert_eq!(hidden, ["web"]);
        known.remove("web");
        assert!(!known.is_private("web"));
    }
}
