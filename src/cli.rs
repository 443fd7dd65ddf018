//! Command-line arguments (clap derive). Nothing stringly leaves this
//! module: values are parsed into their types here.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use fogg_core::shard::Shard;
use fogg_engine::attribution::{MaxSteps, PositionWeights};
use fogg_load::LoadPlan;
use fogg_load::plan::Workload;
use fogg_load::threshold::Threshold;
use fogg_report::ReportFormat;

/// Simulate how customers travel through a company's channels, and
/// load-test its site with the same journeys.
#[derive(Debug, Parser)]
#[command(name = "fogg", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate customer journeys and report conversion, revenue, cost,
    /// funnel, channels and paths beside the exact Markov-chain answers.
    Simulate(SimulateArgs),
    /// Check a scenario file and print the model it describes, or every
    /// problem found in it.
    Validate(ValidateArgs),
    /// Send virtual customers along the scenario's journeys as real HTTP
    /// traffic, and report latency, errors and the conversions slow pages
    /// cost. Without --target, a built-in demo shop is started on loopback.
    Load(LoadArgs),
    /// Find the highest arrival rate at which every threshold holds: short
    /// load trials stepping the rate up, then bisecting.
    Capacity(CapacityArgs),
    /// Compare two saved load results (latency percentiles, throughput,
    /// error rate, conversions lost) and exit 1 when one regressed beyond
    /// its tolerance.
    Compare(CompareArgs),
    /// Combine the results of shards (`--shard I/N` of simulate, whatif,
    /// forecast or load) into the result of the whole run.
    Merge(MergeArgs),
    /// Compare strategies (spend shifts, removed channels, better
    /// conversion, new touchpoints) with the same simulated customers:
    /// conversions, revenue, cost, CPA and ROAS with paired 95% intervals
    /// and the exact answers; --curve and --allocate for budgets.
    Whatif(WhatifArgs),
    /// Credit conversions to channels, from a scenario's journeys (the
    /// default) or a path file: exact Markov removal effects beside
    /// first-, last- and linear-touch.
    Attribute(AttributeArgs),
    /// Write a scenario fitted to a path file or an event log (aggregates
    /// only), and say how well it reproduces the data.
    Fit(FitArgs),
    /// Fit channels' spend response curves (Hill half_saturation, and the
    /// slope when tests at two or more spends allow) to measured lift
    /// tests, and write the calibrated scenario.
    Calibrate(CalibrateArgs),
    /// Place journeys in the scenario's [calendar]: arrivals, touches,
    /// conversions, revenue and cost per day, requests per second per
    /// request over the window, and the peak with its range across
    /// replicates, for the baseline and each strategy asked for.
    Forecast(ForecastArgs),
    /// Write a scenario skeleton from what you already have: a browser
    /// recording (HAR) becomes states, requests, resources, captures and
    /// think times, every guess commented.
    Import(ImportArgs),
    /// Re-render a saved result (JSON from any fogg command) in any format,
    /// and with --out write its full set of report files again.
    Report(ReportArgs),
    /// Run the built-in demo shop on loopback until Ctrl-C.
    Demo(DemoArgs),
    /// Print a shell completion script, e.g. `fogg completions bash >
    /// ~/.local/share/bash-completion/completions/fogg`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `fogg man | man -l -`; with a
    /// folder, write fogg.1 and one page per command into it.
    Man(ManArgs),
}

impl Command {
    /// The folder this command writes its report files into, if any:
    /// checked before any work.
    pub fn report_dir(&self) -> Option<&std::path::Path> {
        match self {
            Command::Simulate(a) => Some(&a.report.out),
            Command::Load(a) => Some(&a.run.report.out),
            Command::Capacity(a) => Some(&a.run.report.out),
            Command::Compare(a) => Some(&a.report.out),
            Command::Merge(a) => Some(&a.report.out),
            Command::Whatif(a) => Some(&a.report.out),
            Command::Attribute(a) => Some(&a.report.out),
            Command::Fit(a) => Some(&a.report.out),
            Command::Calibrate(a) => Some(&a.report.out),
            Command::Forecast(a) => Some(&a.report.out),
            Command::Report(a) => a.out.as_deref(),
            Command::Validate(_)
            | Command::Import(_)
            | Command::Demo(_)
            | Command::Completions(_)
            | Command::Man(_) => None,
        }
    }
}

/// `fogg completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `fogg man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write fogg.1 and fogg-COMMAND.1 pages into this folder instead of
    /// printing fogg.1.
    pub dir: Option<PathBuf>,
}

/// What `fogg load` and `fogg capacity` share: the scenario, the target,
/// the thresholds, the seed and the report. [`LoadRunArgs::plan`] is the
/// one place a run's [`LoadPlan`] is made from arguments.
#[derive(Debug, Args)]
pub struct LoadRunArgs<const LOAD: bool = false> {
    /// Scenario file, or the name of a bundled scenario.
    /// [default: retail-omnichannel]
    pub scenario: Option<PathBuf>,

    /// The site or API under test.
    #[command(flatten)]
    pub target: TargetArgs,

    /// A pass/fail condition, e.g. 'p99 < 500ms', 'error_rate < 1%',
    /// 'p95{request=checkout} < 1s' (repeatable; replaces a scenario
    /// threshold on the same metric). Grammar: docs/thresholds.md.
    #[arg(long = "threshold", value_name = "EXPR", value_parser = Threshold::parse)]
    pub thresholds: Vec<Threshold>,

