//! Kubernetes ties to one hyperscaler: load-balancer annotations and classes, storage,
//! workload identity, cloud CRDs, controller providers and node bindings.

use super::{Check, Hit};
use crate::engine::Context;
use crate::extract::kubernetes::{containers, pod_specs};
use crate::model::Resource;
use crate::tree::{Node, Route};

pub static CHECKS: &[(&str, Check)] = &[
    (
        "cloud_load_balancer_binding",
        Check::Resource(cloud_load_balancer_binding),
    ),
    (
        "cloud_storage_binding",
        Check::Resource(cloud_storage_binding),
    ),
    (
        "cloud_workload_identity",
        Check::Resource(cloud_workload_identity),
    ),
    (
        "cloud_resource_from_kubernetes",
        Check::Resource(cloud_resource_from_kubernetes),
    ),
    (
        "cloud_controller_provider",
        Check::Resource(cloud_controller_provider),
    ),
    ("cloud_node_binding", Check::Resource(cloud_node_binding)),
];

static NO_NODE: Node = Node {
    value: crate::tree::Value::Null,
    tag: None,
    span: crate::tree::Span {
        start: crate::tree::Pos { line: 0, column: 0 },
        end: crate::tree::Pos { line: 0, column: 0 },
    },
};

/// A provider controlled from outside the EU (AWS, Azure, Google, Oracle, Alibaba, IBM, …).
fn non_eu(ctx: &Context, provider: Option<&str>) -> Option<String> {
    let p = provider?;
    let info = ctx.kb.provider(p)?;
    (info.classification != "eu_controlled" && info.classification != "adequate_country_controlled")
        .then(|| ctx.kb.provider_name(p).into_owned())
}

/// The provider key behind a display name produced by `non_eu`, for the summary.
fn key_of(ctx: &Context, name: &str) -> String {
    ctx.kb.provider_key_for_name(name)
}

fn hit_on_key(resource: &Resource, parent: &Node, parent_route: &Route, key: &str) -> Hit {
    Hit::at(
        resource
            .locate_key(parent, key, parent_route)
            .unwrap_or_else(|| resource.start()),
    )
}

fn with_alternatives(ctx: &Context, hit: Hit, category: &str) -> Hit {
    hit.var(
        "alternatives",
        ctx.kb.alternatives_text(category).unwrap_or_default(),
    )
}

fn cloud_load_balancer_binding(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let body = &resource.body;
    let markers = &ctx.kb.markers;
    // Annotations: one finding per provider per resource, at the first annotation of it. A
    // Gateway's `spec.infrastructure` annotations go to the Service its implementation makes.
    let annotated_at: &[&str] = match resource.kind.as_str() {
        "Service" | "Ingress" | "HTTPRoute" => &["metadata.annotations"],
        "Gateway" => &[
            "metadata.annotations",
            crate::extract::kubernetes::GATEWAY_INFRASTRUCTURE_ANNOTATIONS,
        ],
        _ => &[],
    };
    let mut seen = Vec::new();
    for at in annotated_at {
        let annotations_route = Route::parse(at);
        if let Some(annotations) = body.at(&annotations_route) {
            for e in annotations.entries() {
                let Some(m) = ctx.kb.annotation_markers.iter().find(|m| m.matches(&e.key)) else {
                    continue;
                };
                if m.marker.service.as_deref() != Some("load_balancer")
                    && m.marker.service.as_deref() != Some("certificate_manager")
                    && m.marker.service.as_deref() != Some("waf")
                {
                    continue;
                }
                let Some(name) = non_eu(ctx, m.marker.provider.as_deref()) else {
                    continue;
                };
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name.clone());
                let hit = hit_on_key(resource, annotations, &annotations_route, &e.key)
                    .var("binding", format!("annotation {}", e.key))
                    .provider(key_of(ctx, &name))
                    .var("provider", name)
                    .evidence(e.key.clone())
                    .key(e.key.clone());
                hits.push(with_alternatives(ctx, hit, "load_balancer"));
            }
        }
    }
    // A class of a provider already named by an annotation adds nothing: one finding per provider.
    let annotated: Vec<String> = hits.iter().filter_map(|h| h.provider.clone()).collect();
    let mut class_value =
        |route: &str, values: &[crate::knowledge::data::ValueMarker], what: &str| {
            let route = Route::parse(route);
            if let Some(node) = body.at(&route)
                && let Some(value) = node.as_str()
                && let Some(m) = values.iter().find(|m| m.value == value)
                && let Some(name) = non_eu(ctx, m.provider.as_deref())
                && !annotated.contains(&key_of(ctx, &name))
            {
                let hit = Hit::at(resource.locate(node, &route))
                    .var("binding", format!("{what} {value}"))
                    .provider(key_of(ctx, &name))
                    .var("provider", name)
                    .evidence(value.to_string())
                    .key(value.to_string());
                hits.push(with_alternatives(ctx, hit, "load_balancer"));
            }
        };
    match resource.kind.as_str() {
        "Ingress" => {
            class_value(
                "spec.ingressClassName",
                &markers.ingress_classes.values,
                "ingress class",
            );
            class_value(
                "metadata.annotations[\"kubernetes.io/ingress.class\"]",
                &markers.ingress_classes.values,
                "ingress class",
            );
        }
        "IngressClass" => class_value(
            "spec.controller",
            &markers.ingress_classes.controllers,
            "ingress controller",
        ),
        "Service" => class_value(
            "spec.loadBalancerClass",
            &markers.load_balancer_classes,
            "load-balancer class",
        ),
        "GatewayClass" | "Gateway" => {
            let route = if resource.kind == "GatewayClass" {
                "spec.controllerName"
            } else {
                "spec.gatewayClassName"
            };
            let route = Route::parse(route);
            if let Some(node) = body.at(&route)
                && let Some(value) = node.as_str()
                && let Some(g) = markers.gateway_classes.iter().find(|g| {
                    g.controller_name == value || g.class_names.iter().any(|c| c == value)
                })
                && let Some(name) = non_eu(ctx, g.provider.as_deref())
            {
                let hit = Hit::at(resource.locate(node, &route))
                    .var("binding", format!("gateway class {value}"))
                    .provider(key_of(ctx, &name))
                    .var("provider", name)
                    .evidence(value.to_string());
                hits.push(with_alternatives(ctx, hit, "load_balancer"));
            }
        }
        _ => {}
    }
}

