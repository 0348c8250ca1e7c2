//! Records from YAML and JSON documents: account lists, consent registers, platform configs.
//!
//! Accepted shapes:
//! - accounts: a list of mappings, or `{accounts: [...]}` (also `users:`);
//! - consents: a list of mappings with `purpose`, or `{consents: [...]}`;
//! - a platform config: `{platform: iserv, modules: {videoconference: {recording: false, …}}}`,
//!   or one module as `{platform: iserv, module: videoconference, recording: false, …}`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::problem::Problem;
use crate::record::{Attr, Record, RecordKind, Value};
use crate::source::columns::{self, AttrType, Canonical};
use crate::source::csv::{ReadResult, known_names, record_key, required};
use crate::source::value::{parse_cell, parse_set};
use crate::source::yaml::{Node, NodeValue};
use crate::source::{FileId, Span};

/// The list keys under which a document may hold its records.
pub fn list_keys(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Account => &["accounts", "users", "konten", "benutzer"],
        RecordKind::Consent => &["consents", "einwilligungen"],
        RecordKind::Person => &["people", "persons", "personen"],
        RecordKind::System => &["systems", "inventory", "systeme", "verfahren"],
        RecordKind::Service => &["modules"],
    }
}

/// Reads records of `kind` from a parsed document.
pub fn read(
    file: FileId,
    root: &Node,
    kind: RecordKind,
    mapping: &BTreeMap<String, String>,
) -> ReadResult {
    let mut out = ReadResult::default();
    if matches!(root.value, NodeValue::Null) {
        out.problems.push(
            Problem::error("input::empty", "the file is empty")
                .in_file(file)
                .with_help("an empty input is never treated as a clean result"),
        );
        return out;
    }
    if kind == RecordKind::Service {
        read_service(file, root, mapping, &mut out);
    } else {
        let items = match &root.value {
            NodeValue::Seq(items) => Some((items.as_slice(), root.span)),
            NodeValue::Map(_) => list_keys(kind)
                .iter()
                .find_map(|k| root.entry(k))
                .and_then(|(k, v)| v.as_seq().map(|s| (s, k.span))),
            _ => None,
        };
        let Some((items, list_span)) = items else {
            out.problems.push(
                Problem::error(
                    "input::unexpected-shape",
                    format!("expected a list of {}", kind.name()),
                )
                .at(file, root.span, format!("found {}", root.type_name()))
                .with_help(format!(
                    "write the {} as a list of mappings, or under the key `{}:`",
                    kind.name(),
                    list_keys(kind).first().copied().unwrap_or("items")
                )),
            );
            return out;
        };
        if items.is_empty() {
            out.problems.push(
                Problem::error(
                    "input::empty",
                    format!("the list of {} is empty", kind.name()),
                )
                .at(file, list_span, "empty list")
                .with_help("an empty input is never treated as a clean result"),
            );
            return out;
        }
        let mut warned = BTreeSet::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        for item in items {
            let Some(record) = read_item(file, item, kind, mapping, &[], &mut warned, &mut out)
            else {
                continue;
            };
            if matches!(kind, RecordKind::Account | RecordKind::Person) {
                if let Some(first) = seen.get(record.key.as_str()) {
                    out.problems.push(crate::source::duplicate_key(
                        file,
                        "account",
                        &record.key,
                        (record.span, "second entry with this key"),
                        (*first, "first entry with this key"),
                        "an account key (id or username) must be unique within an export",
                    ));
                    continue;
                }
                seen.insert(record.key.to_string(), record.span);
            }
            out.records.push(record);
        }
    }
    out
}

fn read_service(
    file: FileId,
    root: &Node,
    mapping: &BTreeMap<String, String>,
    out: &mut ReadResult,
) {
    let Some(entries) = root.as_map() else {
        out.problems.push(
            Problem::error(
                "input::unexpected-shape",
                "expected a platform configuration mapping",
            )
            .at(file, root.span, format!("found {}", root.type_name()))
            .with_help("write `platform: NAME` and `modules:` with one mapping per module"),
        );
        return;
    };
    let platform = root.get("platform").or_else(|| root.get("plattform"));
    let mut warned = BTreeSet::new();
    if let Some((modules_key, modules)) = root.entry("modules") {
        let Some(list) = modules.as_map() else {
            out.problems.push(
                Problem::error("input::unexpected-shape", "`modules` must be a mapping")
                    .at(file, modules_key.span, format!("found {}", modules.type_name()))
                    .with_help("write one entry per module: modules: { videoconference: { recording: false } }"),
            );
            return;
        };
        for (name, body) in list {
            let Some(module) = name.scalar_text() else {
                continue;
            };
            if body.as_map().is_none() {
                out.problems.push(
                    Problem::error(
                        "input::unexpected-shape",
                        format!("module `{module}` must be a mapping"),
                    )
                    .at(
                        file,
                        Node::entry_span(name, body),
                        format!("found {}", body.type_name()),
                    )
                    .with_help("write the module's settings as key: value lines"),
                );
                continue;
            }
            let Some(mut record) = read_item(
                file,
                body,
                RecordKind::Service,
                mapping,
                &["module"],
                &mut warned,
                out,
            ) else {
                continue;
            };
            record.span =
                Span::from_range(name.span.offset, record.span.end().max(name.span.end()));
            record.set(
                "module",
                Value::Str(module.to_lowercase().into()),
                name.span,
            );
            finish_service(&mut record, platform, root);
            out.records.push(record);
        }
        for (k, v) in entries {
            let key = k.scalar_text().unwrap_or_default();
            if !matches!(
                key.as_str(),
                "platform" | "plattform" | "modules" | "school" | "version"
            ) {
                warn_unknown_key(file, k, v, RecordKind::Service, &mut warned, out);
            }
        }
    } else if let Some(mut record) = read_item(
        file,
        root,
        RecordKind::Service,
        mapping,
        &[],
        &mut warned,
        out,
    ) {
        finish_service(&mut record, platform, root);
        out.records.push(record);
    }
}

