//! ElectLeaders (KIP-460), as the admin client's `electLeaders` sends it for
//! `kafka-leader-election.sh`.

use broker::core::ErrorCode;
use kafka_protocol::messages::ElectLeadersRequest;
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;

use super::{Kafka, KafkaError, Refusal, refusal, topic_name};

/// One partition's election: `Ok` when a leader was elected, else Kafka's refusal
/// (ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionResult {
    pub topic: String,
    pub partition: i32,
    pub outcome: Result<(), Refusal>,
}

impl Kafka {
    /// Elects leaders: `election_type` 0 PREFERRED, 1 UNCLEAN; `partitions` `None` is every
    /// partition (the broker then leaves out those that need no election). The outer `Err` of
    /// the inner result is a refusal of the whole request.
    pub async fn elect_leaders(
        &self,
        election_type: i8,
        partitions: Option<&[(String, i32)]>,
    ) -> Result<Result<Vec<ElectionResult>, Refusal>, KafkaError> {
        let mut request = ElectLeadersRequest::default();
        request.election_type = election_type;
        request.timeout_ms = 30_000;
        request.topic_partitions = partitions.map(|partitions| {
            let mut topics: Vec<TopicPartitions> = Vec::new();
            for (topic, partition) in partitions {
                match topics.iter_mut().find(|t| t.topic.0.as_str() == topic) {
                    Some(entry) => entry.partitions.push(*partition),
                    None => {
                        let mut entry = TopicPartitions::default();
                        entry.topic = topic_name(topic);
                        entry.partitions = vec![*partition];
                        topics.push(entry);
                    }
                }
            }
            topics
        });
        let response = self.call(&request, 2).await?;
        if let Err(refused) = refusal(response.error_code, None) {
            return Ok(Err(refused));
        }
        let mut results = Vec::new();
        for topic in response.replica_election_results {
            for partition in topic.partition_result {
                results.push(ElectionResult {
                    topic: topic.topic.0.to_string(),
                    partition: partition.partition_id,
                    outcome: refusal(
                        partition.error_code,
                        partition
                            .error_message
                            .map(|m| m.to_string())
                            .or_else(|| default_message(partition.error_code)),
                    ),
                });
            }
        }
        Ok(Ok(results))
    }
}

/// The text of Kafka's `Errors` for the codes a controller sends without a message (the admin
/// client then builds the exception from the code alone).
fn default_message(code: i16) -> Option<String> {
    let text = match ErrorCode::from_code(code)? {
        ErrorCode::ElectionNotNeeded => "Leader election not needed for topic partition.",
        ErrorCode::PreferredLeaderNotAvailable => "The preferred leader was not available.",
        ErrorCode::EligibleLeadersNotAvailable => "Eligible topic partition leaders are not available.",
        _ => return None,
    };
    Some(text.to_owned())
}
