//! Hyperscaler dependency of cloud resources, graded by the resource-type table's
//! replaceability, and resources on EU-operated offerings of non-EU technology providers.

use super::{Check, Hit};
use crate::engine::Context;
use crate::knowledge::services::Replaceability;
use crate::model::Resource;

pub static CHECKS: &[(&str, Check)] = &[
    ("hyperscaler_service", Check::Resource(hyperscaler_service)),
    ("proprietary_service", Check::Resource(proprietary_service)),
    ("sovereign_offering", Check::Resource(sovereign_offering)),
];

/// A primary resource of a provider controlled from outside the EU, with the given replaceability.
fn dependency_hit(ctx: &Context, resource: &Resource, wanted: Replaceability) -> Option<Hit> {
    let rtype = ctx.kb.services.of(resource)?;
    if !rtype.primary || rtype.replaceability.as_ref() != Some(&wanted) {
        return None;
    }
    let provider = resource.provider.as_deref()?;
    let info = ctx.kb.provider(provider)?;
    if info.classification == "eu_controlled" {
        return None;
    }
    let alternatives = rtype
        .category
        .as_deref()
        .and_then(|c| ctx.kb.alternatives_text(c))
        .unwrap_or_else(|| "self-hosted open-source software on an EU provider".into());
    Some(
        Hit::at(resource.start())
            .var("service", rtype.service.clone())
            .var("alternatives", alternatives)
            .evidence(resource.kind.clone()),
    )
}

/// HYP-001: commodity services (VMs, object storage, managed Kubernetes, PostgreSQL, DNS …).
fn hyperscaler_service(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    hits.extend(dependency_hit(ctx, resource, Replaceability::Commodity));
}

/// HYP-002: proprietary services without a drop-in EU equivalent.
fn proprietary_service(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    hits.extend(dependency_hit(ctx, resource, Replaceability::Proprietary));
}

/// HYP-010: a resource in a region of an EU-operated offering (AWS European Sovereign Cloud,
/// Delos, Bleu, S3NS, OCI EU Sovereign Cloud).
fn sovereign_offering(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if super::region::shares_primary_location(ctx, resource) {
        return;
    }
    let Some(region) = &resource.region else {
        return;
    };
    let Some(offering) = region.resolved.as_ref().and_then(|i| i.offering.as_deref()) else {
        return;
    };
    let Some(info) = ctx.kb.provider(offering) else {
        return;
    };
    let control = info
        .control_country
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let at = resource.region_anchor(region);
    let mut hit = Hit::at(at)
        .var("offering", info.name.clone())
        .var("control", control)
        .var(
            "laws",
            if info.exposed_to.is_empty() {
                "none recorded".into()
            } else {
                info.exposed_to.join(", ")
            },
        )
        .evidence(region.value.clone());
    if region.inherited {
        hit = hit.related(region.location.clone());
    }
    hits.push(hit);
}
