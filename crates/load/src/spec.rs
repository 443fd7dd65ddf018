//! What a scenario's `[load]` section compiles into: requests per state,
//! URL and body templates, think time, patience, the arrival profile.

use std::fmt::Write as _;
use std::time::Duration;

use super::capture::Capture;
use fogg_model::Dist;

use super::plan::Workload;

/// Load-mode settings of a scenario.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// How long arrivals go on.
    pub duration: Duration,
    /// How customers arrive.
    pub workload: Workload,
    /// Pause between two touchpoints of a journey, in seconds.
    pub think_time: Dist,
    /// Per state, a think time that replaces the default after that state.
    pub think_time_by_state: Vec<Option<Dist>>,
    /// A customer's patience, in seconds: a response slower than a fresh
    /// draw from it makes the customer leave.
    pub patience: Dist,
    /// What a failed request does to the journey.
    pub on_error: OnError,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Customers in flight at most; arrivals beyond are dropped.
    pub max_in_flight: usize,
    /// Requests per state (index = state index), sent in order.
    pub requests: Vec<Vec<RequestSpec>>,
    /// CSV feeders, in declaration order.
    pub feeders: Vec<Feeder>,
    /// Names of the values requests capture, by slot.
    pub captures: Vec<String>,
    /// A W3C `tracestate` sent with every request's `traceparent`.
    pub tracestate: Option<String>,
    /// `[load] headers`: sent with every request, before its own (which
    /// replace them by name).
    pub headers: Vec<(String, Template)>,
    /// Whether requests carry `Referer` (the customer's last page) and,
    /// when not GET or HEAD, `Origin`, as a browser sends them.
    pub browser_headers: bool,
}

/// A CSV file whose rows fill `{ID.COLUMN}` placeholders. A customer keeps
/// one row for the whole journey.
#[derive(Debug, Clone)]
pub struct Feeder {
    /// The id templates use.
    pub id: String,
    /// Column names (the CSV header); empty when the file was not read
    /// (a scenario read for its journeys only), and templates may then
    /// name any column.
    pub columns: Vec<String>,
    /// The rows (never empty once the file was read).
    pub rows: Vec<Vec<String>>,
    /// How customers get rows.
    pub order: FeederOrder,
}

impl LoadSpec {
    /// Every request name, each once, in declaration order.
    pub fn request_names(&self) -> Vec<&str> {
        request_names(&self.requests)
    }

    /// Every secret value (`{env.NAME}`) any template of the section
    /// reads, each once.
    pub fn secrets(&self) -> Vec<String> {
        let requests = self.requests.iter().flatten().flat_map(RequestSpec::templates);
        let templates = self.headers.iter().map(|(_, t)| t).chain(requests);
        let mut secrets: Vec<String> = Vec::new();
        for value in templates.flat_map(Template::secrets) {
            if !value.is_empty() && !secrets.iter().any(|s| s == value) {
                secrets.push(value.to_owned());
            }
        }
        secrets
    }

    /// The think time after a visit to state `state`.
    pub fn think_after(&self, state: usize) -> &Dist {
        self.think_time_by_state[state].as_ref().unwrap_or(&self.think_time)
    }
}

