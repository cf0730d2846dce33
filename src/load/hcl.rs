//! Terraform HCL (`*.tf`, `*.tfvars`) into the spanned tree, with hcl-edit keeping byte spans.
//! Literals become values; every other expression is kept as its source text tagged `!expr`.
//!
//! Shape of the tree, chosen to match `terraform show -json` so one attribute route works for
//! both: top-level labelled blocks nest by label (`resource.aws_s3_bucket.logs`), `locals`
//! blocks merge into one map, and nested blocks inside a body are lists (`rule[0].destination`).

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body, Structure};

use crate::tree::{Entry, Node, Pos, Span, Value};

/// Tag on nodes whose value is an unevaluated expression (`var.region`, `"${local.x}-a"`).
pub const EXPR_TAG: &str = "!expr";

/// Deepest nesting of blocks and expressions converted; deeper parts become `!expr` text.
const MAX_DEPTH: usize = 64;

#[derive(Debug)]
pub struct HclError {
    pub line: u32,
    pub column: u32,
    pub reason: String,
}

/// Parses one HCL file into a map node.
pub fn parse(text: &str) -> Result<Node, HclError> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| HclError {
        line: u32::try_from(e.location().line()).unwrap_or(0),
        column: u32::try_from(e.location().column()).unwrap_or(0),
        reason: format!("invalid HCL: {}", e.message()),
    })?;
    let lines = LineIndex::new(text);
    let converter = Converter { text, lines };
    Ok(converter.top_level(&body))
}

/// Byte offsets to 1-based line and character column.
struct LineIndex {
    starts: Vec<usize>,
    /// In ASCII text a column is a byte distance: no characters to count.
    ascii: bool,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            ascii: text.is_ascii(),
        }
    }

    fn pos(&self, text: &str, offset: usize) -> Pos {
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let end = offset.min(text.len());
        let column = if self.ascii {
            end.saturating_sub(start)
        } else {
            text.get(start..end).map_or(0, |s| s.chars().count())
        };
        Pos {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

struct Converter<'a> {
    text: &'a str,
    lines: LineIndex,
}

impl Converter<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Span {
        match range {
            Some(r) => Span {
                start: self.lines.pos(self.text, r.start),
                end: self.lines.pos(self.text, r.end),
            },
            None => Span::default(),
        }
    }

    fn source(&self, range: Option<std::ops::Range<usize>>) -> String {
        range
            .and_then(|r| self.text.get(r))
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    }

    /// The file body: labelled blocks nest by label, unlabelled ones (`terraform`, `locals`) merge.
    fn top_level(&self, body: &Body) -> Node {
        let mut entries: Vec<Entry> = Vec::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => entries.push(Entry {
                    key: attr.key.as_str().to_string(),
                    key_span: self.span(attr.key.span()),
                    value: self.expression(&attr.value, 0),
                }),
                Structure::Block(block) => self.insert_top_block(&mut entries, block),
            }
        }
        Node::new(Value::Map(entries), Span::point(1, 1))
    }

    fn insert_top_block(&self, entries: &mut Vec<Entry>, block: &Block) {
        let ident = block.ident.as_str();
        let ident_span = self.span(block.ident.span());
        let body = self.block_body(block, 1);
        let labels: Vec<(&str, Span)> = block
            .labels
            .iter()
            .map(|l| (l.as_str(), self.span(l.span())))
            .collect();
        let slot = match entries.iter().position(|e| e.key == ident) {
            Some(i) => i,
            None => {
                entries.push(Entry {
                    key: ident.to_string(),
                    key_span: ident_span,
                    value: Node::new(Value::Map(Vec::new()), body.span),
                });
                entries.len() - 1
            }
        };
        let Some(top) = entries.get_mut(slot) else {
            return;
        };
        if labels.is_empty() {
            // `locals`, `terraform`: several blocks of one kind read as one map.
            if let (Value::Map(target), Value::Map(more)) = (&mut top.value.value, body.value) {
                target.extend(more);
            }
            return;
        }
        let mut target = &mut top.value;
        let last = labels.len() - 1;
        for (i, (label, label_span)) in labels.iter().enumerate() {
            let Value::Map(map) = &mut target.value else {
                return;
            };
            if i == last {
                // Provider blocks repeat per alias: keep every one as its own entry.
                map.push(Entry {
                    key: (*label).to_string(),
                    key_span: *label_span,
                    value: body,
                });
                return;
            }
            let index = match map.iter().position(|e| e.key == *label) {
                Some(index) => index,
                None => {
                    map.push(Entry {
                        key: (*label).to_string(),
                        key_span: *label_span,
                        value: Node::new(Value::Map(Vec::new()), *label_span),
                    });
                    map.len() - 1
                }
            };
            let Some(entry) = map.get_mut(index) else {
                return;
            };
            target = &mut entry.value;
        }
    }

    /// A block's body as a map spanning the whole block; nested blocks become lists.
    fn block_body(&self, block: &Block, depth: usize) -> Node {
        let mut entries: Vec<Entry> = Vec::new();
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attr) => entries.push(Entry {
                    key: attr.key.as_str().to_string(),
                    key_span: self.span(attr.key.span()),
                    value: self.expression(&attr.value, depth),
                }),
                Structure::Block(inner) => {
                    let ident = inner.ident.as_str();
                    let node = if depth >= MAX_DEPTH {
                        self.expr_text(inner.span())
                    } else {
                        self.block_body(inner, depth + 1)
                    };
                    match entries.iter_mut().find(|e| e.key == ident) {
                        Some(Entry {
                            value:
                                Node {
                                    value: Value::Seq(items),
                                    ..
                                },
                            ..
                        }) => items.push(node),
                        _ => entries.push(Entry {
                            key: ident.to_string(),
                            key_span: self.span(inner.ident.span()),
                            value: Node::new(Value::Seq(vec![node.clone()]), node.span),
                        }),
                    }
                }
            }
        }
        Node::new(Value::Map(entries), self.span(block.span()))
    }

    fn expr_text(&self, range: Option<std::ops::Range<usize>>) -> Node {
        let mut node = Node::new(Value::Str(self.source(range.clone())), self.span(range));
        node.tag = Some(EXPR_TAG.to_string());
        node
    }

    fn expression(&self, expr: &Expression, depth: usize) -> Node {
        let span = self.span(expr.span());
        if depth >= MAX_DEPTH {
            return self.expr_text(expr.span());
        }
        let value = match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => {
                let n = n.value();
                match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => n.as_f64().map_or(Value::Null, Value::Float),
                }
            }
            Expression::String(s) => Value::Str(s.value().clone()),
            Expression::Array(array) => Value::Seq(
                array
                    .iter()
                    .map(|item| self.expression(item, depth + 1))
                    .collect(),
            ),
            Expression::Object(object) => Value::Map(
                object
                    .iter()
                    .map(|(key, value)| {
                        let (text, key_span) = match key {
                            ObjectKey::Ident(ident) => {
                                (ident.as_str().to_string(), self.span(ident.span()))
                            }
                            ObjectKey::Expression(Expression::String(s)) => {
                                (s.value().clone(), self.span(s.span()))
                            }
                            ObjectKey::Expression(other) => {
                                (self.source(other.span()), self.span(other.span()))
                            }
                        };
                        Entry {
                            key: text,
                            key_span,
                            value: self.expression(value.expr(), depth + 1),
                        }
                    })
                    .collect(),
            ),
            Expression::Parenthesis(inner) => return self.expression(inner.inner(), depth + 1),
            _ => return self.expr_text(expr.span()),
        };
        Node::new(value, span)
    }
}

