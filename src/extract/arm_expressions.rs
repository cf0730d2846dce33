//! ARM template expressions (`[concat(parameters('prefix'), '-db')]`): a small evaluator for the
//! functions that decide names and locations. Whatever depends on the deployment
//! (`resourceGroup()`, `reference()`, `uniqueString()`) stops evaluation with the reason.

use crate::limits;
use crate::tree::{Node, Span, Value};

const MAX_DEPTH: usize = 64;

/// Why an expression has no value before deployment: the function that blocks it.
#[derive(Clone, Debug, PartialEq)]
pub struct Unknown(pub String);

/// Values of parameters and variables, supplied by the extractor (which knows where they live).
pub trait Lookup {
    fn parameter(&self, name: &str, depth: usize) -> Result<Node, Unknown>;
    fn variable(&self, name: &str, depth: usize) -> Result<Node, Unknown>;
    /// `resourceGroup().location` and `deployment().location`: the `--deploy-region`, if given.
    fn deploy_region(&self) -> Option<String>;
}

/// Is this JSON string an expression (`[…]`, but not the `[[` escape of a literal bracket)?
pub fn is_expression(text: &str) -> bool {
    let t = text.trim();
    t.starts_with('[') && t.ends_with(']') && !t.starts_with("[[")
}

/// Evaluates a JSON string value: an expression, or a literal (`[[x]` is the literal `[x]`).
pub fn evaluate_string(
    text: &str,
    span: Span,
    lookup: &dyn Lookup,
    depth: usize,
) -> Result<Node, Unknown> {
    if depth > MAX_DEPTH {
        return Err(Unknown("expressions nested too deeply".into()));
    }
    let trimmed = text.trim();
    if !is_expression(trimmed) {
        let literal = trimmed
            .strip_prefix("[[")
            .map_or(text.to_string(), |rest| format!("[{rest}"));
        return Ok(Node::new(Value::Str(literal), span));
    }
    let mut parser = Parser {
        chars: trimmed[1..trimmed.len() - 1].chars().collect(),
        at: 0,
        lookup,
        depth,
        span,
        nesting: 0,
    };
    let value = parser.expression()?;
    parser.skip_space();
    if parser.at < parser.chars.len() {
        return Err(Unknown(format!("unsupported expression {trimmed}")));
    }
    Ok(value)
}

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    lookup: &'a dyn Lookup,
    depth: usize,
    span: Span,
    /// Expressions open around the current one (`a(a(a(…`), bounded by the depth limit.
    nesting: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn node(&self, value: Value) -> Node {
        Node::new(value, self.span)
    }

    fn expression(&mut self) -> Result<Node, Unknown> {
        if self.nesting >= limits::expression_depth() {
            return Err(Unknown(limits::depth_reason()));
        }
        self.nesting += 1;
        let value = self.postfix();
        self.nesting -= 1;
        value
    }

    fn postfix(&mut self) -> Result<Node, Unknown> {
        let mut value = self.primary()?;
        // Property and index access: `.location`, `['name']`, `[0]`.
        loop {
            if self.eat('.') {
                let name = self.identifier();
                value = value
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| Unknown(format!("no property {name}")))?;
            } else if self.eat('[') {
                let key = self.expression()?;
                if !self.eat(']') {
                    return Err(Unknown("unclosed index".into()));
                }
                value = match (&key.value, &value.value) {
                    (Value::Int(i), Value::Seq(items)) => {
                        usize::try_from(*i).ok().and_then(|i| items.get(i)).cloned()
                    }
                    (Value::Str(k), Value::Map(_)) => value.get(k).cloned(),
                    _ => None,
                }
                .ok_or_else(|| Unknown("index out of range".into()))?;
            } else {
                return Ok(value);
            }
        }
    }

    fn identifier(&mut self) -> String {
        self.skip_space();
        let start = self.at;
        while self
            .chars
            .get(self.at)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn primary(&mut self) -> Result<Node, Unknown> {
        match self.peek() {
            Some('\'') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let start = self.at;
                self.at += 1;
                while self.chars.get(self.at).is_some_and(char::is_ascii_digit) {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                text.parse()
                    .map(|n| self.node(Value::Int(n)))
                    .map_err(|_| Unknown(format!("bad number {text}")))
            }
            Some(c) if c.is_alphabetic() => {
                let name = self.identifier();
                if !self.eat('(') {
                    return match name.as_str() {
                        "true" => Ok(self.node(Value::Bool(true))),
                        "false" => Ok(self.node(Value::Bool(false))),
                        "null" => Ok(self.node(Value::Null)),
                        _ => Err(Unknown(format!("unknown name {name}"))),
                    };
                }
                let mut args = Vec::new();
                if !self.eat(')') {
                    loop {
                        let arg = self.expression();
                        if arg.as_ref().is_err_and(|e| e.0 == limits::depth_reason()) {
                            // Not a value a branch of `if()` could leave aside: the rest of the
                            // expression was not read.
                            return arg;
                        }
                        args.push(arg);
                        if self.eat(')') {
                            break;
                        }
                        if !self.eat(',') {
                            return Err(Unknown(format!("malformed call of {name}()")));
                        }
                    }
                }
                let value = self.call(&name, args)?;
                if limits::too_large(&value) {
                    return Err(Unknown(limits::value_reason()));
                }
                Ok(value)
            }
            _ => Err(Unknown("malformed expression".into())),
        }
    }

    fn string(&mut self) -> Result<Node, Unknown> {
        self.at += 1;
        let mut out = String::new();
        while let Some(&c) = self.chars.get(self.at) {
            self.at += 1;
            if c == '\'' {
                // `''` is an escaped quote inside a string literal.
                if self.chars.get(self.at) == Some(&'\'') {
                    self.at += 1;
                    out.push('\'');
                    continue;
                }
                return Ok(self.node(Value::Str(out)));
            }
            out.push(c);
        }
        Err(Unknown("unterminated string".into()))
    }

    /// Arguments arrive evaluated; `if` picks its branch afterwards, so an unknown branch it
    /// does not take does not block it.
    fn call(&mut self, name: &str, args: Vec<Result<Node, Unknown>>) -> Result<Node, Unknown> {
        let lower = name.to_ascii_lowercase();
        let text = |i: usize| -> Result<String, Unknown> {
            args.get(i)
                .cloned()
                .unwrap_or_else(|| Err(Unknown(format!("{name}() needs more arguments"))))?
                .scalar_text()
                .ok_or_else(|| Unknown(format!("{name}() needs a text argument")))
        };
        let deploy = |what: &str| -> Result<Node, Unknown> {
            match self.lookup.deploy_region() {
                Some(region) => Ok(self.node(Value::Map(vec![crate::tree::Entry {
                    key: "location".into(),
                    key_span: self.span,
                    value: self.node(Value::Str(region)),
                }]))),
                None => Err(Unknown(format!("{what}().location"))),
            }
        };
        match lower.as_str() {
            "parameters" => self.lookup.parameter(&text(0)?, self.depth + 1),
            "variables" => self.lookup.variable(&text(0)?, self.depth + 1),
            "resourcegroup" => deploy("resourceGroup"),
            "deployment" => deploy("deployment"),
            "concat" => {
                let values: Result<Vec<Node>, Unknown> = args.into_iter().collect();
                let values = values?;
                if values.iter().all(|v| matches!(v.value, Value::Seq(_))) && !values.is_empty() {
                    let items = values.iter().flat_map(|v| v.items().to_vec()).collect();
                    return Ok(self.node(Value::Seq(items)));
                }
                let parts: Option<Vec<String>> = values.iter().map(Node::scalar_text).collect();
                parts
                    .map(|p| self.node(Value::Str(p.concat())))
                    .ok_or_else(|| Unknown("concat() of non-text".into()))
            }
            "format" => {
                let mut out = text(0)?;
                for i in 1..args.len() {
                    out = bounded_replace(&out, &format!("{{{}}}", i - 1), &text(i)?)?;
                }
                Ok(self.node(Value::Str(out)))
            }
            "tolower" => Ok(self.node(Value::Str(text(0)?.to_lowercase()))),
            "toupper" => Ok(self.node(Value::Str(text(0)?.to_uppercase()))),
            "string" | "trim" => Ok(self.node(Value::Str(text(0)?.trim().to_string()))),
            "replace" => Ok(self.node(Value::Str(bounded_replace(
                &text(0)?,
                &text(1)?,
                &text(2)?,
            )?))),
            "equals" => Ok(self.node(Value::Bool(text(0)? == text(1)?))),
            "if" => {
                let condition = args
                    .first()
                    .cloned()
                    .unwrap_or_else(|| Err(Unknown("if() without condition".into())))?;
                let chosen = if condition
                    .as_bool()
                    .ok_or_else(|| Unknown("if() condition".into()))?
                {
                    1
                } else {
                    2
                };
                args.get(chosen)
                    .cloned()
                    .unwrap_or_else(|| Err(Unknown("if() without branches".into())))
            }
            "createarray" => {
                let values: Result<Vec<Node>, Unknown> = args.into_iter().collect();
                Ok(self.node(Value::Seq(values?)))
            }
            "first" => args
                .first()
                .cloned()
                .unwrap_or_else(|| Err(Unknown("first()".into())))?
                .items()
                .first()
                .cloned()
                .ok_or_else(|| Unknown("first() of empty".into())),
            // Linked templates: `uri(deployment().properties.templateLink.uri, 'nested/x.json')`.
            "uri" => Ok(self.node(Value::Str(text(1)?))),
            other => Err(Unknown(format!("{other}()"))),
        }
    }
}

