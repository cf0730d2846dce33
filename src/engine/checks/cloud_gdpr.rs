//! GDPR Art. 5(1)(e)/(f), 25 and 32 hygiene on cloud resources, read from normalised facts:
//! encryption at rest and its keys, public exposure, transport security, log retention, backups.

use super::cloud_log_buckets::LogBuckets;
use super::{Check, Hit};
use crate::engine::{Context, Profile, Rule};
use crate::extract::cloudformation_intrinsics::{describe, intrinsic};
use crate::load::Format;
use crate::model::{Fact, Resource};
use crate::tree::{Route, Segment};

pub static CHECKS: &[(&str, Check)] = &[
    ("storage_unencrypted", Check::Resource(storage_unencrypted)),
    (
        "provider_managed_keys",
        Check::Resource(provider_managed_keys),
    ),
    ("public_storage", Check::Resource(public_storage)),
    ("public_database", Check::Resource(public_database)),
    ("public_snapshot", Check::Resource(public_snapshot)),
    ("tls_weak", Check::Resource(tls_weak)),
    (
        "log_retention_unbounded",
        Check::ResourceAndScan(
            log_retention_unbounded,
            log_bucket_retention_unbounded,
            super::cloud_log_buckets::unexpiring_hit,
        ),
    ),
    ("no_backup", Check::Resource(no_backup)),
];

/// Categories of databases, whose public exposure is GDPR-004 rather than GDPR-003.
pub const DATABASE_CATEGORIES: &[&str] = &[
    "managed_postgres",
    "managed_mysql",
    "managed_sql_server",
    "nosql_database",
    "cache",
    "data_warehouse",
    "search",
];
const SNAPSHOT_CATEGORIES: &[&str] = &["snapshot", "machine_image"];

/// Longest log retention accepted, in days, until the policy file sets its own maximum.
pub const DEFAULT_MAX_LOG_RETENTION_DAYS: i64 = 400;

fn fact_is<'a>(resource: &'a Resource, name: &str, wanted: bool) -> Option<&'a Fact> {
    resource
        .fact(name)
        .filter(|f| f.value.as_bool() == Some(wanted))
}

/// A hit at a fact, quoting the attribute as written (`acl = public-read`), not the
/// normalised value (`public: true`).
fn fact_hit(resource: &Resource, fact: &Fact) -> Hit {
    let field = Route::parse(&fact.location.field);
    let written = field
        .0
        .strip_prefix(resource.route.0.as_slice())
        .and_then(|relative| resource.body.at(&Route(relative.to_vec())))
        .and_then(|node| {
            let text = node.scalar_text()?;
            // A CloudFormation intrinsic is shown as it is written (`!Ref EncryptVolume`).
            Some(match resource.format {
                Format::Cloudformation if intrinsic(node).is_some() => describe(node),
                _ => text,
            })
        });
    let hit = Hit::at_fact(fact);
    if let Some(note) = fact.default_note() {
        return hit.var("value", note);
    }
    let key = field.0.iter().rev().find_map(|s| match s {
        Segment::Key(k) => Some(k),
        Segment::Index(_) => None,
    });
    // Written as an expression the files decide (`!If [HasKmsKey, true, false]` with the
    // parameters' defaults): the value it comes to.
    let decided = || fact.value.scalar_text();
    match (written, key) {
        (Some(text), Some(key)) => hit
            .evidence(text.clone())
            .var("value", format!("{key} = {text}")),
        (None, Some(key)) => match decided() {
            Some(value) => hit
                .evidence(value.clone())
                .var("value", format!("{key} comes to {value}")),
            None => hit.var("value", "by default"),
        },
        _ => hit.var("value", "by default"),
    }
}

/// A rule's problem text, saying when the setting is absent and the default applies.
fn problem(fact: &Fact, text: &str) -> String {
    match fact.default_note() {
        Some(note) => format!("{text} ({note})"),
        None => text.to_string(),
    }
}

