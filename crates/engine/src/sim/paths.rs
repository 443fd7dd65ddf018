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
use std::io::Write;

use fogg_core::merge::Merge;
use fogg_model::Model;

/// Customers sampled to choose the candidate paths.
pub const SAMPLE_CUSTOMERS: u64 = 65_536;
/// Candidate paths counted exactly during the run.
pub const CANDIDATES: usize = 256;

/// The lookup key of a path. Paths of up to seven channels are packed
/// into the key exactly (one byte per channel, plus one), so equal keys
/// mean equal paths; longer paths are hashed, with the top byte set so
/// they never meet a packed key, and compared byte by byte on a hit.
#[inline]
pub fn path_key(path: &[u8]) -> u64 {
    if path.len() <= 7 {
        return path.iter().fold(0u64, |k, &c| (k << 8) | (u64::from(c) + 1));
    }
    let mut h: u64 = path.len() as u64;
    for &c in path {
        h = (h.rotate_left(5) ^ u64::from(c)).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
    mix(h) | (0xFF << 56)
}

/// SplitMix64's finaliser: spreads a key over every bit.
#[inline]
fn mix(mut h: u64) -> u64 {
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// The candidate paths of a run, fixed before it starts, in an
/// open-addressing table (a quarter full at most) keyed by [`path_key`].
#[derive(Debug, Clone)]
pub struct Candidates {
    paths: Vec<Box<[u8]>>,
    keys: Vec<u64>,
    /// Candidate index + 1 per slot; 0 marks an empty slot.
    slots: Vec<u32>,
    shift: u32,
}

impl Default for Candidates {
    fn default() -> Candidates {
        Candidates::from_counts(HashMap::new())
    }
}

impl Candidates {
    /// Takes the most frequent paths of a sample (ties broken by path, so
    /// the choice is deterministic).
    pub fn from_counts(counts: HashMap<Box<[u8]>, u64>) -> Candidates {
        let mut all: Vec<(Box<[u8]>, u64)> = counts.into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(CANDIDATES);
        let paths: Vec<Box<[u8]>> = all.into_iter().map(|(p, _)| p).collect();
        let keys: Vec<u64> = paths.iter().map(|p| path_key(p)).collect();
        let bits = (paths.len() * 4).next_power_of_two().max(16).trailing_zeros();
        let mut c = Candidates { paths, keys, slots: vec![0; 1 << bits], shift: 64 - bits };
        for i in 0..c.paths.len() {
            let mut slot = c.home(c.keys[i]);
            while c.slots[slot] != 0 {
                slot = (slot + 1) & (c.slots.len() - 1);
            }
            c.slots[slot] = i as u32 + 1;
        }
        c
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (mix(key) >> self.shift) as usize
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The candidate's position, if `path` is one. A count is never
    /// credited to another path: packed keys are exact, and hashed ones
    /// are confirmed by comparing the paths.
    #[inline]
    pub fn find(&self, path: &[u8]) -> Option<usize> {
        let key = path_key(path);
        let mut slot = self.home(key);
        loop {
            let i = self.slots[slot].checked_sub(1)? as usize;
            if self.keys[i] == key && (path.len() <= 7 || *self.paths[i] == *path) {
                return Some(i);
            }
            slot = (slot + 1) & (self.slots.len() - 1);
        }
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
    pub value_cents: u128,
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
    pub fn add(&mut self, path: &[u8], conversions: u64, value_cents: u128, nulls: u64) {
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

    /// Every path (channel indices, repeats kept) with its totals.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &PathTotals)> {
        self.totals.iter().map(|(p, t)| (&**p, t))
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
        assert_eq!(Candidates::default().find(&[0]), None);
    }

    #[test]
    fn long_paths_are_found_and_told_apart() {
        let long: Vec<u8> = (0..20).map(|i| i % 3).collect();
        let mut other = long.clone();
        other[19] = 9;
        let c = Candidates::from_counts([(long.clone().into(), 2)].into_iter().collect());
        assert_eq!(c.find(&long), Some(0));
        assert_eq!(c.find(&other), None);
        assert_eq!(c.find(&long[..7]), None);
        assert_ne!(path_key(&[0, 1]), path_key(&[1, 0]));
        assert_ne!(path_key(&[0]), path_key(&[0, 0]));
    }
}
