//! Runs console scripts: each [`Invocation`] parsed by [`crate::console`] is carried out against
//! the learner's broker through the Kafka protocol ([`crate::kafka`]) and printed the way the
//! real tool prints it ([`crate::console::format`]).
//!
//! Supported so far: `kafka-topics` (create, list, describe, alter partitions, delete),
//! `kafka-console-producer`, `kafka-console-consumer` (from the beginning, a partition, an
//! offset; with `--group`, offsets are read from and committed to the group), `kafka-get-offsets`,
//! `kafka-configs` on topics, `kafka-consumer-groups` (list, describe offsets / members / state,
//! reset offsets with dry run and execute, delete), `kafka-metadata-quorum` (describe `--status`
//! and `--replication`), and `help`. Whatever else parses but is not carried out (such as
//! `kafka-metadata-quorum add-controller`) answers that it is not available in this console yet.

use crate::console::format::{
    self, BrokerNode, ConfigDescription, ConfigEntry, ConfigResourceName, ConfigSource, ConsumedRecord,
    GroupDescription, GroupMember, GroupMembers, GroupOffsetRow, GroupResetPlan, GroupState, GroupStateDescription,
    OffsetRow, PartitionDescription, RecordTimestamp, TopicDescription,
};
use crate::console::parse::{
    Acks, ConfigEntity, ConfigsAlter, DescribeView, GroupSelection, GroupsResetOffsets, OffsetSpec, PartitionFilter,
    QuorumView, ResetScope, ResetSpec, Subscription,
};
use crate::console::{Command, Invocation, help, parse_script};
use crate::kafka::{Kafka, KafkaError};

/// Most records one console consumer command prints (the page is not a firehose).
const CONSUME_MAX: usize = 1_000;

/// What a script printed, and whether every command succeeded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScriptOutput {
    pub output: String,
    pub ok: bool,
}

/// Parses and runs `script`; stops at the first command that fails, as a shell with `set -e`.
pub async fn run_script(kafka: &Kafka, script: &str) -> ScriptOutput {
    let invocations = match parse_script(script) {
        Ok(invocations) => invocations,
        Err(error) => return ScriptOutput { output: format!("{error}\n"), ok: false },
    };
    let mut output = String::new();
    for invocation in invocations {
        for warning in &invocation.warnings {
            output.push_str(warning);
            output.push('\n');
        }
        match run(kafka, &invocation).await {
            Ok(Ok(text)) => output.push_str(&text),
            Ok(Err(text)) => {
                output.push_str(&text);
                return ScriptOutput { output, ok: false };
            }
            Err(error) => {
                output.push_str(&format!("Error: the broker could not be reached: {error}\n"));
                return ScriptOutput { output, ok: false };
            }
        }
    }
    ScriptOutput { output, ok: true }
}

