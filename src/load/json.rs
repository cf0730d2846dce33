//! JSON (with comments and trailing commas tolerated) into spanned trees with jsonc-parser.
//! Byte ranges are turned into 1-based line/column once, through a line index.

use std::borrow::Cow;

use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use super::yaml::SyntaxError;
use crate::tree::{Entry, Node, Pos, Span, Value};

/// Characters counted per block of this many bytes, so that a column is found in constant time.
const BLOCK: usize = 64;

/// Byte offsets of line starts, to turn offsets into line/column.
pub struct LineIndex<'a> {
    text: &'a str,
    /// Offsets of the starts of the lines indexed, the first being line `first_line + 1`.
    starts: Cow<'a, [usize]>,
    first_line: usize,
    /// Characters before the indexed text on its first line, when it starts within a line
    /// (an item of a snapshot read a window at a time).
    first_column: usize,
    /// Characters before each `BLOCK`-byte block, in text that is not all ASCII (in ASCII text
    /// a column is a byte distance). Containers are reached after their children, and
    /// `terraform show -json` writes a plan on one line, so each offset is answered from
    /// this table rather than by counting from the line start or the last offset asked.
    blocks: Option<Cow<'a, [usize]>>,
}

/// Characters in `bytes`: every byte that does not continue a multi-byte character.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let blocks = (!text.is_ascii()).then(|| {
            let mut total = 0;
            let mut blocks = Vec::with_capacity(text.len() / BLOCK + 2);
            for chunk in text.as_bytes().chunks(BLOCK) {
                blocks.push(total);
                total += count_chars(chunk);
            }
            // The end of a text whose length is a multiple of `BLOCK` starts a block too.
            blocks.push(total);
            blocks
        });
        LineIndex {
            text,
            starts: Cow::Owned(starts),
            first_line: 0,
            first_column: 0,
            blocks: blocks.map(Cow::Owned),
        }
    }

    /// The index of a part of a larger text that starts at `line` and `column` (1-based, the
    /// column in characters) of the whole: positions are those in the whole text.
    pub fn part(text: &'a str, line: u32, column: u32) -> Self {
        LineIndex {
            first_line: (line as usize).saturating_sub(1),
            first_column: (column as usize).saturating_sub(1),
            ..LineIndex::new(text)
        }
    }

    /// The index of the lines `range` spans only: the lines of one item of a large snapshot
    /// are searched among its own few, not among the millions of the whole file.
    pub fn narrowed(&self, range: std::ops::Range<usize>) -> LineIndex<'_> {
        let first = self.starts.partition_point(|&s| s <= range.start).max(1) - 1;
        let last = self
            .starts
            .partition_point(|&s| s <= range.end)
            .max(first + 1);
        LineIndex {
            text: self.text,
            starts: Cow::Borrowed(&self.starts[first..last]),
            first_line: self.first_line + first,
            first_column: if first == 0 { self.first_column } else { 0 },
            blocks: self.blocks.as_deref().map(Cow::Borrowed),
        }
    }

    /// Characters before byte `offset`.
    fn chars_before(&self, blocks: &[usize], offset: usize) -> usize {
        let block = offset / BLOCK;
        let base = blocks.get(block).copied().unwrap_or(0);
        let from = (block * BLOCK).min(self.text.len());
        base + count_chars(&self.text.as_bytes()[from..offset])
    }

    fn chars_between(&self, start: usize, end: usize) -> usize {
        match &self.blocks {
            None => end.saturating_sub(start),
            Some(blocks) => self
                .chars_before(blocks, end)
                .saturating_sub(self.chars_before(blocks, start)),
        }
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let index = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[index - 1];
        let line = self.first_line + index;
        let end = offset.min(self.text.len());
        let mut column = self.chars_between(start.min(end), end);
        if index == 1 {
            column += self.first_column;
        }
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

/// `base` is the offset in the indexed text of the text the value was parsed from.
fn convert(value: ast::Value<'_>, lines: &LineIndex<'_>, base: usize, depth: usize) -> Node {
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
                    .map(|v| convert(v, lines, base, depth + 1))
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
                            key_span: lines.span(base + key_range.start, base + key_range.end),
                            key: p.name.into_string(),
                            value: convert(p.value, lines, base, depth + 1),
                        }
                    })
                    .collect(),
            ),
            o.range,
        ),
        ast::Value::Array(a) => (Value::Null, a.range),
        ast::Value::Object(o) => (Value::Null, o.range),
    };
    Node::new(value, lines.span(base + range.start, base + range.end))
}

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let lines = LineIndex::new(text);
    parse_range(text, &lines, 0..text.len())
}

/// Parses the JSON value at `range` of `text`, with positions in the whole text (`lines` is
/// its index).
pub fn parse_range(
    text: &str,
    lines: &LineIndex<'_>,
    range: std::ops::Range<usize>,
) -> Result<Option<Node>, SyntaxError> {
    let base = range.start;
    let lines = &lines.narrowed(range.clone());
    let part = text.get(range).unwrap_or_default();
    let result = parse_to_ast(part, &CollectOptions::default(), &ParseOptions::default()).map_err(
        |err| {
            let pos = lines.pos(base + err.range().start);
            SyntaxError {
                line: pos.line,
                column: pos.column,
                reason: err.kind().to_string(),
            }
        },
    )?;
    Ok(result.value.map(|v| convert(v, lines, base, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_text_a_whole_number_of_blocks_long_has_its_column() {
        // 2 bytes for "é", then ASCII up to 128 bytes: the end starts a block of its own.
        let text = format!("é{}", "a".repeat(2 * BLOCK - 2));
        assert_eq!(text.len() % BLOCK, 0);
        let pos = LineIndex::new(&text).pos(text.len());
        assert_eq!((pos.line, pos.column), (1, 2 * BLOCK as u32));
    }

    #[test]
    fn a_narrowed_index_answers_as_the_whole_one() {
        let text = "{\n \"ä\": [\n  {\"b\": \"€\"},\n  {\"c\": 1}\n ]\n}\n";
        let whole = LineIndex::new(text);
        let start = text.find("{\"c\"").unwrap();
        let end = start + "{\"c\": 1}".len();
        let narrowed = whole.narrowed(start..end);
        for offset in start..=end {
            assert_eq!(narrowed.pos(offset), whole.pos(offset), "at {offset}");
        }
        let item = parse_range(text, &whole, start..end).unwrap().unwrap();
        assert_eq!((item.span.start.line, item.span.start.column), (4, 3));
        assert_eq!(item.get("c").unwrap().span.start.column, 9);
    }

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
    fn containers_after_children_keep_their_columns() {
        // A container's span is asked for after its children's: the start must not depend on
        // what was asked before.
        let node = parse("{\"x\": \"ö\", \"a\": {\"b\": [\"ü\", {\"c\": 1}]}}")
            .unwrap()
            .unwrap();
        let a = node.get("a").unwrap();
        assert_eq!((a.span.start.column, a.span.end.column), (17, 39));
        assert_eq!(node.path("a.b").unwrap().span.start.column, 23);
        assert_eq!(node.path("a.b[1].c").unwrap().span.start.column, 35);
    }

    #[test]
    fn broken_json_has_position() {
        let err = parse("{\n \"a\": [1,\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }
}
