//! A real site's state: values captured from responses, cookies kept as a
//! browser keeps them, against loopback servers that check what they get.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::load::{load, plan, serve};

/// Login → cart → pay, every step of every journey (exit after pay).
const SIGN_IN_AND_PAY: &str = r#"
[scenario]
name = "sign in and pay"
[[channel]]
id = "web"
kind = "online"
[entry]
login = 1
[[state]]
id = "login"
stage = "awareness"
channel = "web"
next = { cart = 1 }
[[state]]
id = "cart"
stage = "decision"
channel = "web"
next = { pay = 1 }
[[state]]
id = "pay"
stage = "purchase"
channel = "web"
conversion = true
value = { dist = "constant", value = 10.0 }
next = { exit = 1 }
[load]
think_time = { dist = "constant", value = "10ms" }
patience = { dist = "constant", value = "1h" }
[[load.request]]
state = "login"
method = "POST"
path = "/login"
capture = { token = { json = "/auth/token" }, sid = { cookie = "sid" } }
[[load.request]]
state = "cart"
method = "POST"
path = "/cart"
capture = { cart = { header = "Location", regex = "/cart/(\\d+)" } }
[[load.request]]
state = "pay"
name = "pay"
method = "POST"
path = "/account/pay/{cart}"
headers = { x-token = "{token}" }
body = "sid={sid}"
[[load.request]]
state = "pay"
name = "after"
path = "/account/after"
[[load.request]]
state = "pay"
name = "home"
path = "/"
[[load.request]]
state = "pay"
name = "missing"
path = "/"
capture = { nope = { json = "/absent" } }
"#;

