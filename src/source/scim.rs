//! SCIM 2.0 documents (RFC 7643, RFC 7644) as account records.
//!
//! Accepted shapes: one User resource, a `ListResponse` (`Resources`), a `BulkRequest`
//! (`Operations[].data` of POST, PUT and PATCH operations) and Group resources. A group adds
//! its `displayName` to the `groups` of the member accounts found in the same document; a
//! document with groups only holds no accounts and is an error.
//!
//! | SCIM attribute | canonical attribute |
//! |---|---|
//! | `id` (else `externalId`, else the id in a bulk `path`) | `id` (the key) |
//! | `userName` | `username` |
//! | `name.givenName`, `name.familyName` | `given_name`, `family_name` |
//! | `displayName` | `display_name` |
//! | `emails[primary]` (else the first) `.value` | `email` |
//! | `active` | `enabled` |
//! | `password` | `password_present` (the password itself is never kept) |
//! | `roles[].value`, `userType` | `roles` |
//! | `groups[].display`, a Group's `displayName` | `groups` |
//! | `meta.created` | `created` |
//! | extension attributes (`employeeNumber`, `organization`, `department`, `manager` …) | extras |
//! | any other attribute | extra, by its name |
//!
//! SCIM attribute names are case-insensitive (RFC 7643 §2.1), so keys are matched without
//! regard to case. The shared helpers at the end are also used by the SS 12000 reader.

use std::collections::HashMap;

use crate::problem::Problem;
use crate::record::{Attr, Record, RecordKind, Value};
use crate::source::columns;
use crate::source::csv::{ReadResult, record_key};
use crate::source::value::{parse_cell, parse_set};
use crate::source::yaml::{Node, NodeValue};
use crate::source::{FileId, Span};

const URN_PREFIX: &str = "urn:ietf:params:scim:";
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const MESSAGES_PREFIX: &str = "urn:ietf:params:scim:api:messages:";
const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Whether a document is SCIM: a mapping whose `schemas` list names a `urn:ietf:params:scim:`
/// schema.
pub fn is_scim(root: &Node) -> bool {
    schemas(root).any(|s| starts_with_ignore_case(s, URN_PREFIX))
}

/// Reads the accounts of a SCIM document.
pub fn read(file: FileId, root: &Node) -> ReadResult {
    let mut reader = Reader {
        file,
        out: ReadResult::default(),
        user_resources: 0,
        members: Vec::new(),
    };
    if matches!(root.value, NodeValue::Null) {
        reader.out.problems.push(
            Problem::error("input::empty", "the file is empty")
                .in_file(file)
                .with_help("an empty input is never treated as a clean result"),
        );
        return reader.out;
    }
    if root.as_map().is_none() {
        reader.out.problems.push(
            Problem::error(
                "input::unexpected-shape",
                "expected a scim resource or message",
            )
            .at(file, root.span, format!("found {}", root.type_name()))
            .with_help(
                "a scim document is a JSON object with `schemas`, e.g. a User or a ListResponse",
            ),
        );
        return reader.out;
    }
    reader.document(root);
    reader.finish(root);
    reader.out
}

/// A member of a group: the member's id and the group it belongs to, with their spans.
struct Membership {
    member: String,
    member_span: Span,
    group: String,
    group_span: Span,
}

struct Reader {
    file: FileId,
    out: ReadResult,
    /// User resources seen, including ones that could not be read.
    user_resources: usize,
    members: Vec<Membership>,
}

impl Reader {
    fn error(&mut self, code: &str, message: String, span: Span, label: String, help: &str) {
        self.out.problems.push(
            Problem::error(code, message)
                .at(self.file, span, label)
                .with_help(help),
        );
    }

