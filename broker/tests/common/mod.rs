//! Test helpers: an in-process broker on a temporary directory; the client is `broker::testkit`.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

pub use broker::testkit::*;
use broker::{Broker, BrokerConfig};

pub struct TestBroker {
    pub broker: Option<Broker>,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl TestBroker {
    pub async fn start() -> TestBroker {
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = start_in(dir.path()).await;
        TestBroker { addr: broker.local_addr(), broker: Some(broker), dir }
    }

    /// Stops the broker (flushing) and starts a new one on the same data directory.
    pub async fn restart(&mut self) {
        if let Some(broker) = self.broker.take() {
            broker.shutdown().await;
        }
        let broker = start_in(self.dir.path()).await;
        self.addr = broker.local_addr();
        self.broker = Some(broker);
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }
}

pub async fn start_in(dir: &std::path::Path) -> Broker {
    let mut config = BrokerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.to_owned());
    config.flush_interval_ms = 2;
    Broker::start(config).await.expect("broker starts")
}
