//! Behaviour librdkafka's integration suite checks against a real Kafka cluster (issue 16), one
//! regression test per difference found: each asserts what Apache Kafka answers.

#![cfg(feature = "runtime")]

mod common;

use common::{TestBroker, batch, create_request, fetch_request, produce_request, records_of};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

/// Three batches of one 1 KB record each on `topic`'s `partition`.
async fn three_batches(client: &mut common::Client, topic: &str, partition: i32) {
    let value = "v".repeat(1_000);
    for i in 0..3 {
        let produced =
            client.send(&produce_request(topic, partition, 1, batch(&[(None, &value)], i, Compression::None)), 9).await;
        assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    }
}

#[tokio::test]
async fn fetch_stays_within_the_requests_max_bytes_but_always_returns_a_first_batch() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("big", 2, 1, &[]), 7).await;
    three_batches(&mut client, "big", 0).await;
    three_batches(&mut client, "big", 1).await;

    // Both partitions in one request: 1 MB each, 1.5 KB for the whole response (KIP-74).
    let mut request = fetch_request("big", 0, 0, 100);
    let mut second = request.topics[0].partitions[0].clone();
    second.partition = 1;
    request.topics[0].partitions.push(second);
    request.max_bytes = 1_500;
    let fetched = client.send(&request, 12).await;
    let partitions = &fetched.responses[0].partitions;
    let first = records_of(partitions[0].records.clone().expect("records"));
    assert_eq!(first.len(), 1, "the first partition is read up to the response's budget: one batch");
    let second = partitions[1].records.clone().unwrap_or_default();
    assert!(second.is_empty(), "the second partition's first batch would pass the budget: {} bytes", second.len());

    // A budget smaller than one batch still returns the first batch, so the consumer progresses.
    request.max_bytes = 1;
    let fetched = client.send(&request, 12).await;
    let partitions = &fetched.responses[0].partitions;
    assert_eq!(records_of(partitions[0].records.clone().expect("records")).len(), 1);
    assert!(partitions[1].records.clone().unwrap_or_default().is_empty());
}

#[tokio::test]
async fn the_brokers_fetch_max_bytes_caps_what_a_request_may_ask_for() {
    let broker = TestBroker::start_with(|config| config.apply_override("fetch.max.bytes=1500").expect("valid")).await;
    let mut client = broker.client().await;
    client.send(&create_request("big", 1, 1, &[]), 7).await;
    three_batches(&mut client, "big", 0).await;
    // Kafka: min(max_bytes, fetch.max.bytes); the first batch still goes out whole.
    let mut request = fetch_request("big", 0, 0, 100);
    request.max_bytes = i32::MAX;
    let fetched = client.send(&request, 12).await;
    let records = records_of(fetched.responses[0].partitions[0].records.clone().expect("records"));
    assert_eq!(records.len(), 1, "one 1 KB batch of three: the next would pass 1500 bytes");
}

#[tokio::test]
async fn a_transactional_init_producer_id_is_refused_with_an_error_clients_treat_as_fatal() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    let mut request = InitProducerIdRequest::default();
    request.transactional_id = Some(TransactionalId(StrBytes::from_static_str("payments-tx")));
    request.transaction_timeout_ms = 60_000;
    request.producer_id = ProducerId(-1);
    request.producer_epoch = -1;
    for version in [0, 4] {
        let response = client.send(&request, version).await;
        // TRANSACTIONAL_ID_AUTHORIZATION_FAILED: fatal in librdkafka, so init_transactions()
        // fails at once instead of retrying for ever as it does on UNSUPPORTED_VERSION.
        assert_eq!(response.error_code, 53, "v{version}");
        assert_eq!((response.producer_id, response.producer_epoch), (ProducerId(-1), -1));
    }
    // An idempotent producer (no transactional id) still gets its id.
    request.transactional_id = None;
    let response = client.send(&request, 4).await;
    assert_eq!(response.error_code, 0);
    assert!(response.producer_id.0 >= 0);
}

