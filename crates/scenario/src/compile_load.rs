//! `[load]` → [`LoadSpec`], with the same problem reporting as the rest of
//! the scenario.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::LoadSection;
use super::context::Cx;
use super::parts::{QuantityKind, compile_dist};
use super::raw::{RawCapture, RawFeeder, RawLoad, RawProfile, RawRequest};
use fogg_core::units::parse_duration;
use fogg_load::capture::{Capture, Source};
use fogg_load::plan::{MAX_ARRIVAL_RATE, RateProfile, Workload};
use fogg_load::spec::{
    Environment, Feeder, JsonTemplate, LoadSpec, RequestSpec, Resource, Scope, Template, TemplateError, Var,
};
use fogg_load::spec::{FeederOrder, OnError};
use fogg_load::threshold::{Threshold, check_names};
use fogg_model::Dist;
use fogg_model::alias::Target;
use fogg_model::change::reachable_from;

/// Defaults of `[load]`, documented in docs/scenario.md.
pub const DEFAULT_DURATION_S: f64 = 30.0;
/// Default arrival rate (customers/s) when no profile is given.
pub const DEFAULT_RATE: f64 = 10.0;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT_S: f64 = 10.0;
/// Default cap on customers in flight.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 10_000;

/// Default think time: log-normal, median 2 s, 90% under 8 s.
pub fn default_think_time() -> Dist {
    Dist::lognormal(2.0, 8.0, "lognormal(median 2s, p90 8s)".to_owned()).expect("valid default")
}

/// Default patience: log-normal, median 3 s, 90% under 10 s.
pub fn default_patience() -> Dist {
    Dist::lognormal(3.0, 10.0, "lognormal(median 3s, p90 10s)".to_owned()).expect("valid default")
}

fn duration(cx: &mut Cx, key: &str, v: &Spanned<String>) -> Option<Duration> {
    cx.positive_duration(key, v, "\"30s\" or \"2min\"").map(Duration::from_secs_f64)
}

fn rate(cx: &mut Cx, key: &str, span: &std::ops::Range<usize>, r: f64) -> f64 {
    if !(0.0..=MAX_ARRIVAL_RATE).contains(&r) {
        cx.problem(
            Some(span),
            key,
            format!("rate is {}", fogg_core::units::shown(r)),
            format!(
                "give a rate in customers per second, from 0 to {MAX_ARRIVAL_RATE} (one process's most; shard a larger run with --shard I/N)"
            ),
        );
    }
    r
}

