//! Terraform `dynamic "x"` blocks, written out as the `x` blocks Terraform makes of them where
//! the module says what `for_each` holds: one block per element, its `content` read with the
//! iterator (`x.value`, `x.key`, or the name `iterator` gives) bound to that element. So a
//! setting written through a dynamic block is judged as if written in place, and a `for_each`
//! known to be empty writes no block, leaving the provider's default.
//!
//! A `dynamic` block whose `for_each` the files do not decide stays as written: the settings
//! it may write are then decided at plan time, and no default is assumed for them.

use std::borrow::Cow;

use super::module::{Eval, Inputs, Known, Module, iterator_key};
use crate::load::Document;
use crate::load::hcl::{EXPR_TAG, expression_text};
use crate::tree::{Entry, Node, Route, Span, Value, push_items};

/// Most blocks one `dynamic` block is written out to; one with more elements stays as written.
const MAX_BLOCKS: usize = 64;

/// The body with its `dynamic` blocks written out where their `for_each` is known; the body
/// itself when it has none.
pub fn expanded<'n>(
    module: &Module<'_>,
    doc: &Document,
    body: &'n Node,
    route: &Route,
    inputs: &Inputs,
) -> Cow<'n, Node> {
    if !has_dynamic(body) {
        return Cow::Borrowed(body);
    }
    let writer = Writer { module, doc };
    Cow::Owned(writer.node(body, route, inputs, false))
}

/// Whether a `dynamic` block is written anywhere in the body.
fn has_dynamic(node: &Node) -> bool {
    match &node.value {
        Value::Map(entries) => entries.iter().any(|e| {
            (e.key == "dynamic" && matches!(e.value.value, Value::Seq(_))) || has_dynamic(&e.value)
        }),
        Value::Seq(items) => items.iter().any(has_dynamic),
        _ => false,
    }
}

struct Writer<'m, 'a> {
    module: &'m Module<'a>,
    doc: &'m Document,
}

/// The blocks written out of `dynamic` blocks, by the label they write.
struct Made {
    key: String,
    key_span: Span,
    blocks: Vec<Node>,
}

impl Writer<'_, '_> {
    /// A copy of `node` with its `dynamic` blocks written out. Inside a `content` (`bound`),
    /// each expression is replaced by its value where the module knows it, since only there is
    /// the iterator bound.
    fn node(&self, node: &Node, route: &Route, inputs: &Inputs, bound: bool) -> Node {
        match &node.value {
            Value::Map(entries) => {
                let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
                let mut made: Vec<Made> = Vec::new();
                for entry in entries {
                    let at = route.key(&entry.key);
                    if entry.key == "dynamic"
                        && let Value::Seq(items) = &entry.value.value
                    {
                        let left = self.dynamic(items, &at, inputs, &mut made);
                        if !left.is_empty() {
                            out.push(Entry {
                                value: Node::new(Value::Seq(left), entry.value.span),
                                ..entry.clone()
                            });
                        }
                        continue;
                    }
                    out.push(Entry {
                        value: self.node(&entry.value, &at, inputs, bound),
                        ..entry.clone()
                    });
                }
                for Made {
                    key,
                    key_span,
                    blocks,
                } in made
                {
                    push_items(&mut out, &key, key_span, blocks);
                }
                Node {
                    value: Value::Map(out),
                    tag: node.tag.clone(),
                    span: node.span,
                }
            }
            Value::Seq(items) => Node {
                value: Value::Seq(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.node(item, &route.index(i), inputs, bound))
                        .collect(),
                ),
                tag: node.tag.clone(),
                span: node.span,
            },
            _ if bound && node.tag.as_deref() == Some(EXPR_TAG) => {
                match self.module.value(self.doc, node, route, inputs) {
                    // The value, pointing where the expression is used, as a resource's own
                    // expressions are read.
                    Some(known) => spanned(known.value, node.span),
                    None => node.clone(),
                }
            }
            _ => node.clone(),
        }
    }

    /// The items of a `dynamic` list: each labelled block is written out into `made` where
    /// its `for_each` is known; the ones that are not are returned, to stay as written.
    fn dynamic(
        &self,
        items: &[Node],
        route: &Route,
        inputs: &Inputs,
        made: &mut Vec<Made>,
    ) -> Vec<Node> {
        let mut left = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let mut kept: Vec<Entry> = Vec::new();
            for block in item.entries() {
                for (j, body) in block.value.items().iter().enumerate() {
                    let at = route.index(i).key(&block.key).index(j);
                    let Some(blocks) = self.write_out(body, &at, &block.key, inputs) else {
                        kept.push(Entry {
                            key: block.key.clone(),
                            key_span: block.key_span,
                            value: Node::new(Value::Seq(vec![body.clone()]), body.span),
                        });
                        continue;
                    };
                    match made.iter_mut().find(|m| m.key == block.key) {
                        Some(m) => m.blocks.extend(blocks),
                        None => made.push(Made {
                            key: block.key.clone(),
                            key_span: block.key_span,
                            blocks,
                        }),
                    }
                }
            }
            if !kept.is_empty() {
                left.push(Node::new(Value::Map(kept), item.span));
            }
        }
        left
    }

    /// The blocks one `dynamic "label"` block writes, or `None` when its `for_each` is not
    /// known here.
    fn write_out(
        &self,
        body: &Node,
        route: &Route,
        label: &str,
        inputs: &Inputs,
    ) -> Option<Vec<Node>> {
        let for_each = body.get("for_each")?;
        let content = body.get("content")?.items().first()?;
        let iterator = match body.get("iterator") {
            Some(name) => expression_text(name)
                .map(str::to_string)
                .or_else(|| name.scalar_text())?,
            None => label.to_string(),
        };
        let elements = match self
            .module
            .value(self.doc, for_each, &route.key("for_each"), inputs)
        {
            Some(known) => elements(&known)?,
            None => handed_items(for_each, inputs)?,
        };
        let content_route = route.key("content").index(0);
        Some(
            elements
                .into_iter()
                .map(|(key, value)| {
                    let mut bound = inputs.clone();
                    bound.insert(iterator_key(&iterator, "key"), key);
                    bound.insert(iterator_key(&iterator, "value"), value);
                    self.node(content, &content_route, &bound, true)
                })
                .collect(),
        )
    }
}

