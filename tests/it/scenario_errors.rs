//! Each class of bad scenario gets its own clear error (file, place, fix),
//! exit code 2, and never a panic.

use crate::fogg;

/// A small valid scenario that each case breaks in one way.
const BASE: &str = r#"
[scenario]
name = "small"

[[channel]]
id = "web"
kind = "online"

[[channel]]
id = "store"
kind = "offline"

[entry]
home = 1

[[state]]
id = "home"
stage = "awareness"
channel = "web"
next = { buy = 1, exit = 9 }

[[state]]
id = "buy"
stage = "purchase"
channel = "store"
conversion = true
value = { dist = "constant", value = 10.0 }
next = { exit = 1 }
"#;

/// Runs `fogg validate` on `text` and returns stderr, asserting exit 2.
fn rejected(text: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.toml");
    std::fs::write(&path, text).expect("write scenario");
    let out = fogg().arg("validate").arg(&path).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "expected exit 2 for:\n{text}\nstderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    assert!(stderr.contains("case.toml"), "the error names the file:\n{stderr}");
    stderr
}

fn assert_rejected(text: &str, expected: &[&str]) {
    let stderr = rejected(text);
    for e in expected {
        assert!(stderr.contains(e), "expected '{e}' in:\n{stderr}");
    }
}

#[test]
fn the_base_case_is_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.toml");
    std::fs::write(&path, BASE).expect("write");
    let out = fogg().arg("validate").arg(&path).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    assert_rejected(&BASE.replace("[entry]", "[entry"), &["TOML parse error at line 13, column 7"]);
}

#[test]
fn unknown_key_is_rejected_with_the_known_ones() {
    assert_rejected(
        &BASE.replace("next = { exit = 1 }", "nxt = { exit = 1 }"),
        &[
            "case.toml:28: state.buy.nxt: unknown key 'nxt'",
            "fix: remove or rename it; did you mean 'next'? Known: channel, conversion, dwell, id, label, next, stage, value",
        ],
    );
}

#[test]
fn every_unknown_key_is_reported_at_once_with_its_line() {
    let text = BASE
        .replace("name = \"small\"", "name = \"small\"\ncolour = \"red\"")
        .replace("kind = \"offline\"", "kind = \"offline\"\ncots_per_touch = 1")
        .replace("{ dist = \"constant\", value = 10.0 }", "{ dist = \"constant\", valeu = 10.0 }")
        .replace("stage = \"awareness\"", "stage = 3");
    let stderr = rejected(&text);
    let lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("case.toml:"))
        .map(|l| format!("  {}", &l[l.find("case.toml:").expect("file named")..]))
        .collect();
    assert_eq!(
        lines,
        [
            "  case.toml:4: scenario.colour: unknown key 'colour'",
            "  case.toml:13: channel.store.cots_per_touch: unknown key 'cots_per_touch'",
            "  case.toml:20: state.home.stage: the number 3: expected text in quotes",
            "  case.toml:29: state.buy.value.valeu: unknown key 'valeu'",
        ],
        "{stderr}"
    );
    // Removing `valeu` leaves `value` without its number: that follow-on
    // error is not reported.
    assert!(!stderr.contains("missing field"), "{stderr}");
}

/// An unknown key, an unknown reference and a wrong type in `[load]`
/// come in one report, the type error in words with a fix: no Rust type
/// name reaches the user.
#[test]
fn keys_references_and_load_types_are_reported_together() {
    let text = crate::SHORT_JOURNEYS
        .replace("next = { product = 6, exit = 4 }", "next = { prodcut = 6, exit = 4 }\ncost_per_tuch = 3")
        .replace("[load]\n", "[load]\ntimeout = 20\nmax_in_flight = \"lots\"\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.toml");
    std::fs::write(&path, text).expect("write");
    let out = crate::fogg().arg("validate").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "state.home.next.prodcut: unknown state 'prodcut'",
        "did you mean 'product'?",
        "state.home.cost_per_tuch: unknown key 'cost_per_tuch'",
        "load.timeout: the number 20: expected text in quotes",
        "fix: a duration is text with a unit, in quotes: e.g. \"20s\" or \"1m30s\"",
    ] {
        assert!(stderr.contains(expected), "{expected} in:\n{stderr}");
    }
    assert!(!stderr.contains("f64") && !stderr.contains("integer `"), "{stderr}");
}

