//! Simulation results: independent of threads and of how customers are
//! split, exact top paths, consistent path export, truncation.

use std::collections::HashMap;

use fogg_core::merge::Merge;
use fogg_engine::sim::{SimOutcome, SimPlan, SimRun};
use fogg_result::SimResult;

use crate::{bundled, simulate, without_run_info};

#[test]
fn thread_count_does_not_change_the_result() {
    let model = bundled("retail-omnichannel");
    let (one, one_paths) = simulate(&model, 300_000, 5, 1, true);
    let (two, two_paths) = simulate(&model, 300_000, 5, 2, true);
    assert_eq!(one.run.threads, 1);
    assert_eq!(two.run.threads, 2);
    assert_eq!(without_run_info(one.clone()), without_run_info(two));
    assert_eq!(one_paths.agg.export, two_paths.agg.export);
    // And a different seed gives different customers.
    let (other, _) = simulate(&model, 300_000, 6, 2, false);
    assert_ne!(one.conversions, other.conversions);
}

#[test]
fn merged_parts_equal_one_run() {
    let model = bundled("campaign-launch");
    let n = 150_000;
    let (whole, outcome) = simulate(&model, n, 21, 2, false);
    let part = |range: std::ops::Range<u64>| {
        let plan = SimPlan {
            seed: 21,
            customers: range,
            run_customers: n,
            export_paths: false,
            shard: fogg_core::shard::Shard::WHOLE,
        };
        crate::run_plan(&model, "", &plan, 2).1
    };
    let mut merged = part(0..40_000);
    for range in [40_000..40_001, 40_001..99_999, 99_999..n] {
        merged.agg.merge(&part(range).agg);
    }
    let plan = SimPlan {
        seed: 21,
        customers: 0..n,
        run_customers: n,
        export_paths: false,
        shard: fogg_core::shard::Shard::WHOLE,
    };
    let rebuilt = SimResult::new(
        &model,
        "",
        &plan,
        &SimRun {
            outcome: SimOutcome { agg: merged.agg, candidates: merged.candidates, interrupted: false },
            threads: 2,
            elapsed_s: 0.0,
        },
    );
    assert_eq!(without_run_info(rebuilt), without_run_info(whole));
    assert_eq!(outcome.agg.customers, n);
}

#[test]
fn top_paths_are_exact_counts() {
    // Count collapsed channel paths independently, with Model::walk.
    let model = bundled("retail-omnichannel");
    let (n, seed) = (30_000, 8);
    let mut counts: HashMap<Vec<String>, (u64, u64)> = HashMap::new();
    for customer in 0..n {
        let mut rng = fogg_core::rng::customer_rng(seed, customer, fogg_core::rng::Stream::Journey);
        let mut path: Vec<String> = Vec::new();
        let mut converted = false;
        for step in model.walk(&mut rng) {
            let state = &model.states[step.state.0 as usize];
            let channel = &model.channels[state.channel.0 as usize].id;
            if path.last() != Some(channel) {
                path.push(channel.clone());
            }
            converted |= state.conversion;
        }
        let entry = counts.entry(path).or_default();
        entry.0 += 1;
        entry.1 += u64::from(converted);
    }
    let mut expected: Vec<(String, u64, u64)> =
        counts.into_iter().map(|(p, (c, v))| (p.join(" > "), c, v)).collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let (r, _) = simulate(&model, n, seed, 2, false);
    assert_eq!(r.top_paths.len(), 10);
    for (row, want) in r.top_paths.iter().zip(&expected) {
        assert_eq!(row.customers, want.1, "customers on '{}'", row.path);
        assert_eq!(row.converted_customers, want.2, "converted on '{}'", row.path);
    }
    // Ties may be ordered differently by path id; the counts must match.
    let got: Vec<u64> = r.top_paths.iter().map(|p| p.customers).collect();
    let want: Vec<u64> = expected.iter().take(10).map(|e| e.1).collect();
    assert_eq!(got, want);
}

