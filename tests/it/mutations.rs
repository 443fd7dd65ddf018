//! The attack kept in the repository: a seeded mutator takes the bundled
//! scenarios, a path file, an event log, thresholds and changes, breaks
//! them the ways hostile or careless input does (extreme numbers, deleted
//! and duplicated lines, stray keys, wrong names, cut files, odd bytes)
//! and feeds them to fogg. Whatever comes in, fogg must not panic; what it
//! accepts must give finite answers; what it refuses must say where (a
//! line or a key). A sample also runs through the binary: exit 0 or 2.
//!
//! `FOGG_MUTATIONS=N` sets the cases per input (default 4,000, under 10 s
//! here); docs/reliability.md records a long run.

use std::panic::{AssertUnwindSafe, catch_unwind};

use fogg_core::error::ScenarioError;
use rand::{Rng, RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Cases per input kind.
fn cases() -> u64 {
    std::env::var("FOGG_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(4000)
}

/// Numbers that have broken parsers and solvers before.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "5e-324",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "18446744073709551616",
    "1e20",
    "255",
    "256",
    "65535",
    "65536",
    "0.0000001",
    "\"\"",
    "\"1e308s\"",
    "\"0s\"",
    "\"-5s\"",
    "\"ünïcødé\"",
    "\"exit\"",
    "[]",
    "{}",
    "true",
];

/// Stray lines: keys that exist elsewhere, or nowhere.
const STRAY: &[&str] = &[
    "exit = 1",
    "conversion = true",
    "value = { dist = \"weibull\", scale = 10, shape = 1e-300 }",
    "dwell = { dist = \"lognormal\", median = \"1s\", p90 = \"1e308s\" }",
    "[[state]]",
    "[[segment]]\nid = \"x\"\nshare = 1.0\nexit_multiplier = 1e308",
    "spend = { baseline = 5e-324, half_saturation = 1e308, slope = 300, drives = \"acquisition\" }",
    "[entry]",
    "max_steps = 0",
    "customers_per_period = 1e300",
    "next = { exit = 0 }",
    "unknown_key = 3",
    "[[strategy]]\nid = \"s\"\nchanges = [\"spend nowhere +10%\"]",
];

/// One mutation of `text`: a line, a number or a byte changed.
fn mutate(text: &str, rng: &mut Xoshiro256PlusPlus) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = rng.random_range(0..lines.len());
    match rng.random_range(0..8) {
        // A number (or a quoted value) becomes an extreme.
        0 | 1 => {
            let extreme = EXTREMES[rng.random_range(0..EXTREMES.len())];
            let line = &lines[i];
            let starts: Vec<usize> = line
                .char_indices()
                .filter(|&(k, c)| {
                    (c.is_ascii_digit() || c == '"')
                        && (k == 0 || !line.as_bytes()[k - 1].is_ascii_alphanumeric())
                })
                .map(|(k, _)| k)
                .collect();
            if let Some(&start) = starts.get(rng.random_range(0..starts.len().max(1))) {
                let rest = &line[start..];
                let len = if let Some(quoted) = rest.strip_prefix('"') {
                    quoted.find('"').map_or(rest.len(), |e| e + 2)
                } else {
                    rest.find(|c: char| !(c.is_ascii_alphanumeric() || ".-+_".contains(c)))
                        .unwrap_or(rest.len())
                };
                lines[i] = format!("{}{extreme}{}", &line[..start], &line[start + len..]);
            }
        }
        2 => {
            lines.remove(i);
        }
        3 => {
            let copy = lines[i].clone();
            lines.insert(i, copy);
        }
        4 => {
            let j = rng.random_range(0..lines.len());
            lines.swap(i, j);
        }
        5 => lines.insert(i, STRAY[rng.random_range(0..STRAY.len())].to_owned()),
        // A name becomes another line's name.
        6 => {
            let j = rng.random_range(0..lines.len());
            let word = |l: &str| l.split('"').nth(1).map(str::to_owned);
            if let (Some(a), Some(b)) = (word(&lines[i]), word(&lines[j])) {
                lines[i] = lines[i].replacen(&a, &b, 1);
            }
        }
        // The file is cut, or odd bytes come in.
        _ => {
            let joined = lines.join("\n");
            let mut cut = rng.random_range(0..=joined.len());
            while !joined.is_char_boundary(cut) {
                cut -= 1;
            }
            let junk: String =
                (0..rng.random_range(0..8)).map(|_| rng.random_range(b' '..=b'~') as char).collect();
            return format!("{}{junk}", &joined[..cut]);
        }
    }
    lines.join("\n")
}

/// `text` with one to three mutations.
fn mutated(text: &str, rng: &mut Xoshiro256PlusPlus) -> String {
    let mut out = text.to_owned();
    for _ in 0..rng.random_range(1..=3) {
        out = mutate(&out, rng);
    }
    out
}

/// Runs `f`, turning a panic into a test failure that shows the input.
fn no_panic<T>(what: &str, input: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("{what} panicked on this input:\n{input}"),
    }
}

/// What a scenario fogg accepted must give: finite exact answers, a
/// simulation, and strategies that apply or say why not.
fn exercise(scenario: &fogg_scenario::Scenario) {
    let model = &scenario.model;
    let exact = model.exact();
    for (name, v) in [
        ("conversion rate", exact.conversion_rate),
        ("conversions", exact.conversions_per_customer),
        ("steps", exact.steps_per_customer),
        ("revenue", exact.revenue_per_customer),
    ] {
        assert!(v.is_finite() && v >= -1e-9, "exact {name} is {v}");
    }
    assert!(exact.conversion_rate <= 1.0 + 1e-9);
    let (r, _) = crate::simulate(model, 500, 1, 1, false);
    assert!(r.revenue.is_finite());
    for strategy in &scenario.strategies {
        if let Ok(variant) = model.apply(&strategy.changes) {
            let e = variant.model.exact();
            assert!(e.conversion_rate.is_finite() && variant.population.is_finite());
        }
    }
}

