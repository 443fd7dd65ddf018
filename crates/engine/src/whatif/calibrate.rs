//! `fogg calibrate`: each channel's Hill response fitted to lift tests.
//!
//! A lift test says that moving one channel's spend from S₁ to S₂ (every
//! other channel at today's spend) changed conversions per period by L,
//! with standard error σ. The closed form predicts that lift for any
//! curve, so the curve's `half_saturation` K (and its `slope` a, when two
//! or more tests at different spends constrain it) is chosen to minimise
//! χ² = Σ ((predicted − L) / σ)². Channels are fitted one by one: a test of
//! one channel leaves every other channel's multiplier at 1, so their
//! curves do not enter it.
//!
//! The search is a grid over ln K (× ln a) refined by Nelder–Mead; the
//! 95% ranges come from the curvature of χ² at its minimum (Laplace: the
//! covariance of (ln K, ln a) is 2 H⁻¹), so they are only as good as the
//! quadratic approximation there. A fit that ends at the edge of the search
//! has no range on that side: the tests do not bound it.

use fogg_core::units::shown;
use fogg_model::change::{Change, SpendLevel};
use fogg_model::{ChannelId, Model, Spend};

use super::ExactFigures;

/// Half-width of the ln K search around the tests' spends (e⁸ ≈ 3,000×).
const LN_K_MARGIN: f64 = 8.0;
/// The slopes a fit may choose.
const SLOPE_RANGE: (f64, f64) = (0.1, 10.0);
/// A residual beyond this many standard errors is a test the curve misses.
pub const MISS_SIGMA: f64 = 3.0;

/// One lift test, as written on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Lift {
    /// The text given.
    pub text: String,
    /// The channel whose spend moved.
    pub channel: String,
    /// Spend per period before.
    pub from: f64,
    /// Spend per period during the test.
    pub to: f64,
    /// Conversions per period gained (negative: lost).
    pub lift: f64,
    /// Its standard error.
    pub standard_error: f64,
}

impl Lift {
    /// Parses `CHANNEL: FROM -> TO = LIFT ±SE` (`+-` or `+/-` for `±`).
    pub fn parse(text: &str) -> Result<Lift, CalibrateError> {
        let usage = |why: &str| CalibrateError::Syntax { text: text.to_owned(), why: why.to_owned() };
        let (channel, rest) = text.split_once(':').ok_or_else(|| usage("no ':' after the channel"))?;
        let (spends, measured) = rest.split_once('=').ok_or_else(|| usage("no '=' before the lift"))?;
        let (from, to) = spends.split_once("->").ok_or_else(|| usage("no '->' between the two spends"))?;
        let measured = measured.replace("+/-", "±").replace("+-", "±");
        let (lift, se) = measured.split_once('±').ok_or_else(|| usage("no '±SE' after the lift"))?;
        let number = |s: &str, what: &str| -> Result<f64, CalibrateError> {
            fogg_core::units::parse_amount(s)
                .ok_or_else(|| usage(&format!("{what} '{}' is not a number", s.trim())))
        };
        let lift = Lift {
            text: text.trim().to_owned(),
            channel: channel.trim().to_owned(),
            from: number(from, "the spend before")?,
            to: number(to, "the spend during the test")?,
            lift: number(lift, "the lift")?,
            standard_error: number(se, "the standard error")?,
        };
        if lift.channel.is_empty() {
            return Err(usage("no channel before ':'"));
        }
        if lift.from < 0.0 || lift.to < 0.0 {
            return Err(usage("a spend is negative"));
        }
        if lift.from == lift.to {
            return Err(usage("both spends are equal, so the test says nothing about the curve"));
        }
        if lift.standard_error <= 0.0 {
            return Err(usage("the standard error must be above 0"));
        }
        Ok(lift)
    }

    /// The lift in standard errors on the side the spend change cannot
    /// reach (more spend never loses conversions on a Hill curve).
    fn wrong_side_sigma(&self) -> f64 {
        -self.lift * (self.to - self.from).signum() / self.standard_error
    }
}

