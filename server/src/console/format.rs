//! What the tools print, byte for byte like Apache Kafka 4.x, from plain structs the executor fills
//! from Kafka protocol responses.
//!
//! Every function returns the text the real tool writes, stdout and stderr in the order a terminal
//! shows them, ending with a newline when the tool's does. The layouts follow the Java sources
//! named on each function; where the tools iterate a `HashMap` (so their order is arbitrary) the
//! console sorts, and says so.

use std::fmt::Write as _;

use super::parse::{Deserializer, MessageFormat, PartitionReports};

/// A record or a quorum that cannot be printed the way the tool would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(String);

/// `ConsumerGroupCommand.MISSING_COLUMN_VALUE`.
const MISSING: &str = "-";

/// Java's `%-Ns`: `text` padded with spaces to `width` characters (never cut).
fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

fn or_missing<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| MISSING.to_string(), |v| v.to_string())
}

fn join_ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

// ---------------------------------------------------------------------------------------------
// kafka-topics.sh

/// `--create` succeeded (`TopicCommand.TopicService.createTopic`).
pub fn topic_created(topic: &str) -> String {
    format!("Created topic {topic}.\n")
}

/// `--list`: the names, sorted, one per line (`TopicService.listTopics`; with no topics the tool
/// prints one empty line).
pub fn topics_list(names: &[String]) -> String {
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_unstable();
    format!("{}\n", names.join("\n"))
}

/// A topic as `--describe` needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    pub name: String,
    /// The topic id in Kafka's base64 form; `None` (or the zero id) leaves the column out.
    pub topic_id: Option<String>,
    pub partitions: Vec<PartitionDescription>,
    /// The configs that are not defaults (`ConfigEntry.isDefault` false), as `name=value`.
    pub configs: Vec<(String, String)>,
    /// `min.insync.replicas` (default 1); only `--under-min-isr-partitions` and
    /// `--at-min-isr-partitions` read it.
    pub min_insync_replicas: usize,
}

/// One partition of a [`TopicDescription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionDescription {
    pub partition: i32,
    /// `None`: no leader (printed `none`).
    pub leader: Option<i32>,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    /// Eligible leader replicas (KIP-966); `None` when the broker does not report them (`N/A`).
    pub elr: Option<Vec<i32>>,
    pub last_known_elr: Option<Vec<i32>>,
}

/// The zero `Uuid` in base64, which `TopicCommand` never prints.
const ZERO_TOPIC_ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// `--describe`: per topic a summary line, then a line per partition
/// (`TopicCommand.TopicDescription.printDescription`, `PartitionDescription.printDescription`,
/// `DescribeOptions`). `reports` are the command's filters; `live_brokers` are the broker ids the
/// cluster reports alive (for `--unavailable-partitions`). Topics are sorted by name.
pub fn topics_describe(topics: &[TopicDescription], reports: &PartitionReports, live_brokers: &[i32]) -> String {
    let describe_configs = !reports.any_partition_filter();
    let describe_partitions = !reports.topics_with_overrides;
    let mut topics: Vec<&TopicDescription> = topics.iter().collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));

    let mut out = String::new();
    for topic in topics {
        let mut partitions: Vec<&PartitionDescription> = topic.partitions.iter().collect();
        partitions.sort_by_key(|p| p.partition);
        if describe_configs && (!reports.topics_with_overrides || !topic.configs.is_empty()) {
            let configs: Vec<String> = topic.configs.iter().map(|(name, value)| format!("{name}={value}")).collect();
            out.push_str(&format!("Topic: {}", topic.name));
            if let Some(id) = topic.topic_id.as_deref().filter(|id| *id != ZERO_TOPIC_ID) {
                out.push_str(&format!("\tTopicId: {id}"));
            }
            let replication_factor = partitions.first().map_or(0, |p| p.replicas.len());
            out.push_str(&format!(
                "\tPartitionCount: {}\tReplicationFactor: {replication_factor}\tConfigs: {}\n",
                partitions.len(),
                configs.join(",")
            ));
        }
        if !describe_partitions {
            continue;
        }
        for p in partitions {
            let shown = describe_configs
                || (reports.under_replicated && p.isr.len() < p.replicas.len())
                || (reports.unavailable && p.leader.is_none_or(|leader| !live_brokers.contains(&leader)))
                || (reports.under_min_isr && (p.leader.is_none() || p.isr.len() < topic.min_insync_replicas))
                || (reports.at_min_isr && p.isr.len() == topic.min_insync_replicas);
            if !shown {
                continue;
            }
            let leader = p.leader.map_or_else(|| "none".to_string(), |leader| leader.to_string());
            let elr = p.elr.as_deref().map_or_else(|| "N/A".to_string(), join_ids);
            let last_known_elr = p.last_known_elr.as_deref().map_or_else(|| "N/A".to_string(), join_ids);
            out.push_str(&format!(
                "\tTopic: {}\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}\tElr: {elr}\tLastKnownElr: {last_known_elr}\n",
                topic.name,
                p.partition,
                join_ids(&p.replicas),
                join_ids(&p.isr),
            ));
        }
    }
    out
}

