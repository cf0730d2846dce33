//! Kubernetes objects into resources: `List`s unwrapped, labels gathered, and for cloud CRDs
//! (Crossplane, ACK, Config Connector, ASO) the provider and region read from their spec.

use super::facts::{self, FactSource};
use crate::knowledge::services::Dialect;

use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format};
use crate::location::Location;
use crate::model::{Labels, RegionFact, Resource, Unevaluated};
use crate::tree::{Node, Route, Value};

/// Kinds whose own objects hold data (volumes, databases, buckets).
const DATA_HOLDING_KIND_WORDS: &[&str] = &[
    "PersistentVolume",
    "StatefulSet",
    "Bucket",
    "DBInstance",
    "DBCluster",
    "Table",
    "SQLInstance",
    "Database",
    "StorageAccount",
    "Cache",
    "Redis",
    "Queue",
    "Topic",
    "Snapshot",
    "Backup",
    "FileSystem",
    "Volume",
    "Disk",
    "Cluster",
    "LogGroup",
    "Repository",
    "Vault",
    "Secret",
];

pub fn extract(doc: &Document, kb: &KnowledgeBase) -> Vec<Resource> {
    if is_list(&doc.root) {
        return list_items(doc, kb);
    }
    let (mut out, unparsed) = workflow_manifests(doc, &doc.root, kb);
    out.insert(
        0,
        with_unparsed(object(doc, doc.root.clone(), Route::root(), kb), unparsed),
    );
    out
}

/// `extract`, taking the tree of a document that is not a `List` instead of copying it: for a
/// document dropped once its resources are out.
pub fn extract_taking(doc: &mut Document, kb: &KnowledgeBase) -> Vec<Resource> {
    if is_list(&doc.root) {
        return list_items(doc, kb);
    }
    let (mut out, unparsed) = workflow_manifests(doc, &doc.root, kb);
    let span = doc.root.span;
    let root = std::mem::replace(&mut doc.root, Node::new(Value::Null, span));
    out.insert(
        0,
        with_unparsed(object(doc, root, Route::root(), kb), unparsed),
    );
    out
}

/// A workflow with the manifests of its resource templates that do not parse, listed as not
/// evaluated: the images they name are not judged.
fn with_unparsed(mut workflow: Resource, unparsed: Vec<Unevaluated>) -> Resource {
    for mut entry in unparsed {
        entry.resources = vec![workflow.address.clone()];
        workflow.unevaluated.push(entry);
    }
    workflow
}

/// Where an Argo Workflows object writes its workflow spec (`templates` and the rest): `spec`,
/// or a CronWorkflow's `spec.workflowSpec`; `None` for any other kind.
pub fn argo_workflow_spec(api_version: Option<&str>, kind: &str) -> Option<Route> {
    if !api_version.is_some_and(|v| v.starts_with("argoproj.io/")) {
        return None;
    }
    match kind {
        "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate" => Some(Route::parse("spec")),
        "CronWorkflow" => Some(Route::parse("spec.workflowSpec")),
        _ => None,
    }
}

/// Where a Gateway API Gateway writes the annotations its implementation passes to the
/// Service, and the cloud load balancer, it makes.
pub const GATEWAY_INFRASTRUCTURE_ANNOTATIONS: &str = "spec.infrastructure.annotations";

