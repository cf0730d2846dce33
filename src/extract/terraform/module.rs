//! One Terraform module folder: its variables, `*.tfvars` values, locals, provider blocks and
//! resources across files, and the evaluation of expressions down to literal values.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};

use crate::limits;
use crate::load::Document;
use crate::load::hcl::{EXPR_TAG, expression_text};
use crate::location::Location;
use crate::tree::{Entry, Node, Route, Span, Value};

/// Deepest chain of `local.a` → `local.b` → `var.c` followed before giving up.
const MAX_EVAL_DEPTH: usize = 16;

/// A local evaluated to a literal or to a full value.
#[derive(Clone)]
enum Memo {
    Eval(Eval),
    Value(Option<Known>),
}

/// Locals are evaluated once per evaluation (one module, one set of inputs): locals built
/// from templates of locals would otherwise be evaluated an exponential number of times.
/// Keyed by module, inputs and `e:` with the local's name or `v:` with the route of the local
/// or of the member read (`locals.group.location`).
type MemoKey = (usize, usize, String);

thread_local! {
    static MEMO: RefCell<HashMap<MemoKey, Memo>> = RefCell::new(HashMap::new());
    /// Expressions parsed, by their text: the same few (`var.tags`, `var.name`) are evaluated
    /// for many resources. Emptied when it holds [`PARSED_TEXTS`] texts.
    static PARSED: RefCell<foldhash::HashMap<Box<str>, Option<Rc<Expression>>>> =
        RefCell::new(foldhash::HashMap::default());
}

/// How many expression texts a thread keeps parsed.
const PARSED_TEXTS: usize = 1024;

thread_local! {
    /// The names the `for` expressions whose bodies are evaluated bind, innermost last: `r` in
    /// `[for r in var.regions : upper(r)]`. Only a `for` body sees them.
    static FOR_SCOPE: RefCell<Vec<(String, Node)>> = const { RefCell::new(Vec::new()) };
}

/// Most items a `for` expression is evaluated over; beyond, its value is not known here.
const MAX_FOR_ITEMS: usize = 1024;

/// Unbinds a `for` body's names when it is dropped, whether the body was evaluated or not.
struct ForScope(usize);

impl ForScope {
    fn bind(names: Vec<(String, Node)>) -> ForScope {
        let bound = names.len();
        FOR_SCOPE.with_borrow_mut(|scope| scope.extend(names));
        ForScope(bound)
    }
}

impl Drop for ForScope {
    fn drop(&mut self) {
        FOR_SCOPE.with_borrow_mut(|scope| scope.truncate(scope.len().saturating_sub(self.0)));
    }
}

/// What the innermost `for` body being evaluated binds to `name`.
fn for_bound(name: &str) -> Option<Node> {
    FOR_SCOPE.with_borrow(|scope| {
        scope
            .iter()
            .rev()
            .find(|(bound, _)| bound == name)
            .map(|(_, value)| value.clone())
    })
}

/// `text` parsed as an HCL expression: parsed again only after the thread's texts filled
/// [`PARSED_TEXTS`] and were dropped.
fn parsed_expression(text: &str) -> Option<Rc<Expression>> {
    PARSED.with_borrow_mut(|parsed| {
        if let Some(found) = parsed.get(text) {
            return found.clone();
        }
        if parsed.len() >= PARSED_TEXTS {
            parsed.clear();
        }
        let expression = hcl_edit::parser::parse_expr(text).ok().map(Rc::new);
        parsed.insert(text.into(), expression.clone());
        expression
    })
}

/// Starts an evaluation with no memoised locals: values of another call's inputs do not carry over.
fn forget_locals() {
    MEMO.with(|m| m.borrow_mut().clear());
}

fn memo_key(module: &Module<'_>, inputs: &Inputs, kind: &str, name: &str) -> MemoKey {
    (
        std::ptr::from_ref(module) as usize,
        std::ptr::from_ref(inputs) as usize,
        format!("{kind}:{name}"),
    )
}

/// The memoised value for `key`, or `evaluate`'s, memoised; `cycle` while it is evaluated,
/// so a local that refers to itself stops at once.
fn memoised(key: MemoKey, cycle: Memo, evaluate: impl FnOnce() -> Memo) -> Memo {
    if let Some(hit) = MEMO.with(|m| m.borrow().get(&key).cloned()) {
        return hit;
    }
    MEMO.with(|m| m.borrow_mut().insert(key.clone(), cycle));
    let value = evaluate();
    MEMO.with(|m| m.borrow_mut().insert(key, value.clone()));
    value
}

/// A node and where it sits.
#[derive(Clone, Copy)]
pub struct Placed<'a> {
    pub doc: &'a Document,
    pub node: &'a Node,
}

impl<'a> Placed<'a> {
    pub fn location(&self, route: &Route) -> Location {
        Location::of_node(&self.doc.path, self.doc.index, self.node, route)
    }
}

pub struct ProviderBlock<'a> {
    pub local_name: String,
    pub alias: Option<String>,
    pub block: Placed<'a>,
    pub route: Route,
}

/// A `module "name" { source = "./path" … }` block.
pub struct ModuleCall<'a> {
    pub name: String,
    pub source: String,
    pub block: Placed<'a>,
    pub route: Route,
}

/// Values of a module's variables given by its caller, by variable name.
pub type Inputs = BTreeMap<String, Eval>;

pub struct ResourceBlock<'a> {
    pub type_name: String,
    pub name: String,
    pub block: Placed<'a>,
    pub route: Route,
}

/// What an expression comes to.
#[derive(Clone, Debug)]
pub enum Eval {
    /// A literal, where it is written, and the places it passed through on the way.
    Literal { value: String, location: Location },
    /// A reference to another resource's attribute (`azurerm_resource_group.main.location`).
    Reference { address: String },
    /// Known only at deploy time or not evaluated: the blocking expression and where it is.
    Blocked { blocker: String, location: Location },
    /// Explicitly null (`default = null`): as if the argument were not written, so the
    /// provider's setting applies.
    Unset,
    /// A list or map known in full (a `for_each` map handed to a module), and where it is.
    Collection { value: Node, location: Location },
    /// An object written in a module call whose members are known one by one, not all: only
    /// a member is read from it (`var.workspace.location`), each as its own value; and where
    /// the object is written.
    Members {
        members: Vec<(String, Eval)>,
        location: Location,
    },
    /// A list written in a module call whose items are known one by one, not all: a `dynamic`
    /// block's `for_each` of it writes a block per item; and where the list is written.
    Items {
        items: Vec<Eval>,
        location: Location,
    },
}

pub struct Module<'a> {
    variables: BTreeMap<String, (Placed<'a>, Route)>,
    tfvars: BTreeMap<String, (Placed<'a>, Route)>,
    locals: BTreeMap<String, (Placed<'a>, Route)>,
    pub providers: Vec<ProviderBlock<'a>>,
    pub resources: Vec<ResourceBlock<'a>>,
    pub calls: Vec<ModuleCall<'a>>,
    /// Data sources by `data.<type>.<name>`: values read at plan time.
    data_sources: BTreeMap<String, (Placed<'a>, Route)>,
    /// The `value` of each output, by name: what a caller reads as `module.<call>.<name>`.
    outputs: BTreeMap<String, (Placed<'a>, Route)>,
    /// `*.tfvars` files other than `terraform.tfvars` and `*.auto.tfvars`: each one a
    /// deployment of its own (`-var-file dev.tfvars`).
    pub environments: Vec<&'a Document>,
}

/// Order in which `*.tfvars` files override each other: `terraform.tfvars`, then
/// `*.auto.tfvars` by name, then other `*.tfvars` (given with `-var-file`) by name.
fn tfvars_rank(path: &str) -> (u8, String) {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    let rank = if name == "terraform.tfvars" || name == "terraform.tfvars.json" {
        0
    } else if name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json") {
        1
    } else {
        2
    };
    (rank, name)
}

/// A variable values file (`*.tfvars`, `*.tfvars.json`).
pub fn is_tfvars(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".tfvars") || lower.ends_with(".tfvars.json")
}

/// A name as Terraform writes one: letters, digits, `_` and `-`.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `type_name.name` names a resource (`aws_s3_bucket.logs`): not a variable, a local or
/// a data source.
fn names_resource(type_name: &str, name: &str) -> bool {
    type_name.contains('_') && plain(type_name) && plain(name) && type_name != "data"
}

/// The resource an expression `type.name.attribute` refers to, as `type.name`: what
/// `Module::eval` gives as `Eval::Reference`, read from the expression's text alone.
pub fn referenced_resource(text: &str) -> Option<String> {
    let mut parts = text.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(type_name), Some(name), Some(_), None) if names_resource(type_name, name) => {
            Some(format!("{type_name}.{name}"))
        }
        _ => None,
    }
}

