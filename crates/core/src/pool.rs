//! A rayon pool of a chosen size, and the time the work on it took: what
//! every parallel engine run starts from.

use std::time::Instant;

/// What [`on_pool`] returns: the work's value, the threads that did it,
/// and the seconds it took.
#[derive(Debug)]
pub struct Timed<T> {
    /// What the work returned.
    pub value: T,
    /// Threads of the pool.
    pub threads: usize,
    /// Wall-clock seconds of the work (not of building the pool).
    pub elapsed_s: f64,
}

/// Runs `work` on a pool of `threads` workers (one per core when `None`).
pub fn on_pool<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<Timed<T>, rayon::ThreadPoolBuildError> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        pool = pool.num_threads(t);
    }
    let pool = pool.build()?;
    let started = Instant::now();
    let value = pool.install(work);
    Ok(Timed { value, threads: pool.current_num_threads(), elapsed_s: started.elapsed().as_secs_f64() })
}
