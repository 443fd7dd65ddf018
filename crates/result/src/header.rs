//! `Header`: the fields every result file starts with, so a reader can
//! tell what a file is, which fogg wrote it, and from which scenario and
//! seed, before reading the rest.

use serde::{Deserialize, Serialize};

use super::{ResultKind, SCHEMA_VERSION};
use fogg_model::Model;

/// The first fields of every result. Flattened into each result, so the
/// JSON stays one flat object.
///
/// `S` is [`ScenarioInfo`] for results that always come from a scenario,
/// and `Option<ScenarioInfo>` for those that may come from a data file
/// (`attribute`), so `scenario` has one shape everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header<S = ScenarioInfo> {
    /// Version of the JSON contract ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// What the file is.
    pub kind: ResultKind,
    /// Version of fogg that produced it.
    pub fogg_version: String,
    /// The scenario the run used.
    pub scenario: S,
    /// Seed of the run: the same seed gives the same customers.
    pub seed: u64,
}

impl<S> Header<S> {
    /// The header of a `kind` result that this build of fogg produces now.
    pub fn new(kind: ResultKind, scenario: S, seed: u64) -> Header<S> {
        Header {
            schema_version: SCHEMA_VERSION,
            kind,
            fogg_version: env!("CARGO_PKG_VERSION").to_owned(),
            scenario,
            seed,
        }
    }
}

/// Which scenario a result came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// `[scenario] name`.
    pub name: String,
    /// Path or `scenarios/NAME.toml` for bundled ones.
    pub source: String,
    /// Currency of every amount.
    pub currency: String,
    /// Unit of reported times.
    pub time_unit: String,
}

impl ScenarioInfo {
    /// Describes `model`.
    pub fn of(model: &Model) -> ScenarioInfo {
        ScenarioInfo {
            name: model.name.clone(),
            source: model.source.clone(),
            currency: model.currency.clone(),
            time_unit: model.time_unit.to_string(),
        }
    }
}
