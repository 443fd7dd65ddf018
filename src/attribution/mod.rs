//! Channel attribution from journey paths: the Markov removal effects,
//! computed exactly by absorbing-chain solves (not estimated by simulation),
//! beside the first-touch, last-touch and linear-touch heuristics.
//!
//! Conventions follow the ChannelAttribution package so results can be
//! cross-checked:
//! - the fitted chain has a start state, transient states, and the
//!   absorbing states conversion and null; every journey of a path goes
//!   start → its states → conversion (the path's conversions) or null
//!   (its nulls);
//! - consecutive repeats of a channel are collapsed in the chain (`a > a >
//!   b` walks `a > b`);
//! - order k: a state is the window of the last (up to) k channels, so an
//!   order-1 chain has one state per channel;
//! - the removal effect of channel c is 1 − P(conversion with c removed) /
//!   P(conversion), where removing c sends every transition into a state
//!   at c to null; shares are removal effects over their sum, and attributed
//!   conversions and value are the shares of the totals;
//! - heuristics credit each path's conversions (and value) to its first
//!   channel, its last channel, or equally to each of its touches as
//!   written (repeats included);
//! - with a maximum number of steps (the package's `max_step`), a journey
//!   of the fitted chain that has not converted after that many states is
//!   cut and counts as null, in the exact values as in the simulated ones.

pub mod paths;

pub use paths::{PathFormat, Paths};

use crate::model::exact::solve;

/// The order-k chain fitted to a path file, as transition counts. Its
/// states are the windows of the last (up to) k channels of a journey,
/// consecutive repeats collapsed first; order 1 has one state per channel.
#[derive(Debug, Clone)]
pub struct FittedChain {
    /// Its order: states are windows of up to this many channels.
    pub order: usize,
    /// Channels of the paths.
    pub channels: usize,
    /// Each state's window of channels, oldest first; its last channel is
    /// where the journey is.
    pub states: Vec<Vec<u32>>,
    /// Journeys starting in each state.
    pub start: Vec<f64>,
    /// Per state, journeys moving to each next state.
    pub next: Vec<Vec<(usize, f64)>>,
    /// Journeys converting after each state.
    pub conversion: Vec<f64>,
    /// Journeys ending without conversion after each state.
    pub null: Vec<f64>,
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
    /// the chain of order `order` (1 or more).
    pub fn fit(paths: &Paths, order: usize) -> FittedChain {
        let order = order.max(1);
        let mut chain = FittedChain {
            order,
            channels: paths.channels.len(),
            states: Vec::new(),
            start: Vec::new(),
            next: Vec::new(),
            conversion: Vec::new(),
            null: Vec::new(),
            max_steps: None,
        };
        let mut index: std::collections::HashMap<Vec<u32>, usize> = std::collections::HashMap::new();
        let mut walk: Vec<u32> = Vec::new();
        let mut ids: Vec<usize> = Vec::new();
        for row in &paths.rows {
            walk.clear();
            for &c in &row.channels {
                if walk.last() != Some(&c) {
                    walk.push(c);
                }
            }
            if walk.is_empty() {
                continue;
            }
            ids.clear();
            for j in 0..walk.len() {
                let window = &walk[(j + 1).saturating_sub(order)..=j];
                let id = match index.get(window) {
                    Some(&id) => id,
                    None => {
                        let id = chain.states.len();
                        index.insert(window.to_vec(), id);
                        chain.states.push(window.to_vec());
                        chain.start.push(0.0);
                        chain.next.push(Vec::new());
                        chain.conversion.push(0.0);
                        chain.null.push(0.0);
                        id
                    }
                };
                ids.push(id);
            }
            let journeys = row.conversions + row.nulls;
            chain.start[ids[0]] += journeys;
            for pair in ids.windows(2) {
                let row = &mut chain.next[pair[0]];
                match row.iter_mut().find(|(t, _)| *t == pair[1]) {
                    Some((_, w)) => *w += journeys,
                    None => row.push((pair[1], journeys)),
                }
            }
            let last = *ids.last().expect("a state");
            chain.conversion[last] += row.conversions;
            chain.null[last] += row.nulls;
        }
        chain
    }

    /// The channel a state stands at.
    fn at(&self, state: usize) -> usize {
        *self.states[state].last().expect("windows are never empty") as usize
    }

    /// P(conversion) of a journey from the start, with channel `removed`
    /// (if any) sending every journey that reaches it to null.
    pub fn conversion_probability(&self, removed: Option<usize>) -> f64 {
        self.conversion_probability_solved(removed, DENSE_STATES)
    }

