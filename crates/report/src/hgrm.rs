//! `.hgrm` percentile distributions, the text HdrHistogram's
//! `outputPercentileDistribution` writes and its plotting page
//! (HdrHistogram/plotFiles.html) reads: value, percentile, total count and
//! 1/(1−percentile), five ticks per half distance, then mean, deviation,
//! max and count.

use std::io::{self, Write};

use hdrhistogram::Histogram;

/// Histograms record microseconds; distributions are in milliseconds.
const US_PER_MS: f64 = 1000.0;

/// One step of a percentile distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PercentilePoint {
    /// Latency at this percentile, ms (the highest value of its bucket).
    pub value_ms: f64,
    /// The percentile, as a quantile in [0, 1].
    pub quantile: f64,
    /// Requests at or below it.
    pub total: u64,
}

/// The percentile distribution of `h` (recorded in microseconds), five
/// ticks per half distance to 100%: what `.hgrm` files list and the HTML
/// report's HDR chart draws.
pub fn distribution(h: &Histogram<u64>) -> Vec<PercentilePoint> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut total = 0u64;
    h.iter_quantiles(5)
        .map(|v| {
            total += v.count_since_last_iteration();
            PercentilePoint {
                value_ms: h.highest_equivalent(v.value_iterated_to()) as f64 / US_PER_MS,
                quantile: v.quantile_iterated_to(),
                total,
            }
        })
        .collect()
}

/// Writes `h` (recorded in microseconds) as a percentile distribution in
/// milliseconds.
pub fn write(h: &Histogram<u64>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{:>12} {:>14} {:>10} {:>14}", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")?;
    writeln!(out)?;
    for p in distribution(h) {
        let (value, q, total) = (p.value_ms, p.quantile, p.total);
        if q < 1.0 {
            writeln!(out, "{value:>12.3} {q:>2.12} {total:>10} {:>14.2}", 1.0 / (1.0 - q))?;
        } else {
            writeln!(out, "{value:>12.3} {q:>2.12} {total:>10}")?;
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (h.mean() / US_PER_MS, h.stdev() / US_PER_MS, h.highest_equivalent(h.max()) as f64 / US_PER_MS)
    };
    writeln!(out, "#[Mean    = {mean:>12.3}, StdDeviation   = {stdev:>12.3}]")?;
    writeln!(out, "#[Max     = {max:>12.3}, Total count    = {:>12}]", h.len())?;
    writeln!(out, "#[Buckets = {:>12}, SubBuckets     = {:>12}]", h.buckets(), h.distinct_values())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_recorded_values() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap(); // 1..=1000 ms
        }
        let mut text = Vec::new();
        write(&h, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let rows: Vec<(f64, f64, u64)> = text
            .lines()
            .skip(2)
            .take_while(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap())
            })
            .collect();
        let median = rows.iter().find(|r| r.1 >= 0.5).unwrap();
        assert!((median.0 - 500.0).abs() <= 1.0, "{median:?}");
        assert_eq!(rows.last().unwrap().2, 1000, "the total count ends at every value");
        assert!(rows.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].2 <= w[1].2));
        assert!(text.contains("Total count    =         1000]"), "{text}");
    }
}
