//! What nodes send each other (the KIP-595 RPCs) and what a node reports about itself (events).

use super::types::{Entry, NodeId};
use crate::core::ErrorCode;

/// The RPCs between quorum nodes, named as in KIP-595 and the Kafka protocol. Every message
/// carries the sender's epoch: a receiver that sees a higher one moves to it first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumMessage<R> {
    /// A candidate asks for a vote (Kafka API key 52).
    Vote {
        epoch: i32,
        candidate_id: NodeId,
        /// The epoch of the candidate's last entry (0 for an empty log).
        last_offset_epoch: i32,
        /// The candidate's log end offset.
        last_offset: i64,
    },
    /// The answer to [`QuorumMessage::Vote`], with the leader the voter knows, if any.
    VoteResponse { epoch: i32, vote_granted: bool, leader_id: Option<NodeId> },
    /// A new leader announces itself to the voters (API key 53); observers learn of it by fetching.
    BeginQuorumEpoch { epoch: i32, leader_id: NodeId },
    /// Acknowledges [`QuorumMessage::BeginQuorumEpoch`]; the leader stops resending it.
    BeginQuorumEpochResponse { epoch: i32 },
    /// A leader that resigns tells the voters, best successors first, so the next election need
    /// not wait for a timeout (API key 54).
    EndQuorumEpoch { epoch: i32, leader_id: NodeId, preferred_successors: Vec<NodeId> },
    /// A follower or observer pulls entries from the leader (API key 1, as KRaft uses it).
    Fetch {
        /// The fetcher's current epoch.
        epoch: i32,
        replica_id: NodeId,
        /// Kafka's request-header correlation id, echoed in the response: a fetcher only takes the
        /// response to the Fetch it is waiting for, never a late or duplicated older one.
        correlation_id: i32,
        /// The fetcher's log end offset.
        fetch_offset: i64,
        /// The epoch of the fetcher's last entry (0 for an empty log).
        last_fetched_epoch: i32,
    },
    /// The answer to [`QuorumMessage::Fetch`].
    FetchResponse {
        epoch: i32,
        leader_id: Option<NodeId>,
        /// Echoes the Fetch's `correlation_id`.
        correlation_id: i32,
        high_watermark: i64,
        /// Entries from the fetch offset on, at most `fetch_max_entries`.
        entries: Vec<Entry<R>>,
        /// The fetcher's log diverges from the leader's: `(epoch, end_offset)` is the largest
        /// epoch not above its `last_fetched_epoch` in the leader's log and where that epoch ends
        /// there. The fetcher truncates to `end_offset` and fetches again (KIP-595, "Fetch").
        diverging_epoch: Option<(i32, i64)>,
        error: Option<QuorumError>,
    },
}

impl<R> QuorumMessage<R> {
    /// The sender's epoch.
    pub fn epoch(&self) -> i32 {
        match self {
            QuorumMessage::Vote { epoch, .. }
            | QuorumMessage::VoteResponse { epoch, .. }
            | QuorumMessage::BeginQuorumEpoch { epoch, .. }
            | QuorumMessage::BeginQuorumEpochResponse { epoch }
            | QuorumMessage::EndQuorumEpoch { epoch, .. }
            | QuorumMessage::Fetch { epoch, .. }
            | QuorumMessage::FetchResponse { epoch, .. } => *epoch,
        }
    }

    /// The RPC's name in the Kafka protocol, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            QuorumMessage::Vote { .. } => "Vote",
            QuorumMessage::VoteResponse { .. } => "VoteResponse",
            QuorumMessage::BeginQuorumEpoch { .. } => "BeginQuorumEpoch",
            QuorumMessage::BeginQuorumEpochResponse { .. } => "BeginQuorumEpochResponse",
            QuorumMessage::EndQuorumEpoch { .. } => "EndQuorumEpoch",
            QuorumMessage::Fetch { .. } => "Fetch",
            QuorumMessage::FetchResponse { .. } => "FetchResponse",
        }
    }
}

/// Errors a FetchResponse carries; the response's `epoch` and `leader_id` say who leads instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuorumError {
    /// The Fetch's epoch is older than the receiver's (FENCED_LEADER_EPOCH).
    FencedLeaderEpoch,
    /// The receiver does not lead this epoch (NOT_LEADER_OR_FOLLOWER).
    NotLeader,
}

impl QuorumError {
    /// The Kafka error code on the wire.
    pub fn error_code(self) -> ErrorCode {
        match self {
            QuorumError::FencedLeaderEpoch => ErrorCode::FencedLeaderEpoch,
            QuorumError::NotLeader => ErrorCode::NotLeaderOrFollower,
        }
    }
}

/// Why a voter refused a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteRejectReason {
    /// The candidate's epoch is older than the voter's.
    StaleEpoch,
    /// The voter already voted for another candidate in this epoch.
    AlreadyVoted { voted_for: NodeId },
    /// The voter already knows this epoch's leader.
    LeaderKnown { leader_id: NodeId },
    /// The candidate's log is behind the voter's (last epoch, then log end offset).
    LogBehind,
    /// The candidate is not in `controller.quorum.voters`, or this node is an observer.
    NotAVoter,
}

/// A transition, in order, for the learner's event log and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumEvent {
    /// A voter with no leader waited its election timeout (or the fetch timeout ran out, see
    /// [`QuorumEvent::FetchTimeout`]) and stands for election next.
    ElectionTimeout { epoch: i32 },
    /// Stands for election in `epoch`, having voted for itself.
    BecameCandidate { epoch: i32 },
    /// A candidate lost (a majority refused) or its election timed out; it waits `backoff_ms`
    /// before standing again in the next epoch.
    ElectionBackoff { epoch: i32, backoff_ms: u64 },
    /// This voter granted its vote for `epoch` to candidate `to`.
    VoteGranted { to: NodeId, epoch: i32 },
    /// This node refused its vote to candidate `to`.
    VoteRejected { to: NodeId, epoch: i32, reason: VoteRejectReason },
    /// Won the election of `epoch`.
    BecameLeader { epoch: i32 },
    /// Follows `leader_id` in `epoch`.
    BecameFollower { epoch: i32, leader_id: NodeId },
    /// Moved to `epoch` with no leader known (a higher epoch was seen, or the leader went away).
    BecameUnattached { epoch: i32 },
    /// Removed the entries from `to_offset` on (they diverged from the leader's log).
    Truncated { to_offset: i64 },
    /// The high watermark moved: entries below it are committed.
    HighWatermark { high_watermark: i64 },
    /// The leader of `epoch` resigned: it could not hear from a majority within `fetch_timeout_ms`.
    LeaderResigned { epoch: i32 },
    /// A follower had no Fetch answered by `leader_id` within `fetch_timeout_ms`.
    FetchTimeout { leader_id: NodeId, epoch: i32 },
}
