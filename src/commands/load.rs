//! `fogg load`, and the parts `fogg capacity` shares with it: the load
//! section of a scenario, its thresholds, and the target (a given URL, or
//! the demo shop started in-process).

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::cli::{LoadArgs, LoadRunArgs};
use fogg_core::shard::Shard;
use fogg_load::live::Live;
use fogg_load::live::dashboard::PageInfo;
use fogg_load::plan::{Judge, Judged, Judging, RateProfile, Workload};
use fogg_load::recorder::LoadAgg;
use fogg_load::signals::{say_when_signalled, signal_counter};
use fogg_load::spec::LoadSpec;
use fogg_load::target::Target;
use fogg_load::threshold::{Threshold, with_unit};
use fogg_load::{LoadOutcome, LoadPlan, StopReason, run as run_load};
use fogg_model::Model;
use fogg_report as report;
use fogg_report::ReportFormat;
use fogg_result::{LoadResult, Verdict};
use fogg_scenario as scenario;

/// What a load or capacity run starts from: the scenario's journeys and
/// load section, with the command line's thresholds added.
pub(super) struct LoadSetup {
    /// The journeys.
    pub model: Model,
    /// The scenario's `[load]` section.
    pub spec: LoadSpec,
    /// Scenario thresholds, replaced or joined by `--threshold`.
    pub thresholds: Vec<Threshold>,
    /// The scenario's `[calendar]`, if any.
    pub calendar: Option<fogg_core::calendar::Calendar>,
}

impl LoadSetup {
    /// Loads the scenario `args` name and checks it can send traffic.
    pub(super) fn of<const LOAD: bool>(args: &LoadRunArgs<LOAD>) -> anyhow::Result<LoadSetup> {
        let scenario = super::scenario(args.scenario.as_deref(), scenario::Use::Traffic)?;
        let section = scenario.load_section()?;
        let thresholds = section.thresholds_with(&scenario.model, &args.thresholds)?;
        let spec = section.spec.clone();
        Ok(LoadSetup { model: scenario.model, spec, thresholds, calendar: scenario.calendar })
    }
}

/// Runs the command, writing the report to `out`.
pub fn run(args: &LoadArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    // Signal handlers first: Ctrl-C or SIGTERM during setup then stops the
    // run at its start, with a report, rather than killing the process.
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let signals = runtime.block_on(async {
        let signals = signal_counter();
        say_when_signalled(
            signals.clone(),
            "stopping; customers in flight get the grace period, then the reports are written",
        );
        signals
    });
    let common = &args.run;
    let LoadSetup { model, spec, thresholds, .. } = LoadSetup::of(common)?;
    if common.report.format == ReportFormat::Junit && thresholds.is_empty() {
        bail!(
            "--format junit writes threshold verdicts, and this run has none: add --threshold 'p99 < 500ms'"
        );
    }
    let shard = Shard::resolve(args.shard)?;
    let replay = args
        .forecast
        .as_deref()
        .map(|path| {
            super::replay::replay(path, &args.window, args.time_scale, args.forecast_strategy.as_deref())
        })
        .transpose()?;
    let duration = replay.as_ref().map_or(args.duration.unwrap_or(spec.duration), |r| r.duration);
    let plan = LoadPlan {
        max_customers: args.customers.map(|n| {
            let part = shard.customers(n);
            part.end - part.start
        }),
        shard,
        debug_customers: args.debug.unwrap_or(0),
        ..common.plan(duration, workload(args, &spec, shard, replay.as_ref())?, args.grace)
    };
    plan.check_rate()?;
    plan.check_pool(spec.max_in_flight)?;
    plan.check_open_files(spec.max_in_flight)?;
    if args.abort_on_fail.is_some() && thresholds.is_empty() {
        bail!(
            "--abort-on-fail stops a run when a threshold fails, and this run has none: add --threshold 'p99 < 500ms'"
        );
    }
    let stem = shard.file_stem(super::simulate::stem(&model));
    let model = Arc::new(model);
    let after_run = signals.clone();
    let (mut result, live) = runtime.block_on(async {
        let target = Target::start(common.target.target.as_ref(), common.target.demo()?).await?;
        let dashboard = args.dashboard.map(|addr| {
            let page = PageInfo {
                scenario: model.name.clone(),
                target: target.url().to_owned(),
                duration_s: plan.duration.as_secs_f64(),
                thresholds: thresholds.iter().map(|t| t.expr.clone()).collect(),
            };
            (addr, page)
        });
        let live = Live::start(&common.live(dashboard), &model.name, shard).await?;
        // The dashboard shows the thresholds' state, and --abort-on-fail
        // stops on it: both judge them each second.
        let judging = (!thresholds.is_empty() && (args.abort_on_fail.is_some() || args.dashboard.is_some()))
            .then(|| Judging {
                judge: judge(&model, &spec, &plan, target.url(), thresholds.clone()),
                abort_after: args.abort_on_fail,
            });
        let plan = LoadPlan { judging, ..plan };
        let outcome =
            run_load(Arc::clone(&model), spec.clone(), target.url(), &plan, signals, live.as_ref()).await?;
        anyhow::Ok((LoadResult::new(&model, &spec, &plan, target.url(), &outcome), live))
    })?;
    // Signals from now on end the waits for metrics receivers.
    let seen = *after_run.borrow();
    if !common.quiet && std::io::stderr().is_terminal() {
        fogg_core::say!(); // end the progress line
    }
    result.notes.extend(replay.map(|r| r.note));
    let verdict = result.check(&thresholds);
    let output = common.report.to_output(common.quiet, &stem);
    let published = report::publish(&result, &output, out);
    if let Some(live) = live {
        // The dashboard turns into the report, as the file has it.
        let page = args.dashboard.and_then(|_| {
            let mut html = Vec::new();
            report::write(&result, ReportFormat::Html, &mut html).ok()?;
            Some(String::from_utf8_lossy(&html).into_owned())
        });
        runtime.block_on(live.finish(page, after_run, seen));
    }
    published?;
    nothing_answered(&result)?;
    Ok(verdict)
}

