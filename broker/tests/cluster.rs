//! A real KRaft cluster in one process — three brokers, three controllers — over real TCP:
//! replication, a stopped partition leader replaced by the controller, min.insync.replicas, the
//! ISR recovering, and the controller quorum electing a new leader.

#![cfg(feature = "runtime")]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use broker::{Broker, BrokerConfig};
use common::{Client, batch, create_request, fetch_request, name, produce_request, records_of};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::records::Compression;

/// Three brokers and three controllers, with a short session so a stopped broker is fenced fast.
async fn start_cluster(dir: &std::path::Path) -> Broker {
    start_cluster_with(dir, |_| {}).await
}

async fn start_cluster_with(dir: &std::path::Path, configure: fn(&mut BrokerConfig)) -> Broker {
    let mut config = BrokerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.to_owned());
    config.brokers = 3;
    config.controllers = 3;
    config.broker_session_timeout_ms = 2_000;
    config.flush_interval_ms = 2;
    configure(&mut config);
    Broker::start(config).await.expect("the cluster starts")
}

/// `(leader, leader epoch, ISR)` of `topic`-0, as a running broker's Metadata reports it.
async fn partition_state(cluster: &Broker, topic: &str) -> (i32, i32, Vec<i32>) {
    let mut request = MetadataRequest::default();
    let mut wanted = MetadataRequestTopic::default();
    wanted.name = Some(name(topic));
    request.topics = Some(vec![wanted]);
    let running: Vec<SocketAddr> = cluster
        .control()
        .nodes()
        .brokers
        .iter()
        .filter(|(_, running)| *running)
        .filter_map(|(id, _)| cluster.broker_addrs().into_iter().find(|(b, _)| b == id).map(|(_, addr)| addr))
        .collect();
    let mut client = Client::connect(running[0]).await;
    let response = client.send(&request, 12).await;
    let partition = &response.topics[0].partitions[0];
    (partition.leader_id.0, partition.leader_epoch, partition.isr_nodes.iter().map(|b| b.0).collect())
}

/// Polls `partition_state` until `done` holds (or fails after 20 s, printing the last state).
async fn wait_for(
    cluster: &Broker,
    topic: &str,
    what: &str,
    done: impl Fn(&(i32, i32, Vec<i32>)) -> bool,
) -> (i32, i32, Vec<i32>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = partition_state(cluster, topic).await;
        if done(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "{what}: still {state:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn addr_of(cluster: &Broker, broker: i32) -> SocketAddr {
    cluster.broker_addrs().into_iter().find(|(id, _)| *id == broker).map(|(_, addr)| addr).expect("broker")
}

async fn produce(cluster: &Broker, leader: i32, acks: i16, value: &str) -> (i16, i64) {
    let mut client = Client::connect(addr_of(cluster, leader)).await;
    let response =
        client.send(&produce_request("orders", 0, acks, batch(&[(None, value)], 1, Compression::None)), 9).await;
    let partition = &response.responses[0].partition_responses[0];
    (partition.error_code, partition.base_offset)
}

#[tokio::test]
async fn a_stopped_leader_is_replaced_and_no_acknowledged_record_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start_cluster(dir.path()).await;
    let mut client = Client::connect(cluster.local_addr()).await;
    let created = client.send(&create_request("orders", 1, 3, &[("min.insync.replicas", "2")]), 7).await;
    assert_eq!(created.topics[0].error_code, 0);
    let (leader, first_epoch, isr) = wait_for(&cluster, "orders", "all replicas in sync", |s| s.2.len() == 3).await;
    assert_ne!(leader, -1);

    let mut acknowledged = Vec::new();
    for value in ["a", "b", "c"] {
        let (error, offset) = produce(&cluster, leader, -1, value).await;
        assert_eq!(error, 0, "acks=all with the whole ISR {isr:?}");
        acknowledged.push((offset, value.to_owned()));
    }

    // The leader crashes: the controller fences it after its session and elects another.
    cluster.control().stop_broker(leader).expect("stop the leader");
    assert!(tokio::net::TcpStream::connect(addr_of(&cluster, leader)).await.is_err(), "its listener is closed");
    let (new_leader, epoch, isr) =
        wait_for(&cluster, "orders", "a new leader", |s| s.0 != leader && s.0 != -1 && !s.2.contains(&leader)).await;
    assert!(epoch > first_epoch, "a new leader epoch: {epoch} after {first_epoch}");
    assert_eq!(isr.len(), 2);
    let (error, offset) = produce(&cluster, new_leader, -1, "d").await;
    assert_eq!(error, 0, "two in-sync replicas satisfy min.insync.replicas=2");
    acknowledged.push((offset, "d".to_owned()));

    // A second broker goes: one in-sync replica is too few for acks=all, enough for acks=1.
    let second = isr.iter().copied().find(|id| *id != new_leader).expect("a follower");
    cluster.control().stop_broker(second).expect("stop a follower");
    wait_for(&cluster, "orders", "the ISR down to the leader", |s| s.2 == [new_leader]).await;
    assert_eq!(produce(&cluster, new_leader, -1, "refused").await.0, 19, "NOT_ENOUGH_REPLICAS");
    let (error, offset) = produce(&cluster, new_leader, 1, "e").await;
    assert_eq!(error, 0);
    acknowledged.push((offset, "e".to_owned()));

    // Both come back, catch up, and rejoin the ISR.
    cluster.control().start_broker(leader).await.expect("restart");
    cluster.control().start_broker(second).await.expect("restart");
    let (current, _, _) = wait_for(&cluster, "orders", "the ISR whole again", |s| s.2.len() == 3).await;
    let mut client = Client::connect(addr_of(&cluster, current)).await;
    let fetched = client.send(&fetch_request("orders", 0, 0, 0), 12).await;
    let records = records_of(fetched.responses[0].partitions[0].records.clone().expect("records"));
    let offsets: Vec<i64> = records.iter().map(|r| r.0).collect();
    assert_eq!(offsets, (0..i64::try_from(records.len()).expect("len")).collect::<Vec<_>>(), "contiguous");
    for (offset, value) in &acknowledged {
        assert!(records.iter().any(|r| r.0 == *offset && r.2 == *value), "{value} at {offset} in {records:?}");
    }
    assert!(!records.iter().any(|r| r.2 == "refused"), "a refused write is not in the log");
    cluster.shutdown().await;
}

