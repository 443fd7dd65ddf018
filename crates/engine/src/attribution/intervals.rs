//! How sure the removal effects are, given that the paths are a sample:
//! 95% intervals from the Bayesian bootstrap over journeys.
//!
//! Each journey of the file gets a weight drawn from Exp(1) (jointly, a
//! flat Dirichlet over the journeys, rescaled), so a row's c conversions
//! weigh Gamma(c, 1) and its u nulls Gamma(u, 1), its value following its
//! conversions. The chain is refitted to every resample (same states,
//! same cut) and solved exactly; each interval runs from the 2.5th to the
//! 97.5th percentile of the resamples.

use rayon::prelude::*;

use super::paths::PathRow;
use super::{ChainOptions, FittedChain, Paths, removal_effect, shares};
use fogg_core::rng::{Stream, customer_rng};
use fogg_model::posterior::{gamma_weight, interval95};

/// 95% intervals of each channel's attribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Intervals {
    /// Resamples drawn.
    pub resamples: u64,
    /// Per channel (in the order of `Paths::channels`): the removal
    /// effect's interval.
    pub removal_effect: Vec<[f64; 2]>,
    /// The share's interval.
    pub share: Vec<[f64; 2]>,
}

/// One resample's removal effects and shares, per channel.
struct Draw {
    effects: Vec<f64>,
    shares: Vec<f64>,
}

