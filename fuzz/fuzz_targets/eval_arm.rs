//! ARM templates: the input is the template; parameters, variables and expressions are
//! evaluated by extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::load_and_extract("azuredeploy.json", data);
    // A bare expression as the location of a storage account.
    if let Ok(text) = std::str::from_utf8(data) {
        let template = serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"p": {"type": "string", "defaultValue": text}},
            "variables": {"v": text, "w": "[variables('v')]"},
            "resources": [{
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2022-09-01",
                "name": "[variables('w')]",
                "location": text,
            }],
        });
        common::load_and_extract("azuredeploy.json", template.to_string().as_bytes());
    }
});
