//! The request path as a fuzz target drives it (feature `fuzzing`): bytes as they would arrive
//! on a connection, split into frames, decoded, handled by a real one-broker cluster on a
//! scratch directory, and the response encoded. `broker/fuzz/` holds the libFuzzer target.
//!
//! Handlers that write to disk (CreateTopics, CreatePartitions, Produce, config changes,
//! commits) are skipped: a fuzzer would fill the disk with topics. Decoding, which is where
//! hostile bytes bite, covers every API; the writing handlers are covered by the protocol tests.

use std::sync::Arc;

use bytes::BytesMut;
use kafka_protocol::messages::{ApiKey, ResponseKind};

use super::ResolvedConfig;
use super::api::{self, RequestContext, versions};
use super::broker::BrokerHandle;
use super::cluster::Cluster;
use super::connection::{Decoded, decode, encode_response, take_frame};
use crate::core::ErrorCode;

/// A running one-broker cluster and the runtime that drives it.
#[derive(Debug)]
pub struct RequestPath {
    runtime: tokio::runtime::Runtime,
    cluster: Arc<Cluster>,
    broker: Arc<BrokerHandle>,
}

/// How long one request may take: long polls (Fetch, JoinGroup) are cut short rather than
/// waited for, so each input stays fast.
const REPLY_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

impl RequestPath {
    /// A broker on a fresh scratch directory under the system temp dir.
    ///
    /// # Panics
    /// If the scratch directory or the runtime cannot be created (a harness set-up failure).
    pub fn new() -> RequestPath {
        let dir = std::env::temp_dir().join(format!("streamlab-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = ResolvedConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            advertised: None,
            data_dir: dir,
            brokers: 1,
            controllers: 1,
            auto_create_topics: false,
            default_partitions: 1,
            default_replication_factor: 1,
            broker_session_timeout_ms: 9_000,
            replica_lag_time_max_ms: 30_000,
            flush_interval_ms: 5,
            replica_high_watermark_checkpoint_interval_ms: 5_000,
            retention_check_interval_ms: 60_000,
            log_cleaner_enable: false,
            log_cleaner_backoff_ms: 15_000,
            log_cleaner_dedupe_buffer_bytes: 1 << 20,
            max_request_bytes: 1 << 20,
            fetch_max_bytes: 1 << 20,
            max_connections: 16,
            max_connections_per_ip: 16,
            connections_max_idle_ms: 600_000,
            request_read_timeout_ms: 30_000,
            queued_max_request_bytes: None,
            group_initial_rebalance_delay_ms: 0,
            metadata_max_idle_interval_ms: Some(500),
            leader_imbalance_check_interval_ms: Some(300_000),
            eligible_leader_replicas_enabled: true,
            static_configs: Default::default(),
            max_open_log_files: 64,
            max_partition_replicas: super::DEFAULT_MAX_PARTITION_REPLICAS,
        };
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the fuzz target");
        let cluster = Arc::new(Cluster::new(config).expect("a scratch cluster"));
        runtime.block_on(cluster.start_all(std::time::Duration::from_secs(30))).expect("the scratch cluster starts");
        let broker = cluster.brokers.values().next().cloned().expect("broker 1");
        RequestPath { runtime, cluster, broker }
    }

    /// Feeds `data` as one connection's bytes.
    ///
    /// # Panics
    /// When a request that decoded gets a response that does not encode: that is a broker bug.
    pub fn feed(&self, data: &[u8]) {
        let mut buf = BytesMut::from(data);
        while let Ok(Some(frame)) = take_frame(&mut buf, self.cluster.config.max_request_bytes) {
            let (api, version, correlation_id, response) = match decode(frame) {
                Ok(Decoded::ApiVersionsFallback { correlation_id }) => (
                    ApiKey::ApiVersions,
                    0,
                    correlation_id,
                    Some(ResponseKind::ApiVersions(versions::response(ErrorCode::UnsupportedVersion))),
                ),
                Ok(Decoded::Request { api, version, correlation_id, client_id, body }) => {
                    if writes_to_disk(api) {
                        continue;
                    }
                    let context = RequestContext { client_id, client_host: "/127.0.0.1".into() };
                    let reply =
                        api::dispatch(&self.cluster, &self.broker, api::Prepared::Other(*body), version, context);
                    // A JoinGroup may park until other members rejoin, a Fetch until data comes.
                    let bounded = async { tokio::time::timeout(REPLY_WAIT, reply).await };
                    match self.runtime.block_on(bounded) {
                        Ok(response) => (api, version, correlation_id, response),
                        Err(_) => continue,
                    }
                }
                // The connection would be closed: nothing more to read from it.
                Err(_) => return,
            };
            if let Some(response) = response
                && let Err(error) = encode_response(api, version, correlation_id, &response)
            {
                panic!("{api:?} v{version}: a decoded request got a response that does not encode: {error}");
            }
        }
    }
}

impl Default for RequestPath {
    fn default() -> Self {
        Self::new()
    }
}

fn writes_to_disk(api: ApiKey) -> bool {
    matches!(
        api,
        ApiKey::CreateTopics
            | ApiKey::DeleteTopics
            | ApiKey::CreatePartitions
            | ApiKey::ElectLeaders
            | ApiKey::Produce
            | ApiKey::AlterConfigs
            | ApiKey::IncrementalAlterConfigs
            | ApiKey::OffsetCommit
            | ApiKey::DeleteGroups
            // Metadata may auto-create topics when the client allows it.
            | ApiKey::Metadata
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_valid_and_hostile_bytes_without_panicking() {
        let path = RequestPath::new();
        // ApiVersions v3, then Metadata v4 announcing 2^31-1 topics, then garbage.
        let mut stream = vec![0, 0, 0, 12, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0];
        stream.extend_from_slice(&[0, 0, 0, 15, 0, 3, 0, 4, 0, 0, 0, 2, 0, 1, b'x', 0x7f, 0xff, 0xff, 0xff, 0, 0]);
        stream.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        path.feed(&stream);
    }
}
