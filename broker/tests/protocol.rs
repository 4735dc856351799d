//! The broker over real TCP: each API, and the error codes Apache Kafka returns for requests that
//! are valid but wrong.

#![cfg(feature = "runtime")]

mod common;

use bytes::Bytes;
use common::{
    TestBroker, all_topics, batch, create_request, fetch_request, list_offsets_request, name, produce_request,
    producer_batch, records_of,
};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

#[tokio::test]
async fn api_versions_lists_our_table_and_falls_back_for_unknown_versions() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    let response = client.send(&common::api_versions_request(), 3).await;
    assert_eq!(response.error_code, 0);
    let produce = response.api_keys.iter().find(|k| k.api_key == 0).expect("produce");
    assert_eq!((produce.min_version, produce.max_version), (0, 11));
    let fetch = response.api_keys.iter().find(|k| k.api_key == 1).expect("fetch");
    assert_eq!((fetch.min_version, fetch.max_version), (4, 12));

    // KIP-511: a newer ApiVersions than we know (v9 here) is answered at v0 with
    // UNSUPPORTED_VERSION and our table, so the client can retry with a version we speak.
    let mut request = Vec::new();
    request.extend_from_slice(&18i16.to_be_bytes());
    request.extend_from_slice(&9i16.to_be_bytes());
    request.extend_from_slice(&77i32.to_be_bytes());
    request.extend_from_slice(&[0, 0, 0]);
    let mut framed = i32::try_from(request.len()).expect("size").to_be_bytes().to_vec();
    framed.extend_from_slice(&request);
    client.write_raw(&framed).await;
    let frame = client.read_frame().await.expect("response");
    assert_eq!(frame[..4], 77i32.to_be_bytes(), "response header v0: the correlation id only");
    let fallback =
        <ApiVersionsResponse as kafka_protocol::protocol::Decodable>::decode(&mut frame.slice(4..), 0).expect("v0");
    assert_eq!(fallback.error_code, 35, "UNSUPPORTED_VERSION");
    assert_eq!(fallback.api_keys.iter().find(|k| k.api_key == 18).map(|k| k.max_version), Some(4));
}

#[tokio::test]
async fn create_produce_fetch_and_list_offsets() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    let created = client.send(&create_request("orders", 3, 1, &[("retention.ms", "3600000")]), 7).await;
    assert_eq!(created.topics[0].error_code, 0, "{:?}", created.topics[0].error_message);
    assert_eq!(created.topics[0].num_partitions, 3);

    let mut metadata_request = MetadataRequest::default();
    let mut wanted = MetadataRequestTopic::default();
    wanted.name = Some(name("orders"));
    metadata_request.topics = Some(vec![wanted]);
    let metadata = client.send(&metadata_request, 12).await;
    assert_eq!(metadata.brokers.len(), 1);
    assert_eq!(metadata.brokers[0].port, i32::from(broker.addr.port()));
    assert_eq!(metadata.topics[0].partitions.len(), 3);
    assert_eq!(metadata.topics[0].partitions[1].isr_nodes, vec![BrokerId(1)]);

    for (compression, first_offset) in [(Compression::None, 0), (Compression::Gzip, 2), (Compression::Zstd, 4)] {
        let records = batch(&[(Some("user-42"), "order-1"), (None, "order-2")], 1_700_000_000_000, compression);
        let produced = client.send(&produce_request("orders", 1, -1, records), 9).await;
        let partition = &produced.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, 0, "{:?}", partition.error_message);
        assert_eq!(partition.base_offset, first_offset);
    }

    let fetched = client.send(&fetch_request("orders", 1, 0, 100), 12).await;
    let data = &fetched.responses[0].partitions[0];
    assert_eq!((data.error_code, data.high_watermark, data.last_stable_offset), (0, 6, 6));
    let records = records_of(data.records.clone().expect("records"));
    assert_eq!(records.len(), 6);
    assert_eq!(records[0], (0, Some("user-42".into()), "order-1".into()));
    assert_eq!(records[5], (5, None, "order-2".into()));

    // A fetch from the middle of a batch returns the whole batch (clients skip what they read).
    let mid = client.send(&fetch_request("orders", 1, 3, 100), 12).await;
    let mid_records = records_of(mid.responses[0].partitions[0].records.clone().expect("records"));
    assert_eq!(mid_records.first().map(|r| r.0), Some(2));

    let latest = client.send(&list_offsets_request("orders", 1, -1), 7).await;
    assert_eq!(latest.topics[0].partitions[0].offset, 6);
    let earliest = client.send(&list_offsets_request("orders", 1, -2), 7).await;
    assert_eq!(earliest.topics[0].partitions[0].offset, 0);
    // Timestamps: each batch's records are at t, t+1; the first record at or after t+1 is offset 1.
    let by_time = client.send(&list_offsets_request("orders", 1, 1_700_000_000_001), 7).await;
    assert_eq!(
        (by_time.topics[0].partitions[0].offset, by_time.topics[0].partitions[0].timestamp),
        (1, 1_700_000_000_001)
    );
    let future = client.send(&list_offsets_request("orders", 1, 1_900_000_000_000), 7).await;
    assert_eq!(future.topics[0].partitions[0].offset, -1);
}

