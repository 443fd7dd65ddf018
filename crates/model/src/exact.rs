//! Closed-form answers of the absorbing Markov chain.
//!
//! With `Q` the transitions among states (exit is the absorbing end) and
//! `e` the entry distribution, the expected number of visits to each state
//! is `v = e (I − Q)⁻¹`, and the probability of ever reaching a set `C` of
//! states solves `(I − Q_NN) h = Q_NC 1` over the states `N` outside `C`.
//! Both are solved per segment and weighted by segment shares. Journeys
//! are assumed never to be cut (`max_steps` is ignored), so the simulator
//! matches these values when its truncated count is negligible.

use super::alias::{EXIT, Target};
use super::iterative::{self, Moves, StepBound, TooLong};
use super::{Chain, ChannelId, Model};

/// Exact expectations per customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Exact {
    /// Probability that a customer converts at least once.
    pub conversion_rate: f64,
    /// Expected conversions per customer, repeat purchases included.
    pub conversions_per_customer: f64,
    /// Expected touchpoints per customer.
    pub steps_per_customer: f64,
    /// Expected revenue per customer.
    pub revenue_per_customer: f64,
    /// Expected touch cost per customer (visits × the channel's cost per
    /// touch).
    pub touch_cost_per_customer: f64,
    /// Probability that a journey gets at least as far as each stage, i.e.
    /// visits a state of that stage or of a later one (same order as
    /// `Model::stages`).
    pub stage_reach: Vec<f64>,
    /// The conversion rate within each segment.
    pub segment_conversion_rate: Vec<f64>,
}

impl Model {
    /// P(at least one conversion) of a customer, exactly, when every touch
    /// of channel `removed` is taken away: journeys that would reach one
    /// of its states leave instead (the Markov removal of that channel).
    pub fn conversion_rate_without(&self, removed: ChannelId) -> f64 {
        self.conversion_rate_keeping(|c| c != removed)
    }

    /// P(at least one conversion) of a customer, exactly, when every touch
    /// of a channel `keep` refuses is taken away, as in
    /// [`Self::conversion_rate_without`]: the worth of a coalition of
    /// channels.
    pub fn conversion_rate_keeping(&self, keep: impl Fn(ChannelId) -> bool) -> f64 {
        self.segments
            .iter()
            .map(|segment| {
                let chain = segment.chain.without(|i| !keep(self.states[i].channel));
                segment.share * Solver::new(&chain).hit(|i| self.states[i].conversion)
            })
            .sum()
    }

    /// Solves the chain exactly.
    pub fn exact(&self) -> Exact {
        let mut out = Exact {
            conversion_rate: 0.0,
            conversions_per_customer: 0.0,
            steps_per_customer: 0.0,
            revenue_per_customer: 0.0,
            touch_cost_per_customer: 0.0,
            stage_reach: vec![0.0; self.stages.len()],
            segment_conversion_rate: Vec::with_capacity(self.segments.len()),
        };
        for segment in &self.segments {
            let w = segment.share;
            let chain = &segment.chain;
            let solver = Solver::new(chain);
            let visits = solver.visits();
            let conv = solver.hit(|i| self.states[i].conversion);
            out.segment_conversion_rate.push(conv);
            out.conversion_rate += w * conv;
            for (i, state) in self.states.iter().enumerate() {
                out.steps_per_customer += w * visits[i];
                out.touch_cost_per_customer +=
                    w * visits[i] * self.channels[state.channel.0 as usize].cost_per_touch;
                if state.conversion {
                    out.conversions_per_customer += w * visits[i];
                    let mean_value = state.value.as_ref().map_or(0.0, |d| d.mean());
                    out.revenue_per_customer += w * visits[i] * mean_value;
                }
            }
            for (stage, reach) in out.stage_reach.iter_mut().enumerate() {
                let p = solver.hit(|i| self.states[i].stage.0 as usize >= stage);
                *reach += w * p;
            }
        }
        out
    }
}

