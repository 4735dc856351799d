//! Scenario tests: the classic replication and quorum stories, with the exact events Kafka's
//! logic produces in each, run on the deterministic simulator.

use broker::sim::message::TopicPartition;
use broker::sim::{Action, Preset, Simulation, TopicPreset};

fn lines(simulation: &Simulation, from_ms: u64) -> Vec<String> {
    simulation.events().iter().filter(|e| e.at_ms >= from_ms).map(|e| format!("{:>6} {}", e.at_ms, e.kind)).collect()
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
    for line in lines(&simulation, start) {
        println!("{line}");
    }
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
}

#[test]
fn leader_crash_with_acks_all_loses_nothing() {
    let mut simulation = Simulation::new(preset("2"), 7).expect("forms");
    let start = simulation.now_ms();
    crash_an_isolated_leader(&mut simulation, -1);
    for line in lines(&simulation, start) {
        println!("{line}");
    }
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
    for line in lines(&simulation, start) {
        println!("{line}");
    }
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
    for line in lines(&simulation, start) {
        println!("{line}");
    }
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
}
