//! YAML output for Kubernetes manifests and Helm values: an emitter for the JSON data model
//! (block style, key order of the JSON object, deterministic) with one quoting decision.
//!
//! The readers of girder's output are not all YAML 1.2 readers. Kubernetes tooling reads
//! with go-yaml (v2 in sigs.k8s.io/yaml, v3 in kustomize's kyaml), Helm with go-yaml v2,
//! Ansible and many CI scripts with PyYAML; all of them resolve plain scalars with YAML 1.1
//! rules (or a mix), where `no` is a boolean, `1_000` and `0b101` are integers, `1:20` is a
//! sexagesimal number, `2001-12-14` is a timestamp and `=` / `<<` have tags of their own.
//! A string is therefore written plain only when no YAML 1.1 or 1.2 resolver reads that
//! plain scalar as anything but the same string ([`plain_is_ambiguous`]); otherwise it is
//! quoted. Quoted and block scalars are strings for every reader.
//!
//! The layout is the one serde_norway (libyaml's emitter) produced before this module
//! replaced it, byte for byte, for every string that did not need new quotes: two-space
//! indentation, sequences inside mappings not indented, `[]` / `{}` for empty collections,
//! literal blocks (`|`, `|-`, `|+`, with an indentation indicator when the text starts with
//! a space) for multi-line text, single quotes where a plain scalar is not allowed, double
//! quotes with escapes for control characters. The tests compare the two on random values.
//! Numbers are written as serde_json holds them, except that a float with an exponent gets
//! the `.0` and exponent sign YAML 1.1 needs to read it as a float (`1.0e+20`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Number, Value};

use crate::error::{Error, Result};
use crate::static_json::StaticJson;

/// How deep a value may nest before rendering refuses it (recursion is bounded, so a
/// hostile value is an error, not a stack overflow).
pub const MAX_DEPTH: usize = 512;

/// Render `value` as a YAML document (no leading `---`) that YAML 1.1 and 1.2 readers
/// (Kubernetes, kustomize, Helm, PyYAML) read back as `value`; `path` names what is rendered
/// in errors. Use it for YAML embedded in an object (K3s `valuesContent`, a ConfigMap holding
/// values) as well as for whole files.
pub fn to_yaml(path: &str, value: &Value) -> Result<String> {
    static_json_to_yaml(path, &StaticJson::from(value.clone()))
}

/// [`to_yaml`] for a [`StaticJson`] value (how girder holds Kubernetes objects).
pub fn static_json_to_yaml(path: &str, value: &StaticJson) -> Result<String> {
    let mut emitter = Emitter::default();
    emitter
        .node(value, Context::Root, 0)
        .map_err(|depth| Error::Serialize {
            path: path.to_owned(),
            what: "YAML".into(),
            message: format!("the value nests deeper than {depth} levels"),
        })?;
    emitter.end();
    Ok(emitter.out)
}

/// Whether the plain scalar `s` would be read as something other than the string `s` by
/// some YAML reader girder's output meets: the YAML 1.1 types (bool, int in base 2, 8, 10,
/// 16 and 60 with `_`, float with `_` and base 60, `.inf` / `.nan`, null, timestamp, merge
/// `<<`, value `=`), PyYAML's and go-yaml's versions of them, and the YAML 1.2 core schema.
pub fn plain_is_ambiguous(s: &str) -> bool {
    // Every implicit type starts with one of these characters (or is empty); the rest are
    // strings for every resolver, which keeps the common case cheap.
    match s.as_bytes().first() {
        None => true,
        Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'~' | b'<' | b'=') => {
            AMBIGUOUS.as_ref().is_none_or(|re| re.is_match(s)) || go_yaml_number(s)
        }
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O') => {
            WORDS.contains(&s)
        }
        Some(_) => false,
    }
}

/// Words starting with a letter that have a type in YAML 1.1 (booleans with `y` / `n`,
/// null) or 1.2; `~`, `<<`, `=` and the empty string are handled with the numbers.
const WORDS: [&str; 25] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
];

