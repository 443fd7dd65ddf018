//! The one-line change syntax of `--change` and of `[[strategy]] changes`.
//!
//! ```text
//! spend CHANNEL LEVEL             LEVEL: +30%  -20%  x1.5  +5000  -5000  =26000
//! remove CHANNEL
//! transition FROM -> TO AMOUNT    AMOUNT: x1.5  +30%  -20%  =0.3  =30%
//! conversion STATE FACTOR         FACTOR: x1.2  +20%  -10%
//! segment SEGMENT AMOUNT
//! ```
//!
//! Touchpoints are added in the scenario (`[[strategy.add]]`): a state
//! needs more than one line says.

use std::fmt;

use fogg_core::suggest::did_you_mean;
use fogg_model::alias::{EXIT, Target};
use fogg_model::change::{Amount, Change, SpendLevel, Strategy};
use fogg_model::{ChannelId, Model, SegmentId, StateId};

/// The forms a change can take, for error messages.
pub const FORMS: &str = "spend CHANNEL +30%|-20%|x1.5|+5000|=26000, remove CHANNEL, transition FROM -> TO x1.5|=0.3, conversion STATE +20%, segment SEGMENT =0.4|x1.2";

/// Why a change does not parse, and how to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}; {}", self.message, self.fix)
    }
}

impl std::error::Error for SyntaxError {}

fn err(message: impl Into<String>, fix: impl Into<String>) -> SyntaxError {
    SyntaxError { message: message.into(), fix: fix.into() }
}

/// The changes of `--change`, as the strategy `change`; the error names
/// the option that does not parse.
pub fn change_strategy(texts: &[String], model: &Model) -> anyhow::Result<Strategy> {
    let changes = texts
        .iter()
        .map(|text| parse_change(text, model).map_err(|e| anyhow::anyhow!("--change '{text}': {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Strategy {
        id: "change".to_owned(),
        description: Some("the --change options".to_owned()),
        changes,
        written: texts.iter().map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")).collect(),
    })
}

/// Parses one change against the names of `model`.
pub fn parse_change(text: &str, model: &Model) -> Result<Change, SyntaxError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let usage = |form: &str| err(format!("'{text}' is not a change"), format!("write it as `{form}`"));
    match words.as_slice() {
        ["spend", channel, level] => {
            Ok(Change::Spend { channel: channel_of(model, channel)?, level: spend_level(level, text)? })
        }
        ["spend", ..] => Err(usage("spend CHANNEL +30%|-20%|x1.5|+5000|=26000")),
        ["remove", channel] => Ok(Change::Remove { channel: channel_of(model, channel)? }),
        ["remove", ..] => Err(usage("remove CHANNEL")),
        ["transition", from, "->", to, amount] => Ok(Change::Transition {
            from: state_of(model, from)?,
            to: if *to == "exit" { EXIT } else { state_of(model, to)?.0 as Target },
            amount: amount_of(amount, text, true)?,
        }),
        ["transition", ..] => Err(usage("transition FROM -> TO x1.5|+30%|=0.3")),
        ["conversion", state, factor] => match amount_of(factor, text, false)? {
            Amount::Scale(factor) => Ok(Change::Conversion { state: state_of(model, state)?, factor }),
            Amount::Set(_) => Err(usage("conversion STATE +20%|x1.2")),
        },
        ["conversion", ..] => Err(usage("conversion STATE +20%|x1.2")),
        ["segment", segment, amount] => Ok(Change::Segment {
            segment: segment_of(model, segment)?,
            amount: amount_of(amount, text, true)?,
        }),
        ["segment", ..] => Err(usage("segment SEGMENT =0.4|x1.2")),
        ["add", ..] => Err(err(
            format!("'{text}': a touchpoint cannot be added from one line"),
            "add it in a [[strategy.add]] table of the scenario (docs/whatif.md)",
        )),
        _ => Err(err(format!("'{text}' is not a change"), format!("the forms are: {FORMS}"))),
    }
}

fn channel_of(model: &Model, id: &str) -> Result<ChannelId, SyntaxError> {
    model.channel_id(id).ok_or_else(|| {
        err(format!("unknown channel '{id}'"), did_you_mean(id, model.channels.iter().map(|c| c.id.as_str())))
    })
}

fn state_of(model: &Model, id: &str) -> Result<StateId, SyntaxError> {
    model.state_id(id).ok_or_else(|| {
        err(format!("unknown state '{id}'"), did_you_mean(id, model.states.iter().map(|s| s.id.as_str())))
    })
}

fn segment_of(model: &Model, id: &str) -> Result<SegmentId, SyntaxError> {
    model.segment_id(id).ok_or_else(|| {
        err(format!("unknown segment '{id}'"), did_you_mean(id, model.segments.iter().map(|s| s.id.as_str())))
    })
}

