//! Ctrl-C and SIGTERM, counted: the first stops arrivals (a load run,
//! a capacity search), a second stops at once. Whatever was measured is
//! still reported.

use tokio::sync::watch;

/// Counts Ctrl-C and SIGTERM. The handlers are installed before this returns, so a signal
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
        }
    });
    rx
}

/// Says on standard error, as each of the first two signals comes, what
/// the run does now: `first` after one (the run may take its grace period
/// to stop), and that it stops at once after a second. A task on the
/// current runtime.
pub fn say_when_signalled(mut signals: watch::Receiver<u32>, first: &'static str) {
    tokio::spawn(async move {
        if signals.wait_for(|n| *n >= 1).await.is_ok() {
            fogg_core::say!("\nsignal received: {first} (a second signal stops at once)");
        }
        if signals.wait_for(|n| *n >= 2).await.is_ok() {
            fogg_core::say!("\nsecond signal: stopping at once, writing the reports");
        }
    });
}
