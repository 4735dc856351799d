//! Scenario tests: the classic replication and quorum stories, with the exact events Kafka's
//! logic produces in each, run on the deterministic simulator.

use broker::sim::goal::Goal;
use broker::sim::{Action, Preset, Simulation, TopicPreset};

fn lines(simulation: &Simulation, from_ms: u64) -> Vec<String> {
    simulation.events().iter().filter(|e| e.at_ms >= from_ms).map(|e| format!("{} {}", e.at_ms, e.kind)).collect()
}

fn preset(min_insync_replicas: &str) -> Preset {
    Preset {
        topics: vec![TopicPreset {
            name: "orders".into(),
            partitions: 1,
            replication_factor: 3,
            configs: vec![("min.insync.replicas".into(), min_insync_replicas.into())],
        }],
        ..Preset::default()
    }
}

fn produce(value: &str, acks: i16) -> Action {
    Action::Produce { topic: "orders".into(), partition: Some(0), key: None, value: value.into(), acks }
}

fn run(simulation: &mut Simulation, ms: u64) {
    let until = simulation.now_ms() + ms;
    simulation.run_until(until);
}

/// The leader is cut off from its followers, takes a record, and crashes before anyone copied it.
fn crash_an_isolated_leader(simulation: &mut Simulation, acks: i16) {
    simulation.apply(Action::CutLink { a: 1, b: 2 }).expect("cut");
    simulation.apply(Action::CutLink { a: 1, b: 3 }).expect("cut");
    simulation.apply(produce("a", acks)).expect("produce");
    run(simulation, 100);
    simulation.apply(Action::Crash { node: 1 }).expect("crash");
    run(simulation, 15_000);
    simulation.apply(produce("b", acks)).expect("produce");
    run(simulation, 1_000);
    simulation.apply(Action::Restart { node: 1 }).expect("restart");
    simulation.apply(Action::HealLink { a: 1, b: 2 }).expect("heal");
    simulation.apply(Action::HealLink { a: 1, b: 3 }).expect("heal");
    run(simulation, 40_000);
}

#[test]
fn leader_crash_with_acks_1_loses_an_acknowledged_record() {
    let mut simulation = Simulation::new(preset("1"), 7).expect("forms");
    let start = simulation.now_ms();
    crash_an_isolated_leader(&mut simulation, 1);
    let expected = [
        "3700 the network link between broker 1 and broker 2 is cut",
        "3700 the network link between broker 1 and broker 3 is cut",
        "3703 leader 1 appended \"a\" to orders-0 at offset 0 (acks=1)",
        "3704 the producer got the acknowledgement for \"a\": orders-0 offset 0 (acks=1)",
        "3800 broker 1 crashed",
        "12636 the controller fenced broker 1: no heartbeat for 9 s (broker.session.timeout.ms)",
        "12636 broker 2 was elected leader of orders-0 (leader epoch 1)",
        "12645 broker 2 is now leader of orders-0 in leader epoch 1, from log end offset 0",
        "12646 broker 3 now follows leader 2 for orders-0 (leader epoch 1)",
        "18803 leader 2 appended \"b\" to orders-0 at offset 0 (acks=1)",
        "18806 the producer got the acknowledgement for \"b\": orders-0 offset 0 (acks=1)",
        "18810 DATA LOSS: the record \"a\" at orders-0 offset 0 was acknowledged (acks=1) but is gone from the partition",
        "19800 broker 1 restarted from what it had on disk",
        "19800 the network link between broker 1 and broker 2 is back",
        "19800 the network link between broker 1 and broker 3 is back",
        "20414 broker 1 registered with the controller (broker epoch 11); fenced until it catches up with the metadata log",
        "20427 broker 1 now follows leader 2 for orders-0 (leader epoch 1)",
        "20431 broker 1 truncated orders-0 from offset 1 to 0: leader 2 never had those records (their leader epoch diverged)",
        "22422 the controller unfenced broker 1: it caught up with the metadata log",
        "22478 broker 1 caught up with leader 2 and joined the ISR of orders-0; ISR is now [1, 2, 3]",
    ];
    assert_eq!(lines(&simulation, start), expected);
    assert!(simulation.reached(&Goal::LoseAcknowledgedRecord));
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
}

