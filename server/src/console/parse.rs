//! Reading a console script into typed commands.
//!
//! A script is what a learner types, or what an exercise's `solution` holds: one command per line,
//! `\` continuing a command on the next line, blank lines and `#` comments skipped. A
//! `kafka-console-producer.sh` line is followed by its input, one record per line, up to the next
//! line that starts with a tool name (blank and `#` lines at the very end of the input are taken
//! as spacing, not records). A leading `$ ` prompt, as tutorials print it, is ignored.
//!
//! Each tool's options are checked the way the real tool checks them, in the same order and with
//! the same words where learners trip (see each submodule for the class it follows).
//! `--bootstrap-server` is optional here and only recorded: the console always talks to the
//! learner's broker. Everything else a command needs is parsed into typed fields, so the executor
//! never looks at text again.

mod configs;
mod consumer;
mod election;
mod groups;
mod offsets;
mod producer;
mod quorum;
mod time;
mod topics;

pub use configs::{ConfigEntity, ConfigsAlter, ConfigsDescribe};
pub use consumer::{Consume, Deserializer, IsolationLevel, MessageFormat, OffsetSpec, Subscription};
pub use election::{Election, LeaderElection};
pub use groups::{
    DescribeView, GroupSelection, GroupsDelete, GroupsDeleteOffsets, GroupsDescribe, GroupsList, GroupsResetOffsets,
    ResetScope, ResetSpec, TopicPartitions,
};
pub use offsets::{GetOffsets, OffsetTime, PartitionFilter, TopicPartitionRule};
pub use producer::{Acks, CompressionArg, LineReader, Produce, RecordInput};
pub use quorum::{QuorumDescribe, QuorumView};
pub use topics::{PartitionReports, TopicsAlter, TopicsCreate, TopicsDelete, TopicsDescribe, TopicsList};

use super::error::{ConsoleError, ErrorKind};
use super::options::{self, Matches};
use super::shell::{self, Operator, Split};
use super::tool::{self, CommandWord, Tool};

/// One command of a script, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The 1-based script line the command starts on.
    pub line: usize,
    /// The command as typed (continuation lines joined with `\n`), for the console's echo and
    /// history. A producer's record lines are not part of it.
    pub text: String,
    /// `--bootstrap-server` (or the producer's deprecated `--broker-list`) as typed. The console
    /// runs against the learner's broker whatever it says.
    pub bootstrap_server: Option<String>,
    pub command: Command,
    /// Lines the real tool prints before it does anything (its warnings, on stdout or stderr): show
    /// them before the command's output.
    pub warnings: Vec<String>,
}

/// What a command asks for: one variant per tool action.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `kafka-topics.sh --create`
    TopicsCreate(TopicsCreate),
    /// `kafka-topics.sh --list`
    TopicsList(TopicsList),
    /// `kafka-topics.sh --describe`
    TopicsDescribe(TopicsDescribe),
    /// `kafka-topics.sh --alter`
    TopicsAlter(TopicsAlter),
    /// `kafka-topics.sh --delete`
    TopicsDelete(TopicsDelete),
    /// `kafka-console-producer.sh` with the records that follow it.
    Produce(Produce),
    /// `kafka-console-consumer.sh`
    Consume(Box<Consume>),
    /// `kafka-consumer-groups.sh --list`
    GroupsList(GroupsList),
    /// `kafka-consumer-groups.sh --describe`
    GroupsDescribe(GroupsDescribe),
    /// `kafka-consumer-groups.sh --reset-offsets`
    GroupsResetOffsets(GroupsResetOffsets),
    /// `kafka-consumer-groups.sh --delete-offsets`
    GroupsDeleteOffsets(GroupsDeleteOffsets),
    /// `kafka-consumer-groups.sh --delete`
    GroupsDelete(GroupsDelete),
    /// `kafka-configs.sh --describe`
    ConfigsDescribe(ConfigsDescribe),
    /// `kafka-configs.sh --alter`
    ConfigsAlter(ConfigsAlter),
    /// `kafka-get-offsets.sh`
    GetOffsets(GetOffsets),
    /// `kafka-metadata-quorum.sh describe`
    QuorumDescribe(QuorumDescribe),
    /// `kafka-leader-election.sh`
    LeaderElection(LeaderElection),
    /// `help`, `help <tool>`, `<tool> --help`, or a tool with no options (the real tools print
    /// their usage then).
    Help { tool: Option<Tool> },
    /// `streamlab broker|controller stop|start <id>`: a lab command (Kafka has no tool for it).
    Lab(LabCommand),
}

