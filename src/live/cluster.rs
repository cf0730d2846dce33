//! `sovscan cluster`: the objects of a running Kubernetes cluster, listed with kube (paged,
//! managedFields stripped, Secrets never read), turned back into the documents a manifest file
//! holds and scanned like files. Each object is one input named
//! `cluster://<context>/<namespace>/<kind>/<name>` (`_cluster` for cluster-wide kinds). Nodes
//! and persistent volumes also say where the cluster really runs: their regions and countries
//! are a section of the report.

use anyhow::{Result, anyhow, bail};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use super::Collected;
use crate::cli::ClusterArgs;
use crate::knowledge::{self, KnowledgeBase};

/// Objects per list call.
const PAGE: u32 = 250;
/// List calls in flight at once.
const IN_FLIGHT: usize = 4;

/// What the rules read: (group, version, kind, plural, namespaced). Secrets are left out on
/// purpose: their values are never read.
const KINDS: &[(&str, &str, &str, &str, bool)] = &[
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("batch", "v1", "Job", "jobs", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "Service", "services", true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    (
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        false,
    ),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        false,
    ),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("", "v1", "PersistentVolume", "persistentvolumes", false),
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true),
    ("", "v1", "Node", "nodes", false),
];

/// Groups read from discovery when the server serves them, besides the cloud CRD groups the
/// knowledge names.
const EXTRA_GROUPS: &[&str] = &["gateway.networking.k8s.io"];

pub fn command(args: ClusterArgs) -> Result<ExitCode> {
    let collected = super::runtime()?.block_on(collect(&args))?;
    super::finish(&args.report, collected)
}

#[derive(Clone, Debug)]
struct Kind {
    resource: ApiResource,
    namespaced: bool,
}

fn kind(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Kind {
    Kind {
        resource: ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version: if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            },
            kind: kind.to_string(),
            plural: plural.to_string(),
        },
        namespaced,
    }
}

/// What one context gave.
#[derive(Default)]
struct ContextRead {
    objects: Vec<(String, Value)>,
    problems: Vec<String>,
    listed: BTreeMap<String, usize>,
}

async fn collect(args: &ClusterArgs) -> Result<Collected> {
    let kb = knowledge::get()?;
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| {
        anyhow!("cannot read the kubeconfig ({e}): pass --kubeconfig FILE or set KUBECONFIG")
    })?;
    let contexts: Vec<String> = if args.all_contexts {
        kubeconfig.contexts.iter().map(|c| c.name.clone()).collect()
    } else {
        match args
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())
        {
            Some(c) => vec![c],
            None => bail!(
                "the kubeconfig names no current context: pass --context NAME (`kubectl config get-contexts` lists them)"
            ),
        }
    };
    if contexts.is_empty() {
        bail!("the kubeconfig has no contexts: pass --kubeconfig FILE or set KUBECONFIG");
    }
    let namespace = if args.all_namespaces {
        None
    } else {
        args.namespace.clone()
    };
    let mut collected = Collected::default();
    let mut sections = Vec::new();
    for context in &contexts {
        let read = match read_context(&kubeconfig, context, namespace.as_deref(), kb).await {
            Ok(read) => read,
            Err(message) if contexts.len() == 1 => bail!(message),
            Err(message) => {
                collected.problems.push(message);
                continue;
            }
        };
        collected.scanned_parts += 1;
        let placement = placement(kb, context, &read.objects);
        collected.problems.extend(read.problems.iter().cloned());
        for (address, object) in &read.objects {
            // Pods run by a controller are judged through their controller.
            if object["kind"] == "Pod" && !object["metadata"]["ownerReferences"].is_null() {
                continue;
            }
            let text = serde_json::to_string_pretty(object)?;
            collected.inputs.push((address.clone(), text.into_bytes()));
        }
        sections.push(json!({
            "context": context,
            "listed": read.listed,
            "problems": read.problems,
            "nodes": placement.nodes,
            "volumes": placement.volumes,
            "workloads_outside_eu": placement.outside_eu,
        }));
    }
    collected.table_section = table_section(&sections);
    collected.json_section = Some(("clusters".to_string(), Value::Array(sections)));
    Ok(collected)
}

/// One line for what stops a whole context: unreachable, unauthorised, or a broken entry.
fn context_error(context: &str, server: &str, err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if status.code == 401 => format!(
            "context {context}: the API server {server} refused the credentials (401 {}): log in again or renew the token of this context",
            status.message
        ),
        kube::Error::Api(status) => format!(
            "context {context}: the API server {server} answered {} {}: check the context's user and server",
            status.code, status.message
        ),
        other => format!(
            "context {context}: cannot reach the API server {server} ({other}): check the network, VPN or `kubectl cluster-info`"
        ),
    }
}

