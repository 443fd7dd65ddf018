//! `fogg fit`: a known chain recovered from its exported paths, event logs
//! fitted without leaking who was in them, and bad input named by row.

use fogg_model::ChannelId;
use fogg_model::alias::EXIT;

use crate::fogg;

/// One state per channel, and a checkout that converts.
const KNOWN: &str = r#"
[scenario]
name = "known chain"
[[channel]]
id = "a"
kind = "online"
[[channel]]
id = "b"
kind = "online"
[[channel]]
id = "c"
kind = "offline"
[[channel]]
id = "checkout"
kind = "online"
[entry]
a = 0.6
b = 0.4
[[state]]
id = "a"
stage = "awareness"
channel = "a"
next = { b = 0.3, c = 0.2, exit = 0.5 }
[[state]]
id = "b"
stage = "consideration"
channel = "b"
next = { a = 0.1, c = 0.4, buy = 0.1, exit = 0.4 }
[[state]]
id = "c"
stage = "consideration"
channel = "c"
next = { buy = 0.3, b = 0.1, exit = 0.6 }
[[state]]
id = "buy"
stage = "purchase"
channel = "checkout"
conversion = true
value = { dist = "constant", value = 50.0 }
next = { exit = 1 }
"#;

fn probability(model: &fogg_model::Model, from: &str, to: Option<&str>) -> f64 {
    let i = model.state_id(from).unwrap().0 as usize;
    let target = to.map_or(EXIT, |t| model.state_id(t).unwrap().0);
    model.segments[0].chain.next[i].iter().find(|(t, _)| *t == target).map_or(0.0, |(_, p)| *p)
}

/// Simulates `customers` of [`KNOWN`] into `DIR/paths.csv`, fits them
/// with `fit_args` into `DIR/fitted.toml`, and returns the fit's JSON
/// report and the fitted file.
fn fit_known(
    dir: &std::path::Path,
    customers: &str,
    fit_args: &[&str],
) -> (serde_json::Value, std::path::PathBuf) {
    let scenario = dir.join("known.toml");
    std::fs::write(&scenario, KNOWN).unwrap();
    let paths = dir.join("paths.csv");
    let fitted = dir.join("fitted.toml");
    fogg()
        .arg("simulate")
        .arg(&scenario)
        .args(["-n", customers, "--out"])
        .arg(dir)
        .arg("--export-paths")
        .arg(&paths)
        .assert()
        .success();
    let run = fogg()
        .arg("fit")
        .arg(&paths)
        .arg("-o")
        .arg(&fitted)
        .args(fit_args)
        .args(["--format", "json", "--out"])
        .arg(dir)
        .assert()
        .success();
    (serde_json::from_slice(&run.get_output().stdout).expect("JSON"), fitted)
}

