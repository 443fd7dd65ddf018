//! Report writers. Each consumes a finished result and nothing else: a new
//! format never touches the engines.

pub mod doc;
pub mod fmt;
mod load;
mod markdown;
mod simulate;
mod terminal;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::result::{LoadResult, SimResult};

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Aligned text for the terminal.
    Table,
    /// The JSON contract (`schema/simulate.schema.json`).
    Json,
    /// Markdown.
    Md,
}

impl ReportFormat {
    /// File extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Table => "txt",
            Self::Json => "json",
            Self::Md => "md",
        }
    }
}

/// Writes a document as terminal text.
pub fn write_doc(doc: &doc::Doc, out: &mut dyn Write) -> std::io::Result<()> {
    terminal::write(doc, out)
}

/// A result that reports can be written from.
pub trait Reportable: serde::Serialize {
    /// The kind of run, used in file names (`simulate`, `load`).
    fn kind(&self) -> &str;
    /// The result laid out for people.
    fn document(&self) -> doc::Doc;
}

impl Reportable for SimResult {
    fn kind(&self) -> &str {
        "simulate"
    }
    fn document(&self) -> doc::Doc {
        simulate::document(self)
    }
}

impl Reportable for LoadResult {
    fn kind(&self) -> &str {
        "load"
    }
    fn document(&self) -> doc::Doc {
        load::document(self)
    }
}

/// Writes a result in `format`.
pub fn write<R: Reportable>(result: &R, format: ReportFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        ReportFormat::Table => terminal::write(&result.document(), out)?,
        ReportFormat::Md => markdown::write(&result.document(), out)?,
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, result)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// What every command does with its result: the report files into `dir`
/// first (so they exist even if standard output is closed), then `format`
/// on `out`, then the list of files on stderr.
pub fn publish<R: Reportable>(
    result: &R,
    format: ReportFormat,
    dir: &Path,
    stem: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let written = write_files(result, dir, stem)?;
    write(result, format, out)?;
    out.flush()?;
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    eprintln!("reports: {}", names.join(", "));
    Ok(())
}

/// Writes the JSON and Markdown reports of a result into `dir` as
/// `KIND-STEM.json` and `.md`, creating `dir` if needed. Returns the paths.
pub fn write_files<R: Reportable>(result: &R, dir: &Path, stem: &str) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating report folder '{}'", dir.display()))?;
    let mut written = Vec::new();
    for format in [ReportFormat::Json, ReportFormat::Md] {
        let path = dir.join(format!("{}-{stem}.{}", result.kind(), format.extension()));
        let mut bytes = Vec::new();
        write(result, format, &mut bytes)?;
        std::fs::write(&path, bytes).with_context(|| format!("writing report '{}'", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
