//! `AttributionResult`: the outcome of `fogg attribute`.

use serde::{Deserialize, Serialize};

use super::{Header, ResultKind, ScenarioInfo};
use crate::attribution::{Attribution, Paths};

/// Channel attribution of a path file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionResult {
    /// Kind, versions, scenario (null for a path file) and seed.
    #[serde(flatten)]
    pub header: super::Header<Option<super::ScenarioInfo>>,
    /// The path file, or the scenario.
    pub source: String,
    /// Distinct paths read.
    pub paths: u64,
    /// Journeys (conversions + nulls over every path).
    pub journeys: f64,
    /// Conversions over every path.
    pub conversions: f64,
    /// Conversion value over every path.
    pub conversion_value: f64,
    /// Order of the fitted chain: its states are windows of this many
    /// consecutive channels of a path.
    pub order: u32,
    /// Whether repeated channels collapsed before the windows were taken
    /// (`--collapse-repeats`); else they are kept, as ChannelAttribution
    /// does. Results written before this field collapsed them.
    #[serde(default = "yes")]
    pub collapse_repeats: bool,
    /// Journeys of the fitted chain cut after this many states; null: none.
    #[serde(default)]
    pub max_steps: Option<u32>,
    /// Whether `max_steps` is the package's default rule (`--max-steps
    /// auto`): the most states a path walks, plus one.
    #[serde(default)]
    pub max_steps_auto: bool,
    /// Whether journeys that did not convert are counted: false with
    /// `--no-null` or a path file without `total_null` (only converting
    /// paths make the chain, as ChannelAttribution's `var_null = None`).
    #[serde(default = "yes")]
    pub nulls_counted: bool,
    /// P(conversion) of a journey: in the fitted chain, or (exactly) in the
    /// scenario's.
    pub conversion_probability: f64,
    /// Journeys walked on the fitted chain for `--simulate`; null without.
    pub simulated_journeys: Option<u64>,
    /// Per channel, by attributed conversions, highest first.
    pub channels: Vec<ChannelAttribution>,
}

/// Results written before `nulls_counted` and `collapse_repeats` existed
/// counted nulls and collapsed repeats.
fn yes() -> bool {
    true
}

/// One channel's credit, by every method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelAttribution {
    /// Channel name.
    pub channel: String,
    /// 1 − P(conversion without the channel) / P(conversion), exact: of
    /// the chain fitted to the paths, or of the scenario's own chain.
    pub removal_effect: f64,
    /// For a scenario: the removal effect a Markov attribution of its
    /// simulated journeys finds (the order-1 channel chain fitted to them),
    /// to compare with the true one; null for a path file.
    pub fitted_removal_effect: Option<f64>,
    /// With `--simulate`: the fitted chain's removal effect estimated from
    /// simulated journeys.
    pub simulated_removal_effect: Option<f64>,
    /// Its standard error.
    pub simulated_removal_effect_se: Option<f64>,
    /// With `--simulate` and conversion values: the value removal effect
    /// estimated from the simulated journeys.
    #[serde(default)]
    pub simulated_value_removal_effect: Option<f64>,
    /// Its standard error.
    #[serde(default)]
    pub simulated_value_removal_effect_se: Option<f64>,
    /// Removal effect over the sum of removal effects.
    pub share: f64,
    /// Share × conversions.
    pub attributed_conversions: f64,
    /// For a path file with conversion values: the removal effect with each
    /// conversion weighed by its value, as ChannelAttribution's
    /// `removal_effects_conversion_value`; null otherwise.
    #[serde(default)]
    pub value_removal_effect: Option<f64>,
    /// The value credited to the channel: value removal effect over their
    /// sum × conversion value when there are value removal effects, else
    /// share × conversion value.
    pub attributed_value: f64,
    /// Conversions of the paths it starts.
    pub first_touch: f64,
    /// Conversions of the paths it ends.
    pub last_touch: f64,
    /// Conversions split equally over each path's touches.
    pub linear_touch: f64,
    /// Value of the paths it starts.
    pub first_touch_value: f64,
    /// Value of the paths it ends.
    pub last_touch_value: f64,
    /// Value split equally over each path's touches.
    pub linear_touch_value: f64,
}

impl AttributionResult {
    /// The result from paths, their attribution, and the removal effects to
    /// credit by (the fitted chain's, or the scenario's when the paths were
    /// walked on `scenario`).
    pub fn new(
        source: String,
        scenario: Option<ScenarioInfo>,
        seed: u64,
        paths: &Paths,
        fitted: &Attribution,
        effects: &[f64],
        conversion_probability: f64,
    ) -> AttributionResult {
        let from_scenario = scenario.is_some();
        let conversions: f64 = paths.rows.iter().map(|r| r.conversions).sum();
        let value: f64 = paths.rows.iter().map(|r| r.value).sum();
        let sum: f64 = effects.iter().sum();
        // A scenario is credited by its own chain's removal effects, which
        // have no value weighing; a path file's value by its value ones.
        let by_value = !from_scenario && value > 0.0;
        let mut channels: Vec<ChannelAttribution> = paths
            .channels
            .iter()
            .zip(&fitted.credits)
            .zip(effects)
            .map(|((name, c), &effect)| {
                let share = if sum > 0.0 { effect / sum } else { 0.0 };
                ChannelAttribution {
                    channel: name.clone(),
                    removal_effect: effect,
                    fitted_removal_effect: from_scenario.then_some(c.removal_effect),
                    simulated_removal_effect: None,
                    simulated_removal_effect_se: None,
                    simulated_value_removal_effect: None,
                    simulated_value_removal_effect_se: None,
                    share,
                    attributed_conversions: share * conversions,
                    value_removal_effect: by_value.then_some(c.value_removal_effect),
                    attributed_value: if by_value { c.value } else { share * value },
                    first_touch: c.first_touch,
                    last_touch: c.last_touch,
                    linear_touch: c.linear_touch,
                    first_touch_value: c.first_touch_value,
                    last_touch_value: c.last_touch_value,
                    linear_touch_value: c.linear_touch_value,
                }
            })
            .collect();
        channels.sort_by(|x, y| {
            y.attributed_conversions.total_cmp(&x.attributed_conversions).then(x.channel.cmp(&y.channel))
        });
        AttributionResult {
            header: Header::new(ResultKind::Attribute, scenario, seed),
            source,
            paths: paths.rows.len() as u64,
            journeys: paths.rows.iter().map(|r| r.conversions + r.nulls).sum(),
            conversions,
            conversion_value: value,
            order: fitted.chain.options.order as u32,
            collapse_repeats: fitted.chain.options.collapse_repeats,
            max_steps: fitted.chain.max_steps,
            max_steps_auto: fitted.chain.options.max_steps == crate::attribution::MaxSteps::Auto,
            nulls_counted: paths.nulls_counted,
            conversion_probability,
            simulated_journeys: None,
            channels,
        }
    }
}
