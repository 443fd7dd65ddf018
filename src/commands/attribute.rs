//! `fogg attribute`: exact Markov attribution of a path file, or of a
//! scenario's own chain.

use std::io::Write;

use anyhow::bail;

use crate::attribution::{Attribution, Paths, attribute};
use crate::cli::AttributeArgs;
use crate::model::ChannelId;
use crate::report;
use crate::result::{AttributionResult, ChannelAttribution, Header, ResultKind, ScenarioInfo};
use crate::shard::Shard;
use crate::sim::SimPlan;
use crate::verdict::Verdict;

/// Runs the command, writing the report to `out`.
pub fn run(args: &AttributeArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let order = usize::from(args.order);
    let (mut result, paths, fitted) = match &args.paths {
        Some(file) => {
            let paths = Paths::read(file, args.separator)?;
            let a = attribute(&paths, order, args.max_steps)?;
            let effects: Vec<f64> = a.credits.iter().map(|c| c.removal_effect).collect();
            let result = build(
                file.display().to_string(),
                None,
                args.seed,
                &paths,
                &a,
                &effects,
                a.conversion_probability,
            );
            (result, paths, a)
        }
        None => {
            let model = crate::scenario::load(args.scenario.as_deref())?.model;
            let n = args.customers;
            let plan = SimPlan {
                seed: args.seed,
                customers: 0..n,
                run_customers: n,
                export_paths: true,
                shard: Shard::WHOLE,
            };
            let outcome = super::simulate::simulate_with_progress(&model, &plan, None)?.outcome;
            let export = outcome.agg.export.as_ref().expect("paths are kept when exporting");
            let paths = Paths::from_export(&model, export);
            let fitted = attribute(&paths, order, args.max_steps)?;
            // The truth: removal effects of the scenario's own chain.
            let p = model.exact().conversion_rate;
            if p <= 0.0 {
                bail!("scenario '{}' converts nobody: there is nothing to attribute", model.source);
            }
            let effects: Vec<f64> = (0..model.channels.len())
                .map(|c| (1.0 - model.conversion_rate_without(ChannelId(c as u8)) / p).max(0.0))
                .collect();
            let info = ScenarioInfo::of(&model);
            (build(model.source.clone(), Some(info), args.seed, &paths, &fitted, &effects, p), paths, fitted)
        }
    };
    if let Some(journeys) = args.simulate {
        let sim = fitted.chain.simulate(journeys, args.seed);
        result.simulated_journeys = Some(journeys);
        for row in &mut result.channels {
            let c = paths.channels.iter().position(|n| *n == row.channel).expect("a channel of the paths");
            row.simulated_removal_effect = Some(sim.removal_effect[c]);
            row.simulated_removal_effect_se = Some(sim.standard_error[c]);
        }
    }
    let stem = super::simulate::stem_of_source(&result.source);
    let output = args.report.to_output(false, &stem);
    report::publish(&result, &output, out)?;
    Ok(Verdict::Pass)
}

/// The result from paths, their attribution, and the removal effects to
/// credit by (the fitted chain's, or the scenario's when the paths were
/// walked on `scenario`).
fn build(
    source: String,
    scenario: Option<ScenarioInfo>,
    seed: u64,
    paths: &Paths,
    fitted: &Attribution,
    effects: &[f64],
    conversion_probability: f64,
) -> AttributionResult {
    let from_scenario = scenario.is_some();
    let conversions: f64 = paths.rows.iter().map(|r| r.conversions).sum();
    let value: f64 = paths.rows.iter().map(|r| r.value).sum();
    let sum: f64 = effects.iter().sum();
    let mut channels: Vec<ChannelAttribution> = paths
        .channels
        .iter()
        .zip(&fitted.credits)
        .zip(effects)
        .map(|((name, c), &effect)| {
            let share = if sum > 0.0 { effect / sum } else { 0.0 };
            ChannelAttribution {
                channel: name.clone(),
                removal_effect: effect,
                fitted_removal_effect: from_scenario.then_some(c.removal_effect),
                simulated_removal_effect: None,
                simulated_removal_effect_se: None,
                share,
                attributed_conversions: share * conversions,
                attributed_value: share * value,
                first_touch: c.first_touch,
                last_touch: c.last_touch,
                linear_touch: c.linear_touch,
                first_touch_value: c.first_touch_value,
                last_touch_value: c.last_touch_value,
                linear_touch_value: c.linear_touch_value,
            }
        })
        .collect();
    channels.sort_by(|x, y| {
        y.attributed_conversions.total_cmp(&x.attributed_conversions).then(x.channel.cmp(&y.channel))
    });
    AttributionResult {
        header: Header::new(ResultKind::Attribute, scenario, seed),
        source,
        paths: paths.rows.len() as u64,
        journeys: paths.rows.iter().map(|r| r.conversions + r.nulls).sum(),
        conversions,
        conversion_value: value,
        order: fitted.chain.order as u32,
        max_steps: fitted.chain.max_steps,
        conversion_probability,
        simulated_journeys: None,
        channels,
    }
}
