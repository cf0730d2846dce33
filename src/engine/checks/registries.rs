//! Where container images and Helm charts are pulled from, wherever a manifest writes them:
//! workload containers, Flux sources and HelmRelease values, Argo CD Applications, and the
//! Terraform `helm_release` resource. One judgement (`registry_hits`) serves every source, so
//! checks on other resources (cloud container services) can reuse it.

use super::{Check, Hit};
use crate::engine::Context;
use crate::extract::kubernetes::containers;
use crate::knowledge::hosts::host_of;
use crate::load::Format;
use crate::load::hcl::{self, EXPR_TAG};
use crate::load::yaml;
use crate::location::Location;
use crate::model::Resource;
use crate::tree::{Node, Route, Segment, Span, Value};

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

/// Values that are not a reference yet: templates, substitutions, empty text.
fn is_placeholder(text: &str) -> bool {
    let text = text.trim();
    text.is_empty()
        || text.contains("${")
        || text.contains("{{")
        || text.contains("$(")
        || text.contains(char::is_whitespace)
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
    let Some(m) = ctx.kb.hosts.registry(host) else {
        return out;
    };
    let shown = shown.trim().to_string();
    let place = match super::kubernetes::place_outside_eu(ctx.kb, &m) {
        Ok(None) => None,
        Ok(Some(place)) => Some(place),
        // A known registry whose location the host does not reveal (ACR, JFrog …).
        Err(()) if m.operator.as_deref().is_some_and(|o| o != "unknown") => {
            Some("a location the host name does not reveal".to_string())
        }
        Err(()) => None,
    };
    if let Some(place) = place {
        out.outside_eu = Some(
            Hit::at(location.clone())
                .var("artifact", IMAGE)
                .var("image", shown.clone())
                .var("registry", format!("{} ({host})", m.vendor))
                .var("place", place)
                .evidence(shown.clone())
                .key(shown.clone()),
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

/// One image or chart source written in a resource.
#[derive(Clone, Debug)]
struct Reference {
    location: Location,
    text: String,
    artifact: &'static str,
    /// The text is a registry host alone (`global.imageRegistry: ghcr.io`).
    host_only: bool,
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

/// Places a reference found in a resource: directly in its tree, or inside a text (a YAML
/// string, a heredoc, a `yamlencode(...)` call) re-parsed at a line offset.
#[derive(Clone)]
struct Site<'a> {
    resource: &'a Resource,
    /// Route (relative to the resource) of the field holding the re-parsed text.
    base: Route,
    /// Lines to add to spans of a re-parsed text; `None` for nodes of the resource's own tree.
    line_offset: Option<u32>,
    /// Where to point when lines inside the text cannot be trusted.
    fallback: Option<Location>,
}

impl<'a> Site<'a> {
    fn direct(resource: &'a Resource) -> Self {
        Site {
            resource,
            base: Route::root(),
            line_offset: None,
            fallback: None,
        }
    }

    fn locate(&self, node: &Node, route: &Route) -> Location {
        if let Some(fallback) = &self.fallback {
            return fallback.clone();
        }
        match self.line_offset {
            None => self.resource.locate(node, route),
            Some(offset) => {
                let mut span: Span = node.span;
                span.start.line = span.start.line.saturating_add(offset);
                span.end.line = span.end.line.saturating_add(offset);
                Location::new(
                    &self.resource.path,
                    self.resource.document,
                    span,
                    &self.resource.route.join(&self.base).join(route),
                )
            }
        }
    }
}

fn literal(node: &Node) -> Option<&str> {
    if node.tag.as_deref() == Some(EXPR_TAG) {
        return None;
    }
    node.as_str()
}

/// Every image and chart source a resource pulls.
fn references(resource: &Resource) -> Vec<Reference> {
    let mut out = Vec::new();
    match resource.format {
        Format::Kubernetes => kubernetes_references(resource, &mut out),
        Format::Terraform | Format::TerraformPlan if resource.kind == "helm_release" => {
            helm_release_references(resource, &mut out);
        }
        _ => {}
    }
    out
}

fn api_group(resource: &Resource) -> &str {
    resource
        .api_version
        .as_deref()
        .and_then(|a| a.split_once('/'))
        .map_or("", |(g, _)| g)
}

fn kubernetes_references(resource: &Resource, out: &mut Vec<Reference>) {
    for (route, c) in containers(resource) {
        if let Some(image) = c.get("image")
            && let Some(text) = image.as_str()
        {
            out.push(Reference {
                location: resource.locate(image, &route.key("image")),
                text: text.to_string(),
                artifact: IMAGE,
                host_only: false,
            });
        }
    }
    let body = &resource.body;
    let site = Site::direct(resource);
    match (api_group(resource), resource.kind.as_str()) {
        ("source.toolkit.fluxcd.io", kind @ ("OCIRepository" | "HelmRepository")) => {
            let Some(url) = body.path("spec.url") else {
                return;
            };
            let Some(text) = url.as_str() else {
                return;
            };
            // A Helm repository over HTTPS names a chart index host, which no registry entry
            // describes (nothing found); an OCI one names a registry.
            out.push(Reference {
                location: site.locate(url, &Route::parse("spec.url")),
                text: text.to_string(),
                artifact: if kind == "HelmRepository"
                    || body
                        .path("spec.layerSelector.mediaType")
                        .and_then(Node::as_str)
                        .is_some_and(|m| m.contains("helm"))
                {
                    CHART_SOURCE
                } else {
                    OCI_ARTIFACT
                },
                host_only: false,
            });
        }
        ("helm.toolkit.fluxcd.io", "HelmRelease") => {
            let route = Route::parse("spec.values");
            if let Some(values) = body.at(&route) {
                values_references(&site, values, &route, out);
            }
        }
        ("argoproj.io", "Application") => argo_sources(&site, body, &Route::parse("spec"), out),
        ("argoproj.io", "ApplicationSet") => {
            argo_sources(&site, body, &Route::parse("spec.template.spec"), out);
        }
        _ => {}
    }
}

/// `source` and `sources[*]` of an Argo CD Application spec.
fn argo_sources(site: &Site, body: &Node, spec: &Route, out: &mut Vec<Reference>) {
    let Some(spec_node) = body.at(spec) else {
        return;
    };
    let mut sources: Vec<(Route, &Node)> = Vec::new();
    if let Some(s) = spec_node.get("source") {
        sources.push((spec.key("source"), s));
    }
    for (i, s) in spec_node
        .get("sources")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        sources.push((spec.key("sources").index(i), s));
    }
    for (route, source) in sources {
        // Git repositories are not registries; a chart or an `oci://` URL names one.
        if let Some(url) = source.get("repoURL")
            && let Some(text) = url.as_str()
            && (source.get("chart").is_some() || text.starts_with("oci://"))
        {
            out.push(Reference {
                location: site.locate(url, &route.key("repoURL")),
                text: text.to_string(),
                artifact: CHART_SOURCE,
                host_only: false,
            });
        }
        let Some(helm) = source.get("helm") else {
            continue;
        };
        let helm_route = route.key("helm");
        if let Some(values) = helm.get("valuesObject") {
            values_references(site, values, &helm_route.key("valuesObject"), out);
        }
        if let Some(entry) = helm.entry("values")
            && let Some(text) = entry.value.as_str()
        {
            yaml_text_references(
                site,
                &entry.value,
                entry.key_span,
                text,
                &helm_route.key("values"),
                out,
            );
        }
        if let Some(params) = helm.get("parameters") {
            parameter_references(site, params, &helm_route.key("parameters"), out);
        }
    }
}

/// References in a YAML string written as a YAML value (`helm.values: |`): located at their
/// line inside a block scalar, else at the field.
fn yaml_text_references(
    site: &Site,
    node: &Node,
    key_span: Span,
    text: &str,
    route: &Route,
    out: &mut Vec<Reference>,
) {
    let Ok(docs) = yaml::parse_stream(text) else {
        return;
    };
    // A block scalar's node starts on its `|` line or on its first content line.
    let first_line = if node.span.start.line == key_span.start.line {
        node.span.start.line.saturating_add(1)
    } else {
        node.span.start.line
    };
    let lines = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
    let block = node.span.start.line != node.span.end.line
        && first_line.saturating_add(lines).saturating_sub(1) <= node.span.end.line;
    let field = site.resource.locate(node, route);
    let inner = Site {
        resource: site.resource,
        base: site.base.join(route),
        line_offset: Some(first_line.saturating_sub(1)),
        fallback: (!block).then_some(field),
    };
    for doc in &docs {
        values_references(&inner, doc, &Route::root(), out);
    }
}

fn image_text(node: &Node) -> Option<String> {
    literal(node)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Images in Helm values: `image: repo:tag` strings and `image: {registry, repository, tag}`
/// maps at any depth, and `global.imageRegistry`.
fn values_references(site: &Site, values: &Node, route: &Route, out: &mut Vec<Reference>) {
    // With a global registry, repositories without their own registry are pulled from it.
    let global_registry = values
        .path("global.imageRegistry")
        .and_then(image_text)
        .is_some();
    if let Some(global) = values.path("global.imageRegistry")
        && let Some(text) = image_text(global)
    {
        out.push(Reference {
            location: site.locate(global, &route.key("global").key("imageRegistry")),
            text,
            artifact: IMAGE,
            host_only: true,
        });
    }
    values.walk(route, &mut |at, node| {
        // Charts that name an image's parts outside an `image` key
        // (`redis: {repository: public.ecr.aws/docker/library/redis, tag: 8.6.2}`).
        let under_image = matches!(at.0.last(), Some(Segment::Key(k)) if k == "image");
        if !under_image
            && (node.get("tag").is_some() || node.get("digest").is_some())
            && let Some(repository) = node.get("repository")
            && let Some(repo) = image_text(repository)
            && !repo.contains("://")
        {
            let tag = node.get("tag").and_then(Node::scalar_text);
            out.push(Reference {
                location: site.locate(repository, &at.key("repository")),
                text: with_tag(&repo, tag),
                artifact: IMAGE,
                host_only: false,
            });
        }
        let Some(image) = node.get("image") else {
            return;
        };
        let image_route = at.key("image");
        if let Some(text) = image_text(image) {
            out.push(Reference {
                location: site.locate(image, &image_route),
                text,
                artifact: IMAGE,
                host_only: false,
            });
            return;
        }
        let registry = image
            .get("registry")
            .and_then(|r| Some((r, image_text(r)?)));
        let repository = image
            .get("repository")
            .and_then(|r| Some((r, image_text(r)?)));
        let tag = image.get("tag").and_then(Node::scalar_text);
        match (registry, repository) {
            (Some((node, host)), Some((_, repo))) => out.push(Reference {
                location: site.locate(node, &image_route.key("registry")),
                text: with_tag(&format!("{}/{repo}", host.trim_end_matches('/')), tag),
                artifact: IMAGE,
                host_only: false,
            }),
            (Some((node, host)), None) => out.push(Reference {
                location: site.locate(node, &image_route.key("registry")),
                text: host,
                artifact: IMAGE,
                host_only: true,
            }),
            (None, Some((node, repo))) if !global_registry => out.push(Reference {
                location: site.locate(node, &image_route.key("repository")),
                text: with_tag(&repo, tag),
                artifact: IMAGE,
                host_only: false,
            }),
            _ => {}
        }
    });
    if site.line_offset.is_none() && site.fallback.is_none() {
        embedded_yaml_references(site, values, route, out);
    }
}

/// Configuration files held as multi-line strings in values (pod templates of CI runners,
/// sidecar configs): parsed, and located at their lines when they are block scalars.
fn embedded_yaml_references(site: &Site, node: &Node, route: &Route, out: &mut Vec<Reference>) {
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                let at = route.key(&e.key);
                match e.value.as_str() {
                    Some(text) if text.contains('\n') && e.value.tag.is_none() => {
                        yaml_text_references(site, &e.value, e.key_span, text, &at, out);
                    }
                    _ => embedded_yaml_references(site, &e.value, &at, out),
                }
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                embedded_yaml_references(site, item, &route.index(i), out);
            }
        }
        _ => {}
    }
}

