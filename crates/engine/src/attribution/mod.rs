//! Channel attribution from journey paths: the Markov removal effects,
//! computed exactly by absorbing-chain solves (not estimated by simulation),
//! beside exact Shapley values ([`shapley`]), the rule-based models
//! ([`rules`]), 95% intervals from resampled journeys ([`intervals`]), and
//! paths and time decay from event logs ([`events`]).
//!
//! Conventions follow the ChannelAttribution package so results can be
//! cross-checked (docs/attribution.md):
//! - the fitted chain has a start state, transient states, and the
//!   absorbing states conversion and null; every journey of a path goes
//!   start → its states → conversion (the path's conversions) or null
//!   (its nulls);
//! - order k: a state is a window of k consecutive channels of the path as
//!   written (repeats kept: `a > a > b` walks `a a`, `a b` at order 2), a
//!   path shorter than k being one state, and a state repeated in a row
//!   being walked once; order 1 has one state per channel. With
//!   `collapse_repeats`, repeated channels collapse first and the windows
//!   grow from the first channel (`a`, `a b`);
//! - the removal effect of channel c is 1 − P(conversion with c removed) /
//!   P(conversion), where removing c sends every transition into a state
//!   holding c to null; shares are removal effects over their sum, and
//!   attributed conversions are the shares of the total;
//! - the value removal effect weighs each conversion by its value (the
//!   mean value of the conversions after its last state), and attributed
//!   value is the value share of the total value;
//! - the package's heuristics credit each path's conversions (and value)
//!   to its first channel, its last channel, or equally to each of its
//!   touches as written (repeats included);
//! - with a maximum number of steps (the package's `max_step`), a journey
//!   of the fitted chain that has not converted after that many states is
//!   cut and counts as null, in the exact values as in the simulated ones;
//!   [`MaxSteps::Auto`] is the package's default: the most states a path
//!   of the file walks, plus one.

pub mod events;
pub mod intervals;
pub mod paths;
pub mod rules;
pub mod shapley;

pub use paths::{PathFormat, Paths};
pub use rules::{PositionWeights, Rule, RuleCredit, RuleOptions};
pub use shapley::MAX_SHAPLEY_CHANNELS;

use fogg_model::alias::{AliasRows, EXIT, RowId, Target};
use fogg_model::exact::solve;

/// Where journeys of a fitted chain are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxSteps {
    /// Never: the chain is solved as it is.
    #[default]
    Unlimited,
    /// After this many states.
    Fixed(u32),
    /// ChannelAttribution's default `max_step`: after the most states a
    /// path of the file walks, plus one.
    Auto,
}

/// How a chain is fitted to paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOptions {
    /// Order: states are windows of this many channels (1 or more).
    pub order: usize,
    /// Collapse repeated channels before taking windows, which then grow
    /// from the first channel; the package keeps repeats.
    pub collapse_repeats: bool,
    /// Where journeys are cut.
    pub max_steps: MaxSteps,
}

impl ChainOptions {
    /// The package's conventions at order `order`, uncut.
    pub fn order(order: usize) -> ChainOptions {
        ChainOptions { order, collapse_repeats: false, max_steps: MaxSteps::Unlimited }
    }
}

/// The order-k chain fitted to a path file, as transition counts: see the
/// module's conventions for its states.
#[derive(Debug, Clone)]
pub struct FittedChain {
    /// How it was fitted.
    pub options: ChainOptions,
    /// Channels of the paths.
    pub channels: usize,
    /// Each state's window of channels, oldest first.
    pub states: Vec<Vec<u32>>,
    /// Journeys starting in each state.
    pub start: Vec<f64>,
    /// Per state, journeys moving to each next state.
    pub next: Vec<Vec<(usize, f64)>>,
    /// Journeys converting after each state.
    pub conversion: Vec<f64>,
    /// Value of the conversions after each state.
    pub value: Vec<f64>,
    /// Per state, (value per conversion, conversions) of each path that
    /// converts after it: what a simulated conversion's value is drawn
    /// from.
    pub conversion_values: Vec<Vec<(f64, f64)>>,
    /// Journeys ending without conversion after each state.
    pub null: Vec<f64>,
    /// The most states a path (with journeys) walks.
    pub longest_path: u32,
    /// Journeys still going after this many states are cut (null); none
    /// when `None`.
    pub max_steps: Option<u32>,
}

/// Chains with at most this many states are solved by Gaussian
/// elimination; larger ones (high orders) by Gauss–Seidel sweeps to
/// machine precision.
const DENSE_STATES: usize = 400;

impl FittedChain {
    /// Counts the transitions of every path, weighted by its journeys, in
    /// the chain `options` describe, and resolves its cut.
    pub fn fit(paths: &Paths, options: &ChainOptions) -> FittedChain {
        Self::fit_keeping(paths, options, false).0
    }

    /// As [`Self::fit`], with the states each row walks (none for a row
    /// left out), to count other weights of the same rows by
    /// [`Self::reweighted`].
    pub fn fit_walks(paths: &Paths, options: &ChainOptions) -> (FittedChain, Vec<Vec<usize>>) {
        Self::fit_keeping(paths, options, true)
    }

