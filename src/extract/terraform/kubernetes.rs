//! Kubernetes objects that Terraform applies, judged as the manifests they are, under the
//! Terraform resource's address: a `kubernetes_manifest`'s object, a `kubectl_manifest`'s YAML,
//! and the object a typed resource of the Kubernetes provider makes
//! (`kubernetes_deployment_v1`). A typed resource
//! writes the object's fields in snake case and its nested objects as blocks, a list as one
//! block per item under a singular name (`container` for `containers`).
//!
//! Expressions take their values where the files decide them and are left out where only the
//! deployment does (an image or an annotation read from a variable without a default is not
//! guessed at; a plan holds values only). What is left out and would have been judged is
//! listed: a container image, and a `dynamic` block whose `for_each` the files do not decide.

use crate::extract::facts::{Resolve, Resolved, resolve_in_place};
use crate::knowledge::KnowledgeBase;
use crate::load::Skipped;
use crate::load::hcl::{EXPR_TAG, expression_text};
use crate::model::{Resource, Unevaluated};
use crate::tree::{Entry, Node, Route, Segment, Value};

/// The resource as the Kubernetes object it applies, when it applies one the rules can read:
/// a `kubernetes_manifest` written as an object (not `yamldecode(file(…))`, decoded at plan
/// time), a `kubectl_manifest` whose YAML is written out (not rendered from a template the
/// deployment fills), or a typed resource of a kind the provider makes.
pub(crate) fn object(
    type_name: &str,
    path: &std::sync::Arc<str>,
    document: usize,
    (body, route): (&Node, &Route),
    (address, name): (&str, &str),
    resolve: Resolve,
    kb: &KnowledgeBase,
) -> Option<Resource> {
    let mut left_out = Vec::new();
    let (mut manifest, route) = if type_name == "kubernetes_manifest" {
        let manifest = body.get("manifest").filter(|m| m.is_map())?.clone();
        (manifest, route.key("manifest"))
    } else if type_name == "kubectl_manifest" {
        let yaml = body.get("yaml_body")?;
        let text = match heredoc(yaml) {
            Some(text) => text,
            None => match resolve(yaml) {
                Resolved::AsWritten => yaml.as_str()?.to_string(),
                Resolved::Value(value, _) => value.as_str()?.to_string(),
                Resolved::Unknown => return None,
            },
        };
        (yaml_object(&text, yaml)?, route.key("yaml_body"))
    } else {
        let (api_version, kind) = typed_kind(type_name)?;
        let manifest = typed_manifest(api_version, kind, body, route, &mut left_out);
        (manifest, route.clone())
    };
    resolve_in_place(&mut manifest, resolve);
    drop_expressions(&mut manifest, &route, &mut left_out);
    manifest.get("kind").and_then(Node::as_str)?;
    let mut object = crate::extract::kubernetes::object_at(path, document, manifest, route, kb);
    object.address = address.to_string();
    if object.name == crate::extract::kubernetes::UNNAMED {
        // The name is an expression the deployment decides: the Terraform name stands for it.
        object.name = name.to_string();
    }
    for LeftOut {
        setting,
        fact,
        node,
        reason,
    } in left_out
    {
        let span = node.span;
        object.unevaluated.push(Unevaluated {
            path: path.to_string(),
            line: span.start.line,
            column: span.start.column,
            setting,
            fact,
            reason,
            resources: vec![object.address.clone()],
        });
    }
    Some(object)
}

/// Why the rules do not judge, or judge only in part, a Terraform resource that deploys
/// Kubernetes objects or Helm charts it does not make whole (`kubernetes_annotations` changes
/// an object made elsewhere); `None` for every other resource. What such a resource deploys
/// is listed rather than passed over: its images, registries, endpoints and annotations would
/// otherwise go unread. A Helm release's repository and image values are read
/// (`image_references`); its chart's templates are not.
pub(crate) fn not_judged_here(kind: &str) -> Option<&'static str> {
    if kind == "helm_release" {
        Some(
            "a Helm release: its chart's repository and the images its values name are judged, but the chart is not rendered from Terraform; render it (`helm template <name> <chart> --repo <repository> -f <values>`) and scan the output",
        )
    } else if kind == "kubectl_manifest" {
        Some(
            "a Kubernetes manifest whose YAML text (`yaml_body`) is rendered from a template, a file or values the deployment gives: scan the manifest file itself, or the object as deployed (`kubectl get <kind> <name> -o yaml | sovscan scan -`)",
        )
    } else if kind == "kubernetes_manifest" {
        Some(
            "a Kubernetes manifest decoded when Terraform plans (`yamldecode`, `file`): scan the manifest file itself, or the object as deployed (`kubectl get <kind> <name> -o yaml | sovscan scan -`)",
        )
    } else if kind.starts_with("kubernetes_") && typed_kind(kind).is_none() {
        Some(
            "a change Terraform makes to Kubernetes objects made elsewhere, not an object of its own: scan the objects as deployed (`kubectl get <kind> <name> -o yaml | sovscan scan -`)",
        )
    } else {
        None
    }
}

