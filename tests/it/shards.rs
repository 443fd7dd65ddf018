//! Shards: merging the parts of a run gives exactly the whole run.

use serde_json::Value;

use crate::{bundled_scenario, fogg, run_plan, without_run_info};
use fogg_core::shard::Shard;
use fogg_engine::sim::SimPlan;
use fogg_result::merge::merge_simulations;

fn part(name: &str, n: u64, seed: u64, shard: Shard) -> fogg_result::SimResult {
    let scenario = bundled_scenario(name);
    let plan = SimPlan { seed, customers: shard.customers(n), run_customers: n, export_paths: false, shard };
    run_plan(&scenario.model, &scenario.text, &plan, 2).0
}

#[test]
fn merging_any_number_of_shards_gives_exactly_the_whole_run() {
    let n = 60_000;
    for name in ["retail-omnichannel", "campaign-launch"] {
        let whole = without_run_info(part(name, n, 5, Shard::WHOLE));
        for count in [1, 2, 3, 7] {
            let parts: Vec<_> =
                (1..=count).rev().map(|index| part(name, n, 5, Shard { index, count })).collect();
            let names: Vec<String> = (1..=count).map(|i| format!("part {i}")).collect();
            if count == 3 {
                // A shard's report says which part of the run it holds.
                let header = fogg_report::Reportable::document(&parts[1]).lines.join("\n");
                assert!(header.contains("shard 2 of 3: customers 20,000 to 40,000 of 60,000"), "{header}");
            }
            let merged = merge_simulations(&parts, &names).expect("merges");
            // The run info says a merge of `count` shards of 2 threads.
            assert_eq!((merged.run.shards, merged.run.threads), (count, 2));
            assert_eq!(without_run_info(merged), whole, "{name}, {count} shards");
        }
    }
}

#[test]
fn incomplete_or_mismatched_shards_are_refused() {
    let n = 10_000;
    let s = |index, count| part("ecommerce-funnel", n, 1, Shard { index, count });
    let names: Vec<String> = ["a.json", "b.json", "c.json"].map(String::from).to_vec();
    let err = |parts: &[fogg_result::SimResult]| merge_simulations(parts, &names).unwrap_err().to_string();
    assert!(err(&[s(1, 3), s(3, 3)]).contains("a shard is missing"), "{}", err(&[s(1, 3), s(3, 3)]));
    assert!(err(&[s(1, 3), s(2, 3)]).contains("customers 6666..10000"));
    assert!(err(&[s(1, 2), s(1, 2)]).contains("twice"));
    let other_seed = part("ecommerce-funnel", n, 2, Shard { index: 2, count: 2 });
    assert!(err(&[s(1, 2), other_seed]).contains("seeds differ"));
}

#[test]
fn four_shard_processes_merge_into_the_single_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shards = dir.path().join("shards");
    // Two shards by flag, two the way a Kubernetes Indexed Job and Slurm
    // name them.
    let mut children = Vec::new();
    for (i, env) in [
        (1, vec![]),
        (2, vec![("JOB_COMPLETION_INDEX", "1"), ("FOGG_SHARDS", "4")]),
        (3, vec![("SLURM_PROCID", "2"), ("SLURM_NTASKS", "4")]),
        (4, vec![]),
    ] {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"));
        cmd.args(["simulate", "-n", "120k", "--seed", "9", "--threads", "1", "--format", "json", "--out"])
            .arg(&shards);
        if env.is_empty() {
            cmd.args(["--shard", &format!("{i}/4")]);
        }
        for var in ["JOB_COMPLETION_INDEX", "FOGG_SHARDS", "SLURM_PROCID", "SLURM_NTASKS"] {
            cmd.env_remove(var);
        }
        cmd.envs(env).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        children.push(cmd.spawn().expect("starts"));
    }
    for mut c in children {
        assert!(c.wait().expect("waits").success());
    }
    let files: Vec<_> =
        (1..=4).map(|i| shards.join(format!("simulate-retail-omnichannel.shard-{i}-of-4.json"))).collect();
    for f in &files {
        assert!(f.exists(), "{} written", f.display());
    }
    let merged_file = dir.path().join("merged.json");
    fogg()
        .arg("merge")
        .args(&files)
        .arg("-o")
        .arg(&merged_file)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let single = fogg()
        .args(["simulate", "-n", "120k", "--seed", "9", "--format", "json", "--out"])
        .arg(dir.path().join("single"))
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_PROCID")
        .assert()
        .success();
    let mut single: Value = serde_json::from_slice(&single.get_output().stdout).expect("JSON");
    let mut merged: Value =
        serde_json::from_str(&std::fs::read_to_string(&merged_file).expect("merged written")).expect("JSON");
    let schema = crate::schema::schema_validator("simulate");
    assert_eq!(crate::schema::errors(&schema, &merged), Vec::<String>::new());
    single.as_object_mut().expect("object").remove("run");
    merged.as_object_mut().expect("object").remove("run");
    assert_eq!(merged, single, "every count identical");
}

#[test]
fn a_simulation_shard_with_counts_of_the_wrong_length_is_refused_not_a_panic() {
    let n = 10_000;
    let s = |index| part("ecommerce-funnel", n, 1, Shard { index, count: 2 });
    let names: Vec<String> = ["a.json", "b.json"].map(String::from).to_vec();
    let mut damaged = s(2);
    damaged.raw.agg.touches.pop();
    let err = merge_simulations(&[s(1), damaged], &names).expect_err("refused").to_string();
    assert!(err.contains("'b.json' is damaged: its `touches` has"), "{err}");
}

/// `fogg merge` on result files whose per-item lists were cut (a load
/// result's per-request table, a forecast's days): exit 2 naming the
/// file and the list, never a panic (exit 101).
#[test]
fn merge_refuses_damaged_load_and_forecast_files_with_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    type Damage = dyn Fn(&mut Value);
    let cases: [(&str, &Damage); 3] = [
        ("load-two-pages.json", &|v| {
            v["raw"]["agg"]["by_request"].as_array_mut().expect("array").pop();
        }),
        ("load-two-pages.json", &|v| {
            v["raw"]["agg"]["journeys_by_segment"].as_array_mut().expect("array").clear();
        }),
        ("forecast-two-pages.json", &|v| {
            v["variants"][0]["raw"]["day_arrivals"].as_array_mut().expect("array").pop();
        }),
    ];
    for (k, (fixture, damage)) in cases.iter().enumerate() {
        let text =
            std::fs::read_to_string(crate::reports::here(&format!("fixtures/{fixture}"))).expect("fixture");
        let mut v: Value = serde_json::from_str(&text).expect("JSON");
        damage(&mut v);
        let file = dir.path().join(format!("damaged-{k}.json"));
        std::fs::write(&file, serde_json::to_vec(&v).expect("JSON")).expect("write");
        let run = fogg().arg("merge").arg(&file).arg("--out").arg(dir.path().join("out")).assert().code(2);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(stderr.contains("is damaged"), "{fixture}: {stderr}");
        assert!(!stderr.contains("panicked"), "{fixture}: {stderr}");
    }
}
