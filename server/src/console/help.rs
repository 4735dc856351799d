//! The console's `help`: the tools and their actions, and each tool's usage with the options the
//! console understands (`help kafka-topics.sh`, or `kafka-topics.sh --help`).

use super::tool::Tool;

/// The text of `help` (no tool) or `help <tool>`.
pub fn help_text(tool: Option<Tool>) -> String {
    match tool {
        None => overview(),
        Some(tool) => usage(tool).to_string(),
    }
}

fn overview() -> String {
    let mut out = String::from(
        "The console runs Apache Kafka's command-line tools against your broker.\n\
         Write them as in any tutorial: bin/kafka-topics.sh, kafka-topics.sh and kafka-topics all work,\n\
         and --bootstrap-server is optional (the console always uses your broker).\n\n",
    );
    let actions = [
        (Tool::Topics, "--create, --list, --describe, --alter (partitions), --delete"),
        (Tool::ConsoleProducer, "one record per line after the command; keys with --property parse.key=true"),
        (Tool::ConsoleConsumer, "--from-beginning, --partition/--offset, --group, --max-messages, print.* properties"),
        (Tool::ConsumerGroups, "--list, --describe (lag), --reset-offsets (--dry-run/--execute), --delete"),
        (Tool::Configs, "--describe, --alter --add-config/--delete-config (topics and brokers)"),
        (Tool::GetOffsets, "--topic, --partitions, --time earliest|latest|max-timestamp|<ms>"),
        (Tool::MetadataQuorum, "describe --status, describe --replication"),
        (Tool::LeaderElection, "--election-type preferred|unclean, --topic with --partition or --all-topic-partitions"),
    ];
    for (tool, what) in actions {
        out.push_str(&format!("  {:<27} {what}\n", tool.script_name()));
    }
    out.push_str(
        "  help [tool]                 this list, or a tool's options\n\n\
         Lab commands (Streamlab's, not Kafka tools): stop a node as if it crashed, or start it again.\n\
         \x20 streamlab broker stop|start <id>       brokers 1, 2, 3, ...\n\
         \x20 streamlab controller stop|start <id>   KRaft controllers 3000, 3001, 3002, ...\n\
         \x20 streamlab controller stop active      whichever controller leads the quorum now\n\n\
         Up and down arrows recall earlier commands. Copy buttons on the lesson's code blocks paste here.\n",
    );
    out
}

