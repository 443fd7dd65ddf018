//! What every live view shows: the run's counts at one moment, read at
//! once under the recorder's lock, so the numbers of a scrape, a push or
//! a dashboard frame agree with each other and, after the end, with the
//! report.

use super::super::recorder::{ErrorClass, LoadAgg, Traffic};
use super::super::series::Second;

/// Upper bounds of the latency histogram's buckets, seconds (the last,
/// `+Inf`, is implied).
pub const BUCKETS_S: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// Seconds the recent-latency gauges cover.
pub const RECENT_S: u64 = 10;

/// The percentiles of the recent-latency gauges: the `percentile` label's
/// value and the quantile it reads. (A `quantile` label is reserved for
/// summaries: promtool flags it on a gauge.)
pub const RECENT_QUANTILES: [(&str, f64); 3] = [("50", 0.5), ("90", 0.9), ("99", 0.99)];

/// The outcome labels of a request: `ok`, each error class, `unfinished`.
pub const OUTCOMES: [&str; 8] = ["ok", "connect", "timeout", "4xx", "5xx", "check", "other", "unfinished"];

/// One request name's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestCounts {
    /// The request's name.
    pub name: String,
    /// Requests by outcome, in the order of [`OUTCOMES`].
    pub outcomes: [u64; OUTCOMES.len()],
    /// Successful requests per latency bucket (not cumulative), the
    /// buckets of [`BUCKETS_S`] then `+Inf`.
    pub buckets: [u64; BUCKETS_S.len() + 1],
    /// Sum of the successful requests' latency, seconds.
    pub latency_sum_s: f64,
    /// HDR percentiles of this request's successful latency over the last
    /// [`RECENT_S`] seconds, seconds, in the order of
    /// [`RECENT_QUANTILES`] (a gauge); `None` when none succeeded then.
    pub recent_latency_s: Option<[f64; RECENT_QUANTILES.len()]>,
}

impl RequestCounts {
    fn of(name: &str, t: &Traffic) -> RequestCounts {
        let mut outcomes = [0; OUTCOMES.len()];
        outcomes[0] = t.requests - t.error_count() - t.unfinished;
        for c in ErrorClass::ALL {
            outcomes[1 + c.index()] = t.errors[c.index()];
        }
        outcomes[OUTCOMES.len() - 1] = t.unfinished;
        // One pass over the recorded values (not a count per bound): a
        // value goes to the first bucket whose bound its HDR bucket starts
        // at or below, as `count_between(0, bound)` would count it.
        let h = &t.latency_us;
        let mut buckets = [0; BUCKETS_S.len() + 1];
        for v in h.iter_recorded() {
            let low_s = h.lowest_equivalent(v.value_iterated_to()) as f64 / 1e6;
            let slot = BUCKETS_S.iter().position(|&b| low_s <= b).unwrap_or(BUCKETS_S.len());
            buckets[slot] += v.count_at_value();
        }
        RequestCounts {
            name: name.to_owned(),
            outcomes,
            buckets,
            latency_sum_s: h.mean() * h.len() as f64 / 1e6,
            recent_latency_s: None,
        }
    }

