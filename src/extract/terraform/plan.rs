//! Terraform plan and state JSON (`terraform show -json`) into resources: `planned_values`,
//! then `resource_changes`, then `prior_state`/`values`; regions from each resource's values,
//! the references in `configuration`, and `configuration.provider_config`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::{Resolution, apply_region};
use crate::extract::ExtractOptions;
use crate::extract::cloud::{self, ResourceSite, provider_local_name, region_attributes};
use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format, Skipped};
use crate::location::Location;
use crate::model::Resource;
use crate::tree::{Node, Route};

struct Planned<'a> {
    address: String,
    type_name: String,
    name: String,
    values: &'a Node,
    route: Route,
}

/// What the configuration says about one resource: its provider block key and expressions.
struct Configured<'a> {
    provider_key: Option<String>,
    expressions: Option<&'a Node>,
}

/// `module.a[0].aws_s3_bucket.x["k"]` → `module.a.aws_s3_bucket.x`.
fn strip_indices(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The module prefix of an address (`module.a.` of `module.a.aws_s3_bucket.x`).
fn module_prefix(address: &str) -> String {
    let parts: Vec<&str> = address.split('.').collect();
    if parts.len() <= 2 {
        return String::new();
    }
    format!("{}.", parts[..parts.len() - 2].join("."))
}

fn collect_module<'a>(
    node: &'a Node,
    route: Route,
    seen: &mut HashSet<String>,
    out: &mut Vec<Planned<'a>>,
) {
    for (i, item) in node
        .get("resources")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let route = route.key("resources").index(i);
        push_resource(item, item.get("values"), route.key("values"), seen, out);
    }
    for (i, child) in node
        .get("child_modules")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        collect_module(child, route.key("child_modules").index(i), seen, out);
    }
}

fn push_resource<'a>(
    item: &'a Node,
    values: Option<&'a Node>,
    route: Route,
    seen: &mut HashSet<String>,
    out: &mut Vec<Planned<'a>>,
) {
    let text = |k: &str| {
        item.get(k)
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if item
        .get("mode")
        .and_then(Node::as_str)
        .is_some_and(|m| m != "managed")
    {
        return;
    }
    let (address, type_name) = (text("address"), text("type"));
    let Some(values) = values.filter(|v| v.is_map()) else {
        return;
    };
    if address.is_empty() || type_name.is_empty() || !seen.insert(address.clone()) {
        return;
    }
    out.push(Planned {
        address,
        type_name,
        name: text("name"),
        values,
        route,
    });
}

fn collect_configuration<'a>(
    module: &'a Node,
    prefix: &str,
    out: &mut BTreeMap<String, Configured<'a>>,
) {
    for item in module.get("resources").map(Node::items).unwrap_or_default() {
        let Some(address) = item.get("address").and_then(Node::as_str) else {
            continue;
        };
        out.insert(
            format!("{prefix}{address}"),
            Configured {
                provider_key: item
                    .get("provider_config_key")
                    .and_then(Node::as_str)
                    .map(str::to_string),
                expressions: item.get("expressions"),
            },
        );
    }
    for call in module
        .get("module_calls")
        .map(Node::entries)
        .unwrap_or_default()
    {
        if let Some(child) = call.value.get("module") {
            collect_configuration(child, &format!("{prefix}module.{}.", call.key), out);
        }
    }
}

/// A resource of the plan, as read from it before its values are taken.
struct Site {
    address: String,
    type_name: String,
    name: String,
    /// Where its values are.
    route: Route,
    region: Resolution,
}

/// The resources of a plan: their values copied from the document.
pub fn extract(doc: &Document, kb: &KnowledgeBase, options: &ExtractOptions) -> Vec<Resource> {
    sites(doc, kb)
        .into_par_iter()
        .filter_map(|site| {
            let values = doc.root.at(&site.route)?;
            Some(made(
                &doc.path,
                doc.index,
                Cow::Borrowed(values),
                site,
                kb,
                options,
            ))
        })
        .collect()
}

