//! # Streamlab's embedded broker
//!
//! A Kafka-protocol broker that runs inside `streamlab` so that learners' own clients (kcat,
//! confluent-kafka, kafka-python, kafkajs) work against it unchanged.
//!
//! # Layout
//!
//! * [`core`]: the sans-IO core — Kafka's semantics with no I/O: topic configs and names, error
//!   codes, each partition replica's state, the broker node (leader and follower replication),
//!   the controller node (KIP-631 decisions, elections, automatic leader rebalance), the KRaft
//!   quorum (KIP-595) and the consumer-group coordinator. Time is an argument; it builds for
//!   `wasm32-unknown-unknown` with default features off, so the browser simulator runs the same
//!   code.
//! * [`record`]: the record batch v2 header (61 bytes): parsing, CRC-32C, in-place offset
//!   rewrite; produce-time validation as Kafka's `LogValidator` does it, and bounded streaming
//!   decompression. Pure, also in the wasm build.
//! * `log` (feature `runtime`): the on-disk segmented log of one partition — segment files
//!   holding batches as produced, sparse offset and time indexes, roll, retention, crash
//!   recovery, and the log cleaner that compacts `cleanup.policy=compact` topics
//!   (`log/cleaner.rs`).
//! * `runtime` (feature `runtime`): the tokio driver — a cluster of brokers and controllers in
//!   one process around the core's nodes, the Kafka port under its limits (codec: the
//!   `kafka-protocol` crate), one module per API under `runtime/api/`, group commit and
//!   retention timers, a log cleaner task per broker, each controller's metadata log on disk, and broker settings by Kafka's
//!   names (`runtime/properties.rs`).
//! * `client` (feature `client`): a Kafka client connection over the same codec, for the server's
//!   console and exercise checks and for tests.
//! * `sim`: the deterministic simulator (brokers, controllers, a seeded network, invariant
//!   checkers) for the tests, the browser bundle and the server's goal verification.

pub mod core;
pub mod record;
pub mod sim;

#[cfg(feature = "runtime")]
pub mod log;
#[cfg(feature = "runtime")]
pub mod runtime;

#[cfg(feature = "runtime")]
pub use runtime::{
    Broker, BrokerConfig, BrokerError, ClusterControl, DEFAULT_MAX_PARTITION_REPLICAS, NodeControlError, NodesStatus,
    default_max_open_log_files,
};

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "testkit")]
pub mod testkit;
