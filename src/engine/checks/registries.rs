//! Judges the registry an image or chart is pulled from (RES-007 where it is, HYP-011 who runs
//! it). `registry_hits` serves every source found by `image_references`, and other checks too.

use super::image_references::{Reference, references};
use super::{Check, Elsewhere, Hit};
use crate::engine::{Context, Standing};
use crate::extract::kubernetes::{literal_host, registry_unfilled};
use crate::knowledge::hosts::host_of;
use crate::location::Location;
use crate::model::Resource;

pub static CHECKS: &[(&str, Check)] = &[
    (
        "image_registry_outside_eu",
        Check::Resource(image_registry_outside_eu),
    ),
    (
        "hyperscaler_registry",
        Check::Resource(hyperscaler_registry),
    ),
];

/// What a reference names, as the finding's message says it.
pub const IMAGE: &str = "Image";
pub const CHART_SOURCE: &str = "Helm chart source";
pub const OCI_ARTIFACT: &str = "OCI artifact";

/// Registry host of an image reference; references without a host are Docker Hub.
pub fn registry_host(image: &str) -> String {
    let image = image.trim();
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first
                .split(':')
                .next()
                .unwrap_or(first)
                .to_ascii_lowercase()
        }
        _ => "docker.io".to_string(),
    }
}

/// Registry host of an image reference or a chart/OCI URL (`oci://ghcr.io/org/charts`,
/// `https://charts.example.com`).
pub fn reference_host(reference: &str) -> Option<String> {
    let reference = reference.trim();
    if reference.contains("://") {
        host_of(reference)
    } else {
        Some(registry_host(reference))
    }
}

/// Values that are not a reference yet, whose registry is not known: empty text, a
/// substitution or template where the registry would be (`${IMAGE}`, `$IMAGE_URL`,
/// `<DOCKER_REPO>/app`, `{{ .Values.image }}`), and a name no registry takes that stands for one
/// (`IMAGE_NAME`: a repository is in lower case, so an upper-case one without a registry is no
/// Docker Hub image). A literal registry with a placeholder after it
/// (`gcr.io/<PROJECT>/app`) is that registry.
pub(super) fn is_placeholder(text: &str) -> bool {
    let text = text.trim();
    // A wildcard (`public.ecr.aws/*`) is a policy's pattern, not an image pulled.
    if text.is_empty() || text.contains(char::is_whitespace) || text.contains('*') {
        return true;
    }
    registry_unfilled(text) || (literal_host(text).is_none() && is_upper_case_name(text))
}

/// Whether a reference without a registry host names its repository in upper case (its tag
/// may be in any case).
fn is_upper_case_name(text: &str) -> bool {
    let name = text.split('@').next().unwrap_or(text);
    let name = match (name.rfind(':'), name.rfind('/')) {
        (Some(colon), Some(slash)) if colon > slash => &name[..colon],
        (Some(colon), None) => &name[..colon],
        _ => name,
    };
    name.chars().any(|c| c.is_ascii_uppercase())
}

/// The two judgements on one pulled reference: the registry sits outside the EU (RES-007), and
/// it is run by a provider controlled from outside the EU (HYP-011).
#[derive(Debug, Default)]
pub struct RegistryHits {
    pub outside_eu: Option<Hit>,
    pub hyperscaler: Option<Hit>,
}

/// Judges an image reference or chart/OCI URL pulled at `location`. Unknown hosts and EU
/// registries give nothing. The hits carry `image`, `registry`, `place`/`provider` and
/// `artifact` (`Image`; callers may add another `artifact` var to name a chart source).
pub fn registry_hits(ctx: &Context, image_text: &str, location: &Location) -> RegistryHits {
    if is_placeholder(image_text) {
        return RegistryHits::default();
    }
    let Some(host) = reference_host(image_text) else {
        return RegistryHits::default();
    };
    host_hits(ctx, &host, image_text, location)
}

