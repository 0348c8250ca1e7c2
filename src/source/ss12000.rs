//! SS 12000 JSON (the Swedish school data standard, Skolverket's DNP subset) as account records.
//!
//! A document holds one object, a list of objects, or lists under `data` (an API page),
//! `persons`, `groups`, `duties`, `activities` or `organisations`. Objects are told apart by
//! their fields: persons become accounts; duties give their person a role, groups give their
//! members the group's name; activities and organisations are skipped. A document without
//! persons holds no accounts and is an error.
//!
//! | SS 12000 field | canonical attribute |
//! |---|---|
//! | `id` | `id` (the key) |
//! | `eduPersonPrincipalNames[0]` (else the chosen email) | `username` |
//! | `givenName`, `familyName` | `given_name`, `family_name` |
//! | `emails[]` (the first of a `Skola …` type, else the first) `.value` | `email` |
//! | `birthDate` | `birth_date` |
//! | `personStatus` | `state` |
//! | `meta.created` | `created` |
//! | `enrolments[]` (not `cancelled`) | `roles` `student`; `schoolType` → `school_forms` (lowercase, `gy`); `enroledAt.id` → `schools` |
//! | a duty's `dutyRole` (`Lärare` → `teacher`, `Rektor` → `leader`, others `staff`) | `roles` |
//! | a group's `displayName`, for each of its `groupMemberships[].person.id` | `groups` |
//! | `civicNo.value` (the personnummer) | extra `civicNo` only |
//! | any other field | extra, by its name |
//!
//! The personnummer is protected data: it is kept only as the extra `civicNo`, never as id,
//! username or email, so that a rule looking for national ids in identifiers does not flag a
//! field the standard requires.

use std::collections::HashMap;

use crate::problem::Problem;
use crate::record::{Attr, Record, RecordKind, Value};
use crate::source::columns::ascii_word;
use crate::source::csv::{ReadResult, record_key};
use crate::source::scim::{Fields, add_to_set, extent, field, is_scim, keep_extra};
use crate::source::yaml::{Node, NodeValue};
use crate::source::{FileId, Span};

/// The keys under which a document may hold lists of SS 12000 objects.
const LIST_KEYS: &[&str] = &[
    "data",
    "persons",
    "groups",
    "duties",
    "activities",
    "organisations",
];

/// What an SS 12000 object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Person,
    Group,
    Duty,
    Activity,
    Organisation,
}

/// Whether a document is SS 12000: one of its first objects has a field only SS 12000 objects
/// have (`civicNo`, `enrolments`, `eduPersonPrincipalNames`, `groupMemberships`, `dutyRole`,
/// `activityType` …). SCIM documents are never SS 12000.
pub fn is_ss12000(root: &Node) -> bool {
    !is_scim(root)
        && objects(root)
            .iter()
            .take(20)
            .any(|o| kind_of(o, true).is_some())
}

/// Reads the accounts of an SS 12000 document.
pub fn read(file: FileId, root: &Node) -> ReadResult {
    let mut out = ReadResult::default();
    if matches!(root.value, NodeValue::Null) {
        out.problems.push(
            Problem::error("input::empty", "the file is empty")
                .in_file(file)
                .with_help("an empty input is never treated as a clean result"),
        );
        return out;
    }
    if root.as_map().is_none() && root.as_seq().is_none() {
        out.problems.push(
            Problem::error("input::unexpected-shape", "expected ss 12000 objects")
                .at(file, root.span, format!("found {}", root.type_name()))
                .with_help(
                    "an ss 12000 export is a JSON object, a list of objects or `{\"data\": [...]}`",
                ),
        );
        return out;
    }
    let mut persons = 0usize;
    let mut roles: Vec<Link> = Vec::new();
    let mut groups: Vec<Link> = Vec::new();
    for object in objects(root) {
        if object.as_map().is_none() {
            out.problems.push(
                Problem::error("input::unexpected-shape", "expected an ss 12000 object")
                    .at(file, object.span, format!("found {}", object.type_name()))
                    .with_help("write each person, group or duty as a JSON object"),
            );
            continue;
        }
        match kind_of(object, false) {
            Some(Kind::Person) => {
                persons += 1;
                if let Some(record) = person(file, object, &mut roles, &mut out) {
                    out.records.push(record);
                }
            }
            Some(Kind::Duty) => roles.extend(duty(object, None)),
            Some(Kind::Group) => groups.extend(memberships(object)),
            Some(Kind::Activity | Kind::Organisation) => {}
            None => out.problems.push(
                Problem::warning(
                    "input::unexpected-shape",
                    "not a known ss 12000 object; it is skipped",
                )
                .at(
                    file,
                    object.span,
                    "neither a person, group, duty nor activity",
                )
                .with_help("persons need `id` and `givenName`/`familyName` or `civicNo`"),
            ),
        }
    }
    let failed = out.problems.iter().any(Problem::is_error);
    if persons == 0 {
        if !failed {
            out.problems.push(
                Problem::error("input::empty", "the ss 12000 document has no persons")
                    .at(file, extent(root), "no person here")
                    .with_help(
                        "groups, duties and activities refer to persons by id only; add the persons export (person.json) to check the accounts",
                    ),
            );
        }
        return out;
    }
    dedupe(file, &mut out);
    link(file, &mut out, roles, "roles", "duty");
    link(file, &mut out, groups, "groups", "group membership");
    out
}

