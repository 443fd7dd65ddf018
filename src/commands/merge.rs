//! `fogg merge`: the results of shards combined into the whole run's.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

use crate::Outcome;
use crate::cli::MergeArgs;
use crate::report;
use crate::result::SimResult;
use crate::result::merge::merge_simulations;

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("'{}' is not JSON: give the .json results the shards wrote", path.display()))
}

/// Runs the command, writing the report to `out`.
pub fn run(args: &MergeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let names: Vec<String> = args.results.iter().map(|p| p.display().to_string()).collect();
    let mut parts = Vec::new();
    for (path, name) in args.results.iter().zip(&names) {
        let value = read_json(path)?;
        match value.get("kind").and_then(|k| k.as_str()) {
            Some("simulate") => {}
            Some(kind) => bail!(
                "'{name}' is a {kind} result: fogg merge combines the results of `fogg simulate --shard`"
            ),
            None => bail!("'{name}' has no \"kind\": it is not a fogg result"),
        }
        let part: SimResult = serde_json::from_value(value).with_context(|| {
            format!("'{name}' does not match the simulate result schema (schema/simulate.schema.json); was it written by another version of fogg?")
        })?;
        parts.push(part);
    }
    let merged = merge_simulations(&parts, &names)?;
    if let Some(path) = &args.output {
        let mut bytes = serde_json::to_vec_pretty(&merged)?;
        bytes.push(b'\n');
        std::fs::write(path, bytes).with_context(|| format!("writing '{}'", path.display()))?;
    }
    let stem = super::simulate::stem_of_source(&merged.scenario.source);
    let output = report::Output { format: args.format, quiet: false, dir: &args.out, stem: &stem };
    report::publish(&merged, &output, out)?;
    Ok(Outcome::Pass)
}
