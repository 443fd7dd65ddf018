//! Rule-based attribution: each path's conversions and value split over
//! its touches, as written (repeats included), by a fixed rule.

use super::Paths;

/// A rule that splits a path's credit over its touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// All to the first touch.
    FirstTouch,
    /// All to the last touch.
    LastTouch,
    /// Equally to every touch.
    Linear,
    /// U-shaped: the first and last touches get their weights, the touches
    /// between share the rest equally.
    PositionBased,
    /// All to the last touch whose channel is not direct; to the last
    /// touch when every touch is direct.
    LastNonDirect,
}

impl Rule {
    /// Every rule, in the order reports list them.
    pub const ALL: [Rule; 5] =
        [Rule::FirstTouch, Rule::LastTouch, Rule::Linear, Rule::PositionBased, Rule::LastNonDirect];
}

/// What the position-based rule gives the first and the last touch; the
/// touches between share the rest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionWeights {
    /// The first touch's share (0.4 by default).
    pub first: f64,
    /// The share of the touches between, split equally (0.2 by default).
    pub middle: f64,
    /// The last touch's share (0.4 by default).
    pub last: f64,
}

impl Default for PositionWeights {
    fn default() -> PositionWeights {
        PositionWeights { first: 0.4, middle: 0.2, last: 0.4 }
    }
}

/// Text that is not three percentages adding up to 100.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a U shape: give the first, middle and last touches' percentages, adding up to 100, e.g. 40,20,40"
)]
pub struct PositionWeightsError(pub String);

impl PositionWeights {
    /// Reads `FIRST,MIDDLE,LAST` in percent, e.g. `40,20,40`, which must add
    /// up to 100.
    pub fn parse(text: &str) -> Result<PositionWeights, PositionWeightsError> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let numbers: Option<Vec<f64>> =
            parts.iter().map(|p| p.trim_end_matches('%').parse::<f64>().ok()).collect();
        match numbers.as_deref() {
            Some(&[first, middle, last])
                if [first, middle, last].iter().all(|w| w.is_finite() && *w >= 0.0)
                    && (first + middle + last - 100.0).abs() < 1e-9 =>
            {
                Ok(PositionWeights { first: first / 100.0, middle: middle / 100.0, last: last / 100.0 })
            }
            _ => Err(PositionWeightsError(text.to_owned())),
        }
    }
}

/// How the rules are set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleOptions {
    /// The position-based rule's weights.
    pub position: PositionWeights,
    /// The channels (indices into `Paths::channels`) that count as direct
    /// for the last-non-direct rule.
    pub direct: Vec<u32>,
}

/// A rule's credit per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCredit {
    /// The rule.
    pub rule: Rule,
    /// Conversions credited to each channel; they add up to the paths'.
    pub conversions: Vec<f64>,
    /// Value credited to each channel; it adds up to the paths'.
    pub value: Vec<f64>,
}

/// Each rule's credit of `paths`, in the order of [`Rule::ALL`].
pub fn credit(paths: &Paths, options: &RuleOptions) -> Vec<RuleCredit> {
    let n = paths.channels.len();
    let mut credits: Vec<RuleCredit> = Rule::ALL
        .iter()
        .map(|&rule| RuleCredit { rule, conversions: vec![0.0; n], value: vec![0.0; n] })
        .collect();
    for row in &paths.rows {
        let touches = &row.channels;
        if touches.is_empty() || (row.conversions == 0.0 && row.value == 0.0) {
            continue;
        }
        for credit in &mut credits {
            let mut give = |at: usize, weight: f64| {
                let c = touches[at] as usize;
                credit.conversions[c] += weight * row.conversions;
                credit.value[c] += weight * row.value;
            };
            let last = touches.len() - 1;
            match credit.rule {
                Rule::FirstTouch => give(0, 1.0),
                Rule::LastTouch => give(last, 1.0),
                Rule::Linear => (0..=last).for_each(|at| give(at, 1.0 / touches.len() as f64)),
                Rule::PositionBased => position_based(touches.len(), &options.position, give),
                Rule::LastNonDirect => {
                    let at = (0..=last).rev().find(|&at| !options.direct.contains(&touches[at]));
                    give(at.unwrap_or(last), 1.0);
                }
            }
        }
    }
    credits
}

