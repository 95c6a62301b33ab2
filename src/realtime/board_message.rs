//! "Board B changed" messages between instances over Redis. Each carries an HMAC-SHA256 keyed
//! from `SECRET_KEY_BASE`, so only instances sharing that secret can send one: anybody else who
//! can publish to the Redis server could otherwise make every page of a board re-read it or
//! tell its viewers it was renamed. A message older than [`MAX_AGE_S`] is refused too, so a
//! copy recorded by someone who can subscribe cannot be played back later.

use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Generous, so clocks of different hosts need not agree closely.
const MAX_AGE_S: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardChange {
    /// The sending process: it skips its own messages.
    pub instance: String,
    pub board: String,
    pub action: String,
    /// The board is private: only streams that may see it are told.
    #[serde(default)]
    pub private: bool,
    /// Unix seconds.
    pub sent_at: i64,
}

/// Signs and checks board messages.
#[derive(Clone)]
pub struct BoardMessages {
    key: [u8; 32],
}

impl BoardMessages {
    pub fn new(secret_key_base: &Secret) -> Self {
        // A key of its own: a MAC made here can never pass for a session cookie's, nor the reverse.
        let mut derive = HmacSha256::new_from_slice(secret_key_base.expose().as_bytes()).expect("HMAC takes any key");
        derive.update(b"dashboard: Redis board messages");
        Self { key: derive.finalize().into_bytes().into() }
    }

    /// `<hex MAC> <JSON>`: the MAC covers exactly the JSON's bytes.
    pub fn seal(&self, instance: &str, board: &str, action: &str, private: bool) -> String {
        let change = BoardChange {
            instance: instance.into(),
            board: board.into(),
            action: action.into(),
            private,
            sent_at: Utc::now().timestamp(),
        };
        let body = serde_json::to_string(&change).expect("strings serialize");
        format!("{} {body}", hex::encode(self.mac(&body).finalize().into_bytes()))
    }

    /// The change a message announces, or why it is refused.
    pub fn open(&self, payload: &str) -> Result<BoardChange, &'static str> {
        let (tag, body) = payload.split_once(' ').ok_or("not signed")?;
        let tag = hex::decode(tag).map_err(|_| "not signed")?;
        self.mac(body).verify_slice(&tag).map_err(|_| "wrong signature")?;
        let change: BoardChange = serde_json::from_str(body).map_err(|_| "malformed")?;
        if (Utc::now().timestamp() - change.sent_at).abs() > MAX_AGE_S {
            return Err("too old");
        }
        Ok(change)
    }

    fn mac(&self, body: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(body.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(secret: &str) -> BoardMessages {
        BoardMessages::new(&Secret::new(secret))
    }

    #[test]
    fn a_sealed_message_opens_with_the_same_secret_only() {
        let ours = messages("a shared secret key base of 32+ chars");
        let sealed = ours.seal("web-1", "ops", "renamed", true);
        let change = ours.open(&sealed).unwrap();
        assert_eq!(
            (change.instance.as_str(), change.board.as_str(), change.action.as_str(), change.private),
            ("web-1", "ops", "renamed", true)
        );
        assert_eq!(messages("another secret key base of 32+ chars").open(&sealed), Err("wrong signature"));
    }

    #[test]
    fn forged_altered_and_old_messages_are_refused() {
        let ours = messages("a shared secret key base of 32+ chars");
        let sealed = ours.seal("web-1", "ops", "updated", false);
        assert_eq!(ours.open(&sealed.replace("updated", "renamed")), Err("wrong signature"));
        assert_eq!(ours.open(r#"{"instance":"x","board":"ops","action":"renamed"}"#), Err("not signed"));
        assert_eq!(ours.open("zz {}"), Err("not signed"));
        assert_eq!(ours.open(""), Err("not signed"));
        let (tag, _) = sealed.split_once(' ').unwrap();
        assert_eq!(ours.open(&format!("{tag} {{}}")), Err("wrong signature"));

        let stale = serde_json::json!({"instance": "x", "board": "ops", "action": "renamed",
            "sent_at": Utc::now().timestamp() - MAX_AGE_S - 1})
        .to_string();
        let replayed = format!("{} {stale}", hex::encode(ours.mac(&stale).finalize().into_bytes()));
        assert_eq!(ours.open(&replayed), Err("too old"));
        let garbage = format!("{} not json", hex::encode(ours.mac("not json").finalize().into_bytes()));
        assert_eq!(ours.open(&garbage), Err("malformed"));
    }
}
