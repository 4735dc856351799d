//! The record batch v2 header: parse it, check its CRC, rewrite the fields a leader assigns.
//!
//! # Layout
//!
//! Every batch since Kafka 0.11 (magic 2, KIP-98) starts with a fixed 61-byte header, all
//! integers big-endian (Kafka protocol guide, "Record Batch"):
//!
//! ```text
//! offset  field                 type   covered by the CRC?
//!      0  baseOffset            i64    no  (the leader writes it on append)
//!      8  batchLength           i32    no  (bytes after this field: 49 + records)
//!     12  partitionLeaderEpoch  i32    no  (the leader writes it on append)
//!     16  magic                 i8     no  (always 2 here)
//!     17  crc                   u32    no  (CRC-32C of bytes 21..end)
//!     21  attributes            i16    yes (bits 0-2 compression, 3 timestamp type,
//!                                           4 transactional, 5 control, 6 delete horizon)
//!     23  lastOffsetDelta       i32    yes
//!     27  baseTimestamp         i64    yes
//!     35  maxTimestamp          i64    yes
//!     43  producerId            i64    yes
//!     51  producerEpoch         i16    yes
//!     53  baseSequence          i32    yes
//!     57  recordCount           i32    yes
//!     61  records...                   yes (compressed as a whole when attributes say so)
//! ```
//!
//! The first 12 bytes (`baseOffset`, `batchLength`) are the "log overhead" that every entry of a
//! Kafka log starts with, whatever its magic. A batch occupies `LOG_OVERHEAD + batchLength`
//! bytes; the batches of a log segment, a produce request or a fetch response are simply
//! concatenated, so [`batches`] walks them by length.
//!
//! Because the CRC starts at `attributes`, a leader can stamp `baseOffset` and
//! `partitionLeaderEpoch` into a producer's batch without recomputing it
//! ([`stamped_header`], [`set_base_offset`]). Changing the timestamp type to
//! LogAppendTime does touch covered bytes, so that path must recompute the CRC.

/// The only record batch format this broker reads and writes (KIP-98, Kafka 0.11+).
pub const MAGIC_V2: i8 = 2;
/// Size of the fixed batch header; records start right after it.
pub const BATCH_HEADER_LEN: usize = 61;
/// `baseOffset` (8 bytes) + `batchLength` (4 bytes): the prefix of every log entry.
pub const LOG_OVERHEAD: usize = 12;
/// The smallest valid `batchLength`: a header with no records (61 - 12).
pub const BATCH_LENGTH_MIN: i32 = (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32;

/// Byte positions of the header fields, from the table in the module doc.
mod field {
    pub(super) const BASE_OFFSET: usize = 0;
    pub(super) const BATCH_LENGTH: usize = 8;
    pub(super) const PARTITION_LEADER_EPOCH: usize = 12;
    pub(super) const MAGIC: usize = 16;
    pub(super) const CRC: usize = 17;
    pub(super) const ATTRIBUTES: usize = 21;
    pub(super) const LAST_OFFSET_DELTA: usize = 23;
    pub(super) const BASE_TIMESTAMP: usize = 27;
    pub(super) const MAX_TIMESTAMP: usize = 35;
    pub(super) const PRODUCER_ID: usize = 43;
    pub(super) const PRODUCER_EPOCH: usize = 51;
    pub(super) const BASE_SEQUENCE: usize = 53;
    pub(super) const RECORD_COUNT: usize = 57;
}

/// The CRC covers everything from `attributes` to the end of the batch.
const CRC_START: usize = field::ATTRIBUTES;

// Attribute bits (Kafka protocol guide, "Record Batch"; DefaultRecordBatch.java).
const COMPRESSION_CODEC_MASK: i16 = 0x07;
/// The `attributes` bit of `timestampType`: set for LogAppendTime.
pub const TIMESTAMP_TYPE_MASK: i16 = 0x08;
const TRANSACTIONAL_FLAG_MASK: i16 = 0x10;
const CONTROL_FLAG_MASK: i16 = 0x20;
const DELETE_HORIZON_FLAG_MASK: i16 = 0x40;

/// What is wrong with a batch's bytes.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    /// Fewer bytes than the header or the declared `batchLength` need. In a fetch response this
    /// is normal for the last batch (the broker may cut it); in a log it is a torn write.
    #[error("record batch truncated: needs {needed} bytes, only {available} available")]
    Truncated { needed: usize, available: usize },
    /// `magic` is not 2: an old message set (v0/v1) or not a batch at all.
    #[error("unsupported record batch magic {0} (only magic 2, Kafka 0.11+, is supported)")]
    UnsupportedMagic(i8),
    /// `batchLength` is smaller than the 49 bytes of header that follow it.
    #[error("invalid record batch length {0} (the header alone needs {BATCH_LENGTH_MIN})")]
    InvalidLength(i32),
    /// `recordCount` is negative.
    #[error("invalid record count {0} in record batch header")]
    InvalidRecordCount(i32),
    /// `lastOffsetDelta` is negative.
    #[error("invalid last offset delta {0} in record batch header")]
    InvalidLastOffsetDelta(i32),
    /// The CRC-32C stored in the header does not match the bytes: corruption on the wire or disk.
    #[error("record batch is corrupt: stored CRC {expected:#010x}, computed {actual:#010x}")]
    CorruptCrc { expected: u32, actual: u32 },
    /// The records are compressed, so they cannot be walked without decompressing them first.
    #[error("the records of this batch are {0:?}-compressed; decompress them to read records")]
    CompressedRecords(Compression),
    /// A record inside an uncompressed batch does not parse.
    #[error("record {index} of the batch is malformed: {reason}")]
    InvalidRecord { index: i32, reason: &'static str },
}

/// The compression codec of a batch's records: `attributes` bits 0-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    /// KIP-110, Kafka 2.1+.
    Zstd,
    /// Codec ids 5-7 are not assigned by Kafka.
    Unknown(u8),
}