/// `extract`, moving each resource's values out of the document instead of copying them, and
/// dropping the rest of the document before the resources are made, on every core; each
/// resource is handed to `each` as soon as it is made, and those it gives back are kept, in
/// the plan's order: a plan is one unit of one file, often of an estate's every resource, and
/// its resources need not be held all at once (see `Unit::settle_item`). Each resource's
/// values are dropped once it is made of them.
/// The resources the rules do not read (a Helm release's chart, a `kubectl_manifest`, a change
/// to a Kubernetes object made elsewhere) are added to `skipped`, at their line in the plan.
pub fn extract_each(
    doc: &mut Document,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
    each: impl Fn(Resource) -> Option<Resource> + Sync,
    skipped: &mut Vec<Skipped>,
) -> Vec<Resource> {
    let sites = sites(doc, kb);
    let root = &mut doc.root;
    let taken: Vec<(Node, Site)> = sites
        .into_iter()
        .filter_map(|site| Some((root.take_at(&site.route)?, site)))
        .collect();
    *root = Node::new(crate::tree::Value::Null, root.span);
    let (path, document) = (&doc.path, doc.index);
    let made: Vec<(Option<Resource>, Option<Skipped>)> = taken
        .into_par_iter()
        .map(|(values, site)| {
            let resource = made(path, document, Cow::Owned(values), site, kb, options);
            let unread = super::kubernetes::unread(&resource);
            (each(resource), unread)
        })
        .collect();
    let (kept, unread): (Vec<_>, Vec<_>) = made.into_iter().unzip();
    skipped.extend(unread.into_iter().flatten());
    kept.into_iter().flatten().collect()
}

/// The resource of `site`, built from its values.
fn made(
    path: &Arc<str>,
    document: usize,
    body: Cow<'_, Node>,
    site: Site,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Resource {
    // A Kubernetes object Terraform applies is judged as the object, with its values.
    if let Some(object) = super::kubernetes::object(
        &site.type_name,
        path,
        document,
        (&body, &site.route),
        (&site.address, &site.name),
        &|_| crate::extract::facts::Resolved::AsWritten,
        kb,
    ) {
        return object;
    }
    let mut resource = cloud::build(
        ResourceSite {
            format: Format::TerraformPlan,
            path,
            document,
            type_name: &site.type_name,
            name: &site.name,
            address: site.address,
            body,
            route: site.route,
        },
        kb,
    );
    apply_region(&mut resource, site.region, kb, options);
    resource
}

/// Every resource the plan holds, with its region, read while the document is whole.
fn sites(doc: &Document, kb: &KnowledgeBase) -> Vec<Site> {
    let root = &doc.root;
    let mut seen = HashSet::new();
    let mut planned = Vec::new();
    if let Some(m) = root.path("planned_values.root_module") {
        collect_module(
            m,
            Route::parse("planned_values.root_module"),
            &mut seen,
            &mut planned,
        );
    }
    for (i, change) in root
        .get("resource_changes")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let actions: Vec<&str> = change
            .path("change.actions")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        if actions == ["delete"] {
            continue;
        }
        let route = Route::root()
            .key("resource_changes")
            .index(i)
            .key("change")
            .key("after");
        push_resource(
            change,
            change.path("change.after"),
            route,
            &mut seen,
            &mut planned,
        );
    }
    for start in ["prior_state.values.root_module", "values.root_module"] {
        if let Some(m) = root.path(start) {
            collect_module(m, Route::parse(start), &mut seen, &mut planned);
        }
    }
    let mut configured = BTreeMap::new();
    if let Some(m) = root.path("configuration.root_module") {
        collect_configuration(m, "", &mut configured);
    }
    let own: Vec<Option<(String, Location)>> =
        planned.par_iter().map(|p| own_region(doc, p, kb)).collect();
    let index: BTreeMap<String, usize> = planned
        .iter()
        .enumerate()
        .map(|(i, p)| (strip_indices(&p.address), i))
        .collect();

    planned
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let global = kb
                .services
                .lookup(Format::TerraformPlan, &p.type_name)
                .is_some_and(|t| t.global);
            let key = strip_indices(&p.address);
            let config = configured.get(&key);
            let region = if global {
                Resolution::None
            } else if let Some((value, location)) = own[i].clone() {
                Resolution::Region {
                    value,
                    location,
                    inherited: false,
                }
            } else if let Some(found) =
                config.and_then(|c| referenced_region(c, &module_prefix(&key), &index, &own))
            {
                found
            } else {
                match provider_region(doc, p, config, kb) {
                    // Where the provider's API chooses (a Hetzner server without location).
                    Resolution::None => kb
                        .services
                        .lookup(Format::TerraformPlan, &p.type_name)
                        .filter(|t| t.api_chooses_location)
                        .map_or(Resolution::None, |t| {
                            super::region::chosen_by_api(
                                kb,
                                t,
                                Location::of_node(&doc.path, doc.index, p.values, &p.route),
                            )
                        }),
                    found => found,
                }
            };
            Site {
                address: p.address.clone(),
                type_name: p.type_name.clone(),
                name: p.name.clone(),
                route: p.route.clone(),
                region,
            }
        })
        .collect()
}

