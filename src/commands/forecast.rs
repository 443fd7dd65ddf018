//! `fogg forecast`: the baseline and the strategies asked for, placed in
//! the scenario's campaign calendar.

use std::io::Write;

use anyhow::{anyhow, bail};

use crate::cli::ForecastArgs;
use fogg_core::pool::on_pool;
use fogg_core::shard::Shard;
use fogg_core::verdict::Verdict;
use fogg_engine::forecast::expected::expected;
use fogg_engine::forecast::{Flighting, ForecastPlan, Grid, RequestMap, Subject, forecast};
use fogg_model::Strategy;
use fogg_report as report;
use fogg_result::{ForecastResult, ForecastRun, VariantRun};
use fogg_scenario::change_text::change_strategy;

/// Runs the command, writing the report to `out`.
pub fn run(args: &ForecastArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let scenario = super::scenario(args.scenario.as_deref(), fogg_scenario::Use::Traffic)?;
    let model = &scenario.model;
    let Some(calendar) = &scenario.calendar else {
        bail!(
            "scenario '{}' has no [calendar]: add one with the campaign's window (`start`, `days`) and its `customers_per_period` (docs/scenario.md#calendar)",
            model.source
        );
    };
    let per_period = model.customers_per_period.ok_or_else(|| {
        anyhow!("scenario '{}' gives no customers_per_period: add it to [scenario]", model.source)
    })?;
    let mut chosen: Vec<Strategy> = super::whatif::named_strategies(&scenario, &args.strategies)?;
    if !args.changes.is_empty() {
        chosen.push(change_strategy(&args.changes, model)?);
    }
    let mut variants = vec![(None, model.baseline())];
    for s in &chosen {
        let v = model.apply(&s.changes).map_err(|e| anyhow!("strategy '{}': {e}", s.id))?;
        variants.push((Some(s), v));
    }
    let map = scenario.load.as_ref().map_or_else(|| empty_map(model.states.len()), |l| l.request_map());
    let grid = Grid::new(calendar, args.resolution);
    check_bins(&grid, args.resolution)?;
    let shard = Shard::resolve(args.shard)?;
    let plan = ForecastPlan { seed: args.seed, replicates: shard_replicates(shard, args.replicates)? };
    let flightings: Vec<Flighting> = variants
        .iter()
        .map(|(strategy, v)| {
            Flighting::new(model, v, calendar).map_err(|e| match strategy {
                Some(s) => anyhow!("strategy '{}': {e}", s.id),
                None => anyhow!("scenario '{}': {e}", model.source),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    // Customers at the base rate over the window, then as each variant's
    // spend (level, flights, adstock) moves them.
    let base = calendar.customers(per_period);
    let subjects: Vec<Subject> = variants
        .iter()
        .zip(&flightings)
        .map(|((_, v), f)| Subject {
            model: &v.model,
            customers: base * v.population * f.arrivals.total() / calendar.minutes().total(),
            flighting: f,
        })
        .collect();
    check_walked(&subjects, &plan)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watched = std::sync::Arc::clone(&stop);
    super::stop_on_signal(move || watched.store(true, std::sync::atomic::Ordering::Relaxed));
    let timed = on_pool(args.threads.map(|t| t.get()), || {
        let totals = forecast(&subjects, &grid, &map, &plan, &stop);
        let expectations: Vec<_> = subjects
            .iter()
            .map(|s| expected(s.model, calendar, s.flighting, s.customers, &grid, &map))
            .collect();
        (totals, expectations)
    })?;
    let (totals, expectations) = &timed.value;
    let runs: Vec<VariantRun> = variants
        .iter()
        .zip(&subjects)
        .zip(totals.iter().zip(expectations))
        .map(|(((strategy, variant), subject), (totals, expected))| {
            let (day_spend, spend) = subject.flighting.spend_by_day(calendar, &grid);
            VariantRun {
                id: strategy.map_or_else(|| "baseline".to_owned(), |s| s.id.clone()),
                description: strategy.and_then(|s| s.description.clone()),
                changes: strategy.map_or_else(Vec::new, |s| s.written.clone()),
                model: &variant.model,
                expected_customers: subject.customers,
                spend,
                day_spend,
                totals,
                expected,
            }
        })
        .collect();
    let run = ForecastRun {
        seed: args.seed,
        replicates: plan.replicates.clone(),
        run_replicates: args.replicates,
        shard,
        threads: timed.threads,
        elapsed_s: timed.elapsed_s,
    };
    let mut result = ForecastResult::new(model, calendar, &grid, &map.names, &runs, &run);
    if scenario.load.is_none() {
        result.notes.push(format!(
            "scenario '{}' has no [load]: no state sends requests, so the traffic is arrivals only",
            model.source
        ));
    }
    let stem = shard.file_stem(super::simulate::stem(model));
    publish(result, plan.replicates.len(), args, &stem, out)
}

/// Writes the reports; a run a signal stopped (of `asked` replicates) says
/// so in them, then fails.
fn publish(
    mut result: ForecastResult,
    asked: usize,
    args: &ForecastArgs,
    stem: &str,
    out: &mut dyn Write,
) -> anyhow::Result<Verdict> {
    let done = result.replicates;
    if result.interrupted {
        result.notes.push(format!(
            "interrupted by a signal: the figures are of the {done} replicates that finished, of {asked} asked"
        ));
    }
    report::publish(&result, &args.report.to_output(false, stem), out)?;
    if result.interrupted {
        bail!(
            "interrupted by a signal: {done} of {asked} replicates finished (the reports above were still written, marked interrupted; they cannot be merged)"
        );
    }
    Ok(Verdict::Pass)
}

/// No requests for any of `states` states.
fn empty_map(states: usize) -> RequestMap {
    RequestMap { names: Vec::new(), per_state: vec![Vec::new(); states] }
}

/// Refuses a grid of more bins than a forecast keeps.
fn check_bins(grid: &Grid, resolution: u32) -> anyhow::Result<()> {
    if grid.bins > fogg_engine::forecast::MAX_BINS {
        bail!(
            "--resolution {} s over this {}-day window makes {} bins, more than the {} a forecast keeps: choose a coarser --resolution",
            resolution,
            grid.days.len(),
            grid.bins,
            fogg_engine::forecast::MAX_BINS
        );
    }
    Ok(())
}

/// The replicates `shard` walks of `replicates`, refused when it holds
/// none.
fn shard_replicates(shard: Shard, replicates: u32) -> anyhow::Result<std::ops::Range<u32>> {
    let range = shard.customers(u64::from(replicates));
    if range.is_empty() {
        bail!(
            "shard {shard} of a forecast with {replicates} replicates holds none: shards split replicates, so use at most {replicates} shards or more --replicates"
        );
    }
    Ok(range.start as u32..range.end as u32)
}

/// Refuses a forecast that would walk more customers than one run may.
fn check_walked(subjects: &[Subject], plan: &ForecastPlan) -> anyhow::Result<()> {
    let walked: f64 =
        subjects.iter().map(|s| s.customers).sum::<f64>() * f64::from(plan.replicates.len() as u32);
    if walked.is_nan() || walked > fogg_engine::forecast::MAX_WALKED {
        bail!(
            "this forecast would walk about {:.3e} customers ({} replicates of about {:.3e} each): more than the {:.0e} one run walks; lower --replicates (or split them with --shard I/N) or the scenario's customers_per_period",
            walked,
            plan.replicates.len(),
            subjects.first().map_or(0.0, |s| s.customers),
            fogg_engine::forecast::MAX_WALKED
        );
    }
    Ok(())
}
