//! How sure a chain fitted to counts is: chains drawn from the posterior
//! of its observed moves.
//!
//! Each row of observed counts n₁…nₖ (the entry row included) gets
//! probabilities drawn from Dirichlet(n₁, …, nₖ): every count weighs
//! Gamma(nⱼ, 1) and the row is normalised. That is the posterior under a
//! prior with no mass of its own (so a move never observed stays
//! impossible), and the same weighting as the Bayesian bootstrap of
//! `fogg attribute --intervals`. Any figure of the drawn chains (solved
//! exactly) then has a 95% interval from the 2.5th to the 97.5th
//! percentile of the draws.

use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;

use super::alias::Target;
use super::{Chain, Model, SegmentChain};
use fogg_core::rng::{CustomerRng, Stream, customer_rng};

/// Draws of a posterior: enough for stable 2.5th and 97.5th percentiles
/// of smooth figures, and cheap on the fitted scenarios counts come from.
pub const DRAWS: u64 = 400;

/// Why a model cannot be drawn from counts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PosteriorError {
    /// The counts do not fit the model's rows.
    #[error("the counts have {counts} rows but the model has {states} states")]
    Shape {
        /// Rows of counts.
        counts: usize,
        /// States of the model.
        states: usize,
    },
    /// Segments reweight rows, so counts are not the chain's.
    #[error("a model with segments cannot be drawn from one set of counts")]
    Segments,
}

/// `f` of `draws` chains drawn from `counts` (draw `r` from the generator
/// of customer `r` of `seed`, in parallel; in draw order, so the same seed
/// gives the same values on any threads).
pub fn draws<T: Send>(
    model: &Model,
    counts: &Chain,
    draws: u64,
    seed: u64,
    f: impl Fn(&Model) -> T + Sync,
) -> Result<Vec<T>, PosteriorError> {
    if counts.next.len() != model.states.len() {
        return Err(PosteriorError::Shape { counts: counts.next.len(), states: model.states.len() });
    }
    if model.segments.len() != 1 {
        return Err(PosteriorError::Segments);
    }
    let segment = &model.segments[0];
    Ok((0..draws)
        .into_par_iter()
        .map(|r| {
            let mut rng = customer_rng(seed, r, Stream::Resample);
            let chain = Chain {
                entry: drawn_row(&counts.entry, &mut rng),
                next: counts.next.iter().map(|row| drawn_row(row, &mut rng)).collect(),
            };
            let drawn = model.rebuilt(
                model.states.clone(),
                vec![SegmentChain {
                    id: segment.id.clone(),
                    label: segment.label.clone(),
                    share: 1.0,
                    chain,
                }],
            );
            f(&drawn)
        })
        .collect())
}

/// A weight drawn from Gamma(`count`, 1): a count's share of a Dirichlet
/// draw (and of a Bayesian bootstrap), 0 for no count.
pub fn gamma_weight<R: rand::Rng + ?Sized>(count: f64, rng: &mut R) -> f64 {
    match Gamma::new(count, 1.0) {
        Ok(gamma) if count > 0.0 => gamma.sample(rng),
        _ => 0.0,
    }
}

/// One row's probabilities drawn from Dirichlet(counts); a row whose
/// draws all vanish (counts far below 1) keeps its observed proportions.
fn drawn_row(row: &[(Target, f64)], rng: &mut CustomerRng) -> Vec<(Target, f64)> {
    let mut out: Vec<(Target, f64)> =
        row.iter().filter(|(_, n)| *n > 0.0).map(|&(t, n)| (t, gamma_weight(n, rng))).collect();
    let mut total: f64 = out.iter().map(|(_, w)| w).sum();
    if !(total > 0.0 && total.is_finite()) {
        out = row.iter().filter(|(_, n)| *n > 0.0).copied().collect();
        total = out.iter().map(|(_, w)| w).sum();
    }
    for (_, w) in &mut out {
        *w /= total;
    }
    out.retain(|(_, w)| *w > 0.0);
    out
}

/// The 95% interval of `values`: their 2.5th and 97.5th percentiles,
/// interpolated linearly; `None` for no value.
pub fn interval95(mut values: Vec<f64>) -> Option<[f64; 2]> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some([percentile(&values, 0.025), percentile(&values, 0.975)])
}

/// The `q` quantile of `sorted` (ascending, not empty), interpolated
/// linearly.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
}