fn finish_service(record: &mut Record, platform: Option<&Node>, root: &Node) {
    if let Some(p) = platform.and_then(Node::scalar_text) {
        let span = platform.map_or(root.span, |n| n.span);
        record.set("platform", Value::Str(p.to_lowercase().into()), span);
    }
    let platform = record.str("platform").unwrap_or("").to_owned();
    let module = record.str("module").unwrap_or("").to_owned();
    record.key = if platform.is_empty() {
        module.into()
    } else {
        format!("{platform}/{module}").into()
    };
}

fn warn_unknown_key(
    file: FileId,
    key: &Node,
    value: &Node,
    kind: RecordKind,
    warned: &mut BTreeSet<String>,
    out: &mut ReadResult,
) {
    let Some(name) = key.scalar_text() else {
        return;
    };
    if !warned.insert(name.clone()) {
        return;
    }
    if let Some((canon, alias)) = columns::suggest(kind, &name) {
        out.problems.push(
            Problem::warning(
                "input::unknown-column",
                format!(
                    "unknown key `{name}`, did you mean `{alias}` ({})?",
                    canon.name
                ),
            )
            .at(file, Node::entry_span(key, value), "not a known key")
            .with_help(format!(
                "rename the key, or map it in konform.yaml: columns: {{ \"{name}\": {} }}",
                canon.name
            )),
        );
    }
}

