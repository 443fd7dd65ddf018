//! `[calendar]`: the campaign window, its zone, the arrival profiles and
//! events, checked into a [`Calendar`] with every problem named.

use toml::Spanned;

use super::context::Cx;
use super::raw::{RawCalendar, RawEvent, RawMeta, RawWhen};
use crate::calendar::{Calendar, CalendarSpec, Event, days_after, instant, period_length_s, zone};

/// The longest window a calendar may span: its intensity is kept per
/// minute.
const MAX_DAYS: f64 = 400.0;

/// The calendar of `[calendar]`, or `None` (with problems recorded).
pub(super) fn compile_calendar(cx: &mut Cx, raw: &Spanned<RawCalendar>, meta: &RawMeta) -> Option<Calendar> {
    let c = raw.get_ref();
    let span = raw.span();
    if meta.customers_per_period.is_none() {
        cx.problem(
            Some(&span),
            "scenario.customers_per_period",
            "a calendar scales the customers of a period to its window, but the scenario does not say how many a period brings",
            "add `customers_per_period = …` (and `period = \"month\"`) to [scenario]",
        );
        return None;
    }
    let timezone = c.timezone.as_ref().map_or("UTC".to_owned(), |t| t.get_ref().clone());
    let tz = match zone(&timezone) {
        Ok(z) => Some(z),
        Err(e) => {
            let at = c.timezone.as_ref().map(|t| t.span());
            cx.problem(
                at.as_ref(),
                "calendar.timezone",
                e,
                "write \"UTC\", an offset such as \"+01:00\" or \"-05:00\", or an IANA name such as \"Europe/Paris\"",
            );
            None
        }
    }?;
    let start_s = at_instant(cx, "calendar.start", &c.start, &tz)?;
    let end_s = match (&c.end, &c.days) {
        (Some(end), None) => at_instant(cx, "calendar.end", end, &tz)?,
        (None, Some(days)) => {
            let d = *days.get_ref();
            if !((1.0..=MAX_DAYS).contains(&d) && d.fract() == 0.0) {
                cx.problem(
                    Some(&days.span()),
                    "calendar.days",
                    format!("days = {d}: a window lasts a whole number of days, 1 to {MAX_DAYS}"),
                    "give the campaign's length in days, e.g. 14, or an `end` date-time",
                );
                return None;
            }
            match days_after(start_s, d as i64, &tz) {
                Ok(end) => end,
                Err(e) => {
                    cx.problem(Some(&days.span()), "calendar.days", e, "give a shorter window");
                    return None;
                }
            }
        }
        (Some(_), Some(days)) => {
            cx.problem(
                Some(&days.span()),
                "calendar.days",
                "both `end` and `days` say where the window ends",
                "keep one of them",
            );
            return None;
        }
        (None, None) => {
            cx.problem(
                Some(&span),
                "calendar",
                "the window has a start but no end",
                "add `days = 14` or `end = \"2026-12-06\"` to [calendar]",
            );
            return None;
        }
    };
    if end_s <= start_s {
        let at = c.end.as_ref().map(|e| e.span());
        cx.problem(
            at.as_ref(),
            "calendar.end",
            format!(
                "the window ends ({}) before it starts ({})",
                c.end.as_ref().map_or(String::new(), |e| e.get_ref().text()),
                c.start.get_ref().text()
            ),
            "give an end after the start, or `days = N` instead",
        );
        return None;
    }
    if (end_s - start_s) as f64 > MAX_DAYS * 86_400.0 {
        cx.problem(
            c.end.as_ref().map(|e| e.span()).as_ref(),
            "calendar.end",
            format!("the window lasts {:.0} days, more than {MAX_DAYS}", (end_s - start_s) as f64 / 86_400.0),
            "forecast a campaign at a time: split a long season into windows",
        );
        return None;
    }
    let hourly = weights::<24>(
        cx,
        "calendar.hourly",
        c.hourly.as_ref(),
        "24 weights, one per hour from 00:00 to 23:00",
    )?;
    let weekly = weights::<7>(
        cx,
        "calendar.weekly",
        c.weekly.as_ref(),
        "7 weights, one per day from Monday to Sunday",
    )?;
    let period_s = period(cx, c, meta, &span)?;
    let mut events = Vec::with_capacity(c.events.len());
    let mut ok = true;
    for (k, e) in c.events.iter().enumerate() {
        match event(cx, k, e, &tz, start_s, end_s) {
            Some(e) => events.push(e),
            None => ok = false,
        }
    }
    ok.then(|| {
        Calendar::new(CalendarSpec { start_s, end_s, timezone, zone: tz, hourly, weekly, events, period_s })
    })
}