    /// As [`Self::conversion_probability`], solving densely up to
    /// `dense_states` states and iteratively beyond.
    fn conversion_probability_solved(&self, removed: Option<usize>, dense_states: usize) -> f64 {
        let n = self.states.len();
        let total: f64 = self.start.iter().sum();
        if total == 0.0 {
            return 0.0;
        }
        // x_s = Σ_t p(s→t) x_t + p(s→conversion); a state at the removed
        // channel converts nobody. Probabilities by row:
        let gone = |s: usize| Some(self.at(s)) == removed;
        let outs: Vec<f64> = (0..n)
            .map(|s| self.next[s].iter().map(|(_, w)| w).sum::<f64>() + self.conversion[s] + self.null[s])
            .collect();
        if let Some(max_steps) = self.max_steps {
            // Within `max_steps` states: push the distribution over states
            // forward one step at a time, collecting what converts.
            let mut at: Vec<f64> = self.start.iter().map(|w| w / total).collect();
            let mut next = vec![0.0; n];
            let mut converted = 0.0;
            for _ in 0..max_steps {
                next.iter_mut().for_each(|x| *x = 0.0);
                for s in (0..n).filter(|&s| at[s] > 0.0 && !gone(s) && outs[s] > 0.0) {
                    converted += at[s] * self.conversion[s] / outs[s];
                    for &(t, w) in &self.next[s] {
                        next[t] += at[s] * w / outs[s];
                    }
                }
                std::mem::swap(&mut at, &mut next);
            }
            return converted;
        }
        let x = if n <= dense_states {
            let mut a = vec![0.0; n * n];
            let mut b = vec![0.0; n];
            for s in 0..n {
                a[s * n + s] = 1.0;
                if gone(s) || outs[s] == 0.0 {
                    continue;
                }
                for &(t, w) in &self.next[s] {
                    a[s * n + t] -= w / outs[s];
                }
                b[s] = self.conversion[s] / outs[s];
            }
            solve(a, b, n)
        } else {
            // Gauss–Seidel: every row leaks to the absorbing states, so the
            // sweeps converge; stop when a sweep changes nothing.
            let mut x = vec![0.0; n];
            for _ in 0..1_000_000 {
                let mut change: f64 = 0.0;
                for s in 0..n {
                    if gone(s) || outs[s] == 0.0 {
                        continue;
                    }
                    let v = (self.conversion[s] + self.next[s].iter().map(|&(t, w)| w * x[t]).sum::<f64>())
                        / outs[s];
                    change = change.max((v - x[s]).abs());
                    x[s] = v;
                }
                if change <= 1e-16 {
                    break;
                }
            }
            x
        };
        (0..n).filter(|&s| !gone(s)).map(|s| self.start[s] / total * x[s]).sum()
    }
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
}

/// A simulated journey longer than this is cut when the chain sets no
/// `max_steps`.
pub const MAX_SIMULATED_STEPS: u32 = 10_000;

