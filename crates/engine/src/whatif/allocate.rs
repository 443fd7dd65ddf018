//! `fogg whatif --allocate BUDGET`: the split of a total budget across the
//! channels that declare spend which maximises expected conversions (or
//! revenue), answered on the closed form.
//!
//! Greedy marginal allocation in 200 increments (each goes to the channel
//! whose next increment gains most), then pairwise exchanges of shrinking
//! size until no move of budget from one channel to another helps. With
//! concave responses this is the optimum; with S-shaped ones (slope > 1)
//! it is a local one, which the report says.
//!
//! With a [`Target`], the budget itself is searched (bisection, up to the
//! budget given): the least budget whose best split reaches a number of
//! conversions, or the most whose best split keeps a cost per acquisition
//! or a return on spend.

use fogg_core::units::shown;
use fogg_model::change::{Change, SpendLevel, Strategy};
use fogg_model::{ChannelId, Model};

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
    pub fn parse(text: &str) -> Result<Bound, AllocateError> {
        let usage = || AllocateError::BoundSyntax(text.to_owned());
        let (channel, range) = text.split_once('=').ok_or_else(usage)?;
        let (lo, hi) = range.split_once("..").ok_or_else(usage)?;
        let num = |s: &str, default: f64| {
            if s.trim().is_empty() { Ok(default) } else { s.trim().parse::<f64>().map_err(|_| usage()) }
        };
        let (min, max) = (num(lo, 0.0)?, num(hi, f64::INFINITY)?);
        if !(min >= 0.0 && min <= max) {
            return Err(AllocateError::BoundOrder(text.to_owned()));
        }
        Ok(Bound { channel: channel.trim().to_owned(), min, max })
    }
}

/// What a budget must achieve (`--target`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The least budget whose best split reaches this many conversions per
    /// period (`conversions>=N`).
    Conversions(f64),
    /// The most conversions at a cost per acquisition (cost over
    /// conversions) of at most this (`cpa<=X`).
    Cpa(f64),
    /// The most revenue at a return on spend (revenue over cost) of at
    /// least this (`roas>=R`).
    Roas(f64),
}

impl Target {
    /// Parses `conversions>=N`, `cpa<=X` or `roas>=R` (spaces allowed).
    pub fn parse(text: &str) -> Result<Target, AllocateError> {
        let usage = || AllocateError::TargetSyntax(text.to_owned());
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
        let (kind, number) = ["conversions>=", "cpa<=", "roas>="]
            .iter()
            .find_map(|prefix| t.strip_prefix(prefix).map(|rest| (*prefix, rest)))
            .ok_or_else(usage)?;
        let x: f64 = number.trim_end_matches('%').parse().map_err(|_| usage())?;
        if !(x.is_finite() && x > 0.0) {
            return Err(usage());
        }
        Ok(match kind {
            "conversions>=" => Target::Conversions(x),
            "cpa<=" => Target::Cpa(x),
            _ => Target::Roas(x),
        })
    }

    /// What the split of each budget tried maximises.
    pub fn objective(self) -> Objective {
        match self {
            Target::Roas(_) => Objective::Revenue,
            Target::Conversions(_) | Target::Cpa(_) => Objective::Conversions,
        }
    }

    /// As written: `conversions >= 500`.
    pub fn describe(self) -> String {
        match self {
            Target::Conversions(n) => format!("conversions >= {}", shown(n)),
            Target::Cpa(x) => format!("cpa <= {}", shown(x)),
            Target::Roas(r) => format!("roas >= {}", shown(r)),
        }
    }

    /// Whether `figures` meet it.
    fn met(self, figures: &ExactFigures) -> bool {
        match self {
            Target::Conversions(n) => figures.conversions >= n,
            Target::Cpa(x) => figures.conversions > 0.0 && figures.cost / figures.conversions <= x,
            Target::Roas(r) => figures.cost > 0.0 && figures.revenue / figures.cost >= r,
        }
    }

