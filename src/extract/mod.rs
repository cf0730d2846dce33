//! Extraction: format trees into `Resource` facts. One module per format; everything after
//! this stage works on `Resource` only.
//!
//! Kubernetes objects stand alone, so they are extracted per document. Formats whose values
//! come from other files (Terraform variables and providers of a module folder, ARM parameters
//! files) are extracted by unit: the files that must be seen together (see `units`).

pub mod alertmanager;
pub mod arm;
pub mod arm_expressions;
pub mod arm_files;
pub mod arm_outline;
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
pub mod units;

use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format, Skipped};
use crate::model::Resource;
use units::Outline;

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
    /// Put in each resource's tree the values the files give its expressions (a variable's
    /// default, a parameter's), as its facts read them: for rules that read the tree itself, a
    /// rule pack's data conditions (`facts::resolve_in_place`).
    pub resolve_trees: bool,
}

/// The resources of every loaded document, and how many were left out as never created.
#[derive(Debug, Default)]
pub struct Extracted {
    pub resources: Vec<Resource>,
    /// Resources a `count`, `for_each` or condition leaves out with the values the scan knows.
    pub not_created: usize,
    /// Parts of the configuration that could not be read (module calls not in the scan).
    pub skipped: Vec<Skipped>,
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

/// `extract_standalone` for a document dropped once its resources are out: a Kubernetes
/// object's tree is taken rather than copied, and left null. (A plan read from a file is
/// taken apart resource by resource: `terraform::plan::extract_each`.)
pub fn take_standalone(
    doc: &mut Document,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Option<Vec<Resource>> {
    match doc.format {
        Format::Kubernetes => Some(kubernetes::extract_taking(doc, kb)),
        _ => extract_standalone(doc, kb, options),
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

/// The resources of every loaded document, with what was left out: documents that stand
/// alone one at a time, the others unit by unit (see `units`), on every core.
pub fn extract(documents: &[Document], kb: &KnowledgeBase, options: &ExtractOptions) -> Extracted {
    let mut resources: Vec<Resource> = documents
        .par_iter()
        .flat_map_iter(|d| extract_standalone(d, kb, options).unwrap_or_default())
        .collect();
    // The documents of each file, with their outlines, in the order files first appear.
    let mut files: Vec<(&str, Vec<Outline>, Vec<&Document>)> = Vec::new();
    let mut file_at: HashMap<&str, usize> = HashMap::new();
    for doc in documents {
        let Some(outline) = units::outline(doc) else {
            continue;
        };
        let at = *file_at.entry(&doc.path).or_insert_with(|| {
            files.push((&doc.path, Vec::new(), Vec::new()));
            files.len() - 1
        });
        files[at].1.push(outline);
        files[at].2.push(doc);
    }
    let outlined: Vec<(&str, &[Outline])> = files
        .iter()
        .map(|(path, outlines, _)| (*path, outlines.as_slice()))
        .collect();
    let (done, unpaired) = by_unit(options, &outlined, |unit, pairing| {
        let docs: Vec<&Document> = unit
            .files
            .iter()
            .flat_map(|&i| files[i].2.iter().copied())
            .filter(|d| d.format == unit.format)
            .collect();
        extract_unit(unit.format, &docs, kb, options, pairing)
    });
    let mut out = Extracted {
        skipped: unpaired.into_iter().collect(),
        ..Default::default()
    };
    let mut skipped = BTreeSet::new();
    for mut one in done {
        resources.append(&mut one.resources);
        out.not_created += one.not_created;
        skipped.append(&mut one.unresolved);
    }
    out.skipped.extend(skipped);
    out.skipped.sort();
    sort_resources(&mut resources);
    out.resources = resources;
    out
}

/// Runs `each` on every unit of the outlined files (see `units::group`), on every core, with
/// the CloudFormation parameter files paired; returns its results, and the parameter files
/// paired with no template.
pub fn by_unit<T: Send>(
    options: &ExtractOptions,
    outlined: &[(&str, &[Outline])],
    each: impl Fn(&units::Unit, &Pairing) -> T + Sync,
) -> (Vec<T>, Vec<Skipped>) {
    let (pairing, unpaired) = Pairing::new(options, outlined);
    let done = units::group(outlined)
        .par_iter()
        .map(|unit| each(unit, &pairing))
        .collect();
    (done, unpaired)
}

/// CloudFormation parameter files paired with the scan's templates, and the values
/// `--parameter-file` and `--parameter` give every template.
pub struct Pairing<'p> {
    environments: BTreeMap<&'p str, Vec<cloudformation_parameters::Environment>>,
    given: Vec<(String, String)>,
}

impl<'p> Pairing<'p> {
    /// Pairs the parameter files of `options` with the CloudFormation templates among the
    /// outlined files; returns the files paired with no template, too.
    pub fn new(options: &ExtractOptions, files: &[(&'p str, &[Outline])]) -> (Self, Vec<Skipped>) {
        let templates: Vec<&str> = files
            .iter()
            .filter(|(_, outlines)| outlines.contains(&Outline::Cloudformation))
            .map(|(path, _)| *path)
            .collect();
        let (environments, unpaired) = cloudformation::environments(options, &templates);
        let given = cloudformation::given_values(options);
        (
            Pairing {
                environments,
                given,
            },
            unpaired.into_iter().collect(),
        )
    }
}

/// The resources of one unit: its documents of `format`, in file order.
pub fn extract_unit(
    format: Format,
    docs: &[&Document],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
    pairing: &Pairing,
) -> terraform::Extracted {
    match format {
        Format::Cloudformation => {
            let mut all = terraform::Extracted::default();
            for doc in docs {
                let environments = pairing.environments.get(&*doc.path).map(Vec::as_slice);
                let mut one = cloudformation::extract_environments(
                    doc,
                    environments,
                    &pairing.given,
                    kb,
                    options,
                );
                all.resources.append(&mut one.resources);
                all.not_created += one.not_created;
            }
            all
        }
        Format::Arm => {
            let (resources, not_created) = arm::extract_counted(docs, kb, options);
            terraform::Extracted {
                resources,
                not_created,
                ..Default::default()
            }
        }
        Format::Terraform => terraform::extract(docs, kb, options),
        Format::Kubernetes | Format::AwsConfig | Format::TerraformPlan => {
            let resources = docs
                .iter()
                .flat_map(|d| extract_standalone(d, kb, options).unwrap_or_default())
                .collect();
            terraform::Extracted {
                resources,
                ..Default::default()
            }
        }
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
