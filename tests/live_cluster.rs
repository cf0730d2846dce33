//! `sovscan cluster` against recorded Kubernetes API answers served on 127.0.0.1 (the shape
//! `kubectl get -o json` gives): discovery, a list in two pages, a 403 on one kind.

#![cfg(feature = "cluster")]
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::scratch;
use crate::live::{base_name, comparable, run, saved_name, serve, sovscan};
use serde_json::{Value, json};

fn list(api_version: &str, kind: &str, items: Vec<Value>, next: Option<&str>) -> String {
    let mut metadata = json!({"resourceVersion": "48213"});
    if let Some(next) = next {
        metadata["continue"] = json!(next);
    }
    json!({"apiVersion": api_version, "kind": format!("{kind}List"), "metadata": metadata, "items": items})
        .to_string()
}

/// (address, apiVersion, kind, object without apiVersion/kind, as list items come).
fn objects() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "apps/v1",
            "Deployment",
            json!({
                "metadata": {"name": "storefront", "namespace": "shop", "uid": "9b0c-1",
                    "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
                    "labels": {"app": "storefront"}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "storefront"}},
                    "template": {"metadata": {"labels": {"app": "storefront"}},
                        "spec": {"containers": [{"name": "web",
                            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.4.2"}]}}}
            }),
        ),
        (
            "apps/v1",
            "Deployment",
            json!({
                "metadata": {"name": "billing", "namespace": "shop", "uid": "9b0c-2"},
                "spec": {"selector": {"matchLabels": {"app": "billing"}},
                    "template": {"metadata": {"labels": {"app": "billing"}},
                        "spec": {"nodeSelector": {"topology.kubernetes.io/region": "us-east-1"},
                            "containers": [{"name": "api", "image": "registry.gitlab.com/shop/billing:3.0"}]}}}
            }),
        ),
        (
            "v1",
            "Pod",
            json!({
                "metadata": {"name": "storefront-7d9f-abcde", "namespace": "shop",
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "storefront-7d9f", "uid": "r1", "controller": true}]},
                "spec": {"nodeName": "ip-10-0-3-17.ec2.internal",
                    "containers": [{"name": "web", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.4.2"}]}
            }),
        ),
        (
            "v1",
            "Pod",
            json!({
                "metadata": {"name": "debug", "namespace": "shop"},
                "spec": {"nodeName": "ip-10-1-7-4.eu-central-1.compute.internal",
                    "containers": [{"name": "shell", "image": "docker.io/library/busybox:1.36"}]}
            }),
        ),
        (
            "v1",
            "Node",
            json!({
                "metadata": {"name": "ip-10-1-7-4.eu-central-1.compute.internal",
                    "labels": {"topology.kubernetes.io/region": "eu-central-1", "topology.kubernetes.io/zone": "eu-central-1a"}},
                "spec": {"providerID": "aws:///eu-central-1a/i-0a1b2c3d4e5f60718"}
            }),
        ),
        (
            "v1",
            "Node",
            json!({
                "metadata": {"name": "ip-10-0-3-17.ec2.internal",
                    "labels": {"topology.kubernetes.io/region": "us-east-1", "topology.kubernetes.io/zone": "us-east-1b"}},
                "spec": {"providerID": "aws:///us-east-1b/i-0fedcba9876543210"}
            }),
        ),
        (
            "v1",
            "PersistentVolume",
            json!({
                "metadata": {"name": "pvc-5e1d"},
                "spec": {"capacity": {"storage": "20Gi"}, "accessModes": ["ReadWriteOnce"],
                    "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0123456789abcdef0"},
                    "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-central-1a"]}]}]}}}
            }),
        ),
        (
            "s3.services.k8s.aws/v1alpha1",
            "Bucket",
            json!({
                "metadata": {"name": "orders", "namespace": "shop",
                    "annotations": {"services.k8s.aws/region": "us-west-2"}},
                "spec": {"name": "shop-orders-archive"}
            }),
        ),
    ]
}