    /// The chain, and each row's walk when `keep_walks`.
    fn fit_keeping(
        paths: &Paths,
        options: &ChainOptions,
        keep_walks: bool,
    ) -> (FittedChain, Vec<Vec<usize>>) {
        let order = options.order.max(1);
        let mut chain = FittedChain {
            options: ChainOptions { order, ..*options },
            channels: paths.channels.len(),
            states: Vec::new(),
            start: Vec::new(),
            next: Vec::new(),
            conversion: Vec::new(),
            value: Vec::new(),
            conversion_values: Vec::new(),
            null: Vec::new(),
            longest_path: 0,
            max_steps: None,
        };
        let mut index: std::collections::HashMap<Vec<u32>, usize> = std::collections::HashMap::new();
        let mut walk: Vec<u32> = Vec::new();
        let mut walks: Vec<Vec<usize>> = Vec::new();
        let mut ids: Vec<usize> = Vec::new();
        for row in &paths.rows {
            ids.clear();
            let journeys = row.conversions + row.nulls;
            if row.channels.is_empty() || journeys <= 0.0 {
                if keep_walks {
                    walks.push(Vec::new());
                }
                continue;
            }
            walk.clear();
            if options.collapse_repeats {
                for &c in &row.channels {
                    if walk.last() != Some(&c) {
                        walk.push(c);
                    }
                }
            } else {
                walk.extend_from_slice(&row.channels);
            }
            let windows: Box<dyn Iterator<Item = &[u32]>> = if options.collapse_repeats {
                Box::new((0..walk.len()).map(|j| &walk[(j + 1).saturating_sub(order)..=j]))
            } else if walk.len() <= order {
                Box::new(std::iter::once(&walk[..]))
            } else {
                Box::new(walk.windows(order))
            };
            for window in windows {
                let id = match index.get(window) {
                    Some(&id) => id,
                    None => {
                        let id = chain.states.len();
                        index.insert(window.to_vec(), id);
                        chain.states.push(window.to_vec());
                        chain.start.push(0.0);
                        chain.next.push(Vec::new());
                        chain.conversion.push(0.0);
                        chain.value.push(0.0);
                        chain.conversion_values.push(Vec::new());
                        chain.null.push(0.0);
                        id
                    }
                };
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
            chain.longest_path = chain.longest_path.max(ids.len() as u32);
            chain.count(&ids, row);
            if keep_walks {
                walks.push(ids.clone());
            }
        }
        chain.max_steps = match options.max_steps {
            MaxSteps::Unlimited => None,
            MaxSteps::Fixed(k) => Some(k),
            MaxSteps::Auto => Some(chain.longest_path + 1),
        };
        (chain, walks)
    }

    /// Adds the journeys of `row`, which walk the states `ids`.
    fn count(&mut self, ids: &[usize], row: &paths::PathRow) {
        let journeys = row.conversions + row.nulls;
        self.start[ids[0]] += journeys;
        for pair in ids.windows(2) {
            let next = &mut self.next[pair[0]];
            match next.iter_mut().find(|(t, _)| *t == pair[1]) {
                Some((_, w)) => *w += journeys,
                None => next.push((pair[1], journeys)),
            }
        }
        let last = *ids.last().expect("a state");
        self.conversion[last] += row.conversions;
        self.value[last] += row.value;
        if row.conversions > 0.0 {
            self.conversion_values[last].push((row.value / row.conversions, row.conversions));
        }
        self.null[last] += row.nulls;
    }

    /// The same chain (states, cut) with its journeys counted from `rows`
    /// instead: the rows it was fitted to, reweighted, each walking
    /// `walks` as [`Self::fit_walks`] gave them.
    pub fn reweighted(&self, walks: &[Vec<usize>], rows: &[paths::PathRow]) -> FittedChain {
        let mut chain = self.clone();
        chain.start.iter_mut().for_each(|w| *w = 0.0);
        for next in &mut chain.next {
            next.iter_mut().for_each(|(_, w)| *w = 0.0);
        }
        for v in [&mut chain.conversion, &mut chain.value, &mut chain.null] {
            v.iter_mut().for_each(|w| *w = 0.0);
        }
        chain.conversion_values.iter_mut().for_each(Vec::clear);
        for (ids, row) in walks.iter().zip(rows) {
            if !ids.is_empty() {
                chain.count(ids, row);
            }
        }
        chain
    }

    /// P(conversion) of a journey from the start, with channel `removed`
    /// (if any) sending every journey that reaches it to null.
    pub fn conversion_probability(&self, removed: Option<usize>) -> f64 {
        self.absorbed(&without(removed), false, DENSE_STATES).conversion
    }

    /// What a journey from the start converts, in probability and in
    /// expected value (`with_value`; else 0), with the channels `removed`
    /// says send every journey that reaches a state holding one of them to
    /// null; solved densely up to `dense_states` states and iteratively
    /// beyond.
    fn absorbed(&self, removed: &dyn Fn(u32) -> bool, with_value: bool, dense_states: usize) -> Absorbed {
        let n = self.states.len();
        let total: f64 = self.start.iter().sum();
        if total == 0.0 {
            return Absorbed::default();
        }
        // x_s = Σ_t p(s→t) x_t + r_s, with r_s the conversions (or their
        // value) after s over the journeys leaving s; a state holding the
        // removed channel converts nobody.
        let gone: Vec<bool> = self.states.iter().map(|window| window.iter().any(|&c| removed(c))).collect();
        let outs: Vec<f64> = (0..n)
            .map(|s| self.next[s].iter().map(|(_, w)| w).sum::<f64>() + self.conversion[s] + self.null[s])
            .collect();
        let live = |s: usize| !gone[s] && outs[s] > 0.0;
        let rewards: Vec<&[f64]> =
            if with_value { vec![&self.conversion, &self.value] } else { vec![&self.conversion] };
        let mut solved = [0.0; 2];
        if let Some(max_steps) = self.max_steps {
            // Within `max_steps` states: push the distribution over states
            // forward one step at a time, collecting what converts.
            let mut at: Vec<f64> = self.start.iter().map(|w| w / total).collect();
            let mut next = vec![0.0; n];
            for _ in 0..max_steps {
                next.iter_mut().for_each(|x| *x = 0.0);
                for s in (0..n).filter(|&s| at[s] > 0.0 && live(s)) {
                    for (sum, reward) in solved.iter_mut().zip(&rewards) {
                        *sum += at[s] * reward[s] / outs[s];
                    }
                    for &(t, w) in &self.next[s] {
                        next[t] += at[s] * w / outs[s];
                    }
                }
                std::mem::swap(&mut at, &mut next);
            }
            return Absorbed { conversion: solved[0], value: solved[1] };
        }
        for (sum, reward) in solved.iter_mut().zip(&rewards) {
            let x = if n <= dense_states {
                let mut a = vec![0.0; n * n];
                let mut b = vec![0.0; n];
                for s in 0..n {
                    a[s * n + s] = 1.0;
                    if !live(s) {
                        continue;
                    }
                    for &(t, w) in &self.next[s] {
                        a[s * n + t] -= w / outs[s];
                    }
                    b[s] = reward[s] / outs[s];
                }
                solve(a, b, n)
            } else {
                // Gauss–Seidel: every row leaks to the absorbing states, so
                // the sweeps converge; stop when a sweep changes nothing
                // beyond rounding.
                let scale = (0..n).filter(|&s| live(s)).map(|s| reward[s] / outs[s]).fold(0.0, f64::max);
                let mut x = vec![0.0; n];
                for _ in 0..1_000_000 {
                    let mut change: f64 = 0.0;
                    for s in (0..n).filter(|&s| live(s)) {
                        let v =
                            (reward[s] + self.next[s].iter().map(|&(t, w)| w * x[t]).sum::<f64>()) / outs[s];
                        change = change.max((v - x[s]).abs());
                        x[s] = v;
                    }
                    if change <= 1e-16 * scale.max(1.0) {
                        break;
                    }
                }
                x
            };
            *sum = (0..n).filter(|&s| !gone[s]).map(|s| self.start[s] / total * x[s]).sum();
        }
        Absorbed { conversion: solved[0], value: solved[1] }
    }
}

/// The channel predicate of removing `channel`, if any.
fn without(channel: Option<usize>) -> impl Fn(u32) -> bool {
    move |c| Some(c as usize) == channel
}

/// What journeys of a fitted chain convert, per journey.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Absorbed {
    /// P(conversion).
    conversion: f64,
    /// Expected conversion value.
    value: f64,
}