/// A claim, or a workload with claim templates: its storage class may be a StorageClass of
/// another file.
pub fn needs_estate(resource: &Resource) -> bool {
    resource.format == crate::load::Format::Kubernetes
        && (resource.kind == "PersistentVolumeClaim"
            || resource.body.path("spec.volumeClaimTemplates").is_some())
}

/// A StorageClass, which claims of other files name.
pub fn named_by_claims(resource: &Resource) -> bool {
    resource.format == crate::load::Format::Kubernetes && resource.kind == "StorageClass"
}

/// The provisioner a StorageClass names.
pub fn provisioner(class: &Resource) -> Option<&str> {
    match &class.settled {
        Some(settled) => settled.provisioner.as_deref(),
        None => class.body.get("provisioner").and_then(Node::as_str),
    }
}

/// The hyperscaler behind a storage class name: a StorageClass of the scan, or a well-known name.
fn storage_class_provider(ctx: &Context, class: &str) -> Option<(String, String)> {
    let provisioner = ctx
        .resources
        .iter()
        .find(|r| r.kind == "StorageClass" && r.name == class)
        .and_then(provisioner);
    if let Some(p) = provisioner {
        let m = ctx
            .kb
            .markers
            .storage_provisioners
            .iter()
            .find(|m| m.name == p)?;
        return non_eu(ctx, m.provider.as_deref())
            .map(|n| (n, format!("StorageClass {class} ({p})")));
    }
    let m = ctx
        .kb
        .markers
        .storage_class_names
        .iter()
        .find(|m| m.name == class)?;
    // A name that clusters of no cloud use too (`standard`: GKE's legacy default, and kind's
    // and minikube's) says nothing of a provider on its own: only its StorageClass would.
    if m.ambiguous_with
        .iter()
        .any(|other| ctx.kb.provider(other).is_none())
    {
        return None;
    }
    non_eu(ctx, m.provider.as_deref()).map(|n| (n, format!("storage class {class}")))
}

