//! The quorum, rule by rule: exact messages and events for given inputs (KIP-595 section names
//! in each test's comment), then a seeded simulation of a lossy, crashing, partitioned cluster
//! checked against Raft's safety properties after every step.

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::log::{FetchCheck, check_fetch, end_offset_for_epoch};
use super::*;
use crate::core::ErrorCode;

type Node = QuorumNode<&'static str>;
type Message = QuorumMessage<&'static str>;

const VOTERS: [NodeId; 3] = [1, 2, 3];

fn config(voters: &[NodeId]) -> QuorumConfig {
    QuorumConfig { voters: voters.to_vec(), ..QuorumConfig::default() }
}

fn start(id: NodeId) -> Node {
    QuorumNode::new(id, config(&VOTERS), DurableState::default(), 0, 7 + id as u64)
}

fn drain(node: &mut Node) -> Vec<(NodeId, Message)> {
    std::iter::from_fn(|| node.poll_output()).collect()
}

fn leader_change(offset: i64, epoch: i32, leader_id: NodeId) -> Entry<&'static str> {
    leader_change_of(offset, epoch, leader_id, &VOTERS)
}

fn leader_change_of(offset: i64, epoch: i32, leader_id: NodeId, voters: &[NodeId]) -> Entry<&'static str> {
    Entry { offset, epoch, payload: EntryPayload::LeaderChange { leader_id, voters: voters.to_vec() } }
}