/// Removal effects estimated by simulating journeys on a fitted chain: a
/// cross-check of the exact ones, with their Monte-Carlo error.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedRemoval {
    /// Journeys walked.
    pub journeys: u64,
    /// Of which converted.
    pub conversions: u64,
    /// Journeys cut at the chain's `max_steps` (else
    /// [`MAX_SIMULATED_STEPS`]), counted as not converting.
    pub truncated: u64,
    /// Per channel: 1 − (converted journeys that never touched it) /
    /// (converted journeys). Removing a channel sends the journeys that
    /// reach it to null and leaves the others as they were, so one set of
    /// journeys estimates every removal effect.
    pub removal_effect: Vec<f64>,
    /// Standard error of each: given the conversions C, the journeys among
    /// them that touched the channel are binomial, so sqrt(e(1 − e)/C).
    pub standard_error: Vec<f64>,
    /// Per channel: the value of the converted journeys that touched it
    /// over the value of all of them, each conversion's value drawn as the
    /// package draws it (from the values per conversion of the paths that
    /// convert after its last state, weighted by their conversions); all 0
    /// when no conversion has value.
    pub value_removal_effect: Vec<f64>,
    /// Standard error of each, as a ratio estimator's:
    /// sqrt(Σ v²(t − e)²) / Σ v over the converted journeys (t: touched).
    pub value_standard_error: Vec<f64>,
}

/// A simulated journey longer than this is cut when the chain sets no
/// `max_steps`.
pub const MAX_SIMULATED_STEPS: u32 = 10_000;

/// Journeys walked as one block: blocks run in parallel and their sums
/// add up in block order, so a seed gives the same result on any number
/// of threads.
const SIMULATION_BLOCK: u64 = 1 << 16;

/// What one block of simulated journeys counted.
#[derive(Debug, Clone, Default)]
struct BlockSums {
    conversions: u64,
    truncated: u64,
    value: f64,
    value_squared: f64,
    /// Per channel: converted journeys that touched it, their value, and
    /// their squared value.
    touched: Vec<u64>,
    touched_value: Vec<f64>,
    touched_value_squared: Vec<f64>,
}

impl BlockSums {
    fn new(channels: usize) -> BlockSums {
        BlockSums {
            touched: vec![0; channels],
            touched_value: vec![0.0; channels],
            touched_value_squared: vec![0.0; channels],
            ..BlockSums::default()
        }
    }

