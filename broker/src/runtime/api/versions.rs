//! ApiVersions (key 18) and the table of what this broker speaks.
//!
//! The table is ours, not `ApiKey::valid_versions()`: it lists only what we implement, within
//! what the codec decodes, and keeps the old minimums real clients test for (research brief
//! kafka-wire.md §5 and pitfall 2).

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};

use crate::core::ErrorCode;

/// An API this broker answers: the versions it advertises, and the ones it can decode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Supported {
    pub(crate) key: ApiKey,
    pub(crate) min: i16,
    pub(crate) max: i16,
    /// Below this, the version is advertised but refused (see Produce).
    pub(crate) decode_min: i16,
}

const fn api(key: ApiKey, min: i16, max: i16) -> Supported {
    Supported { key, min, max, decode_min: min }
}

/// What we advertise. Maxima stay below topic-id versions (Fetch 13+, Produce 13) and KIP-890's
/// Produce 12, which change semantics we do not implement yet.
pub(crate) const SUPPORTED: &[Supported] = &[
    // librdkafka < 2.11.1 enables compression only if Produce v0 is in range (KAFKA-18659), so
    // v0-2 are advertised, as Kafka 4.0 does, and refused: the codec (KIP-896) decodes 3+.
    Supported { key: ApiKey::Produce, min: 0, max: 11, decode_min: 3 },
    api(ApiKey::Fetch, 4, 12),
    api(ApiKey::ListOffsets, 1, 7),
    api(ApiKey::Metadata, 0, 12),
    api(ApiKey::ApiVersions, 0, 4),
    api(ApiKey::CreateTopics, 2, 7),
    api(ApiKey::DeleteTopics, 1, 6),
    api(ApiKey::DescribeConfigs, 1, 4),
    api(ApiKey::OffsetForLeaderEpoch, 2, 4),
    api(ApiKey::OffsetCommit, 2, 9),
    api(ApiKey::OffsetFetch, 1, 9),
    api(ApiKey::FindCoordinator, 0, 6),
    // v0 stays for librdkafka < 2.11.1, whose balanced consumer checks for it (KAFKA-19444).
    api(ApiKey::JoinGroup, 0, 9),
    api(ApiKey::Heartbeat, 0, 4),
    api(ApiKey::LeaveGroup, 0, 5),
    api(ApiKey::SyncGroup, 0, 5),
    api(ApiKey::DescribeGroups, 0, 5),
    api(ApiKey::ListGroups, 0, 5),
    api(ApiKey::DeleteGroups, 0, 2),
    // Not 6: the codec decodes up to 5 (kafka-wire.md §2.4).
    api(ApiKey::InitProducerId, 0, 5),
    api(ApiKey::CreatePartitions, 0, 3),
    api(ApiKey::ElectLeaders, 0, 2),
    api(ApiKey::AlterConfigs, 0, 2),
    api(ApiKey::IncrementalAlterConfigs, 0, 1),
    api(ApiKey::DescribeCluster, 0, 1),
    api(ApiKey::DescribeQuorum, 0, 2),
    api(ApiKey::DescribeTopicPartitions, 0, 0),
];

pub(crate) fn supported(key: ApiKey) -> Option<&'static Supported> {
    SUPPORTED.iter().find(|s| s.key == key)
}

/// The ApiVersions response body: our table, and `error_code` as given.
/// ApiVersions (18). From v3 the client names its software (KIP-511); Kafka refuses a name or
/// version outside `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?` with INVALID_REQUEST and no API
/// keys (`ApiVersionsRequest.isValid` and `getErrorResponse`).
pub(crate) fn handle(request: &kafka_protocol::messages::ApiVersionsRequest, version: i16) -> ApiVersionsResponse {
    let valid = |text: &str| {
        let bytes = text.as_bytes();
        let edge = |b: &u8| b.is_ascii_alphanumeric();
        let inner = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.';
        match bytes {
            [] => false,
            [only] => edge(only),
            [first, middle @ .., last] => edge(first) && edge(last) && middle.iter().all(inner),
        }
    };
    if version >= 3
        && !(valid(request.client_software_name.as_str()) && valid(request.client_software_version.as_str()))
    {
        let mut refused = ApiVersionsResponse::default();
        refused.error_code = ErrorCode::InvalidRequest.code();
        return refused;
    }
    response(ErrorCode::None)
}

