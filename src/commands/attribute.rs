//! `fogg attribute`: exact Markov attribution of a path file, or of a
//! scenario's own chain.

use std::io::Write;

use anyhow::bail;

use crate::attribution::{ChainOptions, PathFormat, Paths, attribute};
use crate::cli::AttributeArgs;
use crate::model::ChannelId;
use crate::report;
use crate::result::{AttributionResult, ScenarioInfo};
use crate::shard::Shard;
use crate::sim::SimPlan;
use crate::verdict::Verdict;

/// Runs the command, writing the report to `out`.
pub fn run(args: &AttributeArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let options = ChainOptions {
        order: usize::from(args.order),
        collapse_repeats: args.collapse_repeats,
        max_steps: args.max_steps.unwrap_or_default(),
    };
    let (mut result, paths, fitted) = match &args.paths {
        Some(file) => {
            let format = PathFormat {
                column_separator: args.separator,
                channel_separator: args.channel_separator.clone(),
                nulls: !args.no_null,
            };
            let paths = Paths::read(file, &format)?;
            let a = attribute(&paths, &options)?;
            let effects: Vec<f64> = a.credits.iter().map(|c| c.removal_effect).collect();
            let result = AttributionResult::new(
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
            let model = super::scenario(args.scenario.as_deref(), crate::scenario::Use::Journeys)?.model;
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
            let fitted = attribute(&paths, &options)?;
            // The truth: removal effects of the scenario's own chain.
            let p = model.exact().conversion_rate;
            if p <= 0.0 {
                bail!("scenario '{}' converts nobody: there is nothing to attribute", model.source);
            }
            let effects: Vec<f64> = (0..model.channels.len())
                .map(|c| (1.0 - model.conversion_rate_without(ChannelId(c as u8)) / p).max(0.0))
                .collect();
            let info = ScenarioInfo::of(&model);
            let result = AttributionResult::new(
                model.source.clone(),
                Some(info),
                args.seed,
                &paths,
                &fitted,
                &effects,
                p,
            );
            (result, paths, fitted)
        }
    };
    if let Some(journeys) = args.simulate {
        let sim = fitted.chain.simulate(journeys, args.seed);
        result.simulated_journeys = Some(journeys);
        for row in &mut result.channels {
            let c = paths.channels.iter().position(|n| *n == row.channel).expect("a channel of the paths");
            row.simulated_removal_effect = Some(sim.removal_effect[c]);
            row.simulated_removal_effect_se = Some(sim.standard_error[c]);
            if row.value_removal_effect.is_some() {
                row.simulated_value_removal_effect = Some(sim.value_removal_effect[c]);
                row.simulated_value_removal_effect_se = Some(sim.value_standard_error[c]);
            }
        }
    }
    let stem = super::simulate::stem_of_source(&result.source);
    let output = args.report.to_output(false, &stem);
    report::publish(&result, &output, out)?;
    Ok(Verdict::Pass)
}
