//! What-if changes to a model, and the variant model they make.
//!
//! A [`Change`] is resolved against a model (ids are indices) and applied
//! to the per-segment chains, so every segment's multipliers stay as they
//! were. Changes apply in order; [`Model::apply`] checks that every
//! journey can still end.

use super::alias::{EXIT, Target};
use super::{Chain, ChannelId, Model, SegmentId, State, StateId};

/// Target of a touchpoint a strategy adds, before it has an index.
pub const NEW_STATE: Target = EXIT - 1;

/// What a channel's spend drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// More customers enter through the channel's entry states: its entry
    /// weights scale by the response multiplier, so the population grows.
    Acquisition,
    /// Transitions into the channel's states (entry included) scale by the
    /// multiplier and rows are normalised again: the channel takes share
    /// from every other transition, conversion and exit included.
    Share,
    /// Transitions between states into the channel's states scale by the
    /// multiplier and the added mass comes from the row's exit only: the
    /// channel rescues would-be drop-outs.
    Incremental,
}

impl Mechanism {
    /// The name used in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Acquisition => "acquisition",
            Self::Share => "share",
            Self::Incremental => "incremental",
        }
    }
}

/// A channel's paid spend per period and its saturating response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spend {
    /// Spend per period today.
    pub baseline: f64,
    /// Spend at which the response reaches half its maximum (Hill's K).
    pub half_saturation: f64,
    /// Hill exponent: 1 saturates from the first unit, above 1 is S-shaped.
    pub slope: f64,
    /// What the spend drives.
    pub drives: Mechanism,
}

impl Spend {
    /// Hill response g(S) = Sᵃ / (Sᵃ + Kᵃ), in [0, 1).
    pub fn response(&self, spend: f64) -> f64 {
        let s = spend.max(0.0).powf(self.slope);
        s / (s + self.half_saturation.powf(self.slope))
    }

    /// Multiplier m = g(S) / g(S⁰) of spend `spend` against the baseline.
    pub fn multiplier(&self, spend: f64) -> f64 {
        self.ratio(spend, self.baseline)
    }

    /// g(S) / g(S₀), computed as (1 + (K/S₀)ᵃ) / (1 + (K/S)ᵃ) in logarithms,
    /// so that a steep slope or a tiny spend cannot overflow it to ∞/∞
    /// (0 when `spend` is 0; ∞ only when the true ratio is beyond f64).
    pub fn ratio(&self, spend: f64, from: f64) -> f64 {
        let log_term = |s: f64| self.slope * (self.half_saturation.ln() - s.max(0.0).ln());
        (softplus(log_term(from)) - softplus(log_term(spend))).exp()
    }
}

/// ln(1 + eˣ) without overflow; ∞ at x = ∞.
fn softplus(x: f64) -> f64 {
    if x == f64::INFINITY { x } else { x.max(0.0) + (-x.abs()).exp().ln_1p() }
}

/// A new spend level for a channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpendLevel {
    /// The current spend times this factor (`+30%`, `x1.3`).
    Factor(f64),
    /// The current spend plus this amount (`+5000`, `-2000`).
    Delta(f64),
    /// This spend (`=26000`).
    Absolute(f64),
}

/// How a probability or share changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    /// Multiplied by this factor.
    Scale(f64),
    /// Set to this value.
    Set(f64),
}

/// A touchpoint a strategy adds: a new state, its rows (one per segment,
/// multipliers applied; [`NEW_STATE`] refers to itself) and the share of
/// journeys leaving other states that now go to it.
#[derive(Debug, Clone)]
pub struct Touchpoint {
    /// The new state.
    pub state: State,
    /// Its transitions, one row per segment.
    pub rows: Vec<Vec<(Target, f64)>>,
    /// `(state, p)`: a fraction p of journeys leaving the state now go to
    /// the new touchpoint; the row's other transitions shrink in proportion.
    pub from: Vec<(StateId, f64)>,
}