/// Expected movement per customer through a model's states, exactly,
/// every segment weighed by its share.
#[derive(Debug, Clone, PartialEq)]
pub struct StateFlows {
    /// Journeys starting at each state.
    pub entry: Vec<f64>,
    /// Journeys that end before their first touch (the entries of a
    /// removed channel).
    pub entry_exit: f64,
    /// Visits to each state.
    pub visits: Vec<f64>,
    /// Moves out of each state: `(target, moves)`, the exit included.
    pub moves: Vec<Vec<(Target, f64)>>,
}

impl Model {
    /// Expected entries, visits and moves per customer, exactly.
    pub fn state_flows(&self) -> StateFlows {
        let n = self.states.len();
        let mut out = StateFlows {
            entry: vec![0.0; n],
            entry_exit: 0.0,
            visits: vec![0.0; n],
            moves: vec![Vec::new(); n],
        };
        for segment in &self.segments {
            let w = segment.share;
            for &(t, p) in &segment.chain.entry {
                if t == EXIT {
                    out.entry_exit += w * p;
                } else {
                    out.entry[t as usize] += w * p;
                }
            }
            let visits = Solver::new(&segment.chain).visits();
            for (i, row) in segment.chain.next.iter().enumerate() {
                out.visits[i] += w * visits[i];
                for &(t, p) in row {
                    match out.moves[i].iter_mut().find(|(x, _)| *x == t) {
                        Some((_, m)) => *m += w * visits[i] * p,
                        None => out.moves[i].push((t, w * visits[i] * p)),
                    }
                }
            }
        }
        out
    }

    /// Expected moves per customer between channels, exactly: row 0 is the
    /// start, row `1 + c` channel `c`; column `c` is channel `c` and the last
    /// column the exit.
    pub fn channel_flows(&self) -> Vec<Vec<f64>> {
        let k = self.channels.len();
        let mut flows = vec![vec![0.0; k + 1]; k + 1];
        let channel = |t: Target| if t == EXIT { k } else { self.states[t as usize].channel.0 as usize };
        let f = self.state_flows();
        for (i, &e) in f.entry.iter().enumerate() {
            flows[0][channel(i as Target)] += e;
        }
        flows[0][k] += f.entry_exit;
        for (i, row) in f.moves.iter().enumerate() {
            let from = 1 + self.states[i].channel.0 as usize;
            for &(t, m) in row {
                flows[from][channel(t)] += m;
            }
        }
        flows
    }
}

/// Below this, a pivot of `(I − Q)ᵀ` says a state is practically never
/// left for good: the expected visits to it pass 10⁹ and its exact values
/// would be rounding noise.
const MIN_PIVOT: f64 = 1e-9;

/// Chains of more states than this are solved by sparse iteration
/// ([`super::iterative`]) rather than dense elimination.
pub const DENSE_STATES: usize = 400;

/// A state that journeys practically never leave for good.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearlyEndless {
    /// The state's index.
    pub state: usize,
    /// How many steps journeys there take on average, at least (infinite
    /// when the way out is lost in rounding).
    pub steps: f64,
}

impl Chain {
    /// The first state (if any) whose journeys practically never end: one
    /// that a journey leaves for good with probability below 10⁻⁹, so that
    /// the exact values cannot be computed (the exit weight is lost in
    /// rounding), or, in a chain too large for dense elimination, one
    /// whose values would not converge within a few seconds of sweeps.
    /// Graph checks find exact traps; this finds near ones.
    pub fn nearly_endless(&self) -> Option<NearlyEndless> {
        let n = self.next.len();
        if n > DENSE_STATES {
            return StepBound::of(&Moves::of(&self.next))
                .err()
                .map(|TooLong { state, steps }| NearlyEndless { state, steps });
        }
        let (_, tiny) = eliminate(visits_matrix(self, n), vec![0.0; n], n);
        tiny.map(|(state, escape)| NearlyEndless { state, steps: 1.0 / escape })
    }
}

