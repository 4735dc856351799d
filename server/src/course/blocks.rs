//! The structured blocks an author puts in a lesson: fenced code blocks whose info string is
//! `exercise` or `simulator`, with TOML inside.
//!
//! This module owns their schema and its validation. The page renders what a block declares: an
//! exercise's task and checks, which the Check button runs against the learner's broker
//! ([`crate::exercises`]), and a simulator's preset, from which the in-browser simulator (the
//! broker's own replication logic, `broker::sim` built by `wasm-sim`) starts. The course check
//! makes sure every block is well-formed, so a broken block fails `streamlab lessons check`
//! instead of a learner's page.

use std::collections::BTreeMap;

use broker::core::topic::validate_topic_name;
use broker::sim::goal::Goal;
use broker::sim::{Preset, ScriptedAction, Simulation, TopicPreset};
use serde::Deserialize;

use super::diagnostic::{line_at, line_of_key, toml_error};

/// The info strings that turn a fenced code block into a structured block.
pub const EXERCISE_INFO: &str = "exercise";
pub const SIMULATOR_INFO: &str = "simulator";

/// A hands-on task checked against the learner's broker.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// Unique across the course; progress is stored under it, so renaming it resets progress.
    pub id: String,
    pub title: String,
    /// Markdown.
    pub task: String,
    pub hints: Vec<String>,
    /// Console commands, one per line, that solve the exercise; the test suite runs them.
    pub solution: String,
    pub checks: Vec<Check>,
}

/// An exercise as written. Checks are read as one flat table first (not as a serde-tagged enum)
/// because a tagged enum buffers its fields and loses their positions: this way a wrong value is
/// reported on its own line, not on the `[[check]]` header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    id: String,
    title: String,
    task: String,
    #[serde(default)]
    hints: Vec<String>,
    solution: String,
    #[serde(default, rename = "check")]
    checks: Vec<toml::Spanned<RawCheck>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum CheckKind {
    Topic,
    Records,
    Offsets,
    Group,
    Partition,
    Cluster,
}

/// Every field any check kind takes; [`RawCheck::into_check`] keeps those of its kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    kind: CheckKind,
    topic: Option<String>,
    exists: Option<bool>,
    partitions: Option<u32>,
    replication_factor: Option<u16>,
    config: Option<BTreeMap<String, String>>,
    min: Option<u64>,
    max: Option<u64>,
    key: Option<String>,
    value_pattern: Option<String>,
    partition: Option<u32>,
    same_partition: Option<bool>,
    values_in_order: Option<Vec<String>>,
    log_start_offset: Option<i64>,
    log_end_offset: Option<i64>,
    group: Option<String>,
    state: Option<ExpectedGroupState>,
    members: Option<u32>,
    committed_offset: Option<i64>,
    max_lag: Option<i64>,
    leader: Option<i32>,
    min_leader_epoch: Option<i32>,
    isr_size: Option<u32>,
    isr_includes: Option<Vec<i32>>,
    isr_excludes: Option<Vec<i32>>,
    elr_includes: Option<Vec<i32>>,
    brokers_up: Option<u32>,
    active_controller: Option<bool>,
    min_quorum_epoch: Option<i32>,
}

impl RawCheck {
    /// The fields that are set, by name.
    fn present(&self) -> Vec<&'static str> {
        let fields = [
            ("topic", self.topic.is_some()),
            ("exists", self.exists.is_some()),
            ("partitions", self.partitions.is_some()),
            ("replication_factor", self.replication_factor.is_some()),
            ("config", self.config.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("key", self.key.is_some()),
            ("value_pattern", self.value_pattern.is_some()),
            ("partition", self.partition.is_some()),
            ("same_partition", self.same_partition.is_some()),
            ("values_in_order", self.values_in_order.is_some()),
            ("log_start_offset", self.log_start_offset.is_some()),
            ("log_end_offset", self.log_end_offset.is_some()),
            ("group", self.group.is_some()),
            ("state", self.state.is_some()),
            ("members", self.members.is_some()),
            ("committed_offset", self.committed_offset.is_some()),
            ("max_lag", self.max_lag.is_some()),
            ("leader", self.leader.is_some()),
            ("min_leader_epoch", self.min_leader_epoch.is_some()),
            ("isr_size", self.isr_size.is_some()),
            ("isr_includes", self.isr_includes.is_some()),
            ("isr_excludes", self.isr_excludes.is_some()),
            ("elr_includes", self.elr_includes.is_some()),
            ("brokers_up", self.brokers_up.is_some()),
            ("active_controller", self.active_controller.is_some()),
            ("min_quorum_epoch", self.min_quorum_epoch.is_some()),
        ];
        fields.into_iter().filter(|(_, set)| *set).map(|(name, _)| name).collect()
    }

