//! Dynamic broker configs over the wire: IncrementalAlterConfigs and AlterConfigs on BROKER
//! resources, per broker and cluster-wide (`kafka-configs.sh --entity-type brokers`), and what
//! they change for topics that set nothing themselves: DescribeConfigs' values and sources,
//! acks=all against `min.insync.replicas`, and the segment size of an existing log.

mod common;

use broker::{Broker, BrokerConfig};
use common::*;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResourceResult;
use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;

/// DescribeConfigs `config_source`.
const TOPIC_CONFIG: i8 = 1;
const DYNAMIC_BROKER_CONFIG: i8 = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG: i8 = 3;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

/// Two brokers, one controller; `log.retention.hours=24` in "server.properties".
async fn start_cluster(dir: &std::path::Path) -> Broker {
    let mut config = BrokerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.to_owned());
    config.brokers = 2;
    config.flush_interval_ms = 2;
    config.apply_override("log.retention.hours=24").expect("a static broker config");
    Broker::start(config).await.expect("the cluster starts")
}

/// IncrementalAlterConfigs of one resource: `(name, operation, value)`, operation 0 SET, 1 DELETE.
fn incremental(
    resource_type: i8,
    resource: &str,
    configs: &[(&str, i8, Option<&str>)],
) -> IncrementalAlterConfigsRequest {
    let mut alter = AlterConfigsResource::default();
    alter.resource_type = resource_type;
    alter.resource_name = StrBytes::from_string(resource.to_owned());
    alter.configs = configs
        .iter()
        .map(|(name, operation, value)| {
            let mut config = AlterableConfig::default();
            config.name = StrBytes::from_string((*name).to_owned());
            config.config_operation = *operation;
            config.value = value.map(|v| StrBytes::from_string(v.to_owned()));
            config
        })
        .collect();
    let mut request = IncrementalAlterConfigsRequest::default();
    request.resources = vec![alter];
    request
}

/// The error code and message of an IncrementalAlterConfigs of one resource.
async fn alter(client: &mut Client, request: &IncrementalAlterConfigsRequest) -> (i16, Option<String>) {
    let response = client.send(request, 1).await;
    let result = &response.responses[0];
    (result.error_code, result.error_message.as_ref().map(ToString::to_string))
}

async fn describe(client: &mut Client, resource_type: i8, resource: &str) -> (i16, Vec<DescribeConfigsResourceResult>) {
    let mut wanted = DescribeConfigsResource::default();
    wanted.resource_type = resource_type;
    wanted.resource_name = StrBytes::from_string(resource.to_owned());
    wanted.configuration_keys = None;
    let mut request = DescribeConfigsRequest::default();
    request.resources = vec![wanted];
    request.include_synonyms = true;
    let mut response = client.send(&request, 4).await;
    let result = response.results.remove(0);
    (result.error_code, result.configs)
}

/// `name`'s value and source, and its synonyms as `SOURCE:name=value`.
fn entry(configs: &[DescribeConfigsResourceResult], name: &str) -> (Option<String>, i8, Vec<String>) {
    let entry = configs.iter().find(|c| c.name.as_str() == name).unwrap_or_else(|| panic!("{name} is listed"));
    let synonyms = entry
        .synonyms
        .iter()
        .map(|s| format!("{}:{}={}", s.source, s.name.as_str(), s.value.as_ref().map_or("null", |v| v.as_str())))
        .collect();
    (entry.value.as_ref().map(ToString::to_string), entry.config_source, synonyms)
}

/// `name`'s value and source.
fn value(configs: &[DescribeConfigsResourceResult], name: &str) -> (Option<String>, i8) {
    let (value, source, _) = entry(configs, name);
    (value, source)
}

fn acks_all(topic: &str) -> ProduceRequest {
    produce_request(topic, 0, -1, batch(&[(None, "x")], 1, Compression::None))
}

async fn produce_error(client: &mut Client, request: &ProduceRequest) -> i16 {
    client.send(request, 9).await.responses[0].partition_responses[0].error_code
}

