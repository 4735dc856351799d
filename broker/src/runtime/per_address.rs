//! Connections counted per client address: Kafka's `max.connections.per.ip` on the Kafka
//! listeners, and the web site's `--http-max-connections-per-ip`, so that one address (a
//! runaway script, an attacker) cannot take every connection slot from everyone else.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Open connections per client address, shared by a listener's connection tasks.
#[derive(Debug, Clone, Default)]
pub struct ConnectionsPerIp {
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ConnectionsPerIp {
    /// Counts a connection from `ip`, or `None` if that address already has `max` of them.
    pub fn take(&self, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = map.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(IpSlot { counts: self.clone(), ip })
    }
}

/// One connection counted against its address; uncounted when dropped.
#[derive(Debug)]
pub struct IpSlot {
    counts: ConnectionsPerIp,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.counts.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = map.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Logs refused connections at most once per interval, with how many there were: a client
/// reconnecting in a loop must not flood the log.
#[derive(Debug, Default)]
pub struct RefusalLog {
    last_logged: Option<tokio::time::Instant>,
    refused: u64,
}

impl RefusalLog {
    const INTERVAL: Duration = Duration::from_secs(10);

    /// Counts one refusal; returns how many to report if it is time to log.
    pub fn refused(&mut self, now: tokio::time::Instant) -> Option<u64> {
        self.refused += 1;
        if self.last_logged.is_some_and(|last| now < last + Self::INTERVAL) {
            return None;
        }
        self.last_logged = Some(now);
        Some(std::mem::take(&mut self.refused))
    }
}