/// A failure reported by the broker, such as `Topic 'orders' already exists.`
/// (`TopicCommand.printException`).
pub fn topics_error(message: &str) -> String {
    format!("Error while executing topic command : {message}\n")
}

/// `--alter`, `--delete` or `--describe --topic` of a topic that is not there, without
/// `--if-exists` (`TopicCommand.ensureTopicExists`).
pub fn topic_does_not_exist(topic: &str) -> String {
    format!("Topic '{topic}' does not exist as expected\n")
}

// ---------------------------------------------------------------------------------------------
// kafka-console-consumer.sh

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

// ---------------------------------------------------------------------------------------------
// kafka-consumer-groups.sh

/// A consumer group's state (`org.apache.kafka.common.GroupState`), printed as the tools print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Unknown,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
    Empty,
    Assigning,
    Reconciling,
}

impl GroupState {
    /// `GroupState.parse`: case-insensitive; `None` for names that are not states.
    pub fn parse(name: &str) -> Option<GroupState> {
        const ALL: [GroupState; 8] = [
            GroupState::Unknown,
            GroupState::PreparingRebalance,
            GroupState::CompletingRebalance,
            GroupState::Stable,
            GroupState::Dead,
            GroupState::Empty,
            GroupState::Assigning,
            GroupState::Reconciling,
        ];
        ALL.into_iter().find(|state| state.as_str().eq_ignore_ascii_case(name.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Unknown => "Unknown",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
            GroupState::Empty => "Empty",
            GroupState::Assigning => "Assigning",
            GroupState::Reconciling => "Reconciling",
        }
    }
}

/// A group's protocol (`org.apache.kafka.common.GroupType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupType {
    Unknown,
    /// The JoinGroup/SyncGroup protocol.
    Classic,
    /// KIP-848's ConsumerGroupHeartbeat protocol.
    Consumer,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Unknown => "Unknown",
            GroupType::Classic => "Classic",
            GroupType::Consumer => "Consumer",
        }
    }
}

/// `--list` without `--state` or `--type`: one group id per line, in the order given.
pub fn groups_list(groups: &[String]) -> String {
    groups.iter().map(|group| format!("{group}\n")).collect()
}

/// A group in `--list --state` / `--list --type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    pub group: String,
    pub group_type: Option<GroupType>,
    pub state: Option<GroupState>,
}

/// `--list --state` and/or `--type`: a table (`ConsumerGroupService.printGroupInfo`).
pub fn groups_list_table(groups: &[GroupListing], include_type: bool, include_state: bool) -> String {
    let group_width = groups.iter().map(|g| g.group.chars().count().max(15)).max().unwrap_or(15) + 10;
    let row = |id: &str, kind: &str, state: &str| {
        let mut line = pad(id, group_width);
        if include_type {
            line.push(' ');
            line.push_str(&pad(kind, 20));
        }
        if include_state {
            line.push(' ');
            line.push_str(&pad(state, 20));
        }
        line.push('\n');
        line
    };
    let mut out = row("GROUP", "TYPE", "STATE");
    for g in groups {
        out.push_str(&row(
            &g.group,
            g.group_type.unwrap_or(GroupType::Unknown).as_str(),
            g.state.unwrap_or(GroupState::Unknown).as_str(),
        ));
    }
    out
}

/// One row of `--describe` (offsets view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffsetRow {
    pub group: String,
    pub topic: Option<String>,
    pub partition: Option<i32>,
    /// The committed offset's leader epoch (`--verbose` only).
    pub leader_epoch: Option<i32>,
    /// The committed offset; `None` if the group has not committed on this partition.
    pub current_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    /// `None` (printed `-`) for partitions no member owns.
    pub consumer_id: Option<String>,
    pub host: Option<String>,
    pub client_id: Option<String>,
}

impl GroupOffsetRow {
    /// `ConsumerGroupService.getLag`: log end offset minus committed offset, when both are known.
    pub fn lag(&self) -> Option<i64> {
        let offset = self.current_offset.filter(|offset| *offset != -1)?;
        self.log_end_offset.map(|end| end - offset)
    }
}

