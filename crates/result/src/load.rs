//! `LoadResult`: the outcome of `fogg load`.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::evaluate;
use super::{Header, ResultKind, ScenarioInfo};
use fogg_core::shard::Shard;
use fogg_core::verdict::Verdict;
use fogg_load::recorder::{BodyBytes, ErrorClass, HttpVersions, Journeys, Traffic};
use fogg_load::spec::LoadSpec;
use fogg_load::threshold::{Threshold, ThresholdResult};
use fogg_load::{LoadOutcome, LoadPlan, StopReason};
use fogg_model::Model;

/// Result of a load run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadResult {
    /// Kind, versions, scenario and seed.
    #[serde(flatten)]
    pub header: Header,
    /// Base URL of the target.
    pub target: String,
    /// Why arrivals stopped.
    pub stopped_by: StopReason,
    /// What a reader must know to read the figures (a merge of shards
    /// that did not run together).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Seconds during which customers arrived.
    pub duration_s: f64,
    /// Seconds from the first arrival to the end of the run.
    pub elapsed_s: f64,
    /// Customers who arrived (started or dropped).
    pub arrivals: u64,
    /// Customers started.
    pub customers: u64,
    /// Arrivals not started: `max_in_flight` customers were already busy.
    pub arrivals_dropped: u64,
    /// Customers still in flight when the run ended. Those waiting on a
    /// response are in the journey figures as customers who left (to
    /// errors on a timeout, to latency when the end cut the request
    /// short), their conversions to come lost; those thinking keep what
    /// they did.
    pub customers_unfinished: u64,
    /// Arrival rate the profile asked for, customers/s: its mean over the
    /// time arrivals ran (shorter than the duration when the run stopped
    /// early); null for a closed workload.
    pub target_arrival_rate: Option<f64>,
    /// Arrivals per second achieved.
    pub achieved_arrival_rate: f64,
    /// Requests sent: answered, failed, or cut short by the end of the run.
    pub requests: u64,
    /// Requests the end of the run cut short less than the grace period
    /// after they were sent: not errors, in no latency (one unanswered
    /// for the whole grace period is a `timeout` error).
    pub requests_unfinished: u64,
    /// Requests per second over the arrival window.
    pub requests_per_s: f64,
    /// Responses by HTTP version (`http1`, `http2`): which protocol the
    /// target answered in, negotiated or asked for with --http2.
    #[serde(default)]
    pub http_versions: HttpVersions,
    /// Response body bytes on the wire and decoded (fogg asks for gzip
    /// and brotli and decodes them, as a browser does).
    #[serde(default)]
    pub body_bytes: BodyBytes,
    /// Failed requests by class.
    pub errors: ErrorCounts,
    /// Failed requests / requests.
    pub error_rate: f64,
    /// Latency of the successful requests from their intended send time
    /// (coordinated omission corrected); every latency threshold reads it.
    pub latency_ms: Percentiles,
    /// Time from the actual send to the end of the response, successful
    /// requests.
    pub service_time_ms: Percentiles,
    /// Latency of the failed requests, from their intended send time.
    pub failed_latency_ms: Percentiles,
    /// Conversions achieved.
    pub conversions: u64,
    /// Conversions the same customers make with instant, error-free
    /// responses (their journeys are fixed by the seed).
    pub counterfactual_conversions: u64,
    /// Conversions lost because customers left on slow responses.
    pub conversions_lost_to_latency: u64,
    /// Conversions lost because customers left on failed requests.
    pub conversions_lost_to_errors: u64,
    /// (lost to latency + lost to errors) / counterfactual conversions.
    pub conversions_lost_share: f64,
    /// Value of the conversions achieved.
    pub revenue: f64,
    /// Value of the conversions lost.
    pub revenue_at_risk: f64,
    /// Customers who left on a slow response.
    pub abandoned_latency: u64,
    /// Customers who left on a failed request.
    pub abandoned_errors: u64,
    /// Per request name.
    pub by_request: Vec<RequestRow>,
    /// Per state that sends requests.
    pub by_state: Vec<RequestRow>,
    /// Per segment, side by side.
    pub segments: Vec<SegmentLoadRow>,
    /// Why requests failed, per request name with failures: counts by
    /// status code and by reason, and the first failed exchanges.
    #[serde(default)]
    pub failures: Vec<FailureRow>,
    /// The journeys to look up in an APM, by trace id.
    #[serde(default)]
    pub traces: TraceReport,
    /// One row per second of the run.
    pub series: Vec<SecondRow>,
    /// The settings that produced it.
    pub settings: LoadSettings,
    /// Thresholds with what was observed, in the order given.
    #[serde(default)]
    pub thresholds: Vec<ThresholdResult>,
    /// `pass` when every threshold held (or none was set), else `fail`.
    #[serde(default)]
    pub verdict: Verdict,
    /// What `fogg merge` needs to combine shards.
    pub raw: LoadRaw,
}

