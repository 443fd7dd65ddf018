//! The document of a capacity search.

use super::doc::{Doc, Section, Table};
use super::fmt::{num, pct};
use fogg_result::{CapacityResult, TrialRow};

fn rate(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{}/s", num(v, if v >= 100.0 { 0 } else { 1 })))
}

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| if v >= 100.0 { num(v, 0) } else { num(v, 1) })
}

/// One line: the capacity and, with an expected peak, the headroom.
pub fn verdict_line(r: &CapacityResult) -> String {
    let word = r.verdict.word();
    let capacity = match r.capacity {
        None => format!("every threshold failed already at the start rate of {}", rate(Some(r.start_rate))),
        Some(c) => format!(
            "capacity {}{} customers/s ({} requests/s)",
            if r.capacity_at_least { "at least " } else { "" },
            num(c, 1),
            r.capacity_requests_per_s.map_or("–".into(), |q| num(q, 0))
        ),
    };
    match (r.expected_peak, r.headroom) {
        (Some(peak), Some(h)) if h >= 0.0 => {
            format!("{word}: {capacity}, {} above the expected peak of {}", pct(h), rate(Some(peak)))
        }
        (Some(peak), Some(h)) => {
            format!("{word}: {capacity}, {} short of the expected peak of {}", pct(-h), rate(Some(peak)))
        }
        _ => format!("{word}: {capacity}"),
    }
}

/// "3 trials of 10.0 s from 20/s to 80/s": the rates actually tried,
/// which the search bounds only limit.
fn trials_tried(r: &CapacityResult) -> String {
    let rates = r.trials.iter().map(|t| t.rate);
    let lowest = rates.clone().reduce(f64::min);
    let highest = rates.reduce(f64::max);
    match (r.trials.len(), lowest, highest) {
        (0, ..) => "no trial run".to_owned(),
        (1, Some(only), _) => format!("1 trial of {:.1} s at {}", r.trial_s, rate(Some(only))),
        (n, lowest, highest) => {
            format!("{n} trials of {:.1} s from {} to {}", r.trial_s, rate(lowest), rate(highest))
        }
    }
}

/// Lays out a [`CapacityResult`] for people.
pub fn document(r: &CapacityResult) -> Doc {
    let lines = vec![
        format!("scenario {} · target {} · seed {}", r.header.scenario.source, r.target, r.header.seed),
        format!("thresholds: {}", r.thresholds.join(" · ")),
        format!(
            "{} · search bounds {} to {} · {}",
            trials_tried(r),
            rate(Some(r.start_rate)),
            rate(Some(r.max_rate)),
            verdict_line(r)
        ),
    ];
    let mut summary = Table::new(&["capacity", "value"]);
    summary.row(vec!["highest rate where every threshold held".into(), rate(r.capacity)]);
    summary.row(vec!["requests per second at that rate".into(), rate(r.capacity_requests_per_s)]);
    summary.row(vec!["lowest rate that failed".into(), rate(r.lowest_failing_rate)]);
    if let Some(peak) = r.expected_peak {
        summary.row(vec!["expected peak".into(), rate(Some(peak))]);
        summary.row(vec!["headroom".into(), r.headroom.map_or("–".into(), pct)]);
    }
    let mut trials = Table::new(&[
        "customers/s",
        "arrived/s",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "conversions lost",
        "result",
    ])
    .text_column(7);
    let mut sorted: Vec<_> = r.trials.iter().collect();
    sorted.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    for t in sorted {
        trials.row(vec![
            num(t.rate, 2),
            num(t.achieved_arrival_rate, 1),
            num(t.requests_per_s, 1),
            ms(t.p50_ms),
            ms(t.p99_ms),
            pct(t.error_rate),
            pct(t.conversions_lost_share),
            if t.passed { "pass".into() } else { format!("FAIL {}", t.failed.join("; ")) },
        ]);
    }
    let mut notes = vec![
        "each trial replays the same customers at a constant rate; latency is measured from the intended send time"
            .to_owned(),
    ];
    notes.extend(r.notes.iter().cloned());
    let mut sections = vec![Section { title: "Capacity".into(), table: summary, notes: vec![] }];
    if !r.forecast_peaks.is_empty() {
        sections.push(forecast_section(r));
    }
    sections.push(Section { title: "Trials, by rate".into(), table: trials, notes });
    Doc { title: format!("fogg capacity — {}", r.header.scenario.name), lines, sections }
}

