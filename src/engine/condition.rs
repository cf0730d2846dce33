//! Data conditions of user-written rules: a field route and a test, combined with any/all/not.
//! Routes accept `[*]` to look into every item of a list.

use regex::Regex;
use serde::Deserialize;

use std::borrow::Cow;

use crate::extract::facts;
use crate::tree::{Node, Route, Value};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(default)]
    pub any: Vec<Condition>,
    #[serde(default)]
    pub all: Vec<Condition>,
    #[serde(default)]
    pub not: Option<Box<Condition>>,
    /// Route inside the resource (`spec.template.spec.containers[*].image`).
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub exists: Option<bool>,
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    #[serde(default)]
    pub not_equals: Option<serde_json::Value>,
    #[serde(default)]
    pub matches: Option<String>,
    #[serde(default, rename = "in")]
    pub one_of: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub not_in: Option<Vec<serde_json::Value>>,
}

/// Whether a node's value is decided only at deployment (`extract::facts::decided_at_deployment`).
pub type Deployed<'d> = &'d dyn Fn(&Node) -> bool;

/// What a condition says of a resource: where it holds, and where it could not be judged.
#[derive(Default)]
pub struct Outcome<'a> {
    pub hits: Vec<Hit<'a>>,
    pub unknown: Vec<Hit<'a>>,
}

/// A node a condition fired on, with its route relative to the resource.
pub struct Hit<'a> {
    pub route: Route,
    pub node: Option<Cow<'a, Node>>,
}

