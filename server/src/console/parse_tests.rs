//! Parser tests: the real tools' flag syntax as tutorials write it, and the mistakes learners make.

use super::format::GroupStateView;
use super::parse::*;
use super::*;

fn parse_all(script: &str) -> Vec<Invocation> {
    parse_script(script).unwrap_or_else(|error| panic!("{script:?} did not parse: {error}"))
}

fn one(script: &str) -> Invocation {
    let mut invocations = parse_all(script);
    assert_eq!(invocations.len(), 1, "{script:?}");
    invocations.remove(0)
}

fn command(script: &str) -> Command {
    one(script).command
}

fn error(script: &str) -> ConsoleError {
    match parse_script(script) {
        Ok(invocations) => panic!("{script:?} parsed: {invocations:?}"),
        Err(error) => error,
    }
}

fn message(script: &str) -> String {
    error(script).message()
}

// ----------------------------------------------------------------------------------------------
// Scripts

#[test]
fn console_script_one_command_per_line_with_comments_and_blank_lines() {
    let script = "# make the topic\n\
                  kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 3\n\
                  \n\
                  kafka-topics.sh --list   # everything\n\
                  kafka-topics.sh --describe --topic orders\n";
    let invocations = parse_all(script);
    let lines: Vec<usize> = invocations.iter().map(|i| i.line).collect();
    assert_eq!(lines, [2, 4, 5]);
    assert_eq!(invocations[0].bootstrap_server.as_deref(), Some("localhost:9092"));
    assert_eq!(invocations[1].bootstrap_server, None);
    assert!(matches!(invocations[1].command, Command::TopicsList(_)));
}

#[test]
fn console_script_backslash_continuations_join_lines() {
    let script =
        "bin/kafka-topics.sh --create \\\n    --topic orders \\   \n    --partitions 3\nkafka-topics.sh --list";
    let invocations = parse_all(script);
    assert_eq!(invocations.len(), 2);
    assert_eq!(invocations[0].line, 1);
    assert_eq!(invocations[1].line, 4);
    let Command::TopicsCreate(create) = &invocations[0].command else { panic!("{:?}", invocations[0]) };
    assert_eq!((create.topic.as_str(), create.partitions), ("orders", Some(3)));
    assert!(invocations[0].text.contains("--partitions 3"));
}

#[test]
fn console_script_quotes_span_lines_and_unclosed_ones_are_errors() {
    let Command::TopicsCreate(create) = command("kafka-topics.sh --create --topic 'my\ntopic'") else { panic!() };
    assert_eq!(create.topic, "my\ntopic");

    let error = error("kafka-topics.sh --list\nkafka-topics.sh --create --topic \"orders");
    assert_eq!(error.line(), 2);
    assert_eq!(error.kind(), &ErrorKind::UnclosedQuote);

    // A quote left open over a hundred thousand lines is read once, not once per line (each
    // line used to re-split everything before it: this script took minutes).
    let long = format!("kafka-topics.sh --create --topic 'orders{}", "\nx".repeat(100_000));
    let error = parse_script(&long).expect_err("an unclosed quote");
    assert_eq!((error.line(), error.kind()), (1, &ErrorKind::UnclosedQuote));
}

#[test]
fn console_script_trailing_backslash_on_last_line_is_dropped() {
    assert!(matches!(command("kafka-topics.sh --list \\"), Command::TopicsList(_)));
}

#[test]
fn console_script_crlf_and_dollar_prompts() {
    let invocations = parse_all("$ kafka-topics.sh --list\r\n$ kafka-topics --describe\r\n");
    assert_eq!(invocations.len(), 2);
    assert!(matches!(invocations[1].command, Command::TopicsDescribe(_)));
}

#[test]
fn console_script_unknown_commands_suggest_the_tool() {
    assert_eq!(
        message("kafak-topics.sh --list"),
        "unknown command kafak-topics.sh; did you mean kafka-topics.sh? Type help for the list"
    );
    assert_eq!(
        message("kafka-consumer-group --list"),
        "unknown command kafka-consumer-group; did you mean kafka-consumer-groups? Type help for the list"
    );
    assert_eq!(message("ls -la"), "unknown command ls. Type help for the list");
    let error = error("kafka-topics.sh --list\n\nkafka-topic.sh --list");
    assert_eq!(error.line(), 3);
    assert_eq!(
        error.to_string(),
        "line 3: unknown command kafka-topic.sh; did you mean kafka-topics.sh? Type help for the list"
    );
}

#[test]
fn console_script_shell_operators_are_refused() {
    let error = error("echo hello | kafka-console-producer.sh --topic t");
    assert_eq!(error.kind(), &ErrorKind::ShellOperator { operator: '|' });
    assert!(error.message().starts_with("pipes (|) are not supported"), "{error}");
    assert!(matches!(error.kind(), ErrorKind::ShellOperator { .. }));
    assert!(message("kafka-topics.sh --list > topics.txt").starts_with("redirections (>)"));
    // Quoted, it is a value.
    let Command::Produce(produce) =
        command("kafka-console-producer.sh --topic t --property parse.key=true --property 'key.separator=|'\na|b")
    else {
        panic!()
    };
    assert_eq!(produce.records[0].key.as_deref(), Some("a"));
}

#[test]
fn console_script_stops_at_the_first_error_with_its_line() {
    let error =
        error("kafka-topics.sh --list\nkafka-topics.sh --create --topic a --partition 3\nkafka-topics.sh --list");
    assert_eq!(error.line(), 2);
    assert_eq!(error.message(), "unknown option --partition; did you mean --partitions?");
}