/// Why lift tests cannot calibrate the scenario.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrateError {
    /// A `--lift` that does not parse.
    #[error(
        "--lift '{text}': {why}; write CHANNEL: FROM -> TO = LIFT ±SE, e.g. 'social: 30000 -> 39000 = +420 ±60' (spend per period, conversions per period)"
    )]
    Syntax {
        /// The text given.
        text: String,
        /// What is wrong with it.
        why: String,
    },
    /// A test names a channel the scenario does not have.
    #[error("--lift '{text}': unknown channel; {hint}")]
    UnknownChannel {
        /// The test.
        text: String,
        /// The nearest names.
        hint: String,
    },
    /// A test names a channel without a spend curve.
    #[error(
        "--lift '{text}': channel '{channel}' declares no spend, so it has no curve to calibrate; add `spend = {{ baseline = …, half_saturation = …, drives = \"acquisition\" }}` to its [[channel]] (channels with spend: {with_spend})"
    )]
    NoSpend {
        /// The test.
        text: String,
        /// The channel.
        channel: String,
        /// Channels that declare spend.
        with_spend: String,
    },
    /// A lift whose sign no Hill curve can give.
    #[error(
        "--lift '{text}': {direction} spend cannot {effect} conversions on a Hill curve, and this lift is {sigma:.1} standard errors on that side of 0; check its sign"
    )]
    WrongSign {
        /// The test.
        text: String,
        /// "more" or "less".
        direction: &'static str,
        /// "lose" or "gain".
        effect: &'static str,
        /// How far on the wrong side.
        sigma: f64,
    },
    /// A lift beyond every curve the fit may choose.
    #[error(
        "--lift '{text}': no Hill curve{with_slope} gives this lift: the most one gives for these spends is {most} conversions per period (half_saturation far above both), {sigma:.1} standard errors short; check the numbers{hint}"
    )]
    Impossible {
        /// The test.
        text: String,
        /// " of slope 1" when the slope is kept.
        with_slope: String,
        /// The largest lift reachable, signed.
        most: String,
        /// The residual of the best fit.
        sigma: f64,
        /// What else to try.
        hint: String,
    },
    /// A test whose predicted lift is the same for every curve.
    #[error(
        "--lift '{text}': every Hill curve predicts the same lift for these spends, {lift} conversions per period ({sigma:.1} standard errors from the one measured): a spend of 0 has no response and today's spend is the reference, so the test says nothing of the curve; give a test between other spends"
    )]
    Insensitive {
        /// The test.
        text: String,
        /// The lift every curve predicts, signed.
        lift: String,
        /// How far the measured one is from it.
        sigma: f64,
    },
    /// The closed form cannot be solved at a spend the tests name.
    #[error("--lift '{text}': {why}")]
    Unsolvable {
        /// The test.
        text: String,
        /// Why.
        why: String,
    },
}

/// A test beside what the curve predicts, before and after the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFit {
    /// The test.
    pub lift: Lift,
    /// The lift the scenario's curve predicted.
    pub before: f64,
    /// The lift the fitted curve predicts.
    pub after: f64,
    /// (after − measured) / σ.
    pub residual: f64,
}

/// One channel's fitted curve.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelFit {
    /// The channel.
    pub channel: ChannelId,
    /// The curve the scenario declared.
    pub before: Spend,
    /// The fitted curve.
    pub after: Spend,
    /// Whether the slope was fitted (two or more tests at different
    /// spends) or kept.
    pub slope_fitted: bool,
    /// 95% range of the half-saturation (`None` on a side the tests do not
    /// bound).
    pub half_saturation_range: (Option<f64>, Option<f64>),
    /// 95% range of the slope, when fitted.
    pub slope_range: (Option<f64>, Option<f64>),
    /// χ² at the fit.
    pub chi_square: f64,
    /// Tests minus fitted parameters.
    pub degrees_of_freedom: usize,
    /// The tests.
    pub tests: Vec<TestFit>,
    /// `(spend, conversions before, conversions after)` per period, from 0
    /// to a quarter beyond the largest spend named, exact; spends at which
    /// no journey can start are left out.
    pub curve: Vec<(f64, f64, f64)>,
}

/// Points of [`ChannelFit::curve`].
const CURVE_POINTS: usize = 41;

