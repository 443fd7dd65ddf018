//! The command line: front-door commands, outputs, argument errors.

use crate::fogg;

#[test]
fn simulate_with_no_argument_runs_the_default_scenario() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg().args(["simulate", "-n", "20000", "--out"]).arg(out.path()).assert().success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    for part in ["fogg simulate — Retail omnichannel", "Outcome", "Funnel", "Channels", "Top paths", "exact"]
    {
        assert!(stdout.contains(part), "'{part}' missing from:\n{stdout}");
    }
    assert!(out.path().join("simulate-retail-omnichannel.json").exists());
    assert!(out.path().join("simulate-retail-omnichannel.md").exists());
}

#[test]
fn markdown_output_is_a_document_with_tables() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args(["simulate", "ecommerce-funnel", "-n", "10000", "--format", "md", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let md = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(md.starts_with("# fogg simulate — E-commerce funnel"), "{md}");
    assert!(md.contains("## Funnel") && md.contains("| stage | reached |") && md.contains("---:"), "{md}");
    // A path's ' > ' inside a cell is no quote: it stays as written.
    assert!(md.contains(" > ") && !md.contains("&gt;"), "{md}");
}

#[test]
fn export_paths_writes_the_attribution_format() {
    let out = tempfile::tempdir().expect("temp dir");
    let csv = out.path().join("paths.csv");
    fogg()
        .args(["simulate", "-n", "5000", "--export-paths"])
        .arg(&csv)
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(&csv).expect("csv written");
    assert!(text.starts_with("path;total_conversions;total_conversion_value;total_null\n"));
    assert!(text.lines().count() > 10);
}

#[test]
fn same_seed_same_json_and_threads_do_not_matter() {
    let out = tempfile::tempdir().expect("temp dir");
    let json = |threads: &str| {
        let run = fogg()
            .args(["simulate", "campaign-launch", "-n", "50k", "--seed", "77", "--format", "json"])
            .args(["--threads", threads, "--out"])
            .arg(out.path())
            .assert()
            .success();
        let mut v: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
        v.as_object_mut().expect("object").remove("run");
        v
    };
    assert_eq!(json("1"), json("2"));
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let out = fogg().args(["simulate", "-n", "0"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a whole number from 1 to"));
    let out = fogg().args(["simulate", "--format", "pdf"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: table, json, md"));
}

#[test]
fn unwritable_report_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").expect("write");
    let out = fogg().args(["simulate", "-n", "1000", "--out"]).arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("creating report folder") && stderr.contains("nothing was run"), "{stderr}");
    // Checked before the run: a minute of load is not sent first.
    let started = std::time::Instant::now();
    let out = fogg().args(["load", "--duration", "60s", "--out"]).arg(&file).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was run"));
    assert!(started.elapsed() < std::time::Duration::from_secs(50), "refused before the run");
}

#[test]
fn an_unwritable_job_summary_warns_and_keeps_the_verdict() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = fogg()
        .args(["simulate", "-n", "1000", "--out"])
        .arg(dir.path())
        .env("GITHUB_STEP_SUMMARY", dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: opening GITHUB_STEP_SUMMARY") && stderr.contains("the verdict stands"),
        "{stderr}"
    );
}

#[test]
fn a_rerun_removes_the_files_of_its_set_it_no_longer_has() {
    let dir = tempfile::tempdir().expect("temp dir");
    let load = |extra: &[&str]| {
        fogg()
            .args(["load", "ecommerce-funnel", "--duration", "1s", "--grace", "1s", "--quiet", "--out"])
            .arg(dir.path())
            .args(extra)
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .expect("runs")
    };
    load(&["--threshold", "error_rate < 100%"]);
    let junit = dir.path().join("load-ecommerce-funnel.junit.xml");
    assert!(junit.exists(), "a run with thresholds writes its JUnit verdict");
    let request_hgrm = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter(|e| e.as_ref().expect("entry").file_name().to_string_lossy().ends_with(".hgrm"))
        .count();
    assert!(request_hgrm > 1, "per-request latency files");
    // A shard's files of the same stem are not this run's to remove.
    let shard = dir.path().join("load-ecommerce-funnel.shard-1-of-2.hgrm");
    std::fs::write(&shard, "kept").expect("write");
    load(&[]);
    assert!(!junit.exists(), "no stale verdict beside a result without thresholds");
    assert!(shard.exists());
}

#[test]
fn validate_prints_the_model() {
    let run = fogg().args(["validate", "campaign-launch"]).assert().success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(stdout.contains("scenarios/campaign-launch.toml: valid"), "{stdout}");
    assert!(stdout.contains("conversion rate (at least once)"), "{stdout}");
    assert!(stdout.contains("landing_page"), "{stdout}");
}

#[test]
fn every_bundled_scenario_file_matches_its_bundled_copy() {
    for (name, text) in fogg_scenario::BUNDLED {
        let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let on_disk = std::fs::read_to_string(&path).expect("scenario file exists");
        assert_eq!(&on_disk, text, "{path}");
        fogg().args(["validate", &path]).assert().success();
    }
}

#[test]
fn the_readme_example_scenario_is_valid() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    // The first TOML block that is a whole scenario (others are fragments).
    let opening = "```toml\n[scenario]\n";
    let start = readme.find(opening).expect("README has a TOML example") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("closed block");
    let model =
        fogg_scenario::from_str(&readme[start..end], "README.md").expect("README example is valid").model;
    assert_eq!(model.name, "Small shop");
    let exact = model.exact();
    // social → product 8% → checkout 20/(20+55) of each exit from the product loop.
    assert!((exact.conversion_rate - 0.08 * 20.0 / 75.0).abs() < 1e-12, "{}", exact.conversion_rate);
}

#[test]
fn values_are_checked_before_any_work() {
    let out = tempfile::tempdir().expect("temp dir");
    let rejected = |args: &[&str], expected: &str| {
        let run = fogg().args(args).arg("--out").arg(out.path()).assert().code(2);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(stderr.contains(expected), "{args:?}: '{expected}' not in\n{stderr}");
    };
    rejected(&["load", "--target", "ftp://127.0.0.1:1/", "--duration", "1s"], "use http:// or https://");
    rejected(&["load", "--rate", "0"], "must be a number above 0");
    // Credentials in the address: refused, and never echoed.
    // Without a scheme too: read as http://, and refused before any note.
    for target in
        ["http://admin:s3cret@127.0.0.1:1/", "http://s3cret@127.0.0.1:1/", "admin:s3cret@127.0.0.1:1"]
    {
        let run = fogg()
            .args(["load", "--duration", "1s", "--target", target])
            .arg("--out")
            .arg(out.path())
            .assert();
        let stderr = String::from_utf8_lossy(&run.code(2).get_output().stderr).into_owned();
        assert!(stderr.contains("--target holds credentials (user:pass@)"), "{stderr}");
        assert!(!stderr.contains("s3cret"), "the secret is never printed: {stderr}");
    }
    rejected(&["capacity", "--max-rate", "NaN", "--threshold", "p99 < 1s"], "must be a number above 0");
    rejected(&["attribute", "--paths", "x.csv", "--separator", ";;"], "is not a column separator");
    // Values too large to run are refused, not a panic or an endless run.
    rejected(&["load", "--duration", "1e300s"], "at most 100 years");
    rejected(
        &["load", "--demo-capacity", "1e308", "--duration", "1s"],
        "at most 1000000 requests per second (got 1e308)",
    );
    rejected(&["capacity", "--demo-latency", "1e308", "--threshold", "p99 < 1s"], "at most 60000 ms");
    rejected(&["load", "--rate", "1e9", "--duration", "1s"], "sends at most 100000");
    // At most 4 threads per core, whatever the command.
    let most = 4 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let limit = format!("a whole number from 1 to {most} (4 per core");
    rejected(&["simulate", "--threads", "0"], &format!("'0' is not a thread count: give {limit}"));
    rejected(&["whatif", "--threads", &(most + 1).to_string()], &limit);
    rejected(&["load", "--threads", "1024", "--duration", "1s"], &limit);
    rejected(&["simulate", "--seed", "abc"], "'abc' is not a seed");
    for (scenario, expected) in
        [("retail-omnichanel", "(did you mean 'retail-omnichannel'?)"), ("src", "'src' is a folder")]
    {
        let run = fogg().args(["validate", scenario]).assert().code(2);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(stderr.contains(expected) && stderr.lines().count() == 1, "{stderr}");
    }
    rejected(&["load", "--rate", "60000", "--rate-scale", "2", "--duration", "1s"], "would reach 120000");
    rejected(&["capacity", "--max-rate", "1e6", "--threshold", "p99 < 1s"], "one fogg process sends");
    // A format the result cannot have is refused before the simulation,
    // and a JUnit verdict with no threshold behind it before the load run.
    let documents = "[possible values: table, json, md, html]";
    rejected(&["simulate", "-n", "100M", "--format", "junit"], documents);
    rejected(&["whatif", "--format", "hgrm"], documents);
    rejected(&["capacity", "--format", "junit", "--threshold", "p99 < 1s"], documents);
    rejected(&["load", "--format", "junit", "--duration", "60s"], "this run has none");
    assert!(std::fs::read_dir(out.path()).expect("out").next().is_none(), "nothing ran, nothing was written");
}

#[test]
fn completions_and_manual_pages_describe_every_command() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef fogg"), ("fish", "complete -c fogg")] {
        let run = fogg().args(["completions", shell]).assert().success();
        let script = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
        assert!(script.contains(marker), "{shell}: no '{marker}'");
        for command in ["simulate", "whatif", "load", "capacity", "merge"] {
            assert!(script.contains(command), "{shell} completion lacks {command}");
        }
    }
    let run = fogg().arg("man").assert().success();
    let page = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(page.starts_with(".ie") || page.contains(".TH fogg"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains("simulate") && page.contains("capacity"));
    let dir = tempfile::tempdir().expect("temp dir");
    fogg().arg("man").arg(dir.path()).assert().success();
    for page in ["fogg.1", "fogg-simulate.1", "fogg-load.1", "fogg-whatif.1"] {
        assert!(dir.path().join(page).exists(), "{page} written");
    }
}

