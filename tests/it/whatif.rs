//! `fogg whatif`: spend mechanisms against hand-computed closed forms,
//! simulated differences against the exact ones, what common random
//! numbers buy, curves, allocation, the JSON contract and bad input.

use fogg_engine::whatif::paired::{Scale, Z95};
use fogg_engine::whatif::{ExactFigures, Figures, Pairing, run_paired};
use fogg_model::Model;
use fogg_model::change::{Change, ChangeError, SpendLevel};
use serde_json::Value;

use crate::schema::{errors, schema_validator};
use crate::{bundled, bundled_scenario, fogg};

/// 99.9% two-sided quantile: with a dozen comparisons at a fixed seed, the
/// interval the tests check against.
const Z999: f64 = 3.290_526_731_491_926;

/// Two entry channels, one paid (`ad`, also a retargeting touch after the
/// web page) whose spend of 1000 sits at its half-saturation: doubling it
/// to 3000 gives a response multiplier of exactly 0.75 / 0.5 = 1.5.
fn tiny(mechanism: &str) -> Model {
    let text = format!(
        r#"
[scenario]
name = "tiny"
customers_per_period = 1000
[[channel]]
id = "ad"
kind = "online"
spend = {{ baseline = 1000, half_saturation = 1000, drives = "{mechanism}" }}
[[channel]]
id = "web"
kind = "online"
[entry]
ad_view = 1
web_direct = 1
[[state]]
id = "ad_view"
stage = "awareness"
channel = "ad"
next = {{ web_page = 1, exit = 1 }}
[[state]]
id = "web_direct"
stage = "awareness"
channel = "web"
next = {{ web_page = 1, exit = 3 }}
[[state]]
id = "web_page"
stage = "consideration"
channel = "web"
next = {{ buy = 0.4, retarget = 0.2, exit = 0.4 }}
[[state]]
id = "retarget"
stage = "consideration"
channel = "ad"
next = {{ buy = 1, exit = 1 }}
[[state]]
id = "buy"
stage = "purchase"
channel = "web"
conversion = true
value = {{ dist = "constant", value = 100.0 }}
next = {{ exit = 1 }}
"#
    );
    fogg_scenario::from_str(&text, "tiny.toml").expect("valid scenario").model
}

fn triple_ad_spend(model: &Model) -> Vec<Change> {
    vec![Change::Spend { channel: model.channel_id("ad").unwrap(), level: SpendLevel::Absolute(3000.0) }]
}

#[test]
fn each_spend_mechanism_matches_its_closed_form_and_the_simulation() {
    // Baseline: P(conv | web_page) = 0.4 + 0.2·0.5 = 0.5, so
    // P(conv) = ½·½·0.5 + ½·¼·0.5 = 0.1875: 187.5 per 1000 customers.
    // acquisition: ad entry 0.5 → 0.75, population 1.25;
    //   conversions = 1000 (0.75·0.25 + 0.5·0.125) = 250.
    // share: entry 0.6/0.4; web_page row 0.4 : 0.3 : 0.4, normalised,
    //   still converts 0.5 → 1000 (0.6·0.25 + 0.4·0.125) = 200.
    // incremental: web_page retarget 0.3, exit 0.3 → converts 0.55,
    //   entry unchanged → 1000 · 0.1875 · 1.1 = 206.25.
    for (mechanism, expected, population) in
        [("acquisition", 250.0, 1.25), ("share", 200.0, 1.0), ("incremental", 206.25, 1.0)]
    {
        let model = tiny(mechanism);
        let base = ExactFigures::of(&model.baseline(), 1000.0);
        assert!((base.conversions - 187.5).abs() < 1e-9, "{mechanism}: baseline {}", base.conversions);
        let variant = model.apply(&triple_ad_spend(&model)).expect("change applies");
        assert!((variant.population - population).abs() < 1e-12, "{mechanism}");
        let exact = ExactFigures::of(&variant, 1000.0);
        assert!(
            (exact.conversions - expected).abs() < 1e-9,
            "{mechanism}: exact {} ≠ {expected}",
            exact.conversions
        );
        assert_eq!(
            variant.notes[0],
            format!("spend on ad: 1000 → 3000 per period ({mechanism}, response ×1.500)"),
            "the report repeats the mechanism and the response"
        );

        let m = &run_paired(
            &model,
            std::slice::from_ref(&variant),
            7,
            0..200_000,
            Pairing::Common,
            &Default::default(),
        )
        .variants[0];
        let scale = Scale { customers_per_period: 1000.0, population, baseline_spend: 1000.0, spend: 3000.0 };
        let f = Figures::of(m, &scale);
        let widen = Z999 / Z95;
        let half = (f.conversions.ci95[1] - f.conversions.ci95[0]) / 2.0 * widen;
        let exact_delta = expected - 187.5;
        assert!(
            (f.conversions.delta - exact_delta).abs() < half,
            "{mechanism}: simulated Δ {} vs exact {exact_delta} (±{half})",
            f.conversions.delta
        );
        assert!(f.conversions.significant(), "{mechanism}: a 1.5× response is a real difference");
        // Spend is set, not drawn: the cost difference is 2000 plus touch costs (none here).
        assert!((f.cost.delta - 2000.0).abs() < 1e-6);
    }
}

