//! Forecasts against their expected traffic: the simulated arrivals and
//! requests per time bin must agree with the closed-form arrivals and the
//! dwell-time discretisation of `forecast::expected`, within the spread
//! between replicates, on a bundled scenario and on random chains.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use fogg_core::calendar::Calendar;
use fogg_engine::forecast::expected::{Expected, expected};
use fogg_engine::forecast::{Flighting, ForecastPlan, Grid, RequestMap, Subject, Totals, forecast};
use fogg_model::Model;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A forecast and its expected traffic.
struct Run {
    totals: Totals,
    expected: Expected,
    names: usize,
    replicates: f64,
}

fn run(
    model: &Model,
    calendar: &Calendar,
    map: &RequestMap,
    customers: f64,
    resolution_s: u32,
    r: u32,
) -> Run {
    let grid = Grid::new(calendar, resolution_s);
    let plan = ForecastPlan { seed: 5, replicates: 0..r };
    let flighting = Flighting::new(model, &model.baseline(), calendar).expect("flights fit");
    let customers = customers * flighting.arrivals.total() / calendar.minutes().total();
    let totals = forecast(
        &[Subject { model, customers, flighting: &flighting }],
        &grid,
        map,
        &plan,
        &Default::default(),
    )
    .remove(0);
    let expected = expected(model, calendar, &flighting, customers, &grid, map);
    Run { totals, expected, names: map.names.len(), replicates: f64::from(r) }
}

/// χ²/bin of arrivals (Poisson per bin, exactly) and of total requests
/// per bin (variance from the replicates themselves), and the largest
/// single deviation in σ.
fn agreement(run: &Run) -> (f64, f64, f64) {
    let r = run.replicates;
    let (mut arrivals_chi, mut bins) = (0.0, 0.0);
    for (&s, &e) in run.totals.arrivals.iter().zip(&run.expected.arrivals) {
        if e * r < 20.0 {
            continue;
        }
        arrivals_chi += (s as f64 - r * e).powi(2) / (r * e);
        bins += 1.0;
    }
    // Per bin: the replicates' mean and variance of the total requests.
    let bins_used: Vec<(f64, f64, f64)> = (0..run.totals.arrivals.len())
        .filter_map(|j| {
            let s = run.totals.requests[j * run.names..(j + 1) * run.names].iter().sum::<u64>() as f64;
            let e: f64 = run.expected.requests[j * run.names..(j + 1) * run.names].iter().sum();
            let mean = s / r;
            let var = (run.totals.requests_sq[j] / r - mean * mean) * r / (r - 1.0);
            (e >= 20.0).then_some((mean, var, e))
        })
        .collect();
    // Requests are a compound Poisson count (a customer may ask a page
    // many times): its variance is a multiple of its mean, estimated over
    // every bin at once rather than from 20 replicates per bin.
    let dispersion = bins_used.iter().map(|b| b.1).sum::<f64>() / bins_used.iter().map(|b| b.0).sum::<f64>();
    let (mut requests_chi, mut worst) = (0.0_f64, 0.0_f64);
    for &(mean, _, e) in &bins_used {
        let t2 = (mean - e).powi(2) / (dispersion * e / r);
        requests_chi += t2;
        worst = worst.max(t2.sqrt());
    }
    let n = bins_used.len() as f64;
    assert!(bins > 10.0 && n > 10.0, "too few bins to compare ({bins}, {n})");
    (arrivals_chi / bins, requests_chi / n, worst)
}

fn assert_agrees(label: &str, run: &Run) {
    let (arrivals, requests, worst) = agreement(run);
    // Each term has mean 1 when the expectation is right (checked with 80
    // replicates and with 1-minute steps, where these stay near 1): a
    // bias of half a standard error in every bin adds 0.25.
    assert!(arrivals < 1.4, "{label}: arrivals χ²/bin {arrivals:.2}");
    assert!(requests < 1.6, "{label}: requests χ²/bin {requests:.2}, worst {worst:.1} σ");
    assert!(worst < 6.5, "{label}: one bin {worst:.1} σ off");
}

