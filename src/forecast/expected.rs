//! The expected traffic of a forecast, computed without walking anyone.
//!
//! Expected arrivals per bin come from the calendar's intensity in closed
//! form. Touches follow along the chain one step at a time: the mass of
//! visits entering state s in bin j moves, after s's dwell time D, to bin
//! j + m with probability
//!
//! w_m = E[max(0, 1 − |D/Δ − m|)] = G(m + 1) − 2·G(m) + G(m − 1),
//!
//! where Δ is the bin width and G(x) = ∫₀^{xΔ} F_D(u) du / Δ is the
//! integrated distribution function in bins (`Dist::integrated_cdf`,
//! closed form for every distribution). The kernel is exact when a bin's
//! visits are spread evenly within it, which the calendar's profiles
//! (constant within an hour) make true for arrivals at 1 h or finer
//! except while an event's boost decays. Each step's mass is then
//! split over the next states by the segment's transition probabilities;
//! the steps stop at `max_steps` or when what is left inside the window
//! is below 1e-12 of the arrivals.

use super::{Flighting, Grid, RequestMap};
use crate::calendar::Calendar;
use crate::model::Model;
use crate::model::alias::EXIT;

/// What is left of a kernel's mass when it is cut, and of a step's mass
/// when the steps stop.
const NEGLIGIBLE: f64 = 1e-12;

/// Expected arrivals and requests per bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Arrivals per bin.
    pub arrivals: Vec<f64>,
    /// Requests per bin and name, bin-major (`bin * names + name`).
    pub requests: Vec<f64>,
}

/// Where a dwell time moves a visit, in bins: `w[m]` for m = 0, 1, …
pub fn kernel(dwell: &crate::model::Dist, resolution_s: f64, bins: usize) -> Vec<f64> {
    let g = |m: usize| dwell.integrated_cdf(m as f64 * resolution_s) / resolution_s;
    let mut w = Vec::new();
    let (mut before, mut at) = (0.0, 0.0);
    for m in 0..bins {
        let after = g(m + 1);
        w.push((after - 2.0 * at + before).max(0.0));
        // Σ_{k ≤ m} w_k = G(m + 1) − G(m) by telescoping.
        if 1.0 - (after - at) < NEGLIGIBLE {
            break;
        }
        (before, at) = (at, after);
    }
    w
}

/// The finest step the expectation is computed on, in seconds: finer
/// than the report's bins, so that the even spread the kernel assumes
/// holds within each step (the profiles change on the hour).
const STEP_S: u32 = 300;

/// The expected traffic of `model` when `customers` arrive over
/// `calendar`'s window, on `grid`: computed on steps of at most
/// [`STEP_S`] that divide the grid's bins, then summed into them.
pub fn expected(
    model: &Model,
    calendar: &Calendar,
    flighting: &Flighting,
    customers: f64,
    grid: &Grid,
    map: &RequestMap,
) -> Expected {
    let split = grid.resolution_s.div_ceil(STEP_S).max(1);
    let split = (split..=grid.resolution_s).find(|k| grid.resolution_s.is_multiple_of(*k)).unwrap_or(1);
    let step_s = f64::from(grid.resolution_s / split);
    let steps = ((grid.length_s / step_s).ceil() as usize).max(1);
    let fine = on_steps(model, calendar, flighting, customers, step_s, steps, map);
    let names = map.names.len();
    let mut arrivals = vec![0.0; grid.bins];
    let mut requests = vec![0.0; grid.bins * names];
    let bin_of = |i: usize| (i / split as usize).min(grid.bins - 1);
    for (i, a) in fine.arrivals.iter().enumerate() {
        arrivals[bin_of(i)] += a;
    }
    for (i, chunk) in fine.requests.chunks_exact(names.max(1)).enumerate() {
        for (k, r) in chunk.iter().enumerate() {
            requests[bin_of(i) * names + k] += r;
        }
    }
    Expected { arrivals, requests }
}

