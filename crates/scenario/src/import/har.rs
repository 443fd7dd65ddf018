//! `fogg import har`: a browser recording (HAR 1.2) → a scenario skeleton.
//!
//! - Each document the browser loaded (a navigation) becomes a state, in
//!   order: one linear journey, each step with a guessed exit.
//! - The document is the state's request; the GETs that followed it
//!   (scripts, styles, images, API reads) are its `resources`; other
//!   calls (POST, PUT…) are further requests of the state, in order.
//! - Think times are the recorded gaps between pages.
//! - A value a response gave (a JSON field, a `Location`, a hidden form
//!   field) that a later request sent back becomes a `capture` and a
//!   `{name}` in that request.
//! - Credentials (`Authorization` and the application's `x-` headers,
//!   cookies the recording did not receive, query and body fields named
//!   like secrets) become `{env.HAR_…}`.
//! - Volatile headers (user agent, `sec-*`, caching, lengths) are dropped;
//!   cookies the site set are left to the customer's cookie jar.
//!
//! Only the origin of the first document is kept: fogg sends traffic to
//! one target. Every number and guess in the output carries a comment.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use toml_writer::{ToTomlKey, ToTomlValue};

use super::har_file::{Entry, HarError, HarFile, Header, timestamp_ms};
pub use super::har_file::{HarError as Error, parse};

/// Values shorter than this are not looked for in later requests: too
/// many short strings and numbers meet by chance.
const MIN_CAPTURED_LEN: usize = 6;

/// Without documents or page references, a pause this long (ms) between
/// two requests starts a new page.
const PAGE_GAP_MS: f64 = 1000.0;

/// The stages the journey is spread over, in page order.
const STAGES: [&str; 4] = ["awareness", "consideration", "decision", "purchase"];

/// What an import wrote, for the summary.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// States (pages).
    pub states: usize,
    /// Requests (documents and other calls).
    pub requests: usize,
    /// Resources.
    pub resources: usize,
    /// Captures, as "name: where".
    pub captures: Vec<String>,
    /// Environment variables to export before a run.
    pub secrets: Vec<String>,
    /// Entries left out, with why.
    pub left_out: Vec<String>,
    /// Guesses worth a look before a run: values made unique per
    /// customer, forms left as recorded, cookies whose origin the
    /// recording does not show.
    pub notes: Vec<String>,
}

/// A scenario skeleton made from a recording.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario file's text.
    pub toml: String,
    /// What is in it.
    pub summary: Summary,
}

/// How a capture finds its value in the source response.
#[derive(Debug, Clone, PartialEq)]
enum How {
    /// A JSON pointer into the body.
    Json(String),
    /// A header, narrowed by a regex.
    Header(String, String),
    /// A regex over the body.
    Body(String),
}

/// A value seen in a response, which later requests may send back.
#[derive(Debug, Clone)]
struct Known {
    value: String,
    source: usize,
    how: How,
    name: String,
}

/// Every value seen so far, indexed so that a request is compared only
/// with the values that can stand in it: a large recording costs time in
/// proportion to its size, not to its size squared.
#[derive(Debug, Default)]
struct Knowns {
    list: Vec<Known>,
    values: HashSet<String>,
    names: UniqueNames,
    /// By the value's leading run of letters and digits, which a text
    /// holding the value alone must hold as a whole run.
    by_first_run: HashMap<String, Vec<usize>>,
    /// Values that start with another character, compared every time.
    unindexed: Vec<usize>,
}

impl Knowns {
    /// Adds a value, under a name made unique, unless it is too short or
    /// already known.
    fn add(&mut self, value: String, source: usize, how: How, hint: &str) {
        if value.len() < MIN_CAPTURED_LEN
            || value.contains(char::is_whitespace)
            || self.values.contains(&value)
        {
            return;
        }
        let name = self.names.unique(&capture_name(hint));
        let index = self.list.len();
        match alnum_runs(&value).next().filter(|run| value.starts_with(run)) {
            Some(run) => self.by_first_run.entry(run.to_owned()).or_default().push(index),
            None => self.unindexed.push(index),
        }
        self.values.insert(value.clone());
        self.list.push(Known { value, source, how, name });
    }

    /// The values that may stand alone in one of `texts`, longest first.
    fn candidates(&self, texts: &[&str]) -> Vec<&Known> {
        let runs: HashSet<&str> = texts.iter().flat_map(|t| alnum_runs(t)).collect();
        let mut found: Vec<&Known> = runs
            .iter()
            .filter_map(|r| self.by_first_run.get(*r))
            .flatten()
            .chain(&self.unindexed)
            .map(|&i| &self.list[i])
            .collect();
        found.sort_by(|a, b| b.value.len().cmp(&a.value.len()).then(a.name.cmp(&b.name)));
        found
    }
}

/// Names made unique with `_2`, `_3`… in the order asked, in constant
/// time each however many share a base.
#[derive(Debug, Default)]
struct UniqueNames {
    taken: HashSet<String>,
    next: HashMap<String, usize>,
}

