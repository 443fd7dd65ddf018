//! One virtual customer: walks its journey (the same journey `simulate`
//! gives customer `i` of the same seed), sends each touchpoint's requests,
//! pauses for think time, and leaves when a response is slower than its
//! patience or a request fails.
//!
//! **A session as a browser keeps it.** The customer has a cookie jar and
//! the values its requests captured; it follows redirects itself (within
//! the target's origin) so that every hop's cookies and headers count;
//! a page's resources are fetched after its document, six at a time; and
//! every request carries the journey's `traceparent`.
//!
//! **Abandonment model.** After each response, the customer draws a
//! patience `P` from `[load] patience`; if the latency `L` (from the
//! intended send time) exceeds `P`, the customer leaves. So the chance of
//! leaving after a response of latency `L` is the share of patience draws
//! below `L`, i.e. the patience distribution's CDF at `L`. A failed request
//! (connect error, timeout, unexpected 4xx/5xx, failed check) ends the
//! journey when `on_error = "abandon"` (the default).
//!
//! **Lost conversions.** The journey's steps come from the journey RNG
//! alone, so after leaving, the customer's remaining steps are still
//! walked (without requests): every conversion among them is a conversion
//! lost, to latency or to errors, and the sum over all customers is paired
//! customer by customer with the latency-free counterfactual.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::capture::{self, Capture};
use super::context::LoadContext;
use super::debug;
use super::encoding::{Decoder, Sink};
use super::failures::{self, FailureSample};
use super::http::{self, HttpClient};
use super::outgoing;
use super::recorder::{ErrorClass, Exchange, Journeys};
use super::spec::{FeederOrder, LoadSpec, OnError};
use super::spec::{MAX_CONNECTIONS_PER_HOST, RequestSpec, Vars};
use super::trace;
use fogg_core::rng::CustomerRng;
use fogg_core::units::MAX_DURATION_S;
use fogg_model::{Journey, Step};
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use std::borrow::Cow;

use super::context::FixedUrl;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    LeftSlow,
    LeftError,
}

/// Walks customer `customer`, who arrives at `arrival`, on thread
/// `thread` of the run (whose HTTP client it uses).
pub async fn run(ctx: &LoadContext, customer: u64, arrival: Instant, thread: usize) {
    let client = &ctx.clients[thread];
    let model = &ctx.model;
    let spec = &ctx.spec;
    let mut journey_rng = ctx.journey_rngs.customer(customer);
    let mut behaviour = ctx.behaviour_rngs.customer(customer);
    let product = (behaviour.next_u64() % 500) as u32 + 1;
    let rows = feeder_rows(spec, customer, &mut behaviour);
    let mut session = Session {
        cookies: cookie_store::CookieStore::default(),
        captured: vec![None; spec.captures.len()],
        last_page: None,
        debug: (customer < ctx.debug_customers).then(String::new),
    };
    let mut journal = Journal::new(ctx, customer, model.walk(&mut journey_rng));
    let segment = journal.segment;
    let segment_id = model.segments[segment].id.as_str();
    let mut intended = arrival;
    let trace = trace::trace_id(ctx.seed, ctx.run_id, customer);
    let mut sent: u64 = 0;
    let mut step_no = 0;
    while let Some(step) = journal.next_step() {
        step_no += 1;
        let s = step.state.0 as usize;
        let state = &model.states[s];
        if journal.status == Status::Active {
            let vars = Vars {
                customer,
                segment: segment_id,
                state: &state.id,
                step: step_no,
                product,
                run: ctx.run_id,
                feeders: &spec.feeders,
                rows: &rows,
                captured: &[],
            };
            for (k, request) in spec.requests[s].iter().enumerate() {
                let now = super::wait_until(intended).await;
                journal.waiting = Some(InFlight {
                    ctx,
                    intended,
                    sent: now,
                    request: ctx.request_index[s][k],
                    state: s,
                    segment,
                    recorded: false,
                });
                // Boxed: the request's large future exists only while the
                // request is in flight, not in every thinking customer. (In
                // a statement of its own: a temporary lives to the end of
                // its statement, so one boxed where it is awaited would
                // still take its size in the customer's future.)
                sent += 1;
                let span = trace::span_id(trace, sent);
                let url = ctx.request_urls[s][k].as_ref();
                let sending =
                    Box::pin(send(ctx, client, (request, url), vars, &mut session, (trace, span), now));
                let result = sending.await;
                if let Some(log) = session.debug.as_mut().map(std::mem::take) {
                    let outcome = result
                        .as_ref()
                        .map(|_| ())
                        .map_err(|f| (f.class.short_name(), f.sample.as_ref().map(|s| s.reason.as_str())));
                    debug::print(customer, &request.name, &log, outcome);
                }
                let result = result.map_err(|failed| {
                    if let Some(mut sample) = failed.sample {
                        sample.customer = customer;
                        ctx.record_failure(ctx.request_index[s][k], *sample);
                    }
                    failed.class
                });
                if result.is_ok() && !request.resources.is_empty() {
                    let page = Page {
                        request,
                        indices: &ctx.resource_index[s][k],
                        urls: &ctx.resource_urls[s][k],
                        state: s,
                        segment,
                    };
                    let fetching =
                        Box::pin(page.resources(ctx, client, vars, &mut session, trace, &mut sent));
                    fetching.await;
                }
                // A page's latency is its document's start to its last
                // resource's end.
                let (request, done) = journal.answered(result.err());
                let latency = done.saturating_duration_since(intended);
                intended = done;
                journal.status = judge(result, request, latency, spec, &mut behaviour, &mut journal.marks);
                if journal.status != Status::Active {
                    break;
                }
            }
        }
        journal.count_step();
        if journal.status == Status::Active {
            let think = spec.think_after(s).sample(&mut behaviour);
            // Thinking starts when the state's last response ended (then
            // `intended`), or now for a state that sent nothing.
            let thought_from =
                if spec.requests[s].is_empty() { intended.max(Instant::now()) } else { intended };
            intended = thought_from + seconds(think);
        }
    }
}