#[test]
fn changes_that_need_more_exit_mass_than_a_row_has_are_errors() {
    let model = tiny("incremental");
    // The ad's response can at most double (g ≤ 1 = 2·g(1000)): the
    // retargeting mass it adds (≤ 0.2) always fits in web_page's exit (0.4).
    let unlimited =
        Change::Spend { channel: model.channel_id("ad").unwrap(), level: SpendLevel::Absolute(1e9) };
    assert!(model.apply(&[unlimited]).is_ok());
    // Tripling web_page's conversion (0.4 → 1.2) cannot come from its exit.
    let triple = Change::Conversion { state: model.state_id("web_page").unwrap(), factor: 3.0 };
    let err = model.apply(&[triple]).unwrap_err();
    assert!(
        matches!(&err, ChangeError::ConversionExceedsExit { state, factor: 3.0, .. } if state == "web_page"),
        "{err:?}"
    );
    assert!(err.to_string().contains("exit probability"), "{err}");
}

#[test]
fn bundled_strategies_agree_with_their_closed_forms() {
    for name in ["retail-omnichannel", "ecommerce-funnel", "campaign-launch"] {
        let scenario = bundled_scenario(name);
        let (model, strategies) = (&scenario.model, &scenario.strategies);
        assert!(strategies.len() >= 3, "{name} carries a few strategies");
        let per_period = model.customers_per_period.expect("bundled scenarios say what a period holds");
        let variants: Vec<_> = strategies.iter().map(|s| model.apply(&s.changes).expect("applies")).collect();
        let moments =
            run_paired(model, &variants, 3, 0..300_000, Pairing::Common, &Default::default()).variants;
        let base = ExactFigures::of(&model.baseline(), per_period);
        let base_spend: f64 = model.baseline_spend().iter().sum();
        for ((s, v), m) in strategies.iter().zip(&variants).zip(&moments) {
            let scale = Scale {
                customers_per_period: per_period,
                population: v.population,
                baseline_spend: base_spend,
                spend: v.spend.iter().sum(),
            };
            let f = Figures::of(m, &scale);
            let exact_delta = ExactFigures::of(v, per_period).conversions - base.conversions;
            let half = (f.conversions.ci95[1] - f.conversions.ci95[0]) / 2.0 * Z999 / Z95;
            assert!(
                (f.conversions.delta - exact_delta).abs() < half,
                "{name}/{}: simulated Δ {:.2} vs exact {exact_delta:.2} (±{half:.2})",
                s.id,
                f.conversions.delta
            );
        }
    }
}

/// `+30` is money: under 1% of the channel's spend, the change's notes
/// ask whether `+30%` was meant; `+3000` and `+30%` get no such note.
#[test]
fn a_tiny_spend_delta_asks_whether_a_percentage_was_meant() {
    let model = bundled("ecommerce-funnel");
    let notes = |text: &str| {
        let change = fogg_scenario::change_text::parse_change(text, &model).unwrap();
        model.apply(&[change]).unwrap().notes.join("\n")
    };
    assert!(
        notes("spend social +30").contains("under 1% of it: did you mean +30%?"),
        "{}",
        notes("spend social +30")
    );
    assert!(!notes("spend social +3000").contains("did you mean"));
    assert!(!notes("spend social +30%").contains("did you mean"));
}

