//! The final report: what the clients saw, checked against what was published.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::args::Plan;
use super::client::{ClientReport, Run};
use super::publisher::Published;
use super::stats::Stats;

#[derive(Debug, Serialize)]
pub struct Report {
    pub url: String,
    pub clients: usize,
    pub duration_s: f64,
    pub publish_rate: Option<f64>,
    /// Clients that opened their stream at least once.
    pub connected: usize,
    /// Clients that never did.
    pub failed: usize,
    /// Reconnections after the server or the network ended a stream.
    pub reconnects: u64,
    /// Reconnections of streams the tester dropped itself (`--churn`).
    pub churned: u64,
    /// Every SSE event received (all kinds, all clients).
    pub events: u64,
    pub heartbeats: u64,
    pub bytes: u64,
    /// Events the target accepted from the publisher (None: nothing was published).
    pub published: Option<u64>,
    /// Tracked events received, summed over clients.
    pub received: u64,
    /// Published events some connected client never received, summed over clients.
    pub lost: Option<u64>,
    /// Events a client received more than once.
    pub duplicated: u64,
    /// Events a client received after one they must precede (see [`Published::may_follow`]).
    pub out_of_order: u64,
    pub latency_ms: Option<Latency>,
    pub errors: BTreeMap<String, u64>,
    pub elapsed_s: f64,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>) -> Option<Self> {
        let ms = |us: u64| us as f64 / 1000.0;
        (!histogram.is_empty()).then(|| Self {
            count: histogram.len(),
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
        })
    }
}

/// Delivery to one client, against the published keys.
#[derive(Debug, Default, PartialEq, Eq)]
struct Delivery {
    received: u64,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
}

/// `published` is sorted by key; `keys` are in arrival order. Keys that were not published
/// (someone else's events) are ignored when `published` is known; when it is not, the keys'
/// own order is the one to keep.
fn delivery(keys: &[i64], published: Option<&[Published]>) -> Delivery {
    let ours: Vec<Published> = match published {
        Some(published) => keys
            .iter()
            .filter_map(|key| published.binary_search_by_key(key, |p| p.key).ok().map(|at| published[at]))
            .collect(),
        None => keys.iter().map(|&key| Published { key, may_follow: key }).collect(),
    };
    let mut sorted: Vec<i64> = ours.iter().map(|p| p.key).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let duplicated = (ours.len() - sorted.len()) as u64;
    let lost = published.map_or(0, |p| (p.len() - sorted.len()) as u64);
    Delivery { received: ours.len() as u64, lost, duplicated, out_of_order: out_of_order(&ours) }
}

/// How many events came after a higher key than they may follow, in arrival order.
fn out_of_order(arrived: &[Published]) -> u64 {
    let mut highest = i64::MIN;
    let mut count = 0;
    for event in arrived {
        if highest > event.may_follow {
            count += 1;
        }
        highest = highest.max(event.key);
    }
    count
}

impl Report {
    pub fn new(
        plan: &Plan,
        run: &Run,
        outcomes: &[ClientReport],
        published: Option<&[Published]>,
        elapsed: Duration,
    ) -> Self {
        let connected: Vec<&ClientReport> = outcomes.iter().filter(|o| o.connected).collect();
        let mut total = Delivery::default();
        for outcome in &connected {
            let d = delivery(&outcome.keys, published);
            total.received += d.received;
            total.lost += d.lost;
            total.duplicated += d.duplicated;
            total.out_of_order += d.out_of_order;
        }
        Self {
            url: plan.stream_url.to_string(),
            clients: plan.clients,
            duration_s: plan.duration.as_secs_f64(),
            publish_rate: plan.publish.as_ref().map(|p| p.rate),
            connected: connected.len(),
            failed: plan.clients - connected.len(),
            reconnects: Stats::get(&run.stats.reconnects),
            churned: Stats::get(&run.stats.churned),
            events: Stats::get(&run.stats.events),
            heartbeats: Stats::get(&run.stats.heartbeats),
            bytes: Stats::get(&run.stats.bytes),
            published: published.map(|p| p.len() as u64),
            received: total.received,
            lost: published.map(|_| total.lost),
            duplicated: total.duplicated,
            out_of_order: total.out_of_order,
            latency_ms: Latency::of(&run.stats.latency()),
            errors: run.stats.errors(),
            elapsed_s: elapsed.as_secs_f64(),
        }
    }