pub(super) fn compile_load(
    cx: &mut Cx,
    raw: &Spanned<RawLoad>,
    state_index: &HashMap<&str, usize>,
    rows: &[Vec<(Target, f64)>],
    source: &str,
    read_feeders: bool,
) -> Option<LoadSection> {
    let states = rows.len();
    let load = raw.get_ref();
    let before = cx.problems.len();
    let run_duration = match &load.duration {
        Some(d) => duration(cx, "load.duration", d),
        None => Some(Duration::from_secs_f64(DEFAULT_DURATION_S)),
    };
    let timeout = match &load.timeout {
        Some(d) => duration(cx, "load.timeout", d),
        None => Some(Duration::from_secs_f64(DEFAULT_TIMEOUT_S)),
    };
    let workload = workload(cx, load);
    let think_time = match &load.think_time {
        Some(d) => compile_dist(cx, "load.think_time", d, QuantityKind::Duration),
        None => Some(default_think_time()),
    };
    let think_time_by_state = think_time_by_state(cx, load, state_index, states);
    let patience = match &load.patience {
        Some(d) => compile_dist(cx, "load.patience", d, QuantityKind::Duration),
        None => Some(default_patience()),
    };
    let max_in_flight = max_in_flight(cx, load);
    if let (Workload::Closed(n), Some(profile)) = (&workload, &load.profile)
        && *n > max_in_flight as u64
    {
        cx.problem(
            Some(&profile.span()),
            "load.profile",
            format!("a closed pool of {n} customers is more than max_in_flight = {max_in_flight} at once"),
            format!("raise [load] max_in_flight to {n}, or give the pool fewer customers"),
        );
    }
    let feeders = feeders(cx, &load.feeders, source, read_feeders);
    let env = if read_feeders { Environment::Read } else { Environment::Ignore };
    let captures = capture_names(cx, load);
    let scope = Scope { feeders: &feeders, captures: &captures, env };
    let requests = requests(cx, load, state_index, states, &scope);
    let headers = default_headers(cx, load, &scope, &raw.span());
    captured_before_use(cx, load, &requests, &captures, rows);
    if load.requests.is_empty() {
        cx.problem(
            Some(&raw.span()),
            "load.request",
            "[load] maps no state to a request",
            "add [[load.request]] tables with a state and a path",
        );
    }
    let thresholds = thresholds(cx, load, &requests, state_index);
    if let Some(t) = &load.tracestate
        && let Err(e) = fogg_load::trace::check_tracestate(t.get_ref())
    {
        cx.problem(
            Some(&t.span()),
            "load.tracestate",
            format!("not a W3C tracestate: {e}"),
            "write vendor entries as key=value, comma-separated, e.g. \"fogg=capacity-check\"",
        );
    }
    if cx.problems.len() > before {
        return None;
    }
    let spec = LoadSpec {
        duration: run_duration?,
        workload,
        think_time: think_time?,
        think_time_by_state,
        patience: patience?,
        on_error: load.on_error.unwrap_or(OnError::Abandon),
        timeout: timeout?,
        max_in_flight,
        requests,
        feeders,
        captures,
        tracestate: load.tracestate.as_ref().map(|t| t.get_ref().clone()),
        headers,
        browser_headers: load.browser_headers.unwrap_or(true),
    };
    Some(LoadSection { spec, thresholds })
}

/// `[load] headers`: sent with every request.
fn default_headers(
    cx: &mut Cx,
    load: &RawLoad,
    scope: &Scope,
    span: &std::ops::Range<usize>,
) -> Vec<(String, Template)> {
    let mut headers = Vec::new();
    for (name, value) in &load.headers {
        let key = format!("load.headers.{name}");
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            cx.problem(
                Some(span),
                key,
                format!("'{name}' is not a header name"),
                "use letters, digits and '-'",
            );
            continue;
        }
        match Template::parse(value, scope) {
            Ok(t) => headers.push((name.clone(), t)),
            Err(e) => cx.problem(
                Some(span),
                key,
                e.to_string(),
                "use {customer}, {run}, {uuid}, {FEEDER.COLUMN} or {env.NAME}",
            ),
        }
    }
    headers
}

/// `[load] profile`: how customers arrive.
fn workload(cx: &mut Cx, load: &RawLoad) -> Workload {
    match &load.profile {
        None => Workload::Open(RateProfile::Constant(DEFAULT_RATE)),
        Some(p) => {
            let span = p.span();
            let key = "load.profile";
            let dur = |cx: &mut Cx, text: &str| match parse_duration(text) {
                Ok(s) if s > 0.0 => s,
                Ok(_) | Err(_) => {
                    cx.problem(
                        Some(&span),
                        key,
                        format!("'{text}' is not a positive duration"),
                        "write e.g. \"1min\"",
                    );
                    1.0
                }
            };
            match p.get_ref() {
                RawProfile::Closed { customers } => {
                    if !(1..=1_000_000).contains(customers) {
                        cx.problem(
                            Some(&span),
                            key,
                            format!("{customers} customers is outside 1..=1000000"),
                            "give the number of customers in flight at once",
                        );
                    }
                    Workload::Closed((*customers).clamp(1, 1_000_000) as u64)
                }
                RawProfile::Constant { rate: r } => {
                    Workload::Open(RateProfile::Constant(rate(cx, key, &span, *r)))
                }
                RawProfile::Ramp { from, to, over } => Workload::Open(RateProfile::Ramp {
                    from: rate(cx, key, &span, *from),
                    to: rate(cx, key, &span, *to),
                    over: dur(cx, over),
                }),
                RawProfile::Stages { stages } => {
                    if stages.is_empty() {
                        cx.problem(
                            Some(&span),
                            key,
                            "a stages profile needs at least one stage",
                            "add e.g. stages = [{ duration = \"1min\", rate = 20 }]",
                        );
                    }
                    Workload::Open(RateProfile::Stages(
                        stages.iter().map(|s| (dur(cx, &s.duration), rate(cx, key, &span, s.rate))).collect(),
                    ))
                }
                RawProfile::Burst { peak, half_life, base } => Workload::Open(RateProfile::Burst {
                    peak: rate(cx, key, &span, *peak),
                    half_life: dur(cx, half_life),
                    base: rate(cx, key, &span, *base),
                }),
            }
        }
    }
}