/// Every request name of `requests` (per state), each once, in order,
/// a page's resources after it.
pub fn request_names(requests: &[Vec<RequestSpec>]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for r in requests.iter().flatten() {
        for name in std::iter::once(&r.name).chain(r.resources.iter().map(|x| &x.name)) {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    names
}

/// One HTTP request of a state.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// Name in reports (defaults to the state id).
    pub name: String,
    /// HTTP method.
    pub method: reqwest::Method,
    /// Path and query, appended to the target URL.
    pub path: Template,
    /// Headers.
    pub headers: Vec<(String, Template)>,
    /// Body.
    pub body: Option<Template>,
    /// A form body: fields and their values, each value
    /// `application/x-www-form-urlencoded` after substitution.
    pub form: Vec<(String, Template)>,
    /// A JSON body: each string a template, rendered then JSON-escaped.
    pub json: Option<JsonTemplate>,
    /// Accepted statuses of the last response (after redirects); `None`
    /// accepts 2xx and 3xx.
    pub expect_status: Option<Vec<u16>>,
    /// Where the first response must redirect (a path on the target, or
    /// a whole URL), checked before the redirect is followed.
    pub expect_redirect: Option<String>,
    /// A substring the body must contain.
    pub expect_body: Option<String>,
    /// Values taken from the response for the customer's later requests.
    pub captures: Vec<Capture>,
    /// Position among the file's `[[load.request]]` tables.
    pub file_order: usize,
    /// What the page loads after the document, as a browser does.
    pub resources: Vec<Resource>,
}

impl RequestSpec {
    /// Every template the request renders: path, headers, body, form,
    /// JSON body and resources.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        std::iter::once(&self.path)
            .chain(self.headers.iter().map(|(_, t)| t))
            .chain(&self.body)
            .chain(self.form.iter().map(|(_, t)| t))
            .chain(self.json.iter().flat_map(JsonTemplate::templates))
            .chain(self.resources.iter().map(|x| &x.path))
    }
}

/// A script, style, image or API call a page loads once its document
/// arrived: a GET on the target, named by its path as written.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Name in reports: the path template as written.
    pub name: String,
    /// Path and query, appended to the target URL.
    pub path: Template,
}

/// Resources of one page fetched at once at most, as browsers open at
/// most 6 connections per host.
pub const MAX_CONNECTIONS_PER_HOST: usize = 6;

/// A JSON document whose strings are templates: rendered for each
/// customer, then escaped, so a value holding `"` or `\` stays one string.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(serde_json::Number),
    /// A string template.
    String(Template),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// An object, its keys in order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Appends the document rendered for `vars` to `out`.
    pub fn render(&self, vars: &Vars, out: &mut String) -> Result<(), NotCaptured> {
        match self {
            JsonTemplate::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonTemplate::Number(n) => out.push_str(&n.to_string()),
            JsonTemplate::String(t) => {
                let mut text = String::new();
                t.render(vars, &mut text)?;
                out.push_str(&serde_json::Value::String(text).to_string());
            }
            JsonTemplate::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render(vars, out)?;
                }
                out.push(']');
            }
            JsonTemplate::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(':');
                    value.render(vars, out)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }

    /// Every template of the document.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            JsonTemplate::String(t) => vec![t],
            JsonTemplate::Array(items) => items.iter().flat_map(JsonTemplate::templates).collect(),
            JsonTemplate::Object(fields) => fields.iter().flat_map(|(_, v)| v.templates()).collect(),
            JsonTemplate::Bool(_) | JsonTemplate::Number(_) => Vec::new(),
        }
    }
}

/// Values a template can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// The customer's index in the run.
    Customer,
    /// The customer's segment id.
    Segment,
    /// The state's id.
    State,
    /// The step number in the journey (1 for the first touchpoint).
    Step,
    /// A product id from 1 to 500, fixed per customer.
    Product,
    /// The run id, 16 hex digits: unique per run.
    Run,
    /// A fresh random UUID (version 4) at each use.
    Uuid,
    /// Column `column` of feeder `feeder`, from the customer's row.
    Feeder {
        /// Index in `LoadSpec::feeders`.
        feeder: usize,
        /// Index in the feeder's columns.
        column: usize,
    },
    /// A value an earlier response of the customer gave (a capture), by
    /// slot.
    Captured(usize),
}