impl Compression {
    /// Decodes bits 0-2 of a batch's `attributes`.
    pub fn from_attributes(attributes: i16) -> Compression {
        match (attributes & COMPRESSION_CODEC_MASK) as u8 {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Snappy,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            id => Compression::Unknown(id),
        }
    }
}

/// The fixed 61-byte header of a record batch v2, decoded. Field names follow the Kafka
/// protocol guide, so `max_timestamp` is `maxTimestamp` (milliseconds since the epoch, or -1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

impl BatchHeader {
    /// Decodes the header at the start of `bytes` and checks that it is sane.
    ///
    /// Only the header is needed: `bytes` may be shorter than the whole batch (check
    /// [`BatchHeader::size_in_bytes`] before slicing) and may continue with further batches.
    ///
    /// # Errors
    ///
    /// [`BatchError::Truncated`] if fewer than 61 bytes, [`BatchError::UnsupportedMagic`] unless
    /// magic is 2, [`BatchError::InvalidLength`] if `batchLength` < 49, and
    /// [`BatchError::InvalidRecordCount`] / [`BatchError::InvalidLastOffsetDelta`] if negative.
    /// The CRC is not checked here: see [`verify_crc`].
    pub fn parse(bytes: &[u8]) -> Result<BatchHeader, BatchError> {
        if bytes.len() < BATCH_HEADER_LEN {
            return Err(BatchError::Truncated { needed: BATCH_HEADER_LEN, available: bytes.len() });
        }
        let header = BatchHeader {
            base_offset: i64::from_be_bytes(array_at(bytes, field::BASE_OFFSET)),
            batch_length: i32::from_be_bytes(array_at(bytes, field::BATCH_LENGTH)),
            partition_leader_epoch: i32::from_be_bytes(array_at(bytes, field::PARTITION_LEADER_EPOCH)),
            magic: i8::from_be_bytes(array_at(bytes, field::MAGIC)),
            crc: u32::from_be_bytes(array_at(bytes, field::CRC)),
            attributes: i16::from_be_bytes(array_at(bytes, field::ATTRIBUTES)),
            last_offset_delta: i32::from_be_bytes(array_at(bytes, field::LAST_OFFSET_DELTA)),
            base_timestamp: i64::from_be_bytes(array_at(bytes, field::BASE_TIMESTAMP)),
            max_timestamp: i64::from_be_bytes(array_at(bytes, field::MAX_TIMESTAMP)),
            producer_id: i64::from_be_bytes(array_at(bytes, field::PRODUCER_ID)),
            producer_epoch: i16::from_be_bytes(array_at(bytes, field::PRODUCER_EPOCH)),
            base_sequence: i32::from_be_bytes(array_at(bytes, field::BASE_SEQUENCE)),
            record_count: i32::from_be_bytes(array_at(bytes, field::RECORD_COUNT)),
        };
        if header.magic != MAGIC_V2 {
            return Err(BatchError::UnsupportedMagic(header.magic));
        }
        if header.batch_length < BATCH_LENGTH_MIN {
            return Err(BatchError::InvalidLength(header.batch_length));
        }
        if header.record_count < 0 {
            return Err(BatchError::InvalidRecordCount(header.record_count));
        }
        if header.last_offset_delta < 0 {
            return Err(BatchError::InvalidLastOffsetDelta(header.last_offset_delta));
        }
        Ok(header)
    }

