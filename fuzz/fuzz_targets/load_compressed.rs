//! `.gz` inputs: decompressed under a small limit, then loaded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(inner) = sovscan::load::compressed::gunzip(data, 1 << 20) {
        let _ = sovscan::load::load_bytes("snapshot.json", &inner);
    }
});
