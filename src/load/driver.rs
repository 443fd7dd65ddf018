//! The one driver loop: customers start at the times the arrival schedule
//! gives, each as a task; the run stops when the schedule ends (the
//! duration), after `--customers` arrivals, or on Ctrl-C / SIGTERM. Then
//! in-flight customers get a grace period to finish; a second signal stops
//! at once. Whatever was measured is always returned.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::customer;
use super::plan::{ArrivalSchedule, Workload};
use super::recorder::{ErrorClass, Journeys, LoadAgg};
use super::spec::LoadSpec;
use crate::model::Model;
use crate::rng::{CustomerRngs, Stream};

/// Keep-alive connections kept open per host while idle.
const MAX_IDLE_CONNECTIONS: usize = 256;

/// How a load run is shaped and bounded.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Seed: customer `i` walks the journey `simulate` gives it.
    pub seed: u64,
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
    /// Which shard of a larger run this is: shard I of N gives its k-th
    /// arrival the customer index k·N + I − 1, so shards never share a
    /// customer, and draws its arrival times from its own stream. The
    /// workload is taken as given (the caller scales it to the shard).
    pub shard: crate::shard::Shard,
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
}

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
}

/// Shared by the driver and every customer task.
pub struct LoadContext {
    pub(super) model: Arc<Model>,
    pub(super) spec: LoadSpec,
    /// Base URL without a trailing slash.
    pub(super) target: String,
    pub(super) client: reqwest::Client,
    pub(super) journey_rngs: CustomerRngs,
    pub(super) behaviour_rngs: CustomerRngs,
    /// Per state, per request: index into the request names.
    pub(super) request_index: Vec<Vec<usize>>,
    start: Instant,
    in_flight: AtomicUsize,
    agg: Mutex<LoadAgg>,
    /// Set by the once-a-second sampler when the error rate calls for an
    /// early stop.
    abort: tokio::sync::Notify,
}

impl LoadContext {
    fn second_of(&self, at: Instant) -> usize {
        at.saturating_duration_since(self.start).as_secs() as usize
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_request(
        &self,
        intended: Instant,
        request: usize,
        state: usize,
        segment: usize,
        latency: Duration,
        service: Duration,
        error: Option<ErrorClass>,
    ) {
        let second = self.second_of(intended);
        let mut agg = self.agg.lock().expect("no task panics while holding the recorder");
        agg.request(
            second,
            request,
            state,
            segment,
            latency.as_micros() as u64,
            service.as_micros() as u64,
            error,
        );
    }

    pub(super) fn record_journey(&self, segment: usize, j: &Journeys) {
        self.agg.lock().expect("no task panics while holding the recorder").journey(segment, j);
    }
}

/// Counts Ctrl-C and SIGTERM.
fn signal_counter() -> watch::Receiver<u32> {
    let (tx, rx) = watch::channel(0u32);
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let terminated = async {
                match term.as_mut() {
                    Some(t) => t.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let terminated = std::future::pending::<Option<()>>();
            tokio::select! {
                r = tokio::signal::ctrl_c() => if r.is_err() { return },
                _ = terminated => {}
            }
            tx.send_modify(|n| *n += 1);
        }
    });
    rx
}

