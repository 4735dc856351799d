//! Each check kind and option against a real broker: what passes, what fails, and what a failing
//! check says. (`exercise_solutions.rs` runs the lessons' own exercises; this covers the options
//! they do not use.)

use broker::core::partitioner::partition_for_key;
use server::console::exec::{run_lab_script, run_script};
use server::course::blocks::parse_exercise;
use server::exercises::{CheckOutcome, run_checks};
use server::kafka::Kafka;

struct Lab {
    broker: broker::Broker,
    _dir: tempfile::TempDir,
    kafka: Kafka,
}

async fn lab() -> Lab {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), dir.path().to_owned());
    // Retention runs often enough for the test that deletes old segments.
    config.retention_check_interval_ms = 50;
    let broker = broker::Broker::start(config).await.expect("broker");
    let kafka = Kafka::new(broker.local_addr());
    Lab { broker, _dir: dir, kafka }
}

impl Lab {
    async fn run(&self, script: &str) {
        let ran = run_script(&self.kafka, script).await;
        assert!(ran.ok, "{script}\n---\n{}", ran.output);
    }

    /// The outcome of the single check in `check_toml` (one `[[check]]` table).
    async fn check(&self, check_toml: &str) -> CheckOutcome {
        let block = format!("id = \"x\"\ntitle = \"x\"\ntask = \"x\"\nsolution = \"x\"\n\n[[check]]\n{check_toml}");
        let exercise = parse_exercise(&block).unwrap_or_else(|errors| panic!("{check_toml}: {errors:?}"));
        let mut outcomes = run_checks(&self.kafka, &exercise).await.expect("the broker answers");
        assert_eq!(outcomes.len(), 1);
        outcomes.remove(0)
    }

    async fn passes(&self, check_toml: &str) -> String {
        let outcome = self.check(check_toml).await;
        assert!(outcome.passed, "expected a pass: {check_toml}\n{outcome:?}");
        outcome.message
    }

    async fn fails(&self, check_toml: &str) -> String {
        let outcome = self.check(check_toml).await;
        assert!(!outcome.passed, "expected a failure: {check_toml}\n{outcome:?}");
        outcome.message
    }
}

/// A key that the default partitioner puts on `partition` of `count`.
fn key_for(partition: i32, count: i32) -> String {
    (0..).map(|i| format!("key-{i}")).find(|k| partition_for_key(k.as_bytes(), count) == partition).expect("a key")
}

#[tokio::test]
async fn topic_checks_absent_and_replication_factor() {
    let lab = lab().await;
    let absent = "kind = \"topic\"\ntopic = \"old\"\nexists = false";
    assert_eq!(lab.passes(absent).await, "topic old does not exist");
    lab.run("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic old --partitions 2").await;
    assert_eq!(lab.fails(absent).await, "topic old still exists");
    assert_eq!(
        lab.fails("kind = \"topic\"\ntopic = \"old\"\nreplication_factor = 3").await,
        "topic old has replication factor 1, expected 3"
    );
    lab.passes("kind = \"topic\"\ntopic = \"old\"\nreplication_factor = 1\npartitions = 2").await;
    assert_eq!(
        lab.fails("kind = \"topic\"\ntopic = \"old\"\nconfig = { \"retention.ms\" = \"1000\" }").await,
        "topic old has retention.ms=604800000, expected retention.ms=1000"
    );
    lab.run("kafka-topics.sh --bootstrap-server localhost:9092 --delete --topic old").await;
    lab.passes(absent).await;
    lab.broker.shutdown().await;
}