/// As `registry_hits`, for a registry host written on its own (`global.imageRegistry`).
pub fn registry_host_hits(ctx: &Context, host_text: &str, location: &Location) -> RegistryHits {
    if is_placeholder(host_text) {
        return RegistryHits::default();
    }
    let host = match host_of(host_text) {
        Some(h) => h,
        None => host_text.trim().trim_end_matches('/').to_ascii_lowercase(),
    };
    let mut hits = host_hits(ctx, &host, host_text, location);
    // The message names the images pulled from the registry, not the host alone.
    let shown = format!("{}/…", host_text.trim().trim_end_matches('/'));
    for hit in [&mut hits.outside_eu, &mut hits.hyperscaler]
        .into_iter()
        .flatten()
    {
        hit.vars.push(("image", shown.clone()));
    }
    hits
}

fn host_hits(ctx: &Context, host: &str, shown: &str, location: &Location) -> RegistryHits {
    let mut out = RegistryHits::default();
    // The organisation's own registries are judged by the country it gives them.
    if let Some(country) = ctx.own_host_country(host) {
        let standing = ctx.standing_of(country);
        if standing != Standing::Inside {
            let shown = shown.trim().to_string();
            let place = Elsewhere {
                text: format!("{country} ({})", ctx.kb.jurisdiction_of(country).as_str()),
                adequacy: standing == Standing::Adequacy,
            };
            out.outside_eu = Some(
                place.judge(
                    Hit::at(location.clone())
                        .var("artifact", IMAGE)
                        .var("image", shown.clone())
                        .var("registry", format!("the organisation's registry ({host})"))
                        .var("place", place.text.clone())
                        .evidence(shown.clone())
                        .key(shown),
                ),
            );
        }
        return out;
    }
    let Some(m) = ctx.kb.hosts.registry(host) else {
        return out;
    };
    let shown = shown.trim().to_string();
    let place = match super::kubernetes::place_outside_eu(ctx, &m) {
        Ok(None) => None,
        Ok(Some(place)) => Some(place),
        // A known registry whose location the host does not reveal (ACR, JFrog …).
        Err(()) if m.operator.as_deref().is_some_and(|o| o != "unknown") => Some(Elsewhere {
            text: "a location the host name does not reveal".to_string(),
            adequacy: false,
        }),
        Err(()) => None,
    };
    if let Some(place) = place {
        out.outside_eu = Some(
            place.judge(
                Hit::at(location.clone())
                    .var("artifact", IMAGE)
                    .var("image", shown.clone())
                    .var("registry", format!("{} ({host})", m.vendor))
                    .var("place", place.text.clone())
                    .evidence(shown.clone())
                    .key(shown.clone()),
            ),
        );
    }
    if let Some(provider) = m.provider.as_deref()
        && !ctx.kb.is_eu_controlled(provider)
        && ctx.kb.provider(provider).is_some()
    {
        out.hyperscaler = Some(
            Hit::at(location.clone())
                .var("artifact", IMAGE)
                .var("image", shown.clone())
                .var("registry", host.to_string())
                .provider(provider)
                .var("provider", ctx.kb.provider_name(provider))
                .var(
                    "alternatives",
                    ctx.kb
                        .alternatives_text("container_registry")
                        .unwrap_or_default(),
                )
                .evidence(shown.clone())
                .key(shown),
        );
    }
    out
}

impl Reference {
    fn hits(&self, ctx: &Context) -> RegistryHits {
        let mut hits = if self.host_only {
            registry_host_hits(ctx, &self.text, &self.location)
        } else {
            registry_hits(ctx, &self.text, &self.location)
        };
        if self.artifact != IMAGE {
            hits.outside_eu = hits.outside_eu.map(|h| h.var("artifact", self.artifact));
            hits.hyperscaler = hits.hyperscaler.map(|h| h.var("artifact", self.artifact));
        }
        hits
    }
}

fn image_registry_outside_eu(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    hits.extend(
        references(resource)
            .iter()
            .filter_map(|r| r.hits(ctx).outside_eu),
    );
}

