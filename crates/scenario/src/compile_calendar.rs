//! `[calendar]`: the campaign window, its zone, the arrival profiles and
//! events, checked into a [`Calendar`] with every problem named.

use std::ops::Range;

use jiff::tz::TimeZone;
use toml::Spanned;

use super::context::Cx;
use super::raw::{RawCalendar, RawEvent, RawFlight, RawMeta, RawWhen};
use fogg_core::calendar::{
    Adstock, Calendar, CalendarSpec, Event, Flight, days_after, instant, period_length_s, zone,
};
use fogg_model::{Channel, Model};

/// The longest window a calendar may span: its intensity is kept per
/// minute.
const MAX_DAYS: f64 = 400.0;

/// The window's start and end, in Unix seconds, from `start` and either
/// `end` or `days`; `None` (with problems recorded) for a window that is
/// missing an end, ends before it starts, or is too long.
fn window(cx: &mut Cx, c: &RawCalendar, span: &Range<usize>, tz: &TimeZone) -> Option<(i64, i64)> {
    let start_s = at_instant(cx, "calendar.start", &c.start, tz)?;
    let end_s = match (&c.end, &c.days) {
        (Some(end), None) => at_instant(cx, "calendar.end", end, tz)?,
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
            match days_after(start_s, d as i64, tz) {
                Ok(end) => end,
                Err(e) => {
                    cx.problem(Some(&days.span()), "calendar.days", e.to_string(), "give a shorter window");
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
                Some(span),
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
    Some((start_s, end_s))
}

/// The calendar of `[calendar]`, or `None` (with problems recorded).
pub(super) fn compile_calendar(
    cx: &mut Cx,
    raw: &Spanned<RawCalendar>,
    meta: &RawMeta,
    channels: &[Channel],
) -> Option<Calendar> {
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
                e.to_string(),
                "write \"UTC\", an offset such as \"+01:00\" or \"-05:00\", or an IANA name such as \"Europe/Paris\"",
            );
            None
        }
    }?;
    let (start_s, end_s) = window(cx, c, &span, &tz)?;
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
    let mut flights = Vec::with_capacity(c.flights.len());
    for (k, f) in c.flights.iter().enumerate() {
        match flight(cx, k, f, channels, &tz, start_s, end_s) {
            Some(f) => flights.push(f),
            None => ok = false,
        }
    }
    ok &= no_overlap(cx, c, &flights);
    let adstock = adstock(cx, c, channels);
    ok &= adstock.is_some();
    let adstock = adstock.unwrap_or_default();
    ok.then(|| {
        Calendar::new(CalendarSpec {
            start_s,
            end_s,
            timezone,
            zone: tz,
            hourly,
            weekly,
            events,
            period_s,
            flights,
            adstock,
        })
    })
}