impl Var {
    /// Names as written in templates: `{customer}`.
    pub const ALL: [(&'static str, Var); 7] = [
        ("customer", Var::Customer),
        ("segment", Var::Segment),
        ("state", Var::State),
        ("step", Var::Step),
        ("product", Var::Product),
        ("run", Var::Run),
        ("uuid", Var::Uuid),
    ];
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Var(Var),
    /// `{env.NAME}`, read when the scenario was compiled to send traffic.
    Secret(Secret),
}

/// A value read from the environment: rendered into requests, never
/// printed (its `Debug` is `Secret(***)`), never stored in a result.
#[derive(Clone, PartialEq)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Whether `{env.NAME}` reads the environment: only when the scenario is
/// compiled to send traffic, so that `simulate` never needs the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Read each variable; a missing one is an error.
    Read,
    /// Leave them unread (nothing will be sent).
    Ignore,
}

/// A string with `{variable}` placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// The values for one rendering.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a> {
    /// Customer index.
    pub customer: u64,
    /// Segment id.
    pub segment: &'a str,
    /// State id.
    pub state: &'a str,
    /// Step number, from 1.
    pub step: u32,
    /// Product id.
    pub product: u32,
    /// The run id.
    pub run: u64,
    /// The feeders, and the customer's row of each.
    pub feeders: &'a [Feeder],
    /// Row index per feeder.
    pub rows: &'a [usize],
    /// The customer's captured values, by slot (`None`: not captured yet).
    pub captured: &'a [Option<String>],
}

/// What a template may name besides the built-in variables.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The feeders, for `{ID.COLUMN}`.
    pub feeders: &'a [Feeder],
    /// Capture names, by slot, for `{name}`.
    pub captures: &'a [String],
    /// Whether `{env.NAME}` reads the environment now.
    pub env: Environment,
}

/// A template named a captured value the customer does not hold yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotCaptured {
    /// The value's slot.
    pub slot: usize,
}

impl Template {
    /// Parses `text`. `{name}`, where `name` is letters, digits and `_`,
    /// is a variable and must be a known one; any other brace is kept as
    /// it is, so JSON bodies need no escaping. `{env.NAME}` is the
    /// environment variable `NAME`, read now when the scope says so; a
    /// capture name is that captured value.
    pub fn parse(text: &str, scope: &Scope) -> Result<Template, TemplateError> {
        let Scope { feeders, captures, env } = *scope;
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let ident_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(after.len());
            if ident_len == 0 || !after[ident_len..].starts_with('}') {
                literal.push('{');
                rest = after;
                continue;
            }
            let name = &after[..ident_len];
            let part = match name.split_once('.') {
                Some(("env", variable)) => Part::Secret(Secret(match env {
                    Environment::Ignore => String::new(),
                    Environment::Read => std::env::var(variable)
                        .map_err(|_| TemplateError::MissingEnv { name: variable.to_owned() })?,
                })),
                Some((id, column)) => Part::Var(feeder_var(id, column, feeders)?),
                None => Part::Var(
                    Var::ALL
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| *v)
                        .or_else(|| captures.iter().position(|c| c == name).map(Var::Captured))
                        .ok_or_else(|| {
                            let mut known: Vec<String> =
                                Var::ALL.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                            known.extend(captures.iter().map(|c| format!("{{{c}}}")));
                            known.extend(feeders.iter().map(|f| format!("{{{}.COLUMN}}", f.id)));
                            TemplateError::UnknownVariable {
                                name: name.to_owned(),
                                text: text.to_owned(),
                                known: known.join(", "),
                            }
                        })?,
                ),
            };
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(part);
            rest = &after[ident_len + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The values of the `{env.NAME}` the template reads: secrets, to
    /// redact wherever fogg shows what a target sent back.
    pub fn secrets(&self) -> impl Iterator<Item = &str> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Secret(Secret(value)) => Some(value.as_str()),
            _ => None,
        })
    }

    /// The capture slots the template uses.
    pub fn captures_used(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(Var::Captured(slot)) => Some(*slot),
            _ => None,
        })
    }

    /// The text of a template without variables, which renders the same
    /// for every customer; `None` when it has any.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) | Part::Secret(Secret(t)) => out.push_str(t),
                Part::Var(_) => return None,
            }
        }
        Some(out)
    }

    /// Appends the rendering to `out`; fails, with `out` half written,
    /// when it names a value the customer has not captured.
    pub fn render(&self, vars: &Vars, out: &mut String) -> Result<(), NotCaptured> {
        for part in &self.parts {
            match part {
                Part::Text(t) | Part::Secret(Secret(t)) => out.push_str(t),
                Part::Var(Var::Customer) => write!(out, "{}", vars.customer).expect("writing to a String"),
                Part::Var(Var::Segment) => out.push_str(vars.segment),
                Part::Var(Var::State) => out.push_str(vars.state),
                Part::Var(Var::Step) => write!(out, "{}", vars.step).expect("writing to a String"),
                Part::Var(Var::Product) => write!(out, "{}", vars.product).expect("writing to a String"),
                Part::Var(Var::Run) => write!(out, "{:016x}", vars.run).expect("writing to a String"),
                Part::Var(Var::Uuid) => write_uuid(rand::random(), out),
                Part::Var(Var::Feeder { feeder, column }) => {
                    out.push_str(&vars.feeders[*feeder].rows[vars.rows[*feeder]][*column])
                }
                Part::Var(Var::Captured(slot)) => {
                    out.push_str(vars.captured[*slot].as_deref().ok_or(NotCaptured { slot: *slot })?)
                }
            }
        }
        Ok(())
    }
}

