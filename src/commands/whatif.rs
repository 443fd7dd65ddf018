//! `fogg whatif`: strategies against the baseline with common random
//! numbers, plus `--curve` and `--allocate` on the closed form.

use std::io::Write;

use anyhow::{Context, anyhow, bail};

use crate::cli::WhatifArgs;
use fogg_core::pool::on_pool;
use fogg_core::shard::Shard;
use fogg_core::verdict::Verdict;
use fogg_engine::whatif::allocate::{allocate, allocate_to};
use fogg_engine::whatif::curve::sweep;
use fogg_engine::whatif::data::data_intervals;
use fogg_engine::whatif::paired::refuse_saturated;
use fogg_engine::whatif::{Pairing, run_paired};
use fogg_model::posterior;
use fogg_model::{Model, Strategy};
use fogg_report as report;
use fogg_result::{AllocationResult, Baseline, CurveResult, StrategyRow, WhatifResult, WhatifRun};
use fogg_scenario::Scenario;
use fogg_scenario::change_text::change_strategy;

/// Runs the command, writing the report to `out`.
pub fn run(args: &WhatifArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let scenario = super::scenario(args.scenario.as_deref(), fogg_scenario::Use::Journeys)?;
    let model = &scenario.model;
    let per_period = model.customers_per_period.unwrap_or(args.customers as f64);
    let mut chosen = named_strategies(&scenario, &args.strategies)?;
    if !args.changes.is_empty() {
        chosen.push(change_strategy(&args.changes, model)?);
    }
    let quick = !args.changes.is_empty() || args.curve.is_some() || args.allocate.is_some();
    if chosen.is_empty() && !quick {
        if scenario.strategies.is_empty() {
            bail!(
                "scenario '{}' has no [[strategy]]: add one (docs/whatif.md), or ask a quick question with --change 'spend CHANNEL +20%'",
                model.source
            );
        }
        chosen = scenario.strategies.clone();
    }

    let curve =
        args.curve.as_deref().map(|id| curve(model, id, usize::from(args.points), per_period)).transpose()?;
    let allocation = match args.allocate {
        None => None,
        Some(budget) => {
            let (a, objective) = match args.target {
                None => (allocate(model, budget, args.objective, &args.bounds, per_period)?, args.objective),
                Some(target) => {
                    (allocate_to(model, budget, target, &args.bounds, per_period)?, target.objective())
                }
            };
            let used = a.spend.iter().sum::<f64>() + a.unspent;
            chosen.push(a.strategy(model, used, objective));
            let mut result = AllocationResult::new(model, &a, used, objective, per_period);
            if let Some(target) = args.target {
                result.target = Some(target.describe());
                result.budget_limit = Some(budget);
            }
            Some(result)
        }
    };

    let variants = chosen
        .iter()
        .map(|s| model.apply(&s.changes).map_err(|e| anyhow!("strategy '{}': {e}", s.id)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let shard = Shard::resolve(args.shard)?;
    let range = shard.customers(args.customers);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watched = std::sync::Arc::clone(&stop);
    super::stop_on_signal(move || watched.store(true, std::sync::atomic::Ordering::Relaxed));
    let paired = on_pool(args.threads.map(|t| t.get()), || {
        run_paired(model, &variants, args.seed, range.clone(), Pairing::Common, &stop)
    })
    .context("starting the worker threads")?;
    let (paired, elapsed_s) = (paired.value, paired.elapsed_s);
    refuse_saturated(std::iter::once(&paired.baseline).chain(&paired.variants), &model.source)?;

    let base = Baseline::of(model, per_period);
    let baseline_row = StrategyRow::baseline(model, &paired.baseline, &base);
    let rows = chosen
        .iter()
        .zip(&variants)
        .zip(&paired.variants)
        .map(|((s, v), m)| StrategyRow::new(s, v, m, &base));
    let interrupted = paired.baseline.n < range.end - range.start;
    let run = WhatifRun {
        customers_simulated: args.customers,
        shard,
        customers: range,
        seed: args.seed,
        elapsed_s,
        interrupted,
    };
    let mut strategies: Vec<StrategyRow> = std::iter::once(baseline_row).chain(rows).collect();
    if let Some(counts) = &scenario.counts {
        // A fitted scenario: how much its counts leave open, per strategy.
        let data = data_intervals(model, counts, &chosen, per_period, posterior::DRAWS, args.seed)
            .map_err(|e| anyhow!("scenario '{}': {e}", model.source))?;
        for (row, intervals) in strategies.iter_mut().zip(data) {
            row.data_ci95 = Some(intervals);
        }
    }
    let result = WhatifResult::new(model, &base, run, strategies, curve, allocation);
    let stem = shard.file_stem(super::simulate::stem(model));
    let output = args.report.to_output(false, &stem);
    report::publish(&result, &output, out)?;
    if result.interrupted {
        bail!(
            "interrupted by a signal: {} of {} customers walked (the reports above were still written, marked interrupted; they cannot be merged)",
            result.strategies[0].moments.n,
            result.customer_range[1] - result.customer_range[0]
        );
    }
    Ok(Verdict::Pass)
}

/// `--curve CHANNEL`: the channel's spend swept on the closed form.
fn curve(model: &Model, id: &str, points: usize, per_period: f64) -> anyhow::Result<CurveResult> {
    let channel = model.channel_id(id).ok_or_else(|| {
        anyhow!(
            "--curve {id}: unknown channel; {}",
            fogg_core::suggest::did_you_mean(id, model.channels.iter().map(|c| c.id.as_str()))
        )
    })?;
    let points = sweep(model, channel, points, per_period).map_err(|e| anyhow!("--curve {id}: {e}"))?;
    Ok(CurveResult::new(model, channel, points))
}

/// The scenario strategies named by `--strategy`, in the order given.
pub(super) fn named_strategies(scenario: &Scenario, ids: &[String]) -> anyhow::Result<Vec<Strategy>> {
    ids.iter()
        .map(|id| {
            scenario.strategies.iter().find(|s| &s.id == id).cloned().ok_or_else(|| {
                let known = scenario.strategies.iter().map(|s| s.id.as_str());
                anyhow!(
                    "--strategy {id}: scenario '{}' has no such strategy; {}",
                    scenario.model.source,
                    fogg_core::suggest::did_you_mean(id, known)
                )
            })
        })
        .collect()
}
