//! Raw scenario → [`Model`], reporting every problem at once.
//!
//! Each check names the key path, the line where the file says it, and a
//! fix. Only when no problem is left is the model assembled. [`compile`]
//! reads as the steps it takes; each step is a function below it.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;

use super::context::Cx;
use super::parts::{Overflow, SegmentSpec, compile_state, normalised, weights};
use super::raw::{RawMeta, RawMultipliers, RawScenario};
use super::{LoadSection, Use};
use fogg_core::error::Problem;
use fogg_core::suggest::did_you_mean;
use fogg_core::units::TimeUnit;
use fogg_model::alias::Target;
use fogg_model::change::{cannot_reach_exit, reachable_from};
use fogg_model::{
    Chain, Channel, MAX_CHANNELS, MAX_SEGMENTS, MAX_STAGES, MAX_STATES, Model, ModelParts, SegmentChain,
    Spend, State, Strategy,
};

/// The classic funnel, used when `[scenario] stages` is not given.
pub const DEFAULT_STAGES: [&str; 7] =
    ["awareness", "familiarity", "consideration", "decision", "purchase", "post-sale", "loyalty"];

/// Default cut-off for journeys (`[scenario] max_steps`).
pub const DEFAULT_MAX_STEPS: u32 = 1000;

/// Tolerance for segment shares summing to 1.
const SHARE_TOLERANCE: f64 = 1e-6;

/// What the compiler makes of a scenario file, before its text is attached.
pub(super) struct Compiled {
    pub(super) model: Model,
    pub(super) file_chain: Chain,
    pub(super) counts: Option<Chain>,
    pub(super) calendar: Option<fogg_core::calendar::Calendar>,
    pub(super) load: Option<LoadSection>,
    pub(super) strategies: Vec<Strategy>,
}

/// `[scenario]`'s run-wide settings, checked.
struct Settings {
    time_unit: TimeUnit,
    max_steps: u32,
    stages: Vec<String>,
    customers_per_period: Option<f64>,
}

/// States with their base rows (before segment multipliers), and where
/// journeys start.
struct Graph {
    states: Vec<State>,
    base_rows: Vec<Vec<(Target, f64)>>,
    base_entry: Vec<(Target, f64)>,
    entry_span: Option<Range<usize>>,
}

/// Compiles a parsed scenario. `text` is the file's text (for line
/// numbers), `source` its path or bundled name. For [`Use::Journeys`],
/// `[load]` is checked but its feeder files are not read and no
/// [`LoadSection`] is kept.
pub(super) fn compile(
    raw: RawScenario,
    text: &str,
    source: &str,
    purpose: Use,
) -> Result<Compiled, Vec<Problem>> {
    let mut cx = Cx { text, problems: Vec::new() };
    let settings = settings(&mut cx, &raw);
    let (channels, channel_index) = channels(&mut cx, &raw);
    let state_index = state_ids(&mut cx, &raw);
    let graph = graph(&mut cx, &raw, &settings.stages, &channel_index, &state_index);
    let specs = segments(&mut cx, &raw, &channel_index, &state_index);
    let load = raw
        .load
        .as_ref()
        .and_then(|l| {
            let read_feeders = purpose == Use::Traffic;
            super::compile_load::compile_load(
                &mut cx,
                l,
                &state_index,
                &graph.base_rows,
                source,
                read_feeders,
            )
        })
        .filter(|_| purpose == Use::Traffic);
    let calendar = raw
        .calendar
        .as_ref()
        .and_then(|c| super::compile_calendar::compile_calendar(&mut cx, c, &raw.scenario, &channels));
    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }

    let (segments, reached) = segment_chains(&mut cx, &raw, &graph, &specs);
    let file_chain = file_chain(&graph);
    let counts = counts(&mut cx, &raw, &graph);
    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }
    let warnings = warnings(&graph.states, &channels, &reached);
    let meta = &raw.scenario;
    let model = Model::new(ModelParts {
        name: meta.name.clone(),
        description: meta.description.clone(),
        source: source.to_owned(),
        currency: meta.currency.clone().unwrap_or_else(|| "EUR".to_owned()),
        time_unit: settings.time_unit,
        stages: settings.stages,
        channels,
        states: graph.states,
        segments,
        max_steps: settings.max_steps,
        warnings,
        period: meta.period.clone().unwrap_or_else(|| "period".to_owned()),
        customers_per_period: settings.customers_per_period,
    });
    if let (Some(c), Some(raw_calendar)) = (&calendar, &raw.calendar) {
        super::compile_calendar::check_flights(&mut cx, c, raw_calendar, &model);
    }
    let strategies = super::compile_strategy::compile_strategies(&mut cx, &raw.strategies, &model, &specs);
    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }
    Ok(Compiled { model, file_chain, counts, calendar, load, strategies })
}

