//! Campaign time: the window a campaign runs in, its time zone, and how
//! many customers arrive when (an hour-of-day profile, a day-of-week
//! profile, and events whose boost decays), integrated exactly minute by
//! minute.
//!
//! The arrival rate at instant t is
//! r(t) = r₀ · h(hour of t) · w(weekday of t) · (1 + Σₖ (peakₖ − 1) · 2^(−(t − atₖ)/halfₖ) [t ≥ atₖ]),
//! local time in the calendar's zone, with h and w normalised to mean 1
//! and r₀ the scenario's customers per period over the period's length.
//! Events add their boosts (two sends on one day add up, they do not
//! multiply). Each minute's expected arrivals are the exact integral of
//! r over it (the profiles are constant within a minute of a zone whose
//! offsets are whole minutes, the decay integrates in closed form).

use jiff::tz::TimeZone;

/// Seconds in a minute, the grain of the intensity table.
const MINUTE: i64 = 60;

/// A named burst of arrivals: a launch, a newsletter send, a sale.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its name in reports.
    pub name: String,
    /// When it starts, Unix seconds.
    pub at_s: i64,
    /// Arrivals are multiplied by this at `at_s` (1 + the boost).
    pub peak: f64,
    /// The boost halves every this many seconds.
    pub half_life_s: f64,
}

/// A campaign window and its arrival intensity.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// First instant of the window, Unix seconds.
    pub start_s: i64,
    /// End of the window (excluded), Unix seconds.
    pub end_s: i64,
    /// The zone as written (`UTC`, `+01:00`, `Europe/Paris`).
    pub timezone: String,
    zone: TimeZone,
    /// Hour-of-day weights (local time), normalised to mean 1.
    pub hourly: [f64; 24],
    /// Day-of-week weights, Monday first, normalised to mean 1.
    pub weekly: [f64; 7],
    /// The events, in time order.
    pub events: Vec<Event>,
    /// Length of the scenario's period in seconds.
    pub period_s: f64,
    /// Channels whose spend changes over the window, in time order.
    pub flights: Vec<Flight>,
    /// Channels whose spend carries over.
    pub adstock: Vec<Adstock>,
    /// ∫ r(t)/r₀ dt over each minute of the window (seconds at the base
    /// rate).
    table: MinuteTable,
}

/// A channel's spend over part of the window (`[[calendar.flight]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Flight {
    /// Index of the channel in the scenario.
    pub channel: usize,
    /// The channel's id.
    pub channel_id: String,
    /// First instant, Unix seconds.
    pub from_s: i64,
    /// End (excluded), Unix seconds.
    pub to_s: i64,
    /// Spend per period while the flight runs (the channel's baseline
    /// outside its flights).
    pub spend: f64,
}

/// A channel whose effect carries over: its effective spend follows its
/// spend with a geometric decay of this half-life.
#[derive(Debug, Clone, PartialEq)]
pub struct Adstock {
    /// Index of the channel in the scenario.
    pub channel: usize,
    /// The channel's id.
    pub channel_id: String,
    /// Half-life of the carry-over, seconds.
    pub half_life_s: f64,
}

/// Weights of the minutes of a window (expected arrivals, up to a
/// factor), with their running sums: arrivals drawn from it, and counted
/// between two instants, exactly at minute boundaries and evenly within a
/// minute.
#[derive(Debug, Clone, Default)]
pub struct MinuteTable {
    minutes: Vec<f64>,
    cumulative: Vec<f64>,
    length_s: f64,
}

impl MinuteTable {
    /// The table of `minutes` weights over a window of `length_s` seconds
    /// (the last minute may be cut short).
    pub fn new(minutes: Vec<f64>, length_s: f64) -> MinuteTable {
        let cumulative = minutes
            .iter()
            .scan(0.0, |sum, &x| {
                *sum += x;
                Some(*sum)
            })
            .collect();
        MinuteTable { minutes, cumulative, length_s }
    }

    /// Each minute's weight.
    pub fn weights(&self) -> &[f64] {
        &self.minutes
    }

    /// The sum of the weights.
    pub fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// The weight from the start to `t_s` seconds after it.
    pub fn before(&self, t_s: f64) -> f64 {
        let t = t_s.clamp(0.0, self.length_s);
        let m = ((t / MINUTE as f64).floor() as usize).min(self.minutes.len());
        let whole = if m == 0 { 0.0 } else { self.cumulative[m - 1] };
        let part = self.minutes.get(m).map_or(0.0, |x| x * (t - m as f64 * MINUTE as f64) / MINUTE as f64);
        whole + part
    }

