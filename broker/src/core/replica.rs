//! The leader's view of one partition: the offsets that say what is written, what is committed,
//! who is in sync, and who may serve it.
//!
//! Kafka's replication is pull-based: followers send Fetch requests to the leader, and the fetch
//! offset of each request proves what the follower has. From those positions the leader derives
//! the high watermark (the smallest log end offset in the ISR) and decides who leaves or joins
//! the ISR. It never changes the ISR itself: it proposes the change to the controller with an
//! AlterPartition request (KIP-497) and, until the answer comes, counts the *maximal* ISR (the
//! current ISR plus the replicas it proposed to add) for the high watermark and the current ISR
//! for `min.insync.replicas` — the safe side of each decision.
//!
//! On a single broker the leader is the only replica and the ISR is `{leader}`, so the high
//! watermark follows the log end offset at once.

use super::ErrorCode;

/// Broker ids, as in the protocol.
pub type BrokerId = i32;

/// What the leader knows of one follower, from its fetches (Kafka's `Replica`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowerState {
    pub broker_id: BrokerId,
    /// The offset of the follower's last fetch: it has everything below. -1 before its first fetch.
    pub log_end_offset: i64,
    /// When the follower was last caught up with the leader's log end offset (see
    /// [`PartitionReplica::on_follower_fetch`]).
    pub last_caught_up_time_ms: u64,
    pub last_fetch_time_ms: u64,
    /// The leader's log end offset when that fetch arrived.
    last_fetch_leader_log_end_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionReplica {
    pub leader_id: BrokerId,
    /// Bumped on every leader change; fences stale leaders and lets followers find where their
    /// log diverged (KIP-101, KIP-279).
    pub leader_epoch: i32,
    /// Bumped on every change of the partition's state by the controller; an AlterPartition
    /// based on an older one is rejected with INVALID_UPDATE_VERSION (KIP-497).
    pub partition_epoch: i32,
    pub replicas: Vec<BrokerId>,
    /// In-sync replicas, as the controller last committed them.
    pub isr: Vec<BrokerId>,
    /// An ISR this leader proposed to the controller and has no answer for yet.
    pub pending_isr: Option<Vec<BrokerId>>,
    /// The first offset still in the log (retention moves it forward).
    pub log_start_offset: i64,
    /// The offset the next record will get.
    pub log_end_offset: i64,
    /// Every record below it is on every ISR member: consumers read only up to here.
    pub high_watermark: i64,
    /// The log end offset when this leader's epoch began: a follower below it has not seen this
    /// leader's first record yet, so it may not rejoin the ISR (Kafka's `leaderEpochStartOffset`).
    pub leader_epoch_start_offset: i64,
    /// The topic's `min.insync.replicas`, capped at the replication factor (Kafka's
    /// `Partition.effectiveMinIsr`).
    min_insync_replicas: usize,
    followers: Vec<FollowerState>,
}

impl PartitionReplica {
    /// A partition led by `leader_id` with these replicas, all in sync, over a log holding
    /// `[log_start_offset, log_end_offset)`: what a single broker opens at start.
    pub fn new(leader_id: BrokerId, replicas: Vec<BrokerId>, log_start_offset: i64, log_end_offset: i64) -> Self {
        let isr = replicas.clone();
        let mut replica = Self::become_leader(
            leader_id,
            0,
            0,
            replicas,
            isr,
            log_start_offset,
            log_end_offset,
            log_start_offset,
            1,
            0,
        );
        for follower in &mut replica.followers {
            follower.log_end_offset = log_start_offset;
        }
        replica.advance_high_watermark();
        replica
    }

