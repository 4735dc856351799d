//! The JSON API, for labs and tests. Errors are JSON too: `{"error": "..."}` with a 4xx status
//! for the caller's mistakes, 503 when the broker cannot be reached.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::Instrument;

use super::learner::{FirstVisit, is_known};
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
    first_visit: Option<Extension<FirstVisit>>,
    Path(id): Path<String>,
) -> Response {
    let course = state.course();
    let Some((lesson, exercise)) = course.exercise(&id) else {
        return error(StatusCode::NOT_FOUND, format!("no exercise has the id `{id}`"));
    };
    let checks = run_checks(state.kafka_for(learner), exercise)
        .instrument(tracing::debug_span!("check", %learner, exercise = %id));
    let outcomes: Vec<CheckOutcome> = match checks.await {
        Ok(outcomes) => outcomes,
        Err(failure) => {
            tracing::warn!(%failure, exercise = %id, "exercise check could not reach the broker");
            return error(StatusCode::SERVICE_UNAVAILABLE, format!("the Kafka broker could not be asked: {failure}"));
        }
    };
    let passed = outcomes.iter().all(|o| o.passed);
    let known = is_known(first_visit.as_ref());
    if let Err(failure) = record(&state, known.then_some(learner), lesson, &id, passed).await {
        tracing::error!(%failure, "cannot record an exercise run");
        return error(StatusCode::SERVICE_UNAVAILABLE, "the result could not be saved; try again");
    }
    Json(json!({ "passed": passed, "checks": outcomes })).into_response()
}

/// Stores the run; a lesson whose exercises are all passed is complete. A learner on their first
/// request (`None`: no cookie yet, a script or a crawler) is not stored.
async fn record(
    state: &AppState,
    learner: Option<uuid::Uuid>,
    lesson: &crate::course::Lesson,
    exercise_id: &str,
    passed: bool,
) -> Result<(), crate::progress::Error> {
    let Some(learner) = learner else { return Ok(()) };
    let now = now_ms();
    // A learner who came straight to this lesson (their first request had no cookie, so that
    // visit was not stored) has now started it.
    state.progress().visit(learner, &lesson.slug, now).await?;
    state.progress().record_exercise_run(learner, exercise_id, passed, now).await?;
    if passed {
        let done = state.progress().passed_exercises(learner).await?;
        // Exercises and simulator goals alike: all passed completes the lesson.
        let mut required = lesson
            .exercises
            .iter()
            .map(|e| &e.id)
            .chain(lesson.simulators.iter().filter(|s| s.goal.is_some()).map(|s| &s.id));
        if required.all(|id| done.contains(id)) {
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
    Extension(Learner(learner)): Extension<Learner>,
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
    let output = crate::console::exec::run_lab_script(state.kafka_for(learner), state.cluster(), &request.script)
        .instrument(tracing::debug_span!("console", %learner))
        .await;
    // The command may have changed the cluster: open live views show it at once.
    state.live().nudge();
    Json(output).into_response()
}

/// Middleware: under `/api/`, every error is JSON, including the ones axum writes itself (405 for
/// a wrong method, 400 for a path that does not decode, 415 for a missing content type), which
/// come as plain text or empty.
pub(super) async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024).await.map(|b| String::from_utf8_lossy(&b).trim().to_owned());
    let message = match text {
        Ok(text) if !text.is_empty() => text,
        // axum adds the `Allow` header outside this middleware (it wraps each route).
        _ if status == StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed here (see the Allow header)"),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    let body = serde_json::to_vec(&json!({ "error": message })).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Any other `/api/...` path.
pub(super) async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such API endpoint")
}

/// The most actions a verified run may carry, and the longest simulated span it may ask for: a
/// replay costs the server CPU, so a hostile request must stay cheap.
const VERIFY_ACTIONS_MAX: usize = 5_000;
const VERIFY_SPAN_MAX_MS: u64 = 60 * 60 * 1000;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyRequest {
    seed: u64,
    actions: Vec<broker::sim::TimedAction>,
    until_ms: u64,
}

/// `POST /api/simulator/{id}/verify` with `{"seed", "actions", "until_ms"}`: replays the
/// learner's run natively with the same simulator code the page ran, and records the simulator's
/// goal as passed only if the replay reaches it. The page's own word is never taken.
pub(super) async fn verify_simulator(
    State(state): State<AppState>,
    Extension(Learner(learner)): Extension<Learner>,
    first_visit: Option<Extension<FirstVisit>>,
    Path(id): Path<String>,
    body: Result<Json<VerifyRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let course = state.course();
    let Some((lesson, preset)) = course.simulator(&id) else {
        return error(StatusCode::NOT_FOUND, format!("no simulator has the id `{id}`"));
    };
    let Some(goal) = preset.goal() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, format!("simulator `{id}` has no goal to verify"));
    };
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, format!("invalid request: {}", rejection.body_text())),
    };
    if request.actions.len() > VERIFY_ACTIONS_MAX {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a run may carry at most {VERIFY_ACTIONS_MAX} actions, this one has {}", request.actions.len()),
        );
    }
    let sim_preset = preset.to_sim_preset();
    let (seed, until_ms, action_count) = (request.seed, request.until_ms, request.actions.len());
    let replay = tokio::task::spawn_blocking(move || {
        let formed_at_ms = broker::sim::Simulation::new(sim_preset.clone(), seed)?.formed_at_ms();
        if until_ms > formed_at_ms + VERIFY_SPAN_MAX_MS {
            return Ok(Err(format!("a run may span at most {} simulated minutes", VERIFY_SPAN_MAX_MS / 60_000)));
        }
        broker::sim::Simulation::replay(sim_preset, seed, &request.actions, until_ms).map(Ok)
    })
    .await;
    let simulation = match replay {
        Ok(Ok(Ok(simulation))) => simulation,
        Ok(Ok(Err(message))) => return error(StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(Err(failure)) => {
            return error(StatusCode::UNPROCESSABLE_ENTITY, format!("the run cannot be replayed: {failure}"));
        }
        Err(failure) => {
            tracing::error!(%failure, "simulator replay panicked");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "the replay failed");
        }
    };
    let passed = simulation.reached(&goal);
    let known = is_known(first_visit.as_ref());
    if let Err(failure) = record(&state, known.then_some(learner), lesson, &id, passed).await {
        tracing::error!(%failure, "cannot record a simulator goal");
        return error(StatusCode::SERVICE_UNAVAILABLE, "the result could not be saved; try again");
    }
    let seconds = (simulation.now_ms().saturating_sub(simulation.formed_at_ms())) as f64 / 1000.0;
    let message = if passed {
        format!(
            "Verified: the server replayed your run (seed {seed}, {action_count} actions, {seconds:.1} s) and it reached the goal."
        )
    } else {
        format!(
            "The server replayed your run (seed {seed}, {action_count} actions, {seconds:.1} s) and it did not reach the goal: {}",
            goal.description()
        )
    };
    Json(json!({ "passed": passed, "message": message })).into_response()
}
