//! `kafka-console-producer.sh`, read as `org.apache.kafka.tools.ConsoleProducer` reads its options,
//! with its input lines read as `LineMessageReader` reads standard input.
//!
//! Kafka 4.x renamed `--property` to `--reader-property` and `--producer-property` to
//! `--command-property` (KIP-1147); both spellings work, as they do in 4.x.
//!
//! One difference: the real tool sends each line as it reads it, so a malformed line stops it
//! after the lines before it were sent. Here the whole input is read first and a malformed line
//! sends nothing, so a learner fixes the line and runs the command again without duplicates.

use super::{Command, Context, Failure, java_bool, key_values};
use crate::console::error::ErrorKind;
use crate::console::options::{Matches, OptSpec, flag, optional, value, values};
use crate::console::suggest;

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("topic"),
    value("broker-list"),
    value("bootstrap-server"),
    flag("sync"),
    optional("compression-codec"),
    value("batch-size"),
    value("message-send-max-retries"),
    value("retry-backoff-ms"),
    value("timeout"),
    value("request-required-acks"),
    value("request-timeout-ms"),
    value("metadata-expiry-ms"),
    value("max-block-ms"),
    value("max-memory-bytes"),
    value("max-partition-memory-bytes"),
    value("line-reader"),
    value("socket-buffer-size"),
    values("property"),
    values("reader-property"),
    value("reader-config"),
    values("producer-property"),
    values("command-property"),
    value("producer.config"),
    value("command-config"),
    flag("help"),
    flag("version"),
];

/// `kafka-console-producer.sh` and the records typed after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Produce {
    pub topic: String,
    /// `--request-required-acks`, else `--producer-property acks=...`, else `all` (`-1`), the order
    /// of `CommandLineUtils.maybeMergeOptions` in `ConsoleProducerConfig.producerProps`.
    pub acks: Acks,
    /// `--compression-codec` (without a value: gzip). The tool always sets `compression.type`
    /// from this option, so `--producer-property compression.type=...` has no effect.
    pub compression: CompressionArg,
    /// `--sync`: wait for each record's acknowledgement before sending the next.
    pub sync: bool,
    /// `--producer-property` / `--command-property` pairs, in order, for settings the console
    /// does not model (`linger.ms`, `enable.idempotence`, ...).
    pub producer_properties: Vec<(String, String)>,
    /// How each input line is read (`--property parse.key=true` ...).
    pub reader: LineReader,
    /// The records, parsed from the lines after the command.
    pub records: Vec<RecordInput>,
}

/// The `acks` a producer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: do not wait for the broker.
    None,
    /// `acks=1`: the leader has written it.
    Leader,
    /// `acks=all` / `-1`: every in-sync replica has it.
    All,
}

impl Acks {
    /// The value of the Produce request's `acks` field.
    pub fn as_i16(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }

    fn parse(text: &str) -> Result<Acks, ErrorKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" | "-1" => Ok(Acks::All),
            "1" => Ok(Acks::Leader),
            "0" => Ok(Acks::None),
            // ProducerConfig's validator for `acks`.
            _ => Err(ErrorKind::Tool(format!(
                "Invalid value {text} for configuration acks: String must be one of: all, -1, 0, 1"
            ))),
        }
    }
}

/// `compression.type` of the produced batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionArg {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl CompressionArg {
    fn parse(text: &str) -> Result<CompressionArg, ErrorKind> {
        match text {
            "none" => Ok(CompressionArg::None),
            "gzip" => Ok(CompressionArg::Gzip),
            "snappy" => Ok(CompressionArg::Snappy),
            "lz4" => Ok(CompressionArg::Lz4),
            "zstd" => Ok(CompressionArg::Zstd),
            _ => Err(ErrorKind::Tool(format!(
                "Invalid value {text} for configuration compression.type: String must be one of: none, gzip, \
                 snappy, lz4, zstd"
            ))),
        }
    }
}

/// One record from an input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInput {
    /// The script line it came from.
    pub line: usize,
    /// `None` without `parse.key`, or when the key equals `null.marker`.
    pub key: Option<String>,
    /// `None` when the value equals `null.marker` (a tombstone).
    pub value: Option<String>,
    /// With `parse.headers=true`: `(key, value)` pairs in order.
    pub headers: Vec<(String, Option<String>)>,
}