/// The objects an Argo workflow's `resource` templates create, apply or replace: the manifest
/// each holds as text, judged as objects of this file, each value at its line in the manifest
/// (a block scalar; a manifest written on one line places them all at it). A manifest that
/// does not parse (parameters Argo fills in before it does) is returned to be listed as not
/// evaluated; patches and deletions change objects made elsewhere.
fn workflow_manifests(
    doc: &Document,
    root: &Node,
    kb: &KnowledgeBase,
) -> (Vec<Resource>, Vec<Unevaluated>) {
    let api_version = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
    let Some(spec) = argo_workflow_spec(api_version, kind) else {
        return (Vec::new(), Vec::new());
    };
    let templates = spec.key("templates");
    let mut out = Vec::new();
    let mut unparsed = Vec::new();
    for (i, template) in root
        .at(&templates)
        .map_or(&[][..], Node::items)
        .iter()
        .enumerate()
    {
        let Some(resource) = template.get("resource") else {
            continue;
        };
        let action = resource
            .get("action")
            .and_then(Node::as_str)
            .unwrap_or_default();
        if !matches!(action, "create" | "apply" | "replace") {
            continue;
        }
        let route = templates.index(i).key("resource");
        // A manifest read from an artifact is only there when the workflow runs.
        if let Some(from) = resource.entries().iter().find(|e| e.key == "manifestFrom") {
            unparsed.push(Unevaluated {
                path: doc.path.to_string(),
                line: from.key_span.start.line,
                column: from.key_span.start.column,
                setting: route.key("manifestFrom").text(),
                fact: "container_images".into(),
                reason: "the manifest comes from an artifact the workflow reads when it runs"
                    .into(),
                resources: Vec::new(),
            });
            continue;
        }
        let Some(entry) = resource.entries().iter().find(|e| e.key == "manifest") else {
            continue;
        };
        let Some(text) = entry.value.as_str() else {
            continue;
        };
        let at = entry.value.span;
        let route = route.key("manifest");
        let documents = match crate::load::yaml::parse_stream(text) {
            Ok(documents) => documents,
            Err(e) => {
                unparsed.push(Unevaluated {
                    path: doc.path.to_string(),
                    line: at.start.line,
                    column: at.start.column,
                    setting: route.text(),
                    fact: "container_images".into(),
                    reason: format!(
                        "the manifest is not YAML as written (line {} of it: {})",
                        e.line, e.reason
                    ),
                    resources: Vec::new(),
                });
                continue;
            }
        };
        // A block scalar's text starts on the line after its key, or on its own first line.
        let first = if at.start.line == entry.key_span.start.line {
            at.start.line + 1
        } else {
            at.start.line
        };
        let block = at.end.line > at.start.line;
        for mut body in documents.into_iter().filter(|d| d.get("kind").is_some()) {
            body.move_spans(&|span| {
                if block {
                    for pos in [&mut span.start, &mut span.end] {
                        pos.line = first + pos.line.saturating_sub(1);
                        pos.column = at.start.column;
                    }
                } else {
                    *span = at;
                }
            });
            out.push(object(doc, body, route.clone(), kb));
        }
    }
    (out, unparsed)
}

/// The name of an object whose manifest names none.
pub const UNNAMED: &str = "<unnamed>";

/// A Kubernetes object written inside another file's tree (the `manifest` of a Terraform
/// `kubernetes_manifest`, or the object a typed resource of the Kubernetes provider makes),
/// extracted as an object of that file at `route`.
pub fn object_at(
    path: &std::sync::Arc<str>,
    document: usize,
    body: Node,
    route: Route,
    kb: &KnowledgeBase,
) -> Resource {
    let doc = Document {
        path: path.clone(),
        format: crate::load::Format::Kubernetes,
        index: document,
        root: Node::null(),
    };
    object(&doc, body, route, kb)
}

/// A `List` of objects (`kubectl get -o yaml`) rather than one object.
fn is_list(root: &Node) -> bool {
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
    kind.ends_with("List") && root.get("items").is_some()
}

fn list_items(doc: &Document, kb: &KnowledgeBase) -> Vec<Resource> {
    let items = doc.root.get("items").map(Node::items).unwrap_or_default();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.get("kind").is_some() {
            let route = Route::root().key("items").index(i);
            out.push(object(doc, item.clone(), route, kb));
        }
    }
    out
}

fn string_map(node: Option<&Node>) -> Labels {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|e| e.value.scalar_text().map(|v| (e.key.clone(), v)))
            .collect()
    })
    .unwrap_or_default()
}