/// Writes `bits` as a version 4 (random) UUID: 8-4-4-4-12 hex digits.
fn write_uuid(bits: u128, out: &mut String) {
    let v4 = bits & !(0xf << 76) | (0x4 << 76);
    let v4 = v4 & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{v4:032x}");
    for (i, group) in [&hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]].into_iter().enumerate()
    {
        if i > 0 {
            out.push('-');
        }
        out.push_str(group);
    }
}

fn feeder_var(id: &str, column: &str, feeders: &[Feeder]) -> Result<Var, TemplateError> {
    let (feeder, f) = feeders.iter().enumerate().find(|(_, f)| f.id == id).ok_or_else(|| {
        let ids: Vec<&str> = feeders.iter().map(|f| f.id.as_str()).collect();
        TemplateError::UnknownFeeder {
            feeder: id.to_owned(),
            feeders: if ids.is_empty() { "none".to_owned() } else { ids.join(", ") },
        }
    })?;
    if f.columns.is_empty() {
        return Ok(Var::Feeder { feeder, column: 0 });
    }
    let column = f.columns.iter().position(|c| c == column).ok_or_else(|| TemplateError::UnknownColumn {
        feeder: id.to_owned(),
        column: column.to_owned(),
        columns: f.columns.join(", "),
    })?;
    Ok(Var::Feeder { feeder, column })
}

/// Why a request template names something that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{env.NAME}` of a variable that is not set.
    #[error("environment variable '{name}' is not set")]
    MissingEnv {
        /// The variable.
        name: String,
    },
    /// `{name}` that is no variable.
    #[error("unknown variable '{{{name}}}' in '{text}'; known: {known}")]
    UnknownVariable {
        /// The name in braces.
        name: String,
        /// The whole template.
        text: String,
        /// The variables it could use.
        known: String,
    },
    /// `{feeder.column}` of a feeder the load section does not declare.
    #[error("no feeder '{feeder}' (feeders: {feeders})")]
    UnknownFeeder {
        /// The feeder named.
        feeder: String,
        /// The feeders declared.
        feeders: String,
    },
    /// `{feeder.column}` of a column the feeder does not have.
    #[error("feeder '{feeder}' has no column '{column}' (columns: {columns})")]
    UnknownColumn {
        /// The feeder.
        feeder: String,
        /// The column named.
        column: String,
        /// Its columns.
        columns: String,
    },
}

