//! Reading the scenario's TOML into [`RawScenario`] with every unknown key
//! reported at once, each with its line and the keys its table takes.
//!
//! serde stops at the first unknown key; here each one found is recorded,
//! removed from the parsed document and the document read again, so a
//! file with three typos gets three problems in one run.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::context::line_of;
use super::raw::RawScenario;
use fogg_core::error::{Problem, ScenarioError, cut};

/// What reading the TOML gave: the scenario, and the problems of its keys
/// and values, all of them.
pub(super) struct Read {
    /// The scenario as read, the keys and values in `problems` left out;
    /// `None` when leaving them out left it incomplete (a required value
    /// was wrong), so that checking it further would report what the
    /// removal caused rather than what the file says.
    pub raw: Option<RawScenario>,
    /// Unknown keys and wrong values, by line.
    pub problems: Vec<Problem>,
}

/// Reads the scenario's TOML. Unknown keys and wrong values come back as
/// problems, all of them, but not what only removing one caused (a
/// `missing field`).
/// A syntax error or a value over a length limit is an error at once.
pub(super) fn read(text: &str, source: &str) -> Result<Read, ScenarioError> {
    let syntax = |error| ScenarioError::Syntax { source_name: source.to_owned(), error: Box::new(error) };
    let mut document = DeTable::parse(text).map_err(|_| syntax(first_error(text)))?;
    let too_long = super::limits::check(document.get_ref(), text);
    if !too_long.is_empty() {
        return Err(ScenarioError::Invalid { source_name: source.to_owned(), problems: too_long });
    }
    let mut unknown = Vec::new();
    let mut wrong_values: Vec<Problem> = Vec::new();
    let mut removed_any = false;
    let mut complete = true;
    let mut raw = None;
    // Each pass removes one key or value, so this ends; the bound is a
    // second guard.
    for _ in 0..10_000 {
        let error = match RawScenario::deserialize(toml::de::Deserializer::from(document.clone())) {
            Ok(read) => {
                raw = Some(read);
                break;
            }
            Err(error) => error,
        };
        let Some(span) = error.span() else { break };
        if let Some((key, expected)) = unknown_key(&error)
            && let Some(path) = remove_key(document.get_mut(), &span, &key)
        {
            unknown.push(unknown_problem(text, &key, &expected, &span, &path));
        } else {
            // Remove the wrong value to look on for unknown keys.
            let Some(path) = path_to(document.get_ref(), &span, None) else { break };
            // Only a missing field can be what a removal caused.
            let caused_here = !removed_any || !error.message().starts_with("missing field");
            if caused_here {
                // serde's message repeats the wrong value, which may be long.
                let key = dotted(&path);
                let (message, fix) = wrong_value(&cut(error.message(), 500), &key);
                wrong_values.push(Problem { line: Some(line_of(text, &span)), key, message, fix });
            }
            // A missing field takes its whole table with it: what is left
            // is no longer the file's scenario. (A wrong value removed
            // where a default exists leaves it whole.)
            if error.message().starts_with("missing field") {
                complete = false;
            }
            if remove_path(document.get_mut(), &path).is_none() {
                break;
            }
        }
        removed_any = true;
    }
    if raw.is_none() && unknown.is_empty() {
        return Err(syntax(first_error(text)));
    }
    let mut problems: Vec<Problem> = unknown.into_iter().chain(wrong_values).collect();
    problems.sort_by_key(|p| p.line);
    Ok(Read { raw: raw.filter(|_| complete), problems })
}

