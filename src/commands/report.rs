//! `fogg report`: a saved result re-rendered, without running anything.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

use crate::Outcome;
use crate::cli::ReportArgs;
use crate::compare::CompareResult;
use crate::report::{self, Reportable};
use crate::result::{AttributionResult, CapacityResult, LoadResult, SimResult};

/// Runs the command, writing the report to `out`.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let path = &args.result;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!("'{}' is not JSON: give a result fogg wrote (reports/KIND-STEM.json)", path.display())
    })?;
    let kind = value.get("kind").and_then(|k| k.as_str()).map(str::to_owned);
    match kind.as_deref() {
        Some("simulate") => render(args, &parse::<SimResult>(value, path, "simulate")?, out),
        Some("load") => render(args, &parse::<LoadResult>(value, path, "load")?, out),
        Some("capacity") => render(args, &parse::<CapacityResult>(value, path, "capacity")?, out),
        Some("compare") => render(args, &parse::<CompareResult>(value, path, "compare")?, out),
        Some("attribute") => render(args, &parse::<AttributionResult>(value, path, "attribute")?, out),
        Some(other) => {
            bail!("'{}' is a '{other}' result, which this version of fogg does not know", path.display())
        }
        None => bail!("'{}' has no \"kind\": it is not a fogg result", path.display()),
    }
}

fn parse<T: DeserializeOwned>(value: serde_json::Value, path: &Path, kind: &str) -> anyhow::Result<T> {
    serde_json::from_value(value).with_context(|| {
        format!(
            "'{}' does not match the {kind} result schema (schema/{kind}.schema.json); was it written by another version of fogg?",
            path.display()
        )
    })
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