#[test]
fn console_script_help() {
    assert_eq!(command("help"), Command::Help { tool: None });
    assert_eq!(command("help kafka-topics.sh"), Command::Help { tool: Some(Tool::Topics) });
    assert_eq!(command("help kafka-console-consumer"), Command::Help { tool: Some(Tool::ConsoleConsumer) });
    assert_eq!(command("kafka-topics.sh --help"), Command::Help { tool: Some(Tool::Topics) });
    assert_eq!(command("kafka-consumer-groups.sh"), Command::Help { tool: Some(Tool::ConsumerGroups) });
    assert_eq!(command("kafka-metadata-quorum.sh"), Command::Help { tool: Some(Tool::MetadataQuorum) });
    assert_eq!(
        message("help kafka-topicz"),
        "unknown command kafka-topicz; did you mean kafka-topics? Type help for the list"
    );
    for tool in Tool::ALL {
        let text = help::help_text(Some(tool));
        assert!(text.contains(tool.script_name()), "{tool}: {text}");
    }
    let overview = help::help_text(None);
    for tool in Tool::ALL {
        assert!(overview.contains(tool.script_name()), "{tool}");
    }
}

#[test]
fn console_script_command_tool() {
    assert_eq!(command("kafka-topics --list").tool(), Some(Tool::Topics));
    assert_eq!(command("kafka-get-offsets.sh --topic t").tool(), Some(Tool::GetOffsets));
    assert_eq!(command("help").tool(), None);
}

// ----------------------------------------------------------------------------------------------
// Options in general

#[test]
fn console_options_both_value_forms() {
    let spaced = command("kafka-topics.sh --create --topic orders --partitions 3 --replication-factor 1");
    let equals = command("kafka-topics.sh --create --topic=orders --partitions=3 --replication-factor=1");
    assert_eq!(spaced, equals);
    let bootstrap = one("kafka-topics.sh --bootstrap-server=broker:29092 --list");
    assert_eq!(bootstrap.bootstrap_server.as_deref(), Some("broker:29092"));
}

#[test]
fn console_options_unknown_ones_get_suggestions() {
    assert_eq!(
        message("kafka-topics.sh --create --topic t --partition 3"),
        "unknown option --partition; did you mean --partitions?"
    );
    assert_eq!(
        message("kafka-topics.sh --create --topic t --replication 1"),
        "unknown option --replication; did you mean --replication-factor?"
    );
    assert_eq!(message("kafka-topics.sh -topic t --list"), "unknown option -topic; did you mean --topic?");
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --from-begining"),
        "unknown option --from-begining; did you mean --from-beginning?"
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --partitions 0"),
        "unknown option --partitions; did you mean --partition?"
    );
    assert_eq!(
        message("kafka-topics.sh --zookeeper localhost:2181 --list"),
        "unknown option --zookeeper; did you mean --bootstrap-server (ZooKeeper is gone since Kafka 4.0; tools talk to brokers)?"
    );
    assert_eq!(
        message("kafka-console-producer.sh --topic t --parse-key"),
        "unknown option --parse-key; did you mean --property parse.key=true?"
    );
    assert_eq!(
        message("kafka-topics.sh --list --colour"),
        "unknown option --colour; type help kafka-topics.sh for its options"
    );
    assert_eq!(
        message("kafka-topics.sh --list --partition=3"),
        "unknown option --partition; did you mean --partitions?"
    );
}

#[test]
fn console_options_values_are_required_where_the_tool_wants_them() {
    assert_eq!(message("kafka-topics.sh --create --topic"), "Option --topic requires an argument");
    assert_eq!(message("kafka-topics.sh --create --topic --partitions 3"), "Option --topic requires an argument");
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --from-beginning=true"),
        "Option --from-beginning does not take an argument"
    );
    assert_eq!(
        message("kafka-topics.sh --create --topic t --partitions three"),
        "Cannot parse argument 'three' of option partitions"
    );
    assert_eq!(
        message("kafka-topics.sh --create --topic a --topic b"),
        "Found multiple arguments for option topic, but you asked for only one"
    );
}

#[test]
fn console_options_stray_words_are_refused() {
    let error = error("kafka-topics.sh --create --topic my topic");
    assert_eq!(error.kind(), &ErrorKind::UnexpectedArgument { tool: Tool::Topics, argument: "topic".into() });
    assert!(error.message().starts_with("unexpected argument topic: values go right after their option"));
}

#[test]
fn console_options_file_options_are_declined() {
    let declined = error("kafka-topics.sh --list --command-config client.properties");
    assert!(matches!(declined.kind(), ErrorKind::Unsupported { what, .. } if what == "--command-config"), "{declined}");
    assert!(matches!(
        error("kafka-console-producer.sh --topic t --producer.config p.properties").kind(),
        ErrorKind::Unsupported { .. }
    ));
    assert!(matches!(
        error("kafka-consumer-groups.sh --reset-offsets --group g --all-topics --from-file plan.csv").kind(),
        ErrorKind::Unsupported { .. }
    ));
    assert!(matches!(error("kafka-topics.sh --version").kind(), ErrorKind::Unsupported { .. }));
}

// ----------------------------------------------------------------------------------------------
// kafka-topics.sh

#[test]
fn console_topics_create_with_every_option() {
    let invocation = one("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 3 \
         --replication-factor 1 --config retention.ms=1000 --config 'cleanup.policy = compact' --if-not-exists");
    assert_eq!(invocation.warnings, Vec::<String>::new());
    assert_eq!(
        invocation.command,
        Command::TopicsCreate(TopicsCreate {
            topic: "orders".into(),
            partitions: Some(3),
            replication_factor: Some(1),
            replica_assignment: None,
            configs: vec![("retention.ms".into(), "1000".into()), ("cleanup.policy".into(), "compact".into())],
            if_not_exists: true,
        })
    );
}

#[test]
fn console_topics_create_defaults_to_the_brokers_partitions() {
    let Command::TopicsCreate(create) = command("kafka-topics --create --topic orders") else { panic!() };
    assert_eq!((create.partitions, create.replication_factor), (None, None));
}

