//! `fogg attribute --paths`: exact removal effects on the textbook case,
//! the JSON contract, the ChannelAttribution path format (as `fogg simulate
//! --export-paths` writes it), and bad path files named by row.

use serde_json::Value;

use crate::fogg;

const HEADER: &str = "path;total_conversions;total_conversion_value;total_null\n";

fn attribute_json(dir: &std::path::Path, text: &str) -> Value {
    attribute_json_with(dir, text, &[])
}

/// `fogg attribute --paths FILE ARGS…` on `text`, its JSON.
fn attribute_json_with(dir: &std::path::Path, text: &str, args: &[&str]) -> Value {
    let file = dir.join("paths.csv");
    std::fs::write(&file, text).expect("write");
    let run = fogg()
        .args(["attribute", "--format", "json", "--paths"])
        .arg(&file)
        .args(args)
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
    serde_json::from_slice(&run.get_output().stdout).expect("JSON")
}

/// Removal effects by channel name.
fn effects(v: &Value) -> Vec<(String, f64)> {
    let mut e: Vec<(String, f64)> = v["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .map(|c| {
            (c["channel"].as_str().expect("name").to_owned(), c["removal_effect"].as_f64().expect("effect"))
        })
        .collect();
    e.sort_by(|a, b| a.0.cmp(&b.0));
    e
}

fn channel<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["channels"].as_array().expect("channels").iter().find(|c| c["channel"] == name).expect("channel")
}

#[test]
fn the_textbook_case_is_exact_and_follows_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let v = attribute_json(dir.path(), &format!("{HEADER}C1 > C2 > C3;1;100;0\nC1;0;0;1\nC2 > C3;0;0;1\n"));
    let schema = crate::schema::schema_validator("attribute");
    assert_eq!(crate::schema::errors(&schema, &v), Vec::<String>::new());
    assert!((v["conversion_probability"].as_f64().expect("p") - 1.0 / 3.0).abs() < 1e-12);
    for (name, effect, share) in [("C1", 0.5, 0.2), ("C2", 1.0, 0.4), ("C3", 1.0, 0.4)] {
        let c = channel(&v, name);
        assert!((c["removal_effect"].as_f64().expect("effect") - effect).abs() < 1e-12, "{c}");
        assert!((c["share"].as_f64().expect("share") - share).abs() < 1e-12, "{c}");
        assert!((c["attributed_value"].as_f64().expect("value") - 100.0 * share).abs() < 1e-9, "{c}");
    }
    assert_eq!(channel(&v, "C1")["first_touch"], 1.0);
    assert_eq!(channel(&v, "C3")["last_touch"], 1.0);
    assert!(dir.path().join("attribute-paths.md").exists());
    assert_eq!(v["order"], 1);

    // Order 2 remembers where B was reached from: after A it converts,
    // after C it never does, so C earns nothing.
    let file = dir.path().join("history.csv");
    std::fs::write(&file, format!("{HEADER}A > B;10;100;0\nC > B;0;0;10\n")).expect("write");
    let run = fogg()
        .args(["attribute", "--order", "2", "--format", "json", "--paths"])
        .arg(&file)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    assert_eq!(v["order"], 2);
    assert_eq!(channel(&v, "C")["removal_effect"], 0.0);
    assert_eq!(channel(&v, "A")["removal_effect"], 1.0);
}

#[test]
fn exported_paths_attribute_every_conversion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("export.csv");
    fogg()
        .args(["simulate", "-n", "50k", "--export-paths"])
        .arg(&export)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(&export).expect("export");
    let v = attribute_json(dir.path(), &text);
    let total = v["conversions"].as_f64().expect("conversions");
    let sum = |key: &str| -> f64 {
        v["channels"].as_array().expect("channels").iter().map(|c| c[key].as_f64().expect(key)).sum()
    };
    for key in ["attributed_conversions", "first_touch", "last_touch", "linear_touch"] {
        assert!((sum(key) - total).abs() < 1e-6 * total.max(1.0), "{key}: {} vs {total}", sum(key));
    }
    assert!((sum("share") - 1.0).abs() < 1e-9);
}

