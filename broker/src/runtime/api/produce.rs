//! Produce (key 0): each partition's record batch goes to the core's broker, which decides by
//! acks and the ISR, appends, and answers (the same code the simulator runs).
//!
//! Batches are stored exactly as the producer sent them: only the base offset and the partition
//! leader epoch are rewritten, in place, and the CRC (which does not cover them) stays valid.
//!
//! Durability (the stated policy): acks=0 gets no response; acks=1 is answered once the batch is
//! in the leader's log file (the page cache: it survives the process being killed, not a power
//! cut); acks=all (-1) is answered once every in-sync replica has it (the high watermark passed
//! it) and group commit has fsynced it on the leader, at most `flush_interval_ms` later. With
//! fewer in-sync replicas than `min.insync.replicas` an acks=all write is refused with
//! NOT_ENOUGH_REPLICAS, as Kafka does.

use std::sync::Arc;

use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};

use super::{Reply, str_bytes};
use crate::core::ErrorCode;
use crate::core::message::TopicPartition;
use crate::runtime::broker::BrokerHandle;
use crate::runtime::cluster::Cluster;

pub(super) fn handle(cluster: &Arc<Cluster>, broker: &Arc<BrokerHandle>, request: ProduceRequest) -> Reply {
    let acks = request.acks;
    let mut topics = Vec::new();
    let mut flush_round = None;
    for topic_data in request.topic_data {
        let name = topic_data.name.0.to_string();
        let mut partitions = Vec::new();
        for partition_data in topic_data.partition_data {
            let index = partition_data.index;
            let started = if matches!(acks, -1..=1) {
                let tp = TopicPartition { topic: name.clone(), partition: index };
                let records = partition_data.records.unwrap_or_default();
                broker.produce(cluster, tp, acks, &records)
            } else {
                Err(ErrorCode::InvalidRequiredAcks)
            };
            let answer = match started {
                Ok((answer, round)) => {
                    flush_round = Some(round);
                    answer.map(Ok)
                }
                Err(error) => Some(Err(error)),
            };
            partitions.push((index, answer));
        }
        topics.push((topic_data.name, partitions));
    }
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        if acks == 0 {
            return None;
        }
        let mut responses = Vec::new();
        let mut any_written = false;
        for (name, partitions) in topics {
            let mut partition_responses = Vec::new();
            for (index, answer) in partitions {
                let mut response = PartitionProduceResponse::default();
                response.index = index;
                response.base_offset = -1;
                response.log_append_time_ms = -1;
                response.log_start_offset = -1;
                let outcome = match answer {
                    Some(Ok(receiver)) => receiver.await.unwrap_or((ErrorCode::NotLeaderOrFollower, -1)),
                    Some(Err(error)) => (error, -1),
                    None => (ErrorCode::None, -1),
                };
                match outcome {
                    (ErrorCode::None, base_offset) => {
                        any_written = true;
                        response.base_offset = base_offset;
                        let tp = TopicPartition { topic: name.0.to_string(), partition: index };
                        response.log_start_offset = broker
                            .with_node(|node| node.logs.get(&tp).map(|log| log.log.log_start_offset()))
                            .flatten()
                            .unwrap_or(-1);
                    }
                    (error, _) => {
                        response.error_code = error.code();
                        response.error_message = error_message(error, &name.0, index).map(str_bytes);
                    }
                }
                partition_responses.push(response);
            }
            let mut topic_response = TopicProduceResponse::default();
            topic_response.name = name;
            topic_response.partition_responses = partition_responses;
            responses.push(topic_response);
        }
        if let (-1, Some(round), true) = (acks, flush_round, any_written) {
            cluster.durable(round).await;
        }
        let mut response = ProduceResponse::default();
        response.responses = responses;
        Some(ResponseKind::Produce(response))
    })
}

/// Kafka's messages for the produce errors a learner meets.
fn error_message(error: ErrorCode, topic: &str, partition: i32) -> Option<String> {
    match error {
        ErrorCode::NotEnoughReplicas => Some(format!(
            "The size of the current ISR is insufficient to satisfy the min.isr requirement of partition {topic}-{partition}"
        )),
        ErrorCode::InvalidRecord => Some(
            "Produce requests with version 3 or later must contain exactly one record batch, without transactions"
                .into(),
        ),
        _ => None,
    }
}
