//! The lab's view of and control over the embedded cluster, as JSON:
//!
//! * `GET /api/cluster`: which nodes run (the control API's answer), and the cluster as Kafka
//!   reports it through the protocol — live brokers, the quorum's leader and epoch, and every
//!   partition's leader, replicas, ISR and offline replicas, with the under-replicated and
//!   offline ones counted.
//! * `POST /api/cluster/brokers/{id}/stop|start`, `POST /api/cluster/controllers/{id}/stop|start`:
//!   a stop is a crash (the node's tasks end at once, its connections close); a start recovers
//!   the node from its data directory. Unknown nodes are 404, a node already in that state 409.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use broker::NodeControlError;
use serde_json::json;

use super::{AppState, Learner};

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// `GET /api/cluster`.
pub(super) async fn status(State(state): State<AppState>, Extension(Learner(learner)): Extension<Learner>) -> Response {
    let Some(control) = state.cluster() else {
        return error(StatusCode::NOT_FOUND, "this server has no embedded cluster to show");
    };
    let nodes = control.nodes();
    let kafka = state.kafka_for(learner);
    let metadata = match kafka.cluster_metadata().await {
        Ok(metadata) => Some(metadata),
        Err(failure) => {
            tracing::debug!(%failure, "cluster view: no broker answered Metadata");
            None
        }
    };
    // Without a majority of controllers the quorum has no leader: null, not an error.
    let quorum = kafka.describe_quorum().await.ok().and_then(Result::ok);
    let live = metadata.as_ref().map(|m| m.brokers.clone()).unwrap_or_default();
    let brokers: Vec<_> = nodes
        .brokers
        .iter()
        .map(|&(id, running)| json!({ "id": id, "running": running, "live": live.contains(&id) }))
        .collect();
    let controllers: Vec<_> = nodes
        .controllers
        .iter()
        .map(|&(id, running)| {
            let leads = quorum.as_ref().is_some_and(|q| q.leader_id == id);
            json!({ "id": id, "running": running, "active": leads })
        })
        .collect();
    let partitions = metadata.as_ref().map(|m| m.partitions.clone()).unwrap_or_default();
    let under_replicated = partitions.iter().filter(|p| p.under_replicated()).count();
    let offline = partitions.iter().filter(|p| p.leader < 0).count();
    Json(json!({
        "brokers": brokers,
        "controllers": controllers,
        "active_controller": quorum.as_ref().map(|q| q.leader_id),
        "quorum": quorum.as_ref().map(|q| json!({
            "leader_id": q.leader_id,
            "leader_epoch": q.leader_epoch,
            "high_watermark": q.high_watermark,
        })),
        "partitions": partitions,
        "under_replicated_partitions": under_replicated,
        "offline_partitions": offline,
        "error": metadata.is_none().then_some("no broker answered: are they all stopped?"),
    }))
    .into_response()
}

/// `POST /api/cluster/{brokers|controllers}/{id}/{stop|start}`.
pub(super) async fn control(
    State(state): State<AppState>,
    Path((kind, id, action)): Path<(String, String, String)>,
) -> Response {
    let Some(control) = state.cluster() else {
        return error(StatusCode::NOT_FOUND, "this server has no embedded cluster to control");
    };
    let Ok(id) = id.parse::<i32>() else {
        return error(StatusCode::BAD_REQUEST, format!("`{id}` is not a node id"));
    };
    let outcome = match (kind.as_str(), action.as_str()) {
        ("brokers", "stop") => control.stop_broker(id),
        ("brokers", "start") => control.start_broker(id).await,
        ("controllers", "stop") => control.stop_controller(id),
        ("controllers", "start") => control.start_controller(id),
        ("brokers" | "controllers", other) => {
            return error(StatusCode::NOT_FOUND, format!("`{other}` is not an action: stop or start"));
        }
        (other, _) => {
            return error(StatusCode::NOT_FOUND, format!("`{other}` is not a node kind: brokers or controllers"));
        }
    };
    state.live().nudge();
    match outcome {
        Ok(()) => {
            tracing::info!(kind, id, action, "lab node control");
            Json(json!({ "ok": true })).into_response()
        }
        Err(refused @ NodeControlError::Unknown { .. }) => error(StatusCode::NOT_FOUND, refused.to_string()),
        Err(refused @ (NodeControlError::AlreadyStopped { .. } | NodeControlError::AlreadyRunning { .. })) => {
            error(StatusCode::CONFLICT, refused.to_string())
        }
        Err(refused @ NodeControlError::StartFailed { .. }) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, refused.to_string())
        }
    }
}