#[tokio::test]
async fn fetch_long_polls_until_a_record_arrives() {
    let broker = TestBroker::start().await;
    let mut consumer = broker.client().await;
    let mut producer = broker.client().await;
    consumer.send(&create_request("events", 1, 1, &[]), 7).await;
    consumer.send_raw_request(&fetch_request("events", 0, 0, 5_000), 12).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    producer.send(&produce_request("events", 0, 1, batch(&[(None, "hello")], 1, Compression::None)), 9).await;
    let fetched = consumer.read_response::<FetchRequest>(12).await.expect("response");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "woken by the append, not the timeout");
    assert_eq!(records_of(fetched.responses[0].partitions[0].records.clone().expect("records")).len(), 1);
}

#[tokio::test]
async fn errors_match_apache_kafka() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    let code =
        |r: &CreateTopicsResponse| (r.topics[0].error_code, r.topics[0].error_message.as_ref().map(|m| m.to_string()));

    assert_eq!(code(&client.send(&create_request("bad name", 1, 1, &[]), 7).await).0, 17, "INVALID_TOPIC_EXCEPTION");
    assert_eq!(code(&client.send(&create_request("t", 0, 1, &[]), 7).await).0, 37, "INVALID_PARTITIONS");
    // KIP-511: a client names its software with letters, digits, `-` and `.` (INVALID_REQUEST otherwise).
    let mut versions = ApiVersionsRequest::default();
    versions.client_software_name = kafka_protocol::protocol::StrBytes::from_static_str("my app!");
    versions.client_software_version = kafka_protocol::protocol::StrBytes::from_static_str("1.0");
    let refused = client.send(&versions, 3).await;
    assert_eq!((refused.error_code, refused.api_keys.len()), (42, 0), "INVALID_REQUEST, no API keys");
    versions.client_software_name = kafka_protocol::protocol::StrBytes::from_static_str("confluent-kafka-python");
    versions.client_software_version = kafka_protocol::protocol::StrBytes::from_static_str("2.6.1-rdkafka-2.6.1");
    let answered = client.send(&versions, 3).await;
    assert_eq!(answered.error_code, 0);
    assert!(!answered.api_keys.is_empty());
    // Names that differ only in `.` and `_` collide in metric names: Kafka refuses the second.
    assert_eq!(code(&client.send(&create_request("a.b_c", 1, 1, &[]), 7).await).0, 0);
    assert_eq!(
        code(&client.send(&create_request("a_b.c", 1, 1, &[]), 7).await),
        (17, Some("Topic 'a_b.c' collides with existing topic: a.b_c".to_owned())),
        "INVALID_TOPIC_EXCEPTION"
    );
    let rf = code(&client.send(&create_request("t", 1, 3, &[]), 7).await);
    assert_eq!(rf.0, 38, "INVALID_REPLICATION_FACTOR");
    assert_eq!(
        rf.1.as_deref(),
        Some(
            "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered."
        )
    );
    let config = code(&client.send(&create_request("t", 1, 1, &[("retention.ms", "soon")]), 7).await);
    assert_eq!(
        config,
        (40, Some("Invalid value soon for configuration retention.ms: Not a number of type LONG".into()))
    );
    assert_eq!(code(&client.send(&create_request("t", 1, 1, &[]), 7).await).0, 0);
    assert_eq!(code(&client.send(&create_request("t", 1, 1, &[]), 7).await).0, 36, "TOPIC_ALREADY_EXISTS");

    let record = || batch(&[(None, "x")], 1, Compression::None);
    let unknown = client.send(&produce_request("nope", 0, 1, record()), 9).await;
    assert_eq!(unknown.responses[0].partition_responses[0].error_code, 3, "UNKNOWN_TOPIC_OR_PARTITION");
    let bad_partition = client.send(&produce_request("t", 7, 1, record()), 9).await;
    assert_eq!(bad_partition.responses[0].partition_responses[0].error_code, 3);
    let bad_acks = client.send(&produce_request("t", 0, 2, record()), 9).await;
    assert_eq!(bad_acks.responses[0].partition_responses[0].error_code, 21, "INVALID_REQUIRED_ACKS");

    let mut corrupt = record().to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let crc = client.send(&produce_request("t", 0, 1, Bytes::from(corrupt)), 9).await;
    assert_eq!(crc.responses[0].partition_responses[0].error_code, 2, "CORRUPT_MESSAGE");

    // min.insync.replicas above the replication factor counts as the replication factor
    // (Kafka's `Partition.effectiveMinIsr`, KIP-966): one replica in sync of one is enough for
    // acks=all. (NOT_ENOUGH_REPLICAS with a broker down: tests/cluster.rs.)
    client.send(&create_request("safe", 1, 1, &[("min.insync.replicas", "2")]), 7).await;
    let all = client.send(&produce_request("safe", 0, -1, record()), 9).await;
    assert_eq!(all.responses[0].partition_responses[0].error_code, 0, "capped at RF 1");
    let one = client.send(&produce_request("safe", 0, 1, record()), 9).await;
    assert_eq!(one.responses[0].partition_responses[0].error_code, 0);

    let out_of_range = client.send(&fetch_request("t", 0, 99, 0), 12).await;
    assert_eq!(out_of_range.responses[0].partitions[0].error_code, 1, "OFFSET_OUT_OF_RANGE");
    let fetch_unknown = client.send(&fetch_request("nope", 0, 0, 0), 12).await;
    assert_eq!(fetch_unknown.responses[0].partitions[0].error_code, 3);
    let list_unknown = client.send(&list_offsets_request("nope", 0, -1), 7).await;
    assert_eq!(list_unknown.topics[0].partitions[0].error_code, 3);

    // Metadata for an invalid name, and with auto-creation refused by the client.
    let mut invalid = MetadataRequest::default();
    let mut topic = MetadataRequestTopic::default();
    topic.name = Some(name("bad name"));
    invalid.topics = Some(vec![topic]);
    assert_eq!(client.send(&invalid, 12).await.topics[0].error_code, 17);
    let mut no_auto = MetadataRequest::default();
    let mut topic = MetadataRequestTopic::default();
    topic.name = Some(name("absent"));
    no_auto.topics = Some(vec![topic]);
    no_auto.allow_auto_topic_creation = false;
    assert_eq!(client.send(&no_auto, 12).await.topics[0].error_code, 3);
    no_auto.allow_auto_topic_creation = true;
    let auto = client.send(&no_auto, 12).await;
    assert_eq!((auto.topics[0].error_code, auto.topics[0].partitions.len()), (0, 1), "auto-created");
}

