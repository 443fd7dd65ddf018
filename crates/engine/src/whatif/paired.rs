//! Moments of (baseline, variant) customer pairs, and the figures and
//! paired 95% intervals computed from them.
//!
//! Each customer contributes two outcome vectors (conversions, converted,
//! revenue in cents, touch cost in micro-units): the baseline's `x` and the
//! variant's `y`. Sums and cross-products are integers, so merging is exact.
//! A figure is a smooth function of the eight means; the interval of its
//! difference from baseline is the delta method's, with the gradient taken
//! numerically and the covariance of the pair estimated from the sample.

use serde::{Deserialize, Serialize};

use fogg_core::merge::Merge;

const K: usize = 8;
const PAIRS: usize = K * (K + 1) / 2;

/// Fewest customers whose outcome differs between a strategy and the
/// baseline for its paired intervals to be trusted: the normal
/// approximation behind them needs that many non-zero differences. With
/// fewer (`-n 100`, or a change that touches almost no one) an interval
/// may be [x, x] and look significant while it means nothing.
pub const MIN_DIFFERING: u64 = 30;

/// 97.5% quantile of the standard normal.
pub const Z95: f64 = 1.959_963_984_540_054;

fn pair(j: usize, k: usize) -> usize {
    let (j, k) = if j <= k { (j, k) } else { (k, j) };
    j * K - j * (j + 1) / 2 + k
}

/// Integer moments of customer pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedMoments {
    /// Customers.
    pub n: u64,
    /// Customers whose journey was cut at `max_steps` in either variant.
    pub truncated: u64,
    /// Customers whose outcome differs between the two sides: what the
    /// intervals rest on (see [`MIN_DIFFERING`]).
    #[serde(default)]
    pub differing: u64,
    sum: [u128; K],
    #[serde(with = "serde_big_array")]
    cross: [u128; PAIRS],
}

/// `[u128; 36]` as a JSON array of decimal strings (JSON numbers lose
/// precision beyond 2^53).
mod serde_big_array {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(a: &[u128; super::PAIRS], s: S) -> Result<S::Ok, S::Error> {
        a.iter().map(|x| x.to_string()).collect::<Vec<_>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u128; super::PAIRS], D::Error> {
        let v: Vec<String> = Vec::deserialize(d)?;
        let mut out = [0u128; super::PAIRS];
        if v.len() != out.len() {
            return Err(serde::de::Error::custom("wrong number of cross moments"));
        }
        for (o, s) in out.iter_mut().zip(v) {
            *o = s.parse().map_err(serde::de::Error::custom)?;
        }
        Ok(out)
    }
}

impl Default for PairedMoments {
    fn default() -> Self {
        PairedMoments { n: 0, truncated: 0, differing: 0, sum: [0; K], cross: [0; PAIRS] }
    }
}

impl Merge for PairedMoments {
    fn merge(&mut self, other: &Self) {
        self.n += other.n;
        self.truncated += other.truncated;
        self.differing += other.differing;
        for (a, b) in self.sum.iter_mut().zip(&other.sum) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self.cross.iter_mut().zip(&other.cross) {
            *a = a.saturating_add(*b);
        }
    }
}

impl PairedMoments {
    /// Whether enough customers differ for the intervals to be trusted.
    pub fn intervals_reliable(&self) -> bool {
        self.differing >= MIN_DIFFERING
    }

    /// Adds one customer: baseline outcome `x`, variant outcome `y`.
    #[inline]
    pub fn add(&mut self, x: &[u64; 4], y: &[u64; 4], truncated: bool) {
        let v: [u128; K] = [
            x[0] as u128,
            x[1] as u128,
            x[2] as u128,
            x[3] as u128,
            y[0] as u128,
            y[1] as u128,
            y[2] as u128,
            y[3] as u128,
        ];
        self.n += 1;
        self.truncated += u64::from(truncated);
        self.differing += u64::from(x != y);
        let mut idx = 0;
        // Each outcome is below 2⁶⁴, so a product never overflows 2¹²⁸;
        // the sums saturate and `saturated` says so.
        for j in 0..K {
            self.sum[j] = self.sum[j].saturating_add(v[j]);
            for k in j..K {
                self.cross[idx] = self.cross[idx].saturating_add(v[j] * v[k]);
                idx += 1;
            }
        }
    }

    /// Whether a sum reached 2¹²⁸ − 1 and stopped there: the moments are
    /// then no longer exact and no figure may be drawn from them.
    pub fn saturated(&self) -> bool {
        self.sum.iter().chain(&self.cross).any(|&x| x == u128::MAX)
    }

