//! The tokio driver: the Kafka port, the on-disk logs and the timers around the core.
//!
//! [`Broker::start`] opens the data directory (recovering every partition log), binds the
//! listener and spawns the accept loop and the background work (group commit, retention).

mod api;
mod cluster;
mod connection;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod groups;
mod metadata_log;
mod offsets;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use cluster::Cluster;

/// How the broker runs. [`BrokerConfig::new`] gives Kafka-like defaults for a learner's laptop.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Kafka's `node.id`.
    pub node_id: i32,
    /// Where to listen (`listeners`).
    pub listen: SocketAddr,
    /// The address clients are told to connect to (`advertised.listeners`): Metadata hands it
    /// out, so it must be reachable by the client. `None`: the listener's own address.
    pub advertised: Option<(String, u16)>,
    pub data_dir: PathBuf,
    /// Create a topic when a client asks for metadata of an unknown one (`auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of an auto-created topic (`num.partitions`).
    pub default_partitions: u32,
    /// Group commit: the longest an acks=all write waits for its fsync.
    pub flush_interval_ms: u64,
    /// How often retention runs (`log.retention.check.interval.ms`; Kafka: 5 minutes).
    pub retention_check_interval_ms: u64,
    /// Largest request frame accepted (`socket.request.max.bytes`).
    pub max_request_bytes: usize,
    /// Most concurrent client connections.
    pub max_connections: usize,
    /// How long a new group waits for more members before its first rebalance completes
    /// (`group.initial.rebalance.delay.ms`; Kafka: 3000, shorter here so demos feel immediate).
    pub group_initial_rebalance_delay_ms: i64,
}

impl BrokerConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            node_id: 1,
            listen,
            advertised: None,
            data_dir,
            auto_create_topics: true,
            default_partitions: 1,
            flush_interval_ms: 5,
            retention_check_interval_ms: 60_000,
            max_request_bytes: 8 * 1024 * 1024,
            max_connections: 4096,
            group_initial_rebalance_delay_ms: 500,
        }
    }
}

/// The configuration once the listener is bound (port 0 resolved).
#[derive(Debug, Clone)]
pub(crate) struct ResolvedConfig {
    pub(crate) node_id: i32,
    pub(crate) advertised_host: String,
    pub(crate) advertised_port: u16,
    pub(crate) data_dir: PathBuf,
    pub(crate) auto_create_topics: bool,
    pub(crate) default_partitions: u32,
    pub(crate) flush_interval_ms: u64,
    pub(crate) retention_check_interval_ms: u64,
    pub(crate) max_request_bytes: usize,
    pub(crate) group_initial_rebalance_delay_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot listen on {addr}: {source} (is another broker using it? choose another address with --kafka)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open the broker's data in {dir}: {message}")]
    Open { dir: PathBuf, message: String },
}

/// A running broker. Dropping it does not stop it; call [`Broker::shutdown`].
#[derive(Debug)]
pub struct Broker {
    cluster: Arc<Cluster>,
    local_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Broker {
    pub async fn start(config: BrokerConfig) -> Result<Broker, BrokerError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| BrokerError::Bind { addr: config.listen, source })?;
        let local_addr = listener.local_addr().map_err(|source| BrokerError::Bind { addr: config.listen, source })?;
        let (advertised_host, advertised_port) =
            config.advertised.clone().unwrap_or_else(|| (local_addr.ip().to_string(), local_addr.port()));
        let resolved = ResolvedConfig {
            node_id: config.node_id,
            advertised_host,
            advertised_port,
            data_dir: config.data_dir.clone(),
            auto_create_topics: config.auto_create_topics,
            default_partitions: config.default_partitions.max(1),
            flush_interval_ms: config.flush_interval_ms,
            retention_check_interval_ms: config.retention_check_interval_ms,
            max_request_bytes: config.max_request_bytes,
            group_initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
        };
        let data_dir = config.data_dir.clone();
        let cluster = tokio::task::spawn_blocking(move || Cluster::open(resolved))
            .await
            .map_err(|e| BrokerError::Open { dir: data_dir.clone(), message: e.to_string() })?
            .map_err(|e| BrokerError::Open { dir: data_dir, message: e.to_string() })?;
        let cluster = Arc::new(cluster);
        let background = tokio::spawn(cluster.clone().run_background());
        let accept = tokio::spawn(accept_loop(listener, cluster.clone(), config.max_connections));
        tracing::info!(
            listen = %local_addr,
            advertised = %format!("{}:{}", cluster.config.advertised_host, cluster.config.advertised_port),
            topics = cluster.topics().len(),
            "Kafka broker ready"
        );
        Ok(Broker { cluster, local_addr, tasks: vec![background, accept] })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and flushes every log.
    pub async fn shutdown(self) {
        for task in &self.tasks {
            task.abort();
        }
        let cluster = self.cluster.clone();
        let _ = tokio::task::spawn_blocking(move || cluster.flush_all()).await;
    }
}

/// Replaces `path` with `bytes` atomically: a temporary file next to it, fsync, rename, fsync of
/// the directory. A crash leaves the old file or the new one, never a mix.
pub(crate) fn replace_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut out = std::fs::File::create(&tmp)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(dir)
    {
        // Best effort: some file systems refuse to fsync a directory.
        let _ = dir.sync_all();
    }
    Ok(())
}

async fn accept_loop(listener: TcpListener, cluster: Arc<Cluster>, max_connections: usize) {
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        match listener.accept().await {
            Ok((stream, peer)) => {
                let cluster = cluster.clone();
                tokio::spawn(async move {
                    connection::serve(cluster, stream, peer).await;
                    drop(permit);
                });
            }
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}