    /// Bytes the whole batch occupies: the 12-byte log overhead plus `batchLength`.
    pub fn size_in_bytes(&self) -> usize {
        // `parse` guarantees batch_length >= 49, so the cast cannot wrap.
        LOG_OVERHEAD + self.batch_length.max(0) as usize
    }

    /// Offset of the last record: `baseOffset + lastOffsetDelta`. Compaction may remove records,
    /// but `lastOffsetDelta` keeps the batch's original last offset (KIP-98).
    pub fn last_offset(&self) -> i64 {
        // Saturating: a garbage header must not overflow (and panic in debug builds).
        self.base_offset.saturating_add(i64::from(self.last_offset_delta))
    }

    /// The offset the next batch starts at: `last_offset + 1`.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().saturating_add(1)
    }

    /// The codec of the records: `attributes` bits 0-2.
    pub fn compression(&self) -> Compression {
        Compression::from_attributes(self.attributes)
    }

    /// `attributes` bit 3: the timestamps are the broker's append time (topic config
    /// `message.timestamp.type=LogAppendTime`), not the producer's create time. When set, every
    /// record's timestamp is the batch's `maxTimestamp`.
    pub fn timestamp_type_is_log_append_time(&self) -> bool {
        self.attributes & TIMESTAMP_TYPE_MASK != 0
    }

    /// `attributes` bit 4: written by a transactional producer (KIP-98).
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_FLAG_MASK != 0
    }

    /// `attributes` bit 5: a control batch (a transaction COMMIT or ABORT marker, KIP-98).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_FLAG_MASK != 0
    }

    /// `attributes` bit 6: `baseTimestamp` holds the delete horizon set by compaction (KIP-534).
    pub fn has_delete_horizon(&self) -> bool {
        self.attributes & DELETE_HORIZON_FLAG_MASK != 0
    }
}

/// Checks the CRC-32C stored at bytes 17..21 against bytes 21..end of the batch at the start of
/// `batch`. Bytes after that batch, if any, are ignored.
///
/// # Errors
///
/// Any [`BatchHeader::parse`] error, [`BatchError::Truncated`] if the slice ends before the
/// batch does, and [`BatchError::CorruptCrc`] on a mismatch.
pub fn verify_crc(batch: &[u8]) -> Result<(), BatchError> {
    let header = BatchHeader::parse(batch)?;
    let end = header.size_in_bytes();
    let covered = batch.get(CRC_START..end).ok_or(BatchError::Truncated { needed: end, available: batch.len() })?;
    // Kafka protocol guide: "The CRC is the CRC32-C (Castagnoli) ... covers the data from the
    // attributes to the end of the batch".
    let actual = crc32c::crc32c(covered);
    if actual != header.crc {
        return Err(BatchError::CorruptCrc { expected: header.crc, actual });
    }
    Ok(())
}

/// Computes the CRC-32C of the batch at the start of `batch` and stores it in the header. Needed
/// after changing any covered byte (attributes, timestamps, records), e.g. for LogAppendTime.
///
/// # Errors
///
/// Any [`BatchHeader::parse`] error, or [`BatchError::Truncated`] if the slice ends early.
pub fn update_crc(batch: &mut [u8]) -> Result<u32, BatchError> {
    let header = BatchHeader::parse(batch)?;
    let end = header.size_in_bytes();
    let available = batch.len();
    let covered = batch.get(CRC_START..end).ok_or(BatchError::Truncated { needed: end, available })?;
    let crc = crc32c::crc32c(covered);
    batch[field::CRC..field::CRC + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(crc)
}

/// Writes `baseOffset` in place. The CRC stays valid: it does not cover bytes 0..8.
///
/// # Errors
///
/// [`BatchError::Truncated`] if `batch` is shorter than a batch header; nothing is written then.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> Result<(), BatchError> {
    write_header_field(batch, field::BASE_OFFSET, &base_offset.to_be_bytes())
}

