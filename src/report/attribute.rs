//! The document of a channel attribution.

use super::doc::{Doc, Section, Table};
use super::fmt::{count, num, pct};
use crate::result::AttributionResult;

/// Lays out an [`AttributionResult`] for people.
pub fn document(r: &AttributionResult) -> Doc {
    let mut lines = vec![
        format!(
            "{} · {} · {}",
            r.source,
            count(r.paths, "distinct path"),
            count(r.journeys.round() as u64, "journey")
        ),
        format!(
            "{} conversions worth {} · conversion probability {} {}",
            num(r.conversions, 0),
            num(r.conversion_value, 2),
            pct(r.conversion_probability),
            if r.channels.iter().any(|c| c.fitted_removal_effect.is_some()) {
                "(the scenario's chain, exact)"
            } else {
                "(the chain fitted to the paths)"
            }
        ),
    ];
    if !r.nulls_counted {
        lines.push(
            "journeys that did not convert are left out (--no-null, or no total_null column): only converting paths make the chain, as ChannelAttribution's var_null = None".to_owned(),
        );
    }
    let scenario = r.channels.iter().any(|c| c.fitted_removal_effect.is_some());
    let mut header = vec!["channel", "removal effect"];
    if scenario {
        header.push("fitted from paths");
    }
    let simulated = r.simulated_journeys.is_some();
    if simulated {
        header.push("simulated ± se");
    }
    header.extend(["share", "conversions", "value", "first touch", "last touch", "linear touch"]);
    let mut table = Table::new(&header);
    for c in &r.channels {
        let mut row = vec![c.channel.clone(), num(c.removal_effect, 4)];
        if scenario {
            row.push(c.fitted_removal_effect.map_or("–".into(), |e| num(e, 4)));
        }
        if simulated {
            row.push(match (c.simulated_removal_effect, c.simulated_removal_effect_se) {
                (Some(e), Some(se)) => format!("{} ± {}", num(e, 4), num(se, 4)),
                _ => "–".into(),
            });
        }
        row.extend([
            pct(c.share),
            num(c.attributed_conversions, 1),
            num(c.attributed_value, 2),
            num(c.first_touch, 1),
            num(c.last_touch, 1),
            num(c.linear_touch, 1),
        ]);
        table.row(row);
    }
    Doc {
        title: "fogg attribute — Markov removal effects".to_owned(),
        lines,
        sections: vec![Section {
            title: "Channels".into(),
            table,
            notes: {
                let mut notes = if scenario {
                    vec![
                    "removal effects are exact on the scenario's own chain: journeys that would reach the channel leave instead".into(),
                    format!("\"fitted from paths\" is what a Markov attribution of the simulated journeys finds (order-{} chain of channels, repeats collapsed); the heuristics come from the same journeys", r.order),
                ]
                } else {
                    vec![
                    format!("removal effects are exact (absorbing-chain solves of the order-{} chain fitted to the paths); consecutive repeats of a channel collapse in the chain", r.order),
                    "conversions and value credit each channel its share; first, last and linear touch are the heuristics, for comparison".into(),
                ]
                };
                if let Some(k) = r.max_steps {
                    notes.push(format!("journeys of the fitted chain are cut after {k} states (--max-steps) and count as null"));
                }
                if let Some(n) = r.simulated_journeys {
                    notes.push(format!(
                        "\"simulated\": the fitted chain's removal effects estimated from {} journeys walked on it, a cross-check of the exact values",
                        num(n as f64, 0)
                    ));
                }
                notes
            },
        }],
    }
}

/// The chart of the HTML report: each channel's share of the conversions
/// by removal effect and by the heuristics.
pub fn charts(r: &AttributionResult) -> Vec<super::svg::Chart> {
    let total = r.conversions.max(1e-12);
    let share = |f: &dyn Fn(&crate::result::ChannelAttribution) -> f64| -> Vec<f64> {
        r.channels.iter().map(|c| f(c) / total * 100.0).collect()
    };
    vec![super::svg::Chart::Bars {
        title: "Credit per channel: Markov removal effect and heuristics".into(),
        value_label: "share of conversions credited (%)".into(),
        categories: r.channels.iter().map(|c| c.channel.clone()).collect(),
        series: vec![
            ("removal effect".into(), r.channels.iter().map(|c| c.share * 100.0).collect()),
            ("first touch".into(), share(&|c| c.first_touch)),
            ("last touch".into(), share(&|c| c.last_touch)),
            ("linear touch".into(), share(&|c| c.linear_touch)),
        ],
    }]
}
