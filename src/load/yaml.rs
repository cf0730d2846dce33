//! YAML streams into spanned trees, built straight from the events of serde-saphyr's parser
//! (`granit_parser`) under our own budgets. Booleans and numbers follow the YAML 1.2 core schema
//! (`NO` stays a string), anchors, aliases and merge keys are resolved, tags like `!Ref` are kept.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span as EventSpan, Tag};
use std::collections::{HashMap, HashSet};

use crate::tree::{Entry, Node, Pos, Span, Value};

/// Limits that stop hostile input (deep nesting, alias bombs, huge streams).
pub const MAX_DEPTH: usize = 256;
pub const MAX_DOCUMENTS: usize = 10_000;
pub const MAX_NODES: usize = 5_000_000;
/// Nodes copied through aliases across one file ("billion laughs" guard).
pub const MAX_ALIAS_NODES: usize = 100_000;

/// A parse failure with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub reason: String,
}

fn pos(marker: &serde_saphyr::granit_parser::Marker) -> Pos {
    Pos {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
        column: u32::try_from(marker.col() + 1).unwrap_or(u32::MAX),
    }
}

fn span(s: &EventSpan) -> Span {
    Span {
        start: pos(&s.start),
        end: pos(&s.end),
    }
}

fn error_at(s: &EventSpan, reason: impl Into<String>) -> SyntaxError {
    let p = pos(&s.start);
    SyntaxError {
        line: p.line,
        column: p.column,
        reason: reason.into(),
    }
}

/// Application tags (`!Ref`, `!Sub`) are kept; core-schema tags (`!!str`) only steer typing.
fn application_tag(tag: Option<&Tag>) -> Option<String> {
    tag.filter(|t| !t.is_yaml_core_schema())
        .map(ToString::to_string)
}

fn core_tag(tag: Option<&Tag>) -> Option<&str> {
    tag.filter(|t| t.is_yaml_core_schema()).map(Tag::suffix)
}

/// Types a plain scalar by the YAML 1.2 core schema; numbers with leading zeros stay strings
/// (account ids such as `012345678901`).
fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return Value::Str(text.to_string());
        }
        return text
            .parse::<i64>()
            .map_or_else(|_| Value::Str(text.to_string()), Value::Int);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let looks_float = digits
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_float && let Ok(f) = text.parse::<f64>() {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    match core_tag(tag) {
        Some("str") => return Value::Str(text.to_string()),
        Some("null") => return Value::Null,
        Some("int" | "float" | "bool") => return plain_scalar(text),
        _ => {}
    }
    if style == ScalarStyle::Plain && tag.is_none() {
        plain_scalar(text)
    } else {
        Value::Str(text.to_string())
    }
}

enum Frame {
    Seq {
        node: Node,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        node: Node,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
        merges: Vec<Node>,
    },
}

fn count_nodes(node: &Node) -> usize {
    1 + node.items().iter().map(count_nodes).sum::<usize>()
        + node
            .entries()
            .iter()
            .map(|e| count_nodes(&e.value))
            .sum::<usize>()
}

/// Mapping entries with merged (`<<`) entries first, so explicit keys win under last-wins lookup.
fn merged_entries(entries: Vec<Entry>, merges: Vec<Node>) -> Vec<Entry> {
    if merges.is_empty() {
        return entries;
    }
    // Keys seen so far, so merging stays linear in the number of entries.
    let mut seen: HashSet<String> = entries.iter().map(|e| e.key.clone()).collect();
    let mut out: Vec<Entry> = Vec::new();
    for merge in merges {
        let sources: Vec<Node> = match merge.value {
            Value::Seq(items) => items,
            _ => vec![merge],
        };
        for source in sources {
            let Value::Map(source_entries) = source.value else {
                continue;
            };
            for e in source_entries {
                if seen.insert(e.key.clone()) {
                    out.push(e);
                }
            }
        }
    }
    out.extend(entries);
    out
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    /// Anchors some alias refers to: only these are kept (copied) when their node is finished.
    used_anchors: HashSet<usize>,
    nodes: usize,
    alias_nodes: usize,
    documents: Vec<Node>,
    /// How many documents there were at the last document start (where their budget is
    /// checked).
    before_last_start: Option<usize>,
}

