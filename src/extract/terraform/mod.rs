//! Terraform into resources. The `*.tf` and `*.tfvars` files of one folder form a module whose
//! variables, locals and provider blocks are shared; plan JSON documents stand alone.

mod dynamic;
mod installed;
mod kubernetes;
mod module;
mod overrides;
pub mod plan;
mod region;

use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use module::{COUNT_INDEX, EACH_KEY, EACH_VALUE, Eval, Inputs, Known, Module, ModuleCall, Placed};
use region::{CallContext, Calls, Given, ModuleIndex, Resolver};

use crate::extract::ExtractOptions;
use crate::extract::cloud::{self, ResourceSite, provider_local_name};
use crate::extract::facts::Resolved;
use crate::knowledge::KnowledgeBase;
use crate::load::hcl::{EXPR_TAG, expression_text};
use crate::load::{Document, Format, Skipped};
use crate::location::Location;
use crate::model::{RegionFact, Resource, UnresolvedRegion};
use crate::tree::{Node, Route, Value};
pub use region::Resolution;

/// Deepest chain of local module calls followed (root → child → grandchild …).
const MAX_MODULE_DEPTH: usize = 8;

/// Arguments of a module block that are not variables of the called module.
const META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "depends_on",
];

/// One instance of a module folder: the root, or a call of it with the caller's values.
struct Instance {
    folder: String,
    /// The root module folder the instance is deployed from, and its call key there (`a.b`,
    /// empty for the root), as `.terraform/modules/modules.json` names installed modules.
    root: String,
    key: String,
    /// `module.a.module.b.` for a module called from a called module.
    prefix: String,
    context: CallContext,
    depth: usize,
    /// Conditions on the calls leading here that the scan cannot decide (`count unknown`).
    notes: Vec<(String, Location)>,
}

/// `folder` joined with a local module source (`../../modules/db`), normalised; `None` for
/// registry, git and other remote sources.
fn local_target(folder: &str, source: &str) -> Option<String> {
    if !(source.starts_with("./") || source.starts_with("../")) {
        return None;
    }
    let absolute = folder.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in folder.split(['/', '\\']).chain(source.split('/')) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    Some(if absolute {
        format!("/{joined}")
    } else {
        joined
    })
}

pub(crate) fn folder_of(path: &str) -> String {
    let folder = path.rfind(['/', '\\']).map_or("", |i| &path[..i]);
    // `./main.tf` and `main.tf` are in the same folder.
    local_target(folder, "./").unwrap_or_default()
}

/// The folders a Terraform document's local module calls name: with the document's own
/// folder (`folder_of`), what joins module folders into the units that are extracted together
/// (`crate::extract::units`).
pub fn outline(doc: &Document) -> Vec<String> {
    let folder = folder_of(&doc.path);
    doc.root
        .get("module")
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|call| call.value.get("source").and_then(Node::as_str))
        .filter_map(|source| local_target(&folder, source))
        .collect()
}

/// The folders a Terraform file may call as local modules, read from its text without
/// parsing it: every `source = "./…"` or `"../…"` written, wherever it stands (in a
/// `module` block or not, or in a comment). That is a superset of `outline` of the parsed
/// file, and joining folders into units needs no more: a folder joined that no module calls
/// is extracted as it would be on its own. `None` when a source holds an escape, which only
/// the parser reads.
pub fn outline_text(path: &str, text: &str) -> Option<Vec<String>> {
    let folder = folder_of(path);
    let in_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut calls = Vec::new();
    for (at, name) in text.match_indices("source") {
        if at > 0 && in_name(text.as_bytes()[at - 1]) {
            continue;
        }
        let rest = text[at + name.len()..].trim_start_matches([' ', '\t']);
        let Some(rest) = rest.strip_prefix('=').filter(|r| !r.starts_with('=')) else {
            continue;
        };
        let Some(rest) = rest.trim_start_matches([' ', '\t']).strip_prefix('"') else {
            continue;
        };
        let value = &rest[..rest.find(['"', '\n']).unwrap_or(rest.len())];
        if value.contains('\\') {
            return None;
        }
        calls.extend(local_target(&folder, value));
    }
    Some(calls)
}

/// The module folders `terraform init` installed for a folder, by call key.
pub fn installed_modules(folder: &str) -> Vec<(String, String)> {
    installed::manifest(folder)
}

