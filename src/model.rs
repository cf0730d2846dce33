//! The format-neutral resource every extractor produces and every rule reads.
//! Facts that differ per format (where encryption or region lives) are resolved before rules run.

use std::sync::Arc;

use crate::knowledge::RegionInfo;
use crate::load::Format;
use crate::location::Location;
use crate::tree::{Node, Route};

/// A resource's location (region, zone, multi-region) and where the value came from.
#[derive(Clone, Debug)]
pub struct RegionFact {
    /// The literal value (`eu-central-1`, `westus`, `US`).
    pub value: String,
    /// Where the value is written: the resource's own field, or the place it was inherited from.
    pub location: Location,
    /// True when the value came from elsewhere (provider block, variable default, parameters file).
    pub inherited: bool,
    /// The knowledge base's answer; `None` when the id is unknown.
    pub resolved: Option<Arc<RegionInfo>>,
}

/// A location that could not be resolved, and the expression that blocked it.
#[derive(Clone, Debug)]
pub struct UnresolvedRegion {
    /// The expression or source that blocks resolution (`var.region`, `AWS::Region`).
    pub blocker: String,
    /// Where the blocker is written.
    pub location: Location,
}

/// A format-neutral fact about a resource, with where it is written.
#[derive(Clone, Debug)]
pub struct Fact {
    pub value: Node,
    pub location: Location,
    /// The setting (route) that is absent when `value` is the provider's default; `location`
    /// is then the resource.
    pub default: Option<String>,
    /// Where the value is written when that is not at `location`: the caller's argument or
    /// the variable default a module input takes (`encrypted = var.encrypted`).
    pub given_at: Option<Box<Location>>,
}

impl Fact {
    /// Location of one item of a list fact (a replica region, a location), under the fact's field.
    /// "storage_encrypted not set; the default is false" for a default, else `None`.
    pub fn default_note(&self) -> Option<String> {
        let setting = self.default.as_deref()?;
        let value = self.value.scalar_text().unwrap_or_default();
        Some(format!("{setting} not set; the default is {value}"))
    }

    pub fn item_location(&self, item: &Node) -> Location {
        Location::new(
            &self.location.path,
            self.location.document,
            item.span,
            &Route::parse(&self.location.field),
        )
    }
}

/// Names of the normalised facts extractors may set on cloud resources.
/// - `encrypted` (bool): encryption at rest switched on or off explicitly.
/// - `kms_key` (string): customer-managed key id/ARN used for encryption at rest.
/// - `public` (bool): reachable by anyone (public ACL/policy, public network access, 0.0.0.0/0).
/// - `https_only` (bool), `tls_min` (string, e.g. `1.0`, `1.2`): transport security.
/// - `log_retention_days` (int; 0 means kept forever).
/// - `backup_retention_days` (int), `backup_enabled` (bool), `point_in_time_recovery` (bool).
/// - `cdn_enabled` (bool): a backend served through the provider's edge network.
/// - `own_name` (string): the name a resource gives itself in its cloud (`bucket = "shop-logs"`),
///   by which resources of other templates or items may name it.
/// - `log_target` (bucket reference or name): where a resource delivers its logs.
/// - `configures` (reference or name): the resource a sub-resource configures (a lifecycle's bucket).
/// - `object_expiration_days` (list of int): lifecycle expirations of a bucket's objects.
/// - `replica_regions` (list of region ids): replication/copy targets.
/// - `storage_replication` (string): Azure storage SKU replication (`LRS`, `GRS`, `RAGZRS`, …).
/// - `locations` (list of region ids): every location of a multi-location resource.
/// - `image_registry` (URL or host): the registry `container_images` without a host come from
///   (App Service `docker_registry_url`).
/// - `storage_owner` (reference or name): the resource whose storage this one uses (the source a
///   read replica copies, the cluster an Aurora instance belongs to); backups and encryption
///   are judged there.
/// - `container_images` (list): container images a service runs (task definitions, functions).
/// - `created_if` (string): the resource is created only if a condition the scanner cannot
///   decide holds (`count unknown: count = var.n`, `if IsProduction`); the note reaches reports.
pub const FACTS: &[&str] = &[
    "encrypted",
    "kms_key",
    "public",
    "https_only",
    "tls_min",
    "log_retention_days",
    "backup_retention_days",
    "backup_enabled",
    "cdn_enabled",
    "own_name",
    "log_target",
    "configures",
    "object_expiration_days",
    "point_in_time_recovery",
    "replica_regions",
    "storage_replication",
    "locations",
    "container_images",
    "storage_owner",
    "image_registry",
    CREATED_IF,
];

