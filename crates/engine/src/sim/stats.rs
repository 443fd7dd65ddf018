//! Confidence intervals for simulated proportions and means.

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `successes` out of `n` trials.
pub fn wilson(successes: u64, n: u64, z: f64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// Mean and its standard error from a sum and a sum of squares.
pub fn mean_and_se(sum: f64, sum_sq: f64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let n = n as f64;
    let mean = sum / n;
    let var = if n > 1.0 { ((sum_sq - n * mean * mean) / (n - 1.0)).max(0.0) } else { 0.0 };
    (mean, (var / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_reference_values() {
        // 10 successes out of 100, z = 1.96: [0.0552, 0.1744] (textbook).
        let [lo, hi] = wilson(10, 100, Z95);
        assert!((lo - 0.05523).abs() < 1e-4 && (hi - 0.17437).abs() < 1e-4, "{lo} {hi}");
        assert_eq!(wilson(0, 0, Z95), [0.0, 1.0]);
        assert_eq!(wilson(0, 50, Z95)[0], 0.0);
    }

    #[test]
    fn mean_and_se_of_known_sample() {
        // 1, 2, 3, 4: mean 2.5, sample sd 1.29099, se 0.645497
        let (m, se) = mean_and_se(10.0, 30.0, 4);
        assert!((m - 2.5).abs() < 1e-12 && (se - 0.645_497).abs() < 1e-6);
    }
}
