//! `--dev`: watch the lesson directory, reload the course on change, tell open pages to refresh.
//!
//! Pages in dev mode open an `EventSource` on `/dev/reload` (see `static/app.js`); each course
//! reload sends one `reload` event. Editors save in bursts (write, rename, chmod), so changes are
//! gathered for [`DEBOUNCE_MS`] before one reload.

use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{Stream, StreamExt};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_stream::wrappers::BroadcastStream;

use super::AppState;
use crate::course::Course;

const DEBOUNCE_MS: u64 = 100;

/// `GET /dev/reload`: a server-sent event stream with one `reload` event per course change.
pub(super) async fn events(State(state): State<AppState>) -> impl IntoResponse {
    let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        match state.subscribe_reloads() {
            Some(receiver) => Box::pin(
                BroadcastStream::new(receiver).map(|_| Ok(Event::default().event("reload").data("course changed"))),
            ),
            None => Box::pin(futures_util::stream::empty()),
        };
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Starts watching `dir`; the returned watcher stops when dropped, so keep it for the server's life.
pub fn watch(state: AppState, dir: &Path) -> notify::Result<notify::RecommendedWatcher> {
    let (changed_tx, mut changed_rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = changed_tx.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    tokio::spawn(async move {
        while changed_rx.recv().await.is_some() {
            tokio::time::sleep(Duration::from_millis(DEBOUNCE_MS)).await;
            while changed_rx.try_recv().is_ok() {}
            let source = state.source().clone();
            match tokio::task::spawn_blocking(move || Course::load(&source)).await {
                Ok(Ok(course)) => {
                    for diagnostic in &course.diagnostics {
                        tracing::warn!("{diagnostic}");
                    }
                    tracing::info!(
                        lessons = course.lessons.len(),
                        problems = course.diagnostics.len(),
                        "course reloaded"
                    );
                    state.replace_course(course);
                }
                Ok(Err(error)) => tracing::error!(%error, "cannot reload the course"),
                Err(error) => tracing::error!(%error, "course reload panicked"),
            }
        }
    });
    Ok(watcher)
}
