//! Raw scenario → [`Model`], reporting every problem at once.
//!
//! Each check names the key path, the line where the file says it, and a
//! fix. Only when no problem is left is the model assembled.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;

use super::raw::{Quantity, RawDist, RawScenario, RawState, RawWeights};
use super::units::{TimeUnit, format_duration, parse_duration};
use crate::error::Problem;
use crate::model::alias::{EXIT, Target};
use crate::model::change::cannot_reach_exit;
use crate::model::{
    Chain, Channel, ChannelId, Dist, MAX_CHANNELS, MAX_SEGMENTS, MAX_STAGES, MAX_STATES, Model, Spend,
    StageId, State,
};

/// The classic funnel, used when `[scenario] stages` is not given.
pub const DEFAULT_STAGES: [&str; 7] =
    ["awareness", "familiarity", "consideration", "decision", "purchase", "post-sale", "loyalty"];

/// Default cut-off for journeys (`[scenario] max_steps`).
pub const DEFAULT_MAX_STEPS: u32 = 1000;

/// Tolerance for segment shares summing to 1.
const SHARE_TOLERANCE: f64 = 1e-6;

pub(super) struct Cx<'a> {
    text: &'a str,
    pub(super) problems: Vec<Problem>,
}

impl Cx<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())].matches('\n').count() + 1
    }

    pub(super) fn problem(
        &mut self,
        span: Option<&Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let line = span.map(|s| self.line(s));
        self.problems.push(Problem { line, key: key.into(), message: message.into(), fix: fix.into() });
    }

    /// Checks an id's spelling; returns false when unusable.
    pub(super) fn check_id(&mut self, what: &str, key: &str, id: &Spanned<String>) -> bool {
        let text = id.get_ref();
        let ok_chars = text.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if text.is_empty() || !ok_chars {
            self.problem(
                Some(&id.span()),
                key,
                format!(
                    "{what} id '{text}' is empty or has characters other than letters, digits, '_', '-', '.'"
                ),
                format!("rename it, e.g. '{}'", suggest_id(text)),
            );
            return false;
        }
        if text == "exit" {
            self.problem(
                Some(&id.span()),
                key,
                format!("'exit' is the built-in end of every journey and cannot be a {what} id"),
                format!("give the {what} another id"),
            );
            return false;
        }
        true
    }

    pub(super) fn finite_non_negative(&mut self, key: &str, v: &Spanned<f64>, what: &str) -> bool {
        let x = *v.get_ref();
        if x.is_finite() && x >= 0.0 {
            return true;
        }
        self.problem(
            Some(&v.span()),
            key,
            format!("{what} is {x}, but it must be a finite number of at least 0"),
            format!("write a {what} of 0 or more"),
        );
        false
    }
}

fn suggest_id(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-.".contains(c) { c.to_ascii_lowercase() } else { '_' })
        .collect();
    if s.is_empty() || s == "exit" { "my_id".to_owned() } else { s }
}

pub(crate) fn did_you_mean<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    let mut known: Vec<&str> = known.collect();
    let best = known
        .iter()
        .map(|k| (strsim::levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 3))
        .min();
    known.sort_unstable();
    let list = if known.len() > 12 {
        format!("{}, … ({} in all)", known[..12].join(", "), known.len())
    } else {
        known.join(", ")
    };
    match best {
        Some((_, k)) => format!("did you mean '{k}'? Known: {list}"),
        None => format!("known: {list}"),
    }
}

