//! The group protocol, step by step: exact replies for given requests.

use super::*;

const SESSION_MS: i32 = 10_000;
const REBALANCE_MS: i32 = 30_000;

fn join(member_id: &str, client: &str) -> JoinGroup {
    JoinGroup {
        group_id: "shop".into(),
        member_id: member_id.into(),
        group_instance_id: None,
        client_id: client.into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: REBALANCE_MS,
        protocol_type: "consumer".into(),
        protocols: vec![("range".into(), vec![1]), ("roundrobin".into(), vec![2])],
        require_known_member_id: true,
        supports_skip_assignment: true,
    }
}

fn sync(member_id: &str, generation_id: i32, assignments: &[(&str, &[u8])]) -> SyncGroup {
    SyncGroup {
        group_id: "shop".into(),
        generation_id,
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: Some("consumer".into()),
        protocol_name: Some("range".into()),
        assignments: assignments.iter().map(|(m, a)| ((*m).to_owned(), a.to_vec())).collect(),
    }
}

fn join_result(replies: &[Reply], request: RequestId) -> &JoinResult {
    replies
        .iter()
        .find_map(|r| match r {
            Reply::Join(id, result) if *id == request => Some(result),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no join reply for {request} in {replies:?}"))
}

fn sync_result(replies: &[Reply], request: RequestId) -> &SyncResult {
    replies
        .iter()
        .find_map(|r| match r {
            Reply::Sync(id, result) if *id == request => Some(result),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no sync reply for {request} in {replies:?}"))
}

/// A member's two-step join (KIP-394) and its sync as the only member; returns its id.
fn lone_member(coordinator: &mut GroupCoordinator, now: i64) -> String {
    let replies = coordinator.join_group(now, 1, join("", "app"));
    let first = join_result(&replies, 1);
    assert_eq!(first.error, ErrorCode::MemberIdRequired);
    let member_id = first.member_id.clone();
    let replies = coordinator.join_group(now, 2, join(&member_id, "app"));
    let joined = join_result(&replies, 2);
    assert_eq!((joined.error, joined.generation_id), (ErrorCode::None, 1));
    assert_eq!(joined.leader_id, member_id);
    assert_eq!(joined.protocol_name.as_deref(), Some("range"));
    assert_eq!(joined.members, vec![(member_id.clone(), None, vec![1])]);
    let replies = coordinator.sync_group(now, 3, sync(&member_id, 1, &[(&member_id, b"p0,p1")]));
    assert_eq!(sync_result(&replies, 3).assignment, b"p0,p1");
    member_id
}

#[test]
fn a_lone_member_joins_syncs_and_heartbeats() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let member = lone_member(&mut coordinator, 0);
    assert!(member.starts_with("app-"));
    let group = coordinator.group("shop").expect("group");
    assert_eq!(group.state, GroupState::Stable);
    assert_eq!(coordinator.heartbeat(1_000, "shop", 1, &member, None), ErrorCode::None);
    assert_eq!(coordinator.heartbeat(1_000, "shop", 0, &member, None), ErrorCode::IllegalGeneration);
    assert_eq!(coordinator.heartbeat(1_000, "shop", 1, "stranger", None), ErrorCode::UnknownMemberId);
    assert_eq!(coordinator.heartbeat(1_000, "other", 1, &member, None), ErrorCode::UnknownMemberId);
}

#[test]
fn a_second_member_triggers_a_rebalance_that_splits_the_work() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    let b = join_result(&coordinator.join_group(10, 10, join("", "app")), 10).member_id.clone();
    // B's join parks; the group is rebalancing and tells A so on its heartbeat.
    assert!(coordinator.join_group(10, 11, join(&b, "app")).is_empty());
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::PreparingRebalance));
    assert_eq!(coordinator.heartbeat(20, "shop", 1, &a, None), ErrorCode::RebalanceInProgress);
    // A rejoins: everyone has, so both joins are answered with generation 2; only A (the leader) gets the members.
    let replies = coordinator.join_group(30, 12, join(&a, "app"));
    let (to_a, to_b) = (join_result(&replies, 12), join_result(&replies, 11));
    assert_eq!((to_a.generation_id, to_b.generation_id), (2, 2));
    assert_eq!((to_a.leader_id.as_str(), to_b.leader_id.as_str()), (a.as_str(), a.as_str()));
    assert_eq!(to_a.members.len(), 2);
    assert!(to_b.members.is_empty());
    // B's sync waits for the leader's; the leader's completes both.
    assert!(coordinator.sync_group(40, 13, sync(&b, 2, &[])).is_empty());
    let replies = coordinator.sync_group(41, 14, sync(&a, 2, &[(&a, b"p0"), (&b, b"p1")]));
    assert_eq!(sync_result(&replies, 14).assignment, b"p0");
    assert_eq!(sync_result(&replies, 13).assignment, b"p1");
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::Stable));
    let events = coordinator.drain_events();
    assert!(events.contains(&GroupEvent::RebalanceCompleted { group_id: "shop".into(), generation_id: 2, members: 2 }));
}

