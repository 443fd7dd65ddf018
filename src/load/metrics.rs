//! `--metrics ADDR`: the run as Prometheus metrics while it lasts
//! (OpenMetrics text, through `prometheus-client`), read from the same
//! counts the report is made of, so a scrape after the end agrees with
//! the JSON exactly. Names and labels are in docs/metrics.md.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::time::Instant;

use super::context::LoadContext;
use super::recorder::{ErrorClass, Traffic};

/// Upper bounds of the latency histogram's buckets, seconds.
pub const BUCKETS_S: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// Seconds the recent-latency gauges cover.
pub const RECENT_S: u64 = 10;

/// Longest wait after the run for the scraper's last look.
const MOST_FINAL_WAIT: Duration = Duration::from_secs(30);

/// The metrics endpoint of a run.
pub struct MetricsServer {
    task: tokio::task::JoinHandle<()>,
    scrapes: Arc<Scrapes>,
}

/// When the endpoint was scraped.
#[derive(Debug, Default)]
struct Scrapes {
    count: AtomicU64,
    /// ms since the run's start of the last two scrapes.
    last_ms: AtomicU64,
    before_ms: AtomicU64,
}

/// Serves `/metrics` on `addr` (bound now: a taken address is an error
/// before the run).
pub(super) async fn serve(addr: SocketAddr, ctx: Arc<LoadContext>) -> anyhow::Result<MetricsServer> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("--metrics {addr}: cannot listen there (give a free address, e.g. 127.0.0.1:9464)")
    })?;
    let shard = ctx.shard.to_string();
    let scenario = ctx.model.name.clone();
    let mut registry = Registry::with_labels(
        [("scenario".into(), scenario.into()), ("shard".into(), shard.into())].into_iter(),
    );
    registry.register_collector(Box::new(RunCollector { ctx: Arc::clone(&ctx) }));
    let registry = Arc::new(registry);
    let scrapes = Arc::new(Scrapes::default());
    let seen = Arc::clone(&scrapes);
    let start = ctx.start;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (registry, seen) = (Arc::clone(&registry), Arc::clone(&seen));
            async move {
                let mut text = String::new();
                let status = match prometheus_client::encoding::text::encode(&mut text, &registry) {
                    Ok(()) => axum::http::StatusCode::OK,
                    Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                };
                let now = Instant::now().saturating_duration_since(start).as_millis() as u64;
                seen.before_ms.store(seen.last_ms.swap(now, Ordering::Relaxed), Ordering::Relaxed);
                seen.count.fetch_add(1, Ordering::Relaxed);
                let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                (status, [(axum::http::header::CONTENT_TYPE, kind)], text)
            }
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(MetricsServer { task, scrapes })
}