impl UniqueNames {
    /// `base`, or the first `base_N` not taken yet; now taken.
    fn unique(&mut self, base: &str) -> String {
        let mut name = base.to_owned();
        let n = self.next.entry(base.to_owned()).or_insert(2);
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            *n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// The maximal runs of ASCII letters and digits of `text`.
fn alnum_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|r| !r.is_empty())
}

/// One kept entry, with its request's parts as templates.
#[derive(Debug, Clone)]
struct Call {
    entry: usize,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    status: i64,
    kind: String,
    start_ms: f64,
    end_ms: f64,
    captures: Vec<(String, How)>,
    /// Where its first response redirected, a path on the target, when
    /// the recording's first response was a redirect.
    redirect: Option<String>,
    /// The `<title>` of the page its last response (after redirects)
    /// was in the recording: text an error page would not have.
    title: Option<String>,
    /// Body fields made unique per customer.
    made_unique: Vec<String>,
}

/// Turns a parsed recording into a scenario named `name`; `file` names
/// the recording in errors and comments.
pub fn import(har: &HarFile, file: &str, name: &str) -> Result<Imported, HarError> {
    let entries = &har.log.entries;
    let mut order: Vec<usize> = (0..entries.len()).collect();
    let start = |i: usize| timestamp_ms(&entries[i].started).unwrap_or(0.0);
    order.sort_by(|&a, &b| start(a).total_cmp(&start(b)));
    let Some(&first_document) = order.iter().find(|&&i| is_document(&entries[i])).or(order.first()) else {
        return Err(HarError::Empty { file: file.to_owned() });
    };
    let origin = url(&entries[first_document]).origin();
    let mut summary = Summary::default();

    // Entries of the target's origin, without the hops of redirects
    // (fogg follows those itself) and before the first document. A hop's
    // cookies and values count as its request's: fogg's captures see
    // every hop's headers and the last hop's body.
    let mut redirected: BTreeMap<String, usize> = BTreeMap::new();
    let mut calls: Vec<Call> = Vec::new();
    let mut set_cookies: BTreeSet<String> = BTreeSet::new();
    let mut known = Knowns::default();
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    // Cookies the browser had before the recording began: those its first
    // request sent. Any other cookie was set during the recording, even
    // when no response shows it (Chromium leaves `Set-Cookie` out of
    // redirect hops), and is left to the customer's cookie jar.
    let cookies_before = cookie_names(&entries[first_document]);
    let mut hidden_cookies: BTreeSet<String> = BTreeSet::new();
    for &i in order.iter().skip_while(|&&i| i != first_document) {
        let e = &entries[i];
        let u = url(e);
        if u.origin() != origin {
            summary.left_out.push(format!("{} {}: another origin", e.request.method, e.request.url));
            continue;
        }
        let next = header(&e.response.headers, "location")
            .filter(|_| (300..400).contains(&e.response.status))
            .and_then(|location| u.join(location).ok());
        if let Some(source) = redirected.remove(u.as_str()) {
            keep_set_cookies(e, &mut set_cookies);
            learn(e, source, &mut known);
            if let Some(call) = calls.iter_mut().find(|c| c.entry == source) {
                call.title = page_title(e);
            }
            if let Some(next) = next {
                redirected.insert(next.to_string(), source);
            }
            continue;
        }
        let mut path = u.path().to_owned();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        for cookie in cookie_names(e) {
            if !set_cookies.contains(&cookie) && !cookies_before.contains(&cookie) {
                hidden_cookies.insert(cookie.clone());
                set_cookies.insert(cookie);
            }
        }
        let headers = request_headers(e, &set_cookies, &mut secrets);
        let body = e.request.post_data.as_ref().and_then(|p| p.body());
        let end = start(i) + e.time.max(0.0);
        let mut call = Call {
            entry: i,
            method: e.request.method.to_ascii_uppercase(),
            path,
            headers,
            body,
            status: e.response.status,
            kind: e.resource_type.clone().unwrap_or_else(|| e.response.content.mime_type.clone()),
            start_ms: start(i),
            end_ms: end,
            captures: Vec::new(),
            redirect: next.as_ref().filter(|n| n.origin() == origin).map(|n| n.path().to_owned()),
            title: page_title(e),
            made_unique: Vec::new(),
        };
        if let Some(next) = next {
            redirected.insert(next.to_string(), i);
        }
        use_captures(&mut call, &known, &mut calls);
        // Fields named like credentials whose value no response gave
        // (a capture explains the others, whatever their name).
        if let Some((path, query)) = call.path.split_once('?') {
            call.path = format!("{path}?{}", secret_query(query, &mut secrets));
        }
        call.body = call.body.take().map(|body| request_body(e, body, &mut secrets));
        unique_fields(&mut call, e, &mut summary);
        // Credentials that did not come from a response: every header
        // not known to be public (the application's own `x-` headers
        // carry keys, tokens and session ids) whose value no capture
        // explains.
        for (name, value) in &mut call.headers {
            if !public_header(name) && !value.contains('{') {
                let var = env_name(name);
                *value = format!("{{env.{var}}}");
                secrets.insert(var);
            }
        }
        keep_set_cookies(e, &mut set_cookies);
        learn(e, i, &mut known);
        calls.push(call);
    }

    for cookie in hidden_cookies {
        summary.notes.push(format!(
            "cookie {cookie}: first sent during the recording, set by a response it does not show; left to the cookie jar"
        ));
    }
    let pages = pages_of(calls, entries, &mut summary);
    let ids = unique_ids(pages.iter().map(|(doc, ..)| (doc.method.as_str(), doc.path.as_str())));
    let mut t = String::new();
    write_states(&mut t, har, file, name, &pages, &ids, &secrets);
    write_load(&mut t, &pages, &ids, &mut summary);
    summary.states = ids.len();
    summary.secrets = secrets.into_iter().collect();
    Ok(Imported { toml: t, summary })
}

