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
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    sampler: Sampler,
    /// The two parameters the closed forms read: (μ, σ) for a
    /// log-normal, (shape, scale) for a gamma, (scale, shape) for a
    /// Weibull, (min, max) for a uniform.
    params: (f64, f64),
    mean: f64,
    description: String,
}

#[derive(Debug, Clone, PartialEq)]
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
        Ok(Dist { sampler: Sampler::Constant(value), params: (value, 0.0), mean: value, description })
    }

    /// Exponential with the given mean.
    pub fn exponential(mean: f64, description: String) -> Result<Dist, DistError> {
        positive("mean", mean)?;
        let exp = Exp::new(1.0 / mean).map_err(|e| DistError::Sampler(e.to_string()))?;
        Ok(Dist { sampler: Sampler::Exponential(exp), params: (mean, 0.0), mean, description })
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
        Ok(Dist { sampler: Sampler::LogNormal(sampler), params: (mu, sigma), mean, description })
    }

    /// Gamma with the given mean and shape.
    pub fn gamma(mean: f64, shape: f64, description: String) -> Result<Dist, DistError> {
        positive("mean", mean)?;
        positive("shape", shape)?;
        let sampler = Gamma::new(shape, mean / shape).map_err(|e| DistError::Sampler(e.to_string()))?;
        Ok(Dist { sampler: Sampler::Gamma(sampler), params: (shape, mean / shape), mean, description })
    }

    /// Weibull with the given scale and shape.
    pub fn weibull(scale: f64, shape: f64, description: String) -> Result<Dist, DistError> {
        positive("scale", scale)?;
        positive("shape", shape)?;
        let sampler = Weibull::new(scale, shape).map_err(|e| DistError::Sampler(e.to_string()))?;
        let mean = scale * libm::tgamma(1.0 + 1.0 / shape);
        Ok(Dist { sampler: Sampler::Weibull(sampler), params: (scale, shape), mean, description })
    }

    /// Uniform on `[min, max)`.
    pub fn uniform(min: f64, max: f64, description: String) -> Result<Dist, DistError> {
        non_negative("min", min)?;
        if max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) || !max.is_finite() {
            return Err(DistError::Order { upper: "max", high: max, lower: "min", low: min });
        }
        let sampler = Uniform::new(min, max).map_err(|e| DistError::Sampler(e.to_string()))?;
        Ok(Dist {
            sampler: Sampler::Uniform(sampler),
            params: (min, max),
            mean: (min + max) / 2.0,
            description,
        })
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

    /// G(x) = ∫₀ˣ F(u) du, the integral of the distribution function, in
    /// closed form: x·F(x) − E[X; X ≤ x] (the partial mean). Its second
    /// differences give where a dwell time moves a visit on a grid of
    /// time bins (`forecast::expected`).
    pub fn integrated_cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let (cdf, partial_mean) = match &self.sampler {
            Sampler::Constant(c) => {
                if x >= *c {
                    (1.0, *c)
                } else {
                    (0.0, 0.0)
                }
            }
            Sampler::Exponential(_) => {
                let z = x / self.mean;
                let e = (-z).exp();
                (-(-z).exp_m1(), self.mean * (-(-z).exp_m1() - z * e))
            }
            Sampler::LogNormal(_) => {
                let (mu, sigma) = self.params;
                let z = (x.ln() - mu) / sigma;
                (normal_cdf(z), self.mean * normal_cdf(z - sigma))
            }
            Sampler::Gamma(_) => {
                let (shape, scale) = self.params;
                (special::gamma_p(shape, x / scale), self.mean * special::gamma_p(shape + 1.0, x / scale))
            }
            Sampler::Weibull(_) => {
                let (scale, shape) = self.params;
                let z = (x / scale).powf(shape);
                (-(-z).exp_m1(), self.mean * special::gamma_p(1.0 + 1.0 / shape, z))
            }
            Sampler::Uniform(_) => {
                let (min, max) = self.params;
                let y = x.clamp(min, max);
                ((y - min) / (max - min), (y * y - min * min) / (2.0 * (max - min)))
            }
        };
        (x * cdf - partial_mean).max(0.0)
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

