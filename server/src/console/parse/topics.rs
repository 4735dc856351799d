//! `kafka-topics.sh`, read as `org.apache.kafka.tools.TopicCommand` (Kafka 4.x) reads it: the same
//! options, the checks of `TopicCommandOptions.checkArgs` in their order, and the client-side
//! checks of `TopicService.createTopic`.

use super::{Command, Context};
use crate::console::error::ErrorKind;
use crate::console::options::{Matches, OptSpec, flag, missing_required, value, values};
use crate::console::suggest;

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("bootstrap-server"),
    value("command-config"),
    flag("list"),
    flag("create"),
    flag("delete"),
    flag("alter"),
    flag("describe"),
    value("topic"),
    value("topic-id"),
    values("config"),
    values("delete-config"),
    value("partitions"),
    value("replication-factor"),
    value("replica-assignment"),
    flag("under-replicated-partitions"),
    flag("unavailable-partitions"),
    flag("under-min-isr-partitions"),
    flag("at-min-isr-partitions"),
    flag("topics-with-overrides"),
    flag("if-exists"),
    flag("if-not-exists"),
    flag("exclude-internal"),
    value("partition-size-limit-per-response"),
    flag("help"),
    flag("version"),
];

/// `--create`. Partitions and replication factor left out use the broker's defaults
/// (`num.partitions`, `default.replication.factor`), as the real tool lets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicsCreate {
    pub topic: String,
    pub partitions: Option<i32>,
    pub replication_factor: Option<i16>,
    /// `--replica-assignment 0:1,1:2`: the brokers of each partition, partition by partition.
    pub replica_assignment: Option<Vec<Vec<i32>>>,
    /// `--config name=value`, in order.
    pub configs: Vec<(String, String)>,
    /// `--if-not-exists`: an existing topic is not an error.
    pub if_not_exists: bool,
}

/// `--list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicsList {
    /// `--topic`: a regular expression the names must match, like the real tool's `IncludeList`.
    pub topic: Option<String>,
    /// `--exclude-internal`: hide `__consumer_offsets` and friends.
    pub exclude_internal: bool,
}

/// `--describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicsDescribe {
    /// A regular expression as for `--list`; `None` describes every topic.
    pub topic: Option<String>,
    /// `--topic-id`, used instead of `--topic` when both are given.
    pub topic_id: Option<String>,
    /// `--if-exists`: a missing topic prints nothing instead of an error.
    pub if_exists: bool,
    pub exclude_internal: bool,
    pub reports: PartitionReports,
}

/// The `--describe` filters: which partitions (and whether topic lines) are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionReports {
    /// `--under-replicated-partitions`: fewer in-sync replicas than replicas.
    pub under_replicated: bool,
    /// `--unavailable-partitions`: no leader, or a leader that is not alive.
    pub unavailable: bool,
    /// `--under-min-isr-partitions`: fewer in-sync replicas than `min.insync.replicas`.
    pub under_min_isr: bool,
    /// `--at-min-isr-partitions`: exactly `min.insync.replicas` in-sync replicas.
    pub at_min_isr: bool,
    /// `--topics-with-overrides`: only topics with non-default configs, and no partition lines.
    pub topics_with_overrides: bool,
}

impl PartitionReports {
    /// Whether any partition filter is on, in which case the topic lines are not printed.
    pub fn any_partition_filter(&self) -> bool {
        self.under_replicated || self.unavailable || self.under_min_isr || self.at_min_isr
    }
}

/// `--alter`: grow a topic to `partitions` partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicsAlter {
    /// A regular expression: every matching topic is altered.
    pub topic: String,
    pub partitions: i32,
    pub replica_assignment: Option<Vec<Vec<i32>>>,
    pub if_exists: bool,
}

/// `--delete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicsDelete {
    /// A regular expression: every matching topic is deleted.
    pub topic: String,
    pub if_exists: bool,
}

/// The actions, in the order of `TopicCommandOptions.allTopicLevelOpts`.
const ACTIONS: [&str; 5] = ["alter", "create", "describe", "list", "delete"];
const REPORTS: [&str; 4] =
    ["under-replicated-partitions", "under-min-isr-partitions", "at-min-isr-partitions", "unavailable-partitions"];
