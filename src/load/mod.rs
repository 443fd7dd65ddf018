//! Load mode: virtual customers walk the same journeys as the simulator
//! and turn each touchpoint into real HTTP requests (tokio + reqwest).
//!
//! - [`spec`]: what `[load]` compiles into (requests, templates, patience);
//! - [`capture`]: values a response gives a customer's later requests;
//! - [`plan`]: every arrival profile as one Poisson arrival schedule;
//! - [`driver`]: the one loop that starts customers and stops the run;
//! - `customer`: one virtual customer, with abandonment;
//! - [`recorder`]: histograms and counts, measured from intended times;
//! - [`series`]: the run over time, at most ten minutes' worth of points;
//! - [`trace`]: W3C trace context, one trace id per journey;
//! - [`live`]: the run while it lasts, to Prometheus and a browser.

pub mod capture;
mod context;
mod customer;
pub mod driver;
pub mod live;
pub mod plan;
pub mod recorder;
pub mod series;
pub mod signals;
pub mod spec;
pub mod target;
pub mod trace;
pub mod trial;

pub use driver::{LoadOutcome, run};
pub use plan::{LoadPlan, StopReason};
