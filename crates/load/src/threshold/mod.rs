//! Thresholds: pass/fail conditions on a load result, written in one small
//! grammar shared by `[load.thresholds]` and `--threshold`.
//!
//! ```text
//! threshold := metric [ "{" scope "}" ] op value
//! metric    := p50 | p90 | p95 | p99 | p99.9 | max | mean      latency, value with ms, s or us
//!            | error_rate                                      % of requests (or a fraction)
//!            | errors                                          failed requests (count)
//!            | conversions_lost                                % of the instant-response conversions, or a count
//!            | revenue_at_risk                                 an amount, or % of the instant-response revenue
//!            | throughput                                      requests per second (optional "/s")
//!            | arrival_rate                                    customers per second achieved
//!            | dropped_arrivals                                a count, or % of arrivals
//! scope     := request=NAME | state=ID | class=connect|timeout|4xx|5xx|check|other
//! op        := < | <= | > | >=
//! ```
//!
//! Examples: `p99 < 500ms`, `p95{request=checkout} <= 1.2s`,
//! `error_rate < 1%`, `errors{class=5xx} < 10`, `conversions_lost < 2%`,
//! `throughput >= 150/s`. The full reference is in docs/thresholds.md.

mod verdict;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::recorder::ErrorClass;

pub use verdict::{verdict_line, with_unit};

/// A latency statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
    /// Largest.
    Max,
    /// Mean.
    Mean,
}

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Latency from the intended send time.
    Latency(Stat),
    /// Failed requests / requests.
    ErrorRate,
    /// Failed requests.
    Errors,
    /// Conversions lost to latency and errors.
    ConversionsLost,
    /// Value of the conversions lost.
    RevenueAtRisk,
    /// Requests per second.
    Throughput,
    /// Customers arrived per second.
    ArrivalRate,
    /// Arrivals not started because `max_in_flight` customers were busy.
    DroppedArrivals,
}

/// Every metric name, for help and "did you mean".
pub const METRIC_NAMES: [&str; 14] = [
    "p50",
    "p90",
    "p95",
    "p99",
    "p99.9",
    "max",
    "mean",
    "error_rate",
    "errors",
    "conversions_lost",
    "revenue_at_risk",
    "throughput",
    "arrival_rate",
    "dropped_arrivals",
];

impl Metric {
    fn parse(name: &str) -> Option<Metric> {
        Some(match name {
            "p50" | "median" => Metric::Latency(Stat::P50),
            "p90" => Metric::Latency(Stat::P90),
            "p95" => Metric::Latency(Stat::P95),
            "p99" => Metric::Latency(Stat::P99),
            "p99.9" | "p999" => Metric::Latency(Stat::P999),
            "max" => Metric::Latency(Stat::Max),
            "mean" => Metric::Latency(Stat::Mean),
            "error_rate" => Metric::ErrorRate,
            "errors" => Metric::Errors,
            "conversions_lost" => Metric::ConversionsLost,
            "revenue_at_risk" => Metric::RevenueAtRisk,
            "throughput" => Metric::Throughput,
            "arrival_rate" => Metric::ArrivalRate,
            "dropped_arrivals" => Metric::DroppedArrivals,
            _ => return None,
        })
    }

    /// The canonical name, as written in expressions.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Latency(Stat::P50) => "p50",
            Metric::Latency(Stat::P90) => "p90",
            Metric::Latency(Stat::P95) => "p95",
            Metric::Latency(Stat::P99) => "p99",
            Metric::Latency(Stat::P999) => "p99.9",
            Metric::Latency(Stat::Max) => "max",
            Metric::Latency(Stat::Mean) => "mean",
            Metric::ErrorRate => "error_rate",
            Metric::Errors => "errors",
            Metric::ConversionsLost => "conversions_lost",
            Metric::RevenueAtRisk => "revenue_at_risk",
            Metric::Throughput => "throughput",
            Metric::ArrivalRate => "arrival_rate",
            Metric::DroppedArrivals => "dropped_arrivals",
        }
    }

    fn allows(self, scope: &Scope) -> bool {
        match scope {
            Scope::All => true,
            Scope::Request(_) | Scope::State(_) => {
                matches!(self, Metric::Latency(_) | Metric::ErrorRate | Metric::Errors | Metric::Throughput)
            }
            Scope::Class(_) => matches!(self, Metric::ErrorRate | Metric::Errors),
        }
    }
}

