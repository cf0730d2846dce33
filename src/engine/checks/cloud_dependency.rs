//! Hyperscaler dependency of cloud resources, graded by the resource-type table's
//! replaceability, and resources on EU-operated offerings of non-EU technology providers.

use super::{Check, Hit};
use crate::engine::Context;
use crate::knowledge::services::{Dialect, Replaceability};
use crate::load::Format;
use crate::model::Resource;

pub static CHECKS: &[(&str, Check)] = &[
    ("hyperscaler_service", Check::Resource(hyperscaler_service)),
    ("proprietary_service", Check::Resource(proprietary_service)),
    ("sovereign_offering", Check::Resource(sovereign_offering)),
];

/// A primary resource of a provider controlled from outside the EU, with the given replaceability.
fn dependency_hit(ctx: &Context, resource: &Resource, wanted: Replaceability) -> Option<Hit> {
    let rtype = ctx.kb.services.of(resource)?;
    if managed_from_cluster(ctx, resource) {
        return None;
    }
    if !rtype.primary || rtype.replaceability.as_ref() != Some(&wanted) {
        return None;
    }
    let provider = resource.provider.as_deref()?;
    // On an EU-operated offering its operator controls a commodity service; a proprietary
    // one still ties to the technology's owner.
    let controller = match wanted {
        Replaceability::Commodity => resource.offering().unwrap_or(provider),
        Replaceability::Proprietary => provider,
    };
    if ctx.kb.provider(provider).is_none() || ctx.kb.controlled_from_eu(controller) {
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

/// A Kubernetes object of a controller's group (ACK, Config Connector, Azure Service Operator,
/// Crossplane providers) that creates the cloud resource from the cluster: HYP-006 reports it.
/// A cloud service's own manifest (a Cloud Run service as `gcloud run services describe`
/// exports it) is not one, and is reported as any other input's resource is.
fn managed_from_cluster(ctx: &Context, resource: &Resource) -> bool {
    resource.format == Format::Kubernetes
        && (resource.api_group()).is_some_and(|group| ctx.kb.crd_group(group).is_some())
}

/// HYP-001: commodity services (VMs, object storage, managed Kubernetes, PostgreSQL, DNS …),
/// and services of such a provider that the knowledge does not know yet.
fn hyperscaler_service(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    hits.extend(dependency_hit(ctx, resource, Replaceability::Commodity));
    hits.extend(unknown_service_hit(ctx, resource));
}

/// A type the knowledge does not know, of a provider controlled from outside the EU that its
/// name gives away (`aws_bedrockagent_agent`, `AWS::MSK::Cluster`, `Microsoft.Foo/bars`):
/// reported rather than passed over. Types that configure a known service
/// (`aws_s3_bucket_intelligent_tiering_configuration`) are parts of it.
fn unknown_service_hit(ctx: &Context, resource: &Resource) -> Option<Hit> {
    if resource.service_id.is_some() || !names_a_provider_service(resource) {
        return None;
    }
    let dialect = Dialect::of(resource.format);
    if ctx
        .kb
        .services
        .part_by_prefix(dialect, &resource.kind)
        .is_some()
        || parent_declared(ctx, resource)
    {
        return None;
    }
    let provider = resource.provider.as_deref()?;
    ctx.kb.provider(provider)?;
    if ctx
        .kb
        .controlled_from_eu(resource.offering().unwrap_or(provider))
    {
        return None;
    }
    Some(
        Hit::at(resource.start())
            .var(
                "service",
                format!("{} (service not in the knowledge base)", resource.kind),
            )
            .var(
                "alternatives",
                "not known for this service; see `sovscan explain HYP-001`",
            )
            .evidence(resource.kind.clone())
            .key("unknown-service"),
    )
}

/// Whether an ARM child type (`Microsoft.DevCenter/devcenters/catalogs`) has its parent
/// (`Microsoft.DevCenter/devcenters`, or any type above it) declared beside it: the parent
/// names the unknown service once, as a known service's parts leave their finding to it. A
/// child whose parent is declared elsewhere is still reported.
fn parent_declared(ctx: &Context, resource: &Resource) -> bool {
    if resource.format != Format::Arm {
        return false;
    }
    let kind = resource.kind.as_str();
    // The first `/` ends the namespace; each one after it ends a type with children.
    kind.match_indices('/').skip(1).any(|(cut, _)| {
        let parent = &kind[..cut];
        ctx.resources
            .iter()
            .any(|r| r.format == Format::Arm && r.kind.eq_ignore_ascii_case(parent))
    })
}

/// Does the type name itself say which provider runs it? CloudFormation's `Custom::` resources
/// and Terraform utility providers (`random`, `null`) do not.
fn names_a_provider_service(resource: &Resource) -> bool {
    match resource.format {
        Format::Cloudformation | Format::AwsConfig => resource.kind.starts_with("AWS::"),
        // Azure reads types whatever their case (`microsoft.insights/actiongroups`).
        Format::Arm => resource
            .kind
            .get(..10)
            .is_some_and(|namespace| namespace.eq_ignore_ascii_case("Microsoft.")),
        // A call of a module that could not be read stands for its module, not for a type.
        Format::Terraform | Format::TerraformPlan => {
            resource.provider.is_some() && !resource.is_module_call()
        }
        Format::Kubernetes => false,
    }
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