fn scenario(text: &str) -> fogg_scenario::Scenario {
    fogg_scenario::from_str(text, "forecast.toml").unwrap_or_else(|e| panic!("valid: {e}\n{text}"))
}

#[test]
fn the_campaign_launch_traffic_agrees_with_its_expected_traffic() {
    let (_, text) = fogg_scenario::BUNDLED.iter().find(|(n, _)| *n == "campaign-launch").unwrap();
    let s = scenario(text);
    let calendar = s.calendar.as_ref().expect("a calendar");
    let map = s.load_section().unwrap().request_map();
    // A tenth of the campaign, hourly, over 20 replicates.
    let customers = calendar.customers(s.model.customers_per_period.unwrap()) / 10.0;
    let run = run(&s.model, calendar, &map, customers, 3600, 20);
    assert_agrees("campaign-launch", &run);
    // The population is Poisson around the expected arrivals.
    let mean = run.totals.customers as f64 / run.replicates;
    assert!((mean - customers).abs() < 4.0 * (customers / run.replicates).sqrt(), "{mean} vs {customers}");
    // Every request of the window is in a bin, every conversion in a day
    // or in the carry-over: nothing is lost.
    let per_name: Vec<f64> = (0..run.names)
        .map(|k| (0..run.totals.arrivals.len()).map(|j| run.totals.requests[j * run.names + k] as f64).sum())
        .collect();
    assert!(per_name.iter().all(|&x| x > 0.0), "every page is visited: {per_name:?}");
}

#[test]
fn a_wrong_expectation_would_be_caught() {
    // The same comparison against traffic shifted by one bin, or scaled
    // by 5%, must fail: the test can tell.
    let (_, text) = fogg_scenario::BUNDLED.iter().find(|(n, _)| *n == "campaign-launch").unwrap();
    let s = scenario(text);
    let calendar = s.calendar.as_ref().unwrap();
    let map = s.load_section().unwrap().request_map();
    let customers = calendar.customers(s.model.customers_per_period.unwrap()) / 10.0;
    let good = run(&s.model, calendar, &map, customers, 3600, 20);
    let mut shifted = Run { totals: good.totals.clone(), expected: good.expected.clone(), ..good };
    shifted.expected.requests.rotate_right(shifted.names);
    let (_, requests, _) = agreement(&shifted);
    assert!(requests > 3.0, "a one-hour shift gives χ²/bin {requests:.2}");
    let mut scaled = Run {
        totals: shifted.totals.clone(),
        expected: good_expected(&s, calendar, &map, customers),
        ..shifted
    };
    for x in &mut scaled.expected.requests {
        *x *= 1.05;
    }
    let (_, requests, _) = agreement(&scaled);
    assert!(requests > 1.6, "a 5% excess gives χ²/bin {requests:.2}");
}

fn good_expected(
    s: &fogg_scenario::Scenario,
    calendar: &Calendar,
    map: &RequestMap,
    customers: f64,
) -> Expected {
    let flighting = Flighting::new(&s.model, &s.model.baseline(), calendar).expect("flights fit");
    expected(&s.model, calendar, &flighting, customers, &Grid::new(calendar, 3600), map)
}