/// `[load] think_time_by_state`: per state, a think time of its own.
fn think_time_by_state(
    cx: &mut Cx,
    load: &RawLoad,
    state_index: &HashMap<&str, usize>,
    states: usize,
) -> Vec<Option<Dist>> {
    let mut think_time_by_state: Vec<Option<Dist>> = vec![None; states];
    for (name, dist) in &load.think_time_by_state {
        let key = format!("load.think_time_by_state.{}", name.get_ref());
        match state_index.get(name.get_ref().as_str()) {
            Some(&s) => think_time_by_state[s] = compile_dist(cx, &key, dist, QuantityKind::Duration),
            None => cx.problem(
                Some(&name.span()),
                key,
                format!("unknown state '{}'", name.get_ref()),
                "name a [[state]] of this scenario",
            ),
        }
    }
    think_time_by_state
}

/// `[load] max_in_flight`.
fn max_in_flight(cx: &mut Cx, load: &RawLoad) -> usize {
    match &load.max_in_flight {
        None => DEFAULT_MAX_IN_FLIGHT,
        Some(m) if (1..=1_000_000).contains(m.get_ref()) => *m.get_ref() as usize,
        Some(m) => {
            cx.problem(
                Some(&m.span()),
                "load.max_in_flight",
                format!("{} is outside 1..=1000000", m.get_ref()),
                "give the most customers that may be in flight at once",
            );
            DEFAULT_MAX_IN_FLIGHT
        }
    }
}