fn with_tag(repo: &str, tag: Option<String>) -> String {
    match tag.filter(|t| !t.trim().is_empty()) {
        Some(t) if !repo.contains('@') => format!("{repo}:{t}"),
        _ => repo.to_string(),
    }
}

/// `name`/`value` lists that set chart values (Argo CD `helm.parameters`, Terraform `set`):
/// `…image.repository` (with `…image.registry`), `…image.registry` alone, `global.imageRegistry`.
fn parameter_references(site: &Site, params: &Node, route: &Route, out: &mut Vec<Reference>) {
    let items = params.items();
    let value_of = |name: &str| -> Option<(usize, &Node, String)> {
        items.iter().enumerate().rev().find_map(|(i, p)| {
            let n = p.get("name").and_then(literal)?;
            if n != name {
                return None;
            }
            let v = p.get("value")?;
            Some((i, v, image_text(v)?))
        })
    };
    let global = value_of("global.imageRegistry");
    if let Some((i, node, text)) = &global {
        out.push(Reference {
            location: site.locate(node, &route.index(*i).key("value")),
            text: text.clone(),
            artifact: IMAGE,
            host_only: true,
        });
    }
    let mut prefixes: Vec<String> = Vec::new();
    for p in items {
        let Some(name) = p.get("name").and_then(literal) else {
            continue;
        };
        for suffix in ["image.repository", "image.registry"] {
            if let Some(prefix) = name.strip_suffix(suffix)
                && (prefix.is_empty() || prefix.ends_with('.'))
                && !prefixes.iter().any(|q| q == prefix)
            {
                prefixes.push(prefix.to_string());
            }
        }
    }
    for prefix in prefixes {
        let registry = value_of(&format!("{prefix}image.registry"));
        let repository = value_of(&format!("{prefix}image.repository"));
        let tag = value_of(&format!("{prefix}image.tag")).map(|(_, _, t)| t);
        let (index, node, text, host_only) = match (registry, repository) {
            (Some((i, node, host)), Some((_, _, repo))) => (
                i,
                node,
                with_tag(&format!("{}/{repo}", host.trim_end_matches('/')), tag),
                false,
            ),
            (Some((i, node, host)), None) => (i, node, host, true),
            (None, Some((i, node, repo))) if global.is_none() => {
                (i, node, with_tag(&repo, tag), false)
            }
            _ => continue,
        };
        out.push(Reference {
            location: site.locate(node, &route.index(index).key("value")),
            text,
            artifact: IMAGE,
            host_only,
        });
    }
}