fn bundled_texts() -> Vec<(&'static str, String)> {
    fogg_scenario::BUNDLED
        .iter()
        .map(|(name, _)| {
            let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            (*name, std::fs::read_to_string(path).expect("bundled scenario"))
        })
        .collect()
}

#[test]
fn mutated_scenarios_never_panic_and_errors_say_where() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xF066);
    let (mut accepted, mut refused) = (0, 0);
    for (name, text) in bundled_texts() {
        for _ in 0..cases() {
            let input = mutated(&text, &mut rng);
            match no_panic("compiling", &input, || fogg_scenario::from_str(&input, "mutant.toml")) {
                Ok(scenario) => {
                    accepted += 1;
                    no_panic("running", &input, || exercise(&scenario));
                }
                Err(ScenarioError::Invalid { problems, .. }) => {
                    refused += 1;
                    for p in problems {
                        assert!(!p.key.is_empty() && !p.fix.is_empty(), "{name}: {p:?} names no key or fix");
                    }
                }
                Err(ScenarioError::Syntax { error, .. }) => {
                    refused += 1;
                    assert!(error.span().is_some(), "{name}: a syntax error without a place: {error}");
                }
                Err(other) => panic!("{name}: unexpected error {other}"),
            }
        }
    }
    // The mutator breaks most files but not all: both sides are exercised.
    assert!(accepted > 0 && refused > 0, "accepted {accepted}, refused {refused}");
    eprintln!("mutated scenarios: {accepted} accepted and run, {refused} refused with a place");
}

#[test]
fn mutated_paths_logs_thresholds_and_changes_never_panic() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xA77);
    let paths = "path;total_conversions;total_conversion_value;total_null\n\
                 search > web;12;1200.5;40\nsocial > search > web;3;300;25\nemail;0;0;9\nweb > web;5;410;3\n";
    let log = "customer_id,timestamp,channel,stage,conversion_value\n\
               a,2026-03-01T10:00:00Z,search,awareness,\na,2026-03-01T11:00:00+01:00,web,consideration,\n\
               a,2026-03-02,web,purchase,99.5\nb,1772359200,social,awareness,\nb,1772362800.5,web,consideration,\n";
    let thresholds =
        ["p99 < 500ms", "error_rate{class=5xx} < 1%", "throughput > 20/s", "conversions_lost < 5%"];
    let changes = ["spend search +20%", "remove social", "transition web_product -> web_cart x1.2"];
    let model = crate::bundled("ecommerce-funnel");
    for _ in 0..cases() {
        let input = mutated(paths, &mut rng);
        no_panic("reading paths", &input, || {
            if let Ok(p) = fogg_engine::attribution::Paths::parse(input.as_bytes(), &Default::default()) {
                let options = fogg_engine::attribution::ChainOptions {
                    order: 1 + rng.random_range(0..3),
                    collapse_repeats: rng.random_bool(0.5),
                    max_steps: fogg_engine::attribution::MaxSteps::Auto,
                };
                let rules = fogg_engine::attribution::RuleOptions { direct: vec![0], ..Default::default() };
                let _ = fogg_engine::attribution::attribute(&p, &options, &rules);
                // What fit writes must compile, or it must refuse first.
                if let Ok(counts) = fogg_engine::fit::Counts::from_paths(&p, "mutant.csv")
                    && counts.journeys > 0.0
                {
                    let toml = counts.to_toml("mutant");
                    assert!(fogg_scenario::from_str(&toml, "fitted.toml").is_ok(), "fit wrote:\n{toml}");
                }
            }
        });
        let input = mutated(log, &mut rng);
        no_panic("reading an event log", &input, || {
            if let Ok(counts) = fogg_engine::fit::events::read(input.as_bytes(), b',', "mutant.csv") {
                let toml = counts.to_toml("mutant");
                assert!(fogg_scenario::from_str(&toml, "fitted.toml").is_ok(), "fit wrote:\n{toml}");
            }
        });
        let input = mutated(thresholds[rng.random_range(0..thresholds.len())], &mut rng);
        no_panic("parsing a threshold", &input, || {
            // What is accepted reads back from its canonical form.
            if let Ok(t) = fogg_load::threshold::Threshold::parse(&input) {
                assert!(
                    fogg_load::threshold::Threshold::parse(&t.canonical()).is_ok(),
                    "{input} → {}",
                    t.canonical()
                );
            }
        });
        let input = mutated(changes[rng.random_range(0..changes.len())], &mut rng);
        no_panic("applying a change", &input, || {
            if let Ok(change) = fogg_scenario::change_text::parse_change(&input, &model) {
                let _ = model.apply(&[change]).map(|v| v.model.exact());
            }
        });
    }
}

#[test]
fn mutated_files_through_the_binary_exit_0_or_2() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xB1);
    let dir = tempfile::tempdir().expect("temp dir");
    let texts = bundled_texts();
    for k in 0..cases() / 10 {
        let (_, text) = &texts[k as usize % texts.len()];
        let input = mutated(text, &mut rng);
        let file = dir.path().join(format!("mutant{k}.toml"));
        std::fs::write(&file, &input).expect("write");
        let out = crate::fogg().arg("validate").arg(&file).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 2)), "exit {:?}:\n{stderr}\n{input}", out.status.code());
        assert!(!stderr.contains("panicked"), "{stderr}");
        if out.status.code() == Some(2) {
            assert!(stderr.contains(&format!("mutant{k}.toml")), "the error names the file:\n{stderr}");
        }
    }
    let _ = rng.next_u64();
}