    fn document(&mut self, root: &Node) {
        if has_schema(root, LIST_RESPONSE) {
            match field(root, "Resources") {
                Some((_, v)) if v.as_seq().is_some() => {
                    for item in v.as_seq().unwrap_or_default() {
                        self.resource(item, None);
                    }
                }
                Some((k, v)) => self.error(
                    "input::bad-value",
                    "`Resources` must be a list".into(),
                    Node::entry_span(k, v),
                    format!("found {}", v.type_name()),
                    "write the resources as a JSON array",
                ),
                // A list response without results: `finish` reports that it has no users.
                None => {}
            }
        } else if has_schema(root, BULK_REQUEST) {
            self.bulk(root);
        } else if let Some(message) =
            schemas(root).find(|s| starts_with_ignore_case(s, MESSAGES_PREFIX))
        {
            let span = field(root, "schemas").map_or(root.span, |(k, v)| extent_entry(k, v));
            self.error(
                "input::unexpected-shape",
                format!("unsupported scim message `{message}`"),
                span,
                "not a resource, list response or bulk request".into(),
                "export the users as a ListResponse (GET /Users) or as single User resources",
            );
        } else {
            self.resource(root, None);
        }
    }

    fn bulk(&mut self, root: &Node) {
        let ops = match field(root, "Operations") {
            Some((_, v)) if v.as_seq().is_some() => v.as_seq().unwrap_or_default(),
            Some((k, v)) => {
                self.error(
                    "input::bad-value",
                    "`Operations` must be a list".into(),
                    Node::entry_span(k, v),
                    format!("found {}", v.type_name()),
                    "write the bulk operations as a JSON array",
                );
                return;
            }
            None => &[],
        };
        for op in ops {
            if op.as_map().is_none() {
                self.error(
                    "input::unexpected-shape",
                    "expected a bulk operation object".into(),
                    op.span,
                    format!("found {}", op.type_name()),
                    "write each operation as {\"method\": \"POST\", \"path\": \"/Users\", \"data\": {…}}",
                );
                continue;
            }
            let method = field(op, "method").map(|(_, v)| v);
            let method_text = method.and_then(Node::as_str).unwrap_or("").to_uppercase();
            match method_text.as_str() {
                // A deleted account is not an account of the export.
                "DELETE" => continue,
                "POST" | "PUT" | "PATCH" => {}
                _ => {
                    let span = method.map_or(op.span, |m| m.span);
                    let label = match method.and_then(Node::as_str) {
                        Some(m) => format!("`{m}` is not a bulk method"),
                        None => "no `method`".into(),
                    };
                    self.error(
                        "input::bad-value",
                        "invalid bulk operation method".into(),
                        span,
                        label,
                        "use POST, PUT, PATCH or DELETE",
                    );
                    continue;
                }
            }
            let Some((_, data)) = field(op, "data") else {
                self.error(
                    "input::unexpected-shape",
                    format!("`{method_text}` operation without `data`"),
                    extent(op),
                    "no `data`".into(),
                    "add the resource as `data`",
                );
                continue;
            };
            if has_schema(data, PATCH_OP) {
                // A patch describes changes, not an account; reading it as one would check a
                // fragment as if it were complete.
                self.out.problems.push(
                    Problem::warning(
                        "input::unexpected-shape",
                        "a scim patch operation is not checked",
                    )
                    .at(self.file, data.span, "changes, not a complete user")
                    .with_help("export the resulting users (GET /Users) to check them"),
                );
                continue;
            }
            let path_id = field(op, "path").and_then(|(_, p)| {
                let text = p.as_str()?;
                let (_, id) = text.rsplit_once('/')?;
                let is_user_path = text
                    .trim_start_matches('/')
                    .to_lowercase()
                    .starts_with("users/");
                (is_user_path && !id.is_empty()).then(|| (id.to_owned(), p.span))
            });
            self.resource(data, path_id);
        }
    }

    fn resource(&mut self, node: &Node, path_id: Option<(String, Span)>) {
        if node.as_map().is_none() {
            self.error(
                "input::unexpected-shape",
                "expected a scim resource object".into(),
                node.span,
                format!("found {}", node.type_name()),
                "write each resource as a JSON object with `schemas`, `id` and `userName`",
            );
            return;
        }
        if is_group(node) {
            self.group(node);
        } else {
            self.user_resources += 1;
            if let Some(record) = self.user(node, path_id) {
                self.out.records.push(record);
            }
        }
    }

