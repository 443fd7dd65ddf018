//! The document of a what-if comparison.

use super::doc::{Doc, Section, Table};
use super::fmt::{num, pct};
use fogg_result::{AllocationResult, CurveResult, StrategyRow, WhatifResult};

/// A difference with its interval; `*` when the interval excludes 0 and
/// enough customers differ for it to mean something (`trusted`).
fn delta(d: f64, ci: [f64; 2], decimals: usize, trusted: bool) -> String {
    format!(
        "{}{} [{}, {}]{}",
        if d >= 0.0 { "+" } else { "" },
        num(d, decimals),
        num(ci[0], decimals),
        num(ci[1], decimals),
        mark(ci, trusted)
    )
}

fn mark(ci: [f64; 2], trusted: bool) -> &'static str {
    if trusted && (ci[0] > 0.0 || ci[1] < 0.0) { " *" } else { "" }
}

fn delta_pct(d: f64, ci: [f64; 2], trusted: bool) -> String {
    let pp = |x: f64| num(x * 100.0, 2);
    format!(
        "{}{} pp [{}, {}]{}",
        if d >= 0.0 { "+" } else { "" },
        pp(d),
        pp(ci[0]),
        pp(ci[1]),
        mark(ci, trusted)
    )
}

/// Whether a row's intervals rest on enough differing customers.
fn trusted(s: &StrategyRow) -> bool {
    s.moments.intervals_reliable()
}

/// The incremental CPA read by the sign of each difference, so a saving
/// never reads as a cost: "13.76 per extra conversion", "13.76 saved per
/// conversion lost", or the two cases with no trade-off.
fn incremental(s: &StrategyRow) -> String {
    let (Some(v), Some(ci)) = (s.incremental_cpa, s.incremental_cpa_ci95) else {
        return "–".into();
    };
    let range = format!("[{}, {}]", num(ci[0], 2), num(ci[1], 2));
    match (s.delta_conversions > 0.0, s.delta_cost > 0.0) {
        (true, true) => format!("{} per extra conversion {range}", num(v, 2)),
        (false, false) => format!("{} saved per conversion lost {range}", num(v, 2)),
        (true, false) => "none: converts more for less".into(),
        (false, true) => "none: costs more, converts less".into(),
    }
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or("–".to_owned(), |x| num(x, decimals))
}

fn opt_delta(d: Option<f64>, ci: Option<[f64; 2]>, decimals: usize, trusted: bool) -> String {
    match (d, ci) {
        (Some(d), Some(ci)) => delta(d, ci, decimals, trusted),
        _ => "–".to_owned(),
    }
}

fn is_baseline(s: &StrategyRow) -> bool {
    s.id == "baseline"
}

/// Lays out a [`WhatifResult`] for people.
pub fn document(r: &WhatifResult) -> Doc {
    let mut lines = vec![
        format!(
            "{} ({}) · totals per {} of {} customers",
            r.header.scenario.name,
            r.header.scenario.source,
            r.period,
            num(r.customers_per_period, 0)
        ),
        format!(
            "{} customers simulated per strategy, the same ones in each (seed {}) · {:.2} s · money in {}",
            num(r.customers_simulated as f64, 0),
            r.header.seed,
            r.elapsed_s,
            r.header.scenario.currency
        ),
    ];
    lines.extend(super::fmt::shard_line(r.shard, r.customer_range, r.customers_simulated));
    if r.interrupted {
        lines.push(format!(
            "INTERRUPTED by a signal: {} walked, in chunks spread over the run; the exact values hold, the simulated ones are of those customers",
            super::fmt::count(r.strategies.first().map_or(0, |s| s.moments.n), "customer")
        ));
    }
    // The outcomes always show: with only a curve, the baseline the run
    // simulated is there beside the exact figures.
    let mut sections = vec![outcomes(r)];
    sections.extend(data(r));
    if r.strategies.len() > 1 || r.curve.is_none() && r.allocation.is_none() {
        sections.push(costs(r));
        sections.push(changes(r));
    }
    if let Some(c) = &r.curve {
        sections.push(curve(r, c));
    }
    if let Some(a) = &r.allocation {
        sections.push(allocation(r, a));
    }
    Doc { title: "fogg whatif — strategies against the baseline".to_owned(), lines, sections }
}