async fn read_context(
    kubeconfig: &Kubeconfig,
    context: &str,
    namespace: Option<&str>,
    kb: &KnowledgeBase,
) -> Result<ContextRead, String> {
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig.clone(), &options)
        .await
        .map_err(|e| format!("context {context}: the kubeconfig entry cannot be used ({e}): check it with `kubectl config view`"))?;
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config)
        .map_err(|e| format!("context {context}: cannot make a client for {server} ({e})"))?;

    // Discovery first: it tells whether the server answers at all, and which groups it serves.
    let groups = client
        .list_api_groups()
        .await
        .map_err(|e| context_error(context, &server, &e))?;
    let mut kinds: Vec<Kind> = KINDS
        .iter()
        .map(|(g, v, k, p, n)| kind(g, v, k, p, *n))
        .collect();
    let mut read = ContextRead::default();
    for group in &groups.groups {
        if !(kb.crd_group(&group.name).is_some() || EXTRA_GROUPS.contains(&group.name.as_str())) {
            continue;
        }
        let Some(version) = group
            .preferred_version
            .as_ref()
            .or_else(|| group.versions.first())
        else {
            continue;
        };
        match client
            .list_api_group_resources(&version.group_version)
            .await
        {
            Ok(list) => {
                for r in &list.resources {
                    if r.name.contains('/') || !r.verbs.iter().any(|v| v == "list") {
                        continue;
                    }
                    let (g, v) = version
                        .group_version
                        .split_once('/')
                        .unwrap_or(("", &version.group_version));
                    kinds.push(kind(g, v, &r.kind, &r.name, r.namespaced));
                }
            }
            Err(e) => read.problems.push(format!(
                "context {context}: cannot read the kinds of {} ({e}); the rest is scanned",
                version.group_version
            )),
        }
    }

    let mut results = Vec::new();
    for batch in kinds.chunks(IN_FLIGHT) {
        let mut tasks = Vec::new();
        for k in batch {
            let client = client.clone();
            let k = k.clone();
            let namespace = namespace.map(str::to_string);
            tasks.push(tokio::spawn(async move {
                let listed = list_all(client, &k, namespace.as_deref()).await;
                (k, listed)
            }));
        }
        for task in tasks {
            results.push(
                task.await
                    .map_err(|e| format!("context {context}: a list call stopped: {e}"))?,
            );
        }
    }
    for (k, listed) in results {
        let label = k.resource.kind.clone();
        match listed {
            Ok(objects) => {
                *read.listed.entry(label).or_default() += objects.len();
                for object in objects {
                    read.objects.push(document(context, &k, object));
                }
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(kube::Error::Api(status)) if status.code == 403 => read.problems.push(format!(
                "context {context}: not allowed to list {} (403 Forbidden); the rest is scanned: grant `list` on {} to the context's user to include them",
                k.resource.plural, k.resource.plural
            )),
            Err(e) => read.problems.push(format!(
                "context {context}: cannot list {} ({e}); the rest is scanned",
                k.resource.plural
            )),
        }
    }
    read.objects.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(read)
}

/// Every object of a kind, page by page (`limit` and `continue`).
async fn list_all(
    client: Client,
    k: &Kind,
    namespace: Option<&str>,
) -> Result<Vec<DynamicObject>, kube::Error> {
    let api: Api<DynamicObject> = match namespace {
        Some(ns) if k.namespaced => Api::namespaced_with(client, ns, &k.resource),
        _ => Api::all_with(client, &k.resource),
    };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(PAGE);
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        let page = api.list(&params).await?;
        out.extend(page.items);
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The object as a manifest file holds it: apiVersion and kind put back (list items lack
/// them), managedFields dropped.
fn document(context: &str, k: &Kind, mut object: DynamicObject) -> (String, Value) {
    object.metadata.managed_fields = None;
    object.types = Some(kube::api::TypeMeta {
        api_version: k.resource.api_version.clone(),
        kind: k.resource.kind.clone(),
    });
    let namespace = object
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "_cluster".to_string());
    let name = object.metadata.name.clone().unwrap_or_default();
    let address = format!("cluster://{context}/{namespace}/{}/{name}", k.resource.kind);
    let value = serde_json::to_value(&object).unwrap_or(Value::Null);
    (address, value)
}

#[derive(Default)]
struct Placement {
    nodes: Vec<Value>,
    volumes: Vec<Value>,
    outside_eu: Vec<Value>,
}

fn label<'a>(object: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| object["metadata"]["labels"][*k].as_str())
}

const REGION_LABELS: &[&str] = &[
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/region",
];
const ZONE_LABELS: &[&str] = &[
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.ebs.csi.aws.com/zone",
    "topology.gke.io/zone",
    "topology.disk.csi.azure.com/zone",
];

/// Provider of a node from its `spec.providerID` scheme (`aws:///eu-central-1a/i-…`).
fn provider_of(provider_id: &str) -> Option<&'static str> {
    let scheme = provider_id.split_once("://")?.0;
    Some(match scheme {
        "aws" => "aws",
        "gce" => "gcp",
        "azure" => "azure",
        "oci" => "oci",
        "ibm" => "ibm",
        "openstack" => "openstack",
        "hcloud" => "hetzner",
        "scaleway" => "scaleway",
        "digitalocean" => "digitalocean",
        "linode" => "linode",
        "alicloud" => "alibaba",
        "exoscale" => "exoscale",
        "kind" | "k3s" => "local",
        _ => return None,
    })
}

