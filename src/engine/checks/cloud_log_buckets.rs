//! Object-storage buckets that receive logs (access logs, CloudTrail, load-balancer logs) and
//! how long their lifecycle keeps objects: the S3 part of GDPR-006.

use std::collections::{HashMap, HashSet};

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
    own_name(bucket).is_some_and(|own| own == name && !name.is_empty())
}

/// The name a bucket gives itself (`bucket = "shop-logs"`).
pub fn own_name(bucket: &Resource) -> Option<&str> {
    match &bucket.settled {
        Some(settled) => settled.bucket.as_deref(),
        None => bucket.body.get("bucket").and_then(Node::as_str),
    }
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
    /// Buckets (indices into `buckets`) by the `kind.name` a reference names them with.
    by_reference: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Buckets by the name they give themselves.
    by_name: HashMap<&'a str, Vec<usize>>,
    /// Buckets whose kind or name holds a dot, which references cannot be split into: matched
    /// one by one.
    unindexed: Vec<usize>,
}

impl<'a> Instance<'a> {
    fn index(&mut self) {
        for (i, bucket) in self.buckets.iter().enumerate() {
            if bucket.kind.contains('.') || bucket.name.contains('.') {
                self.unindexed.push(i);
            } else {
                self.by_reference
                    .entry((&bucket.kind, &bucket.name))
                    .or_default()
                    .push(i);
            }
            if let Some(own) = own_name(bucket)
                && !own.is_empty()
            {
                self.by_name.entry(own).or_default().push(i);
            }
        }
    }

    /// The buckets a value names, in the order of `buckets`: what `names_bucket` says of each,
    /// found through the indexes.
    fn named_by(&self, value: &Node) -> Vec<usize> {
        let Some(text) = value.as_str() else {
            return Vec::new();
        };
        let indexed = if value.tag.as_deref() == Some(EXPR_TAG) {
            let referenced = text.trim_start_matches("\"${").trim_end_matches("}\"");
            let mut parts = referenced.splitn(3, '.');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(kind), Some(name), Some(_)) => self.by_reference.get(&(kind, name)),
                _ => None,
            }
        } else {
            let name = text
                .trim_start_matches("arn:aws:s3:::")
                .split(".s3.")
                .next()
                .unwrap_or(text);
            self.by_name.get(name)
        };
        let mut found: Vec<usize> = indexed.cloned().unwrap_or_default();
        found.extend(
            self.unindexed
                .iter()
                .copied()
                .filter(|&i| names_bucket(value, self.buckets[i])),
        );
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// A resource's identity for the sets below: resources stay in place while rules run.
fn id(resource: &Resource) -> usize {
    std::ptr::from_ref(resource) as usize
}

pub struct LogBuckets<'a> {
    /// Buckets that a log sender of their module instance writes to.
    log_buckets: HashSet<usize>,
    /// The bucket each lifecycle configuration configures.
    configured: HashMap<usize, &'a Resource>,
    /// Buckets that a lifecycle configuration gives an expiration.
    expiring: HashSet<usize>,
}

/// Is a resource a bucket, a log sender, a lifecycle configuration?
fn roles(ctx: &Context, r: &Resource) -> (bool, bool, bool) {
    let lifecycle = r.fact("configures").is_some();
    let is_bucket = !lifecycle
        && ctx
            .kb
            .services
            .of(r)
            .is_some_and(|t| t.primary && t.category.as_deref() == Some("object_storage"));
    (is_bucket, r.fact("log_target").is_some(), lifecycle)
}

/// Does a resource take part in the pairing of log senders and buckets?
pub fn takes_part(ctx: &Context, resource: &Resource) -> bool {
    let (bucket, sender, lifecycle) = roles(ctx, resource);
    bucket || sender || lifecycle
}

impl<'a> LogBuckets<'a> {
    pub fn new(ctx: &'a Context) -> Self {
        let mut instances: HashMap<_, Instance<'a>> = HashMap::new();
        for r in ctx.resources {
            let (is_bucket, sender, lifecycle) = roles(ctx, r);
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
        let mut found = LogBuckets {
            log_buckets: HashSet::new(),
            configured: HashMap::new(),
            expiring: HashSet::new(),
        };
        for instance in instances.values_mut() {
            instance.index();
            for sender in &instance.senders {
                let Some(target) = sender.fact("log_target") else {
                    continue;
                };
                for value in items(&target.value) {
                    for i in instance.named_by(value) {
                        found.log_buckets.insert(id(instance.buckets[i]));
                    }
                }
            }
            for lifecycle in &instance.lifecycles {
                let Some(target) = lifecycle.fact("configures") else {
                    continue;
                };
                let Some(&first) = instance.named_by(&target.value).first() else {
                    continue;
                };
                let bucket = instance.buckets[first];
                found.configured.insert(id(lifecycle), bucket);
                if longest_expiration(lifecycle).is_some() {
                    found.expiring.insert(id(bucket));
                }
            }
        }
        found
    }

    /// A log bucket whose objects never expire, or expire after more than `max` days.
    pub fn retention_hit(&self, resource: &'a Resource, max: i64) -> Option<Hit> {
        if resource.fact("configures").is_some() {
            let bucket = *self.configured.get(&id(resource))?;
            let (days, node) = longest_expiration(resource)?;
            if days <= max || !self.log_buckets.contains(&id(bucket)) {
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
        // Only buckets are log buckets.
        if !self.log_buckets.contains(&id(resource)) {
            return None;
        }
        (!self.expiring.contains(&id(resource))).then(|| {
            Hit::at(resource.start())
                .var(
                    "retention",
                    "forever (a log bucket without lifecycle expiration)",
                )
                .var("max", max.to_string())
        })
    }
}
