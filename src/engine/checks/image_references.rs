//! Where a resource names the images and charts it pulls: workload containers, Flux sources,
//! HelmReleases and Kustomizations, Argo CD Application(Set)s, Prometheus operator resources,
//! Terraform `helm_release`, and the images of cloud container services (the
//! `container_images` fact).

use super::helm_values::{parameter_references, values_references, yaml_text_references};
use super::registries::{CHART_SOURCE, IMAGE, OCI_ARTIFACT};
use crate::extract::arm_expressions::is_expression;
use crate::extract::kubernetes::containers;
use crate::load::Format;
use crate::load::hcl::{self, EXPR_TAG};
use crate::load::yaml;
use crate::location::Location;
use crate::model::Resource;
use crate::tree::{Node, Route, Span, Value};

/// One image or chart source written in a resource.
#[derive(Clone, Debug)]
pub(super) struct Reference {
    pub(super) location: Location,
    pub(super) text: String,
    pub(super) artifact: &'static str,
    /// The text is a registry host alone (`global.imageRegistry: ghcr.io`).
    pub(super) host_only: bool,
}

/// Places a reference found in a resource: directly in its tree, or inside a text (a YAML
/// string, a heredoc, a `yamlencode(...)` call) re-parsed at a line offset.
#[derive(Clone)]
pub(super) struct Site<'a> {
    pub(super) resource: &'a Resource,
    /// Route (relative to the resource) of the field holding the re-parsed text.
    pub(super) base: Route,
    /// Lines to add to spans of a re-parsed text; `None` for nodes of the resource's own tree.
    pub(super) line_offset: Option<u32>,
    /// Where to point when lines inside the text cannot be trusted.
    pub(super) fallback: Option<Location>,
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

    pub(super) fn locate(&self, node: &Node, route: &Route) -> Location {
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

pub(super) fn literal(node: &Node) -> Option<&str> {
    if node.tag.as_deref() == Some(EXPR_TAG) {
        return None;
    }
    node.as_str()
}

/// Every image and chart source a resource pulls.
pub(super) fn references(resource: &Resource) -> Vec<Reference> {
    let mut out = Vec::new();
    match resource.format {
        Format::Kubernetes => kubernetes_references(resource, &mut out),
        Format::Terraform | Format::TerraformPlan if resource.kind == "helm_release" => {
            helm_release_references(resource, &mut out);
        }
        _ => {}
    }
    service_images(resource, &mut out);
    out
}

/// Images a cloud service runs, where the knowledge says the format writes them (ECS task
/// definitions, Lambda, Cloud Run, App Service, Container Instances, Container Apps).
fn service_images(resource: &Resource, out: &mut Vec<Reference>) {
    let Some(fact) = resource.fact("container_images") else {
        return;
    };
    // Images written without their registry, beside a registry URL of their own.
    let registry = resource
        .fact("image_registry")
        .and_then(|f| literal(&f.value).map(str::to_string))
        .and_then(|url| {
            if url.contains("://") {
                crate::knowledge::hosts::host_of(&url)
            } else {
                Some(url.trim_end_matches('/').to_string())
            }
        });
    for item in fact.value.items() {
        let Some(text) = literal(item) else {
            continue;
        };
        if item.tag.is_some() || is_expression(text) {
            // A template intrinsic (`!Sub`, `!Ref`) or an ARM expression the files do not
            // resolve (`[parameters('linuxFxVersion')]`): decided at deployment.
            continue;
        }
        // App Service writes `DOCKER|<image>`; `COMPOSE|` holds a base64 file, not an image.
        let image = match text.split_once('|') {
            Some((kind, image)) if kind.eq_ignore_ascii_case("docker") => image,
            Some(_) => continue,
            None => text,
        };
        let has_host = image
            .split_once('/')
            .is_some_and(|(first, _)| first.contains('.') || first.contains(':'));
        let text = match &registry {
            Some(host) if !has_host => format!("{host}/{image}"),
            _ => image.to_string(),
        };
        out.push(Reference {
            location: fact.item_location(item),
            text,
            artifact: IMAGE,
            host_only: false,
        });
    }
}

/// The image a container (or a resource that names one image) runs.
fn image_of(site: &Site, holder: &Node, route: &Route) -> Option<Reference> {
    let image = holder.get("image")?;
    Some(Reference {
        location: site.locate(image, &route.key("image")),
        text: literal(image)?.to_string(),
        artifact: IMAGE,
        host_only: false,
    })
}

fn kubernetes_references(resource: &Resource, out: &mut Vec<Reference>) {
    let site = Site::direct(resource);
    for (route, c) in containers(resource) {
        out.extend(image_of(&site, c, &route));
    }
    let body = &resource.body;
    match (
        resource.api_group().unwrap_or_default(),
        resource.kind.as_str(),
    ) {
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
        (
            "argoproj.io",
            "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate" | "CronWorkflow",
        ) => {
            if let Some(spec) = crate::extract::kubernetes::argo_workflow_spec(
                resource.api_version.as_deref(),
                &resource.kind,
            ) {
                argo_workflow_images(&site, body, &spec, out);
            }
        }
        ("argoproj.io", "Application") => argo_sources(&site, body, &Route::parse("spec"), out),
        ("argoproj.io", "ApplicationSet") => {
            argo_sources(&site, body, &Route::parse("spec.template.spec"), out);
        }
        // The Prometheus operator runs the image a Prometheus, Alertmanager or ThanosRuler
        // names (the containers it adds beside it are a pod spec's, `containers`).
        ("monitoring.coreos.com", "Prometheus" | "Alertmanager" | "ThanosRuler") => {
            let route = Route::parse("spec");
            if let Some(spec) = body.at(&route) {
                out.extend(image_of(&site, spec, &route));
            }
        }
        ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
            let route = Route::parse("spec.images");
            if let Some(images) = body.at(&route) {
                kustomize_images(&site, images, &route, out);
            }
        }
        _ => {}
    }
}

