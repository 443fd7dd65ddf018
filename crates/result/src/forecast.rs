//! `ForecastResult`: the outcome of `fogg forecast`.
//!
//! Each variant (the baseline, then each strategy asked for) keeps its
//! integer sums over the replicates in `raw`, so shards (which split the
//! replicates) add up exactly; every other figure is computed from them
//! by [`ForecastVariant::finish`], the same way for a whole run and a
//! merged one.

use serde::{Deserialize, Serialize};

use super::{Header, ResultKind, ScenarioInfo};
use fogg_core::calendar::Calendar;
use fogg_core::merge::Merge;
use fogg_core::shard::Shard;
use fogg_engine::forecast::expected::Expected;
use fogg_engine::forecast::{Grid, ReplicatePeak, Totals};
use fogg_model::Model;
use fogg_model::posterior::{interval95, percentile};

/// Result of a forecast run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastResult {
    /// Kind, versions, scenario and seed.
    #[serde(flatten)]
    pub header: Header,
    /// The campaign window and its time axis.
    pub window: ForecastWindow,
    /// Replicates in this result.
    pub replicates: u32,
    /// Replicates of the whole run.
    pub run_replicates: u32,
    /// Which replicates this result holds: `[first, end)`, all of them
    /// unless it was interrupted.
    pub replicate_range: [u32; 2],
    /// A signal stopped the run: the figures are of the `replicates`
    /// that finished (the peaks say which), and merge refuses it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Which part of the run this is (1/1 for a whole run).
    pub shard: Shard,
    /// Shards merged into this result (1 for a run in one piece).
    pub shards: u32,
    /// The scenario's channels and their cost per touch.
    pub channels: Vec<ForecastChannel>,
    /// Request names (pages, then their resources), the order of every
    /// per-request list.
    pub requests: Vec<String>,
    /// The baseline, then each strategy asked for.
    pub variants: Vec<ForecastVariant>,
    /// Worker threads (of each shard, in a merged result).
    pub threads: usize,
    /// Wall-clock time of the run.
    pub elapsed_s: f64,
    /// Things worth knowing about the figures.
    pub notes: Vec<String>,
}

/// The window and the bins of its traffic series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastWindow {
    /// First instant, local time (`2026-12-07 00:00`).
    pub start: String,
    /// End (excluded), local time.
    pub end: String,
    /// The calendar's zone.
    pub timezone: String,
    /// First instant, Unix seconds: bin j starts at
    /// `start_unix_s + j × resolution_s`.
    pub start_unix_s: i64,
    /// End, Unix seconds.
    pub end_unix_s: i64,
    /// Width of a traffic bin in seconds (the last may be cut short).
    pub resolution_s: u32,
    /// Number of traffic bins.
    pub bins: usize,
    /// The local days the window touches.
    pub days: Vec<String>,
    /// Seconds of the window in each day.
    pub day_seconds: Vec<f64>,
}

/// A channel's cost per touch, which the daily cost needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastChannel {
    /// Channel id.
    pub id: String,
    /// Cost of one touch.
    pub cost_per_touch: f64,
}

/// The forecast of one variant. Figures are means per replicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastVariant {
    /// `baseline`, a strategy's id, or `change`.
    pub id: String,
    /// The strategy's description.
    pub description: Option<String>,
    /// Its changes as written.
    pub changes: Vec<String>,
    /// Expected arrivals over the window (the mean of each replicate's
    /// Poisson population).
    pub expected_customers: f64,
    /// Expected conversions from these customers, in the window or after
    /// it (closed form).
    pub exact_conversions: f64,
    /// Spend per channel over the window (flights included).
    pub spend: Vec<f64>,
    /// Spend per local day, every channel together.
    pub day_spend: Vec<f64>,
    /// Totals over the window.
    pub total: Figures,
    /// Conversions and revenue after the window closed, from customers who
    /// arrived in it.
    pub carry_over: CarryOver,
    /// Per local day.
    pub days: Vec<Figures>,
    /// The busiest bins, over the replicates.
    pub peak: PeakSummary,
    /// Each replicate's busiest bins.
    pub replicate_peaks: Vec<PeakRow>,
    /// The expected traffic per bin, computed without simulation.
    pub expected: ExpectedTraffic,
    /// Integer sums over the replicates: what merging adds.
    pub raw: ForecastRaw,
}

