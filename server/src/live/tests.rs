//! Snapshot building without a broker: a [`Polled`] in, the [`Snapshot`] the page gets out.

use super::*;
use crate::kafka::MemberDetail;

fn listed(group: &str, state: &str) -> ListedGroup {
    ListedGroup { group_id: group.to_owned(), state: state.to_owned() }
}

fn committed(topic: &str, partition: i32, offset: i64) -> CommittedOffset {
    CommittedOffset { topic: topic.to_owned(), partition, offset }
}

fn range(log_start_offset: i64, log_end_offset: i64) -> LogOffsets {
    LogOffsets { log_start_offset, log_end_offset }
}

fn topic(name: &str, partitions: i32) -> ClusterTopic {
    ClusterTopic { name: name.to_owned(), internal: false, partitions: (0..partitions).collect() }
}

/// A partition as Metadata shows it when only broker 1 is live.
fn replicas(topic: &str, partition: i32, leader: i32, replicas: &[i32], isr: &[i32]) -> PartitionReplicas {
    PartitionReplicas {
        topic: topic.to_owned(),
        partition,
        leader,
        leader_epoch: if leader < 0 { 3 } else { 2 },
        replicas: replicas.to_vec(),
        isr: isr.to_vec(),
        offline_replicas: replicas.iter().copied().filter(|&r| r != 1).collect(),
        elr: Vec::new(),
    }
}

fn metadata(topics: Vec<ClusterTopic>) -> ClusterMetadata {
    ClusterMetadata { topics, ..ClusterMetadata::default() }
}

fn member(id: &str, assignment: &[(&str, &[i32])]) -> MemberDetail {
    MemberDetail {
        member_id: id.to_owned(),
        client_id: format!("{id}-client"),
        host: "/127.0.0.1".to_owned(),
        assignment: assignment.iter().map(|(t, ps)| ((*t).to_owned(), ps.to_vec())).collect(),
    }
}

/// `orders` (3 partitions, 5 records in partition 0 of which 2 deleted, 4 in partition 1),
/// Kafka's own `__consumer_offsets`, and group `g1` with one member owning partitions 0 and 1
/// and a commit on partition 0 only.
fn polled() -> Polled {
    let mut offsets_topic = topic("__consumer_offsets", 50);
    offsets_topic.internal = true;
    let mut polled = Polled {
        metadata: metadata(vec![offsets_topic, topic("orders", 3)]),
        groups: vec![listed("g1", "Stable")],
        ..Polled::default()
    };
    polled.described.insert(
        "g1".to_owned(),
        GroupDetail {
            state: "Stable".to_owned(),
            protocol: "range".to_owned(),
            members: vec![member("m-1", &[("orders", &[1, 0])])],
        },
    );
    polled.committed.insert("g1".to_owned(), vec![committed("orders", 0, 3)]);
    polled.offsets.insert(("orders".to_owned(), 0), range(2, 5));
    polled.offsets.insert(("orders".to_owned(), 1), range(0, 4));
    polled.offsets.insert(("orders".to_owned(), 2), range(0, 0));
    polled
}

#[test]
fn internal_topics_are_hidden_and_records_counted() {
    let snapshot = build(&polled());
    let names: Vec<&str> = snapshot.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orders"]);
    assert_eq!(snapshot.topics_more, 0);
    let partition0 = &snapshot.topics[0].partitions[0];
    assert_eq!(
        partition0,
        &PartitionView {
            partition: 0,
            log_start_offset: Some(2),
            log_end_offset: Some(5),
            records: Some(3),
            leader: None,
            leader_epoch: -1,
            replicas: vec![],
            isr: vec![],
            offline_replicas: vec![],
            elr: vec![],
        }
    );
    // A topic named like Kafka's own is hidden even if the broker does not flag it.
    let mut polled = polled();
    polled.metadata.topics.push(topic("__transaction_state", 1));
    assert_eq!(build(&polled).topics.len(), 1);
}

#[test]
fn lag_is_log_end_minus_committed_and_unknown_without_a_commit() {
    let snapshot = build(&polled());
    let group = &snapshot.groups[0];
    assert_eq!((group.group.as_str(), group.state.as_str(), group.protocol.as_str()), ("g1", "Stable", "range"));
    assert_eq!(group.members[0].assignment, [AssignmentView { topic: "orders".into(), partitions: vec![1, 0] }]);
    assert_eq!(
        group.partitions,
        [
            GroupPartitionView {
                topic: "orders".into(),
                partition: 0,
                member_id: Some("m-1".into()),
                committed_offset: Some(3),
                log_end_offset: Some(5),
                lag: Some(2),
            },
            GroupPartitionView {
                topic: "orders".into(),
                partition: 1,
                member_id: Some("m-1".into()),
                committed_offset: None,
                log_end_offset: Some(4),
                lag: None,
            },
        ]
    );
    assert_eq!(group.total_lag, 2);
}