/// The header of `batch` as an append writes it, from `header`: `baseOffset` and
/// `partitionLeaderEpoch` (the CRC covers neither), and, when `header` says LogAppendTime where
/// the batch does not (`message.timestamp.type=LogAppendTime`, Kafka's `LogValidator`), the
/// timestamp type bit and `maxTimestamp`, with the CRC recomputed over the whole batch. Writing
/// this header and then `batch[BATCH_HEADER_LEN..]` stores the stamped batch without copying it
/// (a produce batch is up to `max.message.bytes`, 1 MiB by default).
///
/// # Errors
///
/// [`BatchError::Truncated`] if `batch` is shorter than a batch header.
pub fn stamped_header(batch: &[u8], header: &BatchHeader) -> Result<[u8; BATCH_HEADER_LEN], BatchError> {
    if batch.len() < BATCH_HEADER_LEN {
        return Err(BatchError::Truncated { needed: BATCH_HEADER_LEN, available: batch.len() });
    }
    let mut stamped = [0; BATCH_HEADER_LEN];
    stamped.copy_from_slice(&batch[..BATCH_HEADER_LEN]);
    stamped[field::BASE_OFFSET..field::BATCH_LENGTH].copy_from_slice(&header.base_offset.to_be_bytes());
    stamped[field::PARTITION_LEADER_EPOCH..field::MAGIC].copy_from_slice(&header.partition_leader_epoch.to_be_bytes());
    let attributes = i16::from_be_bytes([batch[field::ATTRIBUTES], batch[field::ATTRIBUTES + 1]]);
    let restamp = header.timestamp_type_is_log_append_time() && attributes & TIMESTAMP_TYPE_MASK == 0;
    if restamp {
        let attributes = attributes | TIMESTAMP_TYPE_MASK;
        stamped[field::ATTRIBUTES..field::LAST_OFFSET_DELTA].copy_from_slice(&attributes.to_be_bytes());
        stamped[field::MAX_TIMESTAMP..field::PRODUCER_ID].copy_from_slice(&header.max_timestamp.to_be_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&stamped[field::ATTRIBUTES..]), &batch[BATCH_HEADER_LEN..]);
        stamped[field::CRC..field::ATTRIBUTES].copy_from_slice(&crc.to_be_bytes());
    }
    Ok(stamped)
}

fn write_header_field(batch: &mut [u8], at: usize, value: &[u8]) -> Result<(), BatchError> {
    if batch.len() < BATCH_HEADER_LEN {
        return Err(BatchError::Truncated { needed: BATCH_HEADER_LEN, available: batch.len() });
    }
    batch[at..at + value.len()].copy_from_slice(value);
    Ok(())
}

/// Iterates over the concatenated batches of `bytes`: a produce request's `records`, a fetch
/// response's, or a log segment's contents.
pub fn batches(bytes: &[u8]) -> Batches<'_> {
    Batches { bytes, position: 0, done: false }
}

/// Iterator over concatenated batches, made by [`batches`].
///
/// Yields each batch's header and its exact bytes (`header.size_in_bytes()` of them). The first
/// error (a truncated last batch, a bad header) is yielded once and ends the iteration, because
/// without a trustworthy `batchLength` the next batch cannot be found. CRCs are not checked:
/// call [`verify_crc`] on the yielded bytes.
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    bytes: &'a [u8],
    position: usize,
    done: bool,
}

impl<'a> Batches<'a> {
    /// Byte position of the next batch in the original slice: after an error, where the bad or
    /// truncated batch starts.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<(BatchHeader, &'a [u8]), BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.position..).unwrap_or_default();
        if self.done || rest.is_empty() {
            return None;
        }
        let header = match BatchHeader::parse(rest) {
            Ok(header) => header,
            Err(error) => {
                self.done = true;
                return Some(Err(error));
            }
        };
        let size = header.size_in_bytes();
        match rest.get(..size) {
            Some(batch) => {
                self.position += size;
                Some(Ok((header, batch)))
            }
            None => {
                self.done = true;
                Some(Err(BatchError::Truncated { needed: size, available: rest.len() }))
            }
        }
    }
}

/// Where a record sits in its partition and when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPosition {
    /// `baseOffset + offsetDelta`.
    pub offset: i64,
    /// `baseTimestamp + timestampDelta`, or the batch's `maxTimestamp` for LogAppendTime.
    pub timestamp: i64,
}

/// Walks the records of one uncompressed batch for their offsets and timestamps, without
/// copying keys, values or headers. Used to answer ListOffsets by timestamp (the first record
/// with `timestamp >= target`) and max timestamp (KIP-734).
///
/// # Errors
///
/// Any [`BatchHeader::parse`] error, [`BatchError::Truncated`] if `batch` ends early, and
/// [`BatchError::CompressedRecords`] if the records are compressed.
pub fn record_positions(batch: &[u8]) -> Result<RecordPositions<'_>, BatchError> {
    let header = BatchHeader::parse(batch)?;
    let end = header.size_in_bytes();
    let batch = batch.get(..end).ok_or(BatchError::Truncated { needed: end, available: batch.len() })?;
    match header.compression() {
        Compression::None => Ok(RecordPositions { header, batch, position: BATCH_HEADER_LEN, index: 0 }),
        compression => Err(BatchError::CompressedRecords(compression)),
    }
}

/// Iterator made by [`record_positions`]; stops after `recordCount` records or the first error.
#[derive(Debug, Clone)]
pub struct RecordPositions<'a> {
    header: BatchHeader,
    batch: &'a [u8],
    position: usize,
    index: i32,
}