/// `[[load.request]]`s, per state, in file order.
fn requests(
    cx: &mut Cx,
    load: &RawLoad,
    state_index: &HashMap<&str, usize>,
    states: usize,
    scope: &Scope,
) -> Vec<Vec<RequestSpec>> {
    let mut requests: Vec<Vec<RequestSpec>> = vec![Vec::new(); states];
    for (i, r) in load.requests.iter().enumerate() {
        let key = |field: &str| format!("load.request[{i}].{field}");
        let Some(&state) = state_index.get(r.state.get_ref().as_str()) else {
            cx.problem(
                Some(&r.state.span()),
                key("state"),
                format!("unknown state '{}'", r.state.get_ref()),
                "name a [[state]] of this scenario",
            );
            continue;
        };
        let method = method(cx, key("method"), r.method.as_ref());
        if !r.path.get_ref().starts_with('/') {
            cx.problem(
                Some(&r.path.span()),
                key("path"),
                format!("'{}' does not start with '/'", r.path.get_ref()),
                "give the path relative to the target, e.g. \"/product/{product}\"",
            );
        }
        let mut template = |field: &str, text: &str, span: Option<&std::ops::Range<usize>>| {
            match Template::parse(text, scope) {
                Ok(t) => Some(t),
                Err(e) => {
                    let fix = match &e {
                        TemplateError::MissingEnv { name } => format!(
                            "export {name} before the run (secrets belong in the environment, not in the file)"
                        ),
                        _ => "use {customer}, {segment}, {state}, {step}, {product}, {run}, {uuid}, {FEEDER.COLUMN}, {env.NAME} or a name a request captures"
                            .to_owned(),
                    };
                    cx.problem(span, key(field), e.to_string(), fix);
                    None
                }
            }
        };
        let path = template("path", r.path.get_ref(), Some(&r.path.span()));
        let headers: Vec<(String, Template)> = r
            .headers
            .iter()
            .filter_map(|(name, value)| {
                template(&format!("headers.{name}"), value, Some(&r.state.span())).map(|t| (name.clone(), t))
            })
            .collect();
        // Headers and bodies are read without their own place: the
        // request's `state` line stands for them.
        let body = r.body.as_ref().and_then(|b| template("body", b, Some(&r.state.span())));
        let form: Vec<(String, Template)> = r
            .form
            .iter()
            .flatten()
            .filter_map(|(name, value)| {
                template(&format!("form.{name}"), value, Some(&r.state.span())).map(|t| (name.clone(), t))
            })
            .collect();
        let mut resources = Vec::new();
        let mut not_paths = Vec::new();
        if let Some(list) = &r.resources {
            for (j, text) in list.get_ref().iter().enumerate() {
                if !text.starts_with('/') {
                    not_paths.push((j, text));
                } else if let Some(path) = template(&format!("resources[{j}]"), text, Some(&list.span())) {
                    resources.push(Resource { name: text.clone(), path });
                }
            }
        }
        for (j, text) in not_paths {
            cx.problem(
                r.resources.as_ref().map(|l| l.span()).as_ref(),
                key(&format!("resources[{j}]")),
                format!("'{text}' does not start with '/'"),
                "give the resource's path on the target, e.g. \"/static/app.js\"",
            );
        }
        check_body_and_expectations(cx, r, &key);
        let json = json_body(cx, r, &key, scope);
        let captures: Vec<Capture> = r
            .capture
            .iter()
            .filter_map(|(name, c)| capture(cx, &key(&format!("capture.{}", name.get_ref())), name, c, scope))
            .collect();
        if let Some(path) = path {
            requests[state].push(RequestSpec {
                name: r.name.clone().unwrap_or_else(|| r.state.get_ref().clone()),
                method,
                path,
                headers,
                body,
                form,
                json,
                expect_status: r.expect_status.clone(),
                expect_redirect: r.expect_redirect.as_ref().map(|t| t.get_ref().clone()),
                expect_body: r.expect_body.clone(),
                captures,
                file_order: i,
                resources,
            });
        }
    }
    requests
}

/// A request's `json` body, compiled; `None` without one, or with a
/// problem reported.
fn json_body(
    cx: &mut Cx,
    r: &RawRequest,
    key: &dyn Fn(&str) -> String,
    scope: &Scope,
) -> Option<JsonTemplate> {
    match json_template(r.json.as_ref()?, scope) {
        Ok(t) => Some(t),
        Err(e) => {
            cx.problem(
                Some(&r.state.span()),
                key("json"),
                e.to_string(),
                "use {customer}, {run}, {uuid}, {FEEDER.COLUMN}, {env.NAME} or a name a request captures in its strings",
            );
            None
        }
    }
}

/// Why a `json` body cannot be sent.
#[derive(Debug, thiserror::Error)]
enum JsonBodyError {
    /// A string is not a valid template.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A float JSON cannot hold (`nan`, `inf`).
    #[error("{0} is not a JSON number")]
    NotANumber(f64),
}

