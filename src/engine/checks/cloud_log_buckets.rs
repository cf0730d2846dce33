//! Object-storage buckets that receive logs (access logs, CloudTrail, load-balancer logs) and
//! how long their lifecycle keeps objects: the S3 part of GDPR-006.

use std::collections::HashMap;

use super::Hit;
use crate::engine::Context;
use crate::load::hcl::EXPR_TAG;
use crate::location::Location;
use crate::model::Resource;
use crate::tree::{Node, Route, Value};

/// The folder of a path: resources of one Terraform module refer to each other there.
fn folder(path: &str) -> &str {
    path.rfind(['/', '\\']).map_or("", |i| &path[..i])
}

/// `module.a.` of `module.a.aws_s3_bucket.logs`.
fn prefix(resource: &Resource) -> &str {
    let tail_len = resource.kind.len() + 1 + resource.name.len();
    resource
        .address
        .get(..resource.address.len().saturating_sub(tail_len))
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
        let local = format!("{}.{}.", bucket.kind, bucket.name);
        let referenced = text.trim_start_matches("\"${").trim_end_matches("}\"");
        return referenced.starts_with(&local);
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

/// Longest expiration of a lifecycle configuration, with where it is written.
fn longest_expiration(lifecycle: &Resource) -> Option<(i64, &Node)> {
    let fact = lifecycle.fact("object_expiration_days")?;
    items(&fact.value)
        .into_iter()
        .filter_map(|n| n.as_i64().map(|d| (d, n)))
        .max_by_key(|(d, _)| *d)
}

/// Log senders, lifecycle configurations and buckets of each module instance, built once per
/// scan so that a configuration with thousands of buckets stays linear.
#[derive(Default)]
struct Instance<'a> {
    senders: Vec<&'a Resource>,
    lifecycles: Vec<&'a Resource>,
    buckets: Vec<&'a Resource>,
}

pub struct LogBuckets<'a> {
    instances: HashMap<(&'a str, &'a str, crate::load::Format), Instance<'a>>,
}

impl<'a> LogBuckets<'a> {
    pub fn new(ctx: &'a Context) -> Self {
        let mut instances: HashMap<_, Instance<'a>> = HashMap::new();
        for r in ctx.resources {
            let is_bucket =
                r.fact("configures").is_none()
                    && ctx.kb.services.of(r).is_some_and(|t| {
                        t.primary && t.category.as_deref() == Some("object_storage")
                    });
            let (sender, lifecycle) = (
                r.fact("log_target").is_some(),
                r.fact("configures").is_some(),
            );
            if !(is_bucket || sender || lifecycle) {
                continue;
            }
            let entry = instances
                .entry((folder(&r.path), prefix(r), r.format))
                .or_default();
            if is_bucket {
                entry.buckets.push(r);
            }
            if sender {
                entry.senders.push(r);
            }
            if lifecycle {
                entry.lifecycles.push(r);
            }
        }
        LogBuckets { instances }
    }

    fn instance(&self, r: &'a Resource) -> Option<&Instance<'a>> {
        self.instances.get(&(folder(&r.path), prefix(r), r.format))
    }

    fn is_log_bucket(&self, bucket: &'a Resource) -> bool {
        self.instance(bucket).is_some_and(|i| {
            i.senders.iter().any(|s| {
                s.fact("log_target")
                    .is_some_and(|f| items(&f.value).into_iter().any(|v| names_bucket(v, bucket)))
            })
        })
    }

    fn configured_bucket(&self, lifecycle: &'a Resource) -> Option<&'a Resource> {
        let target = lifecycle.fact("configures")?;
        self.instance(lifecycle)?
            .buckets
            .iter()
            .copied()
            .find(|b| names_bucket(&target.value, b))
    }

    /// A log bucket whose objects never expire, or expire after more than `max` days.
    pub fn retention_hit(&self, resource: &'a Resource, max: i64) -> Option<Hit> {
        if resource.fact("configures").is_some() {
            let bucket = self.configured_bucket(resource)?;
            let (days, node) = longest_expiration(resource)?;
            if days <= max || !self.is_log_bucket(bucket) {
                return None;
            }
            let field = resource
                .fact("object_expiration_days")?
                .location
                .field
                .clone();
            let at = Location::new(
                &resource.path,
                resource.document,
                node.span,
                &Route::parse(&field),
            );
            return Some(
                Hit::at(at)
                    .var(
                        "retention",
                        format!("{days} days (log bucket {})", bucket.address),
                    )
                    .var("max", max.to_string())
                    .evidence(days.to_string()),
            );
        }
        let instance = self.instance(resource)?;
        if !instance.buckets.iter().any(|b| std::ptr::eq(*b, resource))
            || !self.is_log_bucket(resource)
        {
            return None;
        }
        let expires = instance.lifecycles.iter().any(|l| {
            self.configured_bucket(l)
                .is_some_and(|b| std::ptr::eq(b, resource))
                && longest_expiration(l).is_some()
        });
        (!expires).then(|| {
            Hit::at(resource.start())
                .var(
                    "retention",
                    "forever (a log bucket without lifecycle expiration)",
                )
                .var("max", max.to_string())
        })
    }
}