impl RecordPositions<'_> {
    /// Decodes one record's prefix (Kafka protocol guide, "Record"):
    /// `length: varint, attributes: i8, timestampDelta: varlong, offsetDelta: varint, ...`,
    /// then skips the rest (key, value, headers) using `length`.
    fn next_record(&mut self) -> Result<RecordPosition, BatchError> {
        let invalid = |reason| BatchError::InvalidRecord { index: self.index, reason };
        let mut cursor = self.position;
        let length = read_varint(self.batch, &mut cursor, 5).ok_or(invalid("bad length varint"))?;
        let length = usize::try_from(length).map_err(|_| invalid("negative length"))?;
        let end = cursor.checked_add(length).filter(|end| *end <= self.batch.len());
        let end = end.ok_or(invalid("record runs past the end of the batch"))?;
        let body = &self.batch[..end];
        cursor += 1; // attributes: unused by Kafka so far
        let timestamp_delta = read_varint(body, &mut cursor, 10).ok_or(invalid("bad timestampDelta varlong"))?;
        let offset_delta = read_varint(body, &mut cursor, 5).ok_or(invalid("bad offsetDelta varint"))?;
        self.position = end;
        let timestamp = if self.header.timestamp_type_is_log_append_time() {
            self.header.max_timestamp
        } else {
            self.header.base_timestamp.saturating_add(timestamp_delta)
        };
        Ok(RecordPosition { offset: self.header.base_offset.saturating_add(offset_delta), timestamp })
    }
}

impl Iterator for RecordPositions<'_> {
    type Item = Result<RecordPosition, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.header.record_count {
            return None;
        }
        let record = self.next_record();
        // Stop after an error: the next record's start is unknown.
        self.index = if record.is_ok() { self.index + 1 } else { self.header.record_count };
        Some(record)
    }
}

/// Reads a zigzag-encoded variable-length integer (protobuf style, as Kafka's `ByteUtils`) of at
/// most `max_len` bytes (5 for a varint, 10 for a varlong). `None` if malformed or cut off.
fn read_varint(bytes: &[u8], cursor: &mut usize, max_len: usize) -> Option<i64> {
    let mut raw: u64 = 0;
    for i in 0..max_len {
        let byte = *bytes.get(*cursor)?;
        *cursor += 1;
        raw |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((raw >> 1) as i64 ^ -((raw & 1) as i64));
        }
    }
    None
}

