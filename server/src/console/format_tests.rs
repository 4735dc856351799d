//! Format tests: exact output of the real tools. The column-aligned tables below were produced by
//! a separate transcription of the Java `printf` formats (`ConsumerGroupCommand`,
//! `GroupOffsetsResetter.printOffsetsToReset`, `ToolsUtils.prettyPrintTable`), not by this code.

use super::format::*;
use super::parse::{MessageFormat, PartitionReports};
use crate::kafka::{QuorumInfo, QuorumNodeInfo, QuorumReplicaInfo};

// ----------------------------------------------------------------------------------------------
// kafka-topics.sh

fn orders() -> TopicDescription {
    TopicDescription {
        name: "orders".into(),
        topic_id: Some("9z6eWWd0QxK3qGmNsKxR8w".into()),
        partitions: vec![
            PartitionDescription {
                partition: 1,
                leader: Some(1),
                replicas: vec![1],
                isr: vec![1],
                elr: Some(vec![]),
                last_known_elr: Some(vec![]),
            },
            PartitionDescription {
                partition: 0,
                leader: Some(1),
                replicas: vec![1],
                isr: vec![1],
                elr: Some(vec![]),
                last_known_elr: Some(vec![]),
            },
        ],
        configs: vec![("retention.ms".into(), "1000".into())],
        min_insync_replicas: 1,
    }
}

#[test]
fn console_format_topics_create_and_list() {
    assert_eq!(topic_created("orders"), "Created topic orders.\n");
    assert_eq!(
        topics_list(&["payments".into(), "__consumer_offsets".into(), "orders".into()]),
        "__consumer_offsets\norders\npayments\n"
    );
    assert_eq!(topics_list(&[]), "\n");
    assert_eq!(
        topics_error("Topic 'orders' already exists."),
        "Error while executing topic command : Topic 'orders' already exists.\n"
    );
    assert_eq!(topic_does_not_exist("orders"), "Topic 'orders' does not exist as expected\n");
}

#[test]
fn console_format_topics_describe() {
    let expected = concat!(
        "Topic: orders\tTopicId: 9z6eWWd0QxK3qGmNsKxR8w\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=1000\n",
        "\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n",
        "\tTopic: orders\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n",
    );
    assert_eq!(topics_describe(&[orders()], &PartitionReports::default(), &[1]), expected);
}

#[test]
fn console_format_topics_describe_without_id_elr_or_leader() {
    let topic = TopicDescription {
        name: "t".into(),
        topic_id: None,
        partitions: vec![PartitionDescription {
            partition: 0,
            leader: None,
            replicas: vec![1, 2, 3],
            isr: vec![2, 3],
            elr: None,
            last_known_elr: None,
        }],
        configs: vec![],
        min_insync_replicas: 2,
    };
    let expected = concat!(
        "Topic: t\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: \n",
        "\tTopic: t\tPartition: 0\tLeader: none\tReplicas: 1,2,3\tIsr: 2,3\tElr: N/A\tLastKnownElr: N/A\n",
    );
    assert_eq!(topics_describe(std::slice::from_ref(&topic), &PartitionReports::default(), &[1, 2, 3]), expected);

    // Partition filters drop the topic line and keep only matching partitions.
    let under = PartitionReports { under_replicated: true, ..PartitionReports::default() };
    assert_eq!(
        topics_describe(&[topic.clone(), orders()], &under, &[1, 2, 3]),
        "\tTopic: t\tPartition: 0\tLeader: none\tReplicas: 1,2,3\tIsr: 2,3\tElr: N/A\tLastKnownElr: N/A\n"
    );
    let at_min = PartitionReports { at_min_isr: true, ..PartitionReports::default() };
    assert_eq!(topics_describe(std::slice::from_ref(&topic), &at_min, &[]).lines().count(), 1);
    // --topics-with-overrides: topics with configs only, no partitions.
    let overrides = PartitionReports { topics_with_overrides: true, ..PartitionReports::default() };
    assert_eq!(
        topics_describe(&[topic, orders()], &overrides, &[]),
        "Topic: orders\tTopicId: 9z6eWWd0QxK3qGmNsKxR8w\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=1000\n"
    );
}

