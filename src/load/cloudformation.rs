//! CloudFormation detection for templates that do not say `AWSTemplateFormatVersion`.
//! SAM templates name a transform; others are known by the AWS types of their resources.

use crate::tree::Node;

/// A SAM or `AWS::LanguageExtensions` transform, or resources of AWS types (also inside
/// `Fn::ForEach` loops, whose third item holds the resource templates).
pub fn is_template_body(root: &Node) -> bool {
    let transform_is_aws = |n: &Node| n.as_str().is_some_and(|t| t.starts_with("AWS::"));
    if root
        .get("Transform")
        .is_some_and(|t| transform_is_aws(t) || t.items().iter().any(transform_is_aws))
    {
        return true;
    }
    let aws_type = |resource: &Node| {
        resource
            .get("Type")
            .and_then(Node::as_str)
            .is_some_and(|t| {
                t.starts_with("AWS::") || t.starts_with("Alexa::") || t.starts_with("Custom::")
            })
    };
    root.get("Resources").is_some_and(|resources| {
        resources.entries().iter().any(|e| {
            aws_type(&e.value)
                || (e.key.starts_with("Fn::ForEach::")
                    && e.value
                        .items()
                        .get(2)
                        .is_some_and(|body| body.entries().iter().any(|o| aws_type(&o.value))))
        })
    })
}