/// What the shop of [`SIGN_IN_AND_PAY`] counted.
#[derive(Default)]
struct Seen {
    logins: AtomicU64,
    carts: AtomicU64,
    paid: AtomicU64,
    refused: AtomicU64,
    session_after_expiry: AtomicU64,
    session_outside_its_path: AtomicU64,
    site_cookie_at_root: AtomicU64,
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

/// `POST /login` gives a token in JSON and a session cookie for
/// `/account` (and a site-wide one); `POST /cart` redirects (303) to the
/// new cart, whose id is only in that hop's `Location`; `POST
/// /account/pay/ID` accepts only a cart it made with the token, body and
/// cookie of one login, then expires the session.
fn shop(seen: Arc<Seen>) -> Router {
    Router::new()
        .route(
            "/login",
            post(|State(seen): State<Arc<Seen>>| async move {
                let n = seen.logins.fetch_add(1, Ordering::Relaxed);
                (
                    axum::response::AppendHeaders([
                        (header::SET_COOKIE, format!("sid=sid-{n}; Path=/account; HttpOnly")),
                        (header::SET_COOKIE, "theme=dark; Path=/".to_owned()),
                    ]),
                    format!(r#"{{"auth": {{"token": "tok-{n}"}}}}"#),
                )
            }),
        )
        .route(
            "/cart",
            post(|State(seen): State<Arc<Seen>>| async move {
                let m = seen.carts.fetch_add(1, Ordering::Relaxed);
                (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/cart/{m}/view"))])
            }),
        )
        .route("/cart/{id}/view", get(|| async { "your cart" }))
        .route(
            "/account/pay/{cart}",
            post(|State(seen): State<Arc<Seen>>, Path(cart): Path<u64>, headers: HeaderMap, body: String| async move {
                let token = headers.get("x-token").and_then(|t| t.to_str().ok()).unwrap_or_default();
                let n = token.strip_prefix("tok-").unwrap_or("none");
                let good = cart < seen.carts.load(Ordering::Relaxed)
                    && cookie(&headers, "sid") == Some(&format!("sid-{n}"))
                    && body == format!("sid=sid-{n}");
                if !good {
                    seen.refused.fetch_add(1, Ordering::Relaxed);
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                seen.paid.fetch_add(1, Ordering::Relaxed);
                ([(header::SET_COOKIE, "sid=; Max-Age=0; Path=/account")], "paid").into_response()
            }),
        )
        .route(
            "/account/after",
            get(|State(seen): State<Arc<Seen>>, headers: HeaderMap| async move {
                if cookie(&headers, "sid").is_some() {
                    seen.session_after_expiry.fetch_add(1, Ordering::Relaxed);
                }
                "after"
            }),
        )
        .route(
            "/",
            get(|State(seen): State<Arc<Seen>>, headers: HeaderMap| async move {
                if cookie(&headers, "sid").is_some() {
                    seen.session_outside_its_path.fetch_add(1, Ordering::Relaxed);
                }
                if cookie(&headers, "theme") == Some("dark") {
                    seen.site_cookie_at_root.fetch_add(1, Ordering::Relaxed);
                }
                "home"
            }),
        )
        .with_state(seen)
}

/// Captured values (JSON, a redirect hop's header through a regex, a
/// cookie) reach the later requests of their own customer; cookies go
/// only where their Path allows and stop once expired; a capture that
/// finds nothing fails its request's check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_values_and_cookies_follow_each_customer() {
    let scenario = fogg_scenario::from_str(SIGN_IN_AND_PAY, "pay.toml").unwrap_or_else(|e| panic!("{e}"));
    let seen = Arc::new(Seen::default());
    let target = serve(shop(Arc::clone(&seen))).await;
    let (result, _) = load(&scenario, &target, &plan(20.0, 2.0)).await;
    let row = |name: &str| result.by_request.iter().find(|r| r.name == name).expect("request row");

    let pay = row("pay");
    assert!(pay.requests > 10, "customers reached the payment: {}", pay.requests);
    assert_eq!(seen.refused.load(Ordering::Relaxed), 0, "every payment carried its own login's values");
    assert_eq!(seen.paid.load(Ordering::Relaxed), pay.requests);
    assert_eq!(pay.errors, Default::default());
    assert_eq!(row("after").errors, Default::default());
    assert_eq!(seen.session_after_expiry.load(Ordering::Relaxed), 0, "Max-Age=0 removed the session");
    let home = row("home");
    assert_eq!(home.errors, Default::default());
    assert_eq!(seen.session_outside_its_path.load(Ordering::Relaxed), 0, "Path=/account kept it off /");
    let missing = row("missing");
    assert_eq!(missing.requests, home.requests);
    let at_root = home.requests + missing.requests;
    assert_eq!(seen.site_cookie_at_root.load(Ordering::Relaxed), at_root, "Path=/ sends it everywhere");
    assert_eq!(missing.errors.check, missing.requests, "a capture that finds nothing fails the check");
    assert_eq!(result.errors.check, missing.requests, "and nothing else failed: {:?}", result.errors);
}

/// Where it can be known from the file, a captured value used before any
/// request can capture it, an unknown name, or a capture that does not
/// say where to look is an error at the request's line.
#[test]
fn captures_that_cannot_work_are_refused_before_the_run() {
    let cases = [
        // `token` is captured in `cart`, which no journey visits before `login`.
        (
            SIGN_IN_AND_PAY.replace("path = \"/login\"", "path = \"/login?t={cart}\""),
            "'{cart}' is used before any request can capture it",
        ),
        // The same in a form body and in a JSON body.
        (
            SIGN_IN_AND_PAY.replace("path = \"/login\"", "path = \"/login\"\nform = { c = \"{cart}\" }"),
            "'{cart}' is used before any request can capture it",
        ),
        (
            SIGN_IN_AND_PAY.replace("path = \"/login\"", "path = \"/login\"\njson = { c = [\"{cart}\"] }"),
            "'{cart}' is used before any request can capture it",
        ),
        (SIGN_IN_AND_PAY.replace("{cart}", "{basket}"), "unknown variable '{basket}'"),
        (
            SIGN_IN_AND_PAY.replace("{ json = \"/absent\" }", "{ json = \"/a\", header = \"X\" }"),
            "a capture takes its value from one place",
        ),
        (SIGN_IN_AND_PAY.replace("{ json = \"/absent\" }", "{ json = \"absent\" }"), "not a JSON pointer"),
        (SIGN_IN_AND_PAY.replace("/cart/(\\\\d+)", "/cart/(\\\\d+"), "the regex does not compile"),
        (SIGN_IN_AND_PAY.replace("nope = {", "product = {"), "'product' is a built-in variable"),
    ];
    for (text, expected) in cases {
        let message = match fogg_scenario::from_str(&text, "pay.toml") {
            Ok(_) => panic!("accepted; expected {expected:?}"),
            Err(e) => e.to_string(),
        };
        assert!(message.contains(expected), "expected {expected:?} in:\n{message}");
        assert!(message.contains("pay.toml:"), "the place is named:\n{message}");
    }
    let unknown = fogg_scenario::from_str(&SIGN_IN_AND_PAY.replace("{cart}", "{basket}"), "pay.toml")
        .expect_err("refused")
        .to_string();
    assert!(
        unknown.contains("{token}") && unknown.contains("{cart}"),
        "captures are listed as known: {unknown}"
    );
}

/// The demo shop's signed-in checkout and carts take only values it
/// handed out, so the bundled scenario's captures are exercised for real:
/// with them it runs without an error, and a guessed cart id is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shop_takes_only_the_values_it_handed_out() {
    let shop =
        fogg_load::demo::start("127.0.0.1:0".parse().expect("addr"), fogg_load::demo::DemoConfig::default())
            .await
            .expect("demo shop");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let url = shop.url();
    let guessed = client.post(format!("{url}/cart/1000/checkout")).send().await.expect("send");
    assert_eq!(guessed.status(), 404);
    let cart = client.post(format!("{url}/cart")).send().await.expect("send");
    assert_eq!(cart.status(), 201);
    let location = cart.headers()["location"].to_str().expect("text").to_owned();
    let ordered = client.post(format!("{url}{location}/checkout")).send().await.expect("send");
    assert_eq!(ordered.status(), 200);
    let stolen = client.post(format!("{url}/checkout")).header("authorization", "Bearer 1000").send().await;
    assert_eq!(stolen.expect("send").status(), 401, "a token needs its session cookie");

    let scenario = crate::bundled_scenario("retail-omnichannel");
    let mut plan = plan(60.0, 4.0);
    plan.seed = 11;
    plan.grace = std::time::Duration::from_secs(2);
    let (result, _) = load(&scenario, &url, &plan).await;
    let row = |name: &str| result.by_request.iter().find(|r| r.name == name).expect("request row").requests;
    assert!(row("login") > 0 && row("checkout") > 0 && row("app_cart") > 0, "the flows ran");
    assert_eq!(result.errors, Default::default(), "{:?}", result.errors);
}

/// Every request carries a valid W3C `traceparent`: one trace id per
/// customer (the one the report's rule gives), a new span per request;
/// the report lists the failed journeys and the slowest by trace id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_journey_is_one_trace() {
    use std::collections::{BTreeMap, BTreeSet, HashSet};
    use std::sync::Mutex;

    /// Per request: customer, product page or not, traceparent, tracestate.
    type Seen = Arc<Mutex<Vec<(u64, bool, String, Option<String>)>>>;
    let text = crate::SHORT_JOURNEYS
        .replace("path = \"/\"", "path = \"/?c={customer}\"")
        .replace("path = \"/product/{product}\"", "path = \"/product/{product}?c={customer}\"")
        .replace("[load]", "[load]\ntracestate = \"fogg=ci,congo=t61rcWkgMzE\"");
    let scenario = fogg_scenario::from_str(&text, "traced.toml").unwrap_or_else(|e| panic!("{e}"));
    let seen: Seen = Arc::default();
    let kept = Arc::clone(&seen);
    // Customers 0, 5, 10… fail on the product page; the first other
    // customer there waits 1 s.
    let slow_customer = Arc::new(AtomicU64::new(u64::MAX));
    let slow = Arc::clone(&slow_customer);
    let target = serve(Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap| {
        let query = uri.query().and_then(|q| q.strip_prefix("c="));
        let customer: u64 = query.and_then(|c| c.parse().ok()).expect("c=");
        let header = |name: &str| headers.get(name).map(|v| v.to_str().expect("text").to_owned());
        let product = uri.path().starts_with("/product");
        let traceparent = header("traceparent").expect("traceparent");
        kept.lock().expect("lock").push((customer, product, traceparent, header("tracestate")));
        let wait = product
            && !customer.is_multiple_of(5)
            && slow.compare_exchange(u64::MAX, customer, Ordering::Relaxed, Ordering::Relaxed).is_ok();
        async move {
            if wait {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            if product && customer.is_multiple_of(5) {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        }
    }))
    .await;
    let plan = plan(20.0, 2.0);
    let (result, _) = load(&scenario, &target, &plan).await;

    let seen = seen.lock().expect("lock").clone();
    assert!(seen.len() > 30, "{} requests", seen.len());
    let mut traces: BTreeMap<u64, String> = BTreeMap::new();
    let mut spans = HashSet::new();
    let hex =
        |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    for (customer, _, traceparent, tracestate) in &seen {
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{traceparent}");
        assert!(parts[0] == "00" && parts[3] == "01", "version 00, sampled: {traceparent}");
        assert!(hex(parts[1], 32) && parts[1] != "0".repeat(32), "{traceparent}");
        assert!(hex(parts[2], 16) && parts[2] != "0".repeat(16), "{traceparent}");
        assert_eq!(tracestate.as_deref(), Some("fogg=ci,congo=t61rcWkgMzE"));
        let trace = traces.entry(*customer).or_insert_with(|| parts[1].to_owned());
        assert_eq!(trace, parts[1], "one trace id per customer");
        assert_eq!(
            parts[1],
            fogg_load::trace::hex(fogg_load::trace::trace_id(plan.seed, plan.run_id, *customer))
        );
        assert!(spans.insert(parts[2].to_owned()), "a new span id per request");
    }
    let distinct: HashSet<&String> = traces.values().collect();
    assert_eq!(distinct.len(), traces.len(), "customers have their own trace ids");

    let failed: Vec<u64> = result.traces.failed.iter().map(|t| t.customer).collect();
    let failing: BTreeSet<u64> =
        seen.iter().filter(|(c, product, ..)| *product && c.is_multiple_of(5)).map(|s| s.0).collect();
    let expected: Vec<u64> = failing.into_iter().take(5).collect();
    assert!(!expected.is_empty());
    assert_eq!(failed, expected, "the first failed journeys, by customer index");
    for t in result.traces.failed.iter().chain(&result.traces.slowest) {
        assert_eq!(Some(&t.trace_id), traces.get(&t.customer), "the listed id is the one sent");
    }
    assert!(result.traces.failed.iter().all(|t| t.request == "product" && t.error.is_some()));
    let slow_customer = slow_customer.load(Ordering::Relaxed);
    let slow = result.traces.slowest.iter().find(|t| t.customer == slow_customer);
    let slow =
        slow.unwrap_or_else(|| panic!("customer {slow_customer} is among {:?}", result.traces.slowest));
    assert!(slow.latency_ms >= 1000.0 && slow.request == "product", "{slow:?}");
}

/// A `tracestate` the W3C format does not allow is refused at its line.
#[test]
fn a_malformed_tracestate_is_refused() {
    let text = crate::SHORT_JOURNEYS.replace("[load]", "[load]\ntracestate = \"Fogg Run\"");
    let message =
        fogg_scenario::from_str(&text, "traced.toml").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("not a W3C tracestate") && message.contains("traced.toml:"), "{message}");
}

/// A page's resources are fetched after its document, at most 6 at once
/// (a browser's connections per host), with the document's cookies and
/// trace; the page's latency runs from the document's start to the last
/// resource's end, and each resource has its own row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_loads_its_resources_six_at_a_time() {
    use std::sync::Mutex;
    use std::time::Instant;

