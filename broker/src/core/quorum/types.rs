//! The quorum's vocabulary: node ids, settings, log entries, what survives a crash, roles, and what
//! the leader knows about each replica.

/// Node ids, as in `node.id` and `controller.quorum.voters`.
pub type NodeId = i32;

/// Kafka's `controller.quorum.*` settings, with Kafka's defaults in [`Default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumConfig {
    /// `controller.quorum.voters`: the nodes that vote and count for the high watermark. Every
    /// other node is an observer. Duplicates are ignored.
    pub voters: Vec<NodeId>,
    /// `quorum.election.timeout.ms`: how long a voter with no leader waits before it stands for
    /// election; each wait is drawn at random in `[t, 2t)` so that voters seldom tie.
    pub election_timeout_ms: u64,
    /// `quorum.fetch.timeout.ms`: a follower that has had no Fetch answered by the leader for this
    /// long stands for election; a leader that has not been fetched from by a majority of voters
    /// for this long resigns (check quorum).
    pub fetch_timeout_ms: u64,
    /// `quorum.election.backoff.max.ms`: a candidate that lost waits a random time below this
    /// before it stands again in the next epoch.
    pub election_backoff_max_ms: u64,
    /// The leader parks a Fetch that finds nothing new for up to this long (Kafka's
    /// `fetch.max.wait.ms` in the follower's request), answering early when entries arrive or the
    /// high watermark moves.
    pub fetch_max_wait_ms: u64,
    /// At most this many entries in one FetchResponse.
    pub fetch_max_entries: usize,
}

impl Default for QuorumConfig {
    fn default() -> Self {
        QuorumConfig {
            voters: Vec::new(),
            election_timeout_ms: 1_000,
            fetch_timeout_ms: 2_000,
            election_backoff_max_ms: 1_000,
            fetch_max_wait_ms: 500,
            fetch_max_entries: 64,
        }
    }
}

impl QuorumConfig {
    /// How long a fetcher waits for a FetchResponse before it sends the Fetch again (a dropped
    /// request or response): the longest the leader may park it, plus
    /// [`FETCH_RESPONSE_SLACK_MS`] for the round trip. Kafka's equivalent is
    /// `controller.quorum.request.timeout.ms`.
    pub fn fetch_request_timeout_ms(&self) -> u64 {
        self.fetch_max_wait_ms.saturating_add(FETCH_RESPONSE_SLACK_MS)
    }
}

/// Round-trip allowance on top of `fetch_max_wait_ms` before a Fetch is sent again.
pub const FETCH_RESPONSE_SLACK_MS: u64 = 100;

/// What an entry of the metadata log carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryPayload<R> {
    /// The control record a new leader writes first in its epoch (KIP-595 "LeaderChangeMessage").
    /// Once it is committed, the whole log before it is too.
    LeaderChange { leader_id: NodeId, voters: Vec<NodeId> },
    /// A record for the state machine (KIP-631 metadata records); opaque to the quorum.
    Record(R),
}

/// One entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<R> {
    /// Position in the log; the entry at index `i` has offset `i`.
    pub offset: i64,
    /// The epoch of the leader that appended it.
    pub epoch: i32,
    pub payload: EntryPayload<R>,
}

/// What survives a crash. Raft persists the log and the vote before it answers anyone: the log,
/// the current epoch and the vote (Kafka's `quorum-state` file holds the last two).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurableState<R> {
    pub epoch: i32,
    pub voted_for: Option<NodeId>,
    pub log: Vec<Entry<R>>,
}

// By hand: a derive would ask `R: Default`, which an empty log does not need.
impl<R> Default for DurableState<R> {
    fn default() -> Self {
        DurableState { epoch: 0, voted_for: None, log: Vec::new() }
    }
}

/// A node's state in the current epoch, named as in KIP-595 and Kafka's `quorum-state`.
///
/// An observer (a node that is not in `controller.quorum.voters`) is only ever `Unattached`
/// (looking for the leader) or `Follower`; [`super::QuorumNode::is_voter`] tells voters apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// No leader known and no vote cast in this epoch.
    Unattached,
    /// Voted for a candidate in this epoch; no leader known yet.
    Voted,
    /// Standing for election in this epoch (it voted for itself).
    Candidate,
    /// Leads this epoch: appends, answers Fetches, advances the high watermark.
    Leader,
    /// Fetches from the leader of this epoch.
    Follower,
    /// Was the leader of this epoch and gave up (it could not hear from a majority); waits for
    /// an election in the next epoch.
    Resigned,
}

impl Role {
    /// The name Kafka's tools print.
    pub fn name(self) -> &'static str {
        match self {
            Role::Unattached => "Unattached",
            Role::Voted => "Voted",
            Role::Candidate => "Candidate",
            Role::Leader => "Leader",
            Role::Follower => "Follower",
            Role::Resigned => "Resigned",
        }
    }
}

/// A replica as the leader sees it, one row of `kafka-metadata-quorum describe --replication`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaState {
    pub replica_id: NodeId,
    /// The offset up to which the replica's log is known to match the leader's (its last
    /// accepted fetch offset; the leader's own log end offset for the leader).
    pub log_end_offset: i64,
    /// When its last Fetch arrived in this epoch; `None` if it has not fetched (and for the leader).
    pub last_fetch_ms: Option<u64>,
    /// A voter counts for the high watermark; an observer does not.
    pub is_voter: bool,
}

/// [`super::QuorumNode::append`] on a node that does not lead; names the leader it knows so the
/// caller can forward the write (Kafka: NOT_LEADER_OR_FOLLOWER with the current leader).
#[derive(thiserror::Error, Clone, Debug, PartialEq, Eq)]
#[error("not the leader of epoch {epoch} (known leader: {leader_id:?})")]
pub struct NotLeader {
    pub epoch: i32,
    pub leader_id: Option<NodeId>,
}
