//! Object-storage buckets that receive logs (access logs, CloudTrail, load-balancer logs) and
//! how long their lifecycle keeps objects: the S3 part of GDPR-006.

use super::Hit;
use crate::engine::Context;
use crate::load::hcl::EXPR_TAG;
use crate::model::Resource;
use crate::tree::{Node, Value};

/// The folder of a path: resources of one Terraform module refer to each other there.
fn folder(path: &str) -> &str {
    path.rfind(['/', '\\']).map_or("", |i| &path[..i])
}

/// `module.a.` of `module.a.aws_s3_bucket.logs`.
fn prefix(resource: &Resource) -> &str {
    let tail = format!("{}.{}", resource.kind, resource.name);
    resource
        .address
        .strip_suffix(tail.as_str())
        .unwrap_or_default()
}

fn items(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    }
}

/// Does a value name this bucket: a reference (`aws_s3_bucket.logs.id`) or its literal name
/// (`shop-logs`, `shop-logs.s3.amazonaws.com`, `arn:aws:s3:::shop-logs`)?
fn names_bucket(value: &Node, bucket: &Resource) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    if value.tag.as_deref() == Some(EXPR_TAG) {
        let address = format!("{}{}.{}", prefix(bucket), bucket.kind, bucket.name);
        let referenced = text.trim_start_matches("\"${").trim_end_matches("}\"");
        return referenced
            .strip_prefix(bucket.address.as_str())
            .is_some_and(|r| r.starts_with('.'))
            || referenced
                .strip_prefix(address.as_str())
                .is_some_and(|r| r.starts_with('.'));
    }
    let name = text
        .trim_start_matches("arn:aws:s3:::")
        .split(".s3.")
        .next()
        .unwrap_or(text);
    bucket
        .body
        .get("bucket")
        .and_then(Node::as_str)
        .is_some_and(|own| own == name && !name.is_empty())
}

/// Resources of the same module instance as `resource` (same folder, same `module.` prefix).
fn neighbours<'a>(ctx: &'a Context, resource: &'a Resource) -> impl Iterator<Item = &'a Resource> {
    let here = folder(&resource.path);
    let own_prefix = prefix(resource);
    ctx.resources.iter().filter(move |r| {
        r.format == resource.format && folder(&r.path) == here && prefix(r) == own_prefix
    })
}

fn is_log_bucket(ctx: &Context, bucket: &Resource) -> bool {
    neighbours(ctx, bucket).any(|r| {
        r.fact("log_target")
            .is_some_and(|f| items(&f.value).into_iter().any(|v| names_bucket(v, bucket)))
    })
}

/// The bucket a lifecycle configuration belongs to, among its neighbours.
fn configured_bucket<'a>(ctx: &'a Context, lifecycle: &'a Resource) -> Option<&'a Resource> {
    let target = lifecycle.fact("configures")?;
    neighbours(ctx, lifecycle).find(|r| {
        r.kind != lifecycle.kind && r.fact("configures").is_none() && names_bucket(&target.value, r)
    })
}

/// Longest expiration of a lifecycle configuration, with where it is written.
fn longest_expiration(lifecycle: &Resource) -> Option<(i64, &Node)> {
    let fact = lifecycle.fact("object_expiration_days")?;
    items(&fact.value)
        .into_iter()
        .filter_map(|n| n.as_i64().map(|d| (d, n)))
        .max_by_key(|(d, _)| *d)
}

/// A log bucket whose objects never expire, or expire after more than `max` days.
pub fn log_bucket_retention(ctx: &Context, resource: &Resource, max: i64, hits: &mut Vec<Hit>) {
    // The lifecycle side: an expiration beyond the maximum on a log bucket.
    if let Some(bucket) = configured_bucket(ctx, resource) {
        if let Some((days, node)) = longest_expiration(resource)
            && days > max
            && is_log_bucket(ctx, bucket)
        {
            let route = crate::tree::Route::parse(
                &resource
                    .fact("object_expiration_days")
                    .map(|f| f.location.field.clone())
                    .unwrap_or_default(),
            );
            let at = crate::location::Location::new(
                &resource.path,
                resource.document,
                node.span,
                &route,
            );
            hits.push(
                Hit::at(at)
                    .var(
                        "retention",
                        format!("{days} days (log bucket {})", bucket.address),
                    )
                    .var("max", max.to_string())
                    .evidence(days.to_string()),
            );
        }
        return;
    }
    // The bucket side: a log bucket that no lifecycle configuration expires.
    let kinds_with_lifecycle = ctx
        .kb
        .resource_types
        .get(&resource.kind)
        .is_some_and(|t| t.primary && t.category.as_deref() == Some("object_storage"));
    if !kinds_with_lifecycle || !is_log_bucket(ctx, resource) {
        return;
    }
    let expires = neighbours(ctx, resource).any(|r| {
        configured_bucket(ctx, r).is_some_and(|b| std::ptr::eq(b, resource))
            && longest_expiration(r).is_some()
    });
    if !expires {
        hits.push(
            Hit::at(resource.start())
                .var(
                    "retention",
                    "forever (a log bucket without lifecycle expiration)",
                )
                .var("max", max.to_string()),
        );
    }
}