/// Means per replicate over a day or the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// The day (`2026-12-07`), or `window`.
    pub label: String,
    /// Customers who arrived.
    pub arrivals: f64,
    /// Touches per channel.
    pub touches: Vec<f64>,
    /// Conversions.
    pub conversions: f64,
    /// Their value.
    pub revenue: f64,
    /// Spend (flat over the period, prorated to the seconds of the day).
    pub spend: f64,
    /// Spend plus touches × cost per touch.
    pub cost: f64,
}

/// What happens after the window, means per replicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarryOver {
    /// Touches after the end.
    pub touches: f64,
    /// Conversions after the end.
    pub conversions: f64,
    /// Their value.
    pub revenue: f64,
}

/// The peak of the traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeakSummary {
    /// Start of the bin where the expected requests peak, local time.
    pub requests_at: String,
    /// Its bin.
    pub requests_bin: usize,
    /// Expected requests/s in it.
    pub expected_requests_per_s: f64,
    /// Median over replicates of the busiest bin's requests/s.
    pub requests_per_s: f64,
    /// Their 95% interval across replicates.
    pub requests_per_s_ci95: [f64; 2],
    /// Median over replicates of the customers/s arriving in the busiest
    /// request bin.
    pub customers_per_s_then: f64,
    /// Start of the bin where the expected arrivals peak, local time.
    pub customers_at: String,
    /// Its bin.
    pub customers_bin: usize,
    /// Expected customers/s arriving in it.
    pub expected_customers_per_s: f64,
    /// Median over replicates of the busiest bin's arrivals/s.
    pub customers_per_s: f64,
    /// Their 95% interval across replicates.
    pub customers_per_s_ci95: [f64; 2],
}

/// One replicate's busiest bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakRow {
    /// The replicate.
    pub replicate: u32,
    /// Its customers.
    pub customers: u64,
    /// Start of its busiest request bin, local time.
    pub requests_at: String,
    /// Requests/s in it.
    pub requests_per_s: f64,
    /// Customers/s arriving in it.
    pub customers_per_s_then: f64,
    /// Start of its busiest arrival bin, local time.
    pub customers_at: String,
    /// Customers/s arriving in it.
    pub customers_per_s: f64,
}

/// Expected counts per bin (not rates: divide by the bin's seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedTraffic {
    /// Arrivals per bin.
    pub arrivals: Vec<f64>,
    /// Requests per bin, one list per request name.
    pub requests: Vec<Vec<f64>>,
}

/// Integer sums over the replicates of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRaw {
    /// Customers.
    pub customers: u64,
    /// Arrivals per bin.
    pub arrivals: Vec<u64>,
    /// Requests per bin, one list per request name.
    pub requests: Vec<Vec<u64>>,
    /// Σ over replicates of the square of each bin's total requests.
    pub requests_sq: Vec<f64>,
    /// Arrivals per day.
    pub day_arrivals: Vec<u64>,
    /// Touches per day, one list per channel.
    pub day_touches: Vec<Vec<u64>>,
    /// Conversions per day.
    pub day_conversions: Vec<u64>,
    /// Revenue per day in cents.
    pub day_revenue_cents: Vec<u64>,
    /// Touches after the window.
    pub after_touches: u64,
    /// Conversions after the window.
    pub after_conversions: u64,
    /// Their revenue in cents.
    pub after_revenue_cents: u64,
}

impl ForecastRaw {
    /// The length of every per-bin, per-day, per-name and per-channel
    /// list, named: parts read from files merge only when these are
    /// [the window's](Self::expected_lengths).
    pub fn lengths(&self) -> Vec<(String, usize)> {
        let mut out = vec![
            ("arrivals".to_owned(), self.arrivals.len()),
            ("requests".to_owned(), self.requests.len()),
            ("requests_sq".to_owned(), self.requests_sq.len()),
            ("day_arrivals".to_owned(), self.day_arrivals.len()),
            ("day_touches".to_owned(), self.day_touches.len()),
            ("day_conversions".to_owned(), self.day_conversions.len()),
            ("day_revenue_cents".to_owned(), self.day_revenue_cents.len()),
        ];
        out.extend(self.requests.iter().enumerate().map(|(k, r)| (format!("requests[{k}]"), r.len())));
        out.extend(self.day_touches.iter().enumerate().map(|(c, t)| (format!("day_touches[{c}]"), t.len())));
        out
    }

