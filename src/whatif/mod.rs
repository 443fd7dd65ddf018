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

use crate::merge::Merge;
use crate::model::{Model, Variant};
use crate::rng::{CustomerRngs, Stream};
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

#[inline]
fn walk(model: &Model, cost: &[u64], rng: &mut crate::rng::CustomerRng) -> (Outcome, bool) {
    let mut out = [0u64; 4];
    let mut journey = model.walk(rng);
    for step in &mut journey {
        let state = &model.states[step.state.0 as usize];
        out[3] += cost[state.channel.0 as usize];
        if state.conversion {
            out[0] += 1;
            out[2] = out[2].saturating_add(crate::model::cents(step.value));
        }
    }
    out[1] = u64::from(out[0] > 0);
    (out, journey.end() == Some(crate::model::JourneyEnd::Truncated))
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
    let base_rngs = CustomerRngs::new(seed, Stream::Journey);
    let rngs: Vec<CustomerRngs> = (0..variants.len())
        .map(|v| match pairing {
            Pairing::Common => base_rngs,
            Pairing::Independent => {
                CustomerRngs::new(seed.wrapping_add(0x9E37_79B9 * (v as u64 + 1)), Stream::Journey)
            }
        })
        .collect();
    let Range { start, end } = customers;
    let chunks = (end - start).div_ceil(CHUNK);
    let empty = || PairedAccumulator::new(variants.len());
    let moments = (0..chunks)
        .into_par_iter()
        .fold(empty, |mut acc, chunk| {
            // Once stopped, no chunk starts: the moments are of the
            // customers walked, every pair complete.
            if stop.load(Ordering::Relaxed) {
                return acc;
            }
            let from = start + chunk * CHUNK;
            for customer in from..(from + CHUNK).min(end) {
                // With common random numbers every variant starts from the
                // baseline's generator: seeded once, copied.
                let seeded = base_rngs.customer(customer);
                let (x, tx) = walk(baseline, &base_cost, &mut seeded.clone());
                acc.add_baseline(&x, tx);
                for (v, variant) in variants.iter().enumerate() {
                    let mut rng = match pairing {
                        Pairing::Common => seeded.clone(),
                        Pairing::Independent => rngs[v].customer(customer),
                    };
                    let (y, ty) = walk(&variant.model, &costs[v], &mut rng);
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
