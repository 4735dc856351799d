//! The command line: `streamlab [serve]`, `streamlab lessons check`.
//!
//! Every `serve` flag is also an environment variable (`STREAMLAB_HTTP`, ...), so a lab can
//! configure a container without a wrapper script.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Streamlab: learn Apache Kafka with lessons, live exercises against a real embedded broker, and a
/// simulator of replication and the KRaft quorum.
///
/// Without a command, `streamlab` serves the course (as `streamlab serve`).
#[derive(Debug, Parser)]
#[command(name = "streamlab", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the course on --http, with the embedded broker on --kafka.
    Serve(ServeArgs),
    /// Run only the embedded Kafka broker, without the course.
    Broker(BrokerArgs),
    /// Tools for lesson authors.
    #[command(subcommand)]
    Lessons(LessonsCommand),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address for the web site (the course, exercises and simulator).
    #[arg(long, env = "STREAMLAB_HTTP", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub http: SocketAddr,

    #[command(flatten)]
    pub kafka: KafkaArgs,

    /// Directory for everything Streamlab stores: the progress database and the broker's logs.
    /// Created if missing.
    #[arg(long, env = "STREAMLAB_DATA_DIR", default_value = "./streamlab-data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Serve the lessons in this directory instead of the course built into the binary.
    #[arg(long, env = "STREAMLAB_LESSONS", value_name = "DIR")]
    pub lessons: Option<PathBuf>,

    /// Authoring mode: reload lessons when their files change and refresh open pages. Without
    /// --lessons, uses ./lessons when it exists.
    #[arg(long, env = "STREAMLAB_DEV")]
    pub dev: bool,

    /// A request's line and headers must arrive within this; a kept-alive connection waiting
    /// for its next request is closed after it too (slow clients cannot hold sockets).
    #[arg(long, env = "STREAMLAB_HTTP_HEADER_READ_TIMEOUT_MS", default_value_t = 30_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub http_header_read_timeout_ms: u64,

    /// A connection on which no byte moves either way for this long is closed after its
    /// response in progress (live views send a keep-alive every 15 s, so they stay open).
    #[arg(long, env = "STREAMLAB_HTTP_IDLE_TIMEOUT_MS", default_value_t = 60_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub http_idle_timeout_ms: u64,

    /// Most HTTP connections open at once; more wait until one closes.
    #[arg(long, env = "STREAMLAB_HTTP_MAX_CONNECTIONS", default_value_t = 1024, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub http_max_connections: usize,

    /// Most HTTP connections open at once from one address; past it, a new one from that
    /// address is closed at once. Half the total by default: a class behind one NAT address
    /// still fits, and one address cannot lock everyone else out.
    #[arg(long, env = "STREAMLAB_HTTP_MAX_CONNECTIONS_PER_IP", default_value_t = 512, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub http_max_connections_per_ip: usize,
}