#[test]
fn console_topics_create_client_side_checks() {
    assert_eq!(message("kafka-topics.sh --create --topic t --partitions 0"), "The partitions must be greater than 0");
    assert_eq!(
        message("kafka-topics.sh --create --topic t --replication-factor 0"),
        "The replication factor must be between 1 and 32767 inclusive"
    );
    assert_eq!(
        message("kafka-topics.sh --create --topic t --config retention.ms"),
        "requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\"."
    );
    assert_eq!(
        message("kafka-topics.sh --create --topic t --config retention.m=5"),
        "Unknown topic config name: retention.m (did you mean retention.ms?)"
    );
}

#[test]
fn console_topics_create_warns_about_periods_and_underscores() {
    let invocation = one("kafka-topics.sh --create --topic my_orders.v1");
    assert_eq!(invocation.warnings.len(), 1);
    assert!(invocation.warnings[0].starts_with("WARNING: Due to limitations in metric names"));
}

#[test]
fn console_topics_create_replica_assignment() {
    let Command::TopicsCreate(create) = command("kafka-topics.sh --create --topic t --replica-assignment 0:1,1:2")
    else {
        panic!()
    };
    assert_eq!(create.replica_assignment, Some(vec![vec![0, 1], vec![1, 2]]));
    assert_eq!(
        message("kafka-topics.sh --create --topic t --replica-assignment 0:1 --partitions 2"),
        "Option \"[replica-assignment]\" can't be used with option \"[partitions]\""
    );
    assert_eq!(
        message("kafka-topics.sh --create --topic t --replica-assignment 0:0"),
        "Partition replica lists may not contain duplicate entries: 0"
    );
    assert_eq!(
        message("kafka-topics.sh --create --topic t --replica-assignment 0:1,2"),
        "Partition 1 has different replication factor: [2]"
    );
}

#[test]
fn console_topics_list_and_describe() {
    assert_eq!(
        command("kafka-topics.sh --list"),
        Command::TopicsList(TopicsList { topic: None, exclude_internal: false })
    );
    assert_eq!(
        command("kafka-topics.sh --list --topic 'ord.*' --exclude-internal"),
        Command::TopicsList(TopicsList { topic: Some("ord.*".into()), exclude_internal: true })
    );
    let Command::TopicsDescribe(describe) = command("kafka-topics.sh --describe") else { panic!() };
    assert_eq!((describe.topic, describe.if_exists), (None, false));
    let Command::TopicsDescribe(describe) =
        command("kafka-topics.sh --describe --topic orders --under-replicated-partitions --if-exists")
    else {
        panic!()
    };
    assert_eq!(describe.topic.as_deref(), Some("orders"));
    assert!(describe.reports.under_replicated && describe.reports.any_partition_filter() && describe.if_exists);
    assert_eq!(
        message("kafka-topics.sh --describe --if-exists"),
        "--topic or --topic-id is required to describe a topic"
    );
    assert_eq!(
        message("kafka-topics.sh --describe --under-replicated-partitions --topics-with-overrides"),
        "Option \"[under-replicated-partitions]\" can't be used with option \"[topics-with-overrides]\""
    );
}

#[test]
fn console_topics_alter_and_delete() {
    assert_eq!(
        command("kafka-topics.sh --alter --topic orders --partitions 6"),
        Command::TopicsAlter(TopicsAlter {
            topic: "orders".into(),
            partitions: 6,
            replica_assignment: None,
            if_exists: false
        })
    );
    assert_eq!(message("kafka-topics.sh --alter --topic orders"), "Missing required argument \"[partitions]\"");
    assert_eq!(
        message("kafka-topics.sh --alter --topic orders --config retention.ms=1"),
        "Option combination \"[bootstrap-server, config]\" can't be used with option \"[alter]\" (To alter topic \
         configurations, the kafka-configs tool can be used.)"
    );
    assert_eq!(
        message("kafka-topics.sh --alter --topic orders --partitions 6 --replication-factor 2"),
        "Option \"[replication-factor]\" can't be used with option \"[alter]\""
    );
    assert_eq!(
        command("kafka-topics.sh --delete --topic orders --if-exists"),
        Command::TopicsDelete(TopicsDelete { topic: "orders".into(), if_exists: true })
    );
    assert_eq!(message("kafka-topics.sh --delete"), "Missing required argument \"[topic]\"");
    assert_eq!(
        message("kafka-topics.sh --delete --topic t --if-not-exists"),
        "Option \"[if-not-exists]\" can't be used with option \"[delete]\""
    );
    let invocation = one("kafka-topics.sh --alter --topic t --partitions 2 --delete-config retention.ms");
    assert!(invocation.warnings[0].starts_with("delete-config option is no longer supported"));
}

#[test]
fn console_topics_need_exactly_one_action() {
    let expected = "Command must include exactly one action: --list, --describe, --create, --alter or --delete";
    assert_eq!(message("kafka-topics.sh --topic orders"), expected);
    assert_eq!(message("kafka-topics.sh --create --list --topic orders"), expected);
    assert_eq!(message("kafka-topics.sh --create --partitions 3"), "Missing required argument \"[topic]\"");
}

// ----------------------------------------------------------------------------------------------
// kafka-console-producer.sh

#[test]
fn console_producer_reads_the_following_lines() {
    let script = "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic orders\n\
                  first\n\
                  second record\n\
                  \n\
                  # produced two\n\
                  kafka-topics.sh --list\n";
    let invocations = parse_all(script);
    assert_eq!(invocations.len(), 2);
    let Command::Produce(produce) = &invocations[0].command else { panic!() };
    assert_eq!(produce.topic, "orders");
    assert_eq!(produce.acks, Acks::All);
    assert_eq!(produce.compression, CompressionArg::None);
    let values: Vec<(usize, Option<&str>, Option<&str>)> =
        produce.records.iter().map(|r| (r.line, r.key.as_deref(), r.value.as_deref())).collect();
    assert_eq!(values, [(2, None, Some("first")), (3, None, Some("second record"))]);
    assert_eq!(invocations[1].line, 6);
    assert!(!invocations[0].text.contains("first"));
}

