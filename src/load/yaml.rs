//! YAML streams into spanned trees with serde-saphyr, under parser budgets.
//! Booleans follow YAML 1.2 (`NO` stays a string), tags such as `!Ref` are kept on their node.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, Options, Spanned, Tagged};
use std::fmt;

use crate::tree::{Entry, Node, Pos, Span, Value};

/// Limits that stop hostile input (deep nesting, alias bombs, huge streams).
pub const MAX_DEPTH: usize = 256;
pub const MAX_DOCUMENTS: usize = 10_000;
pub const MAX_NODES: usize = 5_000_000;
pub const MAX_ALIASES: usize = 10_000;
/// Events replayed through aliases across one file ("billion laughs" guard).
pub const MAX_REPLAYED_EVENTS: usize = 100_000;

enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<RawNode>),
    Map(Vec<(RawNode, RawNode)>),
}

type RawNode = Spanned<Tagged<RawValue>>;

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_none<E>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
                RawValue::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
                Ok(RawValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
                Ok(RawValue::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawValue, E> {
                Ok(i64::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
            }
            fn visit_i128<E>(self, v: i128) -> Result<RawValue, E> {
                Ok(RawValue::Str(v.to_string()))
            }
            fn visit_u128<E>(self, v: u128) -> Result<RawValue, E> {
                Ok(RawValue::Str(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
                Ok(RawValue::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
                Ok(RawValue::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
                Ok(RawValue::Str(v))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<RawValue, E> {
                Ok(RawValue::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<RawNode>()? {
                    items.push(item);
                }
                Ok(RawValue::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<RawNode, RawNode>()? {
                    entries.push(entry);
                }
                Ok(RawValue::Map(entries))
            }
        }
        deserializer.deserialize_any(RawVisitor)
    }
}

fn span_of(node: &RawNode) -> Span {
    let loc = &node.referenced;
    let start = Pos {
        line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
        column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
    };
    let len = u32::try_from(loc.span().len()).unwrap_or(0);
    let end = match &node.value.0 {
        RawValue::Seq(_) | RawValue::Map(_) => start,
        _ => Pos {
            line: start.line,
            column: start.column.saturating_add(len),
        },
    };
    Span { start, end }
}

fn convert(raw: RawNode) -> Node {
    let span = span_of(&raw);
    let Tagged(value, tag) = raw.value;
    let value = match value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(f) => Value::Float(f),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(convert).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key_node = convert(k);
                    Entry {
                        key: key_node.scalar_text().unwrap_or_default(),
                        key_span: key_node.span,
                        value: convert(v),
                    }
                })
                .collect(),
        ),
    };
    // Core-schema tags say nothing the value does not; keep only application tags like `!Ref`.
    let tag = tag.filter(|t| !t.starts_with("tag:yaml.org,2002:") && !t.starts_with("!!"));
    Node { value, tag, span }
}

/// A parse failure with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub reason: String,
}

fn options() -> Options {
    let mut options = Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.with_snippet = false;
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_nodes = MAX_NODES;
    budget.max_aliases = MAX_ALIASES;
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    options
}

/// Parses every document of a YAML (or JSON) stream. Empty documents are dropped.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let raw: Vec<RawNode> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(|err| {
            let (line, column) = err
                .location()
                .map(|l| {
                    (
                        u32::try_from(l.line()).unwrap_or(0),
                        u32::try_from(l.column()).unwrap_or(0),
                    )
                })
                .unwrap_or((0, 0));
            let message = err.to_string();
            let reason = message
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid YAML")
                .trim()
                .to_string();
            SyntaxError {
                line,
                column,
                reason,
            }
        })?;
    Ok(raw
        .into_iter()
        .map(convert)
        .filter(|n| !n.is_null())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_tags_and_yaml12_booleans() {
        let docs = parse_stream("a: NO\nb: !Ref Foo\n---\nc: [1, 2]\n").unwrap();
        assert_eq!(docs.len(), 2);
        let a = docs[0].get("a").unwrap();
        assert_eq!(a.as_str(), Some("NO"));
        assert_eq!((a.span.start.line, a.span.start.column), (1, 4));
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.tag.as_deref(), Some("!Ref"));
        assert_eq!(docs[1].path("c[1]").and_then(Node::as_i64), Some(2));
    }

    #[test]
    fn merge_keys_expand() {
        let docs = parse_stream("x: &a {k: v}\ny:\n  <<: *a\n  z: 1\n").unwrap();
        assert_eq!(docs[0].path("y.k").and_then(Node::as_str), Some("v"));
    }

    #[test]
    fn broken_yaml_reports_line() {
        let err = parse_stream("a: 1\nb: [1, 2\nc: x\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse_stream(&text).is_err());
    }
}
