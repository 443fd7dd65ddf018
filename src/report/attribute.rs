//! The document of a channel attribution.

use super::doc::{Doc, Section, Table};
use super::fmt::{num, pct};
use crate::result::AttributionResult;

/// Lays out an [`AttributionResult`] for people.
pub fn document(r: &AttributionResult) -> Doc {
    let lines = vec![
        format!(
            "paths {} · {} distinct paths · {} journeys",
            r.source,
            num(r.paths as f64, 0),
            num(r.journeys, 0)
        ),
        format!(
            "{} conversions worth {} · conversion probability of the fitted chain {}",
            num(r.conversions, 0),
            num(r.conversion_value, 2),
            pct(r.conversion_probability)
        ),
    ];
    let mut table = Table::new(&[
        "channel",
        "removal effect",
        "share",
        "conversions",
        "value",
        "first touch",
        "last touch",
        "linear touch",
    ]);
    for c in &r.channels {
        table.row(vec![
            c.channel.clone(),
            num(c.removal_effect, 4),
            pct(c.share),
            num(c.attributed_conversions, 1),
            num(c.attributed_value, 2),
            num(c.first_touch, 1),
            num(c.last_touch, 1),
            num(c.linear_touch, 1),
        ]);
    }
    Doc {
        title: "fogg attribute — Markov removal effects".to_owned(),
        lines,
        sections: vec![Section {
            title: "Channels".into(),
            table,
            notes: vec![
                "removal effects are exact (absorbing-chain solves of the order-1 chain fitted to the paths); consecutive repeats of a channel collapse in the chain".into(),
                "conversions and value credit each channel its share; first, last and linear touch are the heuristics, for comparison".into(),
            ],
        }],
    }
}
