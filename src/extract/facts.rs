//! Normalised facts read from a resource body through the resource-type table's fact specs.
//! Shared by every cloud format: the table says where a fact lives, this module reads it.

use std::collections::BTreeMap;

use crate::knowledge::resource_types::{FactDefault, ResourceType};
use crate::load::hcl::EXPR_TAG;
use crate::model::{Fact, Resource};
use crate::tree::{Node, Route, Segment, Value};

/// Facts whose value is a list of every matching node (`locations`, `replica_regions`).
const LIST_FACTS: &[&str] = &[
    "locations",
    "replica_regions",
    "object_expiration_days",
    "log_target",
];

/// Every node a route with `[*]` wildcards reaches, with its route.
pub fn select<'a>(node: &'a Node, route: &Route) -> Vec<(Route, &'a Node)> {
    let mut current: Vec<(Route, &Node)> = vec![(Route::root(), node)];
    for segment in &route.0 {
        let mut next = Vec::new();
        for (at, n) in current {
            match segment {
                Segment::Key(k) if k == "*" => {
                    for (i, item) in n.items().iter().enumerate() {
                        next.push((at.index(i), item));
                    }
                }
                Segment::Key(k) => {
                    if let Some(child) = n.get(k) {
                        next.push((at.key(k), child));
                    }
                }
                Segment::Index(i) => {
                    if let Some(child) = n.items().get(*i) {
                        next.push((at.index(*i), child));
                    }
                }
            }
        }
        current = next;
    }
    current.retain(|(_, n)| !n.is_null());
    current
}

fn is_expression(node: &Node) -> bool {
    node.tag.as_deref() == Some(EXPR_TAG)
}

/// What one alternative of a spec says: absent, present but not a literal, or a value.
enum Reading {
    Absent,
    Unknown,
    Value(Node, Route),
}

fn read_alternative(body: &Node, spec: &str, list: bool) -> Reading {
    let spec = spec.trim();
    if let Some((route, set)) = spec.split_once(" in ") {
        let wanted: Vec<String> = set
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
            .collect();
        let found = select(body, &Route::parse(route.trim()));
        if found.is_empty() {
            return Reading::Absent;
        }
        let mut unknown = false;
        for (at, node) in &found {
            if is_expression(node) {
                unknown = true;
                continue;
            }
            let text = node.scalar_text().unwrap_or_default().to_ascii_lowercase();
            if wanted.contains(&text) {
                return Reading::Value(Node::new(Value::Bool(true), node.span), at.clone());
            }
        }
        if unknown {
            return Reading::Unknown;
        }
        let (at, node) = &found[0];
        return Reading::Value(Node::new(Value::Bool(false), node.span), at.clone());
    }
    let (negate, route) = match spec.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, spec),
    };
    let found = select(body, &Route::parse(route));
    let Some((first_route, first)) = found.first() else {
        return Reading::Absent;
    };
    if list {
        let items: Vec<Node> = found
            .iter()
            .flat_map(|(_, n)| match &n.value {
                Value::Seq(items) => items.clone(),
                _ => vec![(*n).clone()],
            })
            .collect();
        return Reading::Value(
            Node::new(Value::Seq(items), first.span),
            first_route.clone(),
        );
    }
    if negate {
        if is_expression(first) {
            return Reading::Unknown;
        }
        return match first.as_bool() {
            Some(b) => Reading::Value(Node::new(Value::Bool(!b), first.span), first_route.clone()),
            None => Reading::Unknown,
        };
    }
    // An expression is kept as written: `kms_key_id = aws_kms_key.x.arn` says a key is set,
    // while boolean and numeric readers see no value in it.
    Reading::Value((*first).clone(), first_route.clone())
}

/// Reads every fact the type's table entry describes into `resource.facts`; defaults fill in
/// facts whose attribute is absent, located at the resource's first line.
pub fn apply(resource: &mut Resource, rtype: &ResourceType) {
    let mut facts = BTreeMap::new();
    for (name, spec) in &rtype.facts {
        let list = LIST_FACTS.contains(&name.as_str());
        // Alternatives: a `true` from any of them wins (any disabled guard makes a bucket
        // public); otherwise the first one that is present decides.
        let mut outcome = Reading::Absent;
        for alternative in spec.split("||") {
            let reading = read_alternative(&resource.body, alternative, list);
            let is_true = matches!(
                &reading,
                Reading::Value(
                    Node {
                        value: Value::Bool(true),
                        ..
                    },
                    _
                )
            );
            if is_true || matches!(outcome, Reading::Absent) {
                outcome = reading;
            }
            if is_true {
                break;
            }
        }
        match outcome {
            Reading::Value(value, route) => {
                let location = resource.locate(&value, &route);
                facts.insert(name.clone(), Fact { value, location });
            }
            Reading::Unknown => {}
            Reading::Absent => {
                if let Some(default) = rtype.defaults.get(name) {
                    let span = resource.body.span;
                    let value = match default {
                        FactDefault::Bool(b) => Value::Bool(*b),
                        FactDefault::Int(i) => Value::Int(*i),
                        FactDefault::Text(t) => Value::Str(t.clone()),
                    };
                    facts.insert(
                        name.clone(),
                        Fact {
                            value: Node::new(value, span),
                            location: resource.start(),
                        },
                    );
                }
            }
        }
    }
    resource.facts = facts;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::hcl;

    #[test]
    fn wildcards_reach_every_item() {
        let root =
            hcl::parse("r {\n  g { location = \"a\" }\n  g { location = \"b\" }\n}\n").unwrap();
        let body = root.path("r").unwrap();
        let found = select(body, &Route::parse("g[*].location"));
        let texts: Vec<_> = found.iter().filter_map(|(_, n)| n.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
        assert_eq!(found[1].0.to_string(), "g[1].location");
    }

    #[test]
    fn membership_negation_and_unknown() {
        let root = hcl::parse("acl = \"public-read\"\nblock = false\nx = var.y\n").unwrap();
        assert!(matches!(
            read_alternative(&root, "acl in [public-read, public-read-write]", false),
            Reading::Value(
                Node {
                    value: Value::Bool(true),
                    ..
                },
                _
            )
        ));
        assert!(matches!(
            read_alternative(&root, "!block", false),
            Reading::Value(
                Node {
                    value: Value::Bool(true),
                    ..
                },
                _
            )
        ));
        assert!(matches!(
            read_alternative(&root, "!x", false),
            Reading::Unknown
        ));
        assert!(matches!(
            read_alternative(&root, "missing", false),
            Reading::Absent
        ));
    }
}
