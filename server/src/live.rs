//! Live views: what the lesson page's "Live view" panel shows, as it happens.
//!
//! # One poller for every learner
//!
//! A single task (the *poller*) asks the cluster about once a second, through the Kafka
//! protocol like any client (so it works against an external Kafka too): Metadata for the topics,
//! ListOffsets for every partition's log start and log end offset, ListGroups, DescribeGroups and
//! OffsetFetch for the consumer groups. From the answers it builds an immutable [`Snapshot`],
//! serializes it to JSON once, and publishes it through a `tokio::sync::watch` channel, only when
//! something changed. Each open page holds an SSE connection (`GET /api/live`, see
//! `web/live.rs`) that forwards the latest JSON. The broker sees the same few requests per second
//! whether one learner or five hundred watch; a connection costs a socket and a copy of the
//! JSON per change.
//!
//! The poller starts with the first subscriber and stops after [`LINGER_POLLS`] polls with none
//! (so moving from one lesson to the next keeps the lag history).
//!
//! # Bounds
//!
//! Everything shown is bounded ([`TOPICS_MAX`], [`PARTITIONS_MAX`], [`GROUPS_MAX`],
//! [`MEMBERS_MAX`], [`GROUP_PARTITIONS_MAX`]); what is left out is counted in a `*_more` field so
//! the page can say "and 3 more". Kafka's internal topics (`__consumer_offsets`, ...) are hidden.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::kafka::{
    ClusterMetadata, ClusterTopic, CommittedOffset, GroupDetail, Kafka, KafkaError, ListedGroup, LogOffsets,
    PartitionReplicas,
};

/// How often the poller asks the cluster.
pub const POLL_INTERVAL_MS: u64 = 1_000;
/// A poll that takes longer than this is abandoned and reported as an error.
const POLL_TIMEOUT_MS: u64 = 5_000;
/// A nudge (see [`Live::nudge`]) polls at once, but never sooner than this after the last poll.
const NUDGE_GAP_MS: u64 = 200;
/// Polls without any subscriber before the poller stops.
pub const LINGER_POLLS: u32 = 30;
/// Topics shown (sorted by name); the rest are counted in `topics_more`.
pub const TOPICS_MAX: usize = 50;
/// Partitions shown per topic.
pub const PARTITIONS_MAX: usize = 32;
/// Consumer groups shown (sorted by id).
pub const GROUPS_MAX: usize = 20;
/// Members shown per group.
pub const MEMBERS_MAX: usize = 20;
/// Partition rows (assigned or committed) shown per group.
pub const GROUP_PARTITIONS_MAX: usize = 64;
/// Lag samples kept per group, one per poll: two minutes.
pub const LAG_HISTORY_SAMPLES: usize = 120;
/// Open live-view connections at most; more get a 503 (each costs a socket and a task).
pub const CONNECTIONS_MAX: usize = 2_000;

/// What the live view shows at one moment. Serialized as the `snapshot` event's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Increases with every published snapshot.
    pub seq: u64,
    /// When the poll that produced it finished (milliseconds since the Unix epoch).
    pub taken_at_ms: i64,
    pub poll_interval_ms: u64,
    /// Why the cluster could not be asked; the topics and groups are then the last known ones.
    pub error: Option<String>,
    /// The nodes and the quorum (the Cluster panel); `None` before the first answer.
    pub cluster: Option<ClusterView>,
    pub topics: Vec<TopicView>,
    pub topics_more: usize,
    pub groups: Vec<GroupView>,
    pub groups_more: usize,
}

