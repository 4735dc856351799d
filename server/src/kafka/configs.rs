//! Topic configs: DescribeConfigs and IncrementalAlterConfigs.

use std::collections::BTreeMap;

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

impl Kafka {
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
        use kafka_protocol::messages::IncrementalAlterConfigsRequest;
        use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
        let config = |key: &str, operation: i8, value: Option<&str>| {
            let mut config = AlterableConfig::default();
            config.name = StrBytes::from_string(key.to_owned());
            config.config_operation = operation;
            config.value = value.map(|v| StrBytes::from_string(v.to_owned()));
            config
        };
        let mut resource = AlterConfigsResource::default();
        resource.resource_type = 2;
        resource.resource_name = StrBytes::from_string(name.to_owned());
        resource.configs =
            set.iter().map(|(k, v)| config(k, 0, Some(v))).chain(delete.iter().map(|k| config(k, 1, None))).collect();
        let mut request = IncrementalAlterConfigsRequest::default();
        request.resources = vec![resource];
        let response = self.call(&request, 1).await?;
        let result = response.responses.into_iter().next().ok_or(KafkaError::missing_answer())?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }
}