impl FittedChain {
    /// Walks `journeys` journeys on the chain (journey `i` with the
    /// generator of customer `i` of `seed`, in parallel), and estimates
    /// P(conversion) and every removal effect from them.
    pub fn simulate(&self, journeys: u64, seed: u64) -> SimulatedRemoval {
        use crate::model::alias::{AliasRows, EXIT, Target};
        use crate::rng::{CustomerRngs, Stream};
        use rayon::prelude::*;

        const CONVERSION: Target = EXIT - 1;
        let n = self.channels;
        let states = self.states.len();
        assert!(states < CONVERSION as usize, "at most {CONVERSION} states can be simulated");
        let mut rows = AliasRows::default();
        let start: Vec<(Target, f64)> = self
            .start
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(s, w)| (s as Target, *w))
            .collect();
        let start_row = rows.push(&start);
        let next_rows: Vec<_> = (0..states)
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
        let channel_of: Vec<Target> = (0..states).map(|s| self.at(s) as Target).collect();
        let max_steps = self.max_steps.unwrap_or(MAX_SIMULATED_STEPS);
        let rngs = CustomerRngs::new(seed, Stream::Journey);
        // Per fold: conversions, truncated, and converted journeys that
        // touched each channel; `seen` is the reused per-journey list.
        let (conversions, truncated, touched) = (0..journeys)
            .into_par_iter()
            .fold(
                || (0u64, 0u64, vec![0u64; n], Vec::<Target>::new()),
                |(mut conv, mut cut, mut touched, mut seen), i| {
                    let mut rng = rngs.customer(i);
                    seen.clear();
                    let mut at = rows.sample(start_row, &mut rng);
                    let mut steps = 0;
                    loop {
                        if at == CONVERSION {
                            conv += 1;
                            for &c in &seen {
                                touched[c as usize] += 1;
                            }
                            break;
                        }
                        if at == EXIT {
                            break;
                        }
                        if steps == max_steps {
                            cut += 1;
                            break;
                        }
                        let channel = channel_of[at as usize];
                        if !seen.contains(&channel) {
                            seen.push(channel);
                        }
                        steps += 1;
                        at = rows.sample(next_rows[at as usize], &mut rng);
                    }
                    (conv, cut, touched, seen)
                },
            )
            .map(|(c, t, touched, _)| (c, t, touched))
            .reduce(
                || (0, 0, vec![0; n]),
                |(c1, t1, mut a), (c2, t2, b)| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    (c1 + c2, t1 + t2, a)
                },
            );
        let cf = conversions as f64;
        let removal_effect: Vec<f64> =
            touched.iter().map(|&t| if conversions == 0 { 0.0 } else { t as f64 / cf }).collect();
        let standard_error = removal_effect
            .iter()
            .map(|&e| if conversions == 0 { 0.0 } else { (e * (1.0 - e) / cf).sqrt() })
            .collect();
        SimulatedRemoval { journeys, conversions, truncated, removal_effect, standard_error }
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
    /// Share × total value.
    pub value: f64,
    /// Conversions of paths that start with it.
    pub first_touch: f64,
    /// Conversions of paths that end with it.
    pub last_touch: f64,
    /// Conversions split equally over every path's touches.
    pub linear_touch: f64,
    /// Value credited the same three ways.
    pub first_touch_value: f64,
    /// See `first_touch_value`.
    pub last_touch_value: f64,
    /// See `first_touch_value`.
    pub linear_touch_value: f64,
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
}

