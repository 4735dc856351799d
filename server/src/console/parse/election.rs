//! `kafka-leader-election.sh`, read as `org.apache.kafka.tools.LeaderElectionCommand` reads it:
//! `--election-type preferred|unclean` and exactly one of `--topic` (with `--partition`),
//! `--all-topic-partitions` or `--path-to-json-file`.

use super::Command;
use crate::console::error::ErrorKind;
use crate::console::options::{Matches, OptSpec, flag, value};

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("bootstrap-server"),
    value("election-type"),
    value("topic"),
    value("partition"),
    flag("all-topic-partitions"),
    value("path-to-json-file"),
    value("admin.config"),
    value("command-config"),
    flag("help"),
    flag("version"),
];

/// Kafka's `ElectionType`, printed in capitals as the tool prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Election {
    Preferred,
    Unclean,
}

impl Election {
    /// The ElectLeaders request's `election_type`.
    pub fn wire_value(self) -> i8 {
        match self {
            Election::Preferred => 0,
            Election::Unclean => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Election::Preferred => "PREFERRED",
            Election::Unclean => "UNCLEAN",
        }
    }
}

/// `kafka-leader-election.sh --election-type ... (--topic T --partition P | --all-topic-partitions)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElection {
    pub election: Election,
    /// `None`: `--all-topic-partitions`.
    pub partition: Option<(String, i32)>,
}

pub(crate) fn build(m: &Matches) -> Result<Command, ErrorKind> {
    let Some(election) = m.value("election-type")? else {
        return Err(ErrorKind::Tool("Missing required option(s): election-type".into()));
    };
    // joptsimple's EnumConverter ignores case.
    let election = match election.to_ascii_lowercase().as_str() {
        "preferred" => Election::Preferred,
        "unclean" => Election::Unclean,
        _ => {
            return Err(ErrorKind::Tool(format!(
                "Value [{election}] for option election-type is not one of [preferred, unclean]"
            )));
        }
    };
    let chosen = ["topic", "all-topic-partitions", "path-to-json-file"].iter().filter(|name| m.has(name)).count();
    if chosen != 1 {
        return Err(ErrorKind::Tool(
            "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file"
                .into(),
        ));
    }
    if m.has("topic") && !m.has("partition") {
        return Err(ErrorKind::Tool("Missing required option(s): partition".into()));
    }
    if !m.has("topic") && m.has("partition") {
        return Err(ErrorKind::Tool("Option partition is only allowed if topic is used".into()));
    }
    let partition = match (m.value("topic")?, m.value("partition")?) {
        (Some(topic), Some(partition)) => {
            let partition = partition
                .parse::<i32>()
                .map_err(|_| ErrorKind::Tool(format!("Cannot parse argument '{partition}' of option partition")))?;
            Some((topic.to_owned(), partition))
        }
        _ => None,
    };
    Ok(Command::LeaderElection(LeaderElection { election, partition }))
}
