//! CloudFormation intrinsic functions, in both spellings (`!Ref X` and `{"Ref": "X"}`), and
//! their evaluation where the template itself gives the answer (parameter defaults, mappings).
//! What depends on the deployment (conditions, attributes of other resources) stays unknown.

use std::cell::RefCell;
use std::collections::HashMap;

use std::sync::Arc;

use super::facts::Resolved;
use crate::limits;
use crate::location::Location;
use crate::tree::{Node, Route, Value};

const MAX_DEPTH: usize = 32;

/// An intrinsic function call: its long name (`Fn::Sub`, `Ref`, `Condition`) and argument.
pub fn intrinsic(node: &Node) -> Option<(String, Node)> {
    if let Some(tag) = node.tag.as_deref().and_then(|t| t.strip_prefix('!')) {
        let name = match tag {
            "Ref" | "Condition" => tag.to_string(),
            other => format!("Fn::{other}"),
        };
        return Some((
            name,
            Node {
                tag: None,
                ..node.clone()
            },
        ));
    }
    match node.entries() {
        [only] if only.key == "Ref" || only.key == "Condition" || only.key.starts_with("Fn::") => {
            Some((only.key.clone(), only.value.clone()))
        }
        _ => None,
    }
}

/// How an intrinsic is written, for messages (`!Ref AWS::Region`).
pub fn describe(node: &Node) -> String {
    match intrinsic(node) {
        Some((name, arg)) => {
            let short = name.strip_prefix("Fn::").unwrap_or(&name);
            match arg.scalar_text() {
                Some(text) => format!("!{short} {text}"),
                None => format!("!{short} …"),
            }
        }
        None => node.scalar_text().unwrap_or_default(),
    }
}

/// What evaluation may read: the template's parameters, mappings and conditions, and the
/// deploy region.
pub struct Scope<'a> {
    pub parameters: Option<&'a Node>,
    pub mappings: Option<&'a Node>,
    pub conditions: Option<&'a Node>,
    pub deploy_region: Option<&'a str>,
    /// Parameter values given for the deployment (`--parameter Env=prod`), over the defaults.
    pub given: &'a [(String, String)],
    /// Parameters resolved so far, each once: defaults built with `!Sub` from other parameters
    /// would otherwise be evaluated an exponential number of times.
    pub values: RefCell<HashMap<String, Option<Node>>>,
    /// The template's path and document number, to say where a parameter's default is written.
    pub template: Option<(&'a Arc<str>, usize)>,
    /// Where the default of the last parameter the current evaluation read is written
    /// (`resolution`).
    pub origin: RefCell<Option<Location>>,
}

