//! The consumer-group coordinator: Kafka's classic group protocol as a state machine.
//!
//! Members join (JoinGroup), the coordinator waits until every known member has rejoined or the
//! rebalance timeout passes, picks a protocol and a leader, and answers all joins at once; the
//! leader computes the assignment and hands it back (SyncGroup), which every member then
//! receives. Heartbeats keep a member alive within `session.timeout.ms` and tell it when to
//! rejoin. Committed offsets are kept per group.
//!
//! States, as `kafka-consumer-groups.sh --describe --state` prints them:
//!
//! ```text
//!  Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
//!    ▲                     ▲    ▲                                      │ leader's SyncGroup
//!    └──last member leaves─┘    └──join, leave, session expiry── Stable ◀┘
//! ```
//!
//! Sans-IO: time comes in as `now_ms`; JoinGroup and SyncGroup answers that must wait are
//! returned later as [`Reply`] values tagged with the caller's [`RequestId`], from whichever call
//! completes them (another member's join, [`GroupCoordinator::tick`]). Nothing here blocks.

use std::collections::BTreeMap;

use super::ErrorCode;

/// The driver's handle for a parked request; echoed back in its [`Reply`].
pub type RequestId = u64;

/// Bounds on `session.timeout.ms` (Kafka's `group.min/max.session.timeout.ms`).
pub const MIN_SESSION_TIMEOUT_MS: i32 = 6_000;
pub const MAX_SESSION_TIMEOUT_MS: i32 = 1_800_000;

/// Most members one group may have (`group.max.size`), counting the member ids handed out with
/// MEMBER_ID_REQUIRED that have not joined yet: each of those is held until its session
/// timeout, so a client that keeps asking must not grow the group without bound.
pub const MAX_GROUP_SIZE: usize = 1_000;

/// Most subscription metadata one member may send with JoinGroup, over all its protocols. A
/// consumer's is its topic list and assignor user data: kilobytes. Kafka has no such bound (only
/// the request size); here the group holds it until the member's session expires, and one
/// process holds every group, so a member past this is refused with INVALID_REQUEST.
pub const MAX_MEMBER_METADATA_BYTES: usize = 1024 * 1024;

/// Most subscription metadata one group holds over its members: past it, a new member is
/// refused with GROUP_MAX_SIZE_REACHED (the group is full, in bytes rather than members).
pub const MAX_GROUP_METADATA_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

impl GroupState {
    /// The name Kafka's tools print.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    /// (protocol name, subscription metadata) in the member's order of preference.
    pub protocols: Vec<(String, Vec<u8>)>,
    /// What the leader assigned this member in the current generation.
    pub assignment: Vec<u8>,
    last_heartbeat_ms: i64,
    /// A JoinGroup waiting for the rebalance to complete.
    awaiting_join: Option<RequestId>,
    /// A SyncGroup waiting for the leader's assignment.
    awaiting_sync: Option<RequestId>,
}

impl Member {
    fn metadata_for(&self, protocol: &str) -> Vec<u8> {
        self.protocols.iter().find(|(name, _)| name == protocol).map(|(_, m)| m.clone()).unwrap_or_default()
    }
}

/// A committed offset, as OffsetCommit stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
    pub commit_timestamp_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub group_id: String,
    pub state: GroupState,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    /// The protocol (assignor) chosen for the current generation.
    pub protocol_name: Option<String>,
    pub leader_id: Option<String>,
    pub members: BTreeMap<String, Member>,
    /// KIP-394: ids handed out with MEMBER_ID_REQUIRED, valid until they join or expire.
    pending_members: BTreeMap<String, i64>,
    /// When the current rebalance gives up on members that have not rejoined.
    rebalance_deadline_ms: Option<i64>,
    /// A rebalance of an empty group waits until then for more members to arrive
    /// (`group.initial.rebalance.delay.ms`), so that consumers starting together share one
    /// generation instead of rebalancing once per member.
    initial_delay_until_ms: Option<i64>,
    pub offsets: BTreeMap<(String, i32), CommittedOffset>,
}

impl Group {
    /// Members and handed-out member ids (KIP-394) other than `member_id`: what `group.max.size`
    /// counts.
    fn size_without(&self, member_id: &str) -> usize {
        self.members.keys().chain(self.pending_members.keys()).filter(|id| *id != member_id).count()
    }

    /// The member id a static member (KIP-345) currently has in this group.
    pub fn static_member_id(&self, group_instance_id: &str) -> Option<&str> {
        self.members
            .values()
            .find(|m| m.group_instance_id.as_deref() == Some(group_instance_id))
            .map(|m| m.member_id.as_str())
    }

