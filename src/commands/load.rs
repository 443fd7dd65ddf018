//! `fogg load`.

use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};

use crate::Outcome;
use crate::cli::LoadArgs;
use crate::load::plan::{RateProfile, Workload};
use crate::load::{LoadPlan, run as run_load};
use crate::report;
use crate::result::LoadResult;
use crate::scenario;

/// Runs the command, writing the report to `out`.
pub fn run(args: &LoadArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let model = scenario::load(args.scenario.as_deref())?;
    let spec = model.load.clone().ok_or_else(|| {
        anyhow!(
            "scenario '{}' has no [load] section: add one that maps states to requests (see docs/scenario.md, \"Load mode\")",
            model.source
        )
    })?;
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        bail!("--rate must be a positive number of customers per second (got {rate})");
    }
    if !(args.rate_scale.is_finite() && args.rate_scale > 0.0) {
        bail!("--rate-scale must be a positive number (got {})", args.rate_scale);
    }
    let workload = args
        .rate
        .map_or_else(|| spec.workload.clone(), |r| Workload::Open(RateProfile::Constant(r)))
        .scaled(args.rate_scale);
    let plan = LoadPlan {
        seed: args.seed,
        duration: args.duration.unwrap_or(spec.duration),
        workload,
        max_customers: args.customers,
        grace: args.grace,
        insecure: args.insecure,
        http2: args.http2,
        progress: true,
    };
    let demo_config = super::demo::config(args.demo_capacity, args.demo_latency, 1000)?;
    let stem = super::simulate::stem(&model);
    let model = Arc::new(model);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let (result, dead) = runtime.block_on(async {
        // With no target, a demo shop on a free loopback port stands in.
        let demo = match &args.target {
            Some(_) => None,
            None => Some(
                crate::demo::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), demo_config)
                    .await
                    .context("starting the demo shop")?,
            ),
        };
        let target = match (&args.target, &demo) {
            (Some(t), _) => t.clone(),
            (None, Some(d)) => d.url(),
            (None, None) => unreachable!("a demo shop runs when no target is given"),
        };
        reqwest::Url::parse(&target).with_context(|| format!("--target '{target}' is not a URL"))?;
        let outcome = run_load(Arc::clone(&model), spec.clone(), &target, &plan).await?;
        let result = LoadResult::new(&model, &spec, &plan, &target, &outcome);
        let dead = result.requests > 0 && result.errors.connect == result.requests;
        anyhow::Ok((result, dead))
    })?;
    if std::io::stderr().is_terminal() {
        eprintln!(); // end the progress line
    }
    report::publish(&result, args.format, &args.out, &stem, out)?;
    if dead {
        bail!(
            "the target {} did not answer: all {} requests failed to connect (is it running? the reports above were still written)",
            result.target,
            result.requests
        );
    }
    Ok(Outcome::Pass)
}