/// `LineMessageReader`'s settings (the `--property` / `--reader-property` pairs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineReader {
    pub parse_key: bool,
    /// Between key and value; default a tab.
    pub key_separator: String,
    pub parse_headers: bool,
    /// Between the headers and the rest of the line; default a tab.
    pub headers_delimiter: String,
    /// Between two headers; default `,`. (The real reader treats it as a regular expression; the
    /// console matches it literally.)
    pub headers_separator: String,
    /// Between a header's key and value; default `:`.
    pub headers_key_separator: String,
    /// `ignore.error=true`: a line without separator becomes a record without key.
    pub ignore_error: bool,
    /// Keys, values and header values equal to it become null.
    pub null_marker: Option<String>,
}

impl Default for LineReader {
    fn default() -> Self {
        LineReader {
            parse_key: false,
            key_separator: "\t".into(),
            parse_headers: false,
            headers_delimiter: "\t".into(),
            headers_separator: ",".into(),
            headers_key_separator: ":".into(),
            ignore_error: false,
            null_marker: None,
        }
    }
}

/// The reader properties `LineMessageReader.configure` knows.
const READER_PROPERTIES: &[&str] = &[
    "parse.key",
    "key.separator",
    "parse.headers",
    "headers.delimiter",
    "headers.separator",
    "headers.key.separator",
    "ignore.error",
    "null.marker",
];

impl LineReader {
    /// `LineMessageReader.configure`, with its checks.
    fn configure(properties: &[(String, String)], warnings: &mut Vec<String>) -> Result<LineReader, ErrorKind> {
        let mut reader = LineReader::default();
        for (key, value) in properties {
            match key.as_str() {
                "parse.key" => reader.parse_key = java_bool(value),
                "key.separator" => reader.key_separator.clone_from(value),
                "parse.headers" => reader.parse_headers = java_bool(value),
                "headers.delimiter" => reader.headers_delimiter.clone_from(value),
                "headers.separator" => reader.headers_separator.clone_from(value),
                "headers.key.separator" => reader.headers_key_separator.clone_from(value),
                "ignore.error" => reader.ignore_error = java_bool(value),
                "null.marker" => reader.null_marker = Some(value.clone()),
                // The real reader ignores what it does not know; say so, since a typo here
                // silently produces records without keys.
                other => warnings.push(unknown_property_warning(other, READER_PROPERTIES, "reader")),
            }
        }
        let equal = |a: &str, b: &str, what: &str| {
            if a == b { Err(ErrorKind::Tool(format!("{what} may not be equal"))) } else { Ok(()) }
        };
        equal(&reader.headers_delimiter, &reader.headers_separator, "headers.delimiter and headers.separator")?;
        equal(&reader.headers_delimiter, &reader.headers_key_separator, "headers.delimiter and headers.key.separator")?;
        equal(&reader.headers_separator, &reader.headers_key_separator, "headers.separator and headers.key.separator")?;
        if let Some(marker) = reader.null_marker.as_deref() {
            equal(&reader.key_separator, marker, "null.marker and key.separator")?;
            equal(&reader.headers_separator, marker, "null.marker and headers.separator")?;
            equal(&reader.headers_delimiter, marker, "null.marker and headers.delimiter")?;
            equal(&reader.headers_key_separator, marker, "null.marker and headers.key.separator")?;
        }
        Ok(reader)
    }

