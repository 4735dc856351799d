//! "Did you mean ...?": the closest known name to what the learner typed.

/// Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours as
/// one edit (optimal string alignment), so `kafak` is one edit from `kafka`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]; three rows are enough for the swap case.
    let mut before = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate the learner most likely meant: the only one that starts with `typed` (for
/// `--replication` → `--replication-factor`), else the nearest within two edits (first wins a tie).
pub(crate) fn nearest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'a str> {
    const MAX_EDITS: usize = 2;
    if typed.len() >= 3 {
        let mut prefixed = candidates.clone().into_iter().filter(|c| c.starts_with(typed) && *c != typed);
        if let (Some(only), None) = (prefixed.next(), prefixed.next()) {
            return Some(only);
        }
    }
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(typed, candidate);
        if distance <= MAX_EDITS && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_suggest_distance_counts_swaps_once() {
        assert_eq!(edit_distance("kafak-topics", "kafka-topics"), 1);
        assert_eq!(edit_distance("partition", "partitions"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("from-begining", "from-beginning"), 1);
    }

    #[test]
    fn console_suggest_prefers_a_unique_prefix() {
        let options = ["partitions", "replication-factor", "replica-assignment", "topic"];
        assert_eq!(nearest("partition", options), Some("partitions"));
        assert_eq!(nearest("replication", options), Some("replication-factor"));
        // Two options start with "replica": no guess.
        assert_eq!(nearest("replica", options), None);
        assert_eq!(nearest("zookeeper", options), None);
    }
}
