//! Report writers. Each consumes a finished result and nothing else: a new
//! format never touches the engines.

mod attribute;
mod capacity;
pub use capacity::trial_line;
mod compare;
pub mod doc;
mod fit;
pub mod fmt;
mod hgrm;
mod html;
mod junit;
mod load;
mod markdown;
mod simulate;
pub mod svg;
mod terminal;
mod whatif;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::result::{
    AttributionResult, CapacityResult, FitResult, LoadResult, ResultKind, SimResult, WhatifResult,
};
use crate::threshold::{ThresholdResult, verdict_line};

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Aligned text for the terminal.
    Table,
    /// The JSON contract (`schema/KIND.schema.json`).
    Json,
    /// Markdown.
    Md,
    /// JUnit XML, one test case per threshold.
    Junit,
    /// The overall latency as an HdrHistogram percentile distribution.
    Hgrm,
    /// One self-contained HTML page with charts and every table.
    Html,
}

impl ReportFormat {
    /// What every result can be written as.
    pub const DOCUMENTS: &[ReportFormat] = &[Self::Table, Self::Json, Self::Md, Self::Html];
    /// What a load result can be written as: the documents, JUnit for its
    /// thresholds and `.hgrm` for its latency.
    pub const LOAD: &[ReportFormat] =
        &[Self::Table, Self::Json, Self::Md, Self::Junit, Self::Hgrm, Self::Html];

    /// The name `--format` takes (clap's own, so the two cannot drift).
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value().map_or_else(String::new, |v| v.get_name().to_owned())
    }

    /// What a result needs to be written in this format.
    pub fn what_it_needs(self) -> &'static str {
        match self {
            Self::Junit => "JUnit XML holds threshold verdicts, which only load runs have",
            Self::Hgrm => "an .hgrm file holds a latency distribution, which only load runs measure",
            _ => "every result can be written so",
        }
    }

    /// File extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Table => "txt",
            Self::Json => "json",
            Self::Md => "md",
            Self::Junit => "junit.xml",
            Self::Hgrm => "hgrm",
            Self::Html => "html",
        }
    }
}

/// Writes a document as terminal text.
pub fn write_doc(doc: &doc::Doc, out: &mut dyn Write) -> std::io::Result<()> {
    terminal::write(doc, out)
}

/// A result that reports can be written from.
pub trait Reportable: serde::Serialize {
    /// The kind of run, the first word of file names (`simulate`, `load`).
    fn kind(&self) -> ResultKind;
    /// The result laid out for people.
    fn document(&self) -> doc::Doc;
    /// The short form for a CI job summary or a pull-request comment.
    fn summary(&self) -> doc::Doc {
        self.document()
    }
    /// Thresholds evaluated on the result.
    fn thresholds(&self) -> &[ThresholdResult] {
        &[]
    }
    /// Seconds the run took.
    fn elapsed_s(&self) -> f64;
    /// The one-line verdict `--quiet` prints.
    fn verdict_line(&self) -> String {
        verdict_line(self.thresholds())
    }
    /// Latency histograms (µs) for `.hgrm` files: the run's (named "")
    /// first, then one per request name.
    fn latency_histograms(&self) -> Vec<(&str, &hdrhistogram::Histogram<u64>)> {
        Vec::new()
    }
    /// The charts of the HTML report.
    fn charts(&self) -> Vec<svg::Chart> {
        Vec::new()
    }
}

impl Reportable for crate::compare::CompareResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn document(&self) -> doc::Doc {
        compare::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        0.0
    }
    fn verdict_line(&self) -> String {
        compare::verdict_line(self)
    }
}

impl Reportable for AttributionResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        attribute::charts(self)
    }
    fn document(&self) -> doc::Doc {
        attribute::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        0.0
    }
}

impl Reportable for FitResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        fit::charts(self)
    }
    fn document(&self) -> doc::Doc {
        fit::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        0.0
    }
}

impl Reportable for WhatifResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        whatif::charts(self)
    }
    fn document(&self) -> doc::Doc {
        whatif::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        self.elapsed_s
    }
}

impl Reportable for CapacityResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        capacity::charts(self)
    }
    fn document(&self) -> doc::Doc {
        capacity::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        self.trials.len() as f64 * self.trial_s
    }
    fn verdict_line(&self) -> String {
        capacity::verdict_line(self)
    }
}

impl Reportable for SimResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        simulate::charts(self)
    }
    fn document(&self) -> doc::Doc {
        simulate::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        self.run.elapsed_s
    }
}

