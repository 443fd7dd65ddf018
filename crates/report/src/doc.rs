//! A neutral document (title, sections, tables) that the terminal and
//! Markdown writers render, so both show the same content.

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table with a header row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// Alignment per column.
    pub align: Vec<Align>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first column is text and the others numbers.
    pub fn new(header: &[&str]) -> Table {
        let align = (0..header.len()).map(|i| if i == 0 { Align::Left } else { Align::Right }).collect();
        Table { header: header.iter().map(|s| s.to_string()).collect(), align, rows: Vec::new() }
    }

    /// Makes column `i` left-aligned text.
    pub fn text_column(mut self, i: usize) -> Table {
        self.align[i] = Align::Left;
        self
    }

    /// Makes column `i` right-aligned numbers (the first column of a
    /// table keyed by a number, such as a spend).
    pub fn number_column(mut self, i: usize) -> Table {
        self.align[i] = Align::Right;
        self
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }
}

/// A titled part of a report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Title.
    pub title: String,
    /// The table.
    pub table: Table,
    /// Sentences shown under the table.
    pub notes: Vec<String>,
}

/// A whole report.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Title line.
    pub title: String,
    /// Lines under the title.
    pub lines: Vec<String>,
    /// Sections, in order.
    pub sections: Vec<Section>,
}
