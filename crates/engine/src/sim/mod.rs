//! The simulate driver: walks customers in parallel with rayon and folds
//! them into [`SimAgg`]s, merged at the end.
//!
//! Customer `i` walks with `customer_rng(seed, i)`, so the result is the
//! same for any thread count. Per step the walker only bumps counters and
//! pushes one byte into a reused buffer: no allocation, no lock.

pub mod agg;
pub mod paths;
pub mod stats;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

pub use agg::SimAgg;
use paths::{Candidates, SAMPLE_CUSTOMERS};

use fogg_core::merge::Merge;
use fogg_core::rng::{CustomerRngs, Stream};
use fogg_model::{JourneyEnd, Model};

/// Customers per unit of parallel work.
const CHUNK: u64 = 8192;

/// A running simulation's counter of finished customers, and the flag
/// that stops it (a signal): once set, no new chunk of customers starts,
/// and the run returns what it walked.
#[derive(Debug, Default)]
pub struct Progress {
    /// Customers walked so far.
    pub done: AtomicU64,
    /// Set to stop at the next chunk.
    pub stop: AtomicBool,
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimPlan {
    /// Seed of the run.
    pub seed: u64,
    /// Customer indices to walk (`0..n` for a whole run, a slice of it for
    /// a shard).
    pub customers: Range<u64>,
    /// Customers in the whole run. Top-path candidates are chosen from its
    /// first customers, so every part of a run counts the same paths.
    pub run_customers: u64,
    /// Keep every path for `--export-paths`.
    pub export_paths: bool,
    /// Which shard of the run `customers` is (the whole run: 1/1).
    pub shard: fogg_core::shard::Shard,
}

/// A finished simulation: the merged aggregate and the candidate paths its
/// path counts refer to.
#[derive(Debug, Clone)]
pub struct SimOutcome {
    /// Merged aggregates.
    pub agg: SimAgg,
    /// Candidate top paths (indices match `agg.path_customers`).
    pub candidates: Candidates,
    /// Stopped before every customer of the plan was walked: the counts
    /// are of the chunks that ran, not of a prefix of the customers.
    pub interrupted: bool,
}

/// A simulation on a worker pool of its own: the outcome, the pool's size
/// and how long the walk took.
#[derive(Debug, Clone)]
pub struct SimRun {
    /// Merged aggregates and candidate paths.
    pub outcome: SimOutcome,
    /// Worker threads used.
    pub threads: usize,
    /// Wall time of the walk, in seconds.
    pub elapsed_s: f64,
}

/// Simulates `plan` on a pool of `threads` workers (one per core when
/// `None`); `progress` counts finished customers as the run goes, and
/// stops it.
pub fn simulate_on_pool(
    model: &Model,
    plan: &SimPlan,
    threads: Option<usize>,
    progress: &Progress,
) -> Result<SimRun, rayon::ThreadPoolBuildError> {
    let run = fogg_core::pool::on_pool(threads, || simulate(model, plan, progress))?;
    Ok(SimRun { outcome: run.value, threads: run.threads, elapsed_s: run.elapsed_s })
}

/// Reused per-worker buffers.
struct Scratch {
    /// Channels of the current journey, consecutive repeats collapsed.
    path: Vec<u8>,
    /// Every channel touched since the last conversion (export only).
    raw: Vec<u8>,
}

impl Scratch {
    fn new(model: &Model) -> Scratch {
        let cap = model.max_steps as usize + 1;
        Scratch { path: Vec::with_capacity(cap), raw: Vec::with_capacity(cap) }
    }
}

/// Runs the plan on the current rayon pool. `progress` counts finished
/// customers as the run goes; its stop flag ends the run at the next
/// chunk.
pub fn simulate(model: &Model, plan: &SimPlan, progress: &Progress) -> SimOutcome {
    let candidates = choose_candidates(model, plan.seed, plan.run_customers);
    let Range { start, end } = plan.customers;
    let chunks = (end - start).div_ceil(CHUNK);
    let rngs = CustomerRngs::new(plan.seed, Stream::Journey);
    let new_agg = || SimAgg::new(model, candidates.len(), plan.export_paths);
    // Once stopped, no chunk starts, and the chunks left are never
    // visited (rayon stops splitting them): a stop takes a chunk's time,
    // however many customers the run has.
    let agg = (0..chunks)
        .into_par_iter()
        .take_any_while(|_| !progress.stop.load(Ordering::Relaxed))
        .fold(
            || (new_agg(), Scratch::new(model)),
            |(mut agg, mut scratch), chunk| {
                let from = start + chunk * CHUNK;
                let to = (from + CHUNK).min(end);
                for customer in from..to {
                    walk_customer(model, &rngs, customer, &candidates, &mut scratch, &mut agg);
                }
                progress.done.fetch_add(to - from, Ordering::Relaxed);
                (agg, scratch)
            },
        )
        .map(|(agg, _)| agg)
        .reduce(new_agg, |mut a, b| {
            a.merge(&b);
            a
        });
    let interrupted = agg.customers < end - start;
    SimOutcome { agg, candidates, interrupted }
}

/// Walks the first customers of the run (at most [`SAMPLE_CUSTOMERS`], and
/// never more than the run has) to choose the candidate top paths.
pub fn choose_candidates(model: &Model, seed: u64, run_customers: u64) -> Candidates {
    let none = Candidates::default();
    let rngs = CustomerRngs::new(seed, Stream::Journey);
    let mut agg = SimAgg::new(model, 0, false);
    let mut scratch = Scratch::new(model);
    let mut counts: HashMap<Box<[u8]>, u64> = HashMap::new();
    for customer in 0..SAMPLE_CUSTOMERS.min(run_customers) {
        walk_customer(model, &rngs, customer, &none, &mut scratch, &mut agg);
        match counts.get_mut(scratch.path.as_slice()) {
            Some(c) => *c += 1,
            None => {
                counts.insert(scratch.path.as_slice().into(), 1);
            }
        }
    }
    Candidates::from_counts(counts)
}

/// Walks one customer and adds the journey to `agg`.
#[inline]
fn walk_customer(
    model: &Model,
    rngs: &CustomerRngs,
    customer: u64,
    candidates: &Candidates,
    scratch: &mut Scratch,
    agg: &mut SimAgg,
) {
    let mut rng = rngs.customer(customer);
    let mut journey = model.walk(&mut rng);
    let segment = journey.segment().0 as usize;
    let exporting = agg.export.is_some();
    scratch.path.clear();
    scratch.raw.clear();
    let mut stages: u64 = 0;
    let mut conversions: u64 = 0;
    let mut elapsed_s = 0.0;
    let mut first_conversion_s: Option<f64> = None;
    for step in &mut journey {
        let state = &model.states[step.state.0 as usize];
        let channel = state.channel.0;
        agg.touches[channel as usize] += 1;
        stages |= 1 << state.stage.0;
        if scratch.path.last() != Some(&channel) {
            scratch.path.push(channel);
        }
        if exporting {
            scratch.raw.push(channel);
        }
        if state.conversion {
            let cents = fogg_model::cents(step.value);
            conversions += 1;
            agg.revenue_cents += u128::from(cents);
            agg.channel_conversions[channel as usize] += 1;
            agg.channel_revenue_cents[channel as usize] += u128::from(cents);
            first_conversion_s.get_or_insert(elapsed_s);
            if let Some(export) = agg.export.as_mut() {
                export.add(&scratch.raw, 1, u128::from(cents), 0);
                scratch.raw.clear();
            }
        }
        elapsed_s += step.dwell_s;
    }
    let steps = journey.steps();
    let truncated = journey.end() == Some(JourneyEnd::Truncated);

    agg.customers += 1;
    agg.steps += u64::from(steps);
    agg.truncated += u64::from(truncated);
    agg.conversions += conversions;
    agg.conversions_sq += conversions * conversions;
    agg.segment_customers[segment] += 1;
    agg.segment_conversions[segment] += conversions;
    agg.journey_steps.record(steps);
    // A journey can have no touch at all when a what-if removed the
    // channel it would have started on: it reached no stage.
    if stages != 0 {
        agg.furthest_stage[63 - stages.leading_zeros() as usize] += 1;
    }
    let mut bits = stages;
    while bits != 0 {
        agg.stage_visitors[bits.trailing_zeros() as usize] += 1;
        bits &= bits - 1;
    }
    let converted = conversions > 0;
    if let Some(t) = first_conversion_s {
        agg.converted_customers += 1;
        agg.segment_converted[segment] += 1;
        agg.time_to_conversion_s.saturating_record(t.round() as u64);
    }
    if let Some(i) = candidates.find(&scratch.path) {
        agg.path_customers[i] += 1;
        agg.path_converted[i] += u64::from(converted);
    }
    // A journey without touches has no path to export.
    if !converted
        && !scratch.raw.is_empty()
        && let Some(export) = agg.export.as_mut()
    {
        export.add(&scratch.raw, 0, 0, 1);
    }
}
