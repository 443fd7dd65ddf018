//! What a request carries as a browser would send it, checked by a
//! loopback server that records every request it received: the default
//! `User-Agent`, `[load] headers` and their overrides, a form body
//! encoded field by field with its `Content-Type`, `Referer` and
//! `Origin`, a scenario cookie merged with the jar's, and
//! `expect_redirect` catching a failed login that answers 200, and
//! compressed bodies decoded and counted.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;

use crate::load::{load, plan, serve};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

/// The password the server takes.
const PASSWORD: &str = "p&ss +%1 ok";

/// A site with a login form: `GET /login` sets a session cookie, `POST
/// /login` redirects to `/account` with the right password and answers
/// 200 with the form again otherwise (as Django does), `/account` and `/`
/// are pages.
fn site(seen: Arc<Mutex<Vec<Seen>>>) -> Router {
    Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
        let seen = Arc::clone(&seen);
        async move {
            let path = uri.path().to_owned();
            seen.lock().expect("lock").push(Seen {
                method: method.clone(),
                path: path.clone(),
                headers,
                body: body.clone(),
            });
            match (method.as_str(), path.as_str()) {
                ("GET", "/login") => {
                    ([(header::SET_COOKIE, "session=s1; Path=/")], "<form>log in</form>").into_response()
                }
                ("POST", "/login") => {
                    let fields: Vec<(String, String)> =
                        form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                    if fields.contains(&("password".to_owned(), PASSWORD.to_owned())) {
                        (StatusCode::FOUND, [(header::LOCATION, "/account")]).into_response()
                    } else {
                        "<form>log in: wrong password</form>".into_response()
                    }
                }
                _ => "<h1>page</h1>".into_response(),
            }
        }
    })
}