#[tokio::test]
async fn a_cluster_default_then_a_broker_value_then_a_topic_override_decide_a_topics_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start_cluster(dir.path()).await;
    let addrs = cluster.broker_addrs();
    let mut one = Client::connect(addrs[0].1).await;
    let mut two = Client::connect(addrs[1].1).await;
    // One partition, one replica: on broker 1, the first broker of the placement.
    one.send(&create_request("orders", 1, 1, &[]), 7).await;
    one.send(&create_request("audit", 1, 1, &[("retention.ms", "1000")]), 7).await;

    // Before any dynamic config: server.properties, then Kafka's defaults.
    let (_, configs) = describe(&mut one, TOPIC, "orders").await;
    assert_eq!(
        entry(&configs, "retention.ms"),
        (
            Some("86400000".into()),
            STATIC_BROKER_CONFIG,
            vec!["4:log.retention.hours=24".into(), "5:log.retention.hours=168".into()]
        )
    );
    assert_eq!(value(&configs, "min.insync.replicas"), (Some("1".into()), DEFAULT_CONFIG));
    assert_eq!(produce_error(&mut one, &acks_all("orders")).await, 0);

    // The cluster-wide default (`--entity-default`), sent to any broker.
    let set_default =
        incremental(BROKER, "", &[("log.retention.ms", 0, Some("60000")), ("min.insync.replicas", 0, Some("2"))]);
    assert_eq!(alter(&mut two, &set_default).await, (0, None));
    for client in [&mut one, &mut two] {
        let (_, configs) = describe(client, TOPIC, "orders").await;
        assert_eq!(value(&configs, "retention.ms"), (Some("60000".into()), DYNAMIC_DEFAULT_BROKER_CONFIG));
        assert_eq!(value(&configs, "min.insync.replicas"), (Some("2".into()), DYNAMIC_DEFAULT_BROKER_CONFIG));
    }
    assert_eq!(
        produce_error(&mut one, &acks_all("orders")).await,
        0,
        "min.insync.replicas=2 counts as 1 on a topic with one replica (Kafka's effectiveMinIsr)"
    );

    // With ELR (KIP-966) there is no broker-level min.insync.replicas, as in Kafka 4.1.
    let refused = incremental(BROKER, "1", &[("min.insync.replicas", 0, Some("1"))]);
    assert_eq!(alter(&mut one, &refused).await.0, 40, "INVALID_CONFIG");

    // Broker 1's own value wins over the default, on broker 1 only.
    let set_one =
        incremental(BROKER, "1", &[("log.retention.ms", 0, Some("5000")), ("message.max.bytes", 0, Some("50"))]);
    assert_eq!(alter(&mut one, &set_one).await, (0, None));
    let (_, on_one) = describe(&mut one, TOPIC, "orders").await;
    assert_eq!(
        entry(&on_one, "retention.ms"),
        (
            Some("5000".into()),
            DYNAMIC_BROKER_CONFIG,
            vec![
                "2:log.retention.ms=5000".into(),
                "3:log.retention.ms=60000".into(),
                "4:log.retention.hours=24".into(),
                "5:log.retention.hours=168".into()
            ]
        )
    );
    let (_, on_two) = describe(&mut two, TOPIC, "orders").await;
    assert_eq!(value(&on_two, "retention.ms"), (Some("60000".into()), DYNAMIC_DEFAULT_BROKER_CONFIG));
    assert_eq!(produce_error(&mut one, &acks_all("orders")).await, 10, "MESSAGE_TOO_LARGE: broker 1 takes 50 bytes");

    // The topic's own override wins over both.
    let (_, audit) = describe(&mut one, TOPIC, "audit").await;
    assert_eq!(value(&audit, "retention.ms"), (Some("1000".into()), TOPIC_CONFIG));
    assert_eq!(entry(&audit, "retention.ms").2.len(), 5, "its own value, then every broker layer");
    let larger = incremental(TOPIC, "orders", &[("max.message.bytes", 0, Some("10000"))]);
    assert_eq!(alter(&mut one, &larger).await, (0, None));
    assert_eq!(produce_error(&mut one, &acks_all("orders")).await, 0, "the topic's own limit wins");

    // Deleting broker 1's value falls back to the default again.
    let unset_one = incremental(BROKER, "1", &[("log.retention.ms", 1, None)]);
    assert_eq!(alter(&mut one, &unset_one).await, (0, None));
    let (_, configs) = describe(&mut one, TOPIC, "orders").await;
    assert_eq!(value(&configs, "retention.ms"), (Some("60000".into()), DYNAMIC_DEFAULT_BROKER_CONFIG));

    // Describing the BROKER resources, as kafka-configs.sh --describe --entity-type brokers does.
    let (error, defaults) = describe(&mut one, BROKER, "").await;
    assert_eq!(error, 0);
    let names: Vec<&str> = defaults.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["log.retention.ms", "min.insync.replicas"]);
    assert_eq!(
        entry(&defaults, "log.retention.ms"),
        (Some("60000".into()), DYNAMIC_DEFAULT_BROKER_CONFIG, vec!["3:log.retention.ms=60000".into()])
    );
    let (_, broker_one) = describe(&mut one, BROKER, "1").await;
    assert_eq!(
        entry(&broker_one, "message.max.bytes"),
        (
            Some("50".into()),
            DYNAMIC_BROKER_CONFIG,
            vec!["2:message.max.bytes=50".into(), "5:message.max.bytes=1048588".into()]
        )
    );
    assert_eq!(
        entry(&broker_one, "min.insync.replicas"),
        (
            Some("2".into()),
            DYNAMIC_DEFAULT_BROKER_CONFIG,
            vec!["3:min.insync.replicas=2".into(), "5:min.insync.replicas=1".into()]
        )
    );
    let hours = broker_one.iter().find(|c| c.name.as_str() == "log.retention.hours").expect("listed");
    assert_eq!((hours.config_source, hours.read_only), (STATIC_BROKER_CONFIG, true));
    let (error, _) = describe(&mut one, BROKER, "2").await;
    assert_eq!(error, 42, "INVALID_REQUEST: broker 1 answers only for itself");

    // The legacy AlterConfigs replaces the whole set; with ELR the cluster-wide
    // min.insync.replicas may change but not go (Kafka 4.1).
    let legacy = |pairs: &[(&'static str, &'static str)]| {
        let mut request = AlterConfigsRequest::default();
        let mut resource = kafka_protocol::messages::alter_configs_request::AlterConfigsResource::default();
        resource.resource_type = BROKER;
        resource.resource_name = StrBytes::from_static_str("");
        resource.configs = pairs
            .iter()
            .map(|(name, value)| {
                let mut config = kafka_protocol::messages::alter_configs_request::AlterableConfig::default();
                config.name = StrBytes::from_static_str(name);
                config.value = Some(StrBytes::from_static_str(value));
                config
            })
            .collect();
        request.resources = vec![resource];
        request
    };
    let without_min_isr = legacy(&[("log.retention.bytes", "1000000")]);
    assert_eq!(one.send(&without_min_isr, 2).await.responses[0].error_code, 40, "INVALID_CONFIG");
    let replacing = legacy(&[("log.retention.bytes", "1000000"), ("min.insync.replicas", "2")]);
    assert_eq!(one.send(&replacing, 2).await.responses[0].error_code, 0);
    let (_, defaults) = describe(&mut one, BROKER, "").await;
    let names: Vec<&str> = defaults.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["log.retention.bytes", "min.insync.replicas"]);

    cluster.shutdown().await;
}

