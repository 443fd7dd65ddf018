//! Aligned plain-text tables for the terminal.

use std::io::{self, Write};

use super::doc::{Align, Doc, Table};

/// Writes `doc` as aligned text.
pub fn write(doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", doc.title)?;
    for line in &doc.lines {
        writeln!(out, "{line}")?;
    }
    for section in &doc.sections {
        writeln!(out)?;
        writeln!(out, "{}", section.title)?;
        write_table(&section.table, out)?;
        for note in &section.notes {
            writeln!(out, "  {note}")?;
        }
    }
    Ok(())
}

fn write_table(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    let width = |i: usize| {
        table
            .rows
            .iter()
            .map(|r| r[i].chars().count())
            .chain([table.header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..table.header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut s = String::from(" ");
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            s.push_str("  ");
            match table.align[i] {
                Align::Left => {
                    s.push_str(cell);
                    s.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    s.extend(std::iter::repeat_n(' ', pad));
                    s.push_str(cell);
                }
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(&table.header))?;
    for row in &table.rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}
