//! `WhatifResult`: the outcome of `fogg whatif`.

use serde::{Deserialize, Serialize};

use super::{Header, ResultKind, ScenarioInfo};
use fogg_core::shard::Shard;
use fogg_engine::whatif::allocate::{Allocation, Objective};
use fogg_engine::whatif::curve::CurvePoint;
use fogg_engine::whatif::paired::{Estimate, Figures, Scale};
use fogg_engine::whatif::{ExactFigures, PairedMoments};
use fogg_model::{ChannelId, Model, Strategy, Variant};

/// Strategies against the baseline, and optionally a response curve and a
/// budget allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatifResult {
    /// Kind, versions, scenario and seed.
    #[serde(flatten)]
    pub header: Header,
    /// What a period is called; every total is per period.
    pub period: String,
    /// Baseline customers per period (the scenario's
    /// `customers_per_period`, or the customers simulated).
    pub customers_per_period: f64,
    /// Customers of the whole run, simulated per strategy (the same
    /// customers in each).
    pub customers_simulated: u64,
    /// Which shard of the run this is (1/1 for a whole run).
    pub shard: Shard,
    /// The customers this result walked: `[start, end)` of the run.
    pub customer_range: [u64; 2],
    /// Seconds the simulation took.
    pub elapsed_s: f64,
    /// Stopped by a signal before every customer was walked: the figures
    /// are of the customers walked (every pair complete; the exact values
    /// hold), and the result cannot be merged.
    #[serde(default)]
    pub interrupted: bool,
    /// The channels that declare spend, with their response curves.
    pub spend_channels: Vec<SpendRow>,
    /// The baseline first, then each strategy.
    pub strategies: Vec<StrategyRow>,
    /// With `--curve`: the channel's response curve.
    pub curve: Option<CurveResult>,
    /// With `--allocate`: the best split of the budget.
    pub allocation: Option<AllocationResult>,
}

/// One strategy: absolute figures per period, and differences from the
/// baseline with 95% intervals of the paired difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyRow {
    /// `baseline`, a scenario strategy's id, `change` (from --change) or
    /// `allocation`.
    pub id: String,
    /// What it means.
    pub description: Option<String>,
    /// The changes as written.
    pub changes: Vec<String>,
    /// What the changes did (e.g. spend mechanism and response multiplier).
    pub notes: Vec<String>,
    /// Customers per period.
    pub customers: f64,
    /// Simulated conversions per period (repeat purchases included).
    pub conversions: f64,
    /// The closed form's expected conversions per period.
    pub exact_conversions: f64,
    /// Simulated share of customers who convert.
    pub conversion_rate: f64,
    /// The closed form's.
    pub exact_conversion_rate: f64,
    /// Simulated revenue per period.
    pub revenue: f64,
    /// The closed form's.
    pub exact_revenue: f64,
    /// Paid spend per period (the channels' declared spend).
    pub spend: f64,
    /// Spend plus touch costs per period, simulated.
    pub cost: f64,
    /// The closed form's.
    pub exact_cost: f64,
    /// Cost per conversion; null without conversions.
    pub cpa: Option<f64>,
    /// Revenue per unit of cost; null without cost.
    pub roas: Option<f64>,
    /// Conversions minus the baseline's.
    pub delta_conversions: f64,
    /// 95% interval of the paired difference.
    pub delta_conversions_ci95: [f64; 2],
    /// The closed form's difference.
    pub exact_delta_conversions: f64,
    /// Conversion rate minus the baseline's.
    pub delta_conversion_rate: f64,
    /// Its 95% interval.
    pub delta_conversion_rate_ci95: [f64; 2],
    /// Revenue minus the baseline's.
    pub delta_revenue: f64,
    /// Its 95% interval.
    pub delta_revenue_ci95: [f64; 2],
    /// Spend minus the baseline's (exact: spend is set, not drawn).
    pub delta_spend: f64,
    /// Cost minus the baseline's.
    pub delta_cost: f64,
    /// Its 95% interval.
    pub delta_cost_ci95: [f64; 2],
    /// CPA minus the baseline's; null when either has no conversions.
    pub delta_cpa: Option<f64>,
    /// Its 95% interval.
    pub delta_cpa_ci95: Option<[f64; 2]>,
    /// ROAS minus the baseline's; null when either has no cost.
    pub delta_roas: Option<f64>,
    /// Its 95% interval.
    pub delta_roas_ci95: Option<[f64; 2]>,
    /// Δcost / Δconversions: what each extra conversion costs; null when
    /// the difference in conversions is not significant.
    pub incremental_cpa: Option<f64>,
    /// Its 95% interval.
    pub incremental_cpa_ci95: Option<[f64; 2]>,
    /// Customers whose journey was cut at `max_steps` (either side).
    pub truncated: u64,
    /// Customers whose outcome differs from the baseline's. Below 30 the
    /// intervals mean nothing: no difference is called significant and
    /// the report says to raise -n.
    pub customers_differing: u64,
    /// The moments every figure comes from, so results can be re-rendered
    /// and merged without loss.
    pub moments: PairedMoments,
    /// On a scenario fitted to counts (`weights = "counts"`): 95%
    /// intervals of the exact figures over chains drawn from the counts'
    /// posterior, the data's uncertainty; null otherwise.
    #[serde(default)]
    pub data_ci95: Option<fogg_engine::whatif::data::DataIntervals>,
}

