//! Captured values: what a request takes from its response (a JSON
//! field, a header, a cookie, a match in the body) for the same
//! customer's later requests, as `{name}` in their templates.
//!
//! A customer holds one slot per capture name of the scenario; a request
//! that captures fills its slots from each response it judges good. A
//! capture that finds nothing fails the request's check: the journey is
//! fixed by the seed and does not branch, so the missing value is an
//! error of the site, not a different path.

use reqwest::header::{HeaderMap, HeaderName, SET_COOKIE};

/// Most bytes of a body kept for captures that read it; a capture looks
/// in the first MiB only (what lies beyond is read and dropped).
pub const MAX_CAPTURE_BODY: usize = 1 << 20;

/// The longest value a capture keeps for the rest of a journey: a token,
/// an id, a CSRF field are far shorter. A longer one fails the capture
/// (a `check` error), so what a target sends cannot grow a waiting
/// customer without bound.
pub const MAX_CAPTURED_VALUE: usize = 16 * 1024;

/// One named value a request takes from its response.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The name templates use, `{name}`.
    pub name: String,
    /// The customer's slot for it.
    pub slot: usize,
    /// Where in the response it is.
    pub source: Source,
    /// Narrows the value found: its first group (or the whole match
    /// when it has none) is kept.
    pub regex: Option<regex::Regex>,
}

/// Where a capture looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A JSON pointer (RFC 6901) into the body, e.g. `/cart/id`.
    Json(String),
    /// A response header.
    Header(HeaderName),
    /// A cookie the response sets (`Set-Cookie`).
    Cookie(String),
    /// The body as text (with a `regex`).
    Body,
}

impl Capture {
    /// Whether this capture reads the body.
    pub fn needs_body(&self) -> bool {
        matches!(self.source, Source::Json(_) | Source::Body)
    }

    /// The value in a response with `headers` and (the first
    /// [`MAX_CAPTURE_BODY`] bytes of) `body`; `json` is the body parsed,
    /// once for all of a request's captures. `None` when it is not there.
    pub fn find(&self, headers: &HeaderMap, body: &[u8], json: &mut Parsed) -> Option<String> {
        let found: String = match &self.source {
            Source::Json(pointer) => match json.get(body)?.pointer(pointer)? {
                serde_json::Value::Null => return None,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            Source::Header(name) => {
                let values: Vec<&str> =
                    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
                if values.is_empty() {
                    return None;
                }
                values.join(", ")
            }
            Source::Cookie(name) => headers
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| cookie_store::RawCookie::parse(v).ok())
                .rfind(|c| c.name() == name)?
                .value()
                .to_owned(),
            Source::Body => String::from_utf8_lossy(body).into_owned(),
        };
        match &self.regex {
            None => Some(found),
            Some(re) => {
                let caps = re.captures(&found)?;
                Some(caps.get(1).or_else(|| caps.get(0))?.as_str().to_owned())
            }
        }
    }
}

/// A body parsed as JSON at most once, on first need.
#[derive(Debug, Default)]
pub enum Parsed {
    /// Not parsed yet.
    #[default]
    NotYet,
    /// Parsed.
    Json(serde_json::Value),
    /// Not JSON.
    Invalid,
}

impl Parsed {
    fn get(&mut self, body: &[u8]) -> Option<&serde_json::Value> {
        if let Parsed::NotYet = self {
            *self = serde_json::from_slice(body).map_or(Parsed::Invalid, Parsed::Json);
        }
        match self {
            Parsed::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// Fills `slots` from a response with every capture of a request; the
/// name of the first capture that found nothing, if any (the others are
/// still taken).
pub fn take_all<'c>(
    captures: &'c [Capture],
    headers: &HeaderMap,
    body: &[u8],
    slots: &mut [Option<String>],
) -> Result<(), &'c str> {
    let mut json = Parsed::NotYet;
    let mut missing = None;
    for c in captures {
        match c.find(headers, body, &mut json) {
            Some(v) if v.len() <= MAX_CAPTURED_VALUE => slots[c.slot] = Some(v),
            _ => missing = missing.or(Some(c.name.as_str())),
        }
    }
    missing.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(source: Source, regex: Option<&str>) -> Capture {
        Capture { name: "v".into(), slot: 0, source, regex: regex.map(|r| regex::Regex::new(r).unwrap()) }
    }

    fn find(c: &Capture, headers: &[(&str, &str)], body: &str) -> Option<String> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        c.find(&map, body.as_bytes(), &mut Parsed::NotYet)
    }

    #[test]
    fn json_pointers_take_strings_bare_and_other_values_as_json() {
        let body = r#"{"csrf":"abc","cart":{"id":42,"items":[1,2]},"none":null}"#;
        assert_eq!(find(&capture(Source::Json("/csrf".into()), None), &[], body).as_deref(), Some("abc"));
        assert_eq!(find(&capture(Source::Json("/cart/id".into()), None), &[], body).as_deref(), Some("42"));
        assert_eq!(
            find(&capture(Source::Json("/cart/items".into()), None), &[], body).as_deref(),
            Some("[1,2]")
        );
        assert_eq!(find(&capture(Source::Json("/none".into()), None), &[], body), None);
        assert_eq!(find(&capture(Source::Json("/absent".into()), None), &[], body), None);
        assert_eq!(find(&capture(Source::Json("/csrf".into()), None), &[], "<html>"), None);
    }

    #[test]
    fn headers_cookies_and_bodies_narrowed_by_a_regex() {
        let location = capture(Source::Header(HeaderName::from_static("location")), Some(r"/cart/(\d+)"));
        assert_eq!(find(&location, &[("location", "/cart/77")], "").as_deref(), Some("77"));
        assert_eq!(find(&location, &[("location", "/basket")], ""), None);
        assert_eq!(find(&location, &[], ""), None);
        let session = capture(Source::Cookie("session".into()), None);
        let set = [("set-cookie", "theme=dark"), ("set-cookie", "session=s3cr3t; Path=/; HttpOnly")];
        assert_eq!(find(&session, &set, "").as_deref(), Some("s3cr3t"));
        let token = capture(Source::Body, Some(r#"name="csrf" value="([^"]+)""#));
        let html = r#"<form><input name="csrf" value="t0k3n"></form>"#;
        assert_eq!(find(&token, &[], html).as_deref(), Some("t0k3n"));
        let whole = capture(Source::Body, Some(r"order-\d+"));
        assert_eq!(find(&whole, &[], "your order-981 is on its way").as_deref(), Some("order-981"));
    }

    #[test]
    fn every_capture_is_taken_and_the_first_missing_one_named() {
        let captures = vec![
            Capture { name: "a".into(), slot: 0, source: Source::Json("/a".into()), regex: None },
            Capture { name: "b".into(), slot: 1, source: Source::Json("/b".into()), regex: None },
            Capture { name: "c".into(), slot: 2, source: Source::Json("/c".into()), regex: None },
        ];
        let mut slots = vec![None; 3];
        let r = take_all(&captures, &HeaderMap::new(), br#"{"a":"1","c":"3"}"#, &mut slots);
        assert_eq!(r, Err("b"));
        assert_eq!(slots, [Some("1".to_owned()), None, Some("3".to_owned())]);
    }
}
