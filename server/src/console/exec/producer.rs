//! `kafka-console-producer`: the records typed after the command, produced in one call.

use super::{ToolOutput, ToolResult};
use crate::console::parse::{Acks, Produce};
use crate::kafka::{Kafka, ProducerRecord};

/// Produces the records with the requested `--producer-property acks`, auto-creating a missing
/// topic as the real producer does through Metadata.
pub(super) async fn produce(kafka: &Kafka, produce: &Produce) -> ToolResult {
    // A value equal to `null.marker` was parsed as None: a tombstone, sent as a null value.
    let records: Vec<ProducerRecord> = produce
        .records
        .iter()
        .map(|r| ProducerRecord { key: r.key.clone(), value: r.value.clone(), headers: r.headers.clone() })
        .collect();
    if records.is_empty() {
        return Ok(ToolOutput::silent());
    }
    let acks = match produce.acks {
        Acks::None => 0,
        Acks::Leader => 1,
        Acks::All => -1,
    };
    // The real producer auto-creates a missing topic through Metadata; so does ours.
    if kafka.topic(&produce.topic).await?.is_none() {
        let _ = kafka.create_topic(&produce.topic, None, None, &[]).await?;
    }
    Ok(match kafka.produce(&produce.topic, &records, acks).await? {
        Ok(_) => ToolOutput::silent(),
        // Kafka's ErrorLoggingCallback: "null" or "<n> bytes" for key and value.
        Err(refusal) => ToolOutput::Failure(format!(
            "[ERROR] Error when sending message to topic {} with key: {}, value: {} with error: {}\n",
            produce.topic,
            records[0].key.as_ref().map_or("null".to_owned(), |k| format!("{} bytes", k.len())),
            records[0].value.as_ref().map_or("null".to_owned(), |v| format!("{} bytes", v.len())),
            crate::console::format::kafka_exception(refusal.code, &refusal.message)
        )),
    })
}
