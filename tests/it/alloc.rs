//! Allocation discipline: walking journeys allocates nothing, and a
//! simulation allocates the same whatever its number of customers.
//!
//! A counting allocator counts the allocations of the threads that asked
//! for it, so tests running in parallel do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use fogg_engine::sim::{SimPlan, simulate};

use crate::bundled;

struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: thread-local storage may be gone while a thread exits.
        let _ = TRACKING.try_with(|t| {
            if t.get() {
                let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            }
        });
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by this thread while running `f`.
fn allocations<T>(f: impl FnOnce() -> T) -> (u64, T) {
    COUNT.with(|c| c.set(0));
    TRACKING.with(|t| t.set(true));
    let out = f();
    TRACKING.with(|t| t.set(false));
    (COUNT.with(|c| c.get()), out)
}

#[test]
fn walking_journeys_allocates_nothing() {
    let model = bundled("retail-omnichannel");
    let rngs = fogg_core::rng::CustomerRngs::new(3, fogg_core::rng::Stream::Journey);
    let (count, steps) =
        allocations(|| (0..100_000).map(|i| model.walk(&mut rngs.customer(i)).count()).sum::<usize>());
    assert!(steps > 100_000);
    assert_eq!(count, 0, "Model::walk allocated {count} times over {steps} steps");
}

#[test]
fn simulation_allocations_do_not_grow_with_customers() {
    let model = bundled("retail-omnichannel");
    // One worker, and it is this thread, so its allocations are counted.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build().expect("pool");
    let run = |n: u64| {
        let plan = SimPlan {
            seed: 1,
            customers: 0..n,
            run_customers: n,
            export_paths: false,
            shard: fogg_core::shard::Shard::WHOLE,
        };
        let progress = fogg_engine::sim::Progress::default();
        allocations(|| pool.install(|| simulate(&model, &plan, &progress).agg.customers))
    };
    // Both runs share the same candidate sample (the first 65,536
    // customers), so only the walking differs.
    let (small, n_small) = run(100_000);
    let (large, n_large) = run(1_000_000);
    assert_eq!((n_small, n_large), (100_000, 1_000_000));
    assert!(small > 0, "the counter works: setting up a run allocates");
    assert_eq!(large, small, "10× the customers must not mean more allocations");
}
