//! The document and charts of a forecast.

use super::doc::{Doc, Section, Table};
use super::fmt::{int, num};
use super::svg::{Chart, Series, XScale};
use fogg_result::{ForecastResult, ForecastVariant, bin_seconds};

/// The forecast laid out for people.
pub fn document(r: &ForecastResult) -> Doc {
    let currency = &r.header.scenario.currency;
    let mut lines = vec![
        format!(
            "{} → {} ({}), {} days, {} bins of {}",
            r.window.start,
            r.window.end,
            r.window.timezone,
            r.window.days.len(),
            int(r.window.bins as u64),
            resolution(r.window.resolution_s)
        ),
        format!(
            "{} · seed {} · {:.2} s on {} threads",
            replicates_line(r),
            r.header.seed,
            r.elapsed_s,
            r.threads
        ),
    ];
    if r.shard.count > 1 {
        lines.push(format!(
            "shard {} of {}: replicates {} to {} of {}, one part of the run (`fogg merge` the {} shards' JSON for the whole)",
            r.shard.index,
            r.shard.count,
            r.replicate_range[0],
            r.replicate_range[1],
            r.run_replicates,
            r.shard.count
        ));
    }
    let mut sections = vec![peak_section(r), window_section(r, currency)];
    for v in &r.variants {
        sections.push(days_section(v, currency));
        sections.push(touches_section(r, v));
    }
    sections.push(requests_section(r));
    Doc { title: format!("Forecast: {}", r.header.scenario.name), lines, sections }
}

fn replicates_line(r: &ForecastResult) -> String {
    let customers = r.variants.first().map_or(0.0, |v| v.expected_customers);
    format!("{} replicates of about {} customers", r.replicates, int(customers.round() as u64))
}