/// The file's weights as probabilities, row by row, before any segment's
/// multipliers: what `fogg validate` shows.
fn file_chain(graph: &Graph) -> Chain {
    // The file's weights are finite (checked as read), so they never overflow.
    let probabilities = |row: &[(Target, f64)]| normalised(row.iter().copied()).unwrap_or_default();
    Chain {
        entry: probabilities(&graph.base_entry),
        next: graph.base_rows.iter().map(|r| probabilities(r)).collect(),
    }
}

/// The file's weights as they are, when `[scenario] weights = "counts"`
/// says they are observed counts: what the posterior draws of fitted
/// scenarios start from.
fn counts(cx: &mut Cx, raw: &RawScenario, graph: &Graph) -> Option<Chain> {
    let weights = raw.scenario.weights.as_ref()?;
    match weights.get_ref().as_str() {
        "weights" => None,
        "counts" if !raw.segments.is_empty() => {
            cx.problem(
                Some(&weights.span()),
                "scenario.weights",
                "weights = \"counts\" says the weights are observed counts, but [[segment]] tables reweight every row, so the counts are not the chain's",
                "remove `weights = \"counts\"`, or the [[segment]] tables",
            );
            None
        }
        "counts" => Some(Chain { entry: graph.base_entry.clone(), next: graph.base_rows.clone() }),
        other => {
            cx.problem(
                Some(&weights.span()),
                "scenario.weights",
                format!("'{other}' is not a kind of weights"),
                "use \"counts\" (observed counts, as fogg fit writes: fogg then says how sure the figures are) or \"weights\" (the default)",
            );
            None
        }
    }
}

/// `[scenario]`: time unit, journey cut-off, stages and the population of
/// a period.
fn settings(cx: &mut Cx, raw: &RawScenario) -> Settings {
    let meta = &raw.scenario;
    Settings {
        time_unit: time_unit(cx, meta),
        max_steps: max_steps(cx, meta),
        stages: stages(cx, meta),
        customers_per_period: customers_per_period(cx, raw),
    }
}

fn time_unit(cx: &mut Cx, meta: &RawMeta) -> TimeUnit {
    match &meta.time_unit {
        None => TimeUnit::Days,
        Some(u) => u.get_ref().parse().unwrap_or_else(|()| {
            let units: Vec<String> = TimeUnit::ALL.iter().map(|u| u.to_string()).collect();
            cx.problem(
                Some(&u.span()),
                "scenario.time_unit",
                format!("'{}' is not a time unit", u.get_ref()),
                format!("use one of: {}", units.join(", ")),
            );
            TimeUnit::Days
        }),
    }
}

fn max_steps(cx: &mut Cx, meta: &RawMeta) -> u32 {
    match &meta.max_steps {
        None => DEFAULT_MAX_STEPS,
        Some(m) if (1..=10_000_000).contains(m.get_ref()) => *m.get_ref() as u32,
        Some(m) => {
            cx.problem(
                Some(&m.span()),
                "scenario.max_steps",
                format!("max_steps is {}, outside 1..=10000000", m.get_ref()),
                format!("use a positive number of steps (the default is {DEFAULT_MAX_STEPS})"),
            );
            DEFAULT_MAX_STEPS
        }
    }
}

