//! The HTML report: one self-contained file (inline CSS, SVG and a few
//! lines of script) with the result's charts and every table of its
//! document. A content security policy forbids every network request, so
//! the file opens anywhere, offline. Light and dark themes follow the
//! reader's setting; the page prints cleanly.

use std::io::{self, Write};

use super::doc::{Align, Doc};
use super::svg::{Chart, esc};

/// The page's CSS: the base, one colour class per series, the tables;
/// the live dashboard (`fogg load --dashboard`) shares it.
const STYLE: &str = include_str!("../../../assets/report.css");

/// Nothing may be fetched: styles and the script are inline, charts are
/// SVG in the page.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// Once laid out, counts the charts that drew something (a path with a
/// non-empty box) into `data-charts-drawn="DRAWN/ALL"` on the page, and
/// says on the console which did not: what the browser test reads.
/// It also logs a table wider than its box (columns a reader would have
/// to scroll to), which the browser test fails on.
const CHECK: &str = "addEventListener('load',()=>{const all=[...document.querySelectorAll('svg.chart')];let drawn=0;for(const svg of all){const ok=[...svg.querySelectorAll('path')].some(p=>{const b=p.getBBox();return b.width>0||b.height>0;});if(ok)drawn++;else console.error('chart drew nothing: '+svg.getAttribute('aria-label'));}for(const w of document.querySelectorAll('.table-wrap')){if(innerWidth>=1200&&w.scrollWidth>w.clientWidth+1)console.error('table wider than the page: '+w.parentElement.querySelector('h2').textContent);}document.documentElement.dataset.chartsDrawn=drawn+'/'+all.length;});";

/// Writes `doc` and `charts` as one HTML page.
pub fn write(doc: &Doc, charts: &[Chart], kind: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">")?;
    writeln!(out, "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>", esc(&doc.title), STYLE)?;
    writeln!(out, "<h1>{}</h1>", esc(&doc.title))?;
    if let Some(verdict) = verdict(doc) {
        let class = if verdict.starts_with("PASS") { "pass" } else { "fail" };
        // INCOMPLETE is shown as a failure: it is not a pass.
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

/// The document's verdict ("PASS: …", "FAIL: …" or "INCOMPLETE: …", from a header line or
/// a section's notes), shown in colour at the top of the page, above the
/// charts, where a reader looks first.
fn verdict(doc: &Doc) -> Option<&str> {
    let notes = doc.sections.iter().flat_map(|s| s.notes.iter());
    doc.lines.iter().chain(notes).find_map(|text| {
        let at = ["PASS: ", "FAIL: ", "INCOMPLETE: "].iter().filter_map(|v| text.find(v)).min()?;
        Some(&text[at..])
    })
}

fn class(a: Align) -> &'static str {
    match a {
        Align::Left => "",
        Align::Right => " class=\"num\"",
    }
}
