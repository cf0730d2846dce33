//! An ARM file outlined from its text, without a tree: what `units::outline` reads of a parsed
//! ARM document (whether it is a parameters file, and the files a template links to), found in
//! one pass of `serde_json` over the text. A scan then parses the file once, with its unit.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::arm_files::{normalize, target};
use super::units::Outline;

/// The outline of an ARM template or parameters file, as `units::outline` gives it for the
/// parsed document, or `None`; then the file is parsed as it is loaded, as any other. `None`
/// when the text is not plain JSON (comments, trailing commas, nesting past `serde_json`'s
/// limit), when its root is not an object whose `$schema` names a deployment template or
/// parameters file, when the root has a key CloudFormation is recognised by (the loader tries
/// it first), when a key is written with escapes, or when a key the outline reads is written
/// twice in one object.
pub fn outline_text(path: &str, text: &str) -> Option<Outline> {
    // Other JSON is not walked: an ARM `$schema` names a `deploymentTemplate` or
    // `deploymentParameters` file (one spelled otherwise is left to the parser).
    if !text.contains("\"$schema\"") || !text.contains("eployment") {
        return None;
    }
    let mut found = Found::default();
    let mut json = serde_json::Deserializer::from_str(text);
    let walk = Walk {
        found: &mut found,
        role: Role::Root,
    };
    walk.deserialize(&mut json).ok()?;
    json.end().ok()?;
    if found.unsure || !found.object {
        return None;
    }
    let schema = found.schema?.to_ascii_lowercase();
    if !(schema.contains("deploymenttemplate") || schema.contains("deploymentparameters")) {
        return None;
    }
    if schema.contains("deploymentparameters") {
        return Some(Outline::ArmParameters);
    }
    let folder = Path::new(path).parent().unwrap_or(Path::new(""));
    let links = found
        .targets
        .iter()
        .map(|t| normalize(&folder.join(t)))
        .collect();
    Some(Outline::ArmTemplate { links })
}

/// What the pass found.
#[derive(Default)]
struct Found {
    /// The root is an object.
    object: bool,
    /// The root's `$schema`, when it is a string.
    schema: Option<String>,
    /// The targets of the `templateLink` objects, in the order `arm_files::linked_paths`
    /// finds them.
    targets: Vec<String>,
    /// The text cannot be outlined without the parser's reading of it.
    unsure: bool,
}

/// What a value is to the outline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The document.
    Root,
    /// The value of a `templateLink` key.
    Link,
    /// A string wanted as it is: the root's `$schema`, a link's `relativePath` or `uri`.
    Text,
    /// Anything else, walked for the links below it.
    Other,
}

/// Walks a value; gives its text when it is a string its role wants, or its target when it is
/// a link's object.
struct Walk<'f> {
    found: &'f mut Found,
    role: Role,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok((self.role == Role::Text).then(|| text.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        while items
            .next_element_seed(Walk {
                found: &mut *self.found,
                role: Role::Other,
            })?
            .is_some()
        {}
        Ok(None)
    }

    /// An object: its own link's target, when it is a `templateLink`'s value, is given back
    /// to the object holding the key, which lists it before the links found inside it, as
    /// `arm_files::linked_paths` does (a node's link, then its children's).
    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
        let role = self.role;
        let found = self.found;
        if role == Role::Root {
            found.object = true;
        }
        // Where this object's own link goes: before those of everything inside it.
        let first = found.targets.len();
        // The keys this object's outline reads, each to be written once.
        let (mut link, mut relative, mut uri, mut schema) = (None, None, None, None);
        let mut twice = false;
        while let Some(key) = entries.next_key_seed(Key)? {
            // A key with escapes may be read otherwise by the parser: leave it to the parser.
            found.unsure |= matches!(key, Cow::Owned(_));
            let wanted = match (&*key, role) {
                ("templateLink", _) => Role::Link,
                ("relativePath" | "uri", Role::Link) | ("$schema", Role::Root) => Role::Text,
                ("AWSTemplateFormatVersion" | "Transform" | "Resources", Role::Root) => {
                    // CloudFormation is recognised before ARM.
                    found.unsure = true;
                    Role::Other
                }
                _ => Role::Other,
            };
            let value = entries.next_value_seed(Walk {
                found: &mut *found,
                role: wanted,
            })?;
            let slot = match (wanted, &*key) {
                (Role::Link, _) => &mut link,
                (Role::Text, "relativePath") => &mut relative,
                (Role::Text, "uri") => &mut uri,
                (Role::Text, _) => &mut schema,
                _ => continue,
            };
            twice |= slot.is_some();
            *slot = Some(value);
        }
        found.unsure |= twice;
        if role == Role::Root {
            found.schema = schema.flatten();
        }
        if let Some(target) = link.flatten() {
            found.targets.insert(first, target);
        }
        Ok(match role {
            Role::Link => target(relative.flatten().as_deref(), uri.flatten().as_deref()),
            _ => None,
        })
    }
}

