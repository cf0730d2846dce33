//! Normalised facts read through the service knowledge's routes, for every format: where a format
//! keeps encryption or public access is data, not code, and an absent setting takes the
//! provider's default.
//!
//! A spec is one or more alternatives joined by `||`. Each is a route
//! (`Properties.BucketEncryption.ServerSideEncryptionConfiguration[*].X`, `[*]` for every item),
//! optionally negated (`!Properties.X`) or tested for membership (`Properties.Acl in [a, b]`). For
//! yes/no facts a `true` from any alternative wins; otherwise the first that yields a value. A
//! value decided only at deployment (an expression, `!If`, `[parameters('x')]` without default)
//! leaves the fact unknown: it is not set, and no default applies.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use super::fact_values::{flag, region_text, text};
use crate::knowledge::services::{DefaultIs, Dialect, FactDefault, Service};
use crate::load::Format;
use crate::load::hcl::EXPR_TAG;
use crate::location::Location;
use crate::model::{Fact, Resource, Unevaluated};
use crate::tree::{Node, Route, Segment, Value};

/// What a template expression (`!Ref Param`, `[parameters('x')]`) stands for.
pub enum Resolved {
    /// Not an expression: the node means what it says.
    AsWritten,
    /// An expression whose value the files give, and where that value is written when it is
    /// not where the expression is (a module's caller, a variable's default).
    Value(Node, Option<Location>),
    /// An expression decided only at deployment.
    Unknown,
}

/// Turns template expressions into literals where possible.
pub type Resolve<'a> = &'a dyn Fn(&Node) -> Resolved;

/// Nodes mean what they say (AWS Config items, Kubernetes objects, user rules).
pub fn as_written(_: &Node) -> Resolved {
    Resolved::AsWritten
}

/// Terraform: an expression (`var.x`, `aws_kms_key.k.arn`) is not a literal.
pub fn terraform_resolution(node: &Node) -> Resolved {
    if node.tag.as_deref() == Some(EXPR_TAG) {
        Resolved::Unknown
    } else {
        Resolved::AsWritten
    }
}

const MAX_MATCHES: usize = 1000;

#[derive(Clone, Copy)]
enum Kind {
    Flag,
    Number,
    Text,
    /// Every reached region id, or the region inside an ARN.
    Regions,
    /// Every reached node as written (expiration days, log bucket references).
    Nodes,
}

fn kind_of(fact: &str) -> Kind {
    match fact {
        "encrypted"
        | "public"
        | "https_only"
        | "point_in_time_recovery"
        | "backup_enabled"
        | "cdn_enabled"
        // The `when` of a default that depends on another setting (`Service::default_for`).
        | "condition" => Kind::Flag,
        "log_retention_days" | "backup_retention_days" => Kind::Number,
        "replica_regions" | "locations" => Kind::Regions,
        "object_expiration_days" | "log_target" | "container_images" => Kind::Nodes,
        _ => Kind::Text,
    }
}

/// One alternative of a fact spec: a route, maybe negated, tested for membership or for being
/// written at all.
struct Alternative {
    negated: bool,
    route: Route,
    members: Option<Vec<String>>,
    /// `route is set`: true when the route reaches any value, a key named by reference too.
    set: bool,
}

/// Why a written setting is not known here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decided {
    /// An expression only the deployment decides.
    AtDeployment,
    /// A literal value the fact cannot take (`encrypted: maybe`).
    Unreadable,
}

/// A spec parsed, with the setting it names.
struct Spec {
    alternatives: Vec<Alternative>,
    /// `setting_name` of the spec.
    setting: String,
}

/// `parse_spec`, once per thread for each spec: the specs are the knowledge base's and the
/// rules', few, and read for every resource.
fn parsed_spec(spec: &str) -> Rc<Spec> {
    thread_local! {
        static PARSED: RefCell<foldhash::HashMap<Box<str>, Rc<Spec>>> = RefCell::default();
    }
    PARSED.with_borrow_mut(|parsed| {
        if let Some(parsed) = parsed.get(spec) {
            return Rc::clone(parsed);
        }
        let made = Rc::new(Spec {
            alternatives: parse_spec(spec),
            setting: setting_name(spec),
        });
        parsed.insert(spec.into(), Rc::clone(&made));
        made
    })
}

fn parse_spec(spec: &str) -> Vec<Alternative> {
    spec.split("||")
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|alternative| {
            let (negated, rest) = match alternative.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, alternative),
            };
            let (rest, set) = match rest.strip_suffix(" is set") {
                Some(path) => (path.trim(), true),
                None => (rest, false),
            };
            let (path, members) = match rest.split_once(" in ") {
                Some((path, list)) => (path.trim(), Some(parse_list(list))),
                None => (rest, None),
            };
            Alternative {
                negated,
                route: Route::parse(path),
                members,
                set,
            }
        })
        .collect()
}