    /// Reads one input line as `LineMessageReader.readRecords` does; `number` is the line's
    /// 1-based position in the producer's input, which the real tool's messages count.
    ///
    /// # Errors
    ///
    /// The real reader's message for a line without separator (unless `ignore.error`).
    pub fn read(&self, number: usize, line: &str) -> Result<RecordInput, ErrorKind> {
        let headers = self.part(self.parse_headers, line, 0, &self.headers_delimiter, "headers delimiter", number)?;
        let header_offset = headers.map_or(0, |h| h.len() + self.headers_delimiter.len());
        let key = self.part(self.parse_key, line, header_offset, &self.key_separator, "key separator", number)?;
        let key_offset = key.map_or(0, |k| k.len() + self.key_separator.len());
        let value = &line[header_offset + key_offset..];

        let not_null = |text: &str| (Some(text) != self.null_marker.as_deref()).then(|| text.to_string());
        let mut record =
            RecordInput { line: 0, key: key.and_then(not_null), value: not_null(value), headers: Vec::new() };
        if let Some(headers) = headers.filter(|h| Some(*h) != self.null_marker.as_deref()) {
            for pair in headers.split(self.headers_separator.as_str()) {
                let Some((key, value)) = pair.split_once(self.headers_key_separator.as_str()) else {
                    if self.ignore_error {
                        record.headers.push((pair.to_string(), None));
                        continue;
                    }
                    return Err(ErrorKind::Tool(format!(
                        "No header key separator found in pair '{pair}' on line number {number}"
                    )));
                };
                if Some(key) == self.null_marker.as_deref() {
                    return Err(ErrorKind::Tool(format!(
                        "Header keys should not be equal to the null marker '{key}' as they can't be null"
                    )));
                }
                record.headers.push((key.to_string(), not_null(value)));
            }
        }
        Ok(record)
    }

    /// `LineMessageReader.parse`: the text from `start` to the separator.
    fn part<'l>(
        &self,
        enabled: bool,
        line: &'l str,
        start: usize,
        separator: &str,
        name: &str,
        number: usize,
    ) -> Result<Option<&'l str>, ErrorKind> {
        if !enabled {
            return Ok(None);
        }
        match line.get(start..).and_then(|rest| rest.find(separator)) {
            Some(index) => Ok(Some(&line[start..start + index])),
            None if self.ignore_error => Ok(None),
            None => Err(ErrorKind::Tool(format!("No {name} found on line number {number}: '{line}'"))),
        }
    }
}

pub(crate) fn unknown_property_warning(name: &str, known: &[&str], kind: &str) -> String {
    let hint =
        suggest::nearest(name, known.iter().copied()).map(|k| format!("; did you mean {k}?")).unwrap_or_default();
    format!("warning: {name} is not a {kind} property and is ignored{hint}")
}

pub(crate) fn build(m: &Matches, records: &[(usize, &str)], cx: &mut Context) -> Result<Command, Failure> {
    let topic = m.required("topic")?.to_string();
    // The 4.x names and the deprecated ones, like the tool, which refuses to mix them.
    let reader_args = either(m, "property", "reader-property")?;
    let producer_args = either(m, "producer-property", "command-property")?;
    let producer_properties = key_values(&producer_args);

    let acks = match m.value("request-required-acks")? {
        Some(acks) => Acks::parse(acks)?,
        None => match producer_properties.iter().rev().find(|(key, _)| key == "acks") {
            Some((_, acks)) => Acks::parse(acks)?,
            None => Acks::All,
        },
    };
    let compression = match (m.has("compression-codec"), m.value("compression-codec")?) {
        (false, _) => CompressionArg::None,
        (true, None | Some("")) => CompressionArg::Gzip,
        (true, Some(codec)) => CompressionArg::parse(codec)?,
    };
    let reader = LineReader::configure(&key_values(&reader_args), &mut cx.warnings)?;

    let mut parsed = Vec::with_capacity(records.len());
    for (number, (line, text)) in records.iter().enumerate() {
        let mut record = reader.read(number + 1, text).map_err(|kind| Failure::Record(*line, kind))?;
        record.line = *line;
        parsed.push(record);
    }
    Ok(Command::Produce(Produce {
        topic,
        acks,
        compression,
        sync: m.has("sync"),
        producer_properties,
        reader,
        records: parsed,
    }))
}

/// The values of a deprecated option or of its 4.x replacement, refusing both together.
fn either<'m>(m: &'m Matches, old: &str, new: &str) -> Result<Vec<&'m str>, ErrorKind> {
    if m.has(old) && m.has(new) {
        return Err(ErrorKind::Tool(format!("Options --{old} and --{new} cannot be specified together.")));
    }
    Ok(if m.has(new) { m.values(new) } else { m.values(old) })
}
