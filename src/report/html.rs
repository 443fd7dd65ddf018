//! The HTML report: one self-contained file (inline CSS, SVG and a few
//! lines of script) with the result's charts and every table of its
//! document. A content security policy forbids every network request, so
//! the file opens anywhere, offline. Light and dark themes follow the
//! reader's setting; the page prints cleanly.

use std::io::{self, Write};

use super::doc::{Align, Doc};
use super::svg::Chart;

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #ffffff; --panel: #f5f7fa; --grid: #dde2ea;
  --c0: #2f6fdf; --c1: #e0752d; --c2: #2a9d6f; --c3: #c2417a; --c4: #7b5cd6; --c5: #b8912e; --c6: #3aa5c2; --c7: #8a93a3; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #a3abba; --bg: #161a21; --panel: #1f252e; --grid: #343c48;
  --c0: #6d9cff; --c1: #ff9d5c; --c2: #4fd19c; --c3: #f27aae; --c4: #a98bff; --c5: #e0be5a; --c6: #6dd3ee; --c7: #8f98a8; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.55rem; margin: 0 0 6px; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; }
p.line { margin: 2px 0; color: var(--muted); }
p.verdict { margin: 10px 0 12px; padding: 8px 12px; border-radius: 6px; font-weight: 600; border-left: 6px solid; }
p.verdict.pass { color: #14663d; background: #e3f5ea; border-color: #2a9d6f; }
p.verdict.fail { color: #8a1c1c; background: #fbe6e6; border-color: #c62828; }
@media (prefers-color-scheme: dark) { p.verdict.pass { color: #9fe3bd; background: #183526; }
  p.verdict.fail { color: #ffb3b3; background: #3d1d1d; } }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; margin-top: 20px; }
figure { margin: 0; background: var(--panel); border-radius: 8px; padding: 8px; break-inside: avoid; }
svg.chart { width: 100%; height: auto; display: block; color: var(--fg); }
svg .title { font-size: 15px; font-weight: 600; fill: var(--fg); }
svg .tick, svg .legend { font-size: 11px; fill: var(--muted); }
svg .axis-label { font-size: 12px; fill: var(--fg); }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .axis { stroke: var(--muted); fill: none; stroke-width: 1.2; }
svg .zero { stroke: var(--fg); stroke-dasharray: 4 3; fill: none; }
svg .line { fill: none; stroke-width: 2.2; stroke-linejoin: round; }
svg .whisker { fill: none; stroke-width: 2; }
svg .cell { fill: var(--c0); }
svg .cell-value { font-size: 10px; fill: var(--fg); }
svg .cell-value.on-dark { fill: #fff; }
"#;

const STYLE_TABLES: &str = r#"
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin: 4px 0; }
.table-wrap { overflow-x: auto; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--grid); }
td:first-child { white-space: nowrap; }
td.num, th.num { white-space: nowrap; }
/* A wide table (intervals beside every figure) wraps its cells at spaces
   rather than run off the page: "+4,708 [-3,597, 13,014] *" takes two
   lines, and every column stays in view. */
table.wide td.num, table.wide th { white-space: normal; }
table.wide td { font-size: 0.92em; }
th { text-align: left; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
ul.notes { color: var(--muted); font-size: 0.88rem; margin: 6px 0 0; padding-left: 18px; }
footer { margin-top: 36px; color: var(--muted); font-size: 0.85rem; }
@media print { @page { size: landscape; margin: 12mm; } body { background: #fff; color: #000; } main { max-width: none; padding: 0; }
  .charts { grid-template-columns: 1fr 1fr; } figure { background: none; border: 1px solid #ccc; }
  .table-wrap { overflow: visible; } table { font-size: 10px; } td.num, th.num { white-space: normal; } }
"#;

/// Nothing may be fetched: styles and the script are inline, charts are
/// SVG in the page.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// Once laid out, counts the charts that drew something (a path with a
/// non-empty box) into `data-charts-drawn="DRAWN/ALL"` on the page, and
/// says on the console which did not: what the browser test reads.
/// It also logs a table wider than its box (columns a reader would have
/// to scroll to), which the browser test fails on.
const CHECK: &str = "addEventListener('load',()=>{const all=[...document.querySelectorAll('svg.chart')];let drawn=0;for(const svg of all){const ok=[...svg.querySelectorAll('path')].some(p=>{const b=p.getBBox();return b.width>0||b.height>0;});if(ok)drawn++;else console.error('chart drew nothing: '+svg.getAttribute('aria-label'));}for(const w of document.querySelectorAll('.table-wrap')){if(innerWidth>=1200&&w.scrollWidth>w.clientWidth+1)console.error('table wider than the page: '+w.parentElement.querySelector('h2').textContent);}document.documentElement.dataset.chartsDrawn=drawn+'/'+all.length;});";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Writes `doc` and `charts` as one HTML page.
pub fn write(doc: &Doc, charts: &[Chart], kind: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">")?;
    writeln!(out, "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>", esc(&doc.title), style())?;
    writeln!(out, "<h1>{}</h1>", esc(&doc.title))?;
    if let Some(verdict) = verdict(doc) {
        let class = if verdict.starts_with("PASS") { "pass" } else { "fail" };
        writeln!(out, "<p class=\"verdict {class}\">{}</p>", esc(verdict))?;
    }
    for line in &doc.lines {
        writeln!(out, "<p class=\"line\">{}</p>", esc(line))?;
    }
    if !charts.is_empty() {
        writeln!(out, "<section class=\"charts\">")?;
        for chart in charts {
            writeln!(out, "<figure>{}</figure>", chart.svg())?;
        }
        writeln!(out, "</section>")?;
    }
    for section in &doc.sections {
        let t = &section.table;
        // Seven columns and more would not fit the page on one line each.
        let wide = if t.header.len() >= 7 { " class=\"wide\"" } else { "" };
        writeln!(
            out,
            "<section>\n<h2>{}</h2>\n<div class=\"table-wrap\"><table{wide}>\n<thead><tr>",
            esc(&section.title)
        )?;
        for (h, a) in t.header.iter().zip(&t.align) {
            writeln!(out, "<th{}>{}</th>", class(*a), esc(h))?;
        }
        writeln!(out, "</tr></thead>\n<tbody>")?;
        for row in &t.rows {
            write!(out, "<tr>")?;
            for (cell, a) in row.iter().zip(&t.align) {
                write!(out, "<td{}>{}</td>", class(*a), esc(cell))?;
            }
            writeln!(out, "</tr>")?;
        }
        writeln!(out, "</tbody></table></div>")?;
        if !section.notes.is_empty() {
            writeln!(out, "<ul class=\"notes\">")?;
            for n in &section.notes {
                writeln!(out, "<li>{}</li>", esc(n))?;
            }
            writeln!(out, "</ul>")?;
        }
        writeln!(out, "</section>")?;
    }
    writeln!(
        out,
        "<footer>fogg {} · {kind} report · one self-contained file; the JSON written beside it re-renders it: <code>fogg report FILE.json --format html</code></footer>",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(out, "</main>\n<script>{CHECK}</script>\n</body>\n</html>")
}

/// The document's verdict ("PASS: …" or "FAIL: …", from a header line or
/// a section's notes), shown in colour at the top of the page, above the
/// charts, where a reader looks first.
fn verdict(doc: &Doc) -> Option<&str> {
    let notes = doc.sections.iter().flat_map(|s| s.notes.iter());
    doc.lines.iter().chain(notes).find_map(|text| {
        let at = ["PASS: ", "FAIL: "].iter().filter_map(|v| text.find(v)).min()?;
        Some(&text[at..])
    })
}

fn class(a: Align) -> &'static str {
    match a {
        Align::Left => "",
        Align::Right => " class=\"num\"",
    }
}

/// The page's CSS: the base, one colour class per series, the tables.
fn style() -> String {
    let series: String = (0..8)
        .map(|i| {
            format!(
                "svg .s{i}, svg .whisker.c{i} {{ stroke: var(--c{i}); }} svg .c{i} {{ fill: var(--c{i}); }}\n"
            )
        })
        .collect();
    format!("{STYLE}{series}{STYLE_TABLES}")
}