#[test]
fn from_is_not_offered_for_a_state() {
    let stderr = rejected(&BASE.replace("next = { exit = 1 }", "nxt = { exit = 1 }"));
    assert!(!stderr.contains("from"), "{stderr}");
}

#[test]
fn unknown_state_reference_suggests_the_right_one() {
    assert_rejected(
        &BASE.replace("buy = 1, exit = 9", "buyy = 1, exit = 9"),
        &["case.toml:20: state.home.next.buyy: unknown state 'buyy'", "did you mean 'buy'?"],
    );
}

#[test]
fn unknown_channel_reference() {
    assert_rejected(
        &BASE.replace("channel = \"store\"", "channel = \"shop\""),
        &["state.buy.channel: unknown channel 'shop'", "declare it as a [[channel]]"],
    );
}

#[test]
fn negative_weight() {
    assert_rejected(
        &BASE.replace("buy = 1, exit = 9", "buy = -1, exit = 9"),
        &["state.home.next.buy: weight is -1", "at least 0"],
    );
}

#[test]
fn non_finite_weight() {
    assert_rejected(&BASE.replace("buy = 1, exit = 9", "buy = inf, exit = 9"), &["weight is inf"]);
    assert_rejected(&BASE.replace("buy = 1, exit = 9", "buy = nan, exit = 9"), &["weight is NaN"]);
}

#[test]
fn row_of_zero_weights() {
    assert_rejected(
        &BASE.replace("buy = 1, exit = 9", "buy = 0, exit = 0"),
        &["state.home.next: every weight is 0", "weights are normalised per row"],
    );
}

#[test]
fn segment_shares_must_sum_to_one() {
    let text =
        format!("{BASE}\n[[segment]]\nid = \"a\"\nshare = 0.5\n[[segment]]\nid = \"b\"\nshare = 0.3\n");
    assert_rejected(&text, &["segment shares sum to 0.8, not 1", "add up to 1"]);
}

#[test]
fn a_state_that_never_reaches_exit() {
    let text = BASE.replace("next = { exit = 1 }", "next = { buy = 1 }");
    assert_rejected(&text, &["from state 'buy' the journey can never end", "add an `exit` weight"]);
}

#[test]
fn a_segment_that_traps_journeys_is_named() {
    let text = format!("{BASE}\n[[segment]]\nid = \"stuck\"\nshare = 1.0\nexit_multiplier = 0\n");
    assert_rejected(&text, &["never end in segment 'stuck'"]);
}

#[test]
fn duplicate_ids() {
    let text = BASE.replace("id = \"store\"", "id = \"web\"");
    assert_rejected(&text, &["channel id 'web' is used twice"]);
    let text = BASE.replace("id = \"buy\"", "id = \"home\"");
    assert_rejected(&text, &["state id 'home' is used twice"]);
}

