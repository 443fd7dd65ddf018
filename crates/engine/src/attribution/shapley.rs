//! Exact Shapley values: each channel's average marginal worth over every
//! order in which the channels could join, from the worth of all 2^k
//! coalitions.

use rayon::prelude::*;

/// Most channels whose Shapley values are computed: 2^20 coalitions, each
/// a chain solve. Above it, reports say they were not computed.
pub const MAX_SHAPLEY_CHANNELS: usize = 20;

/// The Shapley values of `k` players (at most [`MAX_SHAPLEY_CHANNELS`]) in
/// `N` games at once, coalition `mask` (bit c set: player c is in) being
/// worth `worth(mask)` in each. The worths are computed in parallel; the
/// sums run in a fixed order, so the result does not depend on threads.
/// Each game's values add up to worth(all) − worth(none).
pub fn shapley<const N: usize>(k: usize, worth: impl Fn(u32) -> [f64; N] + Sync) -> Vec<[f64; N]> {
    assert!(k <= MAX_SHAPLEY_CHANNELS, "{k} players: at most {MAX_SHAPLEY_CHANNELS}");
    let coalitions = 1u32 << k;
    let worths: Vec<[f64; N]> = (0..coalitions).into_par_iter().map(&worth).collect();
    // A coalition of s others is joined with weight s! (k − s − 1)! / k!,
    // that is 1 / (k · C(k − 1, s)).
    let mut weight = vec![0.0; k];
    let mut choose = 1.0; // C(k − 1, s)
    for (s, w) in weight.iter_mut().enumerate() {
        *w = 1.0 / (k as f64 * choose);
        choose = choose * (k - 1 - s) as f64 / (s + 1) as f64;
    }
    (0..k)
        .map(|player| {
            let bit = 1u32 << player;
            let mut value = [0.0; N];
            for without in (0..coalitions).filter(|m| m & bit == 0) {
                let w = weight[without.count_ones() as usize];
                let (with, before) = (&worths[(without | bit) as usize], &worths[without as usize]);
                for game in 0..N {
                    value[game] += w * (with[game] - before[game]);
                }
            }
            value
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glove_game_and_the_efficiency_of_the_values() {
        // One left glove (player 0), two right ones: a pair is worth 1.
        // The left glove's value is 2/3, each right one's 1/6.
        let values = shapley(3, |m| [f64::from(u8::from(m & 1 == 1 && m & 6 != 0))]);
        let want = [2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0];
        assert!(values.iter().zip(want).all(|(v, w)| (v[0] - w).abs() < 1e-12), "{values:?}");
        // An additive game gives each player its own worth, and a second
        // game runs beside the first.
        let own = [3.0, 5.0, 7.0, 11.0];
        let values = shapley(4, |m| {
            let sum: f64 = (0..4).filter(|c| m & (1 << c) != 0).map(|c| own[c]).sum();
            [sum, sum * sum]
        });
        assert!(values.iter().zip(own).all(|(v, w)| (v[0] - w).abs() < 1e-12), "{values:?}");
        let total: f64 = values.iter().map(|v| v[1]).sum();
        assert!((total - 26.0 * 26.0).abs() < 1e-9, "{total}");
    }
}