/// A customer's journey as it goes: the steps still to walk, what the
/// customer has done so far, and the request they are waiting on. It is
/// recorded when the journey ends, or when the run ends first (the
/// customer's task dropped): a customer still waiting on a response then
/// is walked on like one who left, lost to errors when the request timed
/// out and to latency when the end cut it short; a customer who was
/// thinking keeps what they did, and their steps to come count nowhere.
struct Journal<'a, 'r> {
    ctx: &'a LoadContext,
    customer: u64,
    segment: usize,
    steps: Journey<'a, 'r, CustomerRng>,
    /// The step whose requests are being sent, its conversion not yet
    /// counted.
    current: Option<Step>,
    /// The request on the wire, if any.
    waiting: Option<InFlight<'a>>,
    status: Status,
    outcome: Journeys,
    marks: Marks,
    recorded: bool,
}

/// The slowest successful request of a journey and its first failure
/// (request index, latency µs), for its trace id.
#[derive(Default)]
struct Marks {
    slowest: Option<(usize, u64)>,
    failure: Option<(usize, u64, ErrorClass)>,
}

impl<'a, 'r> Journal<'a, 'r> {
    fn new(ctx: &'a LoadContext, customer: u64, steps: Journey<'a, 'r, CustomerRng>) -> Self {
        Journal {
            ctx,
            customer,
            segment: steps.segment().0 as usize,
            steps,
            current: None,
            waiting: None,
            status: Status::Active,
            outcome: Journeys { customers: 1, ..Journeys::default() },
            marks: Marks::default(),
            recorded: false,
        }
    }

    /// The next step, now the current one; `None` once the journey is
    /// over (then recorded).
    fn next_step(&mut self) -> Option<Step> {
        self.current = self.steps.next();
        if self.current.is_none() {
            self.record();
        }
        self.current
    }

    /// The request on the wire was answered (or failed) now: records it;
    /// its index and when it ended.
    fn answered(&mut self, error: Option<ErrorClass>) -> (usize, Instant) {
        match self.waiting.take() {
            Some(mut wire) => (wire.request, wire.record(error)),
            None => (0, Instant::now()),
        }
    }

    /// Counts the current step's conversion, if it is one, as the
    /// customer's status has it.
    fn count_step(&mut self) {
        if let Some(step) = self.current.take()
            && self.ctx.model.states[step.state.0 as usize].conversion
        {
            count_conversion(&mut self.outcome, self.status, step.value);
        }
    }

    fn record(&mut self) {
        if self.recorded {
            return;
        }
        self.recorded = true;
        self.outcome.abandoned_latency = u64::from(self.status == Status::LeftSlow);
        self.outcome.abandoned_errors = u64::from(self.status == Status::LeftError);
        let Marks { slowest, failure } = self.marks;
        self.ctx.record_journey(self.customer, self.segment, &self.outcome, slowest, failure);
    }
}

impl Drop for Journal<'_, '_> {
    fn drop(&mut self) {
        if self.recorded {
            return;
        }
        if let Some(mut wire) = self.waiting.take() {
            let (status, timed_out) = wire.cut();
            self.status = status;
            if let Some(waited_us) = timed_out {
                let timeout = (wire.request, waited_us, ErrorClass::Timeout);
                self.marks.failure = self.marks.failure.or(Some(timeout));
            }
            self.count_step();
            while let Some(step) = self.steps.next() {
                self.current = Some(step);
                self.count_step();
            }
        }
        self.record();
    }
}