/// Runs `plan` against `target` (a base URL such as `http://127.0.0.1:8080`).
pub async fn run(
    model: Arc<Model>,
    spec: LoadSpec,
    target: &str,
    plan: &LoadPlan,
) -> anyhow::Result<LoadOutcome> {
    // Several TLS providers may be compiled in; fogg uses ring. Installing
    // twice (a second run in one process) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Idle keep-alive connections are capped so that a pool of thinking
    // customers does not hold one open connection (and its buffers) each.
    let mut builder = reqwest::Client::builder()
        .timeout(spec.timeout)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
        .no_proxy();
    if plan.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    if plan.http2 {
        builder = builder.http2_prior_knowledge();
    }
    let client = builder.build().context("building the HTTP client")?;

    let request_names: Vec<String> = spec.request_names().into_iter().map(str::to_owned).collect();
    let request_index: Vec<Vec<usize>> = spec
        .requests
        .iter()
        .map(|reqs| {
            reqs.iter()
                .map(|r| request_names.iter().position(|n| *n == r.name).expect("every name is listed"))
                .collect()
        })
        .collect();
    let agg = LoadAgg::new(request_names.len(), model.states.len(), model.segments.len());
    let start = Instant::now() + Duration::from_millis(20);
    let started_at_unix_ms = (std::time::SystemTime::now() + Duration::from_millis(20))
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let ctx = Arc::new(LoadContext {
        target: target.trim_end_matches('/').to_owned(),
        client,
        journey_rngs: CustomerRngs::new(plan.seed, Stream::Journey),
        behaviour_rngs: CustomerRngs::new(plan.seed, Stream::Behaviour),
        request_index,
        start,
        in_flight: AtomicUsize::new(0),
        agg: Mutex::new(agg),
        abort: tokio::sync::Notify::new(),
        model,
        spec,
    });

    let mut signals = signal_counter();
    let ticker = tokio::spawn(sample_each_second(
        Arc::clone(&ctx),
        plan.progress && std::io::stderr().is_terminal(),
        plan.abort_on_error_rate,
    ));
    let mut tasks = JoinSet::new();
    let mut stopped_by = StopReason::Duration;
    // Open: the schedule says when each customer arrives. Closed: a new
    // customer arrives whenever one of the slots is free.
    let end = start + plan.duration;
    let (mut schedule, slots) = match &plan.workload {
        Workload::Open(profile) => {
            let stream = u64::from(plan.shard.index - 1);
            (Some(ArrivalSchedule::with_stream(profile.clone(), plan.duration, plan.seed, stream)), None)
        }
        Workload::Closed(n) => (None, Some(Arc::new(Semaphore::new(*n as usize)))),
    };
    let mut i: u64 = 0;
    loop {
        if plan.max_customers.is_some_and(|max| i >= max) {
            stopped_by = StopReason::Customers;
            break;
        }
        let next_arrival = async {
            match (&mut schedule, &slots) {
                (Some(schedule), _) => {
                    let when = start + schedule.next()?;
                    tokio::time::sleep_until(when).await;
                    Some((when, None))
                }
                (None, Some(slots)) => {
                    let permit = tokio::select! {
                        permit = Arc::clone(slots).acquire_owned() => permit.ok()?,
                        _ = tokio::time::sleep_until(end) => return None,
                    };
                    tokio::time::sleep_until(start).await;
                    let when = Instant::now();
                    (when < end).then_some((when, Some(permit)))
                }
                (None, None) => None,
            }
        };
        let arrival = tokio::select! {
            biased;
            _ = signals.wait_for(|n| *n >= 1) => {
                stopped_by = StopReason::Interrupted;
                break;
            }
            _ = ctx.abort.notified() => {
                stopped_by = StopReason::Aborted;
                break;
            }
            arrival = next_arrival => arrival,
        };
        let Some((when, slot)) = arrival else { break };
        while tasks.try_join_next().is_some() {}
        let dropped = ctx.in_flight.load(Ordering::Relaxed) >= ctx.spec.max_in_flight;
        ctx.agg.lock().expect("recorder").arrival(ctx.second_of(when), dropped);
        if !dropped {
            ctx.in_flight.fetch_add(1, Ordering::Relaxed);
            let c = Arc::clone(&ctx);
            let customer = i * u64::from(plan.shard.count) + u64::from(plan.shard.index - 1);
            tasks.spawn(async move {
                customer::run(Arc::clone(&c), customer, when).await;
                c.in_flight.fetch_sub(1, Ordering::Relaxed);
                drop(slot);
            });
        }
        i += 1;
    }
    let arrivals_end = Instant::now();
    let arrival_window = match stopped_by {
        StopReason::Duration => plan.duration,
        _ => arrivals_end.saturating_duration_since(start),
    };

    // Let in-flight customers finish, within the grace period.
    let seen = *signals.borrow();
    let deadline = Instant::now() + plan.grace;
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
    ticker.abort();
    let elapsed = Instant::now().saturating_duration_since(start);
    let mut agg = ctx.agg.lock().expect("recorder").clone();
    agg.unfinished = unfinished;
    Ok(LoadOutcome { agg, request_names, elapsed, arrival_window, stopped_by, started_at_unix_ms })
}

/// Each second: records the customers in flight and, on a terminal,
/// prints a progress line.
async fn sample_each_second(ctx: Arc<LoadContext>, print: bool, abort_on_error_rate: Option<f64>) {
    let mut tick = tokio::time::interval_at(ctx.start + Duration::from_secs(1), Duration::from_secs(1));
    let mut last = (0u64, 0u64);
    loop {
        tick.tick().await;
        let in_flight = ctx.in_flight.load(Ordering::Relaxed) as u64;
        let second = ctx.second_of(Instant::now()).saturating_sub(1);
        let (arrivals, requests, errors, p99) = {
            let mut agg = ctx.agg.lock().expect("recorder");
            agg.in_flight(second, in_flight);
            let p99 = agg.overall.latency_us.value_at_quantile(0.99) as f64 / 1000.0;
            (agg.arrivals, agg.overall.requests, agg.overall.error_count(), p99)
        };
        if let Some(limit) = abort_on_error_rate
            && requests >= 20
            && errors as f64 > limit * requests as f64
        {
            ctx.abort.notify_one();
        }
        if print {
            eprint!(
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