/// The resource an argument names, as `type.name`: `type.name.attribute` as
/// `referenced_resource` reads it, or one instance of it, `type.name[key].attribute`. A
/// resource with no location of its own is where the resource it names is, whichever instance.
pub fn referred_resource(text: &str) -> Option<String> {
    if let Some(found) = referenced_resource(text) {
        return Some(found);
    }
    let (type_name, rest) = text.split_once('.')?;
    let open = rest.find('[')?;
    let name = &rest[..open];
    let mut depth = 0usize;
    let mut close = None;
    for (at, c) in rest[open..].char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    close = Some(open + at);
                    break;
                }
            }
            _ => {}
        }
    }
    let attribute = rest[close? + 1..].strip_prefix('.')?;
    (names_resource(type_name, name) && plain(attribute)).then(|| format!("{type_name}.{name}"))
}

/// The key under which `Module::eval` finds the location a resolver found for the resource at
/// `address` (`type.name`): no variable name holds `@`.
pub fn located_key(address: &str) -> String {
    format!("@located:{address}")
}

/// The key under which `Module::eval` finds what a resolver found the output `output` of the
/// module call `call` comes to (`module.<call>.<output>`).
pub fn output_key(call: &str, output: &str) -> String {
    format!("@output:module.{call}.{output}")
}

/// The key under which `Module::eval` takes any attribute of the resource at `address` as
/// where that resource is: an output that hands on a parent's id (`datacenter_id =
/// ionoscloud_datacenter.main.id`) places what its caller makes with it.
pub fn placed_key(address: &str) -> String {
    format!("@placed:{address}")
}

/// Each `module.<call>.<output>` written in `text`.
fn module_outputs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let in_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices("module.").filter_map(move |(at, _)| {
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|b| in_name(b) || b == '.')
        {
            return None;
        }
        let rest = &text[at + "module.".len()..];
        let call_end = rest.find(|c: char| !in_name(c)).unwrap_or(rest.len());
        let after = rest[call_end..].strip_prefix('.')?;
        let end = after.find(|c: char| !in_name(c)).unwrap_or(after.len());
        let (call, output) = (&rest[..call_end], &after[..end]);
        (plain(call) && plain(output)).then_some((call, output))
    })
}

/// What an argument's expressions name (`Module::referenced`).
#[derive(Default)]
pub struct Referenced {
    pub resources: Vec<String>,
    pub outputs: Vec<(String, String)>,
}

/// The attributes of a resource that a reference may read its location from.
const LOCATION_ATTRIBUTES: &[&str] = &["location", "region"];

/// Locals whose expressions `Module::referenced` reads, at most, from one expression.
const REFERENCED_LOCALS: usize = 64;

/// Each `type.name` written in `text` that could name a resource, in order, with repeats.
fn resource_names(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let in_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let starts = text.char_indices().filter(move |&(at, c)| {
        (c.is_ascii_alphabetic() || c == '_')
            && text[..at]
                .chars()
                .next_back()
                .is_none_or(|b| !in_name(b) && b != '.')
    });
    starts.filter_map(move |(at, _)| {
        let rest = &text[at..];
        let first = rest.find(|c: char| !in_name(c)).unwrap_or(rest.len());
        let second = rest[first..].strip_prefix('.')?;
        let end = second.find(|c: char| !in_name(c)).unwrap_or(second.len());
        Some((&rest[..first], &second[..end]))
    })
}

impl<'a> Module<'a> {
    pub fn new(docs: &[&'a Document]) -> Self {
        let mut module = Module {
            variables: BTreeMap::new(),
            tfvars: BTreeMap::new(),
            locals: BTreeMap::new(),
            providers: Vec::new(),
            resources: Vec::new(),
            calls: Vec::new(),
            data_sources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            environments: Vec::new(),
        };
        let mut tfvars_docs: Vec<&Document> = Vec::new();
        for doc in docs {
            if is_tfvars(&doc.path) {
                tfvars_docs.push(doc);
                continue;
            }
            module.read_configuration(doc);
        }
        tfvars_docs.sort_by_key(|d| tfvars_rank(&d.path));
        for doc in tfvars_docs {
            // Other `*.tfvars` files are given with `-var-file`: each is an environment.
            if tfvars_rank(&doc.path).0 == 2 {
                module.environments.push(doc);
                continue;
            }
            module.add_values(doc);
        }
        module
    }

    /// Variable values of a `*.tfvars` file, over those read before (as `-var-file` does).
    pub fn add_values(&mut self, doc: &'a Document) {
        for entry in doc.root.entries() {
            let placed = Placed {
                doc,
                node: &entry.value,
            };
            self.tfvars
                .insert(entry.key.clone(), (placed, Route::root().key(&entry.key)));
        }
    }

    fn read_configuration(&mut self, doc: &'a Document) {
        let root = &doc.root;
        for entry in root.get("variable").map(Node::entries).unwrap_or_default() {
            let route = Route::root().key("variable").key(&entry.key);
            let placed = Placed {
                doc,
                node: &entry.value,
            };
            self.variables.insert(entry.key.clone(), (placed, route));
        }
        for entry in root.get("locals").map(Node::entries).unwrap_or_default() {
            let route = Route::root().key("locals").key(&entry.key);
            let placed = Placed {
                doc,
                node: &entry.value,
            };
            self.locals.insert(entry.key.clone(), (placed, route));
        }
        for entry in root.get("provider").map(Node::entries).unwrap_or_default() {
            let alias = entry
                .value
                .get("alias")
                .and_then(Node::as_str)
                .map(str::to_string);
            self.providers.push(ProviderBlock {
                local_name: entry.key.clone(),
                alias,
                block: Placed {
                    doc,
                    node: &entry.value,
                },
                route: Route::root().key("provider").key(&entry.key),
            });
        }
        for by_type in root.get("data").map(Node::entries).unwrap_or_default() {
            for named in by_type.value.entries() {
                let route = Route::root().key("data").key(&by_type.key).key(&named.key);
                let placed = Placed {
                    doc,
                    node: &named.value,
                };
                self.data_sources.insert(
                    format!("data.{}.{}", by_type.key, named.key),
                    (placed, route),
                );
            }
        }
        for entry in root.get("output").map(Node::entries).unwrap_or_default() {
            if let Some(value) = entry.value.get("value") {
                let route = Route::root().key("output").key(&entry.key).key("value");
                let placed = Placed { doc, node: value };
                self.outputs.insert(entry.key.clone(), (placed, route));
            }
        }
        for entry in root.get("module").map(Node::entries).unwrap_or_default() {
            let Some(source) = entry.value.get("source").and_then(Node::as_str) else {
                continue;
            };
            self.calls.push(ModuleCall {
                name: entry.key.clone(),
                source: source.to_string(),
                block: Placed {
                    doc,
                    node: &entry.value,
                },
                route: Route::root().key("module").key(&entry.key),
            });
        }
        for by_type in root.get("resource").map(Node::entries).unwrap_or_default() {
            for named in by_type.value.entries() {
                self.resources.push(ResourceBlock {
                    type_name: by_type.key.clone(),
                    name: named.key.clone(),
                    block: Placed {
                        doc,
                        node: &named.value,
                    },
                    route: Route::root()
                        .key("resource")
                        .key(&by_type.key)
                        .key(&named.key),
                });
            }
        }
    }

    /// The `value` of the output `name`, and where it is written.
    pub fn output(&self, name: &str) -> Option<(Placed<'a>, &Route)> {
        self.outputs
            .get(name)
            .map(|(placed, route)| (*placed, route))
    }

    /// The provider block a resource uses: its `provider = aws.alias`, or the default one.
    pub fn provider(&self, local_name: &str, alias: Option<&str>) -> Option<&ProviderBlock<'a>> {
        self.providers
            .iter()
            .find(|p| p.local_name == local_name && p.alias.as_deref() == alias)
    }

