//! deploy/: the Kubernetes manifests are valid and consistent (shard count,
//! volumes, fogg arguments that parse), and the Slurm script, run with a
//! stand-in `srun` that starts its tasks as local processes, merges into
//! exactly the single run.

use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::fogg;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(path)
}

/// Every document of a YAML file.
fn documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy(path)).expect("manifest exists");
    serde_yaml_ng::Deserializer::from_str(&text).map(|d| Value::deserialize(d).expect("valid YAML")).collect()
}

fn job(docs: &[Value]) -> &Value {
    docs.iter().find(|d| d["kind"] == "Job").expect("a Job")
}

fn cli(args: &[String]) -> fogg::cli::Cli {
    let argv = std::iter::once("fogg".to_owned()).chain(args.iter().cloned());
    fogg::cli::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{args:?}\n{e}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence().expect("a list").iter().map(|s| s.as_str().expect("a string").to_owned()).collect()
}

fn env_var<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"].as_sequence()?.iter().find(|e| e["name"] == name)?["value"].as_str()
}

/// Checks an Indexed Job of fogg shards; returns its fogg arguments.
fn check_indexed_job(docs: &[Value]) -> Vec<String> {
    let job = job(docs);
    assert_eq!(job["apiVersion"], "batch/v1");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let completions = spec["completions"].as_u64().expect("completions");
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let container = &pod["containers"][0];
    assert_eq!(
        env_var(container, "FOGG_SHARDS"),
        Some(completions.to_string().as_str()),
        "FOGG_SHARDS = completions"
    );
    let args = strings(&container["args"]);
    // --out is the mounted results volume, backed by the claim.
    let out = args.iter().position(|a| a == "--out").map(|i| args[i + 1].clone()).expect("--out");
    let mount = &container["volumeMounts"][0];
    assert_eq!(mount["mountPath"].as_str(), Some(out.as_str()));
    let volume = pod["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("volume");
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], "fogg-results");
    args
}

#[test]
fn the_kubernetes_simulation_job_is_consistent() {
    let docs = documents("kubernetes/simulate-job.yaml");
    let claim = docs.iter().find(|d| d["kind"] == "PersistentVolumeClaim").expect("a claim");
    assert_eq!(claim["metadata"]["name"], "fogg-results");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteMany", "every pod writes to it");
    let args = check_indexed_job(&docs);
    let fogg::cli::Command::Simulate(sim) = cli(&args).command else { panic!("a simulate job") };
    assert!(sim.shard.is_none(), "the shard comes from the Job's index");

    // The merge Job reads exactly the files the shards write.
    let merge = documents("kubernetes/merge-job.yaml");
    let container = &job(&merge)["spec"]["template"]["spec"]["containers"][0];
    let script = strings(&container["args"]).join(" ");
    let words = shell_words::split(&script).expect("shell words");
    assert_eq!(words[0], "fogg");
    let completions = job(&docs)["spec"]["completions"].as_u64().expect("completions");
    let pattern = format!("/results/simulate-retail-omnichannel.shard-*-of-{completions}.json");
    assert_eq!(words[2], pattern);
    let fogg::cli::Command::Merge(m) = cli(&words[1..]).command else { panic!("a merge") };
    assert_eq!(m.output.as_deref(), Some(Path::new("/results/merged.json")));
}