#[tokio::test]
async fn authorized_operations_are_every_operation_when_asked_as_without_an_authorizer_in_kafka() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("ops", 1, 1, &[]), 7).await;
    let mut request = common::all_topics();
    let metadata = client.send(&request, 8).await;
    assert_eq!(metadata.cluster_authorized_operations, i32::MIN, "not asked: Int.MinValue");
    assert_eq!(metadata.topics[0].topic_authorized_operations, i32::MIN);

    request.include_cluster_authorized_operations = true;
    request.include_topic_authorized_operations = true;
    let metadata = client.send(&request, 8).await;
    // AclOperation codes: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
    // ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12 on the cluster; READ 3, WRITE 4, CREATE, DELETE 6,
    // ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS on a topic.
    assert_eq!(metadata.cluster_authorized_operations, 8096);
    assert_eq!(metadata.topics[0].topic_authorized_operations, 3576);

    let mut describe = DescribeClusterRequest::default();
    assert_eq!(client.send(&describe, 0).await.cluster_authorized_operations, i32::MIN, "not asked");
    describe.include_cluster_authorized_operations = true;
    assert_eq!(client.send(&describe, 0).await.cluster_authorized_operations, 8096);

    let mut groups = DescribeGroupsRequest::default();
    groups.groups = vec![GroupId(StrBytes::from_static_str("readers"))];
    assert_eq!(client.send(&groups, 3).await.groups[0].authorized_operations, i32::MIN, "not asked");
    groups.include_authorized_operations = true;
    // READ, DESCRIBE and DELETE on a group.
    assert_eq!(client.send(&groups, 3).await.groups[0].authorized_operations, 328);
}

#[tokio::test]
async fn a_compacted_topic_refuses_a_batch_with_keyless_records_naming_each_one() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("accounts", 1, 1, &[("cleanup.policy", "compact")]), 7).await;
    let records = batch(&[(Some("alice"), "1"), (None, "2"), (None, "3")], 1, Compression::Gzip);
    let produced = client.send(&produce_request("accounts", 0, 1, records), 9).await;
    let partition = &produced.responses[0].partition_responses[0];
    assert_eq!(partition.error_code, 87, "INVALID_RECORD");
    let reason = "Compacted topic cannot accept message without key in topic partition accounts-0.";
    let record_errors: Vec<(i32, Option<String>)> = partition
        .record_errors
        .iter()
        .map(|e| (e.batch_index, e.batch_index_error_message.as_ref().map(|m| m.to_string())))
        .collect();
    assert_eq!(record_errors, [(1, Some(reason.to_owned())), (2, Some(reason.to_owned()))]);
    let message = partition.error_message.as_ref().map(|m| m.to_string()).unwrap_or_default();
    assert!(message.contains("2 record errors") && message.contains(reason), "{message}");
    // Nothing of the batch was appended; keyed records are accepted.
    let keyed =
        client.send(&produce_request("accounts", 0, 1, batch(&[(Some("bob"), "4")], 2, Compression::None)), 9).await;
    assert_eq!(keyed.responses[0].partition_responses[0].error_code, 0);
    assert_eq!(keyed.responses[0].partition_responses[0].base_offset, 0);

    // A topic with `compact,delete` is compacted too; a plain one takes keyless records.
    client.send(&create_request("both", 1, 1, &[("cleanup.policy", "compact,delete")]), 7).await;
    let refused = client.send(&produce_request("both", 0, 1, batch(&[(None, "x")], 1, Compression::None)), 9).await;
    assert_eq!(refused.responses[0].partition_responses[0].error_code, 87);
    client.send(&create_request("plain", 1, 1, &[]), 7).await;
    let taken = client.send(&produce_request("plain", 0, 1, batch(&[(None, "x")], 1, Compression::None)), 9).await;
    assert_eq!(taken.responses[0].partition_responses[0].error_code, 0);
}

fn assigned(topic: &str, assignments: &[(i32, &[i32])]) -> CreateTopicsRequest {
    let mut request = create_request(topic, -1, -1, &[]);
    request.topics[0].assignments = assignments
        .iter()
        .map(|(partition, brokers)| {
            let mut assignment = create_topics_request::CreatableReplicaAssignment::default();
            assignment.partition_index = *partition;
            assignment.broker_ids = brokers.iter().map(|id| BrokerId(*id)).collect();
            assignment
        })
        .collect();
    request
}

