//! What the tools print, byte for byte like Apache Kafka 4.x, from plain structs the executor fills
//! from Kafka protocol responses.
//!
//! Every function returns the text the real tool writes, stdout and stderr in the order a terminal
//! shows them, ending with a newline when the tool's does. The layouts follow the Java sources
//! named on each function; where the tools iterate a `HashMap` (so their order is arbitrary) the
//! console sorts, and says so.
//!
//! One file per tool, as in `parse/`: `topics`, `consumer`, `groups`, `configs`, `offsets`
//! (`kafka-get-offsets`) and `quorum` (`kafka-metadata-quorum`); everything is re-exported here, so
//! callers write `format::topics_list`. This file keeps what several tools share.

mod configs;
mod consumer;
mod groups;
mod offsets;
mod quorum;
mod topics;

pub use configs::{
    ConfigDescription, ConfigEntry, ConfigResourceName, ConfigSource, ConfigSynonym, config_entity_missing,
    configs_altered, configs_describe, configs_invalid_delete,
};
pub use consumer::{ConsumedRecord, RecordTimestamp, console_consumer_summary, console_record};
pub use groups::{
    CoordinatorView, GroupDescription, GroupListing, GroupMember, GroupMembers, GroupOffsetRow, GroupResetPlan,
    GroupStateDescription, GroupStateView, GroupType, group_error, groups_deleted, groups_describe_members,
    groups_describe_offsets, groups_describe_state, groups_list, groups_list_table, groups_offsets_deleted,
    groups_reset_offsets, groups_reset_offsets_csv,
};
pub use offsets::{OffsetRow, get_offsets, get_offsets_no_match};
pub use quorum::{quorum_replication, quorum_status};
pub use topics::{
    PartitionDescription, TopicDescription, topic_created, topic_does_not_exist, topics_describe, topics_error,
    topics_list,
};

/// A record or a quorum that cannot be printed the way the tool would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(String);

/// The zero `Uuid` in base64, which `TopicCommand` never prints (nor `MetadataQuorumCommand` as a
/// directory id).
const ZERO_UUID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// `ConsumerGroupCommand.MISSING_COLUMN_VALUE`.
const MISSING: &str = "-";

/// Java's `%-Ns`: `text` padded with spaces to `width` characters (never cut).
fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

fn or_missing<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| MISSING.to_string(), |v| v.to_string())
}

fn join_ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// How a Java client prints an error the broker answered with: the exception class Kafka maps
/// the error code to (`Errors.forCode(code).exception()`), then the message.
pub fn kafka_exception(code: i16, message: &str) -> String {
    let name = broker::core::ErrorCode::from_code(code).map_or("UNKNOWN_SERVER_ERROR", |e| e.name());
    // Most classes are the error's name in CamelCase; these are Kafka's exceptions to the rule.
    let class = match name {
        "CORRUPT_MESSAGE" => "CorruptRecordException".to_owned(),
        "MESSAGE_TOO_LARGE" => "RecordTooLargeException".to_owned(),
        "RECORD_LIST_TOO_LARGE" => "RecordBatchTooLargeException".to_owned(),
        "INVALID_RECORD" => "InvalidRecordException".to_owned(),
        "UNKNOWN_SERVER_ERROR" => "UnknownServerException".to_owned(),
        name => {
            let camel: String = name
                .split('_')
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map(|first| first.to_string() + &chars.as_str().to_lowercase()).unwrap_or_default()
                })
                .collect();
            if camel.ends_with("Exception") { camel } else { format!("{camel}Exception") }
        }
    };
    format!("org.apache.kafka.common.errors.{class}: {message}")
}