/// A `json` body's TOML value as a JSON template: its strings parsed as
/// templates; a date is sent as its text.
fn json_template(v: &toml::Value, scope: &Scope) -> Result<JsonTemplate, JsonBodyError> {
    Ok(match v {
        toml::Value::String(s) => JsonTemplate::String(Template::parse(s, scope)?),
        toml::Value::Integer(i) => JsonTemplate::Number((*i).into()),
        toml::Value::Float(f) => {
            JsonTemplate::Number(serde_json::Number::from_f64(*f).ok_or(JsonBodyError::NotANumber(*f))?)
        }
        toml::Value::Boolean(b) => JsonTemplate::Bool(*b),
        toml::Value::Datetime(d) => JsonTemplate::String(Template::parse(&d.to_string(), scope)?),
        toml::Value::Array(items) => {
            JsonTemplate::Array(items.iter().map(|x| json_template(x, scope)).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(fields) => JsonTemplate::Object(
            fields
                .iter()
                .map(|(k, x)| Ok((k.clone(), json_template(x, scope)?)))
                .collect::<Result<_, JsonBodyError>>()?,
        ),
    })
}

/// A request with more than one of `body`, `form` and `json`, an `expect_status` that lists no
/// HTTP status, or an `expect_redirect` that is neither a path nor a URL.
fn check_body_and_expectations(cx: &mut Cx, r: &RawRequest, key: &dyn Fn(&str) -> String) {
    if let Some(codes) = &r.expect_status
        && (codes.is_empty() || codes.iter().any(|c| !(100..=599).contains(c)))
    {
        cx.problem(
            Some(&r.state.span()),
            key("expect_status"),
            format!("{codes:?} is not a list of HTTP statuses"),
            "list the accepted statuses, e.g. [200, 201]",
        );
    }
    if [r.form.is_some(), r.body.is_some(), r.json.is_some()].iter().filter(|b| **b).count() > 1 {
        cx.problem(
            Some(&r.state.span()),
            key("body"),
            "a request has one of `body`, `form` and `json`, not several",
            "keep `form` or `json` (fogg encodes them and sets their Content-Type) or `body` (sent as written)",
        );
    }
    if let Some(target) = &r.expect_redirect {
        let t = target.get_ref();
        if !(t.starts_with('/') || t.starts_with("http://") || t.starts_with("https://")) {
            cx.problem(
                Some(&target.span()),
                key("expect_redirect"),
                format!("'{t}' is neither a path nor a URL"),
                "give where the first response must redirect, e.g. \"/admin/\"",
            );
        }
    }
}

/// Every name a request captures, each once, in file order: the slots
/// of a customer's captured values. A name must be letters, digits and
/// `_`, and not a built-in variable.
fn capture_names(cx: &mut Cx, load: &RawLoad) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut all: Vec<(&Spanned<String>, usize)> =
        load.requests.iter().enumerate().flat_map(|(i, r)| r.capture.keys().map(move |n| (n, i))).collect();
    all.sort_by_key(|(n, _)| n.span().start);
    for (name, i) in all {
        let text = name.get_ref();
        if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            cx.problem(
                Some(&name.span()),
                format!("load.request[{i}].capture.{text}"),
                format!("'{text}' is not a capture name"),
                "name it with letters, digits and '_', e.g. token",
            );
        } else if Var::ALL.iter().any(|(n, _)| n == text) || text == "env" {
            cx.problem(
                Some(&name.span()),
                format!("load.request[{i}].capture.{text}"),
                format!("'{text}' is a built-in variable"),
                "give the captured value another name",
            );
        } else if !names.contains(text) {
            names.push(text.clone());
        }
    }
    names
}

/// One `capture.NAME = { ... }` of a request.
fn capture(
    cx: &mut Cx,
    key: &str,
    name: &Spanned<String>,
    raw: &Spanned<RawCapture>,
    scope: &Scope,
) -> Option<Capture> {
    let slot = scope.captures.iter().position(|c| c == name.get_ref())?;
    let span = raw.span();
    let c = raw.get_ref();
    let mut problem = |message: String, fix: &str| cx.problem(Some(&span), key, message, fix);
    let source = match (&c.json, &c.header, &c.cookie) {
        (Some(pointer), None, None) => {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                problem(
                    format!("'{pointer}' is not a JSON pointer"),
                    "write a JSON pointer (RFC 6901) such as \"/cart/id\"; \"\" is the whole body",
                );
                return None;
            }
            Source::Json(pointer.clone())
        }
        (None, Some(header), None) => match reqwest::header::HeaderName::from_bytes(header.as_bytes()) {
            Ok(h) => Source::Header(h),
            Err(_) => {
                problem(
                    format!("'{header}' is not a header name"),
                    "name a response header, e.g. \"Location\"",
                );
                return None;
            }
        },
        (None, None, Some(cookie)) => Source::Cookie(cookie.clone()),
        (None, None, None) if c.regex.is_some() => Source::Body,
        _ => {
            problem(
                "a capture takes its value from one place".to_owned(),
                "give one of json = \"/pointer\", header = \"Name\", cookie = \"name\", or regex alone (over the body)",
            );
            return None;
        }
    };
    let regex = match c.regex.as_deref().map(regex::Regex::new) {
        None => None,
        Some(Ok(re)) => Some(re),
        Some(Err(e)) => {
            let first = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
            problem(
                format!("the regex does not compile: {first}"),
                "fix the regex; its first group (or the whole match) is the value",
            );
            return None;
        }
    };
    Some(Capture { name: name.get_ref().clone(), slot, source, regex })
}

