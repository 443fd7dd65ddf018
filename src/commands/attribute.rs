//! `fogg attribute --paths FILE`: exact Markov attribution of a path file.

use std::io::Write;

use anyhow::bail;

use crate::Outcome;
use crate::attribution::{Paths, attribute};
use crate::cli::AttributeArgs;
use crate::report;
use crate::result::{AttributionResult, ChannelAttribution, SCHEMA_VERSION};

/// Runs the command, writing the report to `out`.
pub fn run(args: &AttributeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let separator = match args.separator.as_bytes() {
        [b] => *b,
        _ => bail!("--separator must be one character (got '{}')", args.separator),
    };
    let paths = Paths::read(&args.paths, separator)?;
    let a = attribute(&paths)?;
    let mut channels: Vec<ChannelAttribution> = paths
        .channels
        .iter()
        .zip(&a.credits)
        .map(|(name, c)| ChannelAttribution {
            channel: name.clone(),
            removal_effect: c.removal_effect,
            share: c.share,
            attributed_conversions: c.conversions,
            attributed_value: c.value,
            first_touch: c.first_touch,
            last_touch: c.last_touch,
            linear_touch: c.linear_touch,
            first_touch_value: c.first_touch_value,
            last_touch_value: c.last_touch_value,
            linear_touch_value: c.linear_touch_value,
        })
        .collect();
    channels.sort_by(|x, y| {
        y.attributed_conversions.total_cmp(&x.attributed_conversions).then(x.channel.cmp(&y.channel))
    });
    let result = AttributionResult {
        schema_version: SCHEMA_VERSION,
        kind: "attribute".to_owned(),
        fogg_version: env!("CARGO_PKG_VERSION").to_owned(),
        source: args.paths.display().to_string(),
        paths: paths.rows.len() as u64,
        journeys: paths.rows.iter().map(|r| r.conversions + r.nulls).sum(),
        conversions: paths.rows.iter().map(|r| r.conversions).sum(),
        conversion_value: paths.rows.iter().map(|r| r.value).sum(),
        order: 1,
        conversion_probability: a.conversion_probability,
        channels,
    };
    let stem = super::simulate::stem_of_source(&result.source);
    let output = report::Output { format: args.format, quiet: false, dir: &args.out, stem: &stem };
    report::publish(&result, &output, out)?;
    Ok(Outcome::Pass)
}