/// The implicit types of <https://yaml.org/type/> (YAML 1.1) as PyYAML and the spec write
/// them, plus the YAML 1.2 core schema's numbers. Booleans and null are in [`WORDS`].
static AMBIGUOUS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let patterns = [
        // null, merge, value
        r"~|null|Null|NULL|<<|=",
        // int, YAML 1.1: base 2, 8, 10, 16, 60
        r"[-+]?0b[0-1_]+",
        r"[-+]?0[0-7_]+",
        r"[-+]?(?:0|[1-9][0-9_]*)",
        r"[-+]?0x[0-9a-fA-F_]+",
        r"[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
        // int, YAML 1.2 core
        r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+",
        // float, YAML 1.1 spec (`[0-9.]*` after the point) and PyYAML (`[0-9_]*`)
        r"[-+]?(?:[0-9][0-9_]*)?\.[0-9._]*(?:[eE][-+][0-9]+)?",
        r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        // float, YAML 1.2 core
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?",
        // timestamp: date, and date with time (spec and PyYAML's time zone forms)
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?",
    ];
    Regex::new(&format!("^(?:{})$", patterns.join("|"))).ok()
});

/// go-yaml (v2 and v3) reads a plain scalar starting with a digit or sign as a number when,
/// with every `_` removed, Go's `strconv.ParseInt(s, 0, 64)` (prefixes `0x`, `0o`, `0b`,
/// either case; a leading `0` is octal) or its float syntax accepts it, and as a timestamp
/// when Go's `time.Parse` takes `2006-1-2` (one-digit month and day) and longer forms.
fn go_yaml_number(s: &str) -> bool {
    if !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
        return false;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let unsigned = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    let radix_digits =
        |rest: &str, radix: u32| !rest.is_empty() && rest.chars().all(|c| c.is_digit(radix));
    let integer = match unsigned.get(..2) {
        Some("0x" | "0X") => radix_digits(&unsigned[2..], 16),
        Some("0o" | "0O") => radix_digits(&unsigned[2..], 8),
        Some("0b" | "0B") => radix_digits(&unsigned[2..], 2),
        _ => radix_digits(unsigned, 10),
    };
    integer || GO_FLOAT.as_ref().is_none_or(|re| re.is_match(&plain)) || go_date(s)
}

/// go-yaml's `yamlStyleFloat`.
static GO_FLOAT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$").ok()
});

/// A string go-yaml's `parseTimestamp` may accept: four digits, `-`, then Go's
/// `2006-1-2...` layouts. Anything of that shape is quoted, which is conservative.
fn go_date(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() > 5
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && GO_DATE.as_ref().is_none_or(|re| re.is_match(s))
}

static GO_DATE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?$").ok());

/// Where a node stands, as libyaml's emitter distinguishes it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    SequenceItem,
    MappingValue,
    SimpleKey,
    ComplexKey,
}