/// A random chain with varied dwell times, a calendar with an event, and
/// a request for every state.
fn random_forecast_scenario(seed: u64) -> String {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let base = crate::exact::random_scenario(seed);
    let dwells = [
        "{ dist = \"lognormal\", median = \"20min\", p90 = \"3h\" }",
        "{ dist = \"gamma\", mean = \"2h\", shape = 2.0 }",
        "{ dist = \"weibull\", scale = \"40min\", shape = 1.5 }",
        "{ dist = \"uniform\", min = \"0s\", max = \"90min\" }",
        "{ dist = \"constant\", value = \"25min\" }",
        "{ dist = \"exponential\", mean = \"1h\" }",
    ];
    let mut text = String::new();
    let mut states = 0;
    for line in base.lines() {
        if line.starts_with("dwell = ") {
            text += &format!("dwell = {}\n", dwells[rng.random_range(0..dwells.len())]);
            states += 1;
        } else {
            text += line;
            text += "\n";
        }
    }
    text = text.replacen("[scenario]\n", "[scenario]\ncustomers_per_period = 30000\nperiod = \"week\"\n", 1);
    text += "[calendar]\nstart = \"2027-03-01T00:00\"\ndays = 4\ntimezone = \"Europe/Berlin\"\n";
    text += "hourly = [1, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 6, 7, 6, 6, 6, 6, 7, 9, 11, 12, 10, 6, 3]\n";
    text += &format!(
        "[[calendar.event]]\nname = \"send\"\nat = \"2027-03-02T{:02}:00\"\npeak = {}\nhalf_life = \"90min\"\n",
        rng.random_range(6..20),
        rng.random_range(2..8)
    );
    text += "[load]\nduration = \"10s\"\n";
    for i in 0..states {
        text += &format!("[[load.request]]\nstate = \"s{i}\"\npath = \"/s{i}\"\n");
    }
    text
}

#[test]
fn random_chains_with_calendars_agree_with_their_expected_traffic() {
    for seed in 1..=6 {
        let text = random_forecast_scenario(seed);
        let s = scenario(&text);
        let calendar = s.calendar.as_ref().unwrap();
        let map = s.load_section().unwrap().request_map();
        let customers = calendar.customers(30_000.0);
        let run = run(&s.model, calendar, &map, customers, 3600, 20);
        assert_agrees(&format!("random chain {seed}"), &run);
    }
}