    fn group(&mut self, node: &Node) {
        let name = field(node, "displayName")
            .or_else(|| field(node, "id"))
            .and_then(|(_, v)| v.scalar_text().map(|t| (t, v.span)));
        let Some((group, group_span)) = name else {
            self.error(
                "input::missing-key",
                "group has neither `displayName` nor `id`".into(),
                extent(node),
                "this group".into(),
                "add the group's `displayName`",
            );
            return;
        };
        let Some((k, members)) = field(node, "members") else {
            return;
        };
        let Some(items) = members.as_seq() else {
            self.error(
                "input::bad-value",
                "`members` must be a list".into(),
                Node::entry_span(k, members),
                format!("found {}", members.type_name()),
                "write the members as [{\"value\": \"<user id>\"}, …]",
            );
            return;
        };
        for m in items {
            match field(m, "value").map(|(_, v)| v) {
                Some(v) if v.scalar_text().is_some() => self.members.push(Membership {
                    member: v.scalar_text().unwrap_or_default(),
                    member_span: v.span,
                    group: group.clone(),
                    group_span,
                }),
                _ => self.error(
                    "input::bad-value",
                    format!("member of group `{group}` has no `value`"),
                    extent(m),
                    "no member id".into(),
                    "write each member as {\"value\": \"<user id>\"}",
                ),
            }
        }
    }

    fn user(&mut self, node: &Node, path_id: Option<(String, Span)>) -> Option<Record> {
        let mut record = Record::new(RecordKind::Account, self.file, extent(node));
        let mut fields = Fields::new(self.file, &mut self.out);
        let mut external = None;
        let mut roles: Vec<(String, Span)> = Vec::new();
        let mut roles_span: Option<Span> = None;
        for (k, v) in node.as_map().unwrap_or_default() {
            let Some(name) = k.as_str() else {
                continue;
            };
            match name.to_lowercase().as_str() {
                "schemas" => {}
                "id" => fields.text_attr(&mut record, "id", name, v),
                "externalid" => external = Some((k, v)),
                "username" => fields.text_attr(&mut record, "username", name, v),
                "displayname" => fields.text_attr(&mut record, "display_name", name, v),
                "name" => {
                    if fields.expect_map(name, v) {
                        for (sub, canon) in
                            [("givenName", "given_name"), ("familyName", "family_name")]
                        {
                            if let Some((_, sv)) = field(v, sub) {
                                fields.text_attr(&mut record, canon, &format!("name.{sub}"), sv);
                            }
                        }
                    }
                }
                "emails" => {
                    if let Some(items) = fields.expect_list(name, v) {
                        let chosen = items
                            .iter()
                            .find(|e| {
                                field(e, "primary")
                                    .is_some_and(|(_, p)| p.value == NodeValue::Bool(true))
                            })
                            .or_else(|| items.first());
                        if let Some((_, value)) = chosen.and_then(|e| field(e, "value")) {
                            fields.text_attr(&mut record, "email", "emails.value", value);
                        }
                    }
                }
                "active" => fields.text_attr(&mut record, "enabled", name, v),
                "password" => {
                    // Only whether a password is there; its text never reaches the record.
                    let present = !matches!(&v.value, NodeValue::Null)
                        && v.as_str().is_none_or(|s| !s.trim().is_empty());
                    record.set("password_present", Value::Bool(present), v.span);
                }
                "roles" => {
                    if let Some(items) = fields.expect_list(name, v) {
                        roles_span = roles_span.or(Some(extent(v)));
                        roles.extend(
                            items
                                .iter()
                                .filter_map(|r| multi_value(r, &["value", "display"])),
                        );
                    }
                }
                "usertype" => {
                    if let Some(t) = fields.text(name, v) {
                        roles_span = roles_span.or(Some(v.span));
                        roles.push((t, v.span));
                    }
                }
                "groups" => {
                    if let Some(items) = fields.expect_list(name, v) {
                        let groups: Vec<(String, Span)> = items
                            .iter()
                            .filter_map(|g| multi_value(g, &["display", "value"]))
                            .collect();
                        fields.set_attr(&mut record, "groups", &groups, extent(v));
                    }
                }
                "meta" => {
                    if fields.expect_map(name, v)
                        && let Some((_, created)) = field(v, "created")
                    {
                        fields.text_attr(&mut record, "created", "meta.created", created);
                    }
                }
                _ if starts_with_ignore_case(name, "urn:") && v.as_map().is_some() => {
                    extension(&mut record, v);
                }
                _ => keep_extra(&mut record, name, v),
            }
        }
        if !roles.is_empty() {
            let span = roles_span.unwrap_or(record.span);
            fields.set_attr(&mut record, "roles", &roles, span);
        }
        if let Some((k, v)) = external {
            if record.get("id").is_none() {
                fields.text_attr(&mut record, "id", "externalId", v);
            } else {
                keep_extra(&mut record, k.as_str().unwrap_or("externalId"), v);
            }
        }
        if record.get("id").is_none()
            && let Some((id, span)) = path_id
        {
            record.set("id", Value::Str(id.into()), span);
        }
        let ok = fields.ok;
        if !ok {
            return None;
        }
        let Some(key) = record_key(&record) else {
            self.error(
                "input::missing-key",
                "user has neither `userName` nor `id`".into(),
                record.span,
                "this user".into(),
                "every scim user needs a `userName` (RFC 7643 §4.1); add it or the `id`",
            );
            return None;
        };
        record.key = key;
        Some(record)
    }

