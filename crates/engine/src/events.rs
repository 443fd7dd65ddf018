//! Event logs: one row per touch, `customer_id,timestamp,channel`, with
//! optional `stage` and `conversion_value` columns (a row with a value is a
//! conversion). Read once here, checked row by row, for every command that
//! takes them (`fogg fit`, `fogg attribute --events`).

use std::collections::HashMap;

use anyhow::{Context, bail};

/// The columns an event log must have.
pub const REQUIRED: [&str; 3] = ["customer_id", "timestamp", "channel"];

/// One row of an event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its line in the file (the header is line 1).
    pub line: usize,
    /// When it happened, in seconds since 1970.
    pub at_s: f64,
    /// The channel of the touch.
    pub channel: String,
    /// Its stage, when the log has the column and the row a value.
    pub stage: Option<String>,
    /// The conversion value: a row with one is a conversion.
    pub value: Option<f64>,
}

/// Every row of an event log, and each customer's rows in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventLog {
    /// The rows, in file order.
    pub events: Vec<Event>,
    /// Per customer, in order of first appearance: the indices of their
    /// rows in `events`, by time (rows at the same time in file order).
    pub customers: Vec<Vec<usize>>,
}

impl EventLog {
    /// Reads an event log's text, columns split by `separator`; an error
    /// names the line and the fix.
    pub fn read(text: &[u8], separator: u8) -> anyhow::Result<EventLog> {
        let mut reader =
            csv::ReaderBuilder::new().delimiter(separator).trim(csv::Trim::All).from_reader(text);
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
        let mut log = EventLog::default();
        let mut customers: HashMap<String, usize> = HashMap::new();
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
                    Ok(x) if x > fogg_model::MAX_VALUE && x.is_finite() => bail!(
                        "line {line}: conversion_value {v} is beyond the largest value of one conversion fogg sums exactly ({:e})",
                        fogg_model::MAX_VALUE
                    ),
                    Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
                    _ => bail!(
                        "line {line}: conversion_value '{v}' is not an amount of 0 or more; leave it empty for a touch that is not a conversion"
                    ),
                },
            };
            let stage = stage_col.map(field).filter(|s| !s.is_empty()).map(str::to_owned);
            let next = customers.len();
            let c = *customers.entry(customer.to_owned()).or_insert(next);
            if c == log.customers.len() {
                log.customers.push(Vec::new());
            }
            log.customers[c].push(log.events.len());
            log.events.push(Event { line, at_s, channel: channel.to_owned(), stage, value });
        }
        if log.events.is_empty() {
            bail!("no events: the file has a header but no rows");
        }
        let events = &log.events;
        for rows in &mut log.customers {
            rows.sort_by(|&a, &b| events[a].at_s.total_cmp(&events[b].at_s).then(a.cmp(&b)));
        }
        Ok(log)
    }
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
    fn each_customer_s_rows_in_time_order() {
        let log = "customer_id,timestamp,channel,conversion_value,stage\n\
                   ann,2026-03-01T10:00:00Z,web,,\n\
                   bob,2026-03-01T09:00:00Z,search,,awareness\n\
                   ann,2026-03-01T09:00:00Z,email,,\n\
                   ann,2026-03-01T10:00:00Z,web,80,\n";
        let log = EventLog::read(log.as_bytes(), b',').unwrap();
        assert_eq!(log.customers, vec![vec![2, 0, 3], vec![1]]);
        assert_eq!(log.events[3].value, Some(80.0));
        assert_eq!(log.events[1].stage.as_deref(), Some("awareness"));
        assert_eq!(log.events[0].stage, None);
        assert_eq!(log.events[2].line, 4);
    }
}