/// What one spec says about a resource.
enum Reading {
    /// Not written: the provider's default applies.
    Absent,
    /// Written, but not known here: the first node found so, with its route, and whether the
    /// deployment decides it (an expression) or it is written as a value the fact cannot take.
    Unknown(Route, Node, Decided),
    /// The value, the route of the node it was read from, that node, and where the value is
    /// given when not there (`Resolved::Value`).
    Value(Node, Route, Node, Option<Location>),
}

/// Where a service's facts are read from in one resource.
pub struct FactSource<'a> {
    pub service: &'a Service,
    /// The dialect whose routes apply (ARM routes for an `azapi_resource`).
    pub dialect: Dialect,
    /// Route of the service's body inside the resource (`body` for `azapi_resource`).
    pub base: Route,
    /// ARM API version, for defaults that changed between versions.
    pub api_version: Option<String>,
}

impl<'a> FactSource<'a> {
    pub fn new(service: &'a Service, dialect: Dialect) -> Self {
        FactSource {
            service,
            dialect,
            base: Route::root(),
            api_version: None,
        }
    }
}

/// Sets every fact the service's routes find in the resource; an absent setting takes the
/// provider's default, located at the resource and marked as a default.
pub fn apply(resource: &mut Resource, source: &FactSource, resolve: Resolve) {
    let (found, unevaluated) = read_all(resource, source, resolve);
    resource.facts.extend(found);
    resource.unevaluated.extend(unevaluated);
}