    /// Means of the eight outcomes (baseline then variant).
    pub fn means(&self) -> [f64; K] {
        let n = self.n.max(1) as f64;
        self.sum.map(|s| s as f64 / n)
    }

    /// Sample covariance of outcomes `j` and `k`.
    fn cov(&self, j: usize, k: usize, mean: &[f64; K]) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        (self.cross[pair(j, k)] as f64 - n * mean[j] * mean[k]) / (n - 1.0)
    }
}

/// Integer moments of the baseline's outcomes alone: what every pair
/// shares.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct OwnMoments {
    n: u64,
    truncated: u64,
    sum: [u128; 4],
    cross: [u128; 10],
}

impl OwnMoments {
    #[inline]
    fn add(&mut self, x: &[u64; 4], truncated: bool) {
        self.n += 1;
        self.truncated += u64::from(truncated);
        let mut idx = 0;
        for j in 0..4 {
            let a = u128::from(x[j]);
            self.sum[j] = self.sum[j].saturating_add(a);
            for &b in &x[j..] {
                self.cross[idx] = self.cross[idx].saturating_add(a * u128::from(b));
                idx += 1;
            }
        }
    }

    fn merge(&mut self, o: &OwnMoments) {
        self.n += o.n;
        self.truncated += o.truncated;
        for (a, b) in self.sum.iter_mut().zip(&o.sum) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self.cross.iter_mut().zip(&o.cross) {
            *a = a.saturating_add(*b);
        }
    }

    fn saturated(&self) -> bool {
        self.sum.iter().chain(&self.cross).any(|&x| x == u128::MAX)
    }

    /// The baseline's part of `m` (its first four outcomes).
    fn of_baseline(m: &PairedMoments) -> OwnMoments {
        let mut own = OwnMoments { n: m.n, truncated: 0, sum: [0; 4], cross: [0; 10] };
        own.sum.copy_from_slice(&m.sum[..4]);
        let mut idx = 0;
        for j in 0..4 {
            for k in j..4 {
                own.cross[idx] = m.cross[pair(j, k)];
                idx += 1;
            }
        }
        own
    }

    /// These customers paired with themselves: every difference 0.
    fn paired_with_itself(&self) -> PairedMoments {
        let own = |j: usize, k: usize| {
            let (j, k) = if j <= k { (j, k) } else { (k, j) };
            self.cross[j * 4 - j * (j + 1) / 2 + k]
        };
        let mut m =
            PairedMoments { n: self.n, truncated: self.truncated, differing: 0, ..PairedMoments::default() };
        for j in 0..K {
            m.sum[j] = self.sum[j % 4];
            for k in j..K {
                m.cross[pair(j, k)] = own(j % 4, k % 4);
            }
        }
        m
    }
}

/// The moments of a baseline and its variants, gathered at the cost of
/// the customers a variant changes: the baseline's own moments once per
/// customer, and a variant's pair moments only for customers whose
/// outcome differs. The others' pairs are the baseline's own moments, so
/// [`PairedAccumulator::finish`] rebuilds exactly what adding every pair
/// would have (integer sums).
#[derive(Debug, Clone, PartialEq)]
pub struct PairedAccumulator {
    own: OwnMoments,
    differing: Vec<PairedMoments>,
    truncated: Vec<u64>,
}

impl PairedAccumulator {
    /// An empty accumulator for `variants` variants.
    pub fn new(variants: usize) -> PairedAccumulator {
        PairedAccumulator {
            own: OwnMoments::default(),
            differing: vec![PairedMoments::default(); variants],
            truncated: vec![0; variants],
        }
    }

    /// Adds a customer's baseline outcome; then call
    /// [`PairedAccumulator::add_variant`] for each variant.
    #[inline]
    pub fn add_baseline(&mut self, x: &[u64; 4], truncated: bool) {
        self.own.add(x, truncated);
    }

    /// Adds variant `v`'s outcome `y` of the customer whose baseline
    /// outcome was `x`.
    #[inline]
    pub fn add_variant(&mut self, v: usize, x: &[u64; 4], y: &[u64; 4], truncated: bool) {
        self.truncated[v] += u64::from(truncated);
        if x != y {
            self.differing[v].add(x, y, false);
        }
    }

    /// The baseline paired with itself, and each (baseline, variant) pair.
    pub fn finish(&self) -> (PairedMoments, Vec<PairedMoments>) {
        let baseline = self.own.paired_with_itself();
        let variants = self
            .differing
            .iter()
            .zip(&self.truncated)
            .map(|(differing, &truncated)| {
                let changed = OwnMoments::of_baseline(differing);
                let mut same = self.own;
                same.n -= changed.n;
                for (a, b) in same.sum.iter_mut().zip(&changed.sum) {
                    *a -= b;
                }
                for (a, b) in same.cross.iter_mut().zip(&changed.cross) {
                    *a -= b;
                }
                let mut m = same.paired_with_itself();
                m.merge(differing);
                if self.own.saturated() {
                    m.sum[0] = u128::MAX;
                }
                m.truncated = truncated;
                m
            })
            .collect();
        (baseline, variants)
    }
}

