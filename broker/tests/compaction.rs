//! Log compaction over the wire: a compacted topic is cleaned by its broker's cleaner in the
//! background, and a consumer reading from the start sees the latest record of each key at its
//! original offset; `cleanup.policy` can be switched to `compact` on a live topic.

#![cfg(feature = "runtime")]

mod common;

use std::time::Duration;

use common::{TestBroker, batch, create_request, fetch_request, produce_request, records_of};
use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

/// A cleaner that looks for work every 20 ms instead of Kafka's 15 s.
async fn broker() -> TestBroker {
    TestBroker::start_with(|config| config.log_cleaner_backoff_ms = 20).await
}

/// Every record of partition 0 from offset 0, as (offset, key, value).
async fn read_all(client: &mut common::Client, topic: &str) -> Vec<(i64, Option<String>, String)> {
    let fetched = client.send(&fetch_request(topic, 0, 0, 0), 12).await;
    records_of(fetched.responses[0].partitions[0].records.clone().unwrap_or_default())
}

/// Twelve batches of one record each over keys k0, k1, k2; with `segment.bytes` this small
/// every batch rolls a segment, so all but the last are sealed and cleanable.
async fn produce_twelve(client: &mut common::Client, topic: &str) {
    for i in 0..12 {
        let key = format!("k{}", i % 3);
        let records = batch(&[(Some(&key), &format!("v{i}"))], 1_000 + i, Compression::None);
        let produced = client.send(&produce_request(topic, 0, -1, records), 9).await;
        assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    }
}

/// Waits until the cleaner has left what compaction must: the latest of k0..k2 among offsets
/// 0..=10 (the sealed segments), then offset 11 in the active segment.
async fn wait_for_compaction(client: &mut common::Client, topic: &str) {
    let expected: Vec<(i64, Option<String>, String)> =
        [(8, "k2", "v8"), (9, "k0", "v9"), (10, "k1", "v10"), (11, "k2", "v11")]
            .iter()
            .map(|(offset, key, value)| (*offset, Some(key.to_string()), value.to_string()))
            .collect();
    let mut read = Vec::new();
    for _ in 0..250 {
        read = read_all(client, topic).await;
        if read == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not compacted after 5 s: {read:?}");
}

const CLEANER_CONFIGS: [(&str, &str); 3] =
    [("segment.bytes", "100"), ("min.cleanable.dirty.ratio", "0.01"), ("delete.retention.ms", "0")];

#[tokio::test]
async fn the_cleaner_keeps_the_latest_record_of_each_key_at_its_offset() {
    let broker = broker().await;
    let mut client = broker.client().await;
    let mut configs = vec![("cleanup.policy", "compact")];
    configs.extend(CLEANER_CONFIGS);
    client.send(&create_request("accounts", 1, 1, &configs), 7).await;
    produce_twelve(&mut client, "accounts").await;
    wait_for_compaction(&mut client, "accounts").await;
    // The log end offset and the offsets of later records do not move.
    let records = batch(&[(Some("k0"), "v12")], 2_000, Compression::None);
    let produced = client.send(&produce_request("accounts", 0, -1, records), 9).await;
    assert_eq!(produced.responses[0].partition_responses[0].base_offset, 12);
}

#[tokio::test]
async fn cleanup_policy_can_be_switched_to_compact_on_a_live_topic() {
    let broker = broker().await;
    let mut client = broker.client().await;
    client.send(&create_request("events", 1, 1, &CLEANER_CONFIGS), 7).await;
    produce_twelve(&mut client, "events").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(read_all(&mut client, "events").await.len(), 12, "cleanup.policy=delete: nothing is compacted");

    let mut config = AlterableConfig::default();
    config.name = StrBytes::from_static_str("cleanup.policy");
    config.config_operation = 0; // SET
    config.value = Some(StrBytes::from_static_str("compact"));
    let mut resource = AlterConfigsResource::default();
    resource.resource_type = 2; // TOPIC
    resource.resource_name = StrBytes::from_static_str("events");
    resource.configs = vec![config];
    let mut request = IncrementalAlterConfigsRequest::default();
    request.resources = vec![resource];
    let response = client.send(&request, 1).await;
    assert_eq!(response.responses[0].error_code, 0);
    wait_for_compaction(&mut client, "events").await;
}

#[tokio::test]
async fn a_min_compaction_lag_above_the_max_is_refused_as_kafka_refuses_it() {
    let broker = broker().await;
    let mut client = broker.client().await;
    let created = client
        .send(&create_request("lags", 1, 1, &[("min.compaction.lag.ms", "10"), ("max.compaction.lag.ms", "5")]), 7)
        .await;
    assert_eq!(created.topics[0].error_code, 40, "INVALID_CONFIG");
    let message = created.topics[0].error_message.as_ref().map(ToString::to_string).unwrap_or_default();
    assert_eq!(message, "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)");
    // Ranges: a ratio outside [0, 1] and a negative lag are refused one by one.
    for (name, value) in [("min.cleanable.dirty.ratio", "1.5"), ("min.compaction.lag.ms", "-1")] {
        let created = client.send(&create_request("bad", 1, 1, &[(name, value)]), 7).await;
        assert_eq!(created.topics[0].error_code, 40, "{name}={value}");
    }

    client.send(&create_request("lags", 1, 1, &[("max.compaction.lag.ms", "5")]), 7).await;
    let mut config = AlterableConfig::default();
    config.name = StrBytes::from_static_str("min.compaction.lag.ms");
    config.config_operation = 0; // SET
    config.value = Some(StrBytes::from_static_str("6"));
    let mut resource = AlterConfigsResource::default();
    resource.resource_type = 2; // TOPIC
    resource.resource_name = StrBytes::from_static_str("lags");
    resource.configs = vec![config];
    let mut request = IncrementalAlterConfigsRequest::default();
    request.resources = vec![resource];
    let response = client.send(&request, 1).await;
    assert_eq!(response.responses[0].error_code, 40);
}
