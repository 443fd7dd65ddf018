//! Serde mirror of the scenario file, one struct per TOML table.
//!
//! Nothing here is validated beyond TOML types: `compile.rs` turns these
//! into a [`fogg_model::Model`] and reports every problem it finds.
//! Unknown keys are rejected by serde so that a typo never goes unnoticed.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use fogg_load::spec::{FeederOrder, OnError};
use fogg_model::ChannelKind;

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
    #[serde(default)]
    pub load: Option<Spanned<RawLoad>>,
    #[serde(default, rename = "strategy")]
    pub strategies: Vec<RawStrategy>,
    #[serde(default)]
    pub calendar: Option<Spanned<RawCalendar>>,
}

/// `[calendar]`: the campaign window and its arrival intensity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    pub start: Spanned<RawWhen>,
    #[serde(default)]
    pub end: Option<Spanned<RawWhen>>,
    #[serde(default)]
    pub days: Option<Spanned<f64>>,
    #[serde(default)]
    pub timezone: Option<Spanned<String>>,
    #[serde(default)]
    pub hourly: Option<Spanned<Vec<f64>>>,
    #[serde(default)]
    pub weekly: Option<Spanned<Vec<f64>>>,
    #[serde(default)]
    pub period_length: Option<Spanned<String>>,
    #[serde(default, rename = "event")]
    pub events: Vec<RawEvent>,
    #[serde(default, rename = "flight")]
    pub flights: Vec<RawFlight>,
    #[serde(default)]
    pub adstock: Option<Spanned<std::collections::BTreeMap<String, String>>>,
}

/// `[[calendar.flight]]`: a channel's spend over part of the window.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlight {
    pub channel: Spanned<String>,
    pub from: Spanned<RawWhen>,
    pub to: Spanned<RawWhen>,
    pub spend: Spanned<f64>,
}

/// `[[calendar.event]]`: a burst of arrivals that decays.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub name: String,
    pub at: Spanned<RawWhen>,
    pub peak: Spanned<f64>,
    pub half_life: Spanned<String>,
}

/// A date or date-time, quoted or as a TOML date literal.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawWhen {
    /// `"2026-11-23T09:00"`.
    Text(String),
    /// `2026-11-23T09:00:00`.
    Literal(toml::value::Datetime),
}

impl RawWhen {
    /// The text to parse.
    pub fn text(&self) -> String {
        match self {
            RawWhen::Text(t) => t.clone(),
            RawWhen::Literal(d) => d.to_string(),
        }
    }
}

/// `[[strategy]]`: a named what-if.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Changes in the `--change` syntax, e.g. `"spend social +30%"`.
    #[serde(default)]
    pub changes: Vec<Spanned<String>>,
    /// `[[strategy.add]]`: touchpoints the strategy adds (a `[[state]]`
    /// plus `from`).
    #[serde(default)]
    pub add: Vec<RawState>,
}

/// `spend = { … }` of a channel.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpend {
    pub baseline: Spanned<f64>,
    pub half_saturation: Spanned<f64>,
    #[serde(default)]
    pub slope: Option<Spanned<f64>>,
    pub drives: fogg_model::Mechanism,
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
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub customers_per_period: Option<Spanned<f64>>,
    /// `"counts"` when the weights are observed counts (what `fogg fit`
    /// writes), `"weights"` (the default) otherwise.
    #[serde(default)]
    pub weights: Option<Spanned<String>>,
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
    #[serde(default)]
    pub spend: Option<Spanned<RawSpend>>,
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
    /// Only in `[[strategy.add]]`: the probability that a journey leaving
    /// each named state goes to the added touchpoint.
    #[serde(default)]
    pub from: Option<Spanned<RawWeights>>,
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

/// `[load]`: how journeys become HTTP traffic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    #[serde(default)]
    pub duration: Option<Spanned<String>>,
    #[serde(default)]
    pub profile: Option<Spanned<RawProfile>>,
    #[serde(default)]
    pub think_time: Option<Spanned<RawDist>>,
    #[serde(default)]
    pub think_time_by_state: BTreeMap<Spanned<String>, Spanned<RawDist>>,
    #[serde(default)]
    pub patience: Option<Spanned<RawDist>>,
    #[serde(default)]
    pub on_error: Option<OnError>,
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub max_in_flight: Option<Spanned<i64>>,
    #[serde(default)]
    pub tracestate: Option<Spanned<String>>,
    /// `headers = { … }`: sent with every request (a request's own
    /// headers of the same name replace them).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `browser_headers = false`: no `Referer` or `Origin`.
    #[serde(default)]
    pub browser_headers: Option<bool>,
    #[serde(default, rename = "request")]
    pub requests: Vec<RawRequest>,
    #[serde(default, rename = "feeder")]
    pub feeders: Vec<RawFeeder>,
    /// `[load.thresholds]`: metric (with optional scope) = condition.
    #[serde(default)]
    pub thresholds: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `[[load.feeder]]`: a CSV file whose rows fill `{ID.COLUMN}` placeholders.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeeder {
    pub id: Spanned<String>,
    pub file: Spanned<String>,
    #[serde(default)]
    pub order: Option<FeederOrder>,
}

/// `[load] profile`: the arrival rate over time, in customers per second.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawProfile {
    /// A constant rate.
    Constant { rate: f64 },
    /// From `from` to `to` linearly over `over`, then `to`.
    Ramp { from: f64, to: f64, over: String },
    /// Consecutive stages of constant rate; the last one holds.
    Stages { stages: Vec<RawStage> },
    /// A closed model: `customers` in flight at all times.
    Closed { customers: i64 },
    /// A campaign send: `base + peak` at the start, the peak halving every
    /// `half_life`.
    Burst {
        peak: f64,
        half_life: String,
        #[serde(default)]
        base: f64,
    },
}

/// One stage of a `stages` profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub duration: String,
    pub rate: f64,
}

/// `[[load.request]]`: an HTTP request sent when a customer reaches a state.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub state: Spanned<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// `form = { field = "{template}" }`: a form body, each value encoded
    /// after its substitution.
    #[serde(default)]
    pub form: Option<BTreeMap<String, String>>,
    /// `json = { … }`: a JSON body whose strings are templates.
    #[serde(default)]
    pub json: Option<toml::Value>,
    #[serde(default)]
    pub expect_status: Option<Vec<u16>>,
    /// `expect_redirect = "/admin/"`: the first response must redirect
    /// there.
    #[serde(default)]
    pub expect_redirect: Option<Spanned<String>>,
    #[serde(default)]
    pub expect_body: Option<String>,
    /// `capture = { NAME = { json = "/pointer" } }`: values taken from
    /// the response.
    #[serde(default)]
    pub capture: BTreeMap<Spanned<String>, Spanned<RawCapture>>,
    /// `resources = ["/static/app.js", ...]`: fetched after the document.
    #[serde(default)]
    pub resources: Option<Spanned<Vec<String>>>,
}

/// One captured value: where it is in the response, optionally narrowed
/// by a regex.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapture {
    #[serde(default)]
    pub json: Option<String>,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub cookie: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
}