#[test]
fn heartbeats_check_the_generation_first_and_are_fine_while_the_assignment_is_out() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    // A refused heartbeat (an old generation) keeps nothing alive.
    assert_eq!(coordinator.heartbeat(5, "shop", 0, &a, None), ErrorCode::IllegalGeneration);
    assert_eq!(coordinator.next_deadline_ms(), Some(i64::from(SESSION_MS)));
    let b = join_result(&coordinator.join_group(10, 10, join("", "app")), 10).member_id.clone();
    assert!(coordinator.join_group(10, 11, join(&b, "app")).is_empty());
    // PreparingRebalance: the current generation is told to rejoin; an older one is not current.
    assert_eq!(coordinator.heartbeat(20, "shop", 1, &a, None), ErrorCode::RebalanceInProgress);
    assert_eq!(coordinator.heartbeat(20, "shop", 0, &a, None), ErrorCode::IllegalGeneration);
    // Both joined: while the leader computes the assignment, a member of the new generation
    // heartbeats as in Stable (Kafka's `classicGroupHeartbeatToClassicGroup`).
    coordinator.join_group(30, 12, join(&a, "app"));
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::CompletingRebalance));
    assert_eq!(coordinator.heartbeat(31, "shop", 2, &b, None), ErrorCode::None);
    assert_eq!(coordinator.heartbeat(31, "shop", 1, &b, None), ErrorCode::IllegalGeneration);
}

#[test]
fn a_member_joining_again_with_unchanged_protocols_gets_the_current_generation_without_a_rebalance() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    let b = join_result(&coordinator.join_group(10, 10, join("", "app")), 10).member_id.clone();
    coordinator.join_group(10, 11, join(&b, "app"));
    coordinator.join_group(20, 12, join(&a, "app"));
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::CompletingRebalance));
    coordinator.drain_events();

    // CompletingRebalance: B missed its JoinGroup answer and asks again; A (the leader) too.
    let again = join_result(&coordinator.join_group(21, 13, join(&b, "app")), 13).clone();
    assert_eq!((again.error, again.generation_id, again.leader_id.as_str()), (ErrorCode::None, 2, a.as_str()));
    assert!(again.members.is_empty());
    let again = join_result(&coordinator.join_group(21, 14, join(&a, "app")), 14).clone();
    assert_eq!((again.generation_id, again.members.len()), (2, 2), "the leader gets the members again");
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::CompletingRebalance));
    let replies = coordinator.sync_group(22, 15, sync(&a, 2, &[(&a, b"p0"), (&b, b"p1")]));
    assert_eq!(sync_result(&replies, 15).assignment, b"p0");

    // Stable: a follower joining with the same protocols syncs for the assignment it has.
    let again = join_result(&coordinator.join_group(30, 16, join(&b, "app")), 16).clone();
    assert_eq!((again.error, again.generation_id), (ErrorCode::None, 2));
    assert_eq!(sync_result(&coordinator.sync_group(31, 17, sync(&b, 2, &[])), 17).assignment, b"p1");
    assert!(!coordinator.drain_events().iter().any(|e| matches!(e, GroupEvent::RebalanceStarted { .. })));

    // The leader's join in Stable asks for a new assignment, and changed protocols need one too.
    assert!(coordinator.join_group(40, 18, join(&a, "app")).is_empty(), "parked: a rebalance started");
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::PreparingRebalance));
    let mut changed = join(&b, "app");
    changed.protocols = vec![("range".into(), vec![9]), ("roundrobin".into(), vec![2])];
    let replies = coordinator.join_group(41, 19, changed);
    assert_eq!(join_result(&replies, 19).generation_id, 3);
}

