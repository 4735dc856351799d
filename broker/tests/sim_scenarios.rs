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

#[test]
fn leader_crash_with_acks_1_loses_an_acknowledged_record() {
    let mut simulation = Simulation::new(preset("1"), 7).expect("forms");
    let start = simulation.now_ms();
    simulation.apply(Action::CutLink { a: 1, b: 2 }).expect("cut");
    simulation.apply(Action::CutLink { a: 1, b: 3 }).expect("cut");
    simulation.apply(produce("a", 1)).expect("produce");
    run(&mut simulation, 100);
    simulation.apply(Action::Crash { node: 1 }).expect("crash");
    run(&mut simulation, 15_000);
    simulation.apply(produce("b", 1)).expect("produce");
    run(&mut simulation, 1_000);
    simulation.apply(Action::Restart { node: 1 }).expect("restart");
    simulation.apply(Action::HealLink { a: 1, b: 2 }).expect("heal");
    simulation.apply(Action::HealLink { a: 1, b: 3 }).expect("heal");
    run(&mut simulation, 20_000);
    for line in lines(&simulation, start) {
        println!("{line}");
    }
    assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
    let tp = TopicPartition { topic: "orders".into(), partition: 0 };
    println!("{:?}", simulation.active_image().unwrap().partition("orders", 0));
    for b in 1..=3 {
        let broker = simulation.broker(b).unwrap();
        println!("broker {b} log {:?} {:?}", broker.log(&tp).map(|l| l.records.len()), broker.partitions.get(&tp));
    }
}

#[test]
fn debug_isr() {
    let mut simulation = Simulation::new(preset("1"), 7).expect("forms");
    simulation.apply(Action::Crash { node: 3 }).expect("crash");
    run(&mut simulation, 40_000);
    simulation.apply(Action::Restart { node: 3 }).expect("restart");
    run(&mut simulation, 20_000);
    for line in lines(&simulation, 0) {
        println!("{line}");
    }
    let image = simulation.active_image().unwrap();
    println!("{:?}", image.partition("orders", 0));
    for b in 1..=3 {
        let broker = simulation.broker(b).unwrap();
        println!(
            "broker {b} fenced={} epoch={} image.offset={} brokers={:?}",
            broker.fenced, broker.broker_epoch, broker.image.offset, broker.image.brokers
        );
        if let Some(broker::sim::broker_node::PartitionRole::Leader(state)) = broker.partitions.values().next() {
            println!("{:?}", state.replica);
        }
    }
}
