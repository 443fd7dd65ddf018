//! Simulator throughput on the bundled scenarios.
//!
//! For each scenario it measures, in one run:
//! - **walk only** (the baseline): one thread walks every customer's
//!   journey with `Model::walk` and only counts the steps;
//! - **simulate, 1 thread**: the full simulator with every aggregate on;
//! - **simulate, all threads**: the same on one worker per core, and its
//!   speed-up over one thread (the thread scaling).
//!
//! Each is timed `FOGG_BENCH_REPEAT` times (default 5) and the fastest run
//! is kept, since other work on the machine only ever slows a run down.
//! Ratios compare each line with the baseline of the same run, so they are
//! meaningful across machines. Customers per run: `FOGG_BENCH_CUSTOMERS`
//! (default 10,000,000).
//!
//! Beside the bundled scenarios (whose journeys are short, 1.3 to 1.4
//! touches), a chain of about five touches per journey ([`LONGER`]) shows
//! the per-step cost apart from the per-customer one.
//!
//! Run with `cargo bench --bench simulate`; the table it prints is
//! Markdown, ready for docs/benchmarks.md.

use std::hint::black_box;
use std::time::Instant;

use fogg_core::rng::{CustomerRngs, Stream};
use fogg_engine::sim::{SimPlan, simulate_on_pool};
use fogg_model::Model;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| fogg::cli::parse_count(&v).ok()).unwrap_or(default)
}

/// Fastest of `repeat` runs of `f`, in seconds, with the steps it walked.
fn best_of(repeat: u64, mut f: impl FnMut() -> u64) -> (f64, u64) {
    let mut best = f64::INFINITY;
    let mut steps = 0;
    for _ in 0..repeat {
        let start = Instant::now();
        steps = black_box(f());
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, steps)
}

fn walk_only(model: &Model, customers: u64) -> u64 {
    let rngs = CustomerRngs::new(1, Stream::Journey);
    (0..customers).map(|i| model.walk(&mut rngs.customer(i)).count() as u64).sum()
}

/// The walk, with each step's dwell time and value kept (summed and
/// handed to `black_box`): without it, the compiler may drop the
/// computations whose results nobody reads, such as the `exp` of a
/// lognormal draw, and the walk-only line is then not the same walk.
fn walk_kept(model: &Model, customers: u64) -> u64 {
    let rngs = CustomerRngs::new(1, Stream::Journey);
    let mut kept = 0.0;
    let steps = (0..customers)
        .map(|i| {
            let mut n = 0;
            for step in model.walk(&mut rngs.customer(i)) {
                kept += step.dwell_s + step.value;
                n += 1;
            }
            n
        })
        .sum();
    black_box(kept);
    steps
}

fn simulate(model: &Model, customers: u64, threads: usize) -> u64 {
    let plan = SimPlan {
        seed: 1,
        customers: 0..customers,
        run_customers: customers,
        export_paths: false,
        shard: fogg_core::shard::Shard::WHOLE,
    };
    simulate_on_pool(model, &plan, Some(threads), &fogg_engine::sim::Progress::default())
        .expect("simulation runs")
        .outcome
        .agg
        .steps
}

/// A funnel of five stages over three channels where most journeys touch
/// every stage once and some loop back: about five touches per journey.
const LONGER: &str = r#"
[scenario]
name = "five-steps"

[[channel]]
id = "search"
kind = "online"

[[channel]]
id = "web"
kind = "online"

[[channel]]
id = "store"
kind = "offline"

[entry]
ad = 1

[[state]]
id = "ad"
stage = "awareness"
channel = "search"
dwell = { dist = "lognormal", median = "2h", p90 = "1d" }
next = { home = 9, exit = 1 }

[[state]]
id = "home"
stage = "familiarity"
channel = "web"
dwell = { dist = "exponential", mean = "20min" }
next = { product = 9, ad = 1, exit = 1 }

[[state]]
id = "product"
stage = "consideration"
channel = "web"
dwell = { dist = "gamma", mean = "10min", shape = 2.0 }
next = { cart = 8, home = 1, exit = 1 }

[[state]]
id = "cart"
stage = "decision"
channel = "web"
dwell = { dist = "lognormal", median = "5min", p90 = "1h" }
next = { pickup = 7, exit = 3 }

[[state]]
id = "pickup"
stage = "purchase"
channel = "store"
conversion = true
value = { dist = "lognormal", median = 60.0, p90 = 200.0 }
next = { exit = 1 }
"#;

fn main() {
    let customers = env_u64("FOGG_BENCH_CUSTOMERS", 10_000_000);
    let repeat = env_u64("FOGG_BENCH_REPEAT", 5);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{customers} customers per run, best of {repeat}, {cores} cores\n");
    println!("| scenario | run | time (s) | customers/s | steps/s | steps/s per core | vs walk only |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let longer = fogg_scenario::from_str(LONGER, "five-steps.toml").expect("valid").model;
    let models = fogg_scenario::BUNDLED
        .iter()
        .map(|(name, _)| (*name, fogg_scenario::bundled(name).expect("bundled").expect("valid").model))
        .chain(std::iter::once(("five-steps", longer)));
    // Per scenario: simulate on every core against simulate on one.
    let mut scaling = Vec::new();
    for (name, model) in models {
        let (base_t, base_steps) = best_of(repeat, || walk_only(&model, customers));
        let (kept_t, kept_steps) = best_of(repeat, || walk_kept(&model, customers));
        assert_eq!(kept_steps, base_steps);
        let mut rows = vec![
            ("walk only, 1 thread", 1, base_t, base_steps),
            ("walk, times kept, 1 thread", 1, kept_t, kept_steps),
        ];
        for threads in [1, cores] {
            let (t, steps) = best_of(repeat, || simulate(&model, customers, threads));
            assert_eq!(steps, base_steps, "the simulator walks the same journeys as the baseline");
            rows.push((
                if threads == 1 { "simulate, 1 thread" } else { "simulate, all threads" },
                threads,
                t,
                steps,
            ));
        }
        scaling.push((name, rows[2].2 / rows[3].2));
        for (run, threads, t, steps) in rows {
            println!(
                "| {name} | {run} | {t:.3} | {:.2} M | {:.2} M | {:.2} M | {:.2}× |",
                customers as f64 / t / 1e6,
                steps as f64 / t / 1e6,
                steps as f64 / t / 1e6 / threads as f64,
                base_t / t,
            );
        }
    }
    println!("\n| scenario | simulate, {cores} threads vs 1 thread | per thread |");
    println!("|---|---:|---:|");
    for (name, speedup) in scaling {
        println!("| {name} | {speedup:.2}× | {:.2} |", speedup / cores as f64);
    }
}
