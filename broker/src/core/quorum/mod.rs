//! The KRaft metadata quorum: KIP-595 "A Raft Protocol for the Metadata Quorum", as a sans-IO
//! state machine. The controllers (the voters) elect a leader, which appends the metadata records
//! of KIP-631 "The Quorum-based Kafka Controller" to a replicated log; brokers follow that log as
//! observers. Records are opaque here: the quorum orders and commits them, the controller applies them.
//!
//! KIP-595 is Raft with Kafka's habits:
//!
//! - **Pull, not push.** Followers and observers send `Fetch` to the leader, which answers with
//!   entries and its high watermark; the leader never sends entries unasked. A follower whose
//!   Fetches go unanswered for `quorum.fetch.timeout.ms` stands for election.
//! - **Epochs, not terms.** Each election bumps the epoch; a node that sees a higher epoch in any
//!   message moves to it. At most one vote per epoch, persisted with the epoch.
//! - **Divergence, not AppendEntries checks.** A Fetch carries the fetcher's log end offset and
//!   last epoch; if they do not match the leader's log, the response names the diverging epoch and
//!   where it ends, and the fetcher truncates (KIP-101/KIP-279, as partition replicas do).
//! - **Check quorum.** A leader that has not been fetched from by a majority of voters within the
//!   fetch timeout resigns, so a leader cut off from the others steps down on its own.
//!
//! ```text
//!                 timeout               majority of votes
//!   Unattached ─────────────▶ Candidate ──────────────────▶ Leader ──no fetches from a──▶ Resigned
//!   / Voted  ◀── higher epoch ─┘  ▲  │ lost: backoff, epoch+1          majority            │
//!       │                         └──┘                                                     │
//!       │ BeginQuorumEpoch / a response naming the leader          election timeout        │
//!       ▼                                                                                   │
//!   Follower ──no FetchResponse within quorum.fetch.timeout.ms──▶ Candidate ◀───────────────┘
//! ```
//!
//! # Driving it
//!
//! As with [`super::group`], time comes in as `now_ms` and randomness from the seed given to
//! [`QuorumNode::new`]; nothing here reads a clock, sleeps or touches a socket. After every
//! [`QuorumNode::handle`], [`QuorumNode::tick`] or [`QuorumNode::append`] the driver:
//!
//! 1. persists [`QuorumNode::durable_state`] if it changed (Raft: the vote and the log are on disk
//!    before anyone hears of them);
//! 2. sends every [`QuorumNode::poll_output`] message (any may be lost: timers resend what matters);
//! 3. applies [`QuorumNode::take_committed`] and reads [`QuorumNode::take_events`];
//! 4. calls [`QuorumNode::tick`] at [`QuorumNode::next_deadline_ms`] (a spurious tick is a no-op).
//!
//! The transport may drop, duplicate, delay and reorder messages; it must say truly who sent one.
//!
//! # Choices beyond KIP-595's text
//!
//! - **Correlation ids.** `Fetch` and `FetchResponse` carry Kafka's request-header correlation id,
//!   and a fetcher only takes the answer to the Fetch it waits on. Without it a late duplicate
//!   of an old diverging answer could truncate entries the leader already counted as replicated.
//! - **Retries.** A Fetch with no answer is sent again after
//!   [`QuorumConfig::fetch_request_timeout_ms`] (`fetch_max_wait_ms` + 100 ms). The leader sends
//!   BeginQuorumEpoch again, on the same period, to every voter that has not fetched lately
//!   (as KIP-853 does), which also reaches a voter that restarted and forgot the leader.
//! - **Election timer.** Seeing a higher epoch does not postpone an election a voter was already
//!   waiting for (Raft resets the timer only on granting a vote, hearing the leader, or standing).
//! - **Restart.** A node restarts `Voted` if it voted in its durable epoch, else `Unattached`
//!   (Kafka restores a former candidate or leader differently; both are safe). An observer finds
//!   the leader by fetching from a random voter and following the leader the answer names.
//! - **Resigning.** A leader that loses check quorum becomes `Resigned`, sends EndQuorumEpoch,
//!   and stands again after an election timeout; followers that hear of it stand at once (the
//!   first preferred successor) or after a short backoff. Parked Fetches are dropped, not answered.
//!
//! # Layout
//!
//! - `types`: node ids, [`QuorumConfig`], [`Entry`], [`DurableState`], [`Role`], [`ReplicaState`],
//!   [`NotLeader`].
//! - `message`: the RPCs ([`QuorumMessage`], [`QuorumError`]) and the events ([`QuorumEvent`]).
//! - `log`: pure functions over the log (end offset of an epoch, the leader's Fetch check).
//! - this file: [`QuorumNode`], one handler per RPC, grouped by role below.
//! - `tests`: exact-sequence tests per rule, and a seeded simulation of a lossy cluster.

mod log;
mod message;
mod types;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

pub use message::{QuorumError, QuorumEvent, QuorumMessage, VoteRejectReason};
pub use types::{
    DurableState, Entry, EntryPayload, FETCH_RESPONSE_SLACK_MS, NodeId, NotLeader, QuorumConfig, ReplicaState, Role,
};

use log::FetchCheck;

/// A candidate's tally in its epoch.
#[derive(Debug, Clone, Default)]
struct CandidateState {
    granted: BTreeSet<NodeId>,
    rejected: BTreeSet<NodeId>,
    /// Lost or timed out: the election deadline is now the end of the backoff.
    backing_off: bool,
}

