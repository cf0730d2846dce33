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

    /// Nodes (or the missing field) where the condition holds; empty when it does not.
    pub fn evaluate<'a>(&self, body: &'a Node) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        if let Some(field) = &self.field {
            let selected = select(body, field);
            if let Some(expected) = self.exists {
                if expected {
                    hits.extend(selected.into_iter().map(|(route, node)| Hit {
                        route,
                        node: Some(node),
                    }));
                } else if selected.is_empty() {
                    hits.push(Hit {
                        route: Route::root(),
                        node: None,
                    });
                }
            } else {
                let regex = self.matches.as_deref().and_then(|p| Regex::new(p).ok());
                for (route, node) in selected {
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
                        hits.push(Hit {
                            route,
                            node: Some(node),
                        });
                    }
                }
            }
            return hits;
        }
        if !self.any.is_empty() {
            for c in &self.any {
                hits.extend(c.evaluate(body));
            }
            return hits;
        }
        if !self.all.is_empty() {
            let mut all_hits = Vec::new();
            for c in &self.all {
                let h = c.evaluate(body);
                if h.is_empty() {
                    return Vec::new();
                }
                all_hits.extend(h);
            }
            // Report the first condition's node: it names what the rule is about.
            all_hits.truncate(1);
            return all_hits;
        }
        if let Some(inner) = &self.not
            && inner.evaluate(body).is_empty()
        {
            hits.push(Hit {
                route: Route::root(),
                node: None,
            });
        }
        hits
    }
}