fn cloud_storage_binding(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let body = &resource.body;
    match resource.kind.as_str() {
        "StorageClass" => {
            let route = Route::parse("provisioner");
            if let Some(node) = body.at(&route)
                && let Some(p) = node.as_str()
                && let Some(name) = provisioner_owner(ctx, p)
            {
                let hit = Hit::at(resource.locate(node, &route));
                hits.push(storage_hit(ctx, hit, format!("provisioner {p}"), name, p));
            }
        }
        "PersistentVolume" => {
            let spec = Route::parse("spec");
            if let Some(source) = body.at(&spec) {
                volume_storage(ctx, resource, source, &spec, hits);
            }
        }
        _ => {
            // Volumes a pod mounts directly, without a claim.
            for (spec_route, spec) in pod_specs(resource) {
                let Some(volumes) = spec.get("volumes") else {
                    continue;
                };
                for (i, volume) in volumes.items().iter().enumerate() {
                    let route = spec_route.key("volumes").index(i);
                    volume_storage(ctx, resource, volume, &route, hits);
                }
            }
            let mut claims: Vec<(Route, &Node)> = Vec::new();
            if resource.kind == "PersistentVolumeClaim" {
                claims.push((Route::root(), body));
            }
            if let Some(templates) = body.path("spec.volumeClaimTemplates") {
                for (i, t) in templates.items().iter().enumerate() {
                    claims.push((Route::parse("spec.volumeClaimTemplates").index(i), t));
                }
            }
            for (route, claim) in claims {
                let class_route = route.key("spec").key("storageClassName");
                if let Some(node) = body.at(&class_route)
                    && let Some(class) = node.as_str()
                    && let Some((name, what)) = storage_class_provider(ctx, class)
                {
                    let _ = claim;
                    hits.push(
                        Hit::at(resource.locate(node, &class_route))
                            .var("binding", what)
                            .provider(key_of(ctx, &name))
                            .var("provider", name)
                            .evidence(class.to_string())
                            .key(class_route.to_string()),
                    );
                }
            }
        }
    }
}

/// The hyperscaler storage a volume source (a persistent volume's spec, a pod's volume at
/// `route`) names: a CSI driver the knowledge knows (`csi.driver`), or a legacy in-tree volume
/// (`gcePersistentDisk`).
fn volume_storage(
    ctx: &Context,
    resource: &Resource,
    source: &Node,
    route: &Route,
    hits: &mut Vec<Hit>,
) {
    if let Some(node) = source.path("csi.driver")
        && let Some(driver) = node.as_str()
        && let Some(name) = provisioner_owner(ctx, driver)
    {
        let hit = Hit::at(resource.locate(node, &route.key("csi").key("driver")));
        hits.push(storage_hit(
            ctx,
            hit,
            format!("CSI driver {driver}"),
            name,
            driver,
        ));
        return;
    }
    let in_tree = ctx.kb.markers.storage_provisioners.iter().find_map(|m| {
        let kind = m.volume_source.as_deref()?;
        source.get(kind)?;
        Some((kind, non_eu(ctx, m.provider.as_deref())?))
    });
    if let Some((kind, name)) = in_tree {
        let hit = hit_on_key(resource, source, route, kind);
        hits.push(storage_hit(
            ctx,
            hit,
            format!("in-tree volume {kind}"),
            name,
            kind,
        ));
    }
}

/// The provider outside the EU behind a storage provisioner or CSI driver the knowledge knows.
fn provisioner_owner(ctx: &Context, provisioner: &str) -> Option<String> {
    let m = ctx
        .kb
        .markers
        .storage_provisioners
        .iter()
        .find(|m| m.name == provisioner)?;
    non_eu(ctx, m.provider.as_deref())
}

/// A storage binding's hit: what binds (`binding`) to which provider, shown by `evidence`.
fn storage_hit(ctx: &Context, hit: Hit, binding: String, provider: String, evidence: &str) -> Hit {
    hit.var("binding", binding)
        .provider(key_of(ctx, &provider))
        .var("provider", provider)
        .evidence(evidence.to_string())
}

fn cloud_workload_identity(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let mut places: Vec<(Route, &Node)> = Vec::new();
    for section in ["metadata.annotations", "metadata.labels"] {
        let route = Route::parse(section);
        if let Some(n) = resource.body.at(&route) {
            places.push((route, n));
        }
    }
    for (spec_route, spec) in pod_specs(resource) {
        let template = Route(spec_route.0[..spec_route.0.len().saturating_sub(1)].to_vec());
        for section in ["metadata.annotations", "metadata.labels"] {
            let route = template.join(&Route::parse(section));
            if !template.is_empty()
                && let Some(n) = resource.body.at(&route)
            {
                places.push((route, n));
            }
        }
        if let Some(sel) = spec.get("nodeSelector") {
            places.push((spec_route.key("nodeSelector"), sel));
        }
    }
    let mut seen = Vec::new();
    for (route, map) in places {
        for e in map.entries() {
            let Some(m) = ctx.kb.markers.workload_identity.iter().find(|m| {
                m.key
                    .as_deref()
                    .is_some_and(|k| match m.match_kind.as_deref() {
                        Some("prefix") => e.key.starts_with(k),
                        _ => e.key == k,
                    })
            }) else {
                continue;
            };
            let Some(name) = non_eu(ctx, Some(&m.provider)) else {
                continue;
            };
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let mechanism = ctx
                .kb
                .markers
                .workload_identity
                .iter()
                .filter(|x| x.provider == m.provider)
                .find_map(|x| x.mechanism.clone())
                .unwrap_or_else(|| "workload identity".into());
            hits.push(
                hit_on_key(resource, map, &route, &e.key)
                    .var("mechanism", mechanism)
                    .provider(key_of(ctx, &name))
                    .var("provider", name)
                    .evidence(match e.value.scalar_text() {
                        Some(value) => format!("{}: {value}", e.key),
                        // A value only the deployment decides (written in Terraform).
                        None => e.key.clone(),
                    })
                    .key(e.key.clone()),
            );
        }
    }
}

