//! Extraction: format trees into `Resource` facts. One module per format; everything after
//! this stage works on `Resource` only.
//!
//! Kubernetes objects stand alone, so they are extracted per document. Formats whose values
//! come from other files (Terraform variables and providers of a module folder, ARM parameters
//! files) receive all documents of their format at once and group them themselves.

pub mod arm;
pub mod arm_expressions;
pub mod arm_files;
pub mod arm_scope;
pub mod aws_config;
pub mod cloud;
pub mod cloud_resource;
pub mod cloudformation;
pub mod cloudformation_intrinsics;
pub mod cloudformation_parameters;
pub mod fact_values;
pub mod facts;
pub mod kubernetes;
pub mod terraform;

use rayon::prelude::*;

use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format};
use crate::model::Resource;

/// Settings that change what extractors resolve.
#[derive(Clone, Debug, Default)]
pub struct ExtractOptions {
    /// Regions that region-agnostic templates are deployed to (`--deploy-region`).
    pub deploy_regions: Vec<String>,
    /// Terraform variable files given with `--var-file`, applied to every root module in
    /// order; without them each `*.tfvars` other than `terraform.tfvars`/`*.auto.tfvars` is
    /// an environment of its own.
    pub var_files: Vec<String>,
    /// CloudFormation parameter values (`--parameter Key=Value`), over the defaults.
    pub parameters: Vec<(String, String)>,
    /// CloudFormation parameter files found beside templates: environments of their template.
    pub parameter_files: Vec<cloudformation_parameters::ParameterFile>,
    /// CloudFormation parameter files given with `--parameter-file`: applied to every
    /// template, in order, under `parameters`; the files beside templates are then not used.
    pub given_parameter_files: Vec<cloudformation_parameters::ParameterFile>,
}

/// The resources of every loaded document, and how many were left out as never created.
#[derive(Debug, Default)]
pub struct Extracted {
    pub resources: Vec<Resource>,
    /// Resources a `count`, `for_each` or condition leaves out with the values the scan knows.
    pub not_created: usize,
    /// Parts of the configuration that could not be read (module calls not in the scan).
    pub skipped: Vec<crate::load::Skipped>,
}

/// The resources of every loaded document.
pub fn extract_all(
    documents: &[Document],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Vec<Resource> {
    extract(documents, kb, options).resources
}

/// The resources of every loaded document, with what was left out.
pub fn extract(documents: &[Document], kb: &KnowledgeBase, options: &ExtractOptions) -> Extracted {
    let of = |format: Format| -> Vec<&Document> {
        documents.iter().filter(|d| d.format == format).collect()
    };
    let mut resources: Vec<Resource> = documents
        .par_iter()
        .filter(|d| d.format == Format::Kubernetes)
        .flat_map_iter(|d| kubernetes::extract(d, kb))
        .collect();
    let templates = cloudformation::extract_all(&of(Format::Cloudformation), kb, options);
    resources.extend(templates.resources);
    let mut not_created = templates.not_created;
    resources.par_extend(
        documents
            .par_iter()
            .filter(|d| d.format == Format::AwsConfig)
            .flat_map_iter(|d| aws_config::extract(d, kb)),
    );
    let (arm_resources, arm_not_created) = arm::extract_counted(&of(Format::Arm), kb, options);
    resources.extend(arm_resources);
    not_created += arm_not_created;
    let terraform = terraform::extract(&of(Format::Terraform), kb, options);
    resources.extend(terraform.resources);
    let plans = of(Format::TerraformPlan);
    resources.extend(
        plans
            .par_iter()
            .flat_map_iter(|d| terraform::plan::extract(d, kb, options))
            .collect::<Vec<_>>(),
    );
    resources
        .sort_by(|a, b| (&a.path, a.document, &a.address).cmp(&(&b.path, b.document, &b.address)));
    Extracted {
        resources,
        not_created: not_created + terraform.not_created,
        skipped: terraform
            .unresolved
            .into_iter()
            .chain(templates.unresolved)
            .collect(),
    }
}
