//! Event logs: one row per touch, `customer_id,timestamp,channel`, with
//! optional `stage` and `conversion_value` columns (a row with a value is a
//! conversion). Rows are grouped by customer and ordered by time.

use std::collections::HashMap;

use anyhow::{Context, bail};

use super::Counts;

/// The columns an event log must have.
pub const REQUIRED: [&str; 3] = ["customer_id", "timestamp", "channel"];

struct Event {
    at_s: f64,
    row: usize,
    state: usize,
    value: Option<f64>,
}

/// Reads an event log's text; `source` names it in the fitted scenario.
pub fn read(text: &[u8], separator: u8, source: &str) -> anyhow::Result<Counts> {
    let mut reader = csv::ReaderBuilder::new().delimiter(separator).trim(csv::Trim::All).from_reader(text);
    let header: Vec<String> =
        reader.headers().context("reading the header row")?.iter().map(str::to_owned).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let mut at = [0usize; 3];
    for (i, name) in REQUIRED.iter().enumerate() {
        at[i] = column(name).ok_or_else(|| {
            anyhow::anyhow!(
                "the header has no '{name}' column (it has: {}); an event log needs {} and may add stage and conversion_value",
                header.join(", "),
                REQUIRED.join(", ")
            )
        })?;
    }
    let stage_col = column("stage");
    let value_col = column("conversion_value");
    let mut counts = Counts { source: source.to_owned(), ..Counts::default() };
    let mut customers: HashMap<String, Vec<Event>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.with_context(|| format!("line {line}"))?;
        let field = |i: usize| record.get(i).unwrap_or("");
        let customer = field(at[0]);
        if customer.is_empty() {
            bail!("line {line}: customer_id is empty; every event needs the customer it belongs to");
        }
        let at_s = parse_timestamp(field(at[1])).map_err(|e| anyhow::anyhow!("line {line}: {e}"))?;
        let channel = field(at[2]);
        if channel.is_empty() {
            bail!("line {line}: channel is empty; name the channel of the touch (web, store, email…)");
        }
        let value = match value_col.map(field).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => match v.parse::<f64>() {
                Ok(x) if x > crate::model::MAX_VALUE && x.is_finite() => bail!(
                    "line {line}: conversion_value {v} is beyond the largest value of one conversion fogg sums exactly ({:e})",
                    crate::model::MAX_VALUE
                ),
                Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
                _ => bail!(
                    "line {line}: conversion_value '{v}' is not an amount of 0 or more; leave it empty for a touch that is not a conversion"
                ),
            },
        };
        let stage = match stage_col.map(field).filter(|s| !s.is_empty()) {
            Some(s) => s.to_owned(),
            None if value.is_some() => "purchase".to_owned(),
            None => "touch".to_owned(),
        };
        let state = counts
            .state(&stage, channel, value.is_some())
            .map_err(|e| anyhow::anyhow!("line {line}: {e}"))?;
        counts.rows += 1;
        let events = customers.entry(customer.to_owned()).or_insert_with(|| {
            order.push(customer.to_owned());
            Vec::new()
        });
        events.push(Event { at_s, row: line, state, value });
    }
    if counts.rows == 0 {
        bail!("no events: the file has a header but no rows");
    }
    let mut seq = Vec::new();
    for customer in &order {
        let events = customers.get_mut(customer).expect("every customer has events");
        events.sort_by(|a, b| a.at_s.total_cmp(&b.at_s).then(a.row.cmp(&b.row)));
        seq.clear();
        for (k, e) in events.iter().enumerate() {
            seq.push(e.state);
            if let Some(next) = events.get(k + 1) {
                counts.dwell_s[e.state].push(next.at_s - e.at_s);
            }
            if let Some(v) = e.value {
                counts.values[e.state].push(v);
            }
        }
        counts.journey(&seq, 1.0);
    }
    // Stages in funnel order: by the mean position at which they are seen.
    let mut position: HashMap<&str, (f64, f64)> = HashMap::new();
    for customer in &order {
        for (k, e) in customers[customer].iter().enumerate() {
            let p = position.entry(counts.states[e.state].stage.as_str()).or_insert((0.0, 0.0));
            p.0 += k as f64;
            p.1 += 1.0;
        }
    }
    let mean = |s: &str| position.get(s).map_or(0.0, |(t, n)| t / n);
    let mut stages = counts.stages.clone();
    stages.sort_by(|a, b| mean(a).total_cmp(&mean(b)));
    counts.stages = stages;
    Ok(counts)
}

/// A timestamp that is none of the forms [`parse_timestamp`] reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "timestamp '{0}' is not a date-time: write 2026-03-01T14:30:00Z, 2026-03-01 14:30:00, 2026-03-01 or Unix seconds"
)]
pub struct TimestampError(pub String);

