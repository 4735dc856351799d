//! The Kafka port's connection limits: a request that never finishes arriving, an idle
//! connection, too many connections from one address and the in-flight request budget each
//! cost a bounded amount, and everyone else keeps being served.
//!
//! Limits are set short through `BrokerConfig`; the tests assert what happens, never how fast.

#![cfg(feature = "runtime")]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use broker::client::Connection;
use common::{TestBroker, batch, create_request, fetch_request, produce_request};
use kafka_protocol::records::Compression;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for a loaded 2-core machine; only reached when a test fails.
const PATIENCE: Duration = Duration::from_secs(30);

async fn assert_still_serving(addr: SocketAddr) {
    let mut client = common::Client::connect(addr).await;
    let response = client.send(&common::api_versions_request(), 3).await;
    assert_eq!(response.error_code, 0);
}

/// True once the broker has closed `stream` (EOF or reset), waiting up to [`PATIENCE`].
async fn closed_by_broker(stream: &mut TcpStream) -> bool {
    let mut bytes = [0u8; 64];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut bytes)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// A frame that announces `size` bytes and carries only `sent` of them.
fn partial_frame(size: i32, sent: usize) -> Vec<u8> {
    let mut bytes = size.to_be_bytes().to_vec();
    bytes.resize(4 + sent, 0);
    bytes
}

#[tokio::test]
async fn a_request_that_never_finishes_arriving_is_dropped_and_others_are_served() {
    let broker = TestBroker::start_with(|config| config.request_read_timeout_ms = 300).await;
    // The largest frame allowed, announced and left at 1 KiB; and a size prefix cut short.
    for bytes in [partial_frame(8 * 1024 * 1024, 1024), vec![0, 0]] {
        let mut stalled = TcpStream::connect(broker.addr).await.expect("connect");
        stalled.write_all(&bytes).await.expect("write");
        assert!(closed_by_broker(&mut stalled).await, "a partial request of {} bytes was kept", bytes.len());
    }
    assert_still_serving(broker.addr).await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_waiting_one_is_not() {
    let broker = TestBroker::start_with(|config| config.connections_max_idle_ms = 300).await;
    let mut setup = broker.client().await;
    assert_eq!(setup.send(&create_request("quiet", 1, 1, &[]), 7).await.topics[0].error_code, 0);

    // A fetch waiting longer than the idle limit is a request in flight, not idleness.
    let mut waiting = broker.client().await;
    let fetched = waiting.send(&fetch_request("quiet", 0, 0, 1_500), 12).await;
    assert_eq!(fetched.responses[0].partitions[0].error_code, 0);

    let mut idle = broker.client().await;
    assert_eq!(idle.send(&common::api_versions_request(), 3).await.error_code, 0);
    assert!(idle.is_closed().await, "an idle connection stayed open");
    assert_still_serving(broker.addr).await;
}

#[tokio::test]
async fn one_address_cannot_take_more_than_its_share_of_connections() {
    let broker = TestBroker::start_with(|config| config.max_connections_per_ip = 2).await;
    let mut first = broker.client().await;
    let mut second = broker.client().await;
    for client in [&mut first, &mut second] {
        assert_eq!(client.send(&common::api_versions_request(), 3).await.error_code, 0);
    }
    // The third from 127.0.0.1 is accepted by the kernel, then closed at once by the broker.
    let mut third = TcpStream::connect(broker.addr).await.expect("connect");
    assert!(closed_by_broker(&mut third).await, "a connection past max.connections.per.ip was kept");
    assert_eq!(first.send(&common::api_versions_request(), 3).await.error_code, 0, "the first one still works");

    // Once one closes, the address may connect again.
    drop(second);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answered = async {
            let mut connection = Connection::connect(broker.addr, "again").await.ok()?;
            connection.send(&common::api_versions_request(), 3).await.ok()
        };
        if answered.await.is_some_and(|response| response.error_code == 0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the freed slot was never given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn requests_larger_than_the_in_flight_budget_take_turns_and_all_finish() {
    let broker = TestBroker::start_with(|config| config.queued_max_request_bytes = Some(64 * 1024)).await;
    let mut setup = broker.client().await;
    assert_eq!(setup.send(&create_request("big", 1, 1, &[]), 7).await.topics[0].error_code, 0);

    let value = "v".repeat(200 * 1024);
    let mut producers = Vec::new();
    for _ in 0..4 {
        let (addr, records) = (broker.addr, batch(&[(None, value.as_str())], 1, Compression::None));
        producers.push(tokio::spawn(async move {
            let mut client = common::Client::connect(addr).await;
            let response = client.send(&produce_request("big", 0, 1, records), 9).await;
            response.responses[0].partition_responses[0].error_code
        }));
    }
    let addr = broker.addr;
    let small = tokio::spawn(async move { assert_still_serving(addr).await });
    for producer in producers {
        let error_code = tokio::time::timeout(PATIENCE, producer).await.expect("a produce finished").expect("task");
        assert_eq!(error_code, 0);
    }
    tokio::time::timeout(PATIENCE, small).await.expect("the small request finished").expect("task");
}

#[tokio::test]
async fn a_stalled_request_holding_the_budget_is_dropped_and_small_ones_go_on() {
    let broker = TestBroker::start_with(|config| {
        config.queued_max_request_bytes = Some(64 * 1024);
        config.request_read_timeout_ms = 500;
    })
    .await;
    // Announces 512 KiB, so it takes the whole budget, then stops sending.
    let mut stalled = TcpStream::connect(broker.addr).await.expect("connect");
    stalled.write_all(&partial_frame(512 * 1024, 1024)).await.expect("write");
    let addr = broker.addr;
    let small = tokio::spawn(async move { assert_still_serving(addr).await });
    tokio::time::timeout(PATIENCE, small).await.expect("the small request was served").expect("task");
    assert!(closed_by_broker(&mut stalled).await, "the stalled request was kept");
}

#[tokio::test]
async fn while_unfinished_requests_hold_the_whole_budget_a_small_request_is_still_served() {
    let broker = TestBroker::start_with(|config| {
        config.queued_max_request_bytes = Some(64 * 1024);
        // Far longer than the test waits: only the small request's own way through counts.
        config.request_read_timeout_ms = 600_000;
    })
    .await;
    // A slow loris: each announces 512 KiB (the first takes the whole budget, the others wait
    // for it) and sends a few bytes.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(broker.addr).await.expect("connect");
        stream.write_all(&partial_frame(512 * 1024, 100)).await.expect("write");
        stalled.push(stream);
    }
    let addr = broker.addr;
    let small = tokio::spawn(async move {
        assert_still_serving(addr).await;
        // Metadata too, as a client's first requests are.
        let mut client = common::Client::connect(addr).await;
        let metadata = client.send(&common::all_topics(), 12).await;
        assert_eq!(metadata.brokers.len(), 1);
    });
    tokio::time::timeout(PATIENCE, small).await.expect("the small requests were served").expect("task");
    drop(stalled);
}