#[test]
fn common_random_numbers_narrow_the_interval_of_a_difference() {
    let model = bundled("retail-omnichannel");
    let change = fogg_scenario::change_text::parse_change("spend social +30%", &model).unwrap();
    let variant = model.apply(&[change]).unwrap();
    let scale = Scale {
        customers_per_period: 200_000.0,
        population: variant.population,
        baseline_spend: model.baseline_spend().iter().sum(),
        spend: variant.spend.iter().sum(),
    };
    let width = |pairing| {
        let m =
            &run_paired(&model, std::slice::from_ref(&variant), 11, 0..200_000, pairing, &Default::default())
                .variants[0];
        let ci = Figures::of(m, &scale).conversions.ci95;
        ci[1] - ci[0]
    };
    let (common, independent) = (width(Pairing::Common), width(Pairing::Independent));
    assert!(
        common < 0.5 * independent,
        "common random numbers: ±{:.1}, independent runs: ±{:.1}",
        common / 2.0,
        independent / 2.0
    );
}

#[test]
fn whatif_json_follows_its_schema_and_the_baseline_comes_first() {
    let v = schema_validator("whatif");
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args([
            "whatif",
            "-n",
            "50000",
            "--format",
            "json",
            "--allocate",
            "65000",
            "--curve",
            "social",
            "--out",
        ])
        .arg(out.path())
        .args(["--strategy", "faster-checkout", "--change", "spend search -10%"])
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&run.get_output().stdout).expect("stdout is JSON");
    assert_eq!(errors(&v, &doc), Vec::<String>::new());
    let ids: Vec<&str> =
        doc["strategies"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["baseline", "faster-checkout", "change", "allocation"]);
    for s in doc["strategies"].as_array().unwrap() {
        for key in
            ["id", "conversions", "exact_conversions", "revenue", "cost", "cpa", "roas", "delta_conversions"]
        {
            assert!(s.get(key).is_some(), "'{key}' is part of the contract");
        }
        assert_eq!(s["delta_conversions_ci95"].as_array().map(Vec::len), Some(2));
    }
    let baseline = &doc["strategies"][0];
    assert_eq!(baseline["delta_conversions"], 0.0);
    // The allocation spends the budget it was given.
    let allocated: f64 = doc["allocation"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["allocated"].as_f64().unwrap())
        .sum();
    assert!((allocated - 65000.0).abs() < 1.0, "{allocated}");
    let mut broken = doc.clone();
    broken["strategies"][0].as_object_mut().unwrap().remove("exact_conversions");
    assert!(!errors(&v, &broken).is_empty());
    // Re-rendering the saved result gives the same report.
    let saved = out.path().join("whatif-retail-omnichannel.json");
    let table = fogg()
        .args(["whatif", "-n", "50000", "--out"])
        .arg(out.path())
        .args(["--strategy", "faster-checkout"])
        .assert()
        .success();
    let again = fogg().arg("report").arg(&saved).assert().success();
    assert_eq!(table.get_output().stdout, again.get_output().stdout);
}

#[test]
fn the_curve_rises_and_saturates_and_meets_the_baseline_at_todays_spend() {
    let model = bundled("retail-omnichannel");
    let social = model.channel_id("social").unwrap();
    let points =
        fogg_engine::whatif::curve::sweep(&model, social, 11, 200_000.0).expect("social declares spend");
    assert_eq!(points.len(), 11);
    let today = ExactFigures::of(&model.baseline(), 200_000.0);
    let at_today =
        points.iter().find(|p| (p.spend - 20_000.0).abs() < 1e-6).expect("today's spend is on the grid");
    assert!((at_today.exact.conversions - today.conversions).abs() < 1e-6);
    for w in points.windows(2) {
        assert!(w[1].exact.conversions > w[0].exact.conversions, "more spend, more conversions");
        assert!(w[1].marginal_conversions < w[0].marginal_conversions, "diminishing returns");
    }
}

