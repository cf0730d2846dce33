//! A finding written as `serde_json`'s pretty printer writes it, without going through serde:
//! a large report is mostly findings, hundreds of thousands of them. The texts a finding
//! shares with others (its rule's name, title, remediation and references, its path) are
//! written once per piece of findings and copied after.
//!
//! Every field is named where it is written: a field added to a finding, its resource, its
//! location or its suppression does not compile until it is written here too.

use std::sync::Arc;

use crate::finding::{Finding, ResourceRef};
use crate::location::Location;
use crate::suppress::Suppression;

/// Texts already written, each held by the text it was written from: while it is held, the
/// same address is the same text.
#[derive(Default)]
pub struct Written {
    texts: Vec<(Arc<str>, Box<[u8]>)>,
    lists: Vec<WrittenList>,
}

/// A list of texts written as an array `depth` levels in.
struct WrittenList {
    list: Arc<[String]>,
    depth: usize,
    json: Box<[u8]>,
}

impl Written {
    /// `text` as a JSON string.
    fn text(&mut self, out: &mut Vec<u8>, text: &Arc<str>) {
        if let Some((_, json)) = self.texts.iter().find(|(t, _)| Arc::ptr_eq(t, text)) {
            out.extend_from_slice(json);
            return;
        }
        let mut json = Vec::with_capacity(text.len() + 2);
        string(&mut json, text);
        out.extend_from_slice(&json);
        self.texts.push((Arc::clone(text), json.into_boxed_slice()));
    }

    /// `list` as a JSON array of strings, `depth` levels in.
    fn list(&mut self, out: &mut Vec<u8>, list: &Arc<[String]>, depth: usize) {
        let known = (self.lists.iter()).find(|w| Arc::ptr_eq(&w.list, list) && w.depth == depth);
        if let Some(known) = known {
            out.extend_from_slice(&known.json);
            return;
        }
        let mut json = Vec::new();
        if list.is_empty() {
            json.extend_from_slice(b"[]");
        } else {
            json.push(b'[');
            for (n, item) in list.iter().enumerate() {
                json.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
                indent(&mut json, depth + 1);
                string(&mut json, item);
            }
            json.push(b'\n');
            indent(&mut json, depth);
            json.push(b']');
        }
        out.extend_from_slice(&json);
        self.lists.push(WrittenList {
            list: Arc::clone(list),
            depth,
            json: json.into_boxed_slice(),
        });
    }
}

fn indent(out: &mut Vec<u8>, depth: usize) {
    // Writing into a vector cannot fail.
    let _ = super::json::pretty::indent(out, depth);
}

