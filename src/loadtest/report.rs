//! The final report: what the clients saw, checked against what was published.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::args::Plan;
use super::client::{ClientReport, Run};
use super::publisher::Published;
use super::received::{Received, Span};
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

/// `published` is sorted by key, each key once; `received` is in arrival order. Keys that were
/// not published (someone else's events) are ignored when `published` is known; when it is not,
/// the keys' own order is the one to keep.
fn delivery(received: &Received, published: Option<&[Published]>) -> Delivery {
    let mut ours = 0;
    let mut out_of_order = 0;
    let mut highest = i64::MIN;
    for event in received.spans().flat_map(|span| ours_within(span, published)) {
        ours += 1;
        if highest > event.may_follow {
            out_of_order += 1;
        }
        highest = highest.max(event.key);
    }
    let distinct = distinct_ours(received, published);
    let lost = published.map_or(0, |p| p.len() as u64 - distinct);
    Delivery { received: ours, lost, duplicated: ours - distinct, out_of_order }
}

/// The events of a span that count, in arrival order: the published ones, or all when nothing
/// was published (then each key is its own place in the order).
fn ours_within(span: Span, published: Option<&[Published]>) -> Box<dyn Iterator<Item = Published> + '_> {
    match published {
        Some(published) => Box::new(published_within(published, span.first, span.last).iter().copied()),
        None => Box::new((span.first..=span.last).map(|key| Published { key, may_follow: key })),
    }
}

/// The published events with keys `first..=last`.
fn published_within(published: &[Published], first: i64, last: i64) -> &[Published] {
    let start = published.partition_point(|p| p.key < first);
    let end = published.partition_point(|p| p.key <= last);
    &published[start..end]
}

