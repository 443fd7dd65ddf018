//! `fogg capacity` against a server whose capacity is a count it keeps,
//! not a speed: a token bucket admits so many requests per second of its
//! own clock and answers 503 beyond. The search is judged on the error
//! rate the server decided, so a busy machine cannot move the answer.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use crate::{fogg, short_journeys};

/// Admits `rate` requests a second with a burst of `burst`; 503 beyond.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn admit(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + self.rate * now.duration_since(self.last).as_secs_f64()).min(self.burst);
        self.last = now;
        let admitted = self.tokens >= 1.0;
        if admitted {
            self.tokens -= 1.0;
        }
        admitted
    }
}

/// Serves every path through a bucket, on a runtime of its own.
fn rate_limited_server(rate: f64, burst: f64) -> (String, tokio::runtime::Runtime) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let bucket = Arc::new(Mutex::new(Bucket { rate, burst, tokens: burst, last: Instant::now() }));
    let url = runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new()
            .fallback(|State(bucket): State<Arc<Mutex<Bucket>>>| async move {
                if bucket.lock().expect("bucket").admit() {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            })
            .with_state(bucket);
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        format!("http://{addr}")
    });
    (url, runtime)
}

#[test]
fn finds_a_servers_admitted_rate_within_15_percent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = short_journeys(dir.path());
    let admitted_rps = 400.0;
    let (target, _server) = rate_limited_server(admitted_rps, 40.0);
    let run = fogg()
        .arg("capacity")
        .arg(&scenario)
        .args(["--target", &target, "--threshold", "error_rate < 1%"])
        .args(["--start-rate", "25", "--max-rate", "1000", "--trial", "2s"])
        // Far above what the server admits: the verdict must be a failure.
        .args(["--expected-peak", "5000", "--format", "json", "--out"])
        .arg(dir.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .assert()
        .code(1);
    let r: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    let schema = crate::schema::schema_validator("capacity");
    assert_eq!(crate::schema::errors(&schema, &r), Vec::<String>::new());
    let rps = r["capacity_requests_per_s"].as_f64().expect("a capacity was found");
    assert!(
        (rps / admitted_rps - 1.0).abs() <= 0.15,
        "found {rps:.0} requests/s, the server admits {admitted_rps}: {:#}",
        r["trials"]
    );
    let capacity = r["capacity"].as_f64().expect("capacity");
    let failing = r["lowest_failing_rate"].as_f64().expect("a rate failed");
    assert!(
        capacity < failing && failing <= capacity * 1.05 + 1e-9,
        "bisected to 5%: {capacity} .. {failing}"
    );
    assert_eq!(r["verdict"], "fail");
    assert!(r["headroom"].as_f64().expect("headroom") < 0.0);
    // Every trial is reported, and the failing ones say which threshold.
    let trials = r["trials"].as_array().expect("trials");
    assert!(trials.iter().any(|t| t["passed"] == false && t["failed"][0].as_str().is_some()));
    assert!(dir.path().join("capacity-two-pages.md").exists());
}

#[test]
fn capacity_needs_a_threshold() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg().args(["capacity", "ecommerce-funnel", "--out"]).arg(out.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("at least one threshold") && stderr.contains("--threshold"), "{stderr}");
}