/// The facts `apply` sets, read from the resource as it is, and the settings it cannot judge.
fn read_all(
    resource: &Resource,
    source: &FactSource,
    resolve: Resolve,
) -> (Vec<(&'static str, Fact)>, Vec<Unevaluated>) {
    let mut found = Vec::new();
    let mut unevaluated = Vec::new();
    let Some(body) = resource.body.at(&source.base) else {
        return (found, unevaluated);
    };
    for (fact, spec) in source.service.fact_specs(source.dialect) {
        let parsed = parsed_spec(spec);
        match read(body, fact, &parsed.alternatives, resolve) {
            Reading::Value(value, route, node, given_at) => {
                let location = resource.locate(&node, &source.base.join(&route));
                let given_at = given_at.map(Box::new);
                found.push((
                    crate::model::fact_name(fact),
                    Fact {
                        value,
                        location,
                        default: None,
                        given_at,
                    },
                ));
            }
            Reading::Unknown(route, node, decided) => {
                let reason = why_unknown(&node, decided);
                let location = resource.locate(&node, &source.base.join(&route));
                let setting = setting_name(&route.to_string());
                unevaluated.push(unevaluated_at(resource, fact, &setting, location, reason));
            }
            Reading::Absent => {
                if let Some((route, block)) =
                    dynamic_block(body, source.dialect, &parsed.alternatives)
                {
                    unevaluated.push(unevaluated_at(
                        resource,
                        fact,
                        &parsed.setting,
                        resource.locate(block, &source.base.join(&route)),
                        "written by a `dynamic` block whose `for_each` the plan decides".into(),
                    ));
                    continue;
                }
                // Where the setting a default depends on is written, when only the deployment
                // decides it.
                let mut deciding: Option<(Route, Node)> = None;
                let default = source.service.default_for(
                    fact,
                    source.dialect,
                    source.api_version.as_deref(),
                    |spec| match read(body, "condition", &parsed_spec(spec).alternatives, resolve) {
                        Reading::Value(value, ..) => value.as_bool(),
                        Reading::Absent => Some(false),
                        Reading::Unknown(route, node, _) => {
                            deciding.get_or_insert((route, node));
                            None
                        }
                    },
                );
                let default = match default {
                    DefaultIs::Known(default) => default,
                    DefaultIs::Removed(note) => {
                        unevaluated.push(unevaluated_at(
                            resource,
                            fact,
                            &parsed.setting,
                            resource.start(),
                            format!("not set, and {note}"),
                        ));
                        None
                    }
                    DefaultIs::DependsOn(spec) => {
                        let (location, written) = match &deciding {
                            Some((route, node)) => (
                                resource.locate(node, &source.base.join(route)),
                                why_unknown(node, Decided::AtDeployment),
                            ),
                            None => (resource.start(), "decided at deployment".into()),
                        };
                        unevaluated.push(unevaluated_at(
                            resource,
                            fact,
                            &parsed.setting,
                            location,
                            format!(
                                "not set, and its default depends on `{}`: {written}",
                                setting_name(spec)
                            ),
                        ));
                        None
                    }
                };
                if let Some(default) = default {
                    let value = match default {
                        FactDefault::Bool(b) => Value::Bool(*b),
                        FactDefault::Int(i) => Value::Int(*i),
                        FactDefault::Text(t) => Value::Str(t.clone()),
                    };
                    found.push((
                        crate::model::fact_name(fact),
                        Fact {
                            value: Node::new(value, resource.body.span),
                            location: resource.start(),
                            default: Some(parsed.setting.clone()),
                            given_at: None,
                        },
                    ));
                }
            }
        }
    }
    (found, unevaluated)
}

/// The literal start of a Terraform string template (`serviceAccount:` of
/// `"serviceAccount:${data.x.email}"`), when it has one without escapes.
fn template_start(node: &Node) -> Option<&str> {
    if node.tag.as_deref() != Some(EXPR_TAG) {
        return None;
    }
    let Value::Str(text) = &node.value else {
        return None;
    };
    let body = text.strip_prefix('"')?;
    let end = body.find("${").or_else(|| body.find("%{"))?;
    let start = &body[..end];
    (!start.is_empty() && !start.contains(['\\', '"'])).then_some(start)
}

/// The function a CloudFormation intrinsic calls: its tag (`!If`), or its one key
/// (`Fn::If`, `Ref`).
fn function_name(node: &Node) -> Option<String> {
    if let Some(tag) = &node.tag {
        return Some(tag.clone());
    }
    match &node.value {
        Value::Map(entries) if entries.len() == 1 => {
            let key = &entries[0].key;
            (key.starts_with("Fn::") || key == "Ref").then(|| key.clone())
        }
        _ => None,
    }
}

/// Whether an expression only the deployment decides may give no value at all: a branch of
/// it is `null` (Terraform, `null()` in ARM) or `AWS::NoValue` (CloudFormation).
pub fn may_give_nothing(node: &Node) -> bool {
    match &node.value {
        Value::Seq(items) => items.iter().any(may_give_nothing),
        Value::Map(entries) => entries.iter().any(|e| may_give_nothing(&e.value)),
        _ => node.scalar_text().is_some_and(|text| {
            text.contains("AWS::NoValue")
                || text.match_indices("null").any(|(at, _)| {
                    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
                    !text[..at].ends_with(word) && !text[at + 4..].starts_with(word)
                })
        }),
    }
}

/// Why a setting written as `node` is not known here.
fn why_unknown(node: &Node, decided: Decided) -> String {
    // A CloudFormation short form names its function: `!Ref Versioning`.
    let text = node.scalar_text().map(|text| match node.tag.as_deref() {
        Some(tag) if tag.starts_with('!') && tag != EXPR_TAG => format!("{tag} {text}"),
        _ => text,
    });
    match (text, decided) {
        (Some(text), Decided::AtDeployment) => {
            format!("`{}` is decided at deployment", one_line(&text))
        }
        (Some(text), Decided::Unreadable) => {
            format!("`{}` is not a value the rules can read", one_line(&text))
        }
        // An intrinsic function: `!If [C, true, false]`, `{"Fn::If": …}`.
        (None, Decided::AtDeployment) => match function_name(node) {
            Some(name) => format!("`{name}` is decided at deployment"),
            None => "decided at deployment".to_string(),
        },
        (None, Decided::Unreadable) => "not a value the rules can read".to_string(),
    }
}

/// Whether a node of a resource's tree, as extraction leaves it, is an expression only the
/// deployment decides: a Terraform expression, a CloudFormation intrinsic function, an ARM
/// template expression. Extraction puts the values the files give in place of the
/// expressions that have them (`resolve_in_place`); what is left has none.
pub fn decided_at_deployment(format: Format, node: &Node) -> bool {
    match format {
        Format::Terraform => node.tag.as_deref() == Some(EXPR_TAG),
        Format::Cloudformation => function_name(node).is_some(),
        Format::Arm => node
            .as_str()
            .is_some_and(crate::extract::arm_expressions::is_expression),
        Format::Kubernetes | Format::TerraformPlan | Format::AwsConfig => false,
    }
}

/// The entry of the settings not evaluated for a user rule's condition on `node`, which only
/// the deployment decides, at `route` in the resource (at the resource itself without a node).
pub fn unevaluated_for_rule(
    resource: &Resource,
    rule_id: &str,
    route: &Route,
    node: Option<&Node>,
) -> Unevaluated {
    let (location, reason) = match node {
        Some(node) => (
            resource.locate(node, route),
            why_unknown(node, Decided::AtDeployment),
        ),
        None => (resource.start(), "decided at deployment".to_string()),
    };
    unevaluated_at(resource, rule_id, &route.to_string(), location, reason)
}

/// Puts in place of each expression of a resource's tree the value `resolve` gives it (a
/// variable's default, a parameter's, a condition the files decide), keeping where it is
/// written; expressions without one are left as written. For the rules that read the tree
/// itself (a rule pack's conditions) rather than the facts.
pub fn resolve_in_place(node: &mut Node, resolve: Resolve) {
    match resolve(node) {
        Resolved::AsWritten => match &mut node.value {
            Value::Map(entries) => entries
                .iter_mut()
                .for_each(|e| resolve_in_place(&mut e.value, resolve)),
            Value::Seq(items) => items.iter_mut().for_each(|i| resolve_in_place(i, resolve)),
            _ => {}
        },
        Resolved::Value(value, _) => {
            let span = node.span;
            *node = Node { span, ..value };
        }
        Resolved::Unknown => {}
    }
}

fn unevaluated_at(
    resource: &Resource,
    fact: &str,
    setting: &str,
    location: crate::location::Location,
    reason: String,
) -> Unevaluated {
    Unevaluated {
        path: location.path.to_string(),
        line: location.start_line,
        column: location.start_column,
        setting: setting.to_string(),
        fact: fact.to_string(),
        reason,
        resources: vec![resource.address.clone()],
    }
}

/// An expression as the list of settings shows it: on one line, and cut short when long.
fn one_line(text: &str) -> String {
    const MOST: usize = 80;
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(MOST) {
        Some((at, _)) => format!("{}…", &joined[..at]),
        None => joined,
    }
}

/// The setting a spec reads, as a person would name it: the first alternative's route.
fn setting_name(spec: &str) -> String {
    let first = spec.split("||").next().unwrap_or(spec).trim();
    let route = first.trim_start_matches('!');
    let route = route.split(" in ").next().unwrap_or(route).trim();
    let route = route.strip_suffix(" is set").unwrap_or(route).trim();
    route
        .strip_prefix("Properties.")
        .or_else(|| route.strip_prefix("properties."))
        .unwrap_or(route)
        .replace("[*]", "")
}

/// A Terraform `dynamic "x"` block whose `for_each` the files do not decide (the others are
/// written out as blocks when the resource is read) writes `x` at plan time: the setting is
/// not absent, whether the block is in the body or in a nested block on the way. Gives the
/// first such block, with its route in the body.
fn dynamic_block<'n>(
    body: &'n Node,
    dialect: Dialect,
    alternatives: &[Alternative],
) -> Option<(Route, &'n Node)> {
    if dialect != Dialect::Terraform {
        return None;
    }
    alternatives
        .iter()
        .find_map(|a| written_dynamically(body, &a.route.0, Route::root()))
}

