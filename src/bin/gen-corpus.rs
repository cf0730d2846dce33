//! Writes a deterministic corpus for the benchmark (`scripts/bench.sh`): Kubernetes multi-doc
//! manifests, Terraform modules with variables and providers, CloudFormation templates in YAML
//! and JSON, ARM templates with parameter files and AWS Config snapshots, in the proportions and
//! file sizes of real repositories. Everything is placed in the EU except the planted resources,
//! each of which must give one `RES-001` finding; they are listed in `OUT/planted.json`.
//!
//! `gen-corpus --size 200MB --seed 1 OUT` (`--aws-config-snapshot` writes one snapshot of that
//! size instead, `--terraform-plan` one `terraform show -json` plan).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// splitmix64: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.range(1, one_in) == 1
    }
}

/// A finding the scan must report.
struct Planted {
    rule: &'static str,
    path: String,
    line: usize,
    /// On a file of one line (a plan), the column too.
    column: Option<usize>,
}

/// Text being written, with the number of the line the next write starts on.
struct Doc {
    text: String,
}

impl Doc {
    fn new() -> Self {
        Doc {
            text: String::new(),
        }
    }

    fn line(&self) -> usize {
        self.text.bytes().filter(|&b| b == b'\n').count() + 1
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Records a planted RES-001 finding of `path` on the line the next write starts on.
    fn plant(&self, planted: &mut Vec<Planted>, path: String) {
        planted.push(Planted {
            rule: "RES-001",
            path,
            line: self.line(),
            column: None,
        });
    }
}

const AWS_EU: &[&str] = &[
    "eu-central-1",
    "eu-west-1",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "eu-central-2",
];
const AZURE_EU: &[&str] = &[
    "westeurope",
    "northeurope",
    "germanywestcentral",
    "francecentral",
    "swedencentral",
];
const TEAMS: &[&str] = &[
    "orders",
    "billing",
    "search",
    "catalog",
    "checkout",
    "payments",
    "identity",
    "reports",
    "shipping",
    "inventory",
    "pricing",
    "support",
];
const IMAGES: &[&str] = &[
    "rg.fr-par.scw.cloud/shop/app",
    "registry.gitlab.com/shop/app",
    "harbor.example.de/platform/app",
    "nginx",
    "postgres",
    "redis",
];

fn name(rng: &mut Rng, n: usize) -> String {
    format!("{}-{}", rng.pick(TEAMS), n)
}

/// One Kubernetes file: a namespace, deployments with services and config maps.
fn kubernetes(
    rng: &mut Rng,
    n: usize,
    plant: bool,
    path: &str,
    planted: &mut Vec<Planted>,
) -> String {
    let mut doc = Doc::new();
    let app = name(rng, n);
    let _ = write!(
        doc.text,
        "# {app}: workloads of the {app} team\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {app}\n  labels:\n    team: {app}\n"
    );
    for i in 0..rng.range(1, 6) {
        let image = rng.pick(IMAGES);
        let replicas = rng.range(1, 6);
        let _ = write!(
            doc.text,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}-{i}\n  namespace: {app}\n  labels:\n    app: {app}-{i}\n    tier: backend\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {app}-{i}\n  template:\n    metadata:\n      labels:\n        app: {app}-{i}\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: main\n          image: {image}:1.{i}.{replicas}\n          ports:\n            - containerPort: 8080\n          env:\n            - name: LOG_LEVEL\n              value: info\n            - name: DB_HOST\n              value: postgres.{app}.svc.cluster.local\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: {app}-db\n                  key: password\n          resources:\n            requests:\n              cpu: 100m\n              memory: 128Mi\n            limits:\n              memory: 512Mi\n          readinessProbe:\n            httpGet:\n              path: /healthz\n              port: 8080\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}-{i}\n  namespace: {app}\nspec:\n  selector:\n    app: {app}-{i}\n  ports:\n    - port: 80\n      targetPort: 8080\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-{i}-config\n  namespace: {app}\ndata:\n"
        );
        for k in 0..rng.range(2, 40) {
            let _ = writeln!(doc.text, "  setting_{k}: \"value {k} of {app}\"");
        }
    }
    if plant {
        doc.push(&format!(
            "---\napiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n  name: {app}-archive\nspec:\n  forProvider:\n"
        ));
        doc.plant(planted, path.to_string());
        doc.push("    region: us-east-1\n");
    }
    doc.text
}

