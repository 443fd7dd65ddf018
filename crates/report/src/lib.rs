//! Report writers. Each consumes a finished result and nothing else: a new
//! format never touches the engines.

#![warn(missing_docs)]

mod attribute;
mod calibrate;
mod capacity;
pub use capacity::trial_line;
mod compare;
pub mod doc;
mod fit;
mod flows;
pub mod fmt;
mod forecast;
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

use fogg_load::threshold::{ThresholdResult, verdict_line};
use fogg_result::{
    AttributionResult, CalibrateResult, CapacityResult, FitResult, ForecastResult, LoadResult, ResultKind,
    SimResult, WhatifResult,
};

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
    /// How the run was cut short before it completed (a signal, a target
    /// that went down), if it was: JUnit shows it as a failed case.
    fn cut_short(&self) -> Option<String> {
        None
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

impl Reportable for fogg_result::compare::CompareResult {
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
    fn charts(&self) -> Vec<svg::Chart> {
        compare::charts(self)
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

impl Reportable for CalibrateResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        calibrate::charts(self)
    }
    fn document(&self) -> doc::Doc {
        calibrate::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        0.0
    }
}

impl Reportable for ForecastResult {
    fn kind(&self) -> ResultKind {
        self.header.kind
    }
    fn charts(&self) -> Vec<svg::Chart> {
        forecast::charts(self)
    }
    fn document(&self) -> doc::Doc {
        forecast::document(self)
    }
    fn elapsed_s(&self) -> f64 {
        self.elapsed_s
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
    fn cut_short(&self) -> Option<String> {
        LoadResult::cut_short(self)
    }
    fn verdict_line(&self) -> String {
        load::load_verdict_line(self)
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
        ReportFormat::Junit => junit::write(
            &result.document().title,
            result.elapsed_s(),
            result.thresholds(),
            result.cut_short(),
            out,
        )?,
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
///
/// When the files cannot be written the report still goes to standard
/// output (in the format asked for, JSON when that was `table` and the
/// run is quiet) before the error, so nothing measured is lost; a job
/// summary that cannot be written is a warning that keeps the verdict.
pub fn publish<R: Reportable>(result: &R, output: &Output, out: &mut dyn Write) -> anyhow::Result<()> {
    let written = match write_files(result, output.dir, output.stem) {
        Ok(written) => written,
        Err(e) => {
            let format = if output.quiet { ReportFormat::Json } else { output.format };
            write(result, format, out)?;
            out.flush()?;
            return Err(e.context("the report is on standard output above"));
        }
    };
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
        && let Err(e) = append_step_summary(result, Path::new(&path))
    {
        fogg_core::say!("warning: {e:#}; the verdict stands");
    }
    if output.quiet {
        writeln!(out, "{}", result.verdict_line())?;
    } else {
        write(result, output.format, out)?;
    }
    out.flush()?;
    if !output.quiet {
        fogg_core::say!("reports: {}", describe_files(&written));
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

/// Refuses, before any work, to write `output` (given with `flag`) over
/// one of `inputs`: the same file by whatever path, so a scenario, a path
/// file or a report is never overwritten by a mistyped option.
pub fn refuse_overwrite(flag: &str, output: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let Some(out) = canonical(output) else { return Ok(()) };
    if let Some(input) = inputs.iter().find(|i| canonical(i).as_ref() == Some(&out)) {
        anyhow::bail!(
            "{flag} '{}' is '{}', which this run reads or writes: give another file",
            output.display(),
            input.display()
        );
    }
    Ok(())
}

/// Where `p` is, to compare paths: a file that does not exist yet is its
/// folder's canonical path and its name.
fn canonical(p: &Path) -> Option<PathBuf> {
    p.canonicalize().ok().or_else(|| {
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(parent.canonicalize().ok()?.join(p.file_name()?))
    })
}

/// Refuses a run whose report files in `dir` (`KIND-STEM.json`, `.md`,
/// …, which it writes or replaces) include one of `files` (what it reads,
/// or what `-o` writes), each named by how it was given: before the work,
/// so an input or the scenario a run writes is never replaced by a report.
pub fn refuse_reports_over(
    dir: &Path,
    kind: ResultKind,
    stem: &str,
    files: &[(&str, &Path)],
) -> anyhow::Result<()> {
    let Some(dir) = canonical(dir) else { return Ok(()) };
    let prefix = format!("{kind}-{stem}");
    for (what, file) in files {
        let Some(at) = canonical(file) else { continue };
        let name = at.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if at.parent() == Some(dir.as_path()) && is_report_file(&name, &prefix) {
            anyhow::bail!(
                "{what} '{}' is one of the report files this run writes into --out '{}': give another --out folder or another file name",
                file.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Whether `name` is one of the report files [`write_files`] writes or
/// replaces for `prefix` (`KIND-STEM`): a shard's own files
/// (`KIND-STEM.shard-1-of-4.json`) are not.
fn is_report_file(name: &str, prefix: &str) -> bool {
    let Some(rest) = name.strip_prefix(prefix) else { return false };
    matches!(rest, ".json" | ".md" | ".html" | ".junit.xml" | ".hgrm")
        || rest.strip_prefix('.').and_then(|r| r.strip_suffix(".hgrm")).is_some_and(|request| {
            !request.is_empty() && !request.contains('.') && !request.starts_with("shard-")
        })
}

/// Makes sure reports can be written into `dir` before any work: creates
/// it when missing and writes (then removes) a probe file, so a run is
/// never measured only to find its folder unwritable.
pub fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    let fix = "give a writable folder with --out; nothing was run";
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating report folder '{}' ({fix})", dir.display()))?;
    let probe = dir.join(format!(".fogg-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("report folder '{}' is not writable ({fix})", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes the reports of a result into `dir`, creating it if needed:
/// `KIND-STEM.json`, `.md` and `.html`; `KIND-STEM.junit.xml` when thresholds were
/// evaluated; for load results, `KIND-STEM.hgrm` and one
/// `KIND-STEM.REQUEST.hgrm` per request name. Returns the paths.
///
/// The set is written all or nothing: every file goes to a temporary
/// name first and is renamed over the old one only when all were
/// written, so a full disk leaves the previous reports whole. Files of
/// the same `KIND-STEM` that this result does not have (a `.junit.xml`
/// from a run with thresholds, `.hgrm` of requests no longer sent) are
/// removed, so no stale verdict stays beside a new result.
pub fn write_files<R: Reportable>(result: &R, dir: &Path, stem: &str) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating report folder '{}'", dir.display()))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut save = |name: String, bytes: Vec<u8>| -> anyhow::Result<()> {
        files.push((name, bytes));
        Ok(())
    };
    for format in [ReportFormat::Json, ReportFormat::Md, ReportFormat::Html] {
        let mut bytes = Vec::new();
        write(result, format, &mut bytes)?;
        save(format!("{}-{stem}.{}", result.kind(), format.extension()), bytes)?;
    }
    if !result.thresholds().is_empty() {
        let mut bytes = Vec::new();
        junit::write(
            &result.document().title,
            result.elapsed_s(),
            result.thresholds(),
            result.cut_short(),
            &mut bytes,
        )?;
        save(format!("{}-{stem}.junit.xml", result.kind()), bytes)?;
    }
    for (name, h) in result.latency_histograms() {
        let mut bytes = Vec::new();
        hgrm::write(h, &mut bytes)?;
        let suffix = if name.is_empty() { String::new() } else { format!(".{}", file_safe(name)) };
        save(format!("{}-{stem}{suffix}.hgrm", result.kind()), bytes)?;
    }
    let written = replace_all(dir, &files)?;
    remove_stale(dir, &format!("{}-{stem}", result.kind()), &files);
    Ok(written)
}

/// Writes one file atomically: a temporary file beside it, renamed over
/// it once whole.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().with_context(|| format!("'{}' names no file", path.display()))?;
    replace_all(dir, &[(name.to_string_lossy().into_owned(), bytes.to_vec())]).map(|_| ())
}

/// Writes every file under a temporary name, then renames them all into
/// place; on a failure the temporary files are removed and the old files
/// stay as they were.
fn replace_all(dir: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<Vec<PathBuf>> {
    let temporary = |name: &str| dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut staged = Vec::new();
    for (name, bytes) in files {
        let path = temporary(name);
        if let Err(e) = std::fs::write(&path, bytes) {
            let _ = std::fs::remove_file(&path);
            for p in &staged {
                let _ = std::fs::remove_file(p);
            }
            return Err(e).with_context(|| format!("writing report '{}'", dir.join(name).display()));
        }
        staged.push(path);
    }
    let mut written = Vec::new();
    for ((name, _), from) in files.iter().zip(&staged) {
        let to = dir.join(name);
        std::fs::rename(from, &to).with_context(|| format!("writing report '{}'", to.display()))?;
        written.push(to);
    }
    Ok(written)
}

/// Removes the files of `prefix` (`KIND-STEM`) an earlier run wrote that
/// this one did not: its `.junit.xml`, `.hgrm` and per-request `.hgrm`
/// (never a shard's files, `KIND-STEM.shard-I-of-N.…`).
fn remove_stale(dir: &Path, prefix: &str, files: &[(String, Vec<u8>)]) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_report_file(&name, prefix) && !files.iter().any(|(n, _)| *n == name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::replace_all;

    #[test]
    fn a_set_that_cannot_be_written_whole_leaves_the_old_files_as_they_were() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("a.json"), "old").expect("write");
        let files =
            vec![("a.json".to_owned(), b"new".to_vec()), ("no-such-folder/b.md".to_owned(), b"x".to_vec())];
        assert!(replace_all(dir.path(), &files).is_err());
        assert_eq!(std::fs::read_to_string(dir.path().join("a.json")).expect("read"), "old");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["a.json"], "no temporary file is left behind");
        let files = vec![("a.json".to_owned(), b"new".to_vec())];
        assert_eq!(replace_all(dir.path(), &files).expect("written").len(), 1);
        assert_eq!(std::fs::read_to_string(dir.path().join("a.json")).expect("read"), "new");
    }
}
