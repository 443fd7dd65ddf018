//! Why requests failed, per request name: counts by status code and by
//! reason (the check that failed and what it expected), and the first
//! few failed exchanges as the target answered them, redacted. Bounded:
//! at most [`MAX_REASONS`] reasons and [`MAX_SAMPLES`] samples of at most
//! [`SAMPLE_BODY_BYTES`] of body per request name, whatever the target
//! sends; mergeable shard by shard.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::recorder::ErrorClass;

/// Distinct reasons kept per request name; the rest are counted under
/// [`OTHER_REASONS`].
pub const MAX_REASONS: usize = 20;

/// The reason the rest are counted under.
pub const OTHER_REASONS: &str = "(other reasons)";

/// Failed exchanges kept per request name.
pub const MAX_SAMPLES: usize = 3;

/// Bytes of a failed response's body kept in its sample.
pub const SAMPLE_BODY_BYTES: usize = 2048;

/// Most response headers kept in a sample.
const MAX_SAMPLE_HEADERS: usize = 40;

/// What is written in place of a secret, a captured value or a cookie.
pub const REDACTED: &str = "***";

/// One failed request as its customer saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSample {
    /// The customer's index in the run.
    pub customer: u64,
    /// The request's method.
    pub method: String,
    /// Its path and query on the target.
    pub path: String,
    /// The status of the last response, if one came.
    pub status: Option<u16>,
    /// How it failed.
    pub class: ErrorClass,
    /// Why: the check that failed and what it expected.
    pub reason: String,
    /// The last response's headers (cookies' values redacted).
    pub headers: Vec<(String, String)>,
    /// The first [`SAMPLE_BODY_BYTES`] of its body, as text (lossy).
    pub body: String,
}

/// The failures of one request name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    /// Failed requests that got a response, by its status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Failed requests by reason.
    pub reasons: BTreeMap<String, u64>,
    /// The first failed exchanges.
    pub samples: Vec<FailureSample>,
}

impl Failures {
    /// Counts one failure, keeping its sample while there is room.
    pub fn record(&mut self, sample: FailureSample) {
        if let Some(status) = sample.status {
            *self.statuses.entry(status).or_default() += 1;
        }
        self.count_reason(&sample.reason, 1);
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(sample);
        }
    }

    fn count_reason(&mut self, reason: &str, n: u64) {
        let known = self.reasons.contains_key(reason) || self.reasons.len() < MAX_REASONS;
        let key = if known { reason } else { OTHER_REASONS };
        *self.reasons.entry(key.to_owned()).or_default() += n;
    }

    /// Adds `o`'s counts, and its samples while there is room (a
    /// shard's samples after the shards merged before it).
    pub fn merge(&mut self, o: &Failures) {
        for (status, n) in &o.statuses {
            *self.statuses.entry(*status).or_default() += n;
        }
        for (reason, n) in &o.reasons {
            self.count_reason(reason, *n);
        }
        let room = MAX_SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(o.samples.iter().take(room).cloned());
    }

    /// Failures with a reason.
    pub fn count(&self) -> u64 {
        self.reasons.values().sum()
    }
}

/// Why a request got no response, in words: a TLS problem named (a
/// plain-HTTP port spoken to over `https://`, a certificate that is not
/// valid) with its fix, else the innermost cause (`Connection refused
/// (os error 111)`).
pub fn no_response_reason(e: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = e.to_string();
    let mut cause = Some(e);
    while let Some(err) = cause {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return tls_reason(tls);
        }
        innermost = err.to_string();
        // An I/O error's `source` skips the error it wraps: read that.
        cause = match err.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    innermost
}

/// A TLS error as a reason with its fix.
fn tls_reason(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "TLS handshake failed ({e}): the target does not speak TLS on this port; for plain HTTP, give an http:// target"
        ),
        rustls::Error::InvalidCertificate(_) => {
            format!("TLS: {e}; for a test target with a self-signed certificate, add --insecure")
        }
        _ => format!("TLS: {e}"),
    }
}

