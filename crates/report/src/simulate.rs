//! The document of a simulation result.

use super::doc::{Doc, Section, Table};
use super::fmt::{count, int, money, num, pct, pct_range};
use fogg_result::SimResult;

/// Lays out a [`SimResult`] for people.
pub fn document(r: &SimResult) -> Doc {
    let mut lines = vec![
        format!(
            "scenario {} · {} · seed {}",
            r.header.scenario.source,
            count(r.customers, "customer"),
            r.header.seed
        ),
        if r.run.shards > 1 {
            format!(
                "merged from {} × {} · {:.2} s (the longest shard) · {} touchpoints/s (all shards)",
                count(u64::from(r.run.shards), "shard"),
                count(r.run.threads as u64, "thread"),
                r.run.elapsed_s,
                int(r.run.steps_per_s as u64)
            )
        } else {
            format!(
                "{} · {:.2} s · {} touchpoints/s",
                count(r.run.threads as u64, "thread"),
                r.run.elapsed_s,
                int(r.run.steps_per_s as u64)
            )
        },
    ];
    lines.extend(super::fmt::shard_line(r.raw.shard, r.raw.customer_range, r.raw.run_customers));
    if r.interrupted {
        lines.push(format!(
            "INTERRUPTED by a signal: {} of the {} asked were walked, in chunks spread over the run; the exact values hold, the simulated ones are of those customers",
            count(r.customers, "customer"),
            int(r.raw.customer_range[1] - r.raw.customer_range[0])
        ));
    }
    let mut sections = vec![
        Section { title: "Outcome".into(), table: outcome_table(r), notes: vec![] },
        Section { title: "Totals".into(), table: totals_table(r), notes: vec![] },
        Section {
            title: "Funnel".into(),
            table: funnel_table(r),
            notes: vec!["reached: the journey visited this stage or a later one".into()],
        },
        Section {
            title: "Channels".into(),
            table: channels_table(r),
            notes: vec![
                "conversions and revenue are counted at the channel of the converting touchpoint".into(),
            ],
        },
    ];
    if r.segments.len() > 1 {
        sections.push(Section { title: "Segments".into(), table: segments_table(r), notes: vec![] });
    }
    sections.push(journeys_section(r));
    sections.push(paths_section(r));
    Doc { title: format!("fogg simulate — {}", r.header.scenario.name), lines, sections }
}

/// Per customer: simulated, its interval, exact.
fn outcome_table(r: &SimResult) -> Table {
    let cur = &r.header.scenario.currency;
    let mut outcome = Table::new(&["per customer", "simulated", "95% interval", "exact"]);
    outcome.row(vec![
        "converted (at least once)".into(),
        pct(r.conversion_rate),
        pct_range(r.conversion_rate_ci95),
        pct(r.exact_conversion_rate),
    ]);
    outcome.row(vec![
        "conversions (repeat purchases included)".into(),
        num(r.conversions_per_customer, 4),
        format!(
            "{} – {}",
            num(r.conversions_per_customer_ci95[0], 4),
            num(r.conversions_per_customer_ci95[1], 4)
        ),
        num(r.exact_conversions_per_customer, 4),
    ]);
    outcome.row(vec![
        "revenue".into(),
        money(r.revenue_per_customer, cur),
        String::new(),
        money(r.exact_revenue_per_customer, cur),
    ]);
    outcome.row(vec![
        "touchpoints".into(),
        num(r.journey_length.mean, 3),
        String::new(),
        num(r.exact_steps_per_customer, 3),
    ]);
    outcome
}

/// The run's totals: conversions, revenue, cost, CPA, ROAS.
fn totals_table(r: &SimResult) -> Table {
    let cur = &r.header.scenario.currency;
    let mut totals = Table::new(&["total", "value"]);
    totals.row(vec!["customers who converted".into(), int(r.converted_customers)]);
    totals.row(vec!["conversions".into(), int(r.conversions)]);
    totals.row(vec!["revenue".into(), money(r.revenue, cur)]);
    totals.row(vec!["cost (touches and spend)".into(), money(r.cost, cur)]);
    if let Some(periods) = r.periods {
        totals.row(vec![format!("{}s of spend in that cost", r.period), num(periods, 2)]);
    }
    totals.row(vec![
        "cost per acquisition".into(),
        r.cost_per_acquisition.map_or("–".into(), |v| money(v, cur)),
    ]);
    totals
        .row(vec!["ROAS (revenue / cost)".into(), r.roas.map_or("–".into(), |v| format!("{}×", num(v, 2)))]);
    totals
}

/// Stages reached, simulated beside exact, with the drop-off.
fn funnel_table(r: &SimResult) -> Table {
    let mut funnel = Table::new(&["stage", "reached", "share", "exact", "drop-off"]);
    for f in &r.funnel {
        funnel.row(vec![f.stage.clone(), int(f.reached), pct(f.share), pct(f.exact_share), pct(f.drop_off)]);
    }
    funnel
}

/// Touches, cost, conversions and revenue per channel.
fn channels_table(r: &SimResult) -> Table {
    let cur = &r.header.scenario.currency;
    let n = r.customers.max(1) as f64;
    let mut channels =
        Table::new(&["channel", "kind", "touches", "per customer", "cost", "conversions", "revenue"])
            .text_column(1);
    for c in &r.channels {
        channels.row(vec![
            c.channel.clone(),
            c.kind.name().into(),
            int(c.touches),
            num(c.touches as f64 / n, 3),
            money(c.cost, cur),
            int(c.conversions),
            money(c.revenue, cur),
        ]);
    }
    channels
}