    /// Keeps the fields of this check's kind; `Err` names the first required field missing or the
    /// first field that does not apply.
    fn into_check(self) -> Result<Check, (&'static str, String)> {
        let (kind, allowed, required): (&str, &[&str], &[&str]) = match self.kind {
            CheckKind::Topic => {
                ("topic", &["topic", "exists", "partitions", "replication_factor", "config"], &["topic"])
            }
            CheckKind::Records => (
                "records",
                &["topic", "min", "max", "key", "value_pattern", "partition", "same_partition", "values_in_order"],
                &["topic"],
            ),
            CheckKind::Offsets => {
                ("offsets", &["topic", "partition", "log_start_offset", "log_end_offset"], &["topic", "partition"])
            }
            CheckKind::Group => (
                "group",
                &["group", "exists", "state", "members", "topic", "partition", "committed_offset", "max_lag"],
                &["group"],
            ),
            CheckKind::Partition => (
                "partition",
                &[
                    "topic",
                    "partition",
                    "leader",
                    "min_leader_epoch",
                    "isr_size",
                    "isr_includes",
                    "isr_excludes",
                    "elr_includes",
                ],
                &["topic", "partition"],
            ),
            CheckKind::Cluster => ("cluster", &["brokers_up", "active_controller", "min_quorum_epoch"], &[]),
        };
        let present = self.present();
        if let Some(field) = present.iter().find(|f| !allowed.contains(f)) {
            return Err((
                field,
                format!("`{field}` does not apply to a `{kind}` check (it takes {})", allowed.join(", ")),
            ));
        }
        if let Some(field) = required.iter().find(|f| !present.contains(f)) {
            return Err(("kind", format!("a `{kind}` check needs `{field}`")));
        }
        let missing = String::new;
        Ok(match self.kind {
            CheckKind::Topic => Check::Topic(TopicCheck {
                topic: self.topic.unwrap_or_else(missing),
                exists: self.exists.unwrap_or(true),
                partitions: self.partitions,
                replication_factor: self.replication_factor,
                config: self.config.unwrap_or_default(),
            }),
            CheckKind::Records => Check::Records(RecordsCheck {
                topic: self.topic.unwrap_or_else(missing),
                min: self.min,
                max: self.max,
                key: self.key,
                value_pattern: self.value_pattern,
                partition: self.partition,
                same_partition: self.same_partition.unwrap_or(false),
                values_in_order: self.values_in_order,
            }),
            CheckKind::Offsets => Check::Offsets(OffsetsCheck {
                topic: self.topic.unwrap_or_else(missing),
                partition: self.partition.unwrap_or_default(),
                log_start_offset: self.log_start_offset,
                log_end_offset: self.log_end_offset,
            }),
            CheckKind::Group => Check::Group(GroupCheck {
                group: self.group.unwrap_or_else(missing),
                exists: self.exists.unwrap_or(true),
                state: self.state,
                members: self.members,
                topic: self.topic,
                partition: self.partition,
                committed_offset: self.committed_offset,
                max_lag: self.max_lag,
            }),
            CheckKind::Partition => Check::Partition(PartitionCheck {
                topic: self.topic.unwrap_or_else(missing),
                partition: self.partition.unwrap_or_default(),
                leader: self.leader,
                min_leader_epoch: self.min_leader_epoch,
                isr_size: self.isr_size,
                isr_includes: self.isr_includes.unwrap_or_default(),
                isr_excludes: self.isr_excludes.unwrap_or_default(),
                elr_includes: self.elr_includes.unwrap_or_default(),
            }),
            CheckKind::Cluster => Check::Cluster(ClusterCheck {
                brokers_up: self.brokers_up,
                active_controller: self.active_controller,
                min_quorum_epoch: self.min_quorum_epoch,
            }),
        })
    }
}

/// One condition the broker must meet, named by `kind`.
///
/// The fields use Kafka's vocabulary (`log_end_offset`, `committed_offset`) so an author who knows
/// Kafka can guess them.
#[derive(Debug, Clone)]
pub enum Check {
    Topic(TopicCheck),
    Records(RecordsCheck),
    Offsets(OffsetsCheck),
    Group(GroupCheck),
    Partition(PartitionCheck),
    Cluster(ClusterCheck),
}