/// Whether the customer stays after a response that took `latency`: they
/// leave on an error when the scenario says so, or when it took longer
/// than their patience. Keeps the journey's slowest response and first
/// failure.
fn judge(
    result: Result<(), ErrorClass>,
    request: usize,
    latency: Duration,
    spec: &LoadSpec,
    behaviour: &mut impl Rng,
    marks: &mut Marks,
) -> Status {
    let Marks { slowest, failure } = marks;
    let latency_us = latency.as_micros() as u64;
    match result {
        Err(e) => {
            *failure = failure.or(Some((request, latency_us, e)));
            if spec.on_error == OnError::Abandon { Status::LeftError } else { Status::Active }
        }
        Ok(()) => {
            if slowest.is_none_or(|(_, us)| latency_us > us) {
                *slowest = Some((request, latency_us));
            }
            let patience = seconds(spec.patience.sample(behaviour));
            if latency > patience { Status::LeftSlow } else { Status::Active }
        }
    }
}

/// The row of each feeder customer `customer` reads: in turn, or drawn
/// from their behaviour generator.
fn feeder_rows(spec: &LoadSpec, customer: u64, behaviour: &mut impl Rng) -> Vec<usize> {
    spec.feeders
        .iter()
        .map(|f| match f.order {
            FeederOrder::RoundRobin => (customer % f.rows.len() as u64) as usize,
            FeederOrder::Random => (behaviour.next_u64() % f.rows.len() as u64) as usize,
        })
        .collect()
}

/// A conversion of `value` in a journey: achieved while the customer is
/// still there, lost to latency or errors once they have left, and in
/// the counterfactual (instant responses) either way.
fn count_conversion(outcome: &mut Journeys, status: Status, value: f64) {
    let cents = u128::from(fogg_model::cents(value));
    outcome.counterfactual_conversions += 1;
    outcome.counterfactual_revenue_cents += cents;
    match status {
        Status::Active => {
            outcome.conversions += 1;
            outcome.revenue_cents += cents;
        }
        Status::LeftSlow => {
            outcome.lost_latency += 1;
            outcome.revenue_at_risk_cents += cents;
        }
        Status::LeftError => {
            outcome.lost_errors += 1;
            outcome.revenue_at_risk_cents += cents;
        }
    }
}

/// A sampled time as a duration. A heavy-tailed distribution may draw
/// beyond any bound; clamped to [`MAX_DURATION_S`], such a draw is a
/// customer who never comes back within the run, not a panic; a NaN is 0.
fn seconds(s: f64) -> Duration {
    let s = if s.is_nan() { 0.0 } else { s };
    Duration::from_secs_f64(s.clamp(0.0, MAX_DURATION_S))
}

/// A request on the wire. It is recorded when its response is judged.
/// Dropped before that (its customer's task aborted when the grace period
/// is over), it is still recorded, so every request sent is accounted
/// for: as a timeout with the time it had waited when it had waited the
/// whole grace period or more (the target had every chance to answer),
/// else as unfinished (the end of the run cut it short).
struct InFlight<'a> {
    ctx: &'a LoadContext,
    intended: Instant,
    sent: Instant,
    request: usize,
    state: usize,
    segment: usize,
    recorded: bool,
}

impl InFlight<'_> {
    /// Records the exchange as it ended now; when it ended.
    fn record(&mut self, error: Option<ErrorClass>) -> Instant {
        self.record_as(error, false)
    }

    fn record_as(&mut self, error: Option<ErrorClass>, unfinished: bool) -> Instant {
        let done = Instant::now();
        let exchange = Exchange {
            request: self.request,
            state: self.state,
            segment: self.segment,
            latency_us: done.saturating_duration_since(self.intended).as_micros() as u64,
            service_us: done.saturating_duration_since(self.sent).as_micros() as u64,
            error,
            unfinished,
        };
        self.ctx.record_request(self.intended, &exchange);
        self.recorded = true;
        done
    }

    /// Records the request as the end of the run left it: a timeout when
    /// it had waited the whole grace period, else unfinished. How its
    /// customer is counted: left on an error (with the time the request
    /// waited, µs), or on latency.
    fn cut(&mut self) -> (Status, Option<u64>) {
        if self.sent.elapsed() >= self.ctx.grace {
            let done = self.record(Some(ErrorClass::Timeout));
            (Status::LeftError, Some(done.saturating_duration_since(self.intended).as_micros() as u64))
        } else {
            self.record_as(None, true);
            (Status::LeftSlow, None)
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            self.cut();
        }
    }
}