impl MetricsServer {
    /// Once the run is over: when something scraped during the run, waits
    /// for its next scrape (at most 1.5 of its interval, and 30 s), so the
    /// final counts reach it; then stops serving.
    pub(super) async fn finish(self) {
        let count = self.scrapes.count.load(Ordering::Relaxed);
        if count >= 2 {
            let interval = self
                .scrapes
                .last_ms
                .load(Ordering::Relaxed)
                .saturating_sub(self.scrapes.before_ms.load(Ordering::Relaxed));
            let wait = Duration::from_millis(interval * 3 / 2).min(MOST_FINAL_WAIT);
            let deadline = Instant::now() + wait;
            while self.scrapes.count.load(Ordering::Relaxed) == count && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        self.task.abort();
    }
}

/// Encodes the run's counts on each scrape.
#[derive(Debug)]
struct RunCollector {
    ctx: Arc<LoadContext>,
}

/// The outcome label of a request: `ok`, an error class, or `unfinished`.
fn outcomes(t: &Traffic) -> Vec<(&'static str, u64)> {
    let ok = t.requests - t.error_count() - t.unfinished;
    let mut v = vec![("ok", ok)];
    v.extend(ErrorClass::ALL.iter().map(|c| (c.short_name(), t.errors[c.index()])));
    v.push(("unfinished", t.unfinished));
    v
}

impl Collector for RunCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let ctx = &self.ctx;
        let in_flight = ctx.in_flight.load(Ordering::Relaxed) as u64;
        // Everything under the lock is read at once, so the numbers agree.
        let agg = ctx.agg.lock().expect("no task panics while holding the recorder");
        let counter = |e: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: u64| {
            e.encode_descriptor(name, help, None, MetricType::Counter)?
                .encode_counter::<NoLabelSet, _, u64>(&v, None)
        };
        counter(&mut encoder, "fogg_arrivals", "Customers who arrived.", agg.arrivals)?;
        counter(
            &mut encoder,
            "fogg_arrivals_dropped",
            "Arrivals not started: max_in_flight customers were busy.",
            agg.dropped,
        )?;
        {
            let mut m = encoder.encode_descriptor(
                "fogg_requests",
                "Requests sent, by request name and outcome (ok, an error class, or unfinished: cut short by the end).",
                None,
                MetricType::Counter,
            )?;
            for (name, t) in ctx.request_names.iter().zip(&agg.by_request) {
                for (outcome, n) in outcomes(t) {
                    let labels = vec![("request", name.as_str()), ("outcome", outcome)];
                    m.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&n, None)?;
                }
            }
        }
        {
            let j = &agg.journeys;
            let mut m = encoder.encode_descriptor(
                "fogg_conversions",
                "Conversions of finished journeys: achieved, or lost because the customer left on a slow response or an error.",
                None,
                MetricType::Counter,
            )?;
            for (outcome, n) in [
                ("achieved", j.conversions),
                ("lost_latency", j.lost_latency),
                ("lost_errors", j.lost_errors),
            ] {
                m.encode_family(&[("outcome", outcome)])?.encode_counter::<NoLabelSet, _, u64>(&n, None)?;
            }
            let at_risk = j.revenue_at_risk_cents as f64 / 100.0;
            encoder
                .encode_descriptor(
                    "fogg_revenue_at_risk",
                    "Value of the conversions lost, in the scenario's currency.",
                    None,
                    MetricType::Counter,
                )?
                .encode_counter::<NoLabelSet, _, u64>(&(at_risk.round() as u64), None)?;
        }
        encoder
            .encode_descriptor(
                "fogg_customers_in_flight",
                "Customers on their journey now.",
                None,
                MetricType::Gauge,
            )?
            .encode_gauge(&(in_flight as i64))?;
        let step = agg.series.seconds_per_point.max(1);
        let rate = agg.series.points.iter().rev().nth(1).map_or(0.0, |p| p.arrivals as f64 / step as f64);
        encoder
            .encode_descriptor(
                "fogg_arrival_rate",
                "Customers who arrived per second, over the last complete point of the run's series.",
                None,
                MetricType::Gauge,
            )?
            .encode_gauge(&rate)?;
        {
            let mut m = encoder.encode_descriptor(
                "fogg_request_duration_seconds",
                "Latency of the successful requests from their intended send time, by request name.",
                None,
                MetricType::Histogram,
            )?;
            for (name, t) in ctx.request_names.iter().zip(&agg.by_request) {
                let h = &t.latency_us;
                let mut below = 0u64;
                let mut buckets: Vec<(f64, u64)> = Vec::with_capacity(BUCKETS_S.len() + 1);
                for b in BUCKETS_S {
                    let upto = h.count_between(0, (b * 1e6) as u64);
                    buckets.push((b, upto - below));
                    below = upto;
                }
                buckets.push((f64::MAX, h.len() - below));
                let sum = h.mean() * h.len() as f64 / 1e6;
                m.encode_family(&[("request", name.as_str())])?.encode_histogram::<NoLabelSet>(
                    sum,
                    h.len(),
                    &buckets,
                    None,
                )?;
            }
        }
        {
            // A series point's histogram (ms, its bounds), empty.
            let mut recent = super::series::Second::default().latency_ms;
            let points = RECENT_S.div_ceil(step) as usize;
            for p in agg.series.points.iter().rev().take(points) {
                recent.add(&p.latency_ms).ok();
            }
            let mut m = encoder.encode_descriptor(
                "fogg_recent_latency_seconds",
                "Percentiles (HDR) of the successful requests' latency over the last 10 s of the run.",
                None,
                MetricType::Gauge,
            )?;
            for q in ["0.5", "0.9", "0.99"] {
                let quantile: f64 = q.parse().expect("a number");
                let v = if recent.is_empty() { 0.0 } else { recent.value_at_quantile(quantile) as f64 / 1e3 };
                m.encode_family(&[("quantile", q)])?.encode_gauge(&v)?;
            }
        }
        Ok(())
    }
}