/// Each strategy's forecast peak against the capacity found.
fn forecast_section(r: &CapacityResult) -> Section {
    let mut table = Table::new(&["strategy", "peak customers/s", "median", "at", "headroom", "holds"])
        .text_column(3)
        .text_column(5);
    let mut notes = Vec::new();
    for p in &r.forecast_peaks {
        let holds = p.headroom.is_some_and(|h| h >= 0.0);
        table.row(vec![
            p.strategy.clone(),
            num(p.customers_per_s, 2),
            num(p.median_customers_per_s, 2),
            p.at.clone(),
            p.headroom.map_or("–".into(), pct),
            if holds { "yes".into() } else { "NO".into() },
        ]);
        notes.push(peak_sentence(r, p));
    }
    notes.push(
        "A strategy's peak is the top of the range 95% of the forecast's replicates fall in, for its busiest bin of arrivals."
            .to_owned(),
    );
    Section { title: "Against the forecast".into(), table, notes }
}

/// "push-first brings a peak of 212 customers/s on 2027-11-26 20:00
/// (Europe/Paris); the site held 180/s: 15% short".
fn peak_sentence(r: &CapacityResult, p: &fogg_result::ForecastPeak) -> String {
    let brings =
        format!("{} brings a peak of {} customers/s on {}", p.strategy, num(p.customers_per_s, 2), p.at);
    match (r.capacity, p.headroom) {
        (Some(c), Some(h)) if r.capacity_at_least && h < 0.0 => format!(
            "{brings}; every rate passed up to --max-rate {}/s, below it: raise --max-rate to know",
            num(c, 2)
        ),
        (Some(c), Some(h)) => format!(
            "{brings}; the site held {}{}/s: {}",
            if r.capacity_at_least { "at least " } else { "" },
            num(c, 2),
            if h >= 0.0 { format!("{} to spare", pct(h)) } else { format!("{} short", pct(-h)) }
        ),
        _ => format!("{brings}; the site held no rate tried"),
    }
}

/// The charts of the HTML report: latency and errors against the rate.
pub fn charts(r: &CapacityResult) -> Vec<super::svg::Chart> {
    use super::svg::{Chart, Series, XScale};
    let mut trials: Vec<&fogg_result::TrialRow> = r.trials.iter().collect();
    trials.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let pts = |f: &dyn Fn(&fogg_result::TrialRow) -> Option<f64>| {
        trials.iter().filter_map(|t| f(t).map(|v| (t.rate, v))).collect()
    };
    let mut latency = vec![
        Series { name: "p50".into(), points: pts(&|t| t.p50_ms) },
        Series { name: "p99".into(), points: pts(&|t| t.p99_ms) },
    ];
    // Each latency threshold on all requests as a flat line across the
    // rates tried: where p99 crosses it, the capacity ends.
    let (lowest, highest) = (trials.first().map(|t| t.rate), trials.last().map(|t| t.rate));
    if let (Some(lowest), Some(highest)) = (lowest, highest) {
        for t in r.thresholds.iter().filter_map(|e| fogg_load::threshold::Threshold::parse(e).ok()) {
            if matches!(t.metric, fogg_load::threshold::Metric::Latency(_))
                && t.scope == fogg_load::threshold::Scope::All
            {
                latency.push(Series {
                    name: format!("limit {}", t.expr),
                    points: vec![(lowest, t.limit), (highest, t.limit)],
                });
            }
        }
    }
    vec![
        Chart::Line {
            title: "Latency against the arrival rate".into(),
            x_label: "arrival rate (customers/s)".into(),
            y_label: "latency (ms)".into(),
            x_scale: XScale::Linear,
            series: latency,
        },
        Chart::Line {
            title: "Errors and lost conversions against the arrival rate".into(),
            x_label: "arrival rate (customers/s)".into(),
            y_label: "% of requests / of conversions".into(),
            x_scale: XScale::Linear,
            series: vec![
                Series { name: "error rate".into(), points: pts(&|t| Some(t.error_rate * 100.0)) },
                Series {
                    name: "conversions lost".into(),
                    points: pts(&|t| Some(t.conversions_lost_share * 100.0)),
                },
            ],
        },
    ]
}

/// The line a finished trial prints on standard error.
pub fn trial_line(n: usize, t: &TrialRow) -> String {
    let ms = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.1} ms"));
    format!(
        "trial {n:>2}: {:>8.2} customers/s → {:>8.1} requests/s · p99 {} · errors {:.2}% · {}",
        t.rate,
        t.requests_per_s,
        ms(t.p99_ms),
        100.0 * t.error_rate,
        if t.passed { "pass".to_owned() } else { format!("FAIL: {}", t.failed.join("; ")) }
    )
}
