//! The group coordinator's driver: a lock around the sans-IO [`GroupCoordinator`], parked
//! JoinGroup/SyncGroup requests waiting for their [`Reply`], the offset file, and the timer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::offsets::{OffsetRecord, OffsetStore};
use crate::core::group::{GroupCoordinator, Reply, RequestId};

#[derive(Debug)]
pub(crate) struct Groups {
    coordinator: Mutex<GroupCoordinator>,
    parked: Mutex<HashMap<RequestId, oneshot::Sender<Reply>>>,
    next_request: AtomicU64,
    store: Mutex<OffsetStore>,
}

impl Groups {
    pub(crate) fn open(dir: &Path, initial_rebalance_delay_ms: i64) -> std::io::Result<Groups> {
        // Member ids carry a per-run tag so that ids from before a restart never collide.
        let tag = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([0; 8]));
        let mut coordinator = GroupCoordinator::new(tag, initial_rebalance_delay_ms);
        let store = OffsetStore::open(dir, &mut coordinator)?;
        Ok(Groups {
            coordinator: Mutex::new(coordinator),
            parked: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(1),
            store: Mutex::new(store),
        })
    }

    pub(crate) fn coordinator(&self) -> MutexGuard<'_, GroupCoordinator> {
        self.coordinator.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `call` with a fresh request id whose reply the returned receiver will get, and
    /// delivers every reply the call produced (this request's and other members' parked ones).
    pub(crate) fn call(
        &self,
        call: impl FnOnce(&mut GroupCoordinator, RequestId) -> Vec<Reply>,
    ) -> oneshot::Receiver<Reply> {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        self.parked.lock().unwrap_or_else(|e| e.into_inner()).insert(request, sender);
        let replies = {
            let mut coordinator = self.coordinator();
            let replies = call(&mut coordinator, request);
            log_events(&mut coordinator);
            replies
        };
        self.deliver(replies);
        receiver
    }

    pub(crate) fn deliver(&self, replies: Vec<Reply>) {
        let mut parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
        for reply in replies {
            let request = match &reply {
                Reply::Join(request, _) | Reply::Sync(request, _) => *request,
            };
            if let Some(sender) = parked.remove(&request) {
                // The client may have gone; then nobody is waiting.
                let _ = sender.send(reply);
            }
        }
    }

    /// Session and rebalance timeouts.
    pub(crate) fn tick(&self, now_ms: i64) {
        let replies = {
            let mut coordinator = self.coordinator();
            let replies = coordinator.tick(now_ms);
            log_events(&mut coordinator);
            replies
        };
        self.deliver(replies);
    }

    pub(crate) fn append(&self, records: &[OffsetRecord]) -> std::io::Result<()> {
        self.store.lock().unwrap_or_else(|e| e.into_inner()).append(records)
    }

    pub(crate) fn flush(&self) -> std::io::Result<()> {
        self.store.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

fn log_events(coordinator: &mut GroupCoordinator) {
    for event in coordinator.drain_events() {
        tracing::info!(?event, "consumer group");
    }
}