/// One change of a strategy.
#[derive(Debug, Clone)]
pub enum Change {
    /// Change a channel's spend; its mechanism says what that does.
    Spend {
        /// The channel (it declares spend).
        channel: ChannelId,
        /// The new spend, relative or absolute.
        level: SpendLevel,
    },
    /// Stop a channel: journeys that would reach it leave, its spend is 0.
    Remove {
        /// The channel.
        channel: ChannelId,
    },
    /// Scale or set one transition probability; the row's other
    /// transitions absorb the difference in proportion.
    Transition {
        /// The state the transition leaves.
        from: StateId,
        /// Where it goes (a state or the exit).
        to: Target,
        /// How its probability changes.
        amount: Amount,
    },
    /// Multiply the probability of going from a state straight to a
    /// conversion state; the added mass comes from the row's exit.
    Conversion {
        /// The state whose conversion step gets likelier.
        state: StateId,
        /// The factor, e.g. 1.2.
        factor: f64,
    },
    /// Scale or set a segment's share; the other segments absorb the
    /// difference in proportion.
    Segment {
        /// The segment.
        segment: SegmentId,
        /// How its share changes.
        amount: Amount,
    },
    /// Add a touchpoint.
    Add(Box<Touchpoint>),
}

/// A named set of changes.
#[derive(Debug, Clone)]
pub struct Strategy {
    /// Identifier used on the command line and in reports.
    pub id: String,
    /// What the strategy means, for people.
    pub description: Option<String>,
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// The changes as written (one per change), for reports.
    pub written: Vec<String>,
}

/// A model with a strategy's changes applied.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The changed model.
    pub model: Model,
    /// Customers per baseline customer (spend that acquires customers
    /// changes how many start a journey).
    pub population: f64,
    /// Spend per channel per period (0 for channels without spend).
    pub spend: Vec<f64>,
    /// What the changes did, for people (e.g. the mechanism and multiplier
    /// of a spend change).
    pub notes: Vec<String>,
}

impl Model {
    /// Spend per channel per period today (0 where none is declared).
    pub fn baseline_spend(&self) -> Vec<f64> {
        self.channels.iter().map(|c| c.spend.map_or(0.0, |s| s.baseline)).collect()
    }

    /// The model unchanged, as a variant.
    pub fn baseline(&self) -> Variant {
        Variant { model: self.clone(), population: 1.0, spend: self.baseline_spend(), notes: Vec::new() }
    }

    /// Applies `changes` in order; says which change cannot be applied and
    /// why.
    pub fn apply(&self, changes: &[Change]) -> Result<Variant, ChangeError> {
        let mut draft = Draft::of(self);
        for change in changes {
            match change {
                Change::Spend { channel, level } => draft.spend(*channel, *level)?,
                Change::Remove { channel } => draft.remove(*channel),
                Change::Transition { from, to, amount } => draft.transition(*from, *to, *amount)?,
                Change::Conversion { state, factor } => draft.conversion(*state, *factor)?,
                Change::Segment { segment, amount } => draft.segment(*segment, *amount)?,
                Change::Add(touchpoint) => draft.add(touchpoint)?,
            }
        }
        draft.finish()
    }
}

