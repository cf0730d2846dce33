//! The embedded knowledge base: regions → country, country → jurisdiction, provider → control,
//! registries and SaaS endpoints by host, and the Kubernetes markers of each cloud.

pub mod data;
pub mod hosts;
pub mod pattern;
pub mod services;

use pattern::Pattern;

use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use data::*;

pub use hosts::{DataRegion, HostMatch};

const VERSION: &str = include_str!("../../rules/knowledge/VERSION.yaml");
const REGIONS: &str = include_str!("../../rules/knowledge/regions.yaml");
const JURISDICTIONS: &str = include_str!("../../rules/knowledge/jurisdictions.yaml");
const ENDPOINTS: &str = include_str!("../../rules/knowledge/registries_and_saas.yaml");
const MARKERS: &str = include_str!("../../rules/knowledge/k8s_markers.yaml");

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("knowledge file {file} is invalid: {reason}")]
    Invalid { file: &'static str, reason: String },
}

/// Where a country stands for EU data-protection law.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Jurisdiction {
    Eu,
    Eea,
    Adequacy,
    ThirdCountry,
    Unknown,
}

impl Jurisdiction {
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::Eu => "eu",
            Jurisdiction::Eea => "eea",
            Jurisdiction::Adequacy => "adequacy",
            Jurisdiction::ThirdCountry => "third-country",
            Jurisdiction::Unknown => "unknown",
        }
    }
}

/// A resolved location id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionInfo {
    pub provider: String,
    /// The canonical id the raw value resolved to (`eu-central-1` for `eu-central-1a`).
    pub id: String,
    /// Countries holding the data: one for a region, several for a multi-/dual-region.
    pub countries: Vec<String>,
    pub multi: bool,
    pub city: Option<String>,
    pub unverified: bool,
    /// The EU-operated offering of a non-EU technology provider the region belongs to (`aws-esc`).
    pub offering: Option<String>,
}

impl RegionInfo {
    pub fn country(&self) -> Option<&str> {
        if self.countries.len() == 1 {
            self.countries.first().map(String::as_str)
        } else {
            None
        }
    }
}

/// Who controls a provider, and which third-country laws reach it.
#[derive(Clone, Debug)]
pub struct ProviderInfo {
    pub key: String,
    pub name: String,
    pub control_country: Option<String>,
    pub classification: String,
    pub exposed_to: Vec<String>,
}

pub struct CompiledKeyMarker {
    pub marker: KeyMarker,
    regex: Option<Pattern>,
}

impl CompiledKeyMarker {
    pub fn matches(&self, key: &str) -> bool {
        match (
            self.marker.match_kind.as_deref(),
            &self.marker.key,
            &self.regex,
        ) {
            (Some("regex"), _, Some(re)) => re.is_match(key),
            (Some("prefix"), Some(k), _) => key.starts_with(k.as_str()),
            (_, Some(k), _) => key == k,
            _ => false,
        }
    }
}

/// The place of a two-letter code in `KnowledgeBase::by_code`.
fn code_index(country: &str) -> Option<usize> {
    match country.as_bytes() {
        [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
            Some(usize::from(a - b'A') * 26 + usize::from(b - b'A'))
        }
        _ => None,
    }
}

pub struct KnowledgeBase {
    pub version: String,
    pub checked: String,
    regions: RegionsFile,
    /// Per provider, each region's id and aliases, normalised, to the id.
    region_index: foldhash::HashMap<String, foldhash::HashMap<String, String>>,
    eu: BTreeSet<String>,
    eea: BTreeSet<String>,
    adequacy: BTreeSet<String>,
    /// Where each two-letter code stands, by its letters (`code_index`): asked per resource
    /// and finding.
    by_code: Vec<Jurisdiction>,
    providers: BTreeMap<String, ProviderControl>,
    alternatives: BTreeMap<String, Alternatives>,
    pub hosts: hosts::HostClassifier,
    pub env_vars: Vec<EnvVarSpec>,
    /// Images that carry data to one vendor (`cloudflare/cloudflared`).
    pub connector_images: Vec<data::ConnectorImage>,
    pub markers: MarkersFile,
    pub annotation_markers: Vec<CompiledKeyMarker>,
    pub instance_types: Vec<(String, Pattern)>,
    pub crd_groups: Vec<(CrdGroup, Pattern)>,
    pub services: services::Services,
}

