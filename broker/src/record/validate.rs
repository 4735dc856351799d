//! The produce-time checks of a record batch, as Kafka's broker makes them before it appends:
//! `ByteBufferLogInputStream` (finding the batch), `ProduceRequest.validateRecords` (one batch,
//! magic 2), `UnifiedLog.analyzeAndValidateRecords` (size, CRC), `LogValidator.validateBatch`
//! (offsets, count, control and sequence) and the walk over the records with `DefaultRecord`'s
//! parsing rules and `LogValidator.validateRecord` (keys on compacted topics, timestamps).
//!
//! Each refusal carries the error code and the message Kafka answers with, so a learner's client
//! prints what it would print against Apache Kafka. A refused batch is refused whole: nothing of
//! it is appended.
//!
//! Two rules go further than Kafka, because this broker stores a producer's bytes as they are
//! and never rewrites a batch:
//!
//! - record offset deltas must be 0, 1, 2, … (Kafka rebuilds a compressed batch whose inner
//!   offsets are not, and does not look at an uncompressed batch's deltas; stored as sent, wrong
//!   deltas would give consumers wrong offsets);
//! - key, value and header value lengths below −1 (−1 is null) are refused: no client writes
//!   them, and a reader that trusts them misreads the record.
//!
//! The records of a compressed batch arrive through [`RecordsCheck::walk_stream`], a bounded
//! streaming reader: nothing is decompressed past `uncompressed_bytes_max`, and at most one
//! record is held in memory at a time. Pure code: the codecs themselves live in the runtime
//! (`runtime::log_validator`), so this module still builds for `wasm32-unknown-unknown`.

use std::fmt::Write as _;
use std::io::{self, Read};

use super::batch::{BATCH_HEADER_LEN, BatchHeader, Compression, LOG_OVERHEAD, MAGIC_V2};
use crate::core::ErrorCode;

/// The smallest `batchLength` any message format has: a magic-0 message with no key and no value
/// (Kafka `LegacyRecord.RECORD_OVERHEAD_V0`). `ByteBufferLogInputStream` refuses anything smaller
/// before it even looks at the magic.
const RECORD_OVERHEAD_V0: i32 = 14;
/// Bytes up to and including `magic`: what `ByteBufferLogInputStream` needs to read a batch.
const HEADER_SIZE_UP_TO_MAGIC: usize = 17;
/// ZStandard needs Produce v7+ (KIP-110).
const ZSTD_PRODUCE_VERSION_MIN: i16 = 7;

/// One refused record, as a ProduceResponse v8+ names it (KIP-467 `BatchIndexAndErrorMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub batch_index: i32,
    pub message: String,
}

/// Why a batch is refused: Kafka's error code, its message, and the refused records if the rule
/// is a per-record one (`LogValidator.validateRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub error: ErrorCode,
    pub message: String,
    pub record_errors: Vec<RecordError>,
}

impl Refusal {
    fn new(error: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal { error, message: message.into(), record_errors: Vec::new() }
    }

    fn invalid_record(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::InvalidRecord, message)
    }

    fn corrupt(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::CorruptMessage, message)
    }
}

/// What a topic's configs say about the batches it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRules {
    /// `max.message.bytes`: the largest batch, log overhead included.
    pub max_message_bytes: usize,
    /// The most bytes the records of a compressed batch may inflate to. Kafka bounds only the
    /// compressed size; a bound on the inflated size is what stops a decompression bomb.
    pub uncompressed_bytes_max: usize,
    /// `cleanup.policy` includes `compact`: every record needs a key.
    pub compacted: bool,
    /// `message.timestamp.type=LogAppendTime`.
    pub log_append_time: bool,
}

