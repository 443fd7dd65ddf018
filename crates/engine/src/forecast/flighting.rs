//! Spend over campaign time: flights and adstock move arrivals and
//! transitions.
//!
//! A channel whose spend varies over the window has, at each instant t, a
//! response multiplier `g(S_eff(t)) / g(S)`, where S is the variant's
//! spend level, S_eff the effective spend (the flighted spend, carried
//! over by adstock) and g its Hill response. The multiplier acts as a
//! change of spend does in `whatif` (`model::change`), minute by minute:
//! - `acquisition`: the channel's entries scale by it, so each minute has
//!   its own arrival weight and entry mix;
//! - `share`: the channel's entries and the transitions into its states
//!   scale by it, rows normalised again (the population stays);
//! - `incremental`: transitions between states into the channel's states
//!   scale by it, the added mass taken from the row's exit.
//!
//! A transition takes the multiplier of the minute the next touch falls
//! in (the customer meets the channel then); after the window closes,
//! transitions follow the variant's own chain. Without flights or
//! adstock every multiplier is 1 and the mix and chain are the model's.

use fogg_core::calendar::{Calendar, MinuteTable};
use fogg_model::alias::{EXIT, Target};
use fogg_model::change::{scale_and_normalise, scale_from_exit};
use fogg_model::{Mechanism, Model, SegmentId, Variant};

/// Seconds in a minute, the grain of the multipliers.
const MINUTE: f64 = 60.0;

/// A multiplier this close to 1 is 1: the carry-over of a steady spend
/// rounds to within a few ulps of it.
const UNMOVED: f64 = 1e-12;

/// Where a customer may start: a segment's entry state and its share of
/// arrivals at the variant's spend.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The segment.
    pub segment: SegmentId,
    /// The entry state, or the exit.
    pub state: Target,
    /// segment share × entry probability.
    pub weight: f64,
}

/// A channel whose spend varies over the window.
#[derive(Debug, Clone)]
pub struct Move {
    /// The channel's index.
    pub channel: usize,
    /// What its spend drives.
    pub drives: Mechanism,
    /// Its response multiplier in each minute of the window.
    pub multipliers: Vec<f64>,
}

/// A transition an incremental flight cannot make: it needs more of a
/// row's exit than the row has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", self.problem(), self.fix())]
pub struct FlightError {
    /// The channel.
    pub channel: String,
    /// Its index.
    pub channel_index: usize,
    /// The minute of the window it first happens in.
    pub minute: usize,
    /// The state whose row cannot give the mass.
    pub state: String,
    /// Local time of the first minute it happens.
    pub at: String,
    /// Exit probability needed.
    pub needed: f64,
    /// Exit probability the row has.
    pub exit: f64,
}

impl FlightError {
    /// What cannot be.
    pub fn problem(&self) -> String {
        format!(
            "the spend of '{}' at {} needs {:.4} of the exit probability of state '{}', which has only {:.4}",
            self.channel, self.at, self.needed, self.state, self.exit
        )
    }

    /// What to do about it.
    pub fn fix(&self) -> String {
        format!("fly less spend on '{}' there, or declare `drives = \"share\"` for it", self.channel)
    }
}

/// A variant's arrivals and transitions over the window, minute by minute.
#[derive(Debug, Clone)]
pub struct Flighting {
    /// Arrival weight of each minute: ∫ r/r₀ times the entry mix's total.
    pub arrivals: MinuteTable,
    /// The channels whose spend varies, in channel order.
    pub moves: Vec<Move>,
    /// Every entry of every segment, at the variant's spend.
    pub entries: Vec<Entry>,
    /// Each entry's weight in each minute, minute-major; empty when no
    /// spend moves entries.
    entry_weights: Vec<f64>,
    /// For each channel, its move when it drives transitions (share or
    /// incremental).
    transition_move: Vec<Option<usize>>,
    /// Spend per period of each channel in each minute.
    pub spend: Vec<Vec<f64>>,
}

