//! Path files: the aggregated format of the ChannelAttribution package,
//! `path;total_conversions;total_conversion_value;total_null`, one row per
//! distinct path, channels separated by `>`. As the package reads them:
//! names are trimmed, empty names (`a > > b`, `a >`) are skipped, and
//! only `path` and `total_conversions` are required (no value column
//! reads as 0, no null column as `--no-null`). See docs/attribution.md.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};

use fogg_model::MAX_CHANNELS;

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
    /// Optional columns the file left out (read as 0).
    pub missing: Vec<&'static str>,
    /// Whether the journeys that did not convert are in the rows: not
    /// with `--no-null`, nor from a file without `total_null`.
    pub nulls_counted: bool,
    /// What the reading guessed, for people (another column separator
    /// than the one asked for).
    pub notes: Vec<String>,
}

const COLUMNS: [&str; 4] = ["path", "total_conversions", "total_conversion_value", "total_null"];

/// Columns a path file must have (the others read as 0).
const REQUIRED: usize = 2;

/// Characters that separate channels in other tools' exports: a channel
/// name holding one, in a file where no path has two channels, means the
/// channel separator is not the file's.
const OTHER_SEPARATORS: [char; 6] = ['|', ',', '/', '→', '>', '\t'];

/// How a path file is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFormat {
    /// Separates columns (`;`).
    pub column_separator: u8,
    /// Separates channels within a path (`>`): ChannelAttribution's `sep`.
    pub channel_separator: String,
    /// Count the journeys that did not convert (`total_null`); without
    /// them, as the package's `var_null = None`, only converting paths
    /// make the chain.
    pub nulls: bool,
}

impl Default for PathFormat {
    fn default() -> PathFormat {
        PathFormat { column_separator: b';', channel_separator: ">".to_owned(), nulls: true }
    }
}
/// The column separator of `text`: the one given when its header has the
/// required columns split by it; else the first of `,` (R's `write.csv`,
/// spreadsheets), tab, `;` and `|` that does, with a note saying so.
fn column_separator(text: &[u8], given: u8) -> (u8, Option<String>) {
    let header = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(header);
    let has_columns = |sep: u8| {
        let names: Vec<&str> = header.split(sep as char).map(|n| n.trim().trim_matches('"')).collect();
        COLUMNS[..REQUIRED].iter().all(|c| names.contains(c))
    };
    if has_columns(given) {
        return (given, None);
    }
    match [b',', b'\t', b';', b'|'].into_iter().find(|&sep| sep != given && has_columns(sep)) {
        Some(sep) => {
            let shown = if sep == b'\t' { "a tab".to_owned() } else { format!("'{}'", sep as char) };
            let note = format!(
                "the columns are separated by {shown}, not '{}': read as such (--separator to say so)",
                given as char
            );
            (sep, Some(note))
        }
        None => (given, None),
    }
}

/// Most journeys one row may count.
const MAX_COUNT: f64 = 1e18;
/// Most value one row may total.
const MAX_TOTAL_VALUE: f64 = 1e27;

impl Paths {
    /// The paths of a simulation exported with `--export-paths`, sorted so
    /// the result does not depend on hashing order.
    pub fn from_export(model: &fogg_model::Model, export: &crate::sim::paths::PathExport) -> Paths {
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
        Paths {
            channels: model.channels.iter().map(|c| c.id.clone()).collect(),
            rows,
            missing: Vec::new(),
            nulls_counted: true,
            notes: Vec::new(),
        }
    }

    /// Reads a path file written as `format` says.
    pub fn read(file: &Path, format: &PathFormat) -> anyhow::Result<Paths> {
        let text =
            std::fs::read(file).with_context(|| format!("cannot read path file '{}'", file.display()))?;
        Paths::parse(&text, format).with_context(|| format!("path file '{}'", file.display()))
    }

