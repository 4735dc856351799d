//! Hostile bytes on the Kafka port: each closes the offending connection, and the broker keeps
//! serving everyone else.

#![cfg(feature = "runtime")]

mod common;

use common::TestBroker;
use kafka_protocol::messages::MetadataRequest;

async fn assert_still_serving(broker: &TestBroker) {
    let mut client = broker.client().await;
    let response = client.send(&common::api_versions_request(), 3).await;
    assert_eq!(response.error_code, 0);
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = i32::try_from(body.len()).expect("size").to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Request header v1: api key, version, correlation id, client id "x".
fn header(api_key: i16, version: i16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&api_key.to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&7i32.to_be_bytes());
    out.extend_from_slice(&1i16.to_be_bytes());
    out.push(b'x');
    out
}

#[tokio::test]
async fn a_huge_array_count_does_not_abort_the_process() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    // Metadata v4 announcing 2^31-1 topics: the unpatched codec aborts on this (kafka-wire.md §2.6).
    let mut body = header(3, 4);
    body.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0x00, 0x00]);
    client.write_raw(&frame(&body)).await;
    assert!(client.is_closed().await);
    assert_still_serving(&broker).await;
}

#[tokio::test]
async fn oversized_negative_and_short_frames_close_the_connection() {
    let broker = TestBroker::start().await;
    for bytes in [(i32::MAX).to_be_bytes().to_vec(), (-5i32).to_be_bytes().to_vec(), frame(&[0, 3])] {
        let mut client = broker.client().await;
        client.write_raw(&bytes).await;
        assert!(client.is_closed().await, "{bytes:?}");
    }
    assert_still_serving(&broker).await;
}

#[tokio::test]
async fn unknown_keys_and_versions_close_the_connection() {
    let broker = TestBroker::start().await;
    for (key, version) in [(999, 0), (3, 99), (0, 1), (11, 0)] {
        let mut client = broker.client().await;
        client.write_raw(&frame(&header(key, version))).await;
        assert!(client.is_closed().await, "key {key} v{version}");
    }
    assert_still_serving(&broker).await;
}

#[tokio::test]
async fn truncated_and_garbage_bodies_close_the_connection() {
    let broker = TestBroker::start().await;
    let mut client = broker.client().await;
    client.send_raw_request(&MetadataRequest::default(), 12).await;
    assert!(client.read_response::<MetadataRequest>(12).await.is_some());
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for length in [1usize, 7, 64, 4096] {
        let mut body = header(3, 9);
        for _ in 0..length {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            body.push((seed & 0xff) as u8);
        }
        let mut client = broker.client().await;
        client.write_raw(&frame(&body)).await;
        // Either decoded into something harmless and answered, or refused and closed: never a crash.
        let _ = client.read_frame().await;
    }
    assert_still_serving(&broker).await;
}
