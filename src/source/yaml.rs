//! A span-aware YAML/JSON tree.
//!
//! serde_yaml is archived and gives no value spans; serde-saphyr gives byte spans of every
//! node through `Spanned<T>` (see docs/design-notes.md). We deserialize any YAML or JSON
//! document (JSON is YAML 1.2) into a small generic [`Node`] tree whose every key and value
//! carries its [`Span`], so readers can point a diagnostic at `recording: true` exactly.
//! Configuration types are then built from the tree by hand, which also lets konform report
//! every problem of a file at once instead of stopping at the first.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use crate::source::Span;

/// Limits against hostile documents (alias bombs, deep nesting, huge files).
#[derive(Debug, Clone, Copy)]
pub struct YamlLimits {
    /// Maximum parser events (roughly: nodes).
    pub max_events: usize,
    /// Maximum nesting depth.
    pub max_depth: usize,
}

impl Default for YamlLimits {
    fn default() -> Self {
        Self {
            max_events: 50_000_000,
            max_depth: 64,
        }
    }
}

/// A scalar or collection value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A YAML node with the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where it stands (for collections: where they start; may be empty).
    pub span: Span,
}

impl Node {
    /// The scalar as text (`None` for null and collections).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            NodeValue::Str(s) => Some(s.clone()),
            NodeValue::Bool(b) => Some(b.to_string()),
            NodeValue::Int(n) => Some(n.to_string()),
            NodeValue::Float(x) => Some(x.to_string()),
            NodeValue::Null | NodeValue::Seq(_) | NodeValue::Map(_) => None,
        }
    }

    /// The string, if this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of key `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// The span of a mapping entry from its key to the end of its value (for labels like
    /// `recording: true`).
    pub fn entry_span(key: &Node, value: &Node) -> Span {
        if value.span.len == 0 || value.span.offset < key.span.offset {
            return key.span;
        }
        Span::from_range(key.span.offset, value.span.end())
    }
}

fn span_of(loc: &Location) -> Span {
    let s = loc.span();
    match (s.byte_offset(), s.byte_len()) {
        (Some(o), Some(l)) => Span::new(
            usize::try_from(o).unwrap_or(usize::MAX),
            usize::try_from(l).unwrap_or(0),
        ),
        _ => Span::default(),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Inner>::deserialize(d)?;
        Ok(Node {
            span: span_of(&spanned.referenced),
            value: spanned.value.0,
        })
    }
}

/// The value part of a node; deserialized through `Spanned` to pick up the location.
struct Inner(NodeValue);

impl<'de> Deserialize<'de> for Inner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(InnerVisitor)
    }
}

struct InnerVisitor;

