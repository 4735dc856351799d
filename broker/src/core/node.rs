//! What every node shares, in the simulator and the runtime alike: ids and the outbox its
//! handlers write to.

use super::broker::storage::Payload;
use super::event::{Event, EventKind};
use super::message::{Message, TopicPartition};

/// Node ids as in `node.id`: brokers count from 1; controllers from 3000, as in Kafka's own
/// test clusters (`KafkaClusterTestKit`), so the two roles never share an id.
pub type NodeId = i32;

/// The first controller's id.
pub const FIRST_CONTROLLER_ID: NodeId = 3000;

/// A client of the cluster (the simulator's producer and admin client, the runtime's
/// connections): where produce answers go. Not a Kafka node id: clients have none.
pub const CLIENT: NodeId = -1;

pub fn is_controller(id: NodeId) -> bool {
    id >= FIRST_CONTROLLER_ID
}

/// Messages to send and events to log, collected while a node handles one input. The last two
/// fields are facts a driver may use: the simulator's loss checker reads both; the runtime wakes
/// consumers waiting for new committed records on a high watermark advance.
#[derive(Debug)]
pub struct Outbox<P: Payload> {
    pub messages: Vec<(NodeId, NodeId, Message<P>)>,
    pub events: Vec<Event>,
    /// (leader, partition, old, new): a leader's high watermark moved, for the loss checker.
    pub high_watermark_advances: Vec<(NodeId, TopicPartition, i64, i64)>,
    /// (request id, leader, partition, the ISR the leader counted): acks=all produces a leader
    /// answered, so the simulator can tell whether the leader's ISR was the controller's.
    pub acks_all_completed: Vec<(u64, NodeId, TopicPartition, Vec<crate::core::replica::BrokerId>)>,
}

impl<P: Payload> Default for Outbox<P> {
    fn default() -> Self {
        Outbox {
            messages: Vec::new(),
            events: Vec::new(),
            high_watermark_advances: Vec::new(),
            acks_all_completed: Vec::new(),
        }
    }
}

impl<P: Payload> Outbox<P> {
    pub fn send(&mut self, from: NodeId, to: NodeId, message: Message<P>) {
        self.messages.push((from, to, message));
    }

    pub fn event(&mut self, at_ms: u64, kind: EventKind) {
        self.events.push(Event { at_ms, kind });
    }
}
