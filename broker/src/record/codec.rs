//! The records of a compressed batch, decompressed as a stream with a bound on what comes out.
//!
//! A producer's compressed batch is at most `max.message.bytes`, but what it inflates to is only
//! bounded by the codec: 66 KB of zstd can stand for gigabytes (a "decompression bomb"). So
//! nothing here decompresses a whole batch into memory: [`records_reader`] hands back a
//! [`Read`] that the caller consumes record by record and stops reading past its own bound
//! ([`super::validate::RecordsCheck::walk_stream`]). Each codec's working memory is bounded too:
//! zstd's window (which a frame header may ask to be up to 2 GiB) by
//! [`ZSTD_WINDOW_LOG_MAX`], a snappy block by the caller's bound before it is allocated.
//!
//! The formats are Kafka's (`CompressionType`, `KafkaLZ4BlockInputStream`, xerial's
//! `SnappyInputStream`): gzip members, the LZ4 frame format, zstd frames, and snappy in xerial's
//! block framing (or one raw snappy block without the framing header, as xerial also reads).
//! The codec crates are the ones kafka-protocol links (C libraries for lz4 and zstd), so this
//! module is behind the `runtime` feature and out of the wasm32 simulator build.

use std::io::{self, BufReader, Read};

use super::batch::{BATCH_HEADER_LEN, BatchHeader, Compression, RecordPosition, record_positions};
use super::validate::{LengthVarint, OutputLimitExceeded, read_varint, read_varint_from, read_varlong};

/// The largest zstd window accepted, as a power of two: 16 MiB of decoder memory at most,
/// whatever a frame header asks for. Kafka's producers use far less (zstd-jni at the default
/// level 3: 2 MiB); frames from levels 20-22 on long inputs ask for more and are refused as
/// corrupt ("Frame requires too much memory for decoding").
pub const ZSTD_WINDOW_LOG_MAX: u32 = 24;

/// The decoders are read a byte at a time for varints: a buffer in front keeps that cheap.
const READ_BUFFER_BYTES: usize = 32 * 1024;

/// xerial's `SnappyCodec` header: magic, version 1, compatible version 1.
const XERIAL_SNAPPY_MAGIC: &[u8] = b"\x82SNAPPY\x00";
const XERIAL_SNAPPY_HEADER_BYTES: usize = 16;

/// A reader over the decompressed records of a batch whose records (after the 61-byte header)
/// are `compressed` with `compression`. `uncompressed_bytes_max` bounds what a codec allocates
/// ahead (a snappy block); the caller still counts what it reads.
///
/// # Errors
///
/// `InvalidData` for [`Compression::None`] or an unknown codec, or if the codec cannot even
/// start (a bad LZ4 or zstd frame header).
pub fn records_reader<'a>(
    compression: Compression,
    compressed: &'a [u8],
    uncompressed_bytes_max: usize,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    let reader: Box<dyn Read + Send + 'a> = match compression {
        // Java's GZIPInputStream reads concatenated members; so does MultiGzDecoder.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(compressed)),
        Compression::Snappy => Box::new(XerialSnappy::new(compressed, uncompressed_bytes_max)),
        Compression::Lz4 => Box::new(lz4::Decoder::new(compressed)?),
        Compression::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(compressed)?;
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(decoder)
        }
        Compression::None | Compression::Unknown(_) => {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("no decompressor for {compression:?}")));
        }
    };
    Ok(Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, reader)))
}