    /// Seed: customer i walks the journey `fogg simulate` gives it, in
    /// every run and every capacity trial.
    #[arg(long, default_value_t = 1, value_parser = parse_seed)]
    pub seed: u64,

    /// The run's id (16 hex digits), from which with the seed every trace
    /// id derives [default: random, printed in the report]. Give the same
    /// id to reproduce a run's trace ids, or to every shard of one run.
    #[arg(long, value_name = "HEX", value_parser = parse_run_id)]
    pub run_id: Option<u64>,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs<LOAD>,

    /// Print only the verdict line; the report files are still written.
    #[arg(short, long)]
    pub quiet: bool,

    /// Serve the run as Prometheus metrics (OpenMetrics text at /metrics)
    /// on this address while it lasts, e.g. 127.0.0.1:9464; names and
    /// labels in docs/metrics.md.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    /// Push the same series to a Prometheus remote-write receiver every
    /// 5 s and at the end, e.g. http://127.0.0.1:9090/api/v1/write.
    #[arg(long, value_name = "URL")]
    pub prometheus_remote_write: Option<String>,

    /// Threads that send requests, each with its own event loop and
    /// connections [default: one per core for a closed pool; for arrivals
    /// at a rate, one per 10,000 expected requests/s at the peak, at most
    /// one per core].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<NonZeroUsize>,
}

impl<const LOAD: bool> LoadRunArgs<LOAD> {
    /// The live views asked for, with `dashboard` (`fogg load` only: its
    /// address and what its page says about the run).
    pub fn live(
        &self,
        dashboard: Option<(std::net::SocketAddr, fogg_load::live::dashboard::PageInfo)>,
    ) -> fogg_load::live::LiveOptions {
        fogg_load::live::LiveOptions {
            metrics: self.metrics,
            remote_write: self.prometheus_remote_write.clone(),
            dashboard,
        }
    }

    /// A whole run of `workload` for `duration` with these arguments'
    /// seed and connection settings, a progress line unless `--quiet`,
    /// and `grace` for in-flight customers. Each command changes what is
    /// its own (a shard, a customer limit, an abort rule).
    pub fn plan(&self, duration: Duration, workload: Workload, grace: Duration) -> LoadPlan {
        LoadPlan {
            seed: self.seed,
            run_id: self.run_id.unwrap_or_else(fogg_load::trace::fresh_run_id),
            duration,
            workload,
            max_customers: None,
            grace,
            insecure: self.target.insecure,
            http2: self.target.http2,
            progress: !self.quiet,
            abort_on_error_rate: None,
            judging: None,
            shard: Shard::WHOLE,
            threads: self.threads.map(NonZeroUsize::get),
            debug_customers: 0,
        }
    }
}

/// `fogg load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Scenario, target, thresholds, seed, report.
    #[command(flatten)]
    pub run: LoadRunArgs<true>,

    /// How long customers keep arriving (e.g. 30s, 2min) [default: the
    /// scenario's `[load] duration`].
    #[arg(long, value_parser = parse_positive_duration)]
    pub duration: Option<Duration>,

    /// Replace the scenario's arrival profile by a constant rate, in
    /// customers per second.
    #[arg(long, value_parser = parse_positive, conflicts_with = "forecast")]
    pub rate: Option<f64>,

    /// Replay the expected arrivals of a `fogg forecast` result (its JSON)
    /// over --window as the arrival profile; the run lasts the window
    /// divided by --time-scale.
    #[arg(long, value_name = "FILE.json", conflicts_with = "duration")]
    pub forecast: Option<PathBuf>,

    /// The part of the forecast's window to replay: `peak` (the hour
    /// around its busiest bin of arrivals) or `START..END` in local time
    /// of the forecast's zone, e.g. 2026-12-07T08:30..2026-12-07T10:00.
    #[arg(long, default_value = "peak", requires = "forecast")]
    pub window: String,

    /// Play the window K times faster: rates × K, durations ÷ K (60 plays
    /// an hour in a minute). A compression: think times and dwell within
    /// a journey are not scaled, so journeys overlap less than they will.
    #[arg(long, default_value_t = 1.0, value_parser = parse_positive, requires = "forecast")]
    pub time_scale: f64,

    /// Which of the forecast's strategies to replay [default: baseline].
    #[arg(long = "strategy", value_name = "ID", requires = "forecast")]
    pub forecast_strategy: Option<String>,

    /// Multiply every rate of the arrival profile.
    #[arg(long, default_value_t = 1.0, value_parser = parse_positive)]
    pub rate_scale: f64,

    /// Stop arrivals after this many customers (e.g. 500, 10k).
    #[arg(short = 'n', long, value_parser = parse_count)]
    pub customers: Option<u64>,

    /// Print every exchange of customers 0 to N-1 to standard error:
    /// requests and responses with headers and the first 2 KB of bodies,
    /// secrets, captured values and cookies redacted. With -n N, a dry
    /// run of N journeys.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub debug: Option<u64>,

    /// Stop early once a threshold has failed for DELAY without a break
    /// (judged each second on the data so far): arrivals stop, customers
    /// in flight get the grace period, the report says which threshold,
    /// and the exit code is 1.
    #[arg(long, value_name = "DELAY", num_args = 0..=1, default_missing_value = "10s", value_parser = parse_positive_duration)]
    pub abort_on_fail: Option<Duration>,

    /// Serve a live page of the run on this address while it lasts, e.g.
    /// 127.0.0.1:8089: latency, throughput, errors, customers in flight,
    /// conversions lost and the thresholds each second, then the final
    /// report (docs/metrics.md).
    #[arg(long, value_name = "ADDR")]
    pub dashboard: Option<std::net::SocketAddr>,

    /// After arrivals stop, how long in-flight customers may take to finish.
    #[arg(long, default_value = "10s", value_parser = parse_duration_arg)]
    pub grace: Duration,

    /// Run shard I of N: 1/N of the arrival rate (or of a closed pool),
    /// with customer indices no other shard uses; `fogg merge` combines the
    /// shards [default: from JOB_COMPLETION_INDEX and FOGG_SHARDS, or
    /// SLURM_PROCID and SLURM_NTASKS, when set].
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
}

