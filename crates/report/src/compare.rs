//! The document of a regression compare.

use super::doc::{Doc, Section, Table};
use super::fmt::num;
use fogg_result::Verdict;
use fogg_result::compare::{Change, CompareResult};

fn value(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "–".into(),
        Some(v) => match unit {
            "ms" => format!("{} ms", if v >= 100.0 { num(v, 0) } else { num(v, 1) }),
            "percent" => format!("{}%", num(v, 2)),
            "per_second" => format!("{}/s", num(v, 1)),
            _ => num(v, 2),
        },
    }
}

fn signed(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "–".into(),
        Some(d) => {
            let text = value(Some(d.abs()), unit);
            let text = if unit == "percent" { text.replace('%', "pp") } else { text };
            format!("{}{text}", if d < 0.0 { "−" } else { "+" })
        }
    }
}

/// One line: how many metrics regressed, and which.
pub fn verdict_line(r: &CompareResult) -> String {
    let regressed: Vec<&str> =
        r.rows.iter().filter(|row| row.change == Change::Regressed).map(|row| row.metric.as_str()).collect();
    match r.verdict {
        Verdict::Pass => format!("PASS: no regression in {} metrics", r.rows.len()),
        Verdict::Fail | Verdict::Incomplete => format!(
            "FAIL: {} of {} metrics regressed: {}",
            regressed.len(),
            r.rows.len(),
            regressed.join(", ")
        ),
    }
}

/// The chart of the HTML report: each judged metric's relative change,
/// against a zero line (a point to the right is higher in the current
/// run, which for latency and errors is worse).
pub fn charts(r: &CompareResult) -> Vec<super::svg::Chart> {
    let rows: Vec<(String, f64, [f64; 2])> = r
        .rows
        .iter()
        .filter(|row| row.change != Change::NotComparable)
        .filter_map(|row| row.relative_change.map(|x| (row.metric.clone(), 100.0 * x, [100.0 * x; 2])))
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    vec![super::svg::Chart::Intervals {
        title: "Relative change, current against baseline".into(),
        value_label: "change (%): right is higher in the current run".into(),
        rows,
    }]
}

/// Lays out a [`CompareResult`] for people.
pub fn document(r: &CompareResult) -> Doc {
    let mut table =
        Table::new(&["metric", "baseline", "current", "change", "relative", "tolerance", "result"])
            .text_column(6);
    for row in &r.rows {
        table.row(vec![
            row.metric.clone(),
            value(row.baseline, &row.unit),
            value(row.current, &row.unit),
            signed(row.difference, &row.unit),
            row.relative_change.map_or("–".into(), |x| {
                format!("{}{}%", if x < 0.0 { "−" } else { "+" }, num(100.0 * x.abs(), 1))
            }),
            row.tolerance.clone(),
            match row.change {
                Change::Same => "ok".into(),
                Change::Improved => "improved".into(),
                Change::Regressed => "REGRESSED".into(),
                Change::NotComparable => "not comparable".into(),
            },
        ]);
    }
    let mut notes = vec![format!(
        "latency changes under {} ms are never regressions",
        fogg_result::compare::LATENCY_FLOOR_MS
    )];
    notes.extend(r.notes.iter().cloned());
    if r.rows.iter().any(|row| row.change == Change::NotComparable) {
        notes.push(format!(
            "not comparable: the metric is missing from one result, or a percentile has too few requests behind it to be judged (percentile q needs {} / (1 − q) requests in both runs: 1,000 for p99), so it would move by chance",
            fogg_result::compare::SAMPLES_PER_TAIL
        ));
    }
    Doc {
        title: format!("fogg compare — {}", r.header.scenario.name),
        lines: vec![format!("baseline {} · current {}", r.baseline, r.current), verdict_line(r)],
        sections: vec![Section { title: "Changes".into(), table, notes }],
    }
}
