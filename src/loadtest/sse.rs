//! An incremental parser of the `text/event-stream` format, as the HTML standard's
//! "event stream interpretation" describes it: lines end in CRLF, LF or CR (also when a CRLF
//! is split between two reads), `data` lines accumulate, `:` starts a comment, `id` sets the
//! last event id when the event is dispatched, `retry` takes digits only, and an event still
//! open when the stream ends is discarded.
//!
//! It allocates nothing per event: the caller gets each item borrowed from the parser's
//! reused buffers, which matters when one process parses 200,000 events a second.

/// One thing the stream said.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Event(Event<'a>),
    /// A comment line's text, without the colon and one leading space (`: heartbeat` → `heartbeat`).
    Comment(&'a [u8]),
    /// A new reconnection delay in milliseconds.
    Retry(u64),
}

/// A dispatched event. `data` lines are joined with `\n`; `kind` is `message` when the event
/// had no `event` field; `last_event_id` is the stream's last event id after this event.
#[derive(Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub kind: &'a [u8],
    pub data: &'a [u8],
    pub last_event_id: &'a [u8],
}

#[derive(Debug, Default)]
pub struct Parser {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    data: Vec<u8>,
    kind: Vec<u8>,
    id_buffer: Vec<u8>,
    last_event_id: Vec<u8>,
    /// The previous input ended in CR: an LF opening the next input belongs to that line end.
    after_cr: bool,
    /// Whether the first line has started (a byte order mark is skipped only there).
    started: bool,
}

