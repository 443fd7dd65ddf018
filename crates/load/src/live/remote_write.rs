//! `--prometheus-remote-write URL`: the same series as `--metrics`,
//! pushed to a Prometheus remote-write receiver (protocol 1.0: a
//! snappy-compressed protobuf `WriteRequest`) every few seconds and once
//! more at the end, for runs that nothing can scrape (shards on a
//! cluster). Each push carries every series at its value now, so a push
//! that fails loses a point, never a count.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use super::families::{Kind, Value, families};
use super::snapshot::{BUCKETS_S, Snapshot};
use super::state::Runs;

/// How often the series are pushed during a run.
pub const PUSH_EVERY: Duration = Duration::from_secs(5);

/// How long one push may take.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Tries of the final push, which has no later push to make up for it.
const FINAL_TRIES: u32 = 3;

/// `prometheus.WriteRequest` of the remote-write 1.0 protocol (metadata
/// left out: it is optional).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// Every series, with its samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name, `__name__` among them.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// The series' labels.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Its samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// The label's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// ms since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// The snapshot as remote-write series at `timestamp_ms`, labelled with
/// `labels` (scenario, shard) and `job="fogg"`: the series a scrape of
/// `--metrics` gives (the same [`families`]), a counter's samples as
/// `NAME_total`, a histogram as its `_bucket` (cumulative, with `le`),
/// `_sum` and `_count`.
pub fn write_request(s: &Snapshot, labels: &[(&str, String)], timestamp_ms: i64) -> WriteRequest {
    let mut out = Vec::new();
    let mut push = |name: &str, sample: &[(&'static str, String)], le: Option<&str>, value: f64| {
        let mut l: Vec<Label> = [("__name__", name), ("job", "fogg")]
            .into_iter()
            .chain(labels.iter().chain(sample).map(|(k, v)| (*k, v.as_str())))
            .chain(le.map(|le| ("le", le)))
            .map(|(name, value)| Label { name: name.to_owned(), value: value.to_owned() })
            .collect();
        l.sort_by(|a, b| a.name.cmp(&b.name));
        out.push(TimeSeries { labels: l, samples: vec![Sample { value, timestamp: timestamp_ms }] });
    };
    for f in families(s) {
        for sample in &f.samples {
            let l = &sample.labels;
            match (&sample.value, f.kind) {
                (Value::Count(n), Kind::Counter) => push(&format!("{}_total", f.name), l, None, *n as f64),
                (Value::Count(n), _) => push(f.name, l, None, *n as f64),
                (Value::Real(v), _) => push(f.name, l, None, *v),
                (Value::Histogram { buckets, sum }, _) => {
                    let bounds = BUCKETS_S.iter().map(|b| format!("{b:?}")).chain(["+Inf".to_owned()]);
                    let mut cumulative = 0;
                    for (le, n) in bounds.zip(buckets) {
                        cumulative += n;
                        push(&format!("{}_bucket", f.name), l, Some(&le), cumulative as f64);
                    }
                    push(&format!("{}_sum", f.name), l, None, *sum);
                    push(&format!("{}_count", f.name), l, None, cumulative as f64);
                }
            }
        }
    }
    WriteRequest { timeseries: out }
}

/// The request body: the protobuf, snappy block-compressed.
pub fn encode(request: &WriteRequest) -> Vec<u8> {
    let bytes = prost::Message::encode_to_vec(request);
    snap::raw::Encoder::new().compress_vec(&bytes).expect("snappy compresses any input")
}

/// Pushes during a run, and once at its end.
pub(super) struct Pusher {
    task: tokio::task::JoinHandle<()>,
    push: Arc<Push>,
}

/// What a push needs, and how the pushes went.
struct Push {
    client: reqwest::Client,
    url: reqwest::Url,
    runs: Arc<Runs>,
    sent: AtomicU64,
    failed: AtomicU64,
    first_error: std::sync::OnceLock<String>,
}

/// Checks `url` (an http or https URL) and starts pushing to it.
pub(super) fn start(url: &str, runs: Arc<Runs>) -> anyhow::Result<Pusher> {
    let url = reqwest::Url::parse(url).with_context(|| {
        format!(
            "--prometheus-remote-write {url}: not a URL (give the receiver's, e.g. http://127.0.0.1:9090/api/v1/write)"
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("--prometheus-remote-write {url}: only http and https URLs are pushed to");
    }
    super::super::http::use_ring_for_tls();
    let client = reqwest::Client::builder()
        .timeout(PUSH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("fogg/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the remote-write client")?;
    let push = Arc::new(Push {
        client,
        url,
        runs,
        sent: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        first_error: std::sync::OnceLock::new(),
    });
    let each = Arc::clone(&push);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + PUSH_EVERY, PUSH_EVERY);
        loop {
            tick.tick().await;
            let _ = each.once().await;
        }
    });
    Ok(Pusher { task, push })
}

impl Push {
    /// One push of every series now; whether the receiver took it.
    async fn once(&self) -> Result<(), Retry> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let body = encode(&write_request(&self.runs.snapshot(), &self.runs.labels, now));
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
            .header(reqwest::header::CONTENT_ENCODING, "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body)
            .send()
            .await;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let problem = match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                let problem = format!("{status}: {}", text.trim());
                // A 4xx says the push itself is wrong: trying it again
                // would not help.
                let retry = if status.is_client_error() { Retry::No } else { Retry::Yes };
                self.failure(problem);
                return Err(retry);
            }
            Err(e) => format!("{e}"),
        };
        self.failure(problem);
        Err(Retry::Yes)
    }

    fn failure(&self, problem: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let _ = self.first_error.set(problem);
    }
}

