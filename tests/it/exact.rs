//! The simulator against the closed-form answers of the absorbing chain:
//! every simulated figure must lie within 4 standard errors of the exact
//! value, for the bundled scenarios and for random chains.

use fogg_model::Model;
use fogg_result::SimResult;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::{bundled, simulate};

/// Checks a simulated proportion against its exact value.
fn assert_proportion(what: &str, simulated: f64, exact: f64, n: u64) {
    let sigma = (exact * (1.0 - exact) / n as f64).sqrt().max(1e-12);
    let z = (simulated - exact) / sigma;
    assert!(z.abs() < 4.0, "{what}: simulated {simulated:.6}, exact {exact:.6}, {z:.2} σ apart");
}

fn assert_matches_exact(label: &str, r: &SimResult) {
    let n = r.customers;
    assert_eq!(r.truncated, 0, "{label}: no journey should be cut");
    assert_proportion(&format!("{label} conversion rate"), r.conversion_rate, r.exact_conversion_rate, n);
    // Conversions per customer: the interval is ±1.96 se around the mean.
    let se = (r.conversions_per_customer_ci95[1] - r.conversions_per_customer) / 1.959_963_984_540_054;
    let z = (r.conversions_per_customer - r.exact_conversions_per_customer) / se.max(1e-12);
    assert!(
        z.abs() < 4.0,
        "{label} conversions per customer: simulated {}, exact {}, {z:.2} σ apart",
        r.conversions_per_customer,
        r.exact_conversions_per_customer
    );
    for f in &r.funnel {
        assert_proportion(&format!("{label} funnel '{}'", f.stage), f.share, f.exact_share, n);
    }
    for s in &r.segments {
        assert_proportion(
            &format!("{label} segment '{}'", s.segment),
            s.conversion_rate,
            s.exact_conversion_rate,
            s.customers,
        );
    }
}

#[test]
fn bundled_scenarios_match_their_exact_answers() {
    for (name, _) in fogg_scenario::BUNDLED {
        let model = bundled(name);
        let (r, _) = simulate(&model, 400_000, 11, 2, false);
        assert_matches_exact(name, &r);
        // The exact answers themselves are plausible: a few percent.
        assert!((0.005..0.10).contains(&r.exact_conversion_rate), "{name}: {}", r.exact_conversion_rate);
    }
}

/// Writes a random but valid scenario: a few channels and stages, states
/// with random weights, some conversions with loops back, two segments.
pub(crate) fn random_scenario(seed: u64) -> String {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let channels = rng.random_range(2..6);
    let states = rng.random_range(3..14);
    let mut s = String::from("[scenario]\nname = \"random\"\nstages = [\"a\", \"b\", \"c\"]\n");
    for c in 0..channels {
        s += &format!("[[channel]]\nid = \"c{c}\"\nkind = \"online\"\ncost_per_touch = 0.5\n");
    }
    s += "[entry]\n";
    for i in 0..rng.random_range(1..=states) {
        s += &format!("s{i} = {}\n", rng.random_range(1..10));
    }
    for i in 0..states {
        let conversion = i > 0 && rng.random_bool(0.3);
        s += &format!(
            "[[state]]\nid = \"s{i}\"\nstage = \"{}\"\nchannel = \"c{}\"\n",
            ["a", "b", "c"][rng.random_range(0..3)],
            rng.random_range(0..channels)
        );
        if conversion {
            s += "conversion = true\nvalue = { dist = \"exponential\", mean = 40.0 }\n";
        }
        s += "dwell = { dist = \"exponential\", mean = \"1h\" }\nnext = { ";
        for j in 0..states {
            if rng.random_bool(0.4) {
                s += &format!("s{j} = {:.3}, ", rng.random::<f64>() * 3.0);
            }
        }
        s += &format!("exit = {:.3} }}\n", 0.3 + rng.random::<f64>());
    }
    let share = rng.random_range(0.2..0.8);
    s += &format!(
        "[[segment]]\nid = \"x\"\nshare = {share}\nchannel_multiplier = {{ c0 = {:.2} }}\n\
         [[segment]]\nid = \"y\"\nshare = {}\nexit_multiplier = {:.2}\n",
        rng.random_range(0.2..3.0),
        1.0 - share,
        rng.random_range(0.5..1.5)
    );
    s
}

