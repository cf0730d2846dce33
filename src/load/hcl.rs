//! Terraform HCL (`*.tf`, `*.tfvars`) into the spanned tree, with hcl-edit keeping byte spans.
//! Literals become values; every other expression is kept as its source text tagged `!expr`.
//!
//! Shape of the tree, chosen to match `terraform show -json` so one attribute route works for
//! both: top-level labelled blocks nest by label (`resource.aws_s3_bucket.logs`), `locals`
//! blocks merge into one map, and nested blocks inside a body are lists (`rule[0].destination`),
//! a labelled one under its label (`dynamic[0].replica[0].content[0]`).

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

/// Most repeated keys in object expressions read before giving up.
const MAX_REPEATED_KEYS: usize = 4096;

/// Most bytes parsed again, over all repeated keys of a file, before giving up: each repeated
/// key costs a parse of the whole file, so a large file with many of them is refused rather
/// than parsed for minutes.
const MAX_REPARSED_BYTES: usize = 64 << 20;

/// Parses one HCL file into a map node.
///
/// Terraform accepts an object expression that repeats a key (the last one wins); hcl-edit
/// refuses it. Each repeated key is renamed in a copy of the text (one ASCII letter, so every
/// byte offset stays) and parsed again; keys are then read from the original text, and the
/// tree keeps both entries, of which lookups take the last, as Terraform does.
pub fn parse(text: &str) -> Result<Node, HclError> {
    let mut parsed = text.to_string();
    let mut renamed = 0;
    let mut blanked = false;
    let body = loop {
        match hcl_edit::parser::parse_body(&parsed) {
            Ok(body) => break body,
            Err(e) => {
                // The message only: the error's display quotes the offending line, which is
                // the file's own text and may say anything.
                let repeated = e.message().contains("redefined object key");
                if repeated
                    && renamed < MAX_REPEATED_KEYS
                    && (renamed + 1).saturating_mul(parsed.len()) <= MAX_REPARSED_BYTES
                    && rename_key_at(&mut parsed, e.location().offset())
                {
                    renamed += 1;
                    continue;
                }
                if !blanked {
                    blanked = true;
                    if blank_empty_heredocs(&mut parsed) {
                        continue;
                    }
                }
                return Err(HclError {
                    line: u32::try_from(e.location().line()).unwrap_or(0),
                    column: u32::try_from(e.location().column()).unwrap_or(0),
                    reason: format!("invalid HCL: {}", e.message()),
                });
            }
        }
    };
    let lines = LineIndex::new(text);
    let converter = Converter { text, lines };
    Ok(converter.top_level(&body))
}

/// An empty heredoc whose closing marker is indented (`<<EOT` then `  EOT`) is valid Terraform,
/// but hcl-edit reads its body on to the next line ending in that marker, a later heredoc's.
/// Each one is written as `""` padded with blanks, every byte offset and line kept.
fn blank_empty_heredocs(text: &mut String) -> bool {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut bytes = std::mem::take(text).into_bytes();
    let mut changed = false;
    let mut at = 0;
    while let Some(found) = bytes
        .get(at..)
        .and_then(|rest| rest.windows(2).position(|w| w == b"<<"))
    {
        let start = at + found;
        at = start + 2;
        let mut i = at;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        let name_start = i;
        while bytes.get(i).is_some_and(|b| ident(*b)) {
            i += 1;
        }
        if i == name_start || !bytes[name_start].is_ascii_alphabetic() {
            continue;
        }
        let name = bytes[name_start..i].to_vec();
        let open_end = i;
        if bytes.get(i) == Some(&b'\r') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'\n') {
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        let close_start = i;
        if bytes.get(i..i + name.len()) != Some(name.as_slice()) {
            continue;
        }
        let close_end = i + name.len();
        if bytes.get(close_end).is_some_and(|b| ident(*b)) {
            continue;
        }
        bytes[start] = b'"';
        bytes[start + 1] = b'"';
        for b in &mut bytes[start + 2..open_end] {
            *b = b' ';
        }
        for b in &mut bytes[close_start..close_end] {
            *b = b' ';
        }
        changed = true;
        at = close_end;
    }
    *text = String::from_utf8(bytes).unwrap_or_default();
    changed
}