/// `N` bytes at `at`. Callers check the length first; a short slice yields zeros, not a panic.
fn array_at<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut array = [0; N];
    if let Some(source) = bytes.get(at..at + N) {
        array.copy_from_slice(source);
    }
    array
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kafka_protocol::indexmap::IndexMap;
    use kafka_protocol::records::{
        Compression as KafkaCompression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
        TimestampType,
    };

    /// One uncompressed batch, written out by hand from the protocol guide: base offset 0,
    /// leader epoch -1, no producer id, one record with a null key and the value "a" at
    /// timestamp 1_700_000_000_000. The CRC was computed independently (bitwise CRC-32C,
    /// polynomial 0x82F63B78, checked against the "123456789" -> 0xE3069283 test vector).
    const GOLDEN: [u8; 69] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // baseOffset 0
        0x00, 0x00, 0x00, 0x39, // batchLength 57
        0xff, 0xff, 0xff, 0xff, // partitionLeaderEpoch -1
        0x02, // magic 2
        0x96, 0x5a, 0x94, 0xb1, // crc
        0x00, 0x00, // attributes: no compression, CreateTime
        0x00, 0x00, 0x00, 0x00, // lastOffsetDelta 0
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // baseTimestamp
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // maxTimestamp
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // producerId -1
        0xff, 0xff, // producerEpoch -1
        0xff, 0xff, 0xff, 0xff, // baseSequence -1
        0x00, 0x00, 0x00, 0x01, // recordCount 1
        0x0e, // record length 7 (zigzag)
        0x00, // record attributes
        0x00, // timestampDelta 0
        0x00, // offsetDelta 0
        0x01, // keyLength -1 (null)
        0x02, // valueLength 1
        0x61, // "a"
        0x00, // headers: 0
    ];
    const GOLDEN_CRC: u32 = 0x965a_94b1;
    const GOLDEN_TIMESTAMP: i64 = 1_700_000_000_000;

    fn record(offset: i64, base: i64, timestamp: i64, value: &'static [u8]) -> Record {
        Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset,
            // Brief §3.3: the encoder only groups records whose offset - sequence is constant.
            sequence: -1 + (offset - base) as i32,
            timestamp,
            key: Some(Bytes::from_static(b"key")),
            value: Some(Bytes::from_static(value)),
            headers: IndexMap::new(),
        }
    }

    /// One batch of `count` records built by the `kafka-protocol` crate, a client-side encoder.
    fn encoded_batch(base: i64, count: i64) -> Vec<u8> {
        let records: Vec<Record> =
            (0..count).map(|i| record(base + i, base, 1_000 + 10 * i - (i % 2) * 15, b"value")).collect();
        let mut buf = Vec::new();
        let options = RecordEncodeOptions { version: 2, compression: KafkaCompression::None };
        RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode");
        buf
    }

    #[test]
    fn golden_batch_parses_field_by_field() {
        let header = BatchHeader::parse(&GOLDEN).expect("parse");
        assert_eq!(
            header,
            BatchHeader {
                base_offset: 0,
                batch_length: 57,
                partition_leader_epoch: -1,
                magic: 2,
                crc: GOLDEN_CRC,
                attributes: 0,
                last_offset_delta: 0,
                base_timestamp: GOLDEN_TIMESTAMP,
                max_timestamp: GOLDEN_TIMESTAMP,
                producer_id: -1,
                producer_epoch: -1,
                base_sequence: -1,
                record_count: 1,
            }
        );
        assert_eq!(header.size_in_bytes(), GOLDEN.len());
        assert_eq!((header.last_offset(), header.next_offset()), (0, 1));
        assert_eq!(header.compression(), Compression::None);
        assert!(!header.timestamp_type_is_log_append_time());
        assert!(!header.is_transactional() && !header.is_control() && !header.has_delete_horizon());
        assert_eq!(verify_crc(&GOLDEN), Ok(()));
    }

    #[test]
    fn golden_batch_decodes_with_the_kafka_protocol_crate() {
        let set = RecordBatchDecoder::decode(&mut &GOLDEN[..]).expect("decode");
        assert_eq!(set.records.len(), 1);
        assert_eq!(set.records[0].key, None);
        assert_eq!(set.records[0].value.as_deref(), Some(&b"a"[..]));
        assert_eq!(set.records[0].timestamp, GOLDEN_TIMESTAMP);
    }

    #[test]
    fn update_crc_reproduces_the_golden_crc() {
        let mut batch = GOLDEN;
        batch[field::CRC..field::CRC + 4].fill(0);
        assert_eq!(update_crc(&mut batch), Ok(GOLDEN_CRC));
        assert_eq!(batch, GOLDEN);
    }

    #[test]
    fn encoder_batch_parses_and_its_crc_holds() {
        let bytes = encoded_batch(0, 5);
        let header = BatchHeader::parse(&bytes).expect("parse");
        assert_eq!(header.size_in_bytes(), bytes.len(), "one batch, nothing else");
        assert_eq!(header.record_count, 5);
        assert_eq!(header.last_offset_delta, 4);
        assert_eq!(header.base_sequence, -1);
        assert_eq!(header.producer_id, -1);
        // The encoder writes the minimum timestamp as baseTimestamp: 1_000 + 10 * 1 - 15.
        assert_eq!(header.base_timestamp, 995);
        assert_eq!(header.max_timestamp, 1_040);
        assert_eq!(verify_crc(&bytes), Ok(()));
    }

    #[test]
    fn crc_detects_a_flipped_bit_anywhere_it_covers() {
        let bytes = encoded_batch(0, 3);
        for position in CRC_START..bytes.len() {
            let mut corrupt = bytes.clone();
            corrupt[position] ^= 0x04;
            match verify_crc(&corrupt) {
                // A flip in the header may instead fail the sanity checks, which is fine too.
                Err(BatchError::CorruptCrc { expected, .. }) => {
                    assert_eq!(expected, BatchHeader::parse(&bytes).expect("valid").crc)
                }
                Err(_) => assert!(position < BATCH_HEADER_LEN, "byte {position}"),
                Ok(()) => panic!("flipped bit at byte {position} went unnoticed"),
            }
        }
    }

    #[test]
    fn rewriting_base_offset_and_epoch_keeps_the_crc_valid() {
        let mut bytes = encoded_batch(0, 4);
        let header =
            BatchHeader { base_offset: 1_000, partition_leader_epoch: 7, ..BatchHeader::parse(&bytes).expect("parse") };
        let stamped = stamped_header(&bytes, &header).expect("stamped");
        assert_eq!(stamped[21..], bytes[21..BATCH_HEADER_LEN], "what the CRC covers is unchanged");
        bytes[..BATCH_HEADER_LEN].copy_from_slice(&stamped);
        let header = BatchHeader::parse(&bytes).expect("parse");
        assert_eq!((header.base_offset, header.partition_leader_epoch), (1_000, 7));
        assert_eq!((header.last_offset(), header.next_offset()), (1_003, 1_004));
        assert_eq!(verify_crc(&bytes), Ok(()));

        // A real client decoder agrees: offsets follow the new base offset.
        let set = RecordBatchDecoder::decode(&mut &bytes[..]).expect("decode");
        let offsets: Vec<i64> = set.records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![1_000, 1_001, 1_002, 1_003]);
        assert!(set.records.iter().all(|r| r.partition_leader_epoch == 7));
    }

    #[test]
    fn stamping_log_append_time_sets_the_type_and_max_timestamp_and_recomputes_the_crc() {
        let mut bytes = encoded_batch(0, 3);
        let parsed = BatchHeader::parse(&bytes).expect("parse");
        assert!(!parsed.timestamp_type_is_log_append_time());
        let header = BatchHeader {
            base_offset: 40,
            attributes: parsed.attributes | TIMESTAMP_TYPE_MASK,
            max_timestamp: 1_700_000_000_000,
            ..parsed
        };
        let stamped = stamped_header(&bytes, &header).expect("stamped");
        bytes[..BATCH_HEADER_LEN].copy_from_slice(&stamped);
        assert_eq!(verify_crc(&bytes), Ok(()));
        let reread = BatchHeader::parse(&bytes).expect("parse");
        assert!(reread.timestamp_type_is_log_append_time());
        assert_eq!((reread.base_offset, reread.max_timestamp), (40, 1_700_000_000_000));
        // A client decoder sees LogAppendTime on every record (Java's `DefaultRecord.readFrom`
        // then gives each the batch's maxTimestamp).
        let set = RecordBatchDecoder::decode(&mut &bytes[..]).expect("decode");
        assert!(set.records.iter().all(|r| r.timestamp_type == TimestampType::LogAppend), "{:?}", set.records);

        // A batch already stamped (a follower's copy) is written as it is.
        let again = BatchHeader { max_timestamp: 5, ..reread };
        assert_eq!(stamped_header(&bytes, &again).expect("stamped")[..], bytes[..BATCH_HEADER_LEN]);
    }

    #[test]
    fn setters_refuse_a_short_slice() {
        let mut short = [0u8; 20];
        assert_eq!(set_base_offset(&mut short, 1), Err(BatchError::Truncated { needed: 61, available: 20 }));
        let header = BatchHeader::parse(&encoded_batch(0, 1)).expect("parse");
        assert_eq!(stamped_header(&short, &header), Err(BatchError::Truncated { needed: 61, available: 20 }));
        assert_eq!(short, [0u8; 20]);
    }

    #[test]
    fn truncated_input_is_reported_with_sizes() {
        assert_eq!(BatchHeader::parse(&GOLDEN[..60]), Err(BatchError::Truncated { needed: 61, available: 60 }));
        assert_eq!(verify_crc(&GOLDEN[..68]), Err(BatchError::Truncated { needed: 69, available: 68 }));
        assert_eq!(BatchHeader::parse(&[]), Err(BatchError::Truncated { needed: 61, available: 0 }));
    }

    #[test]
    fn wrong_magic_and_bad_fields_are_rejected() {
        let mut v1 = GOLDEN;
        v1[field::MAGIC] = 1;
        assert_eq!(BatchHeader::parse(&v1), Err(BatchError::UnsupportedMagic(1)));

        let mut short_length = GOLDEN;
        short_length[field::BATCH_LENGTH..field::BATCH_LENGTH + 4].copy_from_slice(&48i32.to_be_bytes());
        assert_eq!(BatchHeader::parse(&short_length), Err(BatchError::InvalidLength(48)));

        let mut negative_count = GOLDEN;
        negative_count[field::RECORD_COUNT..field::RECORD_COUNT + 4].copy_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(BatchHeader::parse(&negative_count), Err(BatchError::InvalidRecordCount(-1)));

        let mut negative_delta = GOLDEN;
        negative_delta[field::LAST_OFFSET_DELTA..field::LAST_OFFSET_DELTA + 4].copy_from_slice(&(-2i32).to_be_bytes());
        assert_eq!(BatchHeader::parse(&negative_delta), Err(BatchError::InvalidLastOffsetDelta(-2)));
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        assert_eq!(
            BatchError::Truncated { needed: 61, available: 3 }.to_string(),
            "record batch truncated: needs 61 bytes, only 3 available"
        );
        assert_eq!(
            BatchError::CorruptCrc { expected: 0x965a94b1, actual: 1 }.to_string(),
            "record batch is corrupt: stored CRC 0x965a94b1, computed 0x00000001"
        );
    }

    #[test]
    fn attribute_bits_decode() {
        let header = |attributes| BatchHeader { attributes, ..BatchHeader::parse(&GOLDEN).expect("valid") };
        assert_eq!(header(1).compression(), Compression::Gzip);
        assert_eq!(header(2).compression(), Compression::Snappy);
        assert_eq!(header(3).compression(), Compression::Lz4);
        assert_eq!(header(4).compression(), Compression::Zstd);
        assert_eq!(header(7).compression(), Compression::Unknown(7));
        assert!(header(0x08).timestamp_type_is_log_append_time());
        assert!(header(0x10).is_transactional());
        assert!(header(0x20).is_control());
        assert!(header(0x40).has_delete_horizon());
    }

    #[test]
    fn batches_walks_concatenated_batches_and_reports_a_truncated_tail() {
        let mut bytes = encoded_batch(0, 2);
        let first_len = bytes.len();
        let mut second = encoded_batch(2, 3);
        set_base_offset(&mut second, 2).expect("valid");
        bytes.extend_from_slice(&second);
        bytes.extend_from_slice(&GOLDEN[..40]);

        let mut iter = batches(&bytes);
        let (h1, b1) = iter.next().expect("a batch").expect("whole");
        assert_eq!((h1.base_offset, b1.len()), (0, first_len));
        let (h2, b2) = iter.next().expect("a batch").expect("whole");
        assert_eq!((h2.base_offset, h2.next_offset(), b2), (2, 5, &second[..]));
        assert_eq!(iter.position(), first_len + second.len());
        assert_eq!(iter.next(), Some(Err(BatchError::Truncated { needed: 61, available: 40 })));
        assert_eq!(iter.next(), None);

        // A header that is complete but whose records are cut off.
        let cut = &GOLDEN[..65];
        assert_eq!(batches(cut).collect::<Vec<_>>(), vec![Err(BatchError::Truncated { needed: 69, available: 65 })]);
        assert_eq!(batches(&[]).count(), 0);
    }

    #[test]
    fn record_positions_walks_offsets_and_timestamps() {
        let mut bytes = encoded_batch(0, 4);
        set_base_offset(&mut bytes, 10).expect("valid");
        let positions: Vec<RecordPosition> =
            record_positions(&bytes).expect("valid").map(|record| record.expect("record")).collect();
        let expected: Vec<RecordPosition> = [(10, 1_000), (11, 995), (12, 1_020), (13, 1_015)]
            .into_iter()
            .map(|(offset, timestamp)| RecordPosition { offset, timestamp })
            .collect();
        assert_eq!(positions, expected);

        let golden: Vec<_> = record_positions(&GOLDEN).expect("valid").collect();
        assert_eq!(golden, vec![Ok(RecordPosition { offset: 0, timestamp: GOLDEN_TIMESTAMP })]);

        let mut gzip = GOLDEN;
        gzip[field::ATTRIBUTES + 1] = 1;
        assert_eq!(record_positions(&gzip).err(), Some(BatchError::CompressedRecords(Compression::Gzip)));

        // A record length pointing past the batch is an error, not a panic.
        let mut bad = GOLDEN;
        bad[BATCH_HEADER_LEN] = 0x7e;
        let results: Vec<_> = record_positions(&bad).expect("valid").collect();
        assert_eq!(results.len(), 1);
        assert!(matches!(results[0], Err(BatchError::InvalidRecord { index: 0, .. })));
    }

    #[test]
    fn garbage_never_panics() {
        // Deterministic xorshift: mutate real batches and feed every entry point.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut real = encoded_batch(0, 3);
        real.extend_from_slice(&GOLDEN);
        for _ in 0..5_000 {
            let mut bytes = real.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            bytes.truncate((next() % (bytes.len() as u64 + 1)) as usize);
            let _ = BatchHeader::parse(&bytes);
            let _ = verify_crc(&bytes);
            for item in batches(&bytes) {
                if let Ok((_, batch)) = item
                    && let Ok(records) = record_positions(batch)
                {
                    records.for_each(drop);
                }
            }
            let _ = update_crc(&mut bytes);
        }
    }

    #[test]
    fn varints_decode_zigzag() {
        let decode = |bytes: &[u8]| read_varint(bytes, &mut 0, 10);
        assert_eq!(decode(&[0x00]), Some(0));
        assert_eq!(decode(&[0x01]), Some(-1));
        assert_eq!(decode(&[0x02]), Some(1));
        assert_eq!(decode(&[0xac, 0x02]), Some(150));
        assert_eq!(decode(&[0x80]), None);
        assert_eq!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01], &mut 0, 5), None);
    }
}
