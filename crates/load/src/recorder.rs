//! `LoadAgg`: everything a load run measures, in mergeable form.
//!
//! Latency is kept in HDR histograms in microseconds, measured from the
//! *intended* send time (the arrival, or the previous response plus think
//! time), so a stalled generator cannot hide a stalled server; the raw
//! service time (from the actual send) is kept beside it. Memory is fixed
//! per request name, state and segment, and the series over time has at
//! most [`series::MAX_POINTS`] points (coarser as a run grows), so a day
//! costs what ten minutes do.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::series::{Second, Series};
use super::trace;
use fogg_core::merge::Merge;

pub use fogg_core::hist::MAX_LATENCY_US;

/// Why a request failed. Failures are data: they never stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The connection could not be made (refused, reset before a response).
    Connect,
    /// No complete response within the timeout.
    Timeout,
    /// A 4xx status the request did not expect.
    Status4xx,
    /// A 5xx status the request did not expect.
    Status5xx,
    /// The status or body failed the request's check.
    Check,
    /// Anything else: a malformed response, an I/O error mid-body, a
    /// redirect off the target's origin or more than 10 redirects.
    Other,
}

impl ErrorClass {
    /// Every class, in report order.
    pub const ALL: [ErrorClass; 6] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Status4xx,
        ErrorClass::Status5xx,
        ErrorClass::Check,
        ErrorClass::Other,
    ];

    /// Position in [`ErrorClass::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The short name reports and thresholds use (`4xx`, not
    /// `status_4xx`).
    pub fn short_name(self) -> &'static str {
        match self {
            ErrorClass::Status4xx => "4xx",
            ErrorClass::Status5xx => "5xx",
            other => other.name(),
        }
    }

    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Status4xx => "status_4xx",
            ErrorClass::Status5xx => "status_5xx",
            ErrorClass::Check => "check",
            ErrorClass::Other => "other",
        }
    }
}

/// A latency histogram in microseconds (3 significant digits).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// Requests, errors and latency of one slice of the traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// Requests sent (answered or not).
    pub requests: u64,
    /// Failed requests by class.
    pub errors: [u64; 6],
    /// Requests the end of the run cut short, sent less than the grace
    /// period before it: neither answered nor failed (in `requests`, in no
    /// histogram).
    #[serde(default)]
    pub unfinished: u64,
    /// Latency of the successful requests from their intended send time,
    /// µs. Failed requests are kept apart (as Gatling's OK and KO), so a
    /// failing target cannot look fast.
    #[serde(with = "fogg_core::hist::serde_b64")]
    pub latency_us: Histogram<u64>,
    /// Time from the actual send to the end of the response, successful
    /// requests, µs.
    #[serde(with = "fogg_core::hist::serde_b64")]
    pub service_us: Histogram<u64>,
    /// Latency of the failed requests from their intended send time, µs.
    #[serde(with = "fogg_core::hist::serde_b64", default = "latency_histogram")]
    pub failed_latency_us: Histogram<u64>,
}

impl Default for Traffic {
    fn default() -> Traffic {
        Traffic {
            requests: 0,
            errors: [0; 6],
            unfinished: 0,
            latency_us: latency_histogram(),
            service_us: latency_histogram(),
            failed_latency_us: latency_histogram(),
        }
    }
}

impl Traffic {
    fn record(&mut self, x: &Exchange) {
        let Exchange { latency_us, service_us, error, unfinished, .. } = *x;
        self.requests += 1;
        if unfinished {
            self.unfinished += 1;
            return;
        }
        match error {
            Some(e) => {
                self.errors[e.index()] += 1;
                self.failed_latency_us.saturating_record(latency_us.max(1));
            }
            None => {
                self.latency_us.saturating_record(latency_us.max(1));
                self.service_us.saturating_record(service_us.max(1));
            }
        }
    }

    /// Failed requests in all.
    pub fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }
}

impl Merge for Traffic {
    fn merge(&mut self, o: &Self) {
        self.requests += o.requests;
        for (a, b) in self.errors.iter_mut().zip(o.errors) {
            *a += b;
        }
        self.unfinished += o.unfinished;
        self.latency_us.merge(&o.latency_us);
        self.service_us.merge(&o.service_us);
        self.failed_latency_us.merge(&o.failed_latency_us);
    }
}

