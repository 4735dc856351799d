//! The replication lab against a real three-broker cluster, through the console as a learner
//! types it: a topic with three replicas and min.insync.replicas=2, the leader stopped with a lab
//! command, producing on through the new leader, NOT_ENOUGH_REPLICAS once a second broker is
//! down, and the ISR whole again after both start. Also the console's own keyed produce and
//! consume across partitions led by different brokers.

use std::time::{Duration, Instant};

use server::console::exec::run_lab_script;
use server::kafka::Kafka;

async fn cluster() -> (broker::Broker, tempfile::TempDir, Kafka) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), dir.path().to_owned());
    config.brokers = 3;
    config.controllers = 3;
    config.broker_session_timeout_ms = 2_000;
    let broker = broker::Broker::start(config).await.expect("cluster");
    let kafka = Kafka::cluster(broker.broker_addrs());
    (broker, dir, kafka)
}

async fn run(kafka: &Kafka, control: &broker::ClusterControl, script: &str) -> (bool, String) {
    let ran = run_lab_script(kafka, Some(control), script).await;
    (ran.ok, ran.output)
}

async fn ok(kafka: &Kafka, control: &broker::ClusterControl, script: &str) -> String {
    let (ok, output) = run(kafka, control, script).await;
    assert!(ok, "{script}\n---\n{output}");
    output
}

/// `(leader, ISR)` from `kafka-topics --describe` as the console prints it.
async fn leader_and_isr(kafka: &Kafka, control: &broker::ClusterControl) -> (String, String) {
    let described = ok(kafka, control, "kafka-topics.sh --describe --topic payments").await;
    let row = described.lines().find(|l| l.trim_start().starts_with("Topic: payments\tPartition: 0")).unwrap_or("");
    let field = |name: &str| {
        row.split('\t').find_map(|f| f.trim().strip_prefix(&format!("{name}: ")).map(str::to_owned)).unwrap_or_default()
    };
    (field("Leader"), field("Isr"))
}