include!(concat!(env!("OUT_DIR"), "/knowledge_json.rs"));

/// An embedded knowledge file (`rules/knowledge/regions.yaml`) read from the JSON form it was
/// given at build time, which takes a fraction of the time YAML takes; `None` when there is no
/// JSON form or it does not read as `T` (the caller reads the YAML then).
pub(crate) fn from_json_form<T: for<'de> serde::Deserialize<'de>>(path: &str) -> Option<T> {
    let (_, json) = KNOWLEDGE_JSON.iter().find(|(p, _)| *p == path)?;
    serde_json::from_str(json).ok()
}

/// A digest of the facts the embedded knowledge holds: FNV-1a (64 bits) over the path and the
/// JSON form of every knowledge file but `VERSION.yaml`, in path order. The JSON form leaves out
/// comments and layout, so only a change of what the files say changes it. `VERSION.yaml`
/// names the digest of the facts its `kb_version` stands for, and a test holds the two
/// together: facts cannot change under a version that reports already name.
pub fn facts_digest() -> String {
    let mut files: Vec<(&str, &str)> = KNOWLEDGE_JSON
        .iter()
        .filter(|(path, _)| !path.ends_with("/VERSION.yaml"))
        .copied()
        .collect();
    files.sort_by_key(|(path, _)| *path);
    digest(&files)
}

/// FNV-1a (64 bits, in hex) over each file's path and text, as fingerprints hash their parts.
fn digest(files: &[(&str, &str)]) -> String {
    let mut hash = crate::finding::Fnv::new();
    for (path, text) in files {
        hash.add(path);
        hash.add(text);
    }
    hash.hex()
}

fn parse<T: for<'de> serde::Deserialize<'de>>(
    file: &'static str,
    text: &str,
) -> Result<T, KnowledgeError> {
    if let Some(value) = from_json_form(&format!("rules/knowledge/{file}")) {
        return Ok(value);
    }
    crate::load::yaml::from_str_typed(text).map_err(|e| KnowledgeError::Invalid {
        file,
        reason: e.to_string(),
    })
}

fn compile(file: &'static str, pattern: &str) -> Result<Pattern, KnowledgeError> {
    Pattern::new(pattern).map_err(|e| KnowledgeError::Invalid {
        file,
        reason: format!("bad regex {pattern:?}: {e}"),
    })
}

static KB: OnceLock<Result<KnowledgeBase, String>> = OnceLock::new();

/// The embedded knowledge base, parsed once.
pub fn get() -> Result<&'static KnowledgeBase, KnowledgeError> {
    KB.get_or_init(|| KnowledgeBase::load().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|reason| KnowledgeError::Invalid {
            file: "rules/knowledge",
            reason: reason.clone(),
        })
}