/// A page: its document, its resources, and its other calls.
type Page = (Call, Vec<Call>, Vec<Call>);

/// The calls grouped into pages: each document starts one (else each new
/// page reference, else each pause of a second); GETs without captures
/// that answered 2xx/3xx are its resources.
fn pages_of(calls: Vec<Call>, entries: &[Entry], summary: &mut Summary) -> Vec<Page> {
    let documents = calls.iter().any(|c| is_document(&entries[c.entry]));
    let pagerefs = calls.iter().any(|c| entries[c.entry].pageref.is_some());
    let mut pages: Vec<Page> = Vec::new();
    let mut previous: Option<(Option<&str>, f64)> = None;
    let mut failed: Vec<(i64, String)> = Vec::new();
    for call in calls {
        let e = &entries[call.entry];
        let starts_a_page = match previous {
            None => true,
            Some(_) if documents => is_document(e),
            Some((pageref, _)) if pagerefs => e.pageref.as_deref() != pageref,
            Some((_, end)) => call.start_ms - end > PAGE_GAP_MS,
        };
        let end = previous.map_or(call.end_ms, |(_, end)| end.max(call.end_ms));
        previous = Some((e.pageref.as_deref(), if starts_a_page { call.end_ms } else { end }));
        if starts_a_page {
            pages.push((call, Vec::new(), Vec::new()));
            continue;
        }
        let page = pages.last_mut().expect("a page");
        if call.method == "GET" && call.captures.is_empty() {
            if (200..400).contains(&call.status) {
                page.1.push(call);
            } else {
                failed.push((call.status, call.path));
            }
        } else {
            page.2.push(call);
        }
    }
    if let Some(failure) = failed_resources(&failed) {
        summary.left_out.push(failure);
    }
    pages
}

/// One line for the resources that failed in the recording (a site's
/// missing styles and scripts are many): how many, by status, and the
/// first few paths.
fn failed_resources(failed: &[(i64, String)]) -> Option<String> {
    let (_, first) = failed.first()?;
    let mut statuses: BTreeMap<i64, usize> = BTreeMap::new();
    for (status, _) in failed {
        *statuses.entry(*status).or_default() += 1;
    }
    let by_status: Vec<String> = statuses
        .iter()
        .map(|(&status, n)| {
            let status = if status > 0 { status.to_string() } else { "no response".to_owned() };
            format!("{status} ×{n}")
        })
        .collect();
    let mut paths: Vec<&str> = Vec::new();
    for (_, path) in failed {
        if !paths.contains(&path.as_str()) {
            paths.push(path);
        }
    }
    let more = match paths.len() {
        1 => String::new(),
        n if n <= 3 => format!(", {}", paths[1..].join(", ")),
        n => format!(", {}, {} and {} more", paths[1], paths[2], n - 3),
    };
    let gets = if failed.len() == 1 { "GET" } else { "GETs" };
    Some(format!(
        "{} {gets} that failed in the recording ({}): {first}{more}",
        failed.len(),
        by_status.join(", ")
    ))
}

