//! The state of one partition replica: the offsets that say what is written, what is committed,
//! and who may serve it.
//!
//! On a single broker the leader is the only replica and the ISR is `{leader}`, so the high
//! watermark follows the log end offset at once. The shape is the one replication extends: each
//! follower's fetch position feeds [`PartitionReplica::high_watermark`] through the ISR.

use super::ErrorCode;

/// Broker ids, as in the protocol.
pub type BrokerId = i32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionReplica {
    pub leader_id: BrokerId,
    /// Bumped on every leader change; fences stale leaders and lets followers find where their
    /// log diverged (KIP-101, KIP-279).
    pub leader_epoch: i32,
    pub replicas: Vec<BrokerId>,
    /// In-sync replicas: those caught up with the leader within `replica.lag.time.max.ms`.
    pub isr: Vec<BrokerId>,
    /// The first offset still in the log (retention moves it forward).
    pub log_start_offset: i64,
    /// The offset the next record will get.
    pub log_end_offset: i64,
    /// Every record below it is on every ISR member: consumers read only up to here.
    pub high_watermark: i64,
    /// The log end offset of each replica as the leader last learnt it (itself included).
    replica_log_end_offsets: Vec<(BrokerId, i64)>,
}

impl PartitionReplica {
    /// A partition led by `leader_id` with these replicas, all in sync, over a log holding
    /// `[log_start_offset, log_end_offset)`.
    pub fn new(leader_id: BrokerId, replicas: Vec<BrokerId>, log_start_offset: i64, log_end_offset: i64) -> Self {
        let replica_log_end_offsets =
            replicas.iter().map(|&id| (id, if id == leader_id { log_end_offset } else { log_start_offset })).collect();
        let mut replica = PartitionReplica {
            leader_id,
            leader_epoch: 0,
            isr: replicas.clone(),
            replicas,
            log_start_offset,
            log_end_offset,
            high_watermark: log_start_offset,
            replica_log_end_offsets,
        };
        replica.advance_high_watermark();
        replica
    }

    /// The leader appended records up to (not including) `log_end_offset`.
    pub fn on_leader_append(&mut self, log_end_offset: i64) {
        self.log_end_offset = log_end_offset;
        self.record_replica_position(self.leader_id, log_end_offset);
    }

    /// A follower fetched from `fetch_offset`, which proves it has everything below it.
    pub fn on_follower_fetch(&mut self, follower: BrokerId, fetch_offset: i64) {
        self.record_replica_position(follower, fetch_offset);
    }

    /// Retention or a delete-records moved the start of the log.
    pub fn on_log_start_offset(&mut self, log_start_offset: i64) {
        self.log_start_offset = log_start_offset;
        self.high_watermark = self.high_watermark.max(log_start_offset);
    }

    /// KIP-320: a client sends the leader epoch it knows; a newer one than ours means this
    /// broker is behind (UNKNOWN_LEADER_EPOCH), an older one means the client is (FENCED_LEADER_EPOCH).
    /// -1 skips the check.
    pub fn check_leader_epoch(&self, current_leader_epoch: i32) -> Option<ErrorCode> {
        match current_leader_epoch {
            -1 => None,
            e if e > self.leader_epoch => Some(ErrorCode::UnknownLeaderEpoch),
            e if e < self.leader_epoch => Some(ErrorCode::FencedLeaderEpoch),
            _ => None,
        }
    }

    fn record_replica_position(&mut self, replica: BrokerId, log_end_offset: i64) {
        if let Some(entry) = self.replica_log_end_offsets.iter_mut().find(|(id, _)| *id == replica) {
            entry.1 = log_end_offset;
        }
        self.advance_high_watermark();
    }

    /// The high watermark is the smallest log end offset in the ISR, and never moves back on a
    /// leader (an acknowledged acks=all write must stay visible).
    fn advance_high_watermark(&mut self) {
        let isr_min = self
            .replica_log_end_offsets
            .iter()
            .filter(|(id, _)| self.isr.contains(id))
            .map(|&(_, leo)| leo)
            .min()
            .unwrap_or(self.log_end_offset);
        self.high_watermark = self.high_watermark.max(isr_min.min(self.log_end_offset));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_one_broker_the_high_watermark_follows_the_log_end() {
        let mut replica = PartitionReplica::new(0, vec![0], 0, 0);
        assert_eq!(replica.high_watermark, 0);
        replica.on_leader_append(5);
        assert_eq!((replica.log_end_offset, replica.high_watermark), (5, 5));
    }

    #[test]
    fn with_followers_the_high_watermark_waits_for_the_isr() {
        let mut replica = PartitionReplica::new(1, vec![1, 2, 3], 0, 0);
        replica.on_leader_append(10);
        assert_eq!(replica.high_watermark, 0);
        replica.on_follower_fetch(2, 7);
        assert_eq!(replica.high_watermark, 0, "broker 3 has nothing yet");
        replica.on_follower_fetch(3, 4);
        assert_eq!(replica.high_watermark, 4);
        replica.on_follower_fetch(3, 10);
        assert_eq!(replica.high_watermark, 7);
    }

    #[test]
    fn reopening_a_log_starts_with_everything_committed() {
        let replica = PartitionReplica::new(0, vec![0], 3, 42);
        assert_eq!((replica.log_start_offset, replica.high_watermark), (3, 42));
    }
}