fn stages(cx: &mut Cx, meta: &RawMeta) -> Vec<String> {
    let Some(list) = &meta.stages else {
        return DEFAULT_STAGES.iter().map(|s| s.to_string()).collect();
    };
    let mut seen = HashSet::new();
    for s in list {
        if !seen.insert(s.get_ref().as_str()) {
            cx.problem(
                Some(&s.span()),
                "scenario.stages",
                format!("stage '{}' is listed twice", s.get_ref()),
                "list each stage once, in funnel order",
            );
        }
    }
    if list.is_empty() || list.len() > MAX_STAGES {
        cx.problem(
            None,
            "scenario.stages",
            format!("{} stages listed", list.len()),
            format!("list between 1 and {MAX_STAGES} stages, or remove the key for the classic funnel"),
        );
    }
    list.iter().map(|s| s.get_ref().clone()).collect()
}

fn customers_per_period(cx: &mut Cx, raw: &RawScenario) -> Option<f64> {
    match &raw.scenario.customers_per_period {
        Some(v) if !(v.get_ref().is_finite() && *v.get_ref() >= 1.0) => {
            cx.problem(
                Some(&v.span()),
                "scenario.customers_per_period",
                format!("customers_per_period is {}, but it must be at least 1", v.get_ref()),
                "give how many customers start a journey in a period at today's spend, e.g. 250000",
            );
            None
        }
        Some(v) => Some(*v.get_ref()),
        None => {
            if let Some(c) = raw.channels.iter().find_map(|c| c.spend.as_ref()) {
                cx.problem(
                    Some(&c.span()),
                    "scenario.customers_per_period",
                    "channels declare a spend per period, but the scenario does not say how many customers a period brings",
                    "add `customers_per_period = …` (and optionally `period = \"month\"`) to [scenario]",
                );
            }
            None
        }
    }
}

/// `[[channel]]`s, with an index from id to position.
fn channels<'r>(cx: &mut Cx, raw: &'r RawScenario) -> (Vec<Channel>, HashMap<&'r str, usize>) {
    let mut channel_index: HashMap<&str, usize> = HashMap::new();
    let mut channels = Vec::new();
    for (i, c) in raw.channels.iter().enumerate() {
        let key = format!("channel[{i}].id");
        if !cx.check_id("channel", &key, &c.id) {
            continue;
        }
        let id = c.id.get_ref().as_str();
        if channel_index.contains_key(id) {
            cx.problem(
                Some(&c.id.span()),
                key,
                format!("channel id '{id}' is used twice"),
                "give each [[channel]] its own id",
            );
            continue;
        }
        channel_index.insert(id, channels.len());
        let cost = match &c.cost_per_touch {
            None => 0.0,
            Some(v) => {
                let key = format!("channel.{id}.cost_per_touch");
                if cx.finite_non_negative(&key, v, "cost_per_touch") { *v.get_ref() } else { 0.0 }
            }
        };
        let spend = c.spend.as_ref().and_then(|sp| compile_spend(cx, id, sp));
        channels.push(Channel {
            id: id.to_owned(),
            label: c.label.clone(),
            kind: c.kind,
            cost_per_touch: cost,
            spend,
        });
    }
    if channels.is_empty() {
        cx.problem(None, "channel", "the scenario declares no channel", "add at least one [[channel]] table");
    }
    if channels.len() > MAX_CHANNELS {
        cx.problem(
            None,
            "channel",
            format!("{} channels declared", channels.len()),
            format!("use at most {MAX_CHANNELS}"),
        );
    }
    (channels, channel_index)
}

