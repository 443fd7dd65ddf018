//! The forecast engine: journeys placed in campaign time.
//!
//! Each replicate of a forecast draws its population (Poisson, with the
//! calendar's expected arrivals as its mean), gives customer `i` an
//! arrival time from the calendar's intensity and walks the journey from
//! there, each touch at the arrival plus the dwell times before it. What
//! falls inside the window is counted per time bin (arrivals, requests by
//! name) and per local day (arrivals, touches per channel, conversions,
//! revenue); what falls after it is the carry-over.
//!
//! Replicate `r` draws from `(seed, r)` alone and customer `i` of it from
//! `(replicate seed, i)`: a forecast is the same for any thread count,
//! and replicates are the unit that shards split and merge.

pub mod expected;
pub mod flighting;
mod grid;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;

pub use flighting::Flighting;
pub use grid::Grid;

use fogg_core::merge::Merge;
use fogg_core::rng::{CustomerRngs, Stream, customer_rng};
use fogg_model::alias::{EXIT, Target};
use fogg_model::{Model, cents};

/// Customers per unit of parallel work.
const CHUNK: u64 = 16_384;

/// The most customers a forecast walks, over every replicate and
/// strategy: a few minutes of work on one machine.
pub const MAX_WALKED: f64 = 2e9;

/// The most time bins a forecast keeps per request name.
pub const MAX_BINS: usize = 200_000;

/// How visits become requests: the `[load]` mapping, by index.
#[derive(Debug, Clone, Default)]
pub struct RequestMap {
    /// Request names (pages, then their resources), each once.
    pub names: Vec<String>,
    /// For each state, `(name index, requests per visit)`.
    pub per_state: Vec<Vec<(u16, u32)>>,
}

/// What to forecast.
#[derive(Debug, Clone)]
pub struct ForecastPlan {
    /// Seed of the run.
    pub seed: u64,
    /// The replicates this run walks (`0..R` whole, a part of it for a
    /// shard).
    pub replicates: Range<u32>,
}

/// What one variant brings in one replicate: the population and the
/// busiest bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplicatePeak {
    /// The replicate.
    pub replicate: u32,
    /// Customers who arrived in the window.
    pub customers: u64,
    /// The bin with the most requests (the first, on a tie).
    pub requests_bin: u32,
    /// Requests in it.
    pub requests: u64,
    /// Arrivals in that same bin.
    pub arrivals_then: u64,
    /// The bin with the most arrivals (the first, on a tie).
    pub arrivals_bin: u32,
    /// Arrivals in it.
    pub arrivals: u64,
}

/// A variant's forecast summed over replicates: every count is an integer
/// sum, so parts made by shards add up exactly.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Totals {
    /// Customers over every replicate.
    pub customers: u64,
    /// Arrivals per bin.
    pub arrivals: Vec<u64>,
    /// Requests per bin and name, bin-major (`bin * names + name`).
    pub requests: Vec<u64>,
    /// Σ over replicates of the square of each bin's total requests (for
    /// the spread between replicates).
    pub requests_sq: Vec<f64>,
    /// Arrivals per local day.
    pub day_arrivals: Vec<u64>,
    /// Touches per day and channel, day-major.
    pub day_touches: Vec<u64>,
    /// Conversions per day.
    pub day_conversions: Vec<u64>,
    /// Revenue per day, in cents.
    pub day_revenue_cents: Vec<u64>,
    /// Touches after the window closed.
    pub after_touches: u64,
    /// Conversions after the window closed (the carry-over).
    pub after_conversions: u64,
    /// Their revenue, in cents.
    pub after_revenue_cents: u64,
    /// Each replicate's busiest bins, in replicate order.
    pub peaks: Vec<ReplicatePeak>,
}

impl Totals {
    fn zero(grid: &Grid, names: usize, channels: usize) -> Totals {
        let days = grid.days.len();
        Totals {
            customers: 0,
            arrivals: vec![0; grid.bins],
            requests: vec![0; grid.bins * names],
            requests_sq: vec![0.0; grid.bins],
            day_arrivals: vec![0; days],
            day_touches: vec![0; days * channels],
            day_conversions: vec![0; days],
            day_revenue_cents: vec![0; days],
            after_touches: 0,
            after_conversions: 0,
            after_revenue_cents: 0,
            peaks: Vec::new(),
        }
    }
}