/// What the leader knows of one replica in its epoch.
#[derive(Debug, Clone, Copy)]
struct ReplicaProgress {
    /// The highest fetch offset it sent that matched the leader's log: it holds everything below.
    fetch_offset: i64,
    last_fetch_ms: Option<u64>,
    is_voter: bool,
    /// The high watermark in the last response sent to it: a Fetch from a replica that has not
    /// heard of the current one is answered at once rather than parked.
    high_watermark_sent: i64,
}

/// A Fetch that found nothing new, held until entries arrive, the high watermark moves, or
/// `fetch_max_wait_ms` passes.
#[derive(Debug, Clone, Copy)]
struct ParkedFetch {
    replica_id: NodeId,
    correlation_id: i32,
    fetch_offset: i64,
    deadline_ms: u64,
}

#[derive(Debug, Clone)]
struct LeaderState {
    /// Offset of this epoch's `LeaderChange` entry: the high watermark moves only past it.
    epoch_start_offset: i64,
    became_leader_ms: u64,
    /// Every other voter, and each observer once it fetched.
    replicas: BTreeMap<NodeId, ReplicaProgress>,
    /// When to send BeginQuorumEpoch again to the voters that have not fetched lately.
    begin_quorum_retry_ms: u64,
    parked: Vec<ParkedFetch>,
}

/// The Fetch a follower (or an observer looking for the leader) waits on: one at a time.
#[derive(Debug, Clone, Copy)]
struct InFlightFetch {
    to: NodeId,
    correlation_id: i32,
    sent_ms: u64,
}

/// One node of the metadata quorum: a voter (a controller) or an observer (a broker).
#[derive(Debug)]
pub struct QuorumNode<R> {
    id: NodeId,
    config: QuorumConfig,
    is_voter: bool,
    epoch: i32,
    voted_for: Option<NodeId>,
    leader_id: Option<NodeId>,
    role: Role,
    log: Vec<Entry<R>>,
    high_watermark: i64,
    /// `take_committed` has handed out everything below this.
    committed_taken_offset: i64,
    rng: ChaCha8Rng,
    /// Voters without a leader: when to stand for election (or, backing off, stand again).
    election_deadline_ms: Option<u64>,
    candidate: Option<CandidateState>,
    leader: Option<LeaderState>,
    /// Follower: when the leader last answered a Fetch (the fetch timeout runs from there).
    last_fetch_response_ms: u64,
    in_flight: Option<InFlightFetch>,
    next_correlation_id: i32,
    /// An observer with no leader: when to ask another voter who leads.
    find_leader_at_ms: Option<u64>,
    outputs: VecDeque<(NodeId, QuorumMessage<R>)>,
    events: Vec<QuorumEvent>,
}

impl<R: Clone> QuorumNode<R> {
    /// A voter if `id` is in `config.voters`, otherwise an observer (a broker following the
    /// metadata log: it fetches, never votes, never counts for the high watermark).
    ///
    /// Restarts from `durable` as `Voted` (if it voted in that epoch) or `Unattached`, with the
    /// high watermark at 0 until the leader tells it more: [`QuorumNode::take_committed`] then
    /// hands out the log from offset 0 again, since the state machine is rebuilt from it. A
    /// durable log that breaks the log's shape (offsets not `0, 1, ..`, epochs going down) is cut
    /// where it does. A node that is the only voter elects itself at once. An observer starts
    /// looking for the leader by fetching from a random voter, whose answer names the leader.
    pub fn new(id: NodeId, config: QuorumConfig, durable: DurableState<R>, now_ms: u64, seed: u64) -> Self {
        let mut config = config;
        config.voters.sort_unstable();
        config.voters.dedup();
        let is_voter = config.voters.contains(&id);
        let DurableState { epoch, voted_for, mut log } = durable;
        let mut last_epoch = 0;
        let mut valid_len = 0;
        for (index, entry) in log.iter().enumerate() {
            if usize::try_from(entry.offset).ok() != Some(index) || entry.epoch < last_epoch {
                break;
            }
            last_epoch = entry.epoch;
            valid_len = index + 1;
        }
        log.truncate(valid_len);
        let epoch = epoch.max(last_epoch).max(0);
        let voted_for = voted_for.filter(|v| config.voters.contains(v));
        let mut node = QuorumNode {
            id,
            is_voter,
            epoch,
            role: if voted_for.is_some() && is_voter { Role::Voted } else { Role::Unattached },
            voted_for,
            leader_id: None,
            log,
            high_watermark: 0,
            committed_taken_offset: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            election_deadline_ms: None,
            candidate: None,
            leader: None,
            last_fetch_response_ms: now_ms,
            in_flight: None,
            next_correlation_id: 0,
            find_leader_at_ms: None,
            outputs: VecDeque::new(),
            events: Vec::new(),
            config,
        };
        if is_voter {
            if node.config.voters.len() == 1 {
                node.start_election(now_ms);
            } else {
                node.election_deadline_ms = Some(now_ms.saturating_add(node.random_election_timeout_ms()));
            }
        } else {
            node.find_leader(now_ms);
        }
        node
    }

    // ---- (A) Getters -------------------------------------------------------------------------

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// In `controller.quorum.voters`; otherwise an observer.
    pub fn is_voter(&self) -> bool {
        self.is_voter
    }

    pub fn config(&self) -> &QuorumConfig {
        &self.config
    }

    pub fn epoch(&self) -> i32 {
        self.epoch
    }

    /// The leader of the current epoch, if known (itself when leading).
    pub fn leader_id(&self) -> Option<NodeId> {
        self.leader_id
    }

    /// Whom this node voted for in the current epoch.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// Entries below it are committed: on a majority of voters, and in every later leader's log.
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    pub fn log_end_offset(&self) -> i64 {
        log::log_end_offset(&self.log)
    }