#[test]
fn committed_partitions_nobody_owns_follow_the_owned_ones() {
    let mut polled = polled();
    polled.described.get_mut("g1").expect("g1").members.clear();
    polled
        .committed
        .insert("g1".to_owned(), vec![committed("orders", 1, 4), committed("orders", 0, 1), committed("gone", 0, 7)]);
    let group = &build(&polled).groups[0];
    let rows: Vec<(&str, i32, Option<i64>, Option<i64>)> =
        group.partitions.iter().map(|p| (p.topic.as_str(), p.partition, p.committed_offset, p.lag)).collect();
    // `gone` has no offsets any more: its lag is unknown, not a guess.
    assert_eq!(rows, [("gone", 0, Some(7), None), ("orders", 0, Some(1), Some(4)), ("orders", 1, Some(4), Some(0))]);
    assert_eq!(group.total_lag, 4);
    // The poll asks ListOffsets for the group's partitions too, even of topics not shown.
    let needed = partitions_needed(&polled.metadata.topics, &polled.described, &polled.committed);
    assert_eq!(needed.get("gone"), Some(&vec![0]));
    assert_eq!(needed.get("orders"), Some(&vec![0, 1, 2]));
    assert!(!needed.contains_key("__consumer_offsets"));
}

#[test]
fn everything_shown_is_bounded_and_the_rest_counted() {
    let mut polled = Polled {
        metadata: metadata((0..TOPICS_MAX + 7).map(|i| topic(&format!("t{i:03}"), 1)).collect()),
        ..Polled::default()
    };
    polled.metadata.topics[0].partitions = (0..40).collect();
    polled.groups = (0..GROUPS_MAX + 3).map(|i| listed(&format!("g{i:03}"), "Empty")).collect();
    let many: Vec<CommittedOffset> = (0..100).map(|p| committed("t000", p, 0)).collect();
    polled.committed.insert("g000".to_owned(), many);
    let members: Vec<MemberDetail> = (0..MEMBERS_MAX + 2).map(|i| member(&format!("m{i}"), &[])).collect();
    polled
        .described
        .insert("g000".to_owned(), GroupDetail { state: "Stable".into(), protocol: "range".into(), members });
    let snapshot = build(&polled);
    assert_eq!((snapshot.topics.len(), snapshot.topics_more), (TOPICS_MAX, 7));
    assert_eq!((snapshot.topics[0].partitions.len(), snapshot.topics[0].partitions_more), (PARTITIONS_MAX, 8));
    assert_eq!((snapshot.groups.len(), snapshot.groups_more), (GROUPS_MAX, 3));
    let group = &snapshot.groups[0];
    assert_eq!((group.members.len(), group.members_more), (MEMBERS_MAX, 2));
    assert_eq!((group.partitions.len(), group.partitions_more), (GROUP_PARTITIONS_MAX, 100 - GROUP_PARTITIONS_MAX));
    // A group listed but not described (deleted in between) keeps its listed state.
    assert_eq!(snapshot.groups[1].state, "Empty");
}

#[test]
fn lag_history_keeps_the_last_samples_as_change_points() {
    let mut history = LagHistory::default();
    let group = |lag: i64| GroupView { total_lag: lag, ..build(&polled()).groups[0].clone() };
    for (i, lag) in [5, 5, 3, 3, 3, 0].into_iter().enumerate() {
        history.record(1_000 * i64::try_from(i).expect("small"), &[group(lag)]);
    }
    assert_eq!(history.change_points("g1"), [[0, 5], [2_000, 3], [5_000, 0]]);
    for i in 0..LAG_HISTORY_SAMPLES {
        history.record(10_000 + i64::try_from(i).expect("small"), &[group(1)]);
    }
    assert_eq!(history.change_points("g1"), [[10_000, 1]], "only the last {LAG_HISTORY_SAMPLES} samples stay");
    history.record(20_000, &[]);
    assert_eq!(history.change_points("g1"), Vec::<[i64; 2]>::new(), "a group that is gone is forgotten");
}