    /// The instant (seconds after the start) of quantile `u` in [0, 1) of
    /// the weight: the minute exactly, uniform within it.
    pub fn at(&self, u: f64) -> f64 {
        let target = u.clamp(0.0, 1.0) * self.total();
        let m = self.cumulative.partition_point(|&c| c <= target).min(self.minutes.len().saturating_sub(1));
        let before = if m == 0 { 0.0 } else { self.cumulative[m - 1] };
        let within = if self.minutes[m] > 0.0 { (target - before) / self.minutes[m] } else { 0.5 };
        ((m as f64 + within.clamp(0.0, 1.0)) * MINUTE as f64).min(self.length_s)
    }

    /// The `width` consecutive minutes with the most weight: the first
    /// one's index and their weight.
    pub fn busiest(&self, width: usize) -> (usize, f64) {
        let w = width.clamp(1, self.minutes.len().max(1));
        let at = |m: usize| if m == 0 { 0.0 } else { self.cumulative[m - 1] };
        let (mut best, mut best_m) = (f64::NEG_INFINITY, 0);
        for m in 0..=self.minutes.len().saturating_sub(w) {
            let sum = at(m + w) - at(m);
            if sum > best {
                (best, best_m) = (sum, m);
            }
        }
        (best_m, best.max(0.0))
    }
}

/// What a calendar is built from, checked by the scenario compiler.
#[derive(Debug, Clone)]
pub struct CalendarSpec {
    /// First instant, Unix seconds.
    pub start_s: i64,
    /// End (excluded), Unix seconds; after `start_s`.
    pub end_s: i64,
    /// The zone as written.
    pub timezone: String,
    /// The zone.
    pub zone: TimeZone,
    /// 24 non-negative weights, not all 0.
    pub hourly: [f64; 24],
    /// 7 non-negative weights, Monday first, not all 0.
    pub weekly: [f64; 7],
    /// Events inside the window.
    pub events: Vec<Event>,
    /// The period's length in seconds.
    pub period_s: f64,
    /// Flights, inside the window, not overlapping per channel.
    pub flights: Vec<Flight>,
    /// Carry-over per channel.
    pub adstock: Vec<Adstock>,
}

impl Calendar {
    /// The calendar of a checked spec, its minutes integrated.
    pub fn new(spec: CalendarSpec) -> Calendar {
        let mean = |w: &[f64]| w.iter().sum::<f64>() / w.len() as f64;
        let (h, d) = (mean(&spec.hourly), mean(&spec.weekly));
        let hourly = spec.hourly.map(|x| x / h);
        let weekly = spec.weekly.map(|x| x / d);
        let mut events = spec.events;
        events.sort_by_key(|e| e.at_s);
        let n = ((spec.end_s - spec.start_s) + MINUTE - 1) / MINUTE;
        let mut minutes = Vec::with_capacity(n as usize);
        for m in 0..n {
            let a = spec.start_s + m * MINUTE;
            let b = (a + MINUTE).min(spec.end_s);
            let local = a + i64::from(
                spec.zone.to_offset(jiff::Timestamp::from_second(a).expect("in range")).seconds(),
            );
            let (day, second_of_day) = (local.div_euclid(86_400), local.rem_euclid(86_400));
            // 1970-01-01 was a Thursday: Monday-first index 3.
            let weekday = (day + 3).rem_euclid(7) as usize;
            let profile = hourly[(second_of_day / 3600) as usize] * weekly[weekday];
            let boost: f64 = events.iter().map(|e| boost_integral(e, a, b)).sum();
            minutes.push(profile * ((b - a) as f64 + boost));
        }
        let mut flights = spec.flights;
        flights.sort_by_key(|f| (f.from_s, f.channel));
        Calendar {
            start_s: spec.start_s,
            end_s: spec.end_s,
            timezone: spec.timezone,
            zone: spec.zone,
            hourly,
            weekly,
            events,
            period_s: spec.period_s,
            flights,
            adstock: spec.adstock,
            table: MinuteTable::new(minutes, (spec.end_s - spec.start_s) as f64),
        }
    }

    /// The window's length in seconds.
    pub fn length_s(&self) -> f64 {
        (self.end_s - self.start_s) as f64
    }