    /// This broker became the leader in `leader_epoch`, with the ISR the controller chose and the
    /// high watermark it had as a follower, for a topic with this `min.insync.replicas`. Every
    /// ISR member counts as caught up now, as in Kafka: the new leader gives followers
    /// `replica.lag.time.max.ms` to show up.
    #[allow(clippy::too_many_arguments)]
    pub fn become_leader(
        leader_id: BrokerId,
        leader_epoch: i32,
        partition_epoch: i32,
        replicas: Vec<BrokerId>,
        isr: Vec<BrokerId>,
        log_start_offset: i64,
        log_end_offset: i64,
        high_watermark: i64,
        min_insync_replicas: i64,
        now_ms: u64,
    ) -> Self {
        let min_insync_replicas = effective_min_isr(min_insync_replicas, replicas.len());
        let followers = replicas
            .iter()
            .filter(|&&id| id != leader_id)
            .map(|&broker_id| FollowerState {
                broker_id,
                log_end_offset: -1,
                last_caught_up_time_ms: if isr.contains(&broker_id) { now_ms } else { 0 },
                last_fetch_time_ms: 0,
                last_fetch_leader_log_end_offset: -1,
            })
            .collect();
        let mut replica = PartitionReplica {
            leader_id,
            leader_epoch,
            partition_epoch,
            replicas,
            isr,
            pending_isr: None,
            log_start_offset,
            log_end_offset,
            high_watermark: high_watermark.clamp(log_start_offset, log_end_offset),
            leader_epoch_start_offset: log_end_offset,
            min_insync_replicas,
            followers,
        };
        // Kafka's `Partition.makeLeader` calls `maybeIncrementLeaderHW`: a leader alone in the
        // ISR (one replica) commits its whole log at once; with followers nothing moves until
        // they fetch (their positions are unknown, -1).
        replica.advance_high_watermark();
        replica
    }

    pub fn followers(&self) -> &[FollowerState] {
        &self.followers
    }

    pub fn follower(&self, broker_id: BrokerId) -> Option<&FollowerState> {
        self.followers.iter().find(|f| f.broker_id == broker_id)
    }

    /// The ISR the high watermark counts: the committed one plus any replica this leader asked
    /// to add (KIP-497's "maximal ISR"), so a write is committed only when even the larger set
    /// has it.
    pub fn maximal_isr(&self) -> Vec<BrokerId> {
        let mut isr = self.isr.clone();
        for id in self.pending_isr.iter().flatten() {
            if !isr.contains(id) {
                isr.push(*id);
            }
        }
        isr
    }

    /// The leader appended records up to (not including) `log_end_offset`.
    pub fn on_leader_append(&mut self, log_end_offset: i64) {
        self.log_end_offset = log_end_offset;
        self.advance_high_watermark();
    }

    /// A follower fetched from `fetch_offset`, which proves it has everything below it.
    ///
    /// Kafka's `Replica.updateFetchState`: a fetch at the leader's log end offset makes the
    /// follower caught up *now*; a fetch that reached the log end offset of the follower's
    /// previous fetch makes it caught up *as of that previous fetch*. A follower that keeps
    /// fetching but never catches up (the leader takes writes faster than it copies them) thus
    /// falls behind in time and leaves the ISR after `replica.lag.time.max.ms`.
    pub fn on_follower_fetch(&mut self, now_ms: u64, follower: BrokerId, fetch_offset: i64) {
        let log_end_offset = self.log_end_offset;
        if let Some(state) = self.followers.iter_mut().find(|f| f.broker_id == follower) {
            if fetch_offset >= log_end_offset {
                state.last_caught_up_time_ms = state.last_caught_up_time_ms.max(now_ms);
            } else if fetch_offset >= state.last_fetch_leader_log_end_offset
                && state.last_fetch_leader_log_end_offset >= 0
            {
                state.last_caught_up_time_ms = state.last_caught_up_time_ms.max(state.last_fetch_time_ms);
            }
            state.log_end_offset = fetch_offset;
            state.last_fetch_time_ms = now_ms;
            state.last_fetch_leader_log_end_offset = log_end_offset;
        }
        self.advance_high_watermark();
    }

    /// Retention or a delete-records moved the start of the log.
    pub fn on_log_start_offset(&mut self, log_start_offset: i64) {
        self.log_start_offset = log_start_offset;
        self.high_watermark = self.high_watermark.max(log_start_offset);
    }

    /// ISR members that have not been caught up for longer than `replica.lag.time.max.ms`
    /// (Kafka's `Partition.getOutOfSyncReplicas`). The leader never leaves its own ISR.
    pub fn out_of_sync_replicas(&self, now_ms: u64, replica_lag_time_max_ms: u64) -> Vec<BrokerId> {
        self.followers
            .iter()
            .filter(|f| self.isr.contains(&f.broker_id))
            .filter(|f| now_ms.saturating_sub(f.last_caught_up_time_ms) > replica_lag_time_max_ms)
            .map(|f| f.broker_id)
            .collect()
    }

