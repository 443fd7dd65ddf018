//! The document of a load result.

use super::doc::{Doc, Section, Table};
use super::fmt::{bytes, count, int, money, num, pct};
use fogg_core::verdict::Verdict;
use fogg_load::StopReason;
use fogg_load::recorder::ErrorClass;
use fogg_load::threshold::{verdict_line, with_unit};
use fogg_result::{ErrorCounts, LoadResult, Percentiles};

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| if v >= 100.0 { num(v, 0) } else { num(v, 1) })
}

fn errors_text(e: &ErrorCounts) -> String {
    let parts: Vec<String> = ErrorClass::ALL
        .iter()
        .filter(|c| e.of(**c) > 0)
        .map(|c| format!("{} {}", int(e.of(*c)), c.short_name()))
        .collect();
    if parts.is_empty() { "0".into() } else { parts.join(", ") }
}

fn latency_row(name: &str, requests: u64, errors: &ErrorCounts, p: &Percentiles) -> Vec<String> {
    vec![
        name.to_owned(),
        int(requests),
        errors_text(errors),
        ms(p.p50),
        ms(p.p90),
        ms(p.p95),
        ms(p.p99),
        ms(p.max),
    ]
}

/// Why arrivals stopped, in words.
pub fn stop_text(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Duration => "duration",
        StopReason::Customers => "customer count",
        StopReason::Interrupted => "signal",
        StopReason::Aborted => "error rate (hard failure)",
        StopReason::ThresholdFailed => "a failed threshold (--abort-on-fail)",
        StopReason::TargetDown => "target down (no connection for 5 s)",
    }
}

/// Lays out a [`LoadResult`] for people.
pub fn document(r: &LoadResult) -> Doc {
    let mut lines = vec![
        format!(
            "scenario {} · target {}{} · seed {}{}",
            r.header.scenario.source,
            r.target,
            match r.http_versions.text() {
                v if v.is_empty() => v,
                v => format!(" ({v})"),
            },
            r.header.seed,
            match r.traces.run_ids.as_slice() {
                [] => String::new(),
                [one] => format!(" · run {one}"),
                several => format!(" · runs {}", several.join(", ")),
            }
        ),
        format!(
            "{} in {:.1} s ({:.1}/s{}) · {} ({:.1}/s) · stopped by {}",
            count(r.customers, "customer"),
            r.duration_s,
            r.achieved_arrival_rate,
            r.target_arrival_rate.map_or(String::new(), |t| format!(", asked {t:.1}/s")),
            count(r.requests, "request"),
            r.requests_per_s,
            stop_text(r.stopped_by)
        ),
    ];
    if r.raw.shard.count > 1 {
        lines.push(format!(
            "shard {} of {}: 1/{} of the arrivals, one part of the run (`fogg merge` the {} shards' JSON for the whole)",
            r.raw.shard.index, r.raw.shard.count, r.raw.shard.count, r.raw.shard.count
        ));
    }
    lines.extend(r.notes.iter().cloned());

    let mut sections = Vec::new();
    if !r.thresholds.is_empty() {
        sections.push(thresholds_section(r));
    } else if r.cut_short().is_some() {
        // No thresholds section to carry it: the verdict goes on top.
        lines.push(load_verdict_line(r));
    }
    sections.extend([
        Section {
            title: "Business outcome".into(),
            table: business_table(r),
            notes: vec![
                "each customer's journey is fixed by the seed, so losses are paired customer by customer"
                    .into(),
            ],
        },
        Section {
            title: "Latency".into(),
            table: latency_table(r),
            notes: vec![
                "measured from the intended send time (arrival, or previous response + think time)".into(),
                "percentiles and latency thresholds are of successful requests: a failing target cannot look fast, and a latency threshold with no successful response fails".into(),
            ],
        },
        Section { title: "Requests".into(), table: requests_table(r), notes: vec![] },
    ]);
    if !r.failures.is_empty() {
        sections.push(failures_section(r));
    }
    sections.extend([
        Section { title: "Requests by state".into(), table: states_table(r), notes: vec![] },
        Section { title: "Run".into(), table: run_table(r), notes: vec![] },
        Section {
            title: "Settings".into(),
            table: settings_table(r),
            notes: vec![format!("scenario {} ({})", r.header.scenario.name, r.header.scenario.source)],
        },
    ]);
    if r.segments.len() > 1 {
        sections.push(segments_section(r));
    }
    if !(r.traces.slowest.is_empty() && r.traces.failed.is_empty()) {
        sections.push(traces_section(r));
    }
    Doc { title: format!("fogg load — {}", r.header.scenario.name), lines, sections }
}

