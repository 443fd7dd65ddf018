//! `fogg import har`: a scenario skeleton from a browser recording,
//! checked to compile before it is written.

use std::io::Write;

use anyhow::Context;

use crate::cli::{ImportArgs, ImportKind};
use fogg_core::verdict::Verdict;
use fogg_scenario::import::har;

/// Runs the command: reads the recording, writes the scenario, prints
/// what is in it.
pub fn run(args: &ImportArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let ImportKind::Har(args) = &args.what;
    let file = &args.input;
    fogg_report::refuse_overwrite("-o/--output", &args.output, std::slice::from_ref(file))?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read '{}'", file.display()))?;
    let shown = file.display().to_string();
    let recording = har::parse(&bytes, &shown)?;
    let source = file.file_name().map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let name = args.name.clone().unwrap_or_else(|| format!("Imported from {source}"));
    let imported = har::import(&recording, &source, &name)?;
    let output = args.output.display().to_string();
    fogg_scenario::journeys_from_str(&imported.toml, &output).map_err(|e| {
        anyhow::anyhow!(
            "the imported scenario does not compile: {e}\n(a recorded value with {{name}} braces reads as a template variable; otherwise this is a bug in fogg import)"
        )
    })?;
    fogg_report::write_file(&args.output, imported.toml.as_bytes())?;
    let s = &imported.summary;
    writeln!(out, "fogg import har — {shown}")?;
    writeln!(
        out,
        "wrote {output}: {} states (pages), {} requests, {} resources, {} captures",
        s.states,
        s.requests,
        s.resources,
        s.captures.len()
    )?;
    for c in &s.captures {
        writeln!(out, "  capture {c}")?;
    }
    if !s.secrets.is_empty() {
        writeln!(
            out,
            "  credentials became environment variables: export {} before fogg load",
            s.secrets.join(", ")
        )?;
    }
    for l in &s.left_out {
        writeln!(out, "  left out {l}")?;
    }
    for n in &s.notes {
        writeln!(out, "  note: {n}")?;
    }
    writeln!(out, "next: edit the guesses (see the comments), then `fogg load {output} --target URL`")?;
    Ok(Verdict::Pass)
}
