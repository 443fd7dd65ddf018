//! "Did you mean": the one way fogg suggests a known name for a misspelt
//! one, used by the scenario compiler, `--change`, thresholds and the
//! command line alike.

/// The known name nearest to `word` by edit distance, when it is close
/// enough to be a likely typo: at most 3 edits, or a third of the name's
/// length for long names. Ties go to the name listed last (for the metric
/// list, the more demanding percentile: `p98` suggests `p99`).
pub fn nearest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let distance = strsim::levenshtein(word, k);
        if distance <= 3.max(k.chars().count() / 3) && best.is_none_or(|(d, _)| distance <= d) {
            best = Some((distance, k));
        }
    }
    best.map(|(_, k)| k)
}

/// A fix for an unknown name: "did you mean 'x'? Known: a, b, c" (the
/// list cut after 12 names), or "known: a, b, c" when nothing is close.
pub fn did_you_mean<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    let mut known: Vec<&str> = known.collect();
    known.sort_unstable();
    let best = nearest(word, known.iter().rev().copied());
    let list = if known.len() > 12 {
        format!("{}, … ({} in all)", known[..12].join(", "), known.len())
    } else {
        known.join(", ")
    };
    match best {
        Some(k) => format!("did you mean '{k}'? Known: {list}"),
        None => format!("known: {list}"),
    }
}

/// " (did you mean 'x'?)" when a known name is close, else "".
pub fn hint<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, known).map_or(String::new(), |k| format!(" (did you mean '{k}'?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(nearest("buyy", ["home", "buy", "cart"]), Some("buy"));
        assert_eq!(nearest("p98", ["p50", "p90", "p99"]), Some("p99"));
        assert_eq!(nearest("checkout", ["a", "b"]), None);
        assert_eq!(hint("chekout", ["home", "checkout"]), " (did you mean 'checkout'?)");
        assert!(
            did_you_mean("socail", ["social", "print"].into_iter()).starts_with("did you mean 'social'?")
        );
        assert_eq!(did_you_mean("zzzzzzzz", ["a", "b"].into_iter()), "known: a, b");
    }
}
