//! `fogg fit`: a scenario estimated from observed journeys, a path file or
//! an event log, holding aggregates only.
//!
//! Both inputs become [`Counts`]: per state, how many journeys started
//! there, how many moves went to each other state or to the exit, the
//! times spent there and the conversion values seen. The scenario written
//! uses those counts as weights (fogg normalises each row), so every
//! number in it can be traced to the data, and says so in comments. No
//! customer id, timestamp or single value from the input is written.

pub mod events;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::attribution::Paths;
use fogg_core::units::format_duration;
use fogg_model::{MAX_CHANNELS, MAX_STAGES, MAX_VALUE};
use toml_writer::{ToTomlKey, ToTomlValue};

/// One state of the fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct FitState {
    /// Scenario id.
    pub id: String,
    /// Funnel stage.
    pub stage: String,
    /// Channel id.
    pub channel: String,
    /// Whether reaching it counts a conversion.
    pub conversion: bool,
}

/// Aggregated observations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// The states, in order of first appearance.
    pub states: Vec<FitState>,
    /// Stages, in funnel order.
    pub stages: Vec<String>,
    /// Channel ids, in order of first appearance.
    pub channels: Vec<String>,
    /// Journeys that started at each state.
    pub entry: Vec<f64>,
    /// Moves from each state to each state it was seen to move to
    /// (`next[i][&j]`), the exit as [`EXIT`]: sparse, so memory follows
    /// the moves observed, not the square of the states.
    pub next: Vec<BTreeMap<usize, f64>>,
    /// Seconds spent at each state before the next event (event logs).
    pub dwell_s: Vec<Vec<f64>>,
    /// Conversion values seen at each state (event logs), or
    /// `(total value, conversions)` folded into one mean (path files).
    pub values: Vec<Vec<f64>>,
    /// Journeys by length (states visited).
    pub lengths: BTreeMap<usize, f64>,
    /// Journeys observed.
    pub journeys: f64,
    /// Journeys with at least one conversion.
    pub converted: f64,
    /// What the input was, for the comments.
    pub source: String,
    /// Rows read.
    pub rows: u64,
    /// State ids to their index.
    index: HashMap<String, usize>,
}

/// The target of a move out of the journey, in [`Counts::next`].
pub const EXIT: usize = usize::MAX;

/// More channels or stages than a scenario can hold: found while reading,
/// before anything grows with them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{name}' would be {what} number {}, and a scenario holds at most {limit}: group rare {what}s into one (e.g. 'other') before fitting",
    limit + 1
)]
pub struct TooMany {
    /// `channel` or `stage`.
    pub what: &'static str,
    /// The one past the limit.
    pub name: String,
    /// The limit.
    pub limit: usize,
}

/// Makes a string usable as a scenario id.
pub fn id_of(text: &str) -> String {
    let s: String = text
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_-.".contains(c) { c } else { '_' })
        .collect();
    if s.is_empty() || s == "exit" { format!("{s}_channel") } else { s }
}

impl Counts {
    /// The index of a state, adding it when new; fails before a channel
    /// or stage past what a scenario holds is added.
    pub fn state(&mut self, stage: &str, channel: &str, conversion: bool) -> Result<usize, TooMany> {
        let channel = id_of(channel);
        let id = match (conversion, stage) {
            (true, _) => format!("{channel}_conversion"),
            (false, "touch") => channel.clone(),
            (false, s) => format!("{}_{channel}", id_of(s)),
        };
        if let Some(&i) = self.index.get(&id) {
            return Ok(i);
        }
        let new_channel = !self.channels.contains(&channel);
        let new_stage = !self.stages.iter().any(|s| s == stage);
        for (new, what, count, limit, name) in [
            (new_channel, "channel", self.channels.len(), MAX_CHANNELS, &channel),
            (new_stage, "stage", self.stages.len(), MAX_STAGES, &stage.to_owned()),
        ] {
            if new && count >= limit {
                return Err(TooMany { what, name: name.clone(), limit });
            }
        }
        if new_channel {
            self.channels.push(channel.clone());
        }
        if new_stage {
            self.stages.push(stage.to_owned());
        }
        let i = self.states.len();
        self.index.insert(id.clone(), i);
        self.states.push(FitState { id, stage: stage.to_owned(), channel, conversion });
        self.entry.push(0.0);
        self.next.push(BTreeMap::new());
        self.dwell_s.push(Vec::new());
        self.values.push(Vec::new());
        Ok(i)
    }