/// The batch-level checks, in the order Kafka makes them. Returns the parsed header.
///
/// # Errors
///
/// The [`Refusal`] Kafka answers with (see the module doc for the sources).
pub fn validate_batch(
    records: &[u8],
    produce_version: i16,
    topic_partition: &str,
    rules: &TopicRules,
) -> Result<BatchHeader, Refusal> {
    let tp = topic_partition;
    let no_batch = || {
        Refusal::invalid_record(format!(
            "Produce requests with version {produce_version} must have at least one record batch per partition"
        ))
    };
    // ByteBufferLogInputStream.nextBatchSize: a batch is only found once its length, its magic
    // and then all its bytes are there; a length or magic no format has is corrupt.
    if records.len() < LOG_OVERHEAD {
        return Err(no_batch());
    }
    let batch_length = i32::from_be_bytes([records[8], records[9], records[10], records[11]]);
    if batch_length < RECORD_OVERHEAD_V0 {
        return Err(Refusal::corrupt(format!(
            "Record size {batch_length} is less than the minimum record overhead ({RECORD_OVERHEAD_V0})"
        )));
    }
    if records.len() < HEADER_SIZE_UP_TO_MAGIC {
        return Err(no_batch());
    }
    let magic = records[16] as i8;
    if !(0..=MAGIC_V2).contains(&magic) {
        return Err(Refusal::corrupt(format!("Invalid magic found in record: {magic}")));
    }
    let size = LOG_OVERHEAD + batch_length.unsigned_abs() as usize;
    if records.len() < size {
        return Err(no_batch());
    }
    // ProduceRequest.validateRecords: Produce v3+ carries exactly one magic-2 batch. Kafka 4.x
    // reads no older format (KIP-896), so magic 0 and 1 are refused here, as it refuses them.
    if magic != MAGIC_V2 {
        return Err(Refusal::invalid_record(format!(
            "Produce requests with version {produce_version} are only allowed to contain record batches with magic version 2"
        )));
    }
    // DefaultRecordBatch.ensureValid: a magic-2 batch has at least its 61-byte header.
    if size < BATCH_HEADER_LEN {
        return Err(Refusal::corrupt(format!(
            "Record batch is corrupt (the size {size} is smaller than the minimum allowed overhead {BATCH_HEADER_LEN})"
        )));
    }
    // The header parser refuses negative counts and deltas itself; Kafka's messages for them
    // come from LogValidator.validateBatch, so check them first with those.
    let field = |at: usize| i32::from_be_bytes([records[at], records[at + 1], records[at + 2], records[at + 3]]);
    let base_offset = i64::from_be_bytes(records[..8].try_into().unwrap_or_default());
    let (last_offset_delta, record_count) = (field(23), field(57));
    if last_offset_delta < 0 {
        let last_offset = base_offset.saturating_add(i64::from(last_offset_delta));
        return Err(Refusal::invalid_record(format!(
            "Batch has an invalid offset range: [{base_offset}, {last_offset}] in topic partition {tp}"
        )));
    }
    if record_count <= 0 {
        return Err(Refusal::invalid_record(format!(
            "Invalid reported count for record batch: {record_count} in topic partition {tp}"
        )));
    }
    let header = BatchHeader::parse(records).map_err(|error| Refusal::corrupt(error.to_string()))?;
    let compression = header.compression();
    if let Compression::Unknown(id) = compression {
        // CompressionType.forId: ids 5-7 name no codec.
        return Err(Refusal::new(ErrorCode::UnsupportedCompressionType, format!("Unknown compression type id: {id}")));
    }
    if compression == Compression::Zstd && produce_version < ZSTD_PRODUCE_VERSION_MIN {
        return Err(Refusal::new(
            ErrorCode::UnsupportedCompressionType,
            format!("Produce requests with version {produce_version} are not allowed to use ZStandard compression"),
        ));
    }
    // Anything after the batch: a second batch, or bytes that are not one. Kafka trims a partial
    // tail silently; this broker refuses it, as it always has (the log would keep the bytes).
    if records.len() > size {
        return Err(Refusal::invalid_record(format!(
            "Produce requests with version {produce_version} are only allowed to contain exactly one record batch per partition"
        )));
    }
    // UnifiedLog.analyzeAndValidateRecords: the size limit, then the CRC.
    if size > rules.max_message_bytes {
        return Err(Refusal::new(
            ErrorCode::MessageTooLarge,
            format!(
                "The record batch size in the append to {tp} is {size} bytes which exceeds the maximum configured value of {}.",
                rules.max_message_bytes
            ),
        ));
    }
    let computed = crc32c::crc32c(&records[21..size]);
    if computed != header.crc {
        return Err(Refusal::corrupt(format!(
            "Record is corrupt (stored crc = {}, computed crc = {computed}) in topic partition {tp}.",
            header.crc
        )));
    }
    validate_batch_fields(&header, tp)?;
    Ok(header)
}