/// The scenario's comments, `[scenario]`, the channel, the entry and a
/// state per page, in a line.
fn write_states(
    t: &mut String,
    har: &HarFile,
    file: &str,
    name: &str,
    pages: &[Page],
    ids: &[String],
    secrets: &BTreeSet<String>,
) {
    let conversion = pages
        .iter()
        .position(|(doc, _, calls)| std::iter::once(doc).chain(calls).any(|c| looks_like_an_order(&c.path)));
    let creator = har
        .log
        .creator
        .as_ref()
        .map_or("an unknown tool".to_owned(), |c| format!("{} {}", c.name, c.version));
    let _ = writeln!(
        t,
        "# Imported by `fogg import har` from {file} (HAR {}, recorded by {creator}).",
        har.log.version
    );
    let _ = writeln!(
        t,
        "# {} pages became {} states of one linear journey. A recording shows one",
        pages.len(),
        pages.len()
    );
    let _ = writeln!(t, "# visitor, not the crowd: edit `next` (where customers go), the conversion and");
    let _ = writeln!(t, "# the load profile from your analytics. Every number and guess says where it");
    let _ = writeln!(t, "# comes from.");
    if !secrets.is_empty() {
        let list: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let _ =
            writeln!(t, "#\n# Credentials of the recording were replaced: export {} before", list.join(", "));
        let _ = writeln!(t, "# `fogg load` (they are read from the environment, never written to a file).");
    }
    let _ = writeln!(t, "\n[scenario]\nname = {}", name.to_toml_value());
    let _ =
        writeln!(t, "stages = [{}]", STAGES.iter().map(|s| s.to_toml_value()).collect::<Vec<_>>().join(", "));
    let _ = writeln!(t, "\n[[channel]]\nid = \"web\"\nkind = \"online\"");
    let _ = writeln!(t, "\n[entry]\n{} = 1   # the recording starts here", ids[0]);
    for (n, id) in ids.iter().enumerate() {
        let stage = STAGES[n * STAGES.len() / ids.len()];
        let _ = writeln!(t, "\n[[state]]\nid = {}", id.to_toml_value());
        let _ = writeln!(
            t,
            "stage = {}   # guess: the pages spread along the funnel in order",
            stage.to_toml_value()
        );
        let _ = writeln!(t, "channel = \"web\"");
        if conversion == Some(n) {
            let _ = writeln!(t, "conversion = true   # guess: this page's requests look like an order");
            let _ = writeln!(
                t,
                "value = {{ dist = \"constant\", value = 50.0 }}   # guess: set your average order value"
            );
        }
        match ids.get(n + 1) {
            Some(next) => {
                let _ = writeln!(
                    t,
                    "next = {{ {next} = 9, exit = 1 }}   # guess: 9 in 10 go on to the next recorded page"
                );
            }
            None => {
                let _ = writeln!(t, "next = {{ exit = 1 }}   # the recording ends here");
            }
        }
    }
}

/// `[load]` with think times from the recorded gaps between pages, and a
/// `[[load.request]]` per document and call.
fn write_load(t: &mut String, pages: &[Page], ids: &[String], summary: &mut Summary) {
    let gaps: Vec<f64> = pages
        .windows(2)
        .map(|w| {
            let end =
                std::iter::once(&w[0].0).chain(&w[0].1).chain(&w[0].2).map(|c| c.end_ms).fold(0.0, f64::max);
            (w[1].0.start_ms - end).max(0.0)
        })
        .collect();
    let median_gap = median(&gaps).unwrap_or(2000.0);
    let _ = writeln!(t, "\n[load]");
    let _ = writeln!(t, "duration = \"1min\"   # guess: how long customers arrive");
    let _ = writeln!(
        t,
        "profile = {{ kind = \"constant\", rate = 1 }}   # guess: 1 customer/s; raise it, or use --rate"
    );
    let _ = writeln!(
        t,
        "think_time = {{ dist = \"constant\", value = \"{}ms\" }}   # the median of the {} recorded gaps between pages",
        median_gap.round(),
        gaps.len()
    );
    if !gaps.is_empty() {
        let _ = writeln!(t, "\n[load.think_time_by_state]");
        for (id, gap) in ids.iter().zip(&gaps) {
            let _ = writeln!(
                t,
                "{id} = {{ dist = \"constant\", value = \"{}ms\" }}   # recorded gap after this page",
                gap.round()
            );
        }
    }
    // Request names: a document's is its state's id.
    let mut names = UniqueNames::default();
    let mut by_path: HashMap<String, String> = HashMap::new();
    for (id, (doc, ..)) in ids.iter().zip(pages) {
        names.unique(id);
        by_path.entry(doc.path.clone()).or_insert_with(|| id.clone());
    }
    for (id, (doc, resources, others)) in ids.iter().zip(pages) {
        write_request(t, id, id, doc, resources, summary);
        for call in others {
            // Calls to one path share a name (and a row in reports).
            let name = match by_path.get(&call.path) {
                Some(name) => name.clone(),
                None => {
                    let name = names.unique(&request_name(&call.method, &call.path));
                    by_path.insert(call.path.clone(), name.clone());
                    name
                }
            };
            write_request(t, id, &name, call, &[], summary);
        }
    }
}

/// The suffix that makes a value unique to one customer of one run.
const UNIQUE_SUFFIX: &str = "-{run}-{customer}";

/// Fields of a form or JSON body sent to create something (a name, a
/// title, an email) get a per-customer suffix: replayed as recorded by
/// thousands of customers, they would collide with the object the
/// recording made. A sign-in form (one with a credential) stays as
/// recorded: its user name must match an account.
fn unique_fields(call: &mut Call, e: &Entry, summary: &mut Summary) {
    let Some(body) = call.body.as_mut().filter(|_| call.method != "GET") else { return };
    let mime = e.request.post_data.as_ref().map_or("", |p| p.mime_type.as_str());
    let mut fields = Vec::new();
    let signs_in = body.contains("{env.");
    // The body with the fields made unique; kept only when not a sign-in.
    let unique = if mime.contains("x-www-form-urlencoded") {
        let pairs: Vec<String> = body
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if unique_field(k) && !v.is_empty() && !v.contains('{') => {
                    fields.push(k.to_owned());
                    format!("{k}={}", made_unique(v, "%40"))
                }
                _ => pair.to_owned(),
            })
            .collect();
        pairs.join("&")
    } else if mime.contains("json") {
        let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body) else { return };
        unique_json(&mut v, &mut fields);
        v.to_string()
    } else {
        return;
    };
    if fields.is_empty() {
        return;
    }
    let request = format!("{} {}", call.method, call.path);
    if signs_in {
        summary.notes.push(format!(
            "{} of {request} left as recorded: the form carries a credential (a sign-in); if it creates an account, add {UNIQUE_SUFFIX}",
            fields.join(", ")
        ));
    } else {
        summary.notes.push(format!(
            "{} of {request} made unique per customer ({UNIQUE_SUFFIX}): what the recording created would collide",
            fields.join(", ")
        ));
        *body = unique;
        call.made_unique = fields;
    }
}