#[test]
fn a_silent_member_is_removed_after_its_session_timeout() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    assert_eq!(coordinator.next_deadline_ms(), Some(i64::from(SESSION_MS)));
    assert!(coordinator.tick(i64::from(SESSION_MS) - 1).is_empty());
    assert_eq!(coordinator.group("shop").map(|g| g.members.len()), Some(1));
    coordinator.tick(i64::from(SESSION_MS));
    let group = coordinator.group("shop").expect("group");
    assert_eq!((group.state, group.members.len(), group.generation_id), (GroupState::Empty, 0, 2));
    assert_eq!(
        coordinator.drain_events().last(),
        Some(&GroupEvent::MemberRemoved {
            group_id: "shop".into(),
            member_id: a,
            reason: "no heartbeat within session.timeout.ms".into()
        })
    );
}

#[test]
fn a_member_that_does_not_rejoin_is_dropped_at_the_rebalance_timeout() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    let b = join_result(&coordinator.join_group(0, 10, join("", "app")), 10).member_id.clone();
    assert!(coordinator.join_group(0, 11, join(&b, "app")).is_empty());
    // A keeps heartbeating (so its session lives) but never rejoins.
    for t in (1_000..i64::from(REBALANCE_MS)).step_by(1_000) {
        assert_eq!(coordinator.heartbeat(t, "shop", 1, &a, None), ErrorCode::RebalanceInProgress);
        assert!(coordinator.tick(t).is_empty());
    }
    let replies = coordinator.tick(i64::from(REBALANCE_MS));
    let to_b = join_result(&replies, 11);
    assert_eq!((to_b.generation_id, to_b.leader_id.as_str(), to_b.members.len()), (2, b.as_str(), 1));
    assert!(!coordinator.group("shop").expect("group").members.contains_key(&a));
}

#[test]
fn leaving_rebalances_the_rest_or_empties_the_group() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    let (results, replies) = coordinator.leave_group(5, "shop", &[(a.clone(), None), ("ghost".into(), None)]);
    assert_eq!(results, [ErrorCode::None, ErrorCode::UnknownMemberId]);
    assert!(replies.is_empty());
    let group = coordinator.group("shop").expect("group");
    assert_eq!((group.state, group.generation_id), (GroupState::Empty, 2));
}

#[test]
fn mismatched_protocols_and_bad_timeouts_are_refused() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    lone_member(&mut coordinator, 0);
    let mut other = join("", "app");
    other.require_known_member_id = false;
    other.protocols = vec![("sticky".into(), vec![])];
    assert_eq!(
        join_result(&coordinator.join_group(0, 20, other.clone()), 20).error,
        ErrorCode::InconsistentGroupProtocol
    );
    other.protocols = vec![("range".into(), vec![])];
    other.session_timeout_ms = 1_000;
    assert_eq!(join_result(&coordinator.join_group(0, 21, other), 21).error, ErrorCode::InvalidSessionTimeout);
    assert_eq!(
        join_result(&coordinator.join_group(0, 22, join("made-up", "app")), 22).error,
        ErrorCode::UnknownMemberId
    );
}

#[test]
fn commits_follow_the_generation() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    // A consumer using assign() commits with generation -1 while the group has no members.
    assert_eq!(coordinator.check_commit(0, "shop", -1, "", None), Ok(()));
    let a = lone_member(&mut coordinator, 0);
    // An admin commit (no member, no generation) on a group with members: Kafka's
    // `ClassicGroup.validateOffsetCommit` answers UNKNOWN_MEMBER_ID.
    assert_eq!(coordinator.check_commit(0, "shop", -1, "", None), Err(ErrorCode::UnknownMemberId));
    assert_eq!(coordinator.check_commit(0, "shop", 0, &a, None), Err(ErrorCode::IllegalGeneration));
    assert_eq!(coordinator.check_commit(0, "shop", 1, "ghost", None), Err(ErrorCode::UnknownMemberId));
    assert_eq!(coordinator.check_commit(0, "shop", 1, &a, None), Ok(()));
    let committed = CommittedOffset { offset: 42, leader_epoch: 0, metadata: Some("m".into()), commit_timestamp_ms: 9 };
    coordinator.store_offset("shop", "orders", 0, committed.clone());
    assert_eq!(coordinator.committed_offset("shop", "orders", 0), Some(&committed));
    assert_eq!(coordinator.delete_group("shop"), ErrorCode::NonEmptyGroup);
    assert_eq!(coordinator.delete_group("nope"), ErrorCode::GroupIdNotFound);
    coordinator.leave_group(1, "shop", &[(a, None)]);
    assert_eq!(coordinator.delete_group("shop"), ErrorCode::None);
    assert_eq!(coordinator.committed_offset("shop", "orders", 0), None);
}