    /// The epoch of the last entry (0 for an empty log).
    pub fn last_epoch(&self) -> i32 {
        log::last_epoch(&self.log)
    }

    /// Every entry, committed or not.
    pub fn log(&self) -> &[Entry<R>] {
        &self.log
    }

    /// What must be on disk before any output of the last call is sent.
    pub fn durable_state(&self) -> DurableState<R> {
        DurableState { epoch: self.epoch, voted_for: self.voted_for, log: self.log.clone() }
    }

    /// The leader's view of each replica, itself first, like `kafka-metadata-quorum describe
    /// --replication`; empty on a node that does not lead.
    pub fn replica_states(&self) -> Vec<ReplicaState> {
        let Some(leader) = &self.leader else { return Vec::new() };
        let own = ReplicaState {
            replica_id: self.id,
            log_end_offset: self.log_end_offset(),
            last_fetch_ms: None,
            is_voter: true,
        };
        let others = leader.replicas.iter().map(|(&replica_id, progress)| ReplicaState {
            replica_id,
            log_end_offset: progress.fetch_offset,
            last_fetch_ms: progress.last_fetch_ms,
            is_voter: progress.is_voter,
        });
        std::iter::once(own).chain(others).collect()
    }

    // ---- (B) Inputs: messages and time ----------------------------------------------------------

    /// A message from node `from` (the transport vouches for the sender).
    pub fn handle(&mut self, now_ms: u64, from: NodeId, message: QuorumMessage<R>) {
        if from == self.id {
            return;
        }
        // KIP-595: a node that sees a higher epoch moves to it first, as a follower if the message
        // names that epoch's leader. Then the message is handled in the new state.
        let message_epoch = message.epoch();
        // A candidate outside the voter set is refused before its epoch can move anyone.
        let foreign_candidate = matches!(message, QuorumMessage::Vote { .. }) && !self.config.voters.contains(&from);
        if message_epoch > self.epoch && !foreign_candidate {
            let named_leader = match &message {
                QuorumMessage::BeginQuorumEpoch { leader_id, .. } => Some(*leader_id),
                QuorumMessage::VoteResponse { leader_id, .. } | QuorumMessage::FetchResponse { leader_id, .. } => {
                    *leader_id
                }
                _ => None,
            };
            match named_leader.filter(|&l| l != self.id && self.config.voters.contains(&l)) {
                Some(leader_id) => self.become_follower(now_ms, message_epoch, leader_id),
                None => self.become_unattached(now_ms, message_epoch),
            }
            // A response from a newer epoch answers a request of the old one: nothing more to do.
            if matches!(
                message,
                QuorumMessage::VoteResponse { .. }
                    | QuorumMessage::FetchResponse { .. }
                    | QuorumMessage::BeginQuorumEpochResponse { .. }
                    | QuorumMessage::EndQuorumEpoch { .. }
            ) {
                return;
            }
        }
        match message {
            QuorumMessage::Vote { epoch, candidate_id, last_offset_epoch, last_offset } => {
                if candidate_id == from {
                    self.on_vote(now_ms, epoch, candidate_id, last_offset_epoch, last_offset);
                }
            }
            QuorumMessage::VoteResponse { epoch, vote_granted, leader_id } => {
                self.on_vote_response(now_ms, from, epoch, vote_granted, leader_id);
            }
            QuorumMessage::BeginQuorumEpoch { epoch, leader_id } => {
                if leader_id == from {
                    self.on_begin_quorum_epoch(now_ms, epoch, leader_id);
                }
            }
            // The voter's Fetches are what the leader waits for (see `tick_leader`); the response
            // only matters for its epoch, handled above.
            QuorumMessage::BeginQuorumEpochResponse { .. } => {}
            QuorumMessage::EndQuorumEpoch { epoch, leader_id, preferred_successors } => {
                if leader_id == from {
                    self.on_end_quorum_epoch(now_ms, epoch, leader_id, &preferred_successors);
                }
            }
            QuorumMessage::Fetch { epoch, replica_id, correlation_id, fetch_offset, last_fetched_epoch } => {
                if replica_id == from {
                    self.on_fetch(now_ms, epoch, replica_id, correlation_id, fetch_offset, last_fetched_epoch);
                }
            }
            QuorumMessage::FetchResponse {
                epoch,
                leader_id,
                correlation_id,
                high_watermark,
                entries,
                diverging_epoch,
                error,
            } => {
                let response =
                    FetchResponse { epoch, leader_id, correlation_id, high_watermark, diverging_epoch, error };
                self.on_fetch_response(now_ms, from, response, entries);
            }
        }
    }

    /// Fires every timer due at `now_ms`; a call with nothing due does nothing.
    pub fn tick(&mut self, now_ms: u64) {
        match self.role {
            Role::Leader => self.tick_leader(now_ms),
            Role::Follower => self.tick_follower(now_ms),
            Role::Candidate => {
                if self.election_deadline_ms.is_some_and(|deadline| now_ms >= deadline) {
                    if self.candidate.as_ref().is_some_and(|c| c.backing_off) {
                        self.start_election(now_ms);
                    } else {
                        self.back_off(now_ms);
                    }
                }
            }
            Role::Unattached | Role::Voted | Role::Resigned => {
                if self.is_voter {
                    if self.election_deadline_ms.is_some_and(|deadline| now_ms >= deadline) {
                        self.events.push(QuorumEvent::ElectionTimeout { epoch: self.epoch });
                        self.start_election(now_ms);
                    }
                } else if self.find_leader_at_ms.is_some_and(|at| now_ms >= at) || self.fetch_request_expired(now_ms) {
                    self.find_leader(now_ms);
                }
            }
        }
    }

