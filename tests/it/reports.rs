//! Report formats: insta snapshots of every result kind in every format
//! it has (from results saved from real runs, in `fixtures/`; the kinds
//! come from `ResultKind`, so a new one needs its fixture to compile),
//! re-rendering a saved result with `fogg report`, and the report of a
//! round-tripped JSON equal to the report of the original run.
//!
//! After an intended change, `INSTA_UPDATE=always cargo test reports`
//! rewrites the snapshots (or `cargo insta review` shows each change);
//! review them with `git diff` before committing. In CI a snapshot that
//! differs or is missing fails the test.

use std::path::{Path, PathBuf};

use fogg_report::{ReportFormat, Reportable, write};
use fogg_result::{
    AttributionResult, CalibrateResult, CapacityResult, FitResult, ForecastResult, LoadResult, ResultKind,
    SimResult, WhatifResult,
};

use crate::{bundled, fogg, simulate, without_run_info};

const FORMATS: [ReportFormat; 6] = [
    ReportFormat::Table,
    ReportFormat::Md,
    ReportFormat::Json,
    ReportFormat::Junit,
    ReportFormat::Hgrm,
    ReportFormat::Html,
];

pub(crate) fn here(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it").join(path)
}

/// A small load result saved from a real run (2 s against the demo shop).
fn load_fixture() -> LoadResult {
    let text = std::fs::read_to_string(here("fixtures/load-two-pages.json")).expect("fixture");
    serde_json::from_str(&text).expect("the fixture is a load result")
}

/// 20,000 customers of ecommerce-funnel, seed 1, timings blanked.
fn sim_fixture() -> SimResult {
    without_run_info(simulate(&bundled("ecommerce-funnel"), 20_000, 1, 1, false).0)
}

fn render<R: Reportable>(r: &R, format: ReportFormat) -> Option<String> {
    let mut bytes = Vec::new();
    write(r, format, &mut bytes).ok()?;
    Some(String::from_utf8(bytes).expect("UTF-8"))
}

/// A result saved from a real run, in `fixtures/`.
fn fixture<R: serde::de::DeserializeOwned>(name: &str) -> R {
    let text = std::fs::read_to_string(here(&format!("fixtures/{name}"))).expect("fixture");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is a result: {e}"))
}

/// Snapshots of `result` in each of `formats`, named `STEM.EXTENSION`.
fn snapshot_every_format<R: Reportable>(stem: &str, result: &R, formats: &[ReportFormat]) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for &format in formats {
            let text = render(result, format).unwrap_or_else(|| panic!("{stem} renders as {format:?}"));
            insta::assert_snapshot!(format!("{stem}.{}", format.extension()), text);
        }
    });
}

/// Snapshots of `result` in each of `formats`, and the reports of its
/// JSON read back equal to its own in every format.
fn snapshot_and_round_trip<R: Reportable + serde::de::DeserializeOwned>(
    stem: &str,
    result: &R,
    formats: &[ReportFormat],
) {
    snapshot_every_format(stem, result, formats);
    round_trip(stem, result);
}

/// The reports of `result`'s JSON read back equal its own in every format.
fn round_trip<R: Reportable + serde::de::DeserializeOwned>(stem: &str, result: &R) {
    let back: R = serde_json::from_str(&serde_json::to_string(result).expect("JSON")).expect("reads back");
    for f in FORMATS {
        assert_eq!(render(&back, f), render(result, f), "{stem} {f:?}");
    }
}

