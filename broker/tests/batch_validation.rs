//! Record batches a producer should never send, sent over the wire: each is refused whole with
//! the error code Kafka's broker answers (its `LogValidator` and the classes around it), the log
//! stays as it was, and batches from a real encoder, with every codec, still go in. Then
//! decompression bombs: refused at produce time, in bounded memory, while other connections are
//! served.

mod common;

use std::time::{Duration, Instant};

use broker::core::ErrorCode;
use bytes::Bytes;
use common::{TestBroker, all_topics, batch, create_request, fetch_request, list_offsets_request, produce_request};
use kafka_protocol::messages::ProduceResponse;
use kafka_protocol::records::Compression;

/// Produce v9: the first version with both `record_errors` and `error_message` (KIP-467), and
/// flexible.
const PRODUCE_VERSION: i16 = 9;

// Kafka's error codes (protocol guide, "Error Codes"); checked against the broker's below.
const CORRUPT_MESSAGE: i16 = 2;
const MESSAGE_TOO_LARGE: i16 = 10;
const INVALID_TIMESTAMP: i16 = 32;
const UNSUPPORTED_COMPRESSION_TYPE: i16 = 76;
const INVALID_RECORD: i16 = 87;

#[test]
fn the_codes_are_the_brokers() {
    assert_eq!(CORRUPT_MESSAGE, ErrorCode::CorruptMessage.code());
    assert_eq!(MESSAGE_TOO_LARGE, ErrorCode::MessageTooLarge.code());
    assert_eq!(INVALID_TIMESTAMP, ErrorCode::InvalidTimestamp.code());
    assert_eq!(UNSUPPORTED_COMPRESSION_TYPE, ErrorCode::UnsupportedCompressionType.code());
    assert_eq!(INVALID_RECORD, ErrorCode::InvalidRecord.code());
}

// Attribute bits (Kafka protocol guide, "Record Batch").
const LOG_APPEND_TIME: i16 = 0x08;
const TRANSACTIONAL: i16 = 0x10;
const CONTROL: i16 = 0x20;

/// A zigzag varint/varlong, as Kafka's `ByteUtils.writeVarlong`.
fn varint(value: i64, out: &mut Vec<u8>) {
    let mut raw = ((value << 1) ^ (value >> 63)) as u64;
    while raw >= 0x80 {
        out.push((raw as u8) | 0x80);
        raw >>= 7;
    }
    out.push(raw as u8);
}

/// A record's body fields, every length given explicitly so that a test can make it lie.
struct RawRecord<'a> {
    offset_delta: i64,
    key_len: i64,
    key: &'a [u8],
    value_len: i64,
    value: &'a [u8],
    /// The header count as written, then each header's (key length, key, value length, value).
    header_count: i64,
    headers: &'a [(i64, &'a [u8], i64, &'a [u8])],
}

impl<'a> RawRecord<'a> {
    fn new(offset_delta: i64, value: &'a [u8]) -> RawRecord<'a> {
        RawRecord {
            offset_delta,
            key_len: 1,
            key: b"k",
            value_len: value.len() as i64,
            value,
            header_count: 0,
            headers: &[],
        }
    }

    fn body(&self) -> Vec<u8> {
        let mut body = vec![0]; // attributes
        varint(0, &mut body); // timestampDelta
        varint(self.offset_delta, &mut body);
        varint(self.key_len, &mut body);
        body.extend_from_slice(self.key);
        varint(self.value_len, &mut body);
        body.extend_from_slice(self.value);
        varint(self.header_count, &mut body);
        for (key_len, key, value_len, value) in self.headers {
            varint(*key_len, &mut body);
            body.extend_from_slice(key);
            varint(*value_len, &mut body);
            body.extend_from_slice(value);
        }
        body
    }

    /// The record with its true length in front.
    fn encode(&self) -> Vec<u8> {
        let body = self.body();
        let mut out = Vec::new();
        varint(body.len() as i64, &mut out);
        out.extend_from_slice(&body);
        out
    }
}

/// A batch header in front of `records` (already encoded, compressed or not), with a right CRC
/// unless a test breaks it afterwards.
#[derive(Clone, Copy)]
struct Header {
    attributes: i16,
    last_offset_delta: i32,
    record_count: i32,
    max_timestamp: i64,
    producer_id: i64,
    base_sequence: i32,
}

impl Header {
    fn records(count: i32) -> Header {
        Header {
            attributes: 0,
            last_offset_delta: count - 1,
            record_count: count,
            max_timestamp: 1,
            producer_id: -1,
            base_sequence: -1,
        }
    }