    /// The figure it is about, at `figures`, as a reader wants it.
    fn reached(self, figures: &ExactFigures) -> String {
        match self {
            Target::Conversions(_) => format!("{:.1} conversions", figures.conversions),
            Target::Cpa(_) => format!("a CPA of {:.2}", figures.cost / figures.conversions),
            Target::Roas(_) => format!("a ROAS of {:.3}", figures.revenue / figures.cost),
        }
    }
}

/// Why a budget cannot be allocated, or a bound not read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AllocateError {
    /// `--bound` text that is not `CHANNEL=MIN..MAX`.
    #[error("'{0}' is not a bound: write CHANNEL=MIN..MAX, e.g. social=5000..40000 or print=..8000")]
    BoundSyntax(String),
    /// A bound whose MIN is negative or above its MAX.
    #[error("'{0}': the bounds must satisfy 0 ≤ MIN ≤ MAX")]
    BoundOrder(String),
    /// The scenario has nothing to spend a budget on.
    #[error(
        "no channel declares spend: add `spend = {{ … }}` to the [[channel]] tables to allocate a budget"
    )]
    NoSpendChannel,
    /// The budget is zero, negative or not a number.
    #[error("--allocate {budget}: the budget must be a positive amount per {period}")]
    Budget {
        /// The budget given.
        budget: f64,
        /// What the scenario calls a period.
        period: String,
    },
    /// A bound names a channel the scenario does not have.
    #[error("--bound {channel}: unknown channel; {hint}")]
    UnknownChannel {
        /// The channel named.
        channel: String,
        /// The nearest ids.
        hint: String,
    },
    /// A bound names a channel without spend.
    #[error("--bound {0}: the channel declares no spend, so it takes no budget")]
    NoSpend(String),
    /// The lower bounds alone exceed the budget.
    #[error("the lower bounds add up to {floor:.0}, more than the budget of {budget:.0}")]
    FloorAboveBudget {
        /// Sum of the lower bounds.
        floor: f64,
        /// The budget.
        budget: f64,
    },
    /// `--target` text that is none of the forms.
    #[error("'{0}' is not a target: write conversions>=N, cpa<=X or roas>=R, with a number above 0")]
    TargetSyntax(String),
    /// No budget up to the one given meets the target.
    #[error("{target} cannot be met with at most {budget:.0} per {period}: {why}")]
    Unreachable {
        /// The target, as written.
        target: String,
        /// The budget given.
        budget: f64,
        /// What a period is.
        period: String,
        /// What the nearest budget achieves, and what to change.
        why: String,
    },
    /// Every split leaves the model without an entry.
    #[error("no split of this budget lets a journey start: raise the budget or the bounds")]
    NoJourney,
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

    /// The split as the strategy `allocation`, found for `budget` and
    /// `objective`.
    pub fn strategy(&self, model: &Model, budget: f64, objective: Objective) -> Strategy {
        let written = self
            .channels
            .iter()
            .zip(&self.spend)
            .map(|(c, s)| format!("spend {} ={:.0}", model.channels[c.0 as usize].id, s))
            .collect();
        Strategy {
            id: "allocation".to_owned(),
            description: Some(format!(
                "{budget:.0} per {} split to maximise {}",
                model.period,
                objective.name()
            )),
            changes: self.changes(),
            written,
        }
    }

    /// The channel where the next unit of budget does most, among those
    /// below their upper bound; `None` when every channel is at its cap.
    /// A channel within 0.1% of the budget of its cap is at it: the search
    /// refines spend in steps about that fine.
    pub fn next_unit(&self) -> Option<ChannelId> {
        let tolerance = 1e-3 * (self.spend.iter().sum::<f64>() + self.unspent);
        let room = |i: usize| self.spend[i] < self.bounds[i].1 - tolerance;
        let best = (0..self.channels.len())
            .filter(|&i| room(i))
            .max_by(|&a, &b| self.marginal[a].total_cmp(&self.marginal[b]))?;
        Some(self.channels[best])
    }
}