#[tokio::test]
async fn records_checks_on_a_partition_with_a_maximum_and_in_order() {
    let lab = lab().await;
    lab.run("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic steps --partitions 2").await;
    let (on_0, on_1) = (key_for(0, 2), key_for(1, 2));
    lab.run(&format!(
        "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic steps --property parse.key=true \
         --property key.separator=:\n{on_1}:start\n{on_1}:pay\n{on_1}:ship\n{on_0}:other"
    ))
    .await;
    let on_partition = "kind = \"records\"\ntopic = \"steps\"\npartition = 1";
    assert_eq!(
        lab.passes(&format!("{on_partition}\nmin = 3\nmax = 3")).await,
        "topic steps has 3 records on partition 1"
    );
    assert_eq!(
        lab.fails(&format!("{on_partition}\nmax = 2")).await,
        "topic steps has 3 records on partition 1, expected at most 2"
    );
    assert_eq!(
        lab.fails("kind = \"records\"\ntopic = \"steps\"\npartition = 0\nmin = 2").await,
        "topic steps has 1 record on partition 0, expected at least 2"
    );
    lab.passes("kind = \"records\"\ntopic = \"steps\"\nvalues_in_order = [\"start\", \"ship\"]").await;
    assert_eq!(
        lab.fails("kind = \"records\"\ntopic = \"steps\"\nvalues_in_order = [\"pay\", \"start\"]").await,
        "found 1 of the 2 values in order; next expected `start`"
    );
    // Order holds within a partition only: values on two partitions are not "in order".
    assert_eq!(
        lab.fails("kind = \"records\"\ntopic = \"steps\"\nvalues_in_order = [\"start\", \"other\"]").await,
        "found 1 of the 2 values in order; next expected `other`"
    );
    assert_eq!(
        lab.fails("kind = \"records\"\ntopic = \"steps\"\nsame_partition = true").await,
        "the records are spread over partitions 0, 1, expected one partition"
    );
    lab.broker.shutdown().await;
}

