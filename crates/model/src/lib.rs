//! The compiled journey model: immutable, `Send + Sync`, shared by every
//! driver.
//!
//! A [`Model`] knows nothing of TOML (see `scenario`) nor of how journeys
//! are aggregated (see `sim`). It owns the states, channels and segments,
//! the alias tables that drive [`Model::walk`], and the probabilities the
//! closed forms in [`exact`] solve.

#![warn(missing_docs)]

pub mod alias;
pub mod change;
pub mod dist;
pub mod exact;
mod iterative;
pub mod posterior;
mod walk;

use alias::{AliasRows, RowId, Target};
pub use change::{Change, Mechanism, Spend, Strategy, Variant};
pub use dist::{Dist, MAX_VALUE, cents};
pub use walk::{Journey, JourneyEnd, Step};

use fogg_core::units::TimeUnit;

/// Index of a state (touchpoint) in [`Model::states`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub u16);

/// Index of a channel in [`Model::channels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u8);

/// Index of a stage in [`Model::stages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StageId(pub u8);

/// Index of a segment in [`Model::segments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentId(pub u8);

/// At most this many stages (a journey's stages fit one `u64` bit set).
pub const MAX_STAGES: usize = 64;
/// At most this many channels.
pub const MAX_CHANNELS: usize = u8::MAX as usize;
/// At most this many states (one value of `u16` is the exit).
pub const MAX_STATES: usize = u16::MAX as usize - 1;
/// At most this many segments.
pub const MAX_SEGMENTS: usize = u8::MAX as usize;

/// Whether a channel is reached online or in the physical world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Web, search, social, email, display, app, push.
    Online,
    /// Store, phone, events, print/TV, click & collect pick-up.
    Offline,
}

impl ChannelKind {
    /// The name the scenario file and reports use.
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Online => "online",
            ChannelKind::Offline => "offline",
        }
    }
}

/// A kind of touchpoint: web, search, store, phone…
#[derive(Debug, Clone)]
pub struct Channel {
    /// Identifier used in the scenario and in reports.
    pub id: String,
    /// Optional human name.
    pub label: Option<String>,
    /// Online or offline.
    pub kind: ChannelKind,
    /// Cost of one touch, in the scenario's currency.
    pub cost_per_touch: f64,
    /// Paid spend per period and its response, for what-if strategies.
    pub spend: Option<Spend>,
}

/// One stage of the journey reached through one channel.
#[derive(Debug, Clone)]
pub struct State {
    /// Identifier used in the scenario.
    pub id: String,
    /// Optional human name.
    pub label: Option<String>,
    /// Funnel stage.
    pub stage: StageId,
    /// Channel of the touchpoint.
    pub channel: ChannelId,
    /// Whether visiting this state counts a conversion.
    pub conversion: bool,
    /// Value of one conversion (conversion states only).
    pub value: Option<Dist>,
    /// Time spent here before the next touchpoint, in seconds.
    pub dwell: Dist,
}

/// Normalised transition probabilities of one segment: what the exact
/// solver reads. Each row lists `(target, probability)` with positive
/// probabilities; targets are state indices or [`alias::EXIT`].
#[derive(Debug, Clone)]
pub struct Chain {
    /// Where journeys start.
    pub entry: Vec<(Target, f64)>,
    /// Transitions out of each state.
    pub next: Vec<Vec<(Target, f64)>>,
}

impl Chain {
    /// The chain with every transition into a state for which `removed`
    /// holds sent to the exit instead.
    pub fn without(&self, removed: impl Fn(usize) -> bool) -> Chain {
        let redirect = |row: &Vec<(Target, f64)>| -> Vec<(Target, f64)> {
            let mut out: Vec<(Target, f64)> = Vec::with_capacity(row.len());
            let mut exit = 0.0;
            for &(t, p) in row {
                if t == alias::EXIT || removed(t as usize) {
                    exit += p;
                } else {
                    out.push((t, p));
                }
            }
            if exit > 0.0 {
                out.push((alias::EXIT, exit));
            }
            out
        };
        Chain { entry: redirect(&self.entry), next: self.next.iter().map(redirect).collect() }
    }
}

/// A share of the population with its own weights.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Identifier used in the scenario.
    pub id: String,
    /// Optional human name.
    pub label: Option<String>,
    /// Share of customers in this segment (shares sum to 1).
    pub share: f64,
    /// The segment's chain, after its multipliers.
    pub chain: Chain,
    entry_row: RowId,
    next_rows: Vec<RowId>,
}

/// The journey model: states, channels, segments and the alias tables
/// that walk them. What a scenario file adds beside the journeys (load
/// settings, thresholds, strategies, the file's text) lives in
/// `scenario::Scenario`.
#[derive(Debug, Clone)]
pub struct Model {
    /// Scenario name.
    pub name: String,
    /// Scenario description.
    pub description: Option<String>,
    /// Where the scenario came from (a path, or `bundled:NAME`).
    pub source: String,
    /// Currency of values and costs.
    pub currency: String,
    /// Unit of reported times.
    pub time_unit: TimeUnit,
    /// Funnel stages, in order.
    pub stages: Vec<String>,
    /// Channels.
    pub channels: Vec<Channel>,
    /// States (touchpoints).
    pub states: Vec<State>,
    /// Segments; a scenario without any has one, `all`, of share 1.
    pub segments: Vec<Segment>,
    /// Journeys are cut after this many steps and counted as truncated.
    pub max_steps: u32,
    /// Things worth knowing that do not stop the model from running.
    pub warnings: Vec<String>,
    /// What a period is called (`[scenario] period`, default "period").
    pub period: String,
    /// Customers who start a journey in a period at today's spend
    /// (`[scenario] customers_per_period`); what-if totals are per period.
    pub customers_per_period: Option<f64>,
    rows: AliasRows,
    segment_row: RowId,
}