/// A partition's replication state, as Metadata reports it.
#[derive(Debug, Clone)]
pub struct PartitionCheck {
    pub topic: String,
    pub partition: u32,
    /// The broker that must lead it.
    pub leader: Option<i32>,
    /// The leader epoch must have reached this (a leader change bumps it).
    pub min_leader_epoch: Option<i32>,
    pub isr_size: Option<u32>,
    /// Brokers that must be in the ISR.
    pub isr_includes: Vec<i32>,
    /// Brokers that must not be in the ISR.
    pub isr_excludes: Vec<i32>,
    /// Brokers that must be eligible leader replicas (KIP-966: out of the ISR, yet holding
    /// every committed record).
    pub elr_includes: Vec<i32>,
}

/// The cluster as a whole: live brokers and the controller quorum.
#[derive(Debug, Clone)]
pub struct ClusterCheck {
    /// How many brokers are live (registered and unfenced), as Metadata lists them.
    pub brokers_up: Option<u32>,
    /// Whether the controller quorum has a leader (the active controller).
    pub active_controller: Option<bool>,
    /// The quorum's leader epoch must have reached this (each election bumps it).
    pub min_quorum_epoch: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct TopicCheck {
    pub topic: String,
    /// `false` asks for the topic to be absent (after a delete).
    pub exists: bool,
    pub partitions: Option<u32>,
    pub replication_factor: Option<u16>,
    /// Topic configs that must have exactly these values.
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct RecordsCheck {
    pub topic: String,
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub key: Option<String>,
    /// A regular expression the record value must match.
    pub value_pattern: Option<String>,
    pub partition: Option<u32>,
    /// All matching records are on one partition.
    pub same_partition: bool,
    /// These values appear in this order (within their partition).
    pub values_in_order: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct OffsetsCheck {
    pub topic: String,
    pub partition: u32,
    pub log_start_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct GroupCheck {
    pub group: String,
    pub exists: bool,
    pub state: Option<ExpectedGroupState>,
    pub members: Option<u32>,
    pub topic: Option<String>,
    pub partition: Option<u32>,
    pub committed_offset: Option<i64>,
    pub max_lag: Option<i64>,
}

/// Consumer group states as `kafka-consumer-groups.sh --describe --state` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ExpectedGroupState {
    Empty,
    Stable,
    PreparingRebalance,
    CompletingRebalance,
    Dead,
}

/// A simulator preset: the cluster the in-browser simulator starts from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorPreset {
    pub id: String,
    pub title: Option<String>,
    pub brokers: u8,
    #[serde(default = "one")]
    pub controllers: u8,
    #[serde(default, rename = "topic")]
    pub topics: Vec<SimulatedTopic>,
    /// What to try, in words, shown above the simulator.
    pub task: Option<String>,
    /// Scripted steps the simulation performs by itself, `after_ms` from when the cluster formed:
    /// `[[scenario]]` tables with `after_ms` and `action` (`{ type = "crash", node = 1 }`, the
    /// simulator's action JSON as TOML).
    #[serde(default)]
    pub scenario: Vec<ScriptedAction>,
    /// A goal the server verifies by replaying the learner's run (`lose-acknowledged-record`,
    /// `produce-while-brokers-down:N`, `not-enough-replicas`, `new-quorum-leader`): a preset with
    /// a goal is an exercise of its lesson.
    pub goal: Option<String>,
}

impl SimulatorPreset {
    /// The goal, once validated by [`parse_simulator`].
    pub fn goal(&self) -> Option<Goal> {
        self.goal.as_deref().and_then(|g| g.parse().ok())
    }

    /// The simulator's own preset: the cluster `broker::sim` builds.
    pub fn to_sim_preset(&self) -> Preset {
        Preset {
            brokers: u32::from(self.brokers),
            controllers: u32::from(self.controllers),
            topics: self
                .topics
                .iter()
                .map(|t| TopicPreset {
                    name: t.name.clone(),
                    partitions: i32::try_from(t.partitions).unwrap_or(i32::MAX),
                    replication_factor: i32::from(t.replication_factor),
                    configs: t.configs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                })
                .collect(),
            network: Default::default(),
            scenario: self.scenario.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatedTopic {
    pub name: String,
    pub partitions: u32,
    #[serde(default = "one")]
    pub replication_factor: u8,
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
}

fn one() -> u8 {
    1
}

/// A problem inside a block, at a line relative to the block's first content line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockError {
    pub line: usize,
    pub message: String,
}

impl BlockError {
    fn at_key(text: &str, key: &str, message: String) -> Self {
        Self { line: line_of_key(text, key), message }
    }

    /// At `key` inside the table whose header starts at byte `table_start` (a `[[check]]`), so
    /// that a mistake in the third check points at the third check.
    fn at_table_key(text: &str, table_start: usize, key: &str, message: String) -> Self {
        let line = line_at(text, table_start) + line_of_key(table_text(text, table_start), key) - 1;
        Self { line, message }
    }
}

/// Kafka's legal topic names: at most 249 characters of `[a-zA-Z0-9._-]` (and not `.` or `..`),
/// as the broker validates them ([`validate_topic_name`]).
pub fn is_valid_topic_name(name: &str) -> bool {
    validate_topic_name(name).is_ok()
}

/// Lower-case words joined by single hyphens: the shape of slugs and block ids.
pub fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub fn parse_exercise(text: &str) -> Result<Exercise, Vec<BlockError>> {
    let raw: RawExercise = toml::from_str(text).map_err(|e| {
        let (line, message) = toml_error(text, &e);
        vec![BlockError { line, message: format!("exercise block: {message}") }]
    })?;
    let mut errors = Vec::new();
    let mut checks = Vec::new();
    // Where each check's table starts, for errors found after parsing.
    let mut check_starts = Vec::new();
    for spanned in raw.checks {
        let span = spanned.span();
        match spanned.into_inner().into_check() {
            Ok(check) => {
                checks.push(check);
                check_starts.push(span.start);
            }
            Err((field, message)) => errors.push(BlockError::at_table_key(text, span.start, field, message)),
        }
    }
    let exercise =
        Exercise { id: raw.id, title: raw.title, task: raw.task, hints: raw.hints, solution: raw.solution, checks };
    if !is_kebab_case(&exercise.id) {
        errors.push(BlockError::at_key(
            text,
            "id",
            format!("exercise id `{}` must be kebab-case (a-z, 0-9 and single hyphens)", exercise.id),
        ));
    }
    if exercise.solution.trim().is_empty() {
        errors.push(BlockError::at_key(text, "solution", "exercise solution is empty".into()));
    }
    if exercise.checks.is_empty() {
        errors.push(BlockError { line: 1, message: "exercise has no checks: add at least one [[check]] table".into() });
    }
    for (check, &start) in exercise.checks.iter().zip(&check_starts) {
        validate_check(text, start, check, &mut errors);
    }
    if errors.is_empty() { Ok(exercise) } else { Err(errors) }
}

fn validate_check(text: &str, table_start: usize, check: &Check, errors: &mut Vec<BlockError>) {
    let at_key = |key: &str, message: String| BlockError::at_table_key(text, table_start, key, message);
    let topic = match check {
        Check::Topic(c) => Some(&c.topic),
        Check::Records(c) => Some(&c.topic),
        Check::Offsets(c) => Some(&c.topic),
        Check::Group(c) => c.topic.as_ref(),
        Check::Partition(c) => Some(&c.topic),
        Check::Cluster(_) => None,
    };
    if let Some(topic) = topic.filter(|t| !is_valid_topic_name(t)) {
        errors.push(at_key(
            "topic",
            format!("`{topic}` is not a legal Kafka topic name (up to 249 of a-z A-Z 0-9 . _ -)"),
        ));
    }
    match check {
        Check::Topic(c) => {
            if !c.exists && (c.partitions.is_some() || c.replication_factor.is_some()) {
                errors.push(at_key(
                    "exists",
                    "a check for an absent topic cannot also ask for partitions or a replication factor".into(),
                ));
            }
            if c.partitions == Some(0) {
                errors.push(at_key("partitions", "partitions must be at least 1".into()));
            }
        }
        Check::Records(c) => {
            if let (Some(min), Some(max)) = (c.min, c.max)
                && min > max
            {
                errors.push(at_key("max", format!("min ({min}) is above max ({max})")));
            }
            if let Some(pattern) = &c.value_pattern
                && let Err(e) = regex::Regex::new(pattern)
            {
                let first = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
                errors
                    .push(at_key("value_pattern", format!("value_pattern is not a valid regular expression: {first}")));
            }
        }
        Check::Offsets(c) => {
            if c.log_start_offset.is_none() && c.log_end_offset.is_none() {
                errors.push(at_key("partition", "an offsets check needs log_start_offset or log_end_offset".into()));
            }
        }
        Check::Group(c) => {
            if (c.committed_offset.is_some() || c.max_lag.is_some()) && c.topic.is_none() {
                errors.push(at_key(
                    "group",
                    "committed_offset and max_lag need a topic (and a partition for committed_offset)".into(),
                ));
            }
            if c.committed_offset.is_some() && c.partition.is_none() {
                errors.push(at_key("committed_offset", "committed_offset needs a partition".into()));
            }
        }
        Check::Partition(c) => {
            if c.leader.is_none()
                && c.min_leader_epoch.is_none()
                && c.isr_size.is_none()
                && c.isr_includes.is_empty()
                && c.isr_excludes.is_empty()
                && c.elr_includes.is_empty()
            {
                errors.push(at_key(
                    "partition",
                    "a partition check needs leader, min_leader_epoch, isr_size, isr_includes, isr_excludes or elr_includes"
                        .into(),
                ));
            }
            if let Some(both) = c.isr_includes.iter().find(|id| c.isr_excludes.contains(id)) {
                errors.push(at_key("isr_excludes", format!("broker {both} cannot be both in and out of the ISR")));
            }
            if c.isr_size == Some(0) {
                errors.push(at_key("isr_size", "an ISR is never empty: isr_size must be at least 1".into()));
            }
        }
        Check::Cluster(c) => {
            if c.brokers_up.is_none() && c.active_controller.is_none() && c.min_quorum_epoch.is_none() {
                errors.push(at_key(
                    "kind",
                    "a cluster check needs brokers_up, active_controller or min_quorum_epoch".into(),
                ));
            }
        }
    }
}

/// The text of the table whose header starts at `start`, up to the next table header.
fn table_text(text: &str, start: usize) -> &str {
    let rest = &text[start.min(text.len())..];
    let body_start = rest.find('\n').map_or(rest.len(), |i| i + 1);
    let end = rest[body_start..]
        .match_indices('\n')
        .map(|(i, _)| body_start + i + 1)
        .find(|&i| rest[i..].trim_start().starts_with('['))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The largest cluster a preset may ask for: enough for every lesson, small enough to draw.
pub const MAX_SIMULATED_BROKERS: u8 = 7;
pub const MAX_SIMULATED_CONTROLLERS: u8 = 5;
pub const MAX_SIMULATED_PARTITIONS: u32 = 12;

pub fn parse_simulator(text: &str) -> Result<SimulatorPreset, Vec<BlockError>> {
    let preset: SimulatorPreset = toml::from_str(text).map_err(|e| {
        let (line, message) = toml_error(text, &e);
        vec![BlockError { line, message: format!("simulator block: {message}") }]
    })?;
    let mut errors = Vec::new();
    if !is_kebab_case(&preset.id) {
        errors.push(BlockError::at_key(
            text,
            "id",
            format!("simulator id `{}` must be kebab-case (a-z, 0-9 and single hyphens)", preset.id),
        ));
    }
    if !(1..=MAX_SIMULATED_BROKERS).contains(&preset.brokers) {
        errors.push(BlockError::at_key(
            text,
            "brokers",
            format!("brokers must be between 1 and {MAX_SIMULATED_BROKERS}, found {}", preset.brokers),
        ));
    }
    // KIP-595: a quorum of 2f+1 voters survives f failures; an even count adds no tolerance.
    if !(1..=MAX_SIMULATED_CONTROLLERS).contains(&preset.controllers) || preset.controllers.is_multiple_of(2) {
        errors.push(BlockError::at_key(
            text,
            "controllers",
            format!("controllers must be 1, 3 or 5 (an odd quorum size), found {}", preset.controllers),
        ));
    }
    for topic in &preset.topics {
        if !is_valid_topic_name(&topic.name) {
            errors.push(BlockError::at_key(text, "name", format!("`{}` is not a legal Kafka topic name", topic.name)));
        }
        if !(1..=MAX_SIMULATED_PARTITIONS).contains(&topic.partitions) {
            errors.push(BlockError::at_key(
                text,
                "partitions",
                format!(
                    "topic {}: partitions must be between 1 and {MAX_SIMULATED_PARTITIONS}, found {}",
                    topic.name, topic.partitions
                ),
            ));
        }
        if topic.replication_factor == 0 || topic.replication_factor > preset.brokers {
            errors.push(BlockError::at_key(
                text,
                "replication_factor",
                format!(
                    "topic {}: replication_factor {} needs between 1 and {} brokers (the preset has {})",
                    topic.name, topic.replication_factor, preset.brokers, preset.brokers
                ),
            ));
        }
    }
    let mut names: Vec<&str> = preset.topics.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        errors.push(BlockError::at_key(text, "name", format!("topic {} is declared twice", pair[0])));
    }
    for topic in &preset.topics {
        for (name, value) in &topic.configs {
            if let Err(message) = broker::core::config::validate_config(name, value) {
                errors.push(BlockError::at_key(text, name, format!("topic {}: {message}", topic.name)));
            }
        }
    }
    if let Some(goal) = &preset.goal
        && let Err(unknown) = goal.parse::<Goal>()
    {
        errors.push(BlockError::at_key(text, "goal", unknown.to_string()));
    }
    if errors.is_empty() && !preset.scenario.is_empty() {
        // Play the scenario once: a step naming a node that does not exist, or crashing one that
        // is already down, is the author's mistake to hear about now, not the learner's.
        match Simulation::new(preset.to_sim_preset(), 1) {
            Ok(mut simulation) => {
                let last = preset.scenario.iter().map(|step| step.after_ms).max().unwrap_or(0);
                simulation.run_until(simulation.formed_at_ms() + last + 1);
                for (after_ms, problem) in simulation.scenario_errors() {
                    errors.push(BlockError {
                        line: scenario_step_line(text, *after_ms),
                        message: format!("scenario step at after_ms = {after_ms}: {problem}"),
                    });
                }
            }
            Err(problem) => errors.push(BlockError { line: 1, message: format!("simulator block: {problem}") }),
        }
    }
    if errors.is_empty() { Ok(preset) } else { Err(errors) }
}

/// The line of the `[[scenario]]` table whose `after_ms` is this one (1 when not found).
fn scenario_step_line(text: &str, after_ms: u64) -> usize {
    let mut header = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "[[scenario]]" {
            header = Some(index + 1);
        } else if let Some(value) = line.strip_prefix("after_ms").map(|rest| rest.trim_start())
            && let Some(value) = value.strip_prefix('=')
            && value.trim().replace('_', "").parse() == Ok(after_ms)
            && let Some(header) = header
        {
            return header;
        }
    }
    1
}

impl Check {
    /// The line of the task list this check renders as, in the learner's words.
    pub fn description(&self) -> String {
        match self {
            Check::Topic(c) if !c.exists => format!("Topic `{}` does not exist", c.topic),
            Check::Topic(c) => {
                let mut parts = Vec::new();
                if let Some(p) = c.partitions {
                    parts.push(plural(u64::from(p), "partition"));
                }
                if let Some(rf) = c.replication_factor {
                    parts.push(format!("replication factor {rf}"));
                }
                parts.extend(c.config.iter().map(|(k, v)| format!("`{k}={v}`")));
                if parts.is_empty() {
                    format!("Topic `{}` exists", c.topic)
                } else {
                    format!("Topic `{}` exists with {}", c.topic, parts.join(", "))
                }
            }
            Check::Records(c) => {
                let count = match (c.min, c.max) {
                    (Some(min), Some(max)) if min == max => plural(min, "record"),
                    (Some(min), Some(max)) => format!("{min} to {max} records"),
                    (Some(min), None) => format!("at least {}", plural(min, "record")),
                    (None, Some(max)) => format!("at most {}", plural(max, "record")),
                    (None, None) => "records".to_owned(),
                };
                let mut text = format!("Topic `{}` has {count}", c.topic);
                if let Some(key) = &c.key {
                    text.push_str(&format!(" with key `{key}`"));
                }
                if let Some(pattern) = &c.value_pattern {
                    text.push_str(&format!(" whose value matches `{pattern}`"));
                }
                if let Some(p) = c.partition {
                    text.push_str(&format!(" on partition {p}"));
                }
                if c.same_partition {
                    text.push_str(", all on the same partition");
                }
                if let Some(values) = &c.values_in_order {
                    let values: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                    text.push_str(&format!(", in the order {}", values.join(", ")));
                }
                text
            }
            Check::Offsets(c) => {
                let mut parts = Vec::new();
                if let Some(o) = c.log_start_offset {
                    parts.push(format!("log start offset {o}"));
                }
                if let Some(o) = c.log_end_offset {
                    parts.push(format!("log end offset {o}"));
                }
                format!("Partition `{}-{}` has {}", c.topic, c.partition, parts.join(" and "))
            }
            Check::Partition(c) => {
                let mut parts = Vec::new();
                if let Some(leader) = c.leader {
                    parts.push(format!("is led by broker {leader}"));
                }
                if let Some(epoch) = c.min_leader_epoch {
                    parts.push(format!("has leader epoch {epoch} or more"));
                }
                if let Some(size) = c.isr_size {
                    parts.push(format!("has {} in sync", plural(u64::from(size), "replica")));
                }
                let brokers = |ids: &[i32]| ids.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
                if !c.isr_includes.is_empty() {
                    parts.push(format!("has broker {} in its ISR", brokers(&c.isr_includes)));
                }
                if !c.elr_includes.is_empty() {
                    parts.push(format!("has broker {} among its eligible leader replicas", brokers(&c.elr_includes)));
                }
                if !c.isr_excludes.is_empty() {
                    parts.push(format!("has broker {} out of its ISR", brokers(&c.isr_excludes)));
                }
                format!("Partition `{}-{}` {}", c.topic, c.partition, parts.join(", "))
            }
            Check::Cluster(c) => {
                let mut parts = Vec::new();
                if let Some(up) = c.brokers_up {
                    parts.push(format!("{} up", plural(u64::from(up), "broker")));
                }
                match c.active_controller {
                    Some(true) => parts.push("an active controller".to_owned()),
                    Some(false) => parts.push("no active controller".to_owned()),
                    None => {}
                }
                if let Some(epoch) = c.min_quorum_epoch {
                    parts.push(format!("a quorum leader epoch of {epoch} or more"));
                }
                format!("The cluster has {}", parts.join(", "))
            }
            Check::Group(c) if !c.exists => format!("Consumer group `{}` does not exist", c.group),
            Check::Group(c) => {
                let mut parts = Vec::new();
                if let Some(state) = c.state {
                    parts.push(format!("is {state:?}"));
                }
                if let Some(m) = c.members {
                    parts.push(format!("has {}", plural(u64::from(m), "member")));
                }
                let on = match (&c.topic, c.partition) {
                    (Some(t), Some(p)) => format!("`{t}-{p}`"),
                    (Some(t), None) => format!("`{t}`"),
                    _ => String::new(),
                };
                if let Some(o) = c.committed_offset {
                    parts.push(format!("committed offset {o} on {on}"));
                }
                if let Some(lag) = c.max_lag {
                    parts.push(format!("lag at most {lag} on {on}"));
                }
                if parts.is_empty() {
                    format!("Consumer group `{}` exists", c.group)
                } else {
                    format!("Consumer group `{}` {}", c.group, parts.join(", "))
                }
            }
        }
    }
}

/// `1 partition`, `3 partitions`: a count with its noun, for check descriptions and messages.
pub(crate) fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    if n == N::from(1) { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYED_ORDERS: &str = r#"id = "keyed-orders"
title = "Keep one user's orders in order"
task = "Create `orders`."
solution = "kafka-topics.sh --create --topic orders --partitions 3"

[[check]]
kind = "topic"
topic = "orders"
partitions = 3

[[check]]
kind = "records"
topic = "orders"
key = "user-42"
min = 3
same_partition = true
"#;

    #[test]
    fn exercise_parses_and_describes_its_checks() {
        let exercise = parse_exercise(KEYED_ORDERS).expect("valid");
        let lines: Vec<String> = exercise.checks.iter().map(Check::description).collect();
        assert_eq!(
            lines,
            [
                "Topic `orders` exists with 3 partitions",
                "Topic `orders` has at least 3 records with key `user-42`, all on the same partition",
            ]
        );
    }

    #[test]
    fn unknown_check_kind_is_reported_on_its_line() {
        let text = KEYED_ORDERS.replace("kind = \"records\"", "kind = \"recods\"");
        let errors = parse_exercise(&text).expect_err("invalid");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("unknown variant `recods`"), "{errors:?}");
        assert!(errors[0].message.contains("expected one of"), "{errors:?}");
        assert_eq!(errors[0].line, 12, "the `kind` line");
    }

    #[test]
    fn partition_and_cluster_checks_are_described_and_validated() {
        let block =
            |check: &str| format!("id = \"x\"\ntitle = \"x\"\ntask = \"x\"\nsolution = \"x\"\n\n[[check]]\n{check}");
        let exercise = parse_exercise(&block(
            "kind = \"partition\"\ntopic = \"p\"\npartition = 0\nmin_leader_epoch = 1\nisr_size = 2\nisr_excludes = [1]",
        ))
        .expect("valid");
        assert_eq!(
            exercise.checks[0].description(),
            "Partition `p-0` has leader epoch 1 or more, has 2 replicas in sync, has broker 1 out of its ISR"
        );
        let exercise =
            parse_exercise(&block("kind = \"cluster\"\nbrokers_up = 2\nactive_controller = true")).expect("valid");
        assert_eq!(exercise.checks[0].description(), "The cluster has 2 brokers up, an active controller");

        let errors = parse_exercise(&block("kind = \"partition\"\ntopic = \"p\"\npartition = 0")).expect_err("empty");
        assert!(errors[0].message.starts_with("a partition check needs leader"), "{errors:?}");
        let errors = parse_exercise(&block(
            "kind = \"partition\"\ntopic = \"p\"\npartition = 0\nisr_includes = [2]\nisr_excludes = [2]",
        ))
        .expect_err("contradiction");
        assert_eq!(errors[0].message, "broker 2 cannot be both in and out of the ISR");
        assert_eq!(errors[0].line, 11, "the isr_excludes line");
        let errors = parse_exercise(&block("kind = \"cluster\"\ntopic = \"p\"")).expect_err("wrong field");
        assert!(errors[0].message.starts_with("`topic` does not apply to a `cluster` check"), "{errors:?}");
        let errors = parse_exercise(&block("kind = \"cluster\"")).expect_err("nothing asked");
        assert!(errors[0].message.starts_with("a cluster check needs brokers_up"), "{errors:?}");
    }

    #[test]
    fn unknown_field_in_a_check_is_reported() {
        let text = KEYED_ORDERS.replace("partitions = 3", "partition_count = 3");
        let errors = parse_exercise(&text).expect_err("invalid");
        assert!(errors[0].message.contains("unknown field `partition_count`"), "{errors:?}");
        assert_eq!(errors[0].line, 9);
    }

    #[test]
    fn a_field_of_another_kind_or_a_missing_one_is_reported_on_its_line() {
        let text = KEYED_ORDERS.replace("same_partition = true", "log_end_offset = 3");
        let errors = parse_exercise(&text).expect_err("invalid");
        assert_eq!(
            errors,
            [BlockError {
                line: 16,
                message: "`log_end_offset` does not apply to a `records` check (it takes topic, min, max, key, \
                          value_pattern, partition, same_partition, values_in_order)"
                    .into()
            }]
        );
        let text = KEYED_ORDERS.replace("topic = \"orders\"\npartitions = 3", "partitions = 3");
        let errors = parse_exercise(&text).expect_err("invalid");
        assert_eq!(errors, [BlockError { line: 7, message: "a `topic` check needs `topic`".into() }]);
    }

    #[test]
    fn a_wrong_value_type_inside_a_check_is_reported_on_its_line() {
        let text = KEYED_ORDERS.replace("min = 3", "min = \"three\"");
        let errors = parse_exercise(&text).expect_err("invalid");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 15);
        assert!(errors[0].message.starts_with("exercise block: invalid type: string \"three\", expected u64"));
    }

    #[test]
    fn semantic_errors_point_at_the_key() {
        let text = KEYED_ORDERS.replace("topic = \"orders\"\npartitions", "topic = \"or ders\"\npartitions");
        let errors = parse_exercise(&text).expect_err("invalid");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("`or ders` is not a legal Kafka topic name"));
        assert_eq!(errors[0].line, line_of_key(&text, "topic"));
    }