#[test]
fn a_commit_naming_a_generation_of_a_group_nobody_joined_is_refused_and_creates_no_group() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    // Kafka's `OffsetMetadataManager.validateOffsetCommit`: GROUP_ID_NOT_FOUND (the driver
    // answers ILLEGAL_GENERATION below OffsetCommit v9).
    assert_eq!(coordinator.check_commit(0, "shop", 3, "app-1", None), Err(ErrorCode::GroupIdNotFound));
    assert!(coordinator.group("shop").is_none());
    // Generation -1 creates the "simple" group it commits to.
    assert_eq!(coordinator.check_commit(0, "shop", -1, "", None), Ok(()));
    assert!(coordinator.group("shop").is_some());
    // Known now, but without that member.
    assert_eq!(coordinator.check_commit(0, "shop", 3, "app-1", None), Err(ErrorCode::UnknownMemberId));
}

#[test]
fn only_an_accepted_commit_keeps_a_members_session_alive() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    let session_ms = i64::from(SESSION_MS);
    // A refused commit (an old generation) is no sign of life...
    assert_eq!(coordinator.check_commit(session_ms - 1, "shop", 0, &a, None), Err(ErrorCode::IllegalGeneration));
    assert_eq!(coordinator.next_deadline_ms(), Some(session_ms));
    // ...an accepted one is, as a heartbeat would be.
    assert_eq!(coordinator.check_commit(session_ms - 1, "shop", 1, &a, None), Ok(()));
    assert_eq!(coordinator.next_deadline_ms(), Some(2 * session_ms - 1));
}

#[test]
fn an_empty_group_waits_the_initial_delay_so_members_starting_together_share_a_generation() {
    let mut coordinator = GroupCoordinator::new(7, 500);
    let join_now = |coordinator: &mut GroupCoordinator, now, request| {
        let id = join_result(&coordinator.join_group(now, request, join("", "app")), request).member_id.clone();
        assert!(coordinator.join_group(now, request + 1, join(&id, "app")).is_empty(), "parked");
        id
    };
    let a = join_now(&mut coordinator, 0, 1);
    let b = join_now(&mut coordinator, 100, 3);
    assert_eq!(coordinator.next_deadline_ms(), Some(500));
    assert!(coordinator.tick(499).is_empty());
    let replies = coordinator.tick(500);
    let (to_a, to_b) = (join_result(&replies, 2), join_result(&replies, 4));
    assert_eq!((to_a.generation_id, to_b.generation_id), (1, 1), "one generation for both");
    assert_eq!(to_a.leader_id, a);
    assert_eq!(to_a.members.len() + to_b.members.len(), 2);
    assert_ne!(a, b);
}

#[test]
fn a_member_of_the_current_generation_may_commit_while_the_group_prepares_a_rebalance() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let a = lone_member(&mut coordinator, 0);
    let b = join_result(&coordinator.join_group(10, 10, join("", "app")), 10).member_id.clone();
    assert!(coordinator.join_group(10, 11, join(&b, "app")).is_empty());
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::PreparingRebalance));
    // A commits what it processed before its partitions are revoked (commit on revoke).
    assert_eq!(coordinator.check_commit(20, "shop", 1, &a, None), Ok(()));
    assert_eq!(coordinator.check_commit(20, "shop", 0, &a, None), Err(ErrorCode::IllegalGeneration));
    // Once both joined, the new generation's assignment is not out yet: Kafka refuses then.
    coordinator.join_group(30, 12, join(&a, "app"));
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::CompletingRebalance));
    assert_eq!(coordinator.check_commit(31, "shop", 2, &a, None), Err(ErrorCode::RebalanceInProgress));
}

fn static_join(member_id: &str, instance: &str) -> JoinGroup {
    JoinGroup { group_instance_id: Some(instance.into()), ..join(member_id, "app") }
}

/// A static member joining alone (no MEMBER_ID_REQUIRED round for static members) and syncing.
fn lone_static_member(coordinator: &mut GroupCoordinator, now: i64) -> String {
    let replies = coordinator.join_group(now, 1, static_join("", "pod-1"));
    let joined = join_result(&replies, 1);
    assert_eq!((joined.error, joined.generation_id), (ErrorCode::None, 1));
    let member_id = joined.member_id.clone();
    assert!(member_id.starts_with("pod-1-"), "Kafka names static members after their instance: {member_id}");
    let mut request = sync(&member_id, 1, &[(&member_id, b"p0")]);
    request.group_instance_id = Some("pod-1".into());
    assert_eq!(sync_result(&coordinator.sync_group(now, 2, request), 2).assignment, b"p0");
    member_id
}