/// Checks, for every captured value a template uses, that some request
/// capturing it can come first on some journey: earlier in the same
/// state, or in a state from which the chain can reach this one. Whether
/// it does on a given journey is only known then (a check error).
fn captured_before_use(
    cx: &mut Cx,
    load: &RawLoad,
    requests: &[Vec<RequestSpec>],
    captures: &[String],
    rows: &[Vec<(Target, f64)>],
) {
    if captures.is_empty() {
        return;
    }
    let mut reach: HashMap<usize, Vec<bool>> = HashMap::new();
    for (state, reqs) in requests.iter().enumerate() {
        for (k, r) in reqs.iter().enumerate() {
            let mut used: Vec<usize> = r.templates().flat_map(Template::captures_used).collect();
            used.sort_unstable();
            used.dedup();
            for slot in used {
                let same_state = reqs[..k].iter().any(|e| e.captures.iter().any(|c| c.slot == slot));
                let earlier_state = requests.iter().enumerate().any(|(from, reqs)| {
                    reqs.iter().any(|e| e.captures.iter().any(|c| c.slot == slot))
                        && reach.entry(from).or_insert_with(|| reachable_from(&rows[from], rows))[state]
                });
                if !(same_state || earlier_state) {
                    let raw: &RawRequest = &load.requests[r.file_order];
                    cx.problem(
                        Some(&raw.state.span()),
                        format!("load.request[{}]", r.file_order),
                        format!(
                            "'{{{}}}' is used before any request can capture it: no journey reaches state '{}' after one",
                            captures[slot],
                            raw.state.get_ref()
                        ),
                        "capture the value in a request of a state that comes before, or earlier in this state",
                    );
                }
            }
        }
    }
}

/// A request's `method`, GET when absent.
fn method(cx: &mut Cx, key: String, method: Option<&Spanned<String>>) -> reqwest::Method {
    match method {
        None => reqwest::Method::GET,
        Some(m) => match m.get_ref().to_ascii_uppercase().as_str() {
            "GET" => reqwest::Method::GET,
            "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            "PATCH" => reqwest::Method::PATCH,
            "DELETE" => reqwest::Method::DELETE,
            "HEAD" => reqwest::Method::HEAD,
            other => {
                cx.problem(
                    Some(&m.span()),
                    key,
                    format!("'{other}' is not a supported method"),
                    "use GET, POST, PUT, PATCH, DELETE or HEAD",
                );
                reqwest::Method::GET
            }
        },
    }
}