fn object(doc: &Document, body: Node, route: Route, kb: &KnowledgeBase) -> Resource {
    let node = &body;
    let kind = node
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or("Unknown")
        .to_string();
    let api_version = node
        .get("apiVersion")
        .and_then(Node::as_str)
        .map(str::to_string);
    let metadata = node.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| UNNAMED.to_string());
    let namespace = metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Node::scalar_text);
    let mut labels = string_map(metadata.and_then(|m| m.get("labels")));
    // Workload templates carry the labels that describe the pods' data.
    for (route_text, _) in pod_spec_routes(&kind) {
        if let Some(template_meta) = node
            .path(route_text.trim_end_matches(".spec"))
            .and_then(|t| t.get("metadata"))
        {
            labels.add_missing(string_map(template_meta.get("labels")));
        }
    }
    let address = match &namespace {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    };
    let group = api_version
        .as_deref()
        .and_then(|a| a.split_once('/').map(|(g, _)| g.to_string()));
    let crd = group.as_deref().and_then(|g| kb.crd_group(g));
    // A cloud resource declared through an operator (Crossplane, ACK, Config Connector, ASO) is
    // the service the knowledge names as `<group>/<Kind>`.
    let service = group
        .as_deref()
        .and_then(|g| {
            kb.services
                .lookup(Format::Kubernetes, &format!("{g}/{kind}"))
        })
        .or_else(|| {
            let as_type = managed_knative(node, group.as_deref(), &kind)?;
            kb.services.lookup(Format::Kubernetes, as_type)
        });
    let provider = service
        .map(|s| s.provider.clone())
        .or_else(|| crd.and_then(|c| c.provider.clone()));
    let data_holding = service.is_some_and(|s| s.data_holding)
        || matches!(
            kind.as_str(),
            "PersistentVolumeClaim" | "PersistentVolume" | "StatefulSet"
        )
        || (crd.is_some() && DATA_HOLDING_KIND_WORDS.iter().any(|w| kind.contains(w)));

    let mut resource = Resource {
        format: Format::Kubernetes,
        path: doc.path.clone(),
        document: doc.index,
        kind,
        api_version,
        name,
        namespace,
        address,
        provider: provider.clone(),
        service: service
            .map(|s| s.service.clone())
            .or_else(|| crd.and_then(|c| c.tool.clone())),
        service_id: service.map(|s| s.id.clone()),
        category: service.and_then(|s| s.category.clone()),
        data_holding,
        region: None,
        unresolved_region: None,
        body,
        route,
        labels,
        facts: Default::default(),
        related: Vec::new(),
        settled: None,
        unevaluated: Vec::new(),
    };
    if let Some(provider) = provider {
        let default = service.and_then(|s| s.default_location.as_deref());
        resource.region = crd_region(&resource, &provider, default, kb);
    } else if crd.is_none() && group.as_deref().is_some_and(is_own_api_group) {
        resource.region = composite_region(&resource, kb);
        // A composite resource that places something of a data-holding kind holds data there.
        resource.data_holding |= resource.region.is_some()
            && DATA_HOLDING_KIND_WORDS
                .iter()
                .any(|w| resource.kind.contains(w));
    }
    if resource.region.is_none() && matches!(resource.kind.as_str(), "Service" | "Gateway") {
        resource.region = load_balancer_location(&resource, kb);
    }
    if let Some(service) = service {
        let source = FactSource::new(service, Dialect::Kubernetes);
        facts::apply(&mut resource, &source, &facts::as_written);
    }
    let unfilled = unfilled_settings(&resource, kb);
    resource.unevaluated.extend(unfilled);
    let hidden = hidden_endpoints(&resource);
    resource.unevaluated.extend(hidden);
    resource
}

