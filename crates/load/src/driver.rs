//! The driver: on each of the run's threads, one loop starts that
//! thread's customers at the times the arrival schedule gives, each as a
//! task. The run stops when the schedule ends (the duration), after
//! `--customers` arrivals, on Ctrl-C / SIGTERM, or once nothing has
//! connected to the target for [`TARGET_DOWN_AFTER`]. Then in-flight
//! customers get a grace period to finish; a second signal stops at once.
//! Whatever was measured is always returned.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::context::LoadContext;
use super::customer;
use super::live::Live;
use super::plan::{ArrivalSchedule, Judging, LoadPlan, RateProfile, StopReason, Workload};
use super::recorder::{BodyBytes, ErrorClass, HttpVersions, LoadAgg};
use super::spec::LoadSpec;
use fogg_model::Model;

/// How long every finished request must have failed to connect (and at
/// least [`TARGET_DOWN_MIN_REFUSED`] of them) before the run stops: a
/// target that is down is reported in seconds, not after the whole
/// duration and grace period.
pub const TARGET_DOWN_AFTER: Duration = Duration::from_secs(5);

/// Refused connections needed within [`TARGET_DOWN_AFTER`] to call the
/// target down, so that a handful of arrivals does not decide it.
pub const TARGET_DOWN_MIN_REFUSED: u64 = 5;

/// What a finished run hands to its report.
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    /// Everything measured.
    pub agg: LoadAgg,
    /// Request names, in the order of `agg.by_request`.
    pub request_names: Vec<String>,
    /// Time from the first intended arrival to the end of the run.
    pub elapsed: Duration,
    /// Time during which customers arrived.
    pub arrival_window: Duration,
    /// Why arrivals stopped.
    pub stopped_by: StopReason,
    /// When second 0 of the run began, ms since the Unix epoch.
    pub started_at_unix_ms: u64,
    /// The threshold that stopped the run (`--abort-on-fail`), as
    /// written, and how long it had failed then.
    pub failed_threshold: Option<(String, Duration)>,
}

/// Runs `plan` against `target` (a base URL such as `http://127.0.0.1:8080`).
/// `signals` counts Ctrl-C and SIGTERM (see [`super::signals`]): made by the
/// command before anything else, so that a signal during setup stops the
/// run at its start and still writes a report. `live`, when given, shows
/// the run while it lasts.
///
/// Customers run on `plan.threads` threads, each with an event loop and
/// HTTP connections of its own: a response wakes only the thread whose
/// customer waits for it. Arrival `k` (customer `k` of the shard) runs on
/// thread `k mod threads`; the sampler and the live views stay on the
/// caller's runtime.
pub async fn run(
    model: Arc<Model>,
    spec: LoadSpec,
    target: &str,
    plan: &LoadPlan,
    signals: watch::Receiver<u32>,
    live: Option<&Live>,
) -> anyhow::Result<LoadOutcome> {
    plan.check_rate()?;
    plan.check_pool(spec.max_in_flight)?;
    let ctx = Arc::new(LoadContext::new(model, spec, target, plan)?);
    if let Some(live) = live {
        live.attach(Arc::clone(&ctx));
    }
    let start = ctx.start;
    let ticker = tokio::spawn(sample_each_second(
        Arc::clone(&ctx),
        plan.progress && std::io::stderr().is_terminal(),
        plan.abort_on_error_rate,
        plan.judging.clone(),
    ));
    let ends = run_threads(&ctx, plan, &signals).await;
    ticker.abort();
    let ends = ends?;
    let stopped_by = ThreadEnd::stopped_by(&ends);
    let arrival_window = match stopped_by {
        StopReason::Duration => plan.duration,
        _ => ends.iter().map(|e| e.arrivals_ended).max().unwrap_or(start).saturating_duration_since(start),
    };
    let elapsed = Instant::now().saturating_duration_since(start);
    let mut agg = ctx.agg.lock().expect("recorder").clone();
    if let Some(live) = live {
        live.detach(&ctx.request_names, &agg);
    }
    agg.unfinished = ends.iter().map(|e| e.unfinished).sum();
    agg.http_versions = HttpVersions {
        http1: ctx.http1_responses.load(Ordering::Relaxed),
        http2: ctx.http2_responses.load(Ordering::Relaxed),
    };
    agg.body_bytes = BodyBytes {
        wire: ctx.body_bytes_wire.load(Ordering::Relaxed),
        decoded: ctx.body_bytes_decoded.load(Ordering::Relaxed),
    };
    Ok(LoadOutcome {
        agg,
        request_names: ctx.request_names.clone(),
        elapsed,
        arrival_window,
        stopped_by,
        started_at_unix_ms: ctx.started_at_unix_ms,
        failed_threshold: ctx.failed_threshold.get().cloned(),
    })
}