/// `300` → `5 min`.
fn resolution(s: u32) -> String {
    match s {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// A rate with the decimals its size needs: `212`, `21.4`, `0.55`,
/// `0.042`.
fn rate(x: f64) -> String {
    let decimals = match x.abs() {
        x if x >= 100.0 => 0,
        x if x >= 10.0 => 1,
        x if x >= 0.1 || x == 0.0 => 2,
        _ => 3,
    };
    num(x, decimals)
}

fn range(ci: [f64; 2]) -> String {
    format!("{} – {}", rate(ci[0]), rate(ci[1]))
}

fn peak_section(r: &ForecastResult) -> Section {
    let mut table = Table::new(&[
        "",
        "peak requests/s",
        "95% range",
        "expected",
        "at",
        "customers/s then",
        "peak customers/s",
        "95% range",
        "at",
    ])
    .text_column(4)
    .text_column(8);
    for v in &r.variants {
        let p = &v.peak;
        table.row(vec![
            v.id.clone(),
            rate(p.requests_per_s),
            range(p.requests_per_s_ci95),
            rate(p.expected_requests_per_s),
            p.requests_at.clone(),
            rate(p.customers_per_s_then),
            rate(p.customers_per_s),
            range(p.customers_per_s_ci95),
            p.customers_at.clone(),
        ]);
    }
    Section {
        title: format!("Peak traffic ({} bins)", resolution(r.window.resolution_s)),
        table,
        notes: vec![
            "Peaks are the busiest bin of each replicate: the median, and the range 95% of replicates fall in. \"Expected\" is the busiest bin of the traffic computed from the chain without simulation; \"at\" is when that bin starts, local time.".to_owned(),
            "Judge a site against it with `fogg capacity --expected-peak FORECAST.json`; replay it with `fogg load --forecast FORECAST.json`.".to_owned(),
        ],
    }
}

fn window_section(r: &ForecastResult, currency: &str) -> Section {
    let mut table = Table::new(&[
        "",
        "customers",
        "conversions",
        "carry-over",
        "exact",
        "revenue",
        "spend",
        "cost",
        "cost/conversion",
    ]);
    for v in &r.variants {
        let t = &v.total;
        let conversions = t.conversions + v.carry_over.conversions;
        table.row(vec![
            v.id.clone(),
            num(v.raw.customers as f64 / f64::from(r.replicates.max(1)), 0),
            num(t.conversions, 1),
            num(v.carry_over.conversions, 1),
            num(v.exact_conversions, 1),
            num(t.revenue + v.carry_over.revenue, 2),
            num(t.spend, 2),
            num(t.cost, 2),
            if conversions > 0.0 { num(t.cost / conversions, 2) } else { "–".into() },
        ]);
    }
    Section {
        title: format!("Over the window (means per replicate, {currency})"),
        table,
        notes: vec![
            "Carry-over: conversions after the window closes, by customers who arrived in it. \"Exact\" is the closed form of both together; revenue includes the carry-over, cost per conversion counts it.".to_owned(),
        ],
    }
}

fn days_section(v: &ForecastVariant, currency: &str) -> Section {
    let mut table = Table::new(&["day", "arrivals", "touches", "conversions", "revenue", "spend", "cost"]);
    for d in &v.days {
        table.row(vec![
            d.label.clone(),
            num(d.arrivals, 0),
            num(d.touches.iter().sum(), 0),
            num(d.conversions, 1),
            num(d.revenue, 2),
            num(d.spend, 2),
            num(d.cost, 2),
        ]);
    }
    Section {
        title: format!("Per day: {} (means per replicate, {currency})", v.id),
        table,
        notes: Vec::new(),
    }
}

fn touches_section(r: &ForecastResult, v: &ForecastVariant) -> Section {
    let mut header: Vec<&str> = vec!["day"];
    header.extend(r.channels.iter().map(|c| c.id.as_str()));
    let mut table = Table::new(&header);
    for d in &v.days {
        let mut row = vec![d.label.clone()];
        row.extend(d.touches.iter().map(|t| num(*t, 0)));
        table.row(row);
    }
    Section {
        title: format!("Touches per channel and day: {} (means per replicate)", v.id),
        table,
        notes: Vec::new(),
    }
}

fn requests_section(r: &ForecastResult) -> Section {
    let mut header = vec!["request".to_owned()];
    for v in &r.variants {
        header.push(format!("{} at its peak, /s", v.id));
        header.push(format!("{} over the window", v.id));
    }
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(&refs);
    let reps = f64::from(r.replicates.max(1));
    for (k, name) in r.requests.iter().enumerate() {
        let mut row = vec![name.clone()];
        for v in &r.variants {
            let j = v.peak.requests_bin;
            row.push(num(
                v.expected.requests[k].get(j).copied().unwrap_or(0.0) / bin_seconds(&r.window, j),
                2,
            ));
            row.push(num(v.raw.requests[k].iter().sum::<u64>() as f64 / reps, 0));
        }
        table.row(row);
    }
    Section {
        title: "Traffic by request".to_owned(),
        table,
        notes: vec![
            "At its peak: expected requests/s of each name in the busiest bin; over the window: requests per replicate. Each visit of a state sends the state's requests of `[load]` and their resources.".to_owned(),
        ],
    }
}

/// The charts of the HTML report.
pub fn charts(r: &ForecastResult) -> Vec<Chart> {
    let Some(base) = r.variants.first() else { return Vec::new() };
    let days = |j: usize| j as f64 * f64::from(r.window.resolution_s) / 86_400.0;
    let reps = f64::from(r.replicates.max(1));
    let per_s = |count: f64, j: usize| count / bin_seconds(&r.window, j).max(1e-9);
    let mut traffic: Vec<Series> = r
        .variants
        .iter()
        .map(|v| Series {
            name: v.id.clone(),
            points: (0..r.window.bins)
                .map(|j| {
                    let total: u64 = v.raw.requests.iter().map(|k| k[j]).sum();
                    (days(j), per_s(total as f64 / reps, j))
                })
                .collect(),
        })
        .collect();
    traffic.push(Series {
        name: format!("{} expected", base.id),
        points: (0..r.window.bins)
            .map(|j| (days(j), per_s(base.expected.requests.iter().map(|k| k[j]).sum(), j)))
            .collect(),
    });
    let peak = &base.peak;
    traffic.push(Series {
        name: format!("peak {}/s", rate(peak.expected_requests_per_s)),
        points: vec![(days(peak.requests_bin), 0.0), (days(peak.requests_bin), peak.expected_requests_per_s)],
    });
    let x_label = format!("days since {} ({})", r.window.start, r.window.timezone);
    let by_request: Vec<Series> = r
        .requests
        .iter()
        .enumerate()
        .map(|(k, name)| Series {
            name: name.clone(),
            points: (0..r.window.bins).map(|j| (days(j), per_s(base.expected.requests[k][j], j))).collect(),
        })
        .collect();
    let dates: Vec<String> = r.window.days.clone();
    let per_day = |f: fn(&fogg_result::Figures) -> f64| -> Vec<(String, Vec<f64>)> {
        r.variants.iter().map(|v| (v.id.clone(), v.days.iter().map(f).collect())).collect()
    };
    vec![
        Chart::Line {
            title: format!(
                "Requests per second ({} bins; mean of {} replicates; peak at {})",
                resolution(r.window.resolution_s),
                r.replicates,
                peak.requests_at
            ),
            x_label: x_label.clone(),
            y_label: "requests/s".into(),
            x_scale: XScale::Linear,
            series: traffic,
        },
        Chart::Line {
            title: format!("Expected requests per second by request: {}", base.id),
            x_label,
            y_label: "requests/s".into(),
            x_scale: XScale::Linear,
            series: by_request,
        },
        Chart::Bars {
            title: "Conversions per day".into(),
            value_label: "conversions (mean per replicate)".into(),
            categories: dates.clone(),
            series: per_day(|d| d.conversions),
        },
        Chart::Bars {
            title: "Revenue per day".into(),
            value_label: format!("revenue ({})", r.header.scenario.currency),
            categories: dates,
            series: per_day(|d| d.revenue),
        },
    ]
}
