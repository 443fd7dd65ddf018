//! The scenario file format (TOML): loading, the bundled scenarios, and
//! compilation into a [`Model`]. Nothing downstream sees TOML.
//!
//! The format is documented key by key in `docs/scenario.md`.

#![warn(missing_docs)]

pub mod change_text;
mod compile;
mod compile_calendar;
mod compile_load;
mod compile_strategy;
mod context;
pub mod import;
mod keys;
pub mod limits;
mod parts;
mod raw;
pub mod rewrite;

use std::path::Path;
use std::sync::Arc;

pub use compile::{DEFAULT_MAX_STEPS, DEFAULT_STAGES};

use fogg_core::error::ScenarioError;
use fogg_load::spec::LoadSpec;
use fogg_load::threshold::{ParseError, Threshold};
use fogg_model::{Model, Strategy};

/// A compiled scenario file: the journey model, and what the file adds
/// beside the journeys.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The journey model every engine walks.
    pub model: Model,
    /// `[load]`: requests, arrival profile and thresholds, when present
    /// and the scenario was read for [`Use::Traffic`].
    pub load: Option<LoadSection>,
    /// The what-if strategies (`[[strategy]]`), in file order.
    pub strategies: Vec<Strategy>,
    /// The file's entry and transition weights as probabilities, before
    /// any segment's multipliers: the chain the file writes, which every
    /// segment's chain adjusts.
    pub file_chain: fogg_model::Chain,
    /// The file's weights as observed counts, when `[scenario] weights =
    /// "counts"` says they are (fitted scenarios): what
    /// [`fogg_model::posterior`] draws chains from.
    pub counts: Option<fogg_model::Chain>,
    /// `[calendar]`: the campaign window and when customers arrive in it.
    pub calendar: Option<fogg_core::calendar::Calendar>,
    /// The file's text, carried into results so that shards can be merged
    /// where the file is not at hand.
    pub text: Arc<str>,
}

/// A scenario's `[load]` section: how states become requests, and the
/// thresholds the file sets.
#[derive(Debug, Clone)]
pub struct LoadSection {
    /// Requests, think times, arrival profile.
    pub spec: LoadSpec,
    /// `[load.thresholds]`, in file order.
    pub thresholds: Vec<Threshold>,
}

impl LoadSection {
    /// How each state's visits become requests, by name: every request of
    /// the state and each of its resources, once per visit.
    pub fn request_map(&self) -> fogg_engine::forecast::RequestMap {
        let names: Vec<String> = self.spec.request_names().into_iter().map(str::to_owned).collect();
        let index = |name: &str| names.iter().position(|n| n == name).expect("a listed name") as u16;
        let per_state = self
            .spec
            .requests
            .iter()
            .map(|requests| {
                let mut counts: Vec<(u16, u32)> = Vec::new();
                for r in requests {
                    for name in std::iter::once(&r.name).chain(r.resources.iter().map(|x| &x.name)) {
                        let i = index(name);
                        match counts.iter_mut().find(|(n, _)| *n == i) {
                            Some((_, c)) => *c += 1,
                            None => counts.push((i, 1)),
                        }
                    }
                }
                counts
            })
            .collect();
        fogg_engine::forecast::RequestMap { names, per_state }
    }

    /// The section's thresholds with `extra` (from the command line)
    /// replacing any on the same metric; the request and state names
    /// `extra` uses are checked against the scenario.
    pub fn thresholds_with(&self, model: &Model, extra: &[Threshold]) -> Result<Vec<Threshold>, ParseError> {
        let states: Vec<&str> = model
            .states
            .iter()
            .zip(&self.spec.requests)
            .filter(|(_, requests)| !requests.is_empty())
            .map(|(s, _)| s.id.as_str())
            .collect();
        fogg_load::threshold::check_names(extra, &self.spec.request_names(), &states)?;
        Ok(fogg_load::threshold::combine(&self.thresholds, extra))
    }
}

impl Scenario {
    /// The `[load]` section, or an error saying how to add one.
    pub fn load_section(&self) -> Result<&LoadSection, ScenarioError> {
        self.load.as_ref().ok_or_else(|| ScenarioError::NoLoad { source_name: self.model.source.clone() })
    }
}

/// The scenarios shipped inside the binary, by name.
pub const BUNDLED: &[(&str, &str)] = &[
    ("retail-omnichannel", include_str!("../../../scenarios/retail-omnichannel.toml")),
    ("ecommerce-funnel", include_str!("../../../scenarios/ecommerce-funnel.toml")),
    ("campaign-launch", include_str!("../../../scenarios/campaign-launch.toml")),
];

/// Files the bundled scenarios refer to (feeders), by path.
pub const BUNDLED_FILES: &[(&str, &str)] =
    &[("scenarios/catalogue.csv", include_str!("../../../scenarios/catalogue.csv"))];

/// The scenario used when none is named.
pub const DEFAULT_SCENARIO: &str = "retail-omnichannel";

/// What a scenario is read for: the feeder files of `[load]` are read
/// only by the commands that send traffic (and by `fogg validate`, which
/// checks everything), so a copied scenario simulates without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Journeys only: `[load]` is checked, its feeder files are not read,
    /// and [`Scenario::load`] is `None`.
    Journeys,
    /// Sending traffic: everything, feeder files included.
    Traffic,
}