    /// Evaluates a node of the configuration to a literal where the module says enough.
    /// `inputs` are the values a module call passes in, already evaluated in the caller.
    pub fn eval(&self, doc: &Document, node: &Node, route: &Route, inputs: &Inputs) -> Eval {
        let location = Location::of_node(&doc.path, doc.index, node, route);
        forget_locals();
        self.eval_node(node, location, 0, inputs)
    }

    fn eval_node(&self, node: &Node, location: Location, depth: usize, inputs: &Inputs) -> Eval {
        if node.is_null() {
            return Eval::Unset;
        }
        if node.tag.as_deref() != Some(EXPR_TAG) {
            return match node.scalar_text() {
                Some(value) => Eval::Literal { value, location },
                None => Eval::Blocked {
                    blocker: "a value that is not text".into(),
                    location,
                },
            };
        }
        let text = expression_text(node).unwrap_or_default().to_string();
        self.eval_text(&text, location, depth, inputs)
    }

    fn eval_text(&self, text: &str, location: Location, depth: usize, inputs: &Inputs) -> Eval {
        let blocked = |blocker: &str, location: Location| Eval::Blocked {
            blocker: blocker.to_string(),
            location,
        };
        if depth > MAX_EVAL_DEPTH {
            return blocked(text, location);
        }
        if text.starts_with('"') && text.ends_with('"') && text.len() >= 2 {
            return self.eval_template(&text[1..text.len() - 1], location, depth, inputs);
        }
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            ["var", name] if plain(name) => {
                if let Some(given) = inputs.get(*name) {
                    return given.clone();
                }
                if let Some((placed, route)) = self.tfvars.get(*name) {
                    return self.eval_node(placed.node, placed.location(route), depth + 1, inputs);
                }
                match self.variables.get(*name) {
                    Some((placed, route)) => match placed.node.get("default") {
                        Some(default) => {
                            let at = Location::of_node(
                                &placed.doc.path,
                                placed.doc.index,
                                default,
                                &route.key("default"),
                            );
                            self.eval_node(default, at, depth + 1, inputs)
                        }
                        _ => blocked(text, placed.location(route)),
                    },
                    None => blocked(text, location),
                }
            }
            ["local", name] if plain(name) => match self.locals.get(*name) {
                Some((placed, route)) => {
                    let cycle = Memo::Eval(blocked(
                        &format!("local.{name} refers to itself"),
                        placed.location(route),
                    ));
                    let key = memo_key(self, inputs, "e", name);
                    match memoised(key, cycle, || {
                        Memo::Eval(self.eval_node(
                            placed.node,
                            placed.location(route),
                            depth + 1,
                            inputs,
                        ))
                    }) {
                        Memo::Eval(eval) => eval,
                        Memo::Value(_) => blocked(text, location),
                    }
                }
                None => blocked(text, location),
            },
            // A data source is read when Terraform plans: every resource using it is blocked
            // by that one data block, which is where the finding goes.
            ["data", type_name, name, ..] => {
                let key = format!("data.{type_name}.{name}");
                match self.data_sources.get(&key) {
                    Some((placed, route)) => blocked(
                        &format!("{key} (read when Terraform plans)"),
                        placed.location(route),
                    ),
                    None => blocked(text, location),
                }
            }
            ["count", "index"] => match inputs.get(COUNT_INDEX) {
                Some(given) => given.clone(),
                None => blocked(text, location),
            },
            ["each", "key"] => match inputs.get(EACH_KEY) {
                Some(given) => given.clone(),
                None => blocked(text, location),
            },
            ["each", "value", ..] => match self.known_scalar(text, &location, depth, inputs) {
                Some(found) => found,
                None => match inputs.get(EACH_VALUE) {
                    Some(Eval::Literal { value, location }) if parts.len() == 2 => Eval::Literal {
                        value: value.clone(),
                        location: location.clone(),
                    },
                    _ => blocked(text, location),
                },
            },
            // What a resolver found the output comes to (`output_key`).
            ["module", call, output] if plain(call) && plain(output) => {
                match inputs.get(&output_key(call, output)) {
                    Some(given) => given.clone(),
                    None => blocked(text, location),
                }
            }
            [type_name, name, _attribute] if names_resource(type_name, name) => Eval::Reference {
                address: format!("{type_name}.{name}"),
            },
            // Conditionals, indexes and functions: the value where the module knows it.
            _ => self
                .known_scalar(text, &location, depth, inputs)
                .unwrap_or_else(|| blocked(text, location)),
        }
    }

    /// An expression that comes to one known scalar, as a literal where that scalar is written.
    fn known_scalar(
        &self,
        text: &str,
        location: &Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Eval> {
        let mut node = Node::new(Value::Str(text.to_string()), location.span());
        node.tag = Some(EXPR_TAG.to_string());
        let known = self.value_node(&node, location.clone(), depth + 1, inputs)?;
        let value = known.value.scalar_text()?;
        Some(Eval::Literal {
            value,
            location: known.part_location(&known.value),
        })
    }

    /// `"${var.region}a"`: every interpolation must come to a literal.
    fn eval_template(
        &self,
        inner: &str,
        location: Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Eval {
        let mut out = String::new();
        let mut rest = inner;
        let mut origin = location.clone();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Eval::Blocked {
                    blocker: format!("\"{inner}\""),
                    location,
                };
            };
            match self.eval_text(after[..end].trim(), location.clone(), depth + 1, inputs) {
                Eval::Literal {
                    value,
                    location: from,
                } => {
                    out.push_str(&value);
                    origin = from;
                    if out.len() > limits::value_bytes() {
                        return Eval::Blocked {
                            blocker: limits::value_reason(),
                            location,
                        };
                    }
                }
                Eval::Blocked { blocker, location } => return Eval::Blocked { blocker, location },
                Eval::Reference { .. }
                | Eval::Unset
                | Eval::Collection { .. }
                | Eval::Members { .. }
                | Eval::Items { .. } => {
                    return Eval::Blocked {
                        blocker: format!("\"{inner}\""),
                        location,
                    };
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Eval::Literal {
            value: out,
            location: origin,
        }
    }
}

/// A value the module knows in full (a literal, list or map), and where it is written: what
/// `count`, `for_each` and conditions come to. Lists and maps are tree nodes; parts computed
/// by an expression carry that expression's span.
#[derive(Clone, Debug)]
pub struct Known {
    pub value: Node,
    pub location: Location,
}

impl Known {
    /// Where one part of the value (an item, an entry) is written.
    pub fn part_location(&self, part: &Node) -> Location {
        Location::new(
            &self.location.path,
            self.location.document,
            part.span,
            &Route::parse(&self.location.field),
        )
    }
}

/// Input names under which a resource instance's `each.key`, `each.value` and `count.index`
/// are given to the evaluator (no variable can be named with a dot).
pub const EACH_KEY: &str = "each.key";
pub const EACH_VALUE: &str = "each.value";
pub const COUNT_INDEX: &str = "count.index";

/// The input name under which a dynamic block's iterator `name` gives its element's `key` or
/// `value` while its `content` is read (`dynamic.rs`); `each` is named so too.
pub fn iterator_key(name: &str, part: &str) -> String {
    format!("{name}.{part}")
}

impl Module<'_> {
    /// What an argument's expressions name, directly or through the locals they read, each
    /// once: the resources (`type.name`) whose location a resolver may hand `eval` under
    /// `located_key`, and the outputs of called modules (`module.<call>.<output>`) whose value
    /// it may hand under `output_key`.
    pub fn referenced(&self, node: &Node) -> Referenced {
        let mut found = Referenced::default();
        self.texts_read(node, |text| {
            for (first, second) in resource_names(text) {
                if names_resource(first, second) {
                    let address = format!("{first}.{second}");
                    if !found.resources.contains(&address) {
                        found.resources.push(address);
                    }
                }
            }
            for (call, output) in module_outputs(text) {
                if !found.outputs.iter().any(|(c, o)| c == call && o == output) {
                    found.outputs.push((call.to_string(), output.to_string()));
                }
            }
        });
        found
    }

    /// Each expression text of `node`, and of the locals those read (at most
    /// [`REFERENCED_LOCALS`]), to `each`.
    fn texts_read(&self, node: &Node, mut each: impl FnMut(&str)) {
        let mut locals_read: Vec<&str> = Vec::new();
        let mut pending: Vec<&Node> = vec![node];
        while let Some(next) = pending.pop() {
            next.walk(&Route::root(), &mut |_, part| {
                let Some(text) = expression_text(part) else {
                    return;
                };
                each(text);
                for (first, second) in resource_names(text) {
                    if first == "local"
                        && locals_read.len() < REFERENCED_LOCALS
                        && !locals_read.contains(&second)
                        && let Some((name, (placed, _))) = self.locals.get_key_value(second)
                    {
                        locals_read.push(name.as_str());
                        pending.push(placed.node);
                    }
                }
            });
        }
    }

    /// The full value of a node, where the module says enough: `count`, `for_each`, conditions.
    pub fn value(
        &self,
        doc: &Document,
        node: &Node,
        route: &Route,
        inputs: &Inputs,
    ) -> Option<Known> {
        let location = Location::of_node(&doc.path, doc.index, node, route);
        forget_locals();
        self.value_node(node, location, 0, inputs)
    }

    fn value_node(
        &self,
        node: &Node,
        location: Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Known> {
        if depth > MAX_EVAL_DEPTH {
            return None;
        }
        if node.tag.as_deref() == Some(EXPR_TAG) {
            let text = expression_text(node)?;
            let expr = parsed_expression(text)?;
            let value = self.value_expr(&expr, node, &location, depth, inputs)?;
            if let Resolved::Here(value) = &value
                && limits::too_large(value)
            {
                return None;
            }
            // A lone reference (`var.regions`) is known where the referenced value is written.
            return Some(value.into_known(&location));
        }
        let value = match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(
                        self.value_node(item, location.clone(), depth + 1, inputs)?
                            .value,
                    );
                }
                Node::new(Value::Seq(out), node.span)
            }
            Value::Map(entries) => {
                let mut out = Vec::new();
                for entry in entries {
                    let value = self
                        .value_node(&entry.value, location.clone(), depth + 1, inputs)?
                        .value;
                    out.push(Entry {
                        value,
                        ..entry.clone()
                    });
                }
                Node::new(Value::Map(out), node.span)
            }
            _ => node.clone(),
        };
        if limits::too_large(&value) {
            return None;
        }
        Some(Known { value, location })
    }

    /// A variable's value: the caller's input, `*.tfvars`, or the default.
    fn variable_value(
        &self,
        name: &str,
        location: &Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Known> {
        if let Some(given) = inputs.get(name) {
            return eval_known(given);
        }
        if let Some((placed, route)) = self.tfvars.get(name) {
            return self.value_node(placed.node, placed.location(route), depth + 1, inputs);
        }
        let (placed, route) = self.variables.get(name)?;
        let default = placed.node.get("default")?;
        let at = Location::of_node(
            &placed.doc.path,
            placed.doc.index,
            default,
            &route.key("default"),
        );
        let _ = location;
        self.value_node(default, at, depth + 1, inputs)
    }

    /// The default a variable's type declares for an object attribute left out or null:
    /// `type = object({ name = optional(string, "x") })`. Only the variable's own `type` is
    /// read, one attribute deep, and the default must be known here.
    fn type_default(&self, name: &str, member: &str, depth: usize) -> Option<Known> {
        let (placed, route) = self.variables.get(name)?;
        let written = placed.node.get("type")?;
        let expr = parsed_expression(expression_text(written)?)?;
        let Expression::FuncCall(object) = &*expr else {
            return None;
        };
        if object.name.name.as_str() != "object" {
            return None;
        }
        let Some(Expression::Object(attributes)) = object.args.iter().next() else {
            return None;
        };
        let declared = object_member(attributes, member)?;
        let Expression::FuncCall(optional) = declared else {
            return None;
        };
        if optional.name.name.as_str() != "optional" {
            return None;
        }
        let default = optional.args.iter().nth(1)?;
        let at = Location::of_node(
            &placed.doc.path,
            placed.doc.index,
            written,
            &route.key("type"),
        );
        self.value_expr(default, written, &at, depth + 1, &Inputs::new())
            .map(|value| value.into_known(&at))
    }

    fn value_expr(
        &self,
        expr: &Expression,
        node: &Node,
        location: &Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Resolved> {
        let here = |value: Value| Some(Resolved::Here(Node::new(value, node.span)));
        let sub = |e: &Expression| -> Option<Node> {
            self.value_expr(e, node, location, depth + 1, inputs)
                .map(Resolved::into_node)
        };
        match expr {
            Expression::Null(_) => here(Value::Null),
            Expression::Bool(b) => here(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let n = n.value();
                here(match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Float(n.as_f64()?),
                })
            }
            Expression::String(s) => here(Value::Str(s.value().clone())),
            Expression::Parenthesis(inner) => sub(inner.inner()).map(Resolved::Here),
            Expression::Array(array) => {
                let items = array.iter().map(sub).collect::<Option<Vec<_>>>()?;
                here(Value::Seq(items))
            }
            Expression::Object(object) => {
                let mut entries = Vec::new();
                for (key, value) in object.iter() {
                    let key = match key {
                        ObjectKey::Ident(ident) => ident.as_str().to_string(),
                        ObjectKey::Expression(e) => sub(e)?.scalar_text()?,
                    };
                    entries.push(Entry {
                        key,
                        key_span: node.span,
                        value: sub(value.expr())?,
                    });
                }
                here(Value::Map(entries))
            }
            Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => {
                let text = expr.span().and_then(|r| expression_text(node)?.get(r))?;
                match self.eval_text(text.trim(), location.clone(), depth + 1, inputs) {
                    Eval::Literal { value, .. } => here(Value::Str(value)),
                    _ => None,
                }
            }
            Expression::Variable(_) | Expression::Traversal(_) => {
                self.value_traversal(expr, node, location, depth, inputs)
            }
            Expression::Conditional(c) => {
                let cond = truthy(&sub(&c.cond_expr)?)?;
                let branch = if cond { &c.true_expr } else { &c.false_expr };
                self.value_expr(branch, node, location, depth + 1, inputs)
            }
            Expression::UnaryOp(op) => {
                let value = sub(&op.expr)?;
                match op.operator.value() {
                    UnaryOperator::Not => here(Value::Bool(!truthy(&value)?)),
                    UnaryOperator::Neg => here(Value::Float(-number(&value)?)),
                }
            }
            Expression::BinaryOp(op) => {
                let operator = *op.operator.value();
                let lhs = sub(&op.lhs_expr);
                let rhs = sub(&op.rhs_expr);
                if let Some(deciding) = deciding_operand(operator) {
                    return here(Value::Bool(logical(
                        deciding,
                        lhs.as_ref().and_then(truthy),
                        rhs.as_ref().and_then(truthy),
                    )?));
                }
                here(binary(operator, &lhs?, &rhs?)?)
            }
            Expression::ForExpr(for_expr) => {
                self.value_for(for_expr, node, location, depth, inputs)
            }
            // Terraform takes the first argument that evaluates (`try`), or the first that is
            // neither null nor empty (`coalesce`), and reads no further. An argument not known
            // here leaves the call unknown: it may be the one Terraform takes.
            Expression::FuncCall(call)
                if call.name.namespace.is_empty()
                    && matches!(call.name.name.as_str(), "try" | "coalesce") =>
            {
                let coalesce = call.name.name.as_str() == "coalesce";
                for arg in call.args.iter() {
                    let value = self.value_expr(arg, node, location, depth + 1, inputs)?;
                    let taken = value.node();
                    if coalesce && (taken.is_null() || taken.as_str() == Some("")) {
                        continue;
                    }
                    return Some(value);
                }
                None
            }
            Expression::FuncCall(call) => {
                if !call.name.namespace.is_empty() {
                    return None;
                }
                let args = call.args.iter().map(sub).collect::<Option<Vec<_>>>()?;
                here(function(call.name.name.as_str(), args)?)
            }
        }
    }

    /// A `for` expression as Terraform evaluates it: the body once per item, in order (a map's
    /// entries by key), with the item bound to the expression's names. A condition, key or
    /// value not known here for any item leaves the whole expression unknown.
    fn value_for(
        &self,
        for_expr: &hcl_edit::expr::ForExpr,
        node: &Node,
        location: &Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Resolved> {
        let here = |value: Value| Some(Resolved::Here(Node::new(value, node.span)));
        let sub = |e: &Expression| -> Option<Node> {
            self.value_expr(e, node, location, depth + 1, inputs)
                .map(Resolved::into_node)
        };
        let intro = &for_expr.intro;
        let collection =
            self.value_expr(&intro.collection_expr, node, location, depth + 1, inputs)?;
        // Items kept as they are (`{ for k, v in var.m : k => v if v.on }`) stay where
        // their collection is written; anything the body makes is written here.
        let bare =
            |e: &Expression, name: &str| matches!(e, Expression::Variable(v) if v.as_str() == name);
        let value_var = intro.value_var.as_str();
        let key_var = intro.key_var.as_ref().map(|k| k.as_str());
        let kept_at = match &collection {
            Resolved::There(known)
                if !for_expr.grouping
                    && bare(&for_expr.value_expr, value_var)
                    && for_expr.key_expr.as_ref().is_none_or(|k| {
                        bare(k, value_var) || key_var.is_some_and(|kv| bare(k, kv))
                    }) =>
            {
                Some((known.location.clone(), known.value.span))
            }
            _ => None,
        };
        let items: Vec<(Node, Node)> = match collection.into_node().value {
            Value::Seq(items) => (0_i64..)
                .zip(items)
                .map(|(i, item)| (Node::new(Value::Int(i), item.span), item))
                .collect(),
            Value::Map(mut entries) => {
                entries.sort_by(|a, b| a.key.cmp(&b.key));
                entries
                    .into_iter()
                    .map(|e| (Node::new(Value::Str(e.key), e.key_span), e.value))
                    .collect()
            }
            _ => return None,
        };
        if items.len() > MAX_FOR_ITEMS {
            return None;
        }
        let mut list = Vec::new();
        let mut object: Vec<Entry> = Vec::new();
        for (key, value) in items {
            let key_span = match kept_at {
                Some(_)
                    if for_expr
                        .key_expr
                        .as_ref()
                        .is_some_and(|k| bare(k, value_var)) =>
                {
                    value.span
                }
                Some(_) => key.span,
                None => node.span,
            };
            let mut names = vec![(value_var.to_string(), value)];
            if let Some(key_var) = key_var {
                names.push((key_var.to_string(), key));
            }
            let _scope = ForScope::bind(names);
            if let Some(cond) = &for_expr.cond
                && !truthy(&sub(&cond.expr)?)?
            {
                continue;
            }
            let value = sub(&for_expr.value_expr)?;
            let value = if kept_at.is_some() {
                value
            } else {
                super::overrides::respanned(value, node.span)
            };
            let Some(key_expr) = &for_expr.key_expr else {
                list.push(value);
                continue;
            };
            let key = sub(key_expr)?.scalar_text()?;
            match object.iter_mut().find(|e| e.key == key) {
                Some(entry) if for_expr.grouping => match &mut entry.value.value {
                    Value::Seq(group) => group.push(value),
                    _ => return None,
                },
                // Two items with one key: an error Terraform reports.
                Some(_) => return None,
                None => object.push(Entry {
                    key,
                    key_span,
                    value: if for_expr.grouping {
                        Node::new(Value::Seq(vec![value]), node.span)
                    } else {
                        value
                    },
                }),
            }
        }
        let value = if for_expr.key_expr.is_some() {
            object.sort_by(|a, b| a.key.cmp(&b.key));
            Value::Map(object)
        } else {
            Value::Seq(list)
        };
        match kept_at {
            Some((location, span)) => Some(Resolved::There(Known {
                value: Node::new(value, span),
                location,
            })),
            None => here(value),
        }
    }

    /// `var.x`, `local.x`, `each.value.region`, `var.m["k"]`: the referenced value, then each
    /// attribute or index taken.
    fn value_traversal(
        &self,
        expr: &Expression,
        node: &Node,
        location: &Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Resolved> {
        let (root, operators): (&str, &[hcl_edit::Decorated<TraversalOperator>]) = match expr {
            Expression::Variable(v) => (v.as_str(), &[]),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => (v.as_str(), &t.operators),
                // `(cond ? a : b).location`, `{ … }.location`.
                inner => {
                    return self.value_member(
                        inner,
                        &t.operators,
                        node,
                        location,
                        depth + 1,
                        inputs,
                    );
                }
            },
            _ => return None,
        };
        // A name a `for` expression binds, where its body is evaluated.
        if let Some(bound) = for_bound(root) {
            let known = Known {
                value: bound,
                location: location.clone(),
            };
            let known = self.take_operators(known, operators, node, location, depth, inputs)?;
            return Some(Resolved::There(known));
        }
        let attr = |i: usize| match operators.get(i).map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(name)) => Some(name.as_str().to_string()),
            _ => None,
        };
        // A dynamic block's iterator (`replica.value.region_name`), where it is bound.
        if let Some(part @ ("value" | "key")) = attr(0).as_deref()
            && let Some(given) = inputs.get(&iterator_key(root, part))
        {
            let (known, rest) = match (given, attr(1)) {
                // An item of a list handed member by member: only a member is read.
                (Eval::Members { members, .. }, Some(member)) => {
                    let (_, given) = members.iter().find(|(name, _)| *name == member)?;
                    (eval_known(given)?, 2)
                }
                _ => (eval_known(given)?, 1),
            };
            let known =
                self.take_operators(known, &operators[rest..], node, location, depth, inputs)?;
            return Some(Resolved::There(known));
        }
        let (known, rest) = match root {
            "var" => match (inputs.get(&attr(0)?), attr(1)) {
                (Some(Eval::Members { members, .. }), Some(member)) => {
                    match members.iter().find(|(name, _)| *name == member) {
                        Some((_, given)) => (eval_known(given)?, 2),
                        None => (self.type_default(&attr(0)?, &member, depth)?, 2),
                    }
                }
                (_, member) => {
                    let known = self.variable_value(&attr(0)?, location, depth, inputs)?;
                    // An attribute the value leaves out or null takes the default its type
                    // declares: `optional(string, "Microsoft.Storage/storageAccounts@…")`.
                    match member.filter(|m| {
                        known.value.is_map() && known.value.get(m).is_none_or(Node::is_null)
                    }) {
                        Some(member) => match self.type_default(&attr(0)?, &member, depth) {
                            Some(default) => (default, 2),
                            None => (known, 1),
                        },
                        None => (known, 1),
                    }
                }
            },
            "local" => {
                let name = attr(0)?;
                let (placed, route) = self.locals.get(&name)?;
                let (member, member_route, taken) =
                    written_member(placed.node, route.clone(), &operators[1..]);
                // `local.group.location` where `group` is a conditional or an object written
                // in an expression: only the branch and the member read are evaluated.
                if member.tag.as_deref() == Some(EXPR_TAG) && 1 + taken < operators.len() {
                    let expr = parsed_expression(expression_text(member)?)?;
                    let at = Location::of_node(
                        &placed.doc.path,
                        placed.doc.index,
                        member,
                        &member_route,
                    );
                    return self.value_member(
                        &expr,
                        &operators[1 + taken..],
                        member,
                        &at,
                        depth + 1,
                        inputs,
                    );
                }
                let key = memo_key(self, inputs, "v", &member_route.to_string());
                let memo = memoised(key, Memo::Value(None), || {
                    Memo::Value(self.value_node(
                        member,
                        Location::of_node(
                            &placed.doc.path,
                            placed.doc.index,
                            member,
                            &member_route,
                        ),
                        depth + 1,
                        inputs,
                    ))
                });
                match memo {
                    Memo::Value(known) => (known?, 1 + taken),
                    Memo::Eval(_) => return None,
                }
            }
            // A resource's location, where the resolver found it (`located_key`): after the
            // instance's index, only a location attribute is read.
            type_name if names_resource(type_name, &attr(0)?) => {
                let address = format!("{type_name}.{}", attr(0)?);
                // Any attribute, where an output's value is read for where it places things.
                if let Some(placed) = inputs.get(&placed_key(&address)) {
                    return Some(Resolved::There(eval_known(placed)?));
                }
                let known = eval_known(inputs.get(&located_key(&address))?)?;
                let mut rest = operators[1..].iter().map(|o| o.value()).skip_while(|op| {
                    matches!(
                        op,
                        TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_)
                    )
                });
                return match (rest.next(), rest.next()) {
                    (Some(TraversalOperator::GetAttr(name)), None)
                        if LOCATION_ATTRIBUTES.contains(&name.as_str()) =>
                    {
                        Some(Resolved::There(known))
                    }
                    _ => None,
                };
            }
            // What a resolver found a called module's output comes to (`output_key`).
            "module" => (
                eval_known(inputs.get(&output_key(&attr(0)?, &attr(1)?))?)?,
                2,
            ),
            "each" | "count" => {
                let name = attr(0)?;
                let key = match (root, name.as_str()) {
                    ("each", "key") => EACH_KEY,
                    ("each", "value") => EACH_VALUE,
                    ("count", "index") => COUNT_INDEX,
                    _ => return None,
                };
                (eval_known(inputs.get(key)?)?, 1)
            }
            _ => return None,
        };
        let known =
            self.take_operators(known, &operators[rest..], node, location, depth, inputs)?;
        Some(Resolved::There(known))
    }

    /// `known` with each attribute or index of `operators` taken in turn.
    fn take_operators(
        &self,
        mut known: Known,
        operators: &[hcl_edit::Decorated<TraversalOperator>],
        node: &Node,
        location: &Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Known> {
        for op in operators {
            let next = match op.value() {
                TraversalOperator::GetAttr(name) => known.value.get(name.as_str())?.clone(),
                TraversalOperator::LegacyIndex(i) => known
                    .value
                    .items()
                    .get(usize::try_from(*i.value()).ok()?)?
                    .clone(),
                TraversalOperator::Index(index) => {
                    let index = self
                        .value_expr(index, node, location, depth + 1, inputs)?
                        .into_node();
                    match &known.value.value {
                        Value::Seq(items) => {
                            items.get(usize::try_from(index.as_i64()?).ok()?)?.clone()
                        }
                        Value::Map(_) => known.value.get(&index.scalar_text()?)?.clone(),
                        _ => return None,
                    }
                }
                _ => return None,
            };
            known.value = next;
        }
        Some(known)
    }

    /// `expr` with `operators` taken from its value. Through parentheses, a conditional and an
    /// object written in the expression, only the branch and the member the operators select
    /// are evaluated, as Terraform reads them: `(cond ? { location = var.a, id = x.y.id } :
    /// null).location` is known when `var.a` is, whatever `x.y.id` comes to.
    fn value_member(
        &self,
        expr: &Expression,
        operators: &[hcl_edit::Decorated<TraversalOperator>],
        node: &Node,
        location: &Location,
        depth: usize,
        inputs: &Inputs,
    ) -> Option<Resolved> {
        if depth > MAX_EVAL_DEPTH {
            return None;
        }
        let member = |e: &Expression, operators| {
            self.value_member(e, operators, node, location, depth + 1, inputs)
        };
        match (expr, operators.first().map(|o| o.value())) {
            (Expression::Parenthesis(inner), _) => return member(inner.inner(), operators),
            (Expression::Conditional(c), Some(_)) => {
                let cond = self
                    .value_expr(&c.cond_expr, node, location, depth + 1, inputs)?
                    .into_node();
                let branch = if truthy(&cond)? {
                    &c.true_expr
                } else {
                    &c.false_expr
                };
                return member(branch, operators);
            }
            (Expression::Object(object), Some(TraversalOperator::GetAttr(name))) => {
                if let Some(value) = object_member(object, name.as_str()) {
                    return member(value, &operators[1..]);
                }
            }
            _ => {}
        }
        let value = self.value_expr(expr, node, location, depth + 1, inputs)?;
        if operators.is_empty() {
            return Some(value);
        }
        self.take_operators(
            value.into_known(location),
            operators,
            node,
            location,
            depth,
            inputs,
        )
        .map(Resolved::There)
    }
}