/// What a customer keeps from one response to the next: cookies, as a
/// browser keeps them, and captured values.
struct Session {
    cookies: cookie_store::CookieStore,
    captured: Vec<Option<String>>,
    /// The URL of the last page the customer got (after its redirects):
    /// the next request's `Referer`.
    last_page: Option<reqwest::Url>,
    /// `--debug`: the exchanges of the request in flight, written out
    /// when it ends; `None` for a customer not debugged.
    debug: Option<String>,
}

/// What a customer's exchanges must not show: the run's secrets and the
/// values the customer `captured`.
fn ctx_hidden<'a>(ctx: &'a LoadContext, captured: &'a [Option<String>]) -> Vec<&'a str> {
    ctx.secrets.iter().map(String::as_str).chain(captured.iter().flatten().map(String::as_str)).collect()
}

/// Sends one request (with its URL, when fixed), at `sent`, and checks
/// its response. Redirects are followed
/// here, within the target's origin and at most [`MAX_REDIRECTS`], so
/// that every hop's cookies reach the jar and every hop's headers the
/// captures (the body is the last response's).
async fn send(
    ctx: &LoadContext,
    client: &HttpClient,
    (request, fixed_url): (&RequestSpec, Option<&FixedUrl>),
    vars: Vars<'_>,
    session: &mut Session,
    trace: (u128, u64),
    sent: Instant,
) -> Result<(), Failed> {
    let vars = Vars { captured: &session.captured, ..vars };
    let (mut url, mut uri) = target_url(ctx, &request.path, fixed_url, &vars)?;
    let mut body = outgoing::body(request, &vars)?;
    let mut method = request.method.clone();
    let keep_headers = !request.captures.is_empty();
    let mut seen = HeaderMap::new();
    let mut redirects = 0;
    // Where the first response redirected, for `expect_redirect`.
    let mut first_redirect = None;
    // Each hop has the whole timeout, its response's body included.
    let mut hop_sent = sent;
    let (mut response, lease, deadline) = loop {
        let deadline = hop_sent + ctx.spec.timeout;
        let headers =
            outgoing::headers(ctx, Some(request), &method, &vars, trace, session.last_page.as_ref())?;
        let exchange = http_request(&method, &url, uri.take(), headers, &session.cookies, body.clone())?;
        if let Some(log) = &mut session.debug {
            debug::request(log, &exchange, body.as_deref(), &ctx_hidden(ctx, &session.captured));
        }
        let (response, lease) = within(deadline, client.send(exchange)).await?.map_err(|e| {
            no_response(&e, (&method, &url), vars.customer, &ctx_hidden(ctx, &session.captured))
        })?;
        if let Some(log) = &mut session.debug {
            let hidden = ctx_hidden(ctx, &session.captured);
            debug::response(log, response.status().as_u16(), response.version(), response.headers(), &hidden);
        }
        keep_cookies(&mut session.cookies, set_cookies(response.headers()), &url);
        let Some(next) = redirect_to(&response, &url) else { break (response, lease, deadline) };
        if redirects == 0 {
            first_redirect = Some(next.clone());
        }
        if keep_headers {
            for (name, value) in response.headers() {
                seen.append(name.clone(), value.clone());
            }
        }
        if next.origin() != url.origin() || redirects == MAX_REDIRECTS {
            return Err(ErrorClass::Other.into());
        }
        redirects += 1;
        let status = response.status().as_u16();
        if status == 303 && method != reqwest::Method::HEAD
            || matches!(status, 301 | 302) && method == reqwest::Method::POST
        {
            method = reqwest::Method::GET;
            body = None;
        }
        url = Cow::Owned(next);
        hop_sent = Instant::now();
    };
    let version = match response.version() {
        reqwest::Version::HTTP_2 => &ctx.http2_responses,
        _ => &ctx.http1_responses,
    };
    version.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let status = response.status().as_u16();
    // A response that fails on its status or redirect keeps its body's
    // head for the report's sample.
    let failing = failed_check(request, status, first_redirect.as_ref());
    let keep_body =
        request.captures.iter().any(Capture::needs_body) || failing.is_some() || session.debug.is_some();
    let body = read_body(ctx, &mut response, deadline, request.expect_body.as_deref(), keep_body).await?;
    let (found, kept) = (body.found(), body.kept);
    lease.reuse();
    if let Some(log) = &mut session.debug {
        debug::response_body(log, &kept, &ctx_hidden(ctx, &session.captured));
    }
    let failed = |class: ErrorClass, reason: String, session: &Session| Failed {
        class,
        sample: Some(Box::new(failure_sample(
            ctx,
            session,
            (&method, &url, status),
            (class, reason),
            &response,
            &kept,
        ))),
    };
    let failing = failing.or_else(|| {
        let text = request.expect_body.as_deref().unwrap_or_default();
        (!found).then(|| (ErrorClass::Check, format!("expect_body = {text:?}: not in the body")))
    });
    if let Some((class, reason)) = failing {
        return Err(failed(class, reason, session));
    }
    if keep_headers {
        for (name, value) in response.headers() {
            seen.append(name.clone(), value.clone());
        }
        if let Err(name) = capture::take_all(&request.captures, &seen, &kept, &mut session.captured) {
            return Err(failed(ErrorClass::Check, format!("capture {name}: found nothing"), session));
        }
    }
    session.last_page = Some(url.into_owned());
    Ok(())
}

