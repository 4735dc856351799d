//! Exercise checks: each `[[check]]` of an exercise block, asked of the broker through the
//! Kafka protocol ([`crate::kafka`]), with a message that says what was found when it fails
//! ("topic orders has 1 partition, expected 3").

use crate::course::blocks::{
    Check, ClusterCheck, Exercise, GroupCheck, OffsetsCheck, PartitionCheck, RecordsCheck, TopicCheck, plural,
};
use crate::kafka::{Kafka, KafkaError, LogOffsets, RecordView};

/// Most records read per partition for a `records` check: exercises produce a handful; the cap
/// keeps a learner who produced a million from slowing everyone's checks.
const RECORDS_READ_MAX: usize = 10_000;

/// The result of one check, as the page and `POST /api/exercises/{id}/check` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckOutcome {
    pub description: String,
    pub passed: bool,
    pub message: String,
}

/// Runs every check of `exercise`. A broker that cannot be reached is an error for the whole run
/// (the learner sees "the broker is not reachable", not a list of false failures).
pub async fn run_checks(kafka: &Kafka, exercise: &Exercise) -> Result<Vec<CheckOutcome>, KafkaError> {
    let mut outcomes = Vec::new();
    for check in &exercise.checks {
        let (passed, message) = match check {
            Check::Topic(c) => topic(kafka, c).await?,
            Check::Records(c) => records(kafka, c).await?,
            Check::Offsets(c) => offsets(kafka, c).await?,
            Check::Group(c) => group(kafka, c).await?,
            Check::Partition(c) => partition(kafka, c).await?,
            Check::Cluster(c) => cluster(kafka, c).await?,
        };
        outcomes.push(CheckOutcome { description: check.description(), passed, message });
    }
    Ok(outcomes)
}

async fn topic(kafka: &Kafka, check: &TopicCheck) -> Result<(bool, String), KafkaError> {
    let name = &check.topic;
    let Some(topic) = kafka.topic(name).await? else {
        return Ok(if check.exists {
            (false, format!("topic {name} does not exist"))
        } else {
            (true, format!("topic {name} does not exist"))
        });
    };
    if !check.exists {
        return Ok((false, format!("topic {name} still exists")));
    }
    if let Some(expected) = check.partitions
        && topic.partitions.len() != expected as usize
    {
        return Ok((
            false,
            format!("topic {name} has {}, expected {expected}", plural(topic.partitions.len(), "partition")),
        ));
    }
    if let Some(expected) = check.replication_factor {
        let actual = topic.partitions.first().map_or(0, |p| p.replicas.len());
        if actual != usize::from(expected) {
            return Ok((false, format!("topic {name} has replication factor {actual}, expected {expected}")));
        }
    }
    if !check.config.is_empty() {
        let configs = kafka.topic_configs(name).await?;
        for (key, expected) in &check.config {
            let actual = configs.get(key).map_or("(not set)", String::as_str);
            if actual != expected {
                return Ok((false, format!("topic {name} has {key}={actual}, expected {key}={expected}")));
            }
        }
    }
    Ok((true, format!("topic {name} exists with {}", plural(topic.partitions.len(), "partition"))))
}

/// Brokers as a list, `2, 3`.
fn broker_list(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
}

async fn partition(kafka: &Kafka, check: &PartitionCheck) -> Result<(bool, String), KafkaError> {
    let name = &check.topic;
    let Some(topic) = kafka.describe_topic(name).await? else {
        return Ok((false, format!("topic {name} does not exist")));
    };
    let index = i32::try_from(check.partition).unwrap_or(i32::MAX);
    let Some(p) = topic.partitions.iter().find(|p| p.partition == index) else {
        return Ok((false, format!("topic {name} has no partition {index}")));
    };
    let leader = if p.leader < 0 { "no leader".to_owned() } else { format!("leader {}", p.leader) };
    let elr = p.elr.clone().unwrap_or_default();
    let mut state = format!("{name}-{index} has {leader} (epoch {}), ISR {}", p.leader_epoch, broker_list(&p.isr));
    if !elr.is_empty() {
        state.push_str(&format!(", ELR {}", broker_list(&elr)));
    }
    let failed = |why: String| Ok((false, format!("{state}: {why}")));
    if let Some(expected) = check.leader
        && p.leader != expected
    {
        return failed(format!("expected leader {expected}"));
    }
    if let Some(epoch) = check.min_leader_epoch
        && p.leader_epoch < epoch
    {
        return failed(format!("expected leader epoch {epoch} or more"));
    }
    if let Some(size) = check.isr_size
        && p.isr.len() != size as usize
    {
        return failed(format!("expected {} in sync", plural(u64::from(size), "replica")));
    }
    if let Some(missing) = check.isr_includes.iter().find(|id| !p.isr.contains(id)) {
        return failed(format!("expected broker {missing} in the ISR"));
    }
    if let Some(present) = check.isr_excludes.iter().find(|id| p.isr.contains(id)) {
        return failed(format!("expected broker {present} out of the ISR"));
    }
    if let Some(missing) = check.elr_includes.iter().find(|id| !elr.contains(id)) {
        return failed(format!("expected broker {missing} among the eligible leader replicas"));
    }
    Ok((true, state))
}