/// `[load.thresholds]`: each `key = "condition"` is the threshold
/// `key condition`, e.g. `p99 = "< 500ms"`; kept in file order.
fn thresholds(
    cx: &mut Cx,
    load: &RawLoad,
    requests: &[Vec<RequestSpec>],
    state_index: &HashMap<&str, usize>,
) -> Vec<Threshold> {
    let mut entries: Vec<_> = load.thresholds.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let request_names = fogg_load::spec::request_names(requests);
    let mut states: Vec<(&str, usize)> = state_index
        .iter()
        .filter(|(_, i)| requests.get(**i).is_some_and(|r| !r.is_empty()))
        .map(|(s, i)| (*s, *i))
        .collect();
    states.sort_by_key(|(_, i)| *i);
    let state_names: Vec<&str> = states.iter().map(|(s, _)| *s).collect();
    let mut out = Vec::new();
    for (key, condition) in entries {
        let path = format!("load.thresholds.{}", key.get_ref());
        let parsed = Threshold::parse(&format!("{} {}", key.get_ref(), condition.get_ref()))
            .and_then(|t| check_names(std::slice::from_ref(&t), &request_names, &state_names).map(|()| t));
        match parsed {
            Ok(t) => out.push(t),
            Err(e) => cx.problem(
                Some(&condition.span()),
                path,
                e.message,
                "write e.g. p99 = \"< 500ms\" or \"error_rate{class=5xx}\" = \"< 1%\" (see docs/thresholds.md)",
            ),
        }
    }
    out
}

/// Reads every `[[load.feeder]]`. A file is looked up beside the scenario
/// file; for a bundled scenario, among the bundled files when it is not on
/// disk. Without `read`, files are not opened: each feeder is declared
/// with no columns, and templates may name any column of it. A file that
/// cannot be read is declared the same way, so that the requests using
/// it add no errors of their own.
fn feeders(cx: &mut Cx, raw: &[RawFeeder], source: &str, read: bool) -> Vec<Feeder> {
    let mut out: Vec<Feeder> = Vec::new();
    for (i, f) in raw.iter().enumerate() {
        let key = |field: &str| format!("load.feeder[{i}].{field}");
        let id = f.id.get_ref();
        if id.is_empty()
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || out.iter().any(|o| o.id == *id)
        {
            cx.problem(
                Some(&f.id.span()),
                key("id"),
                format!("feeder id '{id}' is empty, repeated, or not letters, digits and '_'"),
                "give each feeder its own id, e.g. \"catalogue\"",
            );
            continue;
        }
        if id == "env" {
            cx.problem(
                Some(&f.id.span()),
                key("id"),
                "feeder id 'env' is taken: {env.NAME} reads environment variables",
                "give the feeder another id, e.g. \"accounts\"",
            );
            continue;
        }
        let order = f.order.unwrap_or(FeederOrder::RoundRobin);
        let (columns, rows) =
            if read { feeder_file(cx, f, &key("file"), source) } else { None }.unwrap_or_default();
        out.push(Feeder { id: id.clone(), columns, rows, order });
    }
    out
}

/// The header and rows of a feeder's CSV file; `None` (with the problem
/// recorded) when it cannot be read, has no header, a ragged row or no
/// row.
fn feeder_file(
    cx: &mut Cx,
    f: &RawFeeder,
    key: &str,
    source: &str,
) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let path = Path::new(source).parent().unwrap_or(Path::new(".")).join(f.file.get_ref());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => match super::BUNDLED_FILES.iter().find(|(name, _)| Path::new(name) == path) {
            Some((_, text)) => (*text).to_owned(),
            None => {
                let full = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
                cx.problem(
                    Some(&f.file.span()),
                    key,
                    format!("cannot read feeder file '{}': {e}", full.display()),
                    format!(
                        "put the CSV file there (a feeder's file is relative to the scenario file, '{source}'), or change `file`"
                    ),
                );
                return None;
            }
        },
    };
    let mut problem = |message: String, fix: &str| cx.problem(Some(&f.file.span()), key, message, fix);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            problem(format!("'{}': {e}", path.display()), "give a CSV file with a header row");
            return None;
        }
    };
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        match record {
            Ok(r) => rows.push(r.iter().map(str::to_owned).collect::<Vec<_>>()),
            Err(e) => {
                problem(
                    format!("'{}' row {}: {e}", path.display(), n + 2),
                    "give every row as many fields as the header",
                );
                return None;
            }
        }
    }
    if rows.is_empty() {
        problem(format!("'{}' has a header but no rows", path.display()), "add at least one row");
        return None;
    }
    Some((columns, rows))
}