/// A value that an object elsewhere in the document gives to a person: a duty's role or a
/// group's name.
struct Link {
    person: String,
    person_span: Span,
    value: String,
    span: Span,
}

fn objects(root: &Node) -> Vec<&Node> {
    match &root.value {
        NodeValue::Seq(items) => items.iter().collect(),
        // An object is itself an SS 12000 object even when it has a list key (an activity's
        // `groups`).
        NodeValue::Map(_) if kind_of(root, false).is_some() => vec![root],
        NodeValue::Map(_) => {
            let lists: Vec<&Node> = LIST_KEYS
                .iter()
                .filter_map(|k| field(root, k))
                .filter_map(|(_, v)| v.as_seq())
                .flatten()
                .collect();
            if lists.is_empty() { vec![root] } else { lists }
        }
        _ => Vec::new(),
    }
}

/// The kind of an object; `strict` asks for a field only SS 12000 has (for detection).
fn kind_of(node: &Node, strict: bool) -> Option<Kind> {
    let has = |k: &str| field(node, k).is_some();
    if has("dutyRole") {
        Some(Kind::Duty)
    } else if has("groupMemberships") || has("groupType") {
        Some(Kind::Group)
    } else if has("activityType") {
        Some(Kind::Activity)
    } else if has("organisationType") || has("organisationCode") {
        Some(Kind::Organisation)
    } else if has("civicNo")
        || has("enrolments")
        || has("eduPersonPrincipalNames")
        || (!strict && (has("givenName") || has("familyName")))
    {
        Some(Kind::Person)
    } else {
        None
    }
}

fn person(
    file: FileId,
    node: &Node,
    roles: &mut Vec<Link>,
    out: &mut ReadResult,
) -> Option<Record> {
    let mut record = Record::new(RecordKind::Account, file, extent(node));
    let mut fields = Fields::new(file, out);
    let mut email: Option<&Node> = None;
    for (k, v) in node.as_map().unwrap_or_default() {
        let Some(name) = k.as_str() else {
            continue;
        };
        match name {
            "id" => fields.text_attr(&mut record, "id", name, v),
            "givenName" => fields.text_attr(&mut record, "given_name", name, v),
            "familyName" => fields.text_attr(&mut record, "family_name", name, v),
            "displayName" => fields.text_attr(&mut record, "display_name", name, v),
            "birthDate" => fields.text_attr(&mut record, "birth_date", name, v),
            "personStatus" => fields.text_attr(&mut record, "state", name, v),
            "eduPersonPrincipalNames" => {
                if let Some(first) = fields.expect_list(name, v).and_then(<[Node]>::first) {
                    fields.text_attr(&mut record, "username", "eduPersonPrincipalNames", first);
                }
            }
            "emails" => {
                if let Some(items) = fields.expect_list(name, v) {
                    let school = items.iter().find(|e| {
                        field(e, "type")
                            .and_then(|(_, t)| t.as_str())
                            .is_some_and(|t| t.to_lowercase().starts_with("skola"))
                    });
                    email = school
                        .or_else(|| items.first())
                        .and_then(|e| field(e, "value"))
                        .map(|(_, value)| value);
                    if let Some(value) = email {
                        fields.text_attr(&mut record, "email", "emails.value", value);
                    }
                }
            }
            "civicNo" => civic_no(&mut record, &mut fields, v),
            "enrolments" => {
                if let Some(items) = fields.expect_list(name, v) {
                    enrolments(&mut record, &mut fields, items, extent(v));
                }
            }
            "meta" => {
                if fields.expect_map(name, v)
                    && let Some((_, created)) = field(v, "created")
                {
                    fields.text_attr(&mut record, "created", "meta.created", created);
                }
            }
            "_embedded" => {
                let duties = field(v, "duties")
                    .and_then(|(_, d)| d.as_seq())
                    .unwrap_or_default();
                let id = field(node, "id").and_then(|(_, i)| i.scalar_text().map(|t| (t, i.span)));
                for d in duties {
                    roles.extend(duty(d, id.clone()));
                }
            }
            _ => keep_extra(&mut record, name, v),
        }
    }
    if record.get("username").is_none()
        && let Some(value) = email
    {
        fields.text_attr(&mut record, "username", "emails.value", value);
    }
    if !fields.ok {
        return None;
    }
    let Some(key) = record_key(&record) else {
        out.problems.push(
            Problem::error("input::missing-key", "person has no `id`")
                .at(file, record.span, "this person")
                .with_help("every ss 12000 person needs its `id`"),
        );
        return None;
    };
    record.key = key;
    Some(record)
}