#[test]
fn exported_paths_add_up_to_the_totals() {
    let model = bundled("retail-omnichannel");
    let (r, outcome) = simulate(&model, 100_000, 4, 2, true);
    let mut csv = Vec::new();
    outcome.agg.export.as_ref().expect("exported").write_csv(&model, &mut csv).expect("writes");
    let text = String::from_utf8(csv).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("path;total_conversions;total_conversion_value;total_null"));
    let (mut conversions, mut cents, mut nulls) = (0u64, 0u64, 0u64);
    for line in lines {
        let cols: Vec<&str> = line.split(';').collect();
        assert_eq!(cols.len(), 4, "row '{line}'");
        assert!(!cols[0].is_empty() && !cols[0].contains(">>"), "path '{}'", cols[0]);
        for id in cols[0].split(" > ") {
            assert!(model.channel_id(id).is_some(), "unknown channel '{id}' in '{line}'");
        }
        conversions += cols[1].parse::<u64>().expect("count");
        cents += (cols[2].parse::<f64>().expect("value") * 100.0).round() as u64;
        nulls += cols[3].parse::<u64>().expect("count");
    }
    assert_eq!(conversions, r.conversions);
    assert_eq!(nulls, r.customers - r.converted_customers);
    assert_eq!(cents, (r.revenue * 100.0).round() as u64);
}

#[test]
fn journeys_past_max_steps_are_cut_and_counted() {
    let model = bundled("retail-omnichannel").with_max_steps(2);
    let (r, _) = simulate(&model, 50_000, 2, 2, false);
    assert!(r.truncated > 0);
    assert_eq!(r.journey_length.max, 2);
    assert!(r.steps <= 2 * r.customers);
    // Truncated journeys are exactly those that would have gone on past
    // two steps without the cut.
    let full = bundled("retail-omnichannel");
    let longer = (0..50_000)
        .filter(|&customer| {
            let mut rng = fogg_core::rng::customer_rng(2, customer, fogg_core::rng::Stream::Journey);
            full.walk(&mut rng).count() > 2
        })
        .count() as u64;
    assert_eq!(r.truncated, longer);
}

#[test]
fn no_request_header_or_body_reaches_a_simulation_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/ecommerce-funnel.toml"))
        .expect("bundled scenario")
        .replacen(
            "[[load.request]]",
            "[[load.request]]\nheaders = { Authorization = \"Bearer secret-token-123\" }\nbody = 'password=hunter2'",
            1,
        );
    assert!(text.contains("secret-token-123"));
    let scenario = dir.path().join("with-secrets.toml");
    std::fs::write(&scenario, &text).expect("write");
    for shard in ["1/2", "2/2"] {
        let run = crate::fogg()
            .arg("simulate")
            .arg(&scenario)
            .args(["-n", "2000", "--shard", shard, "--format", "json", "--out"])
            .arg(dir.path())
            .assert()
            .success();
        let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
        assert!(!stdout.contains("secret-token") && !stdout.contains("hunter2"), "a secret on stdout");
    }
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if path != scenario {
            let written = std::fs::read_to_string(&path).expect("a text report");
            assert!(!written.contains("secret-token") && !written.contains("hunter2"), "{}", path.display());
        }
    }
    // The shards still merge: the journeys are all a merge needs.
    let shards: Vec<_> = ["1-of-2", "2-of-2"]
        .iter()
        .map(|s| dir.path().join(format!("simulate-with-secrets.shard-{s}.json")))
        .collect();
    crate::fogg().arg("merge").args(&shards).arg("--out").arg(dir.path()).assert().success();
}

/// SIGTERM in the middle of a run far too long to finish (2^64 − 1
/// customers): the walk stops at the next chunk and never visits the
/// chunks left, the customers walked are reported (marked interrupted),
/// the exit code is 2, and such a result is never merged.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_stops_a_simulation_and_keeps_what_it_walked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let most = u64::MAX.to_string();
    let args = ["simulate", "-n", &most, "--threads", "1"];
    let (saved, v) = crate::interrupted_run(&args, dir.path(), "simulate-retail-omnichannel.json");
    assert_eq!(v["interrupted"], true);
    assert!(v["customers"].as_u64().expect("count") < u64::MAX);
    let run = crate::fogg().arg("merge").arg(&saved).arg("--out").arg(dir.path().join("m")).assert().code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(err.contains("was interrupted"), "{err}");
}
