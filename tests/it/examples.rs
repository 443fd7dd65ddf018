//! The example CI workflow stays true: it is valid YAML, uploads the
//! reports even when a threshold fails, and every fogg command in it
//! parses with today's command line and aims at loopback only.

use clap::Parser;
use serde_yaml_ng::Value;

fn workflow() -> Value {
    let path = format!("{}/examples/github-actions-capacity-check.yml", env!("CARGO_MANIFEST_DIR"));
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).expect("example exists")).expect("valid YAML")
}

fn steps(w: &Value) -> &Vec<Value> {
    w["jobs"]["capacity"]["steps"].as_sequence().expect("jobs.capacity.steps")
}

#[test]
fn the_workflow_uploads_reports_whatever_the_outcome() {
    let w = workflow();
    let upload = steps(&w)
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/upload-artifact")))
        .expect("an upload step");
    assert_eq!(upload["if"].as_str(), Some("always()"));
    assert_eq!(upload["with"]["path"].as_str(), Some("reports/"));
    assert!(w["jobs"]["capacity"]["timeout-minutes"].as_u64().is_some(), "bounded in time");
}

#[test]
fn every_fogg_command_in_the_workflow_parses_and_targets_loopback() {
    let w = workflow();
    let mut commands = 0;
    for step in steps(&w) {
        let Some(script) = step["run"].as_str() else { continue };
        for line in script.lines() {
            let line = line.trim().trim_end_matches('&').trim();
            let Some(rest) = line.strip_prefix("./target/release/fogg ") else { continue };
            let mut argv = vec!["fogg".to_owned()];
            argv.extend(shell_words::split(rest).expect("shell words"));
            let cli = fogg::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{line}\n{e}"));
            commands += 1;
            let target = match &cli.command {
                fogg::cli::Command::Load(a) => a.run.target.target.clone(),
                fogg::cli::Command::Capacity(a) => a.run.target.target.clone(),
                fogg::cli::Command::Demo(a) => {
                    assert!(a.addr.ip().is_loopback());
                    continue;
                }
                _ => None,
            };
            let target = target.expect("the workflow names its target");
            assert!(target.as_str().starts_with("http://127.0.0.1:"), "{target} is not loopback");
        }
    }
    assert_eq!(commands, 3, "demo, load and capacity");
}
