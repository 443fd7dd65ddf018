//! The document of a load result.

use super::doc::{Doc, Section, Table};
use super::fmt::{int, money, num, pct};
use crate::load::StopReason;
use crate::load::recorder::ErrorClass;
use crate::result::{ErrorCounts, LoadResult, Percentiles};
use crate::threshold::{verdict_line, with_unit};

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| if v >= 100.0 { num(v, 0) } else { num(v, 1) })
}

fn errors_text(e: &ErrorCounts) -> String {
    let parts: Vec<String> = ErrorClass::ALL
        .iter()
        .filter(|c| e.of(**c) > 0)
        .map(|c| format!("{} {}", int(e.of(*c)), c.short_name()))
        .collect();
    if parts.is_empty() { "0".into() } else { parts.join(", ") }
}

fn latency_row(name: &str, requests: u64, errors: &ErrorCounts, p: &Percentiles) -> Vec<String> {
    vec![
        name.to_owned(),
        int(requests),
        errors_text(errors),
        ms(p.p50),
        ms(p.p90),
        ms(p.p95),
        ms(p.p99),
        ms(p.max),
    ]
}

/// Why arrivals stopped, in words.
pub fn stop_text(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Duration => "duration",
        StopReason::Customers => "customer count",
        StopReason::Interrupted => "signal",
        StopReason::Aborted => "error rate (hard failure)",
    }
}

/// Lays out a [`LoadResult`] for people.
pub fn document(r: &LoadResult) -> Doc {
    let cur = &r.scenario.currency;
    let lines = vec![
        format!("scenario {} · target {} · seed {}", r.scenario.source, r.target, r.seed),
        format!(
            "{} customers in {:.1} s ({:.1}/s{}) · {} requests ({:.1}/s) · stopped by {}",
            int(r.customers),
            r.duration_s,
            r.achieved_arrival_rate,
            r.target_arrival_rate.map_or(String::new(), |t| format!(", asked {t:.1}/s")),
            int(r.requests),
            r.requests_per_s,
            stop_text(r.stopped_by)
        ),
    ];

    let mut business = Table::new(&["business outcome", "value"]);
    business.row(vec!["conversions achieved".into(), int(r.conversions)]);
    business.row(vec!["conversions with instant responses".into(), int(r.counterfactual_conversions)]);
    business.row(vec!["lost to latency".into(), int(r.conversions_lost_to_latency)]);
    business.row(vec!["lost to errors".into(), int(r.conversions_lost_to_errors)]);
    business.row(vec!["share of conversions lost".into(), pct(r.conversions_lost_share)]);
    business.row(vec!["revenue".into(), money(r.revenue, cur)]);
    business.row(vec!["revenue at risk".into(), money(r.revenue_at_risk, cur)]);
    business.row(vec!["customers who left on a slow page".into(), int(r.abandoned_latency)]);
    business.row(vec!["customers who left on an error".into(), int(r.abandoned_errors)]);

    let header = ["", "requests", "errors", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"];
    let mut latency = Table::new(&header).text_column(2);
    latency.header[0] = "latency".into();
    latency.row(latency_row("from intended send time", r.requests, &r.errors, &r.latency_ms));
    let none = ErrorCounts::default();
    latency.row(latency_row("service time (from actual send)", r.requests, &none, &r.service_time_ms));

    let mut requests = Table::new(&header).text_column(2);
    requests.header[0] = "request".into();
    for q in &r.by_request {
        requests.row(latency_row(&q.name, q.requests, &q.errors, &q.latency_ms));
    }

    let mut load = Table::new(&["run", "value"]);
    load.row(vec!["arrivals".into(), int(r.arrivals)]);
    load.row(vec!["arrivals dropped (max_in_flight busy)".into(), int(r.arrivals_dropped)]);
    load.row(vec!["customers unfinished at the end".into(), int(r.customers_unfinished)]);
    load.row(vec!["error rate".into(), pct(r.error_rate)]);

    let mut sections = Vec::new();
    if !r.thresholds.is_empty() {
        let mut checks = Table::new(&["threshold", "observed", "limit", "result"]).text_column(3);
        for t in &r.thresholds {
            checks.row(vec![
                t.key.clone(),
                with_unit(t.observed, t.unit),
                format!("{} {}", t.op.symbol(), with_unit(Some(t.limit), t.unit)),
                if t.passed { "pass".into() } else { "FAIL".into() },
            ]);
        }
        sections.push(Section {
            title: "Thresholds".into(),
            table: checks,
            notes: vec![verdict_line(&r.thresholds)],
        });
    }
    sections.extend([
        Section {
            title: "Business outcome".into(),
            table: business,
            notes: vec![
                "each customer's journey is fixed by the seed, so losses are paired customer by customer"
                    .into(),
            ],
        },
        Section {
            title: "Latency".into(),
            table: latency,
            notes: vec![
                "measured from the intended send time (arrival, or previous response + think time)".into(),
            ],
        },
        Section { title: "Requests".into(), table: requests, notes: vec![] },
        Section { title: "Run".into(), table: load, notes: vec![] },
    ]);
    if r.segments.len() > 1 {
        let mut seg =
            Table::new(&["segment", "customers", "requests", "errors", "p99 ms", "conversions", "lost"]);
        for s in &r.segments {
            seg.row(vec![
                s.segment.clone(),
                int(s.customers),
                int(s.requests),
                int(s.errors),
                ms(s.latency_ms.p99),
                int(s.conversions),
                int(s.conversions_lost_to_latency + s.conversions_lost_to_errors),
            ]);
        }
        sections.push(Section { title: "Segments".into(), table: seg, notes: vec![] });
    }
    Doc { title: format!("fogg load — {}", r.scenario.name), lines, sections }
}

/// The thresholds, business outcome and latency: what a pull-request
/// comment or a CI job summary needs.
pub fn summary(r: &LoadResult) -> Doc {
    let mut doc = document(r);
    doc.sections.retain(|s| matches!(s.title.as_str(), "Thresholds" | "Business outcome" | "Latency"));
    doc
}
