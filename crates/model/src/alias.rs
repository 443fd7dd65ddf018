//! Walker/Vose alias tables: O(1) sampling from a discrete distribution
//! with one 64-bit random number and no allocation.
//!
//! Many rows (one per state and segment) share one flat buffer.

use rand::Rng;

/// The target of a transition: a state index, or [`EXIT`].
pub type Target = u16;

/// The built-in absorbing end of every journey.
pub const EXIT: Target = Target::MAX;

#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Keep `keep` when the upper 32 random bits are below this.
    threshold: u32,
    keep: Target,
    other: Target,
}

/// Flat storage for many alias-table rows.
#[derive(Debug, Clone, Default)]
pub struct AliasRows {
    offsets: Vec<u32>,
    cells: Vec<Cell>,
}

/// Index of one row inside an [`AliasRows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowId(u32);

impl AliasRows {
    /// Adds a row from `(target, probability)` pairs with positive
    /// probabilities summing to 1 (they are renormalised regardless).
    ///
    /// # Panics
    /// On an empty row: the scenario compiler rejects those first.
    pub fn push(&mut self, row: &[(Target, f64)]) -> RowId {
        assert!(!row.is_empty(), "alias rows are never empty after validation");
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let id = RowId((self.offsets.len() - 1) as u32);
        let k = row.len();
        let total: f64 = row.iter().map(|(_, p)| p).sum();
        let mut scaled: Vec<f64> = row.iter().map(|(_, p)| p / total * k as f64).collect();
        let mut cells: Vec<Cell> =
            row.iter().map(|&(t, _)| Cell { threshold: u32::MAX, keep: t, other: t }).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..k).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            cells[s].threshold = to_threshold(scaled[s]);
            cells[s].other = row[l].0;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left holds probability 1 up to rounding: `other`
        // equals `keep` there, so the threshold never matters.
        self.cells.extend(cells);
        self.offsets.push(self.cells.len() as u32);
        id
    }

    /// Draws one target from `row`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, row: RowId, rng: &mut R) -> Target {
        let start = self.offsets[row.0 as usize] as usize;
        let end = self.offsets[row.0 as usize + 1] as usize;
        let r = rng.next_u64();
        let k = (end - start) as u64;
        let column = ((r & 0xFFFF_FFFF) * k) >> 32;
        let cell = &self.cells[start + column as usize];
        if ((r >> 32) as u32) < cell.threshold { cell.keep } else { cell.other }
    }
}

fn to_threshold(p: f64) -> u32 {
    (p * 4_294_967_296.0).round().clamp(0.0, u32::MAX as f64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn frequencies_match_probabilities() {
        let mut rows = AliasRows::default();
        let probs = [(0, 0.5), (1, 0.3), (2, 0.15), (EXIT, 0.05)];
        let other = rows.push(&[(7, 1.0)]);
        let row = rows.push(&probs);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let n = 1_000_000;
        let mut counts = std::collections::HashMap::new();
        for _ in 0..n {
            *counts.entry(rows.sample(row, &mut rng)).or_insert(0u32) += 1;
        }
        for (t, p) in probs {
            let f = counts[&t] as f64 / n as f64;
            let sigma = (p * (1.0 - p) / n as f64).sqrt();
            assert!((f - p).abs() < 5.0 * sigma, "target {t}: {f} vs {p}");
        }
        assert_eq!(rows.sample(other, &mut rng), 7);
    }

    #[test]
    fn uneven_weights_are_renormalised() {
        let mut rows = AliasRows::default();
        let row = rows.push(&[(0, 9.0), (1, 1.0)]);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let zeros = (0..100_000).filter(|_| rows.sample(row, &mut rng) == 0).count();
        assert!((zeros as f64 / 100_000.0 - 0.9).abs() < 0.005);
    }
}
