//! Word splitting the way a POSIX shell does it, so that commands copied from a tutorial mean here
//! what they mean in a terminal.
//!
//! Supported, as in `sh`: blanks separate words; `'...'` keeps everything literally; `"..."` keeps
//! everything but `\"`, `\\`, `\$`, `` \` `` and `\<newline>`; an unquoted `\` escapes the next
//! character and `\<newline>` joins lines; `#` at the start of a word begins a comment. Not
//! supported: expansions (`$VAR` stays as typed: `--bootstrap-server $BROKER` is recorded, not
//! used), and operators (`|`, `;`, `&`, `<`, `>`), which are refused with a message instead of
//! being taken as part of a value.
//!
//! Like a shell reading a script, [`split_words`] says [`Split::Incomplete`] when the text ends in
//! the middle of a quote or right after a `\`: the caller appends the next line and tries again.

/// The result of splitting one command's text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Split {
    /// The words of a complete command.
    Complete(Vec<String>),
    /// An open quote or a trailing `\`: the command continues on the next line.
    Incomplete,
}

/// An unquoted shell operator, which the console does not run.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Operator(pub(crate) char);

/// Where the lexer of [`split_words`] stands at the end of some text, as far as whether a
/// command continues goes: an open quote, a pending `\`, and whether a word has begun (a `#`
/// inside a word is not a comment). Advancing it line by line tells when a command is complete
/// in time linear in the script, however long an unclosed quote runs; [`split_words`] then runs
/// once on the whole command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LexState {
    quote: Option<char>,
    escaped: bool,
    in_word: bool,
}

impl LexState {
    /// Whether text ending in this state is a whole command ([`split_words`] would not say
    /// [`Split::Incomplete`]).
    pub(crate) fn is_complete(self) -> bool {
        self.quote.is_none() && !self.escaped
    }

    /// The state after `text` more.
    pub(crate) fn advance(mut self, text: &str) -> LexState {
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if self.escaped {
                // Whatever follows a `\` is taken as it is: it neither opens nor closes a quote.
                self.escaped = false;
                if self.quote.is_none() && c != '\n' {
                    self.in_word = true;
                }
                continue;
            }
            match (self.quote, c) {
                (Some('\''), '\'') | (Some('"'), '"') => self.quote = None,
                (Some('"'), '\\') => self.escaped = true,
                (Some(_), _) => {}
                (None, '\'' | '"') => {
                    self.quote = Some(c);
                    self.in_word = true;
                }
                (None, '\\') => self.escaped = true,
                (None, ' ' | '\t' | '\n' | '\r') => self.in_word = false,
                (None, '#') if !self.in_word => {
                    while chars.peek().is_some_and(|&ch| ch != '\n') {
                        chars.next();
                    }
                }
                (None, _) => self.in_word = true,
            }
        }
        self
    }
}

/// Splits `text` (one command, possibly spanning lines joined with `\n`) into words.
pub(crate) fn split_words(text: &str) -> Result<Split, Operator> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word can be empty but present (`''`), so "inside a word" is tracked apart from its text.
    let mut in_word = false;
    let mut chars = text.chars().peekable();

    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Ok(Split::Incomplete),
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Ok(Split::Incomplete),
                        Some('"') => break,
                        // Inside double quotes a backslash only escapes these (POSIX 2.2.3).
                        Some('\\') => match chars.peek() {
                            None => return Ok(Split::Incomplete),
                            Some('\n') => {
                                chars.next();
                            }
                            Some(&next @ ('$' | '`' | '"' | '\\')) => {
                                chars.next();
                                word.push(next);
                            }
                            Some(_) => word.push('\\'),
                        },
                        Some(ch) => word.push(ch),
                    }
                }
            }
            '\\' => match chars.next() {
                // A trailing backslash continues the command on the next line.
                None => return Ok(Split::Incomplete),
                Some('\n') => {}
                Some(ch) => {
                    in_word = true;
                    word.push(ch);
                }
            },
            '#' if !in_word => {
                while chars.peek().is_some_and(|&ch| ch != '\n') {
                    chars.next();
                }
            }
            '|' | '&' | ';' | '<' | '>' => return Err(Operator(c)),
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(Split::Complete(words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        match split_words(text) {
            Ok(Split::Complete(words)) => words,
            other => panic!("{text:?} did not split: {other:?}"),
        }
    }

    #[test]
    fn console_shell_quotes_and_escapes() {
        assert_eq!(words("a  b\tc"), ["a", "b", "c"]);
        assert_eq!(words("--property 'key.separator= : '"), ["--property", "key.separator= : "]);
        assert_eq!(words(r#"--topic "my \"quoted\" \x""#), ["--topic", r#"my "quoted" \x"#]);
        assert_eq!(words(r"a\ b \'c"), ["a b", "'c"]);
        assert_eq!(words("''"), [""]);
        assert_eq!(words("--sep=\"\"x"), ["--sep=x"]);
        assert_eq!(words("a #comment"), ["a"]);
        assert_eq!(words("a#b"), ["a#b"]);
        assert_eq!(words("a \\\n  b"), ["a", "b"]);
    }

    #[test]
    fn console_shell_incomplete_and_operators() {
        assert_eq!(split_words("a 'b"), Ok(Split::Incomplete));
        assert_eq!(split_words("a \"b"), Ok(Split::Incomplete));
        assert_eq!(split_words("a \\"), Ok(Split::Incomplete));
        assert_eq!(split_words("a 'b\nc'"), Ok(Split::Complete(vec!["a".into(), "b\nc".into()])));
        assert_eq!(split_words("echo a | b"), Err(Operator('|')));
        assert_eq!(split_words("a > f"), Err(Operator('>')));
        assert_eq!(split_words("a '|'"), Ok(Split::Complete(vec!["a".into(), "|".into()])));
    }

    #[test]
    fn console_shell_lex_state_agrees_with_split_words() {
        let cases = [
            "plain words",
            "'open",
            "\"open \\\" still",
            "\"closed \\\"\" done",
            "trailing \\",
            "escaped \\\\",
            "# a comment with a ' quote",
            "word#not-a-comment 'open",
            "'a'\"b\"\\ c",
            "\"x \\",
        ];
        for text in cases {
            let complete = matches!(split_words(text), Ok(Split::Complete(_)));
            assert_eq!(LexState::default().advance(text).is_complete(), complete, "{text:?}");
        }
        // Line by line gives what the whole text gives.
        let lines = ["--topic 'my", "long", "name' --partitions 3"];
        let mut state = LexState::default().advance(lines[0]);
        assert!(!state.is_complete());
        state = state.advance("\n").advance(lines[1]);
        assert!(!state.is_complete());
        state = state.advance("\n").advance(lines[2]);
        assert!(state.is_complete());
    }
}