fn own_region(doc: &Document, p: &Planned<'_>, kb: &KnowledgeBase) -> Option<(String, Location)> {
    let rtype = kb.services.lookup(Format::TerraformPlan, &p.type_name);
    if rtype.is_some_and(|t| t.global) {
        return None;
    }
    region_attributes(rtype).into_iter().find_map(|attr| {
        let relative = Route::parse(attr);
        let node = p.values.at(&relative)?;
        let value = node.as_str().filter(|v| !v.is_empty())?;
        Some((
            value.to_string(),
            Location::of_node(&doc.path, doc.index, node, &p.route.join(&relative)),
        ))
    })
}

/// The region of a resource this one refers to in its configuration (resource group, datacenter).
fn referenced_region(
    config: &Configured<'_>,
    prefix: &str,
    index: &BTreeMap<String, usize>,
    own: &[Option<(String, Location)>],
) -> Option<Resolution> {
    for entry in config.expressions.map(Node::entries).unwrap_or_default() {
        for reference in entry
            .value
            .get("references")
            .map(Node::items)
            .unwrap_or_default()
        {
            let Some(text) = reference.as_str() else {
                continue;
            };
            let parts: Vec<&str> = text.split('.').collect();
            if parts.len() < 2 || !parts[0].contains('_') {
                continue;
            }
            let target = format!("{prefix}{}.{}", parts[0], strip_indices(parts[1]));
            if let Some((value, location)) = index
                .get(&target)
                .and_then(|&t| own.get(t).cloned().flatten())
            {
                return Some(Resolution::Region {
                    value,
                    location,
                    inherited: true,
                });
            }
        }
    }
    None
}

