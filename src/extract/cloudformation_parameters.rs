//! CloudFormation parameter files beside templates, each an environment of its template:
//! the CLI form `[{"ParameterKey": …, "ParameterValue": …}]` (`*.parameters.json`,
//! `parameters/*.json`), the CodePipeline form `{"Parameters": {"K": "V"}}`, and SAM's
//! `samconfig.toml` `parameter_overrides` (one environment per `[ENV.deploy.parameters]`).
//!
//! A file is paired with the template of the same stem (`orders.yaml` with
//! `orders.parameters.json` or `orders.prod.parameters.json`), else with the only template of
//! its folder (for `samconfig.toml`, `template.yaml` first); otherwise it is listed as not
//! paired.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

/// An environment's name and its values, in order.
pub type Environment = (String, Vec<(String, String)>);

/// One file of parameter values: one environment, or several (samconfig.toml).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParameterFile {
    pub path: String,
    /// (environment name, values in order).
    pub environments: Vec<Environment>,
}

/// Names that mark a parameter file: `*.parameters.json`, `parameters/*.json`,
/// `samconfig.toml`.
pub fn is_parameter_file_name(path: &str) -> bool {
    let p = Path::new(path);
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    name == "samconfig.toml"
        || name.ends_with(".parameters.json")
        || (name.ends_with(".json")
            && p.parent()
                .and_then(Path::file_name)
                .is_some_and(|d| d.eq_ignore_ascii_case("parameters")))
}

/// Reads a parameter file. `Ok(None)`: JSON of another kind (an ARM parameters file).
pub fn parse(path: &str, text: &str) -> Result<Option<ParameterFile>, (u32, u32, String)> {
    let name = file_name(path);
    if name.eq_ignore_ascii_case("samconfig.toml") {
        return samconfig(path, text).map(Some);
    }
    let value: serde_json::Value = match serde_json::from_str(text.trim_start_matches('\u{feff}')) {
        Ok(v) => v,
        Err(e) => {
            return Err((
                u32::try_from(e.line()).unwrap_or(0),
                u32::try_from(e.column()).unwrap_or(0),
                format!("parameters file: {e}"),
            ));
        }
    };
    let values: Option<Vec<(String, String)>> = match &value {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| {
                let key = item.get("ParameterKey")?.as_str()?;
                // `UsePreviousValue` entries have no value of their own: left out.
                Some(
                    item.get("ParameterValue")
                        .map(|v| (key.to_string(), text_of(v))),
                )
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect()),
        serde_json::Value::Object(map) if map.get("$schema").is_none() => map
            .get("Parameters")
            .and_then(serde_json::Value::as_object)
            .map(|p| p.iter().map(|(k, v)| (k.clone(), text_of(v))).collect()),
        _ => None,
    };
    Ok(values.map(|values| ParameterFile {
        path: path.to_string(),
        environments: vec![(name.to_string(), values)],
    }))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// `[ENV.deploy.parameters] parameter_overrides = "K=V K2=V2"` (or a list of `K=V`); the
/// `global` section's values apply to every environment.
fn samconfig(path: &str, text: &str) -> Result<ParameterFile, (u32, u32, String)> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = e
            .span()
            .map(|s| line_column(text, s.start))
            .unwrap_or((0, 0));
        (line, column, format!("samconfig.toml: {}", e.message()))
    })?;
    let overrides = |env: &toml::Value| -> Option<Vec<(String, String)>> {
        let params = env.get("deploy").and_then(|d| d.get("parameters"));
        let global = env.get("global").and_then(|d| d.get("parameters"));
        let value = params
            .and_then(|p| p.get("parameter_overrides"))
            .or_else(|| global.and_then(|p| p.get("parameter_overrides")))?;
        Some(match value {
            toml::Value::String(s) => split_overrides(s),
            toml::Value::Array(items) => items
                .iter()
                .filter_map(toml::Value::as_str)
                .flat_map(split_overrides)
                .collect(),
            _ => Vec::new(),
        })
    };
    let name = file_name(path);
    let environments = table
        .iter()
        .filter(|(k, v)| *k != "version" && v.is_table())
        .filter_map(|(env, v)| overrides(v).map(|o| (format!("{name} [{env}]"), o)))
        .collect();
    Ok(ParameterFile {
        path: path.to_string(),
        environments,
    })
}

fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (
        u32::try_from(line).unwrap_or(0),
        u32::try_from(column).unwrap_or(0),
    )
}

/// `Env=prod Region="eu west" Tag='a b'` into pairs; quotes group, as SAM reads them.
pub fn split_overrides(text: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            (None, c) => current.push(c),
        }
    }
    if any || !current.is_empty() {
        words.push(current);
    }
    words
        .into_iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            // `ParameterKey=Env,ParameterValue=prod`, the CLI's long form.
            if let Some(key) = k.strip_prefix("ParameterKey")
                && key.is_empty()
                && let Some((name, value)) = v.split_once(",ParameterValue=")
            {
                return Some((name.to_string(), value.to_string()));
            }
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The stem a template is paired by: `orders.yaml` → `orders`.
fn template_stem(path: &str) -> String {
    let name = file_name(path).to_ascii_lowercase();
    for ext in [".yaml", ".yml", ".json", ".template", ".gz"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return template_stem(stem);
        }
    }
    name
}

