//! `--metrics ADDR`: the run as Prometheus metrics while it lasts. A test
//! scrapes it as Prometheus would and compares the last scrape with the
//! JSON report (scripts/prometheus-scrape.sh does the same with a real
//! Prometheus in CI).

use std::process::Stdio;
use std::time::Duration;

/// The sum of every sample of `metric` (name with its suffix) in an
/// OpenMetrics text.
fn total(text: &str, metric: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// What Prometheus sends as `Accept` when it scrapes.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// The last scrapes of a run, in each format.
struct Scraped {
    /// How many times OpenMetrics was scraped.
    count: u32,
    /// The last OpenMetrics text (what Prometheus asks for).
    openmetrics: String,
    /// The last classic text (what a scraper asking for nothing gets),
    /// scraped during the run.
    classic: String,
}

/// Scrapes `addr` every 100 ms while it answers (at most 30 s), as
/// Prometheus does and now and then as a plain client does. fogg waits for one more
/// scrape after its runs, so the last ones hold the final counts.
fn scrape_until_gone(addr: &str) -> Scraped {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/metrics");
        let get = |accept: Option<&'static str>| {
            let request = client.get(&url);
            let request = match accept {
                Some(accept) => request.header("accept", accept),
                None => request,
            };
            async move {
                let r = request.send().await?;
                assert_eq!(r.status(), 200);
                let kind = r.headers()["content-type"].to_str().expect("text").to_owned();
                Ok::<_, reqwest::Error>((kind, r.text().await?))
            }
        };
        let mut scraped = Scraped { count: 0, openmetrics: String::new(), classic: String::new() };
        let mut served = false;
        for i in 0..300 {
            // Mostly as Prometheus, now and then as a plain client, 100 ms
            // apart: the final wait sees a steady interval.
            let classic = i % 10 == 5;
            match get((!classic).then_some(PROMETHEUS_ACCEPT)).await {
                Ok((kind, text)) if classic => {
                    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
                    scraped.classic = text;
                }
                Ok((kind, text)) => {
                    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
                    scraped.openmetrics = text;
                    scraped.count += 1;
                    served = true;
                }
                Err(_) if served => break,
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        scraped
    })
}

/// Starts `fogg ARGS… --out DIR`, its stdout kept, its stderr dropped.
fn start(args: &[&str], dir: &std::path::Path) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .args(args)
        .arg("--out")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts")
}

/// The report file with this extension in `dir`, read.
fn report_file(dir: &std::path::Path, extension: &str) -> String {
    let path = std::fs::read_dir(dir)
        .expect("reports")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == extension))
        .unwrap_or_else(|| panic!("a .{extension} report in {}", dir.display()));
    std::fs::read_to_string(path).expect("read")
}

/// A free loopback address.
fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    format!("127.0.0.1:{port}")
}