#[test]
fn bad_distributions_explain_units() {
    let text = BASE.replace(
        "channel = \"web\"\nnext",
        "channel = \"web\"\ndwell = { dist = \"exponential\", mean = 30 }\nnext",
    );
    assert_rejected(&text, &["state.home.dwell: mean = 30 has no unit", "\"30s\""]);
    let text = BASE.replace(
        "channel = \"web\"\nnext",
        "channel = \"web\"\ndwell = { dist = \"lognormal\", median = \"2h\", p90 = \"1h\" }\nnext",
    );
    assert_rejected(&text, &["state.home.dwell: p90", "greater than the median"]);
    let text = BASE.replace("dist = \"constant\", value = 10.0", "dist = \"poisson\", value = 10.0");
    assert_rejected(&text, &["unknown variant `poisson`", "lognormal"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = BASE
        .replace("buy = 1, exit = 9", "buyy = 1, exit = -9")
        .replace("stage = \"purchase\"", "stage = \"buying\"");
    let stderr = rejected(&text);
    assert!(stderr.contains("has 3 problems"), "{stderr}");
}

#[test]
fn missing_scenario_lists_the_bundled_ones() {
    let out = fogg().args(["simulate", "no-such-scenario.toml"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no scenario 'no-such-scenario.toml'"), "{stderr}");
    assert!(stderr.contains("retail-omnichannel, ecommerce-funnel, campaign-launch"), "{stderr}");
}

#[test]
fn bad_load_sections_are_explained() {
    let load = |section: &str| format!("{BASE}\n[load]\n{section}\n");
    assert_rejected(
        &load(
            "[[load.feeder]]\nid = \"items\"\nfile = \"missing.csv\"\n[[load.request]]\nstate = \"home\"\npath = \"/\"",
        ),
        &["load.feeder[0].file: cannot read", "missing.csv"],
    );
    assert_rejected(
        &load("[[load.request]]\nstate = \"home\"\npath = \"/p/{sku}\""),
        &["load.request[0].path: unknown variable '{sku}'", "{product}"],
    );
    assert_rejected(
        &load("[[load.request]]\nstate = \"hom\"\npath = \"/\""),
        &["load.request[0].state: unknown state 'hom'"],
    );
    assert_rejected(&load("[[load.request]]\nstate = \"home\"\npath = \"p\""), &["does not start with '/'"]);
    assert_rejected(
        &load(
            "profile = { kind = \"ramp\", from = 1, to = 5, over = \"soon\" }\n[[load.request]]\nstate = \"home\"\npath = \"/\"",
        ),
        &["load.profile", "'soon' is not a positive duration"],
    );
    assert_rejected(&load("duration = \"30s\""), &["[load] maps no state to a request"]);
    assert_rejected(
        &load(
            "max_in_flight = 5\nprofile = { kind = \"closed\", customers = 20 }\n[[load.request]]\nstate = \"home\"\npath = \"/\"",
        ),
        &[
            "load.profile: a closed pool of 20 customers is more than max_in_flight = 5",
            "raise [load] max_in_flight to 20",
        ],
    );
    assert_rejected(
        &load(
            "profile = { kind = \"burst\", peak = 1e308, half_life = \"1min\", base = 1 }\n[[load.request]]\nstate = \"home\"\npath = \"/\"",
        ),
        &["load.profile", "rate is 1e308", "from 0 to 100000"],
    );
    let gated = |thresholds: &str| {
        load(&format!("[[load.request]]\nstate = \"home\"\npath = \"/\"\n[load.thresholds]\n{thresholds}"))
    };
    assert_rejected(&gated("p99 = \"< 500\""), &["load.thresholds.p99: 'p99' needs a unit", "fix:"]);
    assert_rejected(&gated("p98 = \"< 1s\""), &["unknown metric 'p98' (did you mean 'p99"]);
    assert_rejected(&gated("\"p99{request=hom}\" = \"< 1s\""), &["no request 'hom' (did you mean 'home'?)"]);
}

#[test]
fn a_duplicate_id_with_a_segment_multiplier_is_an_error_not_a_panic() {
    // The first duplicate used to be indexed past the end of the list.
    let channel = BASE.replacen(
        "[entry]",
        "[[channel]]\nid = \"web\"\nkind = \"online\"\n\n[[segment]]\nid = \"all_of_them\"\nshare = 1.0\nchannel_multiplier = { web = 2 }\n\n[entry]",
        1,
    );
    assert_rejected(&channel, &["channel id 'web' is used twice"]);
    // A duplicate before `buy` puts `buy` past the number of distinct ids.
    let state = BASE.replacen(
        "[[state]]\nid = \"buy\"",
        "[[state]]\nid = \"home\"\nstage = \"awareness\"\nchannel = \"web\"\nnext = { exit = 1 }\n\n[[state]]\nid = \"buy\"",
        1,
    ) + "\n[[segment]]\nid = \"all_of_them\"\nshare = 1.0\nstate_multiplier = { buy = 2 }\n";
    assert_rejected(&state, &["state id 'home' is used twice"]);
}

/// A copied scenario whose feeder file stayed behind: the commands that
/// send no traffic run; `load` and `validate` name the one missing file,
/// by its full path, with no follow-on errors from the requests using it.
#[test]
fn feeder_files_are_read_only_for_traffic_and_beside_the_scenario() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("copy.toml");
    std::fs::copy("scenarios/retail-omnichannel.toml", &scenario).expect("copy the scenario");
    let elsewhere = tempfile::tempdir().expect("another dir");
    let run = |args: &[&str]| {
        fogg().current_dir(elsewhere.path()).args(args).arg(&scenario).output().expect("runs")
    };

    let simulate = run(&["simulate", "-n", "200"]);
    assert!(simulate.status.success(), "{}", String::from_utf8_lossy(&simulate.stderr));
    let whatif = run(&["whatif", "-n", "200", "--change", "spend social +10%"]);
    assert!(whatif.status.success(), "{}", String::from_utf8_lossy(&whatif.stderr));

    let expected = format!("cannot read feeder file '{}'", dir.path().join("catalogue.csv").display());
    for command in [&["load", "--target", "http://127.0.0.1:9"][..], &["validate"]] {
        let out = run(command);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("has 1 problem:"), "{stderr}");
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(stderr.contains("relative to the scenario file"), "{stderr}");
    }

    // Beside the scenario, the feeder is found whatever the working folder.
    std::fs::copy("scenarios/catalogue.csv", dir.path().join("catalogue.csv")).expect("copy the feeder");
    let validate = run(&["validate"]);
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stderr));
}

