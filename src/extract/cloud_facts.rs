//! Normalised facts read through the routes of the resource-type table (`facts:`), so where a
//! format keeps encryption or public access is data, not code. Shared by every cloud format.
//!
//! A route is `Properties.BucketEncryption.ServerSideEncryptionConfiguration[*].X` (`[*]` takes
//! every item), optionally negated (`!Properties.X`) or compared (`Properties.Acl in [a, b]`).
//! Alternatives are joined with `||`: for yes/no facts a `true` from any of them wins, otherwise
//! the first that yields a value. Formats share one table entry: AWS Config items have no
//! `Properties` and templates no `configuration`, so each finds only its own alternative.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::fact_values::{flag, region_text, text};
use crate::knowledge::KnowledgeBase;
use crate::model::{Fact, Resource};
use crate::tree::{Node, Route, Segment, Value};

/// What a template expression (`!Ref Param`, `[parameters('x')]`) stands for.
pub enum Resolved {
    /// Not an expression: the node means what it says.
    AsWritten,
    /// An expression whose value the files give.
    Value(Node),
    /// An expression decided only at deployment.
    Unknown,
}

/// Turns template expressions into literals where possible.
pub type Resolve<'a> = &'a dyn Fn(&Node) -> Resolved;

const MAX_MATCHES: usize = 1000;

enum Kind {
    Flag,
    Number,
    Text,
    List,
}

fn kind_of(fact: &str) -> Kind {
    match fact {
        "encrypted" | "public" | "https_only" | "point_in_time_recovery" => Kind::Flag,
        "log_retention_days" | "backup_retention_days" => Kind::Number,
        "replica_regions" | "locations" => Kind::List,
        _ => Kind::Text,
    }
}

/// One alternative of a fact spec: a route, maybe negated or tested for membership.
struct Alternative {
    negated: bool,
    route: Route,
    members: Option<Vec<String>>,
}

/// A resource type's fact specs, parsed once and applied to every resource of the type.
pub struct FactSpecs(Vec<(String, Vec<Alternative>)>);

impl FactSpecs {
    pub fn compile(specs: &BTreeMap<String, String>) -> Self {
        let parse = |alternative: &str| {
            let (negated, rest) = match alternative.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, alternative),
            };
            let (path, members) = match rest.split_once(" in ") {
                Some((path, list)) => (path.trim(), Some(parse_list(list))),
                None => (rest, None),
            };
            Alternative {
                negated,
                route: Route::parse(path),
                members,
            }
        };
        FactSpecs(
            specs
                .iter()
                .map(|(fact, spec)| {
                    let alternatives = spec
                        .split("||")
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(parse)
                        .collect();
                    (fact.clone(), alternatives)
                })
                .collect(),
        )
    }
}

/// Parsed fact specs by resource type, for one extraction run.
#[derive(Default)]
pub struct SpecCache(HashMap<String, Option<FactSpecs>>);

impl SpecCache {
    pub fn get(&mut self, kb: &KnowledgeBase, kind: &str) -> Option<&FactSpecs> {
        self.0
            .entry(kind.to_string())
            .or_insert_with(|| {
                kb.resource_types
                    .get(kind)
                    .map(|t| FactSpecs::compile(&t.facts))
            })
            .as_ref()
    }
}

/// Sets every fact the type's specs name and the resource's body holds.
pub fn apply(resource: &mut Resource, specs: &FactSpecs, resolve: Resolve) {
    for (fact, alternatives) in &specs.0 {
        if let Some((value, route, source)) = evaluate(&resource.body, fact, alternatives, resolve)
        {
            let location = resource.locate(&source, &route);
            resource
                .facts
                .insert(fact.clone(), Fact { value, location });
        }
    }
}

/// The fact's value, the route of the node it was read from, and that node.
fn evaluate(
    body: &Node,
    fact: &str,
    alternatives: &[Alternative],
    resolve: Resolve,
) -> Option<(Node, Route, Node)> {
    let mut first: Option<(Node, Route, Node)> = None;
    for alternative in alternatives {
        let Some(found) = alternative_value(body, fact, alternative, resolve) else {
            continue;
        };
        let is_true = matches!(found.0.value, Value::Bool(true));
        if is_true || !matches!(kind_of(fact), Kind::Flag) {
            return Some(found);
        }
        first.get_or_insert(found);
    }
    first
}

fn alternative_value(
    body: &Node,
    fact: &str,
    alternative: &Alternative,
    resolve: Resolve,
) -> Option<(Node, Route, Node)> {
    let Alternative {
        negated,
        route,
        members,
    } = alternative;
    let negated = *negated;
    let matches = select(body, route, resolve);
    if let Kind::List = kind_of(fact) {
        let (route, source) = matches.first().cloned()?;
        let items: Vec<Node> = matches
            .iter()
            .filter_map(|(_, n)| region_text(n).map(|t| Node::new(Value::Str(t), n.span)))
            .collect();
        return (!items.is_empty())
            .then(|| (Node::new(Value::Seq(items), source.span), route, source));
    }
    // With `[*]` several nodes match: a yes/no fact is true when any of them says so.
    let mut first = None;
    for (route, source) in matches {
        let value = match (members, kind_of(fact)) {
            (Some(members), _) => {
                let Some(text) = source.scalar_text() else {
                    continue;
                };
                Value::Bool(members.iter().any(|m| m.eq_ignore_ascii_case(&text)) != negated)
            }
            (None, Kind::Flag) => match flag(&source) {
                Some(b) => Value::Bool(b != negated),
                None => continue,
            },
            (None, Kind::Number) => match source.as_i64() {
                Some(n) => Value::Int(n),
                None => continue,
            },
            (None, _) => match text(fact, &source) {
                Some(t) => Value::Str(t),
                None => continue,
            },
        };
        let found = (Node::new(value, source.span), route, source);
        if matches!(found.0.value, Value::Bool(true)) {
            return Some(found);
        }
        first.get_or_insert(found);
    }
    first
}

