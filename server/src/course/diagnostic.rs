//! Problems found in a course, each pinned to a file and a line.
//!
//! Authors see the same [`Diagnostic`] in two places: printed by `streamlab lessons check` as
//! `file:line: message` (the format editors and CI logs turn into clickable links), and on the page
//! when `streamlab serve` meets a broken lesson.

use std::fmt;

/// One problem in a lesson file or in `course.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the author names it: relative to the course directory's parent when it could be.
    pub file: String,
    /// 1-based line number in `file`.
    pub line: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Self { file: file.into(), line: line.max(1), message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The 1-based line that byte `offset` of `text` falls on.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Turns a TOML error into a line inside `text` plus a one-line message.
///
/// `toml` reports a byte span and a multi-line message with a source excerpt; authors get the
/// excerpt from their editor, so we keep only the first line of the message.
pub(crate) fn toml_error(text: &str, error: &toml::de::Error) -> (usize, String) {
    let line = error.span().map_or(1, |span| line_at(text, span.start));
    let message = error.message().lines().next().unwrap_or("invalid TOML").trim().to_owned();
    (line, message)
}

/// The line of the first `key = ...` assignment in a TOML text, for errors found after parsing
/// (a value of the right type but not an allowed one). Falls back to line 1.
pub(crate) fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_message() {
        let d = Diagnostic::new("lessons/01-events.md", 7, "unknown field `titel`");
        assert_eq!(d.to_string(), "lessons/01-events.md:7: unknown field `titel`");
    }

    #[test]
    fn line_at_counts_newlines_before_offset() {
        let text = "a\nbb\nccc";
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, 2), 2);
        assert_eq!(line_at(text, 5), 3);
        assert_eq!(line_at(text, 999), 3);
    }

    #[test]
    fn line_of_key_finds_assignment_not_prefix() {
        let text = "partitions_x = 1\n  partitions = 3\n";
        assert_eq!(line_of_key(text, "partitions"), 2);
        assert_eq!(line_of_key(text, "absent"), 1);
    }
}
