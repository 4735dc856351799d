//! Syntax highlighting of code blocks, done once when a lesson is loaded.
//!
//! syntect emits `<span class="hl-…">` (scope names with a prefix) rather than inline colours, so
//! `static/style.css` decides the palette: one for light mode, one for dark, plain for print.
//! The pure-Rust regex engine (`default-fancy`) keeps the build free of the Oniguruma C library.

use std::sync::OnceLock;

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

fn syntax_set() -> &'static SyntaxSet {
    static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
    SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Loads the grammars now rather than on the first lesson, so start-up cost is paid up front.
pub fn warm_up() {
    syntax_set();
}

/// Common names authors write in a fence that syntect knows under another token.
fn canonical_token(lang: &str) -> &str {
    match lang {
        "console" | "shell" | "sh" | "zsh" => "bash",
        "py" => "python",
        "js" | "node" => "javascript",
        "ts" | "typescript" => "javascript",
        "yml" => "yaml",
        "properties" => "ini",
        other => other,
    }
}

/// The HTML of a fenced code block: `<pre>` with a `language-…` class and highlighted spans, or
/// escaped plain text when the language is unknown or absent.
pub fn code_block(lang: &str, code: &str) -> String {
    let lang = lang.trim();
    let class = if lang.is_empty() { String::new() } else { format!(" class=\"language-{}\"", escape(lang)) };
    let body = highlight(lang, code).unwrap_or_else(|| escape(code));
    format!("<pre class=\"code\"><code{class}>{body}</code></pre>\n")
}

fn highlight(lang: &str, code: &str) -> Option<String> {
    if lang.is_empty() || lang == "text" || lang == "plain" {
        return None;
    }
    let syntaxes = syntax_set();
    let syntax = syntaxes.find_syntax_by_token(canonical_token(lang))?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes, CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        // A grammar that fails on some line leaves the block unhighlighted rather than half-done.
        generator.parse_html_for_line_which_includes_newline(line).ok()?;
    }
    Some(generator.finalize())
}

/// HTML-escapes text for element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_language_is_escaped_plain_text() {
        assert_eq!(
            code_block("klingon", "a < b\n"),
            "<pre class=\"code\"><code class=\"language-klingon\">a &lt; b\n</code></pre>\n"
        );
    }

    #[test]
    fn python_keywords_get_classes() {
        let html = code_block("python", "import json\n");
        assert!(html.starts_with("<pre class=\"code\"><code class=\"language-python\">"), "{html}");
        assert!(html.contains("<span class=\"hl-keyword hl-control hl-import hl-python\">import</span>"), "{html}");
    }
}