/// Makes the string leaves of unique-looking keys unique, collecting the
/// keys.
fn unique_json(v: &mut serde_json::Value, fields: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                match x {
                    serde_json::Value::String(s) if unique_field(k) && !s.is_empty() && !s.contains('{') => {
                        fields.push(k.clone());
                        *s = made_unique(s, "@");
                    }
                    _ => unique_json(x, fields),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| unique_json(x, fields)),
        _ => {}
    }
}

/// `value` with the per-customer suffix, before the `@` of an email
/// address (spelt `at`).
fn made_unique(value: &str, at: &str) -> String {
    match value.split_once(at) {
        Some((user, domain)) => format!("{user}{UNIQUE_SUFFIX}{at}{domain}"),
        None => format!("{value}{UNIQUE_SUFFIX}"),
    }
}

/// Whether a field names what a form creates and must not repeat: a
/// name, title, slug, email or handle (`group[name]` and `user.email`
/// included).
fn unique_field(name: &str) -> bool {
    let last = name.rsplit(['[', '.']).next().unwrap_or(name).trim_end_matches(']').to_ascii_lowercase();
    last.ends_with("name")
        || last.ends_with("email")
        || matches!(last.as_str(), "title" | "slug" | "handle" | "label" | "subject")
}

/// The names of the cookies `e`'s request sent.
fn cookie_names(e: &Entry) -> BTreeSet<String> {
    e.request
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
        .flat_map(|h| h.value.split(';'))
        .filter_map(|c| c.trim().split_once('=').map(|(n, _)| n.to_owned()))
        .collect()
}

/// The request headers a scenario keeps, with cookies the recording did
/// not set itself turned into `{env.HAR_COOKIE_…}` secrets.
fn request_headers(
    e: &Entry,
    set_cookies: &BTreeSet<String>,
    secrets: &mut BTreeSet<String>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for h in &e.request.headers {
        let name = h.name.to_ascii_lowercase();
        if name == "cookie" {
            let foreign: Vec<String> = h
                .value
                .split(';')
                .filter_map(|c| c.trim().split_once('='))
                .filter(|(n, _)| !set_cookies.contains(*n))
                .map(|(n, _)| {
                    let var = env_name(&format!("cookie_{n}"));
                    secrets.insert(var.clone());
                    format!("{n}={{env.{var}}}")
                })
                .collect();
            if !foreign.is_empty() && !headers.iter().any(|(n, _)| n == "cookie") {
                headers.push(("cookie".to_owned(), foreign.join("; ")));
            }
        } else if kept_header(&name) && !headers.iter().any(|(n, _)| *n == name) {
            headers.push((name, h.value.clone()));
        }
    }
    headers
}

/// The names of the cookies `e`'s response sets.
fn keep_set_cookies(e: &Entry, set_cookies: &mut BTreeSet<String>) {
    for h in e.response.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("set-cookie")) {
        if let Some((n, _)) = h.value.split(';').next().and_then(|c| c.split_once('=')) {
            set_cookies.insert(n.trim().to_owned());
        }
    }
}

/// The `<title>` of `e`'s response, when it is an HTML page with one.
fn page_title(e: &Entry) -> Option<String> {
    if !e.response.content.mime_type.contains("html") {
        return None;
    }
    let body = e.response.content.body()?;
    let start = body.find("<title>")? + "<title>".len();
    let title = body[start..].split("</title>").next()?.trim();
    (!title.is_empty() && title.len() <= 200 && !title.contains(['<', '{'])).then(|| title.to_owned())
}

/// `body` of `e` (captures already in place), with a form's or JSON
/// document's remaining credentials replaced.
fn request_body(e: &Entry, body: String, secrets: &mut BTreeSet<String>) -> String {
    let mime = e.request.post_data.as_ref().map_or("", |p| p.mime_type.as_str());
    if mime.contains("x-www-form-urlencoded") {
        secret_query(&body, secrets)
    } else if mime.contains("json") {
        secret_json(&body, secrets)
    } else {
        body
    }
}

