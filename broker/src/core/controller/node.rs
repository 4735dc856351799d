//! A KRaft controller: a voter of the metadata quorum and, while it is the quorum's leader, the
//! active controller that decides by appending metadata records.
//!
//! Requests that change metadata (registrations, heartbeats that unfence, AlterPartition,
//! config changes) are answered only once the records they wrote are committed, as Kafka's
//! controller does: a leader that applied an ISR change which the quorum then lost would
//! believe in replicas that no longer count.

use crate::core::ErrorCode;
use crate::core::config::TopicConfigs;
use crate::core::controller::{Controller, ControllerConfig};
use crate::core::metadata::{MetadataImage, MetadataRecord};
use crate::core::quorum::{DurableState, QuorumConfig, QuorumNode, Role};

use crate::core::broker::storage::Payload;
use crate::core::event::EventKind;
use crate::core::message::{Message, TopicPartition};
use crate::core::node::{NodeId, Outbox};

#[derive(Debug)]
pub struct ControllerNode<P: Payload> {
    pub id: NodeId,
    pub quorum: QuorumNode<MetadataRecord>,
    /// The committed metadata applied in order: this node's view of the cluster.
    pub image: MetadataImage,
    active: Option<Active<P>>,
    config: ControllerConfig,
}

/// The state of the active controller, dropped when it loses leadership.
#[derive(Debug)]
struct Active<P: Payload> {
    epoch: i32,
    /// The whole log applied, uncommitted records included.
    working: MetadataImage,
    controller: Controller,
    /// Responses waiting for the record at this offset to commit.
    pending_replies: Vec<(i64, NodeId, Message<P>)>,
    /// When the next NoOpRecord is due (KIP-835).
    next_noop_ms: Option<u64>,
}

impl<P: Payload> ControllerNode<P> {
    pub fn new(
        id: NodeId,
        quorum_config: QuorumConfig,
        durable: DurableState<MetadataRecord>,
        config: ControllerConfig,
        now_ms: u64,
        seed: u64,
    ) -> Self {
        ControllerNode {
            id,
            quorum: QuorumNode::new(id, quorum_config, durable, now_ms, seed),
            image: MetadataImage::with_static_configs(config.static_configs.clone()),
            active: None,
            config,
        }
    }

    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    pub fn handle(&mut self, now_ms: u64, from: NodeId, message: Message<P>, out: &mut Outbox<P>) {
        match message {
            Message::Quorum(message) => self.quorum.handle(now_ms, from, message),
            request => self.handle_request(now_ms, from, request, out),
        }
        self.after_input(now_ms, out);
    }

    pub fn tick(&mut self, now_ms: u64, out: &mut Outbox<P>) {
        self.quorum.tick(now_ms);
        self.after_input(now_ms, out);
        if let Some(active) = &mut self.active {
            let mut records = active.controller.tick(now_ms, &active.working);
            if let (Some(due), Some(interval_ms)) = (active.next_noop_ms, self.config.metadata_max_idle_interval_ms)
                && now_ms >= due
            {
                active.next_noop_ms = Some(now_ms + interval_ms);
                records.push(MetadataRecord::NoOp);
            }
            if !records.is_empty() {
                self.append(now_ms, records, false, out);
                self.after_input(now_ms, out);
            }
        }
    }

    pub fn next_deadline_ms(&self) -> Option<u64> {
        let quorum = self.quorum.next_deadline_ms();
        let sessions = self.active.as_ref().and_then(|a| a.controller.next_deadline_ms(&a.working));
        let noop = self.active.as_ref().and_then(|a| a.next_noop_ms);
        [quorum, sessions, noop].into_iter().flatten().min()
    }

