//! Spend over campaign time: flights and adstock move arrivals.
//!
//! A channel that drives acquisition brings `g(S_eff(t)) / g(S)` times its
//! usual entries at instant t, where S is the variant's spend level, S_eff
//! the effective spend (the flighted spend, carried over by adstock) and g
//! its Hill response. Each minute of the window thus has its own arrival
//! weight (the calendar's, times the entry mix's total) and its own entry
//! mix; customers who arrive in it enter accordingly. Without flights or
//! adstock every multiplier is 1 and the mix is the model's.

use crate::calendar::{Calendar, MinuteTable};
use crate::model::alias::{EXIT, Target};
use crate::model::{Model, SegmentId, Variant};

/// Seconds in a minute, the grain of the multipliers.
const MINUTE: f64 = 60.0;

/// Where a customer may start: a segment's entry state, its share of
/// arrivals at the variant's spend, and the channel multiplier it follows.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The segment.
    pub segment: SegmentId,
    /// The entry state, or the exit.
    pub state: Target,
    /// share × entry probability.
    pub weight: f64,
    /// Index into [`Flighting::multipliers`]; `None` when no flight or
    /// adstock moves it.
    pub group: Option<usize>,
}

/// A variant's arrivals over the window, minute by minute.
#[derive(Debug, Clone)]
pub struct Flighting {
    /// Arrival weight of each minute: ∫ r/r₀ times the entry mix's total.
    pub arrivals: MinuteTable,
    /// Response multiplier per minute of each flighted channel:
    /// `(channel index, multipliers)`.
    pub multipliers: Vec<(usize, Vec<f64>)>,
    /// Every entry of every segment.
    pub entries: Vec<Entry>,
    /// Spend per period of each channel in each minute.
    pub spend: Vec<Vec<f64>>,
}

impl Flighting {
    /// The arrivals of `variant` of `model` (the scenario's baseline
    /// model, whose spend the flights are written against) over
    /// `calendar`.
    pub fn new(model: &Model, variant: &Variant, calendar: &Calendar) -> Flighting {
        let base = calendar.minutes();
        let n = base.weights().len();
        let baseline = model.baseline_spend();
        let spend: Vec<Vec<f64>> = (0..model.channels.len())
            .map(|c| {
                let factor = if baseline[c] > 0.0 { variant.spend[c] / baseline[c] } else { 1.0 };
                calendar.spend_by_minute(c, baseline[c], factor)
            })
            .collect();
        let moved = |c: usize| {
            calendar.flights.iter().any(|f| f.channel == c) || calendar.adstock.iter().any(|a| a.channel == c)
        };
        let multipliers: Vec<(usize, Vec<f64>)> = (0..model.channels.len())
            .filter(|&c| moved(c))
            .filter_map(|c| {
                let curve = variant.model.channels[c].spend?;
                let level = variant.spend[c];
                if level <= 0.0 {
                    return None;
                }
                let effective = calendar.effective_spend(c, &spend[c], level);
                Some((c, effective.iter().map(|&s| curve.ratio(s, level)).collect()))
            })
            .collect();
        let group_of = |state: Target| -> Option<usize> {
            if state == EXIT {
                return None;
            }
            let channel = variant.model.states[state as usize].channel.0 as usize;
            multipliers.iter().position(|(c, _)| *c == channel)
        };
        let entries: Vec<Entry> = variant
            .model
            .segments
            .iter()
            .enumerate()
            .flat_map(|(k, seg)| seg.chain.entry.iter().map(move |&(state, p)| (k, seg.share, state, p)))
            .map(|(k, share, state, p)| Entry {
                segment: SegmentId(k as u8),
                state,
                weight: share * p,
                group: group_of(state),
            })
            .collect();
        let weights: Vec<f64> = (0..n)
            .map(|m| {
                let mix: f64 =
                    entries.iter().map(|e| e.weight * e.group.map_or(1.0, |g| multipliers[g].1[m])).sum();
                base.weights()[m] * mix
            })
            .collect();
        let length = calendar.length_s();
        Flighting { arrivals: MinuteTable::new(weights, length), multipliers, entries, spend }
    }

    /// The baseline's expected customers in each minute of `calendar`'s
    /// window, as its flights and adstock move them: where `validate` and
    /// `capacity --expected-peak calendar` find the busiest minutes.
    pub fn baseline_customers(model: &Model, calendar: &Calendar) -> MinuteTable {
        let weights = Flighting::new(model, &model.baseline(), calendar).arrivals;
        let scale = model.customers_per_period.unwrap_or(0.0) / calendar.period_s;
        MinuteTable::new(weights.weights().iter().map(|w| w * scale).collect(), calendar.length_s())
    }

    /// Whether any spend moves over the window.
    pub fn is_flat(&self) -> bool {
        self.multipliers.is_empty()
    }

    /// The entry of a customer arriving `t_s` after the start, for a
    /// uniform `u` in [0, 1).
    #[inline]
    pub fn entry_at(&self, t_s: f64, u: f64) -> Entry {
        let m = ((t_s / MINUTE) as usize).min(self.arrivals.weights().len().saturating_sub(1));
        let weight = |e: &Entry| e.weight * e.group.map_or(1.0, |g| self.multipliers[g].1[m]);
        let total: f64 = self.entries.iter().map(weight).sum();
        let mut target = u * total;
        for e in &self.entries {
            target -= weight(e);
            if target < 0.0 {
                return *e;
            }
        }
        *self.entries.last().expect("a model has an entry")
    }

    /// Arrival weights per minute of the entries in `group` (`None`: the
    /// ones no spend moves), per unit of entry weight.
    pub fn group_table(&self, calendar: &Calendar, group: Option<usize>) -> MinuteTable {
        let base = calendar.minutes().weights();
        let weights = match group {
            None => base.to_vec(),
            Some(g) => base.iter().zip(&self.multipliers[g].1).map(|(w, m)| w * m).collect(),
        };
        MinuteTable::new(weights, calendar.length_s())
    }

    /// Spend per local day of `grid`, every channel together, and per
    /// channel over the window.
    pub fn spend_by_day(&self, calendar: &Calendar, grid: &super::Grid) -> (Vec<f64>, Vec<f64>) {
        let mut days = vec![0.0; grid.days.len()];
        let mut channels = vec![0.0; self.spend.len()];
        let length = calendar.length_s();
        for m in 0..self.arrivals.weights().len() {
            let seconds = (length - m as f64 * MINUTE).clamp(0.0, MINUTE);
            let day = grid.day(m as f64 * MINUTE);
            for (c, spend) in self.spend.iter().enumerate() {
                let amount = spend[m] * seconds / calendar.period_s;
                days[day] += amount;
                channels[c] += amount;
            }
        }
        (days, channels)
    }
}