fn address(kind: &str, o: &Value) -> String {
    let ns = o["metadata"]["namespace"].as_str().unwrap_or("_cluster");
    format!(
        "cluster://shop-prod/{ns}/{kind}/{}",
        o["metadata"]["name"].as_str().unwrap()
    )
}

fn items(kind: &str) -> Vec<Value> {
    objects()
        .into_iter()
        .filter(|(_, k, _)| *k == kind)
        .map(|(_, _, o)| o)
        .collect()
}

fn answer(path: &str) -> (u16, String) {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let deployments = items("Deployment");
    let body = match route {
        "/api" => json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}).to_string(),
        "/apis" => {
            let group = |name: &str, version: &str| {
                let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
                json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
            };
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                group("apps", "v1"), group("batch", "v1"), group("networking.k8s.io", "v1"),
                group("storage.k8s.io", "v1"), group("s3.services.k8s.aws", "v1alpha1")]})
            .to_string()
        }
        "/apis/s3.services.k8s.aws/v1alpha1" => json!({
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "s3.services.k8s.aws/v1alpha1",
            "resources": [
                {"name": "buckets", "singularName": "bucket", "namespaced": true, "kind": "Bucket",
                 "verbs": ["delete", "get", "list", "patch", "create", "update", "watch"]},
                {"name": "buckets/status", "singularName": "", "namespaced": true, "kind": "Bucket", "verbs": ["get", "patch", "update"]}
            ]})
        .to_string(),
        // Two pages: the server hands out a continue token with the first.
        "/apis/apps/v1/deployments" if query.contains("continue=eyJzdGFydCI6ImJpbGxpbmcifQ") => {
            list("apps/v1", "Deployment", deployments[1..].to_vec(), None)
        }
        "/apis/apps/v1/deployments" => list(
            "apps/v1",
            "Deployment",
            deployments[..1].to_vec(),
            Some("eyJzdGFydCI6ImJpbGxpbmcifQ"),
        ),
        "/api/v1/configmaps" => {
            return (403, json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "configmaps is forbidden: User \"viewer\" cannot list resource \"configmaps\" in API group \"\" at the cluster scope",
                "reason": "Forbidden", "details": {"kind": "configmaps"}, "code": 403}).to_string());
        }
        "/api/v1/pods" => list("v1", "Pod", items("Pod"), None),
        "/api/v1/nodes" => list("v1", "Node", items("Node"), None),
        "/api/v1/persistentvolumes" => list("v1", "PersistentVolume", items("PersistentVolume"), None),
        "/apis/s3.services.k8s.aws/v1alpha1/buckets" => {
            list("s3.services.k8s.aws/v1alpha1", "Bucket", items("Bucket"), None)
        }
        r if r.starts_with("/api/v1/") || r.starts_with("/apis/") => list("v1", "", Vec::new(), None),
        _ => return (404, json!({"kind": "Status", "code": 404, "message": "not found"}).to_string()),
    };
    (200, body)
}