#[test]
fn the_allocation_beats_todays_split_and_respects_bounds() {
    use fogg_engine::whatif::allocate::{Bound, Objective, allocate};
    let model = bundled("retail-omnichannel");
    let today = ExactFigures::of(&model.baseline(), 200_000.0);
    let bound = Bound::parse("print=12000..").unwrap();
    let a = allocate(&model, 65_000.0, Objective::Conversions, &[bound], 200_000.0).expect("allocates");
    assert!(a.exact.conversions >= today.conversions, "{} < {}", a.exact.conversions, today.conversions);
    let print = a.channels.iter().position(|&c| c == model.channel_id("print").unwrap()).unwrap();
    assert!(a.spend[print] >= 12_000.0 - 1e-6);
    assert!((a.spend.iter().sum::<f64>() - 65_000.0).abs() < 1e-6);
    // At an interior optimum the unbounded channels' marginal returns meet.
    let free: Vec<f64> = (0..a.channels.len()).filter(|&k| k != print).map(|k| a.marginal[k]).collect();
    let (lo, hi) = (free.iter().cloned().fold(f64::MAX, f64::min), free.iter().cloned().fold(0.0, f64::max));
    assert!((hi - lo) / hi < 0.02, "marginals {free:?}");
}

/// Caps are filled exactly, budget is left only when every channel is at
/// its cap, and the "next unit" is never a channel at its cap.
#[test]
fn caps_are_filled_and_the_next_unit_has_room() {
    use fogg_engine::whatif::allocate::{Bound, Objective, allocate};
    let model = bundled("retail-omnichannel");
    let id = |c: &str| model.channel_id(c).unwrap();
    let bounds = |b: &[&str]| b.iter().map(|b| Bound::parse(b).unwrap()).collect::<Vec<_>>();

    // Print returns most per unit but is capped below its share.
    let a =
        allocate(&model, 65_000.0, Objective::Conversions, &bounds(&["print=..8000"]), 200_000.0).unwrap();
    let print = a.channels.iter().position(|&c| c == id("print")).unwrap();
    assert!((a.spend[print] - 8_000.0).abs() < 1e-6, "{:?}", a.spend);
    assert!(
        a.marginal[print]
            > a.marginal.iter().enumerate().filter(|(k, _)| *k != print).map(|(_, m)| *m).fold(0.0, f64::max)
    );
    assert_ne!(a.next_unit(), Some(id("print")));
    assert!(a.next_unit().is_some());

    // Every channel capped: the caps are met exactly and the rest is left.
    let all = bounds(&["print=..8000", "search=..30000", "social=..20000"]);
    let a = allocate(&model, 65_000.0, Objective::Conversions, &all, 200_000.0).unwrap();
    assert!((a.spend.iter().sum::<f64>() - 58_000.0).abs() < 1e-6, "{:?}", a.spend);
    assert!((a.unspent - 7_000.0).abs() < 1e-6, "{}", a.unspent);
    assert_eq!(a.next_unit(), None);
}

#[test]
fn bad_changes_and_strategies_get_clear_errors() {
    let run = fogg().args(["whatif", "--change", "spend socail +30%", "-n", "1000"]).assert().code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.contains("--change 'spend socail +30%'") && err.contains("did you mean 'social'"), "{err}");
    let run = fogg().args(["whatif", "--strategy", "faster-chekout", "-n", "1000"]).assert().code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.contains("did you mean 'faster-checkout'"), "{err}");
    let run = fogg().args(["whatif", "--curve", "web", "-n", "1000"]).assert().code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.contains("declares no spend") && err.contains("search, social, print"), "{err}");

    // A strategy that cannot hold is reported with its line at load time.
    let dir = tempfile::tempdir().unwrap();
    let text = crate::SHORT_JOURNEYS.replace(
        "[load]",
        "[[strategy]]\nid = \"typo\"\nchanges = [\"conversion hom x2\"]\n\n[[strategy]]\nid = \"too-much\"\nchanges = [\"conversion home x3\"]\n\n[load]",
    );
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    let run = fogg().arg("whatif").arg(&path).assert().code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.contains("strategy.typo.changes") && err.contains("unknown state 'hom'"), "{err}");
    assert!(err.contains("strategy.too-much") && err.contains("exit probability"), "{err}");
    assert!(err.contains("s.toml:23:") && err.contains("s.toml:26:"), "problems name their line: {err}");
}