impl Scope<'_> {
    /// The value of a named condition of `Conditions` with the parameter defaults, or `None`
    /// when it depends on the deployment.
    pub fn condition(&self, name: &str) -> Option<bool> {
        self.condition_at(name, 0)
    }

    fn condition_at(&self, name: &str, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        let body = self.conditions?.get(name)?;
        self.truth(body, depth + 1)
    }

    /// `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and `Condition` references.
    fn truth(&self, node: &Node, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        let Some((name, arg)) = intrinsic(node) else {
            return node.as_bool();
        };
        match name.as_str() {
            "Condition" => self.condition_at(arg.as_str()?, depth + 1),
            "Fn::Equals" => {
                let [a, b] = arg.items() else {
                    return None;
                };
                let a = self.resolve_at(a, depth + 1)?;
                let b = self.resolve_at(b, depth + 1)?;
                Some(a.scalar_text()? == b.scalar_text()?)
            }
            "Fn::Not" => Some(!self.truth(arg.items().first()?, depth + 1)?),
            "Fn::And" | "Fn::Or" => {
                let and = name == "Fn::And";
                let mut unknown = false;
                for item in arg.items() {
                    match self.truth(item, depth + 1) {
                        Some(v) if v != and => return Some(v),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                (!unknown).then_some(and)
            }
            _ => self.resolve_at(node, depth + 1)?.as_bool(),
        }
    }

    /// For the facts table: written nodes as they are, intrinsics evaluated where possible,
    /// with where the default of the last parameter the evaluation read is written, when the
    /// deployment does not set that parameter: `!Ref EncryptVolume`, or the parameter that the
    /// condition of the innermost `!If` reached compares.
    pub fn resolution(&self, node: &Node) -> Resolved {
        if intrinsic(node).is_none() {
            return Resolved::AsWritten;
        }
        self.origin.replace(None);
        let value = self.resolve(node);
        let origin = self.origin.take();
        match value {
            Some(value) => Resolved::Value(value, origin),
            None => Resolved::Unknown,
        }
    }

    /// Notes where the default of parameter `name` is written, over what an earlier read of this
    /// evaluation noted, unless the deployment gives the parameter.
    fn note_default(&self, name: &str) {
        if self.given.iter().any(|(k, _)| k == name) {
            return;
        }
        let Some((path, document)) = self.template else {
            return;
        };
        let Some(default) = self.parameters.and_then(|p| p.get(name)?.get("Default")) else {
            return;
        };
        let route = Route::root().key("Parameters").key(name).key("Default");
        self.origin
            .replace(Some(Location::of_node(path, document, default, &route)));
    }

    /// The literal a node stands for, or `None` when it depends on the deployment.
    /// Collections are returned as they are; their members are resolved when read.
    pub fn resolve(&self, node: &Node) -> Option<Node> {
        self.resolve_at(node, 0)
    }

    fn resolve_at(&self, node: &Node, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH.min(limits::expression_depth()) {
            return None;
        }
        let Some((name, arg)) = intrinsic(node) else {
            return Some(node.clone());
        };
        let at = |value: Value| Some(Node::new(value, node.span));
        match name.as_str() {
            "Ref" => self.reference(arg.as_str()?, depth).map(|n| Node {
                span: node.span,
                ..n
            }),
            "Fn::Sub" => at(Value::Str(self.substitute(&arg, depth)?)),
            "Fn::If" => {
                let [condition, yes, no] = arg.items() else {
                    return None;
                };
                let chosen = if self.condition_at(condition.as_str()?, depth + 1)? {
                    yes
                } else {
                    no
                };
                self.resolve_at(chosen, depth + 1)
            }
            "Fn::Join" => {
                let delimiter = self.text(arg.items().first()?, depth)?;
                let list = self.resolve_at(arg.items().get(1)?, depth + 1)?;
                let parts: Option<Vec<String>> =
                    list.items().iter().map(|p| self.text(p, depth)).collect();
                let parts = parts?;
                let size = parts
                    .iter()
                    .map(|p| p.len() + delimiter.len())
                    .sum::<usize>();
                if size > limits::value_bytes() {
                    return None;
                }
                at(Value::Str(parts.join(&delimiter)))
            }
            "Fn::Select" => {
                let index =
                    usize::try_from(self.resolve_at(arg.items().first()?, depth + 1)?.as_i64()?)
                        .ok()?;
                let list = self.resolve_at(arg.items().get(1)?, depth + 1)?;
                let chosen = list.items().get(index)?.clone();
                self.resolve_at(&chosen, depth + 1)
            }
            "Fn::FindInMap" => {
                let keys: Option<Vec<String>> = arg
                    .items()
                    .iter()
                    .take(3)
                    .map(|k| self.text(k, depth))
                    .collect();
                let keys = keys?;
                let [map, top, second] = keys.as_slice() else {
                    return None;
                };
                let value = self.mappings?.get(map)?.get(top)?.get(second)?.clone();
                self.resolve_at(&value, depth + 1)
            }
            _ => None,
        }
    }

    fn text(&self, node: &Node, depth: usize) -> Option<String> {
        self.resolve_at(node, depth + 1)?.scalar_text()
    }

    fn reference(&self, name: &str, depth: usize) -> Option<Node> {
        match name {
            "AWS::Region" => self
                .deploy_region
                .map(|r| Node::new(Value::Str(r.to_string()), Default::default())),
            "AWS::NoValue" => Some(Node::new(Value::Null, Default::default())),
            "AWS::Partition" => Some(Node::new(Value::Str("aws".into()), Default::default())),
            "AWS::URLSuffix" => Some(Node::new(
                Value::Str("amazonaws.com".into()),
                Default::default(),
            )),
            _ => {
                let known = self.values.borrow().get(name).cloned();
                let value = known.unwrap_or_else(|| {
                    // A parameter whose default refers to itself stays unknown.
                    self.values.borrow_mut().insert(name.to_string(), None);
                    let value = self
                        .parameter(name, depth)
                        .filter(|v| !limits::too_large(v));
                    self.values
                        .borrow_mut()
                        .insert(name.to_string(), value.clone());
                    value
                });
                if value.is_some() {
                    self.note_default(name);
                }
                value
            }
        }
    }

    fn parameter(&self, name: &str, depth: usize) -> Option<Node> {
        let parameter = self.parameters?.get(name)?;
        let given = self
            .given
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| Node::new(Value::Str(v.clone()), parameter.span));
        let resolved = match given {
            Some(value) => value,
            None => self.resolve_at(parameter.get("Default")?, depth + 1)?,
        };
        // A list parameter's default is one comma-separated string.
        let is_list = parameter
            .get("Type")
            .and_then(Node::as_str)
            .is_some_and(|t| t.starts_with("List<") || t == "CommaDelimitedList");
        match resolved.as_str() {
            Some(text) if is_list => Some(Node::new(
                Value::Seq(
                    text.split(',')
                        .map(|s| Node::new(Value::Str(s.trim().to_string()), resolved.span))
                        .collect(),
                ),
                resolved.span,
            )),
            _ => Some(resolved),
        }
    }

    /// `Fn::Sub` with `${Param}`, `${AWS::Region}`, its own variables map and `${!Literal}`.
    fn substitute(&self, arg: &Node, depth: usize) -> Option<String> {
        let (template, variables) = match &arg.value {
            Value::Str(s) => (s.clone(), None),
            Value::Seq(items) => (items.first()?.as_str()?.to_string(), items.get(1)),
            _ => return None,
        };
        let mut out = String::with_capacity(template.len());
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let value = match variables.and_then(|v| v.get(name)) {
                    Some(node) => self.text(node, depth)?,
                    None if name.contains('.') => return None,
                    None => self.reference(name, depth)?.scalar_text()?,
                };
                out.push_str(&value);
            }
            if out.len() > limits::value_bytes() {
                return None;
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse_stream;

    #[test]
    fn evaluates_what_the_template_knows() {
        let doc = parse_stream(
            "Parameters:\n  Dest: {Type: String, Default: us-west-2}\n  Zones: {Type: CommaDelimitedList, Default: 'a, b'}\n\
             Mappings:\n  M: {eu-west-1: {Vault: 'arn:aws:backup:ap-south-1:1:backup-vault:x'}}\n\
             V:\n  - !Ref Dest\n  - {Ref: Dest}\n  - !Sub '${Dest}-${!Keep}'\n  - !Join ['-', [x, !Ref Dest]]\n\
             \x20 - !Select [1, !Ref Zones]\n  - !FindInMap [M, !Ref 'AWS::Region', Vault]\n  - !Ref AWS::Region\n  - !If [C, a, b]\n  - !GetAtt B.Arn\n",
        )
        .unwrap()
        .remove(0);
        let scope = |region| Scope {
            conditions: None,
            given: &[],
            parameters: doc.get("Parameters"),
            mappings: doc.get("Mappings"),
            deploy_region: region,
            values: Default::default(),
            template: None,
            origin: Default::default(),
        };
        let texts = |s: &Scope| -> Vec<Option<String>> {
            doc.get("V")
                .unwrap()
                .items()
                .iter()
                .map(|n| s.resolve(n).and_then(|r| r.scalar_text()))
                .collect()
        };
        let open = texts(&scope(None));
        assert_eq!(open[0].as_deref(), Some("us-west-2"));
        assert_eq!(open[1].as_deref(), Some("us-west-2"));
        assert_eq!(open[2].as_deref(), Some("us-west-2-${Keep}"));
        assert_eq!(open[3].as_deref(), Some("x-us-west-2"));
        assert_eq!(open[4].as_deref(), Some("b"));
        assert_eq!(open[5], None);
        assert_eq!(open[6], None);
        assert_eq!((open[7].clone(), open[8].clone()), (None, None));
        let deployed = texts(&scope(Some("eu-west-1")));
        assert_eq!(
            deployed[5].as_deref(),
            Some("arn:aws:backup:ap-south-1:1:backup-vault:x")
        );
        assert_eq!(deployed[6].as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn both_spellings_are_intrinsics() {
        let doc =
            parse_stream("a: !GetAtt B.Arn\nb: {'Fn::GetAtt': [B, Arn]}\nc: {Ref: X, Other: 1}\n")
                .unwrap()
                .remove(0);
        assert_eq!(intrinsic(doc.get("a").unwrap()).unwrap().0, "Fn::GetAtt");
        assert_eq!(intrinsic(doc.get("b").unwrap()).unwrap().0, "Fn::GetAtt");
        assert!(intrinsic(doc.get("c").unwrap()).is_none());
        assert_eq!(describe(doc.get("a").unwrap()), "!GetAtt B.Arn");
    }

    #[test]
    fn conditions_and_fn_if_with_parameter_defaults() {
        let text = "Parameters:\n  Env: {Type: String, Default: dev}\n  Other: {Type: String}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  Unknown: !Equals [!Ref Other, x]\n  Either: !Or [!Condition IsProd, !Condition Unknown]\n  Neither: !And [!Condition IsProd, !Condition Unknown]\nValue: !If [IsProd, us-east-1, eu-west-1]\n";
        let root = parse_stream(text).unwrap().remove(0);
        let scope = Scope {
            parameters: root.get("Parameters"),
            mappings: None,
            conditions: root.get("Conditions"),
            deploy_region: None,
            given: &[],
            values: Default::default(),
            template: None,
            origin: Default::default(),
        };
        assert_eq!(scope.condition("IsProd"), Some(false));
        assert_eq!(scope.condition("Unknown"), None);
        assert_eq!(scope.condition("Either"), None);
        assert_eq!(scope.condition("Neither"), Some(false));
        let value = scope.resolve(root.get("Value").unwrap()).unwrap();
        assert_eq!(value.as_str(), Some("eu-west-1"));
    }
}