/// The fact naming an undecided condition on a resource's creation.
pub const CREATED_IF: &str = "created_if";

/// A fact's name as a static string: a known fact is one of `FACTS`; any other name (which
/// `knowledge::services::problems` reports) is kept once for the whole run.
pub fn fact_name(name: &str) -> &'static str {
    if let Some(known) = FACTS.iter().find(|f| **f == name) {
        return known;
    }
    static OTHERS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut others = OTHERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = others.get(name) {
        return found;
    }
    let kept: &'static str = Box::leak(name.to_string().into_boxed_str());
    others.insert(kept);
    kept
}

#[derive(Clone, Debug)]
pub struct Resource {
    pub format: Format,
    pub path: Arc<str>,
    pub document: usize,
    /// Kubernetes kind (`Deployment`) or cloud resource type (`aws_s3_bucket`, `AWS::S3::Bucket`).
    pub kind: String,
    pub api_version: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    /// Stable identity within its file (`Deployment/shop/web`, `aws_s3_bucket.logs`).
    pub address: String,
    /// Cloud provider key from the knowledge base (`aws`, `ionos`), when known.
    pub provider: Option<String>,
    pub service: Option<String>,
    /// Id of the service entry in the knowledge (`aws/rds-instance`), when the type is known.
    pub service_id: Option<String>,
    /// Service category (`object_storage`, `managed_kubernetes`, …) used for EU alternatives.
    pub category: Option<String>,
    pub data_holding: bool,
    /// Boxed, as the unresolved region: most of a resource's size otherwise, and absent on
    /// many resources.
    pub region: Option<Box<RegionFact>>,
    pub unresolved_region: Option<Box<UnresolvedRegion>>,
    /// The resource's own node, and its route from the document root.
    pub body: Node,
    pub route: Route,
    pub labels: Labels,
    /// Normalised facts for cloud rules, with where each is written. The vocabulary is shared
    /// by every cloud format (see `FACTS`); a fact that is absent is unknown, not false.
    /// Keyed by the fact's static name (`fact_name`): no copy of the name per resource.
    pub facts: Facts,
    /// Extra locations related to the resource (e.g. where its region was inherited from).
    pub related: Vec<Location>,
    /// Set once the resource's own rules have run with its unit and its body was shed: what
    /// the rest of the scan still reads of that body. Resources with nothing left share one.
    pub settled: Option<Arc<Settled>>,
    /// Settings the rules judge whose value only the deployment decides: listed in the report
    /// (`ScanResult::unevaluated`), not passed over.
    pub unevaluated: Vec<Unevaluated>,
}

/// A setting a rule judges (encryption, backups, public access …) written with a value only the
/// deployment decides: a Terraform expression of what only the plan knows, a CloudFormation
/// `!If` or parameter without a value, an ARM parameter without a default, or a Terraform
/// `dynamic` block whose `for_each` only the plan decides. No rule can judge it, and no default
/// applies: it is listed with where it is written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Unevaluated {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// The setting as the format names it (`storage_encrypted`).
    pub setting: String,
    /// What the rules read it as (`encrypted`, see `FACTS`).
    pub fact: String,
    pub reason: String,
    /// The addresses of the resources written there (`aws_db_instance.main`; a module's for
    /// each caller), in order.
    pub resources: Vec<String>,
}

impl Unevaluated {
    /// The entries in order, one per place, setting and reason, with every resource written
    /// there.
    pub fn gathered(mut all: Vec<Unevaluated>) -> Vec<Unevaluated> {
        all.sort_unstable();
        let mut out: Vec<Unevaluated> = Vec::with_capacity(all.len());
        for entry in all {
            match out.last_mut() {
                Some(last) if last.place() == entry.place() => {
                    for resource in entry.resources {
                        if last.resources.last() != Some(&resource) {
                            last.resources.push(resource);
                        }
                    }
                }
                _ => out.push(entry),
            }
        }
        out
    }

    /// What tells entries apart, but for the resources.
    fn place(&self) -> (&str, u32, u32, &str, &str, &str) {
        (
            &self.path,
            self.line,
            self.column,
            &self.setting,
            &self.fact,
            &self.reason,
        )
    }
}