/// `fogg capacity`.
#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// Scenario, target, thresholds (at least one is needed), seed, report.
    #[command(flatten)]
    pub run: LoadRunArgs,

    /// First rate tried, customers per second.
    #[arg(long, default_value_t = 1.0, value_parser = parse_positive)]
    pub start_rate: f64,

    /// No trial goes above this rate, customers per second.
    #[arg(long, default_value_t = 1000.0, value_parser = parse_positive)]
    pub max_rate: f64,

    /// The campaign's expected peak, customers per second; `calendar` for
    /// the busiest minute of the scenario's [calendar]; or a `fogg
    /// forecast` FILE.json, whose every strategy's peak (the top of its
    /// range across replicates) the site must hold: exit 1 when the
    /// capacity is below a peak, and report the headroom of each.
    #[arg(long, value_name = "RATE|calendar|FILE.json", value_parser = parse_expected_peak)]
    pub expected_peak: Option<ExpectedPeak>,

    /// How long arrivals go on in each trial [default: three mean journey
    /// durations of the scenario, at least 10s and at most 60s].
    #[arg(long, value_parser = parse_positive_duration)]
    pub trial: Option<Duration>,
}

/// Where `--expected-peak` comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedPeak {
    /// Customers per second, as given.
    Rate(f64),
    /// The busiest minute of the scenario's `[calendar]`.
    Calendar,
    /// The peaks of a `fogg forecast` result, one per strategy.
    Forecast(PathBuf),
}

fn parse_expected_peak(text: &str) -> Result<ExpectedPeak, ArgError> {
    if text.trim() == "calendar" {
        return Ok(ExpectedPeak::Calendar);
    }
    if text.trim().ends_with(".json") {
        return Ok(ExpectedPeak::Forecast(PathBuf::from(text.trim())));
    }
    parse_positive(text).map(ExpectedPeak::Rate).map_err(|e| ArgError::ExpectedPeak(Box::new(e)))
}

/// `fogg compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The reference result (JSON written by `fogg load`).
    pub baseline: PathBuf,

    /// The result to judge against it.
    pub current: PathBuf,

    /// How much worse a metric may get: METRIC=N% for latency (p50, p90,
    /// p95, p99, p99.9, or latency for all) and throughput, METRIC=Npp
    /// for error_rate and conversions_lost (repeatable). [defaults:
    /// latency 10%, throughput 10%, error_rate 0.5pp, conversions_lost 2pp]
    #[arg(long = "tolerance", value_name = "METRIC=VALUE", value_parser = fogg_result::compare::Tolerance::parse)]
    pub tolerances: Vec<fogg_result::compare::Tolerance>,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs,

    /// Print only the verdict line; the report files are still written.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `fogg attribute`.
#[derive(Debug, Args)]
pub struct AttributeArgs {
    /// Scenario file, or the name of a bundled scenario: its chain's exact
    /// removal effects, with heuristics from simulated journeys.
    /// [default: retail-omnichannel, unless --paths or --events is given]
    #[arg(conflicts_with = "paths")]
    pub scenario: Option<PathBuf>,

    /// Path file: `path;total_conversions;total_conversion_value;total_null`
    /// rows, channels separated by '>' (the ChannelAttribution format, and
    /// what `fogg simulate --export-paths` writes).
    #[arg(long, value_name = "FILE.csv")]
    pub paths: Option<PathBuf>,

    /// With a scenario: customers simulated for the heuristics and the
    /// attributed counts.
    #[arg(short = 'n', long, default_value = "1M", value_parser = parse_count)]
    pub customers: u64,

    /// With a scenario: seed of the simulated customers.
    #[arg(long, default_value_t = 1, value_parser = parse_seed)]
    pub seed: u64,

    /// Event log: `customer_id,timestamp,channel[,conversion_value]` rows,
    /// as `fogg fit` reads them. Each customer's touches, in time order,
    /// split after every conversion, make the paths; the time-decay rule
    /// joins the others.
    #[arg(long, value_name = "FILE.csv", conflicts_with_all = ["scenario", "paths"])]
    pub events: Option<PathBuf>,

    /// With --events: the time-decay rule's half-life, e.g. 7d or 12h.
    #[arg(long, value_name = "DURATION", default_value = "7d", requires = "events", value_parser = parse_positive_duration)]
    pub half_life: Duration,

    /// Column separator of the path file or event log, one ASCII character
    /// [default: ';' for path files, ',' for event logs].
    #[arg(long, value_parser = parse_separator)]
    pub separator: Option<u8>,

    /// What separates channels within a path (ChannelAttribution's
    /// `sep`), e.g. '|' or '->'.
    #[arg(long, value_name = "SEP", default_value = ">")]
    pub channel_separator: String,

