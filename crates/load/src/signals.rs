//! Ctrl-C and SIGTERM, counted: the first stops arrivals (a load run,
//! a capacity search), a second stops at once. Whatever was measured is
//! still reported.

use tokio::sync::watch;

/// Counts Ctrl-C and SIGTERM, and says on standard error that the run is
/// stopping. The handlers are installed before this returns, so a signal
/// that comes once the first request is out is never the default
/// "terminate at once".
pub fn signal_counter() -> watch::Receiver<u32> {
    let (tx, rx) = watch::channel(0u32);
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    tokio::spawn(async move {
        loop {
            #[cfg(unix)]
            let signalled = async {
                tokio::select! {
                    Some(()) = async { interrupt.as_mut()?.recv().await } => {}
                    Some(()) = async { term.as_mut()?.recv().await } => {}
                    else => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signalled = async {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            signalled.await;
            tx.send_modify(|n| *n += 1);
            // Said at once: the run may take its grace period to stop.
            match *tx.borrow() {
                1 => fogg_core::say!(
                    "\nsignal received: stopping; customers in flight get the grace period, then the reports are written (a second signal stops at once)"
                ),
                2 => fogg_core::say!("\nsecond signal: stopping at once, writing the reports"),
                _ => {}
            }
        }
    });
    rx
}