impl Builder {
    /// Places a finished node into its parent, or makes it the document root.
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), String> {
        if anchor != 0 && self.used_anchors.contains(&anchor) {
            // Keeping a copy costs like expanding an alias: nested anchors would otherwise copy
            // their subtrees once per level.
            self.alias_nodes += count_nodes(&node);
            if self.alias_nodes > MAX_ALIAS_NODES {
                return Err(format!(
                    "aliases expand to more than {MAX_ALIAS_NODES} nodes"
                ));
            }
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                merges,
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k)
                    if k.as_str() == Some("<<") && (node.is_map() || !node.items().is_empty()) =>
                {
                    merges.push(node)
                }
                Some(k) => entries.push(Entry {
                    key: k.scalar_text().unwrap_or_default(),
                    key_span: k.span,
                    value: node,
                }),
            },
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, at: &EventSpan) -> Result<(), SyntaxError> {
        let is_sequence = matches!(event, Event::SequenceStart(..));
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(at)?;
                let node = Node {
                    value: scalar_value(&text, style, tag.as_deref()),
                    tag: application_tag(tag.as_deref()),
                    span: span(at),
                };
                self.finish(node, anchor).map_err(|e| error_at(at, e))?;
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag) => {
                self.count(at)?;
                if self.stack.len() >= MAX_DEPTH {
                    return Err(error_at(
                        at,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let node = Node {
                    value: Value::Null,
                    tag: application_tag(tag.as_deref()),
                    span: Span::point(pos(&at.start).line, pos(&at.start).column),
                };
                self.stack.push(if is_sequence {
                    Frame::Seq {
                        node,
                        anchor,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        node,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(error_at(at, "unbalanced end of collection"));
                };
                let (node, anchor) = match frame {
                    Frame::Seq {
                        mut node,
                        anchor,
                        items,
                    } => {
                        node.value = Value::Seq(items);
                        (node, anchor)
                    }
                    Frame::Map {
                        mut node,
                        anchor,
                        entries,
                        merges,
                        ..
                    } => {
                        node.value = Value::Map(merged_entries(entries, merges));
                        (node, anchor)
                    }
                };
                let mut node = node;
                node.span.end = pos(&at.end);
                self.finish(node, anchor).map_err(|e| error_at(at, e))?;
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(error_at(at, "alias to an unknown anchor"));
                };
                self.alias_nodes += count_nodes(&target);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(error_at(
                        at,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    ));
                }
                self.finish(target, 0).map_err(|e| error_at(at, e))?;
            }
            Event::DocumentStart(..) => {
                self.anchors.clear();
                self.before_last_start = Some(self.documents.len());
                if self.documents.len() >= MAX_DOCUMENTS {
                    return Err(error_at(at, format!("more than {MAX_DOCUMENTS} documents")));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn count(&mut self, at: &EventSpan) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(error_at(at, format!("more than {MAX_NODES} nodes")));
        }
        Ok(())
    }
}

/// Why a settings, rule or knowledge file did not deserialize, and where.
#[derive(Debug, Clone)]
pub struct TypedError {
    pub line: u64,
    pub column: u64,
    pub reason: String,
}

impl std::fmt::Display for TypedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.reason)
    }
}

/// Deserializes one of sovscan's own YAML files (rules, settings, knowledge) into a typed
/// value, with YAML 1.2 booleans and the first line of the error with its position.
pub fn from_str_typed<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, TypedError> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        // A syntax error (an unclosed `[`, a stray `:`) explains more than what the typed
        // reader made of the tokens before it.
        if let Err(syntax) = parse_stream(text) {
            return TypedError {
                line: u64::from(syntax.line),
                column: u64::from(syntax.column),
                reason: plain_reason(&syntax.reason),
            };
        }
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let text = e.to_string();
        TypedError {
            line,
            column,
            reason: plain_reason(text.lines().next().unwrap_or("invalid YAML")),
        }
    })
}

/// A deserializer message in plain words: no second `error:` or position (the caller prints
/// both once), no serde vocabulary.
fn plain_reason(reason: &str) -> String {
    let mut reason = reason.trim();
    reason = reason.strip_prefix("error: ").unwrap_or(reason);
    if let Some(rest) = reason.strip_prefix("line ")
        && let Some((position, tail)) = rest.split_once(": ")
        && position
            .split(" column ")
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    {
        reason = tail;
    }
    let replaced = match reason {
        "externally tagged enum expected scalar or mapping" | "expected string scalar" => {
            "expected a single value here, not a list or map"
        }
        "expected sequence start" => "expected a list here: [a, b], or lines starting with a dash",
        "expected mapping start" => "expected `key: value` entries here",
        r if r.starts_with("invalid i") || r.starts_with("invalid u") => {
            "expected a whole number here"
        }
        r if r.starts_with("invalid f") => "expected a number here",
        r if r.starts_with("invalid bool") => "expected true or false here",
        _ => reason,
    };
    let mut plain = replaced.replace('`', "");
    if let Some(rest) = plain.strip_prefix("unknown variant ")
        && let Some((value, expected)) = rest.split_once(", expected one of ")
    {
        plain = format!("{value} is not one of {expected}");
    }
    if let Some(rest) = plain.strip_prefix("unknown field ")
        && let Some((field, expected)) = rest.split_once(", expected one of ")
    {
        plain = format!("unknown key {field}; the keys are {expected}");
    }
    plain
}

