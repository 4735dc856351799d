//! `streamlab serve`: start-up in the order things depend on each other, then serve until a
//! shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;

use crate::cli::{BrokerArgs, KafkaArgs, ServeArgs};
use crate::course::{Course, CourseSource, highlight};
use crate::listener::HttpLimits;
use crate::progress::{self, Progress};
use crate::web::{self, AppState, live_reload};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Database(#[from] progress::Error),
    #[error("cannot read the lessons in {path}: {source}")]
    Lessons { path: PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source} (is another server using it? choose another address with --http)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot watch {path} for changes: {source}")]
    Watch { path: PathBuf, source: notify::Error },
    #[error("the web server stopped: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    #[error("in the broker settings {path}: {message}")]
    BrokerProperties { path: PathBuf, message: String },
    #[error("broker setting {0}")]
    BrokerSetting(String),
}

/// The broker's directory inside the data directory, next to the database.
pub const BROKER_DIR: &str = "kafka";

fn broker_config(kafka: &KafkaArgs, data_dir: &std::path::Path) -> Result<broker::BrokerConfig, ServeError> {
    let mut config = broker::BrokerConfig::new(kafka.kafka, data_dir.join(BROKER_DIR));
    config.advertised = kafka.kafka_advertised.clone();
    config.auto_create_topics = kafka.auto_create_topics;
    config.brokers = kafka.brokers;
    config.controllers = kafka.controllers;
    config.default_replication_factor = kafka.default_replication_factor;
    config.broker_session_timeout_ms = kafka.broker_session_timeout_ms;
    config.replica_lag_time_max_ms = kafka.replica_lag_time_max_ms;
    config.max_request_bytes = kafka.socket_request_max_bytes;
    config.max_connections = kafka.max_connections;
    config.max_connections_per_ip = kafka.max_connections_per_ip;
    config.connections_max_idle_ms = kafka.connections_max_idle_ms;
    config.request_read_timeout_ms = kafka.request_read_timeout_ms;
    // Kafka's −1: unbounded.
    config.queued_max_request_bytes = usize::try_from(kafka.queued_max_request_bytes).ok();
    if let Some(files) = kafka.max_open_log_files {
        config.max_open_log_files = files;
    }
    config.max_partition_replicas = kafka.max_partition_replicas;
    if let Some(path) = &kafka.broker_properties {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ServeError::BrokerProperties { path: path.clone(), message: source.to_string() })?;
        config
            .apply_properties(&text)
            .map_err(|message| ServeError::BrokerProperties { path: path.clone(), message })?;
    }
    for setting in &kafka.overrides {
        config.apply_override(setting).map_err(ServeError::BrokerSetting)?;
    }
    Ok(config)
}

/// `streamlab broker`: the broker alone, until a shutdown signal.
pub async fn run_broker(
    args: BrokerArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|source| ServeError::DataDir { path: args.data_dir.clone(), source })?;
    let broker = broker::Broker::start(broker_config(&args.kafka, &args.data_dir)?).await?;
    shutdown.await;
    broker.shutdown().await;
    Ok(())
}

/// Where the course comes from: `--lessons`, else `./lessons` in `--dev` when present, else the
/// course built into the binary.
pub fn course_source(args: &ServeArgs) -> CourseSource {
    match &args.lessons {
        Some(dir) => CourseSource::Dir(dir.clone()),
        None if args.dev && std::path::Path::new("lessons").is_dir() => CourseSource::Dir("lessons".into()),
        None => CourseSource::BuiltIn,
    }
}

pub async fn run(args: ServeArgs, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|source| ServeError::DataDir { path: args.data_dir.clone(), source })?;
    let pool = progress::open(&args.data_dir).await?;
    let broker = broker::Broker::start(broker_config(&args.kafka, &args.data_dir)?).await?;

    let source = course_source(&args);
    highlight::warm_up();
    let course = Course::load(&source).map_err(|source_error| ServeError::Lessons {
        path: source.dir().map(PathBuf::from).unwrap_or_default(),
        source: source_error,
    })?;
    for diagnostic in &course.diagnostics {
        tracing::warn!("{diagnostic}");
    }
    let summary = (course.title.clone(), course.lessons.len(), course.diagnostics.len());

    let listener = TcpListener::bind(args.http).await.map_err(|source| ServeError::Bind { addr: args.http, source })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let kafka = crate::kafka::Kafka::cluster(broker.broker_addrs());
    let kafka = match &args.kafka.kafka_advertised {
        Some((host, port)) => kafka.with_advertised(format!("{host}:{port}")),
        None => kafka,
    };
    let state = AppState::new(course, source.clone(), Progress::new(pool), kafka, args.dev);
    state.set_cluster(broker.control());

    // Kept alive until the server stops: dropping the watcher stops watching.
    let _watcher = match (args.dev, source.dir()) {
        (true, Some(dir)) => Some(
            live_reload::watch(state.clone(), dir)
                .map_err(|source| ServeError::Watch { path: dir.to_owned(), source })?,
        ),
        _ => None,
    };

    let (title, lessons, problems) = summary;
    tracing::info!(
        lessons,
        problems,
        data_dir = %args.data_dir.display(),
        lessons_from = %source.dir().map_or_else(|| "built-in course".to_owned(), |d| d.display().to_string()),
        dev = args.dev,
        "serving \"{title}\" on http://{addr}/"
    );

    let live_state = state.clone();
    let shutdown = async move {
        shutdown.await;
        live_state.shut_down();
    };
    let limits = HttpLimits {
        header_read_timeout_ms: args.http_header_read_timeout_ms,
        idle_timeout_ms: args.http_idle_timeout_ms,
        max_connections: args.http_max_connections,
        max_connections_per_ip: args.http_max_connections_per_ip,
    };
    crate::listener::serve(listener, web::app(state), limits, shutdown).await;
    broker.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn kafka_args(args: &[&str]) -> KafkaArgs {
        match Cli::try_parse_from([&["streamlab", "broker"], args].concat()).expect("parses").command {
            Some(Command::Broker(args)) => args.kafka,
            _ => panic!("broker"),
        }
    }

    #[test]
    fn broker_settings_come_from_flags_then_the_properties_file_then_overrides() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("server.properties");
        std::fs::write(&file, "num.partitions=4\nbroker.session.timeout.ms=3000\n").expect("write");
        let file = file.to_str().expect("utf-8");
        let args =
            kafka_args(&["--broker-session-timeout-ms", "5000", "--config", file, "--override", "num.partitions=6"]);
        let config = broker_config(&args, dir.path()).expect("valid");
        assert_eq!((config.default_partitions, config.broker_session_timeout_ms), (6, 3000));

        std::fs::write(dir.path().join("bad.properties"), "log.dirs=/var/kafka\n").expect("write");
        let bad = dir.path().join("bad.properties");
        let args = kafka_args(&["--config", bad.to_str().expect("utf-8")]);
        let error = broker_config(&args, dir.path()).expect_err("refused").to_string();
        assert!(error.ends_with("bad.properties: line 1: log.dirs: use --data-dir"), "{error}");
        let error = broker_config(&kafka_args(&["--override", "num.partitons=4"]), dir.path()).expect_err("a typo");
        assert!(error.to_string().starts_with("broker setting num.partitons: not a broker setting"), "{error}");
    }
}
