//! `kafka-get-offsets`: ListOffsets at one timestamp for every partition the `--topic-partitions`
//! rules match.

use super::{ToolOutput, ToolResult};
use crate::console::format::{self, OffsetRow};
use crate::console::parse::{GetOffsets, PartitionFilter};
use crate::kafka::Kafka;

/// One row per matched partition, or the tool's "could not match" line.
pub(super) async fn get_offsets(kafka: &Kafka, get: &GetOffsets) -> ToolResult {
    let timestamp = get.time.list_offsets_timestamp();
    let mut rows = Vec::new();
    let topics = kafka.list_topics().await?;
    for rule in &get.rules {
        for name in topics.iter().filter(|t| rule.topic.as_ref().is_none_or(|wanted| wanted == *t)) {
            let Some(info) = kafka.topic(name).await? else { continue };
            for partition in info.partitions.iter().map(|p| p.partition) {
                let included = match &rule.partitions {
                    PartitionFilter::All => true,
                    PartitionFilter::Set(set) => set.contains(&partition),
                    PartitionFilter::Range { lower, upper } => (*lower..*upper).contains(&partition),
                };
                if included {
                    let offset = kafka.offset_at(name, partition, timestamp).await?;
                    rows.push(OffsetRow { topic: name.clone(), partition, offset });
                }
            }
        }
    }
    Ok(ToolOutput::Success(if rows.is_empty() { format::get_offsets_no_match() } else { format::get_offsets(&rows) }))
}