impl Merge for PairedAccumulator {
    fn merge(&mut self, o: &Self) {
        self.own.merge(&o.own);
        for (a, b) in self.differing.iter_mut().zip(&o.differing) {
            a.merge(b);
        }
        self.truncated.merge(&o.truncated);
    }
}

/// Refuses moments of which any saturated (a run, or shards merged):
/// `source` names the scenario in the error.
pub fn refuse_saturated<'a>(
    moments: impl IntoIterator<Item = &'a PairedMoments>,
    source: &str,
) -> anyhow::Result<()> {
    if moments.into_iter().any(PairedMoments::saturated) {
        anyhow::bail!(
            "the sums of squared revenue per customer went beyond 2^128 cents², so no interval can be computed exactly: lower the conversion values of '{source}' or its max_steps"
        );
    }
    Ok(())
}

/// How per-customer means become a period's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Baseline customers per period.
    pub customers_per_period: f64,
    /// The variant's customers per baseline customer.
    pub population: f64,
    /// Spend of the baseline per period.
    pub baseline_spend: f64,
    /// Spend of the variant per period.
    pub spend: f64,
}

/// A figure of the variant, the baseline's, and their paired difference
/// with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The variant's value.
    pub value: f64,
    /// The baseline's value.
    pub baseline: f64,
    /// value − baseline.
    pub delta: f64,
    /// 95% interval of `delta`.
    pub ci95: [f64; 2],
}

impl Estimate {
    /// Whether the interval excludes 0.
    pub fn significant(&self) -> bool {
        self.ci95[0] > 0.0 || self.ci95[1] < 0.0
    }
}

/// Every figure of a strategy against the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Customers per period.
    pub customers: f64,
    /// Conversions per period (repeat purchases included).
    pub conversions: Estimate,
    /// Share of customers with at least one conversion.
    pub conversion_rate: Estimate,
    /// Revenue per period.
    pub revenue: Estimate,
    /// Spend plus touch costs per period.
    pub cost: Estimate,
    /// Cost per conversion.
    pub cpa: Estimate,
    /// Revenue per unit of cost.
    pub roas: Estimate,
    /// Δcost / Δconversions, with its interval.
    pub incremental_cpa: Estimate,
}

/// Which figure of one side (0 baseline, 1 variant) from the means.
#[derive(Clone, Copy)]
enum Figure {
    Conversions,
    ConversionRate,
    Revenue,
    Cost,
    Cpa,
    Roas,
}

fn figure(f: Figure, side: usize, m: &[f64; K], s: &Scale) -> f64 {
    let o = side * 4;
    let customers = s.customers_per_period * if side == 1 { s.population } else { 1.0 };
    let spend = if side == 1 { s.spend } else { s.baseline_spend };
    let conversions = customers * m[o];
    let revenue = customers * m[o + 2] / 100.0;
    let cost = spend + customers * m[o + 3] / super::COST_UNIT;
    match f {
        Figure::Conversions => conversions,
        Figure::ConversionRate => m[o + 1],
        Figure::Revenue => revenue,
        Figure::Cost => cost,
        Figure::Cpa => cost / conversions,
        Figure::Roas => revenue / cost,
    }
}