#[test]
fn leader_crash_with_acks_all_loses_nothing() {
    let mut simulation = Simulation::new(preset("2"), 7).expect("forms");
    let start = simulation.now_ms();
    crash_an_isolated_leader(&mut simulation, -1);
    let expected = [
        "3700 the network link between broker 1 and broker 2 is cut",
        "3700 the network link between broker 1 and broker 3 is cut",
        "3703 leader 1 appended \"a\" to orders-0 at offset 0 (acks=all)",
        "3800 broker 1 crashed",
        "12636 the controller fenced broker 1: no heartbeat for 9 s (broker.session.timeout.ms)",
        "12636 broker 2 was elected leader of orders-0 (leader epoch 1)",
        "12642 broker 3 now follows leader 2 for orders-0 (leader epoch 1)",
        "12643 broker 2 is now leader of orders-0 in leader epoch 1, from log end offset 0",
        "18801 leader 2 appended \"b\" to orders-0 at offset 0 (acks=all)",
        "18812 the producer got the acknowledgement for \"b\": orders-0 offset 0 (acks=all)",
        "19800 broker 1 restarted from what it had on disk",
        "19800 the network link between broker 1 and broker 2 is back",
        "19800 the network link between broker 1 and broker 3 is back",
        "20412 broker 1 registered with the controller (broker epoch 11); fenced until it catches up with the metadata log",
        "20425 broker 1 now follows leader 2 for orders-0 (leader epoch 1)",
        "20430 broker 1 truncated orders-0 from offset 1 to 0: leader 2 never had those records (their leader epoch diverged)",
        "22428 the controller unfenced broker 1: it caught up with the metadata log",
        "22477 broker 1 caught up with leader 2 and joined the ISR of orders-0; ISR is now [1, 2, 3]",
        "33704 leader 2 appended \"a\" to orders-0 at offset 1 (acks=all)",
        "33717 the producer got the acknowledgement for \"a\": orders-0 offset 1 (acks=all)",
    ];
    assert_eq!(lines(&simulation, start), expected);
    assert!(!simulation.reached(&Goal::LoseAcknowledgedRecord));
    assert_eq!(simulation.acked().len(), 2, "both records are acknowledged, once each");
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
}

#[test]
fn an_isolated_quorum_leader_is_replaced_and_steps_down_when_the_partition_heals() {
    let mut simulation = Simulation::new(preset("1"), 7).expect("forms");
    let start = simulation.now_ms();
    let leader = simulation.active_controller().expect("a quorum leader");
    let others: Vec<i32> =
        simulation.controller_ids().chain(simulation.broker_ids()).filter(|id| *id != leader).collect();
    for other in &others {
        simulation.apply(Action::CutLink { a: leader, b: *other }).expect("cut");
    }
    run(&mut simulation, 10_000);
    for other in &others {
        simulation.apply(Action::HealLink { a: leader, b: *other }).expect("heal");
    }
    run(&mut simulation, 5_000);
    let expected = [
        "3700 the network link between controller 3002 and controller 3000 is cut",
        "3700 the network link between controller 3002 and controller 3001 is cut",
        "3700 the network link between controller 3002 and broker 1 is cut",
        "3700 the network link between controller 3002 and broker 2 is cut",
        "3700 the network link between controller 3002 and broker 3 is cut",
        "5661 controller 3001 got no answer from leader controller 3002 within quorum.fetch.timeout.ms (epoch 1)",
        "5661 controller 3001 stands for election in epoch 2 and votes for itself",
        "5666 controller 3000 knows of epoch 2 but not its leader",
        "5666 controller 3000 voted for controller 3001 in epoch 2",
        "5670 controller 3001 won the election: leader of the metadata quorum in epoch 2",
        "5670 controller 3001 is the active controller (epoch 2)",
        "5671 controller 3002 resigned as quorum leader of epoch 1: no fetch from a majority of voters within quorum.fetch.timeout.ms",
        "5673 controller 3000 follows controller 3001, the quorum leader of epoch 2",
        "7600 controller 3002 heard from no leader within its election timeout (epoch 1)",
        "7600 controller 3002 stands for election in epoch 2 and votes for itself",
        "8622 controller 3002 lost the election of epoch 2; tries again in 543 ms",
        "9165 controller 3002 stands for election in epoch 3 and votes for itself",
        "10514 controller 3002 lost the election of epoch 3; tries again in 893 ms",
        "11407 controller 3002 stands for election in epoch 4 and votes for itself",
        "13317 controller 3002 lost the election of epoch 4; tries again in 151 ms",
        "13468 controller 3002 stands for election in epoch 5 and votes for itself",
        "13700 the network link between controller 3002 and controller 3000 is back",
        "13700 the network link between controller 3002 and controller 3001 is back",
        "13700 the network link between controller 3002 and broker 1 is back",
        "13700 the network link between controller 3002 and broker 2 is back",
        "13700 the network link between controller 3002 and broker 3 is back",
        "14077 controller 3001 knows of epoch 5 but not its leader",
        "14365 controller 3000 knows of epoch 5 but not its leader",
        "15075 controller 3002 lost the election of epoch 5; tries again in 964 ms",
        "15148 controller 3001 heard from no leader within its election timeout (epoch 5)",
        "15148 controller 3001 stands for election in epoch 6 and votes for itself",
        "15149 controller 3000 knows of epoch 6 but not its leader",
        "15149 controller 3000 voted for controller 3001 in epoch 6",
        "15151 controller 3001 won the election: leader of the metadata quorum in epoch 6",
        "15151 controller 3001 is the active controller (epoch 6)",
        "15152 controller 3002 follows controller 3001, the quorum leader of epoch 6",
        "15153 controller 3002 refused its vote to controller 3001 in epoch 6: controller 3001 already leads",
        "15155 controller 3000 follows controller 3001, the quorum leader of epoch 6",
    ];
    assert_eq!(lines(&simulation, start), expected);
    assert!(simulation.reached(&Goal::NewQuorumLeader));
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
}