    fn add(&mut self, other: &BlockSums) {
        self.conversions += other.conversions;
        self.truncated += other.truncated;
        self.value += other.value;
        self.value_squared += other.value_squared;
        for c in 0..self.touched.len() {
            self.touched[c] += other.touched[c];
            self.touched_value[c] += other.touched_value[c];
            self.touched_value_squared[c] += other.touched_value_squared[c];
        }
    }
}

/// The simulated chain's target for a conversion: every other target is
/// a state or `EXIT`.
const CONVERSION: Target = EXIT - 1;

/// The most states [`FittedChain::simulate`] walks: its targets are
/// small integers, with two kept for a conversion and the exit.
pub const MAX_SIMULATED_STATES: usize = CONVERSION as usize;

/// A fitted chain too large to simulate.
#[derive(Debug, thiserror::Error)]
#[error(
    "the fitted chain has {states} states and --simulate walks at most {MAX_SIMULATED_STATES}: use a lower --order, or drop --simulate (the exact values need no simulation)"
)]
pub struct TooManyStates {
    /// States of the fitted chain.
    pub states: usize,
}

impl FittedChain {
    /// Walks `journeys` journeys on the chain (journey `i` with the
    /// generator of customer `i` of `seed`, in parallel), and estimates
    /// P(conversion) and every removal effect from them.
    ///
    /// A chain of more than [`MAX_SIMULATED_STATES`] states cannot be
    /// walked: see [`check_simulable`](Self::check_simulable).
    pub fn simulate(&self, journeys: u64, seed: u64) -> Result<SimulatedRemoval, TooManyStates> {
        self.check_simulable()?;
        use fogg_core::rng::{CustomerRngs, Stream};
        use rand::distr::Distribution;
        use rand::distr::weighted::WeightedIndex;
        use rayon::prelude::*;

        let n = self.channels;
        let (rows, start_row, next_rows) = self.alias_rows();
        // Per state, the values per conversion to draw from.
        let values: Vec<Option<(WeightedIndex<f64>, Vec<f64>)>> = self
            .conversion_values
            .iter()
            .map(|pairs| {
                let weights = WeightedIndex::new(pairs.iter().map(|&(_, c)| c)).ok()?;
                Some((weights, pairs.iter().map(|&(v, _)| v).collect()))
            })
            .collect();
        let max_steps = self.max_steps.unwrap_or(MAX_SIMULATED_STEPS);
        let rngs = CustomerRngs::new(seed, Stream::Journey);
        let walk_block = |block: u64| -> BlockSums {
            let mut sums = BlockSums::new(n);
            let mut seen: Vec<u32> = Vec::new();
            let end = journeys.min((block + 1) * SIMULATION_BLOCK);
            for i in block * SIMULATION_BLOCK..end {
                let mut rng = rngs.customer(i);
                seen.clear();
                let mut at = rows.sample(start_row, &mut rng);
                let mut last = at;
                let mut steps = 0;
                loop {
                    if at == CONVERSION {
                        let v = match &values[last as usize] {
                            Some((weights, values)) => values[weights.sample(&mut rng)],
                            None => 0.0,
                        };
                        sums.conversions += 1;
                        sums.value += v;
                        sums.value_squared += v * v;
                        for &c in &seen {
                            sums.touched[c as usize] += 1;
                            sums.touched_value[c as usize] += v;
                            sums.touched_value_squared[c as usize] += v * v;
                        }
                        break;
                    }
                    if at == EXIT {
                        break;
                    }
                    if steps == max_steps {
                        sums.truncated += 1;
                        break;
                    }
                    for &channel in &self.states[at as usize] {
                        if !seen.contains(&channel) {
                            seen.push(channel);
                        }
                    }
                    steps += 1;
                    last = at;
                    at = rows.sample(next_rows[at as usize], &mut rng);
                }
            }
            sums
        };
        let blocks: Vec<BlockSums> =
            (0..journeys.div_ceil(SIMULATION_BLOCK)).into_par_iter().map(walk_block).collect();
        let mut sums = BlockSums::new(n);
        for block in &blocks {
            sums.add(block);
        }
        Ok(sums.estimates(journeys))
    }

    /// Whether [`simulate`](Self::simulate) can walk the chain: its
    /// alias tables address at most [`MAX_SIMULATED_STATES`] states.
    pub fn check_simulable(&self) -> Result<(), TooManyStates> {
        match self.states.len() {
            states if states > MAX_SIMULATED_STATES => Err(TooManyStates { states }),
            _ => Ok(()),
        }
    }

    /// The chain as alias tables: the start row, and a row per state
    /// whose targets are states, [`CONVERSION`] and `EXIT`.
    fn alias_rows(&self) -> (AliasRows, RowId, Vec<RowId>) {
        let states = self.states.len();
        let mut rows = AliasRows::default();
        let start: Vec<(Target, f64)> = self
            .start
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(s, w)| (s as Target, *w))
            .collect();
        let start_row = rows.push(&start);
        let next_rows = (0..states)
            .map(|s| {
                let mut row: Vec<(Target, f64)> =
                    self.next[s].iter().filter(|(_, w)| *w > 0.0).map(|&(t, w)| (t as Target, w)).collect();
                if self.conversion[s] > 0.0 {
                    row.push((CONVERSION, self.conversion[s]));
                }
                if self.null[s] > 0.0 {
                    row.push((EXIT, self.null[s]));
                } else if row.is_empty() {
                    row.push((EXIT, 1.0)); // no journey leaves it: it converts nobody
                }
                rows.push(&row)
            })
            .collect();
        (rows, start_row, next_rows)
    }
}