#[test]
fn a_restarted_static_member_takes_its_old_place_without_a_rebalance_and_fences_the_old_one() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let old = lone_static_member(&mut coordinator, 0);
    coordinator.drain_events();

    // KIP-345: the same group.instance.id joins again with no member id.
    let replies = coordinator.join_group(1_000, 3, static_join("", "pod-1"));
    let rejoined = join_result(&replies, 3);
    let new = rejoined.member_id.clone();
    assert_ne!(new, old);
    assert_eq!(
        (rejoined.error, rejoined.generation_id, rejoined.leader_id.as_str()),
        (ErrorCode::None, 1, new.as_str())
    );
    // It was the leader: it gets the members but keeps the assignment it had (KIP-814).
    assert!(rejoined.skip_assignment);
    assert_eq!(rejoined.members, vec![(new.clone(), Some("pod-1".into()), vec![1])]);
    let group = coordinator.group("shop").expect("group");
    assert_eq!((group.state, group.generation_id, group.members.len()), (GroupState::Stable, 1, 1));
    assert!(!coordinator.drain_events().iter().any(|e| matches!(e, GroupEvent::RebalanceStarted { .. })));
    let mut request = sync(&new, 1, &[]);
    request.group_instance_id = Some("pod-1".into());
    assert_eq!(sync_result(&coordinator.sync_group(1_001, 4, request), 4).assignment, b"p0");

    // The old incarnation is fenced everywhere.
    let pod = Some("pod-1");
    assert_eq!(coordinator.heartbeat(1_002, "shop", 1, &old, pod), ErrorCode::FencedInstanceId);
    assert_eq!(coordinator.check_commit(1_002, "shop", 1, &old, pod), Err(ErrorCode::FencedInstanceId));
    let mut request = sync(&old, 1, &[]);
    request.group_instance_id = Some("pod-1".into());
    assert_eq!(sync_result(&coordinator.sync_group(1_002, 5, request), 5).error, ErrorCode::FencedInstanceId);
    assert_eq!(
        join_result(&coordinator.join_group(1_002, 6, static_join(&old, "pod-1")), 6).error,
        ErrorCode::FencedInstanceId
    );
    let (results, _) = coordinator.leave_group(1_003, "shop", &[(old, Some("pod-1".into()))]);
    assert_eq!(results, [ErrorCode::FencedInstanceId]);
    assert_eq!(coordinator.heartbeat(1_004, "shop", 1, &new, pod), ErrorCode::None);

    // The current one leaves by member id and instance id.
    let (results, _) = coordinator.leave_group(1_005, "shop", &[(new, Some("pod-1".into()))]);
    assert_eq!(results, [ErrorCode::None]);
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::Empty));
}

#[test]
fn a_restarted_static_leader_on_an_old_client_is_told_the_old_leader_and_syncs_its_assignment() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let old = lone_static_member(&mut coordinator, 0);
    // JoinGroup < v9 (librdkafka sends v5): no KIP-814, so Kafka names the leader as it was
    // before the replacement, and the returning member acts as a follower.
    let request = JoinGroup { supports_skip_assignment: false, ..static_join("", "pod-1") };
    let replies = coordinator.join_group(1_000, 3, request);
    let rejoined = join_result(&replies, 3);
    let new = rejoined.member_id.clone();
    assert_eq!((rejoined.error, rejoined.generation_id), (ErrorCode::None, 1));
    assert_eq!(rejoined.leader_id, old);
    assert!(rejoined.members.is_empty() && !rejoined.skip_assignment);
    // The group itself knows the new incarnation as its leader, and hands back the assignment.
    assert_eq!(coordinator.group("shop").and_then(|g| g.leader_id.clone()), Some(new.clone()));
    let mut request = sync(&new, 1, &[]);
    request.group_instance_id = Some("pod-1".into());
    assert_eq!(sync_result(&coordinator.sync_group(1_001, 4, request), 4).assignment, b"p0");
}