/// Normalises a location id for lookup: lower case, no spaces/underscores.
pub fn normalize_id(raw: &str) -> String {
    raw.trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Provider keys as used across the knowledge files (markers say `huaweicloud`, control says `huawei`).
pub fn canonical_provider(key: &str) -> &str {
    match key {
        "huaweicloud" => "huawei",
        "google" | "gce" | "gcloud" => "gcp",
        "azurerm" | "microsoft" => "azure",
        "alicloud" => "alibaba",
        "opentelekomcloud" => "otc",
        "ionoscloud" => "ionos",
        "hcloud" => "hetzner",
        "ovhcloud" => "ovh",
        other => other,
    }
}

impl KnowledgeBase {
    fn load() -> Result<Self, KnowledgeError> {
        // The service tables, the largest part, are read while the rest is.
        let (services, rest) = rayon::join(services::Services::load, Self::load_rest);
        Ok(KnowledgeBase {
            services: services?,
            ..rest?
        })
    }

    /// Everything but the service tables, which are left empty.
    fn load_rest() -> Result<Self, KnowledgeError> {
        let version: VersionFile = parse("VERSION.yaml", VERSION)?;
        let regions: RegionsFile = parse("regions.yaml", REGIONS)?;
        let jurisdictions: JurisdictionsFile = parse("jurisdictions.yaml", JURISDICTIONS)?;
        let endpoints: EndpointsFile = parse("registries_and_saas.yaml", ENDPOINTS)?;
        let markers: MarkersFile = parse("k8s_markers.yaml", MARKERS)?;

        let mut region_index: foldhash::HashMap<String, foldhash::HashMap<String, String>> =
            foldhash::HashMap::default();
        for (provider, table) in &regions.providers {
            let index = region_index.entry(provider.clone()).or_default();
            for (id, entry) in &table.regions {
                index.insert(normalize_id(id), id.clone());
                for alias in &entry.aliases {
                    index.insert(normalize_id(alias), id.clone());
                }
            }
            for (id, entry) in &table.multi_regions {
                index.insert(normalize_id(id), id.clone());
                for alias in &entry.aliases {
                    index.insert(normalize_id(alias), id.clone());
                }
            }
        }

        let annotation_markers = markers
            .annotations
            .iter()
            .map(|m| {
                let regex = match &m.regex {
                    Some(p) => Some(compile("k8s_markers.yaml", p)?),
                    None => None,
                };
                Ok(CompiledKeyMarker {
                    marker: m.clone(),
                    regex,
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;
        let instance_types = markers
            .instance_type_patterns
            .iter()
            .map(|p| Ok((p.provider.clone(), compile("k8s_markers.yaml", &p.regex)?)))
            .collect::<Result<Vec<_>, KnowledgeError>>()?;
        let crd_groups = markers
            .crd_groups
            .iter()
            .map(|g| Ok((g.clone(), compile("k8s_markers.yaml", &g.group_regex)?)))
            .collect::<Result<Vec<_>, KnowledgeError>>()?;

        let hosts = hosts::HostClassifier::new(&endpoints)?;
        let mut kb = KnowledgeBase {
            version: version.kb_version,
            checked: version.checked,
            region_index,
            eu: jurisdictions
                .groups
                .eu
                .iter()
                .chain(&jurisdictions.groups.eu_special)
                .cloned()
                .collect(),
            eea: jurisdictions.groups.eea.iter().cloned().collect(),
            // Only country-wide decisions count: the US decision covers DPF-certified organisations only.
            adequacy: jurisdictions
                .adequacy
                .keys()
                .filter(|c| c.as_str() != "US")
                .cloned()
                .collect(),
            providers: jurisdictions.providers,
            alternatives: jurisdictions.eu_alternatives,
            regions,
            hosts,
            env_vars: endpoints.env_vars,
            connector_images: endpoints.connector_images,
            annotation_markers,
            instance_types,
            crd_groups,
            markers,
            services: services::Services::default(),
            by_code: Vec::new(),
        };
        kb.by_code = (0..26 * 26)
            .map(|i| {
                let letters = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8];
                kb.jurisdiction_in_sets(std::str::from_utf8(&letters).unwrap_or_default())
            })
            .collect();
        Ok(kb)
    }

    pub fn jurisdiction_of(&self, country: &str) -> Jurisdiction {
        let country = if country.eq_ignore_ascii_case("UK") {
            "GB"
        } else {
            country
        };
        match code_index(country).and_then(|i| self.by_code.get(i)) {
            Some(known) => *known,
            None => self.jurisdiction_in_sets(country),
        }
    }

    /// `jurisdiction_of` a country as the groups of countries name it.
    fn jurisdiction_in_sets(&self, country: &str) -> Jurisdiction {
        if self.eu.contains(country) {
            Jurisdiction::Eu
        } else if self.eea.contains(country) {
            Jurisdiction::Eea
        } else if self.adequacy.contains(country) {
            Jurisdiction::Adequacy
        } else if country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()) {
            Jurisdiction::ThirdCountry
        } else {
            Jurisdiction::Unknown
        }
    }

    /// Is the country inside the EU/EEA, where GDPR applies without a transfer?
    pub fn in_eea(&self, country: &str) -> bool {
        matches!(
            self.jurisdiction_of(country),
            Jurisdiction::Eu | Jurisdiction::Eea
        )
    }

    fn lookup(&self, provider: &str, id: &str) -> Option<Arc<RegionInfo>> {
        let table = self.regions.providers.get(provider)?;
        let index = self.region_index.get(provider)?;
        // Most ids are written as the index holds them: looked up without a copy.
        let canonical = if id
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_ascii_uppercase())
        {
            index.get(id)
        } else {
            index.get(&normalize_id(id))
        }?;
        if let Some(entry) = table.regions.get(canonical) {
            let info = entry.info.get_or_init(|| {
                Arc::new(RegionInfo {
                    provider: provider.to_string(),
                    id: canonical.clone(),
                    countries: vec![entry.country.clone()],
                    multi: false,
                    city: entry.city.clone(),
                    unverified: entry.unverified,
                    offering: entry.offering.clone(),
                })
            });
            return Some(Arc::clone(info));
        }
        table.multi_regions.get(canonical).map(|entry| {
            Arc::clone(entry.info.get_or_init(|| {
                Arc::new(RegionInfo {
                    provider: provider.to_string(),
                    id: canonical.clone(),
                    countries: entry.countries.clone(),
                    multi: true,
                    city: None,
                    unverified: entry.unverified,
                    offering: None,
                })
            }))
        })
    }

    /// Resolves a region, zone or multi-region id of a provider; `None` when the id is unknown.
    pub fn resolve_region(&self, provider: &str, raw: &str) -> Option<Arc<RegionInfo>> {
        let provider = canonical_provider(provider);
        let provider = if provider == "huawei" {
            "otc"
        } else {
            provider
        };
        let id = normalize_id(raw);
        if id.is_empty() {
            return None;
        }
        if let Some(info) = self.lookup(provider, &id) {
            return Some(info);
        }
        for candidate in zone_to_region_candidates(provider, &id) {
            if let Some(info) = self.lookup(provider, &candidate) {
                return Some(info);
            }
        }
        None
    }

    /// Resolves an id whose provider is not known (e.g. a `topology.kubernetes.io/region` label).
    /// Tries the providers in a fixed order; the first that knows the id wins.
    pub fn resolve_region_any(&self, raw: &str) -> Option<Arc<RegionInfo>> {
        const ORDER: &[&str] = &[
            "aws",
            "azure",
            "gcp",
            "oci",
            "ibm",
            "ovh",
            "scaleway",
            "ionos",
            "stackit",
            "hetzner",
            "otc",
            "exoscale",
            "upcloud",
            "outscale",
            "infomaniak",
            "plusserver",
            "digitalocean",
            "linode",
            "vultr",
            "alibaba",
        ];
        ORDER.iter().find_map(|p| self.resolve_region(p, raw))
    }

    /// The Azure region that GRS/RA-GRS/GZRS replicate to, if the region has a pair.
    pub fn azure_pair(&self, region: &str) -> Option<String> {
        let table = self.regions.providers.get("azure")?;
        let id = self.resolve_region("azure", region)?.id.clone();
        table.region_pairs.get(&id).map(|p| p.pair.clone())
    }

    pub fn provider(&self, key: &str) -> Option<ProviderInfo> {
        let key = canonical_provider(key);
        let control = self.providers.get(key)?;
        let control_country = control
            .parent_country
            .clone()
            .or_else(|| control.hq_country.clone());
        Some(ProviderInfo {
            key: key.to_string(),
            name: control
                .name
                .clone()
                .or_else(|| control.legal_name.clone())
                .unwrap_or_else(|| key.to_string()),
            control_country,
            classification: control
                .classification
                .clone()
                .unwrap_or_else(|| "unknown".into()),
            exposed_to: control.exposed_to.clone(),
        })
    }

    /// Provider name for display (`Amazon Web Services`), falling back to the key.
    pub fn provider_name<'k>(&'k self, key: &'k str) -> Cow<'k, str> {
        let key = canonical_provider(key);
        let named = self
            .regions
            .providers
            .get(key)
            .and_then(|p| p.name.as_deref())
            .or_else(|| {
                let control = self.providers.get(key)?;
                control.name.as_deref().or(control.legal_name.as_deref())
            });
        Cow::Borrowed(named.unwrap_or(key))
    }

    /// The provider key for a display name from `provider_name` (the name itself if unknown).
    pub fn provider_key_for_name(&self, name: &str) -> String {
        self.regions
            .providers
            .iter()
            .find(|(_, p)| p.name.as_deref() == Some(name))
            .map(|(k, _)| k.clone())
            .or_else(|| {
                self.providers
                    .iter()
                    .find(|(k, c)| {
                        c.name.as_deref() == Some(name)
                            || c.legal_name.as_deref() == Some(name)
                            || k.as_str() == name
                    })
                    .map(|(k, _)| k.clone())
            })
            .unwrap_or_else(|| name.to_string())
    }

    /// Is the provider controlled from inside the EU/EEA?
    pub fn is_eu_controlled(&self, key: &str) -> bool {
        self.control(key)
            .is_some_and(ProviderControl::is_eu_controlled)
    }

    /// Whether the jurisdiction that controls a provider or offering is the EU/EEA: IONOS, and
    /// S3NS, Bleu and Delos, whose parents are in the EU though their technology is not; not
    /// AWS, nor the AWS European Sovereign Cloud, whose parent is in the US.
    pub fn controlled_from_eu(&self, key: &str) -> bool {
        matches!(
            self.control_jurisdiction(key),
            Jurisdiction::Eu | Jurisdiction::Eea
        )
    }

    /// The jurisdiction that controls a provider (`third-country` for AWS, `eu` for IONOS).
    pub fn control_jurisdiction(&self, key: &str) -> Jurisdiction {
        match self.control(key) {
            Some(c) if c.is_eu_controlled() => Jurisdiction::Eu,
            Some(c) => c
                .parent_country
                .as_deref()
                .or(c.hq_country.as_deref())
                .map_or(Jurisdiction::Unknown, |country| {
                    self.jurisdiction_of(country)
                }),
            None => Jurisdiction::Unknown,
        }
    }

    /// Who controls a provider, as the knowledge base says; read in place, where `provider`
    /// copies it (the estate asks for every resource).
    fn control(&self, key: &str) -> Option<&ProviderControl> {
        self.providers.get(canonical_provider(key))
    }

    pub fn alternatives(&self, category: &str) -> Option<&Alternatives> {
        self.alternatives.get(category)
    }

    /// EU alternatives of a service category as one readable line.
    pub fn alternatives_text(&self, category: &str) -> Option<String> {
        let alt = self.alternatives(category)?;
        let mut parts: Vec<&str> = alt.eu.iter().map(String::as_str).take(6).collect();
        if let Some(self_hosted) = alt.self_hosted.first() {
            parts.push(self_hosted);
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Every regular expression of the knowledge base; each is compiled on first use.
    pub fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.hosts
            .patterns()
            .chain(self.services.patterns())
            .chain(
                self.annotation_markers
                    .iter()
                    .filter_map(|m| m.regex.as_ref()),
            )
            .chain(self.instance_types.iter().map(|(_, p)| p))
            .chain(self.crd_groups.iter().map(|(_, p)| p))
    }

    pub fn instance_type_provider(&self, value: &str) -> Option<&str> {
        self.instance_types
            .iter()
            .find(|(_, re)| re.is_match(value))
            .map(|(p, _)| p.as_str())
    }

    pub fn crd_group(&self, group: &str) -> Option<&CrdGroup> {
        self.crd_groups
            .iter()
            .find(|(_, re)| re.is_match(group))
            .map(|(g, _)| g)
    }

    /// The region a Terraform provider (`scaleway`, by its local name) uses when its
    /// configuration names none; `None` when it has no such default (AWS asks for one).
    pub fn terraform_default_region(&self, local_name: &str) -> Option<&str> {
        let provider = canonical_provider(local_name);
        (self.regions.providers.get(provider)?)
            .terraform_default_region
            .as_deref()
    }

    /// Whether every region a provider (by its key or Terraform local name) offers is in the
    /// EU/EEA, so that a region the deployment chooses keeps the data there whichever it is.
    pub fn every_region_in_eu(&self, provider: &str) -> bool {
        self.regions
            .providers
            .get(canonical_provider(provider))
            .is_some_and(|p| p.every_region_in_eu)
    }

    /// The region ids the knowledge lists for a provider (`aws`), sorted.
    pub fn region_ids(&self, provider: &str) -> Vec<String> {
        self.regions
            .providers
            .get(provider)
            .map(|p| p.regions.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Ids a zone name may belong to, most specific first (`eu-central-1a` → `eu-central-1`).
fn zone_to_region_candidates(provider: &str, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    match provider {
        "aws" => {
            if let Some(stripped) = id.split("-wlz-").next().filter(|s| *s != id) {
                out.push(stripped.to_string());
            }
            if id.ends_with(|c: char| c.is_ascii_lowercase()) {
                out.push(id[..id.len() - 1].to_string());
            }
        }
        "gcp" => {
            if let Some(rest) = id.strip_prefix("regional-") {
                out.push(rest.to_string());
            }
            if let Some((region, zone)) = id.rsplit_once('-')
                && zone.len() == 1
            {
                out.push(region.to_string());
            }
        }
        "azure" => {
            if let Some((region, zone)) = id.rsplit_once('-')
                && zone.chars().all(|c| c.is_ascii_digit())
            {
                out.push(region.to_string());
            }
        }
        "ovh" => {
            // A zone ends in one letter (`eu-west-par-a`, `ca-east-bhs-a`); a numbered Public
            // Cloud region is at its site (`gra5` at `gra`); a regional code of the newer
            // services names its site last (`eu-west-rbx`, `eu-west-lim`).
            let region = match id.rsplit_once('-') {
                Some((region, zone)) if zone.len() == 1 => {
                    out.push(region.to_string());
                    region
                }
                _ => id,
            };
            let site = region.trim_end_matches(|c: char| c.is_ascii_digit());
            if site != region && !site.is_empty() && site.chars().all(|c| c.is_ascii_alphabetic()) {
                out.push(site.to_string());
            }
            if let Some((_, site)) = region.rsplit_once('-')
                && site.len() == 3
            {
                out.push(site.to_string());
            }
        }
        _ => {
            // Scaleway `fr-par-1`, OTC `eu-de-01`, Hetzner `fsn1-dc14`, STACKIT `eu01-1`.
            if let Some((region, _)) = id.rsplit_once('-') {
                out.push(region.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literal_check_never_turns_away_a_host_the_pattern_matches() {
        // Every example host and region-map host of the endpoint list, against every
        // pattern: the pattern with its literal check answers as the plain expression does.
        let file: serde_json::Value =
            from_json_form("rules/knowledge/registries_and_saas.yaml").unwrap();
        let mut patterns = Vec::new();
        let mut hosts = Vec::new();
        for list in file.as_object().unwrap().values() {
            for entry in list.as_array().into_iter().flatten() {
                if let Some(re) = entry.get("host_regex").and_then(|v| v.as_str()) {
                    patterns.push(re.to_string());
                }
                if let Some(example) = entry.get("example").and_then(|v| v.as_str())
                    && let Some(host) = example.split_whitespace().next().and_then(hosts::host_of)
                {
                    hosts.push(host.to_ascii_lowercase());
                }
                for key in entry
                    .get("region_map")
                    .and_then(|m| m.as_object())
                    .into_iter()
                    .flat_map(|m| m.keys())
                {
                    hosts.push(key.to_ascii_lowercase());
                }
            }
        }
        assert!(patterns.len() > 100 && hosts.len() > 100);
        let mut matched = 0;
        for re in &patterns {
            let lazy = Pattern::new(re).unwrap();
            let plain = regex::Regex::new(re).unwrap();
            for host in &hosts {
                assert_eq!(lazy.is_match(host), plain.is_match(host), "{re} on {host}");
                matched += usize::from(plain.is_match(host));
            }
        }
        assert!(matched > 100, "{matched} matches");
    }

    #[test]
    fn every_pattern_compiles() {
        let kb = get().unwrap();
        let mut count = 0;
        for pattern in kb.patterns() {
            pattern
                .compile()
                .unwrap_or_else(|e| panic!("{}: {e}", pattern.as_str()));
            count += 1;
        }
        assert!(count > 150, "{count} patterns");
    }

    fn kb() -> &'static KnowledgeBase {
        get().expect("embedded knowledge base loads")
    }

    #[test]
    fn the_knowledge_version_names_the_facts_it_stands_for() {
        let version: VersionFile = parse("VERSION.yaml", VERSION).unwrap();
        let digest = facts_digest();
        assert_eq!(
            version.facts_digest, digest,
            "the facts in rules/knowledge/ changed: give VERSION.yaml a new kb_version and \
             checked date (today's), and facts_digest: \"{digest}\""
        );
        // The version is the date it was made on (`2026.12.07`, or `2026.12.07.2` for a
        // second one that day), and `checked` that date.
        assert!(
            version
                .kb_version
                .starts_with(&version.checked.replace('-', ".")),
            "{} is not a version of {}",
            version.kb_version,
            version.checked
        );
        // Every knowledge file counts: one without a JSON form would be left out.
        let yaml = |dir: &str| -> Vec<String> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .collect()
        };
        let mut files = yaml("rules/knowledge");
        files.extend(yaml("rules/knowledge/services"));
        assert!(files.len() > 8, "{files:?}");
        for file in files {
            assert!(
                KNOWLEDGE_JSON.iter().any(|(path, _)| *path == file),
                "{file} has no JSON form"
            );
        }
    }

    #[test]
    fn the_facts_digest_changes_with_a_fact_and_not_with_a_comment() {
        // As build.rs makes a file's JSON form.
        fn digest_of(regions: &str) -> String {
            let value: serde_json::Value = crate::load::yaml::from_str_typed(regions).unwrap();
            let json = serde_json::to_string(&value).unwrap();
            digest(&[("rules/knowledge/regions.yaml", &json)])
        }
        let base = "providers:\n  aws:\n    regions:\n      eu-central-1: {country: DE}\n";
        let commented = "# Frankfurt\nproviders:\n  aws:\n    regions:\n      eu-central-1: {country: DE}  # checked\n";
        let moved = "providers:\n  aws:\n    regions:\n      eu-central-1: {country: FR}\n";
        assert_eq!(digest_of(base), digest_of(commented));
        assert_ne!(digest_of(base), digest_of(moved));
    }

    #[test]
    fn knowledge_files_are_read_from_their_json_form() {
        // Start-up reads the JSON forms; a file whose JSON form does not read would silently
        // fall back to the slower YAML.
        fn reads<T: for<'de> serde::Deserialize<'de>>(path: &str) -> bool {
            from_json_form::<T>(path).is_some()
        }
        assert!(reads::<VersionFile>("rules/knowledge/VERSION.yaml"));
        assert!(reads::<RegionsFile>("rules/knowledge/regions.yaml"));
        assert!(reads::<JurisdictionsFile>(
            "rules/knowledge/jurisdictions.yaml"
        ));
        assert!(reads::<EndpointsFile>(
            "rules/knowledge/registries_and_saas.yaml"
        ));
        assert!(reads::<MarkersFile>("rules/knowledge/k8s_markers.yaml"));
        for (path, _) in services::SERVICE_FILES {
            assert!(reads::<services::ServicesFile>(path), "{path}");
        }
    }

    #[test]
    fn resolves_regions_zones_and_display_names() {
        let kb = kb();
        assert_eq!(
            kb.resolve_region("aws", "eu-central-1a").unwrap().country(),
            Some("DE")
        );
        assert_eq!(
            kb.resolve_region("aws", "eu-central-1-waw-1a")
                .unwrap()
                .country(),
            Some("PL")
        );
        assert_eq!(
            kb.resolve_region("azure", "West Europe").unwrap().country(),
            Some("NL")
        );
        assert_eq!(
            kb.resolve_region("azure", "westeurope-1")
                .unwrap()
                .country(),
            Some("NL")
        );
        assert_eq!(
            kb.resolve_region("gcp", "us-central1-f").unwrap().country(),
            Some("US")
        );
        assert!(kb.resolve_region("gcp", "US").unwrap().multi);
        assert!(kb.resolve_region("aws", "mars-north-1").is_none());
    }

    #[test]
    fn ovh_codes_resolve_to_their_site() {
        let kb = kb();
        for (code, country) in [
            ("GRA5", "FR"),
            ("GRA11", "FR"),
            ("BHS1", "CA"),
            ("SBG3", "FR"),
            ("eu-west-rbx", "FR"),
            ("eu-west-lim", "DE"),
            ("ca-east-bhs-a", "CA"),
            ("eu-west-par-b", "FR"),
            ("EU-WEST-LZ-LUX-A", "LU"),
            ("US-EAST-VA-1", "US"),
        ] {
            let found = kb.resolve_region("ovh", code);
            assert_eq!(
                found
                    .and_then(|r| r.country().map(str::to_string))
                    .as_deref(),
                Some(country),
                "{code}"
            );
        }
        for not_a_place in ["all", "XXX1", "RRRR", "eu-west-xyz"] {
            assert!(
                kb.resolve_region("ovh", not_a_place).is_none(),
                "{not_a_place}"
            );
        }
    }

    #[test]
    fn terraform_providers_with_a_default_region_name_it() {
        let kb = kb();
        assert_eq!(kb.terraform_default_region("scaleway"), Some("fr-par"));
        assert_eq!(kb.terraform_default_region("stackit"), Some("eu01"));
        assert_eq!(kb.terraform_default_region("aws"), None);
        assert_eq!(kb.terraform_default_region("hcloud"), None);
        assert!(kb.every_region_in_eu("scaleway"));
        assert!(kb.every_region_in_eu("stackit"));
        assert!(!kb.every_region_in_eu("hcloud"));
        assert!(!kb.every_region_in_eu("ionos"));
        // The claim holds for every region and multi-region the knowledge lists.
        for (key, provider) in &kb.regions.providers {
            if !provider.every_region_in_eu {
                continue;
            }
            for (id, region) in &provider.regions {
                assert!(kb.in_eea(&region.country), "{key} {id}: {}", region.country);
            }
            for (id, multi) in &provider.multi_regions {
                assert!(multi.countries.iter().all(|c| kb.in_eea(c)), "{key} {id}");
            }
        }
    }

    #[test]
    fn jurisdictions() {
        let kb = kb();
        assert_eq!(kb.jurisdiction_of("DE"), Jurisdiction::Eu);
        assert_eq!(kb.jurisdiction_of("NO"), Jurisdiction::Eea);
        assert_eq!(kb.jurisdiction_of("CH"), Jurisdiction::Adequacy);
        assert_eq!(kb.jurisdiction_of("US"), Jurisdiction::ThirdCountry);
        assert!(kb.is_eu_controlled("ionos"));
        assert!(!kb.is_eu_controlled("aws"));
        assert_eq!(kb.control_jurisdiction("aws"), Jurisdiction::ThirdCountry);
    }

    #[test]
    fn codes_looked_up_by_their_letters_stand_where_the_groups_put_them() {
        let kb = kb();
        let mut codes: Vec<String> = (b'A'..=b'Z')
            .flat_map(|a| (b'A'..=b'Z').map(move |b| String::from_utf8(vec![a, b])))
            .map(|code| code.unwrap_or_default())
            .collect();
        codes.extend(["UK", "uk", "de", "", "D", "DEU", "É", "Z1"].map(String::from));
        for code in &codes {
            let expected = if code.eq_ignore_ascii_case("UK") {
                kb.jurisdiction_in_sets("GB")
            } else {
                kb.jurisdiction_in_sets(code)
            };
            assert_eq!(kb.jurisdiction_of(code), expected, "{code}");
        }
        assert_eq!(kb.jurisdiction_of("UK"), Jurisdiction::Adequacy);
        assert_eq!(kb.jurisdiction_of("de"), Jurisdiction::Unknown);
        assert_eq!(kb.jurisdiction_of("ZZ"), Jurisdiction::ThirdCountry);
    }
}
