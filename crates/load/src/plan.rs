//! Every load profile becomes one arrival schedule: the intended start
//! time of each customer, drawn as a Poisson process whose rate follows
//! the profile (by thinning), and bounded by the run's duration.

use std::time::Duration;

use rand::{Rng, RngExt};

use fogg_core::rng::{CustomerRng, CustomerRngs, Stream};

/// The highest arrival rate one fogg process sends, customers per second
/// (a rate, a ramp, a stage or a burst's peak, after `--rate-scale`).
/// Beyond it, split the run into shards (`--shard I/N`).
pub const MAX_ARRIVAL_RATE: f64 = 100_000.0;

/// Arrival rate over time, in customers per second.
#[derive(Debug, Clone, PartialEq)]
pub enum RateProfile {
    /// A constant rate.
    Constant(f64),
    /// Linear from `from` to `to` over `over` seconds, then `to`.
    Ramp {
        /// Starting rate.
        from: f64,
        /// Final rate.
        to: f64,
        /// Length of the ramp, seconds.
        over: f64,
    },
    /// `(duration in seconds, rate)` stages; the last rate holds.
    Stages(Vec<(f64, f64)>),
    /// `base + peak · 2^(−t / half_life)`.
    Burst {
        /// Extra rate at the start.
        peak: f64,
        /// Seconds for the extra rate to halve.
        half_life: f64,
        /// Rate that remains.
        base: f64,
    },
}

impl RateProfile {
    /// The rate at `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        match self {
            RateProfile::Constant(r) => *r,
            RateProfile::Ramp { from, to, over } => {
                if t >= *over {
                    *to
                } else {
                    from + (to - from) * t / over
                }
            }
            RateProfile::Stages(stages) => {
                let mut end = 0.0;
                for &(d, r) in stages {
                    end += d;
                    if t < end {
                        return r;
                    }
                }
                stages.last().map_or(0.0, |s| s.1)
            }
            RateProfile::Burst { peak, half_life, base } => base + peak * (-t / half_life).exp2(),
        }
    }

    /// The highest rate over `[0, duration]`.
    pub fn max_rate(&self, duration: f64) -> f64 {
        match self {
            RateProfile::Constant(r) => *r,
            RateProfile::Ramp { from, to, .. } => from.max(*to),
            RateProfile::Stages(stages) => {
                let mut end = 0.0;
                let mut max: f64 = 0.0;
                for &(d, r) in stages {
                    if end < duration {
                        max = max.max(r);
                    }
                    end += d;
                }
                if end < duration { max.max(stages.last().map_or(0.0, |s| s.1)) } else { max }
            }
            RateProfile::Burst { peak, base, .. } => base + peak,
        }
    }

    /// Expected arrivals over `[0, duration]` (numerically).
    pub fn expected_arrivals(&self, duration: f64) -> f64 {
        let steps = 10_000;
        let dt = duration / steps as f64;
        (0..steps).map(|i| self.rate_at((i as f64 + 0.5) * dt) * dt).sum()
    }

    /// A short description for reports, e.g. `ramp 10 → 60/s over 20s`.
    pub fn describe(&self) -> String {
        let n = |x: f64| {
            let s = format!("{x:.2}");
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        };
        match self {
            RateProfile::Constant(r) => format!("constant {}/s", n(*r)),
            RateProfile::Ramp { from, to, over } => {
                format!("ramp {} → {}/s over {}s", n(*from), n(*to), n(*over))
            }
            RateProfile::Stages(s) if s.len() > 6 => {
                let rates = s.iter().map(|x| x.1);
                let low = rates.clone().fold(f64::INFINITY, f64::min);
                let high = rates.fold(0.0, f64::max);
                let total: f64 = s.iter().map(|x| x.0).sum();
                format!("{} stages over {}s, {} to {}/s", s.len(), n(total), n(low), n(high))
            }
            RateProfile::Stages(s) => {
                let parts: Vec<String> =
                    s.iter().map(|(d, r)| format!("{}/s for {}s", n(*r), n(*d))).collect();
                format!("stages: {}", parts.join(", "))
            }
            RateProfile::Burst { peak, half_life, base } => {
                format!("burst {}/s + {}/s halving every {}s", n(*base), n(*peak), n(*half_life))
            }
        }
    }

    /// The same profile with every rate multiplied by `k`.
    pub fn scaled(&self, k: f64) -> RateProfile {
        match self {
            RateProfile::Constant(r) => RateProfile::Constant(r * k),
            RateProfile::Ramp { from, to, over } => {
                RateProfile::Ramp { from: from * k, to: to * k, over: *over }
            }
            RateProfile::Stages(s) => RateProfile::Stages(s.iter().map(|&(d, r)| (d, r * k)).collect()),
            RateProfile::Burst { peak, half_life, base } => {
                RateProfile::Burst { peak: peak * k, half_life: *half_life, base: base * k }
            }
        }
    }
}