    /// Why the run failed, if it did: events lost, duplicated or reordered, or no stream at all.
    pub fn verdict(&self) -> Result<(), String> {
        let lost = self.lost.unwrap_or(0);
        if lost > 0 || self.duplicated > 0 || self.out_of_order > 0 {
            return Err(format!(
                "delivery failed: {lost} events lost, {} duplicated, {} out of order",
                self.duplicated, self.out_of_order
            ));
        }
        if self.connected == 0 {
            return Err(format!("none of the {} clients could open the stream", self.clients));
        }
        Ok(())
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "url          {}", self.url);
        let _ = writeln!(
            out,
            "clients      {} connected, {} failed, {} reconnects, {} churned",
            self.connected, self.failed, self.reconnects, self.churned
        );
        let _ =
            writeln!(out, "received     {} events, {} heartbeats, {} bytes", self.events, self.heartbeats, self.bytes);
        if let (Some(published), Some(lost)) = (self.published, self.lost) {
            let _ = writeln!(out, "published    {published} events at {}/s", self.publish_rate.unwrap_or(0.0));
            let _ = writeln!(
                out,
                "delivery     {} received, {lost} lost, {} duplicated, {} out of order",
                self.received, self.duplicated, self.out_of_order
            );
        } else {
            let _ = writeln!(
                out,
                "delivery     {} tracked, {} duplicated, {} out of order (nothing published: losses unknown)",
                self.received, self.duplicated, self.out_of_order
            );
        }
        match &self.latency_ms {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "latency ms   p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  ({} samples)",
                    l.p50, l.p90, l.p99, l.max, l.count
                );
            }
            None => out.push_str("latency      no stamped events received\n"),
        }
        if self.errors.is_empty() {
            out.push_str("errors       none\n");
        }
        for (kind, count) in &self.errors {
            let _ = writeln!(out, "error        {kind}: {count}");
        }
        let _ = writeln!(out, "elapsed      {:.1} s", self.elapsed_s);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events whose keys are the server's order (Dashboard's ids).
    fn ids(keys: &[i64]) -> Vec<Published> {
        keys.iter().map(|&key| Published { key, may_follow: key }).collect()
    }

    #[test]
    fn exact_delivery_has_nothing_lost_duplicated_or_reordered() {
        let d = delivery(&[3, 5, 9], Some(&ids(&[3, 5, 9])));
        assert_eq!(d, Delivery { received: 3, ..Delivery::default() });
    }

    #[test]
    fn others_events_are_ignored_and_gaps_in_ours_are_lost() {
        let d = delivery(&[2, 3, 4, 9, 10], Some(&ids(&[3, 5, 9, 11])));
        assert_eq!(d, Delivery { received: 2, lost: 2, duplicated: 0, out_of_order: 0 });
    }

    #[test]
    fn repeats_and_reorders_are_counted() {
        let d = delivery(&[1, 2, 2, 4, 3], Some(&ids(&[1, 2, 3, 4])));
        assert_eq!(d, Delivery { received: 5, lost: 0, duplicated: 1, out_of_order: 1 });
        let d = delivery(&[7, 8, 8], None);
        assert_eq!(d, Delivery { received: 3, lost: 0, duplicated: 1, out_of_order: 0 });
    }

    #[test]
    fn every_event_that_came_after_a_higher_key_counts_not_only_the_first() {
        let d = delivery(&[1, 4, 2, 3], Some(&ids(&[1, 2, 3, 4])));
        assert_eq!(d.out_of_order, 2);
    }

    /// Seqs 11 and 12 were in flight at once and the server committed 12 first (seen in the
    /// load tester's cut test on a busy machine): every client rightly gets 12 before 11. Seq
    /// 13 went out after both were answered, so it must come after both.
    #[test]
    fn seqs_sent_while_another_was_in_flight_may_come_before_it() {
        let seqs = [
            Published { key: 10, may_follow: 10 },
            Published { key: 11, may_follow: 12 },
            Published { key: 12, may_follow: 12 },
            Published { key: 13, may_follow: 13 },
        ];
        assert_eq!(delivery(&[10, 12, 11, 13], Some(&seqs)), Delivery { received: 4, ..Delivery::default() });
        assert_eq!(delivery(&[10, 11, 13, 12], Some(&seqs)).out_of_order, 1, "12 was answered before 13 was sent");
        assert_eq!(delivery(&[11, 10, 12, 13], Some(&seqs)).out_of_order, 1, "10 was answered before 11 was sent");
    }
}
