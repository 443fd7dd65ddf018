//! The serialisable results every report format consumes.
//!
//! The JSON written by `--format json` is exactly these types, documented
//! by `schema/simulate.schema.json`. Field names carry their unit where
//! one applies; money is in the scenario's currency.

#![warn(missing_docs)]

mod attribute;
mod calibrate;
mod capacity;
pub mod compare;
mod fit;
mod flows;
mod forecast;
mod header;
mod load;
pub mod merge;
mod saved;
mod simulate;
mod thresholds;
mod whatif;

pub use attribute::{AttributionResult, ChannelAttribution, ScenarioTruth};
pub use calibrate::{CalibrateResult, CalibratedChannel, LiftRow, ResponsePoint};
pub use capacity::{CapacityResult, CapacitySearch, ForecastPeak, TrialRow};
pub use fit::{FitResult, LengthRow};
pub use flows::{FlowLink, FlowNode, Flows};
pub use fogg_core::verdict::Verdict;
pub use forecast::{
    CarryOver, ExpectedTraffic, Figures, ForecastChannel, ForecastRaw, ForecastResult, ForecastRun,
    ForecastVariant, ForecastWindow, PeakRow, PeakSummary, VariantRun, bin_label, bin_seconds,
};
pub use header::{Header, ScenarioInfo};
pub use load::{ErrorCounts, LoadResult, LoadSettings, Percentiles, RequestRow, SecondRow, SegmentLoadRow};
pub use saved::SavedResult;
pub use simulate::{
    ChannelRow, FunnelRow, JourneyLength, PathRow, RunInfo, SegmentRow, SimRaw, SimResult, TimeToConversion,
};
pub use thresholds::evaluate;

pub use whatif::{
    AllocationResult, AllocationRow, Baseline, CurvePointRow, CurveResult, SpendRow, StrategyRow,
    WhatifResult, WhatifRun,
};

/// The closed set of result kinds: the `kind` of every result file, the
/// first word of its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    /// `fogg simulate`.
    Simulate,
    /// `fogg load`.
    Load,
    /// `fogg capacity`.
    Capacity,
    /// `fogg compare`.
    Compare,
    /// `fogg attribute`.
    Attribute,
    /// `fogg whatif`.
    Whatif,
    /// `fogg fit`.
    Fit,
    /// `fogg calibrate`.
    Calibrate,
    /// `fogg forecast`.
    Forecast,
}

impl ResultKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [ResultKind; 9] = [
        ResultKind::Simulate,
        ResultKind::Load,
        ResultKind::Capacity,
        ResultKind::Compare,
        ResultKind::Attribute,
        ResultKind::Whatif,
        ResultKind::Fit,
        ResultKind::Calibrate,
        ResultKind::Forecast,
    ];

    /// The name in JSON and in file names.
    pub fn name(self) -> &'static str {
        match self {
            ResultKind::Simulate => "simulate",
            ResultKind::Load => "load",
            ResultKind::Capacity => "capacity",
            ResultKind::Compare => "compare",
            ResultKind::Attribute => "attribute",
            ResultKind::Whatif => "whatif",
            ResultKind::Fit => "fit",
            ResultKind::Calibrate => "calibrate",
            ResultKind::Forecast => "forecast",
        }
    }

    /// The kind a name stands for.
    pub fn from_name(name: &str) -> Option<ResultKind> {
        ResultKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for ResultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Version of the JSON contract; bumped on any incompatible change.
///
/// 2: every result starts with the same [`Header`] (`whatif` and `fit`
/// moved their scenario fields into it; `compare` and `attribute` gained
/// it).
pub const SCHEMA_VERSION: u32 = 2;
