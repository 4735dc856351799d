//! Topics as the controller knows them: names, ids, partition counts and configs.

use std::collections::BTreeMap;

use super::config::TopicConfigs;

/// Kafka's limit on topic names (`Topic.MAX_NAME_LENGTH`): 249 characters, so that a partition
/// directory name (`<topic>-<partition>`) stays under the 255 bytes file systems allow.
pub const TOPIC_NAME_MAX_LEN: usize = 249;

/// Whether two different topic names would collide in metric names, where Kafka replaces `.`
/// with `_` (Kafka's `Topic.hasCollision`): `a.b_c` and `a_b.c` cannot both exist.
pub fn topic_names_collide(a: &str, b: &str) -> bool {
    a != b
        && a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| x == y || matches!((x, y), (b'.', b'_') | (b'_', b'.')))
}

/// The existing topic `name` collides with, if any; the least such name, so messages are stable.
pub fn colliding_topic<'a>(existing: impl Iterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    existing.filter(|other| topic_names_collide(other, name)).min()
}

/// Why a topic name is illegal, in the words Kafka's `Topic.validate` uses.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return Err("Topic name cannot be \".\" or \"..\"".into());
    }
    if name.len() > TOPIC_NAME_MAX_LEN {
        return Err(format!(
            "Topic name is illegal, it can't be longer than {TOPIC_NAME_MAX_LEN} characters, topic name: {name}"
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// A topic: what Metadata and DescribeConfigs answer about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    /// KIP-516 topic id, stable for the topic's life and new for a topic re-created with the same name.
    pub topic_id: [u8; 16],
    pub partitions: u32,
    pub replication_factor: u16,
    pub configs: TopicConfigs,
}

/// Every topic, by name.
pub type Topics = BTreeMap<String, Topic>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka() {
        assert!(validate_topic_name("orders.v1_eu-west").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert_eq!(
            validate_topic_name("bad name"),
            Err("Topic name \"bad name\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'".into())
        );
        assert!(validate_topic_name(&"a".repeat(249)).is_ok());
        assert!(validate_topic_name(&"a".repeat(250)).is_err());
    }

    #[test]
    fn names_that_differ_only_in_dots_and_underscores_collide() {
        assert!(topic_names_collide("a.b_c", "a_b.c"));
        assert!(topic_names_collide("orders.v1", "orders_v1"));
        assert!(!topic_names_collide("orders", "orders"), "a name does not collide with itself");
        assert!(!topic_names_collide("orders.v1", "orders-v1"));
        assert!(!topic_names_collide("a.b", "a.bc"));
        let existing = ["z_y", "a_b.c", "a.b.c"];
        assert_eq!(colliding_topic(existing.iter().copied(), "a_b_c"), Some("a.b.c"), "the least colliding name");
        assert_eq!(colliding_topic(existing.iter().copied(), "fresh"), None);
    }
}
