//! `fogg whatif`: strategies simulated with common random numbers, paired
//! intervals for every difference, and the exact answers beside them.
//!
//! Customer `i` walks with the same generator in the baseline and in every
//! variant, so a change only moves the journeys it touches: the paired
//! differences are far less noisy than two independent runs would be. A
//! run keeps integer moments of each (baseline, variant) pair, so shards
//! and threads merge exactly; the figures and intervals come from them
//! (delta method, normal approximation).

pub mod allocate;
pub mod calibrate;
pub mod curve;
pub mod data;
pub mod paired;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use fogg_core::merge::Merge;
use fogg_core::rng::CustomerRng;
use fogg_core::rng::{CustomerRngs, Stream};
use fogg_model::alias::EXIT;
use fogg_model::{JourneyEnd, Model, StateId, Variant};
pub use paired::{Figures, PairedAccumulator, PairedMoments};

/// Customers per unit of parallel work.
const CHUNK: u64 = 4096;

/// Money per unit of touch cost kept per customer (micro-units).
const COST_UNIT: f64 = 1e6;

/// How variants draw their customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Customer `i` gets the same generator in every variant (what fogg
    /// does).
    Common,
    /// Every variant draws its own customers: only for showing what common
    /// random numbers buy.
    Independent,
}

/// One customer's outcome: conversions, converted (0 or 1), revenue in
/// cents, touch cost in micro-units.
type Outcome = [u64; 4];

/// Per-channel touch cost in micro-units of money.
fn cost_micro(model: &Model) -> Vec<u64> {
    model.channels.iter().map(|c| (c.cost_per_touch * COST_UNIT).round() as u64).collect()
}

/// Adds one step's touch cost, conversion and value to `out`.
#[inline]
fn count(out: &mut Outcome, model: &Model, cost: &[u64], state: StateId, value: f64) {
    let state = &model.states[state.0 as usize];
    out[3] += cost[state.channel.0 as usize];
    if state.conversion {
        out[0] += 1;
        out[2] = out[2].saturating_add(fogg_model::cents(value));
    }
}

/// Walks the rest of `journey`; the outcome and whether it was cut.
#[inline]
fn finish(
    mut out: Outcome,
    mut journey: fogg_model::Journey<'_, '_, CustomerRng>,
    model: &Model,
    cost: &[u64],
) -> (Outcome, bool) {
    for step in &mut journey {
        count(&mut out, model, cost, step.state, step.value);
    }
    out[1] = u64::from(out[0] > 0);
    (out, journey.end() == Some(JourneyEnd::Truncated))
}

#[inline]
fn walk(model: &Model, cost: &[u64], rng: &mut CustomerRng) -> (Outcome, bool) {
    finish([0; 4], model.walk(rng), model, cost)
}

/// One step of the baseline's journey: the state, its value, and the
/// generator as it was before the next-state draw.
#[derive(Clone)]
struct Taken {
    state: StateId,
    value: f64,
    before_next: CustomerRng,
}

/// The baseline's walk, keeping its steps in `taken` for the variants.
#[inline]
fn walk_kept(model: &Model, cost: &[u64], rng: &mut CustomerRng, taken: &mut Vec<Taken>) -> (Outcome, bool) {
    taken.clear();
    let mut out = [0u64; 4];
    let mut journey = model.walk(rng);
    let mut before = None;
    while let Some(step) = journey.next_with(|r| before = Some(r.clone())) {
        count(&mut out, model, cost, step.state, step.value);
        let before_next = before.take().expect("set before each next-state draw");
        taken.push(Taken { state: step.state, value: step.value, before_next });
    }
    // The journey has ended: this only closes the outcome.
    finish(out, journey, model, cost)
}

/// A variant's walk of the customer whose generator is `seeded` and
/// whose baseline steps are `taken`: exactly `walk(variant, seeded)`,
/// but while the variant visits the baseline's states it reuses their
/// dwell and value draws (the same generator makes the same draws) and
/// draws only its own next state.
#[inline]
fn walk_sharing(
    variant: &Model,
    cost: &[u64],
    same_draws: &[bool],
    seeded: &CustomerRng,
    taken: &[Taken],
) -> (Outcome, bool) {
    let mut rng = seeded.clone();
    let (segment, mut next) = variant.draw_start(&mut rng);
    let mut out = [0u64; 4];
    let mut steps: u32 = 0;
    for step in taken {
        let reusable = next != EXIT && StateId(next) == step.state && same_draws[next as usize];
        if !reusable || steps == variant.max_steps {
            break;
        }
        count(&mut out, variant, cost, step.state, step.value);
        rng = step.before_next.clone();
        next = variant.draw_next(segment, step.state, &mut rng);
        steps += 1;
    }
    finish(out, variant.walk_resumed(&mut rng, segment, next, steps), variant, cost)
}

/// For each state of `variant`, whether its dwell and value draws are
/// the baseline's (a strategy adds states but leaves the others' times
/// and values alone; checked, not assumed).
fn same_draws(baseline: &Model, variant: &Model) -> Vec<bool> {
    (0..variant.states.len())
        .map(|i| {
            baseline.states.get(i).is_some_and(|b| {
                let v = &variant.states[i];
                b.dwell == v.dwell
                    && b.value == v.value
                    && b.conversion == v.conversion
                    && b.channel == v.channel
            })
        })
        .collect()
}