#[tokio::test]
async fn topics_and_records_survive_a_restart() {
    let mut broker = TestBroker::start().await;
    {
        let mut client = broker.client().await;
        client.send(&create_request("durable", 2, 1, &[("cleanup.policy", "delete")]), 7).await;
        let produced = client
            .send(
                &produce_request("durable", 1, -1, batch(&[(Some("k"), "v1"), (Some("k"), "v2")], 5, Compression::Lz4)),
                9,
            )
            .await;
        assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    }
    broker.restart().await;
    let mut client = broker.client().await;
    let metadata = client.send(&all_topics(), 12).await;
    assert_eq!(metadata.topics.iter().map(|t| t.partitions.len()).collect::<Vec<_>>(), [2]);
    let produced =
        client.send(&produce_request("durable", 1, 1, batch(&[(None, "v3")], 6, Compression::Snappy)), 9).await;
    assert_eq!(produced.responses[0].partition_responses[0].base_offset, 2, "offsets continue");
    let fetched = client.send(&fetch_request("durable", 1, 0, 0), 12).await;
    let values: Vec<String> = records_of(fetched.responses[0].partitions[0].records.clone().expect("records"))
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(values, ["v1", "v2", "v3"]);
}

#[tokio::test]
async fn delete_topics_and_describe_configs() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("gone", 1, 1, &[("retention.ms", "1000")]), 7).await;

    let mut describe = DescribeConfigsRequest::default();
    let mut resource = kafka_protocol::messages::describe_configs_request::DescribeConfigsResource::default();
    resource.resource_type = 2;
    resource.resource_name = StrBytes::from_static_str("gone");
    resource.configuration_keys = None;
    describe.resources = vec![resource];
    let described = client.send(&describe, 4).await;
    let configs = &described.results[0].configs;
    assert!(configs.len() >= 20, "every config with its default, as Kafka");
    let retention = configs.iter().find(|c| c.name.as_str() == "retention.ms").expect("retention.ms");
    assert_eq!((retention.value.as_ref().map(|v| v.as_str()), retention.config_source), (Some("1000"), 1));
    let segment = configs.iter().find(|c| c.name.as_str() == "segment.bytes").expect("segment.bytes");
    assert_eq!((segment.value.as_ref().map(|v| v.as_str()), segment.config_source), (Some("1073741824"), 5));

    let mut delete = DeleteTopicsRequest::default();
    delete.topic_names = vec![name("gone"), name("never")];
    let deleted = client.send(&delete, 5).await;
    assert_eq!(deleted.responses.iter().map(|r| r.error_code).collect::<Vec<_>>(), [0, 3]);
    let metadata = client.send(&all_topics(), 12).await;
    assert!(metadata.topics.is_empty());
    assert!(!broker.dir.path().join("gone-0").exists());
}