#[test]
fn bad_path_files_are_named_by_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.csv");
    let err = |text: &str| {
        std::fs::write(&file, text).expect("write");
        let run = fogg().args(["attribute", "--paths"]).arg(&file).assert().code(2);
        String::from_utf8_lossy(&run.get_output().stderr).into_owned()
    };
    let e = err("path;conversions\na;1\n");
    assert!(e.contains("bad.csv") && e.contains("no 'total_conversions' column"), "{e}");
    assert!(err(&format!("{HEADER}a;1;0;0\nb;-2;0;0\n")).contains("line 3: total_conversions is -2"));
    assert!(
        err(&format!("{HEADER}a;1;x;0\n")).contains("line 2: total_conversion_value 'x' is not a number")
    );
    assert!(err(&format!("{HEADER};1;0;0\n")).contains("line 2: the path '' names no channel"));
    let e = err(&format!("{HEADER}a | b;1;0;0\nb;0;0;1\n"));
    assert!(e.contains("the channel 'a | b' holds '|'") && e.contains("--channel-separator '|'"), "{e}");
    assert!(err(&format!("{HEADER}a;0;0;4\n")).contains("nothing to attribute"));
}

#[test]
fn a_scenario_is_attributed_by_its_own_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args(["attribute", "campaign-launch", "-n", "100k", "--format", "json", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    let schema = crate::schema::schema_validator("attribute");
    assert_eq!(crate::schema::errors(&schema, &v), Vec::<String>::new());
    let model = crate::bundled("campaign-launch");
    let p = model.exact().conversion_rate;
    assert!((v["conversion_probability"].as_f64().expect("p") - p).abs() < 1e-12);
    for (c, ch) in model.channels.iter().enumerate() {
        let exact = 1.0 - model.conversion_rate_without(fogg_model::ChannelId(c as u8)) / p;
        let row = channel(&v, &ch.id);
        assert!((row["removal_effect"].as_f64().expect("effect") - exact.max(0.0)).abs() < 1e-12, "{row}");
        assert!(row["fitted_removal_effect"].as_f64().is_some(), "the fitted estimate stands beside it");
    }
    // A scenario and a path file are two questions: not both at once.
    fogg().args(["attribute", "campaign-launch", "--paths", "x.csv"]).assert().code(2);
}

#[test]
fn simulated_removal_effects_cross_check_the_exact_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("export.csv");
    fogg()
        .args(["simulate", "-n", "100k", "--export-paths"])
        .arg(&export)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let run = fogg()
        .args(["attribute", "--simulate", "1M", "--format", "json", "--paths"])
        .arg(&export)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    let schema = crate::schema::schema_validator("attribute");
    assert_eq!(crate::schema::errors(&schema, &v), Vec::<String>::new());
    assert_eq!(v["simulated_journeys"], 1_000_000);
    for c in v["channels"].as_array().expect("channels") {
        let exact = c["removal_effect"].as_f64().expect("exact");
        let sim = c["simulated_removal_effect"].as_f64().expect("simulated");
        let se = c["simulated_removal_effect_se"].as_f64().expect("se").max(1e-6);
        assert!((sim - exact).abs() < 4.0 * se, "{}: simulated {sim} ± {se}, exact {exact}", c["channel"]);
    }
}

/// `--no-null` (ChannelAttribution's `var_null = None`) is the same file
/// with every total_null 0, and says so; a file without the column reads
/// as it. The package (2.2.5, `max_step` large enough not to cut paths)
/// gave these removal effects within its simulation's error: see
/// docs/attribution.md.
#[test]
fn no_null_leaves_out_the_journeys_that_did_not_convert() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = [("a > b > c", 30, 300, 20), ("a > c", 10, 150, 40), ("b", 5, 20, 50), ("c > a", 8, 80, 10)];
    let file = |nulls: bool| {
        let body: String =
            rows.iter().map(|(p, c, v, n)| format!("{p};{c};{v};{}\n", if nulls { *n } else { 0 })).collect();
        format!("{HEADER}{body}")
    };
    let no_null = attribute_json_with(dir.path(), &file(true), &["--no-null"]);
    let zeros = attribute_json(dir.path(), &file(false));
    let with_nulls = attribute_json(dir.path(), &file(true));
    assert_eq!(no_null["nulls_counted"], false);
    assert_eq!(with_nulls["nulls_counted"], true);
    assert_eq!(effects(&no_null), effects(&zeros));
    assert_ne!(effects(&no_null), effects(&with_nulls));
    let short: String = rows.iter().map(|(p, c, _, _)| format!("{p};{c}\n")).collect();
    let missing = attribute_json(dir.path(), &format!("path;total_conversions\n{short}"));
    assert_eq!(missing["nulls_counted"], false);
    assert_eq!(effects(&missing), effects(&zeros));
    let md = std::fs::read_to_string(dir.path().join("attribute-paths.md")).expect("markdown report");
    assert!(md.contains("journeys that did not convert are left out"), "{md}");
}