/// The JSON of `fogg forecast ARGS`, checked against its schema, with what differs between runs of
/// the same forecast (time, threads) removed.
fn forecast_json(args: &[&str]) -> serde_json::Value {
    let out = tempfile::tempdir().unwrap();
    let run = crate::fogg()
        .arg("forecast")
        .args(args)
        .args(["--format", "json", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let mut doc: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).expect("JSON");
    let v = crate::schema::schema_validator("forecast");
    assert_eq!(crate::schema::errors(&v, &doc), Vec::<String>::new(), "forecast {args:?}");
    let o = doc.as_object_mut().unwrap();
    o.remove("elapsed_s");
    o.remove("threads");
    doc
}

#[test]
fn forecast_json_follows_its_schema_and_any_thread_count_gives_the_same_forecast() {
    let args = ["campaign-launch", "--replicates", "4", "--resolution", "1h", "--strategy", "push-first"];
    let one = forecast_json(&[&args[..], &["--threads", "1"]].concat());
    let two = forecast_json(&[&args[..], &["--threads", "2"]].concat());
    assert_eq!(one, two, "the same seed gives the same forecast on 1 and 2 threads");
    assert_eq!(one["kind"], "forecast");
    assert_eq!(one["window"]["bins"], 14 * 24);
    let variants = one["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[1]["id"], "push-first");
    // The daily figures add up to the window's; the replicates' customers
    // to the raw sum.
    let base = &variants[0];
    let days: f64 = base["days"].as_array().unwrap().iter().map(|d| d["conversions"].as_f64().unwrap()).sum();
    assert!((days - base["total"]["conversions"].as_f64().unwrap()).abs() < 1e-6);
    let customers: u64 =
        base["replicate_peaks"].as_array().unwrap().iter().map(|p| p["customers"].as_u64().unwrap()).sum();
    assert_eq!(customers, base["raw"]["customers"].as_u64().unwrap());
    // Conversions in the window plus the carry-over meet the closed form.
    let simulated =
        base["total"]["conversions"].as_f64().unwrap() + base["carry_over"]["conversions"].as_f64().unwrap();
    let exact = base["exact_conversions"].as_f64().unwrap();
    assert!((simulated / exact - 1.0).abs() < 0.02, "{simulated} vs {exact}");
    assert!(base["carry_over"]["conversions"].as_f64().unwrap() > 0.0, "some convert after the window");
}

#[test]
fn forecast_shards_merge_into_the_whole_run() {
    let out = tempfile::tempdir().unwrap();
    let args = ["campaign-launch", "--replicates", "5", "--resolution", "1h", "--change", "spend email +50%"];
    for shard in ["1/3", "2/3", "3/3"] {
        crate::fogg()
            .arg("forecast")
            .args(args)
            .args(["--shard", shard, "--format", "json", "--out"])
            .arg(out.path())
            .assert()
            .success();
    }
    let parts: Vec<_> =
        (1..=3).map(|i| out.path().join(format!("forecast-campaign-launch.shard-{i}-of-3.json"))).collect();
    let merged_dir = tempfile::tempdir().unwrap();
    let run = crate::fogg()
        .arg("merge")
        .args(&parts)
        .args(["--format", "json", "--out"])
        .arg(merged_dir.path())
        .assert()
        .success();
    let mut merged: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    let mut whole = forecast_json(&args);
    for doc in [&mut merged, &mut whole] {
        let o = doc.as_object_mut().unwrap();
        for key in ["elapsed_s", "threads", "shards"] {
            o.remove(key);
        }
    }
    assert_eq!(merged, whole, "three shards merge into exactly the whole run");
    // A missing shard is refused.
    assert_fails(crate::fogg().arg("merge").args(&parts[..2]), "missing");
}

/// Runs `cmd`, which must fail with `needle` in its stderr.
fn assert_fails(cmd: &mut assert_cmd::Command, needle: &str) {
    let run = cmd.assert().failure();
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn forecast_refuses_what_it_cannot_do() {
    assert_fails(crate::fogg().args(["forecast", "ecommerce-funnel"]), "has no [calendar]");
    assert_fails(
        crate::fogg().args(["forecast", "campaign-launch", "--replicates", "2", "--shard", "1/3"]),
        "at most 2 shards",
    );
    assert_fails(
        crate::fogg().args(["forecast", "campaign-launch", "--resolution", "0.5s"]),
        "whole number of seconds",
    );
    // Bounded in memory and time: a second's bins over two weeks, or a
    // population no machine walks, are refused before any work.
    assert_fails(
        crate::fogg().args(["forecast", "campaign-launch", "--resolution", "1s"]),
        "choose a coarser --resolution",
    );
    let (_, text) = fogg_scenario::BUNDLED.iter().find(|(n, _)| *n == "campaign-launch").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.toml");
    std::fs::write(&huge, text.replace("customers_per_period = 120000", "customers_per_period = 1e300"))
        .unwrap();
    assert_fails(crate::fogg().arg("forecast").arg(&huge), "would walk about");
}

/// A loopback server that counts each customer's first page (`/`) per
/// second of its own clock, from the first one it sees.
fn arrivals_server() -> (String, Arc<Mutex<Vec<u64>>>, tokio::runtime::Runtime) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let seconds: Arc<Mutex<Vec<u64>>> = Arc::default();
    let first: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (counts, start) = (Arc::clone(&seconds), Arc::clone(&first));
    let url = runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(move || {
                    let (counts, start) = (Arc::clone(&counts), Arc::clone(&start));
                    async move {
                        let t0 = *start.lock().unwrap().get_or_insert_with(Instant::now);
                        let s = t0.elapsed().as_secs() as usize;
                        let mut c = counts.lock().unwrap();
                        if c.len() <= s {
                            c.resize(s + 1, 0);
                        }
                        c[s] += 1;
                        "ok"
                    }
                }),
            )
            .fallback(|| async { "ok" });
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        format!("http://{addr}")
    });
    (url, seconds, runtime)
}

