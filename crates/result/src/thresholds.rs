//! Evaluating thresholds on a finished load result: the observed value of
//! each metric, read from the result's own figures.

use super::{LoadResult, Percentiles};
use fogg_load::threshold::{Metric, Scope, Stat, Threshold, ThresholdResult, Unit};

fn stat(p: &Percentiles, s: Stat) -> Option<f64> {
    match s {
        Stat::P50 => p.p50,
        Stat::P90 => p.p90,
        Stat::P95 => p.p95,
        Stat::P99 => p.p99,
        Stat::P999 => p.p999,
        Stat::Max => p.max,
        Stat::Mean => p.mean,
    }
}

fn share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| 100.0 * part / whole)
}

/// The observed value of a threshold's metric, in its unit; `None` when
/// nothing was measured (e.g. no requests, so no latency).
fn observe(t: &Threshold, r: &LoadResult) -> Option<f64> {
    // Requests, errors and latency of the scope.
    let (requests, errors, latency) = match &t.scope {
        Scope::All | Scope::Class(_) => (r.requests, r.errors, &r.latency_ms),
        Scope::Request(name) => {
            let row = r.by_request.iter().find(|q| q.name == *name)?;
            (row.requests, row.errors, &row.latency_ms)
        }
        Scope::State(id) => {
            let row = r.by_state.iter().find(|q| q.name == *id)?;
            (row.requests, row.errors, &row.latency_ms)
        }
    };
    let failed = match t.scope {
        Scope::Class(k) => errors.of(k),
        _ => errors.total(),
    };
    let counterfactual_revenue = r.revenue + r.revenue_at_risk;
    let lost = (r.conversions_lost_to_latency + r.conversions_lost_to_errors) as f64;
    match (t.metric, t.unit) {
        (Metric::Latency(s), _) => stat(latency, s),
        (Metric::ErrorRate, _) => share(failed as f64, requests as f64),
        (Metric::Errors, _) => Some(failed as f64),
        (Metric::ConversionsLost, Unit::Percent) => share(lost, r.counterfactual_conversions as f64),
        (Metric::ConversionsLost, _) => Some(lost),
        (Metric::RevenueAtRisk, Unit::Percent) => share(r.revenue_at_risk, counterfactual_revenue),
        (Metric::RevenueAtRisk, _) => Some(r.revenue_at_risk),
        (Metric::Throughput, _) => (r.duration_s > 0.0).then(|| requests as f64 / r.duration_s),
        (Metric::ArrivalRate, _) => Some(r.achieved_arrival_rate),
        (Metric::DroppedArrivals, Unit::Percent) => share(r.arrivals_dropped as f64, r.arrivals as f64),
        (Metric::DroppedArrivals, _) => Some(r.arrivals_dropped as f64),
    }
}

/// Evaluates every threshold on `result`. A threshold with nothing to
/// observe fails: no evidence is not a pass.
pub fn evaluate(thresholds: &[Threshold], result: &LoadResult) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let observed = observe(t, result);
            ThresholdResult {
                expr: t.expr.clone(),
                key: t.key(),
                op: t.op,
                limit: t.limit,
                observed,
                unit: t.unit,
                passed: observed.is_some_and(|v| t.op.holds(v, t.limit)),
            }
        })
        .collect()
}
