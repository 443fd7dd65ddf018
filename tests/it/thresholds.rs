//! Thresholds and the exit-code contract, against the demo shop the CLI
//! starts on loopback: 0 passed, 1 a threshold failed (reports still
//! written), 2 usage or scenario error.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::fogg;

const SHORT_RUN: [&str; 6] = ["--duration", "2s", "--grace", "2s", "--rate", "30"];

fn load(out: &Path, thresholds: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = fogg();
    cmd.args(["load", "campaign-launch"]).args(SHORT_RUN).arg("--out").arg(out);
    for t in thresholds {
        cmd.args(["--threshold", t]);
    }
    cmd.env_remove("GITHUB_STEP_SUMMARY").assert()
}

fn report_files(out: &Path) -> [std::path::PathBuf; 3] {
    ["json", "md", "junit.xml"].map(|ext| out.join(format!("load-campaign-launch.{ext}")))
}

fn saved_json(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("load-campaign-launch.json")).expect("JSON report written");
    serde_json::from_str(&text).expect("report is JSON")
}

#[test]
fn passing_thresholds_exit_0_and_write_every_report() {
    let out = tempfile::tempdir().expect("temp dir");
    load(out.path(), &["p99 < 30s", "error_rate < 50%", "throughput > 0/s"]).code(0);
    for file in report_files(out.path()) {
        assert!(file.exists(), "{} written", file.display());
    }
    let v = saved_json(out.path());
    assert_eq!(v["verdict"], "pass");
    let t = v["thresholds"].as_array().expect("thresholds array");
    assert_eq!(t.len(), 3);
    assert!(t.iter().all(|t| t["passed"] == true), "{t:?}");
    // The observed p99 is the result's own p99.
    assert_eq!(t[0]["observed"], v["latency_ms"]["p99"]);
}

#[test]
fn a_failing_threshold_exits_1_and_still_writes_every_report() {
    let out = tempfile::tempdir().expect("temp dir");
    // The demo shop takes 20 ms per request: a 1 ms median cannot hold.
    let run = load(out.path(), &["p50 < 1ms", "error_rate < 50%"]).code(1);
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains("FAIL: 1 of 2 thresholds failed: p50 < 1ms (observed"), "{stdout}");
    for file in report_files(out.path()) {
        assert!(file.exists(), "{} written", file.display());
    }
    let v = saved_json(out.path());
    assert_eq!(v["verdict"], "fail");
    let schema = crate::schema::schema_validator("load");
    assert_eq!(crate::schema::errors(&schema, &v), Vec::<String>::new());
    let p50 = v["thresholds"][0]["observed"].as_f64().expect("observed p50");
    assert!(p50 >= 20.0, "the shop's service time is 20 ms, observed {p50}");
    assert_eq!(v["thresholds"][0]["passed"], false);
    assert_eq!(v["thresholds"][1]["passed"], true);

    // JUnit: one case per threshold; the failure carries the observed value.
    let xml = std::fs::read_to_string(out.path().join("load-campaign-launch.junit.xml")).expect("JUnit");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit file is XML");
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].attribute("name"), Some("p50 < 1ms"));
    let failure = cases[0].children().find(|n| n.has_tag_name("failure")).expect("failed case");
    let message = failure.attribute("message").expect("message");
    assert!(
        message.contains(&format!(
            "observed {}",
            fogg_load::threshold::with_unit(Some(p50), fogg_load::threshold::Unit::Ms)
        )),
        "{message}"
    );
    assert!(cases[1].children().all(|n| !n.has_tag_name("failure")));
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).expect("suite");
    assert_eq!(suite.attribute("failures"), Some("1"));
}