/// The entry that lists a resource the rules do not read (a Terraform resource left as such
/// that `not_judged_here` names), at its first line, in HCL or a plan.
pub(crate) fn unread(resource: &Resource) -> Option<Skipped> {
    let reason = not_judged_here(&resource.kind)?;
    let at = resource.start();
    if resource.kind == "kubectl_manifest"
        && let Some((line, problem)) = resource.body.get("yaml_body").and_then(unreadable_yaml)
    {
        return Some(Skipped {
            path: format!("{}:{line}", at.path),
            reason: format!(
                "{} {}: its YAML text (`yaml_body`) {problem}, so the object it applies is not judged",
                resource.kind, resource.name
            ),
        });
    }
    Some(Skipped {
        path: format!("{}:{}", at.path, at.start_line),
        reason: format!("{} {}: {reason}", resource.kind, resource.name),
    })
}

/// Where and why a `kubectl_manifest`'s YAML text, written out whole (a heredoc without
/// interpolations, a string), gives no object: it does not parse, or it holds no Kubernetes
/// object. `None` when the text is not written out (the deployment gives it).
fn unreadable_yaml(yaml: &Node) -> Option<(u32, String)> {
    let (text, in_heredoc) = match heredoc(yaml) {
        Some(text) => (text, true),
        None if yaml.tag.as_deref() != Some(EXPR_TAG) => (yaml.as_str()?.to_string(), false),
        None => return None,
    };
    // A heredoc's text starts on the line below its opener.
    let first_line = yaml.span.start.line + u32::from(in_heredoc);
    match crate::load::yaml::parse_stream(&text) {
        Err(e) if in_heredoc => Some((
            first_line + e.line.saturating_sub(1),
            format!("does not parse: {}", e.reason),
        )),
        Err(e) => Some((
            first_line,
            format!("does not parse (line {} of the text): {}", e.line, e.reason),
        )),
        Ok(documents) if !documents.iter().any(|d| d.get("kind").is_some()) => Some((
            yaml.span.start.line,
            "holds no Kubernetes object (no `kind`)".to_string(),
        )),
        Ok(_) => None,
    }
}

/// The object a `kubectl_manifest`'s YAML text (`yaml_body`, written at `at`) holds, placed in
/// the file: in a heredoc, each line of the YAML at its line below the heredoc's first (the
/// indentation `<<-` takes off put back); otherwise, as in a plan's one-line JSON string, at
/// the text itself. `None` when the text is no YAML object.
fn yaml_object(text: &str, at: &Node) -> Option<Node> {
    let documents = crate::load::yaml::parse_stream(text).ok()?;
    let mut object = documents.into_iter().find(|d| d.get("kind").is_some())?;
    let written = expression_text(at).unwrap_or_default();
    if let Some(heredoc) = written.strip_prefix("<<") {
        let indent = match heredoc.split_once('\n') {
            Some((opener, body)) if opener.starts_with('-') => {
                indentation(body.trim_end().rsplit_once('\n').map_or(body, |(b, _)| b))
            }
            _ => 0,
        };
        let (line, column) = (at.span.start.line, u32::try_from(indent).unwrap_or(0));
        object.move_spans(&|span| {
            for pos in [&mut span.start, &mut span.end] {
                pos.line += line;
                pos.column += column;
            }
        });
    } else {
        let span = at.span;
        object.move_spans(&|at| *at = span);
    }
    Some(object)
}