/// The member of a local written as an object or tuple that leading attribute names and
/// literal indexes select (`local.group.location` reads only `location`), with its route and
/// how many operators it took: members Terraform knows only when it plans (a resource's
/// attribute beside it) do not hide the ones written as literals or variables.
fn written_member<'n>(
    node: &'n Node,
    route: Route,
    operators: &[hcl_edit::Decorated<TraversalOperator>],
) -> (&'n Node, Route, usize) {
    let mut member = node;
    let mut route = route;
    let mut taken = 0;
    for op in operators {
        if member.tag.as_deref() == Some(EXPR_TAG) {
            break;
        }
        let next = match (op.value(), &member.value) {
            (TraversalOperator::GetAttr(name), Value::Map(_)) => member
                .get(name.as_str())
                .map(|found| (found, route.key(name.as_str()))),
            (TraversalOperator::LegacyIndex(i), Value::Seq(items)) => usize::try_from(*i.value())
                .ok()
                .and_then(|i| items.get(i).map(|found| (found, route.index(i)))),
            _ => None,
        };
        let Some((found, next_route)) = next else {
            break;
        };
        member = found;
        route = next_route;
        taken += 1;
    }
    (member, route, taken)
}

/// The expression an object written in place gives `name`, when its keys up to that one are
/// written as names or strings; a key computed first leaves the object to be evaluated whole.
fn object_member<'e>(object: &'e hcl_edit::expr::Object, name: &str) -> Option<&'e Expression> {
    for (key, value) in object.iter() {
        let key = match key {
            ObjectKey::Ident(ident) => ident.as_str(),
            ObjectKey::Expression(Expression::String(s)) => s.value().as_str(),
            ObjectKey::Expression(_) => return None,
        };
        if key == name {
            return Some(value.expr());
        }
    }
    None
}

