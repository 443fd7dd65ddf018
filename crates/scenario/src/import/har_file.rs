//! The HAR 1.2 format (W3C draft, as Chrome and Firefox DevTools export
//! it): the parts `fogg import har` reads, with errors that give the path
//! inside the file.

use serde::Deserialize;

/// A HAR file.
#[derive(Debug, Deserialize)]
pub struct HarFile {
    /// The recording.
    pub log: Log,
}

/// `log`: the recording.
#[derive(Debug, Deserialize)]
pub struct Log {
    /// Format version, "1.2" (or "1.1").
    pub version: String,
    /// What wrote it.
    #[serde(default)]
    pub creator: Option<Creator>,
    /// Every request, in any order.
    pub entries: Vec<Entry>,
}

/// `log.creator`.
#[derive(Debug, Deserialize)]
pub struct Creator {
    /// Tool name.
    pub name: String,
    /// Tool version.
    #[serde(default)]
    pub version: String,
}

/// `log.entries[i]`: one request and its response.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// When the request started, ISO 8601.
    #[serde(rename = "startedDateTime")]
    pub started: String,
    /// Total time of the exchange, ms.
    pub time: f64,
    /// The request.
    pub request: Request,
    /// The response.
    pub response: Response,
    /// The page it belongs to (`log.pages[].id`), when the recorder says.
    #[serde(default)]
    pub pageref: Option<String>,
    /// Chrome's resource type: document, script, stylesheet, fetch, xhr…
    #[serde(default, rename = "_resourceType")]
    pub resource_type: Option<String>,
}

/// `request`.
#[derive(Debug, Deserialize)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers as sent.
    pub headers: Vec<Header>,
    /// The body, when there is one.
    #[serde(default, rename = "postData")]
    pub post_data: Option<PostData>,
}

/// A header.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    /// Name as recorded.
    pub name: String,
    /// Value.
    pub value: String,
}

/// `request.postData`.
#[derive(Debug, Deserialize)]
pub struct PostData {
    /// Content type.
    #[serde(default, rename = "mimeType")]
    pub mime_type: String,
    /// The body as text.
    #[serde(default)]
    pub text: Option<String>,
    /// The body as fields, when a recorder gave no text.
    #[serde(default)]
    pub params: Vec<Param>,
}

/// A field of a posted body.
#[derive(Debug, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: String,
}

impl PostData {
    /// The body: its text, or else its fields as JSON or a form,
    /// according to its type.
    pub fn body(&self) -> Option<String> {
        if let Some(text) = &self.text {
            return Some(text.clone());
        }
        if self.params.is_empty() {
            return None;
        }
        Some(if self.mime_type.contains("json") {
            let fields: serde_json::Map<String, serde_json::Value> = self
                .params
                .iter()
                .map(|p| (p.name.clone(), serde_json::Value::String(p.value.clone())))
                .collect();
            serde_json::Value::Object(fields).to_string()
        } else {
            self.params.iter().map(|p| format!("{}={}", p.name, p.value)).collect::<Vec<_>>().join("&")
        })
    }
}

/// `response`.
#[derive(Debug, Deserialize)]
pub struct Response {
    /// Status code (0 when none came).
    pub status: i64,
    /// Headers as received.
    pub headers: Vec<Header>,
    /// The body.
    pub content: Content,
}

/// `response.content`.
#[derive(Debug, Deserialize)]
pub struct Content {
    /// Content type.
    #[serde(default, rename = "mimeType")]
    pub mime_type: String,
    /// The body, when the recorder kept it.
    #[serde(default)]
    pub text: Option<String>,
    /// "base64" when `text` is encoded.
    #[serde(default)]
    pub encoding: Option<String>,
}

impl Content {
    /// The body as text, decoded; `None` when not recorded or not text.
    pub fn body(&self) -> Option<String> {
        let text = self.text.as_ref()?;
        if self.encoding.as_deref() == Some("base64") {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
            return String::from_utf8(bytes).ok();
        }
        Some(text.clone())
    }
}

