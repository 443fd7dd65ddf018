//! Shards: one run split across processes or machines by the scheduler the
//! user already has. fogg has no coordinator: each shard knows its index
//! and the count, takes its part of the work, and writes a mergeable
//! result; `fogg merge` combines them.
//!
//! Shards are numbered from 1 on the command line (`--shard 2/4`). When
//! `--shard` is absent, the environment a scheduler sets is read:
//!
//! - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (from 0) with the
//!   count in `FOGG_SHARDS` (set it to the Job's `completions`);
//! - Slurm: `SLURM_PROCID` (from 0) and `SLURM_NTASKS`.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// One shard of a run: `index` of `count`, numbered from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1..=count.
    pub index: u32,
    /// Shards in the run.
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a shard could not be read from `--shard` or the environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `--shard` text that is not `I/N`.
    #[error("'{0}': write the shard as I/N, numbered from 1, e.g. --shard 2/4")]
    Syntax(String),
    /// `I/N` with I outside 1..=N.
    #[error(
        "'{0}': the index must be between 1 and the count; write the shard as I/N, numbered from 1, e.g. --shard 2/4"
    )]
    Index(String),
    /// A scheduler variable that is not a number.
    #[error("{name}='{value}' is not a whole number")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A Kubernetes Indexed Job without `FOGG_SHARDS`.
    #[error(
        "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but FOGG_SHARDS is not: set it to the Job's completions, or pass --shard I/N"
    )]
    NoCount,
    /// One variable of a pair without the other: the job would silently
    /// run whole in every shard.
    #[error("{set} is set but {missing} is not: set both, or pass --shard I/N")]
    HalfPair {
        /// The variable that is set.
        set: &'static str,
        /// Its partner, missing.
        missing: &'static str,
    },
    /// A 0-based scheduler index beyond the count.
    #[error("{i}={index} does not fit {n}={count}: the index counts from 0 to {n} − 1")]
    EnvIndex {
        /// Name of the index variable.
        i: &'static str,
        /// Its value.
        index: u32,
        /// Name of the count variable.
        n: &'static str,
        /// Its value.
        count: u32,
    },
}

impl Shard {
    /// The whole run as one shard.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Parses `I/N` with 1 ≤ I ≤ N.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (i, n) = text.trim().split_once('/').ok_or_else(syntax)?;
        let parse = |s: &str| s.trim().parse::<u32>().map_err(|_| syntax());
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index == 0 || index > count {
            return Err(ShardError::Index(text.to_owned()));
        }
        Ok(Shard { index, count })
    }

    /// The shard the scheduler's environment describes, if any; `get`
    /// reads a variable (`std::env::var` in the binary).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>, ShardError> {
        let number = |name: &'static str| match get(name) {
            None => Ok(None),
            Some(v) => {
                v.trim().parse::<u32>().map(Some).map_err(|_| ShardError::NotANumber { name, value: v })
            }
        };
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = number("FOGG_SHARDS")?.ok_or(ShardError::NoCount)?;
            return Shard::from_zero_based(index, count, "JOB_COMPLETION_INDEX", "FOGG_SHARDS").map(Some);
        }
        if number("FOGG_SHARDS")?.is_some() {
            return Err(ShardError::HalfPair { set: "FOGG_SHARDS", missing: "JOB_COMPLETION_INDEX" });
        }
        match (number("SLURM_PROCID")?, number("SLURM_NTASKS")?) {
            (Some(index), Some(count)) => {
                return Shard::from_zero_based(index, count, "SLURM_PROCID", "SLURM_NTASKS").map(Some);
            }
            (Some(_), None) => {
                return Err(ShardError::HalfPair { set: "SLURM_PROCID", missing: "SLURM_NTASKS" });
            }
            (None, Some(_)) => {
                return Err(ShardError::HalfPair { set: "SLURM_NTASKS", missing: "SLURM_PROCID" });
            }
            (None, None) => {}
        }
        Ok(None)
    }

    fn from_zero_based(
        index: u32,
        count: u32,
        i: &'static str,
        n: &'static str,
    ) -> Result<Shard, ShardError> {
        if count == 0 || index >= count {
            return Err(ShardError::EnvIndex { i, index, n, count });
        }
        Ok(Shard { index: index + 1, count })
    }

    /// `--shard` when given, else the environment, else the whole run.
    pub fn resolve(cli: Option<Shard>) -> Result<Shard, ShardError> {
        match cli {
            Some(s) => Ok(s),
            None => Ok(Shard::from_env(|k| std::env::var(k).ok())?.unwrap_or(Shard::WHOLE)),
        }
    }

    /// This shard's part of customers `0..n`: contiguous, disjoint, and
    /// together exactly `0..n`.
    pub fn customers(self, n: u64) -> Range<u64> {
        let at = |k: u32| (n as u128 * k as u128 / self.count as u128) as u64;
        at(self.index - 1)..at(self.index)
    }

    /// The customer index of this shard's load arrival `k`: load shards
    /// interleave their arrivals, so customer `i` runs on shard
    /// `i mod count + 1`.
    pub fn load_customer(self, k: u64) -> u64 {
        k * u64::from(self.count) + u64::from(self.index - 1)
    }

    /// The report file stem of this shard of a run whose stem is `stem`:
    /// `stem.shard-I-of-N` for a part, `stem` for a whole run.
    pub fn file_stem(self, stem: String) -> String {
        if self.is_part() { format!("{stem}.shard-{}-of-{}", self.index, self.count) } else { stem }
    }

    /// Whether this is a part of a larger run.
    pub fn is_part(self) -> bool {
        self.count > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_explains() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse("0/4"), Err(ShardError::Index("0/4".into())));
        assert!(Shard::parse("5/4").is_err());
        assert!(Shard::parse("2").unwrap_err().to_string().contains("I/N"));
    }

    #[test]
    fn reads_the_schedulers_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0"), ("FOGG_SHARDS", "3")])),
            Ok(Some(Shard { index: 1, count: 3 }))
        );
        assert_eq!(Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")])), Err(ShardError::NoCount));
        assert_eq!(
            Shard::from_env(env(&[("SLURM_PROCID", "1")])),
            Err(ShardError::HalfPair { set: "SLURM_PROCID", missing: "SLURM_NTASKS" })
        );
        assert_eq!(
            Shard::from_env(env(&[("SLURM_NTASKS", "4")])),
            Err(ShardError::HalfPair { set: "SLURM_NTASKS", missing: "SLURM_PROCID" })
        );
        assert_eq!(
            Shard::from_env(env(&[("FOGG_SHARDS", "4")])),
            Err(ShardError::HalfPair { set: "FOGG_SHARDS", missing: "JOB_COMPLETION_INDEX" })
        );
        assert_eq!(
            Shard::from_env(env(&[("SLURM_PROCID", "3"), ("SLURM_NTASKS", "4")])),
            Ok(Some(Shard { index: 4, count: 4 }))
        );
        assert!(Shard::from_env(env(&[("SLURM_PROCID", "4"), ("SLURM_NTASKS", "4")])).is_err());
        assert_eq!(Shard::from_env(env(&[])), Ok(None));
    }

    #[test]
    fn customer_ranges_tile_the_run() {
        for n in [0u64, 1, 7, 1000, 1_000_003] {
            for count in 1..=9 {
                let mut next = 0;
                for index in 1..=count {
                    let r = Shard { index, count }.customers(n);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, n);
            }
        }
    }
}