impl Context {
    fn is_mapping(self) -> bool {
        matches!(
            self,
            Context::MappingValue | Context::SimpleKey | Context::ComplexKey
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// Writer state, named and used as in libyaml's emitter (`indent`, `whitespace`,
/// `indention`) so its layout decisions carry over one to one.
struct Emitter {
    out: String,
    column: usize,
    indent: Option<usize>,
    indents: Vec<Option<usize>>,
    whitespace: bool,
    indention: bool,
}

impl Default for Emitter {
    fn default() -> Self {
        Self {
            out: String::new(),
            column: 0,
            indent: None,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
        }
    }
}

const INDENT: usize = 2;

impl Emitter {
    /// One node; `Err(limit)` when nesting exceeds [`MAX_DEPTH`].
    fn node(
        &mut self,
        value: &StaticJson,
        context: Context,
        depth: usize,
    ) -> std::result::Result<(), usize> {
        if depth > MAX_DEPTH {
            return Err(MAX_DEPTH);
        }
        match value {
            StaticJson::Null => self.scalar_text("null", Style::Plain, context),
            StaticJson::Bool(b) => {
                self.scalar_text(if *b { "true" } else { "false" }, Style::Plain, context)
            }
            StaticJson::Number(n) => self.scalar_text(&number(n), Style::Plain, context),
            StaticJson::String(s) => self.string(s, context),
            StaticJson::Array(items) if items.is_empty() => self.empty_collection("[", "]"),
            StaticJson::Object(map) if map.is_empty() => self.empty_collection("{", "}"),
            StaticJson::Array(items) => {
                let indentless = context.is_mapping() && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, Context::SequenceItem, depth + 1)?;
                }
                self.pop_indent();
            }
            StaticJson::Object(map) => {
                self.increase_indent(false, false);
                for (key, item) in map {
                    self.write_indent();
                    if simple_key(key) {
                        self.string(key, Context::SimpleKey);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.string(key, Context::ComplexKey);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.node(item, Context::MappingValue, depth + 1)?;
                }
                self.pop_indent();
            }
        }
        Ok(())
    }

    /// The (implicit) end of the document. libyaml would close a stream whose last block
    /// scalar keeps its trailing breaks (`|+`) with `...`, but serde_norway never ended the
    /// stream, and the document reads the same without it.
    fn end(&mut self) {
        self.write_indent();
    }

    fn empty_collection(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    fn string(&mut self, s: &str, context: Context) {
        let requested = if s.contains('\n') {
            Style::Literal
        } else if plain_is_ambiguous(s) {
            Style::SingleQuoted
        } else {
            Style::Plain
        };
        self.scalar_text(s, requested, context);
    }

    fn scalar_text(&mut self, s: &str, requested: Style, context: Context) {
        let analysis = Analysis::of(s);
        let simple_key = context == Context::SimpleKey;
        let mut style = requested;
        if simple_key && analysis.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain && (!analysis.block_plain_allowed || (s.is_empty() && simple_key))
        {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!analysis.block_allowed || simple_key) {
            style = Style::DoubleQuoted;
        }
        self.increase_indent(true, false);
        match style {
            Style::Plain => self.write_plain(s),
            Style::SingleQuoted => self.write_single_quoted(s),
            Style::DoubleQuoted => self.write_double_quoted(s),
            Style::Literal => self.write_literal(s),
        }
        self.pop_indent();
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        self.indent = match self.indent {
            None => Some(if flow { INDENT } else { 0 }),
            Some(indent) if !indentless => Some(indent + INDENT),
            same => same,
        };
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().flatten();
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, s: &str) {
        if !self.whitespace && !s.is_empty() {
            self.put(' ');
        }
        for c in s.chars() {
            self.put(c);
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, s: &str) {
        self.write_indicator("'", true, false, false);
        let mut breaks = false;
        for c in s.chars() {
            if c == ' ' {
                self.put(c);
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
        if breaks {
            self.write_indent();
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, s: &str) {
        self.write_indicator("\"", true, false, false);
        for c in s.chars() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let escape = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{B}' => Some('v'),
                    '\u{C}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1B}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{A0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match escape {
                    Some(e) => self.put(e),
                    None => {
                        let code = u32::from(c);
                        let (prefix, width) = match code {
                            0..=0xFF => ('x', 2),
                            0x100..=0xFFFF => ('u', 4),
                            _ => ('U', 8),
                        };
                        self.put(prefix);
                        for c in format!("{code:0width$X}").chars() {
                            self.put(c);
                        }
                    }
                }
            } else {
                self.put(c);
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, s: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints: an indentation indicator when the text starts with a space or
        // a break, and the chomping indicator for the trailing breaks.
        if s.starts_with(|c: char| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        let mut tail = s.chars().rev();
        match (tail.next(), tail.next()) {
            (Some(last), _) if !is_break(last) => self.write_indicator("-", false, false, false),
            (Some(_), None) => {
                self.write_indicator("+", false, false, false);
            }
            (Some(_), Some(before)) if is_break(before) => {
                self.write_indicator("+", false, false, false);
            }
            (None, _) => self.write_indicator("-", false, false, false),
            _ => {}
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in s.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// A key libyaml writes as `key: value` (one line, at most 128 bytes); others are written
/// `? key` / `: value`.
fn simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.chars().any(is_break)
}

/// A number as serde_json holds it. Floats take ryu's shortest form (as serde_norway wrote
/// them), with `.0` and a signed exponent added where YAML 1.1 needs them (`1e20` is a string
/// there; `1.0e+20` is a float for every reader).
fn number(n: &Number) -> String {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        let text = ryu::Buffer::new().format_finite(f).to_owned();
        if let Some((mantissa, exponent)) = text.split_once('e') {
            let mantissa = if mantissa.contains('.') {
                mantissa.to_owned()
            } else {
                format!("{mantissa}.0")
            };
            let exponent = if exponent.starts_with('-') {
                exponent.to_owned()
            } else {
                format!("+{exponent}")
            };
            return format!("{mantissa}e{exponent}");
        }
        text
    } else {
        n.to_string()
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_end(c: Option<char>) -> bool {
    matches!(c, None | Some(' ' | '\t' | '\0')) || c.is_some_and(is_break)
}

/// libyaml's printable set: what may appear unescaped in a scalar.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{10000}'..)
        || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
}

/// What libyaml's `yaml_emitter_analyze_scalar` finds out about a scalar (block context).
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

impl Analysis {
    fn of(s: &str) -> Self {
        if s.is_empty() {
            return Self {
                multiline: false,
                block_plain_allowed: true,
                single_quoted_allowed: true,
                block_allowed: false,
            };
        }
        let mut block_indicators = s.starts_with("---") || s.starts_with("...");
        let mut line_breaks = false;
        let mut special_characters = false;
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let mut chars = s.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            let next = chars.peek().copied();
            let last = next.is_none();
            let followed_by_whitespace = is_blank_or_end(next);
            if first {
                if "#,[]{}&*!|>'\"%@`".contains(c) {
                    block_indicators = true;
                }
                if (c == '?' || c == ':' || c == '-') && followed_by_whitespace {
                    block_indicators = true;
                }
            } else {
                if c == ':' && followed_by_whitespace {
                    block_indicators = true;
                }
                if c == '#' && preceded_by_whitespace {
                    block_indicators = true;
                }
            }
            if !is_printable(c) {
                special_characters = true;
            }
            if is_break(c) {
                line_breaks = true;
            }
            if c == ' ' {
                leading_space |= first;
                trailing_space |= last;
                break_space |= previous_break;
                previous_space = true;
                previous_break = false;
            } else if is_break(c) {
                leading_break |= first;
                trailing_break |= last;
                space_break |= previous_space;
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blank_or_end(Some(c));
            first = false;
        }
        let edge = leading_space || leading_break || trailing_space || trailing_break;
        Self {
            multiline: line_breaks,
            block_plain_allowed: !(edge
                || break_space
                || space_break
                || special_characters
                || line_breaks
                || block_indicators),
            single_quoted_allowed: !(break_space || space_break || special_characters),
            block_allowed: !(trailing_space || space_break || special_characters),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn yaml(value: &Value) -> String {
        to_yaml("t", value).unwrap()
    }

    /// Strings some YAML 1.1 reader takes for another type (or an error).
    const YAML11_TYPED: &[&str] = include!("../tests/yaml11_typed.in");

    #[test]
    fn every_yaml11_typed_string_is_quoted_as_value_and_key() {
        for s in YAML11_TYPED {
            assert!(plain_is_ambiguous(s), "{s:?} is not recognized");
            let text = yaml(&json!({ *s: *s }));
            let quoted = format!("'{s}'");
            assert_eq!(text, format!("{quoted}: {quoted}\n"), "{s:?}");
        }
    }

    #[test]
    fn plain_strings_stay_plain() {
        for s in [
            "none",
            "nginx:1.27",
            "1.2.3-rc1",
            "v1",
            "a-b",
            "10.0.0.0/16",
            "1:60",
            "0x",
            "0b",
            "0b2",
            "2001-12-14x",
            "12:3a",
            "--appendonly",
            ".hidden",
            "-x",
            "1-2",
            "2001-13",
            "e3",
            "1e",
            "0o8",
            "_1",
            "yes!",
            "Off-peak",
            "<<<",
            "==",
            "1 000",
            "NaN",
            "inf",
        ] {
            assert!(!plain_is_ambiguous(s), "{s:?}");
            assert_eq!(yaml(&json!({ s: [s] })), format!("{s}:\n- {s}\n"), "{s:?}");
        }
    }

    #[test]
    fn layout_matches_the_previous_serde_norway_output() {
        let value = json!({
            "args": ["--appendonly", "no", "on", "yes"], "y": "n", "plain": "none",
            "nested": {"list": [{"a": 1, "b": [true, null]}, [], {}], "empty": {}},
            "text": "line one\nline two\n", "kept": "a\n\n", "lead": " x\ny", "tab": "a\tb",
            "quote": "it's", "colon": "a: b", "hash": "a #b", "float": 1.5, "neg": -3,
        });
        assert_eq!(
            yaml(&value),
            serde_norway_text(&value)
                .replace("y: n\n", "'y': 'n'\n")
                .replace("- no\n- on\n- yes\n", "- 'no'\n- 'on'\n- 'yes'\n")
        );
    }

    #[test]
    fn floats_with_an_exponent_read_as_floats_in_yaml_1_1() {
        assert_eq!(
            yaml(&json!([1e20, 1.5e-7, 2.5e300, 0.1, 1.0])),
            "- 1.0e+20\n- 1.5e-7\n- 2.5e+300\n- 0.1\n- 1.0\n"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut value = json!("leaf");
        for _ in 0..=MAX_DEPTH + 1 {
            value = json!([value]);
        }
        let err = to_yaml("values of x", &value).unwrap_err().to_string();
        assert!(
            err.contains("values of x") && err.contains("deeper than"),
            "{err}"
        );
    }

    fn serde_norway_text(value: &Value) -> String {
        serde_norway::to_string(value).unwrap()
    }

    /// Whether serde_norway (the old emitter) wrote `s` quoted or as a block: it quoted what
    /// its YAML 1.2 reader would not read back as the string.
    fn serde_norway_quoted(s: &str) -> bool {
        s.contains('\n')
            || serde_norway::from_str::<Value>(s).ok() != Some(Value::String(s.to_owned()))
    }

    /// `value` with every string that serde_norway wrote plain although some YAML 1.1 reader
    /// types it (the strings whose output this module changes) prefixed with `x`.
    fn without_new_quotes(value: Value) -> Value {
        let fix = |s: String| {
            if plain_is_ambiguous(&s) && !serde_norway_quoted(&s) {
                format!("x{s}")
            } else {
                s
            }
        };
        match value {
            Value::String(s) => Value::String(fix(s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(without_new_quotes).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (fix(k), without_new_quotes(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    fn any_string() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(YAML11_TYPED).prop_map(str::to_owned),
            "[-+.:_0-9a-fxob ]{0,8}",
            "[ -~]{0,12}",
            "[\\PC\\n\\t\\r\u{85}\u{2028}\u{FEFF}\u{0}' #:-]{0,10}",
            "[a-z]{120,140}",
        ]
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any_string().prop_map(Value::String),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            (-100_000_000i64..100_000_000).prop_map(|i| Value::from(i as f64 / 1000.0)),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((any_string(), inner), 0..5)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// The strings of `value` that the emitter writes as plain scalars.
    fn plain_scalars(value: &Value, out: &mut Vec<String>) {
        let plain = |s: &str| {
            !s.contains('\n')
                && !plain_is_ambiguous(s)
                && Analysis::of(s).block_plain_allowed
                && !s.is_empty()
        };
        match value {
            Value::String(s) if plain(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| plain_scalars(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                if plain(k) && simple_key(k) {
                    out.push(k.clone());
                }
                plain_scalars(v, out)
            }),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn output_is_byte_identical_to_serde_norway_except_for_new_quotes(value in any_value()) {
            let value = without_new_quotes(value);
            prop_assert_eq!(yaml(&value), serde_norway_text(&value));
        }

        #[test]
        fn yaml_1_2_reads_the_value_back(value in any_value()) {
            let text = yaml(&value);
            let back: Value = serde_norway::from_str(&text).unwrap();
            prop_assert_eq!(back, value, "{}", text);
        }

        #[test]
        fn no_plain_scalar_has_a_yaml_1_1_type(value in any_value()) {
            let mut plains = Vec::new();
            plain_scalars(&value, &mut plains);
            for s in plains {
                prop_assert!(!yaml11_resolver::typed(&s), "{:?} written plain", s);
            }
        }
    }

    /// An independent YAML 1.1 resolver, written from PyYAML's `resolver.py` (first
    /// character table, then its regular expressions) and go-yaml v2's `resolve.go`, to
    /// check the emitter against (the production check is [`plain_is_ambiguous`]).
    mod yaml11_resolver {
        use regex::Regex;

        pub(super) fn typed(s: &str) -> bool {
            pyyaml(s) || go_yaml_v2(s)
        }

        fn pyyaml(s: &str) -> bool {
            let first = s.chars().next();
            let rules: &[(&str, &str)] = &[
                (
                    "yYnNtTfFoO",
                    r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
                ),
                (
                    "-+0123456789.",
                    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
                ),
                (
                    "-+0123456789",
                    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
                ),
                ("<", r"^(?:<<)$"),
                ("~nN", r"^(?:~|null|Null|NULL)$"),
                (
                    "0123456789",
                    r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
                ),
                ("=", r"^(?:=)$"),
            ];
            let Some(first) = first else { return true };
            rules.iter().any(|(starts, pattern)| {
                starts.contains(first) && Regex::new(pattern).unwrap().is_match(s)
            })
        }

        fn go_yaml_v2(s: &str) -> bool {
            const MAP: &[&str] = &[
                "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N",
                "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null",
                "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
                "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
            ];
            if MAP.contains(&s) {
                return true;
            }
            let plain = s.replace('_', "");
            match s.chars().next() {
                Some('.') => {
                    s.parse::<f64>().is_ok_and(f64::is_finite) && !s.contains(['i', 'I', 'n', 'N'])
                }
                Some('-' | '+' | '0'..='9') => {
                    let (sign, rest) = plain.split_at(usize::from(plain.starts_with(['-', '+'])));
                    let int = |digits: &str, radix| {
                        !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
                    };
                    let _ = sign;
                    let parsed = if let Some(h) =
                        rest.strip_prefix("0x").or(rest.strip_prefix("0X"))
                    {
                        int(h, 16)
                    } else if let Some(o) = rest.strip_prefix("0o").or(rest.strip_prefix("0O")) {
                        int(o, 8)
                    } else if let Some(b) = rest.strip_prefix("0b").or(rest.strip_prefix("0B")) {
                        int(b, 2)
                    } else if rest.len() > 1 && rest.starts_with('0') {
                        int(&rest[1..], 8)
                    } else {
                        int(rest, 10)
                    };
                    let float =
                        Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
                            .unwrap()
                            .is_match(&plain);
                    let date = Regex::new(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$").unwrap().is_match(s);
                    parsed || float || date
                }
                _ => false,
            }
        }
    }
}
