//! The document of a fit: what was written and how well it fits.

use super::doc::{Doc, Section, Table};
use super::fmt::{count, num, pct, pct_range};
use fogg_result::FitResult;

/// Lays out a [`FitResult`] for people.
pub fn document(r: &FitResult) -> Doc {
    let mut rate = Table::new(&["", "data", "fitted model"]);
    rate.row(vec!["journeys".into(), num(r.journeys, 0), "–".into()]);
    let model_rate = match r.model_conversion_rate_ci95 {
        Some(ci) => format!("{} [{}]", pct(r.model_conversion_rate), pct_range(ci)),
        None => pct(r.model_conversion_rate),
    };
    rate.row(vec!["converting".into(), pct(r.data_conversion_rate), model_rate]);
    let mut lengths = Table::new(&["journey length (states)", "data", "fitted model"]);
    let last = r.lengths.len();
    for row in &r.lengths {
        let label =
            if row.length == last { format!("{} or more", row.length) } else { row.length.to_string() };
        lengths.row(vec![label, pct(row.data), pct(row.model)]);
    }
    Doc {
        title: format!("fogg fit — {}", r.source),
        lines: vec![
            format!(
                "{} · {} · {} on {} · wrote {}",
                count(r.rows, if r.input == "events" { "event-log row" } else { "path-file row" }),
                count(r.journeys.round() as u64, "journey"),
                count(r.states as u64, "state"),
                count(r.channels as u64, "channel"),
                r.header.scenario.source
            ),
            "the scenario holds aggregates only: counts of moves, and distributions of values and times"
                .to_owned(),
        ],
        sections: vec![
            Section {
                title: "Conversion".into(),
                table: rate,
                notes: std::iter::once("fitted model: the exact conversion rate of the chain written".to_owned())
                    .chain(r.intervals.map(|n| {
                        format!(
                            "[95% interval] over {} chains drawn from the posterior of the observed counts (Dirichlet per row), each solved exactly",
                            num(n as f64, 0)
                        )
                    }))
                    .collect(),
            },
            Section {
                title: "Journey length".into(),
                table: lengths,
                notes: vec![format!(
                    "fitted model: {} journeys walked on it; total variation distance {}",
                    num(r.model_journeys as f64, 0),
                    num(r.length_distance, 4)
                )],
            },
        ],
    }
}

/// The chart of the HTML report: journey lengths, data beside model.
pub fn charts(r: &FitResult) -> Vec<super::svg::Chart> {
    vec![super::svg::Chart::Bars {
        title: "Journey length: data and fitted model".into(),
        value_label: "journeys (%)".into(),
        categories: r
            .lengths
            .iter()
            .map(|l| {
                if l.length == r.lengths.len() {
                    format!("{}+ states", l.length)
                } else {
                    count(l.length as u64, "state")
                }
            })
            .collect(),
        series: vec![
            ("data".into(), r.lengths.iter().map(|l| l.data * 100.0).collect()),
            ("fitted model".into(), r.lengths.iter().map(|l| l.model * 100.0).collect()),
        ],
    }]
}
