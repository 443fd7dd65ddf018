//! `fogg capacity`: load trials at constant rates, stepping up then
//! bisecting, to find the highest rate at which every threshold holds.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use super::load::LoadSetup;
use crate::cli::{CapacityArgs, ExpectedPeak, LoadRunArgs};
use fogg_core::capacity::{SearchBounds, search};
use fogg_core::shard::Shard;
use fogg_load::live::Live;
use fogg_load::plan::{RateProfile, Workload};
use fogg_load::signals::{say_when_signalled, signal_counter};
use fogg_load::target::Target;
use fogg_load::threshold::{self, Threshold};
use fogg_load::trial::{default_trial, short_trial_note};
use fogg_load::{LoadPlan, StopReason, run as run_load};
use fogg_report as report;
use fogg_result::{CapacityResult, CapacitySearch, ForecastPeak, LoadResult, TrialRow, Verdict};

/// Pause between trials, so the target drains the previous one's queue.
const PAUSE: Duration = Duration::from_secs(1);

/// A trial that fails hard (more than this share of requests failing)
/// stops early.
const HARD_FAILURE_ERROR_RATE: f64 = 0.5;

/// Why the search stopped before it finished.
enum Stop {
    Interrupted,
    DeadTarget,
    Error(anyhow::Error),
}

/// Runs the command, writing the report to `out`.
pub fn run(args: &CapacityArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    // Installed before anything else, so Ctrl-C or SIGTERM during setup or
    // between trials stops the search, and is never the default "terminate".
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let signals = runtime.block_on(async {
        let signals = signal_counter();
        say_when_signalled(signals.clone(), "stopping the search; the reports will say what passed so far");
        signals
    });
    let common = &args.run;
    let LoadSetup { model, spec, mut thresholds, calendar } = LoadSetup::of(common)?;
    let (expected_peak, forecast_peaks, peak_source) =
        expected_peak(args.expected_peak.as_ref(), calendar.as_ref(), &model)?;
    check_search(args, &thresholds)?;
    let guard = threshold::guard_errors(&mut thresholds);
    let trial = args.trial.unwrap_or_else(|| default_trial(&model, &spec));
    let grace = (trial / 4).clamp(Duration::from_secs(1), Duration::from_secs(10));
    // No trial goes above --max-rate: its plan is the one to check.
    trial_plan(common, args.max_rate, trial, grace).check_rate()?;
    trial_plan(common, args.max_rate, trial, grace).check_open_files(spec.max_in_flight)?;
    let mut notes: Vec<String> = guard.into_iter().chain(short_trial_note(&model, &spec, trial)).collect();
    let stem = super::simulate::stem(&model);
    let model = Arc::new(model);
    let target = runtime.block_on(Target::start(common.target.target.as_ref(), common.target.demo()?))?;
    // The metrics count every trial: Prometheus sees the whole search.
    let live = runtime.block_on(Live::start(&common.live(None), &model.name, Shard::WHOLE))?;
    let mut rows: Vec<TrialRow> = Vec::new();
    let bounds = SearchBounds { start: args.start_rate, max: args.max_rate };
    let found = search(bounds, |rate| {
        if *signals.borrow() > 0 {
            return Err(Stop::Interrupted);
        }
        let plan = trial_plan(common, rate, trial, grace);
        // Each trial is a run of its own in an APM, even with --run-id.
        let plan = LoadPlan { run_id: plan.run_id.wrapping_add(rows.len() as u64), ..plan };
        let outcome = runtime
            .block_on(run_load(
                Arc::clone(&model),
                spec.clone(),
                target.url(),
                &plan,
                signals.clone(),
                live.as_ref(),
            ))
            .map_err(Stop::Error)?;
        let mut result = LoadResult::new(&model, &spec, &plan, target.url(), &outcome);
        result.check(&thresholds);
        let row = TrialRow::new(rate, &result);
        if !common.quiet {
            fogg_core::say!("{}", report::trial_line(rows.len() + 1, &row));
        }
        let passed = row.passed;
        rows.push(row);
        if result.stopped_by == StopReason::Interrupted {
            return Err(Stop::Interrupted);
        }
        if result.refused_every_connection() {
            return Err(Stop::DeadTarget);
        }
        std::thread::sleep(PAUSE);
        Ok(passed)
    });
    let (found, stop) = match found {
        Ok(found) => (Some(found), None),
        Err(Stop::Error(e)) => return Err(e),
        Err(stop) => (None, Some(stop)),
    };
    let search = CapacitySearch {
        seed: common.seed,
        target: target.url().to_owned(),
        thresholds: thresholds.iter().map(|t| t.expr.clone()).collect(),
        trial,
        start_rate: args.start_rate,
        max_rate: args.max_rate,
        expected_peak,
        forecast_peaks,
        found,
        trials: rows,
    };
    let mut result = CapacityResult::new(&model, search);
    match stop {
        Some(Stop::Interrupted) => {
            notes.push("stopped by a signal: the capacity is the highest rate that passed before it".into())
        }
        Some(Stop::DeadTarget) => notes.push(format!(
            "the target {} looks down: every request of the last trial failed to connect, so the search stopped there (is it running, on that port?)",
            target.url()
        )),
        _ => {}
    }
    notes.extend(peak_source);
    result.notes = notes;
    // Signals from now on end the waits for metrics receivers.
    let seen = *signals.borrow();
    let output = common.report.to_output(common.quiet, &stem);
    let published = report::publish(&result, &output, out);
    if let Some(live) = live {
        runtime.block_on(live.finish(None, signals.clone(), seen));
    }
    published?;
    if matches!(stop, Some(Stop::DeadTarget)) {
        bail!(
            "the target {} did not answer: every request of the last trial failed to connect (the reports above were still written)",
            result.target
        );
    }
    Ok(result.verdict)
}