/// Why a change cannot be applied to a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    /// A spend change on a channel without `spend`.
    #[error(
        "channel '{0}' declares no spend: add `spend = {{ baseline = …, half_saturation = …, drives = \"share\" }}` to its [[channel]]"
    )]
    NoSpend(String),
    /// Spend would become negative (or not a number).
    #[error("the spend of '{channel}' would be {spend:.2}: spend cannot be negative")]
    NegativeSpend {
        /// Channel id.
        channel: String,
        /// The spend it would have.
        spend: f64,
    },
    /// Spend is 0, so no response multiplier can scale from it.
    #[error(
        "the spend of '{0}' is 0 at this point, so no response multiplier can scale from it: change it before removing it"
    )]
    ZeroSpend(String),
    /// Without this channel's acquisition spend nobody would arrive.
    #[error(
        "with no spend on '{0}' no journey would start: keep some spend, or give other channels entry weight"
    )]
    NoEntry(String),
    /// Incremental spend needs more of a state's exit than it has.
    #[error(
        "incremental spend on '{channel}' needs {needed:.4} of the exit probability of state '{state}', which has only {exit:.4}{segment}: spend less, or declare `drives = \"share\"`"
    )]
    SpendExceedsExit {
        /// Channel id.
        channel: String,
        /// State id.
        state: String,
        /// Probability the change needs from the exit.
        needed: f64,
        /// Probability of the exit.
        exit: f64,
        /// ` (segment 'ID')` in a segmented model, else empty.
        segment: String,
    },
    /// Scaling a transition that no segment has.
    #[error(
        "there is no transition {from} -> {to} to scale: set one with `transition {from} -> {to} =0.1`, or name a transition the scenario has"
    )]
    NoSuchTransition {
        /// State id.
        from: String,
        /// State id, or `exit`.
        to: String,
    },
    /// A transition cannot take the probability asked for.
    #[error("transition {from} -> {to}{segment}: {reason}")]
    Transition {
        /// State id.
        from: String,
        /// State id, or `exit`.
        to: String,
        /// ` (segment 'ID')` in a segmented model, else empty.
        segment: String,
        /// What is wrong with the new probability.
        reason: TransitionError,
    },
    /// A conversion change on a state that never converts next.
    #[error(
        "state '{0}' never leads straight to a conversion state, so its conversion cannot improve: name the state just before the purchase"
    )]
    NoConversionStep(String),
    /// A conversion change needs more of a state's exit than it has.
    #[error(
        "improving conversion from '{state}' by ×{factor} needs {needed:.4} of its exit probability, which is only {exit:.4}{segment}: use a smaller factor"
    )]
    ConversionExceedsExit {
        /// State id.
        state: String,
        /// The factor asked for.
        factor: f64,
        /// Probability the change needs from the exit.
        needed: f64,
        /// Probability of the exit.
        exit: f64,
        /// ` (segment 'ID')` in a segmented model, else empty.
        segment: String,
    },
    /// A segment share would leave (0, 1), or there is no other segment.
    #[error(
        "segment '{segment}' would have a share of {share:.4}: a share must stay between 0 and 1, and there must be another segment to take the rest"
    )]
    SegmentShare {
        /// Segment id.
        segment: String,
        /// The share it would have.
        share: f64,
    },
    /// The model has as many states as a journey can address.
    #[error("too many states to add another")]
    TooManyStates,
    /// A figure the changes compute goes beyond what f64 holds.
    #[error("{what} overflows: {fix}")]
    Overflow {
        /// What overflows.
        what: String,
        /// How to stay within range.
        fix: &'static str,
    },
    /// After the changes, journeys from a state could never end.
    #[error("after these changes journeys from state '{0}' (practically) never end: keep an exit on its way")]
    NeverEnds(String),
}

/// Why one transition cannot take a new probability.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum TransitionError {
    /// The new probability is outside [0, 1].
    #[error("the probability would be {new:.4} (now {old:.4}); a probability must stay within 0 and 1")]
    OutOfRange {
        /// The probability asked for.
        new: f64,
        /// The probability now.
        old: f64,
    },
    /// The transition is the state's only way out.
    #[error("it is the only way out of the state, so there is nothing to give the rest to")]
    OnlyWayOut,
}

/// A model being changed: copies of what changes can touch, and what they
/// noted. [`Model::apply`] plays each change on it, then finishes it.
struct Draft<'m> {
    model: &'m Model,
    states: Vec<State>,
    chains: Vec<Chain>,
    shares: Vec<f64>,
    acquired: Vec<f64>,
    spend: Vec<f64>,
    notes: Vec<String>,
}

impl<'m> Draft<'m> {
    /// A figure of each segment's chain, averaged by the segments' shares:
    /// what a note reports for the whole population, not one segment.
    fn averaged(&self, figure: impl Fn(&Chain) -> f64) -> f64 {
        self.chains.iter().zip(&self.shares).map(|(c, share)| share * figure(c)).sum()
    }