/// How customers arrive: an open model (a rate, whatever the target does)
/// or a closed one (a fixed number of customers in flight, each replaced
/// by a new one when its journey ends).
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// Poisson arrivals at a rate that follows the profile.
    Open(RateProfile),
    /// This many customers at all times.
    Closed(u64),
}

impl Workload {
    /// The same workload with rates (or the customer count) times `k`.
    pub fn scaled(&self, k: f64) -> Workload {
        match self {
            Workload::Open(p) => Workload::Open(p.scaled(k)),
            Workload::Closed(n) => Workload::Closed(((*n as f64) * k).round().max(1.0) as u64),
        }
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Workload::Open(p) => p.describe(),
            Workload::Closed(n) => format!("closed: {n} customers at a time"),
        }
    }

    /// The mean arrival rate the workload asks for over `duration`
    /// seconds; `None` for a closed workload, whose rate is whatever the
    /// target allows.
    pub fn target_rate(&self, duration: f64) -> Option<f64> {
        match self {
            Workload::Open(p) if duration > 0.0 => Some(p.expected_arrivals(duration) / duration),
            _ => None,
        }
    }
}

/// Intended start offsets of customers `0, 1, 2, …`, in order.
pub struct ArrivalSchedule {
    profile: RateProfile,
    max_rate: f64,
    duration: f64,
    t: f64,
    rng: CustomerRng,
}

impl ArrivalSchedule {
    /// The schedule of a run seeded with `seed`.
    pub fn new(profile: RateProfile, duration: Duration, seed: u64) -> ArrivalSchedule {
        ArrivalSchedule::with_stream(profile, duration, seed, 0)
    }

    /// The schedule of one shard: stream `s` of the run's arrival
    /// streams, independent of the other shards'.
    pub fn with_stream(profile: RateProfile, duration: Duration, seed: u64, s: u64) -> ArrivalSchedule {
        let duration = duration.as_secs_f64();
        ArrivalSchedule {
            max_rate: profile.max_rate(duration),
            profile,
            duration,
            t: 0.0,
            rng: CustomerRngs::new(seed, Stream::Arrivals).customer(s),
        }
    }
}

impl Iterator for ArrivalSchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.max_rate <= 0.0 {
            return None;
        }
        loop {
            // Exponential gap at the highest rate, kept with probability
            // rate(t) / max: a Poisson process of rate rate(t).
            let u: f64 = 1.0 - self.rng.random::<f64>();
            self.t += -u.ln() / self.max_rate;
            if self.t >= self.duration {
                return None;
            }
            let keep = self.profile.rate_at(self.t) / self.max_rate;
            if keep >= 1.0 || (self.rng.next_u64() as f64 / u64::MAX as f64) < keep {
                return Some(Duration::from_secs_f64(self.t));
            }
        }
    }
}

/// How a load run is shaped and bounded.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Seed: customer `i` walks the journey `simulate` gives it.
    pub seed: u64,
    /// The run's id, from which (with the seed) trace ids derive: random
    /// per run unless `--run-id` fixes it (see [`crate::trace`]).
    pub run_id: u64,
    /// How long arrivals go on.
    pub duration: Duration,
    /// How customers arrive.
    pub workload: Workload,
    /// Stop after this many arrivals, if given.
    pub max_customers: Option<u64>,
    /// How long in-flight customers may take to finish after arrivals stop.
    pub grace: Duration,
    /// Accept invalid TLS certificates (self-signed test targets).
    pub insecure: bool,
    /// Speak HTTP/2 without negotiation (h2c), e.g. to a cleartext HTTP/2
    /// server. Over TLS, HTTP/2 is negotiated anyway.
    pub http2: bool,
    /// Print a progress line each second (when stderr is a terminal).
    pub progress: bool,
    /// Stop arrivals early when more than this share of requests has
    /// failed (checked each second once 20 requests were sent): a trial of
    /// `fogg capacity` that is failing hard need not go on.
    pub abort_on_error_rate: Option<f64>,
    /// Judge the thresholds each second, and perhaps stop arrivals once
    /// one has failed for a while (`--abort-on-fail`).
    pub judging: Option<Judging>,
    /// Which shard of a larger run this is: shard I of N gives its k-th
    /// arrival the customer index k·N + I − 1, so shards never share a
    /// customer, and draws its arrival times from its own stream. The
    /// workload is taken as given (the caller scales it to the shard).
    pub shard: fogg_core::shard::Shard,
    /// Threads that run customers, each with its own event loop and
    /// connections (`--threads`); `None`: as many as the workload needs
    /// (see `LoadContext::thread_count`). Customer `i` walks the same
    /// journey whatever the count.
    pub threads: Option<usize>,
    /// `--debug N`: customers below this index print their exchanges to
    /// standard error.
    pub debug_customers: u64,
}

