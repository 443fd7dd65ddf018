//! `AttributionResult`: the outcome of `fogg attribute`.

use serde::{Deserialize, Serialize};

use super::{Header, ResultKind, ScenarioInfo};
use fogg_engine::attribution::events::TimeDecay;
use fogg_engine::attribution::{Attribution, Paths, Rule, RuleOptions, shares};

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
    /// Bayesian-bootstrap resamples behind the 95% intervals
    /// (`--intervals`); null without.
    #[serde(default)]
    pub interval_resamples: Option<u64>,
    /// The position-based rule's shares of the first touch, the touches
    /// between, and the last touch (`--u-shape`).
    #[serde(default = "u_shape")]
    pub position_based_weights: [f64; 3],
    /// The channels the last-non-direct rule counts as direct (`--direct`).
    #[serde(default)]
    pub direct_channels: Vec<String>,
    /// For an event log: the time-decay rule's half-life in seconds
    /// (`--half-life`); null otherwise (path files have no touch times).
    #[serde(default)]
    pub time_decay_half_life_s: Option<f64>,
    /// Per channel, by attributed conversions, highest first.
    pub channels: Vec<ChannelAttribution>,
    /// The paths by touch, per 1,000 journeys (counts), as the Sankey
    /// diagram draws them; null in results written before fogg stored it.
    #[serde(default)]
    pub flows: Option<super::Flows>,
}

/// The default U shape: 40% / 20% / 40%.
fn u_shape() -> [f64; 3] {
    [0.4, 0.2, 0.4]
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
    /// With `--intervals`: the removal effect's 95% interval from
    /// resampling the journeys.
    #[serde(default)]
    pub removal_effect_interval: Option<[f64; 2]>,
    /// Removal effect over the sum of removal effects.
    pub share: f64,
    /// With `--intervals`: the share's 95% interval.
    #[serde(default)]
    pub share_interval: Option<[f64; 2]>,
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
    /// Its exact Shapley value of P(conversion), coalitions being the
    /// chain with every other channel removed (the scenario's own chain,
    /// or the one fitted to the paths); the values add up to P(conversion).
    /// Null above 20 channels (2^k chain solves).
    #[serde(default)]
    pub shapley: Option<f64>,
    /// Shapley value over their sum × conversions.
    #[serde(default)]
    pub shapley_conversions: Option<f64>,
    /// The value credited by Shapley values of the expected conversion
    /// value (for a path file with values), else by `shapley_conversions`'
    /// shares.
    #[serde(default)]
    pub shapley_value: Option<f64>,
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
    /// Conversions credited by the U shape (`position_based_weights`).
    #[serde(default)]
    pub position_based: f64,
    /// Value credited the same way.
    #[serde(default)]
    pub position_based_value: f64,
    /// Conversions of the paths whose last touch not counted as direct is
    /// this channel (all-direct paths: their last touch).
    #[serde(default)]
    pub last_non_direct: f64,
    /// Value credited the same way.
    #[serde(default)]
    pub last_non_direct_value: f64,
    /// For an event log: conversions credited by time decay, each
    /// conversion split over its touches by 2^(−age / half-life); null
    /// otherwise.
    #[serde(default)]
    pub time_decay: Option<f64>,
    /// Value credited the same way.
    #[serde(default)]
    pub time_decay_value: Option<f64>,
}

/// What a scenario's own chain says, to credit its simulated paths by: the
/// truth a fitted chain is compared with.
#[derive(Debug, Clone)]
pub struct ScenarioTruth {
    /// The scenario.
    pub info: ScenarioInfo,
    /// P(conversion), exactly.
    pub conversion_probability: f64,
    /// Each channel's removal effect, in the order of the paths' channels.
    pub removal_effects: Vec<f64>,
    /// Each channel's Shapley value of P(conversion); `None` above
    /// [`fogg_engine::attribution::MAX_SHAPLEY_CHANNELS`] channels.
    pub shapley: Option<Vec<f64>>,
}

