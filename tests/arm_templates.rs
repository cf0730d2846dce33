//! ARM templates: parameters files, nested inline and linked templates, child resources,
//! symbolic resources of language version 2.0, and where blocked locations are reported.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use sovscan::extract::ExtractOptions;
use sovscan::extract::arm::extract;
use sovscan::load::{Document, load_bytes};
use sovscan::model::Resource;

const TEMPLATE: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {
    "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
    "sku": {"type": "string", "defaultValue": "Standard_GRS"}
  },
  "variables": {"name": "[concat('store', 'logs')]"},
  "resources": [
    {
      "type": "Microsoft.Storage/storageAccounts",
      "name": "[variables('name')]",
      "location": "[parameters('location')]",
      "sku": {"name": "[parameters('sku')]"},
      "properties": {"allowBlobPublicAccess": true, "minimumTlsVersion": "TLS1_0"},
      "resources": [{"type": "blobServices", "name": "default"}]
    },
    {"type": "Microsoft.OperationalInsights/workspaces", "name": "logs", "location": "westus",
     "properties": {"retentionInDays": 730}},
    {"type": "Microsoft.Web/sites", "name": "app", "location": "[resourceGroup().location]"},
    {"type": "Microsoft.Resources/deployments", "name": "nested",
     "properties": {"expressionEvaluationOptions": {"scope": "inner"},
       "parameters": {"where": {"value": "[parameters('location')]"}},
       "template": {"parameters": {"where": {"type": "string"}},
         "resources": [{"type": "Microsoft.KeyVault/vaults", "name": "kv", "location": "[parameters('where')]"}]}}},
    {"type": "Microsoft.Resources/deployments", "name": "linked",
     "properties": {"templateLink": {"relativePath": "nested/db.json"}, "parameters": {"dbLocation": {"value": "japaneast"}}}}
  ]
}"#;

const LINKED: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {"dbLocation": {"type": "string", "defaultValue": "westeurope"}},
  "resources": [{"type": "Microsoft.DocumentDB/databaseAccounts", "name": "db", "location": "[parameters('dbLocation')]",
    "properties": {"locations": [{"locationName": "westeurope"}, {"locationName": "eastus"}]}}]
}"#;

const PARAMETERS: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "parameters": {
    "location": {"value": "germanywestcentral"}
  }
}"#;

fn run(files: &[(&str, &str)], deploy: &[&str]) -> Vec<Resource> {
    let mut documents = Vec::new();
    for (name, text) in files {
        let outcome = load_bytes(name, text.as_bytes());
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        documents.extend(outcome.documents);
    }
    let kb = sovscan::knowledge::get().unwrap();
    let options = ExtractOptions {
        deploy_regions: deploy.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let refs: Vec<&Document> = documents.iter().collect();
    extract(&refs, kb, &options)
}

fn by_name<'a>(found: &'a [Resource], name: &str) -> &'a Resource {
    found.iter().find(|r| r.name == name).unwrap()
}

#[test]
fn template_alone_blocks_at_the_parameter_default() {
    let found = run(
        &[
            ("t/azuredeploy.json", TEMPLATE),
            ("t/nested/db.json", LINKED),
        ],
        &[],
    );
    let names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["storelogs", "storelogs/default", "logs", "app", "kv", "db"]
    );
    let store = by_name(&found, "storelogs");
    let blocker = store.unresolved_region.as_ref().unwrap();
    assert_eq!(
        (blocker.blocker.as_str(), blocker.location.start_line),
        ("[resourceGroup().location]", 4)
    );
    assert_eq!(
        store.fact("storage_replication").unwrap().value.as_str(),
        Some("GRS")
    );
    assert_eq!(store.fact("public").unwrap().value.as_bool(), Some(true));
    assert_eq!(
        store.fact("tls_min").unwrap().value.as_str(),
        Some("TLS1_0")
    );
    // The child lives where its parent does.
    assert!(
        by_name(&found, "storelogs/default")
            .unresolved_region
            .is_some()
    );
    // Written on the resource itself, the blocker is the template's `resources` key.
    let app = by_name(&found, "app").unresolved_region.as_ref().unwrap();
    assert_eq!(app.location.start_line, 8);
    // The nested template receives the same blocked value.
    assert_eq!(
        by_name(&found, "kv")
            .unresolved_region
            .as_ref()
            .unwrap()
            .location
            .start_line,
        4
    );
    let logs = by_name(&found, "logs");
    assert_eq!(logs.region.as_ref().unwrap().value, "westus");
    assert_eq!(
        logs.fact("log_retention_days").unwrap().value.as_i64(),
        Some(730)
    );
    let db = by_name(&found, "db");
    assert_eq!(
        (db.region.as_ref().unwrap().value.as_str(), db.path.as_ref()),
        ("japaneast", "t/nested/db.json")
    );
    assert_eq!(db.fact("locations").unwrap().value.items().len(), 2);
}