/// Which part of the traffic a threshold looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything.
    All,
    /// One request name.
    Request(String),
    /// The requests of one state.
    State(String),
    /// One error class (`connect`, `timeout`, `4xx`, `5xx`, `check`, `other`).
    Class(ErrorClass),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    /// Whether `observed op limit` holds.
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Op::Lt => observed < limit,
            Op::Le => observed <= limit,
            Op::Gt => observed > limit,
            Op::Ge => observed >= limit,
        }
    }
}

/// The unit a threshold's limit and observed value are expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// Percent (of requests, arrivals, or instant-response conversions or revenue).
    Percent,
    /// A plain count.
    Count,
    /// Per second.
    PerSecond,
    /// Money, in the scenario's currency.
    Money,
}

impl Unit {
    /// How the unit is written after a number.
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Ms => " ms",
            Unit::Percent => "%",
            Unit::Count => "",
            Unit::PerSecond => "/s",
            Unit::Money => "",
        }
    }
}

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The expression as the user wrote it (trimmed).
    pub expr: String,
    /// What is measured.
    pub metric: Metric,
    /// Which traffic.
    pub scope: Scope,
    /// The comparison.
    pub op: Op,
    /// The limit, in `unit`.
    pub limit: f64,
    /// The unit of `limit` and of the observed value.
    pub unit: Unit,
}

/// Why an expression is not a threshold; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("threshold '{expr}': {message}")]
pub struct ParseError {
    /// The expression.
    pub expr: String,
    /// What is wrong and how to write it.
    pub message: String,
}

impl Threshold {
    /// Parses `METRIC[{SCOPE}] OP VALUE`.
    pub fn parse(text: &str) -> Result<Threshold, ParseError> {
        let expr = text.trim().to_owned();
        let fail = |message: String| ParseError { expr: expr.clone(), message };
        if let Some(message) = misspelt_op(&expr) {
            return Err(fail(message));
        }
        let Some((at, op)) = find_op(&expr) else {
            return Err(fail(
                "no comparison: write METRIC OP VALUE with OP one of < <= > >=, e.g. 'p99 < 500ms'".into(),
            ));
        };
        let left = expr[..at].trim();
        let right = expr[at + op.symbol().len()..].trim();
        let (name, scope) = match left.split_once('{') {
            None => (left, None),
            Some((name, rest)) => match rest.strip_suffix('}') {
                Some(scope) => (name.trim(), Some(scope.trim())),
                None => return Err(fail(format!("'{left}' has '{{' without a closing '}}'"))),
            },
        };
        let metric = Metric::parse(name).ok_or_else(|| {
            let hint = fogg_core::suggest::hint(name, METRIC_NAMES);
            fail(format!("unknown metric '{name}'{hint}; the metrics are {}", METRIC_NAMES.join(", ")))
        })?;
        let scope = match scope {
            None => Scope::All,
            Some(s) => parse_scope(s).map_err(|r| fail(r.to_string()))?,
        };
        if !metric.allows(&scope) {
            return Err(fail(format!(
                "'{}' cannot be narrowed to '{{{}}}': requests and states narrow latency, error_rate, errors and throughput; classes narrow error_rate and errors",
                metric.name(),
                scope_text(&scope)
            )));
        }
        let (limit, unit) = parse_value(metric, right).map_err(|r| fail(r.to_string()))?;
        Ok(Threshold { expr, metric, scope, op, limit, unit })
    }

    /// The metric and scope, e.g. `p99{request=checkout}`: two thresholds
    /// with the same key check the same number.
    pub fn key(&self) -> String {
        match &self.scope {
            Scope::All => self.metric.name().to_owned(),
            scope => format!("{}{{{}}}", self.metric.name(), scope_text(scope)),
        }
    }
}

