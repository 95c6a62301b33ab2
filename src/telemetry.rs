use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::{self, format::FmtSpan};
use tracing_subscriber::prelude::*;

use crate::config::LogFormat;

/// Installs the global log subscriber: `LOG_LEVEL` filter, pretty or JSON lines on stderr.
/// Closing spans are logged, so every request ends with one line carrying its request id,
/// route, status and latency (tracing-actix-web's root span, see `http::access_log`).
pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal; a log file or a platform's log drain gets plain text.
    let ansi = std::io::stderr().is_terminal();
    // `without_time` drops span timings: keeping a span's busy and idle time takes a lock and two
    // clock reads at every enter and exit, and a stream's span is entered for every frame it
    // sends (14 % of the server's CPU per delivery, BENCHMARKS.md). The request's line carries
    // `http.latency_ms` instead; the event formats set below keep every line's timestamp.
    let spans = fmt::layer().with_writer(std::io::stderr).with_ansi(ansi).with_span_events(FmtSpan::CLOSE);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Pretty => registry.with(spans.without_time().event_format(fmt::format().with_ansi(ansi))).try_init(),
        LogFormat::Json => registry
            .with(
                spans
                    .json()
                    .without_time()
                    .event_format(fmt::format().json().flatten_event(true).with_current_span(true)),
            )
            .try_init(),
    };
}