    /// Adds `weight` journeys that visited `states` in order and then left.
    pub fn journey(&mut self, states: &[usize], weight: f64) {
        let Some((&first, _)) = states.split_first() else { return };
        self.entry[first] += weight;
        for w in states.windows(2) {
            *self.next[w[0]].entry(w[1]).or_insert(0.0) += weight;
        }
        let last = *states.last().expect("not empty");
        *self.next[last].entry(EXIT).or_insert(0.0) += weight;
        *self.lengths.entry(states.len()).or_insert(0.0) += weight;
        self.journeys += weight;
        if states.iter().any(|&s| self.states[s].conversion) {
            self.converted += weight;
        }
    }

    /// The counts of a path file: one state per channel (stage `touch`),
    /// and after the last touch of a converting path a conversion state of
    /// that channel (stage `purchase`) worth the path's mean value.
    /// Fails on more channels than a scenario holds, or on a row whose
    /// value per conversion is beyond [`MAX_VALUE`] (line numbers count the
    /// header as line 1).
    pub fn from_paths(paths: &Paths, source: &str) -> anyhow::Result<Counts> {
        let mut c = Counts { source: source.to_owned(), rows: paths.rows.len() as u64, ..Counts::default() };
        let mut seq = Vec::new();
        // Per conversion state: (total value, conversions).
        let mut totals: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        for (k, row) in paths.rows.iter().enumerate() {
            let line = k + 2;
            if row.conversions > 0.0 && row.value / row.conversions > MAX_VALUE {
                anyhow::bail!(
                    "line {line}: {} per conversion is beyond the largest value of one conversion fogg sums exactly ({MAX_VALUE:e})",
                    row.value / row.conversions
                );
            }
            seq.clear();
            for &ch in &row.channels {
                seq.push(
                    c.state("touch", &paths.channels[ch as usize], false)
                        .map_err(|e| anyhow::anyhow!("line {line}: {e}"))?,
                );
            }
            if row.nulls > 0.0 {
                c.journey(&seq, row.nulls);
            }
            if row.conversions > 0.0 {
                let last = &paths.channels[*row.channels.last().expect("paths are not empty") as usize];
                let conv =
                    c.state("purchase", last, true).map_err(|e| anyhow::anyhow!("line {line}: {e}"))?;
                seq.push(conv);
                c.journey(&seq, row.conversions);
                let t = totals.entry(conv).or_insert((0.0, 0.0));
                t.0 += row.value;
                t.1 += row.conversions;
            }
        }
        // Path files give totals only: the mean value per conversion.
        for (state, (total, n)) in totals {
            c.values[state] = vec![total / n];
        }
        c.stages.sort_by_key(|s| (s == "purchase") as u8);
        Ok(c)
    }

