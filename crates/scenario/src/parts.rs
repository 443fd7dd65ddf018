//! The pieces every section of a scenario compiles the same way: states
//! and their weight rows, distributions, and segment multipliers. The
//! base scenario and `[[strategy.add]]` share them; `[load]` shares
//! distributions.

use std::collections::HashMap;

use toml::Spanned;

use super::context::Cx;
use super::raw::{Quantity, RawDist, RawState, RawWeights};
use fogg_core::suggest::did_you_mean;
use fogg_core::units::{MAX_DURATION_S, format_duration, parse_duration};
use fogg_model::MAX_VALUE;
use fogg_model::alias::{EXIT, Target};
use fogg_model::{ChannelId, Dist, StageId, State};

/// A segment's multipliers, as read.
pub(super) struct SegmentSpec {
    pub(super) id: String,
    pub(super) label: Option<String>,
    pub(super) share: f64,
    pub(super) channel_mult: Vec<f64>,
    pub(super) state_mult: Vec<f64>,
    pub(super) exit_mult: f64,
}

impl SegmentSpec {
    /// A row of weights with the segment's multipliers applied, normalised
    /// (empty when every weight ends up 0). Targets past the scenario's
    /// states (touchpoints a strategy adds) take their channel's multiplier.
    /// Fails with the target whose weight × multiplier overflows.
    pub(super) fn adjust(
        &self,
        states: &[State],
        row: &[(Target, f64)],
        added: Option<&State>,
    ) -> Result<Vec<(Target, f64)>, Overflow> {
        let factor = |t: Target| {
            if t == EXIT {
                return self.exit_mult;
            }
            match states.get(t as usize) {
                Some(s) => self.state_mult[t as usize] * self.channel_mult[s.channel.0 as usize],
                None => added.map_or(1.0, |s| self.channel_mult[s.channel.0 as usize]),
            }
        };
        normalised(row.iter().map(|&(t, w)| (t, w * factor(t))))
    }
}

/// A weight that is no longer a finite number once multiplied: its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Overflow(pub(super) Target);

impl Overflow {
    /// How to stay within range.
    pub(super) const FIX: &str = "only the ratios of weights matter: use smaller weights or multipliers";

    /// The problem, naming the target; `in_segment` is ` in segment 'ID'`
    /// or empty.
    pub(super) fn message(self, states: &[State], in_segment: &str) -> String {
        let target = if self.0 == EXIT {
            "exit"
        } else {
            states.get(self.0 as usize).map_or("the added touchpoint", |s| &s.id)
        };
        format!(
            "the weight of '{target}'{in_segment} overflows (goes beyond {:e}) once multiplied by the segment's multipliers",
            f64::MAX
        )
    }
}