/// How customers' journeys went, paired with what they would have done
/// with instant responses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journeys {
    /// Customers whose journey finished (completed or abandoned).
    pub customers: u64,
    /// Of whom left because a response was slower than their patience.
    pub abandoned_latency: u64,
    /// Of whom left after a failed request.
    pub abandoned_errors: u64,
    /// Conversions achieved.
    pub conversions: u64,
    /// Their value, cents.
    pub revenue_cents: u128,
    /// Conversions the same customers would have made with instant,
    /// error-free responses.
    pub counterfactual_conversions: u64,
    /// Their value, cents.
    pub counterfactual_revenue_cents: u128,
    /// Conversions lost because the customer left on a slow response.
    pub lost_latency: u64,
    /// Conversions lost because the customer left on a failed request.
    pub lost_errors: u64,
    /// Value of the lost conversions, cents.
    pub revenue_at_risk_cents: u128,
}

impl Merge for Journeys {
    fn merge(&mut self, o: &Self) {
        self.customers += o.customers;
        self.abandoned_latency += o.abandoned_latency;
        self.abandoned_errors += o.abandoned_errors;
        self.conversions += o.conversions;
        self.revenue_cents += o.revenue_cents;
        self.counterfactual_conversions += o.counterfactual_conversions;
        self.counterfactual_revenue_cents += o.counterfactual_revenue_cents;
        self.lost_latency += o.lost_latency;
        self.lost_errors += o.lost_errors;
        self.revenue_at_risk_cents += o.revenue_at_risk_cents;
    }
}

/// Responses received, by HTTP version: over TLS the version is
/// negotiated, so only the responses say which one the run spoke.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpVersions {
    /// HTTP/1.0 and HTTP/1.1 responses.
    pub http1: u64,
    /// HTTP/2 responses.
    pub http2: u64,
}

impl HttpVersions {
    /// "HTTP/1.1", "HTTP/2", "HTTP/2 for 40 of 100 responses", or "" when
    /// nothing answered.
    pub fn text(&self) -> String {
        match (self.http1, self.http2) {
            (0, 0) => String::new(),
            (_, 0) => "HTTP/1.1".to_owned(),
            (0, _) => "HTTP/2".to_owned(),
            (one, two) => format!("HTTP/2 for {two} of {} responses", one + two),
        }
    }
}

/// Response body bytes: as they came on the wire (compressed, when the
/// target compressed them) and decoded, as a browser reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyBytes {
    /// Bytes of response bodies received.
    pub wire: u64,
    /// The same bodies decoded (equal to `wire` when nothing was
    /// compressed).
    pub decoded: u64,
}

/// Everything a load run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadAgg {
    /// Customers who arrived on schedule.
    pub arrivals: u64,
    /// Arrivals not started because `max_in_flight` customers were busy.
    pub dropped: u64,
    /// Customers still in flight when the run was stopped.
    pub unfinished: u64,
    /// Responses by the HTTP version the target answered in.
    #[serde(default)]
    pub http_versions: HttpVersions,
    /// Response body bytes, on the wire and decoded.
    #[serde(default)]
    pub body_bytes: BodyBytes,
    /// All traffic.
    pub overall: Traffic,
    /// Traffic per request name.
    pub by_request: Vec<Traffic>,
    /// Traffic per state.
    pub by_state: Vec<Traffic>,
    /// Traffic per segment.
    pub by_segment: Vec<Traffic>,
    /// Journeys overall.
    pub journeys: Journeys,
    /// Journeys per segment.
    pub journeys_by_segment: Vec<Journeys>,
    /// Counts over time.
    #[serde(flatten)]
    pub series: Series,
    /// Journeys to look up in an APM by trace id.
    #[serde(default)]
    pub traces: Traces,
    /// Why requests failed, per request name (empty in results saved
    /// before failures were kept).
    #[serde(default)]
    pub failures: Vec<super::failures::Failures>,
}

