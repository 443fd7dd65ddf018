//! `fogg whatif`: strategies against the baseline with common random
//! numbers, plus `--curve` and `--allocate` on the closed form.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};

use crate::cli::WhatifArgs;
use crate::model::{Model, Strategy};
use crate::report;
use crate::result::{AllocationResult, Baseline, CurveResult, StrategyRow, WhatifResult, WhatifRun};
use crate::scenario::Scenario;
use crate::scenario::change_text::parse_change;
use crate::shard::Shard;
use crate::verdict::Verdict;
use crate::whatif::allocate::{Allocation, Objective, allocate};
use crate::whatif::curve::sweep;
use crate::whatif::{Pairing, run_paired};

/// Runs the command, writing the report to `out`.
pub fn run(args: &WhatifArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let scenario = crate::scenario::load(args.scenario.as_deref())?;
    let model = &scenario.model;
    let per_period = model.customers_per_period.unwrap_or(args.customers as f64);
    let mut chosen = named_strategies(&scenario, &args.strategies)?;
    if !args.changes.is_empty() {
        let changes = args
            .changes
            .iter()
            .map(|text| parse_change(text, model).map_err(|e| anyhow!("--change '{text}': {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        chosen.push(Strategy {
            id: "change".to_owned(),
            description: Some("the --change options".to_owned()),
            changes,
            written: args
                .changes
                .iter()
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect(),
        });
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
            let a = allocate(model, budget, args.objective, &args.bounds, per_period)?;
            chosen.push(allocation_strategy(model, &a, budget, args.objective));
            Some(AllocationResult::new(model, &a, budget, args.objective, per_period))
        }
    };

    let variants = chosen
        .iter()
        .map(|s| model.apply(&s.changes).map_err(|e| anyhow!("strategy '{}': {e}", s.id)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let shard = Shard::resolve(args.shard)?;
    let range = shard.customers(args.customers);
    let (paired, elapsed_s) = run_on_pool(args.threads.map(|t| t.get()), || {
        run_paired(model, &variants, args.seed, range.clone(), Pairing::Common)
    })?;

    let base = Baseline::of(model, per_period);
    let baseline_row = StrategyRow::new(
        "baseline",
        Some("the scenario as it is".to_owned()),
        Vec::new(),
        &model.baseline(),
        &paired.baseline,
        &base,
    );
    let rows =
        chosen.iter().zip(&variants).zip(&paired.variants).map(|((s, v), m)| {
            StrategyRow::new(&s.id, s.description.clone(), s.written.clone(), v, m, &base)
        });
    let run = WhatifRun {
        customers_simulated: args.customers,
        shard,
        customers: range,
        seed: args.seed,
        elapsed_s,
    };
    let strategies = std::iter::once(baseline_row).chain(rows).collect();
    let result = WhatifResult::new(model, &base, run, strategies, curve, allocation);
    let stem = shard.file_stem(super::simulate::stem(model));
    let output = args.report.to_output(false, &stem);
    report::publish(&result, &output, out)?;
    Ok(Verdict::Pass)
}

/// Runs `work` on a pool of `threads` workers (one per core when `None`);
/// returns its value and the seconds it took.
fn run_on_pool<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> anyhow::Result<(T, f64)> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        pool = pool.num_threads(t);
    }
    let pool = pool.build().context("starting the worker threads")?;
    let started = Instant::now();
    let value = pool.install(work);
    Ok((value, started.elapsed().as_secs_f64()))
}

/// The split `--allocate` found, as the strategy `allocation`.
fn allocation_strategy(model: &Model, a: &Allocation, budget: f64, objective: Objective) -> Strategy {
    let written = a
        .channels
        .iter()
        .zip(&a.spend)
        .map(|(c, s)| format!("spend {} ={:.0}", model.channels[c.0 as usize].id, s))
        .collect();
    Strategy {
        id: "allocation".to_owned(),
        description: Some(format!("{budget:.0} per {} split to maximise {}", model.period, objective.name())),
        changes: a.changes(),
        written,
    }
}

/// `--curve CHANNEL`: the channel's spend swept on the closed form.
fn curve(model: &Model, id: &str, points: usize, per_period: f64) -> anyhow::Result<CurveResult> {
    let channel = model.channel_id(id).ok_or_else(|| {
        anyhow!(
            "--curve {id}: unknown channel; {}",
            crate::suggest::did_you_mean(id, model.channels.iter().map(|c| c.id.as_str()))
        )
    })?;
    let points = sweep(model, channel, points, per_period).map_err(|e| anyhow!("--curve {id}: {e}"))?;
    Ok(CurveResult::new(model, channel, points))
}

/// The scenario strategies named by `--strategy`, in the order given.
fn named_strategies(scenario: &Scenario, ids: &[String]) -> anyhow::Result<Vec<Strategy>> {
    ids.iter()
        .map(|id| {
            scenario.strategies.iter().find(|s| &s.id == id).cloned().ok_or_else(|| {
                let known = scenario.strategies.iter().map(|s| s.id.as_str());
                anyhow!(
                    "--strategy {id}: scenario '{}' has no such strategy; {}",
                    scenario.model.source,
                    crate::suggest::did_you_mean(id, known)
                )
            })
        })
        .collect()
}
