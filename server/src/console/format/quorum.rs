//! `kafka-metadata-quorum.sh`: `describe --status` and `--replication` as `MetadataQuorumCommand`
//! prints them.

use std::fmt::Write as _;

use super::{FormatError, ZERO_UUID, pad};
use crate::kafka::{QuorumInfo, QuorumReplicaInfo};

fn leader_of(info: &QuorumInfo) -> Result<&QuorumReplicaInfo, FormatError> {
    info.voters
        .iter()
        .find(|voter| voter.replica_id == info.leader_id)
        .ok_or_else(|| FormatError(format!("No value present: the leader {} is not among the voters", info.leader_id)))
}

/// `describe --status` (`MetadataQuorumCommand.handleDescribeStatus`).
///
/// # Errors
///
/// The leader is not one of the voters (the real tool fails the same way).
pub fn quorum_status(info: &QuorumInfo) -> Result<String, FormatError> {
    let leader = leader_of(info)?;
    let laggiest = info.voters.iter().min_by_key(|voter| voter.log_end_offset).unwrap_or(leader);
    let max_lag = leader.log_end_offset - laggiest.log_end_offset;
    let max_lag_time_ms = if laggiest.replica_id == leader.replica_id {
        0
    } else {
        match (leader.last_caught_up_timestamp_ms, laggiest.last_caught_up_timestamp_ms) {
            (Some(leader_ms), Some(laggiest_ms)) => leader_ms - laggiest_ms,
            _ => -1,
        }
    };
    // Each label is padded to 24 columns in the Java string literals.
    let fields = [
        ("ClusterId:", info.cluster_id.clone()),
        ("LeaderId:", info.leader_id.to_string()),
        ("LeaderEpoch:", info.leader_epoch.to_string()),
        ("HighWatermark:", info.high_watermark.to_string()),
        ("MaxFollowerLag:", max_lag.to_string()),
        ("MaxFollowerLagTimeMs:", max_lag_time_ms.to_string()),
        ("CurrentVoters:", replica_list(info, &info.voters)),
        ("CurrentObservers:", replica_list(info, &info.observers)),
    ];
    Ok(fields.iter().map(|(label, value)| format!("{label:<24}{value}\n")).collect())
}

/// `[{"id": 1, "directoryId": "...", "endpoints": ["CONTROLLER://localhost:9093"]}]`
/// (`MetadataQuorumCommand.Node.toString`: `directoryId` is always there, `null` for the zero
/// id; `endpoints` only when the voter has any).
fn replica_list(info: &QuorumInfo, replicas: &[QuorumReplicaInfo]) -> String {
    let nodes: Vec<String> = replicas
        .iter()
        .map(|replica| {
            let mut node = format!("{{\"id\": {}, \"directoryId\": ", replica.replica_id);
            match replica.directory_id.as_deref().filter(|id| *id != ZERO_UUID) {
                Some(id) => {
                    let _ = write!(node, "\"{id}\"");
                }
                // A voter of a static quorum (`controller.quorum.voters`) has none.
                None => node.push_str("null"),
            }
            let endpoints: Vec<String> = info
                .nodes
                .iter()
                .find(|n| n.node_id == replica.replica_id)
                .map(|n| {
                    n.endpoints
                        .iter()
                        .map(|(listener, host, port)| {
                            let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
                            format!("\"{listener}://{host}:{port}\"")
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !endpoints.is_empty() {
                let _ = write!(node, ", \"endpoints\": [{}]", endpoints.join(", "));
            }
            node.push('}');
            node
        })
        .collect();
    format!("[{}]", nodes.join(", "))
}

/// `describe --replication` (`MetadataQuorumCommand.handleDescribeReplication`, printed with
/// `ToolsUtils.prettyPrintTable`: every cell padded to its column and followed by a tab). With
/// `--human-readable`, pass the current time as `now_ms` and timestamps print as `N ms ago`.
///
/// # Errors
///
/// The leader is not among the voters, or a timestamp is after `now_ms` ("possible drift in
/// system clock", as the real tool says).
pub fn quorum_replication(info: &QuorumInfo, now_ms: Option<i64>) -> Result<String, FormatError> {
    let leader = leader_of(info)?;
    let time = |timestamp: Option<i64>, what: &str| -> Result<String, FormatError> {
        match (timestamp, now_ms) {
            (None, _) => Ok("-1".into()),
            (Some(ms), None) => Ok(ms.to_string()),
            (Some(ms), Some(now)) if ms > 0 && ms <= now => Ok(format!("{} ms ago", now - ms)),
            (Some(ms), Some(now)) => Err(FormatError(format!(
                "Error while computing relative time, possible drift in system clock.\nCurrent timestamp is {now}, \
                 {what} timestamp is {ms}"
            ))),
        }
    };
    let mut rows: Vec<[String; 7]> = Vec::new();
    let followers = info.voters.iter().filter(|v| v.replica_id != info.leader_id);
    let groups =
        [(vec![leader], "Leader"), (followers.collect(), "Follower"), (info.observers.iter().collect(), "Observer")];
    for (replicas, status) in groups {
        for r in replicas {
            rows.push([
                r.replica_id.to_string(),
                r.directory_id.clone().unwrap_or_else(|| ZERO_UUID.to_string()),
                r.log_end_offset.to_string(),
                (leader.log_end_offset - r.log_end_offset).to_string(),
                time(r.last_fetch_timestamp_ms, "last fetch")?,
                time(r.last_caught_up_timestamp_ms, "last caught up")?,
                status.to_string(),
            ]);
        }
    }
    let headers =
        ["NodeId", "DirectoryId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp", "Status"];
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut print_row = |cells: &mut dyn Iterator<Item = &str>| {
        for (cell, width) in cells.zip(&widths) {
            out.push_str(&pad(cell, *width));
            out.push('\t');
        }
        out.push('\n');
    };
    print_row(&mut headers.iter().copied());
    for row in &rows {
        print_row(&mut row.iter().map(String::as_str));
    }
    Ok(out)
}
