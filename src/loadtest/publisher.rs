//! Pushes events at a steady rate while the clients listen, stamping each with its send time
//! (`sent_at_us`, Unix microseconds) so clients measure delivery latency, and remembering the
//! key of every event the target accepted: exactly the set each client must receive, and the
//! order they must keep.

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tokio::task::JoinSet;
use url::Url;

use super::client::now_micros;
use super::stats::Stats;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The widget the publisher pushes to on Dashboard (created if missing), and the stem of the
/// widgets of `--widgets N` (`loadtest-1..N`).
pub const WIDGET: &str = "loadtest";

/// Where events are pushed.
#[derive(Debug, Clone)]
pub enum Destination {
    /// Dashboard's API: `POST {origin}/dashboard/boards/{board}/widgets/{widget}/events`, taking
    /// `widgets` in turn; the key of an event is the id the API returns.
    Dashboard { origin: Url, token: String, board: String, widgets: Vec<String> },
    /// Any URL, with a body rendered from a template (and the token, if given, as a bearer
    /// token); the key of an event is its `{seq}`.
    Url { url: Url, template: Template, token: Option<String> },
}

/// A body with `{seq}` and `{sent_at_us}` placeholders, checked to contain both.
#[derive(Debug, Clone)]
pub struct Template(String);

impl Template {
    pub fn parse(raw: &str) -> Result<Self, String> {
        for placeholder in ["{seq}", "{sent_at_us}"] {
            if !raw.contains(placeholder) {
                return Err(format!("--publish-body must contain {placeholder} (the tester finds its events by it)"));
            }
        }
        Ok(Self(raw.to_string()))
    }

    fn render(&self, seq: u64, sent_at_us: u64) -> String {
        self.0.replace("{seq}", &seq.to_string()).replace("{sent_at_us}", &sent_at_us.to_string())
    }
}

/// An event the target accepted, and where it stands in the order every client must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub key: i64,
    /// The highest key a client may rightly receive before this event. Dashboard's ids are the
    /// order the server committed events in, so there it is the key itself. A `{seq}` is only
    /// the order requests were sent in: two requests in flight at once reach the server in
    /// either order (each send is its own task), so an event may follow any seq sent before
    /// its own request was answered, and must precede every seq sent after that.
    pub may_follow: i64,
}

/// A send the target accepted: the event's key, and when the answer came.
struct Accepted {
    key: i64,
    answered: Instant,
}

pub struct Publisher {
    http: reqwest::Client,
    destination: Destination,
    rate: f64,
}

impl Publisher {
    /// Checks the destination answers; on Dashboard, creates the board and widget if missing.
    pub async fn prepare(destination: Destination, rate: f64) -> anyhow::Result<Self> {
        crate::tls::use_ring();
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
        if let Destination::Dashboard { origin, token, board, widgets } = &destination {
            let boards = origin.join("/dashboard/boards")?;
            create_if_missing(&http, boards.clone(), token, json!({"slug": board, "title": "Load test"})).await?;
            let url = origin.join(&format!("/dashboard/boards/{board}/widgets"))?;
            for key in widgets {
                let widget = json!({"key": key, "title": "Load test", "kind": "number"});
                create_if_missing(&http, url.clone(), token, widget).await?;
            }
        }
        Ok(Self { http, destination, rate })
    }

