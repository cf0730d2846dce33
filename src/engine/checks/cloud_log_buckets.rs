//! Object-storage buckets that receive logs (access logs, CloudTrail, load-balancer logs) and
//! how long their lifecycle keeps objects: the S3 part of GDPR-006.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Hit;
use crate::engine::Context;
use crate::extract::cloudformation_intrinsics::intrinsic;
use crate::load::Format;
use crate::load::hcl::EXPR_TAG;
use crate::location::Location;
use crate::model::Resource;
use crate::tree::{Node, Route, Value};

/// The folder of a path: resources of one Terraform module refer to each other there.
fn folder(path: &str) -> &str {
    path.rfind(['/', '\\']).map_or("", |i| &path[..i])
}

/// `module.a.` of `module.a.aws_s3_bucket.logs`.
fn prefix<'a>(address: &'a str, kind: &str, name: &str) -> &'a str {
    let tail_len = kind.len() + 1 + name.len();
    address
        .get(..address.len().saturating_sub(tail_len))
        .unwrap_or_default()
}

/// What the pairing reads of a bucket: the scan keeps this, not the bucket, once the bucket's
/// unit is evaluated, for every bucket of the scan; so its four names share one allocation.
/// Ordered as resources are: by path, document, address, format, kind, name and own name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub path: Arc<str>,
    /// The address, kind, name and own name, one after the other.
    names: Box<str>,
    /// Where the address, the kind and the name end in `names`.
    ends: [u32; 3],
    document: u32,
    format: Format,
    /// Whether it gives itself a name (`bucket = "shop-logs"`), even an empty one.
    named: bool,
}

impl Bucket {
    /// The pairing's record of a resource not yet settled, when it is a bucket.
    pub fn of(ctx: &Context, r: &Resource) -> Option<Bucket> {
        if !roles(ctx, r).0 {
            return None;
        }
        let own = own_name(r);
        let mut names = String::with_capacity(
            r.address.len() + r.kind.len() + r.name.len() + own.map_or(0, str::len),
        );
        let mut ends = [0u32; 3];
        for (end, part) in ends.iter_mut().zip([&r.address, &r.kind, &r.name]) {
            names.push_str(part);
            *end = u32::try_from(names.len()).ok()?;
        }
        names.push_str(own.unwrap_or_default());
        Some(Bucket {
            path: Arc::clone(&r.path),
            names: names.into_boxed_str(),
            ends,
            document: u32::try_from(r.document).unwrap_or(u32::MAX),
            format: r.format,
            named: own.is_some(),
        })
    }

    pub fn address(&self) -> &str {
        &self.names[..self.ends[0] as usize]
    }

    fn kind(&self) -> &str {
        &self.names[self.ends[0] as usize..self.ends[1] as usize]
    }

    fn name(&self) -> &str {
        &self.names[self.ends[1] as usize..self.ends[2] as usize]
    }

    /// The name it gives itself (`bucket = "shop-logs"`).
    fn own(&self) -> Option<&str> {
        self.named.then(|| &self.names[self.ends[2] as usize..])
    }
}

impl Ord for Bucket {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.path
            .cmp(&other.path)
            .then(self.document.cmp(&other.document))
            .then_with(|| self.address().cmp(other.address()))
            .then(self.format.cmp(&other.format))
            .then_with(|| self.kind().cmp(other.kind()))
            .then_with(|| self.name().cmp(other.name()))
            .then_with(|| self.own().cmp(&other.own()))
    }
}

impl PartialOrd for Bucket {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn items(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    }
}

/// Does a value name this bucket: a reference (`aws_s3_bucket.logs.id`) or its literal name
/// (`shop-logs`, `shop-logs.s3.amazonaws.com`, `arn:aws:s3:::shop-logs`)?
fn names_bucket(value: &Node, bucket: &Bucket) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    if value.tag.as_deref() == Some(EXPR_TAG) {
        let local = format!("{}.{}.", bucket.kind(), bucket.name());
        let referenced = text.trim_start_matches("\"${").trim_end_matches("}\"");
        return referenced.starts_with(&local);
    }
    let name = text
        .trim_start_matches("arn:aws:s3:::")
        .split(".s3.")
        .next()
        .unwrap_or(text);
    bucket
        .own()
        .is_some_and(|own| own == name && !name.is_empty())
}

/// The name a bucket gives itself (`bucket = "shop-logs"`, `BucketName: shop-logs`), read
/// before the bucket settles (its `Bucket` record keeps it). A name made by an expression the
/// scan cannot evaluate (`!Sub "${AWS::StackName}-logs"`) is not one a sender can be matched to.
fn own_name(bucket: &Resource) -> Option<&str> {
    let value = &bucket.fact("own_name")?.value;
    value.tag.is_none().then(|| value.as_str()).flatten()
}