#[tokio::test]
async fn a_records_check_counts_what_retention_left() {
    let lab = lab().await;
    // Tiny segments: each produced batch (70 bytes here) rolls a new one, so retention can delete
    // the sealed ones.
    lab.run(
        "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic short --partitions 1 --config segment.bytes=100",
    )
    .await;
    for value in ["r0", "r1", "r2"] {
        lab.run(&format!("kafka-console-producer.sh --bootstrap-server localhost:9092 --topic short\n{value}")).await;
    }
    lab.run("kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name short --add-config retention.ms=1").await;
    let mut log_start = 0;
    for _ in 0..100 {
        log_start = lab.kafka.offsets("short", 0).await.expect("offsets").map_or(0, |o| o.log_start_offset);
        if log_start > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(log_start, 2, "retention deleted the two sealed segments");
    assert_eq!(lab.passes("kind = \"records\"\ntopic = \"short\"\nmin = 1").await, "topic short has 1 record");
    lab.broker.shutdown().await;
}

#[tokio::test]
async fn group_checks_absent_members_and_lag() {
    let lab = lab().await;
    let absent = "kind = \"group\"\ngroup = \"readers\"\nexists = false";
    assert_eq!(lab.passes(absent).await, "consumer group readers does not exist");
    lab.run("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic news --partitions 1").await;
    lab.run("kafka-console-producer.sh --bootstrap-server localhost:9092 --topic news\nn1\nn2\nn3").await;
    lab.run("kafka-consumer-groups.sh --bootstrap-server localhost:9092 --group readers --reset-offsets --to-latest --topic news --execute").await;
    lab.run("kafka-console-producer.sh --bootstrap-server localhost:9092 --topic news\nn4").await;
    assert_eq!(lab.fails(absent).await, "consumer group readers still exists");
    lab.passes("kind = \"group\"\ngroup = \"readers\"\nmembers = 0\nstate = \"Empty\"").await;
    assert_eq!(
        lab.fails("kind = \"group\"\ngroup = \"readers\"\nmembers = 1").await,
        "consumer group readers has 0 members, expected 1"
    );
    assert_eq!(
        lab.fails("kind = \"group\"\ngroup = \"readers\"\ntopic = \"news\"\nmax_lag = 0").await,
        "consumer group readers lags 1 on news-0, expected at most 0"
    );
    lab.passes(
        "kind = \"group\"\ngroup = \"readers\"\ntopic = \"news\"\npartition = 0\ncommitted_offset = 3\nmax_lag = 1",
    )
    .await;
    // With no commit on a topic, the group lags by everything in its log.
    lab.run("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic archive --partitions 1").await;
    lab.run("kafka-console-producer.sh --bootstrap-server localhost:9092 --topic archive\na1\na2").await;
    assert_eq!(
        lab.fails("kind = \"group\"\ngroup = \"readers\"\ntopic = \"archive\"\nmax_lag = 1").await,
        "consumer group readers lags 2 on archive-0, expected at most 1"
    );
    lab.broker.shutdown().await;
}

#[tokio::test]
async fn partition_and_cluster_checks_follow_a_leader_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), dir.path().to_owned());
    config.brokers = 3;
    config.controllers = 3;
    config.broker_session_timeout_ms = 2_000;
    let broker = broker::Broker::start(config).await.expect("cluster");
    let lab = Lab { kafka: Kafka::cluster(broker.broker_addrs()), broker, _dir: dir };
    let control = lab.broker.control();
    let run = |script: &'static str| {
        let (kafka, control) = (&lab.kafka, &control);
        async move {
            let ran = run_lab_script(kafka, Some(control), script).await;
            assert!(ran.ok, "{script}\n---\n{}", ran.output);
        }
    };

    assert_eq!(
        lab.fails("kind = \"partition\"\ntopic = \"p\"\npartition = 0\nisr_size = 3").await,
        "topic p does not exist"
    );
    run("kafka-topics.sh --create --topic p --partitions 1 --replication-factor 3").await;
    assert_eq!(
        lab.fails("kind = \"partition\"\ntopic = \"p\"\npartition = 1\nisr_size = 3").await,
        "topic p has no partition 1"
    );
    // Placement is round-robin from broker 1: it leads p-0, in leader epoch 0.
    lab.passes(
        "kind = \"partition\"\ntopic = \"p\"\npartition = 0\nleader = 1\nisr_size = 3\nisr_includes = [1, 2, 3]",
    )
    .await;
    assert_eq!(
        lab.fails("kind = \"partition\"\ntopic = \"p\"\npartition = 0\nmin_leader_epoch = 1").await,
        "p-0 has leader 1 (epoch 0), ISR 1, 2, 3: expected leader epoch 1 or more"
    );
    assert_eq!(
        lab.fails("kind = \"partition\"\ntopic = \"p\"\npartition = 0\nisr_excludes = [2]").await,
        "p-0 has leader 1 (epoch 0), ISR 1, 2, 3: expected broker 2 out of the ISR"
    );
    assert_eq!(
        lab.passes("kind = \"cluster\"\nbrokers_up = 3\nactive_controller = true").await.split(';').next(),
        Some("3 brokers up")
    );
    assert!(lab.fails("kind = \"cluster\"\nactive_controller = false").await.contains("is active (quorum epoch 1)"));
    assert!(
        lab.fails("kind = \"cluster\"\nmin_quorum_epoch = 2").await.starts_with("the quorum is in epoch 1"),
        "a fresh quorum is in its first epoch"
    );

    // Broker 1 stops: once fenced, another broker leads p-0 in epoch 1 and the ISR drops it.
    run("streamlab broker stop 1\nkafka-console-producer.sh --topic p --producer-property acks=all\nafter").await;
    lab.passes(
        "kind = \"partition\"\ntopic = \"p\"\npartition = 0\nmin_leader_epoch = 1\nisr_size = 2\nisr_excludes = [1]",
    )
    .await;
    assert_eq!(
        lab.fails("kind = \"partition\"\ntopic = \"p\"\npartition = 0\nleader = 1").await.split(':').nth(1),
        Some(" expected leader 1"),
    );
    assert!(lab.fails("kind = \"cluster\"\nbrokers_up = 3").await.starts_with("2 brokers up (2, 3), expected 3"));
    lab.broker.shutdown().await;
}
