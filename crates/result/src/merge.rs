//! Merging shard results into the result of the whole run.
//!
//! Simulation: the shards' counts are summed and the result is rebuilt
//! from the scenario text they carry, so merging N shards gives exactly
//! the result of one run with the same seed (the run's timings aside).
//!
//! Load: counts and histograms are summed, so percentiles come from the
//! merged histograms, never from averaging the shards' percentiles.

use anyhow::{Context, bail};

use super::forecast::ForecastRaw;
use super::{LoadResult, SimResult};
use fogg_core::merge::Merge;
use fogg_core::shard::Shard;
use fogg_engine::sim::{SimAgg, SimOutcome, SimPlan, SimRun, choose_candidates};
use fogg_load::StopReason;
use fogg_load::recorder::LoadAgg;

/// Merges simulation shards; `names` name them in errors.
pub fn merge_simulations(parts: &[SimResult], names: &[String]) -> anyhow::Result<SimResult> {
    let Some(first) = parts.first() else { bail!("nothing to merge: give the shards' result files") };
    refuse_interrupted(parts.iter().map(|p| p.interrupted), names)?;
    for (part, name) in parts.iter().zip(names).skip(1) {
        let differs = |what: &str| {
            anyhow::anyhow!(
                "'{name}' and '{}' are not shards of one run: their {what} differ (merge the results of one `fogg simulate --shard I/N` run)",
                names[0]
            )
        };
        if part.header.seed != first.header.seed {
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
    let ranges: Vec<[u64; 2]> = parts.iter().map(|p| p.raw.customer_range).collect();
    let shards: Vec<Shard> = parts.iter().map(|p| p.raw.shard).collect();
    check_tiling(&ranges, first.raw.run_customers, names, &shards)?;
    let model = fogg_scenario::journeys_from_str(&first.raw.scenario_toml, &first.header.scenario.source)
        .context("rebuilding the scenario the shards carry")?
        .with_max_steps(first.max_steps);
    let run_customers = first.raw.run_customers;
    let candidates = choose_candidates(&model, first.header.seed, run_customers);
    let expected = SimAgg::new(&model, candidates.len(), false).lengths();
    for (part, name) in parts.iter().zip(names) {
        check_lengths(name, &part.raw.agg.lengths(), &expected, "the scenario it carries")?;
    }
    let mut agg = first.raw.agg.clone();
    for part in &parts[1..] {
        agg.merge(&part.raw.agg);
    }
    let plan = SimPlan {
        seed: first.header.seed,
        customers: 0..run_customers,
        run_customers,
        export_paths: false,
        shard: Shard::WHOLE,
    };
    let run = SimRun {
        outcome: SimOutcome { agg, candidates, interrupted: false },
        threads: parts.iter().map(|p| p.run.threads).max().unwrap_or(1),
        elapsed_s: parts.iter().map(|p| p.run.elapsed_s).fold(0.0, f64::max),
    };
    let mut merged = SimResult::new(&model, &first.raw.scenario_toml, &plan, &run);
    merged.run.shards = parts.len() as u32;
    Ok(merged)
}

/// Refuses a part whose counts do not have the lengths `expected` of
/// them (per channel, state, segment, path…): a damaged or edited file,
/// or one another version wrote. Merging it would mix unrelated counts.
fn check_lengths<S: AsRef<str>>(
    name: &str,
    lengths: &[(S, usize)],
    expected: &[(S, usize)],
    of: &str,
) -> anyhow::Result<()> {
    for ((what, len), (_, want)) in lengths.iter().zip(expected) {
        let what = what.as_ref();
        if len != want {
            bail!(
                "'{name}' is damaged: its `{what}` has {len} entries where {of} gives {want} (was the file edited, or written by another version of fogg? run that shard again)"
            );
        }
    }
    Ok(())
}

/// Refuses a part a signal stopped before all its customers were
/// walked: its counts are of scattered chunks, not its share of the run.
fn refuse_interrupted(interrupted: impl Iterator<Item = bool>, names: &[String]) -> anyhow::Result<()> {
    match interrupted.zip(names).find(|(stopped, _)| *stopped) {
        Some((_, name)) => bail!(
            "'{name}' was interrupted before all its customers were walked: run that shard again, then merge"
        ),
        None => Ok(()),
    }
}

/// Checks that the customer ranges of the parts tile `0..run`: no
/// customer missing or walked twice.
fn check_tiling(ranges: &[[u64; 2]], run: u64, names: &[String], shards: &[Shard]) -> anyhow::Result<()> {
    let list = || {
        let mut shards = shards.to_vec();
        shards.sort_by_key(|s| s.index);
        shards.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    };
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i]);
    let mut next = 0u64;
    for &i in &order {
        let [start, end] = ranges[i];
        if start > next {
            bail!(
                "customers {next}..{start} of the run are in none of the files: a shard is missing (the files hold shards {})",
                list()
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
    if next != run {
        bail!(
            "customers {next}..{run} of the run are in none of the files: a shard is missing (the files hold shards {})",
            list()
        );
    }
    Ok(())
}

/// Merges what-if shards: the moments of each strategy summed, every
/// figure and interval computed again from them (exactly what the whole
/// run computes); the exact values are the same in every shard.
pub fn merge_whatifs(parts: &[super::WhatifResult], names: &[String]) -> anyhow::Result<super::WhatifResult> {
    let Some(first) = parts.first() else { bail!("nothing to merge: give the shards' result files") };
    refuse_interrupted(parts.iter().map(|p| p.interrupted), names)?;
    for (part, name) in parts.iter().zip(names).skip(1) {
        let same = part.header.seed == first.header.seed
            && part.customers_simulated == first.customers_simulated
            && part.header.scenario == first.header.scenario
            && part.customers_per_period == first.customers_per_period
            && part.strategies.len() == first.strategies.len()
            && part
                .strategies
                .iter()
                .zip(&first.strategies)
                .all(|(a, b)| a.id == b.id && a.changes == b.changes);
        if !same {
            bail!(
                "'{name}' and '{}' are not shards of one run: their scenario, seed, customers or strategies differ (merge the results of one `fogg whatif --shard I/N` run)",
                names[0]
            );
        }
    }
    let ranges: Vec<[u64; 2]> = parts.iter().map(|p| p.customer_range).collect();
    let shards: Vec<Shard> = parts.iter().map(|p| p.shard).collect();
    check_tiling(&ranges, first.customers_simulated, names, &shards)?;
    let mut merged = first.clone();
    let base_spend = first.strategies[0].spend;
    for (k, row) in merged.strategies.iter_mut().enumerate() {
        let mut moments = row.moments.clone();
        for part in &parts[1..] {
            moments.merge(&part.strategies[k].moments);
        }
        fogg_engine::whatif::paired::refuse_saturated([&moments], &first.header.scenario.source)?;
        row.refigure(moments, first.customers_per_period, base_spend);
    }
    merged.shard = Shard::WHOLE;
    merged.customer_range = [0, first.customers_simulated];
    merged.elapsed_s = parts.iter().map(|p| p.elapsed_s).fold(0.0, f64::max);
    Ok(merged)
}

/// Merges forecast shards: each holds some of the run's replicates, so
/// the sums add, the replicates' peaks line up, and every figure is
/// computed again from them; the expected traffic is the same in every
/// shard.
pub fn merge_forecasts(
    parts: &[super::ForecastResult],
    names: &[String],
) -> anyhow::Result<super::ForecastResult> {
    let Some(first) = parts.first() else { bail!("nothing to merge: give the shards' result files") };
    refuse_interrupted(parts.iter().map(|p| p.interrupted), names)?;
    for (part, name) in parts.iter().zip(names).skip(1) {
        let same = part.header.seed == first.header.seed
            && part.header.scenario == first.header.scenario
            && part.run_replicates == first.run_replicates
            && part.window == first.window
            && part.requests == first.requests
            && part.channels == first.channels
            && part.variants.len() == first.variants.len()
            && part.variants.iter().zip(&first.variants).all(|(a, b)| {
                a.id == b.id && a.changes == b.changes && a.expected_customers == b.expected_customers
            });
        if !same {
            bail!(
                "'{name}' and '{}' are not shards of one run: their scenario, seed, window, replicates or strategies differ (merge the results of one `fogg forecast --shard I/N` run)",
                names[0]
            );
        }
    }
    let ranges: Vec<[u64; 2]> =
        parts.iter().map(|p| [u64::from(p.replicate_range[0]), u64::from(p.replicate_range[1])]).collect();
    let shards: Vec<Shard> = parts.iter().map(|p| p.shard).collect();
    check_tiling(&ranges, u64::from(first.run_replicates), names, &shards)?;
    let days = first.window.days.len();
    let expected =
        ForecastRaw::expected_lengths(first.window.bins, days, first.requests.len(), first.channels.len());
    let window = "the forecast's window, requests and channels";
    for (part, name) in parts.iter().zip(names) {
        if part.window.day_seconds.len() != days {
            bail!(
                "'{name}' is damaged: its window has {days} days but {} day lengths",
                part.window.day_seconds.len()
            );
        }
        for variant in &part.variants {
            check_lengths(name, &variant.raw.lengths(), &expected, window)?;
            let spend = [("day_spend".to_owned(), variant.day_spend.len())];
            check_lengths(name, &spend, &[("day_spend".to_owned(), days)], window)?;
        }
    }
    let mut merged = first.clone();
    for (k, variant) in merged.variants.iter_mut().enumerate() {
        for part in &parts[1..] {
            variant.raw.merge(&part.variants[k].raw);
            variant.replicate_peaks.extend(part.variants[k].replicate_peaks.iter().cloned());
        }
        variant.replicate_peaks.sort_by_key(|p| p.replicate);
        variant.finish(&first.window, &first.channels, first.run_replicates);
    }
    merged.replicates = first.run_replicates;
    merged.replicate_range = [0, first.run_replicates];
    merged.shard = Shard::WHOLE;
    merged.shards = parts.len() as u32;
    merged.threads = parts.iter().map(|p| p.threads).max().unwrap_or(1);
    merged.elapsed_s = parts.iter().map(|p| p.elapsed_s).fold(0.0, f64::max);
    Ok(merged)
}

/// Merges load shards: counts and histograms summed (percentiles come from
/// the merged histograms), the series over time lined up on wall-clock time.
pub fn merge_loads(parts: &[LoadResult], names: &[String]) -> anyhow::Result<LoadResult> {
    let Some(first) = parts.first() else { bail!("nothing to merge: give the shards' result files") };
    let count = first.raw.shard.count;
    for (part, name) in parts.iter().zip(names) {
        let differs = |what: &str| {
            anyhow::anyhow!(
                "'{name}' and '{}' are not shards of one run: their {what} differ (merge the results of one `fogg load --shard I/N` run)",
                names[0]
            )
        };
        if part.header.seed != first.header.seed {
            return Err(differs("seeds"));
        }
        if part.header.scenario != first.header.scenario {
            return Err(differs("scenarios"));
        }
        if part.raw.shard.count != count {
            return Err(differs("shard counts"));
        }
        if part.raw.request_names != first.raw.request_names
            || part.raw.states != first.raw.states
            || part.raw.segments != first.raw.segments
        {
            return Err(differs("requests, states or segments"));
        }
    }
    let mut seen = vec![false; count as usize];
    for (part, name) in parts.iter().zip(names) {
        let i = part.raw.shard.index as usize - 1;
        if std::mem::replace(&mut seen[i], true) {
            bail!("shard {} is given twice ('{name}'): give each shard once", part.raw.shard);
        }
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, s)| !**s).map(|(i, _)| format!("{}/{count}", i + 1)).collect();
    if !missing.is_empty() {
        bail!("shard {} missing: the merge of a partial run would understate its load", missing.join(", "));
    }
    let states = first.raw.agg.by_state.len();
    let expected = LoadAgg::new(first.raw.request_names.len(), states, first.raw.segments.len()).lengths();
    let of = "the run's request names, states and segments";
    for (part, name) in parts.iter().zip(names) {
        check_lengths(name, &part.raw.agg.lengths(), &expected, of)?;
        if let Some((i, id)) = part.raw.states.iter().find(|(i, _)| *i >= states) {
            bail!("'{name}' is damaged: its state '{id}' has index {i}, but it counts {states} states");
        }
    }
    let start = parts.iter().map(|p| p.raw.started_at_unix_ms).min().expect("parts");
    let offset = |p: &LoadResult| ((p.raw.started_at_unix_ms - start) as f64 / 1000.0).round() as usize;
    let shifted = |p: &LoadResult| {
        let mut agg = p.raw.agg.clone();
        agg.series = agg.series.delayed(offset(p) as u64);
        agg
    };
    let mut agg = shifted(first);
    for part in &parts[1..] {
        agg.merge(&shifted(part));
    }
    let end = |p: &LoadResult, s: f64| offset(p) as f64 + s;
    let mut raw = first.raw.clone();
    raw.shard = Shard::WHOLE;
    raw.started_at_unix_ms = start;
    raw.window_s = parts.iter().map(|p| end(p, p.raw.window_s)).fold(0.0, f64::max);
    raw.elapsed_s = parts.iter().map(|p| end(p, p.raw.elapsed_s)).fold(0.0, f64::max);
    raw.target_arrival_rate = parts.iter().map(|p| p.raw.target_arrival_rate).sum();
    raw.agg = agg;
    let mut by_shard: Vec<&LoadResult> = parts.iter().collect();
    by_shard.sort_by_key(|p| p.raw.shard.index);
    raw.run_ids = by_shard.iter().flat_map(|p| p.raw.run_ids.iter().cloned()).collect();
    let stopped_by = parts
        .iter()
        .map(|p| p.stopped_by)
        .find(|s| *s != StopReason::Duration)
        .unwrap_or(StopReason::Duration);
    let mut settings = first.settings.clone();
    settings.profile = format!("{} in each of {count} shards", settings.profile);
    let mut targets: Vec<&str> = Vec::new();
    for p in parts {
        if !targets.contains(&p.target.as_str()) {
            targets.push(&p.target);
        }
    }
    let mut merged = LoadResult::from_raw(
        first.header.scenario.clone(),
        first.header.seed,
        &targets.join(", "),
        stopped_by,
        settings,
        raw,
    );
    merged.notes.extend(apart_note(parts, offset));
    Ok(merged)
}

/// A note when the shards' arrival windows did not overlap: the rates of
/// the merge are over the whole span, so the target never saw the sum of
/// the shards' rates at once, and a lower achieved rate is no generator
/// shortfall.
fn apart_note(parts: &[LoadResult], offset: impl Fn(&LoadResult) -> usize) -> Option<String> {
    let start = |p: &LoadResult| offset(p) as f64;
    let latest_start = parts.iter().map(start).fold(0.0, f64::max);
    let earliest_end = parts.iter().map(|p| start(p) + p.raw.window_s).fold(f64::INFINITY, f64::min);
    let longest = parts.iter().map(|p| p.raw.window_s).fold(0.0, f64::max);
    let together = (earliest_end - latest_start).max(0.0);
    (together < 0.9 * longest).then(|| {
        format!(
            "the shards did not run together: their arrivals overlapped {together:.0} s of {longest:.0} s, so the target never took their combined rate at once and the rates here are over the whole span (start the shards together to test the combined load)"
        )
    })
}
