//! Where a finding points: file, 1-based start/end line and column, document index and field route.
//! Resolved once when a resource is extracted; every renderer reads positions from here.

use serde::Serialize;
use std::sync::Arc;

use crate::tree::{Node, Pos, Route, Span};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    #[serde(serialize_with = "serialize_path")]
    pub path: Arc<str>,
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// Index of the document in a multi-document stream (0-based).
    pub document: usize,
    /// Route of the field inside the document (`spec.template.spec.containers[0].image`).
    pub field: String,
}

impl Location {
    /// The span the location covers, for values built where it points.
    pub fn span(&self) -> Span {
        Span {
            start: Pos {
                line: self.start_line,
                column: self.start_column,
            },
            end: Pos {
                line: self.end_line,
                column: self.end_column,
            },
        }
    }

    pub fn new(path: &Arc<str>, document: usize, span: Span, route: &Route) -> Self {
        Location::at_field(path, document, span, route.text())
    }

    /// The first line of a location at `span`: 1 for a span that names none.
    pub fn start_line(span: Span) -> u32 {
        span.start.line.max(1)
    }

    /// `new`, with the route already printed.
    pub fn at_field(path: &Arc<str>, document: usize, span: Span, field: String) -> Self {
        Location {
            path: Arc::clone(path),
            start_line: Location::start_line(span),
            start_column: span.start.column.max(1),
            end_line: span.end.line.max(span.start.line).max(1),
            end_column: if span.end.line > span.start.line {
                span.end.column.max(1)
            } else {
                span.end.column.max(span.start.column).max(1)
            },
            document,
            field,
        }
    }

    pub fn of_node(path: &Arc<str>, document: usize, node: &Node, route: &Route) -> Self {
        Location::new(path, document, node.span, route)
    }
}

fn serialize_path<S: serde::Serializer>(path: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(path)
}