impl Threshold {
    /// The threshold in canonical form, `KEY OP LIMIT[UNIT]` (e.g.
    /// `p99{request=checkout} < 500ms`, `error_rate < 1%`): parsing it
    /// gives back this threshold, whatever spelling the user chose.
    pub fn canonical(&self) -> String {
        format!("{} {} {}{}", self.key(), self.op.symbol(), self.limit, self.unit.suffix().trim_start())
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// What to write instead of a comparison fogg does not take (`=<`, `=>`,
/// `==`, `!=`, `=`), so `p99 =< 500ms` is not read as metric `p99 =`.
fn misspelt_op(expr: &str) -> Option<String> {
    let rest = match expr.find('{') {
        None => expr,
        // An unclosed scope gets its own message from the parser.
        Some(_) => &expr[expr.find('}')? + 1..],
    };
    let wrong = ["=<", "=>", "==", "!=", "="].into_iter().find(|w| {
        rest.find(w).is_some_and(|at| {
            // `<=` and `>=` are fine: the `=` follows the angle bracket.
            let before = rest[..at].chars().last();
            !(*w == "=" && matches!(before, Some('<' | '>')))
        })
    })?;
    let fix = match wrong {
        "=<" => "write '<=' (e.g. 'p99 <= 500ms')",
        "=>" => "write '>=' (e.g. 'throughput >= 100/s')",
        _ => "a threshold is a bound: use one of < <= > >=, e.g. 'p99 < 500ms'",
    };
    Some(format!("'{wrong}' is not a comparison fogg takes: {fix}"))
}

fn find_op(expr: &str) -> Option<(usize, Op)> {
    let at = expr.find(['<', '>'])?;
    let rest = &expr[at..];
    let op = match (rest.starts_with('<'), rest[1..].starts_with('=')) {
        (true, true) => Op::Le,
        (true, false) => Op::Lt,
        (false, true) => Op::Ge,
        (false, false) => Op::Gt,
    };
    Some((at, op))
}

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::All => String::new(),
        Scope::Request(r) => format!("request={r}"),
        Scope::State(s) => format!("state={s}"),
        Scope::Class(c) => format!("class={}", c.short_name()),
    }
}

/// The error rate a check may have when no threshold bounds errors.
pub const DEFAULT_ERROR_THRESHOLD: &str = "error_rate < 1%";

/// Adds [`DEFAULT_ERROR_THRESHOLD`] when no threshold bounds errors
/// (latency is of successful requests only, so without it a target that
/// fails every request would pass a latency threshold's search); the
/// note that says so. `fogg capacity` uses it.
pub fn guard_errors(thresholds: &mut Vec<Threshold>) -> Option<String> {
    if thresholds.iter().any(|t| matches!(t.metric, Metric::ErrorRate | Metric::Errors)) {
        return None;
    }
    thresholds.push(Threshold::parse(DEFAULT_ERROR_THRESHOLD).expect("a valid threshold"));
    Some(format!(
        "no threshold bounded errors, so every trial is also held to {DEFAULT_ERROR_THRESHOLD} (give --threshold 'error_rate < N%' to choose)"
    ))
}