/// `Ok(Ok(output))`, `Ok(Err(the tool's error output))`, or `Err` when the broker is unreachable.
async fn run(kafka: &Kafka, invocation: &Invocation) -> Result<Result<String, String>, KafkaError> {
    match &invocation.command {
        Command::Help { tool } => Ok(Ok(help::help_text(*tool))),
        Command::TopicsCreate(create) => {
            if create.if_not_exists && kafka.topic(&create.topic).await?.is_some() {
                return Ok(Ok(String::new()));
            }
            Ok(
                match kafka
                    .create_topic(&create.topic, create.partitions, create.replication_factor, &create.configs)
                    .await?
                {
                    Ok(()) => Ok(format::topic_created(&create.topic)),
                    Err(refusal) => Err(format::topics_error(&refusal.message)),
                },
            )
        }
        Command::TopicsList(list) => {
            let mut names = kafka.list_topics().await?;
            if let Some(filter) = &list.topic {
                names.retain(|name| name == filter);
            }
            Ok(Ok(format::topics_list(&names)))
        }
        Command::TopicsDescribe(describe) => {
            let names = match &describe.topic {
                Some(topic) => vec![topic.clone()],
                None => kafka.list_topics().await?,
            };
            let mut topics = Vec::new();
            for name in names {
                let Some(info) = kafka.topic(&name).await? else {
                    if describe.if_exists {
                        continue;
                    }
                    return Ok(Err(format::topic_does_not_exist(&name)));
                };
                let entries = kafka.topic_config_entries(&name).await?.unwrap_or_default();
                let min_insync = entries
                    .iter()
                    .find(|(k, _, _)| k == "min.insync.replicas")
                    .and_then(|(_, v, _)| v.parse().ok())
                    .unwrap_or(1);
                topics.push(TopicDescription {
                    name: name.clone(),
                    topic_id: info.topic_id.clone(),
                    partitions: info
                        .partitions
                        .iter()
                        .map(|p| PartitionDescription {
                            partition: p.partition,
                            leader: (p.leader >= 0).then_some(p.leader),
                            replicas: p.replicas.clone(),
                            isr: p.isr.clone(),
                            elr: None,
                            last_known_elr: None,
                        })
                        .collect(),
                    // Topic overrides only, as `ConfigEntry.isDefault` false.
                    configs: entries
                        .into_iter()
                        .filter(|(_, _, source)| *source == 1)
                        .map(|(k, v, _)| (k, v))
                        .collect(),
                    min_insync_replicas: min_insync,
                });
            }
            Ok(Ok(format::topics_describe(&topics, &describe.reports, &[1])))
        }
        Command::TopicsAlter(alter) => {
            if alter.if_exists && kafka.topic(&alter.topic).await?.is_none() {
                return Ok(Ok(String::new()));
            }
            Ok(match kafka.create_partitions(&alter.topic, alter.partitions).await? {
                Ok(()) => Ok(String::new()),
                Err(refusal) => Err(format::topics_error(&refusal.message)),
            })
        }
        Command::TopicsDelete(delete) => {
            if kafka.topic(&delete.topic).await?.is_none() {
                return Ok(if delete.if_exists {
                    Ok(String::new())
                } else {
                    Err(format::topic_does_not_exist(&delete.topic))
                });
            }
            Ok(match kafka.delete_topic(&delete.topic).await? {
                Ok(()) => Ok(String::new()),
                Err(refusal) => Err(format::topics_error(&refusal.message)),
            })
        }
        Command::Produce(produce) => {
            // A value equal to `null.marker` was parsed as None: a tombstone, sent as a null value.
            let records: Vec<crate::kafka::ProducerRecord> =
                produce.records.iter().map(|r| (r.key.clone(), r.value.clone())).collect();
            if records.is_empty() {
                return Ok(Ok(String::new()));
            }
            let acks = match produce.acks {
                Acks::None => 0,
                Acks::Leader => 1,
                Acks::All => -1,
            };
            // The real producer auto-creates a missing topic through Metadata; so does ours.
            if kafka.topic(&produce.topic).await?.is_none() {
                let _ = kafka.create_topic(&produce.topic, None, None, &[]).await?;
            }
            Ok(match kafka.produce(&produce.topic, &records, acks).await? {
                Ok(_) => Ok(String::new()),
                // Kafka's ErrorLoggingCallback: "null" or "<n> bytes" for key and value.
                Err(refusal) => Err(format!(
                    "[ERROR] Error when sending message to topic {} with key: {}, value: {} with error: {}\n",
                    produce.topic,
                    records[0].0.as_ref().map_or("null".to_owned(), |k| format!("{} bytes", k.len())),
                    records[0].1.as_ref().map_or("null".to_owned(), |v| format!("{} bytes", v.len())),
                    refusal.message
                )),
            })
        }
        Command::Consume(consume) => {
            let Subscription::Topic(topic) = &consume.subscription else {
                return Ok(Err("--include is not available in this console yet.\n".to_owned()));
            };
            let Some(info) = kafka.topic(topic).await? else {
                return Ok(Ok(format::console_consumer_summary(0)));
            };
            let limit = consume.max_messages.map_or(CONSUME_MAX, |m| usize::try_from(m).unwrap_or(0).min(CONSUME_MAX));
            let partitions: Vec<i32> = match consume.partition {
                Some(p) => vec![p],
                None => info.partitions.iter().map(|p| p.partition).collect(),
            };
            let committed = match &consume.group {
                Some(group) => kafka.committed_offsets(group, topic, &partitions).await?,
                None => Default::default(),
            };
            let mut output = String::new();
            let mut printed = 0;
            let mut positions = Vec::new();
            for partition in partitions {
                let start = match (committed.get(&partition), consume.offset, consume.from_beginning) {
                    (Some(&offset), _, _) => offset,
                    (None, OffsetSpec::Offset(offset), _) => offset,
                    (None, OffsetSpec::Earliest, _) | (None, _, true) => {
                        kafka.offsets(topic, partition).await?.map_or(0, |o| o.0)
                    }
                    // Latest: the console waits for new records; this one is not interactive.
                    (None, OffsetSpec::Latest, false) => kafka.offsets(topic, partition).await?.map_or(0, |o| o.1),
                };
                let records = kafka.records(topic, partition, start, limit - printed).await?;
                let mut next = start;
                for record in records {
                    next = record.offset + 1;
                    let consumed = ConsumedRecord {
                        topic: topic.clone(),
                        partition: record.partition,
                        offset: record.offset,
                        timestamp: RecordTimestamp::CreateTime(record.timestamp_ms),
                        key: record.key.map(String::into_bytes),
                        value: record.value.map(String::into_bytes),
                        headers: Vec::new(),
                    };
                    match format::console_record(&consumed, &consume.format) {
                        Ok(line) => output.push_str(&line),
                        Err(error) => {
                            output.push_str(&format!("{error:?}\n"));
                            return Ok(Err(output));
                        }
                    }
                    printed += 1;
                }
                positions.push((partition, next));
                if printed >= limit {
                    break;
                }
            }
            if let Some(group) = &consume.group {
                let _ = kafka.commit_offsets(group, topic, &positions).await?;
            }
            output.push_str(&format::console_consumer_summary(printed));
            Ok(Ok(output))
        }
        Command::GetOffsets(get) => {
            let timestamp = get.time.list_offsets_timestamp();
            let mut rows = Vec::new();
            let topics = kafka.list_topics().await?;
            for rule in &get.rules {
                for name in topics.iter().filter(|t| rule.topic.as_ref().is_none_or(|wanted| wanted == *t)) {
                    let Some(info) = kafka.topic(name).await? else { continue };
                    for partition in info.partitions.iter().map(|p| p.partition) {
                        let included = match &rule.partitions {
                            PartitionFilter::All => true,
                            PartitionFilter::Set(set) => set.contains(&partition),
                            PartitionFilter::Range { lower, upper } => (*lower..*upper).contains(&partition),
                        };
                        if included {
                            let offset = kafka.offset_at(name, partition, timestamp).await?;
                            rows.push(OffsetRow { topic: name.clone(), partition, offset });
                        }
                    }
                }
            }
            Ok(Ok(if rows.is_empty() { format::get_offsets_no_match() } else { format::get_offsets(&rows) }))
        }
        Command::ConfigsDescribe(describe) => {
            let ConfigEntity::Topic(topic) = &describe.entity else {
                return Ok(Err("Only topic configs are available in this console yet.\n".to_owned()));
            };
            let resource = ConfigResourceName::Topic(topic.clone());
            let Some(entries) = kafka.topic_config_entries(topic).await? else {
                return Ok(Err(format::config_entity_missing(&resource)));
            };
            let entries = entries
                .into_iter()
                .map(|(name, value, source)| ConfigEntry {
                    name,
                    value: Some(value),
                    source: match source {
                        1 => ConfigSource::DynamicTopicConfig,
                        4 => ConfigSource::StaticBrokerConfig,
                        5 => ConfigSource::DefaultConfig,
                        _ => ConfigSource::Unknown,
                    },
                    sensitive: false,
                    synonyms: Vec::new(),
                })
                .collect();
            Ok(Ok(format::configs_describe(&[ConfigDescription { resource, entries }], describe.all)))
        }
        Command::ConfigsAlter(alter) => {
            let ConfigEntity::Topic(topic) = &alter.entity else {
                return Ok(Err("Only topic configs can be altered in this console yet.\n".to_owned()));
            };
            let resource = ConfigResourceName::Topic(topic.clone());
            if kafka.topic(topic).await?.is_none() {
                return Ok(Err(format::config_entity_missing(&resource)));
            }
            Ok(match kafka.alter_topic_configs(topic, &alter.add, &alter.delete).await? {
                Ok(()) => Ok(format::configs_altered(&resource)),
                Err(refusal) => Err(format!(
                    "Error while executing config command with args '{}'\n{}\n",
                    alter_args(alter),
                    refusal.message
                )),
            })
        }
        Command::GroupsList(_) => {
            let names: Vec<String> = kafka.list_groups().await?.into_iter().map(|(name, _)| name).collect();
            Ok(Ok(format::groups_list(&names)))
        }
        Command::GroupsDescribe(describe) if describe.view == DescribeView::Offsets => {
            let names = match &describe.groups {
                GroupSelection::Groups(groups) => groups.clone(),
                GroupSelection::AllGroups => kafka.list_groups().await?.into_iter().map(|(name, _)| name).collect(),
            };
            let mut descriptions = Vec::new();
            for group in names {
                descriptions.push(describe_group(kafka, &group).await?);
            }
            Ok(Ok(format::groups_describe_offsets(&descriptions, describe.verbose)))
        }
        Command::GroupsDescribe(describe) => {
            let names = match &describe.groups {
                GroupSelection::Groups(groups) => groups.clone(),
                GroupSelection::AllGroups => kafka.list_groups().await?.into_iter().map(|(name, _)| name).collect(),
            };
            let mut details = Vec::new();
            for group in names {
                let detail = kafka.group_members(&group).await?;
                details.push((group, detail));
            }
            let state_of = |detail: &Option<crate::kafka::GroupDetail>| {
                detail.as_ref().map_or(GroupState::Dead, |d| GroupState::parse(&d.state).unwrap_or(GroupState::Unknown))
            };
            Ok(Ok(if describe.view == DescribeView::Members {
                let groups: Vec<GroupMembers> = details
                    .iter()
                    .map(|(group, detail)| GroupMembers {
                        group: group.clone(),
                        state: state_of(detail),
                        members: detail
                            .iter()
                            .flat_map(|d| &d.members)
                            .map(|m| GroupMember {
                                consumer_id: m.member_id.clone(),
                                group_instance_id: None,
                                host: m.host.clone(),
                                client_id: m.client_id.clone(),
                                assignment: m
                                    .assignment
                                    .iter()
                                    .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
                                    .collect(),
                                target_assignment: Vec::new(),
                                member_epoch: None,
                            })
                            .collect(),
                        target_assignment_epoch: None,
                    })
                    .collect();
                format::groups_describe_members(&groups, describe.verbose)
            } else {
                let coordinator = BrokerNode {
                    id: 1,
                    host: kafka.bootstrap().ip().to_string(),
                    port: i32::from(kafka.bootstrap().port()),
                };
                let groups: Vec<GroupStateDescription> = details
                    .iter()
                    .map(|(group, detail)| GroupStateDescription {
                        group: group.clone(),
                        coordinator: coordinator.clone(),
                        assignment_strategy: detail.as_ref().map(|d| d.protocol.clone()).unwrap_or_default(),
                        state: state_of(detail),
                        members: detail.as_ref().map_or(0, |d| d.members.len()),
                        group_epoch: None,
                        target_assignment_epoch: None,
                    })
                    .collect();
                format::groups_describe_state(&groups, describe.verbose)
            }))
        }
        Command::GroupsResetOffsets(reset) => reset_offsets(kafka, reset).await,
        Command::GroupsDelete(delete) => {
            let names = match &delete.groups {
                GroupSelection::Groups(groups) => groups.clone(),
                GroupSelection::AllGroups => kafka.list_groups().await?.into_iter().map(|(name, _)| name).collect(),
            };
            let results = kafka.delete_groups(&names).await?;
            let deleted: Vec<String> = results.iter().filter(|(_, code)| *code == 0).map(|(g, _)| g.clone()).collect();
            let failed: Vec<(String, String)> = results
                .iter()
                .filter(|(_, code)| *code != 0)
                .map(|(g, code)| {
                    let reason = match code {
                        68 => "The group is not empty.".to_owned(),
                        69 => "The group id does not exist.".to_owned(),
                        other => format!("error code {other}"),
                    };
                    (g.clone(), reason)
                })
                .collect();
            Ok(if failed.is_empty() {
                Ok(format::groups_deleted(&deleted, &failed))
            } else {
                Err(format::groups_deleted(&deleted, &failed))
            })
        }
        Command::QuorumDescribe(describe) => {
            let info = match kafka.describe_quorum().await? {
                Ok(info) => info,
                // MetadataQuorumCommand prints the exception's message (and its stack trace).
                Err(refusal) => {
                    return Ok(Err(format!(
                        "Error: the broker refused DescribeQuorum (error code {}): {}\n",
                        refusal.code, refusal.message
                    )));
                }
            };
            let printed = match describe.view {
                QuorumView::Status => format::quorum_status(&info),
                QuorumView::Replication { human_readable } => {
                    format::quorum_replication(&info, human_readable.then(crate::progress::now_ms))
                }
            };
            Ok(printed.map_err(|error| format!("{error}\n")))
        }
        _ => Ok(Err(format!(
            "{} is not available in this console yet.\n",
            invocation.text.split_whitespace().next().unwrap_or("this command")
        ))),
    }
}