    /// Expected arrivals over the window for `customers_per_period`
    /// customers per period at the base rate.
    pub fn customers(&self, customers_per_period: f64) -> f64 {
        customers_per_period / self.period_s * self.table.total()
    }

    /// ∫ r/r₀ over each minute of the window.
    pub fn minutes(&self) -> &MinuteTable {
        &self.table
    }

    /// Spend per period of channel `channel` in each minute of the
    /// window: `baseline` outside its flights, the flights' spend inside
    /// them, all times `factor` (a strategy's change to the channel's
    /// level).
    pub fn spend_by_minute(&self, channel: usize, baseline: f64, factor: f64) -> Vec<f64> {
        let n = self.table.weights().len();
        let mut spend = vec![baseline * factor; n];
        for f in self.flights.iter().filter(|f| f.channel == channel) {
            let from = ((f.from_s - self.start_s) / MINUTE).max(0) as usize;
            let to = (((f.to_s - self.start_s) + MINUTE - 1) / MINUTE).max(0) as usize;
            for s in &mut spend[from.min(n)..to.min(n)] {
                *s = f.spend * factor;
            }
        }
        spend
    }

    /// The effective spend of channel `channel` given its spend per
    /// minute: with adstock, each minute keeps 2^(−1 min / half-life) of
    /// the effect so far and adds the rest from its own spend (a steady
    /// spend is its own effective spend, and the window starts in the
    /// steady state of `before`); without, the spend itself.
    pub fn effective_spend(&self, channel: usize, spend: &[f64], before: f64) -> Vec<f64> {
        let Some(a) = self.adstock.iter().find(|a| a.channel == channel) else { return spend.to_vec() };
        let keep = (-std::f64::consts::LN_2 * MINUTE as f64 / a.half_life_s).exp();
        let mut effect = before;
        spend
            .iter()
            .map(|s| {
                effect = effect * keep + s * (1.0 - keep);
                effect
            })
            .collect()
    }