    fn finish(&mut self, root: &Node) {
        let failed = self.out.problems.iter().any(Problem::is_error);
        if self.user_resources == 0 && !failed {
            let help = if self.members.is_empty() {
                "export the users (GET /Users as a ListResponse) to check them"
            } else {
                "a group names its members by id only; export the users (GET /Users) and check them in the same document"
            };
            self.out.problems.push(
                Problem::error("input::empty", "the scim document has no users")
                    .at(self.file, extent(root), "no User resource here")
                    .with_help(help),
            );
            return;
        }
        if self.user_resources == 0 {
            return;
        }
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut records = Vec::with_capacity(self.out.records.len());
        for record in std::mem::take(&mut self.out.records) {
            if let Some(first) = seen.get(record.key.as_str()) {
                self.out.problems.push(crate::source::duplicate_key(
                    self.file,
                    "account",
                    &record.key,
                    (record.span, "second user with this key"),
                    (*first, "first user with this key"),
                    "a scim `id` (or `userName`) must be unique within a document",
                ));
                continue;
            }
            seen.insert(record.key.to_string(), record.span);
            records.push(record);
        }
        self.out.records = records;
        let by_id: HashMap<String, usize> = self
            .out
            .records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.str("id").map(|id| (id.to_owned(), i)))
            .collect();
        for m in std::mem::take(&mut self.members) {
            match by_id
                .get(&m.member)
                .and_then(|&i| self.out.records.get_mut(i))
            {
                Some(record) => add_to_set(record, "groups", m.group, m.group_span),
                None => self.out.problems.push(
                    Problem::note(
                        "input::unknown-member",
                        format!(
                            "member `{}` of group `{}` is not a user of this document",
                            m.member, m.group
                        ),
                    )
                    .at(self.file, m.member_span, "no user with this id")
                    .with_help("the membership is ignored; export the member's user resource too"),
                ),
            }
        }
    }
}

/// Adds `item` to the set attribute `name`, creating it with `span` when absent.
pub(crate) fn add_to_set(record: &mut Record, name: &'static str, item: String, span: Span) {
    match record.attrs.get_mut(name) {
        Some(Attr {
            value: Value::Set(items),
            ..
        }) => {
            if !items.iter().any(|i| *i == item) {
                let mut grown = items.to_vec();
                grown.push(item.into());
                grown.sort();
                *items = grown.into();
            }
        }
        _ => record.set(name, Value::Set([item.into()].into()), span),
    }
}