fn at_instant(cx: &mut Cx, key: &str, when: &Spanned<RawWhen>, tz: &jiff::tz::TimeZone) -> Option<i64> {
    match instant(&when.get_ref().text(), tz) {
        Ok(s) => Some(s),
        Err(e) => {
            cx.problem(
                Some(&when.span()),
                key,
                e.to_string(),
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

/// The channel a flight or adstock names: it must exist and declare
/// spend.
fn spend_channel(
    cx: &mut Cx,
    key: &str,
    id: &str,
    span: &std::ops::Range<usize>,
    channels: &[Channel],
) -> Option<usize> {
    let Some(i) = channels.iter().position(|c| c.id == id) else {
        cx.problem(
            Some(span),
            key,
            format!("unknown channel '{id}'"),
            fogg_core::suggest::did_you_mean(id, channels.iter().map(|c| c.id.as_str())),
        );
        return None;
    };
    match channels[i].spend {
        None => {
            cx.problem(
                Some(span),
                key,
                format!("channel '{id}' declares no spend, so its spend cannot vary over the window"),
                format!("add `spend = {{ baseline = …, half_saturation = …, drives = \"acquisition\" }}` to channel '{id}'"),
            );
            None
        }
        Some(_) => Some(i),
    }
}

fn flight(
    cx: &mut Cx,
    k: usize,
    f: &RawFlight,
    channels: &[Channel],
    tz: &jiff::tz::TimeZone,
    start_s: i64,
    end_s: i64,
) -> Option<Flight> {
    let key = |field: &str| format!("calendar.flight[{k}].{field}");
    let channel = spend_channel(cx, &key("channel"), f.channel.get_ref(), &f.channel.span(), channels)?;
    let from_s = at_instant(cx, &key("from"), &f.from, tz)?;
    let to_s = at_instant(cx, &key("to"), &f.to, tz)?;
    if to_s <= from_s {
        cx.problem(
            Some(&f.to.span()),
            key("to"),
            format!(
                "the flight ends ({}) before it starts ({})",
                f.to.get_ref().text(),
                f.from.get_ref().text()
            ),
            "give a `to` after `from` (the end is excluded)",
        );
        return None;
    }
    if from_s < start_s || to_s > end_s {
        cx.problem(
            Some(&f.from.span()),
            key("from"),
            format!(
                "the flight from {} to {} is not inside the window",
                f.from.get_ref().text(),
                f.to.get_ref().text()
            ),
            "keep flights inside [start, end) of [calendar], or widen the window",
        );
        return None;
    }
    let spend = *f.spend.get_ref();
    if !(spend.is_finite() && spend >= 0.0) {
        cx.problem(
            Some(&f.spend.span()),
            key("spend"),
            format!("spend = {spend}: a flight's spend is per period, like the channel's baseline"),
            "give a spend of 0 or more, e.g. twice the baseline to double it for the flight",
        );
        return None;
    }
    Some(Flight { channel, channel_id: f.channel.get_ref().clone(), from_s, to_s, spend })
}

/// Flights of one channel must not overlap: which spend would hold?
fn no_overlap(cx: &mut Cx, c: &RawCalendar, flights: &[Flight]) -> bool {
    for (i, a) in flights.iter().enumerate() {
        for (j, b) in flights.iter().enumerate().skip(i + 1) {
            if a.channel == b.channel && a.from_s < b.to_s && b.from_s < a.to_s {
                cx.problem(
                    Some(&c.flights[j].from.span()),
                    format!("calendar.flight[{j}].from"),
                    format!("flights {i} and {j} of channel '{}' overlap, so its spend would be two things at once", a.channel_id),
                    "end one flight where the other starts, or merge them",
                );
                return false;
            }
        }
    }
    true
}

/// `adstock = { social = "2d" }`: the half-life of each channel's
/// carry-over.
fn adstock(cx: &mut Cx, c: &RawCalendar, channels: &[Channel]) -> Option<Vec<Adstock>> {
    let Some(raw) = &c.adstock else { return Some(Vec::new()) };
    let span = raw.span();
    let mut out = Vec::new();
    let mut ok = true;
    for (id, half_life) in raw.get_ref() {
        let key = format!("calendar.adstock.{id}");
        let Some(channel) = spend_channel(cx, &key, id, &span, channels) else {
            ok = false;
            continue;
        };
        match fogg_core::units::parse_duration(half_life) {
            Ok(s) if s > 0.0 && s.is_finite() => {
                out.push(Adstock { channel, channel_id: id.clone(), half_life_s: s })
            }
            _ => {
                cx.problem(
                    Some(&span),
                    key,
                    format!("half-life '{half_life}' is not a duration greater than 0"),
                    "write the carry-over's half-life, e.g. \"2d\" or \"12h\"",
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// Checks that the baseline's chain can take its flights: an incremental
/// channel's flight must not need more of a row's exit than it has. The
/// problem points at the flight in force when it first happens.
pub(super) fn check_flights(cx: &mut Cx, calendar: &Calendar, raw: &Spanned<RawCalendar>, model: &Model) {
    let Err(e) = fogg_engine::forecast::Flighting::new(model, &model.baseline(), calendar) else { return };
    let at_s = calendar.start_s + e.minute as i64 * 60;
    let flights = &raw.get_ref().flights;
    let in_force = calendar
        .flights
        .iter()
        .enumerate()
        .filter(|(_, f)| f.channel == e.channel_index)
        .min_by_key(|(_, f)| (at_s < f.from_s || at_s >= f.to_s, f.from_s))
        .map(|(k, _)| k);
    let (span, key) = match in_force {
        Some(k) => (Some(flights[k].spend.span()), format!("calendar.flight[{k}].spend")),
        None => (None, "calendar".to_owned()),
    };
    cx.problem(span.as_ref(), key, e.problem(), e.fix());
}
