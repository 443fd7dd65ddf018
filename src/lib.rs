//! fogg simulates how customers travel through a company's channels, from
//! awareness to purchase and loyalty, online and offline, and (in later
//! modes) load-tests the company's site with the same journeys.
//!
//! The pipeline: a scenario file ([`scenario`]) compiles into an immutable
//! [`model::Model`]; [`model::Model::walk`] yields one customer's journey
//! from an RNG made by [`rng::customer_rng`]; the simulator ([`sim`])
//! walks customers in parallel into mergeable aggregates; a
//! [`result::SimResult`] feeds every report format ([`report`]).

#![warn(missing_docs)]

pub mod attribution;
pub mod calendar;
pub mod capacity;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod console;
pub mod demo;
pub mod error;
pub mod events;
pub mod fit;
pub mod forecast;
pub mod hist;
pub mod import;
pub mod load;
pub mod merge;
pub mod model;
pub mod pool;
pub mod report;
pub mod result;
pub mod rng;
pub mod scenario;
pub mod shard;
pub mod sim;
pub mod suggest;
pub mod threshold;
pub mod units;
pub mod verdict;
pub mod whatif;

use std::io::Write;

/// Runs a parsed command line, writing the main report to `out`.
pub fn run(cli: &cli::Cli, out: &mut dyn Write) -> anyhow::Result<verdict::Verdict> {
    if let Some(dir) = cli.command.report_dir() {
        report::prepare_dir(dir)?;
    }
    match &cli.command {
        cli::Command::Simulate(args) => commands::simulate::run(args, out),
        cli::Command::Validate(args) => commands::validate::run(args, out),
        cli::Command::Load(args) => commands::load::run(args, out),
        cli::Command::Capacity(args) => commands::capacity::run(args, out),
        cli::Command::Compare(args) => commands::compare::run(args, out),
        cli::Command::Merge(args) => commands::merge::run(args, out),
        cli::Command::Report(args) => commands::report::run(args, out),
        cli::Command::Attribute(args) => commands::attribute::run(args, out),
        cli::Command::Whatif(args) => commands::whatif::run(args, out),
        cli::Command::Fit(args) => commands::fit::run(args, out),
        cli::Command::Calibrate(args) => commands::calibrate::run(args, out),
        cli::Command::Forecast(args) => commands::forecast::run(args, out),
        cli::Command::Import(args) => commands::import::run(args, out),
        cli::Command::Demo(args) => commands::demo::run(args),
        cli::Command::Completions(args) => commands::docs::completions(args, out),
        cli::Command::Man(args) => commands::docs::man(args, out),
    }
}