    #[test]
    fn semantic_errors_in_a_later_check_point_into_that_check() {
        // The second check's topic (line 13) and its min above max (line 17), not the first check's keys.
        let text = KEYED_ORDERS
            .replace("topic = \"orders\"\nkey", "topic = \"or ders\"\nkey")
            .replace("min = 3\nsame_partition = true", "min = 3\nsame_partition = true\nmax = 2");
        let errors = parse_exercise(&text).expect_err("invalid");
        let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.message.as_str())).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, 13, "{found:?}");
        assert!(found[0].1.contains("`or ders` is not a legal Kafka topic name"));
        assert_eq!(found[1], (17, "min (3) is above max (2)"));
        assert_eq!(text.lines().nth(12), Some("topic = \"or ders\""));
        assert_eq!(text.lines().nth(16), Some("max = 2"));
    }

    #[test]
    fn simulator_rejects_replication_factor_above_brokers_and_even_quorum() {
        let text = "id = \"rf\"\nbrokers = 2\ncontrollers = 2\n[[topic]]\nname = \"orders\"\npartitions = 3\nreplication_factor = 3\n";
        let errors = parse_simulator(text).expect_err("invalid");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("controllers must be 1, 3 or 5"));
        assert_eq!(errors[0].line, 3);
        assert!(messages[1].contains("replication_factor 3 needs between 1 and 2 brokers"));
        assert_eq!(errors[1].line, 7);
    }

    #[test]
    fn a_simulator_scenario_is_played_once_to_find_steps_that_cannot_happen() {
        let text = "id = \"s\"\nbrokers = 3\n\n[[scenario]]\nafter_ms = 1000\naction = { type = \"crash\", node = 2 }\n\n\
                    [[scenario]]\nafter_ms = 2000\naction = { type = \"restart\", node = 9 }\n";
        let errors = parse_simulator(text).expect_err("node 9 does not exist");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].message, "scenario step at after_ms = 2000: there is no node 9");
        assert_eq!(errors[0].line, 8, "the second [[scenario]] table");
        let preset = parse_simulator(&text.replace("node = 9", "node = 2")).expect("valid");
        assert_eq!(preset.to_sim_preset().scenario.len(), 2);
        let typo =
            parse_simulator("id = \"s\"\nbrokers = 3\n[[scenario]]\nafter_ms = 1\naction = { type = \"explode\" }\n");
        assert!(typo.expect_err("unknown action")[0].message.contains("unknown variant `explode`"));
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(is_valid_topic_name("orders.v1_eu-west"));
        assert!(!is_valid_topic_name(".."));
        assert!(!is_valid_topic_name("with space"));
        assert!(!is_valid_topic_name(&"x".repeat(250)));
    }
}