#[test]
fn unclean_election_loses_a_record_acknowledged_with_acks_all() {
    let mut simulation = Simulation::new(preset("1"), 7).expect("forms");
    let start = simulation.now_ms();
    simulation.apply(Action::CutLink { a: 1, b: 2 }).expect("cut");
    simulation.apply(Action::CutLink { a: 1, b: 3 }).expect("cut");
    run(&mut simulation, 50_000);
    simulation.apply(produce("a", -1)).expect("produce");
    run(&mut simulation, 100);
    simulation.apply(Action::Crash { node: 1 }).expect("crash");
    run(&mut simulation, 12_000);
    simulation
        .apply(Action::SetConfig {
            topic: "orders".into(),
            name: "unclean.leader.election.enable".into(),
            value: Some("true".into()),
        })
        .expect("config");
    run(&mut simulation, 1_000);
    simulation.apply(produce("b", -1)).expect("produce");
    run(&mut simulation, 1_000);
    simulation.apply(Action::Restart { node: 1 }).expect("restart");
    simulation.apply(Action::HealLink { a: 1, b: 2 }).expect("heal");
    simulation.apply(Action::HealLink { a: 1, b: 3 }).expect("heal");
    run(&mut simulation, 20_000);
    let expected = [
        "3700 the network link between broker 1 and broker 2 is cut",
        "3700 the network link between broker 1 and broker 3 is cut",
        "48669 brokers 2, 3 left the ISR of orders-0: they fell 45 s behind leader 1 (replica.lag.time.max.ms is 30 s); ISR is now [1]",
        "53704 leader 1 appended \"a\" to orders-0 at offset 0 (acks=all)",
        "53709 the producer got the acknowledgement for \"a\": orders-0 offset 0 (acks=all)",
        "53800 broker 1 crashed",
        "62639 the controller fenced broker 1: no heartbeat for 9 s (broker.session.timeout.ms)",
        "62639 orders-0 has no leader: no replica in its ISR or ELR is available (leader epoch 1)",
        "62639 orders-0 is below min.insync.replicas with ISR []: its high watermark stands still, so broker 1 still holds every committed record and may lead cleanly (ELR [1])",
        "62646 broker 3 follows orders-0, which has no leader (leader epoch 1)",
        "62648 broker 2 follows orders-0, which has no leader (leader epoch 1)",
        "65803 topic orders: unclean.leader.election.enable set to true",
        "65803 UNCLEAN election: broker 2 became leader of orders-0 from outside the ISR (leader epoch 2); records it never copied are lost",
        "65803 orders-0 has no eligible leader replicas (ELR) any more; ISR is [2]",
        "65809 broker 3 now follows leader 2 for orders-0 (leader epoch 2)",
        "65811 broker 2 is now leader of orders-0 in leader epoch 2, from log end offset 0",
        "65821 broker 3 caught up with leader 2 and joined the ISR of orders-0; ISR is now [2, 3]",
        "66805 leader 2 appended \"b\" to orders-0 at offset 0 (acks=all)",
        "66809 DATA LOSS: the record \"a\" at orders-0 offset 0 was acknowledged (acks=all) but is gone from the partition",
        "66810 the producer got the acknowledgement for \"b\": orders-0 offset 0 (acks=all)",
        "67800 broker 1 restarted from what it had on disk",
        "67800 the network link between broker 1 and broker 2 is back",
        "67800 the network link between broker 1 and broker 3 is back",
        "68410 broker 1 registered with the controller (broker epoch 15); fenced until it catches up with the metadata log",
        "68420 broker 1 now follows leader 2 for orders-0 (leader epoch 2)",
        "68422 broker 1 truncated orders-0 from offset 1 to 0: leader 2 never had those records (their leader epoch diverged)",
        "70419 the controller unfenced broker 1: it caught up with the metadata log",
        "70460 broker 1 caught up with leader 2 and joined the ISR of orders-0; ISR is now [1, 2, 3]",
    ];
    assert_eq!(lines(&simulation, start), expected);
    assert!(simulation.reached(&Goal::LoseAcknowledgedRecord), "acks=all does not survive an unclean election");
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
}