impl Merge for Totals {
    /// Adds `other` (another part of a replicate, another replicate, or
    /// another shard's replicates).
    fn merge(&mut self, other: &Totals) {
        self.customers += other.customers;
        self.arrivals.merge(&other.arrivals);
        self.requests.merge(&other.requests);
        self.requests_sq.merge(&other.requests_sq);
        self.day_arrivals.merge(&other.day_arrivals);
        self.day_touches.merge(&other.day_touches);
        self.day_conversions.merge(&other.day_conversions);
        self.day_revenue_cents.merge(&other.day_revenue_cents);
        self.after_touches += other.after_touches;
        self.after_conversions += other.after_conversions;
        self.after_revenue_cents += other.after_revenue_cents;
        self.peaks.extend_from_slice(&other.peaks);
        self.peaks.sort_by_key(|p| p.replicate);
    }
}

/// One variant to forecast: its model, how many customers it brings, and
/// when and where they arrive.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The (changed) model.
    pub model: &'a Model,
    /// Expected arrivals over the window (the Poisson mean of each
    /// replicate's population).
    pub customers: f64,
    /// Arrival weights per minute and the entry mix.
    pub flighting: &'a Flighting,
}

/// Forecasts `subjects` on `grid`: one [`Totals`] per
/// subject. Subjects share replicate seeds and customers' random numbers
/// (common random numbers), so their differences are paired.
///
/// Once `stop` is set, no replicate or chunk starts, and the totals are
/// of the replicates every subject finished (their peaks say which): a
/// stop takes a chunk's time, however large the run.
pub fn forecast(
    subjects: &[Subject],
    grid: &Grid,
    map: &RequestMap,
    plan: &ForecastPlan,
    stop: &AtomicBool,
) -> Vec<Totals> {
    // Replicates are summed as they finish: memory holds a few
    // replicates' bins, however many there are.
    let zero = || -> Vec<Totals> {
        subjects.iter().map(|s| Totals::zero(grid, map.names.len(), s.model.channels.len())).collect()
    };
    let add = |mut sums: Vec<Totals>, one: Vec<Totals>| {
        for (sum, part) in sums.iter_mut().zip(&one) {
            sum.merge(part);
        }
        sums
    };
    plan.replicates
        .clone()
        .into_par_iter()
        .take_any_while(|_| !stop.load(Ordering::Relaxed))
        .filter_map(|r| {
            subjects.iter().map(|subject| replicate(subject, grid, map, plan.seed, r, stop)).collect()
        })
        .fold(zero, add)
        .reduce(zero, add)
}

/// The seed and population of replicate `r` for a subject whose
/// population has mean `customers`.
pub fn replicate_draw(seed: u64, r: u32, customers: f64) -> (u64, u64) {
    let mut rng = customer_rng(seed, u64::from(r), Stream::Replicate);
    let replicate_seed = rng.next_u64();
    let n = if customers > 0.0 {
        Poisson::new(customers).map_or(customers.round(), |p| p.sample(&mut rng)) as u64
    } else {
        0
    };
    (replicate_seed, n)
}