/// One Terraform module: providers, variables, resources and a tfvars file.
fn terraform(
    rng: &mut Rng,
    n: usize,
    plant: bool,
    dir: &str,
    files: &mut Vec<(String, String)>,
    planted: &mut Vec<Planted>,
) {
    let team = name(rng, n);
    let region = rng.pick(AWS_EU);
    files.push((
        format!("{dir}/providers.tf"),
        "terraform {\n  required_version = \">= 1.5\"\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.0\"\n    }\n  }\n}\n\nprovider \"aws\" {\n  region = var.region\n}\n\nprovider \"aws\" {\n  alias  = \"us\"\n  region = \"us-east-1\"\n}\n".to_string(),
    ));
    files.push((
        format!("{dir}/variables.tf"),
        format!(
            "variable \"region\" {{\n  type    = string\n  default = \"eu-central-1\"\n}}\n\nvariable \"name\" {{\n  type    = string\n  default = \"{team}\"\n}}\n\nvariable \"retention_days\" {{\n  type    = number\n  default = 30\n}}\n\nvariable \"tags\" {{\n  type = map(string)\n  default = {{\n    team = \"{team}\"\n  }}\n}}\n"
        ),
    ));
    files.push((
        format!("{dir}/terraform.tfvars"),
        format!("region = \"{region}\"\nname   = \"{team}\"\n"),
    ));
    let mut doc = Doc::new();
    for i in 0..rng.range(2, 14) {
        let _ = write!(
            doc.text,
            "resource \"aws_s3_bucket\" \"data_{i}\" {{\n  bucket = \"${{var.name}}-data-{i}\"\n  tags   = var.tags\n}}\n\nresource \"aws_s3_bucket_server_side_encryption_configuration\" \"data_{i}\" {{\n  bucket = aws_s3_bucket.data_{i}.id\n\n  rule {{\n    apply_server_side_encryption_by_default {{\n      sse_algorithm     = \"aws:kms\"\n      kms_master_key_id = aws_kms_key.data.arn\n    }}\n  }}\n}}\n\nresource \"aws_s3_bucket_versioning\" \"data_{i}\" {{\n  bucket = aws_s3_bucket.data_{i}.id\n\n  versioning_configuration {{\n    status = \"Enabled\"\n  }}\n}}\n\nresource \"aws_cloudwatch_log_group\" \"app_{i}\" {{\n  name              = \"/${{var.name}}/app-{i}\"\n  retention_in_days = var.retention_days\n}}\n\n"
        );
        if rng.chance(3) {
            let _ = write!(
                doc.text,
                "resource \"aws_db_instance\" \"db_{i}\" {{\n  identifier              = \"${{var.name}}-{i}\"\n  engine                  = \"postgres\"\n  instance_class          = \"db.t3.medium\"\n  allocated_storage       = 20\n  storage_encrypted       = true\n  backup_retention_period = 7\n  publicly_accessible     = false\n  username                = \"app\"\n  manage_master_user_password = true\n}}\n\n"
            );
        }
    }
    doc.push("resource \"aws_kms_key\" \"data\" {\n  description = \"data key\"\n}\n");
    if plant {
        doc.push("\n");
        doc.plant(planted, format!("{dir}/main.tf"));
        doc.push(
            "resource \"aws_s3_bucket\" \"exports_us\" {\n  provider = aws.us\n  bucket   = \"${var.name}-exports-us\"\n}\n",
        );
    }
    files.push((format!("{dir}/main.tf"), doc.text));
}

