//! How values read on a wall screen: grouped digits, a fixed number of decimals, "3 min ago".
//! `static/js/format.js` applies the same rules to live updates, so a value looks the same
//! whether the server rendered it or the stream delivered it.

use chrono::{DateTime, Utc};

/// Decimals shown when a widget's config names none (trailing zeros are trimmed).
const DEFAULT_MAX_DECIMALS: usize = 2;

/// `1234.5` → `"1,234.5"`; with `decimals`, exactly that many (`Some(0)` → `"1,235"`).
pub fn number(value: f64, decimals: Option<usize>) -> String {
    let fixed = format!("{value:.*}", decimals.unwrap_or(DEFAULT_MAX_DECIMALS));
    let fixed = match decimals {
        Some(_) => fixed,
        None if fixed.contains('.') => fixed.trim_end_matches('0').trim_end_matches('.').to_string(),
        None => fixed,
    };
    let (sign, digits) = fixed.strip_prefix('-').map_or(("", fixed.as_str()), |rest| ("-", rest));
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::with_capacity(fixed.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

/// How long ago `at` was, as a person says it: "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    match seconds {
        0..5 => "just now".into(),
        5..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// RFC 3339 with milliseconds, as the API and the stream write times.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_rounded() {
        assert_eq!(number(1234.5, None), "1,234.5");
        assert_eq!(number(1234.567, None), "1,234.57");
        assert_eq!(number(1_000_000.0, None), "1,000,000");
        assert_eq!(number(999.0, None), "999");
        assert_eq!(number(-1234.0, Some(1)), "-1,234.0");
        assert_eq!(number(1234.56, Some(0)), "1,235");
        assert_eq!(number(0.5, Some(2)), "0.50");
        assert_eq!(number(-0.25, None), "-0.25");
    }

    #[test]
    fn ages_read_like_speech() {
        let now = Utc::now();
        let before = |s| now - chrono::Duration::seconds(s);
        assert_eq!(ago(before(2), now), "just now");
        assert_eq!(ago(before(42), now), "42 s ago");
        assert_eq!(ago(before(190), now), "3 min ago");
        assert_eq!(ago(before(5 * 3600 + 10), now), "5 h ago");
        assert_eq!(ago(before(2 * 86_400), now), "2 d ago");
        assert_eq!(ago(now + chrono::Duration::seconds(30), now), "just now");
    }
}