/// Walks one replicate of one subject; `None` when `stop` cut it short.
fn replicate(
    subject: &Subject,
    grid: &Grid,
    map: &RequestMap,
    seed: u64,
    r: u32,
    stop: &AtomicBool,
) -> Option<Totals> {
    let (replicate_seed, n) = replicate_draw(seed, r, subject.customers);
    let journeys = CustomerRngs::new(replicate_seed, Stream::Journey);
    let arrivals = CustomerRngs::new(replicate_seed, Stream::Arrivals);
    let names = map.names.len();
    let channels = subject.model.channels.len();
    let zero = || Totals::zero(grid, names, channels);
    let mut totals = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .take_any_while(|_| !stop.load(Ordering::Relaxed))
        .fold(zero, |mut acc, chunk| {
            let from = chunk * CHUNK;
            let mut scratch = Vec::new();
            for customer in from..(from + CHUNK).min(n) {
                let mut arrival = arrivals.customer(customer);
                let t = subject.flighting.arrivals.at(arrival.random());
                let mut rng = journeys.customer(customer);
                if subject.flighting.is_flat() {
                    walk(subject.model.walk(&mut rng), subject, t, grid, map, &mut acc, None);
                } else {
                    let entry = subject.flighting.entry_at(t, arrival.random());
                    let journey = subject.model.walk_from(&mut rng, entry.segment, entry.state);
                    let timed = subject.flighting.moves_transitions().then_some((&mut arrival, &mut scratch));
                    walk(journey, subject, t, grid, map, &mut acc, timed);
                }
            }
            acc
        })
        .reduce(zero, |mut a, b| {
            a.merge(&b);
            a
        });
    if stop.load(Ordering::Relaxed) {
        return None;
    }
    totals.customers = n;
    let bin_total = |j: usize| totals.requests[j * names..(j + 1) * names].iter().sum::<u64>();
    let (mut requests_bin, mut requests) = (0, 0);
    let (mut arrivals_bin, mut most_arrivals) = (0, 0);
    for j in 0..grid.bins {
        let t = bin_total(j);
        totals.requests_sq[j] = (t as f64) * (t as f64);
        if t > requests {
            (requests_bin, requests) = (j, t);
        }
        if totals.arrivals[j] > most_arrivals {
            (arrivals_bin, most_arrivals) = (j, totals.arrivals[j]);
        }
    }
    totals.peaks = vec![ReplicatePeak {
        replicate: r,
        customers: n,
        requests_bin: requests_bin as u32,
        requests,
        arrivals_then: totals.arrivals[requests_bin],
        arrivals_bin: arrivals_bin as u32,
        arrivals: most_arrivals,
    }];
    Some(totals)
}

/// Walks `journey`, of a customer who arrives `arrival_s` after the
/// window's start. With `timed` (the customer's arrival RNG and a scratch
/// row), each transition whose next touch falls in the window is drawn
/// again from the chain of that minute when spend moves it then.
#[inline]
fn walk(
    mut journey: fogg_model::Journey<'_, '_, fogg_core::rng::CustomerRng>,
    subject: &Subject,
    arrival_s: f64,
    grid: &Grid,
    map: &RequestMap,
    acc: &mut Totals,
    mut timed: Option<(&mut fogg_core::rng::CustomerRng, &mut Vec<(Target, f64)>)>,
) {
    let model = subject.model;
    let names = map.names.len();
    let channels = model.channels.len();
    acc.arrivals[grid.bin(arrival_s)] += 1;
    acc.day_arrivals[grid.day(arrival_s)] += 1;
    let mut t = arrival_s;
    while let Some(step) = journey.next() {
        let state = &model.states[step.state.0 as usize];
        let value = if state.conversion { cents(step.value) } else { 0 };
        if t < grid.length_s {
            let bin = grid.bin(t);
            for &(name, count) in &map.per_state[step.state.0 as usize] {
                acc.requests[bin * names + name as usize] += u64::from(count);
            }
            let day = grid.day(t);
            acc.day_touches[day * channels + state.channel.0 as usize] += 1;
            if state.conversion {
                acc.day_conversions[day] += 1;
                acc.day_revenue_cents[day] += value;
            }
        } else {
            acc.after_touches += 1;
            if state.conversion {
                acc.after_conversions += 1;
                acc.after_revenue_cents += value;
            }
        }
        t += step.dwell_s;
        if let Some((rng, scratch)) = &mut timed
            && t < grid.length_s
        {
            let segment = &model.segments[journey.segment().0 as usize];
            let row = &segment.chain.next[step.state.0 as usize];
            if subject.flighting.row_at(model, row, subject.flighting.minute(t), scratch) {
                journey.redirect(draw(scratch, rng.random()));
            }
        }
    }
}

/// The target of `row` (probabilities) a uniform `u` in [0, 1) picks.
fn draw(row: &[(Target, f64)], u: f64) -> Target {
    let mut left = u * row.iter().map(|(_, p)| p).sum::<f64>();
    for &(target, p) in row {
        left -= p;
        if left < 0.0 {
            return target;
        }
    }
    row.last().map_or(EXIT, |&(target, _)| target)
}