/// One request as the recorder takes it: where it belongs and what it
/// measured.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    /// Index of the request name.
    pub request: usize,
    /// Index of the state that sent it.
    pub state: usize,
    /// Index of the customer's segment.
    pub segment: usize,
    /// From the intended send time to the end of the response, µs.
    pub latency_us: u64,
    /// From the actual send time to the end of the response, µs.
    pub service_us: u64,
    /// Why it failed, if it did.
    pub error: Option<ErrorClass>,
    /// Cut short by the end of the run before an answer.
    pub unfinished: bool,
}

impl LoadAgg {
    /// An empty aggregate for `requests` request names, `states` states
    /// and `segments` segments.
    pub fn new(requests: usize, states: usize, segments: usize) -> LoadAgg {
        LoadAgg {
            arrivals: 0,
            dropped: 0,
            unfinished: 0,
            http_versions: HttpVersions::default(),
            body_bytes: BodyBytes::default(),
            overall: Traffic::default(),
            by_request: vec![Traffic::default(); requests],
            by_state: vec![Traffic::default(); states],
            by_segment: vec![Traffic::default(); segments],
            journeys: Journeys::default(),
            journeys_by_segment: vec![Journeys::default(); segments],
            series: Series::default(),
            traces: Traces::default(),
            failures: vec![super::failures::Failures::default(); requests],
        }
    }

    /// The length of every per-item table, named: aggregates read from
    /// files merge only when these agree with the run's names.
    pub fn lengths(&self) -> [(&'static str, usize); 4] {
        [
            ("by_request", self.by_request.len()),
            ("by_state", self.by_state.len()),
            ("by_segment", self.by_segment.len()),
            ("journeys_by_segment", self.journeys_by_segment.len()),
        ]
    }

    fn second(&mut self, second: usize) -> &mut Second {
        self.series.at(second as u64)
    }

    /// Counts an arrival in its second.
    pub fn arrival(&mut self, second: usize, dropped: bool) {
        self.arrivals += 1;
        self.dropped += u64::from(dropped);
        self.second(second).arrivals += 1;
    }

    /// Records the customers in flight at the end of `second` (the last
    /// such record of a point is the one kept).
    pub fn in_flight(&mut self, second: usize, customers: u64) {
        self.second(second).in_flight = customers;
    }

    /// Records one request in `second` of the run.
    pub fn request(&mut self, second: usize, x: &Exchange) {
        let Exchange { request, state, segment, latency_us, error, unfinished, .. } = *x;
        self.overall.record(x);
        self.by_request[request].record(x);
        self.by_state[state].record(x);
        self.by_segment[segment].record(x);
        let s = self.second(second);
        s.requests += 1;
        match error {
            _ if unfinished => {}
            Some(e) => {
                s.errors += 1;
                s.errors_by_class[e.index()] += 1;
            }
            None => s.latency_ms.saturating_record((latency_us / 1000).max(1)),
        }
    }

    /// Records a finished journey.
    pub fn journey(&mut self, segment: usize, j: &Journeys) {
        self.journeys.merge(j);
        self.journeys_by_segment[segment].merge(j);
    }
}

impl Merge for LoadAgg {
    fn merge(&mut self, o: &Self) {
        self.arrivals += o.arrivals;
        self.dropped += o.dropped;
        self.unfinished += o.unfinished;
        self.http_versions.http1 += o.http_versions.http1;
        self.http_versions.http2 += o.http_versions.http2;
        self.body_bytes.wire += o.body_bytes.wire;
        self.body_bytes.decoded += o.body_bytes.decoded;
        self.traces.merge(&o.traces);
        self.overall.merge(&o.overall);
        for (a, b) in [
            (&mut self.by_request, &o.by_request),
            (&mut self.by_state, &o.by_state),
            (&mut self.by_segment, &o.by_segment),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
        if self.failures.len() < o.failures.len() {
            self.failures.resize_with(o.failures.len(), Default::default);
        }
        for (x, y) in self.failures.iter_mut().zip(&o.failures) {
            x.merge(y);
        }
        self.journeys.merge(&o.journeys);
        for (x, y) in self.journeys_by_segment.iter_mut().zip(&o.journeys_by_segment) {
            x.merge(y);
        }
        self.series.merge(&o.series);
    }
}

/// Journeys kept in each list of a run's traces.
pub const KEPT: usize = 5;

/// One journey worth finding in an APM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracedJourney {
    /// The customer's index in the run.
    pub customer: u64,
    /// Its trace id, 32 hex digits.
    pub trace_id: String,
    /// Index of the request name: the slowest request of the journey, or
    /// the one that failed.
    pub request: usize,
    /// That request's latency from its intended send time, µs.
    pub latency_us: u64,
    /// How it failed, for a failed journey.
    pub error: Option<ErrorClass>,
}

/// The journeys of a run worth finding in an APM: the [`KEPT`] slowest
/// (by their slowest successful response) and the [`KEPT`] first failed
/// (by customer index). Bounded, and merged shard by shard to the lists a
/// single run would keep.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Traces {
    /// Slowest first.
    pub slowest: Vec<TracedJourney>,
    /// Lowest customer index first.
    pub failed: Vec<TracedJourney>,
}