async fn wait_for(
    kafka: &Kafka,
    control: &broker::ClusterControl,
    what: &str,
    done: impl Fn(&(String, String)) -> bool,
) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = leader_and_isr(kafka, control).await;
        if done(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "{what}: still {state:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_learner_stops_brokers_and_watches_kafka_react() {
    let (broker, _dir, kafka) = cluster().await;
    let control = broker.control();
    ok(
        &kafka,
        &control,
        "kafka-topics.sh --create --topic payments --partitions 1 --replication-factor 3 --config min.insync.replicas=2",
    )
    .await;
    let (leader, isr) = wait_for(&kafka, &control, "three in sync", |(_, isr)| isr.split(',').count() == 3).await;
    ok(&kafka, &control, "kafka-console-producer.sh --topic payments --producer-property acks=all\np1\np2").await;
    // One replica per partition, spread over the brokers: a stopped broker takes its partitions offline.
    ok(&kafka, &control, "kafka-topics.sh --create --topic solo --partitions 3 --replication-factor 1").await;
    let healthy = ok(
        &kafka,
        &control,
        "kafka-topics.sh --describe --under-replicated-partitions\nkafka-topics.sh --describe --unavailable-partitions",
    )
    .await;
    assert!(!healthy.contains("Topic:"), "nothing to report on a healthy cluster: {healthy}");

    // The producer right after the stop: like Kafka's, it retries until the controller has
    // fenced the old leader and elected another, then its acks=all write is acknowledged.
    let stopped = ok(
        &kafka,
        &control,
        &format!("streamlab broker stop {leader}\nkafka-console-producer.sh --topic payments --producer-property acks=all\np3"),
    )
    .await;
    assert!(stopped.starts_with(&format!("Broker {leader} stopped")), "{stopped}");
    let (again_ok, again) = run(&kafka, &control, &format!("streamlab broker stop {leader}")).await;
    assert!(!again_ok && again.contains("already stopped"), "{again}");
    let (new_leader, isr_after) = wait_for(&kafka, &control, "a new leader", |(l, isr)| {
        *l != leader && l != "none" && !isr.split(',').any(|id| id == leader)
    })
    .await;
    assert_ne!(isr, isr_after);

    let second = isr_after.split(',').find(|id| *id != new_leader).expect("a follower").to_owned();
    ok(&kafka, &control, &format!("streamlab broker stop {second}")).await;
    wait_for(&kafka, &control, "the ISR down to the leader", |(_, isr)| *isr == new_leader).await;

    // The reports of kafka-topics: payments lacks two of its replicas; solo's partitions on the
    // stopped brokers have no leader.
    let partitions_of = |report: &str, topic: &str| -> Vec<String> {
        report
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("Topic: {topic}\tPartition: ")))
            .map(|l| l.trim().to_owned())
            .collect()
    };
    let under = ok(&kafka, &control, "kafka-topics.sh --describe --under-replicated-partitions").await;
    let payments = partitions_of(&under, "payments");
    assert_eq!(payments.len(), 1, "{under}");
    assert!(payments[0].contains(&format!("\tIsr: {new_leader}\t")), "{under}");
    assert!(!under.contains("PartitionCount"), "no topic summary lines in a report: {under}");
    let solo = ok(&kafka, &control, "kafka-topics.sh --describe --topic solo").await;
    let offline: Vec<String> =
        partitions_of(&solo, "solo").into_iter().filter(|l| l.contains("\tLeader: none\t")).collect();
    assert!(!offline.is_empty(), "some of solo's partitions were on the stopped brokers: {solo}");
    let unavailable = ok(&kafka, &control, "kafka-topics.sh --describe --unavailable-partitions").await;
    assert_eq!(partitions_of(&unavailable, "solo"), offline, "{unavailable}");
    assert!(partitions_of(&unavailable, "payments").is_empty(), "payments still has a leader: {unavailable}");
    // An unclean election cannot help a partition whose only replica is down.
    let offline_partition =
        offline[0].split('\t').nth(1).and_then(|f| f.strip_prefix("Partition: ")).expect("a partition");
    let (unclean_ok, unclean) = run(
        &kafka,
        &control,
        &format!("kafka-leader-election.sh --election-type unclean --topic solo --partition {offline_partition}"),
    )
    .await;
    assert!(!unclean_ok, "{unclean}");
    assert_eq!(
        unclean,
        format!(
            "Error completing leader election (UNCLEAN) for partition: solo-{offline_partition}: \
             org.apache.kafka.common.errors.EligibleLeadersNotAvailableException: Eligible topic partition leaders \
             are not available.\n1 replica(s) could not be elected\n"
        )
    );
    let (refused_ok, refused) =
        run(&kafka, &control, "kafka-console-producer.sh --topic payments --producer-property acks=all\nlost").await;
    assert!(!refused_ok && refused.contains("NotEnoughReplicasException"), "{refused}");

    ok(&kafka, &control, &format!("streamlab broker start {leader}\nstreamlab broker start {second}")).await;
    wait_for(&kafka, &control, "the ISR whole again", |(_, isr)| isr.split(',').count() == 3).await;
    // The first leader (the preferred replica) is back in the ISR but does not lead: a preferred
    // election hands leadership back to it.
    assert_eq!(leader_and_isr(&kafka, &control).await.0, new_leader);
    let elected =
        ok(&kafka, &control, "kafka-leader-election.sh --election-type PREFERRED --topic payments --partition 0").await;
    assert_eq!(elected, "Successfully completed leader election (PREFERRED) for partitions payments-0\n");
    assert_eq!(leader_and_isr(&kafka, &control).await.0, leader);
    let again =
        ok(&kafka, &control, "kafka-leader-election.sh --election-type preferred --topic payments --partition 0").await;
    assert_eq!(again, "Valid replica already elected for partitions payments-0\n");
    let consumed = ok(&kafka, &control, "kafka-console-consumer.sh --topic payments --from-beginning").await;
    assert_eq!(consumed, "p1\np2\np3\nProcessed a total of 3 messages\n");

    let (unknown_ok, unknown) = run(&kafka, &control, "streamlab broker stop 9").await;
    assert!(!unknown_ok && unknown.contains("there is no broker 9") && unknown.contains("ids 1, 2, 3"), "{unknown}");
    let (usage_ok, usage) = run(&kafka, &control, "streamlab broker restart 1").await;
    assert!(!usage_ok && usage.contains("restart is not an action: stop or start"), "{usage}");
    broker.shutdown().await;
}

#[tokio::test]
async fn keyed_records_reach_partitions_led_by_different_brokers() {
    let (broker, _dir, kafka) = cluster().await;
    let control = broker.control();
    ok(&kafka, &control, "kafka-topics.sh --create --topic orders --partitions 3 --replication-factor 3").await;
    let described = ok(&kafka, &control, "kafka-topics.sh --describe --topic orders").await;
    let leaders: std::collections::BTreeSet<&str> =
        described.lines().filter_map(|l| l.split('\t').find_map(|f| f.trim().strip_prefix("Leader: "))).collect();
    assert_eq!(leaders.len(), 3, "each partition led by another broker: {described}");
    ok(&kafka, &control, "kafka-console-producer.sh --topic orders --property parse.key=true --property key.separator=:\na:1\nb:2\nc:3\nd:4")
        .await;
    let consumed = ok(&kafka, &control, "kafka-console-consumer.sh --topic orders --from-beginning").await;
    assert!(consumed.ends_with("Processed a total of 4 messages\n"), "{consumed}");
    let offsets = ok(&kafka, &control, "kafka-get-offsets.sh --topic orders").await;
    let total: i64 = offsets.lines().filter_map(|l| l.rsplit(':').next()?.parse::<i64>().ok()).sum();
    assert_eq!(total, 4, "{offsets}");
    broker.shutdown().await;
}