/// One CloudFormation template, YAML or JSON; the stack region is not in it, so none is planted.
fn cloudformation(rng: &mut Rng, n: usize, json: bool) -> String {
    let team = name(rng, n);
    let count = rng.range(3, 30);
    if json {
        let mut resources = Vec::new();
        for i in 0..count {
            resources.push(format!(
                "    \"Queue{i}\": {{\n      \"Type\": \"AWS::SQS::Queue\",\n      \"Properties\": {{\n        \"QueueName\": {{\"Fn::Sub\": \"{team}-{i}-${{Stage}}\"}},\n        \"KmsMasterKeyId\": \"alias/aws/sqs\",\n        \"MessageRetentionPeriod\": 345600\n      }}\n    }},\n    \"Table{i}\": {{\n      \"Type\": \"AWS::DynamoDB::Table\",\n      \"Properties\": {{\n        \"BillingMode\": \"PAY_PER_REQUEST\",\n        \"SSESpecification\": {{\"SSEEnabled\": true}},\n        \"PointInTimeRecoverySpecification\": {{\"PointInTimeRecoveryEnabled\": true}},\n        \"KeySchema\": [{{\"AttributeName\": \"id\", \"KeyType\": \"HASH\"}}],\n        \"AttributeDefinitions\": [{{\"AttributeName\": \"id\", \"AttributeType\": \"S\"}}]\n      }}\n    }}"
            ));
        }
        format!(
            "{{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Description\": \"{team} queues and tables\",\n  \"Parameters\": {{\n    \"Stage\": {{\"Type\": \"String\", \"Default\": \"prod\"}}\n  }},\n  \"Resources\": {{\n{}\n  }}\n}}\n",
            resources.join(",\n")
        )
    } else {
        let mut text = format!(
            "AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: {team} storage and functions\nParameters:\n  Stage:\n    Type: String\n    Default: prod\n  RetentionDays:\n    Type: Number\n    Default: 30\nConditions:\n  IsProd: !Equals [!Ref Stage, prod]\nResources:\n"
        );
        for i in 0..count {
            let _ = write!(
                text,
                "  Bucket{i}:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub \"{team}-{i}-${{Stage}}-${{AWS::AccountId}}\"\n      BucketEncryption:\n        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault:\n              SSEAlgorithm: aws:kms\n      VersioningConfiguration:\n        Status: !If [IsProd, Enabled, Suspended]\n      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n        BlockPublicPolicy: true\n        IgnorePublicAcls: true\n        RestrictPublicBuckets: true\n  Logs{i}:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: !Sub \"/{team}/${{Stage}}/{i}\"\n      RetentionInDays: !Ref RetentionDays\n"
            );
        }
        text
    }
}

/// One ARM template and its parameter file.
fn arm(
    rng: &mut Rng,
    n: usize,
    plant: bool,
    dir: &str,
    files: &mut Vec<(String, String)>,
    planted: &mut Vec<Planted>,
) {
    let team = name(rng, n).replace('-', "");
    let location = rng.pick(AZURE_EU);
    let mut doc = Doc::new();
    let _ = write!(
        doc.text,
        "{{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n  \"contentVersion\": \"1.0.0.0\",\n  \"parameters\": {{\n    \"location\": {{\n      \"type\": \"string\",\n      \"defaultValue\": \"[resourceGroup().location]\"\n    }},\n    \"prefix\": {{\n      \"type\": \"string\",\n      \"defaultValue\": \"{team}\"\n    }}\n  }},\n  \"variables\": {{\n    \"storageName\": \"[concat(parameters('prefix'), uniqueString(resourceGroup().id))]\"\n  }},\n  \"resources\": [\n"
    );
    let count = rng.range(2, 20);
    for i in 0..count {
        let _ = write!(
            doc.text,
            "    {{\n      \"type\": \"Microsoft.Storage/storageAccounts\",\n      \"apiVersion\": \"2023-01-01\",\n      \"name\": \"[concat(variables('storageName'), '{i}')]\",\n      \"location\": \"[parameters('location')]\",\n      \"sku\": {{\"name\": \"Standard_ZRS\"}},\n      \"kind\": \"StorageV2\",\n      \"properties\": {{\n        \"minimumTlsVersion\": \"TLS1_2\",\n        \"supportsHttpsTrafficOnly\": true,\n        \"allowBlobPublicAccess\": false,\n        \"encryption\": {{\"keySource\": \"Microsoft.Storage\", \"services\": {{\"blob\": {{\"enabled\": true}}}}}}\n      }}\n    }},\n    {{\n      \"type\": \"Microsoft.Web/serverfarms\",\n      \"apiVersion\": \"2022-09-01\",\n      \"name\": \"[concat(parameters('prefix'), '-plan-{i}')]\",\n      \"location\": \"[parameters('location')]\",\n      \"sku\": {{\"name\": \"P1v3\"}}\n    }}"
        );
        if i + 1 < count || plant {
            doc.push(",\n");
        } else {
            doc.push("\n");
        }
    }
    if plant {
        doc.push("    {\n      \"type\": \"Microsoft.OperationalInsights/workspaces\",\n      \"apiVersion\": \"2022-10-01\",\n      \"name\": \"[concat(parameters('prefix'), '-logs')]\",\n");
        doc.plant(planted, format!("{dir}/azuredeploy.json"));
        doc.push("      \"location\": \"eastus\",\n      \"properties\": {\"retentionInDays\": 30}\n    }\n");
    }
    doc.push("  ]\n}\n");
    files.push((format!("{dir}/azuredeploy.json"), doc.text));
    files.push((
        format!("{dir}/azuredeploy.parameters.json"),
        format!(
            "{{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#\",\n  \"contentVersion\": \"1.0.0.0\",\n  \"parameters\": {{\n    \"location\": {{\"value\": \"{location}\"}},\n    \"prefix\": {{\"value\": \"{team}\"}}\n  }}\n}}\n"
        ),
    ));
}