impl Flighting {
    /// The arrivals and transitions of `variant` of `model` (the
    /// scenario's baseline model, whose spend the flights are written
    /// against) over `calendar`. Fails when an incremental channel's
    /// flight needs more of a row's exit than it has.
    pub fn new(model: &Model, variant: &Variant, calendar: &Calendar) -> Result<Flighting, FlightError> {
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
        let moves: Vec<Move> = (0..model.channels.len())
            .filter(|&c| moved(c))
            .filter_map(|c| {
                let curve = variant.model.channels[c].spend?;
                let level = variant.spend[c];
                if level <= 0.0 {
                    return None;
                }
                let effective = calendar.effective_spend(c, &spend[c], level);
                let multipliers = effective
                    .iter()
                    .map(|&s| {
                        let m = curve.ratio(s, level);
                        if (m - 1.0).abs() < UNMOVED { 1.0 } else { m }
                    })
                    .collect();
                Some(Move { channel: c, drives: curve.drives, multipliers })
            })
            .collect();
        let mut transition_move = vec![None; model.channels.len()];
        for (i, m) in moves.iter().enumerate() {
            if m.drives != Mechanism::Acquisition {
                transition_move[m.channel] = Some(i);
            }
        }
        let entries: Vec<Entry> = variant
            .model
            .segments
            .iter()
            .enumerate()
            .flat_map(|(k, seg)| seg.chain.entry.iter().map(move |&(state, p)| (k, seg.share, state, p)))
            .map(|(k, share, state, p)| Entry { segment: SegmentId(k as u8), state, weight: share * p })
            .collect();
        let mut flighting = Flighting {
            arrivals: base.clone(),
            moves,
            entries,
            entry_weights: Vec::new(),
            transition_move,
            spend,
        };
        flighting.check_transitions(&variant.model, calendar)?;
        let mix_total: f64 = flighting.entries.iter().map(|e| e.weight).sum();
        let weights: Vec<f64> = if flighting.moves.is_empty() {
            base.weights().iter().map(|w| w * mix_total).collect()
        } else {
            let per_entry = flighting.entries.len();
            let mut entry_weights = vec![0.0; n * per_entry];
            let mut minute_weights = Vec::with_capacity(n);
            for m in 0..n {
                let row = &mut entry_weights[m * per_entry..(m + 1) * per_entry];
                flighting.entry_mix(&variant.model, m, row);
                minute_weights.push(base.weights()[m] * row.iter().sum::<f64>());
            }
            flighting.entry_weights = entry_weights;
            minute_weights
        };
        flighting.arrivals = MinuteTable::new(weights, calendar.length_s());
        Ok(flighting)
    }

    /// The multiplier of `channel`'s move in `minute`, 1 when none.
    fn multiplier(&self, channel: usize, drives: Mechanism, minute: usize) -> f64 {
        self.moves
            .iter()
            .find(|m| m.channel == channel && m.drives == drives)
            .map_or(1.0, |m| m.multipliers[minute])
    }

    /// Each entry's weight in `minute`, into `out`: acquisition scales a
    /// segment's entries and so its arrivals; share then shifts the mix
    /// within the segment, keeping its total.
    fn entry_mix(&self, model: &Model, minute: usize, out: &mut [f64]) {
        let factor = |e: &Entry, drives: Mechanism| {
            if e.state == EXIT {
                1.0
            } else {
                self.multiplier(model.states[e.state as usize].channel.0 as usize, drives, minute)
            }
        };
        for k in 0..model.segments.len() {
            let (mut acquired, mut shared) = (0.0, 0.0);
            for (e, w) in self.entries.iter().zip(out.iter_mut()) {
                if e.segment.0 as usize != k {
                    continue;
                }
                *w = e.weight * factor(e, Mechanism::Acquisition);
                acquired += *w;
                *w *= factor(e, Mechanism::Share);
                shared += *w;
            }
            if shared > 0.0 {
                for (e, w) in self.entries.iter().zip(out.iter_mut()) {
                    if e.segment.0 as usize == k {
                        *w *= acquired / shared;
                    }
                }
            }
        }
    }

    /// The baseline's expected customers in each minute of `calendar`'s
    /// window, as its flights and adstock move them: where `validate` and
    /// `capacity --expected-peak calendar` find the busiest minutes.
    pub fn baseline_customers(model: &Model, calendar: &Calendar) -> Result<MinuteTable, FlightError> {
        let weights = Flighting::new(model, &model.baseline(), calendar)?.arrivals;
        let scale = model.customers_per_period.unwrap_or(0.0) / calendar.period_s;
        Ok(MinuteTable::new(weights.weights().iter().map(|w| w * scale).collect(), calendar.length_s()))
    }

    /// Whether any spend moves over the window.
    pub fn is_flat(&self) -> bool {
        self.moves.is_empty()
    }

    /// Whether any spend moves transitions (share or incremental).
    pub fn moves_transitions(&self) -> bool {
        self.transition_move.iter().any(Option::is_some)
    }

