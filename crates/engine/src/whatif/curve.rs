//! `fogg whatif --curve CHANNEL`: one channel's spend swept from 0 to twice
//! today's, every other channel fixed, answered exactly.

use fogg_model::change::{Change, SpendLevel};
use fogg_model::{ChannelId, Model};

use super::ExactFigures;

/// One point of a response curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// The channel's spend per period.
    pub spend: f64,
    /// Response multiplier against today's spend.
    pub multiplier: f64,
    /// Expected figures at this spend.
    pub exact: ExactFigures,
    /// d(conversions)/d(spend): conversions one more unit of spend buys.
    pub marginal_conversions: f64,
    /// d(revenue)/d(spend): revenue one more unit of spend brings.
    pub marginal_roas: f64,
}

/// A channel without a spend, so without a response curve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "channel '{channel}' declares no spend, so it has no response curve; channels with one: {with_spend}"
)]
pub struct NoCurve {
    /// The channel asked for.
    pub channel: String,
    /// The channels that declare a spend, listed for the reader.
    pub with_spend: String,
}

/// Sweeps `channel`'s spend over `points` evenly spaced levels from 0 to
/// twice today's.
pub fn sweep(
    model: &Model,
    channel: ChannelId,
    points: usize,
    per_period: f64,
) -> Result<Vec<CurvePoint>, NoCurve> {
    let ch = &model.channels[channel.0 as usize];
    let Some(curve) = ch.spend else {
        return Err(NoCurve { channel: ch.id.clone(), with_spend: with_spend(model) });
    };
    let at = |spend: f64| -> Option<ExactFigures> {
        let change = Change::Spend { channel, level: SpendLevel::Absolute(spend) };
        model.apply(&[change]).ok().map(|v| ExactFigures::of(&v, per_period))
    };
    let top = 2.0 * curve.baseline;
    let h = top * 1e-3;
    let mut out = Vec::with_capacity(points);
    for k in 0..points.max(2) {
        let spend = top * k as f64 / (points.max(2) - 1) as f64;
        let Some(exact) = at(spend) else { continue };
        let (lo, hi) = (at((spend - h).max(0.0)), at(spend + h));
        let (lo, lo_s) = match lo {
            Some(l) if spend >= h => (l, spend - h),
            _ => (exact, spend),
        };
        let (marginal_conversions, marginal_roas) = match hi {
            Some(hi) => {
                let ds = spend + h - lo_s;
                ((hi.conversions - lo.conversions) / ds, (hi.revenue - lo.revenue) / ds)
            }
            None => (f64::NAN, f64::NAN),
        };
        out.push(CurvePoint {
            spend,
            multiplier: curve.multiplier(spend),
            exact,
            marginal_conversions,
            marginal_roas,
        });
    }
    Ok(out)
}

/// The channels that declare spend, for messages ("none" when none do).
pub(super) fn with_spend(model: &Model) -> String {
    let names: Vec<&str> =
        model.channels.iter().filter(|c| c.spend.is_some()).map(|c| c.id.as_str()).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}