async fn cluster(kafka: &Kafka, check: &ClusterCheck) -> Result<(bool, String), KafkaError> {
    let metadata = kafka.cluster_metadata().await?;
    let up = metadata.brokers.len();
    if let Some(expected) = check.brokers_up
        && up != expected as usize
    {
        let live = broker_list(&metadata.brokers);
        return Ok((false, format!("{} up ({live}), expected {expected}", plural(up, "broker"))));
    }
    if check.active_controller.is_none() && check.min_quorum_epoch.is_none() {
        return Ok((true, format!("{} up", plural(up, "broker"))));
    }
    // Without a majority of controllers the quorum has no leader: DescribeQuorum is refused.
    let quorum = kafka.describe_quorum().await?.ok();
    match (check.active_controller, &quorum) {
        (Some(true), None) => return Ok((false, "the controller quorum has no leader".to_owned())),
        (Some(false), Some(q)) => {
            return Ok((false, format!("controller {} is active (quorum epoch {})", q.leader_id, q.leader_epoch)));
        }
        _ => {}
    }
    if let Some(epoch) = check.min_quorum_epoch {
        match &quorum {
            Some(q) if q.leader_epoch >= epoch => {}
            Some(q) => {
                return Ok((
                    false,
                    format!(
                        "the quorum is in epoch {} (controller {} leads), expected {epoch} or more",
                        q.leader_epoch, q.leader_id
                    ),
                ));
            }
            None => return Ok((false, "the controller quorum has no leader".to_owned())),
        }
    }
    Ok((
        true,
        match &quorum {
            Some(q) => {
                format!("{} up; controller {} leads quorum epoch {}", plural(up, "broker"), q.leader_id, q.leader_epoch)
            }
            None => format!("{} up; no active controller", plural(up, "broker")),
        },
    ))
}

async fn records(kafka: &Kafka, check: &RecordsCheck) -> Result<(bool, String), KafkaError> {
    let name = &check.topic;
    let Some(topic) = kafka.topic(name).await? else {
        return Ok((false, format!("topic {name} does not exist")));
    };
    // Patterns were validated by `lessons check`; an invalid one here matches nothing.
    let pattern = check.value_pattern.as_deref().map(regex::Regex::new).transpose().ok().flatten();
    let mut matching: Vec<RecordView> = Vec::new();
    for partition in &topic.partitions {
        if check.partition.is_some_and(|p| p as i32 != partition.partition) {
            continue;
        }
        // From the log start: retention may have deleted the first records (reading from 0 would
        // be OFFSET_OUT_OF_RANGE), and a check counts what is still there, as a consumer would.
        let Some(LogOffsets { log_start_offset: log_start, .. }) = kafka.offsets(name, partition.partition).await?
        else {
            continue;
        };
        let records = kafka.records(name, partition.partition, log_start, RECORDS_READ_MAX).await?;
        matching.extend(records.into_iter().filter(|r| {
            check.key.as_ref().is_none_or(|key| r.key.as_ref() == Some(key))
                && pattern.as_ref().is_none_or(|re| r.value.as_deref().is_some_and(|v| re.is_match(v)))
        }));
    }
    // "records with key user-42", "records on partition 2", "records".
    let filter = match (&check.key, check.partition) {
        (Some(key), _) => format!(" with key {key}"),
        (None, Some(p)) => format!(" on partition {p}"),
        (None, None) => String::new(),
    };
    let what = format!("records{filter}");
    let count = matching.len() as u64;
    if let Some(min) = check.min
        && count < min
    {
        return Ok((
            false,
            format!("topic {name} has {}{filter}, expected at least {min}", plural(matching.len(), "record")),
        ));
    }
    if let Some(max) = check.max
        && count > max
    {
        return Ok((
            false,
            format!("topic {name} has {}{filter}, expected at most {max}", plural(matching.len(), "record")),
        ));
    }
    if check.same_partition {
        let mut partitions: Vec<i32> = matching.iter().map(|r| r.partition).collect();
        partitions.sort_unstable();
        partitions.dedup();
        if partitions.len() > 1 {
            let list: Vec<String> = partitions.iter().map(ToString::to_string).collect();
            return Ok((
                false,
                format!("the {what} are spread over partitions {}, expected one partition", list.join(", ")),
            ));
        }
    }
    if let Some(expected) = &check.values_in_order {
        // In order within their partition, where Kafka guarantees order.
        let found = expected_in_order(&matching, expected);
        if found < expected.len() {
            return Ok((
                false,
                format!("found {found} of the {} values in order; next expected `{}`", expected.len(), expected[found]),
            ));
        }
    }
    Ok((true, format!("topic {name} has {}{filter}", plural(matching.len(), "record"))))
}

