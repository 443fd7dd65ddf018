//! `CapacityResult`: the outcome of `fogg capacity`.

use serde::{Deserialize, Serialize};

use std::time::Duration;

use super::{Header, LoadResult, ResultKind, ScenarioInfo, Verdict};
use fogg_core::capacity::Found;
use fogg_load::StopReason;
use fogg_model::Model;

/// What a capacity search did: its settings, the trials and what the
/// search concluded.
#[derive(Debug, Clone)]
pub struct CapacitySearch {
    /// Seed of every trial.
    pub seed: u64,
    /// Base URL of the target.
    pub target: String,
    /// The thresholds every trial was held to, as written.
    pub thresholds: Vec<String>,
    /// How long arrivals go on in each trial.
    pub trial: Duration,
    /// First rate tried, customers/s.
    pub start_rate: f64,
    /// Upper bound of the search, customers/s.
    pub max_rate: f64,
    /// The campaign peak to compare with, customers/s.
    pub expected_peak: Option<f64>,
    /// The peaks of a forecast, one per strategy (`--expected-peak
    /// FILE.json`); `expected_peak` is the highest.
    pub forecast_peaks: Vec<ForecastPeak>,
    /// What the search concluded; `None` when it was stopped early.
    pub found: Option<Found>,
    /// Every trial, in order.
    pub trials: Vec<TrialRow>,
}

/// Result of a capacity search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityResult {
    /// Kind, versions, scenario and seed.
    #[serde(flatten)]
    pub header: Header,
    /// Base URL of the target.
    pub target: String,
    /// The thresholds every trial was held to.
    pub thresholds: Vec<String>,
    /// Seconds of arrivals per trial.
    pub trial_s: f64,
    /// Rates tried stay within `[start_rate, max_rate]`, customers/s.
    pub start_rate: f64,
    /// Upper bound of the search, customers/s.
    pub max_rate: f64,
    /// Highest arrival rate at which every threshold held, customers/s;
    /// null when a threshold failed already at the start rate.
    pub capacity: Option<f64>,
    /// Requests per second achieved in the trial at `capacity`.
    pub capacity_requests_per_s: Option<f64>,
    /// Lowest rate that failed, customers/s; null when none failed.
    pub lowest_failing_rate: Option<f64>,
    /// True when even `max_rate` passed: the capacity is at least that.
    pub capacity_at_least: bool,
    /// The campaign peak the capacity is compared with, customers/s.
    pub expected_peak: Option<f64>,
    /// capacity / expected_peak − 1 (negative: short of the peak).
    pub headroom: Option<f64>,
    /// With `--expected-peak FILE.json`: each strategy's peak from the
    /// forecast and the headroom against it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forecast_peaks: Vec<ForecastPeak>,
    /// `fail` when no rate passed, or the capacity is below the expected
    /// peak; else `pass`.
    pub verdict: Verdict,
    /// Every trial, in the order run.
    pub trials: Vec<TrialRow>,
    /// Caveats of this search (short trials, an interruption).
    pub notes: Vec<String>,
}

/// One trial of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    /// Arrival rate asked, customers/s.
    pub rate: f64,
    /// Customers/s that arrived.
    pub achieved_arrival_rate: f64,
    /// Requests per second.
    pub requests_per_s: f64,
    /// Requests sent (results written before this field existed read 0).
    #[serde(default)]
    pub requests: u64,
    /// Median latency from the intended send time, ms.
    pub p50_ms: Option<f64>,
    /// 99th percentile latency, ms.
    pub p99_ms: Option<f64>,
    /// Failed requests / requests.
    pub error_rate: f64,
    /// Share of the instant-response conversions lost.
    pub conversions_lost_share: f64,
    /// Whether every threshold held.
    pub passed: bool,
    /// The thresholds that failed, with what was observed.
    pub failed: Vec<String>,
    /// Why arrivals stopped (`aborted` on a hard failure).
    pub stopped_by: StopReason,
}

/// One strategy's peak from a forecast, and how the capacity meets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastPeak {
    /// `baseline` or the strategy's id.
    pub strategy: String,
    /// Start of the busiest bin, local time, and the zone.
    pub at: String,
    /// Width of the forecast's bins, seconds.
    pub resolution_s: u32,
    /// The top of the 95% range of the busiest bin's arrivals across
    /// replicates, customers/s: what the site must hold.
    pub customers_per_s: f64,
    /// The median of the same, customers/s.
    pub median_customers_per_s: f64,
    /// capacity / customers_per_s − 1; null when the search did not
    /// finish with a capacity.
    pub headroom: Option<f64>,
}

impl TrialRow {
    /// The row of a trial at `rate` whose thresholds were checked.
    pub fn new(rate: f64, r: &LoadResult) -> TrialRow {
        TrialRow {
            rate,
            achieved_arrival_rate: r.achieved_arrival_rate,
            requests_per_s: r.requests_per_s,
            requests: r.requests,
            p50_ms: r.latency_ms.p50,
            p99_ms: r.latency_ms.p99,
            error_rate: r.error_rate,
            conversions_lost_share: r.conversions_lost_share,
            passed: r.verdict == Verdict::Pass && r.stopped_by != StopReason::Aborted,
            failed: r
                .thresholds
                .iter()
                .filter(|t| !t.passed)
                .map(|t| {
                    format!("{} (observed {})", t.expr, fogg_load::threshold::with_unit(t.observed, t.unit))
                })
                .collect(),
            stopped_by: r.stopped_by,
        }
    }
}

impl CapacityResult {
    /// The result of a finished (or interrupted) search on `model`.
    pub fn new(model: &Model, search: CapacitySearch) -> CapacityResult {
        let CapacitySearch {
            seed,
            target,
            thresholds,
            trial,
            start_rate,
            max_rate,
            expected_peak,
            mut forecast_peaks,
            found,
            trials,
        } = search;
        // Interrupted: the best rate that passed so far is a lower bound.
        let best_pass = trials
            .iter()
            .filter(|t| t.passed)
            .map(|t| t.rate)
            .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
        let lowest_fail = trials
            .iter()
            .filter(|t| !t.passed)
            .map(|t| t.rate)
            .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.min(r))));
        let capacity = found.map_or(best_pass, Found::capacity);
        let capacity_requests_per_s =
            capacity.and_then(|c| trials.iter().find(|t| t.rate == c).map(|t| t.requests_per_s));
        let headroom_at = |peak: Option<f64>| match (capacity, peak) {
            (Some(c), Some(p)) => Some(c / p - 1.0),
            (None, Some(_)) => Some(-1.0),
            _ => None,
        };
        let headroom = headroom_at(expected_peak);
        for peak in &mut forecast_peaks {
            peak.headroom = headroom_at(Some(peak.customers_per_s));
        }
        let verdict = match (capacity, expected_peak) {
            (None, _) => Verdict::Fail,
            (Some(c), Some(p)) if c < p => Verdict::Fail,
            _ => Verdict::Pass,
        };
        CapacityResult {
            header: Header::new(ResultKind::Capacity, ScenarioInfo::of(model), seed),
            target,
            thresholds,
            trial_s: trial.as_secs_f64(),
            start_rate,
            max_rate,
            capacity,
            capacity_requests_per_s,
            lowest_failing_rate: lowest_fail,
            capacity_at_least: matches!(found, Some(Found::AtLeast(_))),
            expected_peak,
            headroom,
            forecast_peaks,
            verdict,
            trials,
            notes: Vec::new(),
        }
    }
}