    /// The minute of the window `t_s` seconds after its start falls in
    /// (the last one for any time past it).
    #[inline]
    pub fn minute(&self, t_s: f64) -> usize {
        ((t_s / MINUTE) as usize).min(self.arrivals.weights().len().saturating_sub(1))
    }

    /// The entry of a customer arriving `t_s` after the start, for a
    /// uniform `u` in [0, 1).
    #[inline]
    pub fn entry_at(&self, t_s: f64, u: f64) -> Entry {
        let k = self.entries.len();
        let m = self.minute(t_s);
        let weights = &self.entry_weights[m * k..(m + 1) * k];
        let mut target = u * weights.iter().sum::<f64>();
        for (e, w) in self.entries.iter().zip(weights) {
            target -= w;
            if target < 0.0 {
                return *e;
            }
        }
        *self.entries.last().expect("a model has an entry")
    }

    /// Arrival weights per minute of entry `entry` (an index into
    /// [`Flighting::entries`]).
    pub fn entry_table(&self, calendar: &Calendar, entry: usize) -> MinuteTable {
        let base = calendar.minutes().weights();
        let weights = if self.entry_weights.is_empty() {
            base.iter().map(|w| w * self.entries[entry].weight).collect()
        } else {
            let k = self.entries.len();
            base.iter().enumerate().map(|(m, w)| w * self.entry_weights[m * k + entry]).collect()
        };
        MinuteTable::new(weights, calendar.length_s())
    }

    /// Transitions out of `row` (a row of `model`'s chain) for a next
    /// touch in `minute`, into `scratch`; false (and `scratch` untouched)
    /// when no spend moves them then.
    pub fn row_at(
        &self,
        model: &Model,
        row: &[(Target, f64)],
        minute: usize,
        scratch: &mut Vec<(Target, f64)>,
    ) -> bool {
        let moved = |t: Target| {
            t != EXIT
                && self.transition_move[model.states[t as usize].channel.0 as usize]
                    .is_some_and(|i| self.moves[i].multipliers[minute] != 1.0)
        };
        if !row.iter().any(|&(t, _)| moved(t)) {
            return false;
        }
        scratch.clear();
        scratch.extend_from_slice(row);
        // Checked for every minute when the flighting was made.
        let _ = self.move_row(model, scratch, minute);
        true
    }

    /// Applies each transition move of `minute` to `row`, in channel
    /// order; fails with (channel, needed, exit) as an incremental move
    /// would need more exit than the row has.
    fn move_row(
        &self,
        model: &Model,
        row: &mut Vec<(Target, f64)>,
        minute: usize,
    ) -> Result<(), (usize, f64, f64)> {
        for mv in self.moves.iter().filter(|m| m.drives != Mechanism::Acquisition) {
            let m = mv.multipliers[minute];
            if m == 1.0 {
                continue;
            }
            let in_channel =
                |t: Target| t != EXIT && model.states[t as usize].channel.0 as usize == mv.channel;
            match mv.drives {
                Mechanism::Share => scale_and_normalise(row, &in_channel, m),
                Mechanism::Incremental => scale_from_exit(row, &in_channel, m)
                    .map_err(|(needed, exit)| (mv.channel, needed, exit))?,
                Mechanism::Acquisition => {}
            }
        }
        Ok(())
    }

    /// Checks that every row can take every minute's moves: once per
    /// minute whose multipliers differ from the minute before.
    fn check_transitions(&self, model: &Model, calendar: &Calendar) -> Result<(), FlightError> {
        if !self.moves.iter().any(|m| m.drives == Mechanism::Incremental) {
            return Ok(());
        }
        let n = calendar.minutes().weights().len();
        let mut scratch = Vec::new();
        for minute in 0..n {
            let same =
                minute > 0 && self.moves.iter().all(|m| m.multipliers[minute] == m.multipliers[minute - 1]);
            if same {
                continue;
            }
            for seg in &model.segments {
                for (s, row) in seg.chain.next.iter().enumerate() {
                    scratch.clear();
                    scratch.extend_from_slice(row);
                    if let Err((channel, needed, exit)) = self.move_row(model, &mut scratch, minute) {
                        let segment = if model.segments.len() > 1 {
                            format!(" (segment '{}')", seg.id)
                        } else {
                            String::new()
                        };
                        return Err(FlightError {
                            channel: model.channels[channel].id.clone(),
                            channel_index: channel,
                            minute,
                            state: format!("{}{segment}", model.states[s].id),
                            at: calendar.local(minute as f64 * MINUTE),
                            needed,
                            exit,
                        });
                    }
                }
            }
        }
        Ok(())
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