    /// When [`QuorumNode::tick`] should next be called.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        let fetch_retry_ms = self.in_flight.map(|f| f.sent_ms.saturating_add(self.config.fetch_request_timeout_ms()));
        let mut deadlines = vec![self.election_deadline_ms];
        match self.role {
            Role::Leader => {
                if let Some(leader) = &self.leader {
                    deadlines.extend(leader.parked.iter().map(|p| Some(p.deadline_ms)));
                    if self.config.voters.len() > 1 {
                        deadlines.push(Some(leader.begin_quorum_retry_ms));
                    }
                }
                deadlines.push(self.check_quorum_deadline_ms());
            }
            Role::Follower => {
                deadlines.push(Some(self.last_fetch_response_ms.saturating_add(self.config.fetch_timeout_ms)));
                deadlines.push(fetch_retry_ms);
            }
            Role::Unattached | Role::Voted | Role::Resigned if !self.is_voter => {
                deadlines.push(self.find_leader_at_ms);
                deadlines.push(fetch_retry_ms);
            }
            _ => {}
        }
        deadlines.into_iter().flatten().min()
    }

    // ---- (C) Application calls ------------------------------------------------------------------

    /// Leader only: appends `records` in the current epoch and returns the offset of the last one
    /// (of the last entry in the log if `records` is empty). They are committed once a majority of
    /// voters has fetched them (see [`QuorumNode::high_watermark`]).
    ///
    /// # Errors
    ///
    /// [`NotLeader`] on any other node, naming the leader it knows so the caller can go there.
    pub fn append(&mut self, now_ms: u64, records: Vec<R>) -> Result<i64, NotLeader> {
        if self.role != Role::Leader {
            return Err(NotLeader { epoch: self.epoch, leader_id: self.leader_id });
        }
        let appended = !records.is_empty();
        for record in records {
            let offset = self.log_end_offset();
            self.log.push(Entry { offset, epoch: self.epoch, payload: EntryPayload::Record(record) });
        }
        if appended {
            self.update_leader_high_watermark(now_ms);
            // Parked Fetches wait for exactly this (KIP-595: the leader completes them on append).
            self.answer_parked_fetches(now_ms, false);
        }
        Ok(self.log_end_offset() - 1)
    }

    /// Entries below the high watermark not handed out yet, for the state machine (the
    /// controller) to apply, in order; each entry is returned once per [`QuorumNode`] (a restarted
    /// node hands the log out again from offset 0).
    pub fn take_committed(&mut self) -> Vec<Entry<R>> {
        let from_offset = self.committed_taken_offset;
        let count = usize::try_from(self.high_watermark.saturating_sub(from_offset)).unwrap_or(0);
        let entries = log::entries_from(&self.log, from_offset, count);
        self.committed_taken_offset = from_offset.max(self.high_watermark);
        entries
    }

    // ---- (D) Outputs ----------------------------------------------------------------------------

    /// The next message to send, with its destination.
    pub fn poll_output(&mut self) -> Option<(NodeId, QuorumMessage<R>)> {
        self.outputs.pop_front()
    }

    /// Transitions since the last call, in order.
    pub fn take_events(&mut self) -> Vec<QuorumEvent> {
        std::mem::take(&mut self.events)
    }

    // ---- Transitions ----------------------------------------------------------------------------

    fn majority(&self) -> usize {
        self.config.voters.len() / 2 + 1
    }

    /// Uniform in `[0, bound)` (Lemire's multiply-shift; no floats, same on every target).
    fn random_below(&mut self, bound: u64) -> u64 {
        let wide = u128::from(self.rng.next_u64()) * u128::from(bound);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    /// KIP-595: `quorum.election.timeout.ms` randomized in `[t, 2t)`.
    fn random_election_timeout_ms(&mut self) -> u64 {
        let timeout_ms = self.config.election_timeout_ms;
        timeout_ms.saturating_add(self.random_below(timeout_ms))
    }

    fn send(&mut self, to: NodeId, message: QuorumMessage<R>) {
        self.outputs.push_back((to, message));
    }

    fn other_voters(&self) -> Vec<NodeId> {
        self.config.voters.iter().copied().filter(|&v| v != self.id).collect()
    }

    fn enter_epoch(&mut self, epoch: i32) {
        if epoch > self.epoch {
            self.epoch = epoch;
            self.voted_for = None;
        }
        self.leader_id = None;
        self.candidate = None;
        self.leader = None;
        self.in_flight = None;
        self.find_leader_at_ms = None;
        self.election_deadline_ms = None;
    }

    /// No leader known in `epoch` (a higher epoch, or the leader of this one went away). The vote
    /// of this epoch, if any, stands.
    ///
    /// A voter that was already waiting to stand keeps its deadline: Raft resets the election
    /// timer on granting a vote, on hearing from the leader and on standing, not on merely seeing
    /// a higher epoch. Otherwise a candidate that can never win (its log is behind) would push
    /// back everyone else's timer with each new epoch, and, backing off for less than the
    /// election timeout, stand again first, for ever.
    fn become_unattached(&mut self, now_ms: u64, epoch: i32) {
        let pending_election_ms = self.election_deadline_ms;
        self.enter_epoch(epoch);
        self.role = if self.voted_for.is_some() && self.is_voter { Role::Voted } else { Role::Unattached };
        self.events.push(QuorumEvent::BecameUnattached { epoch: self.epoch });
        if self.is_voter {
            let deadline_ms = match pending_election_ms {
                Some(deadline_ms) => deadline_ms,
                None => now_ms.saturating_add(self.random_election_timeout_ms()),
            };
            self.election_deadline_ms = Some(deadline_ms);
        } else {
            self.find_leader(now_ms);
        }
    }

    fn become_follower(&mut self, now_ms: u64, epoch: i32, leader_id: NodeId) {
        self.enter_epoch(epoch);
        self.role = Role::Follower;
        self.leader_id = Some(leader_id);
        self.last_fetch_response_ms = now_ms;
        self.events.push(QuorumEvent::BecameFollower { epoch: self.epoch, leader_id });
        self.send_fetch(now_ms, leader_id);
    }

    /// KIP-595 "Vote": bump the epoch, vote for itself, ask every other voter.
    fn start_election(&mut self, now_ms: u64) {
        // No epoch after i32::MAX: standing again in it could overwrite this epoch's vote.
        if !self.is_voter || self.epoch == i32::MAX {
            self.election_deadline_ms = None;
            return;
        }
        self.enter_epoch(self.epoch.saturating_add(1));
        self.role = Role::Candidate;
        self.voted_for = Some(self.id);
        self.candidate = Some(CandidateState { granted: BTreeSet::from([self.id]), ..CandidateState::default() });
        self.election_deadline_ms = Some(now_ms.saturating_add(self.random_election_timeout_ms()));
        self.events.push(QuorumEvent::BecameCandidate { epoch: self.epoch });
        let vote = QuorumMessage::Vote {
            epoch: self.epoch,
            candidate_id: self.id,
            last_offset_epoch: self.last_epoch(),
            last_offset: self.log_end_offset(),
        };
        for voter in self.other_voters() {
            self.send(voter, vote.clone());
        }
        if self.majority() <= 1 {
            self.become_leader(now_ms);
        }
    }

    /// Lost, or no majority in time: wait a random backoff, then stand again in the next epoch.
    fn back_off(&mut self, now_ms: u64) {
        let backoff_ms = self.random_below(self.config.election_backoff_max_ms);
        if let Some(candidate) = &mut self.candidate {
            candidate.backing_off = true;
        }
        self.election_deadline_ms = Some(now_ms.saturating_add(backoff_ms));
        self.events.push(QuorumEvent::ElectionBackoff { epoch: self.epoch, backoff_ms });
    }

    /// KIP-595: the new leader first appends a `LeaderChange` entry in its epoch (its high
    /// watermark can move only once an entry of its own epoch is committed), then tells the voters
    /// with BeginQuorumEpoch.
    fn become_leader(&mut self, now_ms: u64) {
        self.role = Role::Leader;
        self.leader_id = Some(self.id);
        self.candidate = None;
        self.election_deadline_ms = None;
        self.events.push(QuorumEvent::BecameLeader { epoch: self.epoch });
        let epoch_start_offset = self.log_end_offset();
        let payload = EntryPayload::LeaderChange { leader_id: self.id, voters: self.config.voters.clone() };
        self.log.push(Entry { offset: epoch_start_offset, epoch: self.epoch, payload });
        let others = self.other_voters();
        let replicas = others
            .iter()
            .map(|&v| {
                (v, ReplicaProgress { fetch_offset: 0, last_fetch_ms: None, is_voter: true, high_watermark_sent: 0 })
            })
            .collect();
        self.leader = Some(LeaderState {
            epoch_start_offset,
            became_leader_ms: now_ms,
            replicas,
            begin_quorum_retry_ms: now_ms.saturating_add(self.config.fetch_request_timeout_ms()),
            parked: Vec::new(),
        });
        for voter in others {
            self.send(voter, QuorumMessage::BeginQuorumEpoch { epoch: self.epoch, leader_id: self.id });
        }
        self.update_leader_high_watermark(now_ms);
    }

    /// Check quorum (KIP-595): a leader that has not been fetched from by a majority within
    /// `fetch_timeout_ms` gives up its epoch and tells the voters, best-caught-up first.
    fn resign(&mut self, now_ms: u64) {
        let Some(leader) = self.leader.take() else { return };
        self.role = Role::Resigned;
        self.leader_id = None;
        self.events.push(QuorumEvent::LeaderResigned { epoch: self.epoch });
        let mut successors: Vec<(i64, NodeId)> =
            leader.replicas.iter().filter(|(_, p)| p.is_voter).map(|(&id, p)| (p.fetch_offset, id)).collect();
        successors.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let preferred_successors: Vec<NodeId> = successors.into_iter().map(|(_, id)| id).collect();
        for &voter in &preferred_successors {
            let message = QuorumMessage::EndQuorumEpoch {
                epoch: self.epoch,
                leader_id: self.id,
                preferred_successors: preferred_successors.clone(),
            };
            self.send(voter, message);
        }
        self.election_deadline_ms = Some(now_ms.saturating_add(self.random_election_timeout_ms()));
    }

    fn truncate_to(&mut self, to_offset: i64) {
        let Ok(len) = usize::try_from(to_offset) else { return };
        if len >= self.log.len() {
            return;
        }
        self.log.truncate(len);
        self.events.push(QuorumEvent::Truncated { to_offset });
        self.high_watermark = self.high_watermark.min(to_offset);
        self.committed_taken_offset = self.committed_taken_offset.min(to_offset);
    }

    fn set_high_watermark(&mut self, high_watermark: i64) {
        if high_watermark > self.high_watermark {
            self.high_watermark = high_watermark;
            self.events.push(QuorumEvent::HighWatermark { high_watermark });
        }
    }
}

