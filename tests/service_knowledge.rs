//! The service knowledge gives the same answer whatever language an estate is written in: the
//! same rule ids per resource in Terraform, CloudFormation, AWS Config and ARM; every default
//! of the knowledge judged when the setting is absent and silent when it is set securely.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::scratch;
use sovscan::engine::checks::cloud_gdpr::DATABASE_CATEGORIES;
use sovscan::engine::{self, Rule};
use sovscan::knowledge::services::{Dialect, FactDefault, Service};
use sovscan::scan::{ScanRequest, ScanResult, run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn rules() -> Vec<Rule> {
    engine::all_rules(&[]).unwrap()
}

fn scan(paths: Vec<PathBuf>, rules: &[Rule]) -> ScanResult {
    let kb = sovscan::knowledge::get().unwrap();
    let request = ScanRequest {
        paths,
        deploy_regions: vec!["eu-central-1".into()],
        list_resources: true,
        ..Default::default()
    };
    let result = run(&request, rules, kb).unwrap();
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    result
}

/// Rule ids per resource (named alike in every format) and format.
type ByResource = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rule_ids_by_resource(result: &ScanResult) -> ByResource {
    let mut out = ByResource::new();
    for r in result.listed.load().unwrap().iter() {
        out.entry(r.name.to_lowercase().replace(['-', '_'], ""))
            .or_default()
            .entry(r.format.as_str().to_string())
            .or_default();
    }
    for f in &result.findings {
        out.entry(f.resource.name.to_lowercase().replace(['-', '_'], ""))
            .or_default()
            .entry(f.resource.format.clone())
            .or_default()
            .insert(f.rule_id.to_string());
    }
    out
}

fn check_parity(estate: &str, formats: &[&str], expected: &[(&str, &[&str])]) {
    let result = scan(vec![root().join("parity").join(estate)], &rules());
    let found = rule_ids_by_resource(&result);
    let mut problems = Vec::new();
    for (resource, ids) in expected {
        let want: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
        let Some(per_format) = found.get(*resource) else {
            problems.push(format!("{resource}: not extracted"));
            continue;
        };
        for format in formats {
            match per_format.get(*format) {
                Some(got) if *got == want => {}
                Some(got) => {
                    problems.push(format!("{resource} in {format}: {got:?}, want {want:?}"))
                }
                None => problems.push(format!("{resource}: missing in {format}")),
            }
        }
    }
    assert_eq!(
        found.len(),
        expected.len(),
        "resources {:?}",
        found.keys().collect::<Vec<_>>()
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn one_aws_estate_gives_the_same_rules_in_terraform_cloudformation_and_aws_config() {
    check_parity(
        "aws",
        &["terraform", "cloudformation", "aws-config"],
        &[
            ("bucket", &["GDPR-003", "HYP-001"]),
            ("database", &["GDPR-001", "GDPR-007", "HYP-001"]),
            ("cache", &["GDPR-001", "GDPR-005", "HYP-001"]),
            ("logs", &["GDPR-006", "HYP-001"]),
            ("volume", &["GDPR-001", "HYP-001"]),
            ("files", &["GDPR-001", "HYP-001"]),
            ("table", &["GDPR-007", "HYP-002"]),
            ("securedatabase", &["HYP-001"]),
            ("securelogs", &["HYP-001"]),
            ("securetable", &["HYP-002"]),
        ],
    );
}

#[test]
fn one_azure_estate_gives_the_same_rules_in_azurerm_and_arm() {
    check_parity(
        "azure",
        &["terraform", "arm"],
        &[
            ("bucket", &["GDPR-003", "GDPR-005", "HYP-001"]),
            ("database", &["GDPR-005", "HYP-001"]),
            ("cache", &["GDPR-005", "HYP-001"]),
            ("logs", &["GDPR-006", "HYP-001"]),
            ("volume", &["HYP-001"]),
            ("table", &["HYP-002"]),
            ("webapp", &["GDPR-005", "HYP-002"]),
            ("securewebapp", &["HYP-002"]),
        ],
    );
}

/// The rule a fact's insecure default breaks, and the value that is secure.
fn rule_of(service: &Service, fact: &str, default: &FactDefault) -> Option<(&'static str, Value)> {
    let database = service
        .category
        .as_deref()
        .is_some_and(|c| DATABASE_CATEGORIES.contains(&c));
    let snapshot = matches!(
        service.category.as_deref(),
        Some("snapshot" | "machine_image")
    );
    match (fact, default) {
        ("encrypted", FactDefault::Bool(false)) => Some(("GDPR-001", Value::Bool(true))),
        ("https_only", FactDefault::Bool(false)) => Some(("GDPR-005", Value::Bool(true))),
        ("point_in_time_recovery" | "backup_enabled", FactDefault::Bool(false)) => {
            Some(("GDPR-007", Value::Bool(true)))
        }
        ("backup_retention_days", FactDefault::Int(0)) => Some(("GDPR-007", Value::Int(7))),
        ("log_retention_days", FactDefault::Int(0)) => Some(("GDPR-006", Value::Int(30))),
        ("public", FactDefault::Bool(true)) => Some((
            if database {
                "GDPR-004"
            } else if snapshot {
                "GDPR-011"
            } else {
                "GDPR-003"
            },
            Value::Bool(false),
        )),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Value {
    Bool(bool),
    Int(i64),
    /// Any value written at all (a presence test, `kms_id is set`).
    Written,
}

impl Value {
    fn text(self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Written => "\"written\"".into(),
        }
    }
}

/// The route of a spec's first alternative and whether it is negated, when it is a plain
/// route, or a presence test (`kms_id is set`: `Some` route, and `presence`).
fn plain_route(spec: &str) -> Option<(bool, &str, bool)> {
    let first = spec.split("||").next()?.trim();
    if first.contains(" in ") {
        return None;
    }
    if let Some(route) = first.strip_suffix(" is set") {
        return Some((false, route.trim(), true));
    }
    Some(match first.strip_prefix('!') {
        Some(route) => (true, route, false),
        None => (false, first, false),
    })
}

/// A nested value as JSON, `a.b.c = v` → `{"a": {"b": {"c": v}}}`; `[*]` segments become lists.
fn json_at(spec_route: &str, value: serde_json::Value) -> serde_json::Value {
    let mut out = value;
    for segment in spec_route.split('.').rev() {
        let key = segment.trim_end_matches("[*]");
        let mut map = serde_json::Map::new();
        map.insert(key.to_string(), out);
        out = serde_json::Value::Object(map);
        if segment.ends_with("[*]") {
            // The list sits under the key: rewrap the child as a one-item list.
            if let serde_json::Value::Object(m) = &mut out
                && let Some(child) = m.get_mut(key)
            {
                *child = serde_json::Value::Array(vec![child.take()]);
            }
        }
    }
    out
}

/// HCL body lines writing `value` at the route (`a[*].b` → `a { b = v }`).
fn hcl_at(route: &str, value: &str) -> String {
    let segments: Vec<&str> = route.split('.').collect();
    let mut text = String::new();
    for (i, segment) in segments.iter().enumerate() {
        let key = segment.trim_end_matches("[*]");
        if i + 1 == segments.len() {
            text.push_str(&format!("{key} = {value}\n"));
        } else {
            text.push_str(&format!("{key} {{\n"));
        }
    }
    for _ in 1..segments.len() {
        text.push_str("}\n");
    }
    text
}

/// A minimal resource of the service in one format, with the setting written or absent.
fn document(dialect: Dialect, type_name: &str, route: Option<(&str, String)>) -> (String, String) {
    let json_value = |text: &str| -> serde_json::Value { serde_json::from_str(text).unwrap() };
    match dialect {
        Dialect::Terraform => {
            let body = route.map(|(r, v)| hcl_at(r, &v)).unwrap_or_default();
            (
                "main.tf".into(),
                format!(
                    "provider \"aws\" {{\n  region = \"eu-central-1\"\n}}\n\nresource \"{type_name}\" \"x\" {{\n  location = \"germanywestcentral\"\n  region = \"europe-west3\"\n{body}}}\n"
                ),
            )
        }
        Dialect::Cloudformation => {
            let mut resource = serde_json::json!({"Type": type_name, "Properties": {}});
            if let Some((r, v)) = route {
                resource = merge(resource, json_at(r, json_value(&v)));
            }
            let template = serde_json::json!({"Resources": {"X": resource}});
            ("template.json".into(), template.to_string())
        }
        Dialect::AwsConfig => {
            let mut item = serde_json::json!({
                "resourceType": type_name, "resourceId": "x", "resourceName": "x",
                "awsRegion": "eu-central-1", "configurationItemVersion": "1.3", "configuration": {}
            });
            if let Some((r, v)) = route {
                item = merge(item, json_at(r, json_value(&v)));
            }
            let snapshot = serde_json::json!({"fileVersion": "1.0", "configurationItems": [item]});
            ("snapshot.json".into(), snapshot.to_string())
        }
        Dialect::Arm => {
            let mut resource = serde_json::json!({
                "type": type_name, "apiVersion": "2023-01-01", "name": "x",
                "location": "germanywestcentral", "properties": {}
            });
            if let Some((r, v)) = route {
                resource = merge(resource, json_at(r, json_value(&v)));
            }
            let template = serde_json::json!({
                "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "resources": [resource]
            });
            ("azuredeploy.json".into(), template.to_string())
        }
        Dialect::Kubernetes => {
            let (group, kind) = type_name.rsplit_once('/').unwrap();
            let mut object = serde_json::json!({
                "apiVersion": format!("{group}/v1beta1"), "kind": kind,
                "metadata": {"name": "x"}, "spec": {}
            });
            if let Some((r, v)) = route {
                object = merge(object, json_at(r, json_value(&v)));
            }
            ("object.yaml".into(), object.to_string())
        }
        // A registry module's call: its arguments are the module's, not the service's settings.
        Dialect::TerraformModule => (
            "main.tf".into(),
            format!("module \"x\" {{\n  source = \"{type_name}\"\n}}\n"),
        ),
    }
}

fn merge(mut base: serde_json::Value, more: serde_json::Value) -> serde_json::Value {
    if let (serde_json::Value::Object(b), serde_json::Value::Object(m)) = (&mut base, more) {
        for (k, v) in m {
            let merged = match b.remove(&k) {
                Some(existing) => merge(existing, v),
                None => v,
            };
            b.insert(k, merged);
        }
    }
    base
}

#[test]
fn every_default_is_judged_when_absent_and_silent_when_set_securely() {
    let kb = sovscan::knowledge::get().unwrap();
    let all = rules();
    let dir = scratch("defaults");
    let mut problems = Vec::new();
    let mut cases = 0;
    for service in kb.services.iter() {
        for (dialect, names) in &service.types {
            let Some(type_name) = names.first() else {
                continue;
            };
            for (fact, spec) in service.fact_specs(*dialect) {
                // The resource written for the case sets nothing else: no `when` holds.
                let sovscan::knowledge::services::DefaultIs::Known(Some(default)) =
                    service.default_for(fact, *dialect, Some("2023-01-01"), |_| Some(false))
                else {
                    continue;
                };
                let Some((rule_id, secure)) = rule_of(service, fact, default) else {
                    continue;
                };
                let Some((negated, route, presence)) = plain_route(spec) else {
                    continue;
                };
                let rule: Vec<Rule> = all.iter().filter(|r| r.id == rule_id).cloned().collect();
                // The formats the rule reads (a Kubernetes operator kind counts as kubernetes).
                if !rule
                    .iter()
                    .any(|r| r.applies_to.iter().any(|f| f.starts_with(dialect.as_str())))
                {
                    continue;
                }
                let secure = match (negated, secure) {
                    _ if presence => Value::Written,
                    (true, Value::Bool(b)) => Value::Bool(!b),
                    (_, v) => v,
                };
                for (label, setting, want) in [
                    ("absent", None, true),
                    ("set securely", Some((route, secure.text())), false),
                ] {
                    cases += 1;
                    let (name, text) = document(*dialect, type_name, setting);
                    let case = dir.join(format!("{cases}"));
                    std::fs::create_dir_all(&case).unwrap();
                    std::fs::write(case.join(&name), text).unwrap();
                    let result = scan(vec![case], &rule);
                    let fired = result.findings.iter().any(|f| *f.rule_id == *rule_id);
                    if fired != want {
                        problems.push(format!(
                            "{} {} {type_name}: {fact} {label}: {rule_id} {}",
                            service.id,
                            dialect.as_str(),
                            if fired { "fired" } else { "did not fire" }
                        ));
                    }
                }
            }
        }
    }
    // Two cases per default: absent and set securely.
    assert!(cases >= 40, "only {cases} default cases");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_examples_of_missing_knowledge_are_judged() {
    let result = scan(vec![root().join("knowledge_examples")], &rules());
    let mut lines: Vec<String> = result
        .findings
        .iter()
        .map(|f| {
            let file = Path::new(&*f.location.path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            format!(
                "{file}:{} {} {} — {}",
                f.location.start_line, f.rule_id, f.resource.address, f.message
            )
        })
        .collect();
    lines.sort();
    // Global IAM objects are nowhere; read replicas carry no backup or encryption finding.
    for quiet in [
        "aws_iam_role_policy.p",
        "aws_iam_instance_profile.p",
        "aws_iam_openid_connect_provider.o",
        "google_project_iam_binding.b",
        "Role",
    ] {
        assert!(
            result.findings.iter().all(|f| f.resource.address != quiet),
            "{quiet} has findings"
        );
    }
    for replica in ["DbReplica", "google_sql_database_instance.replica"] {
        assert!(
            result
                .findings
                .iter()
                .filter(|f| f.resource.address == replica)
                .all(|f| f.rule_id.starts_with("HYP")),
            "{replica} has GDPR findings"
        );
    }
    insta::assert_snapshot!("knowledge_examples", lines.join("\n"));
}
