//! The whole cluster (`streamlab broker`: three brokers, three controllers) killed with SIGKILL in
//! the middle of producing to a topic with three replicas, then restarted on the same data
//! directory: every acknowledged (acks=all) batch is there at the offset it was acknowledged
//! with, offsets are contiguous, nothing corrupt is served, producing carries on, and every
//! replica's log agrees with the leader's.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use broker::log::{FileCache, LogConfig, PartitionLog};
use broker::testkit::{Client, batch, records_of};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    BrokerId, CreateTopicsRequest, FetchRequest, MetadataRequest, ProduceRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

const TOPIC: &str = "crash";

/// A port with the two after it free too: broker i listens on the port + (i - 1).
fn free_ports() -> u16 {
    for _ in 0..100 {
        let base =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        if base < 65_000 && (1..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

/// The `streamlab broker` process, killed when dropped: a failing assertion must not leave it
/// running (and holding its ports) after the test.
struct Process(Child);

impl Process {
    fn kill(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reaped");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(port: u16, data_dir: &std::path::Path) -> Process {
    Process(
        Command::new(env!("CARGO_BIN_EXE_streamlab"))
            .args(["broker", "--kafka", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start streamlab broker"),
    )
}

/// Connects once the broker takes clients. After a kill -9 the restarted brokers wait for their
/// old sessions to expire (Kafka's `broker.session.timeout.ms`, 9 s) before they may register.
async fn connect(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            drop(stream);
            return Client::connect(([127, 0, 0, 1], port).into()).await;
        }
        assert!(Instant::now() < deadline, "broker did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn produce(values: &[String]) -> ProduceRequest {
    let records: Vec<(Option<&str>, &str)> = values.iter().map(|v| (None, v.as_str())).collect();
    let mut data = PartitionProduceData::default();
    data.index = 0;
    data.records = Some(batch(&records, 1_700_000_000_000, Compression::Lz4));
    let mut topic = TopicProduceData::default();
    topic.name = TopicName(StrBytes::from_static_str(TOPIC));
    topic.partition_data = vec![data];
    let mut request = ProduceRequest::default();
    request.acks = -1;
    request.timeout_ms = 5_000;
    request.topic_data = vec![topic];
    request
}

/// `(leader, ISR)` of the topic's partition, once it has a leader.
async fn leader_of(port: u16) -> (i32, Vec<i32>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut client = connect(port).await;
        let mut request = MetadataRequest::default();
        let mut topic = MetadataRequestTopic::default();
        topic.name = Some(TopicName(StrBytes::from_static_str(TOPIC)));
        request.topics = Some(vec![topic]);
        let response = client.send(&request, 12).await;
        if let Some(partition) = response.topics.first().and_then(|t| t.partitions.first())
            && partition.leader_id.0 > 0
        {
            return (partition.leader_id.0, partition.isr_nodes.iter().map(|b| b.0).collect());
        }
        assert!(Instant::now() < deadline, "no leader for {TOPIC}-0");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn port_of(base: u16, broker: i32) -> u16 {
    base + u16::try_from(broker - 1).expect("broker id")
}

async fn fetch_all(client: &mut Client) -> Vec<(i64, Option<String>, String)> {
    let mut out = Vec::new();
    loop {
        let mut partition = FetchPartition::default();
        partition.fetch_offset = out.last().map_or(0, |r: &(i64, Option<String>, String)| r.0 + 1);
        partition.partition_max_bytes = 1 << 20;
        partition.current_leader_epoch = -1;
        let mut topic = FetchTopic::default();
        topic.topic = TopicName(StrBytes::from_static_str(TOPIC));
        topic.partitions = vec![partition];
        let mut request = FetchRequest::default();
        request.replica_id = BrokerId(-1);
        request.max_bytes = 50 << 20;
        request.topics = vec![topic];
        let response = client.send(&request, 12).await;
        let data = &response.responses[0].partitions[0];
        assert_eq!(data.error_code, 0);
        let records = records_of(data.records.clone().unwrap_or_default());
        let next = out.last().map_or(0, |r| r.0 + 1);
        let new: Vec<_> = records.into_iter().filter(|r| r.0 >= next).collect();
        if new.is_empty() {
            return out;
        }
        out.extend(new);
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_ports();
    let mut child = start(port, dir.path());
    let mut client = connect(port).await;
    let mut create = CreateTopicsRequest::default();
    let mut topic = CreatableTopic::default();
    topic.name = TopicName(StrBytes::from_static_str(TOPIC));
    topic.num_partitions = 1;
    topic.replication_factor = 3;
    let mut min_insync = CreatableTopicConfig::default();
    min_insync.name = StrBytes::from_static_str("min.insync.replicas");
    min_insync.value = Some(StrBytes::from_static_str("2"));
    topic.configs = vec![min_insync];
    create.topics = vec![topic];
    assert_eq!(client.send(&create, 7).await.topics[0].error_code, 0);
    let (leader, _) = leader_of(port).await;
    let mut client = connect(port_of(port, leader)).await;

    // Produce acks=all batches of 10 until the kill; remember what was acknowledged where. (A
    // count, not a time: the first acks=all waits for the followers' first fetch, which a busy
    // machine can delay by their replica.fetch.backoff.ms.)
    let mut acknowledged: Vec<(i64, Vec<String>)> = Vec::new();
    let mut n = 0;
    while n < 30 {
        let values: Vec<String> = (0..10).map(|i| format!("record-{}", n * 10 + i)).collect();
        let response = client.send(&produce(&values), 9).await;
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, 0);
        acknowledged.push((partition.base_offset, values));
        n += 1;
    }
    // One more request in flight when the process dies: it may or may not be in the log.
    client.send_raw_request(&produce(&["in-flight".to_owned()]), 9).await;
    child.kill();
    assert!(acknowledged.len() > 5, "produced {} batches before the kill", acknowledged.len());

    let mut child = start(port, dir.path());
    // Every broker restarted after a crash, so each left the ISR and ELR: the last leader leads
    // alone, below min.insync.replicas=2, and under KIP-966's strict min ISR rule its high
    // watermark moves only once a follower is back in sync. It starts at the last checkpoint
    // (replication-offset-checkpoint, every 5 s), which may lie below the last acknowledged
    // records: read once a follower is back.
    let deadline = Instant::now() + Duration::from_secs(60);
    while leader_of(port).await.1.len() < 2 {
        assert!(Instant::now() < deadline, "no follower came back in sync");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (leader, _) = leader_of(port).await;
    let mut client = connect(port_of(port, leader)).await;
    let records = fetch_all(&mut client).await;
    let offsets: Vec<i64> = records.iter().map(|r| r.0).collect();
    let expected_offsets: Vec<i64> = (0..i64::try_from(records.len()).expect("len")).collect();
    assert_eq!(offsets, expected_offsets, "offsets are contiguous from 0");
    for (base_offset, values) in &acknowledged {
        for (i, value) in values.iter().enumerate() {
            let offset = base_offset + i64::try_from(i).expect("index");
            let stored = records.iter().find(|r| r.0 == offset).map(|r| r.2.as_str());
            assert_eq!(stored, Some(value.as_str()), "acknowledged record at offset {offset}");
        }
    }
    // The log continues after the recovered end, on the whole ISR again.
    let deadline = Instant::now() + Duration::from_secs(60);
    while leader_of(port).await.1.len() < 3 {
        assert!(Instant::now() < deadline, "the ISR did not recover");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = client.send(&produce(&["after-restart".to_owned()]), 9).await;
    let partition = &response.responses[0].partition_responses[0];
    assert_eq!((partition.error_code, partition.base_offset), (0, i64::try_from(records.len()).expect("len")));
    child.kill();

    // Every replica holds the same records as the leader, up to the last acknowledged one.
    let leader_log = replica_records(dir.path(), leader);
    for broker in 1..=3 {
        let replica = replica_records(dir.path(), broker);
        assert!(replica.len() > records.len(), "broker {broker} has the acknowledged records");
        assert_eq!(replica[..=records.len()], leader_log[..=records.len()], "broker {broker} agrees with the leader");
    }
}

/// `(offset, value)` of every record in broker `broker`'s replica of the topic, from its files.
fn replica_records(data_dir: &std::path::Path, broker: i32) -> Vec<(i64, String)> {
    let dir = data_dir.join("kafka").join(format!("broker-{broker}")).join(format!("{TOPIC}-0"));
    let (log, _) = PartitionLog::open(&dir, LogConfig::default(), 0, &FileCache::new(8)).expect("open a replica's log");
    let bytes = log.read(0, usize::MAX / 2, i64::MAX).expect("read");
    records_of(bytes.into()).into_iter().map(|(offset, _, value)| (offset, value)).collect()
}