#[test]
fn a_preset_scenario_plays_by_itself_and_replays_the_same() {
    use broker::sim::ScriptedAction;
    let preset = Preset {
        scenario: vec![
            ScriptedAction { after_ms: 2_000, action: Action::Crash { node: 2 } },
            ScriptedAction { after_ms: 1_000, action: produce("scripted", -1) },
            ScriptedAction { after_ms: 3_000, action: Action::Crash { node: 2 } },
        ],
        ..preset("1")
    };
    let mut simulation = Simulation::new(preset.clone(), 3).expect("forms");
    let formed = simulation.formed_at_ms();
    simulation.run_until(formed + 20_000);
    let scripted: Vec<String> = lines(&simulation, formed)
        .into_iter()
        .filter(|l| l.contains("crashed") || l.contains("\"scripted\""))
        .collect();
    let (at, text) = scripted[0].split_once(' ').expect("time and text");
    assert_eq!(text, "leader 1 appended \"scripted\" to orders-0 at offset 0 (acks=all)");
    let at: u64 = at.parse().expect("ms");
    assert!((formed + 1_000..formed + 1_010).contains(&at), "sent at +1000 ms, appended a network hop later: {at}");
    assert!(scripted.contains(&format!("{} broker 2 crashed", formed + 2_000)), "{scripted:?}");
    assert!(simulation.actions().is_empty(), "scenario steps are the preset's, not the learner's actions");
    let errors: Vec<String> = simulation.scenario_errors().iter().map(|(at, e)| format!("+{at} ms: {e}")).collect();
    assert_eq!(errors, ["+3000 ms: broker 2 is already down"]);
    let replayed = Simulation::replay(preset, 3, &[], formed + 20_000).expect("replays");
    assert_eq!(lines(&replayed, 0), lines(&simulation, 0), "the same run, event for event");
}

/// Cuts (or heals) every link of broker `id` to the other nodes: it stays up, but the
/// controller stops hearing its heartbeats and fences it.
fn isolate(simulation: &mut Simulation, id: i32, cut: bool) {
    let others: Vec<i32> = simulation.controller_ids().chain(simulation.broker_ids()).filter(|o| *o != id).collect();
    for other in others {
        let action = if cut { Action::CutLink { a: id, b: other } } else { Action::HealLink { a: id, b: other } };
        simulation.apply(action).expect("link");
    }
}

#[test]
fn an_eligible_leader_replica_leads_cleanly_after_the_isr_emptied() {
    let mut simulation = Simulation::new(preset("2"), 7).expect("forms");
    simulation.apply(produce("a", -1)).expect("produce");
    run(&mut simulation, 1_000);
    let partition = |simulation: &Simulation| {
        let p = simulation.active_image().and_then(|image| image.partition("orders", 0).cloned()).expect("orders-0");
        (p.leader, p.isr, p.elr, p.last_known_elr, p.unclean_elections)
    };
    assert_eq!(partition(&simulation), (1, vec![1, 2, 3], vec![], vec![], 0));

    // Brokers 3, then 2, then 1 lose the cluster (up, but unheard): each is fenced in turn.
    for id in [3, 2, 1] {
        isolate(&mut simulation, id, true);
        run(&mut simulation, 12_000);
    }
    assert_eq!(
        partition(&simulation),
        (-1, vec![], vec![1, 2], vec![1], 0),
        "broker 3 left while two were in sync; 2 and 1 left below min.insync.replicas=2"
    );

    // Broker 2 comes back without a restart: it leads from the ELR, with "a".
    isolate(&mut simulation, 2, false);
    run(&mut simulation, 5_000);
    assert_eq!(partition(&simulation), (2, vec![2], vec![1], vec![], 0), "a clean election from the ELR");
    let log = simulation
        .broker_log(2, &broker::core::message::TopicPartition { topic: "orders".into(), partition: 0 })
        .expect("broker 2 has the log");
    assert!(log.record_at(0).is_some(), "the acknowledged record is there");
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
}