#[tokio::test]
async fn idempotent_producers_get_duplicates_answered_with_their_original_offsets() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("payments", 1, 1, &[]), 7).await;
    let init = client.send(&InitProducerIdRequest::default(), 4).await;
    assert_eq!(init.error_code, 0);
    let (producer_id, epoch) = (init.producer_id.0, init.producer_epoch);
    assert!(producer_id >= 0);
    assert_eq!(epoch, 0);

    let first = producer_batch(&[(None, "a"), (None, "b")], 1, Compression::None, (producer_id, epoch, 0));
    let second = producer_batch(&[(None, "c")], 2, Compression::None, (producer_id, epoch, 2));
    let offsets = |r: &ProduceResponse| {
        let p = &r.responses[0].partition_responses[0];
        (p.error_code, p.base_offset)
    };
    assert_eq!(offsets(&client.send(&produce_request("payments", 0, -1, first.clone()), 9).await), (0, 0));
    assert_eq!(offsets(&client.send(&produce_request("payments", 0, -1, second), 9).await), (0, 2));
    // A retry of the first batch is not written again: it gets its original offset.
    assert_eq!(offsets(&client.send(&produce_request("payments", 0, -1, first), 9).await), (0, 0));
    let fetched = client.send(&fetch_request("payments", 0, 0, 0), 12).await;
    assert_eq!(records_of(fetched.responses[0].partitions[0].records.clone().expect("records")).len(), 3);
    // A gap in the sequence is refused.
    let gap = producer_batch(&[(None, "z")], 3, Compression::None, (producer_id, epoch, 9));
    assert_eq!(
        offsets(&client.send(&produce_request("payments", 0, -1, gap), 9).await).0,
        45,
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );

    // KIP-360: asking again with the current id and epoch bumps the epoch.
    let mut bump = InitProducerIdRequest::default();
    bump.producer_id = ProducerId(producer_id);
    bump.producer_epoch = epoch;
    let bumped = client.send(&bump, 4).await;
    assert_eq!((bumped.producer_id.0, bumped.producer_epoch), (producer_id, 1));
    let stale = producer_batch(&[(None, "old")], 4, Compression::None, (producer_id, 0, 3));
    let fresh = producer_batch(&[(None, "new")], 4, Compression::None, (producer_id, 1, 0));
    assert_eq!(offsets(&client.send(&produce_request("payments", 0, -1, fresh), 9).await), (0, 3));
    assert_eq!(
        offsets(&client.send(&produce_request("payments", 0, -1, stale), 9).await).0,
        47,
        "INVALID_PRODUCER_EPOCH"
    );
}