/// The check a response fails before its body is read, if any: the
/// first response did not redirect where `expect_redirect` says, or the
/// status is not one `expect_status` accepts (2xx or 3xx without one);
/// with its class and why.
fn failed_check(
    request: &RequestSpec,
    status: u16,
    first_redirect: Option<&reqwest::Url>,
) -> Option<(ErrorClass, String)> {
    if let Some(target) = &request.expect_redirect
        && !outgoing::redirected_as_expected(target, first_redirect)
    {
        let got = match first_redirect {
            Some(to) => format!("the first response redirected to {}", to.path()),
            None => format!("the first response was {status}, not a redirect"),
        };
        return Some((ErrorClass::Check, format!("expect_redirect = \"{target}\": {got}")));
    }
    match &request.expect_status {
        Some(codes) if !codes.contains(&status) => {
            Some((status_class(status), format!("status {status}, expect_status = {codes:?}")))
        }
        None if !(200..400).contains(&status) => Some((status_class(status), format!("status {status}"))),
        _ => None,
    }
}

/// A request that got no response: its class, and a sample that says
/// why (a TLS problem named with its fix, a refused connection).
fn no_response(
    e: &http::Error,
    (method, url): (&reqwest::Method, &reqwest::Url),
    customer: u64,
    hidden: &[&str],
) -> Failed {
    let class = classify(e);
    Failed {
        class,
        sample: Some(Box::new(FailureSample {
            customer,
            method: method.to_string(),
            path: sample_path(url, hidden),
            status: None,
            class,
            reason: failures::no_response_reason(e),
            headers: Vec::new(),
            body: String::new(),
        })),
    }
}

/// A failed request's path and query as a sample shows it, with the
/// run's secrets and the customer's captured values redacted.
fn sample_path(url: &reqwest::Url, hidden: &[&str]) -> String {
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    failures::redact(&path, hidden)
}

/// A request that failed: its class and, when a response came, a
/// sample of it with why it failed.
pub(super) struct Failed {
    pub(super) class: ErrorClass,
    pub(super) sample: Option<Box<FailureSample>>,
}

impl From<ErrorClass> for Failed {
    fn from(class: ErrorClass) -> Failed {
        Failed { class, sample: None }
    }
}

/// The sample of a failed exchange, with the run's secrets and the
/// customer's captured values redacted from its path, headers and body.
fn failure_sample(
    ctx: &LoadContext,
    session: &Session,
    (method, url, status): (&reqwest::Method, &reqwest::Url, u16),
    (class, reason): (ErrorClass, String),
    response: &http::Response,
    body: &[u8],
) -> FailureSample {
    let hidden = ctx_hidden(ctx, &session.captured);
    let (headers, body) = failures::redacted_response(response.headers(), body, &hidden);
    FailureSample {
        customer: 0,
        method: method.to_string(),
        path: sample_path(url, &hidden),
        status: Some(status),
        class,
        reason: failures::redact(&reason, &hidden),
        headers,
        body,
    }
}

/// A page whose document arrived: its resources to fetch.
struct Page<'a> {
    request: &'a RequestSpec,
    /// Per resource, its index among the request names.
    indices: &'a [usize],
    /// Per resource, its URL when fixed.
    urls: &'a [Option<FixedUrl>],
    state: usize,
    segment: usize,
}

