//! `fogg import har`: a recording Chromium made of the demo shop becomes
//! a scenario that runs against it without an error; credentials become
//! environment variables; broken files are named where they break.
//!
//! tests/data/demo-shop.har was recorded by `tools/har/record.mjs`
//! (headless Chromium through the DevTools protocol, HAR written by
//! chrome-har) visiting `/`, `/product/7` and `/basket` of `fogg demo`;
//! CI records a fresh one the same way (scripts/har-round-trip.sh).

use std::path::Path;

fn har_fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/demo-shop.har")
}

#[test]
fn a_chromium_recording_of_the_demo_shop_runs_without_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("shop.toml");
    let import = crate::fogg()
        .args(["import", "har"])
        .arg(har_fixture())
        .arg("-o")
        .arg(&scenario)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&import.stdout);
    assert_eq!(import.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&import.stderr));
    assert!(stdout.contains("3 states (pages)") && stdout.contains("2 captures"), "{stdout}");
    let text = std::fs::read_to_string(&scenario).expect("written");
    for expected in [
        r#"capture = { cart = { header = "Location", regex = "/cart/([^/?#]+)" } }"#,
        r#"capture = { token = { json = "/token" } }"#,
        r#"authorization = "Bearer {token}""#,
        r#"body = '{"cart":"/cart/{cart}"}'"#,
        r#""/static/app.js",   # script, 200 in the recording"#,
        "conversion = true   # guess",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    assert!(!text.contains("favicon") || text.contains("left out"), "the failed favicon is not replayed");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let shop = runtime
        .block_on(fogg_load::demo::start(
            "127.0.0.1:0".parse().expect("addr"),
            fogg_load::demo::DemoConfig::default(),
        ))
        .expect("demo shop");
    let run = crate::fogg()
        .arg("load")
        .arg(&scenario)
        .args([
            "--target",
            &shop.url(),
            "--duration",
            "3s",
            "--rate",
            "5",
            "--grace",
            "10s",
            "--format",
            "json",
        ])
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let result: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let requests = |name: &str| requests_of(&result, name);
    assert!(requests("post_checkout") > 0 && requests("/static/app.js") > 0, "{}", result["by_request"]);
    assert_eq!(
        result["errors"]
            .as_object()
            .expect("errors")
            .values()
            .map(|v| v.as_u64().expect("count"))
            .sum::<u64>(),
        0,
        "{}",
        result["errors"]
    );
    let received = shop.stats.received();
    assert_eq!(received["/checkout"], requests("post_checkout"), "the shop took every signed-in order");
}