/// Whether a failed push is worth trying again.
enum Retry {
    Yes,
    No,
}

impl Pusher {
    /// Once the runs are over: the final push (tried again on a server
    /// error or a lost connection), then a line on stderr if any push
    /// failed.
    pub(super) async fn finish(self) {
        self.task.abort();
        for attempt in 1..=FINAL_TRIES {
            match self.push.once().await {
                Ok(()) | Err(Retry::No) => break,
                Err(Retry::Yes) if attempt < FINAL_TRIES => {
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await
                }
                Err(Retry::Yes) => {}
            }
        }
        let failed = self.push.failed.load(Ordering::Relaxed);
        if failed > 0 {
            fogg_core::say!(
                "warning: --prometheus-remote-write {}: {failed} of {} pushes failed, the first with {} (the reports are complete; only the pushed series miss points)",
                self.push.url,
                self.push.sent.load(Ordering::Relaxed),
                self.push.first_error.get().map_or("an unknown error", String::as_str)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::snapshot::RequestCounts;

    #[test]
    fn series_are_labelled_sorted_and_round_trip() {
        let mut s = Snapshot { arrivals: 5, ..Snapshot::default() };
        s.requests.push(RequestCounts {
            name: "home".into(),
            outcomes: [3, 1, 0, 0, 0, 0, 0, 0],
            buckets: [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            latency_sum_s: 0.02,
            recent_latency_s: Some([0.004, 0.006, 0.006]),
        });
        let labels = [("scenario", "shop".to_owned()), ("shard", "1/1".to_owned())];
        let w = write_request(&s, &labels, 1_700_000_000_000);
        for t in &w.timeseries {
            let names: Vec<&str> = t.labels.iter().map(|l| l.name.as_str()).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(names, sorted);
            assert!(names.contains(&"scenario") && names.contains(&"shard") && names.contains(&"job"));
        }
        let value = |name: &str, extra: &[(&str, &str)]| {
            w.timeseries
                .iter()
                .find(|t| {
                    t.labels.iter().any(|l| l.name == "__name__" && l.value == name)
                        && extra.iter().all(|(k, v)| t.labels.iter().any(|l| l.name == *k && l.value == *v))
                })
                .map(|t| t.samples[0].value)
        };
        assert_eq!(value("fogg_arrivals_total", &[]), Some(5.0));
        assert_eq!(value("fogg_requests_total", &[("outcome", "connect")]), Some(1.0));
        assert_eq!(value("fogg_request_duration_seconds_bucket", &[("le", "0.01")]), Some(3.0));
        assert_eq!(value("fogg_request_duration_seconds_bucket", &[("le", "+Inf")]), Some(3.0));
        assert_eq!(value("fogg_request_duration_seconds_count", &[]), Some(3.0));
        let recent = [("request", "home"), ("percentile", "99")];
        assert_eq!(value("fogg_recent_request_latency_seconds", &recent), Some(0.006));
        let body = encode(&w);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(<WriteRequest as prost::Message>::decode(raw.as_slice()).unwrap(), w);
    }
}
