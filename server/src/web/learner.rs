//! Who is this learner? An anonymous id in a cookie, given on the first visit.
//!
//! Accounts come later; they will adopt this id so nobody loses progress by signing up.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use uuid::Uuid;

pub const LEARNER_COOKIE: &str = "streamlab_learner";

/// One year: progress should outlive a course.
const COOKIE_MAX_AGE_S: u32 = 365 * 24 * 60 * 60;

/// The learner making this request, put into the request's extensions by [`identify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learner(pub Uuid);

/// Marks a request that came without a learner cookie. Nothing is stored for it: a browser sends
/// the cookie from its second request on, while crawlers and scripts, which never do, would
/// otherwise leave a learner and a row behind on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FirstVisit;

/// Whether the learner is to be remembered (they came back with their cookie).
pub(super) fn is_known(first_visit: Option<&axum::Extension<FirstVisit>>) -> bool {
    first_visit.is_none()
}

/// Middleware: reads the learner cookie, or makes a new learner and sets the cookie on the response.
pub(super) async fn identify(jar: CookieJar, mut request: Request, next: Next) -> Response {
    let known = jar.get(LEARNER_COOKIE).and_then(|cookie| Uuid::parse_str(cookie.value()).ok());
    let learner = known.unwrap_or_else(Uuid::new_v4);
    request.extensions_mut().insert(Learner(learner));
    if known.is_none() {
        request.extensions_mut().insert(FirstVisit);
    }
    let mut response = next.run(request).await;
    if known.is_none() {
        // SameSite=Lax keeps other sites from posting progress on the learner's behalf.
        let cookie = format!("{LEARNER_COOKIE}={learner}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