impl Reportable for LoadResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        load::charts(self)
    }
    fn document(&self) -> doc::Doc {
        load::document(self)
    }
    fn summary(&self) -> doc::Doc {
        load::summary(self)
    }
    fn thresholds(&self) -> &[ThresholdResult] {
        &self.thresholds
    }
    fn elapsed_s(&self) -> f64 {
        self.elapsed_s
    }
    fn latency_histograms(&self) -> Vec<(&str, &hdrhistogram::Histogram<u64>)> {
        let agg = &self.raw.agg;
        std::iter::once(("", &agg.overall.latency_us))
            .chain(
                self.raw.request_names.iter().zip(&agg.by_request).map(|(n, t)| (n.as_str(), &t.latency_us)),
            )
            .collect()
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
        ReportFormat::Junit if result.thresholds().is_empty() => {
            anyhow::bail!(
                "a {} result has no thresholds: {}",
                result.kind(),
                ReportFormat::Junit.what_it_needs()
            )
        }
        ReportFormat::Junit => {
            junit::write(&result.document().title, result.elapsed_s(), result.thresholds(), out)?
        }
        ReportFormat::Html => html::write(&result.document(), &result.charts(), result.kind().name(), out)?,
        ReportFormat::Hgrm => match result.latency_histograms().first() {
            Some((_, h)) => hgrm::write(h, out)?,
            None => {
                anyhow::bail!("a {} result has no latency histogram: hgrm is for load results", result.kind())
            }
        },
    }
    Ok(())
}

/// Where and how a command publishes its result.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    /// Format printed on standard output.
    pub format: ReportFormat,
    /// Print only the verdict line on standard output.
    pub quiet: bool,
    /// Folder for the report files.
    pub dir: &'a Path,
    /// File stem, e.g. the scenario's name.
    pub stem: &'a str,
}

/// What every command does with its result: the report files into the
/// folder first (so they exist even if standard output is closed), the
/// summary appended to `$GITHUB_STEP_SUMMARY` when set, then the format
/// (or, quiet, the verdict) on `out`, then the list of files on stderr.
pub fn publish<R: Reportable>(result: &R, output: &Output, out: &mut dyn Write) -> anyhow::Result<()> {
    let written = write_files(result, output.dir, output.stem)?;
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        append_step_summary(result, Path::new(&path))?;
    }
    if output.quiet {
        writeln!(out, "{}", result.verdict_line())?;
    } else {
        write(result, output.format, out)?;
    }
    out.flush()?;
    if !output.quiet {
        eprintln!("reports: {}", describe_files(&written));
    }
    Ok(())
}

/// The files written, with the `.hgrm` distributions counted rather than
/// listed.
pub fn describe_files(written: &[PathBuf]) -> String {
    let (hgrm, others): (Vec<&PathBuf>, Vec<&PathBuf>) =
        written.iter().partition(|p| p.extension().is_some_and(|e| e == "hgrm"));
    let mut names: Vec<String> = others.iter().map(|p| p.display().to_string()).collect();
    match hgrm.len() {
        0 => {}
        1 => names.push(hgrm[0].display().to_string()),
        n => names.push(format!("{n} latency distributions (.hgrm) beside them")),
    }
    names.join(", ")
}

/// Appends the Markdown summary of `result` to a GitHub Actions job
/// summary file.
fn append_step_summary<R: Reportable>(result: &R, path: &Path) -> anyhow::Result<()> {
    let mut text = Vec::new();
    markdown::write(&result.summary(), &mut text)?;
    writeln!(text)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening GITHUB_STEP_SUMMARY '{}'", path.display()))?;
    file.write_all(&text).with_context(|| format!("appending to GITHUB_STEP_SUMMARY '{}'", path.display()))
}

/// A name made safe for a file name: letters, digits, `-` and `_` kept,
/// anything else `_`.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Writes the reports of a result into `dir`, creating it if needed:
/// `KIND-STEM.json`, `.md` and `.html`; `KIND-STEM.junit.xml` when thresholds were
/// evaluated; for load results, `KIND-STEM.hgrm` and one
/// `KIND-STEM.REQUEST.hgrm` per request name. Returns the paths.
pub fn write_files<R: Reportable>(result: &R, dir: &Path, stem: &str) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating report folder '{}'", dir.display()))?;
    let mut written = Vec::new();
    let mut save = |name: String, bytes: Vec<u8>| -> anyhow::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing report '{}'", path.display()))?;
        written.push(path);
        Ok(())
    };
    for format in [ReportFormat::Json, ReportFormat::Md, ReportFormat::Html] {
        let mut bytes = Vec::new();
        write(result, format, &mut bytes)?;
        save(format!("{}-{stem}.{}", result.kind(), format.extension()), bytes)?;
    }
    if !result.thresholds().is_empty() {
        let mut bytes = Vec::new();
        junit::write(&result.document().title, result.elapsed_s(), result.thresholds(), &mut bytes)?;
        save(format!("{}-{stem}.junit.xml", result.kind()), bytes)?;
    }
    for (name, h) in result.latency_histograms() {
        let mut bytes = Vec::new();
        hgrm::write(h, &mut bytes)?;
        let suffix = if name.is_empty() { String::new() } else { format!(".{}", file_safe(name)) };
        save(format!("{}-{stem}{suffix}.hgrm", result.kind()), bytes)?;
    }
    Ok(written)
}
