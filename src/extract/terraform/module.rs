//! One Terraform module folder: its variables, `*.tfvars` values, locals, provider blocks and
//! resources across files, and the evaluation of expressions down to literal values.

use std::collections::BTreeMap;

use crate::load::Document;
use crate::load::hcl::{EXPR_TAG, expression_text};
use crate::location::Location;
use crate::tree::{Node, Route};

/// Deepest chain of `local.a` → `local.b` → `var.c` followed before giving up.
const MAX_EVAL_DEPTH: usize = 16;

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
            for entry in doc.root.entries() {
                let placed = Placed {
                    doc,
                    node: &entry.value,
                };
                module
                    .tfvars
                    .insert(entry.key.clone(), (placed, Route::root().key(&entry.key)));
            }
        }
        module
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
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
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
                    self.eval_node(placed.node, placed.location(route), depth + 1, inputs)
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
            [type_name, name, _attribute]
                if type_name.contains('_')
                    && plain(type_name)
                    && plain(name)
                    && *type_name != "data" =>
            {
                Eval::Reference {
                    address: format!("{type_name}.{name}"),
                }
            }
            _ => blocked(text, location),
        }
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
                }
                Eval::Blocked { blocker, location } => return Eval::Blocked { blocker, location },
                Eval::Reference { .. } | Eval::Unset => {
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
