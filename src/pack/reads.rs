//! What a policy reads of its principal, found in its Cedar text.
//!
//! The engine evaluates each distinct *projection* of a record (the values of the attributes
//! that the policies for its kind read) once and reuses the decision for every record with the
//! same projection. That is exact only if the read set is complete, so the scan is
//! conservative: every use of `principal` in a condition must be `principal.attr` or
//! `principal has attr` (for `facts` and `extra`, one level deeper); anything else (the
//! principal as a value, indexing, a quoted attribute name) makes the policy read everything,
//! which switches the projection cache off for its kind.

use std::collections::{BTreeMap, BTreeSet};

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

/// How the policies use one attribute of their principal, for the projection key: what of its
/// value decides their outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Use {
    /// Only whether the record has it (`principal has attr`).
    Presence,
    /// Whether it has it, and how it compares with these constants: every use is
    /// `principal has attr` or `principal.attr` compared (`<`, `<=`, `>`, `>=`, `==`, `!=`)
    /// with a [`Cut`]. Two values that fall on the same side of (or on) each constant give
    /// every policy the same outcome.
    Cuts(BTreeSet<Cut>),
    /// Its value, whole.
    Value,
}

/// A constant the policies compare an attribute with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cut {
    /// A number literal or a number parameter (`context.params.pack.name`).
    Number(i64),
    /// The day checked (`context.now`).
    Now,
    /// The start of its school year (`context.school_year_start`).
    SchoolYearStart,
}

impl Use {
    /// What both uses need.
    fn union(&mut self, other: Use) {
        *self = match (std::mem::replace(self, Use::Value), other) {
            (Use::Value, _) | (_, Use::Value) => Use::Value,
            (Use::Presence, Use::Presence) => Use::Presence,
            (Use::Cuts(mut a), Use::Cuts(b)) => {
                a.extend(b);
                Use::Cuts(a)
            }
            (Use::Cuts(a), Use::Presence) | (Use::Presence, Use::Cuts(a)) => Use::Cuts(a),
        };
    }
}

/// The uses of a kind's attributes by all of its policies, merged: an attribute some policy
/// reads whole is read whole.
pub fn merge_uses(into: &mut BTreeMap<String, Use>, uses: BTreeMap<String, Use>) {
    for (name, u) in uses {
        add_use(into, name, u);
    }
}

/// Adds one use of `name` to `into`.
fn add_use(into: &mut BTreeMap<String, Use>, name: String, u: Use) {
    match into.get_mut(&name) {
        Some(known) => known.union(u),
        None => {
            into.insert(name, u);
        }
    }
}

/// How one policy (its JSON form, Cedar's EST) uses each top-level attribute of its principal
/// (see [`Use`]); `params` are the values of `context.params`. Attributes the policy does not
/// mention are absent. Conservative: a use the walk does not recognise (arithmetic, a method
/// call, a comparison with anything but a number constant) reads the value whole.
pub fn uses(
    est: &serde_json::Value,
    params: &BTreeMap<String, BTreeMap<String, super::manifest::ParamValue>>,
) -> BTreeMap<String, Use> {
    let mut out = BTreeMap::new();
    if let Some(conditions) = est.get("conditions") {
        walk(conditions, params, &mut out);
    }
    out
}

/// The attribute `e` reads of the principal when it is `principal.attr`.
fn principal_attr(e: &serde_json::Value) -> Option<&str> {
    let dot = e.get(".")?;
    (dot.get("left")?.get("Var")?.as_str()? == "principal")
        .then(|| dot.get("attr")?.as_str())
        .flatten()
}

/// The constant `e` stands for whatever the record: a number literal, a negated one, a number
/// parameter, or one of the context's dates.
fn constant(
    e: &serde_json::Value,
    params: &BTreeMap<String, BTreeMap<String, super::manifest::ParamValue>>,
) -> Option<Cut> {
    if let Some(v) = e.get("Value") {
        return v.as_i64().map(Cut::Number);
    }
    if let Some(neg) = e.get("neg") {
        return match constant(neg.get("arg")?, params)? {
            Cut::Number(n) => n.checked_neg().map(Cut::Number),
            _ => None,
        };
    }
    let dot = e.get(".")?;
    let name = dot.get("attr")?.as_str()?;
    // context.now, context.school_year_start
    if dot.get("left")?.get("Var").and_then(|v| v.as_str()) == Some("context") {
        return match name {
            "now" => Some(Cut::Now),
            "school_year_start" => Some(Cut::SchoolYearStart),
            _ => None,
        };
    }
    // context.params.<pack>.<name>
    let pack_dot = dot.get("left")?.get(".")?;
    let pack = pack_dot.get("attr")?.as_str()?;
    let params_dot = pack_dot.get("left")?.get(".")?;
    let is_params = params_dot.get("attr")?.as_str()? == "params"
        && params_dot.get("left")?.get("Var")?.as_str()? == "context";
    match params.get(pack)?.get(name)? {
        super::manifest::ParamValue::Long(n) if is_params => Some(Cut::Number(*n)),
        _ => None,
    }
}

const COMPARISONS: &[&str] = &["<", "<=", ">", ">=", "==", "!="];