/// Each segment's conversion, simulated beside exact.
fn segments_table(r: &SimResult) -> Table {
    let mut segments =
        Table::new(&["segment", "share", "customers", "converted", "conversion rate", "exact"]);
    for s in &r.segments {
        segments.row(vec![
            s.segment.clone(),
            pct(s.share),
            int(s.customers),
            int(s.converted_customers),
            pct(s.conversion_rate),
            pct(s.exact_conversion_rate),
        ]);
    }
    segments
}

/// Journey length and time to conversion, with a note on truncation.
fn journeys_section(r: &SimResult) -> Section {
    let mut journeys = Table::new(&["journey", "mean", "p50", "p90", "p99", "max"]);
    let l = &r.journey_length;
    journeys.row(vec!["touchpoints".into(), num(l.mean, 2), int(l.p50), int(l.p90), int(l.p99), int(l.max)]);
    let t = &r.time_to_conversion;
    let time = |v: Option<f64>| v.map_or("–".into(), |v| num(v, 2));
    journeys.row(vec![
        format!("time to first conversion ({})", t.unit),
        time(t.mean),
        time(t.p50),
        time(t.p90),
        time(t.p99),
        time(t.max),
    ]);
    let mut notes = vec![];
    if r.truncated > 0 {
        notes.push(format!(
            "{} journeys were cut at max_steps = {}; the exact values assume none is",
            int(r.truncated),
            r.max_steps
        ));
    }
    Section { title: "Journeys".into(), table: journeys, notes }
}

/// The most common paths.
fn paths_section(r: &SimResult) -> Section {
    let n = r.customers.max(1) as f64;
    let mut paths =
        Table::new(&["#", "path (channels)", "customers", "share", "conversion rate"]).text_column(1);
    for (i, p) in r.top_paths.iter().enumerate() {
        paths.row(vec![
            (i + 1).to_string(),
            p.path.clone(),
            int(p.customers),
            pct(p.customers as f64 / n),
            pct(p.conversion_rate),
        ]);
    }
    Section {
        title: "Top paths".into(),
        table: paths,
        notes: vec![format!("consecutive touches of one channel count once; {}", r.run.top_paths_method)],
    }
}

/// The charts of the HTML report: funnel, flows between channels, touches,
/// journey lengths and time to conversion.
pub fn charts(r: &fogg_result::SimResult) -> Vec<super::svg::Chart> {
    use super::svg::{Chart, Series, XScale};
    let mut charts = vec![Chart::Bars {
        title: "Funnel: customers reaching each stage".into(),
        value_label: "customers reaching the stage or a later one (%)".into(),
        categories: r.funnel.iter().map(|f| f.stage.clone()).collect(),
        series: vec![
            ("simulated".into(), r.funnel.iter().map(|f| f.share * 100.0).collect()),
            ("exact".into(), r.funnel.iter().map(|f| f.exact_share * 100.0).collect()),
        ],
    }];
    if !r.channel_flows.is_empty() {
        let names: Vec<String> = r.channels.iter().map(|c| c.channel.clone()).collect();
        charts.push(Chart::Heat {
            title: "Flow of journeys between channels (exact)".into(),
            value_label: "moves per 1,000 customers".into(),
            rows: std::iter::once("start".to_owned()).chain(names.iter().cloned()).collect(),
            cols: names.iter().cloned().chain(std::iter::once("exit".to_owned())).collect(),
            values: r.channel_flows.iter().map(|row| row.iter().map(|v| v * 1000.0).collect()).collect(),
        });
    }
    if let Some(flows) = &r.flows {
        charts.push(super::flows::sankey("Journeys between stages and channels (exact)", flows));
    }
    let n = r.customers.max(1) as f64;
    charts.push(Chart::Bars {
        title: "Touches per customer by channel".into(),
        value_label: "touches per customer".into(),
        categories: r.channels.iter().map(|c| c.channel.clone()).collect(),
        series: vec![(
            "touches per customer".into(),
            r.channels.iter().map(|c| c.touches as f64 / n).collect(),
        )],
    });
    let lengths = r.raw.agg.journey_steps.histogram();
    if !lengths.is_empty() {
        let top = lengths.value_at_quantile(0.99).max(1);
        // Every journey has at least one touch: the line starts at 1.
        let points = (1..=top).map(|k| (k as f64, lengths.count_between(k, k) as f64 / n * 100.0)).collect();
        charts.push(Chart::Line {
            title: "Journey length".into(),
            x_label: "touchpoints in the journey (to the 99th percentile)".into(),
            y_label: "customers (%)".into(),
            x_scale: XScale::Linear,
            series: vec![Series { name: "share of customers".into(), points }],
        });
    }
    let ttc = &r.raw.agg.time_to_conversion_s;
    if !ttc.is_empty() {
        let unit = r
            .header
            .scenario
            .time_unit
            .parse::<fogg_core::units::TimeUnit>()
            .unwrap_or(fogg_core::units::TimeUnit::Days);
        let points = (0..=50)
            .map(|k| {
                let q = k as f64 / 50.0 * 0.99;
                (ttc.value_at_quantile(q) as f64 / unit.seconds(), q * 100.0)
            })
            .collect();
        charts.push(Chart::Line {
            title: "Time to first conversion".into(),
            x_label: format!("time from the first touch ({unit})"),
            y_label: "converted customers who converted by then (%)".into(),
            x_scale: XScale::Linear,
            series: vec![Series { name: "cumulative share".into(), points }],
        });
    }
    charts
}
