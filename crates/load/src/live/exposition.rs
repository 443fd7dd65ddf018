//! `--metrics ADDR`: the run as Prometheus metrics while it lasts
//! (OpenMetrics text through `prometheus-client` when the scraper asks
//! for it, as Prometheus does; the classic text format otherwise), read
//! from the same
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

use super::classic;
use super::families::{Kind, Value, families};
use super::snapshot::BUCKETS_S;
use super::state::Runs;

/// The media type of the OpenMetrics exposition.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether the scraper's `Accept` asks for OpenMetrics (Prometheus does);
/// anything else (curl, promtool's users, older scrapers) gets the classic
/// text format.
fn wants_openmetrics(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|kind| {
            let mut parts = kind.split(';').map(str::trim);
            let openmetrics =
                parts.next().is_some_and(|t| t.eq_ignore_ascii_case("application/openmetrics-text"));
            openmetrics && !parts.any(|p| p.replace(' ', "") == "q=0")
        })
}

/// Longest wait after the run for the scraper's last look.
const MOST_FINAL_WAIT: Duration = Duration::from_secs(30);

/// The metrics endpoint of a run (or of every trial of a capacity search).
pub(super) struct MetricsServer {
    task: tokio::task::JoinHandle<()>,
    scrapes: Arc<Scrapes>,
}

/// When the endpoint was scraped.
#[derive(Debug, Default)]
struct Scrapes {
    count: AtomicU64,
    /// ms since the server started of the last two scrapes.
    last_ms: AtomicU64,
    before_ms: AtomicU64,
}

/// Serves `/metrics` on `addr` (bound now: a taken address is an error
/// before the run).
pub(super) async fn serve(addr: SocketAddr, runs: Arc<Runs>) -> anyhow::Result<MetricsServer> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("--metrics {addr}: cannot listen there (give a free address, e.g. 127.0.0.1:9464)")
    })?;
    let labels = runs.labels.iter().map(|(k, v)| ((*k).into(), v.clone().into()));
    let mut registry = Registry::with_labels(labels);
    registry.register_collector(Box::new(RunCollector { runs: Arc::clone(&runs) }));
    let registry = Arc::new(registry);
    let scrapes = Arc::new(Scrapes::default());
    let seen = Arc::clone(&scrapes);
    let start = Instant::now();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let (registry, runs, seen) = (Arc::clone(&registry), Arc::clone(&runs), Arc::clone(&seen));
            async move {
                let (status, kind, text) = if wants_openmetrics(&headers) {
                    let mut text = String::new();
                    let status = match prometheus_client::encoding::text::encode(&mut text, &registry) {
                        Ok(()) => axum::http::StatusCode::OK,
                        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    };
                    (status, OPENMETRICS, text)
                } else {
                    let text = classic::encode(&families(&runs.snapshot()), &runs.labels);
                    (axum::http::StatusCode::OK, classic::CONTENT_TYPE, text)
                };
                let now = Instant::now().saturating_duration_since(start).as_millis() as u64;
                seen.before_ms.store(seen.last_ms.swap(now, Ordering::Relaxed), Ordering::Relaxed);
                seen.count.fetch_add(1, Ordering::Relaxed);
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

/// Encodes the runs' counts on each scrape.
#[derive(Debug)]
struct RunCollector {
    runs: Arc<Runs>,
}

impl Collector for RunCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        // Read at once, so the numbers agree.
        for f in families(&self.runs.snapshot()) {
            let kind = match f.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
                Kind::Histogram => MetricType::Histogram,
            };
            let mut m = encoder.encode_descriptor(f.name, f.help, None, kind)?;
            for sample in &f.samples {
                let labels: Vec<(&str, &str)> = sample.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let mut e = m.encode_family(&labels)?;
                match (f.kind, &sample.value) {
                    (Kind::Counter, Value::Count(n)) => e.encode_counter::<NoLabelSet, _, u64>(n, None)?,
                    (_, Value::Count(n)) => e.encode_gauge(&(*n as i64))?,
                    (_, Value::Real(v)) => e.encode_gauge(v)?,
                    (_, Value::Histogram { buckets, sum }) => {
                        let bounds: Vec<(f64, u64)> =
                            BUCKETS_S.iter().copied().chain([f64::MAX]).zip(*buckets).collect();
                        e.encode_histogram::<NoLabelSet>(*sum, buckets.iter().sum(), &bounds, None)?
                    }
                }
            }
        }
        Ok(())
    }
}