/// Fits the curve of every channel the tests name, in model order.
pub fn calibrate(model: &Model, lifts: &[Lift], per_period: f64) -> Result<Vec<ChannelFit>, CalibrateError> {
    let mut by_channel: Vec<(ChannelId, Vec<Lift>)> = Vec::new();
    for lift in lifts {
        let channel = channel_of(model, lift)?;
        if lift.wrong_side_sigma() > 2.0 {
            let more = lift.to > lift.from;
            return Err(CalibrateError::WrongSign {
                text: lift.text.clone(),
                direction: if more { "more" } else { "less" },
                effect: if more { "lose" } else { "gain" },
                sigma: lift.wrong_side_sigma(),
            });
        }
        match by_channel.iter_mut().find(|(c, _)| *c == channel) {
            Some((_, tests)) => tests.push(lift.clone()),
            None => by_channel.push((channel, vec![lift.clone()])),
        }
    }
    by_channel.sort_by_key(|(c, _)| c.0);
    by_channel
        .into_iter()
        .map(|(channel, tests)| Problem::new(model, channel, tests, per_period).fit())
        .collect()
}

/// The channel a test names, checked to declare spend.
fn channel_of(model: &Model, lift: &Lift) -> Result<ChannelId, CalibrateError> {
    let Some(id) = model.channel_id(&lift.channel) else {
        return Err(CalibrateError::UnknownChannel {
            text: lift.text.clone(),
            hint: fogg_core::suggest::did_you_mean(
                &lift.channel,
                model.channels.iter().map(|c| c.id.as_str()),
            ),
        });
    };
    if model.channels[id.0 as usize].spend.is_none() {
        return Err(CalibrateError::NoSpend {
            text: lift.text.clone(),
            channel: lift.channel.clone(),
            with_spend: super::curve::with_spend(model),
        });
    }
    Ok(id)
}

/// One channel's tests and the model they are predicted on.
struct Problem {
    model: Model,
    channel: ChannelId,
    before: Spend,
    tests: Vec<Lift>,
    per_period: f64,
    /// Whether the slope is a parameter.
    free_slope: bool,
    /// Bounds of the parameters (ln K[, ln a]).
    bounds: Vec<(f64, f64)>,
}

impl Problem {
    fn new(model: &Model, channel: ChannelId, tests: Vec<Lift>, per_period: f64) -> Problem {
        let before = model.channels[channel.0 as usize].spend.expect("checked by channel_of");
        let mut pairs: Vec<(f64, f64)> = tests.iter().map(|t| (t.from.min(t.to), t.from.max(t.to))).collect();
        pairs.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        pairs.dedup();
        let free_slope = pairs.len() >= 2;
        let spends = tests.iter().flat_map(|t| [t.from, t.to]).chain([before.baseline]).filter(|s| *s > 0.0);
        let (lo, hi) = spends.fold((f64::INFINITY, 0.0_f64), |(lo, hi), s| (lo.min(s), hi.max(s)));
        let mut bounds = vec![(lo.ln() - LN_K_MARGIN, hi.ln() + LN_K_MARGIN)];
        if free_slope {
            bounds.push((SLOPE_RANGE.0.ln(), SLOPE_RANGE.1.ln()));
        }
        Problem { model: model.clone(), channel, before, tests, per_period, free_slope, bounds }
    }

    /// The curve of parameters θ = (ln K[, ln a]).
    fn curve(&self, theta: &[f64]) -> Spend {
        Spend {
            half_saturation: theta[0].exp(),
            slope: if self.free_slope { theta[1].exp() } else { self.before.slope },
            ..self.before
        }
    }

    /// Conversions per period at `spend` under `curve`.
    fn conversions(&mut self, curve: Spend, spend: f64, test: &Lift) -> Result<f64, CalibrateError> {
        self.model.channels[self.channel.0 as usize].spend = Some(curve);
        let change = Change::Spend { channel: self.channel, level: SpendLevel::Absolute(spend) };
        let variant = self
            .model
            .apply(&[change])
            .map_err(|e| CalibrateError::Unsolvable { text: test.text.clone(), why: e.to_string() })?;
        Ok(ExactFigures::of(&variant, self.per_period).conversions)
    }

    /// The lift every test predicts under `curve`.
    fn predictions(&mut self, curve: Spend) -> Result<Vec<f64>, CalibrateError> {
        let tests = self.tests.clone();
        tests
            .iter()
            .map(|t| Ok(self.conversions(curve, t.to, t)? - self.conversions(curve, t.from, t)?))
            .collect()
    }

