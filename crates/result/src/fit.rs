//! `FitResult`: what `fogg fit` wrote and how well it fits.

use serde::{Deserialize, Serialize};

/// A fitted scenario's summary and goodness of fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitResult {
    /// Kind, versions, the scenario written and the seed of the
    /// fitted model's journeys.
    #[serde(flatten)]
    pub header: super::Header,
    /// The input file's name.
    pub source: String,
    /// `paths` or `events`.
    pub input: String,
    /// Rows read.
    pub rows: u64,
    /// Journeys observed.
    pub journeys: f64,
    /// States of the fitted model.
    pub states: usize,
    /// Channels of the fitted model.
    pub channels: usize,
    /// Share of journeys that converted, in the data.
    pub data_conversion_rate: f64,
    /// The fitted chain's, exactly.
    pub model_conversion_rate: f64,
    /// With `--intervals`: chains drawn from the posterior of the counts.
    #[serde(default)]
    pub intervals: Option<u64>,
    /// With `--intervals`: the 95% interval of the conversion rate over
    /// those chains, each solved exactly.
    #[serde(default)]
    pub model_conversion_rate_ci95: Option<[f64; 2]>,
    /// Share of journeys by length, data beside model (the last row is
    /// "that many or more").
    pub lengths: Vec<LengthRow>,
    /// Total variation distance between the two length distributions.
    pub length_distance: f64,
    /// Journeys walked on the fitted model for the lengths.
    pub model_journeys: u64,
}

/// Journeys of one length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthRow {
    /// States visited.
    pub length: usize,
    /// Share of the data's journeys.
    pub data: f64,
    /// Share of the fitted model's journeys.
    pub model: f64,
}