impl Page<'_> {
    /// Fetches every resource, at most [`MAX_CONNECTIONS_PER_HOST`] at a
    /// time, each recorded under its own name; the cookies they set are
    /// kept once all are done. A failed resource does not fail the page
    /// (a browser shows it without the broken image), but counts as the
    /// failed request it is.
    async fn resources(
        &self,
        ctx: &LoadContext,
        client: &HttpClient,
        vars: Vars<'_>,
        session: &mut Session,
        trace: u128,
        sent: &mut u64,
    ) {
        let vars = Vars { captured: &session.captured, ..vars };
        let (jar, page) = (&session.cookies, session.last_page.as_ref());
        let first = *sent;
        *sent += self.request.resources.len() as u64;
        // Collected first: a lazy iterator's closure held across the
        // await below would make the customer's future not `Send`.
        let mut fetches = Vec::with_capacity(self.indices.len());
        let each = self.request.resources.iter().zip(self.indices).zip(self.urls);
        for (((resource, &index), url), n) in each.zip(first + 1..) {
            let vars = &vars;
            fetches.push(async move {
                let now = Instant::now();
                let mut wire = InFlight {
                    ctx,
                    intended: now,
                    sent: now,
                    request: index,
                    state: self.state,
                    segment: self.segment,
                    recorded: false,
                };
                let result = fetch(
                    ctx,
                    client,
                    &resource.path,
                    url.as_ref(),
                    vars,
                    (jar, page),
                    (trace, trace::span_id(trace, n)),
                )
                .await;
                wire.record(result.as_ref().err().copied());
                result.ok().flatten()
            });
        }
        let set: Vec<SetCookies> = futures_util::stream::iter(fetches)
            .buffer_unordered(MAX_CONNECTIONS_PER_HOST)
            .filter_map(std::future::ready)
            .collect()
            .await;
        for (url, cookies) in set {
            keep_cookies(&mut session.cookies, cookies, &url);
        }
    }
}

/// GETs one resource with the customer's cookies and the page as its
/// `Referer` (no redirect followed:
/// a 3xx is its answer); the cookies it sets, if any, and where. 2xx and
/// 3xx succeed.
async fn fetch(
    ctx: &LoadContext,
    client: &HttpClient,
    path: &super::spec::Template,
    fixed_url: Option<&FixedUrl>,
    vars: &Vars<'_>,
    (jar, page): (&cookie_store::CookieStore, Option<&reqwest::Url>),
    trace: (u128, u64),
) -> Result<Option<SetCookies>, ErrorClass> {
    let (url, uri) = target_url(ctx, path, fixed_url, vars)?;
    let headers = outgoing::headers(ctx, None, &reqwest::Method::GET, vars, trace, page)?;
    let deadline = Instant::now() + ctx.spec.timeout;
    let exchange = http_request(&reqwest::Method::GET, &url, uri, headers, jar, None)?;
    let (mut response, lease) = within(deadline, client.send(exchange)).await?.map_err(|e| classify(&e))?;
    let set = set_cookies(response.headers());
    read_body(ctx, &mut response, deadline, None, false).await?;
    lease.reuse();
    match response.status().as_u16() {
        200..=399 => Ok((!set.is_empty()).then(|| (url.into_owned(), set))),
        other => Err(status_class(other)),
    }
}

/// Cookies a response set, and the URL that set them.
type SetCookies = (reqwest::Url, Vec<cookie_store::RawCookie<'static>>);

/// The target's URL with `path` rendered for this customer (`fixed`
/// when the path has no variables), and the URI to send when it was
/// parsed once for the run: a value not captured yet fails the check; a
/// URL that does not parse is `other`.
fn target_url<'a>(
    ctx: &LoadContext,
    path: &super::spec::Template,
    fixed: Option<&'a FixedUrl>,
    vars: &Vars<'_>,
) -> Result<(Cow<'a, reqwest::Url>, Option<::http::Uri>), ErrorClass> {
    if let Some(fixed) = fixed {
        return Ok((Cow::Borrowed(&fixed.url), Some(fixed.uri.clone())));
    }
    let mut url = ctx.target.clone();
    path.render(vars, &mut url).map_err(|_| ErrorClass::Check)?;
    Ok((Cow::Owned(reqwest::Url::parse(&url).map_err(|_| ErrorClass::Other)?), None))
}

/// Most cookies a customer keeps: what RFC 6265 asks a browser to keep
/// at least per domain. A customer's jar holds only its target's.
pub const MAX_COOKIES: usize = 50;

/// The longest cookie kept, name and value: browsers drop longer ones.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The cookies a response sets (those that parse and are not too long
/// to keep: a browser ignores a cookie over [`MAX_COOKIE_BYTES`]).
fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<cookie_store::RawCookie<'static>> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter(|v| v.len() <= 2 * MAX_COOKIE_BYTES)
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| cookie_store::RawCookie::parse(v.to_owned()).ok())
        .filter(|c| c.name().len() + c.value().len() <= MAX_COOKIE_BYTES)
        .collect()
}