/// `--channel-separator`: a path file written with '|' between channels
/// attributes as the same file with '>'.
#[test]
fn a_channel_separator_of_the_file_s_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = "a > b > c;30;300;20\na > c;10;150;40\nb;5;20;50\n";
    let arrows = attribute_json(dir.path(), &format!("{HEADER}{rows}"));
    let pipes = attribute_json_with(
        dir.path(),
        &format!("{HEADER}{}", rows.replace('>', "|")),
        &["--channel-separator", "|"],
    );
    assert_eq!(effects(&pipes), effects(&arrows));
    assert_eq!(effects(&pipes).len(), 3);
}

/// The package's conventions by default: order-k states keep repeats,
/// `--max-steps auto` cuts where the package does, and value is credited
/// by value removal effects; `--collapse-repeats` gives fogg's former
/// states.
#[test]
fn the_package_s_states_cut_and_value_by_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Kept repeats tell [a a] from [b a] and [c a] (see the unit test).
    let file = format!("{HEADER}b > a > a;1;10;0\nb > a;0;0;1\nc > a;1;90;0\nc > a > a;0;0;1\n");
    let close = |v: &Value, want: &[(&str, f64)]| {
        let got = effects(v);
        assert!(
            got.iter().zip(want).all(|((n, e), (m, w))| n == m && (e - w).abs() < 1e-12),
            "{got:?} vs {want:?}"
        );
    };
    let kept = attribute_json_with(dir.path(), &file, &["--order", "2"]);
    assert_eq!(kept["collapse_repeats"], false);
    close(&kept, &[("a", 1.0), ("b", 0.25), ("c", 0.75)]);
    let md = std::fs::read_to_string(dir.path().join("attribute-paths.md")).expect("markdown report");
    assert!(md.contains("repeats kept, as ChannelAttribution's"), "{md}");
    let collapsed = attribute_json_with(dir.path(), &file, &["--order", "2", "--collapse-repeats"]);
    assert_eq!(collapsed["collapse_repeats"], true);
    close(&collapsed, &[("a", 1.0), ("b", 0.5), ("c", 0.5)]);

    // b > a > a walks two states at order 2: auto cuts after 3.
    let auto = attribute_json_with(dir.path(), &file, &["--order", "2", "--max-steps", "auto"]);
    assert_eq!((auto["max_steps"].as_u64(), auto["max_steps_auto"].as_bool()), (Some(3), Some(true)));
    let md = std::fs::read_to_string(dir.path().join("attribute-paths.md")).expect("markdown report");
    assert!(md.contains("cut after 3 states and count as null: --max-steps auto"), "{md}");

    // Values: b's conversion is worth 10, c's 90, so value credits c more
    // than conversions do, and the values add up to the total.
    let schema = crate::schema::schema_validator("attribute");
    assert_eq!(crate::schema::errors(&schema, &kept), Vec::<String>::new());
    let (b, c) = (channel(&kept, "b"), channel(&kept, "c"));
    let value_effect = |c: &Value| c["value_removal_effect"].as_f64().expect("a value removal effect");
    assert!(value_effect(c) > c["removal_effect"].as_f64().expect("effect"), "{c}");
    assert!(value_effect(b) < b["removal_effect"].as_f64().expect("effect"), "{b}");
    let total: f64 = kept["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .map(|c| c["attributed_value"].as_f64().expect("value"))
        .sum();
    assert!((total - 100.0).abs() < 1e-9, "{total}");

    for bad in ["0", "soon", "-3"] {
        let run = fogg()
            .args(["attribute", "--paths"])
            .arg(dir.path().join("paths.csv"))
            .arg(format!("--max-steps={bad}"))
            .assert()
            .failure();
        let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(err.contains("is not a step limit") && err.contains("'auto'"), "{err}");
    }
}