#[tokio::test]
async fn broker_config_changes_are_refused_as_kafka_refuses_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start_cluster(dir.path()).await;
    let mut one = Client::connect(cluster.local_addr()).await;
    let refusals = [
        (
            incremental(BROKER, "", &[("broker.session.timeout.ms", 0, Some("1000")), ("node.id", 0, Some("5"))]),
            (42, "Cannot update these configs dynamically: Set(broker.session.timeout.ms, node.id)"),
        ),
        (
            incremental(BROKER, "", &[("log.retention.hours", 0, Some("1"))]),
            (42, "Cannot update these configs dynamically: Set(log.retention.hours)"),
        ),
        (
            incremental(BROKER, "", &[("log.retention.ms", 0, Some("soon"))]),
            (42, "Invalid value soon for configuration log.retention.ms: Not a number of type LONG"),
        ),
        (
            incremental(BROKER, "", &[("log.retention.msx", 0, Some("1"))]),
            (40, "Unknown broker config name: log.retention.msx"),
        ),
        (
            incremental(BROKER, "", &[("min.insync.replicas", 2, Some("2"))]),
            (42, "Config value append is not allowed for config key: min.insync.replicas"),
        ),
        (
            incremental(BROKER, "2", &[("log.retention.ms", 0, Some("1"))]),
            (42, "Unexpected broker id, expected 1, but received 2"),
        ),
        (
            incremental(BROKER, "one", &[("log.retention.ms", 0, Some("1"))]),
            (42, "Node id must be an integer, but it is: one"),
        ),
    ];
    for (request, (code, message)) in refusals {
        assert_eq!(alter(&mut one, &request).await, (code, Some(message.to_owned())));
    }

    // validate_only checks and changes nothing.
    let mut check = incremental(BROKER, "", &[("log.cleanup.policy", 0, Some("compact"))]);
    check.validate_only = true;
    assert_eq!(alter(&mut one, &check).await, (0, None));
    let (_, defaults) = describe(&mut one, BROKER, "").await;
    assert!(defaults.is_empty(), "{defaults:?}");
    cluster.shutdown().await;
}

#[tokio::test]
async fn an_existing_log_rolls_segments_at_a_new_cluster_wide_segment_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start_cluster(dir.path()).await;
    let mut one = Client::connect(cluster.local_addr()).await;
    one.send(&create_request("clicks", 1, 1, &[]), 7).await;
    let segments = || {
        std::fs::read_dir(dir.path().join("broker-1").join("clicks-0"))
            .expect("the partition's directory")
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "log")))
            .count()
    };
    let record = || produce_request("clicks", 0, 1, batch(&[(None, "a record of some length")], 1, Compression::None));
    assert_eq!(produce_error(&mut one, &record()).await, 0);
    assert_eq!(segments(), 1);

    let small = incremental(BROKER, "", &[("log.segment.bytes", 0, Some("100"))]);
    assert_eq!(alter(&mut one, &small).await, (0, None));
    for _ in 0..3 {
        assert_eq!(produce_error(&mut one, &record()).await, 0);
    }
    assert!(segments() >= 3, "each batch past 100 bytes starts a new segment: {}", segments());
    cluster.shutdown().await;
}