    fn batch(&self, records: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
        out.extend_from_slice(&((49 + records.len()) as i32).to_be_bytes()); // batchLength
        out.extend_from_slice(&0i32.to_be_bytes()); // partitionLeaderEpoch
        out.push(2); // magic
        out.extend_from_slice(&0u32.to_be_bytes()); // crc, below
        out.extend_from_slice(&self.attributes.to_be_bytes());
        out.extend_from_slice(&self.last_offset_delta.to_be_bytes());
        out.extend_from_slice(&1i64.to_be_bytes()); // baseTimestamp
        out.extend_from_slice(&self.max_timestamp.to_be_bytes());
        out.extend_from_slice(&self.producer_id.to_be_bytes());
        out.extend_from_slice(&0i16.to_be_bytes()); // producerEpoch
        out.extend_from_slice(&self.base_sequence.to_be_bytes());
        out.extend_from_slice(&self.record_count.to_be_bytes());
        out.extend_from_slice(records);
        fix_crc(&mut out);
        out
    }
}

/// Recomputes the CRC-32C (bytes 21..end) after a test changed covered bytes.
fn fix_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

fn records(list: &[RawRecord<'_>]) -> Vec<u8> {
    list.iter().flat_map(RawRecord::encode).collect()
}

/// One good uncompressed record, as the hand-made batches start from.
fn one_good_record() -> Vec<u8> {
    records(&[RawRecord::new(0, b"v")])
}

struct Partition {
    client: common::Client,
    topic: &'static str,
}

impl Partition {
    async fn new(broker: &TestBroker, topic: &'static str, configs: &[(&str, &str)]) -> Partition {
        let mut client = broker.client().await;
        let created = client.send(&create_request(topic, 1, 1, configs), 7).await;
        assert_eq!(created.topics[0].error_code, 0, "{topic} created");
        Partition { client, topic }
    }

    async fn produce_with(&mut self, records: Vec<u8>, version: i16) -> ProduceResponse {
        self.client.send(&produce_request(self.topic, 0, 1, Bytes::from(records)), version).await
    }

    /// Produces `records` and returns the partition's (error code, error message, record errors).
    async fn produce(&mut self, records: Vec<u8>) -> (i16, String, Vec<i32>) {
        let response = self.produce_with(records, PRODUCE_VERSION).await;
        let partition = &response.responses[0].partition_responses[0];
        let message = partition.error_message.as_ref().map(ToString::to_string).unwrap_or_default();
        let indexes = partition.record_errors.iter().map(|e| e.batch_index).collect();
        (partition.error_code, message, indexes)
    }

    /// The log end offset, through ListOffsets LATEST.
    async fn log_end_offset(&mut self) -> i64 {
        let answer = self.client.send(&list_offsets_request(self.topic, 0, -1), 7).await;
        answer.topics[0].partitions[0].offset
    }

    /// Asserts `records` is refused with `code`, that the message says `says`, and that nothing
    /// of it reached the log.
    async fn refuses(&mut self, case: &str, records: Vec<u8>, code: i16, says: &str) -> Vec<i32> {
        let before = self.log_end_offset().await;
        let (error, message, record_errors) = self.produce(records).await;
        assert_eq!(error, code, "{case}: error code (message: {message})");
        assert!(message.contains(says), "{case}: message {message:?} should say {says:?}");
        assert_eq!(self.log_end_offset().await, before, "{case}: the log is unchanged");
        record_errors
    }
}

#[tokio::test]
async fn lengths_magic_and_crc_are_checked_as_kafka_does() {
    let broker = TestBroker::start().await;
    let mut p = Partition::new(&broker, "lengths", &[]).await;
    let good = Header::records(1).batch(&one_good_record());

    let mut longer = good.clone();
    longer[8..12].copy_from_slice(&((good.len() - 12 + 10) as i32).to_be_bytes());
    p.refuses("batchLength past the bytes", longer, INVALID_RECORD, "must have at least one record batch").await;
    let mut tiny = good.clone();
    tiny[8..12].copy_from_slice(&13i32.to_be_bytes());
    p.refuses("batchLength under 14", tiny, CORRUPT_MESSAGE, "less than the minimum record overhead (14)").await;
    let mut short = good[..12 + 30].to_vec();
    short[8..12].copy_from_slice(&30i32.to_be_bytes());
    p.refuses("batchLength under a v2 header", short, CORRUPT_MESSAGE, "smaller than the minimum allowed overhead 61")
        .await;
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0, 0, 0]);
    p.refuses("bytes after the batch", trailing, INVALID_RECORD, "exactly one record batch").await;
    p.refuses("no bytes at all", Vec::new(), INVALID_RECORD, "at least one record batch").await;

