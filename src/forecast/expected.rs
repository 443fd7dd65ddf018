//! The expected traffic of a forecast, computed without walking anyone.
//!
//! Expected arrivals per bin come from the calendar's intensity (times
//! the entry mix that flights move) in closed form. Touches follow along
//! the chain: the visits entering state s in bin j move, after s's dwell
//! time D, to bin j + m with probability
//!
//! w_m = E[max(0, 1 − |D/Δ − m|)] = G(m + 1) − 2·G(m) + G(m − 1),
//!
//! where Δ is the bin width and G(x) = ∫₀^{xΔ} F_D(u) du / Δ is the
//! integrated distribution function in bins (`Dist::integrated_cdf`,
//! closed form for every distribution). The kernel is exact when a bin's
//! visits are spread evenly within it, which steps of at most 5 minutes
//! make true to well within sampling error (the profiles change on the
//! hour). Each step's visits then split over the next states by the
//! segment's transition probabilities, up to `max_steps` steps; the sum
//! of all steps is taken per frequency (see `on_steps`), so a month of
//! 5-minute bins costs a fraction of a second.

use rayon::prelude::*;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

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
///
/// All steps of the chain at once, in the frequency domain: with E_s the
/// spectrum of the visits entering state s from outside (arrivals) and
/// K_s that of its dwell kernel, the visits V = Σₖ (Pᵀ K)ᵏ E, summed to
/// `max_steps` terms (or until what is left is below 1e-12 of the
/// arrivals), per frequency. The series are damped by e^(−a·t) before
/// the transforms so that the circular convolution's wrap-around (of
/// visits later than twice the window) weighs below 1e-12, and undamped
/// after.
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
    let n = model.states.len();
    let len = 2 * bins;
    let damping = (1.0 / NEGLIGIBLE).ln() / len as f64;
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(len);
    let inverse = planner.plan_fft_inverse(len);
    let spectrum_of = |series: &[f64]| -> Vec<Complex<f64>> {
        let mut input = forward.make_input_vec();
        for (t, (x, v)) in input.iter_mut().zip(series).enumerate() {
            *x = v * (-damping * t as f64).exp();
        }
        let mut out = forward.make_output_vec();
        forward.process(&mut input, &mut out).expect("buffers of the planned length");
        out
    };
    let kernels: Vec<Vec<Complex<f64>>> =
        model.states.iter().map(|s| spectrum_of(&kernel(&s.dwell, res, len))).collect();
    let freqs = forward.complex_len();
    let mut requests_spectrum = vec![vec![Complex::new(0.0, 0.0); freqs]; names];
    for (k, segment) in model.segments.iter().enumerate() {
        // Entering visits per state, from arrivals.
        let mut entering: Vec<Option<Vec<Complex<f64>>>> = vec![None; n];
        let mut entry_mass = vec![0.0; n];
        for e in flighting.entries.iter().filter(|e| e.segment.0 as usize == k && e.state != EXIT) {
            let series: Vec<f64> =
                groups[e.group.map_or(0, |g| g + 1)].iter().map(|a| e.weight * a).collect();
            entry_mass[e.state as usize] += series.iter().sum::<f64>();
            let spectrum = spectrum_of(&series);
            match &mut entering[e.state as usize] {
                Some(sum) => sum.iter_mut().zip(&spectrum).for_each(|(x, y)| *x += y),
                slot => *slot = Some(spectrum),
            }
        }
        let generations = generations(&segment.chain.next, entry_mass, model.max_steps);
        let next = &segment.chain.next;
        // Each frequency on its own: the steps of the chain, then the
        // requests of the visits.
        let per_freq: Vec<Vec<Complex<f64>>> = (0..freqs)
            .into_par_iter()
            .map(|f| {
                let mut x: Vec<Complex<f64>> =
                    entering.iter().map(|e| e.as_ref().map_or(Complex::new(0.0, 0.0), |e| e[f])).collect();
                let mut visits = vec![Complex::new(0.0, 0.0); n];
                let mut moved = vec![Complex::new(0.0, 0.0); n];
                for _ in 0..generations {
                    moved.fill(Complex::new(0.0, 0.0));
                    for s in 0..n {
                        if x[s] == Complex::new(0.0, 0.0) {
                            continue;
                        }
                        visits[s] += x[s];
                        let y = kernels[s][f] * x[s];
                        for &(t, p) in &next[s] {
                            if t != EXIT {
                                moved[t as usize] += y * p;
                            }
                        }
                    }
                    std::mem::swap(&mut x, &mut moved);
                }
                let mut out = vec![Complex::new(0.0, 0.0); names];
                for (s, v) in visits.iter().enumerate() {
                    for &(name, count) in &map.per_state[s] {
                        out[name as usize] += v * f64::from(count);
                    }
                }
                out
            })
            .collect();
        for (f, out) in per_freq.iter().enumerate() {
            for (name, v) in out.iter().enumerate() {
                requests_spectrum[name][f] += v;
            }
        }
    }
    let mut requests = vec![0.0; bins * names];
    for (name, spectrum) in requests_spectrum.iter_mut().enumerate() {
        // A real signal's spectrum: no imaginary part at 0 and at N/2.
        spectrum[0].im = 0.0;
        if let Some(last) = spectrum.last_mut() {
            last.im = 0.0;
        }
        let mut series = inverse.make_output_vec();
        inverse.process(spectrum, &mut series).expect("buffers of the planned length");
        for j in 0..bins {
            requests[j * names + name] = (series[j] * (damping * j as f64).exp() / len as f64).max(0.0);
        }
    }
    Expected { arrivals, requests }
}

/// How many steps of the chain carry more than 1e-12 of the arrivals'
/// visits, at most `max_steps`: the undamped mass, step by step.
fn generations(next: &[Vec<(crate::model::alias::Target, f64)>], mut mass: Vec<f64>, max_steps: u32) -> u32 {
    let total: f64 = mass.iter().sum();
    let mut moved = vec![0.0; mass.len()];
    for k in 0..max_steps {
        if mass.iter().sum::<f64>() <= NEGLIGIBLE * total {
            return k;
        }
        moved.fill(0.0);
        for (s, m) in mass.iter().enumerate() {
            for &(t, p) in &next[s] {
                if t != EXIT {
                    moved[t as usize] += m * p;
                }
            }
        }
        std::mem::swap(&mut mass, &mut moved);
    }
    max_steps
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
