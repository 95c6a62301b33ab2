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

    /// Records a board's visibility; true when it is private and was not known to be (see
    /// [`became_hidden`]). The caller of a board just created ignores it.
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

/// A private board that was not known to be private. One this process did not know at all
/// counts: it may have been created public elsewhere and streamed from here before this process
/// heard of it (ending a stream needlessly only makes it reconnect).
fn became_hidden(before: Option<Visibility>, now: Visibility) -> bool {
    now == Visibility::Private && before != Some(Visibility::Private)
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
    fn a_board_not_known_to_be_private_is_hidden_when_it_is() {
        let known = BoardVisibility::default();
        assert!(known.set("ops", Visibility::Private), "perhaps public elsewhere until now");
        assert!(!known.set("ops", Visibility::Private), "known to be private already");
        assert!(!known.set("web", Visibility::Public));
        assert!(known.set("web", Visibility::Private));
        assert!(known.is_private("web") && !known.is_private("unknown"));
        known.set("web", Visibility::Public);
        let fresh = vec![("web".into(), Visibility::Private), ("ops".into(), Visibility::Private)];
        assert_eq!(known.replace_all(fresh), ["web"], "ops was known to be private");
        let mut hidden =
            known.replace_all(vec![("web".into(), Visibility::Public), ("new".into(), Visibility::Private)]);
        hidden.sort();
        assert_eq!(hidden, ["new"], "unknown until now: it may have been public elsewhere");
        known.remove("web");
        assert!(!known.is_private("web"));
    }
}