/// A search needs a threshold and a start rate no higher than the maximum.
fn check_search(args: &CapacityArgs, thresholds: &[Threshold]) -> anyhow::Result<()> {
    if thresholds.is_empty() {
        bail!(
            "capacity needs at least one threshold to search against: add --threshold 'p99 < 500ms' (or [load.thresholds] in the scenario)"
        );
    }
    if args.start_rate > args.max_rate {
        bail!(
            "--start-rate {} is above --max-rate {}: lower the start or raise the maximum",
            args.start_rate,
            args.max_rate
        );
    }
    Ok(())
}

/// One trial: a constant rate for `trial`, stopped early when it fails
/// hard.
fn trial_plan(args: &LoadRunArgs, rate: f64, trial: Duration, grace: Duration) -> LoadPlan {
    LoadPlan {
        progress: false,
        abort_on_error_rate: Some(HARD_FAILURE_ERROR_RATE),
        judging: None,
        ..args.plan(trial, Workload::Open(RateProfile::Constant(rate)), grace)
    }
}

/// The peak to judge the capacity against, a forecast's peaks per
/// strategy when it came from one, and a note on where it came from.
fn expected_peak(
    asked: Option<&ExpectedPeak>,
    calendar: Option<&fogg_core::calendar::Calendar>,
    model: &fogg_model::Model,
) -> anyhow::Result<(Option<f64>, Vec<ForecastPeak>, Option<String>)> {
    match asked {
        None => Ok((None, Vec::new(), None)),
        Some(ExpectedPeak::Rate(r)) => Ok((Some(*r), Vec::new(), None)),
        Some(ExpectedPeak::Calendar) => {
            let Some(c) = calendar else {
                anyhow::bail!(
                    "--expected-peak calendar: scenario '{}' has no [calendar]; add one (docs/scenario.md#calendar) or give the peak in customers per second",
                    model.source
                )
            };
            // The busiest minute of arrivals, as flights and adstock move them.
            let (m, customers) = fogg_engine::forecast::Flighting::baseline_customers(model, c)?.busiest(1);
            let at = m as f64 * 60.0;
            let rate = customers / 60.0;
            let note = format!(
                "expected peak: the busiest minute of the scenario's calendar, {} ({}), {} customers arriving ({}/s)",
                c.local(at),
                c.timezone,
                fogg_report::fmt::num(customers, 1),
                fogg_report::fmt::num(rate, 3)
            );
            Ok((Some(rate), Vec::new(), Some(note)))
        }
        Some(ExpectedPeak::Forecast(path)) => {
            let forecast = super::replay::read_forecast(path, "--expected-peak")?;
            let peaks: Vec<ForecastPeak> = forecast
                .variants
                .iter()
                .map(|v| ForecastPeak {
                    strategy: v.id.clone(),
                    at: format!("{} ({})", v.peak.customers_at, forecast.window.timezone),
                    resolution_s: forecast.window.resolution_s,
                    customers_per_s: v.peak.customers_per_s_ci95[1],
                    median_customers_per_s: v.peak.customers_per_s,
                    headroom: None,
                })
                .collect();
            let Some(highest) = peaks.iter().map(|p| p.customers_per_s).reduce(f64::max) else {
                bail!("--expected-peak {}: the forecast has no strategy", path.display());
            };
            if highest.is_nan() || highest <= 0.0 {
                bail!(
                    "--expected-peak {}: the forecast's peak is {highest} customers/s, nothing to hold; forecast a scenario whose calendar brings customers",
                    path.display()
                );
            }
            let mut note = format!(
                "expected peak: the highest of the forecast {}'s peaks per strategy (the top of the range 95% of its {} replicates fall in, over {} s bins)",
                path.display(),
                forecast.replicates,
                forecast.window.resolution_s
            );
            if forecast.header.scenario.source != model.source {
                note += &format!(
                    "; the forecast is of scenario {}, the trials of {}: their journeys may differ",
                    forecast.header.scenario.source, model.source
                );
            }
            Ok((Some(highest), peaks, Some(note)))
        }
    }
}