/// A parser of `text` that reads comments as YAML syntax but emits no events for them: a
/// scan finds its suppression comments in the text, and a parser that captures comments
/// (enabled for the whole build by a dependency) moves every token one more time.
fn parser(text: &str) -> Parser<'_, serde_saphyr::granit_parser::StrInput<'_>> {
    let mut options = serde_saphyr::granit_parser::Options::default();
    options.set_emit_comments(false);
    Parser::new_from_str_with_options(text, options)
}

/// The anchors that aliases refer to, from a first pass over the events (skipped when the
/// text has no anchor at all).
fn used_anchors(text: &str) -> HashSet<usize> {
    if !text.contains('&') {
        return HashSet::new();
    }
    parser(text)
        .map_while(Result::ok)
        .filter_map(|(event, _)| match event {
            Event::Alias(id) => Some(id),
            _ => None,
        })
        .collect()
}

/// Parses every document of a YAML (or JSON) stream. Empty documents are dropped.
///
/// A long stream of many documents (a cluster's export, a chart rendered to stdin) is cut at
/// its document markers and its parts parsed on every core. The result is the same as one
/// parse's: a marker at the start of a line ends any document before it, parts are joined in
/// order with their lines counted on, and whenever a part fails or the parts together pass a
/// budget the stream is parsed again whole, for the error one parse gives.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, SyntaxError> {
    if text.len() >= PARALLEL_BYTES
        && let Some(documents) = parse_in_parts(text, PART_BYTES)
    {
        return Ok(documents);
    }
    parse_whole(text).map(|parsed| parsed.documents)
}

/// Streams at least this long are parsed in parts.
const PARALLEL_BYTES: usize = 512 << 10;
/// The least text a part holds.
const PART_BYTES: usize = 128 << 10;

/// Documents of a stream, empty ones dropped, and what they counted against the budgets.
struct Parsed {
    documents: Vec<Node>,
    /// Documents made, empty ones included.
    made: usize,
    /// Documents made before the last document start.
    before_last_start: Option<usize>,
    nodes: usize,
    alias_nodes: usize,
}

fn parse_whole(text: &str) -> Result<Parsed, SyntaxError> {
    let mut builder = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        used_anchors: used_anchors(text),
        nodes: 0,
        alias_nodes: 0,
        documents: Vec::new(),
        before_last_start: None,
    };
    for item in parser(text) {
        match item {
            Ok((event, at)) => builder.event(event, &at)?,
            Err(e) => {
                let p = pos(e.marker());
                return Err(SyntaxError {
                    line: p.line,
                    column: p.column,
                    reason: e.info().to_string(),
                });
            }
        }
    }
    Ok(Parsed {
        made: builder.documents.len(),
        before_last_start: builder.before_last_start,
        nodes: builder.nodes,
        alias_nodes: builder.alias_nodes,
        documents: builder
            .documents
            .into_iter()
            .filter(|n| !n.is_null())
            .collect(),
    })
}

/// The stream's documents parsed in parts of at least `part_bytes`, each starting at a
/// document marker; `None` when the stream is not cut (no marker, or a directive, which
/// belongs to the document after it), a part does not parse, or the parts together pass a
/// budget that one parse checks as it goes.
fn parse_in_parts(text: &str, part_bytes: usize) -> Option<Vec<Node>> {
    use rayon::prelude::*;
    let starts = part_starts(text, part_bytes)?;
    let ends = starts
        .iter()
        .skip(1)
        .map(|&(start, _)| start)
        .chain([text.len()]);
    let parts: Vec<(usize, usize, usize)> = starts
        .iter()
        .zip(ends)
        .map(|(&(start, lines), end)| (start, end, lines))
        .collect();
    let parsed: Vec<Parsed> = parts
        .par_iter()
        .map(|&(start, end, lines)| {
            let mut parsed = parse_whole(&text[start..end]).ok()?;
            let lines = u32::try_from(lines).ok()?;
            for document in &mut parsed.documents {
                shift_lines(document, lines);
            }
            Some(parsed)
        })
        .collect::<Option<_>>()?;
    // As one parse checks it: the documents made before each document start.
    let mut made = 0;
    for p in &parsed {
        if p.before_last_start
            .is_some_and(|b| made + b >= MAX_DOCUMENTS)
        {
            return None;
        }
        made += p.made;
    }
    let total = |count: fn(&Parsed) -> usize| parsed.iter().map(count).sum::<usize>();
    if total(|p| p.nodes) > MAX_NODES || total(|p| p.alias_nodes) > MAX_ALIAS_NODES {
        return None;
    }
    Some(parsed.into_iter().flat_map(|p| p.documents).collect())
}

