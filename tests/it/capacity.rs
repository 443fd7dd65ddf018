//! `fogg capacity` against the demo shop with a configured capacity.

use serde_json::Value;

use crate::{fogg, short_journeys};

#[test]
fn finds_the_demo_shops_configured_capacity_within_15_percent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = short_journeys(dir.path());
    let configured_rps = 400.0;
    let run = fogg()
        .arg("capacity")
        .arg(&scenario)
        .args(["--demo-capacity", "400", "--demo-latency", "20"])
        .args(["--threshold", "p99 < 120ms", "--threshold", "error_rate < 1%"])
        .args(["--start-rate", "25", "--max-rate", "1000", "--trial", "2s"])
        // Far above what the shop can take: the verdict must be a failure.
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
        (rps / configured_rps - 1.0).abs() <= 0.15,
        "found {rps:.0} requests/s, configured {configured_rps}: {:#}",
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