fn cloud_resource_from_kubernetes(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let (Some(api), Some(group)) = (resource.api_version.as_deref(), resource.api_group()) else {
        return;
    };
    let route = Route::parse("apiVersion");
    if let Some(crd) = ctx.kb.crd_group(group)
        && let Some(name) = non_eu(ctx, crd.provider.as_deref())
        && let Some(node) = resource.body.at(&route)
    {
        hits.push(
            Hit::at(resource.locate(node, &route))
                .var(
                    "tool",
                    crd.tool.clone().unwrap_or_else(|| group.to_string()),
                )
                .provider(key_of(ctx, &name))
                .var("provider", name)
                .evidence(api.to_string()),
        );
        return;
    }
    // Karpenter NodePools pick their cloud through the node class group.
    let class_route = Route::parse("spec.template.spec.nodeClassRef.group");
    if resource.kind == "NodePool"
        && let Some(node) = resource.body.at(&class_route)
        && let Some(g) = node.as_str()
        && let Some(crd) = ctx.kb.crd_group(g)
        && let Some(name) = non_eu(ctx, crd.provider.as_deref())
    {
        hits.push(
            Hit::at(resource.locate(node, &class_route))
                .var("tool", format!("Karpenter node class {g}"))
                .provider(key_of(ctx, &name))
                .var("provider", name)
                .evidence(g.to_string()),
        );
    }
}

fn provider_of_setting(
    ctx: &Context,
    table: &std::collections::BTreeMap<String, crate::knowledge::data::ProviderRef>,
    value: &str,
) -> Option<String> {
    let entry = table.get(value)?;
    non_eu(ctx, entry.provider.as_deref())
}

fn json_provider(value: Option<&serde_json::Value>) -> Option<String> {
    value?.get("provider")?.as_str().map(str::to_string)
}

