//! `kafka-consumer-groups.sh`, read as `org.apache.kafka.tools.consumer.group.ConsumerGroupCommand`
//! reads it: the options of `ConsumerGroupCommandOptions`, its `checkArgs` in order, the action
//! count of `ConsumerGroupCommand.main`, and the scope and scenario checks of `resetOffsets`.

use super::time::{parse_datetime_ms, parse_duration_ms};
use super::{Command, Context};
use crate::console::error::ErrorKind;
use crate::console::format::{GroupStateView, GroupType};
use crate::console::options::{Matches, OptSpec, flag, optional, value, values};

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("bootstrap-server"),
    values("group"),
    values("topic"),
    flag("all-topics"),
    flag("list"),
    flag("describe"),
    flag("all-groups"),
    flag("delete"),
    value("timeout"),
    value("command-config"),
    flag("reset-offsets"),
    flag("delete-offsets"),
    flag("dry-run"),
    flag("execute"),
    flag("export"),
    value("to-offset"),
    value("from-file"),
    value("to-datetime"),
    value("by-duration"),
    flag("to-earliest"),
    flag("to-latest"),
    flag("to-current"),
    value("shift-by"),
    flag("members"),
    flag("verbose"),
    flag("offsets"),
    optional("state"),
    optional("type"),
    value("validate-regex"),
    flag("help"),
    flag("version"),
];

/// `--list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsList {
    /// `--state`: `None` prints names only; `Some` prints a table with a STATE column, keeping
    /// only these states when the list is not empty (`--state stable,empty`).
    pub states: Option<Vec<GroupStateView>>,
    /// `--type`, the same way with a TYPE column.
    pub types: Option<Vec<GroupType>>,
}

/// Which groups a command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSelection {
    /// `--group`, once or more.
    Groups(Vec<String>),
    /// `--all-groups`.
    AllGroups,
}

/// `--describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsDescribe {
    pub groups: GroupSelection,
    pub view: DescribeView,
    /// `--verbose`: more columns.
    pub verbose: bool,
}

/// What `--describe` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescribeView {
    /// The default (`--offsets`): partitions with committed offset, log end offset and lag.
    Offsets,
    /// `--members`: the members and how many partitions each has.
    Members,
    /// `--state`: coordinator, assignor, state and member count.
    State,
}

/// `--reset-offsets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsResetOffsets {
    pub groups: GroupSelection,
    pub scope: ResetScope,
    pub to: ResetSpec,
    /// `--execute`. Without it the tool only prints the plan (a dry run), as the real one does.
    pub execute: bool,
    /// `--export`: print the plan as CSV.
    pub export: bool,
}

/// The partitions `--reset-offsets` moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetScope {
    /// `--all-topics`: every partition the group has committed offsets for.
    AllTopics,
    /// `--topic orders` (all partitions) or `--topic orders:0,1`, once or more.
    Topics(Vec<TopicPartitions>),
}

/// A topic, and optionally some of its partitions (`orders:0,1,2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPartitions {
    pub topic: String,
    /// `None`: every partition of the topic.
    pub partitions: Option<Vec<i32>>,
}

/// Where `--reset-offsets` moves the offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetSpec {
    /// `--to-earliest`: the log start offset.
    Earliest,
    /// `--to-latest`: the log end offset.
    Latest,
    /// `--to-current`: the committed offset (rewrites it, e.g. after `--export`).
    Current,
    /// `--to-offset N`, clamped into the partition's range as the real tool does.
    Offset(i64),
    /// `--shift-by N`: the committed offset plus N (negative goes back), clamped.
    ShiftBy(i64),
    /// `--to-datetime`: the first offset at or after this time (ms since the epoch, UTC).
    Datetime { timestamp_ms: i64 },
    /// `--by-duration PT10M`: the first offset at or after now minus this many ms.
    ByDuration { duration_ms: i64 },
}

/// `--delete-offsets`: forget a group's committed offsets for some topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsDeleteOffsets {
    pub group: String,
    pub topics: Vec<TopicPartitions>,
}

/// `--delete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsDelete {
    pub groups: GroupSelection,
}

const ACTIONS: [&str; 6] = ["list", "describe", "delete", "reset-offsets", "delete-offsets", "validate-regex"];
const SCENARIOS: [&str; 8] =
    ["to-offset", "shift-by", "to-datetime", "by-duration", "to-earliest", "to-latest", "to-current", "from-file"];

