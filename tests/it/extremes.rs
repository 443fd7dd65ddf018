//! Numbers at the edge of what f64 and the money counters hold: handled
//! exactly where they can be, refused with an error where they cannot,
//! never a panic, a NaN or a wrapped counter.

use fogg_model::change::{Change, SpendLevel};

use crate::simulate;

/// `a → {b, exit}` 50/50, `b` converts with `value`; channel `ads` has
/// the given spend curve.
fn two_states(entry: &str, value: &str, spend: &str) -> String {
    format!(
        r#"
[scenario]
name = "edges"
stages = ["s1", "s2"]
customers_per_period = 1000
[[channel]]
id = "ads"
kind = "online"
spend = {spend}
[entry]
{entry}
[[state]]
id = "a"
stage = "s1"
channel = "ads"
next = {{ b = 1, exit = 1 }}
[[state]]
id = "b"
stage = "s2"
channel = "ads"
conversion = true
value = {value}
next = {{ exit = 1 }}
"#
    )
}

const SPEND: &str = r#"{ baseline = 30000, half_saturation = 40000, drives = "acquisition" }"#;
const TEN: &str = r#"{ dist = "constant", value = 10 }"#;

#[test]
fn the_largest_finite_weights_are_still_ratios() {
    let text = two_states("a = 1e308\nb = 1e308", TEN, SPEND);
    let model = fogg_scenario::from_str(&text, "edges.toml").expect("valid").model;
    let exact = model.exact();
    // Half start at a (converting half the time), half at b.
    assert!((exact.conversion_rate - 0.75).abs() < 1e-12, "{}", exact.conversion_rate);
    let (r, _) = simulate(&model, 20_000, 3, 2, false);
    assert!((r.conversion_rate - 0.75).abs() < 0.02, "{}", r.conversion_rate);
}

#[test]
fn a_steep_spend_response_is_computed_without_overflow() {
    // slope 67: 30000⁶⁷ overflows f64, but the response ratio (1.1⁶⁷ with
    // the curve's saturation) does not.
    let steep = r#"{ baseline = 30000, half_saturation = 40000, slope = 67, drives = "acquisition" }"#;
    let model = fogg_scenario::from_str(&two_states("a = 1", TEN, steep), "edges.toml").expect("valid").model;
    let ads = model.channel_id("ads").unwrap();
    let variant = model
        .apply(&[Change::Spend { channel: ads, level: SpendLevel::Factor(1.1) }])
        .expect("a steep curve is still a curve");
    // g(S)/g(S₀) = (1 + (K/S₀)ᵃ) / (1 + (K/S)ᵃ), by hand in logarithms.
    let (k, a) = (40_000f64, 67.0);
    let expected = ((a * (k / 30_000f64).ln()).exp() + 1.0) / ((a * (k / 33_000f64).ln()).exp() + 1.0);
    assert!((variant.population / expected - 1.0).abs() < 1e-9, "{} vs {expected}", variant.population);
    // A spend of the smallest subnormal is a spend, not a NaN.
    let tiny = r#"{ baseline = 5e-324, half_saturation = 40000, drives = "acquisition" }"#;
    let model = fogg_scenario::from_str(&two_states("a = 1", TEN, tiny), "edges.toml").expect("valid").model;
    let variant = model.apply(&[Change::Spend { channel: ads, level: SpendLevel::Factor(10.0) }]);
    assert!(variant.is_ok_and(|v| v.population.is_finite()));
}

#[test]
fn the_largest_values_sum_exactly_past_64_bits_of_cents() {
    // 1e9 per conversion: 20,000 customers convert ~10,000 times, 1e15
    // cents in all per 10k; the counter holds it exactly.
    let value = r#"{ dist = "constant", value = 1e9 }"#;
    let model =
        fogg_scenario::from_str(&two_states("a = 1", value, SPEND), "edges.toml").expect("valid").model;
    let (r, outcome) = simulate(&model, 20_000, 5, 2, false);
    let conversions = outcome.agg.conversions as u128;
    assert_eq!(outcome.agg.revenue_cents, conversions * 100_000_000_000);
    assert_eq!(r.revenue, conversions as f64 * 1e9);
    // A draw above the cap counts as the cap.
    assert_eq!(fogg_model::cents(1e300), 100_000_000_000);
    assert_eq!(fogg_model::cents(f64::INFINITY), 100_000_000_000);
}