/// `TopicCommandOptions.KAFKA_CONFIGS_CLI_SUPPORTS_ALTERING_TOPIC_CONFIGS`.
const USE_KAFKA_CONFIGS: &str = " (To alter topic configurations, the kafka-configs tool can be used.)";

/// Topic-level config names (`LogConfig.nonInternalConfigNames`, Kafka 4.x), for the client-side
/// check `--config` goes through (`LogConfig.validate`).
const TOPIC_CONFIGS: &[&str] = &[
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
];

pub(crate) fn build(m: &Matches, cx: &mut Context) -> Result<Command, ErrorKind> {
    check_args(m, cx)?;
    let if_exists = m.has("if-exists");
    let exclude_internal = m.has("exclude-internal");
    if m.has("create") {
        let topic = m.required("topic")?.to_string();
        if topic.contains(['.', '_']) {
            // TopicService.createTopic prints this before sending the request (Topic.hasCollisionChars).
            cx.warnings.push(
                "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') \
                 could collide. To avoid issues it is best to use either, but not both."
                    .to_string(),
            );
        }
        let replication_factor = match m.parsed::<i32>("replication-factor")? {
            Some(rf) if !(1..=i32::from(i16::MAX)).contains(&rf) => {
                return Err(ErrorKind::Tool(format!(
                    "The replication factor must be between 1 and {} inclusive",
                    i16::MAX
                )));
            }
            rf => rf.and_then(|rf| i16::try_from(rf).ok()),
        };
        let partitions = m.parsed::<i32>("partitions")?;
        if partitions.is_some_and(|p| p < 1) {
            return Err(ErrorKind::Tool("The partitions must be greater than 0".into()));
        }
        return Ok(Command::TopicsCreate(TopicsCreate {
            topic,
            partitions,
            replication_factor,
            replica_assignment: replica_assignment(m)?,
            configs: topic_configs(m)?,
            if_not_exists: m.has("if-not-exists"),
        }));
    }
    if m.has("list") {
        let topic = m.value("topic")?.map(str::to_string);
        return Ok(Command::TopicsList(TopicsList { topic, exclude_internal }));
    }
    if m.has("describe") {
        let reports = PartitionReports {
            under_replicated: m.has("under-replicated-partitions"),
            unavailable: m.has("unavailable-partitions"),
            under_min_isr: m.has("under-min-isr-partitions"),
            at_min_isr: m.has("at-min-isr-partitions"),
            topics_with_overrides: m.has("topics-with-overrides"),
        };
        return Ok(Command::TopicsDescribe(TopicsDescribe {
            topic: m.value("topic")?.map(str::to_string),
            topic_id: m.value("topic-id")?.map(str::to_string),
            if_exists,
            exclude_internal,
            reports,
        }));
    }
    let topic = m.required("topic")?.to_string();
    if m.has("alter") {
        let partitions = m.parsed::<i32>("partitions")?.ok_or_else(|| missing_required("partitions"))?;
        return Ok(Command::TopicsAlter(TopicsAlter {
            topic,
            partitions,
            replica_assignment: replica_assignment(m)?,
            if_exists,
        }));
    }
    Ok(Command::TopicsDelete(TopicsDelete { topic, if_exists }))
}