/// Terraform `helm_release` (HCL or plan): `repository`, an `oci://` chart, `set` values and
/// literal `values` (YAML strings, heredocs, `yamlencode({...})`).
fn helm_release_references(resource: &Resource, out: &mut Vec<Reference>) {
    let body = &resource.body;
    let site = Site::direct(resource);
    for key in ["repository", "chart"] {
        let Some(node) = body.get(key) else {
            continue;
        };
        let Some(text) = literal(node) else {
            continue;
        };
        // A chart name without a URL is looked up in `repository`.
        if key == "chart" && !text.contains("://") {
            continue;
        }
        out.push(Reference {
            location: site.locate(node, &Route::root().key(key)),
            text: text.to_string(),
            artifact: CHART_SOURCE,
            host_only: false,
        });
    }
    if let Some(set) = body.get("set") {
        parameter_references(&site, set, &Route::root().key("set"), out);
    }
    let values_route = Route::root().key("values");
    for (i, item) in body
        .get("values")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let route = values_route.index(i);
        let field = resource.locate(item, &route);
        match (item.tag.as_deref(), item.as_str()) {
            (None, Some(text)) => {
                // A plain string: its lines are not the file's (escaped `\n` in HCL or JSON).
                let inner = Site {
                    resource,
                    base: route.clone(),
                    line_offset: None,
                    fallback: Some(field),
                };
                if let Ok(docs) = yaml::parse_stream(text) {
                    for doc in &docs {
                        values_references(&inner, doc, &Route::root(), out);
                    }
                }
            }
            (Some(EXPR_TAG), Some(source)) => {
                hcl_values_references(resource, item, source, &route, out);
            }
            _ => {}
        }
    }
}