/// Resources of every Terraform module folder among the documents. A folder called by a
/// scanned module through a local `source` is extracted once per call, with the caller's
/// variable values and providers, and addressed `module.<call>.<type>.<name>`.
pub fn extract(documents: &[&Document], kb: &KnowledgeBase, options: &ExtractOptions) -> Extracted {
    let scanned: BTreeSet<String> = documents.iter().map(|d| folder_of(&d.path)).collect();
    let scanned_list: Vec<&str> = scanned.iter().map(String::as_str).collect();
    let installed = installed::read(scanned.iter().map(String::as_str), &scanned_list);
    let mut folders: BTreeMap<String, Vec<&Document>> = BTreeMap::new();
    for doc in documents.iter().copied().chain(installed.documents.iter()) {
        folders.entry(folder_of(&doc.path)).or_default().push(doc);
    }
    for docs in folders.values_mut() {
        docs.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let merged: BTreeMap<String, Vec<std::borrow::Cow<'_, Document>>> = folders
        .into_iter()
        .map(|(folder, docs)| {
            let merged = overrides::merge(&docs);
            (folder, merged)
        })
        .collect();
    let modules: BTreeMap<&str, Module> = merged
        .iter()
        .map(|(folder, docs)| {
            let docs: Vec<&Document> = docs.iter().map(AsRef::as_ref).collect();
            (folder.as_str(), Module::new(&docs))
        })
        .collect();
    let mut called: BTreeSet<String> = modules
        .iter()
        .flat_map(|(folder, m)| {
            m.calls
                .iter()
                .filter_map(|c| local_target(folder, &c.source))
                .filter(|t| t != folder && modules.contains_key(t.as_str()))
                .collect::<Vec<_>>()
        })
        .collect();
    called.extend(installed.dirs.values().cloned());
    let roots: Vec<&str> = modules
        .keys()
        .copied()
        .filter(|f| !called.contains(*f))
        .collect();
    let var_files: Vec<Document> = options
        .var_files
        .iter()
        .flat_map(|p| crate::load::load_file(std::path::Path::new(p)).documents)
        .collect();
    let walker = Walker {
        modules: &modules,
        installed: &installed,
        kb,
        options,
    };
    // Root modules are independent of each other: each is extracted on its own core, and the
    // results are joined in root order.
    let runs: Vec<Extracted> = roots
        .par_iter()
        .map(|&root| {
            let mut out = Extracted::default();
            let Some(module) = modules.get(root) else {
                return out;
            };
            let docs: Vec<&Document> = merged
                .get(root)
                .map(|d| d.iter().map(AsRef::as_ref).collect())
                .unwrap_or_default();
            if !var_files.is_empty() {
                // `--var-file` as in `terraform plan -var-file`: those values, in order.
                let mut given = Module::new(&docs);
                for file in &var_files {
                    given.add_values(file);
                }
                walker.run(root, &given, &mut out);
            } else if module.environments.is_empty() {
                walker.run(root, module, &mut out);
            } else {
                let mut runs = Vec::new();
                for env in &module.environments {
                    let mut deployed = Module::new(&docs);
                    deployed.add_values(env);
                    let mut one = Extracted::default();
                    walker.run(root, &deployed, &mut one);
                    let name = env.path.rsplit(['/', '\\']).next().unwrap_or(&env.path);
                    runs.push((name.to_string(), one));
                }
                merge_environments(runs, &mut out);
            }
            out
        })
        .collect();
    let mut out = Extracted::default();
    for run in runs {
        out.resources.extend(run.resources);
        out.not_created += run.not_created;
        out.unresolved.extend(run.unresolved);
    }
    for resource in &out.resources {
        out.unresolved.extend(kubernetes::unread(resource));
    }
    out
}

/// What every root module instance reads: the scanned and installed module folders.
struct Walker<'w, 'a> {
    modules: &'w BTreeMap<&'w str, Module<'a>>,
    installed: &'w installed::Installed,
    kb: &'w KnowledgeBase,
    options: &'w ExtractOptions,
}

impl Walker<'_, '_> {
    /// The resources of one root module and every module it calls, into `out`.
    fn run(&self, root: &str, root_module: &Module<'_>, out: &mut Extracted) {
        let (modules, installed, kb, options) =
            (self.modules, self.installed, self.kb, self.options);
        let mut queue: VecDeque<Instance> = VecDeque::new();
        queue.push_back(Instance {
            folder: root.to_string(),
            root: root.to_string(),
            key: String::new(),
            prefix: String::new(),
            context: CallContext::default(),
            depth: 0,
            notes: Vec::new(),
        });
        while let Some(instance) = queue.pop_front() {
            let module: &Module<'_> = if instance.depth == 0 {
                root_module
            } else {
                match modules.get(instance.folder.as_str()) {
                    Some(module) => module,
                    None => continue,
                }
            };
            let lookup = ModuleIndex::of(module);
            let calls = Calls {
                modules,
                installed,
                folder: &instance.folder,
                root: &instance.root,
                key: &instance.key,
                depth: instance.depth,
            };
            let mut resolver =
                Resolver::new(module, &lookup, kb, instance.context.clone()).following(calls);
            let first = out.resources.len();
            for (index, block) in module.resources.iter().enumerate() {
                let build = |address: String, inputs: &Inputs| {
                    let resolve =
                        |node: &Node| module_resolution(module, block.block.doc, node, inputs);
                    let mut resource = cloud::build_with(
                        ResourceSite {
                            format: Format::Terraform,
                            path: &block.block.doc.path,
                            document: block.block.doc.index,
                            type_name: &block.type_name,
                            name: &block.name,
                            address,
                            body: dynamic::expanded(
                                module,
                                block.block.doc,
                                block.block.node,
                                &block.route,
                                inputs,
                            ),
                            route: block.route.clone(),
                        },
                        kb,
                        &resolve,
                    );
                    if let Some(object) = kubernetes::object(
                        &block.type_name,
                        &resource.path,
                        resource.document,
                        (&resource.body, &resource.route),
                        (&resource.address, &block.name),
                        &resolve,
                        kb,
                    ) {
                        return object;
                    }
                    if options.resolve_trees {
                        super::facts::resolve_in_place(&mut resource.body, &resolve);
                    }
                    resource
                };
                let address = format!("{}{}.{}", instance.prefix, block.type_name, block.name);
                match instances(module, block.block, &block.route, &instance.context.inputs) {
                    Instances::NotCreated => out.not_created += 1,
                    Instances::Single => {
                        let mut resource = build(address, &instance.context.inputs);
                        apply_region(&mut resource, resolver.resolve(index), kb, options);
                        out.resources.push(resource);
                    }
                    Instances::Unknown { note, location } => {
                        let mut resource = build(address, &instance.context.inputs);
                        apply_region(&mut resource, resolver.resolve(index), kb, options);
                        resource.note_created_if(note, location);
                        out.resources.push(resource);
                    }
                    Instances::Each(keys) => {
                        for (key, inputs) in keys {
                            let context = CallContext {
                                inputs: with_each(&instance.context.inputs, inputs),
                                providers: instance.context.providers.clone(),
                            };
                            let mut resource = build(format!("{address}{key}"), &context.inputs);
                            let mut own =
                                Resolver::new(module, &lookup, kb, context).following(calls);
                            apply_region(&mut resource, own.resolve(index), kb, options);
                            out.resources.push(resource);
                        }
                    }
                }
            }
            for resource in out.resources.iter_mut().skip(first) {
                for (note, location) in &instance.notes {
                    resource.note_created_if(note.clone(), location.clone());
                }
            }
            if instance.depth >= MAX_MODULE_DEPTH {
                continue;
            }
            for call in &module.calls {
                let key = if instance.key.is_empty() {
                    call.name.clone()
                } else {
                    format!("{}.{}", instance.key, call.name)
                };
                let target = call_target(
                    (modules, installed),
                    (&instance.folder, &instance.root),
                    &key,
                    &call.source,
                );
                let child = target.as_deref().and_then(|t| modules.get(t));
                // The service a call whose module is not read makes, when the knowledge names it.
                let service = match child {
                    Some(_) => None,
                    None => kb.services.of_module_source(&call.source),
                };
                let prefix = format!("{}module.{}", instance.prefix, call.name);
                let mut notes = instance.notes.clone();
                let calls: Vec<(String, Inputs)> =
                    match instances(module, call.block, &call.route, &instance.context.inputs) {
                        Instances::NotCreated => {
                            out.not_created += match child {
                                Some(child) => child.resources.len(),
                                None => usize::from(service.is_some()),
                            };
                            continue;
                        }
                        Instances::Single => {
                            vec![(format!("{prefix}."), instance.context.inputs.clone())]
                        }
                        Instances::Unknown { note, location } => {
                            notes.push((format!("module.{} {note}", call.name), location));
                            vec![(format!("{prefix}."), instance.context.inputs.clone())]
                        }
                        Instances::Each(keys) => keys
                            .into_iter()
                            .map(|(key, each)| {
                                (
                                    format!("{prefix}{key}."),
                                    with_each(&instance.context.inputs, each),
                                )
                            })
                            .collect(),
                    };
                let (Some(target), Some(child)) = (target, child) else {
                    out.unresolved.insert(unresolved_call(call));
                    for (prefix, inputs) in calls {
                        if switched_off(module, call, &inputs) {
                            out.not_created += usize::from(service.is_some());
                            continue;
                        }
                        for mut resource in call_locations(
                            module,
                            &mut resolver,
                            (call, service),
                            &prefix,
                            &inputs,
                            kb,
                            options,
                        ) {
                            for (note, location) in &notes {
                                resource.note_created_if(note.clone(), location.clone());
                            }
                            out.resources.push(resource);
                        }
                    }
                    continue;
                };
                for (prefix, inputs) in calls {
                    let context = call_context(module, &mut resolver, &inputs, call, child);
                    queue.push_back(Instance {
                        folder: target.clone(),
                        root: instance.root.clone(),
                        key: key.clone(),
                        prefix,
                        context,
                        depth: instance.depth + 1,
                        notes: notes.clone(),
                    });
                }
            }
        }
    }
}

