//! Residency checks over cloud resource facts: multi-region locations, replication and copy
//! targets, and edge services. Written against `Resource` facts, so every cloud format shares them.

use super::{Check, Elsewhere, Hit};
use crate::engine::{Context, Standing};
use crate::knowledge::RegionInfo;
use crate::model::Resource;
use crate::tree::{Node, Value};

pub static CHECKS: &[(&str, Check)] = &[
    (
        "multi_region_outside_eu",
        Check::Resource(multi_region_outside_eu),
    ),
    ("replica_outside_eu", Check::Resource(replica_outside_eu)),
    ("global_edge_service", Check::Resource(global_edge_service)),
];

/// Azure storage replication settings that copy data to the region's pair.
const GEO_REDUNDANT: &[&str] = &["grs", "ragrs", "gzrs", "ragzrs", "georedundant"];

/// The countries of a resolved location where data does not stand inside
/// (`Context::standing_of`), as `US, TW`.
fn outside(ctx: &Context, info: &RegionInfo) -> Option<Elsewhere> {
    let mut countries: Vec<&str> = (info.countries.iter())
        .filter(|c| ctx.standing_of(c) != Standing::Inside)
        .map(String::as_str)
        .collect();
    countries.dedup();
    (!countries.is_empty()).then(|| Elsewhere {
        text: countries.join(", "),
        adequacy: ctx.standing_of_all(&info.countries) == Some(Standing::Adequacy),
    })
}

fn resolve(ctx: &Context, resource: &Resource, raw: &str) -> Option<std::sync::Arc<RegionInfo>> {
    match resource.provider.as_deref() {
        Some(p) => ctx.kb.resolve_region(p, raw),
        None => ctx.kb.resolve_region_any(raw),
    }
}

/// The folder of a path, where Terraform resources refer to each other.
fn folder(path: &str) -> &str {
    path.rfind(['/', '\\']).map_or("", |i| &path[..i])
}

/// The location a replica target names: a region id, an ARN with a region, or a reference to
/// another resource of the same configuration (`aws_s3_bucket.replica.arn`), which is in the
/// resource's unit.
fn target_region(
    ctx: &Context,
    resource: &Resource,
    item: &Node,
) -> Option<(String, std::sync::Arc<RegionInfo>)> {
    let text = item.as_str()?.trim();
    if item.tag.as_deref() == Some(crate::load::hcl::EXPR_TAG) {
        let mut parts = text.split('.');
        // Resources of one module instance share the `module.<call>.` prefix of their address.
        let own_tail = format!("{}.{}", resource.kind, resource.name);
        let prefix = resource
            .address
            .strip_suffix(own_tail.as_str())
            .unwrap_or_default();
        let address = format!("{prefix}{}.{}", parts.next()?, parts.next()?);
        let here = folder(&resource.path);
        let target = ctx.resources.iter().find(|r| {
            r.address == address && r.format == resource.format && folder(&r.path) == here
        })?;
        let region = target.region.as_ref()?;
        return Some((
            format!("{} ({address})", region.value),
            region.resolved.clone()?,
        ));
    }
    if let Some(rest) = text.strip_prefix("arn:") {
        let region = rest.split(':').nth(2).filter(|r| !r.is_empty())?;
        return Some((region.to_string(), resolve(ctx, resource, region)?));
    }
    Some((text.to_string(), resolve(ctx, resource, text)?))
}