/// Every fixture of `kind`. The match has no wildcard: a new kind of
/// result does not compile until it has a snapshot and a round trip here.
fn check_kind(kind: ResultKind) {
    use ReportFormat as F;
    match kind {
        ResultKind::Simulate => {
            snapshot_and_round_trip("simulate-ecommerce-funnel", &sim_fixture(), F::DOCUMENTS);
        }
        ResultKind::Load => snapshot_and_round_trip("load-two-pages", &load_fixture(), F::LOAD),
        ResultKind::Whatif => {
            let whatif: WhatifResult = fixture("whatif-ecommerce-funnel.json");
            snapshot_and_round_trip("whatif-ecommerce-funnel", &whatif, F::DOCUMENTS);
            // A scenario fitted to counts: the data's intervals beside the
            // simulation's.
            let whatif: WhatifResult = fixture("whatif-fitted.json");
            snapshot_and_round_trip("whatif-fitted", &whatif, F::DOCUMENTS);
        }
        ResultKind::Attribute => {
            let attribute: AttributionResult = fixture("attribute-ecommerce-funnel.json");
            snapshot_and_round_trip("attribute-ecommerce-funnel", &attribute, F::DOCUMENTS);
            // A path file at order 2, cut as the package cuts, with
            // --simulate and --intervals: value removal effects, their
            // simulated cross-check, and 95% intervals.
            let attribute: AttributionResult = fixture("attribute-paths.json");
            snapshot_and_round_trip("attribute-paths", &attribute, F::DOCUMENTS);
        }
        ResultKind::Fit => {
            let fit: FitResult = fixture("fit-paths.json");
            snapshot_and_round_trip("fit-paths", &fit, F::DOCUMENTS);
        }
        ResultKind::Calibrate => {
            // Two channels: one curve from one test (slope kept), one from
            // three (slope fitted).
            let calibrate: CalibrateResult = fixture("calibrate-ecommerce-funnel.json");
            snapshot_and_round_trip("calibrate-ecommerce-funnel", &calibrate, F::DOCUMENTS);
        }
        ResultKind::Capacity => {
            let capacity: CapacityResult = fixture("capacity-two-pages.json");
            snapshot_and_round_trip("capacity-two-pages", &capacity, F::DOCUMENTS);
        }
        ResultKind::Compare => {
            let load = load_fixture();
            let compared =
                fogg_result::compare::compare(&load, &load, &Default::default(), ["a.json", "b.json"]);
            snapshot_and_round_trip("compare-two-pages", &compared, F::DOCUMENTS);
        }
        ResultKind::Forecast => {
            // One day of two pages at 1 h bins, its 09:00 hour five times
            // the others, two replicates.
            let forecast: ForecastResult = fixture("forecast-two-pages.json");
            snapshot_and_round_trip("forecast-two-pages", &forecast, F::DOCUMENTS);
        }
    }
}

#[test]
fn every_kind_matches_its_snapshot_in_every_format_and_round_trips() {
    for kind in ResultKind::ALL {
        check_kind(kind);
    }
}

#[test]
fn a_fresh_result_round_trips() {
    // Straight from the engine, not from a fixture.
    round_trip("campaign-launch", &simulate(&bundled("campaign-launch"), 30_000, 4, 2, false).0);
}

#[test]
fn fogg_report_rewrites_every_report_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .arg("report")
        .arg(here("fixtures/load-two-pages.json"))
        .args(["--format", "md", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert_eq!(Some(stdout), render(&load_fixture(), ReportFormat::Md));
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "load-two-pages.hgrm",
            "load-two-pages.home.hgrm",
            "load-two-pages.html",
            "load-two-pages.json",
            "load-two-pages.junit.xml",
            "load-two-pages.md",
            "load-two-pages.product.hgrm"
        ]
    );
    // The JSON written again is the JSON read.
    let again: LoadResult =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("load-two-pages.json")).expect("json"))
            .expect("load result");
    assert_eq!(again, load_fixture());

    let sim = dir.path().join("simulate.json");
    std::fs::write(&sim, serde_json::to_string(&sim_fixture()).expect("JSON")).expect("write");
    let hgrm = fogg().arg("report").arg(&sim).args(["--format", "hgrm"]).assert().code(2);
    assert!(String::from_utf8_lossy(&hgrm.get_output().stderr).contains("hgrm is for load results"));
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"schema_version\": 2, \"kind\": \"load\", \"seed\": 1}").expect("write");
    let bad = fogg().arg("report").arg(&junk).assert().code(2);
    assert!(
        String::from_utf8_lossy(&bad.get_output().stderr).contains("does not match the load result schema")
    );
    let old = dir.path().join("old.json");
    std::fs::write(&old, "{\"schema_version\": 1, \"kind\": \"load\", \"fogg_version\": \"0.0.9\"}")
        .expect("write");
    let refused = fogg().arg("report").arg(&old).assert().code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("written by fogg 0.0.9 (schema 1)") && stderr.contains("reads schema 2"),
        "{stderr}"
    );
}

