//! `fogg load --debug N`: the exchanges of customers 0 to N-1, written to
//! standard error as they happen, each hop's request and response with
//! their headers and the first 2 KB of their bodies. What a target could
//! use to identify the run's users is redacted as in the report's
//! samples: secrets, captured values, and every cookie's value.

use std::fmt::Write;

use reqwest::header::HeaderMap;

use super::failures::{SAMPLE_BODY_BYTES, body_head, redact, redact_header};

/// Appends one hop's request to `log`.
pub(super) fn request(
    log: &mut String,
    exchange: &http::Request<super::http::Body>,
    body: Option<&[u8]>,
    hidden: &[&str],
) {
    let _ = writeln!(log, "> {} {}", exchange.method(), redact(&exchange.uri().to_string(), hidden));
    headers(log, '>', exchange.headers(), hidden);
    if let Some(body) = body {
        text(log, '>', body, hidden);
    }
}

/// Appends one hop's response head to `log`.
pub(super) fn response(
    log: &mut String,
    status: u16,
    version: http::Version,
    map: &HeaderMap,
    hidden: &[&str],
) {
    let _ = writeln!(log, "< {version:?} {status}");
    headers(log, '<', map, hidden);
}

/// Appends the head of a response body to `log`.
pub(super) fn response_body(log: &mut String, body: &[u8], hidden: &[&str]) {
    text(log, '<', body, hidden);
}

/// Writes a customer's request and its outcome to standard error at
/// once, so that customers' exchanges do not interleave.
pub(super) fn print(customer: u64, request: &str, log: &str, outcome: Result<(), (&str, Option<&str>)>) {
    let outcome = match outcome {
        Ok(()) => "ok".to_owned(),
        Err((class, Some(reason))) => format!("failed ({class}): {reason}"),
        Err((class, None)) => format!("failed ({class})"),
    };
    eprint!("--- customer {customer}, request {request}\n{log}--- {outcome}\n\n");
}

fn headers(log: &mut String, side: char, map: &HeaderMap, hidden: &[&str]) {
    for (name, value) in map {
        let _ = writeln!(log, "{side} {name}: {}", redact_header(name, value, hidden));
    }
}

fn text(log: &mut String, side: char, body: &[u8], hidden: &[&str]) {
    if body.is_empty() {
        return;
    }
    let head = body_head(body, hidden);
    let _ = writeln!(log, "{side}");
    for line in head.lines() {
        let _ = writeln!(log, "{side} {line}");
    }
    if body.len() > SAMPLE_BODY_BYTES {
        let _ = writeln!(log, "{side} … ({} bytes in all)", body.len());
    }
}