fn cloud_controller_provider(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let settings = &ctx.kb.markers.controller_settings;
    let body = &resource.body;
    // Container arguments of external-dns and cluster-autoscaler.
    for (route, container) in containers(resource) {
        let image = container
            .get("image")
            .and_then(Node::as_str)
            .unwrap_or_default();
        for list in ["args", "command"] {
            for (i, arg) in container
                .get(list)
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let Some(text) = arg.as_str() else { continue };
                let (controller, provider) = if let Some(v) = text
                    .strip_prefix("--provider=")
                    .filter(|_| image.contains("external-dns"))
                {
                    (
                        "external-dns",
                        provider_of_setting(ctx, &settings.external_dns.provider_values, v),
                    )
                } else if let Some(v) = text
                    .strip_prefix("--cloud-provider=")
                    .filter(|_| image.contains("autoscaler"))
                {
                    (
                        "cluster-autoscaler",
                        settings
                            .cluster_autoscaler
                            .provider_values
                            .get(v)
                            .cloned()
                            .flatten()
                            .and_then(|p| non_eu(ctx, Some(&p))),
                    )
                } else {
                    continue;
                };
                if let Some(name) = provider {
                    let r = route.key(list).index(i);
                    hits.push(
                        Hit::at(resource.locate(arg, &r))
                            .var("controller", controller)
                            .provider(key_of(ctx, &name))
                            .var("provider", name)
                            .evidence(text.to_string())
                            .key(r.to_string()),
                    );
                }
            }
        }
    }
    match resource.kind.as_str() {
        "Issuer" | "ClusterIssuer" => {
            for (i, solver) in body
                .path("spec.acme.solvers")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let Some(dns01) = solver.get("dns01") else {
                    continue;
                };
                for e in dns01.entries() {
                    if let Some(name) =
                        provider_of_setting(ctx, &settings.cert_manager.dns01_solvers, &e.key)
                    {
                        let parent = Route::parse("spec.acme.solvers").index(i).key("dns01");
                        hits.push(
                            hit_on_key(resource, dns01, &parent, &e.key)
                                .var("controller", "cert-manager DNS-01 solver")
                                .provider(key_of(ctx, &name))
                                .var("provider", name)
                                .evidence(e.key.clone())
                                .key(format!("{i}")),
                        );
                    }
                }
            }
        }
        "SecretProviderClass" | "BackupStorageLocation" | "VolumeSnapshotLocation" => {
            let table = if resource.kind == "SecretProviderClass" {
                &settings.secrets_store_csi.providers
            } else {
                &settings.velero.providers
            };
            let route = Route::parse("spec.provider");
            if let Some(node) = body.at(&route)
                && let Some(value) = node.as_str()
            {
                let key = value.strip_prefix("velero.io/").unwrap_or(value);
                // Velero's aws plugin also serves S3-compatible EU stores: look at s3Url first.
                let s3_url = body.path("spec.config.s3Url").and_then(Node::as_str);
                if key == "aws" && s3_url.is_some_and(|u| !u.contains("amazonaws.com")) {
                    return;
                }
                if let Some(name) = non_eu(ctx, json_provider(table.get(key)).as_deref()) {
                    hits.push(
                        Hit::at(resource.locate(node, &route))
                            .var(
                                "controller",
                                if resource.kind == "SecretProviderClass" {
                                    "Secrets Store CSI driver"
                                } else {
                                    "Velero"
                                },
                            )
                            .provider(key_of(ctx, &name))
                            .var("provider", name)
                            .evidence(value.to_string()),
                    );
                }
            }
        }
        "SecretStore" | "ClusterSecretStore" => {
            let route = Route::parse("spec.provider");
            if let Some(providers) = body.at(&route) {
                for e in providers.entries() {
                    if let Some(name) = non_eu(
                        ctx,
                        json_provider(settings.external_secrets.providers.get(&e.key)).as_deref(),
                    ) {
                        hits.push(
                            hit_on_key(resource, providers, &route, &e.key)
                                .var("controller", "External Secrets Operator")
                                .provider(key_of(ctx, &name))
                                .var("provider", name)
                                .evidence(e.key.clone())
                                .key(e.key.clone()),
                        );
                    }
                }
            }
        }
        _ => {}
    }
}

fn cloud_node_binding(ctx: &Context, resource: &Resource, hits: &mut Vec<Hit>) {
    let labels = &ctx.kb.markers.node_labels.labels;
    let provider_of_label = |key: &str, value: &str| -> Option<String> {
        let m = labels.iter().find(|l| match l.match_kind.as_deref() {
            Some("prefix") => key.starts_with(&l.key),
            _ => key == l.key,
        })?;
        if m.value_is.as_deref() == Some("instance_type") {
            return non_eu(ctx, ctx.kb.instance_type_provider(value));
        }
        non_eu(ctx, m.provider.as_deref())
    };
    for (spec_route, spec) in pod_specs(resource) {
        if let Some(selector) = spec.get("nodeSelector") {
            let route = spec_route.key("nodeSelector");
            for e in selector.entries() {
                let value = e.value.scalar_text().unwrap_or_default();
                if let Some(name) = provider_of_label(&e.key, &value) {
                    hits.push(
                        hit_on_key(resource, selector, &route, &e.key)
                            .var("binding", format!("node selector {}={value}", e.key))
                            .provider(key_of(ctx, &name))
                            .var("provider", name)
                            .evidence(format!("{}={value}", e.key))
                            .key(e.key.clone()),
                    );
                }
            }
        }
        let mut found = Vec::new();
        let affinity_route = spec_route.key("affinity").key("nodeAffinity");
        let affinity = spec.path("affinity.nodeAffinity").unwrap_or(&NO_NODE);
        affinity.walk(&affinity_route, &mut |route, node| {
            if let (Some(key), Some(values)) =
                (node.get("key").and_then(Node::as_str), node.get("values"))
            {
                let first = values
                    .items()
                    .first()
                    .and_then(Node::scalar_text)
                    .unwrap_or_default();
                found.push((route.clone(), node, key.to_string(), first));
            }
        });
        for (route, node, key, value) in found {
            if let Some(name) = provider_of_label(&key, &value) {
                let key_route = route.key("key");
                let key_node = node.get("key").unwrap_or(node);
                hits.push(
                    Hit::at(resource.locate(key_node, &key_route))
                        .var("binding", format!("node affinity on {key}"))
                        .provider(key_of(ctx, &name))
                        .var("provider", name)
                        .evidence(format!("{key} in {value}"))
                        .key(key_route.to_string()),
                );
            }
        }
    }
}
