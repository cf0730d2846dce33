//! Azure Resource Manager templates into resources: parameters files paired by name, nested
//! inline templates and linked templates of the same folder followed, child resources named by
//! their parent. Locations come from literals, parameters or variables; `[resourceGroup().location]`
//! stays unknown unless `--deploy-region` says, and blocks once per place it is written.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use super::ExtractOptions;
use super::arm_scope::{Supplied, TemplateScope};
use super::cloud_facts::{self, SpecCache};
use super::cloud_resource::{self, Identity};
use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format};
use crate::location::Location;
use crate::model::{RegionFact, Resource, UnresolvedRegion};
use crate::tree::{Node, Route};

const MAX_NESTING: usize = 8;

/// Every ARM document of the scan: templates and their parameters files.
pub fn extract(
    documents: &[&Document],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Vec<Resource> {
    let (parameter_files, templates): (Vec<&Document>, Vec<&Document>) = documents
        .iter()
        .copied()
        .partition(|d| is_parameters_file(&d.root));
    let by_path: BTreeMap<PathBuf, &Document> = templates
        .iter()
        .map(|d| (normalize(Path::new(&*d.path)), *d))
        .collect();
    let linked: BTreeSet<PathBuf> = templates.iter().flat_map(|d| linked_paths(d)).collect();
    let walker = Walker {
        by_path: &by_path,
        kb,
        specs: RefCell::default(),
        deploy_region: cloud_resource::deploy_region_for("azure", &options.deploy_regions, kb)
            .map(str::to_string),
    };
    let mut out = Vec::new();
    for template in &templates {
        // A linked template is read through its parent, which passes its parameters.
        if linked.contains(&normalize(Path::new(&*template.path))) {
            continue;
        }
        let mut scope = walker.scope(template, &template.root, Route::root());
        if let Some(parameters) = parameters_for(template, &templates, &parameter_files) {
            scope.supplied = supplied_by_file(parameters);
        }
        walker.template(&scope, 0, &mut out);
    }
    inherit_from_parents(&mut out);
    out
}

fn is_parameters_file(root: &Node) -> bool {
    root.get("$schema")
        .and_then(Node::as_str)
        .is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters"))
}

/// Lexically normalised path (`a/./b/../c.json` → `a/c.json`), to match links to loaded files.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Files a template links to (`templateLink.relativePath`, or the last literal `'….json'`
/// of a `templateLink.uri` expression), relative to the template's folder.
fn linked_paths(doc: &Document) -> Vec<PathBuf> {
    let folder = Path::new(&*doc.path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out = Vec::new();
    doc.root.walk(&Route::root(), &mut |_, node| {
        if let Some(link) = node.get("templateLink")
            && let Some(target) = link_target(link)
        {
            out.push(normalize(&folder.join(target)));
        }
    });
    out
}

fn link_target(link: &Node) -> Option<String> {
    if let Some(relative) = link.get("relativePath").and_then(Node::as_str) {
        return Some(relative.to_string());
    }
    let uri = link.get("uri").and_then(Node::as_str)?;
    let literal = uri.split('\'').rfind(|part| part.ends_with(".json"))?;
    Some(literal.trim_start_matches('/').to_string())
}

/// `X.parameters.json` belongs to `X.json`; otherwise a folder's only parameters file belongs to
/// its only template.
fn parameters_for<'a>(
    template: &Document,
    templates: &[&Document],
    files: &[&'a Document],
) -> Option<&'a Document> {
    let path = Path::new(&*template.path);
    let folder = path.parent();
    let stem = path
        .file_name()?
        .to_str()?
        .strip_suffix(".json")?
        .to_string();
    let named = format!("{stem}.parameters.json");
    if let Some(file) = files.iter().find(|f| {
        let p = Path::new(&*f.path);
        p.parent() == folder && p.file_name().and_then(|n| n.to_str()) == Some(named.as_str())
    }) {
        return Some(file);
    }
    let in_folder = |d: &&&Document| Path::new(&*d.path).parent() == folder;
    let folder_files: Vec<_> = files.iter().filter(in_folder).collect();
    let folder_templates = templates.iter().filter(in_folder).count();
    match (folder_files.as_slice(), folder_templates) {
        ([only], 1) => Some(only),
        _ => None,
    }
}

fn supplied_by_file(file: &Document) -> BTreeMap<String, Supplied> {
    let mut out = BTreeMap::new();
    for entry in file
        .root
        .get("parameters")
        .map(Node::entries)
        .unwrap_or_default()
    {
        let route = Route::root().key("parameters").key(&entry.key);
        let at = |node: &Node, r: &Route| Location::of_node(&file.path, file.index, node, r);
        if let Some(value) = entry.value.get("value") {
            out.insert(
                entry.key.clone(),
                Supplied::Known(value.clone(), at(value, &route.key("value"))),
            );
        } else if let Some(reference) = entry.value.get("reference") {
            let unknown = super::arm_expressions::Unknown("a Key Vault reference".into());
            out.insert(
                entry.key.clone(),
                Supplied::Blocked(unknown, at(reference, &route.key("reference"))),
            );
        }
    }
    out
}

struct Walker<'a> {
    by_path: &'a BTreeMap<PathBuf, &'a Document>,
    kb: &'a KnowledgeBase,
    specs: RefCell<SpecCache>,
    deploy_region: Option<String>,
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
            if kind.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
                if depth < MAX_NESTING {
                    self.deployment(scope, node, &node_route, depth, out);
                }
                continue;
            }
            out.push(self.resource(scope, node, &node_route, &kind, &name, template_location));
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
        if let Some(location_node) = node.get("location") {
            let written = resource.locate(location_node, &Route::root().key("location"));
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
                        (Some(text), None) => (text, template_location.clone()),
                        (_, Some(at)) => (format!("[{}]", unknown.0), at),
                        (None, None) => (format!("[{}]", unknown.0), template_location.clone()),
                    };
                    resource.unresolved_region = Some(cloud_resource::unresolved(text, at));
                }
            }
        }
        if let Some(specs) = self.specs.borrow_mut().get(self.kb, kind) {
            cloud_facts::apply(&mut resource, specs, &|n| scope.resolution(n));
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

/// A parent's region, or what blocks it.
type Placement = (Option<RegionFact>, Option<UnresolvedRegion>);

/// Child resources without their own `location` live where their parent does.
fn inherit_from_parents(resources: &mut [Resource]) {
    let key = |path: &str, kind: &str, name: &str| {
        (
            path.to_string(),
            kind.to_ascii_lowercase(),
            name.to_ascii_lowercase(),
        )
    };
    let mut placed: BTreeMap<(String, String, String), Placement> = BTreeMap::new();
    // Parents first, so a grandchild (`…/sqlDatabases/containers`) finds its parent placed.
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by_key(|&i| resources[i].kind.matches('/').count());
    for i in order {
        let resource = &mut resources[i];
        let unplaced = resource.region.is_none()
            && resource.unresolved_region.is_none()
            && resource.body.get("location").is_none();
        if unplaced
            && let (Some((parent_kind, _)), Some((parent_name, _))) = (
                resource.kind.rsplit_once('/'),
                resource.name.rsplit_once('/'),
            )
            && let Some((region, unresolved)) =
                placed.get(&key(&resource.path, parent_kind, parent_name))
        {
            resource.region = region.clone().map(|mut r| {
                r.inherited = true;
                r
            });
            resource.unresolved_region = unresolved.clone();
        }
        placed.insert(
            key(&resource.path, &resource.kind, &resource.name),
            (resource.region.clone(), resource.unresolved_region.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    const TEMPLATE: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {
    "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
    "sku": {"type": "string", "defaultValue": "Standard_GRS"}
  },
  "variables": {"name": "[concat('store', 'logs')]"},
  "resources": [
    {
      "type": "Microsoft.Storage/storageAccounts",
      "name": "[variables('name')]",
      "location": "[parameters('location')]",
      "sku": {"name": "[parameters('sku')]"},
      "properties": {"allowBlobPublicAccess": true, "minimumTlsVersion": "TLS1_0"},
      "resources": [{"type": "blobServices", "name": "default"}]
    },
    {"type": "Microsoft.OperationalInsights/workspaces", "name": "logs", "location": "westus",
     "properties": {"retentionInDays": 730}},
    {"type": "Microsoft.Web/sites", "name": "app", "location": "[resourceGroup().location]"},
    {"type": "Microsoft.Resources/deployments", "name": "nested",
     "properties": {"expressionEvaluationOptions": {"scope": "inner"},
       "parameters": {"where": {"value": "[parameters('location')]"}},
       "template": {"parameters": {"where": {"type": "string"}},
         "resources": [{"type": "Microsoft.KeyVault/vaults", "name": "kv", "location": "[parameters('where')]"}]}}},
    {"type": "Microsoft.Resources/deployments", "name": "linked",
     "properties": {"templateLink": {"relativePath": "nested/db.json"}, "parameters": {"dbLocation": {"value": "japaneast"}}}}
  ]
}"#;

    const LINKED: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {"dbLocation": {"type": "string", "defaultValue": "westeurope"}},
  "resources": [{"type": "Microsoft.DocumentDB/databaseAccounts", "name": "db", "location": "[parameters('dbLocation')]",
    "properties": {"locations": [{"locationName": "westeurope"}, {"locationName": "eastus"}]}}]
}"#;

    const PARAMETERS: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "parameters": {
    "location": {"value": "germanywestcentral"}
  }
}"#;

    fn run(files: &[(&str, &str)], deploy: &[&str]) -> Vec<Resource> {
        let mut documents = Vec::new();
        for (name, text) in files {
            let outcome = load_bytes(name, text.as_bytes());
            assert!(outcome.error.is_none(), "{:?}", outcome.error);
            documents.extend(outcome.documents);
        }
        let kb = crate::knowledge::get().unwrap();
        let options = ExtractOptions {
            deploy_regions: deploy.iter().map(|s| s.to_string()).collect(),
        };
        let refs: Vec<&Document> = documents.iter().collect();
        extract(&refs, kb, &options)
    }

    fn by_name<'a>(found: &'a [Resource], name: &str) -> &'a Resource {
        found.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn template_alone_blocks_at_the_parameter_default() {
        let found = run(
            &[
                ("t/azuredeploy.json", TEMPLATE),
                ("t/nested/db.json", LINKED),
            ],
            &[],
        );
        let names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["storelogs", "storelogs/default", "logs", "app", "kv", "db"]
        );
        let store = by_name(&found, "storelogs");
        let blocker = store.unresolved_region.as_ref().unwrap();
        assert_eq!(
            (blocker.blocker.as_str(), blocker.location.start_line),
            ("[resourceGroup().location]", 4)
        );
        assert_eq!(
            store.fact("storage_replication").unwrap().value.as_str(),
            Some("GRS")
        );
        assert_eq!(store.fact("public").unwrap().value.as_bool(), Some(true));
        assert_eq!(store.fact("tls_min").unwrap().value.as_str(), Some("1.0"));
        // The child lives where its parent does.
        assert!(
            by_name(&found, "storelogs/default")
                .unresolved_region
                .is_some()
        );
        // Written on the resource itself, the blocker is the template's `resources` key.
        let app = by_name(&found, "app").unresolved_region.as_ref().unwrap();
        assert_eq!(app.location.start_line, 8);
        // The nested template receives the same blocked value.
        assert_eq!(
            by_name(&found, "kv")
                .unresolved_region
                .as_ref()
                .unwrap()
                .location
                .start_line,
            4
        );
        let logs = by_name(&found, "logs");
        assert_eq!(logs.region.as_ref().unwrap().value, "westus");
        assert_eq!(
            logs.fact("log_retention_days").unwrap().value.as_i64(),
            Some(730)
        );
        let db = by_name(&found, "db");
        assert_eq!(
            (db.region.as_ref().unwrap().value.as_str(), db.path.as_ref()),
            ("japaneast", "t/nested/db.json")
        );
        assert_eq!(db.fact("locations").unwrap().value.items().len(), 2);
    }

    #[test]
    fn parameters_file_and_deploy_region_resolve() {
        let found = run(
            &[
                ("t/azuredeploy.json", TEMPLATE),
                ("t/azuredeploy.parameters.json", PARAMETERS),
            ],
            &[],
        );
        let region = by_name(&found, "storelogs").region.as_ref().unwrap();
        assert_eq!(region.value, "germanywestcentral");
        assert!(region.inherited);
        assert_eq!(
            (region.location.path.as_ref(), region.location.start_line),
            ("t/azuredeploy.parameters.json", 4)
        );
        assert_eq!(
            by_name(&found, "kv").region.as_ref().unwrap().value,
            "germanywestcentral"
        );
        assert!(by_name(&found, "app").unresolved_region.is_some());

        // One list serves AWS and Azure templates: each takes the region its provider knows.
        let deployed = run(
            &[("t/azuredeploy.json", TEMPLATE)],
            &["eu-central-1", "westeurope"],
        );
        assert!(deployed.iter().all(|r| r.unresolved_region.is_none()));
        assert_eq!(
            by_name(&deployed, "app").region.as_ref().unwrap().value,
            "westeurope"
        );
    }
}