/// The text of a heredoc without interpolations (`<<-YAML` … `YAML`), with the indentation
/// `<<-` takes off taken off; `None` for any other expression.
fn heredoc(node: &Node) -> Option<String> {
    let written = expression_text(node)?.strip_prefix("<<")?;
    let (opener, body) = written.split_once('\n')?;
    let marker = opener.trim_start_matches('-').trim();
    let (body, closing) = body.trim_end().rsplit_once('\n')?;
    if closing.trim() != marker || body.contains("${") || body.contains("%{") {
        return None;
    }
    let indent = if opener.starts_with('-') {
        indentation(body)
    } else {
        0
    };
    let mut text = String::with_capacity(body.len());
    for line in body.lines() {
        text.push_str(line.get(indent..).unwrap_or_else(|| line.trim_start()));
        text.push('\n');
    }
    Some(text)
}

/// The least indentation of the lines of a text that are not blank.
fn indentation(text: &str) -> usize {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0)
}

/// A setting left out of the object, with where it is written.
struct LeftOut {
    setting: String,
    fact: String,
    node: Node,
    reason: String,
}

/// The API version and kind of the object a typed resource of the Kubernetes provider makes;
/// `None` for a resource that changes an object made elsewhere (`kubernetes_labels`,
/// `kubernetes_config_map_v1_data`) or is not the provider's.
fn typed_kind(type_name: &str) -> Option<(&'static str, &'static str)> {
    let name = type_name.strip_prefix("kubernetes_")?;
    // Resources without a version suffix are the provider's first, of the API versions of
    // their time; those with one follow the suffix.
    Some(match name {
        "ingress" => ("networking.k8s.io/v1beta1", "Ingress"),
        "cron_job" => ("batch/v1beta1", "CronJob"),
        "pod_disruption_budget" => ("policy/v1beta1", "PodDisruptionBudget"),
        "pod_security_policy" => ("policy/v1beta1", "PodSecurityPolicy"),
        "horizontal_pod_autoscaler" | "horizontal_pod_autoscaler_v1" => {
            ("autoscaling/v1", "HorizontalPodAutoscaler")
        }
        "horizontal_pod_autoscaler_v2" => ("autoscaling/v2", "HorizontalPodAutoscaler"),
        "horizontal_pod_autoscaler_v2beta2" => ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
        "certificate_signing_request" => {
            ("certificates.k8s.io/v1beta1", "CertificateSigningRequest")
        }
        "csi_driver" => ("storage.k8s.io/v1beta1", "CSIDriver"),
        _ => {
            let base = name.strip_suffix("_v1").unwrap_or(name);
            match base {
                "pod" => ("v1", "Pod"),
                "deployment" => ("apps/v1", "Deployment"),
                "stateful_set" => ("apps/v1", "StatefulSet"),
                "daemonset" | "daemon_set" => ("apps/v1", "DaemonSet"),
                "replication_controller" => ("v1", "ReplicationController"),
                "job" => ("batch/v1", "Job"),
                "cron_job" => ("batch/v1", "CronJob"),
                "service" => ("v1", "Service"),
                "ingress" => ("networking.k8s.io/v1", "Ingress"),
                "ingress_class" => ("networking.k8s.io/v1", "IngressClass"),
                "network_policy" => ("networking.k8s.io/v1", "NetworkPolicy"),
                "config_map" => ("v1", "ConfigMap"),
                "secret" => ("v1", "Secret"),
                "service_account" | "default_service_account" => ("v1", "ServiceAccount"),
                "namespace" => ("v1", "Namespace"),
                "persistent_volume" => ("v1", "PersistentVolume"),
                "persistent_volume_claim" => ("v1", "PersistentVolumeClaim"),
                "storage_class" => ("storage.k8s.io/v1", "StorageClass"),
                "csi_driver" => ("storage.k8s.io/v1", "CSIDriver"),
                "endpoints" => ("v1", "Endpoints"),
                "endpoint_slice" => ("discovery.k8s.io/v1", "EndpointSlice"),
                "limit_range" => ("v1", "LimitRange"),
                "resource_quota" => ("v1", "ResourceQuota"),
                "priority_class" => ("scheduling.k8s.io/v1", "PriorityClass"),
                "runtime_class" => ("node.k8s.io/v1", "RuntimeClass"),
                "pod_disruption_budget" => ("policy/v1", "PodDisruptionBudget"),
                "role" => ("rbac.authorization.k8s.io/v1", "Role"),
                "role_binding" => ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                "cluster_role" => ("rbac.authorization.k8s.io/v1", "ClusterRole"),
                "cluster_role_binding" => ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                "api_service" => ("apiregistration.k8s.io/v1", "APIService"),
                "certificate_signing_request" => {
                    ("certificates.k8s.io/v1", "CertificateSigningRequest")
                }
                "mutating_webhook_configuration" => (
                    "admissionregistration.k8s.io/v1",
                    "MutatingWebhookConfiguration",
                ),
                "validating_webhook_configuration" => (
                    "admissionregistration.k8s.io/v1",
                    "ValidatingWebhookConfiguration",
                ),
                _ => return None,
            }
        }
    })
}