#[test]
fn the_kubernetes_load_job_stays_on_loopback() {
    let docs = documents("kubernetes/load-job.yaml");
    let args = check_indexed_job(&docs);
    let fogg::cli::Command::Load(load) = cli(&args).command else { panic!("a load job") };
    assert_eq!(load.run.target.target.as_ref().map(|u| u.as_str()), Some("http://127.0.0.1:8080/"));
    let sidecar = &job(&docs)["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(sidecar["restartPolicy"], "Always", "a native sidecar: the Job completes when fogg does");
    let fogg::cli::Command::Demo(demo) = cli(&strings(&sidecar["args"])).command else {
        panic!("the demo shop")
    };
    assert!(demo.addr.ip().is_loopback());
}

#[cfg(unix)]
#[test]
fn the_slurm_script_merges_its_tasks_into_the_single_run() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("temp dir");
    // A stand-in for srun: SLURM_NTASKS local processes, each with its
    // SLURM_PROCID, as Slurm starts them.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let srun = bin.join("srun");
    std::fs::write(
        &srun,
        "#!/usr/bin/env bash\npids=()\nfor ((i = 0; i < SLURM_NTASKS; i++)); do SLURM_PROCID=$i \"$@\" & pids+=($!); done\nstatus=0\nfor p in \"${pids[@]}\"; do wait \"$p\" || status=1; done\nexit $status\n",
    )
    .expect("write srun");
    std::fs::set_permissions(&srun, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let fogg_bin = assert_cmd::cargo::cargo_bin("fogg");
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        fogg_bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = dir.path().join("results");
    let run = std::process::Command::new("bash")
        .arg(deploy("slurm/fogg-simulate.sbatch"))
        .env("PATH", path)
        .env("SLURM_NTASKS", "4")
        .env("SLURM_JOB_ID", "42")
        .env("SLURM_CPUS_PER_TASK", "1")
        .env("FOGG_CUSTOMERS", "80k")
        .env("FOGG_SEED", "3")
        .env("FOGG_OUT", &out)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_PROCID")
        .output()
        .expect("bash runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    for i in 1..=4 {
        assert!(out.join(format!("simulate-retail-omnichannel.shard-{i}-of-4.json")).exists());
    }
    let read = |p: &Path| -> serde_json::Value {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).expect("result")).expect("JSON");
        v.as_object_mut().expect("object").remove("run");
        v
    };
    let merged = read(&out.join("merged.json"));
    fogg()
        .args(["simulate", "-n", "80k", "--seed", "3", "--out"])
        .arg(dir.path().join("single"))
        .env_remove("SLURM_PROCID")
        .env_remove("JOB_COMPLETION_INDEX")
        .assert()
        .success();
    let single = read(&dir.path().join("single/simulate-retail-omnichannel.json"));
    assert_eq!(merged, single);
}

/// The series docs/metrics.md documents: name and type, from its table.
pub(crate) fn documented_series() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/metrics.md"))
        .expect("docs/metrics.md");
    doc.lines()
        .filter_map(|l| {
            let mut cells = l.strip_prefix("| `fogg_")?.split('|');
            let name = format!("fogg_{}", cells.next()?.trim().trim_end_matches('`'));
            Some((name, cells.next()?.trim().to_owned()))
        })
        .collect()
}

/// deploy/grafana/fogg-run.json: every query names only documented series
/// (a histogram by its `_bucket`, `_sum` or `_count`) and labels fogg
/// sets, and the dashboard has the panels a run needs. The queries run on
/// a real Prometheus in scripts/prometheus-scrape.sh.
#[test]
fn the_grafana_dashboard_queries_only_what_fogg_serves() {
    let text = std::fs::read_to_string(deploy("grafana/fogg-run.json")).expect("dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let series = documented_series();
    assert!(series.len() >= 9, "{series:?}");
    let known = |name: &str| {
        series.iter().any(|(s, kind)| {
            s == name
                || (kind == "histogram"
                    && ["_bucket", "_sum", "_count"].iter().any(|x| format!("{s}{x}") == name))
        })
    };
    let labels = ["scenario", "shard", "request", "outcome", "percentile", "le"];
    let metric = regex::Regex::new(r"fogg_[a-z_]+").expect("regex");
    let matcher = regex::Regex::new(r"([a-z_]+)\s*(=~|!~|!=|=)").expect("regex");
    let mut titles = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().expect("a title");
        titles.push(title.to_lowercase());
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            let names: Vec<&str> = metric.find_iter(expr).map(|m| m.as_str()).collect();
            assert!(!names.is_empty(), "{title}: {expr}");
            for name in names {
                assert!(known(name), "{title}: {name} is not a documented series");
            }
            for selector in expr.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                for m in matcher.captures_iter(selector) {
                    assert!(labels.contains(&&m[1]), "{title}: label {} is not one fogg sets", &m[1]);
                }
            }
        }
    }
    for needed in ["latency", "throughput", "errors", "in flight", "conversions lost"] {
        assert!(titles.iter().any(|t| t.contains(needed)), "no {needed} panel in {titles:?}");
    }
}
