//! `fogg load`, and the parts `fogg capacity` shares with it: the load
//! section of a scenario, its thresholds, and the target (a given URL, or
//! the demo shop started in-process).

use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::cli::{LoadArgs, TargetArgs};
use crate::demo::DemoServer;
use crate::load::plan::{RateProfile, Workload};
use crate::load::{LoadPlan, run as run_load};
use crate::model::Model;
use crate::report;
use crate::report::ReportFormat;
use crate::result::{LoadResult, Verdict};
use crate::scenario::{self, LoadSection};
use crate::shard::Shard;
use crate::threshold::{self, Threshold};

/// Runs the command, writing the report to `out`.
pub fn run(args: &LoadArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    args.report.check("load", ReportFormat::LOAD)?;
    let scenario = scenario::load(args.scenario.as_deref())?;
    let section = scenario.load_section()?;
    let thresholds = thresholds(&scenario.model, section, &args.thresholds)?;
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
    let shard = Shard::resolve(args.shard).map_err(anyhow::Error::msg)?;
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
        let target = Target::start(&args.target).await?;
        let outcome = run_load(Arc::clone(&model), spec.clone(), target.url(), &plan).await?;
        anyhow::Ok(LoadResult::new(&model, spec, &plan, target.url(), &outcome))
    })?;
    if !args.quiet && std::io::stderr().is_terminal() {
        eprintln!(); // end the progress line
    }
    let verdict = result.check(&thresholds);
    let output = args.report.to_output(args.quiet, &stem);
    report::publish(&result, &output, out)?;
    if target_is_dead(&result) {
        bail!(
            "the target {} did not answer: all {} requests failed to connect (is it running? the reports above were still written)",
            result.target,
            result.requests
        );
    }
    Ok(verdict)
}

/// Whether every request failed to connect.
pub(crate) fn target_is_dead(result: &LoadResult) -> bool {
    result.requests > 0 && result.errors.connect == result.requests
}

/// The scenario's thresholds with the command line's, their request and
/// state names checked against the scenario.
pub(crate) fn thresholds(
    model: &Model,
    section: &LoadSection,
    cli: &[Threshold],
) -> anyhow::Result<Vec<Threshold>> {
    let spec = &section.spec;
    let states: Vec<&str> = model
        .states
        .iter()
        .zip(&spec.requests)
        .filter(|(_, requests)| !requests.is_empty())
        .map(|(s, _)| s.id.as_str())
        .collect();
    threshold::check_names(cli, &spec.request_names(), &states)?;
    Ok(threshold::combine(&section.thresholds, cli))
}

/// The system under test: a URL given by the user, or the demo shop
/// started on a free loopback port (stopped when this is dropped).
pub(crate) struct Target {
    url: String,
    _demo: Option<DemoServer>,
}

impl Target {
    /// Starts the demo shop unless `args` names a target (its URL was
    /// checked when the command line was parsed).
    pub(crate) async fn start(args: &TargetArgs) -> anyhow::Result<Target> {
        let target = match &args.target {
            Some(url) => Target { url: url.as_str().trim_end_matches('/').to_owned(), _demo: None },
            None => {
                let config = super::demo::config(args.demo_capacity, args.demo_latency, 1000)?;
                let demo = crate::demo::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)
                    .await
                    .context("starting the demo shop")?;
                Target { url: demo.url(), _demo: Some(demo) }
            }
        };
        Ok(target)
    }

    /// The base URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}