// ----------------------------------------------------------------------------------------------
// kafka-console-consumer.sh

fn record() -> ConsumedRecord {
    ConsumedRecord {
        topic: "orders".into(),
        partition: 0,
        offset: 5,
        timestamp: RecordTimestamp::CreateTime(1_700_000_000_000),
        key: Some(b"user-42".to_vec()),
        value: Some(b"order-1".to_vec()),
        headers: vec![],
    }
}

fn printed(format: &MessageFormat) -> String {
    console_record(&record(), format).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn console_format_record_value_only_by_default() {
    assert_eq!(printed(&MessageFormat::default()), "order-1\n");
}

#[test]
fn console_format_record_with_key() {
    let format = MessageFormat { print_key: true, ..MessageFormat::default() };
    assert_eq!(printed(&format), "user-42\torder-1\n");
    let format = MessageFormat { print_key: true, key_separator: " => ".into(), ..MessageFormat::default() };
    assert_eq!(printed(&format), "user-42 => order-1\n");
}

#[test]
fn console_format_record_with_every_field() {
    let format = MessageFormat {
        print_timestamp: true,
        print_partition: true,
        print_offset: true,
        print_key: true,
        ..MessageFormat::default()
    };
    assert_eq!(printed(&format), "CreateTime:1700000000000\tPartition:0\tOffset:5\tuser-42\torder-1\n");
    let with_headers = MessageFormat { print_headers: true, print_delivery: true, ..format };
    let mut r = record();
    r.headers = vec![("source".into(), Some(b"web".to_vec())), ("trace".into(), None)];
    assert_eq!(
        console_record(&r, &with_headers).ok().as_deref(),
        Some(
            "CreateTime:1700000000000\tPartition:0\tOffset:5\tDelivery:NONE\tsource:web,trace:null\tuser-42\torder-1\n"
        )
    );
}

#[test]
fn console_format_record_nulls_timestamps_and_no_value() {
    let mut r = record();
    r.key = None;
    r.value = None;
    r.timestamp = RecordTimestamp::LogAppendTime(7);
    let format = MessageFormat { print_key: true, print_timestamp: true, ..MessageFormat::default() };
    assert_eq!(console_record(&r, &format).ok().as_deref(), Some("LogAppendTime:7\tnull\tnull\n"));
    r.timestamp = RecordTimestamp::None;
    assert_eq!(console_record(&r, &format).ok().as_deref(), Some("NO_TIMESTAMP\tnull\tnull\n"));

    // print.value=false: the last printed field ends the line.
    let keys_only = MessageFormat { print_key: true, print_value: false, ..MessageFormat::default() };
    assert_eq!(printed(&keys_only), "user-42\n");
    let offsets_only = MessageFormat { print_offset: true, print_value: false, ..MessageFormat::default() };
    assert_eq!(printed(&offsets_only), "Offset:5\n");
    let headers_only = MessageFormat { print_headers: true, print_value: false, ..MessageFormat::default() };
    assert_eq!(printed(&headers_only), "NO_HEADERS\n");
}

#[test]
fn console_format_record_with_long_deserializer() {
    use super::parse::Deserializer;
    let mut r = record();
    r.value = Some(42_i64.to_be_bytes().to_vec());
    let format = MessageFormat { print_key: true, value_deserializer: Deserializer::Long, ..MessageFormat::default() };
    assert_eq!(console_record(&r, &format).ok().as_deref(), Some("user-42\t42\n"));
    r.value = Some(b"text".to_vec());
    assert_eq!(
        console_record(&r, &format).map_err(|e| e.to_string()),
        Err(
            "org.apache.kafka.common.errors.SerializationException: Size of data received by LongDeserializer is not 8"
                .into()
        )
    );
    let ints = MessageFormat { value_deserializer: Deserializer::Integer, ..MessageFormat::default() };
    r.value = Some((-3_i32).to_be_bytes().to_vec());
    assert_eq!(console_record(&r, &ints).ok().as_deref(), Some("-3\n"));
}

#[test]
fn console_format_consumer_summary() {
    assert_eq!(console_consumer_summary(3), "Processed a total of 3 messages\n");
}

// ----------------------------------------------------------------------------------------------
// kafka-consumer-groups.sh

const CONSUMER: &str = "console-consumer-3f8a1b2c-0d4e-4f7a-9b1c-2d3e4f5a6b7c";

fn row(partition: i32, current: i64, end: i64, owned: bool) -> GroupOffsetRow {
    GroupOffsetRow {
        group: "my-group".into(),
        topic: Some("orders".into()),
        partition: Some(partition),
        leader_epoch: None,
        current_offset: Some(current),
        log_end_offset: Some(end),
        consumer_id: owned.then(|| CONSUMER.into()),
        host: owned.then(|| "/127.0.0.1".into()),
        client_id: owned.then(|| "console-consumer".into()),
    }
}

#[test]
fn console_format_groups_describe_offsets() {
    const OFFSETS: &str = concat!(
        "\n",
        "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                           HOST            CLIENT-ID\n",
        "my-group        orders          0          3               5               2               console-consumer-3f8a1b2c-0d4e-4f7a-9b1c-2d3e4f5a6b7c /127.0.0.1      console-consumer\n",
        "my-group        orders          1          4               4               0               console-consumer-3f8a1b2c-0d4e-4f7a-9b1c-2d3e4f5a6b7c /127.0.0.1      console-consumer\n",
        "my-group        orders          2          7               9               2               -                                                     -               -\n",
    );
    let group = GroupDescription {
        group: "my-group".into(),
        state: GroupStateView::Stable,
        rows: vec![row(0, 3, 5, true), row(1, 4, 4, true), row(2, 7, 9, false)],
    };
    assert_eq!(groups_describe_offsets(&[group], false), OFFSETS);
}

#[test]
fn console_format_groups_describe_empty_group_and_verbose() {
    const EMPTY: &str = concat!(
        "\n",
        "Consumer group 'g' has no active members.\n",
        "\n",
        "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n",
        "g               orders          0          3               3               0               -               -               -\n",
    );
    const VERBOSE: &str = concat!(
        "\n",
        "GROUP           TOPIC           PARTITION  LEADER-EPOCH    CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID\n",
        "g               orders          0          5               3               3               0               -               -               -\n",
    );
    let mut r = row(0, 3, 3, false);
    r.group = "g".into();
    r.leader_epoch = Some(5);
    let group = GroupDescription { group: "g".into(), state: GroupStateView::Empty, rows: vec![r] };
    assert_eq!(groups_describe_offsets(std::slice::from_ref(&group), false), EMPTY);
    let stable = GroupDescription { state: GroupStateView::Stable, ..group };
    assert_eq!(groups_describe_offsets(&[stable], true), VERBOSE);
}

#[test]
fn console_format_groups_describe_missing_lag_and_states() {
    let mut uncommitted = row(0, 0, 8, true);
    uncommitted.current_offset = None;
    assert_eq!(uncommitted.lag(), None);
    assert_eq!(row(0, 3, 8, true).lag(), Some(5));

    let dead = GroupDescription { group: "nope".into(), state: GroupStateView::Dead, rows: vec![] };
    assert_eq!(groups_describe_offsets(&[dead], false), "\nError: Consumer group 'nope' does not exist.\n");
    let rebalancing = GroupDescription { group: "g".into(), state: GroupStateView::PreparingRebalance, rows: vec![] };
    assert_eq!(groups_describe_offsets(&[rebalancing], false), "\nWarning: Consumer group 'g' is rebalancing.\n");
    let empty = GroupDescription { group: "g".into(), state: GroupStateView::Empty, rows: vec![] };
    assert_eq!(groups_describe_offsets(&[empty], false), "\nConsumer group 'g' has no active members.\n");
}

#[test]
fn console_format_groups_describe_members_and_state() {
    const MEMBERS: &str = concat!(
        "\n",
        "GROUP           CONSUMER-ID                                           HOST            CLIENT-ID        #PARTITIONS     \n",
        "my-group        console-consumer-3f8a1b2c-0d4e-4f7a-9b1c-2d3e4f5a6b7c /127.0.0.1      console-consumer 2               \n",
    );
    let members = GroupMembers {
        group: "my-group".into(),
        state: GroupStateView::Stable,
        members: vec![GroupMember {
            consumer_id: CONSUMER.into(),
            group_instance_id: None,
            host: "/127.0.0.1".into(),
            client_id: "console-consumer".into(),
            assignment: vec![("orders".into(), 1), ("orders".into(), 0)],
            target_assignment: vec![],
            member_epoch: None,
        }],
        target_assignment_epoch: None,
    };
    assert_eq!(groups_describe_members(std::slice::from_ref(&members), false), MEMBERS);
    // Like the real tool, the header comes even for a group that does not exist.
    let dead =
        GroupMembers { group: "x".into(), state: GroupStateView::Dead, members: vec![], target_assignment_epoch: None };
    assert_eq!(
        groups_describe_members(&[dead], false),
        concat!(
            "\nError: Consumer group 'x' does not exist.\n",
            "\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n",
        )
    );
    let verbose = groups_describe_members(&[members], true);
    assert!(
        verbose.contains("CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   \n"),
        "{verbose}"
    );
    assert!(
        verbose.contains("-               orders:0,1           -               -                   \n"),
        "{verbose}"
    );

    const STATE: &str = concat!(
        "\n",
        "GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                #MEMBERS\n",
        "my-group        localhost:9092  (1)       range                Stable               1\n",
    );
    let state = GroupStateDescription {
        group: "my-group".into(),
        coordinator: CoordinatorView { id: 1, host: "localhost".into(), port: 9092 },
        assignment_strategy: "range".into(),
        state: GroupStateView::Stable,
        members: 1,
        group_epoch: None,
        target_assignment_epoch: None,
    };
    assert_eq!(groups_describe_state(&[state], false), STATE);
}

#[test]
fn console_format_groups_list() {
    assert_eq!(groups_list(&["a".into(), "b".into()]), "a\nb\n");
    const LIST: &str =
        concat!("GROUP                     STATE               \n", "my-group                  Stable              \n");
    let listing = GroupListing { group: "my-group".into(), group_type: None, state: Some(GroupStateView::Stable) };
    assert_eq!(groups_list_table(&[listing], false, true), LIST);
}

#[test]
fn console_format_groups_reset_offsets() {
    const RESET: &str = concat!(
        "\n",
        "GROUP           TOPIC           PARTITION  NEW-OFFSET\n",
        "my-group        orders          0          0\n",
        "my-group        orders          1          0\n",
    );
    let plan =
        GroupResetPlan { group: "my-group".into(), offsets: vec![("orders".into(), 1, 0), ("orders".into(), 0, 0)] };
    assert_eq!(groups_reset_offsets(std::slice::from_ref(&plan)), RESET);
    assert_eq!(groups_reset_offsets(&[]), "\n");
    assert_eq!(groups_reset_offsets_csv(&[plan]), "orders,1,0\norders,0,0\n");
    assert_eq!(
        group_error("Assignments can only be reset if the group 'g' is inactive, but the current state is Stable."),
        "\nError: Assignments can only be reset if the group 'g' is inactive, but the current state is Stable.\n"
    );
}

#[test]
fn console_format_groups_deleted() {
    assert_eq!(groups_deleted(&["g".into()], &[]), "Deletion of requested consumer groups ('g') was successful.\n");
    assert_eq!(
        groups_deleted(
            &["a".into()],
            &[("b".into(), "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.".into())]
        ),
        concat!(
            "\nError: Deletion of some consumer groups failed:\n",
            "* Group 'b' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n",
            "\nThese consumer groups were deleted successfully: 'a'\n",
        )
    );
    assert_eq!(
        groups_offsets_deleted("g", None, &[("orders".into(), Some(0), None)]),
        concat!(
            "Request succeeded for deleting offsets from group g.\n",
            "\nTOPIC           PARTITION  STATUS         ",
            "\norders          0          Successful     \n",
        )
    );
}

// ----------------------------------------------------------------------------------------------
// kafka-configs.sh

fn retention(source: ConfigSource) -> ConfigEntry {
    ConfigEntry {
        name: "retention.ms".into(),
        value: Some("1000".into()),
        source,
        sensitive: false,
        synonyms: vec![ConfigSynonym { name: "retention.ms".into(), value: Some("1000".into()), source }],
    }
}

#[test]
fn console_format_configs_describe_dynamic() {
    let default = ConfigEntry {
        name: "cleanup.policy".into(),
        value: Some("delete".into()),
        source: ConfigSource::DefaultConfig,
        sensitive: false,
        synonyms: vec![ConfigSynonym {
            name: "log.cleanup.policy".into(),
            value: Some("delete".into()),
            source: ConfigSource::DefaultConfig,
        }],
    };
    let description = ConfigDescription {
        resource: ConfigResourceName::Topic("orders".into()),
        entries: vec![retention(ConfigSource::DynamicTopicConfig), default],
    };
    assert_eq!(
        configs_describe(std::slice::from_ref(&description), false),
        "Dynamic configs for topic orders are:\n  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}\n"
    );
    assert_eq!(
        configs_describe(&[description], true),
        concat!(
            "All configs for topic orders are:\n",
            "  cleanup.policy=delete sensitive=false synonyms={DEFAULT_CONFIG:log.cleanup.policy=delete}\n",
            "  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}\n",
        )
    );
}

#[test]
fn console_format_config_sources_read_from_their_wire_codes() {
    let sources: Vec<&str> = (0..=9).map(|code| ConfigSource::from_code(code).as_str()).collect();
    assert_eq!(
        sources,
        [
            "UNKNOWN",
            "DYNAMIC_TOPIC_CONFIG",
            "DYNAMIC_BROKER_CONFIG",
            "DYNAMIC_DEFAULT_BROKER_CONFIG",
            "STATIC_BROKER_CONFIG",
            "DEFAULT_CONFIG",
            "DYNAMIC_BROKER_LOGGER_CONFIG",
            "DYNAMIC_CLIENT_METRICS_CONFIG",
            "DYNAMIC_GROUP_CONFIG",
            "UNKNOWN",
        ]
    );
}

#[test]
fn console_format_configs_brokers_and_messages() {
    let mut entry = retention(ConfigSource::DynamicDefaultBrokerConfig);
    entry.name = "log.retention.ms".into();
    entry.synonyms.push(ConfigSynonym {
        name: "log.retention.hours".into(),
        value: Some("168".into()),
        source: ConfigSource::DefaultConfig,
    });
    let description = ConfigDescription { resource: ConfigResourceName::BrokerDefault, entries: vec![entry] };
    assert_eq!(
        configs_describe(&[description], false),
        concat!(
            "Default configs for brokers in the cluster are:\n",
            "  log.retention.ms=1000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.hours=168}\n",
        )
    );
    let broker = ConfigDescription { resource: ConfigResourceName::Broker(1), entries: vec![] };
    assert_eq!(configs_describe(&[broker], false), "Dynamic configs for broker 1 are:\n");
    assert_eq!(
        configs_altered(&ConfigResourceName::Topic("orders".into())),
        "Completed updating config for topic orders.\n"
    );
    assert_eq!(
        configs_altered(&ConfigResourceName::BrokerDefault),
        "Completed updating default config for brokers in the cluster.\n"
    );
    assert_eq!(
        config_entity_missing(&ConfigResourceName::Topic("nope".into())),
        "The topic 'nope' doesn't exist and doesn't have dynamic config.\n"
    );
    assert_eq!(configs_invalid_delete(&["a".into(), "b".into()]), "Invalid config(s): a,b\n");
}

// ----------------------------------------------------------------------------------------------
// kafka-get-offsets.sh

#[test]
fn console_format_get_offsets_sorted_like_a_treemap_of_strings() {
    let rows: Vec<OffsetRow> = [2, 10, 0, 1]
        .into_iter()
        .map(|partition| OffsetRow { topic: "orders".into(), partition, offset: Some(i64::from(partition) * 5) })
        .chain([OffsetRow { topic: "audit".into(), partition: 0, offset: None }])
        .collect();
    assert_eq!(get_offsets(&rows), "orders:0:0\norders:1:5\norders:10:50\norders:2:10\n");
    assert_eq!(
        get_offsets_no_match(),
        "Error occurred: Could not match any topic-partitions with the specified filters\n"
    );
}

// ----------------------------------------------------------------------------------------------
// kafka-metadata-quorum.sh

fn quorum() -> QuorumInfo {
    QuorumInfo {
        cluster_id: "MkU3OEVBNTcwNTJENDM2Qk".into(),
        leader_id: 1,
        leader_epoch: 3,
        high_watermark: 120,
        voters: vec![
            QuorumReplicaInfo {
                replica_id: 1,
                directory_id: None,
                log_end_offset: 120,
                last_fetch_timestamp_ms: Some(1_700_000_000_000),
                last_caught_up_timestamp_ms: Some(1_700_000_000_000),
            },
            QuorumReplicaInfo {
                replica_id: 2,
                directory_id: Some("Hw2L-tv6Xs9Ho7qENmW71g".into()),
                log_end_offset: 100,
                last_fetch_timestamp_ms: Some(1_699_999_999_000),
                last_caught_up_timestamp_ms: Some(1_699_999_990_000),
            },
        ],
        observers: vec![],
        nodes: vec![QuorumNodeInfo { node_id: 1, endpoints: vec![("CONTROLLER".into(), "localhost".into(), 9093)] }],
    }
}

#[test]
fn console_format_quorum_status() {
    assert_eq!(
        quorum_status(&quorum()).ok().as_deref(),
        Some(concat!(
            "ClusterId:              MkU3OEVBNTcwNTJENDM2Qk\n",
            "LeaderId:               1\n",
            "LeaderEpoch:            3\n",
            "HighWatermark:          120\n",
            "MaxFollowerLag:         20\n",
            "MaxFollowerLagTimeMs:   10000\n",
            "CurrentVoters:          [{\"id\": 1, \"directoryId\": null, \"endpoints\": [\"CONTROLLER://localhost:9093\"]}, \
             {\"id\": 2, \"directoryId\": \"Hw2L-tv6Xs9Ho7qENmW71g\"}]\n",
            "CurrentObservers:       []\n",
        ))
    );
    let mut leaderless = quorum();
    leaderless.leader_id = 9;
    assert!(quorum_status(&leaderless).is_err());
}

#[test]
fn console_format_quorum_replication() {
    const REPLICATION: &str = concat!(
        "NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus  \t\n",
        "1     \tAAAAAAAAAAAAAAAAAAAAAA\t120         \t0  \t1700000000000     \t1700000000000        \tLeader  \t\n",
        "2     \tHw2L-tv6Xs9Ho7qENmW71g\t100         \t20 \t1699999999000     \t1699999990000        \tFollower\t\n",
    );
    assert_eq!(quorum_replication(&quorum(), None).ok().as_deref(), Some(REPLICATION));
    let human = quorum_replication(&quorum(), Some(1_700_000_001_000)).unwrap_or_default();
    assert!(human.contains(&format!("\t{:<18}\t{:<21}\tLeader  \t\n", "1000 ms ago", "1000 ms ago")), "{human}");
    assert!(human.contains(&format!("\t{:<18}\t{:<21}\tFollower\t\n", "2000 ms ago", "11000 ms ago")), "{human}");
    assert!(quorum_replication(&quorum(), Some(1_600_000_000_000)).is_err());
}

#[test]
fn broker_errors_print_as_the_java_client_names_them() {
    assert_eq!(
        kafka_exception(19, "not enough"),
        "org.apache.kafka.common.errors.NotEnoughReplicasException: not enough"
    );
    assert_eq!(kafka_exception(3, "x"), "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: x");
    assert_eq!(kafka_exception(2, "x"), "org.apache.kafka.common.errors.CorruptRecordException: x");
}
