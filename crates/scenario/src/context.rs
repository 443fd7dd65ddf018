//! The compile context: the file's text (for line numbers) and every
//! problem found so far, with the checks each section of the file shares.

use std::ops::Range;

use toml::Spanned;

use fogg_core::error::Problem;

/// Collects problems while a scenario compiles; each names its key, the
/// line where the file says it, and a fix.
pub(super) struct Cx<'a> {
    pub(super) text: &'a str,
    pub(super) problems: Vec<Problem>,
}

/// The line of the file `text` where `span` starts, counted from 1.
pub(super) fn line_of(text: &str, span: &Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

impl Cx<'_> {
    /// Records a problem at `span` (or at no line).
    pub(super) fn problem(
        &mut self,
        span: Option<&Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let line = span.map(|s| line_of(self.text, s));
        self.problems.push(Problem { line, key: key.into(), message: message.into(), fix: fix.into() });
    }

    /// A duration above 0 (`"30s"`, `"6h"`), or `None` with the problem
    /// recorded; `example` is what the fix suggests writing.
    pub(super) fn positive_duration(&mut self, key: &str, v: &Spanned<String>, example: &str) -> Option<f64> {
        match fogg_core::units::parse_duration(v.get_ref()) {
            Ok(s) if s > 0.0 => Some(s),
            Ok(_) => {
                self.problem(
                    Some(&v.span()),
                    key,
                    "the duration must be greater than 0",
                    format!("write e.g. {example}"),
                );
                None
            }
            Err(e) => {
                self.problem(Some(&v.span()), key, e.to_string(), format!("write e.g. {example}"));
                None
            }
        }
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

    /// Checks that a number is finite and at least 0.
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
