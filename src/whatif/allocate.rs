//! `fogg whatif --allocate BUDGET`: the split of a total budget across the
//! channels that declare spend which maximises expected conversions (or
//! revenue), answered on the closed form.
//!
//! Greedy marginal allocation in 200 increments (each goes to the channel
//! whose next increment gains most), then pairwise exchanges of shrinking
//! size until no move of budget from one channel to another helps. With
//! concave responses this is the optimum; with S-shaped ones (slope > 1)
//! it is a local one, which the report says.

use crate::model::change::{Change, SpendLevel};
use crate::model::{ChannelId, Model};

use super::ExactFigures;

/// What the allocation maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Expected conversions per period.
    Conversions,
    /// Expected revenue per period.
    Revenue,
}

impl Objective {
    /// The name `--objective` takes and reports show.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Conversions => "conversions",
            Objective::Revenue => "revenue",
        }
    }
}

/// Limits on one channel's spend.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// Channel id.
    pub channel: String,
    /// Least spend.
    pub min: f64,
    /// Most spend.
    pub max: f64,
}

impl Bound {
    /// Parses `CHANNEL=MIN..MAX` (either side may be empty).
    pub fn parse(text: &str) -> Result<Bound, String> {
        let usage = || {
            format!(
                "'{text}' is not a bound: write CHANNEL=MIN..MAX, e.g. social=5000..40000 or print=..8000"
            )
        };
        let (channel, range) = text.split_once('=').ok_or_else(usage)?;
        let (lo, hi) = range.split_once("..").ok_or_else(usage)?;
        let num = |s: &str, default: f64| -> Result<f64, String> {
            if s.trim().is_empty() { Ok(default) } else { s.trim().parse::<f64>().map_err(|_| usage()) }
        };
        let (min, max) = (num(lo, 0.0)?, num(hi, f64::INFINITY)?);
        if !(min >= 0.0 && min <= max) {
            return Err(format!("'{text}': the bounds must satisfy 0 ≤ MIN ≤ MAX"));
        }
        Ok(Bound { channel: channel.trim().to_owned(), min, max })
    }
}

/// The best split found.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// The channels allocated, in model order.
    pub channels: Vec<ChannelId>,
    /// Spend per allocated channel.
    pub spend: Vec<f64>,
    /// The limits used per allocated channel.
    pub bounds: Vec<(f64, f64)>,
    /// Objective gained per extra unit of spend on each channel, at the
    /// allocation.
    pub marginal: Vec<f64>,
    /// Expected figures at the allocation.
    pub exact: ExactFigures,
    /// Budget the bounds left unspent.
    pub unspent: f64,
}

impl Allocation {
    /// The changes that set every allocated channel's spend.
    pub fn changes(&self) -> Vec<Change> {
        self.channels
            .iter()
            .zip(&self.spend)
            .map(|(&channel, &s)| Change::Spend { channel, level: SpendLevel::Absolute(s) })
            .collect()
    }

    /// The channel where the next unit of budget does most.
    pub fn next_unit(&self) -> ChannelId {
        let best = (0..self.channels.len()).max_by(|&a, &b| self.marginal[a].total_cmp(&self.marginal[b]));
        self.channels[best.unwrap_or(0)]
    }
}