impl<'de> Visitor<'de> for InnerVisitor {
    type Value = Inner;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Inner, D::Error> {
        Inner::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Inner, E> {
        Ok(Inner(match i64::try_from(v) {
            Ok(n) => NodeValue::Int(n),
            Err(_) => NodeValue::Str(v.to_string()),
        }))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Inner, E> {
        Ok(Inner(match i64::try_from(v) {
            Ok(n) => NodeValue::Int(n),
            Err(_) => NodeValue::Str(v.to_string()),
        }))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Inner, E> {
        Ok(Inner(match i64::try_from(v) {
            Ok(n) => NodeValue::Int(n),
            Err(_) => NodeValue::Str(v.to_string()),
        }))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Str(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Str(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Inner, E> {
        Ok(Inner(NodeValue::Str(
            String::from_utf8_lossy(v).into_owned(),
        )))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Inner, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Inner(NodeValue::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Inner, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Node>()? {
            let v = map.next_value::<Node>()?;
            entries.push((k, v));
        }
        Ok(Inner(NodeValue::Map(entries)))
    }
}

/// A YAML/JSON syntax error with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser said, without location decoration.
    pub message: String,
    /// Where, if known.
    pub span: Option<Span>,
}

/// Parses YAML (or JSON) text into a node tree. An empty document is `Null`.
pub fn parse(text: &str, limits: YamlLimits) -> Result<Node, SyntaxError> {
    if text.trim().is_empty() {
        return Ok(Node {
            value: NodeValue::Null,
            span: Span::default(),
        });
    }
    if let Some(span) = too_deep(text, limits.max_depth) {
        return Err(SyntaxError {
            message: format!(
                "the document is nested deeper than {} levels",
                limits.max_depth
            ),
            span: Some(span),
        });
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = limits.max_events;
    budget.max_nodes = limits.max_events;
    budget.max_depth = limits.max_depth + 2;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    // Account lists need no aliases; a few are fine, an expansion bomb is not.
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_replay_stack_depth = 16;
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| {
        let span = e.location().map(|l| {
            let s = span_of(&l);
            if s.offset > 0 || s.len > 0 {
                s
            } else {
                Span::new(offset_of_line_col(text, l.line(), l.column()), 1)
            }
        });
        SyntaxError {
            message: clean_message(&e.to_string()),
            // The parser's place may fall inside a multi-byte character.
            span: span.map(|s| s.snapped(text)),
        }
    })
}

/// The byte offset of a 1-based line and character column.
fn offset_of_line_col(text: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if (i as u64) + 1 == line {
            let col = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
            return offset + l.char_indices().nth(col).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

/// serde-saphyr's messages end with a location ("at line 3, column 5"); konform shows the
/// location as a label instead.
fn clean_message(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg).trim();
    let cut = first
        .find(" at line ")
        .map_or(first, |i| first.get(..i).unwrap_or(first));
    cut.trim_end_matches(['.', ':']).to_owned()
}

/// A cheap pre-check for nesting depth of flow collections and indentation, so a hostile
/// `[[[[…` never reaches a recursive parser.
fn too_deep(text: &str, max: usize) -> Option<Span> {
    let mut depth = 0usize;
    let mut in_str: Option<u8> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (in_str, b) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => in_str = None,
            (Some(_), _) => {}
            (None, b'"') => in_str = Some(b'"'),
            (None, b'\'')
                if i > 0 && matches!(bytes.get(i - 1), Some(b' ' | b'[' | b'{' | b',' | b':')) =>
            {
                in_str = Some(b'\'')
            }
            (None, b'#') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > max {
                    return Some(Span::new(i, 1));
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        match parse(text, YamlLimits::default()) {
            Ok(n) => n,
            Err(e) => panic!("parse failed: {e:?}"),
        }
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "# Konfiguration für Videokonferenzen\nplatform: iserv\nmodules:\n  videoconference:\n    recording: true\n";
        let root = parse_ok(text);
        let vc = root.get("modules").and_then(|m| m.get("videoconference"));
        let (k, v) = vc.and_then(|n| n.entry("recording")).unzip();
        let (k, v) = (k.map(|n| n.span), v.map(|n| n.span));
        assert_eq!(k.map(|s| &text[s.offset..s.end()]), Some("recording"));
        assert_eq!(v.map(|s| &text[s.offset..s.end()]), Some("true"));
        assert_eq!(
            vc.and_then(|n| n.get("recording")).map(|n| &n.value),
            Some(&NodeValue::Bool(true))
        );
    }

    #[test]
    fn json_parses_with_spans() {
        let text = "{\"accounts\": [{\"username\": \"lehrer1\", \"enabled\": true}]}";
        let root = parse_ok(text);
        let user = root
            .get("accounts")
            .and_then(Node::as_seq)
            .and_then(|s| s.first())
            .and_then(|a| a.get("username"));
        let s = user.map(|u| u.span);
        assert_eq!(s.map(|s| &text[s.offset..s.end()]), Some("\"lehrer1\""));
    }

    #[test]
    fn leading_zeros_and_yes_stay_strings() {
        let root = parse_ok("a: 0123\nb: yes\nc: 12\n");
        assert_eq!(
            root.get("a").map(|n| &n.value),
            Some(&NodeValue::Str("0123".into()))
        );
        assert_eq!(
            root.get("b").map(|n| &n.value),
            Some(&NodeValue::Str("yes".into()))
        );
        assert_eq!(root.get("c").map(|n| &n.value), Some(&NodeValue::Int(12)));
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let e = parse("a: [1, 2\nb: c\n", YamlLimits::default());
        let e = e.err();
        assert!(e.as_ref().is_some_and(|e| e.span.is_some()), "{e:?}");
        assert!(e.is_some_and(|e| !e.message.contains("line")));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        assert!(parse("a: 1\na: 2\n", YamlLimits::default()).is_err());
    }

    #[test]
    fn deep_nesting_is_rejected_early() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let e = parse(&text, YamlLimits::default()).err();
        assert!(e.is_some_and(|e| e.message.contains("nested deeper")));
    }

    #[test]
    fn alias_bombs_are_rejected() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&text, YamlLimits::default()).is_err());
    }
}
