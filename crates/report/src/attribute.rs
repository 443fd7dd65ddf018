//! The document of a channel attribution.

use super::doc::{Doc, Section, Table};
use super::fmt::{count, num, pct};
use fogg_result::AttributionResult;

/// Lays out an [`AttributionResult`] for people.
pub fn document(r: &AttributionResult) -> Doc {
    let by_value = r.channels.iter().any(|c| c.value_removal_effect.is_some());
    Doc {
        title: "fogg attribute — Markov removal effects".to_owned(),
        lines: header_lines(r),
        sections: vec![
            Section { title: "Channels".into(), table: channels_table(r), notes: channel_notes(r) },
            Section {
                title: "Conversions by model".into(),
                table: by_model(r, false),
                notes: model_notes(r),
            },
            Section {
                title: "Value by model".into(),
                table: by_model(r, true),
                notes: vec![if by_value {
                    "Markov and Shapley value: by the value removal effects and the Shapley values of the expected conversion value".into()
                } else {
                    "Markov and Shapley value: each channel's share of the conversions".into()
                }],
            },
        ],
    }
}

/// The lines under the title: the source, its size, and the conversions.
fn header_lines(r: &AttributionResult) -> Vec<String> {
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
    lines
}

/// A row per channel: removal effects (with intervals, fitted and
/// simulated values where the run has them), shares and credits.
fn channels_table(r: &AttributionResult) -> Table {
    let scenario = r.channels.iter().any(|c| c.fitted_removal_effect.is_some());
    let by_value = r.channels.iter().any(|c| c.value_removal_effect.is_some());
    let mut header = vec!["channel", "removal effect"];
    let intervals = r.interval_resamples.is_some();
    if intervals {
        header.push("95% interval");
    }
    if scenario {
        header.push("fitted from paths");
    }
    let simulated = r.simulated_journeys.is_some();
    if simulated {
        header.push("simulated ± se");
    }
    header.extend(["share", "conversions"]);
    if by_value {
        header.push("value removal effect");
    }
    let simulated_value = r.channels.iter().any(|c| c.simulated_value_removal_effect.is_some());
    if simulated_value {
        header.push("simulated ± se (value)");
    }
    header.push("value");
    let mut table = Table::new(&header);
    for c in &r.channels {
        let mut row = vec![c.channel.clone(), num(c.removal_effect, 4)];
        if intervals {
            row.push(
                c.removal_effect_interval
                    .map_or("–".into(), |[low, high]| format!("{} – {}", num(low, 4), num(high, 4))),
            );
        }
        if scenario {
            row.push(c.fitted_removal_effect.map_or("–".into(), |e| num(e, 4)));
        }
        if simulated {
            row.push(estimate(c.simulated_removal_effect, c.simulated_removal_effect_se));
        }
        row.extend([pct(c.share), num(c.attributed_conversions, 1)]);
        if by_value {
            row.push(c.value_removal_effect.map_or("–".into(), |e| num(e, 4)));
        }
        if simulated_value {
            row.push(estimate(c.simulated_value_removal_effect, c.simulated_value_removal_effect_se));
        }
        row.push(num(c.attributed_value, 2));
        table.row(row);
    }
    table
}

/// Each channel's credit by every model, in conversions or in value.
fn by_model(r: &AttributionResult, value: bool) -> Table {
    let time_decay = r.time_decay_half_life_s.is_some();
    let mut header = vec![
        "channel",
        "Markov",
        "Shapley",
        "first touch",
        "last touch",
        "linear",
        "position-based",
        "last non-direct",
    ];
    if time_decay {
        header.push("time decay");
    }
    let mut table = Table::new(&header);
    let digits = if value { 2 } else { 1 };
    for c in &r.channels {
        let cells = if value {
            [
                c.attributed_value,
                c.first_touch_value,
                c.last_touch_value,
                c.linear_touch_value,
                c.position_based_value,
                c.last_non_direct_value,
            ]
        } else {
            [
                c.attributed_conversions,
                c.first_touch,
                c.last_touch,
                c.linear_touch,
                c.position_based,
                c.last_non_direct,
            ]
        };
        let shapley = if value { c.shapley_value } else { c.shapley_conversions };
        let mut row =
            vec![c.channel.clone(), num(cells[0], digits), shapley.map_or("–".into(), |x| num(x, digits))];
        row.extend(cells[1..].iter().map(|&x| num(x, digits)));
        if time_decay {
            let decay = if value { c.time_decay_value } else { c.time_decay };
            row.push(decay.map_or("–".into(), |x| num(x, digits)));
        }
        table.row(row);
    }
    table
}

