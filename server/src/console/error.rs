//! Why a script could not be read: every error names the script line it is about.
//!
//! Messages that the real tools print themselves are kept word for word (`Missing required argument
//! "[topic]"`, `Command must include exactly one action: ...`) so that what a learner sees here is
//! what they will see on a real cluster; the console's own messages (unknown commands and options,
//! shell syntax) add a suggestion where one is likely.

use super::tool::Tool;

/// A script line that cannot be run, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ConsoleError {
    line: usize,
    kind: ErrorKind,
}

impl ConsoleError {
    pub(crate) fn new(line: usize, kind: ErrorKind) -> Self {
        ConsoleError { line, kind }
    }

    /// The 1-based line of the script: the command's first line, or a producer record's own line.
    pub fn line(&self) -> usize {
        self.line
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message without the line number, for a console that ran a single line.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// What went wrong on a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The first word is not one of the console's tools.
    #[error("{}", unknown_command_message(name, suggestion.as_deref()))]
    UnknownCommand { name: String, suggestion: Option<String> },
    /// An option the tool does not have. `suggestion` is a close option name, or a whole hint such
    /// as `--property parse.key=true` for options learners guess from other tools.
    #[error(
        "unknown option {option}{}",
        match suggestion {
            Some(suggestion) => format!("; did you mean {suggestion}?"),
            None => format!("; type help {tool} for its options"),
        }
    )]
    UnknownOption { tool: Tool, option: String, suggestion: Option<String> },
    /// A word that belongs to no option: jopt-simple would silently ignore it, which hides typos
    /// like `--topic my topic`, so the console refuses it.
    #[error(
        "unexpected argument {argument}: values go right after their option (--option value), and values \
         with spaces need quotes; type help {tool} for its options"
    )]
    UnexpectedArgument { tool: Tool, argument: String },
    /// `--topic` at the end of the line, or followed by another option.
    #[error("Option {option} requires an argument")]
    MissingValue { option: String },
    /// `--from-beginning=true`: the option is a switch.
    #[error("Option {option} does not take an argument")]
    UnexpectedValue { option: String },
    /// A `'` or `"` that the script never closes.
    #[error("unexpected end of script: a quote (' or \") is never closed")]
    UnclosedQuote,
    /// `|`, `>`, `&&`... The console runs one tool per line, with no shell around it.
    #[error("{}", shell_operator_message(*operator))]
    ShellOperator { operator: char },
    /// Something the real tool does that the console cannot, such as reading a local file.
    #[error("{what} is not available in the Streamlab console: {hint}")]
    Unsupported { what: String, hint: String },
    /// A message the real tool prints for this mistake, word for word.
    #[error("{0}")]
    Tool(String),
}

fn unknown_command_message(name: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(suggestion) => format!("unknown command {name}; did you mean {suggestion}? Type help for the list"),
        None => format!("unknown command {name}. Type help for the list"),
    }
}

fn shell_operator_message(operator: char) -> String {
    match operator {
        '|' => "pipes (|) are not supported: the console runs one command per line; to produce records, \
                type them on the lines after kafka-console-producer.sh"
            .to_string(),
        '<' | '>' => format!(
            "redirections ({operator}) are not supported: the console has no files; to produce records, \
             type them on the lines after kafka-console-producer.sh"
        ),
        _ => format!(
            "shell operators ({operator}) are not supported: put one command per line (quote the value if \
             {operator} is part of it)"
        ),
    }
}