    /// Kafka's `ClassicGroup.validateMember`: a request naming a `group.instance.id` must come
    /// from that instance's current member id; an older incarnation (replaced when the instance
    /// restarted and joined again) is fenced with FENCED_INSTANCE_ID.
    fn validate_member(&self, member_id: &str, group_instance_id: Option<&str>) -> Result<(), ErrorCode> {
        if let Some(instance_id) = group_instance_id {
            match self.static_member_id(instance_id) {
                None => return Err(ErrorCode::UnknownMemberId),
                Some(current) if current != member_id => return Err(ErrorCode::FencedInstanceId),
                Some(_) => {}
            }
        }
        if self.members.contains_key(member_id) { Ok(()) } else { Err(ErrorCode::UnknownMemberId) }
    }

    fn new(group_id: &str) -> Self {
        Group {
            group_id: group_id.to_owned(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: BTreeMap::new(),
            pending_members: BTreeMap::new(),
            rebalance_deadline_ms: None,
            initial_delay_until_ms: None,
            offsets: BTreeMap::new(),
        }
    }
}

/// A JoinGroup request, in the coordinator's terms.
#[derive(Debug, Clone)]
pub struct JoinGroup {
    pub group_id: String,
    /// Empty on a member's first join.
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    /// v0 has none: the session timeout stands in for it.
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Vec<u8>)>,
    /// KIP-394, JoinGroup v4+: a new member must first ask for its id.
    pub require_known_member_id: bool,
    /// KIP-814, JoinGroup v9+: the response can tell a leader to skip the assignment.
    pub supports_skip_assignment: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    pub error: ErrorCode,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader_id: String,
    pub member_id: String,
    /// Filled for the leader only: every member with its subscription metadata.
    pub members: Vec<(String, Option<String>, Vec<u8>)>,
    /// KIP-814 (JoinGroup v9): a static leader that rejoined a stable group gets the members
    /// but must not compute a new assignment (the group keeps the current one).
    pub skip_assignment: bool,
}

impl JoinResult {
    fn error(error: ErrorCode, member_id: &str) -> Self {
        JoinResult {
            error,
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader_id: String::new(),
            member_id: member_id.to_owned(),
            members: Vec::new(),
            skip_assignment: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    /// KIP-345 (SyncGroup v3+): a static member names its `group.instance.id`.
    pub group_instance_id: Option<String>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// The leader's assignment for every member; empty from followers.
    pub assignments: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    pub error: ErrorCode,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Vec<u8>,
}

impl SyncResult {
    fn error(error: ErrorCode) -> Self {
        SyncResult { error, protocol_type: None, protocol_name: None, assignment: Vec::new() }
    }
}

/// An answer to a parked (or immediate) JoinGroup or SyncGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Join(RequestId, JoinResult),
    Sync(RequestId, SyncResult),
}

/// A change the coordinator made, for the event log learners read and for the server's views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupEvent {
    RebalanceStarted { group_id: String, reason: String },
    RebalanceCompleted { group_id: String, generation_id: i32, members: usize },
    MemberRemoved { group_id: String, member_id: String, reason: String },
}

/// All consumer groups on this coordinator.
#[derive(Debug, Clone)]
pub struct GroupCoordinator {
    groups: BTreeMap<String, Group>,
    initial_rebalance_delay_ms: i64,
    /// Part of every member id, so ids from an earlier run never collide with new ones.
    instance_tag: u64,
    next_member_seq: u64,
    events: Vec<GroupEvent>,
}

impl GroupCoordinator {
    /// `instance_tag` should differ between runs (the driver passes a random number).
    /// `initial_rebalance_delay_ms` is Kafka's `group.initial.rebalance.delay.ms` (Kafka: 3000).
    pub fn new(instance_tag: u64, initial_rebalance_delay_ms: i64) -> Self {
        GroupCoordinator {
            groups: BTreeMap::new(),
            initial_rebalance_delay_ms,
            instance_tag,
            next_member_seq: 0,
            events: Vec::new(),
        }
    }

    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get(group_id)
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Events since the last call.
    pub fn drain_events(&mut self) -> Vec<GroupEvent> {
        std::mem::take(&mut self.events)
    }

    fn new_member_id(&mut self, client_id: &str) -> String {
        self.next_member_seq += 1;
        let prefix = if client_id.is_empty() { "member" } else { client_id };
        format!("{prefix}-{:08x}-{:016x}", self.next_member_seq, self.instance_tag)
    }