/// The fields of a FetchResponse but its entries.
#[derive(Debug, Clone, Copy)]
struct FetchResponse {
    epoch: i32,
    leader_id: Option<NodeId>,
    correlation_id: i32,
    high_watermark: i64,
    diverging_epoch: Option<(i32, i64)>,
    error: Option<QuorumError>,
}

// ---- Voting (every voter) ------------------------------------------------------------------------
impl<R: Clone> QuorumNode<R> {
    /// KIP-595 "Vote": one vote per epoch (persisted), none while the epoch's leader is known,
    /// and only to a candidate whose log is at least as up to date (last epoch, then end offset).
    fn on_vote(&mut self, now_ms: u64, epoch: i32, candidate_id: NodeId, last_offset_epoch: i32, last_offset: i64) {
        let verdict = if epoch < self.epoch {
            Err(VoteRejectReason::StaleEpoch)
        } else if !self.is_voter || !self.config.voters.contains(&candidate_id) {
            Err(VoteRejectReason::NotAVoter)
        } else if let Some(leader_id) = self.leader_id {
            Err(VoteRejectReason::LeaderKnown { leader_id })
        } else if let Some(voted_for) = self.voted_for {
            if voted_for == candidate_id { Ok(()) } else { Err(VoteRejectReason::AlreadyVoted { voted_for }) }
        } else if (last_offset_epoch, last_offset) < (self.last_epoch(), self.log_end_offset()) {
            Err(VoteRejectReason::LogBehind)
        } else {
            self.voted_for = Some(candidate_id);
            self.role = Role::Voted;
            self.election_deadline_ms = Some(now_ms.saturating_add(self.random_election_timeout_ms()));
            Ok(())
        };
        let vote_granted = verdict.is_ok();
        self.events.push(match verdict {
            Ok(()) => QuorumEvent::VoteGranted { to: candidate_id, epoch },
            Err(reason) => QuorumEvent::VoteRejected { to: candidate_id, epoch, reason },
        });
        let response = QuorumMessage::VoteResponse { epoch: self.epoch, vote_granted, leader_id: self.leader_id };
        self.send(candidate_id, response);
    }

