//! Host classification: which registry, SaaS vendor or cloud service a host name belongs to,
//! and where that endpoint keeps its data.

use super::KnowledgeError;
use super::data::{EndpointsFile, HostPattern};
use super::pattern::Pattern;

/// Where an endpoint keeps data, as far as the host tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataRegion {
    /// In the EU (or EEA).
    Eu,
    /// In one country (ISO code).
    Country(String),
    /// A region id of the endpoint's provider, to be resolved by the caller.
    Region(String),
    /// Served from many places (CDN, global edge).
    Global,
    /// Not visible from the host.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct HostMatch {
    pub id: String,
    pub vendor: String,
    pub category: Option<String>,
    pub operator: Option<String>,
    pub operator_country: Option<String>,
    pub provider: Option<String>,
    pub data_region: DataRegion,
    pub eu_alternative: Option<String>,
    pub eu_provider: bool,
    pub unverified: bool,
}

struct Compiled {
    pattern: HostPattern,
    regex: Pattern,
}

pub struct HostClassifier {
    registries: Vec<Compiled>,
    saas: Vec<Compiled>,
    cloud: Vec<Compiled>,
}

fn compile_all(list: &[HostPattern]) -> Result<Vec<Compiled>, KnowledgeError> {
    list.iter()
        .map(|p| {
            Pattern::new(&p.host_regex)
                .map(|regex| Compiled {
                    pattern: p.clone(),
                    regex,
                })
                .map_err(|e| KnowledgeError::Invalid {
                    file: "registries_and_saas.yaml",
                    reason: format!("{}: bad host_regex: {e}", p.id),
                })
        })
        .collect()
}

/// Reads free-text data-region values ("EU", "EU (Ireland)", "UK", "US", "global").
fn parse_data_region(text: &str) -> DataRegion {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    if upper == "EU" || upper.starts_with("EU ") || upper.starts_with("EU(") {
        DataRegion::Eu
    } else if upper == "UK" || upper.starts_with("UK ") {
        DataRegion::Country("GB".into())
    } else if upper.starts_with("GLOBAL") {
        DataRegion::Global
    } else if t.len() == 2 && t.chars().all(|c| c.is_ascii_uppercase()) {
        DataRegion::Country(t.to_string())
    } else if upper.starts_with("US ") || upper.starts_with("US(") {
        DataRegion::Country("US".into())
    } else {
        DataRegion::Unknown
    }
}

fn classify(list: &[Compiled], host: &str) -> Option<HostMatch> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    for c in list {
        let Some(caps) = c.regex.captures(&host) else {
            continue;
        };
        let p = &c.pattern;
        let captured = p
            .region_group
            .as_deref()
            .and_then(|g| caps.name(g))
            .map(|m| m.as_str().to_string());
        let data_region = match p.data_region.as_deref() {
            Some("by_region") => {
                let mapped = captured
                    .as_deref()
                    .and_then(|r| p.region_map.get(r).or_else(|| p.realm_map.get(r)))
                    .or_else(|| p.region_map.get(&host))
                    .or_else(|| {
                        captured
                            .is_none()
                            .then(|| p.region_map.get("(none)"))
                            .flatten()
                    });
                match (mapped, captured) {
                    (Some(text), _) => parse_data_region(text),
                    (None, Some(region)) => DataRegion::Region(region),
                    (None, None) => DataRegion::Unknown,
                }
            }
            Some(text) => parse_data_region(text),
            None => DataRegion::Unknown,
        };
        return Some(HostMatch {
            id: p.id.clone(),
            vendor: p
                .vendor
                .clone()
                .or_else(|| p.operator.clone())
                .unwrap_or_else(|| p.id.clone()),
            category: p.category.clone(),
            operator: p.operator.clone(),
            operator_country: p.operator_country.clone(),
            provider: p.provider.clone(),
            data_region,
            eu_alternative: p.eu_alternative.clone(),
            eu_provider: p.eu_provider,
            unverified: p.unverified,
        });
    }
    None
}

impl HostClassifier {
    pub fn new(file: &EndpointsFile) -> Result<Self, KnowledgeError> {
        Ok(HostClassifier {
            registries: compile_all(&file.registries)?,
            saas: compile_all(&file.saas_endpoints)?,
            cloud: compile_all(&file.cloud_service_endpoints)?,
        })
    }

    /// Every host pattern, for the test that compiles them all.
    pub fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.registries
            .iter()
            .chain(&self.saas)
            .chain(&self.cloud)
            .map(|c| &c.regex)
    }

    pub fn registry(&self, host: &str) -> Option<HostMatch> {
        classify(&self.registries, host)
    }

    /// A SaaS vendor endpoint, or failing that a cloud service endpoint.
    pub fn endpoint(&self, host: &str) -> Option<HostMatch> {
        classify(&self.saas, host).or_else(|| classify(&self.cloud, host))
    }
}

/// Extracts the host from a URL, DSN or bare host (`https://key@o1.ingest.us.sentry.io/1` →
/// `o1.ingest.us.sentry.io`). Returns `None` when the text does not look like a host.
pub fn host_of(value: &str) -> Option<String> {
    let v = value.trim();
    let after_scheme = match v.find("://") {
        Some(i) => &v[i + 3..],
        None => v,
    };
    let after_auth = after_scheme
        .split('/')
        .next()
        .map(|a| a.rsplit('@').next().unwrap_or(a))?;
    let host = after_auth
        .split(':')
        .next()
        .unwrap_or(after_auth)
        .trim()
        .to_ascii_lowercase();
    let valid = host.contains('.')
        && !host.starts_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && host.chars().any(|c| c.is_ascii_alphabetic());
    valid.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_from_urls() {
        assert_eq!(
            host_of("https://abc@o1.ingest.us.sentry.io/42").as_deref(),
            Some("o1.ingest.us.sentry.io")
        );
        assert_eq!(host_of("datadoghq.eu").as_deref(), Some("datadoghq.eu"));
        assert_eq!(host_of("http://otel:4317"), None);
        assert_eq!(host_of("1.2.3.4"), None);
    }

    #[test]
    fn data_regions_from_text() {
        assert_eq!(parse_data_region("EU (Ireland)"), DataRegion::Eu);
        assert_eq!(parse_data_region("UK"), DataRegion::Country("GB".into()));
        assert_eq!(parse_data_region("Europe"), DataRegion::Unknown);
    }
}
