//! The one driver loop: customers start at the times the arrival schedule
//! gives, each as a task; the run stops when the schedule ends (the
//! duration), after `--customers` arrivals, on Ctrl-C / SIGTERM, or once
//! nothing has connected to the target for [`TARGET_DOWN_AFTER`]. Then
//! in-flight customers get a grace period to finish; a second signal stops
//! at once. Whatever was measured is always returned.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use std::pin::Pin;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use tokio::time::{Instant, Sleep};

use super::context::LoadContext;
use super::customer;
use super::live::Live;
use super::plan::{ArrivalSchedule, Judging, LoadPlan, StopReason, Workload};
use super::recorder::{ErrorClass, HttpVersions, LoadAgg};
use super::spec::LoadSpec;
use crate::model::Model;

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
pub async fn run(
    model: Arc<Model>,
    spec: LoadSpec,
    target: &str,
    plan: &LoadPlan,
    mut signals: watch::Receiver<u32>,
    live: Option<&Live>,
) -> anyhow::Result<LoadOutcome> {
    plan.check_rate()?;
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
    let mut tasks = JoinSet::new();
    let stopped_by = launch_customers(&ctx, plan, &mut signals, &mut tasks).await;
    let arrival_window = match stopped_by {
        StopReason::Duration => plan.duration,
        _ => Instant::now().saturating_duration_since(start),
    };
    // Customers of a target that is down would only meet more refusals.
    let grace = if stopped_by == StopReason::TargetDown { Duration::ZERO } else { plan.grace };
    let unfinished = finish_in_flight(&mut tasks, &mut signals, grace).await;
    ticker.abort();
    let elapsed = Instant::now().saturating_duration_since(start);
    let mut agg = ctx.agg.lock().expect("recorder").clone();
    if let Some(live) = live {
        live.detach(&ctx.request_names, &agg);
    }
    agg.unfinished = unfinished;
    agg.http_versions = HttpVersions {
        http1: ctx.http1_responses.load(Ordering::Relaxed),
        http2: ctx.http2_responses.load(Ordering::Relaxed),
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

/// Starts a task per arriving customer until the arrivals end, the
/// customer limit is reached, a signal comes or the run is aborted: why
/// it stopped.
async fn launch_customers(
    ctx: &Arc<LoadContext>,
    plan: &LoadPlan,
    signals: &mut watch::Receiver<u32>,
    tasks: &mut JoinSet<()>,
) -> StopReason {
    let mut arrivals = Arrivals::new(plan, ctx.start);
    let mut i: u64 = 0;
    loop {
        if plan.max_customers.is_some_and(|max| i >= max) {
            return StopReason::Customers;
        }
        let arrival = tokio::select! {
            biased;
            _ = signals.wait_for(|n| *n >= 1) => return StopReason::Interrupted,
            _ = ctx.abort.notified() => return *ctx.abort_reason.get().unwrap_or(&StopReason::Aborted),
            arrival = arrivals.next() => arrival,
        };
        let Some((when, slot)) = arrival else { return StopReason::Duration };
        while tasks.try_join_next().is_some() {}
        let dropped = ctx.in_flight.load(Ordering::Relaxed) >= ctx.spec.max_in_flight;
        ctx.agg.lock().expect("recorder").arrival(ctx.second_of(when), dropped);
        if !dropped {
            ctx.in_flight.fetch_add(1, Ordering::Relaxed);
            let c = Arc::clone(ctx);
            let customer = i * u64::from(plan.shard.count) + u64::from(plan.shard.index - 1);
            tasks.spawn(async move {
                customer::run(Arc::clone(&c), customer, when).await;
                c.in_flight.fetch_sub(1, Ordering::Relaxed);
                drop(slot);
            });
        }
        i += 1;
    }
}

/// When customers arrive. Open: the schedule says when each customer
/// arrives. Closed: a new customer arrives whenever one of the slots is
/// free, and holds the slot until its journey ends.
enum Arrivals {
    Open { schedule: ArrivalSchedule, start: Instant, end: Instant },
    Closed { slots: Arc<Semaphore>, start: Instant, end: Pin<Box<Sleep>> },
}

impl Arrivals {
    fn new(plan: &LoadPlan, start: Instant) -> Arrivals {
        match &plan.workload {
            Workload::Open(profile) => {
                let stream = u64::from(plan.shard.index - 1);
                let schedule =
                    ArrivalSchedule::with_stream(profile.clone(), plan.duration, plan.seed, stream);
                Arrivals::Open { schedule, start, end: start + plan.duration }
            }
            Workload::Closed(n) => Arrivals::Closed {
                slots: Arc::new(Semaphore::new(*n as usize)),
                start,
                // One timer for the whole run, not one per arrival.
                end: Box::pin(tokio::time::sleep_until(start + plan.duration)),
            },
        }
    }

    /// Waits for the next arrival: its intended time, and the slot it
    /// holds in a closed workload; `None` once arrivals are over. Arrivals
    /// end with the duration on the clock too: a generator that fell
    /// behind its schedule does not run past it.
    async fn next(&mut self) -> Option<(Instant, Option<OwnedSemaphorePermit>)> {
        match self {
            Arrivals::Open { schedule, start, end } => {
                if Instant::now() >= *end {
                    return None;
                }
                let when = *start + schedule.next()?;
                super::wait_until(when).await;
                Some((when, None))
            }
            Arrivals::Closed { slots, start, end } => {
                let permit = tokio::select! {
                    permit = Arc::clone(slots).acquire_owned() => permit.ok()?,
                    _ = end.as_mut() => return None,
                };
                super::wait_until(*start).await;
                let when = Instant::now();
                (when < end.deadline()).then_some((when, Some(permit)))
            }
        }
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
            ctx.abort.notify_one();
        }
        if print {
            crate::say_part!(
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