/// The response curve of one channel's spend.
fn curve(r: &WhatifResult, c: &CurveResult) -> Section {
    let mut t = Table::new(&[
        "spend",
        "response ×",
        "conversions",
        "revenue",
        "cost",
        "ROAS",
        "conversions per 1k",
        "marginal ROAS",
    ])
    .number_column(0);
    for p in &c.points {
        t.row(vec![
            num(p.spend, 0),
            num(p.multiplier, 3),
            num(p.conversions, 1),
            num(p.revenue, 0),
            num(p.cost, 0),
            opt(p.roas, 2),
            opt(p.marginal_conversions.map(|m| m * 1000.0), 2),
            opt(p.marginal_roas, 2),
        ]);
    }
    Section {
            title: format!("Response curve: {} ({})", c.channel, c.mechanism),
            table: t,
            notes: vec![
                format!(
                    "spend on {} from 0 to twice today's {} per {}, every other channel as today; exact expected values (Hill curve, half-saturation {}, slope {})",
                    c.channel,
                    num(c.baseline_spend, 0),
                    r.period,
                    num(c.half_saturation, 0),
                    num(c.slope, 2)
                ),
                "marginal ROAS: revenue one more unit of spend brings at that point; below 1 the next unit does not pay for itself".to_owned(),
            ],
        }
}

/// The budget split and what it buys.
fn allocation(r: &WhatifResult, a: &AllocationResult) -> Section {
    let mut t = Table::new(&["channel", "mechanism", "today", "allocated", "change", "bounds", "marginal"])
        .text_column(1);
    for c in &a.channels {
        t.row(vec![
            c.channel.clone(),
            c.mechanism.clone(),
            num(c.today, 0),
            num(c.allocated, 0),
            format!("{}{}", if c.allocated >= c.today { "+" } else { "" }, num(c.allocated - c.today, 0)),
            format!("{}..{}", num(c.min, 0), c.max.map_or(String::new(), |m| num(m, 0))),
            num(c.marginal * 1000.0, 3),
        ]);
    }
    let unit = if a.objective == "revenue" { "revenue" } else { "conversions" };
    let mut notes = vec![
        format!(
            "{} per {} split to maximise expected {}: {} conversions and {} revenue, against {} and {} today (exact)",
            num(a.budget, 0),
            r.period,
            a.objective,
            num(a.conversions, 1),
            num(a.revenue, 0),
            num(a.baseline_conversions, 1),
            num(a.baseline_revenue, 0)
        ),
        match &a.next_unit {
            Some(channel) => format!(
                "the next unit of budget does most on {channel} (of the channels below their upper bound); \"marginal\" is {unit} per 1,000 more spent there"
            ),
            None => format!(
                "every channel is at its upper bound: more budget has nowhere to go; \"marginal\" is {unit} per 1,000 more spent there"
            ),
        },
        "the split is simulated as the strategy `allocation` above, with its intervals".to_owned(),
    ];
    if a.unspent > 0.5 {
        notes.push(format!("{} of the budget is left: the upper bounds stop it", num(a.unspent, 0)));
    }
    if let (Some(target), Some(limit)) = (&a.target, a.budget_limit) {
        let searched = if target.starts_with("conversions") {
            "the least budget whose best split meets it"
        } else {
            "the most budget whose best split still meets it"
        };
        notes.insert(
            0,
            format!("target {target}: {searched}, searched up to {} per {}", num(limit, 0), r.period),
        );
    }
    Section { title: "Budget allocation".to_owned(), table: t, notes }
}

fn outcomes(r: &WhatifResult) -> Section {
    let mut t = Table::new(&[
        "strategy",
        "conversions",
        "exact",
        "Δ conversions [95% CI]",
        "conv. rate",
        "Δ rate [95% CI]",
        "revenue",
        "Δ revenue [95% CI]",
    ]);
    for s in &r.strategies {
        let b = is_baseline(s);
        t.row(vec![
            s.id.clone(),
            num(s.conversions, 1),
            num(s.exact_conversions, 1),
            if b {
                "–".into()
            } else {
                delta(s.delta_conversions, s.delta_conversions_ci95, 1, trusted(s))
            },
            pct(s.conversion_rate),
            if b {
                "–".into()
            } else {
                delta_pct(s.delta_conversion_rate, s.delta_conversion_rate_ci95, trusted(s))
            },
            num(s.revenue, 0),
            if b { "–".into() } else { delta(s.delta_revenue, s.delta_revenue_ci95, 0, trusted(s)) },
        ]);
    }
    let mut notes = vec![
        "Δ: paired difference from the baseline (the same customers walk every strategy), with its 95% interval; * marks an interval that excludes 0".to_owned(),
        "exact: expected conversions from the closed form of each strategy's chain".to_owned(),
    ];
    for s in r.strategies.iter().filter(|s| !is_baseline(s) && !trusted(s)) {
        notes.push(format!(
            "'{}': {} walked differently from the baseline, too few for a 95% interval (at least {} are needed), so nothing is marked significant: raise -n, unless the strategy changes almost nothing (the exact column holds all the same)",
            s.id,
            crate::fmt::count(s.customers_differing, "customer"),
            fogg_engine::whatif::paired::MIN_DIFFERING
        ));
    }
    Section { title: "Outcomes".to_owned(), table: t, notes }
}