impl Figures {
    /// The figures of the pair `moments` under `scale`.
    pub fn of(moments: &PairedMoments, scale: &Scale) -> Figures {
        let mean = moments.means();
        let cov: Vec<[f64; K]> = (0..K).map(|j| std::array::from_fn(|k| moments.cov(j, k, &mean))).collect();
        let n = moments.n.max(1) as f64;
        // Delta-method interval of g at the means.
        let interval = |g: &dyn Fn(&[f64; K]) -> f64| -> (f64, [f64; 2]) {
            let at = g(&mean);
            let mut grad = [0.0; K];
            for (k, d) in grad.iter_mut().enumerate() {
                let h = 1e-6 * mean[k].abs().max(1e-9);
                let (mut up, mut down) = (mean, mean);
                up[k] += h;
                down[k] -= h;
                *d = (g(&up) - g(&down)) / (2.0 * h);
            }
            let mut var = 0.0;
            for j in 0..K {
                for k in 0..K {
                    var += grad[j] * cov[j][k] * grad[k];
                }
            }
            let half = Z95 * (var.max(0.0) / n).sqrt();
            (at, [at - half, at + half])
        };
        let estimate = |f: Figure| {
            let (delta, ci95) = interval(&|m| figure(f, 1, m, scale) - figure(f, 0, m, scale));
            Estimate { value: figure(f, 1, &mean, scale), baseline: figure(f, 0, &mean, scale), delta, ci95 }
        };
        let ratio_of_deltas = |m: &[f64; K]| {
            (figure(Figure::Cost, 1, m, scale) - figure(Figure::Cost, 0, m, scale))
                / (figure(Figure::Conversions, 1, m, scale) - figure(Figure::Conversions, 0, m, scale))
        };
        let (icpa, icpa_ci) = interval(&ratio_of_deltas);
        Figures {
            customers: scale.customers_per_period * scale.population,
            conversions: estimate(Figure::Conversions),
            conversion_rate: estimate(Figure::ConversionRate),
            revenue: estimate(Figure::Revenue),
            cost: estimate(Figure::Cost),
            cpa: estimate(Figure::Cpa),
            roas: estimate(Figure::Roas),
            incremental_cpa: Estimate { value: icpa, baseline: f64::NAN, delta: icpa, ci95: icpa_ci },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_pairs_have_zero_width_and_the_right_means() {
        let mut m = PairedMoments::default();
        for i in 0..1000u64 {
            let x = [i % 2, i % 2, 100 * (i % 2), 5];
            m.add(&x, &x, false);
        }
        let s = Scale { customers_per_period: 1000.0, population: 1.0, baseline_spend: 0.0, spend: 0.0 };
        let f = Figures::of(&m, &s);
        assert!((f.conversions.value - 500.0).abs() < 1e-9);
        assert_eq!(f.conversions.delta, 0.0);
        assert!(f.conversions.ci95[1] - f.conversions.ci95[0] < 1e-9);
        assert!((f.revenue.value - 500.0).abs() < 1e-9);
    }

    #[test]
    fn independent_difference_has_the_textbook_standard_error() {
        // x ~ Bernoulli(0.5) alternating, y independent of it (period 4).
        let mut m = PairedMoments::default();
        let n = 40_000u64;
        for i in 0..n {
            let x = i % 2;
            let y = (i / 2) % 2;
            m.add(&[x, x, 0, 0], &[y, y, 0, 0], false);
        }
        let s = Scale { customers_per_period: 1.0, population: 1.0, baseline_spend: 0.0, spend: 0.0 };
        let f = Figures::of(&m, &s);
        // Var(y − x) = 0.25 + 0.25 (uncorrelated): half width 1.96·√(0.5/n).
        let half = (f.conversion_rate.ci95[1] - f.conversion_rate.ci95[0]) / 2.0;
        assert!((half - Z95 * (0.5 / n as f64).sqrt()).abs() < 1e-4, "{half}");
    }

    #[test]
    fn the_accumulator_rebuilds_every_pair_exactly() {
        // Outcomes that differ for some customers and not others, with
        // truncation on either side.
        let mut direct = [PairedMoments::default(), PairedMoments::default(), PairedMoments::default()];
        let (mut a, mut b) = (PairedAccumulator::new(2), PairedAccumulator::new(2));
        for i in 0..500u64 {
            let x = [i % 3, u64::from(i % 3 > 0), 1000 * (i % 3) + i, 40 + i % 7];
            let ys = [
                if i % 5 == 0 { [x[0] + 1, 1, x[2] + 999, x[3] + 3] } else { x },
                if i % 2 == 0 { [0, 0, 0, x[3]] } else { x },
            ];
            let (tx, ty) = (i % 11 == 0, i % 13 == 0);
            direct[0].add(&x, &x, tx);
            let acc = if i < 180 { &mut a } else { &mut b };
            acc.add_baseline(&x, tx);
            for (v, y) in ys.iter().enumerate() {
                direct[v + 1].add(&x, y, tx || ty);
                acc.add_variant(v, &x, y, tx || ty);
            }
        }
        a.merge(&b);
        let (baseline, variants) = a.finish();
        assert_eq!(baseline, direct[0]);
        assert_eq!(variants, direct[1..]);
    }

    #[test]
    fn merging_is_exact() {
        let (mut a, mut b, mut whole) =
            (PairedMoments::default(), PairedMoments::default(), PairedMoments::default());
        for i in 0..100u64 {
            let (x, y) = ([i, 1, i * 3, 7], [i + 1, 1, i, 9]);
            whole.add(&x, &y, false);
            if i < 37 { a.add(&x, &y, false) } else { b.add(&x, &y, false) }
        }
        a.merge(&b);
        assert_eq!(a, whole);
    }
}