    /// [`lengths`](Self::lengths) as a window of `bins` bins and `days`
    /// days, with `names` request names and `channels` channels, has them.
    pub fn expected_lengths(bins: usize, days: usize, names: usize, channels: usize) -> Vec<(String, usize)> {
        let mut out = vec![
            ("arrivals".to_owned(), bins),
            ("requests".to_owned(), names),
            ("requests_sq".to_owned(), bins),
            ("day_arrivals".to_owned(), days),
            ("day_touches".to_owned(), channels),
            ("day_conversions".to_owned(), days),
            ("day_revenue_cents".to_owned(), days),
        ];
        out.extend((0..names).map(|k| (format!("requests[{k}]"), bins)));
        out.extend((0..channels).map(|c| (format!("day_touches[{c}]"), days)));
        out
    }

    fn of(t: &Totals, names: usize, channels: usize, bins: usize, days: usize) -> ForecastRaw {
        ForecastRaw {
            customers: t.customers,
            arrivals: t.arrivals.clone(),
            requests: (0..names).map(|k| (0..bins).map(|j| t.requests[j * names + k]).collect()).collect(),
            requests_sq: t.requests_sq.clone(),
            day_arrivals: t.day_arrivals.clone(),
            day_touches: (0..channels)
                .map(|c| (0..days).map(|d| t.day_touches[d * channels + c]).collect())
                .collect(),
            day_conversions: t.day_conversions.clone(),
            day_revenue_cents: t.day_revenue_cents.clone(),
            after_touches: t.after_touches,
            after_conversions: t.after_conversions,
            after_revenue_cents: t.after_revenue_cents,
        }
    }
}

impl Merge for ForecastRaw {
    /// Adds another part's sums.
    fn merge(&mut self, other: &ForecastRaw) {
        self.customers += other.customers;
        self.arrivals.merge(&other.arrivals);
        for (a, b) in self.requests.iter_mut().zip(&other.requests) {
            a.merge(b);
        }
        self.requests_sq.merge(&other.requests_sq);
        self.day_arrivals.merge(&other.day_arrivals);
        for (a, b) in self.day_touches.iter_mut().zip(&other.day_touches) {
            a.merge(b);
        }
        self.day_conversions.merge(&other.day_conversions);
        self.day_revenue_cents.merge(&other.day_revenue_cents);
        self.after_touches += other.after_touches;
        self.after_conversions += other.after_conversions;
        self.after_revenue_cents += other.after_revenue_cents;
    }
}

/// One variant as the engine left it, with what the result needs beside.
pub struct VariantRun<'a> {
    /// `baseline`, a strategy's id, or `change`.
    pub id: String,
    /// The strategy's description.
    pub description: Option<String>,
    /// Its changes as written.
    pub changes: Vec<String>,
    /// The variant's model.
    pub model: &'a Model,
    /// Spend per channel over the window.
    pub spend: Vec<f64>,
    /// Spend per local day, every channel together.
    pub day_spend: Vec<f64>,
    /// Expected arrivals over the window.
    pub expected_customers: f64,
    /// The engine's sums.
    pub totals: &'a Totals,
    /// The expected traffic.
    pub expected: &'a Expected,
}

/// How a run was made.
pub struct ForecastRun {
    /// Seed.
    pub seed: u64,
    /// Replicates walked.
    pub replicates: std::ops::Range<u32>,
    /// Replicates of the whole run.
    pub run_replicates: u32,
    /// The part of the run.
    pub shard: Shard,
    /// Worker threads.
    pub threads: usize,
    /// Seconds the run took.
    pub elapsed_s: f64,
}

