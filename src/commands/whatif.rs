//! `fogg whatif`: strategies against the baseline with common random
//! numbers, plus `--curve` and `--allocate` on the closed form.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};

use crate::cli::WhatifArgs;
use crate::model::{Model, Strategy, Variant};
use crate::report;
use crate::report::ReportFormat;
use crate::result::{
    AllocationResult, AllocationRow, CurvePointRow, CurveResult, SCHEMA_VERSION, SpendRow, StrategyRow,
    WhatifResult,
};
use crate::scenario::Scenario;
use crate::scenario::change_text::parse_change;
use crate::shard::Shard;
use crate::verdict::Verdict;
use crate::whatif::allocate::{Objective, allocate};
use crate::whatif::curve::sweep;
use crate::whatif::{ExactFigures, PairedMoments, Pairing, run_paired};

/// Runs the command, writing the report to `out`.
pub fn run(args: &WhatifArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    args.report.check("whatif", ReportFormat::DOCUMENTS)?;
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

    let curve = match &args.curve {
        None => None,
        Some(id) => Some(curve(model, id, usize::from(args.points), per_period)?),
    };
    let allocation = match args.allocate {
        None => None,
        Some(budget) => {
            let a = allocate(model, budget, args.objective, &args.bounds, per_period)
                .map_err(anyhow::Error::msg)?;
            let written = a
                .channels
                .iter()
                .zip(&a.spend)
                .map(|(c, s)| format!("spend {} ={:.0}", model.channels[c.0 as usize].id, s))
                .collect();
            chosen.push(Strategy {
                id: "allocation".to_owned(),
                description: Some(format!(
                    "{budget:.0} per {} split to maximise {}",
                    model.period,
                    objective_name(args.objective)
                )),
                changes: a.changes(),
                written,
            });
            Some(allocation_result(model, &a, budget, args.objective, per_period))
        }
    };

    let baseline = model.baseline();
    let variants = chosen
        .iter()
        .map(|s| model.apply(&s.changes).map_err(|e| anyhow!("strategy '{}': {e}", s.id)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        pool = pool.num_threads(t.get());
    }
    let pool = pool.build().context("starting the worker threads")?;
    let started = Instant::now();
    let shard = Shard::resolve(args.shard).map_err(anyhow::Error::msg)?;
    let range = shard.customers(args.customers);
    let run = pool.install(|| run_paired(model, &variants, args.seed, range.clone(), Pairing::Common));
    let elapsed_s = started.elapsed().as_secs_f64();

    let base_spend: f64 = baseline.spend.iter().sum();
    let base_exact = ExactFigures::of(&baseline, per_period);
    let mut strategies = vec![row(
        "baseline",
        Some("the scenario as it is".to_owned()),
        Vec::new(),
        &baseline,
        &run.baseline,
        per_period,
        base_spend,
        &base_exact,
    )];
    for ((s, v), m) in chosen.iter().zip(&variants).zip(&run.variants) {
        strategies.push(row(
            &s.id,
            s.description.clone(),
            s.written.clone(),
            v,
            m,
            per_period,
            base_spend,
            &base_exact,
        ));
    }
    let result = WhatifResult {
        schema_version: SCHEMA_VERSION,
        kind: crate::result::ResultKind::Whatif,
        fogg_version: env!("CARGO_PKG_VERSION").to_owned(),
        source: model.source.clone(),
        scenario: model.name.clone(),
        currency: model.currency.clone(),
        period: model.period.clone(),
        customers_per_period: per_period,
        customers_simulated: args.customers,
        shard,
        customer_range: [range.start, range.end],
        seed: args.seed,
        elapsed_s,
        spend_channels: model
            .channels
            .iter()
            .filter_map(|c| {
                c.spend.map(|s| SpendRow {
                    channel: c.id.clone(),
                    mechanism: s.drives,
                    baseline: s.baseline,
                    half_saturation: s.half_saturation,
                    slope: s.slope,
                })
            })
            .collect(),
        strategies,
        curve,
        allocation,
    };
    let stem = shard.file_stem(super::simulate::stem(model));
    let output = args.report.to_output(false, &stem);
    report::publish(&result, &output, out)?;
    Ok(Verdict::Pass)
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

fn objective_name(o: Objective) -> &'static str {
    match o {
        Objective::Conversions => "conversions",
        Objective::Revenue => "revenue",
    }
}

/// One strategy's row: the closed form's values, then the simulated
/// figures with paired intervals from `moments`.
#[allow(clippy::too_many_arguments)]
fn row(
    id: &str,
    description: Option<String>,
    changes: Vec<String>,
    variant: &Variant,
    moments: &PairedMoments,
    per_period: f64,
    base_spend: f64,
    base_exact: &ExactFigures,
) -> StrategyRow {
    let exact = ExactFigures::of(variant, per_period);
    let mut row = StrategyRow {
        id: id.to_owned(),
        description,
        changes,
        notes: variant.notes.clone(),
        customers: per_period * variant.population,
        conversions: 0.0,
        exact_conversions: exact.conversions,
        conversion_rate: 0.0,
        exact_conversion_rate: exact.conversion_rate,
        revenue: 0.0,
        exact_revenue: exact.revenue,
        spend: variant.spend.iter().sum(),
        cost: 0.0,
        exact_cost: exact.cost,
        cpa: None,
        roas: None,
        delta_conversions: 0.0,
        delta_conversions_ci95: [0.0; 2],
        exact_delta_conversions: exact.conversions - base_exact.conversions,
        delta_conversion_rate: 0.0,
        delta_conversion_rate_ci95: [0.0; 2],
        delta_revenue: 0.0,
        delta_revenue_ci95: [0.0; 2],
        delta_spend: variant.spend.iter().sum::<f64>() - base_spend,
        delta_cost: 0.0,
        delta_cost_ci95: [0.0; 2],
        delta_cpa: None,
        delta_cpa_ci95: None,
        delta_roas: None,
        delta_roas_ci95: None,
        incremental_cpa: None,
        incremental_cpa_ci95: None,
        truncated: 0,
        moments: PairedMoments::default(),
    };
    row.refigure(moments.clone(), per_period, base_spend);
    row
}

fn curve(model: &Model, id: &str, points: usize, per_period: f64) -> anyhow::Result<CurveResult> {
    let channel = model.channel_id(id).ok_or_else(|| {
        anyhow!(
            "--curve {id}: unknown channel; {}",
            crate::suggest::did_you_mean(id, model.channels.iter().map(|c| c.id.as_str()))
        )
    })?;
    let points = sweep(model, channel, points, per_period).map_err(|e| anyhow!("--curve {id}: {e}"))?;
    let spend =
        model.channels[channel.0 as usize].spend.expect("sweep takes only channels that declare spend");
    let finite = |x: f64| x.is_finite().then_some(x);
    let points = points
        .into_iter()
        .map(|p| CurvePointRow {
            spend: p.spend,
            multiplier: p.multiplier,
            conversions: p.exact.conversions,
            revenue: p.exact.revenue,
            cost: p.exact.cost,
            roas: finite(p.exact.revenue / p.exact.cost),
            marginal_conversions: finite(p.marginal_conversions),
            marginal_roas: finite(p.marginal_roas),
        })
        .collect();
    Ok(CurveResult {
        channel: id.to_owned(),
        mechanism: spend.drives.name().to_owned(),
        baseline_spend: spend.baseline,
        half_saturation: spend.half_saturation,
        slope: spend.slope,
        points,
    })
}

fn allocation_result(
    model: &Model,
    a: &crate::whatif::allocate::Allocation,
    budget: f64,
    objective: Objective,
    per_period: f64,
) -> AllocationResult {
    let today = ExactFigures::of(&model.baseline(), per_period);
    let channels = a
        .channels
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let ch = &model.channels[c.0 as usize];
            let spend = ch.spend.expect("allocated channels declare spend");
            AllocationRow {
                channel: ch.id.clone(),
                mechanism: spend.drives.name().to_owned(),
                today: spend.baseline,
                allocated: a.spend[k],
                min: a.bounds[k].0,
                max: a.bounds[k].1.is_finite().then_some(a.bounds[k].1),
                marginal: a.marginal[k],
            }
        })
        .collect();
    AllocationResult {
        budget,
        objective: objective_name(objective).to_owned(),
        channels,
        conversions: a.exact.conversions,
        revenue: a.exact.revenue,
        baseline_conversions: today.conversions,
        baseline_revenue: today.revenue,
        next_unit: model.channels[a.next_unit().0 as usize].id.clone(),
        unspent: a.unspent,
    }
}
