//! The sans-IO core: Kafka's semantics with no sockets, files, clocks or threads.
//!
//! Everything here takes time as an argument and builds for `wasm32-unknown-unknown`, so the
//! same code runs in the broker (driven by `crate::runtime`), in the deterministic simulator
//! ([`crate::sim`]) and, through it, in the browser.
//!
//! # Layout
//!
//! * [`broker`]: a KRaft broker node — a quorum observer that registers, heart-beats, and leads
//!   or follows its partitions (produce by acks and ISR, follower fetches, the high watermark,
//!   ISR changes, truncation) over a [`broker::storage::Storage`] the driver supplies.
//! * [`controller`]: the active controller's decisions (KIP-631) and the controller node that
//!   runs them on top of the metadata quorum.
//! * [`quorum`]: the KRaft metadata quorum (KIP-595).
//! * [`metadata`]: the metadata records and the image they build.
//! * [`replica`]: the leader's view of one partition (ISR, high watermark) and the leader-epoch
//!   cache.
//! * [`group`]: the consumer group coordinator. [`producer`]: idempotent producers' sequences.
//! * [`message`], [`node`], [`event`]: what nodes send each other, their ids and outbox, and the
//!   event log in Kafka's words.
//! * [`config`], [`topic`], [`partitioner`], [`error`]: topic configs and names, murmur2,
//!   Kafka's error codes. [`broker_config`]: the broker configs that set topic defaults
//!   (`log.retention.ms`, ...), dynamic per broker or cluster-wide, and how a topic's effective
//!   config is resolved from them.
//!
//! # Driving a node
//!
//! Every node has one contract: `handle(now_ms, from, message, out)` for an input,
//! `tick(now_ms, out)` when `next_deadline_ms()` has passed, and the [`node::Outbox`] drained
//! by the driver after each call (messages to send, events to log). Nothing here reads a clock.

pub mod broker;
pub mod broker_config;
pub mod config;
pub mod controller;
pub mod error;
pub mod event;
pub mod group;
pub mod message;
pub mod metadata;
pub mod node;
pub mod partitioner;
pub mod producer;
pub mod quorum;
pub mod replica;
pub mod topic;

pub use error::ErrorCode;