#[test]
fn load_replays_the_forecast_arrivals_over_a_window() {
    let dir = tempfile::tempdir().unwrap();
    // A day whose 09:00 hour brings five times the arrivals of the others.
    let mut hourly = vec!["1"; 24];
    hourly[9] = "5";
    let text =
        crate::SHORT_JOURNEYS.replace(
            "name = \"two pages\"",
            "name = \"two pages\"\nperiod = \"day\"\ncustomers_per_period = 33600",
        ) + &format!("\n[calendar]\nstart = \"2026-12-07\"\ndays = 1\nhourly = [{}]\n", hourly.join(", "));
    let scenario = dir.path().join("day.toml");
    std::fs::write(&scenario, text).unwrap();
    crate::fogg()
        .arg("forecast")
        .arg(&scenario)
        .args(["--replicates", "2", "--resolution", "1min", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let file = dir.path().join("forecast-day.json");
    let forecast: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let expected: Vec<f64> = forecast["variants"][0]["expected"]["arrivals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // 08:55 to 09:05, played 60 times faster: 5 s at the low rate, 5 s at
    // the high one.
    let low: f64 = expected[535..540].iter().sum();
    let high: f64 = expected[540..545].iter().sum();
    assert!((high / low - 5.0).abs() < 1e-9, "the profile steps ×5 at 09:00: {low} → {high}");
    let (url, seconds, _server) = arrivals_server();
    let run = crate::fogg()
        .arg("load")
        .arg(&scenario)
        .args(["--target", &url, "--forecast"])
        .arg(&file)
        .args([
            "--window",
            "2026-12-07T08:55..2026-12-07T09:05",
            "--time-scale",
            "60",
            "--format",
            "json",
            "--out",
        ])
        .arg(dir.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    let counted = seconds.lock().unwrap().clone();
    let total: u64 = counted.iter().sum();
    // Every customer the run sent reached the server once.
    assert_eq!(Some(total), r["customers"].as_u64(), "{counted:?}");
    // The total is Poisson around the forecast's arrivals of those ten
    // minutes; its first seconds arrive at the low rate, its last at the
    // high one (a second at each edge left out for clocks that differ).
    let within = |what: &str, got: f64, mean: f64| {
        assert!(
            (got - mean).abs() < 5.0 * mean.sqrt(),
            "{what}: {got} counted, {mean:.1} expected; {counted:?}"
        )
    };
    within("the ten minutes", total as f64, low + high);
    let sum = |range: std::ops::Range<usize>| counted.get(range).map_or(0, |c| c.iter().sum::<u64>()) as f64;
    within("the first 4 s", sum(0..4), low * 4.0 / 5.0);
    within("the last 4 s", sum(6..10), high * 4.0 / 5.0);
    assert!(r["notes"].to_string().contains("played 60× faster"), "{}", r["notes"]);
    // A window outside the forecast, an unknown strategy, or another kind
    // of result is refused before any traffic.
    let refused = |args: &[&str], needle: &str| {
        assert_fails(
            crate::fogg()
                .arg("load")
                .arg(&scenario)
                .args(["--target", &url, "--forecast"])
                .arg(&file)
                .args(args),
            needle,
        );
    };
    refused(&["--window", "2026-12-08T08:00..2026-12-08T09:00"], "choose a window inside it");
    refused(&["--window", "2026-12-07T09:00..2026-12-07T08:00"], "the end must come after the start");
    refused(&["--strategy", "baseline2"], "no such strategy");
    assert_eq!(seconds.lock().unwrap().iter().sum::<u64>(), total, "no request was sent by a refused run");
}

/// retail-omnichannel (social: acquisition, baseline 20,000 a month,
/// half-saturation 30,000) without its bundled flights and adstock, with
/// `calendar_lines` added to its [calendar] and `flights` at the end.
fn retail_with(calendar_lines: &str, flights: &str) -> fogg_scenario::Scenario {
    let (_, text) = fogg_scenario::BUNDLED.iter().find(|(n, _)| *n == "retail-omnichannel").unwrap();
    let mut kept = String::new();
    let mut in_flight = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_flight = line.starts_with("[[calendar.flight]]");
        }
        if !in_flight && !line.starts_with("adstock = ") {
            kept += line;
            kept += "\n";
        }
    }
    let text = kept.replacen("days = 8\n", &format!("days = 8\n{calendar_lines}"), 1) + flights;
    fogg_scenario::from_str(&text, "scenarios/retail-omnichannel.toml")
        .unwrap_or_else(|e| panic!("valid: {e}"))
}

/// Expected arrivals per local day.
fn daily_arrivals(s: &fogg_scenario::Scenario) -> Vec<f64> {
    let calendar = s.calendar.as_ref().unwrap();
    let grid = Grid::new(calendar, 3600);
    let flighting = Flighting::new(&s.model, &s.model.baseline(), calendar).expect("flights fit");
    let customers = calendar.customers(s.model.customers_per_period.unwrap()) * flighting.arrivals.total()
        / calendar.minutes().total();
    let map = s.load_section().unwrap().request_map();
    let e = expected(&s.model, calendar, &flighting, customers, &grid, &map);
    let mut days = vec![0.0; grid.days.len()];
    for (j, a) in e.arrivals.iter().enumerate() {
        days[grid.day(j as f64 * 3600.0)] += a;
    }
    days
}

#[test]
fn a_flight_that_doubles_social_spend_moves_arrivals_in_its_days_by_the_hill_curve() {
    let none = retail_with("", "");
    let flight = "\n[[calendar.flight]]\nchannel = \"social\"\nfrom = \"2027-11-24\"\nto = \"2027-11-27\"\nspend = 40000\n";
    let doubled = retail_with("", flight);
    let (before, after) = (daily_arrivals(&none), daily_arrivals(&doubled));
    // Social brings g(40,000)/g(20,000) = (4/7)/(2/5) = 10/7 of its
    // entries on the flight's three days (22 and 23 November are before
    // it, 27 to 29 after): its share of entries is what moves.
    let social = none.model.channel_id("social").unwrap();
    let share: f64 = none
        .model
        .segments
        .iter()
        .map(|seg| {
            seg.share
                * seg
                    .chain
                    .entry
                    .iter()
                    .filter(|(t, _)| *t != u16::MAX && none.model.states[*t as usize].channel == social)
                    .map(|(_, p)| p)
                    .sum::<f64>()
        })
        .sum();
    for (d, (b, a)) in before.iter().zip(&after).enumerate() {
        let inside = (2..5).contains(&d);
        let want = if inside { b * (1.0 + share * (10.0 / 7.0 - 1.0)) } else { *b };
        assert!((a - want).abs() < 1e-6 * want, "day {d}: {a} arrivals, {want} expected (flight: {inside})");
    }
    // With a carry-over of 12 hours the effect builds up and outlasts the
    // flight: less on its first day, some on the day after, none before.
    let carried = daily_arrivals(&retail_with("adstock = { social = \"12h\" }\n", flight));
    assert_eq!(carried[..2], before[..2], "no change before the flight");
    assert!(
        carried[2] > before[2] && carried[2] < after[2],
        "builds up: {} {} {}",
        before[2],
        carried[2],
        after[2]
    );
    assert!(carried[5] > before[5] * 1.001, "carries over: {} vs {}", carried[5], before[5]);
    assert!(carried[7] - before[7] < carried[5] - before[5], "and fades");
    // The simulated forecast agrees with those expected arrivals and the
    // traffic they bring.
    let s = retail_with("adstock = { social = \"12h\" }\n", flight);
    let calendar = s.calendar.as_ref().unwrap();
    let map = s.load_section().unwrap().request_map();
    let customers = calendar.customers(s.model.customers_per_period.unwrap()) / 4.0;
    assert_agrees("flighted retail", &run(&s.model, calendar, &map, customers, 3600, 20));
}

/// Two touchpoints, `home` on the web and `post` on social (whose spend
/// drives `drives`: baseline 1,000 a week, half-saturation 1,000), over
/// two days, with social flown at `spend` from the second day's midnight
/// to its noon: at 3,000, g(3,000)/g(1,000) = 0.75/0.5 = 1.5.
fn social_flown(
    drives: &str,
    entry: &str,
    home: &str,
    calendar_lines: &str,
    spend: u32,
) -> fogg_scenario::Scenario {
    scenario(&format!(
        r#"
[scenario]
name = "flown"
period = "week"
customers_per_period = 200000

[[channel]]
id = "web"
kind = "online"

[[channel]]
id = "social"
kind = "online"
spend = {{ baseline = 1000, half_saturation = 1000, drives = "{drives}" }}

[entry]
{entry}

[[state]]
id = "home"
stage = "awareness"
channel = "web"
dwell = {home}

[[state]]
id = "post"
stage = "purchase"
channel = "social"
conversion = true
value = {{ dist = "constant", value = 10.0 }}
dwell = {{ dist = "constant", value = "0s" }}
next = {{ exit = 1 }}

[calendar]
start = "2027-03-01"
days = 2
hourly = [1, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 6, 7, 6, 6, 6, 6, 7, 9, 11, 12, 10, 6, 3]
{calendar_lines}
[[calendar.flight]]
channel = "social"
from = "2027-03-02T00:00"
to = "2027-03-02T12:00"
spend = {spend}

[load]
duration = "10s"
[[load.request]]
state = "home"
path = "/home"
[[load.request]]
state = "post"
path = "/post"
"#
    ))
}

/// Expected requests of `name` per hour, and arrivals per hour.
fn hourly(s: &fogg_scenario::Scenario, name: &str) -> (Vec<f64>, Vec<f64>) {
    let calendar = s.calendar.as_ref().unwrap();
    let map = s.load_section().unwrap().request_map();
    let k = map.names.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name} in {:?}", map.names));
    let flighting = Flighting::new(&s.model, &s.model.baseline(), calendar).expect("flights fit");
    let customers = calendar.customers(s.model.customers_per_period.unwrap()) * flighting.arrivals.total()
        / calendar.minutes().total();
    let e = expected(&s.model, calendar, &flighting, customers, &Grid::new(calendar, 3600), &map);
    let requests = (0..e.arrivals.len()).map(|j| e.requests[j * map.names.len() + k]).collect();
    (requests, e.arrivals)
}

#[test]
fn a_share_or_incremental_flight_moves_transitions_and_entries_by_the_hill_curve() {
    let at_once = "{ dist = \"constant\", value = \"0s\" }";
    let flown = |hour: usize| (24..36).contains(&hour);
    // `home` sends a quarter of its visits to `post` at once. During the
    // flight share makes that 1.5·¼ / (1.5·¼ + ¾) = ⅓, taken from every
    // other target; incremental makes it 1.5·¼ = ⅜, taken from the exit.
    for (drives, inside) in [("share", 1.0 / 3.0), ("incremental", 0.375)] {
        let s = social_flown(
            drives,
            "home = 1",
            &format!("{at_once}\nnext = {{ post = 1, exit = 3 }}"),
            "",
            3000,
        );
        let (post, _) = hourly(&s, "post");
        let (home, _) = hourly(&s, "home");
        for (hour, (p, h)) in post.iter().zip(&home).enumerate() {
            let want = if flown(hour) { inside } else { 0.25 };
            assert!(
                (p / h - want).abs() < 1e-9,
                "{drives}, hour {hour}: {} of home's visits go to post",
                p / h
            );
        }
    }
    // Share also moves entries, keeping the population: a quarter of the
    // arrivals start at `post`, a third during the flight.
    let entries = |drives: &str, spend: u32| {
        social_flown(drives, "home = 3\npost = 1", &format!("{at_once}\nnext = {{ exit = 1 }}"), "", spend)
    };
    let (post, arrivals) = hourly(&entries("share", 3000), "post");
    let (_, acquired) = hourly(&entries("acquisition", 3000), "post");
    // A flight at the baseline's own spend moves nothing.
    let (_, flat) = hourly(&entries("share", 1000), "post");
    for (hour, p) in post.iter().enumerate() {
        let want = if flown(hour) { 1.0 / 3.0 } else { 0.25 };
        assert!(
            (p / arrivals[hour] - want).abs() < 1e-9,
            "hour {hour}: {} of arrivals start at post",
            p / arrivals[hour]
        );
        assert!(
            (arrivals[hour] - flat[hour]).abs() < 1e-9 * flat[hour],
            "hour {hour}: share keeps the population"
        );
        // Acquisition, by contrast, adds the ½ more social entries.
        let more = if flown(hour) { 1.0 + 0.25 * 0.5 } else { 1.0 };
        assert!(
            (acquired[hour] - flat[hour] * more).abs() < 1e-9 * flat[hour],
            "hour {hour}: acquisition adds"
        );
    }
}

#[test]
fn simulated_traffic_follows_flights_that_move_transitions() {
    let home = "{ dist = \"lognormal\", median = \"20min\", p90 = \"3h\" }\nnext = { post = 1, exit = 3 }";
    let carried = "adstock = { social = \"6h\" }\n";
    for drives in ["share", "incremental"] {
        let s = social_flown(drives, "home = 3\npost = 1", home, carried, 3000);
        let calendar = s.calendar.as_ref().unwrap();
        let map = s.load_section().unwrap().request_map();
        let customers = calendar.customers(s.model.customers_per_period.unwrap());
        let run = run(&s.model, calendar, &map, customers, 3600, 20);
        assert_agrees(drives, &run);
        // The same walks against the traffic of a flight at the baseline's
        // spend (which moves nothing) must fail: the flight moved them.
        let still = social_flown(drives, "home = 3\npost = 1", home, carried, 1000);
        let unmoved = Run {
            totals: run.totals.clone(),
            expected: good_expected(&still, still.calendar.as_ref().unwrap(), &map, customers),
            ..run
        };
        let (_, requests, _) = agreement(&unmoved);
        assert!(requests > 3.0, "{drives}: the unmoved chain gives χ²/bin {requests:.2}");
        // Every customer converts at most once (at `post`), so conversions
        // in the window and after it are Poisson around the exact figure,
        // which the unmoved chain's misses.
        let converted =
            (run.totals.day_conversions.iter().sum::<u64>() + run.totals.after_conversions) as f64;
        let exact = run.replicates * run.expected.conversions;
        assert!(
            (converted - exact).abs() < 4.0 * exact.sqrt(),
            "{drives}: {converted} converted, {exact} exact"
        );
        let blind = run.replicates * unmoved.expected.conversions;
        assert!((converted - blind).abs() > 8.0 * blind.sqrt(), "{drives}: {converted} vs {blind} unmoved");
    }
}

/// SIGTERM during a forecast far too long to wait for: it stops at the
/// next chunk, reports the replicates every strategy finished (marked
/// interrupted), exits 2, and merge refuses the part.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_stops_a_forecast_and_keeps_the_replicates_it_finished() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["forecast", "campaign-launch", "--replicates", "10000", "--threads", "1"];
    let (saved, v) = crate::interrupted_run(&args, dir.path(), "forecast-campaign-launch.json");
    assert_eq!(v["interrupted"], true);
    let done = v["replicates"].as_u64().expect("count");
    assert!(done < 10_000, "{done}");
    for variant in v["variants"].as_array().expect("variants") {
        assert_eq!(variant["replicate_peaks"].as_array().expect("peaks").len() as u64, done);
    }
    let errors = crate::schema::errors(&crate::schema::schema_validator("forecast"), &v);
    assert_eq!(errors, Vec::<String>::new());
    let run = crate::fogg().arg("merge").arg(&saved).arg("--out").arg(dir.path().join("m")).assert().code(2);
    let err = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(err.contains("was interrupted"), "{err}");
}