/// Values earlier responses gave, sent back in `call`: each becomes a
/// `{name}` there and a capture on the call that gave it.
fn use_captures(call: &mut Call, known: &Knowns, calls: &mut [Call]) {
    let texts: Vec<&str> = std::iter::once(call.path.as_str())
        .chain(call.headers.iter().map(|(_, v)| v.as_str()))
        .chain(call.body.as_deref())
        .collect();
    let candidates: Vec<Known> = known.candidates(&texts).into_iter().cloned().collect();
    let mut used: Vec<(usize, String)> = Vec::new();
    for k in &candidates {
        let token = format!("{{{}}}", k.name);
        let mut hit = false;
        for text in std::iter::once(&mut call.path)
            .chain(call.headers.iter_mut().map(|(_, v)| v))
            .chain(call.body.as_mut())
        {
            if let Some(replaced) = replace_whole(text, &k.value, &token) {
                *text = replaced;
                hit = true;
            }
        }
        if hit {
            used.push((k.source, k.name.clone()));
        }
    }
    for (source, capture) in used {
        let k = candidates.iter().find(|k| k.name == capture).expect("a known value");
        let source_call = calls.iter_mut().find(|c| c.entry == source).expect("sources come first");
        if !source_call.captures.iter().any(|(n, _)| *n == capture) {
            source_call.captures.push((capture, k.how.clone()));
        }
    }
}

/// Writes one `[[load.request]]`.
fn write_request(
    t: &mut String,
    state: &str,
    name: &str,
    call: &Call,
    resources: &[Call],
    summary: &mut Summary,
) {
    let _ = writeln!(t, "\n[[load.request]]\nstate = {}", state.to_toml_value());
    if name != state {
        let _ = writeln!(t, "name = {}", name.to_toml_value());
    }
    if call.method != "GET" {
        let _ = writeln!(t, "method = {}", call.method.to_toml_value());
    }
    let _ = writeln!(
        t,
        "path = {}   # {}, {} in the recording",
        call.path.to_toml_value(),
        call.kind,
        call.status
    );
    if !call.headers.is_empty() {
        let h: Vec<String> = call
            .headers
            .iter()
            .map(|(n, v)| format!("{} = {}", n.to_toml_key(), v.to_toml_value()))
            .collect();
        let _ = writeln!(t, "headers = {{ {} }}", h.join(", "));
    }
    if let Some(body) = &call.body {
        let _ = writeln!(t, "body = {}", body.to_toml_value());
    }
    if !call.made_unique.is_empty() {
        let _ = writeln!(
            t,
            "# {} made unique per customer with -{{run}}-{{customer}}: the recorded value would collide",
            call.made_unique.join(", ")
        );
    }
    write_checks(t, call);
    if !call.captures.is_empty() {
        let c: Vec<String> = call
            .captures
            .iter()
            .map(|(n, how)| {
                summary.captures.push(format!("{n}: {} of {} {}", how.describe(), call.method, call.path));
                format!("{n} = {}", how.toml())
            })
            .collect();
        let _ =
            writeln!(t, "capture = {{ {} }}   # sent back by a later request of the recording", c.join(", "));
    }
    if !resources.is_empty() {
        let _ = writeln!(t, "resources = [");
        for r in resources {
            let _ =
                writeln!(t, "  {},   # {}, {} in the recording", r.path.to_toml_value(), r.kind, r.status);
        }
        let _ = writeln!(t, "]");
    }
    summary.requests += 1;
    summary.resources += resources.len();
}

/// What the recording saw, as checks: the redirect of the first
/// response (unless its path holds an id a replay would not get), and
/// the last page's title, which an error page or a login form sent back
/// instead would not have.
fn write_checks(t: &mut String, call: &Call) {
    if let Some(to) = &call.redirect {
        if to.contains(|c: char| c.is_ascii_digit()) {
            let _ = writeln!(t, "# redirected to {to} in the recording (an id: not checked)");
        } else {
            let _ = writeln!(t, "expect_redirect = {}", to.to_toml_value());
        }
    }
    if let Some(title) = &call.title {
        let _ = writeln!(t, "expect_body = {}   # the page's title in the recording", title.to_toml_value());
    }
}

impl How {
    fn toml(&self) -> String {
        match self {
            How::Json(p) => format!("{{ json = {} }}", p.to_toml_value()),
            How::Header(h, re) => {
                format!("{{ header = {}, regex = {} }}", h.to_toml_value(), re.to_toml_value())
            }
            How::Body(re) => format!("{{ regex = {} }}", re.to_toml_value()),
        }
    }

    fn describe(&self) -> String {
        match self {
            How::Json(p) => format!("JSON {p}"),
            How::Header(h, _) => format!("header {h}"),
            How::Body(_) => "a form field of the page".to_owned(),
        }
    }
}

