//! One file per subcommand: each turns its arguments into a run and its
//! result into reports.

pub mod attribute;
pub mod calibrate;
pub mod capacity;
pub mod compare;
pub mod demo;
pub mod docs;
pub mod fit;
pub mod forecast;
pub mod import;
pub mod load;
pub mod merge;
pub mod replay;
pub mod report;
pub mod simulate;
pub mod validate;
pub mod whatif;

/// Loads the scenario a command names, for `purpose`, and prints the
/// model's warnings (a state never reached, a channel never used) on
/// stderr: a result that reads 0.00% for such a state must not surprise.
/// `fogg validate` lists them in its own output instead.
fn scenario(
    name: Option<&std::path::Path>,
    purpose: fogg_scenario::Use,
) -> Result<fogg_scenario::Scenario, fogg_core::error::ScenarioError> {
    let scenario = fogg_scenario::load(name, purpose)?;
    for warning in &scenario.model.warnings {
        fogg_core::say!("warning: scenario '{}': {warning}", scenario.model.source);
    }
    Ok(scenario)
}

/// Watches for Ctrl-C and SIGTERM on a thread of its own: the first calls
/// `stop` (a long walk then ends at its next chunk and reports what it
/// did), a second exits at once (130). Returns once the handlers are
/// installed, so no signal meets the default "terminate".
fn stop_on_signal(stop: impl FnOnce() + Send + 'static) {
    let (ready, installed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            let _ = ready.send(());
            return;
        };
        runtime.block_on(async {
            let mut signals = fogg_load::signals::signal_counter();
            let _ = ready.send(());
            if signals.wait_for(|n| *n >= 1).await.is_ok() {
                stop();
                fogg_core::say!(
                    "stopping: what was walked so far will be reported (a second signal ends at once)"
                );
            }
            if signals.wait_for(|n| *n >= 2).await.is_ok() {
                std::process::exit(130);
            }
        });
    });
    let _ = installed.recv();
}
