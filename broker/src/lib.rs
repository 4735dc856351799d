//! # Streamlab's embedded broker
//!
//! A Kafka-protocol broker that runs inside `streamlab` so that learners' own clients (kcat,
//! confluent-kafka, kafka-python, kafkajs) work against it unchanged.
//!
//! # Layout
//!
//! Nothing is implemented yet; this is the shape the broker will take (ARCHITECTURE.md):
//!
//! * `core`: the sans-IO core. Partition replicas (log end offset, high watermark, leader epoch,
//!   ISR), the consumer-group coordinator and the KRaft metadata quorum, driven by
//!   `handle(now_ms, input)` and drained by `poll_output()`. No tokio, no sockets, no clock:
//!   builds for `wasm32-unknown-unknown` with default features off.
//! * `runtime` (feature `runtime`): the tokio driver. Kafka wire protocol over TCP (codec: the
//!   `kafka-protocol` crate), the on-disk segmented log, timers.
//! * `sim`: the deterministic simulator (virtual clock, seeded network with faults, invariant
//!   checkers), used by the test suite, by `wasm-sim` in the browser, and by the server to
//!   replay a learner's simulator run.