/// `--curve CHANNEL`: expected figures as the channel's spend varies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveResult {
    /// Channel id.
    pub channel: String,
    /// What its spend drives.
    pub mechanism: String,
    /// Spend today.
    pub baseline_spend: f64,
    /// Hill half-saturation.
    pub half_saturation: f64,
    /// Hill slope.
    pub slope: f64,
    /// From 0 to twice today's spend.
    pub points: Vec<CurvePointRow>,
}

/// One point of a response curve (exact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePointRow {
    /// The channel's spend per period.
    pub spend: f64,
    /// Response multiplier against today's spend.
    pub multiplier: f64,
    /// Expected conversions per period.
    pub conversions: f64,
    /// Expected revenue per period.
    pub revenue: f64,
    /// Expected cost per period.
    pub cost: f64,
    /// Revenue over cost.
    pub roas: Option<f64>,
    /// Conversions one more unit of spend buys here.
    pub marginal_conversions: Option<f64>,
    /// Revenue one more unit of spend brings here.
    pub marginal_roas: Option<f64>,
}

/// `--allocate BUDGET`: the split that maximises the objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationResult {
    /// Total budget per period.
    pub budget: f64,
    /// `conversions` or `revenue`.
    pub objective: String,
    /// Per channel that declares spend.
    pub channels: Vec<AllocationRow>,
    /// Expected conversions per period at the allocation.
    pub conversions: f64,
    /// Expected revenue per period at the allocation.
    pub revenue: f64,
    /// Expected conversions per period today.
    pub baseline_conversions: f64,
    /// Expected revenue per period today.
    pub baseline_revenue: f64,
    /// Where the next unit of budget does most, among the channels below
    /// their upper bound; null when every channel is at its cap.
    pub next_unit: Option<String>,
    /// Budget the bounds left unspent.
    pub unspent: f64,
    /// With `--target`: the target the budget was searched for, as
    /// written (`conversions >= 500`); `budget` is then the budget found.
    #[serde(default)]
    pub target: Option<String>,
    /// With `--target`: the most budget the search could use
    /// (`--allocate`).
    #[serde(default)]
    pub budget_limit: Option<f64>,
}

/// One channel's share of an allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationRow {
    /// Channel id.
    pub channel: String,
    /// What its spend drives.
    pub mechanism: String,
    /// Spend today.
    pub today: f64,
    /// Spend in the allocation.
    pub allocated: f64,
    /// Lower bound used.
    pub min: f64,
    /// Upper bound used (null: none).
    pub max: Option<f64>,
    /// Objective per extra unit of spend at the allocation.
    pub marginal: f64,
}

/// A channel's declared spend and response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendRow {
    /// Channel id.
    pub channel: String,
    /// What its spend drives.
    pub mechanism: fogg_model::Mechanism,
    /// Spend per period today.
    pub baseline: f64,
    /// Hill half-saturation.
    pub half_saturation: f64,
    /// Hill slope.
    pub slope: f64,
}

