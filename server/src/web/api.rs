//! The JSON API, for labs and tests. Errors are JSON too: `{"error": "..."}` with a 4xx status
//! for the caller's mistakes, 503 when the broker cannot be reached.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, Learner};
use crate::exercises::{CheckOutcome, run_checks};
use crate::progress::now_ms;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// `POST /api/exercises/{id}/check`: runs the exercise's checks against the broker for the
/// current learner and records the run.
pub(super) async fn check_exercise(
    State(state): State<AppState>,
    Extension(Learner(learner)): Extension<Learner>,
    Path(id): Path<String>,
) -> Response {
    let course = state.course();
    let Some((_, exercise)) = course.exercise(&id) else {
        return error(StatusCode::NOT_FOUND, format!("no exercise has the id `{id}`"));
    };
    let outcomes: Vec<CheckOutcome> = match run_checks(state.kafka(), exercise).await {
        Ok(outcomes) => outcomes,
        Err(failure) => {
            tracing::warn!(%failure, exercise = %id, "exercise check could not reach the broker");
            return error(StatusCode::SERVICE_UNAVAILABLE, format!("the Kafka broker could not be asked: {failure}"));
        }
    };
    let passed = outcomes.iter().all(|o| o.passed);
    if let Err(failure) = state.progress().record_exercise_run(learner, &id, passed, now_ms()).await {
        tracing::error!(%failure, "cannot record an exercise run");
        return error(StatusCode::SERVICE_UNAVAILABLE, "the result could not be saved; try again");
    }
    Json(json!({ "passed": passed, "checks": outcomes })).into_response()
}

/// Any other `/api/...` path.
pub(super) async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such API endpoint")
}