    let mut magic1 = good.clone();
    magic1[16] = 1;
    p.refuses("magic 1", magic1, INVALID_RECORD, "magic version 2").await;
    let mut magic3 = good.clone();
    magic3[16] = 3;
    p.refuses("magic 3", magic3, CORRUPT_MESSAGE, "Invalid magic found in record: 3").await;

    let mut crc = good.clone();
    crc[17] ^= 0x01;
    p.refuses("a wrong CRC", crc, CORRUPT_MESSAGE, "Record is corrupt (stored crc").await;
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    p.refuses("a flipped record byte", flipped, CORRUPT_MESSAGE, "Record is corrupt").await;

    // And a good one still goes in, at offset 0: nothing before it was appended.
    assert_eq!(p.produce(good).await.0, 0);
    assert_eq!(p.log_end_offset().await, 1);
}

#[tokio::test]
async fn counts_offsets_and_record_structure_are_checked() {
    let broker = TestBroker::start().await;
    let mut p = Partition::new(&broker, "records", &[]).await;
    let two = records(&[RawRecord::new(0, b"a"), RawRecord::new(1, b"b")]);

    let mut fewer = Header::records(3);
    fewer.last_offset_delta = 2;
    p.refuses("count 3, two records", fewer.batch(&two), INVALID_RECORD, "premature EOF").await;
    p.refuses("count 1, two records", Header::records(1).batch(&two), INVALID_RECORD, "records still remaining").await;
    let mut inconsistent = Header::records(2);
    inconsistent.last_offset_delta = 3;
    p.refuses(
        "lastOffsetDelta 3, count 2",
        inconsistent.batch(&two),
        INVALID_RECORD,
        "Inconsistent batch offset range",
    )
    .await;
    let mut negative = Header::records(1);
    negative.last_offset_delta = -1;
    negative.record_count = 0;
    p.refuses("lastOffsetDelta -1", negative.batch(&[]), INVALID_RECORD, "Batch has an invalid offset range").await;
    let mut huge_count = Header::records(i32::MAX);
    huge_count.last_offset_delta = i32::MAX - 1;
    p.refuses("count 2^31-1, one record", huge_count.batch(&one_good_record()), INVALID_RECORD, "premature EOF").await;

    let gap = records(&[RawRecord::new(0, b"a"), RawRecord::new(5, b"b")]);
    let indexes =
        p.refuses("offset deltas 0, 5", Header::records(2).batch(&gap), INVALID_RECORD, "offset delta 5").await;
    assert_eq!(indexes, vec![1], "the record with the wrong delta is named");

    // Record lengths that lie, both ways.
    let body = RawRecord::new(0, b"value").body();
    let mut longer = Vec::new();
    varint(body.len() as i64 + 40, &mut longer);
    longer.extend_from_slice(&body);
    p.refuses(
        "a record longer than the batch",
        Header::records(1).batch(&longer),
        INVALID_RECORD,
        "Invalid record size",
    )
    .await;
    let mut shorter = Vec::new();
    varint(body.len() as i64 - 3, &mut shorter);
    shorter.extend_from_slice(&body);
    p.refuses("a record shorter than its fields", Header::records(1).batch(&shorter), INVALID_RECORD, "").await;
    let mut negative_length = Vec::new();
    varint(-5, &mut negative_length);
    negative_length.extend_from_slice(&body);
    p.refuses("a negative record length", Header::records(1).batch(&negative_length), INVALID_RECORD, "").await;

    // Negative lengths other than -1 (null).
    let key = RawRecord { key_len: -7, key: b"", ..RawRecord::new(0, b"v") };
    p.refuses("key length -7", Header::records(1).batch(&key.encode()), INVALID_RECORD, "key size -7").await;
    let value = RawRecord { value_len: -3, value: b"", ..RawRecord::new(0, b"") };
    p.refuses("value length -3", Header::records(1).batch(&value.encode()), INVALID_RECORD, "value size -3").await;
    let headers = [(1, &b"h"[..], -2, &b""[..])];
    let header_value = RawRecord { header_count: 1, headers: &headers, ..RawRecord::new(0, b"v") };
    p.refuses("header value length -2", Header::records(1).batch(&header_value.encode()), INVALID_RECORD, "").await;
    let headers = [(-1, &b""[..], 1, &b"v"[..])];
    let null_key = RawRecord { header_count: 1, headers: &headers, ..RawRecord::new(0, b"v") };
    p.refuses("a null header key", Header::records(1).batch(&null_key.encode()), INVALID_RECORD, "header key size")
        .await;

    // Header counts that cannot be.
    let absurd = RawRecord { header_count: i64::from(i32::MAX), ..RawRecord::new(0, b"v") };
    p.refuses(
        "header count 2^31-1",
        Header::records(1).batch(&absurd.encode()),
        INVALID_RECORD,
        "number of record headers",
    )
    .await;
    let negative_headers = RawRecord { header_count: -4, ..RawRecord::new(0, b"v") };
    p.refuses(
        "header count -4",
        Header::records(1).batch(&negative_headers.encode()),
        INVALID_RECORD,
        "invalid number of record headers -4",
    )
    .await;

    // A varint whose fifth byte still has its continuation bit.
    let mut overflow = vec![0, 0];
    overflow.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    overflow.extend_from_slice(&[2, 0x76, 0]);
    let mut with_length = Vec::new();
    varint(overflow.len() as i64, &mut with_length);
    with_length.extend_from_slice(&overflow);
    p.refuses(
        "an overflowing varint",
        Header::records(1).batch(&with_length),
        INVALID_RECORD,
        "invalid record structure",
    )
    .await;
    p.refuses("a length varint that never ends", Header::records(1).batch(&[0xff; 8]), INVALID_RECORD, "").await;

    // Every case above left the log empty; headers and null keys and values that are right pass.
    let headers = [(1, &b"h"[..], -1, &b""[..]), (2, &b"h2"[..], 1, &b"x"[..])];
    let fine = RawRecord { header_count: 2, headers: &headers, value_len: -1, value: b"", ..RawRecord::new(0, b"") };
    assert_eq!(p.produce(Header::records(1).batch(&fine.encode())).await.0, 0);
    assert_eq!(p.log_end_offset().await, 1);
}

