//! YAML streams (Kubernetes manifests, CloudFormation templates) into trees.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sovscan::load::yaml::parse_stream(text);
    }
});