/// Region, country and whether that is in the EU/EEA, from a region or zone name.
fn place(
    kb: &KnowledgeBase,
    provider: Option<&str>,
    value: &str,
) -> (Option<String>, Option<String>, Option<bool>) {
    let info = provider
        .and_then(|p| kb.resolve_region(p, value))
        .or_else(|| kb.resolve_region_any(value));
    match info {
        Some(info) => {
            let country = info.country().map(str::to_string);
            let in_eu = country.as_deref().map(|c| kb.in_eea(c));
            (Some(info.id.clone()), country, in_eu)
        }
        None => (None, None, None),
    }
}

fn placement(kb: &KnowledgeBase, context: &str, objects: &[(String, Value)]) -> Placement {
    let mut out = Placement::default();
    let mut node_place: BTreeMap<String, (Option<String>, Option<bool>)> = BTreeMap::new();
    for (_, o) in objects.iter().filter(|(_, o)| o["kind"] == "Node") {
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let provider_id = o["spec"]["providerID"].as_str();
        let provider = provider_id.and_then(provider_of);
        let region_label = label(o, REGION_LABELS);
        let zone = label(o, ZONE_LABELS);
        let (region, country, in_eu) = match region_label.or(zone) {
            Some(v) => place(kb, provider, v),
            None => (None, None, None),
        };
        node_place.insert(name.to_string(), (country.clone(), in_eu));
        out.nodes.push(json!({
            "name": name,
            "provider": provider,
            "provider_id": provider_id,
            "region": region.or(region_label.map(str::to_string)),
            "zone": zone,
            "country": country,
            "in_eu_eea": in_eu,
        }));
    }
    for (_, o) in objects
        .iter()
        .filter(|(_, o)| o["kind"] == "PersistentVolume")
    {
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let mut zones: Vec<String> = Vec::new();
        for term in o["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for e in term["matchExpressions"].as_array().into_iter().flatten() {
                let key = e["key"].as_str().unwrap_or_default();
                if ZONE_LABELS.contains(&key) || REGION_LABELS.contains(&key) {
                    zones.extend(
                        e["values"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|v| v.as_str().map(str::to_string)),
                    );
                }
            }
        }
        if let Some(z) = label(o, ZONE_LABELS).or(label(o, REGION_LABELS)) {
            zones.push(z.to_string());
        }
        zones.sort();
        zones.dedup();
        let countries: Vec<String> = zones.iter().filter_map(|z| place(kb, None, z).1).collect();
        out.volumes
            .push(json!({"name": name, "zones": zones, "countries": countries}));
    }
    // Pods tell which nodes a workload really runs on.
    for (address, o) in objects.iter().filter(|(_, o)| o["kind"] == "Pod") {
        let Some(node) = o["spec"]["nodeName"].as_str() else {
            continue;
        };
        if let Some((country, Some(false))) = node_place.get(node) {
            let owner = o["metadata"]["ownerReferences"][0]["name"].as_str();
            out.outside_eu.push(json!({
                "pod": address,
                "owner": owner,
                "node": node,
                "country": country,
                "context": context,
            }));
        }
    }
    out
}

fn table_section(sections: &[Value]) -> String {
    let mut out = String::new();
    for s in sections {
        let context = s["context"].as_str().unwrap_or_default();
        let listed: usize = s["listed"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum::<u64>() as usize)
            .unwrap_or(0);
        let _ = writeln!(out, "\nCluster {context}: {listed} objects listed");
        for n in s["nodes"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  node {}: provider {}, region {}, zone {}, country {}{}",
                n["name"].as_str().unwrap_or_default(),
                n["provider"].as_str().unwrap_or("unknown"),
                n["region"].as_str().unwrap_or("unknown"),
                n["zone"].as_str().unwrap_or("unknown"),
                n["country"].as_str().unwrap_or("unknown"),
                if n["in_eu_eea"] == false {
                    " (outside the EU/EEA)"
                } else {
                    ""
                }
            );
        }
        for v in s["volumes"].as_array().into_iter().flatten() {
            let zones: Vec<&str> = v["zones"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if !zones.is_empty() {
                let _ = writeln!(
                    out,
                    "  volume {}: zones {}",
                    v["name"].as_str().unwrap_or_default(),
                    zones.join(", ")
                );
            }
        }
        for w in s["workloads_outside_eu"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  runs outside the EU/EEA: {} on node {} ({})",
                w["pod"].as_str().unwrap_or_default(),
                w["node"].as_str().unwrap_or_default(),
                w["country"].as_str().unwrap_or("unknown"),
            );
        }
    }
    out
}
