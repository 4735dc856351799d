//! Broker settings by Kafka's names, as `server.properties` and `kafka-server-start.sh
//! --override KEY=VALUE` give them: the keys this broker implements set the matching
//! [`BrokerConfig`] field; the broker-wide defaults of topic configs (`log.retention.ms`,
//! `log.retention.hours`, `min.insync.replicas`, ...) go to its `static_configs`, the layer below
//! the dynamic broker configs; keys of Kafka's that mean something else here say what to use
//! instead; anything else is refused, so a typo never passes silently.

use super::BrokerConfig;
use crate::core::broker_config::broker_synonym;

/// Kafka's keys that this process sets another way, and how.
const SET_ELSEWHERE: &[(&str, &str)] = &[
    ("node.id", "broker ids are 1..N, set by --brokers"),
    ("broker.id", "broker ids are 1..N, set by --brokers"),
    ("process.roles", "brokers and controllers run in one process: --brokers and --controllers"),
    ("controller.quorum.voters", "the controllers are 3000.., set by --controllers"),
    ("controller.quorum.bootstrap.servers", "the controllers are 3000.., set by --controllers"),
    ("listeners", "use --kafka (broker i listens on its port + i − 1)"),
    ("advertised.listeners", "use --kafka-advertised"),
    ("log.dirs", "use --data-dir"),
    ("log.dir", "use --data-dir"),
];

