//! The document of a calibration: each channel's curve before and after,
//! and the lift tests beside what both curves predict.

use super::doc::{Doc, Section, Table};
use super::fmt::{count, num, sigmas};
use super::svg::{Chart, Series, XScale};
use fogg_engine::whatif::calibrate::MISS_SIGMA;
use fogg_result::{CalibrateResult, CalibratedChannel};

/// Lays out a [`CalibrateResult`] for people.
pub fn document(r: &CalibrateResult) -> Doc {
    let tests: usize = r.channels.iter().map(|c| c.tests.len()).sum();
    let mut curves = Table::new(&[
        "channel",
        "drives",
        "half_saturation before",
        "half_saturation after (95%)",
        "slope before",
        "slope after (95%)",
        "χ² / dof",
    ]);
    for c in &r.channels {
        curves.row(vec![
            c.channel.clone(),
            c.drives.name().to_owned(),
            num(c.half_saturation_before, 0),
            format!(
                "{} ({})",
                num(c.half_saturation, 0),
                range(c.half_saturation_low, c.half_saturation_high, 0)
            ),
            num(c.slope_before, 2),
            if c.slope_fitted {
                format!("{} ({})", num(c.slope, 2), range(c.slope_low, c.slope_high, 2))
            } else {
                format!("{} (kept)", num(c.slope, 2))
            },
            format!("{} / {}", num(c.chi_square, 2), c.degrees_of_freedom),
        ]);
    }
    let mut sections = vec![Section {
        title: "Spend curves".into(),
        table: curves,
        notes: vec![
            "95% ranges from the curvature of χ² at the fit; a slope is fitted only where tests at two or more spends constrain it".into(),
            format!("the scenario written keeps every other line as it was, with a '{}' comment above each changed spend", fogg_scenario::rewrite::MARK),
        ],
    }];
    sections.extend(r.channels.iter().map(|c| tests_section(c, &r.period)));
    Doc {
        title: format!("fogg calibrate — {}", r.header.scenario.name),
        lines: vec![
            format!(
                "{} on {} · lifts in conversions per {} · {} customers per {} today · wrote {}",
                count(tests as u64, "lift test"),
                count(r.channels.len() as u64, "channel"),
                r.period,
                num(r.customers_per_period, 0),
                r.period,
                r.output
            ),
            format!("scenario {}", r.header.scenario.source),
        ],
        sections,
    }
}

/// `15,000 – 26,000`, or the bounded side only.
fn range(low: Option<f64>, high: Option<f64>, decimals: usize) -> String {
    match (low, high) {
        (Some(l), Some(h)) => format!("{} – {}", num(l, decimals), num(h, decimals)),
        (Some(l), None) => format!("≥ {} (no upper bound)", num(l, decimals)),
        (None, Some(h)) => format!("≤ {} (no lower bound)", num(h, decimals)),
        (None, None) => "not bounded by the tests".into(),
    }
}

fn tests_section(c: &CalibratedChannel, period: &str) -> Section {
    let mut table = Table::new(&["spend", "lift measured", "± s.e.", "before", "fitted", "residual (σ)"]);
    let mut notes = Vec::new();
    for t in &c.tests {
        table.row(vec![
            format!("{} → {}", num(t.spend_from, 0), num(t.spend_to, 0)),
            signed(t.lift),
            num(t.standard_error, 1),
            signed(t.predicted_before),
            signed(t.predicted),
            sigmas(t.residual),
        ]);
        if t.residual.abs() > MISS_SIGMA {
            notes.push(format!(
                "'{}': the fitted curve misses it by {:.1}σ: the tests disagree with each other or with the scenario's journeys",
                t.test,
                t.residual.abs()
            ));
        }
    }
    notes.push(format!(
        "lifts in conversions per {period}, every other channel at today's spend; before: the scenario's curve, fitted: the calibrated one"
    ));
    if c.half_saturation_high.is_none() && c.half_saturation_low.is_some() {
        notes.push("the tests show no saturation: half_saturation is at least the lower end; a test at a higher spend would bound it".into());
    }
    Section { title: format!("Lift tests: {}", c.channel), table, notes }
}

fn signed(x: f64) -> String {
    let text = num(x, 1);
    if x > 0.0 { format!("+{text}") } else { text }
}

/// The charts of the HTML report: per channel, both response curves, and
/// the tests measured beside predicted.
pub fn charts(r: &CalibrateResult) -> Vec<Chart> {
    let mut charts = Vec::new();
    for c in &r.channels {
        charts.push(Chart::Line {
            title: format!("Conversions as {} spend varies: before and after calibration (exact)", c.channel),
            x_label: format!("{} spend per {} ({})", c.channel, r.period, r.header.scenario.currency),
            y_label: format!("conversions per {}", r.period),
            x_scale: XScale::Linear,
            series: vec![
                Series {
                    name: "scenario's curve".into(),
                    points: c.curve.iter().map(|p| (p.spend, p.conversions_before)).collect(),
                },
                Series {
                    name: "calibrated curve".into(),
                    points: c.curve.iter().map(|p| (p.spend, p.conversions_after)).collect(),
                },
            ],
        });
    }
    let rows: Vec<_> = r.channels.iter().flat_map(|c| c.tests.iter().map(move |t| (c, t))).collect();
    charts.push(Chart::Bars {
        title: "Lift tests: measured, predicted before and after".into(),
        value_label: format!("conversions per {}", r.period),
        categories: rows
            .iter()
            .map(|(c, t)| format!("{} {} → {}", c.channel, num(t.spend_from, 0), num(t.spend_to, 0)))
            .collect(),
        series: vec![
            ("measured".into(), rows.iter().map(|(_, t)| t.lift).collect()),
            ("before".into(), rows.iter().map(|(_, t)| t.predicted_before).collect()),
            ("fitted".into(), rows.iter().map(|(_, t)| t.predicted).collect()),
        ],
    });
    charts
}
