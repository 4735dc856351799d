//! The lesson page's live views: the snapshot stream and the record browser.
//!
//! `GET /api/live` is a server-sent event stream: a `snapshot` event with the JSON of
//! [`crate::live::Snapshot`] now and whenever it changes, keep-alive comments in between. Every
//! connection forwards the same JSON, serialized once by the shared poller (`crate::live`).
//!
//! `GET /api/topics/{topic}/partitions/{partition}/records?offset=N&limit=M` reads records on
//! demand (Fetch, like a consumer), keys and values as base64 plus text when they are UTF-8.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use broker::core::ErrorCode;
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;

use super::{AppState, Learner};
use crate::kafka::KafkaError;
use crate::live::{ConnectionGuard, Published};

/// How long an `EventSource` waits before reconnecting (the SSE `retry` field).
const RECONNECT_MS: u64 = 2_000;
/// Keep-alive comments: proxies close connections idle for long.
const KEEP_ALIVE_S: u64 = 15;
/// Records per page of the record browser, at most, and by default.
const RECORDS_LIMIT_MAX: usize = 100;
const RECORDS_LIMIT_DEFAULT: usize = 20;
/// Key and value bytes per page at most (the first record is always sent).
const RECORDS_BYTES_MAX: usize = 1 << 20;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Kafka could not be asked (503), did not answer in time (504), or refused in a way the caller
/// could not foresee (502).
fn kafka_error(failure: &KafkaError) -> Response {
    match failure {
        KafkaError::Timeout => error(StatusCode::GATEWAY_TIMEOUT, failure.to_string()),
        KafkaError::Client(_) => {
            error(StatusCode::SERVICE_UNAVAILABLE, format!("the Kafka broker could not be asked: {failure}"))
        }
        KafkaError::Broker(_) => error(StatusCode::BAD_GATEWAY, failure.to_string()),
    }
}

/// `GET /api/live`: the live views' snapshots as server-sent events.
pub(super) async fn events(
    State(state): State<AppState>,
    Extension(Learner(_learner)): Extension<Learner>,
) -> Response {
    // Learners share one broker for now, so they share one poller and see the same cluster; a
    // per-learner sandbox would pick the learner's own poller here.
    let Some(guard) = state.live().connect() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "too many live views are open; try again later");
    };
    let snapshots = snapshot_events(state.subscribe_live(), guard).take_until(state.live().closed());
    Sse::new(snapshots).keep_alive(KeepAlive::new().interval(Duration::from_secs(KEEP_ALIVE_S))).into_response()
}