/// Why the requests of one name failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureRow {
    /// The request name.
    pub request: String,
    /// Failed requests that got a response, by status code.
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// Failed requests by reason: the check that failed and what it
    /// expected.
    pub reasons: std::collections::BTreeMap<String, u64>,
    /// The first failed exchanges (at most 3): method, path, status,
    /// reason, response headers and the first 2 KB of the body, with
    /// secrets, captured values and cookies redacted.
    pub samples: Vec<fogg_load::failures::FailureSample>,
}

impl FailureRow {
    fn rows(names: &[String], failures: &[fogg_load::failures::Failures]) -> Vec<FailureRow> {
        names
            .iter()
            .zip(failures)
            .filter(|(_, f)| f.count() > 0)
            .map(|(name, f)| FailureRow {
                request: name.clone(),
                statuses: f.statuses.clone(),
                reasons: f.reasons.clone(),
                samples: f.samples.clone(),
            })
            .collect()
    }
}

/// Where to find a run's journeys in an APM: every request carries a W3C
/// `traceparent` whose trace id is its customer's journey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceReport {
    /// The header as sent.
    pub traceparent: String,
    /// How a customer's trace id and a request's span id are computed.
    pub trace_id_rule: String,
    /// The run id the trace ids derive from (16 hex digits); one per
    /// shard for a merge whose shards had different ids.
    #[serde(default)]
    pub run_ids: Vec<String>,
    /// The journeys with the slowest successful responses, slowest first.
    pub slowest: Vec<TraceRow>,
    /// The first journeys (by customer index) with a failed request.
    pub failed: Vec<TraceRow>,
}

/// One journey to look up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRow {
    /// The customer's index in the run.
    pub customer: u64,
    /// Its trace id, 32 hex digits.
    pub trace_id: String,
    /// The journey's slowest request, or the one that failed.
    pub request: String,
    /// That request's latency from its intended send time.
    pub latency_ms: f64,
    /// How it failed (`status_5xx`, `check`…), for a failed journey.
    pub error: Option<ErrorClass>,
}

impl Default for TraceReport {
    /// No journey listed (a result saved before traces were kept).
    fn default() -> TraceReport {
        TraceReport::new(&fogg_load::recorder::Traces::default(), &[], &[])
    }
}

impl TraceReport {
    fn new(
        traces: &fogg_load::recorder::Traces,
        request_names: &[String],
        run_ids: &[String],
    ) -> TraceReport {
        let row = |j: &fogg_load::recorder::TracedJourney| TraceRow {
            customer: j.customer,
            trace_id: j.trace_id.clone(),
            request: request_names.get(j.request).cloned().unwrap_or_default(),
            latency_ms: j.latency_us as f64 / 1000.0,
            error: j.error,
        };
        TraceReport {
            traceparent: "00-{trace id}-{span id}-01 (version 00, sampled)".to_owned(),
            trace_id_rule: fogg_load::trace::TRACE_ID_RULE.to_owned(),
            run_ids: distinct_run_ids(run_ids),
            slowest: traces.slowest.iter().map(row).collect(),
            failed: traces.failed.iter().map(row).collect(),
        }
    }
}

/// The run ids to show: one when every shard had the same, else each
/// shard's in shard order.
fn distinct_run_ids(run_ids: &[String]) -> Vec<String> {
    match run_ids.split_first() {
        Some((first, rest)) if rest.iter().all(|id| id == first) => vec![first.clone()],
        _ => run_ids.to_vec(),
    }
}

