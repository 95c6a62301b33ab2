//! The flags of `dashboard loadtest`, and the checked [`Plan`] they become.

use std::time::Duration;

use url::Url;

use super::client::KeySource;
use super::publisher::{Destination, Template, WIDGET};

pub const DEFAULT_URL: &str = "http://localhost:3000/dashboard/stream";
pub const DEFAULT_BODY: &str = r#"{"seq":{seq},"sent_at_us":{sent_at_us}}"#;
/// The board the publisher pushes to on Dashboard when `--boards` names none.
pub const DEFAULT_BOARD: &str = "loadtest";
const MAX_RATE: f64 = 10_000.0;
/// Widgets `--widgets` may spread pushes over (each is created on the board if missing).
const MAX_WIDGETS: u32 = 1000;

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  dashboard loadtest --clients 1000 --duration 60 --stats
  dashboard loadtest --clients 1000 --publish-rate 20 --token $TOKEN --duration 20 --json
  dashboard loadtest --url http://127.0.0.1:8081/dashboard/stream --clients 1000 \\
      --publish-rate 20 --publish-url http://127.0.0.1:8081/publish
  dashboard loadtest --clients 2000 --churn 50 --publish-rate 50 --widgets 20 --token $TOKEN --duration 1800
With no flags in a terminal it offers the scenarios as a menu.")]
pub struct LoadtestArgs {
    /// The stream to open
    #[arg(long, env = "SSE_URL", default_value = DEFAULT_URL, value_parser = parse_http_url)]
    pub url: Url,
    /// Use this port instead of the URL's
    #[arg(long)]
    pub port: Option<u16>,
    /// How many streams to hold open
    #[arg(long, env = "SSE_CLIENTS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub clients: u32,
    /// Seconds to measure once every client is connected (publishing runs this long)
    #[arg(long, default_value = "30", value_parser = parse_seconds)]
    pub duration: Duration,
    /// New connections per second while ramping up
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub ramp: u32,
    /// Boards to subscribe to, comma-separated (default: all; with --publish-rate and --token: loadtest)
    #[arg(long, value_delimiter = ',')]
    pub boards: Vec<String>,
    /// Print a status line every second
    #[arg(long)]
    pub stats: bool,
    /// Print every event and heartbeat (to stderr)
    #[arg(long)]
    pub debug: bool,
    /// Push this many events per second while measuring, stamped with their send time
    #[arg(long, value_parser = parse_rate)]
    pub publish_rate: Option<f64>,
    /// API token for pushing through Dashboard's API (also sent to --publish-url if given)
    #[arg(long, env = "DASHBOARD_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Push by POSTing to this URL instead of Dashboard's API (to measure other servers)
    #[arg(long, value_parser = parse_http_url)]
    pub publish_url: Option<Url>,
    /// Body POSTed to --publish-url; {seq} and {sent_at_us} are replaced
    #[arg(long, default_value = DEFAULT_BODY)]
    pub publish_body: String,
    /// Each second while measuring, this many open streams drop and reconnect at once with
    /// Last-Event-ID, as a reloading tab would
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub churn: Option<u32>,
    /// Spread pushes round-robin over this many widgets, loadtest-1..N (with --token only)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_WIDGETS)))]
    pub widgets: Option<u32>,
    /// Seconds to wait after the last push for late events before counting them lost
    #[arg(long, default_value = "10", value_parser = parse_seconds)]
    pub drain: Duration,
    /// Print the final report as JSON
    #[arg(long)]
    pub json: bool,
    /// Log filter for the tester's own warnings
    #[arg(long, env = "LOG_LEVEL", default_value = "warn", hide = true)]
    pub log_level: String,
}

/// A run, checked: every combination of flags that makes no sense was refused on the way here.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stream_url: Url,
    pub clients: usize,
    pub duration: Duration,
    pub ramp: u32,
    /// Open streams to drop and reconnect each second while measuring.
    pub churn: Option<usize>,
    pub publish: Option<Publishing>,
    pub keys: KeySource,
    pub stats: bool,
    pub debug: bool,
    pub drain: Duration,
    pub json: bool,
    pub log_level: String,
}

