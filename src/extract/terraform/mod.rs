//! Terraform into resources. The `*.tf` and `*.tfvars` files of one folder form a module whose
//! variables, locals and provider blocks are shared; plan JSON documents stand alone.

mod module;
pub mod plan;
mod region;

use std::collections::BTreeMap;

use crate::extract::ExtractOptions;
use crate::extract::cloud::{self, ResourceSite};
use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format};
use crate::model::{RegionFact, Resource, UnresolvedRegion};
pub use region::Resolution;

/// Resources of every Terraform module folder among the documents.
pub fn extract(
    documents: &[&Document],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Vec<Resource> {
    let mut folders: BTreeMap<String, Vec<&Document>> = BTreeMap::new();
    for doc in documents {
        let folder = match doc.path.rfind(['/', '\\']) {
            Some(i) => doc.path[..i].to_string(),
            None => String::new(),
        };
        folders.entry(folder).or_default().push(doc);
    }
    let mut out = Vec::new();
    for docs in folders.values_mut() {
        docs.sort_by(|a, b| a.path.cmp(&b.path));
        let module = module::Module::new(docs);
        let mut resolver = region::Resolver::new(&module, kb);
        for (index, block) in module.resources.iter().enumerate() {
            let mut resource = cloud::build(
                ResourceSite {
                    format: Format::Terraform,
                    path: &block.block.doc.path,
                    document: block.block.doc.index,
                    type_name: &block.type_name,
                    name: &block.name,
                    address: format!("{}.{}", block.type_name, block.name),
                    body: block.block.node,
                    route: block.route.clone(),
                },
                kb,
            );
            apply_region(&mut resource, resolver.resolve(index), kb, options);
            out.push(resource);
        }
    }
    out
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
            resource.region = Some(RegionFact {
                value,
                location,
                inherited,
                resolved,
            });
        }
        Resolution::Blocked { blocker, location } => {
            if let Some(deploy) = options.deploy_regions.first() {
                resource.region = Some(RegionFact {
                    value: deploy.clone(),
                    location: location.clone(),
                    inherited: true,
                    resolved: lookup(deploy),
                });
            }
            resource.unresolved_region = Some(UnresolvedRegion { blocker, location });
        }
        Resolution::None => {}
    }
}