#[test]
fn random_chains_match_their_exact_answers() {
    for seed in 1..=6 {
        let text = random_scenario(seed);
        let model: Model = fogg_scenario::from_str(&text, "random.toml")
            .unwrap_or_else(|e| panic!("random scenario {seed} is valid: {e}\n{text}"))
            .model;
        let (r, _) = simulate(&model, 200_000, seed, 2, false);
        assert_matches_exact(&format!("random chain {seed}"), &r);
    }
}

#[test]
fn a_wrong_exact_answer_would_be_caught() {
    // The same check against a deliberately shifted value must fail: the
    // tolerance is tight enough to mean something.
    let model = bundled("retail-omnichannel");
    let (mut r, _) = simulate(&model, 400_000, 3, 2, false);
    r.exact_conversion_rate *= 1.05;
    let caught = std::panic::catch_unwind(|| assert_matches_exact("shifted", &r));
    assert!(caught.is_err(), "a 5% error in the exact conversion rate went unnoticed");
}

#[test]
fn walk_is_deterministic_per_customer() {
    let model = bundled("retail-omnichannel");
    let journey = |customer: u64| {
        let mut rng = fogg_core::rng::customer_rng(9, customer, fogg_core::rng::Stream::Journey);
        model.walk(&mut rng).map(|s| s.state).collect::<Vec<_>>()
    };
    assert_eq!(journey(12_345), journey(12_345));
    let distinct: std::collections::HashSet<_> = (0..200).map(journey).collect();
    assert!(distinct.len() > 5, "customers should not all walk the same journey");
}

#[test]
fn removing_a_channel_matches_its_exact_conversion_rate() {
    for name in ["retail-omnichannel", "ecommerce-funnel", "campaign-launch"] {
        let model = bundled(name);
        for (c, channel) in model.channels.iter().enumerate() {
            let id = fogg_model::ChannelId(c as u8);
            let exact = model.conversion_rate_without(id);
            let without = model.without_channel(id);
            assert!(
                (without.exact().conversion_rate - exact).abs() < 1e-12,
                "{name} without {}: the removed model's own solve agrees",
                channel.id
            );
            let (r, _) = simulate(&without, 100_000, 11, 2, false);
            assert_proportion(
                &format!("{name} without {}", channel.id),
                r.conversion_rate,
                exact,
                r.customers,
            );
            assert_eq!(r.channels[c].touches, 0, "{name}: nobody touches a removed channel");
            assert!(exact <= model.exact().conversion_rate + 1e-12, "removing a channel never helps here");
        }
    }
}

/// A large funnel: `states` states in five stages, each leading to three
/// random states and the exit, every 13th a conversion.
fn large_scenario(states: usize, seed: u64) -> String {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut s = String::from("[scenario]\nname = \"large\"\nstages = [\"a\", \"b\", \"c\", \"d\", \"e\"]\n");
    for c in 0..8 {
        s += &format!("[[channel]]\nid = \"c{c}\"\nkind = \"online\"\ncost_per_touch = 0.25\n");
    }
    s += "[entry]\n";
    let entry: std::collections::BTreeSet<usize> = (0..20).map(|_| rng.random_range(0..states)).collect();
    for i in entry {
        s += &format!("s{i} = 1\n");
    }
    for i in 0..states {
        s += &format!(
            "[[state]]\nid = \"s{i}\"\nstage = \"{}\"\nchannel = \"c{}\"\n",
            ["a", "b", "c", "d", "e"][i % 5],
            i % 8
        );
        if i % 13 == 0 {
            s += "conversion = true\nvalue = { dist = \"constant\", value = 30.0 }\n";
        }
        let targets: std::collections::BTreeSet<usize> =
            (0..3).map(|_| rng.random_range(0..states)).collect();
        let row: Vec<String> =
            targets.iter().map(|t| format!("s{t} = {}", rng.random_range(1..10))).collect();
        s += &format!("next = {{ {}, exit = 4 }}\n", row.join(", "));
    }
    s
}

#[test]
fn a_chain_too_large_for_dense_elimination_is_solved_sparsely_and_matches() {
    // Ten times the dense limit: solved by sparse iteration with its
    // proven stopping rule; the simulator must agree within 4 σ.
    let states = 10 * fogg_model::exact::DENSE_STATES;
    let model = fogg_scenario::from_str(&large_scenario(states, 9), "large.toml")
        .unwrap_or_else(|e| panic!("the large scenario is valid: {e}"))
        .model;
    assert_eq!(model.states.len(), states);
    let (r, _) = simulate(&model, 400_000, 4, 2, false);
    assert_matches_exact("large chain", &r);
}