/// Which kind of node a lab command acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Broker,
    Controller,
}

/// `streamlab broker stop 2`: stop (crash) or start one node of the learner's cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabCommand {
    pub kind: NodeKind,
    pub start: bool,
    pub target: LabTarget,
}

/// Which node: by id, or (`streamlab controller stop active`) whichever controller leads now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabTarget {
    Id(i32),
    ActiveController,
}

/// The words after `streamlab`.
fn lab_command(args: &[String]) -> Result<Command, ErrorKind> {
    const USAGE: &str = "usage: streamlab broker stop|start <id>, or streamlab controller stop|start <id>|active";
    let [kind, action, id] = args else { return Err(ErrorKind::Tool(USAGE.into())) };
    let kind = match kind.as_str() {
        "broker" => NodeKind::Broker,
        "controller" => NodeKind::Controller,
        _ => return Err(ErrorKind::Tool(format!("{kind} is not a node kind: broker or controller; {USAGE}"))),
    };
    let start = match action.as_str() {
        "start" => true,
        "stop" => false,
        _ => return Err(ErrorKind::Tool(format!("{action} is not an action: stop or start; {USAGE}"))),
    };
    let target = match (kind, id.as_str()) {
        (NodeKind::Controller, "active") => LabTarget::ActiveController,
        _ => LabTarget::Id(id.parse().map_err(|_| ErrorKind::Tool(format!("{id} is not a node id; {USAGE}")))?),
    };
    Ok(Command::Lab(LabCommand { kind, start, target }))
}

impl Command {
    /// The tool that runs the command; `None` for the console's own `help`.
    pub fn tool(&self) -> Option<Tool> {
        Some(match self {
            Command::TopicsCreate(_)
            | Command::TopicsList(_)
            | Command::TopicsDescribe(_)
            | Command::TopicsAlter(_)
            | Command::TopicsDelete(_) => Tool::Topics,
            Command::Produce(_) => Tool::ConsoleProducer,
            Command::Consume(_) => Tool::ConsoleConsumer,
            Command::GroupsList(_)
            | Command::GroupsDescribe(_)
            | Command::GroupsResetOffsets(_)
            | Command::GroupsDeleteOffsets(_)
            | Command::GroupsDelete(_) => Tool::ConsumerGroups,
            Command::ConfigsDescribe(_) | Command::ConfigsAlter(_) => Tool::Configs,
            Command::GetOffsets(_) => Tool::GetOffsets,
            Command::QuorumDescribe(_) => Tool::MetadataQuorum,
            Command::LeaderElection(_) => Tool::LeaderElection,
            Command::Help { tool } => return *tool,
            Command::Lab(_) => return None,
        })
    }
}

/// What a tool's builder collects besides the command.
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub(crate) warnings: Vec<String>,
}