#[test]
fn console_producer_keeps_blank_lines_inside_the_input() {
    let Command::Produce(produce) = command("kafka-console-producer --topic t\na\n\n#b\nc") else { panic!() };
    let values: Vec<&str> = produce.records.iter().filter_map(|r| r.value.as_deref()).collect();
    assert_eq!(values, ["a", "", "#b", "c"]);
}

#[test]
fn console_producer_parse_key_with_separator() {
    let script = "kafka-console-producer.sh --topic orders --property parse.key=true --property key.separator=:\n\
                  user-42:order-1\n\
                  user-42:order-2:with-colon\n";
    let Command::Produce(produce) = command(script) else { panic!() };
    assert!(produce.reader.parse_key);
    let records: Vec<(Option<&str>, Option<&str>)> =
        produce.records.iter().map(|r| (r.key.as_deref(), r.value.as_deref())).collect();
    assert_eq!(records, [(Some("user-42"), Some("order-1")), (Some("user-42"), Some("order-2:with-colon"))]);
}

#[test]
fn console_producer_default_key_separator_is_a_tab() {
    let Command::Produce(produce) = command("kafka-console-producer.sh --topic t --property parse.key=true\nk\tv")
    else {
        panic!()
    };
    assert_eq!(produce.records[0].key.as_deref(), Some("k"));
    assert_eq!(produce.records[0].value.as_deref(), Some("v"));
}

#[test]
fn console_producer_line_without_separator_fails_on_its_line() {
    let script = "kafka-topics.sh --create --topic t\n\
                  kafka-console-producer.sh --topic t --property parse.key=true --property key.separator=:\n\
                  k:v\n\
                  oops\n";
    let error = error(script);
    assert_eq!(error.line(), 4);
    assert_eq!(error.message(), "No key separator found on line number 2: 'oops'");
}

#[test]
fn console_producer_ignore_error_null_marker_and_headers() {
    let script = "kafka-console-producer.sh --topic t --property parse.key=true --property key.separator=, \
                  --property ignore.error=true --property null.marker=NULL\n\
                  novalue\n\
                  k,NULL\n";
    let Command::Produce(produce) = command(script) else { panic!() };
    assert_eq!(produce.records[0].key, None);
    assert_eq!(produce.records[0].value.as_deref(), Some("novalue"));
    assert_eq!(produce.records[1].key.as_deref(), Some("k"));
    assert_eq!(produce.records[1].value, None);

    let script = "kafka-console-producer.sh --topic t --property parse.headers=true --property parse.key=true\n\
                  h1:v1,h2:v2\tkey\tvalue\n";
    let Command::Produce(produce) = command(script) else { panic!() };
    let record = &produce.records[0];
    assert_eq!(
        record.headers,
        [("h1".to_string(), Some("v1".to_string())), ("h2".to_string(), Some("v2".to_string()))]
    );
    assert_eq!((record.key.as_deref(), record.value.as_deref()), (Some("key"), Some("value")));

    assert_eq!(
        message("kafka-console-producer.sh --topic t --property parse.key=true --property 'null.marker=\t'"),
        "null.marker and key.separator may not be equal"
    );
}

#[test]
fn console_producer_acks_and_compression() {
    let acks = |script: &str| match command(script) {
        Command::Produce(produce) => produce.acks,
        other => panic!("{other:?}"),
    };
    assert_eq!(acks("kafka-console-producer.sh --topic t --request-required-acks 1"), Acks::Leader);
    assert_eq!(acks("kafka-console-producer.sh --topic t --producer-property acks=0"), Acks::None);
    assert_eq!(acks("kafka-console-producer.sh --topic t --command-property acks=all"), Acks::All);
    assert_eq!(
        acks("kafka-console-producer.sh --topic t --producer-property acks=0 --request-required-acks -1"),
        Acks::All
    );
    assert_eq!(Acks::Leader.as_i16(), 1);
    assert_eq!(
        message("kafka-console-producer.sh --topic t --request-required-acks 2"),
        "Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1"
    );

    let compression = |script: &str| match command(script) {
        Command::Produce(produce) => produce.compression,
        other => panic!("{other:?}"),
    };
    assert_eq!(compression("kafka-console-producer.sh --topic t --compression-codec"), CompressionArg::Gzip);
    assert_eq!(compression("kafka-console-producer.sh --topic t --compression-codec zstd"), CompressionArg::Zstd);
    assert_eq!(compression("kafka-console-producer.sh --compression-codec --topic t"), CompressionArg::Gzip);
}

#[test]
fn console_producer_property_spellings() {
    let Command::Produce(produce) = command(
        "kafka-console-producer.sh --topic t --reader-property parse.key=true --reader-property 'key.separator=|'\na|b",
    ) else {
        panic!()
    };
    assert_eq!(produce.records[0].key.as_deref(), Some("a"));
    assert_eq!(
        message("kafka-console-producer.sh --topic t --property parse.key=true --reader-property key.separator=:"),
        "Options --property and --reader-property cannot be specified together."
    );
    let invocation = one("kafka-console-producer.sh --topic t --property parse.keys=true");
    assert_eq!(
        invocation.warnings,
        ["warning: parse.keys is not a reader property and is ignored; did you mean parse.key?"]
    );
}

#[test]
fn console_producer_needs_a_topic() {
    assert_eq!(
        message("kafka-console-producer.sh --bootstrap-server localhost:9092"),
        "Missing required argument \"[topic]\""
    );
    let invocation = one("kafka-console-producer.sh --broker-list old:9092 --topic t");
    assert_eq!(invocation.bootstrap_server.as_deref(), Some("old:9092"));
}

// ----------------------------------------------------------------------------------------------
// kafka-console-consumer.sh

fn consume(script: &str) -> Consume {
    match command(script) {
        Command::Consume(consume) => *consume,
        other => panic!("{other:?}"),
    }
}

