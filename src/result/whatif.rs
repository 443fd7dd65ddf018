//! `WhatifResult`: the outcome of `fogg whatif`.

use serde::{Deserialize, Serialize};

use crate::shard::Shard;
use crate::whatif::PairedMoments;
use crate::whatif::paired::{Estimate, Figures, Scale};

/// Strategies against the baseline, and optionally a response curve and a
/// budget allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatifResult {
    /// Version of this JSON contract.
    pub schema_version: u32,
    /// Always `"whatif"`.
    pub kind: crate::result::ResultKind,
    /// Version of fogg that produced it.
    pub fogg_version: String,
    /// Where the scenario came from.
    pub source: String,
    /// Scenario name.
    pub scenario: String,
    /// Currency of money figures.
    pub currency: String,
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
    /// Seed of the run.
    pub seed: u64,
    /// Seconds the simulation took.
    pub elapsed_s: f64,
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
    /// The moments every figure comes from, so results can be re-rendered
    /// and merged without loss.
    pub moments: PairedMoments,
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
    /// Where the next unit of budget does most.
    pub next_unit: String,
    /// Budget the bounds left unspent.
    pub unspent: f64,
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
    pub mechanism: crate::model::Mechanism,
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
        let significant = f.conversions.significant();
        self.incremental_cpa = significant.then_some(f.incremental_cpa.value);
        self.incremental_cpa_ci95 = significant.then_some(f.incremental_cpa.ci95);
        self.truncated = moments.truncated;
        self.moments = moments;
    }
}

impl SpendRow {
    /// The channel's response curve.
    pub fn curve(&self) -> crate::model::Spend {
        crate::model::Spend {
            baseline: self.baseline,
            half_saturation: self.half_saturation,
            slope: self.slope,
            drives: self.mechanism,
        }
    }
}