fn usage(tool: Tool) -> &'static str {
    match tool {
        Tool::Topics => {
            "Create, delete, describe, or change a topic.\n\
             \n\
             kafka-topics.sh --create --topic <topic> [--partitions <n>] [--replication-factor <n>]\n\
             \x20                [--config <name=value>]... [--if-not-exists]\n\
             kafka-topics.sh --list [--topic <regex>] [--exclude-internal]\n\
             kafka-topics.sh --describe [--topic <regex> | --topic-id <id>] [--if-exists]\n\
             \x20                [--under-replicated-partitions | --unavailable-partitions |\n\
             \x20                 --under-min-isr-partitions | --at-min-isr-partitions | --topics-with-overrides]\n\
             kafka-topics.sh --alter --topic <topic> --partitions <n> [--if-exists]\n\
             kafka-topics.sh --delete --topic <topic> [--if-exists]\n\
             \n\
             Without --partitions or --replication-factor, --create uses the broker's defaults.\n\
             To change a topic's configs, use kafka-configs.sh.\n"
        }
        Tool::ConsoleProducer => {
            "Read records from the lines after the command and send them to a topic.\n\
             \n\
             kafka-console-producer.sh --topic <topic> [--property parse.key=true]\n\
             \x20                          [--property key.separator=<sep>] [--request-required-acks all|1|0]\n\
             first record\n\
             second record\n\
             \n\
             Options:\n\
             \x20 --property parse.key=true          each line is key<separator>value (default separator: tab)\n\
             \x20 --property key.separator=:         the separator between key and value\n\
             \x20 --property parse.headers=true      lines start with h1:v1,h2:v2<tab>\n\
             \x20 --property null.marker=<text>      this text means null (a tombstone as value)\n\
             \x20 --request-required-acks <acks>     all (default), 1 or 0; or --producer-property acks=<acks>\n\
             \x20 --compression-codec [codec]        none, gzip (if no codec given), snappy, lz4, zstd\n\
             \x20 --sync                             send records one at a time\n\
             \x20 --producer-property <key=value>    any other producer setting\n\
             (Kafka 4.x also spells --property as --reader-property, --producer-property as --command-property.)\n\
             \n\
             The input ends at the next line that starts with a tool name.\n"
        }
        Tool::ConsoleConsumer => {
            "Read records from a topic and print them.\n\
             \n\
             kafka-console-consumer.sh --topic <topic> [--from-beginning] [--group <group>]\n\
             \x20                         [--max-messages <n>] [--timeout-ms <ms>] [--property print.key=true]\n\
             kafka-console-consumer.sh --topic <topic> --partition <n> [--offset earliest|latest|<n>]\n\
             kafka-console-consumer.sh --include <regex> ...\n\
             \n\
             Options:\n\
             \x20 --from-beginning                   start at the earliest offset if the group has none committed\n\
             \x20 --partition <n> --offset <o>       read one partition from an offset (no group)\n\
             \x20 --group <group>                    consume and commit as this consumer group\n\
             \x20 --max-messages <n>                 stop after n records\n\
             \x20 --timeout-ms <ms>                  stop when no record arrives for this long\n\
             \x20 --property print.key=true          also print.partition, print.offset, print.timestamp,\n\
             \x20                                    print.headers, print.value=false\n\
             \x20 --property key.separator=<sep>     between printed fields (default: tab)\n\
             \x20 --property value.deserializer=...  LongDeserializer, IntegerDeserializer, ShortDeserializer\n\
             \x20 --isolation-level read_committed   skip aborted transactional records\n\
             \x20 --consumer-property <key=value>    any other consumer setting\n\
             (Kafka 4.2 also spells --property as --formatter-property, --consumer-property as\n\
             --command-property.)\n"
        }
        Tool::ConsumerGroups => {
            "List, describe, reset the offsets of, and delete consumer groups.\n\
             \n\
             kafka-consumer-groups.sh --list [--state [states]] [--type [types]]\n\
             kafka-consumer-groups.sh --describe --group <group> [--members | --state | --offsets] [--verbose]\n\
             kafka-consumer-groups.sh --describe --all-groups\n\
             kafka-consumer-groups.sh --reset-offsets --group <group> (--topic <topic>[:partitions] | --all-topics)\n\
             \x20   (--to-earliest | --to-latest | --to-offset <o> | --shift-by <n> | --to-current |\n\
             \x20    --to-datetime <yyyy-MM-ddTHH:mm:ss.SSS> | --by-duration <PnDTnHnMnS>)\n\
             \x20   [--dry-run | --execute] [--export]\n\
             kafka-consumer-groups.sh --delete-offsets --group <group> --topic <topic>[:partitions]\n\
             kafka-consumer-groups.sh --delete --group <group>\n\
             \n\
             --reset-offsets only shows the plan unless --execute is given, and needs the group to have no\n\
             active members. LAG in --describe is LOG-END-OFFSET minus CURRENT-OFFSET.\n"
        }
        Tool::Configs => {
            "Describe and change dynamic configs of topics and brokers.\n\
             \n\
             kafka-configs.sh --describe --topic <topic> [--all]\n\
             kafka-configs.sh --describe --entity-type topics [--entity-name <topic>]\n\
             kafka-configs.sh --alter --topic <topic> --add-config <k1=v1,k2=[v2,v3]>\n\
             kafka-configs.sh --alter --topic <topic> --delete-config <k1,k2>\n\
             kafka-configs.sh --describe --entity-type brokers [--entity-name <id> | --entity-default] [--all]\n\
             kafka-configs.sh --alter --entity-type brokers --entity-default --add-config log.retention.ms=60000\n\
             kafka-configs.sh --alter --entity-type brokers --entity-name <id> --delete-config <k1,k2>\n\
             \n\
             Square brackets group a value that contains commas: --add-config 'cleanup.policy=[compact,delete]'.\n\
             Broker configs set the defaults of topics that do not set their own: log.retention.ms,\n\
             log.retention.bytes, log.segment.bytes, log.roll.ms, log.cleanup.policy, message.max.bytes,\n\
             compression.type, min.insync.replicas, unclean.leader.election.enable, ... A topic's value\n\
             wins over its broker's (--entity-name), which wins over the cluster-wide one (--entity-default),\n\
             which wins over server.properties. Read-only ones (broker.session.timeout.ms, node.id) are refused.\n"
        }
        Tool::GetOffsets => {
            "Print the offsets of topic partitions.\n\
             \n\
             kafka-get-offsets.sh [--topic <regex>] [--partitions <p1,p2>] [--time <time>]\n\
             kafka-get-offsets.sh --topic-partitions <topic1:1,topic2:0-3,topic3>\n\
             \n\
             --time: latest (-1, the default: the log end offset), earliest (-2: the log start offset),\n\
             max-timestamp (-3), or a timestamp in ms (the first offset at or after it).\n\
             Output lines are topic:partition:offset.\n"
        }
        Tool::MetadataQuorum => {
            "Describe the KRaft metadata quorum.\n\
             \n\
             kafka-metadata-quorum.sh describe --status\n\
             kafka-metadata-quorum.sh describe --replication [--human-readable]\n"
        }
        Tool::LeaderElection => {
            "Elect a new leader for a set of topic partitions: the preferred replica (the first of\n\
             the replica list, when it is in the ISR), or, for a partition without a leader, any\n\
             live replica even if it lacks acknowledged records (unclean).\n\
             \n\
             kafka-leader-election.sh --election-type preferred --all-topic-partitions\n\
             kafka-leader-election.sh --election-type preferred --topic <topic> --partition <id>\n\
             kafka-leader-election.sh --election-type unclean --topic <topic> --partition <id>\n"
        }
    }
}