/// Alertmanager integrations whose address the manifest does not say (read from a Secret, or
/// not written where the integration has no address of its own): where they send is listed
/// as not evaluated.
fn hidden_endpoints(resource: &Resource) -> Vec<Unevaluated> {
    let mut out = Vec::new();
    for endpoint in super::alertmanager::endpoints(resource) {
        let super::alertmanager::Target::Hidden(why) = &endpoint.target else {
            continue;
        };
        let Some(node) = resource.body.at(&endpoint.route) else {
            continue;
        };
        let at = resource.locate(node, &endpoint.route);
        // A Secret's selector is a map: the place is its key's, not its first entry's.
        let mut start = (at.start_line, at.start_column);
        if endpoint.line_in_text.is_none()
            && let [parent @ .., crate::tree::Segment::Key(key)] = endpoint.route.0.as_slice()
            && let Some(entry) = (resource.body.at(&Route(parent.to_vec())))
                .and_then(|p| p.entries().iter().find(|e| *e.key == **key))
        {
            start = (entry.key_span.start.line, entry.key_span.start.column);
        }
        out.push(Unevaluated {
            path: resource.path.to_string(),
            line: start.0 + endpoint.line_in_text.unwrap_or(0),
            column: if endpoint.line_in_text.is_some() {
                1
            } else {
                start.1
            },
            setting: format!("{} ({})", at.field, endpoint.list),
            fact: "endpoint".into(),
            reason: format!(
                "`{}` sends its notifications to an address {why}: the manifest does not say where",
                endpoint.list
            ),
            resources: vec![resource.address.clone()],
        });
    }
    out
}

/// Whether a value is one the deployment fills in (`${ZONE}`, `$IMAGE`, `{{ .Values.zone }}`,
/// `<location>`): it names no place or registry yet.
pub fn is_unfilled(text: &str) -> bool {
    text.contains(['$', '{', '<'])
}

/// Whether an image reference leaves its registry for the deployment to fill in
/// (`${REGISTRY}/app`, `$IMAGE`, `<DOCKER_REPO>/app:1`, `{{ .Values.image }}`). A literal
/// registry with a placeholder after it (`gcr.io/<PROJECT>/app`) names that registry.
pub fn registry_unfilled(text: &str) -> bool {
    let text = text.trim();
    match literal_host(text) {
        Some(host) => is_unfilled(host),
        None => is_unfilled(text),
    }
}

/// The registry host a reference names before its first slash (`gcr.io`, `localhost:5000`,
/// `oci://ghcr.io`), if it names one.
pub fn literal_host(text: &str) -> Option<&str> {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let (first, _) = rest.split_once('/')?;
    (text.contains("://") || first.contains('.') || first.contains(':') || first == "localhost")
        .then_some(first)
}

/// The settings the rules read that a manifest leaves for its deployment to fill in: a
/// container image whose registry is a placeholder, a node selector's or affinity's region or
/// zone, a load balancer's location annotation. Each is listed as not evaluated where it is
/// written, rather than passed over: the manifest is judged as deployed only once it is
/// rendered (`envsubst < app.yaml | sovscan scan -`).
fn unfilled_settings(resource: &Resource, kb: &KnowledgeBase) -> Vec<Unevaluated> {
    let mut out = Vec::new();
    let mut list = |node: &Node, route: &Route, fact: &str| {
        let at = resource.locate(node, route);
        out.push(Unevaluated {
            path: resource.path.to_string(),
            line: at.start_line,
            column: at.start_column,
            setting: at.field,
            fact: fact.into(),
            reason: format!(
                "`{}` is a placeholder filled in at deployment: scan the manifest as rendered to judge it",
                node.scalar_text().unwrap_or_default().trim()
            ),
            resources: vec![resource.address.clone()],
        });
    };
    for (route, container) in containers(resource) {
        if let Some(image) = container.get("image")
            && image.as_str().is_some_and(registry_unfilled)
        {
            list(image, &route.key("image"), "image");
        }
    }
    for placement in placements(kb, resource) {
        if is_unfilled(&placement.value) {
            list(placement.node, &placement.route, "placement");
        }
    }
    if let Some(at) = load_balancer_annotations(resource)
        && let Some(annotations) = resource.body.path(at)
    {
        for compiled in &kb.annotation_markers {
            for key in &compiled.marker.location_keys {
                if let Some(node) = annotations.get(key)
                    && node.as_str().is_some_and(is_unfilled)
                {
                    list(node, &Route::parse(at).key(key), "region");
                }
            }
        }
    }
    out
}

