//! Cross-site request refusal for every state-changing request (POST, PUT, PATCH, DELETE).
//!
//! A page on another site can make a learner's browser post a form here (a lesson marked
//! complete, a check recorded, a broker stopped): cookies go along with same-site requests, and
//! `SameSite=Lax` does not stop a sibling subdomain. So, as Go's `http.CrossOriginProtection`
//! and the Fetch Metadata guidance (<https://web.dev/articles/fetch-metadata>) do: a browser's
//! `Sec-Fetch-Site` must be `same-origin` (or `none`, typed by the user); without it, an `Origin`
//! header must name this host. Requests that carry neither come from tools (curl, scripts, lab
//! automation), which cookies do not ride along with, and are let through.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub(super) async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
    if !safe && let Some(reason) = cross_site(request.headers()) {
        tracing::warn!(path = %request.uri().path(), reason, "refused a cross-site request");
        return (StatusCode::FORBIDDEN, format!("cross-site request refused: {reason}")).into_response();
    }
    next.run(request).await
}

/// Why the request comes from another site, if it does.
fn cross_site(headers: &HeaderMap) -> Option<&'static str> {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => None,
            _ => Some("Sec-Fetch-Site is not same-origin"),
        };
    }
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    // `Origin: null` (sandboxed frames, some redirects) is never this site.
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    if origin == "null" || !origin_host.eq_ignore_ascii_case(host) {
        return Some("Origin is another site");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn only_same_origin_browsers_and_tools_pass() {
        assert_eq!(cross_site(&headers(&[("sec-fetch-site", "same-origin")])), None);
        assert_eq!(cross_site(&headers(&[("sec-fetch-site", "none")])), None);
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])).is_some());
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])).is_some());
        let host = ("host", "lab.example:8080");
        assert_eq!(cross_site(&headers(&[host, ("origin", "http://lab.example:8080")])), None);
        assert!(cross_site(&headers(&[host, ("origin", "http://evil.lab.example:8080")])).is_some());
        assert!(cross_site(&headers(&[host, ("origin", "null")])).is_some());
        assert_eq!(cross_site(&headers(&[host])), None, "curl and scripts send neither header");
    }
}