/// An object's key, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Format;

    /// The outline from the text is the one `units::outline` reads from the parsed document.
    fn same_as_parsed(path: &str, text: &str) -> Option<Outline> {
        let ours = outline_text(path, text);
        if let Some(ours) = &ours {
            // Loaded as a file that is parsed as it loads: one ARM document, with no problem.
            let loaded = crate::load::load_bytes(path, text.as_bytes());
            assert!(loaded.error.is_none() && loaded.skipped.is_none(), "{text}");
            let formats: Vec<Format> = loaded.documents.iter().map(|d| d.format).collect();
            assert_eq!(formats, [Format::Arm], "{text}");
            let outline = crate::extract::units::outline(&loaded.documents[0]);
            assert_eq!(Some(ours), outline.as_ref());
        }
        ours
    }

    #[test]
    fn templates_parameters_and_their_links_are_outlined_as_from_the_tree() {
        let template = r#"{
          "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
          "contentVersion": "1.0.0.0",
          "resources": [
            {"type": "Microsoft.Resources/deployments", "name": "net",
             "properties": {"templateLink": {"relativePath": "nested/network.json"}}},
            {"type": "Microsoft.Resources/deployments", "name": "db",
             "properties": {"templateLink": {
               "uri": "[uri(deployment().properties.templateLink.uri, '../shared/db.json')]"}}},
            {"type": "Microsoft.Resources/deployments", "name": "both",
             "properties": {"templateLink": {"uri": "https://x/a.json", "relativePath": "b.json"}}},
            {"type": "Microsoft.Resources/deployments", "name": "none",
             "properties": {"templateLink": "not an object", "tags": {"kA": ["\u0041", 1, 2.5, null, true]}}}
          ]
        }"#;
        let Some(Outline::ArmTemplate { links }) = same_as_parsed("infra/main.json", template)
        else {
            panic!("not outlined as a template");
        };
        assert_eq!(links.len(), 3, "{links:?}");
        let parameters = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
          "parameters": {"location": {"value": "westeurope"}}}"#;
        assert_eq!(
            same_as_parsed("infra/main.parameters.json", parameters),
            Some(Outline::ArmParameters)
        );
    }

    /// JSON built from the keys and values the outline reads, nested at random, some keys
    /// written twice or with escapes.
    #[derive(Clone, Debug)]
    enum Json {
        Text(String),
        Number(i64),
        Array(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    impl Json {
        fn write(&self, out: &mut String) {
            match self {
                Json::Text(t) => out.push_str(&serde_json::to_string(t).unwrap_or_default()),
                Json::Number(n) => out.push_str(&n.to_string()),
                Json::Array(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        item.write(out);
                    }
                    out.push(']');
                }
                Json::Object(entries) => {
                    out.push('{');
                    for (i, (key, value)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        // Keys are written as they are: one of them holds an escape.
                        out.push('"');
                        out.push_str(key);
                        out.push_str("\":");
                        value.write(out);
                    }
                    out.push('}');
                }
            }
        }
    }

    fn json() -> impl proptest::strategy::Strategy<Value = Json> {
        use proptest::prelude::*;
        let texts = prop_oneof![
            Just("nested/a.json".to_string()),
            Just("../b.json".to_string()),
            Just("[uri(deployment().properties.templateLink.uri, 'c/d.json')]".to_string()),
            Just("https://example.org/e.json".to_string()),
            Just("westeurope".to_string()),
            Just(
                "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
                    .to_string()
            ),
        ];
        // A link's object, whole: random nesting alone seldom makes one.
        let link = (
            prop_oneof![Just("relativePath"), Just("uri")],
            texts.clone(),
        )
            .prop_map(|(key, target)| Json::Object(vec![(key.to_string(), Json::Text(target))]));
        let leaf = prop_oneof![
            texts.prop_map(Json::Text),
            any::<i64>().prop_map(Json::Number),
            link,
        ];
        let keys = prop_oneof![
            4 => Just("templateLink"),
            1 => Just("relativePath"),
            1 => Just("uri"),
            1 => Just("$schema"),
            2 => Just("resources"),
            2 => Just("properties"),
            1 => Just("name"),
            1 => Just("templ\\u0061teLink"),
        ];
        leaf.prop_recursive(4, 48, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                proptest::collection::vec((keys.clone().prop_map(str::to_string), inner), 0..4)
                    .prop_map(Json::Object),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// Whatever the text outlines is what the parsed document outlines.
        #[test]
        fn an_outline_from_the_text_is_the_outline_of_the_tree(
            body in proptest::collection::vec(
                (prop_oneof_keys(), json()),
                0..5,
            )
        ) {
            let mut entries = vec![(
                "$schema".to_string(),
                Json::Text("https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#".into()),
            )];
            entries.extend(body);
            let mut text = String::new();
            Json::Object(entries).write(&mut text);
            let _ = same_as_parsed("infra/main.json", &text);
        }
    }

    fn prop_oneof_keys() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            4 => Just("resources"),
            2 => Just("templateLink"),
            1 => Just("$schema"),
            1 => Just("x"),
        ]
        .prop_map(str::to_string)
    }

    #[test]
    fn what_the_text_cannot_settle_is_left_to_the_parser() {
        let schema = r#""$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#""#;
        for text in [
            // Comments and trailing commas: JSON with comments, which ARM accepts.
            format!("{{ // a comment\n {schema}, \"resources\": [] }}"),
            format!("{{ {schema}, \"resources\": [], }}"),
            // CloudFormation's keys: the loader tries CloudFormation first.
            format!("{{ {schema}, \"Resources\": {{}} }}"),
            format!("{{ {schema}, \"AWSTemplateFormatVersion\": \"2010-09-09\" }}"),
            // A key the outline reads, twice.
            format!("{{ {schema}, {schema} }}"),
            format!(
                "{{ {schema}, \"resources\": [{{\"templateLink\": {{\"relativePath\": \"a.json\"}}, \"templateLink\": {{}}}}] }}"
            ),
            format!(
                "{{ {schema}, \"resources\": [{{\"templateLink\": {{\"uri\": \"a.json\", \"uri\": \"b.json\"}}}}] }}"
            ),
            // Not ARM, not an object, not JSON.
            r#"{"$schema": "http://json-schema.org/draft-07/schema#"}"#.to_string(),
            r#"{"$schema": 7}"#.to_string(),
            r#"["$schema"]"#.to_string(),
            format!("{{ {schema} "),
            format!("{{ {schema} }} trailing"),
            // No `$schema` at all; a key written with escapes.
            r#"{"resources": []}"#.to_string(),
            format!("{{ {schema}, \"template\\u004cink\": {{\"relativePath\": \"a.json\"}} }}"),
        ] {
            assert_eq!(outline_text("a/t.json", &text), None, "{text}");
        }
    }
}