#[test]
fn console_consumer_from_beginning_with_printing_options() {
    let consume = consume(
        "kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic orders --from-beginning \
         --max-messages 3 --property print.key=true --property print.partition=true --property print.offset=TRUE \
         --property print.timestamp=true --property key.separator=' | ' --timeout-ms 5000",
    );
    assert_eq!(consume.subscription, Subscription::Topic("orders".into()));
    assert!(consume.from_beginning);
    assert_eq!(consume.offset, OffsetSpec::Earliest);
    assert_eq!((consume.max_messages, consume.timeout_ms), (Some(3), Some(5000)));
    let f = &consume.format;
    assert!(f.print_key && f.print_partition && f.print_offset && f.print_timestamp && f.print_value);
    assert_eq!(f.key_separator, " | ");
    assert_eq!(consume.group, None);
}

#[test]
fn console_consumer_partition_and_offset() {
    let assigned = consume("kafka-console-consumer.sh --topic orders --partition 1 --offset 5");
    assert_eq!((assigned.partition, assigned.offset), (Some(1), OffsetSpec::Offset(5)));
    assert_eq!(consume("kafka-console-consumer.sh --topic o --partition 1").offset, OffsetSpec::Latest);
    assert_eq!(
        consume("kafka-console-consumer.sh --topic o --partition 1 --offset EARLIEST").offset,
        OffsetSpec::Earliest
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic orders --offset 5"),
        "The partition is required when offset is specified."
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic orders --partition 0 --offset 5 --from-beginning"),
        "Options from-beginning and offset cannot be specified together."
    );
    assert_eq!(
        message("kafka-console-consumer.sh --include 'ord.*' --partition 0"),
        "The topic is required when partition is specified."
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic orders --partition 0 --offset -1"),
        "The provided offset value '-1' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long."
    );
}

#[test]
fn console_consumer_groups() {
    assert_eq!(consume("kafka-console-consumer.sh --topic t --group g1").group.as_deref(), Some("g1"));
    assert_eq!(
        consume("kafka-console-consumer.sh --topic t --consumer-property group.id=g2").group.as_deref(),
        Some("g2")
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --group a --consumer-property group.id=b"),
        "The group ids provided in different places (directly using '--group', via '--consumer-property', or via \
         '--consumer.config') do not match. Detected group ids: 'a', 'b'"
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --group a --partition 0"),
        "Options group and partition cannot be specified together."
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --from-beginning --consumer-property auto.offset.reset=latest"),
        "Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest', please remove one option"
    );
}

#[test]
fn console_consumer_topic_or_include() {
    assert_eq!(
        consume("kafka-console-consumer.sh --include 'orders|payments'").subscription,
        Subscription::Include("orders|payments".into())
    );
    let expected = "Exactly one of the following arguments is required: [topic], [include]";
    assert_eq!(message("kafka-console-consumer.sh --from-beginning"), expected);
    assert_eq!(message("kafka-console-consumer.sh --topic a --include b"), expected);
}

#[test]
fn console_consumer_formatter_settings() {
    let consume = consume(
        "kafka-console-consumer.sh --topic counts --formatter kafka.tools.DefaultMessageFormatter \
         --formatter-property print.key=true \
         --formatter-property value.deserializer=org.apache.kafka.common.serialization.LongDeserializer \
         --formatter-property print.value=false --formatter-property null.literal=~",
    );
    assert_eq!(consume.format.value_deserializer, Deserializer::Long);
    assert!(!consume.format.print_value);
    assert_eq!(consume.format.null_literal, "~");
    let consume_ = super::parse_script("kafka-console-consumer.sh --topic t --value-deserializer IntegerDeserializer")
        .map(|mut v| v.remove(0).command);
    assert!(matches!(consume_, Ok(Command::Consume(c)) if c.format.value_deserializer == Deserializer::Integer));

    let invocation = one("kafka-console-consumer.sh --topic t --property print.keys=true");
    assert_eq!(
        invocation.warnings,
        ["warning: print.keys is not a formatter property and is ignored; did you mean print.key?"]
    );
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --property print.key=true --formatter-property print.offset=true"),
        "Options --property and --formatter-property cannot be specified together."
    );
    assert!(matches!(
        error("kafka-console-consumer.sh --topic t --formatter com.example.MyFormatter").kind(),
        ErrorKind::Unsupported { .. }
    ));
}

#[test]
fn console_consumer_limits_and_isolation() {
    let consume = consume("kafka-console-consumer.sh --topic t --max-messages -1 --isolation-level read_committed");
    assert_eq!(consume.max_messages, None);
    assert_eq!(consume.isolation_level, IsolationLevel::ReadCommitted);
    assert_eq!(
        message("kafka-console-consumer.sh --topic t --max-messages ten"),
        "Cannot parse argument 'ten' of option max-messages"
    );
}

// ----------------------------------------------------------------------------------------------
// kafka-consumer-groups.sh

#[test]
fn console_groups_list() {
    assert_eq!(
        command("kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list"),
        Command::GroupsList(GroupsList { states: None, types: None })
    );
    assert_eq!(
        command("kafka-consumer-groups.sh --list --state"),
        Command::GroupsList(GroupsList { states: Some(vec![]), types: None })
    );
    assert_eq!(
        command("kafka-consumer-groups.sh --list --state stable,EMPTY"),
        Command::GroupsList(GroupsList {
            states: Some(vec![GroupStateView::Stable, GroupStateView::Empty]),
            types: None
        })
    );
    assert!(message("kafka-consumer-groups.sh --list --state running").starts_with("Invalid state list 'running'."));
    assert_eq!(
        message("kafka-consumer-groups.sh --list --group g"),
        "Option \"[group]\" can't be used with option \"[list]\""
    );
}