/// A group for `--describe` (offsets view): its state, and its rows in the real tool's order:
/// members with the most partitions first, each member's partitions by topic then partition,
/// then the committed partitions no member owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    pub group: String,
    pub state: GroupState,
    pub rows: Vec<GroupOffsetRow>,
}

/// `ConsumerGroupService.shouldPrintMemberState`: the line about the group's state, and whether
/// its table follows.
fn member_state(out: &mut String, group: &str, state: GroupState, rows: usize) -> bool {
    match state {
        GroupState::Dead => out.push_str(&format!("\nError: Consumer group '{group}' does not exist.\n")),
        GroupState::Empty => out.push_str(&format!("\nConsumer group '{group}' has no active members.\n")),
        GroupState::PreparingRebalance
        | GroupState::CompletingRebalance
        | GroupState::Assigning
        | GroupState::Reconciling => out.push_str(&format!("\nWarning: Consumer group '{group}' is rebalancing.\n")),
        GroupState::Stable => {}
        GroupState::Unknown => {
            out.push_str(&format!(
                "\nError: Executing consumer group command failed due to Expected a valid consumer group state, but \
                 found '{}'.\n",
                state.as_str()
            ));
            return false;
        }
    }
    state != GroupState::Dead && rows > 0
}

/// `--describe` / `--describe --offsets` (`ConsumerGroupService.printOffsets`): groups sorted by
/// id, each table column-aligned, a blank line before it.
pub fn groups_describe_offsets(groups: &[GroupDescription], verbose: bool) -> String {
    let mut groups: Vec<&GroupDescription> = groups.iter().collect();
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    let mut out = String::new();
    for g in groups {
        if !member_state(&mut out, &g.group, g.state, g.rows.len()) {
            continue;
        }
        let width = |f: &dyn Fn(&GroupOffsetRow) -> usize| g.rows.iter().map(f).fold(15, usize::max);
        let group_w = width(&|r| r.group.chars().count());
        let topic_w = width(&|r| r.topic.as_deref().unwrap_or(MISSING).chars().count());
        let consumer_w = width(&|r| r.consumer_id.as_deref().unwrap_or(MISSING).chars().count());
        let host_w = width(&|r| r.host.as_deref().unwrap_or(MISSING).chars().count());

        let line = |cells: [&str; 10]| {
            let mut line = format!("\n{} {} {} ", pad(cells[0], group_w), pad(cells[1], topic_w), pad(cells[2], 10));
            if verbose {
                line.push_str(&pad(cells[3], 15));
                line.push(' ');
            }
            line.push_str(&format!(
                "{} {} {} {} {} {}",
                pad(cells[4], 15),
                pad(cells[5], 15),
                pad(cells[6], 15),
                pad(cells[7], consumer_w),
                pad(cells[8], host_w),
                cells[9]
            ));
            line
        };
        out.push_str(&line([
            "GROUP",
            "TOPIC",
            "PARTITION",
            "LEADER-EPOCH",
            "CURRENT-OFFSET",
            "LOG-END-OFFSET",
            "LAG",
            "CONSUMER-ID",
            "HOST",
            "CLIENT-ID",
        ]));
        for r in &g.rows {
            let cells = [
                or_missing(r.topic.as_deref()),
                or_missing(r.partition),
                or_missing(r.leader_epoch),
                or_missing(r.current_offset),
                or_missing(r.log_end_offset),
                or_missing(r.lag()),
                or_missing(r.consumer_id.as_deref()),
                or_missing(r.host.as_deref()),
                or_missing(r.client_id.as_deref()),
            ];
            out.push_str(&line([
                &r.group, &cells[0], &cells[1], &cells[2], &cells[3], &cells[4], &cells[5], &cells[6], &cells[7],
                &cells[8],
            ]));
        }
        out.push('\n');
    }
    out
}

/// A member for `--describe --members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub consumer_id: String,
    /// Static membership's `group.instance.id`.
    pub group_instance_id: Option<String>,
    pub host: String,
    pub client_id: String,
    /// The partitions the member owns.
    pub assignment: Vec<(String, i32)>,
    /// What the coordinator wants it to own (consumer protocol; `--verbose`).
    pub target_assignment: Vec<(String, i32)>,
    /// The member's epoch (consumer protocol; `--verbose`).
    pub member_epoch: Option<i32>,
}

/// A group for `--describe --members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembers {
    pub group: String,
    pub state: GroupState,
    pub members: Vec<GroupMember>,
    /// The group's target assignment epoch (consumer protocol; `--verbose`).
    pub target_assignment_epoch: Option<i32>,
}