/// Extension attributes (`urn:…:enterprise:2.0:User` …) as extras by their own names.
fn extension(record: &mut Record, ext: &Node) {
    for (k, v) in ext.as_map().unwrap_or_default() {
        let Some(name) = k.as_str() else {
            continue;
        };
        if name.eq_ignore_ascii_case("manager") && v.as_map().is_some() {
            if let Some((text, span)) = multi_value(v, &["displayName", "value"]) {
                record.extra.insert(
                    name.to_owned(),
                    Attr {
                        value: Value::Str(text.into()),
                        span,
                    },
                );
            }
        } else {
            keep_extra(record, name, v);
        }
    }
}

/// The first of `keys` that holds a scalar in a multi-valued item (`{"value": …}`), or the item
/// itself when it is a plain scalar.
fn multi_value(item: &Node, keys: &[&str]) -> Option<(String, Span)> {
    if item.as_map().is_none() {
        return item.scalar_text().map(|t| (t, item.span));
    }
    keys.iter()
        .filter_map(|k| field(item, k))
        .find_map(|(_, v)| v.scalar_text().map(|t| (t, v.span)))
}

fn is_group(node: &Node) -> bool {
    if has_schema(node, CORE_GROUP) {
        return true;
    }
    let typed_group = field(node, "meta")
        .and_then(|(_, m)| field(m, "resourceType"))
        .and_then(|(_, t)| t.as_str())
        .is_some_and(|t| t.eq_ignore_ascii_case("group"));
    typed_group || (!has_schema(node, CORE_USER) && field(node, "members").is_some())
}

fn schemas(node: &Node) -> impl Iterator<Item = &str> {
    field(node, "schemas")
        .and_then(|(_, v)| v.as_seq())
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
}

fn has_schema(node: &Node, schema: &str) -> bool {
    schemas(node).any(|s| s.eq_ignore_ascii_case(schema))
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The entry `name` of a mapping, matched without regard to ASCII case.
pub(crate) fn field<'a>(node: &'a Node, name: &str) -> Option<(&'a Node, &'a Node)> {
    node.as_map()?
        .iter()
        .find(|(k, _)| k.as_str().is_some_and(|s| s.eq_ignore_ascii_case(name)))
        .map(|(k, v)| (k, v))
}

/// The span of a node including its children (the parser gives a collection only the span of
/// its opening bracket); the closing bracket is not included.
pub(crate) fn extent(node: &Node) -> Span {
    let last = match &node.value {
        NodeValue::Seq(items) => items.last().map(extent),
        NodeValue::Map(entries) => entries.last().map(|(_, v)| extent(v)),
        _ => None,
    };
    match last {
        Some(l) if l.end() > node.span.offset => Span::from_range(node.span.offset, l.end()),
        _ => node.span,
    }
}

/// The span of a mapping entry from its key to the end of its value's [`extent`].
pub(crate) fn extent_entry(key: &Node, value: &Node) -> Span {
    Span::from_range(key.span.offset, extent(value).end().max(key.span.end()))
}

/// Keeps an unknown attribute as an extra: scalars as text, lists of scalars or of
/// `{"value": …}` items joined with `, `; nested objects are dropped.
pub(crate) fn keep_extra(record: &mut Record, name: &str, v: &Node) {
    let text = match &v.value {
        NodeValue::Seq(items) => {
            let texts: Vec<String> = items
                .iter()
                .filter_map(|i| multi_value(i, &["value"]).map(|(t, _)| t))
                .collect();
            (!texts.is_empty()).then(|| texts.join(", "))
        }
        NodeValue::Map(_) | NodeValue::Null => None,
        _ => v.scalar_text(),
    };
    if let Some(text) = text {
        record.extra.insert(
            name.to_owned(),
            Attr {
                value: Value::Str(text.into()),
                span: extent(v),
            },
        );
    }
}

/// Typed attribute reading with errors that point at the offending value.
pub(crate) struct Fields<'a> {
    file: FileId,
    out: &'a mut ReadResult,
    /// Whether every value read so far was valid.
    pub(crate) ok: bool,
}

impl<'a> Fields<'a> {
    /// Reads values of `file`, reporting into `out`.
    pub(crate) fn new(file: FileId, out: &'a mut ReadResult) -> Self {
        Self {
            file,
            out,
            ok: true,
        }
    }