impl Traces {
    /// Offers a journey whose slowest response took `slowest.1` µs (at
    /// request `slowest.0`), and its failure if it had one.
    pub fn offer(
        &mut self,
        seed: u64,
        run: u64,
        customer: u64,
        slowest: Option<(usize, u64)>,
        failure: Option<(usize, u64, ErrorClass)>,
    ) {
        let journey = |request, latency_us, error| TracedJourney {
            customer,
            trace_id: trace::hex(trace::trace_id(seed, run, customer)),
            request,
            latency_us,
            error,
        };
        if let Some((request, latency)) = slowest
            && (self.slowest.len() < KEPT
                || self.slowest.last().is_some_and(|j| ranks_slower(latency, customer, j)))
        {
            self.slowest.push(journey(request, latency, None));
            self.keep();
        }
        if let Some((request, latency, error)) = failure
            && (self.failed.len() < KEPT || self.failed.last().is_some_and(|j| customer < j.customer))
        {
            self.failed.push(journey(request, latency, Some(error)));
            self.keep();
        }
    }

    fn keep(&mut self) {
        self.slowest.sort_by(|a, b| b.latency_us.cmp(&a.latency_us).then(a.customer.cmp(&b.customer)));
        self.slowest.truncate(KEPT);
        self.failed.sort_by_key(|j| j.customer);
        self.failed.truncate(KEPT);
    }
}

/// Whether a journey of `latency` µs, customer `customer`, ranks before `j`.
fn ranks_slower(latency: u64, customer: u64, j: &TracedJourney) -> bool {
    latency > j.latency_us || latency == j.latency_us && customer < j.customer
}

impl Merge for Traces {
    fn merge(&mut self, o: &Self) {
        self.slowest.extend(o.slowest.iter().cloned());
        self.failed.extend(o.failed.iter().cloned());
        self.keep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_journeys_merge_to_what_one_run_keeps() {
        let offers: Vec<(u64, u64, bool)> = (0..40).map(|c| (c, (c * 7919) % 101, c % 3 == 0)).collect();
        let offer = |t: &mut Traces, &(c, l, failed): &(u64, u64, bool)| {
            t.offer(1, 0, c, Some((0, l)), failed.then_some((1, l, ErrorClass::Status5xx)))
        };
        let mut whole = Traces::default();
        offers.iter().for_each(|o| offer(&mut whole, o));
        let (mut a, mut b) = (Traces::default(), Traces::default());
        offers.iter().filter(|o| o.0 % 2 == 0).for_each(|o| offer(&mut a, o));
        offers.iter().filter(|o| o.0 % 2 == 1).for_each(|o| offer(&mut b, o));
        a.merge(&b);
        assert_eq!(a, whole);
        assert_eq!(whole.slowest.len(), KEPT);
        assert_eq!(whole.slowest[0].latency_us, 100);
        let failed: Vec<u64> = whole.failed.iter().map(|j| j.customer).collect();
        assert_eq!(failed, [0, 3, 6, 9, 12]);
    }
}