    fn of(model: &'m Model) -> Draft<'m> {
        Draft {
            model,
            states: model.states.clone(),
            chains: model.segments.iter().map(|s| s.chain.clone()).collect(),
            shares: model.segments.iter().map(|s| s.share).collect(),
            acquired: vec![1.0; model.segments.len()],
            spend: model.baseline_spend(),
            notes: Vec::new(),
        }
    }

    /// Moves a channel's spend; its mechanism says what the response does.
    fn spend(&mut self, channel: ChannelId, level: SpendLevel) -> Result<(), ChangeError> {
        let c = channel.0 as usize;
        let ch = &self.model.channels[c];
        let Some(curve) = ch.spend else {
            return Err(ChangeError::NoSpend(ch.id.clone()));
        };
        let now = self.spend[c];
        let new = match level {
            SpendLevel::Factor(f) => now * f,
            SpendLevel::Delta(d) => now + d,
            SpendLevel::Absolute(s) => s,
        };
        if !(new.is_finite() && new >= 0.0) {
            return Err(ChangeError::NegativeSpend { channel: ch.id.clone(), spend: new });
        }
        if now <= 0.0 {
            return Err(ChangeError::ZeroSpend(ch.id.clone()));
        }
        let m = curve.ratio(new, now);
        if !m.is_finite() {
            return Err(ChangeError::Overflow {
                what: format!("the response of '{}' to a spend of {}", ch.id, fogg_core::units::shown(new)),
                fix: "the ratio of responses goes beyond f64: use a gentler slope or a spend nearer the baseline",
            });
        }
        self.spend[c] = new;
        let in_channel = |t: Target| t != EXIT && self.states[t as usize].channel == channel;
        for (s, chain) in self.chains.iter_mut().enumerate() {
            match curve.drives {
                Mechanism::Acquisition => {
                    let mut total = 0.0;
                    for (t, p) in &mut chain.entry {
                        if in_channel(*t) {
                            *p *= m;
                        }
                        total += *p;
                    }
                    if total <= 0.0 {
                        return Err(ChangeError::NoEntry(ch.id.clone()));
                    }
                    for (_, p) in &mut chain.entry {
                        *p /= total;
                    }
                    self.acquired[s] *= total;
                }
                Mechanism::Share => {
                    scale_and_normalise(&mut chain.entry, &in_channel, m);
                    for row in &mut chain.next {
                        scale_and_normalise(row, &in_channel, m);
                    }
                }
                Mechanism::Incremental => {
                    for (i, row) in chain.next.iter_mut().enumerate() {
                        scale_from_exit(row, &in_channel, m).map_err(|(needed, exit)| {
                            ChangeError::SpendExceedsExit {
                                channel: ch.id.clone(),
                                state: self.states[i].id.clone(),
                                needed,
                                exit,
                                segment: segment_note(self.model, s),
                            }
                        })?;
                    }
                }
            }
        }
        self.notes.push(format!(
            "spend on {}: {:.0} → {:.0} per {} ({}, response ×{:.3})",
            ch.id,
            now,
            new,
            self.model.period,
            curve.drives.name(),
            m
        ));
        // `+30` is money; one who meant a share wrote it without its `%`.
        if let SpendLevel::Delta(d) = level
            && d != 0.0
            && d.abs() < 0.01 * now
        {
            self.notes.push(format!(
                "spend on {}: {d:+} is {d:+} {} of {now:.0}, under 1% of it: did you mean {d:+}%?",
                ch.id, self.model.currency
            ));
        }
        Ok(())
    }

    /// Sends journeys that would reach a channel to the exit.
    fn remove(&mut self, channel: ChannelId) {
        let removed = |i: usize| self.states[i].channel == channel;
        for chain in &mut self.chains {
            *chain = chain.without(removed);
        }
        let c = channel.0 as usize;
        self.notes.push(format!(
            "{} removed: journeys that would reach it leave; spend {:.0} → 0",
            self.model.channels[c].id, self.spend[c]
        ));
        self.spend[c] = 0.0;
    }

    /// Scales or sets one transition in every segment.
    fn transition(&mut self, from: StateId, to: Target, amount: Amount) -> Result<(), ChangeError> {
        let from = from.0 as usize;
        // Scaling a transition no segment has would change nothing.
        let exists = self.chains.iter().any(|c| probability(&c.next[from], |t| t == to) > 0.0);
        if let (Amount::Scale(_), false) = (amount, exists) {
            return Err(ChangeError::NoSuchTransition {
                from: self.states[from].id.clone(),
                to: name(&self.states, to).to_owned(),
            });
        }
        let before = self.averaged(|c| probability(&c.next[from], |t| t == to));
        for (s, chain) in self.chains.iter_mut().enumerate() {
            set_transition(&mut chain.next[from], to, amount).map_err(|reason| ChangeError::Transition {
                from: self.states[from].id.clone(),
                to: name(&self.states, to).to_owned(),
                segment: segment_note(self.model, s),
                reason,
            })?;
        }
        let after = self.averaged(|c| probability(&c.next[from], |t| t == to));
        self.notes.push(format!(
            "{} → {}: {:.1}% → {:.1}%{}",
            self.states[from].id,
            name(&self.states, to),
            before * 100.0,
            after * 100.0,
            averaged_note(self.model)
        ));
        Ok(())
    }

    /// Makes the step from a state to a conversion likelier, from its exit.
    fn conversion(&mut self, state: StateId, factor: f64) -> Result<(), ChangeError> {
        let i = state.0 as usize;
        let converts = |t: Target| t != EXIT && self.states[t as usize].conversion;
        if !self.chains.iter().any(|c| c.next[i].iter().any(|&(t, _)| converts(t))) {
            return Err(ChangeError::NoConversionStep(self.states[i].id.clone()));
        }
        let before = self.averaged(|c| probability(&c.next[i], converts));
        for (s, chain) in self.chains.iter_mut().enumerate() {
            scale_from_exit(&mut chain.next[i], &converts, factor).map_err(|(needed, exit)| {
                ChangeError::ConversionExceedsExit {
                    state: self.states[i].id.clone(),
                    factor,
                    needed,
                    exit,
                    segment: segment_note(self.model, s),
                }
            })?;
        }
        let after = self.averaged(|c| probability(&c.next[i], converts));
        self.notes.push(format!(
            "{} → conversion: {:.1}% → {:.1}%, from its exit{}",
            self.states[i].id,
            before * 100.0,
            after * 100.0,
            averaged_note(self.model)
        ));
        Ok(())
    }

    /// Scales or sets a segment's share.
    fn segment(&mut self, segment: SegmentId, amount: Amount) -> Result<(), ChangeError> {
        let k = segment.0 as usize;
        let old = self.shares[k];
        let new = match amount {
            Amount::Scale(f) => old * f,
            Amount::Set(v) => v,
        };
        if !(new > 0.0 && new < 1.0) || self.shares.len() < 2 {
            return Err(ChangeError::SegmentShare { segment: self.model.segments[k].id.clone(), share: new });
        }
        self.notes.push(format!(
            "segment {}: share {:.1}% → {:.1}%",
            self.model.segments[k].id,
            old * 100.0,
            new * 100.0
        ));
        let rest = (1.0 - new) / (1.0 - old);
        for (j, share) in self.shares.iter_mut().enumerate() {
            *share = if j == k { new } else { *share * rest };
        }
        Ok(())
    }

    /// Adds a touchpoint reached from the states it names.
    fn add(&mut self, touchpoint: &Touchpoint) -> Result<(), ChangeError> {
        let index = self.states.len() as Target;
        if index >= NEW_STATE {
            return Err(ChangeError::TooManyStates);
        }
        let sources: Vec<String> = touchpoint
            .from
            .iter()
            .map(|(s, p)| format!("{:.1}% of journeys leaving {}", p * 100.0, self.states[s.0 as usize].id))
            .collect();
        self.notes.push(format!("{} added, reached by {}", touchpoint.state.id, sources.join(" and ")));
        self.states.push(touchpoint.state.clone());
        for (chain, row) in self.chains.iter_mut().zip(&touchpoint.rows) {
            let row = row.iter().map(|&(t, p)| (if t == NEW_STATE { index } else { t }, p));
            chain.next.push(row.collect());
            for &(from, p) in &touchpoint.from {
                let row = &mut chain.next[from.0 as usize];
                for (_, q) in row.iter_mut() {
                    *q *= 1.0 - p;
                }
                row.push((index, p));
            }
        }
        Ok(())
    }

    /// The variant the changes made, once every state can still reach
    /// the exit.
    fn finish(self) -> Result<Variant, ChangeError> {
        for chain in &self.chains {
            let rows = std::iter::once(("the entry".to_owned(), &chain.entry)).chain(
                chain.next.iter().enumerate().map(|(i, row)| (format!("'{}'", self.states[i].id), row)),
            );
            for (name, row) in rows {
                let total: f64 = row.iter().map(|(_, p)| p).sum();
                let usable = total.is_finite() && total > 0.0;
                if !row.is_empty() && !usable {
                    return Err(ChangeError::Overflow {
                        what: format!("the probabilities out of {name}"),
                        fix: "the changes multiply them beyond f64 or down to nothing: use smaller changes",
                    });
                }
            }
            if let Some(&i) = cannot_reach_exit(&chain.next).first() {
                return Err(ChangeError::NeverEnds(self.states[i].id.clone()));
            }
            if let Some(near) = chain.nearly_endless() {
                return Err(ChangeError::NeverEnds(self.states[near.state].id.clone()));
            }
        }
        let population: f64 = self.shares.iter().zip(&self.acquired).map(|(s, a)| s * a).sum();
        if !(population.is_finite() && population > 0.0) {
            return Err(ChangeError::Overflow {
                what: "the number of customers the changes bring".to_owned(),
                fix: "the spend changes multiply arrivals beyond f64: use smaller changes",
            });
        }
        let segments = self
            .model
            .segments
            .iter()
            .zip(self.chains)
            .enumerate()
            .map(|(k, (s, mut chain))| {
                chain.entry.retain(|&(_, p)| p > 0.0);
                for row in &mut chain.next {
                    row.retain(|&(_, p)| p > 0.0);
                }
                super::SegmentChain {
                    id: s.id.clone(),
                    label: s.label.clone(),
                    share: self.shares[k] * self.acquired[k] / population,
                    chain,
                }
            })
            .collect();
        Ok(Variant {
            model: self.model.rebuilt(self.states, segments),
            population,
            spend: self.spend,
            notes: self.notes,
        })
    }
}

fn segment_note(model: &Model, s: usize) -> String {
    if model.segments.len() > 1 { format!(" (segment '{}')", model.segments[s].id) } else { String::new() }
}

/// " (segments averaged by share)" in a segmented model, else empty.
fn averaged_note(model: &Model) -> String {
    if model.segments.len() > 1 { " (segments averaged by share)".to_owned() } else { String::new() }
}

/// Probability of the row's targets in the set.
fn probability(row: &[(Target, f64)], in_set: impl Fn(Target) -> bool) -> f64 {
    row.iter().filter(|(t, _)| in_set(*t)).map(|(_, p)| p).sum()
}

fn name(states: &[State], t: Target) -> &str {
    if t == EXIT { "exit" } else { &states[t as usize].id }
}

/// Multiplies the probabilities of targets in the set by `m`, then
/// normalises the row; a row left with nothing goes to the exit.
pub fn scale_and_normalise(row: &mut Vec<(Target, f64)>, in_set: &impl Fn(Target) -> bool, m: f64) {
    let mut total = 0.0;
    for (t, p) in row.iter_mut() {
        if in_set(*t) {
            *p *= m;
        }
        total += *p;
    }
    if total > 0.0 {
        for (_, p) in row.iter_mut() {
            *p /= total;
        }
    } else if !row.is_empty() {
        row.clear();
        row.push((EXIT, 1.0));
    }
}

/// Multiplies the probabilities of targets in the set by `m`, taking the
/// added mass from (or giving it back to) the exit. Fails with (needed,
/// available) when the exit has too little.
pub fn scale_from_exit(
    row: &mut Vec<(Target, f64)>,
    in_set: &impl Fn(Target) -> bool,
    m: f64,
) -> Result<(), (f64, f64)> {
    let mass: f64 = row.iter().filter(|(t, _)| in_set(*t)).map(|(_, p)| p).sum();
    if mass == 0.0 {
        return Ok(());
    }
    let added = (m - 1.0) * mass;
    let exit = row.iter().find(|(t, _)| *t == EXIT).map_or(0.0, |(_, p)| *p);
    if added > exit + 1e-12 {
        return Err((added, exit));
    }
    for (t, p) in row.iter_mut() {
        if in_set(*t) {
            *p *= m;
        } else if *t == EXIT {
            *p = (*p - added).max(0.0);
        }
    }
    if exit == 0.0 && added < 0.0 {
        row.push((EXIT, -added));
    }
    Ok(())
}

/// Scales or sets the probability of `to` in a row; the others absorb the
/// difference in proportion.
fn set_transition(row: &mut Vec<(Target, f64)>, to: Target, amount: Amount) -> Result<(), TransitionError> {
    let old = row.iter().find(|(t, _)| *t == to).map_or(0.0, |(_, p)| *p);
    let new = match amount {
        Amount::Scale(f) => old * f,
        Amount::Set(p) => p,
    };
    if !(0.0..=1.0).contains(&new) {
        return Err(TransitionError::OutOfRange { new, old });
    }
    if old >= 1.0 && new < 1.0 {
        return Err(TransitionError::OnlyWayOut);
    }
    let rest = if old < 1.0 { (1.0 - new) / (1.0 - old) } else { 0.0 };
    for (t, p) in row.iter_mut() {
        *p = if *t == to { new } else { *p * rest };
    }
    if old == 0.0 && new > 0.0 {
        row.push((to, new));
    }
    Ok(())
}

/// Which states a journey can visit when it starts by one of the moves
/// of `starts` (rows hold positive weights only): `[entry]`'s, or a
/// state's own row for the states it reaches in one step or more.
pub fn reachable_from(starts: &[(Target, f64)], next: &[Vec<(Target, f64)>]) -> Vec<bool> {
    let mut seen = vec![false; next.len()];
    let mut queue: Vec<usize> = starts.iter().filter(|(t, _)| *t != EXIT).map(|&(t, _)| t as usize).collect();
    while let Some(i) = queue.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        queue.extend(next[i].iter().filter(|(t, _)| *t != EXIT).map(|&(t, _)| t as usize));
    }
    seen
}

