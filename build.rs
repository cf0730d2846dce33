//! Embeds the rule files under `rules/` and the resource-type tables under
//! `rules/knowledge/services/` into the binary, with the knowledge files in JSON form (read at
//! start-up without a YAML parser), and exports the knowledge-base version.

use std::fs;
use std::path::{Path, PathBuf};

/// YAML files below `dir`, sorted; folders named in `skip` are not entered.
fn yaml_files(dir: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path
                    .file_name()
                    .is_some_and(|n| skip.iter().any(|s| n == *s))
                {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A Rust static listing `(path relative to the crate, content)` of each file.
fn embed(name: &str, doc: &str, files: &[PathBuf], manifest: &Path) -> String {
    let mut code = format!("/// {doc}\npub static {name}: &[(&str, &str)] = &[\n");
    for file in files {
        let rel = file
            .strip_prefix(manifest)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            file.to_string_lossy()
        ));
        println!("cargo:rerun-if-changed={}", file.display());
    }
    code.push_str("];\n");
    code
}

/// The JSON form of a YAML file: read at start-up many times faster than the YAML. `None` when
/// the file holds something JSON cannot say; the YAML is read at run time then.
fn json_form(text: &str) -> Option<String> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    let value: serde_json::Value = serde_saphyr::from_str_with_options(text, options).ok()?;
    serde_json::to_string(&value).ok()
}

/// A Rust static listing `(path relative to the crate, JSON form)` of each file that has one.
fn embed_json(name: &str, doc: &str, files: &[PathBuf], manifest: &Path) -> String {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let mut code = format!("/// {doc}\npub static {name}: &[(&str, &str)] = &[\n");
    for (i, file) in files.iter().enumerate() {
        let rel = file
            .strip_prefix(manifest)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let Some(json) = fs::read_to_string(file).ok().and_then(|t| json_form(&t)) else {
            continue;
        };
        let target = out_dir.join(format!("{name}-{i}.json"));
        if let Err(e) = fs::write(&target, json) {
            panic!("cannot write {}: {e}", target.display());
        }
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            target.to_string_lossy()
        ));
    }
    code.push_str("];\n");
    code
}

fn write_out(name: &str, code: &str) {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join(name);
    if let Err(e) = fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rules_dir = manifest.join("rules");
    let kb_version = fs::read_to_string(rules_dir.join("knowledge/VERSION.yaml"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("kb_version:"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SOVSCAN_KB_VERSION={kb_version}");
    println!("cargo:rerun-if-changed=rules");
    let rules = yaml_files(&rules_dir, &["knowledge"]);
    write_out(
        "builtin_rules.rs",
        &embed(
            "BUILTIN_RULES",
            "Rule files embedded at build time: (path, content).",
            &rules,
            &manifest,
        ),
    );
    write_out(
        "builtin_rules_json.rs",
        &embed_json(
            "BUILTIN_RULES_JSON",
            "Rule files in JSON form, converted at build time: (path, JSON).",
            &rules,
            &manifest,
        ),
    );
    let services = yaml_files(&rules_dir.join("knowledge/services"), &[]);
    write_out(
        "service_files.rs",
        &embed(
            "SERVICE_FILES",
            "Service knowledge embedded at build time: (path, content).",
            &services,
            &manifest,
        ),
    );
    let mut knowledge = yaml_files(&rules_dir.join("knowledge"), &["services"]);
    knowledge.extend(services);
    write_out(
        "knowledge_json.rs",
        &embed_json(
            "KNOWLEDGE_JSON",
            "The knowledge files in JSON form, converted at build time: (path, JSON).",
            &knowledge,
            &manifest,
        ),
    );
}