/// A resource's facts by name, in name order, in a vector of their number: a resource has a
/// few, and a map's first node holds room for eleven (about 2 KB a resource).
#[derive(Clone, Debug, Default)]
pub struct Facts(Vec<(&'static str, Fact)>);

impl Facts {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| (*n).cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&Fact> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// Sets a fact, in place of the one of that name if there is one, which is returned.
    pub fn insert(&mut self, name: &'static str, fact: Fact) -> Option<Fact> {
        match self.find(name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, fact)),
            Err(i) => {
                self.0.insert(i, (name, fact));
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Extend<(&'static str, Fact)> for Facts {
    /// Sets each fact in turn, as `insert` does: a later one of a name replaces the earlier.
    fn extend<I: IntoIterator<Item = (&'static str, Fact)>>(&mut self, facts: I) {
        let facts = facts.into_iter();
        self.0.reserve_exact(facts.size_hint().0);
        for (name, fact) in facts {
            self.insert(name, fact);
        }
    }
}

impl IntoIterator for Facts {
    type Item = (&'static str, Fact);
    type IntoIter = std::vec::IntoIter<(&'static str, Fact)>;

    /// The facts in name order.
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A resource's labels (Kubernetes labels, cloud tags) by key, in key order, in a vector of
/// their number: a map's first node holds room for eleven (about 540 bytes a resource).
#[derive(Clone, Debug, Default)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// The pairs by key; of pairs with the same key, the first stays.
    pub fn first_wins(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut pairs: Vec<(String, String)> = pairs.into_iter().collect();
        // Stable: pairs of one key stay in the order given.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        pairs.shrink_to_fit();
        Labels(pairs)
    }

    /// Adds the labels of `other` whose keys these do not have.
    pub fn add_missing(&mut self, other: Labels) {
        if other.0.is_empty() {
            return;
        }
        let mine = std::mem::take(&mut self.0);
        *self = Labels::first_wins(mine.into_iter().chain(other.0));
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(&self.0[i].1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, String)> for Labels {
    /// The pairs by key; of pairs with the same key, the last stays, as a map collected from
    /// them keeps.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut pairs: Vec<(String, String)> = pairs.into_iter().collect();
        pairs.reverse();
        Labels::first_wins(pairs)
    }
}

/// What most resources keep once settled: nothing.
static NOTHING_SETTLED: std::sync::LazyLock<Arc<Settled>> =
    std::sync::LazyLock::new(|| Arc::new(Settled::default()));

impl Settled {
    fn is_empty(&self) -> bool {
        self.facts.is_empty() && self.provisioner.is_none() && self.ignore.is_none()
    }
}

/// What the scan reads of a resource after its unit is evaluated and its body dropped.
#[derive(Clone, Debug, Default)]
pub struct Settled {
    /// The facts scan-wide checks read, moved out of the resource's map: a map's first node
    /// holds room for eleven.
    pub facts: Vec<(&'static str, Fact)>,
    /// The provisioner a StorageClass names, which claims of other files name it by.
    pub provisioner: Option<String>,
    /// The rules its metadata suppresses (`sovscan.dev/ignore`), with the reason given.
    pub ignore: Option<(Vec<String>, Option<String>)>,
}

impl Resource {
    /// The EU-operated offering of a non-EU technology provider its region belongs to
    /// (`s3ns`, `bleu`, `aws-esc`): who operates the resource, where the provider says whose
    /// technology it runs.
    pub fn offering(&self) -> Option<&str> {
        self.region.as_ref()?.resolved.as_ref()?.offering.as_deref()
    }

    /// Location of a node inside the resource, given its route relative to the resource body.
    pub fn locate(&self, node: &Node, relative: &Route) -> Location {
        Location::at_field(
            &self.path,
            self.document,
            node.span,
            self.route.joined_text(relative),
        )
    }

    /// Whether the resource stands for a Terraform module call whose module could not be read
    /// (a registry module before `terraform init`): its service may be known, its settings
    /// are not.
    pub fn is_module_call(&self) -> bool {
        matches!(self.format, Format::Terraform | Format::TerraformPlan) && self.kind == "module"
    }

    /// The API group of a Kubernetes object (`serving.knative.dev` of
    /// `serving.knative.dev/v1`); `None` for the core group (`v1`) and for an API version
    /// without a group (an ARM resource's date).
    pub fn api_group(&self) -> Option<&str> {
        let (group, _) = self.api_version.as_deref()?.split_once('/')?;
        Some(group)
    }

    /// Location of the resource itself (its first line).
    pub fn start(&self) -> Location {
        self.locate(&self.body, &Route::root())
    }

    /// Where a finding about the resource's region points: the region field when the resource
    /// writes it, the resource's first line when the region is inherited (the finding then
    /// carries the inherited value's location as related).
    pub fn region_anchor(&self, region: &RegionFact) -> Location {
        if region.inherited {
            self.start()
        } else {
            region.location.clone()
        }
    }

    /// Location of the key of an entry, when pointing at the key reads better than its value.
    pub fn locate_key(&self, parent: &Node, key: &str, parent_route: &Route) -> Option<Location> {
        let entry = parent.entry(key)?;
        Some(Location::new(
            &self.path,
            self.document,
            entry.key_span,
            &self.route.join(&parent_route.key(key)),
        ))
    }

    /// The value of a label (`metadata.labels` for Kubernetes, tags for cloud resources).
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key)
    }

    pub fn fact(&self, name: &str) -> Option<&Fact> {
        match &self.settled {
            Some(settled) => settled
                .facts
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, f)| f),
            None => self.facts.get(name),
        }
    }

    /// Drops the body, the labels and the facts that only the resource's own rules read, once
    /// they have run: what scan-wide checks and suppressions read (`settled`, `keep` facts)
    /// stays.
    pub fn settle(&mut self, mut settled: Settled, keep: &[&str]) {
        settled.facts = std::mem::take(&mut self.facts)
            .into_iter()
            .filter(|(name, _)| keep.contains(name))
            .collect();
        self.body = Node::new(crate::tree::Value::Null, self.body.span);
        // Labels are read by a resource's own rules only (personal data on a workload).
        self.labels = Labels::default();
        // Lists grown a push at a time hold room for more than they have.
        self.related.shrink_to_fit();
        self.route.0.shrink_to_fit();
        self.settled = Some(if settled.is_empty() {
            Arc::clone(&NOTHING_SETTLED)
        } else {
            Arc::new(settled)
        });
    }

    /// Marks the resource as created only if a condition the scan cannot decide holds.
    pub fn note_created_if(&mut self, note: String, location: Location) {
        let note = match self.fact(CREATED_IF).and_then(|f| f.value.as_str()) {
            Some(before) => format!("{before}; {note}"),
            None => note,
        };
        self.facts.insert(
            CREATED_IF,
            Fact {
                value: Node::new(crate::tree::Value::Str(note), crate::tree::Span::default()),
                location,
                default: None,
                given_at: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{Fact, Facts, Labels};
    use crate::location::Location;
    use crate::tree::{Node, Route, Span, Value};

    fn fact(value: i64) -> Fact {
        Fact {
            value: Node::new(Value::Int(value), Span::default()),
            location: Location::new(&"main.tf".into(), 0, Span::default(), &Route::root()),
            default: None,
            given_at: None,
        }
    }

    /// Facts keep what a map kept: by name, a later fact of a name in place of the earlier,
    /// given back in name order.
    #[test]
    fn facts_keep_what_a_map_keeps() {
        let mut facts = Facts::default();
        assert!(facts.is_empty());
        facts.extend([
            ("encrypted", fact(1)),
            ("backup", fact(2)),
            ("encrypted", fact(3)),
        ]);
        assert!(facts.insert("public", fact(4)).is_none());
        let replaced = facts.insert("backup", fact(5)).map(|f| f.value.as_i64());
        assert_eq!(replaced, Some(Some(2)));
        let value = |name| facts.get(name).and_then(|f| f.value.as_i64());
        assert_eq!(
            (
                value("encrypted"),
                value("backup"),
                value("public"),
                value("region")
            ),
            (Some(3), Some(5), Some(4), None)
        );
        let names: Vec<&str> = facts.into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["backup", "encrypted", "public"]);
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Labels keep what a map built the same way kept: collected, the last of a key; built
    /// first-wins, the first; added, only the keys not there yet.
    #[test]
    fn labels_keep_what_a_map_built_the_same_way_keeps() {
        let given = pairs(&[("team", "a"), ("env", "prod"), ("team", "b"), ("app", "x")]);
        let collected: Labels = given.clone().into_iter().collect();
        let mut map = std::collections::BTreeMap::new();
        map.extend(given.clone());
        for (k, v) in &map {
            assert_eq!(collected.get(k), Some(v.as_str()), "{k}");
        }
        assert_eq!(collected.get("team"), Some("b"));
        assert_eq!(collected.0.len(), 3);
        let keys: Vec<&str> = collected.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["app", "env", "team"]);

        let first = Labels::first_wins(given);
        assert_eq!(first.get("team"), Some("a"));
        assert_eq!(first.get("missing"), None);

        let mut labels: Labels = pairs(&[("app", "web"), ("tier", "front")])
            .into_iter()
            .collect();
        labels.add_missing(
            pairs(&[("app", "other"), ("data", "personal")])
                .into_iter()
                .collect(),
        );
        assert_eq!(labels.get("app"), Some("web"));
        assert_eq!(labels.get("data"), Some("personal"));
        assert_eq!(labels.get("tier"), Some("front"));
        assert!(!labels.is_empty() && Labels::default().is_empty());
    }
}
