//! `fogg validate`: the model a scenario describes, or all its problems.

use std::io::Write;

use crate::cli::ValidateArgs;
use fogg_core::verdict::Verdict;
use fogg_model::alias::EXIT;
use fogg_model::{Chain, Model};
use fogg_report::doc::{Doc, Section, Table};
use fogg_report::fmt::{count, money, num, pct};
use fogg_scenario as scenario;

/// Runs the command. Problems come back as the error.
pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let scenario = scenario::load(args.scenario.as_deref(), scenario::Use::Traffic)?;
    let mut doc = summary(&scenario.model, &scenario.file_chain);
    if let Some(calendar) = &scenario.calendar {
        let at = doc.sections.len().min(2);
        doc.sections.insert(at, calendar_section(calendar, &scenario.model)?);
    }
    fogg_report::write_doc(&doc, out)?;
    Ok(Verdict::Pass)
}

/// `[calendar]`: the window, the customers it brings and when most come.
fn calendar_section(c: &fogg_core::calendar::Calendar, model: &Model) -> anyhow::Result<Section> {
    let per_period = model.customers_per_period.unwrap_or(0.0);
    let mut t = Table::new(&["calendar", "value"]).text_column(1);
    let days = c.days().len();
    t.row(vec![
        "window".into(),
        format!(
            "{} – {} ({}), {}",
            c.local(0.0),
            c.local(c.length_s()),
            c.timezone,
            count(days as u64, "day")
        ),
    ]);
    // Arrivals as the flights and adstock move them.
    let customers = fogg_engine::forecast::Flighting::baseline_customers(model, c)?;
    t.row(vec!["customers arriving (expected)".into(), num(customers.total(), 0)]);
    for (label, minutes) in [("busiest hour", 60), ("busiest minute", 1)] {
        let (m, n) = customers.busiest(minutes);
        let at = m as f64 * 60.0;
        let rate = n / (minutes as f64 * 60.0);
        t.row(vec![
            label.into(),
            format!("{} ({}): {} customers, {}/s", c.local(at), c.timezone, num(n, 0), num(rate, 2)),
        ]);
    }
    for e in &c.events {
        t.row(vec![
            format!("event: {}", e.name),
            format!(
                "{} × {} at the start, halving every {}",
                c.local((e.at_s - c.start_s) as f64),
                num(e.peak, 2),
                fogg_core::units::format_duration(e.half_life_s)
            ),
        ]);
    }
    for f in &c.flights {
        let baseline = model.channels[f.channel].spend.map_or(0.0, |s| s.baseline);
        t.row(vec![
            format!("flight: {}", f.channel_id),
            format!(
                "{} – {}: spend {} per {} (baseline {})",
                c.local((f.from_s - c.start_s) as f64),
                c.local((f.to_s - c.start_s) as f64),
                num(f.spend, 0),
                model.period,
                num(baseline, 0)
            ),
        ]);
    }
    for a in &c.adstock {
        t.row(vec![
            format!("adstock: {}", a.channel_id),
            format!("the effect of spend halves every {}", fogg_core::units::format_duration(a.half_life_s)),
        ]);
    }
    let mut notes = vec![format!(
        "{} customers per {} ({} long) at the mean of the hourly and weekly profiles; events add theirs",
        num(per_period, 0),
        model.period,
        fogg_core::units::format_duration(c.period_s)
    )];
    if !c.flights.is_empty() || !c.adstock.is_empty() {
        notes.push(
            "flights and adstock move the arrivals of their channels by the Hill response, counted above"
                .into(),
        );
    }
    Ok(Section { title: "Calendar".into(), table: t, notes })
}

