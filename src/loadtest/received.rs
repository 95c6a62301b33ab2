//! The keys one client received, in the order they arrived, kept small enough for thousands of
//! clients over a long run: the report needs the whole arrival order (to count events lost,
//! duplicated and out of order against the published keys, known only at the end), but a healthy
//! stream is one long span of consecutive keys, broken only where something went wrong (a gap,
//! a repeat, a reorder) or where the target numbered someone else's event in between.
//!
//! So the record is a list of spans of consecutive keys, each stored as two LEB128 varints
//! relative to the span before it: a healthy client's record is a few bytes whatever the run's
//! length, and a client that sees every other id (another board's events interleaved) still
//! costs about 2 bytes an event instead of 8.

/// Keys `first..=last`, received one after another in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: i64,
    pub last: i64,
}

#[derive(Debug, Default)]
pub struct Received {
    /// The closed spans, encoded: the zigzagged distance from the previous span's `last` (0
    /// before the first span) to this span's `first`, then `last - first`.
    closed: Vec<u8>,
    /// The `last` of the newest closed span (0 before there is one): where the next one is
    /// measured from.
    closed_end: i64,
    /// The span still growing, not yet encoded.
    open: Option<Span>,
}

impl Received {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the next key to arrive.
    pub fn push(&mut self, key: i64) {
        match &mut self.open {
            Some(span) if span.last.checked_add(1) == Some(key) => span.last = key,
            open => {
                if let Some(done) = open.replace(Span { first: key, last: key }) {
                    encode_span(&mut self.closed, self.closed_end, done);
                    self.closed_end = done.last;
                }
            }
        }
    }

    /// The spans in arrival order.
    pub fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        let mut bytes = self.closed.as_slice();
        let mut before = 0;
        let closed = std::iter::from_fn(move || {
            let span = decode_span(&mut bytes, before)?;
            before = span.last;
            Some(span)
        });
        closed.chain(self.open)
    }

    /// The closed spans' encoded size, for the tests that keep it small.
    #[cfg(test)]
    fn encoded_bytes(&self) -> usize {
        self.closed.len()
    }
}

fn encode_span(out: &mut Vec<u8>, before: i64, span: Span) {
    write_varint(out, zigzag(span.first.wrapping_sub(before)));
    write_varint(out, span.last.wrapping_sub(span.first) as u64);
}

fn decode_span(bytes: &mut &[u8], before: i64) -> Option<Span> {
    let first = before.wrapping_add(unzigzag(read_varint(bytes)?));
    let last = first.wrapping_add(read_varint(bytes)? as i64);
    Some(Span { first, last })
}

/// Maps small distances either way to small numbers: 0, -1, 1, -2… → 0, 1, 2, 3…
fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// LEB128: seven bits a byte, low bits first, the high bit set on every byte but the last.
fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(keys: impl IntoIterator<Item = i64>) -> Received {
        let mut received = Received::new();
        keys.into_iter().for_each(|key| received.push(key));
        received
    }

    fn spans(keys: &[i64]) -> Vec<(i64, i64)> {
        record(keys.iter().copied()).spans().map(|span| (span.first, span.last)).collect()
    }

    #[test]
    fn nothing_received_is_no_span() {
        assert_eq!(spans(&[]), []);
    }

    #[test]
    fn a_healthy_stream_is_one_span_however_long() {
        let received = record(1..=1_000_000);
        assert_eq!(received.spans().collect::<Vec<_>>(), [Span { first: 1, last: 1_000_000 }]);
        assert_eq!(received.encoded_bytes(), 0, "the one span is still open");
    }

    #[test]
    fn gaps_duplicates_and_reorders_start_new_spans_in_arrival_order() {
        assert_eq!(spans(&[1, 2, 3, 5, 6]), [(1, 3), (5, 6)], "4 is missing");
        assert_eq!(spans(&[1, 2, 2, 3]), [(1, 2), (2, 3)], "2 came twice");
        assert_eq!(spans(&[1, 3, 2, 4]), [(1, 1), (3, 3), (2, 2), (4, 4)], "2 and 3 swapped");
    }

    #[test]
    fn a_reconnect_overlapping_what_came_before_is_kept_as_it_arrived() {
        // Resumed from 4 after getting up to 6: 5 and 6 arrive again, then the stream goes on.
        assert_eq!(spans(&[1, 2, 3, 4, 5, 6, 5, 6, 7, 8]), [(1, 6), (5, 8)]);
        // Resumed from 0 (the id was lost): everything again.
        assert_eq!(spans(&[7, 8, 9, 1, 2, 3]), [(7, 9), (1, 3)]);
    }

    #[test]
    fn any_keys_round_trip_including_the_extremes() {
        let keys = [i64::MAX, i64::MIN, -5, -4, 0, i64::MAX - 1, i64::MAX, 3, i64::MIN, i64::MIN + 1];
        let expected = [
            (i64::MAX, i64::MAX),
            (i64::MIN, i64::MIN),
            (-5, -4),
            (0, 0),
            (i64::MAX - 1, i64::MAX),
            (3, 3),
            (i64::MIN, i64::MIN + 1),
        ];
        assert_eq!(spans(&keys), expected);
    }

    #[test]
    fn every_other_key_costs_two_bytes_a_key() {
        // Another board's events take every other id: each key is a span of its own, 2 away.
        let received = record((1..=100_000).map(|n| 2 * n));
        assert_eq!(received.spans().count(), 100_000);
        assert_eq!(received.encoded_bytes(), 2 * 99_999, "all closed but the newest, 2 bytes each (a list of keys: 8)");
    }
}
