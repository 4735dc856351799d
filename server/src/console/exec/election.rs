//! `kafka-leader-election`: ElectLeaders, printed as `LeaderElectionCommand` prints the admin
//! client's answer: the partitions elected, those that already had a valid leader, then one
//! line per failure and the count of failures.

use super::{ToolOutput, ToolResult};
use crate::console::format::kafka_exception;
use crate::console::parse::LeaderElection;
use crate::kafka::Kafka;
use broker::core::ErrorCode;

pub(super) async fn elect(kafka: &Kafka, election: &LeaderElection) -> ToolResult {
    let partitions = election.partition.clone().map(|p| vec![p]);
    let results = match kafka.elect_leaders(election.election.wire_value(), partitions.as_deref()).await? {
        Ok(results) => results,
        Err(refused) => {
            return Ok(ToolOutput::Failure(format!("{}\n", kafka_exception(refused.code, &refused.message))));
        }
    };
    let name = |topic: &str, partition: i32| format!("{topic}-{partition}");
    let mut elected = Vec::new();
    let mut not_needed = Vec::new();
    let mut failed = Vec::new();
    for result in &results {
        match &result.outcome {
            Ok(()) => elected.push(name(&result.topic, result.partition)),
            Err(refused) if refused.code == ErrorCode::ElectionNotNeeded.code() => {
                not_needed.push(name(&result.topic, result.partition));
            }
            Err(refused) => failed.push((name(&result.topic, result.partition), refused)),
        }
    }
    let kind = election.election.name();
    let mut out = String::new();
    if !elected.is_empty() {
        out.push_str(&format!(
            "Successfully completed leader election ({kind}) for partitions {}\n",
            elected.join(", ")
        ));
    }
    if !not_needed.is_empty() {
        out.push_str(&format!("Valid replica already elected for partitions {}\n", not_needed.join(", ")));
    }
    if failed.is_empty() {
        return Ok(ToolOutput::Success(out));
    }
    for (partition, refused) in &failed {
        out.push_str(&format!(
            "Error completing leader election ({kind}) for partition: {partition}: {}\n",
            kafka_exception(refused.code, &refused.message)
        ));
    }
    out.push_str(&format!("{} replica(s) could not be elected\n", failed.len()));
    Ok(ToolOutput::Failure(out))
}
