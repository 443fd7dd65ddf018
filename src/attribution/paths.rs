//! Path files: the aggregated format of the ChannelAttribution package,
//! `path;total_conversions;total_conversion_value;total_null`, one row per
//! distinct path, channels separated by `>` (names trimmed).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};

use crate::model::MAX_CHANNELS;

/// One distinct path with its outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRow {
    /// Channel indices, as written (repeats kept).
    pub channels: Vec<u32>,
    /// Journeys of this path that converted.
    pub conversions: f64,
    /// Value of those conversions.
    pub value: f64,
    /// Journeys of this path that did not.
    pub nulls: f64,
}

/// Every path of a file, channels numbered in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Paths {
    /// Channel names; a path's channel `i` is `channels[i]`.
    pub channels: Vec<String>,
    /// The rows.
    pub rows: Vec<PathRow>,
}

const COLUMNS: [&str; 4] = ["path", "total_conversions", "total_conversion_value", "total_null"];

/// Most journeys one row may count.
const MAX_COUNT: f64 = 1e18;
/// Most value one row may total.
const MAX_TOTAL_VALUE: f64 = 1e27;

impl Paths {
    /// The paths of a simulation exported with `--export-paths`, sorted so
    /// the result does not depend on hashing order.
    pub fn from_export(model: &crate::model::Model, export: &crate::sim::paths::PathExport) -> Paths {
        let mut rows: Vec<PathRow> = export
            .iter()
            .map(|(path, t)| PathRow {
                channels: path.iter().map(|&c| u32::from(c)).collect(),
                conversions: t.conversions as f64,
                value: t.value_cents as f64 / 100.0,
                nulls: t.nulls as f64,
            })
            .collect();
        rows.sort_by(|a, b| a.channels.cmp(&b.channels));
        Paths { channels: model.channels.iter().map(|c| c.id.clone()).collect(), rows }
    }

    /// Reads a path file; `separator` splits columns (`;` by default).
    pub fn read(file: &Path, separator: u8) -> anyhow::Result<Paths> {
        let text =
            std::fs::read(file).with_context(|| format!("cannot read path file '{}'", file.display()))?;
        Paths::parse(&text, separator).with_context(|| format!("path file '{}'", file.display()))
    }

    /// Parses path-file text.
    pub fn parse(text: &[u8], separator: u8) -> anyhow::Result<Paths> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(separator)
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text);
        let header: Vec<String> =
            reader.headers().context("reading the header row")?.iter().map(str::to_owned).collect();
        let mut at = [0usize; 4];
        for (i, name) in COLUMNS.iter().enumerate() {
            at[i] = header.iter().position(|h| h == name).ok_or_else(|| {
                anyhow::anyhow!(
                    "the header has no '{name}' column (it has: {}); the format is {}, separated by '{}' (--separator to change it)",
                    header.join(", "),
                    COLUMNS.join(";"),
                    separator as char
                )
            })?;
        }
        let mut paths = Paths::default();
        let mut index: HashMap<String, u32> = HashMap::new();
        for (n, record) in reader.records().enumerate() {
            let line = n + 2;
            let record = record.with_context(|| format!("line {line}"))?;
            let number = |col: usize| -> anyhow::Result<f64> {
                let field = record.get(at[col]).unwrap_or("");
                let v: f64 = field.parse().map_err(|_| {
                    anyhow::anyhow!("line {line}: {} '{field}' is not a number", COLUMNS[col])
                })?;
                if !v.is_finite() || v < 0.0 {
                    bail!("line {line}: {} is {v}; counts and values must be 0 or more", COLUMNS[col]);
                }
                // Far beyond any real data, and small enough that sums of
                // rows never overflow.
                let most = if col == 2 { MAX_TOTAL_VALUE } else { MAX_COUNT };
                if v > most {
                    bail!("line {line}: {} is {field}, more than fogg reads ({most:e})", COLUMNS[col]);
                }
                Ok(v)
            };
            let (conversions, value, nulls) = (number(1)?, number(2)?, number(3)?);
            let path = record.get(at[0]).unwrap_or("");
            if path.is_empty() {
                bail!(
                    "line {line}: the path is empty; write channels separated by '>', e.g. 'search > email'"
                );
            }
            let mut channels = Vec::new();
            for name in path.split('>').map(str::trim) {
                if name.is_empty() {
                    bail!("line {line}: path '{path}' has an empty channel name between '>'s");
                }
                if index.len() >= MAX_CHANNELS && !index.contains_key(name) {
                    bail!(
                        "line {line}: '{name}' is distinct channel number {}, and fogg models at most {MAX_CHANNELS}: group rare channels into one (e.g. 'other')",
                        MAX_CHANNELS + 1
                    );
                }
                let next = index.len() as u32;
                let id = *index.entry(name.to_owned()).or_insert_with(|| {
                    paths.channels.push(name.to_owned());
                    next
                });
                channels.push(id);
            }
            paths.rows.push(PathRow { channels, conversions, value, nulls });
        }
        if paths.rows.is_empty() {
            bail!("no paths: the file has a header but no rows");
        }
        Ok(paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_format_and_names_bad_rows() {
        let ok = Paths::parse(
            b"path;total_conversions;total_conversion_value;total_null\n a > b ;1;10.5;2\nb;0;0;3\n",
            b';',
        )
        .unwrap();
        assert_eq!(ok.channels, ["a", "b"]);
        assert_eq!(ok.rows[0].channels, [0, 1]);
        assert_eq!(ok.rows[1], PathRow { channels: vec![1], conversions: 0.0, value: 0.0, nulls: 3.0 });
        let err = |t: &str| format!("{:#}", Paths::parse(t.as_bytes(), b';').unwrap_err());
        let head = "path;total_conversions;total_conversion_value;total_null\n";
        assert!(
            err("path;total_conversions;total_null\na;1;0\n").contains("no 'total_conversion_value' column")
        );
        assert!(err(&format!("{head}a;-1;0;0\n")).contains("line 2: total_conversions is -1"));
        assert!(
            err(&format!("{head}a;1;0;0\nb;x;0;0\n"))
                .contains("line 3: total_conversions 'x' is not a number")
        );
        assert!(err(&format!("{head};1;0;0\n")).contains("line 2: the path is empty"));
        assert!(err(&format!("{head}a > > b;1;0;0\n")).contains("empty channel name"));
        assert!(err(head).contains("no paths"));
    }
}
