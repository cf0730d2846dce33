//! CloudFormation and SAM templates (YAML with short tags, or JSON) into resources: one per
//! logical id, `Fn::ForEach` loops expanded where their collection is literal.
//!
//! A template never names its own region (`AWS::Region` is the stack's): unless `--deploy-region`
//! says, every resource's region is unresolved, blocked by the template as one source.

use super::ExtractOptions;
use super::cloud_resource::{self, Identity};
use super::cloudformation_intrinsics::Scope;
use super::cloudformation_parameters::Environment;
use super::terraform::Extracted as TerraformExtracted;
use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format, Skipped};
use crate::location::Location;
use crate::model::Resource;
use crate::tree::{Node, Route, Span};
use std::collections::{BTreeMap, BTreeSet};

const MAX_LOOP_DEPTH: usize = 5;

/// One resource declaration found in `Resources`.
struct Declared<'a> {
    logical_id: String,
    key_span: Span,
    node: &'a Node,
    route: Route,
}

/// `--parameter-file` values for every template, then `--parameter` over them.
pub fn given_values(options: &ExtractOptions) -> Vec<(String, String)> {
    options
        .given_parameter_files
        .iter()
        .filter_map(|f| {
            f.environments
                .iter()
                .find(|(name, _)| name.ends_with("[default]"))
                .or(f.environments.first())
        })
        .flat_map(|(_, values)| values.iter().cloned())
        .chain(options.parameters.iter().cloned())
        .collect()
}

/// The environments of each template at `paths` (the parameter files found beside it, when
/// none is given with `--parameter-file`), and the parameter files paired with no template.
pub fn environments<'p>(
    options: &ExtractOptions,
    paths: &[&'p str],
) -> (BTreeMap<&'p str, Vec<Environment>>, BTreeSet<Skipped>) {
    use super::cloudformation_parameters::pair;
    let mut environments: BTreeMap<&str, Vec<Environment>> = BTreeMap::new();
    let mut unresolved = BTreeSet::new();
    if options.given_parameter_files.is_empty() {
        for file in &options.parameter_files {
            match pair(file, paths) {
                Some(template) => environments
                    .entry(template)
                    .or_default()
                    .extend(file.environments.iter().cloned()),
                None => {
                    unresolved.insert(Skipped {
                        path: file.path.clone(),
                        reason: "CloudFormation parameters file paired with no template: name it after its template (`NAME.parameters.json` beside `NAME.yaml`), keep one template in its folder, or pass it with --parameter-file".into(),
                    });
                }
            }
        }
    }
    (environments, unresolved)
}