impl StrategyRow {
    /// Sets every simulated figure, difference and interval from `moments`
    /// (the exact values, spend and changes stay): what a run and a merge
    /// of shards both do, so they agree to the last bit.
    pub fn refigure(&mut self, moments: PairedMoments, customers_per_period: f64, baseline_spend: f64) {
        let scale = Scale {
            customers_per_period,
            population: self.customers / customers_per_period,
            baseline_spend,
            spend: self.spend,
        };
        let f = Figures::of(&moments, &scale);
        let both_finite = |e: &Estimate| e.value.is_finite() && e.baseline.is_finite();
        let finite = |x: f64| x.is_finite().then_some(x);
        self.conversions = f.conversions.value;
        self.conversion_rate = f.conversion_rate.value;
        self.revenue = f.revenue.value;
        self.cost = f.cost.value;
        self.cpa = finite(f.cpa.value);
        self.roas = finite(f.roas.value);
        self.delta_conversions = f.conversions.delta;
        self.delta_conversions_ci95 = f.conversions.ci95;
        self.delta_conversion_rate = f.conversion_rate.delta;
        self.delta_conversion_rate_ci95 = f.conversion_rate.ci95;
        self.delta_revenue = f.revenue.delta;
        self.delta_revenue_ci95 = f.revenue.ci95;
        self.delta_cost = f.cost.delta;
        self.delta_cost_ci95 = f.cost.ci95;
        self.delta_cpa = both_finite(&f.cpa).then_some(f.cpa.delta);
        self.delta_cpa_ci95 = both_finite(&f.cpa).then_some(f.cpa.ci95);
        self.delta_roas = both_finite(&f.roas).then_some(f.roas.delta);
        self.delta_roas_ci95 = both_finite(&f.roas).then_some(f.roas.ci95);
        let significant = f.conversions.significant() && moments.intervals_reliable();
        self.incremental_cpa = significant.then_some(f.incremental_cpa.value);
        self.incremental_cpa_ci95 = significant.then_some(f.incremental_cpa.ci95);
        self.truncated = moments.truncated;
        self.customers_differing = moments.differing;
        self.moments = moments;
    }
}

impl SpendRow {
    /// The channel's response curve.
    pub fn curve(&self) -> fogg_model::Spend {
        fogg_model::Spend {
            baseline: self.baseline,
            half_saturation: self.half_saturation,
            slope: self.slope,
            drives: self.mechanism,
        }
    }
}

/// The baseline every strategy row is measured against.
#[derive(Debug, Clone, Copy)]
pub struct Baseline {
    /// Baseline customers per period.
    pub per_period: f64,
    /// Baseline spend per period.
    pub spend: f64,
    /// The baseline's closed-form figures.
    pub exact: ExactFigures,
}

impl Baseline {
    /// The figures of `model` as it is.
    pub fn of(model: &Model, per_period: f64) -> Baseline {
        let baseline = model.baseline();
        Baseline {
            per_period,
            spend: baseline.spend.iter().sum(),
            exact: ExactFigures::of(&baseline, per_period),
        }
    }
}

/// What a what-if run did, beside its rows: who was walked, and how long
/// it took.
#[derive(Debug, Clone)]
pub struct WhatifRun {
    /// Customers of the whole run.
    pub customers_simulated: u64,
    /// Which shard of the run this is.
    pub shard: Shard,
    /// The customers walked.
    pub customers: std::ops::Range<u64>,
    /// Seed of the run.
    pub seed: u64,
    /// Seconds the simulation took.
    pub elapsed_s: f64,
    /// Stopped by a signal before every customer was walked.
    pub interrupted: bool,
}

impl WhatifResult {
    /// The result of `run` on `model`: the rows (baseline first), and the
    /// curve and allocation when asked for.
    pub fn new(
        model: &Model,
        base: &Baseline,
        run: WhatifRun,
        strategies: Vec<StrategyRow>,
        curve: Option<CurveResult>,
        allocation: Option<AllocationResult>,
    ) -> WhatifResult {
        WhatifResult {
            header: Header::new(ResultKind::Whatif, ScenarioInfo::of(model), run.seed),
            period: model.period.clone(),
            customers_per_period: base.per_period,
            customers_simulated: run.customers_simulated,
            shard: run.shard,
            customer_range: [run.customers.start, run.customers.end],
            elapsed_s: run.elapsed_s,
            interrupted: run.interrupted,
            spend_channels: model
                .channels
                .iter()
                .filter_map(|c| {
                    c.spend.map(|s| SpendRow {
                        channel: c.id.clone(),
                        mechanism: s.drives,
                        baseline: s.baseline,
                        half_saturation: s.half_saturation,
                        slope: s.slope,
                    })
                })
                .collect(),
            strategies,
            curve,
            allocation,
        }
    }
}

impl StrategyRow {
    /// The baseline's row: the model as it is, against itself.
    pub fn baseline(model: &Model, moments: &PairedMoments, base: &Baseline) -> StrategyRow {
        let unchanged = Strategy {
            id: "baseline".to_owned(),
            description: Some("the scenario as it is".to_owned()),
            changes: Vec::new(),
            written: Vec::new(),
        };
        StrategyRow::new(&unchanged, &model.baseline(), moments, base)
    }

