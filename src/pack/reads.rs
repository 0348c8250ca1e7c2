//! What a policy reads of its principal, found in its Cedar text.
//!
//! The engine evaluates each distinct *projection* of a record (the values of the attributes
//! that the policies for its kind read) once and reuses the decision for every record with the
//! same projection. That is exact only if the read set is complete, so the scan is
//! conservative: every use of `principal` in a condition must be `principal.attr` or
//! `principal has attr` (for `facts` and `extra`, one level deeper); anything else (the
//! principal as a value, indexing, a quoted attribute name) makes the policy read everything,
//! which switches the projection cache off for its kind.

use std::collections::BTreeSet;

/// The attributes a policy reads of its principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// It may read anything: no projection.
    All,
    /// It reads these paths: `state`, `last_login_days`, `facts.generic_name`, or `facts` for
    /// the whole record of facts.
    Paths(BTreeSet<String>),
}

impl Reads {
    /// Adds what `other` reads.
    pub fn union(&mut self, other: &Reads) {
        match (&mut *self, other) {
            (Reads::All, _) => {}
            (_, Reads::All) => *self = Reads::All,
            (Reads::Paths(a), Reads::Paths(b)) => a.extend(b.iter().cloned()),
        }
    }
}

/// Attributes that are records: a read of `principal.facts.x` reads only `x`.
const NESTED: &[&str] = &["facts", "extra"];

/// `text` with string literals emptied and comments removed (so that `principal` in a message
/// or comment is not a use).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            '/' if chars.peek() == Some(&'/') => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier at the start of `s` (after whitespace), and the rest.
fn ident(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    let end = s.find(|c: char| !is_ident_char(c)).unwrap_or(s.len());
    (end > 0 && !s.starts_with(|c: char| c.is_ascii_digit())).then(|| {
        (
            s.get(..end).unwrap_or_default(),
            s.get(end..).unwrap_or_default(),
        )
    })
}

/// `name` or `name.sub` after `principal.` or `principal has `.
fn path(rest: &str) -> Option<String> {
    let (name, after) = ident(rest)?;
    if NESTED.contains(&name) {
        let after = after.trim_start();
        if let Some(sub) = after.strip_prefix('.')
            && let Some((field, _)) = ident(sub)
        {
            return Some(format!("{name}.{field}"));
        }
        return Some(name.to_owned());
    }
    Some(name.to_owned())
}

/// What one policy (its Cedar text, as `Policy::to_string` prints it) reads of `principal`.
pub fn reads(policy_text: &str) -> Reads {
    let code = code_only(policy_text);
    // The scope `forbid (principal …, action …, resource)` constrains by type only.
    let body_start = code
        .find("when")
        .into_iter()
        .chain(code.find("unless"))
        .min()
        .unwrap_or(code.len());
    let mut paths = BTreeSet::new();
    let body = code.get(body_start..).unwrap_or_default();
    let mut at = 0;
    while let Some(i) = body.get(at..).and_then(|s| s.find("principal")) {
        let start = at + i;
        let end = start + "principal".len();
        at = end;
        let before = body.get(..start).and_then(|s| s.chars().next_back());
        let after = body.get(end..).unwrap_or_default();
        if before.is_some_and(is_ident_char) || after.starts_with(is_ident_char) {
            continue; // part of another identifier
        }
        let rest = after.trim_start();
        let found = if let Some(r) = rest.strip_prefix('.') {
            path(r)
        } else if let Some(r) = rest.strip_prefix("has")
            && r.starts_with(char::is_whitespace)
        {
            path(r)
        } else {
            None
        };
        match found {
            Some(p) => {
                paths.insert(p);
            }
            None => return Reads::All,
        }
    }
    Reads::Paths(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        match reads(text) {
            Reads::Paths(p) => p.into_iter().collect(),
            Reads::All => vec!["<all>".into()],
        }
    }

    #[test]
    fn attributes_facts_and_has() {
        let p = r#"@message("principal `{username}`") // principal in a comment
forbid (principal is Account, action == Action::"check", resource)
when { principal has last_login_days && principal.last_login_days > 30
  && principal.facts.generic_name && principal has facts.duplicate_person
  && principal.roles.contains("teacher") };"#;
        assert_eq!(
            paths(p),
            vec![
                "facts.duplicate_person",
                "facts.generic_name",
                "last_login_days",
                "roles"
            ]
        );
    }

    #[test]
    fn other_uses_read_everything() {
        for cond in [
            "principal == Account::\"x\"",
            "principal in [Account::\"x\"]",
            "principal[\"state\"] == \"x\"",
            "principal has \"state\"",
            "f(principal)",
        ] {
            let text = format!("forbid (principal, action, resource) when {{ {cond} }};");
            assert_eq!(reads(&text), Reads::All, "{cond}");
        }
        // The whole facts record.
        let text = "forbid (principal, action, resource) when { principal.facts == {} };";
        assert_eq!(paths(text), vec!["facts"]);
        // No condition reads nothing.
        assert_eq!(
            paths("forbid (principal is Account, action, resource);"),
            Vec::<String>::new()
        );
        // A longer identifier is not `principal`.
        let text = "forbid (principal, action, resource) when { context.principals.contains(1) };";
        assert_eq!(paths(text), Vec::<String>::new());
    }
}