/// Where the parts of a stream start, with the lines before each: its beginning, then the
/// first document marker (`---` at the start of a line, then a space, a tab or the line's end)
/// at least `part_bytes` after the part before began. `None` when the stream holds a directive
/// line (`%YAML`, `%TAG`), a lone `\r` (a line end for the parser, where lines are counted by
/// `\n` here), or is one part.
fn part_starts(text: &str, part_bytes: usize) -> Option<Vec<(usize, usize)>> {
    let bytes = text.as_bytes();
    let mut starts = vec![(0, 0)];
    let (mut line, mut lines) = (0, 0);
    while line < bytes.len() {
        let end = bytes[line..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |at| line + at);
        let whole = &bytes[line..end];
        // A `\r` is a line's end only before its `\n`.
        let body = match end < bytes.len() {
            true => whole.strip_suffix(b"\r").unwrap_or(whole),
            false => whole,
        };
        if bytes[line] == b'%' || body.contains(&b'\r') {
            return None;
        }
        if line >= starts[starts.len() - 1].0 + part_bytes
            && body.starts_with(b"---")
            && matches!(body.get(3), None | Some(b' ' | b'\t'))
        {
            starts.push((line, lines));
        }
        (line, lines) = (end + 1, lines + 1);
    }
    (starts.len() > 1).then_some(starts)
}