/// Draws `resamples` Bayesian-bootstrap resamples of `paths` (resample `r`
/// from the generator of customer `r` of `seed`, in parallel), fits the
/// chain `options` describe to each, and gives the 95% intervals of the
/// removal effects and shares. Resamples in which nothing converts are
/// left out (they have no removal effects); `None` if all are.
pub fn intervals(paths: &Paths, options: &ChainOptions, resamples: u64, seed: u64) -> Option<Intervals> {
    let (chain, walks) = FittedChain::fit_walks(paths, options);
    let n = paths.channels.len();
    let draws: Vec<Draw> = (0..resamples)
        .into_par_iter()
        .filter_map(|r| {
            let mut rng = customer_rng(seed, r, Stream::Resample);
            let mut weigh = |count: f64| gamma_weight(count, &mut rng);
            let rows: Vec<PathRow> = paths
                .rows
                .iter()
                .map(|row| {
                    let conversions = weigh(row.conversions);
                    let nulls = weigh(row.nulls);
                    let value =
                        if row.conversions > 0.0 { row.value * conversions / row.conversions } else { 0.0 };
                    PathRow { channels: Vec::new(), conversions, value, nulls }
                })
                .collect();
            let resampled = chain.reweighted(&walks, &rows);
            let p = resampled.conversion_probability(None);
            if p <= 0.0 {
                return None;
            }
            let effects: Vec<f64> =
                (0..n).map(|c| removal_effect(resampled.conversion_probability(Some(c)), p)).collect();
            let shares = shares(&effects);
            Some(Draw { effects, shares })
        })
        .collect();
    if draws.is_empty() {
        return None;
    }
    let interval = |pick: &dyn Fn(&Draw) -> f64| -> [f64; 2] {
        interval95(draws.iter().map(pick).collect()).expect("draws is not empty")
    };
    Some(Intervals {
        resamples,
        removal_effect: (0..n).map(|c| interval(&|d| d.effects[c])).collect(),
        share: (0..n).map(|c| interval(&|d| d.shares[c])).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::{ChainOptions, PathFormat};
    use rand::{Rng, RngExt};

    /// A known order-1 chain over 3 channels: where journeys start, where
    /// they go from each channel, and what converts.
    struct Truth {
        start: [f64; 3],
        /// Per channel: to each channel, then conversion, then null.
        next: [[f64; 5]; 3],
    }

    const TRUTH: Truth = Truth {
        start: [0.5, 0.3, 0.2],
        next: [[0.0, 0.3, 0.2, 0.1, 0.4], [0.2, 0.0, 0.3, 0.15, 0.35], [0.1, 0.2, 0.0, 0.3, 0.4]],
    };

    /// The true removal effects, from the chain's probabilities as counts.
    fn true_effects() -> Vec<f64> {
        let chain = FittedChain {
            options: ChainOptions::order(1),
            channels: 3,
            states: vec![vec![0], vec![1], vec![2]],
            start: TRUTH.start.to_vec(),
            next: TRUTH.next.iter().map(|row| (0..3).map(|t| (t, row[t])).collect()).collect(),
            conversion: TRUTH.next.iter().map(|row| row[3]).collect(),
            value: vec![0.0; 3],
            conversion_values: vec![Vec::new(); 3],
            null: TRUTH.next.iter().map(|row| row[4]).collect(),
            longest_path: 0,
            max_steps: None,
        };
        let p = chain.conversion_probability(None);
        (0..3).map(|c| 1.0 - chain.conversion_probability(Some(c)) / p).collect()
    }

    /// `journeys` journeys walked on the true chain, as a path file.
    fn dataset(journeys: usize, rng: &mut impl Rng) -> Paths {
        let pick = |weights: &[f64], rng: &mut dyn rand::Rng| {
            let mut u: f64 = rng.random();
            weights
                .iter()
                .position(|&w| {
                    u -= w;
                    u < 0.0
                })
                .unwrap_or(weights.len() - 1)
        };
        let mut rows: std::collections::BTreeMap<String, (u32, u32)> = std::collections::BTreeMap::new();
        for _ in 0..journeys {
            let mut at = pick(&TRUTH.start, rng);
            let mut path = vec![format!("c{at}")];
            let converted = loop {
                match pick(&TRUTH.next[at], rng) {
                    3 => break true,
                    4 => break false,
                    next => {
                        at = next;
                        path.push(format!("c{at}"));
                    }
                }
            };
            let row = rows.entry(path.join(" > ")).or_default();
            if converted { row.0 += 1 } else { row.1 += 1 }
        }
        let mut text = String::from("path;total_conversions;total_conversion_value;total_null\n");
        for (path, (c, u)) in rows {
            text.push_str(&format!("{path};{c};0;{u}\n"));
        }
        let paths = Paths::parse(text.as_bytes(), &PathFormat::default()).unwrap();
        // Channels are numbered by first appearance: put them in c0, c1,
        // c2 order for the comparison.
        assert_eq!(paths.channels.len(), 3);
        paths
    }

    #[test]
    fn intervals_cover_the_generating_chain_at_their_nominal_rate() {
        let truth = true_effects();
        let mut rng = customer_rng(5, 0, Stream::Behaviour);
        let datasets = 200;
        let mut covered = [0; 3];
        let mut widths = [0.0; 3];
        for d in 0..datasets {
            let paths = dataset(1500, &mut rng);
            let found = intervals(&paths, &ChainOptions::order(1), 200, d).expect("conversions");
            for (i, name) in paths.channels.iter().enumerate() {
                let c: usize = name[1..].parse().unwrap();
                let [low, high] = found.removal_effect[i];
                if low <= truth[c] && truth[c] <= high {
                    covered[c] += 1;
                }
                widths[c] += (high - low) / datasets as f64;
            }
        }
        // 95% intervals: at least 90% of the datasets, and not by being
        // uselessly wide.
        for c in 0..3 {
            assert!(
                covered[c] * 10 >= datasets * 9,
                "channel {c}: {covered:?} of {datasets}, truth {truth:?}"
            );
            assert!(widths[c] < 0.25, "channel {c}: mean width {widths:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_intervals_on_any_threads() {
        let mut rng = customer_rng(8, 0, Stream::Behaviour);
        let paths = dataset(800, &mut rng);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| intervals(&paths, &ChainOptions::order(1), 100, 3))
        };
        let one = run(1);
        assert_eq!(one, run(3));
        let one = one.unwrap();
        assert!(one.removal_effect.iter().all(|[low, high]| low < high));
        assert!(one.share.iter().all(|[low, high]| 0.0 <= *low && low < high && *high <= 1.0));
    }
}
