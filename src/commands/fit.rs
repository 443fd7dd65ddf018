//! `fogg fit`: a scenario from a path file or an event log, and how well
//! it reproduces the data.

use std::io::Write;

use anyhow::{Context, bail};

use crate::Outcome;
use crate::attribution::Paths;
use crate::cli::FitArgs;
use crate::fit::{Counts, events, goodness};
use crate::report::doc::{Doc, Section, Table};
use crate::report::fmt::{num, pct};

/// Journeys walked on the fitted model for the length distribution.
const CHECK_JOURNEYS: u64 = 200_000;

/// Runs the command, writing the goodness-of-fit report to `out`.
pub fn run(args: &FitArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let file = &args.input;
    let text = std::fs::read(file).with_context(|| format!("cannot read '{}'", file.display()))?;
    let separator = match args.separator.as_deref() {
        None => None,
        Some(s) => match s.as_bytes() {
            [b] => Some(*b),
            _ => bail!("--separator must be one character (got '{s}')"),
        },
    };
    let first_line = String::from_utf8_lossy(&text).lines().next().unwrap_or("").to_owned();
    let source =
        file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let counts = if first_line.contains("customer_id") {
        events::read(&text, separator.unwrap_or(b','), &source)
            .with_context(|| format!("event log '{}'", file.display()))?
    } else if first_line.contains("total_conversions") {
        let paths = Paths::parse(&text, separator.unwrap_or(b';'))
            .with_context(|| format!("path file '{}'", file.display()))?;
        Counts::from_paths(&paths, &source)
    } else {
        bail!(
            "'{}' is neither a path file (header path;total_conversions;total_conversion_value;total_null) nor an event log (header customer_id,timestamp,channel[,stage][,conversion_value]); its first line is '{first_line}'",
            file.display()
        );
    };
    let name = args.name.clone().unwrap_or_else(|| format!("Fitted from {source}"));
    let toml = counts.to_toml(&name);
    let output = args.output.display().to_string();
    let model = crate::scenario::from_str(&toml, &output).map_err(|e| {
        anyhow::anyhow!("the fitted scenario does not compile, which is a bug in fogg fit: {e}")
    })?;
    std::fs::write(&args.output, &toml).with_context(|| format!("writing '{output}'"))?;
    let g = goodness(&counts, &model, CHECK_JOURNEYS, args.seed);

    let mut rate = Table::new(&["", "data", "fitted model"]);
    rate.row(vec!["journeys".into(), num(counts.journeys, 0), "–".into()]);
    rate.row(vec!["converting".into(), pct(g.data_conversion_rate), pct(g.model_conversion_rate)]);
    let mut lengths = Table::new(&["journey length (states)", "data", "fitted model"]);
    for (k, (d, m)) in g.data_lengths.iter().zip(&g.model_lengths).enumerate() {
        let label =
            if k + 1 == g.data_lengths.len() { format!("{} or more", k + 1) } else { (k + 1).to_string() };
        lengths.row(vec![label, pct(*d), pct(*m)]);
    }
    let doc = Doc {
        title: format!("fogg fit — {source}"),
        lines: vec![
            format!(
                "{} rows · {} journeys · {} states on {} channels · wrote {output}",
                num(counts.rows as f64, 0),
                num(counts.journeys, 0),
                model.states.len(),
                model.channels.len()
            ),
            "the scenario holds aggregates only: counts of moves, and distributions of values and times"
                .to_owned(),
        ],
        sections: vec![
            Section {
                title: "Conversion".into(),
                table: rate,
                notes: vec!["fitted model: the exact conversion rate of the chain written".into()],
            },
            Section {
                title: "Journey length".into(),
                table: lengths,
                notes: vec![format!(
                    "fitted model: {} journeys walked on it; total variation distance {}",
                    num(CHECK_JOURNEYS as f64, 0),
                    num(g.length_distance, 4)
                )],
            },
        ],
    };
    crate::report::write_doc(&doc, out)?;
    Ok(Outcome::Pass)
}