/// Seconds since 1970 of `2026-03-01T14:30:00Z`, `2026-03-01 14:30:00`,
/// `2026-03-01T14:30:00.250+01:00`, `2026-03-01`, or Unix seconds.
pub fn parse_timestamp(text: &str) -> Result<f64, TimestampError> {
    let bad = || TimestampError(text.to_owned());
    let t = text.trim();
    // Every form is ASCII; checking it first keeps the slicing below on
    // character boundaries whatever the input.
    if !t.is_ascii() {
        return Err(bad());
    }
    if let Ok(x) = t.parse::<f64>() {
        // Unix seconds within years 0 to 9999, like the dates.
        return if (-62_167_219_200.0..=253_402_300_799.0).contains(&x) { Ok(x) } else { Err(bad()) };
    }
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let int = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let (y, m, d) = (int(&t[0..4])?, int(&t[5..7])?, int(&t[8..10])?);
    if !(1..=12).contains(&m) || !(1..=days_in_month(y, m)).contains(&d) {
        return Err(bad());
    }
    let mut seconds = days_from_civil(y, m, d) as f64 * 86_400.0;
    let rest = &t[10..];
    if rest.is_empty() {
        return Ok(seconds);
    }
    let rest = rest.strip_prefix(['T', ' ']).ok_or_else(bad)?;
    if rest.len() < 8 || rest.as_bytes()[2] != b':' || rest.as_bytes()[5] != b':' {
        return Err(bad());
    }
    let (h, mi) = (int(&rest[0..2])?, int(&rest[3..5])?);
    let mut end = 8;
    while end < rest.len() && (rest.as_bytes()[end].is_ascii_digit() || rest.as_bytes()[end] == b'.') {
        end += 1;
    }
    let s: f64 = rest[6..end].parse().map_err(|_| bad())?;
    if h > 23 || mi > 59 || !(0.0..61.0).contains(&s) {
        return Err(bad());
    }
    seconds += (h * 3600 + mi * 60) as f64 + s;
    let zone = &rest[end..];
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) && z.as_bytes()[3] == b':' => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (oh, om) = (int(&z[1..3])?, int(&z[4..6])?);
            // Real offsets run from −12:00 to +14:00.
            if oh > 14 || om > 59 {
                return Err(bad());
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return Err(bad()),
    };
    Ok(seconds - offset as f64)
}

/// Days in month `m` of year `y` (proleptic Gregorian).
fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_the_usual_forms() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Ok(0.0));
        assert_eq!(parse_timestamp("2026-03-01 14:30:00"), Ok(1_772_375_400.0));
        assert_eq!(parse_timestamp("2026-03-01T15:30:00+01:00"), Ok(1_772_375_400.0));
        assert_eq!(parse_timestamp("2026-03-01"), Ok(1_772_323_200.0));
        assert_eq!(parse_timestamp("1772375400.5"), Ok(1_772_375_400.5));
        assert!(parse_timestamp("yesterday").unwrap_err().to_string().contains("not a date-time"));
        assert_eq!(parse_timestamp("2024-02-29"), Ok(1_709_164_800.0));
        for impossible in
            ["2026-02-30", "2025-02-29", "2026-04-31", "2026-03-01T10:00:00+25:00", "1e20", "-1e20"]
        {
            assert!(parse_timestamp(impossible).is_err(), "{impossible}");
        }
        for hostile in ["2026-03-0é", "2026-03-01T14:30:0é", "2026-03-01T14:3é:00", "２０２６-03-01"] {
            assert_eq!(parse_timestamp(hostile), Err(TimestampError(hostile.into())), "{hostile}");
        }
        assert!(parse_timestamp("2026-13-01").is_err());
    }

    #[test]
    fn bad_logs_name_the_row() {
        let err = |t: &str| format!("{:#}", read(t.as_bytes(), b',', "log.csv").unwrap_err());
        assert!(err("customer_id,channel\n1,web\n").contains("no 'timestamp' column"));
        assert!(
            err("customer_id,timestamp,channel\n1,2026-03-01,web\n2,soon,web\n")
                .contains("line 3: timestamp 'soon'")
        );
        assert!(err("customer_id,timestamp,channel\n1,2026-03-01,\n").contains("line 2: channel is empty"));
        assert!(
            err("customer_id,timestamp,channel,conversion_value\n1,2026-03-01,web,-5\n")
                .contains("line 2: conversion_value '-5'")
        );
        assert!(err("customer_id,timestamp,channel\n").contains("no events"));
    }

    #[test]
    fn journeys_are_ordered_by_time_per_customer() {
        let log = "customer_id,timestamp,channel,conversion_value\n\
                   ann,2026-03-01T10:00:00Z,web,\n\
                   bob,2026-03-01T09:00:00Z,search,\n\
                   ann,2026-03-01T09:00:00Z,email,\n\
                   ann,2026-03-01T12:00:00Z,web,80\n\
                   bob,2026-03-01T09:30:00Z,web,\n";
        let c = read(log.as_bytes(), b',', "log.csv").unwrap();
        let id = |s: &str| c.states.iter().position(|x| x.id == s).unwrap();
        assert_eq!(c.entry[id("email")], 1.0);
        assert_eq!(c.entry[id("search")], 1.0);
        assert_eq!(c.next[id("email")][&id("web")], 1.0);
        assert_eq!(c.next[id("web")][&id("web_conversion")], 1.0);
        assert_eq!(c.next[id("web")][&crate::fit::EXIT], 1.0);
        assert_eq!(c.dwell_s[id("email")], vec![3600.0]);
        assert_eq!(c.values[id("web_conversion")], vec![80.0]);
        assert_eq!((c.journeys, c.converted), (2.0, 1.0));
    }
}