    /// JoinGroup. The answer for `request_id` is among the returned replies, now or from a later call.
    pub fn join_group(&mut self, now_ms: i64, request_id: RequestId, join: JoinGroup) -> Vec<Reply> {
        if join.group_id.is_empty() {
            return vec![Reply::Join(request_id, JoinResult::error(ErrorCode::InvalidGroupId, &join.member_id))];
        }
        if !(MIN_SESSION_TIMEOUT_MS..=MAX_SESSION_TIMEOUT_MS).contains(&join.session_timeout_ms) {
            return vec![Reply::Join(request_id, JoinResult::error(ErrorCode::InvalidSessionTimeout, &join.member_id))];
        }
        // Kafka names a static member after its instance, a dynamic one after its client.
        let id_prefix = join.group_instance_id.as_deref().unwrap_or(&join.client_id);
        let new_member_id = if join.member_id.is_empty() { Some(self.new_member_id(id_prefix)) } else { None };
        let group = self.groups.entry(join.group_id.clone()).or_insert_with(|| Group::new(&join.group_id));

        // A group's members must agree on the protocol type and share at least one protocol.
        let compatible = match &group.protocol_type {
            Some(protocol_type) if !group.members.is_empty() => {
                protocol_type == &join.protocol_type
                    && join
                        .protocols
                        .iter()
                        .any(|(name, _)| group.members.values().all(|m| m.protocols.iter().any(|(n, _)| n == name)))
            }
            _ => !join.protocol_type.is_empty() && !join.protocols.is_empty(),
        };
        if !compatible {
            return vec![Reply::Join(
                request_id,
                JoinResult::error(ErrorCode::InconsistentGroupProtocol, &join.member_id),
            )];
        }

        let mut replies = Vec::new();
        if let Some(instance_id) = join.group_instance_id.as_deref() {
            match (group.static_member_id(instance_id).map(str::to_owned), &new_member_id) {
                // KIP-345: a static member that restarted joins with its `group.instance.id` and
                // no member id. It takes its old incarnation's place, assignment included (Kafka's
                // `updateStaticMemberThenRebalanceOrCompleteJoin`); the old one is fenced.
                (Some(old_id), Some(new_id)) => {
                    let leader_before = group.leader_id.clone();
                    replies.extend(Self::replace_static_member(&mut self.events, group, &old_id, new_id, instance_id));
                    if group.state == GroupState::Stable
                        && let Some(result) =
                            Self::rejoin_stable_static_member(group, now_ms, new_id, leader_before, &join)
                    {
                        replies.push(Reply::Join(request_id, result));
                        return replies;
                    }
                }
                (Some(current_id), None) if current_id != join.member_id => {
                    return vec![Reply::Join(
                        request_id,
                        JoinResult::error(ErrorCode::FencedInstanceId, &join.member_id),
                    )];
                }
                _ => {}
            }
        }

        let member_id = match new_member_id {
            Some(member_id) if join.require_known_member_id && join.group_instance_id.is_none() => {
                if group.size_without(&member_id) >= MAX_GROUP_SIZE {
                    return vec![Reply::Join(
                        request_id,
                        JoinResult::error(ErrorCode::GroupMaxSizeReached, &member_id),
                    )];
                }
                // KIP-394: hand out the id and have the member join again with it.
                group.pending_members.insert(member_id.clone(), now_ms + i64::from(join.session_timeout_ms));
                return vec![Reply::Join(request_id, JoinResult::error(ErrorCode::MemberIdRequired, &member_id))];
            }
            Some(member_id) => member_id,
            None => {
                let known =
                    group.members.contains_key(&join.member_id) || group.pending_members.contains_key(&join.member_id);
                if !known {
                    return vec![Reply::Join(
                        request_id,
                        JoinResult::error(ErrorCode::UnknownMemberId, &join.member_id),
                    )];
                }
                join.member_id.clone()
            }
        };
        // A static member that just took its old incarnation's place (no member id in the
        // request) was handled above: in CompletingRebalance it must rebalance, since the
        // leader is assigning to the old member id.
        if !join.member_id.is_empty()
            && let Some(result) = Self::rejoin_without_rebalance(group, &member_id, &join)
        {
            replies.push(Reply::Join(request_id, result));
            return replies;
        }
        let metadata_bytes = |protocols: &[(String, Vec<u8>)]| -> usize {
            protocols.iter().map(|(name, metadata)| name.len() + metadata.len()).sum()
        };
        let joining_bytes = metadata_bytes(&join.protocols);
        if joining_bytes > MAX_MEMBER_METADATA_BYTES {
            return vec![Reply::Join(request_id, JoinResult::error(ErrorCode::InvalidRequest, &member_id))];
        }
        if !group.members.contains_key(&member_id) {
            let held_bytes: usize = group.members.values().map(|m| metadata_bytes(&m.protocols)).sum();
            if group.size_without(&member_id) >= MAX_GROUP_SIZE || held_bytes + joining_bytes > MAX_GROUP_METADATA_BYTES
            {
                return vec![Reply::Join(request_id, JoinResult::error(ErrorCode::GroupMaxSizeReached, &member_id))];
            }
        }
        group.pending_members.remove(&member_id);
        let is_new = !group.members.contains_key(&member_id);
        let member = group.members.entry(member_id.clone()).or_insert_with(|| Member {
            member_id: member_id.clone(),
            group_instance_id: join.group_instance_id.clone(),
            client_id: join.client_id.clone(),
            client_host: join.client_host.clone(),
            session_timeout_ms: join.session_timeout_ms,
            rebalance_timeout_ms: join.rebalance_timeout_ms,
            protocols: Vec::new(),
            assignment: Vec::new(),
            last_heartbeat_ms: now_ms,
            awaiting_join: None,
            awaiting_sync: None,
        });
        // A member that joins again while a join is parked replaces it (the old one is answered
        // with an error so no client waits for ever).
        if let Some(old) = member.awaiting_join.replace(request_id) {
            replies.push(Reply::Join(old, JoinResult::error(ErrorCode::RebalanceInProgress, &member_id)));
        }
        if let Some(old) = member.awaiting_sync.take() {
            replies.push(Reply::Sync(old, SyncResult::error(ErrorCode::RebalanceInProgress)));
        }
        member.protocols = join.protocols;
        member.session_timeout_ms = join.session_timeout_ms;
        member.rebalance_timeout_ms = join.rebalance_timeout_ms;
        member.last_heartbeat_ms = now_ms;
        group.protocol_type = Some(join.protocol_type);

        let reason = if is_new { format!("member {member_id} joined") } else { format!("member {member_id} rejoined") };
        if group.state == GroupState::Empty && self.initial_rebalance_delay_ms > 0 {
            group.initial_delay_until_ms = Some(now_ms + self.initial_rebalance_delay_ms);
        }
        if group.state != GroupState::PreparingRebalance {
            replies.extend(Self::start_rebalance(&mut self.events, group, now_ms, reason));
        }
        replies.extend(Self::try_complete_join(&mut self.events, group, now_ms, false));
        replies
    }

