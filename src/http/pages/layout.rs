//! The frame every page shares: its title, the colour theme and kiosk mode.

use serde::Deserialize;

pub struct Layout {
    pub title: String,
    /// `dark` or `light`; `None` follows the browser's preference.
    pub theme: Option<&'static str>,
    /// A wall screen: no header or navigation, larger type.
    pub kiosk: bool,
}

#[derive(Deserialize, Default)]
struct DisplayQuery {
    kiosk: Option<String>,
    theme: Option<String>,
}

impl Layout {
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), theme: None, kiosk: false }
    }

    /// Reads `?kiosk=1` and `?theme=dark|light` leniently: anything else means the default.
    /// Kiosk mode is dark unless the query asks for light.
    pub fn from_query(title: impl Into<String>, query: &str) -> Self {
        let query: DisplayQuery = lenient_query(query);
        let kiosk = matches!(query.kiosk.as_deref(), Some("1" | "true" | "yes" | "on"));
        let theme = match query.theme.as_deref() {
            Some("dark") => Some("dark"),
            Some("light") => Some("light"),
            _ if kiosk => Some("dark"),
            _ => None,
        };
        Self { title: title.into(), theme, kiosk }
    }
}

impl Layout {
    /// A page that is always a wall screen (a playlist): kiosk mode whatever the query says,
    /// dark unless it asks for light.
    pub fn kiosk_from_query(title: impl Into<String>, query: &str) -> Self {
        let layout = Self::from_query(title, query);
        Self { kiosk: true, theme: layout.theme.or(Some("dark")), ..layout }
    }
}

fn lenient_query<T: for<'de> Deserialize<'de> + Default>(query: &str) -> T {
    actix_web::web::Query::<T>::from_query(query).map(|q| q.into_inner()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiosk_defaults_to_dark() {
        let l = Layout::from_query("x", "kiosk=1");
        assert!(l.kiosk);
        assert_eq!(l.theme, Some("dark"));
        assert_eq!(Layout::from_query("x", "kiosk=1&theme=light").theme, Some("light"));
        assert_eq!(Layout::from_query("x", "theme=purple").theme, None);
        assert!(!Layout::from_query("x", "kiosk=%zz").kiosk);
        let wall = Layout::kiosk_from_query("x", "kiosk=0");
        assert!(wall.kiosk);
        assert_eq!(wall.theme, Some("dark"));
        assert_eq!(Layout::kiosk_from_query("x", "theme=light").theme, Some("light"));
    }
}
