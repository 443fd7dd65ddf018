//! Distributions of dwell times and conversion values, over rand_distr.
//!
//! People write them with human parameters (a median and a 90th percentile
//! rather than μ and σ); this module turns those into samplers and keeps
//! the exact mean for the closed-form answers.

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Uniform, Weibull};

/// z-score of the 90th percentile of the standard normal distribution.
const Z90: f64 = 1.281_551_565_544_600_5;

/// Largest value of one conversion, in the scenario's currency: declared
/// values must have a mean at most this, and a draw above it counts as it,
/// so that a run's money sums exactly in integers.
pub const MAX_VALUE: f64 = 1e9;

/// A conversion value in whole cents, capped at [`MAX_VALUE`].
#[inline]
pub fn cents(value: f64) -> u64 {
    (value.clamp(0.0, MAX_VALUE) * 100.0).round() as u64
}

/// A compiled distribution. Samples are in seconds for durations and in
/// currency units for values.
#[derive(Debug, Clone)]
pub struct Dist {
    sampler: Sampler,
    mean: f64,
    description: String,
}

#[derive(Debug, Clone)]
enum Sampler {
    Constant(f64),
    Exponential(Exp<f64>),
    LogNormal(LogNormal<f64>),
    Gamma(Gamma<f64>),
    Weibull(Weibull<f64>),
    Uniform(Uniform<f64>),
}

impl Dist {
    /// A distribution that always gives `value`.
    pub fn constant(value: f64, description: String) -> Result<Dist, DistError> {
        non_negative("value", value)?;
        Ok(Dist { sampler: Sampler::Constant(value), mean: value, description })
    }

    /// Exponential with the given mean.
    pub fn exponential(mean: f64, description: String) -> Result<Dist, DistError> {
        positive("mean", mean)?;
        let exp = Exp::new(1.0 / mean).map_err(|e| DistError::Sampler(e.to_string()))?;
        Ok(Dist { sampler: Sampler::Exponential(exp), mean, description })
    }

    /// Log-normal with the given median and 90th percentile.
    pub fn lognormal(median: f64, p90: f64, description: String) -> Result<Dist, DistError> {
        positive("median", median)?;
        if p90.partial_cmp(&median) != Some(std::cmp::Ordering::Greater) || !p90.is_finite() {
            return Err(DistError::Order { upper: "p90", high: p90, lower: "the median", low: median });
        }
        let mu = median.ln();
        let sigma = (p90 / median).ln() / Z90;
        let sampler = LogNormal::new(mu, sigma).map_err(|e| DistError::Sampler(e.to_string()))?;
        let mean = (mu + sigma * sigma / 2.0).exp();
        Ok(Dist { sampler: Sampler::LogNormal(sampler), mean, description })
    }

    /// Gamma with the given mean and shape.
    pub fn gamma(mean: f64, shape: f64, description: String) -> Result<Dist, DistError> {
        positive("mean", mean)?;
        positive("shape", shape)?;
        let sampler = Gamma::new(shape, mean / shape).map_err(|e| DistError::Sampler(e.to_string()))?;
        Ok(Dist { sampler: Sampler::Gamma(sampler), mean, description })
    }

    /// Weibull with the given scale and shape.
    pub fn weibull(scale: f64, shape: f64, description: String) -> Result<Dist, DistError> {
        positive("scale", scale)?;
        positive("shape", shape)?;
        let sampler = Weibull::new(scale, shape).map_err(|e| DistError::Sampler(e.to_string()))?;
        let mean = scale * libm::tgamma(1.0 + 1.0 / shape);
        Ok(Dist { sampler: Sampler::Weibull(sampler), mean, description })
    }

    /// Uniform on `[min, max)`.
    pub fn uniform(min: f64, max: f64, description: String) -> Result<Dist, DistError> {
        non_negative("min", min)?;
        if max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) || !max.is_finite() {
            return Err(DistError::Order { upper: "max", high: max, lower: "min", low: min });
        }
        let sampler = Uniform::new(min, max).map_err(|e| DistError::Sampler(e.to_string()))?;
        Ok(Dist { sampler: Sampler::Uniform(sampler), mean: (min + max) / 2.0, description })
    }

    /// Draws one value. A constant draws nothing from `rng`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.sampler {
            Sampler::Constant(v) => *v,
            Sampler::Exponential(d) => d.sample(rng),
            Sampler::LogNormal(d) => d.sample(rng),
            Sampler::Gamma(d) => d.sample(rng),
            Sampler::Weibull(d) => d.sample(rng),
            Sampler::Uniform(d) => d.sample(rng),
        }
    }

    /// The exact mean of the distribution.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// How the scenario wrote it, e.g. `lognormal(median 2h, p90 1d)`.
    pub fn description(&self) -> &str {
        &self.description
    }
}

fn positive(name: &'static str, value: f64) -> Result<(), DistError> {
    if value > 0.0 && value.is_finite() { Ok(()) } else { Err(DistError::NotPositive { name, value }) }
}

fn non_negative(name: &'static str, value: f64) -> Result<(), DistError> {
    if value >= 0.0 && value.is_finite() { Ok(()) } else { Err(DistError::Negative { name, value }) }
}

/// Why parameters do not make a distribution.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DistError {
    /// A parameter that must be above 0.
    #[error("{name} must be a finite number greater than 0 (got {value})")]
    NotPositive {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A parameter that must be 0 or more.
    #[error("{name} must be a finite number of at least 0 (got {value})")]
    Negative {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// An upper parameter not above the lower one (p90 and median, max
    /// and min).
    #[error("{upper} ({high}) must be greater than {lower} ({low})")]
    Order {
        /// The upper parameter.
        upper: &'static str,
        /// Its value.
        high: f64,
        /// The lower parameter.
        lower: &'static str,
        /// Its value.
        low: f64,
    },
    /// What `rand_distr` refused.
    #[error("{0}")]
    Sampler(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn lognormal_median_and_p90_are_respected() {
        let d = Dist::lognormal(10.0, 40.0, String::new()).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut xs: Vec<f64> = (0..100_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        assert!((xs[50_000] / 10.0 - 1.0).abs() < 0.03, "median {}", xs[50_000]);
        assert!((xs[90_000] / 40.0 - 1.0).abs() < 0.04, "p90 {}", xs[90_000]);
    }

    #[test]
    fn exact_means_match_samples() {
        let cases = [
            Dist::exponential(5.0, String::new()).unwrap(),
            Dist::lognormal(3.0, 9.0, String::new()).unwrap(),
            Dist::gamma(4.0, 2.5, String::new()).unwrap(),
            Dist::weibull(2.0, 1.5, String::new()).unwrap(),
            Dist::uniform(1.0, 3.0, String::new()).unwrap(),
        ];
        for d in &cases {
            let m = sample_mean(d, 400_000);
            assert!((m / d.mean() - 1.0).abs() < 0.02, "{d:?}: sample mean {m} vs {}", d.mean());
        }
    }

    #[test]
    fn bad_parameters_are_explained() {
        assert!(
            Dist::lognormal(5.0, 4.0, String::new())
                .unwrap_err()
                .to_string()
                .contains("greater than the median")
        );
        assert_eq!(
            Dist::exponential(0.0, String::new()).unwrap_err(),
            DistError::NotPositive { name: "mean", value: 0.0 }
        );
        assert!(Dist::constant(-1.0, String::new()).unwrap_err().to_string().contains("at least 0"));
        assert!(Dist::uniform(2.0, 1.0, String::new()).unwrap_err().to_string().contains("greater than min"));
    }
}
