//! `fogg fit` from an event log ([`crate::events`]): each customer's
//! touches, in time order, make one journey; a row with a conversion value
//! is a conversion.

use std::collections::HashMap;

use super::Counts;
use crate::events::EventLog;

/// Reads an event log's text; `source` names it in the fitted scenario.
pub fn read(text: &[u8], separator: u8, source: &str) -> anyhow::Result<Counts> {
    let log = EventLog::read(text, separator)?;
    let mut counts = Counts { source: source.to_owned(), ..Counts::default() };
    // States in order of first appearance in the file.
    let mut states = Vec::with_capacity(log.events.len());
    for e in &log.events {
        let stage = match &e.stage {
            Some(s) => s.clone(),
            None if e.value.is_some() => "purchase".to_owned(),
            None => "touch".to_owned(),
        };
        let state = counts
            .state(&stage, &e.channel, e.value.is_some())
            .map_err(|err| anyhow::anyhow!("line {}: {err}", e.line))?;
        counts.rows += 1;
        states.push(state);
    }
    let mut seq = Vec::new();
    for rows in &log.customers {
        seq.clear();
        for (k, &i) in rows.iter().enumerate() {
            let (e, state) = (&log.events[i], states[i]);
            seq.push(state);
            if let Some(&next) = rows.get(k + 1) {
                counts.dwell_s[state].push(log.events[next].at_s - e.at_s);
            }
            if let Some(v) = e.value {
                counts.values[state].push(v);
            }
        }
        counts.journey(&seq, 1.0);
    }
    // Stages in funnel order: by the mean position at which they are seen.
    let mut position: HashMap<&str, (f64, f64)> = HashMap::new();
    for rows in &log.customers {
        for (k, &i) in rows.iter().enumerate() {
            let p = position.entry(counts.states[states[i]].stage.as_str()).or_insert((0.0, 0.0));
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

#[cfg(test)]
mod tests {
    use super::*;

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