fn number(s: &str, text: &str) -> Result<f64, SyntaxError> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(err(format!("'{s}' in '{text}' is not a number"), "write e.g. 1.5, 30% or 5000")),
    }
}

/// `+30%` / `-20%` (a factor), `x1.5`, or with `set`: `=0.3` / `=30%`.
fn amount_of(s: &str, text: &str, set: bool) -> Result<Amount, SyntaxError> {
    let factor = if let Some(f) = s.strip_prefix('x').or_else(|| s.strip_prefix('×')) {
        number(f, text)?
    } else if let Some(p) = s.strip_suffix('%').filter(|p| p.starts_with(['+', '-'])) {
        1.0 + number(p, text)? / 100.0
    } else if let Some(v) = s.strip_prefix('=').filter(|_| set) {
        let v = match v.strip_suffix('%') {
            Some(p) => number(p, text)? / 100.0,
            None => number(v, text)?,
        };
        return Ok(Amount::Set(v));
    } else {
        let forms = if set { "x1.5, +30%, -20% or =0.3" } else { "x1.2, +20% or -10%" };
        return Err(err(format!("'{s}' in '{text}' is not an amount"), format!("write {forms}")));
    };
    if factor < 0.0 {
        return Err(err(
            format!("'{s}' in '{text}' would make a probability negative"),
            "use a factor of 0 or more",
        ));
    }
    Ok(Amount::Scale(factor))
}

/// `+30%` / `-20%` / `x1.5` (factors), `+5000` / `-5000` (amounts), `=26000`.
fn spend_level(s: &str, text: &str) -> Result<SpendLevel, SyntaxError> {
    if let Some(v) = s.strip_prefix('=') {
        return Ok(SpendLevel::Absolute(number(v, text)?));
    }
    if s.ends_with('%') || s.starts_with(['x', '×']) {
        return match amount_of(s, text, false)? {
            Amount::Scale(f) => Ok(SpendLevel::Factor(f)),
            Amount::Set(v) => Ok(SpendLevel::Absolute(v)),
        };
    }
    if s.starts_with(['+', '-']) {
        return Ok(SpendLevel::Delta(number(s, text)?));
    }
    Err(err(
        format!("'{s}' in '{text}' is not a spend level"),
        "write +30%, -20%, x1.5, +5000, -5000 or =26000",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        crate::load(None, crate::Use::Journeys).unwrap().model
    }

    #[test]
    fn parses_every_form() {
        let m = model();
        let social = m.channel_id("social").unwrap();
        assert!(matches!(
            parse_change("spend social +30%", &m).unwrap(),
            Change::Spend { channel, level: SpendLevel::Factor(f) } if channel == social && (f - 1.3).abs() < 1e-12
        ));
        assert!(matches!(
            parse_change("spend social -5000", &m).unwrap(),
            Change::Spend { level: SpendLevel::Delta(d), .. } if d == -5000.0
        ));
        assert!(matches!(
            parse_change("spend social =0", &m).unwrap(),
            Change::Spend { level: SpendLevel::Absolute(d), .. } if d == 0.0
        ));
        assert!(matches!(parse_change("remove print", &m).unwrap(), Change::Remove { .. }));
        assert!(matches!(
            parse_change("transition web_cart -> exit =30%", &m).unwrap(),
            Change::Transition { to: EXIT, amount: Amount::Set(p), .. } if (p - 0.3).abs() < 1e-12
        ));
        assert!(matches!(
            parse_change("conversion web_cart x1.2", &m).unwrap(),
            Change::Conversion { factor, .. } if (factor - 1.2).abs() < 1e-12
        ));
        assert!(matches!(
            parse_change("segment mobile_first =0.5", &m).unwrap(),
            Change::Segment { amount: Amount::Set(s), .. } if s == 0.5
        ));
    }

    #[test]
    fn bad_changes_say_what_and_how() {
        let m = model();
        let e = parse_change("spend socail +30%", &m).unwrap_err();
        assert!(
            e.message.contains("unknown channel 'socail'") && e.fix.contains("did you mean 'social'"),
            "{e}"
        );
        let e = parse_change("spend social lots", &m).unwrap_err();
        assert!(e.message.contains("'lots'"), "{e}");
        let e = parse_change("conversion web_cart =0.5", &m).unwrap_err();
        assert!(e.message.contains("not an amount") && e.fix.contains("x1.2"), "{e}");
        let e = parse_change("double everything", &m).unwrap_err();
        assert!(e.fix.contains("spend CHANNEL"), "{e}");
    }
}
