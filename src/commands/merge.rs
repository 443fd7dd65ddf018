//! `fogg merge`: the results of shards combined into the whole run's.

use std::io::Write;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

use crate::cli::MergeArgs;
use fogg_core::verdict::Verdict;
use fogg_load::threshold::{self, Threshold};
use fogg_report::{self as report, Reportable};
use fogg_result::merge::{merge_forecasts, merge_loads, merge_simulations, merge_whatifs};
use fogg_result::{ForecastResult, LoadResult, ResultKind, SavedResult, SimResult, WhatifResult};

fn parse_all<T: DeserializeOwned>(saved: Vec<SavedResult>) -> anyhow::Result<Vec<T>> {
    saved.into_iter().map(SavedResult::parse).collect()
}

/// Runs the command, writing the report to `out`.
pub fn run(args: &MergeArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    if let Some(path) = &args.output {
        report::refuse_overwrite("-o/--output", path, &args.results)?;
    }
    let names: Vec<String> = args.results.iter().map(|p| p.display().to_string()).collect();
    let mut saved: Vec<SavedResult> = Vec::new();
    for (path, name) in args.results.iter().zip(&names) {
        let part = SavedResult::read(path)?;
        if !matches!(
            part.kind,
            ResultKind::Simulate | ResultKind::Load | ResultKind::Whatif | ResultKind::Forecast
        ) {
            bail!(
                "'{name}' is a {} result: fogg merge combines shards of `fogg simulate`, `fogg whatif`, `fogg forecast` or `fogg load`",
                part.kind
            );
        }
        if let Some(first) = saved.first()
            && first.kind != part.kind
        {
            bail!(
                "'{name}' is a {} result but '{}' is a {} result: merge shards of one run",
                part.kind,
                names[0],
                first.kind
            );
        }
        saved.push(part);
    }
    let kind = saved.first().map(|s| s.kind);
    match kind {
        Some(ResultKind::Simulate) => {
            if !args.thresholds.is_empty() {
                bail!("--threshold applies to load results; these are simulations");
            }
            let merged = merge_simulations(&parse_all::<SimResult>(saved)?, &names)?;
            publish(args, &merged, &merged.header.scenario.source, out)?;
            Ok(Verdict::Pass)
        }
        Some(ResultKind::Whatif) => {
            if !args.thresholds.is_empty() {
                bail!("--threshold applies to load results; these are what-if runs");
            }
            let merged = merge_whatifs(&parse_all::<WhatifResult>(saved)?, &names)?;
            publish(args, &merged, &merged.header.scenario.source, out)?;
            Ok(Verdict::Pass)
        }
        Some(ResultKind::Forecast) => {
            if !args.thresholds.is_empty() {
                bail!("--threshold applies to load results; these are forecasts");
            }
            let merged = merge_forecasts(&parse_all::<ForecastResult>(saved)?, &names)?;
            publish(args, &merged, &merged.header.scenario.source, out)?;
            Ok(Verdict::Pass)
        }
        _ => {
            let parts = parse_all::<LoadResult>(saved)?;
            let mut merged = merge_loads(&parts, &names)?;
            // The shards' own thresholds, with the command line's replacing
            // any on the same metric.
            let shards: Vec<Threshold> = merged
                .raw
                .thresholds
                .iter()
                .map(|t| Threshold::parse(t))
                .collect::<Result<_, _>>()
                .context("reading the thresholds the shards recorded")?;
            let requests: Vec<&str> = merged.raw.request_names.iter().map(String::as_str).collect();
            let states: Vec<&str> = merged.raw.states.iter().map(|(_, s)| s.as_str()).collect();
            threshold::check_names(&args.thresholds, &requests, &states)?;
            let all = threshold::combine(&shards, &args.thresholds);
            let verdict = merged.check(&all);
            publish(args, &merged, &merged.header.scenario.source.clone(), out)?;
            Ok(verdict)
        }
    }
}

fn publish<R: Reportable>(
    args: &MergeArgs,
    merged: &R,
    source: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let stem = super::simulate::stem_of_source(source);
    // Before anything is written: the reports must not replace a shard
    // merged here, nor the file -o writes.
    let mut ours: Vec<(&str, &std::path::Path)> =
        args.results.iter().map(|p| ("the shard", p.as_path())).collect();
    ours.extend(args.output.iter().map(|p| ("-o/--output", p.as_path())));
    report::refuse_reports_over(&args.report.out, merged.kind(), &stem, &ours)?;
    if let Some(path) = &args.output {
        let mut bytes = serde_json::to_vec_pretty(merged)?;
        bytes.push(b'\n');
        report::write_file(path, &bytes)?;
    }
    let output = args.report.to_output(args.quiet, &stem);
    report::publish(merged, &output, out)
}
