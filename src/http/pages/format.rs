//! How values read on a wall screen: grouped digits, a fixed number of decimals, "3 min ago".
//! `static/js/format.js` applies the same rules to live updates, so a value looks the same
//! whether the server rendered it or the stream delivered it.

use chrono::{DateTime, Utc};

/// Decimals shown when a widget's config names none (trailing zeros are trimmed).
const DEFAULT_MAX_DECIMALS: usize = 2;

/// `1234.5` → `"1,234.5"`; with `decimals`, exactly that many (`Some(0)` → `"1,235"`).
pub fn number(value: f64, decimals: Option<usize>) -> String {
    let fixed = fixed_point(value, decimals.unwrap_or(DEFAULT_MAX_DECIMALS));
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

/// `value` with exactly `decimals` decimals, rounded as the browser's `toLocaleString` rounds:
/// the shortest decimal form of the double (what `{}` prints: 1.005, not 1.00499…), half away
/// from zero. Rust's `{:.N}` rounds the exact binary value, ties to even (1234.5 → "1234").
fn fixed_point(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let shortest = value.abs().to_string();
    let (int, frac) = shortest.split_once('.').unwrap_or((&shortest, ""));
    let kept: String = frac.chars().chain(std::iter::repeat('0')).take(decimals).collect();
    let truncated = if decimals == 0 { int.to_string() } else { format!("{int}.{kept}") };
    let round_up = frac.as_bytes().get(decimals).is_some_and(|digit| *digit >= b'5');
    let magnitude = if round_up { round_up_last_digit(&truncated) } else { truncated };
    if value.is_sign_negative() { format!("-{magnitude}") } else { magnitude }
}

/// `"12.99"` → `"13.00"`: adds one unit in the last place, carrying left.
fn round_up_last_digit(fixed: &str) -> String {
    let mut digits: Vec<u8> = fixed.bytes().collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        if digits[i] == b'.' {
            continue;
        }
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            break;
        }
    }
    String::from_utf8(digits).expect("ASCII digits, sign and point")
}

/// How long ago `at` was, as a person says it: "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago".
/// (`static/js/format.js` says it the same way, so a live page keeps the words the server wrote.)
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    if seconds < 5 { "just now".into() } else { format!("{} ago", span(seconds)) }
}

/// Past times as [`ago`] says them, future ones as "in 3 min".
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    if seconds > 0 { format!("in {}", span(seconds)) } else { ago(at, now) }
}

/// A duration in its largest whole unit: "42 s", "3 min", "5 h", "2 d".
pub fn span(seconds: i64) -> String {
    match seconds {
        ..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h", seconds / 3600),
        _ => format!("{} d", seconds / 86_400),
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
    fn ties_round_away_from_zero_as_the_browser_does() {
        assert_eq!(number(1234.5, Some(0)), "1,235");
        assert_eq!(number(-1234.5, Some(0)), "-1,235");
        assert_eq!(number(0.5, Some(0)), "1");
        assert_eq!(number(2.5, Some(0)), "3");
        assert_eq!(number(999.5, Some(0)), "1,000");
        assert_eq!(number(-9.95, Some(1)), "-10.0"); // the double is -9.9499…; its shortest form a tie
        assert_eq!(number(0.125, None), "0.13");
        assert_eq!(number(9.875, Some(2)), "9.88");
        assert_eq!(number(0.375, Some(2)), "0.38");
        assert_eq!(number(1.005, Some(2)), "1.01");
        assert_eq!(number(-0.001, None), "-0");
        assert_eq!(number(-0.001, Some(2)), "-0.00");
        assert_eq!(number(123_456_789.125, Some(2)), "123,456,789.13");
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
        assert_eq!(relative(now + chrono::Duration::seconds(190), now), "in 3 min");
        assert_eq!(relative(before(42), now), "42 s ago");
        assert_eq!(span(86_400), "1 d");
    }
}