/// The resource's own arguments, which are Terraform's and not the object's.
const TERRAFORM_ARGUMENTS: &[&str] = &[
    "count",
    "for_each",
    "depends_on",
    "lifecycle",
    "provider",
    "provisioner",
    "connection",
    "timeouts",
    "wait_for_rollout",
    "wait_for_load_balancer",
    "wait_for_completion",
    "wait_until_bound",
    "wait_for_default_secret",
    "wait_for_service_account_token",
    "wait",
];

/// Fields the provider names otherwise than the API: (the block or argument it is written in,
/// or `None` for any; the provider's name; the API's), of which a list is written as one block
/// per item. A block not named here becomes the field of its name in camel case: an object
/// when written once, a list when more often.
const RENAMED: &[(Option<&str>, &str, &str)] = &[
    (None, "container", "containers"),
    (None, "init_container", "initContainers"),
    (None, "volume", "volumes"),
    (None, "toleration", "tolerations"),
    (None, "image_pull_secrets", "imagePullSecrets"),
    (None, "host_aliases", "hostAliases"),
    (
        None,
        "topology_spread_constraint",
        "topologySpreadConstraints",
    ),
    (None, "readiness_gate", "readinessGates"),
    (None, "env", "env"),
    (None, "env_from", "envFrom"),
    (None, "volume_mount", "volumeMounts"),
    (None, "volume_device", "volumeDevices"),
    (None, "node_selector_term", "nodeSelectorTerms"),
    (None, "match_expressions", "matchExpressions"),
    (None, "match_fields", "matchFields"),
    (None, "match_label_expressions", "matchLabelExpressions"),
    (None, "allowed_topologies", "allowedTopologies"),
    (
        None,
        "preferred_during_scheduling_ignored_during_execution",
        "preferredDuringSchedulingIgnoredDuringExecution",
    ),
    (
        Some("pod_affinity"),
        "required_during_scheduling_ignored_during_execution",
        "requiredDuringSchedulingIgnoredDuringExecution",
    ),
    (
        Some("pod_anti_affinity"),
        "required_during_scheduling_ignored_during_execution",
        "requiredDuringSchedulingIgnoredDuringExecution",
    ),
    (None, "http_header", "httpHeaders"),
    (None, "sysctl", "sysctls"),
    (Some("dns_config"), "option", "options"),
    (None, "volume_claim_template", "volumeClaimTemplates"),
    (None, "rule", "rules"),
    (Some("http"), "path", "paths"),
    (None, "tls", "tls"),
    (None, "items", "items"),
    (None, "sources", "sources"),
    (Some("spec"), "port", "ports"),
    (Some("container"), "port", "ports"),
    (Some("init_container"), "port", "ports"),
    (Some("subset"), "port", "ports"),
    (Some("subset"), "address", "addresses"),
    (Some("subset"), "not_ready_address", "notReadyAddresses"),
    (Some("spec"), "ingress", "ingress"),
    (Some("spec"), "egress", "egress"),
    (Some("ingress"), "from", "from"),
    (Some("ingress"), "ports", "ports"),
    (Some("egress"), "to", "to"),
    (Some("egress"), "ports", "ports"),
    (Some("spec"), "metric", "metrics"),
    (Some(TOP), "subset", "subsets"),
    (Some(TOP), "secret", "secrets"),
    (Some(TOP), "image_pull_secret", "imagePullSecrets"),
    (Some(TOP), "subject", "subjects"),
    (Some(TOP), "webhook", "webhooks"),
    (Some(TOP), "endpoint", "endpoints"),
    (Some(TOP), "port", "ports"),
];

/// The parent named in `RENAMED` of the resource's own arguments.
const TOP: &str = "";

