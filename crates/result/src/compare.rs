//! Regression compare of two load results: the same metrics side by side,
//! each judged against a tolerance.
//!
//! | metric | worse when | default tolerance |
//! |---|---|---|
//! | `p50` `p90` `p95` `p99` `p99.9` (overall and per request) | higher | 10% and more than 1 ms |
//! | `throughput` (requests/s) | lower | 10% |
//! | `error_rate` | higher | 0.5 percentage points |
//! | `conversions_lost` (% of instant-response conversions) | higher | 2 percentage points |
//!
//! Tolerances are set with `METRIC=N%` (relative, latency and throughput)
//! or `METRIC=Npp` (percentage points, rates); `latency=N%` sets every
//! latency percentile at once.

use serde::{Deserialize, Serialize};

use crate::{Header, LoadResult, Percentiles, ResultKind, Verdict};

/// A latency change smaller than this is never a regression: timer and
/// scheduler noise on a fast endpoint is not a slowdown.
pub const LATENCY_FLOOR_MS: f64 = 1.0;

/// A percentile q is judged only when both results have at least
/// `SAMPLES_PER_TAIL / (1 − q)` requests (1,000 for p99): with fewer, it is
/// one of the few slowest requests and moves by chance.
pub const SAMPLES_PER_TAIL: f64 = 10.0;

const QUANTILES: [f64; 5] = [0.5, 0.9, 0.95, 0.99, 0.999];

/// How much worse a metric may get before it counts as a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Relative increase allowed for each latency percentile
    /// (p50, p90, p95, p99, p99.9).
    pub latency: [f64; 5],
    /// Relative decrease allowed for throughput.
    pub throughput: f64,
    /// Increase allowed for the error rate, in percentage points.
    pub error_rate_pp: f64,
    /// Increase allowed for the share of conversions lost, in points.
    pub conversions_lost_pp: f64,
}

impl Default for Tolerances {
    fn default() -> Tolerances {
        Tolerances { latency: [0.10; 5], throughput: 0.10, error_rate_pp: 0.5, conversions_lost_pp: 2.0 }
    }
}

const LATENCY: [&str; 5] = ["p50", "p90", "p95", "p99", "p99.9"];

/// One `--tolerance METRIC=VALUE`, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// What it loosens or tightens.
    pub metric: ToleranceMetric,
    /// A relative change (0.15 for 15%) or percentage points.
    pub value: f64,
}

/// How a tolerance is written, for error messages.
const TOLERANCE_SYNTAX: &str = "write METRIC=N% for latency (p50, p90, p95, p99, p99.9, or latency for all) and throughput, or METRIC=Npp for error_rate and conversions_lost, e.g. p99=15% or error_rate=1pp";

/// Why a `--tolerance` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToleranceError {
    /// Not `METRIC=VALUE`.
    #[error("tolerance '{0}': {TOLERANCE_SYNTAX}")]
    Syntax(String),
    /// A metric compare does not judge.
    #[error("tolerance '{text}': unknown metric '{metric}'; {TOLERANCE_SYNTAX}")]
    Metric {
        /// The whole tolerance.
        text: String,
        /// The metric named.
        metric: String,
    },
    /// A value without the unit its metric takes.
    #[error("tolerance '{text}': '{metric}' takes a value in '{unit}', e.g. {metric}=10{unit}")]
    Unit {
        /// The whole tolerance.
        text: String,
        /// The metric.
        metric: String,
        /// `%` or `pp`.
        unit: &'static str,
    },
    /// A value that is not a number of 0 or more.
    #[error("tolerance '{text}': '{value}' is not a number of 0 or more")]
    Value {
        /// The whole tolerance.
        text: String,
        /// The value written.
        value: String,
    },
}

/// The metrics a tolerance can be set for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToleranceMetric {
    /// Every latency percentile.
    Latency,
    /// One latency percentile, by its index in p50, p90, p95, p99, p99.9.
    Percentile(usize),
    /// Requests per second.
    Throughput,
    /// The error rate, in percentage points.
    ErrorRate,
    /// The share of conversions lost, in percentage points.
    ConversionsLost,
}

impl Tolerance {
    /// Parses `METRIC=N%` (latency, a percentile, throughput) or
    /// `METRIC=Npp` (error_rate, conversions_lost).
    pub fn parse(text: &str) -> Result<Tolerance, ToleranceError> {
        let Some((metric, value)) = text.split_once('=') else {
            return Err(ToleranceError::Syntax(text.to_owned()));
        };
        let (metric, value) = (metric.trim(), value.trim());
        let number = |suffix: &'static str| {
            let n = value.strip_suffix(suffix).ok_or_else(|| ToleranceError::Unit {
                text: text.to_owned(),
                metric: metric.to_owned(),
                unit: suffix,
            })?;
            match n.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                _ => Err(ToleranceError::Value { text: text.to_owned(), value: n.to_owned() }),
            }
        };
        let (metric, value) = match metric {
            "latency" => (ToleranceMetric::Latency, number("%")? / 100.0),
            "throughput" => (ToleranceMetric::Throughput, number("%")? / 100.0),
            "error_rate" => (ToleranceMetric::ErrorRate, number("pp")?),
            "conversions_lost" => (ToleranceMetric::ConversionsLost, number("pp")?),
            m => match LATENCY.iter().position(|l| *l == m) {
                Some(i) => (ToleranceMetric::Percentile(i), number("%")? / 100.0),
                None => return Err(ToleranceError::Metric { text: text.to_owned(), metric: m.to_owned() }),
            },
        };
        Ok(Tolerance { metric, value })
    }
}