    /// A member of the group joining again with the protocols it already has, as Kafka's
    /// `classicGroupJoinExistingMember` answers it without a rebalance: while the assignment is
    /// out (CompletingRebalance; it may have missed its JoinGroup answer) it gets that answer
    /// again, the leader with the members; in Stable a follower gets the current generation
    /// and syncs for the assignment it has. The leader's join in Stable does rebalance (that is
    /// how a leader asks for a new assignment, say after a topic grew), as do changed
    /// protocols. `None`: the caller goes on with the join.
    fn rejoin_without_rebalance(group: &Group, member_id: &str, join: &JoinGroup) -> Option<JoinResult> {
        let member = group.members.get(member_id)?;
        let is_leader = group.leader_id.as_deref() == Some(member_id);
        let answer_again = match group.state {
            GroupState::CompletingRebalance => member.protocols == join.protocols,
            GroupState::Stable => member.protocols == join.protocols && !is_leader,
            GroupState::Empty | GroupState::PreparingRebalance => false,
        };
        if !answer_again {
            return None;
        }
        let protocol = group.protocol_name.clone().unwrap_or_default();
        Some(JoinResult {
            error: ErrorCode::None,
            generation_id: group.generation_id,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol_name.clone(),
            leader_id: group.leader_id.clone().unwrap_or_default(),
            member_id: member_id.to_owned(),
            members: if is_leader { Self::member_list(group, &protocol) } else { Vec::new() },
            skip_assignment: false,
        })
    }

    /// KIP-345: `new_id` takes the place of the static member `old_id` (same instance). The old
    /// incarnation's parked JoinGroup or SyncGroup is answered FENCED_INSTANCE_ID, and every
    /// later request from it is too (see [`Group::validate_member`]).
    fn replace_static_member(
        events: &mut Vec<GroupEvent>,
        group: &mut Group,
        old_id: &str,
        new_id: &str,
        instance_id: &str,
    ) -> Vec<Reply> {
        let mut replies = Vec::new();
        let Some(mut member) = group.members.remove(old_id) else { return replies };
        if let Some(request) = member.awaiting_join.take() {
            replies.push(Reply::Join(request, JoinResult::error(ErrorCode::FencedInstanceId, old_id)));
        }
        if let Some(request) = member.awaiting_sync.take() {
            replies.push(Reply::Sync(request, SyncResult::error(ErrorCode::FencedInstanceId)));
        }
        new_id.clone_into(&mut member.member_id);
        group.members.insert(new_id.to_owned(), member);
        if group.leader_id.as_deref() == Some(old_id) {
            group.leader_id = Some(new_id.to_owned());
        }
        events.push(GroupEvent::MemberRemoved {
            group_id: group.group_id.clone(),
            member_id: old_id.to_owned(),
            reason: format!("static member {instance_id} joined again as {new_id}"),
        });
        replies
    }