/// One AWS Config snapshot of about `target` bytes; every `plant_every`th item is outside the EU.
fn aws_config(
    rng: &mut Rng,
    target: usize,
    plant_every: usize,
    path: &str,
    planted: &mut Vec<Planted>,
) -> String {
    let mut doc = Doc::new();
    doc.push("{\n  \"fileVersion\": \"1.0\",\n  \"configSnapshotId\": \"5f1c2b8e-0d7e-4c55-9c4e-2a1f0c3d9e11\",\n  \"configurationItems\": [\n");
    let mut line = doc.line();
    let mut i = 0;
    while doc.text.len() < target || i == 0 {
        if i > 0 {
            doc.push(",\n");
            line += 1;
        }
        let plant = plant_every > 0 && i % plant_every == plant_every - 1;
        let region = if plant { "us-west-2" } else { rng.pick(AWS_EU) };
        let team = rng.pick(TEAMS);
        let (kind, config) = match rng.range(0, 3) {
            0 => (
                "AWS::S3::Bucket",
                format!(
                    "{{\"name\": \"{team}-{i}\", \"versioningConfiguration\": {{\"status\": \"Enabled\"}}, \"serverSideEncryptionConfiguration\": {{\"rules\": [{{\"applyServerSideEncryptionByDefault\": {{\"sseAlgorithm\": \"aws:kms\"}}}}]}}}}"
                ),
            ),
            1 => (
                "AWS::RDS::DBInstance",
                format!(
                    "{{\"dBInstanceIdentifier\": \"{team}-{i}\", \"engine\": \"postgres\", \"storageEncrypted\": true, \"publiclyAccessible\": false, \"backupRetentionPeriod\": 7}}"
                ),
            ),
            2 => (
                "AWS::DynamoDB::Table",
                format!(
                    "{{\"tableName\": \"{team}-{i}\", \"tableStatus\": \"ACTIVE\", \"sSEDescription\": {{\"status\": \"ENABLED\", \"sSEType\": \"KMS\"}}}}"
                ),
            ),
            _ => (
                "AWS::EC2::Volume",
                format!("{{\"volumeId\": \"vol-{i:08x}\", \"encrypted\": true, \"size\": 100}}"),
            ),
        };
        let item = format!(
            "    {{\n      \"configurationItemVersion\": \"1.3\",\n      \"configurationItemCaptureTime\": \"2026-10-01T08:12:44.120Z\",\n      \"configurationItemStatus\": \"OK\",\n      \"accountId\": \"123456789012\",\n      \"resourceType\": \"{kind}\",\n      \"resourceId\": \"{team}-{i}\",\n      \"resourceName\": \"{team}-{i}\",\n      \"awsRegion\": \"{region}\",\n      \"availabilityZone\": \"Regional\",\n      \"tags\": {{\"team\": \"{team}\", \"cost-center\": \"cc-{i}\"}},\n      \"relationships\": [],\n      \"configuration\": {config},\n      \"supplementaryConfiguration\": {{}}\n    }}"
        );
        if plant {
            planted.push(Planted {
                rule: "RES-001",
                path: path.to_string(),
                line: line + 8,
                column: None,
            });
        }
        line += item.bytes().filter(|&b| b == b'\n').count();
        doc.push(&item);
        i += 1;
    }
    doc.push("\n  ]\n}\n");
    doc.text
}