/// What is wrong with a threshold's scope or value; becomes the message
/// of its [`ParseError`].
#[derive(Debug, thiserror::Error)]
enum Reason {
    #[error("scope '{{{0}}}' must be request=NAME, state=ID or class=CLASS")]
    ScopeSyntax(String),
    #[error("scope '{{{0}}}' names nothing after '='")]
    ScopeEmpty(String),
    #[error("unknown error class '{0}': the classes are connect, timeout, 4xx, 5xx, check, other")]
    UnknownClass(String),
    #[error("unknown scope '{0}': write request=NAME, state=ID or class=CLASS")]
    UnknownScope(String),
    #[error("no number after the comparison in '{text}'; e.g. {example}")]
    NoNumber { text: String, example: String },
    #[error("'{number}' is not a number; e.g. {example}")]
    NotANumber { number: String, example: String },
    #[error("the limit must be a number of 0 or more (got '{0}')")]
    Negative(String),
    #[error("'{metric}' needs a unit; e.g. {example}")]
    NeedsUnit { metric: &'static str, example: String },
    #[error("'{unit}' is not a unit '{metric}' accepts; e.g. {example}")]
    BadUnit { unit: String, metric: &'static str, example: String },
    #[error("{0} is more than 1: write a share as a percentage, e.g. '{0}%'")]
    ShareAboveOne(f64),
    #[error("a bare 1 could mean 1% or 100%: write the percentage, e.g. '1%'")]
    AmbiguousOne,
    #[error("{0}% is more than 100%: '{metric}' is a share of a whole", metric = .1)]
    PercentAboveHundred(f64, &'static str),
}

fn parse_scope(text: &str) -> Result<Scope, Reason> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(Reason::ScopeSyntax(text.to_owned()));
    };
    let value = value.trim().trim_matches('"');
    if value.is_empty() {
        return Err(Reason::ScopeEmpty(text.to_owned()));
    }
    match key.trim() {
        "request" => Ok(Scope::Request(value.to_owned())),
        "state" => Ok(Scope::State(value.to_owned())),
        "class" => ErrorClass::ALL
            .iter()
            .find(|c| c.short_name() == value)
            .map(|c| Scope::Class(*c))
            .ok_or_else(|| Reason::UnknownClass(value.to_owned())),
        other => Err(Reason::UnknownScope(other.to_owned())),
    }
}

fn parse_value(metric: Metric, text: &str) -> Result<(f64, Unit), Reason> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E' | '_')));
    // An exponent `e` must not swallow a unit; no unit here starts with e.
    let (number, unit) = match split {
        Some(at) => (text[..at].trim(), text[at..].trim()),
        None => (text.trim(), ""),
    };
    if number.is_empty() {
        return Err(Reason::NoNumber { text: text.to_owned(), example: example(metric) });
    }
    let value: f64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| Reason::NotANumber { number: number.to_owned(), example: example(metric) })?;
    if !value.is_finite() || value < 0.0 {
        return Err(Reason::Negative(number.to_owned()));
    }
    let bad_unit = |u: &str| {
        if u.is_empty() {
            Reason::NeedsUnit { metric: metric.name(), example: example(metric) }
        } else {
            Reason::BadUnit { unit: u.to_owned(), metric: metric.name(), example: example(metric) }
        }
    };
    let share = |percent: f64| {
        if percent > 100.0 {
            Err(Reason::PercentAboveHundred(percent, metric.name()))
        } else {
            Ok((percent, Unit::Percent))
        }
    };
    let percent = |u: &str| -> Result<(f64, Unit), Reason> {
        match u {
            "%" => share(value),
            "" if value < 1.0 => Ok((value * 100.0, Unit::Percent)),
            "" if value == 1.0 => Err(Reason::AmbiguousOne),
            "" => Err(Reason::ShareAboveOne(value)),
            u => Err(bad_unit(u)),
        }
    };
    match metric {
        Metric::Latency(_) => match unit {
            "ms" => Ok((value, Unit::Ms)),
            "s" => Ok((value * 1000.0, Unit::Ms)),
            "us" | "µs" => Ok((value / 1000.0, Unit::Ms)),
            u => Err(bad_unit(u)),
        },
        Metric::ErrorRate => percent(unit),
        Metric::Errors => match unit {
            "" => Ok((value, Unit::Count)),
            u => Err(bad_unit(u)),
        },
        Metric::ConversionsLost | Metric::DroppedArrivals => match unit {
            "%" => share(value),
            "" => Ok((value, Unit::Count)),
            u => Err(bad_unit(u)),
        },
        Metric::RevenueAtRisk => match unit {
            "%" => share(value),
            "" => Ok((value, Unit::Money)),
            u => Err(bad_unit(u)),
        },
        Metric::Throughput | Metric::ArrivalRate => match unit {
            "" | "/s" | "rps" => Ok((value, Unit::PerSecond)),
            u => Err(bad_unit(u)),
        },
    }
}

fn example(metric: Metric) -> String {
    match metric {
        Metric::Latency(_) => format!("'{} < 500ms'", metric.name()),
        Metric::ErrorRate => "'error_rate < 1%'".into(),
        Metric::Errors => "'errors{class=5xx} < 10'".into(),
        Metric::ConversionsLost => "'conversions_lost < 2%'".into(),
        Metric::RevenueAtRisk => "'revenue_at_risk < 500' or 'revenue_at_risk < 1%'".into(),
        Metric::Throughput => "'throughput >= 100/s'".into(),
        Metric::ArrivalRate => "'arrival_rate >= 20/s'".into(),
        Metric::DroppedArrivals => "'dropped_arrivals < 1%'".into(),
    }
}