    /// Leave out the journeys that did not convert (total_null): only
    /// converting paths make the chain, as ChannelAttribution's
    /// `var_null = None`.
    #[arg(long)]
    pub no_null: bool,

    /// Order of the fitted chain: its states are windows of K consecutive
    /// channels of a path as written (repeats kept), as
    /// ChannelAttribution's `order`.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub order: u8,

    /// Collapse repeated channels (`a > a > b` is `a > b`) before taking
    /// the order's windows, which then grow from the first channel (`a`,
    /// `a > b`): fogg's rule before it followed the package.
    #[arg(long)]
    pub collapse_repeats: bool,

    /// Cut journeys of the fitted chain after K states (they count as
    /// null), in the exact and the simulated values alike, as
    /// ChannelAttribution's `max_step`; `auto` is the package's default:
    /// the most states a path of the file walks, plus one [default: no
    /// cut].
    #[arg(long, value_name = "K|auto", value_parser = parse_max_steps)]
    pub max_steps: Option<MaxSteps>,

    /// With --paths or --events: 95% intervals of the removal effects and
    /// shares from this many Bayesian-bootstrap resamples of the journeys
    /// (e.g. 200).
    #[arg(long, value_name = "RESAMPLES", value_parser = clap::value_parser!(u64).range(2..=100_000))]
    pub intervals: Option<u64>,

    /// The position-based (U-shaped) rule: the first touch's, the middle
    /// touches' and the last touch's percentages (a path of two touches
    /// splits the first and last in proportion).
    #[arg(long, value_name = "FIRST,MIDDLE,LAST", default_value = "40,20,40", value_parser = PositionWeights::parse)]
    pub u_shape: PositionWeights,

    /// A channel the last-non-direct rule counts as direct (repeat for
    /// several) [default: the channel named 'direct', in any case, if any].
    #[arg(long, value_name = "CHANNEL")]
    pub direct: Vec<String>,

    /// Also estimate the fitted chain's removal effects by walking this
    /// many journeys on it (e.g. 1M), with their Monte-Carlo error: a
    /// cross-check of the exact values.
    #[arg(long, value_name = "JOURNEYS", value_parser = parse_count)]
    pub simulate: Option<u64>,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs,
}

/// `fogg whatif`.
#[derive(Debug, Args)]
pub struct WhatifArgs {
    /// Scenario file, or the name of a bundled scenario.
    /// [default: retail-omnichannel]
    pub scenario: Option<PathBuf>,

    /// A `[[strategy]]` of the scenario to compare (repeatable) [default:
    /// all of them, unless --change, --curve or --allocate is given].
    #[arg(long = "strategy", value_name = "ID")]
    pub strategies: Vec<String>,

    /// A change for a quick question, e.g. 'spend social +30%', 'remove
    /// print', 'conversion web_cart +10%' (repeatable: together they make
    /// one strategy, `change`). Syntax: docs/whatif.md.
    #[arg(long = "change", value_name = "CHANGE")]
    pub changes: Vec<String>,

    /// Customers simulated per strategy (the same customers in each).
    #[arg(short = 'n', long, default_value = "1M", value_parser = parse_count)]
    pub customers: u64,

    /// Seed of the simulated customers.
    #[arg(long, default_value_t = 1, value_parser = parse_seed)]
    pub seed: u64,

    /// Sweep this channel's spend from 0 to twice today's and report the
    /// exact conversions, revenue and marginal ROAS along the curve.
    #[arg(long, value_name = "CHANNEL")]
    pub curve: Option<String>,

    /// Points on the --curve.
    #[arg(long, default_value_t = 11, value_parser = clap::value_parser!(u16).range(2..=1000))]
    pub points: u16,

    /// Split this total budget per period across the channels that declare
    /// spend so as to maximise --objective; the split is then simulated as
    /// the strategy `allocation`.
    #[arg(long, value_name = "BUDGET", value_parser = parse_positive)]
    pub allocate: Option<f64>,

    /// A target for --allocate, which then searches the budget up to
    /// BUDGET: `conversions>=N` (the least budget reaching N conversions
    /// per period), `cpa<=X` (the most conversions at a cost per
    /// acquisition of at most X) or `roas>=R` (the most revenue at a
    /// return on cost of at least R).
    #[arg(long, value_name = "TARGET", requires = "allocate", value_parser = fogg_engine::whatif::allocate::Target::parse)]
    pub target: Option<fogg_engine::whatif::allocate::Target>,

    /// What --allocate maximises.
    #[arg(long, value_enum, default_value_t = fogg_engine::whatif::allocate::Objective::Conversions)]
    pub objective: fogg_engine::whatif::allocate::Objective,

    /// Limits on a channel's spend for --allocate, e.g. social=5000..40000
    /// or print=..8000 (repeatable).
    #[arg(long = "bound", value_name = "CHANNEL=MIN..MAX", value_parser = fogg_engine::whatif::allocate::Bound::parse)]
    pub bounds: Vec<fogg_engine::whatif::allocate::Bound>,

    /// Walk only shard I of N of the customers and write a result `fogg
    /// merge` combines exactly [default: from JOB_COMPLETION_INDEX and
    /// FOGG_SHARDS, or SLURM_PROCID and SLURM_NTASKS, when set].
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,

    /// Worker threads [default: one per core].
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<NonZeroUsize>,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs,
}

