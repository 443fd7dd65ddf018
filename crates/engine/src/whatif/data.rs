//! How much a fitted scenario's counts leave open: the exact figures of
//! every strategy over chains drawn from the posterior of the counts
//! ([`fogg_model::posterior`]), beside the simulation's own intervals
//! (which hold the chain fixed).

use serde::{Deserialize, Serialize};

use fogg_model::posterior::{self, interval95};
use fogg_model::{Chain, Model, Strategy};

use super::ExactFigures;

/// 95% intervals of one strategy's exact figures per period over the
/// drawn chains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataIntervals {
    /// Draws the strategy could be applied to (a change that does not fit
    /// a drawn chain, such as a conversion lift beyond its exit, leaves
    /// that draw out).
    pub draws: u64,
    /// Conversions per period.
    pub conversions: [f64; 2],
    /// Share of customers who convert.
    pub conversion_rate: [f64; 2],
    /// Revenue per period.
    pub revenue: [f64; 2],
    /// Conversions minus the baseline's, on the same drawn chain.
    pub delta_conversions: [f64; 2],
    /// Conversion rate minus the baseline's.
    pub delta_conversion_rate: [f64; 2],
    /// Revenue minus the baseline's.
    pub delta_revenue: [f64; 2],
}

/// One drawn chain's figures: the baseline's, then each strategy's (`None`
/// where its changes do not fit the drawn chain).
type Drawn = (ExactFigures, Vec<Option<ExactFigures>>);

/// The baseline's intervals, then each strategy's, from `draws` chains
/// drawn from `counts` (seeded by `seed`). Differences are taken on the
/// same drawn chain, so they are paired as the simulation's are.
pub fn data_intervals(
    model: &Model,
    counts: &Chain,
    strategies: &[Strategy],
    per_period: f64,
    draws: u64,
    seed: u64,
) -> Result<Vec<DataIntervals>, posterior::PosteriorError> {
    let figures = posterior::draws(model, counts, draws, seed, |drawn| {
        let base = ExactFigures::of(&drawn.baseline(), per_period);
        let variants: Vec<Option<ExactFigures>> = strategies
            .iter()
            .map(|s| drawn.apply(&s.changes).ok().map(|v| ExactFigures::of(&v, per_period)))
            .collect();
        (base, variants)
    })?;
    let row = |pick: &dyn Fn(&Drawn) -> Option<ExactFigures>| {
        let pairs: Vec<(ExactFigures, ExactFigures)> =
            figures.iter().filter_map(|f| pick(f).map(|v| (f.0, v))).collect();
        let interval = |g: &dyn Fn(&(ExactFigures, ExactFigures)) -> f64| {
            interval95(pairs.iter().map(g).collect()).unwrap_or([f64::NAN; 2])
        };
        DataIntervals {
            draws: pairs.len() as u64,
            conversions: interval(&|(_, v)| v.conversions),
            conversion_rate: interval(&|(_, v)| v.conversion_rate),
            revenue: interval(&|(_, v)| v.revenue),
            delta_conversions: interval(&|(b, v)| v.conversions - b.conversions),
            delta_conversion_rate: interval(&|(b, v)| v.conversion_rate - b.conversion_rate),
            delta_revenue: interval(&|(b, v)| v.revenue - b.revenue),
        }
    };
    let mut out = vec![row(&|f| Some(f.0))];
    out.extend((0..strategies.len()).map(|k| row(&|f| f.1[k])));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fogg_core::rng::{Stream, customer_rng};
    use fogg_model::alias::{EXIT, Target};
    use rand::RngExt;

    /// Three touchpoints; the strategy lifts conversion from the cart.
    const KNOWN: &str = r#"
[scenario]
name = "known"
customers_per_period = 1000
[[channel]]
id = "web"
kind = "online"
[entry]
home = 1
[[state]]
id = "home"
stage = "awareness"
channel = "web"
next = { cart = 3, exit = 7 }
[[state]]
id = "cart"
stage = "consideration"
channel = "web"
next = { buy = 2, home = 2, exit = 6 }
[[state]]
id = "buy"
stage = "purchase"
channel = "web"
conversion = true
value = { dist = "constant", value = 50.0 }
next = { exit = 1 }
[[strategy]]
id = "better-cart"
changes = ["conversion cart +30%"]
"#;

    /// Counts of `journeys` walks of `chain`.
    fn observed(chain: &Chain, journeys: usize, rng: &mut fogg_core::rng::CustomerRng) -> Chain {
        let pick = |row: &[(Target, f64)], rng: &mut fogg_core::rng::CustomerRng| -> Target {
            let mut u: f64 = rng.random();
            for &(t, p) in row {
                if u < p {
                    return t;
                }
                u -= p;
            }
            row.last().expect("a row").0
        };
        let tally = |row: &mut Vec<(Target, f64)>, t: Target| match row.iter_mut().find(|(x, _)| *x == t) {
            Some((_, n)) => *n += 1.0,
            None => row.push((t, 1.0)),
        };
        let mut counts = Chain { entry: Vec::new(), next: vec![Vec::new(); chain.next.len()] };
        for _ in 0..journeys {
            let mut at = pick(&chain.entry, rng);
            tally(&mut counts.entry, at);
            while at != EXIT {
                let next = pick(&chain.next[at as usize], rng);
                tally(&mut counts.next[at as usize], next);
                at = next;
            }
        }
        counts
    }

    #[test]
    fn intervals_cover_the_generating_chain_at_their_nominal_rate() {
        let scenario = fogg_scenario::from_str(KNOWN, "known.toml").expect("compiles");
        let (model, strategy) = (&scenario.model, &scenario.strategies[..]);
        let truth_base = ExactFigures::of(&model.baseline(), 1000.0);
        let truth_variant = ExactFigures::of(&model.apply(&strategy[0].changes).unwrap(), 1000.0);
        let truth = [truth_base.conversion_rate, truth_variant.conversions - truth_base.conversions];
        let mut rng = customer_rng(11, 0, Stream::Behaviour);
        let datasets = 400;
        let mut covered = [0; 2];
        for d in 0..datasets {
            let counts = observed(&model.segments[0].chain, 1500, &mut rng);
            let found = data_intervals(model, &counts, strategy, 1000.0, 400, d).expect("draws");
            let [lo, hi] = found[0].conversion_rate;
            covered[0] += usize::from(lo <= truth[0] && truth[0] <= hi);
            let [lo, hi] = found[1].delta_conversions;
            covered[1] += usize::from(lo <= truth[1] && truth[1] <= hi);
            assert_eq!(found[0].draws, 400);
        }
        // 95% intervals: at least 90% of the datasets (379 of 400 for both,
        // 94.75%; 953 of 1,000 over 1,000 datasets).
        assert!(
            covered.iter().all(|&c| c * 10 >= datasets as usize * 9),
            "{covered:?} of {datasets}, truth {truth:?}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_intervals_on_any_threads() {
        let scenario = fogg_scenario::from_str(KNOWN, "known.toml").expect("compiles");
        let counts =
            observed(&scenario.model.segments[0].chain, 500, &mut customer_rng(3, 0, Stream::Behaviour));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| data_intervals(&scenario.model, &counts, &scenario.strategies, 1000.0, 100, 7))
        };
        let one = run(1).expect("draws");
        assert_eq!(one, run(3).expect("draws"));
        assert!(one[1].delta_conversions[0] < one[1].delta_conversions[1]);
    }
}