    fn wrong_type(&mut self, path: &str, v: &Node, expected: &str) {
        self.ok = false;
        self.out.problems.push(
            Problem::error("input::bad-value", format!("`{path}` must be {expected}"))
                .at(self.file, v.span, format!("found {}", v.type_name()))
                .with_help(format!("write `{path}` as {expected}")),
        );
    }

    /// A scalar as text; `None` for null, an error for a list or object.
    pub(crate) fn text(&mut self, path: &str, v: &Node) -> Option<String> {
        match &v.value {
            NodeValue::Null => None,
            NodeValue::Seq(_) | NodeValue::Map(_) => {
                self.wrong_type(path, v, "a single value");
                None
            }
            _ => v.scalar_text(),
        }
    }

    /// Whether `v` is an object (null is quietly skipped; anything else is an error).
    pub(crate) fn expect_map(&mut self, path: &str, v: &Node) -> bool {
        match &v.value {
            NodeValue::Map(_) => true,
            NodeValue::Null => false,
            _ => {
                self.wrong_type(path, v, "an object");
                false
            }
        }
    }

    /// The items of a list (null is quietly skipped; anything else is an error).
    pub(crate) fn expect_list<'n>(&mut self, path: &str, v: &'n Node) -> Option<&'n [Node]> {
        match &v.value {
            NodeValue::Seq(items) => Some(items),
            NodeValue::Null => None,
            _ => {
                self.wrong_type(path, v, "a list");
                None
            }
        }
    }

    /// Sets the canonical attribute `canon` from a scalar, normalised and typed like a CSV cell.
    pub(crate) fn text_attr(&mut self, record: &mut Record, canon: &str, path: &str, v: &Node) {
        let Some(c) = columns::by_name(RecordKind::Account, canon) else {
            return;
        };
        let Some(text) = self.text(path, v) else {
            return;
        };
        match parse_cell(c, &text) {
            Ok(Some(value)) => record.set(c.name, value, v.span),
            Ok(None) => {}
            Err(e) => {
                self.ok = false;
                self.out.problems.push(
                    Problem::error(
                        &format!("input::{}", e.code),
                        format!("invalid {canon} in `{path}`"),
                    )
                    .at(self.file, v.span, e.label)
                    .with_help(e.help),
                );
            }
        }
    }

    /// Sets the set-valued canonical attribute `canon` from several values, normalised.
    pub(crate) fn set_attr(
        &mut self,
        record: &mut Record,
        canon: &str,
        items: &[(String, Span)],
        span: Span,
    ) {
        let Some(c) = columns::by_name(RecordKind::Account, canon) else {
            return;
        };
        let values = parse_set(items.iter().map(|(t, _)| t.as_str()), c);
        if !values.is_empty() {
            record.set(c.name, Value::Set(values.into()), span);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::source::yaml::{YamlLimits, parse};

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/samples/scim/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn read_text(text: &str) -> ReadResult {
        match parse(text, YamlLimits::default()) {
            Ok(root) => read(FileId(0), &root),
            Err(e) => panic!("{e:?}"),
        }
    }

    fn at(text: &str, span: Option<Span>) -> &str {
        span.and_then(|s| text.get(s.offset..s.end()))
            .unwrap_or("<none>")
    }

    fn errors(r: &ReadResult) -> Vec<&str> {
        r.problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| p.code.as_str())
            .collect()
    }

    fn extras(record: &Record) -> BTreeMap<&str, &str> {
        record
            .extra
            .iter()
            .filter_map(|(k, a)| a.value.as_str().map(|v| (k.as_str(), v)))
            .collect()
    }

    #[test]
    fn detects_scim_by_its_schemas() -> Result<(), crate::source::yaml::SyntaxError> {
        let scim = parse(
            &sample("rfc7643-8.1-user-minimal.json"),
            YamlLimits::default(),
        )?;
        assert!(is_scim(&scim));
        let list = parse(
            &sample("rfc7644-3.4.2-list_response-partial_attributes.json"),
            YamlLimits::default(),
        )?;
        assert!(is_scim(&list));
        let plain = parse(
            "{\"accounts\": [{\"username\": \"a\"}]}",
            YamlLimits::default(),
        )?;
        assert!(!is_scim(&plain));
        let other = parse(
            "{\"schemas\": [\"urn:example:thing\"]}",
            YamlLimits::default(),
        )?;
        assert!(!is_scim(&other));
        Ok(())
    }

    #[test]
    fn minimal_user() {
        let text = sample("rfc7643-8.1-user-minimal.json");
        let r = read_text(&text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let u = &r.records[0];
        assert_eq!(u.key, "2819c223-7f76-453a-919d-413861904646");
        assert_eq!(u.str("username"), Some("bjensen@example.com"));
        assert_eq!(at(&text, u.span_of("username")), "\"bjensen@example.com\"");
        assert_eq!(
            u.get("created")
                .and_then(|a| a.value.as_date())
                .map(|d| d.to_string())
                .as_deref(),
            Some("2010-01-23")
        );
        assert_eq!(at(&text, u.span_of("created")), "\"2010-01-23T04:56:22Z\"");
    }

    #[test]
    fn enterprise_user_maps_every_attribute() {
        let text = sample("rfc7643-8.3-enterprise_user.json");
        let r = read_text(&text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let u = &r.records[0];
        assert_eq!(u.str("id"), Some("2819c223-7f76-453a-919d-413861904646"));
        assert_eq!(u.str("given_name"), Some("Barbara"));
        assert_eq!(u.str("family_name"), Some("Jensen"));
        assert_eq!(u.str("display_name"), Some("Babs Jensen"));
        assert_eq!(u.str("email"), Some("bjensen@example.com"));
        assert_eq!(at(&text, u.span_of("email")), "\"bjensen@example.com\"");
        assert_eq!(u.get("enabled").map(|a| &a.value), Some(&Value::Bool(true)));
        assert_eq!(at(&text, u.span_of("enabled")), "true");
        assert!(u.has_in_set("roles", "employee"));
        assert_eq!(at(&text, u.span_of("roles")), "\"Employee\"");
        assert!(u.has_in_set("groups", "Tour Guides"));
        assert!(u.has_in_set("groups", "US Employees"));
        assert!(at(&text, u.span_of("groups")).starts_with('['));
        let x = extras(u);
        assert_eq!(x.get("employeeNumber"), Some(&"701984"));
        assert_eq!(x.get("organization"), Some(&"Universal Studios"));
        assert_eq!(x.get("department"), Some(&"Tour Operations"));
        assert_eq!(x.get("manager"), Some(&"John Smith"));
        assert_eq!(x.get("externalId"), Some(&"701984"));
        assert_eq!(x.get("title"), Some(&"Tour Guide"));
        assert_eq!(x.get("phoneNumbers"), Some(&"555-555-5555, 555-555-4444"));
        assert_eq!(at(&text, u.span_of("manager")), "\"John Smith\"");
    }

    #[test]
    fn password_is_detected_but_never_kept() {
        let text = sample("rfc7643-8.2-user-full.json");
        let r = read_text(&text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let u = &r.records[0];
        assert_eq!(
            u.get("password_present").map(|a| &a.value),
            Some(&Value::Bool(true))
        );
        assert_eq!(at(&text, u.span_of("password_present")), "\"t1meMa$heen\"");
        let kept = format!("{:?}", r.records);
        assert!(!kept.contains("t1meMa$heen"), "the password leaked: {kept}");
        let r = read_text(
            "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"a\", \"password\": \"\"}",
        );
        assert_eq!(
            r.records[0].get("password_present").map(|a| &a.value),
            Some(&Value::Bool(false))
        );
    }

    #[test]
    fn post_request_uses_external_id_as_key() {
        let r = read_text(&sample("rfc7644-3.3-user-post_request.json"));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records[0].str("id"), Some("bjensen"));
        assert_eq!(r.records[0].str("given_name"), Some("Barbara"));
    }

    #[test]
    fn list_responses() {
        let r = read_text(&sample(
            "rfc7644-3.4.2-list_response-partial_attributes.json",
        ));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let names: Vec<_> = r.records.iter().filter_map(|u| u.str("username")).collect();
        assert_eq!(names, ["bjensen", "jsmith"]);
        // The second resource has an id but no userName: kept, keyed by its id.
        let r = read_text(&sample("rfc7644-3.4.3-list_response-post_query.json"));
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.records[1].key, "c8596b90-7539-4f20968d1908");
    }

    #[test]
    fn bulk_request_reads_the_posted_users() {
        let text = sample("rfc7644-3.7.2-bulk_request-enterprise_user.json");
        let r = read_text(&text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let keys: Vec<_> = r.records.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["Alice", "Bob"]);
        assert_eq!(extras(&r.records[1]).get("employeeNumber"), Some(&"11250"));
        assert_eq!(extras(&r.records[1]).get("manager"), Some(&"bulkId:qwerty"));
        let put = r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
            {"method": "PUT", "path": "/Users/b7c1", "data": {"userName": "kim"}},
            {"method": "DELETE", "path": "/Users/e9e3"},
            {"method": "PATCH", "path": "/Users/5d8d", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}}]}"#;
        let r = read_text(put);
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.records[0].key, "b7c1");
        assert_eq!(at(put, r.records[0].span_of("id")), "\"/Users/b7c1\"");
        assert!(errors(&r).is_empty(), "{:?}", r.problems);
        assert_eq!(r.problems.len(), 1, "the patch is reported as not checked");
    }

    #[test]
    fn groups_add_membership_to_users_of_the_document() {
        let group = sample("rfc7643-8.4-group.json");
        let user = sample("rfc7643-8.1-user-minimal.json");
        let text = format!(
            "{{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"], \"Resources\": [{user}, {group}]}}"
        );
        let r = read_text(&text);
        assert!(errors(&r).is_empty(), "{:?}", r.problems);
        let u = &r.records[0];
        assert!(u.has_in_set("groups", "Tour Guides"));
        assert_eq!(at(&text, u.span_of("groups")), "\"Tour Guides\"");
        // Mandy Pepperidge is not in the document: a note, not an error.
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].code, "konform::input::unknown-member");
    }

    #[test]
    fn group_only_document_has_no_users() {
        let r = read_text(&sample("rfc7643-8.4-group.json"));
        assert!(r.records.is_empty());
        assert_eq!(errors(&r), ["konform::input::empty"]);
        assert!(r.problems[0].message.contains("no users"));
    }

    #[test]
    fn broken_documents_are_errors_with_spans() {
        let r = read_text("[1, 2]");
        assert_eq!(errors(&r), ["konform::input::unexpected-shape"]);
        let text =
            r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "x"}"#;
        let r = read_text(text);
        assert_eq!(errors(&r), ["konform::input::missing-key"]);
        assert!(r.records.is_empty());
        let text = r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ["a"], "active": "maybe", "emails": "a@b", "name": 3}"#;
        let r = read_text(text);
        assert!(r.records.is_empty());
        let spans: Vec<&str> = r
            .problems
            .iter()
            .map(|p| at(text, p.primary_span()))
            .collect();
        assert_eq!(spans, ["[", "\"maybe\"", "\"a@b\"", "3"]);
        assert_eq!(
            errors(&r),
            [
                "konform::input::bad-value",
                "konform::input::bad-flag",
                "konform::input::bad-value",
                "konform::input::bad-value"
            ]
        );
        let text = r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": [{"userName": "a"}, 5, {"userName": "a"}]}"#;
        let r = read_text(text);
        assert_eq!(r.records.len(), 1);
        assert_eq!(
            errors(&r),
            [
                "konform::input::unexpected-shape",
                "konform::input::duplicate-key"
            ]
        );
        let r = read_text(
            r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400"}"#,
        );
        // The unsupported message is the one error; "no users" would only repeat it.
        assert_eq!(errors(&r), ["konform::input::unexpected-shape"]);
    }
}