/// The mergeable form of a load run: its counts (histograms as compressed
/// HdrHistogram V2, base64-encoded), its wall-clock start, and the names
/// the counts refer to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRaw {
    /// Which shard of the run this is (1/1 for a whole run).
    pub shard: Shard,
    /// When the run's second 0 began, milliseconds since the Unix epoch:
    /// merged series line up on it.
    pub started_at_unix_ms: u64,
    /// Seconds during which customers arrived.
    pub window_s: f64,
    /// Seconds from the first arrival to the end of the run.
    pub elapsed_s: f64,
    /// The arrival rate the profile asked for, customers/s.
    pub target_arrival_rate: Option<f64>,
    /// Request names, in the order of `agg.by_request`.
    pub request_names: Vec<String>,
    /// (index into `agg.by_state`, id) of each state that sends requests.
    pub states: Vec<(usize, String)>,
    /// Segment ids, in the order of `agg.by_segment`.
    pub segments: Vec<String>,
    /// The thresholds the run was held to, as written.
    pub thresholds: Vec<String>,
    /// The run id (16 hex digits) its trace ids derive from; a merge
    /// holds each shard's, in shard order. Empty in results saved before
    /// run ids.
    #[serde(default)]
    pub run_ids: Vec<String>,
    /// Everything counted.
    pub agg: fogg_load::recorder::LoadAgg,
}

/// Failed requests by class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    /// Refused, reset or closed before a response.
    pub connect: u64,
    /// No full response within the timeout.
    pub timeout: u64,
    /// Unexpected 4xx.
    pub status_4xx: u64,
    /// Unexpected 5xx.
    pub status_5xx: u64,
    /// Failed status or body check.
    pub check: u64,
    /// Anything else.
    pub other: u64,
}

impl ErrorCounts {
    fn from(errors: &[u64; 6]) -> ErrorCounts {
        let e = |c: ErrorClass| errors[c.index()];
        ErrorCounts {
            connect: e(ErrorClass::Connect),
            timeout: e(ErrorClass::Timeout),
            status_4xx: e(ErrorClass::Status4xx),
            status_5xx: e(ErrorClass::Status5xx),
            check: e(ErrorClass::Check),
            other: e(ErrorClass::Other),
        }
    }

    /// Failed requests of one class.
    pub fn of(&self, class: ErrorClass) -> u64 {
        match class {
            ErrorClass::Connect => self.connect,
            ErrorClass::Timeout => self.timeout,
            ErrorClass::Status4xx => self.status_4xx,
            ErrorClass::Status5xx => self.status_5xx,
            ErrorClass::Check => self.check,
            ErrorClass::Other => self.other,
        }
    }

    /// All failed requests.
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.status_4xx + self.status_5xx + self.check + self.other
    }
}

/// Latency percentiles in milliseconds; null when nothing was measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
}

impl Percentiles {
    fn from_us(h: &Histogram<u64>) -> Percentiles {
        let q = |x: f64| (!h.is_empty()).then(|| h.value_at_quantile(x) as f64 / 1000.0);
        Percentiles {
            p50: q(0.5),
            p90: q(0.9),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: (!h.is_empty()).then(|| h.max() as f64 / 1000.0),
            mean: (!h.is_empty()).then(|| h.mean() / 1000.0),
        }
    }
}

/// Traffic of one request name or state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    /// Request name or state id.
    pub name: String,
    /// Requests sent.
    pub requests: u64,
    /// Failed requests by class.
    pub errors: ErrorCounts,
    /// Latency of the successful requests from the intended send time.
    pub latency_ms: Percentiles,
    /// Service time of the successful requests.
    pub service_time_ms: Percentiles,
    /// Latency of the failed requests.
    pub failed_latency_ms: Percentiles,
}

impl RequestRow {
    fn new(name: &str, t: &Traffic) -> RequestRow {
        RequestRow {
            name: name.to_owned(),
            requests: t.requests,
            errors: ErrorCounts::from(&t.errors),
            latency_ms: Percentiles::from_us(&t.latency_us),
            service_time_ms: Percentiles::from_us(&t.service_us),
            failed_latency_ms: Percentiles::from_us(&t.failed_latency_us),
        }
    }
}

/// One segment under load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentLoadRow {
    /// Segment id.
    pub segment: String,
    /// Customers whose journey finished.
    pub customers: u64,
    /// Requests sent.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Latency from the intended send time.
    pub latency_ms: Percentiles,
    /// Conversions achieved.
    pub conversions: u64,
    /// Conversions lost to latency.
    pub conversions_lost_to_latency: u64,
    /// Conversions lost to errors.
    pub conversions_lost_to_errors: u64,
}

