//! Named built-in checks: conditions plain data cannot express. Each rule file names its check;
//! the rule's text, severity and references stay in the YAML.

pub mod cloud_dependency;
pub mod cloud_gdpr;
pub mod cloud_log_buckets;
pub mod cloud_residency;
mod helm_values;
mod image_references;
pub mod kubernetes;
pub mod kubernetes_bindings;
pub mod region;
pub mod registries;

use crate::engine::{Context, Rule};
use crate::finding::Severity;
use crate::location::Location;
use crate::model::Resource;

/// One place a check fired, with the values for the rule's message placeholders.
#[derive(Clone, Debug)]
pub struct Hit {
    pub location: Location,
    pub vars: Vec<(&'static str, String)>,
    /// The offending value, already redacted where it is a secret.
    pub evidence: Option<String>,
    /// Overrides the rule's severity (e.g. higher for data-holding resources).
    pub severity: Option<Severity>,
    pub related: Vec<Location>,
    /// Distinguishes several hits of one rule on the same field (kept in the fingerprint).
    pub key: String,
    /// The cloud provider the hit ties the resource to, when the resource itself names none.
    pub provider: Option<String>,
}

/// Where data is kept or sent, when not inside (`Context::standing_of`): what the finding names.
#[derive(Clone, Debug)]
pub struct Elsewhere {
    pub text: String,
    /// Every country it names has an adequacy decision (profile `eu`): reported low.
    pub adequacy: bool,
}

impl Elsewhere {
    /// A place outside the EU/EEA with no adequacy decision (or none the profile accepts).
    pub fn outside(text: impl Into<String>) -> Self {
        Elsewhere {
            text: text.into(),
            adequacy: false,
        }
    }

    /// `hit`, low when the place is an adequacy country, as RES-002 reports a resource there.
    pub fn judge(&self, hit: Hit) -> Hit {
        if self.adequacy {
            hit.severity(Severity::Low)
        } else {
            hit
        }
    }
}

impl Hit {
    pub fn at(location: Location) -> Self {
        Hit {
            location,
            vars: Vec::new(),
            evidence: None,
            severity: None,
            related: Vec::new(),
            key: String::new(),
            provider: None,
        }
    }

    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.vars.push((name, value.into()));
        self
    }

    pub fn evidence(mut self, value: impl Into<String>) -> Self {
        self.evidence = Some(value.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    /// A hit where a fact is written, with where its value is given when that is elsewhere
    /// (`Fact::given_at`: the caller's argument of a module input).
    pub fn at_fact(fact: &crate::model::Fact) -> Self {
        let hit = Hit::at(fact.location.clone());
        match &fact.given_at {
            Some(given) => hit.related((**given).clone()),
            None => hit,
        }
    }

    pub fn related(mut self, location: Location) -> Self {
        self.related.push(location);
        self
    }

    pub fn provider(mut self, key: impl Into<String>) -> Self {
        self.provider = Some(key.into());
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }
}

/// A check of a resource, of the resources of one unit, or of what the scan keeps of every
/// unit. Checks over several resources return (index into `Context::resources`, hit).
#[derive(Clone, Copy)]
pub enum Check {
    Resource(fn(&Context, &Resource, &mut Vec<Hit>)),
    /// Over the resources of one unit (a file, a Terraform module with its variable files and
    /// the local modules it calls, a template with its parameters, a snapshot), for findings
    /// that group resources deployed together. The second function says how a resource on
    /// which the check finds something alone takes part in those groups, so that a snapshot's
    /// items need not wait for each other when they do not.
    Unit(
        fn(&Context, &Rule, &mut Vec<(usize, Hit)>),
        fn(&Context, &Resource) -> Grouping,
    ),
    /// Per resource with its unit, and once over what the scan keeps for scan-wide checks
    /// (`keep_for_scan`, `Context::buckets`): what one resource says, and what resources of
    /// several files say together. The third function gives, with its unit, the hit a resource
    /// has if the scan-wide part confirms it (`Engine::candidate_findings`).
    ResourceAndScan(
        fn(&Context, &Resource, &mut Vec<Hit>),
        fn(&Context, &Rule, &mut Vec<(usize, Hit)>),
        fn(&Context, &Resource) -> Option<Hit>,
    ),
}

/// How a unit check treats a resource on which it finds something alone, among the resources
/// of its unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// Its findings are those it has alone.
    Alone,
    /// Its findings are those it has alone, except that the first of the resources with this
    /// key, in resource order, may list others in its finding.
    Owner(String),
    /// Its findings depend on the other resources.
    Member,
}

impl Grouping {
    /// How two checks together treat a resource: the one that waits more.
    pub fn and(self, other: Grouping) -> Grouping {
        match (self, other) {
            (Grouping::Alone, g) | (g, Grouping::Alone) => g,
            (Grouping::Owner(a), Grouping::Owner(b)) if a == b => Grouping::Owner(a),
            _ => Grouping::Member,
        }
    }
}

/// Facts the scan-wide checks read (log buckets, a resource's creation condition in its
/// findings): a resource keeps these once its own rules have run.
pub const SCAN_FACTS: &[&str] = &[
    "configures",
    "log_target",
    "object_expiration_days",
    crate::model::CREATED_IF,
];

/// Does a per-resource check of this resource look at resources of other units (the
/// StorageClass a claim names)? Such a resource is evaluated once every unit is extracted;
/// any other is evaluated with its unit, whose resources `Context::resources` holds. A new
/// check that reads resources of other units must name the resources it reads them for here,
/// and the resources it reads in `keep_for_scan`.
pub fn needs_estate(resource: &Resource) -> bool {
    kubernetes_bindings::needs_estate(resource)
}

/// Is a settled resource read whole by scan-wide checks: a StorageClass that claims of other
/// files name, a log sender or lifecycle configuration that names buckets of other files of its
/// folder? Any other is counted into the estate and dropped once its unit is evaluated (of a
/// bucket, the scan keeps a `cloud_log_buckets::Bucket`).
pub fn keep_for_scan(ctx: &Context, resource: &Resource) -> bool {
    needs_estate(resource)
        || kubernetes_bindings::named_by_claims(resource)
        || cloud_log_buckets::names_buckets(ctx, resource)
}

/// Every module's checks, by name.
fn registry() -> impl Iterator<Item = &'static (&'static str, Check)> {
    kubernetes::CHECKS
        .iter()
        .chain(kubernetes_bindings::CHECKS)
        .chain(region::CHECKS)
        .chain(cloud_residency::CHECKS)
        .chain(cloud_dependency::CHECKS)
        .chain(cloud_gdpr::CHECKS)
        .chain(registries::CHECKS)
}

pub fn lookup(name: &str) -> Option<Check> {
    registry().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

pub fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

pub fn names() -> Vec<&'static str> {
    registry().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::Grouping::{Alone, Member, Owner};

    #[test]
    fn two_checks_together_wait_as_long_as_the_one_that_waits_more() {
        let eu = || Owner("eu-west-3".to_string());
        assert_eq!(Alone.and(Alone), Alone);
        assert_eq!(Alone.and(eu()), eu());
        assert_eq!(eu().and(Alone), eu());
        assert_eq!(eu().and(eu()), eu());
        // Two keys: the first of one may not be the first of the other.
        assert_eq!(eu().and(Owner("us-east-1".to_string())), Member);
        assert_eq!(Member.and(Alone), Member);
        assert_eq!(eu().and(Member), Member);
    }
}