impl Tolerances {
    /// The defaults with each of `settings` applied in order.
    pub fn with(settings: &[Tolerance]) -> Tolerances {
        let mut t = Tolerances::default();
        for s in settings {
            match s.metric {
                ToleranceMetric::Latency => t.latency = [s.value; 5],
                ToleranceMetric::Percentile(i) => t.latency[i] = s.value,
                ToleranceMetric::Throughput => t.throughput = s.value,
                ToleranceMetric::ErrorRate => t.error_rate_pp = s.value,
                ToleranceMetric::ConversionsLost => t.conversions_lost_pp = s.value,
            }
        }
        t
    }
}

/// How a metric moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Within tolerance.
    Same,
    /// Better beyond the tolerance.
    Improved,
    /// Worse beyond the tolerance.
    Regressed,
    /// Missing on one side, or a percentile with too few requests behind
    /// it to be judged (see [`SAMPLES_PER_TAIL`]).
    NotComparable,
}

/// One metric, side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareRow {
    /// Metric, e.g. `p99` or `p99{request=checkout}`.
    pub metric: String,
    /// Unit of the values: `ms`, `per_second`, `percent`.
    pub unit: String,
    /// Value in the baseline.
    pub baseline: Option<f64>,
    /// Value in the current result.
    pub current: Option<f64>,
    /// current − baseline.
    pub difference: Option<f64>,
    /// current / baseline − 1.
    pub relative_change: Option<f64>,
    /// The tolerance applied, as written (`10%`, `0.5pp`).
    pub tolerance: String,
    /// The judgement.
    pub change: Change,
}

/// The result of `fogg compare`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareResult {
    /// Kind, versions, and the current result's scenario and seed.
    #[serde(flatten)]
    pub header: crate::Header,
    /// The baseline file.
    pub baseline: String,
    /// The current file.
    pub current: String,
    /// Every metric compared.
    pub rows: Vec<CompareRow>,
    /// `fail` when any metric regressed.
    pub verdict: Verdict,
    /// Caveats (different scenarios, seeds or rates).
    pub notes: Vec<String>,
}

fn latency_values(p: &Percentiles) -> [Option<f64>; 5] {
    [p.p50, p.p90, p.p95, p.p99, p.p999]
}

fn pp(x: f64) -> String {
    let s = format!("{x:.2}");
    format!("{}pp", s.trim_end_matches('0').trim_end_matches('.'))
}