fn written_dynamically<'n>(
    node: &'n Node,
    route: &[Segment],
    at: Route,
) -> Option<(Route, &'n Node)> {
    let (first, rest) = route.split_first()?;
    match first {
        Segment::Key(k) if &**k == "*" => match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| written_dynamically(item, rest, at.index(i))),
            Value::Map(entries) => entries
                .iter()
                .find_map(|e| written_dynamically(&e.value, rest, at.key(&e.key))),
            _ => None,
        },
        Segment::Key(k) => {
            if let Some(dynamic) = node.get("dynamic") {
                let at = at.key("dynamic");
                if let Some(block) = dynamic.get(k) {
                    return Some((at.key(k), block));
                }
                let named = dynamic
                    .items()
                    .iter()
                    .enumerate()
                    .find_map(|(i, item)| item.get(k).map(|block| (at.index(i).key(k), block)));
                if named.is_some() {
                    return named;
                }
            }
            written_dynamically(node.get(k)?, rest, at.key(k))
        }
        Segment::Index(i) => written_dynamically(node.items().get(*i)?, rest, at.index(*i)),
    }
}

fn read(body: &Node, fact: &str, alternatives: &[Alternative], resolve: Resolve) -> Reading {
    let mut first: Option<Reading> = None;
    let mut unknown: Option<Reading> = None;
    for alternative in alternatives {
        match read_alternative(body, fact, alternative, resolve) {
            Reading::Absent => {}
            at @ Reading::Unknown(..) => {
                unknown.get_or_insert(at);
            }
            found @ Reading::Value(..) => {
                let is_true =
                    matches!(&found, Reading::Value(v, ..) if v.value == Value::Bool(true));
                if is_true || !matches!(kind_of(fact), Kind::Flag) {
                    return found;
                }
                first.get_or_insert(found);
            }
        }
    }
    // A `false` with another alternative unknown is unknown: the deployment may make that one
    // true (`SqsManagedSseEnabled: false` beside a key named in one branch of an `!If`).
    match (unknown, first) {
        (Some(at), _) => at,
        (None, Some(found)) => found,
        (None, None) => Reading::Absent,
    }
}