/// Allocates `budget` across the channels that declare spend.
pub fn allocate(
    model: &Model,
    budget: f64,
    objective: Objective,
    bounds: &[Bound],
    per_period: f64,
) -> Result<Allocation, String> {
    let channels: Vec<ChannelId> = (0..model.channels.len())
        .filter(|&c| model.channels[c].spend.is_some())
        .map(|c| ChannelId(c as u8))
        .collect();
    if channels.is_empty() {
        return Err(
            "no channel declares spend: add `spend = { … }` to the [[channel]] tables to allocate a budget"
                .to_owned(),
        );
    }
    if !(budget.is_finite() && budget > 0.0) {
        return Err(format!(
            "--allocate {budget}: the budget must be a positive amount per {}",
            model.period
        ));
    }
    let mut limits: Vec<(f64, f64)> = vec![(0.0, f64::INFINITY); channels.len()];
    for b in bounds {
        let Some(c) = model.channel_id(&b.channel) else {
            return Err(format!(
                "--bound {}: unknown channel; {}",
                b.channel,
                crate::suggest::did_you_mean(&b.channel, model.channels.iter().map(|c| c.id.as_str()))
            ));
        };
        let Some(k) = channels.iter().position(|&x| x == c) else {
            return Err(format!(
                "--bound {}: the channel declares no spend, so it takes no budget",
                b.channel
            ));
        };
        limits[k] = (b.min, b.max);
    }
    let floor: f64 = limits.iter().map(|l| l.0).sum();
    if floor > budget {
        return Err(format!("the lower bounds add up to {floor:.0}, more than the budget of {budget:.0}"));
    }
    let eval = |spend: &[f64]| -> Option<ExactFigures> {
        let changes: Vec<Change> = channels
            .iter()
            .zip(spend)
            .map(|(&channel, &s)| Change::Spend { channel, level: SpendLevel::Absolute(s) })
            .collect();
        model.apply(&changes).ok().map(|v| ExactFigures::of(&v, per_period))
    };
    let score = |spend: &[f64]| -> f64 {
        eval(spend).map_or(f64::NEG_INFINITY, |e| match objective {
            Objective::Conversions => e.conversions,
            // Revenue net of nothing: the budget is fixed, so maximising
            // revenue maximises ROAS too.
            Objective::Revenue => e.revenue,
        })
    };
    let mut spend: Vec<f64> = limits.iter().map(|l| l.0).collect();
    let steps = 200;
    let step = (budget - floor) / steps as f64;
    let mut left = budget - floor;
    while left > step * 1e-9 {
        let inc = step.min(left);
        let current = score(&spend);
        let mut best: Option<(usize, f64)> = None;
        for k in 0..channels.len() {
            if spend[k] + inc > limits[k].1 + 1e-9 {
                continue;
            }
            spend[k] += inc;
            let gain = score(&spend) - current;
            spend[k] -= inc;
            if best.is_none_or(|(_, g)| gain > g) {
                best = Some((k, gain));
            }
        }
        let Some((k, _)) = best else { break };
        spend[k] += inc;
        left -= inc;
    }
    // Pairwise exchanges of shrinking size.
    let mut delta = step * 4.0;
    while delta > step / 64.0 {
        let mut improved = true;
        while improved {
            improved = false;
            let current = score(&spend);
            'pairs: for from in 0..channels.len() {
                for to in 0..channels.len() {
                    if from == to
                        || spend[from] - delta < limits[from].0 - 1e-9
                        || spend[to] + delta > limits[to].1 + 1e-9
                    {
                        continue;
                    }
                    spend[from] -= delta;
                    spend[to] += delta;
                    if score(&spend) > current + 1e-9 * current.abs().max(1.0) {
                        improved = true;
                        break 'pairs;
                    }
                    spend[from] += delta;
                    spend[to] -= delta;
                }
            }
        }
        delta /= 2.0;
    }
    let exact =
        eval(&spend).ok_or("no split of this budget lets a journey start: raise the budget or the bounds")?;
    let h = (budget * 1e-3).max(1e-6);
    let base = score(&spend);
    let marginal = (0..channels.len())
        .map(|k| {
            let mut s = spend.clone();
            s[k] += h;
            (score(&s) - base) / h
        })
        .collect();
    Ok(Allocation { channels, spend, bounds: limits, marginal, exact, unspent: left.max(0.0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse() {
        assert_eq!(
            Bound::parse("social=5000..40000").unwrap(),
            Bound { channel: "social".into(), min: 5000.0, max: 40000.0 }
        );
        assert_eq!(Bound::parse("print=..8000").unwrap().min, 0.0);
        assert!(Bound::parse("print=9..8").is_err());
        assert!(Bound::parse("print").unwrap_err().contains("CHANNEL=MIN..MAX"));
    }
}