/// Where the cloud makes a `LoadBalancer` Service's load balancer, when an annotation of its
/// cloud controller names the place (`load-balancer.hetzner.cloud/location: ash`): the
/// knowledge's `location_keys`, the most precise first. A Gateway API Gateway passes the
/// annotations of `spec.infrastructure` to the Service its implementation makes. A value the
/// deployment fills in (`{{ .Location }}`, `${LOCATION}`) names no place yet.
fn load_balancer_location(resource: &Resource, kb: &KnowledgeBase) -> Option<Box<RegionFact>> {
    let at = load_balancer_annotations(resource)?;
    let annotations = resource.body.path(at)?;
    kb.annotation_markers.iter().find_map(|compiled| {
        let marker = &compiled.marker;
        let provider = marker.provider.as_deref()?;
        marker.location_keys.iter().find_map(|key| {
            let node = annotations.get(key)?;
            let value = node
                .as_str()
                .map(str::trim)
                .filter(|v| !v.is_empty() && !is_unfilled(v))?;
            let route = Route::parse(at).key(key);
            Some(Box::new(RegionFact {
                value: value.to_string(),
                location: resource.locate(node, &route),
                inherited: false,
                resolved: kb.resolve_region(provider, value),
            }))
        })
    })
}

/// A value that pins something to a place: where it is written, and the provider whose
/// locations it names (`None`: any provider's, as `topology.kubernetes.io/region` does).
pub struct Placement<'r> {
    pub route: Route,
    pub node: &'r Node,
    pub value: String,
    pub provider: Option<&'r str>,
}

/// Whether a node label's value is a place (`value_is: region | zone` in the knowledge:
/// Kubernetes' region and zone labels, the CSI drivers' topology keys), and whose.
fn placement_key<'k>(kb: &'k KnowledgeBase, key: &str) -> Option<Option<&'k str>> {
    let labels = &kb.markers.node_labels.labels;
    labels
        .iter()
        .find(|l| {
            l.match_kind.as_deref() != Some("prefix")
                && l.key == key
                && matches!(l.value_is.as_deref(), Some("region" | "zone"))
        })
        .map(|l| l.provider.as_deref())
}

/// The places a resource is pinned to: its pod specs' node selectors and node affinity, a
/// StorageClass's allowed topologies, a PersistentVolume's node affinity.
pub fn placements<'r>(kb: &'r KnowledgeBase, resource: &'r Resource) -> Vec<Placement<'r>> {
    let mut out = Vec::new();
    let body = &resource.body;
    let base = &resource.route;
    match resource.kind.as_str() {
        "StorageClass" => {
            let route = base.key("allowedTopologies");
            for (i, term) in body
                .get("allowedTopologies")
                .map_or(&[][..], Node::items)
                .iter()
                .enumerate()
            {
                let route = route.index(i);
                expressions(kb, term, &route, "matchLabelExpressions", &mut out);
            }
        }
        "PersistentVolume" => {
            let terms = Route::parse("spec.nodeAffinity.required.nodeSelectorTerms");
            for (i, term) in body
                .at(&terms)
                .map_or(&[][..], Node::items)
                .iter()
                .enumerate()
            {
                let route = base.join(&terms).index(i);
                expressions(kb, term, &route, "matchExpressions", &mut out);
            }
        }
        _ => {}
    }
    for (route, spec) in pod_specs(resource) {
        if let Some(selector) = spec.get("nodeSelector") {
            for e in selector.entries() {
                if let Some(provider) = placement_key(kb, &e.key)
                    && let Some(value) = e.value.scalar_text()
                {
                    out.push(Placement {
                        route: route.key("nodeSelector").key(&e.key),
                        node: &e.value,
                        value,
                        provider,
                    });
                }
            }
        }
        let affinity = route.key("affinity").key("nodeAffinity");
        let Some(node_affinity) = spec.path("affinity.nodeAffinity") else {
            continue;
        };
        let required =
            Route::parse("requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
        for (i, term) in node_affinity
            .at(&required)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let route = affinity.join(&required).index(i);
            expressions(kb, term, &route, "matchExpressions", &mut out);
        }
        let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
        for (i, t) in node_affinity
            .get(preferred)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(term) = t.get("preference") {
                let route = affinity.key(preferred).index(i).key("preference");
                expressions(kb, term, &route, "matchExpressions", &mut out);
            }
        }
    }
    out
}