/// A value computed here, or found whole where another block writes it.
enum Resolved {
    Here(Node),
    There(Known),
}

impl Resolved {
    fn into_node(self) -> Node {
        match self {
            Resolved::Here(node) => node,
            Resolved::There(known) => known.value,
        }
    }

    fn node(&self) -> &Node {
        match self {
            Resolved::Here(node) => node,
            Resolved::There(known) => &known.value,
        }
    }

    /// As found where it is written, or, computed here, as written at `location`.
    fn into_known(self, location: &Location) -> Known {
        match self {
            Resolved::Here(value) => Known {
                value,
                location: location.clone(),
            },
            Resolved::There(known) => known,
        }
    }
}

/// What a caller's input comes to as a full value.
fn eval_known(eval: &Eval) -> Option<Known> {
    match eval {
        Eval::Literal { value, location } => Some(Known {
            value: Node::new(Value::Str(value.clone()), location.span()),
            location: location.clone(),
        }),
        Eval::Collection { value, location } => Some(Known {
            value: value.clone(),
            location: location.clone(),
        }),
        Eval::Unset => Some(Known {
            value: Node::null(),
            location: Location::new(
                &std::sync::Arc::from(""),
                0,
                Span::default(),
                &Route::root(),
            ),
        }),
        Eval::Reference { .. }
        | Eval::Blocked { .. }
        | Eval::Members { .. }
        | Eval::Items { .. } => None,
    }
}