/// Reads a whole script. Stops at the first line that cannot run, as a shell script with `set -e`
/// would, so that nothing after a mistake runs against the broker.
///
/// # Errors
///
/// The first problem, with its script line: an unknown command or option, a missing or malformed
/// value, a combination the real tool refuses, an unclosed quote, a shell operator, or a producer
/// record that does not parse (`No key separator found ...`).
pub fn parse_script(text: &str) -> Result<Vec<Invocation>, ConsoleError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut invocations = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let first = index;
        index += 1;
        let trimmed = lines[first].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let line = first + 1;
        let at = |kind| ConsoleError::new(line, kind);

        // Gather the command's lines first (an open quote or a trailing `\` continues it), tracking
        // the lexer line by line, then split the words once: linear in the script's length.
        let mut source = continued(lines[first]).to_string();
        let mut lexer = shell::LexState::default().advance(&source);
        while !lexer.is_complete() && index < lines.len() {
            let next = continued(lines[index]);
            source.push('\n');
            source.push_str(next);
            lexer = lexer.advance("\n").advance(next);
            index += 1;
        }
        let words = match shell::split_words(&source) {
            Ok(Split::Complete(words)) => words,
            // A `\` on the script's last line continues into nothing: drop it, as `sh -c` does.
            Ok(Split::Incomplete) => match source.strip_suffix('\\').map(shell::split_words) {
                Some(Ok(Split::Complete(words))) => words,
                Some(Err(Operator(operator))) => return Err(at(ErrorKind::ShellOperator { operator })),
                _ => return Err(at(ErrorKind::UnclosedQuote)),
            },
            Err(Operator(operator)) => return Err(at(ErrorKind::ShellOperator { operator })),
        };
        let words = match words.split_first() {
            Some((prompt, rest)) if prompt == "$" => rest,
            _ => &words[..],
        };
        let Some((command_word, args)) = words.split_first() else {
            continue;
        };

        let tool = match tool::resolve(command_word) {
            CommandWord::Tool(tool) => tool,
            // The console's own commands: no tool options to parse, no bootstrap server.
            own @ (CommandWord::Help | CommandWord::Lab) => {
                let command = match own {
                    CommandWord::Lab => lab_command(args),
                    _ => help_command(args),
                }
                .map_err(at)?;
                invocations.push(Invocation {
                    line,
                    text: source,
                    bootstrap_server: None,
                    command,
                    warnings: Vec::new(),
                });
                continue;
            }
            CommandWord::Unknown { suggestion } => {
                return Err(at(ErrorKind::UnknownCommand { name: command_word.clone(), suggestion }));
            }
        };

        let mut records = Vec::new();
        if tool == Tool::ConsoleProducer {
            while index < lines.len() && !starts_with_tool(lines[index]) {
                records.push((index + 1, lines[index]));
                index += 1;
            }
            while records.last().is_some_and(|(_, record)| is_spacing(record)) {
                records.pop();
            }
        }

        let mut cx = Context::default();
        let (bootstrap_server, command) = build(tool, args, &records, &mut cx).map_err(|error| match error {
            Failure::Command(kind) => at(kind),
            Failure::Record(record_line, kind) => ConsoleError::new(record_line, kind),
        })?;
        invocations.push(Invocation { line, text: source, bootstrap_server, command, warnings: cx.warnings });
    }
    Ok(invocations)
}

/// Where a producer command failed: on its own line, or on one of its records.
pub(crate) enum Failure {
    Command(ErrorKind),
    Record(usize, ErrorKind),
}

impl From<ErrorKind> for Failure {
    fn from(kind: ErrorKind) -> Self {
        Failure::Command(kind)
    }
}