/// The values a selector term's expressions (`matchExpressions`, or a StorageClass's
/// `matchLabelExpressions`, which have no operator) pin to a place: `In` only.
fn expressions<'r>(
    kb: &'r KnowledgeBase,
    term: &'r Node,
    term_route: &Route,
    field: &str,
    out: &mut Vec<Placement<'r>>,
) {
    for (j, expr) in term
        .get(field)
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let key = expr.get("key").and_then(Node::as_str).unwrap_or_default();
        let op = expr.get("operator").and_then(Node::as_str).unwrap_or("In");
        let Some(provider) = placement_key(kb, key).filter(|_| op == "In") else {
            continue;
        };
        for (k, v) in expr
            .get("values")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(value) = v.scalar_text() {
                out.push(Placement {
                    route: term_route.key(field).index(j).key("values").index(k),
                    node: v,
                    value,
                    provider,
                });
            }
        }
    }
}

/// Where a resource that makes a cloud load balancer writes the annotations its cloud
/// controller reads: a `LoadBalancer` Service's own, a Gateway's `spec.infrastructure`.
fn load_balancer_annotations(resource: &Resource) -> Option<&'static str> {
    match resource.kind.as_str() {
        "Service"
            if resource.body.path("spec.type").and_then(Node::as_str) == Some("LoadBalancer") =>
        {
            Some("metadata.annotations")
        }
        "Gateway"
            if (resource.api_version.as_deref())
                .is_some_and(|v| v.starts_with("gateway.networking.k8s.io/")) =>
        {
            Some(GATEWAY_INFRASTRUCTURE_ANNOTATIONS)
        }
        _ => None,
    }
}

/// A Knative kind that a cloud runs as its own service, told apart from Knative on a cluster
/// by a marker the cloud's tools write on the resource or its revision template.
struct ManagedKnative {
    /// `<api group>/<Kind>` of the Knative resource.
    knative: &'static str,
    /// A label that marks it (and names its location).
    label: &'static str,
    /// A prefix of annotations that mark it.
    annotations: &'static str,
    /// The type the service knowledge names it by.
    as_type: &'static str,
}

/// Cloud Run reads its region from the `cloud.googleapis.com/location` label and its settings
/// from `run.googleapis.com/` annotations.
const MANAGED_KNATIVE: &[ManagedKnative] = &[ManagedKnative {
    knative: "serving.knative.dev/Service",
    label: "cloud.googleapis.com/location",
    annotations: "run.googleapis.com/",
    as_type: "run.googleapis.com/Service",
}];

/// The service type of a Knative resource a cloud runs (`MANAGED_KNATIVE`), if it is marked.
fn managed_knative(node: &Node, group: Option<&str>, kind: &str) -> Option<&'static str> {
    let group = group?;
    let managed = MANAGED_KNATIVE.iter().find(|m| {
        m.knative
            .split_once('/')
            .is_some_and(|(g, k)| g == group && k == kind)
    })?;
    let metadata = [node.get("metadata"), node.path("spec.template.metadata")];
    let marked = metadata.iter().flatten().any(|m| {
        m.get("labels").and_then(|l| l.get(managed.label)).is_some()
            || m.get("annotations").is_some_and(|a| {
                a.entries()
                    .iter()
                    .any(|e| e.key.starts_with(managed.annotations))
            })
    });
    marked.then_some(managed.as_type)
}