/// Attributes the conversions of `paths` with the chain of order `order`,
/// journeys cut after `max_steps` states when given.
pub fn attribute(paths: &Paths, order: usize, max_steps: Option<u32>) -> anyhow::Result<Attribution> {
    let mut chain = FittedChain::fit(paths, order);
    chain.max_steps = max_steps;
    let p = chain.conversion_probability(None);
    if p <= 0.0 {
        match max_steps {
            Some(k) => {
                anyhow::bail!("no journey of the fitted chain converts within {k} steps: raise --max-steps")
            }
            None => anyhow::bail!("no path converted: there is nothing to attribute"),
        }
    }
    let n = paths.channels.len();
    let effects: Vec<f64> =
        (0..n).map(|c| (1.0 - chain.conversion_probability(Some(c)) / p).max(0.0)).collect();
    let sum: f64 = effects.iter().sum();
    let total_conversions: f64 = paths.rows.iter().map(|r| r.conversions).sum();
    let total_value: f64 = paths.rows.iter().map(|r| r.value).sum();
    let mut credits: Vec<ChannelCredit> = effects
        .iter()
        .map(|&e| {
            let share = if sum > 0.0 { e / sum } else { 0.0 };
            ChannelCredit {
                removal_effect: e,
                share,
                conversions: share * total_conversions,
                value: share * total_value,
                first_touch: 0.0,
                last_touch: 0.0,
                linear_touch: 0.0,
                first_touch_value: 0.0,
                last_touch_value: 0.0,
                linear_touch_value: 0.0,
            }
        })
        .collect();
    for row in &paths.rows {
        let (Some(&first), Some(&last)) = (row.channels.first(), row.channels.last()) else { continue };
        credits[first as usize].first_touch += row.conversions;
        credits[first as usize].first_touch_value += row.value;
        credits[last as usize].last_touch += row.conversions;
        credits[last as usize].last_touch_value += row.value;
        let touches = row.channels.len() as f64;
        for &c in &row.channels {
            credits[c as usize].linear_touch += row.conversions / touches;
            credits[c as usize].linear_touch_value += row.value / touches;
        }
    }
    Ok(Attribution { chain, conversion_probability: p, credits })
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

    #[test]
    fn the_textbook_case() {
        // C1 > C2 > C3 converts; C1 and C2 > C3 do not.
        let p = paths("C1 > C2 > C3;1;100;0\nC1;0;0;1\nC2 > C3;0;0;1\n");
        let a = attribute(&p, 1, None).unwrap();
        assert!((a.conversion_probability - 1.0 / 3.0).abs() < 1e-12);
        let re: Vec<f64> = a.credits.iter().map(|c| c.removal_effect).collect();
        let share: Vec<f64> = a.credits.iter().map(|c| c.share).collect();
        for (got, want) in re.iter().zip([0.5, 1.0, 1.0]).chain(share.iter().zip([0.2, 0.4, 0.4])) {
            assert!((got - want).abs() < 1e-12, "{re:?} {share:?}");
        }
        assert!((a.credits[1].value - 40.0).abs() < 1e-9);
        assert_eq!(a.credits[0].first_touch, 1.0);
        assert_eq!(a.credits[2].last_touch, 1.0);
        assert!((a.credits[1].linear_touch - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn simulated_removal_effects_agree_with_the_exact_ones() {
        let p = paths("C1 > C2 > C3;1;100;0\nC1;0;0;1\nC2 > C3;0;0;1\nC3 > C1 > C2;2;10;3\nC2;1;5;4\n");
        let chain = FittedChain::fit(&p, 1);
        let exact = attribute(&p, 1, None).unwrap();
        let sim = chain.simulate(400_000, 3);
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
        let effects = |order| -> Vec<f64> {
            attribute(&p, order, None).unwrap().credits.iter().map(|c| c.removal_effect).collect()
        };
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        assert!(close(&effects(1), &[0.5, 1.0, 0.5]), "{:?}", effects(1));
        assert!(close(&effects(2), &[1.0, 1.0, 0.0]), "{:?}", effects(2));
        // Orders beyond the longest path change nothing more, and the
        // simulation of the order-2 chain agrees.
        assert!(close(&effects(5), &effects(2)));
        let sim = FittedChain::fit(&p, 2).simulate(200_000, 1);
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
        let chain = FittedChain::fit(&paths(&text), 2);
        assert!(chain.states.len() > 300, "{} states", chain.states.len());
        for removed in [None, Some(0), Some(7)] {
            let dense = chain.conversion_probability_solved(removed, usize::MAX);
            let iterative = chain.conversion_probability_solved(removed, 0);
            assert!((dense - iterative).abs() < 1e-12, "{removed:?}: {dense} vs {iterative}");
            assert!(dense > 0.0 && dense < 1.0);
        }
    }

    #[test]
    fn repeats_collapse_in_the_chain_but_count_as_touches() {
        let a = attribute(&paths("a > a > b;2;20;0\nb;0;0;2\n"), 1, None).unwrap();
        // The chain sees a > b (2 journeys) and b (2): b converts half of
        // what reaches it, so P = 1/2; without a, P = 1/4; without b, 0.
        assert!((a.conversion_probability - 0.5).abs() < 1e-12);
        assert!((a.credits[0].removal_effect - 0.5).abs() < 1e-12);
        assert!((a.credits[1].removal_effect - 1.0).abs() < 1e-12);
        assert!((a.credits[0].linear_touch - 4.0 / 3.0).abs() < 1e-12, "two of three touches");
        assert!(
            attribute(&paths("a;0;0;5\n"), 1, None).unwrap_err().to_string().contains("nothing to attribute")
        );
    }

    #[test]
    fn max_steps_cuts_journeys_in_the_exact_and_the_simulated_values() {
        // Textbook chain: P(conversion) = 1/3, half of it through C1 > C2 > C3
        // (3 states), half through C2 > C3 (2 states).
        let p = paths("C1 > C2 > C3;1;0;0\nC1;0;0;1\nC2 > C3;0;0;1\n");
        let unlimited = attribute(&p, 1, Some(1000)).unwrap();
        assert!((unlimited.conversion_probability - 1.0 / 3.0).abs() < 1e-12);
        let two = attribute(&p, 1, Some(2)).unwrap();
        assert!((two.conversion_probability - 1.0 / 6.0).abs() < 1e-12);
        // Within 2 steps only C2 > C3 converts: removing C1 changes nothing.
        assert!(two.credits[0].removal_effect.abs() < 1e-12);
        let sim = two.chain.simulate(200_000, 5);
        let q = sim.conversions as f64 / sim.journeys as f64;
        assert!((q - 1.0 / 6.0).abs() < 4.0 * (1.0 / 6.0 * 5.0 / 6.0 / 200_000.0f64).sqrt(), "{q}");
        assert!(attribute(&p, 1, Some(1)).unwrap_err().to_string().contains("within 1 steps"));
    }
}