/// Terraform's truth of a value: a bool, or the strings `true`/`false`.
pub fn truthy(node: &Node) -> Option<bool> {
    node.as_bool()
}

fn number(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Equality as Terraform compares after conversion: scalars by their text, collections whole.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|e| b.get(&e.key).is_some_and(|v| same(&e.value, v)))
        }
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a.scalar_text().is_some() && a.scalar_text() == b.scalar_text(),
        },
    }
}

/// The operand value that decides `&&` (false) and `||` (true) alone.
fn deciding_operand(op: BinaryOperator) -> Option<bool> {
    match op {
        BinaryOperator::And => Some(false),
        BinaryOperator::Or => Some(true),
        _ => None,
    }
}

/// `&&` or `||` of two operands, either of which may be unknown (`None`): one operand equal to
/// `deciding` decides, whatever the other, as Terraform evaluates them since 1.12 (HCL's
/// short-circuit of logical operators). `count = module.x.enabled && var.global ? 1 : 0` is
/// 0 when `var.global` is false.
fn logical(deciding: bool, lhs: Option<bool>, rhs: Option<bool>) -> Option<bool> {
    match (lhs, rhs) {
        (Some(a), Some(b)) => Some(if deciding { a || b } else { a && b }),
        (Some(v), None) | (None, Some(v)) if v == deciding => Some(deciding),
        _ => None,
    }
}

