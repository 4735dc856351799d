//! Console scripts against a real broker, with the real tools' output.

use server::console::exec::run_script;
use server::kafka::Kafka;

async fn broker() -> (broker::Broker, tempfile::TempDir, Kafka) {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = broker::Broker::start(broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), dir.path().to_owned()))
        .await
        .expect("broker");
    let kafka = Kafka::new(broker.local_addr());
    (broker, dir, kafka)
}

async fn ok(kafka: &Kafka, script: &str) -> String {
    let ran = run_script(kafka, script).await;
    assert!(ran.ok, "{script}\n---\n{}", ran.output);
    ran.output
}

#[tokio::test]
async fn consumer_groups_describe_reset_and_delete() {
    let (broker, _dir, kafka) = broker().await;
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic payments --partitions 1").await;
    ok(&kafka, "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic payments\np1\np2\np3\np4\np5")
        .await;
    let consumed = ok(
        &kafka,
        "kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic payments --group billing --from-beginning --max-messages 3",
    )
    .await;
    assert_eq!(consumed, "p1\np2\np3\nProcessed a total of 3 messages\n");

    let described =
        ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group billing").await;
    assert!(described.contains("Consumer group 'billing' has no active members."), "{described}");
    let row = described.lines().find(|l| l.starts_with("billing")).expect("a row for billing");
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &columns[..6],
        ["billing", "payments", "0", "3", "5", "2"],
        "group topic partition current end lag: {row}"
    );

    // The next consumer in the group carries on from the commit.
    let rest =
        ok(&kafka, "kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic payments --group billing")
            .await;
    assert_eq!(rest, "p4\np5\nProcessed a total of 2 messages\n");

    let plan = ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --group billing --reset-offsets --to-earliest --topic payments").await;
    assert!(plan.contains("NEW-OFFSET"), "{plan}");
    let dry = ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group billing").await;
    assert!(
        dry.lines().any(|l| l.split_whitespace().take(4).eq(["billing", "payments", "0", "5"])),
        "a dry run changes nothing: {dry}"
    );
    ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --group billing --reset-offsets --to-earliest --topic payments --execute").await;
    let reset =
        ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group billing").await;
    assert!(
        reset.lines().any(|l| l.split_whitespace().take(6).eq(["billing", "payments", "0", "0", "5", "5"])),
        "{reset}"
    );

    let state =
        ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group billing --state")
            .await;
    let row = state.lines().find(|l| l.starts_with("billing")).expect("a state row");
    assert!(row.contains("Empty") && row.trim_end().ends_with('0'), "state Empty with 0 members: {state}");
    let members =
        ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group billing --members")
            .await;
    assert!(members.contains("Consumer group 'billing' has no active members."), "{members}");
    assert_eq!(ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list").await, "billing\n");
    let deleted =
        ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --delete --group billing").await;
    assert!(deleted.contains("Deletion of requested consumer groups ('billing') was successful."), "{deleted}");
    assert_eq!(ok(&kafka, "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list").await, "");
    broker.shutdown().await;
}

