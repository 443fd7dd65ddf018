//! Pass or fail: the one verdict type. A result's thresholds, a capacity
//! search, a comparison and the process exit code all speak it.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

/// The outcome of a run's checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check held, or the command has none.
    #[default]
    Pass,
    /// At least one check failed.
    Fail,
    /// The run stopped before it was complete (a signal, a target that
    /// went down) and no check failed on what it measured: not a pass.
    Incomplete,
}

impl Verdict {
    /// The process exit code: 0 for a pass, 1 for a failure, 2 for a run
    /// that did not complete (as for usage, scenario and I/O errors).
    pub fn exit_code(self) -> ExitCode {
        match self {
            Verdict::Pass => ExitCode::SUCCESS,
            Verdict::Fail => ExitCode::from(1),
            Verdict::Incomplete => ExitCode::from(2),
        }
    }

    /// The word a verdict line starts with.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Incomplete => "INCOMPLETE",
        }
    }

    /// Fail when `failed` holds.
    pub fn failed_if(failed: bool) -> Verdict {
        if failed { Verdict::Fail } else { Verdict::Pass }
    }
}
