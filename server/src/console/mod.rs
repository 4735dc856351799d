//! The in-page Kafka console: what a learner types, read the way Apache Kafka's command-line tools
//! read it, and what those tools print, formatted the way they print it.
//!
//! Everything but [`exec`] is pure: no sockets, no clock, no files. A console session goes
//!
//! ```text
//!   learner's text ──parse_script──▶ [Invocation] ──exec──▶ broker (Kafka protocol)
//!                                                    │
//!   terminal ◀────────── format::* ◀── plain structs ┘
//! ```
//!
//! [`exec`] runs each [`Invocation`] against the learner's broker through the Kafka protocol, never
//! through broker internals, fills the plain input structs of [`format`](mod@format) from the
//! responses and prints what those functions return. Lessons' `solution` scripts go through the same
//! path, so a solution that passes in the test suite types the same way in the page.
//!
//! # Layout
//!
//! * [`parse`]: [`parse_script`], the typed [`Command`]s (one variant per tool action) and the
//!   validation the real tools do where learners trip, with the tools' own messages.
//! * [`format`](mod@format): output byte for byte like Apache Kafka 4.x (`TopicCommand`,
//!   `ConsumerGroupCommand`, `ConfigCommand`, `GetOffsetShell`, `MetadataQuorumCommand`,
//!   `DefaultMessageFormatter`), from plain input structs.
//! * [`exec`]: [`exec::run_script`], one executor per tool over [`crate::kafka`]; the only part
//!   that does I/O.
//! * [`help`]: the `help` command's text, the list of tools and per-tool usage.
//! * `shell`: POSIX-shell word splitting (quotes, backslashes, `\` continuations).
//! * `options`: jopt-simple-style option matching (`--flag value`, `--flag=value`), shared by every
//!   tool, with "did you mean" suggestions from `suggest`.

pub mod exec;
pub mod format;
pub mod help;
pub mod parse;

mod error;
mod options;
mod shell;
mod suggest;
mod tool;

pub use error::{ConsoleError, ErrorKind};
pub use parse::{Command, Invocation, parse_script};
pub use tool::Tool;

#[cfg(test)]
mod format_tests;
#[cfg(test)]
mod parse_tests;