/// Moves every position in a tree `lines` lines down.
fn shift_lines(node: &mut Node, lines: u32) {
    fn shift(span: &mut Span, lines: u32) {
        span.start.line = span.start.line.saturating_add(lines);
        span.end.line = span.end.line.saturating_add(lines);
    }
    shift(&mut node.span, lines);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift_lines(n, lines)),
        Value::Map(entries) => entries.iter_mut().for_each(|e| {
            shift(&mut e.key_span, lines);
            shift_lines(&mut e.value, lines);
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream parsed in parts gives what one parse of it gives, positions included, or is
    /// not parsed in parts at all.
    #[test]
    fn a_stream_parsed_in_parts_is_the_stream_parsed_whole() {
        let cases = [
            "a: 1\n---\nb: 2\n---\n- x\n- y\n",
            "a: 1\r\n---\r\nb: [1,\r\n  2]\r\n--- \r\nc: 3\r\n",
            "a: 1\r---\rb: 2\r",
            "--- |\n  text\n---\nb: 2\n",
            "--- |\ntext at the margin\n---\nb: 2\n",
            "--- >\nfolded\n--- x\n",
            "plain root\ncontinued\n---\nnext\n",
            "a: \"quoted\n---\nstill\"\nb: 1\n",
            "a: 'single\n---\nquoted'\n",
            "a: [1,\n---\n2]\n",
            "a: &x {k: v}\nb: *x\n---\nc: *x\n",
            "a: &x {k: v}\n---\nb: &x [1]\nc: *x\n",
            "a: 1\n...\n---\nb: 2\n...\n",
            "%YAML 1.2\n---\na: 1\n---\nb: 2\n",
            "a: 1\n--- !Ref x\n---\n# only a comment\n---\n",
            "a: 1\n---#not a marker\n---\tb: 2\n",
            "a: \"line\u{2028}sep\"\n---\nb: \u{85}2\n---\nc: 3\n",
            "\u{feff}a: 1\n---\nb: 2\n",
            "a: {b: [c, {d: e}]}\n---\n- - - 1\n---\n? complex\n: key\n",
            "a: 1\n---\n  b: 2\n ---\nc: 3\n",
            "a: 1\n---\nb: : :\n---\nc: 3\n",
            "a:\n  - 1\n---\n",
        ];
        let mut cut = 0;
        for text in cases {
            let whole = parse_whole(text).map(|p| p.documents);
            if let Some(parts) = parse_in_parts(text, 1) {
                assert_eq!(
                    Ok(&parts),
                    whole.as_ref().map_err(|e| &e.reason),
                    "{text:?}"
                );
                cut += 1;
            }
        }
        // Those with a directive, a lone carriage return, or a part that does not parse alone
        // are parsed whole.
        assert_eq!(cut, 13);
        // Split where it can be: the first case is cut in three.
        assert_eq!(part_starts(CASE_CUT, 1).map(|s| s.len()), Some(3));
        assert!(parse_in_parts(CASE_CUT, 1).is_some());
        // Not cut: a directive, a lone carriage return, one document.
        assert_eq!(part_starts("%YAML 1.2\n---\na: 1\n---\nb: 2\n", 1), None);
        assert_eq!(part_starts("a: 1\r---\rb: 2\r", 1), None);
        assert_eq!(part_starts("a: 1\n---\nb: 2\r", 1), None);
        assert_eq!(
            part_starts("a: 1\r\n---\r\nb: 2\r\n", 1),
            Some(vec![(0, 0), (6, 1)])
        );
        assert_eq!(part_starts("a: 1\nb: 2\n", 1), None);
    }

    const CASE_CUT: &str = "a: 1\n---\nb: 2\n---\n- x\n- y\n";

    /// A long stream of documents parsed in parts passes the same budgets as one parse.
    #[test]
    fn parts_together_keep_the_budget_of_documents() {
        // Exactly the budget; one more; the budget and the start of one more, empty.
        for (text, fits) in [
            ("---\na: 1\n".repeat(MAX_DOCUMENTS), true),
            ("---\na: 1\n".repeat(MAX_DOCUMENTS + 1), false),
            ("a: 1\n---\n".repeat(MAX_DOCUMENTS), false),
        ] {
            assert_eq!(parse_in_parts(&text, 64 << 10).is_some(), fits);
            let whole = parse_whole(&text).map(|p| p.documents.len());
            let error = whole.as_ref().err().map(|e| (e.line, e.reason.clone()));
            assert_eq!(error.is_none(), fits, "{error:?}");
            let streamed = parse_stream(&text);
            assert_eq!(
                streamed
                    .as_ref()
                    .map(Vec::len)
                    .map_err(|e| (e.line, e.reason.clone())),
                whole.map_err(|e| (e.line, e.reason))
            );
        }
        let text = "a: 1\n---\n".repeat(MAX_DOCUMENTS / 2);
        let parts = parse_in_parts(&text, 1 << 10).unwrap();
        assert_eq!(parts.len(), MAX_DOCUMENTS / 2);
        assert_eq!(
            Ok(parts),
            parse_whole(&text)
                .map(|p| p.documents)
                .map_err(|e| e.reason)
        );
        assert_eq!(
            parse_stream(&text).unwrap().last().unwrap().span.start.line,
            9_999
        );
    }

    #[test]
    fn keeps_positions_tags_and_yaml12_booleans() {
        let docs = parse_stream("a: NO\nb: !Ref Foo\n---\nc: [1, 2]\n").unwrap();
        assert_eq!(docs.len(), 2);
        let a = docs[0].get("a").unwrap();
        assert_eq!(a.as_str(), Some("NO"));
        assert_eq!((a.span.start.line, a.span.start.column), (1, 4));
        assert_eq!((a.span.end.line, a.span.end.column), (1, 6));
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.tag.as_deref(), Some("!Ref"));
        assert_eq!(docs[1].path("c[1]").and_then(Node::as_i64), Some(2));
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let docs = parse_stream(
            "a: 012345678901\nb: 42\nc: 1.5\nd: '42'\ne: ~\nf: yes\ng: !!str 7\nh: 1e3\n",
        )
        .unwrap();
        let d = &docs[0];
        assert_eq!(d.get("a").and_then(Node::as_str), Some("012345678901"));
        assert_eq!(d.get("b").map(|n| &n.value), Some(&Value::Int(42)));
        assert_eq!(d.get("c").map(|n| &n.value), Some(&Value::Float(1.5)));
        assert_eq!(d.get("d").map(|n| &n.value), Some(&Value::Str("42".into())));
        assert!(d.get("e").unwrap().is_null());
        assert_eq!(d.get("f").and_then(Node::as_str), Some("yes"));
        assert_eq!(d.get("g").map(|n| &n.value), Some(&Value::Str("7".into())));
        assert_eq!(d.get("h").map(|n| &n.value), Some(&Value::Float(1000.0)));
    }

    #[test]
    fn merge_keys_expand_and_explicit_keys_win() {
        let docs = parse_stream("x: &a {k: v, z: 0}\ny:\n  z: 1\n  <<: *a\n").unwrap();
        assert_eq!(docs[0].path("y.k").and_then(Node::as_str), Some("v"));
        assert_eq!(docs[0].path("y.z").and_then(Node::as_i64), Some(1));
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

    #[test]
    fn deep_nesting_is_refused() {
        assert!(parse_stream(&"[".repeat(10_000)).is_err());
    }
}