    fn chi_square(&mut self, theta: &[f64]) -> Result<f64, CalibrateError> {
        let predicted = self.predictions(self.curve(theta))?;
        Ok(self.tests.iter().zip(&predicted).map(|(t, p)| ((p - t.lift) / t.standard_error).powi(2)).sum())
    }

    fn fit(mut self) -> Result<ChannelFit, CalibrateError> {
        let before = self.predictions(self.before)?;
        let start = self.grid_minimum()?;
        let theta = self.nelder_mead(start)?;
        let after_curve = self.curve(&theta);
        let after = self.predictions(after_curve)?;
        let at_edge: Vec<(bool, bool)> =
            theta.iter().zip(&self.bounds).map(|(x, (lo, hi))| (x - lo < 1e-3, hi - x < 1e-3)).collect();
        let tests: Vec<TestFit> = self
            .tests
            .iter()
            .zip(before.iter().zip(&after))
            .map(|(t, (&b, &a))| TestFit {
                lift: t.clone(),
                before: b,
                after: a,
                residual: (a - t.lift) / t.standard_error,
            })
            .collect();
        if at_edge.iter().any(|&(lo, hi)| lo || hi)
            && let Some(missed) = tests.iter().find(|t| t.residual.abs() > MISS_SIGMA)
        {
            return Err(self.impossible(missed));
        }
        let spread = self.spread(&theta)?;
        let range = |k: usize, f: fn(f64) -> f64| -> (Option<f64>, Option<f64>) {
            let Some(se) = spread.as_ref().map(|s| s[k]) else { return (None, None) };
            let (lo_edge, hi_edge) = at_edge[k];
            let lo = (!lo_edge && se.is_finite()).then(|| f(theta[k] - 1.96 * se));
            let hi = (!hi_edge && se.is_finite()).then(|| f(theta[k] + 1.96 * se));
            (lo, hi)
        };
        let chi_square = tests.iter().map(|t| t.residual * t.residual).sum();
        let curve = self.response(after_curve);
        Ok(ChannelFit {
            channel: self.channel,
            before: self.before,
            after: after_curve,
            slope_fitted: self.free_slope,
            half_saturation_range: range(0, f64::exp),
            slope_range: if self.free_slope { range(1, f64::exp) } else { (None, None) },
            chi_square,
            degrees_of_freedom: self.tests.len().saturating_sub(theta.len()),
            tests,
            curve,
        })
    }

    /// Conversions per period before and after, over the spends the tests
    /// span.
    fn response(&mut self, after: Spend) -> Vec<(f64, f64, f64)> {
        let top = 1.25 * self.tests.iter().flat_map(|t| [t.from, t.to]).fold(self.before.baseline, f64::max);
        let probe = self.tests[0].clone();
        (0..CURVE_POINTS)
            .filter_map(|i| {
                let spend = top * i as f64 / (CURVE_POINTS - 1) as f64;
                let before = self.conversions(self.before, spend, &probe).ok()?;
                Some((spend, before, self.conversions(after, spend, &probe).ok()?))
            })
            .collect()
    }