/// `fogg fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// A path file (`path;total_conversions;total_conversion_value;total_null`)
    /// or an event log (`customer_id,timestamp,channel` with optional
    /// `stage` and `conversion_value`), recognised by its header.
    pub input: PathBuf,

    /// The fitted scenario file to write (the fit's own reports go to
    /// --out).
    #[arg(short = 'o', long, value_name = "SCENARIO.toml")]
    pub output: PathBuf,

    /// Column separator, one ASCII character [default: ';' for path files,
    /// ',' for event logs].
    #[arg(long, value_parser = parse_separator)]
    pub separator: Option<u8>,

    /// What separates channels within a path of a path file, e.g. '|'.
    #[arg(long, value_name = "SEP", default_value = ">")]
    pub channel_separator: String,

    /// The fitted scenario's name [default: "Fitted from FILE"].
    #[arg(long)]
    pub name: Option<String>,

    /// Seed of the journeys walked on the fitted model for the check (and
    /// of the --intervals draws).
    #[arg(long, default_value_t = 1, value_parser = parse_seed)]
    pub seed: u64,

    /// 95% interval of the fitted chain's conversion rate from this many
    /// chains drawn from the posterior of the observed counts (e.g. 400).
    #[arg(long, value_name = "DRAWS", value_parser = clap::value_parser!(u64).range(2..=100_000))]
    pub intervals: Option<u64>,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs,
}

/// `fogg calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Scenario file, or the name of a bundled scenario.
    /// [default: retail-omnichannel]
    pub scenario: Option<PathBuf>,

    /// A lift test, repeatable: 'CHANNEL: FROM -> TO = LIFT ±SE', e.g.
    /// 'social: 30000 -> 39000 = +420 ±60' (spend per period; conversions
    /// per period gained, with its standard error; `+-` for `±`).
    #[arg(long = "lift", value_name = "TEST", required = true, value_parser = parse_lift)]
    pub lifts: Vec<fogg_engine::whatif::calibrate::Lift>,

    /// The calibrated scenario file to write (never the scenario read).
    #[arg(short = 'o', long, value_name = "SCENARIO.toml")]
    pub output: PathBuf,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs,
}

fn parse_lift(text: &str) -> Result<fogg_engine::whatif::calibrate::Lift, ArgError> {
    fogg_engine::whatif::calibrate::Lift::parse(text).map_err(|e| {
        // clap prints "invalid value '…' for '--lift <TEST>'" before this.
        let full = e.to_string();
        ArgError::Lift(full.split_once(": ").map_or(full.clone(), |(_, why)| why.to_owned()))
    })
}

/// `fogg import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What to import.
    #[command(subcommand)]
    pub what: ImportKind,
}

/// What `fogg import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// A HAR 1.2 file, as browser DevTools export a recording (Network tab,
    /// "Save all as HAR").
    Har(ImportHarArgs),
}

/// `fogg import har`.
#[derive(Debug, Args)]
pub struct ImportHarArgs {
    /// The recording.
    pub input: PathBuf,

    /// The scenario file to write.
    #[arg(short = 'o', long, value_name = "SCENARIO.toml")]
    pub output: PathBuf,

    /// The scenario's name [default: "Imported from FILE"].
    #[arg(long)]
    pub name: Option<String>,
}

/// `fogg report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A result written by fogg (`reports/KIND-STEM.json`).
    pub result: PathBuf,

    /// Format printed on standard output.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Also write every report file of the result into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Where a command's report goes, declared once for every command.
/// `LOAD` commands offer the load formats (JUnit, `.hgrm`) beside the
/// documents; the others offer only what their result can be written as.
#[derive(Debug, Args)]
pub struct OutputArgs<const LOAD: bool = false> {
    /// Format printed on standard output.
    #[arg(long, default_value = "table", value_parser = format_parser(LOAD))]
    pub format: ReportFormat,

    /// Folder for the report files: KIND-STEM.json, .md and .html (and,
    /// for load runs, .junit.xml when thresholds were set and .hgrm
    /// latency distributions). Created when missing.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

/// `--format`'s parser: the formats a command offers, with their help.
fn format_parser(load: bool) -> impl clap::builder::TypedValueParser<Value = ReportFormat> {
    use clap::ValueEnum;
    use clap::builder::TypedValueParser;
    let formats = if load { ReportFormat::LOAD } else { ReportFormat::DOCUMENTS };
    let values = formats.iter().filter_map(|f| f.to_possible_value());
    clap::builder::PossibleValuesParser::new(values)
        .map(|name: String| ReportFormat::from_str(&name, false).expect("a possible value is a format"))
}

impl<const LOAD: bool> OutputArgs<LOAD> {
    /// Where the report goes; `quiet` prints only the verdict line.
    pub fn to_output<'a>(&'a self, quiet: bool, stem: &'a str) -> fogg_report::Output<'a> {
        fogg_report::Output { format: self.format, quiet, dir: &self.out, stem }
    }
}

/// The target of `load` and `capacity`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Base URL of the site or API under test, http or https, e.g.
    /// http://127.0.0.1:8080 [default: a demo shop started in-process on a
    /// free loopback port].
    #[arg(long, value_parser = TargetParser)]
    pub target: Option<reqwest::Url>,

    /// Accept invalid TLS certificates (a self-signed test server).
    #[arg(long)]
    pub insecure: bool,

    /// Speak HTTP/2 from the first byte (h2c); over TLS it is negotiated.
    #[arg(long)]
    pub http2: bool,