/// One template's resources: with `given` values when it has no environments of its own,
/// else once per environment and once with its defaults, merged.
pub fn extract_environments(
    doc: &Document,
    environments: Option<&[Environment]>,
    given: &[(String, String)],
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> TerraformExtracted {
    let with = |values: &[(String, String)]| ExtractOptions {
        parameters: values.iter().chain(given).cloned().collect(),
        ..options.clone()
    };
    let mut one = TerraformExtracted::default();
    match environments {
        None => {
            let (found, left_out) = extract_counted(doc, kb, &with(&[]));
            one.resources = found;
            one.not_created = left_out;
        }
        Some(envs) => {
            // The template's defaults are one more environment, so what only a
            // parameters file creates is named with it.
            let mut runs = Vec::new();
            for (name, values) in
                std::iter::once(&("template defaults".to_string(), Vec::new())).chain(envs)
            {
                let (resources, not_created) = extract_counted(doc, kb, &with(values));
                runs.push((
                    name.clone(),
                    TerraformExtracted {
                        resources,
                        not_created,
                        ..Default::default()
                    },
                ));
            }
            super::terraform::merge_environments(runs, &mut one);
        }
    }
    one
}

pub fn extract(doc: &Document, kb: &KnowledgeBase, options: &ExtractOptions) -> Vec<Resource> {
    extract_counted(doc, kb, options).0
}

/// The template's resources, and how many its conditions leave out with the parameter
/// defaults. A resource whose `Condition` cannot be decided is kept with the note
/// `if <condition>`.
pub fn extract_counted(
    doc: &Document,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> (Vec<Resource>, usize) {
    let root = &doc.root;
    let Some(resources_entry) = root.entry("Resources") else {
        return (Vec::new(), 0);
    };
    let template = Location::new(
        &doc.path,
        doc.index,
        resources_entry.key_span,
        &Route::root().key("Resources"),
    );
    let scope = Scope {
        parameters: root.get("Parameters"),
        mappings: root.get("Mappings"),
        conditions: root.get("Conditions"),
        given: &options.parameters,
        deploy_region: cloud_resource::deploy_region_for("aws", &options.deploy_regions, kb),
        values: Default::default(),
        template: Some((&doc.path, doc.index)),
        origin: Default::default(),
    };
    let mut declared = Vec::new();
    for entry in resources_entry.value.entries() {
        let route = Route::root().key("Resources").key(&entry.key);
        if entry.key.starts_with("Fn::ForEach::") {
            expand_loop(&entry.value, &route, &scope, &[], 0, &mut declared);
        } else {
            declared.push(Declared {
                logical_id: entry.key.clone(),
                key_span: entry.key_span,
                node: &entry.value,
                route,
            });
        }
    }
    let mut not_created = 0;
    let mut out = Vec::new();
    for d in declared {
        let condition = d.node.get("Condition").map(|c| {
            let route = d.route.key("Condition");
            let name = c.scalar_text().unwrap_or_default();
            (
                scope.condition(&name),
                name,
                Location::of_node(&doc.path, doc.index, c, &route),
            )
        });
        if matches!(condition, Some((Some(false), _, _))) {
            not_created += 1;
            continue;
        }
        if let Some(mut resource) = resource(doc, d, &template, &scope, kb, options) {
            if let Some((None, name, location)) = condition {
                resource.note_created_if(format!("if {name}"), location);
            }
            out.push(resource);
        }
    }
    (out, not_created)
}

/// `Fn::ForEach::Name: [Identifier, Collection, {OutputKey: Template}]`; loops may nest.
fn expand_loop<'a>(
    node: &'a Node,
    route: &Route,
    scope: &Scope,
    outer: &[(String, String)],
    depth: usize,
    out: &mut Vec<Declared<'a>>,
) {
    let [identifier, collection, body] = node.items() else {
        return;
    };
    if depth >= MAX_LOOP_DEPTH {
        return;
    }
    let Some(identifier) = identifier.as_str() else {
        return;
    };
    // An unknown collection still shows the resources, named by their key template.
    let values: Vec<Option<String>> = match scope.resolve(collection) {
        Some(list) if !list.items().is_empty() => list
            .items()
            .iter()
            .map(|v| scope.resolve(v).and_then(|v| v.scalar_text()))
            .collect(),
        _ => vec![None],
    };
    let body_route = route.index(2);
    for value in values {
        let mut bindings = outer.to_vec();
        if let Some(v) = value {
            bindings.push((identifier.to_string(), v));
        }
        for entry in body.entries() {
            let entry_route = body_route.key(&entry.key);
            if entry.key.starts_with("Fn::ForEach::") {
                expand_loop(&entry.value, &entry_route, scope, &bindings, depth + 1, out);
            } else {
                out.push(Declared {
                    logical_id: bind(&entry.key, &bindings),
                    key_span: entry.key_span,
                    node: &entry.value,
                    route: entry_route,
                });
            }
        }
    }
}

/// Replaces `${Id}` and `&{Id}` (the alphanumeric-only form) in an output key.
fn bind(key: &str, bindings: &[(String, String)]) -> String {
    let mut out = key.to_string();
    for (identifier, value) in bindings {
        let alphanumeric: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
        out = out
            .replace(&format!("${{{identifier}}}"), value)
            .replace(&format!("&{{{identifier}}}"), &alphanumeric);
    }
    out
}

fn resource(
    doc: &Document,
    declared: Declared,
    template: &Location,
    scope: &Scope,
    kb: &KnowledgeBase,
    options: &ExtractOptions,
) -> Option<Resource> {
    let kind = declared.node.get("Type")?.as_str()?.to_string();
    // The resource starts at its logical id, not at its first property.
    let mut body = declared.node.clone();
    body.span.start = declared.key_span.start;
    let id = Identity {
        kind,
        name: declared.logical_id.clone(),
        address: declared.logical_id,
        default_provider: "aws",
    };
    let mut resource =
        cloud_resource::resource(doc, Format::Cloudformation, id, body, declared.route, kb);
    resource.labels = cloud_resource::tags(declared.node.path("Properties.Tags"));
    if kb.services.of(&resource).is_some_and(|s| s.global) {
        // IAM, Organizations: no region of their own.
        read_facts(&mut resource, kb, scope, options);
        return Some(resource);
    }
    resource.region = cloud_resource::deploy_region("aws", &options.deploy_regions, template, kb);
    if resource.region.is_none() {
        resource.unresolved_region =
            Some(cloud_resource::unresolved("AWS::Region", template.clone()));
    }
    read_facts(&mut resource, kb, scope, options);
    Some(resource)
}

/// The facts of a resource, read through the template's parameters and conditions; its tree
/// too when the options ask for it (`ExtractOptions::resolve_trees`).
fn read_facts(
    resource: &mut Resource,
    kb: &KnowledgeBase,
    scope: &Scope,
    options: &ExtractOptions,
) {
    cloud_resource::read_facts(resource, kb, &|n| scope.resolution(n));
    if options.resolve_trees {
        super::facts::resolve_in_place(&mut resource.body, &|n| scope.resolution(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    fn extract_text(name: &str, text: &str, deploy: &[&str]) -> Vec<Resource> {
        let outcome = load_bytes(name, text.as_bytes());
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let kb = crate::knowledge::get().unwrap();
        let options = ExtractOptions {
            deploy_regions: deploy.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        outcome
            .documents
            .iter()
            .flat_map(|d| extract(d, kb, &options))
            .collect()
    }

    #[test]
    fn resources_with_lines_and_template_blocker() {
        let text = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags: [{Key: data-classification, Value: personal}]\n  Fn::ForEach::Queues:\n    - Name\n    - [A, B]\n    - Queue${Name}:\n        Type: AWS::SQS::Queue\n";
        let found = extract_text("t.yaml", text, &[]);
        let names: Vec<_> = found
            .iter()
            .map(|r| (r.name.as_str(), r.start().start_line))
            .collect();
        assert_eq!(names, [("Logs", 3), ("QueueA", 10), ("QueueB", 10)]);
        assert_eq!(found[0].label("data-classification"), Some("personal"));
        let blocker = found[0].unresolved_region.as_ref().unwrap();
        assert_eq!(
            (blocker.blocker.as_str(), blocker.location.start_line),
            ("AWS::Region", 2)
        );
        assert!(found[0].region.is_none());
    }

    #[test]
    fn deploy_region_resolves_and_json_templates_load() {
        let text = "{\"Resources\": {\n \"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}";
        let found = extract_text("t.json", text, &["westeurope", "us-east-1"]);
        let region = found[0].region.as_ref().unwrap();
        assert_eq!(region.value, "us-east-1");
        assert!(region.inherited && region.resolved.is_some());
        assert_eq!(found[0].start().start_line, 2);
    }

    #[test]
    fn facts_come_from_the_type_table() {
        let text = "Parameters:\n  Encrypt: {Type: String, Default: 'false'}\nResources:\n  Site:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      StorageEncrypted: !Ref Encrypt\n  Global:\n    Type: AWS::DynamoDB::GlobalTable\n    Properties:\n      Replicas:\n        - Region: eu-west-1\n        - Region: us-east-1\n";
        let found = extract_text("t.yaml", text, &[]);
        let public = found[0].fact("public").unwrap();
        assert_eq!(
            (public.value.as_bool(), public.location.start_line),
            (Some(true), 7)
        );
        let encrypted = found[1].fact("encrypted").unwrap();
        assert_eq!(
            (encrypted.value.as_bool(), encrypted.location.start_line),
            (Some(false), 11)
        );
        let replicas = found[2].fact("replica_regions").unwrap();
        let regions: Vec<_> = replicas
            .value
            .items()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        assert_eq!(regions, ["eu-west-1", "us-east-1"]);
    }
}