/// On a scenario fitted to counts: the exact figures with the 95%
/// intervals the data leaves open.
fn data(r: &WhatifResult) -> Option<Section> {
    let draws = r.strategies.iter().find_map(|s| s.data_ci95.as_ref())?.draws;
    let base = &r.strategies[0];
    let mut t = Table::new(&[
        "strategy",
        "conversions [95% data]",
        "Δ conversions [95% data]",
        "Δ rate [95% data]",
        "Δ revenue [95% data]",
    ]);
    for s in &r.strategies {
        let Some(d) = &s.data_ci95 else { continue };
        let b = is_baseline(s);
        t.row(vec![
            s.id.clone(),
            format!(
                "{} [{}, {}]",
                num(s.exact_conversions, 1),
                num(d.conversions[0], 1),
                num(d.conversions[1], 1)
            ),
            if b { "–".into() } else { delta(s.exact_delta_conversions, d.delta_conversions, 1, true) },
            if b {
                "–".into()
            } else {
                delta_pct(s.exact_conversion_rate - base.exact_conversion_rate, d.delta_conversion_rate, true)
            },
            if b {
                "–".into()
            } else {
                delta(s.exact_revenue - base.exact_revenue, d.delta_revenue, 0, true)
            },
        ]);
    }
    let mut notes = vec![format!(
        "the scenario's weights are observed counts (weights = \"counts\", as fogg fit writes them): each figure is exact for the chain as fitted, with the 95% interval of {} chains drawn from the posterior of the counts (Dirichlet per row), each solved exactly; * marks an interval that excludes 0",
        num(draws as f64, 0)
    )];
    notes.push(
        "the intervals of the other tables are the simulation's own, for the chain as fitted; these are the data's: how far another sample of the same customers could move the answer".to_owned(),
    );
    for s in r
        .strategies
        .iter()
        .filter_map(|s| s.data_ci95.as_ref().map(|d| (s, d)))
        .filter(|(_, d)| d.draws < draws)
    {
        notes.push(format!(
            "'{}': {} of the drawn chains could not take its changes (e.g. a conversion lift beyond a row's exit), so its intervals are over the others",
            s.0.id,
            num((draws - s.1.draws) as f64, 0)
        ));
    }
    Some(Section { title: "Uncertainty from the data".to_owned(), table: t, notes })
}

fn costs(r: &WhatifResult) -> Section {
    let mut t = Table::new(&[
        "strategy",
        "spend",
        "cost",
        "Δ cost [95% CI]",
        "CPA",
        "Δ CPA [95% CI]",
        "ROAS",
        "Δ ROAS [95% CI]",
        "incremental CPA",
    ]);
    for s in &r.strategies {
        let b = is_baseline(s);
        t.row(vec![
            s.id.clone(),
            num(s.spend, 0),
            num(s.cost, 0),
            if b { "–".into() } else { delta(s.delta_cost, s.delta_cost_ci95, 0, trusted(s)) },
            opt(s.cpa, 2),
            if b { "–".into() } else { opt_delta(s.delta_cpa, s.delta_cpa_ci95, 2, trusted(s)) },
            opt(s.roas, 2),
            if b { "–".into() } else { opt_delta(s.delta_roas, s.delta_roas_ci95, 2, trusted(s)) },
            incremental(s),
        ]);
    }
    Section {
        title: "Cost and return".to_owned(),
        table: t,
        notes: vec![
            format!("spend: the channels' declared spend per {}; cost adds every touch's cost_per_touch", r.period),
            "CPA = cost / conversions; ROAS = revenue / cost; incremental CPA = Δcost / Δconversions, shown when Δconversions is significant: the cost of each extra conversion, or the saving per conversion lost".to_owned(),
        ],
    }
}

