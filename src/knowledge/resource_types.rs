//! The resource-type table: each cloud resource type (Terraform, CloudFormation, ARM, AWS Config)
//! mapped to its provider, service, category, whether it holds data, and whether it is a primary
//! resource or a sub-resource of another. Rules are written once against these facts.

use serde::Deserialize;
use std::collections::BTreeMap;

use super::KnowledgeError;

include!(concat!(env!("OUT_DIR"), "/resource_type_files.rs"));

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResourceTypesFile {
    #[serde(default)]
    types: BTreeMap<String, ResourceType>,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Replaceability {
    /// A drop-in EU equivalent exists (VMs, object storage, managed Kubernetes, PostgreSQL, DNS).
    Commodity,
    /// No drop-in EU equivalent (DynamoDB, Lambda, Cosmos DB, BigQuery, Spanner, Firestore).
    Proprietary,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ResourceType {
    /// Provider key (`aws`, `azure`, `gcp`, `ionos`, …).
    pub provider: String,
    /// Service name for people (`Amazon S3`).
    pub service: String,
    /// Key of `eu_alternatives` in jurisdictions.yaml (`object_storage`), when one applies.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub data_holding: bool,
    /// `false` for sub-resources that configure another (`aws_s3_bucket_versioning`).
    #[serde(default = "yes")]
    pub primary: bool,
    /// The primary type a sub-resource belongs to.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub replaceability: Option<Replaceability>,
    /// The same kind of resource in other formats (`AWS::S3::Bucket`, `Microsoft.Storage/storageAccounts`).
    #[serde(default)]
    pub same_as: Vec<String>,
    /// A copy of another resource's data kept in its own region (DynamoDB table replica, RDS
    /// automated-backup replication, KMS replica key): its location is a replica target.
    #[serde(default)]
    pub replica: bool,
    /// Serves from edge locations worldwide (CloudFront, Front Door, Cloud CDN).
    #[serde(default)]
    pub global_edge: bool,
    /// Has no region of its own (IAM, DNS zones, CDN distributions): never located.
    #[serde(default)]
    pub global: bool,
    /// Attributes (routes) naming the location, in order, instead of the common ones
    /// (`region`, `location`, `zone`, `availability_zone`): Spanner `config`, Hetzner
    /// `datacenter`; `[]` for types whose location comes only from a parent (an IONOS server's
    /// `availability_zone` is `AUTO` or `ZONE_1`, not a place).
    #[serde(default)]
    pub region_attrs: Option<Vec<String>>,
    /// Where normalised facts live for this type: fact name → attribute spec. A spec is one or
    /// more alternatives joined by ` || `, the first present wins; each is a route
    /// (`settings[0].backup_configuration[0].enabled`, `[*]` for every list item), a negated
    /// boolean route (`!block_public_acls`), or a membership test (`acl in [public-read, …]`).
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
    /// Fact values the provider applies when the attribute is absent (`encrypted: false` for
    /// `aws_db_instance`, `log_retention_days: 0` for a CloudWatch log group).
    #[serde(default)]
    pub defaults: BTreeMap<String, FactDefault>,
}

/// A default fact value written in YAML.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(untagged)]
pub enum FactDefault {
    Bool(bool),
    Int(i64),
    Text(String),
}

fn yes() -> bool {
    true
}

/// All resource types by name (every format's names, including `same_as` aliases).
pub struct ResourceTypes {
    by_name: BTreeMap<String, ResourceType>,
}

impl ResourceTypes {
    pub fn load() -> Result<Self, KnowledgeError> {
        let mut by_name = BTreeMap::new();
        for (path, text) in RESOURCE_TYPE_FILES {
            let file: ResourceTypesFile =
                crate::load::yaml::from_str_typed(text).map_err(|e| KnowledgeError::Invalid {
                    file: "resource_types",
                    reason: format!("{path}: {e}"),
                })?;
            for (name, t) in file.types {
                for alias in &t.same_as {
                    by_name.entry(alias.clone()).or_insert_with(|| t.clone());
                }
                by_name.insert(name, t);
            }
        }
        Ok(ResourceTypes { by_name })
    }

    pub fn get(&self, type_name: &str) -> Option<&ResourceType> {
        self.by_name.get(type_name)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Is the type a sub-resource that configures another (whose location findings belong to
    /// the primary resource)? Unknown types and Kubernetes kinds are not.
    pub fn is_sub_resource(&self, type_name: &str) -> bool {
        self.get(type_name).is_some_and(|t| !t.primary)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::FACTS;

    /// Categories that name a kind of data rather than a service with EU alternatives.
    const DATA_CATEGORIES: &[&str] = &["snapshot", "machine_image"];

    #[test]
    fn every_entry_uses_known_facts_and_categories() {
        let kb = crate::knowledge::get().unwrap();
        let mut problems = Vec::new();
        for (name, t) in &kb.resource_types.by_name {
            for fact in t.facts.keys().chain(t.defaults.keys()) {
                if !FACTS.contains(&fact.as_str()) {
                    problems.push(format!("{name}: unknown fact {fact}"));
                }
            }
            if let Some(c) = &t.category
                && kb.alternatives(c).is_none()
                && !DATA_CATEGORIES.contains(&c.as_str())
            {
                problems.push(format!("{name}: category {c} has no eu_alternatives entry"));
            }
            if let Some(parent) = &t.parent
                && kb.resource_types.get(parent).is_none()
            {
                problems.push(format!("{name}: parent {parent} is not in the table"));
            }
            if kb.provider(&t.provider).is_none() && t.provider != "openstack" {
                problems.push(format!("{name}: provider {} is unknown", t.provider));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(kb.resource_types.len() > 200);
    }
}
