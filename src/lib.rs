//! fogg simulates how customers travel through a company's channels, from
//! awareness to purchase and loyalty, online and offline, and (in later
//! modes) load-tests the company's site with the same journeys.
//!
//! This crate is the command line on top of the workspace: [`cli`] parses
//! it, and each of [`commands`] plans a run, calls an engine and publishes
//! the result. The pipeline below it, one crate per layer (ARCHITECTURE.md):
//! a scenario file ([`fogg_scenario`]) compiles into an immutable
//! [`fogg_model::Model`]; [`fogg_model::Model::walk`] yields one customer's
//! journey from an RNG made by [`fogg_core::rng::customer_rng`]; the
//! simulator ([`fogg_engine::sim`]) walks customers in parallel into
//! mergeable aggregates; a [`fogg_result::SimResult`] feeds every report
//! format ([`fogg_report`]).

#![warn(missing_docs)]

pub mod cli;
pub mod commands;

use std::io::Write;

/// Runs a parsed command line, writing the main report to `out`.
pub fn run(cli: &cli::Cli, out: &mut dyn Write) -> anyhow::Result<fogg_core::verdict::Verdict> {
    if let Some(dir) = cli.command.report_dir() {
        fogg_report::prepare_dir(dir)?;
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