fn alter_args(alter: &ConfigsAlter) -> String {
    let add: Vec<String> = alter.add.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("--alter --add-config {}", add.join(","))
}

/// The offsets view of `kafka-consumer-groups --describe`: a row per partition a member owns,
/// then per committed partition no member owns, with lag.
async fn describe_group(kafka: &Kafka, group: &str) -> Result<GroupDescription, KafkaError> {
    let Some(detail) = kafka.group_members(group).await? else {
        return Ok(GroupDescription { group: group.to_owned(), state: GroupState::Dead, rows: Vec::new() });
    };
    let (state, members) = (detail.state, detail.members);
    let committed = kafka.all_committed_offsets(group).await?;
    let committed_at = |topic: &str, partition: i32| {
        committed.iter().find(|(t, p, _)| t == topic && *p == partition).map(|(_, _, offset)| *offset)
    };
    let mut rows = Vec::new();
    let mut owned = Vec::new();
    let mut members = members;
    // The real tool lists members with the most partitions first.
    members.sort_by_key(|m| std::cmp::Reverse(m.assignment.iter().map(|(_, p)| p.len()).sum::<usize>()));
    for member in &members {
        let mut assigned: Vec<(String, i32)> =
            member.assignment.iter().flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p))).collect();
        assigned.sort();
        for (topic, partition) in assigned {
            let end = kafka.offsets(&topic, partition).await?.map(|(_, end)| end);
            rows.push(GroupOffsetRow {
                group: group.to_owned(),
                topic: Some(topic.clone()),
                partition: Some(partition),
                leader_epoch: None,
                current_offset: committed_at(&topic, partition),
                log_end_offset: end,
                consumer_id: Some(member.member_id.clone()),
                host: Some(member.host.clone()),
                client_id: Some(member.client_id.clone()),
            });
            owned.push((topic, partition));
        }
    }
    let mut unowned: Vec<&(String, i32, i64)> =
        committed.iter().filter(|(t, p, _)| !owned.contains(&(t.clone(), *p))).collect();
    unowned.sort();
    for (topic, partition, offset) in unowned {
        let end = kafka.offsets(topic, *partition).await?.map(|(_, end)| end);
        rows.push(GroupOffsetRow {
            group: group.to_owned(),
            topic: Some(topic.clone()),
            partition: Some(*partition),
            leader_epoch: None,
            current_offset: Some(*offset),
            log_end_offset: end,
            consumer_id: None,
            host: None,
            client_id: None,
        });
    }
    Ok(GroupDescription {
        group: group.to_owned(),
        state: GroupState::parse(&state).unwrap_or(GroupState::Unknown),
        rows,
    })
}