/// Where cloud CRDs name their location: ACK annotation, Crossplane `forProvider`, KCC/ASO
/// `spec`, the label Cloud Run reads (on the resource, or on a job's execution template).
const CRD_REGION_FIELDS: &[&str] = &[
    "metadata.annotations[\"services.k8s.aws/region\"]",
    "metadata.labels[\"cloud.googleapis.com/location\"]",
    "spec.template.metadata.labels[\"cloud.googleapis.com/location\"]",
    "spec.forProvider.region",
    "spec.forProvider.location",
    "spec.forProvider.locationConstraint",
    "spec.forProvider.zone",
    "spec.location",
    "spec.region",
];

/// Where a cloud CRD is: its location field, else where its service's provider makes it when
/// none is written (`default_location`: a Config Connector `StorageBucket` in `US`).
fn crd_region(
    resource: &Resource,
    provider: &str,
    default: Option<&str>,
    kb: &KnowledgeBase,
) -> Option<Box<RegionFact>> {
    explicit_crd_region(resource, provider, kb).or_else(|| {
        let default = default?;
        Some(Box::new(RegionFact {
            value: default.to_string(),
            location: resource.start(),
            inherited: true,
            resolved: kb.resolve_region(provider, default),
        }))
    })
}

fn explicit_crd_region(
    resource: &Resource,
    provider: &str,
    kb: &KnowledgeBase,
) -> Option<Box<RegionFact>> {
    for field in CRD_REGION_FIELDS {
        let route = Route::parse(field);
        if let Some(node) = resource.body.at(&route)
            && let Some(value) = node.as_str().filter(|v| !v.is_empty())
        {
            return Some(Box::new(RegionFact {
                value: value.to_string(),
                location: resource.locate(node, &route),
                inherited: false,
                resolved: kb.resolve_region(provider, value),
            }));
        }
    }
    None
}

/// Where a Crossplane composite resource or claim of a platform team's own API names the place
/// its cloud resources are made: the `spec.parameters` convention of Crossplane's compositions.
const COMPOSITE_REGION_FIELDS: &[&str] = &["spec.parameters.region", "spec.parameters.location"];

/// Whether an API group may be one a platform team defines for its composite resources: not
/// one of Kubernetes' own (`apps`, `*.k8s.io`). The caller leaves out the groups the knowledge
/// names.
fn is_own_api_group(group: &str) -> bool {
    group.contains('.') && !group.ends_with(".k8s.io") && !group.ends_with(".kubernetes.io")
}

/// The region a composite resource's parameters name (`COMPOSITE_REGION_FIELDS`), when the
/// value is a region the knowledge knows: the provider is the platform team's choice, so a
/// value no provider names (`primary`, `${REGION}`) is left alone, not reported unresolved.
fn composite_region(resource: &Resource, kb: &KnowledgeBase) -> Option<Box<RegionFact>> {
    COMPOSITE_REGION_FIELDS.iter().find_map(|field| {
        let route = Route::parse(field);
        let node = resource.body.at(&route)?;
        let value = node.as_str()?;
        let resolved = kb.resolve_region_any(value)?;
        Some(Box::new(RegionFact {
            value: value.to_string(),
            location: resource.locate(node, &route),
            inherited: false,
            resolved: Some(resolved),
        }))
    })
}

/// Routes of pod specs inside a workload kind (`spec.template.spec` for a Deployment).
pub fn pod_spec_routes(kind: &str) -> Vec<(&'static str, ())> {
    match kind {
        "Pod" => vec![("spec", ())],
        "CronJob" => vec![("spec.jobTemplate.spec.template.spec", ())],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController"
        | "Rollout"
        | "PodTemplate" => vec![("spec.template.spec", ())],
        _ => Vec::new(),
    }
}