fn kubeconfig(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: shop-prod\n  context:\n    cluster: recorded\n    user: viewer\ncurrent-context: shop-prod\nusers:\n- name: viewer\n  user:\n    token: recorded-token\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn recorded_cluster_same_findings_as_files_paging_403_and_nodes() {
    let (port, log) = serve(|r| answer(&r.target));
    let dir = scratch("live-cluster");
    let config = kubeconfig(&dir, port);
    let saved = dir.join("saved");
    let (code, out, err) = run(sovscan().args([
        "cluster",
        "--kubeconfig",
        config.to_str().unwrap(),
        "--format",
        "json",
        "--save",
        saved.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}\n{out}");
    let live: Value = serde_json::from_str(&out).unwrap();
    // The report is laid out as a file scan's, its keys in the same order, with the cluster
    // section last.
    let keys: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split_once("\":").map(|(k, _)| k))
        .collect();
    assert_eq!(
        keys,
        [
            "schema_version",
            "tool",
            "profile",
            "scanned",
            "summary",
            "findings",
            "frameworks",
            "clusters"
        ]
    );

    // Paging: the second page was asked for and its object scanned.
    let targets: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert!(
        targets
            .iter()
            .any(|t| t.starts_with("/apis/apps/v1/deployments") && t.contains("continue=")),
        "{targets:?}"
    );
    assert!(
        targets.iter().all(|t| !t.contains("secrets")),
        "{targets:?}"
    );
    let paths: Vec<&str> = live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"cluster://shop-prod/shop/Deployment/billing"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"cluster://shop-prod/shop/Deployment/storefront"),
        "{paths:?}"
    );
    // The CRD group the server serves was discovered and read.
    assert_eq!(
        live["clusters"][0]["listed"]["Bucket"], 1,
        "{}",
        live["clusters"]
    );
    // The 403 is reported, the rest scanned.
    assert!(
        err.contains("not allowed to list configmaps (403 Forbidden)"),
        "{err}"
    );
    // Node regions and countries.
    let nodes = live["clusters"][0]["nodes"].as_array().unwrap();
    let mut countries: Vec<&str> = nodes.iter().filter_map(|n| n["country"].as_str()).collect();
    countries.sort_unstable();
    assert_eq!(countries, ["DE", "US"], "{nodes:?}");
    assert_eq!(
        live["clusters"][0]["volumes"][0]["zones"][0],
        "eu-central-1a"
    );
    let outside = &live["clusters"][0]["workloads_outside_eu"];
    assert_eq!(outside[0]["owner"], "storefront-7d9f", "{outside}");

    // The saved objects scanned as files: the very same findings.
    let (_, out, err) = run(sovscan().args(["scan", saved.to_str().unwrap(), "--format", "json"]));
    let files: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let live_findings = comparable(&live, saved_name);
    assert!(!live_findings.is_empty());
    assert_eq!(live_findings, comparable(&files, base_name));

    // The recorded objects written as manifests by hand: the same rules on the same fields.
    let manifests = dir.join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    for (api_version, kind, mut o) in objects() {
        if kind == "Pod" && !o["metadata"]["ownerReferences"].is_null() {
            continue; // judged through its controller
        }
        let address = address(kind, &o);
        let map = o.as_object_mut().unwrap();
        map["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
        std::fs::write(
            manifests.join(saved_name(&address)),
            serde_json::to_string_pretty(&o).unwrap(),
        )
        .unwrap();
    }
    let (_, out, _) =
        run(sovscan().args(["scan", manifests.to_str().unwrap(), "--format", "json"]));
    let by_hand: Value = serde_json::from_str(&out).unwrap();
    let strip = |v: Vec<(String, Value)>| -> Vec<(String, String, String, String)> {
        let mut v: Vec<_> = v
            .into_iter()
            .map(|(name, f)| {
                (
                    name,
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["location"]["field"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        strip(comparable(&live, saved_name)),
        strip(comparable(&by_hand, base_name))
    );
}

#[test]
fn unauthorised_is_one_error_and_exit_2() {
    let (port, _) = serve(|_| {
        (
            401,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}).to_string(),
        )
    });
    let dir = scratch("live-cluster-401");
    let config = kubeconfig(&dir, port);
    let (code, _, err) = run(sovscan().args(["cluster", "--kubeconfig", config.to_str().unwrap()]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("refused the credentials (401"), "{err}");
}

#[test]
fn unreachable_server_is_one_error_and_exit_2() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = scratch("live-cluster-down");
    let config = kubeconfig(&dir, port);
    let (code, _, err) = run(sovscan().args(["cluster", "--kubeconfig", config.to_str().unwrap()]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach the API server"), "{err}");
}

#[test]
fn missing_kubeconfig_is_one_error() {
    let (code, _, err) =
        run(sovscan().args(["cluster", "--kubeconfig", "/nonexistent/kubeconfig"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read the kubeconfig"), "{err}");
}