/// Allocates `budget` across the channels that declare spend.
pub fn allocate(
    model: &Model,
    budget: f64,
    objective: Objective,
    bounds: &[Bound],
    per_period: f64,
) -> Result<Allocation, AllocateError> {
    let channels: Vec<ChannelId> = (0..model.channels.len())
        .filter(|&c| model.channels[c].spend.is_some())
        .map(|c| ChannelId(c as u8))
        .collect();
    if channels.is_empty() {
        return Err(AllocateError::NoSpendChannel);
    }
    if !(budget.is_finite() && budget > 0.0) {
        return Err(AllocateError::Budget { budget, period: model.period.clone() });
    }
    let limits = limits(model, &channels, bounds)?;
    let floor: f64 = limits.iter().map(|l| l.0).sum();
    if floor > budget {
        return Err(AllocateError::FloorAboveBudget { floor, budget });
    }
    let search = Search { model, channels, limits, objective, per_period };
    let step = (budget - floor) / STEPS as f64;
    let (mut spend, mut left) = search.greedy(budget - floor, step);
    search.exchange(&mut spend, step);
    // The greedy pass starts from the lower bounds, where a response that
    // jumps at zero spend can trap it far below today's split. The same
    // search started from today's split, scaled to the budget, can only
    // improve on it: the better of the two is never worse than today.
    if let Some(mut today) = search.todays_split(budget) {
        search.exchange(&mut today, step);
        if search.score(&today) > search.score(&spend) {
            left = budget - today.iter().sum::<f64>();
            spend = today;
        }
    }
    let exact = search.figures(&spend).ok_or(AllocateError::NoJourney)?;
    let marginal = search.marginal(&spend, (budget * 1e-3).max(1e-6));
    let Search { channels, limits, .. } = search;
    Ok(Allocation { channels, spend, bounds: limits, marginal, exact, unspent: left.max(0.0) })
}

/// Increments the greedy pass hands out.
const STEPS: usize = 200;

/// Each allocated channel's `(min, max)` spend from the `--bound`s.
fn limits(model: &Model, channels: &[ChannelId], bounds: &[Bound]) -> Result<Vec<(f64, f64)>, AllocateError> {
    let mut limits = vec![(0.0, f64::INFINITY); channels.len()];
    for b in bounds {
        let Some(c) = model.channel_id(&b.channel) else {
            let hint =
                fogg_core::suggest::did_you_mean(&b.channel, model.channels.iter().map(|c| c.id.as_str()));
            return Err(AllocateError::UnknownChannel { channel: b.channel.clone(), hint });
        };
        let Some(k) = channels.iter().position(|&x| x == c) else {
            return Err(AllocateError::NoSpend(b.channel.clone()));
        };
        limits[k] = (b.min, b.max);
    }
    Ok(limits)
}

/// The allocation problem: the objective of a split of spend over
/// `channels`, each within its limits.
struct Search<'a> {
    model: &'a Model,
    channels: Vec<ChannelId>,
    limits: Vec<(f64, f64)>,
    objective: Objective,
    per_period: f64,
}