#[test]
fn whatif_shards_merge_into_exactly_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = fogg()
            .args(["whatif", "ecommerce-funnel", "-n", "60000", "--seed", "5", "--format", "json", "--out"])
            .arg(dir.path())
            .args(extra)
            .assert()
            .success();
        let mut v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        v["elapsed_s"] = Value::from(0.0);
        v
    };
    let whole = run(&[]);
    for shard in ["1/3", "2/3", "3/3"] {
        let part = run(&["--shard", shard]);
        assert_eq!(part["shard"]["count"], 3);
    }
    let merged_file = dir.path().join("merged.json");
    let shard_files: Vec<_> =
        (1..=3).map(|i| dir.path().join(format!("whatif-ecommerce-funnel.shard-{i}-of-3.json"))).collect();
    fogg()
        .arg("merge")
        .args(&shard_files)
        .arg("-o")
        .arg(&merged_file)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let mut merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged_file).unwrap()).unwrap();
    merged["elapsed_s"] = Value::from(0.0);
    assert_eq!(merged, whole, "merged shards equal the single run, every figure and interval");
    // A missing shard is named.
    let run = fogg().arg("merge").args(&shard_files[..2]).arg("--out").arg(dir.path()).assert().code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.contains("a shard is missing"), "{err}");
}

#[test]
fn scaling_a_transition_the_scenario_lacks_is_an_error_not_a_no_op() {
    let model = tiny("share");
    let (from, to) = (model.state_id("ad_view").unwrap(), model.state_id("web_direct").unwrap());
    let scale = Change::Transition { from, to: to.0 as _, amount: fogg_model::change::Amount::Scale(1.2) };
    let err = model.apply(&[scale]).unwrap_err();
    assert!(
        matches!(&err, ChangeError::NoSuchTransition { from, to } if from == "ad_view" && to == "web_direct")
    );
    // Setting it creates it.
    let set = Change::Transition { from, to: to.0 as _, amount: fogg_model::change::Amount::Set(0.1) };
    assert!(model.apply(&[set]).is_ok());
}

/// Too few customers differ for an interval to mean anything: nothing is
/// marked significant, no incremental CPA, and the report says why.
#[test]
fn a_sample_too_small_for_an_interval_is_never_significant() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args(["whatif", "-n", "100", "--change", "spend social +30%", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let text = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    let saved = std::fs::read_to_string(out.path().join("whatif-retail-omnichannel.json")).expect("JSON");
    let v: serde_json::Value = serde_json::from_str(&saved).expect("JSON");
    let change = &v["strategies"][1];
    assert!(change["customers_differing"].as_u64().expect("count") < 30, "{change}");
    assert!(change["incremental_cpa"].is_null(), "{change}");
    let rows: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("change ")).collect();
    assert!(!rows.is_empty() && rows.iter().all(|l| !l.contains(" *")), "{text}");
    assert!(text.contains("'change': ") && text.contains("too few for a 95% interval"), "{text}");
}

/// The incremental CPA reads by the signs: drop-print saves money and
/// loses conversions, so its figure is a saving per conversion lost.
#[test]
fn incremental_cpa_says_whether_it_is_a_cost_or_a_saving() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args([
            "whatif",
            "--strategy",
            "drop-print",
            "--strategy",
            "faster-checkout",
            "-n",
            "100000",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let text = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    let row_says =
        |id: &str, words: &str| text.lines().any(|l| l.trim_start().starts_with(id) && l.contains(words));
    assert!(row_says("drop-print", "saved per conversion lost"), "{text}");
    assert!(row_says("faster-checkout", "per extra conversion"), "{text}");
}

/// SIGTERM during a what-if far too long to finish (2^64 − 1 customers:
/// the chunks left are never visited): the customers walked are reported
/// (every pair complete), marked interrupted, exit 2.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_stops_a_whatif_and_keeps_what_it_walked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let most = u64::MAX.to_string();
    let args = ["whatif", "-n", &most, "--threads", "1", "--change", "spend social +30%"];
    let (_, v) = crate::interrupted_run(&args, dir.path(), "whatif-retail-omnichannel.json");
    assert_eq!(v["interrupted"], true);
    let (base, change) = (&v["strategies"][0]["moments"]["n"], &v["strategies"][1]["moments"]["n"]);
    assert_eq!(base, change, "every pair is complete");
    assert!(base.as_u64().expect("count") < u64::MAX);
}

