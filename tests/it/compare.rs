//! `fogg compare`: a run compared with itself passes; an injected slowdown
//! (the demo shop made 180 ms slower) is flagged and exits 1. The
//! assertions rest on what the server enforces (its service time is a
//! floor under every latency) and on counts, never on how fast this
//! machine happens to be.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{fogg, short_journeys};

/// A 3 s run at 100 customers/s (about 500 requests) against the demo shop
/// with the given service time; returns the saved JSON result.
fn saved_run(scenario: &Path, out: &Path, latency_ms: &str) -> PathBuf {
    fogg()
        .arg("load")
        .arg(scenario)
        .args(["--duration", "3s", "--rate", "100", "--grace", "2s", "--quiet"])
        .args(["--demo-latency", latency_ms, "--out"])
        .arg(out)
        .env_remove("GITHUB_STEP_SUMMARY")
        .assert()
        .code(0);
    out.join("load-two-pages.json")
}

fn compare(baseline: &Path, current: &Path, out: &Path, code: i32) -> Value {
    let run = fogg()
        .arg("compare")
        .arg(baseline)
        .arg(current)
        .args(["--format", "json", "--out"])
        .arg(out)
        .env_remove("GITHUB_STEP_SUMMARY")
        .assert()
        .code(code);
    serde_json::from_slice(&run.get_output().stdout).expect("JSON")
}

fn row<'a>(r: &'a Value, metric: &str) -> &'a Value {
    r["rows"].as_array().expect("rows").iter().find(|row| row["metric"] == metric).expect("metric compared")
}

#[test]
fn same_run_passes_and_an_injected_slowdown_is_flagged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = short_journeys(dir.path());
    let baseline = saved_run(&scenario, &dir.path().join("a"), "20");
    let slower = saved_run(&scenario, &dir.path().join("c"), "200");
    let reports = dir.path().join("reports");

    let same = compare(&baseline, &baseline, &reports, 0);
    assert_eq!(same["verdict"], "pass", "{same:#}");
    assert!(same["rows"].as_array().expect("rows").iter().all(|r| r["change"] != "regressed"));

    let slow = compare(&baseline, &slower, &reports, 1);
    let schema = crate::schema::schema_validator("compare");
    assert_eq!(crate::schema::errors(&schema, &slow), Vec::<String>::new());
    assert_eq!(slow["verdict"], "fail");
    let p50 = row(&slow, "p50");
    assert_eq!(p50["change"], "regressed", "{p50}");
    assert!(p50["current"].as_f64().expect("p50") >= 200.0, "the shop holds each request 200 ms: {p50}");
    assert_eq!(row(&slow, "p50{request=product}")["change"], "regressed");
    // About 500 requests: too few to judge p99.9.
    assert_eq!(row(&slow, "p99.9")["change"], "not_comparable");
    assert_eq!(row(&slow, "throughput")["change"], "same", "the same customers arrive at the same times");

    // A tolerance wider than the slowdown lets it through.
    fogg()
        .arg("compare")
        .arg(&baseline)
        .arg(&slower)
        .args(["--tolerance", "latency=100000%", "--quiet", "--out"])
        .arg(&reports)
        .assert()
        .code(0)
        .stdout("PASS: no regression in 18 metrics\n");
}

#[test]
fn compare_rejects_what_is_not_a_load_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = dir.path().join("simulate.json");
    let run = fogg()
        .args(["simulate", "-n", "1000", "--format", "json", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    std::fs::write(&sim, &run.get_output().stdout).expect("write");
    let stderr = |args: &[&std::ffi::OsStr]| {
        let run = fogg().arg("compare").args(args).assert().code(2);
        String::from_utf8_lossy(&run.get_output().stderr).into_owned()
    };
    let missing = dir.path().join("missing.json");
    assert!(stderr(&[sim.as_os_str(), missing.as_os_str()]).contains("is a simulate result"));
    assert!(stderr(&[missing.as_os_str(), sim.as_os_str()]).contains("cannot read"));
    let bad = stderr(&[sim.as_os_str(), sim.as_os_str(), "--tolerance".as_ref(), "p99=fast".as_ref()]);
    assert!(bad.contains("tolerance 'p99=fast'"), "{bad}");
}
