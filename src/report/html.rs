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
"#;

const STYLE_TABLES: &str = r#"
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin: 4px 0; }
.table-wrap { overflow-x: auto; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--grid); }
td.num, th.num, td:first-child { white-space: nowrap; }
th { text-align: left; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
ul.notes { color: var(--muted); font-size: 0.88rem; margin: 6px 0 0; padding-left: 18px; }
footer { margin-top: 36px; color: var(--muted); font-size: 0.85rem; }
@media print { body { background: #fff; color: #000; } .charts { grid-template-columns: 1fr 1fr; } figure { background: none; border: 1px solid #ccc; } }
"#;

/// Nothing may be fetched: styles and the script are inline, charts are
/// SVG in the page.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// Once laid out, counts the charts that drew something (a path with a
/// non-empty box) into `data-charts-drawn="DRAWN/ALL"` on the page, and
/// says on the console which did not: what the browser test reads.
const CHECK: &str = "addEventListener('load',()=>{const all=[...document.querySelectorAll('svg.chart')];let drawn=0;for(const svg of all){const ok=[...svg.querySelectorAll('path')].some(p=>{const b=p.getBBox();return b.width>0||b.height>0;});if(ok)drawn++;else console.error('chart drew nothing: '+svg.getAttribute('aria-label'));}document.documentElement.dataset.chartsDrawn=drawn+'/'+all.length;});";

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
        writeln!(
            out,
            "<section>\n<h2>{}</h2>\n<div class=\"table-wrap\"><table>\n<thead><tr>",
            esc(&section.title)
        )?;
        let t = &section.table;
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
        "<footer>fogg {} · {kind} report · one self-contained file: re-render it with <code>fogg report {kind}-….json --format html</code></footer>",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(out, "</main>\n<script>{CHECK}</script>\n</body>\n</html>")
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