/// The model laid out as a document, with the transitions the file
/// writes (`file_chain`).
pub fn summary(model: &Model, file_chain: &Chain) -> Doc {
    let exact = model.exact();
    let online = model.channels.iter().filter(|c| c.kind == fogg_model::ChannelKind::Online).count();
    let mut lines = vec![format!("{}: valid", model.source)];
    if let Some(d) = &model.description {
        lines.push(d.trim().to_owned());
    }
    lines.push(format!(
        "{} ({online} online, {} offline) · {} · {} · max_steps {}",
        count(model.channels.len() as u64, "channel"),
        model.channels.len() - online,
        count(model.states.len() as u64, "state"),
        count(model.segments.len() as u64, "segment"),
        model.max_steps,
    ));

    let mut answers = Table::new(&["exact, per customer", "value"]);
    answers.row(vec!["conversion rate (at least once)".into(), pct(exact.conversion_rate)]);
    answers
        .row(vec!["conversions (repeat purchases included)".into(), num(exact.conversions_per_customer, 4)]);
    answers.row(vec!["touchpoints".into(), num(exact.steps_per_customer, 3)]);
    answers.row(vec!["revenue".into(), money(exact.revenue_per_customer, &model.currency)]);

    let spend_header = format!("spend per {}", model.period);
    let mut channels = Table::new(&["channel", "kind", "cost per touch", &spend_header, "drives", "states"])
        .text_column(1)
        .text_column(4);
    for (c, ch) in model.channels.iter().enumerate() {
        let states = model.states.iter().filter(|s| s.channel.0 as usize == c).count();
        channels.row(vec![
            ch.id.clone(),
            ch.kind.name().into(),
            money(ch.cost_per_touch, &model.currency),
            ch.spend.map_or("–".into(), |s| money(s.baseline, &model.currency)),
            ch.spend.map_or("–".into(), |s| s.drives.name().to_owned()),
            states.to_string(),
        ]);
    }

    // Transitions as the file writes them, before segment multipliers.
    let chain = file_chain;
    let mut states = Table::new(&["state", "stage", "channel", "dwell", "value", "next (probability)"])
        .text_column(1)
        .text_column(2)
        .text_column(3)
        .text_column(4)
        .text_column(5);
    for (i, s) in model.states.iter().enumerate() {
        let mut next: Vec<(u16, f64)> = chain.next[i].clone();
        next.sort_by(|a, b| b.1.total_cmp(&a.1));
        let next: Vec<String> = next
            .iter()
            .map(|&(t, p)| {
                let name = if t == EXIT { "exit" } else { model.states[t as usize].id.as_str() };
                format!("{name} {}", pct(p))
            })
            .collect();
        states.row(vec![
            s.id.clone(),
            model.stages[s.stage.0 as usize].clone(),
            model.channels[s.channel.0 as usize].id.clone(),
            s.dwell.description().to_owned(),
            s.value.as_ref().map_or(String::new(), |v| v.description().to_owned()),
            next.join(", "),
        ]);
    }

    let mut sections = vec![
        Section { title: "Exact answers".into(), table: answers, notes: vec![] },
        Section { title: "Channels".into(), table: channels, notes: vec![] },
        Section {
            title: "States".into(),
            table: states,
            notes: if model.segments.len() > 1 {
                vec![
                    "next: the file's weights as probabilities, before each segment's multipliers".to_owned(),
                ]
            } else {
                vec![]
            },
        },
    ];
    if model.segments.len() > 1 {
        let mut segments = Table::new(&["segment", "share", "exact conversion rate"]);
        for (i, s) in model.segments.iter().enumerate() {
            segments.row(vec![s.id.clone(), pct(s.share), pct(exact.segment_conversion_rate[i])]);
        }
        sections.push(Section { title: "Segments".into(), table: segments, notes: vec![] });
    }
    if !model.warnings.is_empty() {
        let mut warnings = Table::new(&["warning"]);
        for w in &model.warnings {
            warnings.row(vec![w.clone()]);
        }
        sections.push(Section { title: "Warnings".into(), table: warnings, notes: vec![] });
    }
    Doc { title: format!("fogg validate — {}", model.name), lines, sections }
}
