//! W3C trace context: every request carries a `traceparent` whose trace
//! id is its customer's journey, so a slow or failed journey can be found
//! in an APM (Jaeger, Datadog, Dynatrace…) by pasting one id.
//!
//! The trace id is derived from the run's seed, its run id (random for
//! each run unless `--run-id` fixes it, so separate runs never share a
//! trace in an APM) and the customer's index; the span id from the trace
//! id and the request's number in the journey; the sampled flag is set.

/// How a customer's trace id is computed, as the JSON report states it.
pub const TRACE_ID_RULE: &str = "trace id = hex(hi, 16 digits) + hex(lo, 16 digits), hi = mix(seed XOR mix(run XOR mix(customer))), run = the run id (16 hex digits; \
for a merged run, that of the customer's shard), \
lo = mix(hi XOR customer XOR 0x9e3779b97f4a7c15), mix = the SplitMix64 finaliser \
(z = (z XOR z>>30)*0xbf58476d1ce4e5b9; z = (z XOR z>>27)*0x94d049bb133111eb; z XOR z>>31, wrapping), \
lo = 1 if both are 0; span id = mix(lo XOR n), or 1 if that is 0, n = the request's number in the journey, from 1";

/// The SplitMix64 finaliser (Vigna): a bijection that spreads bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The trace id of customer `customer` of the run `run` seeded with
/// `seed`: never all zeros (invalid per the W3C spec).
pub fn trace_id(seed: u64, run: u64, customer: u64) -> u128 {
    let hi = mix(seed ^ mix(run ^ mix(customer)));
    let lo = mix(hi ^ customer ^ 0x9e37_79b9_7f4a_7c15);
    let lo = if hi == 0 && lo == 0 { 1 } else { lo };
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The span id of the `n`-th request (from 1) of the journey `trace`:
/// never zero.
pub fn span_id(trace: u128, n: u64) -> u64 {
    match mix(trace as u64 ^ n) {
        0 => 1,
        id => id,
    }
}

/// The `traceparent` header value: version 00, sampled. Written digit by
/// digit, as every request sends one.
pub fn traceparent(trace: u128, span: u64) -> [u8; 55] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut header = *b"00-00000000000000000000000000000000-0000000000000000-01";
    for (i, digit) in header[3..35].iter_mut().enumerate() {
        *digit = DIGITS[(trace >> (124 - 4 * i) & 0xf) as usize];
    }
    for (i, digit) in header[36..52].iter_mut().enumerate() {
        *digit = DIGITS[(span >> (60 - 4 * i) & 0xf) as usize];
    }
    header
}

/// A run id as reports show it: 16 lowercase hex digits.
pub fn run_hex(run: u64) -> String {
    format!("{run:016x}")
}

/// A fresh run id: random, so two runs with the same seed send different
/// trace ids.
pub fn fresh_run_id() -> u64 {
    rand::random()
}

/// The trace id as APMs show it: 32 lowercase hex digits.
pub fn hex(trace: u128) -> String {
    format!("{trace:032x}")
}

/// Why a `tracestate` is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TracestateError {
    /// Longer than 512 characters.
    #[error("it is {0} characters long; the most is 512")]
    TooLong(usize),
    /// More than 32 members.
    #[error("it has {0} members; the most is 32")]
    TooManyMembers(usize),
    /// A member without `=`.
    #[error("'{0}' is not key=value")]
    NotKeyValue(String),
    /// A key with a character the standard does not allow.
    #[error("'{0}' is not a key: lowercase letters, digits and _-*/, one @ at most")]
    Key(String),
    /// A value with a character the standard does not allow.
    #[error("'{0}' is not a value: printable ASCII without ',' and '='")]
    Value(String),
}

/// Why `text` is not a valid `tracestate` (W3C Trace Context, §3.3): at
/// most 32 comma-separated `key=value` members, keys of lowercase
/// letters, digits and `_-*/` (with one `@` for a multi-tenant key),
/// values of printable ASCII without `,` and `=`, 512 characters in all.
pub fn check_tracestate(text: &str) -> Result<(), TracestateError> {
    if text.len() > 512 {
        return Err(TracestateError::TooLong(text.len()));
    }
    let members: Vec<&str> = text.split(',').map(str::trim).collect();
    if members.len() > 32 {
        return Err(TracestateError::TooManyMembers(members.len()));
    }
    for m in members {
        let Some((key, value)) = m.split_once('=') else {
            return Err(TracestateError::NotKeyValue(m.to_owned()));
        };
        let key_ok = !key.is_empty()
            && key.len() <= 256
            && key.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-*/@".contains(c))
            && key.matches('@').count() <= 1;
        if !key_ok {
            return Err(TracestateError::Key(key.to_owned()));
        }
        let value_ok = !value.is_empty()
            && value.len() <= 256
            && !value.ends_with(' ')
            && value.chars().all(|c| (' '..='~').contains(&c) && c != ',' && c != '=');
        if !value_ok {
            return Err(TracestateError::Value(value.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_reproducible_and_per_customer() {
        let a = trace_id(7, 5, 0);
        assert_eq!(a, trace_id(7, 5, 0));
        assert_ne!(a, trace_id(7, 5, 1));
        assert_ne!(a, trace_id(8, 5, 0));
        assert_ne!(a, trace_id(7, 6, 0), "another run, other ids");
        assert_ne!(trace_id(0, 0, 0), 0);
        let header = String::from_utf8(traceparent(a, span_id(a, 1)).to_vec()).expect("ASCII");
        let parts: Vec<&str> = header.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!((parts[0], parts[3]), ("00", "01"));
        assert!(parts[1].len() == 32 && parts[2].len() == 16);
        assert!(header.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(span_id(a, 1), span_id(a, 2));
    }

    #[test]
    fn the_header_is_the_ids_in_hex() {
        for (trace, span) in
            [(1u128, 1u64), (u128::MAX, u64::MAX), (trace_id(7, 1, 3), span_id(trace_id(7, 1, 3), 2))]
        {
            let header = traceparent(trace, span);
            assert_eq!(std::str::from_utf8(&header), Ok(format!("00-{trace:032x}-{span:016x}-01").as_str()));
        }
    }

    /// The rule the report states computes the ids fogg sends.
    #[test]
    fn the_stated_rule_gives_the_ids() {
        let (seed, run, customer) = (42u64, 0xfeed_beef_u64, 1234u64);
        let m = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            z ^ (z >> 31)
        };
        let hi = m(seed ^ m(run ^ m(customer)));
        let lo = m(hi ^ customer ^ 0x9e3779b97f4a7c15);
        assert_eq!(hex(trace_id(seed, run, customer)), format!("{hi:016x}{lo:016x}"));
        assert_eq!(span_id(trace_id(seed, run, customer), 3), m(lo ^ 3));
    }

    #[test]
    fn tracestate_follows_the_spec() {
        assert!(check_tracestate("fogg=run1").is_ok());
        assert!(check_tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE").is_ok());
        assert!(check_tracestate("tenant@vendor=x").is_ok());
        assert!(check_tracestate("Fogg=1").is_err());
        assert!(check_tracestate("fogg").is_err());
        assert!(check_tracestate("fogg=a=b").is_err());
        assert!(check_tracestate(&vec!["k=v"; 33].join(",")).is_err());
    }
}
