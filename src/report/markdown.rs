//! GitHub-flavoured Markdown, fit for a pull-request comment or a wiki.

use std::io::{self, Write};

use super::doc::{Align, Doc};

/// Writes `doc` as Markdown.
pub fn write(doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# {}", escape(&doc.title))?;
    writeln!(out)?;
    for line in &doc.lines {
        writeln!(out, "{}  ", escape(line))?;
    }
    for section in &doc.sections {
        writeln!(out)?;
        writeln!(out, "## {}", escape(&section.title))?;
        writeln!(out)?;
        let t = &section.table;
        let cells = |row: &[String]| row.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | ");
        writeln!(out, "| {} |", cells(&t.header))?;
        let rule: Vec<&str> =
            t.align.iter().map(|a| if *a == Align::Right { "---:" } else { "---" }).collect();
        writeln!(out, "| {} |", rule.join(" | "))?;
        for row in &t.rows {
            writeln!(out, "| {} |", cells(row))?;
        }
        for note in &section.notes {
            writeln!(out)?;
            writeln!(out, "{}", escape(note))?;
        }
    }
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;")
}
