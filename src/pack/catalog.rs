//! The catalogue of packs and policies: what `konform policies` lists and `konform explain`
//! shows. Everything comes from a loaded [`PackSet`] and the policy files' text.

use std::path::{Path, PathBuf};

use crate::pack::{self, Pack, PackRef, PackRequest, PackSet, PolicyMeta};
use crate::problem::Problem;
use crate::source::SourceMap;

/// Loads every embedded pack plus the pack folders `extra` (resolved against `cwd`).
pub fn load_all(
    extra: &[PathBuf],
    cwd: &Path,
    sources: &mut SourceMap,
) -> (Option<PackSet>, Vec<Problem>) {
    let request = PackRequest {
        packs: Some(
            pack::embedded_pack_ids()
                .iter()
                .map(|id| PackRef::new(id, Path::new("."), None))
                .collect(),
        ),
        extra: extra
            .iter()
            .map(|p| {
                let abs = cwd.join(p);
                PackRef {
                    name: sources.display(&abs),
                    path: Some(abs),
                    origin: None,
                }
            })
            .collect(),
        ..PackRequest::default()
    };
    pack::load(&request, sources)
}

/// The policies and limits of pack `pack`: policies first, then limits, each sorted by id.
pub fn policies_of<'a>(set: &'a PackSet, pack: &str) -> Vec<&'a PolicyMeta> {
    let mut out: Vec<&PolicyMeta> = set.meta.values().filter(|m| m.pack == pack).collect();
    out.sort_by(|a, b| (a.limit.is_some(), &a.id).cmp(&(b.limit.is_some(), &b.id)));
    out
}

/// The policy or limit `query` names: its full id, or its id within its pack when exactly one
/// pack has a policy of that name (`generic-account`).
pub fn find<'a>(set: &'a PackSet, query: &str) -> Option<&'a PolicyMeta> {
    if let Some(m) = set.meta.get(query) {
        return Some(m);
    }
    let mut short = set
        .meta
        .values()
        .filter(|m| short_id(&m.id) == query && !query.contains('.'));
    match (short.next(), short.next()) {
        (Some(m), None) => Some(m),
        _ => None,
    }
}

/// The id closest to a misspelt `query` (compared with full ids and ids within packs), when one
/// is close enough.
pub fn suggest<'a>(set: &'a PackSet, query: &str) -> Option<&'a str> {
    let score =
        |id: &str| strsim::jaro_winkler(query, id).max(strsim::jaro_winkler(query, short_id(id)));
    let mut ids: Vec<&str> = set.meta.keys().map(String::as_str).collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| (score(id), id))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id)
}

fn short_id(id: &str) -> &str {
    id.split_once('.').map_or(id, |(_, rest)| rest)
}

/// A text on one line: runs of whitespace (folded YAML, line breaks) become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Cedar source of a policy, from the `//` comment lines directly above its `@id` to the
/// `;` that ends it, with the 1-based line it starts on. `None` for a limit (declared in
/// pack.yaml) or when the text cannot be found.
pub fn policy_source(meta: &PolicyMeta, sources: &SourceMap) -> Option<(usize, String)> {
    if meta.limit.is_some() {
        return None;
    }
    let file = sources.get(meta.file);
    let text: &str = file.text();
    let at = meta.span.offset;
    let mut start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    // The comment block directly above says why the policy exists; it belongs to it.
    while start > 0 {
        let above = text.get(..start - 1)?;
        let line_start = above.rfind('\n').map_or(0, |i| i + 1);
        let line = above.get(line_start..)?;
        if !line.trim_start().starts_with("//") {
            break;
        }
        start = line_start;
    }
    let end = policy_end(text, at);
    let (line, _) = file.line_col(start);
    Some((line, text.get(start..end)?.trim_end().to_owned()))
}

/// The offset just after the `;` that ends the policy starting at `from`, skipping `;` inside
/// string literals (`@message("a; b")`) and `//` comments.
fn policy_end(text: &str, from: usize) -> usize {
    let rest = text.get(from..).unwrap_or("");
    let (mut in_string, mut escaped, mut in_comment) = (false, false, false);
    for (i, c) in rest.char_indices() {
        if in_comment {
            in_comment = c != '\n';
        } else if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else {
            match c {
                '"' => in_string = true,
                '/' if rest.get(i + 1..).is_some_and(|r| r.starts_with('/')) => in_comment = true,
                ';' => return from + i + 1,
                _ => {}
            }
        }
    }
    text.len()
}