/// The offset and timestamp of every record of a stored batch, compressed or not, inflating at
/// most `uncompressed_bytes_max` bytes and holding one record at a time: what ListOffsets by
/// timestamp needs from the batch the time index points at.
///
/// # Errors
///
/// `InvalidData` if the batch or a record does not parse, the codec's error if it fails, and an
/// error wrapping [`OutputLimitExceeded`] past the bound.
pub fn record_positions_bounded(batch: &[u8], uncompressed_bytes_max: usize) -> io::Result<Vec<RecordPosition>> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let header = BatchHeader::parse(batch).map_err(|error| invalid(error.to_string()))?;
    if header.compression() == Compression::None {
        let positions = record_positions(batch).map_err(|error| invalid(error.to_string()))?;
        return positions.collect::<Result<_, _>>().map_err(|error| invalid(error.to_string()));
    }
    let compressed = batch.get(BATCH_HEADER_LEN..header.size_in_bytes()).unwrap_or_default();
    let mut reader = records_reader(header.compression(), compressed, uncompressed_bytes_max)?;
    let mut positions = Vec::new();
    let (mut inflated, mut body) = (0usize, Vec::new());
    for _ in 0..header.record_count {
        let size = match read_varint_from(&mut reader)? {
            LengthVarint::Value(size, _) => {
                usize::try_from(size).map_err(|_| invalid("negative record size".into()))?
            }
            LengthVarint::End => break,
            LengthVarint::TooLong => return Err(invalid("record size varint too long".into())),
        };
        inflated = inflated.saturating_add(size);
        if inflated > uncompressed_bytes_max {
            return Err(io::Error::other(OutputLimitExceeded));
        }
        body.clear();
        body.resize(size, 0);
        reader.read_exact(&mut body)?;
        let mut position = 1; // after attributes
        let timestamp_delta = read_varlong(&body, &mut position).ok_or_else(|| invalid("bad timestampDelta".into()))?;
        let offset_delta = read_varint(&body, &mut position).ok_or_else(|| invalid("bad offsetDelta".into()))?;
        let timestamp = if header.timestamp_type_is_log_append_time() {
            header.max_timestamp
        } else {
            header.base_timestamp.saturating_add(timestamp_delta)
        };
        positions
            .push(RecordPosition { offset: header.base_offset.saturating_add(i64::from(offset_delta)), timestamp });
    }
    Ok(positions)
}

/// xerial snappy-java's stream format, which Kafka's producers write: a 16-byte header, then
/// blocks of `[u32 compressed length][raw snappy block]`. Without the header the whole input
/// is one raw snappy block (xerial's `SnappyInputStream` falls back to that as well).
struct XerialSnappy<'a> {
    input: &'a [u8],
    /// The current block, decompressed, and how much of it was read.
    block: Vec<u8>,
    position: usize,
    /// What may still be decompressed before the bound is passed.
    budget_bytes: usize,
    framed: bool,
}

impl<'a> XerialSnappy<'a> {
    fn new(input: &'a [u8], budget_bytes: usize) -> XerialSnappy<'a> {
        match input.strip_prefix(XERIAL_SNAPPY_MAGIC) {
            Some(_) => XerialSnappy {
                input: input.get(XERIAL_SNAPPY_HEADER_BYTES..).unwrap_or_default(),
                block: Vec::new(),
                position: 0,
                budget_bytes,
                framed: true,
            },
            None => XerialSnappy { input, block: Vec::new(), position: 0, budget_bytes, framed: false },
        }
    }

    /// Decompresses the next block; `false` at the end of the input.
    fn next_block(&mut self) -> io::Result<bool> {
        if self.input.is_empty() {
            return Ok(false);
        }
        let chunk = if self.framed {
            let (length, rest) = self.input.split_at_checked(4).ok_or(io::ErrorKind::UnexpectedEof)?;
            let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
            let (chunk, rest) = rest.split_at_checked(length).ok_or(io::ErrorKind::UnexpectedEof)?;
            self.input = rest;
            chunk
        } else {
            std::mem::take(&mut self.input)
        };
        let invalid = |error: snap::Error| io::Error::new(io::ErrorKind::InvalidData, error);
        // The block says how big it inflates to: check that before allocating it.
        let length = snap::raw::decompress_len(chunk).map_err(invalid)?;
        if length > self.budget_bytes {
            return Err(io::Error::other(OutputLimitExceeded));
        }
        self.budget_bytes -= length;
        self.block.clear();
        self.block.resize(length, 0);
        let written = snap::raw::Decoder::new().decompress(chunk, &mut self.block).map_err(invalid)?;
        self.block.truncate(written);
        self.position = 0;
        Ok(true)
    }
}

impl Read for XerialSnappy<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position >= self.block.len() {
            if !self.next_block()? {
                return Ok(0);
            }
        }
        let available = &self.block[self.position..];
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.position += n;
        Ok(n)
    }
}