/// Why a file is not a HAR fogg can read.
#[derive(Debug, thiserror::Error)]
pub enum HarError {
    /// Not JSON at all.
    #[error(
        "'{file}' is not JSON (line {line}, column {column}: {message}); give a HAR file as DevTools exports it"
    )]
    NotJson {
        /// The file.
        file: String,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
        /// What.
        message: String,
    },
    /// JSON, but not the HAR shape.
    #[error(
        "'{file}' at {path}: {message}; a HAR 1.2 file has log.version, log.entries[] with request and response"
    )]
    Shape {
        /// The file.
        file: String,
        /// Where, e.g. `log.entries[3].request.url`.
        path: String,
        /// What.
        message: String,
    },
    /// A version fogg does not read.
    #[error(
        "'{file}' at log.version: version '{version}' is not HAR 1.2; export the recording again as HAR (1.2)"
    )]
    Version {
        /// The file.
        file: String,
        /// The version found.
        version: String,
    },
    /// A value that does not mean what HAR says it means.
    #[error("'{file}' at {path}: {message}")]
    Value {
        /// The file.
        file: String,
        /// Where.
        path: String,
        /// What.
        message: String,
    },
    /// Nothing to import.
    #[error(
        "'{file}' holds no request of a page: record a visit to the site (DevTools, Network tab, Save all as HAR)"
    )]
    Empty {
        /// The file.
        file: String,
    },
}

/// Reads a HAR file's bytes; `file` names it in errors.
pub fn parse(bytes: &[u8], file: &str) -> Result<HarFile, HarError> {
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(HarError::NotJson {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string().split(" at line").next().unwrap_or_default().to_owned(),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let har: HarFile = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| HarError::Shape {
        file: file.to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string().split(" at line").next().unwrap_or_default().to_owned(),
    })?;
    if !matches!(har.log.version.as_str(), "1.2" | "1.1") {
        return Err(HarError::Version { file: file.to_owned(), version: har.log.version.clone() });
    }
    for (i, e) in har.log.entries.iter().enumerate() {
        if timestamp_ms(&e.started).is_none() {
            return Err(HarError::Value {
                file: file.to_owned(),
                path: format!("log.entries[{i}].startedDateTime"),
                message: format!("'{}' is not an ISO 8601 date and time", e.started),
            });
        }
        if reqwest::Url::parse(&e.request.url).is_err() {
            return Err(HarError::Value {
                file: file.to_owned(),
                path: format!("log.entries[{i}].request.url"),
                message: format!("'{}' is not an absolute URL", e.request.url),
            });
        }
    }
    Ok(har)
}

/// Milliseconds since the Unix epoch of an ISO 8601 date and time such as
/// `2026-11-30T04:50:32.315Z` or `2026-11-30T05:50:32+01:00`.
pub fn timestamp_ms(text: &str) -> Option<f64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, offset_s) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':').unwrap_or((&off[1..3.min(off.len())], "0"));
        (c, sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60))
    };
    let mut c = clock.splitn(3, ':');
    let (h, min, s) =
        (c.next()?.parse::<i64>().ok()?, c.next()?.parse::<i64>().ok()?, c.next()?.parse::<f64>().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || !(0.0..61.0).contains(&s) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = (days * 86_400 + h * 3600 + min * 60 - offset_s) as f64 + s;
    Some(seconds * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_any_offset() {
        assert_eq!(timestamp_ms("1970-01-01T00:00:01.500Z"), Some(1500.0));
        assert_eq!(timestamp_ms("2026-11-30T04:50:32.315Z"), timestamp_ms("2026-11-30T05:50:32.315+01:00"));
        assert_eq!(timestamp_ms("2000-03-01T00:00:00Z"), Some(951_868_800_000.0));
        assert_eq!(timestamp_ms("yesterday"), None);
        assert_eq!(timestamp_ms("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn bad_files_name_the_place() {
        let e = parse(b"{not json", "x.har").unwrap_err().to_string();
        assert!(e.contains("'x.har' is not JSON (line 1"), "{e}");
        let e = parse(br#"{"log": {"version": "1.2", "entries": [{"startedDateTime": "2026-11-30T04:50:32Z", "time": 1, "request": {"method": "GET", "headers": []}}]}}"#, "x.har")
            .unwrap_err()
            .to_string();
        assert!(e.contains("at log.entries[0].request: missing field `url`"), "{e}");
        let e = parse(br#"{"log": {"version": "2.0", "entries": []}}"#, "x.har").unwrap_err().to_string();
        assert!(e.contains("at log.version: version '2.0'"), "{e}");
        let e = parse(br#"{"log": {"version": "1.2", "entries": [{"startedDateTime": "noon", "time": 1, "request": {"method": "GET", "url": "http://127.0.0.1/", "headers": []}, "response": {"status": 200, "headers": [], "content": {}}}]}}"#, "x.har")
            .unwrap_err()
            .to_string();
        assert!(e.contains("at log.entries[0].startedDateTime: 'noon'"), "{e}");
    }
}
