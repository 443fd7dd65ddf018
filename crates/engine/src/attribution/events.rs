//! Attribution of an event log: each customer's touches, in time order,
//! split after every conversion into paths (the touches up to and with the
//! conversion convert; the touches after the last conversion do not), and
//! the time-decay rule, which needs the time of every touch.

use std::collections::HashMap;

use super::paths::{PathRow, Paths};
use crate::events::EventLog;

/// The time-decay rule's credit: each conversion split over the touches of
/// its path by weight 2^(−age / half-life), age being the time from the
/// touch to the conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeDecay {
    /// The half-life, in seconds.
    pub half_life_s: f64,
    /// Conversions credited to each channel (in the order of
    /// `Paths::channels`); they add up to the conversions.
    pub conversions: Vec<f64>,
    /// Value credited the same way; it adds up to the value.
    pub value: Vec<f64>,
}

/// The paths of an event log, and its time-decay credit with half-life
/// `half_life_s` (above 0). Channels are numbered in order of first
/// appearance in the file.
pub fn paths_of(log: &EventLog, half_life_s: f64) -> (Paths, TimeDecay) {
    let mut channels: HashMap<&str, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let ids: Vec<u32> = log
        .events
        .iter()
        .map(|e| {
            *channels.entry(e.channel.as_str()).or_insert_with(|| {
                names.push(e.channel.clone());
                names.len() as u32 - 1
            })
        })
        .collect();
    let mut decay =
        TimeDecay { half_life_s, conversions: vec![0.0; names.len()], value: vec![0.0; names.len()] };
    let mut rows: Vec<PathRow> = Vec::new();
    let mut index: HashMap<Vec<u32>, usize> = HashMap::new();
    let mut row_of = |path: &[u32], rows: &mut Vec<PathRow>| -> usize {
        *index.entry(path.to_vec()).or_insert_with(|| {
            rows.push(PathRow { channels: path.to_vec(), conversions: 0.0, value: 0.0, nulls: 0.0 });
            rows.len() - 1
        })
    };
    let mut path: Vec<u32> = Vec::new();
    let mut touches: Vec<usize> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    for customer in &log.customers {
        path.clear();
        touches.clear();
        for &i in customer {
            path.push(ids[i]);
            touches.push(i);
            let Some(value) = log.events[i].value else { continue };
            let row = row_of(&path, &mut rows);
            rows[row].conversions += 1.0;
            rows[row].value += value;
            let converted_at = log.events[i].at_s;
            weights.clear();
            weights
                .extend(touches.iter().map(|&t| (-(converted_at - log.events[t].at_s) / half_life_s).exp2()));
            let sum: f64 = weights.iter().sum();
            for (&t, &w) in touches.iter().zip(&weights) {
                decay.conversions[ids[t] as usize] += w / sum;
                decay.value[ids[t] as usize] += value * w / sum;
            }
            path.clear();
            touches.clear();
        }
        if !path.is_empty() {
            let row = row_of(&path, &mut rows);
            rows[row].nulls += 1.0;
        }
    }
    let paths = Paths { channels: names, rows, missing: Vec::new(), nulls_counted: true, notes: Vec::new() };
    (paths, decay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journeys_split_at_conversions_and_credit_decays_with_age() {
        // ann: email (day 0), web (day 7), buys on web (day 7) for 90,
        // then search (day 8) without buying. bob: search, buys in store.
        let log = "customer_id,timestamp,channel,conversion_value\n\
                   ann,2026-03-08,web,\n\
                   ann,2026-03-01,email,\n\
                   bob,2026-03-02,search,\n\
                   ann,2026-03-08,web,90\n\
                   ann,2026-03-09,search,\n\
                   bob,2026-03-02,store,10\n";
        let log = EventLog::read(log.as_bytes(), b',').unwrap();
        let (paths, decay) = paths_of(&log, 7.0 * 86_400.0);
        assert_eq!(paths.channels, ["web", "email", "search", "store"]);
        let row = |p: &[u32]| paths.rows.iter().find(|r| r.channels == p).unwrap();
        assert_eq!(
            (row(&[1, 0, 0]).conversions, row(&[1, 0, 0]).value, row(&[1, 0, 0]).nulls),
            (1.0, 90.0, 0.0)
        );
        assert_eq!(
            (row(&[2]).conversions, row(&[2]).nulls),
            (0.0, 1.0),
            "the touch after the last conversion"
        );
        assert_eq!(row(&[2, 3]).conversions, 1.0);
        // ann's conversion: email is one half-life old (weight 1/2), the
        // two web touches are new (1 each): email 1/5, web 4/5.
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(decay.conversions[1], 0.2) && close(decay.conversions[0], 0.8), "{decay:?}");
        assert!(close(decay.value[1], 18.0) && close(decay.value[0], 72.0), "{decay:?}");
        // bob's: search and store at the same time, half each.
        assert!(close(decay.conversions[2], 0.5) && close(decay.conversions[3], 0.5), "{decay:?}");
        assert!(close(decay.conversions.iter().sum::<f64>(), 2.0));
        assert!(close(decay.value.iter().sum::<f64>(), 100.0));
    }
}