/// serde's "invalid type: integer `20`, expected a string" in words,
/// with a fix for the key: Rust's type names (`f64`, `u32`) never reach
/// a person.
fn wrong_value(message: &str, key: &str) -> (String, String) {
    let general = "correct the value (see docs/scenario.md)".to_owned();
    let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|m| m.split_once(", expected "))
    else {
        return (message.to_owned(), general);
    };
    let found = match found.split_once(' ') {
        Some(("integer" | "floating", rest)) => {
            format!("the number {}", rest.trim_start_matches("point ").trim_matches('`'))
        }
        Some(("string", rest)) => format!("the text {rest}"),
        Some(("boolean", rest)) => rest.trim_matches('`').to_owned(),
        _ if found == "map" => "a table".to_owned(),
        _ if found == "sequence" => "a list".to_owned(),
        _ => found.to_owned(),
    };
    let expected = match expected {
        "a string" => "text in quotes",
        "f64" | "f32" | "a float" => "a number",
        "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" | "an integer" => "a whole number",
        "a boolean" => "true or false",
        "a sequence" => "a list [ … ]",
        e if e.starts_with("struct ") || e == "a map" => "a table { … }",
        e => e,
    };
    let last = key.rsplit('.').next().unwrap_or(key);
    let durations =
        ["duration", "timeout", "grace", "dwell", "think_time", "window", "half_life", "every", "value"];
    let fix = match expected {
        "text in quotes" if durations.iter().any(|d| last.contains(d)) => {
            "a duration is text with a unit, in quotes: e.g. \"20s\" or \"1m30s\"".to_owned()
        }
        "text in quotes" => "put the value in quotes".to_owned(),
        "a number" | "a whole number" if found.starts_with("the text") => {
            format!("write {expected} without quotes or units, e.g. 20")
        }
        _ => general,
    };
    (format!("{found}: expected {expected}"), fix)
}

/// The parser's own error for the text, rendered with line and caret.
fn first_error(text: &str) -> toml::de::Error {
    match toml::from_str::<RawScenario>(text) {
        Err(error) => error,
        // Unreachable in practice: the callers saw this text fail.
        Ok(_) => toml::from_str::<RawScenario>("").expect_err("an empty file has no [scenario]"),
    }
}

/// The key and the keys its table takes, from serde's "unknown field
/// `k`, expected one of `a`, `b`" (or "expected `a`", "there are no
/// fields").
fn unknown_key(error: &toml::de::Error) -> Option<(String, Vec<String>)> {
    let message = error.message();
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let expected = rest.split('`').skip(1).step_by(2).map(str::to_owned).collect();
    Some((key.to_owned(), expected))
}

/// Removes the key whose name sits at `span`; returns its dotted path
/// (`state.home.nxt`).
fn remove_key(table: &mut DeTable<'_>, span: &Range<usize>, key: &str) -> Option<String> {
    let path = path_to(table, span, Some(key))?;
    remove_path(table, &path)?;
    Some(dotted(&path))
}

fn remove_path(table: &mut DeTable<'_>, path: &[Step]) -> Option<()> {
    match path {
        [Step::Key(name)] => {
            let key = table.keys().find(|k| k.get_ref() == name).cloned()?;
            table.remove(&key).map(drop)
        }
        [Step::Key(name), rest @ ..] => {
            let (_, value) = table.iter_mut().find(|(k, _)| k.get_ref() == name)?;
            remove_in(value.get_mut(), rest)
        }
        _ => None,
    }
}

fn remove_in(value: &mut DeValue<'_>, path: &[Step]) -> Option<()> {
    match (value, path) {
        (DeValue::Table(table), _) => remove_path(table, path),
        (DeValue::Array(items), [Step::Item(index, _)]) if *index < items.len() => {
            // `DeArray` has no `remove`; rebuild it without the element.
            let mut kept = toml::de::DeArray::new();
            for (at, item) in items.iter().enumerate() {
                if at != *index {
                    kept.push(item.clone());
                }
            }
            *items = kept;
            Some(())
        }
        (DeValue::Array(items), [Step::Item(index, _), rest @ ..]) => {
            remove_in(items.get_mut(*index)?.get_mut(), rest)
        }
        _ => None,
    }
}

/// One step of a key path: a key, or an element of an array of tables
/// (its position, and its name in messages: its `id`, else the position).
#[derive(Debug)]
enum Step {
    Key(String),
    Item(usize, String),
}

fn dotted(path: &[Step]) -> String {
    let names: Vec<&str> = path
        .iter()
        .map(|s| match s {
            Step::Key(name) | Step::Item(_, name) => name.as_str(),
        })
        .collect();
    names.join(".")
}

