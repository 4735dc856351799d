//! `streamlab broker|controller stop|start <id>`: the console's lab commands. Kafka has no tool
//! (and no protocol) for stopping a node; these act on the learner's embedded cluster through
//! its control handle, so a learner can crash a broker and watch Kafka react.

use broker::{ClusterControl, NodeControlError};

use super::ToolOutput;
use crate::console::parse::{LabCommand, LabTarget, NodeKind};

pub(super) async fn run(cluster: Option<&ClusterControl>, lab: &LabCommand) -> ToolOutput {
    let Some(cluster) = cluster else {
        return ToolOutput::Failure(
            "Error: lab commands act on Streamlab's embedded cluster, and this console has none.\n".into(),
        );
    };
    let LabCommand { kind, start, target } = *lab;
    let id = match target {
        LabTarget::Id(id) => id,
        LabTarget::ActiveController => match cluster.active_controller() {
            Some(id) => id,
            None => {
                return ToolOutput::Failure(
                    "Error: no controller is active: the quorum has no leader (is a majority of the controllers running?).\n"
                        .into(),
                );
            }
        },
    };
    let outcome = match (kind, start) {
        (NodeKind::Broker, false) => cluster.stop_broker(id),
        (NodeKind::Broker, true) => cluster.start_broker(id).await,
        (NodeKind::Controller, false) => cluster.stop_controller(id),
        (NodeKind::Controller, true) => cluster.start_controller(id),
    };
    match (outcome, kind, start) {
        (Ok(()), NodeKind::Broker, false) => ToolOutput::Success(format!(
            "Broker {id} stopped: it crashed, its connections closed. The controller fences it once its session \
             expires (broker.session.timeout.ms) and elects new leaders for its partitions.\n"
        )),
        (Ok(()), NodeKind::Broker, true) => ToolOutput::Success(format!(
            "Broker {id} started: it recovers its logs, registers with the controller (after its old session \
             expires) and catches up before it rejoins the ISR.\n"
        )),
        (Ok(()), NodeKind::Controller, false) => ToolOutput::Success(format!(
            "Controller {id} stopped. If it was the active controller, the others elect a new quorum leader \
             (quorum.fetch.timeout.ms, then an election).\n"
        )),
        (Ok(()), NodeKind::Controller, true) => ToolOutput::Success(format!(
            "Controller {id} started: it reads its metadata log back and follows the quorum leader.\n"
        )),
        (Err(refused @ NodeControlError::Unknown { .. }), _, _) => {
            let ids = match kind {
                NodeKind::Broker => cluster.nodes().brokers.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>(),
                NodeKind::Controller => {
                    cluster.nodes().controllers.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>()
                }
            };
            ToolOutput::Failure(format!("Error: {refused}: ids {}.\n", ids.join(", ")))
        }
        (Err(refused), _, _) => ToolOutput::Failure(format!("Error: {refused}.\n")),
    }
}
