//! The pages: course map, lesson, 404 and 500, each an askama template and a handler.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::error::AppError;
use super::learner::{FirstVisit, is_known};
use super::{AppState, Learner};
use crate::course::{Diagnostic, Lesson, OutlineEntry};
use crate::progress::{LessonState, now_ms};

/// Renders a template to an HTML response; a template error is a bug, logged and shown as 500.
pub(super) fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            // Pages show this learner's progress: never share them between learners.
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
            response
        }
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error: a page template failed").into_response()
        }
    }
}

/// What the layout (`templates/base.html`) needs on every page.
#[derive(Debug)]
pub(super) struct Chrome {
    pub course_title: String,
    /// Adds the live-reload hook for authors.
    pub dev: bool,
}

impl Chrome {
    fn new(state: &AppState, course_title: &str) -> Self {
        Self { course_title: course_title.to_owned(), dev: state.is_dev() }
    }
}

#[derive(Debug)]
pub(super) struct LessonItem {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub estimated_minutes: Option<u32>,
    pub state: LessonState,
}

#[derive(Debug)]
pub(super) struct ModuleView {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub lessons: Vec<LessonItem>,
}

#[derive(Debug, Template)]
#[template(path = "course.html")]
pub(super) struct CoursePage {
    pub chrome: Chrome,
    pub title: String,
    pub summary: String,
    pub modules: Vec<ModuleView>,
    pub completed: usize,
    pub total: usize,
    /// The next lesson to read: the first not completed.
    pub resume: Option<(String, String)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// `GET /`: the course map, grouped by module, with the learner's progress.
pub(super) async fn course_map(
    State(state): State<AppState>,
    Extension(Learner(learner)): Extension<Learner>,
    first_visit: Option<Extension<FirstVisit>>,
) -> Result<Response, AppError> {
    let course = state.course();
    let states =
        if is_known(first_visit.as_ref()) { state.progress().states(learner).await? } else { Default::default() };
    let state_of = |slug: &str| states.get(slug).copied().unwrap_or(LessonState::NotStarted);
    let modules = course
        .modules
        .iter()
        .map(|module| ModuleView {
            id: module.id.clone(),
            title: module.title.clone(),
            summary: module.summary.clone(),
            lessons: module
                .lessons
                .iter()
                .map(|&i| {
                    let lesson = &course.lessons[i];
                    LessonItem {
                        slug: lesson.slug.clone(),
                        title: lesson.title.clone(),
                        summary: lesson.summary.clone(),
                        estimated_minutes: lesson.estimated_minutes,
                        state: state_of(&lesson.slug),
                    }
                })
                .collect(),
        })
        .collect();
    let completed = course.lessons.iter().filter(|l| state_of(&l.slug) == LessonState::Completed).count();
    let resume = course
        .lessons
        .iter()
        .find(|l| state_of(&l.slug) != LessonState::Completed)
        .map(|l| (l.slug.clone(), l.title.clone()));
    Ok(render(&CoursePage {
        chrome: Chrome::new(&state, &course.title),
        title: course.title.clone(),
        summary: course.summary.clone(),
        modules,
        completed,
        total: course.lessons.len(),
        resume,
        diagnostics: course.diagnostics.clone(),
    }))
}

#[derive(Debug)]
pub(super) struct LessonLink {
    pub slug: String,
    pub title: String,
}

impl From<&Lesson> for LessonLink {
    fn from(lesson: &Lesson) -> Self {
        Self { slug: lesson.slug.clone(), title: lesson.title.clone() }
    }
}

#[derive(Debug, Template)]
#[template(path = "lesson.html")]
pub(super) struct LessonPage<'a> {
    pub chrome: Chrome,
    /// The broker address for learners' own clients.
    pub kafka_bootstrap: String,
    pub lesson: &'a Lesson,
    pub module_title: String,
    pub outline: &'a [OutlineEntry],
    pub prerequisites: Vec<LessonLink>,
    pub state: LessonState,
    pub prev: Option<LessonLink>,
    pub next: Option<LessonLink>,
}

/// `GET /lessons/{slug}`: the lesson, recorded as visited.
pub(super) async fn lesson(
    State(state): State<AppState>,
    Extension(Learner(learner)): Extension<Learner>,
    first_visit: Option<Extension<FirstVisit>>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let course = state.course();
    let lesson = course.lesson(&slug).ok_or(AppError::NotFound)?;
    let lesson_state = if is_known(first_visit.as_ref()) {
        state.progress().visit(learner, &lesson.slug, now_ms()).await?
    } else {
        LessonState::Visited
    };
    let (prev, next) = course.neighbours(&slug);
    let prerequisites = lesson.prerequisites.iter().filter_map(|p| course.lesson(p)).map(LessonLink::from).collect();
    Ok(render(&LessonPage {
        chrome: Chrome::new(&state, &course.title),
        kafka_bootstrap: state.kafka().advertised().to_owned(),
        lesson,
        module_title: course.module(&lesson.module).map(|m| m.title.clone()).unwrap_or_default(),
        outline: &lesson.outline,
        prerequisites,
        state: lesson_state,
        prev: prev.map(LessonLink::from),
        next: next.map(LessonLink::from),
    }))
}

/// `POST /lessons/{slug}/complete`: a plain form post, so it works without JavaScript; answers
/// with a redirect back to the lesson (post/redirect/get).
pub(super) async fn complete_lesson(
    State(state): State<AppState>,
    Extension(Learner(learner)): Extension<Learner>,
    first_visit: Option<Extension<FirstVisit>>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let course = state.course();
    let lesson = course.lesson(&slug).ok_or(AppError::NotFound)?;
    if is_known(first_visit.as_ref()) {
        state.progress().complete(learner, &lesson.slug, now_ms()).await?;
    }
    Ok(Redirect::to(&format!("/lessons/{}#completed", lesson.slug)).into_response())
}

#[derive(Debug, Template)]
#[template(path = "simulator.html")]
pub(super) struct SimulatorPage {
    pub chrome: Chrome,
    /// The cluster free play starts with, as the view's JSON.
    pub preset_json: String,
}

/// `/simulator`: free play with the in-browser cluster simulator.
pub(super) async fn simulator(State(state): State<AppState>) -> Response {
    let course = state.course();
    // The production-like starting point: three partitions, three replicas, min.insync.replicas=2.
    let preset = broker::sim::Preset {
        topics: vec![broker::sim::TopicPreset {
            name: "orders".to_owned(),
            partitions: 3,
            replication_factor: 3,
            configs: vec![("min.insync.replicas".to_owned(), "2".to_owned())],
        }],
        ..broker::sim::Preset::default()
    };
    let preset_json = serde_json::to_string(&preset).unwrap_or_default();
    render(&SimulatorPage { chrome: Chrome::new(&state, &course.title), preset_json })
}

#[derive(Debug, Template)]
#[template(path = "not_found.html")]
pub(super) struct NotFoundPage {
    pub chrome: Chrome,
}

impl NotFoundPage {
    pub(super) fn new() -> Self {
        Self { chrome: Chrome { course_title: "Streamlab".into(), dev: false } }
    }
}

#[derive(Debug, Template)]
#[template(path = "error.html")]
pub(super) struct ErrorPage {
    pub chrome: Chrome,
}

impl ErrorPage {
    pub(super) fn new() -> Self {
        Self { chrome: Chrome { course_title: "Streamlab".into(), dev: false } }
    }
}

/// Anything no route matched.
pub(super) async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, render(&NotFoundPage::new()))
}
