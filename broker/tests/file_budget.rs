//! Limits on what partitions may cost the process: the budget of open log files (more
//! partitions than handles still produce, fetch and restart) and the budget of partition
//! replicas (creations past it are refused with POLICY_VIOLATION), over the wire.

mod common;

use common::{TestBroker, batch, create_request, fetch_request, name, produce_request, records_of};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::records::Compression;

/// Partitions of the wide topic: five times the handle budget, each needing three files.
const PARTITIONS: i32 = 40;
const OPEN_LOG_FILES: usize = 8;

async fn produce(client: &mut common::Client, partition: i32, value: &str) -> i64 {
    let records = batch(&[(None, value)], 1_700_000_000_000, Compression::None);
    let produced = client.send(&produce_request("wide", partition, -1, records), 9).await;
    let answer = &produced.responses[0].partition_responses[0];
    assert_eq!(answer.error_code, 0, "partition {partition}: {:?}", answer.error_message);
    answer.base_offset
}

async fn values(client: &mut common::Client, partition: i32) -> Vec<String> {
    let fetched = client.send(&fetch_request("wide", partition, 0, 0), 12).await;
    let data = &fetched.responses[0].partitions[0];
    assert_eq!(data.error_code, 0, "partition {partition}");
    records_of(data.records.clone().unwrap_or_default()).into_iter().map(|(_, _, value)| value).collect()
}

#[tokio::test]
async fn more_partitions_than_open_file_handles_produce_fetch_and_survive_a_restart() {
    let mut broker = TestBroker::start_with(|config| config.max_open_log_files = OPEN_LOG_FILES).await;
    let mut client = broker.client().await;
    let created = client.send(&create_request("wide", PARTITIONS, 1, &[]), 5).await;
    assert_eq!(created.topics[0].error_code, 0, "{:?}", created.topics[0].error_message);

    // Every append lands on a partition whose files the cache closed since its last one.
    for round in 0..2 {
        for partition in 0..PARTITIONS {
            assert_eq!(produce(&mut client, partition, &format!("{partition}-{round}")).await, round);
        }
    }
    for partition in 0..PARTITIONS {
        assert_eq!(values(&mut client, partition).await, [format!("{partition}-0"), format!("{partition}-1")]);
    }

    broker.restart().await;
    let mut client = broker.client().await;
    for partition in 0..PARTITIONS {
        assert_eq!(produce(&mut client, partition, &format!("{partition}-2")).await, 2, "after the restart");
        let expected: Vec<String> = (0..3).map(|round| format!("{partition}-{round}")).collect();
        assert_eq!(values(&mut client, partition).await, expected);
    }
}

fn grow(topic: &str, count: i32, validate_only: bool) -> CreatePartitionsRequest {
    let mut wanted = CreatePartitionsTopic::default();
    wanted.name = name(topic);
    wanted.count = count;
    wanted.assignments = None;
    let mut request = CreatePartitionsRequest::default();
    request.topics = vec![wanted];
    request.validate_only = validate_only;
    request.timeout_ms = 5_000;
    request
}

#[tokio::test]
async fn creations_past_the_partition_replica_budget_are_a_policy_violation() {
    let broker = TestBroker::start_with(|config| config.max_partition_replicas = 10).await;
    let mut client = broker.client().await;
    let created = client.send(&create_request("first", 6, 1, &[]), 5).await;
    assert_eq!(created.topics[0].error_code, 0);

    let refused = client.send(&create_request("second", 5, 1, &[]), 5).await;
    let result = &refused.topics[0];
    assert_eq!(result.error_code, 44, "POLICY_VIOLATION");
    let message = result.error_message.as_ref().map(ToString::to_string).unwrap_or_default();
    assert_eq!(
        message,
        "Creating 5 partition replicas (partitions × replication factor) would exceed this cluster's limit of 10 \
         partition replicas: it holds 6. Delete topics, or start Streamlab with a higher --max-partition-replicas."
    );
    let mut validate_only = create_request("second", 5, 1, &[]);
    validate_only.validate_only = true;
    assert_eq!(client.send(&validate_only, 5).await.topics[0].error_code, 44, "validate_only says so too");

    let past = client.send(&grow("first", 11, false), 3).await;
    assert_eq!(past.results[0].error_code, 44, "POLICY_VIOLATION");
    let message = past.results[0].error_message.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(message.contains("limit of 10") && message.contains("--max-partition-replicas"), "{message}");
    assert_eq!(client.send(&grow("first", 10, false), 3).await.results[0].error_code, 0, "up to the limit");

    // Auto-creation at the limit: POLICY_VIOLATION in Metadata, which clients do not retry.
    let mut metadata = MetadataRequest::default();
    let mut wanted = MetadataRequestTopic::default();
    wanted.name = Some(name("auto"));
    metadata.topics = Some(vec![wanted]);
    metadata.allow_auto_topic_creation = true;
    let answer = client.send(&metadata, 12).await;
    assert_eq!(answer.topics[0].error_code, 44);

    // Nothing refused left anything behind.
    let all = client.send(&common::all_topics(), 12).await;
    let mut topics: Vec<(String, usize)> = all
        .topics
        .iter()
        .map(|t| (t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default(), t.partitions.len()))
        .collect();
    topics.sort();
    assert_eq!(topics, [("first".to_owned(), 10)]);
}
