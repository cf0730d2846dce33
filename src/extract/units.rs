//! Units: the smallest groups of files whose documents must be extracted together.
//!
//! - A CloudFormation template stands alone once the parameter files are paired with it.
//! - An ARM template goes with its parameters file and the templates it links.
//! - A Terraform module folder goes with the folders its local module calls and its installed
//!   modules name, and with the folders that call it.
//!
//! A scan outlines each document of these formats while its file is loaded, drops the tree,
//! and reads the files of one unit again when it extracts that unit: the trees held at once
//! are those of the units being extracted, not those of the whole scan.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::arm_files::{ParameterFiles, is_parameters_file, linked_paths, normalize};
use super::terraform;
use crate::load::{Document, Format};

/// What grouping needs of one document, kept once its tree is dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outline {
    /// A Terraform file: the folders its local module calls name. (Its own folder is that of
    /// its path: one string per file would repeat it for every file of the folder.)
    Terraform {
        calls: Vec<String>,
    },
    Cloudformation,
    /// An ARM template, with the files it links to.
    ArmTemplate {
        links: Vec<PathBuf>,
    },
    ArmParameters,
}

impl Outline {
    pub fn format(&self) -> Format {
        match self {
            Outline::Terraform { .. } => Format::Terraform,
            Outline::Cloudformation => Format::Cloudformation,
            Outline::ArmTemplate { .. } | Outline::ArmParameters => Format::Arm,
        }
    }
}

/// The outline of a document whose values come from other files; `None` for documents that
/// stand alone.
pub fn outline(doc: &Document) -> Option<Outline> {
    match doc.format {
        Format::Terraform => {
            let calls = terraform::outline(doc);
            Some(Outline::Terraform { calls })
        }
        Format::Cloudformation => Some(Outline::Cloudformation),
        Format::Arm if is_parameters_file(&doc.root) => Some(Outline::ArmParameters),
        Format::Arm => Some(Outline::ArmTemplate {
            links: linked_paths(doc),
        }),
        Format::Kubernetes | Format::AwsConfig | Format::TerraformPlan => None,
    }
}

/// Files extracted together: indices into the outlined files, in their order, and the format
/// of the documents that belong to the unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub format: Format,
    pub files: Vec<usize>,
}

/// The units of outlined files, each file given by its path and its documents' outlines.
/// CloudFormation units come first, then ARM, then Terraform, each in the order of its first
/// file.
pub fn group(files: &[(&str, &[Outline])]) -> Vec<Unit> {
    let has = |outlines: &[Outline], format: Format| outlines.iter().any(|o| o.format() == format);
    let mut units: Vec<Unit> = files
        .iter()
        .enumerate()
        .filter(|(_, (_, outlines))| has(outlines, Format::Cloudformation))
        .map(|(i, _)| Unit {
            format: Format::Cloudformation,
            files: vec![i],
        })
        .collect();
    units.extend(arm_units(files));
    units.extend(terraform_units(files));
    units
}

/// ARM templates joined with the templates they link and their parameters files.
fn arm_units(files: &[(&str, &[Outline])]) -> Vec<Unit> {
    let mut templates: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut parameters: HashMap<&str, usize> = HashMap::new();
    for (i, (path, outlines)) in files.iter().enumerate() {
        for outline in outlines.iter() {
            match outline {
                Outline::ArmTemplate { .. } => {
                    templates.insert(normalize(Path::new(path)), i);
                }
                Outline::ArmParameters => {
                    parameters.insert(path, i);
                }
                _ => {}
            }
        }
    }
    let mut sets = Sets::new(files.len());
    let mut members: Vec<usize> = templates.values().copied().collect();
    let pairs = ParameterFiles::new(
        templates.values().map(|&i| files[i].0),
        parameters.keys().copied(),
    );
    for &i in templates.values() {
        let (path, outlines) = files[i];
        for outline in outlines.iter() {
            if let Outline::ArmTemplate { links } = outline {
                for link in links {
                    if let Some(&j) = templates.get(link) {
                        sets.join(i, j);
                    }
                }
            }
        }
        if let Some(&j) = pairs.of(path).and_then(|p| parameters.get(p)) {
            sets.join(i, j);
            members.push(j);
        }
    }
    // A parameters file paired with no template is read by no unit, as by no template.
    sets.units(Format::Arm, members.into_iter())
}

