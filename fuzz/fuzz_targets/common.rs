//! Loads bytes under a file name and extracts resources, as a scan does.

pub fn load_and_extract(name: &str, data: &[u8]) {
    let Ok(kb) = sovscan::knowledge::get() else {
        return;
    };
    let outcome = sovscan::load::load_bytes(name, data);
    let options = sovscan::extract::ExtractOptions {
        deploy_regions: vec!["eu-central-1".into()],
        ..Default::default()
    };
    let _ = sovscan::extract::extract(&outcome.documents, kb, &options);
    let _ = sovscan::extract::extract(&outcome.documents, kb, &Default::default());
}