/// How one chain is solved: densely when small, by proven sparse
/// iteration when large.
enum Solver<'c> {
    Dense(&'c Chain),
    Sparse { chain: &'c Chain, moves: Moves, bound: StepBound },
}

impl<'c> Solver<'c> {
    fn new(chain: &'c Chain) -> Solver<'c> {
        if chain.next.len() <= DENSE_STATES {
            return Solver::Dense(chain);
        }
        let moves = Moves::of(&chain.next);
        // The compiler refused chains without a bound; should one still
        // come, the sweeps run to their budget.
        let bound = StepBound::of(&moves).unwrap_or(StepBound::UNKNOWN);
        Solver::Sparse { chain, moves, bound }
    }

    fn chain(&self) -> &'c Chain {
        match self {
            Solver::Dense(chain) | Solver::Sparse { chain, .. } => chain,
        }
    }

    /// Expected visits to each state per customer.
    fn visits(&self) -> Vec<f64> {
        let chain = self.chain();
        let n = chain.next.len();
        let mut e = vec![0.0; n];
        for &(t, p) in &chain.entry {
            if let Some(i) = target_index(t) {
                e[i] += p;
            }
        }
        match self {
            Solver::Dense(_) => solve(visits_matrix(chain, n), e, n),
            Solver::Sparse { moves, bound, .. } => iterative::solve_left(moves, *bound, &e),
        }
    }

    /// Probability of reaching a state in the set before the exit.
    fn hit(&self, in_set: impl Fn(usize) -> bool) -> f64 {
        let chain = self.chain();
        let n = chain.next.len();
        match self {
            Solver::Dense(_) => hit_probability(chain, n, in_set),
            Solver::Sparse { moves, bound, .. } => {
                let zero = vec![0.0; n];
                let h = iterative::solve_right(moves, *bound, &zero, |i| in_set(i).then_some(1.0));
                chain.entry.iter().map(|&(t, p)| target_index(t).map_or(0.0, |i| p * h[i])).sum()
            }
        }
    }
}

/// `(I − Q)ᵀ`, row-major: what expected visits solve.
fn visits_matrix(chain: &Chain, n: usize) -> Vec<f64> {
    let mut a = identity(n);
    for (i, row) in chain.next.iter().enumerate() {
        for &(t, p) in row {
            if t != EXIT {
                a[t as usize * n + i] -= p; // transposed
            }
        }
    }
    a
}

/// Probability of reaching a state in the set before the exit, starting
/// from the entry distribution.
fn hit_probability(chain: &Chain, n: usize, in_set: impl Fn(usize) -> bool) -> f64 {
    // Index the states outside the set.
    let mut index = vec![usize::MAX; n];
    let outside: Vec<usize> = (0..n).filter(|&i| !in_set(i)).collect();
    for (k, &i) in outside.iter().enumerate() {
        index[i] = k;
    }
    let m = outside.len();
    let mut a = identity(m);
    let mut b = vec![0.0; m];
    for (k, &i) in outside.iter().enumerate() {
        for &(t, p) in &chain.next[i] {
            match target_index(t) {
                None => {}
                Some(j) if in_set(j) => b[k] += p,
                Some(j) => a[k * m + index[j]] -= p,
            }
        }
    }
    let h = solve(a, b, m);
    chain
        .entry
        .iter()
        .map(|&(t, p)| match target_index(t) {
            None => 0.0,
            Some(i) => p * if in_set(i) { 1.0 } else { h[index[i]] },
        })
        .sum()
}

fn target_index(t: Target) -> Option<usize> {
    (t != EXIT).then_some(t as usize)
}

fn identity(n: usize) -> Vec<f64> {
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = 1.0;
    }
    a
}

/// Solves `a x = b` (row-major `n × n`) by Gaussian elimination with
/// partial pivoting. `I − Q` is non-singular because every state can reach
/// the exit, and well conditioned because no state is nearly endless (the
/// scenario compiler checks both).
pub fn solve(a: Vec<f64>, b: Vec<f64>, n: usize) -> Vec<f64> {
    eliminate(a, b, n).0
}