/// A read replica or cluster member: its backups and encryption (at rest and in transit) are
/// its storage owner's.
fn is_replica(resource: &Resource) -> bool {
    resource.fact("storage_owner").is_some()
}

/// GDPR-001: encryption at rest switched off, or off by the provider's default.
fn storage_unencrypted(_ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if let Some(fact) = fact_is(resource, "encrypted", false)
        && !(fact.default.is_some() && is_replica(resource))
    {
        hits.push(fact_hit(resource, fact));
    }
}

/// GDPR-002: encrypted with the provider's keys where the type can use a customer-managed key.
fn provider_managed_keys(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    // A module call's settings are its module's, and were not read.
    if (ctx.profile != Profile::Strict && !ctx.require_customer_managed_keys)
        || resource.is_module_call()
    {
        return;
    }
    let Some(service) = ctx.kb.services.of(resource) else {
        return;
    };
    if !service.facts.contains_key("kms_key") || fact_is(resource, "encrypted", false).is_some() {
        return;
    }
    let key = resource.fact("kms_key");
    let has_key = key
        .and_then(|f| f.value.scalar_text())
        .is_some_and(|k| !k.trim().is_empty());
    if has_key {
        return;
    }
    let at = key.map_or_else(|| resource.start(), |f| f.location.clone());
    hits.push(
        Hit::at(at).var(
            "service",
            resource
                .service
                .clone()
                .unwrap_or_else(|| resource.kind.clone()),
        ),
    );
}

fn public_hit(
    ctx: &Context,
    resource: &Resource,
    hits: &mut Vec<Hit>,
    wanted: fn(Option<&str>) -> bool,
) {
    let category = ctx
        .kb
        .services
        .of(resource)
        .and_then(|t| t.category.as_deref());
    if !wanted(category) {
        return;
    }
    if let Some(fact) = fact_is(resource, "public", true) {
        hits.push(fact_hit(resource, fact));
    }
}

/// GDPR-003: public buckets, containers and blobs.
fn public_storage(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    public_hit(ctx, resource, hits, |c| {
        !c.is_some_and(|c| DATABASE_CATEGORIES.contains(&c) || SNAPSHOT_CATEGORIES.contains(&c))
    });
}

/// GDPR-004: databases reachable from the internet.
fn public_database(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    public_hit(ctx, resource, hits, |c| {
        c.is_some_and(|c| DATABASE_CATEGORIES.contains(&c))
    });
}

/// GDPR-011: snapshots and machine images shared with everyone.
fn public_snapshot(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    public_hit(ctx, resource, hits, |c| {
        c.is_some_and(|c| SNAPSHOT_CATEGORIES.contains(&c))
    });
}

/// The minimum TLS version a setting allows, as tenths (`12` for TLS 1.2), from the many ways
/// providers spell it: `TLS1_2`, `1.2`, `TLS_1_0`, `Policy-Min-TLS-1-0-2019-07`, `TLSv1.2_2021`,
/// `ELBSecurityPolicy-TLS13-1-2-2021-06`, `ELBSecurityPolicy-2016-08`.
pub fn tls_version_tenths(text: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    // Pre-2017 ELB policies and CloudFront `TLSv1`/`SSLv3` allow TLS 1.0 or older.
    if lower.starts_with("elbsecuritypolicy-20")
        || lower == "tlsv1"
        || lower == "tls1"
        || lower.starts_with("sslv3")
    {
        return Some(10);
    }
    let start = lower.find("tls").map_or(0, |i| i + 3);
    let bytes = lower.as_bytes();
    (start..bytes.len().saturating_sub(2)).find_map(|i| {
        let minor = *bytes.get(i + 2)?;
        (bytes[i] == b'1'
            && matches!(bytes[i + 1], b'.' | b'_' | b'-')
            && (b'0'..=b'3').contains(&minor))
        .then(|| 10 + u32::from(minor - b'0'))
    })
}