impl BlockSums {
    /// P(conversion)'s removal effects and their standard errors, from the
    /// sums of `journeys` walks.
    fn estimates(&self, journeys: u64) -> SimulatedRemoval {
        let sums = self;
        let cf = sums.conversions as f64;
        let ratio = |part: f64, all: f64| if all > 0.0 { part / all } else { 0.0 };
        let removal_effect: Vec<f64> = sums.touched.iter().map(|&t| ratio(t as f64, cf)).collect();
        let standard_error = removal_effect.iter().map(|&e| ratio(e * (1.0 - e), cf).sqrt()).collect();
        let value_removal_effect: Vec<f64> =
            sums.touched_value.iter().map(|&t| ratio(t, sums.value)).collect();
        // Σ v²(t − e)² = Σ v²t (1 − 2e) + e² Σ v², as t² = t.
        let value_standard_error = value_removal_effect
            .iter()
            .zip(&sums.touched_value_squared)
            .map(|(&e, &t2)| {
                let spread = (t2 * (1.0 - 2.0 * e) + e * e * sums.value_squared).max(0.0);
                ratio(spread.sqrt(), sums.value)
            })
            .collect();
        SimulatedRemoval {
            journeys,
            conversions: sums.conversions,
            truncated: sums.truncated,
            removal_effect,
            standard_error,
            value_removal_effect,
            value_standard_error,
        }
    }
}

/// Attribution of one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCredit {
    /// 1 − P(conversion without it) / P(conversion).
    pub removal_effect: f64,
    /// Removal effect / sum of removal effects.
    pub share: f64,
    /// Share × total conversions.
    pub conversions: f64,
    /// 1 − V(without it) / V, V being the expected conversion value of a
    /// journey: the removal effect with each conversion weighed by its
    /// value (0 when no conversion has value).
    pub value_removal_effect: f64,
    /// Its value removal effect over their sum × total value.
    pub value: f64,
}

/// Everything the attribution of a path file computes.
#[derive(Debug, Clone)]
pub struct Attribution {
    /// The chain fitted to the paths.
    pub chain: FittedChain,
    /// P(conversion) of a journey in the fitted chain.
    pub conversion_probability: f64,
    /// Per channel, in the order of `Paths::channels`.
    pub credits: Vec<ChannelCredit>,
    /// Per channel, its exact Shapley value of P(conversion) and of the
    /// expected conversion value, coalitions being the chain with every
    /// other channel removed; `None` above [`MAX_SHAPLEY_CHANNELS`]
    /// channels.
    pub shapley: Option<Vec<[f64; 2]>>,
    /// Each rule's credit, in the order of [`Rule::ALL`].
    pub rules: Vec<RuleCredit>,
}

/// 1 − part / whole: what removing a channel loses of `whole` (0 when
/// there is nothing to lose).
pub fn removal_effect(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { (1.0 - part / whole).max(0.0) } else { 0.0 }
}

/// Each of `values` over their sum; all 0 when the sum is not positive.
pub fn shares(values: &[f64]) -> Vec<f64> {
    let sum: f64 = values.iter().sum();
    values.iter().map(|&v| if sum > 0.0 { v / sum } else { 0.0 }).collect()
}

/// Attributes the conversions of `paths` with the chain `options`
/// describe, and by the rules `rules` sets.
pub fn attribute(paths: &Paths, options: &ChainOptions, rules: &RuleOptions) -> anyhow::Result<Attribution> {
    attribute_fitted(paths, FittedChain::fit(paths, options), rules)
}