#[test]
fn fitting_exported_paths_recovers_the_chain_and_its_removal_effects() {
    let dir = tempfile::tempdir().unwrap();
    let (report, fitted) = fit_known(dir.path(), "400k", &[]);
    let v = crate::schema::schema_validator("fit");
    assert_eq!(crate::schema::errors(&v, &report), Vec::<String>::new());
    assert_eq!(report["input"], "paths");
    assert!(
        report["length_distance"].as_f64().unwrap() < 0.01,
        "a first-order chain fits its own paths: {report}"
    );
    assert!(dir.path().join("fit-paths.html").exists());

    let truth = fogg_scenario::from_str(KNOWN, "known.toml").unwrap().model;
    let model = fogg_scenario::from_path(&fitted).expect("the fitted scenario compiles").model;
    // Transitions between channels: within 4 binomial standard errors of
    // the truth, given how often each state was left.
    let left = |state: &str| -> f64 {
        // Moves observed out of a state, from the comment above its row.
        let text = std::fs::read_to_string(&fitted).unwrap();
        let block = text
            .split("[[state]]")
            .skip(1)
            .find(|b| b.contains(&format!("id = \"{state}\"")))
            .unwrap()
            .to_owned();
        let line = block.lines().find(|l| l.contains("moves out of this state observed")).unwrap().to_owned();
        line.trim_start_matches("# ").split(' ').next().unwrap().parse().unwrap()
    };
    for (from, to) in [
        ("a", Some("b")),
        ("a", Some("c")),
        ("a", None),
        ("b", Some("a")),
        ("b", Some("c")),
        ("c", Some("b")),
        ("c", None),
    ] {
        let p = probability(&truth, from, to);
        let q = probability(&model, from, to);
        let se = (p * (1.0 - p) / left(from)).sqrt();
        assert!((p - q).abs() < 4.0 * se, "{from} → {to:?}: fitted {q:.4}, true {p:.4} (se {se:.4})");
    }
    // In the fitted model a conversion is the checkout touch followed by
    // its conversion state: b → checkout carries b → buy.
    let p = probability(&truth, "b", Some("buy"));
    let q = probability(&model, "b", Some("checkout"));
    assert!((p - q).abs() < 4.0 * (p * (1.0 - p) / left("b")).sqrt(), "b → buy {p} vs {q}");

    // Removal effects, exact on each chain, agree within sampling error.
    let p_true = truth.exact().conversion_rate;
    let p_fit = model.exact().conversion_rate;
    let conversions = 400_000.0 * p_true;
    let tolerance = 4.0 / conversions.sqrt();
    assert!((p_true - p_fit).abs() / p_true < tolerance, "conversion {p_fit} vs {p_true}");
    for name in ["a", "b", "c"] {
        let effect = |m: &fogg_model::Model, p: f64| {
            let c: ChannelId = m.channel_id(name).unwrap();
            1.0 - m.conversion_rate_without(c) / p
        };
        let (t, f) = (effect(&truth, p_true), effect(&model, p_fit));
        assert!((t - f).abs() < tolerance, "removal effect of {name}: fitted {f:.4}, true {t:.4}");
    }
    // The fitted scenario runs in simulate and whatif.
    fogg().arg("simulate").arg(&fitted).args(["-n", "10k", "--out"]).arg(dir.path()).assert().success();
    fogg()
        .arg("whatif")
        .arg(&fitted)
        .args(["-n", "10k", "--change", "remove a", "--out"])
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn an_event_log_fits_with_stages_dwell_and_values_and_leaks_no_customer() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.csv");
    let mut text = String::from("customer_id,timestamp,channel,stage,conversion_value\n");
    for i in 0..300u32 {
        let id = format!("secret-customer-{i:04}");
        let day = 1 + i % 27;
        text.push_str(&format!("{id},2026-03-{day:02}T09:00:00Z,google.com,awareness,\n"));
        text.push_str(&format!("{id},2026-03-{day:02}T09:{:02}:00Z,web,consideration,\n", 5 + i % 50));
        if i % 3 == 0 {
            text.push_str(&format!("{id},2026-03-{day:02}T11:00:00Z,web,purchase,{}.5\n", 40 + i % 60));
        } else if i % 3 == 1 {
            text.push_str(&format!("{id},2026-03-{day:02}T18:00:00+01:00,store,consideration,\n"));
        }
    }
    std::fs::write(&log, &text).unwrap();
    let fitted = dir.path().join("fitted.toml");
    let run =
        fogg().arg("fit").arg(&log).arg("-o").arg(&fitted).arg("--out").arg(dir.path()).assert().success();
    let report = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    assert!(report.contains("33.33%"), "data conversion rate 100/300: {report}");
    let written = std::fs::read_to_string(&fitted).unwrap();
    assert!(
        !written.contains("secret-customer") && !written.contains("2026-03"),
        "no id or timestamp: {written}"
    );
    assert!(written.contains(r#"stages = ["awareness", "consideration", "purchase"]"#), "{written}");
    assert!(written.contains("dwell = { dist = \"lognormal\""), "dwell fitted from gaps: {written}");
    assert!(written.contains("value = { dist = \"lognormal\""), "values fitted: {written}");
    // A channel with a dot is one quoted key, never a dotted path.
    assert!(written.contains("\n\"awareness_google.com\" = 300\n"), "quoted entry key: {written}");
    // Durations read as people write them, not tens of thousands of seconds.
    let dwells: Vec<&str> = written.lines().filter(|l| l.starts_with("dwell = ")).collect();
    assert!(
        !dwells.is_empty() && dwells.iter().all(|l| l.contains("min\"") || l.contains("h\"")),
        "{dwells:?}"
    );
    let model = fogg_scenario::from_path(&fitted).unwrap().model;
    assert!((model.exact().conversion_rate - 1.0 / 3.0).abs() < 1e-9);
    // Its [load] section drives the demo shop without an error.
    let run = fogg()
        .arg("load")
        .arg(&fitted)
        .args(["--duration", "2s", "--grace", "2s", "--rate", "20", "--format", "json", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let result: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    assert!(result["requests"].as_u64().unwrap() > 0);
    assert_eq!(result["error_rate"], 0.0, "{}", result["errors"]);
}

#[test]
fn bad_inputs_get_errors_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let header = "path;total_conversions;total_conversion_value;total_null\n";
    // One more distinct channel than a scenario holds: refused at its row,
    // before anything grows with it.
    let channels: String = (0..300).map(|i| format!("c{i};1;1;1\n")).collect();
    let channels = format!("{header}{channels}");
    let stages: String = (0..70).map(|i| format!("u{i},{},web,s{i}\n", 1000 + i)).collect();
    let stages = format!("customer_id,timestamp,channel,stage\n{stages}");
    let zeros = format!("{header}a > b;0;0;0\nb;0;0;0\n");
    let cases = [
        (channels.as_str(), "line 257: 'c255' is distinct channel number 256, and fogg models at most 255"),
        (stages.as_str(), "line 66: 's64' would be stage number 65, and a scenario holds at most 64"),
        (zeros.as_str(), "holds no journey to fit"),
        // What the mutation test found: nothing fit writes may fail to compile.
        (
            &format!("{header}a;5;1e308;0\n") as &str,
            "line 2: total_conversion_value is 1e308, more than fogg reads",
        ),
        (&format!("{header}a;5;1e11;0\n"), "line 2: 20000000000 per conversion is beyond the largest value"),
        (
            &format!("{header}a;1e308;0;0\nb;1e308;0;0\n"),
            "line 2: total_conversions is 1e308, more than fogg reads",
        ),
        ("customer_id,channel\n1,web\n", "no 'timestamp' column"),
        (
            "customer_id,timestamp,channel\n1,2026-03-01,web\n2,soon,web\n",
            "line 3: timestamp 'soon' is not a date-time",
        ),
        (
            "path;total_conversions;total_conversion_value;total_null\na;-2;0;1\n",
            "line 2: total_conversions is -2",
        ),
        (
            "path;total_conversions;total_conversion_value;total_null\n;1;0;1\n",
            "line 2: the path '' names no channel",
        ),
        (
            "path;total_conversions\na > b;1\n",
            "has no total_null column: a fit needs the journeys that did not convert",
        ),
        ("when,where\n1,2\n", "neither a path file"),
    ];
    for (k, (text, expected)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{k}.csv"));
        std::fs::write(&file, text).unwrap();
        let run = fogg()
            .arg("fit")
            .arg(&file)
            .arg("-o")
            .arg(dir.path().join("x.toml"))
            .arg("--out")
            .arg(dir.path())
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
        assert!(err.contains(expected) && err.contains(&format!("bad{k}.csv")), "{expected}: {err}");
    }
}

#[test]
fn a_fitted_scenario_says_how_sure_its_answers_are() {
    let dir = tempfile::tempdir().unwrap();
    let (report, fitted) = fit_known(dir.path(), "20k", &["--intervals", "400"]);
    assert_eq!(crate::schema::errors(&crate::schema::schema_validator("fit"), &report), Vec::<String>::new());
    assert_eq!(report["intervals"], 400);
    let [lo, hi] = [0, 1].map(|i| report["model_conversion_rate_ci95"][i].as_f64().unwrap());
    let fitted_rate = report["model_conversion_rate"].as_f64().unwrap();
    let true_rate = fogg_scenario::from_str(KNOWN, "known.toml").unwrap().model.exact().conversion_rate;
    assert!(lo < fitted_rate && fitted_rate < hi, "{lo} < {fitted_rate} < {hi}");
    assert!(lo < true_rate && true_rate < hi, "{lo} < {true_rate} < {hi}");
    // About ±1.96 binomial standard errors of 20,000 journeys.
    let se = (true_rate * (1.0 - true_rate) / 20_000.0).sqrt();
    assert!(
        ((hi - lo) / (2.0 * 1.96 * se) - 1.0).abs() < 0.25,
        "width {} against {}",
        hi - lo,
        2.0 * 1.96 * se
    );
    assert!(std::fs::read_to_string(&fitted).unwrap().contains("weights = \"counts\""));

    // What-if on it: the data's intervals beside the simulation's, the
    // exact difference inside its own.
    let run = fogg()
        .arg("whatif")
        .arg(&fitted)
        .args(["--change", "remove c", "-n", "50k", "--format", "json", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let whatif: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    assert_eq!(
        crate::schema::errors(&crate::schema::schema_validator("whatif"), &whatif),
        Vec::<String>::new()
    );
    let change = &whatif["strategies"][1];
    let data = &change["data_ci95"];
    assert_eq!(data["draws"], 400, "{change}");
    let exact = change["exact_delta_conversions"].as_f64().unwrap();
    let [lo, hi] = [0, 1].map(|i| data["delta_conversions"][i].as_f64().unwrap());
    assert!(lo < exact && exact < hi && hi < 0.0, "removing c loses conversions: {lo} < {exact} < {hi}");
    assert!(whatif["strategies"][0]["data_ci95"]["conversions"].is_array());
}
