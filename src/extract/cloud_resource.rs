//! What every cloud-template extractor shares: a resource skeleton filled from the resource-type
//! table, tags as labels, and the region fact built from a literal or a deploy-time blocker.

use super::facts::{self, FactSource, Resolve};
use crate::knowledge::KnowledgeBase;
use crate::knowledge::services::Dialect;
use crate::load::{Document, Format};
use crate::location::Location;
use crate::model::{Labels, RegionFact, Resource, UnresolvedRegion};
use crate::tree::{Node, Route};

/// Identity of one cloud resource inside its document.
pub struct Identity {
    pub kind: String,
    pub name: String,
    pub address: String,
    /// Provider assumed when the type is missing from the table (`aws`, `azure`).
    pub default_provider: &'static str,
}

/// A resource of a cloud template or export, with the facts the type table gives.
pub fn resource(
    doc: &Document,
    format: Format,
    id: Identity,
    body: Node,
    route: Route,
    kb: &KnowledgeBase,
) -> Resource {
    let known = kb.services.lookup(format, &id.kind);
    Resource {
        format,
        path: doc.path.clone(),
        document: doc.index,
        kind: id.kind,
        api_version: None,
        name: id.name,
        namespace: None,
        address: id.address,
        provider: Some(known.map_or(id.default_provider.to_string(), |t| t.provider.clone())),
        service: known.map(|t| t.service.clone()),
        service_id: known.map(|t| t.id.clone()),
        category: known.and_then(|t| t.category.clone()),
        data_holding: known.is_some_and(|t| t.data_holding),
        region: None,
        unresolved_region: None,
        body,
        route,
        labels: Labels::default(),
        facts: Default::default(),
        related: Vec::new(),
        settled: None,
        unevaluated: Vec::new(),
    }
}

/// Reads the facts of the resource's service, with template expressions resolved by `resolve`.
pub fn read_facts(resource: &mut Resource, kb: &KnowledgeBase, resolve: Resolve) {
    let Some(service) = kb.services.of(resource) else {
        return;
    };
    let mut source = FactSource::new(service, Dialect::of(resource.format));
    source.api_version = resource.api_version.clone();
    facts::apply(resource, &source, resolve);
}

/// Tags as labels: a `{key: value}` map, or a list of `{Key, Value}` / `{key, value}` pairs.
pub fn tags(node: Option<&Node>) -> Labels {
    let Some(node) = node else {
        return Labels::default();
    };
    let entries = node
        .entries()
        .iter()
        .filter_map(|e| e.value.scalar_text().map(|v| (e.key.clone(), v)));
    let items = node.items().iter().filter_map(|item| {
        let key = item
            .get("Key")
            .or_else(|| item.get("key"))
            .and_then(Node::scalar_text);
        let value = item
            .get("Value")
            .or_else(|| item.get("value"))
            .and_then(Node::scalar_text);
        Some((key?, value?))
    });
    // Of pairs with the same key, the last stays.
    entries.chain(items).collect()
}

/// A region value written somewhere, resolved through the knowledge base.
pub fn region_fact(
    provider: &str,
    value: &str,
    location: Location,
    inherited: bool,
    kb: &KnowledgeBase,
) -> Box<RegionFact> {
    Box::new(RegionFact {
        value: value.to_string(),
        location,
        inherited,
        resolved: kb.resolve_region(provider, value),
    })
}

/// The `--deploy-region` that applies to a provider: the first one its region table knows, so
/// `--deploy-region eu-central-1 --deploy-region germanywestcentral` serves AWS and Azure
/// templates alike; the first one when the provider knows none (reported as unknown).
pub fn deploy_region_for<'r>(
    provider: &str,
    deploy_regions: &'r [String],
    kb: &KnowledgeBase,
) -> Option<&'r str> {
    deploy_regions
        .iter()
        .find(|r| kb.resolve_region(provider, r).is_some())
        .or_else(|| deploy_regions.first())
        .map(String::as_str)
}

/// The region given by `--deploy-region`, for resources whose templates leave it open.
pub fn deploy_region(
    provider: &str,
    deploy_regions: &[String],
    at: &Location,
    kb: &KnowledgeBase,
) -> Option<Box<RegionFact>> {
    let value = deploy_region_for(provider, deploy_regions, kb)?;
    Some(region_fact(provider, value, at.clone(), true, kb))
}

pub fn unresolved(blocker: impl Into<String>, location: Location) -> Box<UnresolvedRegion> {
    Box::new(UnresolvedRegion {
        blocker: blocker.into(),
        location,
    })
}
