//! Errors callers can act on. Everything else uses `anyhow` with context.

use std::fmt;
use std::path::PathBuf;

/// One problem found in a scenario file, with where it is and how to fix
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// Key path, e.g. `state.web_product.next.web_cart`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}\n    fix: {}", self.key, self.message, self.fix)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario '{}'", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Neither a file nor a bundled scenario has that name.
    #[error(
        "no scenario '{name}'{hint}: there is no such file, and the bundled scenarios are {}",
        bundled.join(", ")
    )]
    NotFound {
        /// What was asked for.
        name: String,
        /// ` (did you mean 'NAME'?)` for a near bundled name, else empty.
        hint: String,
        /// Names of the bundled scenarios.
        bundled: Vec<&'static str>,
    },
    /// A folder was named where a scenario file belongs.
    #[error("'{}' is a folder: give a scenario file (.toml) or a bundled scenario's name", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
    },
    /// The TOML does not parse, or does not match the scenario format
    /// (unknown key, wrong type). The TOML error shows line and column.
    #[error("scenario '{source_name}' is not a valid scenario file:\n{}", lines_cut(.error))]
    Syntax {
        /// Path or bundled name.
        source_name: String,
        /// The parser's message, with line, column and a caret.
        error: Box<toml::de::Error>,
    },
    /// A command that sends traffic was given a scenario without `[load]`.
    #[error(
        "scenario '{source_name}' has no [load] section: add one that maps states to requests (see docs/scenario.md, \"Load mode\")"
    )]
    NoLoad {
        /// Path or bundled name.
        source_name: String,
    },
    /// The file parses but describes an invalid model.
    #[error("{}", render_problems(source_name, problems))]
    Invalid {
        /// Path or bundled name.
        source_name: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// Problems listed one by one; the rest are counted, so a file with
/// thousands of mistakes (a generated one) gives a readable error, not
/// megabytes of it.
pub const PROBLEMS_LISTED: usize = 100;

fn render_problems(source: &str, problems: &[Problem]) -> String {
    let count = match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    let mut out = format!("scenario '{source}' has {count}:");
    for p in problems.iter().take(PROBLEMS_LISTED) {
        let place = match p.line {
            Some(line) => format!("{source}:{line}"),
            None => source.to_owned(),
        };
        out.push_str(&format!("\n  {place}: {p}"));
    }
    if problems.len() > PROBLEMS_LISTED {
        out.push_str(&format!(
            "\n  … and {} more problems, not listed: fix these first",
            problems.len() - PROBLEMS_LISTED
        ));
    }
    out
}

/// The parser's message with each line cut at 300 characters: it quotes
/// the line and the wrong value, which may be megabytes long.
fn lines_cut(error: &toml::de::Error) -> String {
    let text = error.to_string();
    let cut: Vec<String> = text.lines().map(|line| cut(line, 300)).collect();
    cut.join("\n")
}

/// `text` cut after `most` characters, with `…` when it was longer: for
/// a message that quotes what a user gave, which may be megabytes long.
pub fn cut(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
