//! What the driver and every customer task share: the target, the HTTP
//! client, the customers' generators and the recorder.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::time::Instant;

use super::http::HttpClient;
use super::plan::LoadPlan;
use super::recorder::{ErrorClass, Exchange, Journeys, LoadAgg};
use super::spec::LoadSpec;
use fogg_core::rng::{CustomerRngs, Stream};
use fogg_model::Model;

/// Keep-alive connections kept open per host while idle, over all the
/// run's threads.
const MAX_IDLE_CONNECTIONS: usize = 256;

/// Shared by the driver and every customer task.
pub struct LoadContext {
    pub(super) model: Arc<Model>,
    pub(super) spec: LoadSpec,
    /// Base URL without a trailing slash.
    pub(super) target: String,
    /// The target's origin, the `Origin` of requests that are not GET.
    pub(super) origin: reqwest::header::HeaderValue,
    /// One HTTP client per thread of the run: a thread's connections are
    /// its own, so no response wakes another thread.
    pub(super) clients: Vec<HttpClient>,
    pub(super) journey_rngs: CustomerRngs,
    pub(super) behaviour_rngs: CustomerRngs,
    /// Per state, per request: index into the request names.
    pub(super) request_index: Vec<Vec<usize>>,
    /// Per state, per request, per resource: index into the request names.
    pub(super) resource_index: Vec<Vec<Vec<usize>>>,
    /// Per state, per request: its URL, parsed once, when its path has no
    /// variables (`None`: rendered and parsed per request).
    pub(super) request_urls: Vec<Vec<Option<FixedUrl>>>,
    /// Per state, per request, per resource: the same for resources.
    pub(super) resource_urls: Vec<Vec<Vec<Option<FixedUrl>>>>,
    /// Request names, in the order of the recorder's `by_request`.
    pub(super) request_names: Vec<String>,
    /// Second 0 of the run.
    pub(super) start: Instant,
    /// When second 0 began, ms since the Unix epoch.
    pub(super) started_at_unix_ms: u64,
    /// Customers started and not finished.
    pub(super) in_flight: AtomicUsize,
    /// Responses in HTTP/1.x and in HTTP/2, counted without the recorder's
    /// lock.
    pub(super) http1_responses: std::sync::atomic::AtomicU64,
    pub(super) http2_responses: std::sync::atomic::AtomicU64,
    /// Response body bytes as they came on the wire, and decoded.
    pub(super) body_bytes_wire: std::sync::atomic::AtomicU64,
    pub(super) body_bytes_decoded: std::sync::atomic::AtomicU64,
    /// Everything measured so far.
    pub(super) agg: Mutex<LoadAgg>,
    /// Set by the once-a-second sampler when the run must stop early (a
    /// hard failure, a target that is down), after it set the reason;
    /// every thread's launcher watches it.
    pub(super) abort: tokio::sync::watch::Sender<bool>,
    /// Why the sampler stopped the run early.
    pub(super) abort_reason: std::sync::OnceLock<super::plan::StopReason>,
    /// The thresholds as last judged (when the plan judges them).
    pub(super) judged: Mutex<Vec<super::plan::Judged>>,
    /// The threshold that stopped it, and how long it had failed.
    pub(super) failed_threshold: std::sync::OnceLock<(String, Duration)>,
    /// How long in-flight customers may take to finish once arrivals stop.
    pub(super) grace: Duration,
    /// The run's seed, from which trace ids derive.
    pub(super) seed: u64,
    /// The run's id, which trace ids also derive from.
    pub(super) run_id: u64,
    /// Customers below this index print their exchanges (`--debug N`).
    pub(super) debug_customers: u64,
    /// The values of the scenario's `{env.NAME}`: redacted from the
    /// samples of failed exchanges.
    pub(super) secrets: Vec<String>,
    /// `[load] tracestate`, sent beside every `traceparent`.
    pub(super) tracestate: Option<reqwest::header::HeaderValue>,
}