impl Search<'_> {
    /// Expected figures of a split, or `None` when no journey can start.
    fn figures(&self, spend: &[f64]) -> Option<ExactFigures> {
        let changes: Vec<Change> = self
            .channels
            .iter()
            .zip(spend)
            .map(|(&channel, &s)| Change::Spend { channel, level: SpendLevel::Absolute(s) })
            .collect();
        self.model.apply(&changes).ok().map(|v| ExactFigures::of(&v, self.per_period))
    }

    /// The objective of a split.
    fn score(&self, spend: &[f64]) -> f64 {
        self.figures(spend).map_or(f64::NEG_INFINITY, |e| match self.objective {
            Objective::Conversions => e.conversions,
            // Revenue net of nothing: the budget is fixed, so maximising
            // revenue maximises ROAS too.
            Objective::Revenue => e.revenue,
        })
    }

    /// Hands `free` out in increments of `step` from the lower bounds,
    /// each to the channel it gains most on: the split, and what the
    /// upper bounds left unspent.
    fn greedy(&self, free: f64, step: f64) -> (Vec<f64>, f64) {
        let mut spend: Vec<f64> = self.limits.iter().map(|l| l.0).collect();
        let mut left = free;
        while left > step * 1e-9 {
            let inc = step.min(left);
            let current = self.score(&spend);
            let mut best: Option<(usize, f64, f64)> = None;
            for k in 0..self.channels.len() {
                // A channel near its cap takes what room it has left, so
                // no budget is left unspent while a channel could use it.
                let add = inc.min(self.limits[k].1 - spend[k]);
                if add <= step * 1e-9 {
                    continue;
                }
                spend[k] += add;
                let gain = (self.score(&spend) - current) / add;
                spend[k] -= add;
                if best.is_none_or(|(_, g, _)| gain > g) {
                    best = Some((k, gain, add));
                }
            }
            let Some((k, _, add)) = best else { break };
            spend[k] += add;
            left -= add;
        }
        (spend, left)
    }

    /// Today's spend scaled to `budget` and kept within the limits (what
    /// one limit cuts off or adds goes to the others, in proportion);
    /// `None` when nothing is spent today or the limits leave no such
    /// split.
    fn todays_split(&self, budget: f64) -> Option<Vec<f64>> {
        let today: Vec<f64> = self
            .channels
            .iter()
            .map(|c| self.model.channels[c.0 as usize].spend.as_ref().map_or(0.0, |s| s.baseline))
            .collect();
        let mut spend = vec![0.0; today.len()];
        let mut free: Vec<usize> = (0..today.len()).collect();
        let mut left = budget;
        // Each pass pins at least one channel to a limit, or ends.
        for _ in 0..=today.len() {
            let weight: f64 = free.iter().map(|&k| today[k]).sum();
            if free.is_empty() || weight <= 0.0 {
                break;
            }
            let mut pinned = Vec::new();
            for &k in &free {
                let want = left * today[k] / weight;
                let (low, high) = self.limits[k];
                spend[k] = want.clamp(low, high);
                if spend[k] != want {
                    pinned.push(k);
                }
            }
            if pinned.is_empty() {
                break;
            }
            left -= pinned.iter().map(|&k| spend[k]).sum::<f64>();
            free.retain(|k| !pinned.contains(k));
        }
        let total: f64 = spend.iter().sum();
        ((total - budget).abs() <= 1e-9 * budget.max(1.0)).then_some(spend)
    }

    /// Moves budget between pairs of channels, in amounts shrinking from
    /// 4 steps to 1/64 of one, while a move improves the objective.
    fn exchange(&self, spend: &mut [f64], step: f64) {
        let mut delta = step * 4.0;
        while delta > step / 64.0 {
            while self.improve_once(spend, delta) {}
            delta /= 2.0;
        }
    }

    /// Makes the first move of `delta` from one channel to another that
    /// improves the objective; whether there was one.
    fn improve_once(&self, spend: &mut [f64], delta: f64) -> bool {
        let current = self.score(spend);
        let n = self.channels.len();
        for from in 0..n {
            for to in 0..n {
                if from == to
                    || spend[from] - delta < self.limits[from].0 - 1e-9
                    || spend[to] + delta > self.limits[to].1 + 1e-9
                {
                    continue;
                }
                spend[from] -= delta;
                spend[to] += delta;
                if self.score(spend) > current + 1e-9 * current.abs().max(1.0) {
                    return true;
                }
                spend[from] += delta;
                spend[to] -= delta;
            }
        }
        false
    }

    /// Objective gained per extra unit of spend on each channel, by a
    /// forward difference of `h`.
    fn marginal(&self, spend: &[f64], h: f64) -> Vec<f64> {
        let base = self.score(spend);
        (0..self.channels.len())
            .map(|k| {
                let mut s = spend.to_vec();
                s[k] += h;
                (self.score(&s) - base) / h
            })
            .collect()
    }
}

/// Bisection steps of the budget search: the budget found is within
/// 2^-40 of the range searched.
const TARGET_STEPS: usize = 40;

