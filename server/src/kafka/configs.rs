//! Topic and broker configs: DescribeConfigs and IncrementalAlterConfigs.
//!
//! As Kafka's admin client does, a broker's own configs (BROKER resource "1") are asked of that
//! broker; the cluster-wide defaults (resource "") and topics of any broker.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use broker::core::ErrorCode;
use kafka_protocol::messages::DescribeConfigsRequest;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::protocol::StrBytes;

use super::{Kafka, KafkaError, Refusal, refusal};

/// One config of a topic as DescribeConfigs describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfigEntry {
    pub name: String,
    /// The effective value (empty for a sensitive or unset one).
    pub value: String,
    /// Where the value comes from, DescribeConfigs' `config_source` (1 set on the topic, 4 the
    /// broker's static config, 5 Kafka's default, ...).
    pub source: i8,
}

impl TopicConfigEntry {
    /// Set on the topic itself (`DYNAMIC_TOPIC_CONFIG`), not inherited.
    pub fn is_topic_override(&self) -> bool {
        self.source == broker::core::config::ConfigSource::Topic as i8
    }
}

/// Whose configs: DescribeConfigs' and IncrementalAlterConfigs' resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigResource {
    Topic(String),
    /// One broker's dynamic configs (`--entity-name 1`).
    Broker(i32),
    /// The cluster-wide dynamic broker defaults (`--entity-default`, resource name "").
    BrokerDefault,
}

impl ConfigResource {
    /// Kafka's `ConfigResource.Type` id and resource name.
    fn wire(&self) -> (i8, String) {
        match self {
            ConfigResource::Topic(name) => (2, name.clone()),
            ConfigResource::Broker(id) => (4, id.to_string()),
            ConfigResource::BrokerDefault => (4, String::new()),
        }
    }
}

/// One config as DescribeConfigs with synonyms describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedConfig {
    pub name: String,
    /// `None` for a sensitive value or one Kafka has no default for.
    pub value: Option<String>,
    /// DescribeConfigs' `config_source`.
    pub source: i8,
    pub sensitive: bool,
    /// Where else the value is set, most specific first: (name, value, source).
    pub synonyms: Vec<(String, Option<String>, i8)>,
}

