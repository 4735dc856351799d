//! InitProducerId (key 22): a producer id and epoch for an idempotent producer (KIP-98), and the
//! epoch bump a producer asks for after losing track of its sequences (KIP-360, v3+). A
//! transactional producer is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED until there is a
//! transaction coordinator.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::core::ErrorCode;
use crate::runtime::cluster::Cluster;

pub(super) fn handle(cluster: &Arc<Cluster>, request: InitProducerIdRequest) -> InitProducerIdResponse {
    let mut response = InitProducerIdResponse::default();
    if let Some(transactional_id) = request.transactional_id.as_ref().filter(|id| !id.0.is_empty()) {
        // Transactions need a transaction coordinator, which this broker does not have yet.
        // Refuse in a way clients give up on at once: librdkafka retries UNSUPPORTED_VERSION
        // every 500 ms for ever (init_transactions() hangs), but treats
        // TRANSACTIONAL_ID_AUTHORIZATION_FAILED as fatal (`rd_kafka_idemp_check_error` in
        // src/rdkafka_idempotence.c, with INVALID_TRANSACTION_TIMEOUT and
        // CLUSTER_AUTHORIZATION_FAILED), as does the Java producer's TransactionManager. It is
        // also the honest answer: this broker authorizes no transactional id. InitProducerId
        // has no error_message field at any version, so the reason goes to the broker's log.
        tracing::warn!(
            transactional_id = %transactional_id.0.as_str(),
            "refused a transactional producer: transactions are not supported by this broker yet"
        );
        response.error_code = ErrorCode::TransactionalIdAuthorizationFailed.code();
        response.producer_id = ProducerId(-1);
        response.producer_epoch = -1;
        return response;
    }
    let (producer_id, producer_epoch) = match (request.producer_id.0, request.producer_epoch) {
        // KIP-360: the same producer asks again; same id, next epoch (a fresh id if it would overflow).
        (id, epoch) if id >= 0 && (0..i16::MAX).contains(&epoch) => (id, epoch + 1),
        _ => (cluster.next_producer_id.fetch_add(1, Ordering::Relaxed), 0),
    };
    response.producer_id = ProducerId(producer_id);
    response.producer_epoch = producer_epoch;
    response
}