/// The embedded broker's settings, shared by `serve` and `broker`.
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Address of the embedded Kafka broker, for the in-page console and learners' own clients
    /// (kcat, Python, Java, JavaScript).
    #[arg(long, env = "STREAMLAB_KAFKA", default_value = "127.0.0.1:9092", value_name = "ADDR")]
    pub kafka: SocketAddr,

    /// The HOST:PORT clients are told to connect to (Kafka's `advertised.listeners`); defaults to
    /// --kafka. Set it when clients reach the broker through another name, e.g. in a lab network.
    #[arg(long, env = "STREAMLAB_KAFKA_ADVERTISED", value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub kafka_advertised: Option<(String, u16)>,

    /// Create a topic when a client first uses it (Kafka's `auto.create.topics.enable`).
    #[arg(long, env = "STREAMLAB_AUTO_CREATE_TOPICS", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub auto_create_topics: bool,

    /// Brokers of the embedded KRaft cluster (ids 1..N); broker i listens on the --kafka port + (i − 1).
    #[arg(long, env = "STREAMLAB_BROKERS", default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=7))]
    pub brokers: u8,

    /// KRaft controllers of the embedded cluster (ids 3000..): 1, 3 or 5.
    #[arg(long, env = "STREAMLAB_CONTROLLERS", default_value_t = 3, value_name = "M", value_parser = parse_controllers)]
    pub controllers: u8,

    /// Replicas of a topic created without a replication factor (Kafka's
    /// `default.replication.factor`); defaults to min(3, brokers).
    #[arg(long, env = "STREAMLAB_DEFAULT_REPLICATION_FACTOR", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=7))]
    pub default_replication_factor: Option<u16>,

    /// A broker without a heartbeat for this long is fenced (Kafka's `broker.session.timeout.ms`).
    #[arg(long, env = "STREAMLAB_BROKER_SESSION_TIMEOUT_MS", default_value_t = 9_000, value_name = "MS")]
    pub broker_session_timeout_ms: u64,

    /// A follower not caught up for this long leaves the ISR (Kafka's `replica.lag.time.max.ms`).
    #[arg(long, env = "STREAMLAB_REPLICA_LAG_TIME_MAX_MS", default_value_t = 30_000, value_name = "MS")]
    pub replica_lag_time_max_ms: u64,

    /// Largest request a client may send, in bytes (Kafka's `socket.request.max.bytes`); a
    /// larger one closes its connection.
    #[arg(long, env = "STREAMLAB_SOCKET_REQUEST_MAX_BYTES", default_value_t = 8 * 1024 * 1024, value_name = "BYTES", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=i32::MAX as u64))]
    pub socket_request_max_bytes: usize,

    /// Most client connections per broker (Kafka's `max.connections`); more wait until one closes.
    #[arg(long, env = "STREAMLAB_MAX_CONNECTIONS", default_value_t = 4096, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections: usize,

    /// Most client connections per broker from one IP address (Kafka's
    /// `max.connections.per.ip`); one more is closed at once.
    #[arg(long, env = "STREAMLAB_MAX_CONNECTIONS_PER_IP", default_value_t = 1000, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections_per_ip: usize,

    /// A connection with no request in flight and no traffic for this long is closed (Kafka's
    /// `connections.max.idle.ms`).
    #[arg(long, env = "STREAMLAB_CONNECTIONS_MAX_IDLE_MS", default_value_t = 600_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub connections_max_idle_ms: u64,

    /// A request whose bytes have not all arrived this long after its first one is dropped with
    /// its connection (no Kafka counterpart: Kafka relies on `connections.max.idle.ms`).
    #[arg(long, env = "STREAMLAB_REQUEST_READ_TIMEOUT_MS", default_value_t = 30_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub request_read_timeout_ms: u64,

    /// Request bytes in flight across all connections before the brokers stop reading more
    /// (Kafka's `queued.max.request.bytes`); -1: unbounded, as in Kafka.
    #[arg(long, env = "STREAMLAB_QUEUED_MAX_REQUEST_BYTES", default_value_t = 100 * 1024 * 1024, value_name = "BYTES", allow_negative_numbers = true, value_parser = parse_queued_max_request_bytes)]
    pub queued_max_request_bytes: i64,

    /// Most segment and index files the brokers keep open at once; the least recently used
    /// closes to make room. No Kafka counterpart (Kafka keeps every segment open and wants a huge
    /// `ulimit -n`). Default: half the process's open-files limit (`ulimit -n`).
    #[arg(long, env = "STREAMLAB_MAX_OPEN_LOG_FILES", value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_open_log_files: Option<usize>,

    /// Most partition replicas (partitions × replication factor, over all topics) the cluster
    /// may hold; creating more is refused with POLICY_VIOLATION. No Kafka counterpart.
    #[arg(long, env = "STREAMLAB_MAX_PARTITION_REPLICAS", default_value_t = broker::DEFAULT_MAX_PARTITION_REPLICAS, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_partition_replicas: u32,

    /// Broker settings in Kafka's `server.properties` format (`num.partitions=4`, ...), applied
    /// after the flags above. Unknown keys are refused.
    #[arg(long = "config", env = "STREAMLAB_BROKER_CONFIG", value_name = "FILE")]
    pub broker_properties: Option<PathBuf>,

    /// One broker setting by Kafka's name, as `kafka-server-start.sh --override KEY=VALUE`;
    /// repeatable, applied after --config.
    #[arg(long = "override", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

fn parse_queued_max_request_bytes(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(bytes) if bytes == -1 || bytes > 0 => Ok(bytes),
        _ => Err(format!("`{text}`: a number of bytes, or -1 for no limit")),
    }
}

fn parse_controllers(text: &str) -> Result<u8, String> {
    match text.parse::<u8>() {
        Ok(n @ (1 | 3 | 5)) => Ok(n),
        _ => Err(format!("`{text}`: a KRaft quorum has 1, 3 or 5 controllers (an odd number, so a majority is clear)")),
    }
}

fn parse_host_port(text: &str) -> Result<(String, u16), String> {
    let (host, port) = text.rsplit_once(':').ok_or_else(|| format!("`{text}` is not HOST:PORT"))?;
    let port = port.parse().map_err(|_| format!("`{port}` is not a port number"))?;
    if host.is_empty() {
        return Err(format!("`{text}` has no host"));
    }
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port))
}

