//! Channel attribution from journey paths: the Markov removal effects,
//! computed exactly by absorbing-chain solves (not estimated by simulation),
//! beside the first-touch, last-touch and linear-touch heuristics.
//!
//! Conventions follow the ChannelAttribution package so results can be
//! cross-checked (docs/attribution.md):
//! - the fitted chain has a start state, one state per channel, and the
//!   absorbing states conversion and null; every journey of a path goes
//!   start → its channels → conversion (the path's conversions) or null
//!   (its nulls);
//! - consecutive repeats of a channel are collapsed in the chain (`a > a >
//!   b` walks `a > b`);
//! - the removal effect of channel c is 1 − P(conversion with c removed) /
//!   P(conversion), where removing c sends every transition into c to
//!   null; shares are removal effects over their sum, and attributed
//!   conversions and value are the shares of the totals;
//! - heuristics credit each path's conversions (and value) to its first
//!   channel, its last channel, or equally to each of its touches as
//!   written (repeats included).

pub mod paths;

pub use paths::Paths;

use crate::model::exact::solve;

/// The order-1 chain fitted to a path file, as transition counts.
#[derive(Debug, Clone)]
pub struct FittedChain {
    /// Channels (transient states).
    pub channels: usize,
    /// Journeys whose first channel is each channel.
    pub start: Vec<f64>,
    /// `next[c * channels + d]`: journeys moving from c to d (c ≠ d).
    pub next: Vec<f64>,
    /// Journeys converting after each channel.
    pub conversion: Vec<f64>,
    /// Journeys ending without conversion after each channel.
    pub null: Vec<f64>,
}

impl FittedChain {
    /// Counts the transitions of every path, weighted by its journeys.
    pub fn fit(paths: &Paths) -> FittedChain {
        let n = paths.channels.len();
        let mut chain = FittedChain {
            channels: n,
            start: vec![0.0; n],
            next: vec![0.0; n * n],
            conversion: vec![0.0; n],
            null: vec![0.0; n],
        };
        for row in &paths.rows {
            let journeys = row.conversions + row.nulls;
            let (Some(&first), Some(&last)) = (row.channels.first(), row.channels.last()) else { continue };
            chain.start[first as usize] += journeys;
            for pair in row.channels.windows(2) {
                if pair[0] != pair[1] {
                    chain.next[pair[0] as usize * n + pair[1] as usize] += journeys;
                }
            }
            chain.conversion[last as usize] += row.conversions;
            chain.null[last as usize] += row.nulls;
        }
        chain
    }

    /// P(conversion) of a journey from the start, with the channels in
    /// `removed` sending their journeys to null.
    pub fn conversion_probability(&self, removed: Option<usize>) -> f64 {
        let n = self.channels;
        // x_c = Σ_d p(c→d) x_d + p(c→conversion); a removed channel, or
        // one no journey leaves, converts nobody.
        let mut a = vec![0.0; n * n];
        let mut b = vec![0.0; n];
        for c in 0..n {
            a[c * n + c] = 1.0;
            let out: f64 =
                self.next[c * n..(c + 1) * n].iter().sum::<f64>() + self.conversion[c] + self.null[c];
            if Some(c) == removed || out == 0.0 {
                continue;
            }
            for d in 0..n {
                a[c * n + d] -= self.next[c * n + d] / out;
            }
            b[c] = self.conversion[c] / out;
        }
        let x = solve(a, b, n);
        let total: f64 = self.start.iter().sum();
        if total == 0.0 {
            return 0.0;
        }
        (0..n).filter(|&c| Some(c) != removed).map(|c| self.start[c] / total * x[c]).sum()
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
    /// Journeys cut at [`MAX_SIMULATED_STEPS`] (counted as not converting).
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

/// A simulated journey longer than this is cut.
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
        assert!(n < CONVERSION as usize, "at most {} channels", CONVERSION);
        let mut rows = AliasRows::default();
        let start: Vec<(Target, f64)> = self
            .start
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(c, w)| (c as Target, *w))
            .collect();
        let start_row = rows.push(&start);
        let next_rows: Vec<_> = (0..n)
            .map(|c| {
                let mut row: Vec<(Target, f64)> = (0..n)
                    .filter(|&d| self.next[c * n + d] > 0.0)
                    .map(|d| (d as Target, self.next[c * n + d]))
                    .collect();
                if self.conversion[c] > 0.0 {
                    row.push((CONVERSION, self.conversion[c]));
                }
                if self.null[c] > 0.0 {
                    row.push((EXIT, self.null[c]));
                } else if row.is_empty() {
                    row.push((EXIT, 1.0)); // no journey leaves it: it converts nobody
                }
                rows.push(&row)
            })
            .collect();
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
                        if steps == MAX_SIMULATED_STEPS {
                            cut += 1;
                            break;
                        }
                        if !seen.contains(&at) {
                            seen.push(at);
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
    /// P(conversion) of a journey in the fitted chain.
    pub conversion_probability: f64,
    /// Per channel, in the order of `Paths::channels`.
    pub credits: Vec<ChannelCredit>,
}

/// Attributes the conversions of `paths`.
pub fn attribute(paths: &Paths) -> anyhow::Result<Attribution> {
    let chain = FittedChain::fit(paths);
    let p = chain.conversion_probability(None);
    if p <= 0.0 {
        anyhow::bail!("no path converted: there is nothing to attribute");
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
    Ok(Attribution { conversion_probability: p, credits })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Paths {
        Paths::parse(
            format!("path;total_conversions;total_conversion_value;total_null\n{text}").as_bytes(),
            b';',
        )
        .unwrap()
    }

    #[test]
    fn the_textbook_case() {
        // C1 > C2 > C3 converts; C1 and C2 > C3 do not.
        let p = paths("C1 > C2 > C3;1;100;0\nC1;0;0;1\nC2 > C3;0;0;1\n");
        let a = attribute(&p).unwrap();
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
        let chain = FittedChain::fit(&p);
        let exact = attribute(&p).unwrap();
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
    fn repeats_collapse_in_the_chain_but_count_as_touches() {
        let a = attribute(&paths("a > a > b;2;20;0\nb;0;0;2\n")).unwrap();
        // The chain sees a > b (2 journeys) and b (2): b converts half of
        // what reaches it, so P = 1/2; without a, P = 1/4; without b, 0.
        assert!((a.conversion_probability - 0.5).abs() < 1e-12);
        assert!((a.credits[0].removal_effect - 0.5).abs() < 1e-12);
        assert!((a.credits[1].removal_effect - 1.0).abs() < 1e-12);
        assert!((a.credits[0].linear_touch - 4.0 / 3.0).abs() < 1e-12, "two of three touches");
        assert!(attribute(&paths("a;0;0;5\n")).unwrap_err().to_string().contains("nothing to attribute"));
    }
}