    /// Followers outside the ISR that caught up: their log reaches the high watermark and this
    /// leader's first offset (Kafka's `Partition.isFollowerInSync`), so they may rejoin.
    pub fn caught_up_replicas(&self) -> Vec<BrokerId> {
        let maximal_isr = self.maximal_isr();
        self.followers
            .iter()
            .filter(|f| !maximal_isr.contains(&f.broker_id))
            .filter(|f| f.log_end_offset >= self.high_watermark && f.log_end_offset >= self.leader_epoch_start_offset)
            .map(|f| f.broker_id)
            .collect()
    }

    /// The leader sent an AlterPartition request proposing `isr`.
    pub fn on_isr_proposed(&mut self, isr: Vec<BrokerId>) {
        self.pending_isr = Some(isr);
    }

    /// The controller committed a new ISR (from this leader's proposal or its own decision).
    pub fn on_isr_committed(&mut self, isr: Vec<BrokerId>, partition_epoch: i32) {
        self.isr = isr;
        self.partition_epoch = partition_epoch;
        self.pending_isr = None;
        self.advance_high_watermark();
    }

    /// The controller refused the proposal (a stale partition epoch, an ineligible replica):
    /// the leader retries from the state it learns next.
    pub fn on_isr_rejected(&mut self) {
        self.pending_isr = None;
    }

    /// The topic's `min.insync.replicas` changed.
    pub fn set_min_insync_replicas(&mut self, min_insync_replicas: i64) {
        self.min_insync_replicas = effective_min_isr(min_insync_replicas, self.replicas.len());
        self.advance_high_watermark();
    }

    /// Fewer in-sync replicas than the effective `min.insync.replicas` (Kafka's `isUnderMinIsr`).
    pub fn is_under_min_isr(&self) -> bool {
        self.isr.len() < self.min_insync_replicas
    }

    /// `acks=all` with fewer in-sync replicas than the effective `min.insync.replicas` is refused
    /// before the write (NOT_ENOUGH_REPLICAS): the record could not be made durable on enough
    /// brokers.
    pub fn check_enough_replicas(&self, acks: i16) -> Result<(), ErrorCode> {
        if acks == -1 && self.is_under_min_isr() { Err(ErrorCode::NotEnoughReplicas) } else { Ok(()) }
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

    /// The high watermark is the smallest log end offset in the maximal ISR, and never moves
    /// back on a leader (an acknowledged acks=all write must stay visible). It does not move
    /// while the ISR is below `min.insync.replicas` (the "strict min ISR" rule of KIP-966): so a
    /// replica that left the ISR then still has every committed record, and may lead cleanly
    /// from the ELR. An `acks=1` write meanwhile is in the log but not yet readable.
    fn advance_high_watermark(&mut self) {
        if self.is_under_min_isr() {
            return;
        }
        let maximal_isr = self.maximal_isr();
        let isr_min = self
            .followers
            .iter()
            .filter(|f| maximal_isr.contains(&f.broker_id))
            .map(|f| f.log_end_offset)
            .fold(self.log_end_offset, i64::min);
        self.high_watermark = self.high_watermark.max(isr_min.min(self.log_end_offset));
    }
}

/// `min.insync.replicas` capped at the replication factor: a setting above it would otherwise
/// refuse every `acks=all` write (Kafka's `effectiveMinIsr`).
fn effective_min_isr(min_insync_replicas: i64, replicas: usize) -> usize {
    usize::try_from(min_insync_replicas).unwrap_or(1).clamp(1, replicas.max(1))
}

/// A partition's leader epochs and the offset each began at (Kafka's `leader-epoch-checkpoint`,
/// KIP-101). A follower sends the epoch of its last record; the leader answers with where that
/// epoch ended in *its* log, and the follower truncates anything past it (KIP-279, KIP-320).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    /// (leader epoch, start offset), both increasing.
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    /// The epoch of the last record, or -1 for an empty log.
    pub fn latest_epoch(&self) -> i32 {
        self.entries.last().map_or(-1, |&(epoch, _)| epoch)
    }

