//! `kafka-console-consumer.sh`: each record as `DefaultMessageFormatter` prints it, and the summary line.

use super::FormatError;
use crate::console::parse::{Deserializer, MessageFormat};

/// A record as the console consumer received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: RecordTimestamp,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A record's timestamp and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordTimestamp {
    CreateTime(i64),
    LogAppendTime(i64),
    /// Records from before message format v1.
    None,
}

/// One record as `DefaultMessageFormatter.writeTo` prints it: the enabled fields in the order
/// timestamp, partition, offset, delivery, headers, key, value, each followed by `key.separator`
/// (the last by `line.separator`).
///
/// # Errors
///
/// A key or value that its deserializer cannot read (a `LongDeserializer` on text), with the
/// deserializer's message; the real consumer stops there.
pub fn console_record(record: &ConsumedRecord, format: &MessageFormat) -> Result<String, FormatError> {
    let mut out = String::new();
    let separator = |out: &mut String, column: bool| {
        out.push_str(if column { &format.key_separator } else { &format.line_separator });
    };
    let f = format;
    if f.print_timestamp {
        match record.timestamp {
            RecordTimestamp::CreateTime(ms) => out.push_str(&format!("CreateTime:{ms}")),
            RecordTimestamp::LogAppendTime(ms) => out.push_str(&format!("LogAppendTime:{ms}")),
            RecordTimestamp::None => out.push_str("NO_TIMESTAMP"),
        }
        separator(
            &mut out,
            f.print_partition || f.print_offset || f.print_delivery || f.print_headers || f.print_key || f.print_value,
        );
    }
    if f.print_partition {
        out.push_str(&format!("Partition:{}", record.partition));
        separator(&mut out, f.print_offset || f.print_delivery || f.print_headers || f.print_key || f.print_value);
    }
    if f.print_offset {
        out.push_str(&format!("Offset:{}", record.offset));
        separator(&mut out, f.print_delivery || f.print_headers || f.print_key || f.print_value);
    }
    if f.print_delivery {
        // The console consumer hands the formatter no delivery count.
        out.push_str("Delivery:NONE");
        separator(&mut out, f.print_headers || f.print_key || f.print_value);
    }
    if f.print_headers {
        if record.headers.is_empty() {
            out.push_str("NO_HEADERS");
        } else {
            let mut headers = Vec::with_capacity(record.headers.len());
            for (key, value) in &record.headers {
                headers.push(format!("{key}:{}", deserialize(value.as_deref(), &f.headers_deserializer, f)?));
            }
            out.push_str(&headers.join(&f.headers_separator));
        }
        separator(&mut out, f.print_key || f.print_value);
    }
    if f.print_key {
        out.push_str(&deserialize(record.key.as_deref(), &f.key_deserializer, f)?);
        separator(&mut out, f.print_value);
    }
    if f.print_value {
        out.push_str(&deserialize(record.value.as_deref(), &f.value_deserializer, f)?);
        out.push_str(&f.line_separator);
    }
    Ok(out)
}

/// `DefaultMessageFormatter.deserialize`: a null becomes `null.literal`'s bytes *before* the
/// deserializer runs, as in the real formatter.
fn deserialize(
    bytes: Option<&[u8]>,
    deserializer: &Deserializer,
    format: &MessageFormat,
) -> Result<String, FormatError> {
    let bytes = bytes.unwrap_or(format.null_literal.as_bytes());
    let fixed = |name: &str, size: usize| -> Result<&[u8], FormatError> {
        if bytes.len() == size {
            Ok(bytes)
        } else {
            Err(FormatError(format!(
                "org.apache.kafka.common.errors.SerializationException: Size of data received by {name} is not {size}"
            )))
        }
    };
    Ok(match deserializer {
        Deserializer::Bytes => String::from_utf8_lossy(bytes).into_owned(),
        Deserializer::Long => {
            let b = fixed("LongDeserializer", 8)?;
            i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]).to_string()
        }
        Deserializer::Integer => {
            let b = fixed("IntegerDeserializer", 4)?;
            i32::from_be_bytes([b[0], b[1], b[2], b[3]]).to_string()
        }
        Deserializer::Short => {
            let b = fixed("ShortDeserializer", 2)?;
            i16::from_be_bytes([b[0], b[1]]).to_string()
        }
    })
}

/// What the console consumer prints when it stops (`ConsoleConsumer.reportRecordCount`, stderr).
pub fn console_consumer_summary(messages: usize) -> String {
    format!("Processed a total of {messages} messages\n")
}