/// Every `<svg class="chart">` of a page, and whether it draws a path.
fn charts_of(html: &str) -> Vec<(String, bool)> {
    html.split("<svg class=\"chart\"")
        .skip(1)
        .map(|chart| {
            let chart = &chart[..chart.find("</svg>").expect("closed svg")];
            let title =
                chart.split("<title>").nth(1).and_then(|t| t.split('<').next()).unwrap_or("").to_owned();
            (title, chart.contains(" d=\"M"))
        })
        .collect()
}

#[test]
fn html_reports_are_self_contained_and_chart_every_kind() {
    let sim = render(&sim_fixture(), ReportFormat::Html).expect("renders");
    let load = render(&load_fixture(), ReportFormat::Html).expect("renders");
    for (name, html, expected) in [
        (
            "simulate",
            &sim,
            &[
                "Funnel",
                "Flow of journeys between channels",
                "Touches per customer",
                "Journey length",
                "Time to first conversion",
            ][..],
        ),
        (
            "load",
            &load,
            &[
                "Latency by percentile (HDR)",
                "Latency over time",
                "Throughput over time",
                "Errors over time by class",
                "Latency per request",
                "Conversions and what",
            ][..],
        ),
    ] {
        assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"), "{name}");
        assert!(
            html.contains("Content-Security-Policy") && html.contains("default-src 'none'"),
            "{name}: no fetch allowed"
        );
        for attr in ["src=", "href=", "@import", "url("] {
            assert!(!html.contains(attr), "{name}: '{attr}' would load something");
        }
        let charts = charts_of(html);
        for title in expected {
            assert!(
                charts.iter().any(|(t, _)| t.starts_with(title)),
                "{name}: no chart '{title}' in {charts:?}"
            );
        }
        assert!(charts.iter().all(|(_, drawn)| *drawn), "{name}: {charts:?}");
        // Every table of the document is there, numbers formatted for people.
        assert!(html.contains("<h2>"), "{name}");
    }
    assert!(load.contains("<h2>Settings</h2>") && load.contains("<h2>Requests by state</h2>"));
    assert!(sim.contains(">20,000<"), "thousands separators");
}

/// What a person sees first on each HTML page: the verdict in colour
/// above the charts, each quantity on its own axis, the limit a capacity
/// search ran into, values in the flow map, a chart for a comparison.
#[test]
fn html_pages_show_what_matters_where_a_reader_looks() {
    let html = |r: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = Vec::new();
        r(&mut bytes);
        String::from_utf8(bytes).expect("UTF-8")
    };
    // Two channels: one curve from one test (slope kept), one from three
    // (slope fitted).
    let calibrate: CalibrateResult = fixture("calibrate-ecommerce-funnel.json");
    snapshot_every_format("calibrate-ecommerce-funnel", &calibrate, ReportFormat::DOCUMENTS);
    let capacity: CapacityResult = fixture("capacity-two-pages.json");
    let page = html(&|b| write(&capacity, ReportFormat::Html, b).expect("renders"));
    let banner = page.find("<p class=\"verdict fail\">FAIL: ").expect("a verdict banner");
    assert!(banner < page.find("<figure>").expect("charts"), "the verdict comes before the charts");
    assert!(page.contains("limit p99 &lt; 60ms"), "the latency limit is drawn");

    let page = html(&|b| write(&load_fixture(), ReportFormat::Html, b).expect("renders"));
    assert!(page.contains("aria-label=\"Customers in flight\""), "in flight has its own chart");
    let throughput = page.split("aria-label=\"Throughput over time\"").nth(1).expect("throughput chart");
    let throughput = &throughput[..throughput.find("</figure>").expect("end")];
    assert!(!throughput.contains("in flight"), "a count is not drawn on a rate axis");

    let page = html(&|b| write(&sim_fixture(), ReportFormat::Html, b).expect("renders"));
    assert!(page.contains("class=\"cell-value"), "the flow map shows its values");
    assert!(!page.contains("….json"), "the footer names no elided file");

    // Tables of seven columns and more wrap their cells to fit the page
    // (the browser test fails on any table wider than its box).
    let whatif: WhatifResult = fixture("whatif-ecommerce-funnel.json");
    let page = html(&|b| write(&whatif, ReportFormat::Html, b).expect("renders"));
    assert!(page.contains("<table class=\"wide\">"), "wide tables are marked");
}