fn build(
    tool: Tool,
    args: &[String],
    records: &[(usize, &str)],
    cx: &mut Context,
) -> Result<(Option<String>, Command), Failure> {
    let (specs, subcommand, args) = match tool {
        Tool::Topics => (topics::OPTIONS, None, args.to_vec()),
        Tool::ConsoleProducer => (producer::OPTIONS, None, args.to_vec()),
        Tool::ConsoleConsumer => (consumer::OPTIONS, None, args.to_vec()),
        Tool::ConsumerGroups => (groups::OPTIONS, None, args.to_vec()),
        Tool::Configs => (configs::OPTIONS, None, args.to_vec()),
        Tool::GetOffsets => (offsets::OPTIONS, None, args.to_vec()),
        Tool::LeaderElection => (election::OPTIONS, None, args.to_vec()),
        Tool::MetadataQuorum => {
            let (subcommand, rest) = quorum::split_subcommand(args);
            (quorum::OPTIONS, subcommand, rest)
        }
    };
    let m = options::match_options(tool, specs, &args)?;
    if (m.is_empty() && subcommand.is_none()) || m.has("help") {
        return Ok((None, Command::Help { tool: Some(tool) }));
    }
    if m.has("version") {
        return Err(ErrorKind::Unsupported {
            what: "--version".into(),
            hint: "the console's tools follow Apache Kafka 4.x".into(),
        }
        .into());
    }
    reject_file_options(&m)?;
    let mut bootstrap_server = m.value("bootstrap-server")?.map(str::to_string);
    let command = match tool {
        Tool::Topics => topics::build(&m, cx)?,
        Tool::ConsoleProducer => {
            if bootstrap_server.is_none() {
                bootstrap_server = m.value("broker-list")?.map(str::to_string);
            }
            producer::build(&m, records, cx)?
        }
        Tool::ConsoleConsumer => consumer::build(&m, cx)?,
        Tool::ConsumerGroups => groups::build(&m, cx)?,
        Tool::Configs => configs::build(&m, cx)?,
        Tool::GetOffsets => offsets::build(&m, cx)?,
        Tool::MetadataQuorum => quorum::build(&m, subcommand.as_deref())?,
        Tool::LeaderElection => election::build(&m)?,
    };
    Ok((bootstrap_server, command))
}

/// Options that read a file on the machine running the tool; the console has no such machine.
fn reject_file_options(m: &Matches) -> Result<(), ErrorKind> {
    const FILE_OPTIONS: &[(&str, &str)] = &[
        ("command-config", "pass settings with the tool's key=value options instead (--command-property ...)"),
        ("producer.config", "pass producer settings with --producer-property key=value"),
        ("consumer.config", "pass consumer settings with --consumer-property key=value"),
        ("reader-config", "pass reader settings with --property key=value"),
        ("formatter-config", "pass formatter settings with --property key=value"),
        ("add-config-file", "list the configs with --add-config k1=v1,k2=v2"),
        ("from-file", "reset with --to-earliest, --to-latest, --to-offset, --shift-by or --to-datetime"),
        ("line-reader", "records are read one per line (parse.key, key.separator, parse.headers)"),
        ("path-to-json-file", "elect one partition with --topic and --partition, or --all-topic-partitions"),
        ("admin.config", "the console's admin client needs no settings"),
    ];
    for (name, hint) in FILE_OPTIONS {
        if m.tool_has(name) {
            return Err(ErrorKind::Unsupported {
                what: format!("--{name}"),
                hint: format!("it needs a file or a class on the machine running the tool; {hint}"),
            });
        }
    }
    Ok(())
}

fn help_command(args: &[String]) -> Result<Command, ErrorKind> {
    match args {
        [] => Ok(Command::Help { tool: None }),
        [name] => match tool::resolve(name) {
            CommandWord::Tool(tool) => Ok(Command::Help { tool: Some(tool) }),
            CommandWord::Help | CommandWord::Lab => Ok(Command::Help { tool: None }),
            CommandWord::Unknown { suggestion } => Err(ErrorKind::UnknownCommand { name: name.clone(), suggestion }),
        },
        [_, extra, ..] => Err(ErrorKind::Tool(format!("help takes one tool name, got also {extra}"))),
    }
}

/// A line ending in `\` (with blanks after it, which copy-paste adds) continues the command.
fn continued(line: &str) -> &str {
    let trimmed = line.trim_end();
    if trimmed.ends_with('\\') { trimmed } else { line }
}

fn starts_with_tool(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let first = match words.next() {
        Some("$") => words.next(),
        first => first,
    };
    // A lab command ends a producer's records too.
    first.is_some_and(|word| Tool::from_command_word(word).is_some() || word == "streamlab")
}

fn is_spacing(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// `key=value` pairs as `CommandLineUtils.parseKeyValueArgs` reads them: split at the first `=`,
/// a missing value is `""`.
pub(crate) fn key_values(args: &[&str]) -> Vec<(String, String)> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (arg.to_string(), String::new()),
        })
        .collect()
}

/// Java's `"true".equalsIgnoreCase(value.trim())`, how the tools read boolean properties.
pub(crate) fn java_bool(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("true")
}
