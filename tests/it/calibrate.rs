//! `fogg calibrate`: curves recovered from lifts a known curve made,
//! written into a copy of the scenario that keeps everything else, and
//! bad tests refused with their fix.

use fogg_engine::whatif::ExactFigures;
use fogg_model::change::{Change, SpendLevel};
use fogg_model::{Model, Spend};

use crate::fogg;

/// The lift in conversions per period of moving `channel`'s spend from
/// `from` to `to` under `curve`, from the closed form.
fn lift(model: &Model, channel: &str, curve: Option<Spend>, from: f64, to: f64) -> f64 {
    let id = model.channel_id(channel).expect("channel");
    let mut m = model.clone();
    if let Some(curve) = curve {
        m.channels[id.0 as usize].spend = Some(curve);
    }
    let per = m.customers_per_period.expect("customers_per_period");
    let at = |s: f64| {
        let v = m.apply(&[Change::Spend { channel: id, level: SpendLevel::Absolute(s) }]).expect("applies");
        ExactFigures::of(&v, per).conversions
    };
    at(to) - at(from)
}

#[test]
fn lifts_from_a_known_curve_give_it_back_in_a_scenario_that_keeps_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let default = fogg_scenario::bundled("retail-omnichannel").unwrap().unwrap();
    let model = &default.model;
    let before = model.channels[model.channel_id("social").unwrap().0 as usize].spend.unwrap();
    // The truth: an S-shaped curve the scenario does not have.
    let truth = Spend { half_saturation: 45_000.0, slope: 1.6, ..before };
    let tests = [(20_000.0, 30_000.0), (20_000.0, 10_000.0), (20_000.0, 40_000.0)];
    let out = dir.path().join("calibrated.toml");
    let mut cmd = fogg();
    // Run away from the repository, where no scenarios/catalogue.csv is.
    cmd.current_dir(dir.path()).arg("calibrate");
    for (from, to) in tests {
        let l = lift(model, "social", Some(truth), from, to);
        cmd.arg("--lift").arg(format!("social: {from} -> {to} = {l:+.4} ±{:.4}", l.abs() * 0.1));
    }
    let run = cmd.arg("-o").arg(&out).args(["--format", "json", "--out"]).arg(dir.path()).assert().success();
    let report: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    let v = crate::schema::schema_validator("calibrate");
    assert_eq!(crate::schema::errors(&v, &report), Vec::<String>::new());
    let social = &report["channels"][0];
    assert_eq!(social["slope_fitted"], true, "{social}");
    for t in social["tests"].as_array().unwrap() {
        assert!(t["residual"].as_f64().unwrap().abs() < 1e-3, "{t}");
    }
    let (lo, hi) =
        (social["half_saturation_low"].as_f64().unwrap(), social["half_saturation_high"].as_f64().unwrap());
    assert!(lo < 45_000.0 && 45_000.0 < hi, "{lo} – {hi}");

    // The scenario written: social's curve is the truth (to the 6 digits
    // written), and the lifts it predicts are the measured ones.
    // The bundled feeder file is built into fogg, not on disk: the run
    // says so, and the journeys compile.
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(stderr.contains("feeder file 'catalogue.csv' is not on disk"), "{stderr}");
    let written = fogg_scenario::load(Some(&out), fogg_scenario::Use::Journeys)
        .expect("the calibrated scenario compiles")
        .model;
    let curve = written.channels[written.channel_id("social").unwrap().0 as usize].spend.unwrap();
    assert!((curve.half_saturation / 45_000.0 - 1.0).abs() < 1e-4, "{curve:?}");
    assert!((curve.slope / 1.6 - 1.0).abs() < 1e-4, "{curve:?}");
    for (from, to) in tests {
        let (want, got) =
            (lift(model, "social", Some(truth), from, to), lift(&written, "social", None, from, to));
        assert!((got - want).abs() < 1e-3 * want.abs(), "{from} -> {to}: {got} against {want}");
    }
    // Only social's spend line changed, under the comment that says why.
    let text = std::fs::read_to_string(&out).unwrap();
    let original = &default.text;
    let changed: Vec<&str> = text.lines().filter(|l| !original.lines().any(|o| o == *l)).collect();
    assert!(
        changed
            .iter()
            .all(|l| l.starts_with("# fogg calibrate:") || l.starts_with("spend = { baseline = 20000")),
        "{changed:#?}"
    );
    assert_eq!(changed.iter().filter(|l| l.starts_with("spend")).count(), 1, "{changed:#?}");
    assert!(text.contains("# fogg calibrate: half_saturation 30000 -> 45000"), "{text}");
    assert_eq!(original.lines().filter(|o| !text.lines().any(|l| l == *o)).count(), 1, "one line replaced");
    assert!(dir.path().join("calibrate-retail-omnichannel.html").exists());
}

#[test]
fn a_copy_in_another_folder_reads_the_same_feeder_files() {
    let dir = tempfile::tempdir().unwrap();
    let (here, there) = (dir.path().join("shop"), dir.path().join("calibrated"));
    std::fs::create_dir_all(&here).unwrap();
    std::fs::create_dir_all(&there).unwrap();
    std::fs::write(here.join("shop.toml"), fogg_scenario::BUNDLED[0].1).unwrap();
    std::fs::write(here.join("catalogue.csv"), fogg_scenario::BUNDLED_FILES[0].1).unwrap();
    let out = there.join("shop.toml");
    let run = fogg()
        .arg("calibrate")
        .arg(here.join("shop.toml"))
        .args(["--lift", "search: 30000 -> 36000 = +200 ±40", "-o"])
        .arg(&out)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    assert!(!String::from_utf8_lossy(&run.get_output().stderr).contains("warning"));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("file = \"../shop/catalogue.csv\""), "{text}");
    fogg().arg("validate").arg(&out).assert().success();
}

#[test]
fn bad_tests_are_refused_with_their_fix_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("shop.toml");
    std::fs::write(&scenario, fogg_scenario::BUNDLED[0].1).unwrap();
    let out = dir.path().join("calibrated.toml");
    let refused = |lift: &str, output: &std::path::Path| -> String {
        let run = fogg()
            .arg("calibrate")
            .arg(&scenario)
            .args(["--lift", lift, "-o"])
            .arg(output)
            .arg("--out")
            .arg(dir.path())
            .assert()
            .failure();
        String::from_utf8_lossy(&run.get_output().stderr).into_owned()
    };
    let e = refused("social 20000 -> 30000 = +100 ±10", &out);
    assert!(e.contains("write CHANNEL: FROM -> TO = LIFT ±SE"), "{e}");
    let e = refused("web: 1000 -> 2000 = +100 ±10", &out);
    assert!(e.contains("channel 'web' declares no spend") && e.contains("search, social, print"), "{e}");
    let e = refused("socail: 20000 -> 30000 = +100 ±10", &out);
    assert!(e.contains("did you mean 'social'"), "{e}");
    let e = refused("social: 20000 -> 30000 = -900 ±100", &out);
    assert!(e.contains("more spend cannot lose conversions"), "{e}");
    let e = refused("social: 20000 -> 30000 = +90000 ±100", &out);
    assert!(e.contains("no Hill curve of slope 1 gives this lift"), "{e}");
    assert!(!out.exists(), "nothing written after an error");
    let e = refused("social: 20000 -> 30000 = +100 ±10", &scenario);
    assert!(e.contains("which this run reads"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&scenario).unwrap(),
        fogg_scenario::BUNDLED[0].1,
        "the input is untouched"
    );
}