/// A state no journey reaches reads 0.00% in every result: each command
/// that runs the scenario says why, on stderr, and still runs.
#[test]
fn model_warnings_reach_every_command() {
    let text = BASE.replace("next = { buy = 1, exit = 9 }", "next = { exit = 1 }");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.toml");
    std::fs::write(&path, text).expect("write scenario");
    let warning = "warning: scenario '";
    for command in [&["simulate", "-n", "100"][..], &["whatif", "-n", "100", "--change", "remove store"]] {
        let out = fogg().current_dir(dir.path()).args(command).arg("case.toml").output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{command:?}: {stderr}");
        assert!(
            stderr.contains(warning) && stderr.contains("state 'buy' is never reached"),
            "{command:?}: {stderr}"
        );
    }
}

/// A generated file with thousands of mistakes: the first 100 are listed,
/// the rest counted, so the error stays readable.
#[test]
fn thousands_of_problems_list_a_hundred_and_count_the_rest() {
    let targets: Vec<String> = (0..5_000).map(|i| format!("nowhere{i} = 1")).collect();
    let text = BASE.replace("buy = 1, exit = 9", &format!("{}, exit = 9", targets.join(", ")));
    let stderr = rejected(&text);
    assert!(stderr.contains("has 5000 problems:"), "{}", &stderr[..300]);
    assert_eq!(stderr.matches("unknown state 'nowhere").count(), 100);
    assert!(
        stderr.contains("… and 4900 more problems, not listed: fix these first"),
        "{}",
        &stderr[stderr.len() - 300..]
    );
    assert!(stderr.len() < 100_000, "{} bytes", stderr.len());
}

#[test]
fn a_weight_that_overflows_once_multiplied_says_overflow() {
    let text = BASE
        .replace("next = { buy = 1, exit = 9 }", "next = { buy = 1, exit = 1.7976931348623157e308 }")
        + "\n[[segment]]\nid = \"loyal\"\nshare = 1.0\nexit_multiplier = 1.15\n";
    assert_rejected(
        &text,
        &["case.toml:", "state.home.next", "weight of 'exit' in segment 'loyal' overflows"],
    );
}

#[test]
fn a_loop_whose_exit_is_lost_in_rounding_is_named() {
    let text = BASE.replace("next = { exit = 1 }", "next = { buy = 1, exit = 1e-300 }");
    assert_rejected(
        &text,
        &["state.buy.next", "journeys at state 'buy' practically never end", "exit` weight"],
    );
}