/// Everything this broker checks on a producer's batch before appending it: [`validate_batch`],
/// then every record ([`RecordsCheck`]), decompressing a compressed batch as a bounded stream.
///
/// # Errors
///
/// The first [`Refusal`], as Kafka would answer.
#[cfg(feature = "runtime")]
pub fn validate_produce_batch(
    records: &[u8],
    produce_version: i16,
    topic_partition: &str,
    rules: &TopicRules,
) -> Result<BatchHeader, Refusal> {
    let header = validate_batch(records, produce_version, topic_partition, rules)?;
    let mut check = RecordsCheck::new(&header, topic_partition, rules);
    match header.compression() {
        Compression::None => check.walk_uncompressed(records)?,
        compression => {
            let compressed = records.get(BATCH_HEADER_LEN..header.size_in_bytes()).unwrap_or_default();
            let reader = super::codec::records_reader(compression, compressed, rules.uncompressed_bytes_max)
                .map_err(|error| check.stream_error(&error))?;
            check.walk_stream(reader)?;
        }
    }
    check.finish()?;
    Ok(header)
}

/// `LogValidator.validateBatch` for a client's batch.
fn validate_batch_fields(header: &BatchHeader, tp: &str) -> Result<(), Refusal> {
    let base_offset = header.base_offset;
    let last_offset = header.last_offset();
    let count_from_offsets = i64::from(header.last_offset_delta) + 1;
    if count_from_offsets <= 0 {
        return Err(Refusal::invalid_record(format!(
            "Batch has an invalid offset range: [{base_offset}, {last_offset}] in topic partition {tp}"
        )));
    }
    let count = header.record_count;
    if count <= 0 {
        return Err(Refusal::invalid_record(format!(
            "Invalid reported count for record batch: {count} in topic partition {tp}"
        )));
    }
    if count_from_offsets != i64::from(count) {
        return Err(Refusal::invalid_record(format!(
            "Inconsistent batch offset range [{base_offset}, {last_offset}] and count of records {count} in topic partition {tp}"
        )));
    }
    // Control batches (transaction markers, KIP-98) are written by the transaction coordinator only.
    if header.is_control() {
        return Err(Refusal::invalid_record(format!(
            "Clients are not allowed to write control records in topic partition {tp}"
        )));
    }
    if header.producer_id >= 0 && header.base_sequence < 0 {
        return Err(Refusal::invalid_record(format!(
            "Invalid sequence number {} in record batch with producerId {} in topic partition {tp}",
            header.base_sequence, header.producer_id
        )));
    }
    // Kafka 4.x takes a transactional batch only inside a transaction its coordinator verified
    // (KIP-890); this broker has no transaction coordinator, so there never is one.
    if header.is_transactional() {
        return Err(Refusal::invalid_record(format!(
            "Transactional records are not supported: this broker has no transaction coordinator (topic partition {tp})"
        )));
    }
    Ok(())
}

/// The walk over a batch's records: each record's structure (`DefaultRecord.readFrom`), its
/// offset delta, the count the header declares, and the per-record rules of
/// `LogValidator.validateRecord`.
#[derive(Debug)]
pub struct RecordsCheck<'a> {
    header: BatchHeader,
    tp: &'a str,
    rules: &'a TopicRules,
    /// Records read so far; also the batch index of the next one.
    index: i32,
    /// Batch indexes of records without a key (collected only for a compacted topic).
    keyless: Vec<i32>,
}