    #[derive(Default)]
    struct Browser {
        document_at: Mutex<Option<Instant>>,
        last_end: Mutex<Option<Instant>>,
        arrived: AtomicU64,
        in_flight: AtomicU64,
        most_at_once: AtomicU64,
        with_cookie: AtomicU64,
        traces: Mutex<Vec<String>>,
    }
    let seen = Arc::new(Browser::default());
    let six = Arc::new(tokio::sync::Barrier::new(6));
    let resources: Vec<String> = (0..8).map(|i| format!("\"/r/{i}.js\"")).collect();
    let text =
        crate::SHORT_JOURNEYS.replace("next = { product = 6, exit = 4 }", "next = { exit = 1 }").replace(
            "path = \"/\"",
            &format!("path = \"/\"\nresources = [{}, \"/missing.css\"]", resources.join(", ")),
        );
    let scenario = fogg_scenario::from_str(&text, "page.toml").unwrap_or_else(|e| panic!("{e}"));
    let (s, r, b) = (Arc::clone(&seen), Arc::clone(&seen), Arc::clone(&six));
    let router = Router::new()
        .route(
            "/",
            get(move || {
                let s = Arc::clone(&s);
                async move {
                    *s.document_at.lock().expect("lock") = Some(Instant::now());
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    ([(header::SET_COOKIE, "session=abc; Path=/")], "<html>")
                }
            }),
        )
        .route(
            "/r/{file}",
            get(move |headers: HeaderMap| {
                let (s, b) = (Arc::clone(&r), Arc::clone(&b));
                async move {
                    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    s.most_at_once.fetch_max(now, Ordering::SeqCst);
                    if cookie(&headers, "session") == Some("abc") {
                        s.with_cookie.fetch_add(1, Ordering::SeqCst);
                    }
                    let tp = headers.get("traceparent").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    s.traces.lock().expect("lock").push(tp.split('-').nth(1).unwrap_or_default().to_owned());
                    // The first six wait for each other: six must be in
                    // flight at once, and a seventh cannot be.
                    if s.arrived.fetch_add(1, Ordering::SeqCst) < 6 {
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), b.wait()).await;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    s.in_flight.fetch_sub(1, Ordering::SeqCst);
                    *s.last_end.lock().expect("lock") = Some(Instant::now());
                    "ok"
                }
            }),
        );
    let target = serve(router).await;
    let mut plan = plan(20.0, 1.0);
    plan.max_customers = Some(1);
    let (result, _) = load(&scenario, &target, &plan).await;

    let row = |name: &str| result.by_request.iter().find(|r| r.name == name).expect("row");
    assert_eq!(seen.most_at_once.load(Ordering::SeqCst), 6, "six resources at once, never more");
    assert_eq!(seen.with_cookie.load(Ordering::SeqCst), 8, "the document's cookie goes with every resource");
    let traces = seen.traces.lock().expect("lock").clone();
    let expected = fogg_load::trace::hex(fogg_load::trace::trace_id(plan.seed, plan.run_id, 0));
    assert!(traces.len() == 8 && traces.iter().all(|t| *t == expected), "one trace: {traces:?}");
    for i in 0..8 {
        let r = row(&format!("/r/{i}.js"));
        assert_eq!((r.requests, r.errors), (1, Default::default()), "/r/{i}.js");
    }
    let missing = row("/missing.css");
    assert_eq!((missing.requests, missing.errors.status_4xx), (1, 1), "a missing resource is its own error");
    let page = row("home");
    assert_eq!((page.requests, page.errors), (1, Default::default()), "and does not fail the page");
    let first = seen.document_at.lock().expect("lock").expect("document served");
    let last = seen.last_end.lock().expect("lock").expect("resources served");
    let span_ms = last.duration_since(first).as_secs_f64() * 1000.0;
    let page_ms = page.latency_ms.max.expect("measured");
    // The page ends with its last resource, and the eight took two rounds
    // of at least 100 ms after the 50 ms document.
    assert!(page_ms >= span_ms && page_ms >= 250.0, "page {page_ms} ms, server saw {span_ms} ms");
    let slowest_resource =
        (0..8).filter_map(|i| row(&format!("/r/{i}.js")).latency_ms.max).fold(0.0, f64::max);
    assert!(page_ms > slowest_resource, "page {page_ms} ms, slowest resource {slowest_resource} ms");
}