fn read_item(
    file: FileId,
    item: &Node,
    kind: RecordKind,
    mapping: &BTreeMap<String, String>,
    implied: &[&'static str],
    warned: &mut BTreeSet<String>,
    out: &mut ReadResult,
) -> Option<Record> {
    let Some(entries) = item.as_map() else {
        out.problems.push(
            Problem::error(
                "input::unexpected-shape",
                format!("expected one of the {} as a mapping", kind.name()),
            )
            .at(file, item.span, format!("found {}", item.type_name()))
            .with_help("write each entry as key: value lines (username: anna.berg)"),
        );
        return None;
    };
    let start = entries
        .first()
        .map_or(item.span.offset, |(k, _)| k.span.offset);
    let end = entries
        .iter()
        .map(|(k, v)| Node::entry_span(k, v).end())
        .max()
        .unwrap_or(item.span.end());
    let mut record = Record::new(kind, file, Span::from_range(start, end));
    let mut ok = true;
    let mut present: BTreeSet<&'static str> = implied.iter().copied().collect();
    for (k, v) in entries {
        let Some(name) = k.scalar_text() else {
            continue;
        };
        if kind == RecordKind::Service
            && matches!(name.as_str(), "platform" | "plattform" | "module" | "modul")
            && item.get("modules").is_none()
        {
            if let Some(text) = v.scalar_text() {
                let canon = if name.starts_with("plat") {
                    "platform"
                } else {
                    "module"
                };
                record.set(canon, Value::Str(text.to_lowercase().into()), v.span);
                present.insert(canon);
            }
            continue;
        }
        let canon = match mapping.get(&name) {
            Some(t) if t == "ignore" => continue,
            Some(t) => columns::by_name(kind, t),
            None => columns::lookup(kind, &name),
        };
        let span = Node::entry_span(k, v);
        let Some(canon) = canon else {
            warn_unknown_key(file, k, v, kind, warned, out);
            if let Some(text) = extra_text(v) {
                record.extra.insert(
                    name,
                    Attr {
                        value: Value::Str(text.into()),
                        span,
                    },
                );
            }
            continue;
        };
        present.insert(canon.name);
        match node_value(canon, v) {
            Ok(Some(value)) => record.set(canon.name, value, span),
            Ok(None) => {}
            Err((label, help, code)) => {
                ok = false;
                out.problems.push(
                    Problem::error(
                        &format!("input::{code}"),
                        format!("invalid {} in `{name}`", canon.name),
                    )
                    .at(file, v.span, label)
                    .with_help(help),
                );
            }
        }
    }
    for alternatives in required(kind) {
        if !alternatives.iter().any(|a| present.contains(a)) {
            let expected: Vec<String> = alternatives.iter().map(|a| format!("`{a}`")).collect();
            let known: Vec<String> = alternatives.iter().map(|a| known_names(kind, a)).collect();
            ok = false;
            out.problems.push(
                Problem::error(
                    "input::missing-column",
                    format!("entry has no {}", expected.join(" or ")),
                )
                .at(file, record.span, "this entry")
                .with_help(format!("add one of: {}", known.join("; "))),
            );
        }
    }
    if !ok {
        return None;
    }
    if kind != RecordKind::Service {
        record.key = record_key(&record)?;
    }
    Some(record)
}

fn extra_text(v: &Node) -> Option<String> {
    match &v.value {
        NodeValue::Seq(items) => {
            let texts: Vec<String> = items.iter().filter_map(Node::scalar_text).collect();
            Some(texts.join(", "))
        }
        NodeValue::Map(_) | NodeValue::Null => None,
        _ => v.scalar_text(),
    }
}

type NodeError = (String, String, &'static str);

fn node_value(canon: &Canonical, v: &Node) -> Result<Option<Value>, NodeError> {
    match (&v.value, canon.ty) {
        (NodeValue::Null, _) => Ok(None),
        (NodeValue::Bool(b), AttrType::Bool) => Ok(Some(Value::Bool(*b))),
        (NodeValue::Int(n), AttrType::Long) => Ok(Some(Value::Long(*n))),
        (NodeValue::Seq(items), AttrType::Set) => {
            let mut texts = Vec::new();
            for i in items {
                match i.scalar_text() {
                    Some(t) => texts.push(t),
                    None => {
                        return Err((
                            format!("found {} in the list", i.type_name()),
                            format!("`{}` is a list of plain values", canon.name),
                            "bad-value",
                        ));
                    }
                }
            }
            Ok(Some(Value::Set(
                parse_set(texts.iter().map(String::as_str), canon).into(),
            )))
        }
        (NodeValue::Seq(_) | NodeValue::Map(_), _) => Err((
            format!("found {}", v.type_name()),
            format!("`{}` takes a single value", canon.name),
            "bad-value",
        )),
        (_, _) => {
            let text = v.scalar_text().unwrap_or_default();
            parse_cell(canon, &text).map_err(|e| (e.label, e.help, e.code))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::yaml::{YamlLimits, parse};

    fn read_text(text: &str, kind: RecordKind) -> ReadResult {
        match parse(text, YamlLimits::default()) {
            Ok(root) => read(FileId(0), &root, kind, &BTreeMap::new()),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn accounts_as_list_or_under_key() {
        let r = read_text(
            "- username: lehrer1\n  roles: [Lehrkraft]\n- id: 7\n  username: b\n",
            RecordKind::Account,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            r.records.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            vec!["lehrer1", "7"]
        );
        assert!(r.records[0].has_in_set("roles", "teacher"));
        let r = read_text(
            "{\"accounts\": [{\"Benutzername\": \"x\", \"Aktiv\": \"ja\"}]}",
            RecordKind::Account,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            r.records[0].get("enabled").map(|a| &a.value),
            Some(&Value::Bool(true))
        );
    }

    #[test]
    fn service_modules_become_records_with_entry_spans() {
        let text = "platform: IServ\nmodules:\n  videoconference:\n    enabled: true\n    recording: true\n    allowed_roles: [Schüler, Lehrer]\n";
        let r = read_text(text, RecordKind::Service);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let m = &r.records[0];
        assert_eq!(m.key, "iserv/videoconference");
        let s = m.span_of("recording");
        assert_eq!(s.map(|s| &text[s.offset..s.end()]), Some("recording: true"));
        assert!(m.has_in_set("allowed_roles", "student"));
    }

    #[test]
    fn single_module_form() {
        let r = read_text(
            "platform: iserv\nmodule: videoconference\nrecording: false\n",
            RecordKind::Service,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records[0].key, "iserv/videoconference");
        assert_eq!(
            r.records[0].get("recording").map(|a| &a.value),
            Some(&Value::Bool(false))
        );
    }

    #[test]
    fn wrong_shapes_and_values_are_errors() {
        let r = read_text("accounts: 5\n", RecordKind::Account);
        assert!(
            r.problems
                .iter()
                .any(|p| p.code == "konform::input::unexpected-shape")
        );
        let r = read_text("- username: a\n  created: soon\n", RecordKind::Account);
        assert!(
            r.problems
                .iter()
                .any(|p| p.code == "konform::input::bad-date")
        );
        let r = read_text("- Vorname: a\n", RecordKind::Account);
        assert!(
            r.problems
                .iter()
                .any(|p| p.code == "konform::input::missing-column")
        );
        let r = read_text("accounts: []\n", RecordKind::Account);
        assert!(r.problems.iter().any(|p| p.code == "konform::input::empty"));
    }

    #[test]
    fn consents_need_person_and_purpose() {
        let r = read_text(
            "consents:\n  - person: s-1\n    purpose: Videoconference\n    granted_by: Eltern\n    date: 2026-09-01\n",
            RecordKind::Consent,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records[0].str("purpose"), Some("videoconference"));
        assert_eq!(r.records[0].str("granted_by"), Some("guardian"));
    }
}
