//! JSON (with comments and trailing commas tolerated) into spanned trees with jsonc-parser.
//! Byte ranges are turned into 1-based line/column once, through a line index.

use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use super::yaml::SyntaxError;
use crate::tree::{Entry, Node, Pos, Span, Value};

/// Byte offsets of line starts, to turn offsets into line/column.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// In ASCII text a column is a byte distance; no need to count characters.
    ascii: bool,
    /// The last (line start, offset, characters from line start) computed: nodes are visited in
    /// text order, so counting continues from there. `terraform show -json` writes a plan on
    /// one line, where counting from the line start each time would be quadratic.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            text,
            starts,
            ascii: text.is_ascii(),
            last: std::cell::Cell::new((0, 0, 0)),
        }
    }

    fn chars_between(&self, start: usize, end: usize) -> usize {
        if self.ascii {
            return end.saturating_sub(start);
        }
        let (last_start, last_offset, last_chars) = self.last.get();
        let counted = if last_start == start && last_offset <= end {
            self.text
                .get(last_offset..end)
                .map(|s| last_chars + s.chars().count())
        } else {
            None
        };
        let chars = counted.unwrap_or_else(|| {
            self.text
                .get(start..end)
                .map_or(end.saturating_sub(start), |s| s.chars().count())
        });
        self.last.set((start, end, chars));
        chars
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let end = offset.min(self.text.len());
        let column = self.chars_between(start, end);
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        Span {
            start: self.pos(start),
            end: self.pos(end),
        }
    }
}

const MAX_DEPTH: usize = 512;

fn convert(value: ast::Value<'_>, lines: &LineIndex<'_>, depth: usize) -> Node {
    let (value, range) = match value {
        ast::Value::StringLit(s) => (Value::Str(s.value.into_owned()), s.range),
        ast::Value::NumberLit(n) => {
            let v = n
                .value
                .parse::<i64>()
                .map(Value::Int)
                .or_else(|_| n.value.parse::<f64>().map(Value::Float))
                .unwrap_or_else(|_| Value::Str(n.value.to_string()));
            (v, n.range)
        }
        ast::Value::BooleanLit(b) => (Value::Bool(b.value), b.range),
        ast::Value::NullKeyword(n) => (Value::Null, n.range),
        ast::Value::Array(a) if depth < MAX_DEPTH => (
            Value::Seq(
                a.elements
                    .into_iter()
                    .map(|v| convert(v, lines, depth + 1))
                    .collect(),
            ),
            a.range,
        ),
        ast::Value::Object(o) if depth < MAX_DEPTH => (
            Value::Map(
                o.properties
                    .into_iter()
                    .map(|p| {
                        let key_range = match &p.name {
                            ast::ObjectPropName::String(s) => s.range,
                            ast::ObjectPropName::Word(w) => w.range,
                        };
                        Entry {
                            key_span: lines.span(key_range.start, key_range.end),
                            key: p.name.into_string(),
                            value: convert(p.value, lines, depth + 1),
                        }
                    })
                    .collect(),
            ),
            o.range,
        ),
        ast::Value::Array(a) => (Value::Null, a.range),
        ast::Value::Object(o) => (Value::Null, o.range),
    };
    Node::new(value, lines.span(range.start, range.end))
}

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let lines = LineIndex::new(text);
    let result = parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default()).map_err(
        |err| {
            let range = err.range();
            let pos = lines.pos(range.start);
            SyntaxError {
                line: pos.line,
                column: pos.column,
                reason: err.kind().to_string(),
            }
        },
    )?;
    Ok(result.value.map(|v| convert(v, &lines, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let node = parse("{\n  \"a\": {\"b\": \"x\"}\n}").unwrap().unwrap();
        let b = node.path("a.b").unwrap();
        assert_eq!((b.span.start.line, b.span.start.column), (2, 14));
        let e = node.entry("a").unwrap();
        assert_eq!((e.key_span.start.line, e.key_span.start.column), (2, 3));
    }

    #[test]
    fn columns_count_characters_on_long_non_ascii_lines() {
        // One line, as `terraform show -json` writes it, with multi-byte characters before.
        let node = parse("{\"ä\": \"ü€\", \"b\": [1, {\"c\": \"é\"}], \"d\": 2}")
            .unwrap()
            .unwrap();
        assert_eq!(node.get("b").unwrap().span.start.column, 18);
        assert_eq!(node.path("b[1].c").unwrap().span.start.column, 28);
        assert_eq!(node.get("d").unwrap().span.start.column, 40);
        assert_eq!(node.entry("d").unwrap().key_span.start.column, 35);
    }

    #[test]
    fn broken_json_has_position() {
        let err = parse("{\n \"a\": [1,\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }
}