#[test]
fn the_last_scrape_agrees_with_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = crate::short_journeys(dir.path());
    let addr = free_addr();
    let scenario = scenario.to_str().expect("UTF-8 path");
    let load = ["load", scenario, "--duration", "3s", "--grace", "2s", "--rate", "20"];
    let child =
        start(&[&load[..], &["--metrics", &addr, "--format", "json"]].concat(), &dir.path().join("out"));
    let Scraped { count: scrapes, openmetrics: last, classic } = scrape_until_gone(&addr);
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(scrapes > 5, "{scrapes} scrapes");
    let requests = report["requests"].as_f64().expect("requests");
    let errors: f64 =
        report["errors"].as_object().expect("errors").values().map(|v| v.as_f64().expect("n")).sum();
    let ok = requests - errors - report["requests_unfinished"].as_f64().expect("unfinished");
    assert!(requests > 20.0, "{requests}");
    assert_eq!(total(&last, "fogg_requests_total"), requests, "{last}");
    assert_eq!(total(&last, "fogg_request_duration_seconds_count"), ok);
    assert_eq!(total(&last, "fogg_arrivals_total"), report["arrivals"].as_f64().expect("arrivals"));
    // A scraper that does not ask for OpenMetrics got the classic text
    // during the run: each counter's HELP and TYPE under its sample name,
    // as promtool wants, and counts no greater than the final ones.
    let classic_requests = total(&classic, "fogg_requests_total");
    assert!(classic_requests > 0.0 && classic_requests <= requests, "{classic}");
    assert!(classic.contains("# TYPE fogg_requests_total counter\n"), "{classic}");
    assert!(!classic.contains("# EOF"));
    let conversions = report["conversions"].as_f64().expect("conversions");
    assert!(last.contains(&format!("outcome=\"achieved\"}} {conversions}")), "{last}");
    assert!(last.contains("# TYPE fogg_request_duration_seconds histogram"));
    assert!(
        last.contains(r#"fogg_requests_total{scenario="two pages",shard="1/1",request="home",outcome="ok"}"#),
        "{last}"
    );
    assert!(last.ends_with("# EOF\n"), "OpenMetrics text ends with # EOF");
    assert!(
        last.contains(r#"fogg_recent_request_latency_seconds{scenario="two pages",shard="1/1",request="home",percentile="99"}"#),
        "{last}"
    );
    // docs/metrics.md lists exactly the series served, with their types
    // (counters are documented by their sample name, `_total`).
    let served: Vec<(String, String)> = last
        .lines()
        .filter_map(|l| {
            let mut words = l.strip_prefix("# TYPE ")?.split(' ');
            let (name, kind) = (words.next()?, words.next()?);
            let name = if kind == "counter" { format!("{name}_total") } else { name.to_owned() };
            Some((name, kind.to_owned()))
        })
        .collect();
    let mut documented = crate::deploy::documented_series();
    documented.sort();
    let mut served_sorted = served.clone();
    served_sorted.sort();
    assert_eq!(served_sorted, documented, "docs/metrics.md against a scrape");
}

/// `fogg capacity --metrics`: the counters run on across the trials, so
/// the last scrape holds the requests of every trial.
#[test]
fn capacity_metrics_count_every_trial() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let scenario = crate::short_journeys(dir.path());
    let search =
        ["capacity", scenario.to_str().expect("UTF-8 path"), "--start-rate", "10", "--max-rate", "20"];
    let args =
        [&search[..], &["--trial", "2s", "--threshold", "p99 < 5s", "--metrics", &addr, "--quiet"]].concat();
    let child = start(&args, &dir.path().join("out"));
    let Scraped { count: scrapes, openmetrics: last, .. } = scrape_until_gone(&addr);
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success());
    let report: serde_json::Value =
        serde_json::from_str(&report_file(&dir.path().join("out"), "json")).expect("JSON");
    let trials = report["search"]["trials"].as_array().or(report["trials"].as_array()).expect("trials");
    assert!(trials.len() >= 2, "{report}");
    let requests: f64 = trials.iter().map(|t| t["requests"].as_f64().expect("requests")).sum();
    assert!(scrapes > 3, "{scrapes} scrapes");
    assert_eq!(total(&last, "fogg_requests_total"), requests, "{last}");
}

/// An address fogg cannot listen on is an error before the run.
#[test]
fn a_taken_metrics_address_is_refused_before_the_run() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let run = crate::fogg()
        .arg("load")
        .arg(crate::short_journeys(dir.path()))
        .args(["--duration", "1s", "--metrics", &addr, "--out"])
        .arg(dir.path().join("out"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("--metrics {addr}: cannot listen there")), "{stderr}");
}

