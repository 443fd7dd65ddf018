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
        assert_eq!(
            self.len(),
            other.len(),
            "merged aggregates come from the same model; files are checked before they merge"
        );
        for (a, b) in self.iter_mut().zip(other) {
            *a += *b;
        }
    }
}

/// Histograms of one run share their bounds; one read from a file may
/// not (an edited or damaged result): then `self` grows to hold it.
impl<T: hdrhistogram::Counter> Merge for hdrhistogram::Histogram<T> {
    fn merge(&mut self, other: &Self) {
        if self.add(other).is_err() {
            self.auto(true);
            self.add(other).expect("a histogram that grows holds any other");
        }
    }
}
