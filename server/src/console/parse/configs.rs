//! `kafka-configs.sh`, read as `org.apache.kafka.tools.ConfigCommand` (Kafka 4.x) reads it: the
//! entity options of `ConfigCommandOptions`, its `checkArgs`, and `parseConfigsToBeAdded` /
//! `parseConfigsToBeDeleted`. The console manages topic and broker configs; the other entity types
//! (clients, users, ips, groups, client-metrics, broker-loggers) are recognised and declined.

use super::{Command, Context};
use crate::console::error::ErrorKind;
use crate::console::options::{Matches, OptSpec, flag, value, values};

pub(crate) const OPTIONS: &[OptSpec] = &[
    value("bootstrap-server"),
    value("bootstrap-controller"),
    value("command-config"),
    flag("alter"),
    flag("describe"),
    flag("all"),
    values("entity-type"),
    values("entity-name"),
    flag("entity-default"),
    value("add-config"),
    value("add-config-file"),
    values("delete-config"),
    value("topic"),
    value("client"),
    flag("client-defaults"),
    value("user"),
    flag("user-defaults"),
    value("broker"),
    flag("broker-defaults"),
    value("broker-logger"),
    flag("ip-defaults"),
    value("ip"),
    value("group"),
    value("client-metrics"),
    flag("help"),
    flag("version"),
];

/// The resource whose configs are described or altered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigEntity {
    /// `--topic orders` / `--entity-type topics --entity-name orders`.
    Topic(String),
    /// `--entity-type topics` without a name (describe only): every topic.
    AllTopics,
    /// `--broker 1` / `--entity-type brokers --entity-name 1`.
    Broker(i32),
    /// `--broker-defaults` / `--entity-type brokers --entity-default`: the cluster-wide defaults.
    BrokerDefault,
    /// `--entity-type brokers` without a name (describe only): every broker, then the defaults.
    AllBrokers,
}

/// `--describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigsDescribe {
    pub entity: ConfigEntity,
    /// `--all`: every config, not only the dynamic ones.
    pub all: bool,
}

/// `--alter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigsAlter {
    /// A single topic, broker or the broker defaults.
    pub entity: ConfigEntity,
    /// `--add-config`, in order, with `[...]` groups unwrapped (`a=[x,y]` → `("a", "x,y")`).
    pub add: Vec<(String, String)>,
    /// `--delete-config`, comma-separated or repeated.
    pub delete: Vec<String>,
}

/// `--entity-type` values, in `ConfigCommand.BROKER_SUPPORTED_CONFIG_TYPES`' order.
const ENTITY_TYPES: [&str; 8] =
    ["broker-loggers", "topics", "clients", "users", "brokers", "ips", "client-metrics", "groups"];

/// The specific entity flags and the type each stands for (`ConfigCommandOptions.entityFlags`,
/// then `entityDefaultsFlags`).
const ENTITY_FLAGS: [(&str, &str); 8] = [
    ("topic", "topics"),
    ("client", "clients"),
    ("user", "users"),
    ("broker", "brokers"),
    ("broker-logger", "broker-loggers"),
    ("ip", "ips"),
    ("client-metrics", "client-metrics"),
    ("group", "groups"),
];
const DEFAULT_FLAGS: [(&str, &str); 4] = [
    ("client-defaults", "clients"),
    ("user-defaults", "users"),
    ("broker-defaults", "brokers"),
    ("ip-defaults", "ips"),
];