#[test]
fn quiet_prints_the_verdict_and_the_step_summary_gets_markdown() {
    let out = tempfile::tempdir().expect("temp dir");
    let summary = out.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    let run = fogg()
        .args(["load", "campaign-launch"])
        .args(SHORT_RUN)
        .args(["--quiet", "--threshold", "p99 < 30s", "--out"])
        .arg(out.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .code(0);
    let output = run.get_output();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "PASS: 1 threshold passed\n");
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(text.starts_with("earlier step\n# fogg load"), "appended, not replaced: {text}");
    assert!(text.contains("## Thresholds") && text.contains("| p99 |"), "{text}");
}

#[test]
fn malformed_thresholds_are_usage_errors() {
    let out = tempfile::tempdir().expect("temp dir");
    let err = |t: &str| {
        let run = load(out.path(), &[t]).code(2);
        String::from_utf8_lossy(&run.get_output().stderr).into_owned()
    };
    assert!(err("p99 500ms").contains("no comparison"));
    assert!(err("p99 < 500").contains("needs a unit"));
    let unknown = err("p95{request=chekout} < 1s");
    assert!(unknown.contains("no request 'chekout' (did you mean 'checkout'?)"), "{unknown}");
    assert!(!out.path().join("load-campaign-launch.json").exists(), "no run without valid thresholds");
}

#[test]
fn scenario_thresholds_apply_and_the_command_line_replaces_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = fogg_scenario::BUNDLED
        .iter()
        .find(|(name, _)| *name == "campaign-launch")
        .map(|(_, text)| *text)
        .expect("bundled");
    let scenario = dir.path().join("gated.toml");
    std::fs::write(
        &scenario,
        format!("{text}\n[load.thresholds]\np50 = \"< 1ms\"\n\"error_rate{{class=5xx}}\" = \"< 50%\"\n"),
    )
    .expect("write");
    let run = |extra: &[&str]| {
        fogg()
            .arg("load")
            .arg(&scenario)
            .args(SHORT_RUN)
            .args(extra)
            .arg("--out")
            .arg(dir.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .assert()
    };
    run(&[]).code(1);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("load-gated.json")).expect("json"))
            .expect("JSON");
    let keys: Vec<&str> =
        v["thresholds"].as_array().expect("array").iter().map(|t| t["key"].as_str().expect("key")).collect();
    assert_eq!(keys, ["p50", "error_rate{class=5xx}"], "file order kept");
    run(&["--threshold", "p50 < 60s"]).code(0);
}

