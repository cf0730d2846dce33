//! Which ARM files belong together and where children live: parameters files paired with their
//! template, linked templates found in the scanned folders, child resources placed with their parent.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use super::arm_expressions::Unknown;
use super::arm_scope::Supplied;
use crate::load::Document;
use crate::location::Location;
use crate::model::{RegionFact, Resource, UnresolvedRegion};
use crate::tree::{Node, Route};

pub fn is_parameters_file(root: &Node) -> bool {
    root.get("$schema")
        .and_then(Node::as_str)
        .is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters"))
}

/// Lexically normalised path (`a/./b/../c.json` → `a/c.json`), to match links to loaded files.
pub fn normalize(path: &Path) -> PathBuf {
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
pub fn linked_paths(doc: &Document) -> Vec<PathBuf> {
    let folder = Path::new(&*doc.path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out = Vec::new();
    // Only the nodes matter, not where they are: no route is built on the way.
    let mut pending = vec![&doc.root];
    while let Some(node) = pending.pop() {
        if let Some(link) = node.get("templateLink")
            && let Some(target) = link_target(link)
        {
            out.push(normalize(&folder.join(target)));
        }
        pending.extend(node.entries().iter().rev().map(|e| &e.value));
        pending.extend(node.items().iter().rev());
    }
    out
}

pub fn link_target(link: &Node) -> Option<String> {
    target(
        link.get("relativePath").and_then(Node::as_str),
        link.get("uri").and_then(Node::as_str),
    )
}

/// A link's target: its `relativePath`, or else the last literal `'….json'` of its `uri`.
pub fn target(relative: Option<&str>, uri: Option<&str>) -> Option<String> {
    if let Some(relative) = relative {
        return Some(relative.to_string());
    }
    let literal = uri?.split('\'').rfind(|part| part.ends_with(".json"))?;
    Some(literal.trim_start_matches('/').to_string())
}

/// Parameters files by folder, to pair each template with its own in one look-up.
pub struct ParameterFiles<'a> {
    /// Folder → (paths of the parameters files in it, number of templates in it).
    by_folder: HashMap<Option<&'a Path>, (Vec<&'a str>, usize)>,
}

impl<'a> ParameterFiles<'a> {
    /// Pairs among the given template and parameters file paths.
    pub fn new(
        templates: impl IntoIterator<Item = &'a str>,
        files: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut by_folder: HashMap<Option<&'a Path>, (Vec<&'a str>, usize)> = HashMap::new();
        for file in files {
            by_folder
                .entry(Path::new(file).parent())
                .or_default()
                .0
                .push(file);
        }
        for template in templates {
            if let Some(entry) = by_folder.get_mut(&Path::new(template).parent()) {
                entry.1 += 1;
            }
        }
        ParameterFiles { by_folder }
    }

    /// The path of a template's parameters file: `X.parameters.json` belongs to `X.json`;
    /// otherwise a folder's only parameters file belongs to its only template.
    pub fn of(&self, template: &str) -> Option<&'a str> {
        let path = Path::new(template);
        let (files, templates) = self.by_folder.get(&path.parent())?;
        let stem = path.file_name()?.to_str()?.strip_suffix(".json")?;
        let named = format!("{stem}.parameters.json");
        if let Some(file) = files
            .iter()
            .find(|f| Path::new(f).file_name().and_then(|n| n.to_str()) == Some(&named))
        {
            return Some(file);
        }
        match (files.as_slice(), templates) {
            ([only], 1) => Some(only),
            _ => None,
        }
    }
}

pub fn supplied_by_file(file: &Document) -> BTreeMap<String, Supplied> {
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
            let unknown = Unknown("a Key Vault reference".into());
            out.insert(
                entry.key.clone(),
                Supplied::Blocked(unknown, at(reference, &route.key("reference"))),
            );
        }
    }
    out
}

/// A parent's region, or what blocks it.
type Placement = (Option<Box<RegionFact>>, Option<Box<UnresolvedRegion>>);

/// Child resources without their own `location` live where their parent does.
pub fn inherit_from_parents(resources: &mut [Resource]) {
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