/// The path to the key, or the value, at `span`. serde points at a whole
/// inline table (e.g. a `dwell = { dist = … }`) for an unknown key of it:
/// with `key` given, the path then goes on to that key.
fn path_to(table: &DeTable<'_>, span: &Range<usize>, key: Option<&str>) -> Option<Vec<Step>> {
    for (name, value) in table.iter() {
        let here = Step::Key(name.get_ref().to_string());
        // Deeper first: an array of tables shares its first `[[header]]`
        // span with its first element.
        if let Some(mut rest) = path_in_value(value, span, key) {
            rest.insert(0, here);
            return Some(rest);
        }
        if name.span() == *span {
            return Some(vec![here]);
        }
        if value.span() == *span {
            let inner = match (value.get_ref(), key) {
                (DeValue::Table(t), Some(key)) if t.keys().any(|k| k.get_ref() == key) => {
                    Some(Step::Key(key.to_owned()))
                }
                _ => None,
            };
            return Some(std::iter::once(here).chain(inner).collect());
        }
    }
    None
}

fn path_in_value(value: &Spanned<DeValue<'_>>, span: &Range<usize>, key: Option<&str>) -> Option<Vec<Step>> {
    match value.get_ref() {
        DeValue::Table(table) => path_to(table, span, key),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            let here = Step::Item(index, element_name(item, index));
            match path_in_value(item, span, key) {
                Some(mut rest) => {
                    rest.insert(0, here);
                    Some(rest)
                }
                // A table of an array of tables is pointed at by its
                // `[[header]]`, which starts its span.
                None => (item.span() == *span || item.span().start == span.start).then(|| vec![here]),
            }
        }),
        _ => None,
    }
}

/// An array element's name in a key path: its `id` when it has one.
fn element_name(item: &Spanned<DeValue<'_>>, index: usize) -> String {
    if let DeValue::Table(table) = item.get_ref() {
        let id = table.iter().find(|(k, _)| k.get_ref() == "id");
        if let Some((_, value)) = id
            && let DeValue::String(id) = value.get_ref()
        {
            return id.to_string();
        }
    }
    index.to_string()
}

fn unknown_problem(text: &str, key: &str, expected: &[String], span: &Range<usize>, path: &str) -> Problem {
    let table = path.rsplit_once('.').map_or("the top level", |(table, _)| table);
    // `[[state]]` and `[[strategy.add]]` share one shape, but only a
    // touchpoint a strategy adds takes `from`.
    let is_state = path.starts_with("state.");
    let known: Vec<&str> =
        expected.iter().map(String::as_str).filter(|k| !(is_state && *k == "from")).collect();
    let fix = if known.is_empty() {
        format!("remove it: {table} takes no keys")
    } else {
        format!("remove or rename it; {}", fogg_core::suggest::did_you_mean(key, known.into_iter()))
    };
    Problem {
        line: Some(line_of(text, span)),
        key: path.to_owned(),
        message: format!("unknown key '{key}'"),
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::wrong_value;

    /// serde's type names become words; the fix fits the key.
    #[test]
    fn wrong_types_are_said_in_words() {
        let said = |m: &str, key: &str| wrong_value(m, key);
        assert_eq!(
            said("invalid type: string \"fast\", expected f64", "load.profile.rate"),
            (
                "the text \"fast\": expected a number".to_owned(),
                "write a number without quotes or units, e.g. 20".to_owned()
            )
        );
        assert_eq!(
            said("invalid type: floating point `1.5`, expected a string", "state.home.dwell").1,
            "a duration is text with a unit, in quotes: e.g. \"20s\" or \"1m30s\""
        );
        assert_eq!(
            said("invalid type: boolean `true`, expected a string", "scenario.name"),
            ("true: expected text in quotes".to_owned(), "put the value in quotes".to_owned())
        );
        assert_eq!(
            said("invalid type: sequence, expected struct RawSpend", "channel.web.spend").0,
            "a list: expected a table { … }"
        );
        assert_eq!(said("something else", "k").0, "something else");
    }
}