/// `str::replace`, refused before it starts when the result would pass the value size limit.
fn bounded_replace(text: &str, from: &str, to: &str) -> Result<String, Unknown> {
    let grows = if from.is_empty() {
        // An empty pattern matches between every two characters.
        (text.chars().count() + 1).saturating_mul(to.len())
    } else {
        text.matches(from)
            .count()
            .saturating_mul(to.len().saturating_sub(from.len()))
    };
    if text.len().saturating_add(grows) > limits::value_bytes() {
        return Err(Unknown(limits::value_reason()));
    }
    Ok(text.replace(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Option<String>);
    impl Lookup for Fixed {
        fn parameter(&self, name: &str, _: usize) -> Result<Node, Unknown> {
            match name {
                "prefix" => Ok(Node::new(Value::Str("shop".into()), Span::default())),
                _ => Err(Unknown(format!("parameters('{name}')"))),
            }
        }
        fn variable(&self, name: &str, _: usize) -> Result<Node, Unknown> {
            match name {
                "regions" => Ok(Node::new(
                    Value::Seq(vec![Node::new(
                        Value::Str("westeurope".into()),
                        Span::default(),
                    )]),
                    Span::default(),
                )),
                _ => Err(Unknown(format!("variables('{name}')"))),
            }
        }
        fn deploy_region(&self) -> Option<String> {
            self.0.clone()
        }
    }

    fn eval(text: &str, region: Option<&str>) -> Result<String, Unknown> {
        let node = evaluate_string(text, Span::default(), &Fixed(region.map(str::to_string)), 0)?;
        Ok(node.scalar_text().unwrap_or_default())
    }

    #[test]
    fn evaluates_names_and_locations() {
        assert_eq!(
            eval("[concat(parameters('prefix'), '-db')]", None).unwrap(),
            "shop-db"
        );
        assert_eq!(
            eval("[format('{0}-{1}', parameters('prefix'), 'x')]", None).unwrap(),
            "shop-x"
        );
        assert_eq!(eval("[toLower('WestUS')]", None).unwrap(), "westus");
        assert_eq!(
            eval("[variables('regions')[0]]", None).unwrap(),
            "westeurope"
        );
        assert_eq!(
            eval("[if(equals('a', 'a'), 'yes', 'no')]", None).unwrap(),
            "yes"
        );
        assert_eq!(eval("[[literal]", None).unwrap(), "[literal]");
        assert_eq!(eval("northeurope", None).unwrap(), "northeurope");
        assert_eq!(eval("['it''s']", None).unwrap(), "it's");
    }

    #[test]
    fn deployment_values_block_unless_given() {
        let blocked = eval("[resourceGroup().location]", None).unwrap_err();
        assert_eq!(blocked.0, "resourceGroup().location");
        assert_eq!(
            eval("[resourceGroup().location]", Some("westeurope")).unwrap(),
            "westeurope"
        );
        assert!(eval("[uniqueString(resourceGroup().id)]", Some("x")).is_err());
        assert!(eval("[concat('a']", None).is_err());
        assert_eq!(eval("[concat('a'", None).unwrap(), "[concat('a'");
        assert!(eval("[parameters('missing')]", None).is_err());
    }
}