#[test]
fn no_output_option_overwrites_an_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("self.toml");
    let original =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/ecommerce-funnel.toml"))
            .expect("bundled");
    std::fs::write(&scenario, &original).expect("write");
    let refused = |args: Vec<std::ffi::OsString>| {
        let run = fogg().args(args).current_dir(dir.path()).assert().code(2);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(stderr.contains("which this run reads or writes"), "{stderr}");
    };
    let os = |words: &[&str]| words.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
    // The scenario by another path, and the run's own JSON report.
    refused(os(&["simulate", "self.toml", "-n", "1000", "--export-paths", "./self.toml", "--out", "."]));
    refused(os(&[
        "simulate",
        "self.toml",
        "-n",
        "1000",
        "--export-paths",
        "simulate-self.json",
        "--out",
        ".",
    ]));
    assert_eq!(std::fs::read_to_string(&scenario).expect("read"), original, "the scenario is untouched");
    // fit onto its input, merge onto a shard.
    refused(os(&["fit", "self.toml", "-o", "self.toml", "--out", "."]));
    refused(os(&["merge", "self.toml", "-o", "self.toml", "--out", "."]));
    assert_eq!(std::fs::read_to_string(&scenario).expect("read"), original, "the scenario is untouched");
}

/// `fogg … 2>&1 | head` closes stderr early: lines nobody can read are
/// lost, the run is not (no panic, the exit code of the run), and the
/// reports are written.
#[test]
fn a_closed_stderr_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = || {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        writer
    };
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .args(["simulate", "-n", "1000", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(closed())
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(0));
    assert!(dir.path().join("simulate-retail-omnichannel.json").exists());
    // A failing run keeps its exit code though its error cannot be shown.
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .args(["simulate", "no-such-scenario"])
        .stderr(closed())
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(2));
}