/// `orders:0,1;payments:2` (`ConsumerGroupService.getAssignmentString`).
fn assignment_string(assignment: &[(String, i32)]) -> String {
    if assignment.is_empty() {
        return MISSING.to_string();
    }
    let mut topics: Vec<&str> = assignment.iter().map(|(topic, _)| topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    let per_topic: Vec<String> = topics
        .into_iter()
        .map(|topic| {
            let mut partitions: Vec<i32> = assignment.iter().filter(|(t, _)| t == topic).map(|(_, p)| *p).collect();
            partitions.sort_unstable();
            format!("{topic}:{}", join_ids(&partitions))
        })
        .collect();
    per_topic.join(";")
}

/// `--describe --members` (`ConsumerGroupService.printMembers`). Like the real tool, the header
/// is printed even for a group that does not exist, and every line but the blank one before the
/// header ends with the column padding.
pub fn groups_describe_members(groups: &[GroupMembers], verbose: bool) -> String {
    let mut groups: Vec<&GroupMembers> = groups.iter().collect();
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    let mut out = String::new();
    for g in groups {
        let (mut group_w, mut consumer_w, mut instance_w, mut host_w, mut client_w) = (15, 15, 17, 15, 15);
        let (mut current_w, mut target_w) = (20, 20);
        let mut with_instance = false;
        if member_state(&mut out, &g.group, g.state, g.members.len()) {
            for m in &g.members {
                group_w = group_w.max(g.group.chars().count());
                consumer_w = consumer_w.max(m.consumer_id.chars().count());
                let instance = m.group_instance_id.as_deref().unwrap_or("");
                instance_w = instance_w.max(instance.chars().count());
                host_w = host_w.max(m.host.chars().count());
                client_w = client_w.max(m.client_id.chars().count());
                with_instance |= !instance.is_empty();
                current_w = current_w.max(assignment_string(&m.assignment).chars().count());
                target_w = target_w.max(assignment_string(&m.target_assignment).chars().count());
            }
        }
        let head = |group: &str, consumer: &str, instance: &str, host: &str, client: &str, partitions: &str| {
            let mut line = format!("{} {} ", pad(group, group_w), pad(consumer, consumer_w));
            if with_instance {
                line.push_str(&format!("{} ", pad(instance, instance_w)));
            }
            line.push_str(&format!("{} {} {} ", pad(host, host_w), pad(client, client_w), pad(partitions, 15)));
            line
        };
        let tail = |current_epoch: &str, current: &str, target_epoch: &str, target: &str| {
            format!(
                "{} {} {} {}",
                pad(current_epoch, 15),
                pad(current, current_w),
                pad(target_epoch, 15),
                pad(target, target_w)
            )
        };
        out.push('\n');
        out.push_str(&head("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"));
        if verbose {
            out.push_str(&tail("CURRENT-EPOCH", "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT"));
        }
        out.push('\n');
        for m in &g.members {
            out.push_str(&head(
                &g.group,
                &m.consumer_id,
                m.group_instance_id.as_deref().unwrap_or(""),
                &m.host,
                &m.client_id,
                &m.assignment.len().to_string(),
            ));
            if verbose {
                out.push_str(&tail(
                    &or_missing(m.member_epoch),
                    &assignment_string(&m.assignment),
                    &or_missing(g.target_assignment_epoch),
                    &assignment_string(&m.target_assignment),
                ));
            }
            out.push('\n');
        }
    }
    out
}

/// A broker as `Node` prints in group output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerNode {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

/// A group for `--describe --state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStateDescription {
    pub group: String,
    pub coordinator: BrokerNode,
    /// The assignor (`range`, `cooperative-sticky`, `uniform`...); empty prints `-`.
    pub assignment_strategy: String,
    pub state: GroupState,
    pub members: usize,
    /// `--verbose` (consumer protocol).
    pub group_epoch: Option<i32>,
    pub target_assignment_epoch: Option<i32>,
}