    fn on_vote_response(&mut self, now_ms: u64, from: NodeId, epoch: i32, vote_granted: bool, leader: Option<NodeId>) {
        if epoch != self.epoch || !self.config.voters.contains(&from) {
            return;
        }
        if let Some(leader_id) = leader.filter(|&l| l != self.id && self.config.voters.contains(&l)) {
            // The voter knows this epoch's leader: follow it (unless this node is it).
            if self.leader_id.is_none() && self.role != Role::Resigned {
                self.become_follower(now_ms, epoch, leader_id);
            }
            return;
        }
        let majority = self.majority();
        let voters = self.config.voters.len();
        let Some(candidate) = self.candidate.as_mut().filter(|_| self.role == Role::Candidate) else { return };
        if vote_granted {
            candidate.rejected.remove(&from);
            candidate.granted.insert(from);
        } else if !candidate.granted.contains(&from) {
            candidate.rejected.insert(from);
        }
        let lost = candidate.rejected.len() > voters.saturating_sub(majority);
        if candidate.granted.len() >= majority {
            // A late vote still counts during the backoff: it is a vote for this epoch.
            self.become_leader(now_ms);
        } else if lost && !candidate.backing_off {
            self.back_off(now_ms);
        }
    }

    fn on_begin_quorum_epoch(&mut self, now_ms: u64, epoch: i32, leader_id: NodeId) {
        if epoch == self.epoch && self.config.voters.contains(&leader_id) {
            match self.role {
                // One leader per epoch: a second claim can only be forged; ignore it.
                Role::Leader | Role::Resigned | Role::Follower => {}
                Role::Unattached | Role::Voted | Role::Candidate => self.become_follower(now_ms, epoch, leader_id),
            }
        }
        self.send(leader_id, QuorumMessage::BeginQuorumEpochResponse { epoch: self.epoch });
    }

    /// KIP-595 "EndQuorumEpoch": the leader resigned; its followers stop following it and stand
    /// for election, the first preferred successor at once, later ones after a growing backoff.
    fn on_end_quorum_epoch(&mut self, now_ms: u64, epoch: i32, leader_id: NodeId, preferred_successors: &[NodeId]) {
        if epoch != self.epoch || self.leader_id != Some(leader_id) || self.role != Role::Follower {
            return;
        }
        self.become_unattached(now_ms, epoch);
        if let Some(position) = preferred_successors.iter().position(|&id| id == self.id) {
            let backoff_ms = match u32::try_from(position) {
                Ok(0) => 0,
                Ok(p) if p < 20 => (ELECTION_BACKOFF_STEP_MS << (p - 1)).min(self.config.election_backoff_max_ms),
                _ => self.config.election_backoff_max_ms,
            };
            self.election_deadline_ms = Some(now_ms.saturating_add(backoff_ms));
        }
    }
}

/// A preferred successor at position `p > 0` waits `50 ms << (p - 1)`, capped by
/// `quorum.election.backoff.max.ms`, as Kafka's `strictExponentialElectionBackoffMs` does.
const ELECTION_BACKOFF_STEP_MS: u64 = 50;