#[tokio::test]
async fn create_topics_with_replica_assignments_sizes_the_topic_from_them() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    let created = client.send(&assigned("placed", &[(2, &[1]), (0, &[1]), (1, &[1])]), 7).await;
    let result = &created.topics[0];
    assert_eq!(result.error_code, 0, "{:?}", result.error_message);
    assert_eq!((result.num_partitions, result.replication_factor), (3, 1));
    let metadata = client.send(&common::all_topics(), 12).await;
    let topic = metadata.topics.iter().find(|t| t.name.as_ref().is_some_and(|n| n.0.as_str() == "placed"));
    let partitions = &topic.expect("the topic").partitions;
    assert_eq!(partitions.len(), 3);
    assert!(partitions.iter().all(|p| p.replica_nodes == [BrokerId(1)] && p.leader_id == BrokerId(1)));

    // Kafka's refusals, with its controller's messages (`ReplicationControlManager.createTopic`
    // and `validateManualPartitionAssignment`): counts beside assignments, repeated partitions,
    // empty, unknown or repeated brokers (looked at in id order), replica lists of different
    // lengths, partition indexes that are not 0..n.
    let mut both = assigned("both", &[(0, &[1])]);
    both.topics[0].num_partitions = 1;
    let mut all_three = both.clone();
    all_three.topics[0].replication_factor = 1;
    let refusals = [
        (all_three, 42, "A manual partition assignment was specified, but replication factor was not set to -1."),
        (both, 42, "A manual partition assignment was specified, but numPartitions was not set to -1."),
        (assigned("again", &[(0, &[1]), (0, &[1])]), 39, "Found multiple manual partition assignments for partition 0"),
        (assigned("empty", &[(0, &[])]), 39, "The manual partition assignment includes an empty replica list."),
        (
            assigned("unknown", &[(0, &[7])]),
            39,
            "The manual partition assignment includes broker 7, but no such broker is registered.",
        ),
        (
            assigned("twice", &[(0, &[7, 1, 1])]),
            39,
            "The manual partition assignment includes the broker 1 more than once.",
        ),
        (
            assigned("uneven", &[(0, &[1]), (1, &[])]),
            39,
            "The manual partition assignment includes an empty replica list.",
        ),
        (assigned("holes", &[(0, &[1]), (2, &[1])]), 39, "partitions should be a consecutive 0-based integer sequence"),
    ];
    for (request, code, message) in refusals {
        let name = request.topics[0].name.0.to_string();
        let result = &client.send(&request, 7).await.topics[0];
        assert_eq!(result.error_code, code, "{name}: {:?}", result.error_message);
        assert_eq!(result.error_message.as_ref().map(|m| m.as_str()), Some(message), "{name}");
    }
    let metadata = client.send(&common::all_topics(), 12).await;
    assert_eq!(metadata.topics.len(), 1, "nothing refused was created");
}

#[tokio::test]
async fn num_partitions_from_an_override_sizes_auto_created_and_default_sized_topics() {
    // librdkafka's CI brokers run with `num.partitions=4`; `--override` sets it as
    // `kafka-server-start.sh --override` does.
    let broker =
        TestBroker::start_with(|config| config.apply_override("num.partitions=4").expect("a broker config")).await;
    let mut client = broker.client().await;

    // Auto-created by Metadata, and created by CreateTopics with num_partitions = -1.
    let mut wanted = metadata_request::MetadataRequestTopic::default();
    wanted.name = Some(common::name("auto"));
    let mut request = MetadataRequest::default();
    request.topics = Some(vec![wanted]);
    request.allow_auto_topic_creation = true;
    client.send(&request, 12).await;
    let created = client.send(&create_request("defaulted", -1, -1, &[]), 7).await;
    assert_eq!((created.topics[0].error_code, created.topics[0].num_partitions), (0, 4));
    let metadata = client.send(&common::all_topics(), 12).await;
    let mut sizes: Vec<(String, usize)> = metadata
        .topics
        .iter()
        .map(|t| (t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default(), t.partitions.len()))
        .collect();
    sizes.sort();
    assert_eq!(sizes, [("auto".to_owned(), 4), ("defaulted".to_owned(), 4)]);

    // DescribeConfigs on the broker shows it as set at start-up; like Kafka, it is read-only.
    let mut resource = describe_configs_request::DescribeConfigsResource::default();
    resource.resource_type = 4;
    resource.resource_name = StrBytes::from_static_str("1");
    resource.configuration_keys = Some(vec![StrBytes::from_static_str("num.partitions")]);
    let mut describe = DescribeConfigsRequest::default();
    describe.resources = vec![resource];
    let described = client.send(&describe, 4).await;
    let entry = described.results[0].configs.iter().find(|c| c.name.as_str() == "num.partitions");
    let entry = entry.expect("num.partitions is described");
    assert_eq!((entry.value.as_ref().map(|v| v.as_str()), entry.config_source, entry.read_only), (Some("4"), 4, true));
}