#[test]
fn console_groups_describe_views() {
    let describe = |script: &str| match command(script) {
        Command::GroupsDescribe(describe) => describe,
        other => panic!("{other:?}"),
    };
    let d = describe("kafka-consumer-groups.sh --describe --group my-group");
    assert_eq!(
        (d.groups, d.view, d.verbose),
        (GroupSelection::Groups(vec!["my-group".into()]), DescribeView::Offsets, false)
    );
    assert_eq!(
        describe("kafka-consumer-groups.sh --describe --group g --members --verbose").view,
        DescribeView::Members
    );
    assert_eq!(describe("kafka-consumer-groups.sh --describe --group g --state").view, DescribeView::State);
    assert_eq!(describe("kafka-consumer-groups.sh --describe --all-groups").groups, GroupSelection::AllGroups);
    assert_eq!(
        describe("kafka-consumer-groups.sh --describe --group a --group b").groups,
        GroupSelection::Groups(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --describe"),
        "Option [describe] takes one of these options: [all-groups], [group]"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --describe --group g --members --state"),
        "Option [describe] takes at most one of these options: [members], [offsets], [state]"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --describe --group g --state stable"),
        "Option [describe] does not take a value for [state]"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --list --members"),
        "Option(s) [members] are unavailable given other options on the command line"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --describe --group g --all-groups"),
        "Option \"[group]\" can't be used with option \"[all-groups]\""
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --describe --group g --topic t"),
        "Option \"[topic]\" can't be used with option \"[describe]\""
    );
}

fn reset(script: &str) -> (GroupsResetOffsets, Vec<String>) {
    let invocation = one(script);
    match invocation.command {
        Command::GroupsResetOffsets(reset) => (reset, invocation.warnings),
        other => panic!("{other:?}"),
    }
}

#[test]
fn console_groups_reset_offsets_dry_run_by_default() {
    let (r, warnings) = reset("kafka-consumer-groups.sh --reset-offsets --group g --topic orders --to-earliest");
    assert_eq!(r.groups, GroupSelection::Groups(vec!["g".into()]));
    assert_eq!(r.scope, ResetScope::Topics(vec![TopicPartitions { topic: "orders".into(), partitions: None }]));
    assert_eq!((r.to, r.execute), (ResetSpec::Earliest, false));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("WARN: No action will be performed as the --execute option is missing."));

    let (r, warnings) = reset("kafka-consumer-groups.sh --reset-offsets --group g --all-topics --to-latest --dry-run");
    assert_eq!((r.scope, r.to, r.execute), (ResetScope::AllTopics, ResetSpec::Latest, false));
    assert!(warnings.is_empty());
}

#[test]
fn console_groups_reset_offsets_scenarios() {
    let to = |args: &str| {
        reset(&format!("kafka-consumer-groups.sh --reset-offsets --group g --topic t --execute {args}")).0.to
    };
    assert_eq!(to("--to-offset 5"), ResetSpec::Offset(5));
    assert_eq!(to("--shift-by -2"), ResetSpec::ShiftBy(-2));
    assert_eq!(to("--shift-by=3"), ResetSpec::ShiftBy(3));
    assert_eq!(to("--to-current"), ResetSpec::Current);
    assert_eq!(to("--to-datetime 2023-11-14T22:13:20.000"), ResetSpec::Datetime { timestamp_ms: 1_700_000_000_000 });
    assert_eq!(to("--by-duration PT1H"), ResetSpec::ByDuration { duration_ms: 3_600_000 });
    let (r, _) = reset(
        "kafka-consumer-groups.sh --reset-offsets --group g --topic orders:0,2 --topic t2 --to-earliest --execute --export",
    );
    assert!(r.execute && r.export);
    assert_eq!(
        r.scope,
        ResetScope::Topics(vec![
            TopicPartitions { topic: "orders".into(), partitions: Some(vec![0, 2]) },
            TopicPartitions { topic: "t2".into(), partitions: None },
        ])
    );
}

#[test]
fn console_groups_reset_offsets_mistakes() {
    assert_eq!(
        message("kafka-consumer-groups.sh --reset-offsets --group g --to-earliest --execute"),
        "One of the reset scopes should be defined: --all-topics, --topic."
    );
    assert!(
        message("kafka-consumer-groups.sh --reset-offsets --group g --all-topics --execute")
            .starts_with("Option '[reset-offsets]' requires one of the following scenarios:")
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --reset-offsets --group g --all-topics --to-earliest --to-latest"),
        "Option \"[to-earliest]\" can't be used with option \"[to-latest]\""
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --reset-offsets --group g --all-topics --to-earliest --dry-run --execute"),
        "Option [reset-offsets] only accepts one of [execute] and [dry-run]"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --reset-offsets --all-topics --to-earliest"),
        "Option [reset-offsets] takes one of these options: [all-groups], [group]"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --reset-offsets --group g --topic t:x --to-earliest"),
        "Invalid partition 'x' specified in topic arg 't:x''"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --reset-offsets --group g --topic t --to-datetime yesterday"),
        "Error parsing timestamp. It does not contain a 'T' according to ISO8601 format"
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --reset-offset --group g --topic t --to-earliest"),
        "unknown option --reset-offset; did you mean --reset-offsets?"
    );
}

#[test]
fn console_groups_delete_and_delete_offsets() {
    assert_eq!(
        command("kafka-consumer-groups.sh --delete --group g"),
        Command::GroupsDelete(GroupsDelete { groups: GroupSelection::Groups(vec!["g".into()]) })
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --delete --group g --topic t"),
        "The consumer does not support topic-specific offset deletion from a consumer group."
    );
    assert_eq!(
        command("kafka-consumer-groups.sh --delete-offsets --group g --topic t:1"),
        Command::GroupsDeleteOffsets(GroupsDeleteOffsets {
            group: "g".into(),
            topics: vec![TopicPartitions { topic: "t".into(), partitions: Some(vec![1]) }]
        })
    );
    assert_eq!(
        message("kafka-consumer-groups.sh --delete-offsets --group g"),
        "Option [delete-offsets] takes the following options: [group], [topic]"
    );
}

#[test]
fn console_groups_need_exactly_one_action() {
    assert_eq!(
        message("kafka-consumer-groups.sh --group g"),
        "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets, \
         --validate-regex"
    );
}