const BOM: &[u8] = "\u{feff}".as_bytes();

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last event id as of the last dispatched event: what a reconnect sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> &[u8] {
        &self.last_event_id
    }

    /// Sets the id to resume from before the stream starts (a reconnect keeps the previous one).
    pub fn set_last_event_id(&mut self, id: &[u8]) {
        self.last_event_id = id.to_vec();
        self.id_buffer = id.to_vec();
    }

    /// Parses the next bytes of the stream, calling `on_item` for each item they complete.
    pub fn feed(&mut self, mut input: &[u8], mut on_item: impl FnMut(Item<'_>)) {
        if self.after_cr && input.first() == Some(&b'\n') {
            input = &input[1..];
        }
        if !input.is_empty() {
            self.after_cr = false;
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', input) {
            let (line, rest) = input.split_at(end);
            let line_end_len = if rest.starts_with(b"\r\n") { 2 } else { 1 };
            if rest == b"\r" {
                self.after_cr = true;
            }
            if self.partial.is_empty() {
                self.line(line, &mut on_item);
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(&whole, &mut on_item);
                whole.clear();
                self.partial = whole;
            }
            input = &rest[line_end_len..];
        }
        self.partial.extend_from_slice(input);
    }

    fn line(&mut self, mut line: &[u8], on_item: &mut impl FnMut(Item<'_>)) {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch(on_item);
        }
        if let Some(comment) = line.strip_prefix(b":") {
            return on_item(Item::Comment(comment.strip_prefix(b" ").unwrap_or(comment)));
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => (&line[..colon], line[colon + 1..].strip_prefix(b" ").unwrap_or(&line[colon + 1..])),
            None => (line, &b""[..]),
        };
        match field {
            b"event" => self.kind = value.to_vec(),
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"id" if !value.contains(&0) => self.id_buffer = value.to_vec(),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Some(ms) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    on_item(Item::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, on_item: &mut impl FnMut(Item<'_>)) {
        self.last_event_id.clone_from(&self.id_buffer);
        if !self.data.is_empty() {
            self.data.pop(); // the newline after the last data line
            let kind = if self.kind.is_empty() { &b"message"[..] } else { &self.kind };
            on_item(Item::Event(Event { kind, data: &self.data, last_event_id: &self.last_event_id }));
        }
        self.data.clear();
        self.kind.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the parser reports, owned, for comparisons.
    #[derive(Debug, PartialEq, Eq)]
    enum Owned {
        Event { kind: String, data: String, id: String },
        Comment(String),
        Retry(u64),
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn event(kind: &str, data: &str, id: &str) -> Owned {
        Owned::Event { kind: kind.into(), data: data.into(), id: id.into() }
    }

    /// Feeds the pieces in order, as separate reads.
    fn parse(pieces: &[&[u8]]) -> Vec<Owned> {
        let mut parser = Parser::new();
        let mut items = Vec::new();
        for piece in pieces {
            parser.feed(piece, |item| {
                items.push(match item {
                    Item::Event(e) => event(&text(e.kind), &text(e.data), &text(e.last_event_id)),
                    Item::Comment(c) => Owned::Comment(text(c)),
                    Item::Retry(ms) => Owned::Retry(ms),
                })
            });
        }
        items
    }

    /// Feeds the input in every possible two-piece split, so no result depends on read boundaries.
    fn parse_split_anywhere(input: &[u8]) -> Vec<Owned> {
        let whole = parse(&[input]);
        for cut in 0..=input.len() {
            assert_eq!(parse(&[&input[..cut], &input[cut..]]), whole, "split at {cut}");
        }
        whole
    }

    #[test]
    fn a_dashboard_event_with_id_kind_and_data() {
        let input = b"id: 1042\nevent: widget\ndata: {\"id\":1042}\n\n";
        assert_eq!(parse_split_anywhere(input), [event("widget", "{\"id\":1042}", "1042")]);
    }

    #[test]
    fn crlf_lf_and_cr_line_ends_are_equivalent() {
        let expected = [event("message", "a", "1"), event("message", "b", "2")];
        assert_eq!(parse_split_anywhere(b"id: 1\r\ndata: a\r\n\r\nid: 2\r\ndata: b\r\n\r\n"), expected);
        assert_eq!(parse_split_anywhere(b"id: 1\rdata: a\r\rid: 2\rdata: b\r\r"), expected);
        assert_eq!(parse_split_anywhere(b"id: 1\ndata: a\r\n\rid: 2\r\ndata: b\n\n"), expected);
    }

    #[test]
    fn a_crlf_split_between_reads_is_one_line_end() {
        assert_eq!(parse(&[b"data: a\r", b"\n\r", b"\n"]), [event("message", "a", "")]);
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let input = b"data: first\ndata:second\ndata\ndata:  two spaces\n\n";
        assert_eq!(parse_split_anywhere(input), [event("message", "first\nsecond\n\n two spaces", "")]);
    }

    #[test]
    fn comments_are_reported_and_do_not_dispatch() {
        let input = b": heartbeat\n\n:no space\ndata: x\n: inside\n\n";
        assert_eq!(
            parse_split_anywhere(input),
            [
                Owned::Comment("heartbeat".into()),
                Owned::Comment("no space".into()),
                Owned::Comment("inside".into()),
                event("message", "x", "")
            ]
        );
    }

    #[test]
    fn retry_takes_digits_only() {
        let input = b"retry: 5000\n\nretry: 5s\nretry: -1\nretry:\nretry: 250\n\n";
        assert_eq!(parse_split_anywhere(input), [Owned::Retry(5000), Owned::Retry(250)]);
    }

    #[test]
    fn an_event_without_a_trailing_blank_line_is_discarded() {
        assert_eq!(parse_split_anywhere(b"data: done\n\ndata: never finished\n"), [event("message", "done", "")]);
        assert_eq!(parse_split_anywhere(b"data: never finished"), []);
    }

    #[test]
    fn an_id_without_event_or_data_still_moves_the_last_event_id() {
        let mut parser = Parser::new();
        let mut items = 0;
        parser.feed(b"id: 7\n\n", |_| items += 1);
        assert_eq!(items, 0);
        assert_eq!(parser.last_event_id(), b"7");
        assert_eq!(parse(&[b"id: 7\n\ndata: x\n\n"]), [event("message", "x", "7")]);
    }

    #[test]
    fn the_id_counts_only_once_its_event_is_dispatched() {
        let mut parser = Parser::new();
        parser.set_last_event_id(b"5");
        parser.feed(b"id: 6\ndata: half", |_| {});
        assert_eq!(parser.last_event_id(), b"5", "a reconnect now must resume after 5, not 6");
    }

    #[test]
    fn an_id_with_nul_is_ignored_and_empty_id_resets() {
        assert_eq!(
            parse(&[b"id: 3\ndata: a\n\nid: 4\0\ndata: b\n\nid\ndata: c\n\n"]),
            [event("message", "a", "3"), event("message", "b", "3"), event("message", "c", "")]
        );
    }

    #[test]
    fn event_kind_resets_after_each_dispatch_and_unknown_fields_are_ignored() {
        let input = b"event: hello\ndata: {}\n\nfoo: bar\ndata: plain\n\nevent: board\n\n";
        assert_eq!(parse_split_anywhere(input), [event("hello", "{}", ""), event("message", "plain", "")]);
    }

    #[test]
    fn a_byte_order_mark_opening_the_stream_is_skipped() {
        assert_eq!(parse_split_anywhere(b"\xEF\xBB\xBFdata: a\n\n"), [event("message", "a", "")]);
    }
}