/// SIGTERM after a trial has finished (while the search pauses before the
/// next) stops the search and still writes the report; before, the
/// signal was swallowed between trials and the search went on.
#[cfg(unix)]
#[test]
fn sigterm_between_trials_stops_the_search_and_writes_the_report() {
    use std::io::BufRead;

    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = short_journeys(dir.path());
    let shop = crate::LiveShop::start(fogg_load::demo::DemoConfig::default());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .arg("capacity")
        .arg(&scenario)
        .args(["--target", &shop.url, "--threshold", "error_rate < 50%"])
        .args(["--start-rate", "5", "--max-rate", "1000", "--trial", "1s", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Readiness: the first trial's line is printed just before the pause.
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.find_map(|l| l.ok().filter(|l| l.starts_with("trial  1:")));
    assert!(first.is_some(), "the first trial finished");
    let killed =
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    lines.for_each(drop);
    let status = child.wait().expect("waits");
    assert!(matches!(status.code(), Some(0 | 1)), "a verdict, not a kill: {status:?}");
    let saved = std::fs::read_to_string(dir.path().join("capacity-two-pages.json")).expect("report written");
    let r: Value = serde_json::from_str(&saved).expect("JSON");
    assert!(r["notes"].to_string().contains("stopped by a signal"), "{}", r["notes"]);
    assert!(r["trials"].as_array().expect("trials").len() <= 2, "{:#}", r["trials"]);
}

/// Latency is of successful requests only, so a latency threshold alone
/// would let a target that fails every request pass: capacity adds an
/// error threshold when none is given, and says so.
#[test]
fn a_target_that_fails_every_request_has_no_capacity() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = short_journeys(dir.path());
    let (target, _server) = rate_limited_server(0.0, 0.0);
    let run = fogg()
        .arg("capacity")
        .arg(&scenario)
        .args(["--target", &target, "--threshold", "p99 < 500ms"])
        .args(["--start-rate", "5", "--max-rate", "20", "--trial", "1s", "--format", "json", "--out"])
        .arg(dir.path())
        .assert()
        .code(1);
    let r: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["capacity"], Value::Null);
    assert_eq!(r["thresholds"], serde_json::json!(["p99 < 500ms", "error_rate < 1%"]));
    assert!(r["notes"].to_string().contains("error_rate < 1%"), "{}", r["notes"]);
    let first = &r["trials"][0];
    assert_eq!(first["passed"], false, "{first:#}");
}

/// A target that is down: the search stops after one trial, the report
/// (written all the same) says the target looks down, and the exit code
/// is 2, not a capacity verdict.
#[test]
fn a_dead_target_stops_the_search_and_says_so() {
    let args =
        ["capacity", "campaign-launch", "--trial", "2s", "--start-rate", "20", "--threshold", "p99 < 500ms"];
    let run = crate::against_dead_target(&args, "capacity-campaign-launch.json");
    let stdout = &run.stdout;
    assert!(stdout.contains("1 trial of 2.0 s at 20.0/s · search bounds 20.0/s to 1,000/s"), "{stdout}");
    assert_eq!(run.saved["trials"].as_array().expect("trials").len(), 1);
    let notes = run.saved["notes"].to_string();
    assert!(notes.contains("looks down") && notes.contains(&run.port.to_string()), "{notes}");
}

/// [`crate::SHORT_JOURNEYS`] over one day of 86,400 customers with a
/// send that triples arrivals at 09:00, as `calendar.toml` in `dir`.
fn send_day(dir: &std::path::Path) -> std::path::PathBuf {
    let text = crate::SHORT_JOURNEYS.replace(
        "name = \"two pages\"",
        "name = \"two pages\"\nperiod = \"day\"\ncustomers_per_period = 86400",
    ) + "\n[calendar]\nstart = \"2026-12-07\"\ndays = 1\n[[calendar.event]]\nname = \"send\"\nat = \"2026-12-07T09:00\"\npeak = 3\nhalf_life = \"1h\"\n";
    let scenario = dir.join("calendar.toml");
    std::fs::write(&scenario, text).expect("write");
    scenario
}

