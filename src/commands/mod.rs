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
