//! Only what Terraform would create: `count`, `for_each` and module inputs decide which
//! resources are scanned, and a `for_each` over regions gives one finding per instance.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::scratch;
use assert_cmd::Command;

fn scan(dir: &str) -> serde_json::Value {
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "--format", "json", dir])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn findings<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

/// The skipped entries of a report, each as its file's name with the line (`main.tf:9`) and
/// its reason.
fn skipped_at(report: &serde_json::Value) -> Vec<(String, String)> {
    report["scanned"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let path = s["path"].as_str().unwrap();
            let at = path.rsplit(['/', '\\']).next().unwrap().to_string();
            (at, s["reason"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The findings of a rule, each as its resource's address and line.
fn addresses_and_lines<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<(&'a str, u64)> {
    findings(report, rule)
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn for_each_over_regions_gives_one_finding_per_instance_outside_the_eu() {
    let report = scan("fixtures/RES-001/terraform-for-each");
    let mut res: Vec<(String, String, u64)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap().to_string(),
                f["resource"]["region"].as_str().unwrap().to_string(),
                f["related"][0]["start_line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    res.sort();
    assert_eq!(
        res,
        vec![
            ("aws_s3_bucket.backup[1]".into(), "us-west-2".into(), 34),
            (
                "aws_s3_bucket.this[\"ap\"]".into(),
                "ap-southeast-1".into(),
                6
            ),
            ("aws_s3_bucket.this[\"us\"]".into(), "us-east-1".into(), 5),
            (
                "google_storage_bucket.media[\"us\"]".into(),
                "US-EAST1".into(),
                26
            ),
        ]
    );
    // The EU instances are scanned too: seven instances in all.
    assert_eq!(report["scanned"]["resources"], 7);
}

#[test]
fn never_created_resources_are_counted_not_reported() {
    let report = scan("fixtures/RES-001/terraform-count");
    assert_eq!(report["scanned"]["not_created"], 5);
    let addresses: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["address"].as_str().unwrap())
        .collect();
    for phantom in ["off", "optional", "replica", "per_replica", "sized"] {
        assert!(
            !addresses.contains(&format!("aws_s3_bucket.{phantom}").as_str()),
            "{phantom} is never created but reported"
        );
    }
    let maybe = findings(&report, "RES-001")
        .into_iter()
        .find(|f| f["resource"]["address"] == "aws_s3_bucket.maybe")
        .unwrap();
    assert_eq!(
        maybe["resource"]["note"],
        "count unknown: count = var.enabled ? 1 : 0"
    );

    let modules = scan("tests/terraform_instances/module_create");
    assert_eq!(modules["scanned"]["not_created"], 2);
    assert_eq!(modules["scanned"]["resources"], 2);
    let res: Vec<(&str, &str, u64, &str)> = findings(&modules, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["resource"]["note"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let bucket = "tests/terraform_instances/module_create/modules/bucket/main.tf";
    assert_eq!(
        res,
        vec![
            ("module.enabled.aws_s3_bucket.this", bucket, 10, ""),
            (
                "module.maybe.aws_s3_bucket.this",
                bucket,
                10,
                "module.maybe count unknown: count = var.enabled ? 1 : 0"
            ),
        ]
    );
}

/// A setting a module writes as a variable is judged with the value the call gives it, or the
/// module's default; a value decided at deployment leaves it unjudged.
#[test]
fn module_inputs_and_defaults_decide_the_settings_of_module_resources() {
    let report = scan("tests/terraform_instances/module_settings");
    // Each finding is where the module writes the setting, and names where its value is given:
    // the caller's argument, or the module's default.
    let judged: Vec<(&str, u64, &str, u64)> = findings(&report, "GDPR-007")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["related"][0]["path"].as_str().unwrap_or_default(),
                f["related"][0]["start_line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let folder = "tests/terraform_instances/module_settings";
    assert_eq!(
        judged,
        vec![
            (
                "module.audit.aws_dynamodb_table.this",
                15,
                &*format!("{folder}/main.tf"),
                32
            ),
            (
                "module.sessions.aws_dynamodb_table.this",
                15,
                &*format!("{folder}/modules/table/main.tf"),
                7
            ),
        ]
    );
}

/// A provider configured in a deployment reaches every module below it, through a module with
/// no resources of its own; a resource's `region = null` keeps the provider's region.
#[test]
fn a_default_provider_reaches_the_modules_of_the_modules_called() {
    let report = scan("tests/terraform_instances/provider_through_modules");
    let located: Vec<(&str, &str)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["resource"]["region"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        located,
        vec![
            (
                "module.service.module.store.aws_db_instance.this",
                "us-east-2"
            ),
            (
                "module.service.module.store.aws_sqs_queue.events",
                "us-east-2"
            ),
        ]
    );
    assert!(findings(&report, "RES-003").is_empty(), "{report:#}");
}

/// A module that several roots call is deployed in each caller's region: one block placed in
/// two regions outside the EU gets a finding for each, and two callers in one region one.
#[test]
fn a_module_called_from_several_roots_is_judged_in_each_callers_region() {
    let report = scan("tests/terraform_instances/module_in_several_roots");
    let located: Vec<(&str, &str, u64)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["resource"]["region"].as_str().unwrap(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    let queue = "module.queue.aws_sqs_queue.events";
    assert_eq!(
        located,
        vec![(queue, "us-east-1", 6), (queue, "us-west-2", 6)],
        "{report:#}"
    );
}

#[test]
fn table_summary_counts_resources_not_created() {
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["scan", "fixtures/RES-001/terraform-count"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("2 resources, 5 not created ("),
        "summary line: {text}"
    );
}

#[test]
fn registry_modules_installed_by_terraform_init_are_scanned() {
    let dir = scratch("installed");
    let installed = dir.join(".terraform/modules/bucket");
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nmodule \"bucket\" {\n  source = \"terraform-aws-modules/s3-bucket/aws\"\n  create = true\n}\n\nmodule \"off\" {\n  source = \"terraform-aws-modules/s3-bucket/aws\"\n  create = false\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(".terraform/modules/modules.json"),
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"bucket","Source":"registry.terraform.io/terraform-aws-modules/s3-bucket/aws","Version":"4.1.0","Dir":".terraform/modules/bucket"},{"Key":"off","Source":"registry.terraform.io/terraform-aws-modules/s3-bucket/aws","Version":"4.1.0","Dir":".terraform/modules/bucket"}]}"#,
    )
    .unwrap();
    std::fs::write(
        installed.join("main.tf"),
        "variable \"create\" {\n  default = true\n}\n\nresource \"aws_s3_bucket\" \"this\" {\n  count = var.create ? 1 : 0\n}\n",
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    assert_eq!(report["scanned"]["skipped"], serde_json::json!([]));
    assert_eq!(report["scanned"]["not_created"], 1);
    let res: Vec<(&str, u64)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(res, vec![("module.bucket.aws_s3_bucket.this", 5)]);
    assert!(
        findings(&report, "RES-001")[0]["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with(".terraform/modules/bucket/main.tf")
    );
}

#[test]
fn modules_outside_the_scan_are_listed_with_their_locations_judged() {
    let report = scan("fixtures/RES-001/terraform-registry-module");
    let skipped: Vec<String> = report["scanned"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["path"].as_str().unwrap(),
                s["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(skipped.len(), 5, "{skipped:?}");
    assert!(skipped.iter().any(|s| s.starts_with(
        "fixtures/RES-001/terraform-registry-module/main.tf:8 module \"bucket\" from terraform-google-modules/cloud-storage/google"
    ) && s.ends_with("run terraform init or scan a plan")));
    // A call that is never created is neither listed nor judged.
    assert!(!skipped.iter().any(|s| s.contains("\"never\"")));
}

#[test]
fn template_conditions_that_are_false_drop_their_resources() {
    let cfn = scan("fixtures/HYP-001/cloudformation-conditions");
    assert_eq!(cfn["scanned"]["not_created"], 2);
    let notes: Vec<(&str, Option<&str>)> = findings(&cfn, "HYP-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["resource"]["note"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        vec![("DevBucket", None), ("TeamBucket", Some("if OwnedByTeam"))]
    );
    let arm = scan("fixtures/HYP-001/arm-condition");
    assert_eq!(arm["scanned"]["not_created"], 1);
    assert_eq!(arm["scanned"]["resources"], 2);
}

#[test]
fn each_tfvars_file_is_an_environment_and_var_file_picks_one() {
    let dir = "fixtures/RES-001/terraform-environments";
    let report = scan(dir);
    let res: Vec<(&str, &str, &str)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["resource"]["region"].as_str().unwrap(),
                f["resource"]["note"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        res,
        vec![(
            "aws_s3_bucket.data",
            "us-east-1",
            "us-east-1 in environment dev.tfvars"
        )]
    );
    let table = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["scan", dir])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(table.stdout)
            .unwrap()
            .contains("(in environment prod.tfvars)")
    );

    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "--format", "json", "--var-file"])
        .arg(format!("{dir}/prod.tfvars"))
        .arg(dir)
        .output()
        .unwrap();
    let prod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings(&prod, "RES-001").is_empty());
    assert_eq!(prod["scanned"]["resources"], 2);
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "--format", "json", "--var-file"])
        .arg(format!("{dir}/dev.tfvars"))
        .arg(dir)
        .output()
        .unwrap();
    let dev: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings(&dev, "RES-001").len(), 1);
    assert_eq!(dev["scanned"]["not_created"], 1);
}

#[test]
fn parameters_given_on_the_command_line_decide_conditions() {
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "scan",
            "--format",
            "json",
            "--parameter",
            "Environment=prod",
            "--parameter",
            "Owner=team-b",
            "fixtures/HYP-001/cloudformation-conditions",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let addresses: Vec<&str> = findings(&report, "HYP-001")
        .iter()
        .map(|f| f["resource"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, vec!["ProdBucket"]);
    assert_eq!(report["scanned"]["not_created"], 3);
}

#[test]
fn reports_with_notes_and_resources_not_created_follow_the_schema() {
    let schema_text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
    )
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for dir in [
        "fixtures/RES-001/terraform-count",
        "fixtures/RES-001/terraform-registry-module",
        "fixtures/RES-001/terraform-environments",
    ] {
        let report = scan(dir);
        assert!(
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["resource"]["note"].is_string())
                || !report["scanned"]["skipped"].as_array().unwrap().is_empty(),
            "{dir}: the report shows what this test is about"
        );
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{dir}: schema violations: {errors:#?}");
    }
}

#[test]
fn instances_of_one_block_are_reported_in_their_order() {
    let report = scan("tests/terraform_instances/count_same_block");
    let addresses: Vec<&str> = findings(&report, "HYP-001")
        .iter()
        .map(|f| f["resource"]["address"].as_str().unwrap())
        .collect();
    // Same file, line, rule and message: the instance decides the order, not the fingerprint.
    assert_eq!(
        addresses,
        [
            "aws_sqs_queue.jobs[0]",
            "aws_sqs_queue.jobs[1]",
            "aws_sqs_queue.jobs[2]"
        ]
    );
}

/// One module whose location no deployment gives, called from three root modules: one RES-003
/// finding that names the module's resource once, with how many roots deploy it.
#[test]
fn a_location_unresolved_in_several_roots_names_the_resource_once() {
    let report = scan("tests/terraform_instances/unresolved_in_several_roots");
    let unknown = findings(&report, "RES-003");
    assert_eq!(unknown.len(), 1, "{report:#}");
    assert_eq!(
        unknown[0]["message"],
        "The location of module.workspace.azurerm_log_analytics_workspace.logs (from 3 root modules) cannot be resolved: var.shared.location"
    );
}

/// A module handed an object whose id is known only at plan time reads the object's location
/// member where the caller writes it.
#[test]
fn a_member_of_an_object_handed_to_a_module_is_read_where_the_caller_gives_it() {
    let report = scan("tests/terraform_instances/object_input");
    assert!(findings(&report, "RES-003").is_empty(), "{report:#}");
    let located: Vec<(&str, &str, u64)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["resource"]["region"].as_str().unwrap(),
                f["related"][0]["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        located,
        vec![
            (
                "module.insights.azurerm_storage_account.exports",
                "centralus",
                5
            ),
            ("azurerm_log_analytics_workspace.shared", "centralus", 5),
        ],
        "{report:#}"
    );
}

/// A list handed to a module whose items name a resource's attribute (a key's ARN) still
/// writes a `dynamic` block per item: each replica region is read where the caller gives it.
#[test]
fn a_dynamic_block_over_a_list_handed_item_by_item_writes_a_block_per_item() {
    let report = scan("tests/terraform_instances/dynamic_input");
    let replicas: Vec<(&str, u64, &str)> = findings(&report, "RES-005")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(replicas.len(), 1, "{report:#}");
    assert_eq!(replicas[0].0, "module.orders.aws_dynamodb_table.this");
    assert_eq!(replicas[0].1, 24);
    assert!(replicas[0].2.contains("us-west-2"), "{report:#}");
}

/// `&&` with one operand false is false and `||` with one true is true whatever the other, as
/// Terraform evaluates them since 1.12: a resource counted by `module.label.enabled && var.x`
/// with `var.x` false is never created, though the label module is not in the scan.
#[test]
fn one_operand_decides_a_logical_operator_whatever_the_other() {
    let dir = scratch("logical");
    std::fs::write(
        dir.join("main.tf"),
        r#"provider "aws" {
  region = "us-east-1"
}

variable "global" {
  type    = bool
  default = false
}

variable "standalone" {
  type    = bool
  default = true
}

variable "replicas" {
  type = bool
}

resource "aws_s3_bucket" "global_only" {
  count = module.label.enabled && var.global ? 1 : 0
}

resource "aws_s3_bucket" "standalone" {
  count = module.label.enabled || var.standalone ? 1 : 0
}

resource "aws_s3_bucket" "replica" {
  count = var.replicas && var.standalone ? 1 : 0
}
"#,
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    assert_eq!(report["scanned"]["not_created"], 1);
    let mut located: Vec<&str> = findings(&report, "RES-001")
        .iter()
        .map(|f| f["resource"]["address"].as_str().unwrap())
        .collect();
    located.sort();
    // The replica's count stays unknown: `var.replicas` has no value and the other side is
    // true.
    assert_eq!(
        located,
        ["aws_s3_bucket.replica", "aws_s3_bucket.standalone"]
    );
}

/// A `for_each` made by a `for` expression is evaluated as Terraform does: one instance per key
/// it makes, each placed by its own item, and none when its condition keeps no item.
#[test]
fn a_for_expression_gives_a_for_each_its_instances() {
    let dir = scratch("for-each");
    std::fs::write(
        dir.join("main.tf"),
        r#"variable "stores" {
  default = {
    invoices = { region = "eu-central-1", enabled = true }
    reports  = { region = "us-east-1", enabled = true }
    archive  = { region = "us-west-2", enabled = false }
  }
}

variable "create_replicas" {
  default = false
}

resource "aws_s3_bucket" "store" {
  for_each = { for name, store in var.stores : name => store if store.enabled }
  region   = each.value.region
  bucket   = each.key
}

resource "aws_s3_bucket" "replica" {
  for_each = { for name, store in var.stores : name => store if var.create_replicas }
  region   = each.value.region
  bucket   = "${each.key}-replica"
}
"#,
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    // Both replicas' keys are dropped by the condition: the resource is never created.
    assert_eq!(report["scanned"]["not_created"], 1);
    let located: Vec<(&str, &str, u64)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["evidence"].as_str().unwrap(),
                f["related"][0]["start_line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // `archive` is not enabled: only `reports` is in the US. The finding points where its
    // region is written: the `for` expression keeps the item as it is.
    assert_eq!(
        located,
        [("aws_s3_bucket.store[\"reports\"]", "us-east-1", 4)]
    );
}

/// A registry module call that is not in the scanned files and that is never created
/// (`count = 0`, an empty `for_each`, `create = false`) is counted as not created when the
/// knowledge names the service its module makes; a module it does not know counts for nothing.
#[test]
fn unread_registry_modules_never_created_are_counted() {
    let dir = scratch("unread-not-created");
    std::fs::write(
        dir.join("main.tf"),
        "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nvariable \"replica\" {\n  default = false\n}\n\nmodule \"replica_db\" {\n  count      = var.replica ? 1 : 0\n  source     = \"terraform-aws-modules/rds/aws\"\n  identifier = \"replica\"\n}\n\nmodule \"queues\" {\n  for_each = toset([])\n  source   = \"cloudposse/sns-topic/aws\"\n}\n\nmodule \"cache\" {\n  source = \"terraform-aws-modules/elasticache/aws\"\n  create = false\n}\n\nmodule \"labels\" {\n  count  = 0\n  source = \"cloudposse/label/null\"\n}\n\nmodule \"events\" {\n  source = \"terraform-aws-modules/sqs/aws\"\n  name   = \"events\"\n}\n",
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    assert_eq!(report["scanned"]["not_created"], 3, "{report:#}");
    assert_eq!(report["scanned"]["resources"], 1, "{report:#}");
    let located: Vec<&str> = findings(&report, "RES-001")
        .iter()
        .map(|f| f["resource"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(located, vec!["module.events"]);
}

/// A registry module the knowledge names is the service its module makes, part of a service
/// included: Azure Verified Modules for a Container Apps environment and an App Configuration
/// store are those services, placed where their location argument says; a module it does not
/// know is placed there too, with no service or provider.
#[test]
fn an_unread_registry_module_of_a_known_part_is_its_service() {
    let dir = scratch("unread-known-part");
    std::fs::write(
        dir.join("main.tf"),
        "module \"environment\" {\n  source   = \"Azure/avm-res-app-managedenvironment/azurerm\"\n  version  = \"0.3.0\"\n  name     = \"cae-shop\"\n  location = \"eastus\"\n}\n\nmodule \"settings\" {\n  source   = \"Azure/avm-res-appconfiguration-configurationstore/azure\"\n  version  = \"0.5.1\"\n  name     = \"appcs-shop\"\n  location = \"eastus\"\n}\n\nmodule \"unknown\" {\n  source   = \"example/unknown-thing/azurerm\"\n  location = \"eastus\"\n}\n",
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    let placed: Vec<(&str, Option<&str>, Option<&str>, &str)> = findings(&report, "RES-001")
        .iter()
        .map(|f| {
            let r = &f["resource"];
            (
                r["address"].as_str().unwrap(),
                r["service"].as_str(),
                r["provider"].as_str(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    // A store of data outside the EU is high; a host of apps, or what is not known, medium.
    assert_eq!(
        placed,
        [
            (
                "module.environment.location",
                Some("Azure Container Apps"),
                Some("azure"),
                "medium"
            ),
            (
                "module.settings.location",
                Some("Azure App Configuration"),
                Some("azure"),
                "high"
            ),
            ("module.unknown.location", None, None, "medium"),
        ],
        "{report:#}"
    );
}

/// Kubernetes objects that Terraform makes with the provider's typed resources are judged as
/// those objects, in each module instance; what the rules do not read (a Helm chart, a change
/// to an object made elsewhere) is listed as skipped with its line and what to scan instead,
/// once even when a module making it is called twice; one that is never created is not.
#[test]
fn kubernetes_objects_and_helm_releases_in_terraform_are_judged_or_listed() {
    let dir = scratch("tf-kubernetes");
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        "module \"blue\" {\n  source = \"./app\"\n}\n\nmodule \"green\" {\n  source = \"./app\"\n}\n\nresource \"helm_release\" \"ingress\" {\n  name       = \"ingress-nginx\"\n  repository = \"https://kubernetes.github.io/ingress-nginx\"\n  chart      = \"ingress-nginx\"\n}\n\nresource \"kubernetes_annotations\" \"unused\" {\n  count       = 0\n  api_version = \"v1\"\n  kind        = \"Service\"\n  metadata {\n    name = \"web\"\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("app/main.tf"),
        "resource \"kubernetes_deployment_v1\" \"web\" {\n  metadata {\n    name = \"web\"\n  }\n  spec {\n    template {\n      spec {\n        container {\n          name  = \"web\"\n          image = \"nginx:1.27\"\n        }\n      }\n    }\n  }\n}\n\nresource \"kubernetes_annotations\" \"web\" {\n  api_version = \"v1\"\n  kind        = \"Service\"\n  metadata {\n    name = \"web\"\n  }\n  annotations = {\n    \"service.beta.kubernetes.io/aws-load-balancer-type\" = \"external\"\n  }\n}\n",
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    let images: Vec<(&str, &str, u64)> = findings(&report, "RES-007")
        .iter()
        .map(|f| {
            (
                f["resource"]["address"].as_str().unwrap(),
                f["resource"]["kind"].as_str().unwrap(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        images,
        [
            ("module.blue.kubernetes_deployment_v1.web", "Deployment", 10),
            (
                "module.green.kubernetes_deployment_v1.web",
                "Deployment",
                10
            )
        ]
    );
    let skipped = skipped_at(&report);
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.iter().any(|(at, why)| at == "main.tf:17"
        && why.starts_with("kubernetes_annotations web: a change Terraform makes")));
    assert!(skipped.iter().any(|(at, why)| at == "main.tf:9"
        && why.starts_with("helm_release ingress: a Helm release")
        && why.contains("helm template")));
}

/// A `kubernetes_manifest` written as an object is judged as the manifest it applies, under
/// its Terraform address; an image only the deployment names is listed as not evaluated, and a
/// manifest decoded from a file at plan time is listed as skipped.
#[test]
fn a_kubernetes_manifest_written_as_an_object_is_judged_as_a_manifest() {
    let report = scan("fixtures/RES-007/terraform-kubernetes-manifest");
    let registries = addresses_and_lines(&report, "RES-007");
    assert_eq!(
        registries,
        [
            ("kubernetes_manifest.web", 28),
            ("kubernetes_manifest.web", 32)
        ]
    );
    let unevaluated = report["scanned"]["unevaluated"].as_array().unwrap();
    assert_eq!(unevaluated.len(), 1, "{unevaluated:?}");
    assert_eq!(unevaluated[0]["line"], 36);
    assert_eq!(
        unevaluated[0]["reason"],
        "`var.worker_image` is decided at deployment"
    );
    let skipped = report["scanned"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0]["path"].as_str().unwrap().ends_with("main.tf:50"),
        "{skipped:?}"
    );
}

/// In a plan as in HCL, a typed Kubernetes resource is judged as the object it makes, and a
/// `kubectl_manifest` as the YAML it gives; what the rules do not read (a change to an object
/// made elsewhere) is listed as skipped at its line in the plan.
#[test]
fn a_plan_judges_kubernetes_resources_and_lists_what_it_does_not_read() {
    let report = scan("fixtures/RES-007/terraform-plan-kubernetes-manifest");
    let images = addresses_and_lines(&report, "RES-007");
    assert_eq!(
        images,
        [
            ("kubernetes_manifest.web", 38),
            ("kubernetes_deployment_v1.worker", 113),
            ("kubernetes_deployment_v1.worker", 137),
            ("kubectl_manifest.quota", 226)
        ]
    );
    let skipped: Vec<(String, String)> = skipped_at(&report)
        .into_iter()
        .filter(|(at, _)| at.starts_with("plan.json"))
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, "plan.json:239");
    assert!(
        skipped[0]
            .1
            .starts_with("kubernetes_annotations web: a change Terraform makes")
    );
}

/// A `kubectl_manifest` whose YAML text is written out in full but does not parse, or holds no
/// object, is listed at the line that fails with the parser's reason, not as a text the
/// deployment renders; one the deployment renders keeps that reason.
#[test]
fn a_kubectl_manifest_whose_written_yaml_does_not_parse_is_listed_with_the_reason() {
    let dir = scratch("tf-kubectl-yaml");
    std::fs::write(
        dir.join("main.tf"),
        "resource \"kubectl_manifest\" \"broken\" {\n  yaml_body = <<-YAML\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: [name: a\n    data: {}\n  YAML\n}\n\nresource \"kubectl_manifest\" \"empty\" {\n  yaml_body = \"data: {}\"\n}\n\nresource \"kubectl_manifest\" \"rendered\" {\n  yaml_body = templatefile(\"${path.module}/app.yaml\", {})\n}\n",
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    let skipped = skipped_at(&report);
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    let broken = skipped
        .iter()
        .find(|(_, why)| why.starts_with("kubectl_manifest broken"));
    let (at, why) = broken.unwrap();
    assert!(at.starts_with("main.tf:"), "{at}");
    let line: u32 = at.rsplit(':').next().unwrap().parse().unwrap();
    assert!((5..=6).contains(&line), "{at}: {why}");
    assert!(why.contains("does not parse"), "{why}");
    assert!(skipped.iter().any(|(at, why)| at == "main.tf:11"
        && why.starts_with(
            "kubectl_manifest empty: its YAML text (`yaml_body`) holds no Kubernetes object"
        )));
    assert!(skipped.iter().any(|(at, why)| at == "main.tf:14"
        && why.starts_with("kubectl_manifest rendered: a Kubernetes manifest whose YAML text")));
}

/// An IONOS volume is where the datacenter its `datacenter_id` names is: one handed in
/// by its caller, one of its own module chosen by a conditional, or the output of another
/// module the caller reads, followed into that module to the datacenter it hands on. One handed the output of a module not read here is
/// unresolved and reported with that output, not passed over.
#[test]
fn a_resource_located_by_its_parent_follows_the_parent_its_caller_hands_in() {
    let dir = scratch("tf-located-by");
    std::fs::create_dir_all(dir.join("modules/pool")).unwrap();
    std::fs::create_dir_all(dir.join("modules/network")).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        "resource \"ionoscloud_datacenter\" \"edge\" {\n  name     = \"edge\"\n  location = \"us/ewr\"\n}\n\nmodule \"cache\" {\n  source        = \"./modules/pool\"\n  datacenter_id = ionoscloud_datacenter.edge.id\n}\n\nmodule \"network\" {\n  source   = \"./modules/network\"\n  location = \"us/las\"\n}\n\nmodule \"shop\" {\n  source        = \"./modules/pool\"\n  datacenter_id = module.network.datacenter_id\n}\n\nmodule \"legacy\" {\n  source = \"example-org/network/ionoscloud\"\n}\n\nmodule \"archive\" {\n  source        = \"./modules/pool\"\n  datacenter_id = module.legacy.datacenter_id\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules/pool/main.tf"),
        "variable \"datacenter_id\" {\n  type = string\n}\n\nresource \"ionoscloud_volume\" \"data\" {\n  datacenter_id = var.datacenter_id\n  name          = \"data\"\n  size          = 20\n  disk_type     = \"SSD\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules/network/main.tf"),
        "variable \"location\" {\n  type = string\n}\n\nvariable \"existing_datacenter_id\" {\n  type    = string\n  default = null\n}\n\nresource \"ionoscloud_datacenter\" \"this\" {\n  count    = var.existing_datacenter_id == null ? 1 : 0\n  name     = \"shop\"\n  location = var.location\n}\n\nlocals {\n  datacenter_id = var.existing_datacenter_id != null ? var.existing_datacenter_id : ionoscloud_datacenter.this[0].id\n}\n\noutput \"datacenter_id\" {\n  value = local.datacenter_id\n}\n\nresource \"ionoscloud_volume\" \"logs\" {\n  datacenter_id = local.datacenter_id\n  name          = \"logs\"\n  size          = 10\n  disk_type     = \"HDD\"\n}\n",
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    let outside: Vec<(&str, u64)> = addresses_and_lines(&report, "RES-001");
    assert_eq!(
        outside,
        [
            ("ionoscloud_datacenter.edge", 3),
            ("module.network.ionoscloud_datacenter.this", 10),
            ("module.network.ionoscloud_volume.logs", 24),
            ("module.cache.ionoscloud_volume.data", 5),
            ("module.shop.ionoscloud_volume.data", 5),
        ]
    );
    let unresolved = findings(&report, "RES-003");
    assert_eq!(unresolved.len(), 1, "{unresolved:#?}");
    let message = unresolved[0]["message"].as_str().unwrap();
    assert!(
        message.contains("module.archive.ionoscloud_volume.data")
            && message.ends_with("module.legacy.datacenter_id"),
        "{message}"
    );
    assert_eq!(unresolved[0]["location"]["start_line"], 27);
}

/// `location = module.rg.location`: the output is followed into the module that makes it,
/// evaluated with the inputs its call hands in, to the resource group it names; through a
/// function, and through an output that hands on a module of its own.
#[test]
fn a_location_read_from_a_module_output_is_where_the_output_leads() {
    let dir = scratch("tf-output-location");
    for folder in ["modules/rg", "modules/data", "modules/inner"] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
    }
    std::fs::write(
        dir.join("main.tf"),
        "module \"rg\" {\n  source   = \"./modules/rg\"\n  location = \"eastus\"\n}\n\nmodule \"data\" {\n  source = \"./modules/data\"\n}\n\nresource \"azurerm_storage_account\" \"logs\" {\n  name                     = \"logs\"\n  resource_group_name      = module.rg.name\n  location                 = module.rg.location\n  account_tier             = \"Standard\"\n  account_replication_type = \"LRS\"\n}\n\nresource \"azurerm_storage_account\" \"archive\" {\n  name                     = \"archive\"\n  resource_group_name      = module.rg.name\n  location                 = lower(module.data.location)\n  account_tier             = \"Standard\"\n  account_replication_type = \"LRS\"\n}\n\nresource \"azurerm_storage_account\" \"cold\" {\n  name                     = \"cold\"\n  resource_group_name      = \"cold\"\n  location                 = module.data.missing\n  account_tier             = \"Standard\"\n  account_replication_type = \"LRS\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules/rg/main.tf"),
        "variable \"location\" {\n  type = string\n}\n\nresource \"azurerm_resource_group\" \"this\" {\n  name     = \"shop\"\n  location = var.location\n}\n\noutput \"name\" {\n  value = azurerm_resource_group.this.name\n}\n\noutput \"location\" {\n  value = azurerm_resource_group.this.location\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules/data/main.tf"),
        "module \"inner\" {\n  source = \"../inner\"\n}\n\noutput \"location\" {\n  value = module.inner.location\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules/inner/main.tf"),
        "output \"location\" {\n  value = \"CentralUS\"\n}\n",
    )
    .unwrap();
    let report = scan(dir.to_str().unwrap());
    let outside: Vec<(&str, u64)> = addresses_and_lines(&report, "RES-001");
    assert_eq!(
        outside,
        [
            ("azurerm_storage_account.logs", 10),
            ("azurerm_storage_account.archive", 21),
        ]
    );
    let regions: Vec<&str> = findings(&report, "RES-001")
        .iter()
        .map(|f| f["resource"]["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["eastus", "centralus"]);
    // An output the module does not write stays unknown where it is read.
    let unresolved = findings(&report, "RES-003");
    assert_eq!(unresolved.len(), 1, "{unresolved:#?}");
    assert_eq!(
        unresolved[0]["resource"]["address"],
        "azurerm_storage_account.cold"
    );
    assert_eq!(unresolved[0]["location"]["start_line"], 29);
}