fn parse_list(text: &str) -> Vec<String> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A node as written, or the value its expression stands for (pointing where it is used).
fn resolved<'a>(node: Cow<'a, Node>, resolve: Resolve) -> Option<Cow<'a, Node>> {
    match resolve(&node) {
        Resolved::AsWritten => Some(node),
        Resolved::Value(value) => Some(Cow::Owned(Node {
            span: node.span,
            ..value
        })),
        Resolved::Unknown => None,
    }
}

/// Children of a node; borrowed while the walk stays on written nodes, so large bodies
/// (AWS Config items) are not copied for every route.
fn children<'a>(
    node: &Cow<'a, Node>,
    segment: &Segment,
    at: &Route,
) -> Vec<(Route, Cow<'a, Node>)> {
    fn pick<'n>(node: &'n Node, segment: &Segment, at: &Route) -> Vec<(Route, &'n Node)> {
        match segment {
            Segment::Key(k) if k == "*" => node
                .items()
                .iter()
                .enumerate()
                .map(|(i, item)| (at.index(i), item))
                .collect(),
            Segment::Key(k) => node.get(k).map(|c| (at.key(k), c)).into_iter().collect(),
            Segment::Index(i) => node
                .items()
                .get(*i)
                .map(|c| (at.index(*i), c))
                .into_iter()
                .collect(),
        }
    }
    match node {
        Cow::Borrowed(n) => pick(n, segment, at)
            .into_iter()
            .map(|(r, c)| (r, Cow::Borrowed(c)))
            .collect(),
        Cow::Owned(n) => pick(n, segment, at)
            .into_iter()
            .map(|(r, c)| (r, Cow::Owned(c.clone())))
            .collect(),
    }
}

/// Every node the route reaches, resolving expressions on the way; `*` takes every item.
fn select(body: &Node, route: &Route, resolve: Resolve) -> Vec<(Route, Node)> {
    let mut current = vec![(Route::root(), Cow::Borrowed(body))];
    for segment in &route.0 {
        let mut next = Vec::new();
        for (at, node) in current {
            let Some(node) = resolved(node, resolve) else {
                continue;
            };
            next.extend(children(&node, segment, &at));
            if next.len() > MAX_MATCHES {
                break;
            }
        }
        current = next;
    }
    current
        .into_iter()
        .filter_map(|(at, node)| resolved(node, resolve).map(|n| (at, n.into_owned())))
        .filter(|(_, n)| !n.is_null())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse_stream;

    fn evaluate(
        body: &Node,
        fact: &str,
        spec: &str,
        resolve: Resolve,
    ) -> Option<(Node, Route, Node)> {
        let specs = FactSpecs::compile(&BTreeMap::from([(fact.to_string(), spec.to_string())]));
        super::evaluate(body, fact, &specs.0[0].1, resolve)
    }

    fn body(text: &str) -> Node {
        parse_stream(text).unwrap().remove(0)
    }

    fn literal(node: &Node) -> Resolved {
        if node.tag.is_none() {
            Resolved::AsWritten
        } else {
            Resolved::Unknown
        }
    }

    #[test]
    fn routes_negation_membership_and_alternatives() {
        let b = body(
            "P:\n  Acl: Private\n  Block: {Restrict: false}\n  Tls: TLS1_0\n  Sku: Standard_RAGRS\n  R: [{Region: us-east-1}, {Region: 'arn:aws:backup:eu-west-1:1:backup-vault:v'}]\n",
        );
        let public = evaluate(
            &b,
            "public",
            "P.Acl in [PublicRead] || !P.Block.Restrict",
            &literal,
        )
        .unwrap();
        assert_eq!(public.0.value, Value::Bool(true));
        assert_eq!(public.1.to_string(), "P.Block.Restrict");
        let private = evaluate(&b, "public", "P.Acl in [PublicRead]", &literal).unwrap();
        assert_eq!(private.0.value, Value::Bool(false));
        assert_eq!(
            evaluate(&b, "tls_min", "P.Tls", &literal)
                .unwrap()
                .0
                .as_str(),
            Some("1.0")
        );
        assert_eq!(
            evaluate(&b, "storage_replication", "P.Sku", &literal)
                .unwrap()
                .0
                .as_str(),
            Some("RAGRS")
        );
        let regions = evaluate(&b, "replica_regions", "P.R[*].Region", &literal)
            .unwrap()
            .0;
        let texts: Vec<_> = regions.items().iter().filter_map(Node::as_str).collect();
        assert_eq!(texts, ["us-east-1", "eu-west-1"]);
        assert!(evaluate(&b, "encrypted", "P.Missing", &literal).is_none());
        let grants = body("G: [{grantee: Owner}, {grantee: AllUsers}]\n");
        let public = evaluate(&grants, "public", "G[*].grantee in [AllUsers]", &literal).unwrap();
        assert_eq!(
            (public.0.value, public.1.to_string()),
            (Value::Bool(true), "G[1].grantee".to_string())
        );
    }

    #[test]
    fn unresolvable_expressions_give_no_fact() {
        let b = body("P:\n  Enc: !If [C, true, false]\n");
        assert!(evaluate(&b, "encrypted", "P.Enc", &literal).is_none());
    }
}
