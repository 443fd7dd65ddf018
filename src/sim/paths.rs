//! Journey paths as channel sequences: the exactly counted top paths, and
//! the export in the format of Markov attribution tools.
//!
//! **Top paths, bounded memory.** A path here is the sequence of channels a
//! journey touched, consecutive repeats of a channel collapsed (`search >
//! web > store`). Before the run, the first [`SAMPLE_CUSTOMERS`] customers
//! of the run (customer indices `0..`, whatever the shard) are walked and
//! their [`CANDIDATES`] most frequent paths become the candidates; the run
//! then counts each candidate exactly. Memory is fixed, the counts are
//! exact integers that merge across threads and shards, and a path can
//! only be missed if it is rare among the sampled customers yet among the
//! most common overall.
//!
//! **Export.** `--export-paths` keeps every touch (no collapsing) and
//! closes a path at each conversion: the touches since the journey start
//! or the previous conversion, converting touch included, form one
//! converting path with that conversion's value; a journey that never
//! converts is one null path; touches after a journey's last conversion
//! are not exported. Its memory grows with the number of distinct paths.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;

use crate::merge::Merge;
use crate::model::Model;

/// Customers sampled to choose the candidate paths.
pub const SAMPLE_CUSTOMERS: u64 = 65_536;
/// Candidate paths counted exactly during the run.
pub const CANDIDATES: usize = 256;

/// A fast hash of a path (a few bytes), well mixed in every bit.
#[inline]
pub fn path_hash(path: &[u8]) -> u64 {
    let mut h: u64 = path.len() as u64;
    for &c in path {
        h = (h.rotate_left(5) ^ u64::from(c)).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
    // SplitMix64's finaliser spreads the product into the low bits too.
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The candidate paths of a run, fixed before it starts.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    paths: Vec<Box<[u8]>>,
    /// Candidate positions by [`path_hash`]; several when hashes collide.
    index: HashMap<u64, Vec<usize>, BuildHasherDefault<PassThrough>>,
}

impl Candidates {
    /// Takes the most frequent paths of a sample (ties broken by path, so
    /// the choice is deterministic).
    pub fn from_counts(counts: HashMap<Box<[u8]>, u64>) -> Candidates {
        let mut all: Vec<(Box<[u8]>, u64)> = counts.into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(CANDIDATES);
        let paths: Vec<Box<[u8]>> = all.into_iter().map(|(p, _)| p).collect();
        let mut index: HashMap<u64, Vec<usize>, BuildHasherDefault<PassThrough>> = HashMap::default();
        for (i, p) in paths.iter().enumerate() {
            index.entry(path_hash(p)).or_default().push(i);
        }
        Candidates { paths, index }
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The candidate's position, if `path` is one. The hash finds it; the
    /// path itself is compared, so a count is never credited to another
    /// path.
    #[inline]
    pub fn find(&self, path: &[u8]) -> Option<usize> {
        self.index.get(&path_hash(path))?.iter().copied().find(|&i| *self.paths[i] == *path)
    }

    /// The channel indices of candidate `i`.
    pub fn path(&self, i: usize) -> &[u8] {
        &self.paths[i]
    }
}

/// Totals of one exported path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathTotals {
    /// Conversions that closed this path.
    pub conversions: u64,
    /// Their value, in cents.
    pub value_cents: u64,
    /// Journeys that followed this path and never converted.
    pub nulls: u64,
}

/// Every exported path with its totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathExport {
    totals: HashMap<Box<[u8]>, PathTotals>,
}

impl PathExport {
    /// Adds one path.
    pub fn add(&mut self, path: &[u8], conversions: u64, value_cents: u64, nulls: u64) {
        let t = match self.totals.get_mut(path) {
            Some(t) => t,
            None => self.totals.entry(path.into()).or_default(),
        };
        t.conversions += conversions;
        t.value_cents += value_cents;
        t.nulls += nulls;
    }

    /// Number of distinct paths.
    pub fn len(&self) -> usize {
        self.totals.len()
    }

    /// Whether no path was recorded.
    pub fn is_empty(&self) -> bool {
        self.totals.is_empty()
    }

    /// Writes `path;total_conversions;total_conversion_value;total_null`
    /// rows, sorted by path, with channel ids joined by ` > `.
    pub fn write_csv(&self, model: &Model, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "path;total_conversions;total_conversion_value;total_null")?;
        let mut rows: Vec<(String, &PathTotals)> =
            self.totals.iter().map(|(p, t)| (path_text(model, p), t)).collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, t) in rows {
            let value = t.value_cents as f64 / 100.0;
            writeln!(out, "{path};{};{value:.2};{}", t.conversions, t.nulls)?;
        }
        Ok(())
    }
}

impl Merge for PathExport {
    fn merge(&mut self, other: &Self) {
        for (path, t) in &other.totals {
            self.add(path, t.conversions, t.value_cents, t.nulls);
        }
    }
}

/// Channel ids of a path joined by ` > `.
pub fn path_text(model: &Model, path: &[u8]) -> String {
    let names: Vec<&str> = path.iter().map(|&c| model.channels[c as usize].id.as_str()).collect();
    names.join(" > ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_found_only_for_their_own_path() {
        let counts: HashMap<Box<[u8]>, u64> =
            [(vec![0u8, 1].into(), 5), (vec![1u8, 0].into(), 3), (vec![2u8].into(), 9)].into_iter().collect();
        let c = Candidates::from_counts(counts);
        assert_eq!(c.path(0), &[2]);
        assert_eq!(c.find(&[0, 1]), Some(1));
        assert_eq!(c.find(&[1, 0]), Some(2));
        assert_eq!(c.find(&[0, 1, 0]), None);
        assert_ne!(path_hash(&[0, 1]), path_hash(&[1, 0]));
    }
}
