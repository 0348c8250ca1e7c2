//! Typed access to the fields of a YAML mapping, collecting every problem with its span.
//!
//! Used by konform.yaml and pack.yaml: parse into a [`Node`] tree, then validate the whole
//! document, reporting all problems at once (unknown keys with "did you mean", wrong types,
//! missing fields) instead of stopping at the first.

use crate::problem::Problem;
use crate::source::yaml::{Node, NodeValue};
use crate::source::{FileId, Span};

/// Reads the fields of one mapping node.
pub struct Fields<'a> {
    file: FileId,
    node: &'a Node,
    /// What the mapping is, for messages (`konform.yaml`, `parameter \`x\``).
    what: String,
    code: &'static str,
    problems: &'a mut Vec<Problem>,
}

impl<'a> Fields<'a> {
    /// Starts reading `node`, which must be a mapping (else a problem is recorded and every
    /// field reads as absent). `code` prefixes problem codes (`config`, `pack`).
    pub fn new(
        file: FileId,
        node: &'a Node,
        what: impl Into<String>,
        code: &'static str,
        problems: &'a mut Vec<Problem>,
    ) -> Self {
        let what = what.into();
        if node.as_map().is_none() && !matches!(node.value, NodeValue::Null) {
            problems.push(
                Problem::error(
                    &format!("{code}::wrong-type"),
                    format!("{what} must be a mapping"),
                )
                .at(file, node.span, format!("found {}", node.type_name())),
            );
        }
        Self {
            file,
            node,
            what,
            code,
            problems,
        }
    }

    /// The file being read.
    pub fn file(&self) -> FileId {
        self.file
    }

    /// The problem list, for nested readers.
    pub fn problems_ref(&mut self) -> &mut Vec<Problem> {
        self.problems
    }

    /// Records a problem.
    pub fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// Reports every key not in `known`, with a suggestion when one is close.
    pub fn deny_unknown(&mut self, known: &[&str]) {
        let Some(entries) = self.node.as_map() else {
            return;
        };
        for (k, _) in entries {
            let Some(name) = k.scalar_text() else {
                continue;
            };
            if known.contains(&name.as_str()) {
                continue;
            }
            let best = known
                .iter()
                .map(|c| (strsim::jaro_winkler(&name, c), *c))
                .filter(|(s, _)| *s > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let mut p = Problem::error(
                &format!("{}::unknown-key", self.code),
                format!("unknown key `{name}` in {}", self.what),
            )
            .at(self.file, k.span, "not a known key");
            p = match best {
                Some((_, s)) => p.with_help(format!(
                    "did you mean `{s}`? known keys: {}",
                    known.join(", ")
                )),
                None => p.with_help(format!("known keys: {}", known.join(", "))),
            };
            self.problems.push(p);
        }
    }

    /// The key and value nodes of `key`.
    pub fn entry(&self, key: &str) -> Option<(&'a Node, &'a Node)> {
        self.node.entry(key)
    }

    /// The value node of `key` (absent when null).
    pub fn node(&self, key: &str) -> Option<&'a Node> {
        self.node
            .get(key)
            .filter(|n| !matches!(n.value, NodeValue::Null))
    }

    fn wrong_type(&mut self, key: &str, node: &Node, expected: &str) {
        self.problems.push(
            Problem::error(
                &format!("{}::wrong-type", self.code),
                format!("`{key}` in {} must be {expected}", self.what),
            )
            .at(self.file, node.span, format!("found {}", node.type_name())),
        );
    }

    /// A required field is missing.
    pub fn missing(&mut self, key: &str, help: &str) {
        let span = self.node.span;
        self.problems.push(
            Problem::error(
                &format!("{}::missing-key", self.code),
                format!("{} has no `{key}`", self.what),
            )
            .at(self.file, span, format!("`{key}` is missing here"))
            .with_help(help.to_owned()),
        );
    }

    /// A scalar as text, with its span.
    pub fn string(&mut self, key: &str) -> Option<(String, Span)> {
        let node = self.node(key)?;
        match node.scalar_text() {
            Some(s) if !matches!(node.value, NodeValue::Bool(_)) => Some((s, node.span)),
            _ => {
                self.wrong_type(key, node, "a string");
                None
            }
        }
    }

    /// A string field parsed by `parse`; an unparsable value is an error labelled with `what`
    /// (`unknown severity`) and `help`. `None` when absent or invalid.
    pub fn parsed<T>(
        &mut self,
        key: &str,
        what: &str,
        help: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let (text, span) = self.string(key)?;
        let value = parse(&text);
        if value.is_none() {
            self.problems.push(
                Problem::error(
                    &format!("{}::bad-value", self.code),
                    format!("{what} `{text}` for `{key}` in {}", self.what),
                )
                .at(self.file, span, what.to_owned())
                .with_help(help.to_owned()),
            );
        }
        value
    }

    /// A boolean.
    pub fn bool(&mut self, key: &str) -> Option<(bool, Span)> {
        let node = self.node(key)?;
        match node.value {
            NodeValue::Bool(b) => Some((b, node.span)),
            _ => {
                self.wrong_type(key, node, "true or false");
                None
            }
        }
    }

    /// A list of scalars as texts (a single scalar counts as a list of one).
    pub fn strings(&mut self, key: &str) -> Option<Vec<(String, Span)>> {
        let node = self.node(key)?;
        match &node.value {
            NodeValue::Seq(items) => {
                let mut out = Vec::new();
                for i in items {
                    match i.scalar_text() {
                        Some(s) => out.push((s, i.span)),
                        None => self.wrong_type(key, i, "a list of strings"),
                    }
                }
                Some(out)
            }
            _ => match node.scalar_text() {
                Some(s) => Some(vec![(s, node.span)]),
                None => {
                    self.wrong_type(key, node, "a list of strings");
                    None
                }
            },
        }
    }

    /// The entries of a mapping-valued field.
    pub fn map(&mut self, key: &str) -> Option<&'a [(Node, Node)]> {
        let node = self.node(key)?;
        match node.as_map() {
            Some(m) => Some(m),
            None => {
                self.wrong_type(key, node, "a mapping");
                None
            }
        }
    }

    /// The items of a list-valued field.
    pub fn seq(&mut self, key: &str) -> Option<&'a [Node]> {
        let node = self.node(key)?;
        match node.as_seq() {
            Some(s) => Some(s),
            None => {
                self.wrong_type(key, node, "a list");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::yaml::{YamlLimits, parse};

    #[test]
    fn unknown_keys_and_wrong_types_are_all_reported() {
        let root = match parse(
            "packs: common\nschol: {}\ntoday: [1]\n",
            YamlLimits::default(),
        ) {
            Ok(r) => r,
            Err(e) => panic!("{e:?}"),
        };
        let mut problems = Vec::new();
        let mut f = Fields::new(FileId(0), &root, "konform.yaml", "config", &mut problems);
        f.deny_unknown(&["packs", "school", "today"]);
        assert_eq!(f.strings("packs").map(|v| v.len()), Some(1));
        assert!(f.string("today").is_none());
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("did you mean `school`"))
        );
        assert!(problems[1].message.contains("must be a string"));
    }
}