/// RES-004: a multi-/dual-region location, a list of locations, or geo-redundant storage that
/// includes a country outside the EU/EEA.
fn multi_region_outside_eu(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if let Some(region) = resource
        .region
        .as_ref()
        .filter(|_| !super::region::shares_primary_location(ctx, resource))
        && let Some(info) = region.resolved.as_ref().filter(|i| i.multi)
        && let Some(beyond) = outside(ctx, info)
    {
        let at = resource.region_anchor(region);
        hits.push(
            beyond.judge(
                Hit::at(at)
                    .var("locations", region.value.clone())
                    .var("countries", beyond.text.clone())
                    .evidence(region.value.clone()),
            ),
        );
    }
    if let Some(fact) = resource.fact("locations") {
        for item in fact.value.items() {
            let Some(raw) = item.as_str().filter(|_| item.tag.is_none()) else {
                continue;
            };
            if let Some(info) = resolve(ctx, resource, raw)
                && let Some(beyond) = outside(ctx, &info)
            {
                let at = fact.item_location(item);
                hits.push(
                    beyond.judge(
                        Hit::at(at)
                            .var("locations", raw.to_string())
                            .var("countries", beyond.text.clone())
                            .evidence(raw.to_string())
                            .key(raw.to_string()),
                    ),
                );
            }
        }
    }
    if let Some(fact) = resource.fact("storage_replication")
        && let Some(sku) = fact.value.scalar_text()
    {
        let normal: String = sku
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let normal = normal
            .strip_prefix("standard")
            .or(normal.strip_prefix("premium"))
            .unwrap_or(&normal);
        let Some(region) = resource.region.as_ref() else {
            return;
        };
        if GEO_REDUNDANT.contains(&normal)
            && let Some(pair) = ctx.kb.azure_pair(&region.value)
            && let Some(info) = ctx.kb.resolve_region("azure", &pair)
            && let Some(beyond) = outside(ctx, &info)
        {
            hits.push(
                beyond.judge(
                    Hit::at_fact(fact)
                        .var("locations", format!("{} paired with {pair}", region.value))
                        .var("countries", beyond.text.clone())
                        .evidence(sku.clone())
                        .related(region.location.clone()),
                ),
            );
        }
    }
}

/// RES-005: replication, replica and copy targets outside the EU/EEA, and replica resources
/// (a DynamoDB table replica, a KMS replica key) located outside it.
fn replica_outside_eu(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let is_replica = ctx.kb.services.of(resource).is_some_and(|t| t.replica);
    if is_replica
        && let Some(region) = &resource.region
        && let Some(beyond) = region.resolved.as_ref().and_then(|info| outside(ctx, info))
    {
        let at = resource.region_anchor(region);
        hits.push(
            beyond.judge(
                Hit::at(at)
                    .var("target", region.value.clone())
                    .var("countries", beyond.text.clone())
                    .evidence(region.value.clone())
                    .related(region.location.clone()),
            ),
        );
    }
    let Some(fact) = resource.fact("replica_regions") else {
        return;
    };
    let items: Vec<&Node> = match &fact.value.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![&fact.value],
    };
    for item in items {
        let Some((target, info)) = target_region(ctx, resource, item) else {
            continue;
        };
        let Some(beyond) = outside(ctx, &info) else {
            continue;
        };
        let at = fact.item_location(item);
        hits.push(
            beyond.judge(
                Hit::at(at)
                    .var("target", target.clone())
                    .var("countries", beyond.text.clone())
                    .evidence(item.scalar_text().unwrap_or_default())
                    .key(target),
            ),
        );
    }
}

/// RES-006: services that serve or process data at edge locations worldwide.
fn global_edge_service(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let edge_type = ctx.kb.services.of(resource).is_some_and(|t| t.global_edge);
    let cdn = resource
        .fact("cdn_enabled")
        .filter(|f| f.value.as_bool() == Some(true));
    if let Some(fact) = cdn {
        hits.push(Hit::at_fact(fact).var("service", format!("{} with its CDN", service(resource))));
    } else if edge_type {
        hits.push(Hit::at(resource.start()).var("service", service(resource)));
    }
}

fn service(resource: &Resource) -> String {
    resource
        .service
        .clone()
        .unwrap_or_else(|| resource.kind.clone())
}

/// GDPR-010 for cloud resources tagged as personal data: located, or replicated, outside the
/// EU/EEA. Called from the personal-data check so one rule covers workloads and resources.
pub fn personal_data_location(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if let Some(region) = &resource.region
        && let Some(beyond) = region.resolved.as_ref().and_then(|info| outside(ctx, info))
    {
        let at = resource.region_anchor(region);
        hits.push(
            Hit::at(at)
                .var("how", "is located in")
                .var("place", format!("{} ({})", region.value, beyond.text))
                .evidence(region.value.clone()),
        );
    }
    let mut replicas = Vec::new();
    replica_outside_eu(ctx, resource, &mut replicas);
    for hit in replicas {
        let target = hit
            .vars
            .iter()
            .find(|(k, _)| *k == "target")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let countries = hit
            .vars
            .iter()
            .find(|(k, _)| *k == "countries")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let key = hit.key.clone();
        let mut moved = Hit::at(hit.location)
            .var("how", "is replicated to")
            .var("place", format!("{target} ({countries})"));
        moved.evidence = hit.evidence;
        hits.push(moved.key(key));
    }
}