/// The personnummer, kept only as the extra `civicNo` (see the module documentation).
fn civic_no(record: &mut Record, fields: &mut Fields<'_>, v: &Node) {
    let value = if v.as_map().is_some() {
        field(v, "value").map(|(_, value)| value)
    } else {
        Some(v)
    };
    let Some(value) = value else {
        return;
    };
    if let Some(text) = fields.text("civicNo.value", value) {
        record.extra.insert(
            "civicNo".to_owned(),
            Attr {
                value: Value::Str(text.into()),
                span: value.span,
            },
        );
    }
}

fn enrolments(record: &mut Record, fields: &mut Fields<'_>, items: &[Node], span: Span) {
    let mut forms = Vec::new();
    let mut schools = Vec::new();
    let mut years = Vec::new();
    let mut active = 0usize;
    for e in items {
        if !fields.expect_map("enrolments", e) {
            continue;
        }
        let cancelled =
            field(e, "cancelled").is_some_and(|(_, c)| c.value == NodeValue::Bool(true));
        if cancelled {
            continue;
        }
        active += 1;
        if let Some((_, t)) = field(e, "schoolType")
            && let Some(text) = fields.text("enrolments.schoolType", t)
        {
            forms.push((text, t.span));
        }
        if let Some((_, at)) = field(e, "enroledAt")
            && let Some((_, id)) = field(at, "id")
            && let Some(text) = fields.text("enrolments.enroledAt.id", id)
        {
            schools.push((text, id.span));
        }
        if let Some((_, y)) = field(e, "schoolYear")
            && let Some(text) = fields.text("enrolments.schoolYear", y)
        {
            years.push(text);
        }
    }
    if active > 0 {
        add_to_set(record, "roles", "student".to_owned(), span);
    }
    let first = |items: &[(String, Span)]| items.first().map_or(span, |(_, s)| *s);
    fields.set_attr(record, "school_forms", &forms, first(&forms));
    fields.set_attr(record, "schools", &schools, first(&schools));
    if !years.is_empty() {
        record.extra.insert(
            "schoolYear".to_owned(),
            Attr {
                value: Value::Str(years.join(", ").into()),
                span,
            },
        );
    }
}

/// The role a duty gives its person; `person` is the person the duty is embedded in.
fn duty(node: &Node, person: Option<(String, Span)>) -> Option<Link> {
    let (_, role) = field(node, "dutyRole")?;
    let (person, person_span) = person.or_else(|| {
        let (_, p) = field(node, "person")?;
        let (_, id) = field(p, "id")?;
        id.scalar_text().map(|t| (t, id.span))
    })?;
    Some(Link {
        person,
        person_span,
        value: duty_role(role.as_str()?).to_owned(),
        span: role.span,
    })
}

/// A `dutyRole` of SS 12000 as a konform role.
fn duty_role(text: &str) -> &'static str {
    match ascii_word(text).as_str() {
        "laerare"
        | "foerskollaerare"
        | "foerstelaerare"
        | "lektor"
        | "speciallaerare"
        | "specialpedagog"
        | "speciallaerare_specialpedagog"
        | "fritidspedagog"
        | "oevrig_pedagogisk_personal" => "teacher",
        "rektor"
        | "foerskolechef"
        | "biträdande_rektor"
        | "bitraedande_rektor"
        | "oevrig_arbetsledning" => "leader",
        _ => "staff",
    }
}

