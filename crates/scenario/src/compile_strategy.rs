//! `[[strategy]]` → [`Strategy`]: changes parsed against the compiled
//! model, touchpoints compiled like states, and every strategy applied
//! once so that a change that cannot hold is reported with its line.

use std::collections::{HashMap, HashSet};

use super::context::Cx;
use super::parts::{SegmentSpec, compile_state, weights};
use super::raw::{RawState, RawStrategy};
use crate::change_text::parse_change;
use fogg_model::change::{Change, NEW_STATE, Strategy, Touchpoint};
use fogg_model::{Model, StateId};

/// The id the unchanged model goes by in reports.
pub const BASELINE: &str = "baseline";

/// Compiles the scenario's strategies; problems go to `cx`.
pub(super) fn compile_strategies(
    cx: &mut Cx,
    raw: &[RawStrategy],
    model: &Model,
    specs: &[SegmentSpec],
) -> Vec<Strategy> {
    let names = Names {
        channels: model.channels.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect(),
        states: model.states.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect(),
    };
    let mut seen = HashSet::new();
    let mut strategies = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let key = format!("strategy[{i}].id");
        if !cx.check_id("strategy", &key, &r.id) {
            continue;
        }
        let id = r.id.get_ref().as_str();
        if id == BASELINE || !seen.insert(id) {
            cx.problem(
                Some(&r.id.span()),
                key,
                format!("strategy id '{id}' is used twice (or is the reserved '{BASELINE}')"),
                "give each [[strategy]] its own id",
            );
            continue;
        }
        let before = cx.problems.len();
        let mut changes = Vec::new();
        let mut written = Vec::new();
        for add in &r.add {
            if let Some((change, text)) = touchpoint(cx, id, add, model, specs, &names) {
                changes.push(change);
                written.push(text);
            }
        }
        for text in &r.changes {
            match parse_change(text.get_ref(), model) {
                Ok(change) => {
                    changes.push(change);
                    written.push(text.get_ref().split_whitespace().collect::<Vec<_>>().join(" "));
                }
                Err(e) => cx.problem(Some(&text.span()), format!("strategy.{id}.changes"), e.message, e.fix),
            }
        }
        if cx.problems.len() == before && holds(cx, r, &changes, model) {
            strategies.push(Strategy {
                id: id.to_owned(),
                description: r.description.clone(),
                changes,
                written,
            });
        }
    }
    strategies
}

/// Indexes of the scenario's channel and state ids.
struct Names<'a> {
    channels: HashMap<&'a str, usize>,
    states: HashMap<&'a str, usize>,
}

/// Whether strategy `r`'s `changes` change something and can be applied.
fn holds(cx: &mut Cx, r: &RawStrategy, changes: &[Change], model: &Model) -> bool {
    let id = r.id.get_ref();
    if changes.is_empty() {
        cx.problem(
            Some(&r.id.span()),
            format!("strategy.{id}"),
            format!("strategy '{id}' changes nothing"),
            "add `changes = [\"spend social +20%\"]` or a [[strategy.add]] touchpoint",
        );
        return false;
    }
    if let Err(e) = model.apply(changes) {
        cx.problem(
            Some(&r.id.span()),
            format!("strategy.{id}"),
            e.to_string(),
            "change the strategy so that it can hold",
        );
        return false;
    }
    true
}

/// Strategy `id`'s added touchpoint `add`: the change, and how it reads.
fn touchpoint(
    cx: &mut Cx,
    id: &str,
    add: &RawState,
    model: &Model,
    specs: &[SegmentSpec],
    names: &Names,
) -> Option<(Change, String)> {
    let at = |field: &str| format!("strategy.{id}.add.{}.{field}", add.id.get_ref());
    if !cx.check_id("state", &at("id"), &add.id) {
        return None;
    }
    let new_id = add.id.get_ref().as_str();
    if names.states.contains_key(new_id) {
        cx.problem(
            Some(&add.id.span()),
            at("id"),
            format!("the scenario already has a state '{new_id}'"),
            "give the added touchpoint a new id",
        );
        return None;
    }
    let mut index = names.states.clone();
    index.insert(new_id, NEW_STATE as usize);
    let (state, row) = compile_state(cx, add, &model.stages, &names.channels, &index);
    let from = touchpoint_from(cx, &at("from"), add, &names.states)?;
    let mut rows = Vec::with_capacity(specs.len());
    for spec in specs {
        match spec.adjust(&model.states, &row, Some(&state)) {
            Ok(r) => rows.push(r),
            Err(overflow) => {
                let in_segment = format!(" in segment '{}'", spec.id);
                cx.problem(
                    Some(&add.id.span()),
                    at("next"),
                    overflow.message(&model.states, &in_segment),
                    super::parts::Overflow::FIX,
                );
                return None;
            }
        }
    }
    if rows.iter().any(|r| r.is_empty()) && !row.is_empty() {
        cx.problem(
            Some(&add.id.span()),
            at("next"),
            format!("every weight out of '{new_id}' is 0 in some segment once multipliers are applied"),
            "give it an `exit` weight or a target every segment can reach",
        );
    }
    let shares: Vec<String> =
        from.iter().map(|(s, p)| format!("{:.0}% of {}", p * 100.0, model.states[s.0 as usize].id)).collect();
    let text =
        format!("add {new_id} ({}) from {}", model.channels[state.channel.0 as usize].id, shares.join(", "));
    Some((Change::Add(Box::new(Touchpoint { state, rows, from })), text))
}

/// The `from` of an added touchpoint: which states lead to it, and with
/// what probability.
fn touchpoint_from(
    cx: &mut Cx,
    key: &str,
    add: &RawState,
    states: &HashMap<&str, usize>,
) -> Option<Vec<(StateId, f64)>> {
    let Some(raw_from) = &add.from else {
        cx.problem(
            Some(&add.id.span()),
            key.to_owned(),
            format!("touchpoint '{}' has no `from`, so no journey would reach it", add.id.get_ref()),
            "add e.g. `from = { web_cart = 0.1 }`: 10% of journeys leaving web_cart go to it",
        );
        return None;
    };
    let mut from = Vec::new();
    for (t, p) in weights(cx, key, raw_from.get_ref(), false, states) {
        if p >= 1.0 {
            cx.problem(
                Some(&raw_from.span()),
                key.to_owned(),
                format!("a `from` probability of {p} leaves nothing for the state's other transitions"),
                "give each `from` entry a probability below 1, e.g. 0.1",
            );
        }
        from.push((StateId(t), p));
    }
    Some(from)
}