/// The key and value of each element of a known `for_each`: a map's keys, a list's indexes.
fn elements(known: &Known) -> Option<Vec<(Eval, Eval)>> {
    let elements: Vec<(Eval, Eval)> = match &known.value.value {
        Value::Map(entries) => entries
            .iter()
            .map(|e| {
                let key = Eval::Literal {
                    value: e.key.clone(),
                    location: known.part_location(&Node::new(Value::Null, e.key_span)),
                };
                (key, super::part_eval(known, &e.value))
            })
            .collect(),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let key = Eval::Literal {
                    value: i.to_string(),
                    location: known.part_location(item),
                };
                (key, super::part_eval(known, item))
            })
            .collect(),
        Value::Null => Vec::new(),
        _ => return None,
    };
    (elements.len() <= MAX_BLOCKS).then_some(elements)
}

/// The items of a list a caller hands item by item (`Eval::Items`), when `for_each` is that
/// variable: `var.replica_regions`.
fn handed_items(for_each: &Node, inputs: &Inputs) -> Option<Vec<(Eval, Eval)>> {
    let name = expression_text(for_each)?.strip_prefix("var.")?;
    let Some(Eval::Items { items, location }) = inputs.get(name) else {
        return None;
    };
    (items.len() <= MAX_BLOCKS).then(|| {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let key = Eval::Literal {
                    value: i.to_string(),
                    location: location.clone(),
                };
                (key, item.clone())
            })
            .collect()
    })
}

/// A value computed elsewhere, every part of it at `span`: it is read where it is used.
fn spanned(mut node: Node, span: Span) -> Node {
    node.span = span;
    node.tag = None;
    match &mut node.value {
        Value::Map(entries) => {
            for entry in entries.iter_mut() {
                entry.key_span = span;
                let value = std::mem::replace(&mut entry.value, Node::new(Value::Null, span));
                entry.value = spanned(value, span);
            }
        }
        Value::Seq(items) => {
            for item in items.iter_mut() {
                let value = std::mem::replace(item, Node::new(Value::Null, span));
                *item = spanned(value, span);
            }
        }
        _ => {}
    }
    node
}