    /// Capacity of the in-process demo shop, requests per second.
    #[arg(long, default_value_t = 500.0, value_parser = parse_positive)]
    pub demo_capacity: f64,

    /// Service time of the in-process demo shop, milliseconds.
    #[arg(long, default_value_t = 20.0, value_parser = parse_positive)]
    pub demo_latency: f64,
}

impl TargetArgs {
    /// The demo shop these arguments describe (used without --target).
    pub fn demo(&self) -> anyhow::Result<fogg_load::demo::DemoConfig> {
        let queue = fogg_load::demo::DemoConfig::default().queue;
        Ok(fogg_load::demo::DemoConfig::new(self.demo_capacity, self.demo_latency, queue)?)
    }
}

/// `fogg demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on (loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,

    /// Requests per second the shop serves at saturation.
    #[arg(long, default_value_t = 500.0, value_parser = parse_positive)]
    pub capacity: f64,

    /// Service time of one request, milliseconds.
    #[arg(long, default_value_t = 20.0, value_parser = parse_positive)]
    pub latency: f64,

    /// Requests that may queue for a worker before the shop answers 503.
    #[arg(long, default_value_t = 1000)]
    pub queue: usize,
}

fn parse_duration_arg(text: &str) -> Result<Duration, ArgError> {
    Ok(Duration::from_secs_f64(fogg_core::units::parse_duration(text)?))
}

fn parse_positive_duration(text: &str) -> Result<Duration, ArgError> {
    let d = parse_duration_arg(text)?;
    if d.is_zero() { Err(ArgError::ZeroDuration(text.to_owned())) } else { Ok(d) }
}

/// Why a command-line value was refused; clap shows the message beside
/// the option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// Not a duration.
    #[error(transparent)]
    Duration(#[from] fogg_core::units::DurationError),
    /// A duration of 0 where time must pass.
    #[error("'{0}' must be longer than 0")]
    ZeroDuration(String),
    /// Not a number.
    #[error("'{0}' is not a number: write e.g. 25 or 12.5")]
    NotANumber(String),
    /// A number of 0 or less, or not finite.
    #[error("'{0}' must be a number above 0")]
    NotPositive(String),
    /// Not one separator character.
    #[error("'{0}' is not a column separator: give one character such as ';' ',' or '|'")]
    Separator(String),
    /// Not a URL.
    #[error("'{text}' is not a URL ({reason}): write e.g. http://127.0.0.1:8080")]
    NotAUrl {
        /// What was given.
        text: String,
        /// The URL parser's reason.
        reason: String,
    },
    /// A URL of another scheme than http or https.
    #[error("'{0}:' is not a web address: fogg sends HTTP, use http:// or https://")]
    NotHttp(String),
    /// Not a count.
    #[error("'{0}' is not a count: write e.g. 1000000, 1e6, 250k or 10M")]
    NotACount(String),
    /// A count below 1, fractional, or beyond 2⁶⁴ − 1.
    #[error("'{0}' must be a whole number from 1 to 18446744073709551615 (2^64 − 1)")]
    CountRange(String),
    /// Not a run id.
    #[error("'{0}' is not a run id: give 1 to 16 hex digits, e.g. --run-id 5eed0123abcd4567")]
    RunId(String),
    /// Not a seed.
    #[error("'{0}' is not a seed: give a whole number from 0 to 18446744073709551615, e.g. --seed 42")]
    Seed(String),
    /// A target URL with `user:pass@` in it.
    #[error(
        "--target holds credentials (user:pass@), which would be printed in every report: give the bare address, and send the credentials as a header from the environment, e.g. in [load]: headers = {{ Authorization = \"Basic {{env.TARGET_AUTH}}\" }}"
    )]
    Credentials,
    /// Not a thread count fogg can run.
    #[error(
        "'{0}' is not a thread count: give a whole number from 1 to {max} ({THREADS_PER_CORE} per core of this machine's {cores}; more threads only add memory)",
        max = max_threads(),
        cores = cores()
    )]
    Threads(String),
    /// Not a step limit.
    #[error("'{0}' is not a step limit: give a whole number of states from 1, e.g. 20, or 'auto'")]
    MaxSteps(String),
    /// Not a rate, `calendar` or a forecast file.
    #[error(
        "{0}; or write `calendar` for the busiest minute of the scenario's [calendar], or a forecast's FILE.json"
    )]
    ExpectedPeak(Box<ArgError>),
    /// Not a lift test (the reason, without the text clap repeats).
    #[error("{0}")]
    Lift(String),
    /// A bin width that is not a duration.
    #[error("{0}: write e.g. 1min, 5min or 1h")]
    Resolution(fogg_core::units::DurationError),
    /// A bin width that is not whole seconds from 1 s to a day.
    #[error("'{0}' is not a whole number of seconds from 1s to 1d: write e.g. 1min, 5min or 1h")]
    ResolutionRange(String),
}

/// Most worker threads `--threads` takes per core: beyond a few per
/// core, threads only add memory (a few MB each) and switching.
pub const THREADS_PER_CORE: usize = 4;

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Most worker threads `--threads` takes: [`THREADS_PER_CORE`] per core.
pub fn max_threads() -> usize {
    THREADS_PER_CORE * cores()
}

/// Parses `--run-id`: 1 to 16 hex digits.
pub fn parse_run_id(text: &str) -> Result<u64, ArgError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 16 {
        return Err(ArgError::RunId(text.to_owned()));
    }
    u64::from_str_radix(digits, 16).map_err(|_| ArgError::RunId(text.to_owned()))
}

