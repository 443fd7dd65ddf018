//! The series every live view exports, listed once: each metric family
//! with its name, help, type and samples, read from a [`Snapshot`]. The
//! Prometheus exposition and the remote-write pushes both encode this
//! list, so what is scraped and what is pushed cannot drift apart.

use super::snapshot::{BUCKETS_S, OUTCOMES, RECENT_QUANTILES, Snapshot};

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only grows; its samples are named `NAME_total`.
    Counter,
    /// A value now.
    Gauge,
    /// Latency buckets, their sum and count.
    Histogram,
}

/// One sample's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A whole number (a counter, or a gauge that counts).
    Count(u64),
    /// A real gauge.
    Real(f64),
    /// Counts per bucket of [`BUCKETS_S`] then `+Inf` (not cumulative),
    /// and the sum of the values, seconds.
    Histogram {
        /// Counts per bucket.
        buckets: [u64; BUCKETS_S.len() + 1],
        /// Sum of the values.
        sum: f64,
    },
}

/// One labelled sample of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels besides the run's (`scenario`, `shard`).
    pub labels: Vec<(&'static str, String)>,
    /// Its value.
    pub value: Value,
}

/// A metric family: name (a counter's without `_total`), help, type,
/// samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family's name.
    pub name: &'static str,
    /// What it measures.
    pub help: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Its samples.
    pub samples: Vec<Sample>,
}

/// A sample without labels.
fn single(value: Value) -> Vec<Sample> {
    vec![Sample { labels: Vec::new(), value }]
}

/// The families of `s`, in the order a scrape lists them.
pub fn families(s: &Snapshot) -> Vec<Family> {
    let family = |name, help, kind, samples| Family { name, help, kind, samples };
    let per_request = |f: &dyn Fn(&super::snapshot::RequestCounts) -> Vec<Sample>| {
        s.requests.iter().flat_map(f).collect::<Vec<Sample>>()
    };
    vec![
        family("fogg_arrivals", "Customers who arrived.", Kind::Counter, single(Value::Count(s.arrivals))),
        family(
            "fogg_arrivals_dropped",
            "Arrivals not started: max_in_flight customers were busy.",
            Kind::Counter,
            single(Value::Count(s.dropped)),
        ),
        family(
            "fogg_requests",
            "Requests sent, by request name and outcome (ok, an error class, or unfinished: cut short by the end).",
            Kind::Counter,
            per_request(&|r| {
                OUTCOMES
                    .iter()
                    .zip(r.outcomes)
                    .map(|(outcome, n)| Sample {
                        labels: vec![("request", r.name.clone()), ("outcome", (*outcome).to_owned())],
                        value: Value::Count(n),
                    })
                    .collect()
            }),
        ),
        family(
            "fogg_conversions",
            "Conversions of finished journeys: achieved, or lost because the customer left on a slow response or an error.",
            Kind::Counter,
            [("achieved", s.conversions), ("lost_latency", s.lost_latency), ("lost_errors", s.lost_errors)]
                .into_iter()
                .map(|(outcome, n)| Sample {
                    labels: vec![("outcome", outcome.to_owned())],
                    value: Value::Count(n),
                })
                .collect(),
        ),
        family(
            "fogg_revenue_at_risk",
            "Value of the conversions lost, in the scenario's currency.",
            Kind::Counter,
            single(Value::Count(s.revenue_at_risk.round() as u64)),
        ),
        family(
            "fogg_customers_in_flight",
            "Customers on their journey now.",
            Kind::Gauge,
            single(Value::Count(s.in_flight)),
        ),
        family(
            "fogg_arrival_rate",
            "Customers who arrived per second, over the last complete point of the run's series.",
            Kind::Gauge,
            single(Value::Real(s.arrival_rate)),
        ),
        family(
            "fogg_request_duration_seconds",
            "Latency of the successful requests from their intended send time, by request name.",
            Kind::Histogram,
            per_request(&|r| {
                vec![Sample {
                    labels: vec![("request", r.name.clone())],
                    value: Value::Histogram { buckets: r.buckets, sum: r.latency_sum_s },
                }]
            }),
        ),
        family(
            "fogg_recent_latency_seconds",
            "Percentiles (HDR) of the successful requests' latency over the last 10 s of the run.",
            Kind::Gauge,
            RECENT_QUANTILES
                .iter()
                .zip(s.recent_latency_s)
                .map(|((q, _), v)| Sample {
                    labels: vec![("percentile", (*q).to_owned())],
                    value: Value::Real(v),
                })
                .collect(),
        ),
        family(
            "fogg_recent_request_latency_seconds",
            "Percentiles (HDR) of each request's successful latency over the last 10 s of the run; no series for a request with none.",
            Kind::Gauge,
            per_request(&|r| {
                let Some(recent) = r.recent_latency_s else { return Vec::new() };
                RECENT_QUANTILES
                    .iter()
                    .zip(recent)
                    .map(|((q, _), v)| Sample {
                        labels: vec![("request", r.name.clone()), ("percentile", (*q).to_owned())],
                        value: Value::Real(v),
                    })
                    .collect()
            }),
        ),
    ]
}
