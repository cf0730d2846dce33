//! CloudFormation intrinsics over the template's own parameters, mappings and conditions.
#![no_main]

use libfuzzer_sys::fuzz_target;

use sovscan::extract::cloudformation_intrinsics::Scope;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = sovscan::load::yaml::parse_stream(text) else {
        return;
    };
    for doc in &docs {
        let scope = Scope {
            parameters: doc.get("Parameters"),
            mappings: doc.get("Mappings"),
            conditions: doc.get("Conditions"),
            deploy_region: Some("eu-west-1"),
            given: &[],
            values: Default::default(),
        };
        for entry in doc.entries() {
            let _ = scope.resolve(&entry.value);
            let _ = scope.condition(&entry.key);
            for item in entry.value.items() {
                let _ = scope.resolve(item);
            }
            for inner in entry.value.entries() {
                let _ = scope.resolve(&inner.value);
            }
        }
    }
});