/// Everything a [`Model`] is built from: its settings, states and the
/// chain of each segment. The alias tables are derived from these.
#[derive(Debug, Clone)]
pub struct ModelParts {
    /// Scenario name.
    pub name: String,
    /// Scenario description.
    pub description: Option<String>,
    /// Where the scenario came from.
    pub source: String,
    /// Currency of values and costs.
    pub currency: String,
    /// Unit of reported times.
    pub time_unit: TimeUnit,
    /// Funnel stages, in order.
    pub stages: Vec<String>,
    /// Channels.
    pub channels: Vec<Channel>,
    /// States (touchpoints).
    pub states: Vec<State>,
    /// Segments with their chains (shares sum to 1).
    pub segments: Vec<SegmentChain>,
    /// Journeys are cut after this many steps.
    pub max_steps: u32,
    /// Warnings found while compiling.
    pub warnings: Vec<String>,
    /// What a period is called.
    pub period: String,
    /// Customers per period at today's spend.
    pub customers_per_period: Option<f64>,
}

/// One segment as the compiler or a strategy hands it over: its share of
/// the population and its normalised chain.
#[derive(Debug, Clone)]
pub struct SegmentChain {
    /// Identifier used in the scenario.
    pub id: String,
    /// Optional human name.
    pub label: Option<String>,
    /// Share of customers in this segment.
    pub share: f64,
    /// The segment's chain, after its multipliers.
    pub chain: Chain,
}

impl Model {
    /// Builds a model from validated parts: the scenario compiler and
    /// strategies call this.
    pub fn new(parts: ModelParts) -> Model {
        let ModelParts {
            name,
            description,
            source,
            currency,
            time_unit,
            stages,
            channels,
            states,
            segments,
            max_steps,
            warnings,
            period,
            customers_per_period,
        } = parts;
        let mut rows = AliasRows::default();
        let shares: Vec<(Target, f64)> =
            segments.iter().enumerate().map(|(i, s)| (i as Target, s.share)).collect();
        let segment_row = rows.push(&shares);
        let segments = segments
            .into_iter()
            .map(|SegmentChain { id, label, share, chain }| {
                let entry_row = rows.push(&chain.entry);
                let next_rows = chain.next.iter().map(|row| rows.push(row)).collect();
                Segment { id, label, share, chain, entry_row, next_rows }
            })
            .collect();
        Model {
            name,
            description,
            source,
            currency,
            time_unit,
            stages,
            channels,
            states,
            segments,
            max_steps,
            warnings,
            period,
            customers_per_period,
            rows,
            segment_row,
        }
    }

    /// The same model with every touch of `channel` removed: journeys that
    /// would reach one of its states leave instead.
    pub fn without_channel(&self, channel: ChannelId) -> Model {
        let segments = self
            .segments
            .iter()
            .map(|s| SegmentChain {
                id: s.id.clone(),
                label: s.label.clone(),
                share: s.share,
                chain: s.chain.without(|i| self.states[i].channel == channel),
            })
            .collect();
        self.rebuilt(self.states.clone(), segments)
    }

    /// The same model (settings, channels) with other states and segment
    /// chains.
    pub(crate) fn rebuilt(&self, states: Vec<State>, segments: Vec<SegmentChain>) -> Model {
        Model::new(ModelParts {
            name: self.name.clone(),
            description: self.description.clone(),
            source: self.source.clone(),
            currency: self.currency.clone(),
            time_unit: self.time_unit,
            stages: self.stages.clone(),
            channels: self.channels.clone(),
            states,
            segments,
            max_steps: self.max_steps,
            warnings: self.warnings.clone(),
            period: self.period.clone(),
            customers_per_period: self.customers_per_period,
        })
    }

    /// Returns the same model with journeys cut after `max_steps` steps.
    pub fn with_max_steps(mut self, max_steps: u32) -> Model {
        self.max_steps = max_steps;
        self
    }

    /// Looks up a state by id.
    pub fn state_id(&self, id: &str) -> Option<StateId> {
        self.states.iter().position(|s| s.id == id).map(|i| StateId(i as u16))
    }

    /// Looks up a channel by id.
    pub fn channel_id(&self, id: &str) -> Option<ChannelId> {
        self.channels.iter().position(|c| c.id == id).map(|i| ChannelId(i as u8))
    }

    /// Looks up a segment by id.
    pub fn segment_id(&self, id: &str) -> Option<SegmentId> {
        self.segments.iter().position(|s| s.id == id).map(|i| SegmentId(i as u8))
    }
}