/// What the models of the by-model tables do.
fn model_notes(r: &AttributionResult) -> Vec<String> {
    let scenario = r.channels.iter().any(|c| c.fitted_removal_effect.is_some());
    let [first, middle, last] = r.position_based_weights.map(|w| num(w * 100.0, 0));
    let direct = if r.direct_channels.is_empty() {
        "no channel counts as direct (none is named 'direct'; --direct to name them), so last non-direct is last touch".to_owned()
    } else {
        format!(
            "last non-direct: the last touch not of {} (all-direct paths: their last touch)",
            r.direct_channels.join(", ")
        )
    };
    let shapley_note = if r.channels.iter().any(|c| c.shapley.is_some()) {
        format!(
            "Shapley: each channel's exact Shapley value of P(conversion) over the 2^{} coalitions of channels, a coalition being the {} chain with every other channel removed; Markov credits by removal effects",
            r.channels.len(),
            if scenario { "scenario's" } else { "fitted" }
        )
    } else {
        "Shapley: not computed above 20 channels (2^k chain solves); Markov credits by removal effects"
            .to_owned()
    };
    let rules_note = format!(
        "first, last and linear touch, position-based ({first}% / {middle}% / {last}% to the first / middle / last touches; two touches split the ends in proportion) and last non-direct split each path's conversions and value over its touches as written (repeats included)"
    );
    let mut notes = vec![shapley_note, rules_note, direct];
    if let Some(h) = r.time_decay_half_life_s {
        notes.push(format!(
            "time decay: each conversion split over the touches of its path by weight 2^(−age / {}), age being the time from the touch to the conversion",
            fogg_core::units::format_duration(h)
        ));
    }
    notes
}

/// How the channels' removal effects were found, and what bounds them.
fn channel_notes(r: &AttributionResult) -> Vec<String> {
    let scenario = r.channels.iter().any(|c| c.fitted_removal_effect.is_some());
    let by_value = r.channels.iter().any(|c| c.value_removal_effect.is_some());
    let states = if r.order == 1 {
        "one per channel, a channel repeated in a row being one visit"
    } else if r.collapse_repeats {
        "windows of the last channels, repeated channels collapsed first (--collapse-repeats)"
    } else {
        "windows of consecutive channels as written, repeats kept, as ChannelAttribution's"
    };
    let mut notes = if scenario {
        vec![
            "removal effects are exact on the scenario's own chain: journeys that would reach the channel leave instead".into(),
            format!("\"fitted from paths\" is what a Markov attribution of the simulated journeys finds (order-{} chain, states are {states})", r.order),
            "value credits each channel its share of the conversions".into(),
        ]
    } else {
        let mut notes = vec![format!(
            "removal effects are exact (absorbing-chain solves of the order-{} chain fitted to the paths; states are {states})",
            r.order
        )];
        notes.push(if by_value {
            "value: each channel's value removal effect (conversions weighed by their value) over their sum, as ChannelAttribution's total_conversion_value".into()
        } else {
            "value: each channel's share of the conversions (the paths carry no conversion value)".into()
        });
        notes
    };
    if let Some(k) = r.max_steps {
        notes.push(if r.max_steps_auto {
            format!("journeys of the fitted chain are cut after {k} states and count as null: --max-steps auto, ChannelAttribution's default max_step (the most states a path walks, plus one)")
        } else {
            format!("journeys of the fitted chain are cut after {k} states (--max-steps) and count as null")
        });
    }
    if let Some(n) = r.interval_resamples {
        notes.push(format!(
            "95% intervals: how sure the removal effects are, given that the paths are a sample: the 2.5th to 97.5th percentiles over {} Bayesian-bootstrap resamples of the journeys, the chain refitted to each (the JSON also has the shares')",
            num(n as f64, 0)
        ));
    }
    if let Some(n) = r.simulated_journeys {
        notes.push(format!(
            "\"simulated\": the fitted chain's removal effects estimated from {} journeys walked on it, a cross-check of the exact values (a simulated conversion's value is drawn from the values per conversion of the paths converting after its last state)",
            num(n as f64, 0)
        ));
    }
    notes
}

/// A simulated estimate with its standard error, or "–".
fn estimate(value: Option<f64>, se: Option<f64>) -> String {
    match (value, se) {
        (Some(e), Some(se)) => format!("{} ± {}", num(e, 4), num(se, 4)),
        _ => "–".into(),
    }
}

/// The chart of the HTML report: each channel's share of the conversions
/// by every model.
pub fn charts(r: &AttributionResult) -> Vec<super::svg::Chart> {
    let total = r.conversions.max(1e-12);
    let share = |f: &dyn Fn(&fogg_result::ChannelAttribution) -> f64| -> Vec<f64> {
        r.channels.iter().map(|c| f(c) / total * 100.0).collect()
    };
    let mut series = vec![("Markov".to_owned(), share(&|c| c.attributed_conversions))];
    if r.channels.iter().all(|c| c.shapley_conversions.is_some()) {
        series.push(("Shapley".into(), share(&|c| c.shapley_conversions.unwrap_or(0.0))));
    }
    series.extend([
        ("first touch".into(), share(&|c| c.first_touch)),
        ("last touch".into(), share(&|c| c.last_touch)),
        ("linear".into(), share(&|c| c.linear_touch)),
        ("position-based".into(), share(&|c| c.position_based)),
        ("last non-direct".into(), share(&|c| c.last_non_direct)),
    ]);
    if r.time_decay_half_life_s.is_some() {
        series.push(("time decay".into(), share(&|c| c.time_decay.unwrap_or(0.0))));
    }
    let mut charts = vec![super::svg::Chart::Bars {
        title: "Credit per channel by model".into(),
        value_label: "share of conversions credited (%)".into(),
        categories: r.channels.iter().map(|c| c.channel.clone()).collect(),
        series,
    }];
    if let Some(flows) = &r.flows {
        charts.push(super::flows::sankey("Journeys by touch, to their outcome (counted)", flows));
    }
    charts
}