/// Parses and compiles scenario text, everything included; `source`
/// names it in errors.
pub fn from_str(text: &str, source: &str) -> Result<Scenario, ScenarioError> {
    read(text, source, Use::Traffic)
}

fn read(text: &str, source: &str, purpose: Use) -> Result<Scenario, ScenarioError> {
    read_keys(text, source, |raw| compile_raw(raw, text, source, purpose))
}

/// Reads the TOML and hands the scenario to `compile`; the problems of
/// keys and values come in one report with those `compile` finds in the
/// rest of the file (unknown references, impossible numbers), so that a
/// file with a typo in a key and a wrong state name shows both at once.
fn read_keys<T>(
    text: &str,
    source: &str,
    compile: impl FnOnce(raw::RawScenario) -> Result<T, ScenarioError>,
) -> Result<T, ScenarioError> {
    let keys::Read { raw, mut problems } = keys::read(text, source)?;
    let Some(raw) = raw else {
        return Err(ScenarioError::Invalid { source_name: source.to_owned(), problems });
    };
    match compile(raw) {
        Ok(compiled) if problems.is_empty() => Ok(compiled),
        Ok(_) => Err(ScenarioError::Invalid { source_name: source.to_owned(), problems }),
        Err(ScenarioError::Invalid { problems: more, .. }) => {
            problems.extend(more);
            problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            Err(ScenarioError::Invalid { source_name: source.to_owned(), problems })
        }
        Err(other) if problems.is_empty() => Err(other),
        Err(_) => Err(ScenarioError::Invalid { source_name: source.to_owned(), problems }),
    }
}

/// The scenario's TOML without its `[load]` section: what a simulation
/// result stores so that `fogg merge` can rebuild the journeys, and never
/// the request headers, bodies or feeder paths, where secrets live.
pub fn without_load(text: &str) -> String {
    match text.parse::<toml::Table>() {
        Ok(mut table) => {
            table.remove("load");
            // Through the buffer's Display, which writes in one pass:
            // `toml::to_string` inserts each table's text into one string,
            // quadratic in the states (13 s for 65,534 of them).
            let mut buffer = toml::ser::Buffer::new();
            match serde::Serialize::serialize(&table, toml::ser::Serializer::new(&mut buffer)) {
                Ok(written) => written.to_string(),
                Err(_) => String::new(),
            }
        }
        // A text that compiled always parses; nothing is stored otherwise.
        Err(_) => String::new(),
    }
}

/// The journey model of scenario text without its `[load]` section (whose
/// feeder files may not be at hand): what merging simulation shards needs.
pub fn journeys_from_str(text: &str, source: &str) -> Result<Model, ScenarioError> {
    read_keys(text, source, |mut raw| {
        raw.load = None;
        compile_raw(raw, text, source, Use::Journeys).map(|scenario| scenario.model)
    })
}

fn compile_raw(
    raw: raw::RawScenario,
    text: &str,
    source: &str,
    purpose: Use,
) -> Result<Scenario, ScenarioError> {
    let compiled = compile::compile(raw, text, source, purpose)
        .map_err(|problems| ScenarioError::Invalid { source_name: source.to_owned(), problems })?;
    Ok(Scenario {
        model: compiled.model,
        file_chain: compiled.file_chain,
        counts: compiled.counts,
        calendar: compiled.calendar,
        load: compiled.load,
        strategies: compiled.strategies,
        text: Arc::from(text),
    })
}

/// Reads and compiles a scenario file, everything included.
pub fn from_path(path: &Path) -> Result<Scenario, ScenarioError> {
    path_for(path, Use::Traffic)
}

fn path_for(path: &Path, purpose: Use) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ScenarioError::Read { path: path.to_owned(), source })?;
    read(&text, &path.display().to_string(), purpose)
}

/// Loads what the command line named, for `purpose`: nothing (the
/// default bundled scenario), a file path, or the name of a bundled
/// scenario.
pub fn load(name: Option<&Path>, purpose: Use) -> Result<Scenario, ScenarioError> {
    let Some(path) = name else {
        return bundled(DEFAULT_SCENARIO).expect("the default scenario is bundled");
    };
    if path.is_dir() {
        return Err(ScenarioError::Folder { path: path.to_owned() });
    }
    if path.exists() {
        return path_for(path, purpose);
    }
    let text = path.to_string_lossy();
    let stem = text.strip_suffix(".toml").unwrap_or(&text);
    let stem = stem.strip_prefix("scenarios/").unwrap_or(stem);
    bundled(stem).unwrap_or_else(|| {
        let bundled: Vec<&'static str> = BUNDLED.iter().map(|(n, _)| *n).collect();
        let hint = fogg_core::suggest::hint(stem, bundled.iter().copied());
        Err(ScenarioError::NotFound { name: text.to_string(), hint, bundled })
    })
}

/// Compiles a bundled scenario by name; `None` when there is none.
pub fn bundled(name: &str) -> Option<Result<Scenario, ScenarioError>> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(n, text)| from_str(text, &format!("scenarios/{n}.toml")))
}
