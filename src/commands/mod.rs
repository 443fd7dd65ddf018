//! One file per subcommand: each turns its arguments into a run and its
//! result into reports.

pub mod attribute;
pub mod capacity;
pub mod compare;
pub mod demo;
pub mod docs;
pub mod fit;
pub mod load;
pub mod merge;
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
    purpose: crate::scenario::Use,
) -> Result<crate::scenario::Scenario, crate::error::ScenarioError> {
    let scenario = crate::scenario::load(name, purpose)?;
    for warning in &scenario.model.warnings {
        crate::say!("warning: scenario '{}': {warning}", scenario.model.source);
    }
    Ok(scenario)
}
