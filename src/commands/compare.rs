//! `fogg compare`: two saved load results side by side.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use crate::Outcome;
use crate::cli::CompareArgs;
use crate::compare::{Tolerances, compare};
use crate::report;
use crate::result::{LoadResult, Verdict};

/// Reads a load result saved as JSON, saying what is wrong with the file
/// when it is not one.
pub fn read_load_result(path: &Path) -> anyhow::Result<LoadResult> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "'{}' is not JSON: give the .json a `fogg load` run wrote in its reports folder",
            path.display()
        )
    })?;
    match value.get("kind").and_then(|k| k.as_str()) {
        Some("load") => {}
        Some(kind) => bail!("'{}' is a {kind} result: compare takes results of `fogg load`", path.display()),
        None => bail!("'{}' has no \"kind\": it is not a fogg result", path.display()),
    }
    serde_json::from_value(value).with_context(|| {
        format!("'{}' does not match the load result schema (schema/load.schema.json); was it written by another version of fogg?", path.display())
    })
}

/// Runs the command, writing the report to `out`.
pub fn run(args: &CompareArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut tolerances = Tolerances::default();
    for t in &args.tolerances {
        tolerances.set(t).map_err(anyhow::Error::msg)?;
    }
    let baseline = read_load_result(&args.baseline)?;
    let current = read_load_result(&args.current)?;
    let names = [args.baseline.display().to_string(), args.current.display().to_string()];
    let result = compare(&baseline, &current, &tolerances, [&names[0], &names[1]]);
    let stem = args.current.file_stem().map_or_else(|| "result".into(), |s| s.to_string_lossy().into_owned());
    let output = report::Output { format: args.format, quiet: args.quiet, dir: &args.out, stem: &stem };
    report::publish(&result, &output, out)?;
    Ok(match result.verdict {
        Verdict::Pass => Outcome::Pass,
        Verdict::Fail => Outcome::Fail,
    })
}