/// Stores `cookies` set by `url` in the jar, as a browser does within
/// its limits: a cookie that replaces one of the same name is always
/// kept; a new one only while the jar holds fewer than [`MAX_COOKIES`],
/// so a target that sets thousands cannot grow a customer without bound,
/// and the session cookies it set first stay.
fn keep_cookies(
    jar: &mut cookie_store::CookieStore,
    cookies: Vec<cookie_store::RawCookie<'static>>,
    url: &reqwest::Url,
) {
    for cookie in cookies {
        let replaces = jar.iter_any().any(|kept| kept.name() == cookie.name());
        if replaces || jar.iter_any().count() < MAX_COOKIES {
            jar.store_response_cookies(std::iter::once(cookie), url);
        }
    }
}

/// The error class of a status a request did not accept.
fn status_class(status: u16) -> ErrorClass {
    match status {
        400..=499 => ErrorClass::Status4xx,
        500..=599 => ErrorClass::Status5xx,
        _ => ErrorClass::Check,
    }
}

/// Most redirects one request follows.
const MAX_REDIRECTS: usize = 10;

/// Where a redirect response sends the request next; `None` for any
/// other response (a 3xx without a usable `Location` is the answer).
fn redirect_to(response: &http::Response, url: &reqwest::Url) -> Option<reqwest::Url> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response.headers().get(reqwest::header::LOCATION)?.to_str().ok()?;
    url.join(location).ok()
}

/// The `Cookie` header the jar sends to `url` (empty: none).
fn cookie_header(jar: &cookie_store::CookieStore, url: &reqwest::Url) -> String {
    let mut header = String::new();
    for (name, value) in jar.get_request_values(url) {
        if !header.is_empty() {
            header.push_str("; ");
        }
        header.push_str(name);
        header.push('=');
        header.push_str(value);
    }
    header
}

/// Reads the whole body chunk by chunk until `deadline`, decoding it
/// when compressed (see [`encoding`]), keeping none of it but the tail a
/// match of `needle` could straddle and, when `keep`, its first
/// [`capture::MAX_CAPTURE_BODY`] decoded bytes: memory stays bounded
/// whatever the server sends (a huge or endless body ends at the request
/// timeout). Counts the body's bytes on the wire and decoded into `ctx`,
/// also when it fails part way. A body cut short or that does not decode
/// is `other`.
async fn read_body<'a>(
    ctx: &LoadContext,
    response: &mut http::Response,
    deadline: Instant,
    needle: Option<&'a str>,
    keep: bool,
) -> Result<Sink<'a>, ErrorClass> {
    use http_body_util::BodyExt;
    use std::sync::atomic::Ordering::Relaxed;
    let mut decoder = Decoder::new(response.headers(), needle, keep);
    let mut wire = 0u64;
    let outcome = loop {
        let frame = match tokio::time::timeout_at(deadline, response.body_mut().frame()).await {
            Err(_) => break Err(ErrorClass::Timeout),
            Ok(None) => break Ok(()),
            Ok(Some(Err(_))) => break Err(ErrorClass::Other),
            Ok(Some(Ok(frame))) => frame,
        };
        let Some(chunk) = frame.data_ref() else { continue };
        wire += chunk.len() as u64;
        if decoder.feed(chunk).is_err() {
            break Err(ErrorClass::Other);
        }
    };
    ctx.body_bytes_wire.fetch_add(wire, Relaxed);
    let sink = decoder.finish();
    if let Ok(sink) = &sink {
        ctx.body_bytes_decoded.fetch_add(sink.decoded, Relaxed);
    }
    outcome?;
    sink.map_err(|_| ErrorClass::Other)
}

/// Looks for a byte string in a stream of chunks, holding at most the
/// needle's length of past bytes.
#[derive(Debug)]
pub(crate) struct StreamSearch<'a> {
    needle: &'a [u8],
    /// The last `needle.len() - 1` bytes seen (or fewer), for matches
    /// across chunk boundaries.
    tail: Vec<u8>,
    /// Whether the needle was seen.
    pub found: bool,
}

impl<'a> StreamSearch<'a> {
    /// A search for `needle`; an empty needle is found at once.
    pub(crate) fn new(needle: &'a str) -> StreamSearch<'a> {
        let needle = needle.as_bytes();
        StreamSearch { needle, tail: Vec::with_capacity(needle.len()), found: needle.is_empty() }
    }

    /// Takes the next chunk of the stream.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        if self.found {
            return;
        }
        let n = self.needle.len();
        // Matches that start in the tail and end in this chunk.
        let head = &chunk[..chunk.len().min(n - 1)];
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(head);
        if joined.windows(n).any(|w| w == self.needle) || chunk.windows(n).any(|w| w == self.needle) {
            self.found = true;
            return;
        }
        // Keep the last n − 1 bytes of everything seen.
        if chunk.len() >= n - 1 {
            joined.clear();
            joined.extend_from_slice(&chunk[chunk.len() - (n - 1)..]);
        } else {
            let drop = joined.len().saturating_sub(n - 1);
            joined.drain(..drop);
        }
        self.tail = joined;
    }
}