    fn handle_request(&mut self, now_ms: u64, from: NodeId, request: Message<P>, out: &mut Outbox<P>) {
        let Some(active) = &mut self.active else {
            if let Some(reply) = not_controller(&request) {
                out.send(self.id, from, reply);
            }
            return;
        };
        match request {
            Message::BrokerRegistration { broker_id, incarnation_id, previous_broker_epoch } => {
                let working = &active.working;
                match active.controller.register_broker(
                    now_ms,
                    working,
                    broker_id,
                    incarnation_id,
                    previous_broker_epoch,
                ) {
                    Ok(records) if records.is_empty() => {
                        let broker_epoch = active.working.brokers.get(&broker_id).map_or(-1, |b| b.broker_epoch);
                        out.send(
                            self.id,
                            from,
                            Message::BrokerRegistrationResponse { error: ErrorCode::None, broker_epoch },
                        );
                    }
                    Ok(records) => {
                        if let Some(offset) = self.append(now_ms, records, false, out) {
                            self.reply_when_committed(
                                offset,
                                from,
                                Message::BrokerRegistrationResponse { error: ErrorCode::None, broker_epoch: offset },
                            );
                        }
                    }
                    Err(error) => {
                        out.send(self.id, from, Message::BrokerRegistrationResponse { error, broker_epoch: -1 });
                    }
                }
            }
            Message::BrokerHeartbeat { broker_id, broker_epoch, want_shutdown: true, .. } => {
                match active.controller.controlled_shutdown(&active.working, broker_id, broker_epoch) {
                    Ok(records) => {
                        let response = Message::BrokerHeartbeatResponse { error: ErrorCode::None, is_fenced: true };
                        if records.is_empty() {
                            out.send(self.id, from, response);
                        } else {
                            self.append_then_reply(now_ms, records, from, response, out);
                        }
                    }
                    Err(error) => out.send(self.id, from, Message::BrokerHeartbeatResponse { error, is_fenced: true }),
                }
            }
            Message::BrokerHeartbeat { broker_id, broker_epoch, current_metadata_offset, want_shutdown: false } => {
                match active.controller.heartbeat(
                    now_ms,
                    &active.working,
                    broker_id,
                    broker_epoch,
                    current_metadata_offset,
                ) {
                    Ok((reply, records)) if records.is_empty() => {
                        let response =
                            Message::BrokerHeartbeatResponse { error: ErrorCode::None, is_fenced: reply.is_fenced };
                        out.send(self.id, from, response);
                    }
                    Ok((reply, records)) => {
                        if let Some(offset) = self.append(now_ms, records, false, out) {
                            let response =
                                Message::BrokerHeartbeatResponse { error: ErrorCode::None, is_fenced: reply.is_fenced };
                            self.reply_when_committed(offset, from, response);
                        }
                    }
                    Err(error) => out.send(self.id, from, Message::BrokerHeartbeatResponse { error, is_fenced: true }),
                }
            }
            Message::AlterPartition { broker_id, broker_epoch, tp, leader_epoch, partition_epoch, new_isr } => {
                let result = active.controller.alter_partition(
                    &active.working,
                    broker_id,
                    broker_epoch,
                    &tp.topic,
                    tp.partition,
                    leader_epoch,
                    partition_epoch,
                    &new_isr,
                );
                match result {
                    Ok((records, registration)) => {
                        if let Some(offset) = self.append(now_ms, records, true, out) {
                            let response = Message::AlterPartitionResponse {
                                tp,
                                error: ErrorCode::None,
                                leader_epoch: registration.leader_epoch,
                                partition_epoch: registration.partition_epoch,
                                isr: registration.isr,
                            };
                            self.reply_when_committed(offset, from, response);
                        }
                    }
                    Err(error) => out.send(
                        self.id,
                        from,
                        Message::AlterPartitionResponse {
                            tp,
                            error,
                            leader_epoch: -1,
                            partition_epoch: -1,
                            isr: Vec::new(),
                        },
                    ),
                }
            }
            Message::AlterConfig { request_id, topic, configs } => {
                let controller = &mut active.controller;
                let decided = decide_each(&active.working, &configs, |image, name, value| {
                    controller.alter_config(image, &topic, name, value)
                });
                match decided {
                    Ok(records) => {
                        for (name, value) in configs {
                            out.event(now_ms, EventKind::ConfigChanged { topic: topic.clone(), name, value });
                        }
                        self.append_then_reply(
                            now_ms,
                            records,
                            from,
                            Message::AlterConfigResponse { request_id, error: ErrorCode::None },
                            out,
                        );
                    }
                    Err(error) => out.send(self.id, from, Message::AlterConfigResponse { request_id, error }),
                }
            }
            Message::AlterBrokerConfig { request_id, broker, configs } => {
                let controller = &mut active.controller;
                let decided = decide_each(&active.working, &configs, |image, name, value| {
                    controller.alter_broker_config(image, broker, name, value)
                });
                match decided {
                    Ok(records) => {
                        for (name, value) in configs {
                            out.event(now_ms, EventKind::BrokerConfigChanged { broker, name, value });
                        }
                        let response = Message::AlterConfigResponse { request_id, error: ErrorCode::None };
                        self.append_then_reply(now_ms, records, from, response, out);
                    }
                    Err(error) => out.send(self.id, from, Message::AlterConfigResponse { request_id, error }),
                }
            }
            Message::CreatePartitions { request_id, topic, count, assignments } => {
                match active.controller.create_partitions(&active.working, &topic, count, &assignments) {
                    Ok(records) => {
                        let response = Message::CreatePartitionsResponse { request_id, error: ErrorCode::None };
                        self.append_then_reply(now_ms, records, from, response, out);
                    }
                    Err(error) => out.send(self.id, from, Message::CreatePartitionsResponse { request_id, error }),
                }
            }
            Message::ElectLeader { request_id, topic, partition, election } => {
                match active.controller.elect_leader(&active.working, &topic, partition, election) {
                    Ok(records) => {
                        let response = Message::ElectLeaderResponse { request_id, error: ErrorCode::None };
                        self.append_then_reply(now_ms, records, from, response, out);
                    }
                    Err(error) => out.send(self.id, from, Message::ElectLeaderResponse { request_id, error }),
                }
            }
            Message::DeleteTopic { request_id, name } => match active.controller.delete_topic(&active.working, &name) {
                Ok(records) => {
                    let response = Message::DeleteTopicResponse { request_id, error: ErrorCode::None };
                    self.append_then_reply(now_ms, records, from, response, out);
                }
                Err(error) => out.send(self.id, from, Message::DeleteTopicResponse { request_id, error }),
            },
            Message::CreateTopic { request_id, name, partitions, replication_factor, configs, assignments } => {
                let result = TopicConfigs::from_pairs(configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .map_err(|_| ErrorCode::InvalidConfig)
                    .and_then(|configs| {
                        if assignments.is_empty() {
                            active.controller.create_topic(
                                &active.working,
                                &name,
                                partitions,
                                replication_factor,
                                configs,
                            )
                        } else {
                            active.controller.create_topic_with_assignments(
                                &active.working,
                                &name,
                                &assignments,
                                configs,
                            )
                        }
                    });
                match result {
                    Ok(records) => {
                        if let Some(offset) = self.append(now_ms, records, false, out) {
                            let response = Message::CreateTopicResponse { request_id, error: ErrorCode::None };
                            self.reply_when_committed(offset, from, response);
                        }
                    }
                    Err(error) => out.send(self.id, from, Message::CreateTopicResponse { request_id, error }),
                }
            }
            _ => {}
        }
    }

    /// Appends `records` and answers `to` once they are committed.
    fn append_then_reply(
        &mut self,
        now_ms: u64,
        records: Vec<MetadataRecord>,
        to: NodeId,
        reply: Message<P>,
        out: &mut Outbox<P>,
    ) {
        if let Some(offset) = self.append(now_ms, records, false, out) {
            self.reply_when_committed(offset, to, reply);
        }
    }

    fn reply_when_committed(&mut self, offset: i64, to: NodeId, reply: Message<P>) {
        if let Some(active) = &mut self.active {
            active.pending_replies.push((offset, to, reply));
        }
    }

    /// Appends decisions to the metadata log, applies them to the working image at once, and
    /// logs what they mean (ISR changes a leader proposed are logged by the leader, which knows
    /// why). Returns the offset of the last record.
    fn append(
        &mut self,
        now_ms: u64,
        records: Vec<MetadataRecord>,
        leader_proposed: bool,
        out: &mut Outbox<P>,
    ) -> Option<i64> {
        let active = self.active.as_mut()?;
        let count = i64::try_from(records.len()).ok()?;
        let last_offset = self.quorum.append(now_ms, records.clone()).ok()?;
        for (offset, record) in (last_offset - count + 1..).zip(&records) {
            let isr_before = match record {
                MetadataRecord::PartitionChange { topic, partition, leader: None, isr: Some(_), .. }
                    if !leader_proposed =>
                {
                    active.working.partition(topic, *partition).map(|p| p.isr.clone())
                }
                _ => None,
            };
            active.working.apply(offset, record);
            if let Some(kind) = describe(&active.working, offset, record, &self.config) {
                out.event(now_ms, kind);
            }
            if let MetadataRecord::PartitionChange { topic, partition, elr: Some(elr), .. } = record
                && let Some(registration) = active.working.partition(topic, *partition)
            {
                let tp = TopicPartition { topic: topic.clone(), partition: *partition };
                let isr = registration.isr.clone();
                out.event(now_ms, EventKind::EligibleLeaderReplicasChanged { tp, elr: elr.clone(), isr });
            }
            if let (Some(before), MetadataRecord::PartitionChange { topic, partition, isr: Some(isr), .. }) =
                (isr_before, record)
            {
                let removed: Vec<_> = before.iter().copied().filter(|id| !isr.contains(id)).collect();
                if !removed.is_empty() {
                    let tp = TopicPartition { topic: topic.clone(), partition: *partition };
                    out.event(now_ms, EventKind::RemovedFromIsr { tp, removed, isr: isr.clone() });
                }
            }
        }
        Some(last_offset)
    }

    /// After any input: send what the quorum wants sent, log its transitions, apply newly
    /// committed records, follow leadership changes and release replies whose records committed.
    fn after_input(&mut self, now_ms: u64, out: &mut Outbox<P>) {
        while let Some((to, message)) = self.quorum.poll_output() {
            out.send(self.id, to, Message::Quorum(message));
        }
        for event in self.quorum.take_events() {
            // The view shows the high watermark itself; a line per commit would drown the log.
            if !matches!(event, crate::core::quorum::QuorumEvent::HighWatermark { .. }) {
                out.event(now_ms, EventKind::Quorum { node: self.id, event });
            }
        }
        for entry in self.quorum.take_committed() {
            if let crate::core::quorum::EntryPayload::Record(record) = &entry.payload {
                self.image.apply(entry.offset, record);
            }
        }
        let leading = self.quorum.role() == Role::Leader;
        let epoch = self.quorum.epoch();
        if !leading || self.active.as_ref().is_some_and(|a| a.epoch != epoch) {
            self.active = None;
        }
        if leading && self.active.is_none() {
            let mut working = MetadataImage::with_static_configs(self.config.static_configs.clone());
            for entry in self.quorum.log() {
                if let crate::core::quorum::EntryPayload::Record(record) = &entry.payload {
                    working.apply(entry.offset, record);
                }
            }
            let mut controller = Controller::new(self.config.clone());
            controller.activate(now_ms, &working);
            let next_noop_ms = self.config.metadata_max_idle_interval_ms.map(|interval_ms| now_ms + interval_ms);
            self.active = Some(Active { epoch, working, controller, pending_replies: Vec::new(), next_noop_ms });
            out.event(now_ms, EventKind::ControllerActivated { controller: self.id, epoch });
        }
        let high_watermark = self.quorum.high_watermark();
        if let Some(active) = &mut self.active {
            let (ready, waiting) = std::mem::take(&mut active.pending_replies)
                .into_iter()
                .partition::<Vec<_>, _>(|(offset, _, _)| *offset < high_watermark);
            active.pending_replies = waiting;
            for (_, to, reply) in ready {
                out.send(self.id, to, reply);
            }
        }
    }
}

/// Decides config changes one after another, each against the image with the ones before it
/// applied, so a request that sets several configs is one atomic append: all its records, or
/// the first refusal and none.
fn decide_each(
    working: &MetadataImage,
    configs: &[(String, Option<String>)],
    mut decide: impl FnMut(&MetadataImage, &str, Option<&str>) -> Result<Vec<MetadataRecord>, ErrorCode>,
) -> Result<Vec<MetadataRecord>, ErrorCode> {
    let mut after = working.clone();
    let mut records = Vec::new();
    for (name, value) in configs {
        let decided = decide(&after, name, value.as_deref())?;
        for record in &decided {
            after.apply(after.offset + 1, record);
        }
        records.extend(decided);
    }
    Ok(records)
}

/// The NOT_CONTROLLER answer a non-active controller gives a request.
fn not_controller<P: Payload>(request: &Message<P>) -> Option<Message<P>> {
    let error = ErrorCode::NotController;
    Some(match request {
        Message::BrokerRegistration { .. } => Message::BrokerRegistrationResponse { error, broker_epoch: -1 },
        Message::BrokerHeartbeat { .. } => Message::BrokerHeartbeatResponse { error, is_fenced: true },
        Message::AlterPartition { tp, .. } => Message::AlterPartitionResponse {
            tp: tp.clone(),
            error,
            leader_epoch: -1,
            partition_epoch: -1,
            isr: Vec::new(),
        },
        Message::AlterConfig { request_id, .. } | Message::AlterBrokerConfig { request_id, .. } => {
            Message::AlterConfigResponse { request_id: *request_id, error }
        }
        Message::CreateTopic { request_id, .. } => Message::CreateTopicResponse { request_id: *request_id, error },
        Message::CreatePartitions { request_id, .. } => {
            Message::CreatePartitionsResponse { request_id: *request_id, error }
        }
        Message::DeleteTopic { request_id, .. } => Message::DeleteTopicResponse { request_id: *request_id, error },
        Message::ElectLeader { request_id, .. } => Message::ElectLeaderResponse { request_id: *request_id, error },
        _ => return None,
    })
}

/// The event a record stands for, read against the image it was just applied to.
fn describe(
    image: &MetadataImage,
    offset: i64,
    record: &MetadataRecord,
    config: &ControllerConfig,
) -> Option<EventKind> {
    match record {
        MetadataRecord::RegisterBroker { broker_id, .. } => {
            Some(EventKind::BrokerRegistered { broker: *broker_id, broker_epoch: offset })
        }
        MetadataRecord::FenceBroker { broker_id, .. }
        | MetadataRecord::BrokerRegistrationChange { broker_id, fenced: Some(true), .. } => {
            Some(EventKind::BrokerFenced {
                broker: *broker_id,
                session_timeout_ms: config.broker_session_timeout_ms,
                controlled_shutdown: matches!(
                    record,
                    MetadataRecord::BrokerRegistrationChange { in_controlled_shutdown: true, .. }
                ),
            })
        }
        MetadataRecord::UnfenceBroker { broker_id, .. }
        | MetadataRecord::BrokerRegistrationChange { broker_id, fenced: Some(false), .. } => {
            Some(EventKind::BrokerUnfenced { broker: *broker_id })
        }
        MetadataRecord::PartitionChange { topic, partition, leader: Some(_), unclean, .. } => {
            let registration = image.partition(topic, *partition)?;
            Some(EventKind::LeaderElected {
                tp: TopicPartition { topic: topic.clone(), partition: *partition },
                leader: registration.leader,
                leader_epoch: registration.leader_epoch,
                unclean: *unclean,
            })
        }
        _ => None,
    }
}
