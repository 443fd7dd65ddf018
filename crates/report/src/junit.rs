//! JUnit XML: one test case per threshold, for the test views of CI
//! systems (GitHub Actions reporters, GitLab, Jenkins).

use std::io::{self, Write};

use fogg_load::threshold::{ThresholdResult, with_unit};

/// Writes `results` as one JUnit test suite named `suite`; `elapsed_s` is
/// the run's duration. A run `cut_short` (the reason) has one more case,
/// "the run completed", that fails: CI views must not show it green.
pub fn write(
    suite: &str,
    elapsed_s: f64,
    results: &[ThresholdResult],
    cut_short: Option<String>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let failures = results.iter().filter(|r| !r.passed).count() + usize::from(cut_short.is_some());
    let n = results.len() + usize::from(cut_short.is_some());
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="fogg" tests="{n}" failures="{failures}" time="{elapsed_s:.3}">"#)?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{n}" failures="{failures}" errors="0" skipped="0" time="{elapsed_s:.3}">"#,
        escape(suite)
    )?;
    for r in results {
        let observed = with_unit(r.observed, r.unit);
        let limit = format!("{} {}", r.op.symbol(), with_unit(Some(r.limit), r.unit));
        write!(out, r#"    <testcase classname="fogg.thresholds" name="{}" time="0">"#, escape(&r.expr))?;
        if r.passed {
            writeln!(out, "<system-out>{}</system-out></testcase>", escape(&format!("observed {observed}")))?;
        } else {
            let message = format!("{}: observed {observed}, limit {limit}", r.key);
            writeln!(out)?;
            writeln!(
                out,
                r#"      <failure type="threshold" message="{}">{}</failure>"#,
                escape(&message),
                escape(&message)
            )?;
            writeln!(out, "    </testcase>")?;
        }
    }
    if let Some(why) = cut_short {
        writeln!(out, r#"    <testcase classname="fogg.run" name="the run completed" time="0">"#)?;
        let message = escape(&format!("the run was {why}: what it measured is incomplete"));
        writeln!(out, r#"      <failure type="incomplete" message="{message}">{message}</failure>"#)?;
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

/// Escapes text for an XML attribute or element.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::escape(r#"p99{request="a&b"} < 1s"#), "p99{request=&quot;a&amp;b&quot;} &lt; 1s");
    }
}