/// Arguments the provider names otherwise than the API, not lists: (the block, the provider's
/// name, the API's).
const RENAMED_ARGUMENTS: &[(&str, &str, &str)] = &[(TOP, "storage_provisioner", "provisioner")];

/// Blocks whose fields the API has in the block around them: a persistent volume's source is
/// the volume's spec itself (`spec.csi`, written `spec { persistent_volume_source { csi … } }`).
const FLATTENED: &[&str] = &["persistent_volume_source"];

/// The manifest of a typed resource: its kind and API version, then its arguments and blocks
/// as the object's fields.
fn typed_manifest(
    api_version: &str,
    kind: &str,
    body: &Node,
    route: &Route,
    left_out: &mut Vec<LeftOut>,
) -> Node {
    let mut entries = vec![
        Entry {
            key: "apiVersion".into(),
            key_span: body.span,
            value: Node::new(Value::Str(api_version.into()), body.span),
        },
        Entry {
            key: "kind".into(),
            key_span: body.span,
            value: Node::new(Value::Str(kind.into()), body.span),
        },
    ];
    for entry in body.entries() {
        if TERRAFORM_ARGUMENTS.contains(&entry.key.as_str()) {
            continue;
        }
        convert(TOP, entry, route, &mut entries, left_out);
    }
    Node::new(Value::Map(entries), body.span)
}

/// Adds to `out` the field `entry` (an argument or block written in the block `parent`,
/// at `route`) stands for.
fn convert(
    parent: &str,
    entry: &Entry,
    route: &Route,
    out: &mut Vec<Entry>,
    left_out: &mut Vec<LeftOut>,
) {
    let at = route.key(&entry.key);
    if entry.key == "dynamic" {
        unexpanded(&entry.value, left_out);
        return;
    }
    let Some(blocks) = blocks(&entry.value) else {
        // An argument: its value as written, a map's keys too (labels, annotations, data).
        // The provider takes an empty one as not given, as a plan shows every one it has.
        if is_empty(&entry.value) {
            return;
        }
        let name = RENAMED_ARGUMENTS
            .iter()
            .find(|(p, from, _)| *p == parent && *from == entry.key)
            .map_or_else(|| camel_case(&entry.key), |(_, _, to)| (*to).to_string());
        out.push(Entry {
            key: name,
            key_span: entry.key_span,
            value: entry.value.clone(),
        });
        return;
    };
    if FLATTENED.contains(&entry.key.as_str()) {
        for (index, block) in blocks.iter().enumerate() {
            let at = at.index(index);
            for inner in block.entries() {
                convert(&entry.key, inner, &at, out, left_out);
            }
        }
        return;
    }
    let renamed = RENAMED
        .iter()
        .find(|(p, from, _)| p.is_none_or(|p| p == parent) && *from == entry.key);
    let converted: Vec<Node> = blocks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let at = at.index(index);
            let mut fields = Vec::new();
            for inner in block.entries() {
                convert(&entry.key, inner, &at, &mut fields, left_out);
            }
            Node::new(Value::Map(fields), block.span)
        })
        .collect();
    let (name, value) = match renamed {
        Some((_, _, to)) => ((*to).to_string(), Value::Seq(converted)),
        None if converted.len() == 1 => (
            camel_case(&entry.key),
            converted
                .into_iter()
                .next()
                .map(|n| n.value)
                .unwrap_or(Value::Null),
        ),
        None => (camel_case(&entry.key), Value::Seq(converted)),
    };
    out.push(Entry {
        key: name,
        key_span: entry.key_span,
        value: Node::new(value, entry.value.span),
    });
}

/// Lists the blocks `dynamic` blocks would write, where the files do not decide their
/// `for_each` (those they decide are written out before this).
fn unexpanded(node: &Node, left_out: &mut Vec<LeftOut>) {
    for labelled in node.items() {
        for entry in labelled.entries() {
            let for_each = entry
                .value
                .items()
                .first()
                .and_then(|b| b.get("for_each"))
                .and_then(expression_text)
                .unwrap_or("for_each");
            left_out.push(LeftOut {
                setting: format!("dynamic \"{}\"", entry.key),
                fact: entry.key.clone(),
                node: entry.value.clone(),
                reason: format!(
                    "the `{}` blocks of `dynamic` over `{for_each}` are decided at deployment",
                    entry.key
                ),
            });
        }
    }
}

