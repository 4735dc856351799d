//! `authorized_operations` bitfields (KIP-430): Metadata, DescribeCluster and DescribeGroups
//! can say which operations the caller may perform on a cluster, topic or group.
//!
//! Bit `n` stands for Kafka's `AclOperation` with code `n`. When the request does not ask,
//! Kafka answers `Int.MinValue` ("not requested"). Asked, a broker with no authorizer, like this
//! one, answers every operation the resource type supports (Kafka's
//! `AuthHelper.authorizedOperations` with `authorizer = None`, and `AclEntry.supportedOperations`
//! for the sets): answering 0 would tell clients they may do nothing at all.

/// `AclOperation` codes (org.apache.kafka.common.acl.AclOperation).
const CREATE: u8 = 5;
const DELETE: u8 = 6;
const ALTER: u8 = 7;
const DESCRIBE: u8 = 8;
const CLUSTER_ACTION: u8 = 9;
const DESCRIBE_CONFIGS: u8 = 10;
const ALTER_CONFIGS: u8 = 11;
const IDEMPOTENT_WRITE: u8 = 12;
const READ: u8 = 3;
const WRITE: u8 = 4;

/// The answer when the request did not ask (Kafka's `Int.MinValue`).
pub(super) const NOT_REQUESTED: i32 = i32::MIN;

fn bitfield(operations: &[u8]) -> i32 {
    operations.iter().fold(0, |bits, &code| bits | (1 << code))
}

/// Every operation on the cluster resource, or [`NOT_REQUESTED`].
pub(super) fn cluster(requested: bool) -> i32 {
    if !requested {
        return NOT_REQUESTED;
    }
    bitfield(&[CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE])
}

/// Every operation on a topic, or [`NOT_REQUESTED`].
pub(super) fn topic(requested: bool) -> i32 {
    if !requested {
        return NOT_REQUESTED;
    }
    bitfield(&[READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS])
}

/// Every operation on a consumer group, or [`NOT_REQUESTED`].
pub(super) fn group(requested: bool) -> i32 {
    if !requested {
        return NOT_REQUESTED;
    }
    bitfield(&[READ, DESCRIBE, DELETE])
}

#[cfg(test)]
mod tests {
    #[test]
    fn bitfields_match_what_kafka_answers_without_an_authorizer() {
        // The values a Kafka 3.9 broker with no authorizer puts on the wire.
        assert_eq!(super::cluster(true), 8096, "bits 5, 7-12");
        assert_eq!(super::topic(true), 3576, "bits 3-8, 10, 11");
        assert_eq!(super::group(true), 328, "bits 3, 6, 8");
        assert_eq!(super::topic(false), i32::MIN);
    }
}
