//! Load mode against real servers on loopback: the demo shop, or a small
//! axum server a test starts with the behaviour it needs.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use fogg_load::demo::{DemoConfig, start};
use fogg_load::plan::{ArrivalSchedule, RateProfile, Workload};
use fogg_load::{LoadOutcome, LoadPlan, StopReason, run};
use fogg_result::LoadResult;
use fogg_scenario::Scenario;

use crate::LiveShop;

/// A two-page journey: `a` (request `first`), then `b` (request `second`,
/// a conversion worth 10) with probability 0.6, then exit.
fn two_page_scenario(first: &str, second: &str, load: &str) -> Scenario {
    let text = two_page_text(first, second, load);
    fogg_scenario::from_str(&text, "two-pages.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The text of [`two_page_scenario`]: think time 20 ms between pages.
fn two_page_text(first: &str, second: &str, load: &str) -> String {
    format!(
        r#"
[scenario]
name = "two pages"
[[channel]]
id = "web"
kind = "online"
[entry]
a = 1
[[state]]
id = "a"
stage = "awareness"
channel = "web"
next = {{ b = 6, exit = 4 }}
[[state]]
id = "b"
stage = "purchase"
channel = "web"
conversion = true
value = {{ dist = "constant", value = 10.0 }}
next = {{ exit = 1 }}
[load]
think_time = {{ dist = "constant", value = "20ms" }}
{load}
[[load.request]]
state = "a"
name = "first"
path = "{first}"
[[load.request]]
state = "b"
name = "second"
path = "{second}"
"#
    )
}

pub(crate) fn plan(rate: f64, seconds: f64) -> LoadPlan {
    LoadPlan {
        seed: 3,
        run_id: 0x5eed,
        duration: Duration::from_secs_f64(seconds),
        workload: Workload::Open(RateProfile::Constant(rate)),
        max_customers: None,
        grace: Duration::from_secs(10),
        insecure: false,
        http2: false,
        progress: false,
        abort_on_error_rate: None,
        judging: None,
        shard: fogg_core::shard::Shard::WHOLE,
        threads: Some(2),
        debug_customers: 0,
    }
}

pub(crate) async fn load(scenario: &Scenario, target: &str, plan: &LoadPlan) -> (LoadResult, LoadOutcome) {
    let model = Arc::new(scenario.model.clone());
    let spec = scenario.load.clone().expect("[load]").spec;
    let signals = fogg_load::signals::signal_counter();
    let outcome = run(Arc::clone(&model), spec.clone(), target, plan, signals, None).await.expect("load run");
    (LoadResult::new(&model, &spec, plan, target, &outcome), outcome)
}

/// Serves `router` on a free loopback port.
pub(crate) async fn serve(router: Router) -> String {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

/// Serves `answer` on every path of a free loopback port, counting the
/// requests it receives.
async fn serve_counting<F, Fut>(answer: F) -> (String, Arc<std::sync::atomic::AtomicU64>)
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future + Send + 'static,
    Fut::Output: axum::response::IntoResponse,
{
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = Arc::clone(&count);
    let url = serve(Router::new().fallback(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        answer()
    }))
    .await;
    (url, count)
}

fn p(v: Option<f64>) -> f64 {
    v.expect("latency measured")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_received_equal_the_requests_the_journeys_imply() {
    let model = bundled_with_fast_think("retail-omnichannel");
    let demo = start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), DemoConfig::default()).await.expect("demo");
    let plan = plan(150.0, 3.0);
    let (r, _) = load(&model, &demo.url(), &plan).await;
    assert_eq!(r.customers_unfinished, 0);
    assert_eq!(r.arrivals_dropped, 0);
    // The journeys are those of `simulate` with the same seed: walk them
    // here and count the requests their states map to.
    let spec = &model.load.as_ref().expect("[load]").spec;
    let model = &model.model;
    let rngs = fogg_core::rng::CustomerRngs::new(plan.seed, fogg_core::rng::Stream::Journey);
    let implied: usize = (0..r.customers)
        .map(|i| {
            model.walk(&mut rngs.customer(i)).map(|s| spec.requests[s.state.0 as usize].len()).sum::<usize>()
        })
        .sum();
    assert!(implied > 50, "the run should send a fair number of requests ({implied})");
    assert_eq!(r.requests, implied as u64);
    assert_eq!(demo.stats.total(), implied as u64, "the server received exactly the implied requests");
    assert_eq!(r.errors.total(), 0);
    // The arrivals are exactly the schedule's, at the configured rate.
    let scheduled =
        ArrivalSchedule::new(RateProfile::Constant(150.0), plan.duration, plan.seed).count() as u64;
    assert_eq!(r.arrivals, scheduled);
    assert!(
        (r.achieved_arrival_rate / 150.0 - 1.0).abs() < 4.0 / (450f64).sqrt(),
        "{}",
        r.achieved_arrival_rate
    );
    // Every conversion was achieved: nobody was slowed down.
    assert_eq!(
        r.conversions + r.conversions_lost_to_latency + r.conversions_lost_to_errors,
        r.counterfactual_conversions
    );
}

/// What a run's customers did, whatever the timing: arrivals, customers,
/// requests, the journeys' conversions, and per request and per segment
/// the requests (and customers).
#[derive(Debug, PartialEq)]
struct Did {
    totals: [u64; 4],
    by_request: Vec<(String, u64)>,
    by_segment: Vec<(String, u64, u64)>,
}

fn what_the_customers_did(r: &LoadResult) -> Did {
    Did {
        totals: [r.arrivals, r.customers, r.requests, r.counterfactual_conversions],
        by_request: r.by_request.iter().map(|row| (row.name.clone(), row.requests)).collect(),
        by_segment: r.segments.iter().map(|row| (row.segment.clone(), row.customers, row.requests)).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thread_count_changes_no_customer_and_no_journey() {
    let model = bundled_with_fast_think("retail-omnichannel");
    let demo = start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), DemoConfig::default()).await.expect("demo");
    // Open: the first 300 arrivals of the schedule, on 1 and on 3 threads.
    let mut open = plan(400.0, 30.0);
    open.max_customers = Some(300);
    let mut runs = Vec::new();
    for threads in [1, 3] {
        let (r, _) = load(&model, &demo.url(), &LoadPlan { threads: Some(threads), ..open.clone() }).await;
        assert_eq!(r.stopped_by, StopReason::Customers, "{threads} threads");
        assert_eq!((r.customers, r.errors.total(), r.customers_unfinished), (300, 0, 0), "{threads} threads");
        runs.push(what_the_customers_did(&r));
    }
    assert_eq!(runs[0], runs[1], "1 thread against 3");
    assert!(runs[0].totals[2] > 60, "the journeys sent requests: {:?}", runs[0]);
    // Closed: a pool of 2 asked to run on 3 threads (it takes 2: a third
    // would hold no slot) runs exactly the customers asked for, the same
    // ones, and ends when they are done.
    let mut closed = plan(0.0, 30.0);
    closed.workload = Workload::Closed(2);
    closed.max_customers = Some(300);
    let (r, _) = load(&model, &demo.url(), &LoadPlan { threads: Some(3), ..closed }).await;
    assert_eq!(r.stopped_by, StopReason::Customers);
    assert_eq!(what_the_customers_did(&r), runs[0], "a closed pool of 2 on 3 threads");
    assert!(r.series.iter().all(|s| s.in_flight <= 2), "{:?}", r.series);
}

/// A bundled scenario with think times short enough for a test.
fn bundled_with_fast_think(name: &str) -> Scenario {
    let (_, text) = fogg_scenario::BUNDLED.iter().find(|(n, _)| *n == name).expect("bundled");
    let text = text.replace(
        "think_time = { dist = \"lognormal\", median = \"2s\", p90 = \"8s\" }",
        "think_time = { dist = \"constant\", value = \"10ms\" }",
    );
    let text = text.replace(
        "patience = { dist = \"lognormal\", median = \"3s\", p90 = \"10s\" }",
        "patience = { dist = \"constant\", value = \"1h\" }",
    );
    fogg_scenario::from_str(&text, &format!("scenarios/{name}.toml")).expect("valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_endpoint_shows_in_its_own_histogram_only() {
    let target = serve(Router::new().route("/fast", get(|| async { "ok" })).route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(250)).await;
            "ok"
        }),
    ))
    .await;
    let model = two_page_scenario("/fast", "/slow", "patience = { dist = \"constant\", value = \"1h\" }");
    let (r, _) = load(&model, &target, &plan(40.0, 2.0)).await;
    let row = |n: &str| r.by_request.iter().find(|q| q.name == n).expect("request row").clone();
    let (fast, slow) = (row("first"), row("second"));
    assert!(fast.requests > 20 && slow.requests > 10);
    // The server held every slow request 250 ms: a floor, whatever the
    // machine's speed. The fast endpoint's own histogram is not pulled up
    // to it: its median stays below the slow one's.
    assert!(p(slow.latency_ms.p50) >= 250.0, "slow p50 {:?}", slow.latency_ms);
    assert!(p(slow.service_time_ms.p50) >= 250.0);
    assert!(p(fast.latency_ms.p50) < p(slow.latency_ms.p50), "fast {:?}", fast.latency_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stall_shows_in_p99() {
    // Every request arriving in the stall window waits until it ends.
    let started = Arc::new(std::sync::OnceLock::<tokio::time::Instant>::new());
    let s = Arc::clone(&started);
    let target = serve(Router::new().route(
        "/page",
        get(move || {
            let s = Arc::clone(&s);
            async move {
                let t0 = *s.get_or_init(tokio::time::Instant::now);
                let (from, to) = (t0 + Duration::from_millis(800), t0 + Duration::from_millis(1300));
                let now = tokio::time::Instant::now();
                if now >= from && now < to {
                    tokio::time::sleep_until(to).await;
                }
                "ok"
            }
        }),
    ))
    .await;
    let model = two_page_scenario("/page", "/page", "patience = { dist = \"constant\", value = \"1h\" }");
    let (r, _) = load(&model, &target, &plan(200.0, 2.5)).await;
    // Floors the server set, and order: the stall is in the tail, not the
    // median.
    assert!(p(r.latency_ms.p50) < p(r.latency_ms.p99), "{:?}", r.latency_ms);
    assert!(p(r.latency_ms.p99) >= 300.0, "the 500 ms stall must show in p99: {:?}", r.latency_ms);
    assert!(p(r.latency_ms.max) >= 450.0, "{:?}", r.latency_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_pages_cost_conversions_paired_with_the_counterfactual() {
    let target = serve(Router::new().route(
        "/page",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            "ok"
        }),
    ))
    .await;
    // Patience uniform on [0, 200 ms): half of the 100 ms responses are
    // too slow.
    let model = two_page_scenario(
        "/page",
        "/page",
        "patience = { dist = \"uniform\", min = \"0s\", max = \"200ms\" }",
    );
    let (r, _) = load(&model, &target, &plan(50.0, 2.0)).await;
    assert_eq!(r.customers_unfinished, 0);
    assert_eq!(r.conversions + r.conversions_lost_to_latency, r.counterfactual_conversions);
    assert_eq!(r.conversions_lost_to_errors, 0);
    assert!(r.conversions_lost_to_latency > 0 && r.conversions > 0, "{r:?}");
    assert!((r.revenue_at_risk - 10.0 * r.conversions_lost_to_latency as f64).abs() < 1e-9);
    // The counterfactual is what the journeys themselves hold.
    let rngs = fogg_core::rng::CustomerRngs::new(3, fogg_core::rng::Stream::Journey);
    let model = &model.model;
    let exact: u64 = (0..r.customers)
        .map(|i| {
            model.walk(&mut rngs.customer(i)).filter(|s| model.states[s.state.0 as usize].conversion).count()
                as u64
        })
        .sum();
    assert_eq!(r.counterfactual_conversions, exact);
    // About half of the customers leave at each page: lost / counterfactual ≈ 0.75.
    let lost = r.conversions_lost_share;
    assert!((0.55..0.92).contains(&lost), "share lost {lost}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_counted_by_class_and_the_run_completes() {
    // A raw listener that accepts and closes connections without answering.
    let closer =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
    let closer_addr = closer.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = closer.accept().await {
            drop(socket);
        }
    });
    let target = serve(
        Router::new()
            .route("/busy", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "busy") }))
            .route("/missing", get(|| async { (StatusCode::NOT_FOUND, "no") }))
            .route(
                "/hang",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            ),
    )
    .await;
    let load_section =
        "patience = { dist = \"constant\", value = \"1h\" }\non_error = \"continue\"\ntimeout = \"300ms\"";
    for (path, class) in [("/busy", "5xx"), ("/missing", "4xx"), ("/hang", "timeout")] {
        let model = two_page_scenario(path, path, load_section);
        let (r, _) = load(&model, &target, &plan(30.0, 1.0)).await;
        let e = r.errors;
        let counted = match class {
            "5xx" => e.status_5xx,
            "4xx" => e.status_4xx,
            _ => e.timeout,
        };
        assert!(r.requests > 10, "{class}: {}", r.requests);
        assert_eq!(counted, r.requests, "{class}: every request fails that way: {e:?}");
        assert_eq!(e.total(), r.requests, "{class}: {e:?}");
        assert_eq!(r.customers_unfinished, 0);
    }
    // A target that accepts connections and closes them unanswered is up
    // and misbehaving: `other`, not `connect`.
    let model = two_page_scenario("/x", "/x", load_section);
    let (r, _) = load(&model, &format!("http://{closer_addr}"), &plan(30.0, 1.0)).await;
    assert!(r.requests > 10);
    assert_eq!(r.errors.other, r.requests, "{:?}", r.errors);
    // So is one that answers with something that is not HTTP.
    let garbage =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
    let garbage_addr = garbage.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = garbage.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(b"HELLO THERE\r\n\r\n").await;
            });
        }
    });
    let (r, _) = load(&model, &format!("http://{garbage_addr}"), &plan(30.0, 1.0)).await;
    assert!(r.requests > 10);
    assert_eq!(r.errors.other, r.requests, "{:?}", r.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_end_journeys_by_default_and_cost_conversions() {
    let target = serve(
        Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route("/busy", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "busy") })),
    )
    .await;
    // First page fine, the conversion page always fails.
    let model = two_page_scenario("/ok", "/busy", "patience = { dist = \"constant\", value = \"1h\" }");
    let (r, _) = load(&model, &target, &plan(40.0, 1.5)).await;
    assert_eq!(r.conversions, 0);
    assert!(r.conversions_lost_to_errors > 0);
    assert_eq!(r.conversions_lost_to_errors, r.counterfactual_conversions);
    assert_eq!(r.abandoned_errors, r.errors.status_5xx);
}

