//! One module per Kafka API: each takes the decoded request and returns the response.
//!
//! A handler does its state changes synchronously, in the order requests arrived on the
//! connection, and returns a future for whatever it must wait for (group commit for acks=all,
//! `min_bytes` for Fetch), so a connection can pipeline requests while responses still go out in
//! order (the protocol guide: "the server guarantees that on a single TCP connection, requests
//! will be processed in the order they are sent and responses will return in that order too").

mod admin;
mod authorized_operations;
mod describe_quorum;
mod describe_topic_partitions;
mod elect_leaders;
mod fetch;
mod groups;
mod init_producer_id;
mod list_offsets;
mod metadata;
mod produce;
pub(crate) mod versions;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use kafka_protocol::messages::{RequestKind, ResponseKind, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::broker::BrokerHandle;
use super::cluster::Cluster;

/// The rest of a request's handling. `None`: no response at all (Produce with acks=0).
pub(crate) type Reply = Pin<Box<dyn Future<Output = Option<ResponseKind>> + Send>>;

fn ready(response: ResponseKind) -> Reply {
    Box::pin(std::future::ready(Some(response)))
}

/// Who sent a request: what DescribeGroups shows about members.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub(crate) client_id: String,
    pub(crate) client_host: String,
}

/// A request ready for [`dispatch`]: a Produce request's batches already validated.
#[derive(Debug)]
pub(crate) enum Prepared {
    Produce(produce::ValidatedProduce),
    Other(RequestKind),
}

/// The CPU-heavy checks a request needs before it may change any state, done off the async
/// workers: a Produce request's batches go through Kafka's `LogValidator` checks, decompressing
/// what is compressed, on the blocking pool ([`produce::validate`]). The connection awaits this
/// before dispatching, so requests still change state in the order they arrived (as Kafka
/// handles one request per connection at a time).
pub(crate) async fn prepare(broker: &Arc<BrokerHandle>, request: RequestKind, version: i16) -> Prepared {
    match request {
        RequestKind::Produce(request) => Prepared::Produce(produce::validate(broker, request, version).await),
        request => Prepared::Other(request),
    }
}

/// Handles one request that reached `broker`. `version` is the request's API version (some
/// fields exist only in some).
pub(crate) fn dispatch(
    cluster: &Arc<Cluster>,
    broker: &Arc<BrokerHandle>,
    request: Prepared,
    version: i16,
    context: RequestContext,
) -> Reply {
    let request = match request {
        Prepared::Produce(validated) => return produce::handle(cluster, broker, validated),
        Prepared::Other(request) => request,
    };
    match request {
        RequestKind::ApiVersions(request) => ready(ResponseKind::ApiVersions(versions::handle(&request, version))),
        RequestKind::Metadata(request) => metadata::handle(cluster, broker, request, version),
        RequestKind::Produce(request) => {
            // Not prepared (a caller without a runtime at hand): validate here, inline.
            let rules = produce::partition_rules(broker, &request);
            produce::handle(cluster, broker, produce::validate_now(request, version, &rules))
        }
        RequestKind::Fetch(request) => fetch::handle(broker, request, cluster.config.fetch_max_bytes),
        RequestKind::ListOffsets(request) => {
            ready(ResponseKind::ListOffsets(list_offsets::handle(broker, request, version)))
        }
        RequestKind::OffsetForLeaderEpoch(request) => {
            ready(ResponseKind::OffsetForLeaderEpoch(list_offsets::offset_for_leader_epoch(broker, request)))
        }
        RequestKind::CreateTopics(request) => admin::create_topics(cluster, broker, request, version),
        RequestKind::DeleteTopics(request) => admin::delete_topics(cluster, broker, request, version),
        RequestKind::DescribeConfigs(request) => {
            ready(ResponseKind::DescribeConfigs(admin::describe_configs(cluster, broker, request)))
        }
        RequestKind::FindCoordinator(request) => {
            ready(ResponseKind::FindCoordinator(groups::find_coordinator(cluster, request, version)))
        }
        RequestKind::JoinGroup(request) => groups::join_group(cluster, request, version, context),
        RequestKind::SyncGroup(request) => groups::sync_group(cluster, request),
        RequestKind::Heartbeat(request) => ready(ResponseKind::Heartbeat(groups::heartbeat(cluster, request))),
        RequestKind::LeaveGroup(request) => {
            ready(ResponseKind::LeaveGroup(groups::leave_group(cluster, request, version)))
        }
        RequestKind::OffsetCommit(request) => groups::offset_commit(cluster, broker, request, version),
        RequestKind::OffsetFetch(request) => {
            ready(ResponseKind::OffsetFetch(groups::offset_fetch(cluster, request, version)))
        }
        RequestKind::ListGroups(request) => ready(ResponseKind::ListGroups(groups::list_groups(cluster, request))),
        RequestKind::DescribeGroups(request) => {
            ready(ResponseKind::DescribeGroups(groups::describe_groups(cluster, request)))
        }
        RequestKind::DeleteGroups(request) => groups::delete_groups(cluster, request),
        RequestKind::IncrementalAlterConfigs(request) => admin::incremental_alter_configs(cluster, broker, request),
        RequestKind::AlterConfigs(request) => admin::alter_configs(cluster, broker, request),
        RequestKind::CreatePartitions(request) => admin::create_partitions(cluster, broker, request),
        RequestKind::ElectLeaders(request) => elect_leaders::handle(cluster, broker, request),
        RequestKind::DescribeCluster(request) => {
            ready(ResponseKind::DescribeCluster(admin::describe_cluster(cluster, broker, request)))
        }
        RequestKind::DescribeTopicPartitions(request) => {
            ready(ResponseKind::DescribeTopicPartitions(describe_topic_partitions::handle(broker, request)))
        }
        RequestKind::DescribeQuorum(request) => {
            ready(ResponseKind::DescribeQuorum(describe_quorum::handle(cluster, request, version)))
        }
        RequestKind::InitProducerId(request) => {
            ready(ResponseKind::InitProducerId(init_producer_id::handle(cluster, request)))
        }
        // The connection only decodes keys from the supported table, so this is unreachable in
        // practice; answering nothing would stall the client, so close instead.
        _ => Box::pin(std::future::ready(None)),
    }
}

pub(crate) fn str_bytes(text: impl Into<String>) -> StrBytes {
    StrBytes::from_string(text.into())
}

pub(crate) fn topic_name(text: impl Into<String>) -> TopicName {
    TopicName(str_bytes(text))
}