impl Kafka {
    /// The broker to ask about `resource`: the broker itself for its own configs, any for the
    /// rest (`None`). A broker the cluster does not have is [`KafkaError::Broker`] with
    /// BROKER_ID_NOT_REGISTERED.
    async fn config_target(&self, resource: &ConfigResource) -> Result<Option<SocketAddr>, KafkaError> {
        let ConfigResource::Broker(id) = resource else { return Ok(None) };
        if let Some((_, addr)) = self.brokers.iter().find(|(known, _)| known == id) {
            return Ok(Some(*addr));
        }
        let metadata = self.call(&kafka_protocol::messages::MetadataRequest::default(), 12).await?;
        let broker = metadata
            .brokers
            .iter()
            .find(|b| b.node_id.0 == *id)
            .ok_or(KafkaError::Broker(ErrorCode::BrokerIdNotRegistered.code()))?;
        let port = u16::try_from(broker.port).unwrap_or(0);
        tokio::net::lookup_host((broker.host.as_str(), port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .map(Some)
            .ok_or(KafkaError::Broker(ErrorCode::BrokerIdNotRegistered.code()))
    }

    /// DescribeConfigs of one resource with synonyms, as `kafka-configs.sh --describe` asks;
    /// a refusal (an unknown topic, a broker that is not the one asked) as [`Refusal`].
    pub async fn describe_configs(
        &self,
        resource: &ConfigResource,
    ) -> Result<Result<Vec<DescribedConfig>, Refusal>, KafkaError> {
        let (resource_type, resource_name) = resource.wire();
        let mut wanted = DescribeConfigsResource::default();
        wanted.resource_type = resource_type;
        wanted.resource_name = StrBytes::from_string(resource_name);
        wanted.configuration_keys = None;
        let mut request = DescribeConfigsRequest::default();
        request.resources = vec![wanted];
        request.include_synonyms = true;
        let response = match self.config_target(resource).await? {
            Some(addr) => self.call_at(addr, &request, 4).await?,
            None => self.call(&request, 4).await?,
        };
        let result = response.results.into_iter().next().ok_or(KafkaError::missing_answer())?;
        if let Err(refused) = refusal(result.error_code, result.error_message.map(|m| m.to_string())) {
            return Ok(Err(refused));
        }
        Ok(Ok(result
            .configs
            .into_iter()
            .map(|c| DescribedConfig {
                name: c.name.to_string(),
                value: c.value.map(|v| v.to_string()),
                source: c.config_source,
                sensitive: c.is_sensitive,
                synonyms: c
                    .synonyms
                    .into_iter()
                    .map(|s| (s.name.to_string(), s.value.map(|v| v.to_string()), s.source))
                    .collect(),
            })
            .collect()))
    }

    /// IncrementalAlterConfigs on one resource: set these, delete those (back to the next
    /// layer's value), in `kafka-configs.sh`'s order (deletions first).
    pub async fn alter_configs(
        &self,
        resource: &ConfigResource,
        set: &[(String, String)],
        delete: &[String],
    ) -> Result<Result<(), Refusal>, KafkaError> {
        use kafka_protocol::messages::IncrementalAlterConfigsRequest;
        use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
        let config = |key: &str, operation: i8, value: Option<&str>| {
            let mut config = AlterableConfig::default();
            config.name = StrBytes::from_string(key.to_owned());
            config.config_operation = operation;
            config.value = value.map(|v| StrBytes::from_string(v.to_owned()));
            config
        };
        let (resource_type, resource_name) = resource.wire();
        let mut alter = AlterConfigsResource::default();
        alter.resource_type = resource_type;
        alter.resource_name = StrBytes::from_string(resource_name);
        alter.configs = delete
            .iter()
            .map(|k| config(k, 1, Some("")))
            .chain(set.iter().map(|(k, v)| config(k, 0, Some(v))))
            .collect();
        let mut request = IncrementalAlterConfigsRequest::default();
        request.resources = vec![alter];
        let response = match self.config_target(resource).await? {
            Some(addr) => self.call_at(addr, &request, 1).await?,
            None => self.call(&request, 1).await?,
        };
        let result = response.responses.into_iter().next().ok_or(KafkaError::missing_answer())?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }

    /// A topic's effective configs (every config, with defaults, as Kafka describes them).
    pub async fn topic_configs(&self, name: &str) -> Result<BTreeMap<String, String>, KafkaError> {
        let entries = self
            .topic_config_entries(name)
            .await?
            .ok_or(KafkaError::Broker(ErrorCode::UnknownTopicOrPartition.code()))?;
        Ok(entries.into_iter().map(|entry| (entry.name, entry.value)).collect())
    }

    /// A topic's configs with where each value comes from; `None` if the topic does not exist.
    pub async fn topic_config_entries(&self, name: &str) -> Result<Option<Vec<TopicConfigEntry>>, KafkaError> {
        let mut resource = DescribeConfigsResource::default();
        resource.resource_type = 2;
        resource.resource_name = StrBytes::from_string(name.to_owned());
        resource.configuration_keys = None;
        let mut request = DescribeConfigsRequest::default();
        request.resources = vec![resource];
        let response = self.call(&request, 4).await?;
        let result = response.results.into_iter().next().ok_or(KafkaError::missing_answer())?;
        match ErrorCode::from_code(result.error_code) {
            Some(ErrorCode::None) => {}
            Some(ErrorCode::UnknownTopicOrPartition) => return Ok(None),
            _ => return Err(KafkaError::Broker(result.error_code)),
        }
        Ok(Some(
            result
                .configs
                .into_iter()
                .map(|c| TopicConfigEntry {
                    name: c.name.to_string(),
                    value: c.value.map(|v| v.to_string()).unwrap_or_default(),
                    source: c.config_source,
                })
                .collect(),
        ))
    }

    /// IncrementalAlterConfigs on a topic: set these, delete those (back to defaults).
    pub async fn alter_topic_configs(
        &self,
        name: &str,
        set: &[(String, String)],
        delete: &[String],
    ) -> Result<Result<(), Refusal>, KafkaError> {
        self.alter_configs(&ConfigResource::Topic(name.to_owned()), set, delete).await
    }
}