    /// Requests sent, whatever their outcome.
    pub fn requests(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Successful requests: the histogram's count.
    pub fn successful(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// The run's counts at one moment. Counters only grow over a run (and
/// over the trials of a capacity search, which add up); gauges are the
/// moment's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Customers who arrived.
    pub arrivals: u64,
    /// Arrivals not started: `max_in_flight` customers were busy.
    pub dropped: u64,
    /// Per request name.
    pub requests: Vec<RequestCounts>,
    /// Conversions of finished journeys.
    pub conversions: u64,
    /// Conversions lost: the customer left on a slow response.
    pub lost_latency: u64,
    /// Conversions lost: the customer left on an error.
    pub lost_errors: u64,
    /// Value of the conversions lost, in the scenario's currency.
    pub revenue_at_risk: f64,
    /// Customers on their journey (gauge).
    pub in_flight: u64,
    /// Arrivals per second over the last complete point (gauge).
    pub arrival_rate: f64,
    /// HDR percentiles of the last [`RECENT_S`] seconds' successful
    /// latency, seconds, in the order of [`RECENT_QUANTILES`] (gauges;
    /// 0 when nothing succeeded then).
    pub recent_latency_s: [f64; RECENT_QUANTILES.len()],
}

impl Snapshot {
    /// The counts of `agg`, whose requests are named `names`, with
    /// `in_flight` customers on their way.
    pub fn of(agg: &LoadAgg, names: &[String], in_flight: u64) -> Snapshot {
        let step = agg.series.seconds_per_point.max(1);
        let arrival_rate =
            agg.series.points.iter().rev().nth(1).map_or(0.0, |p| p.arrivals as f64 / step as f64);
        let mut recent = Second::default().latency_ms;
        let points = RECENT_S.div_ceil(step) as usize;
        for p in agg.series.points.iter().rev().take(points) {
            recent.add(&p.latency_ms).ok();
        }
        let mut recent_latency_s = [0.0; RECENT_QUANTILES.len()];
        if !recent.is_empty() {
            for (v, (_, q)) in recent_latency_s.iter_mut().zip(RECENT_QUANTILES) {
                *v = recent.value_at_quantile(q) as f64 / 1e3;
            }
        }
        let j = &agg.journeys;
        Snapshot {
            arrivals: agg.arrivals,
            dropped: agg.dropped,
            requests: names.iter().zip(&agg.by_request).map(|(n, t)| RequestCounts::of(n, t)).collect(),
            conversions: j.conversions,
            lost_latency: j.lost_latency,
            lost_errors: j.lost_errors,
            revenue_at_risk: j.revenue_at_risk_cents as f64 / 100.0,
            in_flight,
            arrival_rate,
            recent_latency_s,
        }
    }

    /// This snapshot followed by `later`, a later run's (the next trial of
    /// a capacity search): counters add, gauges are the later run's.
    pub fn then(&self, later: &Snapshot) -> Snapshot {
        let mut requests = self.requests.clone();
        for r in &later.requests {
            match requests.iter_mut().find(|q| q.name == r.name) {
                Some(q) => {
                    for (a, b) in q.outcomes.iter_mut().zip(r.outcomes) {
                        *a += b;
                    }
                    for (a, b) in q.buckets.iter_mut().zip(r.buckets) {
                        *a += b;
                    }
                    q.latency_sum_s += r.latency_sum_s;
                    q.recent_latency_s = r.recent_latency_s;
                }
                None => requests.push(r.clone()),
            }
        }
        Snapshot {
            arrivals: self.arrivals + later.arrivals,
            dropped: self.dropped + later.dropped,
            requests,
            conversions: self.conversions + later.conversions,
            lost_latency: self.lost_latency + later.lost_latency,
            lost_errors: self.lost_errors + later.lost_errors,
            revenue_at_risk: self.revenue_at_risk + later.revenue_at_risk,
            ..later.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::{ErrorClass, Traffic};

    #[test]
    fn outcome_labels_follow_the_error_classes() {
        for c in ErrorClass::ALL {
            assert_eq!(OUTCOMES[1 + c.index()], c.short_name());
        }
        assert_eq!(OUTCOMES.len(), ErrorClass::ALL.len() + 2);
    }

    #[test]
    fn buckets_count_as_count_between_does() {
        let mut t = Traffic::default();
        for us in [10, 4_999, 5_000, 5_001, 70_000, 999_999, 1_000_000, 400_000_000, 3_000_000_000] {
            t.latency_us.record(us).expect("in range");
            t.requests += 1;
        }
        let counts = RequestCounts::of("home", &t);
        let mut below = 0;
        for (i, b) in BUCKETS_S.iter().enumerate() {
            let upto = t.latency_us.count_between(0, (b * 1e6) as u64);
            assert_eq!(counts.buckets[i], upto - below, "bucket {b}");
            below = upto;
        }
        assert_eq!(counts.buckets[BUCKETS_S.len()], t.latency_us.len() - below);
        assert_eq!(counts.successful(), 9);
    }

    #[test]
    fn a_later_run_adds_its_counters_and_brings_its_gauges() {
        let mut a = Snapshot { arrivals: 3, in_flight: 7, conversions: 1, ..Snapshot::default() };
        a.requests.push(RequestCounts {
            name: "home".into(),
            outcomes: [2, 1, 0, 0, 0, 0, 0, 0],
            buckets: [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            latency_sum_s: 0.015,
            recent_latency_s: Some([0.007, 0.008, 0.008]),
        });
        let mut b = a.clone();
        b.in_flight = 2;
        b.requests[0].recent_latency_s = None;
        b.requests.push(RequestCounts { name: "cart".into(), ..b.requests[0].clone() });
        let both = a.then(&b);
        assert_eq!((both.arrivals, both.conversions, both.in_flight), (6, 2, 2));
        assert_eq!(both.requests[0].outcomes[0], 4);
        assert_eq!(both.requests[0].successful(), 4);
        assert_eq!(both.requests[0].recent_latency_s, None, "a gauge is the later run's");
        assert_eq!(both.requests[1].requests(), 3);
        assert!((both.requests[0].latency_sum_s - 0.03).abs() < 1e-12);
    }
}