/// Gaussian elimination with partial pivoting: the solution, and the first
/// column whose pivot is below [`MIN_PIVOT`] with that pivot.
fn eliminate(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> (Vec<f64>, Option<(usize, f64)>) {
    let mut tiny = None;
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&r, &s| a[r * n + col].abs().total_cmp(&a[s * n + col].abs()))
            .expect("the column range is never empty");
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
            }
            b.swap(col, pivot);
        }
        let d = a[col * n + col];
        if d.abs() < MIN_PIVOT && tiny.is_none() {
            tiny = Some((col, d.abs()));
        }
        for r in col + 1..n {
            let f = a[r * n + col] / d;
            if f != 0.0 {
                for k in col..n {
                    a[r * n + k] -= f * a[col * n + k];
                }
                b[r] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r * n + k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r * n + r];
    }
    (x, tiny)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        // 2x + y = 5, x + 3y = 10  →  x = 1, y = 3
        let x = solve(vec![2.0, 1.0, 1.0, 3.0], vec![5.0, 10.0], 2);
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn loop_with_conversion_has_geometric_answers() {
        // a → b (0.5) or exit; b is a conversion, returns to b with 0.25.
        let chain = Chain {
            entry: vec![(0, 1.0)],
            next: vec![vec![(1, 0.5), (EXIT, 0.5)], vec![(1, 0.25), (EXIT, 0.75)]],
        };
        let v = Solver::new(&chain).visits();
        assert!((v[0] - 1.0).abs() < 1e-12);
        assert!((v[1] - 0.5 / 0.75).abs() < 1e-12);
        let p = hit_probability(&chain, 2, |i| i == 1);
        assert!((p - 0.5).abs() < 1e-12);
    }
}

#[cfg(test)]
mod sparse_against_dense {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// A random chain of `n` states: a few targets per row, some loops,
    /// an exit from every state.
    fn random_chain(n: usize, seed: u64) -> Chain {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let normalise = |row: Vec<(Target, f64)>| {
            let total: f64 = row.iter().map(|(_, w)| w).sum();
            row.into_iter().map(|(t, w)| (t, w / total)).collect::<Vec<_>>()
        };
        let next = (0..n)
            .map(|_| {
                let mut row: Vec<(Target, f64)> = Vec::new();
                for _ in 0..rng.random_range(1..5) {
                    let t = rng.random_range(0..n) as Target;
                    if !row.iter().any(|(u, _)| *u == t) {
                        row.push((t, rng.random_range(0.1..1.0)));
                    }
                }
                row.push((EXIT, rng.random_range(0.05..0.5)));
                normalise(row)
            })
            .collect();
        let entry = normalise((0..3).map(|_| (rng.random_range(0..n) as Target, 1.0)).collect());
        Chain { entry, next }
    }

    #[test]
    fn sparse_iteration_matches_dense_elimination_within_its_tolerance() {
        for seed in 0..20 {
            let chain = random_chain(60, seed);
            let moves = Moves::of(&chain.next);
            let bound = StepBound::of(&moves).expect("every state leaks to the exit");
            let sparse = Solver::Sparse { chain: &chain, moves, bound };
            let dense = Solver::Dense(&chain);
            let (a, b) = (dense.visits(), sparse.visits());
            let total: f64 = a.iter().sum();
            let error: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum();
            assert!(error <= iterative::TOLERANCE * total.max(1.0), "seed {seed}: visits off by {error}");
            for set in [|i: usize| i.is_multiple_of(7), |i: usize| i < 5] {
                let (a, b) = (dense.hit(set), sparse.hit(set));
                assert!((a - b).abs() <= iterative::TOLERANCE, "seed {seed}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn a_large_chain_with_a_nearly_endless_loop_is_named() {
        let mut chain = random_chain(DENSE_STATES + 100, 3);
        chain.next[42] = vec![(42, 1.0 - 1e-12), (EXIT, 1e-12)];
        let near = chain.nearly_endless().expect("found");
        assert_eq!(near.state, 42);
        assert!(random_chain(DENSE_STATES + 100, 3).nearly_endless().is_none());
    }
}