#[derive(Debug, Clone)]
pub struct Publishing {
    pub destination: Destination,
    pub rate: f64,
}

impl Plan {
    pub fn parse(args: LoadtestArgs) -> anyhow::Result<Self> {
        let mut url = args.url.clone();
        if let Some(port) = args.port {
            url.set_port(Some(port)).map_err(|()| anyhow::anyhow!("--port cannot be set on {url}"))?;
        }
        for board in &args.boards {
            crate::domain::Slug::parse(board).map_err(|rule| anyhow::anyhow!("--boards: {board:?}: a slug {rule}"))?;
        }
        if let Some(churn) = args.churn.filter(|churn| *churn > args.clients) {
            anyhow::bail!("--churn {churn} is more than --clients {}: only open streams can churn", args.clients);
        }
        let publish = publishing(&args, &url)?;
        let boards = match (&publish, args.boards.is_empty()) {
            (Some(Publishing { destination: Destination::Dashboard { board, .. }, .. }), true) => vec![board.clone()],
            _ => args.boards.clone(),
        };
        if !boards.is_empty() {
            url.query_pairs_mut().append_pair("boards", &boards.join(","));
        }
        let keys = match &publish {
            Some(Publishing { destination: Destination::Url { .. }, .. }) => KeySource::Seq,
            _ => KeySource::EventId,
        };
        Ok(Self {
            stream_url: url,
            clients: args.clients as usize,
            duration: args.duration,
            ramp: args.ramp,
            churn: args.churn.map(|churn| churn as usize),
            publish,
            keys,
            stats: args.stats,
            debug: args.debug,
            drain: args.drain,
            json: args.json,
            log_level: args.log_level,
        })
    }
}

fn publishing(args: &LoadtestArgs, stream_url: &Url) -> anyhow::Result<Option<Publishing>> {
    let Some(rate) = args.publish_rate else {
        if args.publish_url.is_some() {
            anyhow::bail!("--publish-url needs --publish-rate (events per second)");
        }
        if args.widgets.is_some() {
            anyhow::bail!("--widgets needs --publish-rate and --token (it spreads Dashboard pushes)");
        }
        return Ok(None);
    };
    if args.widgets.is_some() && args.publish_url.is_some() {
        anyhow::bail!("--widgets spreads pushes through Dashboard's API; it cannot be used with --publish-url");
    }
    let destination = match (&args.publish_url, &args.token) {
        (Some(url), token) => Destination::Url {
            url: url.clone(),
            template: Template::parse(&args.publish_body).map_err(anyhow::Error::msg)?,
            token: token.clone(),
        },
        (None, Some(token)) => Destination::Dashboard {
            origin: stream_url.join("/")?,
            token: token.clone(),
            board: args.boards.first().cloned().unwrap_or_else(|| DEFAULT_BOARD.into()),
            widgets: widget_keys(args.widgets),
        },
        (None, None) => {
            anyhow::bail!("--publish-rate needs --token (to push through Dashboard's API) or --publish-url")
        }
    };
    Ok(Some(Publishing { destination, rate }))
}

/// The widgets Dashboard pushes go to: `loadtest`, or `loadtest-1..N` with `--widgets N`.
fn widget_keys(widgets: Option<u32>) -> Vec<String> {
    match widgets {
        None => vec![WIDGET.to_string()],
        Some(n) => (1..=n).map(|i| format!("{WIDGET}-{i}")).collect(),
    }
}

pub fn parse_http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" if url.host_str().is_some() => Ok(url),
        "http" => Err("the URL has no host".into()),
        scheme => Err(format!("only http:// URLs are supported (the tester speaks plain HTTP/1.1), not {scheme}://")),
    }
}