/// Φ(z), the standard normal distribution function.
fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Special functions the closed forms need.
mod special {
    /// P(a, x) = γ(a, x) / Γ(a), the regularised lower incomplete gamma
    /// function: a series below a + 1, Lentz's continued fraction for
    /// Q = 1 − P above (Numerical Recipes §6.2), to 1e-14.
    pub fn gamma_p(a: f64, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if !x.is_finite() {
            return 1.0;
        }
        let log_prefix = a * x.ln() - x - libm::lgamma(a);
        if x < a + 1.0 {
            let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
            for _ in 0..10_000 {
                n += 1.0;
                term *= x / n;
                sum += term;
                if term.abs() < sum.abs() * 1e-15 {
                    break;
                }
            }
            (sum * log_prefix.exp()).clamp(0.0, 1.0)
        } else {
            let tiny = 1e-300;
            let mut b = x + 1.0 - a;
            let mut c = 1.0 / tiny;
            let mut d = 1.0 / b;
            let mut h = d;
            for i in 1..10_000 {
                let an = -(i as f64) * (i as f64 - a);
                b += 2.0;
                d = an * d + b;
                if d.abs() < tiny {
                    d = tiny;
                }
                c = b + an / c;
                if c.abs() < tiny {
                    c = tiny;
                }
                d = 1.0 / d;
                let delta = d * c;
                h *= delta;
                if (delta - 1.0).abs() < 1e-15 {
                    break;
                }
            }
            (1.0 - log_prefix.exp() * h).clamp(0.0, 1.0)
        }
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
    fn incomplete_gamma_matches_known_values() {
        // P(1, x) = 1 − e^(−x); P(3, x) = 1 − e^(−x)(1 + x + x²/2).
        for x in [0.01, 0.5, 1.0, 2.0, 3.5, 10.0, 40.0] {
            assert!((special::gamma_p(1.0, x) - (1.0 - (-x).exp())).abs() < 1e-13, "P(1, {x})");
            let p3 = 1.0 - (-x).exp() * (1.0 + x + x * x / 2.0);
            assert!((special::gamma_p(3.0, x) - p3).abs() < 1e-13, "P(3, {x})");
        }
        // P(1/2, x) = erf(√x).
        for x in [0.1, 1.0, 4.0] {
            assert!((special::gamma_p(0.5, x) - libm::erf(x.sqrt())).abs() < 1e-13, "P(1/2, {x})");
        }
    }

    #[test]
    fn integrated_cdf_is_the_integral_of_the_sampled_cdf() {
        // G(x) = E[(x − X)⁺]: checked against the samples' own average.
        let cases = [
            Dist::constant(2.0, String::new()).unwrap(),
            Dist::exponential(5.0, String::new()).unwrap(),
            Dist::lognormal(3.0, 9.0, String::new()).unwrap(),
            Dist::gamma(4.0, 2.5, String::new()).unwrap(),
            Dist::weibull(2.0, 1.5, String::new()).unwrap(),
            Dist::uniform(1.0, 3.0, String::new()).unwrap(),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for d in &cases {
            let xs: Vec<f64> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
            for x in [0.5, 1.5, 2.0, 4.0, 12.0] {
                let sampled = xs.iter().map(|&v| (x - v).max(0.0)).sum::<f64>() / xs.len() as f64;
                let exact = d.integrated_cdf(x);
                assert!((exact - sampled).abs() < 0.01 * x, "{d:?} at {x}: {exact} vs {sampled}");
            }
            // Far out, G(x) = x − mean.
            assert!((d.integrated_cdf(1e4) - (1e4 - d.mean())).abs() < 1e-6, "{d:?} tail");
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