fn read_alternative(
    body: &Node,
    fact: &str,
    alternative: &Alternative,
    resolve: Resolve,
) -> Reading {
    let Alternative {
        negated,
        route,
        members,
        set,
    } = alternative;
    let negated = *negated;
    let selection = select(body, route, resolve);
    // The first expression on the way, or value found, that the deployment decides.
    let mut unknown = selection.blocked;
    // The first value written that the fact cannot take.
    let mut unreadable: Option<(Route, Node)> = None;
    if *set {
        // Written with a value, or with an expression that names one (`!Ref Key`); an empty
        // text is not set, and an expression that may give nothing (`!If [C, !Ref Key, !Ref
        // AWS::NoValue]`, `var.on ? aws_kms_key.k.arn : null`) is left to the deployment.
        for (route, reached) in selection.found {
            // An empty text, or no blocks (a `dynamic` block over an empty list).
            if reached.node.scalar_text().is_some_and(|t| t.is_empty())
                || matches!(&reached.node.value, Value::Seq(items) if items.is_empty())
            {
                continue;
            }
            if !reached.known && may_give_nothing(&reached.node) {
                unknown.get_or_insert((route, reached.node.into_owned()));
                continue;
            }
            let source = reached.node.into_owned();
            let value = Node::new(Value::Bool(!negated), source.span);
            return Reading::Value(value, route, source, reached.given_at);
        }
        return match unknown {
            Some((route, node)) => Reading::Unknown(route, node, Decided::AtDeployment),
            None => Reading::Absent,
        };
    }
    let kind = kind_of(fact);
    if let Kind::Regions | Kind::Nodes = kind {
        // Every reached value; a reference (`aws_s3_bucket.dr.arn`) is kept as written, for the
        // rules that follow it to the resource it names.
        let Some((route, source, given_at)) = selection
            .found
            .first()
            .map(|(r, n)| (r.clone(), n.node.clone().into_owned(), n.given_at.clone()))
        else {
            return match unknown {
                Some((route, node)) => Reading::Unknown(route, node, Decided::AtDeployment),
                None => Reading::Absent,
            };
        };
        let items: Vec<Node> = selection
            .found
            .iter()
            .flat_map(|(_, n)| {
                let items = match &n.node.value {
                    Value::Seq(items) => items.clone(),
                    _ => vec![n.node.clone().into_owned()],
                };
                items.into_iter().map(move |item| (item, n.known))
            })
            .filter_map(|(item, known)| match kind {
                Kind::Regions if known => {
                    region_text(&item).map(|t| Node::new(Value::Str(t), item.span))
                }
                _ => Some(item),
            })
            .collect();
        if items.is_empty() {
            return Reading::Unknown(route, source, Decided::AtDeployment);
        }
        let value = Node::new(Value::Seq(items), source.span);
        return Reading::Value(value, route, source, given_at);
    }
    // With `[*]` several nodes match: a yes/no fact is true when any of them says so.
    let mut first = None;
    for (route, reached) in selection.found {
        let given_at = reached.given_at;
        let source = reached.node.into_owned();
        if !reached.known {
            // A text fact set by an expression is still set (`kms_key_id = aws_kms_key.k.arn`):
            // it is kept as written, while yes/no, numbers and memberships stay unknown, but
            // for a text whose written start no member has (`"serviceAccount:${…}"` is not
            // `allUsers`).
            if matches!(kind, Kind::Text) && members.is_none() {
                first.get_or_insert(Reading::Value(source.clone(), route, source, given_at));
            } else if let Some(members) = members
                && let Some(start) = template_start(&source)
                && !members.iter().any(|m| {
                    m.get(..start.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(start))
                })
            {
                let value = Node::new(Value::Bool(negated), source.span);
                first.get_or_insert(Reading::Value(value, route, source, given_at));
            } else {
                unknown.get_or_insert((route, source));
            }
            continue;
        }
        let value = match (members, kind) {
            (Some(members), _) => {
                let Some(text) = source.scalar_text() else {
                    unreadable.get_or_insert((route, source));
                    continue;
                };
                Value::Bool(members.iter().any(|m| m.eq_ignore_ascii_case(&text)) != negated)
            }
            (None, Kind::Flag) => match flag(&source) {
                Some(b) => Value::Bool(b != negated),
                None => {
                    unreadable.get_or_insert((route, source));
                    continue;
                }
            },
            (None, Kind::Number) => match source.as_i64() {
                Some(n) => Value::Int(n),
                None => {
                    unreadable.get_or_insert((route, source));
                    continue;
                }
            },
            (None, _) => match text(fact, &source) {
                Some(t) => Value::Str(t),
                None => continue,
            },
        };
        let found = Reading::Value(Node::new(value, source.span), route, source, given_at);
        if matches!(&found, Reading::Value(v, ..) if v.value == Value::Bool(true)) {
            return found;
        }
        first.get_or_insert(found);
    }
    match first {
        Some(found) => found,
        None => match (unknown, unreadable) {
            (Some((route, node)), _) => Reading::Unknown(route, node, Decided::AtDeployment),
            (None, Some((route, node))) => Reading::Unknown(route, node, Decided::Unreadable),
            (None, None) => Reading::Absent,
        },
    }
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

/// A node a route reached: resolved to its value where the files give it, as written (and
/// `known: false`) where it is decided at deployment.
pub struct Reached<'a> {
    pub node: Cow<'a, Node>,
    pub known: bool,
    /// Where the value is given when that is not where the route reached it (a module's
    /// caller, a variable's or a parameter's default).
    pub given_at: Option<Location>,
}