/// The blocks an entry holds (Terraform writes a block as a list item that is a map, in HCL as
/// in a plan); `None` for an argument.
fn blocks(node: &Node) -> Option<&[Node]> {
    match &node.value {
        Value::Seq(items) if !items.is_empty() && items.iter().all(Node::is_map) => {
            Some(items.as_slice())
        }
        _ => None,
    }
}

/// Whether an argument is given as nothing: null, an empty string, list or map.
fn is_empty(node: &Node) -> bool {
    match &node.value {
        Value::Null => true,
        Value::Str(text) => text.is_empty() && node.tag.is_none(),
        Value::Seq(items) => items.is_empty(),
        Value::Map(entries) => entries.is_empty(),
        _ => false,
    }
}

/// `load_balancer_ip` as the API writes it: `loadBalancerIP`.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (index, word) in name.split('_').enumerate() {
        if index == 0 {
            out.push_str(word);
            continue;
        }
        match word {
            "ip" => out.push_str("IP"),
            "ips" => out.push_str("IPs"),
            _ => {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(chars.as_str());
                }
            }
        }
    }
    out
}

/// Maps whose keys say what the rules read (a cloud's annotation, a node label) whatever the
/// values: an entry whose value only the deployment decides keeps its key, with no value.
const KEYED_MAPS: &[&str] = &["annotations", "labels", "nodeSelector"];

/// Takes out of a tree the values that are still expressions; the container images among them
/// are listed in `left_out`, as a setting the registry rules would have read. An environment
/// variable's value stays, as the expression it is: Terraform writes what it gives into the
/// object, which a credential's name makes a secret in plain text (GDPR-008).
fn drop_expressions(node: &mut Node, route: &Route, left_out: &mut Vec<LeftOut>) {
    let is_expression = |n: &Node| n.tag.as_deref() == Some(EXPR_TAG);
    match &mut node.value {
        Value::Map(entries) => {
            let keyed =
                matches!(route.0.last(), Some(Segment::Key(k)) if KEYED_MAPS.contains(&&**k));
            let env_var = matches!(
                route.0.as_slice(),
                [.., Segment::Key(list), Segment::Index(_)] if &**list == "env"
            );
            entries.retain_mut(|e| {
                if !is_expression(&e.value) || (env_var && e.key == "value") {
                    return true;
                }
                if keyed {
                    e.value = Node::new(Value::Null, e.value.span);
                    return true;
                }
                if e.key == "image" {
                    left_out.push(LeftOut {
                        setting: route.key(&e.key).text(),
                        fact: "image".into(),
                        node: e.value.clone(),
                        reason: format!(
                            "`{}` is decided at deployment",
                            expression_text(&e.value).unwrap_or_default()
                        ),
                    });
                }
                false
            });
            for e in entries.iter_mut() {
                let at = route.key(&e.key);
                drop_expressions(&mut e.value, &at, left_out);
            }
        }
        Value::Seq(items) => {
            // Routes name the items as written, before any is taken out.
            for (index, item) in items.iter_mut().enumerate() {
                drop_expressions(item, &route.index(index), left_out);
            }
            items.retain(|i| !is_expression(i));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_written_as_the_api_writes_them() {
        assert_eq!(camel_case("ingress_class_name"), "ingressClassName");
        assert_eq!(camel_case("load_balancer_ip"), "loadBalancerIP");
        assert_eq!(camel_case("cluster_ips"), "clusterIPs");
        assert_eq!(camel_case("image"), "image");
    }

    #[test]
    fn typed_resources_make_the_kind_of_their_name_and_version() {
        assert_eq!(
            typed_kind("kubernetes_deployment_v1"),
            Some(("apps/v1", "Deployment"))
        );
        assert_eq!(
            typed_kind("kubernetes_ingress"),
            Some(("networking.k8s.io/v1beta1", "Ingress"))
        );
        assert_eq!(
            typed_kind("kubernetes_ingress_v1"),
            Some(("networking.k8s.io/v1", "Ingress"))
        );
        assert_eq!(typed_kind("kubernetes_config_map_v1_data"), None);
        assert_eq!(typed_kind("kubernetes_annotations"), None);
        assert_eq!(typed_kind("aws_s3_bucket"), None);
    }
}