/// One point of the run over time, by intended time: a second, or more
/// in a run longer than ten minutes (see `load::series`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondRow {
    /// Seconds since the start.
    pub second: u64,
    /// Seconds the row covers; counts are over all of them.
    #[serde(default = "one_second")]
    pub seconds: u64,
    /// Customers who arrived.
    pub arrivals: u64,
    /// Requests sent.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Failed requests by class (none when a saved result lacks it).
    #[serde(default)]
    pub errors_by_class: ErrorCounts,
    /// Customers in flight at the end of the row's seconds.
    pub in_flight: u64,
    /// Median latency, ms (2 significant digits).
    pub p50_ms: Option<f64>,
    /// 99th percentile latency, ms (2 significant digits).
    pub p99_ms: Option<f64>,
}

fn one_second() -> u64 {
    1
}

/// The settings of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSettings {
    /// The arrival profile.
    pub profile: String,
    /// Think time between touchpoints.
    pub think_time: String,
    /// Patience.
    pub patience: String,
    /// `abandon` or `continue`.
    pub on_error: fogg_load::spec::OnError,
    /// Per-request timeout, s.
    pub timeout_s: f64,
    /// Cap on customers in flight.
    pub max_in_flight: usize,
    /// Grace period after arrivals stop, s.
    pub grace_s: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

impl LoadResult {
    /// Whether every request failed to connect: the target is down.
    pub fn refused_every_connection(&self) -> bool {
        self.requests > 0 && self.errors.connect == self.requests
    }

    /// The reason most failed requests share, if any (e.g. a TLS
    /// handshake with a plain-HTTP port, with its fix).
    pub fn commonest_failure(&self) -> Option<&str> {
        self.failures.iter().flat_map(|f| &f.reasons).max_by_key(|(_, n)| **n).map(|(r, _)| r.as_str())
    }

    /// Evaluates `thresholds` on this result, recording each outcome and
    /// the verdict.
    pub fn check(&mut self, thresholds: &[Threshold]) -> Verdict {
        self.thresholds = evaluate(thresholds, self);
        self.raw.thresholds = thresholds.iter().map(|t| t.expr.clone()).collect();
        self.verdict = match Verdict::failed_if(!self.thresholds.iter().all(|t| t.passed)) {
            Verdict::Pass if self.stopped_by.cut_short() => Verdict::Incomplete,
            verdict => verdict,
        };
        self.verdict
    }

    /// How the run was cut short, if it was, with when: "interrupted by a
    /// signal after 4.0 s of arrivals".
    pub fn cut_short(&self) -> Option<String> {
        let why = self.stopped_by.cut_short_text()?;
        Some(format!("{why} after {:.1} s of arrivals", self.duration_s))
    }

    /// Builds the result of a finished run.
    pub fn new(model: &Model, spec: &LoadSpec, plan: &LoadPlan, target: &str, o: &LoadOutcome) -> LoadResult {
        let duration = plan.duration.as_secs_f64();
        // What the profile asked over the time it actually ran: a run
        // stopped early (by a threshold, a signal, a customer count) asked
        // for the rate of its first seconds, not the whole profile's.
        let asked_over = match o.arrival_window.as_secs_f64() {
            w if w > 0.0 && w < duration => w,
            _ => duration,
        };
        let raw = LoadRaw {
            shard: plan.shard,
            started_at_unix_ms: o.started_at_unix_ms,
            window_s: o.arrival_window.as_secs_f64(),
            elapsed_s: o.elapsed.as_secs_f64(),
            target_arrival_rate: plan.workload.target_rate(asked_over),
            request_names: o.request_names.clone(),
            states: model
                .states
                .iter()
                .enumerate()
                .filter(|(i, _)| !spec.requests[*i].is_empty())
                .map(|(i, s)| (i, s.id.clone()))
                .collect(),
            segments: model.segments.iter().map(|s| s.id.clone()).collect(),
            thresholds: Vec::new(),
            run_ids: vec![fogg_load::trace::run_hex(plan.run_id)],
            agg: o.agg.clone(),
        };
        let settings = LoadSettings {
            profile: plan.workload.describe(),
            think_time: spec.think_time.description().to_owned(),
            patience: spec.patience.description().to_owned(),
            on_error: spec.on_error,
            timeout_s: spec.timeout.as_secs_f64(),
            max_in_flight: spec.max_in_flight,
            grace_s: plan.grace.as_secs_f64(),
        };
        let mut result =
            LoadResult::from_raw(ScenarioInfo::of(model), plan.seed, target, o.stopped_by, settings, raw);
        if let Some((threshold, failed_for)) = &o.failed_threshold {
            result.notes.push(format!(
                "stopped early (--abort-on-fail): {threshold} had failed for {:.0} s without a break, judged each second on the data so far; the thresholds are judged again on the whole run",
                failed_for.as_secs_f64()
            ));
        }
        result
    }

