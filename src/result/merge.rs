//! Merging shard results into the result of the whole run.
//!
//! Simulation: the shards' counts are summed and the result is rebuilt
//! from the scenario text they carry, so merging N shards gives exactly
//! the result of one run with the same seed (the run's timings aside).

use anyhow::{Context, bail};

use super::SimResult;
use crate::merge::Merge;
use crate::shard::Shard;
use crate::sim::{SimOutcome, SimPlan, choose_candidates};

/// Merges simulation shards; `names` name them in errors.
pub fn merge_simulations(parts: &[SimResult], names: &[String]) -> anyhow::Result<SimResult> {
    let Some(first) = parts.first() else { bail!("nothing to merge: give the shards' result files") };
    for (part, name) in parts.iter().zip(names).skip(1) {
        let differs = |what: &str| {
            anyhow::anyhow!(
                "'{name}' and '{}' are not shards of one run: their {what} differ (merge the results of one `fogg simulate --shard I/N` run)",
                names[0]
            )
        };
        if part.seed != first.seed {
            return Err(differs("seeds"));
        }
        if part.raw.run_customers != first.raw.run_customers {
            return Err(differs("customer counts"));
        }
        if part.raw.scenario_toml != first.raw.scenario_toml {
            return Err(differs("scenarios"));
        }
        if part.max_steps != first.max_steps {
            return Err(differs("max_steps"));
        }
    }
    // The shards must tile 0..run_customers: no customer missing or twice.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| parts[i].raw.customer_range);
    let mut next = 0u64;
    for &i in &order {
        let [start, end] = parts[i].raw.customer_range;
        if start > next {
            bail!(
                "customers {next}..{start} of the run are in none of the files: a shard is missing (the files hold shards {})",
                shard_list(parts)
            );
        }
        if start < next {
            bail!(
                "'{}' overlaps another file (customers {start}..{next} twice): give each shard once",
                names[i]
            );
        }
        next = end;
    }
    if next != first.raw.run_customers {
        bail!(
            "customers {next}..{} of the run are in none of the files: a shard is missing (the files hold shards {})",
            first.raw.run_customers,
            shard_list(parts)
        );
    }
    let model = crate::scenario::journeys_from_str(&first.raw.scenario_toml, &first.scenario.source)
        .context("rebuilding the scenario the shards carry")?
        .with_max_steps(first.max_steps);
    let run = first.raw.run_customers;
    let mut agg = first.raw.agg.clone();
    for part in &parts[1..] {
        agg.merge(&part.raw.agg);
    }
    let candidates = choose_candidates(&model, first.seed, run);
    if agg.path_customers.len() != candidates.len() {
        bail!(
            "the shards' path counts do not match the scenario's candidate paths: were they written by another version of fogg?"
        );
    }
    let plan = SimPlan {
        seed: first.seed,
        customers: 0..run,
        run_customers: run,
        export_paths: false,
        shard: Shard::WHOLE,
    };
    let threads = parts.iter().map(|p| p.run.threads).sum();
    let elapsed = parts.iter().map(|p| p.run.elapsed_s).fold(0.0, f64::max);
    Ok(SimResult::new(&model, &plan, &SimOutcome { agg, candidates }, &model.exact(), threads, elapsed))
}

fn shard_list(parts: &[SimResult]) -> String {
    let mut shards: Vec<Shard> = parts.iter().map(|p| p.raw.shard).collect();
    shards.sort_by_key(|s| s.index);
    shards.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