#[test]
fn credentials_in_a_recording_become_environment_variables() {
    let entry = |method: &str, url: &str, headers: &str, body: &str, kind: &str| {
        format!(
            r#"{{"startedDateTime": "2026-11-30T10:00:00.000Z", "time": 20, "_resourceType": "{kind}",
               "request": {{"method": "{method}", "url": "{url}", "headers": [{headers}]{body}}},
               "response": {{"status": 200, "headers": [], "content": {{"mimeType": "text/html"}}}}}}"#
        )
    };
    let har = format!(
        r#"{{"log": {{"version": "1.2", "creator": {{"name": "test", "version": "1"}}, "entries": [{}, {}, {}]}}}}"#,
        entry(
            "GET",
            "https://shop.example/account?api_key=k3y-0f-the-recording&sig=s1gn-0f-the-recording&page=2",
            r#"{"name": "Authorization", "value": "Basic YW5uOmh1bnRlcjI="}, {"name": "Cookie", "value": "sid=s3ss10n-0f-the-recording"}, {"name": "User-Agent", "value": "Mozilla/5.0"}, {"name": "X-Api-Key", "value": "x-k3y-0f-the-recording"}, {"name": "X-Auth-Token", "value": "x-t0k3n-0f-the-recording"}, {"name": "X-Session-Id", "value": "x-s3ss-0f-the-recording"}, {"name": "X-Requested-With", "value": "XMLHttpRequest"}"#,
            "",
            "document"
        ),
        entry(
            "POST",
            "https://shop.example/login",
            r#"{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}"#,
            r#", "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "user=ann&password=hunt3r2-0f-the-recording&pass=p4ss-0f-the-recording"}"#,
            "fetch"
        ),
        entry("GET", "https://tracker.example/pixel.gif", "", "", "image"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("secret.har");
    std::fs::write(&input, har).expect("write");
    let output = dir.path().join("secret.toml");
    let run =
        crate::fogg().args(["import", "har"]).arg(&input).arg("-o").arg(&output).output().expect("runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    let text = std::fs::read_to_string(&output).expect("written");
    for secret in [
        "YW5uOmh1bnRlcjI",
        "s3ss10n",
        "k3y-0f",
        "hunt3r2",
        "Mozilla",
        "s1gn-0f",
        "p4ss-0f",
        "t0k3n-0f",
        "s3ss-0f",
    ] {
        assert!(!text.contains(secret), "{secret} was written:\n{text}");
        assert!(!stdout.contains(secret), "{secret} was printed:\n{stdout}");
    }
    for placeholder in [
        "{env.HAR_AUTHORIZATION}",
        "sid={env.HAR_COOKIE_SID}",
        "api_key={env.HAR_API_KEY}",
        "password={env.HAR_PASSWORD}",
        "pass={env.HAR_PASS}",
        "sig={env.HAR_SIG}",
        "x-api-key = \"{env.HAR_X_API_KEY}\"",
        "x-auth-token = \"{env.HAR_X_AUTH_TOKEN}\"",
        "x-session-id = \"{env.HAR_X_SESSION_ID}\"",
    ] {
        assert!(text.contains(placeholder), "{placeholder} in:\n{text}");
    }
    // What is public stays: a page number, the XMLHttpRequest marker.
    assert!(text.contains("page=2") && text.contains("XMLHttpRequest"), "{text}");
    assert!(stdout.contains("export HAR_API_KEY, HAR_AUTHORIZATION, HAR_COOKIE_SID, HAR_PASS, HAR_PASSWORD, HAR_SIG, HAR_X_API_KEY, HAR_X_AUTH_TOKEN, HAR_X_SESSION_ID"), "{stdout}");
    assert!(stdout.contains("tracker.example/pixel.gif: another origin"), "{stdout}");
}

#[test]
fn broken_recordings_are_named_where_they_break() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("{\"log\": [", "is not JSON (line 1"),
        (r#"{"log": {"version": "1.0", "entries": []}}"#, "at log.version: version '1.0' is not HAR 1.2"),
        (
            r#"{"log": {"version": "1.2", "entries": [{"startedDateTime": "2026-11-30T10:00:00Z", "time": 1, "request": {"method": "GET", "headers": []}}]}}"#,
            "at log.entries[0].request: missing field `url`",
        ),
        (r#"{"log": {"version": "1.2", "entries": []}}"#, "holds no request of a page"),
    ];
    for (text, expected) in cases {
        let input = dir.path().join("broken.har");
        std::fs::write(&input, text).expect("write");
        let out = dir.path().join("never.toml");
        let run =
            crate::fogg().args(["import", "har"]).arg(&input).arg("-o").arg(&out).output().expect("runs");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected) && stderr.contains("broken.har"), "{expected} in: {stderr}");
        assert!(!out.exists(), "nothing is written");
    }
}

