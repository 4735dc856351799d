//! # Streamlab: the course server
//!
//! The `streamlab` binary serves a Kafka course: markdown lessons rendered to pages, learners'
//! progress in SQLite, an in-page console that runs Kafka's command-line tools against the
//! embedded broker from the `broker` crate, exercise checks and live views of that broker, and the
//! in-browser simulator from `wasm-sim`.
//!
//! # Layout
//!
//! * [`cli`]: the command line (clap); every `serve` flag is also a `STREAMLAB_*` variable.
//! * [`serve`]: start-up, in order: data directory, database, course, listener, router.
//!   [`listener`]: the HTTP listener under its limits (header-read and idle timeouts, a
//!   connection cap).
//! * [`course`]: the lesson engine. Reads `course.toml` and the lesson files, parses front
//!   matter, renders markdown ([`course::render`]), parses `exercise`/`simulator` blocks
//!   ([`course::blocks`]) and reports every problem as a `file:line` [`course::Diagnostic`].
//! * [`progress`]: learners and lesson progress in SQLite (sqlx, migrations in `migrations/`).
//! * [`web`]: the axum router, the page handlers and templates (`templates/` at the repository
//!   root), the JSON API the page scripts call (console, exercise checks, simulator goals, the
//!   live view's event stream and record browser), static assets (`static/`), the learner cookie
//!   and `--dev` live reload.
//! * [`console`]: the in-page console: Kafka's tools' command lines parsed ([`console::parse`]),
//!   carried out against the broker ([`console::exec`], one file per tool) and printed byte for
//!   byte as the tools print ([`console::format`](mod@console::format)).
//! * [`kafka`]: the server's Kafka client, over the wire protocol only (never broker internals,
//!   never console types): the connection pool, then one file per request family.
//! * [`live`]: the live views' snapshots, from one shared poller of the cluster.
//! * [`exercises`]: exercise checks asked of the broker, with messages that say what was found.
//! * [`check`]: `streamlab lessons check`.

pub mod check;
pub mod cli;
pub mod console;
pub mod course;
pub mod exercises;
pub mod kafka;
pub mod listener;
pub mod live;
pub mod progress;
pub mod serve;
pub mod web;