/// The allocation of the budget, up to `budget`, that meets `target`: the
/// least that reaches [`Target::Conversions`], or the most that keeps
/// [`Target::Cpa`] or [`Target::Roas`]; each budget tried is split to
/// maximise [`Target::objective`]. The search assumes what diminishing
/// returns give: conversions grow with the budget, and CPA grows and ROAS
/// falls with it.
pub fn allocate_to(
    model: &Model,
    budget: f64,
    target: Target,
    bounds: &[Bound],
    per_period: f64,
) -> Result<Allocation, AllocateError> {
    let objective = target.objective();
    let split = |b: f64| allocate(model, b, objective, bounds, per_period);
    let meeting = |a: Allocation| Ok(target.met(&a.exact).then_some(a));
    let whole = split(budget)?;
    // The least budget the lower bounds allow (a split needs some budget).
    let least = whole.bounds.iter().map(|b| b.0).sum::<f64>().max(budget * 1e-9);
    let unreachable = |why: String| AllocateError::Unreachable {
        target: target.describe(),
        budget,
        period: model.period.clone(),
        why,
    };
    match target {
        Target::Conversions(_) => {
            if !target.met(&whole.exact) {
                return Err(unreachable(format!(
                    "its best split reaches {}: raise --allocate or lower the target",
                    target.reached(&whole.exact)
                )));
            }
            let at_least = split(least)?;
            if target.met(&at_least.exact) {
                return Ok(at_least);
            }
            // Conversions grow with the budget: the least budget meeting it.
            bisect((least, budget), whole, Meets::High, |b| meeting(split(b)?))
        }
        Target::Cpa(_) | Target::Roas(_) => {
            if target.met(&whole.exact) {
                return Ok(whole);
            }
            let smallest = split(least)?;
            if !target.met(&smallest.exact) {
                return Err(unreachable(format!(
                    "even the least budget the bounds allow ({}) gives {}: the target asks for more than the channels return",
                    shown(least.round()),
                    target.reached(&smallest.exact)
                )));
            }
            // CPA grows and ROAS falls with the budget: the most meeting it.
            bisect((least, budget), smallest, Meets::Low, |b| meeting(split(b)?))
        }
    }
}

/// Which budgets of a bisection meet the target: the high ones (the least
/// such budget is sought) or the low ones (the most).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meets {
    High,
    Low,
}

/// Bisects the budgets `range` for [`TARGET_STEPS`] steps: `probe(b)`
/// gives the allocation of budget b when it meets the target. Returns the
/// last allocation that met it (`best` when none did).
fn bisect(
    range: (f64, f64),
    mut best: Allocation,
    meets: Meets,
    probe: impl Fn(f64) -> Result<Option<Allocation>, AllocateError>,
) -> Result<Allocation, AllocateError> {
    let (mut low, mut high) = range;
    for _ in 0..TARGET_STEPS {
        let mid = 0.5 * (low + high);
        let met = match probe(mid)? {
            Some(a) => {
                best = a;
                true
            }
            None => false,
        };
        if met == (meets == Meets::High) {
            high = mid;
        } else {
            low = mid;
        }
    }
    Ok(best)
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
        assert!(Bound::parse("print").unwrap_err().to_string().contains("CHANNEL=MIN..MAX"));
    }

    /// On the funnel at a budget of 31,000 the greedy pass alone put
    /// 30,995 on email: 416.6 conversions where today's split of the same
    /// budget gives 1,432.2 and the best about 1,434.5. The allocation is
    /// never worse than today's split of the budget, and here finds the
    /// best one.
    #[test]
    fn the_allocation_is_never_worse_than_todays_split() {
        let model = fogg_scenario::bundled("ecommerce-funnel").expect("bundled").expect("compiles").model;
        let per_period = model.customers_per_period.unwrap_or(1.0);
        for budget in [5_000.0, 20_000.0, 31_000.0, 40_000.0] {
            let found = allocate(&model, budget, Objective::Conversions, &[], per_period).expect("allocates");
            let search = Search {
                model: &model,
                channels: found.channels.clone(),
                limits: found.bounds.clone(),
                objective: Objective::Conversions,
                per_period,
            };
            let today = search.todays_split(budget).expect("today's split");
            assert!((today.iter().sum::<f64>() - budget).abs() < 1e-6);
            let todays = search.score(&today);
            assert!(
                found.exact.conversions >= todays - 1e-9,
                "{budget}: {} < {todays}",
                found.exact.conversions
            );
            if budget == 31_000.0 {
                assert!(found.exact.conversions > 1_434.0, "{}", found.exact.conversions);
            }
        }
    }
}
