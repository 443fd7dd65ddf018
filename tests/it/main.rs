//! fogg's integration tests: one binary, one module per theme.

mod alloc;
mod capacity;
mod cli;
mod exact;
mod load;
mod scenario_errors;
mod schema;
mod simulate;
mod thresholds;

use fogg::commands::simulate::simulate_model;
use fogg::model::Model;
use fogg::result::SimResult;
use fogg::sim::{SimOutcome, SimPlan};

/// The `fogg` binary, ready to take arguments.
pub fn fogg() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("fogg").expect("the fogg binary is built for tests")
}

/// A bundled scenario, compiled.
pub fn bundled(name: &str) -> Model {
    fogg::scenario::bundled(name).expect("bundled scenario exists").expect("bundled scenario is valid")
}

/// Simulates customers `0..n` in-process.
pub fn simulate(model: &Model, n: u64, seed: u64, threads: usize, export: bool) -> (SimResult, SimOutcome) {
    let plan = SimPlan { seed, customers: 0..n, run_customers: n, export_paths: export };
    simulate_model(model, &plan, Some(threads)).expect("simulation runs")
}

/// A result with the fields that vary between runs (timings) blanked.
pub fn without_run_info(mut r: SimResult) -> SimResult {
    r.run.elapsed_s = 0.0;
    r.run.steps_per_s = 0.0;
    r.run.threads = 0;
    r
}
