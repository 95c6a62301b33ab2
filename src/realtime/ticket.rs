//! Stream tickets: a page whose stream is on another origin cannot send its cookies there, so the
//! web server hands it a ticket naming the private boards it may stream. The ticket is signed
//! with a key derived from `SECRET_KEY_BASE`, so every server sharing that secret accepts it and
//! nobody else can make one; it admits a stream only while it is young, since it travels in a URL
//! (and so may end up in logs and browser history).

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::Slug;

type HmacSha256 = Hmac<Sha256>;

/// How long a fresh ticket admits a stream: long enough to load a page's scripts and connect.
pub const TICKET_LIFETIME: Duration = Duration::seconds(60);

#[derive(Serialize, Deserialize)]
struct Claims {
    boards: Vec<String>,
    /// Unix seconds.
    expires: i64,
}

/// Issues and checks stream tickets.
#[derive(Clone)]
pub struct StreamTickets {
    key: [u8; 32],
}

impl StreamTickets {
    pub fn new(secret_key_base: &Secret) -> Self {
        // A key of its own: a ticket's MAC can never pass for a session cookie's or a Redis message's.
        let mut derive = HmacSha256::new_from_slice(secret_key_base.expose().as_bytes()).expect("HMAC takes any key");
        derive.update(b"dashboard: stream-ticket");
        Self { key: derive.finalize().into_bytes().into() }
    }

    /// A ticket for `boards` that admits until `expires`: `<hex JSON>.<hex MAC>`, safe in a URL
    /// as it is.
    pub fn issue(&self, boards: &[String], expires: DateTime<Utc>) -> String {
        let claims = Claims { boards: boards.to_vec(), expires: expires.timestamp() };
        let body = serde_json::to_string(&claims).expect("strings serialize");
        format!("{}.{}", hex::encode(&body), hex::encode(self.mac(body.as_bytes()).finalize().into_bytes()))
    }

    /// A ticket for `boards` that admits from now for [`TICKET_LIFETIME`].
    pub fn issue_now(&self, boards: &[String]) -> String {
        self.issue(boards, Utc::now() + TICKET_LIFETIME)
    }

    /// The boards a ticket admits at `now`; `None` for one that is forged, altered, expired or
    /// not a ticket at all.
    pub fn verify(&self, ticket: &str, now: DateTime<Utc>) -> Option<Vec<String>> {
        let (body, tag) = ticket.split_once('.')?;
        let (body, tag) = (hex::decode(body).ok()?, hex::decode(tag).ok()?);
        // `verify_slice` compares in constant time: timing tells a forger nothing of the MAC.
        self.mac(&body).verify_slice(&tag).ok()?;
        let claims: Claims = serde_json::from_slice(&body).ok()?;
        if claims.expires <= now.timestamp() || claims.boards.iter().any(|b| Slug::parse(b).is_err()) {
            return None;
        }
        Some(claims.boards)
    }

    fn mac(&self, body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(body);
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tickets(secret: &str) -> StreamTickets {
        StreamTickets::new(&Secret::new(secret))
    }

    fn vault() -> Vec<String> {
        vec!["vault".to_string()]
    }

    #[test]
    fn a_ticket_admits_its_boards_until_it_expires() {
        let ours = tickets("a shared secret key base of 32+ chars");
        let now = Utc::now();
        let ticket = ours.issue(&vault(), now + TICKET_LIFETIME);
        assert!(ticket.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.'), "URL-safe: {ticket}");
        assert_eq!(ours.verify(&ticket, now), Some(vault()));
        assert_eq!(ours.verify(&ticket, now + TICKET_LIFETIME - Duration::seconds(1)), Some(vault()));
        assert_eq!(ours.verify(&ticket, now + TICKET_LIFETIME), None, "expired");
        assert_eq!(ours.verify(&ours.issue(&vault(), now - Duration::seconds(1)), now), None, "issued expired");
        assert_eq!(tickets("another secret key base of 32+ chars").verify(&ticket, now), None);
    }

    #[test]
    fn altered_and_garbage_tickets_admit_nothing() {
        let ours = tickets("a shared secret key base of 32+ chars");
        let now = Utc::now();
        let ticket = ours.issue(&vault(), now + TICKET_LIFETIME);
        let (body, tag) = ticket.split_once('.').unwrap();
        let claims = String::from_utf8(hex::decode(body).unwrap()).unwrap();
        let other_boards = hex::encode(claims.replace("vault", "payroll"));
        assert_eq!(ours.verify(&format!("{other_boards}.{tag}"), now), None, "tampered boards");
        let later = hex::encode(claims.replace(&(now + TICKET_LIFETIME).timestamp().to_string(), "9999999999"));
        assert_eq!(ours.verify(&format!("{later}.{tag}"), now), None, "tampered expiry");
        let flipped = format!("{}{}", if tag.starts_with('0') { '1' } else { '0' }, &tag[1..]);
        assert_eq!(ours.verify(&format!("{body}.{flipped}"), now), None, "tampered MAC");
        assert_eq!(ours.verify(&format!("{body}.{}", &tag[..10]), now), None, "short MAC");
        for garbage in ["", ".", "vault", "zz.zz", &format!("{body}{tag}"), &format!("{body}.{tag}.{tag}")] {
            assert_eq!(ours.verify(garbage, now), None, "{garbage:?}");
        }
        let not_json = hex::encode("not json");
        let signed = hex::encode(ours.mac(b"not json").finalize().into_bytes());
        assert_eq!(ours.verify(&format!("{not_json}.{signed}"), now), None, "signed garbage");
    }
}