#[tokio::test]
async fn codecs_flags_and_timestamps_are_checked() {
    let broker = TestBroker::start().await;
    let mut p = Partition::new(&broker, "flags", &[]).await;
    let good = one_good_record();
    let with = |attributes: i16, records: &[u8]| Header { attributes, ..Header::records(1) }.batch(records);

    for codec in [5, 6, 7] {
        p.refuses(&format!("codec {codec}"), with(codec, &good), UNSUPPORTED_COMPRESSION_TYPE, "compression type id")
            .await;
    }
    let garbage = b"this is not what the codec flag says it is, not at all".repeat(3);
    for (codec, name) in [(1, "gzip"), (2, "snappy"), (3, "lz4"), (4, "zstd")] {
        let code = p.produce(with(codec, &garbage)).await.0;
        assert!(
            code == CORRUPT_MESSAGE || code == INVALID_RECORD,
            "{name} flag over garbage: CORRUPT_MESSAGE or INVALID_RECORD, got {code}"
        );
    }
    // zstd needs Produce v7 (KIP-110).
    let zstd = batch(&[(Some("k"), "v")], 1, Compression::Zstd).to_vec();
    let old = p.produce_with(zstd, 6).await;
    assert_eq!(old.responses[0].partition_responses[0].error_code, UNSUPPORTED_COMPRESSION_TYPE, "zstd on Produce v6");

    p.refuses("the control bit", with(CONTROL, &good), INVALID_RECORD, "not allowed to write control records").await;
    p.refuses("the transactional bit", with(TRANSACTIONAL, &good), INVALID_RECORD, "Transactional").await;
    let no_sequence = Header { producer_id: 42, base_sequence: -1, ..Header::records(1) }.batch(&good);
    p.refuses("a producer id without a sequence", no_sequence, INVALID_RECORD, "Invalid sequence number -1").await;

    // LogAppendTime is the broker's to set (LogValidator.validateTimestamp).
    let log_append_time = Header { attributes: LOG_APPEND_TIME, max_timestamp: -1, ..Header::records(1) }.batch(&good);
    let indexes =
        p.refuses("LogAppendTime from a producer", log_append_time, INVALID_TIMESTAMP, "invalid timestamp").await;
    assert_eq!(indexes, vec![0]);
    assert_eq!(p.log_end_offset().await, 0, "nothing appended");

    let mut appended = Partition::new(&broker, "appended", &[("message.timestamp.type", "LogAppendTime")]).await;
    let claimed = Header { attributes: LOG_APPEND_TIME, ..Header::records(1) }.batch(&good);
    appended.refuses("LogAppendTime claimed on a LogAppendTime topic", claimed, INVALID_TIMESTAMP, "").await;

    // Keyless records on a compacted topic are still named one by one (KIP-467).
    let mut compacted = Partition::new(&broker, "compacted", &[("cleanup.policy", "compact")]).await;
    let keyless = batch(&[(Some("a"), "1"), (None, "2"), (None, "3")], 1, Compression::Lz4).to_vec();
    let indexes = compacted.refuses("keyless records", keyless, INVALID_RECORD, "without key").await;
    assert_eq!(indexes, vec![1, 2]);
}

