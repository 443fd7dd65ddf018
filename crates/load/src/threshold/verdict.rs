//! Threshold outcomes in words: values with their units and the one-line
//! verdict.

use super::{ThresholdResult, Unit};

/// A number with its unit, for verdicts and JUnit messages.
pub fn with_unit(value: Option<f64>, unit: Unit) -> String {
    match value {
        None => "nothing measured".to_owned(),
        Some(v) => {
            let digits = match v.abs() {
                _ if v == v.trunc() => 0,
                a if a >= 100.0 => 1,
                a if a >= 1.0 => 2,
                _ => 3,
            };
            let mut text = format!("{v:.digits$}");
            if text.contains('.') {
                text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
            }
            format!("{text}{}", unit.suffix())
        }
    }
}

/// One line: `PASS: all 3 thresholds passed`, or `FAIL:` and each failed
/// threshold with its observed value.
pub fn verdict_line(results: &[ThresholdResult]) -> String {
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| match r.observed {
            Some(_) => format!("{} (observed {})", r.expr, with_unit(r.observed, r.unit)),
            None => format!("{} (nothing measured)", r.expr),
        })
        .collect();
    match (results.len(), failed.len()) {
        (0, _) => "PASS: no thresholds set".to_owned(),
        (n, 0) => format!("PASS: {} passed", plural(n)),
        (n, f) => format!("FAIL: {f} of {n} thresholds failed: {}", failed.join("; ")),
    }
}

fn plural(n: usize) -> String {
    if n == 1 { "1 threshold".to_owned() } else { format!("all {n} thresholds") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(with_unit(Some(712.25), Unit::Ms), "712.2 ms");
        assert_eq!(with_unit(Some(21.471), Unit::Ms), "21.47 ms");
        assert_eq!(with_unit(Some(500.0), Unit::Ms), "500 ms");
        assert_eq!(with_unit(Some(3.0), Unit::Count), "3");
        assert_eq!(with_unit(Some(0.01234), Unit::Percent), "0.012%");
        assert_eq!(with_unit(None, Unit::Ms), "nothing measured");
    }
}
