//! `kafka-console-consumer.sh`, read as `org.apache.kafka.tools.consumer.ConsoleConsumerOptions`
//! reads its options, with the formatter settings of `DefaultMessageFormatter.configure`.
//!
//! Kafka 4.2 renamed `--property` to `--formatter-property`, `--consumer-property` to
//! `--command-property` and `--consumer.config` to `--command-config`; both spellings work, without
//! 4.2's deprecation notices (every tutorial still writes `--property`, as 3.x and 4.0 did).

use super::producer::unknown_property_warning;
use super::{Command, Context, java_bool, key_values};
use crate::console::error::ErrorKind;
use crate::console::options::{Matches, OptSpec, flag, value, values};

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("topic"),
    value("include"),
    value("partition"),
    value("offset"),
    values("consumer-property"),
    values("command-property"),
    value("consumer.config"),
    value("command-config"),
    value("formatter"),
    values("property"),
    values("formatter-property"),
    value("formatter-config"),
    flag("from-beginning"),
    value("max-messages"),
    value("timeout-ms"),
    flag("skip-message-on-error"),
    value("bootstrap-server"),
    value("key-deserializer"),
    value("value-deserializer"),
    flag("enable-systest-events"),
    value("isolation-level"),
    value("group"),
    flag("help"),
    flag("version"),
];

/// `kafka-console-consumer.sh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consume {
    pub subscription: Subscription,
    /// `--partition`: read that partition directly (assign, no group rebalance).
    pub partition: Option<i32>,
    /// Where an assigned `--partition` starts: `--offset`, else earliest with `--from-beginning`,
    /// else latest (`ConsoleConsumerOptions.parseOffset`).
    pub offset: OffsetSpec,
    /// `--from-beginning`: with a subscription, `auto.offset.reset=earliest` (used only when the
    /// group has no committed offset, as in the real tool).
    pub from_beginning: bool,
    /// `--group`, or `group.id` from `--consumer-property`. `None`: the real tool makes up
    /// `console-consumer-<random>` and does not commit.
    pub group: Option<String>,
    /// `--max-messages`: stop after that many records. `None` reads until the timeout.
    pub max_messages: Option<i32>,
    /// `--timeout-ms`: stop when no record came for that long.
    pub timeout_ms: Option<i64>,
    /// How each record is printed.
    pub format: MessageFormat,
    pub isolation_level: IsolationLevel,
    /// `--consumer-property` / `--command-property` pairs, in order.
    pub consumer_properties: Vec<(String, String)>,
    pub skip_message_on_error: bool,
}

/// What the consumer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// `--topic`.
    Topic(String),
    /// `--include`: every topic whose name matches this regular expression.
    Include(String),
}

/// Where reading an assigned partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
    Offset(i64),
}

/// `isolation.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    ReadUncommitted,
    ReadCommitted,
}

/// `DefaultMessageFormatter`'s settings (the `--property` / `--formatter-property` pairs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFormat {
    pub print_timestamp: bool,
    pub print_key: bool,
    /// Default true.
    pub print_value: bool,
    pub print_partition: bool,
    pub print_offset: bool,
    pub print_delivery: bool,
    pub print_headers: bool,
    /// Between the printed fields; default a tab.
    pub key_separator: String,
    /// After each record; default a newline.
    pub line_separator: String,
    /// Between headers; default `,`.
    pub headers_separator: String,
    /// Printed for a null key or value; default `null`.
    pub null_literal: String,
    pub key_deserializer: Deserializer,
    pub value_deserializer: Deserializer,
    pub headers_deserializer: Deserializer,
}

impl Default for MessageFormat {
    fn default() -> Self {
        MessageFormat {
            print_timestamp: false,
            print_key: false,
            print_value: true,
            print_partition: false,
            print_offset: false,
            print_delivery: false,
            print_headers: false,
            key_separator: "\t".into(),
            line_separator: "\n".into(),
            headers_separator: ",".into(),
            null_literal: "null".into(),
            key_deserializer: Deserializer::Bytes,
            value_deserializer: Deserializer::Bytes,
            headers_deserializer: Deserializer::Bytes,
        }
    }
}

/// How a key, value or header is turned into text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deserializer {
    /// No deserializer, or `StringDeserializer`: the bytes as UTF-8 text.
    Bytes,
    /// `LongDeserializer`: 8 bytes, big-endian (Kafka Streams' counts).
    Long,
    /// `IntegerDeserializer`: 4 bytes, big-endian.
    Integer,
    /// `ShortDeserializer`: 2 bytes, big-endian.
    Short,
}

