//! Region checks shared by every format: where a resource's data sits, and whose law reaches it.

use std::collections::BTreeMap;

use super::{Check, Grouping, Hit};
use crate::engine::{Context, Rule, Standing};
use crate::finding::Severity;
use crate::load::Format;
use crate::model::Resource;

pub static CHECKS: &[(&str, Check)] = &[
    (
        "region_outside_allowed",
        Check::Unit(region_outside_allowed, grouping),
    ),
    (
        "region_in_adequacy_country",
        Check::Unit(region_in_adequacy_country, grouping),
    ),
    ("region_unknown", Check::Unit(region_unknown, grouping)),
    (
        "third_country_law_exposure",
        Check::Resource(third_country_law_exposure),
    ),
];

/// A sub-resource (bucket versioning, a firewall rule) whose location is inherited shares its
/// primary resource's findings; one that names its own location (an ARM database placed apart
/// from its server) is reported on its own.
pub fn shares_primary_location(ctx: &Context, resource: &Resource) -> bool {
    ctx.kb.services.is_part(resource) && resource.region.as_ref().is_none_or(|r| r.inherited)
}

fn country_label(ctx: &Context, country: &str) -> String {
    format!("{country} ({})", ctx.kb.jurisdiction_of(country).as_str())
}

/// How RES-001 to RES-003 treat a resource on which they find something alone:
/// - its finding depends on others if it holds no data, if its region is inherited, or if it
///   is chosen at deploy time (`per_region_source`, `region_unknown`);
/// - otherwise its findings are its own, except that the first resource of its region, in
///   resource order, may list the region's resources that hold no data: keyed by the region.
///   (Regions inherited from a shared place are members, so the region id is the whole key.)
fn grouping(ctx: &Context, resource: &Resource) -> Grouping {
    match &resource.region {
        Some(region) if region.inherited || holds_no_data(ctx, resource) => Grouping::Member,
        Some(region) => Grouping::Owner(region_id(region)),
        None if resource.unresolved_region.is_some() => Grouping::Member,
        None => Grouping::Alone,
    }
}

fn holds_no_data(ctx: &Context, resource: &Resource) -> bool {
    ctx.kb.services.of(resource).is_some_and(|s| s.no_data)
}

/// One finding per decision, among the resources of a unit: resources that hold no data (networks, subnets, NICs, resource
/// groups) are listed as related resources of the finding of a resource whose region comes
/// from the same place (or, in a plan, the same file and region), or, when none does, gathered
/// into one finding at the first of them.
fn per_region_source(
    ctx: &Context,
    rule: &Rule,
    hits: &mut Vec<(usize, Hit)>,
    check: fn(&Context, &Resource, &mut Vec<Hit>),
) {
    let mut found: Vec<(usize, Hit)> = Vec::new();
    let mut plumbing: BTreeMap<(String, String), Vec<(usize, Hit)>> = BTreeMap::new();
    for (index, resource) in ctx.resources.iter().enumerate() {
        if !rule.applies_to_format(resource.format) {
            continue;
        }
        let mut own = Vec::new();
        check(ctx, resource, &mut own);
        let no_data = holds_no_data(ctx, resource);
        for hit in own {
            match (&resource.region, no_data) {
                (Some(region), true) => plumbing
                    .entry((resource.path.to_string(), region_id(region)))
                    .or_default()
                    .push((index, hit)),
                _ => found.push((index, hit)),
            }
        }
    }
    for ((path, id), mut group) in plumbing {
        let sources: Vec<(String, u32, u32)> = group
            .iter()
            .filter_map(|(i, _)| ctx.resources[*i].region.as_ref())
            .map(|r| source_key(&r.location))
            .collect();
        let owner = found.iter_mut().find(|(i, _)| {
            let r = &ctx.resources[*i];
            r.region.as_ref().is_some_and(|region| {
                sources.contains(&source_key(&region.location))
                    || (*r.path == *path && region_id(region) == id)
            })
        });
        let (index, mut lead) = match owner {
            Some((_, hit)) => {
                for (i, _) in &group {
                    hit.related.push(ctx.resources[*i].start());
                }
                continue;
            }
            None => group.remove(0),
        };
        for (i, _) in &group {
            lead.related.push(ctx.resources[*i].start());
        }
        found.push((index, lead));
    }
    hits.extend(found);
}

fn region_id(region: &crate::model::RegionFact) -> String {
    region
        .resolved
        .as_ref()
        .map_or_else(|| region.value.to_ascii_lowercase(), |i| i.id.clone())
}

fn source_key(location: &crate::location::Location) -> (String, u32, u32) {
    (
        location.path.to_string(),
        location.start_line,
        location.start_column,
    )
}

/// RES-001: a single-location resource in a country the profile does not allow.
fn region_outside_allowed(ctx: &Context, rule: &Rule, hits: &mut Vec<(usize, Hit)>) {
    per_region_source(ctx, rule, hits, outside_allowed);
}