pub(crate) fn build(m: &Matches, cx: &mut Context) -> Result<Command, ErrorKind> {
    check_args(m, cx)?;
    let action_count = ACTIONS.iter().filter(|action| m.has(action)).count();
    if action_count != 1 {
        let listed: Vec<String> = ACTIONS.iter().map(|action| format!("--{action}")).collect();
        return Err(ErrorKind::Tool(format!("Command must include exactly one action: {}", listed.join(", "))));
    }

    if m.has("list") {
        let states = match (m.has("state"), m.value("state")?) {
            (false, _) => None,
            (true, None | Some("")) => Some(Vec::new()),
            (true, Some(text)) => Some(states_from(text)?),
        };
        let types = match (m.has("type"), m.value("type")?) {
            (false, _) => None,
            (true, None | Some("")) => Some(Vec::new()),
            (true, Some(text)) => Some(types_from(text)?),
        };
        return Ok(Command::GroupsList(GroupsList { states, types }));
    }
    if m.has("validate-regex") {
        return Err(ErrorKind::Unsupported {
            what: "--validate-regex".into(),
            hint: "it checks a regular expression for the KIP-848 consumer protocol, which the console does not run"
                .into(),
        });
    }
    let groups = selection(m);
    if m.has("describe") {
        let view = if m.has("members") {
            DescribeView::Members
        } else if m.has("state") {
            DescribeView::State
        } else {
            DescribeView::Offsets
        };
        return Ok(Command::GroupsDescribe(GroupsDescribe { groups, view, verbose: m.has("verbose") }));
    }
    if m.has("delete") {
        return Ok(Command::GroupsDelete(GroupsDelete { groups }));
    }
    if m.has("delete-offsets") {
        let group = m.values("group").first().map(|group| group.to_string()).unwrap_or_default();
        let topics = m.values("topic").into_iter().map(topic_partitions).collect::<Result<_, _>>()?;
        return Ok(Command::GroupsDeleteOffsets(GroupsDeleteOffsets { group, topics }));
    }

    // --reset-offsets: ConsumerGroupService.getPartitionsToReset, then prepareOffsetsToReset.
    let scope = if m.has("all-topics") {
        ResetScope::AllTopics
    } else if m.has("topic") {
        ResetScope::Topics(m.values("topic").into_iter().map(topic_partitions).collect::<Result<_, _>>()?)
    } else {
        return Err(ErrorKind::Tool("One of the reset scopes should be defined: --all-topics, --topic.".into()));
    };
    let to = if let Some(offset) = m.parsed::<i64>("to-offset")? {
        ResetSpec::Offset(offset)
    } else if m.has("to-earliest") {
        ResetSpec::Earliest
    } else if m.has("to-latest") {
        ResetSpec::Latest
    } else if let Some(shift) = m.parsed::<i64>("shift-by")? {
        ResetSpec::ShiftBy(shift)
    } else if let Some(datetime) = m.value("to-datetime")? {
        ResetSpec::Datetime { timestamp_ms: parse_datetime_ms(datetime).map_err(ErrorKind::Tool)? }
    } else if let Some(duration) = m.value("by-duration")? {
        ResetSpec::ByDuration { duration_ms: parse_duration_ms(duration).map_err(ErrorKind::Tool)? }
    } else if m.has("to-current") {
        ResetSpec::Current
    } else {
        return Err(ErrorKind::Tool(
            "Option '[reset-offsets]' requires one of the following scenarios: [[to-offset], [shift-by], \
             [to-datetime], [by-duration], [to-earliest], [to-latest], [to-current], [from-file]]"
                .into(),
        ));
    };
    Ok(Command::GroupsResetOffsets(GroupsResetOffsets {
        groups,
        scope,
        to,
        execute: m.has("execute") && !m.has("dry-run"),
        export: m.has("export"),
    }))
}

