//! The one way aggregates combine: rayon's reduce, shards, repeated runs.

/// An aggregate that can absorb another of the same run.
///
/// Implementations are associative and commutative, and exact: counts are
/// integers, money is kept in cents and histograms merge bucket by bucket,
/// so the order in which parts arrive never changes the result.
pub trait Merge {
    /// Adds `other` into `self`.
    fn merge(&mut self, other: &Self);
}

impl<T: Copy + std::ops::AddAssign> Merge for Vec<T> {
    fn merge(&mut self, other: &Self) {
        assert_eq!(self.len(), other.len(), "merged aggregates come from the same model");
        for (a, b) in self.iter_mut().zip(other) {
            *a += *b;
        }
    }
}

impl Merge for hdrhistogram::Histogram<u64> {
    fn merge(&mut self, other: &Self) {
        self.add(other).expect("histograms of one run share their bounds");
    }
}