// ----------------------------------------------------------------------------------------------
// kafka-configs.sh

#[test]
fn console_configs_describe() {
    assert_eq!(
        command("kafka-configs.sh --bootstrap-server localhost:9092 --describe --topic orders"),
        Command::ConfigsDescribe(ConfigsDescribe { entity: ConfigEntity::Topic("orders".into()), all: false })
    );
    assert_eq!(
        command("kafka-configs.sh --describe --entity-type topics --entity-name orders --all"),
        Command::ConfigsDescribe(ConfigsDescribe { entity: ConfigEntity::Topic("orders".into()), all: true })
    );
    assert_eq!(
        command("kafka-configs.sh --describe --entity-type topics"),
        Command::ConfigsDescribe(ConfigsDescribe { entity: ConfigEntity::AllTopics, all: false })
    );
    assert_eq!(
        command("kafka-configs.sh --describe --broker 1 --all"),
        Command::ConfigsDescribe(ConfigsDescribe { entity: ConfigEntity::Broker(1), all: true })
    );
    assert_eq!(
        command("kafka-configs.sh --describe --entity-type brokers --entity-default"),
        Command::ConfigsDescribe(ConfigsDescribe { entity: ConfigEntity::BrokerDefault, all: false })
    );
    assert_eq!(
        message("kafka-configs.sh --describe --topic 'my topic'"),
        "Topic name \"my topic\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
    );
}

#[test]
fn console_configs_alter_add_and_delete() {
    assert_eq!(
        command(
            "kafka-configs.sh --alter --topic orders --add-config retention.ms=1000,cleanup.policy=[compact,delete]"
        ),
        Command::ConfigsAlter(ConfigsAlter {
            entity: ConfigEntity::Topic("orders".into()),
            add: vec![("retention.ms".into(), "1000".into()), ("cleanup.policy".into(), "compact,delete".into())],
            delete: vec![],
        })
    );
    assert_eq!(
        command(
            "kafka-configs.sh --alter --entity-type topics --entity-name orders --delete-config retention.ms,segment.ms --delete-config ' max.message.bytes'"
        ),
        Command::ConfigsAlter(ConfigsAlter {
            entity: ConfigEntity::Topic("orders".into()),
            add: vec![],
            delete: vec!["retention.ms".into(), "segment.ms".into(), "max.message.bytes".into()],
        })
    );
    let Command::ConfigsAlter(alter) =
        command("kafka-configs.sh --alter --topic t --add-config 'retention.ms = 5, x='")
    else {
        panic!()
    };
    assert_eq!(alter.add, [("retention.ms".to_string(), "5".to_string()), ("x".to_string(), String::new())]);
}

#[test]
fn console_configs_mistakes() {
    assert_eq!(message("kafka-configs.sh --topic t"), "Command must include exactly one action: --describe, --alter");
    assert_eq!(
        message("kafka-configs.sh --alter --topic t"),
        "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"
    );
    assert_eq!(
        message("kafka-configs.sh --describe --topic t --add-config a=1"),
        "Option \"[describe]\" can't be used with option \"[add-config]\""
    );
    assert_eq!(message("kafka-configs.sh --describe"), "At least one entity type must be specified");
    assert_eq!(
        message("kafka-configs.sh --alter --entity-type topics --add-config a=1"),
        "An entity name must be specified with --alter of topics"
    );
    assert!(
        message("kafka-configs.sh --describe --entity-type topic --entity-name t")
            .starts_with("Invalid entity type topic, the entity type must be one of")
    );
    assert_eq!(
        message("kafka-configs.sh --alter --topic t --add-config retention.ms"),
        "Invalid entity config: all configs to be added must be in the format \"key=val\" or  \"key=[val1,val2]\" to \
         group values which contain commas."
    );
    assert_eq!(
        message("kafka-configs.sh --describe --entity-type topics --topic t"),
        "Duplicate entity type(s) specified: topics"
    );
    assert_eq!(
        message("kafka-configs.sh --describe --entity-name x --topic t"),
        "--entity-{type,name,default} should not be used in conjunction with specific entity flags"
    );
    assert!(matches!(error("kafka-configs.sh --describe --entity-type users").kind(), ErrorKind::Unsupported { .. }));
    assert_eq!(
        message("kafka-configs.sh --describe --broker one"),
        "The entity name for brokers must be a valid integer broker id, but it is: one"
    );
}

// ----------------------------------------------------------------------------------------------
// kafka-get-offsets.sh

#[test]
fn console_get_offsets() {
    assert_eq!(
        command("kafka-get-offsets.sh --bootstrap-server localhost:9092 --topic orders"),
        Command::GetOffsets(GetOffsets {
            rules: vec![TopicPartitionRule { topic: Some("orders".into()), partitions: PartitionFilter::All }],
            time: OffsetTime::Latest,
            exclude_internal: false,
        })
    );
    let time = |args: &str| match command(&format!("kafka-get-offsets.sh --topic t {args}")) {
        Command::GetOffsets(g) => g.time,
        other => panic!("{other:?}"),
    };
    assert_eq!(time("--time earliest"), OffsetTime::Earliest);
    assert_eq!(time("--time -2"), OffsetTime::Earliest);
    assert_eq!(time("--time=-1"), OffsetTime::Latest);
    assert_eq!(time("--time max-timestamp"), OffsetTime::MaxTimestamp);
    assert_eq!(time("--time 1700000000000"), OffsetTime::Timestamp(1_700_000_000_000));
    assert_eq!(OffsetTime::MaxTimestamp.list_offsets_timestamp(), -3);
    assert!(
        message("kafka-get-offsets.sh --topic t --time yesterday").starts_with("Malformed time argument yesterday.")
    );

    let Command::GetOffsets(g) = command("kafka-get-offsets.sh --topic t --partitions 0,2") else { panic!() };
    assert_eq!(g.rules[0].partitions, PartitionFilter::Set(vec![0, 2]));
    assert!(g.rules[0].partitions.allows(2) && !g.rules[0].partitions.allows(1));
    assert_eq!(
        message("kafka-get-offsets.sh --topic t --partitions 0,x"),
        "--partitions expects a comma separated list of numeric partition ids, but received: 0,x"
    );
}