/// Parses `--seed`: any 64-bit whole number.
pub fn parse_seed(text: &str) -> Result<u64, ArgError> {
    text.trim().parse().map_err(|_| ArgError::Seed(text.to_owned()))
}

/// Parses `--threads`: 1 to [`max_threads`].
pub fn parse_threads(text: &str) -> Result<NonZeroUsize, ArgError> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=max_threads()).contains(&n) => Ok(NonZeroUsize::new(n).expect("at least 1")),
        _ => Err(ArgError::Threads(text.to_owned())),
    }
}

/// `fogg simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario file, or the name of a bundled scenario
    /// (retail-omnichannel, ecommerce-funnel, campaign-launch).
    /// [default: retail-omnichannel]
    pub scenario: Option<PathBuf>,

    /// Number of customers to simulate (accepts 1_000_000, 1e6, 250k, 10M).
    #[arg(short = 'n', long, default_value = "1M", value_parser = parse_count)]
    pub customers: u64,

    /// Seed: the same seed gives the same customers, whatever the threads.
    #[arg(long, default_value_t = 1, value_parser = parse_seed)]
    pub seed: u64,

    /// Worker threads [default: one per core].
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<NonZeroUsize>,

    /// Cut journeys after this many touchpoints (overrides the scenario's
    /// `max_steps`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_steps: Option<u32>,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs,

    /// Also write every simulated path, aggregated, as
    /// `path;total_conversions;total_conversion_value;total_null` CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub export_paths: Option<PathBuf>,

    /// Walk only shard I of N of the customers (numbered from 1) and write
    /// a result `fogg merge` combines [default: from JOB_COMPLETION_INDEX
    /// and FOGG_SHARDS, or SLURM_PROCID and SLURM_NTASKS, when set].
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
}

/// `fogg forecast`.
#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// Scenario file with a [calendar], or the name of a bundled scenario.
    /// [default: retail-omnichannel]
    pub scenario: Option<PathBuf>,

    /// A `[[strategy]]` of the scenario to forecast beside the baseline
    /// (repeatable).
    #[arg(long = "strategy", value_name = "ID")]
    pub strategies: Vec<String>,

    /// A change to forecast beside the baseline, e.g. 'spend social +30%'
    /// (repeatable: together they make one strategy, `change`). Syntax:
    /// docs/whatif.md.
    #[arg(long = "change", value_name = "CHANGE")]
    pub changes: Vec<String>,

    /// Independent replicates (each its own population, arrivals and
    /// journeys): the ranges of the peak are across them.
    #[arg(short = 'r', long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicates: u32,

    /// Width of the traffic bins.
    #[arg(long, default_value = "5min", value_parser = parse_resolution)]
    pub resolution: u32,

    /// Seed: the same seed gives the same forecast, whatever the threads.
    #[arg(long, default_value_t = 1, value_parser = parse_seed)]
    pub seed: u64,

    /// Worker threads [default: one per core].
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<NonZeroUsize>,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs,

    /// Walk only shard I of N of the replicates (numbered from 1) and
    /// write a result `fogg merge` combines [default: from
    /// JOB_COMPLETION_INDEX and FOGG_SHARDS, or SLURM_PROCID and
    /// SLURM_NTASKS, when set].
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
}

/// A bin width: `1min`, `5min`, `15min`, `1h` (any whole number of
/// seconds from 1 s to a day).
fn parse_resolution(text: &str) -> Result<u32, ArgError> {
    let s = fogg_core::units::parse_duration(text).map_err(ArgError::Resolution)?;
    if s.fract() != 0.0 || !(1.0..=86_400.0).contains(&s) {
        return Err(ArgError::ResolutionRange(text.to_owned()));
    }
    Ok(s as u32)
}

/// `fogg merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' result files (JSON written by `fogg simulate --shard`,
    /// `fogg whatif --shard`, `fogg forecast --shard` or `fogg load
    /// --shard`), all of one kind.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,

    /// Also write the merged JSON result to this one file (the full set
    /// of report files goes to --out).
    #[arg(short = 'o', long, value_name = "FILE.json")]
    pub output: Option<PathBuf>,

    /// For load shards: a condition the merged result must meet
    /// (repeatable; replaces a threshold the shards used on the same
    /// metric). Exit code 1 when one fails.
    #[arg(long = "threshold", value_name = "EXPR", value_parser = Threshold::parse)]
    pub thresholds: Vec<Threshold>,

    /// Print only the verdict line; the report files are still written.
    #[arg(short, long)]
    pub quiet: bool,

    /// The report: format on standard output, folder of report files.
    #[command(flatten)]
    pub report: OutputArgs<true>,
}

/// `fogg validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario file, or the name of a bundled scenario.
    /// [default: retail-omnichannel]
    pub scenario: Option<PathBuf>,
}

/// Parses a positive, finite number (a rate, a budget, a time in ms).
pub fn parse_positive(text: &str) -> Result<f64, ArgError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err(ArgError::NotPositive(text.to_owned())),
        Err(_) => Err(ArgError::NotANumber(text.to_owned())),
    }
}

/// Parses a column separator: one ASCII character.
pub fn parse_separator(text: &str) -> Result<u8, ArgError> {
    match text.as_bytes() {
        [b] if b.is_ascii() && !b.is_ascii_alphanumeric() && *b != b'"' => Ok(*b),
        _ => Err(ArgError::Separator(text.to_owned())),
    }
}

