//! What the live views read: the run in progress, if any, and the counts
//! of the runs already over (the earlier trials of a capacity search).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::super::context::LoadContext;
use super::super::recorder::LoadAgg;
use super::snapshot::Snapshot;

/// The runs a live view shows.
#[derive(Debug)]
pub(super) struct Runs {
    /// `scenario` and `shard` labels of every series.
    pub labels: Vec<(&'static str, String)>,
    current: Mutex<Option<Arc<LoadContext>>>,
    done: Mutex<Snapshot>,
}

impl Runs {
    /// Nothing run yet, under these labels.
    pub fn new(labels: Vec<(&'static str, String)>) -> Runs {
        Runs { labels, current: Mutex::new(None), done: Mutex::new(Snapshot::default()) }
    }

    /// The run in progress, if any.
    pub fn current(&self) -> Option<Arc<LoadContext>> {
        self.current.lock().expect("live runs").clone()
    }

    /// A run starts.
    pub fn attach(&self, ctx: Arc<LoadContext>) {
        *self.current.lock().expect("live runs") = Some(ctx);
    }

    /// The run in progress is over, with these final counts.
    pub fn detach(&self, names: &[String], agg: &LoadAgg) {
        let last = Snapshot::of(agg, names, 0);
        let mut done = self.done.lock().expect("live runs");
        *done = done.then(&last);
        *self.current.lock().expect("live runs") = None;
    }

    /// The counts of every run so far, the one in progress included.
    pub fn snapshot(&self) -> Snapshot {
        let done = self.done.lock().expect("live runs").clone();
        match self.current() {
            Some(ctx) => {
                let in_flight = ctx.in_flight.load(Ordering::Relaxed) as u64;
                let now = {
                    let agg = ctx.agg.lock().expect("no task panics while holding the recorder");
                    Snapshot::of(&agg, &ctx.request_names, in_flight)
                };
                done.then(&now)
            }
            None => done,
        }
    }
}