fn matches_json(node: &Node, expected: &serde_json::Value) -> bool {
    match (expected, &node.value) {
        (serde_json::Value::Bool(b), _) => node.as_bool() == Some(*b),
        (serde_json::Value::Number(n), Value::Int(i)) => n.as_i64() == Some(*i),
        (serde_json::Value::Number(n), Value::Float(f)) => n.as_f64() == Some(*f),
        (serde_json::Value::String(s), _) => node.scalar_text().as_deref() == Some(s.as_str()),
        (serde_json::Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// Every node a route with `[*]` wildcards reaches, with its concrete route: the fact reader's
/// route walker, on nodes as written.
pub fn select<'a>(root: &'a Node, route: &str) -> Vec<(Route, Cow<'a, Node>)> {
    facts::select(root, &Route::parse(route), &facts::as_written)
        .found
        .into_iter()
        .map(|(route, reached)| (route, reached.node))
        .collect()
}

impl Condition {
    pub fn validate(&self) -> Result<(), String> {
        let tests = [
            self.exists.is_some(),
            self.equals.is_some(),
            self.not_equals.is_some(),
            self.matches.is_some(),
            self.one_of.is_some(),
            self.not_in.is_some(),
        ]
        .iter()
        .filter(|t| **t)
        .count();
        let groups = usize::from(!self.any.is_empty())
            + usize::from(!self.all.is_empty())
            + usize::from(self.not.is_some());
        if groups == 0 && self.field.is_none() {
            return Err("a condition needs `field` with a test, or `any`/`all`/`not`".into());
        }
        if self.field.is_some() && tests == 0 {
            return Err(format!(
                "condition on {:?} needs one test: exists, equals, not_equals, matches, in, not_in",
                self.field.as_deref().unwrap_or_default()
            ));
        }
        if let Some(pattern) = &self.matches {
            Regex::new(pattern).map_err(|e| format!("bad regex {pattern:?}: {e}"))?;
        }
        for c in self.any.iter().chain(&self.all) {
            c.validate()?;
        }
        if let Some(c) = &self.not {
            c.validate()?;
        }
        Ok(())
    }

    /// Nodes (or the missing field) where the condition holds, and the nodes it cannot be
    /// judged on because `deployed` says only the deployment decides their value (a Terraform
    /// `var.x` without a default, a CloudFormation `!If`, an ARM `[parameters('x')]`). A test
    /// on such a node neither holds nor fails: `any`, `all` and `not` pass the doubt on, so a
    /// condition that could hold is never read as one that does not.
    pub fn evaluate<'a>(&self, body: &'a Node, deployed: Deployed) -> Outcome<'a> {
        let mut out = Outcome::default();
        if let Some(field) = &self.field {
            let selected = select(body, field);
            if let Some(expected) = self.exists {
                // Written, unless as an expression that may give nothing (`!If [C, x, !Ref
                // AWS::NoValue]`, `var.on ? x : null`): whether that one exists is unknown.
                let (maybe, written): (Vec<_>, Vec<_>) = selected
                    .into_iter()
                    .partition(|(_, node)| deployed(node) && facts::may_give_nothing(node));
                let hits = |found: Vec<(Route, Cow<'a, Node>)>| {
                    found.into_iter().map(|(route, node)| Hit {
                        route,
                        node: Some(node),
                    })
                };
                match (expected, written.is_empty()) {
                    (true, _) => {
                        out.hits.extend(hits(written));
                        out.unknown.extend(hits(maybe));
                    }
                    (false, true) if maybe.is_empty() => out.hits.push(Hit {
                        route: Route::root(),
                        node: None,
                    }),
                    (false, true) => out.unknown.extend(hits(maybe)),
                    (false, false) => {}
                }
                return out;
            }
            let regex = self.matches.as_deref().and_then(|p| Regex::new(p).ok());
            for (route, node) in selected {
                if deployed(&node) {
                    out.unknown.push(Hit {
                        route,
                        node: Some(node),
                    });
                    continue;
                }
                let fires = self.equals.as_ref().is_some_and(|v| matches_json(&node, v))
                    || self
                        .not_equals
                        .as_ref()
                        .is_some_and(|v| !matches_json(&node, v))
                    || regex
                        .as_ref()
                        .is_some_and(|re| node.scalar_text().is_some_and(|t| re.is_match(&t)))
                    || self
                        .one_of
                        .as_ref()
                        .is_some_and(|l| l.iter().any(|v| matches_json(&node, v)))
                    || self
                        .not_in
                        .as_ref()
                        .is_some_and(|l| !l.iter().any(|v| matches_json(&node, v)));
                if fires {
                    out.hits.push(Hit {
                        route,
                        node: Some(node),
                    });
                }
            }
            return out;
        }
        if !self.any.is_empty() {
            for c in &self.any {
                let one = c.evaluate(body, deployed);
                out.hits.extend(one.hits);
                out.unknown.extend(one.unknown);
            }
            return out;
        }
        if !self.all.is_empty() {
            let mut all_hits = Vec::new();
            let mut unknown = Vec::new();
            for c in &self.all {
                let one = c.evaluate(body, deployed);
                match (one.hits.is_empty(), one.unknown.is_empty()) {
                    // One part does not hold: the whole does not, whatever else is unknown.
                    (true, true) => return Outcome::default(),
                    (true, false) => unknown.extend(one.unknown),
                    (false, _) => all_hits.extend(one.hits),
                }
            }
            if unknown.is_empty() {
                // Report the first condition's node: it names what the rule is about.
                all_hits.truncate(1);
                out.hits = all_hits;
            } else {
                out.unknown = unknown;
            }
            return out;
        }
        if let Some(inner) = &self.not {
            let inner = inner.evaluate(body, deployed);
            if !inner.hits.is_empty() {
                return out;
            }
            if inner.unknown.is_empty() {
                out.hits.push(Hit {
                    route: Route::root(),
                    node: None,
                });
            } else {
                out.unknown = inner.unknown;
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::load::hcl::{self, EXPR_TAG};

    fn condition(yaml: &str) -> Condition {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn expression(node: &Node) -> bool {
        node.tag.as_deref() == Some(EXPR_TAG)
    }

    /// (holds, unknown) counts of a condition on a Terraform body.
    fn judged(yaml: &str, body: &str) -> (usize, usize) {
        let root = hcl::parse(body).unwrap();
        let out = condition(yaml).evaluate(&root, &expression);
        (out.hits.len(), out.unknown.len())
    }

    #[test]
    fn a_test_on_a_value_the_deployment_decides_neither_holds_nor_fails() {
        let body = "encrypted = var.encrypt\nplain = false\n";
        for test in [
            "equals: true",
            "not_equals: true",
            "in: [true]",
            "not_in: [true]",
        ] {
            let yaml = format!("field: encrypted\n{test}\n");
            assert_eq!(judged(&yaml, body), (0, 1), "{test}");
        }
        assert_eq!(judged("field: plain\nnot_equals: true\n", body), (1, 0));
        // Whether it is written does not depend on its value, unless that may be nothing.
        assert_eq!(judged("field: encrypted\nexists: true\n", body), (1, 0));
        let maybe = "key = var.on ? aws_kms_key.k.arn : null\n";
        assert_eq!(judged("field: key\nexists: true\n", maybe), (0, 1));
        assert_eq!(judged("field: key\nexists: false\n", maybe), (0, 1));
        assert_eq!(judged("field: gone\nexists: false\n", maybe), (1, 0));
        assert_eq!(judged("field: encrypted\nexists: false\n", body), (0, 0));
    }

    #[test]
    fn any_all_and_not_pass_the_doubt_on() {
        let body = "a = var.x\nb = false\nc = true\n";
        let any = "any:\n  - {field: a, equals: true}\n  - {field: b, equals: true}\n";
        assert_eq!(judged(any, body), (0, 1));
        let any_holds = "any:\n  - {field: a, equals: true}\n  - {field: c, equals: true}\n";
        assert_eq!(judged(any_holds, body).0, 1);
        let all = "all:\n  - {field: a, equals: true}\n  - {field: c, equals: true}\n";
        assert_eq!(judged(all, body), (0, 1));
        // One part that does not hold decides, whatever the other.
        let all_fails = "all:\n  - {field: a, equals: true}\n  - {field: b, equals: true}\n";
        assert_eq!(judged(all_fails, body), (0, 0));
        assert_eq!(judged("not: {field: a, equals: true}\n", body), (0, 1));
        assert_eq!(judged("not: {field: b, equals: true}\n", body), (1, 0));
        assert_eq!(judged("not: {field: c, equals: true}\n", body), (0, 0));
    }
}