/// An error when the run measured nothing: every request failed to
/// connect (a TLS problem named with its fix, or a target that is not
/// running), or a signal came before the first request.
fn nothing_answered(result: &LoadResult) -> anyhow::Result<()> {
    if result.refused_every_connection()
        && let Some(tls) = result.commonest_failure().filter(|r| r.starts_with("TLS"))
    {
        bail!(
            "the target {} answered no request: {tls} (the reports above were still written)",
            result.target
        );
    }
    if result.refused_every_connection() {
        bail!(
            "the target {} did not answer: {} failed to connect (is it running? the reports above were still written)",
            result.target,
            match result.requests {
                1 => "the one request".to_owned(),
                n => format!("all {} requests", report::fmt::int(n)),
            }
        );
    }
    if result.requests == 0 && result.stopped_by == StopReason::Interrupted {
        bail!(
            "interrupted by a signal before any request was sent: nothing was measured (the reports above were still written)"
        );
    }
    Ok(())
}

/// The thresholds as a judge of a run so far: a result is made of the
/// counts and time so far (rates over that time) and checked; each
/// threshold's state.
fn judge(
    model: &Arc<Model>,
    spec: &LoadSpec,
    plan: &LoadPlan,
    target: &str,
    thresholds: Vec<Threshold>,
) -> Judge {
    let (model, spec, plan, target) = (Arc::clone(model), spec.clone(), plan.clone(), target.to_owned());
    let names: Vec<String> = spec.request_names().into_iter().map(str::to_owned).collect();
    Arc::new(move |agg: LoadAgg, elapsed: std::time::Duration| {
        let so_far = LoadOutcome {
            agg,
            request_names: names.clone(),
            elapsed,
            arrival_window: elapsed.min(plan.duration),
            stopped_by: StopReason::Duration,
            started_at_unix_ms: 0,
            failed_threshold: None,
        };
        let mut result = LoadResult::new(&model, &spec, &plan, &target, &so_far);
        result.check(&thresholds);
        result
            .thresholds
            .iter()
            .map(|t| Judged {
                expr: t.expr.clone(),
                observed: t.observed.map(|v| with_unit(Some(v), t.unit)),
                passed: t.passed,
            })
            .collect()
    })
}

/// The scenario's workload, or `--rate`, or a forecast's replay, scaled
/// by `--rate-scale`; each shard takes 1/N of the rate, or its part of a
/// closed pool.
fn workload(
    args: &LoadArgs,
    spec: &LoadSpec,
    shard: Shard,
    replay: Option<&super::replay::Replay>,
) -> anyhow::Result<Workload> {
    let workload = match (args.rate, replay) {
        (Some(r), _) => Workload::Open(RateProfile::Constant(r)),
        (None, Some(replay)) => Workload::Open(replay.profile.clone()),
        (None, None) => spec.workload.clone(),
    }
    .scaled(args.rate_scale);
    Ok(match workload {
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
    })
}