/// What slow and failed responses cost: conversions and revenue.
fn business_table(r: &LoadResult) -> Table {
    let cur = &r.header.scenario.currency;
    let mut business = Table::new(&["business outcome", "value"]);
    business.row(vec!["conversions achieved".into(), int(r.conversions)]);
    business.row(vec!["conversions with instant responses".into(), int(r.counterfactual_conversions)]);
    business.row(vec!["lost to latency".into(), int(r.conversions_lost_to_latency)]);
    business.row(vec!["lost to errors".into(), int(r.conversions_lost_to_errors)]);
    business.row(vec!["share of conversions lost".into(), pct(r.conversions_lost_share)]);
    business.row(vec!["revenue".into(), money(r.revenue, cur)]);
    business.row(vec!["revenue at risk".into(), money(r.revenue_at_risk, cur)]);
    business.row(vec!["customers who left on a slow page".into(), int(r.abandoned_latency)]);
    business.row(vec!["customers who left on an error".into(), int(r.abandoned_errors)]);
    business
}

/// The latency table's header, first column named `first`.
fn latency_header(first: &str) -> Table {
    // Errors stay right-aligned among the numbers, class names and all.
    let mut table = Table::new(&["", "requests", "errors", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"]);
    table.header[0] = first.into();
    table
}

/// Latency of the successful requests from the intended send time, their
/// service time, and the latency of the failed ones apart.
fn latency_table(r: &LoadResult) -> Table {
    let mut latency = latency_header("latency");
    let none = ErrorCounts::default();
    let ok = r.requests - r.errors.total() - r.requests_unfinished;
    latency.row(latency_row("successful, from intended send time", ok, &none, &r.latency_ms));
    latency.row(latency_row("successful, service time (from actual send)", ok, &none, &r.service_time_ms));
    latency.row(latency_row(
        "failed, from intended send time",
        r.errors.total(),
        &r.errors,
        &r.failed_latency_ms,
    ));
    latency
}

/// Latency per request name.
fn requests_table(r: &LoadResult) -> Table {
    let mut requests = latency_header("request");
    for q in &r.by_request {
        requests.row(latency_row(&q.name, q.requests, &q.errors, &q.latency_ms));
    }
    requests
}

/// Why requests failed: per request name, its failures by reason, with
/// the status codes they got, and where to read the first exchanges.
fn failures_section(r: &LoadResult) -> Section {
    let mut table = Table::new(&["request", "failed", "statuses", "why"]).text_column(2).text_column(3);
    table.align[2] = super::doc::Align::Left;
    let mut notes = Vec::new();
    for f in &r.failures {
        let statuses: Vec<String> =
            f.statuses.iter().map(|(code, n)| format!("{code} ×{}", int(*n))).collect();
        let mut reasons: Vec<(&String, &u64)> = f.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (i, (reason, n)) in reasons.into_iter().enumerate() {
            let (name, statuses) =
                if i == 0 { (f.request.clone(), statuses.join(", ")) } else { Default::default() };
            table.row(vec![name, int(*n), statuses, reason.clone()]);
        }
        if let Some(s) = f.samples.first() {
            let status = s.status.map_or_else(|| "no response".to_owned(), |c| c.to_string());
            notes.push(format!(
                "{}: first failed for customer {}, {} {} → {status}",
                f.request, s.customer, s.method, s.path
            ));
        }
    }
    notes.push(
        "the JSON report keeps the first 3 failed exchanges of each request (headers, first 2 KB of the body; secrets, captured values and cookies redacted)"
            .into(),
    );
    Section { title: "Failures".into(), table, notes }
}

/// Latency of the requests each state sends.
fn states_table(r: &LoadResult) -> Table {
    let mut states = latency_header("state");
    for q in &r.by_state {
        states.row(latency_row(&q.name, q.requests, &q.errors, &q.latency_ms));
    }
    states
}

/// How the run was set up.
fn settings_table(r: &LoadResult) -> Table {
    let mut settings = Table::new(&["setting", "value"]).text_column(1);
    let st = &r.settings;
    settings.row(vec!["arrival profile".into(), st.profile.clone()]);
    settings.row(vec!["think time".into(), st.think_time.clone()]);
    settings.row(vec!["patience".into(), st.patience.clone()]);
    settings.row(vec!["after an error".into(), st.on_error.name().into()]);
    settings.row(vec!["request timeout".into(), format!("{} s", num(st.timeout_s, 1))]);
    settings.row(vec!["max customers in flight".into(), int(st.max_in_flight as u64)]);
    settings.row(vec!["grace after arrivals stop".into(), format!("{} s", num(st.grace_s, 1))]);
    settings
}

/// Arrivals, drops, unfinished customers, error rate.
fn run_table(r: &LoadResult) -> Table {
    let mut load = Table::new(&["run", "value"]);
    load.row(vec!["arrivals".into(), int(r.arrivals)]);
    load.row(vec!["arrivals dropped (max_in_flight busy)".into(), int(r.arrivals_dropped)]);
    load.row(vec!["customers unfinished at the end".into(), int(r.customers_unfinished)]);
    load.row(vec!["requests cut short by the end (not errors)".into(), int(r.requests_unfinished)]);
    load.row(vec!["response bodies, on the wire".into(), bytes(r.body_bytes.wire)]);
    load.row(vec!["response bodies, decoded".into(), bytes(r.body_bytes.decoded)]);
    load.row(vec!["error rate".into(), pct(r.error_rate)]);
    load
}

/// Each threshold with what was observed.
fn thresholds_section(r: &LoadResult) -> Section {
    let mut checks = Table::new(&["threshold", "observed", "limit", "result"]).text_column(3);
    for t in &r.thresholds {
        checks.row(vec![
            t.key.clone(),
            with_unit(t.observed, t.unit),
            format!("{} {}", t.op.symbol(), with_unit(Some(t.limit), t.unit)),
            if t.passed { "pass".into() } else { "FAIL".into() },
        ]);
    }
    Section { title: "Thresholds".into(), table: checks, notes: vec![load_verdict_line(r)] }
}

/// The verdict of a load run: its thresholds' line, unless the run was
/// cut short, which no threshold can pass.
pub fn load_verdict_line(r: &LoadResult) -> String {
    let line = verdict_line(&r.thresholds);
    match (r.cut_short(), r.verdict) {
        (Some(why), Verdict::Incomplete) => {
            let held = match r.thresholds.len() {
                0 => "no thresholds were set".to_owned(),
                1 => "its threshold held over what was measured".to_owned(),
                n => format!("all {n} thresholds held over what was measured"),
            };
            format!("INCOMPLETE: {why}, so not a pass; {held}")
        }
        (Some(why), _) => format!("{line} (the run was {why})"),
        (None, _) => line,
    }
}

/// Per segment: customers, requests, errors, p99, conversions.
fn segments_section(r: &LoadResult) -> Section {
    let mut seg =
        Table::new(&["segment", "customers", "requests", "errors", "p99 ms", "conversions", "lost"]);
    for s in &r.segments {
        seg.row(vec![
            s.segment.clone(),
            int(s.customers),
            int(s.requests),
            int(s.errors),
            ms(s.latency_ms.p99),
            int(s.conversions),
            int(s.conversions_lost_to_latency + s.conversions_lost_to_errors),
        ]);
    }
    Section { title: "Segments".into(), table: seg, notes: vec![] }
}

/// The trace ids of the slowest and the first failed journeys, to paste
/// into an APM search.
fn traces_section(r: &LoadResult) -> Section {
    let mut traces = Table::new(&["journey", "customer", "trace id", "request", "ms", "error"])
        .text_column(2)
        .text_column(3);
    traces.align[5] = super::doc::Align::Left;
    let rows =
        r.traces.slowest.iter().map(|t| ("slowest", t)).chain(r.traces.failed.iter().map(|t| ("failed", t)));
    for (kind, t) in rows {
        traces.row(vec![
            kind.into(),
            t.customer.to_string(),
            t.trace_id.clone(),
            t.request.clone(),
            num(t.latency_ms, 1),
            t.error.map_or(String::new(), |e| e.short_name().to_owned()),
        ]);
    }
    Section {
        title: "Traces".into(),
        table: traces,
        notes: vec![
            "every request carries a W3C traceparent whose trace id is its customer's journey: search your APM for one".into(),
        ],
    }
}

/// The thresholds, business outcome and latency: what a pull-request
/// comment or a CI job summary needs.
pub fn summary(r: &LoadResult) -> Doc {
    let mut doc = document(r);
    doc.sections.retain(|s| matches!(s.title.as_str(), "Thresholds" | "Business outcome" | "Latency"));
    doc
}

/// The HDR percentile plot's series: every request, then the first six
/// request names.
fn percentile_series(r: &LoadResult) -> Vec<super::svg::Series> {
    let hdr = |name: &str, h: &hdrhistogram::Histogram<u64>| super::svg::Series {
        name: name.to_owned(),
        points: super::hgrm::distribution(h)
            .into_iter()
            .filter(|p| p.quantile < 1.0)
            .map(|p| (p.quantile, p.value_ms))
            .collect(),
    };
    let agg = &r.raw.agg;
    let mut percentile = vec![hdr("all requests", &agg.overall.latency_us)];
    for (name, t) in r.raw.request_names.iter().zip(&agg.by_request).take(6) {
        percentile.push(hdr(name, &t.latency_us));
    }
    percentile
}

/// Failed requests per second, a series per error class the run saw (or
/// one flat series when it saw none).
fn error_series(r: &LoadResult) -> Vec<super::svg::Series> {
    use super::svg::Series;
    let mut errors: Vec<Series> = ErrorClass::ALL
        .iter()
        .filter(|c| r.errors.of(**c) > 0)
        .map(|c| Series {
            name: c.short_name().to_owned(),
            points: over_time(r, &|s| Some(per_second(s.errors_by_class.of(*c), s))),
        })
        .collect();
    if errors.is_empty() {
        errors.push(Series {
            name: "errors (none)".into(),
            points: over_time(r, &|s| Some(per_second(s.errors, s))),
        });
    }
    errors
}

/// `f` of each row of the run over time, at the second the row starts.
fn over_time(r: &LoadResult, f: &dyn Fn(&fogg_result::SecondRow) -> Option<f64>) -> Vec<(f64, f64)> {
    r.series.iter().filter_map(|s| f(s).map(|v| (s.second as f64, v))).collect()
}

/// A count of a row as a rate: rows of a long run cover several seconds.
fn per_second(count: u64, s: &fogg_result::SecondRow) -> f64 {
    count as f64 / s.seconds.max(1) as f64
}

/// The charts of the HTML report: the HDR percentile plot, latency,
/// throughput and errors over time, latency per request and the
/// conversions latency and errors cost.
pub fn charts(r: &LoadResult) -> Vec<super::svg::Chart> {
    use super::svg::{Chart, Series, XScale};
    let second = |f: &dyn Fn(&fogg_result::SecondRow) -> Option<f64>| over_time(r, f);
    let percentile = percentile_series(r);
    let errors = error_series(r);
    vec![
        Chart::Line {
            title: "Latency by percentile (HDR)".into(),
            x_label: "percentile (log scale of 1/(1 − q))".into(),
            y_label: "latency from intended send time (ms)".into(),
            x_scale: XScale::Percentile,
            series: percentile,
        },
        Chart::Line {
            title: "Latency over time".into(),
            x_label: "time since start (s)".into(),
            y_label: "latency (ms)".into(),
            x_scale: XScale::Linear,
            series: vec![
                Series { name: "p50".into(), points: second(&|s| s.p50_ms) },
                Series { name: "p99".into(), points: second(&|s| s.p99_ms) },
            ],
        },
        Chart::Line {
            title: "Throughput over time".into(),
            x_label: "time since start (s)".into(),
            y_label: "per second".into(),
            x_scale: XScale::Linear,
            series: vec![
                Series { name: "requests/s".into(), points: second(&|s| Some(per_second(s.requests, s))) },
                Series { name: "arrivals/s".into(), points: second(&|s| Some(per_second(s.arrivals, s))) },
            ],
        },
        // A count, not a rate: its own axis.
        Chart::Line {
            title: "Customers in flight".into(),
            x_label: "time since start (s)".into(),
            y_label: "customers started and not finished".into(),
            x_scale: XScale::Linear,
            series: vec![Series { name: "in flight".into(), points: second(&|s| Some(s.in_flight as f64)) }],
        },
        Chart::Line {
            title: "Errors over time by class".into(),
            x_label: "time since start (s)".into(),
            y_label: "failed requests per second".into(),
            x_scale: XScale::Linear,
            series: errors,
        },
        Chart::Bars {
            title: "Latency per request".into(),
            value_label: "latency (ms)".into(),
            categories: r.by_request.iter().map(|q| q.name.clone()).collect(),
            series: vec![
                ("p50".into(), r.by_request.iter().map(|q| q.latency_ms.p50.unwrap_or(0.0)).collect()),
                ("p99".into(), r.by_request.iter().map(|q| q.latency_ms.p99.unwrap_or(0.0)).collect()),
            ],
        },
        Chart::Bars {
            title: "Conversions and what latency and errors cost".into(),
            value_label: "conversions".into(),
            categories: vec![
                "with instant responses".into(),
                "achieved".into(),
                "lost to latency".into(),
                "lost to errors".into(),
            ],
            series: vec![(
                "conversions".into(),
                vec![
                    r.counterfactual_conversions as f64,
                    r.conversions as f64,
                    r.conversions_lost_to_latency as f64,
                    r.conversions_lost_to_errors as f64,
                ],
            )],
        },
    ]
}