/// `TopicCommandOptions.checkArgs`, `checkRequiredArgs` and `checkInvalidArgs`, in order.
fn check_args(m: &Matches, cx: &mut Context) -> Result<(), ErrorKind> {
    if ACTIONS.iter().filter(|action| m.has(action)).count() != 1 {
        return Err(ErrorKind::Tool(
            "Command must include exactly one action: --list, --describe, --create, --alter or --delete".into(),
        ));
    }
    if m.has("delete-config") {
        cx.warnings.push(
            "delete-config option is no longer supported and deprecated since version 4.0. The config will be \
             fully removed in future releases."
                .to_string(),
        );
    }

    // checkRequiredArgs (--bootstrap-server is optional in the console).
    if m.has("describe") && m.has("if-exists") && !m.has("topic") && !m.has("topic-id") {
        return Err(ErrorKind::Tool("--topic or --topic-id is required to describe a topic".into()));
    }
    if !m.has("list") && !m.has("describe") {
        m.required("topic")?;
    }
    if m.has("alter") {
        if m.has("config") {
            return Err(ErrorKind::Tool(format!(
                "Option combination \"[bootstrap-server, config]\" can't be used with option \"[alter]\"{USE_KAFKA_CONFIGS}"
            )));
        }
        if !m.has("partitions") {
            return Err(missing_required("partitions"));
        }
    }

    // checkInvalidArgs
    m.check_invalid("config", &actions_but(&["alter", "create"]))?;
    m.check_invalid("partitions", &actions_but(&["alter", "create"]))?;
    m.check_invalid("replication-factor", &actions_but(&["create"]))?;
    m.check_invalid("replica-assignment", &actions_but(&["alter", "create"]))?;
    if m.has("create") {
        m.check_invalid("replica-assignment", &["partitions", "replication-factor"])?;
    }
    for report in REPORTS {
        let mut invalid = actions_but(&["describe"]);
        invalid.push("topics-with-overrides");
        m.check_invalid(report, &invalid)?;
    }
    let mut invalid = actions_but(&["describe"]);
    invalid.extend(REPORTS);
    m.check_invalid("topics-with-overrides", &invalid)?;
    m.check_invalid("if-exists", &actions_but(&["alter", "delete", "describe"]))?;
    m.check_invalid("if-not-exists", &actions_but(&["create"]))?;
    m.check_invalid("exclude-internal", &actions_but(&["list", "describe"]))?;
    Ok(())
}

fn actions_but(allowed: &[&str]) -> Vec<&'static str> {
    ACTIONS.into_iter().filter(|action| !allowed.contains(action)).collect()
}

/// `TopicCommand.parseTopicConfigsToBeAdded`: `name=value` split on `=` with blanks around it, then
/// `LogConfig.validate`'s name check.
fn topic_configs(m: &Matches) -> Result<Vec<(String, String)>, ErrorKind> {
    let mut configs = Vec::new();
    for config in m.values("config") {
        let mut parts: Vec<&str> = config.split('=').map(str::trim).collect();
        // Java's String.split drops trailing empty strings: `retention.ms=` has one part.
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        let [name, value] = parts[..] else {
            return Err(ErrorKind::Tool(
                "requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\"."
                    .into(),
            ));
        };
        if !TOPIC_CONFIGS.contains(&name) {
            let hint = suggest::nearest(name, TOPIC_CONFIGS.iter().copied())
                .map(|known| format!(" (did you mean {known}?)"))
                .unwrap_or_default();
            return Err(ErrorKind::Tool(format!("Unknown topic config name: {name}{hint}")));
        }
        configs.push((name.to_string(), value.to_string()));
    }
    Ok(configs)
}

/// `TopicCommand.parseReplicaAssignment`: `0:1,1:2` is partition 0 on brokers 0 and 1, partition 1
/// on brokers 1 and 2.
fn replica_assignment(m: &Matches) -> Result<Option<Vec<Vec<i32>>>, ErrorKind> {
    let Some(text) = m.value("replica-assignment")?.filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let mut assignment: Vec<Vec<i32>> = Vec::new();
    for (partition, brokers) in text.split(',').enumerate() {
        let mut list = Vec::new();
        for broker in brokers.split(':').map(str::trim) {
            let id: i32 = broker.parse().map_err(|_| ErrorKind::Tool(format!("For input string: \"{broker}\"")))?;
            list.push(id);
        }
        let mut duplicates: Vec<String> = Vec::new();
        for (i, id) in list.iter().enumerate() {
            if list[..i].contains(id) && !duplicates.contains(&id.to_string()) {
                duplicates.push(id.to_string());
            }
        }
        if !duplicates.is_empty() {
            return Err(ErrorKind::Tool(format!(
                "Partition replica lists may not contain duplicate entries: {}",
                duplicates.join(",")
            )));
        }
        if assignment.first().is_some_and(|first| first.len() != list.len()) {
            let shown: Vec<String> = list.iter().map(i32::to_string).collect();
            return Err(ErrorKind::Tool(format!(
                "Partition {partition} has different replication factor: [{}]",
                shown.join(", ")
            )));
        }
        assignment.push(list);
    }
    Ok(Some(assignment))
}