fn rel(x: f64) -> String {
    let s = format!("{:.1}", x * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// `higher_is_worse`: latency, errors. `within`: whether |difference| is
/// inside the tolerance.
fn judge(
    baseline: Option<f64>,
    current: Option<f64>,
    higher_is_worse: bool,
    within: impl Fn(f64, f64) -> bool,
) -> (Change, Option<f64>, Option<f64>) {
    match (baseline, current) {
        (Some(b), Some(c)) => {
            let change = if within(b, c) {
                Change::Same
            } else if (c > b) == higher_is_worse {
                Change::Regressed
            } else {
                Change::Improved
            };
            (change, Some(c - b), (b != 0.0).then(|| c / b - 1.0))
        }
        _ => (Change::NotComparable, None, None),
    }
}

/// Compares `current` with `baseline`.
pub fn compare(
    baseline: &LoadResult,
    current: &LoadResult,
    tol: &Tolerances,
    names: [&str; 2],
) -> CompareResult {
    let mut rows = Vec::new();
    let fewest = baseline.requests.min(current.requests);
    latency_rows(&mut rows, tol, "", fewest, &baseline.latency_ms, &current.latency_ms);
    for b in &baseline.by_request {
        if let Some(c) = current.by_request.iter().find(|c| c.name == b.name)
            && (b.requests > 0 || c.requests > 0)
        {
            let scope = format!("{{request={}}}", b.name);
            latency_rows(&mut rows, tol, &scope, b.requests.min(c.requests), &b.latency_ms, &c.latency_ms);
        }
    }
    rows.push(throughput_row(baseline.requests_per_s, current.requests_per_s, tol.throughput));
    rows.push(percent_row("error_rate", baseline.error_rate, current.error_rate, tol.error_rate_pp));
    rows.push(percent_row(
        "conversions_lost",
        baseline.conversions_lost_share,
        current.conversions_lost_share,
        tol.conversions_lost_pp,
    ));
    let verdict = Verdict::failed_if(rows.iter().any(|r| r.change == Change::Regressed));
    let now = &current.header;
    CompareResult {
        header: Header::new(ResultKind::Compare, now.scenario.clone(), now.seed),
        baseline: names[0].to_owned(),
        current: names[1].to_owned(),
        rows,
        verdict,
        notes: caveats(baseline, current),
    }
}

/// One row per latency percentile of `scope`; a percentile with fewer
/// than `SAMPLES_PER_TAIL` requests in its tail is not comparable.
fn latency_rows(
    rows: &mut Vec<CompareRow>,
    tol: &Tolerances,
    scope: &str,
    requests: u64,
    b: &Percentiles,
    c: &Percentiles,
) {
    for (i, (bv, cv)) in latency_values(b).into_iter().zip(latency_values(c)).enumerate() {
        let t = tol.latency[i];
        let (mut change, difference, relative_change) =
            judge(bv, cv, true, |b, c| (c - b).abs() <= LATENCY_FLOOR_MS || (c - b).abs() <= t * b);
        if (requests as f64) < SAMPLES_PER_TAIL / (1.0 - QUANTILES[i]) {
            change = Change::NotComparable;
        }
        rows.push(CompareRow {
            metric: format!("{}{scope}", LATENCY[i]),
            unit: "ms".into(),
            baseline: bv,
            current: cv,
            difference,
            relative_change,
            tolerance: rel(t),
            change,
        });
    }
}

/// Requests per second; lower is worse.
fn throughput_row(b: f64, c: f64, tolerance: f64) -> CompareRow {
    let (change, difference, relative_change) =
        judge(Some(b), Some(c), false, |b, c| (c - b).abs() <= tolerance * b);
    CompareRow {
        metric: "throughput".into(),
        unit: "per_second".into(),
        baseline: Some(b),
        current: Some(c),
        difference,
        relative_change,
        tolerance: rel(tolerance),
        change,
    }
}

/// A share (0–1) shown in percent, held to `tolerance_pp` points; higher
/// is worse.
fn percent_row(metric: &str, b: f64, c: f64, tolerance_pp: f64) -> CompareRow {
    let (b, c) = (100.0 * b, 100.0 * c);
    let (change, difference, relative_change) =
        judge(Some(b), Some(c), true, |b, c| (c - b).abs() <= tolerance_pp);
    CompareRow {
        metric: metric.into(),
        unit: "percent".into(),
        baseline: Some(b),
        current: Some(c),
        difference,
        relative_change,
        tolerance: pp(tolerance_pp),
        change,
    }
}

/// What makes the two runs differ besides the build: scenario, seed,
/// arrival profile.
fn caveats(baseline: &LoadResult, current: &LoadResult) -> Vec<String> {
    let mut notes = Vec::new();
    let (was, now) = (&baseline.header, &current.header);
    if was.scenario.name != now.scenario.name {
        notes.push(format!(
            "the results come from different scenarios ('{}' and '{}')",
            was.scenario.name, now.scenario.name
        ));
    }
    if was.seed != now.seed {
        notes.push(format!(
            "the seeds differ ({} and {}): the customers are not the same, so differences include sampling noise",
            was.seed, now.seed
        ));
    }
    if baseline.settings.profile != current.settings.profile {
        notes.push(format!(
            "the arrival profiles differ ('{}' and '{}')",
            baseline.settings.profile, current.settings.profile
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_parse_and_explain_mistakes() {
        let t = |text: &str| Tolerance::parse(text).unwrap();
        assert_eq!(Tolerances::with(&[t("p99=25%")]).latency[3], 0.25);
        assert_eq!(Tolerances::with(&[t("p99=25%"), t("latency=5%")]).latency, [0.05; 5]);
        assert_eq!(Tolerances::with(&[t("latency=5%"), t("p99=25%")]).latency[3], 0.25, "in order");
        assert_eq!(Tolerances::with(&[t("error_rate = 1pp")]).error_rate_pp, 1.0);
        let err = |text: &str| Tolerance::parse(text).unwrap_err().to_string();
        assert!(err("p99=25").contains("e.g. p99=10%"));
        assert!(err("error_rate=1%").contains("'pp'"));
        assert!(err("p98=1%").contains("unknown metric 'p98'"));
        assert!(err("p99").contains("METRIC=N%"));
    }

    #[test]
    fn judges_direction_and_tolerance() {
        let within = |b: f64, c: f64| (c - b).abs() <= 0.1 * b;
        assert_eq!(judge(Some(100.0), Some(109.0), true, within).0, Change::Same);
        assert_eq!(judge(Some(100.0), Some(111.0), true, within).0, Change::Regressed);
        assert_eq!(judge(Some(100.0), Some(80.0), true, within).0, Change::Improved);
        assert_eq!(judge(Some(100.0), Some(80.0), false, within).0, Change::Regressed);
        assert_eq!(judge(None, Some(80.0), true, within).0, Change::NotComparable);
    }
}