/// `--describe --state` (`ConsumerGroupService.printStates`).
pub fn groups_describe_state(groups: &[GroupStateDescription], verbose: bool) -> String {
    let mut groups: Vec<&GroupStateDescription> = groups.iter().collect();
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    let mut out = String::new();
    for g in groups {
        if !member_state(&mut out, &g.group, g.state, 1) {
            continue;
        }
        let coordinator = format!("{}:{}  ({})", g.coordinator.host, g.coordinator.port, g.coordinator.id);
        let coordinator_w = coordinator.chars().count().max(25);
        let group_w = g.group.chars().count().max(15);
        let strategy = if g.assignment_strategy.is_empty() { MISSING } else { &g.assignment_strategy };
        let members = g.members.to_string();
        let row = |cells: [&str; 7]| {
            let mut line = format!(
                "\n{} {} {} {} ",
                pad(cells[0], group_w),
                pad(cells[1], coordinator_w),
                pad(cells[2], 20),
                pad(cells[3], 20)
            );
            if verbose {
                line.push_str(&format!("{} {} ", pad(cells[4], 15), pad(cells[5], 25)));
            }
            line.push_str(cells[6]);
            line
        };
        out.push_str(&row([
            "GROUP",
            "COORDINATOR (ID)",
            "ASSIGNMENT-STRATEGY",
            "STATE",
            "GROUP-EPOCH",
            "TARGET-ASSIGNMENT-EPOCH",
            "#MEMBERS",
        ]));
        out.push_str(&row([
            &g.group,
            &coordinator,
            strategy,
            g.state.as_str(),
            &or_missing(g.group_epoch),
            &or_missing(g.target_assignment_epoch),
            &members,
        ]));
        out.push('\n');
    }
    out
}

/// The offsets `--reset-offsets` chose for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResetPlan {
    pub group: String,
    /// `(topic, partition, new offset)`.
    pub offsets: Vec<(String, i32, i64)>,
}

/// `--reset-offsets` (dry run or executed; `GroupOffsetsResetter.printOffsetsToReset`). The real
/// tool prints each group's partitions in `HashMap` order; the console sorts them by topic and
/// partition.
pub fn groups_reset_offsets(plans: &[GroupResetPlan]) -> String {
    let group_w = plans.iter().map(|p| p.group.chars().count()).fold(15, usize::max);
    let topic_w = plans.iter().flat_map(|p| &p.offsets).map(|(topic, _, _)| topic.chars().count()).fold(15, usize::max);
    let row = |group: &str, topic: &str, partition: &str, offset: &str| {
        format!("\n{} {} {} {offset}", pad(group, group_w), pad(topic, topic_w), pad(partition, 10))
    };
    let mut out = String::new();
    if !plans.is_empty() {
        out.push_str(&row("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"));
    }
    for plan in plans {
        let mut offsets: Vec<&(String, i32, i64)> = plan.offsets.iter().collect();
        offsets.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for (topic, partition, offset) in offsets {
            out.push_str(&row(&plan.group, topic, &partition.to_string(), &offset.to_string()));
        }
    }
    out.push('\n');
    out
}

/// `--reset-offsets --export`: `topic,partition,offset` lines for one group, `group,topic,
/// partition,offset` for several (`ConsumerGroupService.exportOffsetsToCsv`).
pub fn groups_reset_offsets_csv(plans: &[GroupResetPlan]) -> String {
    let with_group = plans.len() != 1;
    let mut out = String::new();
    for plan in plans {
        for (topic, partition, offset) in &plan.offsets {
            if with_group {
                let _ = writeln!(out, "{},{topic},{partition},{offset}", plan.group);
            } else {
                let _ = writeln!(out, "{topic},{partition},{offset}");
            }
        }
    }
    out
}

/// `--delete` (`ConsumerGroupService.deleteGroups`): the groups deleted, and those that could not
/// be with the broker's reason (`GroupNotEmptyException: The group is not empty.`).
pub fn groups_deleted(deleted: &[String], failed: &[(String, String)]) -> String {
    let quoted = |groups: &[&String]| groups.iter().map(|g| format!("'{g}'")).collect::<Vec<_>>().join(", ");
    let deleted: Vec<&String> = deleted.iter().collect();
    if failed.is_empty() {
        return format!("Deletion of requested consumer groups ({}) was successful.\n", quoted(&deleted));
    }
    let mut out = group_error("Deletion of some consumer groups failed:");
    for (group, error) in failed {
        let _ = writeln!(out, "* Group '{group}' could not be deleted due to: {error}");
    }
    if !deleted.is_empty() {
        let _ = writeln!(out, "\nThese consumer groups were deleted successfully: {}", quoted(&deleted));
    }
    out
}