    /// Publishes `rate × duration` events evenly over `duration`; returns the accepted events,
    /// sorted by key. Failures are counted in `stats` by kind.
    pub async fn run(&self, duration: Duration, stats: &Stats) -> Vec<Published> {
        let count = (self.rate * duration.as_secs_f64()).round().max(1.0) as u64;
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / self.rate));
        let mut sends = JoinSet::new();
        // When seq n was sent is `sent_at[n - 1]`, taken before its task starts, so never late.
        let mut sent_at = Vec::with_capacity(count as usize);
        let mut published = Vec::with_capacity(count as usize);
        for seq in 1..=count {
            ticks.tick().await;
            sent_at.push(Instant::now());
            // Each send is its own task, so a slow response never delays the next send.
            sends.spawn(self.send(seq));
            // A finished task keeps its memory (a kilobyte or two) until it is joined: take the
            // answers as they come, so a long run holds only the sends still in flight. Every
            // seq sent later went out after this answer came, so its place is already final.
            while let Some(result) = sends.try_join_next() {
                self.settle(result, &sent_at, &mut published, stats);
            }
        }
        while let Some(result) = sends.join_next().await {
            self.settle(result, &sent_at, &mut published, stats);
        }
        published.sort_unstable_by_key(|p| p.key);
        published
    }

    /// Keeps an accepted send's event, or counts why the send failed.
    fn settle(
        &self,
        result: Result<Result<Accepted, String>, tokio::task::JoinError>,
        sent_at: &[Instant],
        published: &mut Vec<Published>,
        stats: &Stats,
    ) {
        match result.unwrap_or_else(|e| Err(format!("publish_task: {e}"))) {
            Ok(accepted) => published.push(self.place(accepted, sent_at)),
            Err(kind) => stats.error(&kind),
        }
    }

    fn place(&self, accepted: Accepted, sent_at: &[Instant]) -> Published {
        let may_follow = match self.destination {
            Destination::Dashboard { .. } => accepted.key,
            Destination::Url { .. } => last_seq_sent_before(sent_at, accepted.answered),
        };
        Published { key: accepted.key, may_follow }
    }

    fn send(&self, seq: u64) -> impl Future<Output = Result<Accepted, String>> + use<> {
        let sent_at_us = now_micros();
        let request = match &self.destination {
            Destination::Dashboard { origin, token, board, widgets } => {
                let widget = &widgets[(seq as usize - 1) % widgets.len()];
                let path = format!("/dashboard/boards/{board}/widgets/{widget}/events");
                let url = origin.join(&path).expect("a path joins an http origin");
                self.http.post(url).bearer_auth(token).json(&json!({"value": seq, "sent_at_us": sent_at_us}))
            }
            Destination::Url { url, template, token } => {
                let request = self.http.post(url.clone()).header("Content-Type", "application/json");
                let request = match token {
                    Some(token) => request.bearer_auth(token),
                    None => request,
                };
                request.body(template.render(seq, sent_at_us))
            }
        };
        let returns_id = matches!(self.destination, Destination::Dashboard { .. });
        async move {
            let response = request.send().await.map_err(|e| error_kind(&e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("publish_http_{}", status.as_u16()));
            }
            let answered = Instant::now();
            if !returns_id {
                return Ok(Accepted { key: seq as i64, answered });
            }
            let event: Json = response.json().await.map_err(|e| error_kind(&e))?;
            let key = event["id"].as_i64().ok_or_else(|| "publish_no_id".to_string())?;
            Ok(Accepted { key, answered })
        }
    }
}

/// The highest seq whose request went out before `answered` (seqs count from 1, in the order of
/// `sent_at`).
fn last_seq_sent_before(sent_at: &[Instant], answered: Instant) -> i64 {
    sent_at.partition_point(|sent| *sent < answered) as i64
}

fn error_kind(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "publish_timeout".into()
    } else if error.is_connect() {
        "publish_connect".into()
    } else {
        "publish_error".into()
    }
}

/// POSTs a board or widget; 201 (created) and 409 (exists) both mean it is there now.
async fn create_if_missing(http: &reqwest::Client, url: Url, token: &str, body: Json) -> anyhow::Result<()> {
    let response = http
        .post(url.clone())
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {url} to set up publishing: {}", root_cause(&e)))?;
    match response.status().as_u16() {
        201 | 409 => Ok(()),
        401 => anyhow::bail!("{url} refused the API token (401); pass a valid --token"),
        status => anyhow::bail!("{url} answered {status} while setting up publishing"),
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_may_follow_the_seqs_sent_before_its_answer_came() {
        let start = Instant::now();
        let sent_at: Vec<Instant> = (0..4).map(|n| start + Duration::from_millis(50 * n)).collect();
        // seq 1 answered after seq 2 went out: the server may have committed 2 first.
        assert_eq!(last_seq_sent_before(&sent_at, start + Duration::from_millis(70)), 2);
        // seq 3 answered before seq 4 went out: 4 must come after it.
        assert_eq!(last_seq_sent_before(&sent_at, start + Duration::from_millis(120)), 3);
        assert_eq!(last_seq_sent_before(&sent_at, start + Duration::from_secs(1)), 4);
    }

    #[test]
    fn a_template_needs_both_placeholders_and_renders_them() {
        assert!(Template::parse(r#"{"seq":{seq}}"#).unwrap_err().contains("{sent_at_us}"));
        let template = Template::parse(r#"{"seq":{seq},"sent_at_us":{sent_at_us}}"#).unwrap();
        assert_eq!(template.render(7, 123), r#"{"seq":7,"sent_at_us":123}"#);
    }
}
