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
    let Some((lesson, exercise)) = course.exercise(&id) else {
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
    if let Err(failure) = record(&state, learner, lesson, &id, passed).await {
        tracing::error!(%failure, "cannot record an exercise run");
        return error(StatusCode::SERVICE_UNAVAILABLE, "the result could not be saved; try again");
    }
    Json(json!({ "passed": passed, "checks": outcomes })).into_response()
}

/// Stores the run; a lesson whose exercises are all passed is complete.
async fn record(
    state: &AppState,
    learner: uuid::Uuid,
    lesson: &crate::course::Lesson,
    exercise_id: &str,
    passed: bool,
) -> Result<(), crate::progress::Error> {
    let now = now_ms();
    state.progress().record_exercise_run(learner, exercise_id, passed, now).await?;
    if passed {
        let done = state.progress().passed_exercises(learner).await?;
        if lesson.exercises.iter().all(|e| done.contains(&e.id)) {
            state.progress().complete(learner, &lesson.slug, now).await?;
        }
    }
    Ok(())
}

/// The longest script the console accepts (a pasted solution is a few hundred bytes).
const SCRIPT_MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, serde::Deserialize)]
pub(super) struct ConsoleRequest {
    script: String,
}

/// `POST /api/console` with `{"script": "kafka-topics.sh --list ..."}`: runs the commands against
/// the broker and answers `{"output": "...", "ok": bool}` with what the real tools would print.
pub(super) async fn console(
    State(state): State<AppState>,
    Extension(Learner(_learner)): Extension<Learner>,
    body: Result<Json<ConsoleRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => {
            return error(rejection.status(), format!("expected {{\"script\": \"...\"}}: {}", rejection.body_text()));
        }
    };
    if request.script.len() > SCRIPT_MAX_BYTES {
        return error(StatusCode::PAYLOAD_TOO_LARGE, format!("a console script is at most {SCRIPT_MAX_BYTES} bytes"));
    }
    // Learners share one broker for now; the learner's identity is the seam for per-learner
    // sandboxes (issue 5: "every console and check operation already carries the learner's identity").
    Json(crate::console_exec::run_script(state.kafka(), &request.script).await).into_response()
}

/// Any other `/api/...` path.
pub(super) async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such API endpoint")
}
