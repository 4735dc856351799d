//! One error type for handlers: users get a page that says what happened, the log gets the cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::pages::{ErrorPage, NotFoundPage, render};

#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Progress(#[from] crate::progress::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, render(&NotFoundPage::new())).into_response(),
            AppError::Progress(error) => {
                tracing::error!(%error, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, render(&ErrorPage::new())).into_response()
            }
        }
    }
}
