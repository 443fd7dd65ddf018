//! `--dashboard ADDR`: a live page of the run in a browser. The page (no
//! external asset, the HTML report's look) follows server-sent events:
//! once a second, a frame with the run's per-second series, its totals and
//! its thresholds' state. When the run is over and its report written,
//! the page goes to `/report`, the HTML report as the file has it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::super::context::LoadContext;
use super::super::recorder::ErrorClass;
use super::super::series::Second;
use super::snapshot::OUTCOMES;
use super::state::Runs;

/// The page, with `/*STYLE*/` where the report's CSS goes.
const PAGE: &str = include_str!("../../../../assets/dashboard.html");

/// The report's CSS.
const STYLE: &str = include_str!("../../../../assets/report.css");

/// Longest wait, after the run, for open pages to receive the report.
const MOST_FINAL_WAIT: Duration = Duration::from_secs(5);

/// What the page says about the run besides its counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageInfo {
    /// The scenario's name.
    pub scenario: String,
    /// The target's base URL.
    pub target: String,
    /// How long arrivals go on, seconds.
    pub duration_s: f64,
    /// The thresholds, as written.
    pub thresholds: Vec<String>,
}

/// The latest message for the pages.
#[derive(Debug, Clone)]
enum Message {
    /// A frame of the run, JSON.
    Frame(Arc<String>),
    /// The run's last frame, JSON; then the report is at `/report`.
    Report(Arc<String>),
}

/// The dashboard of a run.
pub(super) struct DashboardServer {
    server: tokio::task::JoinHandle<()>,
    ticker: tokio::task::JoinHandle<()>,
    messages: Arc<watch::Sender<Message>>,
    pages: Arc<Pages>,
    report: Arc<std::sync::OnceLock<String>>,
    frames: Arc<std::sync::Mutex<Frames>>,
}

/// The pages following the run: open, and that fetched the report.
#[derive(Debug, Default)]
struct Pages {
    open: AtomicU64,
    fetched_report: AtomicU64,
}

/// One open page's stream; counts the page closed when dropped.
struct Follower {
    messages: watch::Receiver<Message>,
    pages: Arc<Pages>,
    /// The report event is the next.
    report_next: bool,
    done: bool,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.pages.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves the page on `addr` (bound now: a taken address is an error
/// before the run) and starts making a frame each second.
pub(super) async fn serve(
    addr: SocketAddr,
    runs: Arc<Runs>,
    info: PageInfo,
) -> anyhow::Result<DashboardServer> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("--dashboard {addr}: cannot listen there (give a free address, e.g. 127.0.0.1:8089)")
    })?;
    let frames = Arc::new(std::sync::Mutex::new(Frames::new(runs, info)));
    let first = frames.lock().expect("frames").next();
    let (sender, _) = watch::channel(Message::Frame(Arc::new(first)));
    let messages = Arc::new(sender);
    let pages = Arc::new(Pages::default());
    let page = PAGE.replace("/*STYLE*/", STYLE);
    let (to_pages, counted) = (Arc::clone(&messages), Arc::clone(&pages));
    let report: Arc<std::sync::OnceLock<String>> = Arc::default();
    let (final_report, fetched) = (Arc::clone(&report), Arc::clone(&pages));
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move || {
                let page = page.clone();
                async move { axum::response::Html(page) }
            }),
        )
        .route(
            "/events",
            axum::routing::get(move || {
                let (messages, pages) = (to_pages.subscribe(), Arc::clone(&counted));
                async move { events(messages, pages) }
            }),
        )
        .route(
            "/report",
            axum::routing::get(move || {
                let (report, fetched) = (Arc::clone(&final_report), Arc::clone(&fetched));
                async move {
                    match report.get() {
                        Some(html) => {
                            fetched.fetched_report.fetch_add(1, Ordering::Relaxed);
                            axum::response::Html(html.clone()).into_response()
                        }
                        None => {
                            (axum::http::StatusCode::NOT_FOUND, "the run is not over yet").into_response()
                        }
                    }
                }
            }),
        );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (each, framer) = (Arc::clone(&messages), Arc::clone(&frames));
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let frame = framer.lock().expect("frames").next();
            each.send_replace(Message::Frame(Arc::new(frame)));
        }
    });
    Ok(DashboardServer { server, ticker, messages, pages, report, frames })
}