/// Pod specs of a resource with their routes: where its kind keeps them, and for a kind whose
/// own routes hold no containers (an operator's workload: a RayCluster's head and worker
/// groups, a JobSet's jobs, a Cloud Run job's task), every map below it that lists containers
/// as a pod spec does.
pub fn pod_specs(resource: &Resource) -> Vec<(Route, &Node)> {
    let mut routes: Vec<&str> = pod_spec_routes(&resource.kind)
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    if resource.kind == "PodTemplate" {
        routes = vec!["template.spec"];
    }
    let known: Vec<(Route, &Node)> = routes
        .into_iter()
        .filter_map(|r| resource.body.path(r).map(|n| (Route::parse(r), n)))
        .collect();
    if known
        .iter()
        .any(|(_, spec)| spec.get("containers").is_some())
        || !is_custom_resource(resource)
    {
        return known;
    }
    let mut found = Vec::new();
    for entry in resource.body.entries() {
        if !NOT_POD_SPECS.contains(&entry.key.as_str()) {
            embedded_pod_specs(&entry.value, Route::root().key(&entry.key), 0, &mut found);
        }
    }
    if found.is_empty() { known } else { found }
}

/// Whether an object is of an API group that Kubernetes itself does not serve (an operator's
/// resource), whose pod specs may be anywhere in it. A policy engine's rules (Kyverno,
/// Gatekeeper) hold patterns that pods are checked against, not pods.
fn is_custom_resource(resource: &Resource) -> bool {
    resource.api_group().is_some_and(|group| {
        !matches!(
            group,
            "apps" | "batch" | "policy" | "autoscaling" | "kyverno.io"
        ) && !group.ends_with(".k8s.io")
            && !group.ends_with(".kyverno.io")
            && !group.ends_with(".gatekeeper.sh")
    })
}

/// Parts of an object that hold no pod spec of its own: its metadata and status, and a Helm
/// release's values (read as values, `image_references`).
const NOT_POD_SPECS: &[&str] = &["metadata", "status", "values", "valuesFrom"];

/// Deepest a pod spec is looked for in an operator's workload.
const MAX_POD_SPEC_DEPTH: usize = 16;

/// The maps below `node` that list containers (`containers: [{name, image}]`, or init
/// containers alone), not looked into further once found.
fn embedded_pod_specs<'n>(
    node: &'n Node,
    route: Route,
    depth: usize,
    out: &mut Vec<(Route, &'n Node)>,
) {
    if depth > MAX_POD_SPEC_DEPTH {
        return;
    }
    match &node.value {
        Value::Map(entries) => {
            let lists_containers = ["containers", "initContainers"].iter().any(|key| {
                node.get(key).is_some_and(|list| {
                    !list.items().is_empty()
                        && list
                            .items()
                            .iter()
                            .all(|c| c.get("image").is_some() || c.get("name").is_some())
                })
            });
            if lists_containers {
                out.push((route, node));
                return;
            }
            for entry in entries {
                if !NOT_POD_SPECS.contains(&entry.key.as_str()) {
                    embedded_pod_specs(&entry.value, route.key(&entry.key), depth + 1, out);
                }
            }
        }
        Value::Seq(items) => {
            for (index, item) in items.iter().enumerate() {
                embedded_pod_specs(item, route.index(index), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Every container of every pod spec (containers, initContainers, ephemeralContainers).
pub fn containers(resource: &Resource) -> Vec<(Route, &Node)> {
    let mut out = Vec::new();
    for (route, spec) in pod_specs(resource) {
        containers_in(spec, &route, &mut out);
    }
    out
}

/// The containers a spec at `route` lists (initContainers, containers, ephemeralContainers),
/// with their routes: a pod spec's, or an operator resource's that takes containers as one does.
pub fn containers_in<'n>(spec: &'n Node, route: &Route, out: &mut Vec<(Route, &'n Node)>) {
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in spec
            .get(list)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            out.push((route.key(list).index(i), c));
        }
    }
}

/// Location of a route inside a resource, when the node exists.
pub fn locate_route(resource: &Resource, route: &Route) -> Option<Location> {
    resource.body.at(route).map(|n| resource.locate(n, route))
}