impl<'a> RecordsCheck<'a> {
    pub fn new(header: &BatchHeader, topic_partition: &'a str, rules: &'a TopicRules) -> RecordsCheck<'a> {
        RecordsCheck { header: *header, tp: topic_partition, rules, index: 0, keyless: Vec::new() }
    }

    /// Walks the records of an uncompressed batch (`batch` is the whole batch).
    ///
    /// # Errors
    ///
    /// INVALID_RECORD with `DefaultRecordBatch`'s and `DefaultRecord`'s messages.
    pub fn walk_uncompressed(&mut self, batch: &[u8]) -> Result<(), Refusal> {
        let records = batch.get(BATCH_HEADER_LEN..).unwrap_or_default();
        let mut position = 0;
        while self.index < self.header.record_count {
            if position >= records.len() {
                return Err(premature_eof());
            }
            let size = read_varint(records, &mut position).ok_or_else(invalid_structure)?;
            let remaining = records.len() - position;
            let size = usize::try_from(size).map_err(|_| invalid_size(i64::from(size), 0))?;
            if size > remaining {
                return Err(Refusal::invalid_record(format!(
                    "Invalid record size: expected {size} bytes in record payload, but instead the buffer has only {remaining} remaining bytes."
                )));
            }
            self.record(&records[position..position + size])?;
            position += size;
        }
        if position < records.len() {
            return Err(records_remaining());
        }
        Ok(())
    }

    /// Walks the records of a compressed batch from a decompressing reader, one record at a
    /// time: the inflated bytes are counted as they come and the walk stops, refusing the batch,
    /// as soon as they would pass `uncompressed_bytes_max`. Memory: one record's body.
    ///
    /// # Errors
    ///
    /// MESSAGE_TOO_LARGE (Kafka's RECORD_TOO_LARGE) past the bound; INVALID_RECORD for a record
    /// that does not parse or a count that does not match; CORRUPT_MESSAGE if the codec fails.
    pub fn walk_stream(&mut self, mut reader: impl Read) -> Result<(), Refusal> {
        let max = self.rules.uncompressed_bytes_max;
        let mut inflated: usize = 0;
        let mut body = Vec::new();
        while self.index < self.header.record_count {
            let (size, size_len) = match read_varint_from(&mut reader) {
                Ok(LengthVarint::Value(size, size_len)) => (size, size_len),
                Ok(LengthVarint::End) => return Err(premature_eof()),
                Ok(LengthVarint::TooLong) => return Err(invalid_structure()),
                Err(error) => return Err(self.stream_error(&error)),
            };
            let size = usize::try_from(size).map_err(|_| invalid_size(i64::from(size), 0))?;
            inflated = inflated.saturating_add(size_len).saturating_add(size);
            if inflated > max {
                return Err(self.too_large());
            }
            body.clear();
            body.resize(size, 0);
            reader.read_exact(&mut body).map_err(|error| self.stream_error(&error))?;
            self.record(&body)?;
        }
        // DefaultRecordBatch: once the declared count is read, nothing may remain.
        let mut one = [0u8; 1];
        loop {
            match reader.read(&mut one) {
                Ok(0) => return Ok(()),
                Ok(_) => return Err(records_remaining()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(self.stream_error(&error)),
            }
        }
    }

    fn too_large(&self) -> Refusal {
        Refusal::new(
            ErrorCode::MessageTooLarge,
            format!(
                "The records of the compressed batch in the append to {} inflate to more than {} bytes, the most this topic accepts (max.message.bytes)",
                self.tp, self.rules.uncompressed_bytes_max
            ),
        )
    }

    /// A read error while decompressing: the stream ended early (Kafka: "premature EOF"), the
    /// codec's own output bound was hit, or the bytes are not what the codec flag says.
    fn stream_error(&self, error: &io::Error) -> Refusal {
        if error.get_ref().is_some_and(|inner| inner.is::<OutputLimitExceeded>()) {
            return self.too_large();
        }
        if error.kind() == io::ErrorKind::UnexpectedEof {
            return premature_eof();
        }
        Refusal::corrupt(format!(
            "Failed to decompress the {:?} record stream of the batch in topic partition {}: {error}",
            self.header.compression(),
            self.tp
        ))
    }

    /// One record's body: everything after its length varint (Kafka protocol guide, "Record").
    fn record(&mut self, body: &[u8]) -> Result<(), Refusal> {
        let index = self.index;
        let mut position = 0;
        let structure = |position: &mut usize| read_varint(body, position).ok_or_else(invalid_structure);
        // attributes: unused by Kafka so far.
        if body.is_empty() {
            return Err(invalid_structure());
        }
        position += 1;
        read_varlong(body, &mut position).ok_or_else(invalid_structure)?; // timestampDelta
        let offset_delta = structure(&mut position)?;
        let key_size = structure(&mut position)?;
        skip_bytes(body, &mut position, key_size, "key")?;
        let value_size = structure(&mut position)?;
        skip_bytes(body, &mut position, value_size, "value")?;
        let header_count = structure(&mut position)?;
        if header_count < 0 {
            return Err(Refusal::invalid_record(format!("Found invalid number of record headers {header_count}")));
        }
        if header_count as usize > body.len() - position {
            return Err(Refusal::invalid_record(format!(
                "Found invalid number of record headers. {header_count} is larger than the remaining size of the buffer"
            )));
        }
        for _ in 0..header_count {
            let key_size = structure(&mut position)?;
            if key_size < 0 {
                return Err(Refusal::invalid_record(format!("Invalid negative header key size {key_size}")));
            }
            skip_bytes(body, &mut position, key_size, "header key")?;
            let value_size = structure(&mut position)?;
            skip_bytes(body, &mut position, value_size, "header value")?;
        }
        if position != body.len() {
            return Err(invalid_size(body.len() as i64, position));
        }
        if i64::from(offset_delta) != i64::from(index) {
            let message = format!(
                "Inner record {index} inside the record batch does not have incremental offsets: offset delta {offset_delta}, expected {index} in topic partition {}",
                self.tp
            );
            let record_errors = vec![RecordError { batch_index: index, message: message.clone() }];
            return Err(Refusal { error: ErrorCode::InvalidRecord, message, record_errors });
        }
        if self.rules.compacted && key_size < 0 {
            self.keyless.push(index);
        }
        self.index += 1;
        Ok(())
    }

    /// The per-record rules of `LogValidator.validateRecord`, once every record has been read:
    /// a key on a compacted topic (`validateKey`), then the timestamp (`validateTimestamp`).
    /// Errors come back together, as `processRecordErrors` reports them.
    ///
    /// # Errors
    ///
    /// INVALID_TIMESTAMP if any record's timestamp is refused, else INVALID_RECORD, with
    /// `record_errors`.
    pub fn finish(self) -> Result<(), Refusal> {
        let tp = self.tp;
        // A producer may not claim LogAppendTime: Kafka refuses it unless the topic is CreateTime
        // and the batch carries a timestamp (a LogAppendTime batch's records all have its
        // maxTimestamp).
        let log_append_time_refused = self.header.timestamp_type_is_log_append_time()
            && (self.rules.log_append_time || self.header.max_timestamp == -1);
        let mut record_errors = Vec::new();
        let mut keyless = self.keyless.iter().peekable();
        let mut timestamp_refused = false;
        for index in 0..self.header.record_count {
            if keyless.next_if_eq(&&index).is_some() {
                let message = format!("Compacted topic cannot accept message without key in topic partition {tp}.");
                record_errors.push(RecordError { batch_index: index, message });
            } else if log_append_time_refused {
                timestamp_refused = true;
                let message = format!(
                    "Invalid timestamp type in message at batch index {index}. Producer should not set timestamp type to LogAppendTime."
                );
                record_errors.push(RecordError { batch_index: index, message });
            }
        }
        if record_errors.is_empty() {
            return Ok(());
        }
        if timestamp_refused {
            let message = "One or more records have been rejected due to invalid timestamp".to_owned();
            return Err(Refusal { error: ErrorCode::InvalidTimestamp, message, record_errors });
        }
        let mut shown = String::new();
        for (n, error) in record_errors.iter().take(3).enumerate() {
            let separator = if n == 0 { "" } else { ", " };
            let _ =
                write!(shown, "{separator}RecordError(batchIndex={}, message='{}')", error.batch_index, error.message);
        }
        let message = format!(
            "One or more records have been rejected due to {} record errors in total, and only showing the first three errors at most: [{shown}]",
            record_errors.len()
        );
        Err(Refusal { error: ErrorCode::InvalidRecord, message, record_errors })
    }
}