/// `--delete-offsets` (`ConsumerGroupService.deleteOffsets`): `top_level` is the request's error
/// message if any; rows are `(topic, partition, error)`, partition `None` for a topic that failed
/// as a whole.
pub fn groups_offsets_deleted(
    group: &str,
    top_level: Option<&str>,
    rows: &[(String, Option<i32>, Option<String>)],
) -> String {
    let mut out = match top_level {
        None => format!("Request succeeded for deleting offsets from group {group}.\n"),
        Some(message) => group_error(message),
    };
    let topic_w = rows.iter().map(|(topic, _, _)| topic.chars().count()).fold(15, usize::max);
    let row = |topic: &str, partition: &str, status: &str| {
        format!("\n{} {} {}", pad(topic, topic_w), pad(partition, 10), pad(status, 15))
    };
    out.push_str(&row("TOPIC", "PARTITION", "STATUS"));
    let mut rows: Vec<&(String, Option<i32>, Option<String>)> = rows.iter().collect();
    // The real tool sorts on topic + partition as one string.
    rows.sort_by_key(|(topic, partition, _)| format!("{topic}{}", partition.unwrap_or(-1)));
    for (topic, partition, error) in rows {
        let status = error.as_deref().map_or_else(|| "Successful".to_string(), |e| format!("Error: {e}"));
        out.push_str(&row(topic, &or_missing(*partition), &status));
    }
    out.push('\n');
    out
}

/// An error line of `kafka-consumer-groups.sh` (`ConsumerGroupCommand.printError`), such as
/// `Assignments can only be reset if the group 'g' is inactive, but the current state is Stable.`
pub fn group_error(message: &str) -> String {
    format!("\nError: {message}\n")
}

// ---------------------------------------------------------------------------------------------
// kafka-configs.sh

/// Where a config value comes from (`ConfigEntry.ConfigSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    DynamicTopicConfig,
    DynamicBrokerLoggerConfig,
    DynamicBrokerConfig,
    DynamicDefaultBrokerConfig,
    DynamicClientMetricsConfig,
    DynamicGroupConfig,
    StaticBrokerConfig,
    DefaultConfig,
    Unknown,
}

impl ConfigSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSource::DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
            ConfigSource::DynamicBrokerLoggerConfig => "DYNAMIC_BROKER_LOGGER_CONFIG",
            ConfigSource::DynamicBrokerConfig => "DYNAMIC_BROKER_CONFIG",
            ConfigSource::DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
            ConfigSource::DynamicClientMetricsConfig => "DYNAMIC_CLIENT_METRICS_CONFIG",
            ConfigSource::DynamicGroupConfig => "DYNAMIC_GROUP_CONFIG",
            ConfigSource::StaticBrokerConfig => "STATIC_BROKER_CONFIG",
            ConfigSource::DefaultConfig => "DEFAULT_CONFIG",
            ConfigSource::Unknown => "UNKNOWN",
        }
    }
}

/// One config of a DescribeConfigs response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: String,
    /// `None` for sensitive values (printed `null`).
    pub value: Option<String>,
    pub source: ConfigSource,
    pub sensitive: bool,
    /// Where else the value is set, most specific first.
    pub synonyms: Vec<ConfigSynonym>,
}

/// One synonym of a [`ConfigEntry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSynonym {
    pub name: String,
    pub value: Option<String>,
    pub source: ConfigSource,
}

/// Whose configs these are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigResourceName {
    Topic(String),
    Broker(i32),
    BrokerDefault,
}

/// The configs of one resource, as DescribeConfigs (with synonyms) returned them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDescription {
    pub resource: ConfigResourceName,
    pub entries: Vec<ConfigEntry>,
}

/// `--describe` (`ConfigCommand.describeResourceConfig`): a header per resource, then its
/// configs sorted by name, only the dynamic ones of the resource's kind unless `all`.
pub fn configs_describe(descriptions: &[ConfigDescription], all: bool) -> String {
    let mut out = String::new();
    for description in descriptions {
        let dynamic = match &description.resource {
            ConfigResourceName::BrokerDefault => {
                out.push_str("Default configs for brokers in the cluster are:\n");
                ConfigSource::DynamicDefaultBrokerConfig
            }
            resource => {
                let (kind, name, dynamic) = match resource {
                    ConfigResourceName::Topic(name) => ("topic", name.clone(), ConfigSource::DynamicTopicConfig),
                    _ => ("broker", resource_id(resource), ConfigSource::DynamicBrokerConfig),
                };
                let _ = writeln!(out, "{} configs for {kind} {name} are:", if all { "All" } else { "Dynamic" });
                dynamic
            }
        };
        let mut entries: Vec<&ConfigEntry> =
            description.entries.iter().filter(|entry| all || entry.source == dynamic).collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for entry in entries {
            let synonyms: Vec<String> = entry
                .synonyms
                .iter()
                .map(|s| format!("{}:{}={}", s.source.as_str(), s.name, s.value.as_deref().unwrap_or("null")))
                .collect();
            let _ = writeln!(
                out,
                "  {}={} sensitive={} synonyms={{{}}}",
                entry.name,
                entry.value.as_deref().unwrap_or("null"),
                entry.sensitive,
                synonyms.join(", ")
            );
        }
    }
    out
}