#[tokio::test]
async fn the_controllers_elect_a_new_leader_when_the_active_one_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start_cluster(dir.path()).await;
    let mut client = Client::connect(cluster.local_addr()).await;
    let quorum = |response: &DescribeQuorumResponse| {
        let partition = &response.topics[0].partitions[0];
        (partition.error_code, partition.leader_id.0, partition.leader_epoch, partition.current_voters.len())
    };
    let request = {
        use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
        let mut topic = TopicData::default();
        topic.topic_name = name("__cluster_metadata");
        topic.partitions = vec![PartitionData::default()];
        let mut request = DescribeQuorumRequest::default();
        request.topics = vec![topic];
        request
    };
    let (error, leader, epoch, voters) = quorum(&client.send(&request, 2).await);
    assert_eq!((error, voters), (0, 3));
    assert!((3000..3003).contains(&leader));

    cluster.control().stop_controller(leader).expect("stop the active controller");
    assert!(cluster.control().stop_controller(leader).is_err(), "already stopped");
    // A create sent at once goes to a broker whose metadata still names the stopped controller:
    // the broker forwards it again to the next active controller rather than waiting for an
    // answer that cannot come (REQUEST_TIMED_OUT before the fix). One replica: on a loaded
    // machine a broker may be fenced for a moment around the election (see below), and what is
    // checked here is the forwarding, not the placement.
    let during_election = client.send(&create_request("during-election", 1, 1, &[]), 7).await;
    assert_eq!(during_election.topics[0].error_code, 0, "{:?}", during_election.topics[0].error_message);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (new_leader, new_epoch) = loop {
        let (error, now_leader, now_epoch, _) = quorum(&client.send(&request, 2).await);
        if error == 0 && now_leader != leader {
            break (now_leader, now_epoch);
        }
        assert!(Instant::now() < deadline, "no new quorum leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(new_epoch > epoch && (3000..3003).contains(&new_leader));
    // The new active controller gives every broker a fresh session to find it; a broker slow to
    // learn of the election (a loaded machine, this test's 2 s session) is fenced until its
    // next heartbeat arrives. Wait for all three to be live again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let live = client.send(&MetadataRequest::default(), 12).await.brokers.len();
        if live == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "only {live} brokers live after the election");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Two controllers of three are a majority: topics can still be created.
    let created = client.send(&create_request("after", 2, 3, &[]), 7).await;
    assert_eq!(created.topics[0].error_code, 0);
    cluster.control().start_controller(leader).expect("restart");
    cluster.shutdown().await;
}

