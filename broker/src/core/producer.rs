//! Idempotent producers (KIP-98): per partition, the last batches each producer wrote, so a
//! retried batch is recognised and answered with its original offsets instead of being written
//! twice, and a gap in sequence numbers is refused.
//!
//! Like Kafka's `ProducerStateEntry`, each producer keeps its last
//! [`BATCHES_RETAINED`] batches; producers may have at most that many requests in flight
//! (`max.in.flight.requests.per.connection` ≤ 5), so any retry matches one of them.

use std::collections::{BTreeMap, VecDeque};

use super::ErrorCode;

/// Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`.
pub const BATCHES_RETAINED: usize = 5;

/// A batch as the producer numbered it and as the log placed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducedBatch {
    pub first_sequence: i32,
    pub last_sequence: i32,
    pub base_offset: i64,
    pub last_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<ProducedBatch>,
}

/// What to do with an incoming idempotent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Write it.
    Append,
    /// A retry of a batch already written at this offset: answer with it, write nothing.
    Duplicate { base_offset: i64 },
    /// Refuse it with this error.
    Reject(ErrorCode),
}

/// The producers of one partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerStates {
    producers: BTreeMap<i64, ProducerEntry>,
}

/// Sequence numbers wrap from `i32::MAX` to 0 (the protocol's rule).
fn next_sequence(sequence: i32) -> i32 {
    if sequence == i32::MAX { 0 } else { sequence + 1 }
}

impl ProducerStates {
    pub fn check(&self, producer_id: i64, epoch: i16, first_sequence: i32, last_sequence: i32) -> SequenceCheck {
        let Some(entry) = self.producers.get(&producer_id) else {
            // A new producer starts at 0. Any other number means its state is gone (a broker
            // restart, retention): KIP-360 clients answer UNKNOWN_PRODUCER_ID by bumping their
            // epoch and starting over at 0.
            return if first_sequence == 0 {
                SequenceCheck::Append
            } else {
                SequenceCheck::Reject(ErrorCode::UnknownProducerId)
            };
        };
        if epoch < entry.epoch {
            return SequenceCheck::Reject(ErrorCode::InvalidProducerEpoch);
        }
        if epoch > entry.epoch {
            return if first_sequence == 0 {
                SequenceCheck::Append
            } else {
                SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber)
            };
        }
        if let Some(batch) =
            entry.batches.iter().find(|b| b.first_sequence == first_sequence && b.last_sequence == last_sequence)
        {
            return SequenceCheck::Duplicate { base_offset: batch.base_offset };
        }
        match entry.batches.back() {
            Some(last) if first_sequence == next_sequence(last.last_sequence) => SequenceCheck::Append,
            None if first_sequence == 0 => SequenceCheck::Append,
            _ => SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber),
        }
    }

    /// Records a batch that was written.
    pub fn on_append(&mut self, producer_id: i64, epoch: i16, batch: ProducedBatch) {
        let entry = self.producers.entry(producer_id).or_insert(ProducerEntry { epoch, batches: VecDeque::new() });
        if epoch != entry.epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(batch);
        while entry.batches.len() > BATCHES_RETAINED {
            entry.batches.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(first: i32, last: i32, base: i64) -> ProducedBatch {
        ProducedBatch {
            first_sequence: first,
            last_sequence: last,
            base_offset: base,
            last_offset: base + i64::from(last - first),
        }
    }

    #[test]
    fn in_order_batches_append_and_retries_are_duplicates() {
        let mut states = ProducerStates::default();
        assert_eq!(states.check(7, 0, 0, 2), SequenceCheck::Append);
        states.on_append(7, 0, batch(0, 2, 100));
        assert_eq!(states.check(7, 0, 3, 4), SequenceCheck::Append);
        states.on_append(7, 0, batch(3, 4, 103));
        // The retry of the first batch gets its original offset back.
        assert_eq!(states.check(7, 0, 0, 2), SequenceCheck::Duplicate { base_offset: 100 });
        assert_eq!(states.check(7, 0, 9, 9), SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber));
    }

    #[test]
    fn only_the_last_five_batches_are_remembered() {
        let mut states = ProducerStates::default();
        for i in 0..6 {
            states.on_append(1, 0, batch(i, i, i64::from(i)));
        }
        assert_eq!(states.check(1, 0, 5, 5), SequenceCheck::Duplicate { base_offset: 5 });
        assert_eq!(states.check(1, 0, 1, 1), SequenceCheck::Duplicate { base_offset: 1 });
        assert_eq!(states.check(1, 0, 0, 0), SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber));
    }

    #[test]
    fn epochs_fence_old_producers_and_restart_sequences() {
        let mut states = ProducerStates::default();
        states.on_append(1, 3, batch(0, 0, 0));
        assert_eq!(states.check(1, 2, 1, 1), SequenceCheck::Reject(ErrorCode::InvalidProducerEpoch));
        assert_eq!(states.check(1, 4, 5, 5), SequenceCheck::Reject(ErrorCode::OutOfOrderSequenceNumber));
        assert_eq!(states.check(1, 4, 0, 0), SequenceCheck::Append);
        // An unknown producer that does not start at 0 lost its state (KIP-360).
        assert_eq!(states.check(99, 0, 12, 12), SequenceCheck::Reject(ErrorCode::UnknownProducerId));
    }

    #[test]
    fn sequences_wrap_after_i32_max() {
        let mut states = ProducerStates::default();
        states.on_append(1, 0, batch(i32::MAX - 1, i32::MAX, 0));
        assert_eq!(states.check(1, 0, 0, 3), SequenceCheck::Append);
    }
}