/// What a route reaches, and the first expression on the way the deployment decides, with its
/// route, when one stood in the way.
pub struct Selection<'a> {
    pub found: Vec<(Route, Reached<'a>)>,
    pub blocked: Option<(Route, Node)>,
}

/// Adds to `out` the children of a node along one segment, each with its route (`at` and the
/// segment); `*` takes every item of a list and every value of a map. Borrowed while the walk
/// stays on written nodes, so large bodies are not copied; a route is extended in place where
/// one child is reached.
fn children<'a>(
    node: Cow<'a, Node>,
    segment: &Segment,
    at: Route,
    out: &mut Vec<(Route, Cow<'a, Node>)>,
) {
    fn pick<'n, 'a>(
        node: &'n Node,
        segment: &Segment,
        mut at: Route,
        child: impl Fn(&'n Node) -> Cow<'a, Node>,
        out: &mut Vec<(Route, Cow<'a, Node>)>,
    ) {
        match segment {
            Segment::Key(k) if &**k == "*" => {
                for (i, item) in node.items().iter().enumerate() {
                    out.push((at.index(i), child(item)));
                }
                for e in node.entries() {
                    out.push((at.key(&e.key), child(&e.value)));
                }
            }
            Segment::Key(k) => {
                if let Some(c) = node.get(k) {
                    at.0.push(Segment::Key(std::sync::Arc::clone(k)));
                    out.push((at, child(c)));
                }
            }
            Segment::Index(i) => {
                if let Some(c) = node.items().get(*i) {
                    at.0.push(Segment::Index(*i));
                    out.push((at, child(c)));
                }
            }
        }
    }
    match node {
        Cow::Borrowed(n) => pick(n, segment, at, Cow::Borrowed, out),
        Cow::Owned(n) => pick(&n, segment, at, |c| Cow::Owned(c.clone()), out),
    }
}

/// Every node the route reaches, resolving expressions on the way. The one route walker of the
/// scanner: fact specs and the conditions of user rules both go through it.
pub fn select<'a>(body: &'a Node, route: &Route, resolve: Resolve) -> Selection<'a> {
    // The route's written part is walked first without building routes: most settings a
    // resource is read for are not written, and then a key is missing on the way. The walk
    // below goes on from the first `*` or expression, with that node's resolution.
    let (mut node, mut resolved, mut start) = (body, None, route.0.len());
    for (i, segment) in route.0.iter().enumerate() {
        if matches!(segment, Segment::Key(k) if &**k == "*") {
            start = i;
            break;
        }
        match resolve(node) {
            Resolved::AsWritten => {}
            other => {
                (resolved, start) = (Some(other), i);
                break;
            }
        }
        let child = match segment {
            Segment::Key(k) => node.get(k),
            Segment::Index(i) => node.items().get(*i),
        };
        match child {
            Some(child) => node = child,
            None => {
                return Selection {
                    found: Vec::new(),
                    blocked: None,
                };
            }
        }
    }
    let mut blocked: Option<(Route, Node)> = None;
    let mut current = vec![(Route(route.0[..start].to_vec()), Cow::Borrowed(node))];
    for segment in &route.0[start..] {
        let mut next = Vec::new();
        for (at, node) in current {
            let node = match resolved.take().unwrap_or_else(|| resolve(&node)) {
                Resolved::AsWritten => node,
                Resolved::Value(value, _) => Cow::Owned(Node {
                    span: node.span,
                    ..value
                }),
                Resolved::Unknown => {
                    blocked.get_or_insert_with(|| (at, node.into_owned()));
                    continue;
                }
            };
            children(node, segment, at, &mut next);
            if next.len() > MAX_MATCHES {
                break;
            }
        }
        current = next;
    }
    let found = current
        .into_iter()
        .filter_map(|(at, node)| {
            let reached = match resolve(&node) {
                Resolved::AsWritten => Reached {
                    node,
                    known: true,
                    given_at: None,
                },
                // The value, pointing where the expression is used.
                Resolved::Value(value, given_at) => Reached {
                    node: Cow::Owned(Node {
                        span: node.span,
                        ..value
                    }),
                    known: true,
                    given_at,
                },
                Resolved::Unknown => Reached {
                    node,
                    known: false,
                    given_at: None,
                },
            };
            (!reached.node.is_null()).then_some((at, reached))
        })
        .collect();
    Selection { found, blocked }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::hcl;
    use crate::load::yaml::parse_stream;

    fn evaluate(body: &Node, fact: &str, spec: &str, resolve: Resolve) -> Option<(Node, Route)> {
        match read(body, fact, &parse_spec(spec), resolve) {
            Reading::Value(value, route, ..) => Some((value, route)),
            _ => None,
        }
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
            Some("TLS1_0")
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
    fn deploy_time_values_are_unknown_not_absent() {
        let b = body(
            "P:\n  Enc: !If [C, true, false]\n  Key: !Ref K\n  Opts: !If [C, {A: 1}, {A: 2}]\n",
        );
        let alternatives = parse_spec("P.Enc");
        assert!(matches!(
            read(&b, "encrypted", &alternatives, &literal),
            Reading::Unknown(..)
        ));
        // Blocked half-way: still unknown, so no default applies.
        assert!(matches!(
            read(&b, "encrypted", &parse_spec("P.Opts.A"), &literal),
            Reading::Unknown(..)
        ));
        // A key set by reference is a key.
        let key = evaluate(&b, "kms_key", "P.Key", &literal).unwrap();
        assert_eq!(key.0.tag.as_deref(), Some("!Ref"));
        assert!(matches!(
            read(&b, "encrypted", &parse_spec("P.Missing"), &literal),
            Reading::Absent
        ));
    }

    #[test]
    fn a_presence_test_is_true_for_a_value_or_a_reference_and_absent_otherwise() {
        let root =
            hcl::parse("named = \"alias/orders\"\nreferred = aws_kms_key.k.arn\nempty = \"\"\n")
                .unwrap();
        let tf = &terraform_resolution;
        for route in ["named", "referred"] {
            let spec = format!("{route} is set");
            let (value, at) = evaluate(&root, "encrypted", &spec, tf).unwrap();
            assert_eq!(
                (value.value, at.to_string()),
                (Value::Bool(true), route.to_string())
            );
        }
        for route in ["empty", "missing"] {
            let spec = format!("{route} is set");
            assert!(matches!(
                read(&root, "encrypted", &parse_spec(&spec), tf),
                Reading::Absent
            ));
        }
        assert_eq!(
            setting_name("Properties.KmsMasterKeyId is set"),
            "KmsMasterKeyId"
        );
    }

    #[test]
    fn a_presence_test_leaves_an_expression_that_may_give_nothing_to_the_deployment() {
        let root = hcl::parse(
            "maybe = var.on ? aws_kms_key.k.arn : null\nsure = var.on ? aws_kms_key.k.arn : aws_kms_key.j.arn\nnamed = var.nullable_key\n",
        )
        .unwrap();
        let tf = &terraform_resolution;
        assert!(matches!(
            read(&root, "encrypted", &parse_spec("maybe is set"), tf),
            Reading::Unknown(..)
        ));
        for route in ["sure", "named"] {
            let (value, _) = evaluate(&root, "encrypted", &format!("{route} is set"), tf).unwrap();
            assert_eq!(value.value, Value::Bool(true), "{route}");
        }
        let template = body(
            "Properties:\n  Key: !If [UseKey, !Ref Key, !Ref AWS::NoValue]\n  Other: !If [UseKey, !Ref Key, !Ref Spare]\n",
        );
        let intrinsics = |n: &Node| {
            if n.tag.is_some() {
                Resolved::Unknown
            } else {
                Resolved::AsWritten
            }
        };
        assert!(matches!(
            read(
                &template,
                "encrypted",
                &parse_spec("Properties.Key is set"),
                &intrinsics
            ),
            Reading::Unknown(..)
        ));
        let (value, _) = evaluate(
            &template,
            "encrypted",
            "Properties.Other is set",
            &intrinsics,
        )
        .unwrap();
        assert_eq!(value.value, Value::Bool(true));
        // No blocks at all is not set.
        let none = body("restore: []\n");
        assert!(matches!(
            read(&none, "condition", &parse_spec("restore is set"), &literal),
            Reading::Absent
        ));
    }

    #[test]
    fn a_template_whose_written_start_no_member_has_is_not_a_member() {
        let root = hcl::parse(
            "a = \"serviceAccount:${data.x.email}\"\nb = \"all${var.kind}\"\nc = \"${var.who}\"\n",
        )
        .unwrap();
        let tf = &terraform_resolution;
        let spec = |route: &str| format!("{route} in [allUsers, allAuthenticatedUsers]");
        let (value, _) = evaluate(&root, "public", &spec("a"), tf).unwrap();
        assert_eq!(value.value, Value::Bool(false));
        // A start some member has, or none at all, leaves it to the deployment.
        for route in ["b", "c"] {
            assert!(matches!(
                read(&root, "public", &parse_spec(&spec(route)), tf),
                Reading::Unknown(..)
            ));
        }
    }

    #[test]
    fn terraform_expressions() {
        let root = hcl::parse(
            "acl = \"public-read\"\nblock = false\nx = var.y\nkey = aws_kms_key.k.arn\n",
        )
        .unwrap();
        let tf = &terraform_resolution;
        assert_eq!(
            evaluate(&root, "public", "acl in [public-read]", tf)
                .unwrap()
                .0
                .value,
            Value::Bool(true)
        );
        assert_eq!(
            evaluate(&root, "public", "!block", tf).unwrap().0.value,
            Value::Bool(true)
        );
        assert!(matches!(
            read(&root, "public", &parse_spec("!x"), tf),
            Reading::Unknown(..)
        ));
        assert!(matches!(
            read(&root, "public", &parse_spec("x in [a]"), tf),
            Reading::Unknown(..)
        ));
        assert!(evaluate(&root, "kms_key", "key", tf).is_some());
    }

    /// A route missing through written nodes finds nothing and is not blocked; an expression
    /// on the way blocks it; a wildcard reaches. Each node on the way is resolved once.
    #[test]
    fn a_route_missing_through_written_nodes_is_absent_and_only_then() {
        let b = body("A:\n  B: [{C: 1}]\n  T: !Ref X\n  M: {k: {C: 2}}\n");
        let resolved = std::cell::Cell::new(0);
        let counting = |node: &Node| {
            resolved.set(resolved.get() + 1);
            literal(node)
        };
        // Route, found, blocked, nodes resolved.
        let cases = [
            ("A.Z", 0, false, 2),
            ("A.B[3].C", 0, false, 3),
            ("A.B[0].Z", 0, false, 4),
            ("Z.B", 0, false, 1),
            ("A.B[0].C", 1, false, 5),
            // An expression on the way: the walk reports it as blocked.
            ("A.T.C", 0, true, 3),
            ("A.M.*.C", 1, false, 5),
            ("A.M.*.Z", 0, false, 4),
        ];
        for (route, found, blocked, nodes) in cases {
            resolved.set(0);
            let selection = select(&b, &Route::parse(route), &counting);
            assert_eq!(selection.found.len(), found, "{route}");
            assert_eq!(selection.blocked.is_some(), blocked, "{route}");
            assert_eq!(resolved.get(), nodes, "{route}");
        }
        let reached = select(&b, &Route::parse("A.M.*.C"), &literal);
        assert_eq!(reached.found[0].0.to_string(), "A.M.k.C");
        let reached = select(&b, &Route::parse("A.B[0].C"), &literal);
        assert_eq!(reached.found[0].0.to_string(), "A.B[0].C");
    }

    #[test]
    fn wildcards_reach_every_item_and_map_value() {
        let root =
            hcl::parse("r {\n  g { location = \"a\" }\n  g { location = \"b\" }\n}\n").unwrap();
        let body = root.path("r").unwrap();
        let found = select(body, &Route::parse("g[*].location"), &as_written);
        let texts: Vec<_> = found
            .found
            .iter()
            .filter_map(|(_, n)| n.node.as_str())
            .collect();
        assert_eq!(texts, ["a", "b"]);
        assert_eq!(found.found[1].0.to_string(), "g[1].location");
        let map = body_map();
        let values = select(&map, &Route::parse("m.*"), &as_written);
        assert_eq!(values.found.len(), 2);
    }

    fn body_map() -> Node {
        body("m: {a: 1, b: 2}\n")
    }
}
