//! The broker killed with SIGKILL in the middle of producing, then restarted on the same data
//! directory: every acknowledged (acks=all) batch is there at the offset it was acknowledged
//! with, offsets are contiguous, nothing corrupt is served, and producing carries on.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use broker::testkit::{Client, batch, records_of};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{BrokerId, CreateTopicsRequest, FetchRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

const TOPIC: &str = "crash";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn start(port: u16, data_dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_streamlab"))
        .args(["broker", "--kafka", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start streamlab broker")
}

async fn connect(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(20);
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
    let port = free_port();
    let mut child = start(port, dir.path());
    let mut client = connect(port).await;
    let mut create = CreateTopicsRequest::default();
    let mut topic = CreatableTopic::default();
    topic.name = TopicName(StrBytes::from_static_str(TOPIC));
    topic.num_partitions = 1;
    topic.replication_factor = 1;
    create.topics = vec![topic];
    assert_eq!(client.send(&create, 7).await.topics[0].error_code, 0);

    // Produce acks=all batches of 10 until the kill; remember what was acknowledged where.
    let mut acknowledged: Vec<(i64, Vec<String>)> = Vec::new();
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(400) {
        let values: Vec<String> = (0..10).map(|i| format!("record-{}", n * 10 + i)).collect();
        let response = client.send(&produce(&values), 9).await;
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, 0);
        acknowledged.push((partition.base_offset, values));
        n += 1;
    }
    // One more request in flight when the process dies: it may or may not be in the log.
    client.send_raw_request(&produce(&["in-flight".to_owned()]), 9).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    assert!(acknowledged.len() > 5, "produced {} batches before the kill", acknowledged.len());

    let mut child = start(port, dir.path());
    let mut client = connect(port).await;
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
    // The log continues after the recovered end.
    let response = client.send(&produce(&["after-restart".to_owned()]), 9).await;
    assert_eq!(response.responses[0].partition_responses[0].base_offset, i64::try_from(records.len()).expect("len"));
    child.kill().expect("stop");
    child.wait().expect("reaped");
}