fn folder(path: &str) -> &str {
    match path.rfind(['/', '\\']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The folder of the templates a parameter file at `path` may belong to, and the stem of
/// the template it names.
fn templates_of(path: &str) -> (&str, String) {
    let name = file_name(path).to_ascii_lowercase();
    let dir = folder(path);
    if let Some(stem) = name.strip_suffix(".parameters.json") {
        (dir, stem.to_string())
    } else if name == "samconfig.toml" {
        (dir, "template".to_string())
    } else {
        // `parameters/prod.json`: the templates are one folder up.
        (folder(dir), name.trim_end_matches(".json").to_string())
    }
}

/// The folders whose templates a parameter file of a scan may belong to, known from the names
/// of the scan's files before any is read.
#[derive(Debug, Default)]
pub struct PairingFolders(HashSet<String>);

impl PairingFolders {
    /// From the paths of a scan's files, as their documents name them.
    pub fn new(paths: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        PairingFolders(
            paths
                .into_iter()
                .filter_map(|p| {
                    let p = p.as_ref();
                    let p = p.strip_suffix(".gz").unwrap_or(p);
                    is_parameter_file_name(p).then(|| templates_of(p).0.to_string())
                })
                .collect(),
        )
    }

    /// Whether a parameter file of the scan may belong to the template at `path`. A template
    /// no file may belong to stands alone as soon as it is loaded.
    pub fn may_pair(&self, template: &str) -> bool {
        self.0.contains(folder(template))
    }
}

/// The template of `templates` a parameter file belongs to, if one can be told.
pub fn pair<'t>(file: &ParameterFile, templates: &[&'t str]) -> Option<&'t str> {
    let (dir, stem) = templates_of(&file.path);
    let here: Vec<&'t str> = templates
        .iter()
        .copied()
        .filter(|t| folder(t) == dir)
        .collect();
    let same_stem = here.iter().copied().find(|t| {
        let t = template_stem(t);
        stem == t || stem.starts_with(&format!("{t}."))
    });
    same_stem.or(match here.as_slice() {
        [only] => Some(*only),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_and_codepipeline_forms() {
        let cli = r#"[{"ParameterKey": "Env", "ParameterValue": "prod"}, {"ParameterKey": "Old", "UsePreviousValue": true}]"#;
        let file = parse("a/orders.parameters.json", cli).unwrap().unwrap();
        assert_eq!(
            file.environments,
            [(
                "orders.parameters.json".to_string(),
                vec![("Env".to_string(), "prod".to_string())]
            )]
        );
        let pipeline = r#"{"Parameters": {"Env": "prod", "Count": 2}, "Tags": {}}"#;
        let file = parse("a/parameters/prod.json", pipeline).unwrap().unwrap();
        assert!(
            file.environments[0]
                .1
                .contains(&("Count".to_string(), "2".to_string()))
        );
        // An ARM parameters file is not one of these.
        let arm = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {}}"#;
        assert_eq!(parse("a/x.parameters.json", arm).unwrap(), None);
        assert!(parse("a/x.parameters.json", "[1,").is_err());
    }

    #[test]
    fn samconfig_environments() {
        let text = "version = 0.1\n[default.deploy.parameters]\nstack_name = \"app\"\nparameter_overrides = \"Env=dev Name=\\\"my app\\\"\"\n[prod.deploy.parameters]\nparameter_overrides = [\"Env=prod\", \"Region=eu-west-1\"]\n";
        let file = parse("sam/samconfig.toml", text).unwrap().unwrap();
        let envs: Vec<_> = file
            .environments
            .iter()
            .map(|(n, v)| (n.as_str(), v.len()))
            .collect();
        assert_eq!(
            envs,
            [
                ("samconfig.toml [default]", 2),
                ("samconfig.toml [prod]", 2)
            ]
        );
        assert_eq!(file.environments[0].1[1], ("Name".into(), "my app".into()));
        let bad = parse("samconfig.toml", "[x\n").unwrap_err();
        assert_eq!(bad.0, 1);
    }

    #[test]
    fn pairing_by_stem_or_only_template() {
        let file = |p: &str| ParameterFile {
            path: p.into(),
            environments: Vec::new(),
        };
        let templates = ["s/orders.yaml", "s/billing.yaml", "t/template.yaml"];
        assert_eq!(
            pair(&file("s/orders.prod.parameters.json"), &templates),
            Some("s/orders.yaml")
        );
        assert_eq!(pair(&file("s/other.parameters.json"), &templates), None);
        assert_eq!(
            pair(&file("t/parameters/prod.json"), &templates),
            Some("t/template.yaml")
        );
        assert_eq!(
            pair(&file("t/samconfig.toml"), &templates),
            Some("t/template.yaml")
        );
    }

    #[test]
    fn every_template_a_file_pairs_with_is_in_a_pairing_folder() {
        let paths = [
            "s/orders.yaml",
            "s/orders.prod.parameters.json",
            "t/template.yaml",
            "t/parameters/prod.json",
            "u/template.yaml",
            "u/samconfig.toml",
            "v/alone.yaml",
            "v/settings.json",
            "w/stack.yaml",
            "w/config/prod.json",
            "x/a.yaml",
            "x/a.parameters.json.gz",
        ];
        let folders = PairingFolders::new(paths);
        let as_set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        assert_eq!(folders.0, as_set(&["s", "t", "u", "x"]));
        assert!(folders.may_pair("t/template.yaml") && !folders.may_pair("v/alone.yaml"));
        let templates: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| p.ends_with(".yaml"))
            .collect();
        for path in paths.iter().filter(|p| is_parameter_file_name(p)) {
            let paired = pair(
                &ParameterFile {
                    path: path.to_string(),
                    environments: Vec::new(),
                },
                &templates,
            );
            let template = paired.unwrap_or_else(|| panic!("{path} pairs with no template"));
            assert!(folders.may_pair(template), "{path}: {template}");
        }
    }
}
