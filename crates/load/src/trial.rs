//! How long a capacity trial of a scenario should last: long enough for
//! the request rate to reach its steady level, which takes about one
//! journey (touchpoints per customer × mean think time).

use std::time::Duration;

use super::spec::LoadSpec;
use fogg_model::Model;

/// The default trial length: three mean journey durations, at least 10 s
/// and at most 60 s.
pub fn default_trial(model: &Model, spec: &LoadSpec) -> Duration {
    Duration::from_secs_f64((3.0 * mean_journey_s(model, spec)).clamp(10.0, 60.0))
}

/// Seconds a mean journey takes: touchpoints per customer × mean think
/// time.
pub fn mean_journey_s(model: &Model, spec: &LoadSpec) -> f64 {
    model.exact().steps_per_customer * spec.think_time.mean()
}

/// A warning when trials are shorter than three mean journeys (the
/// default is exactly three unless clamped: no warning then).
pub fn short_trial_note(model: &Model, spec: &LoadSpec, trial: Duration) -> Option<String> {
    let journey = mean_journey_s(model, spec);
    (trial.as_secs_f64() < 3.0 * journey * (1.0 - 1e-9)).then(|| {
        format!(
            "trials of {:.1} s are shorter than three mean journeys ({:.1} s each): the request rate may not reach its steady level",
            trial.as_secs_f64(),
            journey
        )
    })
}
