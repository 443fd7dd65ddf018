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

use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::{Flighting, Grid, RequestMap};
use fogg_core::calendar::Calendar;
use fogg_model::Model;
use fogg_model::alias::{EXIT, Target};

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
    /// Conversions of the customers who arrive in the window, inside it
    /// and after it (the carry-over), within `max_steps` steps.
    pub conversions: f64,
}

/// Where a dwell time moves a visit, in bins: `w[m]` for m = 0, 1, …
pub fn kernel(dwell: &fogg_model::Dist, resolution_s: f64, bins: usize) -> Vec<f64> {
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
    Expected { arrivals, requests, conversions: fine.conversions }
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
    let total = flighting.arrivals.total();
    let scale = if total > 0.0 { customers / total } else { 0.0 };
    let per_step = |table: &fogg_core::calendar::MinuteTable| -> Vec<f64> {
        (0..steps)
            .map(|j| scale * (table.before((j + 1) as f64 * step_s) - table.before(j as f64 * step_s)))
            .collect()
    };
    let arrivals = per_step(&flighting.arrivals);
    // Visits entering each state of each segment from outside, per step.
    let mut entering: Vec<Vec<Option<Vec<f64>>>> = vec![vec![None; model.states.len()]; model.segments.len()];
    for (i, e) in flighting.entries.iter().enumerate().filter(|(_, e)| e.state != EXIT) {
        let series = per_step(&flighting.entry_table(calendar, i));
        match &mut entering[e.segment.0 as usize][e.state as usize] {
            Some(sum) => sum.iter_mut().zip(&series).for_each(|(x, y)| *x += y),
            slot => *slot = Some(series),
        }
    }
    let ahead: Vec<ConversionsAhead> =
        model.segments.iter().map(|seg| ConversionsAhead::new(model, &seg.chain.next)).collect();
    let (requests, conversions) = if flighting.moves_transitions() {
        in_time(model, flighting, &entering, &ahead, step_s, steps, map)
    } else {
        // The chain is the same at every instant: what each entering
        // visit converts does not depend on when it enters.
        let conversions = entering
            .iter()
            .zip(&ahead)
            .map(|(states, ahead)| {
                let within = ahead.within(model.max_steps);
                states
                    .iter()
                    .enumerate()
                    .map(|(s, e)| e.as_ref().map_or(0.0, |e| e.iter().sum::<f64>() * within[s]))
                    .sum::<f64>()
            })
            .sum();
        (per_frequency(model, &entering, step_s, steps, map), conversions)
    };
    Expected { arrivals, requests, conversions }
}

/// Expected conversions of a journey from each state of one segment's
/// chain, counting that state's visit, within r steps: h⁽ʳ⁾ = c + P·h⁽ʳ⁻¹⁾
/// from h⁽⁰⁾ = 0, with c the conversion states. Kept for each r until it
/// stops changing (to 1e-15), the last one standing for every longer r.
struct ConversionsAhead {
    by_steps: Vec<Vec<f64>>,
}

impl ConversionsAhead {
    fn new(model: &Model, next: &[Vec<(Target, f64)>]) -> ConversionsAhead {
        let n = model.states.len();
        let mut by_steps = vec![vec![0.0; n]];
        for _ in 0..model.max_steps {
            let last = by_steps.last().expect("h⁽⁰⁾");
            let h: Vec<f64> = (0..n)
                .map(|i| {
                    let own = if model.states[i].conversion { 1.0 } else { 0.0 };
                    own + next[i]
                        .iter()
                        .filter(|(t, _)| *t != EXIT)
                        .map(|&(t, p)| p * last[t as usize])
                        .sum::<f64>()
                })
                .collect();
            let settled = h.iter().zip(last).all(|(a, b)| (a - b).abs() <= 1e-15 * a.abs().max(1.0));
            by_steps.push(h);
            if settled {
                break;
            }
        }
        ConversionsAhead { by_steps }
    }

    /// h⁽ʳ⁾.
    fn within(&self, r: u32) -> &[f64] {
        &self.by_steps[(r as usize).min(self.by_steps.len() - 1)]
    }
}