/// The error a bounded decompressing reader returns (inside an `io::Error`) once its output would
/// pass its bound: [`RecordsCheck::walk_stream`] answers it with MESSAGE_TOO_LARGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the decompressed records pass the bound on their size")]
pub struct OutputLimitExceeded;

fn premature_eof() -> Refusal {
    Refusal::invalid_record("Incorrect declared batch size, premature EOF reached")
}

fn records_remaining() -> Refusal {
    Refusal::invalid_record("Incorrect declared batch size, records still remaining in file")
}

fn invalid_structure() -> Refusal {
    Refusal::invalid_record("Found invalid record structure")
}

fn invalid_size(expected: i64, read: usize) -> Refusal {
    Refusal::invalid_record(format!(
        "Invalid record size: expected to read {expected} bytes in record payload, but instead read {read}"
    ))
}

/// Skips a length-prefixed field: -1 is null; a longer length than the record has, or a negative
/// one other than -1, is refused.
fn skip_bytes(body: &[u8], position: &mut usize, size: i32, field: &str) -> Result<(), Refusal> {
    if size == -1 {
        return Ok(());
    }
    let size = usize::try_from(size).map_err(|_| {
        Refusal::invalid_record(format!("Invalid record {field} size {size}: only -1 (null) may be negative"))
    })?;
    let end = position.checked_add(size).filter(|end| *end <= body.len()).ok_or_else(invalid_structure)?;
    *position = end;
    Ok(())
}

