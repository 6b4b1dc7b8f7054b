//! Schema descriptions as Rust doc comments.
//!
//! Descriptions are Markdown written for the Terraform registry. Rustdoc would run an
//! indented or fenced block as a doc test and clippy flags lazily continued list items,
//! so paragraphs are reflowed onto single lines, list items keep their own line, and code
//! fences are marked as text.

/// The doc-comment lines (without `///`) for a description; empty when there is none.
pub(crate) fn doc_lines(description: Option<&str>) -> Vec<String> {
    let Some(text) = description else {
        return Vec::new();
    };
    let mut lines: Vec<String> = Vec::new();
    let mut in_fence = false;
    let mut paragraph_open = false;
    for raw in text.replace("\r\n", "\n").replace('\t', "    ").lines() {
        let line = raw.trim();
        if line.starts_with("```") {
            lines.push(if in_fence {
                "```".to_owned()
            } else {
                "```text".to_owned()
            });
            in_fence = !in_fence;
            paragraph_open = false;
            continue;
        }
        if in_fence {
            lines.push(raw.trim_end().to_owned());
            continue;
        }
        if line.is_empty() {
            if lines.last().is_some_and(|l| !l.is_empty()) {
                lines.push(String::new());
            }
            paragraph_open = false;
            continue;
        }
        let line = &link_bare_urls(line);
        let starts_item = is_list_item(line) || line.starts_with('#') || line.starts_with('|');
        match lines.last_mut() {
            Some(last) if paragraph_open && !starts_item => {
                last.push(' ');
                last.push_str(line);
            }
            _ => lines.push(line.to_owned()),
        }
        paragraph_open = true;
    }
    if in_fence {
        lines.push("```".to_owned());
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Wrap bare URLs in `<...>` (rustdoc links those and warns about the rest); URLs of
/// Markdown links, autolinks and inline code are left alone.
fn link_bare_urls(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("http") {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let is_url = from.starts_with("https://") || from.starts_with("http://");
        let linked = out.ends_with("](") || out.ends_with('<');
        let in_code = out.matches('`').count() % 2 == 1;
        if !is_url || linked || in_code {
            out.push_str("http");
            rest = &from[4..];
            continue;
        }
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '"' | '\'' | '`'))
            .unwrap_or(from.len());
        let url = from[..end].trim_end_matches(['.', ',', ';', ':']);
        out.push('<');
        out.push_str(url);
        out.push('>');
        rest = &from[url.len()..];
    }
    out.push_str(rest);
    out
}

fn is_list_item(line: &str) -> bool {
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") {
        return true;
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_reflowed_and_list_items_kept() {
        let lines = doc_lines(Some(
            "First line\n  continues here.\n\n- item one\nlazy\n- item two",
        ));
        assert_eq!(
            lines,
            [
                "First line continues here.",
                "",
                "- item one lazy",
                "- item two"
            ]
        );
    }

    #[test]
    fn fences_become_text_and_indentation_cannot_make_a_doc_test() {
        let lines = doc_lines(Some("Example:\n\n    let x = 1;\n```hcl\nfoo = 1\n```"));
        assert_eq!(
            lines,
            ["Example:", "", "let x = 1;", "```text", "foo = 1", "```"]
        );
    }

    #[test]
    fn bare_urls_become_links_and_others_stay() {
        assert_eq!(
            link_bare_urls("See https://a.example/x. Or [docs](https://b.example) `http://c`"),
            "See <https://a.example/x>. Or [docs](https://b.example) `http://c`"
        );
        assert_eq!(
            link_bare_urls("(http://a.example/y)"),
            "(<http://a.example/y>)"
        );
        assert_eq!(
            link_bare_urls("httpd <https://x.example>"),
            "httpd <https://x.example>"
        );
    }

    #[test]
    fn no_description_gives_no_lines() {
        assert!(doc_lines(None).is_empty());
        assert!(doc_lines(Some("  \n ")).is_empty());
    }
}
