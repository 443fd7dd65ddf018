//! What the live views read: the run in progress, if any, the counts of
//! the runs already over (the earlier trials of a capacity search), and a
//! window of each request's latency over the last seconds.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;

use super::super::context::LoadContext;
use super::super::recorder::{LoadAgg, Traffic};
use super::snapshot::{RECENT_QUANTILES, RECENT_S, Snapshot};

/// Each request's successful latency so far, ms, 2 significant digits,
/// as it was at one second of the run.
type Cumulative = Vec<Histogram<u64>>;

/// A request's latency so far, ms, in a compact copy: what the window
/// keeps of it each second (the recorder's histogram, µs, 3 digits, is
/// ten times larger).
fn compact(t: &Traffic) -> Histogram<u64> {
    let mut h =
        Histogram::new_with_bounds(1, fogg_core::hist::MAX_LATENCY_US / 1000, 2).expect("valid bounds");
    for v in t.latency_us.iter_recorded() {
        h.saturating_record_n((v.value_iterated_to() / 1000).max(1), v.count_at_value());
    }
    h
}

/// Each request's percentiles over the last [`RECENT_S`] seconds of a
/// window of cumulative copies (oldest first): the newest less the
/// oldest, or the newest alone while the run is younger than the window.
/// `None` for a request with no success in that time.
fn recent_of(window: &VecDeque<Cumulative>) -> Vec<Option<[f64; RECENT_QUANTILES.len()]>> {
    let (Some(newest), Some(oldest)) = (window.back(), window.front()) else { return Vec::new() };
    newest
        .iter()
        .zip(oldest)
        .map(|(new, old)| {
            let mut recent = new.clone();
            // Only ever more is recorded, so the oldest is within the newest.
            if window.len() > RECENT_S as usize {
                recent.subtract(old).ok()?;
            }
            (!recent.is_empty())
                .then(|| RECENT_QUANTILES.map(|(_, q)| recent.value_at_quantile(q) as f64 / 1e3))
        })
        .collect()
}

/// The runs a live view shows.
#[derive(Debug)]
pub(super) struct Runs {
    /// `scenario` and `shard` labels of every series.
    pub labels: Vec<(&'static str, String)>,
    current: Mutex<Option<Arc<LoadContext>>>,
    done: Mutex<Snapshot>,
    /// The last [`RECENT_S`] + 1 seconds of each request's cumulative
    /// latency in the run in progress, oldest first: the newest less the
    /// oldest is the latency of the last [`RECENT_S`] seconds.
    window: Mutex<VecDeque<Cumulative>>,
}

impl Runs {
    /// Nothing run yet, under these labels.
    pub fn new(labels: Vec<(&'static str, String)>) -> Runs {
        Runs {
            labels,
            current: Mutex::new(None),
            done: Mutex::new(Snapshot::default()),
            window: Mutex::new(VecDeque::new()),
        }
    }

    /// The run in progress, if any.
    pub fn current(&self) -> Option<Arc<LoadContext>> {
        self.current.lock().expect("live runs").clone()
    }

    /// A run starts.
    pub fn attach(&self, ctx: Arc<LoadContext>) {
        self.window.lock().expect("live window").clear();
        *self.current.lock().expect("live runs") = Some(ctx);
    }

    /// Once a second: adds the run's latency so far to the window (a copy
    /// per request name, made under the recorder's lock from its recorded
    /// values only).
    pub fn tick(&self) {
        let Some(ctx) = self.current() else { return };
        let now: Cumulative = {
            let agg = ctx.agg.lock().expect("no task panics while holding the recorder");
            agg.by_request.iter().map(compact).collect()
        };
        let mut window = self.window.lock().expect("live window");
        window.push_back(now);
        while window.len() > RECENT_S as usize + 1 {
            window.pop_front();
        }
    }

    /// `s` with each request's recent percentiles.
    fn with_recent(&self, mut s: Snapshot) -> Snapshot {
        let recent = recent_of(&self.window.lock().expect("live window"));
        for (r, recent) in s.requests.iter_mut().zip(recent) {
            r.recent_latency_s = recent;
        }
        s
    }

    /// The run in progress is over, with these final counts.
    pub fn detach(&self, names: &[String], agg: &LoadAgg) {
        let last = self.with_recent(Snapshot::of(agg, names, 0));
        let mut done = self.done.lock().expect("live runs");
        *done = done.then(&last);
        *self.current.lock().expect("live runs") = None;
    }

    /// The counts of every run so far, the one in progress included.
    pub fn snapshot(&self) -> Snapshot {
        let done = self.done.lock().expect("live runs").clone();
        match self.current() {
            Some(ctx) => {
                let in_flight = ctx.in_flight.load(Ordering::Relaxed) as u64;
                let now = {
                    let agg = ctx.agg.lock().expect("no task panics while holding the recorder");
                    Snapshot::of(&agg, &ctx.request_names, in_flight)
                };
                done.then(&self.with_recent(now))
            }
            None => done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_latency_is_the_last_seconds_only() {
        // A request slow (2 s) for the first 5 seconds, then fast (10 ms).
        let mut t = Traffic::default();
        let mut window = VecDeque::new();
        for second in 0..20 {
            let us = if second < 5 { 2_000_000 } else { 10_000 };
            for _ in 0..100 {
                t.latency_us.record(us).expect("in range");
            }
            window.push_back(vec![compact(&t)]);
            while window.len() > RECENT_S as usize + 1 {
                window.pop_front();
            }
            let recent = recent_of(&window)[0].expect("successes");
            let p99_ms = recent[2] * 1e3;
            if second < RECENT_S as usize + 4 {
                // A slow second (the last is second 4) is among the last
                // 10 (or the run is younger than that).
                assert!(p99_ms > 1_900.0, "second {second}: {p99_ms}");
            } else {
                assert!((p99_ms - 10.0).abs() < 0.5, "second {second}: {p99_ms}");
            }
        }
        window.clear();
        assert!(recent_of(&window).is_empty());
    }
}