/// Checks that the requests and states thresholds name exist, suggesting
/// the nearest name when one does not.
pub fn check_names(thresholds: &[Threshold], requests: &[&str], states: &[&str]) -> Result<(), ParseError> {
    for t in thresholds {
        let (kind, name, known) = match &t.scope {
            Scope::Request(r) => ("request", r, requests),
            Scope::State(s) => ("state with requests", s, states),
            _ => continue,
        };
        if !known.contains(&name.as_str()) {
            return Err(ParseError {
                expr: t.expr.clone(),
                message: format!(
                    "no {kind} '{name}'{}; the names are {}",
                    fogg_core::suggest::hint(name, known.iter().copied()),
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Scenario thresholds with command-line ones added: a command-line
/// threshold replaces a scenario one on the same metric and scope.
pub fn combine(scenario: &[Threshold], cli: &[Threshold]) -> Vec<Threshold> {
    let mut all: Vec<Threshold> =
        scenario.iter().filter(|s| !cli.iter().any(|c| c.key() == s.key())).cloned().collect();
    all.extend(cli.iter().cloned());
    all
}

/// A threshold with what was observed, as it appears in results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The expression.
    pub expr: String,
    /// Metric and scope, e.g. `p99{request=checkout}`.
    pub key: String,
    /// The comparison.
    pub op: Op,
    /// The limit, in `unit`.
    pub limit: f64,
    /// What was measured, in `unit`; null when nothing was (no requests).
    pub observed: Option<f64>,
    /// Unit of `limit` and `observed`.
    pub unit: Unit,
    /// Whether the threshold held. A threshold with nothing observed fails.
    pub passed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let t = Threshold::parse(" p99 < 500ms ").unwrap();
        assert_eq!((t.metric, t.op, t.limit, t.unit), (Metric::Latency(Stat::P99), Op::Lt, 500.0, Unit::Ms));
        let t = Threshold::parse("p95{request=checkout} <= 1.2s").unwrap();
        assert_eq!(t.scope, Scope::Request("checkout".into()));
        assert_eq!((t.op, t.limit), (Op::Le, 1200.0));
        assert_eq!(t.key(), "p95{request=checkout}");
        let t = Threshold::parse("error_rate < 1%").unwrap();
        assert_eq!((t.limit, t.unit), (1.0, Unit::Percent));
        let t = Threshold::parse("error_rate{class=5xx} < 0.005").unwrap();
        assert_eq!((t.limit, t.unit, t.scope), (0.5, Unit::Percent, Scope::Class(ErrorClass::Status5xx)));
        let t = Threshold::parse("throughput >= 150/s").unwrap();
        assert_eq!((t.op, t.limit, t.unit), (Op::Ge, 150.0, Unit::PerSecond));
        assert_eq!(Threshold::parse("revenue_at_risk < 2_500").unwrap().unit, Unit::Money);
        assert_eq!(Threshold::parse("p99.9 < 2s").unwrap().metric, Metric::Latency(Stat::P999));
    }

    #[test]
    fn malformed_expressions_say_how_to_fix_them() {
        let err = |t: &str| Threshold::parse(t).unwrap_err().to_string();
        assert!(err("p99 500ms").contains("no comparison"));
        assert!(err("p98 < 500ms").contains("unknown metric 'p98' (did you mean 'p99"));
        assert!(err("p99 < 500").contains("needs a unit"));
        assert!(err("p99 < 5 parsecs").contains("'parsecs' is not a unit"));
        assert!(err("error_rate < 5").contains("write a share as a percentage"));
        assert!(err("p99 < fast").contains("no number"));
        assert!(err("p99{colour=red} < 1s").contains("unknown scope 'colour'"));
        assert!(err("errors{class=6xx} < 1").contains("unknown error class '6xx'"));
        assert!(err("conversions_lost{request=a} < 1").contains("cannot be narrowed"));
        assert!(err("p99{request=a < 1s").contains("without a closing"));
        assert!(err("p99 < -1ms").contains("0 or more"));
        assert!(err("p99 =< 500ms").contains("'=<' is not a comparison fogg takes: write '<='"));
        assert!(err("throughput => 5/s").contains("write '>='"));
        assert!(err("p99 == 5ms").contains("'==' is not a comparison"));
        assert!(err("p99{request=a} = 5ms").contains("'=' is not a comparison"));
        assert!(err("error_rate < 1").contains("could mean 1% or 100%"));
        assert!(err("error_rate < 150%").contains("150% is more than 100%"));
        assert!(err("conversions_lost < 101%").contains("more than 100%"));
        assert_eq!(Threshold::parse("error_rate <= 100%").unwrap().limit, 100.0);
        assert_eq!(Threshold::parse("error_rate < 0").unwrap().limit, 0.0);
    }

    #[test]
    fn command_line_replaces_the_same_key() {
        let p = |t: &str| Threshold::parse(t).unwrap();
        let all = combine(&[p("p99 < 500ms"), p("error_rate < 1%")], &[p("p99 < 800ms")]);
        let exprs: Vec<&str> = all.iter().map(|t| t.expr.as_str()).collect();
        assert_eq!(exprs, ["error_rate < 1%", "p99 < 800ms"]);
    }

    #[test]
    fn names_are_checked() {
        let t = [Threshold::parse("p99{request=chekout} < 1s").unwrap()];
        let err = check_names(&t, &["home", "checkout"], &["web_home"]).unwrap_err().to_string();
        assert!(err.contains("did you mean 'checkout'"), "{err}");
        assert!(check_names(&t, &["chekout"], &[]).is_ok());
    }
}