#[test]
fn console_get_offsets_topic_partition_patterns() {
    let Command::GetOffsets(g) = command("kafka-get-offsets.sh --topic-partitions 'orders:1,payments:0-3,logs,:2-'")
    else {
        panic!()
    };
    assert_eq!(
        g.rules,
        [
            TopicPartitionRule { topic: Some("orders".into()), partitions: PartitionFilter::Set(vec![1]) },
            TopicPartitionRule {
                topic: Some("payments".into()),
                partitions: PartitionFilter::Range { lower: 0, upper: 3 }
            },
            TopicPartitionRule { topic: Some("logs".into()), partitions: PartitionFilter::All },
            TopicPartitionRule { topic: None, partitions: PartitionFilter::Range { lower: 2, upper: i32::MAX } },
        ]
    );
    assert!(!g.rules[1].partitions.allows(3));
    assert_eq!(
        message("kafka-get-offsets.sh --topic-partitions t:1 --topic t"),
        "--topic-partitions cannot be used with --topic or --partitions"
    );
    assert_eq!(message("kafka-get-offsets.sh --topic-partitions t:a"), "Invalid rule specification: t:a");
}

// ----------------------------------------------------------------------------------------------
// kafka-metadata-quorum.sh

#[test]
fn console_quorum_describe() {
    let invocation = one("kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status");
    assert_eq!(invocation.command, Command::QuorumDescribe(QuorumDescribe { view: QuorumView::Status }));
    assert_eq!(invocation.bootstrap_server.as_deref(), Some("localhost:9092"));
    assert_eq!(
        command("kafka-metadata-quorum describe --replication --human-readable --bootstrap-server localhost:9092"),
        Command::QuorumDescribe(QuorumDescribe { view: QuorumView::Replication { human_readable: true } })
    );
    assert_eq!(
        message("kafka-metadata-quorum.sh describe --status --replication"),
        "Only one of --status or --replication should be specified with describe sub-command"
    );
    assert_eq!(
        message("kafka-metadata-quorum.sh describe"),
        "One of --status or --replication must be specified with describe sub-command"
    );
    assert_eq!(
        message("kafka-metadata-quorum.sh describe --status --human-readable"),
        "The option --human-readable is only supported along with --replication"
    );
    assert!(message("kafka-metadata-quorum.sh --bootstrap-server b:9092 --status").starts_with("too few arguments"));
    assert_eq!(
        message("kafka-metadata-quorum.sh describ --status"),
        "argument command: invalid choice: 'describ' (choose from 'describe', 'add-controller', 'remove-controller')"
    );
    assert!(matches!(error("kafka-metadata-quorum.sh add-controller").kind(), ErrorKind::Unsupported { .. }));
    assert_eq!(message("kafka-metadata-quorum.sh describe --stats"), "unknown option --stats; did you mean --status?");
}

#[test]
fn lab_commands_stop_and_start_nodes() {
    assert_eq!(
        command("streamlab broker stop 2"),
        Command::Lab(LabCommand { kind: NodeKind::Broker, start: false, target: LabTarget::Id(2) })
    );
    assert_eq!(
        command("streamlab controller stop active"),
        Command::Lab(LabCommand { kind: NodeKind::Controller, start: false, target: LabTarget::ActiveController })
    );
    assert_eq!(
        command("streamlab controller start 3001"),
        Command::Lab(LabCommand { kind: NodeKind::Controller, start: true, target: LabTarget::Id(3001) })
    );
    assert!(message("streamlab broker stop active").starts_with("active is not a node id"));
    assert!(message("streamlab brokers stop 1").starts_with("brokers is not a node kind: broker or controller"));
    assert!(message("streamlab broker stop").starts_with("usage: streamlab broker stop|start <id>"));
    // A lab command ends the records of a producer before it.
    let invocations = parse_all("kafka-console-producer.sh --topic t\na\nstreamlab broker stop 1");
    assert_eq!(invocations.len(), 2);
}

// ----------------------------------------------------------------------------------------------
// kafka-leader-election.sh

#[test]
fn console_leader_election() {
    assert_eq!(
        command(
            "kafka-leader-election.sh --bootstrap-server localhost:9092 --election-type preferred --all-topic-partitions"
        ),
        Command::LeaderElection(LeaderElection { election: Election::Preferred, partition: None })
    );
    assert_eq!(
        command("kafka-leader-election --election-type UNCLEAN --topic orders --partition 2"),
        Command::LeaderElection(LeaderElection { election: Election::Unclean, partition: Some(("orders".into(), 2)) })
    );
    assert_eq!(message("kafka-leader-election.sh --all-topic-partitions"), "Missing required option(s): election-type");
    assert_eq!(
        message("kafka-leader-election.sh --election-type random --all-topic-partitions"),
        "Value [random] for option election-type is not one of [preferred, unclean]"
    );
    let one_of =
        "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file";
    assert_eq!(message("kafka-leader-election.sh --election-type preferred"), one_of);
    assert_eq!(
        message(
            "kafka-leader-election.sh --election-type preferred --topic orders --partition 0 --all-topic-partitions"
        ),
        one_of
    );
    assert_eq!(
        message("kafka-leader-election.sh --election-type preferred --topic orders"),
        "Missing required option(s): partition"
    );
    assert_eq!(
        message("kafka-leader-election.sh --election-type preferred --all-topic-partitions --partition 1"),
        "Option partition is only allowed if topic is used"
    );
    assert!(
        message("kafka-leader-election.sh --election-type preferred --path-to-json-file elect.json")
            .contains("--path-to-json-file"),
    );
    assert_eq!(command("kafka-leader-election.sh"), Command::Help { tool: Some(Tool::LeaderElection) });
}