/// The cluster panel: which nodes run, which controller is active, and how healthy the
/// partitions are, as `kafka-topics --describe --under-replicated-partitions` and
/// `--unavailable-partitions` would count them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterView {
    pub brokers: Vec<BrokerView>,
    pub controllers: Vec<ControllerView>,
    /// The KRaft quorum's leader (the active controller) and its epoch; `None` while the
    /// controllers elect one, or when no broker can ask them.
    pub quorum: Option<QuorumView>,
    /// Whether this page may stop and start nodes: the cluster is the embedded one.
    pub controllable: bool,
    /// Partitions (of topics shown or not) with fewer in-sync replicas than replicas.
    pub under_replicated_partitions: usize,
    /// Partitions without a leader: nobody can produce to or consume from them.
    pub offline_partitions: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerView {
    pub id: i32,
    /// `up`: registered and unfenced, in Metadata; `fenced`: running but not (yet) unfenced by
    /// the controller (starting, or its heartbeats are not getting through); `stopped`.
    pub state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControllerView {
    pub id: i32,
    /// `active` (the quorum leader), `standby` (a running voter that follows it, or takes part
    /// in an election), or `stopped`.
    pub state: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuorumView {
    pub leader_id: i32,
    pub leader_epoch: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicView {
    pub name: String,
    pub partitions: Vec<PartitionView>,
    pub partitions_more: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionView {
    pub partition: i32,
    /// `None` when ListOffsets did not answer for this partition.
    pub log_start_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    /// Records a consumer can read: log end minus log start.
    pub records: Option<i64>,
    /// The leader's broker id; `None`: the partition is offline.
    pub leader: Option<i32>,
    pub leader_epoch: i32,
    /// The replicas (the preferred leader first), the in-sync ones, and those on brokers that
    /// are not live.
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub offline_replicas: Vec<i32>,
    /// Eligible leader replicas (KIP-966): out of the ISR, yet holding every committed record.
    pub elr: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupView {
    pub group: String,
    /// `Stable`, `Empty`, `PreparingRebalance`, ... as ListGroups/DescribeGroups say.
    pub state: String,
    /// The assignor the group chose (`range`, `cooperative-sticky`, ...), empty if none.
    pub protocol: String,
    pub members: Vec<MemberView>,
    pub members_more: usize,
    /// A row per partition a member owns or the group committed, like
    /// `kafka-consumer-groups --describe`.
    pub partitions: Vec<GroupPartitionView>,
    pub partitions_more: usize,
    /// The sum of the known lags of the rows shown.
    pub total_lag: i64,
    /// `[time_ms, total_lag]` over the last [`LAG_HISTORY_SAMPLES`] polls, as change points: the
    /// first sample, then each sample whose lag differs from the one before (the lag holds its
    /// value until the next point, and until now after the last).
    pub lag_history: Vec<[i64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    pub member_id: String,
    pub client_id: String,
    pub host: String,
    pub assignment: Vec<AssignmentView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentView {
    pub topic: String,
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupPartitionView {
    pub topic: String,
    pub partition: i32,
    /// The member that owns it, if any.
    pub member_id: Option<String>,
    pub committed_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    /// Log end offset minus committed offset; `None` without a committed offset (the real tool
    /// prints `-`).
    pub lag: Option<i64>,
}

/// Everything one poll learned, before it is shaped into a [`Snapshot`].
#[derive(Debug, Clone, Default)]
pub struct Polled {
    /// Topics, partitions, their replicas and the live brokers (one Metadata request).
    pub metadata: ClusterMetadata,
    /// The quorum's leader and epoch (DescribeQuorum); `None` while it elects.
    pub quorum: Option<QuorumView>,
    /// Which nodes run, when the cluster is the embedded one.
    pub nodes: Option<broker::NodesStatus>,
    /// ListGroups, sorted by id.
    pub groups: Vec<ListedGroup>,
    /// DescribeGroups of the groups shown; absent: it vanished between the two requests.
    pub described: BTreeMap<String, GroupDetail>,
    /// OffsetFetch of the groups shown.
    pub committed: BTreeMap<String, Vec<CommittedOffset>>,
    /// Where every partition shown or used by a group shown starts and ends.
    pub offsets: BTreeMap<(String, i32), LogOffsets>,
}

/// Whether a topic is Kafka's own: flagged internal by the broker, or named like one.
pub fn is_internal_topic(topic: &ClusterTopic) -> bool {
    topic.internal || topic.name.starts_with("__")
}

/// A topic as shown: its name, the partitions shown and how many were left out.
type ShownTopic<'a> = (&'a str, &'a [i32], usize);

/// One row of a group's table: topic, partition, the owning member (if any), committed offset.
type GroupRow = (String, i32, Option<String>, Option<i64>);

/// The topics and partitions shown, after hiding internal topics and applying the bounds, and
/// the number of topics left out.
fn shown_topics(topics: &[ClusterTopic]) -> (Vec<ShownTopic<'_>>, usize) {
    let visible: Vec<&ClusterTopic> = topics.iter().filter(|t| !is_internal_topic(t)).collect();
    let more = visible.len().saturating_sub(TOPICS_MAX);
    let shown = visible
        .into_iter()
        .take(TOPICS_MAX)
        .map(|t| {
            let count = t.partitions.len().min(PARTITIONS_MAX);
            (t.name.as_str(), &t.partitions[..count], t.partitions.len() - count)
        })
        .collect();
    (shown, more)
}

/// The groups whose details a poll asks for.
fn shown_groups(groups: &[ListedGroup]) -> &[ListedGroup] {
    &groups[..groups.len().min(GROUPS_MAX)]
}

/// A group's rows: each partition a member owns (members in order), then each committed
/// partition nobody owns, sorted; bounded by [`GROUP_PARTITIONS_MAX`].
fn group_rows(detail: Option<&GroupDetail>, committed: &[CommittedOffset]) -> (Vec<GroupRow>, usize) {
    let committed_at = |topic: &str, partition: i32| {
        committed.iter().find(|c| c.topic == topic && c.partition == partition).map(|c| c.offset)
    };
    let mut rows = Vec::new();
    let mut owned = BTreeSet::new();
    for member in detail.map_or(&[][..], |d| &d.members) {
        let mut assigned: Vec<(&str, i32)> =
            member.assignment.iter().flat_map(|(t, ps)| ps.iter().map(move |p| (t.as_str(), *p))).collect();
        assigned.sort_unstable();
        for (topic, partition) in assigned {
            if owned.insert((topic.to_owned(), partition)) {
                rows.push((
                    topic.to_owned(),
                    partition,
                    Some(member.member_id.clone()),
                    committed_at(topic, partition),
                ));
            }
        }
    }
    let mut unowned: Vec<&CommittedOffset> =
        committed.iter().filter(|c| !owned.contains(&(c.topic.clone(), c.partition))).collect();
    unowned.sort();
    rows.extend(unowned.into_iter().map(|c| (c.topic.clone(), c.partition, None, Some(c.offset))));
    let more = rows.len().saturating_sub(GROUP_PARTITIONS_MAX);
    rows.truncate(GROUP_PARTITIONS_MAX);
    (rows, more)
}

/// Every partition whose offsets a poll needs: those shown, and those the groups shown use.
pub fn partitions_needed(
    topics: &[ClusterTopic],
    described: &BTreeMap<String, GroupDetail>,
    committed: &BTreeMap<String, Vec<CommittedOffset>>,
) -> BTreeMap<String, Vec<i32>> {
    let mut needed: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    let (shown, _) = shown_topics(topics);
    for (name, partitions, _) in shown {
        needed.entry(name.to_owned()).or_default().extend(partitions.iter().copied());
    }
    let groups: BTreeSet<&String> = described.keys().chain(committed.keys()).collect();
    for group in groups {
        let empty = Vec::new();
        let (rows, _) = group_rows(described.get(group), committed.get(group).unwrap_or(&empty));
        for (topic, partition, _, _) in rows {
            needed.entry(topic).or_default().insert(partition);
        }
    }
    needed.into_iter().map(|(topic, partitions)| (topic, partitions.into_iter().collect())).collect()
}

/// Shapes a poll into a snapshot (without `seq`, time and lag history, which the poller adds).
pub fn build(polled: &Polled) -> Snapshot {
    let offsets_of = |topic: &str, partition: i32| polled.offsets.get(&(topic.to_owned(), partition)).copied();
    let replicas_of = |topic: &str, partition: i32| {
        polled.metadata.partitions.iter().find(|p| p.topic == topic && p.partition == partition)
    };
    let (shown, topics_more) = shown_topics(&polled.metadata.topics);
    let topics = shown
        .into_iter()
        .map(|(name, partitions, partitions_more)| TopicView {
            name: name.to_owned(),
            partitions: partitions
                .iter()
                .map(|&partition| {
                    let offsets = offsets_of(name, partition);
                    let replicas = replicas_of(name, partition);
                    let ids =
                        |pick: fn(&PartitionReplicas) -> &Vec<i32>| replicas.map(pick).cloned().unwrap_or_default();
                    PartitionView {
                        partition,
                        log_start_offset: offsets.map(|o| o.log_start_offset),
                        log_end_offset: offsets.map(|o| o.log_end_offset),
                        records: offsets.map(|o| (o.log_end_offset - o.log_start_offset).max(0)),
                        leader: replicas.map(|r| r.leader).filter(|&leader| leader >= 0),
                        leader_epoch: replicas.map_or(-1, |r| r.leader_epoch),
                        replicas: ids(|r| &r.replicas),
                        isr: ids(|r| &r.isr),
                        offline_replicas: ids(|r| &r.offline_replicas),
                        elr: ids(|r| &r.elr),
                    }
                })
                .collect(),
            partitions_more,
        })
        .collect();
    let listed = shown_groups(&polled.groups);
    let groups_more = polled.groups.len() - listed.len();
    let empty = Vec::new();
    let groups = listed
        .iter()
        .map(|listed| {
            let group = &listed.group_id;
            let detail = polled.described.get(group);
            let committed = polled.committed.get(group).unwrap_or(&empty);
            let (rows, partitions_more) = group_rows(detail, committed);
            let partitions: Vec<GroupPartitionView> = rows
                .into_iter()
                .map(|(topic, partition, member_id, committed_offset)| {
                    let log_end_offset = offsets_of(&topic, partition).map(|o| o.log_end_offset);
                    let lag = match (committed_offset, log_end_offset) {
                        (Some(committed), Some(end)) => Some((end - committed).max(0)),
                        _ => None,
                    };
                    GroupPartitionView { topic, partition, member_id, committed_offset, log_end_offset, lag }
                })
                .collect();
            let members = detail.map_or(&[][..], |d| &d.members);
            GroupView {
                group: group.clone(),
                state: detail.map_or_else(|| listed.state.clone(), |d| d.state.clone()),
                protocol: detail.map(|d| d.protocol.clone()).unwrap_or_default(),
                members: members
                    .iter()
                    .take(MEMBERS_MAX)
                    .map(|m| MemberView {
                        member_id: m.member_id.clone(),
                        client_id: m.client_id.clone(),
                        host: m.host.clone(),
                        assignment: m
                            .assignment
                            .iter()
                            .map(|(topic, partitions)| AssignmentView {
                                topic: topic.clone(),
                                partitions: partitions.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                members_more: members.len().saturating_sub(MEMBERS_MAX),
                total_lag: partitions.iter().filter_map(|p| p.lag).sum(),
                partitions,
                partitions_more,
                lag_history: Vec::new(),
            }
        })
        .collect();
    Snapshot {
        seq: 0,
        taken_at_ms: 0,
        poll_interval_ms: POLL_INTERVAL_MS,
        error: None,
        cluster: Some(cluster_view(polled)),
        topics,
        topics_more,
        groups,
        groups_more,
    }
}

/// The cluster panel. Without the embedded cluster's node list (an external Kafka), the brokers
/// are the live ones Metadata lists and the controllers are unknown.
fn cluster_view(polled: &Polled) -> ClusterView {
    let live = &polled.metadata.brokers;
    let active = polled.quorum.map(|q| q.leader_id);
    let (brokers, controllers) = match &polled.nodes {
        Some(nodes) => (
            nodes
                .brokers
                .iter()
                .map(|&(id, running)| {
                    let state = match (running, live.contains(&id)) {
                        (false, _) => "stopped",
                        (true, true) => "up",
                        (true, false) => "fenced",
                    };
                    BrokerView { id, state }
                })
                .collect(),
            nodes
                .controllers
                .iter()
                .map(|&(id, running)| {
                    let state = match (running, active == Some(id)) {
                        (false, _) => "stopped",
                        (true, true) => "active",
                        (true, false) => "standby",
                    };
                    ControllerView { id, state }
                })
                .collect(),
        ),
        None => (live.iter().map(|&id| BrokerView { id, state: "up" }).collect(), Vec::new()),
    };
    let partitions = &polled.metadata.partitions;
    ClusterView {
        brokers,
        controllers,
        quorum: polled.quorum,
        controllable: polled.nodes.is_some(),
        under_replicated_partitions: partitions.iter().filter(|p| p.under_replicated()).count(),
        offline_partitions: partitions.iter().filter(|p| p.leader < 0).count(),
    }
}

/// Each group's total lag, one sample per poll, for the chart.
#[derive(Debug, Default)]
pub struct LagHistory {
    groups: BTreeMap<String, VecDeque<(i64, i64)>>,
}

impl LagHistory {
    /// Adds this poll's sample for every group shown; forgets groups that are gone.
    pub fn record(&mut self, now_ms: i64, groups: &[GroupView]) {
        self.groups.retain(|name, _| groups.iter().any(|g| &g.group == name));
        for group in groups {
            let samples = self.groups.entry(group.group.clone()).or_default();
            samples.push_back((now_ms, group.total_lag));
            while samples.len() > LAG_HISTORY_SAMPLES {
                samples.pop_front();
            }
        }
    }

    /// The group's history as change points (see [`GroupView::lag_history`]).
    pub fn change_points(&self, group: &str) -> Vec<[i64; 2]> {
        let mut points: Vec<[i64; 2]> = Vec::new();
        for &(at_ms, lag) in self.groups.get(group).into_iter().flatten() {
            if points.last().is_none_or(|last| last[1] != lag) {
                points.push([at_ms, lag]);
            }
        }
        points
    }
}

/// A published snapshot: its JSON, serialized once for every connection.
#[derive(Debug)]
pub struct Published {
    pub seq: u64,
    /// `None` until the poller has a snapshot (and again once it stops): nothing to send.
    pub json: Option<Arc<str>>,
}

/// The poller's memory between polls: what it published last and the lag history.
#[derive(Debug, Default)]
pub struct PollerState {
    /// The last snapshot published, before `seq`, time and history were added.
    published: Option<Snapshot>,
    /// The last snapshot built from a successful poll, shown (with an error) while the cluster
    /// cannot be asked.
    last_good: Snapshot,
    history: LagHistory,
    seq: u64,
}

impl PollerState {
    pub fn new(seq: u64) -> Self {
        Self { seq, ..Self::default() }
    }

    /// Takes in one poll's outcome; returns the snapshot to publish if anything changed.
    pub fn update(&mut self, now_ms: i64, outcome: Result<Polled, String>) -> Option<Snapshot> {
        let content = match outcome {
            Ok(polled) => {
                let content = build(&polled);
                self.history.record(now_ms, &content.groups);
                self.last_good = content.clone();
                content
            }
            Err(error) => Snapshot { error: Some(error), ..self.last_good.clone() },
        };
        if self.published.as_ref() == Some(&content) {
            return None;
        }
        self.published = Some(content.clone());
        self.seq += 1;
        let mut snapshot = content;
        snapshot.seq = self.seq;
        snapshot.taken_at_ms = now_ms;
        for group in &mut snapshot.groups {
            group.lag_history = self.history.change_points(&group.group);
        }
        Some(snapshot)
    }
}

/// Asks the cluster everything a snapshot needs, through the Kafka protocol; which nodes run
/// comes from the lab's control of the embedded cluster, if there is one.
pub async fn poll(kafka: &Kafka, control: Option<&broker::ClusterControl>) -> Result<Polled, KafkaError> {
    let nodes = control.map(broker::ClusterControl::nodes);
    let metadata = kafka.cluster_metadata().await?;
    // While the controllers elect (or a majority is stopped) there is no quorum leader to show.
    let quorum = match kafka.describe_quorum().await {
        Ok(Ok(info)) => Some(QuorumView { leader_id: info.leader_id, leader_epoch: info.leader_epoch }),
        Ok(Err(_)) | Err(_) => None,
    };
    let topics = &metadata.topics;
    let groups = kafka.list_groups().await?;
    let names: Vec<String> = shown_groups(&groups).iter().map(|listed| listed.group_id.clone()).collect();
    let mut described = BTreeMap::new();
    for (group, detail) in kafka.describe_groups(&names).await? {
        // A group deleted between ListGroups and DescribeGroups is simply not described.
        if let Ok(Some(detail)) = detail {
            described.insert(group, detail);
        }
    }
    let mut committed = BTreeMap::new();
    for group in &names {
        committed.insert(group.clone(), kafka.all_committed_offsets(group).await?);
    }
    let offsets = kafka.log_offsets(&partitions_needed(topics, &described, &committed)).await?;
    Ok(Polled { metadata, quorum, nodes, groups, described, committed, offsets })
}

/// The live-view hub, owned by the app state: subscribe to get snapshots.
#[derive(Debug, Clone)]
pub struct Live {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    snapshots: watch::Sender<Arc<Published>>,
    /// Whether the poller task runs. Locked while starting it and while it decides to stop, so
    /// a subscriber arriving at that moment is never left without a poller.
    running: Mutex<bool>,
    /// Set once at shutdown: streams end, the poller stops.
    closing: watch::Sender<bool>,
    connections: AtomicUsize,
    /// Something changed the cluster (a console command): poll now rather than at the next tick.
    nudge: tokio::sync::Notify,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Self {
        let (snapshots, _) = watch::channel(Arc::new(Published { seq: 0, json: None }));
        let (closing, _) = watch::channel(false);
        Self {
            shared: Arc::new(Shared {
                snapshots,
                running: Mutex::new(false),
                closing,
                connections: AtomicUsize::new(0),
                nudge: tokio::sync::Notify::new(),
            }),
        }
    }

    /// A receiver of published snapshots; starts the poller if it is not running.
    pub fn subscribe(
        &self,
        kafka: &Arc<Kafka>,
        control: Option<&broker::ClusterControl>,
    ) -> watch::Receiver<Arc<Published>> {
        let mut running = self.shared.running.lock().unwrap_or_else(|e| e.into_inner());
        let receiver = self.shared.snapshots.subscribe();
        if !*running && !*self.shared.closing.borrow() {
            *running = true;
            tokio::spawn(run_poller(self.shared.clone(), kafka.clone(), control.cloned()));
        }
        receiver
    }

    /// Counts an open connection, or `None` if [`CONNECTIONS_MAX`] are open.
    pub fn connect(&self) -> Option<ConnectionGuard> {
        let shared = self.shared.clone();
        let previous = shared.connections.fetch_add(1, Ordering::AcqRel);
        if previous >= CONNECTIONS_MAX {
            shared.connections.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(ConnectionGuard { shared })
    }

    /// Asks for a poll now: the caller just changed the cluster (the console ran a command), so
    /// the learner sees it without waiting for the next tick. Nudges are coalesced, and polls stay
    /// at least [`NUDGE_GAP_MS`] apart, so many learners nudging cost at most 5 polls a second.
    pub fn nudge(&self) {
        if self.is_polling() {
            self.shared.nudge.notify_one();
        }
    }

    /// Open live-view connections.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Acquire)
    }

    /// Whether the poller task runs.
    pub fn is_polling(&self) -> bool {
        *self.shared.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends every stream and stops the poller (graceful shutdown waits for open responses).
    pub fn close(&self) {
        self.shared.closing.send_replace(true);
    }

    /// Resolves once [`Live::close`] was called.
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.shared.closing.subscribe();
        async move {
            // An error means the sender is gone: the app is gone too.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }
}

/// One open live-view connection; dropping it frees its place.
#[derive(Debug)]
pub struct ConnectionGuard {
    shared: Arc<Shared>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.shared.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn run_poller(shared: Arc<Shared>, kafka: Arc<Kafka>, control: Option<broker::ClusterControl>) {
    tracing::debug!("live view poller started");
    let mut state = PollerState::new(shared.snapshots.borrow().seq);
    let mut closing = shared.closing.subscribe();
    let mut ticks = tokio::time::interval(Duration::from_millis(POLL_INTERVAL_MS));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut unwatched_polls = 0;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shared.nudge.notified() => ticks.reset(),
            _ = closing.wait_for(|closing| *closing) => break,
        }
        let outcome =
            match tokio::time::timeout(Duration::from_millis(POLL_TIMEOUT_MS), poll(&kafka, control.as_ref())).await {
                Ok(Ok(polled)) => Ok(polled),
                Ok(Err(error)) => Err(format!("the Kafka broker could not be asked: {error}")),
                Err(_) => Err(format!("the Kafka broker did not answer within {} s", POLL_TIMEOUT_MS / 1000)),
            };
        if let Some(snapshot) = state.update(crate::progress::now_ms(), outcome) {
            match serde_json::to_string(&snapshot) {
                Ok(json) => {
                    shared.snapshots.send_replace(Arc::new(Published { seq: snapshot.seq, json: Some(json.into()) }));
                }
                Err(error) => tracing::error!(%error, "cannot serialize a live snapshot"),
            }
        }
        if shared.snapshots.receiver_count() == 0 {
            unwatched_polls += 1;
        } else {
            unwatched_polls = 0;
        }
        // The gap between polls: a nudge waits it out, a tick is later anyway.
        tokio::time::sleep(Duration::from_millis(NUDGE_GAP_MS)).await;
        if unwatched_polls >= LINGER_POLLS {
            let mut running = shared.running.lock().unwrap_or_else(|e| e.into_inner());
            if shared.snapshots.receiver_count() == 0 {
                *running = false;
                // The next subscriber waits for a fresh poll rather than getting this old one.
                let seq = shared.snapshots.borrow().seq;
                shared.snapshots.send_replace(Arc::new(Published { seq, json: None }));
                tracing::debug!("live view poller stopped: nobody watches");
                return;
            }
        }
    }
    *shared.running.lock().unwrap_or_else(|e| e.into_inner()) = false;
}

#[cfg(test)]
mod tests;
