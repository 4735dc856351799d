//! The sans-IO core: Kafka's semantics with no sockets, files, clocks or threads.
//!
//! Everything here takes time as an argument and builds for `wasm32-unknown-unknown`, so the
//! same code runs in the broker (driven by [`crate::runtime`]) and, later, in the browser
//! simulator.

pub mod config;
pub mod controller;
pub mod error;
pub mod group;
pub mod metadata;
pub mod partitioner;
pub mod producer;
pub mod quorum;
pub mod replica;
pub mod topic;

pub use error::ErrorCode;
