//! Pushes events at a steady rate while the clients listen, stamping each with its send time
//! (`sent_at_us`, Unix microseconds) so clients measure delivery latency, and remembering the
//! key of every event the target accepted: exactly the set each client must receive.

use std::time::Duration;

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

    /// Publishes `rate × duration` events evenly over `duration`; returns the accepted events'
    /// keys, sorted. Failures are counted in `stats` by kind.
    pub async fn run(&self, duration: Duration, stats: &Stats) -> Vec<i64> {
        let count = (self.rate * duration.as_secs_f64()).round().max(1.0) as u64;
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / self.rate));
        let mut sends = JoinSet::new();
        for seq in 1..=count {
            ticks.tick().await;
            // Each send is its own task, so a slow response never delays the next send.
            sends.spawn(self.send(seq));
        }
        let mut keys = Vec::with_capacity(count as usize);
        while let Some(result) = sends.join_next().await {
            match result.unwrap_or_else(|e| Err(format!("publish_task: {e}"))) {
                Ok(key) => keys.push(key),
                Err(kind) => stats.error(&kind),
            }
        }
        keys.sort_unstable();
        keys
    }

    fn send(&self, seq: u64) -> impl Future<Output = Result<i64, String>> + use<> {
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
            if !returns_id {
                return Ok(seq as i64);
            }
            let event: Json = response.json().await.map_err(|e| error_kind(&e))?;
            event["id"].as_i64().ok_or_else(|| "publish_no_id".to_string())
        }
    }
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
    fn a_template_needs_both_placeholders_and_renders_them() {
        assert!(Template::parse(r#"{"seq":{seq}}"#).unwrap_err().contains("{sent_at_us}"));
        let template = Template::parse(r#"{"seq":{seq},"sent_at_us":{sent_at_us}}"#).unwrap();
        assert_eq!(template.render(7, 123), r#"{"seq":7,"sent_at_us":123}"#);
    }
}
