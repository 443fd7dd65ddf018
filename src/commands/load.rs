//! `fogg load`, and the parts `fogg capacity` shares with it: the load
//! section of a scenario, its thresholds, and the target (a given URL, or
//! the demo shop started in-process).

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::cli::LoadArgs;
use crate::load::plan::{RateProfile, Workload};
use crate::load::target::Target;
use crate::load::{LoadPlan, run as run_load};
use crate::report;
use crate::report::ReportFormat;
use crate::result::{LoadResult, Verdict};
use crate::scenario;
use crate::shard::Shard;

/// Runs the command, writing the report to `out`.
pub fn run(args: &LoadArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    args.report.check("load", ReportFormat::LOAD)?;
    let scenario = scenario::load(args.scenario.as_deref())?;
    let section = scenario.load_section()?;
    let thresholds = section.thresholds_with(&scenario.model, &args.thresholds)?;
    let spec = &section.spec;
    if args.report.format == ReportFormat::Junit && thresholds.is_empty() {
        bail!(
            "--format junit writes threshold verdicts, and this run has none: add --threshold 'p99 < 500ms'"
        );
    }
    let workload = args
        .rate
        .map_or_else(|| spec.workload.clone(), |r| Workload::Open(RateProfile::Constant(r)))
        .scaled(args.rate_scale);
    let shard = Shard::resolve(args.shard)?;
    // Each shard takes 1/N of the rate, or its part of a closed pool.
    let workload = match workload {
        Workload::Closed(n) => {
            let part = shard.customers(n);
            if part.is_empty() {
                bail!(
                    "a closed pool of {n} customers cannot be split into {} shards: use fewer shards",
                    shard.count
                );
            }
            Workload::Closed(part.end - part.start)
        }
        open => open.scaled(1.0 / f64::from(shard.count)),
    };
    let max_customers = args.customers.map(|n| {
        let part = shard.customers(n);
        part.end - part.start
    });
    let plan = LoadPlan {
        seed: args.seed,
        duration: args.duration.unwrap_or(spec.duration),
        workload,
        max_customers,
        grace: args.grace,
        insecure: args.target.insecure,
        http2: args.target.http2,
        progress: !args.quiet,
        abort_on_error_rate: None,
        shard,
    };
    let stem = shard.file_stem(super::simulate::stem(&scenario.model));
    let model = Arc::new(scenario.model.clone());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let mut result = runtime.block_on(async {
        let target = Target::start(args.target.target.as_ref(), args.target.demo()?).await?;
        let outcome = run_load(Arc::clone(&model), spec.clone(), target.url(), &plan).await?;
        anyhow::Ok(LoadResult::new(&model, spec, &plan, target.url(), &outcome))
    })?;
    if !args.quiet && std::io::stderr().is_terminal() {
        eprintln!(); // end the progress line
    }
    let verdict = result.check(&thresholds);
    let output = args.report.to_output(args.quiet, &stem);
    report::publish(&result, &output, out)?;
    if result.refused_every_connection() {
        bail!(
            "the target {} did not answer: all {} requests failed to connect (is it running? the reports above were still written)",
            result.target,
            result.requests
        );
    }
    Ok(verdict)
}