/// Runs `fogg load campaign-launch` for 60 s at 30/s against the demo
/// shop with `thresholds`, reports into `out` (and the job summary into
/// `summary`, when given), and sends SIGINT once the shop has answered
/// requests (readiness, not a guessed time): what the process gave.
#[cfg(unix)]
fn interrupted_load(thresholds: &[&str], out: &Path, summary: Option<&Path>) -> std::process::Output {
    let shop = crate::LiveShop::start(fogg_load::demo::DemoConfig::default());
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"));
    command.args(["load", "campaign-launch", "--duration", "60s", "--grace", "1s", "--rate", "30"]);
    for t in thresholds {
        command.args(["--threshold", t]);
    }
    command
        .arg("--out")
        .arg(out)
        .args(["--target", &shop.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .env_remove("GITHUB_STEP_SUMMARY");
    if let Some(path) = summary {
        command.env("GITHUB_STEP_SUMMARY", path);
    }
    let child = command.spawn().expect("starts");
    shop.wait_for_requests(5, Duration::from_secs(120));
    let killed =
        std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    child.wait_with_output().expect("waits")
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_with_a_failed_threshold_exits_1() {
    let out = tempfile::tempdir().expect("temp dir");
    // The shop takes 20 ms a request: p50 < 1ms cannot hold.
    let status = interrupted_load(&["p50 < 1ms"], out.path(), None).status;
    assert_eq!(status.code(), Some(1), "never 0 when a threshold failed");
    let v = saved_json(out.path());
    assert_eq!(v["stopped_by"], "interrupted");
    assert_eq!(v["verdict"], "fail");
    assert!(out.path().join("load-campaign-launch.junit.xml").exists());
}

/// SIGINT in the middle of a run whose thresholds all hold: a partial
/// run is not a pass. Exit 2, "incomplete" in the JSON, a failed case in
/// JUnit, INCOMPLETE on standard output and in the job summary, and a
/// line on standard error as soon as the signal comes.
#[cfg(unix)]
#[test]
fn an_interrupted_run_whose_thresholds_hold_is_incomplete_not_a_pass() {
    let out = tempfile::tempdir().expect("temp dir");
    let summary = out.path().join("summary.md");
    let reports = out.path().join("reports");
    let output = interrupted_load(&["p99 < 60s", "error_rate < 50%"], &reports, Some(&summary));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "never 0 for a run cut short: {stderr}");
    assert!(stderr.contains("signal received: stopping"), "{stderr}");
    assert!(stdout.contains("INCOMPLETE: interrupted by a signal after"), "{stdout}");
    let v = saved_json(&reports);
    assert_eq!(v["stopped_by"], "interrupted");
    assert_eq!(v["verdict"], "incomplete");
    let passed: Vec<bool> =
        v["thresholds"].as_array().expect("array").iter().map(|t| t["passed"] == true).collect();
    assert_eq!(passed, [true, true], "what was measured held");
    let junit = std::fs::read_to_string(reports.join("load-campaign-launch.junit.xml")).expect("junit");
    assert!(junit.contains(r#"tests="3" failures="1""#), "{junit}");
    assert!(
        junit.contains(r#"name="the run completed""#) && junit.contains("interrupted by a signal"),
        "{junit}"
    );
    let summary = std::fs::read_to_string(&summary).expect("job summary");
    assert!(summary.contains("INCOMPLETE: interrupted by a signal"), "{summary}");
}

/// `--abort-on-fail=DELAY`: a target that turns slow after its first 40
/// requests loses `p99 < 100ms`, and the 60 s run stops once the threshold
/// has failed for the delay: exit 1, the report names the threshold, and
/// every request sent is still in it. A healthy run is not stopped.
#[test]
fn a_threshold_lost_for_its_delay_stops_the_run() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = crate::short_journeys(dir.path());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let served = Arc::new(AtomicU64::new(0));
    let fast_for = Arc::new(AtomicU64::new(40));
    let (counter, limit) = (Arc::clone(&served), Arc::clone(&fast_for));
    let target = runtime.block_on(crate::load::serve(axum::Router::new().fallback(move || {
        let slow = counter.fetch_add(1, Ordering::Relaxed) >= limit.load(Ordering::Relaxed);
        async move {
            if slow {
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            "ok"
        }
    })));
    let run = |duration: &str| {
        let out = dir.path().join(format!("out-{duration}"));
        let output = fogg()
            .arg("load")
            .arg(&scenario)
            .args(["--target", &target, "--rate", "20", "--duration", duration, "--grace", "2s"])
            .args(["--threshold", "p99 < 100ms", "--abort-on-fail=2s", "--format", "json", "--out"])
            .arg(&out)
            .output()
            .expect("runs");
        let result: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        (output.status.code(), result)
    };

    let (code, v) = run("60s");
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["stopped_by"], "threshold_failed");
    let notes = v["notes"].to_string();
    assert!(notes.contains("p99 < 100ms had failed for"), "{notes}");
    let elapsed = v["elapsed_s"].as_f64().expect("elapsed");
    assert!(elapsed < 30.0, "stopped long before the 60 s: {elapsed} s");
    assert_eq!(v["verdict"], "fail");
    let sent = v["requests"].as_u64().expect("requests");
    assert_eq!(sent, served.load(Ordering::Relaxed), "every request the server got is in the report");

    // A target that stays fast: not stopped.
    fast_for.store(u64::MAX, Ordering::Relaxed);
    let (code, v) = run("2s");
    assert_eq!((code, &v["stopped_by"]), (Some(0), &Value::from("duration")), "{}", v["notes"]);
}