    /// Builds a result from its counts and settings: a finished run, or a
    /// merge of shards.
    pub fn from_raw(
        scenario: ScenarioInfo,
        seed: u64,
        target: &str,
        stopped_by: StopReason,
        settings: LoadSettings,
        raw: LoadRaw,
    ) -> LoadResult {
        let agg = &raw.agg;
        let window = raw.window_s;
        let j: &Journeys = &agg.journeys;
        let cents = |c: u128| c as f64 / 100.0;
        let by_state = raw.states.iter().map(|(i, id)| RequestRow::new(id, &agg.by_state[*i])).collect();
        let segments = raw
            .segments
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let t = &agg.by_segment[i];
                let sj = &agg.journeys_by_segment[i];
                SegmentLoadRow {
                    segment: id.clone(),
                    customers: sj.customers,
                    requests: t.requests,
                    errors: t.error_count(),
                    latency_ms: Percentiles::from_us(&t.latency_us),
                    conversions: sj.conversions,
                    conversions_lost_to_latency: sj.lost_latency,
                    conversions_lost_to_errors: sj.lost_errors,
                }
            })
            .collect();
        let step = agg.series.seconds_per_point;
        let series = agg
            .series
            .points
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let q = |x: f64| (!s.latency_ms.is_empty()).then(|| s.latency_ms.value_at_quantile(x) as f64);
                SecondRow {
                    second: i as u64 * step,
                    seconds: step,
                    arrivals: s.arrivals,
                    requests: s.requests,
                    errors: s.errors,
                    errors_by_class: ErrorCounts::from(&s.errors_by_class),
                    in_flight: s.in_flight,
                    p50_ms: q(0.5),
                    p99_ms: q(0.99),
                }
            })
            .collect();
        LoadResult {
            header: Header::new(ResultKind::Load, scenario, seed),
            target: target.to_owned(),
            stopped_by,
            notes: Vec::new(),
            duration_s: window,
            elapsed_s: raw.elapsed_s,
            arrivals: agg.arrivals,
            customers: agg.arrivals - agg.dropped,
            arrivals_dropped: agg.dropped,
            customers_unfinished: agg.unfinished,
            target_arrival_rate: raw.target_arrival_rate,
            achieved_arrival_rate: ratio(agg.arrivals as f64, window),
            requests: agg.overall.requests,
            requests_unfinished: agg.overall.unfinished,
            requests_per_s: ratio(agg.overall.requests as f64, window),
            http_versions: agg.http_versions,
            body_bytes: agg.body_bytes,
            errors: ErrorCounts::from(&agg.overall.errors),
            error_rate: ratio(agg.overall.error_count() as f64, agg.overall.requests as f64),
            latency_ms: Percentiles::from_us(&agg.overall.latency_us),
            service_time_ms: Percentiles::from_us(&agg.overall.service_us),
            failed_latency_ms: Percentiles::from_us(&agg.overall.failed_latency_us),
            conversions: j.conversions,
            counterfactual_conversions: j.counterfactual_conversions,
            conversions_lost_to_latency: j.lost_latency,
            conversions_lost_to_errors: j.lost_errors,
            conversions_lost_share: ratio(
                (j.lost_latency + j.lost_errors) as f64,
                j.counterfactual_conversions as f64,
            ),
            revenue: cents(j.revenue_cents),
            revenue_at_risk: cents(j.revenue_at_risk_cents),
            abandoned_latency: j.abandoned_latency,
            abandoned_errors: j.abandoned_errors,
            by_request: raw
                .request_names
                .iter()
                .zip(&agg.by_request)
                .map(|(n, t)| RequestRow::new(n, t))
                .collect(),
            by_state,
            segments,
            failures: FailureRow::rows(&raw.request_names, &agg.failures),
            traces: TraceReport::new(&agg.traces, &raw.request_names, &raw.run_ids),
            series,
            settings,
            thresholds: Vec::new(),
            verdict: Verdict::Pass,
            raw,
        }
    }
}