/// `ConsumerGroupCommandOptions.checkArgs` (jopt-simple's `availableIf` first, as it runs while
/// parsing).
fn check_args(m: &Matches, cx: &mut Context) -> Result<(), ErrorKind> {
    for (option, needs) in [
        ("members", &["describe"][..]),
        ("verbose", &["describe"][..]),
        ("offsets", &["describe"][..]),
        ("state", &["describe", "list"][..]),
        ("type", &["list"][..]),
    ] {
        if m.has(option) && m.first_of(needs).is_none() {
            return Err(ErrorKind::Tool(format!(
                "Option(s) [{option}] are unavailable given other options on the command line"
            )));
        }
    }
    let has_scope = m.has("group") || m.has("all-groups");
    if m.has("describe") {
        if !has_scope {
            return Err(ErrorKind::Tool("Option [describe] takes one of these options: [all-groups], [group]".into()));
        }
        if ["members", "offsets", "state"].iter().filter(|view| m.has(view)).count() > 1 {
            return Err(ErrorKind::Tool(
                "Option [describe] takes at most one of these options: [members], [offsets], [state]".into(),
            ));
        }
        if m.value("state")?.is_some() {
            return Err(ErrorKind::Tool("Option [describe] does not take a value for [state]".into()));
        }
    }
    if m.has("delete") {
        if !has_scope {
            return Err(ErrorKind::Tool("Option [delete] takes one of these options: [all-groups], [group]".into()));
        }
        if m.has("topic") {
            return Err(ErrorKind::Tool(
                "The consumer does not support topic-specific offset deletion from a consumer group.".into(),
            ));
        }
    }
    if m.has("delete-offsets") && (!m.has("group") || !m.has("topic")) {
        return Err(ErrorKind::Tool("Option [delete-offsets] takes the following options: [group], [topic]".into()));
    }
    if m.has("reset-offsets") {
        if m.has("dry-run") && m.has("execute") {
            return Err(ErrorKind::Tool("Option [reset-offsets] only accepts one of [execute] and [dry-run]".into()));
        }
        if !m.has("dry-run") && !m.has("execute") {
            cx.warnings.push(
                "WARN: No action will be performed as the --execute option is missing.In a future major release, \
                 the default behavior of this command will be to prompt the user before executing the reset rather \
                 than doing a dry run. You should add the --dry-run option explicitly if you are scripting this \
                 command and want to keep the current default behavior without prompting."
                    .into(),
            );
        }
        if !has_scope {
            return Err(ErrorKind::Tool(
                "Option [reset-offsets] takes one of these options: [all-groups], [group]".into(),
            ));
        }
        for scenario in SCENARIOS {
            let others: Vec<&str> = SCENARIOS.into_iter().filter(|other| *other != scenario).collect();
            m.check_invalid(scenario, &others)?;
        }
    }
    m.check_invalid("group", &["all-groups"])?;
    m.check_invalid("group", &["list"])?;
    m.check_invalid("topic", &["list", "describe"])?;
    Ok(())
}

fn selection(m: &Matches) -> GroupSelection {
    if m.has("all-groups") {
        GroupSelection::AllGroups
    } else {
        GroupSelection::Groups(m.values("group").into_iter().map(str::to_string).collect())
    }
}

/// `GroupOffsetsResetter.parseTopicsWithPartitions` for `topic:0,1`; a bare name is every partition.
fn topic_partitions(arg: &str) -> Result<TopicPartitions, ErrorKind> {
    if !arg.contains(':') {
        return Ok(TopicPartitions { topic: arg.to_string(), partitions: None });
    }
    let parts: Vec<&str> = arg.split(':').collect();
    let [topic, partitions] = parts[..] else {
        return Err(ErrorKind::Tool(format!("Invalid topic arg '{arg}', expected topic name and partitions")));
    };
    if partitions.is_empty() {
        return Err(ErrorKind::Tool(format!("Invalid topic arg '{arg}', expected topic name and partitions")));
    }
    let partitions = partitions
        .split(',')
        .map(|partition| {
            partition.parse::<i32>().map_err(|_| {
                ErrorKind::Tool(format!("Invalid partition '{partition}' specified in topic arg '{arg}''"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TopicPartitions { topic: topic.to_string(), partitions: Some(partitions) })
}

/// `ConsumerGroupCommand.groupStatesFromString`.
fn states_from(text: &str) -> Result<Vec<GroupStateView>, ErrorKind> {
    let mut states = Vec::new();
    for name in text.split(',').map(str::trim) {
        match GroupStateView::parse(name) {
            Some(state) if state != GroupStateView::Unknown => states.push(state),
            _ => {
                return Err(ErrorKind::Tool(format!(
                    "Invalid state list '{text}'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, \
                     Dead, Empty, Assigning, Reconciling"
                )));
            }
        }
    }
    Ok(states)
}

/// `ConsumerGroupCommand.consumerGroupTypesFromString`.
fn types_from(text: &str) -> Result<Vec<GroupType>, ErrorKind> {
    let mut types = Vec::new();
    for name in text.split(',').map(str::trim) {
        match name.to_ascii_lowercase().as_str() {
            "classic" => types.push(GroupType::Classic),
            "consumer" => types.push(GroupType::Consumer),
            _ => {
                return Err(ErrorKind::Tool(format!(
                    "Invalid types list '{text}'. Valid types are: Classic, Consumer"
                )));
            }
        }
    }
    Ok(types)
}