/// Weights as probabilities: the positive ones, each over their sum
/// (empty when none is positive). When the sum of finite weights
/// overflows, they are scaled by the largest first (`1e308` twice is
/// 50/50); a weight that is not finite fails.
pub(super) fn normalised(row: impl Iterator<Item = (Target, f64)>) -> Result<Vec<(Target, f64)>, Overflow> {
    let positive: Vec<(Target, f64)> = row.filter(|&(_, w)| w > 0.0).collect();
    if let Some(&(t, _)) = positive.iter().find(|(_, w)| !w.is_finite()) {
        return Err(Overflow(t));
    }
    let total: f64 = positive.iter().map(|(_, w)| w).sum();
    if total.is_finite() {
        return Ok(positive.into_iter().map(|(t, w)| (t, w / total)).collect());
    }
    let largest = positive.iter().fold(0.0_f64, |m, &(_, w)| m.max(w));
    let total: f64 = positive.iter().map(|(_, w)| w / largest).sum();
    Ok(positive.into_iter().map(|(t, w)| (t, w / largest / total)).collect())
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

/// What a distribution measures: durations carry units, money does not.
#[derive(Clone, Copy)]
pub(super) enum QuantityKind {
    Duration,
    Money,
}

/// Compiles a distribution of durations or of money.
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
    let q = |field: &'static str, v: &Quantity| match (kind, v) {
        (QuantityKind::Duration, Quantity::Text(t)) => parse_duration(t)
            .map(|s| (s, format_duration(s)))
            .map_err(|source| DistText::Duration { field, source }),
        (QuantityKind::Duration, Quantity::Number(n)) => Err(DistText::NoUnit { field, n: *n }),
        (QuantityKind::Money, Quantity::Number(n)) => Ok((*n, trim_number(*n))),
        (QuantityKind::Money, Quantity::Text(t)) => Err(DistText::NotPlain { field, text: t.clone() }),
    };
    let built = (|| -> Result<Dist, DistText> {
        match raw.get_ref() {
            RawDist::Constant { value } => {
                let (v, s) = q("value", value)?;
                Ok(Dist::constant(v, s)?)
            }
            RawDist::Exponential { mean } => {
                let (m, s) = q("mean", mean)?;
                Ok(Dist::exponential(m, format!("exponential(mean {s})"))?)
            }
            RawDist::LogNormal { median, p90 } => {
                let (m, ms) = q("median", median)?;
                let (p, ps) = q("p90", p90)?;
                Ok(Dist::lognormal(m, p, format!("lognormal(median {ms}, p90 {ps})"))?)
            }
            RawDist::Gamma { mean, shape } => {
                let (m, s) = q("mean", mean)?;
                Ok(Dist::gamma(m, *shape, format!("gamma(mean {s}, shape {})", trim_number(*shape)))?)
            }
            RawDist::Weibull { scale, shape } => {
                let (m, s) = q("scale", scale)?;
                Ok(Dist::weibull(m, *shape, format!("weibull(scale {s}, shape {})", trim_number(*shape)))?)
            }
            RawDist::Uniform { min, max } => {
                let (a, sa) = q("min", min)?;
                let (b, sb) = q("max", max)?;
                Ok(Dist::uniform(a, b, format!("uniform({sa} to {sb})"))?)
            }
        }
    })();
    match built {
        Ok(d) => match kind {
            QuantityKind::Money if d.mean().is_nan() || d.mean() > MAX_VALUE => {
                cx.problem(
                    Some(&span),
                    key,
                    format!(
                        "the mean of {} is {:e}, beyond the largest value of one conversion fogg sums exactly ({MAX_VALUE:e})",
                        d.description(),
                        d.mean()
                    ),
                    "give values in the scenario's currency per conversion; a heavy tail (a Weibull shape far below 1, a p90 far above the median) can make the mean infinite",
                );
                None
            }
            QuantityKind::Duration if d.mean().is_nan() || d.mean() > MAX_DURATION_S => {
                cx.problem(
                    Some(&span),
                    key,
                    format!("the mean of {} is beyond 100 years", d.description()),
                    "a heavy tail (a Weibull shape far below 1, a p90 far above the median) can make the mean infinite: use a lighter one",
                );
                None
            }
            _ => Some(d),
        },
        Err(e) => fail(cx, e.to_string()),
    }
}

/// Why a distribution's text does not describe one.
#[derive(Debug, thiserror::Error)]
enum DistText {
    /// A duration field that is not a duration.
    #[error("{field}: {source}")]
    Duration { field: &'static str, source: fogg_core::units::DurationError },
    /// A duration field given as a bare number.
    #[error("{field} = {n} has no unit: write it as a string such as \"{n}s\" or \"{n}h\"")]
    NoUnit { field: &'static str, n: f64 },
    /// A money field given as text.
    #[error("{field} = \"{text}\" must be a plain number")]
    NotPlain { field: &'static str, text: String },
    /// Parameters that make no distribution.
    #[error(transparent)]
    Dist(#[from] fogg_model::dist::DistError),
}

/// A number as a person writes it: at most four decimals, and in
/// exponent form when that would hide it (`1e308`, `1e-300`).
fn trim_number(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e12).contains(&x.abs()) {
        return format!("{x:e}");
    }
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