impl BrokerConfig {
    /// Sets one setting by its Kafka name. The error says what is wrong with the key or value.
    pub fn set_property(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        let number = |what: &str| {
            value.parse::<u64>().map_err(|_| format!("{key}={value}: {what} must be a non-negative whole number"))
        };
        let boolean = || match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{key}={value}: the value must be true or false")),
        };
        match key {
            "num.partitions" => {
                let n = number("the partition count")?;
                self.default_partitions = u32::try_from(n)
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| format!("{key}={value}: a topic has at least 1 partition"))?;
            }
            "default.replication.factor" => {
                let n = number("the replication factor")?;
                self.default_replication_factor =
                    Some(u16::try_from(n).ok().filter(|n| (1..=7).contains(n)).ok_or_else(|| {
                        format!("{key}={value}: the replication factor is 1 to 7 (at most the number of brokers)")
                    })?);
            }
            "auto.create.topics.enable" => self.auto_create_topics = boolean()?,
            "broker.session.timeout.ms" => self.broker_session_timeout_ms = number("the timeout")?,
            "replica.lag.time.max.ms" => self.replica_lag_time_max_ms = number("the time")?,
            "replica.high.watermark.checkpoint.interval.ms" => {
                self.replica_high_watermark_checkpoint_interval_ms = number("the interval")?.max(1);
            }
            "log.retention.check.interval.ms" => self.retention_check_interval_ms = number("the interval")?.max(1),
            "log.cleaner.enable" => self.log_cleaner_enable = boolean()?,
            "log.cleaner.backoff.ms" => self.log_cleaner_backoff_ms = number("the time")?.max(1),
            "log.cleaner.dedupe.buffer.size" => {
                // Kafka's minimum: 1 MiB.
                self.log_cleaner_dedupe_buffer_bytes =
                    usize::try_from(number("the size")?).unwrap_or(usize::MAX).max(1024 * 1024);
            }
            "socket.request.max.bytes" => {
                self.max_request_bytes = usize::try_from(number("the size")?).unwrap_or(usize::MAX).max(1024);
            }
            "fetch.max.bytes" => {
                let size = usize::try_from(number("the size")?).unwrap_or(usize::MAX);
                // Kafka's validator for it: `atLeast(1024)`.
                if size < 1024 {
                    return Err(format!("{key}={value}: at least 1024 bytes"));
                }
                self.fetch_max_bytes = size;
            }
            "max.connections" => self.max_connections = usize::try_from(number("the count")?).unwrap_or(usize::MAX),
            "max.connections.per.ip" => {
                self.max_connections_per_ip = usize::try_from(number("the count")?).unwrap_or(usize::MAX);
            }
            "connections.max.idle.ms" => self.connections_max_idle_ms = number("the time")?,
            "queued.max.request.bytes" => {
                // Kafka's −1: unbounded.
                self.queued_max_request_bytes = if value == "-1" {
                    None
                } else {
                    Some(usize::try_from(number("the size (or -1)")?).unwrap_or(usize::MAX).max(1024))
                };
            }
            "group.initial.rebalance.delay.ms" => {
                self.group_initial_rebalance_delay_ms = i64::try_from(number("the delay")?).unwrap_or(i64::MAX);
            }
            "metadata.max.idle.interval.ms" => {
                let ms = number("the interval")?;
                // Kafka: 0 turns the NoOpRecords off.
                self.metadata_max_idle_interval_ms = (ms > 0).then_some(ms);
            }
            "auto.leader.rebalance.enable" => {
                let enabled = boolean()?;
                self.leader_imbalance_check_interval_ms =
                    if enabled { Some(self.leader_imbalance_check_interval_ms.unwrap_or(300_000)) } else { None };
            }
            "leader.imbalance.check.interval.seconds" => {
                let seconds = number("the interval")?.max(1);
                if self.leader_imbalance_check_interval_ms.is_some() {
                    self.leader_imbalance_check_interval_ms = Some(seconds.saturating_mul(1_000));
                }
            }
            "eligible.leader.replicas.version" => {
                // A feature level in Kafka (`kafka-features.sh upgrade --feature
                // eligible.leader.replicas.version=1`); a start-up setting here.
                self.eligible_leader_replicas_enabled = match value {
                    "0" => false,
                    "1" => true,
                    _ => return Err(format!("{key}: {value:?} is not a feature level this broker knows (0 or 1)")),
                };
            }
            // The broker-level defaults of topic configs, checked by their topic config's rule.
            key if broker_synonym(key).is_some() => {
                self.static_configs.set(key, value).map_err(|error| format!("{key}={value}: {error}"))?;
            }
            _ => {
                if let Some((_, instead)) = SET_ELSEWHERE.iter().find(|(name, _)| *name == key) {
                    return Err(format!("{key}: {instead}"));
                }
                return Err(format!(
                    "{key}: not a broker setting this broker implements (it takes num.partitions, \
                     default.replication.factor, auto.create.topics.enable, broker.session.timeout.ms, \
                     replica.lag.time.max.ms, replica.high.watermark.checkpoint.interval.ms, log.retention.check.interval.ms, \
                     log.cleaner.enable, log.cleaner.backoff.ms, log.cleaner.dedupe.buffer.size, socket.request.max.bytes, \
                     fetch.max.bytes, max.connections, max.connections.per.ip, connections.max.idle.ms, queued.max.request.bytes, \
                     group.initial.rebalance.delay.ms, metadata.max.idle.interval.ms, auto.leader.rebalance.enable, \
                     leader.imbalance.check.interval.seconds, eligible.leader.replicas.version, and the broker-wide topic defaults such as \
                     log.retention.ms, log.retention.hours, log.segment.bytes, message.max.bytes, \
                     min.insync.replicas; topic settings such as retention.ms go on each topic with kafka-configs.sh)"
                ));
            }
        }
        Ok(())
    }

    /// Applies a `server.properties` file's text: `key=value` (or `key: value`, `key value`)
    /// lines, `#` and `!` comments, blank lines. Errors name the line.
    pub fn apply_properties(&mut self, text: &str) -> Result<(), String> {
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let split = line.find(['=', ':']).or_else(|| line.find(char::is_whitespace));
            let Some(at) = split else {
                return Err(format!("line {}: `{line}` is not key=value", index + 1));
            };
            let (key, value) = (line[..at].trim(), line[at + 1..].trim());
            self.set_property(key, value).map_err(|message| format!("line {}: {message}", index + 1))?;
        }
        Ok(())
    }

    /// Applies one `--override KEY=VALUE`.
    pub fn apply_override(&mut self, text: &str) -> Result<(), String> {
        let (key, value) = text.split_once('=').ok_or_else(|| format!("--override {text}: expected KEY=VALUE"))?;
        self.set_property(key.trim(), value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BrokerConfig {
        BrokerConfig::new(([127, 0, 0, 1], 0).into(), std::path::PathBuf::from("unused"))
    }

    #[test]
    fn server_properties_set_what_the_broker_implements() {
        let mut config = config();
        config
            .apply_properties(
                "# librdkafka's test brokers\nnum.partitions=4\n\ndefault.replication.factor = 3\n\
                 auto.create.topics.enable: false\n! another comment\ngroup.initial.rebalance.delay.ms 0\n\
                 auto.leader.rebalance.enable=false\n",
            )
            .expect("valid");
        assert_eq!(config.default_partitions, 4);
        assert_eq!(config.default_replication_factor, Some(3));
        assert!(!config.auto_create_topics);
        assert_eq!(config.group_initial_rebalance_delay_ms, 0);
        assert_eq!(config.leader_imbalance_check_interval_ms, None);
        config.apply_override("metadata.max.idle.interval.ms=0").expect("valid");
        assert_eq!(config.metadata_max_idle_interval_ms, None);
    }

    #[test]
    fn topic_defaults_are_static_broker_configs() {
        let mut config = config();
        // Kafka's own sample server.properties.
        config.apply_properties("log.retention.hours=168\nlog.segment.bytes=1073741824\n").expect("valid");
        config.apply_override("min.insync.replicas=2").expect("valid");
        assert_eq!(config.static_configs.get("log.retention.hours"), Some("168"));
        assert_eq!(config.static_configs.get("min.insync.replicas"), Some("2"));
        assert_eq!(
            config.apply_override("min.insync.replicas=0"),
            Err("min.insync.replicas=0: Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"
                .to_owned())
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_line() {
        let mut config = config();
        assert_eq!(
            config.apply_properties("num.partitions=4\nnum.partition=3\n"),
            Err("line 2: num.partition: not a broker setting this broker implements (it takes num.partitions, \
                 default.replication.factor, auto.create.topics.enable, broker.session.timeout.ms, \
                 replica.lag.time.max.ms, replica.high.watermark.checkpoint.interval.ms, log.retention.check.interval.ms, \
                 log.cleaner.enable, log.cleaner.backoff.ms, log.cleaner.dedupe.buffer.size, socket.request.max.bytes, \
                 fetch.max.bytes, max.connections, max.connections.per.ip, connections.max.idle.ms, queued.max.request.bytes, \
                 group.initial.rebalance.delay.ms, metadata.max.idle.interval.ms, auto.leader.rebalance.enable, \
                 leader.imbalance.check.interval.seconds, eligible.leader.replicas.version, and the broker-wide topic defaults such as \
                 log.retention.ms, log.retention.hours, log.segment.bytes, message.max.bytes, \
                 min.insync.replicas; topic settings such as retention.ms go on each topic with kafka-configs.sh)"
                .to_owned())
        );
        assert_eq!(
            config.apply_override("fetch.max.bytes=100"),
            Err("fetch.max.bytes=100: at least 1024 bytes".to_owned())
        );
        assert_eq!(
            config.apply_override("listeners=PLAINTEXT://:9092"),
            Err("listeners: use --kafka (broker i listens on its port + i − 1)".to_owned())
        );
        assert_eq!(
            config.apply_override("num.partitions=0"),
            Err("num.partitions=0: a topic has at least 1 partition".to_owned())
        );
        assert_eq!(
            config.apply_override("auto.create.topics.enable=yes"),
            Err("auto.create.topics.enable=yes: the value must be true or false".to_owned())
        );
        assert_eq!(
            config.apply_override("num.partitions"),
            Err("--override num.partitions: expected KEY=VALUE".to_owned())
        );
        assert_eq!(config.apply_properties("just-a-word"), Err("line 1: `just-a-word` is not key=value".to_owned()));
    }
}
