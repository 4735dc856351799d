//! The TOML front matter between `+++` lines at the top of a lesson (as in Zola).

use serde::Deserialize;

use super::diagnostic::toml_error;

/// A lesson's metadata. Unknown keys are errors so that a typo (`titel`) is caught, not ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub title: String,
    /// The URL is `/lessons/{slug}`; defaults to the file name without its number prefix and `.md`.
    pub slug: Option<String>,
    /// The id of a module declared in `course.toml`.
    pub module: String,
    /// Position inside the module.
    pub order: u32,
    #[serde(default)]
    pub summary: String,
    pub estimated_minutes: Option<u32>,
    /// Slugs of the lessons to read first.
    #[serde(default)]
    pub prerequisites: Vec<String>,
}

/// A lesson file split into its parts.
#[derive(Debug)]
pub struct Split<'a> {
    pub front_matter: FrontMatter,
    pub body: &'a str,
    /// The file line the body starts on.
    pub body_line: usize,
}

/// Splits a lesson file, returning the problem as `(line, message)` when it cannot.
pub fn split(text: &str) -> Result<Split<'_>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "+++" {
        return Err((
            1,
            "a lesson starts with front matter: a `+++` line, TOML (title, module, order, ...), and another `+++` line"
                .into(),
        ));
    }
    let front_start = first.len();
    let mut offset = front_start;
    for (index, line) in lines.enumerate() {
        if line.trim_end() == "+++" {
            let front_text = &text[front_start..offset];
            let front_matter = toml::from_str::<FrontMatter>(front_text).map_err(|e| {
                let (line, message) = toml_error(front_text, &e);
                (line + 1, format!("front matter: {message}"))
            })?;
            return Ok(Split { front_matter, body: &text[offset + line.len()..], body_line: index + 3 });
        }
        offset += line.len();
    }
    Err((1, "front matter is not closed: add a `+++` line after it".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_body() {
        let text = "+++\ntitle = \"Offsets\"\nmodule = \"foundations\"\norder = 3\n+++\n\n## Hello\n";
        let split = split(text).expect("valid");
        assert_eq!(split.front_matter.title, "Offsets");
        assert_eq!(split.front_matter.order, 3);
        assert_eq!(split.body, "\n## Hello\n");
        assert_eq!(split.body_line, 6);
    }

    #[test]
    fn wrong_type_is_reported_on_its_file_line() {
        let text = "+++\ntitle = \"Offsets\"\nmodule = \"foundations\"\norder = \"three\"\n+++\n";
        let (line, message) = split(text).expect_err("invalid");
        assert_eq!(line, 4);
        assert_eq!(message, "front matter: invalid type: string \"three\", expected u32");
    }

    #[test]
    fn unknown_and_missing_fields_are_errors() {
        let (line, message) = split("+++\ntitel = \"x\"\nmodule = \"m\"\norder = 1\n+++\n").expect_err("typo");
        assert_eq!(line, 2);
        assert!(message.starts_with("front matter: unknown field `titel`"), "{message}");
        let (_, message) = split("+++\ntitle = \"x\"\norder = 1\n+++\n").expect_err("missing");
        assert_eq!(message, "front matter: missing field `module`");
    }

    #[test]
    fn missing_or_unclosed_front_matter() {
        assert_eq!(split("## no front matter\n").expect_err("none").0, 1);
        let (_, message) = split("+++\ntitle = \"x\"\n").expect_err("unclosed");
        assert!(message.contains("not closed"));
    }
}
