//! A format-neutral document tree whose every node knows where it came from.
//! YAML, JSON and (later) HCL loaders all produce this tree; extractors and rules only read it.

use std::fmt;
use std::sync::Arc;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// Start and end of a node in its source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn point(line: u32, column: u32) -> Self {
        let p = Pos { line, column };
        Span { start: p, end: p }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// One node of a loaded document: its value, the YAML tag written on it (`!Ref`), and its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub tag: Option<String>,
    pub span: Span,
}

/// One step of a route from a document root to a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// Shared, not copied, when a route is extended: routes are made by the thousand.
    Key(Arc<str>),
    Index(usize),
}

/// A route of keys and indices, printed as `spec.template.spec.containers[0].image`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route(pub Vec<Segment>);

impl Route {
    pub fn root() -> Self {
        Route(Vec::new())
    }

    /// Parses a dotted route (`a.b[0].c`, `metadata.annotations["x.y/z"]`).
    pub fn parse(text: &str) -> Self {
        Route(
            Steps(text)
                .map(|step| match step {
                    Step::Key(k) => Segment::Key(Arc::from(k)),
                    Step::Index(i) => Segment::Index(i),
                })
                .collect(),
        )
    }

    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(Arc::from(key)));
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// The text of `self.join(other)`, printed without building the joined route.
    pub fn joined_text(&self, other: &Route) -> String {
        segments_text(self.0.iter().chain(&other.0))
    }

    /// The route printed, as `Display` prints it, without the formatting machinery: every
    /// location a scan makes holds one.
    pub fn text(&self) -> String {
        segments_text(self.0.iter())
    }

    pub fn join(&self, other: &Route) -> Self {
        let mut next = self.clone();
        next.0.extend(other.0.iter().cloned());
        next
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One step of a dotted route's text, borrowed from it.
enum Step<'t> {
    Key(&'t str),
    Index(usize),
}

/// The steps of a dotted route's text, read as `Route::parse` reads them, without making the
/// route: a lookup by a written route (`Node::path`) allocates nothing.
struct Steps<'t>(&'t str);

impl<'t> Iterator for Steps<'t> {
    type Item = Step<'t>;

    fn next(&mut self) -> Option<Step<'t>> {
        loop {
            let rest = self.0;
            if rest.is_empty() {
                return None;
            }
            if let Some(after) = rest.strip_prefix("[\"") {
                let end = after.find("\"]").unwrap_or(after.len());
                self.0 = after.get(end + 2..).unwrap_or("");
                return Some(Step::Key(&after[..end]));
            }
            if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']').unwrap_or(after.len());
                let inner = &after[..end];
                self.0 = after.get(end + 1..).unwrap_or("");
                return Some(match inner.parse::<usize>() {
                    Ok(i) => Step::Index(i),
                    Err(_) => Step::Key(inner),
                });
            }
            let trimmed = rest.strip_prefix('.').unwrap_or(rest);
            let end = trimmed.find(['.', '[']).unwrap_or(trimmed.len());
            self.0 = &trimmed[end..];
            if end > 0 {
                return Some(Step::Key(&trimmed[..end]));
            }
            if self.0.starts_with('.') {
                self.0 = &self.0[1..];
            }
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_segments(f, self.0.iter())
    }
}

/// `write_segments` into a new string.
fn segments_text<'s>(segments: impl Iterator<Item = &'s Segment> + Clone) -> String {
    let room = segments
        .clone()
        .map(|s| match s {
            Segment::Key(k) => k.len() + 5,
            Segment::Index(_) => 6,
        })
        .sum();
    let mut out = String::with_capacity(room);
    for (i, segment) in segments.enumerate() {
        match segment {
            Segment::Index(n) => {
                out.push('[');
                push_decimal(&mut out, *n);
                out.push(']');
            }
            Segment::Key(k) if needs_quotes(k) => {
                out.push_str("[\"");
                out.push_str(k);
                out.push_str("\"]");
            }
            Segment::Key(k) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(k);
            }
        }
    }
    out
}