fn resource_id(resource: &ConfigResourceName) -> String {
    match resource {
        ConfigResourceName::Topic(name) => name.clone(),
        ConfigResourceName::Broker(id) => id.to_string(),
        ConfigResourceName::BrokerDefault => String::new(),
    }
}

/// `--describe` of a topic or broker that is not there.
pub fn config_entity_missing(resource: &ConfigResourceName) -> String {
    let kind = if matches!(resource, ConfigResourceName::Topic(_)) { "topic" } else { "broker" };
    format!("The {kind} '{}' doesn't exist and doesn't have dynamic config.\n", resource_id(resource))
}

/// `--alter` succeeded (`ConfigCommand.alterConfig`).
pub fn configs_altered(resource: &ConfigResourceName) -> String {
    match resource {
        ConfigResourceName::Topic(name) => format!("Completed updating config for topic {name}.\n"),
        ConfigResourceName::Broker(id) => format!("Completed updating config for broker {id}.\n"),
        ConfigResourceName::BrokerDefault => "Completed updating default config for brokers in the cluster.\n".into(),
    }
}

/// `--alter --delete-config` of a config the resource does not set (`alterResourceConfig`).
pub fn configs_invalid_delete(names: &[String]) -> String {
    format!("Invalid config(s): {}\n", names.join(","))
}

// ---------------------------------------------------------------------------------------------
// kafka-get-offsets.sh

/// One partition's answer to ListOffsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetRow {
    pub topic: String,
    pub partition: i32,
    /// `None` when the broker found no offset (`UNKNOWN_OFFSET`, e.g. a timestamp after the last
    /// record): the row is left out, as the real tool leaves it out.
    pub offset: Option<i64>,
}

/// `topic:partition:offset` lines (`GetOffsetShell.execute`), sorted like the tool's `TreeMap` on
/// `TopicPartition.toString()`, so `orders-10` comes before `orders-2`.
pub fn get_offsets(rows: &[OffsetRow]) -> String {
    let mut rows: Vec<&OffsetRow> = rows.iter().filter(|row| row.offset.is_some()).collect();
    rows.sort_by_cached_key(|row| format!("{}-{}", row.topic, row.partition));
    rows.iter()
        .filter_map(|row| row.offset.map(|offset| format!("{}:{}:{offset}\n", row.topic, row.partition)))
        .collect()
}

/// No partition matched the filters (`GetOffsetShell.fetchOffsets`).
pub fn get_offsets_no_match() -> String {
    "Error occurred: Could not match any topic-partitions with the specified filters\n".into()
}

// ---------------------------------------------------------------------------------------------
// kafka-metadata-quorum.sh

/// A DescribeQuorum answer, as the admin client's `QuorumInfo` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumInfo {
    pub cluster_id: String,
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub high_watermark: i64,
    pub voters: Vec<ReplicaState>,
    pub observers: Vec<ReplicaState>,
    /// The listeners of the voters (KIP-853); may be empty.
    pub nodes: Vec<QuorumNode>,
}

/// A voter's or observer's replication state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaState {
    pub replica_id: i32,
    /// The replica's directory id in base64; `None` is the zero id.
    pub directory_id: Option<String>,
    pub log_end_offset: i64,
    pub last_fetch_timestamp_ms: Option<i64>,
    pub last_caught_up_timestamp_ms: Option<i64>,
}

/// A quorum node's listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumNode {
    pub node_id: i32,
    /// `(listener, host, port)`, e.g. `("CONTROLLER", "localhost", 9093)`.
    pub endpoints: Vec<(String, String, u16)>,
}

fn leader_of(info: &QuorumInfo) -> Result<&ReplicaState, FormatError> {
    info.voters
        .iter()
        .find(|voter| voter.replica_id == info.leader_id)
        .ok_or_else(|| FormatError(format!("No value present: the leader {} is not among the voters", info.leader_id)))
}