/// The folder a module call of the module in `folder` (of the root module `root`) reads: a
/// local source among the scanned folders, or the folder `terraform init` installed for its
/// call key (`network.subnets`); never the calling folder itself.
pub(super) fn call_target(
    (modules, installed): (&BTreeMap<&str, Module<'_>>, &installed::Installed),
    (folder, root): (&str, &str),
    key: &str,
    source: &str,
) -> Option<String> {
    local_target(folder, source)
        .filter(|t| modules.contains_key(t.as_str()))
        .or_else(|| {
            installed
                .dirs
                .get(&(root.to_string(), key.to_string()))
                .cloned()
        })
        .filter(|t| t != folder)
}

/// How the facts of a resource read an expression: as the scalar the module gives it (a
/// variable's default, `*.tfvars`, the caller's input, a literal local), and as decided at
/// plan time where the files do not say (a resource's attribute, a data source). Lists and
/// maps stay as written: their parts would point into the files that hold the values.
fn module_resolution(
    module: &Module<'_>,
    doc: &Document,
    node: &Node,
    inputs: &Inputs,
) -> Resolved {
    if node.tag.as_deref() != Some(EXPR_TAG) {
        return Resolved::AsWritten;
    }
    match module.value(doc, node, &Route::root(), inputs) {
        Some(known) if !matches!(known.value.value, Value::Seq(_) | Value::Map(_)) => {
            let elsewhere = *known.location.path != *doc.path
                || known.location.start_line != node.span.start.line;
            Resolved::Value(
                Node::new(known.value.value, node.span),
                elsewhere.then_some(known.location),
            )
        }
        _ => Resolved::Unknown,
    }
}

/// One root module evaluated once per environment: a resource found alike in every
/// environment is kept once; one found in some only is kept with the environments named.
pub(crate) fn merge_environments(runs: Vec<(String, Extracted)>, out: &mut Extracted) {
    let total = runs.len();
    let mut seen: Vec<(Resource, Vec<String>)> = Vec::new();
    let mut not_created = usize::MAX;
    for (env, run) in runs {
        not_created = not_created.min(run.not_created);
        out.unresolved.extend(run.unresolved);
        for resource in run.resources {
            let same = |r: &Resource| {
                r.path == resource.path
                    && r.document == resource.document
                    && r.address == resource.address
                    && r.region.as_ref().map(|g| &g.value)
                        == resource.region.as_ref().map(|g| &g.value)
                    && r.unresolved_region.as_ref().map(|u| &u.blocker)
                        == resource.unresolved_region.as_ref().map(|u| &u.blocker)
            };
            match seen.iter_mut().find(|(r, _)| same(r)) {
                Some((_, envs)) => envs.push(env.clone()),
                None => seen.push((resource, vec![env.clone()])),
            }
        }
    }
    out.not_created += if not_created == usize::MAX {
        0
    } else {
        not_created
    };
    // Environments in which each address exists at all, whatever its region.
    let mut present: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (resource, envs) in &seen {
        *present
            .entry((resource.path.to_string(), resource.address.clone()))
            .or_default() += envs.len();
    }
    for (mut resource, envs) in seen {
        if envs.len() < total {
            let location = resource.start();
            let mut note = if envs.len() == 1 {
                format!("in environment {}", envs[0])
            } else {
                format!("in environments {}", envs.join(", "))
            };
            // Created everywhere, located differently: the note is about the location.
            let everywhere = present
                .get(&(resource.path.to_string(), resource.address.clone()))
                .is_some_and(|n| *n >= total);
            if everywhere {
                let region = resource.region.as_ref().map(|r| r.value.clone());
                let blocker = resource
                    .unresolved_region
                    .as_ref()
                    .map(|u| u.blocker.clone());
                if let Some(place) = region.or(blocker) {
                    note = format!("{place} {note}");
                }
            }
            resource.note_created_if(note, location);
        }
        out.resources.push(resource);
    }
}

/// The resources of the Terraform module folders, and what was left out.
#[derive(Debug, Default)]
pub struct Extracted {
    pub resources: Vec<Resource>,
    /// Resources whose `count` is 0 or whose `for_each` is empty, in calls that are created.
    pub not_created: usize,
    /// Module calls whose source is not among the scanned or installed folders.
    pub unresolved: BTreeSet<Skipped>,
}

/// Arguments of a module call named like a location: judged where they are written when the
/// module itself cannot be read.
fn is_location_argument(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "region",
        "regions",
        "location",
        "locations",
        "zone",
        "zones",
        "availability_zones",
        "azs",
        "default_region",
    ];
    NAMES.contains(&name)
        || ["_region", "_regions", "_location", "_locations"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

/// The skip entry of a module call that cannot be followed.
fn unresolved_call(call: &ModuleCall<'_>) -> Skipped {
    let line = call.block.node.span.start.line;
    let remote = local_target("", &call.source).is_none();
    Skipped {
        path: format!("{}:{line}", call.block.doc.path),
        reason: if remote {
            format!(
                "module \"{}\" from {} is not in the scanned files: run terraform init or scan a plan",
                call.name, call.source
            )
        } else {
            format!(
                "module \"{}\" from {} is not in the scanned files: scan that folder too, or a plan",
                call.name, call.source
            )
        },
    }
}

/// A module call that cannot be followed, seen from its arguments: one resource per literal
/// location it passes (`region = "us-central1"`), located at that argument. A registry module
/// the knowledge knows (`types: {terraform-module: [...]}`) is that service: it holds data
/// where the service does, and, when it passes no location, it is where the provider
/// configuration it is given places it (`provider "aws" { region = ... }`), unless the service
/// has no region of its own.
fn call_locations<'a>(
    module: &Module<'a>,
    resolver: &mut Resolver<'_, 'a>,
    (call, service): (
        &ModuleCall<'_>,
        Option<&crate::knowledge::services::Service>,
    ),
    prefix: &str,
    inputs: &Inputs,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Vec<Resource> {
    let mut out = Vec::new();
    let doc = call.block.doc;
    let address = prefix.trim_end_matches('.');
    for entry in call.block.node.entries() {
        if !is_location_argument(&entry.key) {
            continue;
        }
        let route = call.route.key(&entry.key);
        let mut values: Vec<(String, Location, String)> = Vec::new();
        match module.eval(doc, &entry.value, &route, inputs) {
            Eval::Literal { value, location } => {
                values.push((value, location, format!("{address}.{}", entry.key)));
            }
            _ => {
                if let Some(known) = module.value(doc, &entry.value, &route, inputs) {
                    for (i, item) in known.value.items().iter().enumerate() {
                        if let Some(value) = item.scalar_text() {
                            values.push((
                                value,
                                known.part_location(item),
                                format!("{address}.{}[{i}]", entry.key),
                            ));
                        }
                    }
                }
            }
        }
        // An empty location is one the call leaves to the module, as it leaves an argument it
        // does not pass.
        values.retain(|(value, _, _)| !value.trim().is_empty());
        for (value, location, address) in values {
            let resolution = Resolution::Region {
                value,
                location,
                inherited: false,
            };
            out.push(call_resource(
                call, address, service, resolution, kb, options,
            ));
        }
    }
    if out.is_empty()
        && let Some(service) = service.filter(|s| !s.global)
    {
        let resolution = module_provider_resolution(resolver, call);
        let address = address.to_string();
        out.push(call_resource(
            call,
            address,
            Some(service),
            resolution,
            kb,
            options,
        ));
    }
    one_per_region(out)
}

/// The resource that stands for a module call that cannot be read, placed by `resolution`.
fn call_resource(
    call: &ModuleCall<'_>,
    address: String,
    service: Option<&crate::knowledge::services::Service>,
    resolution: Resolution,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Resource {
    let doc = call.block.doc;
    let mut resource = cloud::build(
        ResourceSite {
            format: Format::Terraform,
            path: &doc.path,
            document: doc.index,
            type_name: "module",
            name: &call.name,
            address,
            body: std::borrow::Cow::Borrowed(call.block.node),
            route: call.route.clone(),
        },
        kb,
    );
    as_service(&mut resource, service);
    apply_region(&mut resource, resolution, kb, options);
    resource
}

/// Whether a module call that cannot be read is switched off by the argument registry modules
/// take for it (`create = false`, `enabled = false`), as the call's arguments give it.
fn switched_off(module: &Module<'_>, call: &ModuleCall<'_>, inputs: &Inputs) -> bool {
    ["create", "enabled"].iter().any(|name| {
        call.block.node.get(name).is_some_and(|node| {
            let route = call.route.key(name);
            matches!(
                module.eval(call.block.doc, node, &route, inputs),
                Eval::Literal { value, .. } if value == "false"
            )
        })
    })
}

/// Gives a module call's resource its service: what the service says of where it is, what it
/// holds and what it depends on. Not the service's facts and defaults: the module's arguments
/// are not the service's settings (`Resource::is_module_call`).
fn as_service(resource: &mut Resource, service: Option<&crate::knowledge::services::Service>) {
    if let Some(service) = service {
        resource.service_id = Some(service.id.clone());
        resource.provider = Some(service.provider.clone());
        resource.service = Some(service.service.clone());
        resource.category = service.category.clone();
        resource.data_holding = service.data_holding;
    }
}

/// Where the provider configuration a registry module call is given places what it makes: the
/// configuration its `providers` map passes for the module's provider (the last part of its
/// source, `terraform-aws-modules/eks/aws`), else the caller's default one. With no such
/// configuration, it is where a resource of that provider written here would be: unresolved,
/// at the call, for a regional provider (`aws`); nowhere in particular for one whose resources
/// name their own location (`azurerm`).
fn module_provider_resolution(
    resolver: &mut Resolver<'_, '_>,
    call: &ModuleCall<'_>,
) -> Resolution {
    let (root, _) = crate::knowledge::services::module_source_parts(&call.source);
    let local = root.rsplit('/').next().unwrap_or_default();
    let given = call
        .block
        .node
        .get("providers")
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .find(|e| e.key == local)
        .and_then(|e| expression_text(&e.value).or_else(|| e.value.as_str()))
        .map(str::to_string);
    let configured = match given
        .as_deref()
        .map(|g| g.split_once('.').unwrap_or((g, "")))
    {
        Some((name, alias)) => {
            resolver.provider_resolution(name, (!alias.is_empty()).then_some(alias))
        }
        None => resolver.provider_resolution(local, None),
    };
    configured.unwrap_or_else(|| {
        if region::is_regional(local) {
            let at = || call.block.location(&call.route);
            Resolution::unconfigured(resolver.knowledge(), local, at(), at)
        } else {
            Resolution::None
        }
    })
}

/// A call's locations, one per region: a zone and the region holding it (`zone =
/// "us-central1-a"`, `region = "us-central1"`) place the module once. The one written as the
/// region itself is kept; locations that resolve to no known region are all kept.
fn one_per_region(located: Vec<Resource>) -> Vec<Resource> {
    let regions: Vec<Option<(String, bool)>> = located
        .iter()
        .map(|r| {
            let fact = r.region.as_ref()?;
            let id = fact.resolved.as_ref()?.id.clone();
            let written_as_region = fact.value == id;
            Some((id, written_as_region))
        })
        .collect();
    // For each region, the location kept: the first written as the region, else the first.
    let mut kept: Vec<(&str, usize)> = Vec::new();
    for (i, region) in regions.iter().enumerate() {
        let Some((id, as_region)) = region else {
            continue;
        };
        match kept.iter_mut().find(|(k, _)| k == id) {
            None => kept.push((id, i)),
            Some((_, at)) if *as_region && !regions[*at].as_ref().is_some_and(|r| r.1) => *at = i,
            Some(_) => {}
        }
    }
    located
        .into_iter()
        .enumerate()
        .filter(|(i, _)| regions[*i].is_none() || kept.iter().any(|(_, at)| at == i))
        .map(|(_, r)| r)
        .collect()
}

/// How many instances of a resource or module call Terraform creates.
enum Instances {
    /// No `count` or `for_each`, or a count of one or more: scanned once.
    Single,
    /// `count` 0, `for_each` empty.
    NotCreated,
    /// `count`/`for_each` the scanner cannot evaluate: scanned once, with a note.
    Unknown { note: String, location: Location },
    /// `for_each` over known keys, or a known `count` the block's arguments index: the
    /// instance key as Terraform writes it (`["eu"]`, `[0]`) and what `each`/`count` is there.
    Each(Vec<(String, Inputs)>),
}

fn instances(module: &Module<'_>, block: Placed<'_>, route: &Route, inputs: &Inputs) -> Instances {
    let doc = block.doc;
    if let Some(count) = block.node.get("count") {
        let at = route.key("count");
        let known = module.value(doc, count, &at, inputs);
        return match known.as_ref().and_then(|k| k.value.as_i64()) {
            Some(n) if n <= 0 => Instances::NotCreated,
            Some(n) if n <= MAX_COUNT_INSTANCES as i64 && uses_count_index(block.node) => {
                Instances::Each(
                    (0..n)
                        .map(|i| {
                            let mut index = Inputs::new();
                            index.insert(
                                COUNT_INDEX.to_string(),
                                Eval::Literal {
                                    value: i.to_string(),
                                    location: block.location(&at),
                                },
                            );
                            (format!("[{i}]"), index)
                        })
                        .collect(),
                )
            }
            Some(_) => Instances::Single,
            None => Instances::Unknown {
                note: format!("count unknown: count = {}", written(count)),
                location: block.location(&at),
            },
        };
    }
    let Some(each) = block.node.get("for_each") else {
        return Instances::Single;
    };
    let at = route.key("for_each");
    let unknown = || Instances::Unknown {
        note: format!("count unknown: for_each = {}", written(each)),
        location: block.location(&at),
    };
    let Some(known) = module.value(doc, each, &at, inputs) else {
        return unknown();
    };
    let mut keys = Vec::new();
    match &known.value.value {
        Value::Map(entries) => {
            for entry in entries {
                if keys
                    .iter()
                    .any(|(k, _): &(String, Inputs)| *k == format!("[\"{}\"]", entry.key))
                {
                    continue;
                }
                let mut each = Inputs::new();
                each.insert(
                    EACH_KEY.to_string(),
                    Eval::Literal {
                        value: entry.key.clone(),
                        location: known.part_location(&Node::new(Value::Null, entry.key_span)),
                    },
                );
                each.insert(EACH_VALUE.to_string(), part_eval(&known, &entry.value));
                keys.push((format!("[\"{}\"]", entry.key), each));
            }
        }
        Value::Seq(items) => {
            for item in items {
                let Some(key) = item.scalar_text() else {
                    return unknown();
                };
                if keys.iter().any(|(k, _)| *k == format!("[\"{key}\"]")) {
                    continue;
                }
                let mut each = Inputs::new();
                each.insert(EACH_KEY.to_string(), part_eval(&known, item));
                each.insert(EACH_VALUE.to_string(), part_eval(&known, item));
                keys.push((format!("[\"{key}\"]"), each));
            }
        }
        _ => return unknown(),
    }
    if keys.is_empty() {
        Instances::NotCreated
    } else {
        Instances::Each(keys)
    }
}

/// Most instances a `count` is expanded to when the block uses `count.index`; beyond, the
/// block is scanned once.
const MAX_COUNT_INSTANCES: usize = 64;

/// Does an argument of the block use `count.index`?
fn uses_count_index(body: &Node) -> bool {
    let mut found = false;
    body.walk(&Route::root(), &mut |_, node| {
        if node.tag.as_deref() == Some(crate::load::hcl::EXPR_TAG)
            && node.as_str().is_some_and(|t| t.contains("count.index"))
        {
            found = true;
        }
    });
    found
}

/// A part of a known value as the evaluator's input.
pub(super) fn part_eval(known: &Known, part: &Node) -> Eval {
    let location = known.part_location(part);
    match part.scalar_text() {
        Some(value) => Eval::Literal { value, location },
        None if part.is_null() => Eval::Unset,
        None => Eval::Collection {
            value: part.clone(),
            location,
        },
    }
}

fn with_each(inputs: &Inputs, each: Inputs) -> Inputs {
    let mut all = inputs.clone();
    all.extend(each);
    all
}

/// Longest expression quoted in a note.
const MAX_NOTE_EXPRESSION: usize = 80;

/// The expression as written, on one line and shortened, for notes.
fn written(node: &Node) -> String {
    let text = expression_text(node)
        .map(str::to_string)
        .or_else(|| node.scalar_text())
        .unwrap_or_else(|| "a value that is not known".into());
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > MAX_NOTE_EXPRESSION {
        let short: String = one_line.chars().take(MAX_NOTE_EXPRESSION).collect();
        format!("{short}…")
    } else {
        one_line
    }
}

/// What a module call's argument hands to the module: a value, a resource's location, a list
/// or map known in full, or an object written in place whose members are known one by one.
fn input(
    module: &Module<'_>,
    resolver: &mut Resolver<'_, '_>,
    inputs: &Inputs,
    call: &ModuleCall<'_>,
    node: &Node,
    route: &Route,
) -> Eval {
    match module.eval(call.block.doc, node, route, inputs) {
        Eval::Reference { address } => match resolver.resolve_address(&address) {
            Some(Resolution::Region {
                value, location, ..
            }) => Eval::Literal { value, location },
            Some(Resolution::Blocked { blocker, location }) => Eval::Blocked { blocker, location },
            _ => Eval::Blocked {
                blocker: address,
                location: call.block.location(route),
            },
        },
        // A list or map (`for_each` keys, a set of regions) is handed on whole; an output of
        // another module call of the caller, as what the output comes to.
        Eval::Blocked { blocker, location } => {
            if let Some(found) =
                resolver.eval_with_known(call.block.doc, node, route, Given::over(inputs))
            {
                return found;
            }
            match module.value(call.block.doc, node, route, inputs) {
                Some(known) if !known.value.is_null() && known.value.scalar_text().is_none() => {
                    Eval::Collection {
                        value: known.value,
                        location: known.location,
                    }
                }
                // An object written here with a member known only at plan time (`{ id =
                // azurerm_log_analytics_workspace.main.id, location = var.location }`): its
                // members are handed on one by one, for the module to read the ones it can.
                None if node.is_map() => Eval::Members {
                    members: node
                        .entries()
                        .iter()
                        .map(|e| {
                            let value =
                                input(module, resolver, inputs, call, &e.value, &route.key(&e.key));
                            (e.key.clone(), value)
                        })
                        .collect(),
                    location: call.block.location(route),
                },
                // A list written here whose items are so (`replica_regions = [{ region_name =
                // "us-east-1", kms_key_arn = aws_kms_key.secondary.arn }]`): handed item by item.
                None if matches!(node.value, Value::Seq(_)) && node.tag.is_none() => Eval::Items {
                    items: node
                        .items()
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            input(module, resolver, inputs, call, item, &route.index(i))
                        })
                        .collect(),
                    location: call.block.location(route),
                },
                _ => Eval::Blocked { blocker, location },
            }
        }
        other => other,
    }
}

/// What a call passes to the called module: its arguments evaluated in the caller (a reference
/// to a caller's resource becomes that resource's location), and the caller's providers.
pub(super) fn call_context(
    module: &Module<'_>,
    resolver: &mut Resolver<'_, '_>,
    inputs: &Inputs,
    call: &ModuleCall<'_>,
    child: &Module<'_>,
) -> CallContext {
    let mut context = CallContext::default();
    for entry in call.block.node.entries() {
        if META_ARGUMENTS.contains(&entry.key.as_str()) {
            continue;
        }
        let route = call.route.key(&entry.key);
        let value = input(module, resolver, inputs, call, &entry.value, &route);
        context.inputs.insert(entry.key.clone(), value);
    }
    let split = |text: &str| -> (String, Option<String>) {
        match text.split_once('.') {
            Some((name, alias)) => (name.to_string(), Some(alias.to_string())),
            None => (text.to_string(), None),
        }
    };
    for entry in call
        .block
        .node
        .get("providers")
        .map(Node::entries)
        .unwrap_or_default()
    {
        let (child_name, child_alias) = split(&entry.key);
        let given = expression_text(&entry.value)
            .or_else(|| entry.value.as_str())
            .unwrap_or_default();
        let (name, alias) = split(given);
        if let Some(found) = resolver.provider_resolution(&name, alias.as_deref()) {
            context.providers.push((child_name, child_alias, found));
        }
    }
    // Default providers pass to a called module implicitly, and on to the modules it calls:
    // those its own resources use, and every other one the caller has.
    let mut defaults: BTreeSet<String> = child
        .resources
        .iter()
        .map(|r| provider_local_name(&r.type_name).to_string())
        .collect();
    defaults.extend(resolver.default_providers());
    for name in &defaults {
        if context
            .providers
            .iter()
            .any(|(n, a, _)| n == name && a.is_none())
        {
            continue;
        }
        if let Some(found) = resolver.provider_resolution(name, None) {
            context.providers.push((name.clone(), None, found));
        }
    }
    context
}

/// Sets a resource's region, or records what blocks it; `--deploy-region` fills in a
/// deploy-time value (the blocker stays recorded so reports can say where it came from).
pub fn apply_region(
    resource: &mut Resource,
    resolution: Resolution,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) {
    let provider = resource.provider.clone().unwrap_or_default();
    let lookup = |value: &str| {
        if provider == "openstack" || provider.is_empty() {
            kb.resolve_region_any(value)
        } else {
            kb.resolve_region(&provider, value)
        }
    };
    match resolution {
        Resolution::Region {
            value,
            location,
            inherited,
        } => {
            let resolved = lookup(&value);
            if provider == "openstack"
                && let Some(info) = &resolved
            {
                resource.provider = Some(info.provider.clone());
            }
            if inherited {
                resource.related.push(location.clone());
            }
            resource.region = Some(Box::new(RegionFact {
                value,
                location,
                inherited,
                resolved,
            }));
        }
        Resolution::Blocked { blocker, location } => {
            if let Some(deploy) = options.deploy_regions.first() {
                resource.region = Some(Box::new(RegionFact {
                    value: deploy.clone(),
                    location: location.clone(),
                    inherited: true,
                    resolved: lookup(deploy),
                }));
            }
            resource.unresolved_region = Some(Box::new(UnresolvedRegion { blocker, location }));
        }
        Resolution::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{outline, outline_text};
    use crate::load::load_bytes;

    fn parsed(path: &str, text: &str) -> Vec<String> {
        load_bytes(path, text.as_bytes())
            .documents
            .iter()
            .flat_map(outline)
            .collect()
    }

    #[test]
    fn the_text_outline_holds_every_call_the_parsed_file_makes() {
        let mut files = Vec::new();
        for root in ["fixtures", "tests"] {
            let walk = ignore::WalkBuilder::new(root).hidden(false).build();
            for entry in walk.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "tf") {
                    files.push(path.to_path_buf());
                }
            }
        }
        assert!(files.len() > 40, "{} Terraform files", files.len());
        let mut calls = 0;
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let path = file.to_string_lossy();
            let parsed = parsed(&path, &text);
            let Some(outlined) = outline_text(&path, &text) else {
                continue;
            };
            for call in &parsed {
                assert!(
                    outlined.contains(call),
                    "{path}: {call} not in {outlined:?}"
                );
            }
            calls += parsed.len();
        }
        assert!(calls >= 5, "{calls} local calls");
    }

    #[test]
    fn the_text_outline_reads_sources_however_spaced_and_nothing_else() {
        let text = concat!(
            "module \"a\" {\n  source=\"./a\"\n}\n",
            "module \"b\" {\n  source   =\t\"../shared/b\" # x\n}\n",
            "module \"r\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n",
            "data \"archive_file\" \"z\" {\n  source_dir = \"./lambda\"\n}\n",
            "locals {\n  same = var.source == \"./c\"\n  my_source = \"./d\"\n}\n",
            "# source = \"./commented\"\n",
        );
        assert_eq!(
            outline_text("live/app/main.tf", text),
            Some(vec![
                "live/app/a".to_string(),
                "live/shared/b".to_string(),
                "live/app/commented".to_string(),
            ])
        );
        assert_eq!(
            parsed("live/app/main.tf", text),
            ["live/app/a", "live/shared/b"]
        );
        // An escape is the parser's to read.
        assert_eq!(
            outline_text("m/main.tf", "module \"a\" {\n  source = \"./a\\\\b\"\n}\n"),
            None
        );
    }
}
