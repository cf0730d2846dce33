//! The service knowledge: one entry per cloud service (`aws/rds-instance`), naming its type in
//! every format that can declare it, the route of each fact per format, and the provider's
//! defaults for settings that are absent. Every extractor and rule reads services through here.

use super::pattern::Pattern;
use rayon::prelude::*;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

use super::KnowledgeError;
use crate::load::Format;
use crate::model::FACTS;

include!(concat!(env!("OUT_DIR"), "/service_files.rs"));

/// The ways of writing a resource whose type names and attribute names differ. Terraform HCL and
/// plan JSON share names; CloudFormation and AWS Config share type names but not attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    Terraform,
    Cloudformation,
    AwsConfig,
    Arm,
    Kubernetes,
    /// A Terraform module from a registry (`terraform-aws-modules/eks/aws`): a call that creates
    /// the service, read when the module's files are not at hand.
    TerraformModule,
}

impl Dialect {
    pub const ALL: [Dialect; 5] = [
        Dialect::Terraform,
        Dialect::Cloudformation,
        Dialect::AwsConfig,
        Dialect::Arm,
        Dialect::Kubernetes,
    ];

    pub fn of(format: Format) -> Dialect {
        match format {
            Format::Terraform | Format::TerraformPlan => Dialect::Terraform,
            Format::Cloudformation => Dialect::Cloudformation,
            Format::AwsConfig => Dialect::AwsConfig,
            Format::Arm => Dialect::Arm,
            Format::Kubernetes => Dialect::Kubernetes,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Terraform => "terraform",
            Dialect::Cloudformation => "cloudformation",
            Dialect::AwsConfig => "aws-config",
            Dialect::Arm => "arm",
            Dialect::Kubernetes => "kubernetes",
            Dialect::TerraformModule => "terraform-module",
        }
    }
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Replaceability {
    /// A drop-in EU equivalent exists (VMs, object storage, managed Kubernetes, PostgreSQL, DNS).
    Commodity,
    /// No drop-in EU equivalent (DynamoDB, Lambda, Cosmos DB, BigQuery, Spanner, Firestore).
    Proprietary,
}

/// A default fact value written in YAML.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(untagged)]
pub enum FactDefault {
    Bool(bool),
    Int(i64),
    Text(String),
}

/// One type name or a list of them. Read by a visitor of its own rather than as an untagged
/// enum, which buffers every value first and was an eighth of start-up.
#[derive(Debug)]
struct Names(Vec<String>);

impl Names {
    fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Names;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a type name or a list of type names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Names, E> {
                Ok(Names(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Names, A::Error> {
                let mut names = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(Names(names))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A default that differs for some formats or API versions: the azurerm provider against the
/// ARM API, an API version from which a setting is on unless switched off.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DefaultOverride {
    /// The formats it applies to; without them, those `when` names.
    #[serde(default)]
    pub formats: Vec<Dialect>,
    /// ARM API versions the override applies to: `< 2019-04-01` or `>= 2019-04-01`.
    #[serde(default)]
    pub api_versions: Option<String>,
    /// Per format, a yes/no spec written as facts are (`snapshot_identifier is set`,
    /// `engine_mode in [serverless]`): the override applies where it is true. Where only the
    /// deployment decides it, so does the default.
    #[serde(default)]
    pub when: BTreeMap<Dialect, String>,
    /// Why the default differs there, said of a setting left without one (`null`).
    #[serde(default)]
    pub note: Option<String>,
    /// Fact → value; `null` removes the default (the format records the real value instead).
    pub defaults: BTreeMap<String, Option<FactDefault>>,
}

/// The default of a fact left out, for one resource (`Service::default_for`).
#[derive(Debug, PartialEq)]
pub enum DefaultIs<'a> {
    /// This value, or none.
    Known(Option<&'a FactDefault>),
    /// None, for the reason an override gives (`note`).
    Removed(&'a str),
    /// Decided by the setting of this spec, which only the deployment knows.
    DependsOn(&'a str),
}

impl DefaultOverride {
    fn applies(&self, dialect: Dialect, api_version: Option<&str>) -> bool {
        let format = if self.formats.is_empty() {
            self.when.contains_key(&dialect)
        } else {
            self.formats.contains(&dialect)
        };
        if !format {
            return false;
        }
        let Some(range) = self.api_versions.as_deref() else {
            return true;
        };
        let Some(version) = api_version else {
            return false;
        };
        // API versions are ISO dates (`2019-04-01`, `2023-01-01-preview`): they sort as text.
        let version = version.get(..10).unwrap_or(version);
        if let Some(bound) = range.strip_prefix(">=") {
            version >= bound.trim()
        } else if let Some(bound) = range.strip_prefix('<') {
            version < bound.trim()
        } else {
            false
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSpec {
    /// The service whose resource this one configures (`aws/s3-bucket` for a bucket ACL): the
    /// entry takes its provider, service name and category unless it names its own.
    #[serde(default)]
    part_of: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    data_holding: bool,
    #[serde(default)]
    primary: Option<bool>,
    #[serde(default)]
    replaceability: Option<Replaceability>,
    #[serde(default)]
    replica: bool,
    #[serde(default)]
    global: bool,
    #[serde(default)]
    global_edge: bool,
    #[serde(default)]
    no_data: bool,
    #[serde(default)]
    region_attrs: Option<Vec<String>>,
    #[serde(default)]
    default_location: Option<String>,
    #[serde(default)]
    api_chooses_location: bool,
    #[serde(default)]
    located_by: Vec<String>,
    #[serde(default)]
    arm_location: Option<String>,
    #[serde(default)]
    types: BTreeMap<Dialect, Names>,
    #[serde(default)]
    type_patterns: BTreeMap<Dialect, Names>,
    #[serde(default)]
    facts: BTreeMap<String, BTreeMap<Dialect, String>>,
    #[serde(default)]
    defaults: BTreeMap<String, FactDefault>,
    #[serde(default)]
    overrides: Vec<DefaultOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServicesFile {
    services: BTreeMap<String, ServiceSpec>,
}

/// One cloud service (or a part of one, such as a bucket's ACL) as every format declares it.
#[derive(Debug, Clone)]
pub struct Service {
    /// Stable id, `<provider>/<service>` (`aws/rds-instance`, `azure/web-app`).
    pub id: String,
    /// Provider key of `jurisdictions.yaml` (`aws`, `azure`, `gcp`, `ionos`, …).
    pub provider: String,
    /// Service name for people (`Amazon RDS`).
    pub service: String,
    /// Key of `eu_alternatives` (`object_storage`), or `snapshot` / `machine_image`.
    pub category: Option<String>,
    pub data_holding: bool,
    /// `false` for parts that configure another resource (`aws_s3_bucket_versioning`).
    pub primary: bool,
    /// The service this part belongs to.
    pub part_of: Option<String>,
    pub replaceability: Option<Replaceability>,
    /// A copy of another resource's data kept in its own region (DynamoDB table replica, RDS
    /// automated-backup replication, KMS replica key): its location is a replica target.
    pub replica: bool,
    /// Has no region of its own (IAM, DNS zones, CDN distributions): never located.
    pub global: bool,
    /// Serves from edge locations worldwide (CloudFront, Front Door, Cloud CDN).
    pub global_edge: bool,
    /// Holds and processes no data (networks, subnets, NICs, resource groups): its location is
    /// reported with the finding of the data-holding resource whose region comes from the same
    /// place.
    pub no_data: bool,
    /// Terraform attributes naming the location, in order, instead of the common ones.
    pub region_attrs: Option<Vec<String>>,
    /// Where the provider makes the resource when no location is written (IONOS Object
    /// Storage's `eu-central-3`, a Config Connector `StorageBucket`'s `US`), in every format.
    pub default_location: Option<String>,
    /// Where no location is written and no resource it refers to places it, the provider's
    /// API chooses where to make it (a Hetzner server): its location is unknown until then,
    /// not inapplicable.
    pub api_chooses_location: bool,
    /// Terraform arguments that name the parent the resource is located in (an IONOS
    /// server's `datacenter_id`): where the parent they name cannot be read, the resource's
    /// location is unresolved, not inapplicable.
    pub located_by: Vec<String>,
    /// The route of an ARM resource's location when it is not `location` (Communication
    /// Services keep their data in `properties.dataLocation`, a geography, and are `global`).
    pub arm_location: Option<String>,
    /// Type names by format.
    pub types: BTreeMap<Dialect, Vec<String>>,
    /// Fact → format → spec (see README.md in `rules/knowledge/services/`).
    pub facts: BTreeMap<String, BTreeMap<Dialect, String>>,
    /// Fact values the provider applies when the setting is absent.
    pub defaults: BTreeMap<String, FactDefault>,
    pub overrides: Vec<DefaultOverride>,
}

impl Service {
    /// The fact specs of one format.
    pub fn fact_specs(&self, dialect: Dialect) -> impl Iterator<Item = (&str, &str)> {
        self.facts.iter().filter_map(move |(fact, per_format)| {
            per_format
                .get(&dialect)
                .map(|spec| (fact.as_str(), spec.as_str()))
        })
    }

    /// Does the format know where this fact is written?
    pub fn has_fact(&self, dialect: Dialect, fact: &str) -> bool {
        self.facts
            .get(fact)
            .is_some_and(|per_format| per_format.contains_key(&dialect))
    }

    /// The value the provider applies when the fact's setting is absent, for this format and
    /// API version, and the resource's settings that `when` reads its `when` specs from:
    /// `Some(true)` where one holds, `None` where only the deployment decides it.
    pub fn default_for(
        &self,
        fact: &str,
        dialect: Dialect,
        api_version: Option<&str>,
        mut when: impl FnMut(&str) -> Option<bool>,
    ) -> DefaultIs<'_> {
        for o in self.overrides.iter().rev() {
            if !o.applies(dialect, api_version) {
                continue;
            }
            let Some(value) = o.defaults.get(fact) else {
                continue;
            };
            if let Some(spec) = o.when.get(&dialect) {
                match when(spec) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return DefaultIs::DependsOn(spec),
                }
            }
            return match (value, &o.note) {
                (None, Some(note)) => DefaultIs::Removed(note),
                (value, _) => DefaultIs::Known(value.as_ref()),
            };
        }
        DefaultIs::Known(self.defaults.get(fact))
    }
}

/// Every service, indexed by each format's type names.
#[derive(Default)]
pub struct Services {
    entries: Vec<Service>,
    /// Per format, the service of each type name.
    by_type: foldhash::HashMap<Dialect, foldhash::HashMap<String, usize>>,
    by_id: foldhash::HashMap<String, usize>,
    /// Families of type names sharing an entry (`^aws_iam_`), tried when no name matches.
    patterns: Vec<(Dialect, Pattern, usize)>,
}

impl Services {
    pub fn load() -> Result<Self, KnowledgeError> {
        // The files are parsed on every core: start-up is most of a small scan's time.
        let files = SERVICE_FILES
            .par_iter()
            .map(|(path, text)| {
                let file: ServicesFile = match super::from_json_form(path) {
                    Some(file) => file,
                    None => {
                        crate::load::yaml::from_str_typed(text).map_err(|e| invalid(path, e))?
                    }
                };
                Ok((path, file))
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;
        let mut specs: BTreeMap<String, ServiceSpec> = BTreeMap::new();
        for (path, file) in files {
            for (id, spec) in file.services {
                if specs.contains_key(&id) {
                    return Err(invalid(path, format!("service {id} is declared twice")));
                }
                specs.insert(id, spec);
            }
        }
        // What a part inherits from the service it belongs to, read before the specs are
        // taken apart.
        type Inherited = (Option<String>, Option<String>, Option<String>);
        let parents: HashMap<String, Inherited> = specs
            .values()
            .filter_map(|spec| spec.part_of.as_deref())
            .filter_map(|p| {
                let parent = specs.get(p)?;
                Some((
                    p.to_string(),
                    (
                        parent.provider.clone(),
                        parent.service.clone(),
                        parent.category.clone(),
                    ),
                ))
            })
            .collect();
        let mut entries = Vec::with_capacity(specs.len());
        let mut by_type: foldhash::HashMap<Dialect, foldhash::HashMap<String, usize>> =
            foldhash::HashMap::default();
        let mut patterns = Vec::new();
        for (id, spec) in &specs {
            if let Some(p) = &spec.part_of
                && !specs.contains_key(p)
            {
                return Err(invalid(id, format!("part_of {p} is not a service")));
            }
        }
        for (id, spec) in specs {
            let index = entries.len();
            let (parent_provider, parent_service, parent_category) = spec
                .part_of
                .as_deref()
                .and_then(|p| parents.get(p).cloned())
                .unwrap_or_default();
            let provider = spec
                .provider
                .or(parent_provider)
                .ok_or_else(|| invalid(&id, "no provider"))?;
            let service = spec
                .service
                .or(parent_service)
                .ok_or_else(|| invalid(&id, "no service name"))?;
            for (dialect, names) in spec.type_patterns {
                for pattern in names.into_vec() {
                    // ARM types are matched in lower case (`arm_key`): so are their patterns,
                    // which therefore cannot use an escape whose letter's case matters (`\S`).
                    let pattern = if dialect == Dialect::Arm {
                        if pattern
                            .split('\\')
                            .skip(1)
                            .any(|after| after.starts_with(|c: char| c.is_ascii_alphabetic()))
                        {
                            return Err(invalid(
                                &id,
                                format!("ARM type pattern {pattern:?} has a letter escape"),
                            ));
                        }
                        pattern.to_ascii_lowercase()
                    } else {
                        pattern
                    };
                    let regex = Pattern::new(&pattern)
                        .map_err(|e| invalid(&id, format!("bad type pattern {pattern:?}: {e}")))?;
                    patterns.push((dialect, regex, index));
                }
            }
            let mut types = BTreeMap::new();
            for (dialect, names) in spec.types {
                let names = names.into_vec();
                for name in &names {
                    // Registry addresses are read whatever their case (`Azure/avm-…`), and so
                    // are ARM types (`microsoft.insights/components` in exported templates).
                    let key = match dialect {
                        Dialect::TerraformModule | Dialect::Arm => name.to_ascii_lowercase(),
                        _ => name.clone(),
                    };
                    if by_type
                        .entry(dialect)
                        .or_default()
                        .insert(key, index)
                        .is_some()
                    {
                        return Err(invalid(
                            &id,
                            format!("{} type {name} belongs to two services", dialect.as_str()),
                        ));
                    }
                }
                types.insert(dialect, names);
            }
            entries.push(Service {
                primary: spec.primary.unwrap_or(spec.part_of.is_none()),
                id,
                provider,
                service,
                category: spec.category.or(parent_category),
                data_holding: spec.data_holding,
                part_of: spec.part_of,
                replaceability: spec.replaceability,
                replica: spec.replica,
                global: spec.global,
                global_edge: spec.global_edge,
                no_data: spec.no_data,
                region_attrs: spec.region_attrs,
                default_location: spec.default_location,
                api_chooses_location: spec.api_chooses_location,
                located_by: spec.located_by,
                arm_location: spec.arm_location,
                types,
                facts: spec.facts,
                defaults: spec.defaults,
                overrides: spec.overrides,
            });
        }
        // A family that names the end of its types (`_iam_member$`, IAM bindings of any
        // resource) is narrower than one that names only their start (`^google_apigee_`): it
        // is tried first, so an IAM binding of an Apigee environment is IAM's, not Apigee's.
        patterns.sort_by_key(|(_, pattern, _): &(Dialect, Pattern, usize)| {
            !pattern.as_str().ends_with('$')
        });
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Ok(Services {
            entries,
            by_type,
            by_id,
            patterns,
        })
    }

    /// The service a format's type name declares.
    pub fn lookup(&self, format: Format, type_name: &str) -> Option<&Service> {
        self.lookup_dialect(Dialect::of(format), type_name)
    }

    /// Every type-family pattern, for the test that compiles them all.
    pub fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.patterns.iter().map(|(_, p, _)| p)
    }

    pub fn lookup_dialect(&self, dialect: Dialect, type_name: &str) -> Option<&Service> {
        self.lookup_key(dialect, &Self::key(dialect, type_name))
    }

    /// A type name as the tables hold it: ARM types in lower case, as Azure reads them
    /// whatever their case; other names as they are, without a copy.
    fn key(dialect: Dialect, type_name: &str) -> std::borrow::Cow<'_, str> {
        if dialect == Dialect::Arm && type_name.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(type_name.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(type_name)
        }
    }

    /// `lookup_dialect` of a name already made a key (`key`).
    fn lookup_key(&self, dialect: Dialect, type_name: &str) -> Option<&Service> {
        let index = self
            .by_type
            .get(&dialect)
            .and_then(|names| names.get(type_name))
            .copied()
            .or_else(|| {
                self.patterns
                    .iter()
                    .find(|(d, regex, _)| *d == dialect && regex.is_match(type_name))
                    .map(|(_, _, i)| *i)
            })?;
        self.entries.get(index)
    }

    /// The service a registry module creates (`types: {terraform-module: [...]}`), from the
    /// source a module call names (`registry.terraform.io/` and `?ref=` left out): a module's
    /// root is named `<namespace>/<name>/<provider>`, one of its submodules
    /// `<namespace>/<name>/<provider>//modules/<submodule>`, and every submodule of a module
    /// that makes one service throughout `<namespace>/<name>/<provider>//*`.
    pub fn of_module_source(&self, source: &str) -> Option<&Service> {
        let (root, sub) = module_source_parts(source);
        let root = root.to_ascii_lowercase();
        let lookup = |name: &str| self.lookup_dialect(Dialect::TerraformModule, name);
        match sub {
            None => lookup(&root),
            Some(sub) => lookup(&format!("{root}//{}", sub.to_ascii_lowercase()))
                .or_else(|| lookup(&format!("{root}//*"))),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Service> {
        self.by_id.get(id).map(|i| &self.entries[*i])
    }

    /// The service a resource was extracted as.
    pub fn of(&self, resource: &crate::model::Resource) -> Option<&Service> {
        resource.service_id.as_deref().and_then(|id| self.get(id))
    }

    /// Is the resource a part that configures another (whose location findings belong to the
    /// primary resource)? Unknown types and Kubernetes kinds are not.
    pub fn is_part(&self, resource: &crate::model::Resource) -> bool {
        match self.of(resource) {
            Some(service) => !service.primary,
            None => self
                .part_by_prefix(Dialect::of(resource.format), &resource.kind)
                .is_some(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Service> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The known service an unknown type configures, judged from its name: the longest known
    /// `<name>_` prefix of a Terraform type (`aws_s3_bucket` for
    /// `aws_s3_bucket_intelligent_tiering_configuration`), the parent of an ARM child type
    /// (`Microsoft.Web/sites` for `Microsoft.Web/sites/extensions`), or a known type of the same
    /// CloudFormation namespace (`AWS::Logs::` for `AWS::Logs::QueryDefinition`).
    pub fn part_by_prefix(&self, dialect: Dialect, type_name: &str) -> Option<&Service> {
        match dialect {
            Dialect::Terraform => self.longest_known_prefix(dialect, type_name, '_'),
            Dialect::Arm => self.longest_known_prefix(dialect, type_name, '/'),
            Dialect::Cloudformation | Dialect::AwsConfig => {
                let namespace = type_name.rfind("::").map(|i| &type_name[..i + 2])?;
                // SAM's namespace holds unrelated services (functions, APIs, tables).
                if namespace == "AWS::Serverless::" {
                    return None;
                }
                self.by_type
                    .get(&dialect)?
                    .iter()
                    .filter(|(name, _)| name.starts_with(namespace))
                    .map(|(_, i)| *i)
                    .min()
                    .map(|i| &self.entries[i])
            }
            Dialect::Kubernetes | Dialect::TerraformModule => None,
        }
    }

    /// The known type that is the longest prefix of `type_name` ending before a `separator`.
    fn longest_known_prefix(
        &self,
        dialect: Dialect,
        type_name: &str,
        separator: char,
    ) -> Option<&Service> {
        // Made a key once, not once for each prefix tried.
        let type_name = Self::key(dialect, type_name);
        let mut end = type_name.len();
        while let Some(cut) = type_name[..end].rfind(separator) {
            if let Some(s) = self.lookup_key(dialect, &type_name[..cut]) {
                return Some(s);
            }
            end = cut;
        }
        None
    }

    /// Number of type names over every format.
    pub fn type_count(&self) -> usize {
        self.by_type.values().map(|names| names.len()).sum()
    }
}

/// A registry module source's root (`terraform-aws-modules/eks/aws`, whose last part is the
/// provider it needs) and submodule (`modules/karpenter`), without the registry's host and a
/// `?ref=`.
pub fn module_source_parts(source: &str) -> (&str, Option<&str>) {
    let source = source.split('?').next().unwrap_or(source);
    let source = source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(source);
    match source.split_once("//") {
        Some((root, sub)) => (root, Some(sub.trim_end_matches('/'))),
        None => (source, None),
    }
}

fn invalid(path: &str, reason: impl std::fmt::Display) -> KnowledgeError {
    KnowledgeError::Invalid {
        file: "services",
        reason: format!("{path}: {reason}"),
    }
}

/// Checks the knowledge for facts, categories, parents and providers that do not exist.
pub fn problems(kb: &super::KnowledgeBase) -> Vec<String> {
    /// Categories that name a kind of data rather than a service with EU alternatives.
    const DATA_CATEGORIES: &[&str] = &["snapshot", "machine_image"];
    let mut problems = Vec::new();
    for s in kb.services.iter() {
        for fact in s.facts.keys().chain(s.defaults.keys()) {
            if !FACTS.contains(&fact.as_str()) {
                problems.push(format!("{}: unknown fact {fact}", s.id));
            }
        }
        for (fact, per_format) in &s.facts {
            for dialect in per_format.keys() {
                if !s.types.contains_key(dialect) {
                    problems.push(format!(
                        "{}: fact {fact} has a {} route but the service names no {} type",
                        s.id,
                        dialect.as_str(),
                        dialect.as_str()
                    ));
                }
            }
        }
        for o in &s.overrides {
            for dialect in o.when.keys() {
                if !s.types.contains_key(dialect) {
                    problems.push(format!(
                        "{}: an override's `when` has a {} spec but the service names no {} type",
                        s.id,
                        dialect.as_str(),
                        dialect.as_str()
                    ));
                }
            }
            if o.note.is_some() && o.defaults.values().any(Option::is_some) {
                problems.push(format!(
                    "{}: an override's `note` explains a default it removes (`null`) only",
                    s.id
                ));
            }
        }
        if let Some(c) = &s.category
            && kb.alternatives(c).is_none()
            && !DATA_CATEGORIES.contains(&c.as_str())
        {
            problems.push(format!(
                "{}: category {c} has no eu_alternatives entry",
                s.id
            ));
        }
        if kb.provider(&s.provider).is_none() && s.provider != "openstack" {
            problems.push(format!("{}: provider {} is unknown", s.id, s.provider));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_source_is_read_without_host_ref_and_case() {
        assert_eq!(
            module_source_parts(
                "registry.terraform.io/terraform-aws-modules/iam/aws//modules/iam-role/?ref=v5"
            ),
            ("terraform-aws-modules/iam/aws", Some("modules/iam-role"))
        );
        assert_eq!(
            module_source_parts("terraform-aws-modules/eks/aws"),
            ("terraform-aws-modules/eks/aws", None)
        );
        let kb = crate::knowledge::get().unwrap();
        let id = |source: &str| kb.services.of_module_source(source).map(|s| s.id.as_str());
        assert_eq!(id("Terraform-AWS-Modules/EKS/aws"), Some("aws/eks-cluster"));
        // Every submodule of IAM is IAM; a submodule of EKS is not named, so not EKS.
        assert_eq!(
            id("terraform-aws-modules/iam/aws//modules/iam-user"),
            Some("aws/iam")
        );
        assert_eq!(id("terraform-aws-modules/eks/aws//modules/karpenter"), None);
        // The table is read whatever the case either side is written in.
        assert_eq!(
            id("Azure/avm-res-storage-storageaccount/azurerm"),
            Some("azure/storage-account")
        );
        assert_eq!(
            id("azure/avm-res-containerservice-managedcluster/azurerm"),
            Some("azure/aks-cluster")
        );
        assert_eq!(
            id("terraform-google-modules/sql-db/google//modules/postgresql"),
            Some("gcp/cloud-sql-instance")
        );
    }

    /// A family of type names (`^google_apigee_`) holds parts of a service and settings: a
    /// service whose every type of the family counted as its own resource would report each
    /// IAM binding and attachment (`google_apigee_environment_iam_member`) as the service.
    #[test]
    fn type_families_belong_to_parts_and_settings_only() {
        let kb = crate::knowledge::get().unwrap();
        let primary: Vec<&str> = kb
            .services
            .patterns
            .iter()
            .map(|(_, _, i)| &kb.services.entries[*i])
            .filter(|s| s.primary)
            .map(|s| s.id.as_str())
            .collect();
        assert!(primary.is_empty(), "{primary:?}");
        assert!(kb.services.patterns.len() > 60);
        // Terraform's types of every provider share one table: a family starts with its
        // provider's prefix (`^azurerm_`), or it would take another provider's types.
        for (dialect, pattern, _) in &kb.services.patterns {
            if *dialect != Dialect::Terraform {
                continue;
            }
            let source = pattern.as_str();
            let prefix = source
                .strip_prefix('^')
                .and_then(|rest| rest.split_once('_'))
                .map(|(word, _)| word);
            assert!(
                prefix.is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{source} does not start with a provider's prefix"
            );
        }
        // An IAM binding of a family's resource is IAM's, whichever family it names.
        for name in [
            "google_apigee_environment_iam_member",
            "google_clouddeploy_target_iam_binding",
            "google_healthcare_dataset_iam_member",
        ] {
            assert_eq!(
                kb.services
                    .lookup_dialect(Dialect::Terraform, name)
                    .map(|s| s.id.as_str()),
                Some("gcp/iam"),
                "{name}"
            );
        }
    }

    /// Azure reads resource types whatever their case, and templates exported from the portal
    /// write some in lower case: so does the knowledge, for types and type patterns alike.
    #[test]
    fn an_arm_type_is_known_whatever_its_case() {
        let kb = crate::knowledge::get().unwrap();
        let id = |name: &str| {
            kb.services
                .lookup_dialect(Dialect::Arm, name)
                .map(|s| s.id.as_str())
        };
        for name in [
            "Microsoft.Insights/components",
            "microsoft.insights/components",
            "MICROSOFT.INSIGHTS/COMPONENTS",
        ] {
            assert_eq!(id(name), Some("azure/application-insights"), "{name}");
        }
        // A type of a family named by a pattern (`^Microsoft\.Network/(private)?[dD]nsZones/`).
        assert_eq!(
            id("microsoft.network/privatednszones/A"),
            id("Microsoft.Network/privateDnsZones/A")
        );
        assert!(id("Microsoft.Network/privateDnsZones/A").is_some());
        assert_eq!(
            id("Microsoft.Network/ExpressRoutePorts"),
            Some("azure/express-route")
        );
        // A child of a known parent is a part of it whatever its case.
        assert_eq!(
            kb.services
                .part_by_prefix(Dialect::Arm, "microsoft.web/SITES/extensions")
                .map(|s| s.id.as_str()),
            Some("azure/web-app")
        );
    }

    #[test]
    fn every_entry_uses_known_facts_categories_and_providers() {
        let kb = crate::knowledge::get().unwrap();
        let problems = problems(kb);
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(kb.services.len() > 200);
    }

    #[test]
    fn overrides_by_format_and_api_version() {
        let o = DefaultOverride {
            formats: vec![Dialect::Arm],
            api_versions: Some("< 2019-04-01".into()),
            when: BTreeMap::new(),
            note: None,
            defaults: BTreeMap::from([("https_only".into(), Some(FactDefault::Bool(false)))]),
        };
        assert!(o.applies(Dialect::Arm, Some("2018-07-01")));
        assert!(!o.applies(Dialect::Arm, Some("2019-04-01")));
        assert!(!o.applies(Dialect::Arm, Some("2023-01-01-preview")));
        assert!(!o.applies(Dialect::Arm, None));
        assert!(!o.applies(Dialect::Terraform, Some("2018-07-01")));
    }

    #[test]
    fn an_override_with_a_condition_applies_where_it_holds_and_defers_where_unknown() {
        let service = Service {
            id: "aws/db".into(),
            provider: "aws".into(),
            service: "DB".into(),
            category: None,
            data_holding: true,
            primary: true,
            part_of: None,
            replaceability: None,
            replica: false,
            global: false,
            global_edge: false,
            no_data: false,
            region_attrs: None,
            default_location: None,
            api_chooses_location: false,
            located_by: Vec::new(),
            arm_location: None,
            types: BTreeMap::new(),
            facts: BTreeMap::new(),
            defaults: BTreeMap::from([("encrypted".into(), FactDefault::Bool(false))]),
            overrides: vec![DefaultOverride {
                formats: Vec::new(),
                api_versions: None,
                when: BTreeMap::from([(Dialect::Terraform, "engine_mode in [serverless]".into())]),
                note: None,
                defaults: BTreeMap::from([("encrypted".into(), Some(FactDefault::Bool(true)))]),
            }],
        };
        let default = |holds: Option<bool>| {
            service.default_for("encrypted", Dialect::Terraform, None, |_| holds)
        };
        assert_eq!(
            default(Some(true)),
            DefaultIs::Known(Some(&FactDefault::Bool(true)))
        );
        assert_eq!(
            default(Some(false)),
            DefaultIs::Known(Some(&FactDefault::Bool(false)))
        );
        assert_eq!(
            default(None),
            DefaultIs::DependsOn("engine_mode in [serverless]")
        );
        // A format the condition does not name keeps the default.
        assert_eq!(
            service.default_for("encrypted", Dialect::Cloudformation, None, |_| None),
            DefaultIs::Known(Some(&FactDefault::Bool(false)))
        );
    }
}