#[tokio::test]
async fn elect_leaders_moves_leadership_back_to_the_preferred_replica() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start_cluster(dir.path()).await;
    let mut client = Client::connect(cluster.local_addr()).await;
    assert_eq!(client.send(&create_request("orders", 1, 3, &[]), 7).await.topics[0].error_code, 0);
    let (preferred, epoch, _) = wait_for(&cluster, "orders", "three in sync", |(_, _, isr)| isr.len() == 3).await;
    // Talk to a broker that stays up.
    let other = cluster.broker_addrs().into_iter().find(|(id, _)| *id != preferred).expect("another broker").1;
    let mut client = Client::connect(other).await;
    let elect = |election_type: i8, partitions: Option<Vec<i32>>| {
        let mut request = ElectLeadersRequest::default();
        request.election_type = election_type;
        request.topic_partitions = partitions.map(|partitions| {
            let mut topic = elect_leaders_request::TopicPartitions::default();
            topic.topic = name("orders");
            topic.partitions = partitions;
            vec![topic]
        });
        request.timeout_ms = 10_000;
        request
    };
    let errors = |response: &ElectLeadersResponse| -> Vec<(i32, i16)> {
        response
            .replica_election_results
            .iter()
            .flat_map(|t| t.partition_result.iter().map(|p| (p.partition_id, p.error_code)))
            .collect()
    };
    // ELECTION_NOT_NEEDED: the preferred replica leads; UNKNOWN_TOPIC_OR_PARTITION for partition 7.
    let response = client.send(&elect(0, Some(vec![0, 7])), 2).await;
    assert_eq!((response.error_code, errors(&response)), (0, vec![(0, 84), (7, 3)]));
    // Unclean election on a partition that has a leader is not needed either; an unknown type is refused.
    assert_eq!(errors(&client.send(&elect(1, Some(vec![0])), 2).await), [(0, 84)]);
    assert_eq!(client.send(&elect(5, Some(vec![0])), 2).await.error_code, 42, "INVALID_REQUEST");

    // The preferred leader stops: another replica leads. Back in the ISR, it does not lead again
    // by itself.
    cluster.control().stop_broker(preferred).expect("stop");
    wait_for(&cluster, "orders", "a new leader", |(leader, _, _)| *leader != preferred && *leader >= 0).await;
    let response = client.send(&elect(0, Some(vec![0])), 2).await;
    assert_eq!(errors(&response), [(0, 80)], "PREFERRED_LEADER_NOT_AVAILABLE while it is down");
    cluster.control().start_broker(preferred).await.expect("start");
    let (leader, _, _) = wait_for(&cluster, "orders", "back in the ISR", |(_, _, isr)| isr.contains(&preferred)).await;
    assert_ne!(leader, preferred);

    // A preferred election for every partition (null): it moves, and the answer lists it.
    let response = client.send(&elect(0, None), 2).await;
    assert_eq!(errors(&response), [(0, 0)]);
    let (leader, new_epoch, _) = partition_state(&cluster, "orders").await;
    assert_eq!(leader, preferred, "the answer comes once the brokers' metadata shows it");
    assert!(new_epoch >= epoch + 2, "each leader change bumps the leader epoch: {epoch} → {new_epoch}");
    // Asked again for every partition, the balanced partition is left out.
    assert_eq!(errors(&client.send(&elect(0, None), 2).await), []);
    cluster.shutdown().await;
}

#[tokio::test]
async fn the_controller_hands_leadership_back_to_the_preferred_replica_by_itself() {
    // `auto.leader.rebalance.enable` with a 1 s `leader.imbalance.check.interval.seconds`.
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster =
        start_cluster_with(dir.path(), |config| config.leader_imbalance_check_interval_ms = Some(1_000)).await;
    let mut client = Client::connect(cluster.local_addr()).await;
    assert_eq!(client.send(&create_request("orders", 1, 3, &[]), 7).await.topics[0].error_code, 0);
    let (preferred, _, _) = wait_for(&cluster, "orders", "three in sync", |(_, _, isr)| isr.len() == 3).await;
    cluster.control().stop_broker(preferred).expect("stop");
    wait_for(&cluster, "orders", "another leader", |(leader, _, _)| *leader != preferred && *leader >= 0).await;
    cluster.control().start_broker(preferred).await.expect("start");
    wait_for(&cluster, "orders", "the preferred replica leads again", |(leader, _, isr)| {
        *leader == preferred && isr.len() == 3
    })
    .await;
    cluster.shutdown().await;
}