/// Each secret as written and as a form or query sends it
/// (percent-encoded), so that redaction finds it either way.
fn secrets_as_sent(secrets: Vec<String>) -> Vec<String> {
    let mut all = Vec::with_capacity(2 * secrets.len());
    for secret in secrets {
        let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != secret {
            all.push(encoded);
        }
        all.push(secret);
    }
    all
}

/// A request's URL when its path has no variables, parsed once for the
/// run: as a URL (for cookies and redirects) and as the URI sent.
#[derive(Debug)]
pub(super) struct FixedUrl {
    pub(super) url: reqwest::Url,
    pub(super) uri: http::Uri,
}

impl std::fmt::Debug for LoadContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadContext").field("target", &self.target).finish_non_exhaustive()
    }
}

/// Requests per second one thread is given, at most, when fogg chooses
/// the thread count: a thread sends about 75,000 a second flat out on a
/// 2-core machine (docs/benchmarks.md), and an idle one still costs a
/// wake-up per request, so a light run stays on one thread.
const REQUESTS_PER_THREAD: f64 = 10_000.0;

/// Journeys walked to estimate the requests a customer sends.
const SAMPLED_JOURNEYS: u64 = 1_000;

/// How many threads a run of `plan` gets when `--threads` is not given:
/// one per core for a closed pool (it runs as fast as it can); for an
/// open workload, one per [`REQUESTS_PER_THREAD`] at its peak rate,
/// counting every request and resource of the first
/// [`SAMPLED_JOURNEYS`] customers' journeys (as if none left early), and
/// at most one per core.
fn thread_count(plan: &LoadPlan, model: &Model, spec: &LoadSpec) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let peak = match &plan.workload {
        super::plan::Workload::Closed(_) => return cores,
        super::plan::Workload::Open(profile) => profile.max_rate(plan.duration.as_secs_f64()),
    };
    let per_state: Vec<usize> =
        spec.requests.iter().map(|reqs| reqs.iter().map(|r| 1 + r.resources.len()).sum()).collect();
    let journeys = CustomerRngs::new(plan.seed, Stream::Journey);
    let requests: usize = (0..SAMPLED_JOURNEYS)
        .map(|i| {
            let mut rng = journeys.customer(i);
            model.walk(&mut rng).map(|step| per_state[step.state.0 as usize]).sum::<usize>()
        })
        .sum();
    let per_second = peak * requests as f64 / SAMPLED_JOURNEYS as f64;
    ((per_second / REQUESTS_PER_THREAD).ceil() as usize).clamp(1, cores)
}

