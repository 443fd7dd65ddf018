//! What a request carries besides its method and URL, as a browser would
//! send it: the trace context, the scenario's default headers then the
//! request's own, a `User-Agent`, `Accept-Encoding: gzip, br` (bodies
//! are decoded, see `encoding`), `Referer` and `Origin`, and a form or
//! JSON body encoded value by value with its `Content-Type`. Every default
//! gives way to a header the scenario names.

use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, ORIGIN, REFERER, USER_AGENT,
};

use super::context::LoadContext;
use super::recorder::ErrorClass;
use super::spec::{RequestSpec, Vars};
use super::trace;

/// The `User-Agent` fogg sends unless the scenario names one.
pub const DEFAULT_USER_AGENT: &str = concat!("fogg/", env!("CARGO_PKG_VERSION"));

/// The `Content-Type` of a `form` body.
const FORM: &str = "application/x-www-form-urlencoded";

/// The `Content-Type` of a `json` body.
const JSON: &str = "application/json";

/// Headers fogg may add to a request's own: `traceparent`, `tracestate`,
/// `Accept`, `Accept-Encoding`, `Cookie`, `Host`, `User-Agent`, `Referer`,
/// `Origin` and `Content-Type`.
pub(super) const HEADERS_ADDED: usize = 10;

/// The headers of one hop: the trace context, the scenario's default
/// headers, then `request`'s own (none for a resource), rendered for this
/// customer; then the browser's defaults where the scenario set none.
/// `referer` is the customer's last page.
pub(super) fn headers(
    ctx: &LoadContext,
    request: Option<&RequestSpec>,
    method: &reqwest::Method,
    vars: &Vars<'_>,
    trace: (u128, u64),
    referer: Option<&reqwest::Url>,
) -> Result<HeaderMap, ErrorClass> {
    let own = request.map_or(&[][..], |r| &r.headers[..]);
    let mut headers = HeaderMap::with_capacity(ctx.spec.headers.len() + own.len() + HEADERS_ADDED);
    trace_context(ctx, trace, &mut headers);
    for (name, value) in ctx.spec.headers.iter().chain(own) {
        let mut v = String::new();
        value.render(vars, &mut v).map_err(|_| ErrorClass::Check)?;
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| ErrorClass::Other)?;
        // A request's header replaces the default of the same name.
        headers.insert(name, v.try_into().map_err(|_| ErrorClass::Other)?);
    }
    if !headers.contains_key(USER_AGENT) {
        headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    if !headers.contains_key(ACCEPT_ENCODING) {
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(super::encoding::ACCEPT_ENCODING));
    }
    if ctx.spec.browser_headers {
        if let Some(page) = referer
            && !headers.contains_key(REFERER)
            && let Ok(value) = HeaderValue::from_str(page.as_str())
        {
            headers.insert(REFERER, value);
        }
        if !matches!(*method, reqwest::Method::GET | reqwest::Method::HEAD) && !headers.contains_key(ORIGIN) {
            headers.insert(ORIGIN, ctx.origin.clone());
        }
    }
    if !headers.contains_key(CONTENT_TYPE) {
        match request {
            Some(r) if !r.form.is_empty() => headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM)),
            Some(r) if r.json.is_some() => headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON)),
            _ => None,
        };
    }
    Ok(headers)
}

/// The request's body: its `form` encoded (each value rendered, then
/// form-encoded, so `& + %` and spaces arrive as typed), its `json` (each
/// string rendered, then escaped), or its `body` as rendered; `None`
/// without any.
pub(super) fn body(request: &RequestSpec, vars: &Vars<'_>) -> Result<Option<bytes::Bytes>, ErrorClass> {
    if !request.form.is_empty() {
        let mut form = form_urlencoded::Serializer::new(String::new());
        let mut value = String::new();
        for (name, template) in &request.form {
            value.clear();
            template.render(vars, &mut value).map_err(|_| ErrorClass::Check)?;
            form.append_pair(name, &value);
        }
        return Ok(Some(bytes::Bytes::from(form.finish())));
    }
    if let Some(json) = &request.json {
        let mut text = String::new();
        json.render(vars, &mut text).map_err(|_| ErrorClass::Check)?;
        return Ok(Some(bytes::Bytes::from(text)));
    }
    match &request.body {
        Some(template) => {
            let mut b = String::new();
            template.render(vars, &mut b).map_err(|_| ErrorClass::Check)?;
            Ok(Some(bytes::Bytes::from(b)))
        }
        None => Ok(None),
    }
}

/// Adds the W3C `traceparent` of span `span` of journey `trace`, and the
/// run's `tracestate` if any.
pub(super) fn trace_context(ctx: &LoadContext, (trace, span): (u128, u64), headers: &mut HeaderMap) {
    const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
    const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
    let traceparent = trace::traceparent(trace, span);
    let value = HeaderValue::from_bytes(&traceparent).expect("hex digits and dashes are a valid header");
    headers.insert(TRACEPARENT, value);
    if let Some(state) = &ctx.tracestate {
        headers.insert(TRACESTATE, state.clone());
    }
}

/// Whether the first response of a request redirected where `expected`
/// says: a path on the target (its query compared too when it has one),
/// or a whole URL. `location` is where it redirected, resolved; `None`
/// when the first response was no redirect.
pub fn redirected_as_expected(expected: &str, location: Option<&reqwest::Url>) -> bool {
    let Some(url) = location else { return false };
    if !expected.starts_with('/') {
        return url.as_str() == expected;
    }
    match expected.split_once('?') {
        Some((path, query)) => url.path() == path && url.query() == Some(query),
        None => url.path() == expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_matches_by_path_query_or_whole_url() {
        let url = reqwest::Url::parse("http://127.0.0.1:8000/admin/?next=%2F").expect("URL");
        assert!(redirected_as_expected("/admin/", Some(&url)));
        assert!(redirected_as_expected("/admin/?next=%2F", Some(&url)));
        assert!(!redirected_as_expected("/admin/?next=x", Some(&url)));
        assert!(!redirected_as_expected("/admin", Some(&url)));
        assert!(redirected_as_expected("http://127.0.0.1:8000/admin/?next=%2F", Some(&url)));
        assert!(!redirected_as_expected("/admin/", None), "no redirect at all");
    }
}