fn changes(r: &WhatifResult) -> Section {
    let mut t = Table::new(&["strategy", "changes", "what they did"]).text_column(1).text_column(2);
    for s in r.strategies.iter().filter(|s| !is_baseline(s)) {
        let what = if s.notes.is_empty() { "–".to_owned() } else { s.notes.join("; ") };
        t.row(vec![s.id.clone(), s.changes.join("; "), what]);
    }
    let mut notes: Vec<String> = r
        .strategies
        .iter()
        .filter(|s| !is_baseline(s))
        .filter_map(|s| s.description.as_ref().map(|d| format!("{}: {d}", s.id)))
        .collect();
    let truncated: u64 = r.strategies.iter().map(|s| s.truncated).sum();
    if truncated > 0 {
        notes.push(format!("{truncated} journeys were cut at max_steps; the exact values assume none are"));
    }
    Section { title: "Strategies".to_owned(), table: t, notes }
}

/// The charts of the HTML report: differences with their intervals,
/// response curves, and the curve and allocation when asked for.
pub fn charts(r: &WhatifResult) -> Vec<super::svg::Chart> {
    use super::svg::{Chart, Series, XScale};
    let mut charts = Vec::new();
    let others: Vec<&StrategyRow> = r.strategies.iter().filter(|s| !is_baseline(s)).collect();
    if !others.is_empty() {
        charts.push(Chart::Intervals {
            title: "Δ conversions against the baseline (95% intervals)".into(),
            value_label: format!("conversions per {} (difference)", r.period),
            rows: others
                .iter()
                .map(|s| (s.id.clone(), s.delta_conversions, s.delta_conversions_ci95))
                .collect(),
        });
        charts.push(Chart::Intervals {
            title: "Δ revenue against the baseline (95% intervals)".into(),
            value_label: format!("revenue per {} ({}, difference)", r.period, r.header.scenario.currency),
            rows: others.iter().map(|s| (s.id.clone(), s.delta_revenue, s.delta_revenue_ci95)).collect(),
        });
        charts.push(Chart::Bars {
            title: "Strategies side by side".into(),
            value_label: format!("conversions per {}", r.period),
            categories: r.strategies.iter().map(|s| s.id.clone()).collect(),
            series: vec![
                ("simulated".into(), r.strategies.iter().map(|s| s.conversions).collect()),
                ("exact".into(), r.strategies.iter().map(|s| s.exact_conversions).collect()),
            ],
        });
    }
    if !r.spend_channels.is_empty() {
        let series = r
            .spend_channels
            .iter()
            .map(|c| {
                let curve = c.curve();
                Series {
                    name: format!("{} ({})", c.channel, c.mechanism.name()),
                    points: (0..=40)
                        .map(|k| {
                            let x = k as f64 / 20.0;
                            (x * 100.0, curve.multiplier(x * c.baseline))
                        })
                        .collect(),
                }
            })
            .collect();
        charts.push(Chart::Line {
            title: "Response curves per channel".into(),
            x_label: "spend (% of today's)".into(),
            y_label: "response multiplier m = g(S)/g(S⁰)".into(),
            x_scale: XScale::Linear,
            series,
        });
    }
    if let Some(c) = &r.curve {
        charts.push(Chart::Line {
            title: format!("Conversions as {} spend varies (exact)", c.channel),
            x_label: format!("{} spend per {} ({})", c.channel, r.period, r.header.scenario.currency),
            y_label: format!("conversions per {}", r.period),
            x_scale: XScale::Linear,
            series: vec![Series {
                name: "expected conversions".into(),
                points: c.points.iter().map(|p| (p.spend, p.conversions)).collect(),
            }],
        });
        charts.push(Chart::Line {
            title: format!("Marginal ROAS of {} spend", c.channel),
            x_label: format!("{} spend per {} ({})", c.channel, r.period, r.header.scenario.currency),
            y_label: format!("revenue per extra {} spent", r.header.scenario.currency),
            x_scale: XScale::Linear,
            series: vec![Series {
                name: "marginal ROAS".into(),
                points: c.points.iter().filter_map(|p| p.marginal_roas.map(|m| (p.spend, m))).collect(),
            }],
        });
    }
    if let Some(a) = &r.allocation {
        charts.push(Chart::Bars {
            title: format!("Budget allocation ({} per {})", num(a.budget, 0), r.period),
            value_label: format!("spend per {} ({})", r.period, r.header.scenario.currency),
            categories: a.channels.iter().map(|c| c.channel.clone()).collect(),
            series: vec![
                ("today".into(), a.channels.iter().map(|c| c.today).collect()),
                ("allocated".into(), a.channels.iter().map(|c| c.allocated).collect()),
            ],
        });
    }
    charts
}