impl LoadContext {
    /// The HTTP client, recorder and generators of a run of `plan` against
    /// `target`, starting 20 ms from now.
    pub(super) fn new(
        model: Arc<Model>,
        spec: LoadSpec,
        target: &str,
        plan: &LoadPlan,
    ) -> anyhow::Result<LoadContext> {
        // A thread without a customer to run would only wait for the end.
        let customers = match plan.workload {
            super::plan::Workload::Closed(n) => plan.max_customers.map_or(n, |max| max.min(n)),
            super::plan::Workload::Open(_) => plan.max_customers.unwrap_or(u64::MAX),
        };
        let threads = plan
            .threads
            .unwrap_or_else(|| thread_count(plan, &model, &spec))
            .min(usize::try_from(customers).unwrap_or(usize::MAX))
            .max(1);
        // Idle keep-alive connections are capped so that a pool of thinking
        // customers does not hold one open connection (and its buffers)
        // each; the cap is the run's, shared among the threads.
        let idle = (MAX_IDLE_CONNECTIONS / threads).max(1);
        let clients = (0..threads)
            .map(|_| HttpClient::new(plan.insecure, plan.http2, idle).context("building the HTTP client"))
            .collect::<anyhow::Result<Vec<_>>>()?;

        let request_names: Vec<String> = spec.request_names().into_iter().map(str::to_owned).collect();
        let index_of =
            |name: &str| request_names.iter().position(|n| n == name).expect("every name is listed");
        let request_index: Vec<Vec<usize>> =
            spec.requests.iter().map(|reqs| reqs.iter().map(|r| index_of(&r.name)).collect()).collect();
        let resource_index: Vec<Vec<Vec<usize>>> = spec
            .requests
            .iter()
            .map(|reqs| {
                reqs.iter().map(|r| r.resources.iter().map(|x| index_of(&x.name)).collect()).collect()
            })
            .collect();
        let target = target.trim_end_matches('/').to_owned();
        let fixed_url = |path: &super::spec::Template| {
            let url = reqwest::Url::parse(&format!("{target}{}", path.literal()?)).ok()?;
            let uri = http::Uri::try_from(url.as_str()).ok()?;
            Some(FixedUrl { url, uri })
        };
        let request_urls: Vec<Vec<Option<FixedUrl>>> =
            spec.requests.iter().map(|reqs| reqs.iter().map(|r| fixed_url(&r.path)).collect()).collect();
        let resource_urls: Vec<Vec<Vec<Option<FixedUrl>>>> = spec
            .requests
            .iter()
            .map(|reqs| {
                reqs.iter().map(|r| r.resources.iter().map(|x| fixed_url(&x.path)).collect()).collect()
            })
            .collect();
        let agg = LoadAgg::new(request_names.len(), model.states.len(), model.segments.len());
        let start = Instant::now() + Duration::from_millis(20);
        let started_at_unix_ms = (std::time::SystemTime::now() + Duration::from_millis(20))
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let origin = reqwest::Url::parse(&target)
            .ok()
            .and_then(|u| reqwest::header::HeaderValue::from_str(&u.origin().ascii_serialization()).ok())
            .with_context(|| format!("{target} has no origin"))?;
        Ok(LoadContext {
            origin,
            target,
            clients,
            journey_rngs: CustomerRngs::new(plan.seed, Stream::Journey),
            behaviour_rngs: CustomerRngs::new(plan.seed, Stream::Behaviour),
            request_index,
            resource_index,
            request_urls,
            resource_urls,
            request_names,
            start,
            started_at_unix_ms,
            in_flight: AtomicUsize::new(0),
            http1_responses: std::sync::atomic::AtomicU64::new(0),
            http2_responses: std::sync::atomic::AtomicU64::new(0),
            body_bytes_wire: std::sync::atomic::AtomicU64::new(0),
            body_bytes_decoded: std::sync::atomic::AtomicU64::new(0),
            agg: Mutex::new(agg),
            abort: tokio::sync::watch::Sender::new(false),
            abort_reason: std::sync::OnceLock::new(),
            judged: Mutex::new(Vec::new()),
            failed_threshold: std::sync::OnceLock::new(),
            grace: plan.grace,
            seed: plan.seed,
            run_id: plan.run_id,
            debug_customers: plan.debug_customers,
            secrets: secrets_as_sent(spec.secrets()),
            tracestate: match &spec.tracestate {
                Some(t) => Some(reqwest::header::HeaderValue::from_str(t).context("[load] tracestate")?),
                None => None,
            },
            model,
            spec,
        })
    }

    /// The second of the run an instant falls in.
    pub(super) fn second_of(&self, at: Instant) -> usize {
        at.saturating_duration_since(self.start).as_secs() as usize
    }

    /// Records one request, in the second its send was intended.
    pub(super) fn record_request(&self, intended: Instant, exchange: &Exchange) {
        let second = self.second_of(intended);
        self.agg.lock().expect("no task panics while holding the recorder").request(second, exchange);
    }

    /// Records why a request (by index) failed.
    pub(super) fn record_failure(&self, request: usize, sample: super::failures::FailureSample) {
        let mut agg = self.agg.lock().expect("no task panics while holding the recorder");
        if let Some(failures) = agg.failures.get_mut(request) {
            failures.record(sample);
        }
    }

    /// Records a finished journey, with its slowest successful request
    /// and its failed one (request index, latency µs), for its trace id.
    pub(super) fn record_journey(
        &self,
        customer: u64,
        segment: usize,
        j: &Journeys,
        slowest: Option<(usize, u64)>,
        failure: Option<(usize, u64, ErrorClass)>,
    ) {
        let mut agg = self.agg.lock().expect("no task panics while holding the recorder");
        agg.journey(segment, j);
        agg.traces.offer(self.seed, self.run_id, customer, slowest, failure);
    }
}