#[test]
fn the_calendar_gives_the_peak_to_judge_against() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = short_journeys(dir.path());
    // Without a calendar, `calendar` is refused before any traffic.
    let run = fogg()
        .arg("capacity")
        .arg(&plain)
        .args(["--threshold", "error_rate < 50%", "--expected-peak", "calendar", "--out"])
        .arg(dir.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(stderr.contains("has no [calendar]") && stderr.contains("customers per second"), "{stderr}");
    // A flat day of 86,400 customers with a send that triples arrivals at
    // 09:00: the busiest minute is 09:00, 3 customers/s less its decay.
    let scenario = send_day(dir.path());
    let calendar = fogg_scenario::from_path(&scenario).expect("compiles").calendar.expect("a calendar");
    let (minute, weight) = calendar.minutes().busiest(1);
    let (at, customers) = (minute as f64 * 60.0, weight * 86_400.0 / calendar.period_s);
    assert_eq!(calendar.local(at), "2026-12-07 09:00");
    let run = fogg()
        .arg("capacity")
        .arg(&scenario)
        .args(["--threshold", "error_rate < 50%", "--expected-peak", "calendar"])
        .args(["--start-rate", "4", "--max-rate", "4", "--trial", "1s", "--format", "json", "--out"])
        .arg(dir.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .assert()
        .success();
    let r: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    let peak = r["expected_peak"].as_f64().expect("a peak");
    assert!((peak - customers / 60.0).abs() < 1e-9 && peak > 2.9 && peak < 3.0, "{peak}");
    assert!(
        r["notes"].to_string().contains("busiest minute of the scenario's calendar, 2026-12-07 09:00"),
        "{}",
        r["notes"]
    );
}

#[test]
fn a_forecast_gives_each_strategy_its_peak_to_judge_against() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 86,400 customers a day, tripled at 09:00 by a send: a peak near 3/s.
    let scenario = send_day(dir.path());
    fogg()
        .arg("forecast")
        .arg(&scenario)
        .args(["--replicates", "8", "--resolution", "1min", "--change", "conversion home +10%", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let forecast_file = dir.path().join("forecast-calendar.json");
    let forecast: Value = serde_json::from_str(&std::fs::read_to_string(&forecast_file).unwrap()).unwrap();
    let tops: Vec<f64> = forecast["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["peak"]["customers_per_s_ci95"][1].as_f64().unwrap())
        .collect();
    assert!(tops.iter().all(|&t| t > 2.8 && t < 3.8), "peaks near 3/s: {tops:?}");
    let capacity = |rate: &str| {
        let run = fogg()
            .arg("capacity")
            .arg(&scenario)
            .args(["--threshold", "error_rate < 50%", "--expected-peak"])
            .arg(&forecast_file)
            .args(["--start-rate", rate, "--max-rate", rate, "--trial", "1s", "--out"])
            .arg(dir.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .expect("runs");
        let saved = std::fs::read_to_string(dir.path().join("capacity-calendar.json")).expect("written");
        (
            run.status.code(),
            String::from_utf8_lossy(&run.stdout).into_owned(),
            serde_json::from_str::<Value>(&saved).unwrap(),
        )
    };
    // Capacity of at least 5/s holds both peaks.
    let (code, stdout, r) = capacity("5");
    assert_eq!(code, Some(0), "{stdout}");
    let peaks = r["forecast_peaks"].as_array().expect("one peak per strategy");
    assert_eq!(peaks.len(), 2);
    assert_eq!(peaks[1]["strategy"], "change");
    let highest = tops.iter().copied().fold(0.0, f64::max);
    assert!((r["expected_peak"].as_f64().unwrap() - highest).abs() < 1e-9);
    for (p, top) in peaks.iter().zip(&tops) {
        assert!((p["customers_per_s"].as_f64().unwrap() - top).abs() < 1e-9);
        let headroom = p["headroom"].as_f64().unwrap();
        assert!((headroom - (5.0 / top - 1.0)).abs() < 1e-9, "{headroom}");
    }
    assert!(stdout.contains("baseline brings a peak of") && stdout.contains("to spare"), "{stdout}");
    // Capped at 2/s, the search cannot show the peak is held: exit 1.
    let (code, stdout, r) = capacity("2");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("raise --max-rate"), "{stdout}");
    assert!(r["forecast_peaks"][0]["headroom"].as_f64().unwrap() < 0.0);
    // Another kind of result is refused before any traffic.
    let run = fogg()
        .arg("capacity")
        .arg(&scenario)
        .args(["--threshold", "error_rate < 50%", "--expected-peak"])
        .arg(dir.path().join("capacity-calendar.json"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(stderr.contains("this is a capacity result"), "{stderr}");
}
