//! The snapshot the page draws, built from the simulation's state each frame.
//!
//! A replica's `state` is what the test hooks (`data-replica-state`) and the colours show:
//! `leader` (up and leading in the current leader epoch), `follower` (up and in the ISR),
//! `out-of-sync` (up but not in the ISR) or `offline` (its broker is down).

use broker::core::broker::PartitionRole;
use broker::core::broker::storage::ReplicaLog;
use broker::core::message::TopicPartition;
use broker::sim::Simulation;
use serde_json::{Value, json};

/// Records per replica the snapshot carries: the last few, for the log strip of each replica.
/// The page asks [`partition_records`] for more of one partition.
const RECORDS_IN_SNAPSHOT: usize = 8;

pub(crate) fn snapshot(simulation: &Simulation) -> Value {
    let image = simulation.active_image();
    let controllers: Vec<Value> = simulation
        .controller_ids()
        .map(|id| match simulation.controller(id) {
            Some(node) => json!({
                "id": id,
                "up": true,
                "role": node.quorum.role().name(),
                "active": node.is_active(),
                "epoch": node.quorum.epoch(),
                "leader_id": node.quorum.leader_id(),
                "log_end_offset": node.quorum.log_end_offset(),
                "high_watermark": node.quorum.high_watermark(),
            }),
            None => json!({ "id": id, "up": false }),
        })
        .collect();
    let active = simulation.active_controller().and_then(|id| simulation.controller(id));
    let quorum = json!({
        "leader_id": active.map(|c| c.quorum.id()),
        "epoch": active.map(|c| c.quorum.epoch()),
        "high_watermark": active.map(|c| c.quorum.high_watermark()),
    });
    let brokers: Vec<Value> = simulation
        .broker_ids()
        .map(|id| {
            let registration = image.and_then(|i| i.brokers.get(&id));
            json!({
                "id": id,
                "up": simulation.is_up(id),
                "fenced": registration.is_none_or(|r| r.fenced),
            })
        })
        .collect();
    let mut partitions = Vec::new();
    if let Some(image) = image {
        for (topic, partition, registration) in image.partitions() {
            let tp = TopicPartition { topic: topic.to_owned(), partition };
            let replicas: Vec<Value> = registration
                .replicas
                .iter()
                .map(|&broker| {
                    let node = simulation.broker(broker);
                    let leading = node.is_some_and(|b| {
                        matches!(b.partitions.get(&tp), Some(PartitionRole::Leader(s)) if s.replica.leader_epoch == registration.leader_epoch)
                    });
                    let state = match node {
                        None => "offline",
                        Some(_) if leading && registration.leader == broker => "leader",
                        Some(_) if registration.isr.contains(&broker) => "follower",
                        Some(_) => "out-of-sync",
                    };
                    let log = simulation.broker_log(broker, &tp);
                    let log_end_offset = log.map_or(0, |l| l.log_end_offset());
                    let high_watermark = match node.and_then(|b| b.partitions.get(&tp)) {
                        Some(PartitionRole::Leader(s)) => s.replica.high_watermark,
                        _ => log.map_or(0, |l| l.high_watermark),
                    };
                    let records: Vec<Value> = log
                        .map(|l| {
                            let skip = l.records.len().saturating_sub(RECORDS_IN_SNAPSHOT);
                            l.records
                                .iter()
                                .skip(skip)
                                .map(|r| json!({ "offset": r.offset, "epoch": r.leader_epoch, "key": r.key, "value": r.value }))
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({
                        "broker": broker,
                        "state": state,
                        "in_isr": registration.isr.contains(&broker),
                        "log_end_offset": log_end_offset,
                        "high_watermark": high_watermark,
                        "records": records,
                    })
                })
                .collect();
            partitions.push(json!({
                "topic": topic,
                "partition": partition,
                "leader": registration.leader,
                "leader_epoch": registration.leader_epoch,
                "isr": registration.isr,
                "elr": registration.elr,
                "last_known_elr": registration.last_known_elr,
                "unclean_elections": registration.unclean_elections,
                "replicas": replicas,
            }));
        }
    }
    let links_cut: Vec<Value> = simulation.network().cut_links().map(|(a, b)| json!([a, b])).collect();
    let in_flight: Vec<Value> =
        simulation.network().in_flight().map(|(from, to, api, at_ms)| json!([from, to, api, at_ms])).collect();
    json!({
        "now_ms": simulation.now_ms(),
        "formed_at_ms": simulation.formed_at_ms(),
        "controllers": controllers,
        "quorum": quorum,
        "brokers": brokers,
        "partitions": partitions,
        "links_cut": links_cut,
        "in_flight": in_flight,
        "acknowledged": simulation.acked().len(),
        "lost": simulation.checker().losses().len(),
        "violations": simulation.checker().violations(),
        "event_count": simulation.events().len(),
    })
}

pub(crate) fn events_since(simulation: &Simulation, from: usize) -> Value {
    let events: Vec<Value> = simulation
        .events()
        .iter()
        .skip(from)
        .map(|e| json!({ "at_ms": e.at_ms, "category": e.kind.category(), "text": e.kind.to_string() }))
        .collect();
    Value::Array(events)
}

/// Every replica's last `max` records of one partition, with the leader's high watermark, for
/// the record view of the partition the learner selected.
pub(crate) fn partition_records(simulation: &Simulation, topic: &str, partition: i32, max: usize) -> Value {
    let tp = TopicPartition { topic: topic.to_owned(), partition };
    let Some(registration) = simulation.active_image().and_then(|i| i.partition(topic, partition)) else {
        return Value::Null;
    };
    let replicas: Vec<Value> = registration
        .replicas
        .iter()
        .map(|&broker| {
            let log = simulation.broker_log(broker, &tp);
            let records: Vec<Value> = log
                .map(|l| {
                    let skip = l.records.len().saturating_sub(max);
                    l.records
                        .iter()
                        .skip(skip)
                        .map(|r| json!({ "offset": r.offset, "epoch": r.leader_epoch, "key": r.key, "value": r.value }))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "broker": broker,
                "log_end_offset": log.map_or(0, |l| l.log_end_offset()),
                "high_watermark": log.map_or(0, |l| l.high_watermark),
                "records": records,
            })
        })
        .collect();
    json!({ "topic": topic, "partition": partition, "leader": registration.leader, "replicas": replicas })
}