/// The template resource a CloudFormation value refers to: `!Ref Logs`, `!GetAtt Logs.Arn`,
/// `!Sub "arn:${AWS::Partition}:s3:::${Logs}"` name the resource `Logs` of their own template.
fn template_reference(value: &Node) -> Option<String> {
    let (function, arg) = intrinsic(value)?;
    let id = match (function.as_str(), &arg.value) {
        ("Ref", Value::Str(id)) => id.as_str(),
        ("Fn::GetAtt", Value::Str(text)) => text.split('.').next()?,
        ("Fn::GetAtt", Value::Seq(items)) => items.first()?.as_str()?,
        ("Fn::Sub", Value::Str(text)) => sole_variable(text)?,
        ("Fn::Sub", Value::Seq(items)) if items.len() == 1 => sole_variable(items[0].as_str()?)?,
        _ => return None,
    };
    (!id.is_empty() && !id.starts_with("AWS::")).then(|| id.to_string())
}

/// The one template resource or parameter a `Fn::Sub` text uses (`Logs` of `${Logs.Arn}/*`),
/// pseudo parameters (`${AWS::Region}`) and escaped literals (`${!Literal}`) aside.
fn sole_variable(text: &str) -> Option<&str> {
    let mut found = None;
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        if !name.starts_with('!') && !name.starts_with("AWS::") {
            let id = name.split('.').next().unwrap_or(name);
            if found.is_some_and(|f| f != id) {
                return None;
            }
            found = Some(id);
        }
        rest = &after[end + 1..];
    }
    found
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
    buckets: Vec<&'a Bucket>,
    /// Buckets (indices into `buckets`) by the `kind.name` a reference names them with.
    by_reference: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Buckets by the name they give themselves.
    by_name: HashMap<&'a str, Vec<usize>>,
    /// CloudFormation buckets by template and logical id, which references name them by.
    by_template: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Buckets whose kind or name holds a dot, which references cannot be split into: matched
    /// one by one.
    unindexed: Vec<usize>,
}

impl<'a> Instance<'a> {
    fn index(&mut self) {
        for (i, bucket) in self.buckets.iter().enumerate() {
            if bucket.kind().contains('.') || bucket.name().contains('.') {
                self.unindexed.push(i);
            } else {
                self.by_reference
                    .entry((bucket.kind(), bucket.name()))
                    .or_default()
                    .push(i);
            }
            if let Some(own) = bucket.own()
                && !own.is_empty()
            {
                self.by_name.entry(own).or_default().push(i);
            }
            if bucket.format == Format::Cloudformation {
                self.by_template
                    .entry((&bucket.path, bucket.name()))
                    .or_default()
                    .push(i);
            }
        }
    }

    /// The buckets a value written by `by` names, in the order of `buckets`: what
    /// `names_bucket` says of each, found through the indexes.
    fn named_by(&self, value: &Node, by: &Resource) -> Vec<usize> {
        if by.format == Format::Cloudformation
            && let Some(id) = template_reference(value)
        {
            return self
                .by_template
                .get(&(&*by.path, id.as_str()))
                .cloned()
                .unwrap_or_default();
        }
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
fn id<T>(item: &T) -> usize {
    std::ptr::from_ref(item) as usize
}

pub struct LogBuckets<'a> {
    /// Buckets that a log sender of their module instance writes to.
    log_buckets: HashSet<usize>,
    /// The bucket each lifecycle configuration configures.
    configured: HashMap<usize, &'a Bucket>,
    /// Buckets that a lifecycle configuration gives an expiration.
    expiring: HashSet<usize>,
    buckets: &'a [Bucket],
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

/// Is a resource a log sender or a lifecycle configuration, which scan-wide pairing reads
/// whole? (Of buckets it reads a `Bucket`.)
pub fn names_buckets(ctx: &Context, resource: &Resource) -> bool {
    let (_, sender, lifecycle) = roles(ctx, resource);
    sender || lifecycle
}

/// The module instance (folder, address prefix, format) whose log senders may name a bucket.
type InstanceKey<'k> = (&'k str, &'k str, Format);

fn instance_of_bucket(b: &Bucket) -> InstanceKey<'_> {
    (
        folder(&b.path),
        prefix(b.address(), b.kind(), b.name()),
        b.format,
    )
}

fn instance_of(r: &Resource) -> InstanceKey<'_> {
    (
        folder(&r.path),
        prefix(&r.address, &r.kind, &r.name),
        r.format,
    )
}

