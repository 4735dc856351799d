//! The simulated network: a seeded queue of messages in flight, with delay, loss, duplication
//! and cut links. Everything random comes from one seeded generator, so a seed replays a run.

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::memory::SimMessage;
use crate::core::node::NodeId;

/// How hostile the network is. The defaults are a healthy LAN; the DST suite turns up loss
/// and duplication.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sim-json", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "sim-json", serde(default, deny_unknown_fields))]
pub struct NetworkFaults {
    pub delay_min_ms: u64,
    pub delay_max_ms: u64,
    /// Messages lost, per thousand.
    pub drop_per_mille: u64,
    /// Messages delivered twice, per thousand.
    pub duplicate_per_mille: u64,
}

impl Default for NetworkFaults {
    fn default() -> Self {
        NetworkFaults { delay_min_ms: 1, delay_max_ms: 5, drop_per_mille: 0, duplicate_per_mille: 0 }
    }
}

/// The simulator's random source: ChaCha8, whose output is the same on every platform.
#[derive(Debug, Clone)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng(ChaCha8Rng::seed_from_u64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A value in `[low, high]` (the tiny modulo bias does not matter to a simulation).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low { low } else { low + self.0.next_u64() % (high - low + 1) }
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        per_mille > 0 && self.0.next_u64() % 1000 < per_mille
    }
}

#[derive(Debug, Clone)]
pub struct Envelope {
    pub from: NodeId,
    pub to: NodeId,
    pub message: SimMessage,
}

#[derive(Debug, Default)]
pub struct Network {
    /// Keyed by (delivery time, sequence): deliveries in time order, ties in send order.
    in_flight: BTreeMap<(u64, u64), Envelope>,
    sequence: u64,
    cut: BTreeSet<(NodeId, NodeId)>,
    pub faults: NetworkFaults,
}

fn link(a: NodeId, b: NodeId) -> (NodeId, NodeId) {
    (a.min(b), a.max(b))
}

impl Network {
    pub fn new(faults: NetworkFaults) -> Self {
        Network { faults, ..Default::default() }
    }

    pub fn send(&mut self, now_ms: u64, rng: &mut SimRng, envelope: Envelope) {
        if self.is_cut(envelope.from, envelope.to) || rng.chance(self.faults.drop_per_mille) {
            return;
        }
        if rng.chance(self.faults.duplicate_per_mille) {
            let delay_ms = rng.between(self.faults.delay_min_ms, self.faults.delay_max_ms);
            self.enqueue(now_ms + delay_ms, envelope.clone());
        }
        let delay_ms = rng.between(self.faults.delay_min_ms, self.faults.delay_max_ms);
        self.enqueue(now_ms + delay_ms, envelope);
    }

    fn enqueue(&mut self, at_ms: u64, envelope: Envelope) {
        self.sequence += 1;
        self.in_flight.insert((at_ms, self.sequence), envelope);
    }

    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    pub fn next_delivery_ms(&self) -> Option<u64> {
        self.in_flight.keys().next().map(|&(at_ms, _)| at_ms)
    }

    /// The next message due at or before `until_ms`. A message whose link was cut while it was
    /// in flight is lost, as on a real network.
    pub fn pop_due(&mut self, until_ms: u64) -> Option<(u64, Envelope)> {
        loop {
            let (&(at_ms, sequence), _) = self.in_flight.iter().next()?;
            if at_ms > until_ms {
                return None;
            }
            let envelope = self.in_flight.remove(&(at_ms, sequence))?;
            if !self.is_cut(envelope.from, envelope.to) {
                return Some((at_ms, envelope));
            }
        }
    }

    pub fn is_cut(&self, a: NodeId, b: NodeId) -> bool {
        self.cut.contains(&link(a, b))
    }

    pub fn cut(&mut self, a: NodeId, b: NodeId) -> bool {
        self.cut.insert(link(a, b))
    }

    pub fn heal(&mut self, a: NodeId, b: NodeId) -> bool {
        self.cut.remove(&link(a, b))
    }

    pub fn cut_links(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.cut.iter().copied()
    }

    /// Messages on the wire, for the view: (from, to, API name, delivery time).
    pub fn in_flight(&self) -> impl Iterator<Item = (NodeId, NodeId, &'static str, u64)> + '_ {
        self.in_flight.iter().map(|(&(at_ms, _), e)| (e.from, e.to, e.message.api_name(), at_ms))
    }
}