/// GDPR-005: plain HTTP allowed, or a minimum TLS version below 1.2. A replica or member left
/// at the default takes its storage owner's setting, as for encryption at rest.
fn tls_weak(_ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if let Some(fact) = fact_is(resource, "https_only", false)
        && !(fact.default.is_some() && is_replica(resource))
    {
        hits.push(fact_hit(resource, fact).var(
            "problem",
            problem(fact, "unencrypted connections are allowed"),
        ));
    }
    if let Some(fact) = resource.fact("tls_min").filter(|f| f.value.tag.is_none())
        && let Some(text) = fact.value.scalar_text()
        && tls_version_tenths(&text).is_some_and(|v| v < 12)
    {
        hits.push(
            fact_hit(resource, fact)
                .var(
                    "problem",
                    problem(fact, &format!("the minimum TLS version is {text}")),
                )
                .key("tls_min"),
        );
    }
}

/// GDPR-006: logs kept forever (0 or negative days) or beyond the maximum retention.
fn log_retention_unbounded(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let max = ctx.max_log_retention_days;
    let Some(fact) = resource.fact("log_retention_days") else {
        return;
    };
    let Some(days) = fact.value.as_i64() else {
        return;
    };
    let retention = if days <= 0 {
        match &fact.default {
            Some(setting) => format!("forever ({setting} not set: logs never expire by default)"),
            None => "forever".to_string(),
        }
    } else if days > max {
        format!("{days} days")
    } else {
        return;
    };
    hits.push(
        Hit::at_fact(fact)
            .var("retention", retention)
            .var("max", max.to_string())
            .evidence(days.to_string()),
    );
}

/// GDPR-006 for log buckets: the lifecycle of a bucket that senders of its module instance (or
/// folder) write logs to keeps objects too long. (A log bucket without a lifecycle expiration
/// is a candidate finding its unit made: `unexpiring_hit`.)
fn log_bucket_retention_unbounded(ctx: &Context, rule: &Rule, hits: &mut Vec<(usize, Hit)>) {
    let max = ctx.max_log_retention_days;
    let buckets = LogBuckets::new(ctx);
    for (index, resource) in ctx.resources.iter().enumerate() {
        if rule.applies_to_format(resource.format)
            && let Some(hit) = buckets.retention_hit(resource, max)
        {
            hits.push((index, hit));
        }
    }
}

/// GDPR-007: stateful stores without backups or point-in-time recovery. Read replicas and
/// cluster members are exempt: backups are a property of the primary or the cluster.
fn no_backup(_ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    if is_replica(resource) {
        return;
    }
    if let Some(fact) = resource.fact("backup_retention_days")
        && fact.value.as_i64() == Some(0)
    {
        hits.push(fact_hit(resource, fact).var(
            "problem",
            problem(fact, "automated backups are off (retention 0 days)"),
        ));
    }
    if let Some(fact) = fact_is(resource, "backup_enabled", false) {
        hits.push(
            fact_hit(resource, fact)
                .var("problem", problem(fact, "automated backups are off"))
                .key("backup_enabled"),
        );
    }
    if let Some(fact) = fact_is(resource, "point_in_time_recovery", false) {
        hits.push(
            fact_hit(resource, fact)
                .var("problem", problem(fact, "point-in-time recovery is off"))
                .key("point_in_time_recovery"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::tls_version_tenths;

    #[test]
    fn tls_spellings() {
        for (text, tenths) in [
            ("TLS1_2", 12),
            ("1.0", 10),
            ("TLS_1_1", 11),
            ("Policy-Min-TLS-1-0-2019-07", 10),
            ("TLSv1.2_2021", 12),
            ("ELBSecurityPolicy-TLS13-1-2-2021-06", 12),
            ("ELBSecurityPolicy-2016-08", 10),
            ("TLSv1", 10),
            ("tls-1.3", 13),
        ] {
            assert_eq!(tls_version_tenths(text), Some(tenths), "{text}");
        }
        assert_eq!(tls_version_tenths("modern"), None);
    }
}