/// `--target`'s parser: [`parse_target`], with errors that do not
/// repeat the value given (clap's own would, and a `user:pass@` in it
/// must never be printed).
#[derive(Clone)]
pub struct TargetParser;

impl clap::builder::TypedValueParser for TargetParser {
    type Value = reqwest::Url;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<reqwest::Url, clap::Error> {
        let refuse = |message: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, message + "\n").with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| refuse("--target is not UTF-8 text".to_owned()))?;
        parse_target(text).map_err(|e| refuse(e.to_string()))
    }
}

/// Parses `--target`: an http or https URL. A host and port without a
/// scheme (`localhost:8080`, as curl and oha take them) is read as
/// `http://`, and a note on standard error says so.
pub fn parse_target(text: &str) -> Result<reqwest::Url, ArgError> {
    if !text.contains("://")
        && let Ok(url) = reqwest::Url::parse(&format!("http://{text}"))
        && url.host().is_some()
    {
        // Checked before the note: a `user:pass@host` is refused, never
        // echoed.
        let url = parse_target(url.as_str())?;
        eprintln!("note: --target {text} has no scheme: sending plain HTTP to {url}");
        return Ok(url);
    }
    let url = reqwest::Url::parse(text)
        .map_err(|e| ArgError::NotAUrl { text: text.to_owned(), reason: e.to_string() })?;
    if !url.username().is_empty() || url.password().is_some() {
        // Never echoed: the message names the place, not the secret.
        return Err(ArgError::Credentials);
    }
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(ArgError::NotHttp(other.to_owned())),
    }
}

/// Parses `--max-steps` of `fogg attribute`: a number of states from 1,
/// or `auto`.
pub fn parse_max_steps(text: &str) -> Result<MaxSteps, ArgError> {
    match text.trim() {
        "auto" => Ok(MaxSteps::Auto),
        t => match t.parse::<u32>() {
            Ok(k) if k >= 1 => Ok(MaxSteps::Fixed(k)),
            _ => Err(ArgError::MaxSteps(text.to_owned())),
        },
    }
}

/// Parses a customer count: digits with optional `_` separators, an
/// exponent (`1e6`) or a suffix `k`, `M`, `G`.
pub fn parse_count(text: &str) -> Result<u64, ArgError> {
    let t = text.trim().replace('_', "");
    let (digits, factor) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G') => (&t[..t.len() - 1], 1e9),
        _ => (t.as_str(), 1.0),
    };
    // Plain digits are read exactly: a float would round 2^53 + 1, and
    // saturate 2^64 to 2^64 − 1 without a word.
    if factor == 1.0
        && let Ok(n) = digits.parse::<u64>()
    {
        return if n >= 1 { Ok(n) } else { Err(ArgError::CountRange(text.to_owned())) };
    }
    let value: f64 = digits.parse().map_err(|_| ArgError::NotACount(text.to_owned()))?;
    let n = value * factor;
    // 2^64 itself is the first float beyond u64: strictly below it.
    if !((1.0..18_446_744_073_709_551_616.0).contains(&n) && n.fract() == 0.0) {
        return Err(ArgError::CountRange(text.to_owned()));
    }
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn counts_accept_human_forms() {
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("1e6"), Ok(1_000_000));
        assert_eq!(parse_count("250k"), Ok(250_000));
        assert_eq!(parse_count("10M"), Ok(10_000_000));
        assert!(parse_count("0").is_err());
        assert!(parse_count("1.5").is_err());
        assert_eq!(parse_count("many"), Err(ArgError::NotACount("many".into())));
        assert_eq!(parse_count("0"), Err(ArgError::CountRange("0".into())));
        // Exact, never rounded or clamped.
        assert_eq!(parse_count("9007199254740993"), Ok(9_007_199_254_740_993));
        assert_eq!(parse_count("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_count("18446744073709551616").is_err());
        assert!(parse_count("1e20").is_err());
        assert!(parse_count("18446744073709552k").is_err());
    }

    #[test]
    fn values_are_typed_at_parse_time() {
        assert_eq!(parse_positive("12.5"), Ok(12.5));
        assert!(parse_positive("0").is_err() && parse_positive("-3").is_err());
        assert!(parse_positive("inf").is_err() && parse_positive("NaN").is_err());
        assert_eq!(parse_positive("fast"), Err(ArgError::NotANumber("fast".into())));
        assert!(parse_duration_arg("1e300s").unwrap_err().to_string().contains("at most 100 years"));
        assert_eq!(parse_target("https://shop.test/").map(|u| u.scheme().to_owned()), Ok("https".to_owned()));
        assert_eq!(parse_target("ftp://127.0.0.1:1/"), Err(ArgError::NotHttp("ftp".into())));
        assert_eq!(parse_target("127.0.0.1:8080").map(String::from), Ok("http://127.0.0.1:8080/".to_owned()));
        assert_eq!(
            parse_target("localhost:18080/shop").map(String::from),
            Ok("http://localhost:18080/shop".to_owned())
        );
        assert!(parse_target("localhost:port").is_err());
        assert_eq!(parse_target("ann:s3cret@127.0.0.1:8080"), Err(ArgError::Credentials));
        assert_eq!(parse_separator("|"), Ok(b'|'));
        assert!(
            parse_separator(";;").is_err() && parse_separator("é").is_err() && parse_separator("a").is_err()
        );
    }
}