/// How many of `expected` appear, in that order, among one partition's values.
fn expected_in_order(records: &[RecordView], expected: &[String]) -> usize {
    let mut best = 0;
    let mut partitions: Vec<i32> = records.iter().map(|r| r.partition).collect();
    partitions.sort_unstable();
    partitions.dedup();
    for partition in partitions {
        let mut found = 0;
        for record in records.iter().filter(|r| r.partition == partition) {
            if found < expected.len() && record.value.as_deref() == Some(expected[found].as_str()) {
                found += 1;
            }
        }
        best = best.max(found);
    }
    best
}

async fn offsets(kafka: &Kafka, check: &OffsetsCheck) -> Result<(bool, String), KafkaError> {
    let place = format!("{}-{}", check.topic, check.partition);
    let Some(LogOffsets { log_start_offset: log_start, log_end_offset: log_end }) =
        kafka.offsets(&check.topic, check.partition as i32).await?
    else {
        return Ok((false, format!("partition {place} does not exist")));
    };
    if let Some(expected) = check.log_start_offset
        && expected != log_start
    {
        return Ok((false, format!("partition {place} has log start offset {log_start}, expected {expected}")));
    }
    if let Some(expected) = check.log_end_offset
        && expected != log_end
    {
        return Ok((false, format!("partition {place} has log end offset {log_end}, expected {expected}")));
    }
    Ok((true, format!("partition {place} spans offsets {log_start} to {log_end}")))
}

async fn group(kafka: &Kafka, check: &GroupCheck) -> Result<(bool, String), KafkaError> {
    let name = &check.group;
    let Some(group) = kafka.group_members(name).await? else {
        return Ok(if check.exists {
            (false, format!("consumer group {name} does not exist"))
        } else {
            (true, format!("consumer group {name} does not exist"))
        });
    };
    if !check.exists {
        return Ok((false, format!("consumer group {name} still exists")));
    }
    if let Some(state) = check.state
        && format!("{state:?}") != group.state
    {
        return Ok((false, format!("consumer group {name} is {}, expected {state:?}", group.state)));
    }
    if let Some(members) = check.members
        && group.members.len() != members as usize
    {
        return Ok((
            false,
            format!("consumer group {name} has {}, expected {members}", plural(group.members.len(), "member")),
        ));
    }
    if let Some(topic) = &check.topic
        && (check.committed_offset.is_some() || check.max_lag.is_some())
    {
        let Some(info) = kafka.topic(topic).await? else {
            return Ok((false, format!("topic {topic} does not exist")));
        };
        let partitions: Vec<i32> = match check.partition {
            Some(p) => vec![p as i32],
            None => info.partitions.iter().map(|p| p.partition).collect(),
        };
        let committed = kafka.committed_offsets(name, topic, &partitions).await?;
        if let (Some(expected), Some(partition)) = (check.committed_offset, check.partition) {
            match committed.get(&(partition as i32)) {
                None => {
                    return Ok((
                        false,
                        format!("consumer group {name} has no committed offset on {topic}-{partition}"),
                    ));
                }
                Some(&actual) if actual != expected => {
                    return Ok((
                        false,
                        format!(
                            "consumer group {name} committed offset {actual} on {topic}-{partition}, expected {expected}"
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(max_lag) = check.max_lag {
            for partition in &partitions {
                let LogOffsets { log_start_offset: start, log_end_offset: end } = kafka
                    .offsets(topic, *partition)
                    .await?
                    .unwrap_or(LogOffsets { log_start_offset: 0, log_end_offset: 0 });
                // Kafka's lag: log end offset minus committed offset; with none committed, every
                // record still in the log is unread.
                let lag = end - committed.get(partition).copied().unwrap_or(start);
                if lag > max_lag {
                    return Ok((
                        false,
                        format!("consumer group {name} lags {lag} on {topic}-{partition}, expected at most {max_lag}"),
                    ));
                }
            }
        }
    }
    Ok((true, format!("consumer group {name} is {} with {}", group.state, plural(group.members.len(), "member"))))
}