fn hyperscaler_registry(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    hits.extend(
        references(resource)
            .iter()
            .filter_map(|r| r.hits(ctx).hyperscaler),
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::engine::Profile;
    use crate::tree::{Route, Span};
    use std::sync::Arc;

    fn judge(image: &str) -> (bool, bool) {
        let kb = crate::knowledge::get().unwrap();
        let ctx = Context {
            kb,
            profile: Profile::Eu,
            personal_data_labels: Arc::from([]),
            deploy_regions: Arc::from([]),
            max_log_retention_days: 400,
            require_customer_managed_keys: false,
            allowed_countries: Arc::from([]),
            own_hosts: Arc::from([]),
            resources: &[],
            buckets: &[],
        };
        let path: Arc<str> = Arc::from("task.json");
        let at = Location::new(&path, 0, Span::point(3, 5), &Route::parse("image"));
        let hits = registry_hits(&ctx, image, &at);
        if let Some(hit) = &hits.outside_eu {
            assert_eq!(hit.location, at);
        }
        (hits.outside_eu.is_some(), hits.hyperscaler.is_some())
    }

    #[test]
    fn one_judgement_for_images_and_chart_urls() {
        assert_eq!(judge("nginx:1.27"), (true, false));
        assert_eq!(
            judge("oci://ghcr.io/stefanprodan/charts/podinfo"),
            (true, false)
        );
        assert_eq!(judge("public.ecr.aws/docker/library/redis:8"), (true, true));
        assert_eq!(
            judge("123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:1"),
            (false, true)
        );
        assert_eq!(judge("oci://rg.fr-par.scw.cloud/charts"), (false, false));
        assert_eq!(judge("https://charts.bitnami.com/bitnami"), (false, false));
        assert_eq!(judge("${REGISTRY}/app:1"), (false, false));
        assert_eq!(judge(""), (false, false));
    }

    #[test]
    fn registry_hosts() {
        assert_eq!(registry_host("nginx:1.27"), "docker.io");
        assert_eq!(registry_host("bitnami/redis:7"), "docker.io");
        assert_eq!(registry_host("ghcr.io/org/app"), "ghcr.io");
        assert_eq!(registry_host("localhost:5000/app"), "localhost");
        assert_eq!(
            registry_host("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"),
            "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn reference_hosts() {
        assert_eq!(
            reference_host("oci://ghcr.io/stefanprodan/charts").as_deref(),
            Some("ghcr.io")
        );
        assert_eq!(
            reference_host("oci://registry-1.docker.io/bitnamicharts").as_deref(),
            Some("registry-1.docker.io")
        );
        assert_eq!(
            reference_host("https://charts.bitnami.com/bitnami").as_deref(),
            Some("charts.bitnami.com")
        );
        assert_eq!(
            reference_host("registry-1.docker.io/bitnamicharts").as_deref(),
            Some("registry-1.docker.io")
        );
        assert!(is_placeholder("${REGISTRY}/app"));
        assert!(is_placeholder("{{ .Values.image }}"));
        assert!(is_placeholder("$VLLM_IMAGE"));
        assert!(is_placeholder("<your-image>:latest"));
        assert!(is_placeholder("IMAGE_NAME"));
        assert!(is_placeholder("MY_ORG/app:1"));
        assert!(!is_placeholder("nginx:1.27"));
        assert!(!is_placeholder("nginx:1.27-Alpine"));
        assert!(!is_placeholder("us-docker.pkg.dev/PROJECT_ID/repo/app:1"));
        assert!(!is_placeholder("gcr.io/<<PROJECT>>/jax:latest"));
        assert!(!is_placeholder(
            "us-central1-docker.pkg.dev/$PROJECT_ID/repo/app"
        ));
        assert!(is_placeholder("<DOCKER_REPO>/chatbot:1.0"));
        assert!(is_placeholder("{{.Values.registry}}/app"));
        assert!(is_placeholder("public.ecr.aws/*"));
        assert!(!is_placeholder("localhost:5000/app"));
    }
}