/// How many different keys that count arrived: the spans' union, measured in published keys
/// (or in keys, when nothing was published).
fn distinct_ours(received: &Received, published: Option<&[Published]>) -> u64 {
    let count = |first: i64, last: i64| match published {
        Some(published) => published_within(published, first, last).len() as u64,
        None => last.abs_diff(first) + 1,
    };
    let mut spans: Vec<Span> = received.spans().collect();
    spans.sort_unstable_by_key(|span| span.first);
    let mut distinct = 0;
    let mut merged: Option<Span> = None;
    for span in spans {
        match &mut merged {
            Some(union) if span.first <= union.last => union.last = union.last.max(span.last),
            _ => {
                if let Some(done) = merged.replace(span) {
                    distinct += count(done.first, done.last);
                }
            }
        }
    }
    distinct + merged.map_or(0, |done| count(done.first, done.last))
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
            let d = delivery(&outcome.received, published);
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

    /// Judges a client that received `keys`, in this order.
    fn judge(keys: &[i64], published: Option<&[Published]>) -> Delivery {
        delivery(&record(keys), published)
    }

    fn record(keys: &[i64]) -> Received {
        let mut received = Received::new();
        keys.iter().for_each(|&key| received.push(key));
        received
    }

    #[test]
    fn exact_delivery_has_nothing_lost_duplicated_or_reordered() {
        let d = judge(&[3, 5, 9], Some(&ids(&[3, 5, 9])));
        assert_eq!(d, Delivery { received: 3, ..Delivery::default() });
    }

    #[test]
    fn others_events_are_ignored_and_gaps_in_ours_are_lost() {
        let d = judge(&[2, 3, 4, 9, 10], Some(&ids(&[3, 5, 9, 11])));
        assert_eq!(d, Delivery { received: 2, lost: 2, duplicated: 0, out_of_order: 0 });
    }

    #[test]
    fn repeats_and_reorders_are_counted() {
        let d = judge(&[1, 2, 2, 4, 3], Some(&ids(&[1, 2, 3, 4])));
        assert_eq!(d, Delivery { received: 5, lost: 0, duplicated: 1, out_of_order: 1 });
        let d = judge(&[7, 8, 8], None);
        assert_eq!(d, Delivery { received: 3, lost: 0, duplicated: 1, out_of_order: 0 });
    }

    #[test]
    fn every_event_that_came_after_a_higher_key_counts_not_only_the_first() {
        let d = judge(&[1, 4, 2, 3], Some(&ids(&[1, 2, 3, 4])));
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
        assert_eq!(judge(&[10, 12, 11, 13], Some(&seqs)), Delivery { received: 4, ..Delivery::default() });
        assert_eq!(judge(&[10, 11, 13, 12], Some(&seqs)).out_of_order, 1, "12 was answered before 13 was sent");
        assert_eq!(judge(&[11, 10, 12, 13], Some(&seqs)).out_of_order, 1, "10 was answered before 11 was sent");
    }

    #[test]
    fn a_reconnect_resuming_from_an_older_id_duplicates_and_reorders_the_replayed_keys() {
        // Got 1..=6, then resumed after 3: 4 and 5 come again after 6 (so out of order too), 6 again.
        let d = judge(&[1, 2, 3, 4, 5, 6, 4, 5, 6, 7, 8], Some(&ids(&[1, 2, 3, 4, 5, 6, 7, 8])));
        assert_eq!(d, Delivery { received: 11, lost: 0, duplicated: 3, out_of_order: 2 });
    }

    #[test]
    fn a_reconnect_resuming_from_a_newer_id_loses_the_keys_between() {
        let d = judge(&[1, 2, 3, 6, 7, 8], Some(&ids(&[1, 2, 3, 4, 5, 6, 7, 8])));
        assert_eq!(d, Delivery { received: 6, lost: 2, duplicated: 0, out_of_order: 0 });
    }

    /// The judgement before the record was compressed: every key kept, in arrival order.
    fn judged_key_by_key(keys: &[i64], published: Option<&[Published]>) -> Delivery {
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
        let mut highest = i64::MIN;
        let mut out_of_order = 0;
        for event in &ours {
            out_of_order += u64::from(highest > event.may_follow);
            highest = highest.max(event.key);
        }
        Delivery {
            received: ours.len() as u64,
            lost: published.map_or(0, |p| (p.len() - sorted.len()) as u64),
            duplicated: (ours.len() - sorted.len()) as u64,
            out_of_order,
        }
    }

    /// A stream of keys 1..=200 as a troubled client may get it: with others' keys, gaps, repeats,
    /// swaps and reconnects resuming from an older or newer key.
    fn troubled_arrivals(rng: &mut impl rand::Rng) -> Vec<i64> {
        let mut arrivals = Vec::new();
        let mut next = 1;
        while next <= 200 {
            match rng.random_range(0..20) {
                0 => next += rng.random_range(1..5),
                1 => next = (next - rng.random_range(1..8)).max(1),
                2 => arrivals.push(next - 1),
                3 if !arrivals.is_empty() => {
                    arrivals.push(next + 1);
                    arrivals.push(next);
                    next += 2;
                }
                _ => {
                    arrivals.push(next);
                    next += 1;
                }
            }
        }
        arrivals
    }

    /// Keys 1..=200 but for some the target refused (or someone else's); a `{seq}` may follow
    /// the seqs sent before its answer came, Dashboard's ids only themselves.
    fn published_of(rng: &mut impl rand::Rng, seqs: bool) -> Vec<Published> {
        let mut published = Vec::new();
        for key in 1..=200 {
            let late_answer = if seqs { rng.random_range(0..3) } else { 0 };
            if rng.random_range(0..10) > 0 {
                published.push(Published { key, may_follow: key + late_answer });
            }
        }
        published
    }

    #[test]
    fn the_compressed_record_judges_exactly_as_every_key_did() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for round in 0..1_000 {
            let arrivals = troubled_arrivals(&mut rng);
            let published = published_of(&mut rng, round % 2 == 0);
            for published in [Some(published.as_slice()), None] {
                assert_eq!(
                    judge(&arrivals, published),
                    judged_key_by_key(&arrivals, published),
                    "round {round}, arrivals {arrivals:?}, published {published:?}"
                );
            }
        }
    }
}
