//! `SimResult`: the outcome of `fogg simulate`.

use serde::{Deserialize, Serialize};

use super::{Header, ResultKind, ScenarioInfo};
use fogg_core::shard::Shard;
use fogg_engine::sim::paths::{SAMPLE_CUSTOMERS, path_text};
use fogg_engine::sim::stats::{Z95, mean_and_se, wilson};
use fogg_engine::sim::{SimAgg, SimOutcome, SimPlan, SimRun};
use fogg_model::Model;
use fogg_model::exact::Exact;

/// Top paths listed in a result.
pub const TOP_PATHS: usize = 10;

/// Result of a simulation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    /// Kind, versions, scenario and seed.
    #[serde(flatten)]
    pub header: Header,
    /// Customers walked.
    pub customers: u64,
    /// Customers with at least one conversion.
    pub converted_customers: u64,
    /// Conversion events, repeat purchases included.
    pub conversions: u64,
    /// Share of customers who converted at least once.
    pub conversion_rate: f64,
    /// 95% Wilson interval of the conversion rate.
    pub conversion_rate_ci95: [f64; 2],
    /// Exact probability of converting at least once.
    pub exact_conversion_rate: f64,
    /// Conversions per customer.
    pub conversions_per_customer: f64,
    /// 95% interval of conversions per customer (normal approximation).
    pub conversions_per_customer_ci95: [f64; 2],
    /// Exact expected conversions per customer.
    pub exact_conversions_per_customer: f64,
    /// Touchpoints visited in total.
    pub steps: u64,
    /// Exact expected touchpoints per customer.
    pub exact_steps_per_customer: f64,
    /// Journeys cut at `max_steps`.
    pub truncated: u64,
    /// The cut-off in force.
    pub max_steps: u32,
    /// Value of all conversions.
    pub revenue: f64,
    /// Revenue per customer.
    pub revenue_per_customer: f64,
    /// Exact expected revenue per customer.
    pub exact_revenue_per_customer: f64,
    /// Touches × cost per touch plus the spend these customers' share of a
    /// period carries, over every channel.
    pub cost: f64,
    /// Stopped by a signal before every customer was walked: the counts
    /// are of the chunks that ran (the exact values are unaffected), and
    /// the result cannot be merged.
    #[serde(default)]
    pub interrupted: bool,
    /// How many periods of the scenario the customers make (customers /
    /// customers_per_period): the periods of spend in `cost`. Null when
    /// the scenario gives no customers_per_period (and declares no spend).
    #[serde(default)]
    pub periods: Option<f64>,
    /// The scenario's period (`month` by default).
    #[serde(default)]
    pub period: String,
    /// Cost per converted customer; null when nobody converted.
    pub cost_per_acquisition: Option<f64>,
    /// Revenue / cost; null when nothing was spent.
    pub roas: Option<f64>,
    /// Customers by how far their journey got.
    pub funnel: Vec<FunnelRow>,
    /// Touches, cost, conversions and revenue per channel.
    pub channels: Vec<ChannelRow>,
    /// Outcomes per segment.
    pub segments: Vec<SegmentRow>,
    /// Distribution of touchpoints per journey.
    pub journey_length: JourneyLength,
    /// Time from the first touch to the first conversion.
    pub time_to_conversion: TimeToConversion,
    /// Most common channel paths.
    pub top_paths: Vec<PathRow>,
    /// Expected moves per customer between channels, exactly (the chain's
    /// closed form): row 0 is the start, row `1 + c` the channel `c` of
    /// `channels`; column `c` is channel `c` and the last column the exit.
    /// Empty in results written before fogg stored it.
    #[serde(default)]
    pub channel_flows: Vec<Vec<f64>>,
    /// Expected journeys between stages and channels per 1,000 customers,
    /// exactly, as the Sankey diagram draws them; null in results written
    /// before fogg stored it.
    #[serde(default)]
    pub flows: Option<super::Flows>,
    /// How the run went (varies between runs of the same seed).
    pub run: RunInfo,
    /// What `fogg merge` needs to combine shards into exactly the result
    /// of one run.
    pub raw: SimRaw,
}

/// The mergeable form of a simulation: which customers it covers, the
/// scenario text, and every count (histograms as compressed HdrHistogram
/// V2, base64-encoded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimRaw {
    /// Which part of the run this is (1/1 for a whole run).
    pub shard: Shard,
    /// Customer indices walked: `[start, end)`.
    pub customer_range: [u64; 2],
    /// Customers of the whole run.
    pub run_customers: u64,
    /// The scenario file's text without its `[load]` section (where
    /// headers and bodies may hold secrets), so a merge rebuilds the same
    /// journeys.
    pub scenario_toml: String,
    /// Everything counted.
    pub agg: SimAgg,
}

/// One stage of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelRow {
    /// Stage name.
    pub stage: String,
    /// Customers whose journey got at least this far (visited this stage
    /// or a later one).
    pub reached: u64,
    /// `reached` / customers.
    pub share: f64,
    /// Exact probability of getting this far.
    pub exact_share: f64,
    /// Share of the previous row's customers who got no further (0 for the
    /// first stage).
    pub drop_off: f64,
    /// Customers who visited a state of this very stage.
    pub visited: u64,
}

