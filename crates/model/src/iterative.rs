//! Sparse iterative solves of the absorbing chain, with a proven stopping
//! rule: what [`super::exact`] uses once a chain is too large for dense
//! elimination (memory n², time n³).
//!
//! Every system here is `x = b + Q x` (or its transpose) with `Q ≥ 0` the
//! moves among states and every state able to reach the exit. Gauss–Seidel
//! sweeps converge from 0 upwards. For any iterate `x̂`, the error is
//! `(I − Q)⁻¹ r` with `r` its residual, and `(I − Q)⁻¹ 1 = t` is the
//! expected number of steps left from each state. [`StepBound`] proves an
//! upper bound of `t`: after sweeps on `u = 1 + Q u`, `(1 + δ) u` is at
//! least `t` as soon as every residual of `u` is at most `δ / (1 + δ)`,
//! because then `(I − Q)(1 + δ) u ≥ 1`. A solve stops when its residual
//! times that bound is below [`TOLERANCE`]: the answer is then within
//! `TOLERANCE` of the exact one, whatever the chain.

use super::alias::{EXIT, Target};

/// Largest error left in a solved value (a probability, or visits per
/// customer relative to the journey's length).
pub const TOLERANCE: f64 = 1e-12;

/// Slack of the step bound: `(1 + δ) u` bounds the expected steps.
const DELTA: f64 = 1e-3;

/// Beyond this many expected steps from a state, journeys practically never
/// end (the dense solver's pivot rule says the same).
const MAX_EXPECTED_STEPS: f64 = 1e9;

/// Work allowed to one solve, in transitions visited: a few seconds.
const MAX_WORK: f64 = 4e9;

/// Sweeps allowed to one solve however small the chain.
const MAX_SWEEPS: usize = 100_000;

/// Rows of `Q` (moves among states only) and, per state, where its moves
/// come from, for sweeps in either direction.
pub(crate) struct Moves {
    out: Vec<Vec<(u32, f64)>>,
    into: Vec<Vec<(u32, f64)>>,
    transitions: usize,
}

impl Moves {
    /// The moves among states of `next` (the exit left out).
    pub(crate) fn of(next: &[Vec<(Target, f64)>]) -> Moves {
        let n = next.len();
        let mut into: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        let mut transitions = 0;
        let out: Vec<Vec<(u32, f64)>> = next
            .iter()
            .enumerate()
            .map(|(i, row)| {
                row.iter()
                    .filter(|&&(t, p)| t != EXIT && p > 0.0)
                    .map(|&(t, p)| {
                        into[t as usize].push((i as u32, p));
                        transitions += 1;
                        (u32::from(t), p)
                    })
                    .collect()
            })
            .collect();
        Moves { out, into, transitions }
    }

    fn sweeps_allowed(&self) -> usize {
        ((MAX_WORK / (self.transitions + self.out.len()).max(1) as f64) as usize).min(MAX_SWEEPS)
    }
}

/// A state from which journeys practically never end, or a chain whose
/// values would not converge within the work allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TooLong {
    /// The state with the longest expected journey found.
    pub state: usize,
    /// Its expected steps left, as far as the sweeps got (a lower bound).
    pub steps: f64,
}

/// A proven upper bound of the expected steps left from any state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepBound(f64);

impl StepBound {
    /// No bound known: solves then run to their budget.
    pub(crate) const UNKNOWN: StepBound = StepBound(f64::INFINITY);

    /// Sweeps `u = 1 + Q u` until `(1 + δ) u` provably bounds the expected
    /// steps; fails when they pass [`MAX_EXPECTED_STEPS`] or the sweeps
    /// their budget.
    pub(crate) fn of(moves: &Moves) -> Result<StepBound, TooLong> {
        let n = moves.out.len();
        let mut u = vec![0.0; n];
        let too_long = |u: &[f64]| {
            let (state, &steps) = u.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap_or((0, &0.0));
            TooLong { state, steps }
        };
        let shortfall_allowed = DELTA / (1.0 + DELTA);
        for sweep in 0..moves.sweeps_allowed() {
            for i in (0..n).rev() {
                let (mut sum, mut stay) = (1.0, 0.0);
                for &(j, p) in &moves.out[i] {
                    if j as usize == i { stay += p } else { sum += p * u[j as usize] }
                }
                u[i] = sum / (1.0 - stay);
                if u[i].is_nan() || u[i] > MAX_EXPECTED_STEPS {
                    return Err(TooLong { state: i, steps: u[i] });
                }
            }
            if sweep % 4 == 0 {
                let shortfall = (0..n)
                    .map(|i| 1.0 + moves.out[i].iter().map(|&(j, p)| p * u[j as usize]).sum::<f64>() - u[i])
                    .fold(0.0, f64::max);
                if shortfall <= shortfall_allowed {
                    let largest = u.iter().copied().fold(0.0, f64::max);
                    return Ok(StepBound((1.0 + DELTA) * largest.max(1.0)));
                }
            }
        }
        Err(too_long(&u))
    }
}