fn parse_seconds(raw: &str) -> Result<Duration, String> {
    let seconds: f64 = raw.parse().map_err(|_| format!("{raw:?} is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err("must be more than 0 and at most 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    let rate: f64 = raw.parse().map_err(|_| format!("{raw:?} is not a number of events per second"))?;
    if !(rate > 0.0 && rate <= MAX_RATE) {
        return Err(format!("must be more than 0 and at most {MAX_RATE} events per second"));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: LoadtestArgs,
    }

    fn plan(flags: &[&str]) -> anyhow::Result<Plan> {
        let args = Cli::try_parse_from(std::iter::once("loadtest").chain(flags.iter().copied()))?.args;
        Plan::parse(args)
    }

    #[test]
    fn port_and_boards_shape_the_stream_url() {
        let plan =
            plan(&["--url", "http://127.0.0.1:3000/dashboard/stream", "--port", "4000", "--boards", "a,b"]).unwrap();
        assert_eq!(plan.stream_url.as_str(), "http://127.0.0.1:4000/dashboard/stream?boards=a%2Cb");
        assert!(plan.publish.is_none());
    }

    #[test]
    fn publishing_to_dashboard_subscribes_to_its_board() {
        let plan =
            plan(&["--url", "http://127.0.0.1:3000/dashboard/stream", "--publish-rate", "20", "--token", "t"]).unwrap();
        assert_eq!(plan.stream_url.query(), Some("boards=loadtest"));
        assert_eq!(plan.keys, KeySource::EventId);
        let Some(Publishing { destination: Destination::Dashboard { origin, board, widgets, .. }, .. }) = plan.publish
        else {
            panic!("expected Dashboard publishing");
        };
        assert_eq!((origin.as_str(), board.as_str()), ("http://127.0.0.1:3000/", "loadtest"));
        assert_eq!(widgets, ["loadtest"], "one widget unless --widgets says otherwise");
        assert_eq!(plan.churn, None);
    }

    #[test]
    fn widgets_and_churn_shape_a_soak() {
        let flags = ["--clients", "2000", "--churn", "50", "--publish-rate", "50", "--widgets", "3", "--token", "t"];
        let plan = plan(&flags).unwrap();
        assert_eq!(plan.churn, Some(50));
        let Some(Publishing { destination: Destination::Dashboard { widgets, .. }, .. }) = plan.publish else {
            panic!("expected Dashboard publishing");
        };
        assert_eq!(widgets, ["loadtest-1", "loadtest-2", "loadtest-3"]);
    }

    #[test]
    fn publishing_to_a_url_tracks_sequence_numbers() {
        let plan = plan(&["--publish-rate", "5", "--publish-url", "http://127.0.0.1:8081/publish"]).unwrap();
        assert_eq!(plan.keys, KeySource::Seq);
        assert_eq!(plan.stream_url.query(), None);
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        let refused = |flags: &[&str]| plan(flags).unwrap_err().to_string();
        assert!(refused(&["--publish-rate", "20"]).contains("--token"));
        assert!(refused(&["--publish-url", "http://127.0.0.1:1/p"]).contains("--publish-rate"));
        assert!(refused(&["--clients", "0"]).contains("clients"));
        assert!(refused(&["--url", "https://example.com/s"]).contains("only http://"));
        assert!(refused(&["--duration", "0"]).contains("more than 0"));
        assert!(refused(&["--publish-rate", "0", "--token", "t"]).contains("more than 0"));
        assert!(refused(&["--boards", "Not A Slug"]).contains("--boards"));
        assert!(refused(&["--clients", "10", "--churn", "11"]).contains("more than --clients"));
        assert!(refused(&["--churn", "0"]).contains("churn"));
        assert!(refused(&["--widgets", "2"]).contains("--publish-rate and --token"));
        assert!(refused(&["--publish-rate", "1", "--token", "t", "--widgets", "0"]).contains("widgets"));
        assert!(refused(&["--publish-rate", "1", "--token", "t", "--widgets", "1001"]).contains("widgets"));
        let elsewhere = ["--publish-rate", "1", "--publish-url", "http://127.0.0.1:1/p", "--widgets", "2"];
        assert!(refused(&elsewhere).contains("--publish-url"));
        let body = ["--publish-rate", "1", "--publish-url", "http://127.0.0.1:1/p", "--publish-body", "{}"];
        assert!(refused(&body).contains("{seq}"));
    }
}
