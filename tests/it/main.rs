//! fogg's integration tests: one binary, one module per theme.

mod alloc;
mod attribute;
mod capacity;
mod cli;
mod compare;
mod deploy;
mod exact;
mod examples;
mod fit;
mod load;
mod reports;
mod scenario_errors;
mod schema;
mod shards;
mod simulate;
mod thresholds;
mod whatif;

use fogg::commands::simulate::simulate_model;
use fogg::model::Model;
use fogg::result::SimResult;
use fogg::sim::{SimOutcome, SimPlan};

/// Two pages, 20 ms apart: 1.6 requests per customer, so the request rate
/// follows the arrival rate within a fraction of a second.
pub const SHORT_JOURNEYS: &str = r#"
[scenario]
name = "two pages"
[[channel]]
id = "web"
kind = "online"
[entry]
home = 1
[[state]]
id = "home"
stage = "awareness"
channel = "web"
next = { product = 6, exit = 4 }
[[state]]
id = "product"
stage = "purchase"
channel = "web"
conversion = true
value = { dist = "constant", value = 10.0 }
next = { exit = 1 }
[load]
think_time = { dist = "constant", value = "20ms" }
patience = { dist = "constant", value = "1h" }
[[load.request]]
state = "home"
path = "/"
[[load.request]]
state = "product"
path = "/product/{product}"
"#;

/// Writes [`SHORT_JOURNEYS`] as `two-pages.toml` in `dir`.
pub fn short_journeys(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("two-pages.toml");
    std::fs::write(&path, SHORT_JOURNEYS).expect("write scenario");
    path
}

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
    let plan = SimPlan {
        seed,
        customers: 0..n,
        run_customers: n,
        export_paths: export,
        shard: fogg::shard::Shard::WHOLE,
    };
    simulate_model(model, &plan, Some(threads)).expect("simulation runs")
}

/// A result with the fields that vary between runs (timings) blanked.
pub fn without_run_info(mut r: SimResult) -> SimResult {
    r.run.elapsed_s = 0.0;
    r.run.steps_per_s = 0.0;
    r.run.threads = 0;
    r
}
