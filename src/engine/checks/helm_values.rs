//! Images named in Helm values wherever they are written: HelmRelease `spec.values`, Argo CD
//! `helm.values`/`valuesObject`/`parameters`, Terraform `set` and `values`.

use super::image_references::{Reference, Site, literal};
use super::registries::IMAGE;
use crate::load::yaml;
use crate::tree::{Node, Route, Segment, Span, Value};

/// References in a YAML string written as a YAML value (`helm.values: |`): located at their
/// line inside a block scalar, else at the field.
pub(super) fn yaml_text_references(
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
pub(super) fn values_references(
    site: &Site,
    values: &Node,
    route: &Route,
    out: &mut Vec<Reference>,
) {
    // With a global registry (`global.imageRegistry`, or `global.image.registry` in some
    // charts), repositories without their own registry are pulled from it.
    let global_registry = ["global.imageRegistry", "global.image.registry"]
        .iter()
        .any(|p| values.path(p).and_then(image_text).is_some());
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
        let under_image = matches!(at.0.last(), Some(Segment::Key(k)) if &**k == "image");
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
pub(super) fn parameter_references(
    site: &Site,
    params: &Node,
    route: &Route,
    out: &mut Vec<Reference>,
) {
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