#[tokio::test]
async fn configs_can_be_altered_and_partitions_added() {
    use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
    use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};

    let mut broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("orders", 2, 1, &[]), 7).await;

    let alter = |name: &str, operation: i8, value: Option<&str>| {
        let mut config = AlterableConfig::default();
        config.name = StrBytes::from_string(name.to_owned());
        config.config_operation = operation;
        config.value = value.map(|v| StrBytes::from_string(v.to_owned()));
        let mut resource = AlterConfigsResource::default();
        resource.resource_type = 2;
        resource.resource_name = StrBytes::from_static_str("orders");
        resource.configs = vec![config];
        let mut request = IncrementalAlterConfigsRequest::default();
        request.resources = vec![resource];
        request
    };
    let set = client.send(&alter("retention.ms", 0, Some("60000")), 1).await;
    assert_eq!(set.responses[0].error_code, 0);
    let bad = client.send(&alter("retention.ms", 0, Some("-7")), 1).await;
    assert_eq!(bad.responses[0].error_code, 40, "INVALID_CONFIG");
    let append = client.send(&alter("cleanup.policy", 2, Some("compact")), 1).await;
    assert_eq!(append.responses[0].error_code, 0);

    let grow = |count| {
        let mut topic = CreatePartitionsTopic::default();
        topic.name = name("orders");
        topic.count = count;
        topic.assignments = None;
        let mut request = CreatePartitionsRequest::default();
        request.topics = vec![topic];
        request
    };
    let shrink = client.send(&grow(1), 3).await;
    assert_eq!(shrink.results[0].error_code, 37, "INVALID_PARTITIONS");
    assert_eq!(
        shrink.results[0].error_message.as_ref().map(|m| m.to_string()).as_deref(),
        Some("The topic orders currently has 2 partition(s); 1 would not be an increase.")
    );
    assert_eq!(client.send(&grow(4), 3).await.results[0].error_code, 0);

    // Both changes survive a restart.
    broker.restart().await;
    let mut client = broker.client().await;
    assert_eq!(client.send(&all_topics(), 12).await.topics[0].partitions.len(), 4);
    let mut describe = DescribeConfigsRequest::default();
    let mut resource = kafka_protocol::messages::describe_configs_request::DescribeConfigsResource::default();
    resource.resource_type = 2;
    resource.resource_name = StrBytes::from_static_str("orders");
    resource.configuration_keys = None;
    describe.resources = vec![resource];
    let configs = client.send(&describe, 4).await.results.remove(0).configs;
    let value = |key: &str| {
        configs.iter().find(|c| c.name.as_str() == key).and_then(|c| c.value.as_ref()).map(|v| v.to_string())
    };
    assert_eq!(value("retention.ms").as_deref(), Some("60000"));
    assert_eq!(value("cleanup.policy").as_deref(), Some("delete,compact"));
    let cluster = client.send(&DescribeClusterRequest::default(), 1).await;
    assert_eq!((cluster.brokers.len(), cluster.controller_id), (1, BrokerId(1)));
}

#[tokio::test]
async fn committed_offsets_survive_a_restart_and_groups_can_be_listed_and_deleted() {
    use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;

    let mut broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("orders", 2, 1, &[]), 7).await;
    // A consumer that assigns partitions itself commits with generation -1 and no member id.
    let mut partition = OffsetCommitRequestPartition::default();
    partition.partition_index = 1;
    partition.committed_offset = 42;
    partition.committed_metadata = Some(StrBytes::from_static_str("checkpoint"));
    let mut topic = OffsetCommitRequestTopic::default();
    topic.name = name("orders");
    topic.partitions = vec![partition];
    let mut commit = OffsetCommitRequest::default();
    commit.group_id = GroupId(StrBytes::from_static_str("billing"));
    commit.generation_id_or_member_epoch = -1;
    commit.topics = vec![topic];
    let committed = client.send(&commit, 8).await;
    assert_eq!(committed.topics[0].partitions[0].error_code, 0);

    broker.restart().await;
    let mut client = broker.client().await;
    let mut wanted = OffsetFetchRequestTopic::default();
    wanted.name = name("orders");
    wanted.partition_indexes = vec![0, 1];
    let mut fetch = OffsetFetchRequest::default();
    fetch.group_id = GroupId(StrBytes::from_static_str("billing"));
    fetch.topics = Some(vec![wanted]);
    let fetched = client.send(&fetch, 7).await;
    let partitions = &fetched.topics[0].partitions;
    assert_eq!((partitions[0].partition_index, partitions[0].committed_offset), (0, -1), "nothing committed");
    assert_eq!(
        (partitions[1].committed_offset, partitions[1].metadata.as_ref().map(|m| m.to_string())),
        (42, Some("checkpoint".into()))
    );

    let listed = client.send(&ListGroupsRequest::default(), 4).await;
    assert_eq!(
        listed.groups.iter().map(|g| (g.group_id.0.to_string(), g.group_state.to_string())).collect::<Vec<_>>(),
        [("billing".to_owned(), "Empty".to_owned())]
    );
    let mut delete = DeleteGroupsRequest::default();
    delete.groups_names =
        vec![GroupId(StrBytes::from_static_str("billing")), GroupId(StrBytes::from_static_str("ghost"))];
    let deleted = client.send(&delete, 2).await;
    assert_eq!(
        deleted.results.iter().map(|r| r.error_code).collect::<Vec<_>>(),
        [0, 69],
        "GROUP_ID_NOT_FOUND for the unknown one"
    );
}