    /// The best point of a grid over the parameters: where the simplex
    /// starts, so that a χ² with more than one dip is not left in the
    /// wrong one.
    fn grid_minimum(&mut self) -> Result<Vec<f64>, CalibrateError> {
        let steps = |(lo, hi): (f64, f64), n: usize| -> Vec<f64> {
            (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect()
        };
        let ks = steps(self.bounds[0], 65);
        let slopes = if self.free_slope { steps(self.bounds[1], 17) } else { vec![f64::NAN] };
        let mut best = (f64::INFINITY, vec![ks[0]]);
        for &a in &slopes {
            for &k in &ks {
                let theta = if self.free_slope { vec![k, a] } else { vec![k] };
                let c = self.chi_square(&theta)?;
                if c < best.0 {
                    best = (c, theta);
                }
            }
        }
        Ok(best.1)
    }

    /// Nelder–Mead from `start`, kept inside the bounds.
    fn nelder_mead(&mut self, start: Vec<f64>) -> Result<Vec<f64>, CalibrateError> {
        let n = start.len();
        let clamp = |bounds: &[(f64, f64)], mut x: Vec<f64>| {
            for (v, (lo, hi)) in x.iter_mut().zip(bounds) {
                *v = v.clamp(*lo, *hi);
            }
            x
        };
        let mut simplex: Vec<(f64, Vec<f64>)> = Vec::with_capacity(n + 1);
        simplex.push((self.chi_square(&start)?, start.clone()));
        for i in 0..n {
            let mut x = start.clone();
            x[i] += if x[i] + 0.2 <= self.bounds[i].1 { 0.2 } else { -0.2 };
            simplex.push((self.chi_square(&x)?, x));
        }
        for _ in 0..2000 {
            simplex.sort_by(|a, b| a.0.total_cmp(&b.0));
            let size = simplex[1..].iter().map(|(_, x)| dist(x, &simplex[0].1)).fold(0.0, f64::max);
            if size < 1e-10 || (simplex[n].0 - simplex[0].0).abs() < 1e-14 && size < 1e-6 {
                break;
            }
            let centroid: Vec<f64> =
                (0..n).map(|d| simplex[..n].iter().map(|(_, x)| x[d]).sum::<f64>() / n as f64).collect();
            let toward = |t: f64, worst: &[f64]| -> Vec<f64> {
                centroid.iter().zip(worst).map(|(c, w)| c + t * (c - w)).collect()
            };
            let worst = simplex[n].1.clone();
            let reflected = clamp(&self.bounds, toward(1.0, &worst));
            let fr = self.chi_square(&reflected)?;
            if fr < simplex[0].0 {
                let expanded = clamp(&self.bounds, toward(2.0, &worst));
                let fe = self.chi_square(&expanded)?;
                simplex[n] = if fe < fr { (fe, expanded) } else { (fr, reflected) };
            } else if fr < simplex[n - 1].0 {
                simplex[n] = (fr, reflected);
            } else {
                let contracted = clamp(&self.bounds, toward(-0.5, &worst));
                let fc = self.chi_square(&contracted)?;
                if fc < simplex[n].0 {
                    simplex[n] = (fc, contracted);
                } else {
                    let best = simplex[0].1.clone();
                    for (f, x) in simplex[1..].iter_mut() {
                        *x = x.iter().zip(&best).map(|(v, b)| b + 0.5 * (v - b)).collect();
                        *f = self.chi_square(x)?;
                    }
                }
            }
        }
        simplex.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(simplex.swap_remove(0).1)
    }

    /// Standard errors of θ from the curvature of χ² (covariance 2 H⁻¹),
    /// or `None` when χ² is not curved upwards there.
    fn spread(&mut self, theta: &[f64]) -> Result<Option<Vec<f64>>, CalibrateError> {
        let h = 1e-3;
        let n = theta.len();
        let mut at = |d: &[(usize, f64)]| {
            let mut x = theta.to_vec();
            for &(i, s) in d {
                x[i] += s * h;
            }
            self.chi_square(&x)
        };
        let f0 = at(&[])?;
        let h00 = (at(&[(0, 1.0)])? - 2.0 * f0 + at(&[(0, -1.0)])?) / (h * h);
        if n == 1 {
            return Ok((h00 > 0.0).then(|| vec![(2.0 / h00).sqrt()]));
        }
        let h11 = (at(&[(1, 1.0)])? - 2.0 * f0 + at(&[(1, -1.0)])?) / (h * h);
        let h01 = (at(&[(0, 1.0), (1, 1.0)])? - at(&[(0, 1.0), (1, -1.0)])? - at(&[(0, -1.0), (1, 1.0)])?
            + at(&[(0, -1.0), (1, -1.0)])?)
            / (4.0 * h * h);
        let det = h00 * h11 - h01 * h01;
        Ok((det > 0.0 && h00 > 0.0).then(|| vec![(2.0 * h11 / det).sqrt(), (2.0 * h00 / det).sqrt()]))
    }

    /// The error for a test the curve misses with a parameter at its edge:
    /// the most any curve of the search gives for its spends.
    fn impossible(&mut self, missed: &TestFit) -> CalibrateError {
        let slope = if self.free_slope { self.bounds[1].1 } else { self.before.slope.ln() };
        let t = missed.lift.clone();
        let (k_low, k_high) = self.bounds[0];
        let mut lift_at = |ln_k: f64| {
            let curve = Spend { half_saturation: ln_k.exp(), slope: slope.exp(), ..self.before };
            self.conversions(curve, t.to, &t).and_then(|to| Ok(to - self.conversions(curve, t.from, &t)?))
        };
        let most = lift_at(k_high).unwrap_or(f64::NAN);
        let least = lift_at(k_low).unwrap_or(f64::NAN);
        if (most - least).abs() <= 1e-9 * most.abs().max(1.0) {
            // Spend 0 against today's: the multipliers are 0 and 1 for
            // every curve, so the test says nothing of it.
            return CalibrateError::Insensitive {
                text: t.text.clone(),
                lift: format!("{most:+.1}"),
                sigma: (t.lift - most).abs() / t.standard_error,
            };
        }
        CalibrateError::Impossible {
            text: t.text,
            with_slope: if self.free_slope {
                format!(" of slope up to {}", shown(SLOPE_RANGE.1))
            } else {
                format!(" of slope {}", shown(self.before.slope))
            },
            most: format!("{:+.1}", most),
            sigma: (t.lift - most).abs() / t.standard_error,
            hint: if self.free_slope {
                String::new()
            } else {
                "; a second test at other spends lets the slope be fitted too".to_owned()
            },
        }
    }
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funnel() -> Model {
        fogg_scenario::bundled("ecommerce-funnel").expect("bundled").expect("compiles").model
    }

    /// The lift a curve gives, from the closed form.
    fn lift_of(model: &Model, channel: &str, curve: Spend, from: f64, to: f64) -> f64 {
        let c = model.channel_id(channel).expect("channel");
        let mut m = model.clone();
        m.channels[c.0 as usize].spend = Some(curve);
        let per = m.customers_per_period.expect("per period");
        let at = |s: f64| {
            let v =
                m.apply(&[Change::Spend { channel: c, level: SpendLevel::Absolute(s) }]).expect("applies");
            ExactFigures::of(&v, per).conversions
        };
        at(to) - at(from)
    }

    fn test(channel: &str, from: f64, to: f64, lift: f64, se: f64) -> Lift {
        Lift::parse(&format!("{channel}: {from} -> {to} = {lift:+} ±{se}")).expect("parses")
    }

    #[test]
    fn parses_every_spelling_and_refuses_the_rest() {
        let l = Lift::parse(" social : 30_000 -> 39000 = +420 +/- 60 ").expect("parses");
        assert_eq!(
            (l.channel.as_str(), l.from, l.to, l.lift, l.standard_error),
            ("social", 30000.0, 39000.0, 420.0, 60.0)
        );
        assert_eq!(Lift::parse("social: 30000 -> 20000 = -80 +-10").expect("parses").lift, -80.0);
        let l = Lift::parse("social: 20k -> 26,000 = +1.2k ±60").expect("amounts as people write them");
        assert_eq!((l.from, l.to, l.lift), (20_000.0, 26_000.0, 1_200.0));
        assert_eq!(Lift::parse("social: 1.5M -> 2M = 3 ±1").expect("parses").from, 1_500_000.0);
        for bad in [
            "social: 2,00 -> 3 = 1 ±1",
            "social: 1,5 -> 3 = 1 ±1",
            "social 30000 -> 39000 = 1 ±1",
            "social: 30000 39000 = 1 ±1",
            "social: 1 -> 2 = 3",
            "social: 1 -> 1 = 3 ±1",
            "social: 1 -> 2 = 3 ±0",
            "social: -1 -> 2 = 3 ±1",
            "social: x -> 2 = 3 ±1",
            ": 1 -> 2 = 3 ±1",
        ] {
            assert!(matches!(Lift::parse(bad), Err(CalibrateError::Syntax { .. })), "{bad}");
        }
    }

    #[test]
    fn one_test_recovers_the_half_saturation_of_the_curve_that_made_it() {
        let model = funnel();
        // social: acquisition, K = 12,000 in the scenario; the truth 20,000.
        let base = model.channels[model.channel_id("social").unwrap().0 as usize].spend.unwrap();
        let truth = Spend { half_saturation: 20_000.0, ..base };
        let lift = lift_of(&model, "social", truth, 9_000.0, 12_000.0);
        let fits = calibrate(
            &model,
            &[test("social", 9_000.0, 12_000.0, lift, lift * 0.1)],
            model.customers_per_period.unwrap(),
        )
        .expect("fits");
        let f = &fits[0];
        assert!(!f.slope_fitted);
        assert!((f.after.half_saturation / 20_000.0 - 1.0).abs() < 1e-4, "{}", f.after.half_saturation);
        assert!(f.tests[0].residual.abs() < 1e-4);
        assert!((f.tests[0].before - lift).abs() > 1.0, "the scenario's curve predicted another lift");
        let (lo, hi) = f.half_saturation_range;
        assert!(lo.unwrap() < 20_000.0 && 20_000.0 < hi.unwrap(), "{lo:?} {hi:?}");
    }

    #[test]
    fn two_tests_at_other_spends_recover_the_slope_too() {
        let model = funnel();
        // reviews: share, K = 6,000, slope 1 in the scenario.
        let base = model.channels[model.channel_id("reviews").unwrap().0 as usize].spend.unwrap();
        let truth = Spend { half_saturation: 3_000.0, slope: 1.8, ..base };
        let tests: Vec<Lift> = [(4_000.0, 6_000.0), (4_000.0, 2_000.0), (4_000.0, 9_000.0)]
            .iter()
            .map(|&(a, b)| {
                let l = lift_of(&model, "reviews", truth, a, b);
                test("reviews", a, b, l, l.abs() * 0.05)
            })
            .collect();
        let fits = calibrate(&model, &tests, model.customers_per_period.unwrap()).expect("fits");
        let f = &fits[0];
        assert!(f.slope_fitted);
        assert!((f.after.half_saturation / 3_000.0 - 1.0).abs() < 1e-3, "{}", f.after.half_saturation);
        assert!((f.after.slope / 1.8 - 1.0).abs() < 1e-3, "{}", f.after.slope);
        assert!(f.chi_square < 1e-6);
        assert_eq!(f.degrees_of_freedom, 1);
    }

    #[test]
    fn tests_that_disagree_meet_in_their_weighted_mean_and_show_it() {
        let model = funnel();
        let per = model.customers_per_period.unwrap();
        let tests =
            [test("social", 9_000.0, 12_000.0, 60.0, 5.0), test("social", 9_000.0, 12_000.0, 100.0, 10.0)];
        let f = &calibrate(&model, &tests, per).expect("fits")[0];
        assert!(!f.slope_fitted, "one spend pair cannot tell the slope");
        // Inverse-variance mean: (60/25 + 100/100) / (1/25 + 1/100) = 68.
        assert!((f.tests[0].after - 68.0).abs() < 1e-3, "{}", f.tests[0].after);
        assert!((f.tests[0].residual - 1.6).abs() < 1e-3 && (f.tests[1].residual + 3.2).abs() < 1e-3);
        assert!((f.chi_square - 12.8).abs() < 1e-3 && f.degrees_of_freedom == 1);
    }

    #[test]
    fn impossible_and_meaningless_tests_say_why() {
        let model = funnel();
        let per = model.customers_per_period.unwrap();
        let err = |t: Lift| calibrate(&model, &[t], per).expect_err("refused").to_string();
        assert!(err(test("social", 9_000.0, 12_000.0, -500.0, 50.0)).contains("more spend cannot lose"));
        assert!(err(test("socal", 9_000.0, 12_000.0, 5.0, 5.0)).contains("did you mean 'social'"));
        let no_spend = err(test("web", 1.0, 2.0, 5.0, 5.0));
        assert!(
            no_spend.contains("channel 'web' declares no spend") && no_spend.contains("social, search"),
            "{no_spend}"
        );
        // Slope 1, acquisition: at most +33% of social's customers for +33%
        // spend; a millionfold lift is beyond every K.
        let e = err(test("social", 0.0, 9_000.0, 500.0, 10.0));
        assert!(e.contains("every Hill curve predicts the same lift"), "{e}");
        let e = err(test("social", 9_000.0, 12_000.0, 1e7, 10.0));
        assert!(e.contains("no Hill curve of slope 1 gives this lift"), "{e}");
        assert!(e.contains("second test"), "{e}");
    }
}