/// The event stream of one page: the latest frame at once, then each new
/// one; the report ends it.
fn events(
    mut messages: watch::Receiver<Message>,
    pages: Arc<Pages>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    pages.open.fetch_add(1, Ordering::Relaxed);
    // The latest message goes out at once.
    messages.mark_changed();
    let follower = Follower { messages, pages, report_next: false, done: false };
    let stream = futures_util::stream::unfold(follower, |mut f| async move {
        if f.done {
            return None;
        }
        if f.report_next {
            f.done = true;
            return Some((Ok(Event::default().event("report").data("/report")), f));
        }
        f.messages.changed().await.ok()?;
        let message = f.messages.borrow_and_update().clone();
        let event = match message {
            Message::Frame(json) => Event::default().event("frame").data(json.as_str()),
            Message::Report(json) => {
                f.report_next = true;
                Event::default().event("frame").data(json.as_str())
            }
        };
        Some((Ok(event), f))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

impl DashboardServer {
    /// Once the run is over: the last frame (the whole run), then the
    /// report to every open page (waiting at most 5 s for them to fetch
    /// it); then stops serving.
    pub(super) async fn finish(self, report_html: Option<String>) {
        self.ticker.abort();
        let last = Arc::new(self.frames.lock().expect("frames").next());
        if let Some(html) = report_html {
            let _ = self.report.set(html);
            let waiting = self.pages.open.load(Ordering::Relaxed);
            self.messages.send_replace(Message::Report(last));
            let deadline = Instant::now() + MOST_FINAL_WAIT;
            while self.pages.fetched_report.load(Ordering::Relaxed) < waiting && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // Let the last bytes leave before the server stops.
            tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            self.messages.send_replace(Message::Frame(last));
        }
        self.server.abort();
    }
}

/// One point of a frame: a second of the run (or several, once the
/// series has outgrown its points).
#[derive(Debug, Clone, Serialize)]
struct Point {
    /// Seconds since the start, at the point's start.
    t: u64,
    arrivals: u64,
    requests: u64,
    /// Failed requests by class, in the order of the frame's `classes`.
    errors: [u64; 6],
    in_flight: u64,
    /// Latency percentiles of the successful requests, ms; null when
    /// none succeeded.
    p50: Option<f64>,
    p99: Option<f64>,
}

impl Point {
    fn of(t: u64, s: &Second) -> Point {
        let q = |q: f64| (!s.latency_ms.is_empty()).then(|| s.latency_ms.value_at_quantile(q) as f64);
        Point {
            t,
            arrivals: s.arrivals,
            requests: s.requests,
            errors: s.errors_by_class,
            in_flight: s.in_flight,
            p50: q(0.5),
            p99: q(0.99),
        }
    }
}

/// A frame: everything the page draws.
#[derive(Debug, Serialize)]
struct Frame<'a> {
    info: &'a PageInfo,
    /// `waiting` (no run yet), `running` or `finished`.
    status: &'static str,
    elapsed_s: f64,
    seconds_per_point: u64,
    classes: [&'static str; 6],
    points: &'a [Point],
    totals: Totals,
    thresholds: Vec<ThresholdState>,
}

/// The run's totals so far.
#[derive(Debug, Serialize)]
struct Totals {
    arrivals: u64,
    dropped: u64,
    requests: u64,
    errors: u64,
    in_flight: u64,
    conversions: u64,
    lost_latency: u64,
    lost_errors: u64,
    revenue_at_risk: f64,
    /// p99 of the last 10 s, ms.
    recent_p99: f64,
}

/// A threshold's state now: `pass`, `fail`, or `waiting` before the
/// first judgement.
#[derive(Debug, Serialize)]
struct ThresholdState {
    expr: String,
    state: &'static str,
    observed: Option<String>,
}

/// Makes frames, keeping the points of complete seconds so each is
/// computed once.
struct Frames {
    runs: Arc<Runs>,
    info: PageInfo,
    points: Vec<Point>,
    seconds_per_point: u64,
    /// The run in progress, or the last one once it is over.
    run: Option<Arc<LoadContext>>,
}

impl Frames {
    fn new(runs: Arc<Runs>, info: PageInfo) -> Frames {
        Frames { runs, info, points: Vec::new(), seconds_per_point: 1, run: None }
    }

    /// The frame now, JSON.
    fn next(&mut self) -> String {
        let snapshot = self.runs.snapshot();
        let running = match self.runs.current() {
            Some(ctx) => {
                self.run = Some(ctx);
                true
            }
            None => false,
        };
        let status = match (&self.run, running) {
            (Some(_), true) => "running",
            (Some(_), false) => "finished",
            (None, _) => "waiting",
        };
        let (judged, elapsed_s) = match &self.run {
            Some(ctx) => {
                let judged = ctx.judged.lock().expect("judged").clone();
                let agg = ctx.agg.lock().expect("no task panics while holding the recorder");
                let series = &agg.series;
                if series.seconds_per_point != self.seconds_per_point {
                    self.points.clear();
                    self.seconds_per_point = series.seconds_per_point;
                }
                // While the run lasts, its last point is still filling, and
                // a point takes the latency of a request in the second it
                // was meant to be sent, up to the timeout later: the points
                // of the last timeout (and 2 s) are drawn again each frame.
                let complete = series.points.len().saturating_sub(usize::from(running));
                let open = (ctx.spec.timeout.as_secs() / self.seconds_per_point) as usize + 2;
                let settled = if running { complete.saturating_sub(open) } else { 0 };
                self.points.truncate(settled.min(self.points.len()));
                for (i, p) in series.points.iter().enumerate().take(complete).skip(self.points.len()) {
                    self.points.push(Point::of(i as u64 * self.seconds_per_point, p));
                }
                let elapsed = Instant::now().saturating_duration_since(ctx.start).as_secs_f64();
                (judged, (elapsed * 10.0).round() / 10.0)
            }
            None => (Vec::new(), 0.0),
        };
        let thresholds = self
            .info
            .thresholds
            .iter()
            .map(|expr| match judged.iter().find(|j| j.expr == *expr) {
                Some(j) => ThresholdState {
                    expr: expr.clone(),
                    state: if j.passed { "pass" } else { "fail" },
                    observed: j.observed.clone(),
                },
                None => ThresholdState { expr: expr.clone(), state: "waiting", observed: None },
            })
            .collect();
        let errors: u64 =
            snapshot.requests.iter().map(|r| r.outcomes[1..OUTCOMES.len() - 1].iter().sum::<u64>()).sum();
        let frame = Frame {
            info: &self.info,
            status,
            elapsed_s,
            seconds_per_point: self.seconds_per_point,
            classes: ErrorClass::ALL.map(ErrorClass::short_name),
            points: &self.points,
            totals: Totals {
                arrivals: snapshot.arrivals,
                dropped: snapshot.dropped,
                requests: snapshot.requests.iter().map(|r| r.requests()).sum(),
                errors,
                in_flight: snapshot.in_flight,
                conversions: snapshot.conversions,
                lost_latency: snapshot.lost_latency,
                lost_errors: snapshot.lost_errors,
                revenue_at_risk: snapshot.revenue_at_risk,
                recent_p99: snapshot.recent_latency_s[2] * 1e3,
            },
            thresholds,
        };
        serde_json::to_string(&frame).expect("a frame serialises")
    }
}
