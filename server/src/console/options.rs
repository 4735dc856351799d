//! Option matching the way Kafka's tools do it with jopt-simple (`CommandDefaultOptions`,
//! abbreviations off): `--name value` or `--name=value`, switches without values, repeatable
//! options collected in order.
//!
//! Three places differ from jopt-simple on purpose, each to turn a silent surprise into a message:
//! a value-taking option followed by another option (`--topic --partitions 3`) is "missing an
//! argument" instead of taking `--partitions` as the topic name (negative numbers such as
//! `--shift-by -2` are values); words that belong to no option are
//! refused (jopt-simple ignores them, so `--topic my topic` would create `my`); and unknown options
//! come with a suggestion.

use std::str::FromStr;

use super::error::ErrorKind;
use super::suggest;
use super::tool::Tool;

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arity {
    /// A switch: `--from-beginning`.
    Flag,
    /// `--topic orders`.
    Required,
    /// `--state` or `--state stable,empty` (jopt-simple's `withOptionalArg`).
    Optional,
}

/// One option a tool accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptSpec {
    pub(crate) name: &'static str,
    pub(crate) arity: Arity,
    /// May be given more than once (`--config`, `--property`); others fail when repeated, as
    /// jopt-simple's `valueOf` does.
    pub(crate) repeatable: bool,
}

pub(crate) const fn flag(name: &'static str) -> OptSpec {
    OptSpec { name, arity: Arity::Flag, repeatable: true }
}

pub(crate) const fn value(name: &'static str) -> OptSpec {
    OptSpec { name, arity: Arity::Required, repeatable: false }
}

pub(crate) const fn values(name: &'static str) -> OptSpec {
    OptSpec { name, arity: Arity::Required, repeatable: true }
}

pub(crate) const fn optional(name: &'static str) -> OptSpec {
    OptSpec { name, arity: Arity::Optional, repeatable: false }
}

/// Options that learners bring from other tools or older releases, with what to type instead.
const HINTS: &[(Tool, &str, &str)] = &[
    (Tool::ConsoleProducer, "key-separator", "--property key.separator=<separator>"),
    (Tool::ConsoleProducer, "parse-key", "--property parse.key=true"),
    (Tool::ConsoleProducer, "acks", "--request-required-acks all (or --producer-property acks=all)"),
    (Tool::ConsoleConsumer, "print-key", "--property print.key=true"),
    (Tool::ConsoleConsumer, "key-separator", "--property key.separator=<separator>"),
    (Tool::ConsoleConsumer, "group-id", "--group"),
    (Tool::ConsumerGroups, "group-id", "--group"),
    (Tool::ConsumerGroups, "reset-offset", "--reset-offsets"),
];

/// The options found on a command line, in the order given.
#[derive(Debug)]
pub(crate) struct Matches {
    tool: Tool,
    specs: &'static [OptSpec],
    found: Vec<(&'static str, Option<String>)>,
}

impl Matches {
    /// No options at all: the real tools print their usage.
    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        debug_assert!(self.specs.iter().any(|spec| spec.name == name), "{name} is not an option of {}", self.tool);
        self.found.iter().any(|(found, _)| *found == name)
    }

    /// Like [`Matches::has`], for names that need not be options of this tool.
    pub(crate) fn tool_has(&self, name: &str) -> bool {
        self.found.iter().any(|(found, _)| *found == name)
    }

    /// Every value of a repeatable option, in order.
    pub(crate) fn values(&self, name: &str) -> Vec<&str> {
        debug_assert!(self.specs.iter().any(|spec| spec.name == name), "{name} is not an option of {}", self.tool);
        self.found.iter().filter(|(found, _)| *found == name).filter_map(|(_, value)| value.as_deref()).collect()
    }