/// One channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelRow {
    /// Channel id.
    pub channel: String,
    /// `online` or `offline`.
    pub kind: fogg_model::ChannelKind,
    /// Touches.
    pub touches: u64,
    /// Touches × cost per touch, plus the channel's spend per period ×
    /// customers / customers_per_period.
    pub cost: f64,
    /// Conversions at touchpoints of this channel.
    pub conversions: u64,
    /// Their value.
    pub revenue: f64,
}

/// One segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRow {
    /// Segment id.
    pub segment: String,
    /// Configured share of the population.
    pub share: f64,
    /// Customers drawn into it.
    pub customers: u64,
    /// Of whom converted at least once.
    pub converted_customers: u64,
    /// Their conversions.
    pub conversions: u64,
    /// `converted_customers` / `customers`.
    pub conversion_rate: f64,
    /// Exact conversion rate of the segment.
    pub exact_conversion_rate: f64,
}

/// Touchpoints per journey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneyLength {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Longest.
    pub max: u64,
}

/// Time to first conversion, in `unit`; null when nobody converted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeToConversion {
    /// The scenario's time unit.
    pub unit: String,
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    #[serde(default)]
    pub p99: Option<f64>,
    /// Longest (a time beyond the histogram's top, over ten years, counts
    /// as its top).
    #[serde(default)]
    pub max: Option<f64>,
}

/// A channel path and how often it occurred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathRow {
    /// Channel ids joined by ` > `, consecutive repeats collapsed.
    pub path: String,
    /// Customers whose journey followed it.
    pub customers: u64,
    /// Of whom converted.
    pub converted_customers: u64,
    /// `converted_customers` / `customers`.
    pub conversion_rate: f64,
}

/// Facts about the run that do not depend on the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Worker threads (of each shard, in a merged result).
    pub threads: usize,
    /// Shards merged into this result (1 for a run in one piece).
    #[serde(default = "one")]
    pub shards: u32,
    /// Wall-clock time of the simulation.
    pub elapsed_s: f64,
    /// Touchpoints walked per second.
    pub steps_per_s: f64,
    /// How the top paths were chosen.
    pub top_paths_method: String,
}