/// DescribeTopicPartitions (KIP-966) for `orders`-0 from broker `from`: `(isr, elr, last known elr)`.
async fn elr_state(cluster: &Broker, from: i32) -> (Vec<i32>, Vec<i32>, Vec<i32>) {
    use kafka_protocol::messages::describe_topic_partitions_request::TopicRequest;
    let mut topic = TopicRequest::default();
    topic.name = name("orders");
    let mut request = DescribeTopicPartitionsRequest::default();
    request.topics = vec![topic];
    request.response_partition_limit = 2000;
    let mut client = Client::connect(addr_of(cluster, from)).await;
    let response = client.send(&request, 0).await;
    let partition = &response.topics[0].partitions[0];
    let ids = |ids: &[BrokerId]| ids.iter().map(|b| b.0).collect::<Vec<_>>();
    (
        ids(&partition.isr_nodes),
        partition.eligible_leader_replicas.as_deref().map(ids).expect("ELR reported"),
        partition.last_known_elr.as_deref().map(ids).expect("last known ELR reported"),
    )
}

#[tokio::test]
async fn below_min_insync_replicas_the_high_watermark_waits_and_the_elr_keeps_the_replica_that_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start_cluster(dir.path()).await;
    let mut client = Client::connect(cluster.local_addr()).await;
    let created = client.send(&create_request("orders", 1, 3, &[("min.insync.replicas", "2")]), 7).await;
    assert_eq!(created.topics[0].error_code, 0);
    let (leader, _, isr) = wait_for(&cluster, "orders", "all replicas in sync", |s| s.2.len() == 3).await;
    assert_eq!(produce(&cluster, leader, -1, "a").await, (0, 0));
    let followers: Vec<i32> = isr.iter().copied().filter(|id| *id != leader).collect();

    // One follower goes: two in sync are enough, nothing is kept in the ELR.
    cluster.control().stop_broker(followers[0]).expect("stop");
    wait_for(&cluster, "orders", "the ISR without the first", |s| s.2.len() == 2).await;
    assert_eq!(elr_state(&cluster, leader).await.1, Vec::<i32>::new());
    // The second goes: below the minimum it stays eligible to lead.
    cluster.control().stop_broker(followers[1]).expect("stop");
    wait_for(&cluster, "orders", "the ISR down to the leader", |s| s.2 == [leader]).await;
    assert_eq!(elr_state(&cluster, leader).await, (vec![leader], vec![followers[1]], vec![]));

    // An acks=1 write is taken, but not readable while the ISR is below the minimum.
    assert_eq!(produce(&cluster, leader, 1, "b").await, (0, 1));
    let mut client = Client::connect(addr_of(&cluster, leader)).await;
    let fetched = client.send(&fetch_request("orders", 0, 0, 0), 12).await;
    let partition = &fetched.responses[0].partitions[0];
    assert_eq!(partition.high_watermark, 1, "the high watermark stands still");
    let visible = records_of(partition.records.clone().expect("records"));
    assert_eq!(visible.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(), ["a"]);

    // The second restarts: after a crash it leaves the ELR, then catches up into the ISR, and
    // the high watermark moves over "b".
    cluster.control().start_broker(followers[1]).await.expect("restart");
    wait_for(&cluster, "orders", "the ISR back to two", |s| s.2.len() == 2).await;
    assert_eq!(elr_state(&cluster, leader).await.1, Vec::<i32>::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fetched = client.send(&fetch_request("orders", 0, 0, 0), 12).await;
        if fetched.responses[0].partitions[0].high_watermark == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the high watermark did not reach 2");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_restarted_leader_serves_what_was_committed_before_the_crash_from_its_high_watermark_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Without ELR (as before Kafka 4.1's new clusters), the last replica in the ISR stays there
    // through its crash and leads again when it returns alone.
    let cluster = start_cluster_with(dir.path(), |config| {
        config.replica_high_watermark_checkpoint_interval_ms = 50;
        config.eligible_leader_replicas_enabled = false;
    })
    .await;
    let mut client = Client::connect(cluster.local_addr()).await;
    let created = client.send(&create_request("orders", 1, 3, &[("min.insync.replicas", "2")]), 7).await;
    assert_eq!(created.topics[0].error_code, 0);
    let (leader, _, isr) = wait_for(&cluster, "orders", "all replicas in sync", |s| s.2.len() == 3).await;
    for (offset, value) in ["a", "b", "c"].into_iter().enumerate() {
        assert_eq!(produce(&cluster, leader, -1, value).await, (0, i64::try_from(offset).expect("offset")));
    }
    // Kafka's replication-offset-checkpoint, written on its interval.
    let checkpoint = dir.path().join(format!("broker-{leader}")).join("replication-offset-checkpoint");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&checkpoint).unwrap_or_default().lines().any(|line| line == "orders 0 3") {
        assert!(
            Instant::now() < deadline,
            "the high watermark was not checkpointed: {:?}",
            std::fs::read_to_string(&checkpoint)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Every broker crashes, the leader last; only it comes back. It leads alone, below
    // min.insync.replicas=2, so its high watermark cannot move (KIP-966's strict min ISR, which
    // Kafka applies with or without ELR): what it serves is what the checkpoint says was
    // committed. Without the checkpoint it would serve nothing until a follower returned.
    for follower in isr.iter().copied().filter(|id| *id != leader) {
        cluster.control().stop_broker(follower).expect("stop a follower");
    }
    wait_for(&cluster, "orders", "the ISR down to the leader", |s| s.2 == [leader]).await;
    cluster.control().stop_broker(leader).expect("stop the leader");
    cluster.control().start_broker(leader).await.expect("restart the leader");
    wait_for(&cluster, "orders", "the old leader leading again", |s| s.0 == leader).await;
    let mut client = Client::connect(addr_of(&cluster, leader)).await;
    let fetched = client.send(&fetch_request("orders", 0, 0, 0), 12).await;
    let partition = &fetched.responses[0].partitions[0];
    assert_eq!((partition.error_code, partition.high_watermark), (0, 3));
    let records = records_of(partition.records.clone().expect("records"));
    assert_eq!(records.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    cluster.shutdown().await;
}

/// The values in broker `broker`'s replica of `orders-0`, read from its files.
fn replica_values(dir: &std::path::Path, broker: i32) -> Vec<String> {
    use broker::log::{FileCache, LogConfig, PartitionLog};
    let dir = dir.join(format!("broker-{broker}")).join("orders-0");
    let (log, _) = PartitionLog::open(&dir, LogConfig::default(), 0, &FileCache::new(8)).expect("open a replica");
    let bytes = log.read(0, usize::MAX / 2, i64::MAX).expect("read");
    records_of(bytes::Bytes::from(bytes)).into_iter().map(|r| r.2).collect()
}

#[tokio::test]
async fn a_topic_deleted_and_created_again_while_a_broker_is_down_does_not_inherit_its_old_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A session long enough that the stopped broker still counts as a live replica when the
    // topic is created again right after its crash.
    let cluster = start_cluster_with(dir.path(), |config| config.broker_session_timeout_ms = 6_000).await;
    let mut client = Client::connect(cluster.local_addr()).await;
    let created = client.send(&create_request("orders", 1, 3, &[]), 7).await;
    assert_eq!(created.topics[0].error_code, 0);
    let (leader, _, isr) = wait_for(&cluster, "orders", "all replicas in sync", |s| s.2.len() == 3).await;
    for value in ["old-1", "old-2"] {
        assert_eq!(produce(&cluster, leader, -1, value).await.0, 0);
    }
    let down = isr.iter().copied().find(|id| *id != leader).expect("a follower");
    cluster.control().stop_broker(down).expect("stop a follower");
    assert_eq!(replica_values(dir.path(), down), ["old-1", "old-2"]);

    let mut delete = DeleteTopicsRequest::default();
    delete.topic_names = vec![name("orders")];
    assert_eq!(client.send(&delete, 5).await.responses[0].error_code, 0);
    let created = client.send(&create_request("orders", 1, 3, &[]), 7).await;
    assert_eq!(created.topics[0].error_code, 0, "the stopped broker's session has not expired: three replicas");

    // The broker returns: its orders-0 belongs to the deleted topic (another topic id in its
    // partition.metadata), so it starts the new topic's replica empty.
    cluster.control().start_broker(down).await.expect("restart");
    let (leader, _, _) = wait_for(&cluster, "orders", "all replicas in sync", |s| s.2.len() == 3).await;
    assert_eq!(produce(&cluster, leader, -1, "new").await, (0, 0));
    let deadline = Instant::now() + Duration::from_secs(20);
    while replica_values(dir.path(), down) != ["new"] {
        assert!(Instant::now() < deadline, "broker {down} holds {:?}", replica_values(dir.path(), down));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metadata =
        std::fs::read_to_string(dir.path().join(format!("broker-{down}")).join("orders-0/partition.metadata"))
            .expect("partition.metadata");
    assert!(metadata.starts_with("version: 0\ntopic_id: "), "{metadata}");
    cluster.shutdown().await;
}
