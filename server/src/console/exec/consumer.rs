//! `kafka-console-consumer`: reads a topic (or one partition) from a position, prints each record
//! in the chosen format and, with `--group`, starts from and commits the group's offsets.

use super::{ToolOutput, ToolResult};
use crate::console::format::{self, ConsumedRecord, RecordTimestamp};
use crate::console::parse::{Consume, OffsetSpec, Subscription};
use crate::kafka::Kafka;

/// Most records one console consumer command prints (the page is not a firehose).
const CONSUME_MAX: usize = 1_000;

/// Prints up to `--max-messages` records (at most [`CONSUME_MAX`]), then the tool's summary line.
/// Not interactive: it stops at the end of each partition instead of waiting for new records.
pub(super) async fn consume(kafka: &Kafka, consume: &Consume) -> ToolResult {
    let Subscription::Topic(topic) = &consume.subscription else {
        return Ok(ToolOutput::Failure("--include is not available in this console yet.\n".to_owned()));
    };
    let Some(info) = kafka.topic(topic).await? else {
        return Ok(ToolOutput::Success(format::console_consumer_summary(0)));
    };
    let limit = consume.max_messages.map_or(CONSUME_MAX, |m| usize::try_from(m).unwrap_or(0).min(CONSUME_MAX));
    let partitions: Vec<i32> = match consume.partition {
        Some(p) => vec![p],
        None => info.partitions.iter().map(|p| p.partition).collect(),
    };
    let committed = match &consume.group {
        Some(group) => kafka.committed_offsets(group, topic, &partitions).await?,
        None => Default::default(),
    };
    let mut output = String::new();
    let mut printed = 0;
    let mut positions = Vec::new();
    for partition in partitions {
        let start = match (committed.get(&partition), consume.offset, consume.from_beginning) {
            (Some(&offset), _, _) => offset,
            (None, OffsetSpec::Offset(offset), _) => offset,
            (None, OffsetSpec::Earliest, _) | (None, _, true) => {
                kafka.offsets(topic, partition).await?.map_or(0, |o| o.log_start_offset)
            }
            // Latest: the console waits for new records; this one is not interactive.
            (None, OffsetSpec::Latest, false) => kafka.offsets(topic, partition).await?.map_or(0, |o| o.log_end_offset),
        };
        let records = kafka.raw_records(topic, partition, start, limit - printed, usize::MAX).await?;
        let mut next = start;
        for record in records {
            next = record.offset + 1;
            let consumed = ConsumedRecord {
                topic: topic.clone(),
                partition,
                offset: record.offset,
                timestamp: if record.log_append_time {
                    RecordTimestamp::LogAppendTime(record.timestamp_ms)
                } else {
                    RecordTimestamp::CreateTime(record.timestamp_ms)
                },
                key: record.key.map(|k| k.to_vec()),
                value: record.value.map(|v| v.to_vec()),
                headers: record.headers.into_iter().map(|(key, value)| (key, value.map(|v| v.to_vec()))).collect(),
            };
            match format::console_record(&consumed, &consume.format) {
                Ok(line) => output.push_str(&line),
                Err(error) => {
                    output.push_str(&format!("{error:?}\n"));
                    return Ok(ToolOutput::Failure(output));
                }
            }
            printed += 1;
        }
        positions.push((partition, next));
        if printed >= limit {
            break;
        }
    }
    if let Some(group) = &consume.group {
        let _ = kafka.commit_offsets(group, topic, &positions).await?;
    }
    output.push_str(&format::console_consumer_summary(printed));
    Ok(ToolOutput::Success(output))
}