fn one() -> u32 {
    1
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

impl SimResult {
    /// Builds the result of a finished run.
    pub fn new(model: &Model, scenario_text: &str, plan: &SimPlan, run: &SimRun) -> SimResult {
        let SimRun { outcome, threads, elapsed_s } = run;
        let (threads, elapsed_s) = (*threads, *elapsed_s);
        let exact = &model.exact();
        let agg = &outcome.agg;
        let n = agg.customers;
        let nf = n as f64;
        let cents = |c: u128| c as f64 / 100.0;

        let channels = channel_rows(model, agg);
        let cost: f64 = channels.iter().map(|c| c.cost).sum();
        let revenue = cents(agg.revenue_cents);

        let funnel = funnel_rows(model, agg, exact);
        let segments = segment_rows(model, agg, exact);
        let journey_length = journey_length(agg);
        let time_to_conversion = time_to_conversion(model, agg);
        let top_paths = top_paths(model, outcome);

        let (cpc, se) = mean_and_se(agg.conversions as f64, agg.conversions_sq as f64, n);
        SimResult {
            header: Header::new(ResultKind::Simulate, ScenarioInfo::of(model), plan.seed),
            customers: n,
            converted_customers: agg.converted_customers,
            conversions: agg.conversions,
            conversion_rate: ratio(agg.converted_customers as f64, nf),
            conversion_rate_ci95: wilson(agg.converted_customers, n, Z95),
            exact_conversion_rate: exact.conversion_rate,
            conversions_per_customer: cpc,
            conversions_per_customer_ci95: [(cpc - Z95 * se).max(0.0), cpc + Z95 * se],
            exact_conversions_per_customer: exact.conversions_per_customer,
            steps: agg.steps,
            exact_steps_per_customer: exact.steps_per_customer,
            truncated: agg.truncated,
            max_steps: model.max_steps,
            revenue,
            revenue_per_customer: ratio(revenue, nf),
            exact_revenue_per_customer: exact.revenue_per_customer,
            cost,
            interrupted: outcome.interrupted,
            periods: model.customers_per_period.map(|p| nf / p),
            period: model.period.clone(),
            cost_per_acquisition: (agg.converted_customers > 0)
                .then(|| cost / agg.converted_customers as f64),
            roas: (cost > 0.0).then(|| revenue / cost),
            funnel,
            channels,
            segments,
            journey_length,
            time_to_conversion,
            top_paths,
            channel_flows: model.channel_flows(),
            flows: Some(super::Flows::of_model(model)),
            run: RunInfo {
                threads,
                shards: 1,
                elapsed_s,
                steps_per_s: ratio(agg.steps as f64, elapsed_s),
                top_paths_method: format!(
                    "candidates: the {} most frequent paths of the first {} customers; counts over the whole run are exact",
                    fogg_engine::sim::paths::CANDIDATES,
                    SAMPLE_CUSTOMERS.min(plan.run_customers)
                ),
            },
            raw: SimRaw {
                shard: plan.shard,
                customer_range: [plan.customers.start, plan.customers.end],
                run_customers: plan.run_customers,
                scenario_toml: scenario_text.to_owned(),
                agg: agg.clone(),
            },
        }
    }
}

/// Touches, cost, conversions and revenue per channel; spend per period
/// is shared out over the period's customers.
fn channel_rows(model: &Model, agg: &SimAgg) -> Vec<ChannelRow> {
    let cents = |c: u128| c as f64 / 100.0;
    // Spend per period is shared out over the period's customers.
    let period_share = model.customers_per_period.map_or(0.0, |p| agg.customers as f64 / p);
    model
        .channels
        .iter()
        .enumerate()
        .map(|(c, ch)| ChannelRow {
            channel: ch.id.clone(),
            kind: ch.kind,
            touches: agg.touches[c],
            cost: agg.touches[c] as f64 * ch.cost_per_touch
                + ch.spend.map_or(0.0, |s| s.baseline * period_share),
            conversions: agg.channel_conversions[c],
            revenue: cents(agg.channel_revenue_cents[c]),
        })
        .collect()
}

/// Customers reaching each stage (or a later one) that some state uses.
fn funnel_rows(model: &Model, agg: &SimAgg, exact: &Exact) -> Vec<FunnelRow> {
    let nf = agg.customers as f64;
    let used: Vec<usize> =
        (0..model.stages.len()).filter(|&s| model.states.iter().any(|st| st.stage.0 as usize == s)).collect();
    let mut funnel = Vec::with_capacity(used.len());
    let mut previous: Option<u64> = None;
    for &s in &used {
        let reached: u64 = agg.furthest_stage[s..].iter().sum();
        funnel.push(FunnelRow {
            stage: model.stages[s].clone(),
            reached,
            share: ratio(reached as f64, nf),
            exact_share: exact.stage_reach[s],
            drop_off: previous.map_or(0.0, |p| ratio((p - reached) as f64, p as f64)),
            visited: agg.stage_visitors[s],
        });
        previous = Some(reached);
    }
    funnel
}

/// Each segment's customers and conversion rate, beside the exact rate.
fn segment_rows(model: &Model, agg: &SimAgg, exact: &Exact) -> Vec<SegmentRow> {
    model
        .segments
        .iter()
        .enumerate()
        .map(|(i, seg)| SegmentRow {
            segment: seg.id.clone(),
            share: seg.share,
            customers: agg.segment_customers[i],
            converted_customers: agg.segment_converted[i],
            conversions: agg.segment_conversions[i],
            conversion_rate: ratio(agg.segment_converted[i] as f64, agg.segment_customers[i] as f64),
            exact_conversion_rate: exact.segment_conversion_rate[i],
        })
        .collect()
}

/// Touchpoints per journey.
fn journey_length(agg: &SimAgg) -> JourneyLength {
    let nf = agg.customers as f64;
    let steps_hist = &agg.journey_steps.histogram();
    JourneyLength {
        mean: ratio(agg.steps as f64, nf),
        p50: steps_hist.value_at_quantile(0.5),
        p90: steps_hist.value_at_quantile(0.9),
        p99: steps_hist.value_at_quantile(0.99),
        max: steps_hist.max(),
    }
}

/// Time from the first touch to the first conversion, in the scenario's
/// unit.
fn time_to_conversion(model: &Model, agg: &SimAgg) -> TimeToConversion {
    let unit = model.time_unit.seconds();
    let ttc = &agg.time_to_conversion_s;
    let some = |v: f64| (!ttc.is_empty()).then_some(v / unit);
    TimeToConversion {
        unit: model.time_unit.to_string(),
        mean: some(ttc.mean()),
        p50: some(ttc.value_at_quantile(0.5) as f64),
        p90: some(ttc.value_at_quantile(0.9) as f64),
        p99: some(ttc.value_at_quantile(0.99) as f64),
        max: some(ttc.max() as f64),
    }
}

/// The most common paths among the candidates, most customers first.
fn top_paths(model: &Model, outcome: &SimOutcome) -> Vec<PathRow> {
    let agg = &outcome.agg;
    let mut top: Vec<usize> = (0..outcome.candidates.len()).filter(|&i| agg.path_customers[i] > 0).collect();
    top.sort_by(|&a, &b| {
        agg.path_customers[b]
            .cmp(&agg.path_customers[a])
            .then_with(|| outcome.candidates.path(a).cmp(outcome.candidates.path(b)))
    });
    top.into_iter()
        .take(TOP_PATHS)
        .map(|i| PathRow {
            path: path_text(model, outcome.candidates.path(i)),
            customers: agg.path_customers[i],
            converted_customers: agg.path_converted[i],
            conversion_rate: ratio(agg.path_converted[i] as f64, agg.path_customers[i] as f64),
        })
        .collect()
}