/// Drops the Terraform buckets of a unit that no log sender or lifecycle configuration of
/// their module instance in `resources`, the unit's, can name: a module instance is read whole
/// with the unit that calls it, so none of another unit can. (Buckets of other formats may be
/// named from other files of their folder, which are units of their own.)
pub fn retain_pairable(ctx: &Context, buckets: &mut Vec<Bucket>, resources: &[Resource]) {
    if buckets.iter().all(|b| b.format != Format::Terraform) {
        return;
    }
    let naming: HashSet<InstanceKey> = resources
        .iter()
        .filter(|r| r.format == Format::Terraform && names_buckets(ctx, r))
        .map(instance_of)
        .collect();
    buckets.retain(|b| b.format != Format::Terraform || naming.contains(&instance_of_bucket(b)));
}

impl<'a> LogBuckets<'a> {
    /// Pairs the log senders and lifecycle configurations of `ctx.resources` with the buckets
    /// of `ctx.buckets`, module instance by module instance (folder by folder).
    pub fn new(ctx: &'a Context) -> Self {
        let mut instances: HashMap<InstanceKey<'a>, Instance<'a>> = HashMap::new();
        for b in ctx.buckets {
            instances
                .entry(instance_of_bucket(b))
                .or_default()
                .buckets
                .push(b);
        }
        for r in ctx.resources {
            let (_, sender, lifecycle) = roles(ctx, r);
            if !(sender || lifecycle) {
                continue;
            }
            let entry = instances.entry(instance_of(r)).or_default();
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
            buckets: ctx.buckets,
        };
        for instance in instances.values_mut() {
            if instance.senders.is_empty() && instance.lifecycles.is_empty() {
                continue;
            }
            instance.index();
            for sender in &instance.senders {
                let Some(target) = sender.fact("log_target") else {
                    continue;
                };
                for value in items(&target.value) {
                    for i in instance.named_by(value, sender) {
                        found.log_buckets.insert(id(instance.buckets[i]));
                    }
                }
            }
            for lifecycle in &instance.lifecycles {
                let Some(target) = lifecycle.fact("configures") else {
                    continue;
                };
                let Some(&first) = instance.named_by(&target.value, lifecycle).first() else {
                    continue;
                };
                let bucket = instance.buckets[first];
                found.configured.insert(id(*lifecycle), bucket);
                // An expiration the scan cannot read (`days = var.days`) still expires objects.
                if lifecycle.fact("object_expiration_days").is_some() {
                    found.expiring.insert(id(bucket));
                }
            }
        }
        found
    }

    /// A lifecycle configuration of a log bucket that keeps objects more than `max` days.
    pub fn retention_hit(&self, resource: &'a Resource, max: i64) -> Option<Hit> {
        let bucket = *self.configured.get(&id(resource))?;
        if !self.log_buckets.contains(&id(bucket)) {
            return None;
        }
        too_long(resource, Some(bucket.address()), max)
    }

    /// Log buckets whose objects never expire: no lifecycle configuration gives them an
    /// expiration.
    pub fn unexpiring(&self) -> impl Iterator<Item = &'a Bucket> + '_ {
        self.buckets
            .iter()
            .filter(|b| self.log_buckets.contains(&id(*b)) && !self.expiring.contains(&id(*b)))
    }
}

/// The hit of lifecycle rules (of `resource`: a lifecycle configuration of the log bucket
/// `bucket`, or the log bucket itself) whose longest expiration is over `max` days, at that
/// expiration.
fn too_long(resource: &Resource, bucket: Option<&str>, max: i64) -> Option<Hit> {
    let (days, node) = longest_expiration(resource)?;
    if days <= max {
        return None;
    }
    let field = &resource.fact("object_expiration_days")?.location.field;
    let at = Location::new(
        &resource.path,
        resource.document,
        node.span,
        &Route::parse(field),
    );
    Some(
        Hit::at(at)
            .var(
                "retention",
                match bucket {
                    Some(bucket) => format!("{days} days (log bucket {bucket})"),
                    None => format!("{days} days (its own lifecycle rules)"),
                },
            )
            .var("max", max.to_string())
            .evidence(days.to_string()),
    )
}

/// The finding a bucket has if a log sender names it and no lifecycle configuration of its own
/// gives its objects an expiration: made while the bucket is at hand, kept only if the pairing
/// confirms it. Lifecycle rules written on the bucket itself (CloudFormation's
/// `LifecycleConfiguration`, AWS Config's, Terraform's `lifecycle_rule`) decide it there: a
/// finding only if they keep objects too long.
pub fn unexpiring_hit(ctx: &Context, bucket: &Resource) -> Option<Hit> {
    if !roles(ctx, bucket).0 {
        return None;
    }
    let max = ctx.max_log_retention_days;
    if bucket.fact("object_expiration_days").is_some() {
        return too_long(bucket, None, max);
    }
    Some(
        Hit::at(bucket.start())
            .var(
                "retention",
                "forever (a log bucket without lifecycle expiration)",
            )
            .var("max", max.to_string()),
    )
}
