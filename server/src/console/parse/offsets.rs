//! `kafka-get-offsets.sh`, read as `org.apache.kafka.tools.GetOffsetShell` reads it: `--topic`
//! with `--partitions`, or `--topic-partitions` patterns, and `--time`.

use super::{Command, Context};
use crate::console::error::ErrorKind;
use crate::console::options::{Matches, OptSpec, flag, value};

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("bootstrap-server"),
    value("topic-partitions"),
    value("topic"),
    value("partitions"),
    value("time"),
    value("command-config"),
    flag("exclude-internal-topics"),
    flag("help"),
    flag("version"),
];

/// `kafka-get-offsets.sh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetOffsets {
    /// Which partitions: a partition is listed when any rule allows it.
    pub rules: Vec<TopicPartitionRule>,
    pub time: OffsetTime,
    /// `--exclude-internal-topics`.
    pub exclude_internal: bool,
}

/// One `--topic-partitions` pattern, or `--topic` with `--partitions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPartitionRule {
    /// A regular expression for topic names (the real tool's `IncludeList`); `None` is any topic.
    pub topic: Option<String>,
    pub partitions: PartitionFilter,
}

/// The partitions a rule allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionFilter {
    All,
    /// `--partitions 0,2` or `orders:1`.
    Set(Vec<i32>),
    /// `orders:1-3` (1 and 2), `orders:2-` or `orders:-3`: lower inclusive, upper exclusive.
    Range {
        lower: i32,
        upper: i32,
    },
}

impl PartitionFilter {
    pub fn allows(&self, partition: i32) -> bool {
        match self {
            PartitionFilter::All => true,
            PartitionFilter::Set(partitions) => partitions.contains(&partition),
            PartitionFilter::Range { lower, upper } => (*lower..*upper).contains(&partition),
        }
    }
}

/// `--time`: which offset of each partition (`GetOffsetShell.parseOffsetSpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetTime {
    /// `latest` / `-1` (the default): the log end offset.
    Latest,
    /// `earliest` / `-2`: the log start offset.
    Earliest,
    /// `max-timestamp` / `-3`: the offset of the record with the highest timestamp.
    MaxTimestamp,
    /// `earliest-local` / `-4` (tiered storage).
    EarliestLocal,
    /// `latest-tiered` / `-5` (tiered storage).
    LatestTiered,
    /// `earliest-pending-upload` / `-6` (tiered storage).
    EarliestPendingUpload,
    /// A timestamp in ms: the first offset whose timestamp is at or after it.
    Timestamp(i64),
}

impl OffsetTime {
    /// The `timestamp` of a ListOffsets request partition.
    pub fn list_offsets_timestamp(self) -> i64 {
        match self {
            OffsetTime::Latest => -1,
            OffsetTime::Earliest => -2,
            OffsetTime::MaxTimestamp => -3,
            OffsetTime::EarliestLocal => -4,
            OffsetTime::LatestTiered => -5,
            OffsetTime::EarliestPendingUpload => -6,
            OffsetTime::Timestamp(ms) => ms,
        }
    }
}

pub(crate) fn build(m: &Matches, _cx: &mut Context) -> Result<Command, ErrorKind> {
    if m.has("topic-partitions") && (m.has("topic") || m.has("partitions")) {
        return Err(ErrorKind::Tool("--topic-partitions cannot be used with --topic or --partitions".into()));
    }
    let time = parse_time(m.value("time")?.unwrap_or("latest"))?;
    let rules = match m.value("topic-partitions")? {
        Some(patterns) => patterns.split(',').map(parse_rule).collect::<Result<_, _>>()?,
        None => {
            let partitions = match m.value("partitions")?.filter(|text| !text.is_empty()) {
                None => PartitionFilter::All,
                Some(text) => PartitionFilter::Set(
                    text.split(',').map(|id| id.parse::<i32>()).collect::<Result<_, _>>().map_err(|_| {
                        ErrorKind::Tool(format!(
                            "--partitions expects a comma separated list of numeric partition ids, but received: {text}"
                        ))
                    })?,
                ),
            };
            vec![TopicPartitionRule { topic: m.value("topic")?.map(str::to_string), partitions }]
        }
    };
    Ok(Command::GetOffsets(GetOffsets { rules, time, exclude_internal: m.has("exclude-internal-topics") }))
}

fn parse_time(text: &str) -> Result<OffsetTime, ErrorKind> {
    Ok(match text {
        "latest" | "-1" => OffsetTime::Latest,
        "earliest" | "-2" => OffsetTime::Earliest,
        "max-timestamp" | "-3" => OffsetTime::MaxTimestamp,
        "earliest-local" | "-4" => OffsetTime::EarliestLocal,
        "latest-tiered" | "-5" => OffsetTime::LatestTiered,
        "earliest-pending-upload" | "-6" => OffsetTime::EarliestPendingUpload,
        _ => OffsetTime::Timestamp(text.parse().map_err(|_| {
            ErrorKind::Tool(format!(
                "Malformed time argument {text}. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 \
                 or earliest-local / -5 or latest-tiered / -6 or earliest-pending-upload, or a specified long format \
                 timestamp"
            ))
        })?),
    })
}

/// `GetOffsetShell.parseRuleSpec` against `([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?`.
fn parse_rule(spec: &str) -> Result<TopicPartitionRule, ErrorKind> {
    let invalid = || ErrorKind::Tool(format!("Invalid rule specification: {spec}"));
    let (topic, partitions) = match spec.split_once(':') {
        None => (spec, None),
        Some((topic, partitions)) => (topic, Some(partitions)),
    };
    let digits = |text: &str| text.bytes().all(|b| b.is_ascii_digit());
    let number = |text: &str, default: i32| -> Result<i32, ErrorKind> {
        if text.is_empty() { Ok(default) } else { text.parse().map_err(|_| invalid()) }
    };
    let partitions = match partitions {
        None | Some("") => PartitionFilter::All,
        Some(one) if digits(one) => PartitionFilter::Set(vec![number(one, 0)?]),
        Some(range) => match range.split_once('-') {
            Some((lower, upper)) if digits(lower) && digits(upper) => {
                PartitionFilter::Range { lower: number(lower, 0)?, upper: number(upper, i32::MAX)? }
            }
            _ => return Err(invalid()),
        },
    };
    Ok(TopicPartitionRule { topic: (!topic.is_empty()).then(|| topic.to_string()), partitions })
}