#[tokio::test]
async fn a_retry_after_a_restart_is_still_a_duplicate() {
    let mut broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("retries", 1, 1, &[]), 7).await;
    let init = client.send(&InitProducerIdRequest::default(), 4).await;
    let ids = (init.producer_id.0, init.producer_epoch, 0);
    let first = producer_batch(&[(None, "a"), (None, "b")], 1, Compression::None, ids);
    let produced = client.send(&produce_request("retries", 0, -1, first.clone()), 9).await;
    assert_eq!(produced.responses[0].partition_responses[0].base_offset, 0);
    // The broker goes down after writing; the producer retries once it is back.
    broker.restart().await;
    let mut client = broker.client().await;
    let retried = client.send(&produce_request("retries", 0, -1, first), 9).await;
    let partition = &retried.responses[0].partition_responses[0];
    assert_eq!((partition.error_code, partition.base_offset), (0, 0), "answered with the original offset");
    let next = producer_batch(&[(None, "c")], 2, Compression::None, (ids.0, ids.1, 2));
    let next = client.send(&produce_request("retries", 0, -1, next), 9).await;
    assert_eq!(next.responses[0].partition_responses[0].base_offset, 2, "and the sequence goes on");
}

fn describe_quorum_request(topic: &str, partition: i32) -> DescribeQuorumRequest {
    use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
    let mut partition_data = PartitionData::default();
    partition_data.partition_index = partition;
    let mut topic_data = TopicData::default();
    topic_data.topic_name = name(topic);
    topic_data.partitions = vec![partition_data];
    let mut request = DescribeQuorumRequest::default();
    request.topics = vec![topic_data];
    request
}

/// `(leader id, leader epoch, high watermark, voters' log end offsets, observers)` of
/// `__cluster_metadata-0`.
async fn quorum_status(client: &mut common::Client) -> (i32, i32, i64, Vec<i64>, Vec<i32>) {
    let response = client.send(&describe_quorum_request("__cluster_metadata", 0), 2).await;
    assert_eq!(response.error_code, 0);
    let partition = &response.topics[0].partitions[0];
    assert_eq!(partition.error_code, 0);
    (
        partition.leader_id.0,
        partition.leader_epoch,
        partition.high_watermark,
        partition.current_voters.iter().map(|v| v.log_end_offset).collect(),
        partition.observers.iter().map(|o| o.replica_id.0).collect(),
    )
}

#[tokio::test]
async fn the_metadata_quorum_records_every_change_and_counts_restarts() {
    // Without idle NoOpRecords, so that the log holds exactly the changes counted here.
    let mut broker = TestBroker::start_with(|config| config.metadata_max_idle_interval_ms = None).await;
    let cluster_id;
    let directory_id;
    let high_watermark;
    {
        let mut client = broker.client().await;
        // A fresh controller elects itself for epoch 1 (a LeaderChange at offset 0); broker 1
        // registers and is unfenced (two more records); it follows the log as an observer.
        let (leader, epoch, start, voters, observers) = quorum_status(&mut client).await;
        assert_eq!((leader, epoch, observers), (3000, 1, vec![1]));
        assert!(start >= 3, "LeaderChange, RegisterBroker, BrokerRegistrationChange: {start}");
        assert_eq!(voters, vec![start]);
        let voter = client.send(&describe_quorum_request("__cluster_metadata", 0), 2).await.topics[0].partitions[0]
            .current_voters[0]
            .clone();
        assert_eq!(voter.replica_id, BrokerId(3000));
        assert!(!voter.replica_directory_id.is_nil(), "KIP-858 directory id");
        assert!(voter.last_fetch_timestamp > 0 && voter.last_caught_up_timestamp == voter.last_fetch_timestamp);
        directory_id = voter.replica_directory_id;
        cluster_id = client.send(&all_topics(), 12).await.cluster_id;

        // A topic of 2 partitions is a TopicRecord and two PartitionRecords; deleting it is one more.
        client.send(&create_request("orders", 2, 1, &[]), 7).await;
        assert_eq!(quorum_status(&mut client).await.2, start + 3);
        let mut delete = DeleteTopicsRequest::default();
        delete.topic_names = vec![name("orders")];
        delete.timeout_ms = 5_000;
        assert_eq!(client.send(&delete, 4).await.responses[0].error_code, 0);
        high_watermark = quorum_status(&mut client).await.2;
        assert_eq!(high_watermark, start + 4);

        // Other partitions do not exist; the metadata topic cannot be created or read.
        let other = client.send(&describe_quorum_request("__cluster_metadata", 1), 2).await;
        assert_eq!(other.topics[0].partitions[0].error_code, 3, "UNKNOWN_TOPIC_OR_PARTITION");
        let created = client.send(&create_request("__cluster_metadata", 1, 1, &[]), 7).await;
        assert_eq!(created.topics[0].error_code, 42, "INVALID_REQUEST");
        assert_eq!(
            created.topics[0].error_message.as_ref().map(|m| m.to_string()).as_deref(),
            Some("Creation of internal topic __cluster_metadata is prohibited.")
        );
        let mut metadata = MetadataRequest::default();
        let mut topic = MetadataRequestTopic::default();
        topic.name = Some(name("__cluster_metadata"));
        metadata.topics = Some(vec![topic]);
        metadata.allow_auto_topic_creation = true;
        assert_eq!(client.send(&metadata, 12).await.topics[0].error_code, 3, "not auto-created");
    }
    broker.restart().await;
    let mut client = broker.client().await;
    let (_, epoch, after_restart, _, _) = quorum_status(&mut client).await;
    assert_eq!(epoch, 2, "a restarted sole controller elects itself for the next epoch");
    assert!(after_restart > high_watermark + 1, "the LeaderChange, and the broker's shutdown and return");
    assert!(client.send(&all_topics(), 12).await.topics.is_empty(), "the deletion was replayed");
    assert_eq!(client.send(&all_topics(), 12).await.cluster_id, cluster_id, "meta.properties keeps the id");
    let voter = &client.send(&describe_quorum_request("__cluster_metadata", 0), 2).await.topics[0].partitions[0]
        .current_voters[0];
    assert_eq!(voter.replica_directory_id, directory_id);
}

