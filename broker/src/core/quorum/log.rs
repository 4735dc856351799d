//! Pure functions over the replicated log: what an epoch's end offset is, and whether a
//! fetcher's log matches the leader's (KIP-595 "Fetch": the leader checks the fetch offset and
//! last fetched epoch against its own log, as KIP-101/KIP-279 do for partition replicas).
//!
//! The log holds its entries in offset order from 0 (`log[i].offset == i`) with non-decreasing
//! epochs; [`QuorumNode`](super::QuorumNode) keeps it so, which is what makes the binary search
//! below valid.

use super::types::Entry;

/// The offset the next entry gets.
pub(super) fn log_end_offset<R>(log: &[Entry<R>]) -> i64 {
    i64::try_from(log.len()).unwrap_or(i64::MAX)
}

/// The epoch of the last entry; 0 for an empty log (elections start at epoch 1).
pub(super) fn last_epoch<R>(log: &[Entry<R>]) -> i32 {
    log.last().map_or(0, |entry| entry.epoch)
}

/// Entries from `from_offset` on, at most `max_entries` of them (empty past the end).
pub(super) fn entries_from<R: Clone>(log: &[Entry<R>], from_offset: i64, max_entries: usize) -> Vec<Entry<R>> {
    let start = usize::try_from(from_offset).unwrap_or(usize::MAX);
    log.iter().skip(start).take(max_entries).cloned().collect()
}

/// Kafka's `endOffsetForEpoch`: the largest epoch in the log not above `epoch`, and the offset
/// where it ends (the first offset of a later epoch, or the log end). `(0, 0)` when every entry
/// is of a later epoch, or the log is empty.
pub(super) fn end_offset_for_epoch<R>(log: &[Entry<R>], epoch: i32) -> (i32, i64) {
    let end = log.partition_point(|entry| entry.epoch <= epoch);
    let found_epoch = end.checked_sub(1).and_then(|last| log.get(last)).map_or(0, |entry| entry.epoch);
    (found_epoch, i64::try_from(end).unwrap_or(i64::MAX))
}

/// The leader's verdict on a Fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FetchCheck {
    /// The fetcher's log equals the leader's below the fetch offset: send entries from there.
    Valid,
    /// It does not: the fetcher truncates to `end_offset` (KIP-595 `DivergingEpoch`).
    Diverging { epoch: i32, end_offset: i64 },
}

/// Checks a fetcher's `(fetch_offset, last_fetched_epoch)` against the leader's log. The fetcher's
/// last entry is at `fetch_offset - 1` in `last_fetched_epoch`; only the one leader of that epoch
/// wrote entries in it, so if the leader's log holds that epoch up to at least `fetch_offset`, the
/// two logs agree on that entry and hence on everything before it (Raft's Log Matching property).
pub(super) fn check_fetch<R>(log: &[Entry<R>], fetch_offset: i64, last_fetched_epoch: i32) -> FetchCheck {
    if fetch_offset == 0 {
        return FetchCheck::Valid;
    }
    if fetch_offset < 0 {
        return FetchCheck::Diverging { epoch: 0, end_offset: 0 };
    }
    let (epoch, end_offset) = end_offset_for_epoch(log, last_fetched_epoch);
    if epoch == last_fetched_epoch && fetch_offset <= end_offset {
        FetchCheck::Valid
    } else {
        FetchCheck::Diverging { epoch, end_offset }
    }
}