fn binary(op: BinaryOperator, lhs: &Node, rhs: &Node) -> Option<Value> {
    use BinaryOperator as B;
    let numeric = |f: fn(f64, f64) -> f64| -> Option<Value> {
        let n = f(number(lhs)?, number(rhs)?);
        Some(if n.fract() == 0.0 && n.abs() < 9.0e15 {
            Value::Int(n as i64)
        } else {
            Value::Float(n)
        })
    };
    Some(match op {
        B::Eq => Value::Bool(same(lhs, rhs)),
        B::NotEq => Value::Bool(!same(lhs, rhs)),
        B::And => Value::Bool(truthy(lhs)? && truthy(rhs)?),
        B::Or => Value::Bool(truthy(lhs)? || truthy(rhs)?),
        B::Less => Value::Bool(number(lhs)? < number(rhs)?),
        B::LessEq => Value::Bool(number(lhs)? <= number(rhs)?),
        B::Greater => Value::Bool(number(lhs)? > number(rhs)?),
        B::GreaterEq => Value::Bool(number(lhs)? >= number(rhs)?),
        B::Plus => return numeric(|a, b| a + b),
        B::Minus => return numeric(|a, b| a - b),
        B::Mul => return numeric(|a, b| a * b),
        B::Div if number(rhs)? != 0.0 => return numeric(|a, b| a / b),
        B::Div | B::Mod => return None,
    })
}

