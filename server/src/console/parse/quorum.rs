//! `kafka-metadata-quorum.sh`, read as `org.apache.kafka.tools.MetadataQuorumCommand` reads it
//! (argparse4j: global options, then the `describe` sub-command and its switches).
//!
//! argparse4j wants `--bootstrap-server` before `describe`; the console accepts it on either side,
//! since both orders appear in tutorials and only one works on a real cluster.

use super::Command;
use crate::console::error::ErrorKind;
use crate::console::options::{Matches, OptSpec, flag, value};

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("bootstrap-server"),
    value("bootstrap-controller"),
    value("command-config"),
    flag("status"),
    flag("replication"),
    flag("human-readable"),
    flag("help"),
    flag("version"),
];

const SUBCOMMANDS: [&str; 3] = ["describe", "add-controller", "remove-controller"];

/// `describe --status` or `describe --replication`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuorumDescribe {
    pub view: QuorumView,
}

/// What `describe` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumView {
    /// `--status`: cluster id, leader, epoch, high watermark, voters and observers.
    Status,
    /// `--replication`: one row per voter and observer; `human_readable` shows "N ms ago".
    Replication { human_readable: bool },
}

/// Takes the first word that is not an option or an option's value as the sub-command.
pub(crate) fn split_subcommand(args: &[String]) -> (Option<String>, Vec<String>) {
    let takes_value = |word: &str| {
        word.strip_prefix("--").is_some_and(|name| {
            !name.contains('=')
                && OPTIONS.iter().any(|spec| spec.name == name && spec.arity != crate::console::options::Arity::Flag)
        })
    };
    let mut rest = Vec::new();
    let mut subcommand = None;
    let mut index = 0;
    while index < args.len() {
        let word = &args[index];
        if takes_value(word) {
            rest.push(word.clone());
            if let Some(value) = args.get(index + 1) {
                rest.push(value.clone());
            }
            index += 2;
            continue;
        }
        if subcommand.is_none() && !word.starts_with('-') {
            subcommand = Some(word.clone());
        } else {
            rest.push(word.clone());
        }
        index += 1;
    }
    (subcommand, rest)
}

pub(crate) fn build(m: &Matches, subcommand: Option<&str>) -> Result<Command, ErrorKind> {
    if m.has("bootstrap-server") && m.has("bootstrap-controller") {
        return Err(ErrorKind::Tool(
            "argument --bootstrap-controller: not allowed with argument --bootstrap-server".into(),
        ));
    }
    match subcommand {
        None => Err(ErrorKind::Tool(
            "too few arguments: the describe sub-command is missing (kafka-metadata-quorum.sh --bootstrap-server \
             localhost:9092 describe --status)"
                .into(),
        )),
        Some("describe") => {
            let (status, replication) = (m.has("status"), m.has("replication"));
            let view = match (status, replication) {
                (true, true) => {
                    return Err(ErrorKind::Tool(
                        "Only one of --status or --replication should be specified with describe sub-command".into(),
                    ));
                }
                (false, true) => QuorumView::Replication { human_readable: m.has("human-readable") },
                (true, false) if m.has("human-readable") => {
                    return Err(ErrorKind::Tool(
                        "The option --human-readable is only supported along with --replication".into(),
                    ));
                }
                (true, false) => QuorumView::Status,
                (false, false) => {
                    return Err(ErrorKind::Tool(
                        "One of --status or --replication must be specified with describe sub-command".into(),
                    ));
                }
            };
            Ok(Command::QuorumDescribe(QuorumDescribe { view }))
        }
        Some(other) if SUBCOMMANDS.contains(&other) => Err(ErrorKind::Unsupported {
            what: other.to_string(),
            hint: "the learner's cluster has a fixed controller quorum".into(),
        }),
        Some(other) => {
            let choices: Vec<String> = SUBCOMMANDS.iter().map(|choice| format!("'{choice}'")).collect();
            Err(ErrorKind::Tool(format!(
                "argument command: invalid choice: '{other}' (choose from {})",
                choices.join(", ")
            )))
        }
    }
}
