//! Durations written by people (`"90s"`, `"1.5h"`, `"3 days"`) and the time
//! unit a scenario reports in.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

const UNITS: &[(&[&str], f64)] = &[
    (&["ms", "msec", "millisecond", "milliseconds"], 0.001),
    (&["s", "sec", "secs", "second", "seconds"], 1.0),
    (&["m", "min", "mins", "minute", "minutes"], 60.0),
    (&["h", "hr", "hrs", "hour", "hours"], 3600.0),
    (&["d", "day", "days"], 86_400.0),
    (&["w", "week", "weeks"], 604_800.0),
];

/// How a duration is written, for error messages.
const DURATION_SYNTAX: &str =
    "a number followed by a unit (ms, s, min, h, d, w), e.g. \"90s\", \"1.5h\" or \"1m30s\"";

/// The longest duration fogg takes: 100 years, in seconds. Every
/// duration fits a `std::time::Duration` and a timer.
pub const MAX_DURATION_S: f64 = 100.0 * 365.25 * 86_400.0;

/// Why a text is not a duration; the message says how to write one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// It does not start with a number.
    #[error("'{0}' is not a duration: write {DURATION_SYNTAX}")]
    NotANumber(String),
    /// A number without a unit.
    #[error("'{0}' has no unit: write {DURATION_SYNTAX}")]
    NoUnit(String),
    /// A unit fogg does not know.
    #[error("'{unit}' in '{text}' is not a time unit: write {DURATION_SYNTAX}")]
    UnknownUnit {
        /// The unit written.
        unit: String,
        /// The whole text.
        text: String,
    },
    /// Negative, or longer than [`MAX_DURATION_S`].
    #[error("'{0}' must be a non-negative duration of at most 100 years")]
    OutOfRange(String),
}

/// Parses a duration such as `"90s"`, `"1.5h"`, `"2 days"`, or one of
/// several parts (`"1m30s"`, `"1h 30m"`, `"2d12h"`) into seconds.
///
/// The error says what was expected, ready to be shown to a person.
pub fn parse_duration(text: &str) -> Result<f64, DurationError> {
    let mut rest = text.trim();
    let mut seconds = 0.0;
    let mut parts = 0;
    while !rest.is_empty() {
        // Only the first part may carry a sign: "1h-30m" is no duration.
        if parts > 0 && rest.starts_with(['+', '-']) {
            return Err(DurationError::NotANumber(text.to_owned()));
        }
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-' || c == 'e'))
            .unwrap_or(rest.len());
        let value: f64 =
            rest[..split].trim().parse().map_err(|_| DurationError::NotANumber(text.to_owned()))?;
        rest = rest[split..].trim_start();
        let unit_len = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        if unit.is_empty() {
            return Err(DurationError::NoUnit(text.to_owned()));
        }
        let factor = UNITS
            .iter()
            .find(|(names, _)| names.contains(&unit.to_ascii_lowercase().as_str()))
            .map(|(_, f)| *f)
            .ok_or_else(|| DurationError::UnknownUnit { unit: unit.to_owned(), text: text.to_owned() })?;
        seconds += value * factor;
        parts += 1;
    }
    if parts == 0 {
        return Err(DurationError::NotANumber(text.to_owned()));
    }
    if !(0.0..=MAX_DURATION_S).contains(&seconds) {
        return Err(DurationError::OutOfRange(text.to_owned()));
    }
    Ok(seconds)
}

/// A number as people write amounts in spreadsheets and slides: `+350`,
/// `20_000`, `20,000` (commas only between groups of three digits, so a
/// decimal comma such as `1,5` is refused rather than read as 15),
/// `20k`, `1.5M`. `None` when it is not one, or not finite.
pub fn parse_amount(text: &str) -> Option<f64> {
    let t = text.trim().trim_start_matches('+');
    let (digits, factor) = match t.strip_suffix(['k', 'K']) {
        Some(d) => (d, 1e3),
        None => t.strip_suffix('M').map_or((t, 1.0), |d| (d, 1e6)),
    };
    let whole = digits.split('.').next().unwrap_or_default().trim_start_matches('-');
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped {
        return None;
    }
    let clean: String = digits.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    clean.parse::<f64>().ok().map(|x| x * factor).filter(|x| x.is_finite())
}