/// Which row of a feeder a customer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeederOrder {
    /// Customer `i` gets row `i mod rows`.
    RoundRobin,
    /// Each customer draws a row from its behaviour stream.
    Random,
}

/// What a customer does after a failed request (5xx, timeout, refused
/// connection, failed check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Leaves: the rest of the journey is lost.
    Abandon,
    /// Carries on as if the request had worked.
    Continue,
}

impl OnError {
    /// The name the scenario file and reports use.
    pub fn name(self) -> &'static str {
        match self {
            OnError::Abandon => "abandon",
            OnError::Continue => "continue",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Vec<Feeder> {
        vec![Feeder {
            id: "catalogue".into(),
            columns: vec!["sku".into(), "price".into()],
            rows: vec![vec!["A1".into(), "9.90".into()], vec!["B2".into(), "24.00".into()]],
            order: FeederOrder::RoundRobin,
        }]
    }

    fn scope(feeders: &[Feeder]) -> Scope<'_> {
        Scope { feeders, captures: &[], env: Environment::Read }
    }

    #[test]
    fn run_and_uuid_render_unique_values() {
        assert_eq!(render("g-{run}-{customer}"), "g-0000000000000abc-42");
        let (a, b) = (render("{uuid}"), render("{uuid}"));
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert!(a.as_bytes()[14] == b'4' && b"89ab".contains(&a.as_bytes()[19]), "version 4, RFC 4122: {a}");
    }

    #[test]
    fn captured_values_render_once_taken() {
        assert_eq!(render("/cart?t={token}"), "/cart?t=t0k3n");
        assert_eq!(render("/cart/{cart}"), "not captured: cart");
    }

    fn render(t: &str) -> String {
        let feeders = catalogue();
        let mut out = String::new();
        let vars = Vars {
            customer: 42,
            segment: "mobile",
            state: "pdp",
            step: 3,
            product: 7,
            run: 0xabc,
            feeders: &feeders,
            rows: &[1],
            captured: &[Some("t0k3n".into()), None],
        };
        let captures = ["token".to_owned(), "cart".to_owned()];
        let scope = Scope { feeders: &feeders, captures: &captures, env: Environment::Read };
        match Template::parse(t, &scope).unwrap().render(&vars, &mut out) {
            Ok(()) => out,
            Err(NotCaptured { slot }) => format!("not captured: {}", captures[slot]),
        }
    }

    #[test]
    fn feeder_columns_come_from_the_customers_row() {
        assert_eq!(render("/p/{catalogue.sku}?price={catalogue.price}"), "/p/B2?price=24.00");
        let e = Template::parse("{catalogue.colour}", &scope(&catalogue())).unwrap_err();
        assert_eq!(
            e,
            TemplateError::UnknownColumn {
                feeder: "catalogue".into(),
                column: "colour".into(),
                columns: "sku, price".into()
            }
        );
        assert!(
            Template::parse("{shop.sku}", &scope(&catalogue()))
                .unwrap_err()
                .to_string()
                .contains("no feeder 'shop'")
        );
    }

    #[test]
    fn templates_render_variables() {
        assert_eq!(
            render("/product/{product}?c={customer}&s={segment}&n={step}"),
            "/product/7?c=42&s=mobile&n=3"
        );
        assert_eq!(render("{state}"), "pdp");
    }

    #[test]
    fn other_braces_are_kept_so_json_needs_no_escaping() {
        assert_eq!(render(r#"{"customer": {customer}, "tags": {}}"#), r#"{"customer": 42, "tags": {}}"#);
        assert_eq!(render("a}b{ {c d}"), "a}b{ {c d}");
    }

    #[test]
    fn unknown_variables_are_named() {
        let e = Template::parse("/p/{sku}", &scope(&[])).unwrap_err().to_string();
        assert!(e.contains("unknown variable '{sku}'") && e.contains("{product}"), "{e}");
    }
}