/// Requests per step and name, bin-major, when the chain is the same at
/// every instant: all steps of the chain at once, in the frequency
/// domain. With E_s the spectrum of the visits entering state s from
/// outside and K_s that of its dwell kernel, the visits V = Σₖ (Pᵀ K)ᵏ E,
/// summed to `max_steps` terms (or until what is left is below 1e-12 of
/// the arrivals), per frequency. The series are damped by e^(−a·t) before
/// the transforms so that the circular convolution's wrap-around (of
/// visits later than twice the window) weighs below 1e-12, and undamped
/// after.
fn per_frequency(
    model: &Model,
    entering: &[Vec<Option<Vec<f64>>>],
    res: f64,
    bins: usize,
    map: &RequestMap,
) -> Vec<f64> {
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
    for (segment, entering) in model.segments.iter().zip(entering) {
        let entry_mass: Vec<f64> =
            entering.iter().map(|e| e.as_ref().map_or(0.0, |e| e.iter().sum::<f64>())).collect();
        let entering: Vec<Option<Vec<Complex<f64>>>> =
            entering.iter().map(|e| e.as_deref().map(spectrum_of)).collect();
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
    requests
}

/// Each state's dwell kernel, ready to move visits to departures by FFT.
struct DwellConvolution {
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// The spectrum of each state's kernel.
    kernels: Vec<Vec<Complex<f64>>>,
    bins: usize,
}

impl DwellConvolution {
    fn new(model: &Model, res: f64, bins: usize) -> DwellConvolution {
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(2 * bins);
        let inverse = planner.plan_fft_inverse(2 * bins);
        let kernels = model
            .states
            .iter()
            .map(|s| {
                let mut input = forward.make_input_vec();
                input.iter_mut().zip(kernel(&s.dwell, res, bins)).for_each(|(x, w)| *x = w);
                let mut out = forward.make_output_vec();
                forward.process(&mut input, &mut out).expect("buffers of the planned length");
                out
            })
            .collect();
        DwellConvolution { forward, inverse, kernels, bins }
    }

    /// When state `s`'s visits per bin leave it: a linear convolution with
    /// its kernel, cut at the window's end.
    fn departures(&self, s: usize, visits: &[f64]) -> Vec<f64> {
        let (bins, len) = (self.bins, 2 * self.bins);
        let mut input = self.forward.make_input_vec();
        input[..bins].copy_from_slice(visits);
        let mut spectrum = self.forward.make_output_vec();
        self.forward.process(&mut input, &mut spectrum).expect("buffers of the planned length");
        spectrum.iter_mut().zip(&self.kernels[s]).for_each(|(x, k)| *x *= k);
        spectrum[0].im = 0.0;
        if let Some(last) = spectrum.last_mut() {
            last.im = 0.0;
        }
        let mut out = self.inverse.make_output_vec();
        self.inverse.process(&mut spectrum, &mut out).expect("buffers of the planned length");
        out.truncate(bins);
        out.iter_mut().for_each(|x| *x = (*x / len as f64).max(0.0));
        out
    }
}

/// Requests per step and name, bin-major, when spend moves transitions
/// over time: one step of the chain at a time. Each state's visits move
/// by its dwell kernel (a linear convolution, by FFT, cut at the window's
/// end since nothing after it comes back), then split by the transitions
/// of the step they land in: the variant's chain, or for rows a moving
/// channel touches, the average of the chain over the step's minutes
/// (visits spread evenly within a step, as the kernel assumes).
fn in_time(
    model: &Model,
    flighting: &Flighting,
    entering: &[Vec<Option<Vec<f64>>>],
    ahead: &[ConversionsAhead],
    res: f64,
    bins: usize,
    map: &RequestMap,
) -> (Vec<f64>, f64) {
    let names = map.names.len();
    let n = model.states.len();
    let dwell = DwellConvolution::new(model, res, bins);
    let mut requests = vec![0.0; bins * names];
    let mut conversions = 0.0;
    for ((segment, entering), ahead) in model.segments.iter().zip(entering).zip(ahead) {
        let mut x: Vec<Option<Vec<f64>>> = entering.to_vec();
        let start: f64 = x.iter().flatten().flatten().sum();
        let tables: Vec<Option<RowTable>> =
            segment.chain.next.iter().map(|row| RowTable::new(model, flighting, row, res, bins)).collect();
        for generation in 0..model.max_steps {
            let mass: f64 = x.iter().flatten().flatten().sum();
            if mass <= NEGLIGIBLE * start {
                break;
            }
            for (s, visits) in x.iter().enumerate() {
                let Some(visits) = visits else { continue };
                if model.states[s].conversion {
                    conversions += visits.iter().sum::<f64>();
                }
                for &(name, count) in &map.per_state[s] {
                    for (j, v) in visits.iter().enumerate() {
                        requests[j * names + name as usize] += v * f64::from(count);
                    }
                }
            }
            let departures: Vec<Option<Vec<f64>>> = x
                .par_iter()
                .enumerate()
                .map(|(s, visits)| visits.as_ref().map(|v| dwell.departures(s, v)))
                .collect();
            let mut next: Vec<Option<Vec<f64>>> = vec![None; n];
            let mut add = |t: Target, j: usize, amount: f64| {
                if t != EXIT {
                    next[t as usize].get_or_insert_with(|| vec![0.0; bins])[j] += amount;
                }
            };
            // Visits that move past the window's end follow the variant's
            // chain from there, with the steps they have left.
            let left = ahead.within(model.max_steps - generation - 1);
            for (s, d) in departures.iter().enumerate() {
                let Some(d) = d else { continue };
                let outside = x[s].as_ref().map_or(0.0, |v| v.iter().sum::<f64>()) - d.iter().sum::<f64>();
                if outside > 0.0 {
                    conversions += outside
                        * segment.chain.next[s]
                            .iter()
                            .filter(|(t, _)| *t != EXIT)
                            .map(|&(t, p)| p * left[t as usize])
                            .sum::<f64>();
                }
                match &tables[s] {
                    None => {
                        for &(t, p) in &segment.chain.next[s] {
                            for (j, v) in d.iter().enumerate() {
                                add(t, j, v * p);
                            }
                        }
                    }
                    Some(table) => {
                        let k = table.targets.len();
                        for (j, v) in d.iter().enumerate() {
                            for (i, &t) in table.targets.iter().enumerate() {
                                add(t, j, v * table.probabilities[j * k + i]);
                            }
                        }
                    }
                }
            }
            x = next;
        }
    }
    (requests, conversions)
}

/// A row of the chain that spend moves, step by step: the transition
/// probabilities averaged over each step's minutes.
struct RowTable {
    /// The row's targets (the exit included).
    targets: Vec<Target>,
    /// Probability per step and target, step-major.
    probabilities: Vec<f64>,
}

impl RowTable {
    /// The table of `row`, or `None` when no spend moves it at any step.
    fn new(
        model: &Model,
        flighting: &Flighting,
        row: &[(Target, f64)],
        res: f64,
        bins: usize,
    ) -> Option<RowTable> {
        let mut targets: Vec<Target> = row.iter().map(|(t, _)| *t).collect();
        if !targets.contains(&EXIT) {
            targets.push(EXIT);
        }
        let k = targets.len();
        let mut probabilities = vec![0.0; bins * k];
        let mut scratch = Vec::new();
        let mut moved = false;
        for j in 0..bins {
            let (from, to) = (j as f64 * res, (j + 1) as f64 * res);
            let mut minute = (from / 60.0) as usize;
            while (minute as f64) * 60.0 < to {
                let overlap = (to.min((minute + 1) as f64 * 60.0) - from.max(minute as f64 * 60.0)) / res;
                let at = flighting.minute(minute as f64 * 60.0);
                let chosen: &[(Target, f64)] = if flighting.row_at(model, row, at, &mut scratch) {
                    moved = true;
                    &scratch
                } else {
                    row
                };
                for &(t, p) in chosen {
                    let i = targets.iter().position(|&x| x == t).expect("a move keeps the row's targets");
                    probabilities[j * k + i] += overlap * p;
                }
                minute += 1;
            }
        }
        moved.then_some(RowTable { targets, probabilities })
    }
}

/// How many steps of the chain carry more than 1e-12 of the arrivals'
/// visits, at most `max_steps`: the undamped mass, step by step.
fn generations(next: &[Vec<(fogg_model::alias::Target, f64)>], mut mass: Vec<f64>, max_steps: u32) -> u32 {
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
    use fogg_model::Dist;

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
