//! Kafka's record format, read and patched in place without decoding the records.
//!
//! # Layout
//!
//! * [`batch`]: the record batch v2 (magic 2, KIP-98): the fixed 61-byte header, its CRC-32C,
//!   the in-place rewrite of base offset and partition leader epoch that a leader does on append,
//!   an iterator over the batches of a byte slice (a produce request's `records`, a fetch
//!   response, a log segment), and a walk over the records of an uncompressed batch for their
//!   offsets and timestamps.
//! * [`validate`]: the checks Kafka's broker makes on a producer's batch before appending it
//!   (`LogValidator` and the classes around it), each refusal with Kafka's error code and message.
//! * [`codec`] (with the `runtime` feature): the records of a compressed batch as a bounded
//!   stream, for those checks and for anything else that must look inside a batch.
//!
//! The broker never re-encodes what a producer sent: the batch bytes go to disk and back to
//! consumers unchanged, except for the two header fields the CRC does not cover, until the log
//! cleaner compacts them (`log/cleaner.rs` rebuilds a batch that loses records). That is why
//! this module works on `&[u8]` and not on decoded records. Pure code, no I/O: it builds for
//! `wasm32-unknown-unknown`.

pub mod batch;
#[cfg(feature = "runtime")]
pub mod codec;
pub mod validate;

pub use batch::{BatchError, BatchHeader, Batches, Compression, batches, verify_crc};