/// Splits one path of `touches` touches by the U shape: one touch takes
/// all; two split the first and last weights in their proportion; more
/// give the first and last their weights and the others the rest equally.
fn position_based(touches: usize, weights: &PositionWeights, mut give: impl FnMut(usize, f64)) {
    match touches {
        0 => {}
        1 => give(0, 1.0),
        2 => {
            let ends = weights.first + weights.last;
            let first = if ends > 0.0 { weights.first / ends } else { 0.5 };
            give(0, first);
            give(1, 1.0 - first);
        }
        _ => {
            give(0, weights.first);
            give(touches - 1, weights.last);
            let middle = weights.middle / (touches - 2) as f64;
            (1..touches - 1).for_each(|at| give(at, middle));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::PathFormat;

    fn paths(text: &str) -> Paths {
        let text = format!("path;total_conversions;total_conversion_value;total_null\n{text}");
        Paths::parse(text.as_bytes(), &PathFormat::default()).unwrap()
    }

    fn by_rule(credits: &[RuleCredit], rule: Rule) -> &RuleCredit {
        credits.iter().find(|c| c.rule == rule).unwrap()
    }

    #[test]
    fn each_rule_on_hand_computed_paths() {
        // Channels: a 0, direct 1, b 2, c 3.
        let p =
            paths("a > direct > b > c;10;1000;5\ndirect > direct;2;20;0\na > b;4;40;1\nc;1;7;0\nb;0;0;9\n");
        let options = RuleOptions { position: PositionWeights::default(), direct: vec![1] };
        let credits = credit(&p, &options);
        let close = |got: &[f64], want: &[f64]| {
            assert!(got.iter().zip(want).all(|(x, y)| (x - y).abs() < 1e-9), "{got:?} vs {want:?}")
        };
        close(&by_rule(&credits, Rule::FirstTouch).conversions, &[14.0, 2.0, 0.0, 1.0]);
        close(&by_rule(&credits, Rule::LastTouch).conversions, &[0.0, 2.0, 4.0, 11.0]);
        close(&by_rule(&credits, Rule::Linear).conversions, &[2.5 + 2.0, 2.5 + 2.0, 2.5 + 2.0, 2.5 + 1.0]);
        // 4 touches: 40% / 10% / 10% / 40%; 2 touches: half each; 1: all.
        close(
            &by_rule(&credits, Rule::PositionBased).conversions,
            &[4.0 + 2.0, 1.0 + 2.0, 1.0 + 2.0, 4.0 + 1.0],
        );
        close(
            &by_rule(&credits, Rule::PositionBased).value,
            &[400.0 + 20.0, 100.0 + 20.0, 100.0 + 20.0, 400.0 + 7.0],
        );
        // The last non-direct touch; all-direct paths keep their last touch.
        close(&by_rule(&credits, Rule::LastNonDirect).conversions, &[0.0, 2.0, 4.0, 11.0]);
        let p = paths("a > b > direct;3;30;0\n");
        let options = RuleOptions { direct: vec![2], ..options };
        close(&by_rule(&credit(&p, &options), Rule::LastNonDirect).conversions, &[0.0, 3.0, 0.0]);
        // Every rule credits every conversion and every unit of value.
        for c in &credits {
            assert!((c.conversions.iter().sum::<f64>() - 17.0).abs() < 1e-9, "{c:?}");
            assert!((c.value.iter().sum::<f64>() - 1067.0).abs() < 1e-9, "{c:?}");
        }
    }

    #[test]
    fn u_shapes_are_read_in_percent() {
        assert_eq!(PositionWeights::parse("40,20,40"), Ok(PositionWeights::default()));
        let w = PositionWeights::parse(" 30%, 30%, 40% ").unwrap();
        assert!(
            (w.first - 0.3).abs() < 1e-12 && (w.last - 0.4).abs() < 1e-12 && (w.middle - 0.3).abs() < 1e-12
        );
        for bad in ["40,20", "50,20,40", "a,b,c", "-10,70,40", "40;20;40"] {
            assert!(
                PositionWeights::parse(bad).unwrap_err().to_string().contains("adding up to 100"),
                "{bad}"
            );
        }
        // Two touches split the ends in proportion: 30/40 → 3/7, 4/7.
        let mut got = Vec::new();
        position_based(2, &PositionWeights { first: 0.3, middle: 0.3, last: 0.4 }, |at, w| got.push((at, w)));
        assert!((got[0].1 - 3.0 / 7.0).abs() < 1e-12 && (got[1].1 - 4.0 / 7.0).abs() < 1e-12);
    }
}