/// A segmented scenario: validate shows the transitions the file writes,
/// not one segment's, and a what-if note averages the segments by share.
#[test]
fn validate_and_whatif_notes_speak_for_the_whole_file() {
    // The two pages, with a segment that favours the product page.
    let pages = crate::SHORT_JOURNEYS.split("[load]").next().expect("the journeys");
    let text = format!(
        "{pages}[[segment]]\nid = \"keen\"\nshare = 0.5\nstate_multiplier = {{ product = 3.0 }}\n[[segment]]\nid = \"plain\"\nshare = 0.5\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("two.toml"), text).expect("write");
    let run = fogg().current_dir(dir.path()).args(["validate", "two.toml"]).assert().success();
    let out = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    // The file's 6 : 4, not segment keen's 18 : 4.
    let home = out.lines().find(|l| l.trim_start().starts_with("home")).expect("home row");
    assert!(home.contains("product 60.00%, exit 40.00%"), "{out}");

    // Set home → buy to a value every segment can take.
    let run = fogg()
        .current_dir(dir.path())
        .args([
            "whatif",
            "two.toml",
            "-n",
            "1000",
            "--change",
            "transition home -> product =0.9",
            "--out",
            ".",
        ])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    // Before: 0.5 × 18/22 + 0.5 × 60% = 70.9%; after: 90% in both.
    assert!(out.contains("home → product: 70.9% → 90.0% (segments averaged by share)"), "{out}");
}

/// Report files never replace what a run reads or writes: `fit -o
/// o/fit-p.json --out o` would have put the report over the fitted
/// scenario, and `merge mm/load-two-pages.json --out mm` over its own
/// input. Both are refused before any work, and the files stay as they
/// were.
#[test]
fn reports_never_replace_an_input_or_the_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = dir.path().join("p.csv");
    std::fs::write(
        &paths,
        "path;total_conversions;total_conversion_value;total_null\na > b;3;30;2\nb;1;10;5\n",
    )
    .expect("write");
    let fitted = dir.path().join("fit-p.json");
    let run =
        fogg().arg("fit").arg(&paths).arg("-o").arg(&fitted).arg("--out").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("-o/--output") && stderr.contains("is one of the report files"), "{stderr}");
    assert!(!fitted.exists(), "nothing written");

    let shard = dir.path().join("load-two-pages.json");
    let fixture = crate::reports::here("fixtures/load-two-pages.json");
    std::fs::copy(&fixture, &shard).expect("copy");
    let before = std::fs::read(&shard).expect("read");
    let run = fogg().arg("merge").arg(&shard).arg("--out").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("the shard") && stderr.contains("is one of the report files"), "{stderr}");
    assert_eq!(std::fs::read(&shard).expect("read"), before, "the input is unchanged");
    // Another folder is fine.
    fogg().arg("merge").arg(&shard).arg("--out").arg(dir.path().join("merged")).assert().success();
}
