//! Serde mirror of the scenario file, one struct per TOML table.
//!
//! Nothing here is validated beyond TOML types: `compile.rs` turns these
//! into a [`crate::model::Model`] and reports every problem it finds.
//! Unknown keys are rejected by serde so that a typo never goes unnoticed.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A map of weights keyed by state id (or `exit`), with source positions.
pub type RawWeights = BTreeMap<Spanned<String>, Spanned<f64>>;

/// A map of multipliers keyed by a channel or state id.
pub type RawMultipliers = BTreeMap<Spanned<String>, Spanned<f64>>;

/// The whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawMeta,
    #[serde(default, rename = "channel")]
    pub channels: Vec<RawChannel>,
    #[serde(default, rename = "state")]
    pub states: Vec<RawState>,
    #[serde(default)]
    pub entry: Option<Spanned<RawWeights>>,
    #[serde(default, rename = "segment")]
    pub segments: Vec<RawSegment>,
}

/// `[scenario]`: name and run-wide settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub time_unit: Option<Spanned<String>>,
    #[serde(default)]
    pub stages: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub max_steps: Option<Spanned<i64>>,
}

/// `[[channel]]`: a kind of touchpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    pub id: Spanned<String>,
    pub kind: ChannelKind,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub cost_per_touch: Option<Spanned<f64>>,
}

/// Whether a channel is reached online or in the physical world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Web, search, social, email, display, app, push.
    Online,
    /// Store, phone, events, print/TV, click & collect pick-up.
    Offline,
}

/// `[[state]]`: one stage of the journey reached through one channel.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub id: Spanned<String>,
    #[serde(default)]
    pub label: Option<String>,
    pub stage: Spanned<String>,
    pub channel: Spanned<String>,
    #[serde(default)]
    pub conversion: bool,
    #[serde(default)]
    pub value: Option<Spanned<RawDist>>,
    #[serde(default)]
    pub dwell: Option<Spanned<RawDist>>,
    #[serde(default)]
    pub next: Option<Spanned<RawWeights>>,
}

/// `[[segment]]`: a share of the population with its own weights.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSegment {
    pub id: Spanned<String>,
    #[serde(default)]
    pub label: Option<String>,
    pub share: Spanned<f64>,
    #[serde(default)]
    pub channel_multiplier: RawMultipliers,
    #[serde(default)]
    pub state_multiplier: RawMultipliers,
    #[serde(default)]
    pub exit_multiplier: Option<Spanned<f64>>,
}

/// A distribution as written by people: `{ dist = "lognormal", median =
/// "2h", p90 = "1d" }`. Durations are strings with a unit; money values
/// are plain numbers.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDist {
    /// Always the same value.
    Constant { value: Quantity },
    /// Exponential with the given mean.
    Exponential { mean: Quantity },
    /// Log-normal given by its median and 90th percentile.
    #[serde(rename = "lognormal")]
    LogNormal { median: Quantity, p90: Quantity },
    /// Gamma given by its mean and shape.
    Gamma { mean: Quantity, shape: f64 },
    /// Weibull given by its scale and shape.
    Weibull { scale: Quantity, shape: f64 },
    /// Uniform between `min` and `max`.
    Uniform { min: Quantity, max: Quantity },
}

/// A number, or a string such as `"2h"` that carries its unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    /// A plain number (money, or a shape).
    Number(f64),
    /// A string with a unit (durations).
    Text(String),
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a duration string such as \"2h\"")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity::Number(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}
