//! The load run over time: per-second counts and latency, kept at most
//! [`MAX_POINTS`] points long. When a run outgrows them, neighbouring
//! points are merged in pairs and each point covers twice the seconds, so
//! memory stays flat however long the run (a day at 1,500 requests/s keeps
//! the same few megabytes as ten minutes) while the totals stay exact.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use fogg_core::merge::Merge;

/// Most points a series keeps: ten minutes at one second per point.
pub const MAX_POINTS: usize = 600;

/// One point of the series: a second of the run, or several once the run
/// has outgrown [`MAX_POINTS`] (by intended time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Customers who arrived.
    pub arrivals: u64,
    /// Requests sent.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Failed requests by class (indexed by `ErrorClass::index`).
    #[serde(default)]
    pub errors_by_class: [u64; 6],
    /// Customers in flight at the end of the point (sampled by the driver).
    pub in_flight: u64,
    /// Latency of the successful requests, ms, 2 significant digits.
    #[serde(with = "fogg_core::hist::serde_b64")]
    pub latency_ms: Histogram<u32>,
}

impl Default for Second {
    fn default() -> Second {
        Second {
            arrivals: 0,
            requests: 0,
            errors: 0,
            errors_by_class: [0; 6],
            in_flight: 0,
            latency_ms: Histogram::new_with_bounds(1, fogg_core::hist::MAX_LATENCY_US / 1000, 2)
                .expect("valid histogram bounds"),
        }
    }
}

/// The same point of two shards of one run: counts add, and so do the
/// customers each had in flight.
impl Merge for Second {
    fn merge(&mut self, o: &Self) {
        self.arrivals += o.arrivals;
        self.requests += o.requests;
        self.errors += o.errors;
        for (a, b) in self.errors_by_class.iter_mut().zip(o.errors_by_class) {
            *a += b;
        }
        self.in_flight += o.in_flight;
        self.latency_ms.merge(&o.latency_ms);
    }
}

impl Second {
    /// Absorbs the point that comes right after this one in time: counts
    /// add, and the customers in flight are the later point's.
    fn followed_by(&mut self, later: &Second) {
        let in_flight = later.in_flight;
        self.merge(later);
        self.in_flight = in_flight;
    }
}

/// Counts over time: point `i` covers seconds `i × seconds_per_point` up to
/// the next point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Seconds each point covers: 1 until the run outgrows [`MAX_POINTS`]
    /// seconds, then doubled as often as needed.
    #[serde(default = "one_second")]
    pub seconds_per_point: u64,
    /// The points, from second 0.
    #[serde(rename = "seconds")]
    pub points: Vec<Second>,
}

fn one_second() -> u64 {
    1
}

impl Default for Series {
    fn default() -> Series {
        Series { seconds_per_point: 1, points: Vec::new() }
    }
}

impl Series {
    /// The point that holds `second`, coarsening the series when the run
    /// has outgrown it.
    pub fn at(&mut self, second: u64) -> &mut Second {
        while second / self.seconds_per_point >= MAX_POINTS as u64 {
            self.coarsen();
        }
        let i = (second / self.seconds_per_point) as usize;
        if self.points.len() <= i {
            self.points.resize_with(i + 1, Second::default);
        }
        &mut self.points[i]
    }

    /// Merges neighbouring points in pairs: twice the seconds per point.
    fn coarsen(&mut self) {
        let mut points = std::mem::take(&mut self.points).into_iter();
        while let Some(mut first) = points.next() {
            if let Some(second) = points.next() {
                first.followed_by(&second);
            }
            self.points.push(first);
        }
        self.seconds_per_point *= 2;
    }

    /// The same series starting `seconds` later (a shard that began after
    /// the first), at its own resolution.
    pub fn delayed(mut self, seconds: u64) -> Series {
        let pad = (seconds as f64 / self.seconds_per_point as f64).round() as usize;
        if pad > 0 {
            let mut points = vec![Second::default(); pad];
            points.append(&mut self.points);
            self.points = points;
        }
        while self.points.len() > MAX_POINTS {
            self.coarsen();
        }
        self
    }
}

/// Shards of one run: the finer series is coarsened to the other's
/// resolution, then points add.
impl Merge for Series {
    fn merge(&mut self, other: &Self) {
        while self.seconds_per_point < other.seconds_per_point {
            self.coarsen();
        }
        // Only a finer `other` needs a copy to coarsen.
        let coarsened;
        let other = if other.seconds_per_point < self.seconds_per_point {
            let mut copy = other.clone();
            while copy.seconds_per_point < self.seconds_per_point {
                copy.coarsen();
            }
            coarsened = copy;
            &coarsened
        } else {
            other
        };
        if self.points.len() < other.points.len() {
            self.points.resize_with(other.points.len(), Second::default);
        }
        for (x, y) in self.points.iter_mut().zip(&other.points) {
            x.merge(y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(series: &mut Series, second: u64, latency_ms: u64) {
        let point = series.at(second);
        point.requests += 1;
        point.in_flight = second;
        point.latency_ms.record(latency_ms).unwrap();
    }

    #[test]
    fn a_long_run_keeps_at_most_max_points_and_every_count() {
        let mut series = Series::default();
        let day = 86_400;
        for second in 0..day {
            count(&mut series, second, 1 + second % 50);
        }
        assert!(series.points.len() <= MAX_POINTS, "{} points", series.points.len());
        assert_eq!(series.seconds_per_point, 256); // 86,400 / 256 = 338 points; 128 s would need 675
        assert_eq!(series.points.iter().map(|p| p.requests).sum::<u64>(), day);
        assert_eq!(series.points.iter().map(|p| p.latency_ms.len()).sum::<u64>(), day);
        // In flight is the value at the end of each point.
        assert_eq!(series.points[0].in_flight, 255);
        assert_eq!(series.points.last().unwrap().in_flight, day - 1);
    }

    #[test]
    fn shards_of_different_resolutions_merge_exactly() {
        let (mut long, mut short) = (Series::default(), Series::default());
        for second in 0..1_500 {
            count(&mut long, second, 10);
        }
        for second in 0..100 {
            count(&mut short, second, 20);
        }
        assert_eq!((long.seconds_per_point, short.seconds_per_point), (4, 1));
        let mut merged = short.clone();
        merged.merge(&long);
        assert_eq!(merged.seconds_per_point, 4);
        assert_eq!(merged.points.iter().map(|p| p.requests).sum::<u64>(), 1_600);
        assert_eq!(merged.points[0].requests, 8);
        let mut other_way = long.clone();
        other_way.merge(&short);
        assert_eq!(other_way, merged);
        // A shard that started 8 s later lines up two points later.
        let delayed = short.delayed(8);
        assert_eq!(delayed.points.len(), 108);
        assert_eq!(delayed.points[8].requests, 1);
    }
}
