//! The time axis of a forecast: bins of the chosen resolution over the
//! window, and the local days they fall on.

use fogg_core::calendar::Calendar;

/// Seconds in a minute, the grain of the day lookup.
const MINUTE: f64 = 60.0;

/// Bins of `resolution_s` seconds from the window's start, and its local
/// days.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Width of a bin in seconds.
    pub resolution_s: u32,
    /// Bins covering the window (the last one may be shorter).
    pub bins: usize,
    /// The window's length in seconds.
    pub length_s: f64,
    /// Local days touched by the window: the date and its start in
    /// seconds from the window's start (the first one may be negative).
    pub days: Vec<(String, f64)>,
    /// The day each minute of the window starts in.
    day_of_minute: Vec<u16>,
}

impl Grid {
    /// The grid of `calendar` at `resolution_s` (at least 1).
    pub fn new(calendar: &Calendar, resolution_s: u32) -> Grid {
        let resolution_s = resolution_s.max(1);
        let length_s = calendar.length_s();
        let bins = ((length_s / f64::from(resolution_s)).ceil() as usize).max(1);
        let days: Vec<(String, f64)> =
            calendar.days().into_iter().map(|(date, at)| (date, (at - calendar.start_s) as f64)).collect();
        let minutes = (length_s / MINUTE).ceil() as usize;
        let mut day_of_minute = Vec::with_capacity(minutes);
        let mut day = 0;
        for m in 0..minutes {
            let t = m as f64 * MINUTE;
            while day + 1 < days.len() && days[day + 1].1 <= t {
                day += 1;
            }
            day_of_minute.push(day as u16);
        }
        Grid { resolution_s, bins, length_s, days, day_of_minute }
    }

    /// The bin of `t_s` seconds after the start (the last for the end).
    #[inline]
    pub fn bin(&self, t_s: f64) -> usize {
        ((t_s / f64::from(self.resolution_s)) as usize).min(self.bins - 1)
    }

    /// The local day of `t_s` seconds after the start (inside the window).
    #[inline]
    pub fn day(&self, t_s: f64) -> usize {
        let m = ((t_s / MINUTE) as usize).min(self.day_of_minute.len().saturating_sub(1));
        let d = self.day_of_minute.get(m).map_or(0, |&d| d as usize);
        // A day that starts inside this minute (a window that starts on a
        // second that is not a whole minute).
        if d + 1 < self.days.len() && self.days[d + 1].1 <= t_s { d + 1 } else { d }
    }

    /// Seconds of the window in day `d`.
    pub fn day_length_s(&self, d: usize) -> f64 {
        let from = self.days[d].1.max(0.0);
        let to = self.days.get(d + 1).map_or(self.length_s, |x| x.1.min(self.length_s));
        (to - from).max(0.0)
    }
}