/// `text` as a JSON string, escaped as `serde_json` escapes it. Most texts need no escape: they
/// are checked 16 bytes at a time and copied.
fn string(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        // Writing into a vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
        return;
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Whether a byte of `bytes` is one `serde_json` escapes: a control character, `"` or `\`.
fn needs_escape(bytes: &[u8]) -> bool {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        // No early exit inside a chunk: the compiler checks it as one vector.
        if chunk.iter().fold(false, |any, &b| any | escaped(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| escaped(b))
}

/// The fields of an object `depth` levels in: each key on its own line, one level deeper.
struct Fields<'o> {
    out: &'o mut Vec<u8>,
    depth: usize,
    any: bool,
}

impl<'o> Fields<'o> {
    fn open(out: &'o mut Vec<u8>, depth: usize) -> Self {
        out.push(b'{');
        Fields {
            out,
            depth,
            any: false,
        }
    }

    /// `"name": ` on a new line; what follows is the value.
    fn key(&mut self, name: &str) -> &mut Vec<u8> {
        // Room for the separator, the indentation and the key at once.
        self.out.reserve(2 + 2 * (self.depth + 1) + name.len() + 4);
        self.out
            .extend_from_slice(if self.any { b",\n" } else { b"\n" });
        indent(self.out, self.depth + 1);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\": ");
        self.any = true;
        self.out
    }

    fn str(&mut self, name: &str, value: &str) {
        string(self.key(name), value);
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(name, value);
        }
    }

    fn number(&mut self, name: &str, value: u64) {
        super::json::digits(self.key(name), value);
    }

    fn close(self) {
        if self.any {
            self.out.push(b'\n');
            indent(self.out, self.depth);
        }
        self.out.push(b'}');
    }
}

/// `finding` as `serde_json` writes it `depth` levels in, its first line not indented.
pub fn write(out: &mut Vec<u8>, finding: &Finding, depth: usize, written: &mut Written) {
    let Finding {
        rule_id,
        rule_name,
        category,
        severity,
        title,
        message,
        resource,
        location,
        related,
        evidence,
        remediation,
        references,
        fingerprint,
        key: _,
        suppression,
        baseline,
    } = finding;
    let mut fields = Fields::open(out, depth);
    written.text(fields.key("rule_id"), rule_id);
    written.text(fields.key("rule_name"), rule_name);
    fields.str("category", category.as_str());
    fields.str("severity", severity.as_str());
    written.text(fields.key("title"), title);
    fields.str("message", message);
    write_resource(fields.key("resource"), resource, depth + 1);
    write_location(fields.key("location"), location, depth + 1, written);
    if !related.is_empty() {
        let out = fields.key("related");
        out.push(b'[');
        for (n, place) in related.iter().enumerate() {
            out.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
            indent(out, depth + 2);
            write_location(out, place, depth + 2, written);
        }
        out.push(b'\n');
        indent(out, depth + 1);
        out.push(b']');
    }
    fields.opt("evidence", evidence.as_deref());
    written.text(fields.key("remediation"), remediation);
    written.list(fields.key("references"), references, depth + 1);
    fields.str("fingerprint", fingerprint);
    if let Some(suppression) = suppression {
        write_suppression(fields.key("suppression"), suppression, depth + 1);
    }
    fields.opt("baseline", baseline.map(|b| b.as_str()));
    fields.close();
}

fn write_resource(out: &mut Vec<u8>, resource: &ResourceRef, depth: usize) {
    let ResourceRef {
        kind,
        name,
        namespace,
        address,
        format,
        provider,
        service,
        region,
        country,
        jurisdiction,
        note,
        tied: _,
    } = resource;
    let mut fields = Fields::open(out, depth);
    fields.str("kind", kind);
    fields.str("name", name);
    fields.opt("namespace", namespace.as_deref());
    fields.str("address", address);
    fields.str("format", format);
    fields.opt("provider", provider.as_deref());
    fields.opt("service", service.as_deref());
    fields.opt("region", region.as_deref());
    fields.opt("country", country.as_deref());
    fields.opt("jurisdiction", jurisdiction.as_deref());
    fields.opt("note", note.as_deref());
    fields.close();
}

fn write_location(out: &mut Vec<u8>, location: &Location, depth: usize, written: &mut Written) {
    let Location {
        path,
        start_line,
        start_column,
        end_line,
        end_column,
        document,
        field,
    } = location;
    let mut fields = Fields::open(out, depth);
    written.text(fields.key("path"), path);
    fields.number("start_line", u64::from(*start_line));
    fields.number("start_column", u64::from(*start_column));
    fields.number("end_line", u64::from(*end_line));
    fields.number("end_column", u64::from(*end_column));
    fields.number("document", *document as u64);
    fields.str("field", field);
    fields.close();
}

fn write_suppression(out: &mut Vec<u8>, suppression: &Suppression, depth: usize) {
    let Suppression {
        kind,
        reason,
        until,
    } = suppression;
    let mut fields = Fields::open(out, depth);
    fields.str("kind", kind);
    fields.opt("reason", reason.as_deref());
    fields.opt("until", until.as_deref());
    fields.close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineState;
    use crate::finding::{Category, Severity};
    use proptest::prelude::*;

    /// Texts with what JSON escapes (quotes, backslashes, control characters), non-ASCII
    /// letters, and lengths on both sides of the 16 bytes checked at once.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9./-]{0,40}",
            proptest::collection::vec(
                prop_oneof![
                    Just('"'),
                    Just('\\'),
                    Just('\n'),
                    Just('\t'),
                    Just('\u{1}'),
                    Just('\u{1f}'),
                    Just('\u{7f}'),
                    Just('é'),
                    Just('日'),
                    Just('😀'),
                    proptest::char::range('a', 'z'),
                ],
                0..40,
            )
            .prop_map(|chars| chars.into_iter().collect()),
        ]
    }

    fn location() -> impl Strategy<Value = Location> {
        (
            text(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<usize>(),
            text(),
        )
            .prop_map(
                |(path, start_line, start_column, end_line, document, field)| Location {
                    path: Arc::from(path),
                    start_line,
                    start_column,
                    end_line,
                    end_column: start_column / 2,
                    document,
                    field,
                },
            )
    }

    fn resource() -> impl Strategy<Value = ResourceRef> {
        let opt = || proptest::option::of(text());
        (
            (text(), text(), opt(), text(), text()),
            (opt(), opt(), opt(), opt(), opt(), opt(), any::<bool>()),
        )
            .prop_map(
                |(
                    (kind, name, namespace, address, format),
                    (provider, service, region, country, jurisdiction, note, tied),
                )| ResourceRef {
                    kind,
                    name,
                    namespace,
                    address,
                    format,
                    provider,
                    service,
                    region,
                    country,
                    jurisdiction,
                    note,
                    tied,
                },
            )
    }

    fn suppression() -> impl Strategy<Value = Suppression> {
        (
            prop_oneof![Just("inline"), Just("metadata")],
            proptest::option::of(text()),
            proptest::option::of(text()),
        )
            .prop_map(|(kind, reason, until)| Suppression {
                kind,
                reason,
                until,
            })
    }

    fn finding() -> impl Strategy<Value = Finding> {
        let category = prop_oneof![
            Just(Category::Residency),
            Just(Category::Gdpr),
            Just(Category::Hyperscaler)
        ];
        let severity = proptest::sample::select(Severity::ALL.to_vec());
        let baseline = proptest::option::of(prop_oneof![
            Just(BaselineState::New),
            Just(BaselineState::Unchanged)
        ]);
        (
            (text(), text(), category, severity, text(), text()),
            (
                resource(),
                location(),
                proptest::collection::vec(location(), 0..3),
            ),
            (
                proptest::option::of(text()),
                text(),
                proptest::collection::vec(text(), 0..3),
            ),
            (
                text(),
                text(),
                proptest::option::of(suppression()),
                baseline,
            ),
        )
            .prop_map(
                |(
                    (rule_id, rule_name, category, severity, title, message),
                    (resource, location, related),
                    (evidence, remediation, references),
                    (fingerprint, key, suppression, baseline),
                )| Finding {
                    rule_id: Arc::from(rule_id),
                    rule_name: Arc::from(rule_name),
                    category,
                    severity,
                    title: Arc::from(title),
                    message,
                    resource: Arc::new(resource),
                    location,
                    related,
                    evidence,
                    remediation: Arc::from(remediation),
                    references: Arc::from(references),
                    fingerprint,
                    key,
                    suppression: suppression.map(Box::new),
                    baseline,
                },
            )
    }

    fn serde_text(finding: &Finding, depth: usize) -> String {
        let mut text = Vec::new();
        super::super::json::pretty::serialize(&mut text, finding, depth)
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(text).unwrap_or_else(|e| panic!("{e}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Each finding is written as `serde_json` writes it, at any depth, also when its
        /// texts were written before for another finding (shared, as a store shares them).
        #[test]
        fn findings_are_written_as_serde_json_writes_them(
            findings in proptest::collection::vec(finding(), 1..4),
            depth in 0usize..4,
        ) {
            let mut written = Written::default();
            for round in 0..2 {
                for f in &findings {
                    let mut ours = Vec::new();
                    write(&mut ours, f, depth, &mut written);
                    let ours = String::from_utf8(ours).unwrap_or_else(|e| panic!("{e}"));
                    prop_assert_eq!(ours, serde_text(f, depth), "round {}", round);
                }
            }
        }
    }

    #[test]
    fn texts_that_json_escapes_are_found_wherever_they_lie() {
        for len in 0..40 {
            assert!(!needs_escape("a".repeat(len).as_bytes()));
            for at in 0..len {
                for b in [b'"', b'\\', 0, 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert!(needs_escape(&bytes), "{len} bytes, {b:#x} at {at}");
                }
            }
        }
        assert!(!needs_escape("é日😀\u{7f} ".as_bytes()));
    }
}