// ---- The leader ---------------------------------------------------------------------------------
impl<R: Clone> QuorumNode<R> {
    /// KIP-595 "Fetch" at the receiving end.
    fn on_fetch(
        &mut self,
        now_ms: u64,
        epoch: i32,
        replica_id: NodeId,
        correlation_id: i32,
        fetch_offset: i64,
        last_fetched_epoch: i32,
    ) {
        let error = if epoch < self.epoch {
            Some(QuorumError::FencedLeaderEpoch)
        } else if self.role != Role::Leader {
            Some(QuorumError::NotLeader)
        } else {
            None
        };
        let is_voter = self.config.voters.contains(&replica_id);
        let (Some(leader), None) = (self.leader.as_mut(), error) else {
            let response = self.fetch_response(correlation_id, error, None, Vec::new());
            self.send(replica_id, response);
            return;
        };
        let progress = leader.replicas.entry(replica_id).or_insert(ReplicaProgress {
            fetch_offset: 0,
            last_fetch_ms: None,
            is_voter,
            high_watermark_sent: 0,
        });
        progress.last_fetch_ms = Some(now_ms);
        // A newer Fetch from the same replica supersedes a parked one (it no longer waits on it).
        leader.parked.retain(|p| p.replica_id != replica_id);
        match log::check_fetch(&self.log, fetch_offset, last_fetched_epoch) {
            FetchCheck::Diverging { epoch, end_offset } => {
                let response = self.fetch_response(correlation_id, None, Some((epoch, end_offset)), Vec::new());
                self.send(replica_id, response);
            }
            FetchCheck::Valid => {
                // The replica holds everything below `fetch_offset`; never count it lower than it
                // was (a reordered older Fetch proves less, not that entries went away).
                progress.fetch_offset = progress.fetch_offset.max(fetch_offset);
                let moved = self.update_leader_high_watermark(now_ms);
                let high_watermark_sent =
                    self.leader.as_ref().and_then(|l| l.replicas.get(&replica_id)).map_or(0, |p| p.high_watermark_sent);
                let news = fetch_offset < self.log_end_offset() || high_watermark_sent < self.high_watermark;
                if news || moved || self.config.fetch_max_wait_ms == 0 {
                    self.answer_fetch(replica_id, correlation_id, fetch_offset);
                } else if let Some(leader) = self.leader.as_mut() {
                    let deadline_ms = now_ms.saturating_add(self.config.fetch_max_wait_ms);
                    leader.parked.push(ParkedFetch { replica_id, correlation_id, fetch_offset, deadline_ms });
                }
            }
        }
    }

    fn fetch_response(
        &self,
        correlation_id: i32,
        error: Option<QuorumError>,
        diverging_epoch: Option<(i32, i64)>,
        entries: Vec<Entry<R>>,
    ) -> QuorumMessage<R> {
        QuorumMessage::FetchResponse {
            epoch: self.epoch,
            leader_id: self.leader_id,
            correlation_id,
            high_watermark: self.high_watermark,
            entries,
            diverging_epoch,
            error,
        }
    }

    fn answer_fetch(&mut self, replica_id: NodeId, correlation_id: i32, fetch_offset: i64) {
        let entries = log::entries_from(&self.log, fetch_offset, self.config.fetch_max_entries);
        let high_watermark = self.high_watermark;
        if let Some(progress) = self.leader.as_mut().and_then(|l| l.replicas.get_mut(&replica_id)) {
            progress.high_watermark_sent = high_watermark;
        }
        let response = self.fetch_response(correlation_id, None, None, entries);
        self.send(replica_id, response);
    }

    /// Answers the parked Fetches: all of them, or (`only_due`) those whose wait is over.
    fn answer_parked_fetches(&mut self, now_ms: u64, only_due: bool) {
        let Some(leader) = self.leader.as_mut() else { return };
        let (answer, keep): (Vec<ParkedFetch>, Vec<ParkedFetch>) =
            leader.parked.drain(..).partition(|p| !only_due || now_ms >= p.deadline_ms);
        leader.parked = keep;
        for parked in answer {
            self.answer_fetch(parked.replica_id, parked.correlation_id, parked.fetch_offset);
        }
    }

    /// KIP-595: the high watermark is the largest offset a majority of voters holds (the leader
    /// counts its own log end, the others their last matching fetch offset), once that is past
    /// the start of the leader's epoch. It never goes down on a leader. Returns whether it moved
    /// (and then answers the parked Fetches, so followers learn it).
    fn update_leader_high_watermark(&mut self, now_ms: u64) -> bool {
        let Some(leader) = &self.leader else { return false };
        let mut offsets: Vec<i64> = leader.replicas.values().filter(|p| p.is_voter).map(|p| p.fetch_offset).collect();
        offsets.push(self.log_end_offset());
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&majority_offset) = offsets.get(self.majority().saturating_sub(1)) else { return false };
        let epoch_start_offset = leader.epoch_start_offset;
        if majority_offset > epoch_start_offset && majority_offset > self.high_watermark {
            self.set_high_watermark(majority_offset.min(self.log_end_offset()));
            self.answer_parked_fetches(now_ms, false);
            return true;
        }
        false
    }

    /// When the leader resigns unless more voters fetch: the time the majority-th most recent
    /// fetch (counting itself) falls out of `fetch_timeout_ms`. Voters that have not fetched yet
    /// count from the start of the epoch.
    fn check_quorum_deadline_ms(&self) -> Option<u64> {
        let leader = self.leader.as_ref()?;
        let needed = self.majority().checked_sub(1).filter(|&n| n > 0)?;
        let mut last_fetches_ms: Vec<u64> = leader
            .replicas
            .values()
            .filter(|p| p.is_voter)
            .map(|p| p.last_fetch_ms.unwrap_or(leader.became_leader_ms).max(leader.became_leader_ms))
            .collect();
        last_fetches_ms.sort_unstable_by(|a, b| b.cmp(a));
        let oldest_needed_ms = last_fetches_ms.get(needed - 1).copied().unwrap_or(leader.became_leader_ms);
        Some(oldest_needed_ms.saturating_add(self.config.fetch_timeout_ms))
    }

    fn tick_leader(&mut self, now_ms: u64) {
        self.answer_parked_fetches(now_ms, true);
        let epoch = self.epoch;
        if let Some(leader) = self.leader.as_mut().filter(|l| now_ms >= l.begin_quorum_retry_ms) {
            leader.begin_quorum_retry_ms = now_ms.saturating_add(self.config.fetch_request_timeout_ms());
            // KIP-595 has the leader resend BeginQuorumEpoch until acknowledged; like KIP-853 we
            // resend it to every voter that has not fetched within the request timeout, which also
            // reaches a voter that restarted and forgot the leader before its election timer
            // fires and it disrupts the quorum with a new epoch.
            let quiet_since_ms = now_ms.saturating_sub(self.config.fetch_request_timeout_ms());
            let quiet: Vec<NodeId> = leader
                .replicas
                .iter()
                .filter(|(_, p)| p.is_voter && p.last_fetch_ms.is_none_or(|at| at < quiet_since_ms))
                .map(|(&id, _)| id)
                .collect();
            for voter in quiet {
                self.send(voter, QuorumMessage::BeginQuorumEpoch { epoch, leader_id: self.id });
            }
        }
        if self.check_quorum_deadline_ms().is_some_and(|deadline| now_ms >= deadline) {
            self.resign(now_ms);
        }
    }
}

