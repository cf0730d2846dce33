//! Modules `terraform init` installed: `.terraform/modules/modules.json` beside a root module
//! names each call's folder (`Key` `vpc` or `vpc.subnets`, `Dir` relative to the root), so
//! registry and git modules are scanned as the configuration would deploy them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::local_target;
use crate::load::{self, Document};

#[derive(Deserialize)]
struct Manifest {
    #[serde(rename = "Modules", default)]
    modules: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "Key", default)]
    key: String,
    #[serde(rename = "Dir", default)]
    dir: String,
}

/// Installed module folders by (root folder, call key), and their loaded files.
#[derive(Default)]
pub struct Installed {
    pub dirs: BTreeMap<(String, String), String>,
    pub documents: Vec<Document>,
}

/// Reads the manifests of the given folders and loads the `.tf`/`.tf.json` files of each
/// installed module folder that is not scanned already.
pub fn read<'f>(folders: impl Iterator<Item = &'f str>, scanned: &[&str]) -> Installed {
    let mut installed = Installed::default();
    let mut loaded: Vec<String> = scanned.iter().map(|s| (*s).to_string()).collect();
    for folder in folders {
        for (key, dir) in manifest(folder) {
            if !loaded.contains(&dir) {
                load_folder(&dir, &mut installed.documents);
                loaded.push(dir.clone());
            }
            installed.dirs.insert((folder.to_string(), key), dir);
        }
    }
    installed
}

/// The module folders `terraform init` installed for a folder, by call key, as its
/// `.terraform/modules/modules.json` names them; none without a readable manifest.
pub fn manifest(folder: &str) -> Vec<(String, String)> {
    let base = if folder.is_empty() { "." } else { folder };
    let path = Path::new(base).join(".terraform/modules/modules.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    let Ok(manifest) = serde_json::from_str::<Manifest>(&text) else {
        return Vec::new();
    };
    manifest
        .modules
        .into_iter()
        .filter(|entry| !entry.key.is_empty() && !entry.dir.is_empty())
        .filter_map(|entry| {
            let dir = local_target(folder, &format!("./{}", entry.dir))?;
            Some((entry.key, dir))
        })
        .collect()
}

fn load_folder(dir: &str, documents: &mut Vec<Document>) {
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return;
    };
    let mut files: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| {
            [".tf", ".tf.json", ".tofu", ".tofu.json"]
                .iter()
                .any(|end| n.ends_with(end))
        })
        .collect();
    // OpenTofu reads `x.tofu` in place of `x.tf` (and `x.tofu.json` of `x.tf.json`).
    let tofu: std::collections::HashSet<String> = files
        .iter()
        .filter(|n| crate::load::walk::is_opentofu(n))
        .cloned()
        .collect();
    files.retain(|n| {
        !crate::load::walk::opentofu_in_place_of(n).is_some_and(|other| tofu.contains(&other))
    });
    files.sort();
    for name in files {
        let path = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        documents.extend(load::load_file(Path::new(&path)).documents);
    }
}