/// The states' ids, first, so that transitions can refer forward.
fn state_ids<'r>(cx: &mut Cx, raw: &'r RawScenario) -> HashMap<&'r str, usize> {
    let mut state_index: HashMap<&str, usize> = HashMap::new();
    for (i, s) in raw.states.iter().enumerate() {
        let key = format!("state[{i}].id");
        if !cx.check_id("state", &key, &s.id) {
            continue;
        }
        let id = s.id.get_ref().as_str();
        if state_index.contains_key(id) {
            cx.problem(
                Some(&s.id.span()),
                key,
                format!("state id '{id}' is used twice"),
                "give each [[state]] its own id",
            );
            continue;
        }
        state_index.insert(id, i);
    }
    if raw.states.is_empty() {
        cx.problem(None, "state", "the scenario declares no state", "add [[state]] tables (touchpoints)");
    }
    if raw.states.len() > MAX_STATES {
        cx.problem(
            None,
            "state",
            format!("{} states declared", raw.states.len()),
            format!("use at most {MAX_STATES}"),
        );
    }
    state_index
}

/// `[[state]]`s and `[entry]`: the chain before segment multipliers.
fn graph(
    cx: &mut Cx,
    raw: &RawScenario,
    stages: &[String],
    channel_index: &HashMap<&str, usize>,
    state_index: &HashMap<&str, usize>,
) -> Graph {
    let mut states = Vec::with_capacity(raw.states.len());
    let mut base_rows: Vec<Vec<(Target, f64)>> = Vec::with_capacity(raw.states.len());
    for s in &raw.states {
        if let Some(from) = &s.from {
            cx.problem(
                Some(&from.span()),
                format!("state.{}.from", s.id.get_ref()),
                "`from` is only for touchpoints a strategy adds ([[strategy.add]])",
                "write the transitions into this state in the `next` tables of the states before it",
            );
        }
        let (state, row) = compile_state(cx, s, stages, channel_index, state_index);
        base_rows.push(row);
        states.push(state);
    }
    let entry_span = raw.entry.as_ref().map(|e| e.span());
    let base_entry = match &raw.entry {
        Some(entry) if !entry.get_ref().is_empty() => {
            weights(cx, "entry", entry.get_ref(), false, state_index)
        }
        _ => {
            cx.problem(
                entry_span.as_ref(),
                "entry",
                "the entry distribution is missing or empty: no journey can start",
                "add an [entry] table with weights for the states where journeys start",
            );
            Vec::new()
        }
    };
    Graph { states, base_rows, base_entry, entry_span }
}

/// `[[segment]]`s and their multipliers; one segment `all` when none is
/// declared.
fn segments(
    cx: &mut Cx,
    raw: &RawScenario,
    channel_index: &HashMap<&str, usize>,
    state_index: &HashMap<&str, usize>,
) -> Vec<SegmentSpec> {
    if raw.segments.is_empty() {
        return vec![SegmentSpec {
            id: "all".to_owned(),
            label: None,
            share: 1.0,
            channel_mult: vec![1.0; channel_index.len()],
            state_mult: vec![1.0; raw.states.len()],
            exit_mult: 1.0,
        }];
    }
    let mut specs = Vec::new();
    let mut seen = HashSet::new();
    let mut total = 0.0;
    for (i, seg) in raw.segments.iter().enumerate() {
        let key = format!("segment[{i}].id");
        if !cx.check_id("segment", &key, &seg.id) {
            continue;
        }
        let id = seg.id.get_ref().as_str();
        if !seen.insert(id) {
            cx.problem(
                Some(&seg.id.span()),
                key,
                format!("segment id '{id}' is used twice"),
                "give each [[segment]] its own id",
            );
            continue;
        }
        let share = *seg.share.get_ref();
        if !(share > 0.0 && share <= 1.0) {
            cx.problem(
                Some(&seg.share.span()),
                format!("segment.{id}.share"),
                format!("share is {share}, but it must be in (0, 1]"),
                "give the segment's share of the population as a fraction, e.g. 0.3",
            );
        }
        total += share;
        let (channels, states) = (channel_index.len(), raw.states.len());
        let channel_mult = multipliers(
            cx,
            &format!("segment.{id}.channel_multiplier"),
            &seg.channel_multiplier,
            channel_index,
            channels,
            "channel",
        );
        let state_mult = multipliers(
            cx,
            &format!("segment.{id}.state_multiplier"),
            &seg.state_multiplier,
            state_index,
            states,
            "state",
        );
        let exit_mult = match &seg.exit_multiplier {
            Some(v) if cx.finite_non_negative(&format!("segment.{id}.exit_multiplier"), v, "multiplier") => {
                *v.get_ref()
            }
            _ => 1.0,
        };
        specs.push(SegmentSpec {
            id: id.to_owned(),
            label: seg.label.clone(),
            share,
            channel_mult,
            state_mult,
            exit_mult,
        });
    }
    if (total - 1.0).abs() > SHARE_TOLERANCE {
        cx.problem(
            raw.segments.first().map(|s| s.share.span()).as_ref(),
            "segment.*.share",
            format!("segment shares sum to {total}, not 1"),
            "adjust the shares so that they add up to 1",
        );
    }
    if raw.segments.len() > MAX_SEGMENTS {
        cx.problem(
            None,
            "segment",
            format!("{} segments declared", raw.segments.len()),
            format!("use at most {MAX_SEGMENTS}"),
        );
    }
    specs
}