#[tokio::test]
async fn batches_from_a_real_encoder_pass_with_every_codec() {
    let broker = TestBroker::start().await;
    let mut p = Partition::new(&broker, "good", &[]).await;
    let codecs = [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];
    let big = "v".repeat(100_000);
    for (n, codec) in codecs.into_iter().enumerate() {
        let records = [(Some("k1"), "one"), (None, "two"), (Some("k3"), big.as_str())];
        let response = p.produce_with(batch(&records, 1_000, codec).to_vec(), PRODUCE_VERSION).await;
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!((partition.error_code, partition.base_offset), (0, 3 * n as i64), "{codec:?}");
    }
    let fetched = p.client.send(&fetch_request("good", 0, 0, 0), 12).await;
    let bytes = fetched.responses[0].partitions[0].records.clone().expect("records");
    let records = common::records_of(bytes);
    assert_eq!(records.len(), 15);
    assert_eq!(records[14].2.len(), 100_000);
}

/// A zstd frame that inflates to about 2 GB from 66 KB: one record whose value claims 2 GB,
/// then 128 KiB run-length blocks of 'a' (RFC 8878: a 4-byte RLE block stands for up to a whole
/// block of one byte). Built by hand in microseconds, not by compressing gigabytes.
fn zstd_bomb() -> Vec<u8> {
    const BLOCK_BYTES: u32 = 128 * 1024;
    let mut prefix = Vec::new();
    let value_bytes: i64 = 2_000_000_000;
    let mut body = vec![0]; // attributes
    varint(0, &mut body); // timestampDelta
    varint(0, &mut body); // offsetDelta
    varint(-1, &mut body); // null key
    varint(value_bytes, &mut body);
    varint(body.len() as i64 + value_bytes + 1, &mut prefix); // the record's length (+1: header count)
    prefix.extend_from_slice(&body);

    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd]; // magic
    frame.push(0x00); // frame header descriptor: no content size, not single-segment, no checksum
    frame.push(7 << 3); // window descriptor: 2^(10+7) = 128 KiB
    let block_header = |size: u32, block_type: u32, last: bool| {
        let value = (size << 3) | (block_type << 1) | u32::from(last);
        [value as u8, (value >> 8) as u8, (value >> 16) as u8]
    };
    frame.extend_from_slice(&block_header(prefix.len() as u32, 0, false)); // raw block
    frame.extend_from_slice(&prefix);
    let rle_blocks = 16_500;
    for n in 0..rle_blocks {
        frame.extend_from_slice(&block_header(BLOCK_BYTES, 1, n == rle_blocks - 1));
        frame.push(b'a');
    }
    Header { attributes: 4, ..Header::records(1) }.batch(&frame)
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decompression_bomb_is_refused_in_bounded_memory() {
    let broker = TestBroker::start().await;
    let mut p = Partition::new(&broker, "bombs", &[]).await;
    let bomb = zstd_bomb();
    assert!(bomb.len() < 70 * 1024, "the bomb is {} bytes", bomb.len());
    let (peak_before, started) = (peak_rss_kib(), Instant::now());
    p.refuses("a 66 KB zstd bomb", bomb, MESSAGE_TOO_LARGE, "inflate to more than").await;
    println!("zstd bomb refused in {:?}; peak RSS {} -> {} KiB", started.elapsed(), peak_before, peak_rss_kib());

    // Many records that inflate past max.message.bytes (1 MiB) together, from a real encoder.
    let value = "x".repeat(64 * 1024);
    let many: Vec<(Option<&str>, &str)> = (0..40).map(|_| (Some("k"), value.as_str())).collect();
    for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
        let compressed = batch(&many, 1, codec).to_vec();
        assert!(compressed.len() < 1 << 20, "{codec:?} compresses {} bytes", compressed.len());
        p.refuses(
            &format!("{codec:?} records inflating to 2.6 MB"),
            compressed,
            MESSAGE_TOO_LARGE,
            "max.message.bytes",
        )
        .await;
    }

    // The bound is the topic's max.message.bytes: 200 KB inflated passes by default, not at 100 KB.
    let some: Vec<(Option<&str>, &str)> = (0..3).map(|_| (Some("k"), value.as_str())).collect();
    assert_eq!(p.produce(batch(&some, 1, Compression::Zstd).to_vec()).await.0, 0);
    let mut small = Partition::new(&broker, "small", &[("max.message.bytes", "100000")]).await;
    small
        .refuses("200 KB inflated, max 100 KB", batch(&some, 1, Compression::Zstd).to_vec(), MESSAGE_TOO_LARGE, "")
        .await;
    peak_rss_kib();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_connections_are_served_while_bombs_are_refused() {
    let broker = TestBroker::start().await;
    let mut p = Partition::new(&broker, "bombs", &[]).await;
    let bomb = zstd_bomb();
    let value = "x".repeat(64 * 1024);
    let many: Vec<(Option<&str>, &str)> = (0..200).map(|_| (Some("k"), value.as_str())).collect();
    let inflating = batch(&many, 1, Compression::Gzip).to_vec();
    let bombs = tokio::spawn(async move {
        for _ in 0..20 {
            assert_eq!(p.produce(bomb.clone()).await.0, MESSAGE_TOO_LARGE);
            assert_eq!(p.produce(inflating.clone()).await.0, MESSAGE_TOO_LARGE);
        }
    });
    let mut other = broker.client().await;
    let started = Instant::now();
    for _ in 0..20 {
        let metadata = tokio::time::timeout(Duration::from_secs(30), other.send(&all_topics(), 12)).await;
        let metadata = metadata.expect("Metadata answered while bombs are being refused");
        assert_eq!(metadata.topics.len(), 1);
    }
    println!("20 Metadata requests during the bombs took {:?}", started.elapsed());
    tokio::time::timeout(Duration::from_secs(120), bombs).await.expect("bombs done").expect("bomb task");
}

#[tokio::test]
async fn list_offsets_by_timestamp_reads_inside_compressed_batches() {
    let broker = TestBroker::start().await;
    let mut p = Partition::new(&broker, "timed", &[]).await;
    // Records at 1000, 1001, 1002 (the encoder adds the index to the timestamp).
    let records = [(Some("a"), "1"), (Some("b"), "2"), (Some("c"), "3")];
    assert_eq!(p.produce(batch(&records, 1_000, Compression::Zstd).to_vec()).await.0, 0);
    let answer = p.client.send(&list_offsets_request("timed", 0, 1_001), 7).await;
    let partition = &answer.topics[0].partitions[0];
    assert_eq!((partition.error_code, partition.offset, partition.timestamp), (0, 1, 1_001));
}