#[test]
fn a_static_member_restarting_while_the_assignment_is_out_rebalances() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let one = lone_static_member(&mut coordinator, 0);
    assert!(coordinator.join_group(10, 10, static_join("", "pod-2")).is_empty(), "parked");
    let replies = coordinator.join_group(11, 11, static_join(&one, "pod-1"));
    let old_two = join_result(&replies, 10).member_id.clone();
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::CompletingRebalance));
    // The leader is assigning to pod-2's old member id: Kafka rebalances
    // (`updateStaticMemberThenRebalanceOrCompleteJoin`) rather than leave the new one without.
    let replies = coordinator.join_group(12, 12, static_join("", "pod-2"));
    assert!(replies.iter().all(|r| !matches!(r, Reply::Join(12, _))), "parked: {replies:?}");
    assert_eq!(coordinator.group("shop").map(|g| g.state), Some(GroupState::PreparingRebalance));
    assert_eq!(coordinator.heartbeat(13, "shop", 2, &old_two, Some("pod-2")), ErrorCode::FencedInstanceId);
}

#[test]
fn a_static_member_whose_protocols_change_the_group_protocol_rebalances() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    let old = lone_static_member(&mut coordinator, 0);
    let mut request = static_join("", "pod-1");
    request.protocols = vec![("roundrobin".into(), vec![2])];
    let replies = coordinator.join_group(1_000, 3, request);
    let rejoined = join_result(&replies, 3);
    assert_eq!((rejoined.error, rejoined.generation_id), (ErrorCode::None, 2));
    assert_eq!(rejoined.protocol_name.as_deref(), Some("roundrobin"));
    assert!(!rejoined.skip_assignment);
    assert!(!coordinator.group("shop").expect("group").members.contains_key(&old));
}

#[test]
fn static_members_leave_by_instance_id_and_expire_with_their_session() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    lone_static_member(&mut coordinator, 0);
    // An admin removes the member by instance id alone (kafka-consumer-groups --remove-members).
    let (results, _) = coordinator.leave_group(5, "shop", &[(String::new(), Some("pod-1".into()))]);
    assert_eq!(results, [ErrorCode::None]);
    assert_eq!(coordinator.group("shop").map(|g| g.members.len()), Some(0));
    let (results, _) = coordinator.leave_group(5, "shop", &[(String::new(), Some("pod-9".into()))]);
    assert_eq!(results, [ErrorCode::UnknownMemberId]);

    let mut coordinator = GroupCoordinator::new(7, 0);
    lone_static_member(&mut coordinator, 0);
    coordinator.tick(i64::from(SESSION_MS));
    assert_eq!(coordinator.group("shop").map(|g| (g.state, g.members.len())), Some((GroupState::Empty, 0)));
}

#[test]
fn a_group_is_bounded_in_members_handed_out_ids_and_metadata_bytes() {
    let mut coordinator = GroupCoordinator::new(7, 0);
    // Handed-out member ids count: a client asking again and again fills the group, not memory.
    for request in 0..MAX_GROUP_SIZE as u64 {
        let replies = coordinator.join_group(0, request, join("", "app"));
        assert_eq!(join_result(&replies, request).error, ErrorCode::MemberIdRequired);
    }
    let replies = coordinator.join_group(0, 5_000, join("", "app"));
    assert_eq!(join_result(&replies, 5_000).error, ErrorCode::GroupMaxSizeReached);

    // One member's metadata past its bound is refused outright.
    let mut coordinator = GroupCoordinator::new(7, 0);
    let mut huge = join("", "app");
    huge.require_known_member_id = false;
    huge.protocols = vec![("range".into(), vec![0; MAX_MEMBER_METADATA_BYTES + 1])];
    assert_eq!(join_result(&coordinator.join_group(0, 1, huge), 1).error, ErrorCode::InvalidRequest);

    // Members each under it, together past the group's bound: the group is full, in bytes.
    let mut big = join("", "app");
    big.require_known_member_id = false;
    big.protocols = vec![("range".into(), vec![0; MAX_MEMBER_METADATA_BYTES - 16])];
    let fit = MAX_GROUP_METADATA_BYTES / MAX_MEMBER_METADATA_BYTES;
    for request in 0..fit as u64 {
        // Taken in: the join waits for the rebalance, with no answer yet.
        let replies = coordinator.join_group(0, 10 + request, big.clone());
        let refused = replies.iter().any(|r| matches!(r, Reply::Join(_, result) if result.error != ErrorCode::None));
        assert!(!refused, "member {request} of {fit} fits: {:?}", replies.len());
    }
    assert_eq!(coordinator.group("shop").map(|g| g.members.len()), Some(fit));
    let error = join_result(&coordinator.join_group(0, 99, big), 99).error;
    assert_eq!(error, ErrorCode::GroupMaxSizeReached);
}