/// `kafka-consumer-groups --reset-offsets`: a plan (dry run, the default) or its execution. As in
/// Kafka, only an inactive group may be reset.
async fn reset_offsets(kafka: &Kafka, reset: &GroupsResetOffsets) -> Result<Result<String, String>, KafkaError> {
    let names = match &reset.groups {
        GroupSelection::Groups(groups) => groups.clone(),
        GroupSelection::AllGroups => kafka.list_groups().await?.into_iter().map(|(name, _)| name).collect(),
    };
    let mut plans = Vec::new();
    for group in names {
        if let Some(detail) = kafka.group_members(&group).await?
            && !detail.members.is_empty()
        {
            let state = detail.state;
            return Ok(Err(format!(
                "\nError: Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}.\n"
            )));
        }
        let committed = kafka.all_committed_offsets(&group).await?;
        let targets: Vec<(String, i32)> = match &reset.scope {
            ResetScope::AllTopics => committed.iter().map(|(t, p, _)| (t.clone(), *p)).collect(),
            ResetScope::Topics(topics) => {
                let mut targets = Vec::new();
                for topic in topics {
                    let Some(info) = kafka.topic(&topic.topic).await? else { continue };
                    for partition in info.partitions.iter().map(|p| p.partition) {
                        if topic.partitions.as_ref().is_none_or(|wanted| wanted.contains(&partition)) {
                            targets.push((topic.topic.clone(), partition));
                        }
                    }
                }
                targets
            }
        };
        let mut offsets = Vec::new();
        for (topic, partition) in targets {
            let Some((start, end)) = kafka.offsets(&topic, partition).await? else { continue };
            let current = committed.iter().find(|(t, p, _)| *t == topic && *p == partition).map(|(_, _, o)| *o);
            let wanted = match reset.to {
                ResetSpec::Earliest => start,
                ResetSpec::Latest => end,
                ResetSpec::Current => current.unwrap_or(end),
                ResetSpec::Offset(offset) => offset,
                ResetSpec::ShiftBy(n) => current.unwrap_or(end).saturating_add(n),
                ResetSpec::Datetime { timestamp_ms } => {
                    kafka.offset_at(&topic, partition, timestamp_ms).await?.unwrap_or(end)
                }
                ResetSpec::ByDuration { duration_ms } => {
                    let now = crate::progress::now_ms();
                    kafka.offset_at(&topic, partition, now - duration_ms).await?.unwrap_or(end)
                }
            };
            // Kafka clamps a reset into the partition's range.
            offsets.push((topic, partition, wanted.clamp(start, end)));
        }
        if reset.execute {
            let mut by_topic: std::collections::BTreeMap<String, Vec<(i32, i64)>> = std::collections::BTreeMap::new();
            for (topic, partition, offset) in &offsets {
                by_topic.entry(topic.clone()).or_default().push((*partition, *offset));
            }
            for (topic, partitions) in by_topic {
                if let Err(refusal) = kafka.commit_offsets(&group, &topic, &partitions).await? {
                    return Ok(Err(format!("\nError: {}\n", refusal.message)));
                }
            }
        }
        plans.push(GroupResetPlan { group, offsets });
    }
    Ok(Ok(format::groups_reset_offsets(&plans)))
}
