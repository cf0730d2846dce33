//! Azure Resource Manager templates into resources: parameters files paired by name, nested
//! inline templates and linked templates of the same folder followed, child resources named by
//! their parent. Locations come from literals, parameters or variables; `[resourceGroup().location]`
//! stays unknown unless `--deploy-region` says, and blocks once per place it is written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::ExtractOptions;
use super::arm_files::{
    ParameterFiles, inherit_from_parents, is_parameters_file, link_target, linked_paths, normalize,
    supplied_by_file,
};
use super::arm_scope::{Supplied, TemplateScope};
use super::cloud_resource::{self, Identity};
use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format};
use crate::location::Location;
use crate::model::Resource;
use crate::tree::{Node, Route};

const MAX_NESTING: usize = 8;

/// Every ARM document of the scan: templates and their parameters files.
pub fn extract(
    documents: &[&Document],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Vec<Resource> {
    extract_counted(documents, kb, options).0
}

/// Every ARM resource, and how many a `condition` that is false leaves out. A resource whose
/// condition cannot be decided is kept with the note `if <condition>`.
pub fn extract_counted(
    documents: &[&Document],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> (Vec<Resource>, usize) {
    let (parameter_files, templates): (Vec<&Document>, Vec<&Document>) = documents
        .iter()
        .copied()
        .partition(|d| is_parameters_file(&d.root));
    let by_path: BTreeMap<PathBuf, &Document> = templates
        .iter()
        .map(|d| (normalize(Path::new(&*d.path)), *d))
        .collect();
    let linked: BTreeSet<PathBuf> = templates
        .par_iter()
        .flat_map_iter(|d| linked_paths(d))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let walker = Walker {
        by_path: &by_path,
        kb,
        deploy_region: cloud_resource::deploy_region_for("azure", &options.deploy_regions, kb)
            .map(str::to_string),
        not_created: AtomicUsize::new(0),
        resolve_trees: options.resolve_trees,
    };
    let pairs = ParameterFiles::new(
        templates.iter().map(|d| &*d.path),
        parameter_files.iter().map(|d| &*d.path),
    );
    let parameters_at: HashMap<&str, &Document> =
        parameter_files.iter().map(|d| (&*d.path, *d)).collect();
    let mut out: Vec<Resource> = templates
        .par_iter()
        // A linked template is read through its parent, which passes its parameters.
        .filter(|template| !linked.contains(&normalize(Path::new(&*template.path))))
        .flat_map_iter(|template| {
            let mut scope = walker.scope(template, &template.root, Route::root());
            if let Some(parameters) = pairs
                .of(&template.path)
                .and_then(|path| parameters_at.get(path))
            {
                scope.supplied = supplied_by_file(parameters);
            }
            let mut out = Vec::new();
            walker.template(&scope, 0, &mut out);
            out
        })
        .collect();
    inherit_from_parents(&mut out);
    (out, walker.not_created.load(Ordering::Relaxed))
}

struct Walker<'a> {
    by_path: &'a BTreeMap<PathBuf, &'a Document>,
    kb: &'a KnowledgeBase,
    deploy_region: Option<String>,
    /// Resources left out by a `condition` that is false.
    not_created: AtomicUsize,
    /// `ExtractOptions::resolve_trees`.
    resolve_trees: bool,
}

/// A resource's parent, for child types and names (`storageAccounts` → `…/blobServices`).
struct Parent {
    kind: String,
    name: String,
}

impl<'a> Walker<'a> {
    fn scope(&self, doc: &'a Document, template: &'a Node, route: Route) -> TemplateScope<'a> {
        TemplateScope::new(doc, template, route, self.deploy_region.clone())
    }

    fn template(&self, scope: &TemplateScope<'a>, depth: usize, out: &mut Vec<Resource>) {
        let Some(entry) = scope.template.entry("resources") else {
            return;
        };
        let key_route = Route::root().key("resources");
        let template_location = Location::new(
            &scope.doc.path,
            scope.doc.index,
            entry.key_span,
            &scope.route.join(&key_route),
        );
        self.resources(
            scope,
            &entry.value,
            &key_route,
            None,
            &template_location,
            depth,
            out,
        );
    }

    /// A `resources` array, or the symbolic-name map of language version 2.0.
    #[allow(clippy::too_many_arguments)]
    fn resources(
        &self,
        scope: &TemplateScope<'a>,
        list: &'a Node,
        route: &Route,
        parent: Option<&Parent>,
        template_location: &Location,
        depth: usize,
        out: &mut Vec<Resource>,
    ) {
        let items: Vec<(Option<&str>, &'a Node, Route)> = if list.is_map() {
            list.entries()
                .iter()
                .map(|e| (Some(e.key.as_str()), &e.value, route.key(&e.key)))
                .collect()
        } else {
            list.items()
                .iter()
                .enumerate()
                .map(|(i, n)| (None, n, route.index(i)))
                .collect()
        };
        for (symbolic, node, node_route) in items {
            if node.get("existing").and_then(Node::as_bool) == Some(true) {
                continue;
            }
            let Some(raw_type) = node.get("type").and_then(Node::as_str) else {
                continue;
            };
            let kind = match parent {
                Some(p) if !raw_type.contains('.') => format!("{}/{raw_type}", p.kind),
                _ => raw_type.to_string(),
            };
            let raw_name = node.get("name");
            let evaluated_name = raw_name
                .and_then(|n| scope.resolve(n))
                .and_then(|n| n.scalar_text());
            let mut name = evaluated_name
                .or_else(|| symbolic.map(str::to_string))
                .or_else(|| raw_name.and_then(Node::scalar_text))
                .unwrap_or_else(|| "<unnamed>".into());
            if let Some(p) = parent
                && !name.contains('/')
            {
                name = format!("{}/{name}", p.name);
            }
            let condition = node.get("condition").map(|c| {
                let route = node_route.key("condition");
                let known = scope.resolve(c).and_then(|v| v.as_bool());
                let written = c.scalar_text().unwrap_or_else(|| "…".into());
                (known, written, scope.locate(c, &route))
            });
            if matches!(condition, Some((Some(false), _, _))) {
                self.not_created.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if kind.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
                if depth < MAX_NESTING {
                    self.deployment(scope, node, &node_route, depth, out);
                }
                continue;
            }
            let mut resource =
                self.resource(scope, node, &node_route, &kind, &name, template_location);
            if let Some((None, written, location)) = condition {
                resource.note_created_if(format!("if {written}"), location);
            }
            out.push(resource);
            if let Some(children) = node.get("resources") {
                let me = Parent { kind, name };
                self.resources(
                    scope,
                    children,
                    &node_route.key("resources"),
                    Some(&me),
                    template_location,
                    depth,
                    out,
                );
            }
        }
    }

    fn resource(
        &self,
        scope: &TemplateScope<'a>,
        node: &Node,
        route: &Route,
        kind: &str,
        name: &str,
        template_location: &Location,
    ) -> Resource {
        let id = Identity {
            kind: kind.to_string(),
            name: name.to_string(),
            address: format!("{kind}/{name}"),
            default_provider: "azure",
        };
        let mut resource = cloud_resource::resource(
            scope.doc,
            Format::Arm,
            id,
            node.clone(),
            scope.route.join(route),
            self.kb,
        );
        resource.api_version = node
            .get("apiVersion")
            .and_then(Node::as_str)
            .map(str::to_string);
        resource.labels =
            cloud_resource::tags(node.get("tags").and_then(|t| scope.resolve(t)).as_ref());
        // Where the service keeps its data: `location`, unless the knowledge names another
        // setting for it.
        let location_route = self
            .kb
            .services
            .of(&resource)
            .and_then(|s| s.arm_location.as_deref())
            .map_or_else(|| Route::root().key("location"), Route::parse);
        if let Some(location_node) = node.at(&location_route) {
            let written = resource.locate(location_node, &location_route);
            let evaluated = scope.evaluate(location_node);
            match (evaluated.result, evaluated.origin) {
                (Ok(value), origin) => {
                    if let Some(text) = value.scalar_text() {
                        let inherited = origin.is_some();
                        let at = origin.unwrap_or(written);
                        resource.region = Some(cloud_resource::region_fact(
                            "azure", &text, at, inherited, self.kb,
                        ));
                    }
                }
                (Err(unknown), _) => {
                    // Written on the resource itself, the blocker is the template's; through a
                    // parameter or variable, it is that parameter's default.
                    let blocker = location_node
                        .scalar_text()
                        .filter(|_| evaluated.blocked_at.is_none());
                    let (text, at) = match (blocker, evaluated.blocked_at) {
                        // A budget stopped evaluation: name it where the expression is written.
                        (Some(_), None) if crate::limits::is_limit(&unknown.0) => {
                            (format!("[{}]", unknown.0), written)
                        }
                        (Some(text), None) => (text, template_location.clone()),
                        (_, Some(at)) => (format!("[{}]", unknown.0), at),
                        (None, None) => (format!("[{}]", unknown.0), template_location.clone()),
                    };
                    resource.unresolved_region = Some(cloud_resource::unresolved(text, at));
                }
            }
        }
        cloud_resource::read_facts(&mut resource, self.kb, &|n| scope.resolution(n));
        if self.resolve_trees {
            super::facts::resolve_in_place(&mut resource.body, &|n| scope.resolution(n));
        }
        resource
    }

    /// `Microsoft.Resources/deployments`: an inline template, or a linked one in the same folder.
    fn deployment(
        &self,
        outer: &TemplateScope<'a>,
        node: &'a Node,
        route: &Route,
        depth: usize,
        out: &mut Vec<Resource>,
    ) {
        let Some(properties) = node.get("properties") else {
            return;
        };
        let inner_scope = properties
            .path("expressionEvaluationOptions.scope")
            .and_then(Node::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        let passed = || -> BTreeMap<String, Supplied> {
            let mut supplied = BTreeMap::new();
            for entry in properties
                .get("parameters")
                .map(Node::entries)
                .unwrap_or_default()
            {
                let Some(value) = entry.value.get("value") else {
                    continue;
                };
                let written = outer.locate(
                    value,
                    &route
                        .key("properties")
                        .key("parameters")
                        .key(&entry.key)
                        .key("value"),
                );
                let evaluated = outer.evaluate(value);
                let given = match evaluated.result {
                    Ok(v) => Supplied::Known(v, evaluated.origin.unwrap_or(written)),
                    Err(u) => Supplied::Blocked(u, evaluated.blocked_at.unwrap_or(written)),
                };
                supplied.insert(entry.key.clone(), given);
            }
            supplied
        };
        if let Some(template) = properties.get("template") {
            let template_route = outer.route.join(&route.key("properties").key("template"));
            if inner_scope {
                let mut scope = self.scope(outer.doc, template, template_route);
                scope.supplied = passed();
                self.template(&scope, depth + 1, out);
            } else {
                // Outer scope: the nested template's expressions read the parent's values.
                let mut scope = self.scope(outer.doc, outer.template, outer.route.clone());
                scope.supplied = outer.supplied.clone();
                let Some(entry) = template.entry("resources") else {
                    return;
                };
                let list_route = route.key("properties").key("template").key("resources");
                let at = Location::new(
                    &outer.doc.path,
                    outer.doc.index,
                    entry.key_span,
                    &outer.route.join(&list_route),
                );
                self.resources(&scope, &entry.value, &list_route, None, &at, depth + 1, out);
            }
            return;
        }
        let folder = Path::new(&*outer.doc.path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let Some(target) = properties.get("templateLink").and_then(link_target) else {
            return;
        };
        if let Some(doc) = self.by_path.get(&normalize(&folder.join(target))) {
            let mut scope = self.scope(doc, &doc.root, Route::root());
            scope.supplied = passed();
            self.template(&scope, depth + 1, out);
        }
    }
}