/// A heredoc (`<<EOT … EOT`) or an `yamlencode({...})`/`jsonencode({...})` call in `values`.
fn hcl_values_references(
    resource: &Resource,
    item: &Node,
    source: &str,
    route: &Route,
    out: &mut Vec<Reference>,
) {
    let start = item.span.start.line;
    if let Some(rest) = source.strip_prefix("<<") {
        let Some((_, body)) = rest.split_once('\n') else {
            return;
        };
        // Drop the closing marker line.
        let body = body.rsplit_once('\n').map_or("", |(b, _)| b);
        let Ok(docs) = yaml::parse_stream(body) else {
            return;
        };
        let inner = Site {
            resource,
            base: route.clone(),
            line_offset: Some(start),
            fallback: None,
        };
        for doc in &docs {
            values_references(&inner, doc, &Route::root(), out);
        }
        return;
    }
    for function in ["yamlencode(", "jsonencode("] {
        let Some(args) = source.strip_prefix(function) else {
            continue;
        };
        let Some(object) = args.strip_suffix(')') else {
            return;
        };
        let Ok(parsed) = hcl::parse(&format!("v = {object}\n")) else {
            return;
        };
        let Some(value) = parsed.get("v") else {
            return;
        };
        if !matches!(value.value, Value::Map(_)) {
            return;
        }
        let inner = Site {
            resource,
            base: route.clone(),
            line_offset: Some(start.saturating_sub(1)),
            fallback: None,
        };
        values_references(&inner, value, &Route::root(), out);
        return;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::engine::Profile;
    use crate::tree::Span;
    use std::sync::Arc;

    fn judge(image: &str) -> (bool, bool) {
        let kb = crate::knowledge::get().unwrap();
        let ctx = Context {
            kb,
            profile: Profile::Eu,
            personal_data_labels: Vec::new(),
            deploy_regions: Vec::new(),
            max_log_retention_days: 400,
            require_customer_managed_keys: false,
            resources: &[],
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
        assert!(!is_placeholder("nginx:1.27"));
    }
}
