//! `fogg compare`: two saved load results side by side.

use std::io::Write;
use std::path::Path;

use anyhow::bail;

use crate::cli::CompareArgs;
use fogg_report as report;
use fogg_result::compare::{Tolerances, compare};
use fogg_result::{LoadResult, SavedResult, Verdict};

/// Reads a load result saved as JSON, saying what is wrong with the file
/// when it is not one.
pub fn read_load_result(path: &Path) -> anyhow::Result<LoadResult> {
    let saved = SavedResult::read(path)?;
    if saved.kind != fogg_result::ResultKind::Load {
        bail!("'{}' is a {} result: compare takes results of `fogg load`", path.display(), saved.kind);
    }
    saved.parse()
}

/// Runs the command, writing the report to `out`.
pub fn run(args: &CompareArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let tolerances = Tolerances::with(&args.tolerances);
    let baseline = read_load_result(&args.baseline)?;
    let current = read_load_result(&args.current)?;
    let names = [args.baseline.display().to_string(), args.current.display().to_string()];
    let result = compare(&baseline, &current, &tolerances, [&names[0], &names[1]]);
    let stem = args.current.file_stem().map_or_else(|| "result".into(), |s| s.to_string_lossy().into_owned());
    let output = args.report.to_output(args.quiet, &stem);
    report::publish(&result, &output, out)?;
    Ok(result.verdict)
}