#[tokio::test]
async fn topics_configs_and_offsets() {
    let (broker, _dir, kafka) = broker().await;
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 2 --config retention.ms=60000").await;
    assert_eq!(ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --list").await, "orders\n");
    let described = ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --describe --topic orders").await;
    // Kafka 4.x prints the topic id (KIP-516) as base64: 22 characters.
    let topic_id = described
        .strip_prefix("Topic: orders\tTopicId: ")
        .and_then(|rest| rest.split_once('\t'))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("{described}"));
    assert_eq!(topic_id.len(), 22, "{described}");
    assert!(
        described.starts_with(&format!(
            "Topic: orders\tTopicId: {topic_id}\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=60000\n"
        )),
        "{described}"
    );
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --alter --topic orders --partitions 4").await;
    ok(&kafka, "kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name orders --add-config cleanup.policy=compact").await;
    let configs = ok(
        &kafka,
        "kafka-configs.sh --bootstrap-server localhost:9092 --describe --entity-type topics --entity-name orders",
    )
    .await;
    assert!(configs.starts_with("Dynamic configs for topic orders are:\n"), "{configs}");
    assert!(configs.contains("cleanup.policy=compact"), "{configs}");
    ok(&kafka, "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic orders --property parse.key=true --property key.separator=:\nuser-8:a\nuser-8:b").await;
    let offsets = ok(&kafka, "kafka-get-offsets.sh --bootstrap-server localhost:9092 --topic orders").await;
    let with_records: Vec<&str> = offsets.lines().filter(|l| l.ends_with(":2")).collect();
    assert_eq!(with_records.len(), 1, "both records of one key on one partition: {offsets}");
    let failed =
        run_script(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 1")
            .await;
    assert!(!failed.ok);
    assert!(failed.output.contains("Topic 'orders' already exists."), "{}", failed.output);
    broker.shutdown().await;
}

#[tokio::test]
async fn a_null_marker_produces_a_tombstone() {
    let (broker, _dir, kafka) = broker().await;
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic users --partitions 1").await;
    ok(
        &kafka,
        "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic users --property parse.key=true \
         --property key.separator=: --property null.marker=NULL\nuser-1:alice\nuser-1:NULL\n",
    )
    .await;
    let consumed = ok(
        &kafka,
        "kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic users --from-beginning \
         --formatter-property print.key=true --formatter-property null.literal=TOMBSTONE",
    )
    .await;
    assert_eq!(consumed, "user-1\talice\nuser-1\tTOMBSTONE\nProcessed a total of 2 messages\n");
    let records = kafka.records("users", 0, 0, 10).await.expect("records");
    let values: Vec<Option<&str>> = records.iter().map(|r| r.value.as_deref()).collect();
    assert_eq!(values, [Some("alice"), None], "the second value is null on the wire, not an empty string");
    broker.shutdown().await;
}

#[tokio::test]
async fn the_metadata_quorum_is_described_as_kafka_prints_it() {
    let (broker, _dir, kafka) = broker().await;
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 3").await;
    let status = ok(&kafka, "kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status").await;
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 8, "{status}");
    assert!(lines[0].starts_with("ClusterId:              ") && lines[0].len() > 24, "{status}");
    // Epoch 1 of a fresh controller: its LeaderChange, broker 1 registered and unfenced, a
    // TopicRecord and three PartitionRecords, and NoOpRecords every 500 ms (KIP-835).
    assert_eq!(lines[1..3], ["LeaderId:               3000", "LeaderEpoch:            1"], "{status}");
    let high_watermark: i64 = lines[3]
        .strip_prefix("HighWatermark:          ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a high watermark: {status}"));
    assert!(high_watermark >= 7, "{status}");
    assert_eq!(lines[4..6], ["MaxFollowerLag:         0", "MaxFollowerLagTimeMs:   0"], "{status}");
    let directory_id = lines[6]
        .strip_prefix("CurrentVoters:          [{\"id\": 3000, \"directoryId\": \"")
        .and_then(|rest| rest.strip_suffix("\"}]"))
        .unwrap_or_else(|| panic!("voter 3000 with its directory id: {status}"));
    assert_eq!(directory_id.len(), 22, "Kafka's base64 Uuid text: {directory_id}");
    assert!(
        lines[7].starts_with("CurrentObservers:       [{\"id\": 1, \"directoryId\": \""),
        "broker 1 observes: {status}"
    );

    let replication =
        ok(&kafka, "kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --replication").await;
    let rows: Vec<Vec<&str>> = replication.lines().map(|line| line.split('\t').map(str::trim).collect()).collect();
    assert_eq!(rows.len(), 3, "{replication}");
    assert_eq!(
        rows[0],
        ["NodeId", "DirectoryId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp", "Status", ""]
    );
    assert_eq!(rows[1][..2], ["3000", directory_id], "{replication}");
    assert_eq!((rows[1][3], rows[1][6]), ("0", "Leader"), "{replication}");
    assert_eq!((rows[2][0], rows[2][6]), ("1", "Observer"), "{replication}");
    let fetched: i64 = rows[1][4].parse().expect("a timestamp");
    assert!(fetched > 1_700_000_000_000, "{replication}");

    let human = ok(
        &kafka,
        "kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --replication --human-readable",
    )
    .await;
    assert!(human.lines().nth(1).is_some_and(|row| row.contains(" ms ago")), "{human}");
    broker.shutdown().await;
}

