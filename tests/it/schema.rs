//! The JSON output against its contracts in `schema/`.

use serde_json::Value;

use crate::fogg;

fn validator() -> jsonschema::Validator {
    schema_validator("simulate")
}

/// The validator of `schema/KIND.schema.json`.
pub fn schema_validator(kind: &str) -> jsonschema::Validator {
    let path = format!("{}/schema/{kind}.schema.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("schema file is in the repo");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema")
}

/// Every way `doc` breaks the schema.
pub fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn simulate_json_validates_against_the_schema() {
    let v = validator();
    let out = tempfile::tempdir().expect("temp dir");
    for name in ["retail-omnichannel", "ecommerce-funnel", "campaign-launch"] {
        let run = fogg()
            .args(["simulate", name, "-n", "30000", "--format", "json", "--out"])
            .arg(out.path())
            .assert()
            .success();
        let doc: Value = serde_json::from_slice(&run.get_output().stdout).expect("stdout is JSON");
        assert_eq!(errors(&v, &doc), Vec::<String>::new(), "{name}");
        for key in [
            "schema_version",
            "kind",
            "seed",
            "customers",
            "converted_customers",
            "conversions",
            "conversion_rate",
            "conversion_rate_ci95",
            "exact_conversion_rate",
            "exact_conversions_per_customer",
            "steps",
            "truncated",
        ] {
            assert!(doc.get(key).is_some(), "{name}: top-level '{key}' is part of the contract");
        }
        assert_eq!(doc["kind"], "simulate");
        assert_eq!(doc["customers"], 30000);
        // The report file holds the same JSON.
        let file = out.path().join(format!("simulate-{name}.json"));
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("report written"))
            .expect("report is JSON");
        assert_eq!(saved["conversions"], doc["conversions"]);
        assert!(out.path().join(format!("simulate-{name}.md")).exists());
    }
}

#[test]
fn schema_rejects_a_broken_document() {
    let v = validator();
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args(["simulate", "-n", "5000", "--format", "json", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let good: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    let mut missing = good.clone();
    missing.as_object_mut().expect("object").remove("conversions");
    assert!(!errors(&v, &missing).is_empty(), "a missing field must fail");
    let mut extra = good.clone();
    extra["surprise"] = Value::from(1);
    assert!(!errors(&v, &extra).is_empty(), "an undocumented field must fail");
    let mut wrong = good;
    wrong["conversion_rate_ci95"] = Value::from(vec![0.1]);
    assert!(!errors(&v, &wrong).is_empty(), "a one-number interval must fail");
}

#[test]
fn load_json_validates_against_the_schema() {
    let v = schema_validator("load");
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args(["load", "campaign-launch", "--duration", "2s", "--grace", "1s", "--format", "json", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&run.get_output().stdout).expect("stdout is JSON");
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    for key in [
        "kind",
        "customers",
        "arrivals_dropped",
        "requests",
        "errors",
        "achieved_arrival_rate",
        "latency_ms",
        "conversions",
        "conversions_lost_to_latency",
        "conversions_lost_to_errors",
        "revenue_at_risk",
    ] {
        assert!(doc.get(key).is_some(), "top-level '{key}' is part of the contract");
    }
    for p in ["p50", "p90", "p95", "p99", "max"] {
        assert!(doc["latency_ms"][p].as_f64().is_some(), "latency_ms.{p}");
    }
    assert_eq!(doc["kind"], "load");
    assert!(doc["requests"].as_u64().expect("count") > 0);
    let mut broken = doc.clone();
    broken["errors"].as_object_mut().expect("object").remove("timeout");
    assert!(!errors(&v, &broken).is_empty(), "a missing error class must fail");
}