    /// One strategy's row: the closed form's values of its `variant`, then
    /// the simulated figures with paired intervals from `moments`.
    pub fn new(
        strategy: &Strategy,
        variant: &Variant,
        moments: &PairedMoments,
        base: &Baseline,
    ) -> StrategyRow {
        let (per_period, base_spend, base_exact) = (base.per_period, base.spend, &base.exact);
        let exact = ExactFigures::of(variant, per_period);
        let mut row = StrategyRow {
            id: strategy.id.clone(),
            description: strategy.description.clone(),
            changes: strategy.written.clone(),
            notes: variant.notes.clone(),
            customers: per_period * variant.population,
            conversions: 0.0,
            exact_conversions: exact.conversions,
            conversion_rate: 0.0,
            exact_conversion_rate: exact.conversion_rate,
            revenue: 0.0,
            exact_revenue: exact.revenue,
            spend: variant.spend.iter().sum(),
            cost: 0.0,
            exact_cost: exact.cost,
            cpa: None,
            roas: None,
            delta_conversions: 0.0,
            delta_conversions_ci95: [0.0; 2],
            exact_delta_conversions: exact.conversions - base_exact.conversions,
            delta_conversion_rate: 0.0,
            delta_conversion_rate_ci95: [0.0; 2],
            delta_revenue: 0.0,
            delta_revenue_ci95: [0.0; 2],
            delta_spend: variant.spend.iter().sum::<f64>() - base_spend,
            delta_cost: 0.0,
            delta_cost_ci95: [0.0; 2],
            delta_cpa: None,
            delta_cpa_ci95: None,
            delta_roas: None,
            delta_roas_ci95: None,
            incremental_cpa: None,
            incremental_cpa_ci95: None,
            truncated: 0,
            customers_differing: 0,
            moments: PairedMoments::default(),
            data_ci95: None,
        };
        row.refigure(moments.clone(), per_period, base_spend);
        row
    }
}

impl CurveResult {
    /// A channel's response curve as `sweep` traced it.
    pub fn new(model: &Model, channel: ChannelId, points: Vec<CurvePoint>) -> CurveResult {
        let id = &model.channels[channel.0 as usize].id;
        let spend =
            model.channels[channel.0 as usize].spend.expect("sweep takes only channels that declare spend");
        let finite = |x: f64| x.is_finite().then_some(x);
        let points = points
            .into_iter()
            .map(|p| CurvePointRow {
                spend: p.spend,
                multiplier: p.multiplier,
                conversions: p.exact.conversions,
                revenue: p.exact.revenue,
                cost: p.exact.cost,
                roas: finite(p.exact.revenue / p.exact.cost),
                marginal_conversions: finite(p.marginal_conversions),
                marginal_roas: finite(p.marginal_roas),
            })
            .collect();
        CurveResult {
            channel: id.to_owned(),
            mechanism: spend.drives.name().to_owned(),
            baseline_spend: spend.baseline,
            half_saturation: spend.half_saturation,
            slope: spend.slope,
            points,
        }
    }
}

impl AllocationResult {
    /// The allocation `a` of `budget`, beside today's split.
    pub fn new(
        model: &Model,
        a: &Allocation,
        budget: f64,
        objective: Objective,
        per_period: f64,
    ) -> AllocationResult {
        let today = ExactFigures::of(&model.baseline(), per_period);
        let channels = a
            .channels
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let ch = &model.channels[c.0 as usize];
                let spend = ch.spend.expect("allocated channels declare spend");
                AllocationRow {
                    channel: ch.id.clone(),
                    mechanism: spend.drives.name().to_owned(),
                    today: spend.baseline,
                    allocated: a.spend[k],
                    min: a.bounds[k].0,
                    max: a.bounds[k].1.is_finite().then_some(a.bounds[k].1),
                    marginal: a.marginal[k],
                }
            })
            .collect();
        AllocationResult {
            budget,
            objective: objective.name().to_owned(),
            channels,
            conversions: a.exact.conversions,
            revenue: a.exact.revenue,
            baseline_conversions: today.conversions,
            baseline_revenue: today.revenue,
            next_unit: a.next_unit().map(|c| model.channels[c.0 as usize].id.clone()),
            unspent: a.unspent,
            target: None,
            budget_limit: None,
        }
    }
}