fn outside_allowed(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if shares_primary_location(ctx, resource) {
        return;
    }
    let Some(region) = &resource.region else {
        return;
    };
    let Some(info) = &region.resolved else {
        return;
    };
    if info.multi {
        return;
    }
    let Some(country) = info.country() else {
        return;
    };
    if ctx.standing_of(country) != Standing::Outside {
        return;
    }
    let severity = if resource.data_holding {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut hit = Hit::at(resource.region_anchor(region))
        .var("region", region.value.clone())
        .var("country", country_label(ctx, country))
        .var("note", "")
        .evidence(region.value.clone())
        .severity(severity);
    if region.inherited {
        hit = hit.related(region.location.clone());
    }
    if info.unverified {
        hit = hit.var("note", " (region fact unverified)");
    }
    hits.push(hit);
}

/// RES-002: a location in a country with a country-wide adequacy decision (profile `eu`).
fn region_in_adequacy_country(ctx: &Context, rule: &Rule, hits: &mut Vec<(usize, Hit)>) {
    per_region_source(ctx, rule, hits, in_adequacy_country);
}

fn in_adequacy_country(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if shares_primary_location(ctx, resource) {
        return;
    }
    let Some(region) = &resource.region else {
        return;
    };
    let Some(country) = region
        .resolved
        .as_ref()
        .filter(|i| !i.multi)
        .and_then(|i| i.country())
    else {
        return;
    };
    if ctx.standing_of(country) != Standing::Adequacy {
        return;
    }
    let mut hit = Hit::at(resource.region_anchor(region))
        .var("region", region.value.clone())
        .var("country", country.to_string())
        .evidence(region.value.clone());
    if region.inherited {
        hit = hit.related(region.location.clone());
    }
    hits.push(hit);
}

/// RES-003: one finding per blocking source (unknown id, or a value chosen at deploy time).
fn region_unknown(ctx: &Context, _rule: &Rule, hits: &mut Vec<(usize, Hit)>) {
    // Unknown ids: one per resource, since each names its own id.
    for (index, resource) in ctx.resources.iter().enumerate() {
        if let Some(region) = &resource.region
            && region.resolved.is_none()
        {
            let location = resource.region_anchor(region);
            hits.push((
                index,
                Hit::at(location)
                    .var("blocker", format!("unknown location id {:?}", region.value))
                    .var("affected", resource.address.clone())
                    .evidence(region.value.clone())
                    .severity(Severity::Medium),
            ));
        }
    }
    if !ctx.deploy_regions.is_empty() {
        return;
    }
    // Deploy-time values: group by the expression and where it is written.
    let mut groups: BTreeMap<(String, String, u32), Vec<usize>> = BTreeMap::new();
    for (index, resource) in ctx.resources.iter().enumerate() {
        if resource.region.is_none()
            && let Some(u) = &resource.unresolved_region
            && !in_eu_whichever_region(ctx, resource)
        {
            groups
                .entry((
                    u.blocker.clone(),
                    u.location.path.to_string(),
                    u.location.start_line,
                ))
                .or_default()
                .push(index);
        }
    }
    for ((blocker, _, _), members) in groups {
        let Some(&first) = members.first() else {
            continue;
        };
        let Some(u) = ctx.resources[first].unresolved_region.as_ref() else {
            continue;
        };
        let affected = affected_addresses(ctx, &members);
        let shown = if affected.len() > 5 {
            format!(
                "{} and {} more",
                affected[..5].join(", "),
                affected.len() - 5
            )
        } else {
            affected.join(", ")
        };
        hits.push((
            first,
            Hit::at(u.location.clone())
                .var("blocker", blocker.clone())
                .var("affected", shown)
                .evidence(blocker)
                .severity(Severity::Low),
        ));
    }
}

/// Whether a resource's provider offers regions in the EU/EEA only (Scaleway, STACKIT): a
/// region the deployment chooses keeps its data there whichever it is, so it is no residency
/// question.
fn in_eu_whichever_region(ctx: &Context, resource: &Resource) -> bool {
    (resource.provider.as_deref()).is_some_and(|p| ctx.kb.every_region_in_eu(p))
}

/// The addresses of the resources a RES-003 group affects, each once in the order first met.
/// An address met more than once is the same code deployed from more than one root module
/// (Terraform), or the same name in more than one file: it says how often.
fn affected_addresses(ctx: &Context, members: &[usize]) -> Vec<String> {
    let mut seen: Vec<(&Resource, usize)> = Vec::new();
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in members {
        let resource = &ctx.resources[i];
        match at.get(resource.address.as_str()) {
            Some(&k) => seen[k].1 += 1,
            None => {
                at.insert(&resource.address, seen.len());
                seen.push((resource, 1));
            }
        }
    }
    seen.into_iter()
        .map(|(resource, count)| match count {
            1 => resource.address.clone(),
            n if resource.format == Format::Terraform => {
                format!("{} (from {n} root modules)", resource.address)
            }
            n => format!("{} ({n} times)", resource.address),
        })
        .collect()
}

/// HYP-009: an EU location of a provider whose parent third-country law can compel.
fn third_country_law_exposure(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if shares_primary_location(ctx, resource) {
        return;
    }
    let (Some(provider), Some(region)) = (&resource.provider, &resource.region) else {
        return;
    };
    let Some(info) = ctx.kb.provider(provider) else {
        return;
    };
    if info.exposed_to.is_empty() || info.classification == "eu_controlled" {
        return;
    }
    let in_eu = region
        .resolved
        .as_ref()
        .is_some_and(|r| !r.countries.is_empty() && r.countries.iter().all(|c| ctx.kb.in_eea(c)));
    if !in_eu {
        return;
    }
    hits.push(
        Hit::at(resource.region_anchor(region))
            .var("region", region.value.clone())
            .var("laws", info.exposed_to.join(", "))
            .var("provider", info.name.clone())
            .evidence(region.value.clone()),
    );
}
