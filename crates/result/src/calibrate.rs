//! `CalibrateResult`: the spend curves `fogg calibrate` fitted to lift
//! tests, and how well they reproduce them.

use serde::{Deserialize, Serialize};

/// Every calibrated channel, and the scenario written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrateResult {
    /// Kind, versions, the scenario calibrated; the seed is 0 (the fit is
    /// exact, it draws nothing).
    #[serde(flatten)]
    pub header: super::Header,
    /// The calibrated scenario file written.
    pub output: String,
    /// What the scenario calls a period.
    pub period: String,
    /// Customers per period at today's spend: the lifts' scale.
    pub customers_per_period: f64,
    /// One entry per channel the tests name, in scenario order.
    pub channels: Vec<CalibratedChannel>,
}

/// One channel's curve before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedChannel {
    /// Channel id.
    pub channel: String,
    /// What its spend drives.
    pub drives: fogg_model::Mechanism,
    /// Spend per period today.
    pub baseline_spend: f64,
    /// The scenario's half-saturation.
    pub half_saturation_before: f64,
    /// The fitted one.
    pub half_saturation: f64,
    /// Lower end of its 95% range; `None` when the tests do not bound it.
    pub half_saturation_low: Option<f64>,
    /// Upper end of its 95% range; `None` when the tests do not bound it.
    pub half_saturation_high: Option<f64>,
    /// The scenario's slope.
    pub slope_before: f64,
    /// The slope after (equal to before when kept).
    pub slope: f64,
    /// Whether the slope was fitted (tests at two or more spend pairs).
    pub slope_fitted: bool,
    /// Lower end of the slope's 95% range, when fitted and bounded.
    pub slope_low: Option<f64>,
    /// Upper end of the slope's 95% range, when fitted and bounded.
    pub slope_high: Option<f64>,
    /// Sum of squared residuals.
    pub chi_square: f64,
    /// Tests minus fitted parameters.
    pub degrees_of_freedom: usize,
    /// The tests, measured beside predicted.
    pub tests: Vec<LiftRow>,
    /// Conversions per period as the channel's spend varies, both curves,
    /// exact (from 0 to a quarter beyond the largest spend named).
    pub curve: Vec<ResponsePoint>,
}

/// Conversions per period at one spend, under both curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsePoint {
    /// The channel's spend per period.
    pub spend: f64,
    /// Conversions per period under the scenario's curve.
    pub conversions_before: f64,
    /// Under the fitted curve.
    pub conversions_after: f64,
}

/// One lift test beside the curves' predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiftRow {
    /// The test as written.
    pub test: String,
    /// Spend per period before.
    pub spend_from: f64,
    /// Spend per period during the test.
    pub spend_to: f64,
    /// Conversions per period measured.
    pub lift: f64,
    /// Its standard error.
    pub standard_error: f64,
    /// The lift the scenario's curve predicted.
    pub predicted_before: f64,
    /// The lift the fitted curve predicts.
    pub predicted: f64,
    /// (predicted − lift) / standard error.
    pub residual: f64,
}

impl CalibratedChannel {
    /// The row of a fitted channel.
    pub fn of(
        model: &fogg_model::Model,
        fit: &fogg_engine::whatif::calibrate::ChannelFit,
    ) -> CalibratedChannel {
        CalibratedChannel {
            channel: model.channels[fit.channel.0 as usize].id.clone(),
            drives: fit.before.drives,
            baseline_spend: fit.before.baseline,
            half_saturation_before: fit.before.half_saturation,
            half_saturation: fit.after.half_saturation,
            half_saturation_low: fit.half_saturation_range.0,
            half_saturation_high: fit.half_saturation_range.1,
            slope_before: fit.before.slope,
            slope: fit.after.slope,
            slope_fitted: fit.slope_fitted,
            slope_low: fit.slope_range.0,
            slope_high: fit.slope_range.1,
            chi_square: fit.chi_square,
            degrees_of_freedom: fit.degrees_of_freedom,
            tests: fit
                .tests
                .iter()
                .map(|t| LiftRow {
                    test: t.lift.text.clone(),
                    spend_from: t.lift.from,
                    spend_to: t.lift.to,
                    lift: t.lift.lift,
                    standard_error: t.lift.standard_error,
                    predicted_before: t.before,
                    predicted: t.after,
                    residual: t.residual,
                })
                .collect(),
            curve: fit
                .curve
                .iter()
                .map(|&(spend, conversions_before, conversions_after)| ResponsePoint {
                    spend,
                    conversions_before,
                    conversions_after,
                })
                .collect(),
        }
    }
}
