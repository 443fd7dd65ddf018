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

#[test]
fn the_last_scrape_agrees_with_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = crate::short_journeys(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .arg("load")
        .arg(&scenario)
        .args([
            "--duration",
            "3s",
            "--grace",
            "2s",
            "--rate",
            "20",
            "--metrics",
            &addr,
            "--format",
            "json",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Scrape every 200 ms while the endpoint answers: fogg waits for one
    // more scrape after the run, so the last one holds the final counts.
    let (scrapes, last) = runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/metrics");
        let (mut scrapes, mut last, mut served) = (0, String::new(), false);
        for _ in 0..150 {
            match client.get(&url).send().await {
                Ok(r) => {
                    assert_eq!(r.status(), 200);
                    let kind = r.headers()["content-type"].to_str().expect("text").to_owned();
                    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
                    last = r.text().await.expect("body");
                    scrapes += 1;
                    served = true;
                }
                Err(_) if served => break,
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        (scrapes, last)
    });
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
    let conversions = report["conversions"].as_f64().expect("conversions");
    assert!(last.contains(&format!("outcome=\"achieved\"}} {conversions}")), "{last}");
    assert!(last.contains("# TYPE fogg_request_duration_seconds histogram"));
    assert!(
        last.contains(r#"fogg_requests_total{scenario="two pages",shard="1/1",request="home",outcome="ok"}"#),
        "{last}"
    );
    assert!(last.ends_with("# EOF\n"), "OpenMetrics text ends with # EOF");
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
