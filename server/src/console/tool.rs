//! The console's tools and how a command word names one.
//!
//! Tutorials write the same tool several ways: `bin/kafka-topics.sh` (Apache Kafka's tarball),
//! `./kafka-topics.sh`, `$KAFKA_HOME/bin/kafka-topics.sh`, and `kafka-topics` (Confluent Platform
//! and most Docker images install the scripts without `.sh`). All of them name [`Tool::Topics`].

use std::fmt;

use super::suggest;

/// One of Apache Kafka's command-line tools that the console understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// `kafka-topics.sh`: create, list, describe, alter and delete topics.
    Topics,
    /// `kafka-console-producer.sh`: one record per input line.
    ConsoleProducer,
    /// `kafka-console-consumer.sh`: print records.
    ConsoleConsumer,
    /// `kafka-consumer-groups.sh`: list, describe, reset offsets of and delete consumer groups.
    ConsumerGroups,
    /// `kafka-configs.sh`: describe and alter dynamic configs.
    Configs,
    /// `kafka-get-offsets.sh`: offsets of partitions at a time (`GetOffsetShell`).
    GetOffsets,
    /// `kafka-metadata-quorum.sh`: the KRaft quorum's status and replication.
    MetadataQuorum,
    /// `kafka-leader-election.sh`: preferred and unclean leader elections.
    LeaderElection,
}

impl Tool {
    /// Every tool, in the order `help` lists them.
    pub const ALL: [Tool; 8] = [
        Tool::Topics,
        Tool::ConsoleProducer,
        Tool::ConsoleConsumer,
        Tool::ConsumerGroups,
        Tool::Configs,
        Tool::GetOffsets,
        Tool::MetadataQuorum,
        Tool::LeaderElection,
    ];

    /// The name without `.sh`, as Confluent Platform installs it.
    pub fn base_name(self) -> &'static str {
        match self {
            Tool::Topics => "kafka-topics",
            Tool::ConsoleProducer => "kafka-console-producer",
            Tool::ConsoleConsumer => "kafka-console-consumer",
            Tool::ConsumerGroups => "kafka-consumer-groups",
            Tool::Configs => "kafka-configs",
            Tool::GetOffsets => "kafka-get-offsets",
            Tool::MetadataQuorum => "kafka-metadata-quorum",
            Tool::LeaderElection => "kafka-leader-election",
        }
    }

    /// The script in Apache Kafka's `bin/`.
    pub fn script_name(self) -> &'static str {
        match self {
            Tool::Topics => "kafka-topics.sh",
            Tool::ConsoleProducer => "kafka-console-producer.sh",
            Tool::ConsoleConsumer => "kafka-console-consumer.sh",
            Tool::ConsumerGroups => "kafka-consumer-groups.sh",
            Tool::Configs => "kafka-configs.sh",
            Tool::GetOffsets => "kafka-get-offsets.sh",
            Tool::MetadataQuorum => "kafka-metadata-quorum.sh",
            Tool::LeaderElection => "kafka-leader-election.sh",
        }
    }

    /// The tool a command word names, if any: `kafka-topics.sh`, `bin/kafka-topics.sh`,
    /// `kafka-topics`, ...
    pub fn from_command_word(word: &str) -> Option<Tool> {
        let base = base_of(word);
        Tool::ALL.into_iter().find(|tool| tool.base_name() == base)
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.script_name())
    }
}

/// What the first word of a line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CommandWord {
    Tool(Tool),
    Help,
    /// `streamlab ...`: a lab command of this console, not a Kafka tool.
    Lab,
    /// Not a command; `suggestion` is written the way the learner wrote tool names (with or
    /// without `.sh`).
    Unknown {
        suggestion: Option<String>,
    },
}

pub(crate) fn resolve(word: &str) -> CommandWord {
    if word == "help" {
        return CommandWord::Help;
    }
    if word == "streamlab" {
        return CommandWord::Lab;
    }
    if let Some(tool) = Tool::from_command_word(word) {
        return CommandWord::Tool(tool);
    }
    let base = base_of(word);
    let names = Tool::ALL.map(Tool::base_name);
    // `kafka-producer` / `kafka-consumer`: right tool, missing `console-`.
    let by_suffix = base.strip_prefix("kafka-").and_then(|rest| {
        let mut matching = names.iter().filter(|name| name.ends_with(&format!("-{rest}")));
        match (matching.next(), matching.next()) {
            (Some(only), None) => Some(*only),
            _ => None,
        }
    });
    let guess = by_suffix.or_else(|| suggest::nearest(base, names));
    let suggestion = guess.map(|name| if word.ends_with(".sh") { format!("{name}.sh") } else { name.to_string() });
    CommandWord::Unknown { suggestion }
}

/// `bin/kafka-topics.sh` → `kafka-topics`.
fn base_of(word: &str) -> &str {
    let file = word.rsplit('/').next().unwrap_or(word);
    file.strip_suffix(".sh").unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_tool_names_with_paths_and_without_sh() {
        for word in ["kafka-topics.sh", "bin/kafka-topics.sh", "./kafka-topics.sh", "$KAFKA_HOME/bin/kafka-topics.sh"] {
            assert_eq!(Tool::from_command_word(word), Some(Tool::Topics), "{word}");
        }
        assert_eq!(Tool::from_command_word("kafka-topics"), Some(Tool::Topics));
        assert_eq!(Tool::from_command_word("kafka-console-consumer"), Some(Tool::ConsoleConsumer));
        assert_eq!(Tool::from_command_word("kafka-topics.bat"), None);
    }

    #[test]
    fn console_tool_suggestions_keep_the_learners_style() {
        assert_eq!(resolve("kafak-topics.sh"), CommandWord::Unknown { suggestion: Some("kafka-topics.sh".into()) });
        assert_eq!(resolve("kafka-topic"), CommandWord::Unknown { suggestion: Some("kafka-topics".into()) });
        assert_eq!(
            resolve("kafka-producer.sh"),
            CommandWord::Unknown { suggestion: Some("kafka-console-producer.sh".into()) }
        );
        assert_eq!(resolve("ls"), CommandWord::Unknown { suggestion: None });
        assert_eq!(resolve("help"), CommandWord::Help);
    }
}