/// `--prometheus-remote-write URL`: a receiver on loopback gets snappy
/// protobuf pushes with the protocol's headers, and the last push holds
/// the report's totals; a receiver that fails is a warning that keeps the
/// report and the exit code.
#[test]
fn remote_write_pushes_the_report_totals_and_survives_a_failing_receiver() {
    use fogg_load::live::remote_write::WriteRequest;
    use std::sync::{Arc, Mutex};

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    type Pushes = Vec<(axum::http::HeaderMap, Vec<u8>)>;
    let pushes: Arc<Mutex<Pushes>> = Arc::default();
    let kept = Arc::clone(&pushes);
    let receiver = axum::Router::new()
        .route(
            "/api/v1/write",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let kept = Arc::clone(&kept);
                async move {
                    kept.lock().expect("pushes").push((headers, body.to_vec()));
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        )
        .route(
            "/broken",
            axum::routing::post(|| async { (axum::http::StatusCode::BAD_REQUEST, "out of order") }),
        );
    let base = runtime.block_on(crate::load::serve(receiver));
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = crate::short_journeys(dir.path());
    let run = |url: String| {
        crate::fogg()
            .arg("load")
            .arg(&scenario)
            .args(["--duration", "2s", "--grace", "2s", "--rate", "20", "--format", "json"])
            .args(["--prometheus-remote-write", &url, "--out"])
            .arg(dir.path().join("out"))
            .output()
            .expect("runs")
    };
    let output = run(format!("{base}/api/v1/write"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let pushes = pushes.lock().expect("pushes");
    let (headers, body) = pushes.last().expect("at least the final push");
    assert_eq!(headers["content-encoding"], "snappy");
    assert_eq!(headers["content-type"], "application/x-protobuf");
    assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
    let raw = snap::raw::Decoder::new().decompress_vec(body).expect("snappy");
    let write = <WriteRequest as prost::Message>::decode(raw.as_slice()).expect("protobuf");
    let named = |name: &str| {
        write
            .timeseries
            .iter()
            .filter(|t| t.labels.iter().any(|l| l.name == "__name__" && l.value == name))
            .map(|t| t.samples[0].value)
            .sum::<f64>()
    };
    let requests = report["requests"].as_f64().expect("requests");
    assert!(requests > 10.0, "{requests}");
    assert_eq!(named("fogg_requests_total"), requests);
    assert_eq!(named("fogg_arrivals_total"), report["arrivals"].as_f64().expect("arrivals"));
    assert!(
        write.timeseries.iter().all(|t| t.labels.iter().any(|l| l.name == "shard" && l.value == "1/1")),
        "every series names its shard"
    );
    drop(pushes);

    let output = run(format!("{base}/broken"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("pushes failed, the first with 400 Bad Request: out of order"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the report still");
    assert!(report["requests"].as_u64().expect("requests") > 10);
}

/// `--dashboard ADDR`: the event stream gives a frame a second with the
/// run's series and thresholds, then says the report is ready; `/report`
/// is then the HTML report the run wrote, byte for byte. (In a browser:
/// scripts/check-dashboard.sh.)
#[test]
fn the_dashboard_follows_the_run_and_turns_into_its_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let out = dir.path().join("out");
    let scenario = crate::short_journeys(dir.path());
    let load = ["load", scenario.to_str().expect("UTF-8 path"), "--duration", "3s", "--grace", "2s"];
    let args =
        [&load[..], &["--rate", "20", "--threshold", "p99 < 5s", "--dashboard", &addr, "--quiet"]].concat();
    let child = start(&args, &out);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (frames, report) = runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let mut stream = loop {
            if let Ok(r) = client.get(format!("http://{addr}/events")).send().await {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let page =
            client.get(format!("http://{addr}/")).send().await.expect("page").text().await.expect("text");
        assert!(page.contains("new EventSource(\"/events\")") && !page.contains("/*STYLE*/"), "{page}");
        let mut text = String::new();
        while let Some(chunk) = stream.chunk().await.expect("events") {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("event: report") {
                break;
            }
        }
        let frames: Vec<serde_json::Value> = text
            .split("\n\n")
            .filter(|e| e.starts_with("event: frame"))
            .map(|e| serde_json::from_str(e.split_once("data: ").expect("data").1).expect("JSON frame"))
            .collect();
        let report = client.get(format!("http://{addr}/report")).send().await.expect("report");
        assert_eq!(report.status(), 200);
        (frames, report.text().await.expect("HTML"))
    });
    assert!(child.wait_with_output().expect("finishes").status.success());
    assert!(frames.len() >= 3, "{} frames", frames.len());
    let last = frames.last().expect("a frame");
    assert!(last["points"].as_array().expect("points").len() >= 2, "{last}");
    assert!(last["totals"]["requests"].as_u64().expect("requests") > 10, "{last}");
    assert_eq!(last["thresholds"][0]["expr"], "p99 < 5s");
    assert_eq!(last["thresholds"][0]["state"], "pass", "{last}");
    assert_eq!(report, report_file(&out, "html"));
}

/// A remote-write receiver that never answers: once the report is
/// written, Ctrl-C ends the wait for it. The final push was tried up to
/// three times, ten seconds each, signals or not; now no try starts after
/// the signal (the receiver counts the pushes that reach it after the
/// test signalled: at most the one already under way).
#[cfg(target_os = "linux")]
#[test]
fn a_signal_ends_the_wait_for_a_hanging_receiver() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let signalled = Arc::new(AtomicBool::new(false));
    let after_signal = Arc::new(AtomicU64::new(0));
    let (flag, count) = (Arc::clone(&signalled), Arc::clone(&after_signal));
    let receiver = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move || {
            if flag.load(Ordering::SeqCst) {
                count.fetch_add(1, Ordering::SeqCst);
            }
            std::future::pending::<&'static str>()
        }),
    );
    let base = runtime.block_on(crate::load::serve(receiver));
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = crate::short_journeys(dir.path());
    let out = dir.path().join("out");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .arg("load")
        .arg(&scenario)
        .args(["--duration", "1s", "--grace", "1s", "--rate", "10", "--quiet"])
        .args(["--prometheus-remote-write", &format!("{base}/api/v1/write"), "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Readiness: the report is written, the final push is next.
    let report = out.join("load-two-pages.json");
    while !report.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    signalled.store(true, Ordering::SeqCst);
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    assert!(killed.expect("kill").success());
    let output = crate::exits_after_a_signal(child);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the run completed before the signal: {stderr}");
    let late = after_signal.load(Ordering::SeqCst);
    assert!(late <= 1, "{late} pushes started after the signal: {stderr}");
}