/// Solves `x = b + Q x` over the states where `fixed` is `None`; the others
/// keep their given value (a hit probability fixes the target set at 1).
/// `x` starts at `b` where free.
pub(crate) fn solve_right(
    moves: &Moves,
    bound: StepBound,
    b: &[f64],
    fixed: impl Fn(usize) -> Option<f64>,
) -> Vec<f64> {
    let n = moves.out.len();
    let mut x: Vec<f64> = (0..n).map(|i| fixed(i).unwrap_or(0.0)).collect();
    let free: Vec<usize> = (0..n).rev().filter(|&i| fixed(i).is_none()).collect();
    for sweep in 0..moves.sweeps_allowed() {
        for &i in &free {
            let (mut sum, mut stay) = (b[i], 0.0);
            for &(j, p) in &moves.out[i] {
                if j as usize == i { stay += p } else { sum += p * x[j as usize] }
            }
            x[i] = sum / (1.0 - stay);
        }
        if sweep % 4 == 0 {
            let residual = free
                .iter()
                .map(|&i| {
                    (b[i] + moves.out[i].iter().map(|&(j, p)| p * x[j as usize]).sum::<f64>() - x[i]).abs()
                })
                .fold(0.0, f64::max);
            let scale = x.iter().map(|v| v.abs()).fold(1.0, f64::max);
            if residual * bound.0 <= TOLERANCE * scale {
                break;
            }
        }
    }
    x
}

/// Solves `v = e + v Q` (expected visits to each state from the entry
/// distribution `e`).
pub(crate) fn solve_left(moves: &Moves, bound: StepBound, e: &[f64]) -> Vec<f64> {
    let n = moves.out.len();
    let mut v = vec![0.0; n];
    for sweep in 0..moves.sweeps_allowed() {
        for j in 0..n {
            let (mut sum, mut stay) = (e[j], 0.0);
            for &(i, p) in &moves.into[j] {
                if i as usize == j { stay += p } else { sum += v[i as usize] * p }
            }
            v[j] = sum / (1.0 - stay);
        }
        if sweep % 4 == 0 {
            // ‖v̂ − v‖₁ ≤ ‖r‖₁ · max t.
            let residual: f64 = (0..n)
                .map(|j| {
                    (e[j] + moves.into[j].iter().map(|&(i, p)| v[i as usize] * p).sum::<f64>() - v[j]).abs()
                })
                .sum();
            let total: f64 = v.iter().sum();
            if residual * bound.0 <= TOLERANCE * total.max(1.0) {
                break;
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_loop_is_solved_in_one_sweep_and_bounded() {
        // a → a 0.9, exit 0.1: 10 expected steps.
        let moves = Moves::of(&[vec![(0, 0.9), (EXIT, 0.1)]]);
        let bound = StepBound::of(&moves).unwrap();
        assert!(bound.0 >= 10.0 && bound.0 <= 10.0 * (1.0 + DELTA) + 1e-9, "{bound:?}");
        let v = solve_left(&moves, bound, &[1.0]);
        assert!((v[0] - 10.0).abs() < 1e-9);
    }

    #[test]
    fn a_loop_left_with_probability_1e_300_is_too_long() {
        let moves = Moves::of(&[vec![(1, 1.0)], vec![(0, 1.0 - 1e-300), (EXIT, 1e-300)]]);
        assert!(StepBound::of(&moves).is_err());
        let moves = Moves::of(&[vec![(0, 1.0), (EXIT, 1e-300)]]);
        assert!(StepBound::of(&moves).is_err());
    }
}