pub(crate) fn response(error: ErrorCode) -> ApiVersionsResponse {
    let mut response = ApiVersionsResponse::default();
    response.error_code = error.code();
    response.api_keys = SUPPORTED
        .iter()
        .map(|s| {
            let mut version = ApiVersion::default();
            version.api_key = s.key as i16;
            version.min_version = s.min;
            version.max_version = s.max;
            version
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use kafka_protocol::protocol::Message;

    use super::*;

    /// Every version we decode is one the codec can decode (the crate's own `VERSIONS`, which for
    /// OffsetCommit and InitProducerId are narrower than `ApiKey::valid_versions()`).
    #[test]
    fn advertised_decodable_versions_are_within_the_codec() {
        use kafka_protocol::messages::*;
        for s in SUPPORTED {
            let codec = match s.key {
                ApiKey::Produce => ProduceRequest::VERSIONS,
                ApiKey::Fetch => FetchRequest::VERSIONS,
                ApiKey::ListOffsets => ListOffsetsRequest::VERSIONS,
                ApiKey::Metadata => MetadataRequest::VERSIONS,
                ApiKey::ApiVersions => ApiVersionsRequest::VERSIONS,
                ApiKey::CreateTopics => CreateTopicsRequest::VERSIONS,
                ApiKey::DeleteTopics => DeleteTopicsRequest::VERSIONS,
                ApiKey::DescribeConfigs => DescribeConfigsRequest::VERSIONS,
                ApiKey::OffsetForLeaderEpoch => OffsetForLeaderEpochRequest::VERSIONS,
                ApiKey::OffsetCommit => OffsetCommitRequest::VERSIONS,
                ApiKey::OffsetFetch => OffsetFetchRequest::VERSIONS,
                ApiKey::FindCoordinator => FindCoordinatorRequest::VERSIONS,
                ApiKey::JoinGroup => JoinGroupRequest::VERSIONS,
                ApiKey::Heartbeat => HeartbeatRequest::VERSIONS,
                ApiKey::LeaveGroup => LeaveGroupRequest::VERSIONS,
                ApiKey::SyncGroup => SyncGroupRequest::VERSIONS,
                ApiKey::DescribeGroups => DescribeGroupsRequest::VERSIONS,
                ApiKey::ListGroups => ListGroupsRequest::VERSIONS,
                ApiKey::DeleteGroups => DeleteGroupsRequest::VERSIONS,
                ApiKey::InitProducerId => InitProducerIdRequest::VERSIONS,
                ApiKey::CreatePartitions => CreatePartitionsRequest::VERSIONS,
                ApiKey::ElectLeaders => ElectLeadersRequest::VERSIONS,
                ApiKey::AlterConfigs => AlterConfigsRequest::VERSIONS,
                ApiKey::IncrementalAlterConfigs => IncrementalAlterConfigsRequest::VERSIONS,
                ApiKey::DescribeCluster => DescribeClusterRequest::VERSIONS,
                ApiKey::DescribeTopicPartitions => DescribeTopicPartitionsRequest::VERSIONS,
                ApiKey::DescribeQuorum => DescribeQuorumRequest::VERSIONS,
                other => panic!("add {other:?} to this test"),
            };
            assert!(
                s.decode_min >= codec.min && s.max <= codec.max,
                "{:?} {}..{} vs codec {codec}",
                s.key,
                s.decode_min,
                s.max
            );
            assert!(s.min <= s.decode_min);
        }
    }
}
