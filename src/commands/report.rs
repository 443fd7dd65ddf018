//! `fogg report`: a saved result re-rendered, without running anything.

use std::io::Write;

use anyhow::bail;

use crate::Outcome;
use crate::cli::ReportArgs;
use crate::compare::CompareResult;
use crate::report::{self, Reportable};
use crate::result::{
    AttributionResult, CapacityResult, FitResult, LoadResult, SavedResult, SimResult, WhatifResult,
};

/// Runs the command, writing the report to `out`.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let saved = SavedResult::read(&args.result)?;
    match saved.kind.as_str() {
        "simulate" => render(args, &saved.parse::<SimResult>()?, out),
        "load" => render(args, &saved.parse::<LoadResult>()?, out),
        "capacity" => render(args, &saved.parse::<CapacityResult>()?, out),
        "compare" => render(args, &saved.parse::<CompareResult>()?, out),
        "attribute" => render(args, &saved.parse::<AttributionResult>()?, out),
        "whatif" => render(args, &saved.parse::<WhatifResult>()?, out),
        "fit" => render(args, &saved.parse::<FitResult>()?, out),
        other => bail!("'{}' is a '{other}' result, which this version of fogg does not know", saved.name()),
    }
}

fn render<R: Reportable>(args: &ReportArgs, result: &R, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if let Some(dir) = &args.out {
        // `load-shop.json` re-renders as `load-shop.*`.
        let file_stem =
            args.result.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let prefix = format!("{}-", result.kind());
        let stem = file_stem.strip_prefix(&prefix).unwrap_or(&file_stem).to_owned();
        let written = report::write_files(result, dir, if stem.is_empty() { "result" } else { &stem })?;
        eprintln!("reports: {}", report::describe_files(&written));
    }
    report::write(result, args.format, out)?;
    out.flush()?;
    Ok(Outcome::Pass)
}
