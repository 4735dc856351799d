//! `kafka-metadata-quorum describe`: `--status` and `--replication` from DescribeQuorum.

use super::{ToolOutput, ToolResult};
use crate::console::format;
use crate::console::parse::{QuorumDescribe, QuorumView};
use crate::kafka::Kafka;

/// Prints the quorum's status or its replication table (`--human-readable` shows ages).
pub(super) async fn describe(kafka: &Kafka, describe: &QuorumDescribe) -> ToolResult {
    let info = match kafka.describe_quorum_waiting(std::time::Duration::from_secs(30)).await? {
        Ok(info) => info,
        // MetadataQuorumCommand prints the exception's message (and its stack trace).
        Err(refusal) => {
            return Ok(ToolOutput::Failure(format!(
                "Error: the broker refused DescribeQuorum (error code {}): {}\n",
                refusal.code, refusal.message
            )));
        }
    };
    let printed = match describe.view {
        QuorumView::Status => format::quorum_status(&info),
        QuorumView::Replication { human_readable } => {
            format::quorum_replication(&info, human_readable.then(crate::progress::now_ms))
        }
    };
    Ok(match printed {
        Ok(text) => ToolOutput::Success(text),
        Err(error) => ToolOutput::Failure(format!("{error}\n")),
    })
}