/// A threshold's state on the run so far.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Judged {
    /// The threshold, as written.
    pub expr: String,
    /// What was measured so far, with its unit (`412 ms`); `None` when
    /// nothing was.
    pub observed: Option<String>,
    /// Whether it holds on the data so far.
    pub passed: bool,
}

/// Judges the run so far: each threshold on the counts measured in the
/// given time.
pub type Judge = std::sync::Arc<dyn Fn(super::recorder::LoadAgg, Duration) -> Vec<Judged> + Send + Sync>;

/// The thresholds, judged each second while the run lasts (for the live
/// dashboard and `--abort-on-fail`).
#[derive(Clone)]
pub struct Judging {
    /// The thresholds, as a judge of the counts so far.
    pub judge: Judge,
    /// `--abort-on-fail[=DELAY]`: once a threshold has failed for this
    /// long without a break, arrivals stop and the run ends as after its
    /// duration.
    pub abort_after: Option<Duration>,
}

impl std::fmt::Debug for Judging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judging").field("abort_after", &self.abort_after).finish_non_exhaustive()
    }
}

/// A plan whose arrival rate peaks above [`MAX_ARRIVAL_RATE`].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "the arrival rate would reach {peak:.0} customers/s, and one fogg process sends at most {MAX_ARRIVAL_RATE:.0}: lower the rate (--rate, --rate-scale, --max-rate) or split the run with --shard I/N"
)]
pub struct RateTooHigh {
    /// The highest rate of the plan, customers/s.
    pub peak: f64,
}

/// A closed pool larger than `[load] max_in_flight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a closed pool of {customers} customers is more than [load] max_in_flight = {max_in_flight} at once: raise max_in_flight or make the pool smaller (--rate-scale)"
)]
pub struct PoolTooLarge {
    /// Customers in the pool.
    pub customers: u64,
    /// `[load] max_in_flight`.
    pub max_in_flight: usize,
}

impl LoadPlan {
    /// Checks that a closed pool fits in `max_in_flight` (`[load]`): its
    /// customers are all in flight at once.
    pub fn check_pool(&self, max_in_flight: usize) -> Result<(), PoolTooLarge> {
        match self.workload {
            Workload::Closed(customers) if customers > max_in_flight as u64 => {
                Err(PoolTooLarge { customers, max_in_flight })
            }
            _ => Ok(()),
        }
    }

    /// Checks that the process may hold a connection for every customer
    /// in flight: a closed pool of N keeps N connections open, and when
    /// the soft limit on open files is below that, fogg raises it toward
    /// the hard limit (as `ulimit -n` would); a pool the hard limit cannot
    /// hold is refused before any request, rather than run as millions of
    /// failed connects blamed on the target. An open workload has its
    /// limit raised as far as `max_in_flight` needs, without refusal.
    pub fn check_open_files(&self, max_in_flight: usize) -> Result<(), TooFewFiles> {
        let (needed, required) = match self.workload {
            Workload::Closed(customers) => (customers, true),
            Workload::Open(_) => (max_in_flight as u64, false),
        };
        let needed = needed.saturating_add(SPARE_FILES);
        match open_files::raise_to(needed) {
            Some(limit) if limit < needed && required => {
                Err(TooFewFiles { customers: needed - SPARE_FILES, limit })
            }
            _ => Ok(()),
        }
    }

    /// Checks that one process can send this plan: its open workload
    /// never goes above [`MAX_ARRIVAL_RATE`]. The driver checks every plan;
    /// commands check theirs before any work.
    pub fn check_rate(&self) -> Result<(), RateTooHigh> {
        match &self.workload {
            Workload::Open(profile) => {
                let peak = profile.max_rate(self.duration.as_secs_f64());
                if peak > MAX_ARRIVAL_RATE { Err(RateTooHigh { peak }) } else { Ok(()) }
            }
            Workload::Closed(_) => Ok(()),
        }
    }
}