    /// A static member rejoining a Stable group: as in Kafka, no rebalance unless its protocols
    /// would change the group's protocol. It gets the current generation (and keeps its
    /// assignment, which SyncGroup hands back); a leader gets the members with
    /// `skip_assignment` (KIP-814) so it does not compute a new assignment. A client too old
    /// for KIP-814 (JoinGroup < v9) is named the leader as it was before the member was
    /// replaced (`leader_before`, Kafka's `currentLeader` in
    /// `updateStaticMemberThenRebalanceOrCompleteJoin`): a returning leader then acts as a
    /// follower and syncs for its assignment instead of computing one for a member list it
    /// was not sent. `None`: the protocol would change, so the caller rebalances.
    fn rejoin_stable_static_member(
        group: &mut Group,
        now_ms: i64,
        member_id: &str,
        leader_before: Option<String>,
        join: &JoinGroup,
    ) -> Option<JoinResult> {
        let member = group.members.get_mut(member_id)?;
        let old_protocols = std::mem::replace(&mut member.protocols, join.protocols.clone());
        if Self::select_protocol(group) != group.protocol_name {
            if let Some(member) = group.members.get_mut(member_id) {
                member.protocols = old_protocols;
            }
            return None;
        }
        let member = group.members.get_mut(member_id)?;
        member.session_timeout_ms = join.session_timeout_ms;
        member.rebalance_timeout_ms = join.rebalance_timeout_ms;
        member.last_heartbeat_ms = now_ms;
        let leader = if join.supports_skip_assignment { group.leader_id.clone() } else { leader_before };
        let leader = leader.unwrap_or_default();
        let skip_assignment = leader == member_id && join.supports_skip_assignment;
        let protocol = group.protocol_name.clone().unwrap_or_default();
        Some(JoinResult {
            error: ErrorCode::None,
            generation_id: group.generation_id,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol_name.clone(),
            leader_id: leader,
            member_id: member_id.to_owned(),
            members: if skip_assignment { Self::member_list(group, &protocol) } else { Vec::new() },
            skip_assignment,
        })
    }

    /// Every member with its subscription metadata for `protocol`, as the leader receives them.
    fn member_list(group: &Group, protocol: &str) -> Vec<(String, Option<String>, Vec<u8>)> {
        group
            .members
            .values()
            .map(|m| (m.member_id.clone(), m.group_instance_id.clone(), m.metadata_for(protocol)))
            .collect()
    }

    /// The protocol every member supports that ranks best across members' preferences
    /// (Kafka's vote: each member votes for its most preferred candidate).
    fn select_protocol(group: &Group) -> Option<String> {
        let candidates: Vec<String> = group
            .members
            .values()
            .next()
            .map(|m| m.protocols.iter().map(|(n, _)| n.clone()).collect::<Vec<String>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|name| group.members.values().all(|m| m.protocols.iter().any(|(n, _)| n == name)))
            .collect();
        candidates
            .iter()
            .max_by_key(|candidate| {
                let votes = group
                    .members
                    .values()
                    .filter(|m| {
                        m.protocols.iter().find(|(n, _)| candidates.contains(n)).is_some_and(|(n, _)| n == *candidate)
                    })
                    .count();
                // Ties go to the earlier candidate (max_by_key keeps the last max, so invert the index).
                (votes, std::cmp::Reverse(candidates.iter().position(|c| c == *candidate)))
            })
            .cloned()
    }

    /// Moves the group to PreparingRebalance. Members still waiting for an assignment of the old
    /// generation are told to rejoin (REBALANCE_IN_PROGRESS).
    fn start_rebalance(events: &mut Vec<GroupEvent>, group: &mut Group, now_ms: i64, reason: String) -> Vec<Reply> {
        let mut replies = Vec::new();
        for member in group.members.values_mut() {
            if let Some(request) = member.awaiting_sync.take() {
                replies.push(Reply::Sync(request, SyncResult::error(ErrorCode::RebalanceInProgress)));
            }
        }
        let timeout = group.members.values().map(|m| m.rebalance_timeout_ms.max(0)).max().unwrap_or(0);
        group.state = GroupState::PreparingRebalance;
        group.rebalance_deadline_ms = Some(now_ms + i64::from(timeout));
        events.push(GroupEvent::RebalanceStarted { group_id: group.group_id.clone(), reason });
        replies
    }

