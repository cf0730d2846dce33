//! Where an ARM template's parameters and variables get their values: a parameters file, the
//! parent deployment, or defaults. Records where a value came from and where evaluation stopped,
//! so findings can point at the parameters file line or at the `[resourceGroup().location]`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::arm_expressions::{Lookup, Unknown, evaluate_string, is_expression};
use super::facts::Resolved;
use crate::load::Document;
use crate::location::Location;
use crate::tree::{Node, Route};

/// A parameter value given from outside the template.
#[derive(Clone, Debug)]
pub enum Supplied {
    Known(Node, Location),
    Blocked(Unknown, Location),
}

/// One template (top-level, nested inline, or linked) with the values its expressions see.
pub struct TemplateScope<'a> {
    pub doc: &'a Document,
    pub template: &'a Node,
    /// Route of the template inside its document (empty for a top-level template).
    pub route: Route,
    pub supplied: BTreeMap<String, Supplied>,
    pub deploy_region: Option<String>,
    /// Where the first parameter or variable read by the last evaluation is written.
    origin: RefCell<Option<Location>>,
    /// Where the expression that stopped the last evaluation is written.
    blocked_at: RefCell<Option<Location>>,
    /// Parameters and variables evaluated so far (`p:name`, `v:name`, lower case), each once:
    /// variables built from variables would otherwise be evaluated an exponential number of times.
    memo: RefCell<HashMap<String, Memo>>,
}

/// A parameter's or variable's value, with the origin and blocker its evaluation noted.
#[derive(Clone)]
struct Memo {
    result: Result<Node, Unknown>,
    origin: Option<Location>,
    blocked_at: Option<Location>,
}

/// The outcome of evaluating a value inside a template.
pub struct Evaluated {
    pub result: Result<Node, Unknown>,
    pub origin: Option<Location>,
    pub blocked_at: Option<Location>,
}

const MAX_REEVALUATIONS: usize = 4;

impl<'a> TemplateScope<'a> {
    pub fn new(
        doc: &'a Document,
        template: &'a Node,
        route: Route,
        deploy_region: Option<String>,
    ) -> Self {
        TemplateScope {
            doc,
            template,
            route,
            supplied: BTreeMap::new(),
            deploy_region,
            origin: RefCell::new(None),
            blocked_at: RefCell::new(None),
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// Evaluates a parameter or variable once; later reads replay the notes of the first.
    fn memoised(
        &self,
        key: String,
        evaluate: impl FnOnce() -> Result<Node, Unknown>,
    ) -> Result<Node, Unknown> {
        if let Some(memo) = self.memo.borrow().get(&key).cloned() {
            if let Some(at) = memo.origin {
                self.note_origin(at);
            }
            if let Some(at) = memo.blocked_at {
                self.note_blocked(at);
            }
            return memo.result;
        }
        // A value that refers to itself is unknown, not evaluated until the depth limit.
        let cycle = Memo {
            result: Err(Unknown(format!(
                "{} refers to itself",
                key.replacen("p:", "parameters ", 1)
                    .replacen("v:", "variables ", 1)
            ))),
            origin: None,
            blocked_at: None,
        };
        self.memo.borrow_mut().insert(key.clone(), cycle);
        let outer_origin = self.origin.take();
        let outer_blocked = self.blocked_at.take();
        let result = evaluate();
        let memo = Memo {
            result: result.clone(),
            origin: self.origin.take(),
            blocked_at: self.blocked_at.take(),
        };
        self.origin
            .replace(outer_origin.or_else(|| memo.origin.clone()));
        self.blocked_at
            .replace(outer_blocked.or_else(|| memo.blocked_at.clone()));
        self.memo.borrow_mut().insert(key, memo);
        result
    }

    pub fn locate(&self, node: &Node, relative: &Route) -> Location {
        Location::of_node(
            &self.doc.path,
            self.doc.index,
            node,
            &self.route.join(relative),
        )
    }

    /// Evaluates a node of this template; strings that hold expressions are evaluated, and a
    /// result that is itself an expression (a variable's property) is evaluated again.
    pub fn evaluate(&self, node: &Node) -> Evaluated {
        self.origin.replace(None);
        self.blocked_at.replace(None);
        let mut current = node.clone();
        let mut result = Ok(current.clone());
        for _ in 0..MAX_REEVALUATIONS {
            let Some(text) = current
                .as_str()
                .filter(|t| is_expression(t))
                .map(str::to_string)
            else {
                break;
            };
            result = evaluate_string(&text, current.span, self, 0);
            match &result {
                Ok(next) => current = next.clone(),
                Err(_) => break,
            }
        }
        if let Ok(value) = &mut result {
            // Literal brackets (`[[x]`) are unescaped by the evaluator only; plain strings stay.
            if let Some(text) = value.as_str().filter(|t| t.starts_with("[[")) {
                value.value = crate::tree::Value::Str(text[1..].to_string());
            }
        }
        Evaluated {
            result,
            origin: self.origin.take(),
            blocked_at: self.blocked_at.take(),
        }
    }

    /// For the facts table: plain values as written, expressions evaluated where possible,
    /// with where the parameter or variable that gave the value is written (a parameters file
    /// line, a `defaultValue`).
    pub fn resolution(&self, node: &Node) -> Resolved {
        if !node.as_str().is_some_and(is_expression) {
            return Resolved::AsWritten;
        }
        let evaluated = self.evaluate(node);
        match evaluated.result {
            Ok(value) => Resolved::Value(value, evaluated.origin),
            Err(_) => Resolved::Unknown,
        }
    }

    /// The literal a node stands for, or `None`.
    pub fn resolve(&self, node: &Node) -> Option<Node> {
        self.evaluate(node).result.ok()
    }

    fn note_origin(&self, location: Location) {
        self.origin.borrow_mut().get_or_insert(location);
    }

    fn note_blocked(&self, location: Location) {
        self.blocked_at.borrow_mut().get_or_insert(location);
    }

    fn section_value(&self, section: &str, name: &str) -> Option<(&'a Node, Route)> {
        let entries = self.template.get(section)?;
        // ARM names are case-insensitive.
        let entry = entries
            .entries()
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(name))?;
        Some((&entry.value, Route::root().key(section).key(&entry.key)))
    }
}

impl Lookup for TemplateScope<'_> {
    fn parameter(&self, name: &str, depth: usize) -> Result<Node, Unknown> {
        let key = format!("p:{}", name.to_ascii_lowercase());
        self.memoised(key, || self.parameter_value(name, depth))
    }

