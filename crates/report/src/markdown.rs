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

/// Escapes what Markdown would read as markup, and only that, so the raw
/// file stays readable: `|` (a cell break), `<` where it could open an
/// HTML tag (`<b`, `</`, `<!`, `<?`; a threshold's `p99 < 500ms` stays as
/// it is), and a `>` that starts a line (a quote).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '<' if chars.peek().is_some_and(|n| n.is_alphanumeric() || matches!(n, '/' | '!' | '?')) => {
                out.push_str("\\<")
            }
            '>' if out.is_empty() || out.ends_with('\n') => out.push_str("\\>"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_markup_is_escaped() {
        assert_eq!(super::escape("p99 < 500ms | p99 <= 1s"), "p99 < 500ms \\| p99 <= 1s");
        assert_eq!(super::escape("<script>x</script>"), "\\<script>x\\</script>");
        assert_eq!(super::escape("> quoted"), "\\> quoted");
        assert_eq!(super::escape("a > b"), "a > b");
    }
}
