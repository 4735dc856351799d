//! `streamlab broker` under `ulimit -n 256` with more partitions than that (each partition is a
//! directory and three segment files): it creates them, serves them, is killed with SIGKILL,
//! and starts again on the same data directory and serves every partition. Before the bounded
//! handle cache, the restart failed with "Too many open files".

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use broker::testkit::{Client, batch, records_of};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    BrokerId, CreateTopicsRequest, FetchRequest, MetadataRequest, ProduceRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

const TOPIC: &str = "many";
/// Partitions, each with three files: well past the 256 descriptors of the process.
const PARTITIONS: i32 = 300;

/// The broker process, killed when dropped so a failing assertion leaves nothing running.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One broker, one controller, under `ulimit -n 256` (set by the shell, then `exec`).
fn start(port: u16, data_dir: &std::path::Path) -> Process {
    Process(
        Command::new("bash")
            .args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", env!("CARGO_BIN_EXE_streamlab"), "broker"])
            .args(["--brokers", "1", "--controllers", "1", "--broker-session-timeout-ms", "2000"])
            .args(["--kafka", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start streamlab broker"),
    )
}

async fn connect(port: u16, process: &mut Process) -> Client {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = process.0.try_wait().expect("status") {
            panic!("streamlab broker exited with {status} under ulimit -n 256");
        }
        if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            drop(stream);
            return Client::connect(([127, 0, 0, 1], port).into()).await;
        }
        assert!(Instant::now() < deadline, "broker did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn topic_name() -> TopicName {
    TopicName(StrBytes::from_static_str(TOPIC))
}

/// Produces `value` to `partition` with acks=all, retrying while the partition has no leader
/// yet (just after a start); returns its offset.
async fn produce(client: &mut Client, partition: i32, value: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut data = PartitionProduceData::default();
        data.index = partition;
        data.records = Some(batch(&[(None, value)], 1_700_000_000_000, Compression::None));
        let mut topic = TopicProduceData::default();
        topic.name = topic_name();
        topic.partition_data = vec![data];
        let mut request = ProduceRequest::default();
        request.acks = -1;
        request.timeout_ms = 5_000;
        request.topic_data = vec![topic];
        let answer = &client.send(&request, 9).await.responses[0].partition_responses[0];
        if answer.error_code == 0 {
            return answer.base_offset;
        }
        assert!(Instant::now() < deadline, "partition {partition}: error {}", answer.error_code);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every partition is led again after the crash: the restarted broker registers
/// once its old session expired, and the controller elects it in a new leader epoch.
async fn wait_for_leaders(client: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut request = MetadataRequest::default();
        let mut topic = MetadataRequestTopic::default();
        topic.name = Some(topic_name());
        request.topics = Some(vec![topic]);
        let response = client.send(&request, 12).await;
        let partitions = response.topics.first().map(|t| t.partitions.as_slice()).unwrap_or_default();
        let led = partitions.iter().filter(|p| p.leader_id.0 == 1 && p.leader_epoch > 0).count();
        if led == usize::try_from(PARTITIONS).unwrap_or(0) {
            return;
        }
        assert!(Instant::now() < deadline, "{led} of {PARTITIONS} partitions led after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn values(client: &mut Client, partition: i32) -> Vec<String> {
    let mut fetch_partition = FetchPartition::default();
    fetch_partition.partition = partition;
    fetch_partition.partition_max_bytes = 1 << 20;
    fetch_partition.current_leader_epoch = -1;
    let mut topic = FetchTopic::default();
    topic.topic = topic_name();
    topic.partitions = vec![fetch_partition];
    let mut request = FetchRequest::default();
    request.replica_id = BrokerId(-1);
    request.max_bytes = 1 << 20;
    request.topics = vec![topic];
    let data = &client.send(&request, 12).await.responses[0].partitions[0];
    assert_eq!(data.error_code, 0, "partition {partition}");
    records_of(data.records.clone().unwrap_or_default()).into_iter().map(|(_, _, value)| value).collect()
}

#[tokio::test]
async fn a_broker_with_more_partitions_than_its_open_files_limit_restarts_and_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let mut process = start(port, dir.path());
    let mut client = connect(port, &mut process).await;

    let mut creatable = CreatableTopic::default();
    creatable.name = topic_name();
    creatable.num_partitions = PARTITIONS;
    creatable.replication_factor = 1;
    let mut create = CreateTopicsRequest::default();
    create.topics = vec![creatable];
    create.timeout_ms = 30_000;
    let created = client.send(&create, 5).await;
    assert_eq!(created.topics[0].error_code, 0, "{:?}", created.topics[0].error_message);
    for partition in 0..PARTITIONS {
        assert_eq!(produce(&mut client, partition, &format!("{partition}-before")).await, 0);
    }

    drop(client);
    drop(process); // SIGKILL: a crash, nothing flushed on the way out but what acks=all did
    let mut process = start(port, dir.path());
    let mut client = connect(port, &mut process).await;
    wait_for_leaders(&mut client).await;
    for partition in 0..PARTITIONS {
        // A new leader's high watermark reaches its log end once it has heard from its ISR.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut found = values(&mut client, partition).await;
        while found.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            found = values(&mut client, partition).await;
        }
        assert_eq!(found, [format!("{partition}-before")], "after the restart");
        assert_eq!(produce(&mut client, partition, &format!("{partition}-after")).await, 1, "after the restart");
        assert_eq!(values(&mut client, partition).await, [format!("{partition}-before"), format!("{partition}-after")]);
    }
    assert!(process.0.try_wait().expect("status").is_none(), "still running");
}