/// Files a run keeps open besides its customers' connections (the
/// runtime, listeners, report files).
pub const SPARE_FILES: u64 = 64;

/// A closed pool larger than the process may hold connections for.
#[derive(Debug, thiserror::Error)]
#[error(
    "a closed pool of {customers} customers keeps {customers} connections open, but this process may open at most {limit} files (ulimit -n): raise the limit (ulimit -n {want}) or use a smaller pool",
    want = customers + SPARE_FILES
)]
pub struct TooFewFiles {
    /// Customers of the pool.
    pub customers: u64,
    /// The most files the process may open.
    pub limit: u64,
}

/// The limit on open files.
mod open_files {
    /// Raises the soft limit on open files, when it is below `needed`, to
    /// the hard limit (the demo shop, when it runs in the process, holds
    /// the other end of every connection); the limit now (`None`:
    /// unlimited or unknown).
    #[cfg(unix)]
    pub(super) fn raise_to(needed: u64) -> Option<u64> {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
        let current = current?;
        if current >= needed {
            return Some(current);
        }
        let wanted = maximum.unwrap_or(needed.saturating_mul(2));
        match setrlimit(Resource::Nofile, Rlimit { current: Some(wanted), maximum }) {
            Ok(()) => Some(wanted),
            Err(_) => Some(current),
        }
    }

    /// Elsewhere the limit is not known here.
    #[cfg(not(unix))]
    pub(super) fn raise_to(_needed: u64) -> Option<u64> {
        None
    }
}

/// Why arrivals stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The configured duration elapsed.
    Duration,
    /// The configured number of customers arrived.
    Customers,
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// The error rate passed the plan's `abort_on_error_rate`.
    Aborted,
    /// A threshold failed for the plan's `--abort-on-fail` delay.
    ThresholdFailed,
    /// Nothing connected to the target for
    /// [`TARGET_DOWN_AFTER`](super::driver::TARGET_DOWN_AFTER): every
    /// request was refused, so more arrivals would measure nothing.
    TargetDown,
}

impl StopReason {
    /// Whether the run stopped before its end for a reason that says
    /// nothing about the thresholds (a signal, a target that went down):
    /// what it measured cannot pass.
    pub fn cut_short(self) -> bool {
        matches!(self, StopReason::Interrupted | StopReason::TargetDown)
    }

    /// Why a run that was [cut short](Self::cut_short) stopped, in words.
    pub fn cut_short_text(self) -> Option<&'static str> {
        match self {
            StopReason::Interrupted => Some("interrupted by a signal"),
            StopReason::TargetDown => Some("stopped because the target went down"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_gives_poisson_counts() {
        let n =
            ArrivalSchedule::new(RateProfile::Constant(200.0), Duration::from_secs(100), 1).count() as f64;
        // Poisson(20,000): sd 141.
        assert!((n - 20_000.0).abs() < 4.0 * 141.5, "{n}");
    }

    #[test]
    fn profiles_follow_their_rate() {
        let d = Duration::from_secs(60);
        for p in [
            RateProfile::Ramp { from: 10.0, to: 100.0, over: 30.0 },
            RateProfile::Stages(vec![(20.0, 50.0), (20.0, 150.0), (20.0, 10.0)]),
            RateProfile::Burst { peak: 300.0, half_life: 10.0, base: 5.0 },
        ] {
            let expected = p.expected_arrivals(60.0);
            let n = ArrivalSchedule::new(p.clone(), d, 4).count() as f64;
            assert!((n - expected).abs() < 4.0 * expected.sqrt(), "{p:?}: {n} vs {expected}");
            let late =
                ArrivalSchedule::new(p.clone(), d, 4).filter(|t| t.as_secs_f64() >= 30.0).count() as f64;
            let expected_late = expected - p.expected_arrivals(30.0);
            assert!((late - expected_late).abs() < 4.0 * expected_late.sqrt().max(1.0), "{p:?} late");
        }
    }

    #[test]
    fn scaling_multiplies_the_rate() {
        let p = RateProfile::Burst { peak: 10.0, half_life: 5.0, base: 1.0 }.scaled(3.0);
        assert!((p.rate_at(0.0) - 33.0).abs() < 1e-12);
    }
}
