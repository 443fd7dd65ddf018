//! `fogg demo`: the built-in demo shop, until Ctrl-C.

use anyhow::{Context, bail};

use crate::cli::DemoArgs;
use fogg_core::verdict::Verdict;
use fogg_load::demo::{DemoConfig, ENDPOINTS, start};

/// Runs the shop until Ctrl-C.
pub fn run(args: &DemoArgs) -> anyhow::Result<Verdict> {
    if !args.addr.ip().is_loopback() {
        bail!("the demo shop listens on loopback only: use --addr 127.0.0.1:PORT or [::1]:PORT");
    }
    let cfg = DemoConfig::new(args.capacity, args.latency, args.queue)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let server =
            start(args.addr, cfg.clone()).await.with_context(|| format!("listening on {}", args.addr))?;
        fogg_core::say!(
            "demo shop on {} · {} workers × {:.0} ms = {:.0} requests/s · queue {} · Ctrl-C to stop",
            server.url(),
            cfg.workers(),
            cfg.latency.as_secs_f64() * 1000.0,
            cfg.capacity_rps,
            cfg.queue
        );
        for (method, route) in ENDPOINTS {
            fogg_core::say!("  {method:<4} {route}");
        }
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        fogg_core::say!(
            "served {} requests ({} answered 503)",
            server.stats.total(),
            server.stats.rejected()
        );
        Ok(Verdict::Pass)
    })
}
