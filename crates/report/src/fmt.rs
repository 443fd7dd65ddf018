//! Number formatting for people: thousands separators, percentages, money.

/// `1234567` → `1,234,567`.
pub fn int(n: u64) -> String {
    grouped(&n.to_string())
}

/// A run of digits with a comma before every third from the right.
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A float with `decimals` places and thousands separators.
pub fn num(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let text = format!("{:.*}", decimals, x.abs());
    let (whole, frac) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    // Grouped as written: a whole part beyond u64 (2^70) keeps its digits.
    let whole = grouped(whole);
    let sign = if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{whole}.{f}"),
        None => format!("{sign}{whole}"),
    }
}

/// A residual in standard errors, with its sign: `+1.60`, `-3.20`; 0
/// (to two places) without one.
pub fn sigmas(r: f64) -> String {
    if r.abs() < 0.005 { "0.00".into() } else { format!("{r:+.2}") }
}

/// `0.03841` → `3.84%`.
pub fn pct(x: f64) -> String {
    format!("{}%", num(x * 100.0, 2))
}

/// An amount with two decimals and the currency code.
pub fn money(x: f64, currency: &str) -> String {
    format!("{} {currency}", num(x, 2))
}

/// A size in bytes for people, in decimal units: `812 B`, `12.3 kB`,
/// `4.56 MB`, `1.20 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    let x = n as f64;
    match UNITS.iter().find(|(size, _)| x >= *size) {
        Some((size, unit)) => {
            let v = x / size;
            let decimals = if v >= 100.0 {
                0
            } else if v >= 10.0 {
                1
            } else {
                2
            };
            format!("{} {unit}", num(v, decimals))
        }
        None => format!("{n} B"),
    }
}

/// A 95% interval of percentages: `3.80% – 3.88%`.
pub fn pct_range(r: [f64; 2]) -> String {
    format!("{} – {}", pct(r[0]), pct(r[1]))
}

/// A count and its noun, singular for one: `count(1, "trial")` is
/// "1 trial", `count(1200, "request")` "1,200 requests".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{} {noun}s", int(n)) }
}

/// The header line of a shard's report: which part of the run it holds
/// and how to make the whole; `None` for a whole run.
pub fn shard_line(shard: fogg_core::shard::Shard, range: [u64; 2], run_customers: u64) -> Option<String> {
    (shard.count > 1).then(|| {
        format!(
            "shard {} of {}: customers {} to {} of {}, one part of the run (`fogg merge` the {} shards' JSON for the whole)",
            shard.index,
            shard.count,
            int(range[0]),
            int(range[1]),
            int(run_customers),
            shard.count
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(78_912), "78.9 kB");
        assert_eq!(bytes(4_561_000), "4.56 MB");
        assert_eq!(bytes(123_456_789_000), "123 GB");
        assert_eq!(num(-1234.5, 2), "-1,234.50");
        assert_eq!(num(-0.001, 2), "0.00");
        // Beyond u64, the digits stay: 2^70.
        assert_eq!(num(2f64.powi(70), 1), "1,180,591,620,717,411,303,424.0");
        assert_eq!(pct(0.038_41), "3.84%");
        assert_eq!(money(12_345.678, "EUR"), "12,345.68 EUR");
        assert_eq!(count(1, "trial"), "1 trial");
        assert_eq!(count(0, "trial"), "0 trials");
        assert_eq!(count(1_200, "request"), "1,200 requests");
    }
}
