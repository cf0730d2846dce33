//! Extraction: format trees into `Resource` facts. One module per format; everything after
//! this stage works on `Resource` only.

pub mod kubernetes;

use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format};
use crate::model::Resource;

/// Settings that change what extractors resolve.
#[derive(Clone, Debug, Default)]
pub struct ExtractOptions {
    /// Regions that region-agnostic templates are deployed to (`--deploy-region`).
    pub deploy_regions: Vec<String>,
}

/// The resources of one document.
pub fn resources(doc: &Document, kb: &KnowledgeBase, options: &ExtractOptions) -> Vec<Resource> {
    let _ = options;
    match doc.format {
        Format::Kubernetes => kubernetes::extract(doc, kb),
        Format::Terraform
        | Format::TerraformPlan
        | Format::Cloudformation
        | Format::Arm
        | Format::AwsConfig => Vec::new(),
    }
}