    /// Completes the rebalance when every member has rejoined, or when `timed_out`, dropping the
    /// members that did not.
    fn try_complete_join(events: &mut Vec<GroupEvent>, group: &mut Group, now_ms: i64, timed_out: bool) -> Vec<Reply> {
        if group.state != GroupState::PreparingRebalance {
            return Vec::new();
        }
        if !timed_out && group.initial_delay_until_ms.is_some_and(|until| now_ms < until) {
            return Vec::new();
        }
        let all_joined = group.members.values().all(|m| m.awaiting_join.is_some());
        if !all_joined && !timed_out {
            return Vec::new();
        }
        group.initial_delay_until_ms = None;
        let stragglers: Vec<String> =
            group.members.values().filter(|m| m.awaiting_join.is_none()).map(|m| m.member_id.clone()).collect();
        for member_id in stragglers {
            group.members.remove(&member_id);
            events.push(GroupEvent::MemberRemoved {
                group_id: group.group_id.clone(),
                member_id,
                reason: "it did not rejoin before the rebalance timeout".into(),
            });
        }
        group.generation_id += 1;
        group.rebalance_deadline_ms = None;
        if group.members.is_empty() {
            group.state = GroupState::Empty;
            group.protocol_name = None;
            group.leader_id = None;
            return Vec::new();
        }
        let protocol = Self::select_protocol(group);
        group.protocol_name = protocol.clone();
        if group.leader_id.as_ref().is_none_or(|leader| !group.members.contains_key(leader)) {
            group.leader_id = group.members.keys().next().cloned();
        }
        group.state = GroupState::CompletingRebalance;
        let protocol = protocol.unwrap_or_default();
        let leader = group.leader_id.clone().unwrap_or_default();
        let member_list = Self::member_list(group, &protocol);
        let mut replies = Vec::new();
        for member in group.members.values_mut() {
            member.last_heartbeat_ms = now_ms;
            member.assignment.clear();
            if let Some(request) = member.awaiting_join.take() {
                replies.push(Reply::Join(
                    request,
                    JoinResult {
                        error: ErrorCode::None,
                        generation_id: group.generation_id,
                        protocol_type: group.protocol_type.clone(),
                        protocol_name: Some(protocol.clone()),
                        leader_id: leader.clone(),
                        member_id: member.member_id.clone(),
                        members: if member.member_id == leader { member_list.clone() } else { Vec::new() },
                        skip_assignment: false,
                    },
                ));
            }
        }
        events.push(GroupEvent::RebalanceCompleted {
            group_id: group.group_id.clone(),
            generation_id: group.generation_id,
            members: group.members.len(),
        });
        replies
    }

    /// SyncGroup. The answer for `request_id` is among the returned replies, now or later.
    pub fn sync_group(&mut self, now_ms: i64, request_id: RequestId, sync: SyncGroup) -> Vec<Reply> {
        let error = |e| vec![Reply::Sync(request_id, SyncResult::error(e))];
        let Some(group) = self.groups.get_mut(&sync.group_id) else { return error(ErrorCode::UnknownMemberId) };
        if let Err(e) = group.validate_member(&sync.member_id, sync.group_instance_id.as_deref()) {
            return error(e);
        }
        let Some(member) = group.members.get_mut(&sync.member_id) else { return error(ErrorCode::UnknownMemberId) };
        member.last_heartbeat_ms = now_ms;
        if sync.generation_id != group.generation_id {
            return error(ErrorCode::IllegalGeneration);
        }
        let type_mismatch = sync.protocol_type.as_ref().is_some_and(|t| Some(t) != group.protocol_type.as_ref());
        let name_mismatch = sync.protocol_name.as_ref().is_some_and(|n| Some(n) != group.protocol_name.as_ref());
        if type_mismatch || name_mismatch {
            return error(ErrorCode::InconsistentGroupProtocol);
        }
        match group.state {
            GroupState::Empty => error(ErrorCode::UnknownMemberId),
            GroupState::PreparingRebalance => error(ErrorCode::RebalanceInProgress),
            GroupState::Stable => {
                let assignment = member.assignment.clone();
                vec![Reply::Sync(request_id, Self::sync_ok(group, assignment))]
            }
            GroupState::CompletingRebalance => {
                member.awaiting_sync = Some(request_id);
                if group.leader_id.as_deref() != Some(sync.member_id.as_str()) {
                    return Vec::new();
                }
                // The leader's assignment completes the generation; members it left out get none.
                let assignments: BTreeMap<String, Vec<u8>> = sync.assignments.into_iter().collect();
                let mut replies = Vec::new();
                let mut done = Vec::new();
                for member in group.members.values_mut() {
                    member.assignment = assignments.get(&member.member_id).cloned().unwrap_or_default();
                    if let Some(request) = member.awaiting_sync.take() {
                        done.push((request, member.assignment.clone()));
                    }
                }
                group.state = GroupState::Stable;
                for (request, assignment) in done {
                    replies.push(Reply::Sync(request, Self::sync_ok(group, assignment)));
                }
                replies
            }
        }
    }

    fn sync_ok(group: &Group, assignment: Vec<u8>) -> SyncResult {
        SyncResult {
            error: ErrorCode::None,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol_name.clone(),
            assignment,
        }
    }

