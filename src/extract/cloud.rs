//! A cloud resource built from its type name and body: provider, service, category and facts
//! from the resource-type table, tags as labels. Shared by Terraform HCL and plan JSON.

use std::sync::Arc;

use super::facts::{self, FactSource, Resolve, Resolved};
use crate::knowledge::KnowledgeBase;
use crate::knowledge::services::{Dialect, Service};
use crate::load::Format;
use crate::model::{Labels, Resource};
use crate::tree::{Node, Route};

/// Terraform provider local names (the type prefix before the first `_`) → provider key.
const TERRAFORM_PROVIDERS: &[(&str, &str)] = &[
    ("aws", "aws"),
    ("azurerm", "azure"),
    ("azapi", "azure"),
    ("google", "gcp"),
    ("oci", "oci"),
    ("alicloud", "alibaba"),
    ("ibm", "ibm"),
    ("ionoscloud", "ionos"),
    ("stackit", "stackit"),
    ("opentelekomcloud", "otc"),
    ("ovh", "ovh"),
    ("scaleway", "scaleway"),
    ("hcloud", "hetzner"),
    ("exoscale", "exoscale"),
    ("upcloud", "upcloud"),
    ("outscale", "outscale"),
    ("digitalocean", "digitalocean"),
    ("linode", "linode"),
    ("vultr", "vultr"),
    ("cloudflare", "cloudflare"),
    ("openstack", "openstack"),
];

/// The Terraform provider local name of a resource type (`aws` for `aws_s3_bucket`).
pub fn provider_local_name(type_name: &str) -> &str {
    type_name.split('_').next().unwrap_or(type_name)
}

/// The provider key of a Terraform provider local name (`azurerm` → `azure`).
pub fn provider_key(local_name: &str) -> Option<&'static str> {
    let local = local_name.strip_suffix("-beta").unwrap_or(local_name);
    TERRAFORM_PROVIDERS
        .iter()
        .find(|(name, _)| *name == local)
        .map(|(_, key)| *key)
}

/// Identity of a resource inside its document.
pub struct ResourceSite<'a> {
    pub format: Format,
    pub path: &'a Arc<str>,
    pub document: usize,
    pub type_name: &'a str,
    pub name: &'a str,
    pub address: String,
    /// Copied into the resource when borrowed, moved when owned.
    pub body: std::borrow::Cow<'a, Node>,
    pub route: Route,
}

/// Builds a resource with the table's facts; region fields are left for the caller.
pub fn build(site: ResourceSite<'_>, kb: &KnowledgeBase) -> Resource {
    build_with(site, kb, &facts::terraform_resolution)
}

/// Builds a resource whose facts written as expressions are read through `resolve` (the value
/// a module gives a variable or local); region fields are left for the caller.
pub fn build_with(site: ResourceSite<'_>, kb: &KnowledgeBase, resolve: Resolve) -> Resource {
    let (rtype, source) = service_of(&site, kb, resolve);
    let provider = rtype
        .map(|t| t.provider.clone())
        .or_else(|| provider_key(provider_local_name(site.type_name)).map(str::to_string));
    let labels = Labels::first_wins(["tags", "labels", "freeform_tags"].iter().flat_map(|key| {
        let entries = site.body.get(key).map(Node::entries).unwrap_or_default();
        entries
            .iter()
            .filter_map(|entry| Some((entry.key.clone(), entry.value.scalar_text()?)))
    }));
    let mut resource = Resource {
        format: site.format,
        path: Arc::clone(site.path),
        document: site.document,
        kind: site.type_name.to_string(),
        api_version: None,
        name: site.name.to_string(),
        namespace: None,
        address: site.address,
        provider,
        service: rtype.map(|t| t.service.clone()),
        service_id: rtype.map(|t| t.id.clone()),
        category: rtype.and_then(|t| t.category.clone()),
        data_holding: rtype.is_some_and(|t| t.data_holding),
        region: None,
        unresolved_region: None,
        body: site.body.into_owned(),
        route: site.route,
        labels,
        facts: Default::default(),
        related: Vec::new(),
        settled: None,
        unevaluated: Vec::new(),
    };
    if let Some(source) = source {
        resource.api_version = source.api_version.clone();
        facts::apply(&mut resource, &source, resolve);
    }
    resource
}

/// The service a Terraform resource declares, and where its facts are read. An
/// `azapi_resource` declares an ARM type (`Microsoft.Web/sites@2022-03-01`) whose properties sit
/// under `body`, named as in ARM templates.
fn service_of<'kb>(
    site: &ResourceSite<'_>,
    kb: &'kb KnowledgeBase,
    resolve: Resolve,
) -> (Option<&'kb Service>, Option<FactSource<'kb>>) {
    if AZAPI_TYPES.contains(&site.type_name) {
        // Written, or given by the module (`type = var.resource_types.storage_account`).
        let declared = site.body.get("type").and_then(|node| match resolve(node) {
            Resolved::AsWritten => node.as_str().map(str::to_string),
            Resolved::Value(value, _) => value.as_str().map(str::to_string),
            Resolved::Unknown => None,
        });
        let Some(declared) = declared.as_deref() else {
            return (None, None);
        };
        let (arm_type, api_version) = match declared.split_once('@') {
            Some((t, v)) => (t, Some(v.to_string())),
            None => (declared, None),
        };
        let Some(service) = kb.services.lookup_dialect(Dialect::Arm, arm_type) else {
            return (None, None);
        };
        let source = FactSource {
            service,
            dialect: Dialect::Arm,
            base: Route::root().key("body"),
            api_version,
        };
        return (Some(service), Some(source));
    }
    match kb.services.lookup(site.format, site.type_name) {
        Some(service) => (
            Some(service),
            Some(FactSource::new(service, Dialect::Terraform)),
        ),
        None => (None, None),
    }
}

/// Resources of the azapi provider that create an ARM resource of the type they name.
const AZAPI_TYPES: &[&str] = &["azapi_resource"];

/// Attributes that name a resource's location where the type table says nothing else.
const COMMON_REGION_ATTRS: &[&str] = &["region", "location", "zone", "availability_zone"];

/// Attributes that name a resource's location, in the order they are tried.
pub fn region_attributes(rtype: Option<&Service>) -> Vec<&str> {
    match rtype.and_then(|t| t.region_attrs.as_ref()) {
        Some(attrs) => attrs.iter().map(String::as_str).collect(),
        None => COMMON_REGION_ATTRS.to_vec(),
    }
}
