//! What the reports say of the scanned resources as a whole, counted as each resource's rules
//! have run: a scan keeps these counts, not the resources.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::knowledge::{KnowledgeBase, canonical_provider};
use crate::load::Format;
use crate::model::Resource;

/// Counts of the scanned resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Estate {
    pub resources: usize,
    /// By input format (`kubernetes`, `terraform`, …).
    pub by_format: BTreeMap<&'static str, usize>,
    /// By the canonical key of each provider a resource runs on or is tied to; `none` for
    /// resources tied to none.
    pub by_provider: BTreeMap<String, usize>,
    /// By the jurisdiction that controls each provider of a resource.
    pub by_control: BTreeMap<&'static str, usize>,
    /// By the jurisdiction of the resource's data location (`eu`, `third-country`, `unknown`,
    /// `not applicable`).
    pub by_location: BTreeMap<&'static str, usize>,
    /// Resources whose location resolves to countries, and those of them all in the EU/EEA.
    pub located: usize,
    pub in_eu: usize,
    /// Resources tied to a provider, and those of them tied only to EU-controlled ones.
    pub attributed: usize,
    pub eu_controlled: usize,
    /// Resources of providers controlled from outside the EU, by provider key, service and
    /// service category.
    pub services: BTreeMap<String, BTreeMap<String, BTreeMap<String, usize>>>,
}

impl Estate {
    /// Counts a resource; `ties` are the providers other than its own that findings tie it to.
    pub fn add(&mut self, kb: &KnowledgeBase, r: &Resource, ties: Option<&BTreeSet<String>>) {
        self.resources += 1;
        *self.by_format.entry(r.format.as_str()).or_default() += 1;
        let own = r.provider.as_deref().map(canonical_provider);
        let mut providers: BTreeSet<&str> =
            ties.into_iter().flatten().map(String::as_str).collect();
        providers.extend(own);
        if providers.is_empty() {
            count(&mut self.by_provider, "none");
        } else {
            self.attributed += 1;
            if providers.iter().all(|p| kb.is_eu_controlled(p)) {
                self.eu_controlled += 1;
            }
            for p in &providers {
                count(&mut self.by_provider, p);
                *self
                    .by_control
                    .entry(kb.control_jurisdiction(p).as_str())
                    .or_default() += 1;
            }
        }
        let location = match r.region.as_ref() {
            Some(region) => match &region.resolved {
                Some(info) if !info.countries.is_empty() => {
                    self.located += 1;
                    if info.countries.iter().all(|c| kb.in_eea(c)) {
                        self.in_eu += 1;
                    }
                    info.countries
                        .iter()
                        .map(|c| kb.jurisdiction_of(c))
                        .max()
                        .map_or("unknown", |j| j.as_str())
                }
                _ => "unknown",
            },
            None if r.unresolved_region.is_some() => "unknown",
            None => "not applicable",
        };
        *self.by_location.entry(location).or_default() += 1;
        if let (Some(provider), Some(category)) = (own, &r.category)
            && !kb.is_eu_controlled(provider)
        {
            let service = r.service.as_deref().unwrap_or(&r.kind);
            let services = match self.services.get_mut(provider) {
                Some(services) => services,
                None => self.services.entry(provider.to_string()).or_default(),
            };
            let categories = match services.get_mut(service) {
                Some(categories) => categories,
                None => services.entry(service.to_string()).or_default(),
            };
            count(categories, category);
        }
    }

    /// Adds the counts of another part of the scan.
    pub fn merge(&mut self, other: Estate) {
        self.resources += other.resources;
        self.located += other.located;
        self.in_eu += other.in_eu;
        self.attributed += other.attributed;
        self.eu_controlled += other.eu_controlled;
        for (k, n) in other.by_format {
            *self.by_format.entry(k).or_default() += n;
        }
        for (k, n) in other.by_provider {
            *self.by_provider.entry(k).or_default() += n;
        }
        for (k, n) in other.by_control {
            *self.by_control.entry(k).or_default() += n;
        }
        for (k, n) in other.by_location {
            *self.by_location.entry(k).or_default() += n;
        }
        for (provider, services) in other.services {
            let mine = self.services.entry(provider).or_default();
            for (service, categories) in services {
                let mine = mine.entry(service).or_default();
                for (category, n) in categories {
                    *mine.entry(category).or_default() += n;
                }
            }
        }
    }
}

/// Counts one under a key, copying the key only the first time.
fn count(counts: &mut BTreeMap<String, usize>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// A resource named in the result: with `ScanRequest::list_resources`, for reports that list
/// every resource (JUnit has a test case per resource).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    pub path: Arc<str>,
    pub address: String,
    pub format: Format,
    pub name: String,
}

impl Listed {
    pub fn of(r: &Resource) -> Self {
        Listed {
            path: Arc::clone(&r.path),
            address: r.address.clone(),
            format: r.format,
            name: r.name.clone(),
        }
    }
}