/// `describe --status` (`MetadataQuorumCommand.handleDescribeStatus`).
///
/// # Errors
///
/// The leader is not one of the voters (the real tool fails the same way).
pub fn quorum_status(info: &QuorumInfo) -> Result<String, FormatError> {
    let leader = leader_of(info)?;
    let laggiest = info.voters.iter().min_by_key(|voter| voter.log_end_offset).unwrap_or(leader);
    let max_lag = leader.log_end_offset - laggiest.log_end_offset;
    let max_lag_time_ms = if laggiest.replica_id == leader.replica_id {
        0
    } else {
        match (leader.last_caught_up_timestamp_ms, laggiest.last_caught_up_timestamp_ms) {
            (Some(leader_ms), Some(laggiest_ms)) => leader_ms - laggiest_ms,
            _ => -1,
        }
    };
    // Each label is padded to 24 columns in the Java string literals.
    let fields = [
        ("ClusterId:", info.cluster_id.clone()),
        ("LeaderId:", info.leader_id.to_string()),
        ("LeaderEpoch:", info.leader_epoch.to_string()),
        ("HighWatermark:", info.high_watermark.to_string()),
        ("MaxFollowerLag:", max_lag.to_string()),
        ("MaxFollowerLagTimeMs:", max_lag_time_ms.to_string()),
        ("CurrentVoters:", replica_list(info, &info.voters)),
        ("CurrentObservers:", replica_list(info, &info.observers)),
    ];
    Ok(fields.iter().map(|(label, value)| format!("{label:<24}{value}\n")).collect())
}

/// `[{"id": 1, "directoryId": "...", "endpoints": ["CONTROLLER://localhost:9093"]}]`
/// (`MetadataQuorumCommand.Node.toString`: `directoryId` is always there, `null` for the zero
/// id; `endpoints` only when the voter has any).
fn replica_list(info: &QuorumInfo, replicas: &[ReplicaState]) -> String {
    let nodes: Vec<String> = replicas
        .iter()
        .map(|replica| {
            let mut node = format!("{{\"id\": {}, \"directoryId\": ", replica.replica_id);
            match replica.directory_id.as_deref().filter(|id| *id != ZERO_TOPIC_ID) {
                Some(id) => {
                    let _ = write!(node, "\"{id}\"");
                }
                // A voter of a static quorum (`controller.quorum.voters`) has none.
                None => node.push_str("null"),
            }
            let endpoints: Vec<String> = info
                .nodes
                .iter()
                .find(|n| n.node_id == replica.replica_id)
                .map(|n| {
                    n.endpoints
                        .iter()
                        .map(|(listener, host, port)| {
                            let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
                            format!("\"{listener}://{host}:{port}\"")
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !endpoints.is_empty() {
                let _ = write!(node, ", \"endpoints\": [{}]", endpoints.join(", "));
            }
            node.push('}');
            node
        })
        .collect();
    format!("[{}]", nodes.join(", "))
}

/// `describe --replication` (`MetadataQuorumCommand.handleDescribeReplication`, printed with
/// `ToolsUtils.prettyPrintTable`: every cell padded to its column and followed by a tab). With
/// `--human-readable`, pass the current time as `now_ms` and timestamps print as `N ms ago`.
///
/// # Errors
///
/// The leader is not among the voters, or a timestamp is after `now_ms` ("possible drift in
/// system clock", as the real tool says).
pub fn quorum_replication(info: &QuorumInfo, now_ms: Option<i64>) -> Result<String, FormatError> {
    let leader = leader_of(info)?;
    let time = |timestamp: Option<i64>, what: &str| -> Result<String, FormatError> {
        match (timestamp, now_ms) {
            (None, _) => Ok("-1".into()),
            (Some(ms), None) => Ok(ms.to_string()),
            (Some(ms), Some(now)) if ms > 0 && ms <= now => Ok(format!("{} ms ago", now - ms)),
            (Some(ms), Some(now)) => Err(FormatError(format!(
                "Error while computing relative time, possible drift in system clock.\nCurrent timestamp is {now}, \
                 {what} timestamp is {ms}"
            ))),
        }
    };
    let mut rows: Vec<[String; 7]> = Vec::new();
    let followers = info.voters.iter().filter(|v| v.replica_id != info.leader_id);
    let groups =
        [(vec![leader], "Leader"), (followers.collect(), "Follower"), (info.observers.iter().collect(), "Observer")];
    for (replicas, status) in groups {
        for r in replicas {
            rows.push([
                r.replica_id.to_string(),
                r.directory_id.clone().unwrap_or_else(|| ZERO_TOPIC_ID.to_string()),
                r.log_end_offset.to_string(),
                (leader.log_end_offset - r.log_end_offset).to_string(),
                time(r.last_fetch_timestamp_ms, "last fetch")?,
                time(r.last_caught_up_timestamp_ms, "last caught up")?,
                status.to_string(),
            ]);
        }
    }
    let headers =
        ["NodeId", "DirectoryId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp", "Status"];
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut print_row = |cells: &mut dyn Iterator<Item = &str>| {
        for (cell, width) in cells.zip(&widths) {
            out.push_str(&pad(cell, *width));
            out.push('\t');
        }
        out.push('\n');
    };
    print_row(&mut headers.iter().copied());
    for row in &rows {
        print_row(&mut row.iter().map(String::as_str));
    }
    Ok(out)
}