/// A Django-style login as Playwright records it: the first page
/// redirects to the login form (whose response, a redirect hop, sets the
/// `csrftoken` cookie and holds the hidden `csrfmiddlewaretoken`), the
/// form POST redirects to the admin. Imported unchanged, it must replay
/// against a server that enforces the CSRF token per customer: the token
/// becomes a capture, whatever its name; the password an environment
/// variable; each request checks the redirect and the page title the
/// recording saw. A wrong password then fails the login's check.
#[test]
fn a_framework_login_recording_replays_with_its_csrf_token() {
    let entry =
        |t: u32, method: &str, path: &str, req: serde_json::Value, status: u16, resp: serde_json::Value| {
            serde_json::json!({
                "startedDateTime": format!("2026-12-05T10:00:0{t}.000Z"), "time": 20,
                "_resourceType": "document",
                "request": { "method": method, "url": format!("https://shop.example{path}"),
                    "headers": req["headers"].clone(), "postData": req.get("postData").cloned() },
                "response": { "status": status, "headers": resp["headers"].clone(),
                    "content": { "mimeType": "text/html; charset=utf-8", "text": resp["text"].clone() } }
            })
        };
    let form = |title: &str, token: &str| {
        format!(
            "<html><head><title>{title}</title></head><form method=post><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{token}\"></form></html>"
        )
    };
    let har = serde_json::json!({ "log": { "version": "1.2", "creator": { "name": "Playwright", "version": "1.49" }, "entries": [
        entry(1, "GET", "/admin/", serde_json::json!({ "headers": [] }), 302,
            serde_json::json!({ "headers": [{ "name": "Location", "value": "/admin/login/?next=/admin/" }], "text": "" })),
        entry(2, "GET", "/admin/login/?next=/admin/", serde_json::json!({ "headers": [] }), 200,
            serde_json::json!({ "headers": [{ "name": "Set-Cookie", "value": "csrftoken=CookieSecret0123456789; Path=/" }],
                "text": form("Log in | Django site admin", "FormTokenAbCdEf0123456789") })),
        entry(3, "POST", "/admin/login/?next=/admin/", serde_json::json!({
            "headers": [{ "name": "Cookie", "value": "csrftoken=CookieSecret0123456789" },
                        { "name": "Content-Type", "value": "application/x-www-form-urlencoded" }],
            "postData": { "mimeType": "application/x-www-form-urlencoded",
                "text": "csrfmiddlewaretoken=FormTokenAbCdEf0123456789&username=admin&password=Recorded-Pw1&next=%2Fadmin%2F" } }),
            302, serde_json::json!({ "headers": [{ "name": "Location", "value": "/admin/" },
                { "name": "Set-Cookie", "value": "sessionid=Session0123456789abc; Path=/" }], "text": "" })),
        entry(4, "GET", "/admin/", serde_json::json!({ "headers": [{ "name": "Cookie", "value": "csrftoken=CookieSecret0123456789; sessionid=Session0123456789abc" }] }),
            200, serde_json::json!({ "headers": [], "text": "<html><head><title>Site administration | Django site admin</title></head></html>" })),
    ] } });
    let dir = tempfile::tempdir().expect("temp dir");
    let (scenario, _) = import_har(dir.path(), "login", &har);
    let text = std::fs::read_to_string(&scenario).expect("written");
    for expected in [
        r#"capture = { csrfmiddlewaretoken = { regex = "#,
        "csrfmiddlewaretoken={csrfmiddlewaretoken}&",
        "password={env.HAR_PASSWORD}",
        r#"expect_redirect = "/admin/login/""#,
        r#"expect_redirect = "/admin/""#,
        r#"expect_body = "Log in | Django site admin""#,
        r#"expect_body = "Site administration | Django site admin""#,
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    assert!(
        !text.contains("HAR_CSRF") && !text.contains("HAR_COOKIE"),
        "no token or cookie as a credential:\n{text}"
    );

    // A server that checks, per customer, that the form's token matches
    // its cookie, and the password.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let site = runtime.block_on(crate::load::serve(csrf_site()));
    let replay = |password: &str| {
        crate::fogg()
            .arg("load")
            .arg(&scenario)
            .args(["--target", &site, "--customers", "5", "--rate", "10", "--format", "json", "--out"])
            .arg(dir.path().join("out"))
            .env("HAR_PASSWORD", password)
            .output()
            .expect("runs")
    };
    let good = replay("Recorded-Pw1");
    let report: serde_json::Value = serde_json::from_slice(&good.stdout).expect("JSON");
    assert_eq!(
        report["errors"].as_object().expect("errors").values().filter_map(|v| v.as_u64()).sum::<u64>(),
        0,
        "{}",
        report["failures"]
    );
    let sign_ins = requests_of(&report, "post_admin_login");
    assert!(sign_ins > 0, "customers signed in: {}", report["by_request"]);
    let bad = replay("wrong");
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("JSON");
    let sign_ins = requests_of(&report, "post_admin_login");
    assert!(
        sign_ins > 0 && report["errors"]["check"].as_u64() == Some(sign_ins),
        "every login fails its check: {report}"
    );
}

/// What Chromium's DevTools events give for a framework's admin: form
/// submissions are documents of their own (POST navigations), a
/// redirect hop's `Set-Cookie` is missing (the session cookie appears
/// from nowhere), a page's styles failed, and a form creates a named
/// object. The import keeps every page a state named after its path,
/// leaves the session cookie to the jar rather than asking for it as a
/// credential, makes the created name unique per customer (but not the
/// sign-in form's user name), and says each of these on the terminal.
#[test]
fn a_form_that_creates_gets_unique_values_and_hidden_cookies_go_to_the_jar() {
    let entry = |t: u32,
                 method: &str,
                 path: &str,
                 cookie: &str,
                 body: Option<&str>,
                 status: u16,
                 html: &str| {
        let headers = if cookie.is_empty() {
            serde_json::json!([])
        } else {
            serde_json::json!([{ "name": "Cookie", "value": cookie }])
        };
        let (kind, mime) =
            if path.starts_with("/static") { ("stylesheet", "text/css") } else { ("document", "text/html") };
        serde_json::json!({
            "startedDateTime": format!("2026-12-05T10:00:{t:02}.000Z"), "time": 20,
            "_resourceType": kind,
            "request": { "method": method, "url": format!("http://127.0.0.1:8000{path}"), "headers": headers,
                "postData": body.map(|b| serde_json::json!({ "mimeType": "application/x-www-form-urlencoded", "text": b })) },
            "response": { "status": status, "headers": [], "content": { "mimeType": mime, "text": html } }
        })
    };
    let page = |title: &str, token: &str| {
        format!(
            "<title>{title}</title><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{token}\">"
        )
    };
    let session = "sessionid=Session0123456789abc";
    let har = serde_json::json!({ "log": { "version": "1.2", "creator": { "name": "chrome-har", "version": "1.3.1" }, "entries": [
        entry(1, "GET", "/admin/login/", "", None, 200, &page("Log in", "LoginToken0123456789")),
        entry(2, "GET", "/static/admin/css/base.css", "", None, 404, ""),
        entry(3, "GET", "/static/admin/css/login.css", "", None, 404, ""),
        entry(10, "POST", "/admin/login/", "", Some("csrfmiddlewaretoken=LoginToken0123456789&username=admin&password=Recorded-Pw1"), 200, &page("Site administration", "AdminToken0123456789")),
        entry(20, "GET", "/admin/auth/group/add/", session, None, 200, &page("Add group", "GroupToken0123456789")),
        entry(30, "POST", "/admin/auth/group/add/", session, Some("csrfmiddlewaretoken=GroupToken0123456789&name=launch+team&_save=Save"), 200, &page("Groups", "ListToken0123456789")),
    ] } });
    let dir = tempfile::tempdir().expect("temp dir");
    let (scenario, said) = import_har(dir.path(), "admin", &har);
    let text = std::fs::read_to_string(&scenario).expect("written");
    for expected in [
        "[entry]\nadmin_login = 1",
        "id = \"post_admin_login\"",
        "id = \"group_add\"",
        "id = \"post_group_add\"",
        "name=launch+team-{run}-{customer}&",
        "username=admin&password={env.HAR_PASSWORD}",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    assert!(!text.contains("HAR_COOKIE"), "the session cookie is no credential:\n{text}");
    for expected in [
        "left out 2 GETs that failed in the recording (404 ×2): /static/admin/css/base.css, /static/admin/css/login.css",
        "note: name of POST /admin/auth/group/add/ made unique per customer",
        "note: username of POST /admin/login/ left as recorded",
        "note: cookie sessionid: first sent during the recording",
    ] {
        assert!(said.contains(expected), "{expected} in:\n{said}");
    }
}

/// `/admin/` redirects to the login form unless signed in; the form sets
/// a fresh `csrftoken` per customer and a masked copy in the page; a POST
/// whose field does not match its cookie is refused (403), a wrong
/// password gets the form again (200), a good one a session (302).
fn csrf_site() -> axum::Router {
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let cookie = |headers: &HeaderMap, name: &str| -> Option<String> {
        let all = headers.get(header::COOKIE)?.to_str().ok()?.to_owned();
        all.split("; ").find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
    };
    axum::Router::new()
        .route(
            "/admin/",
            axum::routing::get(move |headers: HeaderMap| async move {
                if cookie(&headers, "sessionid").is_some() {
                    "<title>Site administration | Django site admin</title>".into_response()
                } else {
                    (StatusCode::FOUND, [(header::LOCATION, "/admin/login/?next=/admin/")]).into_response()
                }
            }),
        )
        .route(
            "/admin/login/",
            axum::routing::get(|| async {
                let secret = format!("Secret{:012}", NEXT.fetch_add(1, Ordering::Relaxed));
                let page = format!(
                    "<title>Log in | Django site admin</title><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"Mask{secret}\">"
                );
                ([(header::SET_COOKIE, format!("csrftoken={secret}; Path=/"))], page)
            })
            .post(move |headers: HeaderMap, body: String| async move {
                let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                let field = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                let token_ok = match (cookie(&headers, "csrftoken"), field("csrfmiddlewaretoken")) {
                    (Some(secret), Some(token)) => token == format!("Mask{secret}"),
                    _ => false,
                };
                if !token_ok {
                    (StatusCode::FORBIDDEN, "CSRF verification failed").into_response()
                } else if field("password").as_deref() == Some("Recorded-Pw1") {
                    let session = [(header::SET_COOKIE, "sessionid=s; Path=/"), (header::LOCATION, "/admin/")];
                    (StatusCode::FOUND, session).into_response()
                } else {
                    "<title>Log in | Django site admin</title>Please enter the correct username and password".into_response()
                }
            }),
        )
}

/// The requests a load report counted under `name` (0 when none).
fn requests_of(report: &serde_json::Value, name: &str) -> u64 {
    report["by_request"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == name)
        .map_or(0, |r| r["requests"].as_u64().expect("count"))
}

/// Writes `har` as `NAME.har` in `dir` and imports it into `NAME.toml`,
/// which must succeed; the scenario's path and what the import said.
fn import_har(dir: &std::path::Path, name: &str, har: &serde_json::Value) -> (std::path::PathBuf, String) {
    let recording = dir.join(format!("{name}.har"));
    std::fs::write(&recording, har.to_string()).expect("write");
    let scenario = dir.join(format!("{name}.toml"));
    let import = crate::fogg()
        .args(["import", "har"])
        .arg(&recording)
        .arg("-o")
        .arg(&scenario)
        .output()
        .expect("runs");
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    (scenario, String::from_utf8_lossy(&import.stdout).into_owned())
}