/// One channel brings every customer: with its spend S, half-saturation
/// K = 10,000 and today's spend K, a period has 1,000 · 2S / (S + K)
/// customers, a tenth of whom buy for 150. So conversions are
/// 200 S / (S + K), CPA is (S + K) / 200 and ROAS 150 · 200 / (S + K).
const ONE_CHANNEL: &str = r#"
[scenario]
name = "one channel"
customers_per_period = 1000
[[channel]]
id = "ads"
kind = "online"
spend = { baseline = 10000, half_saturation = 10000, slope = 1, drives = "acquisition" }
[entry]
ad = 1
[[state]]
id = "ad"
stage = "awareness"
channel = "ads"
next = { buy = 1, exit = 9 }
[[state]]
id = "buy"
stage = "purchase"
channel = "ads"
conversion = true
value = { dist = "constant", value = 150 }
next = { exit = 1 }
"#;

/// `--target`: the budget found by hand for each kind of target, and
/// targets no budget meets refused with what the best budget gives.
#[test]
fn allocation_targets_find_the_budget_a_hand_computation_gives() {
    use fogg_engine::whatif::allocate::{Target, allocate_to};
    let model = fogg_scenario::from_str(ONE_CHANNEL, "one.toml").expect("compiles").model;
    let found = |target: &str, budget: f64| {
        let target = Target::parse(target).expect("a target");
        allocate_to(&model, budget, target, &[], 1000.0).map(|a| a.spend.iter().sum::<f64>())
    };
    // 100 conversions: 200 S / (S + 10,000) = 100 at S = 10,000.
    let s = found("conversions >= 100", 50_000.0).unwrap();
    assert!((s - 10_000.0).abs() < 1e-3, "{s}");
    // CPA at most 80: (S + 10,000) / 200 = 80 at S = 6,000.
    let s = found("cpa<=80", 50_000.0).unwrap();
    assert!((s - 6_000.0).abs() < 1e-3, "{s}");
    // ROAS at least 2: 30,000 / (S + 10,000) = 2 at S = 5,000.
    let s = found("roas>=2", 50_000.0).unwrap();
    assert!((s - 5_000.0).abs() < 1e-3, "{s}");
    // A CPA target the whole budget keeps spends all of it.
    assert!((found("cpa<=1000", 20_000.0).unwrap() - 20_000.0).abs() < 1e-6);

    // Out of reach: 20,000 reaches 133.3 conversions; the cheapest
    // budget's CPA is 50, its ROAS 3.
    let err = |target: &str| found(target, 20_000.0).unwrap_err().to_string();
    let e = err("conversions>=150");
    assert!(
        e.contains("conversions >= 150 cannot be met with at most 20000 per")
            && e.contains("133.3 conversions"),
        "{e}"
    );
    assert!(err("cpa<=40").contains("a CPA of 50.00"), "{}", err("cpa<=40"));
    assert!(err("roas>=4").contains("a ROAS of 3.000"), "{}", err("roas>=4"));
    for bad in ["cpa>=3", "conversions>=0", "roas>=x", "margin>=2"] {
        assert!(Target::parse(bad).is_err(), "{bad}");
    }
}

/// The CLI: the budget found is the allocation's, the report says what was
/// searched, and an unreachable target fails with the reason.
#[test]
fn allocate_with_a_target_on_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("one.toml");
    std::fs::write(&scenario, ONE_CHANNEL).expect("write");
    let run = fogg()
        .args(["whatif", "-n", "20k", "--format", "json", "--allocate", "50000", "--target", "cpa<=80"])
        .arg(&scenario)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    assert_eq!(errors(&schema_validator("whatif"), &doc), Vec::<String>::new());
    let a = &doc["allocation"];
    assert_eq!((a["target"].as_str(), a["budget_limit"].as_f64()), (Some("cpa <= 80"), Some(50_000.0)));
    assert!((a["budget"].as_f64().unwrap() - 6_000.0).abs() < 1e-3, "{a}");
    assert!((a["conversions"].as_f64().unwrap() - 75.0).abs() < 1e-6, "{a}");
    let md = std::fs::read_to_string(dir.path().join("whatif-one.md")).expect("report");
    assert!(md.contains("target cpa <= 80: the most budget whose best split still meets it"), "{md}");
    let run = fogg()
        .args(["whatif", "-n", "1000", "--allocate", "20000", "--target", "conversions>=150"])
        .arg(&scenario)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(err.contains("raise --allocate or lower the target"), "{err}");
}