/// [`expected`] on `steps` steps of `step_s` seconds.
fn on_steps(
    model: &Model,
    calendar: &Calendar,
    flighting: &Flighting,
    customers: f64,
    step_s: f64,
    steps: usize,
    map: &RequestMap,
) -> Expected {
    let bins = steps;
    let res = step_s;
    let total = flighting.arrivals.total();
    let scale = if total > 0.0 { customers / total } else { 0.0 };
    let per_bin = |table: &crate::calendar::MinuteTable| -> Vec<f64> {
        (0..bins)
            .map(|j| scale * (table.before((j + 1) as f64 * res) - table.before(j as f64 * res)))
            .collect()
    };
    let arrivals = per_bin(&flighting.arrivals);
    // Arrivals per unit of entry weight, for the entries no spend moves
    // (first) and for each flighted channel's.
    let mut groups: Vec<Vec<f64>> = vec![per_bin(&flighting.group_table(calendar, None))];
    for g in 0..flighting.multipliers.len() {
        groups.push(per_bin(&flighting.group_table(calendar, Some(g))));
    }
    let names = map.names.len();
    let mut requests = vec![0.0; bins * names];
    let kernels: Vec<Vec<f64>> = model.states.iter().map(|s| kernel(&s.dwell, res, bins)).collect();
    let n = model.states.len();
    let total: f64 = arrivals.iter().sum();
    for (k, segment) in model.segments.iter().enumerate() {
        // Visits entering each state in each bin, this step.
        let mut now = vec![vec![0.0; bins]; n];
        for e in flighting.entries.iter().filter(|e| e.segment.0 as usize == k && e.state != EXIT) {
            let group = &groups[e.group.map_or(0, |g| g + 1)];
            for (x, a) in now[e.state as usize].iter_mut().zip(group) {
                *x += e.weight * a;
            }
        }
        let mut next = vec![vec![0.0; bins]; n];
        let mut moved = vec![0.0; bins];
        for _ in 0..model.max_steps {
            let mass: f64 = now.iter().flatten().sum();
            if mass <= NEGLIGIBLE * total.max(1.0) {
                break;
            }
            for (s, visits) in now.iter().enumerate() {
                for &(name, count) in &map.per_state[s] {
                    for (j, v) in visits.iter().enumerate() {
                        requests[j * names + name as usize] += v * f64::from(count);
                    }
                }
            }
            for row in &mut next {
                row.fill(0.0);
            }
            for (s, visits) in now.iter().enumerate() {
                if visits.iter().all(|&v| v == 0.0) {
                    continue;
                }
                convolve(visits, &kernels[s], &mut moved);
                for &(target, p) in &segment.chain.next[s] {
                    if target != EXIT {
                        for (x, m) in next[target as usize].iter_mut().zip(&moved) {
                            *x += p * m;
                        }
                    }
                }
            }
            std::mem::swap(&mut now, &mut next);
        }
    }
    Expected { arrivals, requests }
}

/// `out[j] = Σ_m visits[j − m] · w[m]`, cut at the grid's end.
fn convolve(visits: &[f64], w: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for (i, &v) in visits.iter().enumerate() {
        if v == 0.0 {
            continue;
        }
        let room = (out.len() - i).min(w.len());
        for (o, &k) in out[i..i + room].iter_mut().zip(&w[..room]) {
            *o += v * k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Dist;

    #[test]
    fn a_kernel_sums_to_one_and_keeps_the_mean() {
        for d in [
            Dist::constant(90.0, String::new()).unwrap(),
            Dist::exponential(200.0, String::new()).unwrap(),
            Dist::lognormal(40.0, 180.0, String::new()).unwrap(),
            Dist::gamma(3600.0, 2.0, String::new()).unwrap(),
        ] {
            let w = kernel(&d, 60.0, 100_000);
            let sum: f64 = w.iter().sum();
            let mean: f64 = w.iter().enumerate().map(|(m, x)| m as f64 * x).sum();
            assert!((sum - 1.0).abs() < 1e-9, "{d:?}: Σw = {sum}");
            // A visit spread evenly over its bin moves by D/Δ bins on average.
            assert!((mean - d.mean() / 60.0).abs() < 1e-6, "{d:?}: mean shift {mean}");
        }
        // A constant of 1.5 bins: half the visits move one bin, half two.
        let w = kernel(&Dist::constant(90.0, String::new()).unwrap(), 60.0, 10);
        assert!((w[1] - 0.5).abs() < 1e-12 && (w[2] - 0.5).abs() < 1e-12, "{w:?}");
    }
}