#[test]
fn the_poller_publishes_only_changes_and_keeps_data_through_errors() {
    let mut state = PollerState::new(41);
    let first = state.update(1_000, Ok(polled())).expect("the first poll is published");
    assert_eq!((first.seq, first.taken_at_ms, first.error.as_deref()), (42, 1_000, None));
    assert_eq!(first.groups[0].lag_history, [[1_000, 2]]);
    assert_eq!(state.update(2_000, Ok(polled())), None, "nothing changed");

    let mut produced = polled();
    produced.offsets.insert(("orders".to_owned(), 0), range(2, 9));
    let second = state.update(3_000, Ok(produced)).expect("a new log end offset is a change");
    assert_eq!(second.seq, 43);
    assert_eq!(second.topics[0].partitions[0].log_end_offset, Some(9));
    assert_eq!(second.groups[0].lag_history, [[1_000, 2], [3_000, 6]]);

    let failed = state.update(4_000, Err("the Kafka broker could not be asked: refused".into())).expect("an error");
    assert_eq!(failed.error.as_deref(), Some("the Kafka broker could not be asked: refused"));
    assert_eq!(failed.topics, second.topics, "the last known topics stay on the page");
    assert_eq!(state.update(5_000, Err("the Kafka broker could not be asked: refused".into())), None);
    let back = state.update(6_000, Ok(polled())).expect("recovered");
    assert_eq!(back.error, None);
}

#[test]
fn snapshots_serialize_to_the_documented_shape() {
    let mut state = PollerState::new(0);
    let snapshot = state.update(1_000, Ok(polled())).expect("published");
    let json = serde_json::to_value(&snapshot).expect("json");
    assert_eq!(json["topics"][0]["partitions"][0]["log_end_offset"], 5);
    assert_eq!(json["groups"][0]["partitions"][0]["lag"], 2);
    assert_eq!(json["groups"][0]["partitions"][1]["lag"], serde_json::Value::Null);
    assert_eq!(json["groups"][0]["lag_history"], serde_json::json!([[1_000, 2]]));
    assert_eq!(json["error"], serde_json::Value::Null);
    assert_eq!(json["poll_interval_ms"], POLL_INTERVAL_MS);
}

#[test]
fn the_cluster_panel_shows_nodes_replicas_and_unhealthy_partitions() {
    // Broker 3 crashed: partition 0 lost a follower (under-replicated), partition 1 had broker 3
    // as its only replica (offline). Broker 2 runs but is not unfenced yet. Controller 3001
    // leads; 3002 is stopped.
    let mut polled = polled();
    polled.metadata.brokers = vec![1];
    polled.metadata.partitions = vec![
        replicas("orders", 0, 1, &[1, 3], &[1]),
        replicas("orders", 1, -1, &[3], &[3]),
        replicas("orders", 2, 1, &[1], &[1]),
    ];
    polled.quorum = Some(QuorumView { leader_id: 3001, leader_epoch: 4 });
    polled.nodes = Some(broker::NodesStatus {
        brokers: vec![(1, true), (2, true), (3, false)],
        controllers: vec![(3000, true), (3001, true), (3002, false)],
    });
    let snapshot = build(&polled);
    let cluster = snapshot.cluster.as_ref().expect("a cluster view");
    let brokers: Vec<(i32, &str)> = cluster.brokers.iter().map(|b| (b.id, b.state)).collect();
    assert_eq!(brokers, [(1, "up"), (2, "fenced"), (3, "stopped")]);
    let controllers: Vec<(i32, &str)> = cluster.controllers.iter().map(|c| (c.id, c.state)).collect();
    assert_eq!(controllers, [(3000, "standby"), (3001, "active"), (3002, "stopped")]);
    assert_eq!(cluster.quorum, Some(QuorumView { leader_id: 3001, leader_epoch: 4 }));
    assert!(cluster.controllable);
    assert_eq!((cluster.under_replicated_partitions, cluster.offline_partitions), (1, 1));
    let partitions = &snapshot.topics[0].partitions;
    assert_eq!((partitions[0].leader, &partitions[0].replicas, &partitions[0].isr), (Some(1), &vec![1, 3], &vec![1]));
    assert_eq!((partitions[1].leader, &partitions[1].offline_replicas), (None, &vec![3]), "offline: no leader");

    // An external Kafka: no node list, so the brokers are the live ones and nothing is
    // controllable.
    polled.nodes = None;
    let external = build(&polled).cluster.expect("a cluster view");
    assert_eq!(external.brokers, [BrokerView { id: 1, state: "up" }]);
    assert!(external.controllers.is_empty() && !external.controllable);
}