/// Every model credits every conversion and every unit of value; Shapley
/// is exact on the textbook case; the rules take their options, and bad
/// ones are refused with the fix.
#[test]
fn every_model_credits_every_conversion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let textbook = format!("{HEADER}C1 > C2 > C3;1;100;0\nC1;0;0;1\nC2 > C3;0;0;1\n");
    let v = attribute_json(dir.path(), &textbook);
    // Only {C2, C3} (1/6) and all three (1/3) convert: C1 is worth 1/18,
    // C2 and C3 5/36 each; shares 1/6, 5/12, 5/12 of the one conversion.
    for (name, phi, conversions) in
        [("C1", 1.0 / 18.0, 1.0 / 6.0), ("C2", 5.0 / 36.0, 5.0 / 12.0), ("C3", 5.0 / 36.0, 5.0 / 12.0)]
    {
        let c = channel(&v, name);
        assert!((c["shapley"].as_f64().expect("shapley") - phi).abs() < 1e-12, "{c}");
        assert!((c["shapley_conversions"].as_f64().expect("credit") - conversions).abs() < 1e-12, "{c}");
        assert!((c["shapley_value"].as_f64().expect("value") - 100.0 * conversions).abs() < 1e-9, "{c}");
    }

    let file = format!(
        "{HEADER}search > Direct > email > web;30;3000;20\nDirect > Direct;5;250;10\nsocial > web;12;600;40\nemail;3;90;30\nweb > Direct;4;400;9\n"
    );
    let v = attribute_json(dir.path(), &file);
    assert_eq!(v["direct_channels"], serde_json::json!(["Direct"]), "a channel named direct, in any case");
    let schema = crate::schema::schema_validator("attribute");
    assert_eq!(crate::schema::errors(&schema, &v), Vec::<String>::new());
    let sum = |field: &str| -> f64 {
        v["channels"].as_array().expect("channels").iter().map(|c| c[field].as_f64().expect(field)).sum()
    };
    for model in [
        "attributed",
        "shapley",
        "first_touch",
        "last_touch",
        "linear_touch",
        "position_based",
        "last_non_direct",
    ] {
        let (conversions, value) = match model {
            "attributed" => ("attributed_conversions".to_owned(), "attributed_value".to_owned()),
            "shapley" => ("shapley_conversions".to_owned(), "shapley_value".to_owned()),
            m => (m.to_owned(), format!("{m}_value")),
        };
        assert!((sum(&conversions) - 54.0).abs() < 1e-9, "{model}: {}", sum(&conversions));
        assert!((sum(&value) - 4340.0).abs() < 1e-6, "{model}: {}", sum(&value));
    }
    // Last non-direct: web > Direct credits web; Direct > Direct keeps Direct.
    assert!(
        (channel(&v, "web")["last_non_direct"].as_f64().expect("credit") - (30.0 + 12.0 + 4.0)).abs() < 1e-9
    );
    assert!((channel(&v, "Direct")["last_non_direct"].as_f64().expect("credit") - 5.0).abs() < 1e-9);
    // The U shape: 4 touches give 30% / 20% / 20% / 30% with 30,40,30.
    let u = attribute_json_with(dir.path(), &file, &["--u-shape", "30,40,30", "--direct", "email"]);
    assert_eq!(u["position_based_weights"], serde_json::json!([0.3, 0.4, 0.3]));
    let search = channel(&u, "search")["position_based"].as_f64().expect("credit");
    assert!((search - 0.3 * 30.0).abs() < 1e-9, "{search}");
    // email is direct now: the first path's last non-direct is web anyway,
    // and `email` alone keeps its last touch.
    assert!((channel(&u, "email")["last_non_direct"].as_f64().expect("credit") - 3.0).abs() < 1e-9);
    let md = std::fs::read_to_string(dir.path().join("attribute-paths.md")).expect("markdown report");
    assert!(md.contains("## Conversions by model") && md.contains("30% / 40% / 30%"), "{md}");

    let paths = dir.path().join("paths.csv");
    for (args, message) in [
        (vec!["--u-shape", "50,20,40"], "adding up to 100, e.g. 40,20,40"),
        (
            vec!["--direct", "tv"],
            "--direct 'tv' is not a channel of the paths: they have search, Direct, email, web, social",
        ),
    ] {
        let run = fogg()
            .args(["attribute", "--paths"])
            .arg(&paths)
            .args(&args)
            .arg("--out")
            .arg(dir.path())
            .assert()
            .failure();
        let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

/// `--intervals`: 95% intervals from resampling the journeys, around the
/// point estimates, narrower with more data, and only for a path file.
#[test]
fn intervals_from_resampled_journeys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = [("a > b > c", 30, 20), ("a > c", 10, 40), ("b", 5, 50), ("c > a", 8, 10), ("b > c", 12, 30)];
    let file = |scale: u32| -> String {
        let body: String =
            rows.iter().map(|(p, c, n)| format!("{p};{};0;{}\n", c * scale, n * scale)).collect();
        format!("{HEADER}{body}")
    };
    let width = |v: &Value, name: &str| -> f64 {
        let c = channel(v, name);
        let [low, high] = [0, 1].map(|i| c["removal_effect_interval"][i].as_f64().expect("an interval"));
        let effect = c["removal_effect"].as_f64().expect("effect");
        assert!(low <= effect && effect <= high, "{c}");
        let [s_low, s_high] = [0, 1].map(|i| c["share_interval"][i].as_f64().expect("a share interval"));
        assert!(s_low <= s_high && s_high <= 1.0, "{c}");
        high - low
    };
    let small = attribute_json_with(dir.path(), &file(1), &["--intervals", "200"]);
    assert_eq!(small["interval_resamples"], 200);
    let schema = crate::schema::schema_validator("attribute");
    assert_eq!(crate::schema::errors(&schema, &small), Vec::<String>::new());
    let md = std::fs::read_to_string(dir.path().join("attribute-paths.md")).expect("markdown report");
    assert!(md.contains("95% interval") && md.contains("200 Bayesian-bootstrap resamples"), "{md}");
    // A hundred times the journeys: intervals about ten times narrower.
    let large = attribute_json_with(dir.path(), &file(100), &["--intervals", "200"]);
    for name in ["a", "b", "c"] {
        let (w1, w100) = (width(&small, name), width(&large, name));
        assert!(w100 > 0.0 && w100 < w1 / 5.0, "{name}: {w1} then {w100}");
    }
    let run = fogg().args(["attribute", "--intervals", "50"]).assert().failure();
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(err.contains("--paths"), "{err}");
}

