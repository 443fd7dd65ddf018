//! Length limits on a scenario's strings, checked before anything is
//! read from them. Names (ids, labels, the currency, every table key) are
//! repeated in every row of every report, so they are short; other text
//! (request bodies, paths, descriptions) is sent or shown once, so it may
//! be long, but not without bound: a 20 MB currency once made a 760 MB
//! table and a 460 MB HTML page.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::context::line_of;
use fogg_core::error::{Problem, cut};

/// The longest name: an id, a label, a currency or a table key.
pub const MAX_NAME_CHARS: usize = 200;

/// The longest other text: a request body, a path, a description.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Keys whose string values are names.
const NAME_KEYS: [&str; 11] = [
    "id",
    "name",
    "label",
    "currency",
    "stage",
    "stages",
    "channel",
    "state",
    "time_unit",
    "period",
    "timezone",
];

/// Every string of `document` (of `text`) over its limit.
pub(super) fn check(document: &DeTable<'_>, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    walk_table(document, text, &mut Vec::new(), &mut problems);
    problems
}

fn walk_table(table: &DeTable<'_>, text: &str, path: &mut Vec<String>, problems: &mut Vec<Problem>) {
    for (key, value) in table.iter() {
        let name = key.get_ref();
        path.push(cut(name, 40));
        if name.chars().count() > MAX_NAME_CHARS {
            problems.push(too_long(
                text,
                key.span(),
                path,
                "key",
                name.chars().count(),
                MAX_NAME_CHARS,
                "characters",
            ));
        }
        walk_value(value, NAME_KEYS.contains(&name.as_ref()), text, path, problems);
        path.pop();
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    is_name: bool,
    text: &str,
    path: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) {
    match value.get_ref() {
        DeValue::String(s) => {
            let (length, limit, unit) = if is_name {
                (s.chars().count(), MAX_NAME_CHARS, "characters")
            } else {
                (s.len(), MAX_TEXT_BYTES, "bytes")
            };
            if length > limit {
                problems.push(too_long(text, value.span(), path, "value", length, limit, unit));
            }
        }
        DeValue::Table(table) => walk_table(table, text, path, problems),
        DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                walk_value(item, is_name, text, path, problems);
                path.pop();
            }
        }
        _ => {}
    }
}

fn too_long(
    text: &str,
    span: std::ops::Range<usize>,
    path: &[String],
    what: &str,
    length: usize,
    limit: usize,
    unit: &str,
) -> Problem {
    Problem {
        line: Some(line_of(text, &span)),
        key: path.join("."),
        message: format!("this {what} is {length} {unit} long; a scenario takes at most {limit}"),
        fix: "shorten it (names are repeated in every report row)".to_owned(),
    }
}