impl ForecastResult {
    /// The result of a run of `variants` over `calendar` on `grid`.
    pub fn new(
        model: &Model,
        calendar: &Calendar,
        grid: &Grid,
        requests: &[String],
        variants: &[VariantRun],
        run: &ForecastRun,
    ) -> ForecastResult {
        // The replicates that finished: all, unless a signal stopped the run.
        let done = variants.first().map_or(0, |v| v.totals.peaks.len() as u32);
        let window = ForecastWindow {
            start: calendar.local(0.0),
            end: calendar.local(calendar.length_s()),
            timezone: calendar.timezone.clone(),
            start_unix_s: calendar.start_s,
            end_unix_s: calendar.end_s,
            resolution_s: grid.resolution_s,
            bins: grid.bins,
            days: grid.days.iter().map(|(d, _)| d.clone()).collect(),
            day_seconds: (0..grid.days.len()).map(|d| grid.day_length_s(d)).collect(),
        };
        let channels: Vec<ForecastChannel> = model
            .channels
            .iter()
            .map(|c| ForecastChannel { id: c.id.clone(), cost_per_touch: c.cost_per_touch })
            .collect();
        let variants = variants
            .iter()
            .map(|v| {
                let names = requests.len();
                let raw = ForecastRaw::of(v.totals, names, channels.len(), grid.bins, grid.days.len());
                let per_bin = |flat: &[f64]| -> Vec<Vec<f64>> {
                    (0..names).map(|k| (0..grid.bins).map(|j| flat[j * names + k]).collect()).collect()
                };
                let mut variant = ForecastVariant {
                    id: v.id.clone(),
                    description: v.description.clone(),
                    changes: v.changes.clone(),
                    expected_customers: v.expected_customers,
                    exact_conversions: v.expected.conversions,
                    spend: v.spend.clone(),
                    day_spend: v.day_spend.clone(),
                    total: Figures::empty("window", channels.len()),
                    carry_over: CarryOver { touches: 0.0, conversions: 0.0, revenue: 0.0 },
                    days: Vec::new(),
                    peak: PeakSummary::default(),
                    replicate_peaks: v.totals.peaks.iter().map(|p| PeakRow::of(p, &window)).collect(),
                    expected: ExpectedTraffic {
                        arrivals: v.expected.arrivals.clone(),
                        requests: per_bin(&v.expected.requests),
                    },
                    raw,
                };
                variant.finish(&window, &channels, done);
                variant
            })
            .collect();
        let mut notes = vec![
            "Each replicate draws its population (Poisson around the expected arrivals), when each customer arrives, and every journey; figures are means per replicate, peaks a median with the 95% range across replicates.".to_owned(),
            "Spend follows the calendar's flights (the baseline outside them), spread evenly over time; cost is spend plus touches × cost per touch.".to_owned(),
        ];
        if calendar.end_s - calendar.start_s < grid.resolution_s as i64 * grid.bins as i64 {
            notes.push(
                "The last bin is cut short by the window's end; its rates are per second of the part inside."
                    .to_owned(),
            );
        }
        ForecastResult {
            header: Header::new(ResultKind::Forecast, ScenarioInfo::of(model), run.seed),
            window,
            replicates: done,
            run_replicates: run.run_replicates,
            replicate_range: [run.replicates.start, run.replicates.end],
            interrupted: done < run.replicates.len() as u32,
            shard: run.shard,
            shards: 1,
            channels,
            requests: requests.to_vec(),
            variants,
            threads: run.threads,
            elapsed_s: run.elapsed_s,
            notes,
        }
    }
}

impl Figures {
    fn empty(label: &str, channels: usize) -> Figures {
        Figures {
            label: label.to_owned(),
            arrivals: 0.0,
            touches: vec![0.0; channels],
            conversions: 0.0,
            revenue: 0.0,
            spend: 0.0,
            cost: 0.0,
        }
    }
}

impl PeakRow {
    fn of(p: &ReplicatePeak, window: &ForecastWindow) -> PeakRow {
        let rate = |count: u64, bin: u32| count as f64 / bin_seconds(window, bin as usize).max(1e-9);
        let local = |bin: u32| bin_label(window, bin as usize);
        PeakRow {
            replicate: p.replicate,
            customers: p.customers,
            requests_at: local(p.requests_bin),
            requests_per_s: rate(p.requests, p.requests_bin),
            customers_per_s_then: rate(p.arrivals_then, p.requests_bin),
            customers_at: local(p.arrivals_bin),
            customers_per_s: rate(p.arrivals, p.arrivals_bin),
        }
    }
}

