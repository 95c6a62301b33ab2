//! A share link to be made: its name and when it stops working, checked once for the API, the
//! management page and the CLI alike.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value as Json;

use super::fields::{Fields, ValidationErrors, check_text};
use super::slug::Slug;

pub const MAX_SHARE_NAME: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShare {
    pub name: String,
    /// `None`: until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewShare {
    /// `{"name", "expires_at"?}` (RFC 3339, after `now`) of `POST …/shares`.
    pub fn parse(json: &Json, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        let name = f.required_string("name", 1, MAX_SHARE_NAME);
        let expires_at = match f.raw("expires_at") {
            None => None,
            Some(Json::String(raw)) => match expiry(raw, now) {
                Ok(at) => Some(at),
                Err(message) => f.fail("expires_at", message),
            },
            Some(_) => f.fail("expires_at", "must be an RFC 3339 time such as 2030-01-31T18:00:00Z"),
        };
        match name {
            Some(name) if f.errors.is_empty() => Ok(Self { name: name.trim().to_string(), expires_at }),
            _ => Err(f.errors),
        }
    }

    /// A link named `name` lasting `lasts` (`None`: until revoked), for the CLI and the forms.
    pub fn lasting(name: &str, lasts: Option<Duration>, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let name = name.trim();
        let mut errors = ValidationErrors::default();
        if name.is_empty() {
            errors.add("name", "must not be blank");
        } else if let Err(message) = check_text(name, MAX_SHARE_NAME) {
            errors.add("name", message);
        }
        errors.into_result(Self { name: name.to_string(), expires_at: lasts.map(|d| now + d) })
    }
}

fn expiry(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, &'static str> {
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| "must be an RFC 3339 time such as 2030-01-31T18:00:00Z")?
        .with_timezone(&Utc);
    if at > now { Ok(at) } else { Err("must be in the future") }
}

/// `30m`, `12h`, `7d`: a whole number of minutes, hours or days, the only spans a share link
/// needs (a crate for the general case would be more than this).
pub fn parse_lifetime(raw: &str) -> Result<Duration, String> {
    let rule = || format!("{raw:?} is not a duration: write a whole number with m, h or d, such as 30m, 12h or 7d");
    let raw = raw.trim();
    let split = raw.len().checked_sub(1).filter(|&i| raw.is_char_boundary(i)).ok_or_else(rule)?;
    let (number, unit) = raw.split_at(split);
    let n: i64 = number.parse().ok().filter(|n| *n > 0).ok_or_else(rule)?;
    let span = match unit {
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
    };
    span.filter(|d| *d <= Duration::days(3650)).ok_or_else(rule)
}

/// `…/boards/{board}/shares/{id}`: one link of one board, as the API and the management pages
/// name it.
#[derive(Debug, serde::Deserialize)]
pub struct SharePath {
    pub board: Slug,
    pub id: i64,
}

/// `…/playlists/{playlist}/shares/{id}`: one link of one playlist.
#[derive(Debug, serde::Deserialize)]
pub struct PlaylistSharePath {
    pub playlist: Slug,
    pub id: i64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_share_needs_a_name_and_a_future_expiry() {
        let now = Utc::now();
        let share = NewShare::parse(&json!({"name": " tv "}), now).unwrap();
        assert_eq!(share, NewShare { name: "tv".into(), expires_at: None });
        let errors = NewShare::parse(&json!({"name": "", "expires_at": "2000-01-01T00:00:00Z"}), now).unwrap_err();
        assert_eq!(errors.get("name"), Some("must not be blank"));
        assert_eq!(errors.get("expires_at"), Some("must be in the future"));
        for bad in [json!("tomorrow"), json!(5)] {
            let errors = NewShare::parse(&json!({"name": "tv", "expires_at": bad}), now).unwrap_err();
            assert!(errors.get("expires_at").unwrap().contains("RFC 3339"), "{bad}");
        }
        let later = NewShare::parse(&json!({"name": "tv", "expires_at": "2999-01-01T00:00:00+02:00"}), now).unwrap();
        assert_eq!(later.expires_at.unwrap().to_rfc3339(), "2998-12-31T22:00:00+00:00");
    }

    #[test]
    fn a_lifetime_is_minutes_hours_or_days() {
        assert_eq!(parse_lifetime("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_lifetime("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_lifetime("7d"), Ok(Duration::days(7)));
        for bad in ["", "d", "0d", "-1d", "7w", "1.5h", "7 d", "é", "99999999999d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad:?}");
        }
    }
}
