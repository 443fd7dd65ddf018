//! `fogg load --forecast`: a forecast's expected arrivals over a window,
//! as the arrival profile of a load run.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

use fogg_load::plan::RateProfile;
use fogg_result::{ForecastResult, ForecastVariant, ResultKind, SavedResult, bin_seconds};

/// Half of the `peak` window: an hour around the busiest bin.
const PEAK_HALF_S: f64 = 1800.0;

/// What a load run replays.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Arrivals per second over the run, time-scaled.
    pub profile: RateProfile,
    /// How long arrivals go on.
    pub duration: Duration,
    /// What is replayed, for the report.
    pub note: String,
}

/// The replay of `strategy` (the baseline when `None`) of the forecast at
/// `path` over `window` (`peak` or `START..END`), `time_scale` times
/// faster than campaign time.
pub fn replay(path: &Path, window: &str, time_scale: f64, strategy: Option<&str>) -> anyhow::Result<Replay> {
    let forecast = read_forecast(path, "--forecast")?;
    let variant = pick(&forecast, strategy, path)?;
    let length = (forecast.window.end_unix_s - forecast.window.start_unix_s) as f64;
    let (from, to) = if window.trim() == "peak" {
        // From the bin boundary nearest half an hour before the busiest
        // bin, for an hour.
        let res = f64::from(forecast.window.resolution_s);
        let bin = variant.peak.customers_bin as f64 * res;
        let from = (bin - (PEAK_HALF_S / res).floor() * res).clamp(0.0, length);
        (from, (from + 2.0 * PEAK_HALF_S).min(length))
    } else {
        span(&forecast, window).with_context(|| format!("--window '{window}'"))?
    };
    let mut stages = Vec::new();
    let res = f64::from(forecast.window.resolution_s);
    for (j, expected) in variant.expected.arrivals.iter().enumerate() {
        let (start, end) = (j as f64 * res, j as f64 * res + bin_seconds(&forecast.window, j));
        let overlap = end.min(to) - start.max(from);
        if overlap > 0.0 {
            let rate = expected / (end - start);
            stages.push((overlap / time_scale, rate * time_scale));
        }
    }
    let duration = Duration::from_secs_f64((to - from) / time_scale);
    let local = |t: f64| {
        fogg_core::calendar::local_time(forecast.window.start_unix_s + t as i64, &forecast.window.timezone)
    };
    let note = format!(
        "arrivals: the expected arrivals of '{}' in forecast {}, {} to {} ({}){}",
        variant.id,
        path.display(),
        local(from),
        local(to),
        forecast.window.timezone,
        if time_scale == 1.0 {
            ", in real time".to_owned()
        } else {
            format!(
                ", played {time_scale}× faster (rates × {time_scale}; think times are not scaled, so journeys overlap less than they will)"
            )
        }
    );
    Ok(Replay { profile: RateProfile::Stages(stages), duration, note })
}

/// The forecast result at `path`, which `flag` named; another kind of
/// result is refused.
pub fn read_forecast(path: &Path, flag: &str) -> anyhow::Result<ForecastResult> {
    let saved = SavedResult::read(path)?;
    if saved.kind != ResultKind::Forecast {
        bail!(
            "{flag} {}: this is a {} result; give the JSON `fogg forecast` wrote (forecast-NAME.json)",
            path.display(),
            saved.kind
        );
    }
    saved.parse()
}

/// The variant named `strategy`, or the baseline.
fn pick<'a>(
    forecast: &'a ForecastResult,
    strategy: Option<&str>,
    path: &Path,
) -> anyhow::Result<&'a ForecastVariant> {
    let id = strategy.unwrap_or("baseline");
    forecast.variants.iter().find(|v| v.id == id).ok_or_else(|| {
        anyhow::anyhow!(
            "--strategy {id}: forecast {} has no such strategy; {}",
            path.display(),
            fogg_core::suggest::did_you_mean(id, forecast.variants.iter().map(|v| v.id.as_str()))
        )
    })
}

/// `START..END` in the forecast's zone, as seconds from its start.
fn span(forecast: &ForecastResult, text: &str) -> anyhow::Result<(f64, f64)> {
    let Some((a, b)) = text.split_once("..") else {
        bail!("write `peak`, or START..END in local time, e.g. 2026-12-07T08:30..2026-12-07T10:00");
    };
    let zone = fogg_core::calendar::zone(&forecast.window.timezone).map_err(anyhow::Error::msg)?;
    let at = |t: &str| -> anyhow::Result<f64> {
        let unix = fogg_core::calendar::instant(t.trim(), &zone).map_err(anyhow::Error::msg)?;
        Ok((unix - forecast.window.start_unix_s) as f64)
    };
    let (from, to) = (at(a)?, at(b)?);
    let length = (forecast.window.end_unix_s - forecast.window.start_unix_s) as f64;
    if from >= to {
        bail!("the end must come after the start");
    }
    if from < 0.0 || to > length {
        bail!(
            "the forecast covers {} to {} ({}): choose a window inside it",
            forecast.window.start,
            forecast.window.end,
            forecast.window.timezone
        );
    }
    Ok((from, to))
}
