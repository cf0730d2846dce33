//! Loader edge cases: streams, lists, anchors, JSON with positions, empty documents, bad input.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use sovscan::load::{Format, load_bytes};
use sovscan::tree::Node;

#[test]
fn multi_document_stream_keeps_indices_and_lines() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n";
    let outcome = load_bytes("stream.yaml", text.as_bytes());
    assert_eq!(outcome.documents.len(), 2);
    let second = &outcome.documents[1];
    assert_eq!(
        second.root.path("metadata.name").and_then(Node::as_str),
        Some("b")
    );
    assert_eq!(
        second.root.path("metadata.name").unwrap().span.start.line,
        10
    );
    assert!(outcome.error.is_none());
}

#[test]
fn lists_are_unwrapped_into_resources() {
    let text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: b}\n";
    let kb = sovscan::knowledge::get().unwrap();
    let outcome = load_bytes("list.yaml", text.as_bytes());
    let resources = sovscan::extract::extract_all(&outcome.documents, kb, &Default::default());
    let names: Vec<&str> = resources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(names, ["Pod/a", "Service/b"]);
    assert_eq!(resources[1].start().start_line, 7);
    assert_eq!(resources[1].start().field, "items[1]");
}

#[test]
fn anchors_and_merge_keys_resolve() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels: &labels\n    app: a\n    tier: web\nspec:\n  template:\n    metadata:\n      labels:\n        <<: *labels\n        extra: x\n";
    let outcome = load_bytes("anchors.yaml", text.as_bytes());
    let root = &outcome.documents[0].root;
    assert_eq!(
        root.path("spec.template.metadata.labels.tier")
            .and_then(Node::as_str),
        Some("web")
    );
}

#[test]
fn json_manifests_have_positions() {
    let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\n    \"containers\": [\n      {\"name\": \"c\", \"image\": \"nginx\"}\n    ]\n  }\n}\n";
    let outcome = load_bytes("pod.json", text.as_bytes());
    assert_eq!(outcome.documents[0].format, Format::Kubernetes);
    let image = outcome.documents[0]
        .root
        .path("spec.containers[0].image")
        .unwrap();
    assert_eq!((image.span.start.line, image.span.start.column), (7, 30));
}

#[test]
fn empty_and_comment_only_files_are_skipped() {
    for text in ["", "# nothing here\n", "---\n---\n"] {
        let outcome = load_bytes("empty.yaml", text.as_bytes());
        assert!(outcome.documents.is_empty());
        assert!(outcome.error.is_none(), "{text:?}");
        assert!(outcome.skipped.is_some(), "{text:?}");
    }
}

#[test]
fn broken_input_is_an_error_with_position_not_a_panic() {
    let deep = "[".repeat(10_000);
    let cases: &[(&str, &[u8])] = &[
        ("tabs.yaml", b"a:\n\t- b\n"),
        ("unclosed.yaml", b"a: [1, 2\nb: 3\n"),
        ("bad.json", b"{\"a\": [1, }"),
        ("binary.yaml", &[0xff, 0xfe, 0x00, 0xd8]),
        ("deep.yaml", deep.as_bytes()),
    ];
    for (name, bytes) in cases {
        let outcome = load_bytes(name, bytes);
        assert!(outcome.documents.is_empty(), "{name}");
        let error = outcome.error.unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(error.path, *name);
        assert!(!error.reason.is_empty());
    }
}

#[test]
fn alias_expansion_is_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let outcome = load_bytes("bomb.yaml", text.as_bytes());
    assert!(outcome.error.is_some());
}

#[test]
fn kustomization_is_skipped_with_reason() {
    let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy.yaml]\n";
    let outcome = load_bytes("kustomization.yaml", text.as_bytes());
    assert!(outcome.documents.is_empty());
    assert!(outcome.skipped.unwrap().reason.contains("kustomization"));
}

#[test]
fn another_tools_template_is_skipped_and_a_broken_cloudformation_one_is_an_error() {
    let nginx = "load_module modules/otel.so;\n\npid /tmp/nginx.pid;\n\nevents {\n    worker_connections 1024;\n}\n\nhttp {\n    # routes\n    map $uri $route {\n        ~^/a/[^/]+$  \"/a\";\n    }\n}\n";
    let outcome = load_bytes("nginx.conf.template", nginx.as_bytes());
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert!(outcome.skipped.unwrap().reason.contains("CloudFormation"));
    for broken in [
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  B:\n\tType: AWS::S3::Bucket\n",
        "Resources:\n  B: [\n",
    ] {
        let outcome = load_bytes("stack.template", broken.as_bytes());
        assert!(outcome.error.is_some(), "{broken:?}");
    }
}