/// The committed offset of `group` on partition 0 of `topic`, as `--describe` prints it.
async fn committed(kafka: &Kafka, group: &str, topic: &str) -> String {
    let described =
        ok(kafka, &format!("kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group {group}"))
            .await;
    let row = described
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|columns| columns.len() > 3 && columns[0] == group && columns[1] == topic && columns[2] == "0")
        .unwrap_or_else(|| panic!("a row for {group} {topic} 0: {described}"));
    row[3].to_owned()
}

#[tokio::test]
async fn resets_deletes_and_fire_and_forget_produce_run_against_the_broker() {
    let (broker, _dir, kafka) = broker().await;
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic audit --partitions 1").await;
    // acks=0: no answer comes from the broker, and the console must not wait for one.
    ok(
        &kafka,
        "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic audit --request-required-acks 0\na0\na1\na2\na3\na4\na5",
    )
    .await;
    let mut end = None;
    for _ in 0..100 {
        end = kafka.offsets("audit", 0).await.expect("offsets").map(|o| o.log_end_offset);
        if end == Some(6) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(end, Some(6), "the fire-and-forget records arrived");

    let reset = |spec: &str| {
        format!(
            "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --group audit-readers --reset-offsets {spec} --topic audit --execute"
        )
    };
    ok(&kafka, &reset("--to-latest")).await;
    assert_eq!(committed(&kafka, "audit-readers", "audit").await, "6");
    ok(&kafka, &reset("--to-offset 2")).await;
    assert_eq!(committed(&kafka, "audit-readers", "audit").await, "2");
    ok(&kafka, &reset("--shift-by 3")).await;
    assert_eq!(committed(&kafka, "audit-readers", "audit").await, "5");
    ok(&kafka, &reset("--shift-by -9")).await;
    assert_eq!(committed(&kafka, "audit-readers", "audit").await, "0", "a shift before the start stops at the start");

    ok(&kafka, "kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name audit --add-config retention.ms=60000,cleanup.policy=compact").await;
    ok(&kafka, "kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name audit --delete-config retention.ms").await;
    let configs = kafka.topic_configs("audit").await.expect("configs");
    assert_eq!(configs.get("retention.ms").map(String::as_str), Some("604800000"), "back to the default");
    assert_eq!(configs.get("cleanup.policy").map(String::as_str), Some("compact"));

    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --delete --topic audit").await;
    assert_eq!(kafka.topic("audit").await.expect("metadata"), None);
    let again = run_script(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --delete --topic audit").await;
    assert!(!again.ok && again.output.contains("Topic 'audit' does not exist as expected"), "{}", again.output);
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --delete --topic audit --if-exists").await;
    broker.shutdown().await;
}

#[tokio::test]
async fn headers_go_out_with_the_producer_and_come_back_with_the_consumer() {
    let (broker, _dir, kafka) = broker().await;
    ok(&kafka, "kafka-topics.sh --create --topic traced --partitions 1").await;
    ok(
        &kafka,
        "kafka-console-producer.sh --topic traced --property parse.headers=true --property parse.key=true\n\
         trace-id:42,tenant:acme\tk1\tfirst",
    )
    .await;
    ok(&kafka, "kafka-console-producer.sh --topic traced --property parse.key=true\nk2\tsecond").await;
    let consumed = ok(
        &kafka,
        "kafka-console-consumer.sh --topic traced --from-beginning --property print.headers=true --property print.key=true",
    )
    .await;
    assert_eq!(
        consumed,
        "trace-id:42,tenant:acme\tk1\tfirst\nNO_HEADERS\tk2\tsecond\nProcessed a total of 2 messages\n"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn broker_configs_per_broker_and_cluster_wide() {
    let (broker, _dir, kafka) = broker().await;
    let configs = "kafka-configs.sh --bootstrap-server localhost:9092";
    assert_eq!(
        ok(
            &kafka,
            &format!("{configs} --alter --entity-type brokers --entity-default --add-config log.retention.ms=60000")
        )
        .await,
        "Completed updating default config for brokers in the cluster.\n"
    );
    assert_eq!(
        ok(&kafka, &format!("{configs} --describe --entity-type brokers --entity-default")).await,
        "Default configs for brokers in the cluster are:\n  \
         log.retention.ms=60000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=60000}\n"
    );
    assert_eq!(
        ok(&kafka, &format!("{configs} --alter --broker 1 --add-config log.retention.ms=5000,message.max.bytes=50"))
            .await,
        "Completed updating config for broker 1.\n"
    );
    assert_eq!(
        ok(&kafka, &format!("{configs} --describe --entity-type brokers --entity-name 1")).await,
        "Dynamic configs for broker 1 are:\n  \
         log.retention.ms=5000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=5000, \
         DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=60000, DEFAULT_CONFIG:log.retention.hours=168}\n  \
         message.max.bytes=50 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=50, \
         DEFAULT_CONFIG:message.max.bytes=1048588}\n"
    );
    // With eligible leader replicas on, as Kafka 4.1: no broker-level min.insync.replicas.
    let refused = run_script(&kafka, &format!("{configs} --alter --broker 1 --add-config min.insync.replicas=1")).await;
    assert!(!refused.ok);
    assert!(refused.output.contains("InvalidConfigException: With eligible leader replicas"), "{}", refused.output);

    // A topic without its own retention.ms takes broker 1's.
    ok(&kafka, "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders").await;
    let all = ok(&kafka, &format!("{configs} --describe --topic orders --all")).await;
    assert!(
        all.contains(
            "  retention.ms=5000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=5000, \
             DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=60000, DEFAULT_CONFIG:log.retention.hours=168}\n"
        ),
        "{all}"
    );
    assert_eq!(
        ok(&kafka, &format!("{configs} --describe --topic orders")).await,
        "Dynamic configs for topic orders are:\n",
        "inherited values are not the topic's own"
    );

    // Deleting broker 1's values; every broker, then the defaults.
    ok(
        &kafka,
        &format!(
            "{configs} --alter --entity-type brokers --entity-name 1 --delete-config log.retention.ms,message.max.bytes"
        ),
    )
    .await;
    assert_eq!(
        ok(&kafka, &format!("{configs} --describe --entity-type brokers")).await,
        "Dynamic configs for broker 1 are:\nDefault configs for brokers in the cluster are:\n  \
         log.retention.ms=60000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=60000}\n"
    );

    let refused =
        run_script(&kafka, &format!("{configs} --alter --broker-defaults --add-config broker.session.timeout.ms=1000"))
            .await;
    assert!(!refused.ok);
    assert_eq!(
        refused.output,
        "Error while executing config command with args '--alter --entity-type brokers --entity-default \
         --add-config broker.session.timeout.ms=1000'\njava.util.concurrent.ExecutionException: \
         org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: \
         Set(broker.session.timeout.ms)\n"
    );
    assert_eq!(
        ok(&kafka, &format!("{configs} --describe --entity-type brokers --entity-name 7")).await,
        "The broker '7' doesn't exist and doesn't have dynamic config.\n"
    );
    let unknown = run_script(&kafka, &format!("{configs} --alter --broker 7 --add-config log.retention.ms=1")).await;
    assert!(!unknown.ok);
    assert!(
        unknown.output.contains("TimeoutException: Timed out waiting for a node assignment."),
        "{}",
        unknown.output
    );
    broker.shutdown().await;
}