/// Compiles a parsed scenario. `text` is the file's text (for line
/// numbers), `source` its path or bundled name.
pub fn compile(raw: RawScenario, text: &str, source: &str) -> Result<Model, Vec<Problem>> {
    let mut cx = Cx { text, problems: Vec::new() };
    let meta = &raw.scenario;

    let time_unit = match &meta.time_unit {
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
    };

    let max_steps = match &meta.max_steps {
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
    };

    let stages: Vec<String> = match &meta.stages {
        None => DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
        Some(list) => {
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
                    format!(
                        "list between 1 and {MAX_STAGES} stages, or remove the key for the classic funnel"
                    ),
                );
            }
            list.iter().map(|s| s.get_ref().clone()).collect()
        }
    };

    // Channels.
    let mut channel_index: HashMap<&str, usize> = HashMap::new();
    let mut channels = Vec::new();
    for (i, c) in raw.channels.iter().enumerate() {
        let key = format!("channel[{i}].id");
        if !cx.check_id("channel", &key, &c.id) {
            continue;
        }
        let id = c.id.get_ref().as_str();
        if channel_index.insert(id, channels.len()).is_some() {
            cx.problem(
                Some(&c.id.span()),
                key,
                format!("channel id '{id}' is used twice"),
                "give each [[channel]] its own id",
            );
            continue;
        }
        let cost = match &c.cost_per_touch {
            None => 0.0,
            Some(v) => {
                let key = format!("channel.{id}.cost_per_touch");
                if cx.finite_non_negative(&key, v, "cost_per_touch") { *v.get_ref() } else { 0.0 }
            }
        };
        let spend = c.spend.as_ref().and_then(|sp| compile_spend(&mut cx, id, sp));
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

    // States, first their ids so that transitions can refer forward.
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
        let (state, row) = compile_state(&mut cx, s, &stages, &channel_index, &state_index);
        base_rows.push(row);
        states.push(state);
    }

    let entry_span = raw.entry.as_ref().map(|e| e.span());
    let base_entry = match &raw.entry {
        Some(entry) if !entry.get_ref().is_empty() => {
            weights(&mut cx, "entry", entry.get_ref(), false, &state_index)
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

    // Segments.
    let mut specs = Vec::new();
    if raw.segments.is_empty() {
        specs.push(SegmentSpec {
            id: "all".to_owned(),
            label: None,
            share: 1.0,
            channel_mult: vec![1.0; channels.len()],
            state_mult: vec![1.0; raw.states.len()],
            exit_mult: 1.0,
        });
    } else {
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
            let mut channel_mult = vec![1.0; channels.len()];
            for (name, v) in &seg.channel_multiplier {
                let key = format!("segment.{id}.channel_multiplier.{}", name.get_ref());
                match channel_index.get(name.get_ref().as_str()) {
                    Some(&c) if cx.finite_non_negative(&key, v, "multiplier") => {
                        channel_mult[c] = *v.get_ref()
                    }
                    Some(_) => {}
                    None => cx.problem(
                        Some(&name.span()),
                        key,
                        format!("unknown channel '{}'", name.get_ref()),
                        did_you_mean(name.get_ref(), channel_index.keys().copied()),
                    ),
                }
            }
            let mut state_mult = vec![1.0; raw.states.len()];
            for (name, v) in &seg.state_multiplier {
                let key = format!("segment.{id}.state_multiplier.{}", name.get_ref());
                match state_index.get(name.get_ref().as_str()) {
                    Some(&s) if cx.finite_non_negative(&key, v, "multiplier") => state_mult[s] = *v.get_ref(),
                    Some(_) => {}
                    None => cx.problem(
                        Some(&name.span()),
                        key,
                        format!("unknown state '{}'", name.get_ref()),
                        did_you_mean(name.get_ref(), state_index.keys().copied()),
                    ),
                }
            }
            let exit_mult = match &seg.exit_multiplier {
                Some(v)
                    if cx.finite_non_negative(&format!("segment.{id}.exit_multiplier"), v, "multiplier") =>
                {
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
    }

    let customers_per_period = match &meta.customers_per_period {
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
    };

    let load = raw
        .load
        .as_ref()
        .map(|l| super::compile_load::compile_load(&mut cx, l, &state_index, raw.states.len(), source));

    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }

    // Apply each segment's multipliers, then check every row and that the
    // exit can be reached from every state.
    let named_segments = !raw.segments.is_empty();
    let mut segments = Vec::with_capacity(specs.len());
    let mut stuck: HashSet<usize> = HashSet::new();
    let mut reached = vec![false; states.len()];
    for spec in &specs {
        let in_segment = if named_segments { format!(" in segment '{}'", spec.id) } else { String::new() };
        let adjust = |row: &[(Target, f64)]| spec.adjust(&states, row, None);
        let entry = adjust(&base_entry);
        if entry.is_empty() {
            cx.problem(
                entry_span.as_ref(),
                "entry",
                format!("every entry weight is 0{in_segment} once multipliers are applied"),
                "raise a multiplier of a state or channel the entry leads to",
            );
        }
        let next: Vec<Vec<(Target, f64)>> = base_rows.iter().map(|r| adjust(r)).collect();
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
        for i in reachable_from_entry(&entry, &next) {
            reached[i] = true;
        }
        segments.push((spec.id.clone(), spec.label.clone(), spec.share, Chain { entry, next }));
    }
    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }

    let mut warnings = Vec::new();
    for (i, s) in states.iter().enumerate() {
        if !reached[i] {
            warnings.push(format!("state '{}' is never reached from the entry", s.id));
        }
    }
    for (c, ch) in channels.iter().enumerate() {
        if !states.iter().any(|s| s.channel.0 as usize == c) {
            warnings.push(format!("channel '{}' has no state", ch.id));
        }
    }
    if !states.iter().any(|s| s.conversion) {
        warnings.push("no state has `conversion = true`: every conversion figure will be 0".to_owned());
    }

    let mut model = Model::assemble(
        meta.name.clone(),
        meta.description.clone(),
        source.to_owned(),
        meta.currency.clone().unwrap_or_else(|| "EUR".to_owned()),
        time_unit,
        stages,
        channels,
        states,
        segments,
        max_steps,
        warnings,
    );
    model.load = load.flatten();
    model.period = meta.period.clone().unwrap_or_else(|| "period".to_owned());
    model.customers_per_period = customers_per_period;
    model.strategies = super::compile_strategy::compile_strategies(&mut cx, &raw.strategies, &model, &specs);
    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }
    Ok(model)
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

/// A segment's multipliers, as read.
pub(super) struct SegmentSpec {
    id: String,
    label: Option<String>,
    share: f64,
    channel_mult: Vec<f64>,
    state_mult: Vec<f64>,
    exit_mult: f64,
}

impl SegmentSpec {
    /// A row of weights with the segment's multipliers applied, normalised
    /// (empty when every weight ends up 0). Targets past the scenario's
    /// states (touchpoints a strategy adds) take their channel's multiplier.
    pub(super) fn adjust(
        &self,
        states: &[State],
        row: &[(Target, f64)],
        added: Option<&State>,
    ) -> Vec<(Target, f64)> {
        let factor = |t: Target| {
            if t == EXIT {
                return self.exit_mult;
            }
            match states.get(t as usize) {
                Some(s) => self.state_mult[t as usize] * self.channel_mult[s.channel.0 as usize],
                None => added.map_or(1.0, |s| self.channel_mult[s.channel.0 as usize]),
            }
        };
        let adjusted: Vec<(Target, f64)> =
            row.iter().map(|&(t, w)| (t, w * factor(t))).filter(|&(_, w)| w > 0.0).collect();
        let total: f64 = adjusted.iter().map(|(_, w)| w).sum();
        adjusted.into_iter().map(|(t, w)| (t, w / total)).collect()
    }
}

/// Compiles one `[[state]]` (or `[[strategy.add]]`): the state and its
/// row of weights, before segment multipliers.
pub(super) fn compile_state(
    cx: &mut Cx,
    s: &RawState,
    stages: &[String],
    channel_index: &HashMap<&str, usize>,
    state_index: &HashMap<&str, usize>,
) -> (State, Vec<(Target, f64)>) {
    let id = s.id.get_ref().as_str();
    let at = |field: &str| format!("state.{id}.{field}");
    let stage = match stages.iter().position(|st| st == s.stage.get_ref()) {
        Some(p) => StageId(p as u8),
        None => {
            cx.problem(
                Some(&s.stage.span()),
                at("stage"),
                format!("unknown stage '{}'", s.stage.get_ref()),
                format!(
                    "use a stage of the funnel or list it in [scenario] stages; {}",
                    did_you_mean(s.stage.get_ref(), stages.iter().map(String::as_str))
                ),
            );
            StageId(0)
        }
    };
    let channel = match channel_index.get(s.channel.get_ref().as_str()) {
        Some(&c) => ChannelId(c as u8),
        None => {
            cx.problem(
                Some(&s.channel.span()),
                at("channel"),
                format!("unknown channel '{}'", s.channel.get_ref()),
                format!(
                    "declare it as a [[channel]] or use one that is; {}",
                    did_you_mean(s.channel.get_ref(), channel_index.keys().copied())
                ),
            );
            ChannelId(0)
        }
    };
    let value = match (&s.value, s.conversion) {
        (Some(v), true) => compile_dist(cx, &at("value"), v, QuantityKind::Money),
        (None, true) => Dist::constant(0.0, "0".to_owned()).ok(),
        (Some(v), false) => {
            cx.problem(
                Some(&v.span()),
                at("value"),
                "a value is given but the state is not a conversion",
                "add `conversion = true`, or remove the value",
            );
            None
        }
        (None, false) => None,
    };
    let dwell = match &s.dwell {
        Some(d) => compile_dist(cx, &at("dwell"), d, QuantityKind::Duration),
        None => Dist::constant(0.0, "0s".to_owned()).ok(),
    };
    let row = match &s.next {
        Some(next) => weights(cx, &at("next"), next.get_ref(), true, state_index),
        None => {
            cx.problem(
                Some(&s.id.span()),
                at("next"),
                format!("state '{id}' has no `next` table, so its journeys have nowhere to go"),
                "add e.g. `next = { exit = 1 }` or weights towards other states",
            );
            Vec::new()
        }
    };
    let state = State {
        id: id.to_owned(),
        label: s.label.clone(),
        stage,
        channel,
        conversion: s.conversion,
        value,
        dwell: dwell.unwrap_or_else(|| Dist::constant(0.0, String::new()).expect("0 is valid")),
    };
    (state, row)
}

/// Reads a weight table. Zero weights are dropped; a table whose weights
/// are all zero is a problem.
pub(super) fn weights(
    cx: &mut Cx,
    key: &str,
    map: &RawWeights,
    allow_exit: bool,
    state_index: &HashMap<&str, usize>,
) -> Vec<(Target, f64)> {
    let mut row = Vec::new();
    let mut all_valid = true;
    for (name, w) in map {
        let entry_key = format!("{key}.{}", name.get_ref());
        let target = if name.get_ref() == "exit" {
            if !allow_exit {
                cx.problem(
                    Some(&name.span()),
                    entry_key,
                    "a journey cannot start at exit",
                    "remove `exit` from [entry]",
                );
                all_valid = false;
                continue;
            }
            EXIT
        } else if let Some(&i) = state_index.get(name.get_ref().as_str()) {
            i as Target
        } else {
            cx.problem(
                Some(&name.span()),
                entry_key,
                format!("unknown state '{}'", name.get_ref()),
                format!(
                    "declare it as a [[state]], or use `exit` to end the journey; {}",
                    did_you_mean(name.get_ref(), state_index.keys().copied())
                ),
            );
            all_valid = false;
            continue;
        };
        if !cx.finite_non_negative(&entry_key, w, "weight") {
            all_valid = false;
            continue;
        }
        if *w.get_ref() > 0.0 {
            row.push((target, *w.get_ref()));
        }
    }
    if row.is_empty() && all_valid && !map.is_empty() {
        cx.problem(
            map.keys().next().map(|k| k.span()).as_ref(),
            key,
            "every weight is 0, so the probabilities cannot be normalised",
            "give at least one target a positive weight (weights are normalised per row)",
        );
    } else if map.is_empty() {
        let line = None;
        cx.problem(line, key, "the table is empty", "add weights, e.g. `{ exit = 1 }`");
    }
    row
}

fn reachable_from_entry(entry: &[(Target, f64)], next: &[Vec<(Target, f64)>]) -> Vec<usize> {
    let mut seen = vec![false; next.len()];
    let mut queue: Vec<usize> = entry.iter().map(|&(t, _)| t as usize).collect();
    while let Some(i) = queue.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        queue.extend(next[i].iter().filter(|(t, _)| *t != EXIT).map(|&(t, _)| t as usize));
    }
    (0..next.len()).filter(|&i| seen[i]).collect()
}