/// A target that refuses every connection: the run stops within seconds
/// (not after its two minutes), says why, and still writes its report.
#[test]
fn a_dead_target_stops_the_run_early_with_a_written_report() {
    let args = ["load", "campaign-launch", "--duration", "2m", "--rate", "40", "--grace", "2s"];
    let run = crate::against_dead_target(&args, "load-campaign-launch.json");
    let v = &run.saved;
    assert!(v["errors"]["connect"].as_u64().expect("count") >= 5);
    assert_eq!(v["stopped_by"], "target_down", "{v}");
    assert!(v["duration_s"].as_f64().expect("seconds") < 60.0, "{v}");
    let stdout = &run.stdout;
    assert!(stdout.contains("stopped by target down (no connection for 5 s)"), "{stdout}");
}

#[cfg(unix)]
#[test]
fn sigint_stops_the_run_and_writes_the_report() {
    let out = tempfile::tempdir().expect("temp dir");
    let shop = LiveShop::start(DemoConfig::default());
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .args(["load", "campaign-launch", "--duration", "60s", "--grace", "1s", "--format", "json", "--out"])
        .arg(out.path())
        .args(["--target", &shop.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Once the shop has seen a request, the run is under way and its
    // signal handlers are installed.
    shop.wait_for_requests(1, Duration::from_secs(120));
    let killed =
        std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("waits");
    // Cut short, with no threshold failed: incomplete, never a pass.
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report on stdout");
    assert_eq!(v["stopped_by"], "interrupted");
    assert_eq!(v["verdict"], "incomplete");
    assert!(v["requests"].as_u64().expect("count") > 0);
    assert!(v["duration_s"].as_f64().expect("s") < 60.0, "arrivals stopped before the duration");
    assert!(out.path().join("load-campaign-launch.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_workload_keeps_n_customers_in_flight() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n2, p2) = (Arc::clone(&now), Arc::clone(&peak));
    let target = serve(Router::new().route(
        "/page",
        get(move || {
            let (now, peak) = (Arc::clone(&n2), Arc::clone(&p2));
            async move {
                let inside = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(inside, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        }),
    ))
    .await;
    let model = two_page_scenario("/page", "/page", "patience = { dist = \"constant\", value = \"1h\" }");
    let mut plan = plan(0.0, 2.0);
    plan.workload = Workload::Closed(5);
    let (r, _) = load(&model, &target, &plan).await;
    assert_eq!(peak.load(Ordering::SeqCst), 5, "the server saw exactly 5 customers at once at the peak");
    assert!(r.customers > 40, "finished customers are replaced: {}", r.customers);
    assert_eq!(r.arrivals_dropped, 0);
    assert_eq!(r.target_arrival_rate, None);
    assert!(r.series.iter().all(|s| s.in_flight <= 5), "{:?}", r.series);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeder_rows_reach_the_server_round_robin() {
    use std::collections::BTreeSet;
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let s = Arc::clone(&seen);
    let target = serve(Router::new().route(
        "/p/{sku}",
        get(move |axum::extract::Path(sku): axum::extract::Path<String>| {
            let s = Arc::clone(&s);
            async move {
                s.lock().expect("lock").push(sku);
                "ok"
            }
        }),
    ))
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("items.csv"), "sku, name\nA-1, first\nB-2, second\nC-3, third\n")
        .expect("csv");
    let scenario = dir.path().join("feed.toml");
    let text = "[scenario]\nname = \"feed\"\n[[channel]]\nid = \"web\"\nkind = \"online\"\n[entry]\na = 1\n\
                [[state]]\nid = \"a\"\nstage = \"awareness\"\nchannel = \"web\"\nnext = { exit = 1 }\n\
                [load]\n[[load.feeder]]\nid = \"items\"\nfile = \"items.csv\"\n\
                [[load.request]]\nstate = \"a\"\npath = \"/p/{items.sku}\"\n";
    std::fs::write(&scenario, text).expect("scenario");
    let model = fogg_scenario::from_path(&scenario).expect("valid");
    let mut plan = plan(100.0, 1.0);
    plan.max_customers = Some(30);
    let (r, _) = load(&model, &target, &plan).await;
    assert_eq!(r.requests, 30);
    assert_eq!(r.errors.total(), 0);
    let seen = seen.lock().expect("lock").clone();
    // Customer i gets row i mod 3: ten of each, trimmed of spaces.
    let distinct: BTreeSet<&str> = seen.iter().map(String::as_str).collect();
    assert_eq!(distinct, BTreeSet::from(["A-1", "B-2", "C-3"]));
    for sku in ["A-1", "B-2", "C-3"] {
        assert_eq!(seen.iter().filter(|s| *s == sku).count(), 10, "{sku}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn think_time_by_state_replaces_the_default_after_that_state() {
    // After `a` customers think 400 ms instead of the default hour: they
    // reach `b` within the run at all only if the state's think time
    // replaced the default, and the gap the server measured between
    // their two requests is at least the 400 ms.
    let stamps = Arc::new(std::sync::Mutex::new(Vec::<(String, tokio::time::Instant)>::new()));
    let s = Arc::clone(&stamps);
    let target = serve(Router::new().route(
        "/c/{customer}",
        get(move |axum::extract::Path(c): axum::extract::Path<String>| {
            let s = Arc::clone(&s);
            async move {
                s.lock().expect("lock").push((c, tokio::time::Instant::now()));
                "ok"
            }
        }),
    ))
    .await;
    let text = two_page_text(
        "/c/{customer}",
        "/c/{customer}",
        "patience = { dist = \"constant\", value = \"1h\" }\nthink_time_by_state = { a = { dist = \"constant\", value = \"400ms\" } }",
    )
    .replace("value = \"20ms\"", "value = \"1h\"");
    let model = fogg_scenario::from_str(&text, "two-pages.toml").unwrap_or_else(|e| panic!("{e}"));
    let (r, _) = load(&model, &target, &plan(20.0, 1.0)).await;
    assert_eq!(r.customers_unfinished, 0);
    let stamps = stamps.lock().expect("lock").clone();
    let mut gaps = Vec::new();
    for (c, t) in &stamps {
        if let Some((_, later)) = stamps.iter().find(|(c2, t2)| c2 == c && t2 > t) {
            gaps.push(later.duration_since(*t));
        }
    }
    assert!(gaps.len() > 3, "some customers reached b: {}", gaps.len());
    for g in gaps {
        assert!(g >= Duration::from_millis(400), "gap {g:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_spoken_when_asked() {
    let versions = Arc::new(std::sync::Mutex::new(Vec::<axum::http::Version>::new()));
    let v = Arc::clone(&versions);
    let target = serve(Router::new().route(
        "/page",
        get(move |version: axum::http::Version| {
            let v = Arc::clone(&v);
            async move {
                v.lock().expect("lock").push(version);
                "ok"
            }
        }),
    ))
    .await;
    let model = two_page_scenario("/page", "/page", "patience = { dist = \"constant\", value = \"1h\" }");
    for (http2, expected) in [(false, axum::http::Version::HTTP_11), (true, axum::http::Version::HTTP_2)] {
        versions.lock().expect("lock").clear();
        let mut plan = plan(20.0, 0.5);
        plan.http2 = http2;
        let (r, _) = load(&model, &target, &plan).await;
        assert!(r.requests > 3);
        assert_eq!(r.errors.total(), 0, "{:?}", r.errors);
        let seen = versions.lock().expect("lock").clone();
        assert_eq!(seen.len() as u64, r.requests);
        assert!(seen.iter().all(|v| *v == expected), "http2 = {http2}: {seen:?}");
        // The result says which version the target answered in, as counted.
        let (one, two) = if http2 { (0, r.requests) } else { (r.requests, 0) };
        assert_eq!((r.http_versions.http1, r.http_versions.http2), (one, two));
        let header = fogg_report::Reportable::document(&r).lines[0].clone();
        assert!(header.contains(if http2 { "(HTTP/2)" } else { "(HTTP/1.1)" }), "{header}");
    }
}

/// Serves `router` (HTTP/1.1, and HTTP/2 spoken at once) on a free
/// loopback port, counting the connections it accepts.
async fn serve_counting_connections(router: Router) -> (String, Arc<std::sync::atomic::AtomicU64>) {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let router = router.clone();
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(tcp),
                        hyper_util::service::TowerToHyperService::new(router),
                    )
                    .await;
            });
        }
    });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pool_larger_than_max_in_flight_is_refused_before_a_request() {
    let (target, served) = serve_counting(|| async { "ok" }).await;
    let scenario = two_page_scenario("/a", "/b", "max_in_flight = 3");
    let mut plan = plan(0.0, 1.0);
    plan.workload = Workload::Closed(4);
    let model = Arc::new(scenario.model.clone());
    let spec = scenario.load.clone().expect("[load]").spec;
    let signals = fogg_load::signals::signal_counter();
    let refused = run(model, spec, &target, &plan, signals, None).await.expect_err("a pool of 4 over 3");
    assert!(
        refused.to_string().contains("a closed pool of 4 customers is more than [load] max_in_flight = 3"),
        "{refused}"
    );
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_kept_alive_and_http2_ones_shared() {
    use std::sync::atomic::Ordering;
    let model = two_page_scenario("/a", "/b", "patience = { dist = \"constant\", value = \"1h\" }");
    for http2 in [false, true] {
        let (target, accepted) =
            serve_counting_connections(Router::new().fallback(get(|| async { "ok" }))).await;
        let mut plan = plan(0.0, 30.0);
        plan.workload = Workload::Closed(4);
        plan.max_customers = Some(120);
        plan.http2 = http2;
        let (r, _) = load(&model, &target, &plan).await;
        assert_eq!(r.errors.total(), 0, "{:?}", r.errors);
        assert!(r.requests >= 120, "{}", r.requests);
        let opened = accepted.load(Ordering::SeqCst);
        // Each of the 4 customers has one request in flight at most: HTTP/1.1
        // needs no more connections than that, whatever the requests. Over
        // HTTP/2, each of the 2 threads opens one and multiplexes over it.
        let most = if http2 { 2 } else { 4 };
        assert!(
            (1..=most).contains(&opened),
            "http2 = {http2}: {opened} connections for {} requests",
            r.requests
        );
    }
}

/// An HTTP/2 server (h2c) that refuses the first of every `refuse`
/// streams with `REFUSED_STREAM`, unprocessed, and answers the rest 200;
/// its URL, and the streams it refused and answered.
async fn serve_h2_refusing(refuse: u64) -> (String, Arc<[std::sync::atomic::AtomicU64; 2]>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let seen = Arc::clone(&counts);
    tokio::spawn(async move {
        let streams = Arc::new(AtomicU64::new(0));
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let (seen, streams) = (Arc::clone(&seen), Arc::clone(&streams));
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(socket).await else { return };
                while let Some(Ok((_, mut respond))) = connection.accept().await {
                    if streams.fetch_add(1, Ordering::SeqCst) % refuse == 0 {
                        respond.send_reset(h2::Reason::REFUSED_STREAM);
                        seen[0].fetch_add(1, Ordering::SeqCst);
                    } else {
                        let response = axum::http::Response::new(());
                        if let Ok(mut body) = respond.send_response(response, false) {
                            let _ = body.send_data(bytes::Bytes::from_static(b"ok"), true);
                        }
                        seen[1].fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    (url, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_an_http2_server_refused_unprocessed_is_sent_again() {
    use std::sync::atomic::Ordering;
    // Every second stream is refused: each request is refused once and
    // answered when sent again.
    let (target, counts) = serve_h2_refusing(2).await;
    let model = two_page_scenario("/page", "/page", "patience = { dist = \"constant\", value = \"1h\" }");
    let mut plan = plan(0.0, 30.0);
    plan.workload = Workload::Closed(1);
    plan.max_customers = Some(10);
    plan.http2 = true;
    let (r, _) = load(&model, &target, &plan).await;
    assert_eq!(r.errors.total(), 0, "{:?}", r.errors);
    assert!(r.requests >= 10, "{}", r.requests);
    assert_eq!(counts[1].load(Ordering::SeqCst), r.requests, "the server answered every request once");
    assert_eq!(counts[0].load(Ordering::SeqCst), r.requests, "and refused each once before");
    // Refused every time, a request fails after its resends: it is not
    // sent forever.
    let (target, counts) = serve_h2_refusing(1).await;
    plan.max_customers = Some(1);
    let (r, _) = load(&model, &target, &plan).await;
    assert_eq!((r.requests, r.errors.other), (1, 1), "{:?}", r.errors);
    assert_eq!(counts[0].load(Ordering::SeqCst), 3, "sent once and again twice");
}

/// Serves `router` over TLS with a fresh self-signed certificate,
/// offering the application protocols `alpn` (none: HTTP/1.1).
async fn serve_tls(router: Router, alpn: &[&[u8]]) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, router) = (acceptor.clone(), router.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    let _ =
                        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                            .serve_connection(
                                hyper_util::rt::TokioIo::new(tls),
                                hyper_util::service::TowerToHyperService::new(router),
                            )
                            .await;
                }
            });
        }
    });
    format!("https://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_verified_unless_insecure_is_asked() {
    let target = serve_tls(Router::new().route("/page", get(|| async { "ok" })), &[]).await;
    let model = two_page_scenario("/page", "/page", "patience = { dist = \"constant\", value = \"1h\" }");
    let mut plan = plan(20.0, 0.5);
    // Verification is on by default: a self-signed certificate is refused.
    let (refused, _) = load(&model, &target, &plan).await;
    assert!(refused.requests > 3);
    assert_eq!(refused.errors.connect, refused.requests, "{:?}", refused.errors);
    // The report names the certificate problem and the fix.
    let why = refused.commonest_failure().expect("a reason");
    assert!(why.starts_with("TLS: invalid peer certificate") && why.ends_with("add --insecure"), "{why}");
    // https:// to a plain-HTTP port is named as such.
    let plain = serve(Router::new().route("/page", get(|| async { "ok" }))).await;
    let https = plain.replace("http://", "https://");
    let (mismatch, _) = load(&model, &https, &plan).await;
    assert_eq!(mismatch.errors.connect, mismatch.requests, "{:?}", mismatch.errors);
    let why = mismatch.commonest_failure().expect("a reason");
    assert!(why.contains("does not speak TLS on this port; for plain HTTP, give an http:// target"), "{why}");
    // With --insecure, the same server is accepted.
    plan.insecure = true;
    let (accepted, _) = load(&model, &target, &plan).await;
    assert!(accepted.requests > 3);
    assert_eq!(accepted.errors.total(), 0, "{:?}", accepted.errors);
    assert_eq!(accepted.http_versions.http1, accepted.requests, "no protocol negotiated: HTTP/1.1");
    // A server that offers HTTP/2 is spoken to in it.
    let target = serve_tls(Router::new().route("/page", get(|| async { "ok" })), &[b"h2", b"http/1.1"]).await;
    let (negotiated, _) = load(&model, &target, &plan).await;
    assert!(negotiated.requests > 3);
    assert_eq!(negotiated.errors.total(), 0, "{:?}", negotiated.errors);
    assert_eq!(negotiated.http_versions.http2, negotiated.requests, "negotiated: HTTP/2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_customer_keeps_its_own_cookies() {
    use axum::extract::Path;
    use axum::http::HeaderMap;
    let target = serve(
        Router::new()
            .route(
                "/a/{customer}",
                get(|Path(c): Path<String>| async move {
                    ([("set-cookie", format!("session={c}; Path=/"))], "welcome")
                }),
            )
            .route(
                "/b/{customer}",
                get(|Path(c): Path<String>, headers: HeaderMap| async move {
                    let cookie = headers.get("cookie").and_then(|v| v.to_str().ok()).unwrap_or("");
                    if cookie == format!("session={c}") { StatusCode::OK } else { StatusCode::FORBIDDEN }
                }),
            ),
    )
    .await;
    let model = two_page_scenario(
        "/a/{customer}",
        "/b/{customer}",
        "patience = { dist = \"constant\", value = \"1h\" }\non_error = \"continue\"",
    );
    let (r, _) = load(&model, &target, &plan(40.0, 1.0)).await;
    let second = r.by_request.iter().find(|q| q.name == "second").expect("second page");
    assert!(second.requests > 5);
    assert_eq!(r.errors.total(), 0, "every customer sent back its own session cookie: {:?}", r.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrivals_beyond_max_in_flight_are_dropped_and_counted() {
    let target = serve(Router::new().route(
        "/page",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "ok"
        }),
    ))
    .await;
    let model = two_page_scenario(
        "/page",
        "/page",
        "patience = { dist = \"constant\", value = \"1h\" }\nmax_in_flight = 3",
    );
    let (r, _) = load(&model, &target, &plan(50.0, 1.0)).await;
    assert!(r.arrivals_dropped > 10, "{r:?}");
    assert_eq!(r.customers + r.arrivals_dropped, r.arrivals);
    assert!(r.series.iter().all(|s| s.in_flight <= 3), "{:?}", r.series);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shop_answers_503_when_its_queue_is_full() {
    // One worker of 50 ms and a queue of 2: 20 requests/s at most.
    let config = DemoConfig { capacity_rps: 20.0, latency: Duration::from_millis(50), queue: 2 };
    let demo = start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await.expect("demo");
    let model = two_page_scenario(
        "/landing",
        "/checkout-missing",
        "patience = { dist = \"constant\", value = \"1h\" }\non_error = \"continue\"",
    );
    let (r, _) = load(&model, &demo.url(), &plan(100.0, 1.0)).await;
    assert!(demo.stats.rejected() > 0, "an overloaded shop rejects requests");
    assert_eq!(r.errors.status_5xx, demo.stats.rejected(), "{:?}", r.errors);
    assert!(r.errors.status_4xx > 0, "an unknown path is a 404: {:?}", r.errors);
    // Queueing shows: the served requests waited for the worker.
    let first = r.by_request.iter().find(|q| q.name == "first").expect("row");
    assert!(p(first.latency_ms.p90) > 100.0, "{:?}", first.latency_ms);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_run_and_writes_the_report() {
    let out = tempfile::tempdir().expect("temp dir");
    let shop = LiveShop::start(DemoConfig::default());
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .args(["load", "ecommerce-funnel", "--duration", "60s", "--grace", "1s", "--out"])
        .arg(out.path())
        .args(["--target", &shop.url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    shop.wait_for_requests(1, Duration::from_secs(120));
    let killed =
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait_with_output().expect("waits").status;
    assert_eq!(status.code(), Some(2), "a run cut short is not a pass");
    let saved =
        std::fs::read_to_string(out.path().join("load-ecommerce-funnel.json")).expect("report written");
    let v: serde_json::Value = serde_json::from_str(&saved).expect("JSON");
    assert_eq!(v["stopped_by"], "interrupted");
    assert_eq!(v["verdict"], "incomplete");
}

/// A signal while fogg is still setting up (here: blocked reading a feeder
/// that is a named pipe) stops the run at its start with a report, never
/// the default "terminate at once".
#[cfg(target_os = "linux")]
#[test]
fn a_signal_during_setup_still_writes_a_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("ids.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let scenario = crate::SHORT_JOURNEYS.replace("path = \"/\"", "path = \"/?id={ids.id}\"")
        + "[[load.feeder]]\nid = \"ids\"\nfile = \"ids.csv\"\n";
    let path = dir.path().join("setup.toml");
    std::fs::write(&path, scenario).expect("write scenario");
    let (_held, port) = crate::refusing_port();
    let out = dir.path().join("out");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .arg("load")
        .arg(&path)
        .args(["--duration", "60s", "--rate", "5", "--target", &format!("http://127.0.0.1:{port}"), "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // fogg catches SIGTERM before it reads the scenario, and then blocks
    // opening the pipe: the signal comes during setup.
    crate::sigterm_once_caught(child.id());
    // Now let the setup go on: the pipe gets its rows.
    std::fs::write(&fifo, "id\n1\n2\n").expect("write the feeder");
    let output = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted by a signal before any request was sent"), "{stderr}");
    let saved = std::fs::read_to_string(out.join("load-setup.json")).expect("report written");
    let v: serde_json::Value = serde_json::from_str(&saved).expect("JSON");
    assert_eq!(v["stopped_by"], "interrupted");
    assert_eq!(v["requests"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_shards_merge_into_summed_histograms_with_disjoint_customers() {
    use axum::extract::{Path, State};
    use fogg_core::shard::Shard;
    use fogg_result::merge::merge_loads;
    use std::sync::Mutex;

    // The server records which customer sent each request.
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let router = Router::new()
        .route(
            "/c/{customer}",
            get(|State(seen): State<Arc<Mutex<Vec<u64>>>>, Path(c): Path<u64>| async move {
                seen.lock().expect("lock").push(c);
                "ok"
            }),
        )
        .with_state(Arc::clone(&seen));
    let target = serve(router).await;
    let model = two_page_scenario("/c/{customer}", "/c/{customer}", "");
    let count = 3;
    let mut parts = Vec::new();
    for index in 1..=count {
        let mut plan = plan(60.0 / f64::from(count), 2.0);
        plan.shard = Shard { index, count };
        let (mut result, _) = load(&model, &target, &plan).await;
        result.check(&[fogg_load::threshold::Threshold::parse("p99 < 10s").expect("threshold")]);
        // Through JSON, as `fogg merge` reads them.
        let json = serde_json::to_string(&result).expect("serialises");
        parts.push(serde_json::from_str::<LoadResult>(&json).expect("reads back"));
    }
    let names: Vec<String> = (1..=count).map(|i| format!("shard {i}")).collect();
    let merged = merge_loads(&parts, &names).expect("merges");

    // Counts and histogram counts are the shards' sums.
    let sum = |f: &dyn Fn(&LoadResult) -> u64| parts.iter().map(f).sum::<u64>();
    assert_eq!(merged.requests, sum(&|r| r.requests));
    assert_eq!(merged.customers, sum(&|r| r.customers));
    assert_eq!(merged.raw.agg.overall.latency_us.len(), sum(&|r| r.raw.agg.overall.latency_us.len()));
    assert_eq!(merged.requests, merged.raw.agg.overall.latency_us.len());
    // Percentiles come from the merged histogram, not from averaging.
    let mut h = parts[0].raw.agg.overall.latency_us.clone();
    for p in &parts[1..] {
        h.add(&p.raw.agg.overall.latency_us).expect("same bounds");
    }
    assert_eq!(merged.latency_ms.p99, Some(h.value_at_quantile(0.99) as f64 / 1000.0));
    let asked = merged.target_arrival_rate.expect("open workload");
    assert!((asked - 60.0).abs() < 1e-6, "the shards' rates add up: {asked}");
    assert_eq!(merged.raw.thresholds, ["p99 < 10s"], "the shards' thresholds travel to the merge");
    let per_second: u64 = merged.series.iter().map(|s| s.requests).sum();
    assert_eq!(per_second, merged.requests, "the series lines up every request");

    // No customer was walked by two shards; every request reached the server.
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len() as u64, merged.requests);
    let mut customers: Vec<u64> = seen.clone();
    customers.sort_unstable();
    customers.dedup();
    assert_eq!(customers.len() as u64, merged.customers, "each customer in one shard only");
    for c in &customers {
        let shard = (c % u64::from(count)) as usize;
        assert!(parts[shard].customers > 0, "customer {c} belongs to shard {}", shard + 1);
    }

    let err = merge_loads(&parts[..2], &names[..2]).unwrap_err().to_string();
    assert!(err.contains("shard 3/3 missing"), "{err}");

    // These shards ran one after another: the merge says so, since its
    // rates are over the whole span, not what the target took at once.
    assert!(merged.notes.iter().any(|n| n.contains("did not run together")), "{:?}", merged.notes);
    let header = fogg_report::Reportable::document(&merged).lines.join("\n");
    assert!(header.contains("did not run together"), "{header}");
    // Started together (and on two targets): no such note, both targets named.
    let mut together = parts.clone();
    for p in &mut together {
        p.raw.started_at_unix_ms = parts[0].raw.started_at_unix_ms;
    }
    together[1].target = "http://127.0.0.1:9".to_owned();
    let merged = merge_loads(&together, &names).expect("merges");
    assert!(merged.notes.is_empty(), "{:?}", merged.notes);
    assert_eq!(merged.target, format!("{}, http://127.0.0.1:9", parts[0].target));
    // A shard's own report says it is one part of a run.
    let header = fogg_report::Reportable::document(&parts[1]).lines.join("\n");
    assert!(header.contains("shard 2 of 3: 1/3 of the arrivals"), "{header}");
}

/// The two-page scenario on `/big`, each request expecting its text in
/// the body (the key is written after the path, inside the template).
fn expecting_bodies(first: &str, second: &str) -> Scenario {
    let expecting = |text: &str| format!("/big\"\nexpect_body = \"{text}");
    two_page_scenario(&expecting(first), &expecting(second), "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_only_within_the_targets_origin() {
    use axum::response::Redirect;
    use std::sync::atomic::{AtomicU64, Ordering};

    // Another origin (another port) that counts every request it gets.
    let (elsewhere, elsewhere_hits) = serve_counting(|| async { "stolen" }).await;
    let landed = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&landed);
    let away = format!("{elsewhere}/stolen");
    let target = serve(
        Router::new()
            .route("/same", get(|| async { Redirect::to("/ok") }))
            .route(
                "/ok",
                get(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    async { "ok" }
                }),
            )
            .route("/away", get(move || std::future::ready(Redirect::to(&away)))),
    )
    .await;
    let scenario = two_page_scenario("/same", "/away", "");
    let (r, _) = load(&scenario, &target, &plan(40.0, 1.0)).await;
    let row = |name: &str| r.by_request.iter().find(|q| q.name == name).expect("row").clone();
    let (same, away) = (row("first"), row("second"));
    assert!(same.requests > 0 && away.requests > 0, "{same:?} {away:?}");
    assert_eq!(elsewhere_hits.load(Ordering::Relaxed), 0, "no request left the target's origin");
    assert_eq!(landed.load(Ordering::Relaxed), same.requests, "every same-origin redirect was followed");
    assert_eq!(same.errors.other, 0);
    assert_eq!(away.errors.other, away.requests, "a redirect off the origin is an error: {:?}", away.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_body_is_searched_as_it_streams() {
    use axum::body::{Body, Bytes};

    // 32 MiB in 64 KiB chunks, "END" only in the last bytes.
    let router = Router::new().route(
        "/big",
        get(|| async {
            let chunks = (0..512).map(|i| {
                let mut chunk = vec![b'x'; 64 * 1024];
                if i == 511 {
                    chunk.extend_from_slice(b"END");
                }
                Ok::<_, std::io::Error>(Bytes::from(chunk))
            });
            Body::from_stream(futures_util::stream::iter(chunks))
        }),
    );
    let target = serve(router).await;
    let (r, _) = load(&expecting_bodies("END", "ENDX"), &target, &plan(5.0, 1.0)).await;
    let row = |name: &str| r.by_request.iter().find(|q| q.name == name).expect("row").clone();
    let (found, absent) = (row("first"), row("second"));
    assert!(found.requests > 0, "{found:?}");
    assert_eq!(found.errors.check + found.errors.other + found.errors.timeout, 0, "{:?}", found.errors);
    assert_eq!(absent.errors.check, absent.requests, "{:?}", absent.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_still_unanswered_at_the_end_are_counted_as_timeouts() {
    use std::sync::atomic::Ordering;

    // A server that reads each request, counts it and never answers.
    let (target, received) = serve_counting(std::future::pending::<&'static str>).await;
    let scenario = two_page_scenario("/a", "/b", "");
    let mut plan = plan(20.0, 1.0);
    plan.grace = Duration::from_millis(300);
    let (r, _) = load(&scenario, &target, &plan).await;
    let sent = received.load(Ordering::Relaxed);
    assert!(sent > 0, "the server got requests");
    assert_eq!(r.requests, sent, "every request the server got is in the result");
    // Unanswered for the whole grace period: a timeout; sent within the
    // last grace period: cut short, not an error.
    assert_eq!(r.errors.timeout + r.requests_unfinished, sent, "{:?}", r.errors);
    assert!(r.errors.timeout > 0, "the first requests waited far longer than the grace");
    assert_eq!(r.errors.total(), r.errors.timeout, "{:?}", r.errors);
    assert_eq!(r.customers_unfinished, sent, "one stalled request per customer");
    let waited = p(r.failed_latency_ms.p50);
    assert!(waited >= 300.0, "a stalled request waited at least the grace: {:?}", r.failed_latency_ms);
}

/// A checkout that never answers: every customer who reached it is still
/// waiting when the run ends. Their purchases are lost, not missing: the
/// customers are walked on like ones who left (to errors when the request
/// timed out, to latency when the end cut it short), so a hung checkout
/// cannot pass a business threshold. The referee is the server's count
/// of purchase requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_waiting_at_the_end_count_their_purchases_as_lost() {
    use std::sync::atomic::{AtomicU64, Ordering};

    let purchases = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&purchases);
    let router = Router::new().route("/a", get(|| async { "ok" })).route(
        "/b",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<&'static str>()
        }),
    );
    let target = serve(router).await;
    let scenario = two_page_scenario("/a", "/b", "timeout = \"60s\"");
    let mut plan = plan(20.0, 1.0);
    // Far longer than a page takes, even on a busy machine: only the
    // checkout is still waiting when the grace is over.
    plan.grace = Duration::from_secs(2);
    let (mut r, _) = load(&scenario, &target, &plan).await;
    let hung = purchases.load(Ordering::SeqCst);
    assert!(hung > 0, "some customers reached the checkout");
    assert_eq!(r.conversions, 0, "no purchase was answered");
    assert_eq!(r.conversions_lost_to_errors + r.conversions_lost_to_latency, hung, "{r:?}");
    assert_eq!(r.conversions_lost_to_errors, r.errors.timeout, "a timed-out purchase is lost to errors");
    assert_eq!(r.counterfactual_conversions, hung, "every started customer is in the journey figures");
    assert!((r.revenue_at_risk - 10.0 * hung as f64).abs() < 1e-9, "{}", r.revenue_at_risk);
    let at_risk = fogg_load::threshold::Threshold::parse("revenue_at_risk < 1").expect("threshold");
    assert_eq!(r.check(&[at_risk]), fogg_core::verdict::Verdict::Fail, "{:?}", r.thresholds);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_requests_have_their_own_latency_and_cannot_pass_a_latency_threshold() {
    let target = serve(Router::new().fallback(|| async { StatusCode::NOT_FOUND })).await;
    let scenario = two_page_scenario("/a", "/b", "");
    let (mut r, _) = load(&scenario, &target, &plan(20.0, 1.0)).await;
    assert!(r.requests > 0);
    assert_eq!(r.errors.status_4xx, r.requests, "{:?}", r.errors);
    assert_eq!(r.latency_ms.p99, None, "no successful response, no latency: {:?}", r.latency_ms);
    assert!(r.failed_latency_ms.p99.is_some(), "the failures' latency is kept apart");
    let p99 = fogg_load::threshold::Threshold::parse("p99 < 500ms").expect("threshold");
    assert_eq!(r.check(&[p99]), fogg_core::verdict::Verdict::Fail, "{:?}", r.thresholds);
    assert_eq!(r.thresholds[0].observed, None, "nothing measured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_refuses_a_plan_above_the_rate_one_process_sends() {
    let scenario = two_page_scenario("/a", "/b", "");
    let spec = scenario.load.clone().expect("[load]").spec;
    // Loopback port 9 (discard): the plan is refused before any connection.
    let refused = run(
        Arc::new(scenario.model.clone()),
        spec,
        "http://127.0.0.1:9",
        &plan(1e9, 1.0),
        fogg_load::signals::signal_counter(),
        None,
    )
    .await;
    let err = refused.expect_err("refused").to_string();
    assert!(err.contains("would reach 1000000000 customers/s"), "{err}");
}

/// `{env.NAME}` sends a secret from the environment, and no file of the
/// run, no line of its output, holds it, nor a captured value or a
/// cookie; a missing one is named before any run, and commands that send
/// nothing never need it.
#[test]
fn secrets_from_the_environment_are_sent_and_never_written() {
    use std::sync::Mutex;

    const SECRET: &str = "s3cr3t-7f2c9a-token";
    const CAPTURED: &str = "c4ptur3d-41d0-token";
    const SESSION: &str = "s3ss10n-90be-cookie";
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = crate::SHORT_JOURNEYS
        .replace(
            "path = \"/\"",
            "path = \"/\"\nheaders = { Authorization = \"Bearer {env.FOGG_TEST_SECRET}\" }\nbody = '{\"key\": \"{env.FOGG_TEST_SECRET}\"}'\ncapture = { token = { json = \"/token\" } }",
        )
        .replace("path = \"/product/{product}\"", "path = \"/product/{product}\"\nheaders = { x-token = \"{token}\" }");
    let file = dir.path().join("secret.toml");
    std::fs::write(&file, &scenario).expect("write scenario");

    // The server keeps every Authorization header it receives.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = Arc::clone(&seen);
    // It answers a token to capture and a session cookie, and keeps every
    // Authorization and captured token it receives.
    let target = runtime.block_on(serve(Router::new().fallback(move |headers: axum::http::HeaderMap| {
        for name in ["authorization", "x-token"] {
            if let Some(v) = headers.get(name) {
                kept.lock().expect("lock").push(v.to_str().unwrap_or("").to_owned());
            }
        }
        async {
            (
                [(axum::http::header::SET_COOKIE, format!("session={SESSION}; Path=/"))],
                format!(r#"{{"token": "{CAPTURED}"}}"#),
            )
        }
    })));
    let out = dir.path().join("out");
    let run = crate::fogg()
        .arg("load")
        .arg(&file)
        .args(["--duration", "2s", "--rate", "10", "--threshold", "p99 < 60s", "--target", &target])
        .arg("--out")
        .arg(&out)
        .env("FOGG_TEST_SECRET", SECRET)
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let received = seen.lock().expect("lock").clone();
    assert!(!received.is_empty(), "the server got requests");
    let bearer = format!("Bearer {SECRET}");
    assert!(received.iter().all(|h| *h == bearer || h == CAPTURED), "{received:?}");
    assert!(received.iter().any(|h| h == CAPTURED), "the captured token was sent: {received:?}");
    let mut written = vec![run.stdout.clone(), run.stderr.clone()];
    for entry in std::fs::read_dir(&out).expect("reports") {
        written.push(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    assert!(written.len() > 4, "every report of the run is searched");
    for bytes in &written {
        let text = String::from_utf8_lossy(bytes);
        for secret in [SECRET, CAPTURED, SESSION] {
            assert!(!text.contains(secret), "{secret} was written");
        }
    }

    // Not set: named before any run, for a command that sends traffic.
    let missing =
        crate::fogg().arg("validate").arg(&file).env_remove("FOGG_TEST_SECRET").output().expect("runs");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("environment variable 'FOGG_TEST_SECRET' is not set"), "{stderr}");
    assert!(stderr.contains("export FOGG_TEST_SECRET"), "{stderr}");
    // `simulate` sends nothing and does not need it.
    crate::fogg()
        .arg("simulate")
        .arg(&file)
        .args(["-n", "1000", "--out"])
        .arg(dir.path().join("sim"))
        .env_remove("FOGG_TEST_SECRET")
        .assert()
        .code(0);
}

/// A closed pool keeps a connection per customer. Under a hard limit on
/// open files too low for it, the run is refused before any request,
/// naming `ulimit -n` (it used to run as millions of failed connects,
/// "stopped by target down", exit 0). Under a low soft limit with room
/// below the hard one, fogg raises it and the pool runs without a
/// failed connect. The limits are set with util-linux's `prlimit`.
#[cfg(target_os = "linux")]
#[test]
fn a_closed_pool_needs_the_open_files_it_holds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("pool.toml");
    let text = crate::SHORT_JOURNEYS
        .replace("[load]\n", "[load]\nprofile = { kind = \"closed\", customers = 400 }\n");
    std::fs::write(&scenario, text).expect("write scenario");
    let run = |nofile: &str| {
        std::process::Command::new("prlimit")
            .arg(format!("--nofile={nofile}"))
            .arg(assert_cmd::cargo::cargo_bin("fogg"))
            .arg("load")
            .arg(&scenario)
            .args(["--duration", "1s", "--format", "json", "--out"])
            .arg(dir.path().join("out"))
            .output()
            .expect("prlimit runs fogg")
    };
    let refused = run("200:200");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a closed pool of 400 customers keeps 400 connections open"), "{stderr}");
    assert!(stderr.contains("at most 200 files (ulimit -n)"), "{stderr}");

    let raised = run("200:8192");
    let stderr = String::from_utf8_lossy(&raised.stderr);
    assert!(raised.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&raised.stdout).expect("JSON");
    assert!(v["requests"].as_u64().expect("count") > 0, "{v}");
    assert_eq!(v["errors"]["connect"], 0, "no connect failed: {}", v["errors"]);
}

/// A run stopped early by a customer count reports the rate its profile
/// asked for over the time arrivals ran: 40/s in a first stage of 40/s,
/// not the whole profile's mean (near 400/s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_early_reports_the_rate_asked_while_it_ran() {
    let target = serve(Router::new().fallback(|| async { "ok" })).await;
    let scenario = fogg_scenario::from_str(crate::SHORT_JOURNEYS, "two-pages.toml").expect("valid");
    let mut plan = plan(1.0, 600.0);
    plan.workload = Workload::Open(RateProfile::Stages(vec![(60.0, 40.0), (540.0, 400.0)]));
    plan.max_customers = Some(20);
    let (result, _) = load(&scenario, &target, &plan).await;
    assert_eq!(result.arrivals, 20);
    let asked = result.target_arrival_rate.expect("an open workload");
    assert!((asked - 40.0).abs() < 1e-6, "asked {asked}/s over {} s", result.duration_s);
}