pub(crate) fn build(m: &Matches, _cx: &mut Context) -> Result<Command, ErrorKind> {
    // ConfigCommandOptions.checkArgs
    if ["alter", "describe"].iter().filter(|action| m.has(action)).count() != 1 {
        return Err(ErrorKind::Tool("Command must include exactly one action: --describe, --alter".into()));
    }
    m.check_invalid("describe", &["alter", "add-config", "delete-config"])?;

    let mut types: Vec<&str> = m.values("entity-type");
    types.extend(ENTITY_FLAGS.iter().chain(&DEFAULT_FLAGS).filter(|(flag, _)| m.has(flag)).map(|(_, kind)| *kind));
    let mut duplicates: Vec<&str> = Vec::new();
    for (i, kind) in types.iter().enumerate() {
        if types[..i].contains(kind) && !duplicates.contains(kind) {
            duplicates.push(kind);
        }
    }
    if !duplicates.is_empty() {
        return Err(ErrorKind::Tool(format!("Duplicate entity type(s) specified: {}", duplicates.join(","))));
    }
    if m.has("bootstrap-server") && m.has("bootstrap-controller") {
        return Err(ErrorKind::Tool(
            "Only one of --bootstrap-server or --bootstrap-controller can be specified".into(),
        ));
    }
    if let Some(invalid) = types.iter().find(|kind| !ENTITY_TYPES.contains(kind)) {
        return Err(ErrorKind::Tool(format!(
            "Invalid entity type {invalid}, the entity type must be one of {} with a --bootstrap-server or \
             --bootstrap-controller argument",
            ENTITY_TYPES.join(", ")
        )));
    }
    let kind = match types[..] {
        [] => return Err(ErrorKind::Tool("At least one entity type must be specified".into())),
        [kind] => kind,
        _ if types.contains(&"users") && types.contains(&"clients") && types.len() == 2 => "users",
        _ => return Err(ErrorKind::Tool("Only 'users' and 'clients' entity types may be specified together".into())),
    };
    let uses_generic = m.has("entity-name") || m.has("entity-type") || m.has("entity-default");
    let uses_flags = ENTITY_FLAGS.iter().chain(&DEFAULT_FLAGS).any(|(flag, _)| m.has(flag));
    if uses_generic && uses_flags {
        return Err(ErrorKind::Tool(
            "--entity-{type,name,default} should not be used in conjunction with specific entity flags".into(),
        ));
    }
    if !matches!(kind, "topics" | "brokers") {
        return Err(ErrorKind::Unsupported {
            what: format!("Configs of {kind}"),
            hint: "the console describes and alters topic and broker configs".into(),
        });
    }

    // The entity's name: `None` for every entity of the type, `Some("")` for the defaults.
    let names: Vec<&str> = m
        .values("entity-name")
        .into_iter()
        .chain(m.value("topic")?)
        .chain(m.value("broker")?)
        .chain((m.has("entity-default") || m.has("broker-defaults")).then_some(""))
        .collect();
    if names.len() > 1 {
        return Err(ErrorKind::Tool("An entity name must be specified for every entity type".into()));
    }
    let name = names.first().copied();
    let alter = m.has("alter");

    let entity = match (kind, name) {
        ("topics", Some("")) if !alter => {
            return Err(ErrorKind::Tool("--entity-default must not be specified with --describe of topics".into()));
        }
        ("topics", Some("") | None) if alter => {
            return Err(ErrorKind::Tool("An entity name must be specified with --alter of topics".into()));
        }
        ("topics", Some(name)) => {
            validate_topic_name(name)?;
            ConfigEntity::Topic(name.to_string())
        }
        ("topics", _) => ConfigEntity::AllTopics,
        (_, None) if alter => {
            return Err(ErrorKind::Tool(
                "An entity-name or default entity must be specified with --alter of users, clients, brokers or ips"
                    .into(),
            ));
        }
        (_, None) => ConfigEntity::AllBrokers,
        (_, Some("")) => ConfigEntity::BrokerDefault,
        (_, Some(id)) => ConfigEntity::Broker(id.parse().map_err(|_| {
            ErrorKind::Tool(format!("The entity name for brokers must be a valid integer broker id, but it is: {id}"))
        })?),
    };

    if !alter {
        return Ok(Command::ConfigsDescribe(ConfigsDescribe { entity, all: m.has("all") }));
    }
    if !m.has("add-config") && !m.has("delete-config") {
        return Err(ErrorKind::Tool(
            "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter".into(),
        ));
    }
    let add = match m.value("add-config")? {
        Some(text) => parse_add_config(text)?,
        None => Vec::new(),
    };
    // `--delete-config` splits its values on commas (withValuesSeparatedBy(',')).
    let delete = m
        .values("delete-config")
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(|key| key.trim().to_string())
        .collect();
    Ok(Command::ConfigsAlter(ConfigsAlter { entity, add, delete }))
}

/// `ConfigCommand.parseConfigsToBeAdded`: split on commas outside `[...]`, then each pair on `=`
/// (blanks around it allowed) outside `[...]`; brackets are removed from values.
pub(crate) fn parse_add_config(text: &str) -> Result<Vec<(String, String)>, ErrorKind> {
    let mut pairs = Vec::new();
    for entry in split_outside_brackets(text, ',') {
        let parts = split_outside_brackets(entry, '=');
        let [key, value] = parts[..] else {
            return Err(ErrorKind::Tool(
                "Invalid entity config: all configs to be added must be in the format \"key=val\" or  \
                 \"key=[val1,val2]\" to group values which contain commas."
                    .into(),
            ));
        };
        let key = key.trim();
        // ConfigCommand.validatePropsKey
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '$' | '.' | '_' | '-')) {
            return Err(ErrorKind::Tool(format!("Invalid character found for config key: {key}")));
        }
        let value: String = value.chars().filter(|c| !matches!(c, '[' | ']')).collect();
        pairs.push((key.to_string(), value.trim().to_string()));
    }
    Ok(pairs)
}

/// Splits on `separator` where it is not between `[` and `]`, keeping empty pieces (Java's
/// `split(regex, -1)` for `=`; a trailing empty piece after `,` is dropped, as `split(regex)` does).
fn split_outside_brackets(text: &str, separator: char) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if c == separator && depth == 0 => {
                pieces.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    if separator == ',' {
        while pieces.len() > 1 && pieces.last().is_some_and(|piece| piece.is_empty()) {
            pieces.pop();
        }
    }
    pieces
}

/// `org.apache.kafka.common.internals.Topic.validate`, which `ConfigCommand` runs on topic names.
fn validate_topic_name(name: &str) -> Result<(), ErrorKind> {
    let problem = if name.is_empty() {
        Some("Topic name is illegal, it can't be empty".to_string())
    } else if name == "." || name == ".." {
        Some("Topic name cannot be \".\" or \"..\"".to_string())
    } else if name.len() > 249 {
        Some(format!("Topic name is illegal, it can't be longer than 249 characters, topic name: {name}"))
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        Some(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ))
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ErrorKind::Tool(problem)),
        None => Ok(()),
    }
}
