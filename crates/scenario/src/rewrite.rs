//! New spend curves written into scenario text, keeping everything else
//! (comments, order, spacing) as the user wrote it.

use std::path::{Component, Path, PathBuf};

use toml_edit::{DocumentMut, Item, Value};

/// A channel's calibrated curve and the comment that says where it came
/// from.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveEdit {
    /// The channel's id.
    pub channel: String,
    /// The new `half_saturation`.
    pub half_saturation: f64,
    /// The new `slope`, when it was fitted.
    pub slope: Option<f64>,
    /// Comment lines written above the channel's `spend` (without `#`).
    pub comment: Vec<String>,
}

/// What starts every comment line a calibration writes; an older
/// calibration's lines are replaced, not piled up.
pub const MARK: &str = "# fogg calibrate:";

/// Why a scenario's text could not be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// The text does not parse.
    #[error("the scenario is not TOML: {0}")]
    NotToml(#[from] toml_edit::TomlError),
    /// No `[[channel]]` at all.
    #[error("the scenario has no [[channel]] tables")]
    NoChannels,
    /// No channel of the edit's id.
    #[error("no [[channel]] has id = \"{0}\"")]
    NoChannel(String),
    /// The channel has no `spend` to set a curve in.
    #[error("channel '{0}' has no spend")]
    NoSpend(String),
    /// `spend` is a plain value.
    #[error("channel '{0}': spend is not a table")]
    SpendNotATable(String),
    /// The output's folder does not exist or cannot be read.
    #[error("the folder of '{}': {source}", output.display())]
    OutputFolder {
        /// The output file.
        output: PathBuf,
        /// Why its folder could not be resolved.
        source: std::io::Error,
    },
}

/// `text` with each edit's curve set and its comment written above the
/// channel's `spend`.
pub fn with_curves(text: &str, edits: &[CurveEdit]) -> Result<String, RewriteError> {
    let mut doc: DocumentMut = text.parse()?;
    let channels =
        doc.get_mut("channel").and_then(Item::as_array_of_tables_mut).ok_or(RewriteError::NoChannels)?;
    for edit in edits {
        let table = channels
            .iter_mut()
            .find(|t| t.get("id").and_then(Item::as_str) == Some(edit.channel.as_str()))
            .ok_or_else(|| RewriteError::NoChannel(edit.channel.clone()))?;
        let spend = table.get_mut("spend").ok_or_else(|| RewriteError::NoSpend(edit.channel.clone()))?;
        let set = |key: &str, x: f64, spend: &mut Item| -> Result<(), RewriteError> {
            let fresh = number(x);
            match spend {
                Item::Value(Value::InlineTable(t)) => match t.get_mut(key) {
                    Some(v) => replace_keeping_decor(v, fresh),
                    None => {
                        // The space before `}` moves to the new last value.
                        let mut closing = None;
                        if let Some((_, last)) = t.iter_mut().last() {
                            closing = last.decor().suffix().cloned();
                            last.decor_mut().set_suffix("");
                        }
                        let suffix = closing.as_ref().and_then(|s| s.as_str()).unwrap_or(" ").to_owned();
                        t.insert(key, fresh.decorated(" ", suffix));
                    }
                },
                Item::Table(t) => match t.get_mut(key).and_then(Item::as_value_mut) {
                    Some(v) => replace_keeping_decor(v, fresh),
                    None => {
                        t.insert(key, Item::Value(fresh));
                    }
                },
                _ => return Err(RewriteError::SpendNotATable(edit.channel.clone())),
            }
            Ok(())
        };
        set("half_saturation", edit.half_saturation, spend)?;
        if let Some(slope) = edit.slope {
            set("slope", slope, spend)?;
        }
        let comment: String = edit.comment.iter().map(|line| format!("{MARK} {line}\n")).collect();
        if let Some(Item::Table(t)) = table.get_mut("spend") {
            comment_above(t.decor_mut(), &comment);
        } else if let Some(mut key) = table.key_mut("spend") {
            comment_above(key.leaf_decor_mut(), &comment);
        }
    }
    Ok(doc.to_string())
}