fn record(offset: i64, epoch: i32, record: &'static str) -> Entry<&'static str> {
    Entry { offset, epoch, payload: EntryPayload::Record(record) }
}

fn fetch(epoch: i32, replica_id: NodeId, correlation_id: i32, fetch_offset: i64, last_fetched_epoch: i32) -> Message {
    QuorumMessage::Fetch { epoch, replica_id, correlation_id, fetch_offset, last_fetched_epoch }
}

fn fetched(
    epoch: i32,
    leader_id: NodeId,
    correlation_id: i32,
    high_watermark: i64,
    entries: Vec<Entry<&'static str>>,
) -> Message {
    QuorumMessage::FetchResponse {
        epoch,
        leader_id: Some(leader_id),
        correlation_id,
        high_watermark,
        entries,
        diverging_epoch: None,
        error: None,
    }
}

fn vote(epoch: i32, candidate_id: NodeId, last_offset_epoch: i32, last_offset: i64) -> Message {
    QuorumMessage::Vote { epoch, candidate_id, last_offset_epoch, last_offset }
}

/// Nodes wired together with instant, lossless delivery (raft-rs's `Network::send`), but for the
/// nodes `cut` off from everyone.
struct Net {
    nodes: BTreeMap<NodeId, Node>,
    cut: BTreeSet<NodeId>,
}

impl Net {
    fn new(ids: &[NodeId]) -> Self {
        Net { nodes: ids.iter().map(|&id| (id, start(id))).collect(), cut: BTreeSet::new() }
    }

    fn node(&mut self, id: NodeId) -> &mut Node {
        self.nodes.get_mut(&id).unwrap_or_else(|| panic!("no node {id}"))
    }

    /// Delivers every output, and what it causes, until all are quiet; returns what was sent.
    fn deliver_all(&mut self, now_ms: u64) -> Vec<(NodeId, NodeId, Message)> {
        let mut sent = Vec::new();
        loop {
            let mut batch = Vec::new();
            for (&from, node) in &mut self.nodes {
                batch.extend(drain(node).into_iter().map(|(to, m)| (from, to, m)));
            }
            if batch.is_empty() {
                return sent;
            }
            for (from, to, message) in batch {
                sent.push((from, to, message.clone()));
                if self.cut.contains(&from) || self.cut.contains(&to) {
                    continue;
                }
                if let Some(node) = self.nodes.get_mut(&to) {
                    node.handle(now_ms, from, message);
                }
            }
        }
    }

    fn events(&mut self) -> BTreeMap<NodeId, Vec<QuorumEvent>> {
        self.nodes.iter_mut().map(|(&id, n)| (id, n.take_events())).filter(|(_, e)| !e.is_empty()).collect()
    }

    /// Node `id` stands for election at its timeout and everyone talks until quiet.
    fn elect(&mut self, id: NodeId) -> u64 {
        let now = self.node(id).next_deadline_ms().expect("an election timer");
        self.node(id).tick(now);
        self.deliver_all(now);
        assert_eq!(self.node(id).role(), Role::Leader);
        self.events();
        now
    }
}

// ---- Elections --------------------------------------------------------------------------------------

/// KIP-595 "Vote": timeout, candidacy, a majority, BeginQuorumEpoch, then followers fetch.
#[test]
fn three_voters_elect_exactly_one_leader() {
    let mut n1 = start(1);
    let mut n2 = start(2);
    let deadline = n1.next_deadline_ms().expect("election timer");
    assert!((1_000..2_000).contains(&deadline), "randomized in [t, 2t): {deadline}");
    assert_eq!((n1.role(), n1.epoch(), n1.is_voter()), (Role::Unattached, 0, true));

    n1.tick(deadline - 1);
    assert!(drain(&mut n1).is_empty() && n1.take_events().is_empty(), "not due yet");
    n1.tick(deadline);
    assert_eq!(
        n1.take_events(),
        [QuorumEvent::ElectionTimeout { epoch: 0 }, QuorumEvent::BecameCandidate { epoch: 1 }]
    );
    assert_eq!(drain(&mut n1), [(2, vote(1, 1, 0, 0)), (3, vote(1, 1, 0, 0))]);
    assert_eq!((n1.role(), n1.epoch(), n1.voted_for()), (Role::Candidate, 1, Some(1)));

    n2.handle(deadline, 1, vote(1, 1, 0, 0));
    assert_eq!(
        n2.take_events(),
        [QuorumEvent::BecameUnattached { epoch: 1 }, QuorumEvent::VoteGranted { to: 1, epoch: 1 }]
    );
    let granted = QuorumMessage::VoteResponse { epoch: 1, vote_granted: true, leader_id: None };
    assert_eq!(drain(&mut n2), [(1, granted.clone())]);
    assert_eq!((n2.role(), n2.voted_for()), (Role::Voted, Some(1)));

    // Two votes of three: n1 leads epoch 1, writes its LeaderChange entry and says so.
    n1.handle(deadline + 1, 2, granted.clone());
    assert_eq!(n1.take_events(), [QuorumEvent::BecameLeader { epoch: 1 }]);
    let begin = QuorumMessage::BeginQuorumEpoch { epoch: 1, leader_id: 1 };
    assert_eq!(drain(&mut n1), [(2, begin.clone()), (3, begin.clone())]);
    assert_eq!(n1.log(), [leader_change(0, 1, 1)]);
    assert_eq!((n1.leader_id(), n1.high_watermark()), (Some(1), 0), "not committed yet");
    assert_eq!(n1.append(deadline + 1, vec!["a"]), Ok(1));

    // A late duplicate vote changes nothing.
    n1.handle(deadline + 2, 2, granted);
    assert!(drain(&mut n1).is_empty() && n1.take_events().is_empty());

    n2.handle(deadline + 2, 1, begin);
    assert_eq!(n2.take_events(), [QuorumEvent::BecameFollower { epoch: 1, leader_id: 1 }]);
    assert_eq!(drain(&mut n2), [(1, fetch(1, 2, 0, 0, 0)), (1, QuorumMessage::BeginQuorumEpochResponse { epoch: 1 })]);
    assert_eq!((n2.role(), n2.leader_id(), n2.next_deadline_ms()), (Role::Follower, Some(1), Some(deadline + 602)));
    assert_eq!(n2.append(0, vec!["b"]), Err(NotLeader { epoch: 1, leader_id: Some(1) }));
}

/// KIP-595 "Vote": a voter grants only to a candidate whose log is at least as up to date as its
/// own, comparing the last epoch first, then the log end offset.
#[test]
fn a_candidate_with_a_shorter_log_is_refused() {
    let durable = |log: Vec<Entry<&'static str>>| DurableState { epoch: 1, voted_for: Some(1), log };
    let long = durable(vec![leader_change(0, 1, 1), record(1, 1, "a")]);
    let mut n3 = QuorumNode::new(3, config(&VOTERS), long, 0, 3);
    assert_eq!((n3.role(), n3.voted_for()), (Role::Voted, Some(1)));

    n3.handle(10, 2, vote(2, 2, 1, 1));
    assert_eq!(
        n3.take_events(),
        [
            QuorumEvent::BecameUnattached { epoch: 2 },
            QuorumEvent::VoteRejected { to: 2, epoch: 2, reason: VoteRejectReason::LogBehind }
        ]
    );
    assert_eq!(drain(&mut n3), [(2, QuorumMessage::VoteResponse { epoch: 2, vote_granted: false, leader_id: None })]);
    assert_eq!((n3.role(), n3.voted_for()), (Role::Unattached, None), "a refusal is not a vote");

    // A later epoch in the last entry beats a longer log.
    n3.handle(20, 1, vote(3, 1, 2, 1));
    assert_eq!(
        n3.take_events(),
        [QuorumEvent::BecameUnattached { epoch: 3 }, QuorumEvent::VoteGranted { to: 1, epoch: 3 }]
    );

    // The candidate side: refused by both others, it backs off, then stands again in epoch + 1.
    let mut n2 = QuorumNode::new(2, config(&VOTERS), durable(vec![leader_change(0, 1, 1)]), 0, 2);
    n2.tick(n2.next_deadline_ms().expect("timer"));
    n2.take_events();
    drain(&mut n2);
    let refused = QuorumMessage::VoteResponse { epoch: 2, vote_granted: false, leader_id: None };
    n2.handle(1_900, 1, refused.clone());
    assert!(n2.take_events().is_empty(), "one refusal of two does not decide");
    n2.handle(1_901, 3, refused);
    let events = n2.take_events();
    let [QuorumEvent::ElectionBackoff { epoch: 2, backoff_ms }] = events[..] else { panic!("{events:?}") };
    assert!(backoff_ms < 1_000);
    assert_eq!(n2.next_deadline_ms(), Some(1_901 + backoff_ms));
    n2.tick(1_901 + backoff_ms);
    assert_eq!(n2.take_events(), [QuorumEvent::BecameCandidate { epoch: 3 }]);
    assert_eq!(drain(&mut n2), [(1, vote(3, 2, 1, 1)), (3, vote(3, 2, 1, 1))]);
}

/// KIP-595 "Vote": one vote per epoch, kept in the quorum-state file across a restart.
#[test]
fn one_vote_per_epoch_even_across_a_restart() {
    let mut n3 = start(3);
    n3.handle(5, 1, vote(1, 1, 0, 0));
    n3.handle(6, 2, vote(1, 2, 0, 0));
    n3.handle(7, 1, vote(1, 1, 0, 0));
    assert_eq!(
        n3.take_events(),
        [
            QuorumEvent::BecameUnattached { epoch: 1 },
            QuorumEvent::VoteGranted { to: 1, epoch: 1 },
            QuorumEvent::VoteRejected { to: 2, epoch: 1, reason: VoteRejectReason::AlreadyVoted { voted_for: 1 } },
            QuorumEvent::VoteGranted { to: 1, epoch: 1 },
        ]
    );
    let answers: Vec<bool> = drain(&mut n3)
        .into_iter()
        .map(|(_, m)| matches!(m, QuorumMessage::VoteResponse { vote_granted: true, .. }))
        .collect();
    assert_eq!(answers, [true, false, true], "the duplicate request gets the same answer");

    let durable = n3.durable_state();
    assert_eq!(durable, DurableState { epoch: 1, voted_for: Some(1), log: vec![] });
    let mut restarted = QuorumNode::new(3, config(&VOTERS), durable, 100, 99);
    restarted.handle(101, 2, vote(1, 2, 0, 0));
    assert_eq!(
        restarted.take_events(),
        [QuorumEvent::VoteRejected { to: 2, epoch: 1, reason: VoteRejectReason::AlreadyVoted { voted_for: 1 } }]
    );
    // A stale candidate is told the newer epoch.
    restarted.handle(102, 2, vote(0, 2, 0, 0));
    assert_eq!(
        restarted.take_events(),
        [QuorumEvent::VoteRejected { to: 2, epoch: 0, reason: VoteRejectReason::StaleEpoch }]
    );
    assert_eq!(
        drain(&mut restarted).last(),
        Some(&(2, QuorumMessage::VoteResponse { epoch: 1, vote_granted: false, leader_id: None }))
    );
}

/// Once a voter knows the epoch's leader it refuses every vote in that epoch; observers never vote.
#[test]
fn no_vote_while_the_leader_is_known_and_none_from_an_observer() {
    let mut net = Net::new(&VOTERS);
    net.elect(1);
    net.node(2).handle(3_000, 3, vote(1, 3, 1, 1));
    assert_eq!(
        net.node(2).take_events(),
        [QuorumEvent::VoteRejected { to: 3, epoch: 1, reason: VoteRejectReason::LeaderKnown { leader_id: 1 } }]
    );
    assert_eq!(
        drain(net.node(2)),
        [(3, QuorumMessage::VoteResponse { epoch: 1, vote_granted: false, leader_id: Some(1) })]
    );
    let mut observer = start(9);
    drain(&mut observer);
    observer.handle(0, 2, vote(1, 2, 0, 0));
    assert_eq!(
        observer.take_events(),
        [
            QuorumEvent::BecameUnattached { epoch: 1 },
            QuorumEvent::VoteRejected { to: 2, epoch: 1, reason: VoteRejectReason::NotAVoter }
        ]
    );
}

#[test]
fn a_single_voter_leads_at_once_and_commits_alone() {
    let mut node: Node = QuorumNode::new(1, config(&[1]), DurableState::default(), 0, 1);
    assert_eq!(
        node.take_events(),
        [
            QuorumEvent::BecameCandidate { epoch: 1 },
            QuorumEvent::BecameLeader { epoch: 1 },
            QuorumEvent::HighWatermark { high_watermark: 1 }
        ]
    );
    assert_eq!(node.append(1, vec!["a", "b"]), Ok(2));
    assert_eq!(node.high_watermark(), 3);
    assert_eq!(node.take_committed(), [leader_change_of(0, 1, 1, &[1]), record(1, 1, "a"), record(2, 1, "b")]);
    assert!(node.take_committed().is_empty(), "each entry once");
    assert_eq!(node.next_deadline_ms(), None, "nothing to wait for");
}

/// The same seed draws the same timeouts (on every target); another seed, others.
#[test]
fn election_timeouts_come_from_the_seed() {
    let deadline = |seed| {
        let node: Node = QuorumNode::new(1, config(&VOTERS), DurableState::default(), 0, seed);
        node.next_deadline_ms()
    };
    assert_eq!(deadline(42), deadline(42));
    let drawn: BTreeSet<Option<u64>> = (0..20).map(deadline).collect();
    assert!(drawn.len() > 15, "{drawn:?}");
    assert!(drawn.iter().all(|d| d.is_some_and(|d| (1_000..2_000).contains(&d))));
}

// ---- Replication ----------------------------------------------------------------------------------

/// KIP-595 "Fetch": followers pull; the leader's high watermark is what a majority holds, once
/// past the start of its epoch; followers learn it from the next response.
#[test]
fn followers_fetch_and_the_high_watermark_follows_a_majority() {
    let mut net = Net::new(&VOTERS);
    let now = net.elect(1);
    // Both followers fetched the LeaderChange entry and fetched again: committed, and the two
    // last Fetches are parked at the leader.
    assert_eq!(net.node(1).high_watermark(), 1);
    assert_eq!(net.node(1).take_committed(), [leader_change(0, 1, 1)]);
    assert_eq!((net.node(2).high_watermark(), net.node(3).high_watermark()), (1, 1));

    // n3 goes quiet; n1 and n2 are a majority on their own.
    net.cut.insert(3);
    assert_eq!(net.node(1).append(now, vec!["a", "b"]), Ok(2));
    assert_eq!(net.node(1).high_watermark(), 1, "only the leader has them");
    let sent = net.deliver_all(now);
    let expected: Vec<(NodeId, NodeId, Message)> = vec![
        // Both parked Fetches are answered on append (n3's answer is lost).
        (1, 2, fetched(1, 1, 2, 1, vec![record(1, 1, "a"), record(2, 1, "b")])),
        (1, 3, fetched(1, 1, 2, 1, vec![record(1, 1, "a"), record(2, 1, "b")])),
        (2, 1, fetch(1, 2, 3, 3, 1)),
        // n2's Fetch from 3 moves the high watermark: answered at once so n2 learns it.
        (1, 2, fetched(1, 1, 3, 3, vec![])),
        (2, 1, fetch(1, 2, 4, 3, 1)),
    ];
    assert_eq!(sent, expected);
    assert_eq!(
        net.events(),
        BTreeMap::from([
            (1, vec![QuorumEvent::HighWatermark { high_watermark: 3 }]),
            (2, vec![QuorumEvent::HighWatermark { high_watermark: 3 }]),
        ])
    );
    assert_eq!(net.node(2).take_committed(), [leader_change(0, 1, 1), record(1, 1, "a"), record(2, 1, "b")]);
    assert_eq!(net.node(3).log().len(), 1);
    let states = net.node(1).replica_states();
    let offsets: Vec<(NodeId, i64, bool)> =
        states.iter().map(|s| (s.replica_id, s.log_end_offset, s.is_voter)).collect();
    assert_eq!(offsets, [(1, 3, true), (2, 3, true), (3, 1, true)]);
    assert_eq!(states[1].last_fetch_ms, Some(now));
}

/// KIP-595 "Fetch": a Fetch that finds nothing new is parked up to fetch_max_wait_ms, answered
/// early by an append, or empty when the wait is over.
#[test]
fn a_parked_fetch_is_answered_on_append_or_after_the_wait() {
    let mut net = Net::new(&VOTERS);
    let now = net.elect(1);
    let leader = net.node(1);
    assert_eq!(leader.next_deadline_ms(), Some(now + 500), "two parked Fetches");
    leader.tick(now + 499);
    assert!(drain(leader).is_empty());
    leader.tick(now + 500);
    assert_eq!(drain(leader), [(2, fetched(1, 1, 2, 1, vec![])), (3, fetched(1, 1, 2, 1, vec![]))]);

    leader.handle(now + 510, 2, fetch(1, 2, 3, 1, 1));
    assert!(drain(leader).is_empty(), "parked again");
    assert_eq!(leader.append(now + 600, vec!["x"]), Ok(1));
    assert_eq!(drain(leader), [(2, fetched(1, 1, 3, 1, vec![record(1, 1, "x")]))]);
    assert_eq!(leader.append(now + 600, vec![]), Ok(1), "an empty append changes nothing and names the last offset");
}

/// KIP-595 "Fetch": the leader answers at most fetch_max_entries at a time.
#[test]
fn a_fetch_gets_at_most_fetch_max_entries() {
    let config = QuorumConfig { fetch_max_entries: 2, ..config(&[1, 2]) };
    let mut leader: Node = QuorumNode::new(1, config.clone(), DurableState::default(), 0, 1);
    leader.tick(leader.next_deadline_ms().expect("timer"));
    leader.handle(2_000, 2, QuorumMessage::VoteResponse { epoch: 1, vote_granted: true, leader_id: None });
    assert_eq!(leader.role(), Role::Leader);
    leader.append(2_000, vec!["a", "b", "c"]).expect("leader");
    drain(&mut leader);
    leader.handle(2_001, 2, fetch(1, 2, 0, 0, 0));
    let first_two = vec![leader_change_of(0, 1, 1, &[1, 2]), record(1, 1, "a")];
    assert_eq!(drain(&mut leader), [(2, fetched(1, 1, 0, 0, first_two))]);
}

/// KIP-595 "Fetch" and KIP-101: a leader of epoch 1 with entries no one else got is cut off; the
/// others elect a leader for epoch 2 and move on. When the old leader comes back it learns the
/// new epoch, is told where its log diverges, truncates, and fetches the new leader's entries.
#[test]
fn an_old_leader_with_uncommitted_entries_truncates_when_it_rejoins() {
    let mut net = Net::new(&VOTERS);
    let now = net.elect(1);
    net.cut.insert(1);
    assert_eq!(net.node(1).append(now, vec!["lost-1", "lost-2"]), Ok(2));
    net.deliver_all(now);

    // n2's Fetches go unanswered: after quorum.fetch.timeout.ms it stands for election, n3 votes.
    let timeout = net.node(2).next_deadline_ms().expect("timer");
    assert!(timeout <= now + 2_000);
    let mut t = now;
    while t < now + 2_000 {
        t = net.node(2).next_deadline_ms().expect("timer");
        net.node(2).tick(t);
        net.deliver_all(t);
    }
    assert_eq!(
        net.node(2).take_events(),
        [
            QuorumEvent::FetchTimeout { leader_id: 1, epoch: 1 },
            QuorumEvent::BecameCandidate { epoch: 2 },
            QuorumEvent::BecameLeader { epoch: 2 },
            QuorumEvent::HighWatermark { high_watermark: 2 },
        ]
    );
    assert_eq!(net.node(2).append(t, vec!["kept"]), Ok(2));
    net.deliver_all(t);
    assert_eq!(net.node(2).high_watermark(), 3);
    net.events();

    // n1 still thinks it leads epoch 1. It rejoins; the next BeginQuorumEpoch retry reaches it.
    assert_eq!((net.node(1).role(), net.node(1).epoch()), (Role::Leader, 1));
    net.cut.clear();
    net.node(2).handle(t + 1, 1, fetch(1, 1, 0, 3, 1));
    let sent = drain(net.node(2));
    let fenced = QuorumMessage::FetchResponse {
        epoch: 2,
        leader_id: Some(2),
        correlation_id: 0,
        high_watermark: 3,
        entries: vec![],
        diverging_epoch: None,
        error: Some(QuorumError::FencedLeaderEpoch),
    };
    assert_eq!(sent, [(1, fenced.clone())], "a Fetch of epoch 1 is fenced");
    net.node(1).handle(t + 1, 2, QuorumMessage::BeginQuorumEpoch { epoch: 2, leader_id: 2 });
    let sent = net.deliver_all(t + 1);
    let diverging = QuorumMessage::FetchResponse {
        epoch: 2,
        leader_id: Some(2),
        correlation_id: 0,
        high_watermark: 3,
        entries: vec![],
        diverging_epoch: Some((1, 1)),
        error: None,
    };
    assert_eq!(
        sent[..4],
        [
            (1, 2, fetch(2, 1, 0, 3, 1)),
            (1, 2, QuorumMessage::BeginQuorumEpochResponse { epoch: 2 }),
            (2, 1, diverging),
            (1, 2, fetch(2, 1, 1, 1, 1)),
        ]
    );
    assert_eq!(
        net.node(1).take_events(),
        [
            QuorumEvent::BecameFollower { epoch: 2, leader_id: 2 },
            QuorumEvent::Truncated { to_offset: 1 },
            QuorumEvent::HighWatermark { high_watermark: 3 },
        ]
    );
    let expected = [leader_change(0, 1, 1), leader_change(1, 2, 2), record(2, 2, "kept")];
    assert_eq!(net.node(1).log(), expected);
    assert_eq!(net.node(3).log(), expected);
    assert_eq!(fenced.epoch(), 2);
}

/// KIP-595 "Fetch": FENCED_LEADER_EPOCH for an older epoch; NOT_LEADER_OR_FOLLOWER with the
/// known leader at a follower.
#[test]
fn a_stale_fetch_is_fenced_and_a_fetch_at_a_follower_names_the_leader() {
    let mut net = Net::new(&VOTERS);
    net.elect(1);
    let error_response = |leader_id, error| QuorumMessage::FetchResponse {
        epoch: 1,
        leader_id,
        correlation_id: 5,
        high_watermark: 1,
        entries: vec![],
        diverging_epoch: None,
        error: Some(error),
    };
    net.node(1).handle(3_000, 3, fetch(0, 3, 5, 1, 1));
    assert_eq!(drain(net.node(1)), [(3, error_response(Some(1), QuorumError::FencedLeaderEpoch))]);
    net.node(2).handle(3_000, 3, fetch(1, 3, 5, 1, 1));
    assert_eq!(drain(net.node(2)), [(3, error_response(Some(1), QuorumError::NotLeader))]);
    assert_eq!(QuorumError::FencedLeaderEpoch.error_code(), ErrorCode::FencedLeaderEpoch);
    assert_eq!(QuorumError::NotLeader.error_code(), ErrorCode::NotLeaderOrFollower);
}

/// A follower waits for the answer to its own Fetch: a late or duplicated answer to an earlier
/// one is ignored, and a Fetch with no answer is sent again after fetch_max_wait_ms + slack.
#[test]
fn a_lost_fetch_is_sent_again_and_a_late_answer_is_ignored() {
    let mut n2 = start(2);
    n2.handle(0, 1, QuorumMessage::BeginQuorumEpoch { epoch: 1, leader_id: 1 });
    assert_eq!(drain(&mut n2)[0], (1, fetch(1, 2, 0, 0, 0)));
    assert_eq!(n2.next_deadline_ms(), Some(600));
    n2.tick(600);
    assert_eq!(drain(&mut n2), [(1, fetch(1, 2, 1, 0, 0))]);

    n2.handle(610, 1, fetched(1, 1, 0, 0, vec![leader_change(0, 1, 1), record(1, 1, "late")]));
    assert!(drain(&mut n2).is_empty() && n2.log().is_empty(), "answer to the Fetch given up on");
    n2.handle(611, 1, fetched(1, 1, 1, 1, vec![leader_change(0, 1, 1)]));
    assert_eq!(drain(&mut n2), [(1, fetch(1, 2, 2, 1, 1))]);
    n2.handle(612, 1, fetched(1, 1, 1, 1, vec![leader_change(0, 1, 1)]));
    assert!(drain(&mut n2).is_empty(), "a duplicate is dropped");
    assert_eq!((n2.log(), n2.high_watermark()), (&[leader_change(0, 1, 1)][..], 1));
    // Entries out of shape (a gap) are not appended.
    n2.handle(613, 1, fetched(1, 1, 2, 1, vec![record(5, 1, "gap")]));
    assert_eq!(n2.log_end_offset(), 1);
}

// ---- Failures -------------------------------------------------------------------------------------

/// KIP-595 check quorum: a leader not fetched from by a majority within quorum.fetch.timeout.ms
/// resigns and tells the voters; it stands again in the next epoch after an election timeout.
#[test]
fn a_leader_that_cannot_hear_from_a_majority_resigns() {
    let mut net = Net::new(&VOTERS);
    let now = net.elect(1);
    net.cut.insert(1);
    let leader = net.node(1);
    // The followers' last Fetches arrived at `now`.
    let mut t = now;
    while leader.role() == Role::Leader {
        t = leader.next_deadline_ms().expect("timer");
        assert!(t <= now + 2_000);
        leader.tick(t);
    }
    assert_eq!(t, now + 2_000);
    assert_eq!(leader.take_events(), [QuorumEvent::LeaderResigned { epoch: 1 }]);
    assert_eq!((leader.role(), leader.epoch(), leader.leader_id()), (Role::Resigned, 1, None));
    let end = QuorumMessage::EndQuorumEpoch { epoch: 1, leader_id: 1, preferred_successors: vec![2, 3] };
    let sent = drain(leader);
    assert_eq!(sent[sent.len() - 2..], [(2, end.clone()), (3, end.clone())]);
    assert_eq!(leader.append(t, vec!["late"]), Err(NotLeader { epoch: 1, leader_id: None }));
    let next = leader.next_deadline_ms().expect("election timer");
    leader.tick(next);
    assert_eq!(
        leader.take_events(),
        [QuorumEvent::ElectionTimeout { epoch: 1 }, QuorumEvent::BecameCandidate { epoch: 2 }]
    );

    // Had the EndQuorumEpoch arrived, the first preferred successor would have stood at once.
    net.node(2).handle(t, 1, end.clone());
    assert_eq!(net.node(2).take_events(), [QuorumEvent::BecameUnattached { epoch: 1 }]);
    assert_eq!((net.node(2).role(), net.node(2).next_deadline_ms()), (Role::Voted, Some(t)));
    net.node(3).handle(t, 1, end);
    assert_eq!(net.node(3).next_deadline_ms(), Some(t + 50));
}

/// Observers (brokers) are not sent BeginQuorumEpoch: one asks a random voter, follows the leader
/// it names, fetches, and never counts for the high watermark.
#[test]
fn an_observer_finds_and_follows_the_leader() {
    let mut net = Net::new(&VOTERS);
    let now = net.elect(1);
    let mut observer = start(9);
    assert!(!observer.is_voter());
    assert_eq!(observer.next_deadline_ms(), Some(600), "its first Fetch is out");
    let [(voter, QuorumMessage::Fetch { epoch: 0, replica_id: 9, correlation_id: 0, .. })] = drain(&mut observer)[..]
    else {
        panic!("one Fetch to a voter")
    };
    net.nodes.insert(9, observer);
    net.node(voter).handle(now, 9, fetch(0, 9, 0, 0, 0));
    net.deliver_all(now);
    let observer = net.node(9);
    assert_eq!(
        observer.take_events(),
        [QuorumEvent::BecameFollower { epoch: 1, leader_id: 1 }, QuorumEvent::HighWatermark { high_watermark: 1 }]
    );
    assert_eq!((observer.role(), observer.leader_id(), observer.log().len()), (Role::Follower, Some(1), 1));

    // With n2 and n3 cut off, the observer's fetching does not commit anything.
    net.cut.extend([2, 3]);
    net.node(1).append(now, vec!["a"]).expect("leader");
    net.deliver_all(now);
    assert_eq!((net.node(9).log_end_offset(), net.node(1).high_watermark()), (2, 1));
    let states = net.node(1).replica_states();
    assert_eq!(states.last().map(|s| (s.replica_id, s.log_end_offset, s.is_voter)), Some((9, 2, false)));
}

/// What survives a crash: epoch, vote and the whole log, committed or not. The high watermark
/// does not: a restarted node hands the log out again once the leader tells it what is committed.
#[test]
fn a_restart_keeps_the_vote_and_the_log_and_replays_committed_entries() {
    let mut net = Net::new(&VOTERS);
    let now = net.elect(1);
    net.node(1).append(now, vec!["a"]).expect("leader");
    net.deliver_all(now);
    assert_eq!(net.node(3).take_committed().len(), 2);
    let durable = net.node(3).durable_state();
    assert_eq!(
        durable,
        DurableState { epoch: 1, voted_for: Some(1), log: vec![leader_change(0, 1, 1), record(1, 1, "a")] }
    );

    let restarted = QuorumNode::new(3, config(&VOTERS), durable, now + 10, 1234);
    net.nodes.insert(3, restarted);
    let n3 = net.node(3);
    assert_eq!((n3.role(), n3.epoch(), n3.voted_for(), n3.high_watermark()), (Role::Voted, 1, Some(1), 0));
    assert!(n3.take_committed().is_empty());
    assert_eq!(n3.append(now + 10, vec!["x"]), Err(NotLeader { epoch: 1, leader_id: None }));
    // The leader's BeginQuorumEpoch was acknowledged before the crash, so n3 learns the leader
    // only when its election timer fires: it stands in epoch 2 with an up-to-date log and wins.
    let t = net.node(3).next_deadline_ms().expect("timer");
    net.node(3).tick(t);
    net.deliver_all(t);
    assert_eq!((net.node(3).role(), net.node(3).epoch()), (Role::Leader, 2));
    assert_eq!(net.node(3).take_committed().len(), 3, "the old entries, and its own LeaderChange");

    // A corrupt durable log is cut where it goes out of shape.
    let corrupt = DurableState { epoch: 0, voted_for: Some(42), log: vec![record(0, 2, "a"), record(5, 2, "b")] };
    let node: Node = QuorumNode::new(1, config(&VOTERS), corrupt, 0, 1);
    assert_eq!((node.log_end_offset(), node.epoch(), node.voted_for()), (1, 2, None));
}

/// Nothing a peer sends can make a node panic or break its log's shape.
#[test]
fn odd_messages_are_ignored_without_panicking() {
    let mut net = Net::new(&VOTERS);
    let now = net.elect(1);
    let odd: Vec<Message> = vec![
        fetch(1, 2, 0, -5, 1),
        fetch(1, 2, 0, i64::MAX, i32::MAX),
        fetch(1, 3, 0, 1, 0),
        fetch(1, 7, 0, 0, 0),
        vote(1, 3, i32::MAX, i64::MAX),
        QuorumMessage::BeginQuorumEpoch { epoch: 1, leader_id: 3 },
        QuorumMessage::EndQuorumEpoch { epoch: 1, leader_id: 2, preferred_successors: vec![] },
        fetched(1, 1, 99, i64::MAX, vec![record(-1, 9, "bad")]),
        QuorumMessage::FetchResponse {
            epoch: 1,
            leader_id: Some(1),
            correlation_id: 0,
            high_watermark: -7,
            entries: vec![],
            diverging_epoch: Some((-3, -9)),
            error: None,
        },
    ];
    for message in odd {
        for id in VOTERS {
            for from in [1, 2, 3, 7] {
                net.node(id).handle(now + 1, from, message.clone());
            }
        }
    }
    net.deliver_all(now + 1);
    // A stranger's Vote moves no one to its epoch.
    net.node(2).handle(now + 2, 7, vote(50, 7, 9, 9));
    assert_eq!(net.node(2).epoch(), 1);
    // At the last epoch there is no next one to stand in: the vote cast in it stands.
    net.node(2).handle(now + 2, 3, vote(i32::MAX, 3, 1, 1));
    assert_eq!((net.node(2).epoch(), net.node(2).voted_for()), (i32::MAX, Some(3)));
    let deadline = net.node(2).next_deadline_ms().expect("timer");
    net.node(2).tick(deadline);
    assert_eq!((net.node(2).epoch(), net.node(2).voted_for(), net.node(2).role()), (i32::MAX, Some(3), Role::Voted));
    assert_eq!(net.node(2).next_deadline_ms(), None);
    for node in net.nodes.values() {
        assert!(node.log().iter().enumerate().all(|(i, e)| e.offset == i as i64));
        assert!(node.high_watermark() <= node.log_end_offset());
    }
}

#[test]
fn the_end_offset_of_an_epoch_and_the_fetch_check() {
    let log = [leader_change(0, 1, 1), record(1, 1, "a"), leader_change(2, 3, 2), record(3, 3, "b")];
    assert_eq!(end_offset_for_epoch(&log, 0), (0, 0));
    assert_eq!(end_offset_for_epoch(&log, 1), (1, 2));
    assert_eq!(end_offset_for_epoch(&log, 2), (1, 2));
    assert_eq!(end_offset_for_epoch(&log, 3), (3, 4));
    assert_eq!(end_offset_for_epoch(&log, 9), (3, 4));
    assert_eq!(check_fetch(&log, 0, 0), FetchCheck::Valid);
    assert_eq!(check_fetch(&log, 2, 1), FetchCheck::Valid);
    assert_eq!(check_fetch(&log, 4, 3), FetchCheck::Valid);
    assert_eq!(check_fetch(&log, 3, 1), FetchCheck::Diverging { epoch: 1, end_offset: 2 });
    assert_eq!(check_fetch(&log, 5, 2), FetchCheck::Diverging { epoch: 1, end_offset: 2 });
    assert_eq!(check_fetch(&log, 5, 3), FetchCheck::Diverging { epoch: 3, end_offset: 4 });
    assert_eq!(check_fetch(&log, -1, 0), FetchCheck::Diverging { epoch: 0, end_offset: 0 });
}

// ---- Simulation ------------------------------------------------------------------------------------
//
// TigerBeetle's VOPR in miniature: a seeded network that delays (1-20 ms), drops, duplicates and
// reorders messages, crashes nodes and restarts them from what they persisted, and partitions
// them; Raft's safety properties are checked after every step.

/// Seeds run by `a_lossy_crashing_partitioned_cluster_stays_safe`.
const SIM_SEEDS: u64 = 300;
/// Simulated time per seed: chaos, then calm to see the cluster settle.
const SIM_CHAOS_MS: u64 = 3_000;
const SIM_CALM_MS: u64 = 4_000;
const OBSERVER: NodeId = 9;

type SimNode = QuorumNode<u32>;

/// What one seed's run saw, for the aggregate checks.
#[derive(Debug, Default)]
struct SimStats {
    elections_won: usize,
    committed_records: usize,
    leader_at_end: bool,
}

struct Sim {
    rng: ChaCha8Rng,
    now_ms: u64,
    config: QuorumConfig,
    ids: Vec<NodeId>,
    running: BTreeMap<NodeId, SimNode>,
    disks: BTreeMap<NodeId, DurableState<u32>>,
    /// Messages in flight, by delivery time, then send order.
    network: BTreeMap<(u64, u64), (NodeId, NodeId, QuorumMessage<u32>)>,
    sent: u64,
    /// Nodes talk only within their group.
    groups: BTreeMap<NodeId, u64>,
    next_record: u32,
    elections_won: usize,
    chaos: bool,
    next_chaos_ms: u64,
    /// Checker state: the leader seen for each epoch, and each committed entry with the epoch of
    /// the node that first reported it committed.
    leaders: BTreeMap<i32, NodeId>,
    committed: BTreeMap<i64, (Entry<u32>, i32)>,
    watches: BTreeMap<NodeId, Watch>,
}

/// How far the checker got with one node, so that each step checks only what changed. A node's
/// log changes only at its end (appends) or by a truncation, which the node reports as an event.
#[derive(Debug, Default, Clone, Copy)]
struct Watch {
    /// The log below this offset was checked against the committed entries (and is committed).
    verified_len: i64,
    /// The epoch in which this node's log was last checked in full as a leader's.
    leader_checked_epoch: Option<i32>,
    /// The (epoch, high watermark) at which a follower was last compared with its leader.
    matched: Option<(i32, i64)>,
    /// What was persisted last: (epoch, vote, log end offset, last epoch).
    persisted: Option<(i32, Option<NodeId>, i64, i32)>,
}

impl Sim {
    fn new(seed: u64) -> Self {
        let voters: Vec<NodeId> = if seed.is_multiple_of(2) { vec![1, 2, 3] } else { vec![1, 2, 3, 4, 5] };
        let config = QuorumConfig { voters: voters.clone(), ..QuorumConfig::default() };
        let mut ids = voters;
        ids.push(OBSERVER);
        let mut sim = Sim {
            rng: ChaCha8Rng::seed_from_u64(seed),
            now_ms: 0,
            config,
            running: BTreeMap::new(),
            disks: ids.iter().map(|&id| (id, DurableState::default())).collect(),
            groups: ids.iter().map(|&id| (id, 0)).collect(),
            ids,
            network: BTreeMap::new(),
            sent: 0,
            next_record: 0,
            elections_won: 0,
            chaos: true,
            next_chaos_ms: 0,
            leaders: BTreeMap::new(),
            committed: BTreeMap::new(),
            watches: BTreeMap::new(),
        };
        for id in sim.ids.clone() {
            sim.boot(id);
        }
        sim
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.rng.next_u64() % bound.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn boot(&mut self, id: NodeId) {
        let durable = self.disks.get(&id).cloned().unwrap_or_default();
        let seed = self.rng.next_u64();
        let node = QuorumNode::new(id, self.config.clone(), durable, self.now_ms, seed);
        self.running.insert(id, node);
        self.watches.insert(id, Watch::default());
        self.settle(id);
    }

    /// After any call on node `id`: persist, then put its messages on the wire.
    fn settle(&mut self, id: NodeId) {
        let Some(node) = self.running.get_mut(&id) else { return };
        let events = node.take_events();
        let watch = self.watches.entry(id).or_default();
        for event in &events {
            if let QuorumEvent::Truncated { to_offset } = *event {
                watch.verified_len = watch.verified_len.min(to_offset);
                watch.matched = None;
                watch.persisted = None;
            }
        }
        // Persist before anything is sent; only appends and truncations change the log.
        let fingerprint = Some((node.epoch(), node.voted_for(), node.log_end_offset(), node.last_epoch()));
        if watch.persisted != fingerprint {
            watch.persisted = fingerprint;
            self.disks.insert(id, node.durable_state());
        }
        let outputs: Vec<(NodeId, QuorumMessage<u32>)> = std::iter::from_fn(|| node.poll_output()).collect();
        node.take_committed();
        self.elections_won += events.iter().filter(|e| matches!(e, QuorumEvent::BecameLeader { .. })).count();
        if std::env::var("QUORUM_SIM_TRACE").is_ok() {
            for event in &events {
                eprintln!("{:>5} ms  node {id}  {event:?}", self.now_ms);
            }
        }
        for (to, message) in outputs {
            let (drop_percent, duplicate_percent) = if self.chaos { (5, 3) } else { (1, 1) };
            if self.chance(drop_percent) {
                continue;
            }
            let copies = if self.chance(duplicate_percent) { 2 } else { 1 };
            for _ in 0..copies {
                let at_ms = self.now_ms + 1 + self.below(20);
                self.sent += 1;
                self.network.insert((at_ms, self.sent), (id, to, message.clone()));
            }
        }
    }

    fn run(&mut self, seed: u64) -> SimStats {
        let mut stats = SimStats::default();
        let mut steps = 0_u32;
        let end_ms = SIM_CHAOS_MS + SIM_CALM_MS;
        loop {
            steps += 1;
            assert!(steps < 200_000, "seed {seed}: livelock at {} ms", self.now_ms);
            if self.chaos && self.now_ms >= SIM_CHAOS_MS {
                self.calm();
            }
            let next_message_ms = self.network.first_key_value().map(|(&(at, _), _)| at);
            let next_timer_ms = self.running.values().filter_map(|n| n.next_deadline_ms()).min();
            let next_chaos_ms = Some(self.next_chaos_ms);
            let Some(next_ms) = [next_message_ms, next_timer_ms, next_chaos_ms].into_iter().flatten().min() else {
                break;
            };
            if next_ms > end_ms {
                break;
            }
            self.now_ms = self.now_ms.max(next_ms);
            if next_message_ms == Some(next_ms) {
                let Some((_, (from, to, message))) = self.network.pop_first() else { break };
                if self.groups.get(&from) == self.groups.get(&to)
                    && let Some(node) = self.running.get_mut(&to)
                {
                    node.handle(self.now_ms, from, message);
                    self.settle(to);
                }
            } else if next_timer_ms == Some(next_ms) {
                let due: Vec<NodeId> = self
                    .running
                    .iter()
                    .filter(|(_, n)| n.next_deadline_ms().is_some_and(|d| d <= self.now_ms))
                    .map(|(&id, _)| id)
                    .collect();
                for id in due {
                    if let Some(node) = self.running.get_mut(&id) {
                        node.tick(self.now_ms);
                    }
                    self.settle(id);
                }
            } else {
                self.chaos_step(seed);
            }
            self.check(seed);
        }
        stats.committed_records =
            self.committed.values().filter(|(entry, _)| matches!(entry.payload, EntryPayload::Record(_))).count();
        stats.leader_at_end = self.running.values().any(|n| n.role() == Role::Leader);
        stats.elections_won = self.elections_won;
        stats
    }

    fn leader_ids(&self) -> Vec<NodeId> {
        self.running.iter().filter(|(_, n)| n.role() == Role::Leader).map(|(&id, _)| id).collect()
    }

    fn chaos_step(&mut self, seed: u64) {
        let roll = self.below(100);
        let crashed: Vec<NodeId> = self.ids.iter().copied().filter(|id| !self.running.contains_key(id)).collect();
        if !self.chaos || roll < 50 {
            // Clients write through whichever node thinks it leads.
            for id in self.leader_ids() {
                let count = 1 + self.below(3);
                let records: Vec<u32> = (0..count).map(|i| self.next_record + i as u32).collect();
                self.next_record += 4;
                if let Some(node) = self.running.get_mut(&id) {
                    assert!(node.append(self.now_ms, records).is_ok(), "seed {seed}: a leader refused an append");
                }
                self.settle(id);
            }
        } else if roll < 62 && crashed.len() < 2 {
            // Half the time the leader, so that leadership moves often.
            let leaders = self.leader_ids();
            let running: Vec<NodeId> = self.running.keys().copied().collect();
            let pool = if !leaders.is_empty() && self.chance(50) { leaders } else { running };
            let victim = pool[self.below(pool.len() as u64) as usize];
            self.running.remove(&victim);
        } else if roll < 77 && !crashed.is_empty() {
            let back = crashed[self.below(crashed.len() as u64) as usize];
            self.boot(back);
        } else if roll < 87 {
            // Cut off the leader alone, or split the nodes at random.
            let leaders = self.leader_ids();
            let isolate_leader = !leaders.is_empty() && self.chance(50);
            for id in self.ids.clone() {
                let group = if isolate_leader { u64::from(leaders.contains(&id)) } else { self.below(2) };
                self.groups.insert(id, group);
            }
        } else {
            self.groups.values_mut().for_each(|g| *g = 0);
        }
        self.next_chaos_ms = self.now_ms + 20 + self.below(180);
    }

    /// The end of the chaos: heal the partitions, restart the crashed, keep writing.
    fn calm(&mut self) {
        self.chaos = false;
        self.groups.values_mut().for_each(|g| *g = 0);
        for id in self.ids.clone() {
            if !self.running.contains_key(&id) {
                self.boot(id);
            }
        }
    }

    fn check(&mut self, seed: u64) {
        let mut newly_committed = Vec::new();
        for (&id, node) in &self.running {
            let watch = self.watches.entry(id).or_default();
            let hw = node.high_watermark();
            assert!(hw <= node.log_end_offset(), "seed {seed}: node {id} high watermark past its log end");
            // Election Safety: at most one leader per epoch.
            if node.role() == Role::Leader {
                let first = *self.leaders.entry(node.epoch()).or_insert(id);
                assert_eq!(first, id, "seed {seed}: two leaders in epoch {}", node.epoch());
            }
            let unchecked = usize::try_from(watch.verified_len).unwrap_or(0);
            for (index, entry) in node.log().iter().enumerate().skip(unchecked) {
                assert_eq!(entry.offset, index as i64, "seed {seed}: node {id} log out of shape");
                if entry.offset >= hw {
                    continue;
                }
                // A committed entry never changes.
                match self.committed.get(&entry.offset) {
                    Some((known, _)) => {
                        assert_eq!(known, entry, "seed {seed}: node {id} changed committed offset {}", entry.offset)
                    }
                    None => {
                        self.committed.insert(entry.offset, (entry.clone(), node.epoch()));
                        newly_committed.push(entry.offset);
                    }
                }
            }
            watch.verified_len = watch.verified_len.max(hw);
        }
        for (&id, node) in &self.running {
            let Some(watch) = self.watches.get_mut(&id) else { continue };
            // Leader Completeness: a leader of an epoch at or after the one a commit was seen in
            // holds the entry. A leader only appends, so each entry needs checking once.
            if node.role() == Role::Leader {
                let offsets: Vec<i64> = if watch.leader_checked_epoch == Some(node.epoch()) {
                    newly_committed.clone()
                } else {
                    self.committed.keys().copied().collect()
                };
                watch.leader_checked_epoch = Some(node.epoch());
                for offset in offsets {
                    let Some((entry, seen_in_epoch)) = self.committed.get(&offset) else { continue };
                    if node.epoch() >= *seen_in_epoch {
                        let held = node.log().get(offset as usize);
                        assert_eq!(held, Some(entry), "seed {seed}: leader {id} lost committed offset {offset}");
                    }
                }
            }
            // Log Matching: a follower agrees with its current leader up to its high watermark.
            let leader = node.leader_id().and_then(|l| self.running.get(&l));
            if let Some(leader) = leader.filter(|l| node.role() == Role::Follower && l.role() == Role::Leader) {
                let key = Some((node.epoch(), node.high_watermark()));
                if leader.epoch() == node.epoch() && watch.matched != key {
                    watch.matched = key;
                    let hw = usize::try_from(node.high_watermark()).unwrap_or(0);
                    assert_eq!(
                        node.log().get(..hw),
                        leader.log().get(..hw),
                        "seed {seed}: follower {id} differs from its leader below its high watermark"
                    );
                }
            }
        }
    }
}

/// Safety under a hostile network, over many seeds; a failure names its seed (set
/// `QUORUM_SIM_SEED` to rerun just that one).
#[test]
fn a_lossy_crashing_partitioned_cluster_stays_safe() {
    let seeds: Vec<u64> = match std::env::var("QUORUM_SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => (0..SIM_SEEDS).collect(),
    };
    let mut all = Vec::new();
    for &seed in &seeds {
        let outcome = std::panic::catch_unwind(|| Sim::new(seed).run(seed));
        match outcome {
            Ok(stats) => {
                if !stats.leader_at_end {
                    eprintln!("seed {seed}: no leader at the end: {stats:?}");
                }
                all.push(stats)
            }
            Err(_) => panic!("quorum simulation failed for seed {seed}: rerun with QUORUM_SIM_SEED={seed}"),
        }
    }
    // Not vacuous: leaders were elected and records committed, and most runs settled.
    let settled = all.iter().filter(|s| s.leader_at_end).count();
    let committed: usize = all.iter().map(|s| s.committed_records).sum();
    let elections: usize = all.iter().map(|s| s.elections_won).sum();
    eprintln!("{} seeds: {elections} elections won, {committed} records committed, {settled} settled", all.len());
    assert!(settled * 10 >= all.len() * 9, "only {settled} of {} runs ended with a leader", all.len());
    assert!(committed >= all.len() * 10, "only {committed} records committed");
}