/// The class of an exchange that failed before its response: `connect`
/// is only for a connection that could not be opened (refused,
/// unreachable): a target that accepted it and then closed or reset it,
/// or answered with something that is not HTTP, is up and misbehaving,
/// which is `other`. So only a target that refused every connection reads
/// as down. (A timeout is the request's own deadline, see [`within`].)
fn classify(e: &http::Error) -> ErrorClass {
    if e.is_connect() && !answered_by_a_peer(e) { ErrorClass::Connect } else { ErrorClass::Other }
}

/// `work`, unless `deadline` comes first: then the request timed out.
async fn within<T>(deadline: Instant, work: impl std::future::Future<Output = T>) -> Result<T, ErrorClass> {
    tokio::time::timeout_at(deadline, work).await.map_err(|_| ErrorClass::Timeout)
}

/// The exchange of one hop: `method` to `url` (sent as `uri` when given)
/// with `headers` (and `Accept: */*` unless they name one), the cookies
/// `jar` sends there, and `body`. A cookie that cannot be a header value
/// fails it as `other`.
fn http_request(
    method: &reqwest::Method,
    url: &reqwest::Url,
    uri: Option<::http::Uri>,
    mut headers: HeaderMap,
    jar: &cookie_store::CookieStore,
    body: Option<bytes::Bytes>,
) -> Result<::http::Request<http::Body>, ErrorClass> {
    let uri = match uri {
        Some(uri) => uri,
        None => ::http::Uri::try_from(url.as_str()).map_err(|_| ErrorClass::Other)?,
    };
    if !headers.contains_key(reqwest::header::ACCEPT) {
        headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("*/*"));
    }
    let mut cookie = cookie_header(jar, url);
    if !cookie.is_empty() {
        // A `Cookie` the scenario sends goes first; the jar's follow it.
        if let Some(own) = headers.get(reqwest::header::COOKIE).and_then(|v| v.to_str().ok()) {
            cookie = format!("{own}; {cookie}");
        }
        headers.insert(reqwest::header::COOKIE, cookie.try_into().map_err(|_| ErrorClass::Other)?);
    }
    let mut exchange = ::http::Request::new(body.map_or_else(http::Body::default, http::Body::new));
    *exchange.method_mut() = method.clone();
    *exchange.uri_mut() = uri;
    *exchange.headers_mut() = headers;
    Ok(exchange)
}

/// Whether the connection was opened and then reset or closed by the
/// peer: a server that is up and misbehaving, not one that cannot be
/// reached (`connect` is for refused, unreachable and unresolved).
fn answered_by_a_peer(e: &http::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
        {
            return true;
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::StreamSearch;

    fn found_in_chunks(chunks: &[&[u8]], needle: &str) -> bool {
        let mut s = StreamSearch::new(needle);
        for c in chunks {
            s.feed(c);
        }
        s.found
    }

    #[test]
    fn a_needle_is_found_however_the_body_is_cut() {
        let body = b"<html>ordered: thank you for your order</html>";
        for needle in
            ["thank you", "<html>", "</html>", "r", "order</", "absent", "you for your order</html>!"]
        {
            let whole = body.windows(needle.len()).any(|w| w == needle.as_bytes());
            for i in 0..=body.len() {
                for j in i..=body.len() {
                    let chunks: [&[u8]; 3] = [&body[..i], &body[i..j], &body[j..]];
                    assert_eq!(found_in_chunks(&chunks, needle), whole, "{needle:?} cut at {i}, {j}");
                }
            }
            let bytes: Vec<&[u8]> = body.chunks(1).collect();
            assert_eq!(found_in_chunks(&bytes, needle), whole, "{needle:?} byte by byte");
        }
        assert!(found_in_chunks(&[], ""), "an empty needle is always there");
    }

    #[test]
    fn any_sampled_time_becomes_a_duration() {
        use super::seconds;
        assert_eq!(seconds(f64::NAN), std::time::Duration::ZERO);
        assert_eq!(seconds(-3.0), std::time::Duration::ZERO);
        assert_eq!(seconds(f64::INFINITY).as_secs_f64(), fogg_core::units::MAX_DURATION_S);
        assert_eq!(seconds(1.5).as_millis(), 1500);
    }

    #[test]
    fn the_search_keeps_no_more_than_the_needle() {
        let mut s = StreamSearch::new("needle");
        for _ in 0..1000 {
            s.feed(&[b'x'; 4096]);
        }
        assert!(!s.found);
        assert!(s.tail.len() < "needle".len(), "{} bytes kept", s.tail.len());
    }
}