    fn variable(&self, name: &str, depth: usize) -> Result<Node, Unknown> {
        let key = format!("v:{}", name.to_ascii_lowercase());
        self.memoised(key, || self.variable_value(name, depth))
    }

    fn deploy_region(&self) -> Option<String> {
        self.deploy_region.clone()
    }
}

impl TemplateScope<'_> {
    fn parameter_value(&self, name: &str, depth: usize) -> Result<Node, Unknown> {
        if let Some((_, supplied)) = self
            .supplied
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            return match supplied {
                Supplied::Known(value, at) => {
                    self.note_origin(at.clone());
                    Ok(value.clone())
                }
                Supplied::Blocked(unknown, at) => {
                    self.note_blocked(at.clone());
                    Err(unknown.clone())
                }
            };
        }
        let Some((declaration, route)) = self.section_value("parameters", name) else {
            return Err(Unknown(format!("parameters('{name}') is not declared")));
        };
        let Some(default) = declaration.get("defaultValue") else {
            self.note_blocked(self.locate(declaration, &route));
            return Err(Unknown(format!(
                "parameters('{name}') without a default or parameters file"
            )));
        };
        let at = self.locate(default, &route.key("defaultValue"));
        match default.as_str().filter(|t| is_expression(t)) {
            Some(text) => {
                let value = evaluate_string(text, default.span, self, depth);
                match &value {
                    Ok(_) => self.note_origin(at),
                    Err(_) => self.note_blocked(at),
                }
                value
            }
            None => {
                self.note_origin(at);
                Ok(default.clone())
            }
        }
    }

    fn variable_value(&self, name: &str, depth: usize) -> Result<Node, Unknown> {
        let Some((value, route)) = self.section_value("variables", name) else {
            return Err(Unknown(format!("variables('{name}') is not declared")));
        };
        let at = self.locate(value, &route);
        match value.as_str().filter(|t| is_expression(t)) {
            Some(text) => {
                let evaluated = evaluate_string(text, value.span, self, depth);
                if evaluated.is_err() {
                    self.note_blocked(at);
                }
                evaluated
            }
            None => {
                self.note_origin(at);
                Ok(value.clone())
            }
        }
    }
}