/// A `snapshot` event for the current snapshot, then one per change. A slow connection skips
/// snapshots (the watch channel keeps only the latest), so it never holds up the others.
fn snapshot_events(
    receiver: watch::Receiver<Arc<Published>>,
    guard: ConnectionGuard,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    stream::unfold((receiver, guard, false), |(mut receiver, guard, sent_any)| async move {
        if sent_any {
            receiver.changed().await.ok()?;
        }
        loop {
            let published = receiver.borrow_and_update().clone();
            if let Some(json) = &published.json {
                let mut event = Event::default().event("snapshot").id(published.seq.to_string()).data(&**json);
                if !sent_any {
                    event = event.retry(Duration::from_millis(RECONNECT_MS));
                }
                return Some((Ok(event), (receiver, guard, true)));
            }
            // No snapshot yet: the poller has just started.
            receiver.changed().await.ok()?;
        }
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct RecordsQuery {
    offset: Option<i64>,
    limit: Option<usize>,
}

/// One record of the record browser.
#[derive(Debug, Serialize)]
struct RecordJson {
    offset: i64,
    /// Milliseconds since the Unix epoch, as the producer (or broker) stamped it.
    timestamp: i64,
    /// Base64 of the bytes; `null` for no key (or a null value, a tombstone).
    key: Option<String>,
    value: Option<String>,
    /// The bytes as text when they are valid UTF-8.
    key_text: Option<String>,
    value_text: Option<String>,
}

fn encode(bytes: Option<&bytes::Bytes>) -> (Option<String>, Option<String>) {
    match bytes {
        None => (None, None),
        Some(bytes) => (Some(BASE64.encode(bytes)), std::str::from_utf8(bytes).ok().map(str::to_owned)),
    }
}

/// `GET /api/topics/{topic}/partitions/{partition}/records?offset=N&limit=M`: up to `limit`
/// (default 20, at most 100) records from `offset` (default: the log start offset).
///
/// Answers `{"topic", "partition", "log_start_offset", "log_end_offset", "offset", "next_offset",
/// "records": [{"offset", "timestamp", "key", "value", "key_text", "value_text"}]}`.
pub(super) async fn records(
    State(state): State<AppState>,
    Extension(Learner(_learner)): Extension<Learner>,
    Path((topic, partition)): Path<(String, String)>,
    query: Result<Query<RecordsQuery>, QueryRejection>,
) -> Response {
    let Ok(partition) = partition.parse::<i32>() else {
        return error(StatusCode::BAD_REQUEST, format!("the partition must be a number, not `{partition}`"));
    };
    let Query(query) = match query {
        Ok(query) => query,
        Err(rejection) => {
            return error(StatusCode::BAD_REQUEST, format!("expected ?offset=N&limit=M: {}", rejection.body_text()));
        }
    };
    let limit = query.limit.unwrap_or(RECORDS_LIMIT_DEFAULT);
    if !(1..=RECORDS_LIMIT_MAX).contains(&limit) {
        return error(StatusCode::BAD_REQUEST, format!("the limit must be from 1 to {RECORDS_LIMIT_MAX}, not {limit}"));
    }
    let kafka = state.kafka();
    let info = match kafka.topic(&topic).await {
        Ok(Some(info)) => info,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("topic `{topic}` does not exist")),
        Err(failure) => return kafka_error(&failure),
    };
    if !info.partitions.iter().any(|p| p.partition == partition) {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "topic `{topic}` has no partition {partition}: its partitions are 0 to {}",
                info.partitions.len().saturating_sub(1)
            ),
        );
    }
    let (start, end) = match kafka.offsets(&topic, partition).await {
        Ok(Some(range)) => (range.log_start_offset, range.log_end_offset),
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("topic `{topic}` has no partition {partition}")),
        Err(failure) => return kafka_error(&failure),
    };
    let offset = query.offset.unwrap_or(start);
    if offset < start || offset > end {
        return out_of_range(&topic, partition, offset, start, end);
    }
    let records = match kafka.raw_records(&topic, partition, offset, limit, RECORDS_BYTES_MAX).await {
        Ok(records) => records,
        // Deleted or truncated between the two requests.
        Err(failure) if failure.is(ErrorCode::OffsetOutOfRange) => {
            return out_of_range(&topic, partition, offset, start, end);
        }
        Err(failure) if failure.is(ErrorCode::UnknownTopicOrPartition) => {
            return error(StatusCode::NOT_FOUND, format!("topic `{topic}` does not exist"));
        }
        Err(failure) => return kafka_error(&failure),
    };
    let next_offset = records.last().map_or(offset, |r| r.offset + 1);
    let records: Vec<RecordJson> = records
        .iter()
        .map(|record| {
            let (key, key_text) = encode(record.key.as_ref());
            let (value, value_text) = encode(record.value.as_ref());
            RecordJson { offset: record.offset, timestamp: record.timestamp_ms, key, value, key_text, value_text }
        })
        .collect();
    Json(json!({
        "topic": topic,
        "partition": partition,
        "log_start_offset": start,
        "log_end_offset": end,
        "offset": offset,
        "next_offset": next_offset,
        "records": records,
    }))
    .into_response()
}

/// 400 with the valid range, in words and as fields, so the page can move there.
fn out_of_range(topic: &str, partition: i32, offset: i64, start: i64, end: i64) -> Response {
    let message = if start == end {
        format!("offset {offset} is out of range: {topic}-{partition} is empty, its next offset is {end}")
    } else {
        format!(
            "offset {offset} is out of range: {topic}-{partition} has offsets {start} to {} (log end offset {end})",
            end - 1
        )
    };
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message, "log_start_offset": start, "log_end_offset": end })))
        .into_response()
}