// ---- Followers and observers ----------------------------------------------------------------------
impl<R: Clone> QuorumNode<R> {
    fn send_fetch(&mut self, now_ms: u64, to: NodeId) {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        self.in_flight = Some(InFlightFetch { to, correlation_id, sent_ms: now_ms });
        let fetch = QuorumMessage::Fetch {
            epoch: self.epoch,
            replica_id: self.id,
            correlation_id,
            fetch_offset: self.log_end_offset(),
            last_fetched_epoch: self.last_epoch(),
        };
        self.send(to, fetch);
    }

    fn fetch_request_expired(&self, now_ms: u64) -> bool {
        self.in_flight.is_some_and(|f| now_ms >= f.sent_ms.saturating_add(self.config.fetch_request_timeout_ms()))
    }

    /// An observer with no leader asks a random voter; the answer (FENCED_LEADER_EPOCH or
    /// NOT_LEADER_OR_FOLLOWER from a non-leader, entries from the leader) names the leader.
    fn find_leader(&mut self, now_ms: u64) {
        self.find_leader_at_ms = None;
        let voters = self.other_voters();
        let count = u64::try_from(voters.len()).unwrap_or(0);
        let pick = usize::try_from(self.random_below(count)).unwrap_or(0);
        if let Some(&voter) = voters.get(pick) {
            self.send_fetch(now_ms, voter);
        }
    }

    fn tick_follower(&mut self, now_ms: u64) {
        let Some(leader_id) = self.leader_id else { return };
        if now_ms >= self.last_fetch_response_ms.saturating_add(self.config.fetch_timeout_ms) {
            // KIP-595: a follower that cannot fetch from the leader within quorum.fetch.timeout.ms
            // stands for election; an observer looks for the leader again.
            self.events.push(QuorumEvent::FetchTimeout { leader_id, epoch: self.epoch });
            if self.is_voter {
                self.start_election(now_ms);
            } else {
                self.become_unattached(now_ms, self.epoch);
            }
        } else if self.fetch_request_expired(now_ms) {
            self.send_fetch(now_ms, leader_id);
        }
    }

    fn on_fetch_response(&mut self, now_ms: u64, from: NodeId, response: FetchResponse, entries: Vec<Entry<R>>) {
        // Only the answer to the Fetch in flight counts: a late or duplicated answer to an older
        // one describes a log this node may no longer have (Kafka matches correlation ids).
        let expected = self.in_flight.is_some_and(|f| f.to == from && f.correlation_id == response.correlation_id);
        if response.epoch != self.epoch || !expected {
            return;
        }
        self.in_flight = None;
        let named_leader = response.leader_id.filter(|&l| l != self.id && self.config.voters.contains(&l));
        if self.role != Role::Follower {
            // An observer looking for the leader: follow the one named, or ask another voter soon.
            match named_leader {
                Some(leader_id) if !self.is_voter => self.become_follower(now_ms, response.epoch, leader_id),
                _ => {
                    let backoff_ms = self.random_below(self.config.election_backoff_max_ms);
                    self.find_leader_at_ms = Some(now_ms.saturating_add(backoff_ms));
                }
            }
            return;
        }
        if response.error.is_some() || named_leader != Some(from) {
            // The leader of this epoch no longer leads (it resigned).
            self.become_unattached(now_ms, self.epoch);
            return;
        }
        self.last_fetch_response_ms = now_ms;
        if let Some((_, end_offset)) = response.diverging_epoch {
            // KIP-595: truncate to the end of the diverging epoch, then fetch again. Entries below
            // the high watermark are committed and in every later leader's log: never cut them.
            let to_offset = end_offset.min(self.log_end_offset()).max(self.high_watermark);
            self.truncate_to(to_offset);
        } else {
            self.append_fetched(entries);
            // Everything up to the log end now matches the leader's log, so its high watermark
            // holds here too as far as this log goes.
            let high_watermark = response.high_watermark.min(self.log_end_offset());
            self.set_high_watermark(high_watermark);
        }
        self.send_fetch(now_ms, from);
    }

    /// Appends the leader's entries, which start at this log's end (the Fetch asked from there).
    /// Anything out of shape ends the batch: the next Fetch asks again from the log end.
    fn append_fetched(&mut self, entries: Vec<Entry<R>>) {
        for entry in entries {
            let in_shape =
                entry.offset == self.log_end_offset() && entry.epoch >= self.last_epoch() && entry.epoch <= self.epoch;
            if !in_shape {
                break;
            }
            self.log.push(entry);
        }
    }
}

#[cfg(test)]
mod tests;