fn push_decimal(out: &mut String, n: usize) {
    let (digits, at) = crate::decimal::digits(n as u64);
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// A key printed in brackets and quotes rather than after a dot.
fn needs_quotes(key: &str) -> bool {
    key.contains(['.', '[', ']', '"']) || key.is_empty()
}

/// Prints segments as a route: `spec.containers[0]["a.b"]`.
fn write_segments<'s>(
    out: &mut impl fmt::Write,
    segments: impl Iterator<Item = &'s Segment>,
) -> fmt::Result {
    for (i, segment) in segments.enumerate() {
        match segment {
            Segment::Index(n) => write!(out, "[{n}]")?,
            Segment::Key(k) if needs_quotes(k) => write!(out, "[\"{k}\"]")?,
            Segment::Key(k) => {
                if i > 0 {
                    out.write_char('.')?;
                }
                out.write_str(k)?
            }
        }
    }
    Ok(())
}

/// Adds `items` to the list under `key` in a map's entries, or adds that entry: how nested
/// blocks of one kind gather (`rule[0]`, `rule[1]`). A new list spans its first item.
pub fn push_items(entries: &mut Vec<Entry>, key: &str, key_span: Span, items: Vec<Node>) {
    match entries.iter_mut().find(|e| e.key == key) {
        Some(Entry {
            value: Node {
                value: Value::Seq(list),
                ..
            },
            ..
        }) => list.extend(items),
        _ => {
            let span = items.first().map_or(key_span, |i| i.span);
            entries.push(Entry {
                key: key.to_string(),
                key_span,
                value: Node::new(Value::Seq(items), span),
            });
        }
    }
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node {
            value,
            tag: None,
            span,
        }
    }

    pub fn null() -> Self {
        Node::new(Value::Null, Span::default())
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The entry for `key` in a mapping; the last one wins, as in Kubernetes and JSON.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().rev().find(|e| e.key == key)
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn at(&self, route: &Route) -> Option<&Node> {
        let mut node = self;
        for segment in &route.0 {
            node = match segment {
                Segment::Key(k) => node.get(k)?,
                Segment::Index(i) => node.items().get(*i)?,
            };
        }
        Some(node)
    }

    /// Takes the node at `route` out of the tree, leaving null in its place: the node `at`
    /// finds (the last of repeated keys).
    pub fn take_at(&mut self, route: &Route) -> Option<Node> {
        let mut node = self;
        for segment in &route.0 {
            node = match (segment, &mut node.value) {
                (Segment::Key(k), Value::Map(entries)) => {
                    &mut entries.iter_mut().rev().find(|e| *e.key == **k)?.value
                }
                (Segment::Index(i), Value::Seq(items)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(std::mem::replace(node, Node::null()))
    }

    /// Looks up a dotted route such as `spec.template.spec`.
    pub fn path(&self, route: &str) -> Option<&Node> {
        let mut node = self;
        for step in Steps(route) {
            node = match step {
                Step::Key(k) => node.get(k)?,
                Step::Index(i) => node.items().get(i)?,
            };
        }
        Some(node)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The text of a scalar (strings, numbers, booleans); `None` for collections and null.
    /// Moves every span of the tree (an object parsed from text another file holds, placed
    /// where that text is written).
    pub fn move_spans(&mut self, moved: &dyn Fn(&mut Span)) {
        moved(&mut self.span);
        match &mut self.value {
            Value::Map(entries) => {
                for entry in entries {
                    moved(&mut entry.key_span);
                    entry.value.move_spans(moved);
                }
            }
            Value::Seq(items) => items.iter_mut().for_each(|item| item.move_spans(moved)),
            _ => {}
        }
    }

    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Visits every node below (and including) this one with its route.
    pub fn walk<'a>(&'a self, route: &Route, visit: &mut dyn FnMut(&Route, &'a Node)) {
        visit(route, self);
        match &self.value {
            Value::Map(entries) => {
                for e in entries {
                    e.value.walk(&route.key(&e.key), visit);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.walk(&route.index(i), visit);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    #[test]
    fn a_joined_route_prints_as_the_join() {
        let routes = [
            "",
            "a",
            "a.b[0]",
            "[2].c",
            "metadata.annotations[\"x.y/z\"]",
            "[\"\"]",
        ];
        for base in routes {
            for relative in routes {
                let (base, relative) = (Route::parse(base), Route::parse(relative));
                assert_eq!(
                    base.joined_text(&relative),
                    base.join(&relative).to_string(),
                    "{base:?} + {relative:?}"
                );
            }
        }
    }

    proptest::proptest! {
        /// The text locations hold is the route as `Display` prints it.
        #[test]
        fn a_route_text_is_its_display(
            segments in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::any::<usize>().prop_map(Segment::Index),
                    "[a-z.\\[\\]\"/]{0,6}".prop_map(|k| Segment::Key(k.into())),
                ],
                0..6,
            ),
        ) {
            let route = Route(segments);
            proptest::prop_assert_eq!(route.text(), route.to_string());
        }
    }

    #[test]
    fn routes_are_read_step_by_step_as_written() {
        let key = |k: &str| Segment::Key(Arc::from(k));
        for (text, expected) in [
            ("", vec![]),
            (".", vec![]),
            ("a..b", vec![key("a"), key("b")]),
            (".a.", vec![key("a")]),
            ("a[", vec![key("a"), key("")]),
            ("a[x]b", vec![key("a"), key("x"), key("b")]),
            (
                "[\"x.y\"].z[3]",
                vec![key("x.y"), key("z"), Segment::Index(3)],
            ),
            ("[\"open", vec![key("open")]),
            ("a.[1]", vec![key("a"), Segment::Index(1)]),
        ] {
            assert_eq!(Route::parse(text).0, expected, "{text:?}");
        }
    }

    #[test]
    fn a_lookup_by_written_route_finds_what_the_parsed_route_finds() {
        let leaf = |text: &str| Node::new(Value::Str(text.into()), Span::default());
        let map = |entries: Vec<(&str, Node)>| {
            Node::new(
                Value::Map(
                    entries
                        .into_iter()
                        .map(|(key, value)| Entry {
                            key: key.into(),
                            key_span: Span::default(),
                            value,
                        })
                        .collect(),
                ),
                Span::default(),
            )
        };
        let tree = map(vec![
            (
                "a",
                map(vec![(
                    "b",
                    Node::new(
                        Value::Seq(vec![leaf("first"), map(vec![("c", leaf("deep"))])]),
                        Span::default(),
                    ),
                )]),
            ),
            ("x.y", leaf("dotted")),
            ("", leaf("empty")),
        ]);
        for text in [
            "",
            "a",
            "a.b",
            "a.b[0]",
            "a.b[1].c",
            "a.b[2]",
            "a.b.c",
            "[\"x.y\"]",
            "x.y",
            "a..b",
            "a[",
            "[\"\"]",
            "a.b[1][\"c\"]",
            "b",
        ] {
            assert_eq!(tree.path(text), tree.at(&Route::parse(text)), "{text:?}");
        }
        assert_eq!(tree.path("a.b[1].c").and_then(Node::as_str), Some("deep"));
    }

    #[test]
    fn a_node_taken_out_of_a_tree_leaves_null_behind() {
        let mut tree =
            crate::load::json::parse(r#"{"a": {"b": [1, {"c": 2}], "b": [3, {"c": 4}]}}"#)
                .unwrap()
                .unwrap();
        let route = Route::parse("a.b[1].c");
        let seen = tree.at(&route).cloned();
        assert_eq!(tree.take_at(&route), seen);
        assert_eq!(seen.and_then(|n| n.as_i64()), Some(4));
        assert!(tree.at(&route).is_some_and(Node::is_null));
        assert_eq!(tree.take_at(&Route::parse("a.x")), None);
        assert_eq!(tree.take_at(&Route::parse("a.b[5]")), None);
        assert_eq!(tree.take_at(&Route::parse("a[0]")), None);
    }

    #[test]
    fn routes_round_trip() {
        for text in [
            "spec.template.spec.containers[0].image",
            "metadata.annotations[\"service.beta.kubernetes.io/aws-load-balancer-type\"]",
            "a",
        ] {
            assert_eq!(Route::parse(text).to_string(), text);
        }
        assert_eq!(Route::parse("a.b[2]").0.len(), 3);
    }
}