    /// Heartbeat: keeps the member alive; REBALANCE_IN_PROGRESS tells it to rejoin.
    /// A static member (KIP-345) names its `group.instance.id`; an old incarnation is fenced.
    ///
    /// As Kafka's `GroupMetadataManager.classicGroupHeartbeatToClassicGroup`: the member and its
    /// generation are checked first (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION,
    /// and a refused heartbeat keeps nothing alive); then PreparingRebalance answers
    /// REBALANCE_IN_PROGRESS, and CompletingRebalance answers like Stable, since a member that
    /// has its JoinGroup answer may heartbeat while it waits for its assignment.
    pub fn heartbeat(
        &mut self,
        now_ms: i64,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> ErrorCode {
        let Some(group) = self.groups.get_mut(group_id) else { return ErrorCode::UnknownMemberId };
        if let Err(error) = group.validate_member(member_id, group_instance_id) {
            return error;
        }
        if generation_id != group.generation_id {
            return ErrorCode::IllegalGeneration;
        }
        let state = group.state;
        let Some(member) = group.members.get_mut(member_id) else { return ErrorCode::UnknownMemberId };
        match state {
            GroupState::Empty => ErrorCode::UnknownMemberId,
            GroupState::PreparingRebalance => {
                member.last_heartbeat_ms = now_ms;
                ErrorCode::RebalanceInProgress
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                member.last_heartbeat_ms = now_ms;
                ErrorCode::None
            }
        }
    }

    /// LeaveGroup: each member's result, and the replies the resulting rebalance produced.
    /// Members are `(member_id, group_instance_id)` (KIP-345, LeaveGroup v3+): a static member
    /// leaves by instance id alone (an admin removing it) or by both, where an old incarnation
    /// is fenced.
    pub fn leave_group(
        &mut self,
        now_ms: i64,
        group_id: &str,
        members: &[(String, Option<String>)],
    ) -> (Vec<ErrorCode>, Vec<Reply>) {
        let Some(group) = self.groups.get_mut(group_id) else {
            return (members.iter().map(|_| ErrorCode::UnknownMemberId).collect(), Vec::new());
        };
        let mut results = Vec::new();
        let mut replies = Vec::new();
        let mut left = Vec::new();
        for (member_id, group_instance_id) in members {
            let resolved = match group_instance_id.as_deref() {
                Some(instance_id) if member_id.is_empty() => {
                    group.static_member_id(instance_id).map(str::to_owned).ok_or(ErrorCode::UnknownMemberId)
                }
                Some(instance_id) => group.validate_member(member_id, Some(instance_id)).map(|()| member_id.clone()),
                None => Ok(member_id.clone()),
            };
            let member_id = match resolved {
                Ok(member_id) => member_id,
                Err(error) => {
                    results.push(error);
                    continue;
                }
            };
            match group.members.remove(&member_id) {
                Some(member) => {
                    if let Some(request) = member.awaiting_join {
                        replies.push(Reply::Join(request, JoinResult::error(ErrorCode::UnknownMemberId, &member_id)));
                    }
                    if let Some(request) = member.awaiting_sync {
                        replies.push(Reply::Sync(request, SyncResult::error(ErrorCode::UnknownMemberId)));
                    }
                    left.push(member_id.clone());
                    results.push(ErrorCode::None);
                }
                None if group.pending_members.remove(&member_id).is_some() => results.push(ErrorCode::None),
                None => results.push(ErrorCode::UnknownMemberId),
            }
        }
        for member_id in left {
            self.events.push(GroupEvent::MemberRemoved {
                group_id: group_id.to_owned(),
                member_id: member_id.clone(),
                reason: "it left the group".into(),
            });
            replies.extend(Self::after_member_removed(
                &mut self.events,
                group,
                now_ms,
                format!("member {member_id} left"),
            ));
        }
        (results, replies)
    }

    fn after_member_removed(
        events: &mut Vec<GroupEvent>,
        group: &mut Group,
        now_ms: i64,
        reason: String,
    ) -> Vec<Reply> {
        match group.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                if group.members.is_empty() {
                    group.state = GroupState::Empty;
                    group.generation_id += 1;
                    group.leader_id = None;
                    group.protocol_name = None;
                    Vec::new()
                } else {
                    let mut replies = Self::start_rebalance(events, group, now_ms, reason);
                    replies.extend(Self::try_complete_join(events, group, now_ms, false));
                    replies
                }
            }
            GroupState::PreparingRebalance => Self::try_complete_join(events, group, now_ms, false),
            GroupState::Empty => Vec::new(),
        }
    }

    /// Expires silent members and overdue rebalances. Call at least as often as
    /// [`GroupCoordinator::next_deadline_ms`] says.
    pub fn tick(&mut self, now_ms: i64) -> Vec<Reply> {
        let mut replies = Vec::new();
        for group in self.groups.values_mut() {
            group.pending_members.retain(|_, expires_ms| *expires_ms > now_ms);
            let expired: Vec<String> = group
                .members
                .values()
                .filter(|m| {
                    m.awaiting_join.is_none() && m.last_heartbeat_ms + i64::from(m.session_timeout_ms) <= now_ms
                })
                .map(|m| m.member_id.clone())
                .collect();
            for member_id in expired {
                if let Some(member) = group.members.remove(&member_id)
                    && let Some(request) = member.awaiting_sync
                {
                    replies.push(Reply::Sync(request, SyncResult::error(ErrorCode::UnknownMemberId)));
                }
                self.events.push(GroupEvent::MemberRemoved {
                    group_id: group.group_id.clone(),
                    member_id: member_id.clone(),
                    reason: "no heartbeat within session.timeout.ms".into(),
                });
                replies.extend(Self::after_member_removed(
                    &mut self.events,
                    group,
                    now_ms,
                    format!("member {member_id} timed out"),
                ));
            }
            if group.state == GroupState::PreparingRebalance && group.rebalance_deadline_ms.is_some_and(|d| d <= now_ms)
            {
                replies.extend(Self::try_complete_join(&mut self.events, group, now_ms, true));
            } else if group.initial_delay_until_ms.is_some_and(|until| until <= now_ms) {
                replies.extend(Self::try_complete_join(&mut self.events, group, now_ms, false));
            }
        }
        replies
    }

    /// The next time something may expire.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        self.groups
            .values()
            .flat_map(|g| {
                g.members
                    .values()
                    .map(|m| m.last_heartbeat_ms + i64::from(m.session_timeout_ms))
                    .chain(g.rebalance_deadline_ms)
                    .chain(g.initial_delay_until_ms)
                    .chain(g.pending_members.values().copied())
            })
            .min()
    }

    /// Checks an OffsetCommit against the group's generation, as Kafka's
    /// `OffsetMetadataManager.validateOffsetCommit` and `ClassicGroup.validateOffsetCommit` do.
    /// `Ok` means the offsets may be stored (the driver then calls
    /// [`GroupCoordinator::store_offset`] once they are durable).
    ///
    /// * Generation -1 with no member is a "simple" commit (a consumer using `assign()`, or an
    ///   admin client), allowed while the group has no members (an unknown group is created
    ///   for it); with members it is refused with UNKNOWN_MEMBER_ID.
    /// * A generation for a group this coordinator does not know: GROUP_ID_NOT_FOUND. Kafka
    ///   answers that from OffsetCommit v9 on and ILLEGAL_GENERATION before; the driver, which
    ///   knows the version, makes the change. No group is created.
    /// * A member of the current generation may commit while the group is Stable and also while
    ///   it is PreparingRebalance: a consumer commits what it processed when its partitions are
    ///   revoked, and refusing that would have the next owner process those records again. Only
    ///   CompletingRebalance refuses (REBALANCE_IN_PROGRESS), while the new assignment is out.
    ///   An accepted commit in those two states also keeps the member's session alive, as a
    ///   heartbeat would.
    /// * A static member's old incarnation is fenced (FENCED_INSTANCE_ID, KIP-345).
    pub fn check_commit(
        &mut self,
        now_ms: i64,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Result<(), ErrorCode> {
        if group_id.is_empty() {
            return Err(ErrorCode::InvalidGroupId);
        }
        let group = if generation_id < 0 {
            self.groups.entry(group_id.to_owned()).or_insert_with(|| Group::new(group_id))
        } else {
            self.groups.get_mut(group_id).ok_or(ErrorCode::GroupIdNotFound)?
        };
        if generation_id < 0 && group.members.is_empty() {
            return Ok(());
        }
        if generation_id < 0 && member_id.is_empty() && group_instance_id.is_none() {
            return Err(ErrorCode::UnknownMemberId);
        }
        group.validate_member(member_id, group_instance_id)?;
        if generation_id != group.generation_id {
            return Err(ErrorCode::IllegalGeneration);
        }
        match group.state {
            GroupState::CompletingRebalance => Err(ErrorCode::RebalanceInProgress),
            GroupState::Stable | GroupState::PreparingRebalance => {
                if let Some(member) = group.members.get_mut(member_id) {
                    member.last_heartbeat_ms = now_ms;
                }
                Ok(())
            }
            GroupState::Empty => Ok(()),
        }
    }

    pub fn store_offset(&mut self, group_id: &str, topic: &str, partition: i32, committed: CommittedOffset) {
        let group = self.groups.entry(group_id.to_owned()).or_insert_with(|| Group::new(group_id));
        group.offsets.insert((topic.to_owned(), partition), committed);
    }

    pub fn committed_offset(&self, group_id: &str, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.groups.get(group_id)?.offsets.get(&(topic.to_owned(), partition))
    }

    /// DeleteGroups: only an empty group may go (NON_EMPTY_GROUP otherwise), with its offsets.
    pub fn delete_group(&mut self, group_id: &str) -> ErrorCode {
        match self.groups.get(group_id) {
            None => ErrorCode::GroupIdNotFound,
            Some(group) if !group.members.is_empty() => ErrorCode::NonEmptyGroup,
            Some(_) => {
                self.groups.remove(group_id);
                ErrorCode::None
            }
        }
    }

    /// Forgets the committed offsets of a deleted topic.
    pub fn remove_topic_offsets(&mut self, topic: &str) {
        for group in self.groups.values_mut() {
            group.offsets.retain(|(t, _), _| t != topic);
        }
    }
}

#[cfg(test)]
mod tests;