/// A number as a person would write it in an error message: `1e308`,
/// not 309 digits, and `1e-300`, not 300 zeros.
pub fn shown(x: f64) -> String {
    if x.abs() >= 1e9 || (x != 0.0 && x.abs() < 1e-6) { format!("{x:e}") } else { x.to_string() }
}

/// Formats seconds with the largest unit that keeps the number readable.
pub fn format_duration(seconds: f64) -> String {
    let (value, unit) = if seconds >= 86_400.0 {
        (seconds / 86_400.0, "d")
    } else if seconds >= 3600.0 {
        (seconds / 3600.0, "h")
    } else if seconds >= 60.0 {
        (seconds / 60.0, "min")
    } else if seconds >= 1.0 || seconds == 0.0 {
        (seconds, "s")
    } else {
        (seconds * 1000.0, "ms")
    };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{unit}")
}

/// The unit a scenario reports times in (`[scenario] time_unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days (the default).
    Days,
    /// Weeks.
    Weeks,
}

impl TimeUnit {
    /// Every unit, in the order the docs list them.
    pub const ALL: [TimeUnit; 4] = [Self::Minutes, Self::Hours, Self::Days, Self::Weeks];

    /// Length of one unit in seconds.
    pub fn seconds(self) -> f64 {
        match self {
            Self::Minutes => 60.0,
            Self::Hours => 3600.0,
            Self::Days => 86_400.0,
            Self::Weeks => 604_800.0,
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Minutes => "minutes",
            Self::Hours => "hours",
            Self::Days => "days",
            Self::Weeks => "weeks",
        })
    }
}

impl FromStr for TimeUnit {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|u| u.to_string() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_fractions() {
        assert_eq!(parse_duration("90s"), Ok(90.0));
        assert_eq!(parse_duration("1.5h"), Ok(5400.0));
        assert_eq!(parse_duration("2 days"), Ok(172_800.0));
        assert_eq!(parse_duration("250ms"), Ok(0.25));
        assert_eq!(parse_duration("3min"), Ok(180.0));
    }

    /// Durations of several parts, as k6, Go and systemd write them.
    #[test]
    fn parses_compound_durations() {
        assert_eq!(parse_duration("1m30s"), Ok(90.0));
        assert_eq!(parse_duration("1h30m"), Ok(5400.0));
        assert_eq!(parse_duration("2d12h"), Ok(216_000.0));
        assert_eq!(parse_duration("1h 30min 15s"), Ok(5415.0));
        assert_eq!(parse_duration("1h30"), Err(DurationError::NoUnit("1h30".into())));
        assert_eq!(parse_duration("1h-30m"), Err(DurationError::NotANumber("1h-30m".into())));
        assert_eq!(parse_duration("1h+30m"), Err(DurationError::NotANumber("1h+30m".into())));
        assert!(
            parse_duration("1h30x").unwrap_err().to_string().contains("'x' in '1h30x' is not a time unit")
        );
        assert_eq!(parse_duration(""), Err(DurationError::NotANumber(String::new())));
    }

    #[test]
    fn rejects_missing_or_unknown_units() {
        assert_eq!(parse_duration("12"), Err(DurationError::NoUnit("12".into())));
        assert!(parse_duration("2 fortnights").unwrap_err().to_string().contains("not a time unit"));
        assert_eq!(parse_duration("-1h"), Err(DurationError::OutOfRange("-1h".into())));
        assert!(parse_duration("abc").unwrap_err().to_string().contains("not a duration: write a number"));
    }

    #[test]
    fn reads_amounts_as_people_write_them() {
        assert_eq!(parse_amount("2,400"), Some(2400.0));
        assert_eq!(parse_amount("1,234,567.5"), Some(1_234_567.5));
        assert_eq!(parse_amount("+20k"), Some(20_000.0));
        assert_eq!(parse_amount("-1.5M"), Some(-1_500_000.0));
        assert_eq!(parse_amount("20_000"), Some(20_000.0));
        assert_eq!(parse_amount("1,5"), None);
        assert_eq!(parse_amount("12,34,567"), None);
        assert_eq!(parse_amount(",400"), None);
        assert_eq!(parse_amount("inf"), None);
        assert_eq!(parse_amount("abc"), None);
    }

    #[test]
    fn formats_readably() {
        assert_eq!(format_duration(5400.0), "1.5h");
        assert_eq!(format_duration(0.25), "250ms");
        assert_eq!(format_duration(172_800.0), "2d");
    }
}