impl AttributionResult {
    /// The result from paths and their attribution: credited by the chain
    /// fitted to them, or by the scenario's own chain when the paths were
    /// walked on a scenario (`truth`).
    pub fn new(
        source: String,
        truth: Option<ScenarioTruth>,
        seed: u64,
        paths: &Paths,
        fitted: &Attribution,
        rules: &RuleOptions,
    ) -> AttributionResult {
        let from_scenario = truth.is_some();
        let conversions: f64 = paths.rows.iter().map(|r| r.conversions).sum();
        let value: f64 = paths.rows.iter().map(|r| r.value).sum();
        let (effects, conversion_probability, shapley): (Vec<f64>, f64, Option<Vec<[f64; 2]>>) = match &truth
        {
            Some(t) => (
                t.removal_effects.clone(),
                t.conversion_probability,
                t.shapley.as_ref().map(|s| s.iter().map(|&phi| [phi, 0.0]).collect()),
            ),
            None => (
                fitted.credits.iter().map(|c| c.removal_effect).collect(),
                fitted.conversion_probability,
                fitted.shapley.clone(),
            ),
        };
        // A scenario is credited by its own chain, which has no value
        // weighing: value follows the conversion shares. A path file's
        // value follows its value removal effects and value Shapley values.
        let by_value = !from_scenario && value > 0.0;
        let effect_shares = shares(&effects);
        // Per channel, its Shapley share of conversions and of value.
        let shapley_shares: Option<Vec<[f64; 2]>> = shapley.as_ref().map(|s| {
            let of = |game: usize| shares(&s.iter().map(|v| v[game]).collect::<Vec<f64>>());
            let (conversion, value) = (of(0), of(1));
            conversion.into_iter().zip(value).map(|(c, v)| [c, if by_value { v } else { c }]).collect()
        });
        let rule = |r: Rule| fitted.rules.iter().find(|c| c.rule == r).expect("every rule is credited");
        let mut channels: Vec<ChannelAttribution> = paths
            .channels
            .iter()
            .enumerate()
            .zip(&fitted.credits)
            .zip(&effects)
            .map(|(((i, name), c), &effect)| {
                let share = effect_shares[i];
                let phi =
                    shapley.as_ref().zip(shapley_shares.as_ref()).map(|(s, shares)| (s[i][0], shares[i]));
                ChannelAttribution {
                    channel: name.clone(),
                    removal_effect: effect,
                    fitted_removal_effect: from_scenario.then_some(c.removal_effect),
                    simulated_removal_effect: None,
                    simulated_removal_effect_se: None,
                    simulated_value_removal_effect: None,
                    simulated_value_removal_effect_se: None,
                    removal_effect_interval: None,
                    share,
                    share_interval: None,
                    attributed_conversions: share * conversions,
                    value_removal_effect: by_value.then_some(c.value_removal_effect),
                    attributed_value: if by_value { c.value } else { share * value },
                    shapley: phi.map(|(v, _)| v),
                    shapley_conversions: phi.map(|(_, [share, _])| share * conversions),
                    shapley_value: phi.map(|(_, [_, share])| share * value),
                    first_touch: rule(Rule::FirstTouch).conversions[i],
                    last_touch: rule(Rule::LastTouch).conversions[i],
                    linear_touch: rule(Rule::Linear).conversions[i],
                    position_based: rule(Rule::PositionBased).conversions[i],
                    last_non_direct: rule(Rule::LastNonDirect).conversions[i],
                    first_touch_value: rule(Rule::FirstTouch).value[i],
                    last_touch_value: rule(Rule::LastTouch).value[i],
                    linear_touch_value: rule(Rule::Linear).value[i],
                    position_based_value: rule(Rule::PositionBased).value[i],
                    last_non_direct_value: rule(Rule::LastNonDirect).value[i],
                    time_decay: None,
                    time_decay_value: None,
                }
            })
            .collect();
        channels.sort_by(|x, y| {
            y.attributed_conversions.total_cmp(&x.attributed_conversions).then(x.channel.cmp(&y.channel))
        });
        let weights = rules.position;
        AttributionResult {
            header: Header::new(ResultKind::Attribute, truth.map(|t| t.info), seed),
            source,
            paths: paths.rows.len() as u64,
            journeys: paths.rows.iter().map(|r| r.conversions + r.nulls).sum(),
            conversions,
            conversion_value: value,
            order: fitted.chain.options.order as u32,
            collapse_repeats: fitted.chain.options.collapse_repeats,
            max_steps: fitted.chain.max_steps,
            max_steps_auto: fitted.chain.options.max_steps == fogg_engine::attribution::MaxSteps::Auto,
            nulls_counted: paths.nulls_counted,
            conversion_probability,
            simulated_journeys: None,
            interval_resamples: None,
            position_based_weights: [weights.first, weights.middle, weights.last],
            direct_channels: rules.direct.iter().map(|&c| paths.channels[c as usize].clone()).collect(),
            time_decay_half_life_s: None,
            channels,
            flows: Some(super::Flows::of_paths(paths)),
        }
    }

    /// Adds the time-decay rule's credit of an event log (channels in the
    /// order of the paths'), if any.
    pub fn set_time_decay(&mut self, decay: Option<&TimeDecay>, paths: &Paths) {
        let Some(decay) = decay else { return };
        self.time_decay_half_life_s = Some(decay.half_life_s);
        for row in &mut self.channels {
            let c = paths.channels.iter().position(|n| *n == row.channel).expect("a channel of the paths");
            row.time_decay = Some(decay.conversions[c]);
            row.time_decay_value = Some(decay.value[c]);
        }
    }
}