/// A zigzag varint as Kafka's `ByteUtils.readVarint`: at most 5 bytes, the fifth without its
/// continuation bit (else "Varint is too long"); bits past 32 are dropped, as in Java.
pub(crate) fn read_varint(bytes: &[u8], position: &mut usize) -> Option<i32> {
    let mut raw: u32 = 0;
    for i in 0..5 {
        let byte = *bytes.get(*position)?;
        *position += 1;
        raw |= u32::from(byte & 0x7f).wrapping_shl(7 * i);
        if byte & 0x80 == 0 {
            return Some(((raw >> 1) as i32) ^ -((raw & 1) as i32));
        }
    }
    None
}

/// A zigzag varlong as `ByteUtils.readVarlong`: at most 10 bytes.
pub(crate) fn read_varlong(bytes: &[u8], position: &mut usize) -> Option<i64> {
    let mut raw: u64 = 0;
    for i in 0..10 {
        let byte = *bytes.get(*position)?;
        *position += 1;
        raw |= u64::from(byte & 0x7f).wrapping_shl(7 * i);
        if byte & 0x80 == 0 {
            return Some(((raw >> 1) as i64) ^ -((raw & 1) as i64));
        }
    }
    None
}

/// A record's length varint, read from a stream.
pub(crate) enum LengthVarint {
    /// The stream ended before its first byte.
    End,
    /// Five bytes with the continuation bit set (`ByteUtils.readVarint`: "Varint is too long").
    TooLong,
    /// The value and the bytes it took.
    Value(i32, usize),
}

pub(crate) fn read_varint_from(reader: &mut impl Read) -> io::Result<LengthVarint> {
    let mut encoded = [0u8; 5];
    for len in 0..5 {
        let mut byte = [0u8; 1];
        if let Err(error) = reader.read_exact(&mut byte) {
            return match error.kind() {
                io::ErrorKind::UnexpectedEof if len == 0 => Ok(LengthVarint::End),
                _ => Err(error),
            };
        }
        encoded[len] = byte[0];
        if byte[0] & 0x80 == 0 {
            let mut position = 0;
            return Ok(match read_varint(&encoded[..=len], &mut position) {
                Some(value) => LengthVarint::Value(value, len + 1),
                None => LengthVarint::TooLong,
            });
        }
    }
    Ok(LengthVarint::TooLong)
}
