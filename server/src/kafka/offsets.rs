//! Offsets: ListOffsets for one partition or many.

use std::collections::BTreeMap;

use broker::core::ErrorCode;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest};

use super::{Kafka, KafkaError, topic_name};

/// Where a partition's log starts and ends, as a consumer sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOffsets {
    /// The first offset still in the log (ListOffsets "earliest").
    pub log_start_offset: i64,
    /// The offset the next record will get, as a consumer sees the end: the high watermark
    /// (ListOffsets "latest"; on one broker it is the log end offset).
    pub log_end_offset: i64,
}

impl Kafka {
    /// ListOffsets for one partition at a protocol timestamp (-1 latest, -2 earliest, -3 max
    /// timestamp, or milliseconds); `Ok(None)` when no record qualifies.
    pub async fn offset_at(&self, topic: &str, partition: i32, timestamp: i64) -> Result<Option<i64>, KafkaError> {
        let mut requested = ListOffsetsPartition::default();
        requested.partition_index = partition;
        requested.timestamp = timestamp;
        requested.current_leader_epoch = -1;
        let mut list_topic = ListOffsetsTopic::default();
        list_topic.name = topic_name(topic);
        list_topic.partitions = vec![requested];
        let mut request = ListOffsetsRequest::default();
        request.replica_id = BrokerId(-1);
        request.topics = vec![list_topic];
        let response = self.call_leader(topic, partition, &request, 7).await?;
        let answer = response.topics.into_iter().next().and_then(|t| t.partitions.into_iter().next());
        let Some(answer) = answer else { return Err(KafkaError::missing_answer()) };
        if answer.error_code != 0 {
            return Err(KafkaError::Broker(answer.error_code));
        }
        Ok((answer.offset >= 0).then_some(answer.offset))
    }

    /// Where a partition starts and ends; `None` if it does not exist.
    pub async fn offsets(&self, topic: &str, partition: i32) -> Result<Option<LogOffsets>, KafkaError> {
        let earliest = match self.offset_at(topic, partition, -2).await {
            Err(error) if error.is(ErrorCode::UnknownTopicOrPartition) => return Ok(None),
            other => other?,
        };
        let latest = self.offset_at(topic, partition, -1).await?;
        Ok(Some(LogOffsets { log_start_offset: earliest.unwrap_or(0), log_end_offset: latest.unwrap_or(0) }))
    }

    /// Where many partitions start and end, in two ListOffsets requests (earliest, then latest)
    /// to each partition's leader. Partitions the cluster does not know, or that have no
    /// leader now, are left out.
    pub async fn log_offsets(
        &self,
        partitions: &BTreeMap<String, Vec<i32>>,
    ) -> Result<BTreeMap<(String, i32), LogOffsets>, KafkaError> {
        if partitions.values().all(Vec::is_empty) {
            return Ok(BTreeMap::new());
        }
        let topics: Vec<String> = partitions.keys().cloned().collect();
        let leaders = self.leaders(&topics).await?;
        let mut by_leader: BTreeMap<std::net::SocketAddr, BTreeMap<String, Vec<i32>>> = BTreeMap::new();
        for (topic, indexes) in partitions {
            for &index in indexes {
                if let Some(Some(leader)) = leaders.get(&(topic.clone(), index)) {
                    by_leader.entry(*leader).or_default().entry(topic.clone()).or_default().push(index);
                }
            }
        }
        let ask = |partitions: &BTreeMap<String, Vec<i32>>, timestamp: i64| {
            let mut request = ListOffsetsRequest::default();
            request.replica_id = BrokerId(-1);
            // Kafka refuses a topic named twice in one request: one entry per topic.
            request.topics = partitions
                .iter()
                .filter(|(_, indexes)| !indexes.is_empty())
                .map(|(topic, indexes)| {
                    let mut list_topic = ListOffsetsTopic::default();
                    list_topic.name = topic_name(topic);
                    list_topic.partitions = indexes
                        .iter()
                        .map(|&index| {
                            let mut requested = ListOffsetsPartition::default();
                            requested.partition_index = index;
                            requested.timestamp = timestamp;
                            requested.current_leader_epoch = -1;
                            requested
                        })
                        .collect();
                    list_topic
                })
                .collect();
            request
        };
        let answers = |response: kafka_protocol::messages::ListOffsetsResponse| {
            response
                .topics
                .into_iter()
                .flat_map(|t| {
                    let topic = t.name.0.to_string();
                    t.partitions
                        .into_iter()
                        .filter(|p| p.error_code == 0)
                        .map(move |p| ((topic.clone(), p.partition_index), p.offset.max(0)))
                })
                .collect::<BTreeMap<(String, i32), i64>>()
        };
        let mut earliest = BTreeMap::new();
        let mut latest = BTreeMap::new();
        for (leader, partitions) in &by_leader {
            earliest.extend(answers(self.call_at(*leader, &ask(partitions, -2), 7).await?));
            latest.extend(answers(self.call_at(*leader, &ask(partitions, -1), 7).await?));
        }
        Ok(earliest
            .into_iter()
            .filter_map(|(key, start)| {
                let end = *latest.get(&key)?;
                Some((key, LogOffsets { log_start_offset: start, log_end_offset: end }))
            })
            .collect())
    }
}
