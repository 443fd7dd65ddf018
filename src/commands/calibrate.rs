//! `fogg calibrate`: spend curves fitted to lift tests, written into a
//! copy of the scenario.

use std::io::Write;

use anyhow::{Context, anyhow};

use crate::cli::CalibrateArgs;
use fogg_core::units::shown;
use fogg_core::verdict::Verdict;
use fogg_engine::whatif::calibrate::{ChannelFit, calibrate};
use fogg_report as report;
use fogg_report::fmt::sigmas;
use fogg_result::{CalibrateResult, CalibratedChannel, Header, ResultKind, ScenarioInfo};
use fogg_scenario::rewrite::{CurveEdit, with_curves, with_feeders_for};

/// Runs the command: fits, writes the calibrated scenario, then the report
/// to `out` and the report files to `--out`.
pub fn run(args: &CalibrateArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let inputs: Vec<_> = args.scenario.iter().filter(|p| p.exists()).cloned().collect();
    report::refuse_overwrite("-o/--output", &args.output, &inputs)?;
    let scenario = super::scenario(args.scenario.as_deref(), fogg_scenario::Use::Journeys)?;
    let model = &scenario.model;
    let mut ours: Vec<(&str, &std::path::Path)> = vec![("-o/--output", &args.output)];
    ours.extend(inputs.iter().map(|p| ("the scenario", p.as_path())));
    report::refuse_reports_over(
        &args.report.out,
        fogg_result::ResultKind::Calibrate,
        &super::simulate::stem_of_source(&model.source),
        &ours,
    )?;
    let per_period = model.customers_per_period.unwrap_or(1.0);
    let fits = calibrate(model, &args.lifts, per_period)?;

    let edits: Vec<CurveEdit> = fits.iter().map(|f| edit(model, f, &model.period)).collect();
    let text = with_curves(&scenario.text, &edits)
        .map_err(|e| anyhow!("cannot write the calibrated curves into '{}': {e}", model.source))?;
    let (text, warnings) = with_feeders_for(&text, std::path::Path::new(&model.source), &args.output)
        .map_err(|e| anyhow!("cannot write '{}': {e}", args.output.display()))?;
    for warning in warnings {
        fogg_core::say!("warning: {warning}");
    }
    let output = args.output.display().to_string();
    let written = fogg_scenario::journeys_from_str(&text, &output).map_err(|e| {
        anyhow!("the calibrated scenario does not compile, which is a bug in fogg calibrate: {e}")
    })?;
    for f in &fits {
        let kept = written.channels[f.channel.0 as usize].spend.map(|s| (s.half_saturation, s.slope));
        let close = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-5;
        if !kept.is_some_and(|(k, a)| close(k, f.after.half_saturation) && close(a, f.after.slope)) {
            return Err(anyhow!(
                "the calibrated scenario holds {kept:?} for channel {}, not the fitted curve: a bug in fogg calibrate",
                f.channel.0
            ));
        }
    }
    report::write_file(&args.output, text.as_bytes())
        .with_context(|| format!("writing the calibrated scenario '{output}'"))?;

    let result = CalibrateResult {
        header: Header::new(ResultKind::Calibrate, ScenarioInfo::of(model), 0),
        output,
        period: model.period.clone(),
        customers_per_period: per_period,
        channels: fits.iter().map(|f| CalibratedChannel::of(model, f)).collect(),
    };
    let stem = super::simulate::stem_of_source(&model.source);
    report::publish(&result, &args.report.to_output(false, &stem), out)?;
    Ok(Verdict::Pass)
}

/// The new curve of a fit and the comment that says where it came from.
fn edit(model: &fogg_model::Model, f: &ChannelFit, period: &str) -> CurveEdit {
    let range = match f.half_saturation_range {
        (Some(lo), Some(hi)) => format!(" (95%: {} – {})", shown(lo.round()), shown(hi.round())),
        (Some(lo), None) => format!(" (95%: at least {}; the tests show no saturation)", shown(lo.round())),
        _ => " (the tests do not bound it)".to_owned(),
    };
    let slope = if f.slope_fitted {
        format!("slope {} -> {}", shown(f.before.slope), shown((f.after.slope * 1e3).round() / 1e3))
    } else {
        format!("slope {} (kept)", shown(f.before.slope))
    };
    let mut comment = vec![
        format!(
            "half_saturation {} -> {}{range}, {slope}",
            shown(f.before.half_saturation),
            shown(f.after.half_saturation.round())
        ),
        format!(
            "from {} lift test{}, conversions per {period} (predicted before -> after):",
            f.tests.len(),
            if f.tests.len() == 1 { "" } else { "s" }
        ),
    ];
    comment.extend(f.tests.iter().map(|t| {
        format!("  {} ({:+.1} -> {:+.1}, residual {}σ)", t.lift.text, t.before, t.after, sigmas(t.residual))
    }));
    CurveEdit {
        channel: model.channels[f.channel.0 as usize].id.clone(),
        half_saturation: f.after.half_saturation,
        slope: f.slope_fitted.then_some(f.after.slope),
        comment,
    }
}