    /// A record of `epoch` is appended at `offset`: a new epoch starts there unless it is the
    /// latest already. Older epochs are ignored (a stale append cannot reorder the cache).
    pub fn assign(&mut self, epoch: i32, offset: i64) {
        match self.entries.last() {
            Some(&(latest, _)) if epoch <= latest => {}
            _ => self.entries.push((epoch, offset)),
        }
    }

    /// The log was truncated to `log_end_offset`: epochs that started at or after it are gone.
    pub fn truncate_from_end(&mut self, log_end_offset: i64) {
        self.entries.retain(|&(_, start)| start < log_end_offset);
    }

    /// Kafka's `endOffsetFor`: the largest epoch ≤ `epoch` this log has, and the offset where it
    /// ended (the start of the next epoch, or `log_end_offset` for the latest). `(-1, -1)` when
    /// the log has no epoch that old.
    pub fn end_offset_for(&self, epoch: i32, log_end_offset: i64) -> (i32, i64) {
        let Some(position) = self.entries.iter().rposition(|&(e, _)| e <= epoch) else {
            return (-1, -1);
        };
        let found_epoch = self.entries[position].0;
        let end_offset = self.entries.get(position + 1).map_or(log_end_offset, |&(_, start)| start);
        (found_epoch, end_offset)
    }

    /// What a leader answers a follower fetching at `fetch_offset` whose last record has
    /// `last_fetched_epoch`: `None` when the follower's log agrees with this one, or the
    /// diverging epoch and end offset to truncate to (Fetch v12+, KIP-595's `DivergingEpoch`).
    pub fn diverging_epoch(
        &self,
        last_fetched_epoch: i32,
        fetch_offset: i64,
        log_end_offset: i64,
    ) -> Option<(i32, i64)> {
        if last_fetched_epoch < 0 {
            return None;
        }
        let (epoch, end_offset) = self.end_offset_for(last_fetched_epoch, log_end_offset);
        if epoch != last_fetched_epoch || end_offset < fetch_offset { Some((epoch, end_offset)) } else { None }
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
        replica.on_follower_fetch(1, 2, 7);
        assert_eq!(replica.high_watermark, 0, "broker 3 has nothing yet");
        replica.on_follower_fetch(1, 3, 4);
        assert_eq!(replica.high_watermark, 4);
        replica.on_follower_fetch(2, 3, 10);
        assert_eq!(replica.high_watermark, 7);
    }

    #[test]
    fn below_min_insync_replicas_the_high_watermark_stands_still() {
        // RF 3, min.insync.replicas=2, a new leader alone in the ISR (elected from the ELR).
        let mut replica = PartitionReplica::become_leader(1, 4, 9, vec![1, 2, 3], vec![1], 0, 12, 10, 2, 0);
        assert_eq!(replica.high_watermark, 10, "its own log end is not committed alone");
        assert_eq!(replica.check_enough_replicas(-1), Err(ErrorCode::NotEnoughReplicas));
        assert_eq!(replica.check_enough_replicas(1), Ok(()), "acks=1 is still taken");
        replica.on_leader_append(15);
        assert_eq!(replica.high_watermark, 10, "an acks=1 write waits to be readable");
        replica.on_follower_fetch(1, 2, 15);
        replica.on_isr_committed(vec![1, 2], 10);
        assert_eq!(replica.high_watermark, 15, "two in sync again: everything both have is committed");
        replica.set_min_insync_replicas(3);
        replica.on_leader_append(16);
        replica.on_follower_fetch(2, 2, 16);
        assert_eq!(replica.high_watermark, 15, "a raised minimum stops it again");
        replica.set_min_insync_replicas(7);
        assert!(replica.is_under_min_isr(), "capped at the replication factor: 3");
        replica.set_min_insync_replicas(2);
        assert_eq!(replica.high_watermark, 16, "a lowered minimum lets it move at once");
    }

    #[test]
    fn reopening_a_log_starts_with_everything_committed() {
        let replica = PartitionReplica::new(0, vec![0], 3, 42);
        assert_eq!((replica.log_start_offset, replica.high_watermark), (3, 42));
    }

