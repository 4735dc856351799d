//! The web listener's limits (`server::listener`): a client that sends half a request line is
//! disconnected, a kept-alive connection with no next request is closed, an event stream is
//! not cut for being long, the connection cap makes extra clients wait their turn, and a
//! graceful shutdown still finishes.
//!
//! Limits are set short; the tests assert what happens, never how fast.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use server::listener::{HttpLimits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Long enough for a loaded 2-core machine; only reached when a test fails.
const PATIENCE: Duration = Duration::from_secs(30);

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: streamlab\r\n\r\n";

fn app() -> Router {
    Router::new().route("/", get(|| async { "ok" })).route(
        "/events",
        get(|| async {
            let never = futures_util::stream::pending::<Result<Event, Infallible>>();
            Sse::new(never).keep_alive(KeepAlive::new().interval(Duration::from_millis(100)))
        }),
    )
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<()>,
}

async fn start(limits: HttpLimits) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(serve(listener, app(), limits, async move {
        let _ = stopped.await;
    }));
    Server { addr, stop: Some(stop), served }
}

fn limits() -> HttpLimits {
    HttpLimits {
        header_read_timeout_ms: 30_000,
        idle_timeout_ms: 60_000,
        max_connections: 64,
        max_connections_per_ip: 64,
    }
}

/// Reads until the response to one `GET /` is complete ("ok" is its whole body).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut text = Vec::new();
    let mut chunk = [0u8; 1024];
    while !text.ends_with(b"\r\n\r\nok") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => text.extend_from_slice(&chunk[..read]),
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

async fn get_ok(stream: &mut TcpStream) {
    stream.write_all(REQUEST).await.expect("write");
    let response = tokio::time::timeout(PATIENCE, read_response(stream)).await.expect("a response");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
}

/// True once the server has closed `stream` (EOF or reset), reading past anything it sends.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn half_a_request_line_is_disconnected_and_others_are_served() {
    let server = start(HttpLimits { header_read_timeout_ms: 300, ..limits() }).await;
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(b"GET /lessons/intro HT").await.expect("write");
    assert!(closed_by_server(&mut slow).await, "a half-sent request line kept its connection");

    let mut prompt = TcpStream::connect(server.addr).await.expect("connect");
    get_ok(&mut prompt).await;
}

#[tokio::test]
async fn a_kept_alive_connection_without_a_next_request_is_closed() {
    let server = start(HttpLimits { header_read_timeout_ms: 300, ..limits() }).await;
    let mut client = TcpStream::connect(server.addr).await.expect("connect");
    get_ok(&mut client).await;
    assert!(closed_by_server(&mut client).await, "an idle keep-alive connection stayed open");
}

#[tokio::test]
async fn an_event_stream_outlives_the_timeouts() {
    let server = start(HttpLimits { header_read_timeout_ms: 300, idle_timeout_ms: 1_000, ..limits() }).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(b"GET /events HTTP/1.1\r\nHost: streamlab\r\n\r\n").await.expect("write");
    // Several header-read and idle timeouts long: the stream is still there and still sending.
    let until = tokio::time::Instant::now() + Duration::from_secs(4);
    let mut received = 0;
    let mut chunk = [0u8; 1024];
    while tokio::time::Instant::now() < until {
        match tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await.expect("the stream sends") {
            Ok(0) | Err(_) => panic!("the event stream was cut after {received} bytes"),
            Ok(read) => received += read,
        }
    }
}

#[tokio::test]
async fn past_the_connection_cap_a_client_waits_for_a_free_slot() {
    let server = start(HttpLimits { max_connections: 2, ..limits() }).await;
    let mut first = TcpStream::connect(server.addr).await.expect("connect");
    let mut second = TcpStream::connect(server.addr).await.expect("connect");
    get_ok(&mut first).await;
    get_ok(&mut second).await;

    let addr = server.addr;
    let third = tokio::spawn(async move {
        let mut third = TcpStream::connect(addr).await.expect("connect");
        get_ok(&mut third).await;
    });
    // Both slots are held by open keep-alive connections: the third cannot have been served.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "a third connection was served past a cap of 2");

    drop(first);
    tokio::time::timeout(PATIENCE, third).await.expect("the third was served once a slot freed").expect("task");
    get_ok(&mut second).await;
}

#[tokio::test]
async fn one_address_past_its_share_is_closed_and_another_address_is_still_served() {
    let server = start(HttpLimits { max_connections: 8, max_connections_per_ip: 3, ..limits() }).await;
    // Three idle sockets from 127.0.0.1 take its share (and would hold their slots until the
    // header-read timeout); a fourth from there is closed at once.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    let mut fourth = TcpStream::connect(server.addr).await.expect("connect");
    assert!(closed_by_server(&mut fourth).await, "a fourth connection from one address was kept");
    // Another address gets through (the listener binds 127.0.0.1; 127.0.0.2 reaches it too).
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.2:0".parse().expect("addr")).expect("bind 127.0.0.2");
    let mut other = socket.connect(server.addr).await.expect("connect");
    tokio::time::timeout(PATIENCE, get_ok(&mut other)).await.expect("another address was served");
    // A slot freed from the first address is usable again.
    idle.pop();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut again = TcpStream::connect(server.addr).await.expect("connect");
        if again.write_all(REQUEST).await.is_ok() {
            let mut response = [0u8; 12];
            if let Ok(Ok(12)) = tokio::time::timeout(Duration::from_secs(2), again.read_exact(&mut response)).await {
                assert_eq!(&response, b"HTTP/1.1 200");
                break;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "the freed slot was never given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_graceful_shutdown_closes_kept_alive_connections_and_finishes() {
    let mut server = start(limits()).await;
    let mut client = TcpStream::connect(server.addr).await.expect("connect");
    get_ok(&mut client).await;
    let _ = server.stop.take().expect("running").send(());
    tokio::time::timeout(PATIENCE, &mut server.served).await.expect("the server finished").expect("task");
    assert!(closed_by_server(&mut client).await);
}
