//! The HTTP side: the router, shared state, and the handlers of each page.
//!
//! Pages are rendered on the server with askama (templates in `templates/` at the repository
//! root) and read fine without JavaScript. The scripts in `static/` add what needs it: the
//! console, the exercise Check button and copy buttons (`app.js`, which also reloads pages in
//! `--dev`), the live view of the learner's cluster (`live-view.js`) and the simulator
//! (`simulator-view.js` with the WASM bundle in `static/sim/`).

mod api;
mod assets;
mod cluster;
mod error;
mod learner;
mod live;
pub mod live_reload;
mod pages;
mod same_origin;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use axum::routing::{get, post};
use tokio::sync::broadcast;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::course::{Course, CourseSource};
use crate::kafka::Kafka;
use crate::progress::Progress;

pub use learner::{LEARNER_COOKIE, Learner};

/// What every handler can reach. Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Swapped whole on reload, so a request sees one consistent course.
    course: RwLock<Arc<Course>>,
    source: CourseSource,
    progress: Progress,
    /// `Some` in `--dev`: every reload of the course is announced here.
    reloads: Option<broadcast::Sender<()>>,
    /// The learners' broker, reached through the Kafka protocol.
    kafka: Arc<Kafka>,
    /// The live views' shared poller and its snapshots.
    live: crate::live::Live,
    /// The lab's control over the embedded cluster's nodes (stop and start them); unset when
    /// the server has no embedded cluster to control.
    cluster: std::sync::OnceLock<broker::ClusterControl>,
}

impl AppState {
    pub fn new(course: Course, source: CourseSource, progress: Progress, kafka: Kafka, dev: bool) -> Self {
        let reloads = dev.then(|| broadcast::channel(16).0);
        Self {
            inner: Arc::new(Inner {
                course: RwLock::new(Arc::new(course)),
                source,
                progress,
                reloads,
                kafka: Arc::new(kafka),
                live: crate::live::Live::new(),
                cluster: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn kafka(&self) -> &Kafka {
        &self.inner.kafka
    }

    /// The cluster a learner's console commands and exercise checks go to. Learners share the one
    /// broker for now; per-learner sandboxes plug in here, and every console and check operation
    /// already asks through it with the learner's identity (issue 5).
    pub fn kafka_for(&self, _learner: uuid::Uuid) -> &Kafka {
        &self.inner.kafka
    }

    /// Gives the lab control over the embedded cluster's nodes (set once, at start-up).
    pub fn set_cluster(&self, control: broker::ClusterControl) {
        // A second call keeps the first handle: there is one embedded cluster per process.
        let _ = self.inner.cluster.set(control);
    }

    /// The lab's control over the embedded cluster, if there is one.
    pub fn cluster(&self) -> Option<&broker::ClusterControl> {
        self.inner.cluster.get()
    }

    pub fn live(&self) -> &crate::live::Live {
        &self.inner.live
    }

    /// Snapshots of the live views; starts the shared poller if nobody watched.
    fn subscribe_live(&self) -> tokio::sync::watch::Receiver<Arc<crate::live::Published>> {
        self.inner.live.subscribe(&self.inner.kafka, self.cluster())
    }

    /// Ends what never ends by itself (the live views' event streams), so a graceful shutdown
    /// does not wait for them.
    pub fn shut_down(&self) {
        self.inner.live.close();
    }

    pub fn course(&self) -> Arc<Course> {
        // A poisoned lock only means a reload panicked; the course it guards is still whole.
        self.inner.course.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn progress(&self) -> &Progress {
        &self.inner.progress
    }

    pub fn source(&self) -> &CourseSource {
        &self.inner.source
    }

    pub fn is_dev(&self) -> bool {
        self.inner.reloads.is_some()
    }

    /// Replaces the course and tells open pages (in `--dev`) to reload.
    pub fn replace_course(&self, course: Course) {
        *self.inner.course.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(course);
        if let Some(reloads) = &self.inner.reloads {
            // No open page means no receiver; that is fine.
            let _ = reloads.send(());
        }
    }

    fn subscribe_reloads(&self) -> Option<broadcast::Receiver<()>> {
        self.inner.reloads.as_ref().map(broadcast::Sender::subscribe)
    }
}

/// Content-Security-Policy: everything from our own origin, nothing inline.
///
/// `script-src` adds `'wasm-unsafe-eval'` to `'self'` for the simulator (`/static/sim/`): under a
/// CSP without it, browsers refuse to compile WebAssembly at all, even from our own origin
/// (CSP Level 3, "EnsureCSPDoesNotBlockWasmByteCompilation",
/// <https://www.w3.org/TR/CSP3/#can-compile-wasm-bytes>; web-platform-tests
/// `content-security-policy/wasm-unsafe-eval/script-src-blocks-wasm.any.js`). It allows wasm
/// compilation only, not JavaScript's `eval`.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The whole site.
pub fn app(state: AppState) -> Router {
    // Pages know who the learner is; assets and probes do not need to.
    let pages = Router::new()
        .route("/", get(pages::course_map))
        .route("/lessons/{slug}", get(pages::lesson))
        .route("/lessons/{slug}/complete", post(pages::complete_lesson))
        .route("/api/exercises/{id}/check", post(api::check_exercise))
        .route("/api/console", post(api::console))
        .route("/api/cluster", get(cluster::status))
        .route("/api/cluster/{kind}/{id}/{action}", post(cluster::control))
        .route("/api/simulator/{id}/verify", post(api::verify_simulator))
        .route("/simulator", get(pages::simulator))
        .route("/api/live", get(live::events))
        .route("/api/topics/{topic}/partitions/{partition}/records", get(live::records))
        .route_layer(middleware::from_fn(learner::identify));
    let mut router = Router::new()
        .merge(pages)
        .route("/static/{*path}", get(assets::static_asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/{*path}", axum::routing::any(api::not_found))
        .fallback(pages::not_found);
    if state.is_dev() {
        router = router.route("/dev/reload", get(live_reload::events));
    }
    router
        .layer(middleware::from_fn(same_origin::refuse_cross_site))
        .layer(middleware::from_fn(api::json_errors))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

#[cfg(test)]
mod tests;