    /// The value of a single-valued option. An optional-value option given without a value
    /// (`--state`) is `Ok(None)` here and `true` for [`Matches::has`].
    pub(crate) fn value(&self, name: &str) -> Result<Option<&str>, ErrorKind> {
        match self.values(name).as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            // jopt-simple: OptionSet.valueOf on an option given twice.
            _ => {
                Err(ErrorKind::Tool(format!("Found multiple arguments for option {name}, but you asked for only one")))
            }
        }
    }

    /// The value converted like jopt-simple's `ofType(Integer.class)` and friends.
    pub(crate) fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, ErrorKind> {
        match self.value(name)? {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ErrorKind::Tool(format!("Cannot parse argument '{text}' of option {name}"))),
        }
    }

    /// The single value of an option the command needs: `CommandLineUtils.checkRequiredArgs`.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ErrorKind> {
        self.value(name)?.ok_or_else(|| missing_required(name))
    }

    /// The first option of `names` that is present.
    pub(crate) fn first_of<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|name| self.has(name))
    }

    /// `CommandLineUtils.checkInvalidArgs`: `used` cannot be combined with any of `others`.
    pub(crate) fn check_invalid(&self, used: &str, others: &[&str]) -> Result<(), ErrorKind> {
        if self.has(used)
            && let Some(other) = self.first_of(others)
        {
            return Err(ErrorKind::Tool(format!("Option \"[{used}]\" can't be used with option \"[{other}]\"")));
        }
        Ok(())
    }
}

/// `CommandLineUtils.checkRequiredArgs`' message.
pub(crate) fn missing_required(name: &str) -> ErrorKind {
    ErrorKind::Tool(format!("Missing required argument \"[{name}]\""))
}

/// Matches `words` (everything after the command word) against a tool's options.
pub(crate) fn match_options(tool: Tool, specs: &'static [OptSpec], words: &[String]) -> Result<Matches, ErrorKind> {
    let spec_of = |name: &str| specs.iter().find(|spec| spec.name == name);

    let mut found: Vec<(&'static str, Option<String>)> = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let word = &words[index];
        index += 1;
        let Some(body) = option_body(word) else {
            return Err(ErrorKind::UnexpectedArgument { tool, argument: word.clone() });
        };
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) if word.starts_with("--") => (name, Some(value.to_string())),
            _ => (body, None),
        };
        let Some(spec) = spec_of(name).filter(|_| word.starts_with("--")) else {
            return Err(unknown_option(tool, specs, word, name));
        };
        let option = format!("--{}", spec.name);
        let value = match spec.arity {
            Arity::Flag => {
                if inline.is_some() {
                    return Err(ErrorKind::UnexpectedValue { option });
                }
                None
            }
            Arity::Required | Arity::Optional => match inline {
                Some(value) => Some(value),
                None => match words.get(index) {
                    Some(next) if !looks_like_option(next) => {
                        index += 1;
                        Some(next.clone())
                    }
                    _ if spec.arity == Arity::Optional => None,
                    _ => return Err(ErrorKind::MissingValue { option }),
                },
            },
        };
        if !spec.repeatable && found.iter().any(|(name, _)| *name == spec.name) {
            // jopt-simple accepts the repeat and fails in OptionSet.valueOf, with this message.
            return Err(ErrorKind::Tool(format!(
                "Found multiple arguments for option {}, but you asked for only one",
                spec.name
            )));
        }
        found.push((spec.name, value));
    }
    Ok(Matches { tool, specs, found })
}

/// `--topic` → `topic`, `-topic` → `topic`; `None` for words that are not options (values, and
/// negative numbers such as `--shift-by -2`'s).
fn option_body(word: &str) -> Option<&str> {
    if let Some(rest) = word.strip_prefix("--") {
        return (!rest.is_empty()).then_some(rest);
    }
    let rest = word.strip_prefix('-')?;
    rest.starts_with(|c: char| c.is_ascii_alphabetic()).then_some(rest)
}

fn looks_like_option(word: &str) -> bool {
    option_body(word).is_some()
}

fn unknown_option(tool: Tool, specs: &[OptSpec], word: &str, name: &str) -> ErrorKind {
    let option = word.split('=').next().unwrap_or(word).to_string();
    let hint = HINTS
        .iter()
        .find(|(for_tool, typo, _)| *for_tool == tool && *typo == name)
        .map(|(_, _, hint)| hint.to_string());
    let suggestion = if name == "zookeeper" {
        Some("--bootstrap-server (ZooKeeper is gone since Kafka 4.0; tools talk to brokers)".to_string())
    } else if let Some(hint) = hint {
        Some(hint)
    } else if specs.iter().any(|spec| spec.name == name) {
        // `-topic`: right name, one dash.
        Some(format!("--{name}"))
    } else {
        suggest::nearest(name, specs.iter().map(|spec| spec.name)).map(|name| format!("--{name}"))
    };
    ErrorKind::UnknownOption { tool, option, suggestion }
}