/// A segment's multipliers of the `len` channels or states (`what`)
/// that `index` finds by id, 1 where none is given; unknown names and bad
/// numbers are problems.
fn multipliers(
    cx: &mut Cx,
    key: &str,
    given: &RawMultipliers,
    index: &HashMap<&str, usize>,
    len: usize,
    what: &str,
) -> Vec<f64> {
    let mut mult = vec![1.0; len];
    for (name, v) in given {
        let key = format!("{key}.{}", name.get_ref());
        match index.get(name.get_ref().as_str()) {
            Some(&i) if cx.finite_non_negative(&key, v, "multiplier") => mult[i] = *v.get_ref(),
            Some(_) => {}
            None => cx.problem(
                Some(&name.span()),
                key,
                format!("unknown {what} '{}'", name.get_ref()),
                did_you_mean(name.get_ref(), index.keys().copied()),
            ),
        }
    }
    mult
}

/// Applies each segment's multipliers, then checks every row and that the
/// exit can be reached from every state. Returns the chains and which
/// states some segment's journeys reach.
fn segment_chains(
    cx: &mut Cx,
    raw: &RawScenario,
    graph: &Graph,
    specs: &[SegmentSpec],
) -> (Vec<SegmentChain>, Vec<bool>) {
    let Graph { states, base_rows, base_entry, entry_span } = graph;
    let named_segments = !raw.segments.is_empty();
    let mut segments = Vec::with_capacity(specs.len());
    let mut stuck: HashSet<usize> = HashSet::new();
    let mut reached = vec![false; states.len()];
    for spec in specs {
        let in_segment = if named_segments { format!(" in segment '{}'", spec.id) } else { String::new() };
        // A weight that overflows once multiplied is reported; the row then
        // keeps the file's own weights so that nothing else is reported twice.
        let mut adjust = |row: &[(Target, f64)], key: String, span: Option<Range<usize>>| {
            spec.adjust(states, row, None).unwrap_or_else(|overflow| {
                cx.problem(span.as_ref(), key, overflow.message(states, &in_segment), Overflow::FIX);
                normalised(row.iter().copied()).unwrap_or_default()
            })
        };
        let entry = adjust(base_entry, "entry".to_owned(), entry_span.clone());
        let next: Vec<Vec<(Target, f64)>> = base_rows
            .iter()
            .enumerate()
            .map(|(i, r)| adjust(r, format!("state.{}.next", states[i].id), Some(raw.states[i].id.span())))
            .collect();
        if entry.is_empty() {
            cx.problem(
                entry_span.as_ref(),
                "entry",
                format!("every entry weight is 0{in_segment} once multipliers are applied"),
                "raise a multiplier of a state or channel the entry leads to",
            );
        }
        for (i, row) in next.iter().enumerate() {
            if row.is_empty() && !base_rows[i].is_empty() {
                cx.problem(
                    Some(&raw.states[i].id.span()),
                    format!("state.{}.next", states[i].id),
                    format!(
                        "every weight out of '{}' is 0{in_segment} once multipliers are applied",
                        states[i].id
                    ),
                    "raise a multiplier of a state or channel this state leads to",
                );
            }
        }
        for i in cannot_reach_exit(&next) {
            if stuck.insert(i) {
                cx.problem(
                    Some(&raw.states[i].id.span()),
                    format!("state.{}.next", states[i].id),
                    format!(
                        "from state '{}' the journey can never end{in_segment}: no path of positive weights leads to exit",
                        states[i].id
                    ),
                    "add an `exit` weight to this state or to a state it leads to",
                );
            }
        }
        for (i, r) in reachable_from(&entry, &next).into_iter().enumerate() {
            reached[i] |= r;
        }
        let chain = Chain { entry, next };
        if stuck.is_empty()
            && let Some(near) = chain.nearly_endless()
            && stuck.insert(near.state)
        {
            let id = &states[near.state].id;
            let how = if near.steps.is_finite() {
                format!("they would take more than {:.1e} steps on average", near.steps)
            } else {
                "their way out is lost in rounding".to_owned()
            };
            cx.problem(
                Some(&raw.states[near.state].id.span()),
                format!("state.{id}.next"),
                format!("journeys at state '{id}' practically never end{in_segment}: {how}, too many for exact values"),
                "give this state, or a state on its loop, an `exit` weight at least 1e-9 of its other weights",
            );
        }
        segments.push(SegmentChain {
            id: spec.id.clone(),
            label: spec.label.clone(),
            share: spec.share,
            chain,
        });
    }
    (segments, reached)
}