#[derive(Clone, Copy)]
pub(super) enum QuantityKind {
    Duration,
    Money,
}

pub(super) fn compile_dist(
    cx: &mut Cx,
    key: &str,
    raw: &Spanned<RawDist>,
    kind: QuantityKind,
) -> Option<Dist> {
    let span = raw.span();
    let fail = |cx: &mut Cx, msg: String| {
        let fix = match kind {
            QuantityKind::Duration => {
                "durations are strings with a unit, e.g. { dist = \"lognormal\", median = \"2h\", p90 = \"1d\" }"
            }
            QuantityKind::Money => {
                "values are plain numbers, e.g. { dist = \"lognormal\", median = 45.0, p90 = 120.0 }"
            }
        };
        cx.problem(Some(&span), key, msg, fix);
        None
    };
    let q = |field: &str, v: &Quantity| -> Result<(f64, String), String> {
        match (kind, v) {
            (QuantityKind::Duration, Quantity::Text(t)) => {
                parse_duration(t).map(|s| (s, format_duration(s))).map_err(|e| format!("{field}: {e}"))
            }
            (QuantityKind::Duration, Quantity::Number(n)) => {
                Err(format!("{field} = {n} has no unit: write it as a string such as \"{n}s\" or \"{n}h\""))
            }
            (QuantityKind::Money, Quantity::Number(n)) => Ok((*n, trim_number(*n))),
            (QuantityKind::Money, Quantity::Text(t)) => {
                Err(format!("{field} = \"{t}\" must be a plain number"))
            }
        }
    };
    let built = (|| match raw.get_ref() {
        RawDist::Constant { value } => {
            let (v, s) = q("value", value)?;
            Dist::constant(v, s)
        }
        RawDist::Exponential { mean } => {
            let (m, s) = q("mean", mean)?;
            Dist::exponential(m, format!("exponential(mean {s})"))
        }
        RawDist::LogNormal { median, p90 } => {
            let (m, ms) = q("median", median)?;
            let (p, ps) = q("p90", p90)?;
            Dist::lognormal(m, p, format!("lognormal(median {ms}, p90 {ps})"))
        }
        RawDist::Gamma { mean, shape } => {
            let (m, s) = q("mean", mean)?;
            Dist::gamma(m, *shape, format!("gamma(mean {s}, shape {})", trim_number(*shape)))
        }
        RawDist::Weibull { scale, shape } => {
            let (m, s) = q("scale", scale)?;
            Dist::weibull(m, *shape, format!("weibull(scale {s}, shape {})", trim_number(*shape)))
        }
        RawDist::Uniform { min, max } => {
            let (a, sa) = q("min", min)?;
            let (b, sb) = q("max", max)?;
            Dist::uniform(a, b, format!("uniform({sa} to {sb})"))
        }
    })();
    match built {
        Ok(d) => Some(d),
        Err(msg) => fail(cx, msg),
    }
}

fn trim_number(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