/// A Markdown cell: pipes escaped, line breaks folded.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// The Markdown section of one pack: scope, description, parameters and policies with
/// severity, message and basis. `heading` is `#` for the pack's own README, `##` in the index.
pub fn markdown_pack(set: &PackSet, pack: &Pack, heading: &str) -> String {
    use std::fmt::Write as _;
    let m = &pack.manifest;
    let scope = match (m.countries.is_empty(), m.states.is_empty()) {
        (true, _) => "all countries".to_owned(),
        (false, true) => m.countries.join(", "),
        (false, false) => format!("{} ({})", m.countries.join(", "), m.states.join(", ")),
    };
    let mut out = format!(
        "{heading} `{}`: {} ({})\n\nScope: {scope}; {}.\n",
        m.id,
        m.title,
        m.version,
        if m.default {
            "applied by default when the school's country and state match"
        } else {
            "applied only when named in konform.yaml"
        }
    );
    if !m.description.is_empty() {
        let _ = write!(out, "\n{}\n", one_line(&m.description));
    }
    if !m.parameters.is_empty() {
        out.push_str(
            "\n| parameter | type | default | stricter | meaning |\n|---|---|---|---|---|\n",
        );
        for p in &m.parameters {
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` | {} | {} |",
                p.name,
                p.ty.name(),
                cell(&p.default.display()),
                p.tighten.map_or("fixed when locked", |t| t.describe()),
                cell(&p.description)
            );
        }
    }
    out.push_str("\n| policy | severity | message | basis |\n|---|---|---|---|\n");
    for meta in policies_of(set, &m.id) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            meta.id,
            meta.severity.name(),
            cell(&meta.message),
            cell(meta.basis.as_deref().unwrap_or(""))
        );
    }
    out
}

/// The README of one pack (`policies/<pack>/README.md`).
pub fn markdown_pack_readme(set: &PackSet, pack: &Pack) -> String {
    let mut out = markdown_pack(set, pack, "#");
    out.push_str(
        "\nGenerated from pack.yaml and the policies' annotations; a test fails when this file \
         is stale (`KONFORM_UPDATE_DOCS=1 cargo test --test integration policy_docs` rewrites \
         it). Test cases are in `tests/`; `konform explain ID` shows a policy with its help, \
         translations and Cedar source.\n",
    );
    out
}

/// The policy index of `set` as Markdown (`policies/README.md`): every pack's section.
pub fn markdown_index(set: &PackSet) -> String {
    let mut out = String::from(
        "# Policy index\n\n\
         Generated by `konform policies --markdown`; a test fails when this file and the packs' \
         READMEs are stale.\n\
         Every policy has test cases in `<pack>/tests/`; `konform explain ID` shows one in full.\n",
    );
    let mut packs: Vec<_> = set.packs.iter().collect();
    packs.sort_by(|a, b| a.manifest.id.cmp(&b.manifest.id));
    for pack in packs {
        out.push('\n');
        out.push_str(&markdown_pack(set, pack, "##"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, Span};

    fn embedded() -> (PackSet, SourceMap) {
        let mut sources = SourceMap::new();
        let (set, problems) = load_all(&[], Path::new("."), &mut sources);
        assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
        match set {
            Some(set) => (set, sources),
            None => panic!("the embedded packs do not load"),
        }
    }

    #[test]
    fn policies_are_found_by_full_or_unique_short_id_and_misspellings_get_a_suggestion() {
        let (set, _) = embedded();
        let full = find(&set, "common.generic-account").map(|m| m.id.as_str());
        assert_eq!(full, Some("common.generic-account"));
        let short = find(&set, "generic-account").map(|m| m.id.as_str());
        assert_eq!(short, Some("common.generic-account"));
        assert!(find(&set, "generic-acount").is_none());
        assert_eq!(
            suggest(&set, "generic-acount"),
            Some("common.generic-account")
        );
        assert_eq!(
            suggest(&set, "eduport.manual-acount-cap"),
            Some("eduport.manual-account-cap")
        );
        assert_eq!(suggest(&set, "zzzz"), None);
    }

    #[test]
    fn a_pack_lists_policies_before_limits() {
        let (set, _) = embedded();
        let ids: Vec<(bool, &str)> = policies_of(&set, "eduport")
            .into_iter()
            .map(|m| (m.limit.is_some(), m.id.as_str()))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
        assert!(ids.contains(&(true, "eduport.manual-account-cap")));
    }

    #[test]
    fn the_source_runs_from_the_comment_above_to_the_closing_semicolon() {
        let text = "// file header\n\n// why a\n@id(\"a\")\n@message(\"x; y // z\")\nforbid (principal, action, resource) // not; this\nwhen { principal.name == \"q;\" };\n// why b\n@id(\"b\")\nforbid (principal, action, resource);\n";
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("p.cedar", None, text));
        let (set, set_sources) = embedded();
        let Some(template) = set.meta.get("common.generic-account") else {
            panic!("no generic-account");
        };
        let at = |needle: &str| {
            let mut m = template.clone();
            m.file = file;
            m.span = Span::new(text.find(needle).unwrap_or(0), needle.len());
            m
        };
        let a = policy_source(&at("@id(\"a\")"), &sources);
        assert_eq!(
            a,
            Some((
                3,
                "// why a\n@id(\"a\")\n@message(\"x; y // z\")\nforbid (principal, action, resource) // not; this\nwhen { principal.name == \"q;\" };".to_owned()
            ))
        );
        let b = policy_source(&at("@id(\"b\")"), &sources);
        assert_eq!(
            b,
            Some((
                8,
                "// why b\n@id(\"b\")\nforbid (principal, action, resource);".to_owned()
            ))
        );
        let mut limit = at("@id(\"b\")");
        limit.limit = Some(0);
        assert_eq!(policy_source(&limit, &sources), None);
        let real = policy_source(template, &set_sources);
        assert!(
            real.is_some_and(|(_, t)| t.contains("@id(\"generic-account\")") && t.ends_with(';'))
        );
    }

    #[test]
    fn one_line_folds_whitespace() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