/// [`attribute`] on a chain already fitted to `paths`, for a caller that
/// checks the chain (its size) before the solves.
pub fn attribute_fitted(
    paths: &Paths,
    chain: FittedChain,
    rules: &RuleOptions,
) -> anyhow::Result<Attribution> {
    let total_conversions: f64 = paths.rows.iter().map(|r| r.conversions).sum();
    let total_value: f64 = paths.rows.iter().map(|r| r.value).sum();
    let with_value = total_value > 0.0;
    let whole = chain.absorbed(&without(None), with_value, DENSE_STATES);
    if whole.conversion <= 0.0 {
        match chain.max_steps {
            Some(k) => {
                anyhow::bail!("no journey of the fitted chain converts within {k} steps: raise --max-steps")
            }
            None => anyhow::bail!("no path converted: there is nothing to attribute"),
        }
    }
    let n = paths.channels.len();
    let removed: Vec<Absorbed> =
        (0..n).map(|c| chain.absorbed(&without(Some(c)), with_value, DENSE_STATES)).collect();
    let effects: Vec<f64> = removed.iter().map(|w| removal_effect(w.conversion, whole.conversion)).collect();
    let value_effects: Vec<f64> = removed.iter().map(|w| removal_effect(w.value, whole.value)).collect();
    let credits: Vec<ChannelCredit> = effects
        .iter()
        .zip(shares(&effects))
        .zip(value_effects.iter().zip(shares(&value_effects)))
        .map(|((&e, share), (&v, value_share))| ChannelCredit {
            removal_effect: e,
            share,
            conversions: share * total_conversions,
            value_removal_effect: v,
            value: value_share * total_value,
        })
        .collect();
    let shapley = (n <= MAX_SHAPLEY_CHANNELS).then(|| {
        shapley::shapley(n, |coalition| {
            let kept = chain.absorbed(&|c| coalition & (1 << c) == 0, with_value, DENSE_STATES);
            [kept.conversion, kept.value]
        })
    });
    let rules = rules::credit(paths, rules);
    Ok(Attribution { chain, conversion_probability: whole.conversion, credits, shapley, rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Paths {
        Paths::parse(
            format!("path;total_conversions;total_conversion_value;total_null\n{text}").as_bytes(),
            &PathFormat::default(),
        )
        .unwrap()
    }

    /// Each channel's removal effect under `options`.
    fn effects(p: &Paths, options: &ChainOptions) -> Vec<f64> {
        attribute(p, options, &RuleOptions::default())
            .unwrap()
            .credits
            .iter()
            .map(|c| c.removal_effect)
            .collect()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    fn fixed(k: u32) -> ChainOptions {
        ChainOptions { max_steps: MaxSteps::Fixed(k), ..ChainOptions::order(1) }
    }

    #[test]
    fn the_textbook_case() {
        // C1 > C2 > C3 converts; C1 and C2 > C3 do not.
        let p = paths("C1 > C2 > C3;1;100;0\nC1;0;0;1\nC2 > C3;0;0;1\n");
        let a = attribute(&p, &ChainOptions::order(1), &RuleOptions::default()).unwrap();
        assert!((a.conversion_probability - 1.0 / 3.0).abs() < 1e-12);
        let re: Vec<f64> = a.credits.iter().map(|c| c.removal_effect).collect();
        let share: Vec<f64> = a.credits.iter().map(|c| c.share).collect();
        for (got, want) in re.iter().zip([0.5, 1.0, 1.0]).chain(share.iter().zip([0.2, 0.4, 0.4])) {
            assert!((got - want).abs() < 1e-12, "{re:?} {share:?}");
        }
        assert!((a.credits[1].value - 40.0).abs() < 1e-9);
        assert_eq!(a.rules[0].conversions[0], 1.0, "first touch");
        assert_eq!(a.rules[1].conversions[2], 1.0, "last touch");
        assert!((a.rules[2].conversions[1] - 1.0 / 3.0).abs() < 1e-12, "linear");
        // Shapley: only {C2, C3} (1/6) and all three (1/3) convert, so C1
        // is worth 1/3 · 1/6 = 1/18 and C2, C3 each 1/6 · 1/6 + 1/3 · 1/3
        // = 5/36; they add up to P = 1/3.
        let phi: Vec<f64> = a.shapley.as_ref().unwrap().iter().map(|v| v[0]).collect();
        for (got, want) in phi.iter().zip([1.0 / 18.0, 5.0 / 36.0, 5.0 / 36.0]) {
            assert!((got - want).abs() < 1e-12, "{phi:?}");
        }
    }

    #[test]
    fn simulated_removal_effects_agree_with_the_exact_ones() {
        let p = paths("C1 > C2 > C3;1;100;0\nC1;0;0;1\nC2 > C3;0;0;1\nC3 > C1 > C2;2;10;3\nC2;1;5;4\n");
        let chain = FittedChain::fit(&p, &ChainOptions::order(1));
        let exact = attribute(&p, &ChainOptions::order(1), &RuleOptions::default()).unwrap();
        let sim = chain.simulate(400_000, 3).expect("a small chain");
        let rate = sim.conversions as f64 / sim.journeys as f64;
        let se = (exact.conversion_probability * (1.0 - exact.conversion_probability) / sim.journeys as f64)
            .sqrt();
        assert!(
            (rate - exact.conversion_probability).abs() < 4.0 * se,
            "{rate} vs {}",
            exact.conversion_probability
        );
        for (c, credit) in exact.credits.iter().enumerate() {
            let (e, s) = (sim.removal_effect[c], sim.standard_error[c].max(1e-9));
            assert!(
                (e - credit.removal_effect).abs() < 4.0 * s,
                "channel {c}: {e} ± {s} vs {}",
                credit.removal_effect
            );
        }
        // And a wrong exact value would be caught: the errors are small.
        assert!(sim.standard_error.iter().all(|&s| s < 0.01));
    }

    #[test]
    fn a_second_order_chain_remembers_where_a_journey_came_from() {
        // B converts after A, never after C: order 1 blames and credits
        // A and C alike; order 2 sees that only A leads to conversions.
        let p = paths("A > B;10;100;0\nC > B;0;0;10\n");
        let effects = |order| effects(&p, &ChainOptions::order(order));
        assert!(close(&effects(1), &[0.5, 1.0, 0.5]), "{:?}", effects(1));
        assert!(close(&effects(2), &[1.0, 1.0, 0.0]), "{:?}", effects(2));
        // Orders beyond the longest path change nothing more, and the
        // simulation of the order-2 chain agrees.
        assert!(close(&effects(5), &effects(2)));
        let sim = FittedChain::fit(&p, &ChainOptions::order(2)).simulate(200_000, 1).expect("a small chain");
        assert!((sim.removal_effect[2] - 0.0).abs() < 1e-12 && (sim.removal_effect[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_iterative_solve_agrees_with_the_dense_one() {
        // Random paths over 30 channels, with loops: an order-2 chain of
        // some hundreds of states, solved both ways.
        let mut state = 12345u64;
        let mut next = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let mut text = String::new();
        for _ in 0..3000 {
            let len = 1 + next(8);
            let path: Vec<String> = (0..len).map(|_| format!("c{}", next(30))).collect();
            text.push_str(&format!("{};{};0;{}\n", path.join(" > "), next(3), 1 + next(4)));
        }
        let chain = FittedChain::fit(&paths(&text), &ChainOptions::order(2));
        assert!(chain.states.len() > 300, "{} states", chain.states.len());
        for removed in [None, Some(0), Some(7)] {
            let dense = chain.absorbed(&without(removed), false, usize::MAX).conversion;
            let iterative = chain.absorbed(&without(removed), false, 0).conversion;
            assert!((dense - iterative).abs() < 1e-12, "{removed:?}: {dense} vs {iterative}");
            assert!(dense > 0.0 && dense < 1.0);
        }
    }

    #[test]
    fn repeats_collapse_in_the_chain_but_count_as_touches() {
        let a = attribute(
            &paths("a > a > b;2;20;0\nb;0;0;2\n"),
            &ChainOptions::order(1),
            &RuleOptions::default(),
        )
        .unwrap();
        // The chain sees a > b (2 journeys) and b (2): b converts half of
        // what reaches it, so P = 1/2; without a, P = 1/4; without b, 0.
        assert!((a.conversion_probability - 0.5).abs() < 1e-12);
        assert!((a.credits[0].removal_effect - 0.5).abs() < 1e-12);
        assert!((a.credits[1].removal_effect - 1.0).abs() < 1e-12);
        assert!((a.rules[2].conversions[0] - 4.0 / 3.0).abs() < 1e-12, "two of three touches");
        assert!(
            attribute(&paths("a;0;0;5\n"), &ChainOptions::order(1), &RuleOptions::default())
                .unwrap_err()
                .to_string()
                .contains("nothing to attribute")
        );
    }

    #[test]
    fn max_steps_cuts_journeys_in_the_exact_and_the_simulated_values() {
        // Textbook chain: P(conversion) = 1/3, half of it through C1 > C2 > C3
        // (3 states), half through C2 > C3 (2 states).
        let p = paths("C1 > C2 > C3;1;0;0\nC1;0;0;1\nC2 > C3;0;0;1\n");
        let unlimited = attribute(&p, &fixed(1000), &RuleOptions::default()).unwrap();
        assert!((unlimited.conversion_probability - 1.0 / 3.0).abs() < 1e-12);
        let two = attribute(&p, &fixed(2), &RuleOptions::default()).unwrap();
        assert!((two.conversion_probability - 1.0 / 6.0).abs() < 1e-12);
        // Within 2 steps only C2 > C3 converts: removing C1 changes nothing.
        assert!(two.credits[0].removal_effect.abs() < 1e-12);
        let sim = two.chain.simulate(200_000, 5).expect("a small chain");
        let q = sim.conversions as f64 / sim.journeys as f64;
        assert!((q - 1.0 / 6.0).abs() < 4.0 * (1.0 / 6.0 * 5.0 / 6.0 / 200_000.0f64).sqrt(), "{q}");
        assert!(
            attribute(&p, &fixed(1), &RuleOptions::default())
                .unwrap_err()
                .to_string()
                .contains("within 1 steps")
        );
    }

    #[test]
    fn order_k_states_keep_repeats_as_the_package_does() {
        // b > a > a converts and b > a does not; c > a converts and
        // c > a > a does not. Kept repeats tell [a a] from [b a] and [c a]:
        // from b, P = 1/2 · P([a a]) = 1/4; from c, 1/2 + 1/4 = 3/4. So
        // P = 1/2, without b 3/8 (effect 1/4), without c 1/8 (3/4).
        // Collapsed, both b-paths are b > a and both c-paths c > a: 1/2 each.
        let p = paths("b > a > a;1;0;0\nb > a;0;0;1\nc > a;1;0;0\nc > a > a;0;0;1\n");
        let effects = |options: &ChainOptions| effects(&p, options);
        let kept = effects(&ChainOptions::order(2));
        assert!(close(&kept, &[0.25, 1.0, 0.75]), "{kept:?}");
        let collapsed = effects(&ChainOptions { collapse_repeats: true, ..ChainOptions::order(2) });
        assert!(close(&collapsed, &[0.5, 1.0, 0.5]), "{collapsed:?}");
        // The package's windows: the first is full, a repeated window is
        // walked once, and a path shorter than the order is one state.
        let chain = FittedChain::fit(&paths("a > a > a > b;1;0;0\nb;0;0;1\n"), &ChainOptions::order(2));
        assert_eq!(chain.states, vec![vec![0, 0], vec![0, 1], vec![1]]);
        assert_eq!(chain.longest_path, 2);
        // Removing a channel removes every state holding it, not only the
        // states ending at it: without a, nothing converts.
        assert!(chain.conversion_probability(Some(0)).abs() < 1e-15);
        // The simulation marks every channel of a state it walks.
        let sim = FittedChain::fit(&p, &ChainOptions::order(2)).simulate(400_000, 9).expect("a small chain");
        for (c, want) in [0.25, 1.0, 0.75].into_iter().enumerate() {
            assert!((sim.removal_effect[c] - want).abs() < 4.0 * sim.standard_error[c].max(1e-9), "{sim:?}");
        }
    }

    #[test]
    fn max_steps_auto_is_the_longest_path_plus_one() {
        // A loop a ⇄ b: longest path 4 states, cut at 5.
        let p = paths("a > b > a > b;1;0;2\nb > a;1;0;1\na;0;0;1\n");
        let auto = ChainOptions { max_steps: MaxSteps::Auto, ..ChainOptions::order(1) };
        let a = attribute(&p, &auto, &RuleOptions::default()).unwrap();
        assert_eq!(a.chain.max_steps, Some(5));
        let five = attribute(
            &p,
            &ChainOptions { max_steps: MaxSteps::Fixed(5), ..ChainOptions::order(1) },
            &RuleOptions::default(),
        )
        .unwrap();
        assert_eq!(a.conversion_probability, five.conversion_probability);
        let uncut = attribute(&p, &ChainOptions::order(1), &RuleOptions::default()).unwrap();
        assert!(a.conversion_probability < uncut.conversion_probability - 1e-6);
    }

    #[test]
    fn value_removal_effects_weigh_conversions_by_their_value() {
        // a converts worth 100, b worth 10: V = 55 a journey; without a,
        // 5 (effect 10/11), without b, 50 (1/11). By conversions, half each.
        let a = attribute(&paths("a;1;100;0\nb;1;10;0\n"), &ChainOptions::order(1), &RuleOptions::default())
            .unwrap();
        let [x, y] = &a.credits[..] else { panic!("two channels") };
        assert!((x.removal_effect - 0.5).abs() < 1e-12 && (y.removal_effect - 0.5).abs() < 1e-12);
        assert!((x.value_removal_effect - 10.0 / 11.0).abs() < 1e-12, "{x:?}");
        assert!((y.value_removal_effect - 1.0 / 11.0).abs() < 1e-12, "{y:?}");
        assert!((x.value - 100.0).abs() < 1e-9 && (y.value - 10.0).abs() < 1e-9);
        // Values sum to the total on a chain with loops, solved both ways.
        let p = paths("a > b > a;2;30;1\nb > c;1;70;3\nc > a > c;1;5;0\n");
        let a = attribute(&p, &ChainOptions::order(2), &RuleOptions::default()).unwrap();
        let total: f64 = a.credits.iter().map(|c| c.value).sum();
        assert!((total - 105.0).abs() < 1e-9, "{total}");
        for removed in [None, Some(0), Some(2)] {
            let dense = a.chain.absorbed(&without(removed), true, usize::MAX);
            let iterative = a.chain.absorbed(&without(removed), true, 0);
            assert!((dense.value - iterative.value).abs() < 1e-10, "{dense:?} {iterative:?}");
        }
    }

    #[test]
    fn simulated_value_removal_effects_agree_with_the_exact_ones_on_any_threads() {
        // Loops, several values per converting state, order 2.
        let p = paths(
            "a > b > a;2;30;1\nb > c;1;70;3\nc > a > c;1;5;0\nb > a;3;600;1\nc > b > a;1;10;2\na;2;4;5\n",
        );
        let exact = attribute(&p, &ChainOptions::order(2), &RuleOptions::default()).unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| exact.chain.simulate(300_000, 11).expect("a small chain"))
        };
        let sim = run(1);
        assert_eq!(sim, run(3), "the same seed gives the same estimate on any threads");
        for (c, credit) in exact.credits.iter().enumerate() {
            let (e, se) = (sim.value_removal_effect[c], sim.value_standard_error[c]);
            assert!(se > 0.0 && se < 0.01, "channel {c}: se {se}");
            assert!(
                (e - credit.value_removal_effect).abs() < 4.0 * se,
                "channel {c}: {e} ± {se} vs {credit:?}"
            );
        }
        // Without values, the value estimates are 0.
        let plain = paths("a > b;1;0;1\nb;1;0;0\n");
        let sim = attribute(&plain, &ChainOptions::order(1), &RuleOptions::default())
            .unwrap()
            .chain
            .simulate(10_000, 1)
            .expect("a small chain");
        assert!(sim.value_removal_effect.iter().chain(&sim.value_standard_error).all(|&x| x == 0.0));
    }

    /// A chain with more states than its alias tables address is refused
    /// with a clear error, before any walk, never a panic.
    #[test]
    fn a_chain_too_large_to_simulate_is_refused() {
        // Every ordered triple of 41 channels: 41³ = 68,921 order-3 states.
        let mut text = String::new();
        for (x, y, z) in (0..41).flat_map(|x| (0..41).flat_map(move |y| (0..41).map(move |z| (x, y, z)))) {
            text.push_str(&format!("c{x} > c{y} > c{z};1;0;0\n"));
        }
        let chain = FittedChain::fit(&paths(&text), &ChainOptions::order(3));
        assert!(chain.states.len() > MAX_SIMULATED_STATES, "{}", chain.states.len());
        let err = chain.simulate(10, 1).expect_err("refused").to_string();
        assert!(err.contains("--simulate walks at most 65534"), "{err}");
        let small = FittedChain::fit(&paths("a;1;0;0\n"), &ChainOptions::order(1));
        assert!(small.check_simulable().is_ok());
    }
}