    /// The fitted scenario as TOML, with comments on where each number
    /// came from.
    pub fn to_toml(&self, name: &str) -> String {
        let mut t = String::new();
        let states_by_channel = |ch: &str| self.states.iter().filter(|s| s.channel == ch).count();
        let _ = writeln!(
            t,
            "# Fitted by `fogg fit` from {} ({} rows, {} journeys).",
            self.source,
            self.rows,
            num(self.journeys)
        );
        let _ = writeln!(t, "# Aggregates only: counts of moves, and distributions of times and values.");
        let _ = writeln!(t, "# No customer id, timestamp or single record of the input is in this file.");
        let _ = writeln!(t, "# Weights are observed counts; fogg normalises each row to probabilities.\n");
        let _ = writeln!(t, "[scenario]");
        let _ = writeln!(t, "name = {}", name.to_toml_value());
        let _ = writeln!(
            t,
            "description = {}",
            format!(
                "Fitted from {}: {} journeys, {} of them converting.",
                self.source,
                num(self.journeys),
                num(self.converted)
            )
            .to_toml_value()
        );
        let stages: Vec<String> = self.stages.iter().map(|s| s.to_toml_value()).collect();
        let _ = writeln!(t, "stages = [{}]", stages.join(", "));
        let _ = writeln!(
            t,
            "weights = \"counts\"   # the weights below are observed counts: fogg whatif says how sure its answers are\n"
        );
        for ch in &self.channels {
            let _ = writeln!(t, "[[channel]]\nid = {}", ch.to_toml_value());
            let _ = writeln!(
                t,
                "kind = \"online\"   # the data does not say: set \"offline\" for stores, phone, print…"
            );
            let _ = writeln!(t, "# {} state(s) observed on this channel\n", states_by_channel(ch));
        }
        let _ = writeln!(t, "# Where the {} journeys started.", num(self.journeys));
        let _ = writeln!(t, "[entry]");
        for (i, s) in self.states.iter().enumerate() {
            if self.entry[i] > 0.0 {
                let _ = writeln!(t, "{} = {}", s.id.to_toml_key(), num(self.entry[i]));
            }
        }
        for (i, s) in self.states.iter().enumerate() {
            let out: f64 = self.next[i].values().sum();
            let _ = writeln!(
                t,
                "\n[[state]]\nid = {}\nstage = {}\nchannel = {}",
                s.id.to_toml_value(),
                s.stage.to_toml_value(),
                s.channel.to_toml_value()
            );
            if s.conversion {
                let _ = writeln!(t, "conversion = true");
                match value_dist(&self.values[i]) {
                    Some((dist, note)) => {
                        let _ = writeln!(t, "value = {dist}   # {note}");
                    }
                    None => {
                        let _ = writeln!(t, "# no conversion value in the data");
                    }
                }
            }
            if let Some((dist, note)) = dwell_dist(&self.dwell_s[i]) {
                let _ = writeln!(t, "dwell = {dist}   # {note}");
            }
            let _ = writeln!(t, "# {} moves out of this state observed", num(out));
            let mut row: Vec<String> = Vec::new();
            for (&j, &c) in &self.next[i] {
                if c > 0.0 {
                    let target = self.states.get(j).map_or("exit", |s| s.id.as_str());
                    row.push(format!("{} = {}", target.to_toml_key(), num(c)));
                }
            }
            if row.is_empty() {
                row.push("exit = 1".to_owned());
            }
            let _ = writeln!(t, "next = {{ {} }}", row.join(", "));
        }
        let _ = writeln!(t, "\n# Load mode: the data says nothing about endpoints. These requests hit");
        let _ = writeln!(t, "# fogg's demo shop (the default target); map each state to your own.");
        let _ = writeln!(t, "[load]\nduration = \"30s\"\nprofile = {{ kind = \"constant\", rate = 10 }}");
        let _ = writeln!(t, "think_time = {{ dist = \"lognormal\", median = \"2s\", p90 = \"8s\" }}");
        for s in &self.states {
            let _ = writeln!(t, "\n[[load.request]]\nstate = {}", s.id.to_toml_value());
            if s.conversion {
                let _ = writeln!(t, "method = \"POST\"\npath = \"/checkout\"");
                let _ = writeln!(
                    t,
                    "body = '{{\"customer\": {{customer}}, \"sku\": \"{{product}}\", \"price\": 10}}'"
                );
            } else {
                let _ = writeln!(t, "path = \"/product/{{product}}?state={}\"", s.id);
            }
        }
        t
    }
}

/// Counts as TOML numbers: integers without a fraction; from 1e15 on, a
/// float in exponent form, since a TOML integer stops at 2^63 and
/// `10000000000000000000` would not read back.
fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.abs() >= 1e15 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let k = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[k]
}

/// What the fitted distributions are made of: count, median, 90th
/// percentile and mean of the finite, non-negative observations.
fn summary(values: &[f64]) -> Option<(usize, f64, f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite() && *x >= 0.0).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Some((v.len(), percentile(&v, 0.5), percentile(&v, 0.9), mean))
}

/// Enough observations with spread for a log-normal by median and p90.
fn lognormal_fits(n: usize, median: f64, p90: f64) -> bool {
    n >= 5 && median > 0.0 && p90 > median
}

/// A log-normal by median and 90th percentile when the data support one,
/// else the mean as a constant.
fn value_dist(values: &[f64]) -> Option<(String, String)> {
    let (n, median, p90, mean) = summary(values)?;
    Some(if lognormal_fits(n, median, p90) {
        (
            format!("{{ dist = \"lognormal\", median = {median:.2}, p90 = {p90:.2} }}"),
            format!("median and 90th percentile of {n} conversion values"),
        )
    } else {
        (
            format!("{{ dist = \"constant\", value = {mean:.2} }}"),
            format!("mean conversion value ({n} observed)"),
        )
    })
}