/// Adds the values `e`'s response gives: JSON fields, a `Location`'s
/// path segments, hidden form fields.
fn learn(e: &Entry, source: usize, known: &mut Knowns) {
    let mut add = |value: String, how: How, name: &str| known.add(value, source, how, name);
    if let Some(location) = header(&e.response.headers, "location") {
        let path = location.split(['?', '#']).next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        for (i, s) in segments.iter().enumerate() {
            if i > 0
                && s.len() >= MIN_CAPTURED_LEN
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                let before = regex::escape(&segments[..i].join("/"));
                let name = if i > 1 { segments[i - 1] } else { "location" };
                add((*s).to_owned(), How::Header("Location".to_owned(), format!("{before}/([^/?#]+)")), name);
            }
        }
    }
    let Some(body) = e.response.content.body() else { return };
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) {
        let mut leaves = Vec::new();
        json_leaves(&json, String::new(), &mut leaves);
        for (pointer, value) in leaves {
            let name = pointer
                .rsplit('/')
                .find(|s| !s.is_empty() && !s.chars().all(|c| c.is_ascii_digit()))
                .unwrap_or("value")
                .to_owned();
            add(value, How::Json(pointer), &name);
        }
    } else if e.response.content.mime_type.contains("html") {
        let hidden =
            regex::Regex::new(r#"<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)""#).expect("a valid regex");
        for c in hidden.captures_iter(&body) {
            let (field, value) = (&c[1], &c[2]);
            let re = format!(r#"name="{}"[^>]*value="([^"]+)""#, regex::escape(field));
            add(value.to_owned(), How::Body(re), field);
        }
    }
}

/// Every string and number of a JSON value, with its pointer.
fn json_leaves(v: &serde_json::Value, pointer: String, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) => out.push((pointer, s.clone())),
        serde_json::Value::Number(n) => out.push((pointer, n.to_string())),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_leaves(x, format!("{pointer}/{i}"), out);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                json_leaves(x, format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        _ => {}
    }
}

/// `text` with every occurrence of `value` that stands alone (no letter
/// or digit either side) replaced by `token`; `None` when there is none.
fn replace_whole(text: &str, value: &str, token: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut found = false;
    while let Some(at) = rest.find(value) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + value.len()..].chars().next();
        let alone = !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric());
        out.push_str(&rest[..at]);
        out.push_str(if alone { token } else { value });
        found |= alone;
        rest = &rest[at + value.len()..];
    }
    out.push_str(rest);
    found.then_some(out)
}

/// A query string or form body with the values of fields named like
/// secrets replaced by `{env.HAR_FIELD}`, unless a capture gives them.
fn secret_query(q: &str, secrets: &mut BTreeSet<String>) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if secret_name(k) && !v.contains('{') => {
                let var = env_name(k);
                secrets.insert(var.clone());
                format!("{k}={{env.{var}}}")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON body with the string values of fields named like secrets
/// replaced by `{env.HAR_FIELD}`; other text as it is.
fn secret_json(text: &str, secrets: &mut BTreeSet<String>) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) else { return text.to_owned() };
    fn walk(v: &mut serde_json::Value, secrets: &mut BTreeSet<String>) -> bool {
        let mut changed = false;
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if secret_name(k) && x.as_str().is_some_and(|s| !s.contains('{')) {
                        let var = env_name(k);
                        *x = serde_json::Value::String(format!("{{env.{var}}}"));
                        secrets.insert(var);
                        changed = true;
                    } else {
                        changed |= walk(x, secrets);
                    }
                }
            }
            serde_json::Value::Array(a) => {
                for x in a {
                    changed |= walk(x, secrets);
                }
            }
            _ => {}
        }
        changed
    }
    if walk(&mut v, secrets) { v.to_string() } else { text.to_owned() }
}

/// Whether a field's name says it holds a credential: a name with one of
/// these in it, or a signature (`sig`, `signature`).
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "key", "auth", "session", "credential", "nonce", "otp"]
        .iter()
        .any(|s| n.contains(s))
        || n == "sig"
        || n.contains("signature")
}

/// Headers whose recorded value is public: what the browser sends to
/// any site.
fn public_header(name: &str) -> bool {
    matches!(name, "content-type" | "accept" | "x-requested-with")
}

/// `HAR_NAME`: an environment variable name for a credential.
fn env_name(name: &str) -> String {
    let clean: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("HAR_{clean}")
}

/// Headers worth sending again: content negotiation, credentials and the
/// application's own `x-` headers; the rest is the browser's.
fn kept_header(name: &str) -> bool {
    matches!(name, "content-type" | "accept" | "authorization")
        || name.starts_with("x-") && !name.starts_with("x-forwarded")
}

/// Whether the entry is a page the browser navigated to: a link, or a
/// form it submitted (whatever the method).
fn is_document(e: &Entry) -> bool {
    match e.resource_type.as_deref() {
        Some(t) => t == "document",
        None => {
            e.request.method.eq_ignore_ascii_case("GET")
                && e.response.content.mime_type.starts_with("text/html")
        }
    }
}

fn url(e: &Entry) -> reqwest::Url {
    reqwest::Url::parse(&e.request.url).expect("checked when parsed")
}

fn header<'h>(headers: &'h [Header], name: &str) -> Option<&'h str> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
}

/// A state id per page path: `/` is `home`, `/product/7` is `product`;
/// repeats get `_2`, `_3`.
fn unique_ids<'a>(calls: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut names = UniqueNames::default();
    calls.map(|(method, path)| names.unique(&request_name(method, path))).collect()
}

/// A name from a path's last two segments without digits (ids, versions),
/// after the method when it is not GET: `/cart/12/checkout` → `cart_checkout`,
/// `POST /admin/login/` → `post_admin_login`.
fn request_name(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty() && !s.contains(|c: char| c.is_ascii_digit()))
        .collect();
    let mut name = segments[segments.len().saturating_sub(2)..].join("_");
    if !method.eq_ignore_ascii_case("GET") {
        name = if name.is_empty() { method.to_owned() } else { format!("{method}_{name}") };
    }
    identifier(&name, "home")
}

