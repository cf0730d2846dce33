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

/// The resources of a document that stands alone (a Kubernetes object, an AWS Config record,
/// a Terraform plan), extracted as soon as its file is loaded so that its tree is freed at
/// once; `None` for formats whose values come from other files.
pub fn extract_standalone(
    doc: &Document,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Option<Vec<Resource>> {
    match doc.format {
        Format::Kubernetes => Some(kubernetes::extract(doc, kb)),
        Format::AwsConfig => Some(aws_config::extract(doc, kb)),
        Format::TerraformPlan => Some(terraform::plan::extract(doc, kb, options)),
        Format::Terraform | Format::Cloudformation | Format::Arm => None,
    }
}

/// Orders resources as reports list them: by file, document and address.
pub fn sort_resources(resources: &mut [Resource]) {
    // The order is sorted, then applied by swaps: a merge sort of the resources themselves
    // would hold a second copy of them all while it runs.
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.par_sort_by(|&a, &b| {
        let (a, b) = (&resources[a], &resources[b]);
        (&a.path, a.document, &a.address).cmp(&(&b.path, b.document, &b.address))
    });
    permute(resources, order);
}

/// Puts `items[order[i]]` at position `i` for every `i`, in place.
pub(crate) fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..order.len() {
        // Follow the cycle through `start`, marking each visited slot with its own index.
        let mut here = start;
        while order[here] != start {
            let from = order[here];
            items.swap(here, from);
            order[here] = here;
            here = from;
        }
        order[here] = here;
    }
}

/// The resources of every loaded document, with what was left out.
pub fn extract(documents: &[Document], kb: &KnowledgeBase, options: &ExtractOptions) -> Extracted {
    extract_settling(documents, kb, options, &|_| {})
}

/// `extract`, handing each format's resources to `settle` as soon as that format is extracted
/// (a scan evaluates them there and sheds their bodies while other formats are still read).
pub fn extract_settling(
    documents: &[Document],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
    settle: &(dyn Fn(&mut [Resource]) + Sync),
) -> Extracted {
    let settled = |mut resources: Vec<Resource>| {
        settle(&mut resources);
        resources
    };
    let of = |format: Format| -> Vec<&Document> {
        documents.iter().filter(|d| d.format == format).collect()
    };
    // Formats whose documents stand alone, one document at a time on every core.
    let each = |format: Format, extract: fn(&Document, &KnowledgeBase) -> Vec<Resource>| {
        settled(
            documents
                .par_iter()
                .filter(|d| d.format == format)
                .flat_map_iter(|d| extract(d, kb))
                .collect(),
        )
    };
    let kubernetes = || each(Format::Kubernetes, kubernetes::extract);
    let cloudformation = || {
        let mut templates = cloudformation::extract_all(&of(Format::Cloudformation), kb, options);
        templates.resources = settled(templates.resources);
        templates
    };
    let aws_config = || each(Format::AwsConfig, aws_config::extract);
    let arm = || {
        let (resources, not_created) = arm::extract_counted(&of(Format::Arm), kb, options);
        (settled(resources), not_created)
    };
    let terraform = || {
        let mut modules = terraform::extract(&of(Format::Terraform), kb, options);
        modules.resources = settled(modules.resources);
        modules
    };
    let plans = || -> Vec<Resource> {
        settled(
            of(Format::TerraformPlan)
                .par_iter()
                .flat_map_iter(|d| terraform::plan::extract(d, kb, options))
                .collect(),
        )
    };
    // Each format on its own, all at once: a format that is extracted on one thread (a single
    // large Terraform root) does not hold up the others.
    let (
        (mut resources, templates),
        (aws_config, ((arm_resources, arm_not_created), (terraform, plans))),
    ) = rayon::join(
        || rayon::join(kubernetes, cloudformation),
        || {
            rayon::join(aws_config, || {
                rayon::join(arm, || rayon::join(terraform, plans))
            })
        },
    );
    resources.extend(templates.resources);
    resources.extend(aws_config);
    resources.extend(arm_resources);
    resources.extend(terraform.resources);
    resources.extend(plans);
    sort_resources(&mut resources);
    Extracted {
        resources,
        not_created: templates.not_created + arm_not_created + terraform.not_created,
        skipped: terraform
            .unresolved
            .into_iter()
            .chain(templates.unresolved)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_order_is_applied_in_place() {
        for order in [
            vec![],
            vec![0],
            vec![1, 0],
            vec![2, 0, 1],
            vec![3, 1, 0, 2, 5, 4],
        ] {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            super::permute(&mut items, order.clone());
            let want: Vec<usize> = order.iter().map(|i| i * 10).collect();
            assert_eq!(items, want, "{order:?}");
        }
    }
}
