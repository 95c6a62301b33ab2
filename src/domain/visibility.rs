//! Who may see a board: its [`Visibility`], and the [`Audience`] of a request, the boards its
//! caller may see, decided once at the edge from the caller.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub const VISIBILITY_RULE: &str = "must be \"public\" or \"private\"";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

impl FromStr for Visibility {
    type Err = &'static str;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "public" => Ok(Self::Public),
            "private" => Ok(Self::Private),
            _ => Err(VISIBILITY_RULE),
        }
    }
}

/// Rows read from PostgreSQL (whose CHECK constraint allows only these two words).
impl TryFrom<String> for Visibility {
    type Error = &'static str;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse()
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The boards a request's caller may see: every public board, and private ones as listed here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Anonymous: public boards only.
    Public,
    /// Every board, private ones included.
    Everything,
    /// Public boards and these private ones.
    Some(Vec<String>),
}

impl Audience {
    /// Whether this audience sees `board` even when it is private.
    pub fn covers(&self, board: &str) -> bool {
        match self {
            Self::Public => false,
            Self::Everything => true,
            Self::Some(boards) => boards.iter().any(|b| b == board),
        }
    }

    /// The parameters of the SQL filter `(b.visibility = 'public' OR $every OR b.slug = ANY($listed))`:
    /// whether every private board is seen, and which ones are.
    pub fn sql_filter(&self) -> (bool, Vec<String>) {
        match self {
            Self::Public => (false, Vec::new()),
            Self::Everything => (true, Vec::new()),
            Self::Some(boards) => (false, boards.clone()),
        }
    }

    /// This audience and these boards too (a share link's), each listed once.
    pub fn and(self, more: Vec<String>) -> Self {
        let mut boards = match self {
            Self::Everything => return Self::Everything,
            Self::Public => Vec::new(),
            Self::Some(boards) => boards,
        };
        boards.extend(more);
        boards.sort_unstable();
        boards.dedup();
        if boards.is_empty() { Self::Public } else { Self::Some(boards) }
    }

    /// Tells audiences apart in caches of what they were shown.
    pub fn cache_key(&self) -> String {
        match self {
            Self::Public => "public".into(),
            Self::Everything => "everything".into(),
            Self::Some(boards) => format!("some:{}", boards.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_is_one_of_two_words() {
        assert_eq!("private".parse(), Ok(Visibility::Private));
        assert_eq!(Visibility::try_from("public".to_string()), Ok(Visibility::Public));
        for bad in ["Private", "", "secret", " public"] {
            assert_eq!(bad.parse::<Visibility>(), Err(VISIBILITY_RULE), "{bad:?}");
        }
        assert_eq!(serde_json::to_value(Visibility::Private).unwrap(), "private");
    }

    #[test]
    fn an_audience_covers_the_private_boards_it_may_see() {
        let some = Audience::Some(vec!["ops".into()]);
        assert!(!Audience::Public.covers("ops") && Audience::Everything.covers("ops"));
        assert!(some.covers("ops") && !some.covers("web"));
        assert_eq!(some.sql_filter(), (false, vec!["ops".to_string()]));
        assert_eq!(Audience::Everything.sql_filter(), (true, vec![]));
        assert_ne!(Audience::Public.cache_key(), some.cache_key());
        assert_ne!(Audience::Everything.cache_key(), some.cache_key());
    }

    #[test]
    fn a_share_adds_its_board_to_an_audience() {
        let web = || vec!["web".to_string()];
        assert_eq!(Audience::Public.and(vec![]), Audience::Public);
        assert_eq!(Audience::Public.and(web()), Audience::Some(web()));
        let both = Audience::Some(vec!["web".into(), "ops".into()]).and(web());
        assert_eq!(both, Audience::Some(vec!["ops".into(), "web".into()]));
        assert_eq!(Audience::Everything.and(web()), Audience::Everything);
    }
}