/// The built-in functions that decide how many instances there are.
fn function(name: &str, args: Vec<Node>) -> Option<Value> {
    let span = args.first().map(|a| a.span).unwrap_or_default();
    let one = || args.first();
    Some(match (name, args.len()) {
        ("length", 1) => {
            let arg = one()?;
            let n = match &arg.value {
                Value::Seq(items) => items.len(),
                Value::Map(entries) => entries.len(),
                Value::Str(s) => s.chars().count(),
                _ => return None,
            };
            Value::Int(i64::try_from(n).ok()?)
        }
        ("toset", 1) => {
            let mut out: Vec<Node> = Vec::new();
            for item in one()?.items() {
                item.scalar_text()?;
                if !out.iter().any(|o| same(o, item)) {
                    out.push(item.clone());
                }
            }
            if !one()?.is_null() && !matches!(one()?.value, Value::Seq(_)) {
                return None;
            }
            Value::Seq(out)
        }
        ("tolist" | "tomap", 1) => one()?.value.clone(),
        ("keys", 1) => Value::Seq(
            one()?
                .entries()
                .iter()
                .map(|e| Node::new(Value::Str(e.key.clone()), e.key_span))
                .collect(),
        ),
        ("values", 1) => Value::Seq(one()?.entries().iter().map(|e| e.value.clone()).collect()),
        ("concat", _) => {
            let mut out = Vec::new();
            for arg in &args {
                match &arg.value {
                    Value::Seq(items) => out.extend(items.iter().cloned()),
                    _ => return None,
                }
            }
            Value::Seq(out)
        }
        ("merge", _) => {
            let mut out: Vec<Entry> = Vec::new();
            for arg in &args {
                for entry in arg.entries() {
                    out.retain(|e| e.key != entry.key);
                    out.push(entry.clone());
                }
                if !arg.is_map() && !arg.is_null() {
                    return None;
                }
            }
            Value::Map(out)
        }
        ("contains", 2) => Value::Bool(args[0].items().iter().any(|i| same(i, &args[1]))),
        ("lookup", 2 | 3) => match args[0].get(&args[1].scalar_text()?) {
            Some(found) => found.value.clone(),
            None => args.get(2)?.value.clone(),
        },
        ("lower", 1) => Value::Str(one()?.scalar_text()?.to_lowercase()),
        ("upper", 1) => Value::Str(one()?.scalar_text()?.to_uppercase()),
        ("tostring", 1) => Value::Str(one()?.scalar_text()?),
        ("tonumber", 1) => {
            return binary(
                BinaryOperator::Plus,
                one()?,
                &Node::new(Value::Int(0), span),
            );
        }
        ("tobool", 1) => Value::Bool(truthy(one()?)?),
        ("min" | "max", n) if n > 0 => {
            let numbers = args.iter().map(number).collect::<Option<Vec<_>>>()?;
            let pick = if name == "min" {
                numbers.iter().copied().fold(f64::INFINITY, f64::min)
            } else {
                numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            };
            if pick.fract() == 0.0 {
                Value::Int(pick as i64)
            } else {
                Value::Float(pick)
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::hcl::expression_text;
    use crate::load::load_bytes;

    /// Every argument of every resource: what `referenced_resource` reads from the text, and
    /// what `Module::eval` makes of the argument.
    fn both(path: &str, text: &str) -> Vec<(String, Option<String>, Option<String>)> {
        let outcome = load_bytes(path, text.as_bytes());
        let docs: Vec<&Document> = outcome.documents.iter().collect();
        let module = Module::new(&docs);
        let mut out = Vec::new();
        for resource in &module.resources {
            for entry in resource.block.node.entries() {
                let Some(text) = expression_text(&entry.value) else {
                    continue;
                };
                let route = resource.route.key(&entry.key);
                let evaluated =
                    match module.eval(resource.block.doc, &entry.value, &route, &Inputs::new()) {
                        Eval::Reference { address } => Some(address),
                        _ => None,
                    };
                out.push((text.to_string(), referenced_resource(text), evaluated));
            }
        }
        out
    }

    /// A value as `[a, b]` and `{k: v}`, for comparing.
    fn shown(node: &Node) -> String {
        match &node.value {
            Value::Seq(items) => {
                let items: Vec<String> = items.iter().map(shown).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Map(entries) => {
                let entries: Vec<String> = (entries.iter())
                    .map(|e| format!("{}: {}", e.key, shown(&e.value)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
            _ => node.scalar_text().unwrap_or_else(|| "null".into()),
        }
    }

    #[test]
    fn a_for_expression_is_evaluated_item_by_item() {
        let text = r#"
variable "regions" { default = ["eu-west-1", "us-east-1", "eu-central-1"] }
variable "buckets" {
  default = {
    logs    = { region = "eu-west-1", enabled = true }
    archive = { region = "us-east-1", enabled = false }
    audit   = { region = "eu-central-1", enabled = true }
  }
}
resource "x" "y" {
  eu      = [for r in var.regions : upper(r) if r != "us-east-1"]
  enabled = { for name, b in var.buckets : name => b.region if b.enabled }
  indexed = { for i, r in var.regions : r => i }
  grouped = { for r in var.regions : (r == "us-east-1" ? "us" : "eu") => r... }
  none    = [for r in var.regions : r if r == "ap-south-1"]
  nested  = [for r in ["a", "b"] : [for s in ["x", "y"] : s == "x" ? r : s]]
  outer   = [for r in ["a"] : [for r in ["b"] : r]]
  unknown = [for r in var.regions : r if r == data.aws_region.here.name]
  dupes   = { for r in var.regions : "same" => r }
  after   = r
}
"#;
        let outcome = load_bytes("main.tf", text.as_bytes());
        let docs: Vec<&Document> = outcome.documents.iter().collect();
        let module = Module::new(&docs);
        let resource = &module.resources[0];
        let value = |name: &str| {
            let node = resource.block.node.get(name).expect("written");
            let route = resource.route.key(name);
            (module.value(resource.block.doc, node, &route, &Inputs::new()))
                .map(|known| shown(&known.value))
        };
        assert_eq!(value("eu").as_deref(), Some("[EU-WEST-1, EU-CENTRAL-1]"));
        // A map's entries in the order of their keys.
        assert_eq!(
            value("enabled").as_deref(),
            Some("{audit: eu-central-1, logs: eu-west-1}")
        );
        assert_eq!(
            value("indexed").as_deref(),
            Some("{eu-central-1: 2, eu-west-1: 0, us-east-1: 1}")
        );
        assert_eq!(
            value("grouped").as_deref(),
            Some("{eu: [eu-west-1, eu-central-1], us: [us-east-1]}")
        );
        assert_eq!(value("none").as_deref(), Some("[]"));
        assert_eq!(value("nested").as_deref(), Some("[[a, y], [b, y]]"));
        // The innermost binding of a name is the one read.
        assert_eq!(value("outer").as_deref(), Some("[[b]]"));
        // A condition known only at deployment, and two items with one key (an error), are not
        // evaluated; and a body's names are unbound once it is done.
        assert_eq!(value("unknown"), None);
        assert_eq!(value("dupes"), None);
        assert_eq!(value("after"), None);
    }

    #[test]
    fn an_expression_parsed_again_is_the_one_parsed_first_and_the_kept_ones_stay_few() {
        let first = parsed_expression("var.tags").expect("parses");
        let again = parsed_expression("var.tags").expect("parses");
        assert!(Rc::ptr_eq(&first, &again), "kept, not parsed again");
        assert!(parsed_expression("var.").is_none(), "not an expression");
        for i in 0..PARSED_TEXTS + 10 {
            let text = format!("local.value_{i}");
            let parsed = parsed_expression(&text).expect("parses");
            assert_eq!(parsed.to_string(), text);
        }
        assert!(PARSED.with_borrow(|parsed| parsed.len()) <= PARSED_TEXTS);
        let later = parsed_expression("var.tags").expect("parses");
        assert_eq!(later.to_string(), "var.tags");
    }

    #[test]
    fn one_operand_decides_and_or_or_whatever_the_other() {
        let and = |l, r| logical(false, l, r);
        let or = |l, r| logical(true, l, r);
        assert_eq!(and(None, Some(false)), Some(false));
        assert_eq!(and(Some(false), None), Some(false));
        assert_eq!(and(None, Some(true)), None);
        assert_eq!(and(Some(true), Some(true)), Some(true));
        assert_eq!(or(None, Some(true)), Some(true));
        assert_eq!(or(Some(true), None), Some(true));
        assert_eq!(or(None, Some(false)), None);
        assert_eq!(or(Some(false), Some(false)), Some(false));
        assert_eq!(and(None, None), None);
    }

    #[test]
    fn an_instance_of_a_resource_is_referred_to_by_its_address() {
        for (text, expected) in [
            ("aws_s3_bucket.logs.id", Some("aws_s3_bucket.logs")),
            ("aws_s3_bucket.logs[0].id", Some("aws_s3_bucket.logs")),
            (
                "google_storage_bucket.buckets[each.value.bucket].name",
                Some("google_storage_bucket.buckets"),
            ),
            (
                "google_storage_bucket.b[lookup(var.m, \"k\")].name",
                Some("google_storage_bucket.b"),
            ),
            ("aws_s3_bucket.logs[0].tags.team", None),
            ("aws_s3_bucket.logs[0]", None),
            ("aws_s3_bucket.logs[0.id", None),
            ("var.buckets[0].name", None),
            ("data.aws_region.here[0].name", None),
        ] {
            assert_eq!(referred_resource(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn a_reference_read_from_the_text_is_what_evaluation_finds() {
        let text = r#"
variable "name" { default = "x" }
locals { region = "eu-west-1" }
data "aws_region" "here" {}
resource "aws_s3_bucket" "logs" { bucket = "logs" }
resource "aws_s3_bucket_versioning" "logs" {
  bucket   = aws_s3_bucket.logs.id
  two      = aws_s3_bucket.logs
  four     = aws_s3_bucket.logs.tags.team
  indexed  = aws_s3_bucket.logs[0].id
  data     = data.aws_region.here.name
  variable = var.name
  local    = local.region
  each     = each.value.name
  template = "${aws_s3_bucket.logs.id}-copy"
  call     = lower(aws_s3_bucket.logs.id)
  nodash   = random.id.hex
}
"#;
        let found = both("main.tf", text);
        assert_eq!(found.len(), 11, "{found:?}");
        for (text, read, evaluated) in &found {
            assert_eq!(read, evaluated, "{text}");
        }
        let references: Vec<&str> = (found.iter())
            .filter(|(_, read, _)| read.is_some())
            .map(|(text, _, _)| text.as_str())
            .collect();
        // `"${aws_s3_bucket.logs.id}"` alone is written as the expression inside it.
        assert_eq!(references, ["aws_s3_bucket.logs.id"]);

        // And on every fixture's resources.
        let mut compared = 0;
        for root in ["fixtures", "tests"] {
            for entry in ignore::WalkBuilder::new(root)
                .hidden(false)
                .build()
                .flatten()
            {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "tf") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(path) else {
                    continue;
                };
                for (text, read, evaluated) in both(&path.to_string_lossy(), &text) {
                    assert_eq!(read, evaluated, "{}: {text}", path.display());
                    compared += 1;
                }
            }
        }
        assert!(compared > 50, "{compared} arguments compared");
    }
}