    #[test]
    fn a_follower_that_stops_fetching_leaves_the_isr_after_the_lag_time() {
        let mut replica = PartitionReplica::become_leader(1, 3, 5, vec![1, 2, 3], vec![1, 2, 3], 0, 0, 0, 1, 1_000);
        replica.on_follower_fetch(1_100, 2, 0);
        replica.on_follower_fetch(1_100, 3, 0);
        replica.on_leader_append(4);
        for now_ms in (2_000..40_000).step_by(500) {
            replica.on_follower_fetch(now_ms, 2, 4);
        }
        assert_eq!(
            replica.out_of_sync_replicas(31_100, 30_000),
            Vec::<BrokerId>::new(),
            "exactly 30 s is still in sync"
        );
        assert_eq!(replica.out_of_sync_replicas(31_101, 30_000), vec![3]);
        assert_eq!(replica.high_watermark, 0, "broker 3 is still in the ISR, so nothing is committed");
        replica.on_isr_committed(vec![1, 2], 6);
        assert_eq!((replica.high_watermark, replica.partition_epoch), (4, 6));
    }

    #[test]
    fn a_follower_that_fetches_but_never_reaches_the_end_falls_behind_in_time() {
        let mut replica = PartitionReplica::become_leader(1, 0, 0, vec![1, 2], vec![1, 2], 0, 0, 0, 1, 0);
        let mut leo = 0;
        for now_ms in (0..=40_000).step_by(500) {
            leo += 10;
            replica.on_leader_append(leo);
            replica.on_follower_fetch(now_ms, 2, leo - 20);
        }
        assert_eq!(replica.out_of_sync_replicas(40_000, 30_000), vec![2]);
    }

    #[test]
    fn a_caught_up_follower_may_rejoin_and_counts_for_the_high_watermark_while_proposed() {
        let mut replica = PartitionReplica::become_leader(1, 2, 0, vec![1, 2], vec![1], 0, 6, 6, 1, 0);
        replica.on_leader_append(8);
        assert_eq!(replica.high_watermark, 8, "alone in the ISR, the leader commits at once");
        replica.on_follower_fetch(10, 2, 5);
        assert_eq!(replica.caught_up_replicas(), Vec::<BrokerId>::new(), "below the high watermark");
        replica.on_follower_fetch(20, 2, 8);
        assert_eq!(replica.caught_up_replicas(), vec![2]);
        replica.on_isr_proposed(vec![1, 2]);
        replica.on_leader_append(9);
        assert_eq!(replica.high_watermark, 8, "the maximal ISR waits for broker 2");
        replica.set_min_insync_replicas(2);
        assert_eq!(replica.check_enough_replicas(-1), Err(ErrorCode::NotEnoughReplicas), "not committed yet");
        replica.on_isr_committed(vec![1, 2], 1);
        assert_eq!(replica.check_enough_replicas(-1), Ok(()));
        replica.set_min_insync_replicas(3);
        assert_eq!(replica.check_enough_replicas(-1), Ok(()), "capped at the replication factor, 2");
    }

    #[test]
    fn the_epoch_cache_finds_where_a_follower_diverged() {
        let mut cache = LeaderEpochCache::default();
        cache.assign(0, 0);
        cache.assign(0, 3);
        cache.assign(2, 5);
        cache.assign(1, 6);
        assert_eq!(cache.entries(), &[(0, 0), (2, 5)]);
        assert_eq!(cache.end_offset_for(0, 9), (0, 5));
        assert_eq!(cache.end_offset_for(1, 9), (0, 5), "epoch 1 never led here: the largest older one");
        assert_eq!(cache.end_offset_for(2, 9), (2, 9));
        // A follower that wrote offsets 5 and 6 in epoch 1 (which never reached this leader).
        assert_eq!(cache.diverging_epoch(1, 7, 9), Some((0, 5)));
        assert_eq!(cache.diverging_epoch(2, 7, 9), None);
        assert_eq!(cache.diverging_epoch(0, 6, 9), Some((0, 5)), "epoch 0 ended at 5 here");
        cache.truncate_from_end(5);
        assert_eq!(cache.latest_epoch(), 0);
    }
}