/// Log in, then the home page with a cookie of the scenario's own.
fn scenario(password: &str) -> fogg_scenario::Scenario {
    fogg_scenario::from_str(&scenario_text(password), "login.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The text of [`scenario`].
fn scenario_text(password: &str) -> String {
    format!(
        r#"
[scenario]
name = "login"
[[channel]]
id = "web"
kind = "online"
[entry]
login = 1
[[state]]
id = "login"
stage = "awareness"
channel = "web"
next = {{ submit = 1 }}
[[state]]
id = "submit"
stage = "consideration"
channel = "web"
next = {{ home = 1 }}
[[state]]
id = "home"
stage = "purchase"
channel = "web"
conversion = true
next = {{ exit = 1 }}
[load]
think_time = {{ dist = "constant", value = "1ms" }}
patience = {{ dist = "constant", value = "1h" }}
headers = {{ "X-Team" = "growth" }}
[[load.request]]
state = "login"
path = "/login"
[[load.request]]
state = "submit"
method = "POST"
path = "/login"
headers = {{ "X-Team" = "signup" }}
form = {{ user = "ann", password = "{password}" }}
expect_redirect = "/account"
[[load.request]]
state = "home"
path = "/"
headers = {{ Cookie = "consent=yes" }}
"#
    )
}

fn header<'a>(s: &'a Seen, name: &str) -> Option<&'a str> {
    s.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_what_a_browser_sends() {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let target = serve(site(Arc::clone(&seen))).await;
    let mut plan = plan(20.0, 1.0);
    plan.max_customers = Some(3);
    let (result, _) = load(&scenario(PASSWORD), &target, &plan).await;
    assert_eq!(result.errors, Default::default(), "{:?}", result.errors);
    let seen = seen.lock().expect("lock").clone();
    let of = |method: &str, path: &str| -> Vec<&Seen> {
        seen.iter().filter(|s| s.method == method && s.path == path).collect()
    };
    let (logins, posts, accounts, homes) =
        (of("GET", "/login"), of("POST", "/login"), of("GET", "/account"), of("GET", "/"));
    assert_eq!((logins.len(), posts.len(), accounts.len(), homes.len()), (3, 3, 3, 3), "{seen:#?}");
    for s in &seen {
        assert_eq!(header(s, "user-agent"), Some(fogg_load::outgoing::DEFAULT_USER_AGENT), "{s:?}");
    }
    assert!(fogg_load::outgoing::DEFAULT_USER_AGENT.starts_with("fogg/"));
    for s in &logins {
        assert_eq!(header(s, "x-team"), Some("growth"), "the default header");
        assert_eq!((header(s, "referer"), header(s, "origin")), (None, None), "a first page has neither");
    }
    for s in &posts {
        assert_eq!(header(s, "x-team"), Some("signup"), "the request's own header replaces the default");
        assert_eq!(header(s, "content-type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(s.body, "password=p%26ss+%2B%251+ok&user=ann", "each value form-encoded");
        assert_eq!(header(s, "origin"), Some(target.trim_end_matches('/')), "Origin on a POST");
        assert_eq!(header(s, "referer"), Some(format!("{target}/login").as_str()), "the last page");
        assert_eq!(header(s, "cookie"), Some("session=s1"));
    }
    for s in &homes {
        assert_eq!(header(s, "origin"), None, "no Origin on a GET");
        assert_eq!(
            header(s, "referer"),
            Some(format!("{target}/account").as_str()),
            "the page after the redirect"
        );
        assert_eq!(
            header(s, "cookie"),
            Some("consent=yes; session=s1"),
            "the scenario's cookie and the jar's"
        );
    }
}

/// A login that answers 200 with the form again fails its
/// `expect_redirect`: every customer's login is a failed check, and the
/// server saw no one reach the account page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_login_that_answers_200_fails_its_redirect_check() {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let target = serve(site(Arc::clone(&seen))).await;
    let mut plan = plan(20.0, 1.0);
    plan.max_customers = Some(3);
    let (result, _) = load(&scenario("wrong"), &target, &plan).await;
    let seen = seen.lock().expect("lock").clone();
    let posts = seen.iter().filter(|s| s.method == "POST").count();
    let accounts = seen.iter().filter(|s| s.path == "/account").count();
    assert_eq!((posts, accounts), (3, 0), "{seen:#?}");
    let submit = result.by_request.iter().find(|r| r.name == "submit").expect("row");
    assert_eq!((submit.requests, submit.errors.check), (3, 3), "{:?}", submit.errors);
    assert_eq!(result.conversions, 0);
    // The report says why, with the status and a sample of what came back.
    assert_eq!(result.failures.len(), 1, "{:?}", result.failures);
    let why = &result.failures[0];
    assert_eq!(why.request, "submit");
    assert_eq!(why.statuses, [(200, 3)].into_iter().collect());
    let reason = "expect_redirect = \"/account\": the first response was 200, not a redirect";
    assert_eq!(why.reasons, [(reason.to_owned(), 3)].into_iter().collect());
    assert_eq!(why.samples.len(), 3);
    let sample = &why.samples[0];
    assert_eq!((sample.method.as_str(), sample.path.as_str(), sample.status), ("POST", "/login", Some(200)));
    assert_eq!(sample.body, "<form>log in: wrong password</form>");
    let json = serde_json::to_value(&result).expect("JSON");
    let errors = crate::schema::errors(&crate::schema::schema_validator("load"), &json);
    assert!(errors.is_empty(), "{errors:?}");
    let mut table = Vec::new();
    fogg_report::write(&result, fogg_report::ReportFormat::Table, &mut table).expect("table");
    let table = String::from_utf8(table).expect("UTF-8");
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("submit") && l.contains("×"))
        .expect("a failures row");
    assert!(row.contains("200 ×3") && row.contains("expect_redirect"), "{table}");
}

/// `--debug 1 -n 1`: customer 0's exchanges on standard error, each hop
/// with its headers and body, and nothing that identifies the customer
/// or the run's secrets: the password (as typed and form-encoded) and
/// the session cookie are redacted.
#[test]
fn debug_prints_the_exchanges_redacted() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let target = runtime.block_on(serve(site(Arc::clone(&seen))));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = login_file(dir.path());
    let run = crate::fogg()
        .arg("load")
        .arg(&file)
        .args(["--target", &target, "--debug", "1", "-n", "1", "--rate", "5", "--quiet", "--out"])
        .arg(dir.path().join("out"))
        .env("FOGG_DEBUG_PASSWORD", PASSWORD)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    for expected in [
        "--- customer 0, request submit",
        "> POST ",
        "> content-type: application/x-www-form-urlencoded",
        "> cookie: session=***",
        "> password=***&user=ann",
        "< HTTP/1.1 302",
        "< location: /account",
        "< HTTP/1.1 200",
        "--- ok",
    ] {
        assert!(stderr.contains(expected), "{expected} in:\n{stderr}");
    }
    assert!(!stderr.contains("p%26ss") && !stderr.contains("p&ss") && !stderr.contains("=s1"), "{stderr}");
    let posts = seen.lock().expect("lock").iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1, "one customer, one login");
}

/// The login scenario with its password read from `FOGG_DEBUG_PASSWORD`,
/// written in `dir`.
fn login_file(dir: &std::path::Path) -> std::path::PathBuf {
    let text = scenario_text("{env.FOGG_DEBUG_PASSWORD}");
    let path = dir.join("login-env.toml");
    std::fs::write(&path, text).expect("write");
    path
}

