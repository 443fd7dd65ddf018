//! `SimAgg`: what one worker accumulates while walking customers.
//!
//! Integers only (money in cents, times in whole seconds), so merging is
//! exact and the result does not depend on how customers were split.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use fogg_core::merge::Merge;
use fogg_model::Model;

use super::paths::PathExport;

/// Longest time to conversion a histogram holds exactly: ten years.
const MAX_TIME_S: u64 = 10 * 365 * 86_400;

/// Journey lengths below this are counted one by one; longer ones go to a
/// histogram. Almost every journey is short, and a counter is cheaper than
/// a histogram record.
const SHORT_JOURNEY: usize = 256;

/// Steps per journey: exact counts for short journeys, a histogram (three
/// significant digits) for the rare long ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthCounts {
    short: Vec<u64>,
    #[serde(with = "fogg_core::hist::serde_b64")]
    long: Histogram<u64>,
}

impl LengthCounts {
    fn new(max_steps: u32) -> LengthCounts {
        LengthCounts {
            short: vec![0; SHORT_JOURNEY],
            long: Histogram::new_with_bounds(1, u64::from(max_steps).max(2), 3)
                .expect("valid histogram bounds"),
        }
    }

    /// Counts one journey of `steps` steps.
    #[inline]
    pub fn record(&mut self, steps: u32) {
        match self.short.get_mut(steps as usize) {
            Some(count) => *count += 1,
            None => self.long.saturating_record(u64::from(steps)),
        }
    }

    /// All lengths in one histogram, for percentiles.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = self.long.clone();
        for (steps, &count) in self.short.iter().enumerate() {
            if count > 0 {
                h.saturating_record_n(steps as u64, count);
            }
        }
        h
    }
}

impl Merge for LengthCounts {
    fn merge(&mut self, other: &Self) {
        self.short.merge(&other.short);
        self.long.merge(&other.long);
    }
}

/// Aggregates of a set of customers. Serialised into results (histograms
/// as compressed V2 in base64) so that `fogg merge` can combine shards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimAgg {
    /// Customers walked.
    pub customers: u64,
    /// Customers with at least one conversion.
    pub converted_customers: u64,
    /// Conversion events, repeat purchases included.
    pub conversions: u64,
    /// Sum over customers of (conversions of the customer)².
    pub conversions_sq: u64,
    /// Touchpoints visited.
    pub steps: u64,
    /// Journeys cut at `max_steps`.
    pub truncated: u64,
    /// Value of all conversions, in cents (128 bits: a value is at most
    /// [`fogg_model::MAX_VALUE`], so no run can overflow it).
    pub revenue_cents: u128,
    /// Touches per channel.
    pub touches: Vec<u64>,
    /// Conversions per channel of the converting touchpoint.
    pub channel_conversions: Vec<u64>,
    /// Revenue per channel of the converting touchpoint, in cents.
    pub channel_revenue_cents: Vec<u128>,
    /// Customers who visited a state of each stage.
    pub stage_visitors: Vec<u64>,
    /// Customers by the furthest stage their journey reached.
    pub furthest_stage: Vec<u64>,
    /// Customers per segment.
    pub segment_customers: Vec<u64>,
    /// Converted customers per segment.
    pub segment_converted: Vec<u64>,
    /// Conversions per segment.
    pub segment_conversions: Vec<u64>,
    /// Steps per journey.
    pub journey_steps: LengthCounts,
    /// Seconds from the first touch to the first conversion.
    #[serde(with = "fogg_core::hist::serde_b64")]
    pub time_to_conversion_s: Histogram<u64>,
    /// Customers following each candidate path.
    pub path_customers: Vec<u64>,
    /// Converted customers following each candidate path.
    pub path_converted: Vec<u64>,
    /// Every path, when exporting them (written to the CSV, not to results).
    #[serde(skip)]
    pub export: Option<PathExport>,
}

impl SimAgg {
    /// An empty aggregate for `model` with `candidates` top-path slots.
    pub fn new(model: &Model, candidates: usize, export: bool) -> SimAgg {
        let channels = model.channels.len();
        let segments = model.segments.len();
        SimAgg {
            customers: 0,
            converted_customers: 0,
            conversions: 0,
            conversions_sq: 0,
            steps: 0,
            truncated: 0,
            revenue_cents: 0,
            touches: vec![0; channels],
            channel_conversions: vec![0; channels],
            channel_revenue_cents: vec![0; channels],
            stage_visitors: vec![0; model.stages.len()],
            furthest_stage: vec![0; model.stages.len()],
            segment_customers: vec![0; segments],
            segment_converted: vec![0; segments],
            segment_conversions: vec![0; segments],
            journey_steps: LengthCounts::new(model.max_steps),
            time_to_conversion_s: Histogram::new_with_bounds(1, MAX_TIME_S, 3)
                .expect("valid histogram bounds"),
            path_customers: vec![0; candidates],
            path_converted: vec![0; candidates],
            export: export.then(PathExport::default),
        }
    }
}

impl SimAgg {
    /// The length of every per-item count, named: aggregates read from
    /// files merge only when these agree with the model's.
    pub fn lengths(&self) -> [(&'static str, usize); 11] {
        [
            ("touches", self.touches.len()),
            ("channel_conversions", self.channel_conversions.len()),
            ("channel_revenue_cents", self.channel_revenue_cents.len()),
            ("stage_visitors", self.stage_visitors.len()),
            ("furthest_stage", self.furthest_stage.len()),
            ("segment_customers", self.segment_customers.len()),
            ("segment_converted", self.segment_converted.len()),
            ("segment_conversions", self.segment_conversions.len()),
            ("journey_steps.short", self.journey_steps.short.len()),
            ("path_customers", self.path_customers.len()),
            ("path_converted", self.path_converted.len()),
        ]
    }
}

impl Merge for SimAgg {
    fn merge(&mut self, o: &Self) {
        self.customers += o.customers;
        self.converted_customers += o.converted_customers;
        self.conversions += o.conversions;
        self.conversions_sq += o.conversions_sq;
        self.steps += o.steps;
        self.truncated += o.truncated;
        self.revenue_cents += o.revenue_cents;
        self.touches.merge(&o.touches);
        self.channel_conversions.merge(&o.channel_conversions);
        self.channel_revenue_cents.merge(&o.channel_revenue_cents);
        self.stage_visitors.merge(&o.stage_visitors);
        self.furthest_stage.merge(&o.furthest_stage);
        self.segment_customers.merge(&o.segment_customers);
        self.segment_converted.merge(&o.segment_converted);
        self.segment_conversions.merge(&o.segment_conversions);
        self.journey_steps.merge(&o.journey_steps);
        self.time_to_conversion_s.merge(&o.time_to_conversion_s);
        self.path_customers.merge(&o.path_customers);
        self.path_converted.merge(&o.path_converted);
        match (&mut self.export, &o.export) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.export = Some(b.clone()),
            _ => {}
        }
    }
}