/// Lowercase letters, digits and `_`, starting with a letter, at most 60
/// of them (well within a scenario's name limit).
fn identifier(text: &str, fallback: &str) -> String {
    let mut id: String = text
        .chars()
        .take(60)
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    id = id.trim_matches('_').to_owned();
    if id.is_empty() {
        return fallback.to_owned();
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id = format!("p_{id}");
    }
    id
}

/// A capture name that is no built-in template variable.
fn capture_name(hint: &str) -> String {
    let id = identifier(hint, "value");
    if ["customer", "segment", "state", "step", "product", "env", "run", "uuid"].contains(&id.as_str()) {
        format!("{id}_value")
    } else {
        id
    }
}

fn looks_like_an_order(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    ["checkout", "order", "purchase", "confirm", "thank", "payment"].iter().any(|w| p.contains(w))
}

fn median(xs: &[f64]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_replaced_only_where_they_stand_alone() {
        assert_eq!(
            replace_whole("/cart/1000042/checkout", "1000042", "{cart}").as_deref(),
            Some("/cart/{cart}/checkout")
        );
        assert_eq!(replace_whole("/p/10000420", "1000042", "{cart}"), None);
        assert_eq!(replace_whole("Bearer abcdef", "abcdef", "{token}").as_deref(), Some("Bearer {token}"));
    }

    #[test]
    fn credentials_become_environment_variables() {
        let mut s = BTreeSet::new();
        assert_eq!(secret_query("q=shoes&api_key=XYZ", &mut s), "q=shoes&api_key={env.HAR_API_KEY}");
        assert_eq!(
            secret_json(r#"{"user":"ann","password":"hunter2"}"#, &mut s),
            r#"{"password":"{env.HAR_PASSWORD}","user":"ann"}"#
        );
        assert_eq!(s.into_iter().collect::<Vec<_>>(), ["HAR_API_KEY", "HAR_PASSWORD"]);
    }

    /// An API recording (no documents, no pages) is cut into pages at
    /// pauses of a second.
    #[test]
    fn without_documents_pauses_make_the_pages() {
        let entry = |at: &str, method: &str, path: &str| {
            format!(
                r#"{{"startedDateTime": "2026-11-30T10:00:{at}Z", "time": 50, "request": {{"method": "{method}", "url": "http://127.0.0.1:8080{path}", "headers": []}},
                   "response": {{"status": 200, "headers": [], "content": {{"mimeType": "application/json", "text": "{{}}"}}}}}}"#
            )
        };
        let text = format!(
            r#"{{"log": {{"version": "1.2", "entries": [{}, {}, {}]}}}}"#,
            entry("00.000", "GET", "/api/items"),
            entry("00.100", "GET", "/api/items/1"),
            entry("03.000", "POST", "/api/orders"),
        );
        let har = parse(text.as_bytes(), "api.har").unwrap();
        let imported = import(&har, "api.har", "API").unwrap();
        assert_eq!(
            (imported.summary.states, imported.summary.requests, imported.summary.resources),
            (2, 2, 1)
        );
        assert!(
            imported.toml.contains("value = \"2850ms\" }   # recorded gap after this page"),
            "{}",
            imported.toml
        );
        assert!(imported.toml.contains("conversion = true"), "an order: {}", imported.toml);
    }

    /// A JSON body's names and emails get the per-customer suffix, the
    /// email before its `@`; templated values and other keys stay.
    #[test]
    fn json_fields_are_made_unique() {
        let mut v: serde_json::Value = serde_json::from_str(
            r#"{"team": {"name": "launch"}, "users": [{"email": "ann@shop.test"}], "note": "x", "title": "{t}"}"#,
        )
        .unwrap();
        let mut fields = Vec::new();
        unique_json(&mut v, &mut fields);
        assert_eq!(fields, ["name", "email"]);
        assert_eq!(v["team"]["name"], "launch-{run}-{customer}");
        assert_eq!(v["users"][0]["email"], "ann-{run}-{customer}@shop.test");
        assert_eq!((v["note"].as_str(), v["title"].as_str()), (Some("x"), Some("{t}")));
    }

    #[test]
    fn names_are_identifiers() {
        assert_eq!(
            unique_ids(["/", "/product/7", "/product/9", "/basket"].into_iter().map(|p| ("GET", p))),
            ["home", "product", "product_2", "basket"]
        );
        assert_eq!(request_name("GET", "/cart/1000042/checkout?x=1"), "cart_checkout");
        assert_eq!(request_name("POST", "/admin/login/?next=/admin/"), "post_admin_login");
        assert_eq!(request_name("GET", "/admin/auth/group/add/"), "group_add");
        assert_eq!(request_name("DELETE", "/"), "delete");
        assert_eq!(request_name("GET", "/v2/"), "home");
        assert_eq!(capture_name("product"), "product_value");
        assert_eq!(capture_name("X-CSRF"), "x_csrf");
        assert_eq!(identifier("2fa", "x"), "p_2fa");
    }
}