/// The images an Argo workflow's steps run: each template's `container` or `script`, and the
/// sidecars beside it (its init containers and a container set's containers are a pod spec's,
/// `containers`), with the templates steps and tasks write inline.
fn argo_workflow_images(site: &Site, body: &Node, spec: &Route, out: &mut Vec<Reference>) {
    let templates = spec.key("templates");
    let Some(list) = body.at(&templates) else {
        return;
    };
    for (i, template) in list.items().iter().enumerate() {
        argo_template_images(site, template, &templates.index(i), out);
    }
}

fn argo_template_images(site: &Site, template: &Node, route: &Route, out: &mut Vec<Reference>) {
    for step in ["container", "script"] {
        if let Some(holder) = template.get(step) {
            out.extend(image_of(site, holder, &route.key(step)));
        }
    }
    let sidecars = template
        .get("sidecars")
        .map(Node::items)
        .unwrap_or_default();
    for (j, holder) in sidecars.iter().enumerate() {
        out.extend(image_of(site, holder, &route.key("sidecars").index(j)));
    }
    // Steps are lists of parallel steps; a DAG's tasks are one list.
    let steps = template.get("steps").map(Node::items).unwrap_or_default();
    for (j, group) in steps.iter().enumerate() {
        for (k, step) in group.items().iter().enumerate() {
            let at = route.key("steps").index(j).index(k).key("inline");
            if let Some(inline) = step.get("inline") {
                argo_template_images(site, inline, &at, out);
            }
        }
    }
    let tasks = template
        .path("dag.tasks")
        .map(Node::items)
        .unwrap_or_default();
    for (j, task) in tasks.iter().enumerate() {
        let at = route.key("dag").key("tasks").index(j).key("inline");
        if let Some(inline) = task.get("inline") {
            argo_template_images(site, inline, &at, out);
        }
    }
}

/// Image overrides of Kustomize: `{name, newName, newTag}` maps (Flux Kustomization) or
/// `[old=]new[:tag]` strings (Argo CD `kustomize.images`). An override that keeps the name
/// changes no registry.
fn kustomize_images(site: &Site, images: &Node, route: &Route, out: &mut Vec<Reference>) {
    for (i, item) in images.items().iter().enumerate() {
        let (node, at, text) = match (item.get("newName"), literal(item)) {
            (Some(new_name), _) => {
                let Some(name) = literal(new_name) else {
                    continue;
                };
                let tag = item.get("newTag").and_then(Node::scalar_text);
                let text = match tag {
                    Some(t) if !name.contains('@') => format!("{name}:{t}"),
                    _ => name.to_string(),
                };
                (new_name, route.index(i).key("newName"), text)
            }
            (None, Some(text)) => {
                let image = text.split_once('=').map_or(text, |(_, new)| new);
                (item, route.index(i), image.to_string())
            }
            _ => continue,
        };
        out.push(Reference {
            location: site.locate(node, &at),
            text,
            artifact: IMAGE,
            host_only: false,
        });
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
        if let Some(images) = source.get("kustomize").and_then(|k| k.get("images")) {
            kustomize_images(site, images, &route.key("kustomize").key("images"), out);
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
