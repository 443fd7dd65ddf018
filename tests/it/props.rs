//! Properties that must hold for every input, not just the ones a test
//! author thought of (proptest, 32–64 cases each, shrunk on failure):
//! merges are associative and commutative, shards tile a run, thresholds
//! and changes read back what was written.

use fogg_core::merge::Merge;
use fogg_core::shard::Shard;
use fogg_engine::sim::{Progress, SimAgg, SimPlan, simulate_on_pool};
use fogg_load::recorder::{ErrorClass, Exchange, LoadAgg};
use fogg_load::threshold::{Metric, Op, Scope, Stat, Threshold};
use proptest::prelude::*;

use crate::bundled;

fn merged<T: Merge + Clone>(a: &T, b: &T) -> T {
    let mut m = a.clone();
    m.merge(b);
    m
}

/// Customers `range` of ecommerce-funnel, seed 7, walked on one thread.
fn sim_part(range: std::ops::Range<u64>, run: u64) -> SimAgg {
    let model = bundled("ecommerce-funnel");
    let plan =
        SimPlan { seed: 7, customers: range, run_customers: run, export_paths: true, shard: Shard::WHOLE };
    simulate_on_pool(&model, &plan, Some(1), &Progress::default()).expect("runs").outcome.agg
}

fn exchange() -> impl Strategy<Value = (usize, Exchange)> {
    (0usize..5, 0usize..2, 0usize..3, 0usize..2, 1u64..2_000_000, 0usize..7, 0u8..8).prop_map(
        |(second, request, state, segment, latency_us, class, cut)| {
            let error = ErrorClass::ALL.get(class).copied();
            let service_us = latency_us / 2;
            let unfinished = cut == 0;
            (second, Exchange { request, state, segment, latency_us, service_us, error, unfinished })
        },
    )
}

fn load_agg(exchanges: &[(usize, Exchange)], arrivals: &[(usize, bool)]) -> LoadAgg {
    let mut agg = LoadAgg::new(2, 3, 2);
    for (second, x) in exchanges {
        agg.request(*second, x);
    }
    for &(second, dropped) in arrivals {
        agg.arrival(second, dropped);
    }
    agg
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn shards_tile_the_run(n in 0u64..10_000_000_000, count in 1u32..200) {
        let mut next = 0;
        for index in 1..=count {
            let part = Shard { index, count }.customers(n);
            prop_assert_eq!(part.start, next, "shard {} of {} starts where the last ended", index, count);
            prop_assert!(part.end - part.start <= n / u64::from(count) + 1, "shards are even");
            next = part.end;
        }
        prop_assert_eq!(next, n);
    }

    #[test]
    fn load_merges_are_associative_and_commutative(
        a in proptest::collection::vec(exchange(), 0..40),
        b in proptest::collection::vec(exchange(), 0..40),
        c in proptest::collection::vec(exchange(), 0..40),
        arrivals in proptest::collection::vec((0usize..6, any::<bool>()), 0..20),
    ) {
        let (a, b, c) = (load_agg(&a, &arrivals), load_agg(&b, &[]), load_agg(&c, &arrivals[..arrivals.len() / 2]));
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
    }

    #[test]
    fn thresholds_read_back_their_canonical_form(
        metric in 0usize..14,
        scope in 0usize..4,
        op in 0usize..4,
        limit in 0u32..100_000,
        hundredths in 0u32..100,
        name in "[a-z][a-z_]{0,11}",
    ) {
        let metrics = [
            Metric::Latency(Stat::P50), Metric::Latency(Stat::P90), Metric::Latency(Stat::P95),
            Metric::Latency(Stat::P99), Metric::Latency(Stat::P999), Metric::Latency(Stat::Max),
            Metric::Latency(Stat::Mean), Metric::ErrorRate, Metric::Errors, Metric::ConversionsLost,
            Metric::RevenueAtRisk, Metric::Throughput, Metric::ArrivalRate, Metric::DroppedArrivals,
        ];
        let metric = metrics[metric];
        let scope_text = match scope {
            1 => format!("{{request={name}}}"),
            2 => format!("{{state={name}}}"),
            3 => "{class=5xx}".to_owned(),
            _ => String::new(),
        };
        let op = [Op::Lt, Op::Le, Op::Gt, Op::Ge][op];
        // A share is at most 100%.
        let whole = if metric == Metric::ErrorRate { limit % 100 } else { limit };
        let value = f64::from(whole) + f64::from(hundredths) / 100.0;
        let unit = match metric {
            Metric::Latency(_) => "ms",
            Metric::ErrorRate => "%",
            Metric::Throughput | Metric::ArrivalRate => "/s",
            _ => "",
        };
        let text = format!("{}{scope_text} {} {value}{unit}", metric.name(), op.symbol());
        // Not every metric takes every scope: those must be refused, the
        // others read back exactly.
        match Threshold::parse(&text) {
            Ok(t) => {
                prop_assert_eq!(t.metric, metric);
                prop_assert_eq!(t.op, op);
                prop_assert_eq!(t.limit, value);
                let expected_scope = match scope {
                    1 => Scope::Request(name.clone()),
                    2 => Scope::State(name.clone()),
                    3 => Scope::Class(ErrorClass::Status5xx),
                    _ => Scope::All,
                };
                prop_assert_eq!(&t.scope, &expected_scope);
                let again = Threshold::parse(&t.canonical()).expect("the canonical form parses");
                prop_assert_eq!((again.metric, again.scope, again.op, again.limit, again.unit), (t.metric, t.scope, t.op, t.limit, t.unit));
            }
            Err(e) => {
                prop_assert!(scope != 0, "'{}' has no scope and must parse: {}", text, e);
                prop_assert!(e.to_string().contains("threshold '"), "{}", e);
            }
        }
    }
}

proptest! {
    // Each case walks a few thousand customers: fewer cases.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn simulation_merges_are_associative_and_commutative(cut1 in 0u64..3_000, cut2 in 0u64..3_000) {
        let run = 3_000;
        let (x, y) = (cut1.min(cut2), cut1.max(cut2));
        let (a, b, c) = (sim_part(0..x, run), sim_part(x..y, run), sim_part(y..run, run));
        let whole = sim_part(0..run, run);
        prop_assert_eq!(&merged(&merged(&a, &b), &c), &whole, "parts merged equal the whole run");
        prop_assert_eq!(merged(&a, &merged(&b, &c)), merged(&merged(&a, &b), &c));
        prop_assert_eq!(merged(&c, &merged(&b, &a)), whole);
    }
}

#[test]
fn change_text_reads_back_whatever_the_spacing() {
    use fogg_scenario::change_text::parse_change;
    let model = bundled("retail-omnichannel");
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases: 64, ..ProptestConfig::default() });
    let spacing = proptest::collection::vec(1usize..4, 4);
    runner
        .run(&(spacing, 1u32..300), |(gaps, pct)| {
            let gap = |k: usize| " ".repeat(gaps[k]);
            let canonical = parse_change(&format!("spend social +{pct}%"), &model).expect("parses");
            let spaced = format!("{}spend{}social{}+{pct}%{}", gap(0), gap(1), gap(2), gap(3));
            let again = parse_change(&spaced, &model).expect("spacing does not matter");
            prop_assert_eq!(format!("{again:?}"), format!("{canonical:?}"));
            Ok(())
        })
        .expect("every spacing reads back");
}