/// Terraform folders joined with the folders their local calls and installed modules name.
fn terraform_units(files: &[(&str, &[Outline])]) -> Vec<Unit> {
    let mut folders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (path, outlines)) in files.iter().enumerate() {
        for outline in outlines.iter() {
            if let Outline::Terraform { .. } = outline {
                folders
                    .entry(terraform::folder_of(path))
                    .or_default()
                    .push(i);
            }
        }
    }
    let mut sets = Sets::new(files.len());
    let first = |folder: &str| folders.get(folder).map(|files| files[0]);
    for (folder, members) in &folders {
        for &i in members {
            sets.join(members[0], i);
            for outline in files[i].1 {
                if let Outline::Terraform { calls, .. } = outline {
                    for j in calls.iter().filter_map(|c| first(c)) {
                        sets.join(i, j);
                    }
                }
            }
        }
        for (_, dir) in terraform::installed_modules(folder) {
            if let Some(j) = first(&dir) {
                sets.join(members[0], j);
            }
        }
    }
    sets.units(Format::Terraform, folders.values().flatten().copied())
}

/// Disjoint sets of file indices (union–find with path halving).
struct Sets {
    parent: Vec<usize>,
}

impl Sets {
    fn new(len: usize) -> Self {
        Sets {
            parent: (0..len).collect(),
        }
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        // The smaller index leads, so a unit is named by its first file.
        if a < b {
            self.parent[b] = a;
        } else {
            self.parent[a] = b;
        }
    }

    /// The sets of the given members, each in file order, ordered by their first file.
    fn units(mut self, format: Format, members: impl Iterator<Item = usize>) -> Vec<Unit> {
        let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in members {
            let root = self.root(i);
            by_root.entry(root).or_default().push(i);
        }
        by_root
            .into_values()
            .map(|mut files| {
                files.sort_unstable();
                files.dedup();
                Unit { format, files }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf(calls: &[&str]) -> Vec<Outline> {
        vec![Outline::Terraform {
            calls: calls.iter().map(|c| c.to_string()).collect(),
        }]
    }

    fn units_of(files: &[(&str, Vec<Outline>)]) -> Vec<Unit> {
        let view: Vec<(&str, &[Outline])> = files.iter().map(|(p, o)| (*p, o.as_slice())).collect();
        group(&view)
    }

    #[test]
    fn terraform_folders_join_through_local_calls_only() {
        let files = [
            ("live/a/main.tf", tf(&["modules/db"])),
            ("live/b/main.tf", tf(&[])),
            ("modules/db/main.tf", tf(&[])),
            ("./live/a/vars.tf", tf(&["nowhere"])),
            ("live/b/terraform.tfvars", tf(&[])),
        ];
        let units = units_of(&files);
        let files: Vec<Vec<usize>> = units.iter().map(|u| u.files.clone()).collect();
        assert_eq!(files, vec![vec![0, 2, 3], vec![1, 4]]);
        assert!(units.iter().all(|u| u.format == Format::Terraform));
    }

    #[test]
    fn arm_templates_join_links_and_their_parameters_file() {
        let template = |links: &[&str]| {
            vec![Outline::ArmTemplate {
                links: links.iter().map(PathBuf::from).collect(),
            }]
        };
        let files = [
            ("arm/main.json", template(&["arm/nested/storage.json"])),
            ("arm/nested/storage.json", template(&[])),
            ("arm/main.parameters.json", vec![Outline::ArmParameters]),
            ("other/vm.json", template(&[])),
            ("other/a.parameters.json", vec![Outline::ArmParameters]),
            ("other/b.parameters.json", vec![Outline::ArmParameters]),
        ];
        let units: Vec<Vec<usize>> = units_of(&files).into_iter().map(|u| u.files).collect();
        // Two parameters files beside one template pair with none of them.
        assert_eq!(units, vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn each_cloudformation_file_is_a_unit_of_its_own() {
        let files = [
            (
                "a.yaml",
                vec![Outline::Cloudformation, Outline::Cloudformation],
            ),
            ("b.yaml", vec![Outline::Cloudformation]),
        ];
        let units: Vec<Vec<usize>> = units_of(&files).into_iter().map(|u| u.files).collect();
        assert_eq!(units, vec![vec![0], vec![1]]);
    }
}
