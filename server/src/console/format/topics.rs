//! `kafka-topics.sh`: `--create`, `--list`, `--describe` and the errors `TopicCommand` prints.

use super::{ZERO_UUID, join_ids};
use crate::console::parse::PartitionReports;

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
            if let Some(id) = topic.topic_id.as_deref().filter(|id| *id != ZERO_UUID) {
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
