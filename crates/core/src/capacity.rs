//! Capacity search: the highest constant arrival rate at which every
//! threshold still holds.
//!
//! Trials step the rate up (doubling from the start rate) until one fails
//! or the maximum rate passes, then bisect between the highest passing and
//! the lowest failing rate until they are within [`PRECISION`] of each
//! other. The search itself knows nothing of HTTP: a trial is any function
//! from a rate to pass or fail, which keeps it testable on its own.

/// Bisection stops when the failing rate is within this share above the
/// passing one.
pub const PRECISION: f64 = 0.05;

/// Trials at most, stepping up and bisecting together.
pub const MAX_TRIALS: usize = 24;

/// The bounds of a search, in customers per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchBounds {
    /// The first rate tried.
    pub start: f64,
    /// No trial goes above this rate.
    pub max: f64,
}

/// What the search found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found {
    /// Every threshold held at `passed`, and some failed at `failed`
    /// (within [`PRECISION`] of it, unless trials ran out).
    Capacity {
        /// Highest rate that passed.
        passed: f64,
        /// Lowest rate that failed.
        failed: f64,
    },
    /// Every threshold held even at the maximum rate: the capacity is at
    /// least that.
    AtLeast(f64),
    /// A threshold failed already at the start rate: the capacity is below
    /// it.
    Below(f64),
}

impl Found {
    /// The capacity to report: the highest rate that passed, if any.
    pub fn capacity(self) -> Option<f64> {
        match self {
            Found::Capacity { passed, .. } | Found::AtLeast(passed) => Some(passed),
            Found::Below(_) => None,
        }
    }
}

/// Runs the search; `trial(rate)` runs one trial and says whether every
/// threshold held. An error in a trial stops the search.
pub fn search<E>(bounds: SearchBounds, mut trial: impl FnMut(f64) -> Result<bool, E>) -> Result<Found, E> {
    let max = bounds.max.max(bounds.start);
    let mut rate = bounds.start;
    let mut trials = 0;
    let mut passed: Option<f64> = None;
    // Step up.
    let failed = loop {
        trials += 1;
        if !trial(rate)? {
            break rate;
        }
        passed = Some(rate);
        if rate >= max || trials >= MAX_TRIALS {
            return Ok(Found::AtLeast(rate));
        }
        rate = (rate * 2.0).min(max);
    };
    let Some(mut lo) = passed else { return Ok(Found::Below(failed)) };
    let mut hi = failed;
    // Bisect.
    while hi > lo * (1.0 + PRECISION) && trials < MAX_TRIALS {
        let mid = (lo + hi) / 2.0;
        trials += 1;
        if trial(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Found::Capacity { passed: lo, failed: hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(capacity: f64, start: f64, max: f64) -> (Found, Vec<f64>) {
        let mut tried = Vec::new();
        let found = search::<()>(SearchBounds { start, max }, |r| {
            tried.push(r);
            Ok(r <= capacity)
        })
        .unwrap();
        (found, tried)
    }

    #[test]
    fn brackets_the_capacity_within_the_precision() {
        for capacity in [1.3, 7.0, 42.0, 99.9, 640.0] {
            let (found, tried) = run(capacity, 1.0, 1000.0);
            let Found::Capacity { passed, failed } = found else { panic!("{found:?}") };
            assert!(passed <= capacity && capacity < failed, "{capacity}: {found:?}");
            assert!(failed <= passed * (1.0 + PRECISION), "{capacity}: {found:?}");
            assert!(tried.len() <= MAX_TRIALS);
            // Stepping up doubles until the first failure.
            assert_eq!(&tried[..2], &[1.0, 2.0]);
        }
    }

    #[test]
    fn reports_when_the_bounds_decide() {
        assert_eq!(run(5000.0, 1.0, 100.0).0, Found::AtLeast(100.0));
        assert_eq!(run(0.5, 1.0, 100.0).0, Found::Below(1.0));
        assert_eq!(run(0.5, 1.0, 100.0).1, [1.0], "no trial after the start rate failed");
    }

    #[test]
    fn trial_errors_stop_the_search() {
        let mut n = 0;
        let r = search(SearchBounds { start: 1.0, max: 64.0 }, |_| {
            n += 1;
            if n == 3 { Err("target gone") } else { Ok(true) }
        });
        assert_eq!(r, Err("target gone"));
    }
}
