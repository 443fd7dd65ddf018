//! `fogg report`: a saved result re-rendered, without running anything.

use std::io::Write;

use crate::cli::ReportArgs;
use fogg_core::verdict::Verdict;
use fogg_report::{self as report, Reportable};
use fogg_result::compare::CompareResult;
use fogg_result::{
    AttributionResult, CalibrateResult, CapacityResult, FitResult, ForecastResult, LoadResult, ResultKind,
    SavedResult, SimResult, WhatifResult,
};

/// Runs the command, writing the report to `out`.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let saved = SavedResult::read(&args.result)?;
    match saved.kind {
        ResultKind::Simulate => render(args, &saved.parse::<SimResult>()?, out),
        ResultKind::Load => render(args, &saved.parse::<LoadResult>()?, out),
        ResultKind::Capacity => render(args, &saved.parse::<CapacityResult>()?, out),
        ResultKind::Compare => render(args, &saved.parse::<CompareResult>()?, out),
        ResultKind::Attribute => render(args, &saved.parse::<AttributionResult>()?, out),
        ResultKind::Whatif => render(args, &saved.parse::<WhatifResult>()?, out),
        ResultKind::Fit => render(args, &saved.parse::<FitResult>()?, out),
        ResultKind::Calibrate => render(args, &saved.parse::<CalibrateResult>()?, out),
        ResultKind::Forecast => render(args, &saved.parse::<ForecastResult>()?, out),
    }
}

fn render<R: Reportable>(args: &ReportArgs, result: &R, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    if let Some(dir) = &args.out {
        // `load-shop.json` re-renders as `load-shop.*`.
        let file_stem =
            args.result.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let prefix = format!("{}-", result.kind());
        let stem = file_stem.strip_prefix(&prefix).unwrap_or(&file_stem).to_owned();
        let written = report::write_files(result, dir, if stem.is_empty() { "result" } else { &stem })?;
        fogg_core::say!("reports: {}", report::describe_files(&written));
    }
    report::write(result, args.format, out)?;
    out.flush()?;
    Ok(Verdict::Pass)
}