/// The expression text of a node tagged `!expr`, with `"${…}"` around a lone interpolation removed.
pub fn expression_text(node: &Node) -> Option<&str> {
    if node.tag.as_deref() != Some(EXPR_TAG) {
        return None;
    }
    let text = node.as_str()?;
    Some(
        text.strip_prefix("\"${")
            .and_then(|t| t.strip_suffix("}\""))
            .filter(|inner| !inner.contains("${") && !inner.contains('}'))
            .map_or(text, str::trim),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Route;

    const SAMPLE: &str = r#"provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs-${var.env}"
  rule {
    id = "a"
  }
  rule {
    id = "b"
  }
}

locals { a = 1 }
locals { b = "x" }
"#;

    #[test]
    fn blocks_nest_by_label_and_nested_blocks_become_lists() {
        let root = parse(SAMPLE).unwrap();
        let bucket = root.path("resource.aws_s3_bucket.logs").unwrap();
        assert_eq!(bucket.span.start.line, 10);
        assert_eq!(bucket.path("rule[1].id").unwrap().as_str(), Some("b"));
        let name = bucket.get("bucket").unwrap();
        assert_eq!(name.tag.as_deref(), Some(EXPR_TAG));
        assert_eq!(
            name.span.start,
            Pos {
                line: 11,
                column: 12
            }
        );
        let providers = root.path("provider").unwrap().entries();
        assert_eq!(providers.len(), 2);
        assert_eq!(
            expression_text(providers[0].value.get("region").unwrap()),
            Some("var.region")
        );
        assert_eq!(
            root.at(&Route::parse("locals.b")).unwrap().as_str(),
            Some("x")
        );
    }

    #[test]
    fn bad_input_is_an_error_with_position() {
        let err = parse("resource \"a\" \"b\" {\n  x = \n}\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse("\u{0}\u{ffff}{{{").is_err());
    }

    #[test]
    fn lone_interpolation_is_unwrapped() {
        let root = parse("a = \"${var.region}\"\nb = \"${var.x}-1\"\n").unwrap();
        assert_eq!(expression_text(root.get("a").unwrap()), Some("var.region"));
        assert_eq!(
            expression_text(root.get("b").unwrap()),
            Some("\"${var.x}-1\"")
        );
    }
}
