//! fogg's leaves: the small pieces every other crate of the workspace
//! builds on, each depending on nothing of fogg's.
//!
//! Stderr lines that never panic on a closed pipe ([`console`], with the
//! [`say!`] macros), durations and time units ([`units`]), "did you mean"
//! ([`suggest`]), per-customer RNGs ([`rng`]), a timed rayon pool
//! ([`pool`]), the [`merge::Merge`] trait, histogram encoding ([`hist`]),
//! shard arithmetic ([`shard`]), scenario errors ([`error`]), the capacity
//! search algorithm ([`capacity`]), the one pass/fail type ([`verdict`])
//! and campaign time ([`calendar`]).

#![warn(missing_docs)]

pub mod calendar;
pub mod capacity;
pub mod console;
pub mod error;
pub mod hist;
pub mod merge;
pub mod pool;
pub mod rng;
pub mod shard;
pub mod suggest;
pub mod units;
pub mod verdict;