    /// Local midnights from the day of the start to past the end, Unix
    /// seconds, with each day's date (`2026-11-27`).
    pub fn days(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let start = jiff::Timestamp::from_second(self.start_s)
            .expect("in range")
            .to_zoned_datetime(self.zone.clone());
        let Ok(mut day) = start.start_of_day() else { return out };
        while day.timestamp().as_second() < self.end_s {
            out.push((day.date().to_string(), day.timestamp().as_second()));
            match day.tomorrow().and_then(|d| d.start_of_day()) {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        out
    }

    /// `t_s` seconds after the start as local time (`2026-11-27 20:00`).
    pub fn local(&self, t_s: f64) -> String {
        let ts = jiff::Timestamp::from_second(self.start_s + t_s.floor() as i64).expect("in range");
        ts.to_zoned_datetime(self.zone.clone()).strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// Unix second `unix_s` as local time in the zone named `zone`
/// (`2026-12-07 20:00`); in UTC when the name is not a zone.
pub fn local_time(unix_s: i64, zone_name: &str) -> String {
    let tz = zone(zone_name).unwrap_or(TimeZone::UTC);
    match jiff::Timestamp::from_second(unix_s) {
        Ok(ts) => ts.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => unix_s.to_string(),
    }
}

/// ∫ (peak − 1) · 2^(−(t − at)/half) over [a, b] ∩ [at, ∞).
fn boost_integral(e: &Event, a: i64, b: i64) -> f64 {
    let a = a.max(e.at_s);
    if b <= a {
        return 0.0;
    }
    let k = std::f64::consts::LN_2 / e.half_life_s;
    let decay = |t: i64| (-k * (t - e.at_s) as f64).exp();
    (e.peak - 1.0) / k * (decay(a) - decay(b))
}

/// Why a zone, a date or a span of days could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// `+HH:MM` or `-HH:MM` with hours past 18 or minutes past 59.
    #[error("'{0}' is not an offset")]
    Offset(String),
    /// A name the tz database does not have.
    #[error("'{0}' is not a time zone fogg knows")]
    Zone(String),
    /// Neither a date nor a date-time.
    #[error("'{0}' is not a date (2026-11-23) or date-time (2026-11-23T09:00)")]
    Date(String),
    /// A local time the zone skips, or one out of range.
    #[error("'{text}' has no time in this zone: {reason}")]
    NoTime {
        /// The date or date-time as written.
        text: String,
        /// What the time zone database said.
        reason: String,
    },
    /// An instant out of the representable range.
    #[error("{days} days after the start: {reason}")]
    OutOfRange {
        /// The days added.
        days: i64,
        /// What the time zone database said.
        reason: String,
    },
}

/// A zone from its name: `UTC`, a fixed offset `+01:00` / `-05:30`, or an
/// IANA name (`Europe/Paris`), from the tz database built into fogg.
pub fn zone(name: &str) -> Result<TimeZone, CalendarError> {
    let fixed = |sign: i32, rest: &str| -> Option<TimeZone> {
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 18 && m < 60).then_some(())?;
        jiff::tz::Offset::from_seconds(sign * (h * 3600 + m * 60)).ok().map(TimeZone::fixed)
    };
    match name.trim() {
        "UTC" | "Z" | "utc" => Ok(TimeZone::UTC),
        s if s.starts_with('+') => fixed(1, &s[1..]).ok_or_else(|| CalendarError::Offset(s.to_owned())),
        s if s.starts_with('-') => fixed(-1, &s[1..]).ok_or_else(|| CalendarError::Offset(s.to_owned())),
        s => TimeZone::get(s).map_err(|_| CalendarError::Zone(s.to_owned())),
    }
}

/// Unix seconds of a date (`2026-11-23`, midnight) or date-time
/// (`2026-11-23T09:00`, `2026-11-23 09:00:30`) in `zone`.
pub fn instant(text: &str, zone: &TimeZone) -> Result<i64, CalendarError> {
    let text = text.trim();
    let civil = match text.parse::<jiff::civil::DateTime>() {
        Ok(dt) => dt,
        Err(_) => text
            .parse::<jiff::civil::Date>()
            .map_err(|_| CalendarError::Date(text.to_owned()))?
            .at(0, 0, 0, 0),
    };
    civil
        .to_zoned_datetime(zone.clone())
        .map(|z| z.timestamp().as_second())
        .map_err(|e| CalendarError::NoTime { text: text.to_owned(), reason: e.to_string() })
}

/// The instant `days` local calendar days after `start_s` in `zone` (a
/// day of a daylight-saving change is 23 or 25 hours long).
pub fn days_after(start_s: i64, days: i64, zone: &TimeZone) -> Result<i64, CalendarError> {
    use jiff::ToSpan;
    let out_of_range = |e: jiff::Error| CalendarError::OutOfRange { days, reason: e.to_string() };
    let start = jiff::Timestamp::from_second(start_s).map_err(out_of_range)?;
    start
        .to_zoned_datetime(zone.clone())
        .checked_add(days.days())
        .map(|z| z.timestamp().as_second())
        .map_err(out_of_range)
}

/// The length of a period named `name` in seconds, for the names whose
/// length is known (a month is a twelfth of 365.25 days).
pub fn period_length_s(name: &str) -> Option<f64> {
    let day = 86_400.0;
    Some(match name.trim().to_lowercase().as_str() {
        "hour" => 3600.0,
        "day" => day,
        "week" => 7.0 * day,
        "month" => 365.25 / 12.0 * day,
        "quarter" => 365.25 / 4.0 * day,
        "year" => 365.25 * day,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected arrivals between `a_s` and `b_s` seconds after the start
    /// for `per_period` customers per period.
    fn between(c: &Calendar, a_s: f64, b_s: f64, per_period: f64) -> f64 {
        per_period / c.period_s * (c.minutes().before(b_s) - c.minutes().before(a_s))
    }

    /// The busiest `minutes` of the window: its start (seconds after the
    /// window's) and its expected arrivals for `per_period`.
    fn busiest(c: &Calendar, minutes: usize, per_period: f64) -> (f64, f64) {
        let (m, weight) = c.minutes().busiest(minutes);
        (m as f64 * 60.0, weight * per_period / c.period_s)
    }

    fn spec(start: &str, days: i64, zone_name: &str) -> CalendarSpec {
        let zone = zone(zone_name).expect("zone");
        let start_s = instant(start, &zone).expect("date");
        CalendarSpec {
            start_s,
            end_s: start_s + days * 86_400,
            timezone: zone_name.into(),
            zone,
            hourly: [1.0; 24],
            weekly: [1.0; 7],
            events: Vec::new(),
            period_s: 86_400.0,
            flights: Vec::new(),
            adstock: Vec::new(),
        }
    }

    #[test]
    fn a_flat_week_brings_a_period_per_day() {
        let c = Calendar::new(spec("2026-11-23", 7, "UTC"));
        assert!((c.customers(1000.0) - 7000.0).abs() < 1e-6);
        assert!((between(&c, 0.0, 3600.0, 1000.0) - 1000.0 / 24.0).abs() < 1e-9);
        assert!((c.minutes().at(0.5) - 3.5 * 86_400.0).abs() < 1e-6);
        assert_eq!(c.days().len(), 7);
        assert_eq!(c.days()[0].0, "2026-11-23");
        let (_, hour) = busiest(&c, 60, 1000.0);
        assert!((hour - 1000.0 / 24.0).abs() < 1e-9);
    }

    #[test]
    fn profiles_follow_local_time() {
        // All arrivals at 20:00–21:00 local, on Saturdays.
        let mut s = spec("2026-11-23", 7, "Europe/Paris");
        s.hourly = [0.0; 24];
        s.hourly[20] = 1.0;
        s.weekly = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let c = Calendar::new(s);
        // The mean-1 profiles put a week's 7 periods into that hour.
        assert!((c.customers(1000.0) - 7000.0).abs() < 1e-6);
        // Saturday 2026-11-28 20:00 in Paris: 5 days and 20 hours after
        // the local midnight the window starts at.
        let at = c.start_s + (5 * 24 + 20) * 3600;
        assert_eq!(at, 1_795_892_400, "19:00 UTC");
        let t0 = (at - c.start_s) as f64;
        assert!((between(&c, t0, t0 + 3600.0, 1000.0) - 7000.0).abs() < 1e-6);
        assert_eq!(c.local(c.minutes().at(0.5)), "2026-11-28 20:30");
        let (at, n) = busiest(&c, 60, 1000.0);
        assert_eq!((c.local(at), n.round()), ("2026-11-28 20:00".to_owned(), 7000.0));
    }

    #[test]
    fn an_event_adds_its_decaying_boost_exactly() {
        let mut s = spec("2026-11-23", 7, "UTC");
        let at_s = s.start_s + 86_400;
        s.events.push(Event { name: "send".into(), at_s, peak: 5.0, half_life_s: 3600.0 });
        let c = Calendar::new(s);
        // Extra arrivals: (peak − 1) · half / ln 2 seconds at the base rate.
        let extra = 4.0 * 3600.0 / std::f64::consts::LN_2 * 1000.0 / 86_400.0;
        assert!((c.customers(1000.0) - 7000.0 - extra).abs() < 1e-6, "{}", c.customers(1000.0));
        // Half the boost falls in its first half-life.
        let t0 = 86_400.0;
        let first = between(&c, t0, t0 + 3600.0, 1000.0) - 1000.0 / 24.0;
        assert!((first - extra / 2.0).abs() < 1e-6);
    }

    #[test]
    fn a_day_of_daylight_saving_change_has_its_own_hours() {
        // Paris moved its clocks from 02:00 to 03:00 on 2027-03-28.
        let zone = zone("Europe/Paris").unwrap();
        let start_s = instant("2027-03-28", &zone).unwrap();
        let end_s = days_after(start_s, 1, &zone).unwrap();
        assert_eq!(end_s - start_s, 23 * 3600);
        let c = Calendar::new(CalendarSpec { end_s, ..spec("2027-03-28", 1, "Europe/Paris") });
        assert!((c.customers(1000.0) - 1000.0 * 23.0 / 24.0).abs() < 1e-6);
        // No arrival at 02:00–03:00, which that day does not have.
        assert_eq!(c.local(c.minutes().at(2.5 / 23.0)), "2027-03-28 03:30");
    }

    #[test]
    fn zones_and_dates_parse_or_say_why() {
        assert!(zone("+05:30").is_ok() && zone("-03:00").is_ok() && zone("America/New_York").is_ok());
        assert!(zone("Mars/Olympus").unwrap_err().to_string().contains("not a time zone"));
        assert!(zone("+25:00").is_err());
        let utc = TimeZone::UTC;
        assert_eq!(instant("1970-01-02", &utc), Ok(86_400));
        assert_eq!(instant("1970-01-01T01:00", &utc), Ok(3600));
        assert!(instant("27/11/2026", &utc).unwrap_err().to_string().contains("not a date"));
        assert_eq!(period_length_s("Month"), Some(365.25 / 12.0 * 86_400.0));
        assert_eq!(period_length_s("sprint"), None);
    }
}
