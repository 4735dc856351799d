//! Runs console scripts: each [`Invocation`] parsed by [`crate::console::parse`] is carried out
//! against the learner's broker through the Kafka protocol ([`crate::kafka`]) and printed the way
//! the real tool prints it ([`crate::console::format`]).
//!
//! One file per tool, as in `parse/`; `run` only dispatches. Carried out: `kafka-topics`
//! (create, list, describe, alter partitions, delete), `kafka-console-producer`,
//! `kafka-console-consumer` (from the beginning, a partition, an offset; with `--group`, offsets are
//! read from and committed to the group), `kafka-get-offsets`, `kafka-configs` on topics and brokers (per broker and cluster-wide),
//! `kafka-consumer-groups` (list, describe offsets / members / state, reset offsets with dry run
//! and execute, delete), `kafka-metadata-quorum` (describe `--status` and `--replication`), and
//! `help`. Whatever else parses but is not carried out (such as `kafka-consumer-groups
//! --delete-offsets`) answers that it is not available in this console yet.

mod configs;
mod consumer;
mod election;
mod groups;
mod lab;
mod offsets;
mod producer;
mod quorum;
mod topics;

use crate::console::{Command, Invocation, help, parse_script};
use crate::kafka::{Kafka, KafkaError};

/// What a script printed, and whether every command succeeded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScriptOutput {
    pub output: String,
    pub ok: bool,
}

/// What one tool printed (stdout and stderr in the order a terminal shows them) and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ToolOutput {
    /// Exit status 0: the script goes on.
    Success(String),
    /// A non-zero exit status, its error message last: the script stops here.
    Failure(String),
}

impl ToolOutput {
    /// A tool that printed nothing and succeeded (most admin commands on success).
    fn silent() -> ToolOutput {
        ToolOutput::Success(String::new())
    }
}

/// A tool run: its output, or `Err` when the broker could not be reached at all.
type ToolResult = Result<ToolOutput, KafkaError>;

/// Parses and runs `script`; stops at the first command that fails, as a shell with `set -e`.
/// Without a cluster handle, lab commands (`streamlab broker stop 2`) fail.
pub async fn run_script(kafka: &Kafka, script: &str) -> ScriptOutput {
    run_lab_script(kafka, None, script).await
}

/// [`run_script`] with the control over the learner's embedded cluster, for lab commands.
pub async fn run_lab_script(kafka: &Kafka, cluster: Option<&broker::ClusterControl>, script: &str) -> ScriptOutput {
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
        let result = match &invocation.command {
            Command::Lab(lab) => Ok(lab::run(cluster, lab).await),
            _ => run(kafka, &invocation).await,
        };
        match result {
            Ok(ToolOutput::Success(text)) => output.push_str(&text),
            Ok(ToolOutput::Failure(text)) => {
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

/// Runs one invocation with the tool's executor.
async fn run(kafka: &Kafka, invocation: &Invocation) -> ToolResult {
    match &invocation.command {
        Command::Help { tool } => Ok(ToolOutput::Success(help::help_text(*tool))),
        Command::TopicsCreate(create) => topics::create(kafka, create).await,
        Command::TopicsList(list) => topics::list(kafka, list).await,
        Command::TopicsDescribe(describe) => topics::describe(kafka, describe).await,
        Command::TopicsAlter(alter) => topics::alter(kafka, alter).await,
        Command::TopicsDelete(delete) => topics::delete(kafka, delete).await,
        Command::Produce(produce) => producer::produce(kafka, produce).await,
        Command::Consume(consume) => consumer::consume(kafka, consume).await,
        Command::GetOffsets(get) => offsets::get_offsets(kafka, get).await,
        Command::ConfigsDescribe(describe) => configs::describe(kafka, describe).await,
        Command::ConfigsAlter(alter) => configs::alter(kafka, alter).await,
        Command::GroupsList(_) => groups::list(kafka).await,
        Command::GroupsDescribe(describe) => groups::describe(kafka, describe).await,
        Command::GroupsResetOffsets(reset) => groups::reset_offsets(kafka, reset).await,
        Command::GroupsDelete(delete) => groups::delete(kafka, delete).await,
        Command::QuorumDescribe(describe) => quorum::describe(kafka, describe).await,
        Command::LeaderElection(election) => election::elect(kafka, election).await,
        // Run by `run_lab_script`, which has the cluster handle.
        Command::Lab(_) => Ok(ToolOutput::Failure("Error: lab commands need Streamlab's embedded cluster.\n".into())),
        Command::GroupsDeleteOffsets(_) => Ok(ToolOutput::Failure(format!(
            "{} is not available in this console yet.\n",
            invocation.text.split_whitespace().next().unwrap_or("this command")
        ))),
    }
}