/// How one thread's part of the run ended.
#[derive(Debug, Clone, Copy)]
struct ThreadEnd {
    /// Why its arrivals stopped.
    stopped_by: StopReason,
    /// When they stopped.
    arrivals_ended: Instant,
    /// Its customers still in flight when the grace period ended.
    unfinished: u64,
}

impl ThreadEnd {
    /// Why the run's arrivals stopped: a signal, an abort or a dead
    /// target stops every thread, and names the run's end; otherwise the
    /// duration, unless every thread ran out of customers first.
    fn stopped_by(ends: &[ThreadEnd]) -> StopReason {
        let early = ends
            .iter()
            .map(|e| e.stopped_by)
            .find(|r| !matches!(r, StopReason::Duration | StopReason::Customers));
        early.unwrap_or(if ends.iter().all(|e| e.stopped_by == StopReason::Customers) {
            StopReason::Customers
        } else {
            StopReason::Duration
        })
    }
}

/// Runs the customers on `plan.threads` threads, each on a runtime of its
/// own, until all have ended. The runtimes are built before any thread
/// starts, so that one that cannot be built fails the run before it sends
/// anything; a thread that cannot start stops the others and fails it.
async fn run_threads(
    ctx: &Arc<LoadContext>,
    plan: &LoadPlan,
    signals: &watch::Receiver<u32>,
) -> anyhow::Result<Vec<ThreadEnd>> {
    let threads = ctx.clients.len();
    let runtimes = (0..threads)
        .map(|_| tokio::runtime::Builder::new_current_thread().enable_all().build())
        .collect::<std::io::Result<Vec<_>>>()
        .context("starting the load threads' runtimes")?;
    let mut waiting = Vec::with_capacity(threads);
    let mut failed = None;
    for (thread, runtime) in runtimes.into_iter().enumerate() {
        let (done, ended) = tokio::sync::oneshot::channel();
        let (shared, plan, signals) = (Arc::clone(ctx), plan.clone(), signals.clone());
        let started = std::thread::Builder::new().name(format!("fogg-load-{thread}")).spawn(move || {
            let _ = done.send(runtime.block_on(run_thread(shared, plan, thread, signals)));
        });
        match started {
            Ok(_) => waiting.push(ended),
            Err(e) => {
                failed = Some(
                    anyhow::Error::new(e)
                        .context(format!("starting load thread {} of {threads}", thread + 1)),
                );
                let _ = ctx.abort_reason.set(StopReason::Aborted);
                ctx.abort.send_replace(true);
                break;
            }
        }
    }
    let mut ends = Vec::with_capacity(threads);
    for ended in waiting {
        match ended.await {
            Ok(end) => ends.push(end),
            Err(_) => {
                failed =
                    failed.or(Some(anyhow::anyhow!("a load thread ended without a result (it panicked)")))
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(ends),
    }
}

/// One thread's part of the run: its arrivals, then the grace period for
/// its customers in flight.
async fn run_thread(
    ctx: Arc<LoadContext>,
    plan: LoadPlan,
    thread: usize,
    mut signals: watch::Receiver<u32>,
) -> ThreadEnd {
    let mut tasks = JoinSet::new();
    let (stopped_by, arrivals_ended) = match &plan.workload {
        Workload::Open(profile) => {
            (launch_customers(&ctx, &plan, profile, thread, &mut signals, &mut tasks).await, Instant::now())
        }
        Workload::Closed(n) => run_pool(&ctx, &plan, thread, *n, &mut signals, &mut tasks).await,
    };
    // Customers of a target that is down would only meet more refusals.
    let grace = if stopped_by == StopReason::TargetDown { Duration::ZERO } else { plan.grace };
    let unfinished = finish_in_flight(&mut tasks, &mut signals, grace).await;
    ThreadEnd { stopped_by, arrivals_ended, unfinished }
}

/// Starts a task per customer of `thread`, each at its arrival time in
/// `profile`, until the arrivals end, the customer limit is reached, a
/// signal comes or the run is aborted: why it stopped.
async fn launch_customers(
    ctx: &Arc<LoadContext>,
    plan: &LoadPlan,
    profile: &RateProfile,
    thread: usize,
    signals: &mut watch::Receiver<u32>,
    tasks: &mut JoinSet<()>,
) -> StopReason {
    let mut arrivals = Arrivals::new(plan, profile, ctx.start, thread, ctx.clients.len());
    let mut abort = ctx.abort.subscribe();
    loop {
        let arrival = tokio::select! {
            biased;
            _ = signals.wait_for(|n| *n >= 1) => return StopReason::Interrupted,
            _ = abort.wait_for(|aborted| *aborted) => return *ctx.abort_reason.get().unwrap_or(&StopReason::Aborted),
            arrival = arrivals.next() => arrival,
        };
        let (k, when) = match arrival {
            Next::Customer { k, when } => (k, when),
            Next::End(reason) => return reason,
        };
        while tasks.try_join_next().is_some() {}
        let dropped = ctx.in_flight.load(Ordering::Relaxed) >= ctx.spec.max_in_flight;
        ctx.agg.lock().expect("recorder").arrival(ctx.second_of(when), dropped);
        if !dropped {
            ctx.in_flight.fetch_add(1, Ordering::Relaxed);
            let c = Arc::clone(ctx);
            let customer = plan.shard.load_customer(k);
            tasks.spawn(async move {
                customer::run(&c, customer, when, thread).await;
                c.in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
    }
}

/// A thread's next arrival, or why its arrivals are over.
enum Next {
    /// Arrival `k` of the shard, intended at `when`.
    Customer { k: u64, when: Instant },
    /// No more arrivals on this thread.
    End(StopReason),
}

/// When one thread's customers arrive at a rate: arrivals `k` with
/// `k mod threads = thread`, at the times the schedule gives (every
/// thread draws the whole schedule and keeps its own).
struct Arrivals {
    schedule: ArrivalSchedule,
    start: Instant,
    end: Instant,
    /// Arrivals drawn from the schedule so far.
    drawn: u64,
    /// The next arrival index of this thread.
    k: u64,
    /// Threads sharing the arrivals.
    threads: u64,
    /// `--customers`: arrivals at or past it do not come.
    max_customers: Option<u64>,
}

impl Arrivals {
    fn new(
        plan: &LoadPlan,
        profile: &RateProfile,
        start: Instant,
        thread: usize,
        threads: usize,
    ) -> Arrivals {
        let stream = u64::from(plan.shard.index - 1);
        Arrivals {
            schedule: ArrivalSchedule::with_stream(profile.clone(), plan.duration, plan.seed, stream),
            start,
            end: start + plan.duration,
            drawn: 0,
            k: thread as u64,
            threads: threads as u64,
            max_customers: plan.max_customers,
        }
    }

    /// Waits for this thread's next arrival. Arrivals end with the
    /// duration on the clock too: a generator that fell behind its
    /// schedule does not run past it.
    async fn next(&mut self) -> Next {
        let k = self.k;
        if self.max_customers.is_some_and(|max| k >= max) {
            return Next::End(StopReason::Customers);
        }
        if Instant::now() >= self.end {
            return Next::End(StopReason::Duration);
        }
        // The arrivals of other threads are drawn and passed by.
        let mut offset = None;
        while self.drawn <= k {
            offset = self.schedule.next();
            self.drawn += 1;
            if offset.is_none() {
                return Next::End(StopReason::Duration);
            }
        }
        let when = self.start + offset.expect("drawn above");
        super::wait_until(when).await;
        self.k += self.threads;
        Next::Customer { k, when }
    }
}

/// A closed pool's share on one thread: a task per slot, each starting
/// the thread's next customer as soon as its last one has left, so no
/// task is spawned per customer. Arrivals stop at the end of the
/// duration, after the customer limit, on a signal or an abort: why
/// they stopped, and when.
async fn run_pool(
    ctx: &Arc<LoadContext>,
    plan: &LoadPlan,
    thread: usize,
    customers: u64,
    signals: &mut watch::Receiver<u32>,
    tasks: &mut JoinSet<()>,
) -> (StopReason, Instant) {
    let threads = ctx.clients.len() as u64;
    let share = customers / threads + u64::from((thread as u64) < customers % threads);
    let pool = Arc::new(PoolShare {
        next: AtomicU64::new(thread as u64),
        threads,
        max_customers: plan.max_customers,
        end: ctx.start + plan.duration,
        closed: AtomicBool::new(false),
        ran_out: std::sync::OnceLock::new(),
        shard: plan.shard,
    });
    let mut abort = ctx.abort.subscribe();
    let stopped_by = tokio::select! {
        biased;
        _ = signals.wait_for(|n| *n >= 1) => StopReason::Interrupted,
        _ = abort.wait_for(|aborted| *aborted) => *ctx.abort_reason.get().unwrap_or(&StopReason::Aborted),
        _ = tokio::time::sleep_until(pool.end) => StopReason::Duration,
        _ = async {
            super::wait_until(ctx.start).await;
            for _ in 0..share {
                tasks.spawn(run_slot(Arc::clone(ctx), Arc::clone(&pool), thread));
            }
            // Every slot ends early only when the customers ran out.
            while tasks.join_next().await.is_some() {}
        } => StopReason::Customers,
    };
    pool.closed.store(true, Ordering::Relaxed);
    let ended = match stopped_by {
        StopReason::Customers => *pool.ran_out.get().unwrap_or(&ctx.start),
        _ => Instant::now(),
    };
    (stopped_by, ended)
}

/// What the slots of one thread's share of a closed pool share.
struct PoolShare {
    /// The next arrival index of this thread.
    next: AtomicU64,
    /// Threads sharing the arrivals: this thread's indices step by it.
    threads: u64,
    /// `--customers`: arrivals at or past it do not come.
    max_customers: Option<u64>,
    /// When arrivals end.
    end: Instant,
    /// Set when arrivals have stopped: no slot starts another customer.
    closed: AtomicBool,
    /// When the first slot found the customers run out: the end of the
    /// arrivals, when the customer limit ends them.
    ran_out: std::sync::OnceLock<Instant>,
    /// The run's shard, which numbers its customers.
    shard: fogg_core::shard::Shard,
}

/// One slot of a closed pool: the thread's next customer, then the next,
/// until arrivals stop.
async fn run_slot(ctx: Arc<LoadContext>, pool: Arc<PoolShare>, thread: usize) {
    loop {
        let when = Instant::now();
        if pool.closed.load(Ordering::Relaxed) || when >= pool.end {
            return;
        }
        let k = pool.next.fetch_add(pool.threads, Ordering::Relaxed);
        if pool.max_customers.is_some_and(|max| k >= max) {
            let _ = pool.ran_out.set(when);
            return;
        }
        // The pool fits in `max_in_flight` (checked before the run), so
        // no arrival of it is dropped.
        ctx.agg.lock().expect("recorder").arrival(ctx.second_of(when), false);
        ctx.in_flight.fetch_add(1, Ordering::Relaxed);
        let customer = pool.shard.load_customer(k);
        customer::run(&ctx, customer, when, thread).await;
        ctx.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Lets in-flight customers finish within `grace`; a further signal
/// stops at once. Aborts the rest: how many there were.
async fn finish_in_flight(
    tasks: &mut JoinSet<()>,
    signals: &mut watch::Receiver<u32>,
    grace: Duration,
) -> u64 {
    let seen = *signals.borrow();
    let deadline = Instant::now() + grace;
    loop {
        tokio::select! {
            joined = tasks.join_next() => if joined.is_none() { break },
            _ = tokio::time::sleep_until(deadline) => break,
            _ = signals.wait_for(|n| *n > seen) => break,
        }
    }
    let unfinished = tasks.len() as u64;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    unfinished
}

/// Each second: records the customers in flight, stops the run on a
/// hard failure or a target that is down, and, on a terminal, prints a
/// progress line.
async fn sample_each_second(
    ctx: Arc<LoadContext>,
    print: bool,
    abort_on_error_rate: Option<f64>,
    judging: Option<Judging>,
) {
    // Since when the threshold that fails now has failed without a break.
    let mut failing: Option<(String, Instant)> = None;
    let mut tick = tokio::time::interval_at(ctx.start + Duration::from_secs(1), Duration::from_secs(1));
    let mut last = (0u64, 0u64);
    let window = TARGET_DOWN_AFTER.as_secs() as usize;
    // (finished requests, refused connections) at each of the last ticks.
    let mut history: std::collections::VecDeque<(u64, u64)> =
        std::collections::VecDeque::with_capacity(window + 1);
    loop {
        tick.tick().await;
        let in_flight = ctx.in_flight.load(Ordering::Relaxed) as u64;
        let second = ctx.second_of(Instant::now()).saturating_sub(1);
        let (arrivals, requests, errors, refused, p99) = {
            let mut agg = ctx.agg.lock().expect("recorder");
            agg.in_flight(second, in_flight);
            let p99 = agg.overall.latency_us.value_at_quantile(0.99) as f64 / 1000.0;
            let refused = agg.overall.errors[ErrorClass::Connect.index()];
            (agg.arrivals, agg.overall.requests, agg.overall.error_count(), refused, p99)
        };
        history.push_back((requests, refused));
        if history.len() > window + 1 {
            history.pop_front();
        }
        // The threshold that has now failed for the rule's delay, if any.
        let lost = judging.as_ref().and_then(|rule| {
            let now = Instant::now();
            let so_far = ctx.agg.lock().expect("recorder").clone();
            let judged = (rule.judge)(so_far, now.saturating_duration_since(ctx.start));
            failing = match judged.iter().find(|j| !j.passed) {
                None => None,
                Some(t) => match failing.take() {
                    Some((same, since)) if same == t.expr => Some((same, since)),
                    _ => Some((t.expr.clone(), now)),
                },
            };
            *ctx.judged.lock().expect("judged") = judged;
            let delay = rule.abort_after?;
            let (threshold, since) = failing.as_ref()?;
            let failed_for = now.saturating_duration_since(*since);
            (failed_for >= delay).then(|| (threshold.clone(), failed_for))
        });
        let stop = if let Some(limit) = abort_on_error_rate
            && requests >= 20
            && errors as f64 > limit * requests as f64
        {
            Some(StopReason::Aborted)
        } else if let Some(threshold) = lost {
            let _ = ctx.failed_threshold.set(threshold);
            Some(StopReason::ThresholdFailed)
        } else {
            target_down(&history, window).then_some(StopReason::TargetDown)
        };
        if let Some(reason) = stop {
            let _ = ctx.abort_reason.set(reason);
            ctx.abort.send_replace(true);
        }
        if print {
            fogg_core::say_part!(
                "\r{:>4}s · {:>6} arrivals/s · {:>7} requests/s · {:>6} in flight · p99 {:>8.1} ms · {} errors   ",
                second + 1,
                arrivals - last.0,
                requests - last.1,
                in_flight,
                p99,
                errors
            );
        }
        last = (arrivals, requests);
    }
}

/// Whether, over the last `window` seconds of `history` (finished
/// requests and refused connections, cumulative, one entry a second),
/// every request that finished was refused, and enough were.
fn target_down(history: &std::collections::VecDeque<(u64, u64)>, window: usize) -> bool {
    if history.len() <= window {
        return false;
    }
    let (first, last) = (history[0], history[history.len() - 1]);
    let (finished, refused) = (last.0 - first.0, last.1 - first.1);
    refused >= TARGET_DOWN_MIN_REFUSED && finished == refused
}