/// The region of the provider configuration the resource uses, through plan variables.
fn provider_region(
    doc: &Document,
    p: &Planned<'_>,
    config: Option<&Configured<'_>>,
    kb: &KnowledgeBase,
) -> Resolution {
    let root = &doc.root;
    let local = provider_local_name(&p.type_name);
    let full_key = config
        .and_then(|c| c.provider_key.clone())
        .unwrap_or_else(|| local.to_string());
    let providers = Route::parse("configuration.provider_config");
    let table = root.at(&providers);
    // A module's own provider block is keyed `module.child:aws`; a configuration passed in from
    // the root keeps the root's key (`aws.us`).
    let key = if table.and_then(|t| t.get(&full_key)).is_some() {
        full_key
    } else {
        full_key.rsplit(':').next().unwrap_or(&full_key).to_string()
    };
    let default = kb.terraform_default_region(local).map(str::to_string);
    let Some(provider) = table.and_then(|p| p.get(&key)) else {
        if let Some(value) = default {
            return Resolution::Region {
                value,
                location: Location::of_node(&doc.path, doc.index, p.values, &p.route),
                inherited: false,
            };
        }
        return match super::region::is_regional(local) {
            true => Resolution::Blocked {
                blocker: format!("the plan records no configuration of provider \"{key}\""),
                location: Location::of_node(&doc.path, doc.index, p.values, &p.route),
            },
            false => Resolution::None,
        };
    };
    let route = providers.key(&key).key("expressions");
    for attr in ["region", "default_region", "zone"] {
        let Some(expr) = provider.path("expressions").and_then(|e| e.get(attr)) else {
            continue;
        };
        let at = route.key(attr);
        if let Some(constant) = expr.get("constant_value").filter(|c| c.as_str().is_some()) {
            return Resolution::Region {
                value: constant.as_str().unwrap_or_default().to_string(),
                location: Location::of_node(
                    &doc.path,
                    doc.index,
                    constant,
                    &at.key("constant_value"),
                ),
                inherited: true,
            };
        }
        let reference = expr
            .path("references[0]")
            .and_then(Node::as_str)
            .unwrap_or_default();
        if let Some(name) = reference.strip_prefix("var.") {
            let value_route = Route::root().key("variables").key(name).key("value");
            if let Some(value) = root.at(&value_route).filter(|v| v.as_str().is_some()) {
                return Resolution::Region {
                    value: value.as_str().unwrap_or_default().to_string(),
                    location: Location::of_node(&doc.path, doc.index, value, &value_route),
                    inherited: true,
                };
            }
        }
        return Resolution::Blocked {
            blocker: if reference.is_empty() {
                format!("provider \"{key}\" {attr}")
            } else {
                reference.to_string()
            },
            location: Location::of_node(&doc.path, doc.index, expr, &at),
        };
    }
    if let Some(value) = default {
        Resolution::Region {
            value,
            location: Location::of_node(&doc.path, doc.index, provider, &providers.key(&key)),
            inherited: true,
        }
    } else if super::region::is_regional(local) {
        Resolution::Blocked {
            blocker: format!("provider \"{key}\" without region"),
            location: Location::of_node(&doc.path, doc.index, provider, &providers.key(&key)),
        }
    } else {
        Resolution::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_their_indices() {
        assert_eq!(
            strip_indices("module.a[0].aws_s3_bucket.x[\"k\"]"),
            "module.a.aws_s3_bucket.x"
        );
        assert_eq!(module_prefix("module.a.aws_s3_bucket.x"), "module.a.");
        assert_eq!(module_prefix("aws_s3_bucket.x"), "");
    }

    /// Taking each resource's values out of the plan makes the resources that copying them
    /// makes, child modules, changes and prior state included, and leaves nothing of the plan.
    #[test]
    fn a_plan_taken_apart_gives_the_resources_of_a_plan_read() {
        let text = r#"{
          "format_version": "1.2",
          "terraform_version": "1.9.8",
          "planned_values": {"root_module": {
            "resources": [
              {"address": "aws_s3_bucket.a", "mode": "managed", "type": "aws_s3_bucket",
               "name": "a", "values": {"bucket": "a", "tags": {"team": "x"}}},
              {"address": "data.aws_region.r", "mode": "data", "type": "aws_region",
               "name": "r", "values": {"name": "eu-west-1"}}
            ],
            "child_modules": [{"resources": [
              {"address": "module.m.aws_db_instance.d", "mode": "managed",
               "type": "aws_db_instance", "name": "d",
               "values": {"storage_encrypted": false, "availability_zone": "us-east-1a"}}
            ]}]
          }},
          "resource_changes": [
            {"address": "aws_ebs_volume.v", "mode": "managed", "type": "aws_ebs_volume",
             "name": "v", "change": {"actions": ["create"],
             "after": {"encrypted": false, "availability_zone": "eu-central-1a"}}},
            {"address": "aws_s3_bucket.a", "mode": "managed", "type": "aws_s3_bucket",
             "name": "a", "change": {"actions": ["create"], "after": {"bucket": "other"}}}
          ],
          "prior_state": {"values": {"root_module": {"resources": [
            {"address": "aws_sqs_queue.q", "mode": "managed", "type": "aws_sqs_queue",
             "name": "q", "values": {"name": "q"}}
          ]}}},
          "configuration": {"provider_config": {"aws": {"name": "aws",
            "expressions": {"region": {"constant_value": "eu-central-1"}}}}}
        }"#;
        let kb = crate::knowledge::get().unwrap();
        let options = ExtractOptions::default();
        let mut doc = crate::load::load_bytes("plan.json", text.as_bytes())
            .documents
            .remove(0);
        assert_eq!(doc.format, Format::TerraformPlan);
        let read = extract(&doc, kb, &options);
        let taken = extract_each(&mut doc, kb, &options, Some, &mut Vec::new());
        assert_eq!(read.len(), 4);
        assert_eq!(format!("{read:?}"), format!("{taken:?}"));
        // Nothing of the plan is held once its resources are made.
        assert!(doc.root.is_null());
    }
}
