//! The serialisable results every report format consumes.
//!
//! The JSON written by `--format json` is exactly these types, documented
//! by `schema/simulate.schema.json`. Field names carry their unit where
//! one applies; money is in the scenario's currency.

mod attribute;
mod capacity;
mod fit;
mod load;
pub mod merge;
mod saved;
mod simulate;
mod thresholds;
mod whatif;

pub use attribute::{AttributionResult, ChannelAttribution};
pub use capacity::{CapacityResult, CapacitySearch, TrialRow};
pub use fit::{FitResult, LengthRow};
pub use load::{
    ErrorCounts, LoadResult, LoadSettings, Percentiles, RequestRow, SecondRow, SegmentLoadRow, Verdict,
};
pub use saved::SavedResult;
pub use simulate::{
    ChannelRow, FunnelRow, JourneyLength, PathRow, RunInfo, ScenarioInfo, SegmentRow, SimRaw, SimResult,
    TimeToConversion,
};
pub use thresholds::evaluate;

pub use whatif::{
    AllocationResult, AllocationRow, CurvePointRow, CurveResult, SpendRow, StrategyRow, WhatifResult,
};

/// Version of the JSON contract; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;