fn at_instant(cx: &mut Cx, key: &str, when: &Spanned<RawWhen>, tz: &jiff::tz::TimeZone) -> Option<i64> {
    match instant(&when.get_ref().text(), tz) {
        Ok(s) => Some(s),
        Err(e) => {
            cx.problem(
                Some(&when.span()),
                key,
                e,
                "write a date \"2026-11-23\" or a date-time \"2026-11-23T09:00\" (local to `timezone`)",
            );
            None
        }
    }
}

/// `N` non-negative weights, not all 0; flat when absent.
fn weights<const N: usize>(
    cx: &mut Cx,
    key: &str,
    raw: Option<&Spanned<Vec<f64>>>,
    what: &str,
) -> Option<[f64; N]> {
    let Some(raw) = raw else { return Some([1.0; N]) };
    let w = raw.get_ref();
    if w.len() != N {
        cx.problem(
            Some(&raw.span()),
            key,
            format!("{} weights given, {N} needed", w.len()),
            format!("give {what}"),
        );
        return None;
    }
    if w.iter().any(|x| !(0.0..=1e9).contains(x)) || w.iter().all(|x| *x == 0.0) {
        cx.problem(
            Some(&raw.span()),
            key,
            "weights must be from 0 to 1e9, and not all 0",
            format!("give {what}; only their ratios matter"),
        );
        return None;
    }
    let mut out = [0.0; N];
    out.copy_from_slice(w);
    Some(out)
}

/// The period's length: from `[calendar] period_length`, else from the
/// period's name.
fn period(cx: &mut Cx, c: &RawCalendar, meta: &RawMeta, span: &std::ops::Range<usize>) -> Option<f64> {
    if let Some(length) = &c.period_length {
        return cx.positive_duration("calendar.period_length", length, "\"28d\"");
    }
    let name = meta.period.as_deref().unwrap_or("period");
    period_length_s(name).or_else(|| {
        cx.problem(
            Some(span),
            "calendar.period_length",
            format!("the scenario's period is called '{name}', whose length fogg cannot tell"),
            "set [scenario] period to day, week, month, quarter or year, or add `period_length = \"28d\"` to [calendar]",
        );
        None
    })
}

fn event(
    cx: &mut Cx,
    k: usize,
    e: &RawEvent,
    tz: &jiff::tz::TimeZone,
    start_s: i64,
    end_s: i64,
) -> Option<Event> {
    let key = |field: &str| format!("calendar.event[{k}].{field}");
    let at_s = at_instant(cx, &key("at"), &e.at, tz)?;
    if !(start_s..end_s).contains(&at_s) {
        cx.problem(
            Some(&e.at.span()),
            key("at"),
            format!("event '{}' at {} is outside the window", e.name, e.at.get_ref().text()),
            "move it inside [start, end), or widen the window",
        );
        return None;
    }
    let peak = *e.peak.get_ref();
    if !(peak.is_finite() && peak > 0.0 && peak <= 1000.0) {
        cx.problem(
            Some(&e.peak.span()),
            key("peak"),
            format!("peak = {peak}: arrivals are multiplied by it when the event starts"),
            "give a factor above 0 and at most 1000, e.g. 3 for three times the usual arrivals",
        );
        return None;
    }
    let half_life_s = cx.positive_duration(&key("half_life"), &e.half_life, "\"6h\" or \"2d\"")?;
    Some(Event { name: e.name.clone(), at_s, peak, half_life_s })
}
