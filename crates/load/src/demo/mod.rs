//! The built-in demo target: a small shop on loopback whose latency grows
//! as load approaches its capacity.
//!
//! Requests queue for one of `workers` workers, each busy for the service
//! time; when the queue is full the shop answers 503 at once. With
//! `capacity` requests/s and a service time of `latency`, there are
//! `capacity × latency` workers, so the shop serves exactly `capacity`
//! requests per second at saturation. `fogg load` starts one in-process
//! when no `--target` is given, and the tests use it as a real server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How the demo shop behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Requests per second the shop serves at saturation.
    pub capacity_rps: f64,
    /// Service time of one request.
    pub latency: Duration,
    /// Requests that may wait for a worker; more get 503.
    pub queue: usize,
}

/// Most requests per second the demo shop can be set to serve.
pub const MAX_CAPACITY_RPS: f64 = 1_000_000.0;
/// Longest service time of the demo shop, ms (one minute).
pub const MAX_LATENCY_MS: f64 = 60_000.0;
/// Most requests that may wait for a worker.
pub const MAX_QUEUE: usize = 1_000_000;

/// Why a demo shop cannot be set up as asked.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum DemoError {
    /// Capacity out of (0, [`MAX_CAPACITY_RPS`]].
    #[error("the demo capacity must be above 0 and at most {MAX_CAPACITY_RPS} requests per second (got {})", fogg_core::units::shown(*.0))]
    Capacity(f64),
    /// Service time out of (0, [`MAX_LATENCY_MS`]].
    #[error("the demo latency must be above 0 and at most {MAX_LATENCY_MS} ms (got {})", fogg_core::units::shown(*.0))]
    Latency(f64),
    /// Queue longer than [`MAX_QUEUE`].
    #[error("the demo queue may hold at most {MAX_QUEUE} requests (got {0})")]
    Queue(usize),
}

impl Default for DemoConfig {
    fn default() -> DemoConfig {
        DemoConfig { capacity_rps: 500.0, latency: Duration::from_millis(20), queue: 1000 }
    }
}

impl DemoConfig {
    /// A shop serving `capacity` requests per second, each taking
    /// `latency_ms`, with `queue` requests waiting at most.
    pub fn new(capacity: f64, latency_ms: f64, queue: usize) -> Result<DemoConfig, DemoError> {
        if !(capacity > 0.0 && capacity <= MAX_CAPACITY_RPS) {
            return Err(DemoError::Capacity(capacity));
        }
        if !(latency_ms > 0.0 && latency_ms <= MAX_LATENCY_MS) {
            return Err(DemoError::Latency(latency_ms));
        }
        if queue > MAX_QUEUE {
            return Err(DemoError::Queue(queue));
        }
        Ok(DemoConfig {
            capacity_rps: capacity,
            latency: Duration::from_secs_f64(latency_ms / 1000.0),
            queue,
        })
    }

    /// Workers: capacity × service time, at least one.
    pub fn workers(&self) -> usize {
        ((self.capacity_rps * self.latency.as_secs_f64()).round() as usize).max(1)
    }
}

/// The shop's endpoints, as `(method, route)`.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/landing"),
    ("GET", "/search"),
    ("GET", "/product/{id}"),
    ("GET", "/basket"),
    ("GET", "/static/app.css"),
    ("GET", "/static/app.js"),
    ("POST", "/login"),
    ("POST", "/cart"),
    ("POST", "/cart/{id}/checkout"),
    ("POST", "/checkout"),
    ("GET", "/store/stock/{sku}"),
    ("POST", "/crm/event"),
];

/// Counters of a running shop, readable while it runs.
#[derive(Debug, Default)]
pub struct DemoStats {
    by_route: BTreeMap<&'static str, AtomicU64>,
    rejected: AtomicU64,
}

impl DemoStats {
    fn new() -> DemoStats {
        DemoStats {
            by_route: ENDPOINTS.iter().map(|(_, r)| (*r, AtomicU64::new(0))).collect(),
            rejected: AtomicU64::new(0),
        }
    }

    /// Requests received per route (503s included).
    pub fn received(&self) -> BTreeMap<&'static str, u64> {
        self.by_route.iter().map(|(r, c)| (*r, c.load(Ordering::Relaxed))).collect()
    }

    /// Requests received in all.
    pub fn total(&self) -> u64 {
        self.by_route.values().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Requests answered 503 because the queue was full.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }
}

