//! Watching a run while it lasts, from outside the terminal:
//!
//! - `--metrics ADDR`: Prometheus scrapes the run ([`exposition`]);
//! - `--prometheus-remote-write URL`: the same series pushed
//!   ([`remote_write`]);
//! - `--dashboard ADDR`: a live page in a browser ([`dashboard`]).
//!
//! Each reads the counts the report is made of ([`snapshot`]), for the
//! run in progress and the runs before it (the trials of a capacity
//! search), so what they show after the end agrees with the report. The
//! scrape and the pushes encode one list of series ([`families`]).

mod classic;
pub mod dashboard;
mod exposition;
pub mod families;
pub mod remote_write;
pub mod snapshot;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use super::context::LoadContext;
use super::recorder::LoadAgg;
use state::Runs;

/// Which live views a command asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveOptions {
    /// `--metrics ADDR`.
    pub metrics: Option<SocketAddr>,
    /// `--prometheus-remote-write URL`.
    pub remote_write: Option<String>,
    /// `--dashboard ADDR`, with what its page says about the run.
    pub dashboard: Option<(SocketAddr, dashboard::PageInfo)>,
}

/// The live views of a command's runs, started before the first run (a
/// taken address or a bad URL is an error before any traffic) and
/// finished after the report is written.
pub struct Live {
    runs: Arc<Runs>,
    /// Keeps the window of recent latency, once a second.
    ticker: tokio::task::JoinHandle<()>,
    metrics: Option<exposition::MetricsServer>,
    pusher: Option<remote_write::Pusher>,
    dashboard: Option<dashboard::DashboardServer>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("labels", &self.runs.labels).finish_non_exhaustive()
    }
}

impl Live {
    /// Starts the views `options` asks for, `None` when it asks for none;
    /// every series is labelled with the scenario and the shard.
    pub async fn start(
        options: &LiveOptions,
        scenario: &str,
        shard: fogg_core::shard::Shard,
    ) -> anyhow::Result<Option<Live>> {
        if *options == LiveOptions::default() {
            return Ok(None);
        }
        let runs = Arc::new(Runs::new(vec![("scenario", scenario.to_owned()), ("shard", shard.to_string())]));
        let metrics = match options.metrics {
            Some(addr) => Some(exposition::serve(addr, Arc::clone(&runs)).await?),
            None => None,
        };
        let dashboard = match &options.dashboard {
            Some((addr, page)) => Some(dashboard::serve(*addr, Arc::clone(&runs), page.clone()).await?),
            None => None,
        };
        let pusher = match &options.remote_write {
            Some(url) => Some(remote_write::start(url, Arc::clone(&runs))?),
            None => None,
        };
        let window = Arc::clone(&runs);
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                window.tick();
            }
        });
        Ok(Some(Live { runs, ticker, metrics, pusher, dashboard }))
    }

    /// A run starts: the views show it.
    pub(super) fn attach(&self, ctx: Arc<LoadContext>) {
        self.runs.attach(ctx);
    }

    /// The run is over, with these final counts.
    pub(super) fn detach(&self, names: &[String], agg: &LoadAgg) {
        self.runs.detach(names, agg);
    }

    /// Every run is over and the report written: the final counts reach
    /// the scraper (its next scrape) and the receiver (a last push), the
    /// dashboard shows `report_html`; then the views stop.
    ///
    /// The waits for receivers (the last scrape, the final push and its
    /// tries) end at a Ctrl-C or SIGTERM after the `seen`th counted by
    /// `signals` (the count when the run ended): a receiver that hangs
    /// cannot hold the process once the report is written.
    pub async fn finish(
        self,
        report_html: Option<String>,
        mut signals: tokio::sync::watch::Receiver<u32>,
        seen: u32,
    ) {
        self.ticker.abort();
        let dashboard = async {
            if let Some(d) = self.dashboard {
                d.finish(report_html).await;
            }
        };
        let metrics = async {
            if let Some(m) = self.metrics {
                m.finish().await;
            }
        };
        let pusher = async {
            if let Some(p) = self.pusher {
                p.finish().await;
            }
        };
        tokio::select! {
            _ = async { tokio::join!(dashboard, metrics, pusher) } => {}
            _ = signals.wait_for(|n| *n > seen) => {
                fogg_core::say!("signal received: stopped waiting for the metrics receivers (the reports are written)");
            }
        }
    }
}