/// `--events`: an event log's customers split into paths after each
/// conversion, every model on them, and time decay by the touches' ages.
#[test]
fn an_event_log_is_attributed_with_time_decay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("events.csv");
    std::fs::write(
        &log,
        "customer_id,timestamp,channel,conversion_value\n\
         ann,2026-03-08,web,\n\
         ann,2026-03-01,email,\n\
         bob,2026-03-02,search,\n\
         ann,2026-03-08,web,90\n\
         ann,2026-03-09,search,\n\
         bob,2026-03-02,store,10\n\
         cid,2026-03-04,search,\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        fogg()
            .args(["attribute", "--format", "json", "--events"])
            .arg(&log)
            .args(args)
            .arg("--out")
            .arg(dir.path())
            .assert()
    };
    let out = run(&["--half-life", "1w"]).success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    let schema = crate::schema::schema_validator("attribute");
    assert_eq!(crate::schema::errors(&schema, &v), Vec::<String>::new());
    // Paths: email > web > web (90), search > store (10), and two
    // journeys of search that did not convert.
    assert_eq!(
        (v["paths"].as_u64(), v["journeys"].as_f64(), v["conversions"].as_f64()),
        (Some(3), Some(4.0), Some(2.0))
    );
    assert_eq!(v["time_decay_half_life_s"], 604_800.0);
    // ann's email is a half-life old: email 1/5 of her conversion, web 4/5.
    let decay = |name: &str| channel(&v, name)["time_decay"].as_f64().expect("time decay");
    for (name, want) in [("email", 0.2), ("web", 0.8), ("search", 0.5), ("store", 0.5)] {
        assert!((decay(name) - want).abs() < 1e-12, "{name}: {}", decay(name));
    }
    let value: f64 = ["email", "web", "search", "store"]
        .iter()
        .map(|n| channel(&v, n)["time_decay_value"].as_f64().expect("value"))
        .sum();
    assert!((value - 100.0).abs() < 1e-9, "{value}");
    let md = std::fs::read_to_string(dir.path().join("attribute-events.md")).expect("markdown report");
    assert!(md.contains("| time decay |") && md.contains("2^(−age / 7d)"), "{md}");

    // Errors: a bad row names the file and the line; options about data
    // need data; a half-life must be longer than 0.
    std::fs::write(dir.path().join("bad.csv"), "customer_id,timestamp,channel\nann,soon,web\n")
        .expect("write");
    let bad = fogg().args(["attribute", "--events"]).arg(dir.path().join("bad.csv")).assert().failure();
    let err = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(err.contains("bad.csv") && err.contains("line 2: timestamp 'soon'"), "{err}");
    for args in [vec!["attribute", "--no-null"], vec!["attribute", "--intervals", "20"]] {
        let run = fogg().args(&args).assert().failure();
        let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(err.contains("give --paths FILE or --events FILE"), "{args:?}: {err}");
    }
    let zero = run(&["--half-life", "0s"]).failure();
    let err = String::from_utf8_lossy(&zero.get_output().stderr).into_owned();
    assert!(err.contains("must be longer than 0"), "{err}");
    // A half-life means nothing without touch times.
    let paths = fogg().args(["attribute", "--half-life", "3d"]).assert().failure();
    let err = String::from_utf8_lossy(&paths.get_output().stderr).into_owned();
    assert!(err.contains("--events"), "{err}");
}