struct Shop {
    /// Logins and carts handed out so far: the next one's number.
    issued: AtomicU64,
    config: DemoConfig,
    workers: Semaphore,
    in_system: AtomicUsize,
    stats: Arc<DemoStats>,
}

/// A running demo shop.
pub struct DemoServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its counters.
    pub stats: Arc<DemoStats>,
    task: tokio::task::JoinHandle<()>,
}

impl DemoServer {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the shop on `addr` (port 0 picks a free port) in the current
/// tokio runtime.
pub async fn start(addr: SocketAddr, config: DemoConfig) -> std::io::Result<DemoServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(DemoStats::new());
    let shop = Arc::new(Shop {
        // Ids start at a million: long enough to be told apart from the
        // other numbers of a page (`fogg import har` looks for them).
        issued: AtomicU64::new(1_000_000),
        workers: Semaphore::new(config.workers()),
        config,
        in_system: AtomicUsize::new(0),
        stats: Arc::clone(&stats),
    });
    let app = router(shop);
    let task = tokio::spawn(async move {
        // The server runs until the handle is dropped; an accept error
        // ends it, and the load run then reports connection errors.
        let _ = axum::serve(listener, app).await;
    });
    Ok(DemoServer { addr, stats, task })
}

fn router(shop: Arc<Shop>) -> Router {
    Router::new()
        .route("/", get(|s: State<Arc<Shop>>| serve(s, "/", page("Home"))))
        .route("/landing", get(|s: State<Arc<Shop>>| serve(s, "/landing", page("New collection"))))
        .route("/search", get(|s: State<Arc<Shop>>| serve(s, "/search", page("Search results"))))
        .route(
            "/product/{id}",
            get(|s: State<Arc<Shop>>, Path(id): Path<String>| {
                serve(s, "/product/{id}", flow_page(&format!("Product {id}"), "cart"))
            }),
        )
        .route("/basket", get(|s: State<Arc<Shop>>| serve(s, "/basket", flow_page("Basket", "checkout"))))
        .route(
            "/static/app.css",
            get(|s: State<Arc<Shop>>| serve(s, "/static/app.css", asset("text/css", STYLE))),
        )
        .route(
            "/static/app.js",
            get(|s: State<Arc<Shop>>| serve(s, "/static/app.js", asset("text/javascript", SCRIPT))),
        )
        .route("/login", post(login))
        .route("/cart", post(new_cart))
        .route("/cart/{id}/checkout", post(cart_checkout))
        .route("/checkout", post(checkout))
        .route(
            "/store/stock/{sku}",
            get(|s: State<Arc<Shop>>, Path(sku): Path<String>| {
                serve(s, "/store/stock/{sku}", json(&format!("{{\"sku\":\"{sku}\",\"in_stock\":3}}")))
            }),
        )
        .route("/crm/event", post(|s: State<Arc<Shop>>| serve(s, "/crm/event", json("{\"recorded\":true}"))))
        .with_state(shop)
}

/// A number only the shop hands out: `n` followed by three check digits
/// derived from it, so that a value that was not captured from the shop
/// (a guess, another kind's value) is refused without keeping any state.
fn signed(kind: u64, n: u64) -> u64 {
    let mut x = n ^ kind.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    n * 1000 + (x ^ (x >> 31)) % 1000
}

/// The `n` of a value [`signed`] gave for `kind`.
fn verified(kind: u64, value: &str) -> Option<u64> {
    let v: u64 = value.parse().ok()?;
    (v < u64::MAX / 1000 * 1000 && signed(kind, v / 1000) == v).then_some(v / 1000)
}

const TOKEN: u64 = 1;
const SESSION: u64 = 2;
const CART: u64 = 3;

/// `POST /login`: a bearer token in the body and a session cookie; a
/// checkout that sends the token must send the session cookie too.
async fn login(shop: State<Arc<Shop>>) -> Response {
    let n = shop.issued.fetch_add(1, Ordering::Relaxed);
    let (token, session) = (signed(TOKEN, n), signed(SESSION, n));
    let cookie = format!("session={session}; Path=/; HttpOnly; SameSite=Lax");
    with_header(
        serve(shop, "/login", json(&format!("{{\"token\":\"{token}\"}}"))).await,
        "set-cookie",
        &cookie,
    )
}

/// `POST /cart`: a new cart, at the `Location` it answers with.
async fn new_cart(shop: State<Arc<Shop>>) -> Response {
    let id = signed(CART, shop.issued.fetch_add(1, Ordering::Relaxed));
    let mut response = with_header(
        serve(shop, "/cart", json(&format!("{{\"cart\":\"{id}\"}}"))).await,
        "location",
        &format!("/cart/{id}"),
    );
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::CREATED;
    }
    response
}

