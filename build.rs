//! Embeds every rule file under `rules/` (except the knowledge base) into the binary.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "knowledge") {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rules_dir = manifest.join("rules");
    let version_file = rules_dir.join("knowledge/VERSION.yaml");
    let kb_version = fs::read_to_string(&version_file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("kb_version:"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SOVSCAN_KB_VERSION={kb_version}");
    println!("cargo:rerun-if-changed=rules");
    let mut files = Vec::new();
    collect(&rules_dir, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Rule files embedded at build time: (path under rules/, content).\npub static BUILTIN_RULES: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let rel = file
            .strip_prefix(&manifest)
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
    write_out("builtin_rules.rs", &code);

    let mut type_files = Vec::new();
    collect_all(&rules_dir.join("knowledge/resource_types"), &mut type_files);
    type_files.sort();
    let mut code = String::from(
        "/// Resource-type tables embedded at build time: (path, content).\nstatic RESOURCE_TYPE_FILES: &[(&str, &str)] = &[\n",
    );
    for file in &type_files {
        let rel = file
            .strip_prefix(&manifest)
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
    write_out("resource_type_files.rs", &code);
}

fn collect_all(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_all(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

fn write_out(name: &str, code: &str) {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join(name);
    if let Err(e) = fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