#[tokio::test]
async fn an_idle_metadata_log_still_moves_with_noop_records() {
    // KIP-835: the active controller appends a NoOpRecord whenever the log has been idle for
    // `metadata.max.idle.interval.ms`, so observers can tell a live quorum from a stuck one.
    let broker = TestBroker::start_with(|config| config.metadata_max_idle_interval_ms = Some(50)).await;
    let mut client = broker.client().await;
    let (_, epoch, before, _, _) = quorum_status(&mut client).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, now_epoch, now, _, _) = quorum_status(&mut client).await;
        assert_eq!(now_epoch, epoch, "no election happened");
        if now >= before + 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the high watermark stayed at {now} (from {before})");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(client.send(&all_topics(), 12).await.topics.is_empty(), "no records of any topic were made");
}

#[tokio::test]
async fn describe_topic_partitions_pages_with_a_cursor() {
    use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("alpha", 3, 1, &[]), 7).await;
    client.send(&create_request("beta", 1, 1, &[]), 7).await;
    let request = |topics: &[&str], limit: i32, cursor: Option<(&str, i32)>| {
        let mut request = DescribeTopicPartitionsRequest::default();
        request.topics = topics
            .iter()
            .map(|topic| {
                let mut wanted = TopicRequest::default();
                wanted.name = name(topic);
                wanted
            })
            .collect();
        request.response_partition_limit = limit;
        request.cursor = cursor.map(|(topic, partition)| {
            let mut cursor = Cursor::default();
            cursor.topic_name = name(topic);
            cursor.partition_index = partition;
            cursor
        });
        request
    };
    let page = |response: &DescribeTopicPartitionsResponse| {
        let shown: Vec<(String, i32)> = response
            .topics
            .iter()
            .flat_map(|t| {
                let topic = t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default();
                t.partitions.iter().map(move |p| (topic.clone(), p.partition_index))
            })
            .collect();
        let next = response.next_cursor.as_ref().map(|c| (c.topic_name.0.to_string(), c.partition_index));
        (shown, next)
    };
    let first = client.send(&request(&[], 2, None), 0).await;
    assert_eq!(page(&first), (vec![("alpha".into(), 0), ("alpha".into(), 1)], Some(("alpha".into(), 2))));
    let second = client.send(&request(&[], 2, Some(("alpha", 2))), 0).await;
    assert_eq!(page(&second), (vec![("alpha".into(), 2), ("beta".into(), 0)], None));
    let one = &second.topics[0].partitions[0];
    assert_eq!(
        (one.leader_id.0, one.eligible_leader_replicas.as_deref(), one.last_known_elr.as_deref()),
        (1, Some(&[][..]), Some(&[][..]))
    );

    let missing = client.send(&request(&["beta", "nope"], 10, None), 0).await;
    let errors: Vec<i16> = missing.topics.iter().map(|t| t.error_code).collect();
    assert_eq!(errors, [0, 3], "beta, then nope: UNKNOWN_TOPIC_OR_PARTITION");
    let bad_cursor = client.send(&request(&["beta"], 10, Some(("alpha", 0))), 0).await;
    assert_eq!(bad_cursor.topics[0].error_code, 42, "INVALID_REQUEST: the cursor topic was not asked for");
}