#[test]
fn a_value_or_dwell_with_an_infinite_mean_is_refused() {
    let weibull = r#"value = { dist = "weibull", scale = 10, shape = 1e-300 }"#;
    let text = BASE.replace(r#"value = { dist = "constant", value = 10.0 }"#, weibull);
    assert_rejected(&text, &["state.buy.value", "weibull(scale 10, shape 1e-300) is inf", "heavy tail"]);
    let lognormal = r#"value = { dist = "lognormal", median = 10, p90 = 1e308 }"#;
    let text = BASE.replace(r#"value = { dist = "constant", value = 10.0 }"#, lognormal);
    assert_rejected(&text, &["p90 1e308) is inf"]);
    let huge = r#"value = { dist = "constant", value = 1e15 }"#;
    let text = BASE.replace(r#"value = { dist = "constant", value = 10.0 }"#, huge);
    assert_rejected(&text, &["is 1e15, beyond the largest value of one conversion"]);
    let dwell = "channel = \"web\"\ndwell = { dist = \"weibull\", scale = \"1h\", shape = 0.001 }";
    let text = BASE.replacen("channel = \"web\"", dwell, 1);
    assert_rejected(&text, &["state.home.dwell", "beyond 100 years"]);
}

#[test]
fn weights_as_counts_are_checked() {
    let counts = BASE.replace("name = \"small\"", "name = \"small\"\nweights = \"tallies\"");
    assert_rejected(
        &counts,
        &["case.toml:4: scenario.weights", "'tallies' is not a kind of weights", "use \"counts\""],
    );
    let with_segment = BASE.replace("name = \"small\"", "name = \"small\"\nweights = \"counts\"")
        + "\n[[segment]]\nid = \"a\"\nshare = 0.5\n[[segment]]\nid = \"b\"\nshare = 0.5\n";
    assert_rejected(
        &with_segment,
        &[
            "case.toml:4: scenario.weights",
            "[[segment]] tables reweight every row",
            "remove `weights = \"counts\"`",
        ],
    );
}

/// `BASE` with customers per period and `calendar` as its [calendar].
fn with_calendar(calendar: &str) -> String {
    BASE.replace("name = \"small\"", "name = \"small\"\nperiod = \"month\"\ncustomers_per_period = 1000")
        + "\n[calendar]\n"
        + calendar
}

#[test]
fn a_calendar_that_cannot_be_gets_its_line_and_fix() {
    let case = |calendar: &str, expected: &[&str]| assert_rejected(&with_calendar(calendar), expected);
    case(
        "start = \"2026-12-07\"\nend = \"2026-12-01\"\n",
        &["calendar.end", "ends (2026-12-01) before it starts (2026-12-07)", "give an end after the start"],
    );
    case(
        "start = \"2026-12-07\"\ndays = 7\nhourly = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        &["calendar.hourly", "23 weights given, 24 needed", "one per hour"],
    );
    case(
        "start = \"2026-12-07\"\ndays = 7\nweekly = [1, 0, -1, 1, 1, 1, 1]\n",
        &["calendar.weekly", "not all 0"],
    );
    case(
        "start = \"2026-12-07\"\ndays = 7\n[[calendar.event]]\nname = \"late\"\nat = \"2026-12-20T09:00\"\npeak = 3\nhalf_life = \"6h\"\n",
        &["calendar.event[0].at", "event 'late' at 2026-12-20T09:00 is outside the window", "move it inside"],
    );
    case(
        "start = \"2026-12-07\"\ndays = 7\ntimezone = \"Mars/Olympus\"\n",
        &["calendar.timezone", "not a time zone", "IANA name"],
    );
    case("start = \"07/12/2026\"\ndays = 7\n", &["calendar.start", "not a date", "2026-11-23T09:00"]);
    case("start = \"2026-12-07\"\n", &["the window has a start but no end", "days = 14"]);
    case("start = \"2026-12-07\"\ndays = 7\nend = \"2026-12-14\"\n", &["both `end` and `days`", "keep one"]);
    // Without customers per period, or with a period of unknown length.
    let no_volume = BASE.to_owned() + "\n[calendar]\nstart = \"2026-12-07\"\ndays = 7\n";
    assert_rejected(&no_volume, &["scenario.customers_per_period", "add `customers_per_period"]);
    let sprint = with_calendar("start = \"2026-12-07\"\ndays = 7\n")
        .replace("period = \"month\"", "period = \"sprint\"");
    assert_rejected(&sprint, &["calendar.period_length", "'sprint'", "period_length = \"28d\""]);
}

#[test]
fn a_flight_that_cannot_be_gets_its_line_and_fix() {
    // `web` spends on acquisition, `store` on share.
    let base = with_calendar("start = \"2026-12-07\"\ndays = 7\n")
        .replacen(
            "kind = \"online\"\n",
            "kind = \"online\"\nspend = { baseline = 1000, half_saturation = 800, drives = \"acquisition\" }\n",
            1,
        )
        .replacen(
            "kind = \"offline\"\n",
            "kind = \"offline\"\nspend = { baseline = 500, half_saturation = 800, drives = \"share\" }\n",
            1,
        );
    let flight = |channel: &str, from: &str, to: &str, spend: &str| {
        format!(
            "\n[[calendar.flight]]\nchannel = \"{channel}\"\nfrom = \"{from}\"\nto = \"{to}\"\nspend = {spend}\n"
        )
    };
    let valid = base.clone() + &flight("web", "2026-12-08", "2026-12-11", "2000");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ok.toml"), &valid).expect("write");
    fogg().arg("validate").arg(dir.path().join("ok.toml")).assert().success();
    let case = |extra: &str, expected: &[&str]| assert_rejected(&(base.clone() + extra), expected);
    case(
        &flight("wbe", "2026-12-08", "2026-12-11", "2000"),
        &["calendar.flight[0].channel", "unknown channel 'wbe'", "did you mean 'web'"],
    );
    // A share channel's flight moves transitions; an incremental one's
    // must find the mass it adds in the rows' exits.
    let share = base.clone() + &flight("store", "2026-12-08", "2026-12-11", "2000");
    std::fs::write(dir.path().join("share.toml"), &share).expect("write");
    fogg().arg("validate").arg(dir.path().join("share.toml")).assert().success();
    let incremental = base.replace(
        "baseline = 500, half_saturation = 800, drives = \"share\"",
        "baseline = 10, half_saturation = 800, drives = \"incremental\"",
    );
    let fits = incremental.clone() + &flight("store", "2026-12-08", "2026-12-11", "20");
    std::fs::write(dir.path().join("incremental.toml"), &fits).expect("write");
    fogg().arg("validate").arg(dir.path().join("incremental.toml")).assert().success();
    assert_rejected(
        &(incremental
            + &flight("web", "2026-12-07", "2026-12-08", "2000")
            + &flight("store", "2026-12-09T10:00", "2026-12-11", "100000")),
        &[
            "calendar.flight[1].spend",
            "the spend of 'store' at 2026-12-09 10:00 needs 7.",
            "exit probability of state 'home', which has only 0.9000",
            "fly less spend on 'store' there, or declare `drives = \"share\"`",
        ],
    );
    case(
        &flight("web", "2026-12-11", "2026-12-08", "2000"),
        &["calendar.flight[0].to", "ends (2026-12-08) before it starts (2026-12-11)"],
    );
    case(
        &flight("web", "2026-12-12", "2026-12-16", "2000"),
        &["calendar.flight[0].from", "not inside the window", "keep flights inside"],
    );
    case(
        &flight("web", "2026-12-08", "2026-12-11", "-5"),
        &["calendar.flight[0].spend", "spend = -5", "0 or more"],
    );
    case(
        &(flight("web", "2026-12-08", "2026-12-11", "2000")
            + &flight("web", "2026-12-10", "2026-12-12", "3000")),
        &[
            "calendar.flight[1].from",
            "flights 0 and 1 of channel 'web' overlap",
            "end one flight where the other starts",
        ],
    );
    // A flight on a channel without spend, and adstock's own mistakes.
    let plain = with_calendar("start = \"2026-12-07\"\ndays = 7\n")
        + &flight("web", "2026-12-08", "2026-12-11", "2000");
    assert_rejected(&plain, &["calendar.flight[0].channel", "declares no spend", "add `spend = {"]);
    let adstock = base.replace("days = 7\n", "days = 7\nadstock = { web = \"forever\" }\n");
    assert_rejected(&adstock, &["calendar.adstock.web", "'forever' is not a duration", "\"2d\""]);
}

#[test]
fn a_calendar_in_a_toml_date_literal_is_read_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.toml");
    std::fs::write(&path, with_calendar("start = 2026-12-07\nend = 2026-12-14T00:00:00\n")).expect("write");
    fogg().arg("validate").arg(&path).assert().success();
}

/// Strings have limits: a name (here the currency, a state id) at most
/// 200 characters, other text at most 1 MiB. Over them: a problem with
/// the line and the key, a short message, exit 2. A long wrong value is
/// not repeated whole in the message.
#[test]
fn long_strings_are_refused_with_short_messages() {
    let currency = "E".repeat(300);
    let text = BASE.replace("name = \"small\"", &format!("name = \"small\"\ncurrency = \"{currency}\""));
    let stderr = rejected(&text);
    assert!(
        stderr.contains("scenario.currency: this value is 300 characters long; a scenario takes at most 200"),
        "{stderr}"
    );
    assert!(!stderr.contains(&currency), "the value is not repeated");

    let id = "h".repeat(500);
    let stderr = rejected(&BASE.replace("home", &id));
    assert!(stderr.contains("at most 200"), "{stderr}");
    assert!(stderr.len() < 20_000, "{} bytes of errors", stderr.len());

    let description = "d".repeat(2 << 20);
    let text =
        BASE.replace("name = \"small\"", &format!("name = \"small\"\ndescription = \"{description}\""));
    let stderr = rejected(&text);
    assert!(
        stderr.contains(
            "scenario.description: this value is 2097152 bytes long; a scenario takes at most 1048576"
        ),
        "{stderr}"
    );

    // A wrong value under the text limit: named, not repeated whole.
    let kind = "x".repeat(100_000);
    let stderr = rejected(&BASE.replace("kind = \"offline\"", &format!("kind = \"{kind}\"")));
    assert!(stderr.len() < 20_000, "{} bytes of errors", stderr.len());
}