/// A failed response as kept in a sample: its headers (a `Set-Cookie`'s
/// value redacted) and the head of its body, with every secret and
/// captured value in `hidden` redacted wherever it appears.
pub fn redacted_response(
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    hidden: &[&str],
) -> (Vec<(String, String)>, String) {
    let kept: Vec<(String, String)> = headers
        .iter()
        .take(MAX_SAMPLE_HEADERS)
        .map(|(name, value)| (name.as_str().to_owned(), redact_header(name, value, hidden)))
        .collect();
    (kept, body_head(body, hidden))
}

/// A header's value as fogg shows it: a `Cookie`'s or `Set-Cookie`'s
/// values redacted (their names kept), any other with `hidden` redacted.
pub fn redact_header(
    name: &reqwest::header::HeaderName,
    value: &reqwest::header::HeaderValue,
    hidden: &[&str],
) -> String {
    let value = String::from_utf8_lossy(value.as_bytes());
    let name_only =
        |cookie: &str| cookie.split_once('=').map_or(REDACTED.to_owned(), |(n, _)| format!("{n}={REDACTED}"));
    if *name == reqwest::header::COOKIE {
        value.split("; ").map(name_only).collect::<Vec<_>>().join("; ")
    } else if *name == reqwest::header::SET_COOKIE {
        name_only(&value)
    } else {
        redact(&value, hidden)
    }
}

/// The first [`SAMPLE_BODY_BYTES`] of a body, as text, with `hidden`
/// redacted.
pub fn body_head(body: &[u8], hidden: &[&str]) -> String {
    redact(&String::from_utf8_lossy(&body[..body.len().min(SAMPLE_BODY_BYTES)]), hidden)
}

/// `text` with every non-empty value of `hidden` replaced by [`REDACTED`].
pub fn redact(text: &str, hidden: &[&str]) -> String {
    let mut text = text.to_owned();
    for value in hidden.iter().filter(|v| v.len() >= 3) {
        if text.contains(value) {
            text = text.replace(value, REDACTED);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(status: Option<u16>, reason: &str) -> FailureSample {
        FailureSample {
            customer: 0,
            method: "POST".into(),
            path: "/login".into(),
            status,
            class: ErrorClass::Check,
            reason: reason.into(),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    #[test]
    fn counts_are_bounded_and_merge_as_one_run() {
        let mut a = Failures::default();
        let mut b = Failures::default();
        for i in 0..30 {
            let target = if i % 2 == 0 { &mut a } else { &mut b };
            target.record(sample(Some(403), &format!("reason {}", i % 25)));
        }
        let mut one = Failures::default();
        for i in 0..30 {
            one.record(sample(Some(403), &format!("reason {}", i % 25)));
        }
        a.merge(&b);
        assert_eq!(a.statuses, one.statuses);
        assert_eq!(a.count(), 30);
        assert!(a.reasons.len() <= MAX_REASONS + 1, "{:?}", a.reasons);
        assert!(a.reasons.contains_key(OTHER_REASONS));
        assert_eq!(a.samples.len(), MAX_SAMPLES);
    }

    #[test]
    fn secrets_captured_values_and_cookies_are_redacted() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("set-cookie", "sessionid=abc123secret; Path=/".parse().unwrap());
        headers.insert("x-token", "tok-XYZ".parse().unwrap());
        let body = format!("<input value=\"tok-XYZ\"> password hunter22 {}", "x".repeat(5000));
        let (headers, body) = redacted_response(&headers, body.as_bytes(), &["tok-XYZ", "hunter22"]);
        assert_eq!(headers[0], ("set-cookie".to_owned(), "sessionid=***".to_owned()));
        assert_eq!(headers[1], ("x-token".to_owned(), "***".to_owned()));
        assert!(body.starts_with("<input value=\"***\"> password *** xxx"), "{body}");
        assert!(body.len() <= SAMPLE_BODY_BYTES);
    }
}