impl Deserializer {
    /// The class named in `key.deserializer` and friends; the simple name is enough here.
    fn from_class(name: &str) -> Option<Deserializer> {
        match name.trim().rsplit('.').next().unwrap_or(name) {
            "StringDeserializer" | "ByteArrayDeserializer" | "BytesDeserializer" => Some(Deserializer::Bytes),
            "LongDeserializer" => Some(Deserializer::Long),
            "IntegerDeserializer" => Some(Deserializer::Integer),
            "ShortDeserializer" => Some(Deserializer::Short),
            _ => None,
        }
    }
}

/// The properties `DefaultMessageFormatter.configure` and `ConsoleConsumerOptions` know.
const FORMATTER_PROPERTIES: &[&str] = &[
    "print.timestamp",
    "print.key",
    "print.offset",
    "print.delivery",
    "print.partition",
    "print.headers",
    "print.value",
    "key.separator",
    "line.separator",
    "headers.separator",
    "null.literal",
    "key.deserializer",
    "value.deserializer",
    "headers.deserializer",
];

/// The formatter class names that mean the default formatter (3.x and 4.x packages).
const DEFAULT_FORMATTERS: &[&str] = &[
    "kafka.tools.DefaultMessageFormatter",
    "org.apache.kafka.tools.consumer.DefaultMessageFormatter",
    "DefaultMessageFormatter",
];

pub(crate) fn build(m: &Matches, cx: &mut Context) -> Result<Command, ErrorKind> {
    // checkRequiredArgs
    let topic = m.value("topic")?;
    let include = m.value("include")?;
    let subscription = match (topic, include) {
        (Some(topic), None) => Subscription::Topic(topic.to_string()),
        (None, Some(include)) => Subscription::Include(include.to_string()),
        _ => {
            return Err(ErrorKind::Tool(
                "Exactly one of the following arguments is required: [topic], [include]".into(),
            ));
        }
    };
    let partition = m.parsed::<i32>("partition")?;
    let from_beginning = m.has("from-beginning");
    if partition.is_some() {
        if topic.is_none() {
            return Err(ErrorKind::Tool("The topic is required when partition is specified.".into()));
        }
        if from_beginning && m.has("offset") {
            return Err(ErrorKind::Tool("Options from-beginning and offset cannot be specified together.".into()));
        }
    } else if m.has("offset") {
        return Err(ErrorKind::Tool("The partition is required when offset is specified.".into()));
    }

    let consumer_args = match (m.has("consumer-property"), m.has("command-property")) {
        (true, true) => {
            return Err(ErrorKind::Tool(
                "Options --consumer-property and --command-property cannot be specified together.".into(),
            ));
        }
        (true, false) => m.values("consumer-property"),
        _ => m.values("command-property"),
    };
    let consumer_properties = key_values(&consumer_args);

    // checkConsumerGroup: every way of naming the group must agree.
    let mut groups: Vec<&str> = m.value("group")?.into_iter().collect();
    for (key, value) in &consumer_properties {
        if key == "group.id" && !groups.contains(&value.as_str()) {
            groups.push(value);
        }
    }
    if groups.len() > 1 {
        let detected: Vec<String> = groups.iter().map(|group| format!("'{group}'")).collect();
        return Err(ErrorKind::Tool(format!(
            "The group ids provided in different places (directly using '--group', via '--consumer-property', or \
             via '--consumer.config') do not match. Detected group ids: {}",
            detected.join(", ")
        )));
    }
    if !groups.is_empty() && partition.is_some() {
        return Err(ErrorKind::Tool("Options group and partition cannot be specified together.".into()));
    }
    let group = groups.first().map(|group| group.to_string());

    // setAutoOffsetResetValue
    if let Some((_, reset)) = consumer_properties.iter().rev().find(|(key, _)| key == "auto.offset.reset")
        && from_beginning
        && reset != "earliest"
    {
        return Err(ErrorKind::Tool(format!(
            "Can't simultaneously specify --from-beginning and 'auto.offset.reset={reset}', please remove one option"
        )));
    }

    let offset = match m.value("offset")? {
        Some(text) => match text.to_ascii_lowercase().as_str() {
            "earliest" => OffsetSpec::Earliest,
            "latest" => OffsetSpec::Latest,
            _ => match text.parse::<i64>() {
                Ok(offset) if offset >= 0 => OffsetSpec::Offset(offset),
                _ => {
                    return Err(ErrorKind::Tool(format!(
                        "The provided offset value '{text}' is incorrect. Valid values are 'earliest', 'latest', or \
                         a non-negative long."
                    )));
                }
            },
        },
        None if from_beginning => OffsetSpec::Earliest,
        None => OffsetSpec::Latest,
    };

    let isolation_level = match m.value("isolation-level")?.unwrap_or("read_uncommitted") {
        "read_uncommitted" => IsolationLevel::ReadUncommitted,
        "read_committed" => IsolationLevel::ReadCommitted,
        other => {
            return Err(ErrorKind::Tool(format!(
                "Invalid value {other} for configuration isolation.level: String must be one of: read_committed, \
                 read_uncommitted"
            )));
        }
    };

    if let Some(formatter) = m.value("formatter")?
        && !DEFAULT_FORMATTERS.contains(&formatter)
    {
        return Err(ErrorKind::Unsupported {
            what: format!("--formatter {formatter}"),
            hint: "records are printed by DefaultMessageFormatter; shape them with --property print.key=true ..."
                .into(),
        });
    }

    Ok(Command::Consume(Box::new(Consume {
        subscription,
        partition,
        offset,
        from_beginning,
        group,
        // -1 is the tool's "no limit".
        max_messages: m.parsed::<i32>("max-messages")?.filter(|max| *max != -1),
        timeout_ms: m.parsed::<i64>("timeout-ms")?.filter(|timeout| *timeout >= 0),
        format: message_format(m, cx)?,
        isolation_level,
        consumer_properties,
        skip_message_on_error: m.has("skip-message-on-error"),
    })))
}

