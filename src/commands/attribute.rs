//! `fogg attribute`: exact Markov attribution of a path file, an event
//! log, or a scenario's own chain.

use std::io::Write;

use anyhow::{Context, bail};

use crate::cli::AttributeArgs;
use fogg_core::shard::Shard;
use fogg_core::verdict::Verdict;
use fogg_engine::attribution::{
    ChainOptions, FittedChain, MAX_SHAPLEY_CHANNELS, PathFormat, Paths, RuleOptions, attribute_fitted,
    events, removal_effect,
};
use fogg_engine::events::EventLog;
use fogg_engine::sim::SimPlan;
use fogg_model::ChannelId;
use fogg_report as report;
use fogg_result::{AttributionResult, ScenarioTruth};

/// The channel name the last-non-direct rule counts as direct when
/// `--direct` is not given (in any case).
const DIRECT: &str = "direct";

/// Runs the command, writing the report to `out`.
pub fn run(args: &AttributeArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let options = ChainOptions {
        order: usize::from(args.order),
        collapse_repeats: args.collapse_repeats,
        max_steps: args.max_steps.unwrap_or_default(),
    };
    if args.paths.is_none() && args.events.is_none() {
        for (given, flag) in [(args.no_null, "--no-null"), (args.intervals.is_some(), "--intervals")] {
            if given {
                bail!(
                    "{flag} is about data: give --paths FILE or --events FILE (a scenario's own chain has no sample to resample or nulls to leave out)"
                );
            }
        }
    }
    let mut time_decay = None;
    let (paths, truth, source) = match (&args.paths, &args.events) {
        (Some(file), _) => {
            let format = PathFormat {
                column_separator: args.separator.unwrap_or(b';'),
                channel_separator: args.channel_separator.clone(),
                nulls: !args.no_null,
            };
            let paths = Paths::read(file, &format)?;
            for note in &paths.notes {
                eprintln!("note: path file '{}': {note}", file.display());
            }
            (paths, None, file.display().to_string())
        }
        (None, Some(file)) => {
            let text =
                std::fs::read(file).with_context(|| format!("cannot read event log '{}'", file.display()))?;
            let log = EventLog::read(&text, args.separator.unwrap_or(b','))
                .with_context(|| format!("event log '{}'", file.display()))?;
            let (mut paths, decay) = events::paths_of(&log, args.half_life.as_secs_f64());
            if args.no_null {
                paths.rows.iter_mut().for_each(|r| r.nulls = 0.0);
                paths.nulls_counted = false;
            }
            time_decay = Some(decay);
            (paths, None, file.display().to_string())
        }
        (None, None) => scenario_paths(args)?,
    };
    let rules = RuleOptions { position: args.u_shape, direct: direct_channels(&paths, &args.direct)? };
    let chain = FittedChain::fit(&paths, &options);
    if args.simulate.is_some() {
        // Before the solves: a chain too large to walk fails now, not
        // after the exact work.
        chain.check_simulable()?;
    }
    let fitted = attribute_fitted(&paths, chain, &rules)?;
    let mut result = AttributionResult::new(source, truth, args.seed, &paths, &fitted, &rules);
    result.set_time_decay(time_decay.as_ref(), &paths);
    if let Some(resamples) = args.intervals {
        let found = fogg_engine::attribution::intervals::intervals(&paths, &options, resamples, args.seed)
            .ok_or_else(|| {
                anyhow::anyhow!("no resample of the paths converts: there is nothing to attribute")
            })?;
        result.interval_resamples = Some(resamples);
        for row in &mut result.channels {
            let c = paths.channels.iter().position(|n| *n == row.channel).expect("a channel of the paths");
            row.removal_effect_interval = Some(found.removal_effect[c]);
            row.share_interval = Some(found.share[c]);
        }
    }
    if let Some(journeys) = args.simulate {
        let sim = fitted.chain.simulate(journeys, args.seed)?;
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

/// The channels `--direct` names (each must be a channel of the paths), or
/// without it, the channel named `direct` in any case, if there is one.
fn direct_channels(paths: &Paths, names: &[String]) -> anyhow::Result<Vec<u32>> {
    if names.is_empty() {
        return Ok(paths
            .channels
            .iter()
            .position(|c| c.eq_ignore_ascii_case(DIRECT))
            .map(|c| c as u32)
            .into_iter()
            .collect());
    }
    names
        .iter()
        .map(|name| match paths.channels.iter().position(|c| c == name) {
            Some(c) => Ok(c as u32),
            None => bail!(
                "--direct '{name}' is not a channel of the paths: they have {}",
                paths.channels.join(", ")
            ),
        })
        .collect()
}

/// Paths simulated from a scenario's journeys, with the truth its own
/// chain gives (exact removal effects, and Shapley values where they are
/// computable) and the scenario's name as the source.
fn scenario_paths(args: &AttributeArgs) -> anyhow::Result<(Paths, Option<ScenarioTruth>, String)> {
    let model = super::scenario(args.scenario.as_deref(), fogg_scenario::Use::Journeys)?.model;
    let n = args.customers;
    let plan = SimPlan {
        seed: args.seed,
        customers: 0..n,
        run_customers: n,
        export_paths: true,
        shard: Shard::WHOLE,
    };
    let outcome = super::simulate::simulate_with_progress(&model, &plan, None)?.outcome;
    if outcome.interrupted {
        // The paths of part of the customers would be attributed as if
        // they were the run asked for: stop with nothing written.
        bail!(
            "interrupted by a signal while walking the scenario's customers ({} of {n}): nothing was attributed",
            fogg_report::fmt::int(outcome.agg.customers)
        );
    }
    let export = outcome.agg.export.as_ref().expect("paths are kept when exporting");
    let paths = Paths::from_export(&model, export);
    // The truth: the scenario's own chain.
    let p = model.exact().conversion_rate;
    if p <= 0.0 {
        bail!("scenario '{}' converts nobody: there is nothing to attribute", model.source);
    }
    let channels = model.channels.len();
    let removal_effects =
        (0..channels).map(|c| removal_effect(model.conversion_rate_without(ChannelId(c as u8)), p)).collect();
    let shapley = (channels <= MAX_SHAPLEY_CHANNELS).then(|| {
        fogg_engine::attribution::shapley::shapley(channels, |coalition| {
            [model.conversion_rate_keeping(|c| coalition & (1 << c.0) != 0)]
        })
        .into_iter()
        .map(|[phi]| phi)
        .collect()
    });
    let info = fogg_result::ScenarioInfo::of(&model);
    let truth = ScenarioTruth { info, conversion_probability: p, removal_effects, shapley };
    Ok((paths, Some(truth), model.source.clone()))
}