/// One plan as `terraform show -json` writes it, on one line, of about `target` bytes: the
/// resources of a root module and of one module per team, in `planned_values`, again in
/// `resource_changes` and as expressions in `configuration`. Every `plant_every`th resource
/// names `us-west-2` as its own region (as AWS provider 6 lets a resource do); the rest take
/// the provider's EU region.
fn terraform_plan(
    rng: &mut Rng,
    target: usize,
    plant_every: usize,
    path: &str,
    planted: &mut Vec<Planted>,
) -> String {
    const HEAD: &str = "{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.5\",\"planned_values\":{\"root_module\":{";
    let region = rng.pick(AWS_EU);
    // The three sections, written side by side; `planned` comes first in the file, right
    // after `HEAD`, so a planted value's column is known as it is written.
    let (mut planned, mut changes, mut configured) = (String::new(), String::new(), String::new());
    let mut modules = 0usize;
    let mut i = 0usize;
    while i == 0 || planned.len() + changes.len() + configured.len() < target {
        let team = rng.pick(TEAMS);
        let module = format!("module.{team}_{modules}");
        let count = if modules == 0 { 20 } else { rng.range(5, 40) };
        // The root module's resources, then each team module in `child_modules`.
        match modules {
            0 => planned.push_str("\"resources\":["),
            1 => planned.push_str("],\"child_modules\":[{\"address\":\"module."),
            _ => planned.push_str("]},{\"address\":\"module."),
        }
        if modules > 0 {
            let _ = write!(planned, "{team}_{modules}\",\"resources\":[");
        }
        let prefix = if modules == 0 {
            String::new()
        } else {
            format!("{module}.")
        };
        let mut calls = String::new();
        for k in 0..count {
            let (kind, name, values) = match rng.range(0, 6) {
                0 => (
                    "aws_s3_bucket",
                    format!("data_{k}"),
                    format!(
                        "\"acl\":null,\"bucket\":\"{team}-data-{i}\",\"force_destroy\":false,\"object_lock_enabled\":false,\"tags\":{{\"team\":\"{team}\"}},\"tags_all\":{{\"team\":\"{team}\"}},\"timeouts\":null"
                    ),
                ),
                1 => (
                    "aws_db_instance",
                    format!("db_{k}"),
                    format!(
                        "\"allocated_storage\":20,\"backup_retention_period\":7,\"db_name\":null,\"deletion_protection\":true,\"engine\":\"postgres\",\"engine_version\":\"16.3\",\"identifier\":\"{team}-{i}\",\"instance_class\":\"db.t3.medium\",\"manage_master_user_password\":true,\"multi_az\":true,\"publicly_accessible\":false,\"storage_encrypted\":true,\"tags\":{{\"team\":\"{team}\"}},\"username\":\"app\""
                    ),
                ),
                2 => (
                    "aws_dynamodb_table",
                    format!("table_{k}"),
                    format!(
                        "\"billing_mode\":\"PAY_PER_REQUEST\",\"hash_key\":\"id\",\"name\":\"{team}-{i}\",\"point_in_time_recovery\":[{{\"enabled\":true}}],\"server_side_encryption\":[{{\"enabled\":true,\"kms_key_arn\":null}}],\"tags\":{{\"team\":\"{team}\"}}"
                    ),
                ),
                3 => (
                    "aws_ebs_volume",
                    format!("volume_{k}"),
                    format!(
                        "\"availability_zone\":\"{region}a\",\"encrypted\":true,\"size\":100,\"tags\":{{\"Name\":\"{team}-{i}\"}},\"type\":\"gp3\""
                    ),
                ),
                4 => (
                    "aws_cloudwatch_log_group",
                    format!("logs_{k}"),
                    format!(
                        "\"kms_key_id\":null,\"name\":\"/{team}/app-{i}\",\"retention_in_days\":30,\"skip_destroy\":false,\"tags\":{{\"team\":\"{team}\"}}"
                    ),
                ),
                _ => (
                    "aws_sqs_queue",
                    format!("queue_{k}"),
                    format!(
                        "\"delay_seconds\":0,\"fifo_queue\":false,\"message_retention_seconds\":345600,\"name\":\"{team}-{i}\",\"sqs_managed_sse_enabled\":true,\"tags\":{{\"team\":\"{team}\"}}"
                    ),
                ),
            };
            let plant = plant_every > 0 && i % plant_every == plant_every - 1;
            let own = if plant {
                ",\"region\":\"us-west-2\""
            } else {
                ""
            };
            let address = format!("{prefix}{kind}.{name}");
            if k > 0 {
                planned.push(',');
            }
            if !changes.is_empty() {
                changes.push(',');
            }
            let _ = write!(
                planned,
                "{{\"address\":\"{address}\",\"mode\":\"managed\",\"type\":\"{kind}\",\"name\":\"{name}\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"schema_version\":0,\"values\":{{{values}"
            );
            if plant {
                planted.push(Planted {
                    rule: "RES-001",
                    path: path.to_string(),
                    line: 1,
                    column: Some(HEAD.len() + planned.len() + own.find("\"us-").unwrap_or(0) + 1),
                });
            }
            let _ = write!(planned, "{own}}},\"sensitive_values\":{{\"tags\":{{}}}}}}");
            let _ = write!(
                changes,
                "{{\"address\":\"{address}\",\"mode\":\"managed\",\"type\":\"{kind}\",\"name\":\"{name}\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"change\":{{\"actions\":[\"create\"],\"before\":null,\"after\":{{{values}{own}}},\"after_unknown\":{{\"arn\":true,\"id\":true}},\"before_sensitive\":false,\"after_sensitive\":{{\"tags\":{{}}}}}}}}"
            );
            if !calls.is_empty() {
                calls.push(',');
            }
            let _ = write!(
                calls,
                "{{\"address\":\"{kind}.{name}\",\"mode\":\"managed\",\"type\":\"{kind}\",\"name\":\"{name}\",\"provider_config_key\":\"aws\",\"expressions\":{{\"tags\":{{\"references\":[\"var.tags\"]}}}},\"schema_version\":0}}"
            );
            i += 1;
        }
        if modules == 0 {
            let _ = write!(configured, "\"resources\":[{calls}],\"module_calls\":{{");
        } else {
            if modules > 1 {
                configured.push(',');
            }
            let _ = write!(
                configured,
                "\"{team}_{modules}\":{{\"source\":\"./modules/{team}\",\"module\":{{\"resources\":[{calls}],\"variables\":{{\"tags\":{{\"default\":{{}}}}}}}}}}"
            );
        }
        modules += 1;
    }
    let mut doc = String::with_capacity(planned.len() + changes.len() + configured.len() + 512);
    doc.push_str(HEAD);
    doc.push_str(&planned);
    doc.push_str(if modules > 1 {
        "]}]}},\"resource_changes\":["
    } else {
        "]}},\"resource_changes\":["
    });
    doc.push_str(&changes);
    let _ = writeln!(
        doc,
        "],\"configuration\":{{\"provider_config\":{{\"aws\":{{\"name\":\"aws\",\"full_name\":\"registry.terraform.io/hashicorp/aws\",\"version_constraint\":\"~> 6.0\",\"expressions\":{{\"region\":{{\"constant_value\":\"{region}\"}}}}}}}},\"root_module\":{{{configured}}}}}}}}}"
    );
    doc
}

fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim().to_ascii_uppercase();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t.as_str(), ""),
    };
    let n: usize = num.parse().ok()?;
    let mult = match unit {
        "" | "B" => 1,
        "KB" | "K" => 1_000,
        "MB" | "M" => 1_000_000,
        "GB" | "G" => 1_000_000_000,
        _ => return None,
    };
    Some(n * mult)
}

fn write(out: &Path, rel: &str, text: &str) -> std::io::Result<()> {
    let path = out.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

fn main() {
    let mut size = 20_000_000;
    let mut seed = 1u64;
    let mut out: Option<PathBuf> = None;
    let mut only = Only::Corpus;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => match args.next().as_deref().and_then(parse_size) {
                Some(s) => size = s,
                None => fail("--size needs a size such as 20MB"),
            },
            "--seed" => match args.next().and_then(|s| s.parse().ok()) {
                Some(s) => seed = s,
                None => fail("--seed needs a number"),
            },
            "--aws-config-snapshot" => only = Only::Snapshot,
            "--terraform-plan" => only = Only::Plan,
            "-h" | "--help" => {
                println!(
                    "gen-corpus [--size 20MB] [--seed 1] [--aws-config-snapshot | --terraform-plan] OUT\n\nWrites a deterministic benchmark corpus to OUT, and the findings planted in it to OUT/planted.json.\n--aws-config-snapshot and --terraform-plan write one file of that size and kind instead."
                );
                return;
            }
            other if out.is_none() && !other.starts_with('-') => out = Some(PathBuf::from(other)),
            other => fail(&format!("unexpected argument {other:?}")),
        }
    }
    let Some(out) = out else {
        fail("no output folder given");
    };
    if let Err(e) = generate(&out, size, seed, only) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("gen-corpus: {message}");
    std::process::exit(2)
}

