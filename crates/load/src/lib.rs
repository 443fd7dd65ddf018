//! Load mode: virtual customers walk the same journeys as the simulator
//! and turn each touchpoint into real HTTP requests (tokio + hyper).
//!
//! - [`spec`]: what `[load]` compiles into (requests, templates, patience);
//! - [`capture`]: values a response gives a customer's later requests;
//! - [`plan`]: every arrival profile as one Poisson arrival schedule;
//! - [`driver`]: the one loop that starts customers and stops the run;
//! - `customer`: one virtual customer, with abandonment;
//! - `http`: each thread's HTTP client (hyper and rustls);
//! - [`recorder`]: histograms and counts, measured from intended times;
//! - [`series`]: the run over time, at most ten minutes' worth of points;
//! - [`trace`]: W3C trace context, one trace id per journey;
//! - [`live`]: the run while it lasts, to Prometheus and a browser;
//! - [`demo`]: the built-in demo shop, a real server on loopback;
//! - [`threshold`]: pass/fail expressions on a load result.

#![warn(missing_docs)]

pub mod capture;
mod context;
mod customer;
mod debug;
pub mod demo;
pub mod driver;
pub mod encoding;
pub mod failures;
mod http;
pub mod live;
pub mod outgoing;
pub mod plan;
pub mod recorder;
pub mod series;
pub mod signals;
pub mod spec;
pub mod target;
pub mod threshold;
pub mod trace;
pub mod trial;

pub use driver::{LoadOutcome, run};
pub use plan::{LoadPlan, StopReason};

/// Waits until `at`, or not at all when it has passed; the time it
/// ended. Tokio rounds a timer's deadline up to the next millisecond, so
/// `sleep_until` of an instant just passed would still wait for the
/// timer's next tick: in a closed pool without think time, about a
/// millisecond per request.
pub(crate) async fn wait_until(at: tokio::time::Instant) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    if at <= now {
        return now;
    }
    tokio::time::sleep_until(at).await;
    tokio::time::Instant::now()
}