/// A target that grows each customer's state: every `/a` sets 90 new
/// cookies of 1 KB (and one of 5 KB), and `/token` hands out a 200 KB
/// token. The jar keeps at most 50 cookies, none over 4 KB, with the
/// session cookie set first among them; the token capture fails its check
/// instead of keeping 200 KB for the journey. The referee is what the
/// server received in each request's `Cookie` header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_target_sets_cannot_grow_a_customer_without_bound() {
    use std::sync::Mutex;

    let scenario = fogg_scenario::from_str(
        r#"
[scenario]
name = "cookie bomb"
[[channel]]
id = "web"
kind = "online"
[entry]
a = 1
[[state]]
id = "a"
stage = "awareness"
channel = "web"
next = { b = 1 }
[[state]]
id = "b"
stage = "purchase"
channel = "web"
next = { exit = 1 }
[load]
think_time = { dist = "constant", value = "10ms" }
patience = { dist = "constant", value = "1h" }
on_error = "continue"
[[load.request]]
state = "a"
path = "/a"
[[load.request]]
state = "a"
name = "token"
path = "/token"
capture = { token = { json = "/token" } }
[[load.request]]
state = "b"
path = "/b"
"#,
        "bomb.toml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Per request to /b: (cookies received, longest cookie, session kept).
    let seen: Arc<Mutex<Vec<(usize, usize, bool)>>> = Arc::default();
    let served = Arc::new(AtomicU64::new(0));
    let (counter, record) = (Arc::clone(&served), Arc::clone(&seen));
    let router = Router::new()
        .route(
            "/a",
            get(move || {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                async move {
                    let mut headers = HeaderMap::new();
                    headers.append(header::SET_COOKIE, "session=s1; Path=/".parse().expect("cookie"));
                    for i in 0..90 {
                        let cookie = format!("c{n}_{i}={}; Path=/", "v".repeat(1000));
                        headers.append(header::SET_COOKIE, cookie.parse().expect("cookie"));
                    }
                    headers.append(
                        header::SET_COOKIE,
                        format!("big={}; Path=/", "b".repeat(5000)).parse().expect("cookie"),
                    );
                    (headers, "ok")
                }
            }),
        )
        .route("/token", get(|| async { format!("{{\"token\": \"{}\"}}", "t".repeat(200_000)) }))
        .route(
            "/b",
            get(move |headers: HeaderMap| {
                let cookies: Vec<String> = headers
                    .get_all(header::COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(';'))
                    .map(|c| c.trim().to_owned())
                    .collect();
                let longest = cookies.iter().map(String::len).max().unwrap_or(0);
                let session = cookies.iter().any(|c| c == "session=s1");
                record.lock().expect("lock").push((cookies.len(), longest, session));
                async { "ok" }
            }),
        );
    let target = serve(router).await;
    let (result, _) = load(&scenario, &target, &plan(20.0, 1.0)).await;
    let seen = seen.lock().expect("lock").clone();
    assert!(!seen.is_empty(), "customers reached /b");
    for (count, longest, session) in &seen {
        assert!(*count <= 50, "at most 50 cookies kept, {count} sent");
        assert!(*longest <= 4096, "no cookie over 4 KB: {longest}");
        assert!(*session, "the session cookie, set first, is kept");
    }
    let token = result.by_request.iter().find(|r| r.name == "token").expect("token row");
    assert!(token.requests > 0);
    assert_eq!(token.errors.check, token.requests, "a 200 KB capture fails its check: {:?}", token.errors);
}

