//! `fogg merge`: the results of shards combined into the whole run's.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

use crate::Outcome;
use crate::cli::MergeArgs;
use crate::report::{self, Reportable};
use crate::result::merge::{merge_loads, merge_simulations};
use crate::result::{LoadResult, SimResult, Verdict};
use crate::threshold::{self, Threshold};

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("'{}' is not JSON: give the .json results the shards wrote", path.display()))
}

fn parse_all<T: DeserializeOwned>(
    values: Vec<serde_json::Value>,
    names: &[String],
    kind: &str,
) -> anyhow::Result<Vec<T>> {
    values
        .into_iter()
        .zip(names)
        .map(|(v, name)| {
            serde_json::from_value(v).with_context(|| {
                format!("'{name}' does not match the {kind} result schema (schema/{kind}.schema.json); was it written by another version of fogg?")
            })
        })
        .collect()
}

/// Runs the command, writing the report to `out`.
pub fn run(args: &MergeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let names: Vec<String> = args.results.iter().map(|p| p.display().to_string()).collect();
    let mut values = Vec::new();
    let mut kind: Option<String> = None;
    for (path, name) in args.results.iter().zip(&names) {
        let value = read_json(path)?;
        let this = match value.get("kind").and_then(|k| k.as_str()) {
            Some(k @ ("simulate" | "load")) => k.to_owned(),
            Some(k) => bail!(
                "'{name}' is a {k} result: fogg merge combines shards of `fogg simulate` or `fogg load`"
            ),
            None => bail!("'{name}' has no \"kind\": it is not a fogg result"),
        };
        match &kind {
            Some(k) if *k != this => bail!(
                "'{name}' is a {this} result but '{}' is a {k} result: merge shards of one run",
                names[0]
            ),
            _ => kind = Some(this),
        }
        values.push(value);
    }
    match kind.as_deref() {
        Some("simulate") => {
            if !args.thresholds.is_empty() {
                bail!("--threshold applies to load results; these are simulations");
            }
            let merged = merge_simulations(&parse_all::<SimResult>(values, &names, "simulate")?, &names)?;
            publish(args, &merged, &merged.scenario.source, out)?;
            Ok(Outcome::Pass)
        }
        _ => {
            let parts = parse_all::<LoadResult>(values, &names, "load")?;
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
            publish(args, &merged, &merged.scenario.source.clone(), out)?;
            Ok(match verdict {
                Verdict::Pass => Outcome::Pass,
                Verdict::Fail => Outcome::Fail,
            })
        }
    }
}

fn publish<R: Reportable>(
    args: &MergeArgs,
    merged: &R,
    source: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if let Some(path) = &args.output {
        let mut bytes = serde_json::to_vec_pretty(merged)?;
        bytes.push(b'\n');
        std::fs::write(path, bytes).with_context(|| format!("writing '{}'", path.display()))?;
    }
    let stem = super::simulate::stem_of_source(source);
    let output = report::Output { format: args.format, quiet: args.quiet, dir: &args.out, stem: &stem };
    report::publish(merged, &output, out)
}