/// States from which no path of positive probability leads to the exit.
pub fn cannot_reach_exit(next: &[Vec<(Target, f64)>]) -> Vec<usize> {
    let n = next.len();
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut can_exit = vec![false; n];
    let mut queue = Vec::new();
    for (i, row) in next.iter().enumerate() {
        for &(t, p) in row {
            if p <= 0.0 {
                continue;
            }
            if t == EXIT {
                if !can_exit[i] {
                    can_exit[i] = true;
                    queue.push(i);
                }
            } else {
                incoming[t as usize].push(i);
            }
        }
    }
    while let Some(j) = queue.pop() {
        for &i in &incoming[j] {
            if !can_exit[i] {
                can_exit[i] = true;
                queue.push(i);
            }
        }
    }
    (0..n).filter(|&i| !can_exit[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hill_multiplier_is_one_at_baseline_and_saturates() {
        let s = Spend { baseline: 100.0, half_saturation: 100.0, slope: 1.0, drives: Mechanism::Share };
        assert!((s.multiplier(100.0) - 1.0).abs() < 1e-12);
        assert!((s.response(100.0) - 0.5).abs() < 1e-12);
        assert!((s.multiplier(300.0) - 1.5).abs() < 1e-12); // 0.75 / 0.5
        assert_eq!(s.multiplier(0.0), 0.0);
    }

    #[test]
    fn transitions_scale_and_set_with_the_rest_in_proportion() {
        let mut row = vec![(0, 0.5), (1, 0.25), (EXIT, 0.25)];
        set_transition(&mut row, 1, Amount::Set(0.5)).unwrap();
        assert_eq!(row, vec![(0, 0.5 * 0.5 / 0.75), (1, 0.5), (EXIT, 0.25 * 0.5 / 0.75)]);
        let mut row = vec![(0, 1.0)];
        assert!(set_transition(&mut row, 0, Amount::Scale(0.5)).is_err());
    }

    #[test]
    fn incremental_takes_only_from_the_exit() {
        let mut row = vec![(0, 0.2), (1, 0.3), (EXIT, 0.5)];
        scale_from_exit(&mut row, &|t| t == 0, 2.0).unwrap();
        assert_eq!(row, vec![(0, 0.4), (1, 0.3), (EXIT, 0.3)]);
        let mut row = vec![(0, 0.2), (1, 0.3), (EXIT, 0.5)];
        assert_eq!(scale_from_exit(&mut row, &|t| t == 0, 5.0), Err((0.8, 0.5)));
    }
}