/// Shortest dwell fit writes: gaps below a millisecond are simultaneous.
const MIN_DWELL_S: f64 = 0.001;

/// A log-normal dwell by median and 90th percentile, or an exponential of
/// the mean when there are few observations; none when the gaps are
/// shorter than [`MIN_DWELL_S`].
fn dwell_dist(seconds: &[f64]) -> Option<(String, String)> {
    let (n, median, p90, mean) = summary(seconds)?;
    if lognormal_fits(n, median, p90) && median >= MIN_DWELL_S {
        Some((
            format!(
                "{{ dist = \"lognormal\", median = \"{}\", p90 = \"{}\" }}",
                duration_text(median),
                duration_text(p90)
            ),
            format!(
                "median {} and 90th percentile {} of {n} gaps to the next event",
                format_duration(median),
                format_duration(p90)
            ),
        ))
    } else {
        (mean >= MIN_DWELL_S).then(|| {
            (
                format!("{{ dist = \"exponential\", mean = \"{}\" }}", duration_text(mean)),
                format!("mean of {n} gaps to the next event"),
            )
        })
    }
}

/// A duration as people write it (`"7.07h"`, `"25min"`), or in seconds
/// with three decimals when the short form would be more than 1% off
/// (a gap of a few microseconds).
fn duration_text(seconds: f64) -> String {
    let short = fogg_core::units::format_duration(seconds);
    let close =
        fogg_core::units::parse_duration(&short).is_ok_and(|back| (back - seconds).abs() <= 0.01 * seconds);
    if close {
        return short;
    }
    let t = format!("{seconds:.3}");
    format!("{}s", t.trim_end_matches('0').trim_end_matches('.'))
}

/// How well a fitted model reproduces its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Goodness {
    /// Share of journeys that converted, in the data.
    pub data_conversion_rate: f64,
    /// The fitted model's, exactly.
    pub model_conversion_rate: f64,
    /// Share of journeys by length (1..=9, then 10 or more), data.
    pub data_lengths: Vec<f64>,
    /// The same from journeys walked on the fitted model.
    pub model_lengths: Vec<f64>,
    /// Total variation distance between the two length distributions.
    pub length_distance: f64,
}

/// Compares the fitted model with the counts it came from, walking
/// `journeys` journeys on it for the length distribution.
pub fn goodness(counts: &Counts, model: &fogg_model::Model, journeys: u64, seed: u64) -> Goodness {
    const BINS: usize = 10;
    let bin = |len: usize| len.clamp(1, BINS) - 1;
    let mut data = vec![0.0; BINS];
    for (&len, &w) in &counts.lengths {
        data[bin(len)] += w / counts.journeys.max(1e-12);
    }
    let rngs = fogg_core::rng::CustomerRngs::new(seed, fogg_core::rng::Stream::Journey);
    let mut hist = vec![0.0; BINS];
    for i in 0..journeys {
        let mut rng = rngs.customer(i);
        let mut journey = model.walk(&mut rng);
        let mut steps = 0usize;
        for _ in &mut journey {
            steps += 1;
        }
        hist[bin(steps)] += 1.0 / journeys as f64;
    }
    let distance = data.iter().zip(&hist).map(|(a, b)| (a - b).abs()).sum::<f64>() / 2.0;
    Goodness {
        data_conversion_rate: counts.converted / counts.journeys.max(1e-12),
        model_conversion_rate: model.exact().conversion_rate,
        data_lengths: data,
        model_lengths: hist,
        length_distance: distance,
    }
}

#[cfg(test)]
mod tests {
    /// Every count fit writes reads back as the same TOML number.
    #[test]
    fn counts_read_back_whatever_their_size() {
        for x in [0.0, 3.0, 0.25, 123_456.5, 1e15, 1e19, 1.5e300, 9_999_999_999_999_998.0] {
            let text = format!("v = {}", super::num(x));
            let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            let back = table["v"].as_float().or_else(|| table["v"].as_integer().map(|i| i as f64));
            assert_eq!(back, Some(x), "{text}");
        }
    }
}
