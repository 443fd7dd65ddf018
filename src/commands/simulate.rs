//! `fogg simulate`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;

use crate::cli::SimulateArgs;
use fogg_core::shard::Shard;
use fogg_core::verdict::Verdict;
use fogg_engine::sim::{Progress, SimPlan, SimRun, simulate_on_pool};
use fogg_model::Model;
use fogg_report as report;
use fogg_result::SimResult;
use fogg_scenario as scenario;

/// Runs with fewer customers than this finish too fast for a progress bar.
const PROGRESS_FROM: u64 = 5_000_000;

/// Runs the command, writing the report to `out`.
pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let scenario = super::scenario(args.scenario.as_deref(), scenario::Use::Journeys)?;
    let mut model = scenario.model;
    if let Some(max) = args.max_steps {
        model = model.with_max_steps(max);
    }
    let shard = Shard::resolve(args.shard)?;
    if let Some(path) = &args.export_paths {
        let stem = shard.file_stem(stem(&model));
        let mut taken: Vec<PathBuf> = ["json", "md", "html"]
            .iter()
            .map(|ext| args.report.out.join(format!("simulate-{stem}.{ext}")))
            .collect();
        taken.extend(args.scenario.clone());
        report::refuse_overwrite("--export-paths", path, &taken)?;
    }
    let plan = SimPlan {
        seed: args.seed,
        customers: shard.customers(args.customers),
        run_customers: args.customers,
        export_paths: args.export_paths.is_some(),
        shard,
    };
    let run = simulate_with_progress(&model, &plan, args.threads.map(|t| t.get()))?;
    let result = SimResult::new(&model, &scenario::without_load(&scenario.text), &plan, &run);

    if let Some(path) = &args.export_paths {
        let export = run.outcome.agg.export.as_ref().expect("paths are kept when exporting");
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("creating path file '{}'", path.display()))?,
        );
        export
            .write_csv(&model, &mut file)
            .and_then(|()| file.flush())
            .with_context(|| format!("writing path file '{}'", path.display()))?;
        fogg_core::say!("wrote {} distinct paths to {}", export.len(), path.display());
    }

    let stem = shard.file_stem(stem(&model));
    let output = args.report.to_output(false, &stem);
    report::publish(&result, &output, out)?;
    if result.interrupted {
        anyhow::bail!(
            "interrupted by a signal: {} of {} customers walked (the reports above were still written, marked interrupted; they cannot be merged)",
            result.customers,
            plan.customers.end - plan.customers.start
        );
    }
    Ok(Verdict::Pass)
}

/// Simulates `plan` on a pool of `threads` workers (one per core when
/// `None`), with a progress bar on stderr for long runs.
pub fn simulate_with_progress(
    model: &Model,
    plan: &SimPlan,
    threads: Option<usize>,
) -> anyhow::Result<SimRun> {
    with_progress(model, plan, |progress| simulate_on_pool(model, plan, threads, progress))
        .context("starting the worker threads")
}

/// File-name stem of a scenario's source.
pub fn stem(model: &Model) -> String {
    stem_of_source(&model.source)
}

/// The file stem of a scenario source (a path or a bundled name).
pub fn stem_of_source(source: &str) -> String {
    std::path::Path::new(source)
        .file_stem()
        .map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned())
}

/// Runs `work` with a progress bar on stderr when it is a terminal and the
/// run is long enough to need one. Ctrl-C or SIGTERM stops the walk at
/// the next chunk (the handlers are in place before it starts); a second
/// one ends the process at once.
fn with_progress<T: Send>(model: &Model, plan: &SimPlan, work: impl FnOnce(&Progress) -> T + Send) -> T {
    let progress = Arc::new(Progress::default());
    let watched = Arc::clone(&progress);
    super::stop_on_signal(move || watched.stop.store(true, Ordering::Relaxed));
    let total = plan.customers.end - plan.customers.start;
    if total < PROGRESS_FROM || !std::io::stderr().is_terminal() {
        return work(&progress);
    }
    let finished = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let bar = indicatif::ProgressBar::new(total).with_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:40}] {human_pos}/{human_len} customers · {eta} left",
                )
                .expect("valid progress template")
                .progress_chars("=> "),
            );
            bar.set_message(model.name.clone());
            while !finished.load(Ordering::Relaxed) {
                bar.set_position(progress.done.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        let result = work(&progress);
        finished.store(true, Ordering::Relaxed);
        result
    })
}
