//! Runs console scripts: each [`Invocation`] parsed by [`crate::console`] is carried out against
//! the learner's broker through the Kafka protocol ([`crate::kafka`]) and printed the way the
//! real tool prints it ([`crate::console::format`]).
//!
//! Supported so far: `kafka-topics` (create, list, describe, alter partitions, delete),
//! `kafka-console-producer`, `kafka-console-consumer` (from the beginning, a partition, an
//! offset; with `--group`, offsets are read from and committed to the group), `kafka-get-offsets`,
//! `kafka-configs` on topics, and `help`. The other tools parse but answer that they are not
//! available in this console yet.

use crate::console::format::{
    self, ConfigDescription, ConfigEntry, ConfigResourceName, ConfigSource, ConsumedRecord, OffsetRow,
    PartitionDescription, RecordTimestamp, TopicDescription,
};
use crate::console::parse::{Acks, ConfigEntity, ConfigsAlter, OffsetSpec, PartitionFilter, Subscription};
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
                    topic_id: None,
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
            let records: Vec<(Option<String>, String)> =
                produce.records.iter().map(|r| (r.key.clone(), r.value.clone().unwrap_or_default())).collect();
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
                Err(refusal) => Err(format!(
                    "[ERROR] Error when sending message to topic {} with key: {} bytes, value: {} bytes with error: {}\n",
                    produce.topic,
                    records[0].0.as_ref().map_or("null".to_owned(), |k| k.len().to_string()),
                    records[0].1.len(),
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