#[tokio::test]
async fn an_offset_commit_naming_a_generation_of_an_unknown_group_is_refused_as_kafka_refuses_it() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send(&create_request("orders", 1, 1, &[]), 7).await;
    let mut partition = offset_commit_request::OffsetCommitRequestPartition::default();
    partition.partition_index = 0;
    partition.committed_offset = 5;
    let mut topic = offset_commit_request::OffsetCommitRequestTopic::default();
    topic.name = common::name("orders");
    topic.partitions = vec![partition];
    let mut request = OffsetCommitRequest::default();
    request.group_id = GroupId(StrBytes::from_static_str("nobody-joined"));
    request.generation_id_or_member_epoch = 4;
    request.member_id = StrBytes::from_static_str("rdkafka-1");
    request.topics = vec![topic];
    // ILLEGAL_GENERATION before v9, GROUP_ID_NOT_FOUND from v9 (KIP-848's change).
    for (version, code) in [(8, 22), (9, 69)] {
        let response = client.send(&request, version).await;
        assert_eq!(response.topics[0].partitions[0].error_code, code, "v{version}");
    }
    let mut list = ListGroupsRequest::default();
    list.states_filter = Vec::new();
    assert!(client.send(&list, 4).await.groups.is_empty(), "no group was created");
}

/// CreatePartitions of `topic` to `count`, with replica lists for the new partitions.
fn grow(topic: &str, count: i32, assignments: Option<&[&[i32]]>) -> CreatePartitionsRequest {
    let mut wanted = create_partitions_request::CreatePartitionsTopic::default();
    wanted.name = common::name(topic);
    wanted.count = count;
    wanted.assignments = assignments.map(|lists| {
        lists
            .iter()
            .map(|brokers| {
                let mut assignment = create_partitions_request::CreatePartitionsAssignment::default();
                assignment.broker_ids = brokers.iter().map(|id| BrokerId(*id)).collect();
                assignment
            })
            .collect()
    });
    let mut request = CreatePartitionsRequest::default();
    request.topics = vec![wanted];
    request.timeout_ms = 5_000;
    request
}

#[tokio::test]
async fn create_partitions_places_new_partitions_as_their_replica_assignments_say() {
    let broker = TestBroker::start_with(|config| config.brokers = 3).await;
    let mut client = broker.client().await;
    let created = client.send(&assigned("spread", &[(0, &[1, 2])]), 7).await;
    assert_eq!(created.topics[0].error_code, 0, "{:?}", created.topics[0].error_message);
    let grown = client.send(&grow("spread", 3, Some(&[&[3, 1], &[2, 3]])), 3).await;
    assert_eq!(grown.results[0].error_code, 0, "{:?}", grown.results[0].error_message);
    let metadata = client.send(&common::all_topics(), 12).await;
    let replicas: Vec<Vec<i32>> =
        metadata.topics[0].partitions.iter().map(|p| p.replica_nodes.iter().map(|id| id.0).collect()).collect();
    assert_eq!(replicas, [vec![1, 2], vec![3, 1], vec![2, 3]]);
    assert_eq!(metadata.topics[0].partitions[1].leader_id, BrokerId(3), "the first replica leads");

    // Kafka's refusals and messages (`ReplicationControlManager.createPartitions`).
    let refusals: [(CreatePartitionsRequest, i16, &str); 6] = [
        (grow("spread", 3, None), 37, "Topic already has 3 partition(s)."),
        (grow("spread", 2, None), 37, "The topic spread currently has 3 partition(s); 2 would not be an increase."),
        (
            grow("spread", 4, Some(&[&[1, 2], &[2, 3]])),
            39,
            "Attempted to add 1 additional partition(s), but only 2 assignment(s) were specified.",
        ),
        (
            grow("spread", 4, Some(&[])),
            39,
            "Attempted to add 1 additional partition(s), but only 0 assignment(s) were specified.",
        ),
        (
            grow("spread", 4, Some(&[&[1, 9]])),
            39,
            "The manual partition assignment includes broker 9, but no such broker is registered.",
        ),
        (
            grow("spread", 4, Some(&[&[1]])),
            39,
            "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent \
             with previous partitions, which have 2 replica(s).",
        ),
    ];
    for (request, code, message) in refusals {
        let result = &client.send(&request, 3).await.results[0];
        assert_eq!(result.error_code, code, "{message}");
        assert_eq!(result.error_message.as_ref().map(|m| m.as_str()), Some(message));
    }
    let metadata = client.send(&common::all_topics(), 12).await;
    assert_eq!(metadata.topics[0].partitions.len(), 3, "nothing refused was added");
}