fn walk(
    e: &serde_json::Value,
    params: &BTreeMap<String, BTreeMap<String, super::manifest::ParamValue>>,
    out: &mut BTreeMap<String, Use>,
) {
    match e {
        serde_json::Value::Array(items) => {
            for item in items {
                walk(item, params, out);
            }
        }
        serde_json::Value::Object(map) => {
            if let Some(name) = principal_attr(e) {
                add_use(out, name.to_owned(), Use::Value);
                return;
            }
            if let Some(has) = map.get("has")
                && has
                    .get("left")
                    .and_then(|l| l.get("Var"))
                    .and_then(|v| v.as_str())
                    == Some("principal")
                && let Some(name) = has.get("attr").and_then(|a| a.as_str())
            {
                add_use(out, name.to_owned(), Use::Presence);
                return;
            }
            if map.len() == 1
                && let Some((op, args)) = map.iter().next()
                && COMPARISONS.contains(&op.as_str())
                && let (Some(left), Some(right)) = (args.get("left"), args.get("right"))
            {
                let sides = [(left, right), (right, left)];
                if let Some((name, c)) = sides.iter().find_map(|(attr, other)| {
                    Some((principal_attr(attr)?, constant(other, params)?))
                }) {
                    add_use(out, name.to_owned(), Use::Cuts(BTreeSet::from([c])));
                    return;
                }
            }
            for v in map.values() {
                walk(v, params, out);
            }
        }
        _ => {}
    }
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

    fn uses_of(cond: &str) -> BTreeMap<String, Use> {
        use std::str::FromStr;
        let text = format!("forbid (principal, action, resource) when {{ {cond} }};");
        let policy = cedar_policy::Policy::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let est = policy.to_json().unwrap_or_else(|e| panic!("{e}"));
        let params = BTreeMap::from([(
            "common".to_owned(),
            BTreeMap::from([
                (
                    "inactive_days".to_owned(),
                    super::super::manifest::ParamValue::Long(365),
                ),
                (
                    "pattern".to_owned(),
                    super::super::manifest::ParamValue::Str("x".into()),
                ),
            ]),
        )]);
        uses(&est, &params)
    }

    fn cuts(values: &[i64]) -> Use {
        Use::Cuts(values.iter().copied().map(Cut::Number).collect())
    }

    #[test]
    fn comparisons_with_number_constants_are_cuts() {
        let u = uses_of(
            "principal has last_login_days && principal.last_login_days > context.params.common.inactive_days \
             && !(principal has last_login) && principal.created_days >= 30 && 5 < principal.created_days \
             && principal.age != -3 && (if principal.valid_until_days == 0 then true else false)",
        );
        assert_eq!(u.get("last_login_days"), Some(&cuts(&[365])));
        assert_eq!(u.get("last_login"), Some(&Use::Presence));
        assert_eq!(u.get("created_days"), Some(&cuts(&[5, 30])));
        assert_eq!(u.get("age"), Some(&cuts(&[-3])));
        assert_eq!(u.get("valid_until_days"), Some(&cuts(&[0])));
        assert_eq!(u.len(), 5, "{u:?}");
        let u = uses_of(
            "principal.valid_from < context.school_year_start && context.now >= principal.valid_until",
        );
        assert_eq!(
            u.get("valid_from"),
            Some(&Use::Cuts(BTreeSet::from([Cut::SchoolYearStart])))
        );
        assert_eq!(
            u.get("valid_until"),
            Some(&Use::Cuts(BTreeSet::from([Cut::Now])))
        );
    }

    #[test]
    fn every_other_use_reads_the_value() {
        for cond in [
            "principal.x + 1 > 5",
            "principal.x > principal.y",
            "principal.x == \"a\"",
            "[1, 2].contains(principal.x)",
            "principal.x > context.params.common.pattern",
            "principal.x > context.params.common.missing",
            "principal.x > context.params.other.inactive_days",
            "principal.x > context.limit",
            "principal.x > context.params",
            "principal.x > -context.now",
            "principal.x",
            "principal.x > 3 && principal.x < principal.z",
            "principal has x && principal.x like \"a*\"",
        ] {
            assert_eq!(uses_of(cond).get("x"), Some(&Use::Value), "{cond}");
        }
    }

    #[test]
    fn uses_merge_to_what_both_need() {
        let mut all = BTreeMap::from([
            ("a".to_owned(), Use::Presence),
            ("b".to_owned(), cuts(&[1])),
            ("c".to_owned(), cuts(&[1])),
            ("d".to_owned(), Use::Presence),
        ]);
        merge_uses(
            &mut all,
            BTreeMap::from([
                ("a".to_owned(), cuts(&[2])),
                ("b".to_owned(), cuts(&[3])),
                ("c".to_owned(), Use::Value),
                ("d".to_owned(), Use::Presence),
                ("e".to_owned(), Use::Presence),
            ]),
        );
        assert_eq!(
            all,
            BTreeMap::from([
                ("a".to_owned(), cuts(&[2])),
                ("b".to_owned(), cuts(&[1, 3])),
                ("c".to_owned(), Use::Value),
                ("d".to_owned(), Use::Presence),
                ("e".to_owned(), Use::Presence),
            ])
        );
    }
}