/// Two runs with the same seed send different trace ids (an APM would
/// merge them into one trace otherwise): each draws a run id, stored in
/// the JSON, and the stated rule computes every listed id from it.
/// `--run-id` fixes it, so a run's ids can be reproduced.
#[test]
fn trace_ids_are_new_each_run_unless_the_run_id_is_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = crate::short_journeys(dir.path());
    let run = |extra: &[&str]| -> serde_json::Value {
        let output = crate::fogg()
            .arg("load")
            .arg(&scenario)
            .args(["--customers", "6", "--rate", "20", "--format", "json", "--out"])
            .arg(dir.path().join("out"))
            .args(extra)
            .output()
            .expect("runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    // Every listed trace id follows the rule with the run's own id.
    let ids = |r: &serde_json::Value| -> (String, Vec<(u64, String)>) {
        let run_ids = r["traces"]["run_ids"].as_array().expect("run ids");
        assert_eq!(run_ids.len(), 1, "{run_ids:?}");
        let run = run_ids[0].as_str().expect("hex").to_owned();
        let run_id = u64::from_str_radix(&run, 16).expect("16 hex digits");
        let listed: Vec<(u64, String)> = r["traces"]["slowest"]
            .as_array()
            .expect("slowest")
            .iter()
            .map(|t| {
                (t["customer"].as_u64().expect("customer"), t["trace_id"].as_str().expect("id").to_owned())
            })
            .collect();
        assert!(!listed.is_empty());
        for (customer, id) in &listed {
            assert_eq!(*id, fogg_load::trace::hex(fogg_load::trace::trace_id(1, run_id, *customer)));
        }
        (run, listed)
    };
    let (first, first_ids) = ids(&run(&[]));
    let (second, second_ids) = ids(&run(&[]));
    assert_ne!(first, second, "each run draws its own id");
    for (customer, id) in &first_ids {
        assert!(!second_ids.iter().any(|(c, i)| c == customer && i == id), "customer {customer}: {id} again");
    }
    let (fixed, fixed_ids) = ids(&run(&["--run-id", "5eed0123abcd4567"]));
    let (again, again_ids) = ids(&run(&["--run-id", "5eed0123abcd4567"]));
    assert_eq!((fixed.as_str(), again.as_str()), ("5eed0123abcd4567", "5eed0123abcd4567"));
    for (customer, id) in &fixed_ids {
        assert!(again_ids.iter().all(|(c, i)| c != customer || i == id), "customer {customer} reproduced");
    }
    let bad = crate::fogg().args(["load", "--run-id", "xyz"]).output().expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'xyz' is not a run id: give 1 to 16 hex digits"));
}