/// What is worth knowing but does not stop the model from running.
fn warnings(states: &[State], channels: &[Channel], reached: &[bool]) -> Vec<String> {
    /// Unreached states named one by one, then counted.
    const NAMED: usize = 10;
    let mut warnings = Vec::new();
    let unreached: Vec<&str> =
        states.iter().zip(reached).filter(|(_, r)| !**r).map(|(s, _)| s.id.as_str()).collect();
    for id in unreached.iter().take(NAMED) {
        warnings.push(format!("state '{id}' is never reached from the entry"));
    }
    if unreached.len() > NAMED {
        warnings
            .push(format!("… and {} more states are never reached from the entry", unreached.len() - NAMED));
    }
    for (c, ch) in channels.iter().enumerate() {
        if !states.iter().any(|s| s.channel.0 as usize == c) {
            warnings.push(format!("channel '{}' has no state", ch.id));
        }
    }
    if !states.iter().any(|s| s.conversion) {
        warnings.push("no state has `conversion = true`: every conversion figure will be 0".to_owned());
    }
    warnings
}

/// Reads a channel's `spend = { … }`.
fn compile_spend(cx: &mut Cx, channel: &str, raw: &Spanned<super::raw::RawSpend>) -> Option<Spend> {
    let sp = raw.get_ref();
    let key = |field: &str| format!("channel.{channel}.spend.{field}");
    let mut positive = |field: &str, v: &Spanned<f64>| {
        let x = *v.get_ref();
        if x.is_finite() && x > 0.0 {
            return true;
        }
        cx.problem(
            Some(&v.span()),
            key(field),
            format!("{field} is {x}, but it must be a number above 0"),
            format!("give the {field} as a positive number (spend in {channel}'s currency per period)"),
        );
        false
    };
    let mut ok = positive("baseline", &sp.baseline);
    ok &= positive("half_saturation", &sp.half_saturation);
    if let Some(slope) = &sp.slope {
        ok &= positive("slope", slope);
    }
    ok.then(|| Spend {
        baseline: *sp.baseline.get_ref(),
        half_saturation: *sp.half_saturation.get_ref(),
        slope: sp.slope.as_ref().map_or(1.0, |s| *s.get_ref()),
        drives: sp.drives,
    })
}