/// `text`, read from `source` and to be written as `output`, with each
/// relative feeder `file` made relative to the output's folder, so the
/// copy reads the same CSV files. Returns the text and a warning for each
/// feeder whose file is not on disk (a bundled scenario's, built into
/// fogg).
pub fn with_feeders_for(
    text: &str,
    source: &Path,
    output: &Path,
) -> Result<(String, Vec<String>), RewriteError> {
    let folder =
        |p: &Path| p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let (from, to) = (folder(source), folder(output));
    let to = to
        .canonicalize()
        .map_err(|source| RewriteError::OutputFolder { output: output.to_owned(), source })?;
    let mut doc: DocumentMut = text.parse()?;
    let mut warnings = Vec::new();
    let feeders =
        doc.get_mut("load").and_then(|l| l.get_mut("feeder")).and_then(Item::as_array_of_tables_mut);
    for feeder in feeders.into_iter().flat_map(|f| f.iter_mut()) {
        let Some(value) = feeder.get_mut("file").and_then(Item::as_value_mut) else { continue };
        let Some(file) = value.as_str().map(PathBuf::from) else { continue };
        if file.is_absolute() {
            continue;
        }
        match from.join(&file).canonicalize() {
            Ok(original) => {
                let moved = relative(&to, &original);
                if moved != file {
                    replace_keeping_decor(value, Value::from(moved.to_string_lossy().into_owned()));
                }
            }
            Err(_) => warnings.push(format!(
                "the feeder file '{}' is not on disk beside '{}' (a bundled scenario's is built into fogg): put a copy beside '{}' before `fogg load` with it",
                file.display(),
                source.display(),
                output.display()
            )),
        }
    }
    Ok((doc.to_string(), warnings))
}

/// `target` as a path from the folder `base` (both canonical).
fn relative(base: &Path, target: &Path) -> PathBuf {
    let (b, t): (Vec<Component>, Vec<Component>) =
        (base.components().collect(), target.components().collect());
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out: PathBuf = b[common..].iter().map(|_| Component::ParentDir).collect();
    out.extend(&t[common..]);
    out
}

/// `comment` written last above an item, in place of an older
/// calibration's.
fn comment_above(decor: &mut toml_edit::Decor, comment: &str) {
    let kept: String = decor
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .split_inclusive('\n')
        .filter(|line| !line.trim_start().starts_with(MARK))
        .collect();
    decor.set_prefix(format!("{kept}{comment}"));
}

/// `fresh` in place of `value`, with the spaces and comment around it kept.
fn replace_keeping_decor(value: &mut Value, fresh: Value) {
    let decor = value.decor().clone();
    *value = fresh;
    *value.decor_mut() = decor;
}

/// A TOML number with six significant digits: an integer when it is one.
fn number(x: f64) -> Value {
    let digits = 6 - 1 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    let rounded = if digits >= 0 {
        (x * scale).round() / scale
    } else {
        (x / 10f64.powi(-digits)).round() * 10f64.powi(-digits)
    };
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        Value::from(rounded as i64)
    } else {
        Value::from(rounded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# My shop
[[channel]]
id = "social"   # paid social
kind = "online"
# what social costs
spend = { baseline = 9000, half_saturation = 12000, drives = "acquisition" }   # agency fee included

[[channel]]
id = "email"
kind = "online"

[channel.spend]
baseline = 4000
half_saturation = 2000   # a guess
slope = 1
drives = "incremental"
"#;

    fn edit(channel: &str, k: f64, slope: Option<f64>) -> CurveEdit {
        CurveEdit { channel: channel.into(), half_saturation: k, slope, comment: vec!["from a test".into()] }
    }

    #[test]
    fn curves_change_and_everything_else_stays() {
        let out = with_curves(
            TEXT,
            &[edit("social", 19_987.123_4, Some(1.234_567_8)), edit("email", 2_500.0, None)],
        )
        .expect("rewrites");
        assert!(out.contains("# My shop\n"), "{out}");
        assert!(out.contains("id = \"social\"   # paid social"), "{out}");
        assert!(
            out.contains(
                "# what social costs\n# fogg calibrate: from a test\nspend = { baseline = 9000, half_saturation = 19987.1, drives = \"acquisition\", slope = 1.23457 }   # agency fee included"
            ),
            "{out}"
        );
        assert!(out.contains("# fogg calibrate: from a test\n[channel.spend]"), "{out}");
        assert!(out.contains("half_saturation = 2500   # a guess"), "{out}");
        assert!(out.contains("slope = 1\n"), "{out}");
        // A second calibration replaces the first one's comment.
        let again = with_curves(&out, &[edit("social", 20_000.0, None)]).expect("rewrites");
        assert_eq!(again.matches(MARK).count(), 2, "{again}");
        assert!(again.contains("half_saturation = 20000,"), "{again}");
    }

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/c/f.csv")), PathBuf::from("../c/f.csv"));
        assert_eq!(relative(Path::new("/a"), Path::new("/a/f.csv")), PathBuf::from("f.csv"));
    }

    #[test]
    fn a_missing_channel_says_so() {
        assert!(
            with_curves(TEXT, &[edit("print", 1.0, None)])
                .unwrap_err()
                .to_string()
                .contains("id = \"print\"")
        );
    }
}