/// The moments a paired run keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedRun {
    /// The baseline paired with itself: its own figures, every difference 0.
    pub baseline: PairedMoments,
    /// Each (baseline, variant) pair, in the order of the variants.
    pub variants: Vec<PairedMoments>,
}

/// Walks customers `customers` through the baseline once and every
/// variant once, and keeps the moments of the baseline and of each
/// (baseline, variant) pair. Once `stop` is set no new chunk starts: the
/// moments are then of the customers walked.
pub fn run_paired(
    baseline: &Model,
    variants: &[Variant],
    seed: u64,
    customers: Range<u64>,
    pairing: Pairing,
    stop: &AtomicBool,
) -> PairedRun {
    let base_cost = cost_micro(baseline);
    let costs: Vec<Vec<u64>> = variants.iter().map(|v| cost_micro(&v.model)).collect();
    let shared: Vec<Vec<bool>> = variants.iter().map(|v| same_draws(baseline, &v.model)).collect();
    let base_rngs = CustomerRngs::new(seed, Stream::Journey);
    // Each variant's own customers, when they are not the baseline's.
    let independent: Vec<CustomerRngs> = match pairing {
        Pairing::Common => Vec::new(),
        Pairing::Independent => (0..variants.len() as u64)
            .map(|v| CustomerRngs::new(seed.wrapping_add(0x9E37_79B9 * (v + 1)), Stream::Journey))
            .collect(),
    };
    let Range { start, end } = customers;
    let chunks = (end - start).div_ceil(CHUNK);
    let empty = || PairedAccumulator::new(variants.len());
    // Once stopped, no chunk starts (and those left are never visited):
    // the moments are of the customers walked, every pair complete.
    let moments = (0..chunks)
        .into_par_iter()
        .take_any_while(|_| !stop.load(Ordering::Relaxed))
        .fold(empty, |mut acc, chunk| {
            let from = start + chunk * CHUNK;
            let mut taken = Vec::new();
            for customer in from..(from + CHUNK).min(end) {
                // With common random numbers every variant starts from the
                // baseline's generator (seeded once, copied) and reuses
                // the baseline's draws while it visits the same states.
                let seeded = base_rngs.customer(customer);
                let (x, tx) = walk_kept(baseline, &base_cost, &mut seeded.clone(), &mut taken);
                acc.add_baseline(&x, tx);
                for (v, variant) in variants.iter().enumerate() {
                    let (y, ty) = match pairing {
                        Pairing::Common => {
                            walk_sharing(&variant.model, &costs[v], &shared[v], &seeded, &taken)
                        }
                        Pairing::Independent => {
                            walk(&variant.model, &costs[v], &mut independent[v].customer(customer))
                        }
                    };
                    acc.add_variant(v, &x, &y, tx || ty);
                }
            }
            acc
        })
        .reduce(empty, |mut a, b| {
            a.merge(&b);
            a
        });
    let (baseline, variants) = moments.finish();
    PairedRun { baseline, variants }
}

/// A variant's expected figures per period, from the closed form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExactFigures {
    /// Customers per period.
    pub customers: f64,
    /// Conversions per period.
    pub conversions: f64,
    /// Share of customers who convert.
    pub conversion_rate: f64,
    /// Revenue per period.
    pub revenue: f64,
    /// Spend plus touch costs per period.
    pub cost: f64,
}

impl ExactFigures {
    /// The exact figures of `variant` for `customers_per_period` baseline
    /// customers.
    pub fn of(variant: &Variant, customers_per_period: f64) -> ExactFigures {
        let e = variant.model.exact();
        let customers = customers_per_period * variant.population;
        ExactFigures {
            customers,
            conversions: customers * e.conversions_per_customer,
            conversion_rate: e.conversion_rate,
            revenue: customers * e.revenue_per_customer,
            cost: variant.spend.iter().sum::<f64>() + customers * e.touch_cost_per_customer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bundled scenario's strategies, each walked on its own from
    /// the customer's generator and paired with the baseline's walk: what
    /// `run_paired` must give exactly, however it shares the draws.
    #[test]
    fn sharing_the_baselines_draws_changes_nothing() {
        for (name, _) in fogg_scenario::BUNDLED {
            let scenario = fogg_scenario::bundled(name).expect("bundled").expect("valid");
            let model = &scenario.model;
            // retail-omnichannel's strategies include one that adds a
            // touchpoint: a state the baseline lacks.
            let variants: Vec<Variant> =
                scenario.strategies.iter().map(|s| model.apply(&s.changes).expect("applies")).collect();
            let customers = 0..20_000;
            let run =
                run_paired(model, &variants, 7, customers.clone(), Pairing::Common, &AtomicBool::new(false));
            let rngs = CustomerRngs::new(7, Stream::Journey);
            let base_cost = cost_micro(model);
            let mut baseline = PairedMoments::default();
            let mut each = vec![PairedMoments::default(); variants.len()];
            for customer in customers {
                let (x, tx) = walk(model, &base_cost, &mut rngs.customer(customer));
                baseline.add(&x, &x, tx);
                for (v, variant) in variants.iter().enumerate() {
                    let (y, ty) =
                        walk(&variant.model, &cost_micro(&variant.model), &mut rngs.customer(customer));
                    each[v].add(&x, &y, tx || ty);
                }
            }
            assert_eq!(run.baseline, baseline, "{name}: the baseline");
            assert_eq!(run.variants, each, "{name}: the variants");
            assert!(each.iter().any(|m| m.differing > 0), "{name}: the strategies change journeys");
        }
    }
}