#[tokio::test]
async fn a_clean_shutdown_is_recorded_for_the_next_start_and_then_forgotten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("broker-1").join(".kafka_cleanshutdown");
    let broker = common::start_in(dir.path()).await;
    assert!(!marker.exists(), "running: no clean shutdown to show");
    broker.shutdown().await;
    let text = std::fs::read_to_string(&marker).expect("written by the controlled shutdown");
    let recorded: serde_json::Value = serde_json::from_str(&text).expect("Kafka's JSON");
    assert_eq!(recorded["version"], 0);
    assert!(recorded["brokerEpoch"].as_i64().is_some_and(|epoch| epoch >= 0), "{text}");
    let broker = common::start_in(dir.path()).await;
    assert!(!marker.exists(), "read once: a crash of this incarnation is not taken for clean");
    broker.shutdown().await;
}

#[tokio::test]
async fn a_restart_with_many_topics_keeps_every_record() {
    // A restarted broker used to act on a metadata image that was still partial (the restarted
    // controller's high watermark) and delete the logs of the topics it had not read yet.
    let mut broker = TestBroker::start().await;
    let topics: Vec<String> = (0..150).map(|i| format!("many-{i:03}")).collect();
    {
        let mut client = broker.client().await;
        for topic in &topics {
            assert_eq!(client.send(&create_request(topic, 1, 1, &[]), 7).await.topics[0].error_code, 0);
            let produced =
                client.send(&produce_request(topic, 0, -1, batch(&[(None, topic)], 1, Compression::None)), 9).await;
            assert_eq!(produced.responses[0].partition_responses[0].error_code, 0, "{topic}");
        }
    }
    broker.restart().await;
    let mut client = broker.client().await;
    for topic in &topics {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let values = loop {
            let fetched = client.send(&fetch_request(topic, 0, 0, 0), 12).await;
            let partition = &fetched.responses[0].partitions[0];
            if partition.error_code == 0 {
                break records_of(partition.records.clone().unwrap_or_default())
                    .into_iter()
                    .map(|r| r.2)
                    .collect::<Vec<_>>();
            }
            assert!(std::time::Instant::now() < deadline, "{topic}: error {}", partition.error_code);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(values, std::slice::from_ref(topic), "{topic} kept its record");
    }
}

#[tokio::test]
async fn a_log_append_time_topic_stamps_each_batch_with_the_time_the_leader_appended_it() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    let created = client.send(&create_request("clicks", 1, 1, &[("message.timestamp.type", "LogAppendTime")]), 7).await;
    assert_eq!(created.topics[0].error_code, 0, "{:?}", created.topics[0].error_message);
    let now_ms = || i64::try_from(std::time::UNIX_EPOCH.elapsed().expect("clock").as_millis()).expect("ms");

    let mut stamps = Vec::new();
    for compression in [Compression::None, Compression::Gzip] {
        let before = now_ms();
        let records = batch(&[(None, "a"), (None, "b")], 1_000, compression);
        let produced = client.send(&produce_request("clicks", 0, 1, records), 9).await;
        let partition = &produced.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, 0, "{:?}", partition.error_message);
        assert!((before..=now_ms()).contains(&partition.log_append_time_ms), "{}", partition.log_append_time_ms);
        stamps.push(partition.log_append_time_ms);
    }

    // The stored batches say LogAppendTime, with that time as their maxTimestamp.
    let fetched = client.send(&fetch_request("clicks", 0, 0, 0), 12).await;
    let mut bytes = fetched.responses[0].partitions[0].records.clone().expect("records");
    let mut seen = Vec::new();
    while !bytes.is_empty() {
        let set = kafka_protocol::records::RecordBatchDecoder::decode(&mut bytes).expect("decodes");
        assert!(set.records.iter().all(|r| r.timestamp_type == kafka_protocol::records::TimestampType::LogAppend));
        seen.push(set.records.len());
    }
    assert_eq!(seen, [2, 2]);
    let timestamps = client.send(&list_offsets_request("clicks", 0, -3), 7).await;
    let latest = &timestamps.topics[0].partitions[0];
    assert_eq!(latest.timestamp, stamps[1], "KIP-734's max timestamp is the last stamp");

    // A CreateTime topic keeps the producer's timestamps and answers -1.
    client.send(&create_request("orders", 1, 1, &[]), 7).await;
    let produced =
        client.send(&produce_request("orders", 0, 1, batch(&[(None, "a")], 1_000, Compression::None)), 9).await;
    assert_eq!(produced.responses[0].partition_responses[0].log_append_time_ms, -1);
}