/// What `generate` writes: a corpus of every format, or one file.
#[derive(Clone, Copy)]
enum Only {
    Corpus,
    Snapshot,
    Plan,
}

fn generate(out: &Path, size: usize, seed: u64, only: Only) -> std::io::Result<()> {
    let mut rng = Rng(seed);
    let mut planted = Vec::new();
    let mut written = 0usize;
    if let Only::Snapshot = only {
        let rel = "aws-config/123456789012_Config_eu-central-1_ConfigSnapshot.json";
        let text = aws_config(&mut rng, size, 500, rel, &mut planted);
        write(out, rel, &text)?;
        written += text.len();
    } else if let Only::Plan = only {
        let rel = "terraform/plan.json";
        let text = terraform_plan(&mut rng, size, 500, rel, &mut planted);
        write(out, rel, &text)?;
        written += text.len();
    } else {
        // Shares of the corpus by format, as bytes: Kubernetes, Terraform, CloudFormation, ARM,
        // AWS Config.
        let shares = [0.30, 0.25, 0.15, 0.10, 0.20];
        let mut done = [0usize; 5];
        let mut n = 0usize;
        while written < size {
            // The format furthest behind its share gets the next unit.
            let kind = (0..5)
                .min_by(|&a, &b| {
                    let fa = done[a] as f64 / shares[a];
                    let fb = done[b] as f64 / shares[b];
                    fa.total_cmp(&fb)
                })
                .unwrap_or(0);
            n += 1;
            let plant = n.is_multiple_of(7);
            let mut files = Vec::new();
            match kind {
                0 => {
                    let rel = format!("k8s/team-{:03}/app-{n:05}.yaml", n % 97);
                    let text = kubernetes(&mut rng, n, plant, &rel, &mut planted);
                    files.push((rel, text));
                }
                1 => {
                    let dir = format!("terraform/stack-{:03}/module-{n:05}", n % 89);
                    terraform(&mut rng, n, plant, &dir, &mut files, &mut planted);
                }
                2 => {
                    let json = rng.chance(3);
                    let ext = if json { "json" } else { "yaml" };
                    let rel = format!("cloudformation/stack-{n:05}.{ext}");
                    files.push((rel, cloudformation(&mut rng, n, json)));
                }
                3 => {
                    let dir = format!("arm/deployment-{n:05}");
                    arm(&mut rng, n, plant, &dir, &mut files, &mut planted);
                }
                _ => {
                    let rel = format!(
                        "aws-config/{:012}_Config_eu-central-1_ConfigSnapshot_{n:05}.json",
                        100_000_000_000u64 + n as u64
                    );
                    let target = rng.range(200_000, 3_000_000).min(size / 5 + 1);
                    let text = aws_config(&mut rng, target, 97, &rel, &mut planted);
                    files.push((rel, text));
                }
            }
            for (rel, text) in files {
                write(out, &rel, &text)?;
                written += text.len();
                done[kind] += text.len();
            }
        }
    }
    let mut json = String::from("[\n");
    for (i, p) in planted.iter().enumerate() {
        let sep = if i + 1 < planted.len() { "," } else { "" };
        let column = p
            .column
            .map(|c| format!(", \"column\": {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            json,
            "  {{\"rule\": \"{}\", \"path\": \"{}\", \"line\": {}{column}}}{sep}",
            p.rule, p.path, p.line
        );
    }
    json.push_str("]\n");
    std::fs::write(out.join("planted.json"), json)?;
    eprintln!(
        "gen-corpus: {written} bytes, {} planted findings in {}",
        planted.len(),
        out.display()
    );
    Ok(())
}