#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,

    /// Directory for the broker's logs (under `kafka/`). Created if missing.
    #[arg(long, env = "STREAMLAB_DATA_DIR", default_value = "./streamlab-data", value_name = "DIR")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum LessonsCommand {
    /// Check every lesson in DIR: front matter, links between lessons, exercise and simulator
    /// blocks. Prints `file:line: message` per problem and exits with 1 if there is any.
    Check {
        /// The course directory (with course.toml and the lesson files).
        #[arg(default_value = "lessons", value_name = "DIR")]
        dir: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_command_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["streamlab"]).expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.http.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.serve.kafka.kafka.to_string(), "127.0.0.1:9092");
        assert!(cli.serve.kafka.auto_create_topics);
        assert_eq!(cli.serve.data_dir, PathBuf::from("./streamlab-data"));
        assert!(!cli.serve.dev);
        let kafka = &cli.serve.kafka;
        assert_eq!((kafka.brokers, kafka.controllers, kafka.default_replication_factor), (3, 3, None));
        assert_eq!((kafka.broker_session_timeout_ms, kafka.replica_lag_time_max_ms), (9_000, 30_000));
        assert_eq!((kafka.max_connections, kafka.max_connections_per_ip), (4096, 1000));
        assert_eq!((kafka.connections_max_idle_ms, kafka.request_read_timeout_ms), (600_000, 30_000));
        assert_eq!((kafka.socket_request_max_bytes, kafka.queued_max_request_bytes), (8 << 20, 100 << 20));
        assert_eq!((kafka.max_open_log_files, kafka.max_partition_replicas), (None, 5_000));
        let serve = &cli.serve;
        assert_eq!(
            (
                serve.http_header_read_timeout_ms,
                serve.http_idle_timeout_ms,
                serve.http_max_connections,
                serve.http_max_connections_per_ip
            ),
            (30_000, 60_000, 1024, 512)
        );
    }

    #[test]
    fn connection_limits_parse() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["streamlab", "broker"], args].concat());
        let Some(Command::Broker(args)) =
            parse(&["--queued-max-request-bytes", "-1", "--max-connections-per-ip", "5"]).expect("parses").command
        else {
            panic!("broker")
        };
        assert_eq!((args.kafka.queued_max_request_bytes, args.kafka.max_connections_per_ip), (-1, 5));
        assert!(parse(&["--queued-max-request-bytes", "0"]).is_err(), "0 bytes would stop every request");
        assert!(parse(&["--max-connections-per-ip", "0"]).is_err());
        assert!(parse(&["--socket-request-max-bytes", "4294967296"]).is_err(), "a frame size is an int32");
    }

    #[test]
    fn file_and_partition_budgets_parse() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["streamlab", "broker"], args].concat());
        let Some(Command::Broker(args)) =
            parse(&["--max-open-log-files", "64", "--max-partition-replicas", "300"]).expect("parses").command
        else {
            panic!("broker")
        };
        assert_eq!((args.kafka.max_open_log_files, args.kafka.max_partition_replicas), (Some(64), 300));
        assert!(parse(&["--max-open-log-files", "0"]).is_err());
        assert!(parse(&["--max-partition-replicas", "0"]).is_err());
    }

    #[test]
    fn cluster_shapes_are_checked() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["streamlab", "broker"], args].concat());
        let Some(Command::Broker(args)) = parse(&["--brokers", "5", "--controllers", "1"]).expect("parses").command
        else {
            panic!("broker")
        };
        assert_eq!((args.kafka.brokers, args.kafka.controllers), (5, 1));
        assert!(parse(&["--brokers", "8"]).is_err(), "at most 7 brokers");
        assert!(parse(&["--brokers", "0"]).is_err());
        let even = parse(&["--controllers", "2"]).expect_err("even quorum").to_string();
        assert!(even.contains("1, 3 or 5 controllers"), "{even}");
    }

    #[test]
    fn serve_flags_parse() {
        let cli = Cli::try_parse_from(["streamlab", "serve", "--http", "0.0.0.0:80", "--lessons", "course", "--dev"])
            .expect("parses");
        let Some(Command::Serve(args)) = cli.command else { panic!("serve") };
        assert_eq!(args.http.port(), 80);
        assert_eq!(args.lessons, Some(PathBuf::from("course")));
        assert!(args.dev);
    }

    #[test]
    fn broker_flags_parse() {
        let cli = Cli::try_parse_from([
            "streamlab",
            "broker",
            "--kafka",
            "0.0.0.0:9092",
            "--kafka-advertised",
            "lab.example:19092",
            "--auto-create-topics",
            "false",
        ])
        .expect("parses");
        let Some(Command::Broker(args)) = cli.command else { panic!("broker") };
        assert_eq!(args.kafka.kafka_advertised, Some(("lab.example".to_owned(), 19092)));
        assert!(!args.kafka.auto_create_topics);
        assert!(Cli::try_parse_from(["streamlab", "broker", "--kafka-advertised", "nohost"]).is_err());
    }

    #[test]
    fn bad_address_is_a_clear_error() {
        let error = Cli::try_parse_from(["streamlab", "serve", "--http", "localhost"]).expect_err("invalid");
        assert!(error.to_string().contains("invalid value 'localhost' for '--http <ADDR>'"), "{error}");
    }
}