/// `POST /cart/{id}/checkout`: the order of a cart the shop handed out;
/// 404 for any other id.
async fn cart_checkout(shop: State<Arc<Shop>>, Path(id): Path<String>) -> Response {
    if verified(CART, &id).is_none() {
        shop.stats.by_route["/cart/{id}/checkout"].fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_FOUND, "no such cart\n").into_response();
    }
    serve(shop, "/cart/{id}/checkout", json("{\"order\":\"confirmed\"}")).await
}

/// `POST /checkout`: a guest order, or, with `Authorization: Bearer
/// TOKEN`, a signed-in one, which needs the token and the session cookie
/// of one login (401 otherwise).
async fn checkout(shop: State<Arc<Shop>>, headers: axum::http::HeaderMap) -> Response {
    if let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) {
        let token =
            auth.to_str().ok().and_then(|a| a.strip_prefix("Bearer ")).and_then(|t| verified(TOKEN, t));
        let session = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .flat_map(|c| c.split(';'))
            .filter_map(|c| c.trim().strip_prefix("session="))
            .find_map(|v| verified(SESSION, v));
        if token.is_none() || token != session {
            shop.stats.by_route["/checkout"].fetch_add(1, Ordering::Relaxed);
            return (StatusCode::UNAUTHORIZED, "sign in again\n").into_response();
        }
    }
    serve(shop, "/checkout", json("{\"order\":\"confirmed\"}")).await
}

/// `response` with one more header, unless it is an error.
fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if response.status().is_success() {
        let value =
            axum::http::HeaderValue::from_str(value).expect("the shop's own values are valid headers");
        response.headers_mut().append(name, value);
    }
    response
}

/// The shop's style sheet.
const STYLE: &str = "body { font-family: sans-serif; margin: 2em; }\n";

/// The shop's script: a product page puts the product in a new cart, the
/// basket page signs in and orders, as a browser would with fetch calls.
const SCRIPT: &str = r#"(async () => {
  const flow = document.body.dataset.flow;
  if (flow === "cart") {
    const cart = await fetch("/cart", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ page: location.pathname }) });
    sessionStorage.setItem("cart", cart.headers.get("location"));
  } else if (flow === "checkout") {
    const { token } = await (await fetch("/login", { method: "POST" })).json();
    const order = await fetch("/checkout", { method: "POST",
      headers: { "authorization": "Bearer " + token, "content-type": "application/json" },
      body: JSON.stringify({ cart: sessionStorage.getItem("cart") }) });
    document.querySelector("h1").textContent = (await order.json()).order;
  }
})();
"#;

fn asset(kind: &'static str, text: &str) -> (&'static str, String) {
    (kind, text.to_owned())
}

/// An HTML page with the shop's style and script, `flow` telling the
/// script what to do.
fn flow_page(title: &str, flow: &str) -> (&'static str, String) {
    (
        "text/html; charset=utf-8",
        format!(
            "<!doctype html><html><head><title>{title}</title><link rel=\"stylesheet\" href=\"/static/app.css\">\
             <script src=\"/static/app.js\" defer></script></head><body data-flow=\"{flow}\"><h1>{title}</h1></body></html>"
        ),
    )
}

fn page(title: &str) -> (&'static str, String) {
    flow_page(title, "browse")
}

fn json(body: &str) -> (&'static str, String) {
    ("application/json", body.to_owned())
}

/// Queues for a worker, holds it for the service time, then answers.
async fn serve(
    State(shop): State<Arc<Shop>>,
    route: &'static str,
    (kind, body): (&'static str, String),
) -> Response {
    shop.stats.by_route[route].fetch_add(1, Ordering::Relaxed);
    let limit = shop.config.workers() + shop.config.queue;
    if shop.in_system.fetch_add(1, Ordering::AcqRel) >= limit {
        shop.in_system.fetch_sub(1, Ordering::AcqRel);
        shop.stats.rejected.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::SERVICE_UNAVAILABLE, "queue full\n").into_response();
    }
    let permit = shop.workers.acquire().await.expect("the semaphore is never closed");
    tokio::time::sleep(shop.config.latency).await;
    drop(permit);
    shop.in_system.fetch_sub(1, Ordering::AcqRel);
    ([(axum::http::header::CONTENT_TYPE, kind)], body).into_response()
}
