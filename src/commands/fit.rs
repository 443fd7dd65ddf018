//! `fogg fit`: a scenario from a path file or an event log, and how well
//! it reproduces the data.

use std::io::Write;

use anyhow::{Context, bail};

use crate::cli::FitArgs;
use fogg_core::verdict::Verdict;
use fogg_engine::attribution::{PathFormat, Paths};
use fogg_engine::fit::{Counts, events, goodness};
use fogg_model::posterior::{self, interval95};
use fogg_report as report;
use fogg_result::{FitResult, Header, LengthRow, ResultKind, ScenarioInfo};

/// Journeys walked on the fitted model for the length distribution.
const CHECK_JOURNEYS: u64 = 200_000;

/// Runs the command: writes the scenario, then the goodness-of-fit report
/// to `out` and the report files to `--out`.
pub fn run(args: &FitArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let file = &args.input;
    report::refuse_overwrite("-o/--output", &args.output, std::slice::from_ref(file))?;
    let text = std::fs::read(file).with_context(|| format!("cannot read '{}'", file.display()))?;
    let separator = args.separator;
    let first_line = String::from_utf8_lossy(&text).lines().next().unwrap_or("").to_owned();
    let source =
        file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    report::refuse_reports_over(
        &args.report.out,
        fogg_result::ResultKind::Fit,
        &super::simulate::stem_of_source(&source),
        &[("-o/--output", &args.output), ("the input", file)],
    )?;
    let (input, counts) = if first_line.contains("customer_id") {
        let counts = events::read(&text, separator.unwrap_or(b','), &source)
            .with_context(|| format!("event log '{}'", file.display()))?;
        ("events", counts)
    } else if first_line.contains("total_conversions") {
        let format = PathFormat {
            column_separator: separator.unwrap_or(b';'),
            channel_separator: args.channel_separator.clone(),
            nulls: true,
        };
        let paths =
            Paths::parse(&text, &format).with_context(|| format!("path file '{}'", file.display()))?;
        for note in &paths.notes {
            eprintln!("note: path file '{}': {note}", file.display());
        }
        if paths.missing.contains(&"total_null") {
            bail!(
                "path file '{}' has no total_null column: a fit needs the journeys that did not convert to know the conversion rate",
                file.display()
            );
        }
        let counts =
            Counts::from_paths(&paths, &source).with_context(|| format!("path file '{}'", file.display()))?;
        ("paths", counts)
    } else {
        bail!(
            "'{}' is neither a path file (header path;total_conversions;total_conversion_value;total_null) nor an event log (header customer_id,timestamp,channel[,stage][,conversion_value]); its first line is '{first_line}'",
            file.display()
        );
    };
    if counts.journeys <= 0.0 {
        bail!(
            "'{}' holds no journey to fit: every path has 0 conversions and 0 nulls; give each path the number of journeys that followed it",
            file.display()
        );
    }
    let name = args.name.clone().unwrap_or_else(|| format!("Fitted from {source}"));
    let toml = counts.to_toml(&name);
    let output = args.output.display().to_string();
    let fitted = fogg_scenario::from_str(&toml, &output).map_err(|e| {
        anyhow::anyhow!("the fitted scenario does not compile, which is a bug in fogg fit: {e}")
    })?;
    let model = fitted.model;
    report::write_file(&args.output, toml.as_bytes())?;
    let g = goodness(&counts, &model, CHECK_JOURNEYS, args.seed);
    let conversion_rate_ci95 = match (args.intervals, &fitted.counts) {
        (Some(draws), Some(observed)) => {
            let rates = posterior::draws(&model, observed, draws, args.seed, |m| m.exact().conversion_rate)
                .map_err(|e| {
                anyhow::anyhow!("drawing the fitted chain's posterior, a bug in fogg fit: {e}")
            })?;
            interval95(rates)
        }
        _ => None,
    };
    let result = FitResult {
        header: Header::new(ResultKind::Fit, ScenarioInfo::of(&model), args.seed),
        source: source.clone(),
        input: input.to_owned(),
        rows: counts.rows,
        journeys: counts.journeys,
        states: model.states.len(),
        channels: model.channels.len(),
        data_conversion_rate: g.data_conversion_rate,
        model_conversion_rate: g.model_conversion_rate,
        intervals: args.intervals,
        model_conversion_rate_ci95: conversion_rate_ci95,
        lengths: g
            .data_lengths
            .iter()
            .zip(&g.model_lengths)
            .enumerate()
            .map(|(k, (&data, &model))| LengthRow { length: k + 1, data, model })
            .collect(),
        length_distance: g.length_distance,
        model_journeys: CHECK_JOURNEYS,
    };
    let stem = super::simulate::stem_of_source(&source);
    let output = args.report.to_output(false, &stem);
    report::publish(&result, &output, out)?;
    Ok(Verdict::Pass)
}