fn memberships(group: &Node) -> Vec<Link> {
    let Some((name, span)) = field(group, "displayName")
        .or_else(|| field(group, "id"))
        .and_then(|(_, v)| v.scalar_text().map(|t| (t, v.span)))
    else {
        return Vec::new();
    };
    field(group, "groupMemberships")
        .and_then(|(_, m)| m.as_seq())
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let (_, p) = field(m, "person")?;
            let (_, id) = field(p, "id")?;
            Some(Link {
                person: id.scalar_text()?,
                person_span: id.span,
                value: name.clone(),
                span,
            })
        })
        .collect()
}

fn dedupe(file: FileId, out: &mut ReadResult) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut records = Vec::with_capacity(out.records.len());
    for record in std::mem::take(&mut out.records) {
        if let Some(first) = seen.get(record.key.as_str()) {
            out.problems.push(crate::source::duplicate_key(
                file,
                "person",
                &record.key,
                (record.span, "second person with this id"),
                (*first, "first person with this id"),
                "a person's `id` must be unique within an export",
            ));
            continue;
        }
        seen.insert(record.key.to_string(), record.span);
        records.push(record);
    }
    out.records = records;
}

/// Gives each linked person its role or group; links to persons not in the document are notes.
fn link(file: FileId, out: &mut ReadResult, links: Vec<Link>, attr: &'static str, what: &str) {
    let by_id: HashMap<String, usize> = out
        .records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.str("id").map(|id| (id.to_owned(), i)))
        .collect();
    for l in links {
        match by_id.get(&l.person).and_then(|&i| out.records.get_mut(i)) {
            Some(record) => add_to_set(record, attr, l.value, l.span),
            None => out.problems.push(
                Problem::note(
                    "input::unknown-member",
                    format!(
                        "{what} of person `{}` who is not in this document",
                        l.person
                    ),
                )
                .at(file, l.person_span, "no person with this id")
                .with_help("it is ignored; export the person too"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::yaml::{YamlLimits, parse};

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/samples/ss12000/{name}",
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

    fn detect(text: &str) -> bool {
        parse(text, YamlLimits::default()).is_ok_and(|n| is_ss12000(&n))
    }

    #[test]
    fn detects_ss12000_objects_only() {
        for name in ["person.json", "group.json", "activity.json"] {
            assert!(detect(&sample(name)), "{name}");
        }
        assert!(detect(&format!(
            "{{\"data\": [{}]}}",
            sample("person.json")
        )));
        assert!(!detect("[{\"givenName\": \"a\", \"familyName\": \"b\"}]"));
        assert!(!detect("{\"accounts\": [{\"username\": \"a\"}]}"));
        assert!(!detect(
            "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"civicNo\": \"x\"}"
        ));
    }

    #[test]
    fn skolverket_person() {
        let text = sample("person.json");
        let r = read_text(&text);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let p = &r.records[0];
        assert_eq!(p.key, "123456789");
        assert_eq!(p.str("username"), Some("elev1@soderhavetsgymnasium.se"));
        assert_eq!(p.str("email"), Some("elev1@soderhavetsgymnasium.se"));
        assert_eq!(p.str("given_name"), Some("Given Name Test"));
        assert_eq!(p.str("family_name"), Some("Family Name Test"));
        assert!(p.has_in_set("roles", "student"));
        assert!(p.has_in_set("school_forms", "gy"));
        assert!(p.has_in_set("schools", "fa592db1-912b-57fe-8cf6-df5f81522f01"));
        assert_eq!(at(&text, p.span_of("school_forms")), "\"GY\"");
        assert_eq!(
            at(&text, p.span_of("schools")),
            "\"fa592db1-912b-57fe-8cf6-df5f81522f01\""
        );
        assert_eq!(at(&text, p.span_of("id")), "\"123456789\"");
        assert_eq!(
            p.extra
                .get("middleName")
                .map(|a| a.value.display())
                .as_deref(),
            Some("Middle Name Test")
        );
        assert_eq!(
            p.extra
                .get("schoolYear")
                .map(|a| a.value.display())
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn civic_no_is_kept_out_of_identifiers() {
        let text = sample("person.json");
        let r = read_text(&text);
        let p = &r.records[0];
        let civic = p.extra.get("civicNo");
        assert_eq!(
            civic.map(|a| a.value.display()).as_deref(),
            Some("200112240129")
        );
        assert_eq!(at(&text, civic.map(|a| a.span)), "\"200112240129\"");
        for attr in p.attrs.values() {
            assert!(!attr.value.display().contains("200112240129"), "{attr:?}");
        }
        assert!(!p.key.contains("200112240129"));
        // Without eduPersonPrincipalNames and emails there is no username, never the civicNo.
        let r =
            read_text(r#"{"id": "p1", "civicNo": {"value": "200112240129", "nationality": "SE"}}"#);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.records[0].get("username"), None);
        assert_eq!(r.records[0].key, "p1");
    }

    #[test]
    fn groups_and_duties_link_to_persons_in_the_document() {
        let text = format!(
            r#"{{"persons": [{}, {{"id": "3b0840e9-fb9c-4618-9732-9f6f1627d038", "givenName": "Kayli", "familyName": "Reichel",
                "emails": [{{"value": "k@privat.example", "type": "Privat"}}, {{"value": "kayli.reichel@skola.example", "type": "Skola personal"}}]}}],
              "groups": [{}],
              "duties": [{{"id": "d1", "person": {{"id": "3b0840e9-fb9c-4618-9732-9f6f1627d038"}}, "dutyRole": "Lärare"}},
                         {{"id": "d2", "person": {{"id": "nobody"}}, "dutyRole": "Rektor"}}],
              "activities": [{}]}}"#,
            sample("person.json"),
            sample("group.json"),
            sample("activity.json"),
        );
        let r = read_text(&text);
        assert!(errors(&r).is_empty(), "{:?}", r.problems);
        let k = &r.records[1];
        assert_eq!(k.str("email"), Some("kayli.reichel@skola.example"));
        assert_eq!(k.str("username"), Some("kayli.reichel@skola.example"));
        assert!(k.has_in_set("groups", "llL7TwiELgfsyfu"));
        assert_eq!(at(&text, k.span_of("groups")), "\"llL7TwiELgfsyfu\"");
        assert!(k.has_in_set("roles", "teacher"));
        assert_eq!(at(&text, k.span_of("roles")), "\"Lärare\"");
        // The duty of a person not in the document is a note.
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].code, "konform::input::unknown-member");
    }

    #[test]
    fn embedded_duties_and_cancelled_enrolments() {
        let r = read_text(
            r#"[{"id": "t1", "givenName": "A", "familyName": "B", "_embedded": {"duties": [{"dutyRole": "Förskollärare"}]},
                 "enrolments": [{"schoolType": "GR", "cancelled": true}]}]"#,
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(r.records[0].has_in_set("roles", "teacher"));
        assert!(!r.records[0].has_in_set("roles", "student"));
        assert_eq!(r.records[0].get("school_forms"), None);
    }

    #[test]
    fn documents_without_persons_are_errors() {
        for name in ["group.json", "activity.json"] {
            let r = read_text(&sample(name));
            assert!(r.records.is_empty());
            assert_eq!(errors(&r), ["konform::input::empty"], "{name}");
            assert!(r.problems[0].message.contains("no persons"));
            assert!(
                r.problems[0]
                    .help
                    .as_deref()
                    .is_some_and(|h| h.contains("person.json"))
            );
        }
    }

    #[test]
    fn broken_documents_are_errors_with_spans() {
        let r = read_text("5");
        assert_eq!(errors(&r), ["konform::input::unexpected-shape"]);
        let text = r#"[{"givenName": "A", "familyName": "B"}, {"id": "x", "givenName": "C", "emails": "c@d", "birthDate": "soon"}, {"id": "y", "civicNo": {"value": ["1"]}}, 7]"#;
        let r = read_text(text);
        assert!(r.records.is_empty());
        let found: Vec<(&str, &str)> = r
            .problems
            .iter()
            .map(|p| (p.code.as_str(), at(text, p.primary_span())))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "konform::input::missing-key",
                    "{\"givenName\": \"A\", \"familyName\": \"B\""
                ),
                ("konform::input::bad-value", "\"c@d\""),
                ("konform::input::bad-date", "\"soon\""),
                ("konform::input::bad-value", "["),
                ("konform::input::unexpected-shape", "7"),
            ]
        );
        let text = r#"[{"id": "a", "givenName": "A"}, {"id": "a", "givenName": "B"}]"#;
        let r = read_text(text);
        assert_eq!(errors(&r), ["konform::input::duplicate-key"]);
        assert_eq!(r.records.len(), 1);
    }
}