/// Replaces one ASCII letter of the object key starting at `offset` (after blanks, inside its
/// quotes) by the next letter, so the key differs from the one it repeats. False when there is
/// no ASCII letter or digit to change.
fn rename_key_at(text: &mut String, offset: usize) -> bool {
    let bytes = text.as_bytes();
    let mut at = offset;
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    if bytes.get(at) == Some(&b'"') {
        at += 1;
    }
    let Some(&old) = bytes.get(at) else {
        return false;
    };
    if !old.is_ascii_alphanumeric() {
        return false;
    }
    let new = match old {
        b'z' => b'A',
        b'Z' => b'a',
        b'9' => b'0',
        other => other + 1,
    };
    let mut changed = std::mem::take(text).into_bytes();
    changed[at] = new;
    *text = String::from_utf8(changed).unwrap_or_default();
    true
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
                    let mut node = if depth >= MAX_DEPTH {
                        self.expr_text(inner.span())
                    } else {
                        self.block_body(inner, depth + 1)
                    };
                    // A labelled nested block (`dynamic "replica" { … }`) is its label's list,
                    // as the JSON syntax writes it: `dynamic[0].replica[0].content[0]`.
                    for label in inner.labels.iter().rev() {
                        let span = node.span;
                        node = Node::new(
                            Value::Map(vec![Entry {
                                key: label.as_str().to_string(),
                                key_span: self.span(label.span()),
                                value: Node::new(Value::Seq(vec![node]), span),
                            }]),
                            span,
                        );
                    }
                    let key_span = self.span(inner.ident.span());
                    crate::tree::push_items(&mut entries, ident, key_span, vec![node]);
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
                            // Keys are read from the original text: a repeated key was
                            // renamed in the parsed copy.
                            ObjectKey::Ident(ident) => {
                                let written = self.source(ident.span());
                                let key = if written.is_empty() {
                                    ident.as_str().to_string()
                                } else {
                                    written
                                };
                                (key, self.span(ident.span()))
                            }
                            ObjectKey::Expression(Expression::String(s)) => {
                                let written = self.source(s.span());
                                let inner = written
                                    .strip_prefix('"')
                                    .and_then(|k| k.strip_suffix('"'))
                                    .unwrap_or(&written);
                                let key = if inner.is_empty() || inner.contains('\\') {
                                    s.value().clone()
                                } else {
                                    inner.to_string()
                                };
                                (key, self.span(s.span()))
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

/// Attributes of resource bodies that hold a map; any other object there is a nested block.
const MAP_ATTRIBUTES: &[&str] = &[
    "tags",
    "tags_all",
    "labels",
    "user_labels",
    "resource_labels",
    "freeform_tags",
    "defined_tags",
    "metadata",
    "annotations",
    "variables",
    "parameters",
    "app_settings",
    "environment_variables",
];

/// Terraform's JSON syntax (`*.tf.json`) into the tree `parse` gives for native syntax:
/// strings with `${…}` become expressions, a block given as an array of objects (providers
/// with aliases) becomes one entry per object, objects inside resource bodies become nested
/// block lists, and `"//"` comment keys are dropped. Variable defaults and `*.tfvars.json`
/// values are literal, as Terraform reads them.
pub fn from_json(root: Node, tfvars: bool) -> Node {
    if tfvars {
        return root;
    }
    let span = root.span;
    let mut entries = Vec::new();
    for entry in into_entries(root) {
        if entry.key == "//" {
            continue;
        }
        let value = match entry.key.as_str() {
            "variable" => without_comments(entry.value),
            "resource" | "data" => labelled(entry.value, 2, true),
            "provider" | "module" | "output" | "check" | "import" | "moved" | "removed" => {
                labelled(entry.value, 1, false)
            }
            _ => json_expressions(entry.value, false),
        };
        entries.push(Entry { value, ..entry });
    }
    Node::new(Value::Map(entries), span)
}

fn into_entries(node: Node) -> Vec<Entry> {
    match node.value {
        Value::Map(entries) => entries,
        _ => Vec::new(),
    }
}

fn without_comments(node: Node) -> Node {
    let span = node.span;
    match node.value {
        Value::Map(entries) => Node::new(
            Value::Map(
                entries
                    .into_iter()
                    .filter(|e| e.key != "//")
                    .map(|e| Entry {
                        value: without_comments(e.value),
                        ..e
                    })
                    .collect(),
            ),
            span,
        ),
        other => Node {
            value: other,
            ..node
        },
    }
}

/// A block kind with `levels` labels: `{"aws_s3_bucket": {"logs": {…}}}`. The body of a block
/// given as an array is one entry per item.
fn labelled(node: Node, levels: usize, nested_blocks: bool) -> Node {
    let span = node.span;
    let mut out = Vec::new();
    for entry in into_entries(node) {
        if entry.key == "//" {
            continue;
        }
        if levels > 1 {
            out.push(Entry {
                value: labelled(entry.value, levels - 1, nested_blocks),
                ..entry
            });
            continue;
        }
        let bodies = match entry.value.value {
            Value::Seq(items) => items,
            other => vec![Node {
                value: other,
                ..entry.value
            }],
        };
        for body in bodies {
            out.push(Entry {
                key: entry.key.clone(),
                key_span: entry.key_span,
                value: json_expressions(body, nested_blocks),
            });
        }
    }
    Node::new(Value::Map(out), span)
}

/// Strings with interpolations become expressions; in a resource body (`nested_blocks`), an
/// object that is not a map attribute becomes a one-item list, as a nested block reads.
fn json_expressions(node: Node, nested_blocks: bool) -> Node {
    let span = node.span;
    match node.value {
        Value::Str(s) if s.contains("${") || s.contains("%{") => {
            let mut expr = Node::new(Value::Str(format!("\"{s}\"")), span);
            expr.tag = Some(EXPR_TAG.to_string());
            expr
        }
        Value::Seq(items) => Node::new(
            Value::Seq(
                items
                    .into_iter()
                    .map(|i| json_expressions(i, nested_blocks))
                    .collect(),
            ),
            span,
        ),
        Value::Map(entries) => {
            let mut out = Vec::new();
            for entry in entries {
                if entry.key == "//" {
                    continue;
                }
                let block = nested_blocks
                    && entry.value.is_map()
                    && !MAP_ATTRIBUTES.contains(&entry.key.as_str());
                let value = json_expressions(
                    entry.value,
                    nested_blocks && !MAP_ATTRIBUTES.contains(&entry.key.as_str()),
                );
                let value = if block {
                    let span = value.span;
                    Node::new(Value::Seq(vec![value]), span)
                } else {
                    value
                };
                out.push(Entry { value, ..entry });
            }
            Node::new(Value::Map(out), span)
        }
        other => Node {
            value: other,
            ..node
        },
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
    fn a_labelled_nested_block_reads_as_in_the_json_syntax() {
        let native = parse(
            "resource \"aws_dynamodb_table\" \"t\" {\n  dynamic \"replica\" {\n    for_each = var.r\n    content {\n      region_name = replica.value\n    }\n  }\n}\n",
        )
        .unwrap();
        let json = from_json(
            crate::load::json::parse(
                r#"{"resource": {"aws_dynamodb_table": {"t": {"dynamic": {"replica": {"for_each": "${var.r}", "content": {"region_name": "${replica.value}"}}}}}}}"#,
            )
            .unwrap()
            .unwrap(),
            false,
        );
        for root in [&native, &json] {
            let route =
                "resource.aws_dynamodb_table.t.dynamic[0].replica[0].content[0].region_name";
            let region = root.path(route).unwrap();
            assert_eq!(expression_text(region), Some("replica.value"));
        }
        let label = &native
            .path("resource.aws_dynamodb_table.t.dynamic[0]")
            .unwrap()
            .entries()[0];
        assert_eq!(label.key_span.start.line, 2);
    }

    #[test]
    fn bad_input_is_an_error_with_position() {
        let err = parse("resource \"a\" \"b\" {\n  x = \n}\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse("\u{0}\u{ffff}{{{").is_err());
    }

    #[test]
    fn repeated_object_keys_keep_the_last_value() {
        let text = "locals {\n  m = {\n    a = 1\n    \"a\" = 2\n    b = 3\n    a = 4\n  }\n}\n";
        let root = parse(text).unwrap();
        let m = root.path("locals.m").unwrap();
        assert_eq!(m.get("a").and_then(Node::as_i64), Some(4));
        assert_eq!(m.get("b").and_then(Node::as_i64), Some(3));
        assert_eq!(m.entries().iter().filter(|e| e.key == "a").count(), 3);
        assert_eq!(m.entry("a").unwrap().key_span.start.line, 6);
        // Repeated attributes of a block stay an error, as in Terraform.
        assert!(parse("locals {\n  a = 1\n  a = 2\n}\n").is_err());
    }

    #[test]
    fn a_line_that_quotes_the_repeated_key_message_is_parsed_once() {
        // The error's display quotes the line; only the parser's own message may ask for a
        // renamed key, or each rename parses the file again to no end (found by fuzzing).
        let text = "output \"all\" {\n  value = [\n    local.a\n  x local.b, redefined object key\n  ]\n}\n";
        let started = std::time::Instant::now();
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn repeated_keys_stop_within_the_reparse_budget() {
        let keys: String = (0..64).map(|_| "    a = 1\n").collect();
        let padding = "#".repeat(MAX_REPARSED_BYTES / 32);
        let text = format!("{padding}\nlocals {{\n  m = {{\n{keys}  }}\n}}\n");
        let err = parse(&text).unwrap_err();
        assert!(
            err.reason.contains("redefined object key"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn json_syntax_reads_like_native_syntax() {
        let json = r#"{
  "//": "comment",
  "variable": {"region": {"default": "${literal}"}},
  "provider": {"aws": [{"region": "${var.region}"}, {"alias": "us", "region": "us-east-1"}]},
  "resource": {"aws_s3_bucket": {"logs": {
    "bucket": "logs-${var.env}",
    "tags": {"team": "data"},
    "versioning": {"enabled": true}
  }}}
}"#;
        let root = from_json(crate::load::json::parse(json).unwrap().unwrap(), false);
        let providers = root.path("provider").unwrap().entries();
        assert_eq!(providers.len(), 2);
        assert_eq!(
            expression_text(providers[0].value.get("region").unwrap()),
            Some("var.region")
        );
        let bucket = root.path("resource.aws_s3_bucket.logs").unwrap();
        assert_eq!(bucket.span.start.line, 5);
        assert_eq!(
            bucket.path("versioning[0].enabled").unwrap().as_bool(),
            Some(true)
        );
        assert_eq!(bucket.path("tags.team").unwrap().as_str(), Some("data"));
        assert!(root.get("//").is_none());
        let default = root.path("variable.region.default").unwrap();
        assert_eq!(default.tag, None);
    }

    #[test]
    fn empty_heredoc_before_another_heredoc() {
        let text = "locals {\n  a = 1 != 2 ? \"q\" : <<EOT\n  EOT\n\n  b = (true ? <<-EOT\nnode:\nEOT\n  : \"\")\n  c = \"x\"\n}\n";
        let root = parse(text).unwrap();
        let c = root.path("locals.c").unwrap();
        assert_eq!((c.as_str(), c.span.start.line), (Some("x"), 9));
        assert_eq!(root.path("locals.b").unwrap().span.start.line, 5);
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
