//! `.hgrm` percentile distributions, the text HdrHistogram's
//! `outputPercentileDistribution` writes and its plotting page
//! (HdrHistogram/plotFiles.html) reads: value, percentile, total count and
//! 1/(1−percentile), five ticks per half distance, then mean, deviation,
//! max and count.

use std::io::{self, Write};

use hdrhistogram::Histogram;

/// Writes `h` (recorded in microseconds) as a percentile distribution in
/// milliseconds.
pub fn write(h: &Histogram<u64>, out: &mut dyn Write) -> io::Result<()> {
    const SCALE: f64 = 1000.0;
    writeln!(out, "{:>12} {:>14} {:>10} {:>14}", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")?;
    writeln!(out)?;
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let value = h.highest_equivalent(v.value_iterated_to()) as f64 / SCALE;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                writeln!(out, "{value:>12.3} {q:>2.12} {total:>10} {:>14.2}", 1.0 / (1.0 - q))?;
            } else {
                writeln!(out, "{value:>12.3} {q:>2.12} {total:>10}")?;
            }
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (h.mean() / SCALE, h.stdev() / SCALE, h.highest_equivalent(h.max()) as f64 / SCALE)
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