/// Seconds in bin `j` of `window`.
pub fn bin_seconds(window: &ForecastWindow, j: usize) -> f64 {
    let length = (window.end_unix_s - window.start_unix_s) as f64;
    let from = j as f64 * f64::from(window.resolution_s);
    (length - from).clamp(0.0, f64::from(window.resolution_s))
}

impl ForecastVariant {
    /// Computes every figure from `raw` and the replicate peaks, for
    /// `replicates` replicates.
    pub fn finish(&mut self, window: &ForecastWindow, channels: &[ForecastChannel], replicates: u32) {
        let r = f64::from(replicates.max(1));
        let raw = &self.raw;
        self.days = window
            .days
            .iter()
            .enumerate()
            .map(|(d, date)| {
                let touches: Vec<f64> = raw.day_touches.iter().map(|c| c[d] as f64 / r).collect();
                let touch_cost: f64 = touches.iter().zip(channels).map(|(t, c)| t * c.cost_per_touch).sum();
                let spend = self.day_spend[d];
                Figures {
                    label: date.clone(),
                    arrivals: raw.day_arrivals[d] as f64 / r,
                    touches,
                    conversions: raw.day_conversions[d] as f64 / r,
                    revenue: raw.day_revenue_cents[d] as f64 / 100.0 / r,
                    spend,
                    cost: spend + touch_cost,
                }
            })
            .collect();
        let mut total = Figures::empty("window", channels.len());
        for day in &self.days {
            total.arrivals += day.arrivals;
            for (t, x) in total.touches.iter_mut().zip(&day.touches) {
                *t += x;
            }
            total.conversions += day.conversions;
            total.revenue += day.revenue;
            total.spend += day.spend;
            total.cost += day.cost;
        }
        self.total = total;
        self.carry_over = CarryOver {
            touches: raw.after_touches as f64 / r,
            conversions: raw.after_conversions as f64 / r,
            revenue: raw.after_revenue_cents as f64 / 100.0 / r,
        };
        self.peak = self.summarise(window);
    }

    fn summarise(&self, window: &ForecastWindow) -> PeakSummary {
        let local = |j: usize| bin_label(window, j);
        let bins = window.bins;
        let rate = |count: f64, j: usize| count / bin_seconds(window, j).max(1e-9);
        let total_expected = |j: usize| -> f64 {
            self.expected.requests.iter().map(|name| name.get(j).copied().unwrap_or(0.0)).sum()
        };
        let requests_bin = argmax((0..bins).map(|j| rate(total_expected(j), j)));
        let customers_bin =
            argmax((0..bins).map(|j| rate(self.expected.arrivals.get(j).copied().unwrap_or(0.0), j)));
        let spread = |f: fn(&PeakRow) -> f64| -> (f64, [f64; 2]) {
            let mut values: Vec<f64> = self.replicate_peaks.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            if values.is_empty() {
                return (0.0, [0.0; 2]);
            }
            (percentile(&values, 0.5), interval95(values).unwrap_or([0.0; 2]))
        };
        let (requests_per_s, requests_per_s_ci95) = spread(|p| p.requests_per_s);
        let (customers_per_s_then, _) = spread(|p| p.customers_per_s_then);
        let (customers_per_s, customers_per_s_ci95) = spread(|p| p.customers_per_s);
        PeakSummary {
            requests_at: local(requests_bin),
            requests_bin,
            expected_requests_per_s: rate(total_expected(requests_bin), requests_bin),
            requests_per_s,
            requests_per_s_ci95,
            customers_per_s_then,
            customers_at: local(customers_bin),
            customers_bin,
            expected_customers_per_s: rate(
                self.expected.arrivals.get(customers_bin).copied().unwrap_or(0.0),
                customers_bin,
            ),
            customers_per_s,
            customers_per_s_ci95,
        }
    }
}

/// The local start of bin `j` of `window` (`2026-12-07 20:00`).
pub fn bin_label(window: &ForecastWindow, j: usize) -> String {
    let at = window.start_unix_s + j as i64 * i64::from(window.resolution_s);
    fogg_core::calendar::local_time(at, &window.timezone)
}

/// Index of the largest value (the first on a tie; 0 for none).
fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}