/// `ConsoleConsumerOptions.formatterArgs` then `DefaultMessageFormatter.configure`.
fn message_format(m: &Matches, cx: &mut Context) -> Result<MessageFormat, ErrorKind> {
    let args = match (m.has("property"), m.has("formatter-property")) {
        (true, true) => {
            return Err(ErrorKind::Tool(
                "Options --property and --formatter-property cannot be specified together.".into(),
            ));
        }
        (true, false) => m.values("property"),
        _ => m.values("formatter-property"),
    };
    let mut properties = Vec::new();
    if let Some(class) = m.value("key-deserializer")?.filter(|class| !class.is_empty()) {
        properties.push(("key.deserializer".to_string(), class.to_string()));
    }
    if let Some(class) = m.value("value-deserializer")?.filter(|class| !class.is_empty()) {
        properties.push(("value.deserializer".to_string(), class.to_string()));
    }
    properties.extend(key_values(&args));

    let mut format = MessageFormat::default();
    for (key, value) in &properties {
        match key.as_str() {
            "print.timestamp" => format.print_timestamp = java_bool(value),
            "print.key" => format.print_key = java_bool(value),
            "print.offset" => format.print_offset = java_bool(value),
            "print.delivery" => format.print_delivery = java_bool(value),
            "print.partition" => format.print_partition = java_bool(value),
            "print.headers" => format.print_headers = java_bool(value),
            "print.value" => format.print_value = java_bool(value),
            "key.separator" => format.key_separator.clone_from(value),
            "line.separator" => format.line_separator.clone_from(value),
            "headers.separator" => format.headers_separator.clone_from(value),
            "null.literal" => format.null_literal.clone_from(value),
            "key.deserializer" | "value.deserializer" | "headers.deserializer" => {
                let deserializer = match Deserializer::from_class(value) {
                    Some(deserializer) => deserializer,
                    None => {
                        // The real formatter logs "Unable to instantiate a deserializer" and prints
                        // the bytes; the console knows fewer classes, so it says which.
                        cx.warnings.push(format!(
                            "warning: {key}={value} is not available in the console (String, Long, Integer and \
                             Short deserializers are); printing the bytes as text"
                        ));
                        Deserializer::Bytes
                    }
                };
                match key.as_str() {
                    "key.deserializer" => format.key_deserializer = deserializer,
                    "value.deserializer" => format.value_deserializer = deserializer,
                    _ => format.headers_deserializer = deserializer,
                }
            }
            // Deserializer settings (`value.deserializer.encoding`...) go to the deserializer.
            other
                if other.starts_with("key.deserializer.")
                    || other.starts_with("value.deserializer.")
                    || other.starts_with("headers.deserializer.") => {}
            other => cx.warnings.push(unknown_property_warning(other, FORMATTER_PROPERTIES, "formatter")),
        }
    }
    Ok(format)
}