/// A `json` body: each string rendered, then escaped (a quote in a value
/// stays inside its string), numbers, booleans, arrays and tables as
/// written, with `Content-Type: application/json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_are_encoded_value_by_value() {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let target = serve(site(Arc::clone(&seen))).await;
    let text = crate::SHORT_JOURNEYS.replace(
        "[[load.request]]\nstate = \"home\"\npath = \"/\"",
        "[[load.request]]\nstate = \"home\"\nmethod = \"POST\"\npath = \"/api\"\njson = { note = 'say \"hi\" {customer}', qty = 2, price = 9.5, tags = [\"a\", \"{step}\"], gift = { wrap = true } }",
    );
    let scenario = fogg_scenario::from_str(&text, "json.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut plan = plan(20.0, 1.0);
    plan.max_customers = Some(1);
    let (result, _) = load(&scenario, &target, &plan).await;
    assert_eq!(result.errors, Default::default());
    let seen = seen.lock().expect("lock").clone();
    let post = seen.iter().find(|s| s.method == "POST").expect("a POST");
    assert_eq!(header(post, "content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&post.body).expect("valid JSON");
    let expected = serde_json::json!({
        "note": "say \"hi\" 0", "qty": 2, "price": 9.5, "tags": ["a", "1"], "gift": { "wrap": true }
    });
    assert_eq!(body, expected, "{}", post.body);
    let both = crate::SHORT_JOURNEYS.replace("path = \"/\"", "path = \"/\"\nbody = \"x\"\njson = { a = 1 }");
    let refused = fogg_scenario::from_str(&both, "both.toml").expect_err("refused");
    assert!(refused.to_string().contains("one of `body`, `form` and `json`, not several"), "{refused}");
}

/// What the compressing site served: per request, the `Accept-Encoding`
/// asked for, the query, and the body's bytes as sent and before
/// compression.
#[derive(Debug, Clone, Default)]
struct Served {
    accept_encoding: Option<String>,
    query: Option<String>,
    wire: u64,
    plain: u64,
}

/// `/gz` answers a page with a token, gzip-compressed when asked for;
/// `/br` a page brotli-compressed when asked for. Each records what it
/// sent.
fn compressing_site(served: Arc<Mutex<Vec<Served>>>) -> Router {
    use std::io::Write;
    Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let served = Arc::clone(&served);
        async move {
            let asked = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let accepts =
                |coding: &str| asked.as_deref().is_some_and(|a| a.split(',').any(|c| c.trim() == coding));
            let padding = "<p>a page long enough to be worth compressing</p>".repeat(200);
            let (plain, coding) = match uri.path() {
                "/gz" => (
                    format!("<html>{padding}<b>token-abc123def</b></html>"),
                    accepts("gzip").then_some("gzip"),
                ),
                _ => (format!("<html>{padding}<b>brotli page</b></html>"), accepts("br").then_some("br")),
            };
            let wire = match coding {
                Some("gzip") => {
                    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    e.write_all(plain.as_bytes()).expect("gzip");
                    e.finish().expect("gzip")
                }
                Some(_) => {
                    let mut out = Vec::new();
                    let mut e = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
                    e.write_all(plain.as_bytes()).expect("brotli");
                    drop(e);
                    out
                }
                None => plain.clone().into_bytes(),
            };
            served.lock().expect("lock").push(Served {
                accept_encoding: asked.clone(),
                query: uri.query().map(str::to_owned),
                wire: wire.len() as u64,
                plain: plain.len() as u64,
            });
            let mut response = wire.into_response();
            if let Some(coding) = coding {
                response.headers_mut().insert(header::CONTENT_ENCODING, coding.parse().expect("a coding"));
            }
            response
        }
    })
}

/// fogg asks for gzip and brotli, checks and captures read the decoded
/// page, and the report's body bytes are what the server sent (on the
/// wire) and what it compressed (decoded). A scenario that asks for
/// `identity` gets the pages as they are: wire and decoded agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_are_decoded_and_counted() {
    for accept in [None, Some("identity")] {
        let served: Arc<Mutex<Vec<Served>>> = Arc::default();
        let target = serve(compressing_site(Arc::clone(&served))).await;
        let mut text = crate::SHORT_JOURNEYS
            .replace(
                "path = \"/\"",
                "path = \"/gz\"\nexpect_body = \"token-\"\ncapture = { t = { regex = 'token-([a-z0-9]+)' } }",
            )
            .replace("path = \"/product/{product}\"", "path = \"/br?t={t}\"\nexpect_body = \"brotli page\"");
        if let Some(coding) = accept {
            text = text
                .replace("[load]\n", &format!("[load]\nheaders = {{ accept-encoding = \"{coding}\" }}\n"));
        }
        let scenario = fogg_scenario::from_str(&text, "gzip.toml").unwrap_or_else(|e| panic!("{e}"));
        let mut plan = plan(20.0, 1.0);
        plan.max_customers = Some(6);
        let (result, _) = load(&scenario, &target, &plan).await;
        assert_eq!(result.errors, Default::default(), "{:?}", result.failures);
        let served = served.lock().expect("lock").clone();
        assert_eq!(served.len() as u64, result.requests, "{served:?}");
        assert!(served.iter().any(|s| s.query.is_some()), "some customers went on to /br");
        for s in &served {
            assert_eq!(s.accept_encoding.as_deref(), Some(accept.unwrap_or("gzip, br")), "{s:?}");
            if let Some(query) = &s.query {
                assert_eq!(query, "t=abc123def", "the token captured from the decoded page");
            }
        }
        let wire: u64 = served.iter().map(|s| s.wire).sum();
        let plain: u64 = served.iter().map(|s| s.plain).sum();
        assert_eq!((result.body_bytes.wire, result.body_bytes.decoded), (wire, plain));
        match accept {
            None => assert!(wire * 5 < plain, "compressed: {wire} of {plain} bytes"),
            Some(_) => assert_eq!(wire, plain),
        }
    }
}
