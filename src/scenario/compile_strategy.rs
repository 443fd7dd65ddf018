//! `[[strategy]]` → [`Strategy`]: changes parsed against the compiled
//! model, touchpoints compiled like states, and every strategy applied
//! once so that a change that cannot hold is reported with its line.

use std::collections::{HashMap, HashSet};

use super::context::Cx;
use super::parts::{SegmentSpec, compile_state, weights};
use super::raw::RawStrategy;
use crate::model::change::{Change, NEW_STATE, Strategy, Touchpoint};
use crate::model::{Model, StateId};
use crate::scenario::change_text::parse_change;

/// The id the unchanged model goes by in reports.
pub const BASELINE: &str = "baseline";

/// Compiles the scenario's strategies; problems go to `cx`.
pub(super) fn compile_strategies(
    cx: &mut Cx,
    raw: &[RawStrategy],
    model: &Model,
    specs: &[SegmentSpec],
) -> Vec<Strategy> {
    let channel_index: HashMap<&str, usize> =
        model.channels.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let base_index: HashMap<&str, usize> =
        model.states.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
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
            let at = |field: &str| format!("strategy.{id}.add.{}.{field}", add.id.get_ref());
            if !cx.check_id("state", &at("id"), &add.id) {
                continue;
            }
            let new_id = add.id.get_ref().as_str();
            if base_index.contains_key(new_id) {
                cx.problem(
                    Some(&add.id.span()),
                    at("id"),
                    format!("the scenario already has a state '{new_id}'"),
                    "give the added touchpoint a new id",
                );
                continue;
            }
            let mut index = base_index.clone();
            index.insert(new_id, NEW_STATE as usize);
            let (state, row) = compile_state(cx, add, &model.stages, &channel_index, &index);
            let Some(raw_from) = &add.from else {
                cx.problem(
                    Some(&add.id.span()),
                    at("from"),
                    format!("touchpoint '{new_id}' has no `from`, so no journey would reach it"),
                    "add e.g. `from = { web_cart = 0.1 }`: 10% of journeys leaving web_cart go to it",
                );
                continue;
            };
            let mut from = Vec::new();
            for (t, p) in weights(cx, &at("from"), raw_from.get_ref(), false, &base_index) {
                if p >= 1.0 {
                    cx.problem(
                        Some(&raw_from.span()),
                        at("from"),
                        format!(
                            "a `from` probability of {p} leaves nothing for the state's other transitions"
                        ),
                        "give each `from` entry a probability below 1, e.g. 0.1",
                    );
                }
                from.push((StateId(t), p));
            }
            let rows: Vec<_> =
                specs.iter().map(|spec| spec.adjust(&model.states, &row, Some(&state))).collect();
            if rows.iter().any(|r| r.is_empty()) && !row.is_empty() {
                cx.problem(
                    Some(&add.id.span()),
                    at("next"),
                    format!(
                        "every weight out of '{new_id}' is 0 in some segment once multipliers are applied"
                    ),
                    "give it an `exit` weight or a target every segment can reach",
                );
            }
            let shares: Vec<String> = from
                .iter()
                .map(|(s, p)| format!("{:.0}% of {}", p * 100.0, model.states[s.0 as usize].id))
                .collect();
            written.push(format!(
                "add {new_id} ({}) from {}",
                model.channels[state.channel.0 as usize].id,
                shares.join(", ")
            ));
            changes.push(Change::Add(Box::new(Touchpoint { state, rows, from })));
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
        if cx.problems.len() > before {
            continue;
        }
        if changes.is_empty() {
            cx.problem(
                Some(&r.id.span()),
                format!("strategy.{id}"),
                format!("strategy '{id}' changes nothing"),
                "add `changes = [\"spend social +20%\"]` or a [[strategy.add]] touchpoint",
            );
            continue;
        }
        if let Err(e) = model.apply(&changes) {
            cx.problem(
                Some(&r.id.span()),
                format!("strategy.{id}"),
                e,
                "change the strategy so that it can hold",
            );
            continue;
        }
        strategies.push(Strategy { id: id.to_owned(), description: r.description.clone(), changes, written });
    }
    strategies
}