    /// Parses path-file text.
    pub fn parse(text: &[u8], format: &PathFormat) -> anyhow::Result<Paths> {
        let (separator, sniffed) = column_separator(text, format.column_separator);
        let channel_separator = format.channel_separator.as_str();
        if channel_separator.trim().is_empty() {
            bail!("the channel separator is empty or blank: give one such as '>' or '|'");
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(separator)
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text);
        let header: Vec<String> =
            reader.headers().context("reading the header row")?.iter().map(str::to_owned).collect();
        // Where each column is; the optional ones may be missing.
        let mut at: [Option<usize>; 4] = [None; 4];
        for (i, name) in COLUMNS.iter().enumerate() {
            at[i] = header.iter().position(|h| h == name);
            if at[i].is_none() && i < REQUIRED {
                bail!(
                    "the header has no '{name}' column (it has: {}); the format is {}, separated by '{}' (--separator to change it; total_conversion_value and total_null may be left out)",
                    header.join(", "),
                    COLUMNS.join(";"),
                    separator as char
                );
            }
        }
        let mut paths = Paths {
            missing: COLUMNS.iter().zip(at).filter(|(_, a)| a.is_none()).map(|(c, _)| *c).collect(),
            nulls_counted: format.nulls && at[3].is_some(),
            notes: sniffed.into_iter().collect(),
            ..Paths::default()
        };
        let mut index: HashMap<String, u32> = HashMap::new();
        for (n, record) in reader.records().enumerate() {
            let line = n + 2;
            let record = record.with_context(|| format!("line {line}"))?;
            let number = |col: usize| -> anyhow::Result<f64> {
                let Some(at) = at[col] else { return Ok(0.0) };
                let field = record.get(at).unwrap_or("");
                // `2,400` as spreadsheets write it (commas between groups
                // of three digits only).
                let v = fogg_core::units::parse_amount(field).ok_or_else(|| {
                    anyhow::anyhow!("line {line}: {} '{field}' is not a number", COLUMNS[col])
                })?;
                if v < 0.0 {
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
            let nulls = if format.nulls { nulls } else { 0.0 };
            let path = record.get(at[0].expect("required")).unwrap_or("");
            let mut channels = Vec::new();
            for name in path.split(channel_separator).map(str::trim).filter(|n| !n.is_empty()) {
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
            if channels.is_empty() {
                bail!(
                    "line {line}: the path '{path}' names no channel; write channels separated by '{channel_separator}', e.g. 'search {channel_separator} email'"
                );
            }
            paths.rows.push(PathRow { channels, conversions, value, nulls });
        }
        if paths.rows.is_empty() {
            bail!("no paths: the file has a header but no rows");
        }
        paths.check_channel_separator(channel_separator)?;
        Ok(paths)
    }

    /// A file whose paths never have a second channel, and whose channel
    /// names hold another tool's separator (`a | b`), was written with
    /// another channel separator: an error rather than one channel per
    /// path.
    fn check_channel_separator(&self, channel_separator: &str) -> anyhow::Result<()> {
        if self.rows.iter().any(|r| r.channels.len() > 1) {
            return Ok(());
        }
        let found = self.channels.iter().find_map(|name| {
            let c = OTHER_SEPARATORS.iter().find(|&&c| name.contains(c) && !channel_separator.contains(c))?;
            Some((name, *c))
        });
        match found {
            Some((name, c)) => bail!(
                "no path has two channels split by '{channel_separator}', and the channel '{name}' holds '{}': if '{}' separates channels, pass --channel-separator '{}'",
                c.escape_default(),
                c.escape_default(),
                c.escape_default()
            ),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Paths> {
        Paths::parse(text.as_bytes(), &PathFormat::default())
    }

    #[test]
    fn reads_the_format_and_names_bad_rows() {
        let ok =
            parse("path;total_conversions;total_conversion_value;total_null\n a > b ;1;10.5;2\nb;0;0;3\n")
                .unwrap();
        assert_eq!(ok.channels, ["a", "b"]);
        assert_eq!(ok.rows[0].channels, [0, 1]);
        assert_eq!(ok.rows[1], PathRow { channels: vec![1], conversions: 0.0, value: 0.0, nulls: 3.0 });
        let err = |t: &str| format!("{:#}", parse(t).unwrap_err());
        let head = "path;total_conversions;total_conversion_value;total_null\n";
        assert!(err("path;total_conversion_value\na;1\n").contains("no 'total_conversions' column"));
        assert!(err(&format!("{head}a;-1;0;0\n")).contains("line 2: total_conversions is -1"));
        assert!(
            err(&format!("{head}a;1;0;0\nb;x;0;0\n"))
                .contains("line 3: total_conversions 'x' is not a number")
        );
        assert!(err(&format!("{head};1;0;0\n")).contains("line 2: the path '' names no channel"));
        assert!(err(&format!("{head} > ;1;0;0\n")).contains("line 2: the path '>' names no channel"));
        assert!(err(head).contains("no paths"));
    }

    /// As ChannelAttribution reads paths: names trimmed, inner spaces
    /// kept, empty names skipped (checked against the package 2.2.5).
    #[test]
    fn lenient_where_the_package_is() {
        let head = "path;total_conversions;total_conversion_value;total_null\n";
        let p = parse(&format!("{head} a  >b ;1;10;2\na > > b;1;0;0\na >;1;0;0\nx y > b;0;0;1\n")).unwrap();
        assert_eq!(p.channels, ["a", "b", "x y"]);
        let rows: Vec<&[u32]> = p.rows.iter().map(|r| r.channels.as_slice()).collect();
        assert_eq!(rows, [&[0, 1][..], &[0, 1], &[0], &[2, 1]]);
        // Only path and total_conversions are needed.
        let p = parse("path;total_conversions\na > b;3\n").unwrap();
        assert_eq!(p.missing, ["total_conversion_value", "total_null"]);
        assert_eq!(p.rows[0], PathRow { channels: vec![0, 1], conversions: 3.0, value: 0.0, nulls: 0.0 });
    }

    #[test]
    fn channel_separators() {
        let head = "path;total_conversions;total_conversion_value;total_null\n";
        let text = format!("{head}a | b;1;10;2\nb;0;0;3\n");
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(
            err.contains("the channel 'a | b' holds '|'") && err.contains("--channel-separator '|'"),
            "{err}"
        );
        let pipes = PathFormat { channel_separator: "|".into(), ..PathFormat::default() };
        let p = Paths::parse(text.as_bytes(), &pipes).unwrap();
        assert_eq!(p.channels, ["a", "b"]);
        // A name with '|' among paths split by '>' is a name.
        let p = parse(&format!("{head}a|1 > b;1;10;2\n")).unwrap();
        assert_eq!(p.channels, ["a|1", "b"]);
        // A separator of several characters.
        let arrows = PathFormat { channel_separator: "->".into(), ..PathFormat::default() };
        assert_eq!(
            Paths::parse(format!("{head}a -> b;1;0;0\n").as_bytes(), &arrows).unwrap().channels,
            ["a", "b"]
        );
    }

    /// A file as R's `write.csv` writes it (commas, quotes, a row-name
    /// column), and numbers with thousands separators, read with the
    /// default `;`: the separator is found, and said.
    #[test]
    fn another_column_separator_and_grouped_numbers_are_read() {
        let text = "\"\",\"path\",\"total_conversions\",\"total_conversion_value\",\"total_null\"\n\"1\",\"search > email\",30,\"2,400\",20\n";
        let p = Paths::parse(text.as_bytes(), &PathFormat::default()).unwrap();
        assert_eq!((p.rows[0].conversions, p.rows[0].value, p.rows[0].nulls), (30.0, 2400.0, 20.0));
        assert_eq!(p.channels, ["search", "email"]);
        assert_eq!(
            p.notes,
            ["the columns are separated by ',', not ';': read as such (--separator to say so)"]
        );
        let semicolons =
            "path;total_conversions;total_conversion_value;total_null\nsearch > email > web;30;2,400;20\n";
        let p = Paths::parse(semicolons.as_bytes(), &PathFormat::default()).unwrap();
        assert_eq!((p.rows[0].value, p.notes.len()), (2400.0, 0));
        let decimal_comma = "path;total_conversions;total_conversion_value;total_null\na;3;2,5;1\n";
        assert!(Paths::parse(decimal_comma.as_bytes(), &PathFormat::default()).is_err());
    }

    #[test]
    fn no_null_reads_every_null_as_zero() {
        let text = "path;total_conversions;total_conversion_value;total_null\na > b;1;10;2\nb;0;0;3\n";
        let p = Paths::parse(text.as_bytes(), &PathFormat { nulls: false, ..PathFormat::default() }).unwrap();
        assert!(p.rows.iter().all(|r| r.nulls == 0.0));
        assert_eq!(p.rows.len(), 2);
        assert!(!p.nulls_counted);
        assert!(parse(text).unwrap().nulls_counted);
        assert!(!parse("path;total_conversions\na;1\n").unwrap().nulls_counted);
    }
}