#[test]
fn parameters_file_and_deploy_region_resolve() {
    let found = run(
        &[
            ("t/azuredeploy.json", TEMPLATE),
            ("t/azuredeploy.parameters.json", PARAMETERS),
        ],
        &[],
    );
    let region = by_name(&found, "storelogs").region.as_ref().unwrap();
    assert_eq!(region.value, "germanywestcentral");
    assert!(region.inherited);
    assert_eq!(
        (region.location.path.as_ref(), region.location.start_line),
        ("t/azuredeploy.parameters.json", 4)
    );
    assert_eq!(
        by_name(&found, "kv").region.as_ref().unwrap().value,
        "germanywestcentral"
    );
    assert!(by_name(&found, "app").unresolved_region.is_some());

    // One list serves AWS and Azure templates: each takes the region its provider knows.
    let deployed = run(
        &[("t/azuredeploy.json", TEMPLATE)],
        &["eu-central-1", "westeurope"],
    );
    assert!(deployed.iter().all(|r| r.unresolved_region.is_none()));
    assert_eq!(
        by_name(&deployed, "app").region.as_ref().unwrap().value,
        "westeurope"
    );
}

#[test]
fn symbolic_resources_and_existing_references() {
    let template = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "languageVersion": "2.0",
  "resources": {
    "vault": {"type": "Microsoft.KeyVault/vaults", "name": "[format('kv-{0}', 'shop')]", "location": "northeurope"},
    "shared": {"type": "Microsoft.Storage/storageAccounts", "existing": true, "name": "elsewhere"}
  }
}"#;
    let found = run(&[("v2/main.json", template)], &[]);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].name.as_str(), found[0].start().start_line),
        ("kv-shop", 5)
    );
    assert_eq!(found[0].region.as_ref().unwrap().value, "northeurope");
}

/// A scan groups a template with the template it links to and its parameters file, whether its
/// outline comes from the text (plain JSON) or from the parsed tree (JSON with comments): the
/// linked template's database takes the region the parent passes it.
#[test]
fn a_scan_groups_linked_templates_outlined_from_the_text_or_parsed() {
    let scan = |main: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        for (name, text) in [
            ("azuredeploy.json", main),
            ("nested/db.json", LINKED),
            ("azuredeploy.parameters.json", PARAMETERS),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let out = assert_cmd::Command::cargo_bin("sovscan")
            .unwrap()
            .args(["scan", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["scanned"]["documents"], 3, "{report}");
        assert_eq!(report["scanned"]["errors"], serde_json::json!([]));
        let root = dir.path().display().to_string();
        let findings: Vec<(String, String, u64, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = f["location"]["path"].as_str().unwrap();
                (
                    f["rule_id"].as_str().unwrap().to_string(),
                    path.strip_prefix(&root).unwrap_or(path).to_string(),
                    f["location"]["start_line"].as_u64().unwrap(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        findings
    };
    let outlined = scan(TEMPLATE);
    assert!(
        outlined
            .iter()
            .any(|(_, path, _, message)| path.ends_with("nested/db.json")
                && message.contains("japaneast")),
        "{outlined:?}"
    );
    // A comment: not plain JSON, so the template is parsed as it is loaded, as before.
    let commented = format!("// the shop's main template\n{TEMPLATE}");
    let parsed = scan(&commented);
    let moved: Vec<_> = outlined
        .iter()
        .map(|(rule, path, line, message)| {
            (
                rule.clone(),
                path.clone(),
                line + u64::from(path.ends_with("azuredeploy.json")),
                message.clone(),
            )
        })
        .collect();
    assert_eq!(parsed, moved);
}

/// A setting an ARM expression gives is reported with the value it comes to, and names where
/// that value is written as a related location: the parameter's `defaultValue`, or the line of
/// the parameters file that sets it.
#[test]
fn a_setting_given_by_a_parameter_names_where_its_value_is_written() {
    const STORE: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {
    "httpsOnly": {"type": "bool", "defaultValue": false}
  },
  "resources": [
    {
      "type": "Microsoft.Storage/storageAccounts",
      "apiVersion": "2023-01-01",
      "name": "orders",
      "location": "germanywestcentral",
      "properties": {"supportsHttpsTrafficOnly": "[parameters('httpsOnly')]"}
    }
  ]
}"#;
    const GIVEN: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "parameters": {
    "httpsOnly": {"value": false}
  }
}"#;
    // (path's file name, line, related (file name, line)) of each GDPR-005 finding.
    type Place = (String, u64);
    let scan = |files: &[(&str, &str)]| -> Vec<(String, u64, Vec<Place>)> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let out = assert_cmd::Command::cargo_bin("sovscan")
            .unwrap()
            .args(["scan", "--format", "json", "--select", "GDPR-005"])
            .arg(dir.path())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let name = |at: &serde_json::Value| {
            let path = at["path"].as_str().unwrap();
            let name = std::path::Path::new(path).file_name().unwrap();
            (
                name.to_string_lossy().into_owned(),
                at["start_line"].as_u64().unwrap(),
            )
        };
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let (file, line) = name(&f["location"]);
                let related = f["related"]
                    .as_array()
                    .map_or(Vec::new(), |r| r.iter().map(name).collect());
                (file, line, related)
            })
            .collect()
    };
    assert_eq!(
        scan(&[("azuredeploy.json", STORE)]),
        vec![(
            "azuredeploy.json".to_string(),
            12,
            vec![("azuredeploy.json".to_string(), 4)]
        )]
    );
    assert_eq!(
        scan(&[
            ("azuredeploy.json", STORE),
            ("azuredeploy.parameters.json", GIVEN)
        ]),
        vec![(
            "azuredeploy.json".to_string(),
            12,
            vec![("azuredeploy.parameters.json".to_string(), 4)]
        )]
    );
}
