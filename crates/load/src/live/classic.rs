//! The classic Prometheus text exposition (`text/plain; version=0.0.4`)
//! of the run's [`families`](super::families): what a scraper that does
//! not ask for OpenMetrics gets, and what `promtool check metrics` reads.
//! Unlike OpenMetrics, a counter's `HELP` and `TYPE` name the sample
//! itself (`NAME_total`), and there is no `# EOF`.

use std::fmt::Write;

use super::families::{Family, Kind, Value};
use super::snapshot::BUCKETS_S;

/// The media type of the classic exposition.
pub(super) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `families`, every sample labelled first with `run_labels`.
pub(super) fn encode(families: &[Family], run_labels: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    for family in families {
        let name = match family.kind {
            Kind::Counter => format!("{}_total", family.name),
            Kind::Gauge | Kind::Histogram => family.name.to_owned(),
        };
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {name} {}", escape_help(family.help));
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for sample in &family.samples {
            let labels: Vec<(&str, &str)> =
                run_labels.iter().chain(&sample.labels).map(|(k, v)| (*k, v.as_str())).collect();
            match &sample.value {
                Value::Count(n) => line(&mut out, &name, &labels, &n.to_string()),
                Value::Real(v) => line(&mut out, &name, &labels, &number(*v)),
                Value::Histogram { buckets, sum } => {
                    let mut cumulative = 0;
                    let bounds = BUCKETS_S.iter().map(|b| number(*b)).chain(["+Inf".to_owned()]);
                    for (bound, n) in bounds.zip(buckets) {
                        cumulative += n;
                        let mut with_le = labels.clone();
                        with_le.push(("le", &bound));
                        line(&mut out, &format!("{name}_bucket"), &with_le, &cumulative.to_string());
                    }
                    line(&mut out, &format!("{name}_sum"), &labels, &number(*sum));
                    line(&mut out, &format!("{name}_count"), &labels, &cumulative.to_string());
                }
            }
        }
    }
    out
}

/// One sample line.
fn line(out: &mut String, name: &str, labels: &[(&str, &str)], value: &str) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A float as the format writes it (`+Inf`, `-Inf`, `NaN`).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        v.to_string()
    }
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

/// Help text: backslash and line feed escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', r"\\").replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::super::families::Sample;
    use super::*;

    #[test]
    fn counters_name_their_samples_and_histograms_are_cumulative() {
        let mut buckets = [0; BUCKETS_S.len() + 1];
        buckets[0] = 2;
        buckets[BUCKETS_S.len()] = 1;
        let families = vec![
            Family {
                name: "fogg_requests",
                help: "Requests sent.",
                kind: Kind::Counter,
                samples: vec![Sample {
                    labels: vec![("request", "a \"quoted\\\" name\nhere".to_owned())],
                    value: Value::Count(7),
                }],
            },
            Family {
                name: "fogg_request_duration_seconds",
                help: "Latency.",
                kind: Kind::Histogram,
                samples: vec![Sample { labels: Vec::new(), value: Value::Histogram { buckets, sum: 12.5 } }],
            },
        ];
        let text = encode(&families, &[("scenario", "s".to_owned())]);
        assert!(
            text.starts_with(
                "# HELP fogg_requests_total Requests sent.\n# TYPE fogg_requests_total counter\n"
            )
        );
        assert!(
            text.contains(r#"fogg_requests_total{scenario="s",request="a \"quoted\\\" name\nhere"} 7"#),
            "{text}"
        );
        let first =
            format!("fogg_request_duration_seconds_bucket{{scenario=\"s\",le=\"{}\"}} 2", BUCKETS_S[0]);
        assert!(text.contains(&first), "{text}");
        assert!(
            text.contains("fogg_request_duration_seconds_bucket{scenario=\"s\",le=\"+Inf\"} 3"),
            "{text}"
        );
        assert!(text.contains("fogg_request_duration_seconds_sum{scenario=\"s\"} 12.5"), "{text}");
        assert!(text.contains("fogg_request_duration_seconds_count{scenario=\"s\"} 3"), "{text}");
        assert!(!text.contains("# EOF"));
    }
}
